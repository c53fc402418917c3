// SPDX-License-Identifier: MIT
/*
 * Longest-prefix route tables (cryptokey routing, per-client resources): one stride trie per
 * family (route_trie.h, 16-8-8 and 16-8-...-8 with prefix expansion), read lock-free by the
 * worker lcores and changed in place only by the service lcore, which owns everything here
 * except what workers load (the tries' entries and the per-family /0 word). Every writer call
 * that changes something ends with one RCU grace period, after which the groups it unlinked
 * are reused and no worker holds a value it removed. The trie cannot enumerate nor find the
 * rule a deleted one uncovers, so the writer also keeps a shadow of every prefix in two
 * chained hashes (by prefix; by value for del_value/foreach_value) in ordinary malloc memory.
 * A /0 is not a trie rule: it is one published word per family.
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
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_rcu_qsbr.h>

#include "log.h"
#include "route_trie.h"

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
	/* The most groups (1 KiB each, taken as rules need them) a family may hold. An IPv4 rule
	 * needs at most 2 of its own (levels 2 and 3), so 2 per rule never refuses one the rule
	 * limit admits. An IPv6 rule needs up to 14, one per byte of its path no other rule
	 * shares; tunnel /128s packed in a /107 share all but about one, so 2 per rule plus a
	 * few chains is generous for them, and caps what scattered prefixes can take. */
	GROUPS_PER_RULE = 2,
	GROUPS_BASE = 64,
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
	/* Loaded by workers: dflt stored by the writer with release semantics; the tries'
	 * reader fields never change after creation (their writer fields are cache-aligned). */
	uint32_t dflt[NFAM];
	struct fg_rtrie trie[NFAM];

	/* Writer only, on its own cache line so the counters do not bounce the one above. */
	uint32_t rules[NFAM] __rte_cache_aligned; /* trie rules (length >= 1) held */
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

/* After this no worker holds anything it loaded before the call: values the call removed
 * are out of every worker's hands, and the groups it unlinked are free for reuse. */
static void grace(struct fg_route_table *t)
{
	if (t->qsbr != NULL)
		rte_rcu_qsbr_synchronize(t->qsbr, RTE_QSBR_THRID_INVALID);
	for (int fam = 0; fam < NFAM; fam++)
		if (t->trie[fam].l1 != NULL)
			fg_rtrie_reclaim(&t->trie[fam]);
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

/* --- the tries ------------------------------------------------------------------- */

/* The longest held prefix shorter than key that covers it (length >= 1: the /0s are not in
 * the tries), or NONE. Up to key->len hash lookups, writer side only. */
static uint32_t cover(const struct fg_route_table *t, const struct fg_prefix *key)
{
	struct fg_prefix p = *key;

	while (p.len > 1) {
		uint32_t i;

		p.len--;
		p.ip.addr[p.len / 8] &= (uint8_t)~(0x80u >> (p.len % 8));
		i = find(t, &p);
		if (i != NONE)
			return i;
	}
	return NONE;
}

/* Takes p (length >= 1, already out of the shadow) out of its trie: the entries it set take
 * the value of the prefix it covered, as the shadow holds it now. */
static int trie_del(struct fg_route_table *t, const struct fg_prefix *p)
{
	uint32_t c = cover(t, p);
	int rc = fg_rtrie_del(&t->trie[fam_of(p->ip.family)], p->ip.addr, p->len,
			      c == NONE ? 0 : t->ent[c].value, c == NONE ? 0 : t->ent[c].p.len);

	if (rc < 0)
		fg_err(LOG_TARGET, "%s: delete of a held /%u failed: %s", t->label, p->len,
		       strerror(-rc));
	return rc;
}

/* --- creation ---------------------------------------------------------------------- */

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t b = MIN_BUCKETS;

	while (b < n)
		b <<= 1;
	return b;
}

static int create_tries(struct fg_route_table *t, const char *name)
{
	for (int fam = 0; fam < NFAM; fam++) {
		uint64_t groups = (uint64_t)t->max_rules[fam] * GROUPS_PER_RULE + GROUPS_BASE;
		int rc;

		if (t->max_rules[fam] == 0)
			continue;
		rc = fg_rtrie_init(&t->trie[fam], fam == F4 ? 4 : 16,
				   (uint32_t)RTE_MIN(groups, (uint64_t)FG_RTRIE_MAX_GROUPS), name);
		if (rc < 0)
			return rc;
	}
	return 0;
}

struct fg_route_table *fg_route_create(const char *name, uint32_t max_rules_v4,
				       uint32_t max_rules_v6, struct rte_rcu_qsbr *qsbr)
{
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

	rc = create_tries(t, name);
	if (rc < 0) {
		fg_warn(LOG_TARGET, "%s: cannot create route tries for %u IPv4 and %u IPv6 rules: %s",
			name, max_rules_v4, max_rules_v6, strerror(-rc));
		goto err_free;
	}
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
	for (int fam = 0; fam < NFAM; fam++)
		fg_rtrie_free_heap(&t->trie[fam]);
}

void fg_route_free(struct fg_route_table *t)
{
	if (t == NULL)
		return;
	for (int fam = 0; fam < NFAM; fam++)
		fg_rtrie_fini(&t->trie[fam]);
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
	int rc;

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
	/* A failed add leaves the trie as it was (it takes its groups before it changes any). */
	rc = fg_rtrie_add(&t->trie[fam], key.ip.addr, key.len, value, i == NONE);
	if (rc < 0)
		return rc;
	shadow_set(t, i, &key, value);
	grace(t);
	return 0;
}

int fg_route_del(struct fg_route_table *t, const struct fg_prefix *p)
{
	struct fg_prefix key;
	int fam = canon(p, &key);
	uint32_t i;
	int rc;

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
	shadow_detach(t, i);
	shadow_release(t, i);
	rc = trie_del(t, &key);
	grace(t);
	return rc;
}

int fg_route_del_value(struct fg_route_table *t, uint32_t value)
{
	uint32_t dead = NONE;
	uint32_t i, next;
	int n = 0, failed = 0;

	if (value > FG_ROUTE_VALUE_MAX)
		return -EINVAL;
	/* Out of the shadow first, onto a private list, so that each prefix's entries take
	 * what remains once all of them are gone. */
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

		if (p->len == 0)
			set_default(t, fam_of(p->ip.family), NO_DEFAULT);
		else if (trie_del(t, p) < 0)
			failed++;
	}
	grace(t);
	for (i = dead; i != NONE; i = next) {
		next = t->ent[i].pnext;
		shadow_release(t, i);
	}
	return failed ? -EIO : n;
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

size_t fg_route_heap_bytes(const struct fg_route_table *t)
{
	return sizeof(*t) + fg_rtrie_heap_bytes(&t->trie[F4]) + fg_rtrie_heap_bytes(&t->trie[F6]);
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
	const struct fg_rtrie *f = &t->trie[F4];

	if (likely(f->l1 != NULL) && fg_rtrie_lookup4(f, rte_be_to_cpu_32(addr_be), value) == 0)
		return 0;
	return lookup_default(t, F4, value);
}

int fg_route_lookup6(const struct fg_route_table *t, const uint8_t addr[16], uint32_t *value)
{
	const struct fg_rtrie *f = &t->trie[F6];

	if (likely(f->l1 != NULL) && fg_rtrie_lookup6(f, addr, value) == 0)
		return 0;
	return lookup_default(t, F6, value);
}
