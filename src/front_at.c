/* POST /ussd/at: form fields sessionId, serviceCode, phoneNumber, networkCode, text (every
 * input so far joined by '*'); the reply is "CON <screen>" or "END <screen>" as text/plain.
 * Anything malformed is answered 400 with the reason, before it reaches a session. */
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include "front_at.h"
#include "cfg.h"
#include "gsm7.h"
#include "http.h"
#include "logging.h"
#include "menu.h"
#include "msisdn.h"
#include "session.h"
#include "stats.h"

enum at_field { F_SESSION, F_SERVICE, F_PHONE, F_NETWORK, F_TEXT, F_COUNT };
static const char *const at_field_names[F_COUNT] = { "sessionId", "serviceCode", "phoneNumber", "networkCode", "text" };
static const size_t at_field_max[F_COUNT] = { 128, 32, 32, 16, 1024 };

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode one application/x-www-form-urlencoded value in place; -1 on a bad %XX. */
static int form_decode(char *s, size_t len, size_t *out_len)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '+') {
			s[o++] = ' ';
		} else if (s[i] == '%') {
			int hi, lo;
			if (i + 2 >= len || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				return -1;
			s[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = '\0';
	*out_len = o;
	return 0;
}

static void at_bad(struct http_req *req, const char *fmt, const char *arg)
{
	char msg[160];
	int n = snprintf(msg, sizeof(msg), fmt, arg);
	STAT_INC(AT_BAD_REQUESTS);
	LOGP(DAT, LOGL_INFO, "400 from %s: %s\n", http_req_peer(req), msg);
	http_reply(req, 400, "text/plain", msg, n < (int)sizeof(msg) ? n : (int)sizeof(msg) - 1);
}

static void at_reply(void *priv, bool end, const char *screen, size_t len)
{
	char body[MENU_SCREEN_BYTES + 8];
	if (len > MENU_SCREEN_BYTES)
		len = MENU_SCREEN_BYTES;
	memcpy(body, end ? "END " : "CON ", 4);
	memcpy(body + 4, screen, len);
	http_reply(priv, 200, "text/plain", body, len + 4);
}

static void at_handle(struct http_req *req)
{
	size_t blen;
	const char *body = http_req_body(req, &blen);
	char *val[F_COUNT] = { 0 };

	STAT_INC(AT_HOPS);
	/* decoded in place in a copy owned by the request (http max-body bounds its size) */
	char *buf = talloc_memdup(req, body, blen + 1);
	buf[blen] = '\0';

	/* split name=value pairs; unknown fields are ignored, as aggregators add their own */
	for (char *p = buf, *next; p && *p; p = next) {
		next = strchr(p, '&');
		if (next)
			*next++ = '\0';
		char *eq = strchr(p, '=');
		if (!eq)
			continue;
		*eq = '\0';
		for (int f = 0; f < F_COUNT; f++) {
			if (strcmp(p, at_field_names[f]))
				continue;
			size_t len;
			if (form_decode(eq + 1, strlen(eq + 1), &len) < 0)
				return at_bad(req, "bad %%-encoding in %s", at_field_names[f]);
			if (len > at_field_max[f])
				return at_bad(req, "%s too long", at_field_names[f]);
			if (memchr(eq + 1, '\0', len) || gsm7_measure(eq + 1, len, &(struct gsm7_measure){ 0 }) < 0)
				return at_bad(req, "%s is not valid UTF-8 text", at_field_names[f]);
			val[f] = eq + 1;
		}
	}
	for (int f = 0; f < F_COUNT; f++)
		if (!val[f] && f != F_NETWORK)
			return at_bad(req, "missing field %s", at_field_names[f]);
	if (!val[F_SESSION][0])
		return at_bad(req, "empty %s", "sessionId");
	if (!val[F_SERVICE][0])
		return at_bad(req, "empty %s", "serviceCode");
	char msisdn[MSISDN_BUF_LEN];
	if (msisdn_normalize(val[F_PHONE], g_cfg->country_code, msisdn, sizeof(msisdn)) < 0)
		return at_bad(req, "bad phoneNumber \"%s\"", val[F_PHONE]);

	struct session_hop hop = {
		.ch = SESSION_CH_AT,
		.ref = val[F_SESSION],
		.msisdn = msisdn,
		.service_code = val[F_SERVICE],
		.text = val[F_TEXT],
		.reply = at_reply,
		.priv = req,
	};
	session_hop(&hop);
}

void front_at_init(void)
{
	http_route("POST", "/ussd/at", at_handle);
}
