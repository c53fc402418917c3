// SPDX-License-Identifier: MIT
/*
 * The capability drop of every thread (see privdrop.h), with the raw capget / capset /
 * prctl system calls rather than libcap: three calls do not justify a dependency. Each
 * thread runs drop_self() in a signal handler (only system calls: async-signal-safe); the
 * plan it applies and the tally it reports to are file-scope because a handler cannot be
 * given arguments. Main lcore only, once; nothing here is used after fg_privdrop_apply().
 */
#include "privdrop.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum {
	MAX_THREADS = 1024,
	WAIT_STEP_NS = 1000000,
	WAIT_STEPS = 5000,        /* 5 s for the threads to answer */
	MAX_CAPS = 64,            /* two 32-bit words of capset */
};

struct plan {
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	uint64_t keep;
	unsigned last_cap;        /* highest capability the kernel knows */
	bool bounding;
};

static struct plan g_plan;
static int g_err;             /* the first thread's failure, -errno */
static unsigned g_done;       /* handlers finished */

static int drop_self(const struct plan *p)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };

	/* The bounding set first: PR_CAPBSET_DROP needs the CAP_SETPCAP that capset removes. */
	for (unsigned c = 0; p->bounding && c <= p->last_cap; c++)
		if (!(p->keep >> c & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			return -errno;
	/* EINVAL: a kernel before 4.3, which has no ambient set to clear. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	if (syscall(SYS_capset, &h, p->data) < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

static void on_signal(int sig)
{
	int saved = errno, r = drop_self(&g_plan), zero = 0;

	(void)sig;
	if (r < 0)
		__atomic_compare_exchange_n(&g_err, &zero, r, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	__atomic_add_fetch(&g_done, 1, __ATOMIC_RELEASE);
	errno = saved;
}

static int make_plan(struct plan *p, uint64_t keep)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	uint64_t permitted, effective;

	memset(p, 0, sizeof(*p));
	if (syscall(SYS_capget, &h, p->data) < 0)
		return -errno;
	permitted = (uint64_t)p->data[1].permitted << 32 | p->data[0].permitted;
	effective = (uint64_t)p->data[1].effective << 32 | p->data[0].effective;
	p->keep = keep & permitted;
	for (unsigned i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		p->data[i].permitted = p->data[i].effective = (uint32_t)(p->keep >> (32 * i));
		p->data[i].inheritable = 0;
	}
	/* PR_CAPBSET_READ fails with EINVAL past the last capability this kernel knows. */
	while (p->last_cap + 1 < MAX_CAPS && prctl(PR_CAPBSET_READ, p->last_cap + 1, 0, 0, 0) >= 0)
		p->last_cap++;
	p->bounding = effective >> CAP_SETPCAP & 1;
	return 0;
}

static bool seen(const pid_t *tids, unsigned n, pid_t tid)
{
	for (unsigned i = 0; i < n; i++)
		if (tids[i] == tid)
			return true;
	return false;
}

/*
 * True for a kernel io_uring thread of this process (iou-sqp-*, iou-wrk-*: PF_IO_WORKER in
 * the flags of its stat, which a user thread cannot set, unlike its name). Such a thread runs
 * no user code and takes no signal; it works with the credentials io_uring gave it, and the
 * data plane's rings are restricted to TUN reads and writes (kni/tun_uring.c).
 */
static bool io_thread(const char *tid)
{
	enum { PF_IO_WORKER_FLAG = 0x10 };
	char path[64], buf[512];
	unsigned flags = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%.16s/stat", tid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	size_t len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = 0;
	const char *p = strrchr(buf, ')');
	/* After "pid (comm) ": state ppid pgrp session tty_nr tpgid flags. */
	return p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %u", &flags) == 1 && (flags & PF_IO_WORKER_FLAG);
}

/* Signals every thread not signalled yet; *n counts them. Returns how many were new. */
static int signal_new_threads(int sig, pid_t *tids, unsigned *n)
{
	pid_t pid = getpid(), self = (pid_t)syscall(SYS_gettid);
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int added = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);

		if (tid <= 0 || tid == self || seen(tids, *n, tid) || io_thread(de->d_name))
			continue;
		if (*n == MAX_THREADS) {
			closedir(d);
			return -E2BIG;
		}
		if (syscall(SYS_tgkill, pid, tid, sig) < 0) {
			if (errno == ESRCH)
				continue; /* it exited meanwhile */
			closedir(d);
			return -errno;
		}
		tids[(*n)++] = tid;
		added++;
	}
	closedir(d);
	return added;
}

static int wait_done(unsigned n)
{
	const struct timespec step = { 0, WAIT_STEP_NS };

	for (unsigned i = 0; i < WAIT_STEPS; i++) {
		if (__atomic_load_n(&g_done, __ATOMIC_ACQUIRE) >= n)
			return 0;
		nanosleep(&step, NULL);
	}
	return -ETIMEDOUT;
}

int fg_privdrop_apply(uint64_t keep, struct fg_privdrop_report *out)
{
	static pid_t tids[MAX_THREADS];
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART }, old;
	const int sig = SIGRTMIN + 3;  /* any real-time signal nobody else handles */
	unsigned n = 0;
	int r;

	r = make_plan(&g_plan, keep);
	if (r < 0)
		return r;
	__atomic_store_n(&g_err, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&g_done, 0, __ATOMIC_RELAXED);
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, NULL, &old) < 0)
		return -errno;
	if (old.sa_handler != SIG_DFL)
		return -EBUSY;
	if (sigaction(sig, &sa, NULL) < 0)
		return -errno;
	/* Again until a pass finds no thread it had not seen: one could have been starting. */
	do {
		r = signal_new_threads(sig, tids, &n);
		if (r >= 0) {
			int w = wait_done(n);

			if (w < 0)
				r = w;
		}
	} while (r > 0);
	if (r == 0)
		r = __atomic_load_n(&g_err, __ATOMIC_RELAXED);
	if (r == 0)
		r = drop_self(&g_plan);
	/* A handler still pending (after a timeout) would now take the default action: keep it. */
	if (r != -ETIMEDOUT)
		sigaction(sig, &old, NULL);
	if (r < 0)
		return r;
	out->kept = g_plan.keep;
	out->threads = n + 1;
	out->bounding = g_plan.bounding;
	return 0;
}

const char *fg_privdrop_format(uint64_t caps, char *buf, size_t len)
{
	static const char *const names[] = {
		"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid",
		"setuid", "setpcap", "linux_immutable", "net_bind_service", "net_broadcast",
		"net_admin", "net_raw", "ipc_lock", "ipc_owner", "sys_module", "sys_rawio",
		"sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
		"sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write",
		"audit_control", "setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
		"block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
	};
	size_t used = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (unsigned c = 0; c < MAX_CAPS && used < len; c++) {
		int w;

		if (!(caps >> c & 1))
			continue;
		if (c < sizeof(names) / sizeof(names[0]))
			w = snprintf(buf + used, len - used, "%scap_%s", used ? "," : "", names[c]);
		else
			w = snprintf(buf + used, len - used, "%scap_%u", used ? "," : "", c);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	if (!caps)
		snprintf(buf, len, "none");
	return buf;
}
