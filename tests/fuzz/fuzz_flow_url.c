// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for what the flow-log uploader reads from the portal and the ingest
 * API (controlplane/flow/flow_url.c): any bytes as init's api_url, as a redirect's
 * Location and as Retry-After. An api_url that parses goes to /ingestion/flow_logs with a
 * request-safe host; a redirect that is taken is https on port 443 with a request-safe path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void safe(const char *s)
{
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_flow_url u, cur, r;
	char *s = malloc(size + 1);
	uint32_t secs;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (fg_flow_url_parse(s, &u, NULL, 0) == 0) {
		safe(u.host_header);
		if (strcmp(u.path, "/ingestion/flow_logs") || !u.port)
			abort();
	}
	if (fg_flow_url_parse("https://flow-api.firezone.dev/", &cur, NULL, 0) == 0 &&
	    fg_flow_redirect(&cur, s, &r) == 0) {
		safe(r.path);
		safe(r.host_header);
		if (!r.tls || r.port != 443 || r.path[0] != '/')
			abort();
	}
	if (fg_flow_retry_after(s, &secs) == 0 && secs > FG_FLOW_RETRY_AFTER_MAX)
		abort();
	free(s);
	return 0;
}
