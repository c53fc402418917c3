// SPDX-License-Identifier: MIT
/*
 * Longest-prefix route tables (cryptokey routing, per-client resources) on DPDK rte_lpm and
 * rte_lpm6, read lock-free by the worker lcores and changed only by the service lcore, which
 * owns everything here except the three published words (active4, active6, dflt) that workers
 * load. rte_lpm6 cannot be read while it is written, so each family is kept in two copies
 * (left-right): a change goes to the copy no worker reads, that copy is published with a
 * release store, one RCU grace period lets every worker leave the old copy, and the change is
 * repeated on it. The LPM libraries cannot enumerate, so the writer also keeps a shadow of
 * every prefix in two chained hashes (by prefix, and by value for del_value/foreach_value).
 * A /0 is not an LPM rule (depth 0 is refused there): it is one published word per family.
 */
#include "route.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_jhash.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_rcu_qsbr.h>

#include "log.h"

static const char LOG_TARGET[] = "route";

enum fam {
	F4 = 0,
	F6 = 1,
	NFAM = 2,
};

enum route_consts {
	NONE = 0,                            /* entry index 0 is never used: "no entry" */
	NO_DEFAULT = FG_ROUTE_VALUE_MAX + 1, /* dflt[] value while a family has no /0 */
	MIN_BUCKETS = 64,
	LABEL_LEN = 32,
	/* Our DPDK names get "LPM_", "LRH_" and "HT_LRH_" prepended and must stay under 29
	 * bytes: at most 8 bytes of the label, an 8-digit hex serial, family and copy. */
	LPM_NAME_LEN = 20,
	LPM_LABEL_CHARS = 8,
	/* Second-level groups (256 entries, 1 KiB each). An IPv4 rule longer than /24 needs at
	 * most one, so max_rules_v4 groups is exact. An IPv6 rule needs one per byte beyond the
	 * third that its path does not share with another rule: tunnel /128s packed in a /107
	 * share all but about one, so 2 per rule plus a few chains is generous for them. */
	V6_TBL8_PER_RULE = 2,
	V6_TBL8_BASE = 64,
	V6_TBL8_MAX = 1 << 21,
	V4_TBL8_MAX = 1 << 24,
};

/* A shadow entry; free entries have p.ip.family == 0 and chain through pnext. */
struct entry {
	struct fg_prefix p;  /* canonical: host bits and unused address bytes zero */
	uint32_t value;
	uint32_t pnext;      /* next in the prefix bucket, or in the free list */
	uint32_t vnext;      /* value bucket, doubly linked so removal by prefix is O(1) */
	uint32_t vprev;
};

struct fg_route_table {
	/* Loaded by workers; stored by the writer only with release semantics. */
	struct rte_lpm *active4;
	struct rte_lpm6 *active6;
	uint32_t dflt[NFAM];

	/* Writer only, on its own cache line so the counters do not bounce the one above. */
	struct rte_lpm *lpm4[2] __rte_cache_aligned;
	struct rte_lpm6 *lpm6[2];
	int act[NFAM];              /* copy index that is published */
	bool dirty[NFAM];           /* unpublished copy missed a change: rebuild before use */
	uint32_t rules[NFAM];       /* LPM rules (length >= 1) held */
	uint32_t max_rules[NFAM];
	struct rte_rcu_qsbr *qsbr;
	struct entry *ent;          /* nent entries, ent[0] unused */
	uint32_t nent;
	uint32_t free_head;
	uint32_t count;             /* every prefix, /0 included */
	uint32_t mask;              /* buckets - 1, both hashes */
	uint32_t *pbucket;
	uint32_t *vbucket;
	char label[LABEL_LEN];
};

static int fam_of(uint8_t family)
{
	if (family == AF_INET)
		return F4;
	if (family == AF_INET6)
		return F6;
	return -1;
}

/* Validates p and writes its canonical form; returns the family index or -EINVAL. */
static int canon(const struct fg_prefix *in, struct fg_prefix *out)
{
	unsigned int nbytes;
	int fam;

	memset(out, 0, sizeof(*out));
	if (in == NULL)
		return -EINVAL;
	fam = fam_of(in->ip.family);
	if (fam < 0)
		return -EINVAL;
	nbytes = fam == F4 ? 4 : 16;
	if (in->len > nbytes * 8)
		return -EINVAL;
	out->ip.family = in->ip.family;
	out->len = in->len;
	for (unsigned int b = 0; b < nbytes; b++) {
		unsigned int bits = in->len > b * 8 ? in->len - b * 8 : 0;

		if (bits >= 8)
			out->ip.addr[b] = in->ip.addr[b];
		else if (bits > 0)
			out->ip.addr[b] = in->ip.addr[b] & (uint8_t)(0xff << (8 - bits));
	}
	return fam;
}

static uint32_t v4_host(const struct fg_prefix *p)
{
	return (uint32_t)p->ip.addr[0] << 24 | (uint32_t)p->ip.addr[1] << 16 |
	       (uint32_t)p->ip.addr[2] << 8 | p->ip.addr[3];
}

/* --- the two LPM copies ------------------------------------------------------------- */

static int lpm_change(struct fg_route_table *t, int copy, const struct fg_prefix *p, bool add,
		      uint32_t value)
{
	if (p->ip.family == AF_INET) {
		if (t->lpm4[copy] == NULL)
			return -ENOSPC;
		if (add)
			return rte_lpm_add(t->lpm4[copy], v4_host(p), p->len, value);
		return rte_lpm_delete(t->lpm4[copy], v4_host(p), p->len);
	}
	if (t->lpm6[copy] == NULL)
		return -ENOSPC;
	if (add)
		return rte_lpm6_add(t->lpm6[copy], p->ip.addr, p->len, value);
	return rte_lpm6_delete(t->lpm6[copy], p->ip.addr, p->len);
}

/* Refills an unpublished copy from the shadow. Only for the should-never-happen case where
 * the two copies would otherwise diverge. */
static int rebuild(struct fg_route_table *t, int fam, int copy)
{
	if (fam == F4)
		rte_lpm_delete_all(t->lpm4[copy]);
	else
		rte_lpm6_delete_all(t->lpm6[copy]);
	for (uint32_t i = 1; i < t->nent; i++) {
		const struct entry *e = &t->ent[i];
		int rc;

		if (e->p.len == 0 || fam_of(e->p.ip.family) != fam)
			continue;
		rc = lpm_change(t, copy, &e->p, true, e->value);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The copy that no worker reads, ready to take the next change. */
static int spare(struct fg_route_table *t, int fam)
{
	int copy = 1 - t->act[fam];

	if (t->dirty[fam]) {
		int rc = rebuild(t, fam, copy);

		if (rc < 0) {
			fg_err(LOG_TARGET, "%s: cannot rebuild IPv%c copy: %s", t->label,
			       fam == F4 ? '4' : '6', strerror(-rc));
			return -EIO;
		}
		t->dirty[fam] = false;
	}
	return copy;
}

static void publish(struct fg_route_table *t, int fam, int copy)
{
	if (fam == F4)
		__atomic_store_n(&t->active4, t->lpm4[copy], __ATOMIC_RELEASE);
	else
		__atomic_store_n(&t->active6, t->lpm6[copy], __ATOMIC_RELEASE);
	t->act[fam] = copy;
}

/* After this no worker holds anything it loaded before: the old copy is free to change and
 * values removed before the call are out of every worker's hands. */
static void grace(struct fg_route_table *t)
{
	if (t->qsbr != NULL)
		rte_rcu_qsbr_synchronize(t->qsbr, RTE_QSBR_THRID_INVALID);
}

/* Repeats a change on the copy that was published until the last grace period. Both copies
 * have seen the same changes, so this cannot fail unless something is broken; if it does,
 * the copy is rebuilt from the shadow before it is next used. */
static void mirror(struct fg_route_table *t, const struct fg_prefix *p, bool add, uint32_t value)
{
	int fam = fam_of(p->ip.family);
	int rc;

	if (t->dirty[fam])
		return;
	rc = lpm_change(t, 1 - t->act[fam], p, add, value);
	if (rc < 0) {
		fg_err(LOG_TARGET, "%s: copies diverged on %s of a /%u: %s", t->label,
		       add ? "add" : "delete", p->len, strerror(-rc));
		t->dirty[fam] = true;
	}
}

static void set_default(struct fg_route_table *t, int fam, uint32_t value)
{
	__atomic_store_n(&t->dflt[fam], value, __ATOMIC_RELEASE);
}

/* --- writer-side shadow ------------------------------------------------------------ */

static uint32_t pslot(const struct fg_route_table *t, const struct fg_prefix *p)
{
	/* rte_jhash reads whole 32-bit words: hash a copy padded to a multiple of 4 so it never
	 * reads past the 18-byte prefix (AddressSanitizer caught that). */
	uint32_t buf[(sizeof(*p) + 3) / 4] = { 0 };

	memcpy(buf, p, sizeof(*p));
	return rte_jhash(buf, sizeof(buf), 0) & t->mask;
}

static uint32_t vslot(const struct fg_route_table *t, uint32_t value)
{
	return rte_jhash_1word(value, 0) & t->mask;
}

static uint32_t find(const struct fg_route_table *t, const struct fg_prefix *key)
{
	for (uint32_t i = t->pbucket[pslot(t, key)]; i != NONE; i = t->ent[i].pnext)
		if (memcmp(&t->ent[i].p, key, sizeof(*key)) == 0)
			return i;
	return NONE;
}

static void vlink(struct fg_route_table *t, uint32_t i)
{
	struct entry *e = &t->ent[i];
	uint32_t *head = &t->vbucket[vslot(t, e->value)];

	e->vprev = NONE;
	e->vnext = *head;
	if (*head != NONE)
		t->ent[*head].vprev = i;
	*head = i;
}

static void vunlink(struct fg_route_table *t, uint32_t i)
{
	struct entry *e = &t->ent[i];

	if (e->vprev != NONE)
		t->ent[e->vprev].vnext = e->vnext;
	else
		t->vbucket[vslot(t, e->value)] = e->vnext;
	if (e->vnext != NONE)
		t->ent[e->vnext].vprev = e->vprev;
	e->vnext = e->vprev = NONE;
}

/* Records key -> value: a new entry (the caller checked there is room) or a new value. */
static void shadow_set(struct fg_route_table *t, uint32_t i, const struct fg_prefix *key,
		       uint32_t value)
{
	struct entry *e;

	if (i != NONE) {
		vunlink(t, i);
		t->ent[i].value = value;
		vlink(t, i);
		return;
	}
	i = t->free_head;
	e = &t->ent[i];
	t->free_head = e->pnext;
	e->p = *key;
	e->value = value;
	e->pnext = t->pbucket[pslot(t, key)];
	t->pbucket[pslot(t, key)] = i;
	vlink(t, i);
	t->count++;
	if (key->len > 0)
		t->rules[fam_of(key->ip.family)]++;
}

/* Takes entry i out of both hashes; its contents stay readable until shadow_release(). */
static void shadow_detach(struct fg_route_table *t, uint32_t i)
{
	struct entry *e = &t->ent[i];
	uint32_t *pp = &t->pbucket[pslot(t, &e->p)];

	while (*pp != i)
		pp = &t->ent[*pp].pnext;
	*pp = e->pnext;
	e->pnext = NONE;
	vunlink(t, i);
	t->count--;
	if (e->p.len > 0)
		t->rules[fam_of(e->p.ip.family)]--;
}

static void shadow_release(struct fg_route_table *t, uint32_t i)
{
	struct entry *e = &t->ent[i];

	memset(&e->p, 0, sizeof(e->p));
	e->pnext = t->free_head;
	t->free_head = i;
}

/* --- creation ---------------------------------------------------------------------- */

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t b = MIN_BUCKETS;

	while (b < n)
		b <<= 1;
	return b;
}

static int create_copies(struct fg_route_table *t, const char *name, uint32_t serial)
{
	char lname[LPM_NAME_LEN];

	for (int copy = 0; copy < 2; copy++) {
		if (t->max_rules[F4] > 0) {
			struct rte_lpm_config cfg = {
				.max_rules = t->max_rules[F4],
				.number_tbl8s = RTE_MIN(t->max_rules[F4], (uint32_t)V4_TBL8_MAX),
			};

			snprintf(lname, sizeof(lname), "%.*s%x4%c", LPM_LABEL_CHARS, name, serial,
				 'a' + copy);
			t->lpm4[copy] = rte_lpm_create(lname, SOCKET_ID_ANY, &cfg);
			if (t->lpm4[copy] == NULL)
				return -(rte_errno ? rte_errno : ENOMEM);
		}
		if (t->max_rules[F6] > 0) {
			uint64_t groups = (uint64_t)t->max_rules[F6] * V6_TBL8_PER_RULE + V6_TBL8_BASE;
			struct rte_lpm6_config cfg = {
				.max_rules = t->max_rules[F6],
				.number_tbl8s = (uint32_t)RTE_MIN(groups, (uint64_t)V6_TBL8_MAX),
			};

			snprintf(lname, sizeof(lname), "%.*s%x6%c", LPM_LABEL_CHARS, name, serial,
				 'a' + copy);
			t->lpm6[copy] = rte_lpm6_create(lname, SOCKET_ID_ANY, &cfg);
			if (t->lpm6[copy] == NULL)
				return -(rte_errno ? rte_errno : ENOMEM);
		}
	}
	return 0;
}

struct fg_route_table *fg_route_create(const char *name, uint32_t max_rules_v4,
				       uint32_t max_rules_v6, struct rte_rcu_qsbr *qsbr)
{
	static uint32_t serial;
	struct fg_route_table *t;
	uint32_t buckets;
	int rc;

	if (name == NULL || (max_rules_v4 == 0 && max_rules_v6 == 0) ||
	    max_rules_v4 > FG_ROUTE_RULES_MAX || max_rules_v6 > FG_ROUTE_RULES_MAX) {
		errno = EINVAL;
		return NULL;
	}
	t = rte_zmalloc("fg_route", sizeof(*t), RTE_CACHE_LINE_SIZE);
	if (t == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	snprintf(t->label, sizeof(t->label), "%s", name);
	t->qsbr = qsbr;
	t->max_rules[F4] = max_rules_v4;
	t->max_rules[F6] = max_rules_v6;
	t->dflt[F4] = t->dflt[F6] = NO_DEFAULT;

	/* Room for every rule, both /0s and the unused entry 0. */
	t->nent = max_rules_v4 + max_rules_v6 + NFAM + 1;
	buckets = pow2_at_least(t->nent);
	t->mask = buckets - 1;
	t->ent = calloc(t->nent, sizeof(*t->ent));
	t->pbucket = calloc(buckets, sizeof(*t->pbucket));
	t->vbucket = calloc(buckets, sizeof(*t->vbucket));
	if (t->ent == NULL || t->pbucket == NULL || t->vbucket == NULL) {
		rc = -ENOMEM;
		goto err_free;
	}
	for (uint32_t i = t->nent - 1; i > 0; i--)
		shadow_release(t, i);

	rc = create_copies(t, name, __atomic_fetch_add(&serial, 1, __ATOMIC_RELAXED));
	if (rc < 0) {
		fg_warn(LOG_TARGET, "%s: cannot create LPM tables for %u IPv4 and %u IPv6 rules: %s",
			name, max_rules_v4, max_rules_v6, strerror(-rc));
		goto err_free;
	}
	if (max_rules_v4 > 0)
		publish(t, F4, 0);
	if (max_rules_v6 > 0)
		publish(t, F6, 0);
	return t;

err_free:
	fg_route_free(t);
	errno = -rc;
	return NULL;
}

void fg_route_free_heap(struct fg_route_table *t)
{
	if (t == NULL)
		return;
	free(t->ent);
	free(t->pbucket);
	free(t->vbucket);
	t->ent = NULL;
	t->pbucket = NULL;
	t->vbucket = NULL;
}

void fg_route_free(struct fg_route_table *t)
{
	if (t == NULL)
		return;
	for (int copy = 0; copy < 2; copy++) {
		rte_lpm_free(t->lpm4[copy]);
		rte_lpm6_free(t->lpm6[copy]);
	}
	free(t->ent);
	free(t->pbucket);
	free(t->vbucket);
	rte_free(t);
}

/* --- writer ------------------------------------------------------------------------ */

int fg_route_add(struct fg_route_table *t, const struct fg_prefix *p, uint32_t value)
{
	struct fg_prefix key;
	int fam = canon(p, &key);
	uint32_t i;
	int copy, rc;

	if (fam < 0)
		return fam;
	if (value > FG_ROUTE_VALUE_MAX)
		return -EINVAL;
	i = find(t, &key);
	if (i != NONE && t->ent[i].value == value)
		return 0;
	if (i == NONE && (t->free_head == NONE ||
			  (key.len > 0 && t->rules[fam] >= t->max_rules[fam])))
		return -ENOSPC;

	if (key.len == 0) {
		set_default(t, fam, value);
		shadow_set(t, i, &key, value);
		grace(t);
		return 0;
	}
	copy = spare(t, fam);
	if (copy < 0)
		return copy;
	/* A failed add leaves the LPM as it was (both libraries check for room first). */
	rc = lpm_change(t, copy, &key, true, value);
	if (rc < 0)
		return rc;
	shadow_set(t, i, &key, value);
	publish(t, fam, copy);
	grace(t);
	mirror(t, &key, true, value);
	return 0;
}

int fg_route_del(struct fg_route_table *t, const struct fg_prefix *p)
{
	struct fg_prefix key;
	int fam = canon(p, &key);
	uint32_t i;
	int copy, rc;

	if (fam < 0)
		return fam;
	i = find(t, &key);
	if (i == NONE)
		return -ENOENT;

	if (key.len == 0) {
		set_default(t, fam, NO_DEFAULT);
		shadow_detach(t, i);
		shadow_release(t, i);
		grace(t);
		return 0;
	}
	copy = spare(t, fam);
	if (copy < 0)
		return copy;
	shadow_detach(t, i);
	shadow_release(t, i);
	rc = lpm_change(t, copy, &key, false, 0);
	if (rc < 0) {
		fg_err(LOG_TARGET, "%s: delete of a held /%u failed: %s", t->label, key.len,
		       strerror(-rc));
		if (rebuild(t, fam, copy) < 0) {
			t->dirty[fam] = true;
			return -EIO;
		}
	}
	publish(t, fam, copy);
	grace(t);
	mirror(t, &key, false, 0);
	return 0;
}

int fg_route_del_value(struct fg_route_table *t, uint32_t value)
{
	bool touched[NFAM] = { false, false };
	bool broken[NFAM] = { false, false };
	int copy[NFAM] = { 0, 0 };
	uint32_t dead = NONE;
	uint32_t i, next;
	int n = 0;

	if (value > FG_ROUTE_VALUE_MAX)
		return -EINVAL;
	for (int fam = 0; fam < NFAM; fam++) {
		copy[fam] = spare(t, fam);
		if (copy[fam] < 0)
			return copy[fam];
	}

	/* Out of the shadow first, onto a private list, so a rebuild sees the result. */
	for (i = t->vbucket[vslot(t, value)]; i != NONE; i = next) {
		next = t->ent[i].vnext;
		if (t->ent[i].value != value)
			continue;
		shadow_detach(t, i);
		t->ent[i].pnext = dead;
		dead = i;
		n++;
	}
	if (n == 0)
		return 0;

	for (i = dead; i != NONE; i = t->ent[i].pnext) {
		const struct fg_prefix *p = &t->ent[i].p;
		int fam = fam_of(p->ip.family);

		if (p->len == 0) {
			set_default(t, fam, NO_DEFAULT);
			continue;
		}
		touched[fam] = true;
		if (lpm_change(t, copy[fam], p, false, 0) < 0)
			broken[fam] = true;
	}
	for (int fam = 0; fam < NFAM; fam++) {
		if (!touched[fam])
			continue;
		if (broken[fam]) {
			fg_err(LOG_TARGET, "%s: delete of held prefixes of value %u failed", t->label,
			       value);
			if (rebuild(t, fam, copy[fam]) < 0) {
				t->dirty[fam] = true;
				touched[fam] = false;
				n = -EIO;
				continue;
			}
		}
		publish(t, fam, copy[fam]);
	}
	grace(t);

	for (i = dead; i != NONE; i = next) {
		const struct fg_prefix *p = &t->ent[i].p;

		next = t->ent[i].pnext;
		if (p->len > 0 && touched[fam_of(p->ip.family)])
			mirror(t, p, false, 0);
		shadow_release(t, i);
	}
	return n;
}

int fg_route_foreach_value(const struct fg_route_table *t, uint32_t value,
			   int (*cb)(void *ctx, const struct fg_prefix *p), void *ctx)
{
	int n = 0;

	if (value > FG_ROUTE_VALUE_MAX)
		return 0;
	for (uint32_t i = t->vbucket[vslot(t, value)]; i != NONE; i = t->ent[i].vnext) {
		int rc;

		if (t->ent[i].value != value)
			continue;
		rc = cb(ctx, &t->ent[i].p);
		if (rc != 0)
			return rc;
		n++;
	}
	return n;
}

uint32_t fg_route_count(const struct fg_route_table *t)
{
	return t->count;
}

/* --- readers ----------------------------------------------------------------------- */

static int lookup_default(const struct fg_route_table *t, int fam, uint32_t *value)
{
	uint32_t v = __atomic_load_n(&t->dflt[fam], __ATOMIC_ACQUIRE);

	if (v == NO_DEFAULT)
		return -ENOENT;
	*value = v;
	return 0;
}

int fg_route_lookup4(const struct fg_route_table *t, uint32_t addr_be, uint32_t *value)
{
	const struct rte_lpm *l = __atomic_load_n(&t->active4, __ATOMIC_ACQUIRE);
	uint32_t v;

	if (likely(l != NULL) && rte_lpm_lookup(l, rte_be_to_cpu_32(addr_be), &v) == 0) {
		*value = v;
		return 0;
	}
	return lookup_default(t, F4, value);
}

int fg_route_lookup6(const struct fg_route_table *t, const uint8_t addr[16], uint32_t *value)
{
	const struct rte_lpm6 *l = __atomic_load_n(&t->active6, __ATOMIC_ACQUIRE);
	uint32_t v;

	if (likely(l != NULL) && rte_lpm6_lookup(l, addr, &v) == 0) {
		*value = v;
		return 0;
	}
	return lookup_default(t, F6, value);
}
