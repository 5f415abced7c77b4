/* spazad's rate counters (listed once in stats.def), shown by `show stats`. */
#include <osmocom/core/utils.h>
#include <osmocom/core/stats.h>
#include "stats.h"

static const struct rate_ctr_desc stats_desc[] = {
#define X(e, n, d) [CTR_##e] = { n, d },
#include "stats.def"
#undef X
};

static const struct rate_ctr_group_desc stats_group_desc = {
	.group_name_prefix = "spaza",
	.group_description = "Spaza gateway",
	.class_id = OSMO_STATS_CLASS_GLOBAL,
	.num_ctr = ARRAY_SIZE(stats_desc),
	.ctr_desc = stats_desc,
};

struct rate_ctr_group *g_ctrs;

void stats_init(void *ctx)
{
	g_ctrs = rate_ctr_group_alloc(ctx, &stats_group_desc, 0);
}
