// SPDX-License-Identifier: MIT
/*
 * /fastgate/stats and /fastgate/peers on DPDK's telemetry socket (see telemetry.h). Two
 * sides meet in one exchange: a command, on one of DPDK's telemetry threads, posts a
 * request under the exchange's lock, wakes the service lcore through an eventfd and waits
 * (at most FG_TELEMETRY_TIMEOUT_MS) on a condition variable; the service lcore, at its next
 * pass, tries the lock, copies what was asked into the exchange's snapshot (through
 * service.h, as the socket servers read the service) and signals. The command then formats
 * the snapshot into DPDK's reply while it holds the lock. Commands queue on a second lock,
 * so one snapshot serves one request at a time. The service lcore never blocks on either
 * lock (a command holding the lock only defers the answer to the next pass), no worker
 * touches the exchange, and nothing here allocates on the service lcore.
 *
 * DPDK 22.11's commands take no context argument, so the exchange is this file's one
 * mutable global; it outlives the data plane (DPDK cannot unregister a command), which
 * detaches by clearing its pointer there.
 */
#include "telemetry.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_telemetry.h>

#include "clock.h"
#include "keys.h"
#include "route.h"
#include "service.h"

enum {
	LCORES = 1 + FG_MAX_WORKERS,   /* the service lcore, then the workers */
	PPM = 1000000,
};

enum what {
	WHAT_STATS,
	WHAT_PEERS,
};

/* ---- the snapshot (written by the service lcore, read by a command, both under lock) ---- */

struct snap_lcore {
	uint64_t nic_rx_packets, nic_rx_bytes, nic_tx_packets, nic_tx_bytes;
	uint64_t tun_rx_packets, tun_rx_bytes, tun_tx_packets, tun_tx_bytes;
	uint64_t decrypted, encrypted;
	struct fg_svc_load_figures since, win;
};

struct snap_stats {
	char aead[32];
	uint32_t workers, peers;
	uint64_t uptime_s, tsc_hz;
	struct fg_svc_stats svc;
	uint64_t drops[FG_DROP_MAX];
	struct snap_lcore lcores[LCORES];
};

struct snap_peer {
	uint32_t slot;
	uint8_t public_key[32];
	struct fg_endpoint endpoint;  /* family 0: none */
	uint16_t channel;             /* relay channel, 0: direct */
	uint16_t keepalive;
	uint64_t last_handshake_ns;   /* wall clock, 0: never */
	uint64_t rx_bytes, tx_bytes;
	uint32_t n_allowed;
	struct fg_prefix allowed[FG_TELEMETRY_ALLOWED_SHOWN];
};

struct snap_peers {
	uint32_t total;               /* live peers */
	uint32_t start;               /* the first slot looked at */
	uint32_t n;
	bool more;
	uint32_t next;                /* with more: the slot to continue from */
	struct snap_peer p[FG_TELEMETRY_PEERS_PAGE];
};

struct fg_telemetry {
	struct fg_svc *svc;
	int efd;                      /* written by a command to wake the service lcore */
	uint64_t seen;                /* service lcore: the last request it answered */
};

static struct exchange {
	pthread_mutex_t serial;       /* one command at a time (telemetry threads only) */
	pthread_mutex_t lock;         /* everything below */
	pthread_cond_t answered_cv;   /* CLOCK_MONOTONIC (cond_init) */
	unsigned registered;          /* bit i: cmds[i] registered (once per process) */
	struct fg_telemetry *t;       /* the attached data plane, NULL when none */
	uint64_t asked;               /* requests posted (also read unlocked, atomically, as a hint) */
	uint64_t answered;            /* requests answered */
	enum what what;               /* the request */
	uint32_t start;
	struct snap_stats stats;      /* the answer */
	struct snap_peers peers;
} ex = {
	.serial = PTHREAD_MUTEX_INITIALIZER,
	.lock = PTHREAD_MUTEX_INITIALIZER,
};
static pthread_once_t cond_once = PTHREAD_ONCE_INIT;

static void cond_init(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&ex.answered_cv, &a);
	pthread_condattr_destroy(&a);
}

/* ---- the service lcore's side ----------------------------------------------------------- */

static void fill_lcore(struct snap_lcore *o, const struct fg_lcore_counters *c)
{
	o->nic_rx_packets = c->nic_rx_packets;
	o->nic_rx_bytes = c->nic_rx_bytes;
	o->nic_tx_packets = c->nic_tx_packets;
	o->nic_tx_bytes = c->nic_tx_bytes;
	o->tun_rx_packets = c->tun_rx_packets;
	o->tun_rx_bytes = c->tun_rx_bytes;
	o->tun_tx_packets = c->tun_tx_packets;
	o->tun_tx_bytes = c->tun_tx_bytes;
	o->decrypted = c->decrypted;
	o->encrypted = c->encrypted;
}

static void fill_stats(const struct fg_svc *s, struct snap_stats *o)
{
	const struct fg_dp *dp = fg_svc_dp(s);
	uint64_t now_tsc = rte_rdtsc(), wall = fg_clock_wall_ns(), started = fg_svc_started_wall_ns(s);

	memset(o, 0, sizeof(*o));
	snprintf(o->aead, sizeof(o->aead), "%s", fg_aead_backend_name());
	o->workers = dp->nworkers;
	o->peers = fg_svc_npeers(s);
	o->uptime_s = wall > started ? (wall - started) / FG_NS_PER_S : 0;
	o->tsc_hz = rte_get_tsc_hz();
	o->svc = *fg_svc_stats(s);
	fg_svc_drops_sum(s, o->drops);
	for (unsigned i = 0; i <= dp->nworkers && i < LCORES; i++) {
		fill_lcore(&o->lcores[i], i ? &dp->workers[i - 1].cnt : &dp->svc_cnt);
		fg_svc_load_read(s, i, now_tsc, &o->lcores[i].since, &o->lcores[i].win);
	}
}

static int count_allowed(void *ctx, const struct fg_prefix *p)
{
	struct snap_peer *o = ctx;

	if (o->n_allowed < FG_TELEMETRY_ALLOWED_SHOWN)
		o->allowed[o->n_allowed] = *p;
	o->n_allowed++;
	return 0;
}

static void fill_peer(const struct fg_svc *s, uint32_t slot, struct snap_peer *o)
{
	const struct fg_dp *dp = fg_svc_dp(s);
	const struct fg_peer *p = &dp->tables.peers[slot];

	memset(o, 0, sizeof(*o));
	o->slot = slot;
	memcpy(o->public_key, fg_svc_peer_public_key(s, slot), sizeof(o->public_key));
	o->endpoint = *fg_svc_peer_endpoint(s, slot);
	o->channel = fg_svc_peer_channel(s, slot);
	o->keepalive = fg_svc_peer_keepalive(s, slot);
	o->last_handshake_ns = fg_svc_peer_last_handshake(s, slot);
	o->rx_bytes = __atomic_load_n(&p->rx_bytes, __ATOMIC_RELAXED);
	o->tx_bytes = __atomic_load_n(&p->tx_bytes, __ATOMIC_RELAXED);
	fg_route_foreach_value(dp->allowed, slot, count_allowed, o);
}

/* The live peers from slot start on, in slot order, one page. */
static void fill_peers(const struct fg_svc *s, uint32_t start, struct snap_peers *o)
{
	uint32_t max = fg_svc_dp(s)->tables.max_peers;

	o->total = fg_svc_npeers(s);
	o->start = start;
	o->n = 0;
	o->more = false;
	for (uint32_t slot = start; slot < max; slot++) {
		if (!fg_svc_peer_valid(s, slot))
			continue;
		if (o->n == FG_TELEMETRY_PEERS_PAGE) {
			o->more = true;
			o->next = slot;
			break;
		}
		fill_peer(s, slot, &o->p[o->n++]);
	}
}

/* Attached to the service (its poll runs every pass; no system call unless a request is
 * new). Returns 1 when it answered, else 0. */
static int tel_poll(void *ctx)
{
	struct fg_telemetry *t = ctx;
	uint64_t v;
	ssize_t n;

	if (__atomic_load_n(&ex.asked, __ATOMIC_ACQUIRE) == t->seen)
		return 0;
	/* Held by a command posting its request or formatting the last answer: try again at
	 * the next pass (at most a millisecond away: the loop's idle wait). */
	if (pthread_mutex_trylock(&ex.lock) != 0)
		return 0;
	if (ex.t == t && ex.answered != ex.asked) {
		if (ex.what == WHAT_STATS)
			fill_stats(t->svc, &ex.stats);
		else
			fill_peers(t->svc, ex.start, &ex.peers);
		ex.answered = ex.asked;
		pthread_cond_broadcast(&ex.answered_cv);
	}
	t->seen = ex.asked;
	/* The command woke us before it waited, so before this lock was ours: its wake-up is
	 * consumed here (or the idle wait would keep returning), and the next command's comes
	 * after the unlock. */
	n = read(t->efd, &v, sizeof(v));
	(void)n;
	pthread_mutex_unlock(&ex.lock);
	return 1;
}

static const struct fg_svc_attach_ops attach_ops = {
	.poll = tel_poll,
};

/* ---- the telemetry threads' side -------------------------------------------------------- */

_Static_assert((int)FG_ENDPOINT_STRLEN >= (int)FG_KEY_B64_LEN, "put_peer's buffer holds a key");

/* part / whole in parts per million (part <= whole), rounded. */
static uint64_t ppm(uint64_t part, uint64_t whole)
{
	if (part >= whole)
		return PPM;
	return (uint64_t)((double)part / (double)whole * PPM + 0.5);
}

/* Figures of a span (suffix "" since start, "_1s" the last window); a ratio whose
 * denominator is 0 is left out. */
static void put_load(struct rte_tel_data *d, const struct fg_svc_load_figures *f, const char *suffix)
{
	char k[32];

	snprintf(k, sizeof(k), "polls%s", suffix);
	rte_tel_data_add_dict_u64(d, k, f->polls);
	snprintf(k, sizeof(k), "busy_polls%s", suffix);
	rte_tel_data_add_dict_u64(d, k, f->busy_polls);
	snprintf(k, sizeof(k), "busy_cycles%s", suffix);
	rte_tel_data_add_dict_u64(d, k, f->busy_cycles);
	snprintf(k, sizeof(k), "cycles%s", suffix);
	rte_tel_data_add_dict_u64(d, k, f->cycles);
	snprintf(k, sizeof(k), "busy_ratio%s_ppm", suffix);
	if (f->polls)
		rte_tel_data_add_dict_u64(d, k, ppm(f->busy_polls, f->polls));
	snprintf(k, sizeof(k), "work_ratio%s_ppm", suffix);
	if (f->cycles)
		rte_tel_data_add_dict_u64(d, k, ppm(f->busy_cycles, f->cycles));
}

static void put_lcore(struct rte_tel_data *d, const struct snap_lcore *l)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "nic_rx_packets", l->nic_rx_packets);
	rte_tel_data_add_dict_u64(d, "nic_rx_bytes", l->nic_rx_bytes);
	rte_tel_data_add_dict_u64(d, "nic_tx_packets", l->nic_tx_packets);
	rte_tel_data_add_dict_u64(d, "nic_tx_bytes", l->nic_tx_bytes);
	rte_tel_data_add_dict_u64(d, "tun_rx_packets", l->tun_rx_packets);
	rte_tel_data_add_dict_u64(d, "tun_rx_bytes", l->tun_rx_bytes);
	rte_tel_data_add_dict_u64(d, "tun_tx_packets", l->tun_tx_packets);
	rte_tel_data_add_dict_u64(d, "tun_tx_bytes", l->tun_tx_bytes);
	rte_tel_data_add_dict_u64(d, "decrypted", l->decrypted);
	rte_tel_data_add_dict_u64(d, "encrypted", l->encrypted);
	put_load(d, &l->since, "");
	put_load(d, &l->win, "_1s");
}

/* Hands a filled container to d under name; d frees it once the reply is written (an add
 * that fails frees it here). */
static void add_container(struct rte_tel_data *d, const char *name, struct rte_tel_data *c)
{
	if (rte_tel_data_add_dict_container(d, name, c, 0) < 0)
		rte_tel_data_free(c);
}

static void free_all(struct rte_tel_data **c, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		rte_tel_data_free(c[i]);
}

/* Allocates n containers, all or none. */
static int alloc_all(struct rte_tel_data **c, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		c[i] = rte_tel_data_alloc();
		if (!c[i]) {
			free_all(c, i);
			return -ENOMEM;
		}
	}
	return 0;
}

static int put_stats(struct rte_tel_data *d, const struct snap_stats *st)
{
	/* [0] the drops, [1] the lcores, [2 + i] lcore i */
	struct rte_tel_data *c[2 + LCORES];
	unsigned nl = st->workers + 1 < LCORES ? st->workers + 1 : LCORES, ndrops = 0;
	const struct fg_svc_stats *sv = &st->svc;
	int r = alloc_all(c, 2 + nl);

	if (r < 0)
		return r;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "aead", st->aead);
	rte_tel_data_add_dict_u64(d, "workers", st->workers);
	rte_tel_data_add_dict_u64(d, "peers", st->peers);
	rte_tel_data_add_dict_u64(d, "uptime_s", st->uptime_s);
	rte_tel_data_add_dict_u64(d, "tsc_hz", st->tsc_hz);
	rte_tel_data_add_dict_u64(d, "handshakes_initiated", sv->handshakes_initiated);
	rte_tel_data_add_dict_u64(d, "handshakes_responded", sv->handshakes_responded);
	rte_tel_data_add_dict_u64(d, "handshakes_completed", sv->handshakes_completed);
	rte_tel_data_add_dict_u64(d, "cookies_sent", sv->cookies_sent);
	rte_tel_data_add_dict_u64(d, "cookies_received", sv->cookies_received);
	rte_tel_data_add_dict_u64(d, "keepalives_sent", sv->keepalives_sent);
	rte_tel_data_add_dict_u64(d, "roams", sv->roams);
	rte_tel_data_add_dict_u64(d, "goodbyes_sent", sv->goodbyes_sent);
	rte_tel_data_add_dict_u64(d, "goodbyes_received", sv->goodbyes_received);
	rte_tel_data_start_dict(c[0]);
	for (unsigned i = 1; i < FG_DROP_MAX; i++)
		if (st->drops[i]) {
			rte_tel_data_add_dict_u64(c[0], fg_drop_names[i], st->drops[i]);
			ndrops++;
		}
	/* DPDK 22.11 writes an empty dict as []: left out instead. */
	if (ndrops)
		add_container(d, "drops", c[0]);
	else
		rte_tel_data_free(c[0]);
	rte_tel_data_start_dict(c[1]);
	for (unsigned i = 0; i < nl; i++) {
		char name[16];

		if (i)
			snprintf(name, sizeof(name), "worker%u", i - 1);
		else
			snprintf(name, sizeof(name), "service");
		put_lcore(c[2 + i], &st->lcores[i]);
		add_container(c[1], name, c[2 + i]);
	}
	add_container(d, "lcores", c[1]);
	return 0;
}

/* One peer into d; c: an array container for its allowed IPs. */
static void put_peer(struct rte_tel_data *d, struct rte_tel_data *c, const struct snap_peer *p)
{
	char b[FG_ENDPOINT_STRLEN];
	unsigned shown = p->n_allowed < FG_TELEMETRY_ALLOWED_SHOWN ? p->n_allowed : FG_TELEMETRY_ALLOWED_SHOWN;

	rte_tel_data_start_dict(d);
	fg_key_to_base64(b, p->public_key);
	rte_tel_data_add_dict_string(d, "public_key", b);
	if (p->endpoint.ip.family)
		rte_tel_data_add_dict_string(d, "endpoint", fg_endpoint_format(&p->endpoint, b, sizeof(b)));
	if (p->channel)
		rte_tel_data_add_dict_u64(d, "relay_channel", p->channel);
	rte_tel_data_add_dict_u64(d, "latest_handshake", p->last_handshake_ns / FG_NS_PER_S);
	rte_tel_data_add_dict_u64(d, "rx_bytes", p->rx_bytes);
	rte_tel_data_add_dict_u64(d, "tx_bytes", p->tx_bytes);
	rte_tel_data_add_dict_u64(d, "persistent_keepalive", p->keepalive);
	rte_tel_data_add_dict_u64(d, "allowed_ips_count", p->n_allowed);
	rte_tel_data_start_array(c, RTE_TEL_STRING_VAL);
	for (unsigned i = 0; i < shown; i++) {
		char a[FG_PREFIX_STRLEN];

		rte_tel_data_add_array_string(c, fg_prefix_format(&p->allowed[i], a, sizeof(a)));
	}
	add_container(d, "allowed_ips", c);
}

static int put_peers(struct rte_tel_data *d, const struct snap_peers *ps)
{
	/* [0] the peers, [1 + 2i] peer i, [2 + 2i] its allowed IPs */
	struct rte_tel_data *c[1 + 2 * FG_TELEMETRY_PEERS_PAGE];
	int r = alloc_all(c, ps->n ? 1 + 2 * ps->n : 0);

	if (r < 0)
		return r;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "total", ps->total);
	rte_tel_data_add_dict_u64(d, "start", ps->start);
	if (ps->more)
		rte_tel_data_add_dict_u64(d, "next", ps->next);
	if (!ps->n)
		return 0;
	rte_tel_data_start_dict(c[0]);
	for (uint32_t i = 0; i < ps->n; i++) {
		char name[16];

		snprintf(name, sizeof(name), "%u", ps->p[i].slot);
		put_peer(c[1 + 2 * i], c[2 + 2 * i], &ps->p[i]);
		add_container(c[0], name, c[1 + 2 * i]);
	}
	add_container(d, "peers", c[0]);
	return 0;
}

/* The command's parameter: none, or (peers) a slot number. */
static int parse_params(enum what what, const char *params, uint32_t *start)
{
	unsigned long v;
	char *end;

	*start = 0;
	if (!params || !*params)
		return 0;
	if (what != WHAT_PEERS || *params < '0' || *params > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(params, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*start = (uint32_t)v;
	return 0;
}

/* Posts the request, waits for the service lcore's answer and formats it into d. 0 or
 * -errno (DPDK then answers null): -EINVAL (bad parameter), -ENODEV (no data plane
 * attached), -ETIMEDOUT, -ENOMEM. */
static int ask(enum what what, const char *params, struct rte_tel_data *d)
{
	struct timespec deadline;
	uint32_t start;
	uint64_t ticket, one = 1;
	int r = parse_params(what, params, &start);

	if (r < 0)
		return r;
	pthread_once(&cond_once, cond_init);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += FG_TELEMETRY_TIMEOUT_MS / 1000;
	deadline.tv_nsec += (long)(FG_TELEMETRY_TIMEOUT_MS % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&ex.serial);
	pthread_mutex_lock(&ex.lock);
	if (!ex.t) {
		r = -ENODEV;
		goto out;
	}
	ex.what = what;
	ex.start = start;
	ticket = ex.asked + 1;
	__atomic_store_n(&ex.asked, ticket, __ATOMIC_RELEASE);
	/* Full (EAGAIN) only when it is awake already. */
	if (write(ex.t->efd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
		r = -errno;
		goto out;
	}
	while (ex.t && ex.answered < ticket && r == 0)
		r = -pthread_cond_timedwait(&ex.answered_cv, &ex.lock, &deadline);
	if (ex.answered >= ticket)
		r = what == WHAT_STATS ? put_stats(d, &ex.stats) : put_peers(d, &ex.peers);
	else if (r == 0)
		r = -ENODEV;
out:
	pthread_mutex_unlock(&ex.lock);
	pthread_mutex_unlock(&ex.serial);
	return r;
}

static int cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return ask(WHAT_STATS, params, d);
}

static int cmd_peers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return ask(WHAT_PEERS, params, d);
}

/* ---- set-up ----------------------------------------------------------------------------- */

/* Under ex.lock. DPDK keeps a command for the process's lifetime: each is registered once. */
static int register_commands(void)
{
	static const struct {
		const char *cmd;
		telemetry_cb fn;
		const char *help;
	} cmds[] = {
		{ "/fastgate/stats", cmd_stats, "fastgate: counters, drops and per-lcore load. Takes no parameters" },
		{ "/fastgate/peers", cmd_peers,
		  "fastgate: peers in slot order, a page at a time. Parameters: int first slot (default 0)" },
	};

	for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		int r;

		if (ex.registered & (1u << i))
			continue;
		r = rte_telemetry_register_cmd(cmds[i].cmd, cmds[i].fn, cmds[i].help);
		if (r < 0)
			return r;
		ex.registered |= 1u << i;
	}
	return 0;
}

struct fg_telemetry *fg_telemetry_open(struct fg_svc *s)
{
	struct fg_telemetry *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return NULL;
	t->svc = s;
	t->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (t->efd < 0) {
		r = -errno;
		goto err_free;
	}
	pthread_mutex_lock(&ex.lock);
	r = ex.t ? -EBUSY : register_commands();
	pthread_mutex_unlock(&ex.lock);
	if (r < 0)
		goto err_close;
	r = fg_svc_attach(s, &attach_ops, t, t->efd);
	if (r < 0)
		goto err_close;
	pthread_mutex_lock(&ex.lock);
	t->seen = ex.asked;
	ex.answered = ex.asked;
	ex.t = t;
	pthread_mutex_unlock(&ex.lock);
	return t;

err_close:
	close(t->efd);
err_free:
	free(t);
	errno = -r;
	return NULL;
}

void fg_telemetry_close(struct fg_telemetry *t)
{
	if (!t)
		return;
	pthread_once(&cond_once, cond_init);
	pthread_mutex_lock(&ex.lock);
	if (ex.t == t) {
		ex.t = NULL;
		pthread_cond_broadcast(&ex.answered_cv);
	}
	pthread_mutex_unlock(&ex.lock);
	fg_svc_detach(t->svc, t);
	close(t->efd);
	free(t);
}
