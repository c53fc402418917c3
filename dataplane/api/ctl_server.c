// SPDX-License-Identifier: MIT
/*
 * The control socket server (see ctl_server.h and common/ctlproto.h). Service lcore only:
 * requests change the tables through the service's functions, which are the single writer.
 * Every datagram is checked for version, type and exact size before it is read; anything
 * else is answered with -EPROTO, and the connection survives. Punted STUN goes to every
 * client as PACKET_IN, but only while its output queue is short: a control plane that does
 * not read loses packets (counted), not its connection. AssignedIps from clients go out as
 * P2P_IN under the same bound.
 */
#include "ctl_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <sodium.h>

#include "clock.h"
#include "conntrack.h"
#include "ctlproto.h"
#include "log.h"
#include "policy.h"
#include "service.h"
#include "sockserver.h"
#include "svc_heap.h"

static const char *const TAG = "fastgate.ctl";

enum {
	NAT_DUMP_MAX = 65536,          /* NAT_INFO messages one NAT_DUMP answers with */
	MAX_CLIENTS = 8,
	MAX_MSG = FG_CTL_MAX_MSG,
};
_Static_assert((int)MAX_CLIENTS <= (int)FG_SOCKSERVER_MAX_CONNS, "the skeleton's table holds every connection");

/*
 * Output waiting for a slow reader, bounded in bytes per client. Above the soft bound the
 * server reads no more requests from that client (it must read its replies first: its
 * sends then block in the kernel, not in our memory). A single request may still queue
 * past it (a dump of every peer); past the hard bound the client is closed: it neither
 * reads nor stops asking, and the control plane resynchronises when it reconnects.
 */
#define OUT_SOFT_BYTES ((size_t)1 << 20)
#define OUT_HARD_BYTES ((size_t)64 << 20)
/* A PACKET_IN is queued only while less than this waits for the client: datagrams are
 * best effort (STUN retransmits), and a flood must not fill the queue up to the hard bound. */
#define PACKET_IN_QUEUE_BYTES ((size_t)256 << 10)

struct qmsg {
	uint32_t len;
	uint8_t data[];
};

struct client {
	unsigned idx;           /* the connection's index in the skeleton */
	int fd;                 /* the skeleton's, valid from accepted to closing */
	struct qmsg **q;        /* output not yet sent */
	size_t qhead, qlen, qcap;
	size_t qbytes;          /* bytes of q[qhead..qlen) */
	bool overflow;          /* over OUT_HARD_BYTES: to be closed */
};

struct fg_ctl_server {
	struct fg_svc *svc;
	struct fg_sockserver *ss;
	struct client clients[MAX_CLIENTS];
	uint64_t requests, errors;
	uint64_t overflows;     /* clients closed for not reading their output */
	uint64_t packets_in;    /* PACKET_IN queued (per client) */
	uint64_t packets_in_backlogged; /* PACKET_IN not queued: the client's queue was long */
	uint64_t p2p_in;        /* P2P_IN queued (per client) */
	uint64_t p2p_in_backlogged; /* P2P_IN not queued: the client's queue was long */
	uint64_t flows;         /* FLOW queued (per client) */
	uint64_t flows_backlogged; /* FLOW not queued: the client's queue was long */
};

/* ---- output ------------------------------------------------------------------------------ */

/* Requests are read only while the client's output is under the soft bound. */
static void set_events(struct fg_ctl_server *c, struct client *cl, bool out)
{
	fg_sockserver_want(c->ss, cl->idx, (cl->qbytes < OUT_SOFT_BYTES ? EPOLLIN : 0) | (out ? EPOLLOUT : 0));
}

/* The skeleton closes the fd and calls conn_closing, which frees the queue. */
static void client_close(struct fg_ctl_server *c, struct client *cl)
{
	fg_sockserver_drop(c->ss, cl->idx);
}

/* Sends queued messages; false if the client had to be closed. */
static bool flush(struct fg_ctl_server *c, struct client *cl)
{
	while (cl->qhead < cl->qlen) {
		struct qmsg *m = cl->q[cl->qhead];
		ssize_t w = send(cl->fd, m->data, m->len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EAGAIN || errno == ENOBUFS) {
				set_events(c, cl, true);
				return true;
			}
			if (errno == EINTR)
				continue;
			client_close(c, cl);
			return false;
		}
		cl->qbytes -= m->len;
		free(m);
		cl->qhead++;
	}
	cl->qhead = cl->qlen = 0;
	set_events(c, cl, false);
	return true;
}

static void enqueue(struct fg_ctl_server *c, struct client *cl, const void *msg, uint32_t len)
{
	if (cl->overflow)
		return;
	if (cl->qbytes + len > OUT_HARD_BYTES) {
		cl->overflow = true;
		c->overflows++;
		return;
	}
	if (cl->qlen == cl->qcap) {
		if (cl->qhead) {
			memmove(cl->q, cl->q + cl->qhead, (cl->qlen - cl->qhead) * sizeof(*cl->q));
			cl->qlen -= cl->qhead;
			cl->qhead = 0;
		}
		if (cl->qlen == cl->qcap) {
			size_t cap = cl->qcap ? cl->qcap * 2 : 64;
			struct qmsg **n = realloc(cl->q, cap * sizeof(*n));

			if (!n)
				return;
			cl->q = n;
			cl->qcap = cap;
		}
	}
	struct qmsg *m = malloc(sizeof(*m) + len);
	if (!m)
		return;
	m->len = len;
	memcpy(m->data, msg, len);
	cl->q[cl->qlen++] = m;
	cl->qbytes += len;
}

/* Closes a client that overflowed; true if it did. */
static bool reap_overflow(struct fg_ctl_server *c, struct client *cl)
{
	if (!cl->overflow)
		return false;
	fg_warn(TAG, "control client does not read its replies (over %zu MiB queued): closing it",
		OUT_HARD_BYTES >> 20);
	client_close(c, cl);
	return true;
}

static void init_hdr(struct fg_ctl_hdr *h, uint16_t type, uint32_t seq)
{
	h->version = FG_CTL_VERSION;
	h->type = type;
	h->seq = seq;
}

static void reply(struct fg_ctl_server *c, struct client *cl, uint32_t seq, int status, uint32_t count,
		  const char *why)
{
	struct fg_ctl_reply r;

	memset(&r, 0, sizeof(r));
	init_hdr(&r.h, FG_CTL_REPLY, seq);
	r.status = status;
	r.count = count;
	if (why)
		snprintf(r.message, sizeof(r.message), "%s", why);
	if (status < 0)
		c->errors++;
	enqueue(c, cl, &r, sizeof(r));
}

/* ---- requests ----------------------------------------------------------------------------- */

static void do_hello(struct fg_ctl_server *c, struct client *cl, uint32_t seq)
{
	const struct fg_svc *s = c->svc;
	const struct fg_dp *dp = fg_svc_dp(s);
	const uint8_t *pub = fg_svc_public_key(s);
	struct fg_ctl_hello_reply r;

	memset(&r, 0, sizeof(r));
	init_hdr(&r.h, FG_CTL_HELLO_REPLY, seq);
	snprintf(r.version, sizeof(r.version), "%s", FG_VERSION);
	if (pub)
		memcpy(r.public_key, pub, 32);
	snprintf(r.tun_name, sizeof(r.tun_name), "%s", dp->tun.name);
	r.listen_port = __atomic_load_n(&dp->local.listen_port, __ATOMIC_RELAXED);
	if (dp->local.ip4) {
		r.uplink4.family = AF_INET;
		memcpy(r.uplink4.addr, &dp->local.ip4, 4);
	}
	if (dp->local.has_ip6) {
		r.uplink6.family = AF_INET6;
		memcpy(r.uplink6.addr, dp->local.ip6, 16);
	}
	r.started_unix_ns = fg_svc_started_wall_ns(s);
	r.peers = fg_svc_npeers(s);
	r.workers = dp->nworkers;
	enqueue(c, cl, &r, sizeof(r));
}

static void do_dump(struct fg_ctl_server *c, struct client *cl, uint32_t seq)
{
	const struct fg_svc *s = c->svc;
	struct fg_dp *dp = fg_svc_dp(s);
	uint32_t count = 0;

	for (uint32_t k = 0; k < fg_svc_npeers(s); k++) {
		uint32_t slot = fg_svc_peer_at(s, k);
		const uint8_t *pub = fg_svc_peer_public_key(s, slot);
		struct fg_peer *p = &dp->tables.peers[slot];
		struct fg_svc_client_info ci;
		struct fg_ctl_peer_info pi;

		fg_svc_peer_client(s, slot, &ci);
		memset(&pi, 0, sizeof(pi));
		init_hdr(&pi.h, FG_CTL_PEER_INFO, seq);
		memcpy(pi.client_id, ci.client_id, sizeof(pi.client_id));
		memcpy(pi.public_key, pub, 32);
		pi.ipv4 = ci.ipv4;
		pi.ipv6 = ci.ipv6;
		pi.endpoint = *fg_svc_peer_endpoint(s, slot);
		pi.channel = fg_svc_peer_channel(s, slot);
		pi.flags = ci.policy ? FG_CTL_PEER_POLICY : 0;
		pi.n_resources = ci.nres;
		pi.last_handshake_unix_ns = fg_svc_peer_last_handshake(s, slot);
		pi.rx_bytes = __atomic_load_n(&p->rx_bytes, __ATOMIC_RELAXED);
		pi.tx_bytes = __atomic_load_n(&p->tx_bytes, __ATOMIC_RELAXED);
		enqueue(c, cl, &pi, sizeof(pi));
		count++;
		for (uint32_t i = 0; i < ci.nres; i++) {
			const struct fg_policy_resource *r = &ci.res[i];
			/* Every filter: a restarted control plane adopts the resource from this. */
			uint32_t len = (uint32_t)(sizeof(struct fg_ctl_resource_info) +
						  r->n_filters * sizeof(struct fg_ctl_filter));
			struct fg_ctl_resource_info *ri = calloc(1, len);

			if (!ri) {
				reply(c, cl, seq, -ENOMEM, count, "out of memory");
				return;
			}
			init_hdr(&ri->h, FG_CTL_RESOURCE_INFO, seq);
			memcpy(ri->public_key, pub, 32);
			memcpy(ri->resource_id, r->id, sizeof(ri->resource_id));
			ri->type = r->type;
			ri->n_filters = r->n_filters;
			ri->prefix = r->prefix;
			ri->expires_at = r->expires_at;
			if (r->n_filters)
				memcpy(ri->filters, r->filters, r->n_filters * sizeof(struct fg_ctl_filter));
			enqueue(c, cl, ri, len);
			free(ri);
			count++;
		}
	}
	reply(c, cl, seq, 0, count, NULL);
}

/* An lcore's counters (lcore: 0 the service, 1 + w worker w) and its load (service.h). */
static void put_lcore(struct fg_ctl_lcore_stats *o, const struct fg_svc *s, unsigned lcore,
		      const struct fg_lcore_counters *l, uint64_t now_tsc)
{
	struct fg_svc_load_figures since, win;

	fg_svc_load_read(s, lcore, now_tsc, &since, &win);
	o->polls = since.polls;
	o->busy_polls = since.busy_polls;
	o->busy_cycles = since.busy_cycles;
	o->cycles = since.cycles;
	o->win_polls = win.polls;
	o->win_busy_polls = win.busy_polls;
	o->win_busy_cycles = win.busy_cycles;
	o->win_cycles = win.cycles;
	o->nic_rx_packets = l->nic_rx_packets;
	o->nic_rx_bytes = l->nic_rx_bytes;
	o->nic_tx_packets = l->nic_tx_packets;
	o->nic_tx_bytes = l->nic_tx_bytes;
	o->tun_rx_packets = l->tun_rx_packets;
	o->tun_rx_bytes = l->tun_rx_bytes;
	o->tun_tx_packets = l->tun_tx_packets;
	o->tun_tx_bytes = l->tun_tx_bytes;
	o->decrypted = l->decrypted;
	o->encrypted = l->encrypted;
}

/* STATS_REPLY's connection-table fields, summed over the workers. */
static void put_conntrack(struct fg_ctl_stats_reply *r, const struct fg_conntrack *ct)
{
	struct fg_conntrack_counters sum;

	fg_conntrack_stats(ct, &sum);
	r->nat_translated_out = sum.translated_out;
	r->nat_translated_in = sum.translated_in;
	r->nat_icmp_translated = sum.icmp_translated;
	r->nat_created = sum.created;
	r->nat_expired = sum.expired;
	r->nat_misses = sum.misses;
	r->nat_live = sum.nat_live;
	r->flows_started = sum.flows_started;
	r->flows_completed = sum.flows_completed;
	r->flows_live = sum.flows_live;
	r->flows_lost = sum.flows_lost;
}

static void do_stats(struct fg_ctl_server *c, struct client *cl, uint32_t seq)
{
	const struct fg_svc *s = c->svc;
	const struct fg_svc_stats *st = fg_svc_stats(s);
	struct fg_dp *dp = fg_svc_dp(s);
	struct fg_ctl_stats_reply r;
	struct fg_svc_heap heap;
	uint64_t drops[FG_DROP_MAX], now_tsc = rte_rdtsc();

	memset(&r, 0, sizeof(r));
	init_hdr(&r.h, FG_CTL_STATS_REPLY, seq);
	r.tsc_hz = rte_get_tsc_hz();
	fg_svc_heap_read(&heap);
	r.heap_total = heap.total;
	r.heap_allocated = heap.allocated;
	r.heap_free = heap.free;
	r.heap_largest_free = heap.largest_free;
	snprintf(r.aead, sizeof(r.aead), "%s", fg_aead_backend_name());
	r.workers = dp->nworkers;
	r.peers = fg_svc_npeers(s);
	r.handshakes_initiated = st->handshakes_initiated;
	r.handshakes_responded = st->handshakes_responded;
	r.handshakes_completed = st->handshakes_completed;
	r.cookies_sent = st->cookies_sent;
	r.keepalives_sent = st->keepalives_sent;
	r.roams = st->roams;
	r.p2p_in = st->p2p_in;
	r.p2p_out = st->p2p_out;
	fg_svc_drops_sum(s, drops);
	for (unsigned d = 1; d < FG_DROP_MAX && r.n_drops < FG_CTL_MAX_DROP_REASONS; d++) {
		snprintf(r.drop_names[r.n_drops], sizeof(r.drop_names[0]), "%s", fg_drop_names[d]);
		r.drops[r.n_drops++] = drops[d];
	}
	put_lcore(&r.service, s, 0, &dp->svc_cnt, now_tsc);
	for (unsigned w = 0; w < dp->nworkers && w < FG_CTL_MAX_WORKERS; w++)
		put_lcore(&r.lcores[w], s, 1 + w, &dp->workers[w].cnt, now_tsc);
	put_conntrack(&r, &dp->ct);
	enqueue(c, cl, &r, sizeof(r));
}

/* NAT_DUMP: one NAT_INFO per live tuple of every worker's table (read through the entries'
 * seqlock, no lock taken), at most NAT_DUMP_MAX, then the REPLY with the count. */
static void do_nat_dump(struct fg_ctl_server *c, struct client *cl, uint32_t seq)
{
	const struct fg_svc *s = c->svc;
	struct fg_dp *dp = fg_svc_dp(s);
	uint64_t now = fg_clock_ns();
	uint32_t count = 0;
	bool cut = false;

	for (unsigned w = 0; w < dp->ct.ntables && !cut; w++) {
		const struct fg_conntrack_table *t = dp->ct.tables[w];

		for (uint32_t i = 0; i < t->capacity; i++) {
			struct fg_conntrack_entry e;
			struct fg_ctl_nat_info ni;

			if (!fg_conntrack_snapshot(&dp->ct, t, i, now, &e) || !e.nat || !fg_svc_peer_valid(s, e.slot))
				continue;
			if (count == NAT_DUMP_MAX) {
				cut = true;
				break;
			}
			memset(&ni, 0, sizeof(ni));
			init_hdr(&ni.h, FG_CTL_NAT_INFO, seq);
			memcpy(ni.public_key, fg_svc_peer_public_key(s, e.slot), 32);
			ni.proxy = e.dst;
			ni.real = e.real;
			ni.proto = e.proto;
			ni.flags = (uint8_t)((e.in_flags & (FG_CT_REPLIED | FG_CT_FIN_IN)) | (e.out_flags & FG_CT_FIN_OUT) |
					     ((e.in_flags | e.out_flags) & (FG_CT_RST_OUT | FG_CT_RST_IN) ? 8 : 0));
			ni.inside_port = e.in_port;
			ni.outside_port = e.out_port;
			ni.worker = (uint16_t)w;
			ni.created_unix_ns = fg_clock_wall_base_ns() + e.created_ns;
			ni.last_out_unix_ns = fg_clock_wall_base_ns() + e.last_out_ns;
			ni.last_in_unix_ns = e.last_in_ns ? fg_clock_wall_base_ns() + e.last_in_ns : 0;
			ni.tx_packets = e.tx_packets;
			ni.tx_bytes = e.tx_bytes;
			ni.rx_packets = e.rx_packets;
			ni.rx_bytes = e.rx_bytes;
			enqueue(c, cl, &ni, sizeof(ni));
			count++;
		}
	}
	reply(c, cl, seq, 0, count, cut ? "list cut at 65536 tuples" : NULL);
}

/* PACKET_OUT: buf is the whole datagram (fg_ctl_msg_size checked its length). */
static int do_packet_out(struct fg_svc *s, const uint8_t *buf)
{
	const struct fg_ctl_packet_out *m = (const void *)buf;

	return fg_svc_send_packet(s, &m->ep, m->channel, m->payload, m->len);
}

/* P2P_OUT: buf is the whole datagram (fg_ctl_msg_size checked its length). */
static int do_p2p_out(struct fg_svc *s, const uint8_t *buf)
{
	const struct fg_ctl_p2p *m = (const void *)buf;

	if (m->len == 0 || m->len > FG_CTL_P2P_MAX)
		return -EINVAL;
	return fg_svc_p2p_send(s, m->public_key, m->payload, m->len);
}

static int do_channel(struct fg_svc *s, uint16_t type, const uint8_t *buf)
{
	struct fg_ctl_channel m;

	memcpy(&m, buf, sizeof(m));
	return type == FG_CTL_CHANNEL_BIND ? fg_svc_channel_bind(s, &m.relay, m.channel, &m.peer)
					   : fg_svc_channel_unbind(s, &m.relay, m.channel);
}

static int do_peer_path(struct fg_svc *s, const uint8_t *buf)
{
	struct fg_ctl_peer_path m;
	uint32_t slot;

	memcpy(&m, buf, sizeof(m));
	slot = fg_svc_peer_find(s, m.public_key);
	if (slot == FG_SLOT_NONE)
		return -ENOENT;
	return fg_svc_peer_set_path(s, slot, &m.ep, m.channel);
}

static void handle(struct fg_ctl_server *c, struct client *cl, const uint8_t *buf, size_t len)
{
	struct fg_svc *s = c->svc;
	struct fg_ctl_hdr h;
	int r;

	if (len < sizeof(h)) {
		reply(c, cl, 0, -EPROTO, 0, "message shorter than its header");
		return;
	}
	memcpy(&h, buf, sizeof(h));
	c->requests++;
	if (h.version != FG_CTL_VERSION) {
		reply(c, cl, h.seq, -EPROTO, 0, "unsupported control protocol version");
		return;
	}
	if (fg_ctl_msg_size(buf, len) == 0 || fg_ctl_msg_size(buf, len) != len) {
		reply(c, cl, h.seq, -EPROTO, 0, "unknown type or wrong size for its type");
		return;
	}
	switch (h.type) {
	case FG_CTL_HELLO:
		do_hello(c, cl, h.seq);
		break;
	case FG_CTL_PEER_UPSERT: {
		struct fg_ctl_peer_upsert m;

		memcpy(&m, buf, sizeof(m));
		r = fg_svc_client_upsert(s, &m);
		sodium_memzero(&m, sizeof(m));
		reply(c, cl, h.seq, r, 0, r ? "peer upsert refused" : NULL);
		break;
	}
	case FG_CTL_PEER_REMOVE: {
		struct fg_ctl_peer_remove m;

		memcpy(&m, buf, sizeof(m));
		r = fg_svc_client_remove(s, m.public_key, (m.flags & FG_CTL_PEER_GOODBYE) != 0);
		reply(c, cl, h.seq, r, 0, r ? "no such peer" : NULL);
		break;
	}
	case FG_CTL_RESOURCE_UPSERT: {
		/* Variable length: used in place (buf is aligned for it). */
		r = fg_svc_resource_upsert(s, (const struct fg_ctl_resource_upsert *)(const void *)buf);
		reply(c, cl, h.seq, r, 0, r == -ENOENT ? "no such peer" : r ? "resource refused" : NULL);
		break;
	}
	case FG_CTL_RESOURCE_REMOVE: {
		struct fg_ctl_resource_remove m;
		bool gone = false;

		memcpy(&m, buf, sizeof(m));
		m.resource_id[sizeof(m.resource_id) - 1] = '\0';
		r = fg_svc_resource_remove(s, m.public_key, m.resource_id, &gone);
		reply(c, cl, h.seq, r, gone ? 1 : 0, r ? "no such peer or resource" : NULL);
		break;
	}
	case FG_CTL_NAT_SET: {
		struct fg_ctl_nat_set m;

		memcpy(&m, buf, sizeof(m));
		r = fg_svc_nat_set(s, &m);
		reply(c, cl, h.seq, r, 0, r == -ENOENT ? "no such peer or DNS resource" :
					  r == -ENOSPC ? "too many proxy IPs" : r ? "NAT refused" : NULL);
		break;
	}
	case FG_CTL_IFACE_SET: {
		struct fg_ctl_iface_set m;

		memcpy(&m, buf, sizeof(m));
		if ((m.ipv4.family && m.ipv4.family != AF_INET) || (m.ipv6.family && m.ipv6.family != AF_INET6))
			r = -EINVAL;
		else
			r = fg_svc_iface_set(s, &m.ipv4, &m.ipv6);
		reply(c, cl, h.seq, r, 0, r ? "interface addresses refused" : NULL);
		break;
	}
	case FG_CTL_PACKET_OUT:
		r = do_packet_out(s, buf);
		reply(c, cl, h.seq, r, 0, r == -EAFNOSUPPORT ? "no uplink address of that family" :
					  r ? "packet refused" : NULL);
		break;
	case FG_CTL_CHANNEL_BIND:
	case FG_CTL_CHANNEL_UNBIND:
		r = do_channel(s, h.type, buf);
		reply(c, cl, h.seq, r, 0, r == -ENOENT ? "no such channel" : r == -ENOSPC ? "channel table full" :
					  r ? "channel refused" : NULL);
		break;
	case FG_CTL_PEER_PATH:
		r = do_peer_path(s, buf);
		reply(c, cl, h.seq, r, 0, r == -ENOENT ? "no such peer" : r ? "path refused" : NULL);
		break;
	case FG_CTL_P2P_OUT:
		r = do_p2p_out(s, buf);
		reply(c, cl, h.seq, r, 0, r == -ENOENT ? "no such peer" : r == -ENOBUFS ? "queue to the workers full" :
					  r ? "p2p control packet refused" : NULL);
		break;
	case FG_CTL_DUMP:
		do_dump(c, cl, h.seq);
		break;
	case FG_CTL_STATS:
		do_stats(c, cl, h.seq);
		break;
	case FG_CTL_NAT_DUMP:
		do_nat_dump(c, cl, h.seq);
		break;
	case FG_CTL_FLOWS_SET: {
		struct fg_ctl_flows_set m;

		memcpy(&m, buf, sizeof(m));
		fg_conntrack_set_flows(&fg_svc_dp(s)->ct, m.enabled != 0);
		reply(c, cl, h.seq, 0, 0, NULL);
		break;
	}
	default:
		/* replies and events are ours to send, not to receive */
		reply(c, cl, h.seq, -EPROTO, 0, "not a request");
		break;
	}
}

/* ---- connections (the skeleton's callbacks) --------------------------------------------- */

static int conn_accepted(void *ctx, unsigned i, int fd, uint64_t now_ns)
{
	struct fg_ctl_server *c = ctx;
	struct client *cl = &c->clients[i];

	(void)now_ns;
	memset(cl, 0, sizeof(*cl));
	cl->idx = i;
	cl->fd = fd;
	return 0;
}

static void conn_closing(void *ctx, unsigned i)
{
	struct fg_ctl_server *c = ctx;
	struct client *cl = &c->clients[i];

	for (size_t k = cl->qhead; k < cl->qlen; k++)
		free(cl->q[k]);
	free(cl->q);
	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
}

static void conn_refused(void *ctx)
{
	(void)ctx;
	fg_warn(TAG, "too many control connections; refusing one");
}

static void client_readable(struct fg_ctl_server *c, struct client *cl)
{
	static _Alignas(16) uint8_t buf[MAX_MSG];

	for (int budget = 64; budget > 0 && cl->qbytes < OUT_SOFT_BYTES; budget--) {
		ssize_t n = recv(cl->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);

		if (n == 0) {
			client_close(c, cl);
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			client_close(c, cl);
			return;
		}
		if ((size_t)n > sizeof(buf))
			reply(c, cl, 0, -EPROTO, 0, "message too large");
		else
			handle(c, cl, buf, (size_t)n);
		sodium_memzero(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf));
		if (reap_overflow(c, cl))
			return;
	}
	flush(c, cl);
}

static void conn_ready(void *ctx, unsigned i, uint32_t events, uint64_t now_ns)
{
	struct fg_ctl_server *c = ctx;
	struct client *cl = &c->clients[i];

	(void)now_ns;
	if (events & EPOLLOUT && !flush(c, cl))
		return;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		client_readable(c, cl);
}

static const struct fg_sockserver_ops conn_ops = {
	.accepted = conn_accepted,
	.ready = conn_ready,
	.closing = conn_closing,
	.refused = conn_refused,
};

/* ---- the server ------------------------------------------------------------------------- */

int fg_ctl_server_poll(struct fg_ctl_server *c)
{
	return fg_sockserver_poll(c->ss, 0);
}

void fg_ctl_server_event(struct fg_ctl_server *c, uint32_t kind, const uint8_t pub[32], const char *resource_id)
{
	struct fg_ctl_event ev;

	memset(&ev, 0, sizeof(ev));
	init_hdr(&ev.h, FG_CTL_EVENT, 0);
	ev.kind = kind;
	memcpy(ev.public_key, pub, 32);
	if (resource_id)
		snprintf(ev.resource_id, sizeof(ev.resource_id), "%s", resource_id);
	for (unsigned i = 0; i < MAX_CLIENTS; i++) {
		if (fg_sockserver_conn_fd(c->ss, i) < 0)
			continue;
		enqueue(c, &c->clients[i], &ev, sizeof(ev));
		if (!reap_overflow(c, &c->clients[i]))
			flush(c, &c->clients[i]);
	}
}

/* An unsolicited message (PACKET_IN, P2P_IN, FLOW): queued for every client whose output is short,
 * counted per client in *queued_cnt or *backlogged_cnt. Returns the clients it was queued for,
 * 0 when none is connected, -ENOBUFS when every one is backed up. */
static int queue_unsolicited(struct fg_ctl_server *c, const void *msg, uint32_t len, uint64_t *queued_cnt,
			     uint64_t *backlogged_cnt)
{
	int queued = 0, backlogged = 0;

	for (unsigned i = 0; i < MAX_CLIENTS; i++) {
		struct client *cl = &c->clients[i];

		if (fg_sockserver_conn_fd(c->ss, i) < 0)
			continue;
		if (cl->overflow || cl->qbytes + len > PACKET_IN_QUEUE_BYTES) {
			(*backlogged_cnt)++;
			backlogged++;
			continue;
		}
		enqueue(c, cl, msg, len);
		(*queued_cnt)++;
		queued++;
		flush(c, cl);
	}
	return queued ? queued : backlogged ? -ENOBUFS : 0;
}

int fg_ctl_server_packet(struct fg_ctl_server *c, const struct fg_svc_packet *pkt)
{
	_Alignas(16) uint8_t buf[sizeof(struct fg_ctl_packet_in) + FG_CTL_MAX_PACKET];
	struct fg_ctl_packet_in *m = (void *)buf;

	if (pkt->len == 0 || pkt->len > FG_CTL_MAX_PACKET)
		return 0;
	memset(m, 0, sizeof(*m));
	init_hdr(&m->h, FG_CTL_PACKET_IN, 0);
	m->src = pkt->src;
	m->peer = pkt->peer;
	m->channel = pkt->channel;
	m->len = pkt->len;
	memcpy(m->payload, pkt->payload, pkt->len);
	return queue_unsolicited(c, m, (uint32_t)sizeof(*m) + pkt->len, &c->packets_in, &c->packets_in_backlogged);
}

int fg_ctl_server_p2p(struct fg_ctl_server *c, const uint8_t pub[32], const uint8_t *payload, uint16_t len)
{
	_Alignas(16) uint8_t buf[sizeof(struct fg_ctl_p2p) + FG_CTL_P2P_MAX];
	struct fg_ctl_p2p *m = (void *)buf;

	if (len == 0 || len > FG_CTL_P2P_MAX)
		return 0;
	memset(m, 0, sizeof(*m));
	init_hdr(&m->h, FG_CTL_P2P_IN, 0);
	memcpy(m->public_key, pub, 32);
	m->len = len;
	memcpy(m->payload, payload, len);
	return queue_unsolicited(c, m, (uint32_t)sizeof(*m) + len, &c->p2p_in, &c->p2p_in_backlogged);
}

static int attach_p2p(void *ctx, const uint8_t pub[32], const uint8_t *payload, uint16_t len)
{
	return fg_ctl_server_p2p(ctx, pub, payload, len);
}

/* A flow record (FLOW), under the bound of PACKET_IN: records are best effort. */
static int attach_flow(void *ctx, const struct fg_ctl_flow *f)
{
	struct fg_ctl_server *c = ctx;

	return queue_unsolicited(c, f, sizeof(*f), &c->flows, &c->flows_backlogged);
}

static int attach_poll(void *ctx)
{
	return fg_ctl_server_poll(ctx);
}

static int attach_packet(void *ctx, const struct fg_svc_packet *pkt)
{
	return fg_ctl_server_packet(ctx, pkt);
}

static void attach_event(void *ctx, uint32_t kind, const uint8_t pub[32], const char *resource_id)
{
	fg_ctl_server_event(ctx, kind, pub, resource_id);
}

static void attach_stats(void *ctx, FILE *f)
{
	const struct fg_ctl_server *c = ctx;

	fprintf(f, "ctl_clients_overflowed %lu\n", fg_ctl_server_overflows(c));
	fprintf(f, "ctl_packets_in %lu\n", c->packets_in);
	fprintf(f, "ctl_packets_in_backlogged %lu\n", c->packets_in_backlogged);
	fprintf(f, "ctl_p2p_in %lu\n", c->p2p_in);
	fprintf(f, "ctl_p2p_in_backlogged %lu\n", c->p2p_in_backlogged);
	fprintf(f, "ctl_flows %lu\n", c->flows);
	fprintf(f, "ctl_flows_backlogged %lu\n", c->flows_backlogged);
}

static const struct fg_svc_attach_ops attach_ops = {
	.poll = attach_poll,
	.event = attach_event,
	.write_stats = attach_stats,
	.packet = attach_packet,
	.p2p = attach_p2p,
	.flow = attach_flow,
};

struct fg_ctl_server *fg_ctl_server_open(struct fg_svc *s, const char *path, gid_t gid)
{
	struct fg_ctl_server *c = calloc(1, sizeof(*c));
	struct fg_sockserver_params p = {
		.path = path,
		.sock = { .type = SOCK_SEQPACKET, .mode = 0660, .gid = gid, .backlog = 8 },
		.max_conns = MAX_CLIENTS,
		.ops = &conn_ops,
		.attach = &attach_ops,
		.ctx = c,
	};
	int e;

	if (!c)
		return NULL;
	c->svc = s;
	for (int i = 0; i < MAX_CLIENTS; i++)
		c->clients[i].fd = -1;
	c->ss = fg_sockserver_open(s, &p);
	if (!c->ss) {
		e = errno;
		free(c);
		errno = e;
		return NULL;
	}
	return c;
}

void fg_ctl_server_close(struct fg_ctl_server *c)
{
	if (!c)
		return;
	fg_sockserver_close(c->ss);
	free(c);
}

size_t fg_ctl_server_queued_bytes(const struct fg_ctl_server *c)
{
	size_t n = 0;

	for (unsigned i = 0; i < MAX_CLIENTS; i++)
		if (fg_sockserver_conn_fd(c->ss, i) >= 0)
			n += c->clients[i].qbytes;
	return n;
}

uint64_t fg_ctl_server_overflows(const struct fg_ctl_server *c)
{
	return c->overflows;
}

int fg_ctl_server_fd(const struct fg_ctl_server *c)
{
	return fg_sockserver_fd(c->ss);
}

const char *fg_ctl_server_path(const struct fg_ctl_server *c)
{
	return fg_sockserver_path(c->ss);
}
