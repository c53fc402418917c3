// SPDX-License-Identifier: MIT
/*
 * keys.txt of fastgate-gen-pcaps, parsed strictly (see benchkeys.h for the grammar). A line
 * is cut into whitespace-separated tokens in a stack copy, which is wiped before the next
 * line, so no key text outlives the line it was on; errors name the line and the field,
 * never a token. No state, any thread.
 */
#include "benchkeys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "errbuf.h"
#include "keys.h"

enum {
	MAX_TOKENS = 17,      /* one more than a client line has, to notice a surplus */
	GATEWAY_TOKENS = 5,
	CLIENT_TOKENS = 16,
};

struct line {
	char buf[FG_BENCHKEYS_MAX_LINE + 1];
	char *tok[MAX_TOKENS];
	unsigned ntok;
	unsigned no;          /* 1-based line number */
};

/* Splits l->buf at spaces, tabs and a CR; false when it holds more than MAX_TOKENS. */
static bool tokenize(struct line *l)
{
	char *p = l->buf;

	l->ntok = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			*p++ = '\0';
		if (*p == '\0')
			return true;
		if (l->ntok == MAX_TOKENS)
			return false;
		l->tok[l->ntok++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
	}
}

/* A base64 key (exactly 44 characters) into key; false (key zeroed) otherwise. */
static bool parse_key(uint8_t key[32], const char *s)
{
	return fg_key_from_base64(key, s) == 0;
}

/* Decimal 1..max, digits only. */
static bool parse_dec(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (*s == '\0' || strlen(s) > 10)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* "0x" and 1..8 hex digits, not zero. */
static bool parse_index(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	size_t n;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return false;
	s += 2;
	n = strlen(s);
	if (n == 0 || n > 8)
		return false;
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return v != 0;
}

/* The private key in text s must give pub: checked, then the private key is wiped. */
static bool key_pair_ok(const char *priv_b64, const uint8_t pub[32])
{
	uint8_t priv[32], derived[32];
	bool ok = parse_key(priv, priv_b64) && crypto_scalarmult_base(derived, priv) == 0 &&
		  sodium_memcmp(derived, pub, 32) == 0;

	sodium_memzero(priv, sizeof(priv));
	sodium_memzero(derived, sizeof(derived));
	return ok;
}

/* The keyword tokens of a line and their places (the values sit between them). */
struct word {
	unsigned at;
	const char *word;
};
static const struct word gateway_words[] = { { 0, "gateway" }, { 1, "private" }, { 3, "public" } };
static const struct word client_words[] = { { 0, "client" },	     { 2, "private" },	     { 4, "public" },
					    { 6, "sport" },	     { 8, "sender_index" }, { 10, "receiver_index" },
					    { 12, "send" },	     { 14, "recv" } };

static int words_match(const struct line *l, const struct word *words, unsigned nwords, char *err, size_t errlen)
{
	for (unsigned i = 0; i < nwords; i++)
		if (strcmp(l->tok[words[i].at], words[i].word) != 0)
			return fg_errbuf_fail(-EINVAL, err, errlen, "line %u: field %u should be '%s'", l->no,
					      words[i].at + 1, words[i].word);
	return 0;
}

static int gateway_line(const struct line *l, struct fg_benchkeys *k, bool *seen, char *err, size_t errlen)
{
	int r;

	if (l->ntok != GATEWAY_TOKENS)
		return fg_errbuf_fail(-EINVAL, err, errlen, "line %u: a gateway line has %d fields, not %u", l->no,
				      GATEWAY_TOKENS, l->ntok);
	r = words_match(l, gateway_words, sizeof(gateway_words) / sizeof(gateway_words[0]), err, errlen);
	if (r < 0)
		return r;
	if (*seen)
		return fg_errbuf_fail(-EINVAL, err, errlen, "line %u: a second gateway line", l->no);
	if (!parse_key(k->gateway_public, l->tok[4]))
		return fg_errbuf_fail(-EINVAL, err, errlen, "line %u: public: not a base64 key of 32 bytes", l->no);
	if (!key_pair_ok(l->tok[2], k->gateway_public))
		return fg_errbuf_fail(-EINVAL, err, errlen,
				      "line %u: private: not a base64 key of 32 bytes whose public key is the one given",
				      l->no);
	*seen = true;
	return 0;
}

/* A receiver index or public key that an earlier client already has. */
static bool duplicate(const struct fg_benchkeys *k, const struct fg_benchkeys_client *c)
{
	for (uint32_t i = 0; i < k->n; i++)
		if (k->clients[i].receiver_index == c->receiver_index ||
		    sodium_memcmp(k->clients[i].public_key, c->public_key, 32) == 0)
			return true;
	return false;
}

static int client_line(const struct line *l, struct fg_benchkeys *k, uint32_t cap, char *err, size_t errlen)
{
	struct fg_benchkeys_client *c;
	uint32_t i, sport;
	int r;

	if (l->ntok != CLIENT_TOKENS)
		return fg_errbuf_fail(-EINVAL, err, errlen, "line %u: a client line has %d fields, not %u", l->no,
				      CLIENT_TOKENS, l->ntok);
	r = words_match(l, client_words, sizeof(client_words) / sizeof(client_words[0]), err, errlen);
	if (r < 0)
		return r;
	if (!parse_dec(l->tok[1], UINT32_MAX, &i) || i != k->n)
		return fg_errbuf_fail(-EINVAL, err, errlen, "line %u: client number: expected %u (clients in order from 0)",
				      l->no, k->n);
	if (k->n == cap)
		return fg_errbuf_fail(-E2BIG, err, errlen, "line %u: more than %d clients", l->no,
				      FG_BENCHKEYS_MAX_CLIENTS);
	c = &k->clients[k->n];
	if (!parse_key(c->public_key, l->tok[5]))
		return fg_errbuf_fail(-EINVAL, err, errlen, "line %u: public: not a base64 key of 32 bytes", l->no);
	if (!key_pair_ok(l->tok[3], c->public_key))
		return fg_errbuf_fail(-EINVAL, err, errlen,
				      "line %u: private: not a base64 key of 32 bytes whose public key is the one given",
				      l->no);
	if (!parse_dec(l->tok[7], UINT16_MAX, &sport) || sport == 0)
		return fg_errbuf_fail(-EINVAL, err, errlen, "line %u: sport: not a port 1..65535", l->no);
	c->sport = (uint16_t)sport;
	if (!parse_index(l->tok[9], &c->sender_index))
		return fg_errbuf_fail(-EINVAL, err, errlen, "line %u: sender_index: not 0x and 1..8 hex digits, non-zero",
				      l->no);
	if (!parse_index(l->tok[11], &c->receiver_index))
		return fg_errbuf_fail(-EINVAL, err, errlen,
				      "line %u: receiver_index: not 0x and 1..8 hex digits, non-zero", l->no);
	if (!parse_key(c->send_key, l->tok[13]))
		return fg_errbuf_fail(-EINVAL, err, errlen, "line %u: send: not a base64 key of 32 bytes", l->no);
	if (!parse_key(c->recv_key, l->tok[15]))
		return fg_errbuf_fail(-EINVAL, err, errlen, "line %u: recv: not a base64 key of 32 bytes", l->no);
	if (duplicate(k, c))
		return fg_errbuf_fail(-EINVAL, err, errlen,
				      "line %u: receiver_index or public key already given for an earlier client", l->no);
	k->n++;
	return 0;
}

/* One line of text (len bytes, no newline). */
static int parse_line(struct line *l, const char *text, size_t len, struct fg_benchkeys *k, uint32_t cap,
		      bool *gateway_seen, char *err, size_t errlen)
{
	if (len > FG_BENCHKEYS_MAX_LINE)
		return fg_errbuf_fail(-E2BIG, err, errlen, "line %u: longer than %d bytes", l->no,
				      FG_BENCHKEYS_MAX_LINE);
	if (memchr(text, '\0', len))
		return fg_errbuf_fail(-EINVAL, err, errlen, "line %u: a NUL byte", l->no);
	memcpy(l->buf, text, len);
	l->buf[len] = '\0';
	if (!tokenize(l))
		return fg_errbuf_fail(-EINVAL, err, errlen, "line %u: more fields than a client line has", l->no);
	if (l->ntok == 0 || l->tok[0][0] == '#')
		return 0;
	if (strcmp(l->tok[0], "gateway") == 0)
		return gateway_line(l, k, gateway_seen, err, errlen);
	if (strcmp(l->tok[0], "client") == 0)
		return client_line(l, k, cap, err, errlen);
	return fg_errbuf_fail(-EINVAL, err, errlen, "line %u: neither a gateway nor a client line", l->no);
}

int fg_benchkeys_parse(const char *text, size_t len, struct fg_benchkeys *out, char *err, size_t errlen)
{
	struct line l;
	bool gateway_seen = false;
	uint32_t cap = 1;
	size_t pos = 0;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (len > FG_BENCHKEYS_MAX_FILE)
		return fg_errbuf_fail(-E2BIG, err, errlen, "longer than %d bytes", FG_BENCHKEYS_MAX_FILE);
	/* At most one client per line: the number of lines bounds the array. */
	for (size_t i = 0; i < len && cap < FG_BENCHKEYS_MAX_CLIENTS; i++)
		cap += text[i] == '\n';
	out->clients = calloc(cap, sizeof(*out->clients));
	if (!out->clients)
		return fg_errbuf_fail(-ENOMEM, err, errlen, "out of memory");
	for (unsigned no = 1; pos < len && r == 0; no++) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		l.no = no;
		r = parse_line(&l, text + pos, n, out, cap, &gateway_seen, err, errlen);
		sodium_memzero(&l, sizeof(l));
		pos += n + (nl != NULL);
	}
	if (r == 0 && !gateway_seen)
		r = fg_errbuf_fail(-EINVAL, err, errlen, "no gateway line");
	if (r == 0 && out->n == 0)
		r = fg_errbuf_fail(-EINVAL, err, errlen, "no client line");
	if (r < 0) {
		/* A client line that failed half-way left keys in the slot after the last one. */
		sodium_memzero(out->clients, sizeof(*out->clients) * cap);
		fg_benchkeys_free(out);
	}
	return r;
}

int fg_benchkeys_load(const char *path, struct fg_benchkeys *out, char *err, size_t errlen)
{
	char msg[256];
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, r;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fg_errbuf_fail(-errno, err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		r = -errno;
	else
		r = !S_ISREG(st.st_mode) ? -EINVAL : st.st_size > FG_BENCHKEYS_MAX_FILE ? -E2BIG : 0;
	if (r < 0) {
		close(fd);
		return fg_errbuf_fail(r, err, errlen, "%s: %s", path,
				      r == -EINVAL ? "not a regular file"
				      : r == -E2BIG ? "longer than 1 MiB" : strerror(-r));
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return fg_errbuf_fail(-ENOMEM, err, errlen, "%s: out of memory", path);
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		sodium_memzero(buf, (size_t)st.st_size + 1);
		free(buf);
		return fg_errbuf_fail(-EIO, err, errlen, "%s: short read", path);
	}
	r = fg_benchkeys_parse(buf, got, out, msg, sizeof(msg));
	sodium_memzero(buf, (size_t)st.st_size + 1);
	free(buf);
	if (r < 0)
		fg_errbuf_set(err, errlen, "%s: %s", path, msg);
	return r;
}

void fg_benchkeys_free(struct fg_benchkeys *k)
{
	if (k->clients)
		sodium_memzero(k->clients, sizeof(*k->clients) * (k->n ? k->n : 1));
	free(k->clients);
	sodium_memzero(k, sizeof(*k));
}
