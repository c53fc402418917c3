// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: fastgatectl's reading and rendering of the control plane's response
 * (controlplane/ctl/ctl_client.c fg_ctl_client_parse, controlplane/ctl/render*.c fg_render).
 * The first input byte picks the command (status, peers, resources, relays, stats, ice,
 * flows, nat, or one fg_render does not know) and the clock the relative times are
 * computed against (now, the epoch, 2100, before the epoch); the rest is the response line.
 * The line is checked as fastgatectl checks it; whatever JSON object comes out (an error
 * object too) is rendered into memory twice. The response comes from another process, so
 * nothing in it may reach the terminal as a control sequence: the output and the error
 * message must be well-formed UTF-8 without C0 or C1 control characters or DEL, newline
 * (and tab) aside. The two renderings must be identical; fg_render answers 0, -EPROTO
 * (having written nothing, and exactly when the response lacks the shape
 * fg_render_list_key() names), -EINVAL for the unknown command (nothing written), or
 * -ENOMEM. Any broken invariant aborts. No state between inputs.
 *
 * Found: the error message let C1 controls (U+009B, CSI) and invalid UTF-8 through to the
 * terminal (tests/fuzz/corpus/render/crash-c1-control-in-error); a NAT tuple whose port was
 * missing or not a number printed a buffer never written, so two renderings differed
 * (crash-nat-port-unwritten).
 *
 *   scripts/fuzz.sh 60 render     (clang, ASan + UBSan, 60 s)
 * Seeds: tests/fuzz/corpus/render/ (tests/fuzz/corpus/gen_cp_seeds.py).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "ctl_client.h"
#include "render.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const cmds[] = {
	"status", "peers", "resources", "relays", "stats", "ice", "flows", "nat", "routes",
};

static const time_t clocks[] = { 1767225600, 0, 4102444800, -86400 };

/*
 * Safe for a terminal: well-formed UTF-8 (no overlongs, surrogates or code points past
 * U+10FFFF) without C0 controls but newline and tab, DEL or C1 controls (U+0080-U+009F).
 */
static void terminal_safe(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t k = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
			   c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		uint32_t cp;

		CHECK(k && i + k <= n);
		cp = k == 1 ? c : (uint32_t)(c & (0x7f >> k));
		for (size_t j = 1; j < k; j++) {
			CHECK((p[i + j] & 0xc0) == 0x80);
			cp = cp << 6 | (p[i + j] & 0x3f);
		}
		CHECK(k != 3 || cp >= 0x800);
		CHECK(k != 4 || (cp >= 0x10000 && cp <= 0x10ffff));
		CHECK(cp < 0xd800 || cp > 0xdfff);
		CHECK(cp >= 0x20 || cp == '\n' || cp == '\t');
		CHECK(cp < 0x7f || cp > 0x9f);
		i += k;
	}
}

/* Renders into memory: fg_render's answer, the text in *buf (the caller frees it). */
static int render(const char *cmd, const cJSON *json, time_t now, char **buf, size_t *len)
{
	FILE *f;
	int r;

	*buf = NULL;
	*len = 0;
	f = open_memstream(buf, len);
	CHECK(f);
	r = fg_render(cmd, json, now, f);
	CHECK(fclose(f) == 0);
	return r;
}

/* Whether resp has the top-level shape the command's renderer needs. */
static bool has_shape(const char *cmd, const cJSON *resp)
{
	const char *key = fg_render_list_key(cmd);

	if (!cJSON_IsObject(resp))
		return false;
	return !key || cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(resp, key));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[FG_CPCTL_ERRLEN], *a, *b;
	const char *cmd;
	cJSON *json = NULL;
	size_t na, nb;
	time_t now;
	int r, r2;

	if (size < 1 || size > 1 << 20)
		return 0;
	cmd = cmds[data[0] % N(cmds)];
	now = clocks[(data[0] / N(cmds)) % N(clocks)];
	memset(err, 'x', sizeof(err));
	r = fg_ctl_client_parse((const char *)data + 1, size - 1, &json, err, sizeof(err));
	CHECK(r == 0 || r == -EPROTO || r == -EREMOTEIO);
	CHECK((r == -EPROTO) == !json && (!json || cJSON_IsObject(json)));
	if (r) {
		/* The message goes to stderr: as safe as the output. */
		CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
		terminal_safe(err, strlen(err));
	}
	if (!json)
		return 0;
	r = render(cmd, json, now, &a, &na);
	r2 = render(cmd, json, now, &b, &nb);
	CHECK(r == r2 && na == nb && (!na || !memcmp(a, b, na)));
	CHECK(a && strlen(a) == na);
	if (data[0] % N(cmds) == N(cmds) - 1) {
		CHECK(r == -EINVAL && na == 0);
	} else {
		CHECK(r == 0 || r == -EPROTO || r == -ENOMEM);
		CHECK((r == -EPROTO) == !has_shape(cmd, json));
		CHECK(r != -EPROTO || na == 0);
	}
	terminal_safe(a, na);
	free(a);
	free(b);
	cJSON_Delete(json);
	return 0;
}
