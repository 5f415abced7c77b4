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
#include "loyalty.h"
#include "actions.h"
#include "catalog.h"
#include "care.h"
#include "cfg.h"
#include "crm.h"
#include "easypay.h"
#include "logging.h"
#include "luhn.h"
#include "orders.h"
#include "payments.h"
#include "pin_budget.h"
#include "secrets.h"
#include "sms_texts.h"
#include "stats.h"

struct actions_call {
	enum menu_action action;
	struct menu_vars v;
	bool went_on;	/* FIND_ORDER, see actions_req */
	char front[8], peer[48];	/* PAY_VOUCHER, see actions_req */
	struct customer *customer;	/* held by the caller until the callback: crm.c's record */
	int64_t cust;			/* care: the customer, their language and the hop's key for */
	enum sms_lang lang;		/* the confirmation SMS */
	char key[160];
	char lang_code[8];		/* CREATE_SLIP, REPAY_SLIP: the language of the slip's SMS */
	actions_cb cb;
	void *priv;
};

bool actions_may_commit(enum menu_action a)
{
	return a == MENU_ACTION_CREATE_ORDER || a == MENU_ACTION_PAY_VOUCHER || a == MENU_ACTION_PAY_CREDIT ||
	       a == MENU_ACTION_CREATE_SLIP || a == MENU_ACTION_CHECKOUT || a == MENU_ACTION_PLACE_ORDER ||
	       a == MENU_ACTION_CANCEL_ORDER || (a >= MENU_ACTION_CARE_NOT_DELIVERED && a <= MENU_ACTION_CARE_RATE) ||
	       a == MENU_ACTION_PAY_STORE_CREDIT || a == MENU_ACTION_CHOOSE_COD ||
	       a == MENU_ACTION_REPAY_VOUCHER || a == MENU_ACTION_REPAY_SLIP || a == MENU_ACTION_PAY_POINTS;
}

bool actions_is_payment(enum menu_action a)
{
	return a == MENU_ACTION_PAY_VOUCHER || a == MENU_ACTION_PAY_CREDIT || a == MENU_ACTION_CREATE_SLIP ||
	       a == MENU_ACTION_PAY_STORE_CREDIT || a == MENU_ACTION_CHOOSE_COD || a == MENU_ACTION_REPAY_VOUCHER ||
	       a == MENU_ACTION_REPAY_SLIP || a == MENU_ACTION_PAY_POINTS;
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
	if (id) {
		c->v.total_cents = total;
		crm_order_placed(c->customer, id, c->v.product_id, 1);
	}
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

static void actions_orders_paged(void *priv, const struct orders_row *rows, unsigned n, bool more, int err)
{
	struct actions_call *c = priv;
	c->v.orders_more = more;
	actions_orders_loaded(c, rows, n, err);
}

static void actions_order_found(void *priv, const struct orders_row *rows, unsigned n, int err)
{
	struct actions_call *c = priv;
	if (err)
		return actions_failed(c);
	struct actions_result r = { .outcome = MENU_OUTCOME_NOT_FOUND };
	if (n == 1) {
		c->v.order_id = rows[0].id;
		c->v.total_cents = rows[0].due_cents;	/* what paying it now takes (store credit spent) */
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

/* ---- the basket: the session's own, until checkout makes it one order ---- */

/* The basket's total at today's prices: the screens show it as {total}. */
static void basket_total(struct menu_vars *v)
{
	v->total_cents = 0;
	for (unsigned i = 0; i < v->n_basket; i++) {
		const struct catalog_product *p = catalog_product_by_id(g_catalog, v->basket[i].product_id);
		v->total_cents += p ? p->price_cents * v->basket[i].qty : 0;
	}
}

/* Add qty x product; a product already in the basket gets the quantities added (up to the
 * largest quantity an order line may have). */
static enum menu_outcome basket_add(struct menu_vars *v)
{
	unsigned i;
	for (i = 0; i < v->n_basket && v->basket[i].product_id != v->product_id; i++)
		;
	if (i == MENU_BASKET_MAX)
		return MENU_OUTCOME_FULL;
	if (i == v->n_basket)
		v->basket[v->n_basket++] = (struct menu_basket_line){ .product_id = v->product_id };
	v->basket[i].qty = v->basket[i].qty + v->qty > (int)g_cfg->qty_max ? (int)g_cfg->qty_max : v->basket[i].qty + v->qty;
	basket_total(v);
	return MENU_OUTCOME_OK;
}

static enum menu_outcome basket_change(struct menu_vars *v, bool remove)
{
	if (v->line >= 0 && (unsigned)v->line < v->n_basket) {
		if (remove) {
			memmove(&v->basket[v->line], &v->basket[v->line + 1],
				(v->n_basket - v->line - 1) * sizeof(v->basket[0]));
			v->n_basket--;
			v->line = -1;
		} else {
			v->basket[v->line].qty = v->qty;
		}
	}
	basket_total(v);
	return MENU_OUTCOME_OK;
}

static void actions_checked_out(void *priv, const struct orders_checkout_result *cr, int err)
{
	struct actions_call *c = priv;
	if (err == -EEXIST) {
		struct actions_result r = { .outcome = MENU_OUTCOME_ERROR, .conflict = true };
		return actions_finish(c, &r);
	}
	if (err)
		return actions_failed(c);
	struct actions_result r = { .outcome = MENU_OUTCOME_INVALID };
	switch (cr->outcome) {
	case ORDERS_CHECKOUT_OK:
		c->v.order_id = cr->id;
		c->v.total_cents = cr->total_cents;
		if (c->action == MENU_ACTION_CHECKOUT) {
			crm_order_placed(c->customer, cr->id, c->v.basket[0].product_id, c->v.n_basket);
			c->v.n_basket = 0;	/* the basket is the order now */
		} else {
			crm_order_placed(c->customer, cr->id, c->v.product_id, 1);
		}
		/* pay_with finds the order by the number typed: this one */
		snprintf(c->v.input, sizeof(c->v.input), "%" PRId64, cr->id);
		r.outcome = MENU_OUTCOME_OK;
		r.notified = true;	/* by its order_placed notification */
		r.order_created = cr->id;
		break;
	case ORDERS_CHECKOUT_OUT_OF_STOCK:
		c->v.product_id = cr->product_id;	/* {product}: the line that cannot be had */
		r.outcome = MENU_OUTCOME_OUT_OF_STOCK;
		break;
	case ORDERS_CHECKOUT_TOO_MANY:
		r.outcome = MENU_OUTCOME_TOO_MANY;
		break;
	case ORDERS_CHECKOUT_INVALID:
		break;
	}
	actions_finish(c, &r);
}

static void actions_address_found(void *priv, bool found, const char *address, const char *note, int err)
{
	struct actions_call *c = priv;
	if (err)
		return actions_failed(c);
	snprintf(c->v.address, sizeof(c->v.address), "%s", address);
	snprintf(c->v.note, sizeof(c->v.note), "%s", note);
	struct actions_result r = { .outcome = found ? MENU_OUTCOME_OK : MENU_OUTCOME_NOT_FOUND };
	actions_finish(c, &r);
}

static int method_index(const char *word)
{
	static const char *const words[] = {
#define METHOD(e, n) n,
#include "menu_nodes.def"
#undef METHOD
	};
	for (unsigned i = 0; i < ARRAY_SIZE(words); i++)
		if (!strcmp(words[i], word))
			return i;
	return -1;
}

/* "status|MM-DD HH:MI;..." into the history the screens render */
static void history_parse(struct menu_vars *v, const char *h)
{
	v->n_history = 0;
	while (*h && v->n_history < MENU_HISTORY_MAX) {
		const char *bar = strchr(h, '|'), *end = strchr(h, ';');
		if (!end)
			end = h + strlen(h);
		if (!bar || bar > end)
			break;
		char word[24];
		snprintf(word, sizeof(word), "%.*s", (int)(bar - h), h);
		v->history[v->n_history].status = order_status_index(word);
		snprintf(v->history[v->n_history].at, sizeof(v->history[0].at), "%.*s", (int)(end - bar - 1), bar + 1);
		v->n_history++;
		h = *end ? end + 1 : end;
	}
}

static void actions_detail_loaded(void *priv, bool found, const struct orders_detail *d, int err)
{
	struct actions_call *c = priv;
	if (err)
		return actions_failed(c);
	struct menu_vars *v = &c->v;
	struct actions_result r = { .outcome = MENU_OUTCOME_NOT_FOUND };
	if (found) {
		v->order_id = d->id;
		snprintf(v->input, sizeof(v->input), "%" PRId64, d->id);	/* for pay_with, as typed */
		v->total_cents = d->total_cents;
		v->status = d->status;
		v->method = method_index(d->method);
		snprintf(v->items, sizeof(v->items), "%s", d->items);
		menu_items_cut(v->items);
		history_parse(v, d->history);
		v->slip[0] = v->expiry[0] = '\0';
		if (d->slip[0]) {
			easypay_ref_group(v->slip, sizeof(v->slip), d->slip);
			snprintf(v->expiry, sizeof(v->expiry), "%s", d->slip_expiry);
		}
		r.outcome = d->status != ORDER_STATUS_AWAITING_PAYMENT ? MENU_OUTCOME_NOT_PAYABLE :
			    d->slip[0] ? MENU_OUTCOME_SLIP : MENU_OUTCOME_OK;
	}
	actions_finish(c, &r);
}

static void actions_order_cancelled(void *priv, bool cancelled, int status, int err)
{
	struct actions_call *c = priv;
	if (err)
		return actions_failed(c);
	c->v.status = cancelled ? ORDER_STATUS_CANCELLED : status;
	struct actions_result r = { .outcome = cancelled ? MENU_OUTCOME_OK : MENU_OUTCOME_NOT_PAYABLE };
	actions_finish(c, &r);
}

/* An order's lines become the basket, at today's prices; lines whose product left the
 * catalogue are left out (checkout judges the stock). */
static void actions_reorder_loaded(void *priv, const struct orders_row *rows, unsigned n, int err)
{
	struct actions_call *c = priv;
	if (err)
		return actions_failed(c);
	struct menu_vars *v = &c->v;
	v->n_basket = 0;
	for (unsigned i = 0; i < n && v->n_basket < MENU_BASKET_MAX; i++)
		if (catalog_product_by_id(g_catalog, rows[i].product_id))
			v->basket[v->n_basket++] = (struct menu_basket_line){ rows[i].product_id, rows[i].qty };
	basket_total(v);
	struct actions_result r = { .outcome = v->n_basket ? MENU_OUTCOME_OK : MENU_OUTCOME_NOT_FOUND };
	actions_finish(c, &r);
}

static void actions_customer_stored(void *priv, struct customer *cust, int err)
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
			payments_slip_sms(c->cust, c->lang_code, v->order_id, v->total_cents, v->slip, v->expiry);
		}
		break;
	case MENU_ACTION_REPAY_SLIP:
		if (r.outcome == MENU_OUTCOME_OK) {
			easypay_ref_group(v->slip, sizeof(v->slip), pr->slip);
			snprintf(v->expiry, sizeof(v->expiry), "%s", pr->expiry);
			v->amount_cents = pr->amount_cents;
			payments_slip_sms(c->cust, c->lang_code, 0, v->amount_cents, v->slip, v->expiry);
		}
		break;
	case MENU_ACTION_PAY_STORE_CREDIT:
	case MENU_ACTION_PAY_POINTS:
		v->amount_cents = pr->amount_cents;
		v->points = pr->amount_cents;	/* 1 point = 1 cent (sql/021) */
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
	/* paid whole: a first paid order puts the customer in a segment (find_order gave its first
	 * line's product) */
	if (r.notified)
		crm_order_paid(c->customer, c->v.product_id);
	actions_finish(c, &r);
}

/* ---- customer care (care.h) ---- */

/* The order in context, for a care screen: the customer's (CARE_ORDER), and delivered
 * (CARE_RATE_ORDER). */
static void actions_care_order_found(void *priv, const struct orders_row *rows, unsigned n, int err)
{
	struct actions_call *c = priv;
	if (err)
		return actions_failed(c);
	struct actions_result r = { .outcome = MENU_OUTCOME_NOT_FOUND };
	if (n == 1) {
		c->v.total_cents = rows[0].total_cents;
		c->v.status = rows[0].status;
		c->v.product_id = rows[0].product_id;
		c->v.qty = rows[0].qty;
		r.outcome = c->action == MENU_ACTION_CARE_RATE_ORDER && rows[0].status != ORDER_STATUS_DELIVERED
				    ? MENU_OUTCOME_NOT_DELIVERED : MENU_OUTCOME_OK;
	}
	actions_finish(c, &r);
}

/* Confirmed by SMS as well as on screen, in the customer's language, once per hop. */
static void actions_care_sms(struct actions_call *c, enum sms_text t, const struct sms_vars *v)
{
	char text[SMS_TEXT_BYTES], key[176];
	if (!g_sms_texts || sms_texts_render(g_sms_texts, t, c->lang, v, text, sizeof(text)) < 0)
		return;
	snprintf(key, sizeof(key), "%s:care-sms", c->key);
	care_sms(c->cust, text, key);
}

static void actions_care_done(void *priv, const struct care_result *cr, int err)
{
	struct actions_call *c = priv;
	if (err)
		return actions_failed(c);
	struct actions_result r = { .outcome = MENU_OUTCOME_OK, .notified = true };
	struct sms_vars v = { .order = c->v.order_id, .status = -1, .lang = -1, .ticket = cr->ticket,
			      .stars = atoi(c->v.input) };
	switch (cr->outcome) {
	case CARE_OPENED:
	case CARE_JOINED:
		c->v.ticket_id = cr->ticket;
		actions_care_sms(c, SMS_TEXT_CARE_ORDER_OPENED, &v);
		break;
	case CARE_RATED:
	case CARE_CHANGED:
		actions_care_sms(c, SMS_TEXT_RATED, &v);
		break;
	case CARE_NOT_DELIVERED:
		r = (struct actions_result){ .outcome = MENU_OUTCOME_NOT_DELIVERED };
		break;
	default:	/* not_found: the screen before checked the order; it changed hands? */
		r = (struct actions_result){ .outcome = MENU_OUTCOME_ERROR };
		break;
	}
	actions_finish(c, &r);
}

static void actions_care_open(struct actions_call *c, const struct actions_req *req, const char *kind)
{
	snprintf(c->key, sizeof(c->key), "%s:care", req->key);
	care_open(c->cust, c->v.order_id, kind, "ussd", NULL, c->key, actions_care_done, c);
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

/* My points: the balance sql/018 keeps in the ledger. */
static void actions_points_loaded(void *priv, int64_t points, int err)
{
	struct actions_call *c = priv;
	if (err)
		return actions_failed(c);
	struct actions_result r = { .outcome = MENU_OUTCOME_OK };
	c->v.points = points;
	actions_finish(c, &r);
}

/* A referral code typed on USSD: spaza_referral_enter()'s word, the outcome of the same name. */
static void actions_referral_entered(void *priv, const char *outcome, int err)
{
	struct actions_call *c = priv;
	static const struct { const char *word; enum menu_outcome o; } words[] = {
		{ "ok", MENU_OUTCOME_OK }, { "unknown_code", MENU_OUTCOME_UNKNOWN_CODE },
		{ "own_code", MENU_OUTCOME_OWN_CODE }, { "already", MENU_OUTCOME_ALREADY },
		{ "not_new", MENU_OUTCOME_NOT_NEW }, { "month_cap", MENU_OUTCOME_MONTH_CAP },
	};
	if (err)
		return actions_failed(c);
	struct actions_result r = { .outcome = MENU_OUTCOME_ERROR };
	for (unsigned i = 0; i < ARRAY_SIZE(words); i++)
		if (!strcmp(words[i].word, outcome))
			r.outcome = words[i].o;
	actions_finish(c, &r);
}

/* Promotions by SMS: load_consent goes on by what the customer takes (ok: they do, opted_out:
 * they do not); a change is ok once the consent is what the customer chose. */
static void actions_consent_done(void *priv, bool consent, int err)
{
	struct actions_call *c = priv;
	if (err)
		return actions_failed(c);
	struct actions_result r = { .outcome = consent ? MENU_OUTCOME_OK : MENU_OUTCOME_OPTED_OUT };
	if (c->action != MENU_ACTION_LOAD_CONSENT)
		r.outcome = consent == (c->action == MENU_ACTION_CONSENT_GIVE) ? MENU_OUTCOME_OK : MENU_OUTCOME_ERROR;
	actions_finish(c, &r);
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
	c->customer = req->cust;
	c->cust = req->cust->id;
	c->lang = sms_texts_lang(req->cust->lang);
	snprintf(c->key, sizeof(c->key), "%s", req->key);
	snprintf(c->lang_code, sizeof(c->lang_code), "%s", req->cust->lang);
	switch (req->action) {
	case MENU_ACTION_CREATE_ORDER:
		orders_create(req->cust->id, c->v.product_id, c->v.qty, req->key, actions_order_created, c);
		break;
	case MENU_ACTION_LOAD_ORDERS:
		orders_page(req->cust->id, req->screen->max_items, c->v.orders_offset, actions_orders_paged, c);
		break;
	case MENU_ACTION_BASKET_VIEW:
		basket_total(&c->v);
		/* fall through */
	case MENU_ACTION_BASKET_ADD:
	case MENU_ACTION_BASKET_SET:
	case MENU_ACTION_BASKET_REMOVE: {
		struct actions_result r = {
			.outcome = req->action == MENU_ACTION_BASKET_VIEW ? MENU_OUTCOME_OK :
				   req->action == MENU_ACTION_BASKET_ADD ? basket_add(&c->v) :
				   basket_change(&c->v, req->action == MENU_ACTION_BASKET_REMOVE) };
		actions_finish(c, &r);
		break;
	}
	case MENU_ACTION_LAST_ADDRESS:
		orders_last_address(req->cust->id, actions_address_found, c);
		break;
	case MENU_ACTION_CHECKOUT: {
		struct orders_row lines[MENU_BASKET_MAX];
		if (!c->v.n_basket) {
			struct actions_result r = { .outcome = MENU_OUTCOME_INVALID };
			actions_finish(c, &r);
			break;
		}
		for (unsigned i = 0; i < c->v.n_basket; i++)
			lines[i] = (struct orders_row){ .product_id = c->v.basket[i].product_id, .qty = c->v.basket[i].qty };
		orders_checkout(req->cust->id, req->key, lines, c->v.n_basket, c->v.address, c->v.note,
				g_cfg->order_unpaid_max, actions_checked_out, c);
		break;
	}
	case MENU_ACTION_PLACE_ORDER: {
		/* one line, no delivery address: the basket's checkout for "Buy" */
		struct orders_row line = { .product_id = c->v.product_id, .qty = c->v.qty };
		orders_checkout(req->cust->id, req->key, &line, 1, NULL, NULL, g_cfg->order_unpaid_max,
				actions_checked_out, c);
		break;
	}
	case MENU_ACTION_ORDER_DETAIL:
		orders_detail(c->v.order_id, req->cust->id, actions_detail_loaded, c);
		break;
	case MENU_ACTION_CANCEL_ORDER:
		orders_cancel_unpaid(c->v.order_id, req->cust->id, actions_order_cancelled, c);
		break;
	case MENU_ACTION_REORDER:
		orders_lines(c->v.order_id, req->cust->id, actions_reorder_loaded, c);
		break;
	case MENU_ACTION_FIND_ORDER:
		orders_find(strtoll(c->v.input, NULL, 10), req->cust->id, actions_order_found, c);
		break;
	case MENU_ACTION_SET_LANGUAGE:
		crm_set_lang(req->cust, req->menu->langs[c->v.new_lang], actions_customer_stored, c);
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
	case MENU_ACTION_CARE_ORDER:
	case MENU_ACTION_CARE_RATE_ORDER:
		orders_find(c->v.order_id, req->cust->id, actions_care_order_found, c);
		break;
	case MENU_ACTION_CARE_NOT_DELIVERED:
		actions_care_open(c, req, "not_delivered");
		break;
	case MENU_ACTION_CARE_WRONG_ITEM:
		actions_care_open(c, req, "wrong_item");
		break;
	case MENU_ACTION_CARE_CHARGED_TWICE:
		actions_care_open(c, req, "charged_twice");
		break;
	case MENU_ACTION_CARE_WANT_REFUND:
		actions_care_open(c, req, "want_refund");
		break;
	case MENU_ACTION_CARE_OTHER:
		actions_care_open(c, req, "other");
		break;
	case MENU_ACTION_CARE_RATE:
		snprintf(c->key, sizeof(c->key), "%s:rate", req->key);
		care_rate(c->cust, c->v.order_id, atoi(c->v.input), NULL, "ussd", actions_care_done, c);
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
	case MENU_ACTION_LOAD_POINTS:
		loyalty_points(req->cust->id, actions_points_loaded, c);
		break;
	case MENU_ACTION_SET_NAME:
		/* the menu's back key alone is "skip" on the ask-name screen (nav: false there) */
		crm_set_name(req->cust, strcmp(c->v.address, req->menu->key_back) ? c->v.address : "",
			     actions_customer_stored, c);
		break;
	case MENU_ACTION_PAY_POINTS:
		snprintf(key, sizeof(key), "%s:points", req->key);
		payments_points(key, req->cust->id, c->v.order_id, actions_payment_done, c);
		break;
	case MENU_ACTION_ENTER_REFERRAL:
		loyalty_referral_enter(req->cust->id, c->v.input, actions_referral_entered, c);
		break;
	case MENU_ACTION_LOAD_CONSENT:
		crm_consent(req->cust, actions_consent_done, c);
		break;
	case MENU_ACTION_CONSENT_GIVE:
	case MENU_ACTION_CONSENT_WITHDRAW:
		crm_set_consent(req->cust, req->action == MENU_ACTION_CONSENT_GIVE, actions_consent_done, c);
		break;
	default: {
		struct actions_result r = { .outcome = MENU_OUTCOME_ERROR, .fatal = true };
		actions_finish(c, &r);
		break;
	}
	}
}
