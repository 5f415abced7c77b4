/* Kannel's smsbox front end: GET /kannel/mo, which Kannel's sms-service calls for every MO;
 * GET /kannel/dlr, its delivery reports; and sendsms (kannel_send.c) as the outbox's way out.
 *
 * USSD arrives as an MO whose meta-data carries the SMPP TLVs ussd_service_op and
 * its_session_info (raw octets, URL-encoded once more inside the %D string). The reply goes
 * back synchronously in the HTTP response: Kannel turns X-Kannel-Meta-Data into the
 * submit_sm's TLVs, so we echo its_session_info and set ussd_service_op to "continue" or "end".
 * Everything else is an SMS and goes to the keyword commands.
 *
 * A DLR names the outbox row it reports on (kannel_send.c puts the id in the dlr-url), the
 * report type (%d) and the SMSC's words (%A); the outbox records it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "front_kannel.h"
#include "cfg.h"
#include "gsm7.h"
#include "http.h"
#include "kannel_meta.h"
#include "kannel_send.h"
#include "logging.h"
#include "menu.h"
#include "msisdn.h"
#include "outbox.h"
#include "session.h"
#include "sms.h"
#include "stats.h"

struct kannel_reply_ctx {
	struct http_req *req;
	struct kannel_meta meta;
	const struct kannel_link *link;
};

static void kannel_text_reply(struct http_req *req, const char *text)
{
	size_t len = strlen(text);
	struct gsm7_measure m;
	if (gsm7_measure(text, len, &m) == 0 && m.coding == GSM7_CODING_UCS2) {
		/* Kannel sends UCS-2 when told so: coding 2 and a UTF-16BE body */
		uint8_t ucs2[MENU_SCREEN_BYTES * 2];
		int n = gsm7_to_ucs2be(text, len, ucs2, sizeof(ucs2));
		if (n >= 0) {
			http_reply_header(req, "X-Kannel-Coding", "2");
			http_reply(req, 200, "text/plain; charset=UTF-16BE", (const char *)ucs2, n);
			return;
		}
	}
	http_reply(req, 200, "text/plain", text, len);
}

static void kannel_ussd_reply(void *priv, bool end, const char *screen, size_t len)
{
	struct kannel_reply_ctx *rc = priv;
	char hdr[96], text[MENU_SCREEN_BYTES + 1];
	kannel_meta_reply(hdr, sizeof(hdr), rc->link, &rc->meta, end);
	http_reply_header(rc->req, "X-Kannel-Meta-Data", hdr);
	http_reply_header(rc->req, "X-Kannel-BInfo", "USSD");
	snprintf(text, sizeof(text), "%.*s", (int)len, screen);
	kannel_text_reply(rc->req, text);
}

static void kannel_sms_reply(void *priv, const char *text)
{
	struct http_req *req = priv;
	if (!text)
		http_reply(req, 200, "text/plain", "", 0);	/* omit-empty: Kannel sends nothing */
	else
		kannel_text_reply(req, text);
}

static void kannel_bad(struct http_req *req, const char *why)
{
	STAT_INC(KANNEL_BAD);
	LOGP(DKANNEL, LOGL_NOTICE, "MO dropped: %s\n", why);
	/* an empty reply: with omit-empty Kannel sends nothing to the phone */
	http_reply(req, 400, "text/plain", why, strlen(why));
}

static void kannel_mo(struct http_req *req)
{
	const char *from = http_req_arg(req, "from"), *to = http_req_arg(req, "to");
	const char *text = http_req_arg(req, "text"), *meta = http_req_arg(req, "meta");
	const char *id = http_req_arg(req, "id"), *smsc = http_req_arg(req, "smsc");
	char msisdn[MSISDN_BUF_LEN];
	struct kannel_reply_ctx *rc;

	if (!cfg_net_allowed(&g_cfg->kannel_allow, http_req_peer(req))) {
		static const char no[] = "this address may not call /kannel/mo";
		STAT_INC(KANNEL_REFUSED_PEERS);
		LOGP(DKANNEL, LOGL_NOTICE, "403 to %s: not an allowed smsbox address\n", http_req_peer(req));
		http_reply(req, 403, "text/plain", no, sizeof(no) - 1);
		return;
	}

	STAT_INC(KANNEL_MO);
	if (!from || !to)
		return kannel_bad(req, "missing from or to");
	if (msisdn_normalize(from, g_cfg->country_code, msisdn, sizeof(msisdn)) < 0)
		return kannel_bad(req, "bad sender number");
	if (!text)
		text = "";
	if (strlen(text) > 640 || gsm7_measure(text, strlen(text), &(struct gsm7_measure){ 0 }) < 0)
		return kannel_bad(req, "text too long or not UTF-8");

	rc = talloc_zero(req, struct kannel_reply_ctx);
	rc->req = req;
	if (kannel_meta_parse(meta, &rc->meta) < 0)
		return kannel_bad(req, "malformed meta-data");
	if (rc->meta.op < 0) {
		struct sms_mo mo = { .msisdn = msisdn, .to = to, .text = text, .mo_id = id, .channel = "kannel" };
		return sms_mo(&mo, kannel_sms_reply, req);
	}
	rc->link = cfg_kannel_link(smsc);
	if (rc->meta.sess_len != 2)
		return kannel_bad(req, "USSD without its_session_info");

	/* the session key: MSISDN + its_session_info (without an end bit) + link */
	char ref[64];
	if (kannel_meta_ref(ref, sizeof(ref), msisdn, rc->link, &rc->meta, smsc) < 0)
		return kannel_bad(req, "smsc id too long");
	struct session_hop hop = {
		.ch = SESSION_CH_KANNEL, .ref = ref, .msisdn = msisdn, .service_code = to, .mo_id = id,
		.reply = kannel_ussd_reply, .priv = rc, .peer = http_req_peer(req),
	};
	int op = kannel_meta_hop_op(rc->link, rc->meta.op);
	if (op == SESSION_OP_BEGIN) {
		hop.op = SESSION_OP_BEGIN;
		/* the dialled code is the text of a PSSR indication; the short code is the fallback */
		if (text[0] == '*')
			hop.service_code = text;
	} else if (op == SESSION_OP_CONTINUE) {
		hop.op = SESSION_OP_CONTINUE;
		hop.input = text;
	} else if (op == SESSION_OP_ABORT) {
		hop.op = SESSION_OP_ABORT;
		session_hop(&hop);
		http_reply(req, 200, "text/plain", "", 0);
		return;
	} else {
		char why[64];
		snprintf(why, sizeof(why), "unknown ussd_service_op %d", rc->meta.op);
		return kannel_bad(req, why);
	}
	STAT_INC(KANNEL_USSD_HOPS);
	session_hop(&hop);
}

/* ---- delivery reports: GET /kannel/dlr?id=<row>&type=%d&reply=%A ---- */

static const char *kannel_dlr_state(long type)
{
	switch (type) {
	case 1: return "delivered";
	case 2: return "failed";
	case 4: return "buffered";
	case 8: return "submitted";
	case 16: return "rejected";
	default: return NULL;
	}
}

static void kannel_dlr_done(void *priv, int rc)
{
	struct http_req *req = priv;
	if (rc == -ENOENT)
		http_reply(req, 404, "text/plain", "no such message\n", 16);
	else if (rc < 0)
		http_reply(req, 503, "text/plain", "database unavailable\n", 21);
	else
		http_reply(req, 200, "text/plain", "ok\n", 3);
}

static void kannel_dlr_bad(struct http_req *req, const char *why)
{
	LOGP(DKANNEL, LOGL_NOTICE, "DLR dropped: %s\n", why);
	http_reply(req, 400, "text/plain", why, strlen(why));
}

static void kannel_dlr(struct http_req *req)
{
	const char *id = http_req_arg(req, "id"), *type = http_req_arg(req, "type");
	char *end;

	STAT_INC(KANNEL_DLR);
	if (!cfg_net_allowed(&g_cfg->kannel_allow, http_req_peer(req))) {
		static const char no[] = "this address may not call /kannel/dlr";
		STAT_INC(KANNEL_REFUSED_PEERS);
		http_reply(req, 403, "text/plain", no, sizeof(no) - 1);
		return;
	}
	if (!id || !type)
		return kannel_dlr_bad(req, "missing id or type");
	long long n = strtoll(id, &end, 10);
	if (*end || n <= 0 || id[0] < '0' || id[0] > '9')
		return kannel_dlr_bad(req, "bad id");
	long t = strtol(type, &end, 10);
	const char *state = *end ? NULL : kannel_dlr_state(t);
	if (!state)
		return kannel_dlr_bad(req, "unknown type");
	LOGP(DKANNEL, LOGL_INFO, "DLR #%s: %s\n", id, state);
	outbox_dlr(n, state, http_req_arg(req, "reply"), kannel_dlr_done, req);
}

void front_kannel_init(void *ctx)
{
	http_route(LISTEN_FRONT, "GET", "/kannel/mo", kannel_mo);
	http_route(LISTEN_FRONT, "POST", "/kannel/mo", kannel_mo);
	http_route(LISTEN_FRONT, "GET", "/kannel/dlr", kannel_dlr);
	if (kannel_send_init(ctx) == 0)
		outbox_set_backend(&kannel_send_backend);
	else
		LOGP(DSMS, LOGL_NOTICE, "outbox: no sendsms configured (kannel sendsms url ...): SMS stay queued\n");
}

/* Sends in flight are dropped (the outbox has released their rows already). */
void front_kannel_close(void)
{
	kannel_send_shutdown();
}
