/* The JSON under /admin/api/ the back office's pages use (office.h): each answer is one or a
 * few statements of db_stmts.def, read through db.c like any hop's, and every change goes
 * through the same domain statement spazactl runs, with its audit row.
 *
 *   GET  today                      today's orders, revenue, payments by method, SMS, alarms
 *   GET  orders?status=&msisdn=&before=&limit=   one page of the board, newest first
 *   POST orders/status {"ids": [..], "status": "shipped"|"delivered"}   one or many
 *   POST orders/cod-paid {"order"}  a courier's cash on delivery handed in (office_cod.c)
 *   GET  money/settlement?days=N    what each retailer's tills took (slips and cash on delivery: what it
 *                                   owes the shop), by day
 *   GET  money/ledger-check         spaza_ledger_check(): the violations, none when it holds
 *   GET  money/retailers            retailers and their till key ids (never a secret)
 * The till page's and Customer 360's are in office_till.c and office_customer.c; the CRM's
 * (Segments, Campaigns, Funnel) in office_crm.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include "db.h"
#include "front_box.h"
#include "kannel_send.h"
#include "msisdn.h"
#include "cfg.h"
#include "office.h"
#include "orders.h"
#include "outbox.h"
#include "pin_budget.h"
#include "session.h"
#include "stats.h"

#define OFFICE_PAGE_DEFAULT 50
#define OFFICE_PAGE_MAX 200
#define OFFICE_BULK_MAX 200	/* orders one bulk change may name */

static json_int_t office_int(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* ---- Today: three reads at once, answered when the last is in ---- */

enum { TODAY_ORDERS, TODAY_PAYMENTS, TODAY_SMS, TODAY_CARE, TODAY_N };

struct office_today {
	struct office_call *c;
	json_t *out;
	unsigned pending;
	bool failed;
};

static void office_today_part(struct office_today *t, int part, const PGresult *res)
{
	switch (part) {
	case TODAY_ORDERS:
		json_object_set_new(t->out, "orders", json_pack("{sI sI sI sI}", "placed", office_int(res, 0, 0),
								   "placed_cents", office_int(res, 0, 1), "paid",
								   office_int(res, 0, 2), "revenue_cents",
								   office_int(res, 0, 3)));
		break;
	case TODAY_PAYMENTS: {
		json_t *a = json_array();
		for (int i = 0; i < PQntuples(res); i++)
			json_array_append_new(a, json_pack("{ss sI sI}", "method", PQgetvalue(res, i, 0), "count",
							   office_int(res, i, 1), "cents", office_int(res, i, 2)));
		json_object_set_new(t->out, "payments", a);
		break;
	}
	case TODAY_SMS: {
		json_int_t done = office_int(res, 0, 1), delivered = office_int(res, 0, 2);
		json_object_set_new(t->out, "sms", json_pack("{sI sI sI sI si}", "queued", office_int(res, 0, 0),
								"sent", done, "delivered", delivered, "failed",
								office_int(res, 0, 3), "delivery_pct",
								done ? (int)(100 * delivered / done) : 100));
		break;
	}
	case TODAY_CARE:	/* open tickets past their clock, as `care list --open --breached` counts them */
		json_object_set_new(t->out, "tickets", json_pack("{sI sI sI sI}", "open", office_int(res, 0, 0),
								 "first_response_late", office_int(res, 0, 1),
								 "resolution_late", office_int(res, 0, 2), "late",
								 office_int(res, 0, 3)));
		break;
	}
}

struct office_today_req {
	struct office_today *t;
	int part;
};

static void office_today_done(void *priv, const PGresult *res, int err)
{
	struct office_today_req *r = priv;
	struct office_today *t = r->t;
	if (err)
		t->failed = true;
	else
		office_today_part(t, r->part, res);
	if (--t->pending)
		return;
	if (t->failed) {
		json_decref(t->out);
		office_error(t->c->req, 503, "the database is not answering: try again in a moment");
		return;
	}
	office_json(t->c->req, 200, t->out);
}

static void office_today(struct office_call *c)
{
	static const enum db_stmt stmts[TODAY_N] = { DB_OFFICE_ORDERS_SINCE, DB_OFFICE_PAYMENTS_SINCE, DB_OFFICE_SMS_SINCE,
						      DB_OFFICE_CARE_OVERDUE };
	char frt[16], resol[16];
	struct office_today *t = talloc_zero(c->req, struct office_today);
	const char *box = front_box_state();
	unsigned paused = pin_budget_paused();
	t->c = c;
	/* what spazad knows itself, no query: the alarms and what is live */
	t->out = json_pack("{si si s{ss ss ss si}}", "ussd_live", (int)session_count(), "sms_in_flight",
			   (int)outbox_in_flight(), "alarms", "database", db_is_up() ? "ok" : "down", "kannel",
			   kannel_send_enabled() ? "configured" : "off", "box", box ? box : "off",
			   "pin_budget_paused_s", (int)paused);
	/* "today" is midnight in the database's time zone: the shop's day, as its reports count it */
	const char *params[] = { "today" };
	snprintf(frt, sizeof(frt), "%u", g_cfg->care_first_response_min);
	snprintf(resol, sizeof(resol), "%u", g_cfg->care_resolution_h);
	const char *clocks[] = { frt, resol };
	t->pending = TODAY_N;
	for (int i = 0; i < TODAY_N; i++) {
		struct office_today_req *r = talloc_zero(t, struct office_today_req);
		r->t = t;
		r->part = i;
		if (i == TODAY_CARE)
			db_read(stmts[i], 2, clocks, office_today_done, r);
		else
			db_read(stmts[i], 1, params, office_today_done, r);
	}
}

/* ---- Orders ---- */

struct office_orders {
	struct office_call *c;
	json_t *out;
	unsigned pending;
	bool failed;
	unsigned limit;
};

static void office_orders_reply(struct office_orders *o)
{
	if (--o->pending)
		return;
	if (o->failed) {
		json_decref(o->out);
		office_error(o->c->req, 503, "the database is not answering: try again in a moment");
		return;
	}
	office_json(o->c->req, 200, o->out);
}

/* Finance sees the board for cash on delivery (staff_roles.def); moving goods is the others'. */
static bool office_may_fulfil(const struct office_staff *who)
{
	return who->role != STAFF_ROLE_FINANCE;
}

static void office_orders_page(void *priv, const PGresult *res, int err)
{
	struct office_orders *o = priv;
	if (err) {
		o->failed = true;
		return office_orders_reply(o);
	}
	json_t *a = json_array();
	int n = PQntuples(res);
	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{sI ss ss ss sI sI ss ss ss sb sI}", "id", office_int(res, i, 0),
						   "created", PQgetvalue(res, i, 1), "msisdn", PQgetvalue(res, i, 2),
						   "status", PQgetvalue(res, i, 3), "total_cents", office_int(res, i, 4),
						   "qty", office_int(res, i, 5), "product", PQgetvalue(res, i, 6),
						   "delivery_address", PQgetvalue(res, i, 7), "delivery_note",
						   PQgetvalue(res, i, 8), "cod", !strcmp(PQgetvalue(res, i, 9), "t"),
						   "due_cents", office_int(res, i, 10)));
	json_object_set_new(o->out, "orders", a);
	/* the board shows "Cash received" and the status change to those who may use them */
	json_object_set_new(o->out, "may_confirm_cash", json_boolean(office_may_cod(&o->c->who)));
	json_object_set_new(o->out, "may_change_status", json_boolean(office_may_fulfil(&o->c->who)));
	/* the next page starts below the last id shown; a short page is the last */
	if (n == (int)o->limit)
		json_object_set_new(o->out, "next_before", json_integer(office_int(res, n - 1, 0)));
	else
		json_object_set_new(o->out, "next_before", json_null());
	office_orders_reply(o);
}

static void office_orders_counts(void *priv, const PGresult *res, int err)
{
	struct office_orders *o = priv;
	if (err) {
		o->failed = true;
		return office_orders_reply(o);
	}
	json_t *counts = json_object();
	for (int i = 0; i < _ORDER_STATUS_COUNT; i++)
		json_object_set_new(counts, order_status_names[i], json_integer(0));
	for (int i = 0; i < PQntuples(res); i++)
		json_object_set_new(counts, PQgetvalue(res, i, 0), json_integer(office_int(res, i, 1)));
	json_object_set_new(o->out, "counts", counts);
	office_orders_reply(o);
}

static void office_orders(struct office_call *c)
{
	struct http_req *req = c->req;
	const char *status = http_req_arg(req, "status"), *number = http_req_arg(req, "msisdn");
	const char *before = http_req_arg(req, "before"), *limit = http_req_arg(req, "limit");
	char e164[MSISDN_BUF_LEN], lim[16];
	if (status && !*status)
		status = NULL;
	if (number && !*number)
		number = NULL;
	if (before && !*before)
		before = NULL;
	if (status && order_status_index(status) < 0)
		return office_error(req, 400, "unknown status");
	if (number && msisdn_normalize(number, g_cfg->country_code, e164, sizeof(e164)) < 0)
		return office_error(req, 400, "not a phone number");
	if (before && (strspn(before, "0123456789") != strlen(before) || strlen(before) > 18))
		return office_error(req, 400, "before: an order number");
	unsigned n = limit ? (unsigned)strtoul(limit, NULL, 10) : OFFICE_PAGE_DEFAULT;
	if (limit && (strspn(limit, "0123456789") != strlen(limit) || n < 1 || n > OFFICE_PAGE_MAX))
		return office_error(req, 400, "limit: 1 to 200");
	snprintf(lim, sizeof(lim), "%u", n);
	struct office_orders *o = talloc_zero(req, struct office_orders);
	o->c = c;
	o->limit = n;
	o->out = json_object();
	o->pending = 2;
	const char *params[] = { status, number ? e164 : NULL, before, lim };
	db_read(DB_OFFICE_ORDERS_PAGE, 4, params, office_orders_page, o);
	db_read(DB_OFFICE_ORDER_COUNTS, 0, NULL, office_orders_counts, o);
}

/* One status change of a bulk change: ORDER_FULFIL, as `spazactl order status` runs it. */
struct office_fulfil {
	struct office_bulk *b;
	int64_t id;
};

struct office_bulk {
	struct office_call *c;
	const char *status;
	json_t *done, *refused;
	unsigned pending;
	bool failed;
};

static void office_fulfil_done(void *priv, const PGresult *res, int err)
{
	struct office_fulfil *f = priv;
	struct office_bulk *b = f->b;
	char subject[40], before[64], after[64];
	snprintf(subject, sizeof(subject), "order %" PRId64, f->id);
	if (err)
		b->failed = true;
	else if (PQntuples(res) == 1) {
		snprintf(before, sizeof(before), "{\"status\": \"%s\"}", PQgetvalue(res, 0, 1));
		snprintf(after, sizeof(after), "{\"status\": \"%s\"}", b->status);
		char action[64];
		snprintf(action, sizeof(action), "order status %" PRId64 " %s", f->id, b->status);
		office_audit(&b->c->who, action, subject, true, before, after);
		json_array_append_new(b->done, json_integer(f->id));
	} else
		json_array_append_new(b->refused, json_integer(f->id));
	if (--b->pending)
		return;
	if (b->failed) {
		json_decref(b->done);
		json_decref(b->refused);
		return office_error(b->c->req, 503, "the database is not answering: nothing was changed");
	}
	office_json(b->c->req, 200, json_pack("{ss so so}", "status", b->status, "changed", b->done, "refused", b->refused));
}

static void office_orders_status(struct office_call *c)
{
	const char *status = NULL;
	json_t *ids = NULL;
	if (!office_may_fulfil(&c->who))
		return office_error(c->req, 403, "your role confirms cash on the board; fulfilment ships and delivers");
	if (json_unpack(c->body, "{so ss}", "ids", &ids, "status", &status) < 0 || !json_is_array(ids) ||
	    !json_array_size(ids) || json_array_size(ids) > OFFICE_BULK_MAX)
		return office_error(c->req, 400, "give {\"ids\": [order numbers, up to 200], \"status\": ...}");
	int st = order_status_index(status);
	/* money decides paid and awaiting payment, the ledger cancels: staff ship and deliver */
	if (st != ORDER_STATUS_SHIPPED && st != ORDER_STATUS_DELIVERED)
		return office_error(c->req, 400, "the board sets shipped or delivered");
	size_t i;
	json_t *v;
	json_array_foreach(ids, i, v)
		if (!json_is_integer(v) || json_integer_value(v) < 1)
			return office_error(c->req, 400, "ids: order numbers");
	struct office_bulk *b = talloc_zero(c->req, struct office_bulk);
	b->c = c;
	b->status = order_status_names[st];
	b->done = json_array();
	b->refused = json_array();
	b->pending = json_array_size(ids);
	/* all of them go to the database in one turn, so in one transaction (db.h) */
	json_array_foreach(ids, i, v) {
		struct office_fulfil *f = talloc_zero(b, struct office_fulfil);
		char id[24];
		f->b = b;
		f->id = json_integer_value(v);
		snprintf(id, sizeof(id), "%" PRId64, f->id);
		const char *params[] = { id, b->status };
		db_write(DB_ORDER_FULFIL, 2, params, office_fulfil_done, f);
	}
}

/* ---- Money: settlement per retailer and day ---- */

static void office_settlement_done(void *priv, const PGresult *res, int err)
{
	struct office_call *c = priv;
	if (err)
		return office_error(c->req, 503, "the database is not answering: try again in a moment");
	json_t *a = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(a, json_pack("{ss sI ss sI sI sI sI}", "day", PQgetvalue(res, i, 0), "retailer_id",
						   office_int(res, i, 1), "retailer", PQgetvalue(res, i, 2), "payments",
						   office_int(res, i, 3), "owed_cents", office_int(res, i, 4),
						   "cod_payments", office_int(res, i, 5), "cod_cents", office_int(res, i, 6)));
	office_json(c->req, 200, json_pack("{so}", "settlement", a));
}

/* ?days=N (1-90, default 7) */
static void office_settlement(struct office_call *c)
{
	const char *d = http_req_arg(c->req, "days");
	char n[8];
	unsigned days = d ? (unsigned)strtoul(d, NULL, 10) : 7;
	if (d && (strspn(d, "0123456789") != strlen(d) || days < 1 || days > 90))
		return office_error(c->req, 400, "days: 1 to 90");
	snprintf(n, sizeof(n), "%u", days);
	const char *params[] = { NULL, n };
	db_read(DB_OFFICE_SETTLEMENT, 2, params, office_settlement_done, c);
}

/* ---- Money: the ledger's invariants, the retailers' keys ---- */

static void office_ledger_check_done(void *priv, const PGresult *res, int err)
{
	struct office_call *c = priv;
	if (err)
		return office_error(c->req, 503, "the database is not answering: try again in a moment");
	json_t *a = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(a, json_pack("{ss ss}", "invariant", PQgetvalue(res, i, 0), "detail",
						   PQgetvalue(res, i, 1)));
	office_json(c->req, 200, json_pack("{sb so}", "ok", !PQntuples(res), "violations", a));
}

/* `spazactl ledger check`'s proof, spaza_ledger_check(): every violation, none when it holds */
static void office_ledger_check(struct office_call *c)
{
	db_read(DB_LEDGER_CHECK, 0, NULL, office_ledger_check_done, c);
}

static void office_retailers_done(void *priv, const PGresult *res, int err)
{
	struct office_call *c = priv;
	if (err)
		return office_error(c->req, 503, "the database is not answering: try again in a moment");
	json_t *a = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		const char *v[5];
		for (int k = 0; k < 5; k++)
			v[k] = PQgetisnull(res, i, k) ? NULL : PQgetvalue(res, i, k);
		json_array_append_new(a, json_pack("{sI ss ss? ss? ss?}", "id", office_int(res, i, 0), "name", v[1],
						   "key_id", v[2], "created", v[3], "revoked", v[4]));
	}
	office_json(c->req, 200, json_pack("{so}", "retailers", a));
}

static void office_retailers(struct office_call *c)
{
	db_read(DB_OFFICE_RETAILER_KEYS, 0, NULL, office_retailers_done, c);
}

const struct office_route office_routes[] = {
	{ "GET", "today", STAFF_PAGE_TODAY, office_today },
	{ "GET", "orders", STAFF_PAGE_ORDERS, office_orders },
	{ "POST", "orders/status", STAFF_PAGE_ORDERS, office_orders_status },
	{ "GET", "till/slip", STAFF_PAGE_TILL, office_till_slip },
	{ "POST", "till/pay", STAFF_PAGE_TILL, office_till_pay },
	{ "POST", "till/reverse", STAFF_PAGE_TILL, office_till_reverse },
	{ "GET", "till/cod", STAFF_PAGE_TILL, office_till_cod },
	{ "POST", "till/cod", STAFF_PAGE_TILL, office_till_cod_pay },
	{ "POST", "orders/cod-paid", STAFF_PAGE_ORDERS, office_orders_cod_paid },
	{ "GET", "till/takings", STAFF_PAGE_TILL, office_till_takings },
	{ "GET", "till/receipt", STAFF_PAGE_TILL, office_till_receipt },
	{ "GET", "customer", STAFF_PAGE_CUSTOMER, office_customer },
	{ "GET", "customer/find", STAFF_PAGE_CUSTOMER, office_customer_find },
	{ "POST", "customer/sms", STAFF_PAGE_CUSTOMER, office_customer_sms },
	{ "POST", "customer/credit-limit", STAFF_PAGE_MONEY, office_customer_credit },
	{ "GET", "money/settlement", STAFF_PAGE_MONEY, office_settlement },
	{ "GET", "money/ledger-check", STAFF_PAGE_MONEY, office_ledger_check },
	{ "GET", "money/retailers", STAFF_PAGE_MONEY, office_retailers },
	{ "POST", "money/vouchers", STAFF_PAGE_MONEY, office_vouchers_issue },
	{ "POST", "money/retailer", STAFF_PAGE_MONEY, office_retailer_add },
	{ "POST", "money/retailer-key", STAFF_PAGE_MONEY, office_retailer_key },
	{ "POST", "phone/hop", STAFF_PAGE_PHONE, office_phone_hop },
	{ "GET", "phone/inbox", STAFF_PAGE_PHONE, office_phone_inbox },
	{ "POST", "catalogue/check", STAFF_PAGE_CATALOGUE, office_catalogue_check },
	{ "GET", "catalogue/products", STAFF_PAGE_CATALOGUE, office_catalogue_products },
	{ "POST", "catalogue/import", STAFF_PAGE_CATALOGUE, office_catalogue_import },
	{ "POST", "catalogue/product", STAFF_PAGE_CATALOGUE, office_catalogue_product },
	{ "POST", "customer/refund", STAFF_PAGE_CUSTOMER, office_customer_refund },
	{ "POST", "customer/unlock", STAFF_PAGE_CUSTOMER, office_customer_unlock },
	{ "POST", "customer/note", STAFF_PAGE_CUSTOMER, office_customer_note },
	{ "GET", "care/tickets", STAFF_PAGE_CARE, office_care_tickets },
	{ "GET", "care/ticket", STAFF_PAGE_CARE, office_care_ticket },
	{ "POST", "care/reply", STAFF_PAGE_CARE, office_care_reply },
	{ "POST", "care/state", STAFF_PAGE_CARE, office_care_state },
	{ "POST", "care/dc-refund", STAFF_PAGE_CARE, office_care_dc_refund },
	{ "GET", "segments", STAFF_PAGE_SEGMENTS, office_segments },
	{ "GET", "segments/members", STAFF_PAGE_SEGMENTS, office_segment_members },
	{ "POST", "segments/define", STAFF_PAGE_SEGMENTS, office_segment_define },
	{ "GET", "campaigns", STAFF_PAGE_CAMPAIGNS, office_campaigns },
	{ "GET", "campaigns/preview", STAFF_PAGE_CAMPAIGNS, office_campaign_preview },
	{ "POST", "campaigns/create", STAFF_PAGE_CAMPAIGNS, office_campaign_create },
	{ "POST", "campaigns/state", STAFF_PAGE_CAMPAIGNS, office_campaign_state },
	{ "GET", "funnel", STAFF_PAGE_FUNNEL, office_funnel },
	{ .path = NULL },
};
