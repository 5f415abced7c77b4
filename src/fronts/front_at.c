/* POST /ussd/at: form fields sessionId, serviceCode, phoneNumber, networkCode, text (every
 * input so far joined by '*'); the reply is "CON <screen>" or "END <screen>" as text/plain.
 * Anything malformed is answered 400 with the reason, before it reaches a session. */
#include <string.h>
#include <talloc.h>
#include "front_at.h"
#include "at_form.h"
#include "cfg.h"
#include "http.h"
#include "logging.h"
#include "menu.h"
#include "session.h"
#include "stats.h"

static void at_bad(struct http_req *req, const char *msg)
{
	STAT_INC(AT_BAD_REQUESTS);
	LOGP(DAT, LOGL_INFO, "400 from %s: %s\n", http_req_peer(req), msg);
	http_reply(req, 400, "text/plain", msg, strlen(msg));
}

static void at_reply(void *priv, bool end, const char *screen, size_t len)
{
	char body[MENU_SCREEN_BYTES + 8];
	if (len > MENU_SCREEN_BYTES)
		len = MENU_SCREEN_BYTES;
	memcpy(body, end ? "END " : "CON ", 4);	/* NOLINT(bugprone-not-null-terminated-result): a counted body */
	memcpy(body + 4, screen, len);
	http_reply(priv, 200, "text/plain", body, len + 4);
}

static void at_handle(struct http_req *req)
{
	size_t blen;
	const char *body = http_req_body(req, &blen);
	struct at_form form;
	char why[160];

	STAT_INC(AT_HOPS);
	if (!cfg_net_allowed(&g_cfg->at_allow, http_req_peer(req))) {
		static const char no[] = "this address may not call /ussd/at";
		STAT_INC(AT_REFUSED_PEERS);
		LOGP(DAT, LOGL_NOTICE, "403 to %s: not an allowed aggregator address\n", http_req_peer(req));
		http_reply(req, 403, "text/plain", no, sizeof(no) - 1);
		return;
	}
	/* decoded in place in a copy owned by the request (http max-body bounds its size) */
	char *buf = talloc_memdup(req, body, blen + 1);
	buf[blen] = '\0';
	if (at_form_parse(buf, g_cfg->country_code, &form, why, sizeof(why)) < 0)
		return at_bad(req, why);

	struct session_hop hop = {
		.ch = SESSION_CH_AT,
		.ref = form.val[AT_SESSION],
		.msisdn = form.msisdn,
		.service_code = form.val[AT_SERVICE],
		.text = form.val[AT_TEXT],
		.peer = http_req_peer(req),
		.reply = at_reply,
		.priv = req,
	};
	session_hop(&hop);
}

void front_at_init(void)
{
	http_route(LISTEN_FRONT, "POST", "/ussd/at", at_handle);
}
