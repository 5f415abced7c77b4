/* GET /kannel/mo: Kannel's sms-service calls this for every MO.
 *
 * USSD arrives as an MO whose meta-data carries the SMPP TLVs ussd_service_op and
 * its_session_info (raw octets, URL-encoded once more inside the %D string). The reply goes
 * back synchronously in the HTTP response: Kannel turns X-Kannel-Meta-Data into the
 * submit_sm's TLVs, so we echo its_session_info and set ussd_service_op to "continue" or "end".
 * Everything else is an SMS and goes to the keyword commands. */
#include <stdio.h>
#include <string.h>
#include "front_kannel.h"
#include "cfg.h"
#include "gsm7.h"
#include "http.h"
#include "logging.h"
#include "menu.h"
#include "msisdn.h"
#include "session.h"
#include "sms.h"
#include "stats.h"

struct kannel_meta {
	int op;			/* ussd_service_op, -1 if absent */
	uint8_t sess[8];	/* its_session_info octets */
	unsigned sess_len;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* URL-decode into bytes; -1 on a bad escape or overflow. */
static int url_bytes(const char *s, size_t len, uint8_t *out, unsigned max)
{
	unsigned n = 0;
	for (size_t i = 0; i < len; i++) {
		int v = (uint8_t)s[i];
		if (s[i] == '%') {
			int hi, lo;
			if (i + 2 >= len || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				return -1;
			v = hi << 4 | lo;
			i += 2;
		} else if (s[i] == '+') {
			v = ' ';
		}
		if (n == max)
			return -1;
		out[n++] = v;
	}
	return n;
}

/* "?smpp?ussd_service_op=%01&its_session_info=4%01&" -> op and session octets. */
static int meta_parse(const char *meta, struct kannel_meta *km)
{
	km->op = -1;
	km->sess_len = 0;
	if (!meta || !*meta)
		return 0;
	if (strncmp(meta, "?smpp?", 6))
		return -1;
	for (const char *p = meta + 6; *p;) {
		const char *amp = strchr(p, '&'), *eq = strchr(p, '=');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		if (!eq || eq > p + len)
			return -1;
		uint8_t v[8];
		int n = url_bytes(eq + 1, p + len - eq - 1, v, sizeof(v));
		if (n < 0)
			return -1;
		if (!strncmp(p, "ussd_service_op=", 16)) {
			if (n != 1)
				return -1;
			km->op = v[0];
		} else if (!strncmp(p, "its_session_info=", 17)) {
			if (n != 2)
				return -1;
			memcpy(km->sess, v, n);
			km->sess_len = n;
		}
		p += len + (amp ? 1 : 0);
	}
	return 0;
}

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
	int n = snprintf(hdr, sizeof(hdr), "?smpp?ussd_service_op=%%%02X&its_session_info=",
			 end ? rc->link->op_end : rc->link->op_continue);
	uint8_t sess[2] = { rc->meta.sess[0], rc->meta.sess[1] };
	if (rc->link->end_bit)
		sess[1] = end ? (sess[1] | 1) : (sess[1] & ~1);
	for (unsigned i = 0; i < rc->meta.sess_len; i++)
		n += snprintf(hdr + n, sizeof(hdr) - n, "%%%02X", sess[i]);
	snprintf(hdr + n, sizeof(hdr) - n, "&");
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
	if (meta_parse(meta, &rc->meta) < 0)
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
	uint8_t s1 = rc->link->end_bit ? (rc->meta.sess[1] & ~1) : rc->meta.sess[1];
	snprintf(ref, sizeof(ref), "%s/%02x%02x/%s", msisdn, rc->meta.sess[0], s1, smsc ? smsc : "");
	struct session_hop hop = {
		.ch = SESSION_CH_KANNEL, .ref = ref, .msisdn = msisdn, .service_code = to, .mo_id = id,
		.reply = kannel_ussd_reply, .priv = rc,
	};
	if (rc->meta.op == rc->link->op_begin) {
		hop.op = SESSION_OP_BEGIN;
		/* the dialled code is the text of a PSSR indication; the short code is the fallback */
		if (text[0] == '*')
			hop.service_code = text;
	} else if (rc->meta.op == rc->link->op_answer) {
		hop.op = SESSION_OP_CONTINUE;
		hop.input = text;
	} else if (rc->meta.op == rc->link->op_abort) {
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

void front_kannel_init(void)
{
	http_route("GET", "/kannel/mo", kannel_mo);
	http_route("POST", "/kannel/mo", kannel_mo);
}
