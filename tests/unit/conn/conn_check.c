// SPDX-License-Identifier: MIT
/*
 * The conn suite's checks and builders (conn_bench.h): fastgatectl's JSON views read back,
 * the recorded signals, channels and answers looked at, and the STUN messages the hostile
 * and mutation tests start from. Single-threaded.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "chandata.h"
#include "conn_bench.h"

const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

double num_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* Whether some accepted signal of event for client_id carried a line with needle. */
bool signalled(const char *event, const char *client_id, const char *needle)
{
	for (unsigned i = 0; i < B.nsigs; i++) {
		const struct sig_rec *s = &B.sigs[i];

		if (s->accepted && strcmp(s->event, event) == 0 && s->has_client &&
		    strcmp(s->client_id, client_id) == 0 && sig_has_line(s, needle))
			return true;
	}
	return false;
}

unsigned chan_recs(bool bind, const struct fg_endpoint *peer, uint16_t channel)
{
	unsigned n = 0;

	for (unsigned i = 0; i < B.nchans; i++)
		n += B.chans[i].bind == bind && fg_endpoint_equal(&B.chans[i].relay, &B.relay) &&
		     (!peer || fg_endpoint_equal(&B.chans[i].peer, peer)) &&
		     (channel == 0xffff || B.chans[i].channel == channel);
	return n;
}

/* A Binding success to txid from `to` (our answer to the client), checked as the client
 * would: XOR-MAPPED-ADDRESS is where it came from, integrity with the gateway's password. */
void expect_answer(const struct fg_endpoint *to, const uint8_t *txid)
{
	struct fg_endpoint mapped;
	struct fg_stun_msg m;
	const struct pkt *p = bench_find(to, FG_STUN_SUCCESS, txid, &m);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->channel, 0);
	CU_ASSERT_EQUAL(m.method, FG_STUN_BINDING);
	CU_ASSERT_EQUAL(fg_stun_get_addr(&m, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, 0, &mapped), 0);
	CU_ASSERT_TRUE(fg_endpoint_equal(&mapped, to));
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &B.gw_key), 0);
	CU_ASSERT_TRUE(fg_stun_has(&m, FG_STUN_ATTR_FINGERPRINT));
}

void add_candidate(const char *client_id, const char *line, bool invalidate)
{
	char lines[1][256];

	snprintf(lines[0], sizeof(lines[0]), "%s", line);
	fg_conn_candidates(B.c, client_id, (const char(*)[256])lines, 1, invalidate);
	bench_pump();
}

const struct pkt *find_chandata(uint16_t channel, int cls, const uint8_t *txid, struct fg_stun_msg *m)
{
	for (unsigned i = 0; i < B.npkts; i++) {
		const struct pkt *p = &B.pkts[i];
		struct fg_chandata cd;

		if (!fg_endpoint_equal(&p->ep, &B.relay) || fg_chandata_parse(p->buf, p->len, false, &cd) <= 0 ||
		    cd.channel != channel || fg_stun_parse(cd.data, cd.len, m, NULL, 0) != 0 || m->cls != cls ||
		    (txid && memcmp(m->txid, txid, FG_STUN_TXID_LEN) != 0))
			continue;
		return p;
	}
	return NULL;
}

size_t data_indication(uint8_t *buf, size_t cap, const struct fg_endpoint *peer, const uint8_t *data,
			      size_t dlen)
{
	struct fg_stun_builder b;
	uint8_t txid[FG_STUN_TXID_LEN];
	int n;

	memset(txid, 0x77, sizeof(txid));
	fg_stun_build_start(&b, buf, cap, FG_STUN_DATA, FG_STUN_INDICATION, txid);
	if (peer)
		fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_PEER_ADDRESS, peer);
	if (data)
		fg_stun_add_bytes(&b, FG_STUN_ATTR_DATA, data, dlen);
	n = fg_stun_build_finish(&b);
	CU_ASSERT_FATAL(n > 0);
	return (size_t)n;
}

size_t signed_success(uint8_t *buf, size_t cap, uint16_t method, const struct fg_stun_key *key,
			     const struct fg_endpoint *mapped, const struct fg_endpoint *relayed)
{
	struct fg_stun_builder b;
	uint8_t txid[FG_STUN_TXID_LEN];
	int n;

	for (unsigned i = 0; i < sizeof(txid); i++)
		txid[i] = (uint8_t)bench_rand();
	fg_stun_build_start(&b, buf, cap, method, FG_STUN_SUCCESS, txid);
	if (relayed)
		fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_RELAYED_ADDRESS, relayed);
	fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, mapped);
	if (relayed)
		fg_stun_add_u32(&b, FG_STUN_ATTR_LIFETIME, 600);
	fg_stun_add_integrity(&b, key);
	fg_stun_add_fingerprint(&b);
	n = fg_stun_build_finish(&b);
	CU_ASSERT_FATAL(n > 0);
	return (size_t)n;
}

/* ---- fastgatectl's views -------------------------------------------------------------------- */

double ice_counter(const char *name)
{
	cJSON *o = fg_conn_json_ice(B.c);
	const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "counters"), name);
	double d = cJSON_IsNumber(v) ? v->valuedouble : -1;

	CU_ASSERT_TRUE(cJSON_IsNumber(v));
	cJSON_Delete(o);
	return d;
}

cJSON *ice_agent(cJSON *ice, const char *client_id)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, cJSON_GetObjectItem(ice, "agents"))
	{
		const cJSON *id = cJSON_GetObjectItem(a, "client_id");

		if (cJSON_IsString(id) && strcmp(id->valuestring, client_id) == 0)
			return (cJSON *)a;
	}
	return NULL;
}

bool json_array_has(const cJSON *arr, const char *needle)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, arr)
		if (cJSON_IsString(v) && strstr(v->valuestring, needle))
			return true;
	return false;
}
