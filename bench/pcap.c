// SPDX-License-Identifier: MIT
/*
 * fastgate-bench --pcap DIR: the data pcaps of fastgate-gen-pcaps (pktgen-profiles/)
 * replayed through DPDK's net_pcap PMD (infinite_rx=1) into the real fg_worker_poll(), one
 * worker on the main lcore, decrypt direction only (the pcaps hold ciphertext). The
 * sessions are the generator's: DIR/keys.txt lists, per client, the client's send/recv keys
 * and both indexes; the bench installs the gateway's side of each (recv = the client's send
 * key, local index = the client's receiver index), so the data messages open.
 *
 * Replay: infinite_rx replays the same frames, counters and all, so after one pass every
 * data message would be a replay. net_pcap returns frames strictly in file order, cycling,
 * so the worker's own NIC RX count gives the position in the file: before the poll whose
 * burst would reach a frame already accepted since the last reset (one file length ago), the
 * bench forgets the peers' replay windows (as the net_ring mode does when its feeder wraps).
 * The old pass's tail and the new pass's head then share a fresh window, exact as long as one pass
 * holds fewer counters per peer than the window (checked; otherwise the row says so and its
 * replay drops are the rejection path). Each pass also starts with one handshake initiation
 * per client: the worker punts them to the handshake ring, the bench frees them unanswered
 * outside the timed section, and they are counted as received but not delivered.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <sodium.h>

#include "counters.h"
#include "messages.h"
#include "netpkt.h"
#include "transport.h"
#include "worker.h"
#include "replay.h"

enum {
	MAX_CLIENTS = 100,     /* the generator's NPEERS */
	MAX_FRAME = 2048,
	MAX_RECORDS = 1 << 20,
};

/* The generator's data-<size>-p<peers>.pcap, read whole: its data frames become the row's
 * templates (for the raw AEAD reference), its record count is the replay period. */
struct pcap_file {
	uint32_t records;      /* frames in the file (initiations + data) */
	uint32_t inits;
	uint32_t max_counter;  /* data messages per client in one pass */
	uint32_t dst_ip, src_ip;   /* network order, from the first data frame */
	struct rte_ether_addr dst_mac;
};

/* keys.txt: "client <i> private <b64> public <b64> sport <n> sender_index 0x.. receiver_index
 * 0x.. send <b64> recv <b64>"; returns how many clients, or -errno. */
static int read_keys(const char *dir, struct fg_bench_peer_id *ids, uint32_t max)
{
	char path[4096], line[1024];
	FILE *f;
	uint32_t n = 0;

	snprintf(path, sizeof(path), "%s/keys.txt", dir);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && n < max) {
		char priv[64], pub[64], send[64], recv[64];
		unsigned i, sport, sidx, ridx;
		size_t l1 = 0, l2 = 0;

		if (sscanf(line, "client %u private %63s public %63s sport %u sender_index %x receiver_index %x send %63s recv %63s",
			   &i, priv, pub, &sport, &sidx, &ridx, send, recv) != 8)
			continue;
		if (i != n || sport > 65535) {
			fclose(f);
			return -EBADMSG;
		}
		struct fg_bench_peer_id *id = &ids[n];

		/* The gateway's side of the client's session: it opens what the client seals. */
		if (sodium_base642bin(id->recv_key, 32, send, strlen(send), NULL, &l1, NULL,
				      sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    sodium_base642bin(id->send_key, 32, recv, strlen(recv), NULL, &l2, NULL,
				      sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    l1 != 32 || l2 != 32) {
			fclose(f);
			return -EBADMSG;
		}
		id->local_index = ridx;
		id->remote_index = sidx;
		id->peer_port = (uint16_t)sport;
		id->peer_ip = (198u << 24) | (18u << 16) | 2u;   /* replaced by the frames' source */
		/* AllowedIPs of gateway.conf (pktgen-profiles/README.md): 100.64.1.(i+1)/32 */
		id->inner_ip = (100u << 24) | (64u << 16) | (1u << 8) | (i + 1);
		n++;
	}
	fclose(f);
	return n ? (int)n : -ENOENT;
}

static uint32_t find_peer(const struct fg_bench_peer_id *ids, uint32_t n, uint32_t receiver)
{
	for (uint32_t p = 0; p < n; p++)
		if (ids[p].local_index == receiver)
			return p;
	return UINT32_MAX;
}

/* Reads the pcap; data frames addressed to the first npeers clients become templates. */
static int read_pcap(const char *path, const struct fg_bench_peer_id *ids, uint32_t npeers, unsigned size,
		     struct pcap_file *pf, struct fg_bench_traffic *tr)
{
	struct {
		uint32_t magic;
		uint16_t major, minor;
		int32_t zone;
		uint32_t sigfigs, snaplen, linktype;
	} hdr;
	uint32_t rec[4];
	uint8_t frame[MAX_FRAME];
	size_t cap = 0;
	FILE *f = fopen(path, "rb");
	int ret = 0;

	memset(pf, 0, sizeof(*pf));
	memset(tr, 0, sizeof(*tr));
	tr->dir = FG_BENCH_DECRYPT;
	tr->size = size;
	tr->npeers = npeers;
	if (!f)
		return -errno;
	if (fread(&hdr, sizeof(hdr), 1, f) != 1 || hdr.magic != 0xa1b2c3d4 || hdr.linktype != 1) {
		ret = -EPROTO;
		goto out;
	}
	while (fread(rec, sizeof(rec), 1, f) == 1) {
		uint32_t len = rec[2], peer, receiver;
		uint64_t counter;

		if (len != rec[3] || len > sizeof(frame) || fread(frame, len, 1, f) != 1 || ++pf->records > MAX_RECORDS) {
			ret = -EPROTO;
			goto out;
		}
		if (len <= FG_NETPKT_UDP4_HDR_LEN)
			continue;
		const uint8_t *msg = frame + FG_NETPKT_UDP4_HDR_LEN;

		if (msg[0] == FG_WG_MSG_INITIATION) {
			pf->inits++;
			continue;
		}
		if (msg[0] != FG_WG_MSG_DATA || len < FG_NETPKT_UDP4_HDR_LEN + FG_WG_DATA_OVERHEAD)
			continue;
		receiver = fg_wg_transport_receiver(msg);
		peer = find_peer(ids, npeers, receiver);
		if (peer == UINT32_MAX) {
			ret = -ENOKEY;
			goto out;
		}
		memcpy(&counter, msg + 8, 8);
		counter = le64toh(counter);
		if (counter + 1 > pf->max_counter)
			pf->max_counter = (uint32_t)(counter + 1);
		if (tr->n == 0) {
			memcpy(&pf->src_ip, frame + 26, 4);
			memcpy(&pf->dst_ip, frame + 30, 4);
			memcpy(pf->dst_mac.addr_bytes, frame, 6);
		}
		if (tr->arena_len + FG_BENCH_SLOT_ALIGN * 32 > cap) {
			size_t ncap = cap ? cap * 2 : (size_t)1 << 20;
			uint8_t *a = realloc(tr->arena, ncap);
			struct fg_bench_tmpl *t = realloc(tr->t, sizeof(*t) * (ncap / 64));

			if (a)
				tr->arena = a;
			if (t)
				tr->t = t;
			if (!a || !t) {
				ret = -ENOMEM;
				goto out;
			}
			cap = ncap;
		}
		struct fg_bench_tmpl *t = &tr->t[tr->n];

		t->off = tr->arena_len;
		t->len = (uint16_t)len;
		t->inner_len = (uint16_t)(size ? size : fg_bench_imix_size(tr->n));
		t->peer = peer;
		memcpy(tr->arena + t->off, frame, len);
		tr->arena_len += (len + FG_BENCH_SLOT_ALIGN - 1) / FG_BENCH_SLOT_ALIGN * FG_BENCH_SLOT_ALIGN;
		tr->inner_bytes += t->inner_len;
		tr->n++;
	}
	if (!feof(f) || tr->n == 0)
		ret = -EPROTO;
out:
	fclose(f);
	if (ret < 0)
		fg_bench_traffic_free(tr);
	return ret;
}

static uint64_t sum_drops(const struct fg_lcore_counters *c)
{
	uint64_t s = 0;

	for (unsigned r = 0; r < FG_DROP_MAX; r++)
		if (r != FG_DROP_TUN_MALFORMED) /* the idle /dev/null TUN read (run.c) */
			s += c->drops[r];
	return s;
}

/* One row: raw AEAD, fd I/O and the worker in alternating slices, as run.c does. */
static int pcap_row(struct fg_bench_env *e, const struct fg_bench_traffic *tr, const struct pcap_file *pf,
		    const struct fg_bench_opts *o, struct fg_bench_row *row, FILE *out)
{
	struct fg_dp *dp = &e->dp;
	struct fg_worker *w = &dp->workers[0];
	struct fg_lcore_counters before;
	double hz = (double)rte_get_tsc_hz();
	unsigned slices = (unsigned)(o->seconds / 0.25 + 0.5);
	uint64_t rx0, reset_rx = 0, passes = 0, resets = 0, punted = 0;
	int ret;

	memset(row, 0, sizeof(*row));
	row->dir = FG_BENCH_DECRYPT;
	row->size = tr->size;
	row->npeers = tr->npeers;
	row->workers = 1;
	fg_bench_env_reset(e);
	dp->burst = o->burst;
	w->lcore = rte_lcore_id();
	w->tun_fd = e->devnull;
	(void)fg_aead_lcore_init();
	rte_rcu_qsbr_thread_register(dp->tables.qsbr, w->idx);
	rte_rcu_qsbr_thread_online(dp->tables.qsbr, w->idx);
	before = w->cnt;
	rx0 = w->cnt.nic_rx_packets;
	if (slices == 0)
		slices = 1;
	for (unsigned s = 0; s < slices; s++) {
		uint64_t ops, cycles, start, end;

		ret = fg_bench_raw_rate(e, tr, o, o->raw_seconds / slices, &ops, &cycles);
		if (ret < 0)
			goto out;
		row->raw_ops += ops;
		row->raw_cycles += cycles;
		row->io_cycles += fg_bench_io_cycles(e, tr, o, o->raw_seconds / 2 / slices, &ops);
		row->io_ops += ops;

		start = rte_rdtsc();
		end = start + (uint64_t)(o->seconds / slices * hz);
		while (rte_rdtsc() < end) {
			uint64_t rx = w->cnt.nic_rx_packets - rx0;
			struct rte_mbuf *ms[FG_BURST_MAX];
			unsigned n;

			/* The next burst may reach a frame already accepted since the last reset
			 * (one whole file ago): forget the windows first. */
			if (rx + o->burst > reset_rx + pf->records) {
				for (uint32_t p = 0; p < e->npeers; p++)
					fg_wg_replay_init(&dp->tables.kps[e->kp_slot[p]].replay);
				reset_rx = rx;
				resets++;
			}
			uint64_t t0 = rte_rdtsc();

			fg_worker_poll(dp, w);
			rte_rcu_qsbr_quiescent(dp->tables.qsbr, w->idx);
			row->busy_cycles += rte_rdtsc() - t0;
			/* The pass's initiations: punted by the worker, dropped unanswered here. */
			while ((n = rte_ring_sc_dequeue_burst(dp->hs_ring, (void **)ms, FG_BURST_MAX, NULL)) != 0) {
				punted += n;
				rte_pktmbuf_free_bulk(ms, n);
			}
		}
		row->wall_cycles += rte_rdtsc() - start;
	}
	passes = (w->cnt.nic_rx_packets - rx0) / pf->records;
	row->packets = w->cnt.tun_tx_packets - before.tun_tx_packets;
	row->inner_bytes = w->cnt.tun_tx_bytes - before.tun_tx_bytes;
	row->drops = sum_drops(&w->cnt) - sum_drops(&before);
	if (row->busy_cycles) {
		row->mpps = (double)row->packets * hz / (double)row->busy_cycles / 1e6;
		row->gbps = (double)row->inner_bytes * 8 * hz / (double)row->busy_cycles / 1e9;
		row->cycles_per_packet = row->packets ? (double)row->busy_cycles / (double)row->packets : 0;
	}
	row->raw_cycles_per_op = row->raw_ops ? (double)row->raw_cycles / (double)row->raw_ops : 0;
	row->raw_mpps = row->raw_cycles ? (double)row->raw_ops * hz / (double)row->raw_cycles / 1e6 : 0;
	row->ratio = row->cycles_per_packet > 0 ? row->raw_cycles_per_op / row->cycles_per_packet : 0;
	row->io_cycles_per_packet = row->io_ops ? (double)row->io_cycles / (double)row->io_ops : 0;
	if (row->cycles_per_packet > row->io_cycles_per_packet + row->raw_cycles_per_op)
		row->ratio_no_io = row->raw_cycles_per_op / (row->cycles_per_packet - row->io_cycles_per_packet);
	fg_bench_print_row(out, row);
	fprintf(out, "    %" PRIu64 " frames in %" PRIu64 " passes of %" PRIu32 " (%" PRIu32
		" initiations punted and freed: %" PRIu64 "), %" PRIu64 " window resets",
		w->cnt.nic_rx_packets - rx0, passes, pf->records, pf->inits, punted, resets);
	for (unsigned r = 0; r < FG_DROP_MAX; r++) {
		uint64_t d = w->cnt.drops[r] - before.drops[r];

		if (d && r != FG_DROP_TUN_MALFORMED)
			fprintf(out, "; drop %s %" PRIu64, fg_drop_names[r], d);
	}
	fprintf(out, "\n");
	fflush(out);
	ret = 0;
out:
	rte_rcu_qsbr_thread_offline(dp->tables.qsbr, w->idx);
	rte_rcu_qsbr_thread_unregister(dp->tables.qsbr, w->idx);
	fg_bench_env_reset(e);
	return ret;
}

int fg_bench_pcap(const char *dir, const unsigned *sizes, unsigned nsizes, const uint32_t *peers,
		  unsigned npeers, const struct fg_bench_opts *o, FILE *out)
{
	static struct fg_bench_peer_id ids[MAX_CLIENTS];
	int nclients = read_keys(dir, ids, MAX_CLIENTS), rc = 0, rows = 0;

	if (nclients < 0) {
		fprintf(stderr, "fastgate-bench: %s/keys.txt: %s\n", dir, strerror(-nclients));
		return -1;
	}
	fprintf(out, "net_pcap replay of %s (infinite_rx=1), sessions from keys.txt (%d clients), decrypt, 1 worker;\n"
		     "replay windows reset once a file length after the last reset; drops by reason below each row.\n",
		dir, nclients);
	fg_bench_print_header(out);
	for (unsigned s = 0; s < nsizes; s++)
		for (unsigned p = 0; p < npeers; p++) {
			char sz[16], path[4096], vdev[4200], err[512];
			struct fg_bench_traffic tr;
			struct pcap_file pf;
			struct fg_bench_row row;
			struct fg_bench_env *e;
			int ret;

			if (peers[p] > (uint32_t)nclients) {
				fprintf(out, "    (p%" PRIu32 ": keys.txt has %d clients; skipped)\n", peers[p], nclients);
				continue;
			}
			fg_bench_size_name(sizes[s], sz, sizeof(sz));
			snprintf(path, sizeof(path), "%s/data-%s-p%" PRIu32 ".pcap", dir, sz, peers[p]);
			ret = read_pcap(path, ids, peers[p], sizes[s], &pf, &tr);
			if (ret == -ENOENT) {
				fprintf(out, "    (%s: missing; skipped)\n", path);
				continue;
			}
			if (ret < 0) {
				fprintf(stderr, "fastgate-bench: %s: %s\n", path, strerror(-ret));
				rc = -1;
				continue;
			}
			if (pf.max_counter + o->burst >= FG_WG_REPLAY_WINDOW)
				fprintf(out, "    (%s: %" PRIu32 " counters per peer per pass exceed the replay window: "
					     "later passes are partly the rejection path)\n", path, pf.max_counter);
			for (uint32_t k = 0; k < peers[p]; k++)
				ids[k].peer_ip = ntohl(pf.src_ip);
			snprintf(vdev, sizeof(vdev), "net_pcap_fgb,rx_pcap=%s,infinite_rx=1,tx_pcap=/dev/null", path);
			e = calloc(1, sizeof(*e));
			if (!e) {
				fg_bench_traffic_free(&tr);
				return -1;
			}
			ret = fg_bench_env_init_ext(e, peers[p], 1, ids, vdev, err, sizeof(err));
			if (ret < 0) {
				fprintf(stderr, "fastgate-bench: %s\n", err);
				rc = -1;
			} else {
				/* The gateway's uplink as the pcaps address it (gateway.conf's MAC and
				 * Address): the worker takes only frames for its own MAC and IP. */
				memcpy(&e->dp.local.ip4, &pf.dst_ip, 4);
				e->dp.local.mac = pf.dst_mac;
				(void)rte_eth_dev_default_mac_addr_set(e->dp.port_id, &pf.dst_mac);
				ret = pcap_row(e, &tr, &pf, o, &row, out);
				if (ret < 0) {
					fprintf(stderr, "fastgate-bench: %s: %s\n", path, strerror(-ret));
					rc = -1;
				} else if (row.packets == 0 || row.drops != 0) {
					fprintf(stderr, "fastgate-bench: %s: %" PRIu64 " delivered, %" PRIu64 " drops\n", path,
						row.packets, row.drops);
					rc = -1;
				}
				rows++;
			}
			fg_bench_env_fini(e);
			free(e);
			fg_bench_traffic_free(&tr);
		}
	if (rows == 0 && rc == 0) {
		fprintf(stderr, "fastgate-bench: no data-*.pcap in %s for these sizes/peers\n", dir);
		rc = -1;
	}
	return rc;
}
