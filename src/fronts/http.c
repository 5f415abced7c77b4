/* libmicrohttpd glue: one MHD daemon per listener (front, till, admin; listen_cfg.h), each
 * daemon's epoll fd one osmo_fd; requests are parsed into a struct http_req, routed by exact
 * path or by path prefix among the routes of their listener, and suspended while their handler
 * waits.
 *
 * What one client may take is bounded here, before any handler runs: an address not on the
 * listener's allow-list, or already holding its per-IP share of connections, is refused at
 * accept; a request whose headers and body have not all arrived within the listener's timeout
 * is cut, however steadily its bytes trickle in (libmicrohttpd's own timeout only sees
 * silence); a body declared larger than `http max-body` is answered 413 at once and the
 * connection closed, an undeclared one is cut when it grows past it. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <talloc.h>
#include <microhttpd.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>
#include "http.h"
#include "logging.h"
#include "stats.h"

#define HTTP_MAX_ROUTES 16
#define HTTP_MAX_HEADERS 4

struct http_listener {
	enum listen_kind kind;
	struct MHD_Daemon *mhd;
	struct osmo_fd ofd;
	struct osmo_timer_list timer;	/* libmicrohttpd's own timeouts */
	struct osmo_timer_list cut_timer;	/* the request deadline, while there are connections */
	struct llist_head conns;	/* struct http_conn */
};

/* One TCP connection, from accept to close (MHD_OPTION_NOTIFY_CONNECTION). */
struct http_conn {
	struct llist_head entry;
	struct MHD_Connection *conn;
	struct in_addr peer;
	time_t since;		/* CLOCK_MONOTONIC s: when it began owing us a request (connect, last reply) */
	bool busy;		/* its request is complete and with us: our time, not the client's */
	bool cut;
};

struct http_req {
	struct MHD_Connection *conn;	/* NULL once the daemon closed it (orphan) */
	struct http_listener *l;
	struct llist_head entry;	/* in g.suspended while suspended */
	http_handler handler;
	char *target;		/* path and query exactly as sent, before any decoding */
	char *path;		/* as libmicrohttpd decoded it */
	size_t rest;		/* where what follows a prefix route's prefix starts in path */
	char *body;
	size_t len, cap;
	bool dispatched, suspended, replied;
	bool orphan;		/* its connection went with the daemon; the handler still holds it */
	struct MHD_Response *resp;
	unsigned status;
	unsigned n_headers;
	char *headers[HTTP_MAX_HEADERS][2];
	char peer[INET6_ADDRSTRLEN];
};

static struct {
	void *ctx;
	struct http_listener *listeners[LISTEN_N];
	struct llist_head suspended;	/* requests whose handler has not answered yet */
	size_t max_body;
	unsigned n_routes;
	struct {
		enum listen_kind kind; char method[8]; char *path; size_t len; bool prefix; http_handler h;
	} routes[HTTP_MAX_ROUTES];
} g;

static time_t http_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void http_schedule(struct http_listener *l)
{
	MHD_UNSIGNED_LONG_LONG ms;
	if (MHD_get_timeout(l->mhd, &ms) == MHD_YES)
		osmo_timer_schedule(&l->timer, ms / 1000, (ms % 1000) * 1000);
	else
		osmo_timer_del(&l->timer);
}

static void http_run(struct http_listener *l)
{
	MHD_run(l->mhd);
	http_schedule(l);
}

static int http_fd_cb(struct osmo_fd *ofd, unsigned int what)
{
	http_run(ofd->data);
	return 0;
}

static void http_timer_cb(void *data)
{
	http_run(data);
}

static void http_route_add(enum listen_kind kind, const char *method, const char *path, bool prefix, http_handler h)
{
	OSMO_ASSERT(g.n_routes < HTTP_MAX_ROUTES);
	g.routes[g.n_routes].kind = kind;
	snprintf(g.routes[g.n_routes].method, sizeof(g.routes[0].method), "%s", method);
	g.routes[g.n_routes].path = talloc_strdup(g.ctx, path);
	g.routes[g.n_routes].len = strlen(path);
	g.routes[g.n_routes].prefix = prefix;
	g.routes[g.n_routes].h = h;
	g.n_routes++;
}

void http_route(enum listen_kind kind, const char *method, const char *path, http_handler h)
{
	http_route_add(kind, method, path, false, h);
}

void http_route_prefix(enum listen_kind kind, const char *method, const char *prefix, http_handler h)
{
	http_route_add(kind, method, prefix, true, h);
}

/* 0 when routed (*rest: where the path goes on after the route's prefix), else the HTTP
 * status to answer with. An exact route beats any prefix, a longer prefix a shorter one; a
 * path that some route knows but not for this method is 405. */
static unsigned http_find(enum listen_kind kind, const char *method, const char *url, http_handler *h, size_t *rest)
{
	bool path_known = false;
	size_t best = 0;
	size_t url_len = strlen(url);
	*h = NULL;
	for (unsigned i = 0; i < g.n_routes; i++) {
		size_t len = g.routes[i].len;
		if (g.routes[i].kind != kind)
			continue;
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
		osmo_timer_schedule(&req->l->timer, 0, 0);
	}
}

static void http_reply_text(struct http_req *req, unsigned status, const char *text)
{
	http_reply(req, status, "text/plain", text, strlen(text));
}

static struct http_conn *http_conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* A body larger than max-body is never read: declared so, it is answered 413 before the body
 * comes (libmicrohttpd then closes the connection instead of reading on); sent without a length
 * (chunked), the connection is dropped once it grows past the limit. */
static bool http_declared_too_big(struct http_req *req)
{
	const char *cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (!cl || strtoull(cl, NULL, 10) <= g.max_body)
		return false;
	http_reply_header(req, MHD_HTTP_HEADER_CONNECTION, "close");
	http_reply_text(req, 413, "request body too large\n");
	return true;
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
	struct http_listener *l = cls;
	struct http_req *req = *con_cls;
	if (!req->conn) {
		req->conn = conn;
		req->l = l;
		req->path = talloc_strdup(req, url);
		*con_cls = req;
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)ci->client_addr)->sin_addr, req->peer, sizeof(req->peer));
		if (http_declared_too_big(req)) {
			req->dispatched = true;
			return http_queue(req);
		}
		unsigned st = http_find(l->kind, method, url, &req->handler, &req->rest);
		if (st) {
			req->dispatched = true;
			http_reply_text(req, st, st == 404 ? "not found\n" : "method not allowed\n");
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (req->len + *upload_size > g.max_body) {
			LOGP(DHTTP, LOGL_INFO, "%s: body over %zu bytes without a length: connection closed\n",
			     req->peer, g.max_body);
			return MHD_NO;
		}
		if (!req->dispatched) {
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
	struct http_conn *hc = http_conn_of(conn);
	if (hc)
		hc->busy = true;
	if (!req->dispatched) {
		req->dispatched = true;
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
	struct http_conn *hc = http_conn_of(conn);
	if (hc) {	/* on a kept-alive connection, the client owes us the next request from now */
		hc->busy = false;
		hc->since = http_now();
	}
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

/* ---- what one client may take ---- */

static unsigned http_conns_from(const struct http_listener *l, struct in_addr peer)
{
	unsigned n = 0;
	struct http_conn *hc;
	llist_for_each_entry(hc, &l->conns, entry)
		n += hc->peer.s_addr == peer.s_addr;
	return n;
}

/* Before libmicrohttpd takes a connection. The per-IP limit is ours rather than
 * MHD_OPTION_PER_IP_CONNECTION_LIMIT, which refuses before any callback of ours runs: its
 * refusals could be neither counted nor logged. */
static enum MHD_Result http_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct http_listener *l = cls;
	char peer[INET_ADDRSTRLEN] = "?";
	if (addr->sa_family != AF_INET)
		return MHD_NO;
	struct in_addr a = ((const struct sockaddr_in *)addr)->sin_addr;
	inet_ntop(AF_INET, &a, peer, sizeof(peer));
	if (!cfg_net_allowed(&g_listen[l->kind].allow, peer)) {
		STAT_INC(HTTP_REFUSED_PEERS);
		LOGP(DHTTP, LOGL_INFO, "%s listener: %s is not allowed: refused\n", listen_names[l->kind], peer);
		return MHD_NO;
	}
	if (http_conns_from(l, a) >= g_listen[l->kind].per_ip) {
		STAT_INC(HTTP_PER_IP_LIMIT);
		LOGP(DHTTP, LOGL_INFO, "%s listener: %s already holds %u connections: refused\n",
		     listen_names[l->kind], peer, g_listen[l->kind].per_ip);
		return MHD_NO;
	}
	return MHD_YES;
}

/* Once a second while there are connections: a connection that has owed us a request for
 * longer than the timeout is shut down (not closed: libmicrohttpd owns the fd, sees it end and
 * closes it itself), whether the client went silent or sends a byte now and then. */
static void http_cut_cb(void *data)
{
	struct http_listener *l = data;
	time_t now = http_now();
	struct http_conn *hc;
	llist_for_each_entry(hc, &l->conns, entry) {
		if (hc->busy || hc->cut || now - hc->since < (time_t)g_listen[l->kind].timeout_s)
			continue;
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(hc->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!ci)
			continue;
		hc->cut = true;
		shutdown(ci->connect_fd, SHUT_RDWR);
		STAT_INC(HTTP_TIMEOUTS);
		LOGP(DHTTP, LOGL_INFO, "%s listener: %s sent no whole request within %u s: connection closed\n",
		     listen_names[l->kind], inet_ntoa(hc->peer), g_listen[l->kind].timeout_s);
		osmo_timer_schedule(&l->timer, 0, 0);
	}
	if (!llist_empty(&l->conns))
		osmo_timer_schedule(&l->cut_timer, 1, 0);
}

static void http_notify_conn(void *cls, struct MHD_Connection *conn, void **socket_context,
			     enum MHD_ConnectionNotificationCode toe)
{
	struct http_listener *l = cls;
	struct http_conn *hc = *socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (hc)
			llist_del(&hc->entry);
		talloc_free(hc);
		*socket_context = NULL;
		return;
	}
	hc = talloc_zero(l, struct http_conn);
	hc->conn = conn;
	hc->since = http_now();
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
		hc->peer = ((struct sockaddr_in *)ci->client_addr)->sin_addr;
	llist_add_tail(&hc->entry, &l->conns);
	*socket_context = hc;
	if (!osmo_timer_pending(&l->cut_timer))
		osmo_timer_schedule(&l->cut_timer, 1, 0);
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

/* Each listener may need more descriptors than a default soft limit of 1024 allows (4000
 * connections each): take what the hard limit gives, once, and say so. spazad.c's main()
 * does not touch the limit, so this is the one place that does. */
static void http_raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur >= rl.rlim_max) {
		LOGP(DHTTP, LOGL_NOTICE, "open files limit %llu (the hard limit)\n", (unsigned long long)rl.rlim_cur);
		return;
	}
	rlim_t was = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		LOGP(DHTTP, LOGL_ERROR, "open files limit stays %llu: %s\n", (unsigned long long)was, strerror(errno));
	else
		LOGP(DHTTP, LOGL_NOTICE, "open files limit raised from %llu to %llu\n", (unsigned long long)was,
		     (unsigned long long)rl.rlim_max);
}

/* The PEM text of path, NUL-terminated, or NULL (logged). */
static char *http_read_pem(void *ctx, const char *path)
{
	FILE *fp = fopen(path, "r");
	char *pem = NULL;
	size_t len = 0;
	char buf[4096];
	if (!fp) {
		LOGP(DHTTP, LOGL_FATAL, "cannot read %s: %s\n", path, strerror(errno));
		return NULL;
	}
	for (size_t n; (n = fread(buf, 1, sizeof(buf), fp)) > 0; len += n) {
		pem = talloc_realloc_size(ctx, pem, len + n + 1);
		memcpy(pem + len, buf, n);
	}
	fclose(fp);
	if (pem)
		pem[len] = '\0';
	explicit_bzero(buf, sizeof(buf));
	return pem;
}

static int http_listener_start(enum listen_kind k)
{
	const struct listen_cfg *lc = &g_listen[k];
	const char *name = listen_names[k];
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(listen_port(k)) };
	struct http_listener *l = talloc_zero(g.ctx, struct http_listener);
	l->kind = k;
	INIT_LLIST_HEAD(&l->conns);
	g.listeners[k] = l;
	if (inet_pton(AF_INET, listen_addr(k), &sin.sin_addr) != 1)
		return -EINVAL;
	/* libmicrohttpd's own timeout counts silence only; ours (http_cut_cb) cuts a request that is
	 * late at all. Twice as long, it still ends a client that stops reading its answer. */
	struct MHD_OptionItem opts[] = {
		{ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)http_log, NULL },
		{ MHD_OPTION_SOCK_ADDR, 0, &sin },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)http_completed, l },
		{ MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)http_uri, NULL },
		{ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)http_notify_conn, l },
		{ MHD_OPTION_CONNECTION_TIMEOUT, 2 * lc->timeout_s, NULL },
		{ MHD_OPTION_CONNECTION_LIMIT, 4000, NULL },
		{ MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL },
		{ MHD_OPTION_END, 0, NULL },	/* the key, when TLS */
		{ MHD_OPTION_END, 0, NULL },	/* the certificate */
		{ MHD_OPTION_END, 0, NULL },
	};
	unsigned flags = MHD_USE_EPOLL | MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	char *key = NULL, *cert = NULL;
	if (listen_tls(k)) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			LOGP(DHTTP, LOGL_FATAL, "%s listener: this libmicrohttpd has no TLS\n", name);
			return -ENOTSUP;
		}
		key = http_read_pem(l, lc->key);
		cert = http_read_pem(l, lc->cert);
		if (!key || !cert)
			return -EINVAL;
		flags |= MHD_USE_TLS;
		opts[ARRAY_SIZE(opts) - 3] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, key };
		opts[ARRAY_SIZE(opts) - 2] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, cert };
	}
	l->mhd = MHD_start_daemon(flags, listen_port(k), http_accept, l, http_access, l,
				  MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (key)	/* GnuTLS holds its own copy now */
		explicit_bzero(key, strlen(key));
	if (!l->mhd)
		return -EADDRINUSE;
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	osmo_fd_setup(&l->ofd, di->epoll_fd, OSMO_FD_READ, http_fd_cb, l, 0);
	osmo_fd_register(&l->ofd);
	osmo_timer_setup(&l->timer, http_timer_cb, l);
	osmo_timer_setup(&l->cut_timer, http_cut_cb, l);
	http_schedule(l);
	LOGP(DHTTP, LOGL_NOTICE, "%s listener on %s://%s:%u\n", name, listen_tls(k) ? "https" : "http",
	     listen_addr(k), listen_port(k));
	const char *lack = listen_unprotected(k);
	if (lack)	/* listen_cfg_check() let it through: the configuration says `insecure` */
		LOGP(DHTTP, LOGL_NOTICE, "WARNING: %s listener on %s is open to the network with %s (insecure %s)\n",
		     name, listen_addr(k), lack, name);
	return 0;
}

int http_listen(void *ctx, size_t max_body)
{
	g.ctx = ctx;
	g.max_body = max_body;
	INIT_LLIST_HEAD(&g.suspended);
	http_raise_nofile();
	for (unsigned k = 0; k < LISTEN_N; k++)
		if (http_listener_start(k) < 0) {
			LOGP(DHTTP, LOGL_FATAL, "cannot listen on %s:%u (%s listener)\n", listen_addr(k),
			     listen_port(k), listen_names[k]);
			return -EADDRINUSE;
		}
	return 0;
}

void http_close(void)
{
	/* requests answered during shutdown were resumed; MHD must take them back before it stops,
	 * or it aborts on "suspended connections" */
	for (unsigned k = 0; k < LISTEN_N; k++) {
		struct http_listener *l = g.listeners[k];
		if (!l || !l->mhd)
			continue;
		MHD_run(l->mhd);
		osmo_fd_unregister(&l->ofd);
		osmo_timer_del(&l->timer);
		osmo_timer_del(&l->cut_timer);
	}
	/* libmicrohttpd aborts when stopped with connections still suspended (requests whose
	 * handler waits, e.g. on the database): resume them, so it closes them like the rest */
	struct http_req *req, *tmp;
	llist_for_each_entry_safe(req, tmp, &g.suspended, entry) {
		llist_del(&req->entry);
		req->suspended = false;
		MHD_resume_connection(req->conn);
	}
	for (unsigned k = 0; k < LISTEN_N; k++) {
		if (g.listeners[k] && g.listeners[k]->mhd)
			MHD_stop_daemon(g.listeners[k]->mhd);
		TALLOC_FREE(g.listeners[k]);
	}
}
