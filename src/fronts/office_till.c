/* The till page's JSON (a retailer user's, office.h): a slip as a till sees it, a cash payment
 * and its reversal through the till API's own ledger statements (spaza_slip_pay/_reverse: one
 * payment per slip, a repeat is the first answer), and the day's takings.
 *
 *   GET  till/slip?ref=REF                 amount due, status, expiry (slip.c)
 *   POST till/pay {"ref", "amount_cents"}  the cash taken, under the retailer's active key
 *   POST till/reverse {"ref"}              within the ledger's rules (not once shipped)
 *   GET  till/takings                      today's payments, cash on delivery and what the retailer owes
 * (Cash on delivery by order number, till/cod, is office_cod.c's.)
 *   GET  till/receipt?ref=REF&format=pdf|png   the 80 mm receipt of this retailer's payment
 *
 * The page's payment id is "web-" and the slip number: a double click, a retry after a lost
 * answer or a second tab is the same payment, never a second one. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <talloc.h>
#include "db.h"
#include "ledger.h"
#include "logging.h"
#include "office.h"
#include "receipt.h"
#include "slip.h"

struct office_till {
	struct office_call *c;
	char ref[EASYPAY_REF_BUF];
	char payment_id[8 + EASYPAY_REF_BUF];
	int64_t amount_cents;
	bool reverse;
	enum barcode_out fmt;	/* a receipt's */
	char *shop;
};

/* The reference a request names (a scanner's 16 digits too); false after a 400. */
static bool office_till_ref(struct office_call *c, const char *in, char ref[EASYPAY_REF_BUF])
{
	int rc = in ? slip_ref_parse(in, strlen(in), ref) : -EINVAL;
	if (rc == -EBADMSG)
		office_error(c->req, 400, "the check digit is wrong: a typing mistake? Type the number again");
	else if (rc < 0)
		office_error(c->req, 400, "not a slip number (15 digits starting with 9)");
	return rc == 0;
}

static json_t *office_slip_json(const struct slip *s)
{
	return json_pack("{ss ss? sI ss? sI ss? ss? sb}", "ref", s->ref, "status", s->status_word, "amount_cents",
			 (json_int_t)s->amount_cents, "expires_at", s->expires_at, "order", (json_int_t)s->order_id,
			 "order_status", s->order_status, "payment_id", s->payment_id, "payable", slip_payable(s));
}

static void office_till_found(void *priv, const PGresult *res, int err)
{
	struct office_till *t = priv;
	struct slip s;
	if (err || slip_read(res, &s) < 0)
		return office_error(t->c->req, 503, "the database is not answering: try again in a moment");
	if (!s.found)
		return office_error(t->c->req, 404, "no slip with this number");
	office_json(t->c->req, 200, office_slip_json(&s));
}

void office_till_slip(struct office_call *c)
{
	struct office_till *t = talloc_zero(c->req, struct office_till);
	struct ledger_stmt st;
	t->c = c;
	if (!office_till_ref(c, http_req_arg(c->req, "ref"), t->ref))
		return;
	slip_lookup(&st, NULL, t->ref);
	db_read(st.stmt, st.nparams, st.params, office_till_found, t);
}

/* What the ledger answered, as the page shows it. */
static const char *office_till_refusal(enum ledger_outcome o)
{
	switch (o) {
	case LEDGER_UNKNOWN_SLIP: return "no slip with this number";
	case LEDGER_EXPIRED: return "this slip has expired: the customer makes a new one by USSD";
	case LEDGER_VOIDED: return "this slip is void (its order was cancelled or paid another way)";
	case LEDGER_ALREADY_PAID: case LEDGER_PAID_BY_OTHER: return "this slip is paid already";
	case LEDGER_WRONG_AMOUNT: return "not the amount due: take exactly the amount on the slip";
	case LEDGER_SHIPPED: return "the order has shipped: too late to reverse";
	case LEDGER_UNKNOWN_PAYMENT: return "no payment on this slip from this page to reverse";
	case LEDGER_UNKNOWN_KEY: return "your shop has no active till key: ask the owner to make one";
	default: return "the slip cannot take this now";
	}
}

static void office_till_money_done(void *priv, const PGresult *res, int err)
{
	struct office_till *t = priv;
	struct ledger_result r;
	char subject[48], action[96], after[96];
	if (err || ledger_result(res, &r) < 0)
		return office_error(t->c->req, 503, "the database is not answering: nothing was taken");
	enum ledger_outcome ok = t->reverse ? LEDGER_REVERSED : LEDGER_PAID;
	snprintf(subject, sizeof(subject), "slip %s", t->ref);
	snprintf(action, sizeof(action), "till %s %s", t->reverse ? "reverse" : "pay", t->ref);
	snprintf(after, sizeof(after), "{\"outcome\": \"%s\", \"amount_cents\": %" PRId64 "}",
		 ledger_outcome_word(r.outcome), r.amount_cents);
	office_audit(&t->c->who, action, subject, r.outcome == ok, NULL, after);
	if (r.outcome != ok)
		return office_error(t->c->req, 409, office_till_refusal(r.outcome));
	LOGP(DOFFICE, LOGL_NOTICE, "slip %s %s on the till page by %s\n", t->ref, ledger_outcome_word(r.outcome),
	     t->c->who.login);
	office_json(t->c->req, 200, json_pack("{ss ss sI sI ss}", "outcome", ledger_outcome_word(r.outcome), "ref",
					      t->ref, "amount_cents", (json_int_t)r.amount_cents, "order",
					      (json_int_t)r.id, "payment_id", t->payment_id));
}

static void office_till_key(void *priv, const PGresult *res, int err)
{
	struct office_till *t = priv;
	struct ledger_stmt st;
	if (err || PQntuples(res) != 1)
		return office_error(t->c->req, 503, "the database is not answering: nothing was taken");
	if (PQgetisnull(res, 0, 0))
		return office_error(t->c->req, 409, office_till_refusal(LEDGER_UNKNOWN_KEY));
	const char *key = PQgetvalue(res, 0, 0);
	if (t->reverse)
		ledger_till_reverse(&st, key, t->payment_id, t->ref);
	else
		ledger_till_pay(&st, key, t->payment_id, t->ref, t->amount_cents);
	db_write(st.stmt, st.nparams, st.params, office_till_money_done, t);
}

static void office_till_money(struct office_call *c, bool reverse)
{
	struct office_till *t = talloc_zero(c->req, struct office_till);
	const char *ref = NULL;
	json_int_t amount = 0;
	char rid[16];
	t->c = c;
	t->reverse = reverse;
	if (!c->who.retailer_id)
		return office_error(c->req, 403, "only a retailer's staff take cash at a till");
	if (reverse ? json_unpack(c->body, "{ss}", "ref", &ref) < 0
		    : json_unpack(c->body, "{ss sI}", "ref", &ref, "amount_cents", &amount) < 0 || amount < 1)
		return office_error(c->req, 400, reverse ? "give {\"ref\"}" : "give {\"ref\", \"amount_cents\"}");
	if (!office_till_ref(c, ref, t->ref))
		return;
	t->amount_cents = amount;
	snprintf(t->payment_id, sizeof(t->payment_id), "web-%s", t->ref);
	snprintf(rid, sizeof(rid), "%d", c->who.retailer_id);
	const char *params[] = { rid };
	db_read(DB_OFFICE_RETAILER_KEY, 1, params, office_till_key, t);
}

void office_till_pay(struct office_call *c)
{
	office_till_money(c, false);
}

void office_till_reverse(struct office_call *c)
{
	office_till_money(c, true);
}

static void office_till_takings_done(void *priv, const PGresult *res, int err)
{
	struct office_call *c = priv;
	if (err || PQntuples(res) != 1)
		return office_error(c->req, 503, "the database is not answering: try again in a moment");
	json_int_t cents = strtoll(PQgetvalue(res, 0, 1), NULL, 10), cod = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
	/* the cash the till took is the shop's, slips and cash on delivery alike: the retailer owes
	 * it until settled */
	office_json(c->req, 200, json_pack("{si sI si si sI sI}", "payments", atoi(PQgetvalue(res, 0, 0)), "cents", cents,
					   "reversed", atoi(PQgetvalue(res, 0, 2)), "cod_payments",
					   atoi(PQgetvalue(res, 0, 3)), "cod_cents", cod, "owed_cents", cents + cod));
}

void office_till_takings(struct office_call *c)
{
	char rid[16];
	if (!c->who.retailer_id)
		return office_error(c->req, 403, "only a retailer's staff have takings");
	snprintf(rid, sizeof(rid), "%d", c->who.retailer_id);
	const char *params[] = { rid, "today" };
	db_read(DB_OFFICE_TILL_TAKINGS, 2, params, office_till_takings_done, c);
}

/* ---- the receipt ---- */

static void office_till_receipt_slip(void *priv, const PGresult *res, int err)
{
	struct office_till *t = priv;
	struct slip s;
	char printed[32];
	uint8_t *out;
	size_t len;
	if (err || slip_read(res, &s) < 0)
		return office_error(t->c->req, 503, "the database is not answering: try again in a moment");
	/* a receipt for the cash this retailer took, never for another's */
	if (!s.found || s.status != SLIP_PAID || !s.paid_by_key)
		return office_error(t->c->req, 404, "no payment of your shop on this slip");
	time_t now = time(NULL);
	strftime(printed, sizeof(printed), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	struct receipt r = { .shop = t->shop, .ref = s.ref, .order_id = s.order_id, .amount_cents = s.amount_cents,
			     .payment_id = s.payment_id, .cashier = t->c->who.login, .printed = printed };
	if (receipt_render(t, &r, t->fmt, &out, &len) < 0)
		return office_error(t->c->req, 500, "the receipt could not be drawn");
	http_reply_header(t->c->req, "Cache-Control", "no-store");
	http_reply(t->c->req, 200, t->fmt == BARCODE_OUT_PDF ? "application/pdf" : "image/png", (const char *)out, len);
}

static void office_till_receipt_key(void *priv, const PGresult *res, int err)
{
	struct office_till *t = priv;
	struct ledger_stmt st;
	if (err || PQntuples(res) != 1)
		return office_error(t->c->req, 503, "the database is not answering: try again in a moment");
	if (PQgetisnull(res, 0, 0))
		return office_error(t->c->req, 409, office_till_refusal(LEDGER_UNKNOWN_KEY));
	t->shop = talloc_strdup(t, PQgetvalue(res, 0, 1));
	slip_lookup(&st, talloc_strdup(t, PQgetvalue(res, 0, 0)), t->ref);
	db_read(st.stmt, st.nparams, st.params, office_till_receipt_slip, t);
}

void office_till_receipt(struct office_call *c)
{
	struct office_till *t = talloc_zero(c->req, struct office_till);
	const char *format = http_req_arg(c->req, "format");
	char rid[16];
	t->c = c;
	if (!c->who.retailer_id)
		return office_error(c->req, 403, "only a retailer's staff print receipts");
	if (format && strcmp(format, "pdf") && strcmp(format, "png"))
		return office_error(c->req, 400, "format: pdf or png");
	t->fmt = format && !strcmp(format, "png") ? BARCODE_OUT_PNG : BARCODE_OUT_PDF;
	if (!office_till_ref(c, http_req_arg(c->req, "ref"), t->ref))
		return;
	snprintf(rid, sizeof(rid), "%d", c->who.retailer_id);
	const char *params[] = { rid };
	db_read(DB_OFFICE_RETAILER_KEY, 1, params, office_till_receipt_key, t);
}
