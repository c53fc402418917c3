// SPDX-License-Identifier: MIT
/*
 * The service lcore's loop and peer management (see service.h). Single-threaded: every
 * function here runs on the main lcore, which is the only writer of the shared tables.
 */
#include "service.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_random.h>
#include <sodium.h>

#include "clock.h"
#include "keys.h"
#include "log.h"
#include "messages.h"
#include "policy.h"
#include "secmem.h"
#include "svc_bench.h"
#include "svc_state.h"

static const char *const TAG = "fastgate.service";
static unsigned g_svc_seq;

enum {
	SCAN_INTERVAL_MS = 100,
	HANDSHAKE_BUDGET = 32,
	UNDER_LOAD_HOLD_S = 1,
	IDLE_SLEEP_MS = 1,       /* longest idle wait: the workers' rings are not in epoll */
};

static struct rte_hash *make_hash(const char *what, uint32_t entries, uint32_t key_len)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = entries,
		.key_len = key_len,
		.socket_id = SOCKET_ID_ANY,
	};

	snprintf(name, sizeof(name), "fg%s%u", what, g_svc_seq);
	return rte_hash_create(&hp);
}

/* The neighbour table learned (or changed) ip's MAC: refresh the peers whose next hop it is. */
static void neigh_learned(void *ctx, const struct fg_ip *ip)
{
	struct fg_svc *s = ctx;

	for (uint32_t i = 0; i < s->nlive; i++) {
		const struct fg_endpoint *ep = &s->peers[s->live[i]].endpoint;
		struct fg_ip hop;

		if (ep->ip.family == 0)
			continue;
		fg_neigh_next_hop(&s->neigh, &ep->ip, &hop);
		if (fg_ip_equal(&hop, ip))
			fg_svc_peer_update_path(s, s->live[i], NULL);
	}
}

int fg_svc_init(struct fg_svc *s, struct fg_dp *dp)
{
	uint32_t max = dp->tables.max_peers;
	int dd;

	memset(s, 0, sizeof(*s));
	g_svc_seq++;
	s->dp = dp;
	fg_neigh_init(&s->neigh, dp, neigh_learned, s);
	s->peers = calloc(max, sizeof(*s->peers));
	s->live = calloc(max, sizeof(*s->live));
	s->by_pubkey = make_hash("pub", max * 2, 32);
	s->pending = make_hash("hs", max * 2 + 64, sizeof(uint32_t));
	s->rl = fg_wg_ratelimiter_create(FG_WG_RATELIMITER_SOURCES, FG_WG_RATELIMITER_PACKETS_PER_SECOND,
					 FG_WG_RATELIMITER_BURST);
	s->stun_rl = fg_wg_ratelimiter_create(FG_SVC_STUN_SOURCES, FG_SVC_STUN_PER_SECOND, FG_SVC_STUN_BURST);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->started_wall_ns = fg_clock_wall_ns();
	if (!s->peers || !s->live || !s->by_pubkey || !s->pending || !s->rl || !s->stun_rl || s->epfd < 0) {
		fg_svc_fini(s);
		return -ENOMEM;
	}
	/* The static keys, PSKs, handshakes and cookie secrets stay out of a core dump even
	 * where FASTGATE_CORE_DUMPS allows one (the keypairs: fg_tables_init). */
	dd = fg_secmem_dontdump(s->peers, sizeof(*s->peers) * max);
	if (!dd)
		dd = fg_secmem_dontdump(&s->local, sizeof(s->local));
	if (!dd)
		dd = fg_secmem_dontdump(&s->checker, sizeof(s->checker));
	if (dd < 0)
		fg_warn(TAG, "the key stores cannot be excluded from core dumps: %s", strerror(-dd));
	return 0;
}

void fg_svc_fini(struct fg_svc *s)
{
	/* The clients' resources and published policies live outside the EAL's memory. The
	 * workers have stopped: policies go at once, without a grace period (a wait for
	 * workers that no longer report could never end). */
	if (s->peers && s->dp && s->dp->tables.peers)
		for (uint32_t slot = 0; slot < s->dp->tables.max_peers; slot++) {
			fg_policy_free(__atomic_exchange_n(&s->dp->tables.peers[slot].policy, NULL, __ATOMIC_ACQ_REL));
			fg_svc_client_release(s, slot);
		}
	if (s->peers) {
		sodium_memzero(s->peers, sizeof(*s->peers) * s->dp->tables.max_peers);
		free(s->peers);
	}
	free(s->live);
	rte_hash_free(s->by_pubkey);
	rte_hash_free(s->pending);
	if (s->rl)
		fg_wg_ratelimiter_free(s->rl);
	if (s->stun_rl)
		fg_wg_ratelimiter_free(s->stun_rl);
	if (s->dp) {
		fg_neigh_flush(&s->neigh);
		fg_svc_garbage_collect(s, true);
	}
	if (s->epfd > 0)
		close(s->epfd);
	fg_svc_linkwatch_stop(s);
	/* The keypair table's huge pages go back with the EAL's memory, unwiped. */
	if (s->dp)
		fg_tables_wipe_keys(&s->dp->tables);
	fg_wg_cookie_checker_clear(&s->checker);
	sodium_memzero(&s->local, sizeof(s->local));
	memset(s, 0, sizeof(*s));
}

/* ---- device and peers --------------------------------------------------------------- */

int fg_svc_set_private_key(struct fg_svc *s, const uint8_t key[32])
{
	int r;

	/* Setting the key we have is a no-op: sessions and replay state stay as they are. */
	if (fg_key_is_zero(key) ? !s->has_key : s->has_key && sodium_memcmp(key, s->local.private_key, 32) == 0)
		return 0;
	if (fg_key_is_zero(key)) {
		sodium_memzero(&s->local, sizeof(s->local));
		s->has_key = false;
	} else {
		r = fg_noise_local_init(&s->local, key);
		if (r < 0)
			return r;
		s->has_key = true;
		fg_wg_cookie_checker_init(&s->checker, s->local.public_key);
	}
	/* Every peer's precomputed DH and session depend on our key; its replay state (the
	 * newest initiation timestamp) does not, and is kept. */
	for (uint32_t i = 0; i < s->nlive; i++) {
		uint32_t slot = s->live[i];
		struct fg_svc_peer *sp = &s->peers[slot];

		if (s->has_key && sodium_memcmp(sp->public_key, s->local.public_key, 32) == 0) {
			/* A peer with our own key cannot exist (kernel semantics): drop it. */
			fg_svc_peer_remove(s, slot);
			i--;
			continue;
		}
		if (s->has_key)
			fg_noise_peer_rekey(&sp->noise, &s->local);
		fg_noise_handshake_clear(&sp->hs);
		fg_peer_clear_keypairs(&s->dp->tables, slot);
	}
	return 0;
}

bool fg_svc_peer_valid(const struct fg_svc *s, uint32_t slot)
{
	return slot < s->dp->tables.max_peers && s->peers[slot].used;
}

uint32_t fg_svc_peer_gen(const struct fg_svc *s, uint32_t slot)
{
	return s->dp->tables.peers[slot].gen;
}

/* ---- reading (service.h: what the socket servers see instead of the layout) ------------- */

struct fg_dp *fg_svc_dp(const struct fg_svc *s)
{
	return s->dp;
}

uint32_t fg_svc_npeers(const struct fg_svc *s)
{
	return s->nlive;
}

uint32_t fg_svc_peer_at(const struct fg_svc *s, uint32_t i)
{
	return s->live[i];
}

const uint8_t *fg_svc_public_key(const struct fg_svc *s)
{
	return s->has_key ? s->local.public_key : NULL;
}

const uint8_t *fg_svc_private_key(const struct fg_svc *s)
{
	return s->has_key ? s->local.private_key : NULL;
}

const uint8_t *fg_svc_peer_public_key(const struct fg_svc *s, uint32_t slot)
{
	return s->peers[slot].public_key;
}

const uint8_t *fg_svc_peer_psk(const struct fg_svc *s, uint32_t slot)
{
	return s->peers[slot].noise.psk;
}

const struct fg_endpoint *fg_svc_peer_endpoint(const struct fg_svc *s, uint32_t slot)
{
	return &s->peers[slot].endpoint;
}

uint16_t fg_svc_peer_channel(const struct fg_svc *s, uint32_t slot)
{
	return s->peers[slot].channel;
}

uint16_t fg_svc_peer_keepalive(const struct fg_svc *s, uint32_t slot)
{
	return s->peers[slot].persistent_keepalive;
}

uint64_t fg_svc_peer_last_handshake(const struct fg_svc *s, uint32_t slot)
{
	return s->peers[slot].last_handshake_wall_ns;
}

void fg_svc_peer_client(const struct fg_svc *s, uint32_t slot, struct fg_svc_client_info *out)
{
	const struct fg_svc_client *c = &s->peers[slot].client;

	out->policy = c->policy;
	memcpy(out->client_id, c->client_id, sizeof(out->client_id));
	out->ipv4 = c->ipv4;
	out->ipv6 = c->ipv6;
	out->res = c->res;
	out->nres = c->nres;
}

const struct fg_svc_stats *fg_svc_stats(const struct fg_svc *s)
{
	return &s->stats;
}

uint64_t fg_svc_started_wall_ns(const struct fg_svc *s)
{
	return s->started_wall_ns;
}

void fg_svc_count_uapi_request(struct fg_svc *s)
{
	s->stats.uapi_requests++;
}

uint32_t fg_svc_peer_find(struct fg_svc *s, const uint8_t pub[32])
{
	void *v;

	if (rte_hash_lookup_data(s->by_pubkey, pub, &v) < 0)
		return FG_SLOT_NONE;
	return (uint32_t)(uintptr_t)v;
}

uint32_t fg_svc_peer_add(struct fg_svc *s, const uint8_t pub[32])
{
	uint32_t slot = fg_svc_peer_find(s, pub);
	struct fg_svc_peer *sp;

	if (slot != FG_SLOT_NONE)
		return slot;
	if (fg_key_is_zero(pub)) {
		errno = EINVAL;
		return FG_SLOT_NONE;
	}
	slot = fg_peer_alloc(&s->dp->tables);
	if (slot == FG_SLOT_NONE) {
		errno = ENOSPC;
		return FG_SLOT_NONE;
	}
	sp = &s->peers[slot];
	memset(sp, 0, sizeof(*sp));
	sp->used = true;
	memcpy(sp->public_key, pub, 32);
	if (s->has_key)
		fg_noise_peer_init(&sp->noise, &s->local, pub, NULL);
	else
		memcpy(sp->noise.public_key, pub, 32);
	fg_wg_cookie_init(&sp->cookie, pub);
	fg_wg_timers_init(&sp->timers, 0);
	if (rte_hash_add_key_data(s->by_pubkey, pub, (void *)(uintptr_t)slot) < 0) {
		fg_peer_retire(&s->dp->tables, slot);
		sp->used = false;
		errno = ENOSPC;
		return FG_SLOT_NONE;
	}
	s->live[s->nlive++] = slot;
	return slot;
}

void fg_svc_peer_remove(struct fg_svc *s, uint32_t slot)
{
	struct fg_svc_peer *sp;

	if (!fg_svc_peer_valid(s, slot))
		return;
	sp = &s->peers[slot];
	fg_route_del_value(s->dp->allowed, slot);
	fg_svc_client_release(s, slot);
	if (sp->hs_index)
		rte_hash_del_key(s->pending, &sp->hs_index);
	rte_hash_del_key(s->by_pubkey, sp->public_key);
	fg_svc_flows_peer_removed(s, slot);
	fg_svc_retire_slot(s, slot);
	for (uint32_t i = 0; i < s->nlive; i++) {
		if (s->live[i] == slot) {
			s->live[i] = s->live[--s->nlive];
			break;
		}
	}
	sodium_memzero(sp, sizeof(*sp));
}

int fg_svc_peer_set_psk(struct fg_svc *s, uint32_t slot, const uint8_t psk[32])
{
	if (!fg_svc_peer_valid(s, slot))
		return -ENOENT;
	/* Only the PSK changes: the replay/flood state stays, or a PSK update (every portal
	 * authorization carries one) would let a captured initiation be replayed. */
	fg_noise_peer_set_psk(&s->peers[slot].noise, psk);
	return 0;
}

void fg_svc_peer_update_path(struct fg_svc *s, uint32_t slot, const struct rte_ether_addr *mac)
{
	struct fg_svc_peer *sp = &s->peers[slot];
	struct fg_peer *p = &s->dp->tables.peers[slot];
	struct fg_peer_path old, path = { .ep = sp->endpoint, .channel = sp->channel };
	struct fg_ip hop;

	fg_peer_read_path(p, &old);
	if (path.ep.ip.family == 0) {
		fg_peer_set_path(&s->dp->tables, slot, &path);
		return;
	}
	fg_neigh_next_hop(&s->neigh, &path.ep.ip, &hop);
	if (mac) {
		/* The MAC a frame from this endpoint came from is its next hop. */
		path.mac = *mac;
		path.mac_ok = 1;
	} else if (fg_neigh_lookup(&s->neigh, &hop, &path.mac) == 0) {
		path.mac_ok = 1;
	} else if (old.mac_ok && fg_endpoint_equal(&old.ep, &path.ep)) {
		path.mac = old.mac;
		path.mac_ok = 1;
	} else {
		fg_neigh_resolve(&s->neigh, &hop, fg_clock_ns());
	}
	if (memcmp(&old, &path, sizeof(path)) != 0)
		fg_peer_set_path(&s->dp->tables, slot, &path);
}

int fg_svc_peer_set_endpoint(struct fg_svc *s, uint32_t slot, const struct fg_endpoint *ep)
{
	if (!fg_svc_peer_valid(s, slot))
		return -ENOENT;
	s->peers[slot].endpoint = *ep;
	s->peers[slot].channel = 0;
	fg_svc_peer_update_path(s, slot, NULL);
	return 0;
}

int fg_svc_peer_set_keepalive(struct fg_svc *s, uint32_t slot, uint16_t seconds)
{
	struct fg_svc_peer *sp;
	uint64_t now = fg_clock_ns();

	if (!fg_svc_peer_valid(s, slot))
		return -ENOENT;
	sp = &s->peers[slot];
	sp->persistent_keepalive = seconds;
	fg_wg_timers_set_persistent_keepalive(&sp->timers, seconds, now);
	/* wg(8) semantics: turning it on sends a keepalive at once. */
	if (seconds)
		fg_svc_send_keepalive(s, slot);
	return 0;
}

int fg_svc_peer_add_allowed(struct fg_svc *s, uint32_t slot, const struct fg_prefix *p)
{
	if (!fg_svc_peer_valid(s, slot))
		return -ENOENT;
	return fg_route_add(s->dp->allowed, p, slot);
}

int fg_svc_peer_clear_allowed(struct fg_svc *s, uint32_t slot)
{
	int r;

	if (!fg_svc_peer_valid(s, slot))
		return -ENOENT;
	r = fg_route_del_value(s->dp->allowed, slot);
	return r < 0 ? r : 0;
}

/* ---- events and timers ---------------------------------------------------------------- */

static bool event_valid(struct fg_svc *s, const struct fg_event *ev)
{
	return ev->peer < s->dp->tables.max_peers && s->peers[ev->peer].used &&
	       s->dp->tables.peers[ev->peer].gen == ev->gen;
}

static void handle_event(struct fg_svc *s, const struct fg_event *ev, uint64_t now)
{
	struct fg_dp *dp = s->dp;

	if (!event_valid(s, ev)) {
		if (ev->type == FG_EV_WANT_HANDSHAKE && ev->peer < dp->tables.max_peers)
			__atomic_store_n(&dp->tables.peers[ev->peer].event_pending, 0, __ATOMIC_RELEASE);
		return;
	}
	struct fg_svc_peer *sp = &s->peers[ev->peer];
	switch (ev->type) {
	case FG_EV_WANT_HANDSHAKE:
		__atomic_store_n(&dp->tables.peers[ev->peer].event_pending, 0, __ATOMIC_RELEASE);
		fg_svc_send_initiation(s, ev->peer, now, false);
		break;
	case FG_EV_ROAM: {
		const struct fg_keypair *kp = fg_keypair_get(&dp->tables, ev->keypair);

		if (!kp || !kp->live || kp->peer != ev->peer)
			break;
		if (!fg_endpoint_equal(&sp->endpoint, &ev->ep) || sp->channel != ev->channel) {
			char a[FG_ENDPOINT_STRLEN];

			fg_endpoint_format(&ev->ep, a, sizeof(a));
			if (ev->channel)
				fg_info(TAG, "peer %u roamed to relay %s channel 0x%04x", ev->peer, a, ev->channel);
			else
				fg_info(TAG, "peer %u roamed to %s", ev->peer, a);
			s->stats.roams++;
		}
		sp->endpoint = ev->ep;
		sp->channel = ev->channel;
		fg_svc_peer_update_path(s, ev->peer, &ev->mac);
		break;
	}
	case FG_EV_GOODBYE: {
		/* As the Rust gateway: drop the peer at once, say nothing back; the control plane
		 * keeps the client's authorizations until the portal says otherwise. */
		uint8_t pub[32];

		memcpy(pub, sp->public_key, 32);
		fg_info(TAG, "peer %u said Goodbye: removed", ev->peer);
		s->stats.goodbyes_received++;
		fg_svc_client_remove(s, pub, false);
		fg_svc_emit_event(s, FG_CTL_EV_PEER_GOODBYE, pub, NULL);
		break;
	}
	case FG_EV_CONFIRM:
		if (fg_keypair_confirm(&dp->tables, ev->peer, ev->keypair)) {
			fg_wg_timers_handshake_complete(&sp->timers, now);
			sp->last_handshake_wall_ns = fg_clock_wall_ns();
			s->stats.handshakes_completed++;
		}
		break;
	default:
		break;
	}
}

/* Feeds the workers' activity stamps to a peer's timers, oldest first. */
static void feed_activity(struct fg_svc_peer *sp, struct fg_peer *p)
{
	uint64_t v;

	v = __atomic_load_n(&p->last_rx_auth_ns, __ATOMIC_RELAXED);
	if (v != sp->seen_rx_auth) {
		sp->seen_rx_auth = v;
		fg_wg_timers_any_authenticated_packet_received(&sp->timers, v);
		fg_wg_timers_any_authenticated_packet_traversal(&sp->timers, v);
	}
	v = __atomic_load_n(&p->last_rx_data_ns, __ATOMIC_RELAXED);
	if (v != sp->seen_rx_data) {
		sp->seen_rx_data = v;
		fg_wg_timers_data_received(&sp->timers, v);
	}
	v = __atomic_load_n(&p->last_tx_auth_ns, __ATOMIC_RELAXED);
	if (v != sp->seen_tx_auth) {
		sp->seen_tx_auth = v;
		fg_wg_timers_any_authenticated_packet_sent(&sp->timers, v);
		fg_wg_timers_any_authenticated_packet_traversal(&sp->timers, v);
	}
	v = __atomic_load_n(&p->last_tx_data_ns, __ATOMIC_RELAXED);
	if (v != sp->seen_tx_data) {
		sp->seen_tx_data = v;
		fg_wg_timers_data_sent(&sp->timers, v);
	}
}

static void scan_timers(struct fg_svc *s, uint64_t now)
{
	struct fg_dp *dp = s->dp;

	for (uint32_t i = 0; i < s->nlive; i++) {
		uint32_t slot = s->live[i];
		struct fg_svc_peer *sp = &s->peers[slot];
		unsigned act;

		feed_activity(sp, &dp->tables.peers[slot]);
		act = fg_wg_timers_tick(&sp->timers, now);
		if (act & FG_WG_TIMER_ZERO_KEYS) {
			fg_peer_clear_keypairs(&dp->tables, slot);
			fg_noise_handshake_clear(&sp->hs);
		}
		if (act & (FG_WG_TIMER_SEND_INITIATION | FG_WG_TIMER_NEW_HANDSHAKE))
			fg_svc_send_initiation(s, slot, now, (act & FG_WG_TIMER_SEND_INITIATION) != 0);
		if (act & FG_WG_TIMER_SEND_KEEPALIVE)
			fg_svc_send_keepalive(s, slot);
		if (act & FG_WG_TIMER_GIVE_UP) {
			char a[FG_KEY_B64_LEN];

			fg_key_to_base64(a, sp->public_key);
			fg_debug(TAG, "peer %s: handshake did not complete after %d attempts", a,
				 FG_WG_MAX_TIMER_HANDSHAKES + 2);
		}
	}
}

/* Once a second: a wall clock that jumped (NTP, an operator, a resumed VM) moves expiry with
 * it within a second (clock.h). Only the step is news: WireGuard and NAT timers are
 * monotonic and a handshake's timestamp reads the wall clock itself. */
static void wall_clock_resync(void)
{
	int64_t step = fg_clock_wall_resync();

	if (step >= (int64_t)(2 * FG_NS_PER_S) || step <= -(int64_t)(2 * FG_NS_PER_S))
		fg_warn(TAG, "wall clock stepped by %+.1f s: authorization expiry follows it, "
			"timers are monotonic", (double)step / (double)FG_NS_PER_S);
}

unsigned fg_svc_poll(struct fg_svc *s, uint64_t now)
{
	struct fg_dp *dp = s->dp;
	struct rte_mbuf *ms[HANDSHAKE_BUDGET];
	struct fg_event evs[64];
	unsigned n, work = 0;

	n = rte_ring_sc_dequeue_burst_elem(dp->ev_ring, evs, sizeof(evs[0]), 64, NULL);
	for (unsigned i = 0; i < n; i++)
		handle_event(s, &evs[i], now);
	work += n;

	n = rte_ring_sc_dequeue_burst(dp->punt_ring, (void **)ms, HANDSHAKE_BUDGET, NULL);
	for (unsigned i = 0; i < n; i++)
		fg_neigh_handle(&s->neigh, ms[i], now);
	work += n;

	_Static_assert((int)FG_SVC_STUN_BUDGET <= (int)HANDSHAKE_BUDGET, "ms[] holds a STUN budget");
	n = rte_ring_sc_dequeue_burst(dp->stun_ring, (void **)ms, FG_SVC_STUN_BUDGET, NULL);
	for (unsigned i = 0; i < n; i++)
		fg_svc_stun_in(s, ms[i], now);
	work += n;
	work += fg_svc_p2p_poll(s);
	work += fg_svc_flows_poll(s);

	if (rte_ring_count(dp->hs_ring) >= dp->hs_under_load)
		s->under_load_until = now + UNDER_LOAD_HOLD_S * FG_NS_PER_S;
	n = rte_ring_sc_dequeue_burst(dp->hs_ring, (void **)ms, HANDSHAKE_BUDGET, NULL);
	for (unsigned i = 0; i < n; i++)
		fg_svc_handle_handshake(s, ms[i], now, now < s->under_load_until);
	work += n;

	if (now >= s->next_scan_ns) {
		s->next_scan_ns = now + SCAN_INTERVAL_MS * (uint64_t)FG_NS_PER_MS;
		fg_svc_bench_tick(s, now);   /* empty unless built with bench_sessions */
		scan_timers(s, now);
		fg_svc_clients_expire(s, fg_clock_unix_s(now));
		fg_neigh_tick(&s->neigh, now);
		fg_svc_linkwatch_poll(s, now);
		for (unsigned i = 0; i < s->natt; i++)
			if (s->att[i].ops->tick)
				s->att[i].ops->tick(s->att[i].ctx, now);
	}
	if (now >= s->next_gc_ns) {
		s->next_gc_ns = now + FG_NS_PER_S;
		wall_clock_resync();
		fg_wg_ratelimiter_gc(s->rl, now);
		fg_wg_ratelimiter_gc(s->stun_rl, now);
	}
	if (s->nleaving)
		fg_svc_retire_sealed(s, now);
	fg_tables_reclaim(&dp->tables);
	if (s->ngarbage)
		fg_svc_garbage_collect(s, false);
	return work;
}

int fg_svc_attach(struct fg_svc *s, const struct fg_svc_attach_ops *ops, void *ctx, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (s->natt == FG_SVC_MAX_ATTACH)
		return -ENOSPC;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	s->att[s->natt++] = (struct fg_svc_attachment){ .ops = ops, .ctx = ctx, .fd = fd };
	return 0;
}

void fg_svc_detach(struct fg_svc *s, void *ctx)
{
	for (unsigned i = 0; i < s->natt; i++) {
		if (s->att[i].ctx != ctx)
			continue;
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->att[i].fd, NULL);
		s->att[i] = s->att[--s->natt];
		return;
	}
}

void fg_svc_emit_event(struct fg_svc *s, uint32_t kind, const uint8_t pub[32], const char *resource_id)
{
	for (unsigned i = 0; i < s->natt; i++)
		if (s->att[i].ops->event)
			s->att[i].ops->event(s->att[i].ctx, kind, pub, resource_id);
}

int fg_svc_run(struct fg_svc *s)
{
	struct fg_dp *dp = s->dp;
	struct epoll_event evs[4]; /* only wakes the loop: the servers read their own sets */
	uint64_t t0 = rte_rdtsc();

	dp->svc_cnt.start_tsc = t0;
	while (!__atomic_load_n(&dp->quit, __ATOMIC_RELAXED)) {
		unsigned work = fg_svc_poll(s, fg_clock_ns());

		/* Sleeps up to 1 ms when idle: the sockets wake it at once, the workers' rings
		 * within a millisecond. What the socket servers do needs no "busy" flag: their
		 * epoll sets are level-triggered (whatever they leave unread or unsent wakes
		 * this wait again), and what they hand the service (a new peer, a handshake)
		 * is seen by the fg_svc_poll right after them, before any sleep. */
		if (!work) {
			epoll_wait(s->epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])), IDLE_SLEEP_MS);
			/* The wait is idle time: a busy pass starts after it. */
			t0 = rte_rdtsc();
		}
		for (unsigned i = 0; i < s->natt; i++) {
			int n = s->att[i].ops->poll(s->att[i].ctx);

			if (n > 0)
				work += (unsigned)n;
		}
		if (s->dump_requested) {
			s->dump_requested = 0;
			fg_svc_stats_dump(s);
		}
		fg_svc_stats_tick(s, fg_clock_ns());
		t0 = fg_lcore_count_pass(&dp->svc_cnt, t0, work != 0);
		fg_svc_load_tick(s, t0);
	}
	return s->exit_code;
}
