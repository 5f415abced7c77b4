/* Running a screen's action: one call object per action carries the request's values to the
 * domain and back, and turns the domain's answer (an order id, rows, a payment's outcome word)
 * into a menu outcome and the values the next screens render.
 *
 * The call owns a copy of the values, not the caller's: a caller that gave up on the action
 * (the hop's deadline) may have freed its own by the time the database answers, and it
 * decides on its own whether the result still matters. Requests to the database are never
 * cancelled, so every call ends in exactly one callback. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <osmocom/core/utils.h>
#include "actions.h"
#include "cfg.h"
#include "crm.h"
#include "easypay.h"
#include "logging.h"
#include "luhn.h"
#include "orders.h"
#include "payments.h"
#include "pin_budget.h"
#include "secrets.h"
#include "stats.h"

struct actions_call {
	enum menu_action action;
	struct menu_vars v;
	bool went_on;	/* FIND_ORDER, see actions_req */
	char front[8], peer[48];	/* PAY_VOUCHER, see actions_req */
	int64_t cust_id;		/* CREATE_SLIP: who is sent the slip by SMS, in which language */
	char lang[8];
	actions_cb cb;
	void *priv;
};

bool actions_may_commit(enum menu_action a)
{
	return a == MENU_ACTION_CREATE_ORDER || a == MENU_ACTION_PAY_VOUCHER || a == MENU_ACTION_PAY_CREDIT ||
	       a == MENU_ACTION_CREATE_SLIP || a == MENU_ACTION_PAY_STORE_CREDIT || a == MENU_ACTION_CHOOSE_COD ||
	       a == MENU_ACTION_REPAY_VOUCHER || a == MENU_ACTION_REPAY_SLIP;
}

/* Hands the result to the caller and ends the call. */
static void actions_finish(struct actions_call *c, struct actions_result *r)
{
	r->v = &c->v;
	c->cb(c->priv, r);
	talloc_free(c);
}

static void actions_failed(struct actions_call *c)
{
	struct actions_result r = { .outcome = MENU_OUTCOME_ERROR };
	actions_finish(c, &r);
}

static void actions_order_created(void *priv, int64_t id, int64_t total, int err)
{
	struct actions_call *c = priv;
	if (err == -EEXIST) {
		struct actions_result r = { .outcome = MENU_OUTCOME_ERROR, .conflict = true };
		return actions_finish(c, &r);
	}
	if (err)
		return actions_failed(c);
	c->v.order_id = id;
	if (id)
		c->v.total_cents = total;
	/* a placed order is announced by its order_placed notification */
	struct actions_result r = { .outcome = id ? MENU_OUTCOME_OK : MENU_OUTCOME_OUT_OF_STOCK, .notified = id != 0,
				    .order_created = id };
	actions_finish(c, &r);
}

static void actions_orders_loaded(void *priv, const struct orders_row *rows, unsigned n, int err)
{
	struct actions_call *c = priv;
	if (err)
		return actions_failed(c);
	c->v.n_orders = n;
	memcpy(c->v.orders, rows, n * sizeof(*rows));
	struct actions_result r = { .outcome = MENU_OUTCOME_OK };
	actions_finish(c, &r);
}

static void actions_order_found(void *priv, const struct orders_row *rows, unsigned n, int err)
{
	struct actions_call *c = priv;
	if (err)
		return actions_failed(c);
	struct actions_result r = { .outcome = MENU_OUTCOME_NOT_FOUND };
	if (n == 1) {
		c->v.order_id = rows[0].id;
		c->v.total_cents = rows[0].total_cents;
		c->v.status = rows[0].status;
		c->v.product_id = rows[0].product_id;
		c->v.qty = rows[0].qty;
		/* The history going on past this screen means the customer saw the order payable the
		 * first time and paid: this is a replay (a restart, a lost reply). The payment's own
		 * key then gives back that first result, or refuses anew if it was paid elsewhere. */
		r.outcome = rows[0].status == ORDER_STATUS_AWAITING_PAYMENT || c->went_on ? MENU_OUTCOME_OK
										     : MENU_OUTCOME_NOT_PAYABLE;
	}
	actions_finish(c, &r);
}

static void actions_lang_stored(void *priv, struct customer *cust, int err)
{
	struct actions_call *c = priv;
	if (err)
		return actions_failed(c);
	struct actions_result r = { .outcome = MENU_OUTCOME_OK };
	actions_finish(c, &r);
}

/* What a screen makes of the ledger's answer (ledger_outcomes.def); any other answer is an
 * error screen. */
static enum menu_outcome actions_payment_outcome(enum ledger_outcome o)
{
	switch (o) {
	case LEDGER_PAID: case LEDGER_OK: case LEDGER_CREATED: case LEDGER_REPAID: return MENU_OUTCOME_OK;
	case LEDGER_PARTIAL: return MENU_OUTCOME_PARTIAL;
	case LEDGER_NOTHING_OWED: return MENU_OUTCOME_NOTHING_OWED;
	case LEDGER_INVALID: return MENU_OUTCOME_INVALID;
	case LEDGER_EXPIRED: return MENU_OUTCOME_EXPIRED;
	case LEDGER_INSUFFICIENT: return MENU_OUTCOME_INSUFFICIENT;
	case LEDGER_LOCKED: return MENU_OUTCOME_LOCKED;
	case LEDGER_OVER_LIMIT: return MENU_OUTCOME_OVER_LIMIT;
	case LEDGER_NOT_PAYABLE: return MENU_OUTCOME_NOT_PAYABLE;
	default: return MENU_OUTCOME_ERROR;
	}
}

static void actions_payment_done(void *priv, const struct payments_result *pr, int err)
{
	struct actions_call *c = priv;
	if (err)
		return actions_failed(c);
	struct menu_vars *v = &c->v;
	struct actions_result r = { .outcome = actions_payment_outcome(pr->outcome),
				    .conflict = pr->outcome == LEDGER_CONFLICT };
	if (r.conflict)
		STAT_INC(KEY_CONFLICTS);
	else if ((c->action == MENU_ACTION_PAY_VOUCHER || c->action == MENU_ACTION_REPAY_VOUCHER) &&
		 r.outcome == MENU_OUTCOME_INVALID)
		pin_budget_failed(c->front, c->peer);
	else if (r.outcome == MENU_OUTCOME_ERROR)
		LOGP(DSESS, LOGL_ERROR, "payment for order %" PRId64 ": %s\n", v->order_id,
		     ledger_outcome_word(pr->outcome));
	switch (c->action) {
	case MENU_ACTION_PAY_VOUCHER:
		v->remainder_cents = pr->remainder_cents;
		break;
	case MENU_ACTION_PAY_CREDIT:
		v->available_cents = pr->remainder_cents;
		if (pr->amount_cents)	/* what was due: store credit may have paid part of the total */
			v->total_cents = pr->amount_cents;
		break;
	case MENU_ACTION_CREATE_SLIP:
		if (r.outcome == MENU_OUTCOME_OK) {
			easypay_ref_group(v->slip, sizeof(v->slip), pr->slip);
			snprintf(v->expiry, sizeof(v->expiry), "%s", pr->expiry);
			v->total_cents = pr->amount_cents;
			/* the slip number and its pay-by date stay with the customer after the session */
			payments_slip_sms(c->cust_id, c->lang, v->order_id, v->total_cents, v->slip, v->expiry);
		}
		break;
	case MENU_ACTION_REPAY_SLIP:
		if (r.outcome == MENU_OUTCOME_OK) {
			easypay_ref_group(v->slip, sizeof(v->slip), pr->slip);
			snprintf(v->expiry, sizeof(v->expiry), "%s", pr->expiry);
			v->amount_cents = pr->amount_cents;
			payments_slip_sms(c->cust_id, c->lang, 0, v->amount_cents, v->slip, v->expiry);
		}
		break;
	case MENU_ACTION_PAY_STORE_CREDIT:
		v->amount_cents = pr->amount_cents;
		if (r.outcome == MENU_OUTCOME_PARTIAL)	/* the rest, by credit or slip */
			v->total_cents = pr->remainder_cents;
		break;
	case MENU_ACTION_CHOOSE_COD:
		if (r.outcome == MENU_OUTCOME_OK)
			v->total_cents = pr->amount_cents;
		break;
	case MENU_ACTION_REPAY_VOUCHER:
		v->amount_cents = pr->amount_cents;
		v->remainder_cents = pr->remainder_cents;
		v->due_cents = pr->expiry ? strtoll(pr->expiry, NULL, 10) : 0;
		break;
	default:
		break;
	}
	/* a paid order is announced by its order_status notification; a slip, a part paid, cash
	 * to come, a repayment or a refusal are not */
	r.notified = r.outcome == MENU_OUTCOME_OK && c->action != MENU_ACTION_CREATE_SLIP &&
		     c->action != MENU_ACTION_CHOOSE_COD && c->action != MENU_ACTION_REPAY_VOUCHER &&
		     c->action != MENU_ACTION_REPAY_SLIP;
	actions_finish(c, &r);
}

/* The PIN's check digit is checked before any database work; the database only ever sees
 * its HMAC, and the PIN is wiped from memory (the caller's values and the call's copy) once
 * that is computed. */
static void actions_pay_voucher(struct actions_call *c, const struct actions_req *req, const char *key)
{
	struct secrets_macs macs;
	bool ok = luhn_valid(req->v->pin);
	int rc = ok ? secrets_hmac_all("voucher-pin", req->v->pin, strlen(req->v->pin), &macs) : 0;
	explicit_bzero(req->v->pin, sizeof(req->v->pin));
	explicit_bzero(c->v.pin, sizeof(c->v.pin));
	if (pin_budget_paused()) {
		/* before anything is looked up: a paused gateway tells a guesser nothing */
		STAT_INC(PINS_PAUSED);
		explicit_bzero(&macs, sizeof(macs));
		struct actions_result r = { .outcome = MENU_OUTCOME_ERROR, .paused = true };
		return actions_finish(c, &r);
	}
	if (!ok) {
		struct actions_result r = { .outcome = MENU_OUTCOME_INVALID };
		return actions_finish(c, &r);
	}
	if (rc < 0) {
		LOGP(DSESS, LOGL_ERROR, "%s: cannot check voucher PINs: no voucher-pin key in the secrets file\n", key);
		struct actions_result r = { .outcome = MENU_OUTCOME_ERROR, .fatal = true };
		return actions_finish(c, &r);
	}
	if (c->action == MENU_ACTION_REPAY_VOUCHER)
		payments_repay(key, &macs, req->cust->id, actions_payment_done, c);
	else
		payments_voucher(key, &macs, req->cust->id, c->v.order_id, actions_payment_done, c);
	explicit_bzero(&macs, sizeof(macs));
}

/* My account and the credit confirm screen: the line as it is, or as it would be after paying. */
static void actions_balance_loaded(void *priv, const struct payments_balance *b, int err)
{
	struct actions_call *c = priv;
	if (err)
		return actions_failed(c);
	struct menu_vars *v = &c->v;
	struct actions_result r = { .outcome = MENU_OUTCOME_OK };
	v->limit_cents = b->limit_cents;
	v->used_cents = b->used_cents;
	v->due_cents = b->owed_cents;
	v->store_cents = b->store_cents;
	v->available_cents = b->available_cents;
	if (c->action == MENU_ACTION_CREDIT_QUOTE) {
		if (b->due_cents > 0)	/* store credit may have paid part of it */
			v->total_cents = b->due_cents;
		if (b->available_cents < v->total_cents)
			r.outcome = MENU_OUTCOME_OVER_LIMIT;
		else
			v->available_cents = b->available_cents - v->total_cents;
	}
	actions_finish(c, &r);
}

void actions_run(const struct actions_req *req, actions_cb cb, void *priv)
{
	struct actions_call *c = talloc_zero(req->ctx, struct actions_call);
	char key[160];
	c->action = req->action;
	c->v = *req->v;
	c->went_on = req->went_on;
	snprintf(c->front, sizeof(c->front), "%s", req->front ? req->front : "-");
	snprintf(c->peer, sizeof(c->peer), "%s", req->peer ? req->peer : "-");
	c->cb = cb;
	c->priv = priv;
	c->cust_id = req->cust->id;
	snprintf(c->lang, sizeof(c->lang), "%s", req->cust->lang);
	switch (req->action) {
	case MENU_ACTION_CREATE_ORDER:
		orders_create(req->cust->id, c->v.product_id, c->v.qty, req->key, actions_order_created, c);
		break;
	case MENU_ACTION_LOAD_ORDERS:
		orders_latest(req->cust->id, req->screen->max_items, actions_orders_loaded, c);
		break;
	case MENU_ACTION_FIND_ORDER:
		orders_find(strtoll(c->v.input, NULL, 10), req->cust->id, actions_order_found, c);
		break;
	case MENU_ACTION_SET_LANGUAGE:
		crm_set_lang(req->cust, req->menu->langs[c->v.new_lang], actions_lang_stored, c);
		break;
	case MENU_ACTION_PAY_VOUCHER:
		snprintf(key, sizeof(key), "%s:voucher", req->key);
		actions_pay_voucher(c, req, key);
		break;
	case MENU_ACTION_PAY_CREDIT:
		snprintf(key, sizeof(key), "%s:credit", req->key);
		payments_credit(key, req->cust->id, c->v.order_id, actions_payment_done, c);
		break;
	case MENU_ACTION_CREATE_SLIP:
		snprintf(key, sizeof(key), "%s:slip", req->key);
		payments_slip(key, c->v.order_id, g_cfg->slip_receiver, actions_payment_done, c);
		break;
	case MENU_ACTION_PAY_STORE_CREDIT:
		snprintf(key, sizeof(key), "%s:store_credit", req->key);
		payments_store_credit(key, req->cust->id, c->v.order_id, actions_payment_done, c);
		break;
	case MENU_ACTION_CHOOSE_COD:
		if (!g_cfg->cash_on_delivery) {	/* the shop does not offer it (payments cash-on-delivery) */
			struct actions_result r = { .outcome = MENU_OUTCOME_UNAVAILABLE };
			actions_finish(c, &r);
			break;
		}
		payments_cod(req->cust->id, c->v.order_id, actions_payment_done, c);
		break;
	case MENU_ACTION_LOAD_ACCOUNT:
		payments_balance(req->cust->id, 0, actions_balance_loaded, c);
		break;
	case MENU_ACTION_CREDIT_QUOTE:
		payments_balance(req->cust->id, c->v.order_id, actions_balance_loaded, c);
		break;
	case MENU_ACTION_REPAY_VOUCHER:
		snprintf(key, sizeof(key), "%s:repay", req->key);
		actions_pay_voucher(c, req, key);
		break;
	case MENU_ACTION_REPAY_SLIP:
		snprintf(key, sizeof(key), "%s:repay_slip", req->key);
		payments_repay_slip(key, req->cust->id, g_cfg->slip_receiver, actions_payment_done, c);
		break;
	default: {
		struct actions_result r = { .outcome = MENU_OUTCOME_ERROR, .fatal = true };
		actions_finish(c, &r);
		break;
	}
	}
}
