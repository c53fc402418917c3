// SPDX-License-Identifier: MIT
/*
 * Portal clients on the service lcore: peers provisioned over the control socket, their
 * authorized resources, and the compiled policy each one publishes to the workers. A
 * policy is immutable: every change builds a new one, publishes it with a release store
 * and retires the old one to a garbage list that frees it after an RCU grace period. The
 * service lcore also enforces expiry (~10 Hz scan) and says Goodbye (the p2p control
 * packet, reference §4.2) before removing a client whose last resource went.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "conntrack.h"
#include "icmpgen.h"
#include "keys.h"
#include "log.h"
#include "policy.h"
#include "service.h"
#include "svc_state.h"

static const char *const TAG = "fastgate.clients";

void fg_svc_garbage_collect(struct fg_svc *s, bool wait)
{
	struct rte_rcu_qsbr *q = s->dp->tables.qsbr;
	unsigned j = 0;

	for (unsigned i = 0; i < s->ngarbage; i++) {
		if (wait || rte_rcu_qsbr_check(q, s->garbage[i].token, false) == 1)
			fg_policy_free(s->garbage[i].p);
		else
			s->garbage[j++] = s->garbage[i];
	}
	s->ngarbage = j;
}

static void retire_policy(struct fg_svc *s, struct fg_policy *old)
{
	struct rte_rcu_qsbr *q = s->dp->tables.qsbr;

	if (!old)
		return;
	if (s->ngarbage == FG_SVC_GARBAGE_MAX) {
		/* Rare (a burst of changes): wait for the workers once and free everything. */
		rte_rcu_qsbr_synchronize(q, RTE_QSBR_THRID_INVALID);
		fg_svc_garbage_collect(s, true);
	}
	s->garbage[s->ngarbage].p = old;
	s->garbage[s->ngarbage].token = rte_rcu_qsbr_start(q);
	s->ngarbage++;
}

/* Builds and publishes the policy of a client from its resources and proxy IPs. */
int fg_svc_client_publish(struct fg_svc *s, uint32_t slot)
{
	struct fg_svc_client *c = &s->peers[slot].client;
	struct fg_peer *p = &s->dp->tables.peers[slot];
	struct fg_policy *np = NULL, *old;

	if (c->policy) {
		np = fg_svc_xlat_policy(s, c);
		if (!np)
			return -errno;
		c->next_expiry = fg_policy_next_expiry(np);
	}
	old = __atomic_exchange_n(&p->policy, np, __ATOMIC_ACQ_REL);
	retire_policy(s, old);
	return 0;
}

void fg_svc_client_release(struct fg_svc *s, uint32_t slot)
{
	struct fg_svc_client *c = &s->peers[slot].client;
	struct fg_policy *old = __atomic_exchange_n(&s->dp->tables.peers[slot].policy, NULL, __ATOMIC_ACQ_REL);

	retire_policy(s, old);
	for (uint32_t i = 0; i < c->nres; i++)
		free(c->res[i].filters);
	free(c->res);
	fg_svc_xlat_free(c);
	memset(c, 0, sizeof(*c));
}

static int set_allowed(struct fg_svc *s, uint32_t slot, const struct fg_ip *ip4, const struct fg_ip *ip6)
{
	int r = fg_svc_peer_clear_allowed(s, slot);

	if (r == 0 && ip4->family == AF_INET) {
		struct fg_prefix p = { .ip = *ip4, .len = 32 };

		r = fg_svc_peer_add_allowed(s, slot, &p);
	}
	if (r == 0 && ip6->family == AF_INET6) {
		struct fg_prefix p = { .ip = *ip6, .len = 128 };

		r = fg_svc_peer_add_allowed(s, slot, &p);
	}
	return r;
}

int fg_svc_client_upsert(struct fg_svc *s, const struct fg_ctl_peer_upsert *m)
{
	uint32_t slot = fg_svc_peer_find(s, m->public_key);
	bool created = false;
	int r;

	if ((m->ipv4.family && m->ipv4.family != AF_INET) || (m->ipv6.family && m->ipv6.family != AF_INET6) ||
	    memchr(m->client_id, '\0', sizeof(m->client_id)) == NULL)
		return -EINVAL;
	if (s->has_key && sodium_memcmp(m->public_key, s->local.public_key, 32) == 0)
		return -EINVAL;
	if (slot == FG_SLOT_NONE) {
		slot = fg_svc_peer_add(s, m->public_key);
		if (slot == FG_SLOT_NONE)
			return -errno;
		created = true;
	}
	struct fg_svc_client *c = &s->peers[slot].client;
	if (m->flags & FG_CTL_PEER_HAS_PSK)
		fg_svc_peer_set_psk(s, slot, m->psk);
	/* New tunnel IPs replace the old ones (reference §3.2). */
	if (created || !fg_ip_equal(&c->ipv4, &m->ipv4) || !fg_ip_equal(&c->ipv6, &m->ipv6)) {
		r = set_allowed(s, slot, &m->ipv4, &m->ipv6);
		if (r < 0) {
			if (created)
				fg_svc_peer_remove(s, slot);
			return r;
		}
	}
	/* New tunnel IPs are a new client session: its proxy IPs start again. */
	if (!created && (!fg_ip_equal(&c->ipv4, &m->ipv4) || !fg_ip_equal(&c->ipv6, &m->ipv6))) {
		c->nxlat = 0;
		fg_conntrack_reset_peer(&s->dp->ct, slot);
	}
	memcpy(c->client_id, m->client_id, sizeof(c->client_id));
	c->ipv4 = m->ipv4;
	c->ipv6 = m->ipv6;
	c->policy = (m->flags & FG_CTL_PEER_POLICY) != 0;
	r = fg_svc_client_publish(s, slot);
	if (created) {
		char k[FG_KEY_B64_LEN];

		fg_key_to_base64(k, m->public_key);
		fg_info(TAG, "client %s (peer %s) provisioned", c->client_id, k);
	}
	return r;
}

int fg_svc_send_goodbye(struct fg_svc *s, uint32_t slot, uint64_t now)
{
	struct fg_dp *dp = s->dp;
	const struct fg_keypair *kp;
	uint8_t pkt[64];
	uint32_t n;
	int r;

	if (!fg_svc_peer_valid(s, slot))
		return -ENOENT;
	/* Without a session a Goodbye could only make the worker ask for a handshake with a
	 * peer that is about to go. */
	kp = fg_keypair_get(&dp->tables, fg_peer_kp(&dp->tables.peers[slot], FG_KP_CURRENT));
	if (!kp || !kp->live || fg_wg_timers_keypair_expired(kp->birth_ns, 0, now))
		return -ENOKEY;
	n = fg_icmpgen_p2p_control(pkt, sizeof(pkt), FG_P2P_GOODBYE, NULL, 0);
	if (n == 0)
		return -EINVAL;
	r = fg_svc_send_data(s, slot, pkt, (uint16_t)n);
	if (r == 0) {
		/* The peer's removal, right after, waits for worker 0 to seal it. */
		s->peers[slot].seal_ticket = s->seals_posted;
		s->stats.goodbyes_sent++;
	}
	return r;
}

int fg_svc_client_remove(struct fg_svc *s, const uint8_t pub[32], bool goodbye)
{
	uint32_t slot = fg_svc_peer_find(s, pub);

	if (slot == FG_SLOT_NONE)
		return -ENOENT;
	if (goodbye)
		fg_svc_send_goodbye(s, slot, fg_clock_ns());
	fg_svc_peer_remove(s, slot);
	return 0;
}

static int find_res(const struct fg_svc_client *c, const char *id)
{
	for (uint32_t i = 0; i < c->nres; i++)
		if (strncmp(c->res[i].id, id, sizeof(c->res[i].id)) == 0)
			return (int)i;
	return -1;
}

int fg_svc_resource_upsert(struct fg_svc *s, const struct fg_ctl_resource_upsert *m)
{
	uint32_t slot = fg_svc_peer_find(s, m->public_key);
	struct fg_policy_resource r;

	if (slot == FG_SLOT_NONE)
		return -ENOENT;
	if (memchr(m->resource_id, '\0', sizeof(m->resource_id)) == NULL || m->resource_id[0] == '\0' ||
	    m->n_filters > FG_CTL_MAX_FILTERS ||
	    (m->type != FG_CTL_RES_CIDR && m->type != FG_CTL_RES_INTERNET && m->type != FG_CTL_RES_DNS))
		return -EINVAL;
	if (m->type == FG_CTL_RES_CIDR &&
	    !((m->prefix.ip.family == AF_INET && m->prefix.len <= 32) ||
	      (m->prefix.ip.family == AF_INET6 && m->prefix.len <= 128)))
		return -EINVAL;
	for (uint32_t i = 0; i < m->n_filters; i++) {
		const struct fg_ctl_filter *f = &m->filters[i];

		if ((f->proto != FG_CTL_FILTER_TCP && f->proto != FG_CTL_FILTER_UDP && f->proto != FG_CTL_FILTER_ICMP) ||
		    f->port_lo > f->port_hi)
			return -EINVAL;
	}
	memset(&r, 0, sizeof(r));
	memcpy(r.id, m->resource_id, sizeof(r.id) < sizeof(m->resource_id) ? sizeof(r.id) : sizeof(m->resource_id));
	r.id[sizeof(r.id) - 1] = '\0';
	r.type = m->type;
	r.prefix = m->prefix;
	r.expires_at = m->expires_at;
	r.n_filters = m->n_filters;
	if (m->n_filters) {
		/* Any number of filters: a heap array per resource, owned by c->res[]. */
		r.filters = malloc(sizeof(m->filters[0]) * m->n_filters);
		if (!r.filters)
			return -ENOMEM;
		memcpy(r.filters, m->filters, sizeof(m->filters[0]) * m->n_filters);
	}

	struct fg_svc_client *c = &s->peers[slot].client;
	int i = find_res(c, r.id);
	if (i >= 0) {
		free(c->res[i].filters);
		c->res[i] = r;
	} else {
		if (c->nres == c->capres) {
			uint32_t cap = c->capres ? c->capres * 2 : 8;
			struct fg_policy_resource *n = realloc(c->res, sizeof(*n) * cap);

			if (!n) {
				free(r.filters);
				return -ENOMEM;
			}
			c->res = n;
			c->capres = cap;
		}
		c->res[c->nres++] = r;
	}
	return fg_svc_client_publish(s, slot);
}

/* Drops resource i; if it was the last, says Goodbye and removes the peer. */
static bool drop_res(struct fg_svc *s, uint32_t slot, uint32_t i)
{
	struct fg_svc_client *c = &s->peers[slot].client;

	free(c->res[i].filters);
	c->res[i] = c->res[--c->nres];
	if (c->nres == 0 && c->policy) {
		fg_svc_send_goodbye(s, slot, fg_clock_ns());
		fg_svc_peer_remove(s, slot);
		return true;
	}
	fg_svc_client_publish(s, slot);
	return false;
}

int fg_svc_resource_remove(struct fg_svc *s, const uint8_t pub[32], const char *id, bool *peer_removed)
{
	uint32_t slot = fg_svc_peer_find(s, pub);
	int i;

	*peer_removed = false;
	if (slot == FG_SLOT_NONE)
		return -ENOENT;
	i = find_res(&s->peers[slot].client, id);
	if (i < 0)
		return -ENOENT;
	*peer_removed = drop_res(s, slot, (uint32_t)i);
	return 0;
}

void fg_svc_clients_expire(struct fg_svc *s, uint64_t now_unix)
{
	for (uint32_t k = 0; k < s->nlive; k++) {
		uint32_t slot = s->live[k];
		struct fg_svc_client *c = &s->peers[slot].client;

		if (!c->policy || !c->next_expiry || c->next_expiry > now_unix)
			continue;
		uint8_t pub[32];
		memcpy(pub, s->peers[slot].public_key, 32);
		for (uint32_t i = 0; i < c->nres;) {
			if (c->res[i].expires_at && c->res[i].expires_at <= now_unix) {
				char id[FG_CTL_ID_LEN];
				bool gone;

				memcpy(id, c->res[i].id, sizeof(id));
				gone = drop_res(s, slot, i);
				fg_info(TAG, "authorization for resource %s expired%s", id, gone ? "; client removed" : "");
				fg_svc_emit_event(s, gone ? FG_CTL_EV_PEER_EXPIRED : FG_CTL_EV_RESOURCE_EXPIRED, pub, id);
				if (gone) {
					k--; /* the live list shrank: this index now holds another peer */
					break;
				}
			} else {
				i++;
			}
		}
	}
}

int fg_svc_iface_set(struct fg_svc *s, const struct fg_ip *ipv4, const struct fg_ip *ipv6)
{
	struct fg_tun *tun = &s->dp->tun;
	int r = 0;

	if (fg_ip_equal(&s->gw4, ipv4) && fg_ip_equal(&s->gw6, ipv6))
		return 0; /* a repeated init: nothing to do, nothing cut */
	fg_tun_flush_addresses(tun);
	if (ipv4->family == AF_INET) {
		struct fg_prefix p = { .ip = *ipv4, .len = 32 };

		r = fg_tun_add_address(tun, &p);
		if (r < 0)
			return r;
	}
	if (ipv6->family == AF_INET6) {
		struct fg_prefix p = { .ip = *ipv6, .len = 128 };

		if (fg_tun_add_address(tun, &p) < 0)
			fg_warn(TAG, "TUN %s: no IPv6 address (IPv6 disabled?): running IPv4 only", tun->name);
	}
	/* Removing the addresses took the tunnel routes with them. */
	for (size_t i = 0; i < s->dp->n_host_routes; i++)
		fg_tun_add_route(tun, &s->dp->host_routes[i]);
	s->gw4 = *ipv4;
	s->gw6 = *ipv6;
	for (uint32_t k = 0; k < s->nlive; k++)
		if (s->peers[s->live[k]].client.policy)
			fg_svc_client_publish(s, s->live[k]);
	return 0;
}
