/* SPDX-License-Identifier: MIT */
/*
 * Compiling a client's policy (service lcore): fg_policy_build() turns the client's
 * resources, and the proxy IPs of its DNS resources, into the one immutable allocation
 * that policy.c looks packets up in (layout: policy.c's top comment and policy_priv.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy.h"
#include "policy_priv.h"


/* One (prefix, resource) pair before grouping. */
struct item {
	struct key start;
	uint8_t len;
	uint32_t res;
	uint32_t rank;          /* proxy IPs: the pattern's specificity; 0 otherwise */
	const char *id;
};

/* Per resource: its filter compiled once, copied into each of its entries. */
struct rule {
	uint32_t rng;
	uint16_t n_tcp, n_udp;
	uint8_t flags;
};

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (!key_eq(x->start, y->start))
		return key_le(x->start, y->start) ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank > y->rank ? -1 : 1;   /* most specific first */
	return -strcmp(x->id, y->id);   /* highest id first */
}

static int rng_cmp(const void *a, const void *b)
{
	const struct rng *x = a, *y = b;

	return (int)x->lo - (int)y->lo;
}

/* Sorts and merges n ranges in place; returns how many remain. */
static unsigned merge_ranges(struct rng *r, unsigned n)
{
	unsigned m = 0;

	if (n == 0)
		return 0;
	qsort(r, n, sizeof(*r), rng_cmp);
	for (unsigned i = 1; i < n; i++) {
		if ((uint32_t)r[i].lo <= (uint32_t)r[m].hi + 1) {
			if (r[i].hi > r[m].hi)
				r[m].hi = r[i].hi;
		} else {
			r[++m] = r[i];
		}
	}
	return m + 1;
}

/* Compiles a resource's filters into out_rngs (room for n_filters); tcp and udp are
 * scratch with room for n_filters each. */
static struct rule compile_rule(const struct fg_policy_resource *r, struct rng *out_rngs,
				uint32_t at, struct rng *tcp, struct rng *udp)
{
	struct rule ru = { .rng = at };
	unsigned nt = 0, nu = 0;

	if (r->n_filters == 0)
		ru.flags |= ENT_ALL;
	for (uint32_t i = 0; i < r->n_filters; i++) {
		const struct fg_ctl_filter *f = &r->filters[i];

		if (f->proto == FG_CTL_FILTER_ICMP)
			ru.flags |= ENT_ICMP;
		else if (f->port_lo > f->port_hi)
			continue;   /* ignored, as Firezone's FilterEngine */
		else if (f->proto == FG_CTL_FILTER_TCP)
			tcp[nt++] = (struct rng){ f->port_lo, f->port_hi };
		else if (f->proto == FG_CTL_FILTER_UDP)
			udp[nu++] = (struct rng){ f->port_lo, f->port_hi };
	}
	nt = merge_ranges(tcp, nt);
	nu = merge_ranges(udp, nu);
	memcpy(out_rngs + at, tcp, nt * sizeof(tcp[0]));
	memcpy(out_rngs + at + nt, udp, nu * sizeof(udp[0]));
	ru.n_tcp = (uint16_t)nt;
	ru.n_udp = (uint16_t)nu;
	return ru;
}

static bool ip_ok(const struct fg_ip *ip, uint8_t family)
{
	return !ip || ip->family == 0 || ip->family == family;
}

static bool resource_ok(const struct fg_policy_resource *r)
{
	if (memchr(r->id, '\0', sizeof(r->id)) == NULL || r->id[0] == '\0' ||
	    r->n_filters > FG_CTL_MAX_FILTERS || (r->n_filters && !r->filters))
		return false;
	if (r->type == FG_CTL_RES_INTERNET || r->type == FG_CTL_RES_DNS)
		return true;
	if (r->type != FG_CTL_RES_CIDR)
		return false;
	return (r->prefix.ip.family == AF_INET && r->prefix.len <= 32) ||
	       (r->prefix.ip.family == AF_INET6 && r->prefix.len <= 128);
}

static void set_addr(uint8_t out[16], bool *has, const struct fg_ip *ip)
{
	*has = ip && ip->family != 0;
	if (*has)
		memcpy(out, ip->addr, 16);
}

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Appends the interval [start, ...) owned by g, replacing one that starts at the same place. */
static void emit(struct key *iv_start, uint32_t *iv_grp, uint32_t *n, struct key start, uint32_t g)
{
	if (*n > 0 && key_eq(iv_start[*n - 1], start)) {
		iv_grp[*n - 1] = g;
		return;
	}
	iv_start[*n] = start;
	iv_grp[(*n)++] = g;
}

/* The first address after the group's prefix; false if it ends at the top of the space. */
static bool after(unsigned fi, struct key start, uint8_t len, struct key *next)
{
	struct key h = host_mask(fi, len), top = host_mask(fi, 0);
	struct key end = { start.hi | h.hi, start.lo | h.lo };

	if (key_eq(end, top))
		return false;
	next->lo = end.lo + 1;
	next->hi = end.hi + (next->lo == 0);
	return true;
}

/* Where each array of a policy lies, in bytes from its start. */
struct layout {
	size_t iv[FAMS], iv_grp[FAMS], grp[FAMS], ent, rng, ids, nat, size;
};

/* Room for n_items[fi] entries and groups and 2 x n_items[fi] + 1 intervals per family. */
static void plan(struct layout *l, const uint32_t n_items[FAMS], size_t n_rng, size_t n, size_t nx)
{
	size_t size = align8(sizeof(struct fg_policy));

	for (unsigned fi = 0; fi < FAMS; fi++) {
		l->iv[fi] = size;
		size = align8(size + (2 * (size_t)n_items[fi] + 1) * sizeof(struct key));
		l->iv_grp[fi] = size;
		size = align8(size + (2 * (size_t)n_items[fi] + 1) * sizeof(uint32_t));
		l->grp[fi] = size;
		size = align8(size + n_items[fi] * sizeof(struct grp));
	}
	l->ent = size;
	size = align8(size + ((size_t)n_items[FAM4] + n_items[FAM6]) * sizeof(struct ent));
	l->rng = size;
	size = align8(size + n_rng * sizeof(struct rng));
	l->ids = size;
	size = align8(size + n * FG_CTL_ID_LEN);
	l->nat = size;
	l->size = size + nx * sizeof(struct fg_policy_nat);
}

static int nat_cmp(const void *a, const void *b)
{
	const struct fg_policy_nat *x = a, *y = b;

	if (x->proxy.family != y->proxy.family)
		return x->proxy.family == AF_INET ? -1 : 1;
	return memcmp(x->proxy.addr, y->proxy.addr, x->proxy.family == AF_INET ? 4 : 16);
}

/* Whether the proxy IPs are well formed and their resources DNS resources of res. */
static bool xlat_ok(const struct fg_policy_resource *res, size_t n, const struct fg_policy_xlat *x, size_t nx,
		    uint32_t n_items[FAMS])
{
	if (nx > 0 && !x)
		return false;
	for (size_t i = 0; i < nx; i++) {
		if ((x[i].proxy.family != AF_INET && x[i].proxy.family != AF_INET6) ||
		    (x[i].n_res && (!x[i].res || !x[i].rank)) || x[i].n_res > UINT32_MAX / 4)
			return false;
		for (uint32_t j = 0; j < x[i].n_res; j++)
			if (x[i].res[j] >= n || res[x[i].res[j]].type != FG_CTL_RES_DNS)
				return false;
		n_items[x[i].proxy.family == AF_INET ? FAM4 : FAM6] += x[i].n_res;
	}
	return true;
}

/* Copies the proxy IPs into the policy, sorted; false on a duplicate. */
static bool fill_nat(struct fg_policy *p, struct fg_policy_nat *nat, const struct fg_policy_xlat *x, size_t nx)
{
	for (size_t i = 0; i < nx; i++) {
		nat[i] = (struct fg_policy_nat){ .proxy = x[i].proxy };
		if (x[i].real.family == x[i].proxy.family)
			nat[i].real = x[i].real;
		/* the unused tail of the address is zero, so memcmp compares addresses */
		memset(nat[i].proxy.addr + (nat[i].proxy.family == AF_INET ? 4 : 16), 0,
		       nat[i].proxy.family == AF_INET ? 12 : 0);
	}
	qsort(nat, nx, sizeof(*nat), nat_cmp);
	p->n_nat4 = 0;
	for (size_t i = 0; i < nx; i++) {
		if (i > 0 && nat_cmp(&nat[i - 1], &nat[i]) == 0)
			return false;
		nat[i].index = (uint32_t)i;
		p->n_nat4 += nat[i].proxy.family == AF_INET;
	}
	p->n_nat = (uint32_t)nx;
	p->nat = nat;
	return true;
}

static inline void *at(struct fg_policy *p, size_t off)
{
	return (uint8_t *)p + off;
}

/*
 * Builds one family's groups, entries (from index ent_base on) and intervals from its items
 * sorted by item_cmp(); stack has room for n_items. Returns the number of entries written.
 */
static uint32_t build_family(struct fg_policy *p, const struct layout *l, unsigned fi,
			     const struct item *it, uint32_t n_items, const struct rule *rules,
			     const struct fg_policy_resource *res, uint32_t ent_base,
			     uint32_t *stack)
{
	struct ent *ents = (struct ent *)at(p, l->ent) + ent_base;
	struct grp *grps = at(p, l->grp[fi]);
	struct key *iv_start = at(p, l->iv[fi]), next;
	uint32_t *iv_grp = at(p, l->iv_grp[fi]);
	uint32_t n_grp = 0, n_iv = 0, depth = 0;

	emit(iv_start, iv_grp, &n_iv, (struct key){ 0, 0 }, NONE);
	for (uint32_t i = 0; i < n_items; i++) {
		const struct item *x = &it[i];
		const struct rule *ru = &rules[x->res];

		ents[i] = (struct ent){ .expires_at = res[x->res].expires_at, .res = x->res,
					.rng = ru->rng, .n_tcp = ru->n_tcp, .n_udp = ru->n_udp,
					.flags = ru->flags };
		if (res[x->res].type == FG_CTL_RES_INTERNET)
			ents[i].flags |= ENT_INTERNET;
		if (i > 0 && key_eq(x->start, it[i - 1].start) && x->len == it[i - 1].len) {
			grps[n_grp - 1].n++;
			continue;
		}
		/* A new group: close the ones that end before it, then open it. */
		while (depth > 0) {
			const struct item *t = &it[grps[stack[depth - 1]].first - ent_base];
			struct key h = host_mask(fi, t->len);

			if (key_le(x->start, (struct key){ t->start.hi | h.hi, t->start.lo | h.lo }))
				break;
			depth--;
			if (after(fi, t->start, t->len, &next))
				emit(iv_start, iv_grp, &n_iv, next, depth ? stack[depth - 1] : NONE);
		}
		grps[n_grp] = (struct grp){ .first = ent_base + i, .n = 1,
					    .parent = depth ? stack[depth - 1] : NONE };
		stack[depth++] = n_grp;
		emit(iv_start, iv_grp, &n_iv, x->start, n_grp);
		n_grp++;
	}
	while (depth > 0) {
		const struct item *t = &it[grps[stack[--depth]].first - ent_base];

		if (after(fi, t->start, t->len, &next))
			emit(iv_start, iv_grp, &n_iv, next, depth ? stack[depth - 1] : NONE);
	}
	p->fam[fi] = (struct fam){ .n_iv = n_iv, .iv_start = iv_start, .iv_grp = iv_grp,
				   .grps = grps };
	return n_items;
}

struct fg_policy *fg_policy_build(const struct fg_policy_resource *res, size_t n,
				  const struct fg_ip *client_ip4, const struct fg_ip *client_ip6,
				  const struct fg_ip *gw_ip4, const struct fg_ip *gw_ip6)
{
	return fg_policy_build_nat(res, n, NULL, 0, client_ip4, client_ip6, gw_ip4, gw_ip6);
}

struct fg_policy *fg_policy_build_nat(const struct fg_policy_resource *res, size_t n,
				      const struct fg_policy_xlat *x, size_t nx,
				      const struct fg_ip *client_ip4, const struct fg_ip *client_ip6,
				      const struct fg_ip *gw_ip4, const struct fg_ip *gw_ip6)
{
	struct item *items[FAMS] = { NULL, NULL };
	uint32_t n_items[FAMS] = { 0, 0 }, n_rng = 0, n_ent = 0, max_items = 0, *stack = NULL;
	uint32_t max_filters = 0;
	struct rng *scratch = NULL;
	struct rule *rules = NULL;
	struct fg_policy *p = NULL;
	struct layout l;
	int err = EINVAL;

	if ((n > 0 && !res) || n > UINT32_MAX / 4 || !ip_ok(client_ip4, AF_INET) ||
	    !ip_ok(client_ip6, AF_INET6) || !ip_ok(gw_ip4, AF_INET) || !ip_ok(gw_ip6, AF_INET6))
		goto err;
	for (size_t i = 0; i < n; i++) {
		if (!resource_ok(&res[i]))
			goto err;
		if (res[i].type == FG_CTL_RES_INTERNET) {
			n_items[FAM4]++;
			n_items[FAM6]++;
		} else if (res[i].type == FG_CTL_RES_CIDR) {
			n_items[res[i].prefix.ip.family == AF_INET ? FAM4 : FAM6]++;
		}
		n_rng += res[i].n_filters;
		if (res[i].n_filters > max_filters)
			max_filters = res[i].n_filters;
	}
	if (nx > UINT32_MAX / 4 || !xlat_ok(res, n, x, nx, n_items))
		goto err;
	err = ENOMEM;
	/* Scratch: the items of each family, compiled filters, the group stack. */
	for (unsigned fi = 0; fi < FAMS; fi++) {
		items[fi] = malloc((n_items[fi] + 1) * sizeof(struct item));
		if (!items[fi])
			goto err_free;
		if (n_items[fi] > max_items)
			max_items = n_items[fi];
	}
	rules = malloc((n + 1) * sizeof(*rules));
	stack = malloc((max_items + 1) * sizeof(*stack));
	scratch = malloc((2 * (size_t)max_filters + 1) * sizeof(*scratch));
	if (!rules || !stack || !scratch)
		goto err_free;
	plan(&l, n_items, n_rng, n, nx);
	p = calloc(1, l.size);
	if (!p)
		goto err_free;

	p->n_res = n;
	p->rngs = at(p, l.rng);
	p->ents = at(p, l.ent);
	p->ids = at(p, l.ids);
	set_addr(p->client[FAM4], &p->has_client[FAM4], client_ip4);
	set_addr(p->client[FAM6], &p->has_client[FAM6], client_ip6);
	set_addr(p->gw[FAM4], &p->has_gw[FAM4], gw_ip4);
	set_addr(p->gw[FAM6], &p->has_gw[FAM6], gw_ip6);

	n_rng = 0;
	n_items[FAM4] = n_items[FAM6] = 0;
	for (size_t i = 0; i < n; i++) {
		const struct fg_policy_resource *r = &res[i];
		uint64_t until = r->expires_at ? r->expires_at : UINT64_MAX;

		memcpy(at(p, l.ids + i * FG_CTL_ID_LEN), r->id, FG_CTL_ID_LEN);
		rules[i] = compile_rule(r, at(p, l.rng), n_rng, scratch, scratch + max_filters);
		n_rng += rules[i].n_tcp + rules[i].n_udp;
		if (r->expires_at && (p->next_expiry == 0 || r->expires_at < p->next_expiry))
			p->next_expiry = r->expires_at;
		if (r->type == FG_CTL_RES_INTERNET) {
			if (until > p->inet_until)
				p->inet_until = until;
			for (unsigned fi = 0; fi < FAMS; fi++)
				items[fi][n_items[fi]++] = (struct item){ .res = (uint32_t)i, .id = r->id };
		} else if (r->type == FG_CTL_RES_CIDR) {
			unsigned fi = r->prefix.ip.family == AF_INET ? FAM4 : FAM6;
			struct key k = key_of(fi, r->prefix.ip.addr), h = host_mask(fi, r->prefix.len);

			items[fi][n_items[fi]++] = (struct item){
				.start = { k.hi & ~h.hi, k.lo & ~h.lo },
				.len = r->prefix.len, .res = (uint32_t)i, .id = r->id };
		}
	}
	/* Each proxy IP: a host route per DNS resource that shares it. */
	for (size_t i = 0; i < nx; i++) {
		unsigned fi = x[i].proxy.family == AF_INET ? FAM4 : FAM6;

		for (uint32_t j = 0; j < x[i].n_res; j++)
			items[fi][n_items[fi]++] = (struct item){
				.start = key_of(fi, x[i].proxy.addr), .len = fi == FAM4 ? 32 : 128,
				.res = x[i].res[j], .rank = x[i].rank[j], .id = res[x[i].res[j]].id };
	}
	err = EINVAL;
	if (!fill_nat(p, at(p, l.nat), x, nx))
		goto err_free;
	for (unsigned fi = 0; fi < FAMS; fi++) {
		qsort(items[fi], n_items[fi], sizeof(struct item), item_cmp);
		n_ent += build_family(p, &l, fi, items[fi], n_items[fi], rules, res, n_ent, stack);
	}
	err = 0;
err_free:
	free(scratch);
	free(stack);
	free(rules);
	free(items[FAM6]);
	free(items[FAM4]);
	if (err == 0)
		return p;
	free(p);
err:
	errno = err;
	return NULL;
}

void fg_policy_free(struct fg_policy *p)
{
	free(p);
}

size_t fg_policy_count(const struct fg_policy *p)
{
	return p ? p->n_res : 0;
}

uint64_t fg_policy_next_expiry(const struct fg_policy *p)
{
	return p ? p->next_expiry : 0;
}

size_t fg_policy_nat_count(const struct fg_policy *p)
{
	return p ? p->n_nat : 0;
}

const struct fg_policy_nat *fg_policy_nat_at(const struct fg_policy *p, size_t i)
{
	return p && i < p->n_nat ? &p->nat[i] : NULL;
}
