// SPDX-License-Identifier: MIT
/*
 * ARP and IPv6 neighbour discovery for the uplink (see neigh.h). Service lcore only.
 * Anyone on the segment can send us ARP and ND, so what they say is believed only for
 * addresses we asked about or already know, and each source gets a small token bucket:
 * every change of a mapping recomputes the paths of the peers behind it.
 */
#include "neigh.h"

#include <errno.h>
#include <string.h>

#include <rte_arp.h>

#include "clock.h"
#include "log.h"
#include "dp.h"

static const char *const TAG = "fastgate.neigh";

static struct fg_neigh_entry *find(struct fg_neigh *n, const struct fg_ip *ip)
{
	for (unsigned i = 0; i < n->n; i++)
		if (fg_ip_equal(&n->e[i].ip, ip))
			return &n->e[i];
	return NULL;
}

static struct fg_neigh_entry *find_or_add(struct fg_neigh *n, const struct fg_ip *ip, uint64_t now)
{
	struct fg_neigh_entry *e = find(n, ip);

	if (e)
		return e;
	if (n->n == FG_NEIGH_MAX) {
		/* Evict the least recently updated entry. */
		unsigned old = 0;

		for (unsigned i = 1; i < n->n; i++)
			if (n->e[i].updated_ns < n->e[old].updated_ns)
				old = i;
		e = &n->e[old];
	} else {
		e = &n->e[n->n++];
	}
	memset(e, 0, sizeof(*e));
	e->ip = *ip;
	e->updated_ns = now;
	return e;
}

void fg_neigh_init(struct fg_neigh *n, struct fg_dp *dp, void (*learned)(void *ctx, const struct fg_ip *ip),
		   void *ctx)
{
	memset(n, 0, sizeof(*n));
	n->dp = dp;
	n->learned = learned;
	n->ctx = ctx;
}

int fg_neigh_lookup(const struct fg_neigh *n, const struct fg_ip *ip, struct rte_ether_addr *mac)
{
	for (unsigned i = 0; i < n->n; i++) {
		if (n->e[i].resolved && fg_ip_equal(&n->e[i].ip, ip)) {
			*mac = n->e[i].mac;
			return 0;
		}
	}
	return -ENOENT;
}

void fg_neigh_next_hop(const struct fg_neigh *n, const struct fg_ip *dst, struct fg_ip *hop)
{
	const struct fg_dp *dp = n->dp;

	*hop = *dst;
	if (dst->family == AF_INET && dp->gateway4.family == AF_INET && dp->local.ip4) {
		struct fg_prefix uplink = { .len = (uint8_t)dp->uplink_prefix_len };

		uplink.ip.family = AF_INET;
		memcpy(uplink.ip.addr, &dp->local.ip4, 4);
		if (!fg_prefix_contains(&uplink, dst))
			*hop = dp->gateway4;
	}
}

static void send_frame(struct fg_neigh *n, struct rte_mbuf *m)
{
	if (rte_ring_sp_enqueue(n->dp->workers[0].svc_tx, m) != 0) {
		n->dp->svc_cnt.drops[FG_DROP_NIC_TX_FULL]++;
		rte_pktmbuf_free(m);
	}
}

static void release_held(struct fg_neigh *n, const struct fg_ip *ip, const struct rte_ether_addr *mac)
{
	unsigned j = 0;

	for (unsigned i = 0; i < n->nheld; i++) {
		struct fg_neigh_held *h = &n->held[i];
		struct fg_ip hop;

		fg_neigh_next_hop(n, &h->ip, &hop);
		if (fg_ip_equal(&hop, ip)) {
			struct rte_ether_hdr *eh = rte_pktmbuf_mtod(h->m, struct rte_ether_hdr *);

			eh->dst_addr = *mac;
			send_frame(n, h->m);
		} else {
			n->held[j++] = *h;
		}
	}
	n->nheld = j;
}

static bool is_local(const struct fg_neigh *n, const struct fg_ip *ip)
{
	const struct fg_netpkt_local *l = &n->dp->local;

	if (ip->family == AF_INET)
		return l->ip4 && memcmp(ip->addr, &l->ip4, 4) == 0;
	return l->has_ip6 && memcmp(ip->addr, l->ip6, 16) == 0;
}

/*
 * The entry a mapping ip → mac offered by a frame may be written to, or NULL. Only an
 * entry that exists: unresolved because fg_neigh_resolve() sent a request or solicitation
 * that is still outstanding, or resolved and being refreshed. An unsolicited mapping never
 * creates one (unlike RFC 826's merge rule and RFC 4861 §7.2.3, which add the sender of a
 * request): an entry nobody asked for is only a way for another host on the segment to
 * claim an address and make us recompute paths. Our own addresses are never learned, and
 * an advertisement without the Override flag does not replace a different, known MAC
 * (RFC 4861 §7.2.5).
 */
static struct fg_neigh_entry *may_learn(struct fg_neigh *n, const struct fg_ip *ip,
					const struct rte_ether_addr *mac, bool override)
{
	struct fg_neigh_entry *e = find(n, ip);

	if (!e || is_local(n, ip)) {
		n->unsolicited++;
		return NULL;
	}
	if (e->resolved && !override && !rte_is_same_ether_addr(&e->mac, mac))
		return NULL;
	return e;
}

/* Records a mapping and refreshes the paths of the peers whose next hop it is. */
static void learn(struct fg_neigh *n, struct fg_neigh_entry *e, const struct rte_ether_addr *mac, uint64_t now)
{
	const struct fg_ip ip = e->ip; /* resolutions started below may reuse e */
	bool changed = !e->resolved || !rte_is_same_ether_addr(&e->mac, mac);

	e->mac = *mac;
	e->resolved = true;
	e->updated_ns = now;
	if (!changed)
		return;
	char a[FG_ADDR_STRLEN];
	fg_debug(TAG, "%s is at " RTE_ETHER_ADDR_PRT_FMT, fg_ip_format(&ip, a, sizeof(a)),
		 RTE_ETHER_ADDR_BYTES(mac));
	release_held(n, &ip, mac);
	if (n->learned)
		n->learned(n->ctx, &ip);
}

void fg_neigh_resolve(struct fg_neigh *n, const struct fg_ip *ip, uint64_t now)
{
	struct fg_dp *dp = n->dp;
	struct fg_neigh_entry *e = find_or_add(n, ip, now);
	struct rte_mbuf *m;
	uint32_t len;

	if (e->probed_ns && now - e->probed_ns < FG_NS_PER_S)
		return;
	e->probed_ns = now;
	m = rte_pktmbuf_alloc(dp->pool);
	if (!m) {
		dp->svc_cnt.drops[FG_DROP_MBUF_ALLOC]++;
		return;
	}
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	if (ip->family == AF_INET) {
		struct rte_ether_addr bcast, zero;
		uint32_t tip;

		memset(&bcast, 0xff, sizeof(bcast));
		memset(&zero, 0, sizeof(zero));
		memcpy(&tip, ip->addr, 4);
		len = fg_netpkt_arp_build(frame, RTE_ARP_OP_REQUEST, &bcast, &dp->local.mac, dp->local.ip4, &zero, tip);
	} else if (dp->local.has_ip6) {
		len = fg_netpkt_nd_build_ns(frame, &dp->local, ip->addr);
	} else {
		rte_pktmbuf_free(m);
		return;
	}
	m->data_len = m->pkt_len = len;
	n->arp_requests_sent++;
	send_frame(n, m);
}

void fg_neigh_hold(struct fg_neigh *n, const struct fg_ip *ip, struct rte_mbuf *m, uint64_t now)
{
	struct fg_ip hop;

	fg_neigh_next_hop(n, ip, &hop);
	if (n->nheld == FG_NEIGH_HELD_MAX) {
		n->held_dropped++;
		n->dp->svc_cnt.drops[FG_DROP_NEIGH_UNRESOLVED]++;
		rte_pktmbuf_free(m);
	} else {
		n->held[n->nheld++] = (struct fg_neigh_held){ .m = m, .ip = *ip, .since_ns = now };
	}
	fg_neigh_resolve(n, &hop, now);
}

void fg_neigh_tick(struct fg_neigh *n, uint64_t now)
{
	unsigned j = 0;

	for (unsigned i = 0; i < n->nheld; i++) {
		if (now - n->held[i].since_ns > FG_NS_PER_S) {
			n->held_dropped++;
			n->dp->svc_cnt.drops[FG_DROP_NEIGH_UNRESOLVED]++;
			rte_pktmbuf_free(n->held[i].m);
		} else {
			n->held[j++] = n->held[i];
		}
	}
	n->nheld = j;
}

void fg_neigh_flush(struct fg_neigh *n)
{
	for (unsigned i = 0; i < n->nheld; i++)
		rte_pktmbuf_free(n->held[i].m);
	n->nheld = 0;
}

static void handle_arp(struct fg_neigh *n, struct rte_mbuf *m, uint64_t now)
{
	struct fg_dp *dp = n->dp;
	struct fg_neigh_entry *e;
	struct fg_arp arp;
	struct fg_ip sender = { .family = AF_INET };

	if (fg_netpkt_arp_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &arp) < 0) {
		dp->svc_cnt.drops[FG_DROP_ETH_SHORT]++;
		rte_pktmbuf_free(m);
		return;
	}
	memcpy(sender.addr, &arp.sip, 4);
	/* RFC 826's merge rule without its "add the sender of a request for us": a request
	 * is answered below, but its sender is recorded only if already known. */
	if (arp.sip && (e = may_learn(n, &sender, &arp.sha, true)))
		learn(n, e, &arp.sha, now);
	if (arp.op == RTE_ARP_OP_REQUEST && arp.tip == dp->local.ip4 && dp->local.ip4) {
		uint32_t len = fg_netpkt_arp_build(rte_pktmbuf_mtod(m, uint8_t *), RTE_ARP_OP_REPLY, &arp.sha,
						   &dp->local.mac, dp->local.ip4, &arp.sha, arp.sip);

		m->data_len = m->pkt_len = len;
		n->arp_replies_sent++;
		send_frame(n, m);
		return;
	}
	rte_pktmbuf_free(m);
}

static void handle_nd(struct fg_neigh *n, struct rte_mbuf *m, uint64_t now)
{
	struct fg_dp *dp = n->dp;
	struct fg_neigh_entry *e;
	struct fg_nd nd;
	struct fg_ip who = { .family = AF_INET6 };

	if (fg_netpkt_nd_parse(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m), &nd) < 0) {
		dp->svc_cnt.drops[FG_DROP_ICMP_UNHANDLED]++;
		rte_pktmbuf_free(m);
		return;
	}
	if (nd.type == FG_ND_NEIGH_SOLICIT) {
		/* Its source link-layer option refreshes a known sender, never adds one. */
		memcpy(who.addr, nd.src_ip, 16);
		if (nd.has_lladdr && (e = may_learn(n, &who, &nd.lladdr, true)))
			learn(n, e, &nd.lladdr, now);
		if (dp->local.has_ip6 && memcmp(nd.target, dp->local.ip6, 16) == 0 && nd.has_lladdr) {
			uint32_t len = fg_netpkt_nd_build_na(rte_pktmbuf_mtod(m, uint8_t *), &dp->local, nd.src_ip,
							     &nd.lladdr);

			m->data_len = m->pkt_len = len;
			send_frame(n, m);
			return;
		}
	} else if (nd.type == FG_ND_NEIGH_ADVERT && nd.has_lladdr) {
		memcpy(who.addr, nd.target, 16);
		if ((e = may_learn(n, &who, &nd.lladdr, nd.flags & FG_ND_FLAG_OVERRIDE)))
			learn(n, e, &nd.lladdr, now);
	}
	rte_pktmbuf_free(m);
}

/*
 * Whether one more frame from src may be handled now. A source not seen for long enough
 * for its bucket to be full again may be forgotten; when every slot holds a busier one,
 * new sources are refused (as the WireGuard rate limiter does when its table is full), so
 * that changing the source MAC does not buy a fresh bucket.
 */
static bool punt_allowed(struct fg_neigh *n, const struct rte_ether_addr *src, uint64_t now)
{
	const uint64_t cost = FG_NS_PER_S / FG_NEIGH_RL_PER_SECOND, full = cost * FG_NEIGH_RL_BURST;
	struct fg_neigh_bucket *b = NULL, *idle = NULL;

	for (unsigned i = 0; i < n->nrl && !b; i++) {
		if (rte_is_same_ether_addr(&n->rl[i].src, src))
			b = &n->rl[i];
		else if (!idle && now >= n->rl[i].last_ns && now - n->rl[i].last_ns >= full)
			idle = &n->rl[i];
	}
	if (!b) {
		if (n->nrl < FG_NEIGH_RL_SOURCES)
			b = &n->rl[n->nrl++];
		else if (idle)
			b = idle;
		else
			return false;
		b->src = *src;
		b->credit_ns = full;
		b->last_ns = now;
	}
	if (now > b->last_ns) {
		uint64_t earned = now - b->last_ns;

		b->credit_ns = earned >= full - b->credit_ns ? full : b->credit_ns + earned;
		b->last_ns = now;
	}
	if (b->credit_ns < cost)
		return false;
	b->credit_ns -= cost;
	return true;
}

void fg_neigh_handle(struct fg_neigh *n, struct rte_mbuf *m, uint64_t now)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	if (rte_pktmbuf_data_len(m) < sizeof(*eh)) {
		n->dp->svc_cnt.drops[FG_DROP_ETH_SHORT]++;
		rte_pktmbuf_free(m);
		return;
	}
	if (!punt_allowed(n, &eh->src_addr, now)) {
		n->dp->svc_cnt.drops[FG_DROP_NEIGH_RATELIMIT]++;
		rte_pktmbuf_free(m);
		return;
	}
	if (eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
		handle_arp(n, m, now);
	else
		handle_nd(n, m, now);
}
