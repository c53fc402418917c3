// SPDX-License-Identifier: MIT
/*
 * fastgatectl: the operator's view of fastgate-controlplane over its Unix socket
 * (protocol and response schemas in cpctl_server.h). One subcommand per query, as in wg(8):
 * each sends one request, waits at most FG_CPCTL_TIMEOUT_MS for the answer, and prints it as
 * tables (render.c, render_conn.c, render_nat.c) or, with --json, as the server sent it: one compact JSON
 * object on one line, byte for byte, for scripts and jq. Any failure is one line on stderr and exit
 * status 1. Single-threaded, no state beyond main().
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "ctl_client.h"
#include "cpctl_server.h"
#include "render.h"

static const char *const PROG = "fastgatectl";

struct options {
	const char *socket;
	bool json;
};

static int query(const char *cmd, const struct options *o);
static int help(const char *cmd, const struct options *o);

static const struct subcommand {
	const char *name;
	int (*fn)(const char *cmd, const struct options *o);
	const char *description;
} subcommands[] = {
	{ "status", query, "portal state, version, uptime and data plane health" },
	{ "peers", query, "clients: key, tunnel addresses, endpoint, latest handshake, transfer" },
	{ "resources", query, "resources authorized per client, with filters and expiry" },
	{ "relays", query, "relays: TURN allocations, reflexive and relayed addresses, expiry, "
			   "channels (credentials are never shown)" },
	{ "ice", query, "ICE agents per client: state, nominated path, candidate pairs" },
	{ "stats", query, "handshakes, drops by reason, packets and bytes per lcore, NAT, flows, "
			  "p2p control, DNS resources" },
	{ "flows", query, "flow logs: live and recent flows, counters, spool and uploads" },
	{ "nat", query, "DNS resources per client: domain, resource, proxy IP -> real IP, live NAT "
			"tuples" },
	{ "help", help, "show this help" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s [--socket PATH] [--json] COMMAND\n"
		   "       %s --version\n\n"
		   "Commands:\n", PROG, PROG);
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-10s  %s\n", subcommands[i].name, subcommands[i].description);
	fprintf(f, "\nOptions:\n"
		   "  --socket PATH  the control plane's socket (default: $FASTGATE_CTL_SOCKET, else\n"
		   "                 %s)\n"
		   "  --json         print the response as the server sent it: one compact JSON line\n"
		   "  --version      print the version and exit\n\n"
		   "Exit status: 0 on success, 1 on any error (message on stderr).\n",
		FG_CPCTL_DEFAULT_PATH);
}

static int help(const char *cmd, const struct options *o)
{
	(void)cmd;
	(void)o;
	usage(stdout);
	return 0;
}

static int query(const char *cmd, const struct options *o)
{
	char err[FG_CPCTL_ERRLEN];
	cJSON *json = NULL;
	char *line = NULL;
	size_t len = 0;
	int r, status = 1;

	r = fg_ctl_client_request(o->socket, cmd, FG_CPCTL_TIMEOUT_MS, &line, &len, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		return 1;
	}
	r = fg_ctl_client_parse(line, len, &json, err, sizeof(err));
	if (r == -EPROTO) {
		fprintf(stderr, "%s: malformed response from %s: %s\n", PROG, o->socket, err);
		goto out;
	}
	/* A script sees error objects too: it gets the JSON on stdout and exit status 1. */
	if (o->json) {
		fwrite(line, 1, len, stdout);
		fputc('\n', stdout);
	}
	if (r == -EREMOTEIO) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		goto out;
	}
	if (!o->json) {
		r = fg_render(cmd, json, time(NULL), stdout);
		if (r == -EPROTO) {
			const char *key = fg_render_list_key(cmd);

			if (key)
				fprintf(stderr, "%s: malformed response from %s: no \"%s\" list\n", PROG,
					o->socket, key);
			else
				fprintf(stderr, "%s: malformed response from %s: not an object\n", PROG,
					o->socket);
			goto out;
		}
		if (r < 0 && r != -EIO) {
			fprintf(stderr, "%s: %s\n", PROG, strerror(-r));
			goto out;
		}
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "%s: writing the output: %s\n", PROG, strerror(errno));
		goto out;
	}
	status = 0;
out:
	cJSON_Delete(json);
	free(line);
	return status;
}

int main(int argc, char **argv)
{
	struct options o = { .socket = getenv("FASTGATE_CTL_SOCKET"), .json = false };
	const char *cmd = NULL;

	if (!o.socket || !*o.socket)
		o.socket = FG_CPCTL_DEFAULT_PATH;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--json") == 0) {
			o.json = true;
		} else if (strcmp(a, "--socket") == 0) {
			if (++i == argc) {
				fprintf(stderr, "%s: '--socket' needs a path\n", PROG);
				return 1;
			}
			o.socket = argv[i];
		} else if (strncmp(a, "--socket=", 9) == 0) {
			o.socket = a + 9;
		} else if (strcmp(a, "--version") == 0) {
			printf("%s %s\n", PROG, FG_VERSION);
			return 0;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (a[0] == '-') {
			fprintf(stderr, "%s: unknown option '%s' (see '%s help')\n", PROG, a, PROG);
			return 1;
		} else if (cmd) {
			fprintf(stderr, "%s: unexpected argument '%s' after '%s'\n", PROG, a, cmd);
			return 1;
		} else {
			cmd = a;
		}
	}
	if (!*o.socket) {
		fprintf(stderr, "%s: the socket path is empty\n", PROG);
		return 1;
	}
	if (!cmd) {
		usage(stderr);
		return 1;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(cmd, subcommands[i].name) == 0)
			return subcommands[i].fn(subcommands[i].name, &o);
	fprintf(stderr, "%s: unknown command '%s' (see '%s help')\n", PROG, cmd, PROG);
	return 1;
}
