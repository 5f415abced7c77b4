/* Timeline rows are buffered as PostgreSQL array literals, one array per column, and sent as
 * one INSERT ... SELECT FROM unnest(...) per flush: one statement for hundreds of sessions. */
#include <inttypes.h>
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

static struct {
	void *ctx;
	char *col[TIMELINE_COLS];
	size_t len[TIMELINE_COLS];
	unsigned rows;
	struct osmo_timer_list timer;
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

static void timeline_written(void *priv, const PGresult *res, int err)
{
	if (err) {
		STAT_INC(DB_ERRORS);
		LOGP(DCRM, LOGL_ERROR, "%u timeline rows not written (%d)\n", (unsigned)(uintptr_t)priv, err);
	}
}

void timeline_flush(void)
{
	if (!g.rows)
		return;
	const char *params[TIMELINE_COLS];
	for (int i = 0; i < TIMELINE_COLS; i++) {
		g.col[i] = talloc_realloc(g.ctx, g.col[i], char, g.len[i] + 2);
		strcpy(g.col[i] + g.len[i], "}");
		params[i] = g.col[i];
	}
	db_write(DB_TIMELINE_SESSIONS, TIMELINE_COLS, params, timeline_written, (void *)(uintptr_t)g.rows);
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
	col_reset();
}
