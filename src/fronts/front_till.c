/* The retailer till API (DESIGN.md section 4; doc/retailer-api.md is the reference):
 *
 *   GET  /api/v1/slips/{ref}                           a slip: amount due, status, expiry, order
 *   GET  /api/v1/slips/{ref}.png | .svg | .pdf         the slip to print (barcode.c)
 *   POST /api/v1/slips/{ref}/payments                  {"payment_id": "...", "amount_cents": N}
 *   POST /api/v1/slips/{ref}/payments/{id}/reversal    {"payment_id": "{id}"}
 *
 * Every request is signed: X-Spaza-Key names the retailer's key id and X-Spaza-Signature is
 * "t=<unix time>,v1=<hex HMAC-SHA256(secret, t "." body)>", where the secret is
 * HMAC-SHA256('retailer-master', key id) (secrets.h): derived here, stored nowhere. The
 * signature and the clock are checked before the database is asked anything, so a flood of
 * unsigned requests costs one HMAC each and no query. A signed request then counts against its
 * key's `limits till-requests-per-minute` (ratelimit.c); past it: 429 with a Retry-After.
 *
 * The money is moved by spaza_slip_pay() / spaza_slip_reverse() (sql/002_ledger.sql), one
 * statement each. They are idempotent by the till's payment id: a repeat gets the stored first
 * response, written out the same way every time, so it is the same byte for byte. Refusals
 * are built here as {"error": CODE, "message": TEXT, ...} with the HTTP status of the table
 * below; the code is the SQL function's outcome word where there is one. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <talloc.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <osmocom/core/linuxlist.h>
#include "barcode.h"
#include "cfg.h"
#include "db.h"
#include "easypay.h"
#include "front_till.h"
#include "http.h"
#include "logging.h"
#include "money.h"
#include "ratelimit.h"
#include "secrets.h"
#include "stats.h"

#define TILL_PREFIX "/api/v1/slips/"
#define TILL_MAX_SKEW_S 300		/* a request's t may be this far from our clock, either way */
#define TILL_KEY_MAX 64
#define TILL_PAYMENT_ID_MAX 64
#define TILL_SIG_V1_MAX 4		/* v1= entries looked at in one header */
#define TILL_AMOUNT_MAX 999999999999LL
#define TILL_RETRY_AFTER_S "5"

enum till_op {
	TILL_OP_LOOKUP,
	TILL_OP_IMAGE,
	TILL_OP_PAY,
	TILL_OP_REVERSE,
};

/* One request between its arrival and its answer; a talloc child of the request, so it goes
 * when the connection does, and its database request is cancelled then. */
struct till_call {
	struct llist_head entry;
	struct http_req *req;
	struct db_req *dbr;
	enum till_op op;
	enum barcode_out fmt;
	char key_id[TILL_KEY_MAX + 1];
	char ref[EASYPAY_REF_BUF];
	char payment_id[TILL_PAYMENT_ID_MAX + 1];
	int64_t amount_cents;
};

static struct {
	void *ctx;
	struct llist_head calls;
} g;

/* Every refusal: its HTTP status, its counter, what it means. */
static const struct till_refusal {
	const char *code;
	unsigned status;
	enum spaza_ctr ctr;
	const char *message;
} till_refusals[] = {
	{ "missing_key", 401, CTR_TILL_BAD_SIGNATURE, "X-Spaza-Key is missing: it names your key id" },
	{ "missing_signature", 401, CTR_TILL_BAD_SIGNATURE, "X-Spaza-Signature is missing" },
	{ "bad_signature_header", 401, CTR_TILL_BAD_SIGNATURE,
	  "X-Spaza-Signature must be t=<unix time>,v1=<64 hex digits>" },
	{ "bad_signature", 401, CTR_TILL_BAD_SIGNATURE,
	  "the signature does not match: sign t + \".\" + the exact body bytes with your key's secret" },
	{ "stale_timestamp", 401, CTR_TILL_STALE, "the signature's time t is more than 300 s from the server's clock" },
	{ "unknown_key", 401, CTR_TILL_UNKNOWN_KEY, "the key id is unknown or revoked" },
	{ "not_found", 404, CTR_TILL_BAD_REQUEST, "no such endpoint" },
	{ "unknown_slip", 404, CTR_TILL_UNKNOWN_SLIP, "no slip has this reference" },
	{ "unknown_payment", 404, CTR_TILL_UNKNOWN_SLIP, "no payment has this id" },
	{ "expired", 410, CTR_TILL_EXPIRED, "the slip has expired: the customer needs a new one" },
	{ "voided", 410, CTR_TILL_EXPIRED, "the slip is void: its order was cancelled or paid another way" },
	{ "wrong_amount", 422, CTR_TILL_WRONG_AMOUNT, "the amount is not the amount due (amount_cents)" },
	{ "rate_limited", 429, CTR_LIMIT_TILL,
	  "this key sent too many requests in a minute: send again after Retry-After seconds (with a new signature)" },
	{ "conflict", 409, CTR_TILL_CONFLICT,
	  "this payment id was used before for another slip or amount: use a new id for a new payment" },
	{ "reversed", 409, CTR_TILL_CONFLICT, "this payment id was reversed: it can never be confirmed again" },
	{ "already_paid", 409, CTR_TILL_CONFLICT, "the slip is already paid by another payment" },
	{ "not_payable", 409, CTR_TILL_CONFLICT, "the order is no longer awaiting payment (cancelled or paid otherwise)" },
	{ "wrong_slip", 409, CTR_TILL_CONFLICT, "this payment id belongs to another slip" },
	{ "paid_by_other", 409, CTR_TILL_CONFLICT,
	  "the slip is paid by another payment, not by this payment id: nothing of yours to reverse" },
	{ "shipped", 409, CTR_TILL_CONFLICT, "the order has shipped: too late to reverse" },
	{ "not_reversible", 409, CTR_TILL_CONFLICT, "the order was cancelled and refunded meanwhile: nothing to reverse" },
	{ "bad_json", 400, CTR_TILL_BAD_REQUEST, "the body is not a JSON object" },
	{ "bad_request", 400, CTR_TILL_BAD_REQUEST, "the request is malformed" },
	{ "unavailable", 503, CTR_TILL_UNAVAILABLE,
	  "the payment service is unavailable: send the same request again (with a new signature) shortly" },
};

static const struct till_refusal *till_refusal(const char *code)
{
	for (size_t i = 0; i < sizeof(till_refusals) / sizeof(till_refusals[0]); i++)
		if (!strcmp(till_refusals[i].code, code))
			return &till_refusals[i];
	return NULL;
}

static void till_ctr(enum spaza_ctr ctr)
{
	rate_ctr_inc(rate_ctr_group_get_ctr(g_ctrs, ctr));
}

/* ---- replies */

static void till_reply_json(struct http_req *req, unsigned status, const char *text, size_t len)
{
	http_reply_header(req, "Cache-Control", "no-store");
	if (status == 503)
		http_reply_header(req, "Retry-After", TILL_RETRY_AFTER_S);
	http_reply(req, status, "application/json", text, len);
}

/* Reply with obj (taken over) and a newline. */
static void till_reply_obj(struct http_req *req, unsigned status, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (!s) {
		static const char oom[] = "{\"error\":\"unavailable\"}\n";
		return till_reply_json(req, 503, oom, sizeof(oom) - 1);
	}
	size_t n = strlen(s);
	char *body = talloc_size(req, n + 2);
	memcpy(body, s, n);
	body[n] = '\n';
	body[n + 1] = '\0';
	free(s);
	till_reply_json(req, status, body, n + 1);
	talloc_free(body);
}

/* A refusal: {"error", "message"} and the fields of extra (taken over, may be NULL); a detail,
 * when given, replaces the table's message. */
__attribute__((format(printf, 4, 5)))
static void till_refuse(struct http_req *req, const char *code, json_t *extra, const char *detail_fmt, ...)
{
	const struct till_refusal *r = till_refusal(code);
	char detail[256];
	json_t *obj = json_object();

	if (!r) {	/* an outcome word the SQL side added later */
		LOGP(DCAT, LOGL_ERROR, "till: no refusal for outcome \"%s\"\n", code);
		r = till_refusal("unavailable");
	}
	if (detail_fmt) {
		va_list ap;
		va_start(ap, detail_fmt);
		vsnprintf(detail, sizeof(detail), detail_fmt, ap);
		va_end(ap);
	}
	json_object_set_new(obj, "error", json_string(code));
	json_object_set_new(obj, "message", json_string(detail_fmt ? detail : r->message));
	if (extra) {
		const char *k;
		json_t *v;
		json_object_foreach(extra, k, v)
			if (strcmp(k, "outcome") && strcmp(k, "at"))
				json_object_set(obj, k, v);
		json_decref(extra);
	}
	till_ctr(r->ctr);
	LOGP(DCAT, LOGL_INFO, "till %s from %s: %u %s\n", http_req_path(req), http_req_peer(req), r->status, code);
	till_reply_obj(req, r->status, obj);
}

/* ---- the signature */

static int till_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool till_key_ok(const char *key)
{
	size_t n = strlen(key);
	return n >= 8 && n <= TILL_KEY_MAX &&
	       strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* Whether the request is signed by the key it names, within the clock window. When it is
 * not, the refusal has been sent. */
static bool till_authenticate(struct http_req *req, struct till_call *c)
{
	const char *key = http_req_header(req, "X-Spaza-Key");
	const char *sig = http_req_header(req, "X-Spaza-Signature");
	const char *t = NULL;
	size_t t_len = 0, n_v1 = 0, blen;
	uint8_t v1[TILL_SIG_V1_MAX][SECRETS_HMAC_LEN];

	if (!key || !*key) {
		till_refuse(req, "missing_key", NULL, NULL);
		return false;
	}
	if (!sig || !*sig) {
		till_refuse(req, "missing_signature", NULL, NULL);
		return false;
	}
	/* "t=1700000000,v1=ab12...": items in any order, spaces after the commas allowed,
	 * other schemes (v0=...) ignored, up to TILL_SIG_V1_MAX v1 values (key rollover) */
	for (const char *p = sig; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t len = strcspn(p, ",");
		if (len > 2 && !strncmp(p, "t=", 2)) {
			t = p + 2;
			t_len = len - 2;
		} else if (len == 3 + 2 * SECRETS_HMAC_LEN && !strncmp(p, "v1=", 3) && n_v1 < TILL_SIG_V1_MAX) {
			bool ok = true;
			for (int i = 0; i < SECRETS_HMAC_LEN && ok; i++) {
				int hi = till_hexval(p[3 + 2 * i]), lo = till_hexval(p[4 + 2 * i]);
				ok = hi >= 0 && lo >= 0;
				if (ok)	/* -1 << 4 is undefined */
					v1[n_v1][i] = hi << 4 | lo;
			}
			if (!ok) {
				till_refuse(req, "bad_signature_header", NULL, NULL);
				return false;
			}
			n_v1++;
		}
		p += len;
	}
	if (!t || !n_v1 || t_len > 12 || strspn(t, "0123456789") != t_len) {
		till_refuse(req, "bad_signature_header", NULL, NULL);
		return false;
	}
	long long ts = strtoll(t, NULL, 10), now = time(NULL);
	if (ts < now - TILL_MAX_SKEW_S || ts > now + TILL_MAX_SKEW_S) {
		till_refuse(req, "stale_timestamp", NULL,
			    "the signature's time t=%lld is %lld s %s the server's clock (%lld); at most %d s either way",
			    ts, ts < now ? now - ts : ts - now, ts < now ? "behind" : "ahead of", now, TILL_MAX_SKEW_S);
		return false;
	}
	if (!till_key_ok(key)) {
		till_refuse(req, "unknown_key", NULL, NULL);
		return false;
	}

	uint8_t secret[SECRETS_HMAC_LEN], mac[SECRETS_HMAC_LEN];
	unsigned mac_len = 0;
	if (secrets_hmac("retailer-master", key, strlen(key), secret) < 0) {
		till_refuse(req, "unavailable", NULL, "the server has no retailer-master key: tell the shop");
		return false;
	}
	const char *body = http_req_body(req, &blen);
	char *signed_text = talloc_size(req, t_len + 1 + blen);
	memcpy(signed_text, t, t_len);
	signed_text[t_len] = '.';
	memcpy(signed_text + t_len + 1, body, blen);
	bool ok = HMAC(EVP_sha256(), secret, sizeof(secret), (const uint8_t *)signed_text, t_len + 1 + blen, mac,
		       &mac_len) && mac_len == SECRETS_HMAC_LEN;
	talloc_free(signed_text);
	OPENSSL_cleanse(secret, sizeof(secret));
	bool match = false;
	for (size_t i = 0; ok && i < n_v1; i++)
		match |= CRYPTO_memcmp(mac, v1[i], SECRETS_HMAC_LEN) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	if (!match) {
		till_refuse(req, "bad_signature", NULL, NULL);
		return false;
	}
	snprintf(c->key_id, sizeof(c->key_id), "%s", key);

	/* Counted only now that the signature holds: a forger cannot spend a real retailer's
	 * budget (forgeries are till:bad-signature), and the table only ever holds key ids the
	 * shop issued a secret for. A revoked key still counts here (only its holder can sign);
	 * the database refuses it after. */
	unsigned limit = g_cfg->till_requests_per_minute;
	unsigned wait_s = ratelimit_take(RATELIMIT_KIND_TILL, c->key_id, limit);
	if (wait_s) {
		char retry_after[16];
		snprintf(retry_after, sizeof(retry_after), "%u", wait_s);
		http_reply_header(req, "Retry-After", retry_after);
		LOGP(DCAT, LOGL_NOTICE, "till key %s: request limit reached (%u a minute)\n", c->key_id, limit);
		till_refuse(req, "rate_limited", json_pack("{si}", "retry_after_s", (int)wait_s),
			    "this key sent more than %u requests in a minute: send again in %u s (with a new signature)",
			    limit, wait_s);
		return false;
	}
	return true;
}

/* ---- requests */

static int till_call_destructor(struct till_call *c)
{
	if (c->dbr)
		db_cancel(c->dbr);
	llist_del(&c->entry);
	return 0;
}

static struct till_call *till_call_new(struct http_req *req, enum till_op op)
{
	struct till_call *c = talloc_zero(req, struct till_call);
	c->req = req;
	c->op = op;
	llist_add_tail(&c->entry, &g.calls);
	talloc_set_destructor(c, till_call_destructor);
	return c;
}

/* The slip reference from the path or a body: 15 digits, spaces between them allowed (the
 * grouped form), or the 16 digits an ITF scan gives ("0" + the reference). When it is not
 * one, the refusal has been sent. */
static bool till_ref(struct http_req *req, const char *in, size_t len, char out[EASYPAY_REF_BUF])
{
	char digits[32];
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (in[i] == ' ')
			continue;
		if (in[i] < '0' || in[i] > '9' || n + 1 >= sizeof(digits)) {
			till_refuse(req, "unknown_slip", NULL, "not a slip reference: 15 digits starting with 9");
			return false;
		}
		digits[n++] = in[i];
	}
	digits[n] = '\0';
	const char *d = n == EASYPAY_REF_LEN + 1 && digits[0] == '0' ? digits + 1 : digits;
	int rc = easypay_ref_parse(d, NULL, NULL, out, EASYPAY_REF_BUF);
	if (rc == -EBADMSG)
		till_refuse(req, "unknown_slip", NULL, "the reference's check digit is wrong: check the number typed");
	else if (rc < 0)
		till_refuse(req, "unknown_slip", NULL, "not a slip reference: 15 digits starting with 9");
	return rc == 0;
}

static bool till_db_failed(struct till_call *c, int err)
{
	if (!err)
		return false;
	STAT_INC(DB_ERRORS);
	LOGP(DCAT, LOGL_NOTICE, "till %s: database %s\n", http_req_path(c->req), err == -ENOTCONN ? "down" : "error");
	till_refuse(c->req, "unavailable", NULL, NULL);
	talloc_free(c);
	return true;
}

/* TILL_LOOKUP columns */
enum { LK_RETAILER, LK_REF, LK_STATUS, LK_AMOUNT, LK_EXPIRES_AT, LK_EXPIRES_DATE, LK_ORDER, LK_ORDER_STATUS,
       LK_PAYMENT_ID, LK_PAYMENT_MINE };

static void till_image(struct till_call *c, const PGresult *res)
{
	struct barcode_slip slip = {
		.shop = BARCODE_SHOP_DEFAULT,
		.ref = PQgetvalue(res, 0, LK_REF),
		.order_id = strtoll(PQgetvalue(res, 0, LK_ORDER), NULL, 10),
		.amount_cents = strtoll(PQgetvalue(res, 0, LK_AMOUNT), NULL, 10),
		.expires = PQgetvalue(res, 0, LK_EXPIRES_DATE),
	};
	uint8_t *img;
	size_t len;
	char disp[64];
	int rc = barcode_slip_render(c, &slip, c->fmt, &img, &len);
	if (rc < 0) {
		LOGP(DCAT, LOGL_ERROR, "slip %s: cannot render %s (%d)\n", c->ref, barcode_out_name(c->fmt), rc);
		till_refuse(c->req, "unavailable", NULL, rc == -ENOKEY ?
			    "the server has no slip-qr key to sign the slip's QR code: tell the shop" : NULL);
		return;
	}
	till_ctr(CTR_TILL_IMAGES);
	snprintf(disp, sizeof(disp), "inline; filename=\"slip-%s.%s\"", c->ref, barcode_out_name(c->fmt));
	http_reply_header(c->req, "Content-Disposition", disp);
	http_reply_header(c->req, "Cache-Control", "no-store");
	http_reply(c->req, 200, barcode_out_ctype(c->fmt), (const char *)img, len);
}

static void till_lookup_done(void *priv, const PGresult *res, int err)
{
	struct till_call *c = priv;
	c->dbr = NULL;
	if (till_db_failed(c, err))
		return;
	if (PQntuples(res) == 0) {
		till_refuse(c->req, "unknown_key", NULL, NULL);
		goto out;
	}
	if (PQgetisnull(res, 0, LK_REF)) {
		till_refuse(c->req, "unknown_slip", json_pack("{ss}", "ref", c->ref), NULL);
		goto out;
	}
	const char *status = PQgetvalue(res, 0, LK_STATUS);
	int64_t amount = strtoll(PQgetvalue(res, 0, LK_AMOUNT), NULL, 10);
	char grouped[EASYPAY_GROUPED_BUF], money[MONEY_BUF_LEN];
	easypay_ref_group(grouped, sizeof(grouped), c->ref);
	money_format(money, sizeof(money), amount);
	bool gone = !strcmp(status, "expired") || !strcmp(status, "voided");
	if (c->op == TILL_OP_IMAGE && !gone) {
		till_image(c, res);
		goto out;
	}

	json_t *obj = json_object();
	json_object_set_new(obj, "ref", json_string(c->ref));
	json_object_set_new(obj, "ref_grouped", json_string(grouped));
	json_object_set_new(obj, "status", json_string(status));
	json_object_set_new(obj, "amount_cents", json_integer(amount));
	json_object_set_new(obj, "amount", json_string(money));
	json_object_set_new(obj, "expires_at", json_string(PQgetvalue(res, 0, LK_EXPIRES_AT)));
	json_object_set_new(obj, "order", json_integer(strtoll(PQgetvalue(res, 0, LK_ORDER), NULL, 10)));
	json_object_set_new(obj, "order_status", json_string(PQgetvalue(res, 0, LK_ORDER_STATUS)));
	json_object_set_new(obj, "payable", json_boolean(!strcmp(status, "open") &&
							  !strcmp(PQgetvalue(res, 0, LK_ORDER_STATUS), "awaiting_payment")));
	/* a till resolving a timeout learns whether the payment in force is its own */
	if (!PQgetisnull(res, 0, LK_PAYMENT_ID)) {
		bool mine = !strcmp(PQgetvalue(res, 0, LK_PAYMENT_MINE), "t");
		json_object_set_new(obj, "paid_by_you", json_boolean(mine));
		if (mine)
			json_object_set_new(obj, "payment_id", json_string(PQgetvalue(res, 0, LK_PAYMENT_ID)));
	}
	if (gone) {
		till_refuse(c->req, status, obj, NULL);
		goto out;
	}
	till_ctr(CTR_TILL_LOOKUPS);
	till_reply_obj(c->req, 200, obj);
out:
	talloc_free(c);
}

/* TILL_PAY and TILL_REVERSE: outcome, order_id, amount_cents, response (jsonb as text) */
static void till_money_done(void *priv, const PGresult *res, int err)
{
	struct till_call *c = priv;
	const char *ok_outcome = c->op == TILL_OP_PAY ? "paid" : "reversed";
	c->dbr = NULL;
	if (till_db_failed(c, err))
		return;
	if (PQntuples(res) != 1) {
		till_db_failed(c, -EIO);
		return;
	}
	const char *outcome = PQgetvalue(res, 0, 0), *response = PQgetvalue(res, 0, 3);
	if (!strcmp(outcome, ok_outcome)) {
		char amount[MONEY_BUF_LEN];
		money_format(amount, sizeof(amount), strtoll(PQgetvalue(res, 0, 2), NULL, 10));
		LOGP(DCAT, LOGL_NOTICE, "slip %s %s: key %s, payment id %s, order %s, %s\n", c->ref, outcome, c->key_id,
		     c->payment_id, PQgetvalue(res, 0, 1), amount);
		till_ctr(c->op == TILL_OP_PAY ? CTR_TILL_PAID : CTR_TILL_REVERSED);
		/* The stored first response, in our compact form. A repeat gets the same bytes: the
		 * same stored jsonb text, written out in the same key order. */
		json_t *obj = json_loads(response, 0, NULL);
		if (!json_is_object(obj)) {
			json_decref(obj);
			till_db_failed(c, -EIO);
			return;
		}
		till_reply_obj(c->req, 200, obj);
	} else {
		json_t *extra = json_loads(response, 0, NULL);
		if (extra && !json_is_object(extra)) {
			json_decref(extra);
			extra = NULL;
		}
		till_refuse(c->req, outcome, extra, NULL);
	}
	talloc_free(c);
}

/* The JSON body of a POST: payment_id always (1-64 printable characters, no spaces), ref
 * optional (must be the path's slip), amount_cents for payments. When it is not right, the
 * refusal has been sent. */
static bool till_parse_body(struct till_call *c, const char *path_id)
{
	size_t len;
	const char *body = http_req_body(c->req, &len);
	json_error_t jerr;
	json_t *j = len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	bool ok = false;

	if (!len) {
		till_refuse(c->req, "bad_json", NULL, "the body is empty: send a JSON object naming the payment, "
			    "{\"payment_id\": \"...\"%s}", c->op == TILL_OP_PAY ? ", \"amount_cents\": N" : "");
		return false;
	}
	if (!j || !json_is_object(j)) {
		if (j)
			till_refuse(c->req, "bad_json", NULL, "the body is JSON but not an object");
		else
			till_refuse(c->req, "bad_json", NULL, "the body is not JSON: %s (line %d, column %d)", jerr.text,
				    jerr.line, jerr.column);
		goto out;
	}
	json_t *id = json_object_get(j, "payment_id"), *amount = json_object_get(j, "amount_cents");
	json_t *ref = json_object_get(j, "ref");
	const char *ids = json_is_string(id) ? json_string_value(id) : NULL;
	size_t idl = ids ? json_string_length(id) : 0;
	bool id_ok = ids && idl >= 1 && idl <= TILL_PAYMENT_ID_MAX && strlen(ids) == idl;
	for (size_t i = 0; id_ok && i < idl; i++)
		id_ok = ids[i] > ' ' && ids[i] < 0x7f;
	if (!id_ok) {
		till_refuse(c->req, "bad_request", NULL,
			    "payment_id must be a string of 1 to 64 printable ASCII characters without spaces");
		goto out;
	}
	if (path_id && strcmp(ids, path_id)) {
		till_refuse(c->req, "bad_request", NULL, "payment_id in the body is not the payment id in the path");
		goto out;
	}
	if (ref) {
		char body_ref[EASYPAY_REF_BUF];
		if (!json_is_string(ref)) {
			till_refuse(c->req, "bad_request", NULL, "ref must be a string");
			goto out;
		}
		if (!till_ref(c->req, json_string_value(ref), json_string_length(ref), body_ref))
			goto out;
		if (strcmp(body_ref, c->ref)) {
			till_refuse(c->req, "bad_request", NULL, "ref in the body is not the slip in the path");
			goto out;
		}
	}
	if (c->op == TILL_OP_PAY) {
		if (!json_is_integer(amount) || json_integer_value(amount) <= 0 ||
		    json_integer_value(amount) > TILL_AMOUNT_MAX) {
			till_refuse(c->req, "bad_request", NULL, "amount_cents must be a whole number of cents above 0");
			goto out;
		}
		c->amount_cents = json_integer_value(amount);
	}
	snprintf(c->payment_id, sizeof(c->payment_id), "%s", ids);
	ok = true;
out:
	json_decref(j);
	return ok;
}

static void till_get(struct http_req *req)
{
	const char *rest = http_req_path_rest(req);
	struct till_call *c = till_call_new(req, TILL_OP_LOOKUP);
	size_t ref_len = strlen(rest);
	const char *dot = strrchr(rest, '.');

	if (dot) {
		if (barcode_out_parse(dot + 1, &c->fmt) < 0 || strchr(rest, '/')) {
			till_refuse(req, "not_found", NULL, "no such endpoint: slip images are {ref}.png, .svg or .pdf");
			goto fail;
		}
		c->op = TILL_OP_IMAGE;
		ref_len = dot - rest;
	} else if (strchr(rest, '/')) {
		till_refuse(req, "not_found", NULL, NULL);
		goto fail;
	}
	if (!till_authenticate(req, c) || !till_ref(req, rest, ref_len, c->ref))
		goto fail;
	const char *params[2] = { c->key_id, c->ref };
	c->dbr = db_read(DB_TILL_LOOKUP, 2, params, till_lookup_done, c);
	return;
fail:
	talloc_free(c);
}

static void till_post(struct http_req *req)
{
	const char *rest = http_req_path_rest(req);
	const char *slash = strchr(rest, '/');
	struct till_call *c = till_call_new(req, TILL_OP_PAY);
	char *path_id = NULL;
	static const char payments[] = "/payments", reversal[] = "/reversal";

	/* {ref}/payments or {ref}/payments/{id}/reversal; the id may hold anything printable,
	 * '/' too (percent-encoded by the till, decoded by libmicrohttpd) */
	if (!slash || strncmp(slash, payments, strlen(payments))) {
		till_refuse(req, "not_found", NULL, NULL);
		goto fail;
	}
	const char *after = slash + strlen(payments);
	if (*after) {
		size_t n = strlen(after), rl = strlen(reversal);
		if (after[0] != '/' || n < rl + 2 || strcmp(after + n - rl, reversal)) {
			till_refuse(req, "not_found", NULL, NULL);
			goto fail;
		}
		c->op = TILL_OP_REVERSE;
		path_id = talloc_strndup(c, after + 1, n - rl - 1);
	}
	if (!till_authenticate(req, c) || !till_ref(req, rest, slash - rest, c->ref) || !till_parse_body(c, path_id))
		goto fail;

	if (c->op == TILL_OP_PAY) {
		/* the same payment id is the same request when it names the same slip and amount,
		 * however the JSON around them is written */
		char canon[64], hash_hex[2 * SHA256_DIGEST_LENGTH + 1], amount[24];
		uint8_t hash[SHA256_DIGEST_LENGTH];
		int n = snprintf(canon, sizeof(canon), "%s|%" PRId64, c->ref, c->amount_cents);
		SHA256((const uint8_t *)canon, n, hash);
		for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
			snprintf(hash_hex + 2 * i, 3, "%02x", hash[i]);
		snprintf(amount, sizeof(amount), "%" PRId64, c->amount_cents);
		const char *params[5] = { c->key_id, c->payment_id, c->ref, amount, hash_hex };
		c->dbr = db_write(DB_TILL_PAY, 5, params, till_money_done, c);
	} else {
		const char *params[3] = { c->key_id, c->payment_id, c->ref };
		c->dbr = db_write(DB_TILL_REVERSE, 3, params, till_money_done, c);
	}
	return;
fail:
	talloc_free(c);
}

void front_till_init(void *ctx)
{
	g.ctx = ctx;
	INIT_LLIST_HEAD(&g.calls);
	http_route_prefix(LISTEN_TILL, "GET", TILL_PREFIX, till_get);
	http_route_prefix(LISTEN_TILL, "POST", TILL_PREFIX, till_post);
}

void front_till_close(void)
{
	struct till_call *c, *tmp;
	if (!g.calls.next)
		return;
	llist_for_each_entry_safe(c, tmp, &g.calls, entry) {
		till_refuse(c->req, "unavailable", NULL, "the server is shutting down: send the same request again shortly");
		talloc_free(c);
	}
}
