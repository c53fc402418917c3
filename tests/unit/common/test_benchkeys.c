// SPDX-License-Identifier: MIT
/*
 * CUnit suite for common/benchkeys.c, the keys.txt parser. A valid file is built from random
 * keys (public keys from libsodium's X25519, text from libsodium's base64, not from the
 * parser's own encoder) in fastgate-gen-pcaps' format, must parse to exactly those values,
 * and then each hostile variant of a table (one field changed, one line added or broken)
 * must be refused with the line it names, with nothing left allocated. Single-threaded.
 */
#include "benchkeys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <sodium.h>

#include "../cunit_run.h"

enum { NCLIENTS = 3, TEXT_MAX = 8192 };

struct ref {
	uint8_t gw_priv[32], gw_pub[32];
	uint8_t priv[NCLIENTS][32], pub[NCLIENTS][32], send[NCLIENTS][32], recv[NCLIENTS][32];
};

static struct ref g_ref;

static void b64(char out[45], const uint8_t key[32])
{
	sodium_bin2base64(out, 45, key, 32, sodium_base64_VARIANT_ORIGINAL);
}

static void make_ref(void)
{
	randombytes_buf(g_ref.gw_priv, 32);
	crypto_scalarmult_base(g_ref.gw_pub, g_ref.gw_priv);
	for (int i = 0; i < NCLIENTS; i++) {
		randombytes_buf(g_ref.priv[i], 32);
		crypto_scalarmult_base(g_ref.pub[i], g_ref.priv[i]);
		randombytes_buf(g_ref.send[i], 32);
		randombytes_buf(g_ref.recv[i], 32);
	}
}

/* The client line i in the generator's format (write_keys in gen_pcaps.c). */
static int client_line(char *out, size_t len, int i)
{
	char a[45], b[45], c[45], d[45];

	b64(a, g_ref.priv[i]);
	b64(b, g_ref.pub[i]);
	b64(c, g_ref.send[i]);
	b64(d, g_ref.recv[i]);
	return snprintf(out, len,
			"client %d private %s public %s sport %d sender_index 0x%08x receiver_index 0x%08x send %s recv %s\n",
			i, a, b, 40000 + i, 0x10000000 + i, 0x20000000 + i, c, d);
}

static size_t valid_text(char *out, size_t len)
{
	char a[45], b[45];
	size_t n;

	b64(a, g_ref.gw_priv);
	b64(b, g_ref.gw_pub);
	n = (size_t)snprintf(out, len, "gateway private %s public %s\n", a, b);
	for (int i = 0; i < NCLIENTS; i++)
		n += (size_t)client_line(out + n, len - n, i);
	return n;
}

static void test_valid(void)
{
	char text[TEXT_MAX], err[256] = "";
	struct fg_benchkeys k;
	size_t n = valid_text(text, sizeof(text));

	CU_ASSERT_EQUAL_FATAL(fg_benchkeys_parse(text, n, &k, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(k.n, NCLIENTS);
	CU_ASSERT_EQUAL(memcmp(k.gateway_public, g_ref.gw_pub, 32), 0);
	for (uint32_t i = 0; i < k.n; i++) {
		CU_ASSERT_EQUAL(memcmp(k.clients[i].public_key, g_ref.pub[i], 32), 0);
		CU_ASSERT_EQUAL(memcmp(k.clients[i].send_key, g_ref.send[i], 32), 0);
		CU_ASSERT_EQUAL(memcmp(k.clients[i].recv_key, g_ref.recv[i], 32), 0);
		CU_ASSERT_EQUAL(k.clients[i].sport, 40000 + i);
		CU_ASSERT_EQUAL(k.clients[i].sender_index, 0x10000000 + i);
		CU_ASSERT_EQUAL(k.clients[i].receiver_index, 0x20000000 + i);
	}
	fg_benchkeys_free(&k);
	CU_ASSERT_PTR_NULL(k.clients);
	CU_ASSERT_EQUAL(k.n, 0);

	/* Comments, blank lines, CRLF, tabs, no final newline, upper-case hex: still valid. */
	char text2[TEXT_MAX];
	size_t m = (size_t)snprintf(text2, sizeof(text2), "# keys\r\n\n   \t\n");

	memcpy(text2 + m, text, n - 1);   /* without the last newline */
	m += n - 1;
	for (size_t i = 0; i < m; i++)
		if (i > 0 && text2[i] == 'x' && text2[i - 1] == '0' && text2[i + 1] == '2')
			text2[i] = 'X';
	CU_ASSERT_EQUAL_FATAL(fg_benchkeys_parse(text2, m, &k, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(k.n, NCLIENTS);
	CU_ASSERT_EQUAL(k.clients[2].receiver_index, 0x20000002);
	fg_benchkeys_free(&k);
	fg_benchkeys_free(&k);   /* idempotent */
}

/* Replaces the first occurrence of from (after skip bytes) by to; false if absent. */
static bool replace(char *text, size_t cap, size_t skip, const char *from, const char *to)
{
	char *p = strstr(text + skip, from);
	size_t fl = strlen(from), tl = strlen(to), rest;

	if (!p)
		return false;
	rest = strlen(p + fl);
	if ((size_t)(p - text) + tl + rest + 1 > cap)
		return false;
	memmove(p + tl, p + fl, rest + 1);
	memcpy(p, to, tl);
	return true;
}

struct hostile {
	const char *what;
	const char *from;      /* in the valid text, after the gateway line; NULL: see append */
	const char *to;
	const char *append;    /* appended to the valid text */
	unsigned line;         /* the line the error must name (0: a whole-file error) */
	int rc;
};

static void test_hostile(void)
{
	char pub1[45], priv0[45], send0[45];
	char badpad[45], short_key[45];

	b64(pub1, g_ref.pub[1]);
	b64(priv0, g_ref.priv[0]);
	b64(send0, g_ref.send[0]);
	memcpy(badpad, send0, sizeof(badpad));
	badpad[42] = badpad[42] == 'B' ? 'C' : 'B';   /* padding bits set: not canonical */
	memcpy(short_key, send0, sizeof(short_key));
	short_key[43] = '\0';
	const struct hostile table[] = {
		{ "unknown line", NULL, NULL, "peer 3 private x\n", 5, -EINVAL },
		{ "second gateway line", NULL, NULL, "gateway private a public b c\n", 5, -EINVAL },
		{ "client out of order", "client 1 ", "client 2 ", NULL, 3, -EINVAL },
		{ "client number signed", "client 1 ", "client +1 ", NULL, 3, -EINVAL },
		{ "client number huge", "client 1 ", "client 99999999999 ", NULL, 3, -EINVAL },
		{ "keyword renamed", "sender_index", "sender_idx", NULL, 2, -EINVAL },
		{ "field missing", " sport 40000", "", NULL, 2, -EINVAL },
		{ "field extra", "sport 40000", "sport 40000 x", NULL, 2, -EINVAL },
		{ "port zero", "sport 40000", "sport 0", NULL, 2, -EINVAL },
		{ "port too big", "sport 40000", "sport 65536", NULL, 2, -EINVAL },
		{ "port not a number", "sport 40000", "sport 4e4", NULL, 2, -EINVAL },
		{ "index without 0x", "sender_index 0x", "sender_index ", NULL, 2, -EINVAL },
		{ "index zero", "receiver_index 0x20000000", "receiver_index 0x0", NULL, 2, -EINVAL },
		{ "index nine digits", "receiver_index 0x", "receiver_index 0x1", NULL, 2, -EINVAL },
		{ "index not hex", "receiver_index 0x20000000", "receiver_index 0x2000000g", NULL, 2, -EINVAL },
		{ "duplicate receiver index", "receiver_index 0x20000001", "receiver_index 0x20000000", NULL, 3, -EINVAL },
		{ "duplicate public key", NULL, NULL, NULL, 3, -EINVAL },   /* built below */
		{ "key not canonical", send0, badpad, NULL, 2, -EINVAL },
		{ "key cut short", send0, short_key, NULL, 2, -EINVAL },
		{ "private key of another", priv0, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", NULL, 2, -EINVAL },
		{ "NUL byte", NULL, NULL, "#\0\n", 5, -EINVAL },
		{ "line too long", NULL, NULL, NULL, 5, -E2BIG },           /* built below */
		{ "too many fields", NULL, NULL, "a b c d e f g h i j k l m n o p q r\n", 5, -EINVAL },
	};
	for (size_t t = 0; t < sizeof(table) / sizeof(table[0]); t++) {
		const struct hostile *h = &table[t];
		char text[TEXT_MAX], err[256] = "", want[32];
		struct fg_benchkeys k;
		size_t n = valid_text(text, sizeof(text)), gw = (size_t)(strchr(text, '\n') - text);

		if (h->from)
			CU_ASSERT_FATAL(replace(text, sizeof(text), gw, h->from, h->to));
		n = strlen(text);
		if (h->append) {
			size_t al = strlen(h->append) + (strcmp(h->what, "NUL byte") == 0 ? 2 : 0);

			memcpy(text + n, h->append, al);
			n += al;
		}
		if (strcmp(h->what, "duplicate public key") == 0) {
			char line[512];
			char *l2 = strstr(text, "client 1 ");

			client_line(line, sizeof(line), 0);
			memcpy(line + 7, "1", 1);              /* "client 1 ...", client 0's keys */
			memcpy(strstr(line, "0x20000000"), "0x20000009", 10);
			memcpy(l2, line, strlen(line));        /* same length as client 1's line */
		}
		if (strcmp(h->what, "line too long") == 0) {
			memset(text + n, '#', FG_BENCHKEYS_MAX_LINE + 1);
			n += FG_BENCHKEYS_MAX_LINE + 1;
			text[n++] = '\n';
		}
		CU_ASSERT_EQUAL(fg_benchkeys_parse(text, n, &k, err, sizeof(err)), h->rc);
		CU_ASSERT_PTR_NULL(k.clients);
		CU_ASSERT_EQUAL(k.n, 0);
		snprintf(want, sizeof(want), "line %u:", h->line);
		if (strncmp(err, want, strlen(want)) != 0)
			fprintf(stderr, "  %s: got \"%s\"\n", h->what, err);
		CU_ASSERT_EQUAL(strncmp(err, want, strlen(want)), 0);
		/* No key text in a message. */
		CU_ASSERT_PTR_NULL(strstr(err, send0));
		CU_ASSERT_PTR_NULL(strstr(err, priv0));
		CU_ASSERT_PTR_NULL(strstr(err, pub1));
	}
}

static void test_whole_file(void)
{
	char text[TEXT_MAX], err[256];
	struct fg_benchkeys k;
	size_t n = valid_text(text, sizeof(text));
	char *gw_end = strchr(text, '\n') + 1;

	/* no gateway line */
	CU_ASSERT_EQUAL(fg_benchkeys_parse(gw_end, n - (size_t)(gw_end - text), &k, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "no gateway line");
	/* no client line */
	CU_ASSERT_EQUAL(fg_benchkeys_parse(text, (size_t)(gw_end - text), &k, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "no client line");
	/* empty */
	CU_ASSERT_EQUAL(fg_benchkeys_parse("", 0, &k, err, sizeof(err)), -EINVAL);
	/* over the size limit */
	CU_ASSERT_EQUAL(fg_benchkeys_parse(text, (size_t)FG_BENCHKEYS_MAX_FILE + 1, &k, err, sizeof(err)), -E2BIG);
	CU_ASSERT_PTR_NULL(k.clients);
}

static void test_load(void)
{
	char path[] = "/tmp/fg-benchkeys-XXXXXX", text[TEXT_MAX], err[512];
	struct fg_benchkeys k;
	size_t n = valid_text(text, sizeof(text));
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(write(fd, text, n), (ssize_t)n);
	close(fd);
	CU_ASSERT_EQUAL(fg_benchkeys_load(path, &k, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(k.n, NCLIENTS);
	fg_benchkeys_free(&k);
	/* an error names the file and the line */
	fd = open(path, O_WRONLY | O_APPEND);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "bogus\n", 6), 6);
	close(fd);
	CU_ASSERT_EQUAL(fg_benchkeys_load(path, &k, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 5:"));
	unlink(path);
	CU_ASSERT_EQUAL(fg_benchkeys_load(path, &k, err, sizeof(err)), -ENOENT);
	CU_ASSERT_EQUAL(fg_benchkeys_load("/tmp", &k, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a regular file"));
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "valid file", test_valid },
		{ "hostile lines", test_hostile },
		{ "whole-file errors", test_whole_file },
		{ "load", test_load },
	};

	if (sodium_init() < 0)
		return 1;
	make_ref();
	return fg_cunit_run("benchkeys", tests, sizeof(tests) / sizeof(tests[0]));
}
