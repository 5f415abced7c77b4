/* Customer 360's JSON (office.h): find a customer by number, their timeline, credit line and
 * actions (an SMS from staff, a credit limit), each audited.
 *
 *   GET  customer?msisdn=N[&before=T]               the record, credit, PIN lockout, timeline (newest
 *                                                   first, 200 a page; next_before: the next page's T)
 *   GET  customer/find?q=                           a number or a name (any part of it, any case):
 *                                                   matches [{msisdn, name, since}], up to 20, more
 *   POST customer/sms {"msisdn", "text"}            one SMS, as `spazactl sms send`
 *   POST customer/credit-limit {"msisdn", "limit_cents"}   as `spazactl credit set-limit`
 *
 * The timeline's events have the shape of the customer timeline contract (at, kind, ref,
 * summary). office_customer_timeline() is the one place that reads them: today from the
 * sessions-and-orders statement spazactl's customer show uses and the SMS list, merged here;
 * when spaza_customer_timeline() lands it becomes that one query. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include "cfg.h"
#include "db.h"
#include "gsm7.h"
#include "ledger.h"
#include "money.h"
#include "msisdn.h"
#include "office.h"
#include "timeline_query.h"

#define OFFICE_SMS_SEPTETS 160u	/* one SMS, as spazactl sms send allows */
#define OFFICE_SMS_UCS2 70u
#define OFFICE_CREDIT_MAX_CENTS 100000000	/* R1,000,000: spazactl's bound too */

struct office_cust {
	struct office_call *c;
	char msisdn[MSISDN_BUF_LEN];
	char id[24];
	json_t *out, *events;
	unsigned pending;
	bool failed;
	const char *before;	/* the timeline's page: events before this time (NULL: the newest) */
	/* actions */
	char *text;
	int64_t limit_cents;
};

static json_t *office_event(const char *at, const char *kind, const char *ref, const char *summary)
{
	return json_pack("{ss ss ss ss}", "at", at, "kind", kind, "ref", ref ? ref : "", "summary", summary);
}

static void office_cust_reply(struct office_cust *k)
{
	if (--k->pending)
		return;
	if (k->failed) {
		json_decref(k->out);
		json_decref(k->events);
		return office_error(k->c->req, 503, "the database is not answering: try again in a moment");
	}
	json_object_set_new(k->out, "timeline", k->events);	/* newest first, as the query gives them */
	office_json(k->c->req, 200, k->out);
}

/* The merged timeline's newest page (spaza_customer_timeline(), one indexed query). */
#define OFFICE_TIMELINE_EVENTS 200

static void office_cust_events(void *priv, const PGresult *res, int err)
{
	struct office_cust *k = priv;
	if (err) {
		k->failed = true;
		return office_cust_reply(k);
	}
	struct timeline_page *p = timeline_page_from(k, res, OFFICE_TIMELINE_EVENTS);
	for (unsigned i = 0; i < p->n; i++)
		json_array_append_new(k->events, office_event(p->ev[i].at, p->ev[i].kind, p->ev[i].ref, p->ev[i].summary));
	/* the next page starts at the last event's exact time; NULL: this was the last */
	json_object_set_new(k->out, "next_before", PQntuples(res) > OFFICE_TIMELINE_EVENTS && p->n ?
			    json_string(p->ev[p->n - 1].at) : json_null());
	office_cust_reply(k);
}

static void office_customer_timeline(struct office_cust *k)
{
	char lim[12];
	snprintf(lim, sizeof(lim), "%d", OFFICE_TIMELINE_EVENTS + 1);	/* one more: whether more follow */
	const char *params[] = { k->id, k->before, lim };
	k->pending += 1;
	db_read(DB_CUSTOMER_TIMELINE_PAGE, 3, params, office_cust_events, k);
}

static void office_cust_credit(void *priv, const PGresult *res, int err)
{
	struct office_cust *k = priv;
	if (err || PQntuples(res) != 1) {
		k->failed = true;
		return office_cust_reply(k);
	}
	json_object_set_new(k->out, "credit", json_pack("{sI sI sI sI}", "limit_cents",
		(json_int_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10), "used_cents",
		(json_int_t)strtoll(PQgetvalue(res, 0, 1), NULL, 10), "available_cents",
		(json_int_t)strtoll(PQgetvalue(res, 0, 4), NULL, 10), "store_credit_cents",
		(json_int_t)strtoll(PQgetvalue(res, 0, 5), NULL, 10)));
	office_cust_reply(k);
}

static void office_cust_lockout(void *priv, const PGresult *res, int err)
{
	struct office_cust *k = priv;
	if (err || PQntuples(res) != 1) {
		k->failed = true;
		return office_cust_reply(k);
	}
	json_object_set_new(k->out, "lockout", json_pack("{sI ss?}", "failures",
		(json_int_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10), "locked_until",
		PQgetisnull(res, 0, 1) ? NULL : PQgetvalue(res, 0, 1)));
	office_cust_reply(k);
}

static void office_cust_found(void *priv, const PGresult *res, int err)
{
	struct office_cust *k = priv;
	if (err)
		return office_error(k->c->req, 503, "the database is not answering: try again in a moment");
	if (PQntuples(res) != 1)
		return office_error(k->c->req, 404, "no customer with this number");
	snprintf(k->id, sizeof(k->id), "%s", PQgetvalue(res, 0, 0));
	k->out = json_pack("{sI ss ss ss}", "id", (json_int_t)strtoll(k->id, NULL, 10), "msisdn", k->msisdn, "lang",
			   PQgetvalue(res, 0, 2), "since", PQgetvalue(res, 0, 3));
	k->events = json_array();
	k->pending = 2;
	const char *params[] = { k->id };
	db_read(DB_CREDIT_BALANCE, 1, params, office_cust_credit, k);
	db_read(DB_CUSTOMER_LOCKOUT, 1, params, office_cust_lockout, k);
	office_customer_timeline(k);
}

/* The number of a request (query or body) in E.164; false after a 400. */
static bool office_cust_number(struct office_cust *k, const char *in)
{
	if (!in || msisdn_normalize(in, g_cfg->country_code, k->msisdn, sizeof(k->msisdn)) < 0) {
		office_error(k->c->req, 400, "not a phone number");
		return false;
	}
	return true;
}

void office_customer(struct office_call *c)
{
	struct office_cust *k = talloc_zero(c->req, struct office_cust);
	k->c = c;
	if (!office_cust_number(k, http_req_arg(c->req, "msisdn")))
		return;
	k->before = http_req_arg(c->req, "before");
	if (k->before && (!*k->before || strlen(k->before) > 32 ||
			  strspn(k->before, "0123456789-:.TZ") != strlen(k->before)))
		return office_error(c->req, 400, "before: a time from next_before");
	const char *params[] = { k->msisdn };
	db_read(DB_CUSTOMER_BY_MSISDN, 1, params, office_cust_found, k);
}

/* ---- the search box: a number or a name ---- */

#define OFFICE_FIND_MAX 20
#define OFFICE_FIND_NAME_MAX 40	/* customers.name's own bound (sql/018) */

static void office_cust_find_done(void *priv, const PGresult *res, int err)
{
	struct office_call *c = priv;
	if (err)
		return office_error(c->req, 503, "the database is not answering: try again in a moment");
	json_t *a = json_array();
	int n = PQntuples(res);
	for (int i = 0; i < n && i < OFFICE_FIND_MAX; i++)
		json_array_append_new(a, json_pack("{ss ss? ss}", "msisdn", PQgetvalue(res, i, 0), "name",
						   PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1), "since",
						   PQgetvalue(res, i, 2)));
	office_json(c->req, 200, json_pack("{so sb}", "matches", a, "more", n > OFFICE_FIND_MAX));
}

/* A number is looked up as Customer 360 always did; anything else is a name. Three characters or
 * more match anywhere in the name (the trigram index), fewer only at its start (the btree): a
 * one-letter substring would match most of a million customers and help nobody. The LIKE
 * wildcards the staff member typed are matched as themselves. */
void office_customer_find(struct office_call *c)
{
	const char *q = http_req_arg(c->req, "q");
	char e164[MSISDN_BUF_LEN], lim[8];
	while (q && *q == ' ')
		q++;
	size_t len = q ? strlen(q) : 0;
	while (len && q[len - 1] == ' ')
		len--;
	if (!len)
		return office_error(c->req, 400, "q: a phone number or a name");
	if (strspn(q, "+0123456789 ") >= len) {
		char *num = talloc_strndup(c, q, len);
		if (msisdn_normalize(num, g_cfg->country_code, e164, sizeof(e164)) < 0)
			return office_error(c->req, 400, "not a phone number");
		const char *params[] = { e164 };
		db_read(DB_OFFICE_CUSTOMER_BY_NUMBER, 1, params, office_cust_find_done, c);
		return;
	}
	unsigned chars = 0;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)q[i] < 0x20 || q[i] == 0x7f)
			return office_error(c->req, 400, "q: a name on one line");
		chars += ((unsigned char)q[i] & 0xc0) != 0x80;
	}
	if (chars > OFFICE_FIND_NAME_MAX)
		return office_error(c->req, 400, "q: a name is at most 40 characters");
	/* %, _ and the escape itself stand for themselves; the pattern is lowered in SQL */
	char *pat = talloc_size(c, 2 * len + 3), *p = pat;
	if (chars >= 3)
		*p++ = '%';
	for (size_t i = 0; i < len; i++) {
		if (q[i] == '%' || q[i] == '_' || q[i] == '\\')
			*p++ = '\\';
		*p++ = q[i];
	}
	*p++ = '%';
	*p = '\0';
	snprintf(lim, sizeof(lim), "%d", OFFICE_FIND_MAX + 1);
	const char *params[] = { pat, lim };
	db_read(DB_OFFICE_CUSTOMER_FIND, 2, params, office_cust_find_done, c);
}

/* ---- actions ---- */

static void office_cust_sms_queued(void *priv, const PGresult *res, int err)
{
	struct office_cust *k = priv;
	char subject[48], action[64];
	if (err || PQntuples(res) != 1)
		return office_error(k->c->req, 503, "the database is not answering: nothing was sent");
	snprintf(subject, sizeof(subject), "customer %s", k->id);
	snprintf(action, sizeof(action), "sms send %s", k->msisdn);	/* audit.c masks the number */
	office_audit(&k->c->who, action, subject, true, NULL, NULL);
	office_json(k->c->req, 200, json_pack("{sI}", "queued", (json_int_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10)));
}

static void office_customer_credit_done(void *priv, const PGresult *res, int err)
{
	struct office_cust *k = priv;
	struct ledger_result r;
	char subject[48], action[96], after[64];
	if (err || ledger_result(res, &r) < 0)
		return office_error(k->c->req, 503, "the database is not answering: nothing was changed");
	snprintf(subject, sizeof(subject), "customer %s", k->id);
	snprintf(action, sizeof(action), "credit set-limit %s %" PRId64, k->msisdn, k->limit_cents);
	snprintf(after, sizeof(after), "{\"limit_cents\": %" PRId64 "}", k->limit_cents);
	office_audit(&k->c->who, action, subject, r.outcome == LEDGER_OK, NULL, r.outcome == LEDGER_OK ? after : NULL);
	if (r.outcome == LEDGER_NOT_FOUND)	/* the database's own check of the session and role */
		return office_error(k->c->req, 403, "your role may not set credit limits");
	if (r.outcome != LEDGER_OK)
		return office_error(k->c->req, 409, "the customer uses more credit than that: the limit cannot go below it");
	office_json(k->c->req, 200, json_pack("{sI sI}", "limit_cents", (json_int_t)k->limit_cents, "used_cents",
					      (json_int_t)r.balance_cents));
}

static void office_cust_ensured(void *priv, const PGresult *res, int err)
{
	struct office_cust *k = priv;
	if (err || PQntuples(res) != 1)
		return office_error(k->c->req, 503, "the database is not answering: nothing was changed");
	snprintf(k->id, sizeof(k->id), "%s", PQgetvalue(res, 0, 0));
	if (k->text) {
		const char *params[] = { k->id, k->text };
		db_write(DB_SMS_STAFF_QUEUE, 2, params, office_cust_sms_queued, k);
		return;
	}
	char limit[24];
	snprintf(limit, sizeof(limit), "%" PRId64, k->limit_cents);
	const char *params[] = { k->c->who.session, k->id, limit };
	db_write(DB_OFFICE_CREDIT_SET_LIMIT, 3, params, office_customer_credit_done, k);
}

void office_customer_sms(struct office_call *c)
{
	struct office_cust *k = talloc_zero(c->req, struct office_cust);
	const char *number = NULL, *text = NULL;
	k->c = c;
	if (json_unpack(c->body, "{ss ss}", "msisdn", &number, "text", &text) < 0)
		return office_error(c->req, 400, "give {\"msisdn\", \"text\"}");
	if (!office_cust_number(k, number))
		return;
	if (!*text || !gsm7_fits(text, strlen(text), OFFICE_SMS_SEPTETS, OFFICE_SMS_UCS2))
		return office_error(c->req, 400, "the text is empty or longer than one SMS");
	k->text = talloc_strdup(k, text);
	const char *params[] = { k->msisdn };
	db_write(DB_CUSTOMER_ENSURE, 1, params, office_cust_ensured, k);
}

void office_customer_credit(struct office_call *c)
{
	struct office_cust *k = talloc_zero(c->req, struct office_cust);
	const char *number = NULL;
	json_int_t limit = -1;
	k->c = c;
	if (json_unpack(c->body, "{ss sI}", "msisdn", &number, "limit_cents", &limit) < 0 || limit < 0 ||
	    limit > OFFICE_CREDIT_MAX_CENTS)
		return office_error(c->req, 400, "give {\"msisdn\", \"limit_cents\"} (0 to R1,000,000)");
	if (!office_cust_number(k, number))
		return;
	k->limit_cents = limit;
	const char *params[] = { k->msisdn };
	db_write(DB_CUSTOMER_ENSURE, 1, params, office_cust_ensured, k);
}
