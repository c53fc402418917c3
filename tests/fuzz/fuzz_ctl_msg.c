// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: the data plane's control socket (dataplane/api/ctl_server.c) on a real
 * service state (tests/unit/dataplane/svc_env.h). The input is cut into datagrams (a 2-byte
 * length before each) and sent over a connected SOCK_SEQPACKET socket to the server, which is
 * polled after each; replies are read and dropped. Version-2 messages carry a variable number
 * of filters (common/ctlproto.h, fg_ctl_msg_size): every size, count and field the input
 * claims must be refused or applied, never read past. The service state is reset between
 * inputs.
 *
 *   scripts/fuzz.sh ctl_msg 60     (clang, ASan + UBSan, 60 s)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_server.h"
#include "ctlproto.h"
#include "peers.h"
#include "service.h"
#include "svc_env.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fg_svc_env g_env;
static struct fg_ctl_server *g_srv;
static struct sockaddr_un g_sa = { .sun_family = AF_UNIX };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/fg-fuzz-ctl.XXXXXX";

	(void)argc;
	if (fg_svc_env_eal((*argv)[0]) < 0 || fg_svc_env_init(&g_env, 64) < 0 || !mkdtemp(dir)) {
		fprintf(stderr, "fuzz_ctl_msg: cannot set up the service state\n");
		exit(1);
	}
	snprintf(g_sa.sun_path, sizeof(g_sa.sun_path), "%s/fz.ctl", dir);
	g_srv = fg_ctl_server_open(&g_env.svc, g_sa.sun_path, (gid_t)-1);
	if (!g_srv) {
		fprintf(stderr, "fuzz_ctl_msg: cannot open the control socket\n");
		exit(1);
	}
	return 0;
}

static void drain(int fd)
{
	static uint8_t buf[FG_CTL_MAX_MSG];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t msg[FG_CTL_MAX_MSG + 16];
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&g_sa, sizeof(g_sa)) < 0)
		abort();
	fg_ctl_server_poll(g_srv);
	for (size_t i = 0; i + 2 <= size;) {
		size_t n = (size_t)data[i] | (size_t)data[i + 1] << 8;

		i += 2;
		if (n > size - i)
			n = size - i;
		if (n > sizeof(msg))
			n = sizeof(msg);
		memcpy(msg, data + i, n);
		/* the version field is mostly right, so the fuzzer gets past the first check */
		if (n >= 2 && !(msg[1] & 0x80)) {
			msg[0] = FG_CTL_VERSION;
			msg[1] = 0;
		}
		i += n;
		(void)!send(fd, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		for (int k = 0; k < 4 && fg_ctl_server_poll(g_srv) > 0; k++)
			;
		drain(fd);
		fg_svc_poll(&g_env.svc, 0);
		fg_svc_env_drain(&g_env);
	}
	close(fd);
	fg_ctl_server_poll(g_srv);
	while (g_env.svc.nlive)
		fg_svc_peer_remove(&g_env.svc, g_env.svc.live[g_env.svc.nlive - 1]);
	fg_svc_garbage_collect(&g_env.svc, true);
	fg_tables_reclaim(&g_env.dp.tables);
	return 0;
}
