/* Fuzz target: the retailer till API (src/fronts/front_till.c): the X-Spaza-Signature header, the
 * HMAC check, the slip reference in the path and the JSON body, as a till or anyone on the
 * network can send them. front_till.c keeps all of it static behind its HTTP handlers, so
 * this harness is the HTTP and database layers instead: it defines http_req_*(),
 * http_reply*() and db_read/db_write/db_cancel itself (the linker then never takes http.c or
 * db.c from the archive) and calls the handlers front_till_init() registers. The keys are real
 * (secrets.c, key versions and all), loaded from a file the harness writes at start.
 *
 * Input: byte 0 is flags, then "rest\nkey\nsignature\nbody" (the body may hold anything); rest is
 * what follows /api/v1/slips/ (or /api/v1/orders/, bit 6) on the request line, a "?query" included.
 *   bit 0  POST (else GET)        bit 1  sign it correctly: the signature is replaced by
 *   bit 2  no X-Spaza-Key header         t=<now>,v2=<the right HMAC> followed by what was given
 *   bit 3  no X-Spaza-Signature   bit 4  a database call fails (-EIO) instead of staying queued
 *   bit 5  send it a second time, unchanged
 *   bit 6  the orders' prefix: cash on delivery, {order}/cod-payment
 * Checked: every request is answered exactly once or waits on exactly one database call, and a
 * request sent again after it reached the database is answered at once (a replay, 401). Each
 * input starts with no signature seen (front_till_close() and front_till_init() between
 * inputs), so that an input does the same whenever it runs. */
#include "fuzz.h"
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <talloc.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include "cfg.h"
#include "db.h"
#include "front_till.h"
#include "http.h"
#include "logging.h"
#include "secrets.h"
#include "stats.h"

struct http_req {
	const char *rest, *target, *key, *sig, *body;
	size_t body_len;
	unsigned replies, status;
};

/* [0] the slips' prefix, [1] the orders' (cash on delivery) */
static http_handler handler_get[2], handler_post[2];
static struct {
	unsigned calls;
	db_cb cb;
	void *priv;
} db;

/* ---- the HTTP layer (http.h) */

void http_route_prefix(enum listen_kind l, const char *method, const char *prefix, http_handler h)
{
	int orders = !strcmp(prefix, "/api/v1/orders/");
	FUZZ_ASSERT(orders || !strcmp(prefix, "/api/v1/slips/"));
	if (!strcmp(method, "GET"))
		handler_get[orders] = h;
	else
		handler_post[orders] = h;
}

void http_route(enum listen_kind l, const char *method, const char *path, http_handler h)
{
}

const char *http_req_body(const struct http_req *req, size_t *len)
{
	*len = req->body_len;
	return req->body;
}

const char *http_req_header(struct http_req *req, const char *name)
{
	if (!strcasecmp(name, "X-Spaza-Key"))
		return req->key;
	if (!strcasecmp(name, "X-Spaza-Signature"))
		return req->sig;
	return NULL;
}

const char *http_req_arg(struct http_req *req, const char *name)
{
	return NULL;
}

const char *http_req_peer(const struct http_req *req)
{
	return "192.0.2.1";
}

const char *http_req_path(const struct http_req *req)
{
	return "/api/v1/slips/...";
}

const char *http_req_path_rest(const struct http_req *req)
{
	return req->rest;
}

const char *http_req_target(const struct http_req *req)
{
	return req->target;
}

void http_reply_header(struct http_req *req, const char *name, const char *value)
{
	FUZZ_ASSERT(!req->replies);
}

void http_reply(struct http_req *req, unsigned status, const char *ctype, const char *body, size_t len)
{
	req->replies++;
	req->status = status;
	FUZZ_ASSERT(status >= 200 && status < 600);
	FUZZ_ASSERT(body || !len);
}

/* ---- the database (db.h): calls are recorded, never answered with rows */

static struct db_req *db_call(db_cb cb, void *priv, int nparams, const char *const *params)
{
	for (int i = 0; i < nparams; i++)
		FUZZ_ASSERT(params[i] && strlen(params[i]) < 4096);
	db.calls++;
	db.cb = cb;
	db.priv = priv;
	return (struct db_req *)&db;
}

struct db_req *db_read(enum db_stmt stmt, int nparams, const char *const *params, db_cb cb, void *priv)
{
	return db_call(cb, priv, nparams, params);
}

struct db_req *db_write(enum db_stmt stmt, int nparams, const char *const *params, db_cb cb, void *priv)
{
	return db_call(cb, priv, nparams, params);
}

void db_cancel(struct db_req *req)
{
	db.cb = NULL;
}

/* ---- secrets (secrets.h): fixed keys, version 1 of the master and the QR key */

static void fuzz_secrets(void)
{
	static const char keys[] = "retailer-master = 66757a7a206d6173746572206b657920666f722074696c6c73\n"
				   "slip-qr = 66757a7a20736c6970207172206b6579\n";
	char path[] = "/tmp/spaza-till-fuzz-XXXXXX", err[256];
	int fd = mkstemp(path);	/* mode 0600, as secrets_load() wants */
	FUZZ_ASSERT(fd >= 0 && write(fd, keys, sizeof(keys) - 1) == (ssize_t)(sizeof(keys) - 1));
	close(fd);
	FUZZ_ASSERT(secrets_load(path, err, sizeof(err)) == 0);
	unlink(path);
}

static void *fuzz_ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_ctx = talloc_named_const(NULL, 0, "fuzz");
	fuzz_quiet();
	spaza_logging_init(fuzz_ctx);	/* its stderr is the quiet one */
	stats_init(fuzz_ctx);
	cfg_init(fuzz_ctx);	/* the defaults; without ratelimit_init() no request is limited */
	fuzz_secrets();
	front_till_init(fuzz_ctx);
	FUZZ_ASSERT(handler_get[0] && handler_post[0] && handler_get[1] && handler_post[1]);
	return 0;
}

/* Splits at the first '\n' (which becomes a NUL); NULL when there is none. */
static char *field(char **p)
{
	char *s = *p, *nl = s ? strchr(s, '\n') : NULL;
	if (nl) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = NULL;
	}
	return s;
}

/* The v2 signature header of req as a till computes it, then what the input gave. */
static char *sign(void *ctx, const struct http_req *req, const char *method)
{
	uint8_t secret[SECRETS_HMAC_LEN], mac[SECRETS_HMAC_LEN], hash[SHA256_DIGEST_LENGTH];
	char secret_hex[2 * SECRETS_HMAC_LEN + 1], hash_hex[2 * SHA256_DIGEST_LENGTH + 1];
	unsigned n = 0;
	long long t = time(NULL);
	secrets_hmac("retailer-master", req->key, strlen(req->key), secret);
	for (int i = 0; i < SECRETS_HMAC_LEN; i++)
		snprintf(secret_hex + 2 * i, 3, "%02x", secret[i]);
	SHA256((const uint8_t *)req->body, req->body_len, hash);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(hash_hex + 2 * i, 3, "%02x", hash[i]);
	char *text = talloc_asprintf(ctx, "v2\n%s\n%s\n%s\n%lld\n%s", method, req->target, req->key, t, hash_hex);
	FUZZ_ASSERT(HMAC(EVP_sha256(), secret_hex, strlen(secret_hex), (uint8_t *)text, strlen(text), mac, &n));
	char *sig = talloc_asprintf(ctx, "t=%lld,v2=", t);
	for (int i = 0; i < SECRETS_HMAC_LEN; i++)
		sig = talloc_asprintf_append(sig, "%02x", mac[i]);
	return talloc_asprintf_append(sig, "%s%s", *req->sig ? "," : "", req->sig);
}

/* One request through its handler; whether it reached the database. */
static bool run(struct http_req *req, uint8_t flags)
{
	db.calls = 0;
	db.cb = NULL;
	req->replies = 0;
	int orders = !!(flags & 64);
	(flags & 1 ? handler_post[orders] : handler_get[orders])(req);
	FUZZ_ASSERT(req->replies + db.calls == 1);
	if (db.calls && (flags & 16) && db.cb) {
		db_cb cb = db.cb;
		db.cb = NULL;
		cb(db.priv, NULL, -EIO);
		FUZZ_ASSERT(req->replies == 1);
	}
	return db.calls;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	char *in = fuzz_strdup(data + 1, size - 1), *p = in;
	void *ctx = talloc_named_const(NULL, 0, "request");
	struct http_req *req = talloc_zero(ctx, struct http_req);

	/* the body is what follows the third newline, NULs and all */
	char *line = field(&p);
	req->key = field(&p);
	req->sig = field(&p);
	req->body = p ? p : "";
	req->body_len = p ? size - 1 - (size_t)(p - in) : 0;
	if (!line || !req->key || !req->sig) {
		talloc_free(ctx);
		free(in);
		return 0;
	}
	/* the path as libmicrohttpd hands it over stops at the query */
	req->target = talloc_asprintf(ctx, "%s%s", flags & 64 ? "/api/v1/orders/" : "/api/v1/slips/", line);
	req->rest = talloc_strndup(ctx, line, strcspn(line, "?"));
	if (flags & 2)
		req->sig = sign(ctx, req, flags & 1 ? "POST" : "GET");
	if (flags & 4)
		req->key = NULL;
	if (flags & 8)
		req->sig = NULL;

	void *conn = talloc_named_const(ctx, 0, "connection");
	struct http_req *first = talloc_memdup(conn, req, sizeof(*req));
	bool reached_db = run(first, flags);
	/* the connection goes away: a call still waiting is cancelled by its destructor */
	talloc_free(conn);
	if (flags & 32) {
		run(req, flags & ~16);
		FUZZ_ASSERT(!reached_db || (req->replies == 1 && req->status == 401));
	}
	talloc_free(ctx);
	free(in);
	front_till_close();
	front_till_init(fuzz_ctx);
	return 0;
}
