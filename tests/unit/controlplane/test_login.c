// SPDX-License-Identifier: MIT
/*
 * CUnit suite for controlplane/portal/login.c with an injected environment: the token from each
 * source and their precedence, the id file created once (mode 0600) and reused, ids
 * derived from a machine id, external ids and the machine-id HMAC checked against vectors
 * computed with Python's hashlib/hmac, URL normalisation (good and hostile URLs), the v2
 * path and query with form encoding, the command line, and the User-Agent. Files live in
 * a private directory under $TMPDIR (or /tmp) that the suite removes. Single-threaded.
 */
#include "login.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cunit_run.h"
#include "../smaps_dd.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char uuid[] = "2b1524e6-239e-4570-bc73-70a188e12101";
static const char uuid_sha[] = "554a1a93c4ac476558b429cb1b8e7bedb7d8bcda15adffe60999e1fffe3191b5";
static const char pub_b64[] = "fiAjSBWDgQfD1CFJkTwOf4zg+1QhH0eTT+oLaVIMpH8=";

static char dir[256];

/* The environment the code under test sees: NULL-terminated name/value pairs. */
static const char *const *env_tab;

static const char *fake_getenv(const char *name)
{
	for (const char *const *e = env_tab; e && e[0]; e += 2)
		if (!strcmp(e[0], name))
			return e[1];
	return NULL;
}

static const char *path_in(const char *name)
{
	static char bufs[8][512];
	static unsigned next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(data, 1, len, f), len);
	fclose(f);
}

static int load(struct fg_login *l, const char *const *envp, int argc, char **argv, char *err)
{
	static char *no_args[] = { "fastgate-controlplane", NULL };

	env_tab = envp;
	if (!argv) {
		argc = 1;
		argv = no_args;
	}
	return fg_login_load(l, argc, argv, fake_getenv, err, FG_LOGIN_ERR_LEN);
}

static void test_token_sources(void)
{
	struct fg_login l;
	char err[FG_LOGIN_ERR_LEN];
	const char *tok_file = path_in("token"), *cred_dir = path_in("creds");
	char cred_file[512];

	write_file(tok_file, "filetoken\n", 10);
	mkdir(cred_dir, 0700);
	snprintf(cred_file, sizeof(cred_file), "%s/FIREZONE_TOKEN", cred_dir);
	write_file(cred_file, "  credtoken\n\n", 13);

	const char *const from_env[] = { "FIREZONE_ID", "gw1", "FIREZONE_TOKEN", "  tok123 \n",
					 "CREDENTIALS_DIRECTORY", cred_dir, NULL };

	CU_ASSERT_EQUAL_FATAL(load(&l, from_env, 0, NULL, err), 0);
	CU_ASSERT_STRING_EQUAL(l.token, "tok123");
	/* sodium_malloc()'d: out of core dumps, whatever FASTGATE_CORE_DUMPS says */
	CU_ASSERT_TRUE(fg_test_smaps_dontdump(l.token, strlen(l.token) + 1));
	fg_login_free(&l);
	CU_ASSERT_PTR_NULL(l.token);
	fg_login_free(&l);
	fg_login_free(NULL);

	const char *const from_path[] = { "FIREZONE_ID", "gw1", "FIREZONE_TOKEN", tok_file, NULL };

	CU_ASSERT_EQUAL_FATAL(load(&l, from_path, 0, NULL, err), 0);
	CU_ASSERT_STRING_EQUAL(l.token, "filetoken");
	fg_login_free(&l);

	const char *const from_creds[] = { "FIREZONE_ID", "gw1", "FIREZONE_TOKEN", "",
					   "CREDENTIALS_DIRECTORY", cred_dir, NULL };

	CU_ASSERT_EQUAL_FATAL(load(&l, from_creds, 0, NULL, err), 0);
	CU_ASSERT_STRING_EQUAL(l.token, "credtoken");
	fg_login_free(&l);

	/* The positional argument wins, and leaves argv. */
	char arg[] = "argtoken";
	char *argv[] = { "fastgate-controlplane", arg, NULL };

	CU_ASSERT_EQUAL_FATAL(load(&l, from_env, 2, argv, err), 0);
	CU_ASSERT_STRING_EQUAL(l.token, "argtoken");
	for (size_t i = 0; i < sizeof(arg) - 1; i++)
		CU_ASSERT_EQUAL(arg[i], '\0');
	fg_login_free(&l);

	/* Nothing anywhere. */
	const char *const none[] = { "FIREZONE_ID", "gw1", NULL };

	CU_ASSERT_EQUAL(load(&l, none, 0, NULL, err), -ENOKEY);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "FIREZONE_TOKEN"));
	CU_ASSERT_PTR_NULL(l.token);

	const char *const no_cred_file[] = { "FIREZONE_ID", "gw1", "CREDENTIALS_DIRECTORY", dir, NULL };

	CU_ASSERT_EQUAL(load(&l, no_cred_file, 0, NULL, err), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "FIREZONE_TOKEN"));

	/* Whitespace anywhere is removed, as the Rust gateway does (lib.rs:1139-1144). */
	static const struct { const char *in, *token; } spaced[] = {
		{ "secret with-space", "secretwith-space" },
		{ " a b\tc\n", "abc" },
		{ "ab\r\ncd\r\n", "abcd" },
		{ "x\vy\fz", "xyz" },
	};

	for (size_t i = 0; i < ARRAY_LEN(spaced); i++) {
		const char *const e[] = { "FIREZONE_ID", "gw1", "FIREZONE_TOKEN", spaced[i].in, NULL };

		CU_ASSERT_EQUAL(load(&l, e, 0, NULL, err), 0);
		CU_ASSERT_STRING_EQUAL(l.token, spaced[i].token);
		fg_login_free(&l);
	}
	/* Bad tokens: refused without being quoted. */
	static const char *const bad[] = { "   ", " \t\r\n ", "secret\x01x", "secret\x7f", "secret\xc3\xa9" };

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		const char *const e[] = { "FIREZONE_ID", "gw1", "FIREZONE_TOKEN", bad[i], NULL };

		CU_ASSERT_EQUAL(load(&l, e, 0, NULL, err), -EINVAL);
		CU_ASSERT_PTR_NULL(strstr(err, "secret"));
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "FIREZONE_TOKEN"));
	}
	char *huge = malloc(FG_LOGIN_TOKEN_MAX + 2);

	memset(huge, 'a', FG_LOGIN_TOKEN_MAX + 1);
	huge[FG_LOGIN_TOKEN_MAX + 1] = '\0';
	const char *const e_huge[] = { "FIREZONE_ID", "gw1", "FIREZONE_TOKEN", huge, NULL };

	CU_ASSERT_EQUAL(load(&l, e_huge, 0, NULL, err), -EINVAL);
	huge[FG_LOGIN_TOKEN_MAX] = '\0';
	CU_ASSERT_EQUAL(load(&l, e_huge, 0, NULL, err), 0);
	fg_login_free(&l);
	free(huge);

	/* Token files: a NUL inside, too large, a directory. */
	write_file(tok_file, "tok\0en", 6);
	CU_ASSERT_EQUAL(load(&l, from_path, 0, NULL, err), -EINVAL);
	char *big = calloc(1, FG_LOGIN_FILE_MAX + 1);

	memset(big, 'b', FG_LOGIN_FILE_MAX + 1);
	write_file(tok_file, big, FG_LOGIN_FILE_MAX + 1);
	CU_ASSERT_EQUAL(load(&l, from_path, 0, NULL, err), -EFBIG);
	free(big);
	const char *const dir_path[] = { "FIREZONE_ID", "gw1", "FIREZONE_TOKEN", dir, NULL };

	/* Not a regular file: the value itself is the token (it has a '/': accepted as text). */
	CU_ASSERT_EQUAL(load(&l, dir_path, 0, NULL, err), 0);
	CU_ASSERT_STRING_EQUAL(l.token, dir);
	fg_login_free(&l);
}

static void test_id_file(void)
{
	struct fg_login l;
	char err[FG_LOGIN_ERR_LEN], first[FG_LOGIN_ID_LEN], *text = NULL;
	const char *id_file = path_in("var/lib/firezone/gateway_id");
	const char *missing_machine = path_in("no-machine-id");
	struct stat st;
	const char *const e[] = { "FIREZONE_TOKEN", "t", "FASTGATE_ID_FILE", id_file,
				  "FASTGATE_MACHINE_ID_FILE", missing_machine, NULL };

	/* Created once, in a directory that did not exist, mode 0600, as {"id":"<hex>"}. */
	CU_ASSERT_EQUAL_FATAL(load(&l, e, 0, NULL, err), 0);
	CU_ASSERT_EQUAL(l.id_source, FG_LOGIN_ID_CREATED);
	CU_ASSERT_EQUAL(strlen(l.id), 64);
	CU_ASSERT_EQUAL(strspn(l.id, "0123456789abcdef"), 64);
	CU_ASSERT_STRING_EQUAL(l.external_id, l.id);  /* not a UUID: verbatim */
	strcpy(first, l.id);
	fg_login_free(&l);
	CU_ASSERT_EQUAL_FATAL(stat(id_file, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	FILE *f = fopen(id_file, "r");
	char buf[128] = "", want[128];

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT(fread(buf, 1, sizeof(buf) - 1, f) > 0);
	fclose(f);
	snprintf(want, sizeof(want), "{\"id\":\"%s\"}\n", first);
	CU_ASSERT_STRING_EQUAL(buf, want);

	/* Reused. */
	CU_ASSERT_EQUAL_FATAL(load(&l, e, 0, NULL, err), 0);
	CU_ASSERT_EQUAL(l.id_source, FG_LOGIN_ID_FILE);
	CU_ASSERT_STRING_EQUAL(l.id, first);
	fg_login_free(&l);

	/* A Rust-written file with a UUID, and a bare id. */
	snprintf(buf, sizeof(buf), "{\"id\": \"%s\", \"extra\": 1}", uuid);
	write_file(id_file, buf, strlen(buf));
	CU_ASSERT_EQUAL_FATAL(load(&l, e, 0, NULL, err), 0);
	CU_ASSERT_STRING_EQUAL(l.id, uuid);
	CU_ASSERT_STRING_EQUAL(l.external_id, uuid_sha);
	fg_login_free(&l);
	write_file(id_file, "  my-gateway-7\n", 15);
	CU_ASSERT_EQUAL_FATAL(load(&l, e, 0, NULL, err), 0);
	CU_ASSERT_STRING_EQUAL(l.id, "my-gateway-7");
	fg_login_free(&l);

	/* An unusable file and no machine id: the file is never overwritten. */
	write_file(id_file, "{\"id\":17}", 9);
	CU_ASSERT_EQUAL(load(&l, e, 0, NULL, err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "holds no id"));
	write_file(id_file, "two words", 9);
	CU_ASSERT_EQUAL(load(&l, e, 0, NULL, err), -EINVAL);

	/* ...but a machine id is used, as the Rust gateway does (HMAC vector from Python). */
	const char *machine = path_in("machine-id");
	const char *const em[] = { "FIREZONE_TOKEN", "t", "FASTGATE_ID_FILE", id_file,
				   "FASTGATE_MACHINE_ID_FILE", machine, NULL };

	write_file(machine, "0123456789abcdef0123456789abcdef\n", 33);
	CU_ASSERT_EQUAL_FATAL(load(&l, em, 0, NULL, err), 0);
	CU_ASSERT_EQUAL(l.id_source, FG_LOGIN_ID_MACHINE);
	CU_ASSERT_STRING_EQUAL(l.id, "eeefe5d1cb3807dfc3ae24794878ec3147027390d839d1d718d8e42bcfde3336");
	fg_login_free(&l);
	/* An uninitialised machine id is not an identity. */
	unlink(id_file);
	write_file(machine, "uninitialized\n", 14);
	CU_ASSERT_EQUAL_FATAL(load(&l, em, 0, NULL, err), 0);
	CU_ASSERT_EQUAL(l.id_source, FG_LOGIN_ID_CREATED);
	fg_login_free(&l);

	/* FIREZONE_ID wins over everything; -i over FIREZONE_ID. */
	const char *const given[] = { "FIREZONE_TOKEN", "t", "FIREZONE_ID", uuid, "FASTGATE_ID_FILE", id_file, NULL };

	CU_ASSERT_EQUAL_FATAL(load(&l, given, 0, NULL, err), 0);
	CU_ASSERT_EQUAL(l.id_source, FG_LOGIN_ID_GIVEN);
	CU_ASSERT_STRING_EQUAL(l.external_id, uuid_sha);
	fg_login_free(&l);
	char *argv[] = { "x", "-i", "cli-id", NULL };

	CU_ASSERT_EQUAL_FATAL(load(&l, given, 3, argv, err), 0);
	CU_ASSERT_STRING_EQUAL(l.id, "cli-id");
	fg_login_free(&l);
	const char *const bad_id[] = { "FIREZONE_TOKEN", "t", "FIREZONE_ID", "has space", NULL };

	CU_ASSERT_EQUAL(load(&l, bad_id, 0, NULL, err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "FIREZONE_ID"));

	/* An id file where no directory can be made. */
	write_file(path_in("plainfile"), "x", 1);
	const char *const no_dir[] = { "FIREZONE_TOKEN", "t", "FASTGATE_ID_FILE", path_in("plainfile/sub/id"),
				       "FASTGATE_MACHINE_ID_FILE", missing_machine, NULL };

	CU_ASSERT_EQUAL(load(&l, no_dir, 0, NULL, err), -ENOTDIR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "plainfile"));
	free(text);
}

static void test_external_id(void)
{
	static const struct {
		const char *id;
		const char *ext;
	} cases[] = {
		{ "2b1524e6-239e-4570-bc73-70a188e12101", "554a1a93c4ac476558b429cb1b8e7bedb7d8bcda15adffe60999e1fffe3191b5" },
		{ "{2b1524e6-239e-4570-bc73-70a188e12101}", "d885c4283b8cb96be8b98633844dda71c7a8036cd3f10d1e29b95e043c221a25" },
		{ "2b1524e6239e4570bc7370a188e12101", "aae43431fea91387f7339ffeb8a64653d508d57a52ff07523c41da8397d6ab3d" },
		{ "urn:uuid:2b1524e6-239e-4570-bc73-70a188e12101", "89d6c794838fa78249aab4c59a4e91ab4f03376445d2f1bb8ee4e20324148ea8" },
		{ "2B1524E6-239E-4570-BC73-70A188E12101", "efb334cc225e8d2bba328411373b4346016ca63357759e99e55b20d60ea8581e" },
		{ "some-id", "some-id" },
		{ "2b1524e6-239e-4570-bc73-70a188e1210", "2b1524e6-239e-4570-bc73-70a188e1210" },
		{ "2b1524e6-239e-4570-bc73-70a188e121011", "2b1524e6-239e-4570-bc73-70a188e121011" },
		{ "2b1524e6-239e4-570-bc73-70a188e12101", "2b1524e6-239e4-570-bc73-70a188e12101" },
		{ "2b1524e6-239e-4570-bc73-70a188e1210g", "2b1524e6-239e-4570-bc73-70a188e1210g" },
		{ "{2b1524e6-239e-4570-bc73-70a188e12101]", "{2b1524e6-239e-4570-bc73-70a188e12101]" },
		{ "urn:uuid:2b1524e6239e4570bc7370a188e12101", "urn:uuid:2b1524e6239e4570bc7370a188e12101" },
		{ "URN:UUID:2b1524e6-239e-4570-bc73-70a188e12101", "URN:UUID:2b1524e6-239e-4570-bc73-70a188e12101" },
		{ "", "" },
	};
	char out[FG_LOGIN_EXTERNAL_ID_LEN];

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		fg_login_external_id(cases[i].id, out);
		CU_ASSERT_STRING_EQUAL(out, cases[i].ext);
	}
	CU_ASSERT_FALSE(fg_login_is_uuid(NULL));
}

static void test_urls(void)
{
	static const struct {
		const char *in;
		const char *out;   /* NULL: refused */
	} cases[] = {
		{ "wss://api.firezone.dev", "wss://api.firezone.dev" },
		{ "https://api.firezone.dev/", "wss://api.firezone.dev" },
		{ "http://localhost:8081", "ws://localhost:8081" },
		{ "ws://localhost:8081/", "ws://localhost:8081" },
		{ "ws://127.0.0.1:80/", "ws://127.0.0.1" },
		{ "wss://API.Example.COM:443", "wss://api.example.com" },
		{ "wss://host:80", "wss://host:80" },
		{ "HTTPS://portal.example.com:8443/prefix//", "wss://portal.example.com:8443/prefix" },
		{ "http://[::1]:8081", "ws://[::1]:8081" },
		{ "http://[FD00:0::1]", "ws://[fd00::1]" },
		{ "wss://host/path?query=1#frag", "wss://host/path" },
		{ "wss://host?x", "wss://host" },
		{ "http://host:", "ws://host" },
		{ "wss://my_host-1.example:00443", "wss://my_host-1.example" },
		{ "api.firezone.dev", NULL },
		{ "ftp://api.firezone.dev", NULL },
		{ "file:///etc/passwd", NULL },
		{ "wsss://host", NULL },
		{ "ws:/host", NULL },
		{ "://host", NULL },
		{ "wss://", NULL },
		{ "wss:///path", NULL },
		{ "wss://:443", NULL },
		{ "wss://host:0", NULL },
		{ "wss://host:65536", NULL },
		{ "wss://host:99999999999999999999", NULL },
		{ "wss://host:-1", NULL },
		{ "wss://host:8a", NULL },
		{ "wss://ho st", NULL },
		{ " wss://host", NULL },
		{ "wss://host ", NULL },
		{ "wss://host/a b", NULL },
		{ "wss://host\n", NULL },
		{ "wss://h\xc3\xb6st", NULL },
		{ "wss://user:pw@host", NULL },
		{ "wss://[::1", NULL },
		{ "wss://[1.2.3.4]", NULL },
		{ "wss://[::1]x", NULL },
		{ "wss://[::1]:", "wss://[::1]" },
		{ "wss://host:443:443", NULL },
		{ "", NULL },
	};
	char out[FG_LOGIN_URL_LEN], err[FG_LOGIN_ERR_LEN];

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		int rc = fg_login_normalize_url(cases[i].in, out, sizeof(out), err, sizeof(err));

		if (cases[i].out) {
			if (rc)
				fprintf(stderr, "\n%s refused: %s\n", cases[i].in, err);
			CU_ASSERT_EQUAL(rc, 0);
			if (!rc)
				CU_ASSERT_STRING_EQUAL(out, cases[i].out);
		} else {
			if (rc != -EINVAL)
				fprintf(stderr, "\n%s accepted: %s\n", cases[i].in, out);
			CU_ASSERT_EQUAL(rc, -EINVAL);
			CU_ASSERT_NOT_EQUAL(err[0], '\0');
		}
	}
	CU_ASSERT_EQUAL(fg_login_normalize_url("wss://user:pw@host", out, sizeof(out), err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "user information"));
	CU_ASSERT_PTR_NULL(strstr(err, "pw"));
	CU_ASSERT_EQUAL(fg_login_normalize_url("wss://host:0", out, sizeof(out), err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "port out of range"));
	CU_ASSERT_EQUAL(fg_login_normalize_url(NULL, out, sizeof(out), NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(fg_login_normalize_url("wss://api.firezone.dev/long/path", out, 20, NULL, 0), -ENOSPC);

	/* Through fg_login_load: the default, and the env. */
	struct fg_login l;
	const char *const def[] = { "FIREZONE_TOKEN", "t", "FIREZONE_ID", "g", NULL };
	const char *const bad[] = { "FIREZONE_TOKEN", "t", "FIREZONE_ID", "g", "FIREZONE_API_URL", "ftp://x", NULL };

	CU_ASSERT_EQUAL_FATAL(load(&l, def, 0, NULL, err), 0);
	CU_ASSERT_STRING_EQUAL(l.api_url, "wss://api.firezone.dev");
	fg_login_free(&l);
	CU_ASSERT_EQUAL(load(&l, bad, 0, NULL, err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "ftp://x"));
}

static void test_login_url(void)
{
	struct fg_login l;
	char err[FG_LOGIN_ERR_LEN], host[256], path[1024];
	uint8_t key[FG_KEY_LEN];
	uint16_t port;
	bool tls;
	const char *const e[] = { "FIREZONE_TOKEN", "t", "FIREZONE_ID", uuid,
				  "FIREZONE_NAME", "my gw/\xc3\xbc+&=~*-._",
				  "FIREZONE_API_URL", "http://127.0.0.1:8081/", NULL };

	CU_ASSERT_EQUAL_FATAL(fg_key_from_base64(key, pub_b64), 0);
	CU_ASSERT_EQUAL_FATAL(load(&l, e, 0, NULL, err), 0);
	CU_ASSERT_EQUAL_FATAL(fg_login_url(&l, key, host, sizeof(host), &port, &tls, path, sizeof(path)), 0);
	CU_ASSERT_STRING_EQUAL(host, "127.0.0.1");
	CU_ASSERT_EQUAL(port, 8081);
	CU_ASSERT_FALSE(tls);
	CU_ASSERT_STRING_EQUAL(path, "/gateway/v2/websocket?external_id=554a1a93c4ac476558b429cb1b8e7bedb7d8bcda15adffe60999e1fffe3191b5"
				     "&name=my+gw%2F%C3%BC%2B%26%3D%7E*-._"
				     "&public_key=fiAjSBWDgQfD1CFJkTwOf4zg%2B1QhH0eTT%2BoLaVIMpH8%3D");
	CU_ASSERT_EQUAL(fg_login_url(&l, key, host, 9, &port, &tls, path, sizeof(path)), -ENOSPC);
	CU_ASSERT_EQUAL(fg_login_url(&l, key, host, sizeof(host), &port, &tls, path, 100), -ENOSPC);
	fg_login_free(&l);

	const char *const v6[] = { "FIREZONE_TOKEN", "t", "FIREZONE_ID", "gw-9", "FIREZONE_NAME", "n",
				   "FIREZONE_API_URL", "https://[FD00::1]:8443/portal/", NULL };

	CU_ASSERT_EQUAL_FATAL(load(&l, v6, 0, NULL, err), 0);
	CU_ASSERT_EQUAL_FATAL(fg_login_url(&l, key, host, sizeof(host), &port, &tls, path, sizeof(path)), 0);
	CU_ASSERT_STRING_EQUAL(host, "fd00::1");
	CU_ASSERT_EQUAL(port, 8443);
	CU_ASSERT_TRUE(tls);
	CU_ASSERT_STRING_EQUAL(path, "/portal/gateway/v2/websocket?external_id=gw-9&name=n"
				     "&public_key=fiAjSBWDgQfD1CFJkTwOf4zg%2B1QhH0eTT%2BoLaVIMpH8%3D");
	fg_login_free(&l);

	const char *const def[] = { "FIREZONE_TOKEN", " tok \n", "FIREZONE_ID", "g", NULL };

	CU_ASSERT_EQUAL_FATAL(load(&l, def, 0, NULL, err), 0);
	CU_ASSERT_EQUAL_FATAL(fg_login_url(&l, key, host, sizeof(host), &port, &tls, path, sizeof(path)), 0);
	CU_ASSERT_STRING_EQUAL(host, "api.firezone.dev");
	CU_ASSERT_EQUAL(port, 443);
	CU_ASSERT_TRUE(tls);

	/* The X-Authorization value. */
	char auth[64];

	CU_ASSERT_EQUAL(fg_login_auth_header(&l, auth, sizeof(auth)), 0);
	CU_ASSERT_STRING_EQUAL(auth, "Bearer tok");
	CU_ASSERT_EQUAL(fg_login_auth_header(&l, auth, 10), -ENOSPC);
	fg_login_free(&l);
	CU_ASSERT_EQUAL(fg_login_auth_header(&l, auth, sizeof(auth)), -EINVAL);

	char enc[16];

	CU_ASSERT_EQUAL(fg_login_form_encode("abc", enc, 4), 0);
	CU_ASSERT_EQUAL(fg_login_form_encode("abc", enc, 3), -ENOSPC);
	CU_ASSERT_EQUAL(fg_login_form_encode("a/", enc, 4), -ENOSPC);
	CU_ASSERT_EQUAL(fg_login_form_encode("", enc, 1), 0);
}

static void test_cli_and_settings(void)
{
	struct fg_login l;
	char err[FG_LOGIN_ERR_LEN];
	const char *const e[] = { "FIREZONE_ID", "env-id", "FIREZONE_TOKEN", "envtok", "FIREZONE_NAME", "env-name",
				  "FIREZONE_API_URL", "wss://env.example", "HEALTH_CHECK_ADDR", "[::]:9090",
				  "FIREZONE_MAX_PARTITION_TIME", "30d", "FASTGATE_REPORTED_VERSION", "1.7.0-rc.1", NULL };

	CU_ASSERT_EQUAL_FATAL(load(&l, e, 0, NULL, err), 0);
	CU_ASSERT_STRING_EQUAL(l.name, "env-name");
	CU_ASSERT_STRING_EQUAL(l.api_url, "wss://env.example");
	CU_ASSERT_STRING_EQUAL(l.health_addr, "[::]:9090");
	CU_ASSERT_EQUAL(l.max_partition_ns, 30ull * 86400 * 1000000000);
	CU_ASSERT_STRING_EQUAL(l.version, "1.7.0-rc.1");
	fg_login_free(&l);

	char tok[] = "clitok";
	char *argv[] = { "prog", "-u", "http://cli.example", "--firezone-name=cli name", "-icli-id",
			 "-m", "90m", "--health-check-addr", "127.0.0.1:9000", "--no-check", "--log-format",
			 "json", "--flow-logs", tok, NULL };

	CU_ASSERT_EQUAL_FATAL(load(&l, e, (int)ARRAY_LEN(argv) - 1, argv, err), 0);
	CU_ASSERT_STRING_EQUAL(l.api_url, "ws://cli.example");
	CU_ASSERT_STRING_EQUAL(l.name, "cli name");
	CU_ASSERT_STRING_EQUAL(l.id, "cli-id");
	CU_ASSERT_EQUAL(l.max_partition_ns, 90ull * 60 * 1000000000);
	CU_ASSERT_STRING_EQUAL(l.health_addr, "127.0.0.1:9000");
	CU_ASSERT_STRING_EQUAL(l.token, "clitok");
	CU_ASSERT_TRUE(l.flow_logs);   /* --flow-logs */
	fg_login_free(&l);

	/* FIREZONE_FLOW_LOGS, read as clap reads a flag's value. */
	static const struct {
		const char *v;
		bool on;
	} fl[] = { { "1", true }, { "true", true }, { "yes", true }, { "0", false }, { "FALSE", false },
		   { "off", false }, { "n", false }, { "", false } };

	for (size_t i = 0; i < ARRAY_LEN(fl); i++) {
		const char *const ef[] = { "FIREZONE_ID", "g", "FIREZONE_TOKEN", "t", "FIREZONE_FLOW_LOGS", fl[i].v, NULL };

		CU_ASSERT_EQUAL_FATAL(load(&l, ef, 0, NULL, err), 0);
		CU_ASSERT_EQUAL(l.flow_logs, fl[i].on);
		fg_login_free(&l);
	}

	/* Defaults. */
	char host[256] = "";
	const char *const d[] = { "FIREZONE_ID", "g", "FIREZONE_TOKEN", "t", NULL };

	CU_ASSERT_EQUAL_FATAL(load(&l, d, 0, NULL, err), 0);
	CU_ASSERT_STRING_EQUAL(l.health_addr, "0.0.0.0:8080");
	CU_ASSERT_EQUAL(l.max_partition_ns, 24ull * 3600 * 1000000000);
	CU_ASSERT_STRING_EQUAL(l.version, "1.6.1");
	CU_ASSERT_FALSE(l.flow_logs);
	gethostname(host, sizeof(host) - 1);
	CU_ASSERT_STRING_EQUAL(l.name, host);
	fg_login_free(&l);

	/* Command lines that are refused. */
	static const struct {
		const char *args[4];
		const char *reason;
	} bad_cli[] = {
		{ { "--frobnicate" }, "unknown option" },
		{ { "--token=secret" }, "unknown option --token" },
		{ { "-x" }, "unknown option" },
		{ { "-u" }, "needs a value" },
		{ { "--api-url" }, "needs a value" },
		{ { "--no-check=1" }, "takes no value" },
		{ { "a", "b" }, "more than one positional" },
		{ { "--", "a", "-b" }, "more than one positional" },
		{ { "-m", "soon" }, "FIREZONE_MAX_PARTITION_TIME" },
		{ { "--health-check-addr", "localhost:80" }, "HEALTH_CHECK_ADDR" },
		{ { "-u", "ftp://x" }, "only http" },
	};

	for (size_t i = 0; i < ARRAY_LEN(bad_cli); i++) {
		char *av[6] = { "prog" };
		int ac = 1;

		for (int k = 0; k < 4 && bad_cli[i].args[k]; k++)
			av[ac++] = (char *)bad_cli[i].args[k];
		memset(err, 0, sizeof(err));
		CU_ASSERT_EQUAL(load(&l, d, ac, av, err), -EINVAL);
		if (!strstr(err, bad_cli[i].reason))
			fprintf(stderr, "\n%s: \"%s\"\n", bad_cli[i].args[0], err);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, bad_cli[i].reason));
		CU_ASSERT_PTR_NULL(l.token);
		CU_ASSERT_PTR_NULL(strstr(err, "secret"));
	}
	/* "--" makes the rest positional. */
	char dash_tok[] = "-tok";
	char *av2[] = { "prog", "--", dash_tok, NULL };

	CU_ASSERT_EQUAL_FATAL(load(&l, d, 3, av2, err), 0);
	CU_ASSERT_STRING_EQUAL(l.token, "-tok");
	fg_login_free(&l);

	/* Bad environment values. */
	static const char *const bad_env[][2] = {
		{ "FIREZONE_MAX_PARTITION_TIME", "30 days" },
		{ "FIREZONE_MAX_PARTITION_TIME", "-1h" },
		{ "HEALTH_CHECK_ADDR", "0.0.0.0" },
		{ "HEALTH_CHECK_ADDR", "0.0.0.0:8080:1" },
		{ "FASTGATE_REPORTED_VERSION", "1.6" },
		{ "FASTGATE_REPORTED_VERSION", "v1.6.1" },
		{ "FASTGATE_REPORTED_VERSION", "1.6.1-" },
		{ "FASTGATE_REPORTED_VERSION", "1.6.1 (x)" },
		{ "FIREZONE_NAME", "a\nb" },
		{ "FIREZONE_API_URL", "wss://" },
	};

	for (size_t i = 0; i < ARRAY_LEN(bad_env); i++) {
		const char *const be[] = { "FIREZONE_ID", "g", "FIREZONE_TOKEN", "t", bad_env[i][0], bad_env[i][1], NULL };

		CU_ASSERT_EQUAL(load(&l, be, 0, NULL, err), -EINVAL);
	}
	char long_name[FG_LOGIN_NAME_LEN + 1];

	memset(long_name, 'n', FG_LOGIN_NAME_LEN);
	long_name[FG_LOGIN_NAME_LEN] = '\0';
	const char *const ln[] = { "FIREZONE_ID", "g", "FIREZONE_TOKEN", "t", "FIREZONE_NAME", long_name, NULL };

	CU_ASSERT_EQUAL(load(&l, ln, 0, NULL, err), -EINVAL);
	long_name[FG_LOGIN_NAME_LEN - 1] = '\0';
	CU_ASSERT_EQUAL(load(&l, ln, 0, NULL, err), 0);
	fg_login_free(&l);
}

static void test_user_agent(void)
{
	struct utsname u;
	char ua[FG_LOGIN_UA_LEN];
	static const char debian[] =
		"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n"
		"VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nID=debian\n";

	memset(&u, 0, sizeof(u));
	strcpy(u.machine, "x86_64");
	strcpy(u.release, "6.1.0-18-amd64");
	CU_ASSERT_EQUAL(fg_login_user_agent_from(ua, sizeof(ua), NULL, debian, &u), 0);
	CU_ASSERT_STRING_EQUAL(ua, "Debian/12 gateway/1.6.1 (x86_64; 6.1.0-18-amd64)");
	CU_ASSERT_EQUAL(fg_login_user_agent_from(ua, sizeof(ua), "1.7.2", "ID='ubuntu'\nVERSION_ID='24.04'\n", &u), 0);
	CU_ASSERT_STRING_EQUAL(ua, "Ubuntu/24.04 gateway/1.7.2 (x86_64; 6.1.0-18-amd64)");
	CU_ASSERT_EQUAL(fg_login_user_agent_from(ua, sizeof(ua), NULL, NULL, &u), 0);
	CU_ASSERT_STRING_EQUAL(ua, "Linux/unknown gateway/1.6.1 (x86_64; 6.1.0-18-amd64)");
	/* Hostile os-release and uname text cannot break the header. */
	strcpy(u.release, "6.1;\r\n(x)/\xc3\xa9");
	CU_ASSERT_EQUAL(fg_login_user_agent_from(ua, sizeof(ua), NULL, "ID=\"de bian\\r\\n;(\"\nVERSION_ID=1/2\n", &u), 0);
	CU_ASSERT_STRING_EQUAL(ua, "Debianrn/12 gateway/1.6.1 (x86_64; 6.1x)");
	u.machine[0] = '\0';
	CU_ASSERT_EQUAL(fg_login_user_agent_from(ua, sizeof(ua), NULL, NULL, &u), 0);
	CU_ASSERT_STRING_EQUAL(ua, "Linux/unknown gateway/1.6.1 (unknown; 6.1x)");
	CU_ASSERT_EQUAL(fg_login_user_agent_from(ua, sizeof(ua), "1.6", NULL, &u), -EINVAL);
	CU_ASSERT_EQUAL(fg_login_user_agent_from(ua, 10, NULL, NULL, &u), -ENOSPC);

	/* The real one. */
	char want[128];

	CU_ASSERT_EQUAL_FATAL(uname(&u), 0);
	CU_ASSERT_EQUAL_FATAL(fg_login_user_agent(ua, sizeof(ua), NULL), 0);
	snprintf(want, sizeof(want), " gateway/1.6.1 (%s; ", u.machine);
	CU_ASSERT_PTR_NOT_NULL(strstr(ua, want));
	CU_ASSERT_PTR_NOT_NULL(strchr(ua, '/'));
	for (const char *p = ua; *p; p++)
		CU_ASSERT(*p >= 0x20 && *p < 0x7f);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/fg_login_XXXXXX", tmp && *tmp ? tmp : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void)
{
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "token sources", test_token_sources },
		{ "id file", test_id_file },
		{ "external id", test_external_id },
		{ "urls", test_urls },
		{ "login url", test_login_url },
		{ "cli and settings", test_cli_and_settings },
		{ "user agent", test_user_agent },
	};
	static const struct fg_cunit_suite suite = {
		"login", setup, teardown, tests, ARRAY_LEN(tests),
	};

	return fg_cunit_run_suites(&suite, 1);
}
