/* Asynchronous PostgreSQL access: a few libpq connections in pipeline mode, driven by osmo_select.
 *
 * One connection is one PostgreSQL backend, i.e. at most one core of the server's. So there
 * are `database-connections` of them (doc/operator-guide.md), each with its own queues:
 * connection 0 carries what belongs to no customer (the outbox's batches, the sweeps, the
 * tills, LISTEN), connection 1 the customers' writes (db_partition_set(): every order takes
 * stock, so they stay on one backend), and the ones after it the customers' payments, shared
 * out by phone number (db_partition_money()). A customer's writes so keep their order and
 * never queue behind the timeline or the outbox. A request queued from inside a callback goes
 * on its callback's connection: what a result sets off stays in order behind it. With one
 * connection everything is on connection 0, as before.
 *
 * The customers' connections send no NOTIFY for the SMS rows they queue (sql/033): a notifying
 * commit holds a lock of the whole database until its flush, which would make their commits
 * take turns. db_on_commit()'s callback wakes the outbox after each of their batches instead.
 *
 * One more connection, the lazy one (after the others), carries only db_write_lazy(): rows
 * that are not money (the timeline's batches). It runs with synchronous_commit = off, so its
 * commits never wait for a WAL flush of their own: a crash of the machine may lose what it
 * committed in the last moments (doc/reliability.md), never an order, payment or promised SMS,
 * which never go there.
 *
 * On each connection a request travels through these lists, in this order:
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
#include <stdlib.h>
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

/* One connection and its queues. */
struct db_conn {
	unsigned idx;				/* in g_db->conns; 0 carries LISTEN */
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
};

struct db {
	char *conninfo;
	struct db_conn *conns;
	unsigned n_conns;			/* connection 0 and the customers' (not the lazy one) */
	struct db_conn *lazy;			/* conns[n_conns]: db_write_lazy() only */
	char *lazy_options;			/* the conninfo's (or PGOPTIONS') options + synchronous_commit */
	char *quiet_options;			/* theirs + spaza.outbox_notify = off (customers' connections) */
	void (*committed)(void);		/* db_on_commit() */
	int partition;				/* connection for what is queued now; -1: none */
	unsigned next_read;			/* reads of no partition go round */
	struct llist_head free_reqs;
	unsigned n_free;
	struct llist_head listeners;		/* on conns[0] */
	bool dispatching;			/* inside a caller's callback */
	struct db_stats stats;
};

static struct db *g_db;

static void db_drop(struct db_conn *c);

/* A customers' connection (1 .. n_conns - 1): its SMS rows send no NOTIFY (sql/033). */
static bool db_quiet(const struct db_conn *c)
{
	return c->idx > 0 && c != g_db->lazy;
}

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
/* The caller's callback, then the request goes back to the free list. The callback may
 * queue new requests and cancel others; cancelling this one is harmless. What it queues goes
 * on this request's connection, behind what it answers. */
static void db_req_finish(struct db_conn *c, struct db_req *req, int err)
{
	db_cb cb = req->cb;

	req->cb = NULL;
	req->queued = false;
	if (err && req->kind != DB_REQ_SETUP && req->kind != DB_REQ_LISTEN)
		g_db->stats.errors++;
	if (cb) {
		int outer = g_db->partition;
		g_db->dispatching = true;
		g_db->partition = c == g_db->lazy ? -1 : (int)c->idx;	/* the lazy lane is no partition */
		cb(req->priv, err ? NULL : req->res, err);
		g_db->partition = outer;
		g_db->dispatching = false;
	}
	db_req_put(req);
}

/* Pop one at a time: a callback may cancel (and so unlink) a later request of the list. */
static void db_finish_list(struct db_conn *c, struct llist_head *list, int err)
{
	struct db_req *req;

	while ((req = llist_first_entry_or_null(list, struct db_req, entry))) {
		llist_del(&req->entry);
		db_req_finish(c, req, err);
	}
}

static void db_listener_call(struct db_listener *l)
{
	int outer = g_db->partition;
	g_db->dispatching = true;
	g_db->partition = 0;
	l->cb(l->priv);
	g_db->partition = outer;
	g_db->dispatching = false;
}

static void db_schedule_kick(struct db_conn *c)
{
	if (!osmo_timer_pending(&c->kick))
		osmo_timer_schedule(&c->kick, 0, 0);
}

static void db_unwatch(struct db_conn *c)
{
	if (c->ofd.fd < 0)
		return;
	osmo_fd_unregister(&c->ofd);
	c->ofd.fd = -1;
}

/* libpq may hand us a different socket after each PQconnectPoll() (it tries host after
 * host, SSL then plain), so the registration follows PQsocket(). */
static bool db_watch(struct db_conn *c, unsigned int when)
{
	int fd = PQsocket(c->conn);

	if (c->ofd.fd == fd) {
		osmo_fd_update_when(&c->ofd, 0, when);
		return true;
	}
	db_unwatch(c);
	if (fd < 0)
		return false;
	osmo_fd_setup(&c->ofd, fd, when, c->ofd.cb, c, 0);
	if (osmo_fd_register(&c->ofd) < 0) {
		c->ofd.fd = -1;
		return false;
	}
	return true;
}

/* PQflush() answers 1 while the socket would block: then wait for writable. */
static bool db_flush_out(struct db_conn *c)
{
	int rc = PQflush(c->conn);

	if (rc < 0)
		return false;
	osmo_fd_update_when(&c->ofd, ~OSMO_FD_WRITE, rc ? OSMO_FD_WRITE : 0);
	return true;
}

/* Linked into inflight before it goes out, so that a failure here is cleaned up with
 * everything else in flight by db_drop(). */
static bool db_send(struct db_conn *c, struct db_req *req)
{
	PGconn *conn = c->conn;
	char *ident, *sql;
	int ok;

	req->queued = false;
	llist_move_tail(&req->entry, &c->inflight);
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

static bool db_send_alone(struct db_conn *c, struct db_req *req)
{
	return db_send(c, req) && PQpipelineSync(c->conn);
}

/* Up to DB_BATCH_MAX requests from the head of q, then one Sync. */
static bool db_send_group(struct db_conn *c, struct llist_head *q)
{
	unsigned n;

	for (n = 0; n < DB_BATCH_MAX && !llist_empty(q); n++)
		if (!db_send(c, llist_first_entry(q, struct db_req, entry)))
			return false;
	return PQpipelineSync(c->conn);
}

static bool db_send_queued(struct db_conn *c)
{
	struct db_req *req, *tmp;
	struct db_listener *l;

	while (!llist_empty(&c->read_q))
		if (!db_send_group(c, &c->read_q))
			return false;
	llist_for_each_entry_safe(req, tmp, &c->retry_q, entry)
		if (!db_send_alone(c, req))
			return false;
	while (!llist_empty(&c->write_q) && c->write_groups < DB_WRITE_GROUPS_MAX) {
		if (!db_send_group(c, &c->write_q))
			return false;
		c->write_groups++;
		g_db->stats.batches++;
	}
	if (c->idx)
		return true;
	llist_for_each_entry(l, &g_db->listeners, entry) {
		if (l->sent)
			continue;
		req = db_req_get(DB_REQ_LISTEN);
		req->listener = l;
		if (!db_send_alone(c, req))
			return false;
		l->sent = true;
	}
	return true;
}

static void db_lost(struct db_conn *c, const char *what)
{
	LOGP(DDB, LOGL_ERROR, "connection %u lost (%s): %.*s\n", c->idx, what, DB_MSG(PQerrorMessage(c->conn)));
	db_drop(c);
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
static bool db_setup_done(struct db_conn *c, struct llist_head *group, bool failed)
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
		db_finish_list(c, group, -EIO);
		db_drop(c);
		return false;
	}
	db_finish_list(c, group, 0);
	osmo_timer_del(&c->conn_timer);
	c->state = DB_UP;
	c->backoff_ms = DB_BACKOFF_MIN_MS;
	if (c->was_up)
		g_db->stats.reconnects++;
	c->was_up = true;
	LOGP(DDB, LOGL_NOTICE, "connected to %s:%s, %d statements prepared (connection %u of %u)\n",
	     PQhost(c->conn), PQport(c->conn), _DB_STMT_COUNT, c->idx + 1, g_db->n_conns + 1);
	db_schedule_kick(c);
	if (c->idx == 0)
		db_call_listeners_sent();
	return true;
}

/* Again, in a transaction of its own: so only a request at fault fails. */
static void db_retry(struct db_conn *c, struct db_req *req)
{
	PQclear(req->res);
	req->res = NULL;
	req->kind = DB_REQ_RETRY;
	req->queued = true;
	llist_move_tail(&req->entry, &c->retry_q);
	db_schedule_kick(c);
}

/* A batch rolled back: its writes before the failing one are undone, those after it never
 * ran, and even the failing one may have failed only because of a batch-mate. */
static void db_retry_writes(struct db_conn *c, struct llist_head *group)
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
		db_retry(c, req);
}

/* The reads before the failing one were answered already; the failing one failed on its
 * own (reads change nothing a later read could trip on); the reads after it never ran. */
static void db_retry_aborted_reads(struct db_conn *c, struct llist_head *group)
{
	struct db_req *req, *tmp;

	llist_for_each_entry_safe(req, tmp, group, entry)
		if (PQresultStatus(req->res) == PGRES_PIPELINE_ABORTED)
			db_retry(c, req);
}

static void db_complete(struct db_conn *c, struct llist_head *group)
{
	struct db_req *req;

	while ((req = llist_first_entry_or_null(group, struct db_req, entry))) {
		llist_del(&req->entry);
		if (!db_res_ok(req->res)) {
			LOGP(DDB, LOGL_ERROR, "%s failed: %.*s\n", db_req_name(req), DB_MSG(db_res_msg(req->res)));
			db_req_finish(c, req, -EIO);
			continue;
		}
		if (req->kind == DB_REQ_LISTEN)
			db_listener_call(req->listener);
		db_req_finish(c, req, 0);
	}
}

/* A Sync arrived: the group before it committed, or rolled back as a whole. Its reads
 * that succeeded were answered already. Returns false when the connection was dropped. */
static bool db_group_done(struct db_conn *c)
{
	LLIST_HEAD(group);
	struct db_req *first;
	enum db_req_kind kind;
	bool failed = c->group_failed;

	c->group_failed = false;
	llist_splice_init(&c->settled, &group);
	first = llist_first_entry_or_null(&group, struct db_req, entry);
	if (!first)
		return true;
	kind = first->kind;
	switch (kind) {
	case DB_REQ_SETUP:
		return db_setup_done(c, &group, failed);
	case DB_REQ_READ:
		db_retry_aborted_reads(c, &group);
		break;
	case DB_REQ_WRITE:
		c->write_groups--;
		if (!llist_empty(&c->write_q))
			db_schedule_kick(c);
		if (failed && group.next != group.prev) {	/* alone, it failed on its own */
			db_retry_writes(c, &group);
			return true;
		}
		break;
	default:
		break;
	}
	db_complete(c, &group);
	/* (first is recycled by now) a customers' batch may have queued SMS, and wakes no LISTEN */
	if ((kind == DB_REQ_WRITE || kind == DB_REQ_RETRY) && !failed && db_quiet(c) && g_db->committed)
		g_db->committed();
	return true;
}

static void db_notifies(struct db_conn *c)
{
	struct db_listener *l;
	PGnotify *n;
	bool any = false;

	/* A catalogue import fires one NOTIFY per row: reload once per read, not per row. */
	while ((n = PQnotifies(c->conn))) {
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
static void db_read_results(struct db_conn *c)
{
	PGconn *conn = c->conn;
	struct db_req *req;
	PGresult *res;

	for (;;) {
		if (PQstatus(conn) == CONNECTION_BAD) {
			db_lost(c, "receiving");
			return;
		}
		if (PQisBusy(conn))
			break;
		res = PQgetResult(conn);
		req = llist_first_entry_or_null(&c->inflight, struct db_req, entry);
		if (!res) {
			if (!req || !req->res)
				break;
			if (req->kind == DB_REQ_READ && db_res_ok(req->res)) {
				llist_del(&req->entry);
				db_req_finish(c, req, 0);
			} else {
				llist_move_tail(&req->entry, &c->settled);
			}
			continue;
		}
		if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			if (!db_group_done(c))
				return;
			continue;
		}
		if (!req) {
			LOGP(DDB, LOGL_ERROR, "result without statement: out of step with the server\n");
			PQclear(res);
			db_drop(c);
			return;
		}
		if (!db_res_ok(res))
			c->group_failed = true;
		PQclear(req->res);
		req->res = res;
	}
	db_notifies(c);
}

static void db_notice(void *arg, const char *message)
{
	LOGP(DDB, LOGL_INFO, "server: %.*s\n", DB_MSG(message));
}

static void db_setup(struct db_conn *c)
{
	struct db_listener *l;
	struct db_req *req;
	int i;

	PQsetNoticeProcessor(c->conn, db_notice, NULL);
	if (PQsetnonblocking(c->conn, 1) < 0 || !PQenterPipelineMode(c->conn))
		goto fail;
	for (i = 0; i < _DB_STMT_COUNT; i++) {
		req = db_req_get(DB_REQ_SETUP);
		req->stmt = i;
		if (!db_send(c, req))
			goto fail;
	}
	/* LISTEN again on every connection: the server forgot ours with the old one. */
	llist_for_each_entry(l, &g_db->listeners, entry) {
		if (c->idx)
			break;
		req = db_req_get(DB_REQ_SETUP);
		req->listener = l;
		if (!db_send(c, req))
			goto fail;
		l->sent = true;
	}
	if (!PQpipelineSync(c->conn) || !db_watch(c, OSMO_FD_READ) || !db_flush_out(c))
		goto fail;
	c->state = DB_SETUP;
	return;
fail:
	LOGP(DDB, LOGL_ERROR, "set-up failed: %.*s\n", DB_MSG(PQerrorMessage(c->conn)));
	db_drop(c);
}

static void db_connect_poll(struct db_conn *c)
{
	switch (PQconnectPoll(c->conn)) {
	case PGRES_POLLING_READING:
		if (!db_watch(c, OSMO_FD_READ))
			goto fail;
		return;
	case PGRES_POLLING_WRITING:
		if (!db_watch(c, OSMO_FD_WRITE))
			goto fail;
		return;
	case PGRES_POLLING_OK:
		db_setup(c);
		return;
	default:
		goto fail;
	}
fail:
	LOGP(DDB, LOGL_ERROR, "connecting failed: %.*s\n", DB_MSG(PQerrorMessage(c->conn)));
	db_drop(c);
}

static void db_connect_start(struct db_conn *c)
{
	const char *kw[5], *val[5];
	unsigned n = 0;
	db_conn_params(g_db->conninfo, NULL, kw, val);
	if (c == g_db->lazy || db_quiet(c)) {	/* later keywords override what the expanded conninfo said */
		while (kw[n])
			n++;
		kw[n] = "options", val[n++] = db_quiet(c) ? g_db->quiet_options : g_db->lazy_options;
		kw[n] = NULL, val[n] = NULL;
	}
	c->conn = PQconnectStartParams(kw, val, 1);
	if (!c->conn || PQstatus(c->conn) == CONNECTION_BAD) {
		LOGP(DDB, LOGL_ERROR, "connecting failed: %.*s\n",
		     DB_MSG(c->conn ? PQerrorMessage(c->conn) : "out of memory"));
		db_drop(c);
		return;
	}
	c->state = DB_CONNECTING;
	osmo_timer_schedule(&c->conn_timer, DB_CONNECT_TIMEOUT_S, 0);
	/* libpq: behave as if PQconnectPoll() had last answered PGRES_POLLING_WRITING. */
	if (!db_watch(c, OSMO_FD_WRITE)) {
		LOGP(DDB, LOGL_ERROR, "cannot watch the connection's socket\n");
		db_drop(c);
	}
}

/* Close the connection, fail everything in flight and queued with -ENOTCONN (a write in
 * flight may have committed: callers retry with the same idempotency key), and schedule
 * the next attempt. */
static void db_drop(struct db_conn *c)
{
	LLIST_HEAD(dead);
	struct db_listener *l;

	db_unwatch(c);
	PQfinish(c->conn);
	c->conn = NULL;
	c->state = DB_DOWN;
	c->group_failed = false;
	c->write_groups = 0;
	if (c->idx == 0)
		llist_for_each_entry(l, &g_db->listeners, entry)
			l->sent = false;
	osmo_timer_schedule(&c->conn_timer, c->backoff_ms / 1000, (c->backoff_ms % 1000) * 1000);
	c->backoff_ms = OSMO_MIN(c->backoff_ms * 2, DB_BACKOFF_MAX_MS);

	llist_splice_init(&c->write_q, &dead);
	llist_splice_init(&c->read_q, &dead);
	llist_splice_init(&c->retry_q, &dead);
	llist_splice_init(&c->inflight, &dead);
	llist_splice_init(&c->settled, &dead);
	db_finish_list(c, &dead, -ENOTCONN);
}

static void db_conn_timer_cb(void *data)
{
	struct db_conn *c = data;

	if (c->state == DB_DOWN) {
		db_connect_start(c);
		return;
	}
	LOGP(DDB, LOGL_ERROR, "connecting timed out after %d s\n", DB_CONNECT_TIMEOUT_S);
	db_drop(c);
}

static void db_kick_cb(void *data)
{
	struct db_conn *c = data;
	LLIST_HEAD(dead);

	switch (c->state) {
	case DB_DOWN:
		llist_splice_init(&c->write_q, &dead);
		llist_splice_init(&c->read_q, &dead);
		db_finish_list(c, &dead, -ENOTCONN);
		return;
	case DB_CONNECTING:
	case DB_SETUP:
		return;		/* the end of the set-up kicks again */
	case DB_UP:
		break;
	}
	if (!db_send_queued(c)) {
		db_lost(c, "sending");
		return;
	}
	if (!db_flush_out(c)) {
		db_lost(c, "flushing");
		return;
	}
	/* A flush that would block reads what the server sent meanwhile into libpq's buffer,
	 * where no readable socket would ever announce it. */
	db_read_results(c);
}

static int db_fd_cb(struct osmo_fd *ofd, unsigned int what)
{
	struct db_conn *c = ofd->data;

	if (c->state == DB_CONNECTING) {
		db_connect_poll(c);
		return 0;
	}
	if ((what & OSMO_FD_READ) && !PQconsumeInput(c->conn)) {
		db_lost(c, "reading");
		return 0;
	}
	if ((what & OSMO_FD_WRITE) && !db_flush_out(c)) {
		db_lost(c, "writing");
		return 0;
	}
	db_read_results(c);
	return 0;
}

int db_init(void *ctx, const char *conninfo, unsigned n_conns)
{
	PQconninfoOption *opts;
	char *err = NULL;

	OSMO_ASSERT(!g_db && n_conns >= 1);
	/* A malformed conninfo is a configuration error, not an outage to retry forever. */
	opts = PQconninfoParse(conninfo, &err);
	if (!opts) {
		LOGP(DDB, LOGL_ERROR, "invalid conninfo: %.*s\n", DB_MSG(err ? err : "out of memory"));
		PQfreemem(err);
		return -EINVAL;
	}

	g_db = talloc_zero(ctx, struct db);
	OSMO_ASSERT(g_db);
	g_db->conninfo = talloc_strdup(g_db, conninfo);
	OSMO_ASSERT(g_db->conninfo);
	/* An "options" keyword replaces the conninfo's and PGOPTIONS: keep theirs, add ours. */
	const char *options = getenv("PGOPTIONS");
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (!strcmp(o->keyword, "options") && o->val)
			options = o->val;
	g_db->lazy_options = talloc_asprintf(g_db, "%s -c synchronous_commit=off", options ? options : "");
	g_db->quiet_options = talloc_asprintf(g_db, "%s -c spaza.outbox_notify=off", options ? options : "");
	OSMO_ASSERT(g_db->lazy_options && g_db->quiet_options);
	PQconninfoFree(opts);
	g_db->conns = talloc_zero_array(g_db, struct db_conn, n_conns + 1);
	OSMO_ASSERT(g_db->conns);
	g_db->n_conns = n_conns;
	g_db->lazy = &g_db->conns[n_conns];
	g_db->partition = -1;
	INIT_LLIST_HEAD(&g_db->free_reqs);
	INIT_LLIST_HEAD(&g_db->listeners);
	for (unsigned i = 0; i <= n_conns; i++) {
		struct db_conn *c = &g_db->conns[i];
		c->idx = i;
		osmo_fd_setup(&c->ofd, -1, 0, db_fd_cb, c, 0);
		osmo_timer_setup(&c->kick, db_kick_cb, c);
		osmo_timer_setup(&c->conn_timer, db_conn_timer_cb, c);
		c->backoff_ms = DB_BACKOFF_MIN_MS;
		INIT_LLIST_HEAD(&c->read_q);
		INIT_LLIST_HEAD(&c->write_q);
		INIT_LLIST_HEAD(&c->retry_q);
		INIT_LLIST_HEAD(&c->inflight);
		INIT_LLIST_HEAD(&c->settled);
	}
	for (unsigned i = 0; i <= n_conns; i++)
		db_connect_start(&g_db->conns[i]);
	return 0;
}

/* Pending callbacks are not called: the callers are being torn down too. */
void db_close(void)
{
	struct db_req *req;

	if (!g_db)
		return;
	OSMO_ASSERT(!g_db->dispatching);
	for (unsigned i = 0; i <= g_db->n_conns; i++) {
		struct db_conn *c = &g_db->conns[i];
		osmo_timer_del(&c->kick);
		osmo_timer_del(&c->conn_timer);
		db_unwatch(c);
		PQfinish(c->conn);
		llist_for_each_entry(req, &c->inflight, entry)
			PQclear(req->res);
		llist_for_each_entry(req, &c->settled, entry)
			PQclear(req->res);
	}
	talloc_free(g_db);
	g_db = NULL;
}

/* Every connection: the daemon is only as up as its customers' partitions. */
bool db_is_up(void)
{
	if (!g_db)
		return false;
	for (unsigned i = 0; i <= g_db->n_conns; i++)
		if (g_db->conns[i].state != DB_UP)
			return false;
	return true;
}

/* Customers' writes: connection 1 (0 when it is the only one). Every order takes its units from
 * its product's stock row, and a batch holds that row until it commits: on two connections, two
 * batches would wait for each other on a popular product, and deadlock when they take two
 * products in opposite orders (doc/benchmark.md). So one backend carries every stock writer. */
int db_partition_set(const char *msisdn)
{
	int outer;

	(void)msisdn;
	if (!g_db)
		return -1;
	outer = g_db->partition;
	g_db->partition = g_db->n_conns > 1 ? 1 : 0;
	return outer;
}

/* Payments take no stock: with 3 connections or more they leave connection 1 for the others,
 * shared out by the number (FNV-1a), so one customer's payments keep their order. The number
 * passed the rate limits and the customer cache (keyed hashes) already; here it only spreads. */
int db_partition_money(const char *msisdn)
{
	int outer;
	uint32_t h = 2166136261u;

	if (!g_db || g_db->n_conns < 3)
		return db_partition_set(msisdn);
	outer = g_db->partition;
	while (*msisdn)
		h = (h ^ (uint8_t)*msisdn++) * 16777619u;
	g_db->partition = 2 + h % (g_db->n_conns - 2);
	return outer;
}

void db_on_commit(void (*cb)(void))
{
	OSMO_ASSERT(g_db);
	g_db->committed = cb;
}

void db_partition_restore(int outer)
{
	if (g_db)
		g_db->partition = outer;
}

/* Writes: the partition's connection, or connection 0. Reads: the partition's too (so a
 * customer's read never overtakes a connection's queue it does not wait for), or any, in turn. */
static struct db_conn *db_conn_for(enum db_req_kind kind)
{
	if (g_db->partition >= 0)
		return &g_db->conns[g_db->partition];
	if (kind == DB_REQ_WRITE || g_db->n_conns == 1)
		return &g_db->conns[0];
	g_db->next_read = g_db->next_read % (g_db->n_conns - 1) + 1;
	return &g_db->conns[g_db->next_read];
}

static struct db_req *db_submit(enum db_req_kind kind, enum db_stmt stmt, int nparams, const char *const *params,
				db_cb cb, void *priv)
{
	struct db_conn *c = db_conn_for(kind);
	struct db_req *req;

	OSMO_ASSERT(stmt < _DB_STMT_COUNT && nparams == db_stmts[stmt].nparams);
	req = db_req_get(kind);
	req->stmt = stmt;
	req->cb = cb;
	req->priv = priv;
	req->queued = true;
	db_req_set_params(req, nparams, params);
	llist_add_tail(&req->entry, kind == DB_REQ_READ ? &c->read_q : &c->write_q);
	db_schedule_kick(c);
	return req;
}

struct db_req *db_read(enum db_stmt stmt, int nparams, const char *const *params, db_cb cb, void *priv)
{
	OSMO_ASSERT(g_db);
	g_db->stats.reads++;
	return db_submit(DB_REQ_READ, stmt, nparams, params, cb, priv);
}

struct db_req *db_write(enum db_stmt stmt, int nparams, const char *const *params, db_cb cb, void *priv)
{
	OSMO_ASSERT(g_db);
	g_db->stats.writes++;
	return db_submit(DB_REQ_WRITE, stmt, nparams, params, cb, priv);
}

struct db_req *db_write_lazy(enum db_stmt stmt, int nparams, const char *const *params, db_cb cb, void *priv)
{
	OSMO_ASSERT(g_db);
	int outer = g_db->partition;
	g_db->partition = (int)g_db->lazy->idx;
	struct db_req *req = db_write(stmt, nparams, params, cb, priv);
	g_db->partition = outer;
	return req;
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
	for (unsigned i = 0; i <= g_db->n_conns; i++) {
		struct db_conn *c = &g_db->conns[i];
		st->queued += llist_count(&c->read_q) + llist_count(&c->write_q) + llist_count(&c->retry_q);
		st->in_flight += llist_count(&c->inflight) + llist_count(&c->settled);
	}
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
	if (g_db->conns[0].state == DB_UP)
		db_schedule_kick(&g_db->conns[0]);
	return 0;
}
