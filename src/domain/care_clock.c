/* The tickets' clocks: every CARE_CLOCK_S seconds one statement marks the tickets that passed a
 * deadline since (care first-response, care resolution) and the counters count them, once per
 * ticket and clock whatever the number of daemons or restarts: the mark is in the ticket's row.
 * `spazactl care list` computes breaches itself, so the list is right while spazad is down. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <osmocom/core/timer.h>
#include "care_clock.h"
#include "cfg.h"
#include "db.h"
#include "logging.h"
#include "stats.h"

#define CARE_CLOCK_S 5

static struct osmo_timer_list care_clock_timer;
static bool care_clock_stopped;	/* a sweep answered during shutdown starts no other */

static void care_clock_done(void *priv, const PGresult *res, int err)
{
	if (err || PQntuples(res) != 1) {
		if (err)
			STAT_INC(DB_ERRORS);
	} else {
		long frt = strtol(PQgetvalue(res, 0, 0), NULL, 10), resol = strtol(PQgetvalue(res, 0, 1), NULL, 10);
		if (frt || resol)
			LOGP(DCARE, LOGL_NOTICE, "care tickets breached: %ld first response, %ld resolution\n", frt, resol);
		STAT_ADD(CARE_FIRST_RESPONSE_BREACHES, frt);
		STAT_ADD(CARE_RESOLUTION_BREACHES, resol);
	}
	if (!care_clock_stopped)
		osmo_timer_schedule(&care_clock_timer, CARE_CLOCK_S, 0);
}

static void care_clock_tick(void *data)
{
	char frt[16], resol[16];
	snprintf(frt, sizeof(frt), "%u", g_cfg->care_first_response_min);
	snprintf(resol, sizeof(resol), "%u", g_cfg->care_resolution_h);
	const char *params[2] = { frt, resol };
	db_write(DB_CARE_BREACHES, 2, params, care_clock_done, NULL);
}

void care_clock_init(void)
{
	osmo_timer_setup(&care_clock_timer, care_clock_tick, NULL);
	osmo_timer_schedule(&care_clock_timer, CARE_CLOCK_S, 0);
}

void care_clock_stop(void)
{
	care_clock_stopped = true;
	osmo_timer_del(&care_clock_timer);
}
