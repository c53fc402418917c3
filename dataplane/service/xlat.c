// SPDX-License-Identifier: MIT
/*
 * DNS resources on the service lcore (reference §4.3, the Rust gateway's setup_nat): the
 * proxy IPs a client assigned to the domains of its DNS resources, as the control plane
 * resolved them (NAT_SET), kept per client and compiled into the client's policy
 * (fg_policy_build_nat) on every change. A proxy IP belongs to the set of DNS resources
 * that named it, each with its pattern's rank; a resource that goes keeps its proxy IPs,
 * unused until it comes back (as the Rust gateway's permanent translations). The control
 * plane resets a client's proxy IPs (FG_CTL_NAT_RESET) when the client renumbers them;
 * new tunnel IPs (a new client session) reset them too. The workers' NAT tuples follow
 * the policy: a reset also ends them (conntrack.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conntrack.h"
#include "log.h"
#include "policy.h"
#include "service.h"
#include "svc_state.h"

static bool family_ok(const struct fg_ip *ip)
{
	return ip->family == AF_INET || ip->family == AF_INET6;
}

/* Zeroes the bytes past a family's address, so that proxy IPs compare with memcmp. */
static struct fg_ip canonical(const struct fg_ip *ip)
{
	struct fg_ip c = { .family = ip->family };

	if (family_ok(ip))
		memcpy(c.addr, ip->addr, ip->family == AF_INET ? 4 : 16);
	return c;
}

static int find_dns_res(const struct fg_svc_client *c, const char *id)
{
	for (uint32_t i = 0; i < c->nres; i++)
		if (strncmp(c->res[i].id, id, FG_CTL_ID_LEN) == 0)
			return c->res[i].type == FG_CTL_RES_DNS ? (int)i : -2;
	return -1;
}

static struct fg_svc_xlat *find_xlat(struct fg_svc_client *c, const struct fg_ip *proxy)
{
	for (uint32_t i = 0; i < c->nxlat; i++)
		if (c->xlat[i].proxy.family == proxy->family &&
		    memcmp(c->xlat[i].proxy.addr, proxy->addr, sizeof(proxy->addr)) == 0)
			return &c->xlat[i];
	return NULL;
}

void fg_svc_xlat_free(struct fg_svc_client *c)
{
	free(c->xlat);
	c->xlat = NULL;
	c->nxlat = c->capxlat = 0;
}

/* Room for n more proxy IPs. */
static int reserve(struct fg_svc_client *c, uint32_t n)
{
	uint32_t cap = c->capxlat ? c->capxlat : 16;
	struct fg_svc_xlat *x;

	if (c->nxlat + n <= c->capxlat)
		return 0;
	if (c->nxlat + n > FG_SVC_XLAT_MAX)
		return -ENOSPC;
	while (cap < c->nxlat + n)
		cap *= 2;
	x = realloc(c->xlat, sizeof(*x) * cap);
	if (!x)
		return -ENOMEM;
	c->xlat = x;
	c->capxlat = cap;
	return 0;
}

/* Adds (or re-ranks) resource id on a proxy IP. */
static int add_res(struct fg_svc_xlat *x, const char *id, uint32_t rank)
{
	for (uint32_t i = 0; i < x->nres; i++) {
		if (strncmp(x->res[i], id, FG_CTL_ID_LEN) == 0) {
			x->rank[i] = rank;
			return 0;
		}
	}
	if (x->nres == FG_SVC_XLAT_RES)
		return -ENOSPC;
	memcpy(x->res[x->nres], id, FG_CTL_ID_LEN);
	x->rank[x->nres++] = rank;
	return 0;
}

static int check(const struct fg_ctl_nat_set *m)
{
	if (memchr(m->resource_id, '\0', sizeof(m->resource_id)) == NULL || m->resource_id[0] == '\0' ||
	    memchr(m->domain, '\0', sizeof(m->domain)) == NULL || m->n > FG_CTL_NAT_MAX_PROXY ||
	    (m->flags & ~(uint32_t)FG_CTL_NAT_RESET) != 0)
		return -EINVAL;
	for (uint32_t i = 0; i < m->n; i++) {
		const struct fg_ctl_nat_entry *e = &m->e[i];

		if (!family_ok(&e->proxy) || (e->real.family != 0 && e->real.family != e->proxy.family))
			return -EINVAL;
	}
	return 0;
}

int fg_svc_nat_set(struct fg_svc *s, const struct fg_ctl_nat_set *m)
{
	uint32_t slot = fg_svc_peer_find(s, m->public_key);
	struct fg_svc_client *c;
	int r = check(m);

	if (r < 0)
		return r;
	if (slot == FG_SLOT_NONE)
		return -ENOENT;
	c = &s->peers[slot].client;
	if (!c->policy || find_dns_res(c, m->resource_id) < 0)
		return -ENOENT;
	if (m->flags & FG_CTL_NAT_RESET) {
		fg_info("fastgate.xlat", "client %s renumbered its proxy IPs: its DNS resource NAT is reset",
			c->client_id);
		c->nxlat = 0;
		fg_conntrack_reset_peer(&s->dp->ct, slot);
	}
	r = reserve(c, m->n);
	if (r < 0)
		return r;
	for (uint32_t i = 0; i < m->n; i++) {
		struct fg_ip proxy = canonical(&m->e[i].proxy);
		struct fg_svc_xlat *x = find_xlat(c, &proxy);

		if (!x) {
			x = &c->xlat[c->nxlat++];
			memset(x, 0, sizeof(*x));
			x->proxy = proxy;
		}
		x->real = canonical(&m->e[i].real);
		r = add_res(x, m->resource_id, m->rank);
		if (r < 0)
			return r;
	}
	return fg_svc_client_publish(s, slot);
}

struct fg_policy *fg_svc_xlat_policy(const struct fg_svc *s, const struct fg_svc_client *c)
{
	struct fg_policy_xlat *px = NULL;
	uint32_t *idx = NULL, *rank = NULL, n = 0, k = 0;
	struct fg_policy *p;

	if (c->nxlat) {
		px = malloc(sizeof(*px) * c->nxlat);
		idx = malloc(sizeof(*idx) * c->nxlat * FG_SVC_XLAT_RES);
		rank = malloc(sizeof(*rank) * c->nxlat * FG_SVC_XLAT_RES);
		if (!px || !idx || !rank) {
			free(px);
			free(idx);
			free(rank);
			errno = ENOMEM;
			return NULL;
		}
	}
	for (uint32_t i = 0; i < c->nxlat; i++) {
		const struct fg_svc_xlat *x = &c->xlat[i];

		px[n] = (struct fg_policy_xlat){ .proxy = x->proxy, .real = x->real, .res = idx + k,
						 .rank = rank + k };
		/* Resources that went are skipped until they come back. */
		for (uint32_t j = 0; j < x->nres; j++) {
			int ri = find_dns_res(c, x->res[j]);

			if (ri < 0)
				continue;
			idx[k] = (uint32_t)ri;
			rank[k++] = x->rank[j];
			px[n].n_res++;
		}
		n++;
	}
	p = fg_policy_build_nat(c->res, c->nres, px, n, &c->ipv4, &c->ipv6, &s->gw4, &s->gw6);
	free(px);
	free(idx);
	free(rank);
	return p;
}
