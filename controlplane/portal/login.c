/* SPDX-License-Identifier: MIT */
/*
 * Start-up login settings for the portal, read from the command line, the environment
 * (through an injected getenv) and a few files, with the Rust gateway's sources and
 * precedence (rust/gateway/src/main.rs, bin-shared/src/device_id.rs,
 * phoenix-channel/src/login_url.rs and get_user_agent.rs); and the v2 socket's URL,
 * X-Authorization value and User-Agent derived from them. Runs once on the main thread
 * before the event loop; the token lives in one sodium_malloc() buffer (guard pages, locked
 * where RLIMIT_MEMLOCK allows, out of core dumps) that sodium_free() wipes.
 */
#include "login.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "addr.h"
#include "backoff.h"
#include "errbuf.h"
#include "secfile.h"

static const char default_api_url[] = "wss://api.firezone.dev";
static const char default_health[] = "0.0.0.0:8080";
static const char default_version[] = "1.6.1";
static const char default_id_file[] = "/var/lib/firezone/gateway_id";
static const char default_machine_id[] = "/etc/machine-id";
/* The Rust gateway's GATEWAY_APP_ID: the HMAC key for ids derived from the machine id. */
static const char gateway_app_id[] = "753b38f9f96947ef8083802d5909a372";

/* getenv(3) returns char *: not the injected type. */
static const char *sys_getenv(const char *name)
{
	return getenv(name);
}

/* A boolean flag's environment value as clap reads it for an ArgAction::SetTrue flag:
 * absent, empty, n, no, f, false, off and 0 (any case) are false, anything else true. */
static bool env_flag(const char *(*getenv_fn)(const char *), const char *name)
{
	static const char *const falsey[] = { "n", "no", "f", "false", "off", "0" };
	const char *v = getenv_fn(name);

	if (!v || !*v)
		return false;
	for (size_t i = 0; i < sizeof(falsey) / sizeof(falsey[0]); i++)
		if (!strcasecmp(v, falsey[i]))
			return false;
	return true;
}

/* A non-empty environment value, or NULL (clap treats empty as absent). */
static const char *env(const char *(*getenv_fn)(const char *), const char *name)
{
	const char *v = getenv_fn(name);

	return v && *v ? v : NULL;
}

/* Reads a whole regular file of at most max bytes, NUL-terminated. 0 or -errno
 * (-EFBIG when larger). The caller wipes and frees *out. A file holding a secret (secret
 * names it, else NULL) gets a warning when others may read it or it is not ours. */
static int read_file(const char *path, size_t max, const char *secret, char **out, size_t *len)
{
	struct stat st;
	size_t n = 0;
	char *buf;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto err_fd;
	}
	if (secret)
		fg_secfile_check(fd, path, secret);
	buf = malloc(max + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto err_fd;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, max + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (!r)
			break;
		n += (size_t)r;
		if (n > max) {
			rc = -EFBIG;
			break;
		}
	}
	if (rc) {
		sodium_memzero(buf, max + 1);
		free(buf);
		goto err_fd;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
err_fd:
	close(fd);
	return rc;
}

static void trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s))
		(*s)++, (*n)--;
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* Stores n bytes of s as the token with every whitespace byte removed, wherever it is, as
 * the Rust gateway does (a token pasted across lines still works). from names the source
 * for errors. */
static int set_token(struct fg_login *l, const char *s, size_t n, const char *from,
		     char *err, size_t errlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isspace(c))
			continue;
		if (c < 0x20 || c >= 0x7f)
			return fg_errbuf_fail(-EINVAL, err, errlen,
					      "the token from %s holds non-printable or non-ASCII characters", from);
		o++;
	}
	if (!o)
		return fg_errbuf_fail(-EINVAL, err, errlen, "the token from %s is empty", from);
	if (o > FG_LOGIN_TOKEN_MAX)
		return fg_errbuf_fail(-EINVAL, err, errlen, "the token from %s is longer than %d bytes", from,
				      FG_LOGIN_TOKEN_MAX);
	/* sodium_malloc: guard pages, mlock where allowed, and out of core dumps. */
	l->token = sodium_malloc(o + 1);
	if (!l->token)
		return fg_errbuf_fail(-ENOMEM, err, errlen, "out of memory");
	o = 0;
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)s[i]))
			l->token[o++] = s[i];
	l->token[o] = '\0';
	return 0;
}

static int token_from_file(struct fg_login *l, const char *path, const char *from,
			   char *err, size_t errlen)
{
	char *buf;
	size_t n;
	int rc = read_file(path, FG_LOGIN_FILE_MAX, "token file", &buf, &n);

	if (rc)
		return fg_errbuf_fail(rc, err, errlen, "cannot read the token file %s (%s): %s", path, from,
				      strerror(-rc));
	if (strlen(buf) != n)
		rc = fg_errbuf_fail(-EINVAL, err, errlen, "the token file %s holds a NUL byte", path);
	else
		rc = set_token(l, buf, n, from, err, errlen);
	sodium_memzero(buf, n);
	free(buf);
	return rc;
}

static int load_token(struct fg_login *l, char *positional,
		      const char *(*getenv_fn)(const char *), char *err, size_t errlen)
{
	const char *v = env(getenv_fn, "FIREZONE_TOKEN"), *dir;
	char path[PATH_MAX];
	struct stat st;
	int rc;

	if (positional) {
		rc = set_token(l, positional, strlen(positional), "the command line", err, errlen);
		/* Out of /proc/<pid>/cmdline. */
		sodium_memzero(positional, strlen(positional));
		return rc;
	}
	if (v) {
		/* docker-init-gateway.sh: a path to a file holds the token. */
		if (!stat(v, &st) && S_ISREG(st.st_mode))
			return token_from_file(l, v, "FIREZONE_TOKEN", err, errlen);
		return set_token(l, v, strlen(v), "FIREZONE_TOKEN", err, errlen);
	}
	dir = env(getenv_fn, "CREDENTIALS_DIRECTORY");
	if (!dir)
		return fg_errbuf_fail(-ENOKEY, err, errlen,
				      "no token: set FIREZONE_TOKEN, pass it as the argument, or provide the "
				      "systemd credential FIREZONE_TOKEN");
	if ((size_t)snprintf(path, sizeof(path), "%s/FIREZONE_TOKEN", dir) >= sizeof(path))
		return fg_errbuf_fail(-ENAMETOOLONG, err, errlen, "CREDENTIALS_DIRECTORY is too long");
	return token_from_file(l, path, "the systemd credential", err, errlen);
}

static void hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static bool xdigits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

bool fg_login_is_uuid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 45 && !strncmp(s, "urn:uuid:", 9))
		s += 9, n -= 9;
	else if (n == 38 && s[0] == '{' && s[37] == '}')
		s += 1, n -= 2;
	if (n == 32)
		return xdigits(s, 32);
	if (n != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
		return false;
	return xdigits(s, 8) && xdigits(s + 9, 4) && xdigits(s + 14, 4) && xdigits(s + 19, 4) &&
	       xdigits(s + 24, 12);
}

static void sha256_hex(const char *s, char out[65])
{
	uint8_t h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const uint8_t *)s, strlen(s));
	hex(h, sizeof(h), out);
}

void fg_login_external_id(const char *id, char out[FG_LOGIN_EXTERNAL_ID_LEN])
{
	if (fg_login_is_uuid(id))
		sha256_hex(id, out);
	else
		snprintf(out, FG_LOGIN_EXTERNAL_ID_LEN, "%s", id ? id : "");
}

static bool id_text_ok(const char *s, size_t n)
{
	if (!n || n >= FG_LOGIN_ID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* The id file: JSON {"id":"..."} as the Rust gateway writes it, or a bare id. 0, -errno
 * from reading, or -EINVAL for content that holds no id. */
static int read_id_file(const char *path, char *id)
{
	const char *s;
	char *buf;
	size_t n;
	int rc = read_file(path, FG_LOGIN_FILE_MAX, NULL, &buf, &n);

	if (rc)
		return rc;
	s = buf;
	trim(&s, &n);
	rc = -EINVAL;
	if (n && s[0] == '{') {
		cJSON *j = cJSON_ParseWithLength(s, n);
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "id");

		if (cJSON_IsString(v) && id_text_ok(v->valuestring, strlen(v->valuestring))) {
			strcpy(id, v->valuestring);
			rc = 0;
		}
		cJSON_Delete(j);
	} else if (strlen(s) >= n && id_text_ok(s, n)) {
		memcpy(id, s, n);
		id[n] = '\0';
		rc = 0;
	}
	free(buf);
	return rc;
}

/* HMAC-SHA256(gateway_app_id, the machine-id file's bytes), hex, as device_id.rs does.
 * Only a well-formed machine id (32 hex digits) is used: an empty or "uninitialized" one
 * would give every such machine the same id. */
static int id_from_machine(const char *path, char *id)
{
	crypto_auth_hmacsha256_state st;
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	const char *s;
	char *buf;
	size_t n, tn;
	int rc = read_file(path, 4096, NULL, &buf, &n);

	if (rc)
		return rc;
	s = buf;
	tn = n;
	trim(&s, &tn);
	if (tn != 32 || !xdigits(s, 32)) {
		free(buf);
		return -EINVAL;
	}
	crypto_auth_hmacsha256_init(&st, (const uint8_t *)gateway_app_id, strlen(gateway_app_id));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)buf, n);
	crypto_auth_hmacsha256_final(&st, mac);
	hex(mac, sizeof(mac), id);
	free(buf);
	return 0;
}

static int mkdir_parents(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	if ((size_t)snprintf(dir, sizeof(dir), "%s", path) >= sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(dir, 0770) && errno != EEXIST)
			return -errno;
		if (!c)
			return 0;
		*p = c;
	}
}

/* A random UUID v4 in its hyphenated lower-case form, as the uuid crate prints it. */
static void new_uuid(char out[37])
{
	uint8_t u[16];

	randombytes_buf(u, sizeof(u));
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

/*
 * A new id (hex SHA-256 of a random UUID v4) written to path as {"id":"..."}, mode 0600.
 * Returns 0, or 1 when another process created the file first (its id is read instead),
 * or -errno with a message.
 */
static int create_id_file(const char *path, char *id, char *err, size_t errlen)
{
	char uuid[37], tmp[PATH_MAX], body[96];
	int fd, rc, len;

	new_uuid(uuid);
	sha256_hex(uuid, id);
	len = snprintf(body, sizeof(body), "{\"id\":\"%s\"}\n", id);
	rc = mkdir_parents(path);
	if (rc)
		return fg_errbuf_fail(rc, err, errlen, "cannot create the directory of %s: %s", path, strerror(-rc));
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%08x.tmp", path, randombytes_random()) >= sizeof(tmp))
		return fg_errbuf_fail(-ENAMETOOLONG, err, errlen, "the id file path is too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return fg_errbuf_fail(-errno, err, errlen, "cannot create %s: %s", tmp, strerror(errno));
	rc = fchmod(fd, 0600) ? -errno : 0;
	/* A few dozen bytes to a regular file: short only on error. */
	if (!rc && write(fd, body, (size_t)len) != len)
		rc = -EIO;
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	/* link(2) never replaces: when two starts race, the first id written wins. */
	if (!rc && link(tmp, path))
		rc = -errno;
	unlink(tmp);
	if (rc == -EEXIST) {
		if (read_id_file(path, id))
			return fg_errbuf_fail(-EINVAL, err, errlen, "%s exists but holds no id", path);
		return 1;
	}
	if (rc)
		return fg_errbuf_fail(rc, err, errlen, "cannot write the id file %s: %s", path, strerror(-rc));
	return 0;
}

static int load_id(struct fg_login *l, const char *given, const char *(*getenv_fn)(const char *),
		   char *err, size_t errlen)
{
	const char *file = env(getenv_fn, "FASTGATE_ID_FILE");
	const char *machine = env(getenv_fn, "FASTGATE_MACHINE_ID_FILE");
	int rc;

	if (!given)
		given = env(getenv_fn, "FIREZONE_ID");
	if (given) {
		if (!id_text_ok(given, strlen(given)))
			return fg_errbuf_fail(-EINVAL, err, errlen,
					      "FIREZONE_ID must be 1 to %d printable characters without spaces",
					      FG_LOGIN_ID_LEN - 1);
		strcpy(l->id, given);
		l->id_source = FG_LOGIN_ID_GIVEN;
		return 0;
	}
	file = file ? file : default_id_file;
	if (!read_id_file(file, l->id)) {
		l->id_source = FG_LOGIN_ID_FILE;
		return 0;
	}
	if (!id_from_machine(machine ? machine : default_machine_id, l->id)) {
		l->id_source = FG_LOGIN_ID_MACHINE;
		return 0;
	}
	rc = create_id_file(file, l->id, err, errlen);
	if (rc < 0)
		return rc;
	l->id_source = rc ? FG_LOGIN_ID_FILE : FG_LOGIN_ID_CREATED;
	return 0;
}

static int load_name(struct fg_login *l, const char *given, const char *(*getenv_fn)(const char *),
		     char *err, size_t errlen)
{
	char host[FG_LOGIN_NAME_LEN];

	if (!given)
		given = env(getenv_fn, "FIREZONE_NAME");
	if (!given) {
		memset(host, 0, sizeof(host));
		if (!gethostname(host, sizeof(host) - 1) && host[0])
			given = host;
	}
	if (!given) {
		new_uuid(host);
		given = host;
	}
	if (strlen(given) >= sizeof(l->name))
		return fg_errbuf_fail(-EINVAL, err, errlen, "FIREZONE_NAME is longer than %zu bytes", sizeof(l->name) - 1);
	for (const char *p = given; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return fg_errbuf_fail(-EINVAL, err, errlen, "FIREZONE_NAME holds control characters");
	strcpy(l->name, given);
	return 0;
}

/* ASCII only, whatever the locale. */
static bool alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool host_char(char c)
{
	return alnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

/* Splits a URL "scheme://authority/path?query#fragment" into its normalised parts. */
int fg_login_normalize_url(const char *in, char *out, size_t outlen, char *err, size_t errlen)
{
	const char *p, *auth, *auth_end, *path, *path_end, *port = NULL, *scheme;
	char host[256], quoted[64 * 4 + 16], port_str[24] = "";
	size_t hl = 0, pl;
	unsigned long pnum = 0;
	bool tls, v6;

	if (!in)
		return fg_errbuf_fail(-EINVAL, err, errlen, "no URL");
	/* Quoted in errors, unless it may carry a password (user:password@host). */
	if (strchr(in, '@'))
		snprintf(quoted, sizeof(quoted), "<URL with user information>");
	else
		fg_key_redact(quoted, sizeof(quoted), in, strlen(in), 64);
	p = strstr(in, "://");
	if (!p)
		return fg_errbuf_fail(-EINVAL, err, errlen, "\"%s\" is not a URL (no scheme://)", quoted);
	if ((p - in == 2 && !strncasecmp(in, "ws", 2)) || (p - in == 4 && !strncasecmp(in, "http", 4)))
		tls = false;
	else if ((p - in == 3 && !strncasecmp(in, "wss", 3)) || (p - in == 5 && !strncasecmp(in, "https", 5)))
		tls = true;
	else
		return fg_errbuf_fail(-EINVAL, err, errlen, "\"%s\": only http, https, ws and wss URLs are allowed", quoted);
	scheme = tls ? "wss" : "ws";
	auth = p + 3;
	auth_end = auth + strcspn(auth, "/?#");
	for (const char *c = in; *c; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
			return fg_errbuf_fail(-EINVAL, err, errlen, "\"%s\" holds spaces or non-printable characters", quoted);
	if (memchr(auth, '@', (size_t)(auth_end - auth)))
		return fg_errbuf_fail(-EINVAL, err, errlen, "\"%s\": user information is not supported", quoted);
	if (*auth == '[') {
		const char *close = memchr(auth, ']', (size_t)(auth_end - auth));
		struct fg_ip ip;

		if (!close || (size_t)(close - auth - 1) >= FG_ADDR_STRLEN)
			return fg_errbuf_fail(-EINVAL, err, errlen, "\"%s\": bad IPv6 literal", quoted);
		memcpy(host, auth + 1, (size_t)(close - auth - 1));
		host[close - auth - 1] = '\0';
		if (fg_ip_parse(host, &ip) || ip.family != AF_INET6)
			return fg_errbuf_fail(-EINVAL, err, errlen, "\"%s\": bad IPv6 literal", quoted);
		fg_ip_format(&ip, host, sizeof(host));
		hl = strlen(host);
		p = close + 1;
	} else {
		for (p = auth; p < auth_end && *p != ':'; p++) {
			if (!host_char(*p) || hl >= 253)
				return fg_errbuf_fail(-EINVAL, err, errlen, "\"%s\": bad host name", quoted);
			host[hl++] = (char)tolower((unsigned char)*p);
		}
		host[hl] = '\0';
	}
	if (!hl)
		return fg_errbuf_fail(-EINVAL, err, errlen, "\"%s\" has no host", quoted);
	if (p < auth_end) {
		if (*p != ':')
			return fg_errbuf_fail(-EINVAL, err, errlen, "\"%s\": bad host", quoted);
		port = ++p;
		for (; p < auth_end; p++) {
			if (!isdigit((unsigned char)*p) || pnum > 65535)
				return fg_errbuf_fail(-EINVAL, err, errlen, "\"%s\": bad port", quoted);
			pnum = pnum * 10 + (unsigned long)(*p - '0');
		}
		if (p > port && (!pnum || pnum > 65535))
			return fg_errbuf_fail(-EINVAL, err, errlen, "\"%s\": port out of range", quoted);
	}
	/* The default port is elided, as the url crate does; so is an empty one. */
	if (pnum == (tls ? 443u : 80u))
		pnum = 0;
	path = auth_end;
	path_end = path + strcspn(path, "?#");
	pl = (size_t)(path_end - path);
	while (pl && path[pl - 1] == '/')
		pl--;
	if (pnum)
		snprintf(port_str, sizeof(port_str), ":%lu", pnum);
	v6 = strchr(host, ':') != NULL;
	if ((size_t)snprintf(out, outlen, "%s://%s%s%s%s%.*s", scheme, v6 ? "[" : "", host,
			     v6 ? "]" : "", port_str, (int)pl, path) >= outlen)
		return fg_errbuf_fail(-ENOSPC, err, errlen, "\"%s\" is too long", quoted);
	return 0;
}

int fg_login_form_encode(const char *in, char *out, size_t outlen)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;
		bool keep = alnum(c) || c == '*' || c == '-' || c == '.' || c == '_' || c == ' ';

		if (o + (keep ? 1 : 3) >= outlen)
			return -ENOSPC;
		if (c != ' ' && keep) {
			out[o++] = (char)c;
		} else if (c == ' ') {
			out[o++] = '+';
		} else {
			out[o++] = '%';
			out[o++] = digits[c >> 4];
			out[o++] = digits[c & 15];
		}
	}
	if (o >= outlen)
		return -ENOSPC;
	out[o] = '\0';
	return 0;
}

struct cli {
	char *token;
	const char *slot[6];
	bool flow_logs;
};

enum cli_slot {
	SLOT_IGNORE = 0,
	SLOT_URL,
	SLOT_ID,
	SLOT_NAME,
	SLOT_PARTITION,
	SLOT_HEALTH,
	SLOT_FLOW_LOGS,     /* a flag: no value, no slot */
};

static const struct {
	const char *name;
	char short_name;
	bool value;
	enum cli_slot slot;
} options[] = {
	{ "api-url", 'u', true, SLOT_URL },
	{ "firezone-id", 'i', true, SLOT_ID },
	{ "firezone-name", 'n', true, SLOT_NAME },
	{ "max-partition-time", 'm', true, SLOT_PARTITION },
	{ "health-check-addr", 0, true, SLOT_HEALTH },
	/* The Rust gateway's other options: accepted, meaningless here. */
	{ "log-format", 0, true, SLOT_IGNORE }, { "metrics", 0, true, SLOT_IGNORE },
	{ "otlp-grpc-endpoint", 0, true, SLOT_IGNORE }, { "no-check", 0, false, SLOT_IGNORE },
	{ "no-telemetry", 0, false, SLOT_IGNORE }, { "flow-logs", 0, false, SLOT_FLOW_LOGS },
	{ "no-inc-buf", 0, false, SLOT_IGNORE }, { "validate-checksums", 0, false, SLOT_IGNORE },
};

static int parse_cli(struct cli *c, int argc, char **argv, char *err, size_t errlen)
{
	bool only_positional = false;

	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		const char *value = NULL;
		size_t k, nlen;

		if (only_positional || a[0] != '-' || !a[1]) {
			if (c->token)
				return fg_errbuf_fail(-EINVAL, err, errlen, "more than one positional argument");
			c->token = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_positional = true;
			continue;
		}
		for (k = 0; k < sizeof(options) / sizeof(options[0]); k++) {
			if (a[1] == '-') {
				nlen = strcspn(a + 2, "=");
				if (strlen(options[k].name) != nlen || strncmp(a + 2, options[k].name, nlen))
					continue;
				if (a[2 + nlen] == '=')
					value = a + 3 + nlen;
			} else {
				if (!options[k].short_name || a[1] != options[k].short_name)
					continue;
				if (a[2])
					value = a[2] == '=' ? a + 3 : a + 2;
			}
			break;
		}
		if (k == sizeof(options) / sizeof(options[0]))
			return fg_errbuf_fail(-EINVAL, err, errlen, "unknown option %.*s", /* not a value */
					      (int)(strcspn(a, "=") < 40 ? strcspn(a, "=") : 40), a);
		if (!options[k].value) {
			if (value)
				return fg_errbuf_fail(-EINVAL, err, errlen, "--%s takes no value", options[k].name);
			if (options[k].slot == SLOT_FLOW_LOGS)
				c->flow_logs = true;
			continue;
		}
		if (!value) {
			if (i + 1 >= argc)
				return fg_errbuf_fail(-EINVAL, err, errlen, "--%s needs a value", options[k].name);
			value = argv[++i];
		}
		c->slot[options[k].slot] = value;
	}
	return 0;
}

static bool semver_ok(const char *v)
{
	int parts = 0;

	if (!v || strlen(v) >= FG_LOGIN_VERSION_LEN)
		return false;
	while (parts < 3) {
		if (!isdigit((unsigned char)*v))
			return false;
		while (isdigit((unsigned char)*v))
			v++;
		if (++parts < 3 && *v++ != '.')
			return false;
	}
	if (*v == '-' && v[1])
		for (v++; *v; v++)
			if (!alnum((unsigned char)*v) && *v != '.' && *v != '-')
				return false;
	return !*v;
}

int fg_login_load(struct fg_login *l, int argc, char **argv,
		  const char *(*getenv_fn)(const char *name), char *err, size_t errlen)
{
	struct cli c = { 0 };
	const char *v;
	int rc;

	memset(l, 0, sizeof(*l));
	if (err && errlen)
		err[0] = '\0';
	if (!getenv_fn)
		getenv_fn = sys_getenv;
	if (sodium_init() < 0)
		return fg_errbuf_fail(-ENOSYS, err, errlen, "libsodium cannot initialise");
	rc = parse_cli(&c, argc, argv, err, errlen);
	if (rc)
		return rc;

	v = c.slot[SLOT_URL] ? c.slot[SLOT_URL] : env(getenv_fn, "FIREZONE_API_URL");
	rc = fg_login_normalize_url(v ? v : default_api_url, l->api_url, sizeof(l->api_url), err, errlen);
	if (rc)
		goto err;

	v = c.slot[SLOT_HEALTH] ? c.slot[SLOT_HEALTH] : env(getenv_fn, "HEALTH_CHECK_ADDR");
	v = v ? v : default_health;
	struct fg_endpoint ep;

	if (strlen(v) >= sizeof(l->health_addr) || fg_endpoint_parse(v, &ep)) {
		rc = fg_errbuf_fail(-EINVAL, err, errlen, "HEALTH_CHECK_ADDR must be ip:port");
		goto err;
	}
	strcpy(l->health_addr, v);

	v = c.slot[SLOT_PARTITION] ? c.slot[SLOT_PARTITION] : env(getenv_fn, "FIREZONE_MAX_PARTITION_TIME");
	l->max_partition_ns = (uint64_t)FG_BACKOFF_DEFAULT_PARTITION_S * 1000000000u;
	if (v && fg_backoff_parse_duration(v, &l->max_partition_ns)) {
		rc = fg_errbuf_fail(-EINVAL, err, errlen,
				    "FIREZONE_MAX_PARTITION_TIME: \"%.32s\" is not a duration like 30d, 24h, 90m or 45s", v);
		goto err;
	}

	v = env(getenv_fn, "FASTGATE_REPORTED_VERSION");
	if (v && !semver_ok(v)) {
		rc = fg_errbuf_fail(-EINVAL, err, errlen, "FASTGATE_REPORTED_VERSION must look like 1.6.1");
		goto err;
	}
	strcpy(l->version, v ? v : default_version);
	l->flow_logs = c.flow_logs || env_flag(getenv_fn, "FIREZONE_FLOW_LOGS");

	rc = load_name(l, c.slot[SLOT_NAME], getenv_fn, err, errlen);
	if (!rc)
		rc = load_id(l, c.slot[SLOT_ID], getenv_fn, err, errlen);
	if (rc)
		goto err;
	fg_login_external_id(l->id, l->external_id);
	/* Last, so that no other failure leaves it behind. */
	rc = load_token(l, c.token, getenv_fn, err, errlen);
	if (rc)
		goto err;
	return 0;
err:
	if (c.token)
		sodium_memzero(c.token, strlen(c.token));
	fg_login_free(l);
	return rc;
}

void fg_login_free(struct fg_login *l)
{
	if (!l)
		return;
	sodium_free(l->token);   /* wipes it */
	sodium_memzero(l, sizeof(*l));
}

int fg_login_url(const struct fg_login *l, const uint8_t public_key[FG_KEY_LEN], char *host,
		 size_t hostlen, uint16_t *port, bool *tls, char *path, size_t pathlen)
{
	char b64[FG_KEY_B64_LEN], enc_id[3 * FG_LOGIN_EXTERNAL_ID_LEN], enc_name[3 * FG_LOGIN_NAME_LEN];
	char enc_key[3 * FG_KEY_B64_LEN];
	const char *a, *end, *base;
	unsigned long pnum = 0;
	size_t hl;

	*tls = !strncmp(l->api_url, "wss://", 6);
	if (!*tls && strncmp(l->api_url, "ws://", 5))
		return -EINVAL;
	a = l->api_url + (*tls ? 6 : 5);
	base = a + strcspn(a, "/");
	if (*a == '[') {
		end = memchr(a, ']', (size_t)(base - a));
		if (!end)
			return -EINVAL;
		hl = (size_t)(end - a - 1);
		a++;
		end++;
	} else {
		end = a + strcspn(a, ":/");
		hl = (size_t)(end - a);
	}
	if (!hl || hl >= hostlen)
		return hl ? -ENOSPC : -EINVAL;
	memcpy(host, a, hl);
	host[hl] = '\0';
	if (*end == ':')
		pnum = strtoul(end + 1, NULL, 10);
	*port = (uint16_t)(pnum ? pnum : *tls ? 443 : 80);

	fg_key_to_base64(b64, public_key);
	if (fg_login_form_encode(l->external_id, enc_id, sizeof(enc_id)) ||
	    fg_login_form_encode(l->name, enc_name, sizeof(enc_name)) ||
	    fg_login_form_encode(b64, enc_key, sizeof(enc_key)))
		return -ENOSPC;
	if ((size_t)snprintf(path, pathlen, "%s/gateway/v2/websocket?external_id=%s&name=%s&public_key=%s",
			     base, enc_id, enc_name, enc_key) >= pathlen)
		return -ENOSPC;
	return 0;
}

int fg_login_auth_header(const struct fg_login *l, char *out, size_t len)
{
	if (!l->token)
		return -EINVAL;
	if ((size_t)snprintf(out, len, "Bearer %s", l->token) >= len) {
		sodium_memzero(out, len);
		return -ENOSPC;
	}
	return 0;
}

/* Copies an os-release value (KEY=value, optionally quoted) keeping only [A-Za-z0-9._-]. */
static void os_release_value(const char *text, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key), o = 0;
	const char *line = text;

	out[0] = '\0';
	while (line && *line) {
		if (!strncmp(line, key, kl) && line[kl] == '=') {
			for (const char *p = line + kl + 1; *p && *p != '\n' && o + 1 < outlen; p++)
				if (alnum((unsigned char)*p) || *p == '.' || *p == '_' || *p == '-')
					out[o++] = *p;
			out[o] = '\0';
			return;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
}

/* Printable ASCII without the characters that structure the User-Agent. */
static void ua_clean(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *in && o + 1 < outlen; in++)
		if (*in > 0x20 && *in < 0x7f && *in != '(' && *in != ')' && *in != ';' && *in != '/')
			out[o++] = *in;
	out[o] = '\0';
}

int fg_login_user_agent_from(char *out, size_t len, const char *semver, const char *os_release,
			     const struct utsname *u)
{
	char os[64] = "", ver[64] = "", arch[65], kernel[65];

	if (!semver)
		semver = default_version;
	if (!semver_ok(semver))
		return -EINVAL;
	if (os_release) {
		os_release_value(os_release, "ID", os, sizeof(os));
		os_release_value(os_release, "VERSION_ID", ver, sizeof(ver));
	}
	if (!os[0])
		strcpy(os, "Linux");
	os[0] = (char)toupper((unsigned char)os[0]);
	if (!ver[0])
		strcpy(ver, "unknown");
	ua_clean(u->machine, arch, sizeof(arch));
	ua_clean(u->release, kernel, sizeof(kernel));
	if ((size_t)snprintf(out, len, "%s/%s gateway/%s (%s; %s)", os, ver, semver,
			     arch[0] ? arch : "unknown", kernel[0] ? kernel : "unknown") >= len)
		return -ENOSPC;
	return 0;
}

int fg_login_user_agent(char *out, size_t len, const char *semver)
{
	struct utsname u;
	char *text = NULL;
	size_t n;
	int rc;

	if (uname(&u))
		memset(&u, 0, sizeof(u));
	if (read_file("/etc/os-release", 16384, NULL, &text, &n) &&
	    read_file("/usr/lib/os-release", 16384, NULL, &text, &n))
		text = NULL;
	rc = fg_login_user_agent_from(out, len, semver, text, &u);
	free(text);
	return rc;
}
