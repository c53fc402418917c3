// SPDX-License-Identifier: MIT
/*
 * The fixed test sessions of a bench build (svc_bench.h): compiled only with the meson
 * option bench_sessions. Everything here runs on the service lcore (at start-up, before the
 * workers, and from its timer scan) and writes the shared tables only through their writer
 * API (peers.h). No key is ever logged.
 */
#include "svc_bench.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <sodium.h>

#include "clock.h"
#include "errbuf.h"
#include "log.h"
#include "service.h"
#include "svc_state.h"

static const char *const TAG = "fastgate.bench";

/* The generator's inner address of client i (gateway.conf's AllowedIPs): 100.64.1.(i+1),
 * counted on past .255 for more than 255 clients. */
static struct fg_prefix client_prefix(uint32_t i)
{
	uint32_t a = htonl(((100u << 24) | (64u << 16) | (1u << 8)) + i + 1);
	struct fg_prefix p = { .ip.family = AF_INET, .len = 32 };

	memcpy(p.ip.addr, &a, 4);
	return p;
}

/* The peer of client i: the configured one with its public key, or a new one with the
 * generator's AllowedIPs. */
static uint32_t client_peer(struct fg_svc *s, const struct fg_benchkeys_client *c, uint32_t i, char *err,
			    size_t errlen)
{
	uint32_t slot = fg_svc_peer_find(s, c->public_key);
	struct fg_prefix p;
	int r;

	if (slot != FG_SLOT_NONE)
		return slot;
	slot = fg_svc_peer_add(s, c->public_key);
	if (slot == FG_SLOT_NONE) {
		fg_errbuf_set(err, errlen, "client %u: no peer slot: %s (MaxPeers?)", i, strerror(errno));
		return FG_SLOT_NONE;
	}
	p = client_prefix(i);
	r = fg_svc_peer_add_allowed(s, slot, &p);
	if (r < 0) {
		fg_errbuf_set(err, errlen, "client %u: AllowedIPs: %s", i, strerror(-r));
		return FG_SLOT_NONE;
	}
	return slot;
}

/* The CURRENT keypair of the client's session, as install_keypair (handshake.c) publishes a
 * finished handshake's: the client was the initiator, so the gateway opens with the
 * client's send key and seals with its receive key. */
static int install_session(struct fg_svc *s, uint32_t slot, const struct fg_benchkeys_client *c, uint32_t i,
			   char *err, size_t errlen)
{
	struct fg_tables *t = &fg_svc_dp(s)->tables;
	struct fg_keypair *kp;
	uint32_t kslot;
	int r;

	if (fg_index_in_use(t, c->receiver_index))
		return fg_errbuf_fail(-EEXIST, err, errlen, "client %u: receiver_index 0x%08x is already in use", i,
				      c->receiver_index);
	kslot = fg_keypair_alloc(t);
	if (kslot == FG_SLOT_NONE)
		return fg_errbuf_fail(-ENOSPC, err, errlen, "client %u: no free keypair slot (MaxPeers?)", i);
	kp = &t->kps[kslot];
	memcpy(kp->recv_key, c->send_key, 32);
	memcpy(kp->send_key, c->recv_key, 32);
	kp->local_index = c->receiver_index;
	kp->remote_index = c->sender_index;
	kp->initiator = 0;
	/* Never aged: the pcap's counters repeat for as long as the generator loops. */
	kp->birth_ns = UINT64_MAX;
	kp->peer = slot;
	kp->peer_gen = t->peers[slot].gen;
	kp->bench = 1;
	r = fg_keypair_install(t, kslot, FG_KP_CURRENT);
	if (r < 0)
		return fg_errbuf_fail(r, err, errlen, "client %u: publishing the keypair: %s", i, strerror(-r));
	return 0;
}

int fg_svc_bench_install(struct fg_svc *s, const struct fg_benchkeys *k, char *err, size_t errlen)
{
	const uint8_t *own = fg_svc_public_key(s);
	uint64_t now = fg_clock_ns(), wall = fg_clock_wall_ns();

	if (!own || sodium_memcmp(own, k->gateway_public, 32) != 0)
		return fg_errbuf_fail(-EKEYREJECTED, err, errlen,
				      "its gateway public key is not the one of [Interface] PrivateKey");
	for (uint32_t i = 0; i < k->n; i++) {
		const struct fg_benchkeys_client *c = &k->clients[i];
		struct fg_endpoint ep = { .ip.family = AF_INET, .port = c->sport };
		uint32_t slot = client_peer(s, c, i, err, errlen), a = htonl(FG_SVC_BENCH_ENDPOINT_IP4);
		int r;

		if (slot == FG_SLOT_NONE)
			return -ENOSPC;
		r = install_session(s, slot, c, i, err, errlen);
		if (r < 0)
			return r;
		memcpy(ep.ip.addr, &a, 4);
		fg_svc_peer_set_endpoint(s, slot, &ep);
		s->peers[slot].last_handshake_wall_ns = wall;
		fg_wg_timers_session_derived(&s->peers[slot].timers, now);
	}
	return 0;
}

int fg_svc_bench_load(struct fg_svc *s, const char *path, char *err, size_t errlen)
{
	struct fg_benchkeys k;
	char msg[256];
	int r = fg_benchkeys_load(path, &k, err, errlen);

	if (r < 0)
		return r;
	r = fg_svc_bench_install(s, &k, msg, sizeof(msg));
	if (r < 0)
		fg_errbuf_set(err, errlen, "%s: %s", path, msg);
	else
		r = (int)k.n;
	fg_benchkeys_free(&k);
	if (r > 0)
		fg_info(TAG, "%d fixed test sessions from %s (bench build: public test keys, replayed counters "
			"accepted lap after lap; never in production)", r, path);
	return r;
}

void fg_svc_bench_tick(struct fg_svc *s, uint64_t now)
{
	const struct fg_tables *t = &s->dp->tables;

	for (uint32_t i = 0; i < s->nlive; i++) {
		uint32_t slot = s->live[i];
		uint32_t kp = t->peers[slot].kp[FG_KP_CURRENT];

		if (kp != FG_SLOT_NONE && t->kps[kp].bench)
			fg_wg_timers_session_derived(&s->peers[slot].timers, now);
	}
}
