/* Timeline rows are buffered as PostgreSQL array literals, one array per column, and sent as
 * one INSERT ... SELECT FROM unnest(...) per flush: one statement for hundreds of sessions. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <osmocom/core/linuxlist.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include <osmocom/core/timer.h>
#include "db.h"
#include "logging.h"
#include "stats.h"
#include "timeline.h"

#define TIMELINE_FLUSH_MS 20
#define TIMELINE_MAX_ROWS 500		/* a batch is sent at once when it has this many rows */
#define TIMELINE_BATCH_ROWS 1000	/* the most one batch holds: at most ~0.3 s of a busy database in front of a hop */
#define TIMELINE_COLS 12
#define TIMELINE_RETRY_S 1
#define TIMELINE_MAX_PENDING 100000	/* rows kept while the database is away or behind */

/* A batch of rows, in the send queue (sealed, in order) or in flight.
 *
 * One batch at a time is in flight. The batches go on the lazy connection (db_write_lazy():
 * synchronous_commit = off, no money on it; the loss window is in doc/reliability.md); when
 * they shared the customers' connection, batches queued in front of an order held it up (at 5,000 sessions
 * a second through a busy machine, a backlog of batches held hops for seconds). While one is in
 * flight the rows gather into a bigger batch, which also costs the database less per row. A
 * batch the database did not take (connection lost) goes back to the head of the queue, so an
 * outage delays the timeline but does not punch holes in it. */
struct timeline_batch {
	struct llist_head list;
	char *col[TIMELINE_COLS];
	unsigned rows;
};

static struct {
	void *ctx;
	char *col[TIMELINE_COLS];
	size_t len[TIMELINE_COLS];
	unsigned rows;
	struct osmo_timer_list timer, retry_timer;
	struct llist_head queue;	/* sealed batches, oldest first */
	unsigned n_queued;		/* rows in queue */
	struct timeline_batch *in_flight;
} g;

static void col_reset(void)
{
	for (int i = 0; i < TIMELINE_COLS; i++) {
		talloc_free(g.col[i]);
		g.col[i] = talloc_strdup(g.ctx, "{");
		g.len[i] = 1;
	}
	g.rows = 0;
}

/* Append one element to an array literal: quoted, with \ and " escaped; NULL when v is NULL. */
static void col_add(int i, const char *v)
{
	size_t need = g.len[i] + (v ? 2 * strlen(v) + 4 : 6);
	g.col[i] = talloc_realloc(g.ctx, g.col[i], char, need);
	char *p = g.col[i] + g.len[i];
	if (g.rows)
		*p++ = ',';
	if (!v) {
		memcpy(p, "NULL", 4);
		p += 4;
	} else {
		*p++ = '"';
		for (; *v; v++) {
			if (*v == '"' || *v == '\\')
				*p++ = '\\';
			*p++ = *v;
		}
		*p++ = '"';
	}
	*p = '\0';
	g.len[i] = p - g.col[i];
}

static void timeline_pump(void);

/* Rows over TIMELINE_MAX_PENDING: the oldest queued batch goes (counted), else the new row. */
static bool timeline_room(void)
{
	while (g.n_queued + g.rows >= TIMELINE_MAX_PENDING && !llist_empty(&g.queue)) {
		struct timeline_batch *old = llist_first_entry(&g.queue, struct timeline_batch, list);
		LOGP(DCRM, LOGL_ERROR, "database away or behind too long: %u timeline rows dropped\n", old->rows);
		STAT_ADD(TIMELINE_DROPPED, old->rows);
		llist_del(&old->list);
		g.n_queued -= old->rows;
		talloc_free(old);
	}
	if (g.n_queued + g.rows < TIMELINE_MAX_PENDING)
		return true;
	STAT_INC(TIMELINE_DROPPED);
	return false;
}

static void timeline_written(void *priv, const PGresult *res, int err)
{
	struct timeline_batch *b = priv;
	g.in_flight = NULL;
	if (err == -ENOTCONN) {
		STAT_INC(DB_ERRORS);
		llist_add(&b->list, &g.queue);
		g.n_queued += b->rows;
		if (!osmo_timer_pending(&g.retry_timer))
			osmo_timer_schedule(&g.retry_timer, TIMELINE_RETRY_S, 0);
		return;
	}
	if (err) {
		/* the rows themselves are refused: retrying would not help */
		STAT_INC(DB_ERRORS);
		LOGP(DCRM, LOGL_ERROR, "%u timeline rows refused by the database (%d)\n", b->rows, err);
	}
	talloc_free(b);
	/* what gathered meanwhile goes now */
	if (llist_empty(&g.queue))
		timeline_flush();
	else
		timeline_pump();
}

static void timeline_pump(void)
{
	if (g.in_flight || llist_empty(&g.queue))
		return;
	if (!db_is_up()) {
		if (!osmo_timer_pending(&g.retry_timer))
			osmo_timer_schedule(&g.retry_timer, TIMELINE_RETRY_S, 0);
		return;
	}
	struct timeline_batch *b = llist_first_entry(&g.queue, struct timeline_batch, list);
	llist_del(&b->list);
	g.n_queued -= b->rows;
	g.in_flight = b;
	db_write_lazy(DB_TIMELINE_SESSIONS, TIMELINE_COLS, (const char *const *)b->col, timeline_written, b);
}

static void timeline_retry_cb(void *data)
{
	timeline_pump();
}

/* The rows gathered so far become a batch at the end of the queue. */
static void timeline_seal(void)
{
	struct timeline_batch *b = talloc_zero(g.ctx, struct timeline_batch);
	for (int i = 0; i < TIMELINE_COLS; i++) {
		g.col[i] = talloc_realloc(g.ctx, g.col[i], char, g.len[i] + 2);
		strcpy(g.col[i] + g.len[i], "}");
		b->col[i] = talloc_steal(b, g.col[i]);
		g.col[i] = NULL;
	}
	b->rows = g.rows;
	llist_add_tail(&b->list, &g.queue);
	g.n_queued += b->rows;
	col_reset();
	osmo_timer_del(&g.timer);
}

void timeline_flush(void)
{
	if (g.rows && !g.in_flight)
		timeline_seal();
	timeline_pump();
}

static void timeline_timer_cb(void *data)
{
	timeline_flush();
}

void timeline_session_add(const struct timeline_session *r)
{
	char cust[24], start[24], end[24], hops[16], order[24];
	snprintf(cust, sizeof(cust), "%" PRId64, r->customer_id);
	snprintf(start, sizeof(start), "%.6f", r->started);
	snprintf(end, sizeof(end), "%.6f", r->ended);
	snprintf(hops, sizeof(hops), "%u", r->hops);
	snprintf(order, sizeof(order), "%" PRId64, r->order_id);
	const char *v[TIMELINE_COLS] = { cust, r->channel, r->ref, r->service_code, start, end, r->outcome, hops,
		r->screens, r->order_id ? order : NULL, r->lang, r->menu_version };
	if (!timeline_room())
		return;
	for (int i = 0; i < TIMELINE_COLS; i++)
		col_add(i, v[i]);
	g.rows++;
	if (g.rows >= TIMELINE_BATCH_ROWS)
		timeline_seal();	/* queued behind the one in flight */
	if (g.rows >= TIMELINE_MAX_ROWS || (!g.rows && !g.in_flight))
		timeline_flush();
	else if (g.rows && !osmo_timer_pending(&g.timer))
		osmo_timer_schedule(&g.timer, 0, TIMELINE_FLUSH_MS * 1000);
}

void timeline_init(void *ctx)
{
	g.ctx = talloc_named_const(ctx, 0, "timeline");
	osmo_timer_setup(&g.timer, timeline_timer_cb, NULL);
	osmo_timer_setup(&g.retry_timer, timeline_retry_cb, NULL);
	INIT_LLIST_HEAD(&g.queue);
	col_reset();
}

void timeline_close(void)
{
	unsigned lost = g.n_queued + g.rows + (g.in_flight ? g.in_flight->rows : 0);
	osmo_timer_del(&g.timer);
	osmo_timer_del(&g.retry_timer);
	if (lost) {
		LOGP(DCRM, LOGL_ERROR, "%u timeline rows not written: the database had not taken them at shutdown\n", lost);
		STAT_ADD(TIMELINE_DROPPED, lost);
	}
	struct timeline_batch *b, *tmp;
	llist_for_each_entry_safe(b, tmp, &g.queue, list)
		talloc_free(b);
	INIT_LLIST_HEAD(&g.queue);
	g.n_queued = 0;
	TALLOC_FREE(g.in_flight);	/* db_close() dropped its callback */
	col_reset();
}
