/* Asynchronous PostgreSQL access: one libpq connection in pipeline mode, driven by osmo_select.
 *
 * A request travels through these lists, in this order:
 *   read_q, write_q, retry_q  queued; sent on the next loop turn (db_kick_cb)
 *   inflight                  sent; waiting for its result (results come back in send order)
 *   settled                   result in hand; waiting for the Sync that ends its group
 * A group is what lies between two Syncs, so the server runs it as one implicit transaction:
 * the reads of one loop turn, a batch of up to DB_BATCH_MAX writes, one request of a failed
 * group tried again alone, the PREPAREs and LISTENs of a new connection, or one LISTEN added
 * later. A write's callback runs only when its group's PGRES_PIPELINE_SYNC arrives, i.e. after
 * the batch committed; a read needs no commit and is answered as soon as its rows are in.
 *
 * Callbacks never run inside db_read()/db_write()/db_listen(): those only queue and schedule
 * the kick timer, so a caller is never re-entered while it is still setting itself up. */
#include <errno.h>
#include <string.h>

#include <talloc.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>

#include "db.h"
#include "db_sync.h"
#include "logging.h"

/* Many writes per commit is the whole point (one connection commits a few thousand
 * transactions per second), and one Sync per turn's reads halves their cost (libpq
 * flushes the socket at every Sync); the cap bounds the work redone after one bad statement. */
#define DB_BATCH_MAX		1000
/* One batch committing while the next waits right behind it keeps the server busy; more
 * in flight would only cut the queue into smaller batches, i.e. more commits. */
#define DB_WRITE_GROUPS_MAX	2
/* Recycled requests kept for the next burst, so a hop costs no allocation. */
#define DB_FREE_MAX		4096
#define DB_BACKOFF_MIN_MS	500
#define DB_BACKOFF_MAX_MS	5000
/* PQconnectPoll() ignores connect_timeout: a server that accepts and then hangs is ours to time out. */
#define DB_CONNECT_TIMEOUT_S	10

enum db_req_kind {
	DB_REQ_READ,	/* batched with the other reads of its loop turn */
	DB_REQ_WRITE,	/* batched with the other writes queued meanwhile */
	DB_REQ_RETRY,	/* a request of a failed group, tried again alone */
	DB_REQ_SETUP,	/* a PREPARE or LISTEN of a new connection */
	DB_REQ_LISTEN,	/* a LISTEN for a channel added while connected */
};

struct db_listener {
	struct llist_head entry;
	char *channel;
	void (*cb)(void *priv);
	void *priv;
	bool sent;	/* LISTEN issued on the current connection */
	bool notified;	/* a NOTIFY arrived in this read */
};

struct db_req {
	struct llist_head entry;
	enum db_req_kind kind;
	bool queued;			/* in read_q, write_q or retry_q */
	enum db_stmt stmt;
	struct db_listener *listener;	/* a LISTEN instead of a statement */
	db_cb cb;			/* NULL once cancelled */
	void *priv;
	PGresult *res;
	int nparams;
	const char *params[DB_MAX_PARAMS];
	char *buf;			/* the params' copies; kept when the request is recycled */
	size_t buf_size;
};

enum db_state {
	DB_DOWN,	/* waiting to reconnect: requests fail with -ENOTCONN */
	DB_CONNECTING,	/* PQconnectPoll() at work: requests wait */
	DB_SETUP,	/* PREPAREs and LISTENs sent: requests wait */
	DB_UP,
};

struct db {
	char *conninfo;
	PGconn *conn;
	enum db_state state;
	struct osmo_fd ofd;			/* fd -1 while not registered */
	struct osmo_timer_list kick;		/* sends what was queued, on the next loop turn */
	struct osmo_timer_list conn_timer;	/* reconnect back-off, then connect timeout */
	unsigned backoff_ms;
	bool was_up;
	struct llist_head read_q, write_q, retry_q, inflight, settled;
	bool group_failed;			/* a statement of the settled group failed */
	unsigned write_groups;			/* write batches in flight */
	struct llist_head free_reqs;
	unsigned n_free;
	struct llist_head listeners;
	bool dispatching;			/* inside a caller's callback */
	struct db_stats stats;
};

static struct db *g_db;

static void db_drop(void);

/* libpq's messages end with a newline and may add hint lines; a log line takes the first
 * line only: print with "%.*s", DB_MSG(m). */
static int db_msglen(const char *m)
{
	return strcspn(m, "\n");
}
#define DB_MSG(m) db_msglen(m), (m)

static const char *db_res_msg(const PGresult *res)
{
	const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	return m ? m : PQresultErrorMessage(res);
}

static bool db_res_ok(const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

static const char *db_req_name(const struct db_req *req)
{
	return req->listener ? req->listener->channel : db_stmts[req->stmt].name;
}

static struct db_req *db_req_get(enum db_req_kind kind)
{
	struct db_req *req = llist_first_entry_or_null(&g_db->free_reqs, struct db_req, entry);

	if (req) {
		llist_del(&req->entry);
		g_db->n_free--;
	} else {
		req = talloc_zero(g_db, struct db_req);
		OSMO_ASSERT(req);
	}
	INIT_LLIST_HEAD(&req->entry);
	req->kind = kind;
	req->queued = false;
	req->listener = NULL;
	req->cb = NULL;
	req->priv = NULL;
	req->nparams = 0;
	return req;
}

/* The request is unlinked (or in a list nobody walks any more). */
static void db_req_put(struct db_req *req)
{
	PQclear(req->res);
	req->res = NULL;
	if (g_db->n_free < DB_FREE_MAX) {
		llist_add(&req->entry, &g_db->free_reqs);
		g_db->n_free++;
	} else {
		talloc_free(req);
	}
}

/* One buffer per request, grown when too small and kept across reuse. */
static void db_req_set_params(struct db_req *req, int nparams, const char *const *params)
{
	size_t len[DB_MAX_PARAMS], need = 0, off = 0;
	int i;

	for (i = 0; i < nparams; i++) {
		len[i] = params[i] ? strlen(params[i]) + 1 : 0;
		need += len[i];
	}
	if (need > req->buf_size) {
		talloc_free(req->buf);
		req->buf_size = need > 256 ? need : 256;
		req->buf = talloc_size(req, req->buf_size);
		OSMO_ASSERT(req->buf);
	}
	for (i = 0; i < nparams; i++) {
		if (!params[i]) {
			req->params[i] = NULL;	/* SQL NULL */
			continue;
		}
		memcpy(req->buf + off, params[i], len[i]);
		req->params[i] = req->buf + off;
		off += len[i];
	}
	req->nparams = nparams;
}

/* The caller's callback, then the request goes back to the free list. The callback may
 * queue new requests and cancel others; cancelling this one is harmless. */
static void db_req_finish(struct db_req *req, int err)
{
	db_cb cb = req->cb;

	req->cb = NULL;
	req->queued = false;
	if (err && req->kind != DB_REQ_SETUP && req->kind != DB_REQ_LISTEN)
		g_db->stats.errors++;
	if (cb) {
		g_db->dispatching = true;
		cb(req->priv, err ? NULL : req->res, err);
		g_db->dispatching = false;
	}
	db_req_put(req);
}

/* Pop one at a time: a callback may cancel (and so unlink) a later request of the list. */
static void db_finish_list(struct llist_head *list, int err)
{
	struct db_req *req;

	while ((req = llist_first_entry_or_null(list, struct db_req, entry))) {
		llist_del(&req->entry);
		db_req_finish(req, err);
	}
}

static void db_listener_call(struct db_listener *l)
{
	g_db->dispatching = true;
	l->cb(l->priv);
	g_db->dispatching = false;
}

static void db_schedule_kick(void)
{
	if (!osmo_timer_pending(&g_db->kick))
		osmo_timer_schedule(&g_db->kick, 0, 0);
}

static void db_unwatch(void)
{
	if (g_db->ofd.fd < 0)
		return;
	osmo_fd_unregister(&g_db->ofd);
	g_db->ofd.fd = -1;
}

/* libpq may hand us a different socket after each PQconnectPoll() (it tries host after
 * host, SSL then plain), so the registration follows PQsocket(). */
static bool db_watch(unsigned int when)
{
	int fd = PQsocket(g_db->conn);

	if (g_db->ofd.fd == fd) {
		osmo_fd_update_when(&g_db->ofd, 0, when);
		return true;
	}
	db_unwatch();
	if (fd < 0)
		return false;
	osmo_fd_setup(&g_db->ofd, fd, when, g_db->ofd.cb, g_db, 0);
	if (osmo_fd_register(&g_db->ofd) < 0) {
		g_db->ofd.fd = -1;
		return false;
	}
	return true;
}

/* PQflush() answers 1 while the socket would block: then wait for writable. */
static bool db_flush_out(void)
{
	int rc = PQflush(g_db->conn);

	if (rc < 0)
		return false;
	osmo_fd_update_when(&g_db->ofd, ~OSMO_FD_WRITE, rc ? OSMO_FD_WRITE : 0);
	return true;
}

/* Linked into inflight before it goes out, so that a failure here is cleaned up with
 * everything else in flight by db_drop(). */
static bool db_send(struct db_req *req)
{
	PGconn *conn = g_db->conn;
	char *ident, *sql;
	int ok;

	req->queued = false;
	llist_move_tail(&req->entry, &g_db->inflight);
	if (req->listener) {
		ident = PQescapeIdentifier(conn, req->listener->channel, strlen(req->listener->channel));
		if (!ident)
			return false;
		sql = talloc_asprintf(g_db, "LISTEN %s", ident);
		PQfreemem(ident);
		OSMO_ASSERT(sql);
		ok = PQsendQueryParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0);
		talloc_free(sql);
	} else if (req->kind == DB_REQ_SETUP) {
		ok = PQsendPrepare(conn, db_stmts[req->stmt].name, db_stmts[req->stmt].sql,
				   db_stmts[req->stmt].nparams, NULL);
	} else {
		ok = PQsendQueryPrepared(conn, db_stmts[req->stmt].name, req->nparams, req->params,
					 NULL, NULL, 0);
	}
	return ok;
}

static bool db_send_alone(struct db_req *req)
{
	return db_send(req) && PQpipelineSync(g_db->conn);
}

/* Up to DB_BATCH_MAX requests from the head of q, then one Sync. */
static bool db_send_group(struct llist_head *q)
{
	unsigned n;

	for (n = 0; n < DB_BATCH_MAX && !llist_empty(q); n++)
		if (!db_send(llist_first_entry(q, struct db_req, entry)))
			return false;
	return PQpipelineSync(g_db->conn);
}

static bool db_send_queued(void)
{
	struct db_req *req, *tmp;
	struct db_listener *l;

	while (!llist_empty(&g_db->read_q))
		if (!db_send_group(&g_db->read_q))
			return false;
	llist_for_each_entry_safe(req, tmp, &g_db->retry_q, entry)
		if (!db_send_alone(req))
			return false;
	while (!llist_empty(&g_db->write_q) && g_db->write_groups < DB_WRITE_GROUPS_MAX) {
		if (!db_send_group(&g_db->write_q))
			return false;
		g_db->write_groups++;
		g_db->stats.batches++;
	}
	llist_for_each_entry(l, &g_db->listeners, entry) {
		if (l->sent)
			continue;
		req = db_req_get(DB_REQ_LISTEN);
		req->listener = l;
		if (!db_send_alone(req))
			return false;
		l->sent = true;
	}
	return true;
}

static void db_lost(const char *what)
{
	LOGP(DDB, LOGL_ERROR, "connection lost (%s): %.*s\n", what, DB_MSG(PQerrorMessage(g_db->conn)));
	db_drop();
}

static void db_call_listeners_sent(void)
{
	struct db_listener *l;

	/* A callback may add a listener (at the tail, not yet sent: skipped here, called
	 * when its own LISTEN completes). */
	llist_for_each_entry(l, &g_db->listeners, entry) {
		if (l->sent)
			db_listener_call(l);
	}
}

/* The PREPAREs and LISTENs of a new connection are through: it is ready for requests. */
static bool db_setup_done(struct llist_head *group, bool failed)
{
	struct db_req *req;

	if (failed) {
		llist_for_each_entry(req, group, entry) {
			if (PQresultStatus(req->res) == PGRES_FATAL_ERROR) {
				LOGP(DDB, LOGL_ERROR, "set-up failed at %s: %.*s\n", db_req_name(req),
				     DB_MSG(db_res_msg(req->res)));
				break;
			}
		}
		db_finish_list(group, -EIO);
		db_drop();
		return false;
	}
	db_finish_list(group, 0);
	osmo_timer_del(&g_db->conn_timer);
	g_db->state = DB_UP;
	g_db->backoff_ms = DB_BACKOFF_MIN_MS;
	if (g_db->was_up)
		g_db->stats.reconnects++;
	g_db->was_up = true;
	LOGP(DDB, LOGL_NOTICE, "connected to %s:%s, %d statements prepared\n",
	     PQhost(g_db->conn), PQport(g_db->conn), _DB_STMT_COUNT);
	db_schedule_kick();
	db_call_listeners_sent();
	return true;
}

/* Again, in a transaction of its own: so only a request at fault fails. */
static void db_retry(struct db_req *req)
{
	PQclear(req->res);
	req->res = NULL;
	req->kind = DB_REQ_RETRY;
	req->queued = true;
	llist_move_tail(&req->entry, &g_db->retry_q);
	db_schedule_kick();
}

/* A batch rolled back: its writes before the failing one are undone, those after it never
 * ran, and even the failing one may have failed only because of a batch-mate. */
static void db_retry_writes(struct llist_head *group)
{
	struct db_req *req, *tmp;
	unsigned n = llist_count(group);

	llist_for_each_entry(req, group, entry) {
		if (PQresultStatus(req->res) == PGRES_FATAL_ERROR) {
			LOGP(DDB, LOGL_NOTICE, "batch of %u writes rolled back at %s (%.*s): retrying each alone\n",
			     n, db_req_name(req), DB_MSG(db_res_msg(req->res)));
			break;
		}
	}
	llist_for_each_entry_safe(req, tmp, group, entry)
		db_retry(req);
}

/* The reads before the failing one were answered already; the failing one failed on its
 * own (reads change nothing a later read could trip on); the reads after it never ran. */
static void db_retry_aborted_reads(struct llist_head *group)
{
	struct db_req *req, *tmp;

	llist_for_each_entry_safe(req, tmp, group, entry)
		if (PQresultStatus(req->res) == PGRES_PIPELINE_ABORTED)
			db_retry(req);
}

static void db_complete(struct llist_head *group)
{
	struct db_req *req;

	while ((req = llist_first_entry_or_null(group, struct db_req, entry))) {
		llist_del(&req->entry);
		if (!db_res_ok(req->res)) {
			LOGP(DDB, LOGL_ERROR, "%s failed: %.*s\n", db_req_name(req), DB_MSG(db_res_msg(req->res)));
			db_req_finish(req, -EIO);
			continue;
		}
		if (req->kind == DB_REQ_LISTEN)
			db_listener_call(req->listener);
		db_req_finish(req, 0);
	}
}

/* A Sync arrived: the group before it committed, or rolled back as a whole. Its reads
 * that succeeded were answered already. Returns false when the connection was dropped. */
static bool db_group_done(void)
{
	LLIST_HEAD(group);
	struct db_req *first;
	bool failed = g_db->group_failed;

	g_db->group_failed = false;
	llist_splice_init(&g_db->settled, &group);
	first = llist_first_entry_or_null(&group, struct db_req, entry);
	if (!first)
		return true;
	switch (first->kind) {
	case DB_REQ_SETUP:
		return db_setup_done(&group, failed);
	case DB_REQ_READ:
		db_retry_aborted_reads(&group);
		break;
	case DB_REQ_WRITE:
		g_db->write_groups--;
		if (!llist_empty(&g_db->write_q))
			db_schedule_kick();
		if (failed && group.next != group.prev) {	/* alone, it failed on its own */
			db_retry_writes(&group);
			return true;
		}
		break;
	default:
		break;
	}
	db_complete(&group);
	return true;
}

static void db_notifies(void)
{
	struct db_listener *l;
	PGnotify *n;
	bool any = false;

	/* A catalogue import fires one NOTIFY per row: reload once per read, not per row. */
	while ((n = PQnotifies(g_db->conn))) {
		llist_for_each_entry(l, &g_db->listeners, entry) {
			if (!strcmp(l->channel, n->relname)) {
				l->notified = true;
				any = true;
			}
		}
		PQfreemem(n);
	}
	if (!any)
		return;
	llist_for_each_entry(l, &g_db->listeners, entry) {
		if (!l->notified)
			continue;
		l->notified = false;
		db_listener_call(l);
	}
}

/* Take every result libpq has parsed. In pipeline mode each statement's results end with
 * a NULL, each Sync yields PGRES_PIPELINE_SYNC (no NULL after it), and after an error the
 * statements up to the Sync yield PGRES_PIPELINE_ABORTED. A NULL while nothing has arrived
 * for the statement at the head means "nothing more for now"; a Sync with nothing settled
 * ends a group of reads that were all answered. */
static void db_read_results(void)
{
	PGconn *conn = g_db->conn;
	struct db_req *req;
	PGresult *res;

	for (;;) {
		if (PQstatus(conn) == CONNECTION_BAD) {
			db_lost("receiving");
			return;
		}
		if (PQisBusy(conn))
			break;
		res = PQgetResult(conn);
		req = llist_first_entry_or_null(&g_db->inflight, struct db_req, entry);
		if (!res) {
			if (!req || !req->res)
				break;
			if (req->kind == DB_REQ_READ && db_res_ok(req->res)) {
				llist_del(&req->entry);
				db_req_finish(req, 0);
			} else {
				llist_move_tail(&req->entry, &g_db->settled);
			}
			continue;
		}
		if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			if (!db_group_done())
				return;
			continue;
		}
		if (!req) {
			LOGP(DDB, LOGL_ERROR, "result without statement: out of step with the server\n");
			PQclear(res);
			db_drop();
			return;
		}
		if (!db_res_ok(res))
			g_db->group_failed = true;
		PQclear(req->res);
		req->res = res;
	}
	db_notifies();
}

static void db_notice(void *arg, const char *message)
{
	LOGP(DDB, LOGL_INFO, "server: %.*s\n", DB_MSG(message));
}

static void db_setup(void)
{
	struct db_listener *l;
	struct db_req *req;
	int i;

	PQsetNoticeProcessor(g_db->conn, db_notice, NULL);
	if (PQsetnonblocking(g_db->conn, 1) < 0 || !PQenterPipelineMode(g_db->conn))
		goto fail;
	for (i = 0; i < _DB_STMT_COUNT; i++) {
		req = db_req_get(DB_REQ_SETUP);
		req->stmt = i;
		if (!db_send(req))
			goto fail;
	}
	/* LISTEN again on every connection: the server forgot ours with the old one. */
	llist_for_each_entry(l, &g_db->listeners, entry) {
		req = db_req_get(DB_REQ_SETUP);
		req->listener = l;
		if (!db_send(req))
			goto fail;
		l->sent = true;
	}
	if (!PQpipelineSync(g_db->conn) || !db_watch(OSMO_FD_READ) || !db_flush_out())
		goto fail;
	g_db->state = DB_SETUP;
	return;
fail:
	LOGP(DDB, LOGL_ERROR, "set-up failed: %.*s\n", DB_MSG(PQerrorMessage(g_db->conn)));
	db_drop();
}

static void db_connect_poll(void)
{
	switch (PQconnectPoll(g_db->conn)) {
	case PGRES_POLLING_READING:
		if (!db_watch(OSMO_FD_READ))
			goto fail;
		return;
	case PGRES_POLLING_WRITING:
		if (!db_watch(OSMO_FD_WRITE))
			goto fail;
		return;
	case PGRES_POLLING_OK:
		db_setup();
		return;
	default:
		goto fail;
	}
fail:
	LOGP(DDB, LOGL_ERROR, "connecting failed: %.*s\n", DB_MSG(PQerrorMessage(g_db->conn)));
	db_drop();
}

static void db_connect_start(void)
{
	const char *kw[4], *val[4];
	db_conn_params(g_db->conninfo, NULL, kw, val);
	g_db->conn = PQconnectStartParams(kw, val, 1);
	if (!g_db->conn || PQstatus(g_db->conn) == CONNECTION_BAD) {
		LOGP(DDB, LOGL_ERROR, "connecting failed: %.*s\n",
		     DB_MSG(g_db->conn ? PQerrorMessage(g_db->conn) : "out of memory"));
		db_drop();
		return;
	}
	g_db->state = DB_CONNECTING;
	osmo_timer_schedule(&g_db->conn_timer, DB_CONNECT_TIMEOUT_S, 0);
	/* libpq: behave as if PQconnectPoll() had last answered PGRES_POLLING_WRITING. */
	if (!db_watch(OSMO_FD_WRITE)) {
		LOGP(DDB, LOGL_ERROR, "cannot watch the connection's socket\n");
		db_drop();
	}
}

/* Close the connection, fail everything in flight and queued with -ENOTCONN (a write in
 * flight may have committed: callers retry with the same idempotency key), and schedule
 * the next attempt. */
static void db_drop(void)
{
	LLIST_HEAD(dead);
	struct db_listener *l;

	db_unwatch();
	PQfinish(g_db->conn);
	g_db->conn = NULL;
	g_db->state = DB_DOWN;
	g_db->group_failed = false;
	g_db->write_groups = 0;
	llist_for_each_entry(l, &g_db->listeners, entry)
		l->sent = false;
	osmo_timer_schedule(&g_db->conn_timer, g_db->backoff_ms / 1000, (g_db->backoff_ms % 1000) * 1000);
	g_db->backoff_ms = OSMO_MIN(g_db->backoff_ms * 2, DB_BACKOFF_MAX_MS);

	llist_splice_init(&g_db->write_q, &dead);
	llist_splice_init(&g_db->read_q, &dead);
	llist_splice_init(&g_db->retry_q, &dead);
	llist_splice_init(&g_db->inflight, &dead);
	llist_splice_init(&g_db->settled, &dead);
	db_finish_list(&dead, -ENOTCONN);
}

static void db_conn_timer_cb(void *data)
{
	if (g_db->state == DB_DOWN) {
		db_connect_start();
		return;
	}
	LOGP(DDB, LOGL_ERROR, "connecting timed out after %d s\n", DB_CONNECT_TIMEOUT_S);
	db_drop();
}

static void db_kick_cb(void *data)
{
	LLIST_HEAD(dead);

	switch (g_db->state) {
	case DB_DOWN:
		llist_splice_init(&g_db->write_q, &dead);
		llist_splice_init(&g_db->read_q, &dead);
		db_finish_list(&dead, -ENOTCONN);
		return;
	case DB_CONNECTING:
	case DB_SETUP:
		return;		/* the end of the set-up kicks again */
	case DB_UP:
		break;
	}
	if (!db_send_queued()) {
		db_lost("sending");
		return;
	}
	if (!db_flush_out()) {
		db_lost("flushing");
		return;
	}
	/* A flush that would block reads what the server sent meanwhile into libpq's buffer,
	 * where no readable socket would ever announce it. */
	db_read_results();
}

static int db_fd_cb(struct osmo_fd *ofd, unsigned int what)
{
	if (g_db->state == DB_CONNECTING) {
		db_connect_poll();
		return 0;
	}
	if ((what & OSMO_FD_READ) && !PQconsumeInput(g_db->conn)) {
		db_lost("reading");
		return 0;
	}
	if ((what & OSMO_FD_WRITE) && !db_flush_out()) {
		db_lost("writing");
		return 0;
	}
	db_read_results();
	return 0;
}

int db_init(void *ctx, const char *conninfo)
{
	PQconninfoOption *opts;
	char *err = NULL;

	OSMO_ASSERT(!g_db);
	/* A malformed conninfo is a configuration error, not an outage to retry forever. */
	opts = PQconninfoParse(conninfo, &err);
	if (!opts) {
		LOGP(DDB, LOGL_ERROR, "invalid conninfo: %.*s\n", DB_MSG(err ? err : "out of memory"));
		PQfreemem(err);
		return -EINVAL;
	}
	PQconninfoFree(opts);

	g_db = talloc_zero(ctx, struct db);
	OSMO_ASSERT(g_db);
	g_db->conninfo = talloc_strdup(g_db, conninfo);
	OSMO_ASSERT(g_db->conninfo);
	osmo_fd_setup(&g_db->ofd, -1, 0, db_fd_cb, g_db, 0);
	osmo_timer_setup(&g_db->kick, db_kick_cb, g_db);
	osmo_timer_setup(&g_db->conn_timer, db_conn_timer_cb, g_db);
	g_db->backoff_ms = DB_BACKOFF_MIN_MS;
	INIT_LLIST_HEAD(&g_db->read_q);
	INIT_LLIST_HEAD(&g_db->write_q);
	INIT_LLIST_HEAD(&g_db->retry_q);
	INIT_LLIST_HEAD(&g_db->inflight);
	INIT_LLIST_HEAD(&g_db->settled);
	INIT_LLIST_HEAD(&g_db->free_reqs);
	INIT_LLIST_HEAD(&g_db->listeners);
	db_connect_start();
	return 0;
}

/* Pending callbacks are not called: the callers are being torn down too. */
void db_close(void)
{
	struct db_req *req;

	if (!g_db)
		return;
	OSMO_ASSERT(!g_db->dispatching);
	osmo_timer_del(&g_db->kick);
	osmo_timer_del(&g_db->conn_timer);
	db_unwatch();
	PQfinish(g_db->conn);
	llist_for_each_entry(req, &g_db->inflight, entry)
		PQclear(req->res);
	llist_for_each_entry(req, &g_db->settled, entry)
		PQclear(req->res);
	talloc_free(g_db);
	g_db = NULL;
}

bool db_is_up(void)
{
	return g_db && g_db->state == DB_UP;
}

static struct db_req *db_submit(enum db_req_kind kind, struct llist_head *q, enum db_stmt stmt, int nparams,
				const char *const *params, db_cb cb, void *priv)
{
	struct db_req *req;

	OSMO_ASSERT(stmt < _DB_STMT_COUNT && nparams == db_stmts[stmt].nparams);
	req = db_req_get(kind);
	req->stmt = stmt;
	req->cb = cb;
	req->priv = priv;
	req->queued = true;
	db_req_set_params(req, nparams, params);
	llist_add_tail(&req->entry, q);
	db_schedule_kick();
	return req;
}

struct db_req *db_read(enum db_stmt stmt, int nparams, const char *const *params, db_cb cb, void *priv)
{
	OSMO_ASSERT(g_db);
	g_db->stats.reads++;
	return db_submit(DB_REQ_READ, &g_db->read_q, stmt, nparams, params, cb, priv);
}

struct db_req *db_write(enum db_stmt stmt, int nparams, const char *const *params, db_cb cb, void *priv)
{
	OSMO_ASSERT(g_db);
	g_db->stats.writes++;
	return db_submit(DB_REQ_WRITE, &g_db->write_q, stmt, nparams, params, cb, priv);
}

/* A read not sent yet is dropped at once; anything else completes unseen, so a write the
 * caller queued is still made (a session may queue its timeline row and go away). */
void db_cancel(struct db_req *req)
{
	if (!req)
		return;
	req->cb = NULL;
	if (req->queued && req->kind == DB_REQ_READ) {
		llist_del(&req->entry);
		db_req_put(req);
	}
}

void db_get_stats(struct db_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!g_db)
		return;
	*st = g_db->stats;
	st->queued = llist_count(&g_db->read_q) + llist_count(&g_db->write_q) + llist_count(&g_db->retry_q);
	st->in_flight = llist_count(&g_db->inflight) + llist_count(&g_db->settled);
}

int db_listen(const char *channel, void (*cb)(void *priv), void *priv)
{
	struct db_listener *l;

	OSMO_ASSERT(g_db && channel && *channel && cb);
	l = talloc_zero(g_db, struct db_listener);
	OSMO_ASSERT(l);
	l->channel = talloc_strdup(l, channel);
	OSMO_ASSERT(l->channel);
	l->cb = cb;
	l->priv = priv;
	llist_add_tail(&l->entry, &g_db->listeners);
	/* Connected: LISTEN on the next turn. Otherwise the next set-up includes it. */
	if (g_db->state == DB_UP)
		db_schedule_kick();
	return 0;
}
