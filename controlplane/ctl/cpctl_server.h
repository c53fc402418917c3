/* SPDX-License-Identifier: MIT */
/*
 * The control plane's side of the fastgatectl socket: a Unix stream socket that speaks JSON
 * lines. A client sends one request object per line ({"cmd":"status"}; commands status,
 * peers, resources, relays, ice, stats, flows, nat) and reads one response object per line:
 * what the provider returned, or {"error":"..."}. Request lines are at most FG_CPCTL_MAX_LINE bytes;
 * at most FG_CPCTL_MAX_CONNS connections are open at once; a connection answers its
 * requests in order, one at a time, so it never holds more than one response (which may be
 * megabytes: 10,000 peers) plus one line buffer. Independent of any event loop: the caller
 * polls the descriptors and calls in when they are ready. Everything here, including the
 * count of open connections, belongs to the control plane's single thread.
 *
 * Responses (the provider builds them; fastgatectl renders every field; times are Unix
 * seconds; a field marked |null may also be absent; counts are JSON numbers, exact to 2^53):
 *   status    {"version":"0.1.0","uptime_s":12,
 *              "portal":{"state":"connected"|"connecting"|"backoff"|"disconnected",
 *                        "url":"wss://host/gateway/v2/websocket","connected_since":T|null,
 *                        "reconnects":0,"last_error":"..."|null},
 *              "dataplane":{"connected":true,"version":"0.1.0"|null,"tun":"tun-firezone"|null,
 *                           "public_key":"b64"|null,"listen_port":51820|null,"peers":2|null,
 *                           "workers":1|null,"responding":true|null,
 *                           "error":"no answer within 1 s"|null}}
 *             (responding: the data plane answered for its counters in time; without it
 *              status answers from the control plane's own state)
 *   peers     {"peers":[{"client_id":"...","public_key":"b64","ipv4":"100.64.0.2"|null,
 *              "ipv6":"fd00:..."|null,"endpoint":"198.18.1.2:51820"|null,
 *              "last_handshake":T|null,"rx_bytes":N,"tx_bytes":N,"resources":N}]}
 *   resources {"resources":[{"client_id":"...","resource_id":"...","name":"..."|null,
 *              "type":"cidr"|"internet"|"dns","address":"10.0.0.0/8"|null,
 *              "filters":[{"protocol":"tcp"|"udp"|"icmp","port_range_start":80,
 *                          "port_range_end":80}],          (ports absent: the whole protocol;
 *              "expires_at":T|null}]}                       [] : everything allowed)
 *   relays    {"relays":[{"id":"r1","addrs":["198.18.4.1:3478"],"username":"...",
 *              "state":"allocated"|"binding"|"allocating"|"deleting"|"failed",
 *              "probing":false,"active":"198.18.4.1:3478"|null,
 *              "srflx":["198.18.9.2:51820"],"relayed":["198.18.4.1:49160"],
 *              "expires_in_s":551.2,"refresh_in_s":251.0,"rtt_ms":0.4,"channels_bound":1,
 *              "channels":[{"number":16384,"state":"bound"|"binding"|"pending"|"expired",
 *                           "peer":"198.18.9.2:40000"|null,"expires_in_s":590.1,
 *                           "used":true}],
 *              "failure":"..."}],                          (failure: only when failed)
 *              "allocation":true,"without_relays":false,
 *              "counters":{"rx_not_stun":N,...,"no_relays_sent":N,
 *                          "confirmations_withheld":N}}
 *             (passwords never appear; seconds are from now, negative once past, 0 when
 *              not set; rtt_ms 0: not measured. allocation: some relay holds one;
 *              without_relays: authorizations are confirmed without one. The control
 *              plane before ICE sent only id, addrs, username and "expires_at":T|null.)
 *   ice       {"agents":[{"client_id":"c1",
 *              "state":"checking"|"connected"|"disconnected"|"failed",
 *              "idle":false,"local_ufrag":"ejqt","remote_ufrag":"hgwh","age_s":12.3,
 *              "relay_id":"r1"|null,
 *              "nominated":{"local":"198.18.1.1:51820"|null,"local_type":"host"|"relay"|...,
 *                           "remote":"198.18.9.2:40000"|null,"remote_type":"srflx"|...,
 *                           "relay_id":"r1",               (only when relayed)
 *                           "type":"direct"|"relayed",
 *                           "wireguard_endpoint":"198.18.4.1:3478"|null,
 *                           "channel":16384,"since_s":10.1}|null,
 *              "pairs":[{"local":"...","local_type":"host","remote":"...",
 *                        "remote_type":"srflx","relay_id":"r1",   (only a relay candidate's)
 *                        "state":"succeeded"|"frozen"|"waiting"|"in-progress"|"failed",
 *                        "priority":N,"nominated":true,"selected":true,"checks_sent":N,
 *                        "requests_received":N,"rtt_ms":0.3}],
 *              "candidates":{"local":["candidate:..."],"remote":["candidate:..."]},
 *              "held_signals":N,"failure":"...",          (failure: only when failed)
 *              "counters":{"rx_requests":N,...}},           (the non-zero ones)
 *             {"client_id":"c2","state":"waiting","remote_candidates":N}],
 *              "host4":"198.18.1.1:51820"|null,"host6":"[2001:db8::1]:51820"|null,
 *              "counters":{"packets_in":N,...}}
 *             (a "waiting" agent has candidates from the client but no authorization yet,
 *              and only those three fields; age_s and since_s are seconds ago; channel 0:
 *              none, a direct path)
 *   stats     {"aead":"libsodium","workers":1,"peers":2,"tsc_hz":N,
 *              "heap":{"total":N,"allocated":N,"free":N,"largest_free":N},
 *              "handshakes":{"initiated":N,"responded":N,"completed":N,"cookies_sent":N,
 *                            "keepalives_sent":N,"roams":N},
 *              "drops":{"<reason>":N,...},
 *              "lcores":[{"name":"service"|"worker0",
 *                         "nic_rx_packets":N,"nic_rx_bytes":N,"nic_tx_packets":N,
 *                         "nic_tx_bytes":N,"tun_rx_packets":N,"tun_rx_bytes":N,
 *                         "tun_tx_packets":N,"tun_tx_bytes":N,"decrypted":N,"encrypted":N,
 *                         "polls":N,"busy_polls":N,"busy_cycles":N,"cycles":N,
 *                         "polls_1s":N,"busy_polls_1s":N,"busy_cycles_1s":N,"cycles_1s":N,
 *                         "busy_ratio":R,"work_ratio":R,"busy_ratio_1s":R,"work_ratio_1s":R,
 *                         "<other counter>":N,...}],   (other counters show as extra columns)
 *              "nat":{"translated_out":N,"translated_in":N,"icmp_translated":N,"created":N,
 *                     "expired":N,"misses":N,"live":N},      (the data plane's connection table)
 *              "flows":{"started":N,"completed":N,"live":N,"lost":N},
 *              "p2p":{"in":N,"out":N},
 *              "dns_resources":{"assigned_ips":N,"malformed":N,"refused":N,"resolved":N,
 *                               "timeouts":N,"busy":N,"resets":N,"active":N,"inactive":N}}
 *             (heap: the data plane's DPDK heap in bytes, rte_malloc_get_socket_stats summed
 *              over its sockets, largest_free the largest free block of any;
 *              nat, flows, p2p: from the data plane, summed over its workers; dns_resources:
 *              the control plane's own; each absent from older versions. The lcores' load:
 *              a poll is one pass of the lcore's loop, a busy poll one that found work (a
 *              packet or a message); busy_cycles are the TSC cycles of busy polls, cycles
 *              all TSC cycles (tsc_hz per second), since the loop started or, with _1s, over
 *              the last complete window of about a second. busy_ratio = busy_polls / polls,
 *              work_ratio = busy_cycles / cycles, 0..1 with 4 decimals; null while the
 *              denominator is 0 (the _1s ones until the first window has passed))
 *   flows     {"tracking":true,"log_lines":false,"dir":"/var/lib/fastgate/flow_logs","tokens":N,
 *              "uploads":{"enabled":true,"url":"https://host/ingestion/flow_logs"|null,
 *                         "interval_s":60,"batch_size":1000,
 *                         "state":"idle"|"sending"|"backoff"|"waiting"|"off",
 *                         "last_status":200|null,
 *                         "last_error":"..."|null,"last_success":T|null},
 *              "spool":{"bytes":N,"max_bytes":N,"segments":N,"authorizations":N,
 *                       "pending":N}|null,                 (null: never opened)
 *              "counters":{"started":N,"completed":N,"ignored":N,"malformed":N,
 *                          "unattributed":N,"unspooled":N,"spooled":N,"uploaded":N,"upload_batches":N,
 *                          "upload_requests":N,"upload_failures":N,"upload_refused":N,
 *                          "dropped":N,"corrupt":N,"live_evicted":N},
 *              "flows":[{"state":"live"|"completed","protocol":"tcp"|"udp",
 *                        "client_id":"..."|null,"resource_id":"..."|null,
 *                        "src":"100.64.0.2:40000","dst":"10.0.0.5:443",
 *                        "proxy":"100.96.0.1"|null,"domain":"..."|null,
 *                        "outer":"198.18.1.2:51820"|null,"relayed":false,
 *                        "start":T,"last_packet":T|null,"end":T|null,
 *                        "end_reason":"idle"|"fin"|"rst_out"|"rst_in"|"reset"|null,
 *                        "tx_packets":N,"tx_bytes":N,"rx_packets":N,"rx_bytes":N}]}
 *             (waiting: uploads are on, the spool opens with the first report to spool;
 *              live flows first, then the last completed ones, newest first; dst is where
 *              the packets went: a DNS resource's real address, its proxy IP beside it;
 *              tx is client -> resource; the ingest token never appears)
 *   nat       {"clients":[{"client_id":"c1"|null,"public_key":"b64",
 *              "domains":[{"resource_id":"...","domain":"app.example.com",
 *                          "proxy_ips":[{"proxy_ip":"100.96.0.1","real_ip":"198.51.100.1"|null}]}],
 *              "tuples":[{"proto":"tcp"|"udp"|"icmp"|"icmpv6"|"<number>",
 *                         "proxy":"100.96.0.1","inside_port":N,"real":"198.51.100.1",
 *                         "outside_port":N,"domain":"app.example.com"|null,"worker":N,
 *                         "state":["reply","fin_out","fin_in","rst"],"created":T,
 *                         "last_out":T,"last_in":T|null,"tx_packets":N,"tx_bytes":N,
 *                         "rx_packets":N,"rx_bytes":N}]}],
 *              "tuples_available":true,"tuples_error":"...","tuples_cut":"..."}
 *             (domains: the translations the control plane set up, real_ip null when the
 *              domain has no address of the proxy IP's family; tuples: the data plane's live
 *              ones (NAT_DUMP), a client's list only when tuples_available, its ports the
 *              echo id for ICMP, tx client -> resource; tuples_error says why there are
 *              none, tuples_cut why the data plane cut the list; a client with tuples but
 *              no domains is one the control plane has not set up since it started)
 *   any       {"error":"unknown command 'x'"} and the like: see fg_cpctl_respond().
 */
#ifndef FG_CPCTL_SERVER_H
#define FG_CPCTL_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#define FG_CPCTL_DEFAULT_PATH "/var/run/fastgate/controlplane.sock"

enum {
	FG_CPCTL_MAX_LINE = 4096,   /* bytes in one request line, without its newline */
	FG_CPCTL_MAX_CONNS = 16,    /* open connections; more are answered with an error and closed */
	FG_CPCTL_MAX_CMD = 32,      /* buffer for a command name, NUL included */
	FG_CPCTL_BACKLOG = 32,
};

/* Implemented by the control plane. Each returns a new cJSON object that the server frees,
 * or NULL, which the client receives as {"error":"<cmd> unavailable"}. A NULL member is
 * treated as a callback that returned NULL. */
struct fg_cpctl_pending;

struct fg_cpctl_provider {
	cJSON *(*status)(void *ctx);
	cJSON *(*peers)(void *ctx);
	cJSON *(*resources)(void *ctx);
	cJSON *(*relays)(void *ctx);
	cJSON *(*ice)(void *ctx);
	cJSON *(*stats)(void *ctx);
	cJSON *(*flows)(void *ctx);
	cJSON *(*nat)(void *ctx);
	/* Optional, tried first: starts an answer that takes time (the data plane's) and returns
	 * 0; the provider then calls fg_cpctl_pending_done(p, ...) exactly once, later, never from
	 * inside start. Any other return falls back to the plain member above. The connection
	 * answers nothing else meanwhile (lock-step), and the loop keeps running. */
	int (*start)(void *ctx, const char *cmd, struct fg_cpctl_pending *p);
};

struct fg_cpctl_conn;

/* The answer to a started request: resp as the plain members return it (NULL: unavailable;
 * taken over). If the connection went away meanwhile, resp is just freed. The connection's
 * wake callback runs so that its owner writes the answer. */
void fg_cpctl_pending_done(struct fg_cpctl_pending *p, cJSON *resp);
/* Called when a started request's answer is ready: the owner calls
 * fg_cpctl_conn_on_writable() (which may say to free the connection). */
void fg_cpctl_conn_set_wake(struct fg_cpctl_conn *c, void (*wake)(void *arg), void *arg);

/* Creates the listening socket at path: nonblocking, cloexec, mode 0660, its directory
 * created (0755) when missing. A stale socket is unlinked; returns -EADDRINUSE if a live
 * server answers there, -EEXIST if path exists and is not a socket, -ENAMETOOLONG, or
 * another -errno. Returns the fd. The caller closes it and unlinks path at exit. */
int fg_cpctl_server_listen(const char *path);

/* One listening socket and the connections accepted from it (their count, the refusal
 * warning). Set listen_fd, zero the rest; every connection points back at it, so it
 * outlives them. */
struct fg_cpctl_server {
	int listen_fd;
	unsigned int nconns;
	bool warned_busy;  /* one warning per burst of refused connections */
};

/* Accepts one pending connection. 0 and *out set; -EAGAIN when none is pending; -EBUSY when
 * FG_CPCTL_MAX_CONNS are open (that client was sent an error line and closed: call again);
 * another -errno on failure. Call until -EAGAIN each time the listening fd is readable. */
int fg_cpctl_server_accept(struct fg_cpctl_server *s, struct fg_cpctl_conn **out);

/* Takes ownership of a connected stream fd (made nonblocking and cloexec here). NULL with
 * errno EBUSY when FG_CPCTL_MAX_CONNS are open (the fd is then left to the caller), or
 * ENOMEM. */
struct fg_cpctl_conn *fg_cpctl_conn_new(struct fg_cpctl_server *s, int fd);
/* Closes the fd and frees everything. NULL is ignored. */
void fg_cpctl_conn_free(struct fg_cpctl_conn *c);

/* Call when readable: reads what is there and answers complete lines through p (p and ctx
 * are remembered so that requests queued behind a large response are answered as it
 * drains). Returns 0, or -EPIPE (the peer is gone) / -EPROTO (request line too long: the
 * error line was sent) when the caller must free the connection. Then call
 * fg_cpctl_conn_on_writable() or check fg_cpctl_conn_wants_write(). */
int fg_cpctl_conn_on_readable(struct fg_cpctl_conn *c, const struct fg_cpctl_provider *p, void *ctx);
/* Call when writable (and after on_readable): flushes pending output and answers queued
 * requests. Returns 1 if output remains (ask for POLLOUT), 0 if done, <0 to free it. */
int fg_cpctl_conn_on_writable(struct fg_cpctl_conn *c);
bool fg_cpctl_conn_wants_write(const struct fg_cpctl_conn *c);
/* False while the connection cannot take more input (a full line buffer behind a response
 * the client is not reading, or the client has half-closed): a level-triggered loop should
 * stop polling POLLIN meanwhile. Polling anyway is harmless, only wasteful. */
bool fg_cpctl_conn_wants_read(const struct fg_cpctl_conn *c);
int fg_cpctl_conn_fd(const struct fg_cpctl_conn *c);
/* Connections open now (for the log and the tests). */
unsigned int fg_cpctl_conn_count(const struct fg_cpctl_server *s);

/* Pure request parser: copies the command name of one request line (without its newline)
 * into cmd. 0, or -EINVAL when the line is not a JSON object with a string "cmd" (embedded
 * NUL, trailing bytes after the object, longer than FG_CPCTL_MAX_LINE, or a name that does
 * not fit cmdlen). It does not check that the command exists. */
int fg_cpctl_parse_request(const char *line, size_t len, char *cmd, size_t cmdlen);

/* The response to one request line: a malloc'd compact JSON object ending in "\n", its length
 * in *outlen. NULL only when out of memory. Unknown commands and malformed requests get an
 * error object that quotes the offending input. */
char *fg_cpctl_respond(const char *line, size_t len, const struct fg_cpctl_provider *p, void *ctx,
		     size_t *outlen);

#endif
