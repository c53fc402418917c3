// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for Firezone's p2p control bodies (controlplane/dns/p2p.c): any bytes
 * as a body (header and JSON) and as bare JSON; what parses as AssignedIps must hold 4 or
 * 8 addresses and a domain DomainStatus accepts, and its DomainStatus body must fit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p2p.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fg_p2p_assigned_ips m;
	uint8_t out[FG_P2P_HEADER_LEN + FG_P2P_MAX_BODY], ev;
	const uint8_t *json;
	size_t n;

	if (fg_p2p_split(data, size, &ev, &json, &n) == 0)
		(void)fg_p2p_assigned_ips_parse(json, n, &m, NULL, 0);
	if (fg_p2p_assigned_ips_parse(data, size, &m, NULL, 0) == 0) {
		if (m.n_proxy_ips != 4 && m.n_proxy_ips != 8)
			abort();
		if (fg_p2p_domain_status_build(m.resource, m.domain, true, out, sizeof(out)) <= 0)
			abort();
	}
	return 0;
}
