/* The retailer till API (DESIGN.md section 4; doc/retailer-api.md is the reference):
 *
 *   GET  /api/v1/slips/{ref}                           a slip: amount due, status, expiry, order
 *   GET  /api/v1/slips/{ref}.png | .svg | .pdf         the slip to print (barcode.c)
 *   POST /api/v1/slips/{ref}/payments                  {"type": "payment", "ref": "{ref}",
 *                                                       "payment_id": "...", "amount_cents": N}
 *   POST /api/v1/slips/{ref}/payments/{id}/reversal    {"type": "reversal", "ref": "{ref}",
 *                                                       "payment_id": "{id}"}
 *   GET  /api/v1/orders/{id}/cod-payment               a cash-on-delivery order: amount due, status
 *   POST /api/v1/orders/{id}/cod-payment               {"type": "cod_payment", "order": {id},
 *                                                       "payment_id": "...", "amount_cents": N}
 *
 * Every request is signed: X-Spaza-Key names the retailer's key id and X-Spaza-Signature is
 * "t=<unix time>,v2=<hex HMAC-SHA256(secret, canonical string)>", where the secret is the
 * lower-case hex of HMAC-SHA256('retailer-master', key id) (secrets.h), 64 characters as
 * spazactl prints them: derived here, stored nowhere. As text, so that `openssl dgst -hmac`
 * and every language's HMAC take it as given, with nothing to decode first. The canonical
 * string is the whole request, one item a line (till_canonical()):
 *
 *   v2 \n METHOD \n TARGET \n KEY ID \n T \n hex SHA-256 of the body
 *
 * TARGET being the path and query exactly as on the request line. A signature is good for
 * one request: another path, method, key or body needs its own, and the same one again within
 * its 300 s is a replay, refused (till_seen_add()). Both bodies name their slip and what they
 * are, so that no body means one thing on one path and another elsewhere.
 *
 * The signature and the clock are checked before the database is asked anything, so a flood
 * of unsigned requests costs one HMAC each and no query. A signed request then counts against
 * its key's `limits till-requests-per-minute` (ratelimit.c); past it: 429 with a Retry-After.
 * A slip lookup answers with the amount and status of an order, so a key that keeps naming
 * slips that do not exist (guessing) is stopped too: past `limits
 * till-unknown-slips-per-minute`, its lookups, images and payments get 429 until the minute
 * is over. Reversals are never held back: they undo money a till took.
 *
 * What a slip is and how it is looked up and drawn is slip.c's; the money is moved by the
 * money room (ledger.h), one statement each way, idempotent by the till's payment id: a repeat
 * gets the stored first response, written out the same way every time, so it is the same byte
 * for byte. This file is HTTP, JSON and the signature. Refusals are built here as
 * {"error": CODE, "message": TEXT, ...} with the HTTP status of the tables below; the code is
 * the ledger's outcome word (ledger_outcomes.def) where there is one. */
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
#include <osmocom/core/hashtable.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>
#include "cfg.h"
#include "db.h"
#include "front_till.h"
#include "http.h"
#include "ledger.h"
#include "logging.h"
#include "money.h"
#include "ratelimit.h"
#include "secrets.h"
#include "slip.h"
#include "stats.h"
#include "cod.h"

#define TILL_PREFIX "/api/v1/slips/"
#define TILL_ORDERS_PREFIX "/api/v1/orders/"
#define TILL_COD_SUFFIX "/cod-payment"
#define TILL_MAX_SKEW_S 300		/* a request's t may be this far from our clock, either way */
#define TILL_KEY_MAX 64
#define TILL_PAYMENT_ID_MAX 64
#define TILL_SIG_V2_MAX 4		/* v2= entries looked at in one header */
#define TILL_SEEN_HASH_BITS 14		/* 16,384 chains for till replay-max's 100,000 signatures */
#define TILL_SEEN_SWEEP_S 30
#define TILL_AMOUNT_MAX 999999999999LL
#define TILL_RETRY_AFTER_S "5"

enum till_op {
	TILL_OP_LOOKUP,
	TILL_OP_IMAGE,
	TILL_OP_PAY,
	TILL_OP_REVERSE,
	TILL_OP_COD_LOOKUP,	/* a cash-on-delivery order (cod.h) */
	TILL_OP_COD_PAY,
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
	int64_t order_id;	/* the COD ops' */
};

/* A signature seen, until its request would be stale anyway. */
struct till_seen {
	struct hlist_node node;
	time_t expires;		/* its t + TILL_MAX_SKEW_S, on the wall clock its t is checked on */
	uint8_t mac[SECRETS_HMAC_LEN];
	char key_id[];
};

static struct {
	void *ctx;
	struct llist_head calls;
	void *seen_ctx;
	DECLARE_HASHTABLE(seen, TILL_SEEN_HASH_BITS);
	unsigned n_seen;
	time_t full_sweep;	/* when a full table was last swept on the spot */
	struct osmo_timer_list sweep;
} g;

/* A refusal's HTTP status, its counter, what it means. */
struct till_answer {
	unsigned status;
	enum spaza_ctr ctr;
	const char *message;
};

/* The refusals of the HTTP layer, before or beside the ledger. */
static const struct {
	const char *code;
	struct till_answer a;
} till_refusals[] = {
	{ "missing_key", { 401, CTR_TILL_BAD_SIGNATURE, "X-Spaza-Key is missing: it names your key id" } },
	{ "missing_signature", { 401, CTR_TILL_BAD_SIGNATURE, "X-Spaza-Signature is missing" } },
	{ "bad_signature_header", { 401, CTR_TILL_BAD_SIGNATURE,
	  "X-Spaza-Signature must be t=<unix time>,v2=<64 hex digits>" } },
	{ "bad_signature", { 401, CTR_TILL_BAD_SIGNATURE,
	  "the signature does not match: sign \"v2\", the method, the path and query as sent, the key id, t and "
	  "the hex SHA-256 of the exact body, one a line, with your key's secret (doc/retailer-api.md)" } },
	{ "stale_timestamp", { 401, CTR_TILL_STALE, "the signature's time t is more than 300 s from the server's clock" } },
	{ "replayed", { 401, CTR_TILL_REPLAYED,
	  "this signature was used before: it is good for one request. To send a request again, sign it again "
	  "(a new t); a payment id sent again gets its first result" } },
	{ "busy", { 503, CTR_TILL_REPLAY_FULL,
	  "the server is too busy to take more signed requests: send again (with a new signature) shortly" } },
	{ "not_found", { 404, CTR_TILL_BAD_REQUEST, "no such endpoint" } },
	{ "rate_limited", { 429, CTR_LIMIT_TILL,
	  "this key sent too many requests in a minute: send again after Retry-After seconds (with a new signature)" } },
	{ "too_many_unknown_slips", { 429, CTR_LIMIT_TILL_UNKNOWN,
	  "this key named too many slips that do not exist in a minute: send again after Retry-After seconds "
	  "(with a new signature)" } },
	{ "bad_json", { 400, CTR_TILL_BAD_REQUEST, "the body is not a JSON object" } },
	{ "bad_request", { 400, CTR_TILL_BAD_REQUEST, "the request is malformed" } },
	{ "unavailable", { 503, CTR_TILL_UNAVAILABLE,
	  "the payment service is unavailable: send the same request again (with a new signature) shortly" } },
};

/* The ledger's outcomes a till can meet, as HTTP; one without an entry is answered as
 * unavailable (an outcome the SQL side added later). */
static const struct till_answer till_outcomes[] = {
	[LEDGER_UNKNOWN_KEY] = { 401, CTR_TILL_UNKNOWN_KEY, "the key id is unknown or revoked" },
	[LEDGER_UNKNOWN_SLIP] = { 404, CTR_TILL_UNKNOWN_SLIP, "no slip has this reference" },
	[LEDGER_UNKNOWN_PAYMENT] = { 404, CTR_TILL_UNKNOWN_SLIP, "no payment has this id" },
	[LEDGER_EXPIRED] = { 410, CTR_TILL_EXPIRED, "the slip has expired: the customer needs a new one" },
	[LEDGER_VOIDED] = { 410, CTR_TILL_EXPIRED, "the slip is void: its order was cancelled or paid another way" },
	[LEDGER_WRONG_AMOUNT] = { 422, CTR_TILL_WRONG_AMOUNT, "the amount is not the amount due (amount_cents)" },
	[LEDGER_CONFLICT] = { 409, CTR_TILL_CONFLICT,
	  "this payment id was used before for another slip or amount: use a new id for a new payment" },
	[LEDGER_REVERSED] = { 409, CTR_TILL_CONFLICT, "this payment id was reversed: it can never be confirmed again" },
	[LEDGER_ALREADY_PAID] = { 409, CTR_TILL_CONFLICT, "the slip is already paid by another payment" },
	[LEDGER_NOT_PAYABLE] = { 409, CTR_TILL_CONFLICT,
	  "the order is no longer awaiting payment (cancelled or paid otherwise)" },
	[LEDGER_WRONG_SLIP] = { 409, CTR_TILL_CONFLICT, "this payment id belongs to another slip" },
	[LEDGER_PAID_BY_OTHER] = { 409, CTR_TILL_CONFLICT,
	  "the slip is paid by another payment, not by this payment id: nothing of yours to reverse" },
	[LEDGER_SHIPPED] = { 409, CTR_TILL_CONFLICT, "the order has shipped: too late to reverse" },
	[LEDGER_NOT_REVERSIBLE] = { 409, CTR_TILL_CONFLICT,
	  "the order was cancelled and refunded meanwhile: nothing to reverse" },
	[LEDGER_NOT_FOUND] = { 404, CTR_TILL_UNKNOWN_SLIP, "no order has this number" },
	[LEDGER_NOT_COD] = { 409, CTR_TILL_CONFLICT,
	  "the order is not to be paid cash on delivery: take no cash for it" },
};

static const struct till_answer *till_refusal(const char *code)
{
	for (size_t i = 0; i < sizeof(till_refusals) / sizeof(till_refusals[0]); i++)
		if (!strcmp(till_refusals[i].code, code))
			return &till_refusals[i].a;
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

/* A refusal: {"error": code, "message"} and the fields of extra (taken over, may be NULL); a
 * detail, when given, replaces the answer's message. */
static void till_refuse_v(struct http_req *req, const char *code, const struct till_answer *r, json_t *extra,
			  const char *detail_fmt, va_list ap)
{
	char detail[256];
	json_t *obj = json_object();

	if (detail_fmt)
		vsnprintf(detail, sizeof(detail), detail_fmt, ap);
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

/* A refusal of the HTTP layer (till_refusals). */
__attribute__((format(printf, 4, 5)))
static void till_refuse(struct http_req *req, const char *code, json_t *extra, const char *detail_fmt, ...)
{
	va_list ap;
	const struct till_answer *r = till_refusal(code);
	OSMO_ASSERT(r);	/* the codes are this file's own */
	va_start(ap, detail_fmt);
	till_refuse_v(req, code, r, extra, detail_fmt, ap);
	va_end(ap);
}

/* A refusal for a ledger outcome (till_outcomes). */
__attribute__((format(printf, 4, 5)))
static void till_refuse_outcome(struct http_req *req, enum ledger_outcome o, json_t *extra, const char *detail_fmt,
				...)
{
	va_list ap;
	va_start(ap, detail_fmt);
	if (o < sizeof(till_outcomes) / sizeof(till_outcomes[0]) && till_outcomes[o].status) {
		till_refuse_v(req, ledger_outcome_word(o), &till_outcomes[o], extra, detail_fmt, ap);
	} else {
		LOGP(DCAT, LOGL_ERROR, "till: no refusal for outcome \"%s\"\n", ledger_outcome_word(o));
		till_refuse_v(req, "unavailable", till_refusal("unavailable"), extra, NULL, ap);
	}
	va_end(ap);
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

/* The text a request's signature is the HMAC of (doc/retailer-api.md has it for tills). One
 * item a line, none of which can hold a newline (the method and the key id are ours to check,
 * the target comes off the request line, t is digits, the body goes in as its hash), so two
 * different requests never give the same text. A talloc child of ctx. */
static char *till_canonical(void *ctx, const char *method, const char *target, const char *key, const char *t,
			    size_t t_len, const char *body, size_t blen)
{
	uint8_t hash[SHA256_DIGEST_LENGTH];
	char hex[2 * SHA256_DIGEST_LENGTH + 1];
	SHA256((const uint8_t *)body, blen, hash);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(hex + 2 * i, 3, "%02x", hash[i]);
	return talloc_asprintf(ctx, "v2\n%s\n%s\n%s\n%.*s\n%s", method, target, key, (int)t_len, t, hex);
}

/* ---- signatures seen: a signed request is good once */

static uint32_t till_seen_hash(const uint8_t mac[SECRETS_HMAC_LEN])
{
	/* an HMAC's bytes are as good as any hash of them */
	return (uint32_t)mac[0] << 24 | mac[1] << 16 | mac[2] << 8 | mac[3];
}

static void till_seen_sweep(void)
{
	struct till_seen *e;
	struct hlist_node *tmp;
	unsigned b;
	time_t now = time(NULL);
	hash_for_each_safe(g.seen, b, tmp, e, node)
		if (e->expires < now) {
			hash_del(&e->node);
			talloc_free(e);
			g.n_seen--;
		}
}

static void till_seen_sweep_cb(void *data)
{
	till_seen_sweep();
	osmo_timer_schedule(&g.sweep, TILL_SEEN_SWEEP_S, 0);
}

/* Remembers (key, mac), signed at ts, until the request would be refused as stale anyway:
 * 0, -EALREADY when it was seen before (a replay), -ENOSPC when the table is full even after
 * dropping what expired. A full table refuses rather than forgets: forgetting a signature
 * early is what would let its replay through. It is swept on the spot at most once a second,
 * so that a full table costs each request one lookup, not a walk over every entry. */
static int till_seen_add(const char *key, const uint8_t mac[SECRETS_HMAC_LEN], long long ts)
{
	uint32_t h = till_seen_hash(mac);
	struct till_seen *e;
	hash_for_each_possible(g.seen, e, node, h)
		if (!memcmp(e->mac, mac, SECRETS_HMAC_LEN) && !strcmp(e->key_id, key))
			return -EALREADY;
	if (g.n_seen >= g_cfg->till_replay_max && g.full_sweep != time(NULL)) {
		g.full_sweep = time(NULL);
		till_seen_sweep();
	}
	if (g.n_seen >= g_cfg->till_replay_max)
		return -ENOSPC;
	size_t len = strlen(key);
	e = talloc_zero_size(g.seen_ctx, sizeof(*e) + len + 1);
	talloc_set_name_const(e, "till_seen");
	e->expires = ts + TILL_MAX_SKEW_S;
	memcpy(e->mac, mac, SECRETS_HMAC_LEN);
	memcpy(e->key_id, key, len + 1);
	hash_add(g.seen, &e->node, h);
	g.n_seen++;
	return 0;
}

/* A 429 for a limit of limit `what` a minute, to be sent again in wait_s (Retry-After). */
static void till_refuse_wait(struct http_req *req, const char *code, unsigned wait_s, const char *what,
			     unsigned limit)
{
	char retry_after[16];
	snprintf(retry_after, sizeof(retry_after), "%u", wait_s);
	http_reply_header(req, "Retry-After", retry_after);
	till_refuse(req, code, json_pack("{si}", "retry_after_s", (int)wait_s),
		    "this key sent more than %u %s in a minute: send again in %u s (with a new signature)", limit, what,
		    wait_s);
}

/* Whether the request is signed by the key it names, within the clock window, and was not seen
 * before. When it is not, the refusal has been sent. */
static bool till_authenticate(struct http_req *req, struct till_call *c, const char *method)
{
	const char *key = http_req_header(req, "X-Spaza-Key");
	const char *sig = http_req_header(req, "X-Spaza-Signature");
	const char *t = NULL;
	size_t t_len = 0, n_v2 = 0, blen;
	uint8_t v2[TILL_SIG_V2_MAX][SECRETS_HMAC_LEN];

	if (!key || !*key) {
		till_refuse(req, "missing_key", NULL, NULL);
		return false;
	}
	if (!sig || !*sig) {
		till_refuse(req, "missing_signature", NULL, NULL);
		return false;
	}
	/* "t=1700000000,v2=ab12...": items in any order, spaces after the commas allowed,
	 * other schemes (v1=...) ignored, up to TILL_SIG_V2_MAX v2 values (key rollover) */
	for (const char *p = sig; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t len = strcspn(p, ",");
		if (len > 2 && !strncmp(p, "t=", 2)) {
			t = p + 2;
			t_len = len - 2;
		} else if (len == 3 + 2 * SECRETS_HMAC_LEN && !strncmp(p, "v2=", 3) && n_v2 < TILL_SIG_V2_MAX) {
			bool ok = true;
			for (int i = 0; i < SECRETS_HMAC_LEN && ok; i++) {
				int hi = till_hexval(p[3 + 2 * i]), lo = till_hexval(p[4 + 2 * i]);
				ok = hi >= 0 && lo >= 0;
				if (ok)	/* -1 << 4 is undefined */
					v2[n_v2][i] = hi << 4 | lo;
			}
			if (!ok) {
				till_refuse(req, "bad_signature_header", NULL, NULL);
				return false;
			}
			n_v2++;
		}
		p += len;
	}
	if (!t || !n_v2 || t_len > 12 || strspn(t, "0123456789") != t_len) {
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
		till_refuse_outcome(req, LEDGER_UNKNOWN_KEY, NULL, NULL);
		return false;
	}

	uint8_t secret[SECRETS_HMAC_LEN], mac[SECRETS_HMAC_LEN];
	char secret_hex[2 * SECRETS_HMAC_LEN + 1];
	unsigned mac_len = 0;
	/* the key id names the retailer-master version its secret was derived under */
	unsigned master_v = secrets_id_version(key, "rk");
	int usable = secrets_usable("retailer-master", master_v, time(NULL));
	if (usable == -EKEYEXPIRED)
		STAT_INC(KEYS_RETIRED);
	if (usable < 0 && secrets_newest("retailer-master")) {
		till_refuse_outcome(req, LEDGER_UNKNOWN_KEY, NULL, NULL);
		return false;
	}
	if (secrets_hmac_v("retailer-master", master_v, key, strlen(key), secret) < 0) {
		till_refuse(req, "unavailable", NULL, "the server has no retailer-master key: tell the shop");
		return false;
	}
	for (int i = 0; i < SECRETS_HMAC_LEN; i++)
		snprintf(secret_hex + 2 * i, 3, "%02x", secret[i]);
	OPENSSL_cleanse(secret, sizeof(secret));
	const char *body = http_req_body(req, &blen);
	char *text = till_canonical(req, method, http_req_target(req), key, t, t_len, body, blen);
	bool ok = HMAC(EVP_sha256(), secret_hex, 2 * SECRETS_HMAC_LEN, (const uint8_t *)text, strlen(text), mac,
		       &mac_len) && mac_len == SECRETS_HMAC_LEN;
	talloc_free(text);
	OPENSSL_cleanse(secret_hex, sizeof(secret_hex));
	bool match = false;
	for (size_t i = 0; ok && i < n_v2; i++)
		match |= CRYPTO_memcmp(mac, v2[i], SECRETS_HMAC_LEN) == 0;
	if (!match) {
		OPENSSL_cleanse(mac, sizeof(mac));
		till_refuse(req, "bad_signature", NULL, NULL);
		return false;
	}
	snprintf(c->key_id, sizeof(c->key_id), "%s", key);

	/* Only a signature that holds is remembered, so a forger cannot fill the table; and it is
	 * remembered whatever becomes of the request (refused by a limit, the database down): the
	 * first use is the only one. */
	int rc = till_seen_add(c->key_id, mac, ts);
	OPENSSL_cleanse(mac, sizeof(mac));
	if (rc == -EALREADY) {
		LOGP(DCAT, LOGL_NOTICE, "till key %s: a signature seen before, refused as a replay\n", c->key_id);
		till_refuse(req, "replayed", NULL, NULL);
		return false;
	}
	if (rc < 0) {
		LOGP(DCAT, LOGL_ERROR, "till: %u signatures in the last %d s fill `till replay-max`\n", g.n_seen,
		     TILL_MAX_SKEW_S);
		till_refuse(req, "busy", NULL, NULL);
		return false;
	}

	/* Counted only now that the signature holds: a forger cannot spend a real retailer's
	 * budget (forgeries are till:bad-signature), and the table only ever holds key ids the
	 * shop issued a secret for. A revoked key still counts here (only its holder can sign);
	 * the database refuses it after. */
	unsigned limit = g_cfg->till_requests_per_minute;
	unsigned wait_s = ratelimit_take(RATELIMIT_KIND_TILL, c->key_id, limit);
	if (wait_s) {
		LOGP(DCAT, LOGL_NOTICE, "till key %s: request limit reached (%u a minute)\n", c->key_id, limit);
		till_refuse_wait(req, "rate_limited", wait_s, "requests", limit);
		return false;
	}
	return true;
}

/* Whether the key may ask about a slip now (a lookup, an image, a payment), or has named too
 * many that do not exist this minute. When it may not, the refusal has been sent. */
static bool till_may_ask(struct till_call *c)
{
	unsigned limit = g_cfg->till_unknown_slips_per_minute;
	unsigned wait_s = ratelimit_peek(RATELIMIT_KIND_TILL_UNKNOWN, c->key_id, limit);
	if (!wait_s)
		return true;
	LOGP(DCAT, LOGL_NOTICE, "till key %s: unknown slip limit reached (%u a minute)\n", c->key_id, limit);
	till_refuse_wait(c->req, "too_many_unknown_slips", wait_s, "unknown slip references", limit);
	return false;
}

/* The key named a slip that does not exist: counted towards till_may_ask()'s limit. */
static void till_unknown_slip(struct till_call *c)
{
	ratelimit_take(RATELIMIT_KIND_TILL_UNKNOWN, c->key_id, g_cfg->till_unknown_slips_per_minute);
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

/* The slip reference from the path or a body (slip_ref_parse()). When it is not one, the
 * refusal has been sent. */
static bool till_ref(struct http_req *req, const char *in, size_t len, char out[EASYPAY_REF_BUF])
{
	int rc = slip_ref_parse(in, len, out);
	if (rc == -EBADMSG)
		till_refuse_outcome(req, LEDGER_UNKNOWN_SLIP, NULL,
				    "the reference's check digit is wrong: check the number typed");
	else if (rc < 0)
		till_refuse_outcome(req, LEDGER_UNKNOWN_SLIP, NULL, "not a slip reference: 15 digits starting with 9");
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

static void till_image(struct till_call *c, const struct slip *slip)
{
	uint8_t *img;
	size_t len;
	char disp[64];
	int rc = slip_render(c, slip, c->fmt, &img, &len);
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
	struct slip slip;
	c->dbr = NULL;
	if (till_db_failed(c, err) || till_db_failed(c, slip_read(res, &slip)))
		return;
	if (!slip.key_known) {
		till_refuse_outcome(c->req, LEDGER_UNKNOWN_KEY, NULL, NULL);
		goto out;
	}
	if (!slip.found) {
		till_unknown_slip(c);
		till_refuse_outcome(c->req, LEDGER_UNKNOWN_SLIP, json_pack("{ss}", "ref", c->ref), NULL);
		goto out;
	}
	char grouped[EASYPAY_GROUPED_BUF], money[MONEY_BUF_LEN];
	easypay_ref_group(grouped, sizeof(grouped), c->ref);
	money_format(money, sizeof(money), slip.amount_cents);
	if (c->op == TILL_OP_IMAGE && !slip_gone(&slip)) {
		till_image(c, &slip);
		goto out;
	}

	json_t *obj = json_object();
	json_object_set_new(obj, "ref", json_string(c->ref));
	json_object_set_new(obj, "ref_grouped", json_string(grouped));
	json_object_set_new(obj, "status", json_string(slip.status_word));
	json_object_set_new(obj, "amount_cents", json_integer(slip.amount_cents));
	json_object_set_new(obj, "amount", json_string(money));
	json_object_set_new(obj, "expires_at", json_string(slip.expires_at));
	json_object_set_new(obj, "order", json_integer(slip.order_id));
	json_object_set_new(obj, "order_status", json_string(slip.order_status));
	json_object_set_new(obj, "payable", json_boolean(slip_payable(&slip)));
	/* a till resolving a timeout learns whether the payment in force is its own */
	if (slip.payment_id) {
		json_object_set_new(obj, "paid_by_you", json_boolean(slip.paid_by_key));
		if (slip.paid_by_key)
			json_object_set_new(obj, "payment_id", json_string(slip.payment_id));
	}
	if (slip_gone(&slip)) {
		till_refuse_outcome(c->req, slip.status == SLIP_EXPIRED ? LEDGER_EXPIRED : LEDGER_VOIDED, obj, NULL);
		goto out;
	}
	till_ctr(CTR_TILL_LOOKUPS);
	till_reply_obj(c->req, 200, obj);
out:
	talloc_free(c);
}

/* The words of a cash-on-delivery refusal where the slips' would mislead; NULL: the table's. */
static const char *till_cod_refusal(enum ledger_outcome o)
{
	switch (o) {
	case LEDGER_ALREADY_PAID:
		return "the order is paid already (confirmed_by: whose cash, when it was cash on delivery): take no cash";
	case LEDGER_NOT_PAYABLE:
		return "the order is no longer awaiting payment (order_status: cancelled or expired): take no cash";
	case LEDGER_CONFLICT:
		return "this payment id was used before for another order or amount: use a new id for a new payment";
	default:
		return NULL;
	}
}

/* A payment, its reversal or a cash-on-delivery confirmation: the ledger's row, the response in
 * its text */
static void till_money_done(void *priv, const PGresult *res, int err)
{
	struct till_call *c = priv;
	enum ledger_outcome ok_outcome = c->op == TILL_OP_REVERSE ? LEDGER_REVERSED : LEDGER_PAID;
	struct ledger_result r;
	c->dbr = NULL;
	if (till_db_failed(c, err) || till_db_failed(c, ledger_result(res, &r)))
		return;
	const char *response = r.text ? r.text : "";
	if (r.outcome == ok_outcome) {
		char amount[MONEY_BUF_LEN];
		money_format(amount, sizeof(amount), r.amount_cents);
		if (c->op == TILL_OP_COD_PAY)
			LOGP(DCAT, LOGL_NOTICE, "order %" PRId64 " cash on delivery %s: key %s, payment id %s, %s\n",
			     c->order_id, ledger_outcome_word(r.outcome), c->key_id, c->payment_id, amount);
		else
			LOGP(DCAT, LOGL_NOTICE, "slip %s %s: key %s, payment id %s, order %" PRId64 ", %s\n", c->ref,
			     ledger_outcome_word(r.outcome), c->key_id, c->payment_id, r.id, amount);
		till_ctr(c->op == TILL_OP_PAY ? CTR_TILL_PAID : c->op == TILL_OP_COD_PAY ? CTR_TILL_COD_PAID
											 : CTR_TILL_REVERSED);
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
		if (r.outcome == LEDGER_UNKNOWN_SLIP || r.outcome == LEDGER_NOT_FOUND)
			till_unknown_slip(c);
		json_t *extra = json_loads(response, 0, NULL);
		if (extra && !json_is_object(extra)) {
			json_decref(extra);
			extra = NULL;
		}
		const char *detail = c->op == TILL_OP_COD_PAY ? till_cod_refusal(r.outcome) : NULL;
		if (detail)
			till_refuse_outcome(c->req, r.outcome, extra, "%s", detail);
		else
			till_refuse_outcome(c->req, r.outcome, extra, NULL);
	}
	talloc_free(c);
}

/* The body of a POST as a JSON object (the caller's reference), or NULL after the refusal;
 * example is what to send, for the message. */
static json_t *till_body_object(struct till_call *c, const char *example)
{
	size_t len;
	const char *body = http_req_body(c->req, &len);
	json_error_t jerr;
	if (!len) {
		till_refuse(c->req, "bad_json", NULL, "the body is empty: send a JSON object, %s", example);
		return NULL;
	}
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		till_refuse(c->req, "bad_json", NULL, "the body is not JSON: %s (line %d, column %d)", jerr.text,
			    jerr.line, jerr.column);
	else if (!json_is_object(j)) {
		till_refuse(c->req, "bad_json", NULL, "the body is JSON but not an object");
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* The body's type, which must be this path's, and its payment_id (1-64 printable characters,
 * no spaces), copied into c. false after the refusal. */
static bool till_body_id(struct till_call *c, json_t *j, const char *type_word)
{
	json_t *type = json_object_get(j, "type"), *id = json_object_get(j, "payment_id");
	if (!json_is_string(type) || strcmp(json_string_value(type), type_word)) {
		till_refuse(c->req, "bad_request", NULL, "type must be \"%s\" on this path", type_word);
		return false;
	}
	const char *ids = json_is_string(id) ? json_string_value(id) : NULL;
	size_t idl = ids ? json_string_length(id) : 0;
	bool id_ok = ids && idl >= 1 && idl <= TILL_PAYMENT_ID_MAX && strlen(ids) == idl;
	for (size_t i = 0; id_ok && i < idl; i++)
		id_ok = ids[i] > ' ' && ids[i] < 0x7f;
	if (!id_ok) {
		till_refuse(c->req, "bad_request", NULL,
			    "payment_id must be a string of 1 to 64 printable ASCII characters without spaces");
		return false;
	}
	snprintf(c->payment_id, sizeof(c->payment_id), "%s", ids);
	return true;
}

/* The body's amount_cents into c; false after the refusal. */
static bool till_body_amount(struct till_call *c, json_t *j)
{
	json_t *amount = json_object_get(j, "amount_cents");
	if (!json_is_integer(amount) || json_integer_value(amount) <= 0 || json_integer_value(amount) > TILL_AMOUNT_MAX) {
		till_refuse(c->req, "bad_request", NULL, "amount_cents must be a whole number of cents above 0");
		return false;
	}
	c->amount_cents = json_integer_value(amount);
	return true;
}

/* The JSON body of a POST, every field required: type ("payment" or "reversal", which must be
 * the path's), ref (the path's slip), payment_id (1-64 printable characters, no spaces; a
 * reversal's is the path's) and, for payments, amount_cents. A body says in full what it does,
 * so that it cannot be taken for another request on another path. When it is not right, the
 * refusal has been sent. */
static bool till_parse_body(struct till_call *c, const char *path_id)
{
	const char *type_word = c->op == TILL_OP_PAY ? "payment" : "reversal";
	json_t *j = till_body_object(c, c->op == TILL_OP_PAY ?
				     "{\"type\": \"payment\", \"ref\": \"...\", \"payment_id\": \"...\", \"amount_cents\": N}" :
				     "{\"type\": \"reversal\", \"ref\": \"...\", \"payment_id\": \"...\"}");
	bool ok = false;
	if (!j || !till_body_id(c, j, type_word))
		goto out;
	if (path_id && strcmp(c->payment_id, path_id)) {
		till_refuse(c->req, "bad_request", NULL, "payment_id in the body is not the payment id in the path");
		goto out;
	}
	json_t *ref = json_object_get(j, "ref");
	char body_ref[EASYPAY_REF_BUF];
	if (!json_is_string(ref)) {
		till_refuse(c->req, "bad_request", NULL, "ref must be the slip's reference, as in the path");
		goto out;
	}
	if (!till_ref(c->req, json_string_value(ref), json_string_length(ref), body_ref))
		goto out;
	if (strcmp(body_ref, c->ref)) {
		till_refuse(c->req, "bad_request", NULL, "ref in the body is not the slip in the path");
		goto out;
	}
	ok = c->op != TILL_OP_PAY || till_body_amount(c, j);
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
	if (!till_authenticate(req, c, "GET") || !till_ref(req, rest, ref_len, c->ref) || !till_may_ask(c))
		goto fail;
	struct ledger_stmt st;
	slip_lookup(&st, c->key_id, c->ref);
	c->dbr = db_read(st.stmt, st.nparams, st.params, till_lookup_done, c);
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
	if (!till_authenticate(req, c, "POST") || !till_ref(req, rest, slash - rest, c->ref) ||
	    !till_parse_body(c, path_id) || (c->op == TILL_OP_PAY && !till_may_ask(c)))
		goto fail;

	struct ledger_stmt st;
	if (c->op == TILL_OP_PAY)
		ledger_till_pay(&st, c->key_id, c->payment_id, c->ref, c->amount_cents);
	else
		ledger_till_reverse(&st, c->key_id, c->payment_id, c->ref);
	c->dbr = db_write(st.stmt, st.nparams, st.params, till_money_done, c);
	return;
fail:
	talloc_free(c);
}

/* ---- cash on delivery: /api/v1/orders/{id}/cod-payment (cod.h, sql/019_cod_confirm.sql) */

/* The order number of "{id}/cod-payment" into c; false after the 404. */
static bool till_cod_path(struct till_call *c)
{
	const char *rest = http_req_path_rest(c->req);
	size_t n = strlen(rest), sl = strlen(TILL_COD_SUFFIX);
	if (n <= sl || strcmp(rest + n - sl, TILL_COD_SUFFIX) || strspn(rest, "0123456789") != n - sl ||
	    cod_order_parse(rest, n - sl, &c->order_id) < 0) {
		till_refuse(c->req, "not_found", NULL,
			    "no such endpoint: cash on delivery is /api/v1/orders/{order number}/cod-payment");
		return false;
	}
	return true;
}

static void till_cod_lookup_done(void *priv, const PGresult *res, int err)
{
	struct till_call *c = priv;
	struct cod_order o;
	c->dbr = NULL;
	if (till_db_failed(c, err) || till_db_failed(c, cod_read(res, &o)))
		return;
	json_t *obj = json_pack("{sI}", "order", (json_int_t)c->order_id);
	if (!o.key_known)
		till_refuse_outcome(c->req, LEDGER_UNKNOWN_KEY, obj, NULL);
	else if (!o.found) {
		till_unknown_slip(c);
		till_refuse_outcome(c->req, LEDGER_NOT_FOUND, obj, NULL);
	} else if (!o.cod)
		till_refuse_outcome(c->req, LEDGER_NOT_COD, obj, NULL);
	else {
		char money[MONEY_BUF_LEN];
		money_format(money, sizeof(money), o.amount_cents);
		json_object_set_new(obj, "type", json_string("cod_payment"));
		json_object_set_new(obj, "order_status", json_string(o.order_status));
		json_object_set_new(obj, "amount_cents", json_integer(o.amount_cents));
		json_object_set_new(obj, "amount", json_string(money));
		json_object_set_new(obj, "payable", json_boolean(o.payable));
		/* a till resolving a timeout learns whether the confirmation is its own */
		if (o.confirmed) {
			json_object_set_new(obj, "paid_by_you", json_boolean(o.by_you));
			if (o.by_you && o.payment_id)
				json_object_set_new(obj, "payment_id", json_string(o.payment_id));
			if (o.by_you && o.confirmed_at)
				json_object_set_new(obj, "confirmed_at", json_string(o.confirmed_at));
		}
		till_ctr(CTR_TILL_LOOKUPS);
		till_reply_obj(c->req, 200, obj);
	}
	talloc_free(c);
}

/* {"type": "cod_payment", "order": the path's, "payment_id", "amount_cents"}, every field
 * required, as a slip payment's body; false after the refusal. */
static bool till_cod_parse_body(struct till_call *c)
{
	json_t *j = till_body_object(c, "{\"type\": \"cod_payment\", \"order\": N, \"payment_id\": \"...\", "
				     "\"amount_cents\": N}");
	bool ok = false;
	if (!j || !till_body_id(c, j, "cod_payment"))
		goto out;
	json_t *order = json_object_get(j, "order");
	if (!json_is_integer(order) || json_integer_value(order) != c->order_id) {
		till_refuse(c->req, "bad_request", NULL, "order in the body is not the order number in the path");
		goto out;
	}
	ok = till_body_amount(c, j);
out:
	json_decref(j);
	return ok;
}

static void till_cod(struct http_req *req, bool post)
{
	struct till_call *c = till_call_new(req, post ? TILL_OP_COD_PAY : TILL_OP_COD_LOOKUP);
	struct ledger_stmt st;
	if (!till_cod_path(c) || !till_authenticate(req, c, post ? "POST" : "GET") || (post && !till_cod_parse_body(c)) ||
	    !till_may_ask(c)) {
		talloc_free(c);
		return;
	}
	if (post) {
		ledger_till_cod_pay(&st, c->key_id, c->payment_id, c->order_id, c->amount_cents);
		c->dbr = db_write(st.stmt, st.nparams, st.params, till_money_done, c);
	} else {
		cod_lookup_by_key(&st, c->key_id, c->order_id);
		c->dbr = db_read(st.stmt, st.nparams, st.params, till_cod_lookup_done, c);
	}
}

static void till_cod_get(struct http_req *req)
{
	till_cod(req, false);
}

static void till_cod_post(struct http_req *req)
{
	till_cod(req, true);
}

void front_till_init(void *ctx)
{
	g.ctx = ctx;
	INIT_LLIST_HEAD(&g.calls);
	g.seen_ctx = talloc_named_const(ctx, 0, "till_seen");
	hash_init(g.seen);
	osmo_timer_setup(&g.sweep, till_seen_sweep_cb, NULL);
	osmo_timer_schedule(&g.sweep, TILL_SEEN_SWEEP_S, 0);
	http_route_prefix(LISTEN_TILL, "GET", TILL_PREFIX, till_get);
	http_route_prefix(LISTEN_TILL, "POST", TILL_PREFIX, till_post);
	http_route_prefix(LISTEN_TILL, "GET", TILL_ORDERS_PREFIX, till_cod_get);
	http_route_prefix(LISTEN_TILL, "POST", TILL_ORDERS_PREFIX, till_cod_post);
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
	osmo_timer_del(&g.sweep);
	TALLOC_FREE(g.seen_ctx);
	hash_init(g.seen);
	g.n_seen = 0;
}
