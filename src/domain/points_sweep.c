/* The points sweep: a payment only queues the points its order earns (points_due, sql/028), so
 * its transaction stays short for the customers queued behind it; this posts the queue every
 * POINTS_SWEEP_PERIOD_MS, a batch at a time, and while batches come back full the next follows
 * on the next loop turn. It runs on the lazy connection (behind nothing a customer waits for);
 * the SQL function makes its own commit durable. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <osmocom/core/timer.h>
#include "points_sweep.h"
#include "db.h"
#include "logging.h"

#define POINTS_SWEEP_PERIOD_MS 500
#define POINTS_SWEEP_BATCH 500

static struct osmo_timer_list points_sweep_timer;

static void points_sweep_done(void *priv, const PGresult *res, int err)
{
	(void)priv;
	long n = 0;
	if (!err && PQntuples(res) == 1)
		n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	else
		LOGP(DCRM, LOGL_ERROR, "points sweep failed (%d): the points stay owed until the next one\n", err);
	if (n == POINTS_SWEEP_BATCH)
		osmo_timer_schedule(&points_sweep_timer, 0, 0);
	else
		osmo_timer_schedule(&points_sweep_timer, 0, POINTS_SWEEP_PERIOD_MS * 1000);
}

static void points_sweep_run(void *data)
{
	(void)data;
	char lim[16];
	snprintf(lim, sizeof(lim), "%d", POINTS_SWEEP_BATCH);
	const char *params[] = { lim };
	/* scheduled again only when this batch has answered: one batch at a time */
	db_write_lazy(DB_POINTS_SWEEP, 1, params, points_sweep_done, NULL);
}

void points_sweep_init(void *ctx)
{
	(void)ctx;
	osmo_timer_setup(&points_sweep_timer, points_sweep_run, NULL);
	osmo_timer_schedule(&points_sweep_timer, 1, 0);
}
