// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for what the flow-log spool reads back from disk
 * (controlplane/flow/flow_spool_fmt.c): any bytes as a segment file (every sound line it
 * yields must be a JSON object that written again reads back identical), and as a segment
 * file name (what parses must print back the same).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow_spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(void *ctx, const char *payload, size_t n)
{
	char line[FG_FLOW_SPOOL_LINE_MAX + 1];
	unsigned bad = 0;
	size_t len;

	(void)ctx;
	if (!n || payload[0] != '{' || payload[n - 1] != '}')
		abort();
	len = fg_flow_spool_line(payload, n, line, sizeof(line));
	if (!len || fg_flow_spool_parse(line, len, NULL, NULL, &bad) != 1 || bad)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[FG_FLOW_SEG_NAME_LEN + 8], back[FG_FLOW_SEG_NAME_LEN];
	unsigned bad = 0, count;
	uint64_t seq;

	if (fg_flow_spool_parse((const char *)data, size, check, NULL, &bad) + bad > size)
		abort();
	if (size < sizeof(name)) {
		memcpy(name, data, size);
		name[size] = '\0';
		if (fg_flow_spool_name_parse(name, &seq, &count)) {
			if (!count || count > FG_FLOW_SEG_RECORDS_MAX)
				abort();
			fg_flow_spool_name(seq, count, back, sizeof(back));
			if (strcmp(back, name))
				abort();
		}
	}
	return 0;
}
