// SPDX-License-Identifier: MIT
/*
 * CUnit suite for controlplane/metrics.c, the Prometheus text (exposition format 0.0.4):
 * tables of metric and label names, the escaping of label values and help text (backslash,
 * quote, newline; control characters and bytes that are not UTF-8), exact counters and
 * shortest round-trip doubles, families (written with their first sample, never twice,
 * counters and only counters ending in _total, bad labels refused), a STATS_REPLY rendered
 * to a known text, the same without tsc_hz and load windows, and hostile replies (counts
 * beyond the arrays, names without their NUL). Built with ASan and UBSan. Single-threaded.
 */
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../cunit_run.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The builder's text (taken: the builder is empty after), compared with want. */
static void check_text(struct fg_metrics *m, const char *want)
{
	size_t len = 0;
	char *got = fg_metrics_take(m, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_EQUAL(len, strlen(got));
	if (strcmp(got, want) != 0)
		fprintf(stderr, "\n--- got:\n%s--- want:\n%s---\n", got, want);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got);
}

static void test_names(void)
{
	static const struct {
		const char *s;
		bool metric, label;
	} t[] = {
		{ "a", true, true },
		{ "fastgate_lcore_packets_total", true, true },
		{ "_x9", true, true },
		{ "A_Z", true, true },
		{ "ns:sub", true, false },      /* colons: metric names only */
		{ ":x", true, false },
		{ "__reserved", true, false },  /* label names starting with __ are Prometheus' */
		{ "", false, false },
		{ "9a", false, false },
		{ "a-b", false, false },
		{ "a b", false, false },
		{ "a.b", false, false },
		{ "a{", false, false },
		{ "\xc3\xa9t\xc3\xa9", false, false },
	};

	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		CU_ASSERT_EQUAL(fg_metrics_name_ok(t[i].s), t[i].metric);
		CU_ASSERT_EQUAL(fg_metrics_label_name_ok(t[i].s), t[i].label);
	}
	CU_ASSERT_FALSE(fg_metrics_name_ok(NULL));
	CU_ASSERT_FALSE(fg_metrics_label_name_ok(NULL));
}

static void test_escaping(void)
{
	static const struct {
		const char *in, *label, *help;
	} t[] = {
		{ "plain", "plain", "plain" },
		{ "back\\slash", "back\\\\slash", "back\\\\slash" },
		{ "a \"quote\"", "a \\\"quote\\\"", "a \"quote\"" },
		{ "two\nlines", "two\\nlines", "two\\nlines" },
		{ "\\n is not a newline", "\\\\n is not a newline", "\\\\n is not a newline" },
		{ "tab\there\rcr\x7f", "tab?here?cr?", "tab?here?cr?" },
		{ "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80", "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80",
		  "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "stray \x80 cont", "stray ? cont", "stray ? cont" },
		{ "overlong \xc0\xaf", "overlong ??", "overlong ??" },
		{ "surrogate \xed\xa0\x80", "surrogate ???", "surrogate ???" },
		{ "cut \xe2\x82", "cut ??", "cut ??" },
		{ "beyond \xf4\x90\x80\x80", "beyond ????", "beyond ????" },
		{ "", "", "" },
	};

	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		struct fg_metrics m;
		char want[512];

		fg_metrics_init(&m);
		fg_metrics_family(&m, "x", FG_METRIC_GAUGE, t[i].in);
		fg_metrics_u64(&m, FG_METRIC_LABELS({ "v", t[i].in }), 1);
		snprintf(want, sizeof(want), "# HELP x %s\n# TYPE x gauge\nx{v=\"%s\"} 1\n", t[i].help, t[i].label);
		check_text(&m, want);
	}
}

static void test_values(void)
{
	static const struct {
		double v;
		const char *text;
	} t[] = {
		{ 0.0, "0" },     { 0.5, "0.5" },       { 0.1, "0.1" },    { 1.0 / 3.0, "0.3333333333333333" },
		{ 2.25, "2.25" }, { 1e21, "1e+21" },    { -3.5, "-3.5" },  { 123456789.0, "123456789" },
		{ 0.0018, "0.0018" },
	};

	for (size_t i = 0; i < ARRAY_LEN(t); i++) {
		struct fg_metrics m;
		char want[128];

		fg_metrics_init(&m);
		fg_metrics_one_f64(&m, "v", FG_METRIC_GAUGE, "h", t[i].v);
		snprintf(want, sizeof(want), "# HELP v h\n# TYPE v gauge\nv %s\n", t[i].text);
		check_text(&m, want);
		CU_ASSERT_EQUAL(strtod(t[i].text, NULL), t[i].v);
	}
	struct fg_metrics m;

	fg_metrics_init(&m);
	fg_metrics_family(&m, "special", FG_METRIC_GAUGE, "h");
	fg_metrics_f64(&m, FG_METRIC_LABELS({ "k", "nan" }), NAN);
	fg_metrics_f64(&m, FG_METRIC_LABELS({ "k", "inf" }), INFINITY);
	fg_metrics_f64(&m, FG_METRIC_LABELS({ "k", "-inf" }), -INFINITY);
	fg_metrics_family(&m, "big_total", FG_METRIC_COUNTER, "h");
	fg_metrics_u64(&m, NULL, 0, UINT64_MAX);
	check_text(&m, "# HELP special h\n# TYPE special gauge\n"
		       "special{k=\"nan\"} NaN\nspecial{k=\"inf\"} +Inf\nspecial{k=\"-inf\"} -Inf\n"
		       "# HELP big_total h\n# TYPE big_total counter\nbig_total 18446744073709551615\n");
}

static void test_families(void)
{
	struct fg_metrics m;
	struct fg_metric_label nine[9];

	for (size_t i = 0; i < ARRAY_LEN(nine); i++)
		nine[i] = (struct fg_metric_label){ "l", "v" };
	fg_metrics_init(&m);
	/* no sample: no trace */
	fg_metrics_family(&m, "empty_total", FG_METRIC_COUNTER, "never written");
	/* one family listed sample by sample */
	fg_metrics_family(&m, "a_total", FG_METRIC_COUNTER, "first");
	fg_metrics_u64(&m, FG_METRIC_LABELS({ "k", "1" }), 1);
	fg_metrics_family(&m, "a_total", FG_METRIC_COUNTER, "first");
	fg_metrics_u64(&m, FG_METRIC_LABELS({ "k", "2" }, { "z", "y" }), 2);
	/* refused: a counter without _total, a gauge with it, a bad name, a family again */
	fg_metrics_one_u64(&m, "no_suffix", FG_METRIC_COUNTER, "h", 3);
	fg_metrics_one_u64(&m, "gauge_total", FG_METRIC_GAUGE, "h", 4);
	fg_metrics_one_u64(&m, "bad-name", FG_METRIC_GAUGE, "h", 5);
	fg_metrics_one_u64(&m, "b", FG_METRIC_GAUGE, "second", 6);
	fg_metrics_one_u64(&m, "a_total", FG_METRIC_COUNTER, "first again", 7);
	fg_metrics_one_u64(&m, "bad_type", (enum fg_metric_type)0, "h", 8);
	CU_ASSERT_EQUAL(m.refused, 10);   /* five families and their five samples */
	/* refused samples of a good family: bad or duplicate label names, too many labels */
	fg_metrics_family(&m, "c", FG_METRIC_GAUGE, "third");
	fg_metrics_u64(&m, FG_METRIC_LABELS({ "__name__", "x" }), 9);
	fg_metrics_u64(&m, FG_METRIC_LABELS({ "a-b", "x" }), 9);
	fg_metrics_u64(&m, FG_METRIC_LABELS({ "k", "x" }, { "k", "y" }), 9);
	fg_metrics_u64(&m, FG_METRIC_LABELS({ "k", NULL }), 9);
	fg_metrics_u64(&m, nine, ARRAY_LEN(nine), 9);
	fg_metrics_u64(&m, NULL, 1, 9);
	CU_ASSERT_EQUAL(m.refused, 16);
	fg_metrics_u64(&m, NULL, 0, 10);
	/* a sample before any family */
	struct fg_metrics n;

	fg_metrics_init(&n);
	fg_metrics_u64(&n, NULL, 0, 1);
	CU_ASSERT_EQUAL(n.refused, 1);
	check_text(&n, "");
	check_text(&m, "# HELP a_total first\n# TYPE a_total counter\n"
		       "a_total{k=\"1\"} 1\na_total{k=\"2\",z=\"y\"} 2\n"
		       "# HELP b second\n# TYPE b gauge\nb 6\n"
		       "# HELP c third\n# TYPE c gauge\nc 10\n");
}

/* A STATS_REPLY with every field set to a distinct value. */
static void fixture(struct fg_ctl_stats_reply *st)
{
	static const char *const drops[] = { "svc_no_session", "svc_no_session", "", "q\"b\\n\n" };

	memset(st, 0, sizeof(*st));
	st->h.type = FG_CTL_STATS_REPLY;
	snprintf(st->aead, sizeof(st->aead), "ipsec-mb");
	st->workers = 1;
	st->peers = 2;
	st->handshakes_initiated = 3;
	st->handshakes_responded = 4;
	st->handshakes_completed = 5;
	st->cookies_sent = 6;
	st->keepalives_sent = 7;
	st->roams = 8;
	st->n_drops = ARRAY_LEN(drops);
	for (size_t i = 0; i < ARRAY_LEN(drops); i++) {
		snprintf(st->drop_names[i], sizeof(st->drop_names[i]), "%s", drops[i]);
		st->drops[i] = 9 + i;
	}
	st->service = (struct fg_ctl_lcore_stats){ 1, 100, 2, 200, 3, 300, 4, 400, 5, 6, 1000, 10, 2000000000,
						   4000000000, 50, 5, 1, 4 };
	st->lcores[0] = (struct fg_ctl_lcore_stats){ 11, 1100, 12, 1200, 13, 1300, 14, 1400, 15, 16, 7000, 70,
						     500000000, 4000000000, 0, 0, 0, 0 };
	/* a worker beyond st->workers: never shown */
	st->lcores[1] = (struct fg_ctl_lcore_stats){ 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
						     99, 99 };
	st->nat_translated_out = 20;
	st->nat_translated_in = 21;
	st->nat_icmp_translated = 22;
	st->nat_created = 23;
	st->nat_expired = 24;
	st->nat_misses = 25;
	st->nat_live = 26;
	st->flows_started = 27;
	st->flows_completed = 28;
	st->flows_live = 29;
	st->flows_lost = 30;
	st->p2p_in = 31;
	st->p2p_out = 32;
	st->tsc_hz = 2000000000;
	st->heap_total = 128ull << 20;
	st->heap_allocated = 61ull << 20;
	st->heap_free = 67ull << 20;
	st->heap_largest_free = 66ull << 20;
}

/* In parts: C99 promises string literals of 4,095 bytes only. */
static const char *const stats_head[] = {
	"# HELP fastgate_dataplane_info The data plane's version and transport AEAD backend (always 1).\n"
	"# TYPE fastgate_dataplane_info gauge\n"
	"fastgate_dataplane_info{version=\"0.14.0\",aead=\"ipsec-mb\"} 1\n"
	"# HELP fastgate_dataplane_workers Worker lcores of the data plane.\n"
	"# TYPE fastgate_dataplane_workers gauge\n"
	"fastgate_dataplane_workers 1\n"
	"# HELP fastgate_dataplane_peers WireGuard peers in the data plane.\n"
	"# TYPE fastgate_dataplane_peers gauge\n"
	"fastgate_dataplane_peers 2\n"
	"# HELP fastgate_dataplane_handshakes_initiated_total WireGuard handshake initiations the data plane sent.\n"
	"# TYPE fastgate_dataplane_handshakes_initiated_total counter\n"
	"fastgate_dataplane_handshakes_initiated_total 3\n"
	"# HELP fastgate_dataplane_handshakes_responded_total WireGuard handshake responses the data plane sent.\n"
	"# TYPE fastgate_dataplane_handshakes_responded_total counter\n"
	"fastgate_dataplane_handshakes_responded_total 4\n"
	"# HELP fastgate_dataplane_handshakes_completed_total WireGuard handshakes that completed (sessions derived).\n"
	"# TYPE fastgate_dataplane_handshakes_completed_total counter\n"
	"fastgate_dataplane_handshakes_completed_total 5\n"
	"# HELP fastgate_dataplane_cookies_sent_total WireGuard cookie replies sent (under load).\n"
	"# TYPE fastgate_dataplane_cookies_sent_total counter\n"
	"fastgate_dataplane_cookies_sent_total 6\n"
	"# HELP fastgate_dataplane_keepalives_sent_total WireGuard keepalives sent.\n"
	"# TYPE fastgate_dataplane_keepalives_sent_total counter\n"
	"fastgate_dataplane_keepalives_sent_total 7\n"
	"# HELP fastgate_dataplane_roams_total Peer endpoint changes (roaming).\n"
	"# TYPE fastgate_dataplane_roams_total counter\n"
	"fastgate_dataplane_roams_total 8\n",
	"# HELP fastgate_dataplane_nat_icmp_translated_total ICMP errors from a real server rewritten to a DNS "
	"resource's proxy IP.\n"
	"# TYPE fastgate_dataplane_nat_icmp_translated_total counter\n"
	"fastgate_dataplane_nat_icmp_translated_total 22\n"
	"# HELP fastgate_dataplane_nat_tuples_created_total Connection-table tuples created for DNS resources.\n"
	"# TYPE fastgate_dataplane_nat_tuples_created_total counter\n"
	"fastgate_dataplane_nat_tuples_created_total 23\n"
	"# HELP fastgate_dataplane_nat_tuples_expired_total Connection-table tuples expired (timeout, FIN both "
	"ways, RST, reset).\n"
	"# TYPE fastgate_dataplane_nat_tuples_expired_total counter\n"
	"fastgate_dataplane_nat_tuples_expired_total 24\n"
	"# HELP fastgate_dataplane_nat_misses_total Resource-to-client packets with no tuple (not translated).\n"
	"# TYPE fastgate_dataplane_nat_misses_total counter\n"
	"fastgate_dataplane_nat_misses_total 25\n"
	"# HELP fastgate_dataplane_nat_tuples Connection-table tuples live now.\n"
	"# TYPE fastgate_dataplane_nat_tuples gauge\n"
	"fastgate_dataplane_nat_tuples 26\n"
	"# HELP fastgate_dataplane_flows_started_total Flows the data plane started tracking.\n"
	"# TYPE fastgate_dataplane_flows_started_total counter\n"
	"fastgate_dataplane_flows_started_total 27\n"
	"# HELP fastgate_dataplane_flows_completed_total Tracked flows that completed.\n"
	"# TYPE fastgate_dataplane_flows_completed_total counter\n"
	"fastgate_dataplane_flows_completed_total 28\n"
	"# HELP fastgate_dataplane_flows Tracked flows live now.\n"
	"# TYPE fastgate_dataplane_flows gauge\n"
	"fastgate_dataplane_flows 29\n"
	"# HELP fastgate_dataplane_flow_records_lost_total Flow records dropped on a full queue to the control "
	"plane.\n"
	"# TYPE fastgate_dataplane_flow_records_lost_total counter\n"
	"fastgate_dataplane_flow_records_lost_total 30\n",
	"# HELP fastgate_dataplane_nat_translated_packets_total Packets of DNS resources translated: out (client "
	"to resource, proxy IP rewritten) and in (resource to client, mapped back).\n"
	"# TYPE fastgate_dataplane_nat_translated_packets_total counter\n"
	"fastgate_dataplane_nat_translated_packets_total{direction=\"out\"} 20\n"
	"fastgate_dataplane_nat_translated_packets_total{direction=\"in\"} 21\n"
	"# HELP fastgate_dataplane_p2p_messages_total p2p control messages: in (AssignedIps handed to the control "
	"plane) and out (DomainStatus and others sent to clients).\n"
	"# TYPE fastgate_dataplane_p2p_messages_total counter\n"
	"fastgate_dataplane_p2p_messages_total{direction=\"in\"} 31\n"
	"fastgate_dataplane_p2p_messages_total{direction=\"out\"} 32\n",
	"# HELP fastgate_dpdk_heap_size_bytes Bytes the data plane's DPDK heaps hold (EAL -m, or what they grew "
	"to on hugepages).\n"
	"# TYPE fastgate_dpdk_heap_size_bytes gauge\n"
	"fastgate_dpdk_heap_size_bytes 134217728\n"
	"# HELP fastgate_dpdk_heap_bytes The data plane's DPDK heap: bytes allocated and free.\n"
	"# TYPE fastgate_dpdk_heap_bytes gauge\n"
	"fastgate_dpdk_heap_bytes{state=\"allocated\"} 63963136\n"
	"fastgate_dpdk_heap_bytes{state=\"free\"} 70254592\n"
	"# HELP fastgate_dpdk_heap_largest_free_bytes The largest free block of the data plane's DPDK heaps: the "
	"largest table that could still be made.\n"
	"# TYPE fastgate_dpdk_heap_largest_free_bytes gauge\n"
	"fastgate_dpdk_heap_largest_free_bytes 69206016\n"
	"# HELP fastgate_dataplane_drops_total Packets the data plane dropped, by reason.\n"
	"# TYPE fastgate_dataplane_drops_total counter\n"
	"fastgate_dataplane_drops_total{reason=\"svc_no_session\"} 9\n"
	"fastgate_dataplane_drops_total{reason=\"q\\\"b\\\\n\\n\"} 12\n",
	"# HELP fastgate_lcore_packets_total Packets the lcore received (rx) or sent (tx) on the uplink NIC or the "
	"TUN device.\n"
	"# TYPE fastgate_lcore_packets_total counter\n"
	"fastgate_lcore_packets_total{lcore=\"service\",interface=\"nic\",direction=\"rx\"} 1\n"
	"fastgate_lcore_packets_total{lcore=\"worker0\",interface=\"nic\",direction=\"rx\"} 11\n"
	"fastgate_lcore_packets_total{lcore=\"service\",interface=\"nic\",direction=\"tx\"} 2\n"
	"fastgate_lcore_packets_total{lcore=\"worker0\",interface=\"nic\",direction=\"tx\"} 12\n"
	"fastgate_lcore_packets_total{lcore=\"service\",interface=\"tun\",direction=\"rx\"} 3\n"
	"fastgate_lcore_packets_total{lcore=\"worker0\",interface=\"tun\",direction=\"rx\"} 13\n"
	"fastgate_lcore_packets_total{lcore=\"service\",interface=\"tun\",direction=\"tx\"} 4\n"
	"fastgate_lcore_packets_total{lcore=\"worker0\",interface=\"tun\",direction=\"tx\"} 14\n"
	"# HELP fastgate_lcore_bytes_total Bytes the lcore received (rx) or sent (tx) on the uplink NIC or the TUN "
	"device.\n"
	"# TYPE fastgate_lcore_bytes_total counter\n"
	"fastgate_lcore_bytes_total{lcore=\"service\",interface=\"nic\",direction=\"rx\"} 100\n"
	"fastgate_lcore_bytes_total{lcore=\"worker0\",interface=\"nic\",direction=\"rx\"} 1100\n"
	"fastgate_lcore_bytes_total{lcore=\"service\",interface=\"nic\",direction=\"tx\"} 200\n"
	"fastgate_lcore_bytes_total{lcore=\"worker0\",interface=\"nic\",direction=\"tx\"} 1200\n"
	"fastgate_lcore_bytes_total{lcore=\"service\",interface=\"tun\",direction=\"rx\"} 300\n"
	"fastgate_lcore_bytes_total{lcore=\"worker0\",interface=\"tun\",direction=\"rx\"} 1300\n"
	"fastgate_lcore_bytes_total{lcore=\"service\",interface=\"tun\",direction=\"tx\"} 400\n"
	"fastgate_lcore_bytes_total{lcore=\"worker0\",interface=\"tun\",direction=\"tx\"} 1400\n",
	"# HELP fastgate_lcore_decrypted_packets_total WireGuard data packets decrypted by the lcore.\n"
	"# TYPE fastgate_lcore_decrypted_packets_total counter\n"
	"fastgate_lcore_decrypted_packets_total{lcore=\"service\"} 5\n"
	"fastgate_lcore_decrypted_packets_total{lcore=\"worker0\"} 15\n"
	"# HELP fastgate_lcore_encrypted_packets_total WireGuard data packets encrypted by the lcore.\n"
	"# TYPE fastgate_lcore_encrypted_packets_total counter\n"
	"fastgate_lcore_encrypted_packets_total{lcore=\"service\"} 6\n"
	"fastgate_lcore_encrypted_packets_total{lcore=\"worker0\"} 16\n"
	"# HELP fastgate_lcore_polls_total Passes of the lcore's loop.\n"
	"# TYPE fastgate_lcore_polls_total counter\n"
	"fastgate_lcore_polls_total{lcore=\"service\"} 1000\n"
	"fastgate_lcore_polls_total{lcore=\"worker0\"} 7000\n"
	"# HELP fastgate_lcore_busy_polls_total Passes of the lcore's loop that found work (a packet or a message).\n"
	"# TYPE fastgate_lcore_busy_polls_total counter\n"
	"fastgate_lcore_busy_polls_total{lcore=\"service\"} 10\n"
	"fastgate_lcore_busy_polls_total{lcore=\"worker0\"} 70\n",
};

/* parts, then tail, into out. */
static void join(char *out, size_t len, const char *const *parts, size_t n, const char *tail)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i <= n; i++) {
		const char *p = i < n ? parts[i] : tail;
		size_t k = strlen(p);

		CU_ASSERT_FATAL(used + k < len);
		memcpy(out + used, p, k + 1);
		used += k;
	}
}

static const char stats_seconds[] =
	"# HELP fastgate_lcore_busy_seconds_total Time the lcore spent in passes that found work; rate() over "
	"fastgate_lcore_seconds_total's is its load.\n"
	"# TYPE fastgate_lcore_busy_seconds_total counter\n"
	"fastgate_lcore_busy_seconds_total{lcore=\"service\"} 1\n"
	"fastgate_lcore_busy_seconds_total{lcore=\"worker0\"} 0.25\n"
	"# HELP fastgate_lcore_seconds_total Time since the lcore's loop started (TSC).\n"
	"# TYPE fastgate_lcore_seconds_total counter\n"
	"fastgate_lcore_seconds_total{lcore=\"service\"} 2\n"
	"fastgate_lcore_seconds_total{lcore=\"worker0\"} 2\n";

static const char stats_ratio[] =
	"# HELP fastgate_lcore_busy_ratio Share of the lcore's time in passes that found work, over the last "
	"window of about one second.\n"
	"# TYPE fastgate_lcore_busy_ratio gauge\n"
	"fastgate_lcore_busy_ratio{lcore=\"service\"} 0.25\n";

static void test_stats_reply(void)
{
	struct fg_ctl_stats_reply st;
	struct fg_metrics m;
	char want[16384], tail[sizeof(stats_seconds) + sizeof(stats_ratio)];

	fixture(&st);
	fg_metrics_init(&m);
	fg_metrics_stats_reply(&m, &st, "0.14.0");
	CU_ASSERT_EQUAL(m.refused, 0);
	snprintf(tail, sizeof(tail), "%s%s", stats_seconds, stats_ratio);
	join(want, sizeof(want), stats_head, ARRAY_LEN(stats_head), tail);
	check_text(&m, want);
}

/* No tsc_hz (a data plane that does not count cycles yet) and no load window passed: the
 * seconds and the ratio are left out, not shown as 0. */
static void test_stats_reply_no_tsc(void)
{
	struct fg_ctl_stats_reply st;
	struct fg_metrics m;
	char want[16384];

	fixture(&st);
	st.tsc_hz = 0;
	st.service.win_cycles = 0;
	fg_metrics_init(&m);
	fg_metrics_stats_reply(&m, &st, "0.14.0");
	join(want, sizeof(want), stats_head, ARRAY_LEN(stats_head), "");
	check_text(&m, want);
}

/* Counts beyond the arrays, names that fill their field with no NUL, a version that is not
 * UTF-8: bounded, terminated and replaced (ASan and UBSan watch the reads). */
static void test_stats_reply_hostile(void)
{
	struct fg_ctl_stats_reply st;
	struct fg_metrics m;
	size_t len = 0;
	char *text, want[64];
	unsigned workers = 0, reasons = 0;

	memset(&st, 'A', sizeof(st));
	st.workers = UINT32_MAX;
	st.n_drops = UINT32_MAX;
	st.tsc_hz = 1;
	fg_metrics_init(&m);
	fg_metrics_stats_reply(&m, &st, "\xff\xfe\n\"");
	text = fg_metrics_take(&m, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(strlen(text), len);
	/* the aead: its 16 bytes, no more; the version escaped and replaced */
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "fastgate_dataplane_info{version=\"??\\n\\\"\",aead=\"AAAAAAAAAAAAAAAA\"} 1\n"));
	/* one series per lcore: the service lcore and FG_CTL_MAX_WORKERS workers */
	for (unsigned w = 0; w < FG_CTL_MAX_WORKERS + 2; w++) {
		snprintf(want, sizeof(want), "fastgate_lcore_polls_total{lcore=\"worker%u\"}", w);
		workers += strstr(text, want) != NULL;
	}
	CU_ASSERT_EQUAL(workers, FG_CTL_MAX_WORKERS);
	/* every drop name is the same 32 'A's: one series (the others would repeat it) */
	for (const char *p = text; (p = strstr(p, "fastgate_dataplane_drops_total{reason=\"")); p++)
		reasons++;
	CU_ASSERT_EQUAL(reasons, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "{reason=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}"));
	CU_ASSERT_PTR_NULL(strstr(text, "{reason=\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	free(text);
}

/* The builder across many families and samples: the buffer grows, the text stays whole. */
static void test_growth(void)
{
	struct fg_metrics m;
	size_t len = 0, lines = 0;
	char *text;

	fg_metrics_init(&m);
	fg_metrics_family(&m, "many_total", FG_METRIC_COUNTER, "h");
	for (unsigned i = 0; i < 20000; i++) {
		char v[16];

		snprintf(v, sizeof(v), "%u", i);
		fg_metrics_u64(&m, FG_METRIC_LABELS({ "i", v }), i);
	}
	text = fg_metrics_take(&m, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(strlen(text), len);
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	CU_ASSERT_EQUAL(lines, 20002);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "many_total{i=\"19999\"} 19999\n"));
	free(text);
	/* an empty builder gives an empty text, not NULL */
	fg_metrics_init(&m);
	text = fg_metrics_take(&m, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(len, 0);
	free(text);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "metric and label names", test_names },
		{ "escaping of label values and help", test_escaping },
		{ "values: exact counters, shortest doubles", test_values },
		{ "families: lazy headers, refusals", test_families },
		{ "STATS_REPLY rendered", test_stats_reply },
		{ "STATS_REPLY without tsc_hz or window", test_stats_reply_no_tsc },
		{ "STATS_REPLY hostile", test_stats_reply_hostile },
		{ "growth", test_growth },
	};

	return fg_cunit_run("metrics", tests, ARRAY_LEN(tests));
}
