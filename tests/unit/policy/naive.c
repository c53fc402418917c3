/* SPDX-License-Identifier: MIT */
/*
 * A deliberately naive reference of the client policy (reference §3.3-§3.5 with the
 * choices documented in dataplane/worker/policy.h): it keeps the resources exactly as given and,
 * for every packet, scans all of them, matches prefixes with fg_prefix_contains() against
 * ranges written as text, and checks filters one by one without merging. Slow on purpose;
 * the differential suite compares fg_policy_outbound() / fg_policy_inbound() against it.
 * Test thread only (lazily parsed range tables).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pkts.h"

/* What the naive parser extracts from a packet. */
struct nv {
	int version;
	struct fg_ip src, dst;
	int first_nh, proto;
	bool later_fragment;
	int sport, dport, icmp_type;
};

enum nv_list { L_MULTICAST, L_TUNNEL, L_EXCLUDED, L_COUNT };

static const char *const lists[L_COUNT][9] = {
	[L_MULTICAST] = { "224.0.0.0/4", "ff00::/8" },
	[L_TUNNEL] = { "100.64.0.0/11", "fd00:2021:1111::/107" },
	[L_EXCLUDED] = { "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8",
			 "169.254.0.0/16", "100.64.0.0/10", "224.0.0.0/4", "240.0.0.0/4" },
};
static const char *const excluded6[] = { "::1/128", "::ffff:0:0/96", "fc00::/7", "fe80::/10",
					 "ff00::/8", NULL };

static bool in_text_ranges(const char *const *l, const struct fg_ip *ip)
{
	for (; *l; l++) {
		struct fg_prefix p;

		if (fg_prefix_parse(*l, &p) != 0)
			abort();
		if (fg_prefix_contains(&p, ip))
			return true;
	}
	return false;
}

static bool in_list(enum nv_list which, const struct fg_ip *ip)
{
	if (in_text_ranges(lists[which], ip))
		return true;
	return which == L_EXCLUDED && in_text_ranges(excluded6, ip);
}

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] * 256 + p[1];
}

static void set_ip(struct fg_ip *ip, int family, const uint8_t *a)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = (uint8_t)family;
	memcpy(ip->addr, a, family == AF_INET ? 4 : 16);
}

static bool is_ext(int nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60;
}

static bool nv_parse(const uint8_t *b, uint32_t len, struct nv *v)
{
	unsigned pos, end, have;

	memset(v, 0, sizeof(*v));
	if (len == 0)
		return false;
	v->version = b[0] >> 4;
	if (v->version == 4) {
		if (len < 20 || (b[0] & 15) < 5)
			return false;
		pos = (b[0] & 15u) * 4;
		end = be16(b + 2);
		if (end < pos || end > len)
			return false;
		set_ip(&v->src, AF_INET, b + 12);
		set_ip(&v->dst, AF_INET, b + 16);
		v->first_nh = v->proto = b[9];
		v->later_fragment = (be16(b + 6) % 8192) > 0;
	} else if (v->version == 6) {
		if (len < 40)
			return false;
		end = 40 + be16(b + 4);
		if (end > len)
			return false;
		set_ip(&v->src, AF_INET6, b + 8);
		set_ip(&v->dst, AF_INET6, b + 24);
		v->first_nh = v->proto = b[6];
		pos = 40;
		for (int count = 1; is_ext(v->proto) && !v->later_fragment; count++) {
			unsigned size;

			if (count > 8 || pos + 8 > end)
				return false;
			if (v->proto == 44)
				size = 8;
			else if (v->proto == 51)
				size = 4 * (b[pos + 1] + 2u);
			else
				size = 8 * (b[pos + 1] + 1u);
			if (pos + size > end)
				return false;
			if (v->proto == 44 && be16(b + pos + 2) / 8 != 0)
				v->later_fragment = true;
			v->proto = b[pos];
			pos += size;
		}
	} else {
		return false;
	}
	if (v->later_fragment)
		return true;
	have = end - pos;
	if (v->proto == 6 || v->proto == 17) {
		if (have < (v->proto == 6 ? 20u : 8u))
			return false;
		v->sport = (int)be16(b + pos);
		v->dport = (int)be16(b + pos + 2);
	} else if ((v->proto == 1 && v->version == 4) || (v->proto == 58 && v->version == 6)) {
		if (have < 8)
			return false;
		v->icmp_type = b[pos];
	}
	return true;
}

static bool nv_is_icmp(const struct nv *v)
{
	return (v->proto == 1 && v->version == 4) || (v->proto == 58 && v->version == 6);
}

static bool nv_icmp_error(const struct nv *v)
{
	static const int errors4[] = { 3, 4, 5, 11, 12 };

	if (!nv_is_icmp(v) || v->later_fragment)
		return false;
	if (v->version == 6)
		return v->icmp_type <= 127;
	for (size_t i = 0; i < sizeof(errors4) / sizeof(errors4[0]); i++)
		if (v->icmp_type == errors4[i])
			return true;
	return false;
}

static bool in_force(const struct fg_policy_resource *r, uint64_t now)
{
	return r->expires_at == 0 || now < r->expires_at;
}

static bool filter_permits(const struct fg_policy_resource *r, const struct nv *v, int port)
{
	if (r->n_filters == 0)
		return true;
	for (uint32_t i = 0; i < r->n_filters; i++) {
		const struct fg_ctl_filter *f = &r->filters[i];

		if (f->proto == FG_CTL_FILTER_ICMP && nv_is_icmp(v))
			return true;
		if ((f->proto == FG_CTL_FILTER_TCP && v->proto == 6) ||
		    (f->proto == FG_CTL_FILTER_UDP && v->proto == 17)) {
			if (f->port_lo > f->port_hi)
				continue;
			if (v->later_fragment || (port >= f->port_lo && port <= f->port_hi))
				return true;
		}
	}
	return false;
}

/* The winning resource for the resource-side address ip, or NULL (§3.3 step 6). */
static const struct fg_policy_resource *nv_classify(const struct naive_policy *np,
						    const struct nv *v, const struct fg_ip *ip,
						    int port, uint64_t now, bool *covered)
{
	const struct fg_policy_resource *best = NULL;
	bool excluded = in_list(L_EXCLUDED, ip);
	int best_len = -1;

	*covered = false;
	for (size_t i = 0; i < np->n; i++) {
		const struct fg_policy_resource *r = &np->res[i];
		int len;

		if (!in_force(r, now))
			continue;
		if (r->type == FG_CTL_RES_INTERNET) {
			if (excluded)
				continue;
			len = 0;
		} else {
			if (!fg_prefix_contains(&r->prefix, ip))
				continue;
			len = r->prefix.len;
		}
		*covered = true;
		if (!filter_permits(r, v, port))
			continue;
		if (!best || len > best_len || (len == best_len && strcmp(r->id, best->id) > 0)) {
			best = r;
			best_len = len;
		}
	}
	return best;
}

static bool internet_in_force(const struct naive_policy *np, uint64_t now)
{
	for (size_t i = 0; i < np->n; i++)
		if (np->res[i].type == FG_CTL_RES_INTERNET && in_force(&np->res[i], now))
			return true;
	return false;
}

static bool is_clients(const struct naive_policy *np, const struct fg_ip *ip)
{
	return fg_ip_equal(ip, ip->family == AF_INET ? &np->client4 : &np->client6);
}

static bool is_gateways(const struct naive_policy *np, const struct fg_ip *ip)
{
	return fg_ip_equal(ip, ip->family == AF_INET ? &np->gw4 : &np->gw6);
}

static bool unspecified(const struct fg_ip *ip)
{
	static const uint8_t zero[16];

	return memcmp(ip->addr, zero, 16) == 0;
}

enum fg_policy_verdict naive_outbound(const struct naive_policy *np, const uint8_t *pkt,
				      uint32_t len, uint64_t now, enum fg_drop *reason,
				      const char **resource_id)
{
	const struct fg_policy_resource *best;
	struct nv v;
	bool covered;

	*resource_id = NULL;
	*reason = FG_DROP_NONE;
	if (!nv_parse(pkt, len, &v))
		return *reason = FG_DROP_INNER_MALFORMED, FG_POLICY_DROP;
	if (in_list(L_MULTICAST, &v.dst))
		return *reason = FG_DROP_POLICY_MULTICAST, FG_POLICY_DROP;
	if (v.version == 6 && v.first_nh == 255 && unspecified(&v.src) && unspecified(&v.dst))
		return *reason = FG_DROP_P2P_EVENT, FG_POLICY_CONTROL;
	if (nv_icmp_error(&v))
		return *reason = FG_DROP_POLICY_ICMP_ERROR, FG_POLICY_DROP;
	if (!is_clients(np, &v.src))
		return *reason = FG_DROP_POLICY_SOURCE, FG_POLICY_DROP;
	if (is_gateways(np, &v.dst))
		return FG_POLICY_ALLOW;
	if (in_list(L_TUNNEL, &v.dst))
		return *reason = FG_DROP_POLICY_HAIRPIN, FG_POLICY_PROHIBITED;
	best = nv_classify(np, &v, &v.dst, v.dport, now, &covered);
	if (best) {
		*resource_id = best->id;
		return FG_POLICY_ALLOW;
	}
	if (!covered && in_list(L_EXCLUDED, &v.dst) && internet_in_force(np, now)) {
		*reason = FG_DROP_POLICY_NET_UNREACHABLE;
		return v.later_fragment ? FG_POLICY_DROP : FG_POLICY_NET_UNREACHABLE;
	}
	*reason = FG_DROP_POLICY_PROHIBITED;
	return v.later_fragment ? FG_POLICY_DROP : FG_POLICY_PROHIBITED;
}

enum fg_policy_verdict naive_inbound(const struct naive_policy *np, const uint8_t *pkt,
				     uint32_t len, uint64_t now, enum fg_drop *reason)
{
	struct nv v;
	bool covered;

	*reason = FG_DROP_NONE;
	if (!nv_parse(pkt, len, &v))
		return *reason = FG_DROP_TUN_MALFORMED, FG_POLICY_DROP;
	if (!is_clients(np, &v.dst))
		return *reason = FG_DROP_POLICY_INBOUND, FG_POLICY_DROP;
	if (is_gateways(np, &v.src))
		return FG_POLICY_ALLOW;
	if (in_list(L_TUNNEL, &v.src))
		return *reason = FG_DROP_POLICY_HAIRPIN, FG_POLICY_DROP;
	if (nv_icmp_error(&v) || nv_classify(np, &v, &v.src, v.sport, now, &covered))
		return FG_POLICY_ALLOW;
	return *reason = FG_DROP_POLICY_INBOUND, FG_POLICY_DROP;
}
