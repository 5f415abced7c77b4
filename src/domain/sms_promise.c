/* Replies promised on a USSD screen, kept until the database has them.
 *
 * The customer was told the result comes by SMS, so the promise is a write that must not be
 * lost to a database outage: a write that fails for want of a connection waits in memory and
 * goes again after every SMS_PROMISE_RETRY_S, as the timeline does. The hop's key under a
 * unique index (sql/004_promises.sql) makes a repeated write queue nothing, so a commit whose
 * answer was lost is not a second SMS. What is still waiting when spazad stops is logged and
 * counted as lost: the only case a promise breaks, and the operator sees it. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <talloc.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/timer.h>
#include "db.h"
#include "logging.h"
#include "sms_promise.h"
#include "stats.h"

#define SMS_PROMISE_RETRY_S 2
/* a bound on memory while the database is away: ~100 bytes and a screen each */
#define SMS_PROMISE_MAX_WAITING 20000

struct sms_promise {
	struct llist_head entry;	/* in g.waiting, between attempts */
	char cust[24];
	char *key, *text;
};

static struct {
	void *ctx;
	struct llist_head waiting;
	unsigned n_waiting;
	struct osmo_timer_list retry;
	bool closing;		/* no more attempts: what fails now is lost */
} g;

static void promise_send(struct sms_promise *p);

static void promise_written(void *priv, const PGresult *res, int err)
{
	struct sms_promise *p = priv;
	if (!err) {
		talloc_free(p);
		return;
	}
	STAT_INC(DB_ERRORS);
	if (err != -ENOTCONN || g.closing || g.n_waiting >= SMS_PROMISE_MAX_WAITING) {
		STAT_INC(SMS_PROMISES_LOST);
		LOGP(DSMS, LOGL_ERROR, "promised SMS %s lost: %s (%d)\n", p->key,
		     err != -ENOTCONN ? "the database refused it" :
		     g.closing ? "spazad is stopping" : "too many waiting for the database", err);
		talloc_free(p);
		return;
	}
	llist_add_tail(&p->entry, &g.waiting);
	g.n_waiting++;
	if (!osmo_timer_pending(&g.retry))
		osmo_timer_schedule(&g.retry, SMS_PROMISE_RETRY_S, 0);
}

static void promise_send(struct sms_promise *p)
{
	const char *params[3] = { p->cust, p->text, p->key };
	db_write(DB_SMS_QUEUE_REPLY, 3, params, promise_written, p);
}

static void promise_retry(void *data)
{
	if (!db_is_up()) {
		osmo_timer_schedule(&g.retry, SMS_PROMISE_RETRY_S, 0);
		return;
	}
	struct sms_promise *p, *tmp;
	llist_for_each_entry_safe(p, tmp, &g.waiting, entry) {
		llist_del(&p->entry);
		g.n_waiting--;
		promise_send(p);
	}
}

void sms_promise_init(void *ctx)
{
	g.ctx = talloc_named_const(ctx, 0, "sms_promises");
	INIT_LLIST_HEAD(&g.waiting);
	osmo_timer_setup(&g.retry, promise_retry, NULL);
}

void sms_promise_queue(int64_t customer_id, const char *key, const char *text)
{
	struct sms_promise *p = talloc_zero(g.ctx, struct sms_promise);
	snprintf(p->cust, sizeof(p->cust), "%" PRId64, customer_id);
	p->key = talloc_strdup(p, key);
	p->text = talloc_strdup(p, text);
	promise_send(p);
}

/* After the shutdown drain: writes still failing from here on are lost too (promise_written). */
void sms_promise_shutdown(void)
{
	g.closing = true;
	osmo_timer_del(&g.retry);
	if (g.n_waiting) {
		LOGP(DSMS, LOGL_ERROR, "%u promised SMS lost: the database was away until shutdown\n", g.n_waiting);
		STAT_ADD(SMS_PROMISES_LOST, g.n_waiting);
	}
	struct sms_promise *p, *tmp;
	llist_for_each_entry_safe(p, tmp, &g.waiting, entry)
		talloc_free(p);
	INIT_LLIST_HEAD(&g.waiting);
	g.n_waiting = 0;
}
