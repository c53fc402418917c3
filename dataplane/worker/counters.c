/* SPDX-License-Identifier: MIT */
/*
 * The names of the drop reasons, generated from the same X-macro as enum fg_drop so that a
 * reason cannot exist without a name, and of the fast path's stages. Read-only data: stats on the service lcore and the
 * tests read it from any thread; nothing writes it after load.
 */
#include "counters.h"

const char *const fg_drop_names[FG_DROP_MAX] = {
	[FG_DROP_NONE] = "none",
#define FG_DROP_NAME(name, str) [FG_DROP_##name] = str,
	FG_DROP_REASONS(FG_DROP_NAME)
#undef FG_DROP_NAME
};

const char *const fg_stage_names[FG_STAGE_MAX] = {
	[FG_STAGE_PARSE] = "parse",
	[FG_STAGE_LOOKUP] = "lookup",
	[FG_STAGE_AEAD] = "aead",
	[FG_STAGE_POLICY] = "policy",
	[FG_STAGE_IO] = "io",
};
