/* db.c against a real, private PostgreSQL named by SPAZA_TEST_CONNINFO: reads get their rows,
 * queued writes commit in few batches and answer only after commit, a bad read or write fails alone,
 * a cancelled request stays silent, NOTIFY reaches the listener, a killed connection
 * fails what was in flight with -ENOTCONN and comes back by itself, and an unreachable
 * server fails requests on the next loop turn; with several connections, one customer's held
 * payment holds up no other customer's, and SMS rows queued on customers' connections wake the
 * outbox through db_on_commit(), not NOTIFY.
 * The test works in its own schema (dropped and created again), never in public. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <talloc.h>
#include <osmocom/core/application.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>

#include "db.h"
#include "logging.h"
#include "migrate.h"
#include "testlib.h"

#define SCHEMA		"spaza_db_test"
#define CHANNEL		"SpazaDbTest"	/* mixed case: only a quoted LISTEN hears it */
#define N_BATCH		2000

static PGconn *side;	/* a second, blocking connection: it sees only what committed */
static bool expired;
static struct osmo_timer_list deadline;

static void deadline_cb(void *data)
{
	expired = true;
}

/* Run the loop until cond holds or secs pass; yields cond. */
#define RUN_UNTIL(cond, secs) ({ \
	expired = false; \
	osmo_timer_schedule(&deadline, secs, 0); \
	while (!(cond) && !expired) \
		osmo_select_main(0); \
	osmo_timer_del(&deadline); \
	(cond); })

static void run_ms(int ms)
{
	expired = false;
	osmo_timer_schedule(&deadline, ms / 1000, (ms % 1000) * 1000);
	while (!expired)
		osmo_select_main(0);
}

static bool side_ok(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;

	if (!ok)
		printf("# %s: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
	return ok;
}

static long side_long(const char *sql)
{
	PGresult *res = PQexec(side, sql);
	long v = -1;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		v = atol(PQgetvalue(res, 0, 0));
	else
		printf("# %s: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
	return v;
}

/* The test schema from scratch: every migration the binaries carry, as spazad applies them. */
static bool schema_create(void *ctx)
{
	char err[512];
	if (!side_ok(side, "DROP SCHEMA IF EXISTS " SCHEMA " CASCADE") || !side_ok(side, "CREATE SCHEMA " SCHEMA))
		return false;
	if (migrate_apply(side, err, sizeof(err)) < 0) {
		printf("# migrations failed: %s\n", err);
		return false;
	}
	return side_ok(side, "INSERT INTO categories (id, name, position) VALUES (2, 'Drinks', 2), (1, 'Bread', 1)");
}

struct done {
	bool done;
	int err;
	int rows;
	char first[64];		/* column 1 of row 0 */
	bool up;		/* db_is_up() inside the callback */
};

static void done_cb(void *priv, const PGresult *res, int err)
{
	struct done *d = priv;

	d->done = true;
	d->err = err;
	d->up = db_is_up();
	if (!res)
		return;
	d->rows = PQntuples(res);
	if (d->rows && PQnfields(res) > 1)
		OSMO_STRLCPY_ARRAY(d->first, PQgetvalue(res, 0, 1));
}

static int listen_calls;

static void listen_cb(void *priv)
{
	listen_calls++;
}

static int cancelled_calls;

static void cancelled_cb(void *priv, const PGresult *res, int err)
{
	cancelled_calls++;
}

static struct db_req *upsert(const char *msisdn, db_cb cb, void *priv)
{
	const char *p[] = { msisdn, "en" };

	return db_write(DB_CUSTOMER_UPSERT, 2, p, cb, priv);
}

static void test_read_while_connecting(void)
{
	struct done d = {};

	db_read(DB_CATEGORIES_ALL, 0, NULL, done_cb, &d);
	T_CHECK(!db_is_up(), "not up straight after db_init", "up already");
	T_CHECK(RUN_UNTIL(d.done, 10), "a read queued while connecting completes", "no callback in 10 s");
	T_EQ_INT(d.err, 0, "read: no error");
	T_EQ_INT(d.rows, 2, "read: all rows");
	T_EQ_STR(d.first, "Bread", "read: rows in the statement's order");
	T_EQ_INT(listen_calls, 1, "listener called once after connecting");
}

/* Reads of one turn share a Sync: the one that fails must not take the others with it. */
static void test_bad_read_fails_alone(void)
{
	const char *bad[] = { "not-a-number", "1" };
	struct done d[3] = {};

	db_read(DB_CATEGORIES_ALL, 0, NULL, done_cb, &d[0]);
	db_read(DB_ORDER_GET, 2, bad, done_cb, &d[1]);
	db_read(DB_CATEGORIES_ALL, 0, NULL, done_cb, &d[2]);
	T_CHECK(RUN_UNTIL(d[0].done && d[1].done && d[2].done, 10), "reads with a bad one answered", "no answer");
	T_EQ_INT(d[1].err, -EIO, "the read with a bad parameter gets -EIO");
	T_EQ_INT(d[0].err, 0, "the read before it succeeds");
	T_EQ_INT(d[0].rows, 2, "the read before it: its rows");
	T_EQ_INT(d[2].err, 0, "the read after it succeeds");
	T_EQ_INT(d[2].rows, 2, "the read after it: its rows");
}

static struct {
	int done, ok, out_of_order;
	long first_visible, last_visible;
} bw;

static void batch_cb(void *priv, const PGresult *res, int err)
{
	int i = (intptr_t)priv;

	if (i != bw.done)
		bw.out_of_order++;
	bw.done++;
	if (!err && PQntuples(res) == 1)
		bw.ok++;
	/* The blocking connection sees only committed rows. */
	if (bw.done == 1)
		bw.first_visible = side_long("SELECT count(*) FROM customers WHERE msisdn LIKE '+2782%'");
	if (bw.done == N_BATCH)
		bw.last_visible = side_long("SELECT count(*) FROM customers WHERE msisdn LIKE '+2782%'");
}

static void test_batched_writes(void)
{
	struct db_stats before, after;
	char msisdn[32];
	int i;

	db_get_stats(&before);
	for (i = 0; i < N_BATCH; i++) {
		snprintf(msisdn, sizeof(msisdn), "+2782%07d", i);
		upsert(msisdn, batch_cb, (void *)(intptr_t)i);
	}
	T_CHECK(RUN_UNTIL(bw.done == N_BATCH, 30), "all batched writes answered", "%d of %d", bw.done, N_BATCH);
	db_get_stats(&after);
	T_EQ_INT(bw.ok, N_BATCH, "batched writes: each got its row");
	T_EQ_INT(bw.out_of_order, 0, "batched writes: callbacks in submission order");
	T_CHECK(bw.first_visible >= 1000, "first callback only after its whole batch committed",
		"expected >= 1000 committed rows, saw %ld", bw.first_visible);
	T_EQ_INT(bw.last_visible, N_BATCH, "last callback: every row committed");
	T_EQ_INT(after.writes - before.writes, N_BATCH, "stats: writes counted");
	T_CHECK(after.batches - before.batches >= 2 && after.batches - before.batches <= 4,
		"2000 writes took a few batches", "expected 2..4, got %lu", after.batches - before.batches);
}

static long lazy_visible = -1;

static void lazy_cb(void *priv, const PGresult *res, int err)
{
	done_cb(priv, res, err);
	lazy_visible = side_long("SELECT count(*) FROM customers WHERE msisdn = '+27830000001'");
}

/* A lazy write (the timeline's batches) goes on a connection of its own: it works in the same
 * schema as the others (the conninfo's and PGOPTIONS' options are kept beside its
 * synchronous_commit), its callback runs once it committed, and a customer's partition set
 * around it does not move it onto that customer's connection. */
static void test_lazy_write(void)
{
	const char *p[] = { "+27830000001", "en" };
	struct done d = {};
	int outer = db_partition_set("+27830000001");

	db_write_lazy(DB_CUSTOMER_UPSERT, 2, p, lazy_cb, &d);
	db_partition_restore(outer);
	T_CHECK(RUN_UNTIL(d.done, 10), "a lazy write is answered", "no answer");
	T_EQ_INT(d.err, 0, "a lazy write succeeds, in the same schema as the other connections");
	T_EQ_INT(lazy_visible, 1, "a lazy write has committed when its callback runs");
}

static void test_bad_write_fails_alone(void)
{
	struct done d[11] = {};
	struct db_stats before, after;
	char msisdn[32];
	int i, good = 0;

	db_get_stats(&before);
	for (i = 0; i < 11; i++) {
		snprintf(msisdn, sizeof(msisdn), "+2783%07d", i);
		upsert(i == 5 ? "0800-not-e164" : msisdn, done_cb, &d[i]);
	}
	T_CHECK(RUN_UNTIL(d[10].done && d[5].done, 10), "batch with a bad write answered", "no answer in 10 s");
	db_get_stats(&after);
	for (i = 0; i < 11; i++)
		if (i != 5 && d[i].done && !d[i].err && d[i].rows == 1)
			good++;
	T_EQ_INT(d[5].err, -EIO, "the write breaking the CHECK gets -EIO");
	T_EQ_INT(good, 10, "its batch-mates succeed");
	T_EQ_INT(side_long("SELECT count(*) FROM customers WHERE msisdn LIKE '+2783%'"), 10,
		 "the batch-mates' rows are committed");
	T_EQ_INT(after.errors - before.errors, 1, "stats: one error");
}

static void test_cancel(void)
{
	struct done sentinel = {}, sentinel_read = {};
	struct db_stats st;
	struct db_req *r, *w;

	/* Cancelled while queued. */
	r = db_read(DB_CATEGORIES_ALL, 0, NULL, cancelled_cb, NULL);
	w = upsert("+27840000001", cancelled_cb, NULL);
	db_cancel(r);
	db_cancel(w);
	upsert("+27840000002", done_cb, &sentinel);
	T_CHECK(RUN_UNTIL(sentinel.done, 10), "write queued after cancelled ones answered", "no answer");

	/* Cancelled in flight: its result arrives and is dropped. */
	r = db_read(DB_CATEGORIES_ALL, 0, NULL, cancelled_cb, NULL);
	RUN_UNTIL((db_get_stats(&st), st.in_flight > 0), 5);
	db_cancel(r);
	db_read(DB_CATEGORIES_ALL, 0, NULL, done_cb, &sentinel_read);
	T_CHECK(RUN_UNTIL(sentinel_read.done, 10), "read sent after the cancelled one answered", "no answer");

	T_EQ_INT(cancelled_calls, 0, "cancelled requests never call back");
	T_EQ_INT(side_long("SELECT count(*) FROM customers WHERE msisdn = '+27840000001'"), 1,
		 "a cancelled write that was queued still commits");
	db_get_stats(&st);
	T_EQ_INT(st.queued + st.in_flight, 0, "nothing left queued or in flight");
}

static void test_notify(void)
{
	int before = listen_calls;

	/* Unquoted, the name folds to lower case: a LISTEN that forgot to quote would hear this one. */
	side_ok(side, "NOTIFY spazadbtest");
	side_ok(side, "NOTIFY \"" CHANNEL "\"");
	T_CHECK(RUN_UNTIL(listen_calls > before, 5), "NOTIFY calls the listener", "no call in 5 s");
	run_ms(100);
	T_EQ_INT(listen_calls, before + 1, "only the exact channel name calls the listener");
}

static struct done lost_w, lost_r, down_r;
static bool down_r_sync;

/* The in-flight write fails: the database is down now, and a request made here must
 * fail too, but later, not inside this call. */
static void lost_write_cb(void *priv, const PGresult *res, int err)
{
	done_cb(&lost_w, res, err);
	db_read(DB_CATEGORIES_ALL, 0, NULL, done_cb, &down_r);
	down_r_sync = down_r.done;
}

static void test_connection_loss(const char *conninfo)
{
	PGconn *locker = PQconnectdb(conninfo);
	struct done after = {};
	struct db_stats st;
	long pid = -1;
	int i, listen_before = listen_calls;
	char sql[128];

	T_CHECK(PQstatus(locker) == CONNECTION_OK, "locking connection", "%s", PQerrorMessage(locker));
	/* The write blocks on the lock, so it is surely in flight when its backend dies. */
	side_ok(locker, "BEGIN");
	side_ok(locker, "LOCK TABLE customers IN SHARE MODE");
	upsert("+27850000001", lost_write_cb, NULL);
	for (i = 0; i < 100 && pid <= 0; i++) {
		run_ms(50);
		pid = side_long("SELECT coalesce(min(pid), 0) FROM pg_locks WHERE NOT granted "
				"AND relation = 'customers'::regclass");
	}
	T_CHECK(pid > 0, "write waits on the lock", "no waiting backend");
	/* Sent behind the blocked write, so it waits too. */
	db_read(DB_CATEGORIES_ALL, 0, NULL, done_cb, &lost_r);
	T_CHECK(RUN_UNTIL((db_get_stats(&st), st.in_flight == 2), 5), "read in flight behind the write",
		"%u in flight", st.in_flight);
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%ld)", pid);
	side_ok(side, sql);

	T_CHECK(RUN_UNTIL(lost_w.done && lost_r.done && down_r.done, 5), "in-flight requests answered",
		"write %d read %d later read %d", lost_w.done, lost_r.done, down_r.done);
	T_EQ_INT(lost_w.err, -ENOTCONN, "in-flight write gets -ENOTCONN");
	T_EQ_INT(lost_r.err, -ENOTCONN, "read behind it gets -ENOTCONN");
	T_CHECK(!lost_w.up, "down inside the failure callback", "still up");
	T_CHECK(!down_r_sync, "a request while down is not answered synchronously", "answered inside db_read");
	T_EQ_INT(down_r.err, -ENOTCONN, "a request while down gets -ENOTCONN");
	side_ok(locker, "ROLLBACK");
	PQfinish(locker);

	T_CHECK(RUN_UNTIL(db_is_up(), 10), "reconnects by itself", "still down after 10 s");
	db_get_stats(&st);
	T_EQ_INT(st.reconnects, 1, "stats: one reconnect");
	T_EQ_INT(listen_calls, listen_before + 1, "listener called again after reconnecting");
	db_read(DB_CATEGORIES_ALL, 0, NULL, done_cb, &after);
	T_CHECK(RUN_UNTIL(after.done, 5), "read after reconnecting answered", "no answer");
	T_EQ_INT(after.err, 0, "read after reconnecting: no error");
	T_EQ_INT(after.rows, 2, "read after reconnecting: its rows");
	T_EQ_INT(side_long("SELECT count(*) FROM customers WHERE msisdn = '+27850000001'"), 0,
		 "the write that failed with the connection did not commit");
}

static int outbox_notifies, commits;
static void outbox_notified(void *priv)
{
	outbox_notifies++;
}

static void committed(void)
{
	commits++;
}

/* An SMS row queued on a customers' connection sends no NOTIFY (its commit would take the lock
 * every notifying commit takes in turn, sql/033): db_on_commit()'s callback runs instead. One
 * queued on connection 0 still notifies. */
static void test_quiet_outbox(void)
{
	char id[24];
	const char *p[3] = { id, "hello", "dbtest:quiet" };
	struct done quiet = {}, loud = {};
	int outer;

	snprintf(id, sizeof(id), "%ld", side_long("SELECT id FROM customers WHERE msisdn = '+27870000098'"));
	T_EQ_INT(db_listen("spaza_outbox", outbox_notified, NULL), 0, "LISTEN spaza_outbox");
	db_on_commit(committed);
	run_ms(300);
	outbox_notifies = commits = 0;
	outer = db_partition_set("+27870000098");
	db_write(DB_SMS_QUEUE_REPLY, 3, p, done_cb, &quiet);
	db_partition_restore(outer);
	T_CHECK(RUN_UNTIL(quiet.done, 5), "an SMS row queued on the customers' connection", "no answer");
	run_ms(300);
	T_EQ_INT(side_long("SELECT count(*) FROM sms_messages WHERE mo_id = 'dbtest:quiet' AND status = 'queued'"), 1,
		 "... is queued");
	T_EQ_INT(outbox_notifies, 0, "... and sends no NOTIFY");
	T_CHECK(commits >= 1, "... its batch's commit calls db_on_commit()'s callback", "%d calls", commits);
	commits = 0;
	p[2] = "dbtest:loud";
	db_write(DB_SMS_QUEUE_REPLY, 3, p, done_cb, &loud);
	T_CHECK(RUN_UNTIL(loud.done && outbox_notifies > 0, 5), "one queued on connection 0 still notifies",
		"%d notifications", outbox_notifies);
	T_EQ_INT(commits, 0, "... and calls no db_on_commit() callback");
}

/* The connection a number's requests go on (a partition call answers the one it replaces). */
static int partition_of(int (*partition)(const char *msisdn), const char *msisdn)
{
	int outer = partition(msisdn);
	int mine = partition(msisdn);
	db_partition_restore(outer);
	return mine;
}

/* Several connections: customers' writes share connection 1 (the stock's one writer), and their
 * payments are shared out over the connections after it. A payment held up (here by another
 * transaction's row) holds up only its own connection: another customer's payment, a customer's
 * other write and the writes of no customer commit meanwhile. */
static void test_partitions(void *db_ctx, const char *conninfo)
{
	PGconn *locker = PQconnectdb(conninfo);
	struct done held = {}, other = {}, order = {}, background = {};
	const char *a = "+27870000001";
	char b[32];
	int outer, pa = 0, pb = 0, ca, cb, i;

	T_EQ_INT(db_init(db_ctx, conninfo, 4), 0, "db_init with 4 connections");
	T_CHECK(RUN_UNTIL(db_is_up(), 10), "4 connections up", "not up after 10 s");
	for (i = 2; i < 100; i++) {
		snprintf(b, sizeof(b), "+278700000%02d", i);
		pa = partition_of(db_partition_money, a);
		pb = partition_of(db_partition_money, b);
		if (pa != pb)
			break;
	}
	ca = partition_of(db_partition_set, a);
	cb = partition_of(db_partition_set, b);
	T_CHECK(pa != pb, "payments are shared out over the connections", "100 numbers on one connection");
	T_CHECK(pa > 1 && pb > 1, "... after the customers' connection", "connections %d and %d", pa, pb);
	T_CHECK(ca == 1 && cb == 1, "customers' other writes share connection 1", "connections %d and %d", ca, cb);

	T_CHECK(PQstatus(locker) == CONNECTION_OK, "locking connection", "%s", PQerrorMessage(locker));
	side_ok(locker, "BEGIN");
	side_ok(locker, "INSERT INTO customers (msisdn) VALUES ('+27870000001')");
	outer = db_partition_money(a);
	upsert(a, done_cb, &held);
	db_partition_money(b);
	upsert(b, done_cb, &other);
	db_partition_set("+27870000098");
	upsert("+27870000098", done_cb, &order);
	db_partition_restore(outer);
	upsert("+27870000099", done_cb, &background);
	T_CHECK(RUN_UNTIL(other.done && order.done && background.done, 5), "another customer's payment, a "
		"customer's other write and a write of no customer commit while one payment waits",
		"payment %d, customer %d, no customer %d", other.done, order.done, background.done);
	T_CHECK(!held.done, "... the waiting one is still waiting", "answered");
	T_EQ_INT(other.err + order.err + background.err, 0, "... without errors");
	side_ok(locker, "ROLLBACK");
	PQfinish(locker);
	T_CHECK(RUN_UNTIL(held.done, 5), "the held write commits once the row is free", "no answer");
	T_EQ_INT(held.err, 0, "... without an error");
	T_EQ_INT(side_long("SELECT count(*) FROM customers WHERE msisdn LIKE '+278700000%'"), 4, "all four committed");
	test_quiet_outbox();
	db_close();
}

/* Nothing listens: db_init still succeeds and keeps trying; meanwhile requests fail. */
static void test_unreachable(void *db_ctx)
{
	const char *p[] = { "+27860000001", "en" };
	struct done w = {};

	T_EQ_INT(db_init(db_ctx, "host=127.0.0.1 port=1", 2), 0, "db_init with the server unreachable");
	db_write(DB_CUSTOMER_UPSERT, 2, p, done_cb, &w);
	T_CHECK(!w.done, "a write while unreachable is not answered synchronously", "answered inside db_write");
	T_CHECK(RUN_UNTIL(w.done, 5), "a write while unreachable is answered", "no answer");
	T_EQ_INT(w.err, -ENOTCONN, "a write while unreachable gets -ENOTCONN");
	db_close();
}

int main(void)
{
	const char *conninfo = getenv("SPAZA_TEST_CONNINFO");
	const char *pgopts = getenv("PGOPTIONS");
	void *ctx, *db_ctx;

	if (!conninfo) {
		printf("SKIP: SPAZA_TEST_CONNINFO is not set "
		       "(the conninfo of a private PostgreSQL for this test)\n");
		return 77;
	}
	alarm(120);	/* the safety net under every RUN_UNTIL */
	ctx = talloc_named_const(NULL, 0, "db_test");
	db_ctx = talloc_named_const(ctx, 0, "db");
	osmo_init_logging2(ctx, &spaza_log_info);
	osmo_timer_setup(&deadline, deadline_cb, NULL);
	/* Every connection of this test, ours and db.c's, works in the test schema. */
	setenv("PGOPTIONS", talloc_asprintf(ctx, "%s -c search_path=" SCHEMA " -c client_min_messages=warning",
					    pgopts ? pgopts : ""), 1);

	side = PQconnectdb(conninfo);
	if (PQstatus(side) != CONNECTION_OK) {
		printf("FAIL: connect to SPAZA_TEST_CONNINFO: %s", PQerrorMessage(side));
		return 1;
	}
	T_CHECK(schema_create(ctx), "schema from the embedded migrations", "see above");

	T_EQ_INT(db_init(db_ctx, "no_such_option=1", 1), -EINVAL, "db_init refuses a bad conninfo");
	T_EQ_INT(db_init(db_ctx, conninfo, 1), 0, "db_init");
	T_EQ_INT(db_listen(CHANNEL, listen_cb, NULL), 0, "db_listen");

	test_read_while_connecting();
	test_bad_read_fails_alone();
	test_batched_writes();
	test_lazy_write();
	test_bad_write_fails_alone();
	test_cancel();
	test_notify();
	test_connection_loss(conninfo);

	db_close();
	test_partitions(db_ctx, conninfo);
	test_unreachable(db_ctx);
	T_EQ_INT(talloc_total_blocks(db_ctx), 1, "db_close frees everything");
	side_ok(side, "DROP SCHEMA " SCHEMA " CASCADE");
	PQfinish(side);
	talloc_free(ctx);
	return T_DONE();
}
