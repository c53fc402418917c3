// SPDX-License-Identifier: MIT
/*
 * DNS resources in the control plane: AssignedIps -> check -> resolve -> setup_nat ->
 * NAT_SET -> DomainStatus (nat.h). The translations are records, one per (client,
 * resource, domain), in one array: a client has a handful of domains, so linear scans.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <sodium.h>

#include "dpclient.h"
#include "keys.h"
#include "log.h"
#include "nat.h"
#include "p2p.h"
#include "pattern.h"
#include "state.h"

static const char *const TAG = "fastgate.nat";

/* One domain of a client's DNS resource, as the data plane holds it. */
struct rec {
	uint8_t pk[32];
	char resource[FG_CTL_ID_LEN];
	char domain[FG_P2P_NAME_LEN];
	uint32_t n;
	struct fg_ctl_nat_entry e[FG_CTL_NAT_MAX_PROXY];
};

struct fg_cp_nat {
	struct fg_dpc *dpc;
	struct fg_cp_state *state;
	struct fg_dns_resolver *res;
	struct rec *recs;
	uint32_t nrec, caprec;
	struct req *setting;         /* NAT_SETs in flight: cut loose when this is freed */
	struct fg_cp_nat_stats st;
};

/* An AssignedIps being resolved, then its NAT_SET in flight (n NULL: its owner is gone). */
struct req {
	struct fg_cp_nat *n;
	struct req *next, **pprev;   /* in n->setting while its NAT_SET is in flight */
	struct fg_p2p_assigned_ips a;
	uint8_t pk[32];
};

static bool same_ip(const struct fg_ip *a, const struct fg_ip *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

static int ip_cmp(const void *x, const void *y)
{
	const struct fg_ip *a = x, *b = y;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->addr, b->addr, 16);
}

static const char *client_name(struct fg_cp_nat *n, const uint8_t pk[32], char buf[FG_KEY_B64_LEN])
{
	struct fg_cp_client *c = fg_cp_find_by_key(n->state, pk);

	if (c)
		return c->id;
	fg_key_to_base64(buf, pk);
	return buf;
}

/* ---- DomainStatus ---------------------------------------------------------------------- */

static void send_status(struct fg_cp_nat *n, const uint8_t pk[32], const char *resource, const char *domain,
			bool active)
{
	uint8_t buf[sizeof(struct fg_ctl_p2p) + FG_CTL_P2P_MAX] __attribute__((aligned(8)));
	struct fg_ctl_p2p *m = (struct fg_ctl_p2p *)(void *)buf;
	int len;

	memset(m, 0, sizeof(*m));
	len = fg_p2p_domain_status_build(resource, domain, active, m->payload, FG_CTL_P2P_MAX);
	if (len <= 0)
		return;
	memcpy(m->public_key, pk, 32);
	m->len = (uint16_t)len;
	if (fg_dpc_send(n->dpc, m, FG_CTL_P2P_OUT, FG_DPC_TIMEOUT_MS, NULL) == 0) {
		if (active)
			n->st.active++;
		else
			n->st.inactive++;
	}
}

/* ---- the records ------------------------------------------------------------------------- */

static struct rec *find_rec(struct fg_cp_nat *n, const uint8_t pk[32], const char *resource, const char *domain)
{
	for (uint32_t i = 0; i < n->nrec; i++) {
		struct rec *r = &n->recs[i];

		if (memcmp(r->pk, pk, 32) == 0 && strcmp(r->resource, resource) == 0 && strcmp(r->domain, domain) == 0)
			return r;
	}
	return NULL;
}

/* In order: fastgatectl lists them as they came. */
static void drop_rec(struct fg_cp_nat *n, struct rec *r)
{
	uint32_t i = (uint32_t)(r - n->recs);

	memmove(r, r + 1, sizeof(*r) * (n->nrec - i - 1));
	n->nrec--;
}

static void drop_client(struct fg_cp_nat *n, const uint8_t pk[32])
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < n->nrec; i++)
		if (memcmp(n->recs[i].pk, pk, 32) != 0)
			n->recs[j++] = n->recs[i];
	n->nrec = j;
}

/* Whether one of the proxy IPs already stands for another domain of the client (the
 * Rust gateway's have_proxy_ips_been_reassigned). */
static bool reassigned(const struct fg_cp_nat *n, const uint8_t pk[32], const struct fg_p2p_assigned_ips *a)
{
	for (uint32_t i = 0; i < n->nrec; i++) {
		const struct rec *r = &n->recs[i];

		if (memcmp(r->pk, pk, 32) != 0 || strcmp(r->domain, a->domain) == 0)
			continue;
		for (uint32_t k = 0; k < r->n; k++)
			for (unsigned j = 0; j < a->n_proxy_ips; j++)
				if (same_ip(&r->e[k].proxy, &a->proxy_ips[j]))
					return true;
	}
	return false;
}

/* The specificity of resource's pattern among the client's DNS resources: how many of
 * them it beats (fg_dns_pattern_cmp). */
static uint32_t rank_of(const struct fg_cp_client *c, const char *resource)
{
	const char *mine = NULL;
	uint32_t rank = 0;

	for (uint32_t i = 0; i < c->nres; i++)
		if (c->res[i].type == FG_CP_RES_DNS && strcmp(c->res[i].id, resource) == 0)
			mine = c->res[i].pattern;
	if (!mine)
		return 0;
	for (uint32_t i = 0; i < c->nres; i++)
		if (c->res[i].type == FG_CP_RES_DNS && fg_dns_pattern_cmp(mine, c->res[i].pattern) < 0)
			rank++;
	return rank;
}

static void nat_set_done(void *ctx, int status, const void *msg)
{
	struct req *q = ctx;
	char kb[FG_KEY_B64_LEN];
	struct rec *r;

	(void)msg;
	if (!q->n) {
		free(q);
		return;
	}
	if (q->next)
		q->next->pprev = q->pprev;
	*q->pprev = q->next;
	if (status < 0) {
		fg_warn(TAG, "client %s: the data plane refused the NAT of %s (resource %s): %s",
			client_name(q->n, q->pk, kb), q->a.domain, q->a.resource, strerror(-status));
		/* Not kept: the client was told Inactive, and a resync must not push it again
		 * nor the renumbering check weigh proxy IPs the data plane does not hold. */
		if ((r = find_rec(q->n, q->pk, q->a.resource, q->a.domain)))
			drop_rec(q->n, r);
	}
	send_status(q->n, q->pk, q->a.resource, q->a.domain, status == 0);
	free(q);
}

static int push_rec(struct fg_cp_nat *n, const struct rec *r, bool reset, struct req *q)
{
	struct fg_cp_client *c = fg_cp_find_by_key(n->state, r->pk);
	const struct fg_dpc_cb cb = { .done = nat_set_done, .ctx = q };
	struct fg_ctl_nat_set m;

	if (!c)
		return -ENOENT;
	memset(&m, 0, sizeof(m));
	memcpy(m.public_key, r->pk, 32);
	snprintf(m.resource_id, sizeof(m.resource_id), "%s", r->resource);
	snprintf(m.domain, sizeof(m.domain), "%s", r->domain);
	m.flags = reset ? FG_CTL_NAT_RESET : 0;
	m.rank = rank_of(c, r->resource);
	m.n = r->n;
	memcpy(m.e, r->e, sizeof(m.e));
	return fg_dpc_send(n->dpc, &m, FG_CTL_NAT_SET, FG_DPC_TIMEOUT_MS, q ? &cb : NULL);
}

/* setup_nat: the record of (client, resource, domain) from the resolved addresses. */
static int setup_nat(struct fg_cp_nat *n, struct req *q, const struct fg_resolve_result *res)
{
	struct fg_ip proxies[FG_P2P_MAX_PROXY_IPS], v4[FG_RESOLVE_MAX_ADDRS], v6[FG_RESOLVE_MAX_ADDRS];
	unsigned i4 = 0, i6 = 0, np = 0;
	bool reset;
	int e;
	struct rec *r;
	char kb[FG_KEY_B64_LEN];

	/* Gone while its domain resolved (rejected, expired): nothing to keep for it. */
	if (!fg_cp_find_by_key(n->state, q->pk))
		return -ENOENT;
	reset = reassigned(n, q->pk, &q->a);
	if (reset) {
		fg_info(TAG, "client %s has re-assigned proxy IPs, resetting its DNS resource NAT",
			client_name(n, q->pk, kb));
		drop_client(n, q->pk);
		n->st.resets++;
	}
	r = find_rec(n, q->pk, q->a.resource, q->a.domain);
	if (!r) {
		if (n->nrec == n->caprec) {
			uint32_t cap = n->caprec ? n->caprec * 2 : 16;
			struct rec *nr = realloc(n->recs, sizeof(*nr) * cap);

			if (!nr)
				return -ENOMEM;
			n->recs = nr;
			n->caprec = cap;
		}
		r = &n->recs[n->nrec++];
		memset(r, 0, sizeof(*r));
		memcpy(r->pk, q->pk, 32);
		snprintf(r->resource, sizeof(r->resource), "%s", q->a.resource);
		snprintf(r->domain, sizeof(r->domain), "%s", q->a.domain);
	}
	/* Sorted and without duplicates, as the Rust gateway's BTreeSets, then round-robin
	 * within each family. */
	memcpy(proxies, q->a.proxy_ips, sizeof(proxies[0]) * q->a.n_proxy_ips);
	qsort(proxies, q->a.n_proxy_ips, sizeof(proxies[0]), ip_cmp);
	for (unsigned i = 0; i < q->a.n_proxy_ips; i++)
		if (np == 0 || !same_ip(&proxies[np - 1], &proxies[i]))
			proxies[np++] = proxies[i];
	memcpy(v4, res->v4, sizeof(v4[0]) * res->n4);
	memcpy(v6, res->v6, sizeof(v6[0]) * res->n6);
	qsort(v4, res->n4, sizeof(v4[0]), ip_cmp);
	qsort(v6, res->n6, sizeof(v6[0]), ip_cmp);
	if (res->n4 + res->n6 == 0)
		fg_debug(TAG, "no A / AAAA records for %s", q->a.domain);
	r->n = np;
	for (unsigned i = 0; i < np; i++) {
		r->e[i] = (struct fg_ctl_nat_entry){ .proxy = proxies[i] };
		if (proxies[i].family == AF_INET && res->n4)
			r->e[i].real = v4[i4++ % res->n4];
		else if (proxies[i].family == AF_INET6 && res->n6)
			r->e[i].real = v6[i6++ % res->n6];
	}
	e = push_rec(n, r, reset, q);
	if (e == 0) {
		q->next = n->setting;
		q->pprev = &n->setting;
		if (n->setting)
			n->setting->pprev = &q->next;
		n->setting = q;
	}
	return e;
}

/* ---- resolution -------------------------------------------------------------------------- */

static void resolved(void *arg, const struct fg_resolve_result *res)
{
	struct req *q = arg;
	struct fg_cp_nat *n = q->n;
	char kb[FG_KEY_B64_LEN];
	int r;

	if (res->status == FG_RESOLVE_CANCELLED) {
		free(q);
		return;
	}
	if (res->status == FG_RESOLVE_TIMEOUT) {
		n->st.timeouts++;
		fg_warn(TAG, "failed to set up the DNS resource NAT of %s for client %s: resolving timed out",
			q->a.domain, client_name(n, q->pk, kb));
		send_status(n, q->pk, q->a.resource, q->a.domain, false);
		free(q);
		return;
	}
	n->st.resolved++;
	r = setup_nat(n, q, res);
	if (r < 0) {
		/* Unknown client (gone meanwhile), or out of memory: Inactive, as setup_nat's error. */
		if (r != -ENOENT)
			fg_warn(TAG, "failed to set up the DNS resource NAT of %s: %s", q->a.domain, strerror(-r));
		send_status(n, q->pk, q->a.resource, q->a.domain, false);
		free(q);
	}
}

/* Whether resource is one of the client's DNS resources and domain matches its pattern. */
static bool allowed(const struct fg_cp_client *c, const struct fg_p2p_assigned_ips *a)
{
	for (uint32_t i = 0; i < c->nres; i++) {
		const struct fg_cp_resource *r = &c->res[i];

		if (strcmp(r->id, a->resource) == 0)
			return r->type == FG_CP_RES_DNS && (r->expires_at == 0 || r->expires_at > (uint64_t)time(NULL)) &&
			       fg_dns_pattern_match(r->pattern, a->domain);
	}
	return false;
}

void fg_cp_nat_on_p2p(struct fg_cp_nat *n, const struct fg_ctl_p2p *msg)
{
	struct fg_cp_client *c = fg_cp_find_by_key(n->state, msg->public_key);
	const uint8_t *json;
	size_t jlen;
	uint8_t ev;
	char err[96];
	struct req *q;
	int r;

	n->st.assigned_ips++;
	if (fg_p2p_split(msg->payload, msg->len, &ev, &json, &jlen) < 0 || ev != FG_P2P_ASSIGNED_IPS) {
		n->st.malformed++;
		return;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return;
	q->n = n;
	memcpy(q->pk, msg->public_key, 32);
	if (fg_p2p_assigned_ips_parse(json, jlen, &q->a, err, sizeof(err)) < 0) {
		n->st.malformed++;
		fg_debug(TAG, "malformed AssignedIps: %s", err);
		free(q);
		return;
	}
	if (!c || !allowed(c, &q->a)) {
		n->st.refused++;
		fg_warn(TAG, "client %s: AssignedIps for %s of resource %s, which is not allowed: Inactive",
			c ? c->id : "(unknown)", q->a.domain, q->a.resource);
		send_status(n, q->pk, q->a.resource, q->a.domain, false);
		free(q);
		return;
	}
	r = fg_dns_resolver_lookup(n->res, q->a.domain, resolved, q);
	if (r < 0) {
		/* The client resends AssignedIps while its NAT is pending. */
		if (r == -EBUSY) {
			n->st.busy++;
			fg_warn(TAG, "too many DNS resolutions in flight: AssignedIps for %s dropped", q->a.domain);
		} else {
			fg_warn(TAG, "resolving %s: %s: AssignedIps dropped", q->a.domain, strerror(-r));
		}
		free(q);
	}
}

/* ---- the owner's side --------------------------------------------------------------------- */

struct fg_cp_nat *fg_cp_nat_new(struct fg_dpc *dpc, struct fg_cp_state *state, const struct fg_resolve_ops *ops,
				void *ops_ctx, const struct fg_resolve_config *cfg)
{
	struct fg_cp_nat *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->dpc = dpc;
	n->state = state;
	n->res = fg_dns_resolver_new(ops, ops_ctx, cfg);
	if (!n->res) {
		int e = errno;

		free(n);
		errno = e;
		return NULL;
	}
	return n;
}

void fg_cp_nat_free(struct fg_cp_nat *n)
{
	if (!n)
		return;
	/* Their answers come after this: they free themselves, nothing else. */
	for (struct req *q = n->setting; q; q = q->next)
		q->n = NULL;
	fg_dns_resolver_free(n->res);
	free(n->recs);
	free(n);
}

void fg_cp_nat_dp_event(struct fg_cp_nat *n, const struct fg_ctl_event *ev)
{
	if (ev->kind == FG_CTL_EV_PEER_EXPIRED || ev->kind == FG_CTL_EV_PEER_GOODBYE) {
		drop_client(n, ev->public_key);
	} else if (ev->kind == FG_CTL_EV_RESOURCE_EXPIRED &&
		   memchr(ev->resource_id, '\0', sizeof(ev->resource_id))) {
		/* The data plane dropped the resource, and its proxy IPs' translations with it. */
		for (uint32_t i = 0; i < n->nrec;)
			if (memcmp(n->recs[i].pk, ev->public_key, 32) == 0 &&
			    strcmp(n->recs[i].resource, ev->resource_id) == 0)
				drop_rec(n, &n->recs[i]);
			else
				i++;
	}
}

/* Whether the client still holds resource as a DNS resource. */
static bool holds(const struct fg_cp_client *c, const char *resource)
{
	for (uint32_t i = 0; c && i < c->nres; i++)
		if (c->res[i].type == FG_CP_RES_DNS && strcmp(c->res[i].id, resource) == 0)
			return true;
	return false;
}

void fg_cp_nat_resync(struct fg_cp_nat *n)
{
	uint32_t j = 0;

	/* Clients and resources the state no longer holds go (the data plane would refuse
	 * them); the other records are pushed again. */
	for (uint32_t i = 0; i < n->nrec; i++)
		if (holds(fg_cp_find_by_key(n->state, n->recs[i].pk), n->recs[i].resource))
			n->recs[j++] = n->recs[i];
	n->nrec = j;
	for (uint32_t i = 0; i < n->nrec; i++)
		push_rec(n, &n->recs[i], false, NULL);
}

void fg_cp_nat_resolver_io(struct fg_cp_nat *n, int fd, bool readable, bool writable)
{
	fg_dns_resolver_io(n->res, fd, readable, writable);
}

void fg_cp_nat_resolver_timer(struct fg_cp_nat *n)
{
	fg_dns_resolver_timer(n->res);
}

const char *fg_cp_nat_domain_of(const struct fg_cp_nat *n, const uint8_t public_key[32], const struct fg_ip *proxy)
{
	for (uint32_t i = 0; i < n->nrec; i++) {
		const struct rec *r = &n->recs[i];

		if (memcmp(r->pk, public_key, 32) != 0)
			continue;
		for (uint32_t k = 0; k < r->n; k++)
			if (same_ip(&r->e[k].proxy, proxy))
				return r->domain;
	}
	return NULL;
}

const struct fg_cp_nat_stats *fg_cp_nat_stats(const struct fg_cp_nat *n)
{
	return &n->st;
}

cJSON *fg_cp_nat_json(const struct fg_cp_nat *n)
{
	cJSON *arr = cJSON_CreateArray();

	for (uint32_t i = 0; arr && i < n->nrec; i++) {
		const struct rec *r = &n->recs[i];
		struct fg_cp_client *c = fg_cp_find_by_key(n->state, r->pk);
		cJSON *o = cJSON_CreateObject(), *m = cJSON_CreateArray();
		char a[FG_ADDR_STRLEN], b[FG_ADDR_STRLEN], kb[FG_KEY_B64_LEN];

		if (!o || !m) {
			cJSON_Delete(o);
			cJSON_Delete(m);
			break;
		}
		fg_key_to_base64(kb, r->pk);
		cJSON_AddStringToObject(o, "client_id", c ? c->id : "");
		cJSON_AddStringToObject(o, "public_key", kb);
		cJSON_AddStringToObject(o, "resource_id", r->resource);
		cJSON_AddStringToObject(o, "domain", r->domain);
		for (uint32_t k = 0; k < r->n; k++) {
			cJSON *e = cJSON_CreateObject();

			if (!e)
				break;
			cJSON_AddStringToObject(e, "proxy_ip", fg_ip_format(&r->e[k].proxy, a, sizeof(a)));
			if (r->e[k].real.family)
				cJSON_AddStringToObject(e, "real_ip", fg_ip_format(&r->e[k].real, b, sizeof(b)));
			else
				cJSON_AddNullToObject(e, "real_ip");
			cJSON_AddItemToArray(m, e);
		}
		cJSON_AddItemToObject(o, "proxy_ips", m);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}
