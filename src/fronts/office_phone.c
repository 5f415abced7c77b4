/* The web phone's JSON (office.h): a feature phone on a page, for demos, menu authors and
 * support. A hop goes to the same session engine as POST /ussd/at (session.h), as an AT hop
 * from the number the page chose; the screen comes back with what a handset would count of it.
 *
 *   POST phone/hop {"msisdn", "session", "text"}    text: every input so far joined by '*'
 *   GET  phone/inbox?msisdn=N                       the SMS the shop sent that number
 *
 * Only owners and care use it (staff_roles.def): it acts as any number, so each dial (the
 * first hop of a session) is in the audit log. */
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include "cfg.h"
#include "db.h"
#include "gsm7.h"
#include "msisdn.h"
#include "office.h"
#include "session.h"

#define OFFICE_PHONE_CODE "*120*777#"	/* the demo's service code (menus/shop.yaml) */

struct office_phone {
	struct office_call *c;
	char msisdn[MSISDN_BUF_LEN];
	char ref[48];
	char *text;
};

static void office_phone_reply(void *priv, bool end, const char *screen, size_t len)
{
	struct office_phone *p = priv;
	struct gsm7_measure m = { 0 };
	char *s = talloc_strndup(p, screen, len);
	gsm7_measure(s, len, &m);
	bool gsm7 = m.coding == GSM7_CODING_GSM7;
	office_json(p->c->req, 200, json_pack("{sb ss si ss si}", "end", end, "screen", s, "chars", (int)m.chars,
					      "encoding", gsm7 ? "GSM-7" : "UCS-2", "units",
					      (int)(gsm7 ? m.septets : m.ucs2_units)));
}

void office_phone_hop(struct office_call *c)
{
	struct office_phone *p = talloc_zero(c->req, struct office_phone);
	const char *number = NULL, *session = NULL, *text = NULL;
	p->c = c;
	if (json_unpack(c->body, "{ss ss ss}", "msisdn", &number, "session", &session, "text", &text) < 0)
		return office_error(c->req, 400, "give {\"msisdn\", \"session\", \"text\"}");
	if (msisdn_normalize(number, g_cfg->country_code, p->msisdn, sizeof(p->msisdn)) < 0)
		return office_error(c->req, 400, "not a phone number");
	if (!*session || strlen(session) > 32 || strspn(session, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(session))
		return office_error(c->req, 400, "session: 1 to 32 of a-z 0-9 -");
	if (strlen(text) > 160 || strspn(text, "0123456789*#") != strlen(text))
		return office_error(c->req, 400, "text: the digits typed, joined by *");
	/* the page's sessions are their own: "web-" keeps them from an aggregator's ids */
	snprintf(p->ref, sizeof(p->ref), "web-%s", session);
	p->text = talloc_strdup(p, text);
	if (!*text) {
		char action[64];
		snprintf(action, sizeof(action), "phone dial %s", p->msisdn);	/* audit.c masks the number */
		office_audit(&c->who, action, NULL, true, NULL, NULL);
	}
	struct session_hop hop = {
		.ch = SESSION_CH_AT,
		.ref = p->ref,
		.msisdn = p->msisdn,
		.service_code = OFFICE_PHONE_CODE,
		.op = SESSION_OP_HISTORY,
		.text = p->text,
		.peer = http_req_peer(c->req),
		.reply = office_phone_reply,
		.priv = p,
	};
	session_hop(&hop);
}

static void office_phone_inbox_done(void *priv, const PGresult *res, int err)
{
	struct office_call *c = priv;
	if (err)
		return office_error(c->req, 503, "the database is not answering: try again in a moment");
	json_t *a = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		if (strcmp(PQgetvalue(res, i, 2), "out"))
			continue;
		json_array_append_new(a, json_pack("{ss ss ss ss? ss? ss?}", "at", PQgetvalue(res, i, 0), "kind",
						   PQgetvalue(res, i, 3), "status", PQgetvalue(res, i, 5), "text",
						   PQgetisnull(res, i, 7) ? NULL : PQgetvalue(res, i, 7), "order",
						   PQgetisnull(res, i, 8) ? NULL : PQgetvalue(res, i, 8), "order_status",
						   PQgetisnull(res, i, 9) ? NULL : PQgetvalue(res, i, 9)));
	}
	office_json(c->req, 200, json_pack("{so}", "inbox", a));
}

void office_phone_inbox(struct office_call *c)
{
	char e164[MSISDN_BUF_LEN];
	const char *n = http_req_arg(c->req, "msisdn");
	if (!n || msisdn_normalize(n, g_cfg->country_code, e164, sizeof(e164)) < 0)
		return office_error(c->req, 400, "not a phone number");
	const char *params[] = { e164 };
	db_read(DB_SMS_TIMELINE, 1, params, office_phone_inbox_done, c);
}
