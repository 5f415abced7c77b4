/* The rate-limit table stays within its bound (memory rate-limits) whatever numbers a flood
 * invents: the least recently counted entry goes and is counted in limits:evictions, while a
 * number counted recently keeps its count. */
#include <stdio.h>
#include <talloc.h>
#include <osmocom/core/timer.h>
#include "cfg.h"
#include "logging.h"
#include "ratelimit.h"
#include "stats.h"
#include "testlib.h"

#define MAX 100

static uint64_t evictions(void)
{
	return rate_ctr_group_get_ctr(g_ctrs, CTR_LIMIT_EVICTIONS)->current;
}

int main(void)
{
	void *ctx = talloc_named_const(NULL, 0, "ratelimit_test");
	setvbuf(stdout, NULL, _IOLBF, 0);
	spaza_logging_init(ctx);
	cfg_init(ctx);
	g_cfg->ratelimit_max = MAX;
	stats_init(ctx);
	ratelimit_init(ctx);

	char num[24];
	size_t before = talloc_total_size(ctx);
	for (unsigned i = 0; i < 100000; i++) {
		snprintf(num, sizeof(num), "+2782%07u", i);
		ratelimit_take(RATELIMIT_KIND_HOPS, num, 120);
	}
	T_EQ_INT(ratelimit_size(), MAX, "bound: 100,000 invented numbers leave the table at its bound");
	T_EQ_INT(evictions(), 100000 - MAX, "bound: ... every one past it evicted one, counted in limits:evictions");
	size_t after = talloc_total_size(ctx);
	T_CHECK(after - before < MAX * 128, "bound: ... and the memory it holds is that of the bound, not of the flood",
		"grew by %zu bytes", after - before);

	/* a number in use is the most recently counted: the flood evicts others first */
	ratelimit_take(RATELIMIT_KIND_HOPS, "+27820000001", 3);
	ratelimit_take(RATELIMIT_KIND_HOPS, "+27820000001", 3);
	for (unsigned i = 0; i < MAX / 2; i++) {
		snprintf(num, sizeof(num), "+2783%07u", i);
		ratelimit_take(RATELIMIT_KIND_HOPS, num, 120);
	}
	T_EQ_INT(ratelimit_take(RATELIMIT_KIND_HOPS, "+27820000001", 3), 0, "lru: a recently counted number keeps its count ...");
	T_CHECK(ratelimit_take(RATELIMIT_KIND_HOPS, "+27820000001", 3) > 0, "lru: ... and is refused past its limit",
		"not refused");
	talloc_free(ctx);
	return T_DONE();
}
