// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the portal's Phoenix frames (controlplane/portal/phoenix.c): any
 * bytes as a whole frame, and as the payload of a well-formed envelope (so that mutations
 * reach the payload without having to find the envelope first). What decodes must have a
 * printable topic and event and a payload, and no more cJSON nodes than the prescan could
 * have counted (1 plus every ',', '[' and '{' of the text, inside strings or not) nor than
 * FG_PHX_MAX_VALUES; what is refused holds nothing and says why. Each decoded frame is then
 * classified by fg_phx_handle on a connection that is joining and on one that has joined.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "phoenix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t nodes(const cJSON *it)
{
	size_t n = 0;

	for (; it; it = it->next)
		n += 1 + nodes(it->child);
	return n;
}

static bool printable(const char *s)
{
	if (!s[0])
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static void check(const char *text, size_t len)
{
	static const struct fg_phx_in zero;
	struct fg_phx_in m;
	struct fg_phx_conn c;
	char err[160];
	size_t bound = 1;

	if (fg_phx_decode(text, len, &m, err, sizeof(err)) != 0) {
		if (!err[0] || memcmp(&m, &zero, sizeof(m)))
			abort();
		return;
	}
	for (size_t i = 0; i < len; i++)
		bound += text[i] == ',' || text[i] == '[' || text[i] == '{';
	if (!m.root || !m.payload || !printable(m.topic) || !printable(m.event) || nodes(m.root) > bound ||
	    nodes(m.root) > FG_PHX_MAX_VALUES)
		abort();
	for (int joined = 0; joined < 2; joined++) {
		char *f;

		fg_phx_conn_init(&c);
		fg_phx_conn_reset(&c, 0);
		f = fg_phx_join(&c, 0);
		free(f);
		if (joined) {
			struct fg_phx_in ok;
			static const char reply[] = "{\"topic\":\"gateway\",\"event\":\"phx_reply\",\"ref\":0,"
						    "\"payload\":{\"status\":\"ok\",\"response\":{}}}";

			if (fg_phx_decode(reply, sizeof(reply) - 1, &ok, NULL, 0) != 0 ||
			    fg_phx_handle(&c, &ok) != FG_PHX_ACT_JOINED)
				abort();
			fg_phx_in_free(&ok);
		}
		if (!fg_phx_action_name(fg_phx_handle(&c, &m)))
			abort();
		fg_phx_conn_free(&c);
	}
	fg_phx_in_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char head[] = "{\"topic\":\"gateway\",\"event\":\"init\",\"ref\":null,\"payload\":";
	char *buf;

	if (size > 1 << 20)
		return 0;
	check((const char *)data, size);
	buf = malloc(sizeof(head) + size + 1);
	if (!buf)
		return 0;
	memcpy(buf, head, sizeof(head) - 1);
	memcpy(buf + sizeof(head) - 1, data, size);
	buf[sizeof(head) - 1 + size] = '}';
	check(buf, sizeof(head) + size);
	free(buf);
	return 0;
}
