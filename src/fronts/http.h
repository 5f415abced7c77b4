#pragma once
/* libmicrohttpd in the osmo_select loop. A handler either replies at once or returns without
 * replying: the connection is then suspended until http_reply(), so a request waiting on the
 * database costs no thread and blocks nothing. */
#include <stddef.h>
#include <stdint.h>
#include "listen_cfg.h"

struct http_req;
typedef void (*http_handler)(struct http_req *req);

/* Binds every listener of g_listen (logged; -errno when one cannot be): the one place that
 * binds, so that it can run before privileges are dropped. Raises the open files limit. */
int http_listen(void *ctx, size_t max_body);
void http_close(void);
/* Exact path match on one listener; method "GET" or "POST". Paths no route of the listener
 * knows get 404 there (whatever other listeners serve), other methods 405. */
void http_route(enum listen_kind l, const char *method, const char *path, http_handler h);
/* Every path that starts with prefix (e.g. "/api/v1/slips/") and goes on after it; an exact
 * route wins over a prefix route, a longer prefix over a shorter one. The handler reads
 * what follows the prefix with http_req_path_rest(). */
void http_route_prefix(enum listen_kind l, const char *method, const char *prefix, http_handler h);

const char *http_req_body(const struct http_req *req, size_t *len);
const char *http_req_arg(struct http_req *req, const char *name);	/* query string */
const char *http_req_header(struct http_req *req, const char *name);
const char *http_req_peer(const struct http_req *req);
/* The request's path (percent-decoded by libmicrohttpd, no query string), and what follows
 * the prefix of the prefix route that matched ("" for exact routes). */
const char *http_req_path(const struct http_req *req);
const char *http_req_path_rest(const struct http_req *req);
/* The request target as it came on the request line: the path and any "?query", with their
 * percent-encoding untouched. */
const char *http_req_target(const struct http_req *req);

/* Add a response header before http_reply (copied). */
void http_reply_header(struct http_req *req, const char *name, const char *value);
/* Reply exactly once; body is copied. Resumes the connection if it was suspended. */
void http_reply(struct http_req *req, unsigned status, const char *ctype, const char *body, size_t len);
