/* libmicrohttpd glue: the daemon's epoll fd is one osmo_fd; requests are parsed into a
 * struct http_req, routed by exact path or by path prefix, and suspended while their handler
 * waits. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <talloc.h>
#include <microhttpd.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>
#include "http.h"
#include "logging.h"

#define HTTP_MAX_ROUTES 16
#define HTTP_MAX_HEADERS 4

struct http_req {
	struct MHD_Connection *conn;	/* NULL once the daemon closed it (orphan) */
	struct llist_head entry;	/* in g.suspended while suspended */
	http_handler handler;
	char *target;		/* path and query exactly as sent, before any decoding */
	char *path;		/* as libmicrohttpd decoded it */
	size_t rest;		/* where what follows a prefix route's prefix starts in path */
	char *body;
	size_t len, cap;
	bool too_big, dispatched, suspended, replied;
	bool orphan;		/* its connection went with the daemon; the handler still holds it */
	struct MHD_Response *resp;
	unsigned status;
	unsigned n_headers;
	char *headers[HTTP_MAX_HEADERS][2];
	char peer[INET6_ADDRSTRLEN];
};

static struct {
	void *ctx;
	struct MHD_Daemon *mhd;
	struct osmo_fd ofd;
	struct osmo_timer_list timer;
	struct llist_head suspended;	/* requests whose handler has not answered yet */
	size_t max_body;
	unsigned n_routes;
	struct { char method[8]; char *path; size_t len; bool prefix; http_handler h; } routes[HTTP_MAX_ROUTES];
} g;

static void http_schedule(void)
{
	MHD_UNSIGNED_LONG_LONG ms;
	if (MHD_get_timeout(g.mhd, &ms) == MHD_YES)
		osmo_timer_schedule(&g.timer, ms / 1000, (ms % 1000) * 1000);
	else
		osmo_timer_del(&g.timer);
}

static void http_run(void)
{
	MHD_run(g.mhd);
	http_schedule();
}

static int http_fd_cb(struct osmo_fd *ofd, unsigned int what)
{
	http_run();
	return 0;
}

static void http_timer_cb(void *data)
{
	http_run();
}

static void http_route_add(const char *method, const char *path, bool prefix, http_handler h)
{
	OSMO_ASSERT(g.n_routes < HTTP_MAX_ROUTES);
	snprintf(g.routes[g.n_routes].method, sizeof(g.routes[0].method), "%s", method);
	g.routes[g.n_routes].path = talloc_strdup(g.ctx, path);
	g.routes[g.n_routes].len = strlen(path);
	g.routes[g.n_routes].prefix = prefix;
	g.routes[g.n_routes].h = h;
	g.n_routes++;
}

void http_route(const char *method, const char *path, http_handler h)
{
	http_route_add(method, path, false, h);
}

void http_route_prefix(const char *method, const char *prefix, http_handler h)
{
	http_route_add(method, prefix, true, h);
}

/* 0 when routed (*rest: where the path goes on after the route's prefix), else the HTTP
 * status to answer with. An exact route beats any prefix, a longer prefix a shorter one; a
 * path that some route knows but not for this method is 405. */
static unsigned http_find(const char *method, const char *url, http_handler *h, size_t *rest)
{
	bool path_known = false;
	size_t best = 0;
	size_t url_len = strlen(url);
	*h = NULL;
	for (unsigned i = 0; i < g.n_routes; i++) {
		size_t len = g.routes[i].len;
		if (g.routes[i].prefix ? len >= url_len || strncmp(g.routes[i].path, url, len)
				       : strcmp(g.routes[i].path, url))
			continue;
		path_known = true;
		if (strcmp(g.routes[i].method, method))
			continue;
		/* an exact match counts as longer than every prefix of the same path */
		size_t score = g.routes[i].prefix ? len : url_len + 1;
		if (score > best) {
			best = score;
			*h = g.routes[i].h;
			*rest = g.routes[i].prefix ? len : url_len;
		}
	}
	if (*h)
		return 0;
	return path_known ? 405 : 404;
}

static enum MHD_Result http_queue(struct http_req *req)
{
	enum MHD_Result rc = MHD_queue_response(req->conn, req->status, req->resp);
	MHD_destroy_response(req->resp);
	req->resp = NULL;
	return rc;
}

void http_reply_header(struct http_req *req, const char *name, const char *value)
{
	if (req->n_headers == HTTP_MAX_HEADERS)
		return;
	req->headers[req->n_headers][0] = talloc_strdup(req, name);
	req->headers[req->n_headers][1] = talloc_strdup(req, value);
	req->n_headers++;
}

void http_reply(struct http_req *req, unsigned status, const char *ctype, const char *body, size_t len)
{
	if (req->orphan) {	/* the daemon stopped meanwhile: nobody to answer */
		talloc_free(req);
		return;
	}
	OSMO_ASSERT(!req->replied);
	req->replied = true;
	req->status = status;
	req->resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(req->resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	for (unsigned i = 0; i < req->n_headers; i++)
		MHD_add_response_header(req->resp, req->headers[i][0], req->headers[i][1]);
	if (req->suspended) {
		/* MHD calls the access handler again for this connection, which queues resp. In
		 * external polling mode nothing wakes MHD up for that: run it on the next turn. */
		req->suspended = false;
		llist_del(&req->entry);
		MHD_resume_connection(req->conn);
		osmo_timer_schedule(&g.timer, 0, 0);
	}
}

static void http_reply_text(struct http_req *req, unsigned status, const char *text)
{
	http_reply(req, status, "text/plain", text, strlen(text));
}

/* libmicrohttpd's first look at a request, with the target as it came on the request line: a
 * signature over the request (front_till.c) covers these bytes, which percent-decoding the
 * path and splitting off the query would lose. The request starts here, so it has them from
 * its first call on. */
static void *http_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_req *req = talloc_zero(g.ctx, struct http_req);
	req->target = talloc_strdup(req, uri);
	return req;
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				   const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct http_req *req = *con_cls;
	if (!req->conn) {
		req->conn = conn;
		req->path = talloc_strdup(req, url);
		*con_cls = req;
		unsigned st = http_find(method, url, &req->handler, &req->rest);
		if (st) {
			req->dispatched = true;
			http_reply_text(req, st, st == 404 ? "not found\n" : "method not allowed\n");
		}
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)ci->client_addr)->sin_addr, req->peer, sizeof(req->peer));
		return MHD_YES;
	}
	if (*upload_size) {
		/* keep reading an oversized body, but not keeping it: the reply is 413 at the end */
		if (!req->too_big && req->len + *upload_size > g.max_body)
			req->too_big = true;
		if (!req->too_big && !req->dispatched) {
			if (req->len + *upload_size + 1 > req->cap) {
				req->cap = req->len + *upload_size + 1;
				req->body = talloc_realloc_size(req, req->body, req->cap);
			}
			memcpy(req->body + req->len, upload_data, *upload_size);
			req->len += *upload_size;
			req->body[req->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (!req->dispatched) {
		req->dispatched = true;
		if (req->too_big)
			http_reply_text(req, 413, "request body too large\n");
		else
			req->handler(req);
	}
	if (req->resp)
		return http_queue(req);
	if (!req->replied) {
		req->suspended = true;
		llist_add_tail(&req->entry, &g.suspended);
		MHD_suspend_connection(conn);
	}
	return MHD_YES;
}

static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct http_req *req = *con_cls;
	if (!req)
		return;
	if (req->resp)
		MHD_destroy_response(req->resp);
	req->resp = NULL;
	*con_cls = NULL;
	if (req->dispatched && !req->replied) {
		/* closed by http_close() while its handler waits: freed when the handler answers */
		req->conn = NULL;
		req->orphan = true;
		return;
	}
	talloc_free(req);
}

const char *http_req_body(const struct http_req *req, size_t *len)
{
	*len = req->len;
	return req->body ? req->body : "";
}

const char *http_req_arg(struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_req_header(struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_req_peer(const struct http_req *req)
{
	return req->peer;
}

const char *http_req_path(const struct http_req *req)
{
	return req->path;
}

const char *http_req_target(const struct http_req *req)
{
	return req->target;
}

const char *http_req_path_rest(const struct http_req *req)
{
	return req->path + req->rest;
}

static void http_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	LOGP(DHTTP, LOGL_NOTICE, "%s", buf);
}

int http_init(void *ctx, const char *addr, uint16_t port, size_t max_body)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	g.ctx = ctx;
	g.max_body = max_body;
	INIT_LLIST_HEAD(&g.suspended);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return -EINVAL;
	g.mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
				 port, NULL, NULL, http_access, NULL,
				 MHD_OPTION_EXTERNAL_LOGGER, http_log, NULL,
				 MHD_OPTION_SOCK_ADDR, &sin,
				 MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL,
				 MHD_OPTION_URI_LOG_CALLBACK, http_uri, NULL,
				 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
				 MHD_OPTION_CONNECTION_LIMIT, (unsigned int)4000,
				 MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
				 MHD_OPTION_END);
	if (!g.mhd)
		return -EADDRINUSE;
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(g.mhd, MHD_DAEMON_INFO_EPOLL_FD);
	osmo_fd_setup(&g.ofd, di->epoll_fd, OSMO_FD_READ, http_fd_cb, NULL, 0);
	osmo_fd_register(&g.ofd);
	osmo_timer_setup(&g.timer, http_timer_cb, NULL);
	http_schedule();
	return 0;
}

void http_close(void)
{
	if (!g.mhd)
		return;
	/* requests answered during shutdown were resumed; MHD must take them back before it stops,
	 * or it aborts on "suspended connections" */
	MHD_run(g.mhd);
	osmo_fd_unregister(&g.ofd);
	osmo_timer_del(&g.timer);
	/* libmicrohttpd aborts when stopped with connections still suspended (requests whose
	 * handler waits, e.g. on the database): resume them, so it closes them like the rest */
	struct http_req *req, *tmp;
	llist_for_each_entry_safe(req, tmp, &g.suspended, entry) {
		llist_del(&req->entry);
		req->suspended = false;
		MHD_resume_connection(req->conn);
	}
	MHD_stop_daemon(g.mhd);
	g.mhd = NULL;
}
