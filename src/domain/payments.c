/* The daemon's side of payments: the money room's statements (ledger.h) on the pipeline,
 * results back to the session; and a timer that expires holds and slips left behind (a crash between a credit
 * hold and its post is resolved here after a restart). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include <osmocom/core/timer.h>
#include "db.h"
#include "ledger.h"
#include "logging.h"
#include "payments.h"
#include "sms_texts.h"
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

/* The ledger's row read (ledger_result()), or err when there is none to read. */
static int call_result(const PGresult *res, int err, struct ledger_result *lr)
{
	if (err)
		return err;
	return ledger_result(res, lr);
}

static void call_done(struct payments_call *c, int err, const struct payments_result *r)
{
	if (err) {
		STAT_INC(DB_ERRORS);
		c->cb(c->priv, NULL, err);
	} else {
		c->cb(c->priv, r, 0);
	}
	talloc_free(c);
}

static void voucher_done(void *priv, const PGresult *res, int err)
{
	struct ledger_result lr;
	struct payments_result r = { 0 };
	err = call_result(res, err, &lr);
	if (!err) {
		r = (struct payments_result){ lr.outcome, lr.amount_cents, lr.balance_cents, NULL,
					      NULL };
		/* The lockout is the database's (5 failures in 24 h, sql/002_ledger.sql); this is
		 * where the daemon sees it, so it is counted here, once per answer a session gets
		 * (a repeated hop is answered from the session's last reply, not asked again). */
		if (lr.outcome == LEDGER_KEY_RETIRED) {
			/* The customer hears what a wrong PIN hears: the voucher cannot be used. */
			LOGP(DCAT, LOGL_NOTICE, "a voucher PIN under a retired voucher-pin key version was refused\n");
			STAT_INC(KEYS_RETIRED);
			r.outcome = LEDGER_INVALID;
		} else if (lr.outcome == LEDGER_LOCKED)
			STAT_INC(LIMIT_PIN_LOCKOUTS);
		else if (lr.outcome == LEDGER_INVALID)
			STAT_INC(PAYMENTS_BAD_PINS);
	}
	call_done(priv, err, &r);
}

void payments_voucher(const char *idem_key, const struct secrets_macs *macs, int64_t customer_id, int64_t order_id,
		      payments_cb cb, void *priv)
{
	struct ledger_stmt st;
	ledger_voucher_redeem(&st, idem_key, macs, customer_id, order_id);
	db_write(st.stmt, st.nparams, st.params, voucher_done, call_new(cb, priv));
}

static void credit_post_done(void *priv, const PGresult *res, int err)
{
	struct payments_call *c = priv;
	struct payments_result r = c->held;
	struct ledger_result lr;
	err = call_result(res, err, &lr);
	if (!err && lr.outcome != LEDGER_POSTED) {
		LOGP(DCAT, LOGL_ERROR, "order %" PRId64 ": credit hold not posted: %s\n", c->order_id,
		     ledger_outcome_word(lr.outcome));
		r.outcome = LEDGER_NOT_PAYABLE;
	}
	call_done(c, err, &r);
}

static void credit_hold_done(void *priv, const PGresult *res, int err)
{
	struct payments_call *c = priv;
	struct ledger_result lr;
	err = call_result(res, err, &lr);
	if (err || lr.outcome != LEDGER_OK) {
		struct payments_result r = { 0 };
		if (!err)
			r = (struct payments_result){ lr.outcome, lr.amount_cents, lr.balance_cents,
						      NULL, NULL };
		return call_done(c, err, &r);
	}
	c->held = (struct payments_result){ lr.outcome, lr.amount_cents, lr.balance_cents, NULL,
					    NULL };
	struct ledger_stmt st;
	ledger_credit_post(&st, c->order_id);
	db_write(st.stmt, st.nparams, st.params, credit_post_done, c);
}

void payments_credit(const char *idem_key, int64_t customer_id, int64_t order_id, payments_cb cb, void *priv)
{
	struct payments_call *c = call_new(cb, priv);
	struct ledger_stmt st;
	c->order_id = order_id;
	ledger_credit_hold(&st, idem_key, customer_id, order_id);
	db_write(st.stmt, st.nparams, st.params, credit_hold_done, c);
}

static void slip_done(void *priv, const PGresult *res, int err)
{
	struct ledger_result lr;
	struct payments_result r = { 0 };
	err = call_result(res, err, &lr);
	if (!err)
		r = (struct payments_result){ lr.outcome, lr.amount_cents, 0, lr.text ? lr.text : "",
					      lr.detail ? lr.detail : "" };
	call_done(priv, err, &r);
}

void payments_slip(const char *idem_key, int64_t order_id, unsigned receiver_id, payments_cb cb, void *priv)
{
	struct ledger_stmt st;
	ledger_slip_create(&st, idem_key, order_id, receiver_id);
	db_write(st.stmt, st.nparams, st.params, slip_done, call_new(cb, priv));
}

/* The ledger's row as it is: outcome, amount, balance, and text/detail as slip/expiry. */
static void plain_done(void *priv, const PGresult *res, int err)
{
	struct ledger_result lr;
	struct payments_result r = { 0 };
	err = call_result(res, err, &lr);
	if (!err)
		r = (struct payments_result){ lr.outcome, lr.amount_cents, lr.balance_cents, lr.text, lr.detail };
	call_done(priv, err, &r);
}

void payments_store_credit(const char *idem_key, int64_t customer_id, int64_t order_id, payments_cb cb, void *priv)
{
	struct ledger_stmt st;
	ledger_store_credit_pay(&st, idem_key, customer_id, order_id);
	db_write(st.stmt, st.nparams, st.params, plain_done, call_new(cb, priv));
}

void payments_points(const char *idem_key, int64_t customer_id, int64_t order_id, payments_cb cb, void *priv)
{
	struct ledger_stmt st;
	ledger_points_pay(&st, idem_key, customer_id, order_id);
	db_write(st.stmt, st.nparams, st.params, plain_done, call_new(cb, priv));
}

void payments_repay_slip(const char *idem_key, int64_t customer_id, unsigned receiver_id, payments_cb cb, void *priv)
{
	struct ledger_stmt st;
	ledger_repay_slip_create(&st, idem_key, customer_id, receiver_id);
	db_write(st.stmt, st.nparams, st.params, slip_done, call_new(cb, priv));
}

void payments_cod(int64_t customer_id, int64_t order_id, payments_cb cb, void *priv)
{
	struct ledger_stmt st;
	ledger_cod_choose(&st, customer_id, order_id);
	db_write(st.stmt, st.nparams, st.params, plain_done, call_new(cb, priv));
}

static void repay_done(void *priv, const PGresult *res, int err)
{
	struct ledger_result lr;
	struct payments_result r = { 0 };
	err = call_result(res, err, &lr);
	if (!err) {
		/* still owed comes as text (the detail column): a remainder of the credit line */
		r = (struct payments_result){ lr.outcome, lr.amount_cents, lr.balance_cents, NULL, lr.detail };
		if (lr.outcome == LEDGER_KEY_RETIRED) {
			STAT_INC(KEYS_RETIRED);
			r.outcome = LEDGER_INVALID;
		} else if (lr.outcome == LEDGER_LOCKED)
			STAT_INC(LIMIT_PIN_LOCKOUTS);
		else if (lr.outcome == LEDGER_INVALID)
			STAT_INC(PAYMENTS_BAD_PINS);
	}
	call_done(priv, err, &r);
}

void payments_repay(const char *idem_key, const struct secrets_macs *macs, int64_t customer_id, payments_cb cb,
		    void *priv)
{
	struct ledger_stmt st;
	ledger_credit_repay(&st, idem_key, macs, customer_id);
	db_write(st.stmt, st.nparams, st.params, repay_done, call_new(cb, priv));
}

struct balance_call {
	payments_balance_cb cb;
	void *priv;
};

/* CREDIT_BALANCE's row: limit, used, held, owed, available, store credit (CREDIT_QUOTE: and
 * what is due on the order) */
static void balance_done(void *priv, const PGresult *res, int err)
{
	struct balance_call *c = priv;
	struct payments_balance b = { 0 };
	if (!err && PQntuples(res) != 1)
		err = -EIO;
	if (!err) {
		int64_t *cols[] = { &b.limit_cents, &b.used_cents, NULL, &b.owed_cents, &b.available_cents,
				    &b.store_cents };
		for (int i = 0; i < 6; i++)
			if (cols[i])
				*cols[i] = strtoll(PQgetvalue(res, 0, i), NULL, 10);
		if (PQnfields(res) > 6 && !PQgetisnull(res, 0, 6))
			b.due_cents = strtoll(PQgetvalue(res, 0, 6), NULL, 10);
	} else
		STAT_INC(DB_ERRORS);
	c->cb(c->priv, err ? NULL : &b, err);
	talloc_free(c);
}

void payments_balance(int64_t customer_id, int64_t order_id, payments_balance_cb cb, void *priv)
{
	struct balance_call *c = talloc_zero(g.ctx, struct balance_call);
	char id[24], order[24];
	c->cb = cb;
	c->priv = priv;
	snprintf(id, sizeof(id), "%" PRId64, customer_id);
	snprintf(order, sizeof(order), "%" PRId64, order_id);
	const char *params[] = { id, order };
	if (order_id)
		db_read(DB_CREDIT_QUOTE, 2, params, balance_done, c);
	else
		db_read(DB_CREDIT_BALANCE, 1, params, balance_done, c);
}

static void slip_sms_queued(void *priv, const PGresult *res, int err)
{
	if (err)
		LOGP(DCAT, LOGL_ERROR, "a slip's SMS was not queued (%d)\n", err);
}

void payments_slip_sms(int64_t customer_id, const char *lang, int64_t order_id, int64_t amount_cents,
		       const char *slip_grouped, const char *expiry)
{
	char text[SMS_TEXT_BYTES], cust[24], key[64];
	struct sms_vars v = { .order = order_id, .status = -1, .lang = -1, .total_cents = amount_cents,
			      .slip = slip_grouped, .date = expiry };
	enum sms_text id = order_id ? SMS_TEXT_SLIP_MADE : SMS_TEXT_SLIP_REPAY;
	if (!g_sms_texts || sms_texts_render(g_sms_texts, id, sms_texts_lang(lang), &v, text, sizeof(text)) < 0)
		return;
	snprintf(cust, sizeof(cust), "%" PRId64, customer_id);
	/* once per slip, amount and pay-by date: asking again for the same slip sends nothing new,
	 * a lapsed slip made good again (a new date) does */
	snprintf(key, sizeof(key), "slip:%" PRId64 ":%s:%" PRId64, order_id, expiry, amount_cents);
	const char *params[] = { cust, text, key };
	db_write(DB_SMS_NOTICE_QUEUE, 3, params, slip_sms_queued, NULL);
}

/* HOLDS_EXPIRE's row: holds expired, slips expired */
static void expire_done(void *priv, const PGresult *res, int err)
{
	if (err || PQntuples(res) != 1)
		return;
	long long holds = strtoll(PQgetvalue(res, 0, 0), NULL, 10), slips = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	if (holds || slips)
		LOGP(DCAT, LOGL_NOTICE, "expired %lld holds and %lld slips\n", holds, slips);
}

static void expire_timer_cb(void *data)
{
	if (db_is_up()) {
		struct ledger_stmt st;
		ledger_holds_expire(&st);
		db_write(st.stmt, st.nparams, st.params, expire_done, NULL);
	}
	osmo_timer_schedule(&g.expire_timer, PAYMENTS_EXPIRE_EVERY_S, 0);
}

void payments_init(void *ctx)
{
	g.ctx = talloc_named_const(ctx, 0, "payments");
	osmo_timer_setup(&g.expire_timer, expire_timer_cb, NULL);
	osmo_timer_schedule(&g.expire_timer, 1, 0);
}
