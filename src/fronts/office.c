/* The back office's door on the admin listener (office.h, doc/back-office.md).
 *
 *   GET  /admin/login, /admin/static/NAME     the login page and the assets: no session needed
 *   POST /admin/api/login                     {"login","password"} -> a session cookie
 *   GET  /admin/, /admin/PAGE                 a page of web/ the role may use (else 403)
 *   *    /admin/api/...                       office_api.c's JSON, for the role's pages
 *
 * A session is a random token in an HttpOnly, SameSite=Strict cookie; the database keeps its
 * SHA-256 and the staff id (sql/014_staff.sql), so every request reads the account afresh: a
 * disabled account or a changed role takes effect on the next click. Every POST but the login
 * carries the session's CSRF token in X-CSRF-Token; SameSite alone would leave older browsers
 * and same-site subdomains. Logins are throttled per address (ratelimit.c) and per account
 * (the database counts failures in a row and locks the account for a while). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <talloc.h>
#include <openssl/crypto.h>
#include "audit.h"
#include "cfg.h"
#include "db.h"
#include "logging.h"
#include "office.h"
#include "ratelimit.h"
#include "stats.h"

#define OFFICE_COOKIE "spaza_office"
/* A working day and a bit: staff log in once a shift, and a cookie left on a shared till
 * dies by the next morning. */
#define OFFICE_SESSION_S (10 * 3600)
/* Per account: this many wrong passwords in a row lock it for OFFICE_LOCK_S. */
#define OFFICE_LOCK_FAILURES 5
#define OFFICE_LOCK_S 300
/* Per address: login attempts in ten minutes (a busy shop's staff behind one NAT included). */
#define OFFICE_IP_ATTEMPTS 60
/* The largest page or asset served (they are small hand-written files). */
#define OFFICE_FILE_MAX (512 * 1024)

void office_json(struct http_req *req, unsigned status, json_t *j)
{
	char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (!body) {	/* a json_pack() that failed (text that is not UTF-8): a bug, never a crash */
		static const char err[] = "{\"error\":\"internal error\"}";
		LOGP(DOFFICE, LOGL_ERROR, "no JSON for %s\n", http_req_path(req));
		http_reply(req, 500, "application/json", err, sizeof(err) - 1);
		json_decref(j);
		return;
	}
	http_reply_header(req, "Cache-Control", "no-store");
	http_reply(req, status, "application/json", body, strlen(body));
	free(body);
	json_decref(j);
}

void office_error(struct http_req *req, unsigned status, const char *msg)
{
	office_json(req, status, json_pack("{ss}", "error", msg));
}

void office_audit(const struct office_staff *who, const char *action, const char *subject, bool ok,
		  const char *before, const char *after)
{
	struct audit_rec r = { .source = AUDIT_API, .subject = subject, .ok = ok, .before = before, .after = after };
	snprintf(r.who, sizeof(r.who), "%s", who->login);
	audit_action_line(&r, action);
	db_write(DB_AUDIT_ADD, 7, audit_params(&r), NULL, NULL);
}

/* ---- files of web/ ---- */

static const char *office_ctype(const char *name)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" }, { ".svg", "image/svg+xml" }, { ".png", "image/png" },
	};
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return NULL;
}

/* A name of the web directory itself: letters, digits, - and _, one dot, a known type. Nothing
 * with a slash or "..", so no request reaches outside it. */
static bool office_name_ok(const char *name)
{
	size_t n = strlen(name);
	return n > 0 && n < 64 && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_.") == n &&
	       strchr(name, '.') == strrchr(name, '.') && name[0] != '.' && office_ctype(name);
}

static void office_file(struct http_req *req, unsigned status, const char *name)
{
	char path[512];
	const char *dir = g_cfg->office_web_dir ? g_cfg->office_web_dir : "web";
	const char *ctype = office_ctype(name);
	if (!office_name_ok(name) || !ctype) {
		http_reply(req, 404, "text/plain", "not found\n", 10);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > OFFICE_FILE_MAX) {
		LOGP(DOFFICE, LOGL_ERROR, "cannot serve %s: %s\n", path, fd < 0 ? strerror(errno) : "not a small file");
		if (fd >= 0)
			close(fd);
		http_reply(req, 404, "text/plain", "not found\n", 10);
		return;
	}
	char *buf = talloc_size(req, st.st_size + 1);
	ssize_t got = read(fd, buf, st.st_size);
	close(fd);
	if (got != st.st_size) {
		http_reply(req, 500, "text/plain", "read error\n", 11);
		return;
	}
	/* the pages frame nothing and are framed by nothing; only our own scripts and styles run */
	http_reply_header(req, "Content-Security-Policy",
			  "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'");
	http_reply_header(req, "X-Content-Type-Options", "nosniff");
	http_reply_header(req, "Cache-Control", "no-cache");
	http_reply(req, status, ctype, buf, got);
}

/* ---- sessions ---- */

/* The session token of the request's cookie, or NULL. */
static const char *office_cookie(struct http_req *req, char tok[STAFF_TOKEN_HEX])
{
	const char *h = http_req_header(req, "Cookie");
	for (const char *p = h; p && (p = strstr(p, OFFICE_COOKIE "=")); p++) {
		if (p != h && p[-1] != ' ' && p[-1] != ';')
			continue;
		p += strlen(OFFICE_COOKIE "=");
		snprintf(tok, STAFF_TOKEN_HEX, "%.*s", (int)strcspn(p, "; "), p);
		return staff_token_valid(tok) ? tok : NULL;
	}
	return NULL;
}

/* Secure, unless the admin listener is plain HTTP on loopback: a browser never sends a Secure
 * cookie back over http://, and on loopback without TLS nothing crosses a network to steal. */
static void office_set_cookie(struct http_req *req, const char *tok, unsigned max_age)
{
	char c[200];
	bool secure = listen_tls(LISTEN_ADMIN) || !listen_loopback(LISTEN_ADMIN);
	snprintf(c, sizeof(c), OFFICE_COOKIE "=%s; Path=/admin; Max-Age=%u; HttpOnly; SameSite=Strict%s", tok, max_age,
		 secure ? "; Secure" : "");
	http_reply_header(req, "Set-Cookie", c);
}

struct office_pending {
	struct office_call c;
	bool api;
	const char *rest;	/* the path after /admin/ */
	bool post;
};

/* the body a handler is still reading goes with the request */
static int office_pending_free(struct office_pending *p)
{
	json_decref(p->c.body);
	return 0;
}

static void office_redirect(struct http_req *req, const char *to)
{
	http_reply_header(req, "Location", to);
	http_reply(req, 303, "text/plain", "see other\n", 10);
}

static const struct office_route *office_route_find(const char *method, const char *path)
{
	for (const struct office_route *r = office_routes; r->path; r++)
		if (!strcmp(r->method, method) && !strcmp(r->path, path))
			return r;
	return NULL;
}

static void office_me(struct office_call *c)
{
	json_t *pages = json_array();
	for (int p = 0; p < STAFF_PAGE_N; p++)
		if (staff_may(c->who.role, p))
			json_array_append_new(pages, json_pack("{ss ss}", "path", staff_page_paths[p], "label",
								staff_page_labels[p]));
	office_json(c->req, 200, json_pack("{ss ss so ss si}", "login", c->who.login, "role",
					   staff_role_names[c->who.role], "pages", pages, "csrf", c->who.csrf,
					   "retailer", c->who.retailer_id));
}

static void office_logout(struct office_call *c)
{
	char tok[STAFF_TOKEN_HEX], sha[STAFF_TOKEN_SHA_BUF];
	if (office_cookie(c->req, tok)) {
		staff_token_sha(tok, sha);
		const char *params[] = { sha };
		db_write(DB_STAFF_SESSION_END, 1, params, NULL, NULL);
	}
	office_audit(&c->who, "logout", NULL, true, NULL, NULL);
	office_set_cookie(c->req, "", 0);
	office_json(c->req, 200, json_pack("{sb}", "ok", true));
}

/* The session is known: the role decides. */
static void office_dispatch(struct office_pending *p)
{
	struct office_call *c = &p->c;
	struct http_req *req = c->req;
	if (!p->api) {
		int page = p->rest[0] ? staff_page_index(p->rest) : -1;
		if (!p->rest[0]) {	/* /admin/: the first page the role has */
			char to[64];
			for (page = 0; page < STAFF_PAGE_N && !staff_may(c->who.role, page); page++)
				;
			snprintf(to, sizeof(to), "/admin/%s", page < STAFF_PAGE_N ? staff_page_paths[page] : "login");
			office_redirect(req, to);
			return;
		}
		if (page < 0) {
			http_reply(req, 404, "text/plain", "not found\n", 10);
			return;
		}
		if (!staff_may(c->who.role, page)) {
			STAT_INC(OFFICE_FORBIDDEN);
			office_file(req, 403, "forbidden.html");
			return;
		}
		char name[64];
		snprintf(name, sizeof(name), "%s.html", staff_page_paths[page]);
		office_file(req, 200, name);
		return;
	}
	const char *path = p->rest + strlen("api/");
	if (p->post) {
		const char *tok = http_req_header(req, "X-CSRF-Token");
		if (!tok || strlen(tok) != strlen(c->who.csrf) || CRYPTO_memcmp(tok, c->who.csrf, strlen(tok))) {
			STAT_INC(OFFICE_CSRF_REFUSED);
			LOGP(DOFFICE, LOGL_NOTICE, "%s (%s): POST %s without its CSRF token: refused\n", c->who.login,
			     http_req_peer(req), http_req_path(req));
			office_error(req, 403, "this change needs the page's CSRF token: reload the page");
			return;
		}
	}
	if (!strcmp(path, "me") && !p->post)
		return office_me(c);
	if (!strcmp(path, "logout") && p->post)
		return office_logout(c);
	const struct office_route *r = office_route_find(p->post ? "POST" : "GET", path);
	if (!r) {
		office_error(req, 404, "no such API");
		return;
	}
	if (!staff_may(c->who.role, r->page)) {
		STAT_INC(OFFICE_FORBIDDEN);
		office_audit(&c->who, http_req_path(req), NULL, false, NULL, NULL);
		office_error(req, 403, "your role may not do this");
		return;
	}
	if (p->post) {
		size_t len;
		const char *body = http_req_body(req, &len);
		c->body = json_loadb(body, len, 0, NULL);
		if (!json_is_object(c->body)) {
			json_decref(c->body);
			c->body = NULL;
			office_error(req, 400, "the body must be a JSON object");
			return;
		}
	}
	r->h(c);
}

static void office_session_done(void *priv, const PGresult *res, int err)
{
	struct office_pending *p = priv;
	struct http_req *req = p->c.req;
	if (err) {
		office_error(req, 503, "the database is not answering: try again in a moment");
		return;
	}
	if (PQntuples(res) != 1 || staff_role_index(PQgetvalue(res, 0, 2)) < 0) {
		STAT_INC(OFFICE_UNAUTHENTICATED);
		if (p->api)
			office_error(req, 401, "please log in");
		else
			office_redirect(req, "/admin/login");
		return;
	}
	struct office_staff *w = &p->c.who;
	w->id = atoi(PQgetvalue(res, 0, 0));
	snprintf(w->login, sizeof(w->login), "%s", PQgetvalue(res, 0, 1));
	w->role = staff_role_index(PQgetvalue(res, 0, 2));
	w->retailer_id = atoi(PQgetvalue(res, 0, 3));
	snprintf(w->csrf, sizeof(w->csrf), "%s", PQgetvalue(res, 0, 4));
	office_dispatch(p);
}

static void office_with_session(struct http_req *req, const char *rest, bool post)
{
	char tok[STAFF_TOKEN_HEX], sha[STAFF_TOKEN_SHA_BUF];
	bool api = !strncmp(rest, "api/", 4);
	if (!office_cookie(req, tok)) {
		STAT_INC(OFFICE_UNAUTHENTICATED);
		if (api)
			office_error(req, 401, "please log in");
		else
			office_redirect(req, "/admin/login");
		return;
	}
	struct office_pending *p = talloc_zero(req, struct office_pending);
	talloc_set_destructor(p, office_pending_free);
	p->c.req = req;
	p->api = api;
	p->rest = rest;
	p->post = post;
	staff_token_sha(tok, sha);
	memcpy(p->c.who.session, sha, sizeof(sha));
	const char *params[] = { sha };
	db_read(DB_STAFF_SESSION_GET, 1, params, office_session_done, p);
}

/* ---- login ---- */

struct office_login {
	struct http_req *req;
	char login[40];
	char pw[STAFF_PW_MAX + 1];
	char token[STAFF_TOKEN_HEX];
	struct office_staff who;
};

static int office_login_free(struct office_login *l)
{
	OPENSSL_cleanse(l->pw, sizeof(l->pw));
	OPENSSL_cleanse(l->token, sizeof(l->token));
	return 0;
}

static void office_login_refused(struct office_login *l)
{
	STAT_INC(OFFICE_LOGIN_FAILED);
	LOGP(DOFFICE, LOGL_NOTICE, "login as \"%s\" from %s refused\n", l->login, http_req_peer(l->req));
	office_error(l->req, 401, "wrong login or password");
}

static void office_session_made(void *priv, const PGresult *res, int err)
{
	struct office_login *l = priv;
	if (err) {
		office_error(l->req, 503, "the database is not answering: try again in a moment");
		return;
	}
	STAT_INC(OFFICE_LOGINS);
	LOGP(DOFFICE, LOGL_NOTICE, "%s logged in from %s\n", l->who.login, http_req_peer(l->req));
	office_audit(&l->who, "login", NULL, true, NULL, NULL);
	office_set_cookie(l->req, l->token, OFFICE_SESSION_S);
	office_json(l->req, 200, json_pack("{ss ss ss}", "login", l->who.login, "role", staff_role_names[l->who.role],
					   "csrf", l->who.csrf));
}

static void office_login_found(void *priv, const PGresult *res, int err)
{
	struct office_login *l = priv;
	char sha[STAFF_TOKEN_SHA_BUF], id[16], ttl[16], max[8], lock[16];
	if (err) {
		office_error(l->req, 503, "the database is not answering: try again in a moment");
		return;
	}
	if (PQntuples(res) != 1) {
		/* the same cost as a known login, so the answer's time does not tell logins apart */
		staff_pw_verify(l->pw, "scrypt$16384$8$1$00000000000000000000000000000000$"
				       "0000000000000000000000000000000000000000000000000000000000000000");
		office_login_refused(l);
		return;
	}
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	int locked = atoi(PQgetvalue(res, 0, 5));
	if (locked > 0) {
		char after[16];
		STAT_INC(OFFICE_LOGIN_LOCKED);
		snprintf(after, sizeof(after), "%d", locked);
		http_reply_header(l->req, "Retry-After", after);
		office_error(l->req, 429, "too many wrong passwords: this account is locked for a few minutes");
		return;
	}
	bool disabled = !strcmp(PQgetvalue(res, 0, 4), "t");
	if (!staff_pw_verify(l->pw, PQgetvalue(res, 0, 3)) || disabled || staff_role_index(PQgetvalue(res, 0, 1)) < 0) {
		snprintf(max, sizeof(max), "%d", OFFICE_LOCK_FAILURES);
		snprintf(lock, sizeof(lock), "%d", OFFICE_LOCK_S);
		const char *params[] = { id, max, lock };
		if (!disabled)
			db_write(DB_STAFF_LOGIN_FAILED, 3, params, NULL, NULL);
		office_login_refused(l);
		return;
	}
	l->who.id = atoi(id);
	snprintf(l->who.login, sizeof(l->who.login), "%s", l->login);
	l->who.role = staff_role_index(PQgetvalue(res, 0, 1));
	l->who.retailer_id = atoi(PQgetvalue(res, 0, 2));
	if (staff_token_new(l->token) < 0 || staff_token_new(l->who.csrf) < 0) {
		office_error(l->req, 500, "no randomness");
		return;
	}
	staff_token_sha(l->token, sha);
	snprintf(ttl, sizeof(ttl), "%d", OFFICE_SESSION_S);
	const char *ok_params[] = { id };
	db_write(DB_STAFF_LOGIN_OK, 1, ok_params, NULL, NULL);
	const char *params[] = { sha, id, l->who.csrf, http_req_peer(l->req), ttl };
	db_write(DB_STAFF_SESSION_NEW, 5, params, office_session_made, l);
}

static void office_login(struct http_req *req)
{
	size_t len;
	const char *body = http_req_body(req, &len);
	const char *login = NULL, *pw = NULL;
	unsigned wait = ratelimit_take(RATELIMIT_KIND_STAFF_LOGIN, http_req_peer(req), OFFICE_IP_ATTEMPTS);
	if (wait) {
		char after[16];
		STAT_INC(OFFICE_LOGIN_THROTTLED);
		snprintf(after, sizeof(after), "%u", wait);
		http_reply_header(req, "Retry-After", after);
		office_error(req, 429, "too many login attempts from this address: wait a few minutes");
		return;
	}
	json_t *j = json_loadb(body, len, 0, NULL);
	if (json_unpack(j, "{ss ss}", "login", &login, "password", &pw) < 0 || !staff_login_valid(login) ||
	    strlen(pw) > STAFF_PW_MAX) {
		json_decref(j);
		STAT_INC(OFFICE_LOGIN_FAILED);
		office_error(req, 401, "wrong login or password");
		return;
	}
	struct office_login *l = talloc_zero(req, struct office_login);
	talloc_set_destructor(l, office_login_free);
	l->req = req;
	snprintf(l->login, sizeof(l->login), "%s", login);
	snprintf(l->pw, sizeof(l->pw), "%s", pw);
	json_decref(j);
	const char *params[] = { l->login };
	db_read(DB_STAFF_BY_LOGIN, 1, params, office_login_found, l);
}

/* ---- routes ---- */

static void office_get(struct http_req *req)
{
	const char *rest = http_req_path_rest(req);
	if (!strcmp(rest, "login"))
		return office_file(req, 200, "login.html");
	if (!strncmp(rest, "static/", 7))
		return office_file(req, 200, rest + 7);
	office_with_session(req, rest, false);
}

static void office_post(struct http_req *req)
{
	const char *rest = http_req_path_rest(req);
	if (!strcmp(rest, "api/login"))
		return office_login(req);
	office_with_session(req, rest, true);
}

static void office_root(struct http_req *req)
{
	office_with_session(req, "", false);
}

void office_init(void)
{
	http_route(LISTEN_ADMIN, "GET", "/admin", office_root);
	http_route(LISTEN_ADMIN, "GET", "/admin/", office_root);
	http_route_prefix(LISTEN_ADMIN, "GET", "/admin/", office_get);
	http_route_prefix(LISTEN_ADMIN, "POST", "/admin/", office_post);
}
