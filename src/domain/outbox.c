/* The persistent outbox: sms_messages rows that are queued and due go out through the backend.
 *
 * The database is the queue. A claim takes a few due rows and leases them (next_attempt moves
 * past the send timeout), so a crash mid-send only delays them; the send's outcome then marks the
 * row sent, queued again with a back-off, or failed. Nothing is kept only in memory, which is
 * what lets a transport outage or a restart delay SMS without losing any.
 *
 * A transport down shows as every send failing at once: after a failure the outbox pauses (doubling
 * up to `sms retry max`) instead of walking the whole queue into failures.
 *
 * Rows are found on NOTIFY spaza_outbox (a trigger sends it when a row is queued), after each
 * batch a customers' connection commits (those send no NOTIFY: sql/033), after every database
 * reconnect, and by a poll timer (back-offs run out without anyone notifying). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <talloc.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/timer.h>
#include "outbox.h"
#include "cfg.h"
#include "db.h"
#include "gsm7.h"
#include "logging.h"
#include "orders.h"
#include "sms_texts.h"
#include "stats.h"

/* the lease beyond the send timeout: a claimed row is not claimed again while its send may run */
#define OUTBOX_LEASE_MARGIN_S 30
/* database requests waiting (queued or in flight) above which a claim waits OUTBOX_BUSY_WAIT_US */
#define OUTBOX_DB_BUSY 16
#define OUTBOX_BUSY_WAIT_US 10000

struct ob_msg {
	struct llist_head entry;	/* in g.sending */
	int64_t id;
	char *to;
	char *text;
	unsigned attempts;
};

static struct {
	void *ctx;
	const struct outbox_backend *backend;
	bool claiming;		/* a claim is in flight */
	bool again;		/* kicked meanwhile, or the last claim was full: claim again */
	unsigned in_flight;
	struct llist_head sending;	/* handed to the backend, no answer yet */
	unsigned fails;		/* sends failed in a row: the pause doubles */
	time_t paused_until;
	struct osmo_timer_list timer, kick;
	bool down;
} g;

#define LOGPM(m, lvl, fmt, args...) LOGP(DSMS, lvl, "outbox #%" PRId64 " %s: " fmt, (m)->id, (m)->to, ## args)

static time_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static unsigned backoff_s(unsigned n)
{
	unsigned s = g_cfg->sms_retry_min_s;
	while (n-- > 1 && s < g_cfg->sms_retry_max_s)
		s *= 2;
	return s < g_cfg->sms_retry_max_s ? s : g_cfg->sms_retry_max_s;
}

static void written(void *priv, const PGresult *res, int err)
{
	if (err) {
		STAT_INC(DB_ERRORS);
		LOGP(DSMS, LOGL_ERROR, "outbox: a row's state not written (%d): it is sent again after its lease\n", err);
	}
}

static void row_write(enum db_stmt stmt, int n, const char *const *params)
{
	db_write(stmt, n, params, written, NULL);
}

/* ---- sending ---- */

static void send_done(void *priv, enum outbox_result r, const char *detail)
{
	struct ob_msg *m = priv;
	char id[24], delay[16];
	snprintf(id, sizeof(id), "%" PRId64, m->id);
	g.in_flight--;
	llist_del(&m->entry);
	switch (r) {
	case OUTBOX_SENT: {
		STAT_INC(OUTBOX_SENT);
		g.fails = 0;
		LOGPM(m, LOGL_INFO, "sent (%s)\n", detail);
		const char *params[2] = { id, m->text };
		row_write(DB_SMS_OUTBOX_SENT, 2, params);
		break;
	}
	case OUTBOX_RETRY: {
		STAT_INC(OUTBOX_RETRY);
		unsigned pause = backoff_s(++g.fails);
		if (g.paused_until <= now_s())
			LOGP(DSMS, LOGL_NOTICE, "outbox: %s send failed (%s): pausing %u s\n",
			     g.backend ? g.backend->name : "?", detail, pause);
		g.paused_until = now_s() + pause;
		snprintf(delay, sizeof(delay), "%u", backoff_s(m->attempts));
		LOGPM(m, LOGL_INFO, "attempt %u failed (%s): next in %s s\n", m->attempts, detail, delay);
		const char *params[3] = { id, delay, detail };
		row_write(DB_SMS_OUTBOX_RETRY, 3, params);
		osmo_timer_schedule(&g.timer, pause, 0);
		break;
	}
	case OUTBOX_REFUSED: {
		STAT_INC(OUTBOX_FAILED);
		LOGPM(m, LOGL_ERROR, "refused for good: %s\n", detail);
		const char *params[3] = { id, detail, m->text };
		row_write(DB_SMS_OUTBOX_FAILED, 3, params);
		break;
	}
	}
	talloc_free(m);
	if (g.again)
		outbox_kick();
}

/* A notification's text, in the customer's language, from the order's values at queue time. */
static int render_notification(const PGresult *res, int i, char *buf, size_t len)
{
	const char *kind = PQgetvalue(res, i, 1);
	if (PQgetisnull(res, i, 4) || PQgetisnull(res, i, 6) || !g_sms_texts)
		return -EINVAL;
	struct sms_vars v = {
		.order = strtoll(PQgetvalue(res, i, 4), NULL, 10),
		.status = order_status_index(PQgetvalue(res, i, 5)),
		.total_cents = strtoll(PQgetvalue(res, i, 6), NULL, 10),
		.lang = -1,
	};
	enum sms_text t;
	if (!strcmp(kind, "order_placed"))
		t = SMS_TEXT_ORDER_PLACED;
	else if (!strcmp(kind, "order_status"))
		/* an expired order says what the customer can do; a delivered one asks for its
		 * rating: a bare digit answers (sms.c, care rating-window) */
		t = v.status == ORDER_STATUS_EXPIRED ? SMS_TEXT_ORDER_EXPIRED :
		    v.status == ORDER_STATUS_DELIVERED ? SMS_TEXT_RATE_ASK : SMS_TEXT_ORDER_STATUS;
	else
		return -EINVAL;
	return sms_texts_render(g_sms_texts, t, sms_texts_lang(PQgetvalue(res, i, 8)), &v, buf, len);
}

/* One claimed row: (id, kind, status, text, order_id, order_status, total_cents, msisdn, lang, attempts). */
static void send_row(const PGresult *res, int i)
{
	struct ob_msg *m = talloc_zero(g.ctx, struct ob_msg);
	m->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	m->to = talloc_strdup(m, PQgetvalue(res, i, 7));
	m->attempts = atoi(PQgetvalue(res, i, 9));
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, m->id);

	if (!strcmp(PQgetvalue(res, i, 2), "suppressed")) {
		STAT_INC(OUTBOX_SUPPRESSED);
		LOGPM(m, LOGL_INFO, "marketing suppressed: the customer opted out\n");
		talloc_free(m);
		return;
	}
	if (!PQgetisnull(res, i, 3)) {
		m->text = talloc_strdup(m, PQgetvalue(res, i, 3));
	} else {
		char buf[SMS_TEXT_BYTES];
		if (render_notification(res, i, buf, sizeof(buf)) < 0) {
			STAT_INC(OUTBOX_FAILED);
			LOGPM(m, LOGL_ERROR, "%s: no text to send\n", PQgetvalue(res, i, 1));
			const char *params[3] = { id, "no text: cannot render", NULL };
			row_write(DB_SMS_OUTBOX_FAILED, 3, params);
			talloc_free(m);
			return;
		}
		m->text = talloc_strdup(m, buf);
	}
	g.in_flight++;
	llist_add_tail(&m->entry, &g.sending);
	int rc = g.backend->send(m->id, m->to, m->text, send_done, m);
	if (rc < 0) {
		char why[64];
		snprintf(why, sizeof(why), "not sent: %s", strerror(-rc));
		send_done(m, OUTBOX_RETRY, why);
	}
}

static void claim_done(void *priv, const PGresult *res, int err)
{
	unsigned asked = (uintptr_t)priv;
	g.claiming = false;
	if (err) {
		STAT_INC(DB_ERRORS);
		LOGP(DSMS, LOGL_ERROR, "outbox: claim failed (%d): trying again on the next poll\n", err);
		return;
	}
	if (g.down || !g.backend) {
		/* shut down or no way out meanwhile: the leases run out and the rows come back */
		return;
	}
	unsigned n = PQntuples(res);
	for (unsigned i = 0; i < n; i++)
		send_row(res, i);
	if (n == asked)
		g.again = true;
	if (g.again)
		osmo_timer_schedule(&g.kick, 0, 0);
}

void outbox_kick(void)
{
	if (g.down || !g.backend)
		return;
	/* busy or paused: remembered, so the next send to finish (or the poll) claims again */
	if (g.claiming || g.paused_until > now_s() || g.in_flight >= g_cfg->sms_in_flight) {
		g.again = true;
		return;
	}
	/* The outbox is background work on the one database connection that customers' hops use
	 * too: while requests queue there, the claim (and the writes its sends bring) waits a moment
	 * rather than go in front of them. A backlog drained through a fast backend (bearerbox's
	 * acks take microseconds) would otherwise hold the pipeline for seconds. */
	struct db_stats st;
	db_get_stats(&st);
	if (st.queued + st.in_flight > OUTBOX_DB_BUSY) {
		g.again = true;
		osmo_timer_schedule(&g.kick, 0, OUTBOX_BUSY_WAIT_US);
		return;
	}
	g.again = false;
	unsigned room = g_cfg->sms_in_flight - g.in_flight;
	char n[16], lease[16];
	snprintf(n, sizeof(n), "%u", room);
	snprintf(lease, sizeof(lease), "%u", g_cfg->sendsms_timeout_ms / 1000 + OUTBOX_LEASE_MARGIN_S);
	const char *params[2] = { n, lease };
	g.claiming = true;
	db_write(DB_SMS_OUTBOX_CLAIM, 2, params, claim_done, (void *)(uintptr_t)room);
}

static void kick_cb(void *data)
{
	outbox_kick();
}

static void poll_cb(void *data)
{
	outbox_kick();
	time_t left = g.paused_until - now_s();
	osmo_timer_schedule(&g.timer, left > 0 && left < (time_t)g_cfg->sms_poll_s ? left : g_cfg->sms_poll_s, 0);
}

static void notified(void *priv)
{
	outbox_kick();
}

void outbox_resume(void)
{
	if (g.down || !g.backend)
		return;
	g.fails = 0;
	g.paused_until = 0;
	outbox_kick();
}

void outbox_set_backend(const struct outbox_backend *b)
{
	g.backend = b;
	if (b && g.ctx)
		osmo_timer_schedule(&g.kick, 0, 0);
}

/* ---- delivery reports ---- */

struct ob_dlr {
	outbox_dlr_cb done;
	void *priv;
};

static void dlr_written(void *priv, const PGresult *res, int err)
{
	struct ob_dlr *d = priv;
	outbox_dlr_cb done = d->done;
	void *p = d->priv;
	talloc_free(d);
	if (err)
		STAT_INC(DB_ERRORS);
	done(p, err ? -EIO : PQntuples(res) == 0 ? -ENOENT : 0);
}

void outbox_dlr(int64_t id, const char *state, const char *reply, outbox_dlr_cb done, void *priv)
{
	/* under priv: the report lives as long as whoever waits for it, even past outbox_shutdown() */
	struct ob_dlr *d = talloc_zero(priv, struct ob_dlr);
	char ids[24];
	/* the SMSC's words are free text of any length: keep what a timeline line shows */
	char r[161];
	d->done = done;
	d->priv = priv;
	snprintf(ids, sizeof(ids), "%" PRId64, id);
	snprintf(r, sizeof(r), "%s", reply ? reply : "");
	gsm7_truncate(r, strlen(r), 160, 160);
	const char *params[3] = { ids, state, r };
	db_write(DB_SMS_DLR, 3, params, dlr_written, d);
}

/* ---- life cycle ---- */

void outbox_init(void *ctx)
{
	g.ctx = talloc_named_const(ctx, 0, "outbox");
	INIT_LLIST_HEAD(&g.sending);
	osmo_timer_setup(&g.timer, poll_cb, NULL);
	osmo_timer_setup(&g.kick, kick_cb, NULL);
	db_listen("spaza_outbox", notified, NULL);
	db_on_commit(outbox_kick);	/* what the customers' connections queue notifies no one */
	osmo_timer_schedule(&g.timer, g_cfg->sms_poll_s, 0);
}

/* Sends in flight are dropped; their rows are made due again (the write still goes out while
 * spazad drains the database queue), so a restart sends them at once rather than after their
 * lease. Whether smsbox took one before we hung up is unknown: it may go twice, never zero times. */
void outbox_shutdown(void)
{
	g.down = true;
	osmo_timer_del(&g.timer);
	osmo_timer_del(&g.kick);
	if (g.backend && g.backend->forget)
		g.backend->forget();
	if (!llist_empty(&g.sending)) {
		char *ids = talloc_strdup(g.ctx, "{");
		struct ob_msg *m;
		llist_for_each_entry(m, &g.sending, entry)
			ids = talloc_asprintf_append(ids, "%s%" PRId64, ids[1] ? "," : "", m->id);
		ids = talloc_strdup_append(ids, "}");
		const char *params[1] = { ids };
		db_write(DB_SMS_OUTBOX_RELEASE, 1, params, NULL, NULL);
	}
	talloc_free(g.ctx);
	g.ctx = NULL;
}

unsigned outbox_in_flight(void)
{
	return g.in_flight;
}
