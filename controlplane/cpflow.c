// SPDX-License-Identifier: MIT
/*
 * Flow logs on the control plane's loop (see cp.h and flow/flowlog.h): the flow log's ops
 * over the authorization state (client ids, which authorizations still hold) and the data
 * plane (FG_CTL_FLOWS_SET), its records from dpclient's on_flow, and the gateway's uplink
 * addresses after each HELLO. FIREZONE_FLOW_LOGS / --flow-logs put the flow lines on the
 * log; FASTGATE_FLOW_LOG_DIR and FASTGATE_FLOW_LOG_MAX_MB place and bound the spool.
 * Control plane thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cp.h"
#include "flowlog.h"
#include "log.h"

static const char *const TAG = "fastgate.cp";

static bool client_id_of(void *ctx, const uint8_t public_key[32], char *out, size_t len)
{
	struct fg_cp *cp = ctx;

	for (uint32_t i = 0; i < cp->state.n; i++)
		if (!memcmp(cp->state.clients[i].public_key, public_key, 32)) {
			snprintf(out, len, "%s", cp->state.clients[i].id);
			return true;
		}
	return false;
}

static const char *domain_of(void *ctx, const uint8_t public_key[32], const struct fg_ip *proxy)
{
	struct fg_cp *cp = ctx;

	return cp->nat ? fg_cp_nat_domain_of(cp->nat, public_key, proxy) : NULL;
}

static bool authorized(void *ctx, const char *client_id, const char *resource_id)
{
	struct fg_cp *cp = ctx;
	const struct fg_cp_client *c = fg_cp_find(&cp->state, client_id);

	for (uint32_t i = 0; c && i < c->nres; i++)
		if (!strcmp(c->res[i].id, resource_id))
			return true;
	return false;
}

static void flows_set_done(void *ctx, int status, const void *msg)
{
	(void)ctx;
	(void)msg;
	/* A data plane without flow records answers -EPROTO: the flow log just gets none. */
	if (status < 0)
		fg_debug(TAG, "FLOWS_SET: %s", strerror(-status));
}

static void push_tracking(struct fg_cp *cp)
{
	const struct fg_dpc_cb cb = { .done = flows_set_done, .ctx = cp };
	struct fg_ctl_flows_set m;

	if (!cp->flows || !fg_dpc_connected(&cp->dpc))
		return;
	memset(&m, 0, sizeof(m));
	m.enabled = fg_flowlog_tracking(cp->flows);
	(void)fg_dpc_send(&cp->dpc, &m, FG_CTL_FLOWS_SET, FG_DPC_TIMEOUT_MS, &cb);
}

static void tracking(void *ctx, bool on)
{
	(void)on;
	push_tracking(ctx);
}

static void on_flow(void *arg, const struct fg_ctl_flow *msg)
{
	fg_flowlog_on_flow(arg, msg);
}

int fg_cp_flows_start(struct fg_cp *cp)
{
	const struct fg_flowlog_ops ops = {
		.client_id = client_id_of,
		.domain = domain_of,
		.authorized = authorized,
		.tracking = tracking,
	};
	const struct fg_flowlog_config cfg = { .log_lines = cp->login.flow_logs };

	cp->flows = fg_flowlog_new(&cp->loop, &cfg, &ops, cp);
	if (!cp->flows)
		return -errno;
	cp->gw.flows = cp->flows;
	cp->dpc.on_flow = on_flow;
	cp->dpc.flow_arg = cp->flows;
	if (cfg.log_lines)
		fg_info(TAG, "flow logs on the log (FIREZONE_FLOW_LOGS / --flow-logs)");
	fg_cp_flows_dp_up(cp);
	return 0;
}

void fg_cp_flows_dp_up(struct fg_cp *cp)
{
	if (!cp->flows)
		return;
	fg_flowlog_set_local(cp->flows, &cp->dpc.hello.uplink4, &cp->dpc.hello.uplink6, cp->dpc.hello.listen_port);
	push_tracking(cp);
}

void fg_cp_flows_stop(struct fg_cp *cp)
{
	cp->dpc.on_flow = NULL;
	cp->dpc.flow_arg = NULL;
	cp->gw.flows = NULL;
	fg_flowlog_free(cp->flows);
	cp->flows = NULL;
}
