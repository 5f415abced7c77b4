/* The daemon's side of payments: statements to the ledger's SQL functions, results back to
 * the session; and a timer that expires holds and slips left behind (a crash between a credit
 * hold and its post is resolved here after a restart). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include <osmocom/core/timer.h>
#include "db.h"
#include "logging.h"
#include "payments.h"
#include "stats.h"

#define PAYMENTS_EXPIRE_EVERY_S 30

struct payments_call {
	payments_cb cb;
	void *priv;
	int64_t order_id;
	struct payments_result held;	/* credit: the hold's result while the post runs */
};

static struct {
	void *ctx;
	struct osmo_timer_list expire_timer;
} g;

static struct payments_call *call_new(payments_cb cb, void *priv)
{
	struct payments_call *c = talloc_zero(g.ctx, struct payments_call);
	c->cb = cb;
	c->priv = priv;
	return c;
}

static int64_t col_i64(const PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? 0 : strtoll(PQgetvalue(res, 0, col), NULL, 10);
}

static void call_done(struct payments_call *c, const PGresult *res, int err, struct payments_result *r)
{
	if (err || PQntuples(res) != 1) {
		STAT_INC(DB_ERRORS);
		c->cb(c->priv, NULL, err ? err : -EIO);
	} else {
		c->cb(c->priv, r, 0);
	}
	talloc_free(c);
}

static void voucher_done(void *priv, const PGresult *res, int err)
{
	struct payments_result r = { 0 };
	if (!err && PQntuples(res) == 1) {
		r = (struct payments_result){ PQgetvalue(res, 0, 0), col_i64(res, 1), col_i64(res, 2), NULL, NULL };
		/* The lockout is the database's (5 failures in 24 h, sql/002_ledger.sql); this is
		 * where the daemon sees it, so it is counted here, once per answer a session gets
		 * (a repeated hop is answered from the session's last reply, not asked again). */
		if (!strcmp(r.outcome, "locked"))
			STAT_INC(LIMIT_PIN_LOCKOUTS);
		else if (!strcmp(r.outcome, "invalid"))
			STAT_INC(PAYMENTS_BAD_PINS);
	}
	call_done(priv, res, err, &r);
}

void payments_voucher(const char *idem_key, const uint8_t pin_hmac[32], int64_t customer_id, int64_t order_id,
		      payments_cb cb, void *priv)
{
	char hex[65], cust[24], order[24];
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", pin_hmac[i]);
	snprintf(cust, sizeof(cust), "%" PRId64, customer_id);
	snprintf(order, sizeof(order), "%" PRId64, order_id);
	const char *params[4] = { idem_key, hex, cust, order };
	db_write(DB_VOUCHER_REDEEM, 4, params, voucher_done, call_new(cb, priv));
}

static void credit_post_done(void *priv, const PGresult *res, int err)
{
	struct payments_call *c = priv;
	struct payments_result r = c->held;
	if (!err && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "posted")) {
		LOGP(DCAT, LOGL_ERROR, "order %" PRId64 ": credit hold not posted: %s\n", c->order_id, PQgetvalue(res, 0, 0));
		r.outcome = "not_payable";
	}
	call_done(c, res, err, &r);
}

static void credit_hold_done(void *priv, const PGresult *res, int err)
{
	struct payments_call *c = priv;
	if (err || PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "ok")) {
		struct payments_result r = { 0 };
		if (!err && PQntuples(res) == 1)
			r = (struct payments_result){ PQgetvalue(res, 0, 0), col_i64(res, 2), col_i64(res, 3), NULL, NULL };
		return call_done(c, res, err, &r);
	}
	c->held = (struct payments_result){ "ok", col_i64(res, 2), col_i64(res, 3), NULL, NULL };
	char order[24];
	snprintf(order, sizeof(order), "%" PRId64, c->order_id);
	const char *params[1] = { order };
	db_write(DB_CREDIT_POST, 1, params, credit_post_done, c);
}

void payments_credit(const char *idem_key, int64_t customer_id, int64_t order_id, payments_cb cb, void *priv)
{
	struct payments_call *c = call_new(cb, priv);
	char cust[24], order[24];
	c->order_id = order_id;
	snprintf(cust, sizeof(cust), "%" PRId64, customer_id);
	snprintf(order, sizeof(order), "%" PRId64, order_id);
	const char *params[3] = { idem_key, cust, order };
	db_write(DB_CREDIT_HOLD, 3, params, credit_hold_done, c);
}

static void slip_done(void *priv, const PGresult *res, int err)
{
	struct payments_result r = { 0 };
	if (!err && PQntuples(res) == 1)
		r = (struct payments_result){ PQgetvalue(res, 0, 0), col_i64(res, 2), 0, PQgetvalue(res, 0, 1),
			PQgetvalue(res, 0, 3) };
	call_done(priv, res, err, &r);
}

void payments_slip(const char *idem_key, int64_t order_id, unsigned receiver_id, payments_cb cb, void *priv)
{
	char order[24], recv[8];
	snprintf(order, sizeof(order), "%" PRId64, order_id);
	snprintf(recv, sizeof(recv), "%u", receiver_id);
	const char *params[3] = { idem_key, order, recv };
	db_write(DB_SLIP_CREATE, 3, params, slip_done, call_new(cb, priv));
}

static void expire_done(void *priv, const PGresult *res, int err)
{
	if (!err && PQntuples(res) == 1 && (col_i64(res, 0) || col_i64(res, 1)))
		LOGP(DCAT, LOGL_NOTICE, "expired %" PRId64 " holds and %" PRId64 " slips\n", col_i64(res, 0), col_i64(res, 1));
}

static void expire_timer_cb(void *data)
{
	if (db_is_up())
		db_write(DB_HOLDS_EXPIRE, 0, NULL, expire_done, NULL);
	osmo_timer_schedule(&g.expire_timer, PAYMENTS_EXPIRE_EVERY_S, 0);
}

void payments_init(void *ctx)
{
	g.ctx = talloc_named_const(ctx, 0, "payments");
	osmo_timer_setup(&g.expire_timer, expire_timer_cb, NULL);
	osmo_timer_schedule(&g.expire_timer, 1, 0);
}
