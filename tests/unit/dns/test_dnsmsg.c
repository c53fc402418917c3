// SPDX-License-Identifier: MIT
/*
 * The forwarder's DNS message checks (controlplane/dns/dnsmsg.c): queries and answers that
 * parse (compressed names flattened, EDNS in the additional section left alone, the record
 * types checked field by field), SERVFAIL byte for byte as Rust's Response::servfail,
 * UDP truncation as Response::into_bytes(1200), the ranking probe as Query::new, a table
 * of hostile messages each refused with a reason, and 30,000 seeded mutations of good
 * messages whose SERVFAIL and truncation always parse again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_run.h"
#include "dnsmsg.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- a small message writer ---- */

struct w {
	uint8_t b[4096];
	size_t n;
};

static void u8(struct w *w, unsigned v)
{
	w->b[w->n++] = (uint8_t)v;
}

static void u16(struct w *w, unsigned v)
{
	u8(w, v >> 8);
	u8(w, v & 0xff);
}

static void u32(struct w *w, uint32_t v)
{
	u16(w, v >> 16);
	u16(w, v & 0xffff);
}

static void raw(struct w *w, const void *p, size_t n)
{
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

/* "a.b" as labels and the root */
static void name(struct w *w, const char *s)
{
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		u8(w, (unsigned)l);
		raw(w, s, l);
		s += l + (dot ? 1 : 0);
	}
	u8(w, 0);
}

static void hdr(struct w *w, unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
	w->n = 0;
	u16(w, id);
	u16(w, flags);
	u16(w, qd);
	u16(w, an);
	u16(w, ns);
	u16(w, ar);
}

static void rr(struct w *w, unsigned ptr, unsigned type, const void *rdata, size_t rdlen)
{
	u16(w, 0xc000 | ptr);
	u16(w, type);
	u16(w, 1);
	u32(w, 300);
	u16(w, (unsigned)rdlen);
	raw(w, rdata, rdlen);
}

/* a query for _ldap._tcp.corp.example SRV, RD, with an EDNS OPT record */
static void good_query(struct w *w)
{
	hdr(w, 0x1234, 0x0100, 1, 0, 0, 1);
	name(w, "_ldap._tcp.corp.example");
	u16(w, 33);
	u16(w, 1);
	u8(w, 0);        /* OPT: root, type 41, payload 1232, no options */
	u16(w, 41);
	u16(w, 1232);
	u32(w, 0);
	u16(w, 0);
}

/* its answer: SRV, TXT, A, AAAA, CNAME, MX, SOA, the names compressed against the question */
static void good_answer(struct w *w)
{
	static const uint8_t a[4] = { 198, 18, 0, 1 }, aaaa[16] = { 0x20, 1, 0xd, 0xb8 };
	static const uint8_t srv[] = { 0, 10, 0, 5, 1, 0x85, 0xc0, 23 };   /* 10 5 389 corp.example */
	static const uint8_t txt[] = { 3, 'a', '=', 'b', 0, 2, 'h', 'i' };
	static const uint8_t cname[] = { 3, 'w', 'w', 'w', 0xc0, 23 };
	static const uint8_t mx[] = { 0, 10, 0xc0, 23 };
	uint8_t soa[4 + 20] = { 0xc0, 23, 0xc0, 23 };

	hdr(w, 0x1234, 0x8180, 1, 7, 0, 0);
	name(w, "_ldap._tcp.corp.example");   /* "corp.example" starts at 23 */
	u16(w, 33);
	u16(w, 1);
	rr(w, 12, 33, srv, sizeof(srv));
	rr(w, 12, 16, txt, sizeof(txt));
	rr(w, 23, 1, a, sizeof(a));
	rr(w, 23, 28, aaaa, sizeof(aaaa));
	rr(w, 23, 5, cname, sizeof(cname));
	rr(w, 23, 15, mx, sizeof(mx));
	rr(w, 23, 6, soa, sizeof(soa));
}

static void test_good(void)
{
	struct w w;
	struct fg_dnsmsg m;
	const char *why = NULL;
	static const uint8_t flat[] = "\x05_ldap\x04_tcp\x04" "corp\x07" "example";

	good_query(&w);
	CU_ASSERT_EQUAL(fg_dnsmsg_parse(w.b, w.n, false, &m, &why), 0);
	CU_ASSERT_EQUAL(m.id, 0x1234);
	CU_ASSERT_FALSE(m.qr);
	CU_ASSERT_TRUE(m.rd);
	CU_ASSERT_EQUAL(m.qtype, 33);
	CU_ASSERT_EQUAL(m.qclass, 1);
	CU_ASSERT_EQUAL(m.qname_len, sizeof(flat));   /* the literal's NUL is the root label */
	CU_ASSERT_EQUAL(memcmp(m.qname, flat, sizeof(flat)), 0);
	CU_ASSERT_EQUAL(m.question_end, 12 + sizeof(flat) + 4);
	CU_ASSERT_EQUAL(fg_dnsmsg_parse(w.b, w.n, true, &m, &why), -EBADMSG);
	CU_ASSERT_STRING_EQUAL(why, "not a response (QR clear)");

	good_answer(&w);
	CU_ASSERT_EQUAL(fg_dnsmsg_parse(w.b, w.n, true, &m, &why), 0);
	CU_ASSERT_TRUE(m.qr);
	CU_ASSERT_EQUAL(m.rcode, 0);
	CU_ASSERT_EQUAL(fg_dnsmsg_parse(w.b, w.n, false, &m, &why), -EBADMSG);
	CU_ASSERT_STRING_EQUAL(why, "not a query (QR set)");

	/* a question whose name ends in a pointer into the header (ANCOUNT's high byte, 0) */
	hdr(&w, 7, 0, 1, 0, 0, 0);
	u8(&w, 1);
	u8(&w, 'a');
	u16(&w, 0xc006);
	u16(&w, 16);
	u16(&w, 1);
	CU_ASSERT_EQUAL(fg_dnsmsg_parse(w.b, w.n, false, &m, &why), 0);
	CU_ASSERT_EQUAL(m.qname_len, 3);
	CU_ASSERT_EQUAL(memcmp(m.qname, "\x01" "a\x00", 3), 0);
	CU_ASSERT_EQUAL(m.question_end, 12 + 4 + 4);

	/* the longest name: 255 bytes with the root */
	hdr(&w, 7, 0, 1, 0, 0, 0);
	for (int i = 0; i < 3; i++) {
		u8(&w, 63);
		for (int k = 0; k < 63; k++)
			u8(&w, 'x');
	}
	u8(&w, 61);
	for (int k = 0; k < 61; k++)
		u8(&w, 'y');
	u8(&w, 0);
	u16(&w, 1);
	u16(&w, 1);
	CU_ASSERT_EQUAL(fg_dnsmsg_parse(w.b, w.n, false, &m, &why), 0);
	CU_ASSERT_EQUAL(m.qname_len, 255);
}

static void test_servfail(void)
{
	struct w w;
	struct fg_dnsmsg q, a;
	uint8_t out[FG_DNSMSG_SERVFAIL_MAX];
	size_t n;
	static const uint8_t want[] = {
		0x12, 0x34, 0x81, 0x02, 0, 1, 0, 0, 0, 0, 0, 0,
		5, '_', 'l', 'd', 'a', 'p', 4, '_', 't', 'c', 'p', 4, 'c', 'o', 'r', 'p', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0,
		0, 33, 0, 1,
	};

	good_query(&w);
	CU_ASSERT_EQUAL_FATAL(fg_dnsmsg_parse(w.b, w.n, false, &q, NULL), 0);
	n = fg_dnsmsg_servfail(&q, out, sizeof(out));
	/* no OPT echoed, RA clear: as the domain crate's start_answer */
	CU_ASSERT_EQUAL(n, sizeof(want));
	CU_ASSERT_EQUAL(memcmp(out, want, sizeof(want)), 0);
	CU_ASSERT_EQUAL(fg_dnsmsg_parse(out, n, true, &a, NULL), 0);
	CU_ASSERT_EQUAL(a.rcode, FG_DNSMSG_RCODE_SERVFAIL);
	CU_ASSERT_EQUAL(fg_dnsmsg_servfail(&q, out, n - 1), 0);

	/* opcode kept, RD clear kept clear, the compressed name flattened */
	hdr(&w, 0xbeef, 2 << 11, 1, 0, 0, 0);
	u8(&w, 1);
	u8(&w, 'a');
	u16(&w, 0xc006);
	u16(&w, 16);
	u16(&w, 3);
	CU_ASSERT_EQUAL_FATAL(fg_dnsmsg_parse(w.b, w.n, false, &q, NULL), 0);
	n = fg_dnsmsg_servfail(&q, out, sizeof(out));
	static const uint8_t want2[] = { 0xbe, 0xef, 0x90, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 16, 0, 3 };

	CU_ASSERT_EQUAL(n, sizeof(want2));
	CU_ASSERT_EQUAL(memcmp(out, want2, sizeof(want2)), 0);
}

static void test_truncate(void)
{
	struct w w;
	struct fg_dnsmsg a, t;
	uint8_t txt[1300];
	size_t n, qend;

	hdr(&w, 9, 0x8180, 1, 1, 0, 0);
	name(&w, "big.example");
	u16(&w, 16);
	u16(&w, 1);
	qend = w.n;
	for (size_t i = 0; i < sizeof(txt); i += 255) {
		size_t l = sizeof(txt) - i < 255 ? sizeof(txt) - i - 1 : 254;

		txt[i] = (uint8_t)l;
		memset(txt + i + 1, 'z', l);
	}
	rr(&w, 12, 16, txt, sizeof(txt));
	CU_ASSERT_EQUAL_FATAL(fg_dnsmsg_parse(w.b, w.n, true, &a, NULL), 0);
	CU_ASSERT_EQUAL(fg_dnsmsg_truncate(w.b, w.n, &a, 2000), w.n);   /* fits: untouched */
	n = fg_dnsmsg_truncate(w.b, w.n, &a, 1200);
	CU_ASSERT_EQUAL(n, qend);
	CU_ASSERT_EQUAL(w.b[2], 0x83);   /* TC */
	CU_ASSERT_EQUAL(memcmp(w.b + 4, "\0\1\0\0\0\0\0\0", 8), 0);
	CU_ASSERT_EQUAL(fg_dnsmsg_parse(w.b, n, true, &t, NULL), 0);
	CU_ASSERT_TRUE(t.tc);
}

static void test_probe(void)
{
	uint8_t p[FG_DNSMSG_PROBE_LEN];
	struct fg_dnsmsg q;
	static const uint8_t want[] = {
		0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		8, 'f', 'i', 'r', 'e', 'z', 'o', 'n', 'e', 3, 'd', 'e', 'v', 0, 0, 1, 0, 1,
	};

	CU_ASSERT_EQUAL(fg_dnsmsg_probe(0xabcd, p), sizeof(want));
	CU_ASSERT_EQUAL(memcmp(p, want, sizeof(want)), 0);
	CU_ASSERT_EQUAL(fg_dnsmsg_parse(p, sizeof(p), false, &q, NULL), 0);
}

/* ---- hostile messages ---- */

struct bad {
	const char *what;
	bool response;
	uint8_t b[300];
	size_t n;
};

static struct bad *bad_table(size_t *count)
{
	static struct bad t[40];
	struct w w;
	size_t n = 0;

#define ADD(desc, resp) do { t[n].what = desc; t[n].response = resp; memcpy(t[n].b, w.b, w.n); t[n].n = w.n; n++; } while (0)
	w.n = 0;
	ADD("shorter than a header", false);
	hdr(&w, 1, 0, 1, 0, 0, 0);
	w.n = 11;
	ADD("shorter than a header", false);
	hdr(&w, 1, 0x8000, 1, 0, 0, 0);
	name(&w, "a");
	u16(&w, 1);
	u16(&w, 1);
	ADD("not a query (QR set)", false);
	hdr(&w, 1, 0x0000, 1, 0, 0, 0);
	name(&w, "a");
	u16(&w, 1);
	u16(&w, 1);
	ADD("not a response (QR clear)", true);
	hdr(&w, 1, 0, 0, 0, 0, 0);
	ADD("no question", false);
	hdr(&w, 1, 0, 2, 0, 0, 0);
	name(&w, "a");
	u16(&w, 1);
	u16(&w, 1);
	name(&w, "b");
	u16(&w, 1);
	u16(&w, 1);
	ADD("more than one question", false);
	hdr(&w, 1, 0, 1, 0, 0, 0);
	ADD("name runs past the end", false);
	hdr(&w, 1, 0, 1, 0, 0, 0);
	u8(&w, 5);
	raw(&w, "ab", 2);
	ADD("label runs past the end", false);
	hdr(&w, 1, 0, 1, 0, 0, 0);
	u8(&w, 1);
	u8(&w, 'a');
	ADD("name runs past the end", false);
	hdr(&w, 1, 0, 1, 0, 0, 0);
	u8(&w, 0x41);
	ADD("label type 0x40 or 0x80", false);
	hdr(&w, 1, 0, 1, 0, 0, 0);
	u8(&w, 0x80);
	ADD("label type 0x40 or 0x80", false);
	hdr(&w, 1, 0, 1, 0, 0, 0);
	u8(&w, 0xc0);
	ADD("compression pointer runs past the end", false);
	hdr(&w, 1, 0, 1, 0, 0, 0);
	u16(&w, 0xc00c);   /* to itself */
	u16(&w, 1);
	u16(&w, 1);
	ADD("compression pointer not backwards", false);
	hdr(&w, 1, 0, 1, 0, 0, 0);
	u16(&w, 0xc010);   /* forwards */
	u16(&w, 1);
	u8(&w, 0);
	u16(&w, 1);
	ADD("compression pointer not backwards", false);
	hdr(&w, 1, 0, 1, 0, 0, 0);
	u8(&w, 1);          /* "a" then back to it: a loop the length ends, as the domain crate */
	u8(&w, 'a');
	u16(&w, 0xc00c);
	u16(&w, 1);
	u16(&w, 1);
	ADD("name longer than 255 bytes", false);
	hdr(&w, 1, 0, 1, 0, 0, 0);
	for (int i = 0; i < 4; i++) {
		u8(&w, 63);
		for (int k = 0; k < 63; k++)
			u8(&w, 'x');
	}
	u8(&w, 0);
	u16(&w, 1);
	u16(&w, 1);
	ADD("name longer than 255 bytes", false);
	hdr(&w, 1, 0, 1, 0, 0, 0);
	name(&w, "a");
	u16(&w, 1);
	u8(&w, 0);
	ADD("question runs past the end", false);
	hdr(&w, 1, 0, 1, 1, 0, 0);
	name(&w, "a");
	u16(&w, 1);
	u16(&w, 1);
	ADD("name runs past the end", false);
	hdr(&w, 1, 0, 1, 1, 0, 0);
	name(&w, "a");
	u16(&w, 1);
	u16(&w, 1);
	u16(&w, 0xc00c);
	u16(&w, 1);
	ADD("record header runs past the end", false);
	hdr(&w, 1, 0x8000, 1, 1, 0, 0);
	name(&w, "a");
	u16(&w, 1);
	u16(&w, 1);
	rr(&w, 12, 1, "\1\2\3\4\5", 5);
	ADD("A record data not 4 bytes", true);
	hdr(&w, 1, 0x8000, 1, 1, 0, 0);
	name(&w, "a");
	u16(&w, 28);
	u16(&w, 1);
	rr(&w, 12, 28, "\1\2\3\4", 4);
	ADD("AAAA record data not 16 bytes", true);
	hdr(&w, 1, 0x8000, 1, 1, 0, 0);
	name(&w, "a");
	u16(&w, 1);
	u16(&w, 1);
	rr(&w, 12, 1, "\1\2\3\4", 4);
	w.b[w.n - 5] = 9;   /* rdlen 9 */
	ADD("record data runs past the end", true);
	hdr(&w, 1, 0x8000, 1, 1, 0, 0);
	name(&w, "a");
	u16(&w, 16);
	u16(&w, 1);
	rr(&w, 12, 16, "\3ab", 3);
	ADD("TXT character string runs past its record", true);
	hdr(&w, 1, 0x8000, 1, 1, 0, 0);
	name(&w, "a");
	u16(&w, 15);
	u16(&w, 1);
	rr(&w, 12, 15, "\0", 1);
	ADD("MX record data too short", true);
	hdr(&w, 1, 0x8000, 1, 1, 0, 0);
	name(&w, "a");
	u16(&w, 33);
	u16(&w, 1);
	rr(&w, 12, 33, "\0\0\0\0\0", 5);
	ADD("SRV record data too short", true);
	hdr(&w, 1, 0x8000, 1, 1, 0, 0);
	name(&w, "a");
	u16(&w, 33);
	u16(&w, 1);
	rr(&w, 12, 33, "\0\0\0\0\0\0", 6);
	ADD("name runs past the end", true);
	hdr(&w, 1, 0x8000, 1, 1, 0, 0);
	name(&w, "a");
	u16(&w, 5);
	u16(&w, 1);
	rr(&w, 12, 5, "\1b\0\0", 4);
	ADD("bytes after the name in record data", true);
	hdr(&w, 1, 0x8000, 1, 1, 0, 0);
	name(&w, "a");
	u16(&w, 6);
	u16(&w, 1);
	rr(&w, 12, 6, "\xc0\x0c\xc0\x0c\0\0\0\0", 8);
	ADD("SOA record data not two names and 20 bytes", true);
	hdr(&w, 1, 0x8000, 1, 1, 0, 0);
	name(&w, "a");
	u16(&w, 5);
	u16(&w, 1);
	rr(&w, 12, 5, "\xc0\x30", 2);   /* CNAME pointing forwards */
	ADD("compression pointer not backwards", true);
#undef ADD
	*count = n;
	return t;
}

static void test_hostile(void)
{
	size_t n;
	struct bad *t = bad_table(&n);

	for (size_t i = 0; i < n; i++) {
		struct fg_dnsmsg m;
		const char *why = NULL;
		/* an exact-size heap copy: ASan sees any read past the end */
		uint8_t *copy = malloc(t[i].n ? t[i].n : 1);

		memcpy(copy, t[i].b, t[i].n);
		CU_ASSERT_EQUAL(fg_dnsmsg_parse(copy, t[i].n, t[i].response, &m, &why), -EBADMSG);
		CU_ASSERT_PTR_NOT_NULL(why);
		if (!why || strcmp(why, t[i].what)) {
			printf("\n  case %zu: want '%s', got '%s'\n", i, t[i].what, why ? why : "(none)");
			CU_FAIL("reason");
		}
		CU_ASSERT_EQUAL(fg_dnsmsg_parse(copy, t[i].n, t[i].response, &m, NULL), -EBADMSG);
		free(copy);
	}
	CU_ASSERT_EQUAL(fg_dnsmsg_parse(NULL, 0, false, &(struct fg_dnsmsg){ 0 }, NULL), -EBADMSG);
}

/* ---- mutations ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void check_one(const uint8_t *b, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);
	struct fg_dnsmsg m, r;
	uint8_t out[FG_DNSMSG_SERVFAIL_MAX];

	memcpy(copy, b, n);
	if (fg_dnsmsg_parse(copy, n, false, &m, NULL) == 0) {
		size_t k = fg_dnsmsg_servfail(&m, out, sizeof(out));

		CU_ASSERT_TRUE_FATAL(k > 0);
		CU_ASSERT_EQUAL_FATAL(fg_dnsmsg_parse(out, k, true, &r, NULL), 0);
		CU_ASSERT_EQUAL(r.id, m.id);
		CU_ASSERT_EQUAL(r.qname_len, m.qname_len);
		CU_ASSERT_EQUAL(memcmp(r.qname, m.qname, m.qname_len), 0);
	}
	if (fg_dnsmsg_parse(copy, n, true, &m, NULL) == 0) {
		size_t max = rnd() % 300, k = fg_dnsmsg_truncate(copy, n, &m, max);

		/* not parsed again: a question name pointing into the header may read the new counts */
		if (n <= max) {
			CU_ASSERT_EQUAL(k, n);
		} else {
			CU_ASSERT_EQUAL(k, m.question_end);
			CU_ASSERT_TRUE(copy[2] & 0x02);
		}
	}
	free(copy);
}

static void test_mutations(void)
{
	struct w good[3];
	size_t nbad;
	struct bad *t = bad_table(&nbad);
	unsigned parsed = 0;

	good_query(&good[0]);
	good_answer(&good[1]);
	good_query(&good[2]);
	good[2].b[2] |= 0x80;
	for (int i = 0; i < 30000; i++) {
		const struct w *g = &good[rnd() % 3];
		uint8_t b[4096];
		size_t n = g->n;
		struct fg_dnsmsg m;

		memcpy(b, g->b, n);
		for (unsigned k = 1 + rnd() % 4; k; k--) {
			switch (rnd() % 4) {
			case 0:
				b[rnd() % n] = (uint8_t)rnd();
				break;
			case 1:
				b[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8));
				break;
			case 2:
				n = n > 1 ? rnd() % n : n;
				break;
			default:
				b[12 + rnd() % (n > 12 ? n - 12 : 1)] = (uint8_t)(0xc0 | (rnd() % 2));
				break;
			}
			if (!n)
				n = 1;
		}
		check_one(b, n);
		parsed += fg_dnsmsg_parse(b, n, b[2] & 0x80, &m, NULL) == 0;
	}
	for (size_t i = 0; i < nbad; i++)
		check_one(t[i].b, t[i].n);
	CU_ASSERT_TRUE(parsed > 100);   /* the mutations keep some messages whole */
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "queries and answers that parse", test_good },
		{ "SERVFAIL as Rust's Response::servfail", test_servfail },
		{ "UDP answers cut after the question, TC set", test_truncate },
		{ "the ranking probe: firezone.dev. A, RD", test_probe },
		{ "hostile messages refused with a reason", test_hostile },
		{ "30,000 mutations of good messages", test_mutations },
	};

	return fg_cunit_run("dns_dnsmsg", tests, ARRAY_LEN(tests));
}
