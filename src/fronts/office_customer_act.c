/* Customer 360's actions of care and money (office.h), each the room spazactl uses, confirmed on
 * the page, CSRF-checked by office.c and written to the audit log under the staff login:
 *
 *   POST customer/refund {"order", "amount_cents" (0: all), "to": null|"store_credit", "reason"}
 *        finance and owner: spaza_refund (sql/012) behind 017's session check; the customer is told
 *        by SMS as `spazactl refund` tells them (refund.c)
 *   POST customer/unlock {"msisdn"}          lift a PIN lockout (spaza_customer_unlock)
 *   POST customer/note {"msisdn", "text"}    a staff note on the timeline (spaza_customer_note) */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <openssl/sha.h>
#include "cfg.h"
#include "db.h"
#include "ledger.h"
#include "msisdn.h"
#include "office.h"

#define OFFICE_NOTE_MAX 500
#define OFFICE_REASON_MAX 200

struct office_act {
	struct office_call *c;
	char msisdn[MSISDN_BUF_LEN];
	char id[24];
	char *text;		/* a note */
	bool unlock;
	char key[96];		/* a refund's */
	int64_t order;
};

/* ---- unlock and note: the customer by number, then the statement ---- */

static void office_act_noted(void *priv, const PGresult *res, int err)
{
	struct office_act *a = priv;
	char subject[48];
	if (err || PQntuples(res) != 1)
		return office_error(a->c->req, 503, "the database is not answering: nothing was changed");
	snprintf(subject, sizeof(subject), "customer %s", a->id);
	if (!a->unlock) {
		office_audit(&a->c->who, "customer note", subject, true, NULL, NULL);
		return office_json(a->c->req, 200, json_pack("{sI}", "note", (json_int_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10)));
	}
	bool was = !strcmp(PQgetvalue(res, 0, 1), "t");
	office_audit(&a->c->who, "customer unlock", subject, true, was ? "{\"locked\": true}" : NULL,
		     was ? "{\"locked\": false}" : NULL);
	office_json(a->c->req, 200, json_pack("{sb sI}", "was_locked", was, "failures_lifted",
					      (json_int_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10)));
}

static void office_act_found(void *priv, const PGresult *res, int err)
{
	struct office_act *a = priv;
	if (err)
		return office_error(a->c->req, 503, "the database is not answering: nothing was changed");
	if (PQntuples(res) != 1)
		return office_error(a->c->req, 404, "no customer with this number");
	snprintf(a->id, sizeof(a->id), "%s", PQgetvalue(res, 0, 0));
	if (a->unlock) {
		const char *params[] = { a->id, a->c->who.login };
		db_write(DB_CUSTOMER_UNLOCK, 2, params, office_act_noted, a);
		return;
	}
	const char *params[] = { a->id, a->text, a->c->who.login };
	db_write(DB_CUSTOMER_NOTE, 3, params, office_act_noted, a);
}

static void office_act_find(struct office_act *a, const char *number)
{
	if (!number || msisdn_normalize(number, g_cfg->country_code, a->msisdn, sizeof(a->msisdn)) < 0)
		return office_error(a->c->req, 400, "not a phone number");
	const char *params[] = { a->msisdn };
	db_read(DB_CUSTOMER_BY_MSISDN, 1, params, office_act_found, a);
}

void office_customer_unlock(struct office_call *c)
{
	struct office_act *a = talloc_zero(c->req, struct office_act);
	const char *number = NULL;
	a->c = c;
	a->unlock = true;
	if (json_unpack(c->body, "{ss}", "msisdn", &number) < 0)
		return office_error(c->req, 400, "give {\"msisdn\"}");
	office_act_find(a, number);
}

void office_customer_note(struct office_call *c)
{
	struct office_act *a = talloc_zero(c->req, struct office_act);
	const char *number = NULL, *text = NULL;
	a->c = c;
	if (json_unpack(c->body, "{ss ss}", "msisdn", &number, "text", &text) < 0)
		return office_error(c->req, 400, "give {\"msisdn\", \"text\"}");
	if (!*text || strlen(text) > OFFICE_NOTE_MAX)
		return office_error(c->req, 400, "the note is 1 to 500 characters");
	a->text = talloc_strdup(a, text);
	office_act_find(a, number);
}

/* ---- refund ---- */

static void office_act_refunded(void *priv, const PGresult *res, int err)
{
	struct office_act *a = priv;
	struct ledger_result r;
	char subject[40], after[96];
	if (err || ledger_result(res, &r) < 0)
		return office_error(a->c->req, 503, "the database is not answering: nothing was refunded");
	bool ok = r.outcome == LEDGER_REFUNDED;
	snprintf(subject, sizeof(subject), "order %" PRId64, a->order);
	snprintf(after, sizeof(after), "{\"refunded_cents\": %" PRId64 ", \"to\": \"%s\"}", r.amount_cents,
		 r.text ? r.text : "");
	office_audit(&a->c->who, "refund", subject, ok, NULL, ok ? after : NULL);
	switch (r.outcome) {
	case LEDGER_REFUNDED:
		office_refund_tell(r.id, a->key, a->order, &r, false);
		return office_json(a->c->req, 200, json_pack("{sI ss}", "refunded_cents", (json_int_t)r.amount_cents,
							     "to", r.text ? r.text : ""));
	case LEDGER_NOT_FOUND:
		return office_error(a->c->req, 404, "no such paid order");
	case LEDGER_TOO_MUCH:
		return office_error(a->c->req, 409, "more than is left to refund on this order");
	case LEDGER_NOTHING:
		return office_error(a->c->req, 409, "nothing is left to refund on this order");
	case LEDGER_NEEDS_PIN:
		return office_error(a->c->req, 409, "paid in cash: refund to store credit, or as a new voucher with "
				    "spazactl refund --to voucher");
	case LEDGER_CONFLICT:
		return office_error(a->c->req, 409, "this refund was asked before with other details");
	default:
		return office_error(a->c->req, 409, "the ledger refused the refund");
	}
}

void office_customer_refund(struct office_call *c)
{
	struct office_act *a = talloc_zero(c->req, struct office_act);
	json_int_t order = 0, cents = 0;
	const char *to = NULL, *reason = NULL;
	char order_s[24], cents_s[24], hex[17];
	uint8_t h[SHA256_DIGEST_LENGTH];
	a->c = c;
	if (!office_may_refund(&c->who))
		return office_error(c->req, 403, "your role may not refund");
	if (json_unpack(c->body, "{sI s?I s?s ss}", "order", &order, "amount_cents", &cents, "to", &to, "reason",
			&reason) < 0 || order <= 0 || cents < 0)
		return office_error(c->req, 400, "give {\"order\", \"amount_cents\", \"to\", \"reason\"}");
	if (to && strcmp(to, "store_credit"))
		return office_error(c->req, 400, "to: where it came from (null) or store_credit");
	if (!*reason || strlen(reason) > OFFICE_REASON_MAX || strpbrk(reason, "\n\r\t"))
		return office_error(c->req, 400, "the reason is one line of 1 to 200 characters");
	a->order = order;
	/* the same request is the same refund (a double click, a retry): the key is what it asks */
	SHA256((const uint8_t *)reason, strlen(reason), h);
	for (int i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	snprintf(a->key, sizeof(a->key), "office:refund:%" JSON_INTEGER_FORMAT ":%" JSON_INTEGER_FORMAT ":%s:%s", order,
		 cents, to ? to : "-", hex);
	snprintf(order_s, sizeof(order_s), "%" JSON_INTEGER_FORMAT, order);
	snprintf(cents_s, sizeof(cents_s), "%" JSON_INTEGER_FORMAT, cents);
	const char *params[] = { c->who.session, a->key, order_s, cents ? cents_s : NULL, to, reason };
	db_write(DB_OFFICE_REFUND, 6, params, office_act_refunded, a);
}
