#pragma once
#include <osmocom/core/rate_ctr.h>

enum spaza_ctr {
#define X(e, n, d) CTR_##e,
#include "stats.def"
#undef X
};

extern struct rate_ctr_group *g_ctrs;
void stats_init(void *ctx);
#define STAT_INC(c) rate_ctr_inc(rate_ctr_group_get_ctr(g_ctrs, CTR_##c))
#define STAT_ADD(c, n) rate_ctr_add(rate_ctr_group_get_ctr(g_ctrs, CTR_##c), n)
