/* Loyalty points: the earning and reversal are triggers in the database (every payment path
 * and every refund path reaches them, whoever wrote it), so the configuration they read must
 * be in the database too: written here once at start. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <talloc.h>
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

static void *g_loyalty_ctx;

void loyalty_init(void *ctx)
{
	g_loyalty_ctx = talloc_named_const(ctx, 0, "loyalty");
	char ppr[16], days[16];
	snprintf(ppr, sizeof(ppr), "%u", g_cfg->loyalty_points_per_rand);
	snprintf(days, sizeof(days), "%u", g_cfg->loyalty_expiry_days);
	const char *params[] = { ppr, days };
	db_write(DB_LOYALTY_RULES_SET, 2, params, loyalty_rules_done, NULL);
}

/* One call: a customer's points (a read) or a referral code entered (a write); the answer is
 * the statement's one value. */
struct loyalty_call {
	loyalty_points_cb points_cb;
	loyalty_referral_cb referral_cb;
	void *priv;
};

static void loyalty_call_done(void *priv, const PGresult *res, int err)
{
	struct loyalty_call c = *(struct loyalty_call *)priv;
	talloc_free(priv);
	if (!err && PQntuples(res) != 1)
		err = -EIO;
	const char *v = err ? "" : PQgetvalue(res, 0, 0);
	if (c.points_cb)
		c.points_cb(c.priv, err ? 0 : strtoll(v, NULL, 10), err);
	else
		c.referral_cb(c.priv, v, err);
}

void loyalty_points(int64_t customer_id, loyalty_points_cb cb, void *priv)
{
	struct loyalty_call *c = talloc_zero(g_loyalty_ctx, struct loyalty_call);
	char id[24];
	c->points_cb = cb;
	c->priv = priv;
	snprintf(id, sizeof(id), "%" PRId64, customer_id);
	const char *params[] = { id };
	db_read(DB_LOYALTY_POINTS, 1, params, loyalty_call_done, c);
}

void loyalty_referral_enter(int64_t customer_id, const char *code, loyalty_referral_cb cb, void *priv)
{
	struct loyalty_call *c = talloc_zero(g_loyalty_ctx, struct loyalty_call);
	char id[24];
	c->referral_cb = cb;
	c->priv = priv;
	snprintf(id, sizeof(id), "%" PRId64, customer_id);
	const char *params[] = { id, code };
	db_write(DB_REFERRAL_ENTER, 2, params, loyalty_call_done, c);
}
