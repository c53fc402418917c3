// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: the data plane's UAPI server over three interleaved connections, line
 * by line (tests/unit/dataplane/uapi_drive.h). Each pair of input bytes is one step: which
 * connection, which line of the grammar (set/get, four peer keys, remove, update_only,
 * endpoint, allowed IPs, keepalive, PSK, blank lines, replace_peers, listen_port), whether
 * to split it, to read replies or to hang up. A byte-level fuzzer over one connection did
 * not find the shared-slot crash of issue 7 in minutes; this one finds it in seconds on
 * the unfixed server. The service state is reset between inputs.
 *
 *   scripts/fuzz.sh uapi_multi 60     (clang, ASan + UBSan, 60 s)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peers.h"
#include "service.h"
#include "svc_env.h"
#include "uapi_drive.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fg_svc_env g_env;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	if (fg_svc_env_eal((*argv)[0]) < 0 || fg_svc_env_init(&g_env, 64) < 0) {
		fprintf(stderr, "fuzz_uapi_multi: cannot set up the service state\n");
		exit(1);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[32];
	struct fg_uapi_drive d;

	if (size > 4096)
		return -1;
	if (fg_uapi_drive_init(&d, &g_env) < 0)
		abort();
	for (size_t i = 0; i + 1 < size; i += 2) {
		if (!fg_uapi_drive_step(&d, data[i], data[i + 1])) {
			fprintf(stderr, "invariant broken: %s\n", d.why);
			abort();
		}
	}
	fg_uapi_drive_fini(&d);
	while (g_env.svc.nlive)
		fg_svc_peer_remove(&g_env.svc, g_env.svc.live[g_env.svc.nlive - 1]);
	fg_svc_set_private_key(&g_env.svc, zero);
	fg_tables_reclaim(&g_env.dp.tables);
	return 0;
}
