/* SPDX-License-Identifier: MIT */
/*
 * Keeping secrets (WireGuard keys, PSKs, tokens, relay and ICE passwords) out of core dumps
 * and away from other processes, for both daemons. fg_secmem_init(), first thing in main(),
 * makes the process non-dumpable (prctl PR_SET_DUMPABLE 0): no core dump at all, and no
 * ptrace or /proc/<pid>/mem, environ, maps by anyone but root, which covers every secret in
 * memory, DPDK's and the libraries' buffers and the stacks included. An operator who needs a
 * core dump sets FASTGATE_CORE_DUMPS=1; the long-lived key stores are then still left out
 * of it, page by page, with fg_secmem_dontdump() (MADV_DONTDUMP), which the modules that own
 * them call on whatever the setting. Also a constant-time string comparison for secrets and
 * a wiping free() for allocator hooks. No state of its own: the kernel holds the setting
 * (fg_secmem_core_dumps() reads it back). Any thread; the init at start-up.
 */
#ifndef FG_SECMEM_H
#define FG_SECMEM_H

#include <stdbool.h>
#include <stddef.h>

#define FG_SECMEM_ENV "FASTGATE_CORE_DUMPS"

/*
 * The rule for FASTGATE_CORE_DUMPS: exactly "1" allows core dumps. Unset (NULL), "", "0"
 * and anything else ("yes", "true", " 1", "1\n", "yes please") keep them disabled, so that
 * a typo or a stray value never exposes the keys.
 */
bool fg_secmem_env_allows(const char *value);

/*
 * Applies FASTGATE_CORE_DUMPS: PR_SET_DUMPABLE 1 when fg_secmem_env_allows(), else 0.
 * Returns 1 (core dumps allowed), 0 (disabled) or -errno when prctl fails. Logs nothing.
 * Call it again after changing the uid: setuid() resets the flag to fs.suid_dumpable.
 */
int fg_secmem_apply(void);

/*
 * fg_secmem_apply() with the start-up log line, at INFO under target tag: "core dumps
 * disabled (secrets)" or "core dumps allowed by FASTGATE_CORE_DUMPS=1; key stores excluded
 * (MADV_DONTDUMP)"; a value other than unset, "" or "0" that is not "1" also gets a warning
 * saying that it was not taken. Returns as fg_secmem_apply(); the caller makes -errno fatal.
 */
int fg_secmem_init(const char *tag);

/* Whether the kernel would write a core dump of this process now (PR_GET_DUMPABLE is 1). */
bool fg_secmem_core_dumps(void);

/*
 * Leaves the pages holding [p, p + n) out of core dumps (madvise MADV_DONTDUMP). The range
 * is rounded outward to whole pages, so neighbours sharing a first or last page go too;
 * a huge-page mapping (DPDK's memory) is rounded to its 2 MiB or 1 GiB pages. Call it once
 * on a long-lived store, not per object: each call may split a mapping in the kernel.
 * Returns 0 (also for p NULL or n 0) or -errno (-ENOMEM when part of the range is not
 * mapped; the mapped part is still excluded).
 */
int fg_secmem_dontdump(const void *p, size_t n);

/* a and b hold the same string, compared in time that depends on their lengths only (the
 * lengths are not secret, the bytes are): tokens and passwords. */
bool fg_secmem_str_equal(const char *a, const char *b);

/* free() that first wipes the whole block (malloc_usable_size), for memory from malloc():
 * the control plane gives it to cJSON, so that every JSON string and buffer is wiped when
 * cJSON lets it go. NULL is a no-op. */
void fg_secmem_free_wiped(void *p);

#endif
