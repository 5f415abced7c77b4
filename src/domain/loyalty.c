/* Loyalty points: the earning and reversal are triggers in the database (every payment path
 * and every refund path reaches them, whoever wrote it), so the configuration they read must
 * be in the database too: written here once at start. */
#include <stdio.h>
#include "loyalty.h"
#include "cfg.h"
#include "db.h"
#include "logging.h"

static void loyalty_rules_done(void *priv, const PGresult *res, int err)
{
	if (err < 0)
		LOGP(DCRM, LOGL_ERROR, "loyalty rules not written (%d): the database keeps its own\n", err);
	else
		LOGP(DCRM, LOGL_INFO, "loyalty: %u points per rand, expiry after %u days\n",
		     g_cfg->loyalty_points_per_rand, g_cfg->loyalty_expiry_days);
}

void loyalty_init(void)
{
	char ppr[16], days[16];
	snprintf(ppr, sizeof(ppr), "%u", g_cfg->loyalty_points_per_rand);
	snprintf(days, sizeof(days), "%u", g_cfg->loyalty_expiry_days);
	const char *params[] = { ppr, days };
	db_write(DB_LOYALTY_RULES_SET, 2, params, loyalty_rules_done, NULL);
}
