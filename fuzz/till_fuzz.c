/* Fuzz target: the retailer till API (src/fronts/front_till.c): the X-Spaza-Signature header, the
 * HMAC check, the slip reference in the path and the JSON body, as a till or anyone on the
 * network can send them. front_till.c keeps all of it static behind its HTTP handlers, so
 * this harness is the HTTP and database layers instead: it defines http_req_*(),
 * http_reply*() and db_read/db_write/db_cancel itself (the linker then never takes http.c or
 * db.c from the archive) and calls the handlers front_till_init() registers. The keys are real
 * (secrets.c, key versions and all), loaded from a file the harness writes at start.
 *
 * Input: byte 0 is flags, then "rest\nkey\nsignature\nbody" (the body may hold anything).
 *   bit 0  POST (else GET)        bit 1  sign it correctly: the signature is replaced by
 *   bit 2  no X-Spaza-Key header         t=<now>,v1=<the right HMAC> followed by what was given
 *   bit 3  no X-Spaza-Signature   bit 4  a database call fails (-EIO) instead of staying queued
 * Checked: every request is answered exactly once or waits on exactly one database call. */
#include "fuzz.h"
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <talloc.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "cfg.h"
#include "db.h"
#include "front_till.h"
#include "http.h"
#include "logging.h"
#include "secrets.h"
#include "stats.h"

struct http_req {
	const char *rest, *key, *sig, *body;
	size_t body_len;
	unsigned replies, status;
};

static http_handler handler_get, handler_post;
static struct {
	unsigned calls;
	db_cb cb;
	void *priv;
} db;

/* ---- the HTTP layer (http.h) */

void http_route_prefix(enum listen_kind l, const char *method, const char *prefix, http_handler h)
{
	if (!strcmp(method, "GET"))
		handler_get = h;
	else
		handler_post = h;
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

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	void *ctx = talloc_named_const(NULL, 0, "fuzz");
	fuzz_quiet();
	spaza_logging_init(ctx);	/* its stderr is the quiet one */
	stats_init(ctx);
	cfg_init(ctx);	/* the defaults; without ratelimit_init() no request is limited */
	fuzz_secrets();
	front_till_init(ctx);
	FUZZ_ASSERT(handler_get && handler_post);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	char *in = fuzz_strdup(data + 1, size - 1), *p = in;
	void *ctx = talloc_named_const(NULL, 0, "request");
	struct http_req *req = talloc_zero(ctx, struct http_req);

	/* the body is what follows the third newline, NULs and all */
	req->rest = field(&p);
	req->key = field(&p);
	req->sig = field(&p);
	req->body = p ? p : "";
	req->body_len = p ? size - 1 - (size_t)(p - in) : 0;
	if (!req->rest || !req->key || !req->sig) {
		talloc_free(ctx);
		free(in);
		return 0;
	}
	char *signed_sig = NULL;
	if (flags & 2) {
		uint8_t secret[SECRETS_HMAC_LEN], mac[SECRETS_HMAC_LEN];
		unsigned n = 0;
		char t[24];
		int tl = snprintf(t, sizeof(t), "%lld", (long long)time(NULL));
		secrets_hmac("retailer-master", req->key, strlen(req->key), secret);
		char *text = talloc_asprintf(ctx, "%s.", t);
		text = talloc_realloc(ctx, text, char, tl + 1 + req->body_len + 1);
		memcpy(text + tl + 1, req->body, req->body_len);
		FUZZ_ASSERT(HMAC(EVP_sha256(), secret, sizeof(secret), (uint8_t *)text, tl + 1 + req->body_len, mac, &n));
		signed_sig = talloc_asprintf(ctx, "t=%s,v1=", t);
		for (int i = 0; i < SECRETS_HMAC_LEN; i++)
			signed_sig = talloc_asprintf_append(signed_sig, "%02x", mac[i]);
		signed_sig = talloc_asprintf_append(signed_sig, "%s%s", *req->sig ? "," : "", req->sig);
		req->sig = signed_sig;
	}
	if (flags & 4)
		req->key = NULL;
	if (flags & 8)
		req->sig = NULL;

	db.calls = 0;
	db.cb = NULL;
	(flags & 1 ? handler_post : handler_get)(req);
	FUZZ_ASSERT(req->replies + db.calls == 1);
	if (db.calls && (flags & 16) && db.cb) {
		db_cb cb = db.cb;
		db.cb = NULL;
		cb(db.priv, NULL, -EIO);
		FUZZ_ASSERT(req->replies == 1);
	}
	/* the connection goes away: a call still waiting is cancelled by its destructor */
	talloc_free(ctx);
	free(in);
	return 0;
}
