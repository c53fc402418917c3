// SPDX-License-Identifier: MIT
/*
 * fastgatectl's views of DNS resources (nat.h): `nat` groups the translations the control
 * plane keeps (fg_cp_nat_json) per client and adds the data plane's live tuples (NAT_DUMP's
 * NAT_INFO messages), each named by the domain of its proxy IP; `stats` gets the module's
 * counters. Only the public API of nat.c and the state; control plane thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "keys.h"
#include "nat.h"
#include "state.h"

enum {
	PROTO_LEN = 8,
};

static cJSON *find_client(cJSON *clients, const char *kb)
{
	cJSON *o;

	cJSON_ArrayForEach(o, clients) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "public_key");

		if (cJSON_IsString(k) && strcmp(k->valuestring, kb) == 0)
			return o;
	}
	return NULL;
}

/* A client of the view: its id (NULL or empty: null, not one the state holds), its key. */
static cJSON *new_client(cJSON *clients, const char *id, const char *kb)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	if (id && id[0])
		cJSON_AddStringToObject(o, "client_id", id);
	else
		cJSON_AddNullToObject(o, "client_id");
	cJSON_AddStringToObject(o, "public_key", kb);
	if (!cJSON_AddArrayToObject(o, "domains")) {
		cJSON_Delete(o);
		return NULL;
	}
	cJSON_AddItemToArray(clients, o);
	return o;
}

/* The records of fg_cp_nat_json, taken out of recs, as {"resource_id","domain","proxy_ips"}
 * under their client (the records name it by id and key). */
static void add_records(cJSON *clients, cJSON *recs)
{
	cJSON *r;

	while ((r = cJSON_DetachItemFromArray(recs, 0))) {
		cJSON *kb = cJSON_DetachItemFromObjectCaseSensitive(r, "public_key");
		cJSON *id = cJSON_DetachItemFromObjectCaseSensitive(r, "client_id");
		const char *k = cJSON_IsString(kb) ? kb->valuestring : "";
		cJSON *c = find_client(clients, k);

		if (!c)
			c = new_client(clients, cJSON_IsString(id) ? id->valuestring : NULL, k);
		cJSON_Delete(kb);
		cJSON_Delete(id);
		if (c)
			cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(c, "domains"), r);
		else
			cJSON_Delete(r);
	}
}

static const char *proto_name(uint8_t p, char buf[PROTO_LEN])
{
	switch (p) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	case 58: return "icmpv6";
	default:
		snprintf(buf, PROTO_LEN, "%u", p);
		return buf;
	}
}

static cJSON *tuple_json(const struct fg_cp_nat *n, const struct fg_ctl_nat_info *t)
{
	static const char *const flag_names[] = { "reply", "fin_out", "fin_in", "rst" };
	cJSON *o = cJSON_CreateObject(), *f;
	char a[FG_ADDR_STRLEN], p[PROTO_LEN];
	const char *dom;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "proto", proto_name(t->proto, p));
	cJSON_AddStringToObject(o, "proxy", t->proxy.family ? fg_ip_format(&t->proxy, a, sizeof(a)) : "?");
	cJSON_AddNumberToObject(o, "inside_port", t->inside_port);
	cJSON_AddStringToObject(o, "real", t->real.family ? fg_ip_format(&t->real, a, sizeof(a)) : "?");
	cJSON_AddNumberToObject(o, "outside_port", t->outside_port);
	dom = fg_cp_nat_domain_of(n, t->public_key, &t->proxy);
	if (dom)
		cJSON_AddStringToObject(o, "domain", dom);
	else
		cJSON_AddNullToObject(o, "domain");
	cJSON_AddNumberToObject(o, "worker", t->worker);
	f = cJSON_AddArrayToObject(o, "state");
	for (unsigned i = 0; f && i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
		if (t->flags & (1u << i))
			cJSON_AddItemToArray(f, cJSON_CreateString(flag_names[i]));
	cJSON_AddNumberToObject(o, "created", (double)(t->created_unix_ns / 1000000000ull));
	cJSON_AddNumberToObject(o, "last_out", (double)(t->last_out_unix_ns / 1000000000ull));
	if (t->last_in_unix_ns)
		cJSON_AddNumberToObject(o, "last_in", (double)(t->last_in_unix_ns / 1000000000ull));
	else
		cJSON_AddNullToObject(o, "last_in");
	cJSON_AddNumberToObject(o, "tx_packets", (double)t->tx_packets);
	cJSON_AddNumberToObject(o, "tx_bytes", (double)t->tx_bytes);
	cJSON_AddNumberToObject(o, "rx_packets", (double)t->rx_packets);
	cJSON_AddNumberToObject(o, "rx_bytes", (double)t->rx_bytes);
	return o;
}

/* Why there are no tuples, for the operator. */
static void unavailable(cJSON *o, int status, const char *message)
{
	char why[200];
	const char *m = message && message[0] ? message : NULL;

	if (status == -ENOTCONN)
		snprintf(why, sizeof(why), "the data plane is not connected");
	else if (status == -ETIMEDOUT)
		snprintf(why, sizeof(why), "the data plane did not answer in time");
	else if (status == -EPROTO || status == -EOPNOTSUPP)
		snprintf(why, sizeof(why), "the data plane does not answer NAT_DUMP%s%s%s", m ? " (" : "", m ? m : "",
			 m ? ")" : "");
	else
		snprintf(why, sizeof(why), "%s%s%s", strerror(status < 0 ? -status : status), m ? ": " : "",
			 m ? m : "");
	cJSON_AddBoolToObject(o, "tuples_available", false);
	cJSON_AddStringToObject(o, "tuples_error", why);
}

cJSON *fg_cp_nat_view_json(const struct fg_cp_nat *n, struct fg_cp_state *state, const struct fg_ctl_nat_info *tuples,
			   size_t ntuples, int status, const char *message)
{
	cJSON *o = cJSON_CreateObject(), *clients, *recs, *c;

	if (!o)
		return NULL;
	clients = cJSON_AddArrayToObject(o, "clients");
	recs = fg_cp_nat_json(n);
	if (!clients || !recs) {
		cJSON_Delete(recs);
		cJSON_Delete(o);
		return NULL;
	}
	add_records(clients, recs);
	cJSON_Delete(recs);
	if (status < 0) {
		unavailable(o, status, message);
		return o;
	}
	/* Every client gets its list, empty or not; a client with tuples but no records (a
	 * restarted control plane) gets one too. */
	cJSON_ArrayForEach(c, clients)
		cJSON_AddArrayToObject(c, "tuples");
	for (size_t i = 0; i < ntuples; i++) {
		char kb[FG_KEY_B64_LEN];
		cJSON *t;

		fg_key_to_base64(kb, tuples[i].public_key);
		c = find_client(clients, kb);
		if (!c) {
			const struct fg_cp_client *cl = fg_cp_find_by_key(state, tuples[i].public_key);

			c = new_client(clients, cl ? cl->id : NULL, kb);
			if (!c || !cJSON_AddArrayToObject(c, "tuples"))
				break;
		}
		t = tuple_json(n, &tuples[i]);
		if (t)
			cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(c, "tuples"), t);
	}
	cJSON_AddBoolToObject(o, "tuples_available", true);
	/* The data plane says in its REPLY when it cut the list. */
	if (message && message[0])
		cJSON_AddStringToObject(o, "tuples_cut", message);
	return o;
}

cJSON *fg_cp_nat_stats_json(const struct fg_cp_nat *n)
{
	const struct fg_cp_nat_stats *s = fg_cp_nat_stats(n);
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "assigned_ips", (double)s->assigned_ips);
	cJSON_AddNumberToObject(o, "malformed", (double)s->malformed);
	cJSON_AddNumberToObject(o, "refused", (double)s->refused);
	cJSON_AddNumberToObject(o, "resolved", (double)s->resolved);
	cJSON_AddNumberToObject(o, "timeouts", (double)s->timeouts);
	cJSON_AddNumberToObject(o, "busy", (double)s->busy);
	cJSON_AddNumberToObject(o, "resets", (double)s->resets);
	cJSON_AddNumberToObject(o, "active", (double)s->active);
	cJSON_AddNumberToObject(o, "inactive", (double)s->inactive);
	return o;
}
