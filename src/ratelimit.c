/* Fixed-window counters per phone number. A window is cheap to keep (two counters and two
 * start times) and good enough against a script hammering the gateway: the limits are far above
 * what a person can type on a feature phone. Entries idle for an hour are swept. */
#include <string.h>
#include <time.h>
#include <talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/hashtable.h>
#include <osmocom/core/timer.h>
#include "cfg.h"
#include "ratelimit.h"
#include "stats.h"

#define RATELIMIT_HASH_BITS 14
#define RATELIMIT_SWEEP_S 60

struct rl_entry {
	struct hlist_node node;
	char msisdn[17];
	time_t hop_window, sess_window, last;
	unsigned hops, sessions;
};

static struct {
	void *ctx;
	DECLARE_HASHTABLE(by_msisdn, RATELIMIT_HASH_BITS);
	struct osmo_timer_list sweep;
} g;

static uint32_t rl_hash(const char *s)
{
	uint32_t h = 2166136261u;
	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static void rl_sweep(void *data)
{
	struct rl_entry *e;
	struct hlist_node *tmp;
	unsigned b;
	time_t now = time(NULL);
	hash_for_each_safe(g.by_msisdn, b, tmp, e, node)
		if (now - e->last > 3600) {
			hash_del(&e->node);
			talloc_free(e);
		}
	osmo_timer_schedule(&g.sweep, RATELIMIT_SWEEP_S, 0);
}

void ratelimit_init(void *ctx)
{
	g.ctx = talloc_named_const(ctx, 0, "ratelimit");
	hash_init(g.by_msisdn);
	osmo_timer_setup(&g.sweep, rl_sweep, NULL);
	osmo_timer_schedule(&g.sweep, RATELIMIT_SWEEP_S, 0);
}

enum ratelimit_verdict ratelimit_hop(const char *msisdn, bool new_session)
{
	if (!g_cfg->hops_per_minute && !g_cfg->sessions_per_hour)
		return RATELIMIT_OK;
	uint32_t h = rl_hash(msisdn);
	struct rl_entry *e, *found = NULL;
	hash_for_each_possible(g.by_msisdn, e, node, h)
		if (!strcmp(e->msisdn, msisdn)) {
			found = e;
			break;
		}
	if (!found) {
		found = talloc_zero(g.ctx, struct rl_entry);
		OSMO_STRLCPY_ARRAY(found->msisdn, msisdn);
		hash_add(g.by_msisdn, &found->node, h);
	}
	time_t now = time(NULL);
	found->last = now;
	if (now - found->hop_window >= 60) {
		found->hop_window = now;
		found->hops = 0;
	}
	if (now - found->sess_window >= 3600) {
		found->sess_window = now;
		found->sessions = 0;
	}
	if (g_cfg->hops_per_minute && ++found->hops > g_cfg->hops_per_minute) {
		STAT_INC(LIMIT_HOPS);
		return RATELIMIT_HOPS;
	}
	if (new_session && g_cfg->sessions_per_hour && ++found->sessions > g_cfg->sessions_per_hour) {
		STAT_INC(LIMIT_SESSIONS);
		return RATELIMIT_SESSIONS;
	}
	return RATELIMIT_OK;
}
