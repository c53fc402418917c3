/* SPDX-License-Identifier: MIT */
/*
 * The control plane's login settings, gathered at start-up the way the Rust gateway does
 * (reference §1.1, §2.1): the token (positional argument, FIREZONE_TOKEN or a file it
 * names, or the systemd credential), the gateway id (FIREZONE_ID, else the id file, else
 * one derived from /etc/machine-id, else a new id written to the id file), the name, the
 * portal URL with its http/ws and https/wss mapping, HEALTH_CHECK_ADDR and
 * FIREZONE_MAX_PARTITION_TIME; then what the v2 socket needs from them: the URL path and
 * query, the X-Authorization header and the User-Agent. The environment comes through an
 * injected getenv so tests control it. The token is a secret: never logged, wiped when
 * freed. A struct fg_login is filled once by the main thread and read-only afterwards.
 */
#ifndef FG_LOGIN_H
#define FG_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/utsname.h>

#include "keys.h"

enum fg_login_limits {
	FG_LOGIN_ID_LEN = 128,         /* FIREZONE_ID, with the NUL */
	FG_LOGIN_EXTERNAL_ID_LEN = 128, /* the id verbatim, or 64 hex digits */
	FG_LOGIN_NAME_LEN = 256,
	FG_LOGIN_URL_LEN = 512,
	FG_LOGIN_ADDR_LEN = 64,
	FG_LOGIN_VERSION_LEN = 32,
	FG_LOGIN_TOKEN_MAX = 8192,     /* bytes of a token, after trimming */
	FG_LOGIN_FILE_MAX = 65536,     /* bytes read from a token or id file */
	FG_LOGIN_UA_LEN = 512,
	FG_LOGIN_ERR_LEN = 512,        /* a comfortable size for err buffers */
};

enum fg_login_id_source {
	FG_LOGIN_ID_GIVEN = 1,         /* FIREZONE_ID or -i */
	FG_LOGIN_ID_FILE,              /* read from the id file */
	FG_LOGIN_ID_MACHINE,           /* HMAC-SHA256 of /etc/machine-id, as the Rust gateway */
	FG_LOGIN_ID_CREATED,           /* hex SHA-256 of a new UUID v4, written to the id file */
};

struct fg_login {
	char *token;                   /* secret, from sodium_malloc(); printable ASCII, every
					* whitespace byte removed */
	char id[FG_LOGIN_ID_LEN];
	enum fg_login_id_source id_source;
	char external_id[FG_LOGIN_EXTERNAL_ID_LEN];
	char name[FG_LOGIN_NAME_LEN];
	char api_url[FG_LOGIN_URL_LEN]; /* "ws[s]://host[:port][/path]", no trailing slash */
	char health_addr[FG_LOGIN_ADDR_LEN]; /* "ip:port" */
	uint64_t max_partition_ns;
	char version[FG_LOGIN_VERSION_LEN]; /* reported as gateway/<version> */
	bool flow_logs;                /* --flow-logs, FIREZONE_FLOW_LOGS: flow lines on the log */
};

/*
 * Fills l. Sources, first found wins:
 *   token    argv positional (wiped from argv), FIREZONE_TOKEN (a path to a regular file
 *            is read, as docker-init-gateway.sh does), $CREDENTIALS_DIRECTORY/FIREZONE_TOKEN;
 *            all whitespace is removed (as the Rust gateway); a token file that group or others may
 *            access, or that a user other than root or ours owns, gets a warning
 *   id       -i/--firezone-id, FIREZONE_ID, the id file (FASTGATE_ID_FILE, default
 *            /var/lib/firezone/gateway_id, JSON {"id":"..."} as Rust writes it),
 *            HMAC-SHA256 of the machine id (FASTGATE_MACHINE_ID_FILE, default
 *            /etc/machine-id), else a new id written to the id file (mode 0600)
 *   name     -n/--firezone-name, FIREZONE_NAME, the host name, a random UUID
 *   api_url  -u/--api-url, FIREZONE_API_URL, wss://api.firezone.dev
 *   health   --health-check-addr, HEALTH_CHECK_ADDR, 0.0.0.0:8080
 *   max partition time  -m/--max-partition-time, FIREZONE_MAX_PARTITION_TIME, 24h
 *   version  FASTGATE_REPORTED_VERSION, "1.6.1" (inside the clients' compatibility window)
 *   flow logs --flow-logs, FIREZONE_FLOW_LOGS (clap's flag: unset, empty, 0, false, no, off,
 *            n, f are false): flow_logs lines on the log, as the Rust gateway's flag
 * argv[0] is skipped. Options take "--opt value" or "--opt=value"; the Rust gateway's
 * other options are accepted and ignored (--log-format, --metrics, --otlp-grpc-endpoint
 * with a value; --no-check, --no-telemetry, --no-inc-buf,
 * --validate-checksums); "--" ends options. Anything else is an error: the caller removes
 * its own options first. getenv_fn NULL means getenv(3). Returns 0, or -errno with a
 * message in err that never contains the token; l then holds nothing to free.
 */
int fg_login_load(struct fg_login *l, int argc, char **argv,
		  const char *(*getenv_fn)(const char *name), char *err, size_t errlen);
/* Wipes the token and everything else. NULL-safe, idempotent. */
void fg_login_free(struct fg_login *l);

/* uuid-crate syntax: 32 hex digits, 8-4-4-4-12 with hyphens, in braces, or urn:uuid:. */
bool fg_login_is_uuid(const char *s);
/* The hex SHA-256 of id when it is a UUID, else id verbatim (truncated to fit). */
void fg_login_external_id(const char *id, char out[FG_LOGIN_EXTERNAL_ID_LEN]);
/* Validates and normalises a portal URL (see struct fg_login.api_url). 0 or -EINVAL. */
int fg_login_normalize_url(const char *in, char *out, size_t outlen, char *err, size_t errlen);
/* application/x-www-form-urlencoded, as the url crate writes query pairs: ALPHA DIGIT
 * * - . _ stay, space becomes +, every other byte %XX. 0 or -ENOSPC. */
int fg_login_form_encode(const char *in, char *out, size_t outlen);

/*
 * What to connect to for the v2 socket: host (an IPv6 literal without brackets), port (the
 * explicit one, else 443 for wss and 80 for ws), tls, and path =
 * "<base path>/gateway/v2/websocket?external_id=..&name=..&public_key=.." with the
 * standard base64 of public_key. 0, -EINVAL or -ENOSPC.
 */
int fg_login_url(const struct fg_login *l, const uint8_t public_key[FG_KEY_LEN], char *host,
		 size_t hostlen, uint16_t *port, bool *tls, char *path, size_t pathlen);
/* The X-Authorization value "Bearer <token>" (a secret: wipe out after use). 0, -EINVAL
 * (no token) or -ENOSPC (out too small; out is wiped, never left holding a cut token). */
int fg_login_auth_header(const struct fg_login *l, char *out, size_t len);
/*
 * "<OS>/<version> gateway/<semver> (<arch>; <kernel>)" from /etc/os-release and uname(2),
 * e.g. "Debian/12 gateway/1.6.1 (x86_64; 6.1.0-18-amd64)"; printable ASCII only. semver
 * NULL means "1.6.1"; it must be N.N.N with an optional -suffix. 0, -EINVAL or -ENOSPC.
 */
int fg_login_user_agent(char *out, size_t len, const char *semver);
/* The same from given os-release text (NULL: unknown OS) and uname data. */
int fg_login_user_agent_from(char *out, size_t len, const char *semver, const char *os_release,
			     const struct utsname *u);

#endif
