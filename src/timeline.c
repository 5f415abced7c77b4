/* Timeline rows are buffered as PostgreSQL array literals, one array per column, and sent as
 * one INSERT ... SELECT FROM unnest(...) per flush: one statement for hundreds of sessions. */
#include <errno.h>
#include <inttypes.h>
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
#define TIMELINE_MAX_ROWS 500
#define TIMELINE_COLS 10
#define TIMELINE_RETRY_S 1
#define TIMELINE_MAX_PENDING 100000	/* rows kept while the database is away */

/* A batch the database did not take: kept and sent again, so an outage delays the timeline
 * but does not punch holes in it. */
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
	struct llist_head failed;
	unsigned n_failed;	/* rows in failed */
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

static void batch_send(struct timeline_batch *b);

static void timeline_written(void *priv, const PGresult *res, int err)
{
	struct timeline_batch *b = priv;
	if (!err) {
		talloc_free(b);
		return;
	}
	STAT_INC(DB_ERRORS);
	if (err != -ENOTCONN) {
		/* the rows themselves are refused: retrying would not help */
		LOGP(DCRM, LOGL_ERROR, "%u timeline rows refused by the database (%d)\n", b->rows, err);
		talloc_free(b);
		return;
	}
	while (g.n_failed && g.n_failed + b->rows > TIMELINE_MAX_PENDING) {
		struct timeline_batch *old = llist_first_entry(&g.failed, struct timeline_batch, list);
		LOGP(DCRM, LOGL_ERROR, "database away too long: %u timeline rows dropped\n", old->rows);
		STAT_ADD(TIMELINE_DROPPED, old->rows);
		llist_del(&old->list);
		g.n_failed -= old->rows;
		talloc_free(old);
	}
	llist_add_tail(&b->list, &g.failed);
	g.n_failed += b->rows;
	if (!osmo_timer_pending(&g.retry_timer))
		osmo_timer_schedule(&g.retry_timer, TIMELINE_RETRY_S, 0);
}

static void batch_send(struct timeline_batch *b)
{
	db_write(DB_TIMELINE_SESSIONS, TIMELINE_COLS, (const char *const *)b->col, timeline_written, b);
}

static void timeline_retry_cb(void *data)
{
	if (!db_is_up()) {
		osmo_timer_schedule(&g.retry_timer, TIMELINE_RETRY_S, 0);
		return;
	}
	struct timeline_batch *b, *tmp;
	llist_for_each_entry_safe(b, tmp, &g.failed, list) {
		llist_del(&b->list);
		g.n_failed -= b->rows;
		batch_send(b);
	}
}

void timeline_flush(void)
{
	if (!g.rows)
		return;
	struct timeline_batch *b = talloc_zero(g.ctx, struct timeline_batch);
	for (int i = 0; i < TIMELINE_COLS; i++) {
		g.col[i] = talloc_realloc(g.ctx, g.col[i], char, g.len[i] + 2);
		strcpy(g.col[i] + g.len[i], "}");
		b->col[i] = talloc_steal(b, g.col[i]);
		g.col[i] = NULL;
	}
	b->rows = g.rows;
	batch_send(b);
	col_reset();
	osmo_timer_del(&g.timer);
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
		r->screens, r->order_id ? order : NULL };
	for (int i = 0; i < TIMELINE_COLS; i++)
		col_add(i, v[i]);
	g.rows++;
	if (g.rows >= TIMELINE_MAX_ROWS)
		timeline_flush();
	else if (!osmo_timer_pending(&g.timer))
		osmo_timer_schedule(&g.timer, 0, TIMELINE_FLUSH_MS * 1000);
}

void timeline_init(void *ctx)
{
	g.ctx = talloc_named_const(ctx, 0, "timeline");
	osmo_timer_setup(&g.timer, timeline_timer_cb, NULL);
	osmo_timer_setup(&g.retry_timer, timeline_retry_cb, NULL);
	INIT_LLIST_HEAD(&g.failed);
	col_reset();
}
