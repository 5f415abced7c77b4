/* Cash on delivery from the back office (doc/back-office.md), confirmed by whoever holds the
 * cash, through spaza_staff_cod_settle (sql/019_cod_confirm.sql): the one body spazactl's
 * `order cod-paid` and the till API's POST /api/v1/orders/{id}/cod-payment run too, so an
 * order is paid once whoever confirms, however often.
 *
 *   GET  till/cod?order=N                        a retailer user: amount due, status (cod.h)
 *   POST till/cod {"order", "amount_cents"}      a retailer user took the cash at the till
 *   POST orders/cod-paid {"order"}               fulfilment, finance or the owner: the shop's
 *                                                courier handed the cash in
 *
 * A retailer's confirmation is its till's: id "web-cod-<order>" (a second click, a retry or a
 * second tab is the first answer) and the amount must be the amount due; the cash counts in
 * what that retailer owes the shop (settlement). The board's is the shop's own cash, confirmed
 * by the login. The database checks the session's role again; the customer's "paid" SMS comes
 * from the order's status change, as for every payment. Each attempt is an audit row. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include "cod.h"
#include "db.h"
#include "ledger.h"
#include "logging.h"
#include "money.h"
#include "office.h"

struct office_cod {
	struct office_call *c;
	int64_t order_id;
	bool board;	/* the orders board's (the shop's cash), else the till page's */
};

bool office_may_cod(const struct office_staff *who)
{
	return who->role == STAFF_ROLE_OWNER || who->role == STAFF_ROLE_FULFILMENT || who->role == STAFF_ROLE_FINANCE;
}

/* The order of a query or body; false after the 400. */
static bool office_cod_order(struct office_cod *k, const char *in)
{
	if (!in || cod_order_parse(in, strlen(in), &k->order_id) < 0) {
		office_error(k->c->req, 400, "not an order number");
		return false;
	}
	return true;
}

/* ---- the till page's lookup ---- */

static void office_cod_found(void *priv, const PGresult *res, int err)
{
	struct office_cod *k = priv;
	struct cod_order o;
	char msg[128];
	if (err || cod_read(res, &o) < 0)
		return office_error(k->c->req, 503, "the database is not answering: try again in a moment");
	if (!o.found)
		return office_error(k->c->req, 404, "no order with this number");
	if (!o.cod) {
		snprintf(msg, sizeof(msg), "order #%" PRId64 " is not to be paid cash on delivery: take no cash for it",
			 k->order_id);
		return office_error(k->c->req, 409, msg);
	}
	office_json(k->c->req, 200, json_pack("{sI ss sI sb sb sb ss?}", "order", (json_int_t)o.order_id, "order_status",
					      o.order_status, "amount_cents", (json_int_t)o.amount_cents, "payable",
					      o.payable, "confirmed", o.confirmed, "by_you", o.by_you, "payment_id",
					      o.payment_id));
}

void office_till_cod(struct office_call *c)
{
	struct office_cod *k = talloc_zero(c->req, struct office_cod);
	struct ledger_stmt st;
	k->c = c;
	if (!c->who.retailer_id)
		return office_error(c->req, 403, "only a retailer's staff take cash at a till");
	if (!office_cod_order(k, http_req_arg(c->req, "order")))
		return;
	cod_lookup_by_retailer(&st, c->who.retailer_id, k->order_id);
	db_read(st.stmt, st.nparams, st.params, office_cod_found, k);
}

/* ---- a confirmation, from either page ---- */

/* What the database answered, as the page shows it (into msg); the HTTP status. */
static unsigned office_cod_refusal(const struct office_cod *k, const struct ledger_result *r, char *msg, size_t len)
{
	int64_t n = k->order_id;
	switch (r->outcome) {
	case LEDGER_NOT_ALLOWED:
		snprintf(msg, len, "your role may not confirm cash on delivery");
		return 403;
	case LEDGER_NOT_FOUND:
		snprintf(msg, len, "no order with this number");
		return 404;
	case LEDGER_NOT_COD:
		snprintf(msg, len, "order #%" PRId64 " is not to be paid cash on delivery: take no cash for it", n);
		return 409;
	case LEDGER_ALREADY_PAID:
		if (r->text)
			snprintf(msg, len, "order #%" PRId64 " is paid already (cash taken by %s): take no cash", n, r->text);
		else
			snprintf(msg, len, "order #%" PRId64 " is paid already: take no cash", n);
		return 409;
	case LEDGER_NOT_PAYABLE:
		snprintf(msg, len, "order #%" PRId64 " is not awaiting payment (%s): take no cash", n,
			 r->detail ? r->detail : "cancelled");
		return 409;
	case LEDGER_WRONG_AMOUNT:
		snprintf(msg, len, "not the amount due: look the order up again");
		return 409;
	default:
		snprintf(msg, len, "order #%" PRId64 " cannot take cash on delivery now", n);
		return 409;
	}
}

static void office_cod_done(void *priv, const PGresult *res, int err)
{
	struct office_cod *k = priv;
	struct ledger_result r;
	char subject[40], action[64], after[160], msg[192], money[MONEY_BUF_LEN];
	if (err || ledger_result(res, &r) < 0)
		return office_error(k->c->req, 503, "the database is not answering: nothing was confirmed");
	snprintf(subject, sizeof(subject), "order %" PRId64, k->order_id);
	snprintf(action, sizeof(action), "%s %" PRId64, k->board ? "order cod-paid" : "till cod-paid", k->order_id);
	snprintf(after, sizeof(after), "{\"outcome\": \"%s\", \"cod_cents\": %" PRId64 "}", ledger_outcome_word(r.outcome),
		 r.amount_cents);
	office_audit(&k->c->who, action, subject, r.outcome == LEDGER_PAID, NULL, after);
	if (r.outcome != LEDGER_PAID) {
		unsigned status = office_cod_refusal(k, &r, msg, sizeof(msg));
		return office_error(k->c->req, status, msg);
	}
	money_format(money, sizeof(money), r.amount_cents);
	LOGP(DOFFICE, LOGL_NOTICE, "order %" PRId64 ": %s cash on delivery confirmed on the %s by %s (first: %s)\n",
	     k->order_id, money, k->board ? "orders board" : "till page", k->c->who.login, r.text ? r.text : "?");
	office_json(k->c->req, 200, json_pack("{ss sI sI ss? ss?}", "outcome", "paid", "order", (json_int_t)k->order_id,
					      "amount_cents", (json_int_t)r.amount_cents, "confirmed_by", r.text,
					      "order_status", r.detail));
}

static void office_cod_settle(struct office_call *c, bool board)
{
	struct office_cod *k = talloc_zero(c->req, struct office_cod);
	struct ledger_stmt st;
	json_int_t order = 0, amount = 0;
	k->c = c;
	k->board = board;
	/* the page's role first (403, the button is not shown); the database checks it again */
	if (board ? !office_may_cod(&c->who) : !c->who.retailer_id)
		return office_error(c->req, 403, board ? "your role may not confirm cash on delivery"
						       : "only a retailer's staff take cash at a till");
	if (board ? json_unpack(c->body, "{sI}", "order", &order) < 0
		  : json_unpack(c->body, "{sI sI}", "order", &order, "amount_cents", &amount) < 0 || amount < 1)
		return office_error(c->req, 400, board ? "give {\"order\"}" : "give {\"order\", \"amount_cents\"}");
	if (order < 1 || order > COD_ORDER_MAX)
		return office_error(c->req, 400, "not an order number");
	k->order_id = order;
	ledger_staff_cod_settle(&st, c->who.session, k->order_id, amount);
	db_write(st.stmt, st.nparams, st.params, office_cod_done, k);
}

void office_till_cod_pay(struct office_call *c)
{
	office_cod_settle(c, false);
}

void office_orders_cod_paid(struct office_call *c)
{
	office_cod_settle(c, true);
}
