/* The Care page's JSON (office.h): the ticket queue with its clocks, a ticket with its messages
 * and steps, a reply by SMS, resolve and close, and a "charged twice" ticket's double-charge
 * evidence with its refund. Each is the statement `spazactl care list|show|reply|resolve|close`
 * runs (ctl_care.c; sql/011_care.sql, 017), so the page and the command line agree; the
 * double-charge rows and refund are money's (sql/012) behind 017's session-and-role check.
 *
 *   GET  care/tickets?filter=open|waiting|breached|all     the queue, newest first (200 at most)
 *   GET  care/ticket?id=N                                  the ticket, messages, evidence
 *   POST care/reply {"id", "text"}                         one SMS; the ticket waits on the customer
 *   POST care/state {"id", "state": "resolved"|"closed", "note"}
 *   POST care/dc-refund {"id"}                             refund one double charge (owner, finance) */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <openssl/crypto.h>
#include "cfg.h"
#include "db.h"
#include "gsm7.h"
#include "ledger.h"
#include "office.h"
#include "refund.h"
#include "sms_texts.h"

#define OFFICE_CARE_SMS_SEPTETS 160u	/* a reply is one SMS, as spazactl care reply allows */
#define OFFICE_CARE_SMS_UCS2 70u
#define OFFICE_CARE_NOTE_MAX 500

static json_int_t office_care_int(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static const char *office_care_opt(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static void office_care_clocks(char frt[16], char res[16])
{
	snprintf(frt, 16, "%u", g_cfg->care_first_response_min);
	snprintf(res, 16, "%u", g_cfg->care_resolution_h);
}

bool office_may_refund(const struct office_staff *who)
{
	return who->role == STAFF_ROLE_OWNER || who->role == STAFF_ROLE_FINANCE;
}

/* ---- the queue ---- */

struct office_care_q {
	struct office_call *c;
	const char *state;	/* waiting: that state only */
};

static void office_care_tickets_done(void *priv, const PGresult *res, int err)
{
	struct office_care_q *q = priv;
	if (err)
		return office_error(q->c->req, 503, "the database is not answering: try again in a moment");
	json_t *a = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		if (q->state && strcmp(PQgetvalue(res, i, 6), q->state))
			continue;
		const char *order = office_care_opt(res, i, 4);
		json_array_append_new(a, json_pack("{sI ss ss ss sI ss ss sb sb sI ss ss}", "id", office_care_int(res, i, 0),
			"opened", PQgetvalue(res, i, 1), "msisdn", PQgetvalue(res, i, 2), "kind", PQgetvalue(res, i, 3),
			"order", (json_int_t)(order ? strtoll(order, NULL, 10) : 0), "channel", PQgetvalue(res, i, 5),
			"state", PQgetvalue(res, i, 6), "first_breached", !strcmp(PQgetvalue(res, i, 7), "t"),
			"resolution_breached", !strcmp(PQgetvalue(res, i, 8), "t"), "messages", office_care_int(res, i, 9),
			"first_due", PQgetvalue(res, i, 10), "resolve_due", PQgetvalue(res, i, 11)));
	}
	office_json(q->c->req, 200, json_pack("{so si si}", "tickets", a, "first_response_min",
		(int)g_cfg->care_first_response_min, "resolution_h", (int)g_cfg->care_resolution_h));
}

void office_care_tickets(struct office_call *c)
{
	const char *f = http_req_arg(c->req, "filter");
	struct office_care_q *q = talloc_zero(c->req, struct office_care_q);
	bool open_only = true, breached = false;
	char frt[16], resol[16];
	q->c = c;
	if (!f || !strcmp(f, "open"))
		;
	else if (!strcmp(f, "waiting"))
		q->state = "waiting";
	else if (!strcmp(f, "breached"))
		breached = true;
	else if (!strcmp(f, "all"))
		open_only = false;
	else
		return office_error(c->req, 400, "filter: open, waiting, breached or all");
	office_care_clocks(frt, resol);
	const char *params[] = { open_only ? "true" : "false", breached ? "true" : "false", frt, resol };
	db_read(DB_CARE_LIST, 4, params, office_care_tickets_done, q);
}

/* ---- one ticket: the ticket, then its messages, then (charged twice) the evidence ---- */

struct office_care_t {
	struct office_call *c;
	char id[24], customer[24];
	json_t *out;
	char *text, *state;
};

static void office_care_reply_json(struct office_care_t *t)
{
	office_json(t->c->req, 200, t->out);
}

static void office_care_evidence(void *priv, const PGresult *res, int err)
{
	struct office_care_t *t = priv;
	if (err) {
		json_decref(t->out);
		return office_error(t->c->req, 503, "the database is not answering: try again in a moment");
	}
	json_t *a = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(a, json_pack("{sI ss ss sI sI sI ss}", "id", office_care_int(res, i, 0), "kind",
			PQgetvalue(res, i, 1), "status", PQgetvalue(res, i, 2), "order", office_care_int(res, i, 3),
			"duplicate_payment", office_care_int(res, i, 4), "amount_cents", office_care_int(res, i, 5),
			"found", PQgetvalue(res, i, 6)));
	json_object_set_new(t->out, "double_charges", a);
	office_care_reply_json(t);
}

static void office_care_messages(void *priv, const PGresult *res, int err)
{
	struct office_care_t *t = priv;
	if (err) {
		json_decref(t->out);
		return office_error(t->c->req, 503, "the database is not answering: try again in a moment");
	}
	json_t *a = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(a, json_pack("{ss ss ss ss ss? ss?}", "at", PQgetvalue(res, i, 0), "direction",
			PQgetvalue(res, i, 1), "step", PQgetvalue(res, i, 2), "author", PQgetvalue(res, i, 3), "text",
			office_care_opt(res, i, 4), "sms", office_care_opt(res, i, 5)));
	json_object_set_new(t->out, "messages", a);
	if (strcmp(json_string_value(json_object_get(t->out, "kind")), "charged_twice"))
		return office_care_reply_json(t);
	/* the detector's sweep for this customer: what it notes, listed; refunds are a button */
	const char *params[] = { t->c->who.session, t->customer };
	db_write(DB_OFFICE_DC_SCAN, 2, params, office_care_evidence, t);
}

static void office_care_got(void *priv, const PGresult *res, int err)
{
	struct office_care_t *t = priv;
	if (err)
		return office_error(t->c->req, 503, "the database is not answering: try again in a moment");
	if (PQntuples(res) != 1)
		return office_error(t->c->req, 404, "no such ticket");
	const char *order = office_care_opt(res, 0, 4);
	snprintf(t->customer, sizeof(t->customer), "%s", PQgetvalue(res, 0, 1));
	t->out = json_pack("{sI sI ss ss sI ss ss ss ss? ss? ss? sb}", "id", office_care_int(res, 0, 0), "customer_id",
		office_care_int(res, 0, 1), "msisdn", PQgetvalue(res, 0, 2), "kind", PQgetvalue(res, 0, 3), "order",
		(json_int_t)(order ? strtoll(order, NULL, 10) : 0), "channel", PQgetvalue(res, 0, 5), "state",
		PQgetvalue(res, 0, 6), "opened", PQgetvalue(res, 0, 7), "answered", office_care_opt(res, 0, 8),
		"resolved", office_care_opt(res, 0, 9), "closed", office_care_opt(res, 0, 10), "may_refund",
		office_may_refund(&t->c->who));
	const char *params[] = { t->id };
	db_read(DB_CARE_MESSAGES, 1, params, office_care_messages, t);
}

/* The ticket number of a query or body; false after a 400. */
static bool office_care_id(struct office_care_t *t, json_int_t n)
{
	if (n <= 0) {
		office_error(t->c->req, 400, "give a ticket number");
		return false;
	}
	snprintf(t->id, sizeof(t->id), "%" JSON_INTEGER_FORMAT, n);
	return true;
}

void office_care_ticket(struct office_call *c)
{
	struct office_care_t *t = talloc_zero(c->req, struct office_care_t);
	const char *id = http_req_arg(c->req, "id");
	t->c = c;
	if (!office_care_id(t, id && strspn(id, "0123456789") == strlen(id) && strlen(id) < 19 ? strtoll(id, NULL, 10) : 0))
		return;
	const char *params[] = { t->id };
	db_read(DB_CARE_GET, 1, params, office_care_got, t);
}

/* ---- changes ---- */

static void office_care_replied(void *priv, const PGresult *res, int err)
{
	struct office_care_t *t = priv;
	char subject[40];
	if (err || PQntuples(res) != 1)
		return office_error(t->c->req, 503, "the database is not answering: nothing was sent");
	const char *outcome = PQgetvalue(res, 0, 0);
	snprintf(subject, sizeof(subject), "ticket %s", t->id);
	office_audit(&t->c->who, "care reply", subject, !strcmp(outcome, "replied"), NULL, NULL);
	if (!strcmp(outcome, "closed"))
		return office_error(t->c->req, 409, "the ticket is closed: no reply");
	if (strcmp(outcome, "replied"))
		return office_error(t->c->req, 404, "no such ticket");
	office_json(t->c->req, 200, json_pack("{sI ss}", "sms", office_care_int(res, 0, 1), "state", "waiting"));
}

void office_care_reply(struct office_call *c)
{
	struct office_care_t *t = talloc_zero(c->req, struct office_care_t);
	json_int_t id = 0;
	const char *text = NULL;
	t->c = c;
	if (json_unpack(c->body, "{sI ss}", "id", &id, "text", &text) < 0)
		return office_error(c->req, 400, "give {\"id\", \"text\"}");
	if (!office_care_id(t, id))
		return;
	if (!*text || !gsm7_fits(text, strlen(text), OFFICE_CARE_SMS_SEPTETS, OFFICE_CARE_SMS_UCS2))
		return office_error(c->req, 400, "the text is empty or longer than one SMS");
	const char *params[] = { t->id, text, c->who.login };
	db_write(DB_CARE_REPLY, 3, params, office_care_replied, t);
}

static void office_care_state_done(void *priv, const PGresult *res, int err)
{
	struct office_care_t *t = priv;
	char subject[40], action[32], before[48], after[48];
	if (err || PQntuples(res) != 1)
		return office_error(t->c->req, 503, "the database is not answering: nothing was changed");
	const char *outcome = PQgetvalue(res, 0, 0);
	bool ok = !strcmp(outcome, "ok");
	snprintf(subject, sizeof(subject), "ticket %s", t->id);
	snprintf(action, sizeof(action), "care %s", !strcmp(t->state, "resolved") ? "resolve" : "close");
	snprintf(before, sizeof(before), "{\"state\": \"%s\"}", PQgetvalue(res, 0, 1));
	snprintf(after, sizeof(after), "{\"state\": \"%s\"}", t->state);
	office_audit(&t->c->who, action, subject, ok, ok ? before : NULL, ok ? after : NULL);
	if (!strcmp(outcome, "already"))
		return office_error(t->c->req, 409, "the ticket is already so");
	if (!strcmp(outcome, "not_allowed"))
		return office_error(t->c->req, 409, "the ticket is closed");
	if (!ok)
		return office_error(t->c->req, 404, "no such ticket");
	office_json(t->c->req, 200, json_pack("{ss ss}", "state", t->state, "was", PQgetvalue(res, 0, 1)));
}

void office_care_state(struct office_call *c)
{
	struct office_care_t *t = talloc_zero(c->req, struct office_care_t);
	json_int_t id = 0;
	const char *state = NULL, *note = NULL;
	t->c = c;
	if (json_unpack(c->body, "{sI ss s?s}", "id", &id, "state", &state, "note", &note) < 0)
		return office_error(c->req, 400, "give {\"id\", \"state\", \"note\"}");
	if (!office_care_id(t, id))
		return;
	if (strcmp(state, "resolved") && strcmp(state, "closed"))
		return office_error(c->req, 400, "state: resolved or closed");
	if (note && (!*note || strlen(note) > OFFICE_CARE_NOTE_MAX))
		return office_error(c->req, 400, "the note is 1 to 500 characters");
	t->state = talloc_strdup(t, state);
	const char *params[] = { t->id, state, note, c->who.login };
	db_write(DB_CARE_SET_STATE, 4, params, office_care_state_done, t);
}

/* ---- refunds from a page: the customer is told as spazactl's refund tells them ---- */

struct office_tell {
	char customer[24], key[64], text[SMS_TEXT_BYTES];
	int64_t order, cents;
	bool duplicate;
	char *to;
};

static void office_tell_queued(void *priv, const PGresult *res, int err)
{
	struct office_tell *t = priv;
	OPENSSL_cleanse(t->text, sizeof(t->text));
	talloc_free(t);
}

static void office_tell_lang(void *priv, const PGresult *res, int err)
{
	struct office_tell *t = priv;
	const char *lang = !err && PQntuples(res) ? PQgetvalue(res, 0, 0) : "en";
	if (!g_sms_texts || refund_sms_render(g_sms_texts, lang, t->to, t->duplicate, t->order, t->cents, NULL, t->text,
					      sizeof(t->text)) < 0) {
		talloc_free(t);
		return;
	}
	const char *params[] = { t->customer, t->text, t->key };
	db_write(DB_SMS_NOTICE_QUEUE, 3, params, office_tell_queued, t);
}

void office_refund_tell(int64_t customer, const char *key, int64_t order, const struct ledger_result *r, bool duplicate)
{
	/* not a child of the request: the SMS is queued even when the page has its answer */
	struct office_tell *t = talloc_zero(NULL, struct office_tell);
	snprintf(t->customer, sizeof(t->customer), "%" PRId64, customer);
	snprintf(t->key, sizeof(t->key), "%s", key);
	t->order = order;
	t->cents = r->amount_cents;
	t->duplicate = duplicate;
	t->to = talloc_strdup(t, r->text ? r->text : "");
	const char *params[] = { t->customer };
	db_read(DB_CUSTOMER_LANG, 1, params, office_tell_lang, t);
}

static void office_care_dc_refunded(void *priv, const PGresult *res, int err)
{
	struct office_care_t *t = priv;
	struct ledger_result r;
	char subject[40], key[48];
	if (err || ledger_result(res, &r) < 0)
		return office_error(t->c->req, 503, "the database is not answering: nothing was refunded");
	snprintf(subject, sizeof(subject), "double charge %s", t->id);
	office_audit(&t->c->who, "care double-charge refund", subject, r.outcome == LEDGER_REFUNDED, NULL, NULL);
	if (r.outcome == LEDGER_NOT_FOUND)	/* the role was checked above: the database's check agrees */
		return office_error(t->c->req, 404, "no such double charge");
	if (r.outcome == LEDGER_FOR_A_PERSON)
		return office_error(t->c->req, 409, "not the same order paid twice: refund it from the Customer 360 by hand");
	if (r.outcome != LEDGER_REFUNDED)
		return office_error(t->c->req, 409, "nothing left to refund: it was refunded before");
	snprintf(key, sizeof(key), "spaza:dc:%" PRId64, r.balance_cents);	/* the duplicate: the detector's SMS key */
	office_refund_tell(r.id, key, r.detail ? strtoll(r.detail, NULL, 10) : 0, &r, true);
	office_json(t->c->req, 200, json_pack("{sI ss}", "refunded_cents", (json_int_t)r.amount_cents, "to",
					      r.text ? r.text : ""));
}

void office_care_dc_refund(struct office_call *c)
{
	struct office_care_t *t = talloc_zero(c->req, struct office_care_t);
	json_int_t id = 0;
	t->c = c;
	if (!office_may_refund(&c->who))
		return office_error(c->req, 403, "your role may not refund");
	if (json_unpack(c->body, "{sI}", "id", &id) < 0 || id <= 0)
		return office_error(c->req, 400, "give {\"id\"}: the double charge");
	snprintf(t->id, sizeof(t->id), "%" JSON_INTEGER_FORMAT, id);
	const char *params[] = { c->who.session, t->id };
	db_write(DB_OFFICE_DC_REFUND, 2, params, office_care_dc_refunded, t);
}
