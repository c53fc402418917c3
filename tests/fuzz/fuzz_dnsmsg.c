// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the DNS forwarder's message checks (controlplane/dns/dnsmsg.c):
 * any bytes as a client's query and as a nameserver's answer. A query that parses must
 * give a SERVFAIL that parses as an answer with its id and question; an answer that parses
 * must cut (for UDP) to its question, TC set, or stay whole when it fits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_dnsmsg m, r;
	uint8_t out[FG_DNSMSG_SERVFAIL_MAX];

	if (fg_dnsmsg_parse(data, size, false, &m, NULL) == 0) {
		size_t n = fg_dnsmsg_servfail(&m, out, sizeof(out));

		if (!n || m.question_end > size || m.qname_len < 1 || m.qname_len > FG_DNSMSG_MAX_NAME)
			abort();
		if (fg_dnsmsg_parse(out, n, true, &r, NULL) != 0 || r.id != m.id || r.rcode != FG_DNSMSG_RCODE_SERVFAIL ||
		    r.qname_len != m.qname_len || memcmp(r.qname, m.qname, m.qname_len) || r.qtype != m.qtype ||
		    r.qclass != m.qclass)
			abort();
	}
	if (fg_dnsmsg_parse(data, size, true, &m, NULL) == 0) {
		uint8_t *copy = malloc(size);
		size_t max = size ? data[size - 1] * 8u : 0, n;

		if (!copy)
			return 0;
		memcpy(copy, data, size);
		n = fg_dnsmsg_truncate(copy, size, &m, max);
		if (size <= max ? n != size : (n != m.question_end || !(copy[2] & 0x02) || copy[5] != 1 || copy[7]))
			abort();
		free(copy);
	}
	return 0;
}
