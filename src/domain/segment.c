/* The nightly RFM rebuild in spazad (segment.h). One batch at a time: its callback schedules the
 * next after a pause, so between two batches the loop serves everything else; a batch that
 * finds the database busy with hops waits too. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <talloc.h>
#include <osmocom/core/timer.h>
#include "cfg.h"
#include "crm.h"
#include "db.h"
#include "logging.h"
#include "segment.h"
#include "segment_cfg.h"
#include "stats.h"

/* the pause between batches, and while the connection has hops' requests waiting */
#define SEGMENT_BATCH_PAUSE_US 50000
#define SEGMENT_DB_BUSY 8

static struct {
	void *ctx;
	struct osmo_timer_list daily, next;
	bool running;
	int64_t after;		/* the last customer id of the last batch done */
	unsigned batches;
	bool down;
} g;

/* seconds from now to the next sweep-hour:00 local time */
static unsigned segment_until_sweep(void)
{
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	tm.tm_hour = g_cfg->crm_sweep_hour;
	tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	time_t at = mktime(&tm);
	if (at <= now)
		at += 24 * 3600;
	return (unsigned)(at - now);
}

static void settings_written(void *priv, const PGresult *res, int err)
{
	if (err)
		LOGP(DCRM, LOGL_ERROR, "segments: the RFM thresholds were not written (%d): scores use the old ones\n", err);
}

static void segment_settings_write(void)
{
	struct segment_cfg_params p;
	segment_cfg_params(g_cfg, &p);
	db_write(DB_CRM_SETTINGS_SET, 6, p.v, settings_written, NULL);
}

static void batch_done(void *priv, const PGresult *res, int err)
{
	if (g.down)
		return;
	if (err) {
		STAT_INC(DB_ERRORS);
		LOGP(DCRM, LOGL_ERROR, "segments: a rebuild batch failed (%d): the rest waits for the next sweep\n", err);
		g.running = false;
		return;
	}
	g.batches++;
	STAT_INC(CRM_SWEEP_BATCHES);
	if (PQgetisnull(res, 0, 0)) {
		LOGP(DCRM, LOGL_NOTICE, "segments: RFM scores rebuilt (%u batches)\n", g.batches);
		g.running = false;
		/* recency moved every segment a little: the home screens' offers follow at each
		 * customer's next dialogue */
		crm_reread_all();
		return;
	}
	g.after = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	osmo_timer_schedule(&g.next, 0, SEGMENT_BATCH_PAUSE_US);
}

static void next_cb(void *data)
{
	struct db_stats st;
	db_get_stats(&st);
	if (st.queued + st.in_flight > SEGMENT_DB_BUSY || !db_is_up()) {
		osmo_timer_schedule(&g.next, 0, SEGMENT_BATCH_PAUSE_US);
		return;
	}
	char after[24], batch[16];
	snprintf(after, sizeof(after), "%" PRId64, g.after);
	snprintf(batch, sizeof(batch), "%u", g_cfg->crm_sweep_batch);
	const char *params[2] = { after, batch };
	db_write(DB_RFM_RECOMPUTE, 2, params, batch_done, NULL);
}

void segment_sweep_start(void)
{
	if (g.running || g.down)
		return;
	g.running = true;
	g.after = 0;
	g.batches = 0;
	LOGP(DCRM, LOGL_INFO, "segments: rebuilding RFM scores, %u customers a batch\n", g_cfg->crm_sweep_batch);
	segment_settings_write();
	osmo_timer_schedule(&g.next, 0, 0);
}

static void daily_cb(void *data)
{
	segment_sweep_start();
	osmo_timer_schedule(&g.daily, segment_until_sweep(), 0);
}

void segment_init(void *ctx)
{
	g.ctx = talloc_named_const(ctx, 0, "segment");
	osmo_timer_setup(&g.daily, daily_cb, NULL);
	osmo_timer_setup(&g.next, next_cb, NULL);
	segment_settings_write();
	osmo_timer_schedule(&g.daily, segment_until_sweep(), 0);
}

void segment_shutdown(void)
{
	g.down = true;
	osmo_timer_del(&g.daily);
	osmo_timer_del(&g.next);
	TALLOC_FREE(g.ctx);
}
