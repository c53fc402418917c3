// SPDX-License-Identifier: MIT
/*
 * The TURN client's interop driver: fastgate's relay set (controlplane/relay, a pure state
 * machine) over one kernel UDP socket bound where the WireGuard port would be, pointed at a
 * real TURN server (coturn in tests/e2e/test_turn_coturn.sh). One relay, named on the command
 * line with its username and password (the portal's `<expiry>:<random>` and
 * base64(HMAC-SHA1(secret, username))). A poll loop runs the set's timers
 * (fg_relay_next_timeout) and reads commands from stdin, one at a time, each with a
 * deadline, so the test script can act on the relay (restart it) between steps:
 *
 *   timeout SECS              deadline of the commands that follow (default 30)
 *   wait allocations|lost|refreshes|deletes|failed N
 *                             until that many were seen since the start
 *   bind PEER                 CHANNEL-BIND to PEER, until bound
 *   echo PEER SIZE...         random payloads of those sizes as ChannelData through the
 *                             channel to PEER, each until it comes back byte-exact
 *   creds USER PASSWORD       a new portal update with other credentials
 *   state                     one line with the relay's view
 *   quit                      counters, exit 0
 *
 * It prints one line per observation on stdout ("srflx A", "relayed A", "reallocated A",
 * "allocation lost", "refreshed ...", "released ...", "channel 0x4000 bound to P", "data
 * echoed N bytes ...", "allocation failed: why"), a trace of every STUN request and answer
 * ("tx"/"rx" lines, with the attribute types an answer carried) and "ok CMD" when a command
 * is done; a command that misses its deadline prints "FAIL: ..." and exits 1. The relay
 * set logs through common/log.h on stderr (FASTGATE_LOG=debug for more). One thread owns
 * everything.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "addr.h"
#include "chandata.h"
#include "log.h"
#include "relay.h"
#include "stun.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
#define RELAY_ID "coturn"

enum {
	BUF_LEN = 65536,
	LINE_LEN = 2048,
	MAX_ARGS = 16,
	MAX_SIZES = 12,
	MAX_ECHO = 8192,
	SENT_MAX = 64,             /* requests remembered for the trace */
	ECHO_RESEND_MS = 1000,
	DEFAULT_TIMEOUT_S = 30,
};

/* A request the set sent, to name its answer in the trace. */
struct sent {
	bool used;
	uint16_t method;
	bool delete;               /* REFRESH with LIFETIME 0 */
	uint8_t txid[FG_STUN_TXID_LEN];
};

enum counter {
	C_ALLOCATIONS,             /* relayed address set (new or changed) */
	C_LOST,
	C_REFRESHES,               /* REFRESH answered with a lifetime */
	C_DELETES,                 /* REFRESH lifetime 0 answered */
	C_FAILED,
	C_N,
};

static const char *const counter_names[C_N] = {
	"allocations", "lost", "refreshes", "deletes", "failed",
};

struct cmd {
	char *argv[MAX_ARGS];
	int argc;
	bool active;
	uint64_t deadline;
	/* wait */
	int counter;
	unsigned want;
	/* bind, echo */
	struct fg_endpoint peer;
	int channel;
	size_t sizes[MAX_SIZES];
	unsigned nsizes, at;
	uint8_t payload[MAX_ECHO];
	uint64_t resend;
};

struct drv {
	int fd;
	struct fg_endpoint local;
	struct fg_relay_set *set;
	struct fg_relay_info info;
	uint64_t t0, timeout_ns;
	unsigned counts[C_N];
	struct fg_endpoint srflx, relayed;
	struct sent sent[SENT_MAX];
	unsigned sent_pos;
	char line[LINE_LEN];       /* what stdin gave, up to the next newline and beyond */
	size_t line_len;
	char cur[LINE_LEN];        /* the command being run: cmd.argv points into it */
	bool stdin_eof;
	bool quit;
	enum fg_relay_state state;  /* as last seen, for the "state" lines */
	struct cmd cmd;
	uint8_t buf[BUF_LEN];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* One observation line, stamped with seconds since the start. */
__attribute__((format(printf, 2, 3))) static void say(const struct drv *d, const char *fmt, ...)
{
	uint64_t t = mono_ns() - d->t0;
	va_list ap;

	printf("[%3llu.%03llu] ", (unsigned long long)(t / NS_PER_S),
	       (unsigned long long)(t % NS_PER_S / NS_PER_MS));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

__attribute__((format(printf, 2, 3), noreturn)) static void fail(const struct drv *d, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	(void)d;
	exit(1);
}

static const char *ep_str(const struct fg_endpoint *ep, char *buf, size_t len)
{
	return ep->ip.family ? fg_endpoint_format(ep, buf, len) : "-";
}

static const char *method_name(uint16_t method)
{
	switch (method) {
	case FG_STUN_BINDING:
		return "BINDING";
	case FG_STUN_ALLOCATE:
		return "ALLOCATE";
	case FG_STUN_REFRESH:
		return "REFRESH";
	case FG_STUN_CHANNEL_BIND:
		return "CHANNEL-BIND";
	case FG_STUN_CREATE_PERMISSION:
		return "CREATE-PERMISSION";
	default:
		return "?";
	}
}

static struct sent *sent_find(struct drv *d, const uint8_t *txid)
{
	for (unsigned i = 0; i < SENT_MAX; i++)
		if (d->sent[i].used && !memcmp(d->sent[i].txid, txid, FG_STUN_TXID_LEN))
			return &d->sent[i];
	return NULL;
}

/* The trace of a request the set sends: first transmissions only. */
static void trace_tx(struct drv *d, const uint8_t *buf, size_t len)
{
	struct fg_stun_msg m;
	struct sent *s;
	uint32_t lifetime = 1;

	if (fg_stun_parse(buf, len, &m, NULL, 0) != 0 || m.cls != FG_STUN_REQUEST)
		return;
	if (sent_find(d, m.txid))
		return;
	s = &d->sent[d->sent_pos++ % SENT_MAX];
	s->used = true;
	s->method = m.method;
	memcpy(s->txid, m.txid, FG_STUN_TXID_LEN);
	s->delete = m.method == FG_STUN_REFRESH &&
		    fg_stun_get_u32(&m, FG_STUN_ATTR_LIFETIME, &lifetime) == 0 && lifetime == 0;
	say(d, "tx %s%s%s", method_name(m.method), s->delete ? " lifetime=0" : "",
	    fg_stun_has(&m, FG_STUN_ATTR_MESSAGE_INTEGRITY) ? " (authenticated)" : "");
}

static void on_send(void *ctx, const struct fg_endpoint *to, const uint8_t *buf, size_t len)
{
	struct drv *d = ctx;
	struct sockaddr_storage ss;
	socklen_t sl = fg_endpoint_to_sockaddr(to, &ss);

	if (fg_chandata_classify(buf, len) == FG_DGRAM_STUN)
		trace_tx(d, buf, len);
	/* A full socket buffer is a lost datagram: the set retransmits. */
	if (sendto(d->fd, buf, len, 0, (struct sockaddr *)&ss, sl) < 0)
		fg_warn("turn-client", "sendto: %s", strerror(errno));
}

static void on_event(void *ctx, const struct fg_relay_event *ev)
{
	struct drv *d = ctx;
	char a[FG_ENDPOINT_STRLEN];

	switch (ev->type) {
	case FG_RELAY_EV_CANDIDATES:
		if (!fg_endpoint_equal(&d->srflx, &ev->srflx4) && ev->srflx4.ip.family)
			say(d, "srflx %s", ep_str(&ev->srflx4, a, sizeof(a)));
		d->srflx = ev->srflx4;
		if (ev->relayed4.ip.family && !fg_endpoint_equal(&d->relayed, &ev->relayed4)) {
			d->counts[C_ALLOCATIONS]++;
			say(d, "%s %s", d->counts[C_ALLOCATIONS] > 1 ? "reallocated, relayed" : "relayed",
			    ep_str(&ev->relayed4, a, sizeof(a)));
		}
		d->relayed = ev->relayed4;
		break;
	case FG_RELAY_EV_ALLOCATION_LOST:
		d->counts[C_LOST]++;
		memset(&d->relayed, 0, sizeof(d->relayed));
		say(d, "allocation lost (relayed %s)", ep_str(&ev->relayed4, a, sizeof(a)));
		break;
	case FG_RELAY_EV_CHANNEL_BOUND:
		say(d, "channel 0x%04x bound to %s", ev->channel, ep_str(&ev->peer, a, sizeof(a)));
		break;
	case FG_RELAY_EV_CHANNEL_UNBOUND:
		say(d, "channel 0x%04x unbound from %s", ev->channel, ep_str(&ev->peer, a, sizeof(a)));
		break;
	case FG_RELAY_EV_REMOVED:
		say(d, "relay removed");
		break;
	case FG_RELAY_EV_NO_RELAYS:
		say(d, "no relays");
		break;
	case FG_RELAY_EV_RELAYS_BACK:
		say(d, "relays back");
		break;
	}
}

struct view_ctx {
	struct fg_relay_view v;
	bool found;
};

static void view_cb(void *ctx, const struct fg_relay_view *v)
{
	struct view_ctx *c = ctx;

	if (!strcmp(v->id, RELAY_ID)) {
		c->v = *v;
		c->found = true;
	}
}

static bool view(const struct drv *d, uint64_t now, struct fg_relay_view *v)
{
	struct view_ctx c = { .found = false };

	fg_relay_foreach(d->set, now, view_cb, &c);
	*v = c.v;
	return c.found;
}

static double secs_until(uint64_t at, uint64_t now)
{
	return at > now ? (double)(at - now) / NS_PER_S : -(double)(now - at) / NS_PER_S;
}

static void attr_list(const struct fg_stun_msg *m, char *out, size_t cap)
{
	struct fg_stun_attr a;
	size_t pos = 0, n = 0;

	out[0] = '\0';
	while (fg_stun_attr_next(m, &pos, &a) && n + 6 < cap)
		n += (size_t)snprintf(out + n, cap - n, "%s%04x", n ? "," : "", a.type);
	/* fg_stun_attr_next stops at MESSAGE-INTEGRITY: name what follows too. */
	if (fg_stun_has(m, FG_STUN_ATTR_MESSAGE_INTEGRITY) && n + 6 < cap)
		n += (size_t)snprintf(out + n, cap - n, ",0008");
	if (fg_stun_has(m, FG_STUN_ATTR_FINGERPRINT) && n + 6 < cap)
		snprintf(out + n, cap - n, ",8028");
}

/* A STUN datagram from the relay: traced, handed to the set, and what it changed said. */
static void stun_in(struct drv *d, const struct fg_endpoint *from, const uint8_t *buf, size_t len,
		    uint64_t now)
{
	struct fg_relay_view before, after;
	char err[128], attrs[256];
	struct fg_stun_msg m;
	struct sent *s = NULL;
	const char *reason = "";
	size_t rlen = 0;
	unsigned code = 0;
	uint32_t lifetime = 0;
	int rc;

	rc = fg_stun_parse(buf, len, &m, err, sizeof(err));
	if (rc == -EBADMSG) {
		say(d, "rx unparsable STUN (%zu bytes): %s", len, err);
	} else {
		s = sent_find(d, m.txid);
		attr_list(&m, attrs, sizeof(attrs));
		fg_stun_get_error(&m, &code, &reason, &rlen);
		fg_stun_get_u32(&m, FG_STUN_ATTR_LIFETIME, &lifetime);
		if (m.cls == FG_STUN_ERROR)
			say(d, "rx %s error %u \"%.*s\" attrs=%s%s", method_name(m.method), code,
			    (int)(rlen > 64 ? 64 : rlen), reason, attrs,
			    rc == -ENOTSUP ? " (unknown comprehension-required attributes)" : "");
		else
			say(d, "rx %s %s attrs=%s%s", method_name(m.method),
			    m.cls == FG_STUN_SUCCESS ? "success" : "non-response", attrs,
			    rc == -ENOTSUP ? " (unknown comprehension-required attributes)" : "");
	}
	view(d, now, &before);
	if (fg_relay_input(d->set, from, buf, len, now) != 0)
		say(d, "rx from an address that is not the relay's");
	view(d, now, &after);
	if (!s || rc != 0 || m.cls != FG_STUN_SUCCESS || s->method != FG_STUN_REFRESH)
		return;
	s->used = false;
	if (s->delete) {
		d->counts[C_DELETES]++;
		say(d, "released the old allocation (REFRESH lifetime 0 answered)");
	} else if (after.state == FG_RELAY_ALLOCATED && after.expires_ns > before.expires_ns) {
		d->counts[C_REFRESHES]++;
		say(d, "refreshed: lifetime %u s, %.1f s before the expiry it replaces", lifetime,
		    secs_until(before.expires_ns, now));
	}
}

/* ChannelData from the relay: the echo being waited for, or a stray. */
static void chandata_in(struct drv *d, const struct fg_endpoint *from, const uint8_t *buf,
			size_t len, uint64_t now)
{
	struct cmd *c = &d->cmd;
	struct fg_relay_rx rx;
	char a[FG_ENDPOINT_STRLEN];
	int rc = fg_relay_unwrap(d->set, from, buf, len, now, &rx);

	if (rc < 0) {
		say(d, "ChannelData dropped: %s", strerror(-rc));
		return;
	}
	if (c->active && !strcmp(c->argv[0], "echo") && c->at < c->nsizes &&
	    fg_endpoint_equal(&rx.peer, &c->peer) && rx.len == c->sizes[c->at] &&
	    !memcmp(rx.data, c->payload, rx.len)) {
		say(d, "data echoed %zu bytes byte-exact through channel 0x%04x from %s%s", rx.len,
		    rx.channel, ep_str(&rx.peer, a, sizeof(a)),
		    len > FG_CHANDATA_HEADER_LEN + rx.len ? " (padded)" : "");
		c->at++;
		c->resend = 0;
		return;
	}
	say(d, "ChannelData of %zu bytes on 0x%04x from %s is not the echo awaited", rx.len,
	    rx.channel, ep_str(&rx.peer, a, sizeof(a)));
}

static void sock_in(struct drv *d)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct fg_endpoint from;
		ssize_t n = recvfrom(d->fd, d->buf, sizeof(d->buf), MSG_DONTWAIT,
				     (struct sockaddr *)&ss, &sl);
		uint64_t now = mono_ns();

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				fg_warn("turn-client", "recvfrom: %s", strerror(errno));
			return;
		}
		if (fg_endpoint_from_sockaddr((struct sockaddr *)&ss, sl, &from) < 0)
			continue;
		switch (fg_chandata_classify(d->buf, (size_t)n)) {
		case FG_DGRAM_STUN:
			stun_in(d, &from, d->buf, (size_t)n, now);
			break;
		case FG_DGRAM_CHANDATA:
			chandata_in(d, &from, d->buf, (size_t)n, now);
			break;
		default:
			say(d, "datagram of %zd bytes that is neither STUN nor ChannelData", n);
			break;
		}
	}
}

static void echo_send(struct drv *d, uint64_t now)
{
	struct cmd *c = &d->cmd;
	struct fg_endpoint to;
	uint8_t out[MAX_ECHO + FG_CHANDATA_HEADER_LEN];
	struct sockaddr_storage ss;
	socklen_t sl;
	int n;

	if (c->resend == 0)
		RAND_bytes(c->payload, (int)c->sizes[c->at]);
	n = fg_relay_wrap(d->set, RELAY_ID, &c->peer, c->payload, c->sizes[c->at], out, sizeof(out),
			  &to, now);
	c->resend = now + ECHO_RESEND_MS * NS_PER_MS;
	if (n < 0) {
		say(d, "cannot wrap %zu bytes for the echo: %s", c->sizes[c->at], strerror(-n));
		return;
	}
	sl = fg_endpoint_to_sockaddr(&to, &ss);
	if (sendto(d->fd, out, (size_t)n, 0, (struct sockaddr *)&ss, sl) < 0)
		fg_warn("turn-client", "sendto: %s", strerror(errno));
}

struct chan_ctx {
	int number;
	bool bound;
};

static void chan_cb(void *ctx, const struct fg_relay_channel_view *v)
{
	struct chan_ctx *c = ctx;

	if (v->number == c->number && v->state == FG_RELAY_CHAN_BOUND)
		c->bound = true;
}

/* Says every change of the relay's state; FAILED counts as "failed". */
static void watch_state(struct drv *d, uint64_t now)
{
	struct fg_relay_view v;

	if (!view(d, now, &v) || v.state == d->state)
		return;
	say(d, "state %s -> %s", d->state ? fg_relay_state_name(d->state) : "none",
	    fg_relay_state_name(v.state));
	d->state = v.state;
	if (v.state == FG_RELAY_FAILED) {
		d->counts[C_FAILED]++;
		say(d, "allocation failed: %s", v.failure);
	}
}

static int counter_of(const char *name)
{
	for (int i = 0; i < C_N; i++)
		if (!strcmp(name, counter_names[i]))
			return i;
	return -1;
}

static void set_creds(struct drv *d, const char *user, const char *pass)
{
	if (snprintf(d->info.username, sizeof(d->info.username), "%s", user) >=
		    (int)sizeof(d->info.username) ||
	    snprintf(d->info.password, sizeof(d->info.password), "%s", pass) >=
		    (int)sizeof(d->info.password))
		fail(d, "credentials too long");
}

static void update(struct drv *d, uint64_t now)
{
	int rc = fg_relay_update(d->set, &d->info, 1, true, now);

	/* The set keeps the key it derived; the password is of no further use here. */
	OPENSSL_cleanse(d->info.password, sizeof(d->info.password));
	if (rc < 0)
		fail(d, "fg_relay_update: %s", strerror(-rc));
}

/* Starts the command in d->cmd.argv; it may be done at once (active stays false). */
static void cmd_start(struct drv *d, uint64_t now)
{
	struct cmd *c = &d->cmd;
	const char *name = c->argv[0];

	c->active = true;
	c->deadline = now + d->timeout_ns;
	if (!strcmp(name, "timeout") && c->argc == 2) {
		d->timeout_ns = strtoull(c->argv[1], NULL, 10) * NS_PER_S;
		c->active = false;
	} else if (!strcmp(name, "wait") && c->argc == 3 && counter_of(c->argv[1]) >= 0) {
		c->counter = counter_of(c->argv[1]);
		c->want = (unsigned)strtoul(c->argv[2], NULL, 10);
	} else if (!strcmp(name, "bind") && c->argc == 2 &&
		   fg_endpoint_parse(c->argv[1], &c->peer) == 0) {
		c->channel = fg_relay_bind_channel(d->set, RELAY_ID, &c->peer, now);
		if (c->channel < 0)
			fail(d, "bind %s: %s", c->argv[1], strerror(-c->channel));
	} else if (!strcmp(name, "echo") && c->argc >= 3 && c->argc - 2 <= MAX_SIZES &&
		   fg_endpoint_parse(c->argv[1], &c->peer) == 0) {
		c->nsizes = 0;
		c->at = 0;
		c->resend = 0;
		for (int i = 2; i < c->argc; i++) {
			unsigned long n = strtoul(c->argv[i], NULL, 10);

			if (n == 0 || n > MAX_ECHO)
				fail(d, "echo: size %s not in 1..%d", c->argv[i], MAX_ECHO);
			c->sizes[c->nsizes++] = n;
		}
	} else if (!strcmp(name, "creds") && c->argc == 3) {
		set_creds(d, c->argv[1], c->argv[2]);
		say(d, "portal update: new credentials (username %s)", d->info.username);
		update(d, now);
		watch_state(d, now);
		OPENSSL_cleanse(c->argv[2], strlen(c->argv[2]));
		c->active = false;
	} else if (!strcmp(name, "state") && c->argc == 1) {
		struct fg_relay_view v;
		char a[FG_ENDPOINT_STRLEN], b[FG_ENDPOINT_STRLEN];

		if (!view(d, now, &v))
			fail(d, "state: relay gone");
		say(d, "state %s srflx %s relayed %s expires in %.1f s channels %u/%u%s%s",
		    fg_relay_state_name(v.state), ep_str(&v.srflx4, a, sizeof(a)),
		    ep_str(&v.relayed4, b, sizeof(b)), v.expires_ns ? secs_until(v.expires_ns, now) : 0.0,
		    v.channels_bound, v.channels_total, v.failure[0] ? " failure: " : "", v.failure);
		c->active = false;
	} else if (!strcmp(name, "quit") && c->argc == 1) {
		const struct fg_relay_counters *k = fg_relay_counters(d->set);
		const uint64_t *vals = (const uint64_t *)k;

		for (int i = 0; i < FG_RELAY_N_COUNTERS; i++)
			if (vals[i])
				say(d, "counter %s %llu", fg_relay_counter_names[i],
				    (unsigned long long)vals[i]);
		d->quit = true;
		c->active = false;
	} else {
		fail(d, "bad command: %s (argc %d)", name, c->argc);
	}
	if (!c->active)
		say(d, "ok %s", name);
}

/* Whether the command is done; fails at its deadline. */
static void cmd_check(struct drv *d, uint64_t now)
{
	struct cmd *c = &d->cmd;
	const char *name = c->argv[0];
	bool done = false;

	if (!strcmp(name, "wait")) {
		done = d->counts[c->counter] >= c->want;
	} else if (!strcmp(name, "bind")) {
		struct chan_ctx cc = { .number = c->channel, .bound = false };

		fg_relay_foreach_channel(d->set, RELAY_ID, chan_cb, &cc);
		done = cc.bound;
	} else if (!strcmp(name, "echo")) {
		done = c->at == c->nsizes;
		if (!done && now >= c->resend)
			echo_send(d, now);
	}
	if (done) {
		c->active = false;
		say(d, "ok %s", name);
		return;
	}
	if (now >= c->deadline) {
		struct fg_relay_view v;

		view(d, now, &v);
		fail(d, "%s%s%s: not done after %llu s (relay %s%s%s)", name, c->argc > 1 ? " " : "",
		     c->argc > 1 ? c->argv[1] : "", (unsigned long long)(d->timeout_ns / NS_PER_S),
		     fg_relay_state_name(v.state), v.failure[0] ? ": " : "", v.failure);
	}
}

/* Takes the next complete line from the stdin buffer into d->cmd; false when none. */
static bool next_line(struct drv *d)
{
	struct cmd *c = &d->cmd;
	char *nl = memchr(d->line, '\n', d->line_len);
	char *cur = d->cur;
	size_t n;
	char *save = NULL;

	if (!nl)
		return false;
	n = (size_t)(nl - d->line);
	memcpy(cur, d->line, n);
	cur[n] = '\0';
	memmove(d->line, nl + 1, d->line_len - n - 1);
	d->line_len -= n + 1;
	/* "creds" lines carry a password: no copy of it stays behind. */
	OPENSSL_cleanse(d->line + d->line_len, sizeof(d->line) - d->line_len);
	c->argc = 0;
	for (char *t = strtok_r(cur, " \t\r", &save); t && c->argc < MAX_ARGS;
	     t = strtok_r(NULL, " \t\r", &save))
		c->argv[c->argc++] = t;
	return c->argc > 0;
}

static void stdin_in(struct drv *d)
{
	ssize_t n = read(STDIN_FILENO, d->line + d->line_len, sizeof(d->line) - d->line_len - 1);

	if (n == 0) {
		d->stdin_eof = true;
		return;
	}
	if (n < 0) {
		if (errno != EINTR && errno != EAGAIN)
			fail(d, "stdin: %s", strerror(errno));
		return;
	}
	d->line_len += (size_t)n;
	if (d->line_len == sizeof(d->line) - 1 && !memchr(d->line, '\n', d->line_len))
		fail(d, "command line too long");
}

static int open_socket(const struct fg_endpoint *local)
{
	struct sockaddr_storage ss;
	socklen_t sl = fg_endpoint_to_sockaddr(local, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

static void usage(void)
{
	fprintf(stderr, "usage: turn_client --local ADDR:PORT --relay ADDR:PORT --user USER\n"
			"                   (--password-file FILE | --password PASSWORD)\n"
			"commands on stdin: see tests/interop/turn_client.c\n");
	exit(2);
}

static void read_password(struct drv *d, const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		fail(d, "%s: %s", path, strerror(errno));
	n = fread(d->info.password, 1, sizeof(d->info.password) - 1, f);
	fclose(f);
	while (n && (d->info.password[n - 1] == '\n' || d->info.password[n - 1] == '\r'))
		n--;
	d->info.password[n] = '\0';
}

static void parse_args(struct drv *d, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "local", required_argument, NULL, 'l' },
		{ "relay", required_argument, NULL, 'r' },
		{ "user", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'p' },
		{ "password-file", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'l':
			if (fg_endpoint_parse(optarg, &d->local) < 0)
				fail(d, "--local %s: not ADDR:PORT", optarg);
			break;
		case 'r':
			if (fg_endpoint_parse(optarg, &d->info.addr4) < 0 ||
			    d->info.addr4.ip.family != AF_INET)
				fail(d, "--relay %s: not an IPv4 ADDR:PORT", optarg);
			break;
		case 'u':
			snprintf(d->info.username, sizeof(d->info.username), "%s", optarg);
			break;
		case 'p':
			snprintf(d->info.password, sizeof(d->info.password), "%s", optarg);
			break;
		case 'P':
			read_password(d, optarg);
			break;
		default:
			usage();
		}
	}
	if (!d->local.ip.family || !d->info.addr4.ip.family || !d->info.username[0] ||
	    !d->info.password[0])
		usage();
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

int main(int argc, char **argv)
{
	static struct drv drv;
	static const struct fg_relay_ops ops = { .send = on_send, .event = on_event };
	struct drv *d = &drv;

	fg_log_init();
	d->t0 = mono_ns();
	d->timeout_ns = DEFAULT_TIMEOUT_S * NS_PER_S;
	snprintf(d->info.id, sizeof(d->info.id), RELAY_ID);
	parse_args(d, argc, argv);
	d->fd = open_socket(&d->local);
	if (d->fd < 0)
		fail(d, "socket on the --local address: %s", strerror(-d->fd));
	d->set = fg_relay_set_new(&ops, d, NULL);
	if (!d->set)
		fail(d, "fg_relay_set_new: %s", strerror(errno));
	update(d, mono_ns());
	watch_state(d, mono_ns());
	for (;;) {
		struct pollfd pfd[2] = { { .fd = d->fd, .events = POLLIN }, { .events = POLLIN } };
		uint64_t now = mono_ns(), next;
		int ms;

		if (!d->cmd.active && next_line(d))
			cmd_start(d, now);
		if (d->quit)
			break;
		if (d->cmd.active)
			cmd_check(d, now);
		if (!d->cmd.active && d->stdin_eof && !memchr(d->line, '\n', d->line_len))
			break;
		if (!d->cmd.active && memchr(d->line, '\n', d->line_len))
			continue;
		/* stdin is read only between commands: the next one waits in the pipe. */
		pfd[1].fd = d->cmd.active || d->stdin_eof ? -1 : STDIN_FILENO;
		next = fg_relay_next_timeout(d->set);
		if (d->cmd.active) {
			next = min_u64(next, d->cmd.deadline);
			if (!strcmp(d->cmd.argv[0], "echo"))
				next = min_u64(next, d->cmd.resend);
		}
		ms = next == UINT64_MAX ? -1 : next <= now ? 0 : (int)min_u64((next - now + NS_PER_MS - 1) / NS_PER_MS, 60000);
		if (poll(pfd, 2, ms) < 0 && errno != EINTR)
			fail(d, "poll: %s", strerror(errno));
		if (pfd[0].revents & POLLIN)
			sock_in(d);
		if (pfd[1].revents & (POLLIN | POLLHUP))
			stdin_in(d);
		now = mono_ns();
		if (fg_relay_next_timeout(d->set) <= now)
			fg_relay_tick(d->set, now);
		watch_state(d, now);
	}
	fg_relay_set_free(d->set);
	close(d->fd);
	OPENSSL_cleanse(&d->info, sizeof(d->info));
	OPENSSL_cleanse(d->line, sizeof(d->line));
	OPENSSL_cleanse(d->cur, sizeof(d->cur));
	return 0;
}
