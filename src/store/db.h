#pragma once
/* Asynchronous PostgreSQL access for spazad: a few libpq connections in pipeline mode,
 * driven by the osmo_select loop. Every statement is prepared once per connection
 * (db_stmts.def). Connection 0 carries what belongs to no customer, connection 1 customers'
 * orders and everything else of theirs but payments, which the connections after it share out
 * (db_partition_money()), so one backend is not the whole gateway's ceiling.
 *
 * Reads go out on the next loop turn, all of one turn together. Writes are batched: every write queued while the loop runs
 * is sent in one implicit transaction (statements + one Sync) on the next loop turn,
 * and each write's callback fires only after that transaction committed, so a caller
 * that answers the customer from its callback never shows an uncommitted result. */
#include <stdbool.h>
#include <libpq-fe.h>
#include "db_stmts.h"

struct db_req;

/* res is NULL when err != 0 (-ENOTCONN: database down or connection lost,
 * -EIO: statement failed; the batch it was in was rolled back).
 * res belongs to db.c and is only valid during the callback. */
typedef void (*db_cb)(void *priv, const PGresult *res, int err);

/* starts n_conns (>= 1) connections; each reconnects by itself */
int db_init(void *ctx, const char *conninfo, unsigned n_conns);
void db_close(void);
bool db_is_up(void);	/* every connection */

/* What is queued until db_partition_restore() belongs to the customer with this phone number:
 * it goes on the customers' connection, so a customer's writes commit in the order they were
 * queued, whichever front or timer queued them. Returns what to restore. Inside a callback,
 * requests go on the callback's connection anyway (behind what set them off). Nothing set:
 * writes go on connection 0, reads on any. */
int db_partition_set(const char *msisdn);
/* The same for a customer's payment: on a connection of payments (with 3 connections or more;
 * the customers' one otherwise), the same one for the same number. A payment is only ever
 * queued after its order's write was answered, so it needs no order with the customer's other
 * writes; the dialogue's row it may need is queued with it. */
int db_partition_money(const char *msisdn);
void db_partition_restore(int outer);

/* cb runs after every batch of writes a customers' connection commits. Those connections set
 * spaza.outbox_notify = off, so the SMS rows their orders and payments queue send no NOTIFY
 * (sql/033: a NOTIFY makes every notifying commit wait for the one before it); cb wakes the
 * outbox instead. */
void db_on_commit(void (*cb)(void));

/* params are copied; the callback is called exactly once, unless cancelled first; cb may be
 * NULL for a fire-and-forget write. A handle is dead once its callback ran (handles are
 * recycled): never cancel it after that. Reads and writes of one turn have no order between
 * them: read your own write from the write's callback. Writes of one partition (and of a
 * callback's connection) commit in the order they were queued; writes of different ones have
 * no order between them.
 * When the database is down the callback is called with -ENOTCONN from the next loop turn. */
struct db_req *db_read(enum db_stmt stmt, int nparams, const char *const *params, db_cb cb, void *priv);
struct db_req *db_write(enum db_stmt stmt, int nparams, const char *const *params, db_cb cb, void *priv);
/* A write that is not money and may be lost in a crash: the timeline's batches, never an order,
 * payment or promised SMS. It goes on the lazy connection (synchronous_commit = off: its commit
 * does not wait for the WAL flush; the loss window is in doc/reliability.md), in order with the
 * other lazy writes, behind nothing a customer waits for. */
struct db_req *db_write_lazy(enum db_stmt stmt, int nparams, const char *const *params, db_cb cb, void *priv);
/* The caller is gone (deadline passed, session freed): never call its callback.
 * A write already sent still commits. */
void db_cancel(struct db_req *req);

/* For `show stats`-style inspection and the benchmark report. */
struct db_stats {
	unsigned long reads, writes, batches, errors, reconnects;
	unsigned queued, in_flight;
};
void db_get_stats(struct db_stats *st);

/* LISTEN on a channel; cb runs after every (re)connect and on every NOTIFY on it,
 * so a cache refreshed from cb is right after an outage too. */
int db_listen(const char *channel, void (*cb)(void *priv), void *priv);
