// SPDX-License-Identifier: MIT
/*
 * The control plane's authorization state and its mirror in the data plane (see state.h).
 * Control plane thread only.
 */
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"
#include "log.h"
#include "secmem.h"

static const char *const TAG = "fastgate.state";

void fg_cp_state_init(struct fg_cp_state *s, struct fg_dpc *dpc)
{
	memset(s, 0, sizeof(*s));
	s->dpc = dpc;
}

static void client_free(struct fg_cp_client *c)
{
	for (uint32_t i = 0; i < c->nres; i++)
		free(c->res[i].filters);
	free(c->res);
	free(c->cands);
	sodium_memzero(c, sizeof(*c));
}

void fg_cp_state_free(struct fg_cp_state *s)
{
	for (uint32_t i = 0; i < s->n; i++)
		client_free(&s->clients[i]);
	free(s->clients);
	memset(s, 0, sizeof(*s));
}

struct fg_cp_client *fg_cp_find(struct fg_cp_state *s, const char *client_id)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (strcmp(s->clients[i].id, client_id) == 0)
			return &s->clients[i];
	return NULL;
}

static struct fg_cp_client *find_by_key(struct fg_cp_state *s, const uint8_t pub[32])
{
	for (uint32_t i = 0; i < s->n; i++)
		if (sodium_memcmp(s->clients[i].public_key, pub, 32) == 0)
			return &s->clients[i];
	return NULL;
}

struct fg_cp_client *fg_cp_find_by_key(struct fg_cp_state *s, const uint8_t public_key[32])
{
	return find_by_key(s, public_key);
}

static int find_res(const struct fg_cp_client *c, const char *id)
{
	for (uint32_t i = 0; i < c->nres; i++)
		if (strcmp(c->res[i].id, id) == 0)
			return (int)i;
	return -1;
}

static void remove_client(struct fg_cp_state *s, struct fg_cp_client *c)
{
	uint32_t i = (uint32_t)(c - s->clients);

	client_free(c);
	s->clients[i] = s->clients[--s->n];
	sodium_memzero(&s->clients[s->n], sizeof(s->clients[0]));   /* a copy of a PSK */
}

/* Room for one more client. By hand, not realloc(): the old array holds PSKs. The array
 * stays out of core dumps (FASTGATE_CORE_DUMPS=1). 0 or -ENOMEM. */
static int grow_clients(struct fg_cp_state *s)
{
	uint32_t cap = s->cap ? s->cap * 2 : 16;
	struct fg_cp_client *n;
	int dd;

	if (s->n < s->cap)
		return 0;
	n = calloc(cap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	dd = fg_secmem_dontdump(n, sizeof(*n) * cap);
	if (dd < 0)
		fg_warn(TAG, "the clients' keys cannot be excluded from core dumps: %s", strerror(-dd));
	if (s->clients) {
		memcpy(n, s->clients, sizeof(*n) * s->n);
		sodium_memzero(s->clients, sizeof(*n) * s->cap);
		free(s->clients);
	}
	s->clients = n;
	s->cap = cap;
	return 0;
}

/* A heap copy of n filters (NULL for none); false when out of memory. */
static bool dup_filters(struct fg_cp_filter **out, const struct fg_cp_filter *in, uint32_t n)
{
	*out = NULL;
	if (n == 0)
		return true;
	*out = malloc(sizeof(*in) * n);
	if (!*out)
		return false;
	memcpy(*out, in, sizeof(*in) * n);
	return true;
}

/* Drops resource i (swapping in the last). */
static void del_res(struct fg_cp_client *c, uint32_t i)
{
	free(c->res[i].filters);
	c->res[i] = c->res[--c->nres];
}

/* Keeps a copy of r (its filters too). */
static int add_res(struct fg_cp_client *c, const struct fg_cp_resource *r)
{
	int i = find_res(c, r->id);
	struct fg_cp_filter *f;

	if (!dup_filters(&f, r->filters, r->n_filters))
		return -ENOMEM;
	if (i >= 0) {
		free(c->res[i].filters);
		c->res[i] = *r;
		c->res[i].filters = f;
		return 0;
	}
	if (c->nres == c->capres) {
		uint32_t cap = c->capres ? c->capres * 2 : 4;
		struct fg_cp_resource *n = realloc(c->res, sizeof(*n) * cap);

		if (!n) {
			free(f);
			return -ENOMEM;
		}
		c->res = n;
		c->capres = cap;
	}
	c->res[c->nres] = *r;
	c->res[c->nres++].filters = f;
	return 0;
}

/* ---- pushes to the data plane ---------------------------------------------------------- */

/* An operation of several pushes (an authorization): done runs once every push of it has
 * its answer. pending starts at 1, the caller's own hold, released when all are queued. */
struct fg_cp_op {
	unsigned pending;
	int status;                  /* the first failure */
	void (*done)(void *ctx, int status);
	void *ctx;
};

/* One push in flight. The client may be gone or moved when the answer comes: the push keeps
 * copies of what it logs, never a pointer into the state's arrays. */
struct push {
	struct fg_cp_state *s;
	struct fg_cp_op *op;         /* NULL when nothing waits for it */
	const char *what;
	char id[FG_CTL_ID_LEN];
	bool enoent_ok;              /* a removal of what is already gone */
};

static void op_put(struct fg_cp_op *op, int status)
{
	if (!op)
		return;
	if (status < 0 && op->status == 0)
		op->status = status;
	if (--op->pending == 0) {
		if (op->done)
			op->done(op->ctx, op->status);
		free(op);
	}
}

static int dp_result(struct fg_cp_state *s, int r, const char *what, const char *id)
{
	if (r < 0) {
		s->dp_errors++;
		if (!fg_dpc_connected(s->dpc)) {
			s->dp_synced = false;
			fg_debug(TAG, "%s %s: data plane not connected (will resynchronise)", what, id);
		} else if (r == -ETIMEDOUT) {
			/* It may still apply it: the next change pushes the client again. */
			s->dp_synced = false;
			fg_warn(TAG, "%s %s: the data plane did not answer in time", what, id);
		} else {
			fg_warn(TAG, "%s %s: the data plane refused it: %s", what, id, strerror(-r));
		}
	}
	return r;
}

static void push_done(void *ctx, int status, const void *msg)
{
	struct push *p = ctx;

	(void)msg;
	if (p->enoent_ok && status == -ENOENT)
		status = 0;
	dp_result(p->s, status, p->what, p->id);
	op_put(p->op, status);
	free(p);
}

/* Queues msg; its answer is logged by push_done and counted in op. */
static int push(struct fg_cp_state *s, struct fg_cp_op *op, void *msg, uint16_t type, const char *what,
		const char *id, bool enoent_ok)
{
	struct push *p = calloc(1, sizeof(*p));
	struct fg_dpc_cb cb = { .done = push_done, .ctx = p };
	int r;

	if (!p)
		return -ENOMEM;
	p->s = s;
	p->op = op;
	p->what = what;
	p->enoent_ok = enoent_ok;
	snprintf(p->id, sizeof(p->id), "%s", id);
	if (op)
		op->pending++;
	r = fg_dpc_send(s->dpc, msg, type, FG_DPC_TIMEOUT_MS, &cb);
	if (r < 0) {
		if (op)
			op->pending--; /* never 0 here: the caller holds one */
		free(p);
		return dp_result(s, r, what, id);
	}
	return 0;
}

static int push_client(struct fg_cp_state *s, const struct fg_cp_client *c, struct fg_cp_op *op)
{
	struct fg_ctl_peer_upsert m;
	int r;

	if (!fg_dpc_connected(s->dpc))
		return -ENOTCONN;
	memset(&m, 0, sizeof(m));
	snprintf(m.client_id, sizeof(m.client_id), "%s", c->id);
	memcpy(m.public_key, c->public_key, 32);
	if (c->has_psk) {
		memcpy(m.psk, c->psk, 32);
		m.flags |= FG_CTL_PEER_HAS_PSK;
	}
	m.ipv4 = c->ipv4;
	m.ipv6 = c->ipv6;
	m.flags |= FG_CTL_PEER_POLICY;
	r = push(s, op, &m, FG_CTL_PEER_UPSERT, "client", c->id, false);
	sodium_memzero(&m, sizeof(m));
	return r;
}

static int push_resource(struct fg_cp_state *s, const struct fg_cp_client *c, const struct fg_cp_resource *r,
			 struct fg_cp_op *op)
{
	struct fg_ctl_resource_upsert *m;
	int ret;

	if (c->said_goodbye)
		return 0;   /* no peer in the data plane until the next authorization */
	if (!fg_dpc_connected(s->dpc))
		return -ENOTCONN;
	/* Variable length: the fixed part, then every filter (ctlproto.h). */
	m = calloc(1, sizeof(*m) + sizeof(m->filters[0]) * r->n_filters);
	if (!m)
		return -ENOMEM;
	memcpy(m->public_key, c->public_key, 32);
	snprintf(m->resource_id, sizeof(m->resource_id), "%s", r->id);
	m->type = r->type == FG_CP_RES_INTERNET ? FG_CTL_RES_INTERNET :
		  r->type == FG_CP_RES_DNS ? FG_CTL_RES_DNS : FG_CTL_RES_CIDR;
	/* A DNS resource's filters and expiry apply to the proxy IPs NAT_SET gives it. */
	if (r->type == FG_CP_RES_CIDR)
		m->prefix = r->prefix;
	m->expires_at = r->expires_at;
	m->n_filters = r->n_filters;
	for (uint32_t i = 0; i < r->n_filters; i++) {
		m->filters[i].proto = r->filters[i].proto;
		m->filters[i].port_lo = r->filters[i].lo;
		m->filters[i].port_hi = r->filters[i].hi;
	}
	ret = push(s, op, m, FG_CTL_RESOURCE_UPSERT, "resource", r->id, false);
	free(m);
	return ret;
}

static int push_remove(struct fg_cp_state *s, const struct fg_cp_client *c, const char *resource_id)
{
	struct fg_ctl_resource_remove m;

	if (c->said_goodbye)
		return 0;
	if (!fg_dpc_connected(s->dpc))
		return -ENOTCONN;
	memset(&m, 0, sizeof(m));
	memcpy(m.public_key, c->public_key, 32);
	snprintf(m.resource_id, sizeof(m.resource_id), "%s", resource_id);
	return push(s, NULL, &m, FG_CTL_RESOURCE_REMOVE, "removal of resource", resource_id, true);
}

static int push_iface(struct fg_cp_state *s)
{
	struct fg_ctl_iface_set m;

	if (!fg_dpc_connected(s->dpc))
		return -ENOTCONN;
	memset(&m, 0, sizeof(m));
	m.ipv4 = s->if4;
	m.ipv6 = s->if6;
	return push(s, NULL, &m, FG_CTL_IFACE_SET, "interface", "addresses", false);
}

/* ---- portal messages --------------------------------------------------------------------- */

int fg_cp_authorize(struct fg_cp_state *s, const struct fg_cp_client *in, const struct fg_cp_resource *res,
		    void (*done)(void *ctx, int status), void *ctx)
{
	struct fg_cp_client *c = find_by_key(s, in->public_key);
	struct fg_cp_op *op = calloc(1, sizeof(*op));
	bool changed = false;
	int r;

	if (!op)
		return -ENOMEM;
	/* The data plane has one peer per key: a key that another client id holds has moved to
	 * this one (the device registered again), and that client goes, its peer with it. */
	if (c && strcmp(c->id, in->id) != 0) {
		fg_warn(TAG, "client %s has the public key of client %s: client %s removed", in->id, c->id, c->id);
		if (!c->said_goodbye && fg_dpc_connected(s->dpc)) {
			struct fg_ctl_peer_remove m;

			memset(&m, 0, sizeof(m));
			memcpy(m.public_key, c->public_key, 32);
			push(s, NULL, &m, FG_CTL_PEER_REMOVE, "old holder of the key of client", in->id, true);
		}
		remove_client(s, c);
	}
	c = fg_cp_find(s, in->id);
	op->pending = 1;
	op->done = done;
	op->ctx = ctx;
	if (!c) {
		if (grow_clients(s) < 0) {
			free(op);
			return -ENOMEM;
		}
		c = &s->clients[s->n++];
		memset(c, 0, sizeof(*c));
		snprintf(c->id, sizeof(c->id), "%s", in->id);
		changed = true;
	}
	if (sodium_memcmp(c->public_key, in->public_key, 32) != 0) {
		/* A new key is a new device for the same client id: drop the old peer. */
		if (!changed && fg_dpc_connected(s->dpc)) {
			struct fg_ctl_peer_remove m;

			memset(&m, 0, sizeof(m));
			memcpy(m.public_key, c->public_key, 32);
			push(s, NULL, &m, FG_CTL_PEER_REMOVE, "old key of client", c->id, true);
		}
		memcpy(c->public_key, in->public_key, 32);
		changed = true;
	}
	if (in->has_psk != c->has_psk || (in->has_psk && sodium_memcmp(c->psk, in->psk, 32) != 0)) {
		memcpy(c->psk, in->psk, 32);
		c->has_psk = in->has_psk;
		changed = true;
	}
	if (!fg_ip_equal(&c->ipv4, &in->ipv4) || !fg_ip_equal(&c->ipv6, &in->ipv6)) {
		c->ipv4 = in->ipv4;
		c->ipv6 = in->ipv6;
		changed = true;
	}
	snprintf(c->version, sizeof(c->version), "%s", in->version);
	r = add_res(c, res);
	if (r < 0) {
		free(op);
		return r;
	}
	/* Sent in order on one socket: the data plane has the peer before its resource. */
	if (c->said_goodbye) {
		/* The peer went with its Goodbye; its other authorizations still stand. */
		c->said_goodbye = false;
		push_client(s, c, op);
		for (uint32_t i = 0; i < c->nres; i++)
			if (strcmp(c->res[i].id, res->id) != 0)
				push_resource(s, c, &c->res[i], op);
	} else if (changed || !s->dp_synced) {
		push_client(s, c, op);
	}
	push_resource(s, c, res, op);
	op_put(op, 0);
	return 0;
}

int fg_cp_reject(struct fg_cp_state *s, const char *client_id, const char *resource_id)
{
	struct fg_cp_client *c = fg_cp_find(s, client_id);
	int i;

	if (!c || (i = find_res(c, resource_id)) < 0)
		return -ENOENT;
	del_res(c, (uint32_t)i);
	push_remove(s, c, resource_id);
	if (c->nres == 0) {
		/* The data plane removed the peer (after a Goodbye) with its last resource. */
		fg_info(TAG, "client %s has no resources left: removed", client_id);
		remove_client(s, c);
	}
	return 0;
}

int fg_cp_resource_updated(struct fg_cp_state *s, const struct fg_cp_resource *res)
{
	for (uint32_t k = 0; k < s->n; k++) {
		struct fg_cp_client *c = &s->clients[k];
		int i = find_res(c, res->id);

		if (i < 0)
			continue;
		/* Only the filters change; address, type and stack changes come as reject_access. */
		struct fg_cp_filter *f;

		if (!dup_filters(&f, res->filters, res->n_filters))
			return -ENOMEM;
		free(c->res[i].filters);
		c->res[i].filters = f;
		c->res[i].n_filters = res->n_filters;
		push_resource(s, c, &c->res[i], NULL);
	}
	return 0;
}

int fg_cp_init(struct fg_cp_state *s, const struct fg_ip *if4, const struct fg_ip *if6,
	       const struct fg_cp_auth *auths, size_t nauths, bool has_list)
{
	if (!fg_ip_equal(&s->if4, if4) || !fg_ip_equal(&s->if6, if6) || !s->dp_synced) {
		s->if4 = *if4;
		s->if6 = *if6;
		push_iface(s);
	}
	if (!has_list)
		return 0;
	/* retain_authorizations: drop every resource of a known client that is not listed. */
	for (uint32_t k = 0; k < s->n;) {
		struct fg_cp_client *c = &s->clients[k];
		bool removed = false;

		for (uint32_t i = 0; i < c->nres;) {
			const struct fg_cp_auth *a = NULL;

			for (size_t j = 0; j < nauths; j++)
				if (strcmp(auths[j].client_id, c->id) == 0 && strcmp(auths[j].resource_id, c->res[i].id) == 0)
					a = &auths[j];
			if (a) {
				if (a->expires_at != c->res[i].expires_at) {
					c->res[i].expires_at = a->expires_at;
					push_resource(s, c, &c->res[i], NULL);
				}
				i++;
				continue;
			}
			char id[FG_CTL_ID_LEN];
			snprintf(id, sizeof(id), "%s", c->res[i].id);
			if (c->nres == 1) {
				fg_cp_reject(s, c->id, id);
				removed = true;
				break;
			}
			fg_cp_reject(s, c->id, id);
		}
		if (!removed)
			k++;
	}
	return 0;
}

/* ---- data plane synchronisation --------------------------------------------------------- */

static void adopt_peer(void *ctx, const struct fg_ctl_peer_info *p)
{
	struct fg_cp_state *s = ctx;

	if (!(p->flags & FG_CTL_PEER_POLICY) || find_by_key(s, p->public_key) ||
	    memchr(p->client_id, '\0', sizeof(p->client_id)) == NULL)
		return;
	if (fg_cp_find(s, p->client_id))
		return;
	if (grow_clients(s) < 0)
		return;
	struct fg_cp_client *c = &s->clients[s->n++];
	memset(c, 0, sizeof(*c));
	c->adopted = true;
	memcpy(c->id, p->client_id, sizeof(c->id));
	memcpy(c->public_key, p->public_key, 32);
	c->ipv4 = p->ipv4;
	c->ipv6 = p->ipv6;
}

static void adopt_resource(void *ctx, const struct fg_ctl_resource_info *r)
{
	struct fg_cp_state *s = ctx;
	struct fg_cp_client *c = find_by_key(s, r->public_key);
	struct fg_cp_resource res;

	if (!c || memchr(r->resource_id, '\0', sizeof(r->resource_id)) == NULL || find_res(c, r->resource_id) >= 0)
		return;
	memset(&res, 0, sizeof(res));
	memcpy(res.id, r->resource_id, sizeof(res.id));
	/* An adopted DNS resource has no pattern (the data plane keeps none): its domains are
	 * refused until the portal authorizes it again. */
	res.type = r->type == FG_CTL_RES_INTERNET ? FG_CP_RES_INTERNET :
		   r->type == FG_CTL_RES_DNS ? FG_CP_RES_DNS : FG_CP_RES_CIDR;
	res.prefix = r->prefix;
	res.expires_at = r->expires_at;
	/* dpclient checked the datagram's size against n_filters: every filter is there. */
	res.n_filters = r->n_filters <= FG_CTL_MAX_FILTERS ? r->n_filters : 0;
	if (res.n_filters && !(res.filters = calloc(res.n_filters, sizeof(*res.filters))))
		return;
	for (uint32_t i = 0; i < res.n_filters; i++) {
		res.filters[i].proto = r->filters[i].proto;
		res.filters[i].lo = r->filters[i].port_lo;
		res.filters[i].hi = r->filters[i].port_hi;
	}
	add_res(c, &res);
	free(res.filters);
}

static void sync_part(void *ctx, uint16_t type, const void *msg)
{
	if (type == FG_CTL_PEER_INFO)
		adopt_peer(ctx, msg);
	else
		adopt_resource(ctx, msg);
}

/* The DUMP is in: say what was adopted, then push what the data plane lacks. */
static void sync_done(void *ctx, int r, const void *msg)
{
	struct fg_cp_state *s = ctx;
	uint32_t adopted = 0, pushed = 0, pushed_res = 0;

	(void)msg;
	if (r < 0) {
		dp_result(s, r, "dump", "of the data plane");
		return;
	}
	for (uint32_t k = 0; k < s->n; k++)
		adopted += s->clients[k].adopted;
	if (adopted)
		fg_info(TAG, "adopted %u client(s) the data plane was already serving", adopted);
	if (s->if4.family || s->if6.family)
		push_iface(s);
	for (uint32_t k = 0; k < s->n; k++) {
		struct fg_cp_client *c = &s->clients[k];

		if (c->adopted) { /* the data plane has them already */
			c->adopted = false;
			continue;
		}
		if (c->said_goodbye)
			continue;
		push_client(s, c, NULL);
		for (uint32_t i = 0; i < c->nres; i++)
			push_resource(s, c, &c->res[i], NULL);
		pushed++;
		pushed_res += c->nres;
	}
	/* A data plane that lost them (a restart) gets its clients back without an operator. */
	if (pushed)
		fg_info(TAG, "data plane synchronised: %u client(s) and %u resource(s) pushed again", pushed,
			pushed_res);
	s->dp_synced = fg_dpc_connected(s->dpc);
	if (s->on_synced)
		s->on_synced(s->synced_arg);
}

int fg_cp_sync(struct fg_cp_state *s)
{
	struct fg_ctl_dump d;
	const struct fg_dpc_cb cb = { .part = sync_part, .done = sync_done, .ctx = s };
	int r;

	if (!fg_dpc_connected(s->dpc))
		return -ENOTCONN;
	memset(&d, 0, sizeof(d));
	r = fg_dpc_send(s->dpc, &d, FG_CTL_DUMP, FG_DPC_DUMP_TIMEOUT_MS, &cb);
	return r < 0 ? dp_result(s, r, "dump", "of the data plane") : 0;
}

void fg_cp_on_event(struct fg_cp_state *s, const struct fg_ctl_event *ev)
{
	struct fg_cp_client *c = find_by_key(s, ev->public_key);
	int i;

	if (!c)
		return;
	if (ev->kind == FG_CTL_EV_PEER_EXPIRED) {
		fg_info(TAG, "client %s: last authorization expired, removed by the data plane", c->id);
		remove_client(s, c);
	} else if (ev->kind == FG_CTL_EV_PEER_GOODBYE) {
		/* As the Rust gateway: the connection goes, the authorizations stay. */
		fg_info(TAG, "client %s said Goodbye: its peer was removed, %u authorization(s) kept", c->id,
			c->nres);
		c->said_goodbye = true;
	} else if (ev->kind == FG_CTL_EV_RESOURCE_EXPIRED &&
		   memchr(ev->resource_id, '\0', sizeof(ev->resource_id)) &&
		   (i = find_res(c, ev->resource_id)) >= 0) {
		del_res(c, (uint32_t)i);
	}
}

int fg_cp_candidates(struct fg_cp_state *s, const char *client_id, const char (*cands)[256], unsigned n,
		     bool invalidate)
{
	struct fg_cp_client *c = fg_cp_find(s, client_id);

	if (!c)
		return -ENOENT;
	for (unsigned i = 0; i < n; i++) {
		uint32_t j;

		for (j = 0; j < c->ncands; j++)
			if (strcmp(c->cands[j], cands[i]) == 0)
				break;
		if (invalidate) {
			if (j < c->ncands && j != --c->ncands)
				memcpy(c->cands[j], c->cands[c->ncands], sizeof(c->cands[0]));
			continue;
		}
		if (j < c->ncands || c->ncands == FG_CP_MAX_CANDIDATES)
			continue;
		if (!c->cands) {
			c->cands = calloc(FG_CP_MAX_CANDIDATES, sizeof(*c->cands));
			if (!c->cands)
				return -ENOMEM;
		}
		snprintf(c->cands[c->ncands++], sizeof(c->cands[0]), "%s", cands[i]);
	}
	return 0;
}

void fg_cp_goodbye_all(struct fg_cp_state *s)
{
	for (uint32_t k = 0; k < s->n && fg_dpc_connected(s->dpc); k++) {
		struct fg_ctl_peer_remove m;

		memset(&m, 0, sizeof(m));
		memcpy(m.public_key, s->clients[k].public_key, 32);
		m.flags = FG_CTL_PEER_GOODBYE;
		push(s, NULL, &m, FG_CTL_PEER_REMOVE, "Goodbye to client", s->clients[k].id, true);
	}
}

/* ---- JSON views ---------------------------------------------------------------------------- */

static const char *proto_name(uint8_t p)
{
	return p == 6 ? "tcp" : p == 17 ? "udp" : p == 1 ? "icmp" : "?";
}

cJSON *fg_cp_json_resources(const struct fg_cp_state *s)
{
	cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "resources");
	char buf[FG_PREFIX_STRLEN];

	for (uint32_t k = 0; k < s->n; k++) {
		const struct fg_cp_client *c = &s->clients[k];

		for (uint32_t i = 0; i < c->nres; i++) {
			const struct fg_cp_resource *r = &c->res[i];
			cJSON *o = cJSON_CreateObject(), *f;

			cJSON_AddStringToObject(o, "client_id", c->id);
			cJSON_AddStringToObject(o, "resource_id", r->id);
			if (r->name[0])
				cJSON_AddStringToObject(o, "name", r->name);
			else
				cJSON_AddNullToObject(o, "name");
			cJSON_AddStringToObject(o, "type", r->type == FG_CP_RES_CIDR ? "cidr" :
						  r->type == FG_CP_RES_DNS ? "dns" : "internet");
			if (r->type == FG_CP_RES_CIDR)
				cJSON_AddStringToObject(o, "address", fg_prefix_format(&r->prefix, buf, sizeof(buf)));
			else if (r->type == FG_CP_RES_DNS)
				cJSON_AddStringToObject(o, "address", r->pattern);
			else
				cJSON_AddNullToObject(o, "address");
			f = cJSON_AddArrayToObject(o, "filters");
			for (uint32_t j = 0; j < r->n_filters; j++) {
				cJSON *fo = cJSON_CreateObject();

				cJSON_AddStringToObject(fo, "protocol", proto_name(r->filters[j].proto));
				if (r->filters[j].proto != 1) {
					cJSON_AddNumberToObject(fo, "port_range_start", r->filters[j].lo);
					cJSON_AddNumberToObject(fo, "port_range_end", r->filters[j].hi);
				}
				cJSON_AddItemToArray(f, fo);
			}
			if (r->expires_at)
				cJSON_AddNumberToObject(o, "expires_at", (double)r->expires_at);
			else
				cJSON_AddNullToObject(o, "expires_at");
			cJSON_AddItemToArray(arr, o);
		}
	}
	return root;
}
