/* The campaign token bucket (campaign.h). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <talloc.h>
#include <osmocom/core/timer.h>
#include "campaign.h"
#include "campaign_text.h"
#include "cfg.h"
#include "db.h"
#include "logging.h"
#include "outbox.h"
#include "stats.h"

#define CAMPAIGN_TICK_S 1
/* database requests waiting above which marketing waits for the next tick */
#define CAMPAIGN_DB_BUSY 8

static struct {
	void *ctx;
	struct osmo_timer_list tick;
	unsigned tokens;
	bool dispatching;	/* one statement at a time */
	bool quiet_logged;
	bool down;
} g;

static void dispatched(void *priv, const PGresult *res, int err)
{
	g.dispatching = false;
	if (g.down)
		return;
	if (err) {
		STAT_INC(DB_ERRORS);
		LOGP(DCRM, LOGL_ERROR, "campaigns: dispatch failed (%d): tried again next tick\n", err);
		return;
	}
	unsigned q = atoi(PQgetvalue(res, 0, 0)), o = atoi(PQgetvalue(res, 0, 1)), c = atoi(PQgetvalue(res, 0, 2));
	STAT_ADD(CAMPAIGN_QUEUED, q);
	STAT_ADD(CAMPAIGN_OPTED_OUT, o);
	STAT_ADD(CAMPAIGN_CAPPED, c);
	if (q + o + c)
		LOGP(DCRM, LOGL_INFO, "campaigns: %u SMS queued, %u without consent, %u capped\n", q, o, c);
}

static void tick_cb(void *data)
{
	osmo_timer_schedule(&g.tick, CAMPAIGN_TICK_S, 0);
	/* the bucket holds one second's worth: idle seconds do not save up a burst */
	g.tokens = g_cfg->crm_rate;
	/* the database away: nothing to decide with, and nothing to say every second */
	if (g.dispatching || !db_is_up())
		return;
	if (campaign_quiet(g_cfg->crm_quiet_from, g_cfg->crm_quiet_to, time(NULL))) {
		STAT_INC(CAMPAIGN_QUIET);
		if (!g.quiet_logged)
			LOGP(DCRM, LOGL_INFO, "campaigns: quiet hours, nothing goes out\n");
		g.quiet_logged = true;
		return;
	}
	g.quiet_logged = false;
	struct db_stats st;
	db_get_stats(&st);
	if (st.queued + st.in_flight > CAMPAIGN_DB_BUSY || outbox_in_flight() >= g_cfg->sms_in_flight)
		return;
	char n[16], cap[16], days[16];
	snprintf(n, sizeof(n), "%u", g.tokens);
	snprintf(cap, sizeof(cap), "%u", g_cfg->crm_cap);
	snprintf(days, sizeof(days), "%u", g_cfg->crm_cap_days);
	const char *params[6] = { n, cap, days, campaign_footer(CAMPAIGN_EN), campaign_footer(CAMPAIGN_ZU),
				  campaign_footer(CAMPAIGN_AF) };
	g.dispatching = true;
	db_write(DB_CAMPAIGN_DISPATCH, 6, params, dispatched, NULL);
}

void campaign_init(void *ctx)
{
	g.ctx = talloc_named_const(ctx, 0, "campaign");
	osmo_timer_setup(&g.tick, tick_cb, NULL);
	osmo_timer_schedule(&g.tick, CAMPAIGN_TICK_S, 0);
}

void campaign_shutdown(void)
{
	g.down = true;
	osmo_timer_del(&g.tick);
	TALLOC_FREE(g.ctx);
}
