/* SMS in: a customer's text becomes a keyword command, its answer, and two rows on the
 * customer's timeline (the MO and our reply). A text that is no keyword goes to customer care
 * (care.h): a bare digit 1-5 rates the order of the last "delivered, rate it" SMS, anything
 * else opens a ticket or joins the customer's open one; the answer names the ticket.
 *
 * One MO is one job: find the customer (crm), do what the command asks (an order lookup, the
 * latest orders, the opt-out flag, the language), render the reply in the customer's language,
 * then store the MO and the reply in one statement and answer only after it committed. That
 * statement is also the duplicate check: Kannel delivers an MO again when it missed our
 * answer, and the second delivery (same message id) stores nothing and is answered with the
 * reply stored the first time. Every command is idempotent (STOP twice is STOP), so a duplicate
 * that arrives while the first is still at work only costs a lookup.
 *
 * The front end waits for the answer in an HTTP request: a job not answered within the hop
 * deadline is answered with nothing (Kannel then sends nothing) and its reply is stored as
 * queued, so the outbox sends it when it is ready. A job always runs to its end (database
 * requests are never cancelled), so no callback ever finds it freed. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <osmocom/core/timer.h>
#include "sms.h"
#include "care.h"
#include "cfg.h"
#include "crm.h"
#include "db.h"
#include "gsm7.h"
#include "logging.h"
#include "orders.h"
#include "sms_cmd.h"
#include "sms_texts.h"
#include "stats.h"

#define SMS_MO_TEXT_MAX 640	/* what we store of an MO's text */

struct sms_job {
	char msisdn[17];
	char *channel, *mo_id, *text;
	sms_reply_cb cb;
	void *priv;
	bool answered;		/* the front end has its answer (maybe an empty one) */
	bool late;		/* answered empty at the deadline: the reply goes by the outbox */
	struct osmo_timer_list deadline;
	struct customer *cust;
	struct sms_cmd_parsed cmd;
	enum sms_lang lang;	/* of the reply */
	const char *kind;	/* of the reply row: reply, opt_confirm */
	char reply[SMS_TEXT_BYTES];
};

static void *sms_ctx;

#define LOGPJ(j, lvl, fmt, args...) LOGP(DSMS, lvl, "%s %s: " fmt, (j)->msisdn, sms_cmd_name((j)->cmd.cmd), ## args)

static int job_destructor(struct sms_job *j)
{
	osmo_timer_del(&j->deadline);
	if (j->cust)	/* crm_get() held it for the job */
		crm_put(j->cust);
	return 0;
}

static void job_answer(struct sms_job *j, const char *text)
{
	if (j->answered)
		return;
	j->answered = true;
	osmo_timer_del(&j->deadline);
	j->cb(j->priv, text && *text ? text : NULL);
}

static void deadline_cb(void *data)
{
	struct sms_job *j = data;
	STAT_INC(SMS_LATE);
	LOGPJ(j, LOGL_NOTICE, "no reply within %u ms: it follows through the outbox\n", g_cfg->hop_deadline_ms);
	j->late = true;
	job_answer(j, NULL);
}

/* ---- the end of every job: store, then answer ---- */

static void requeued(void *priv, const PGresult *res, int err)
{
	if (err)
		STAT_INC(DB_ERRORS);
}

/* (reply id, reply text, reply status, duplicate) */
static void logged(void *priv, const PGresult *res, int err)
{
	struct sms_job *j = priv;
	if (err || PQntuples(res) != 1) {
		if (err)
			STAT_INC(DB_ERRORS);
		LOGPJ(j, LOGL_ERROR, "MO and reply not stored (%d): answered anyway\n", err);
		job_answer(j, j->reply);
		talloc_free(j);
		return;
	}
	bool dup = !strcmp(PQgetvalue(res, 0, 3), "t");
	const char *status = PQgetvalue(res, 0, 2);
	if (dup) {
		STAT_INC(SMS_MO_DUPLICATE);
		LOGPJ(j, LOGL_INFO, "message %s delivered again: answered from the stored reply\n", j->mo_id);
		/* a stored reply that is queued reaches the phone through the outbox */
		job_answer(j, strcmp(status, "queued") && !PQgetisnull(res, 0, 1) ? PQgetvalue(res, 0, 1) : NULL);
	} else if (j->late && !strcmp(status, "sent") && !PQgetisnull(res, 0, 0)) {
		/* stored as answered, but the deadline came first: hand it to the outbox */
		const char *params[1] = { PQgetvalue(res, 0, 0) };
		db_write(DB_SMS_REPLY_REQUEUE, 1, params, requeued, NULL);
	} else {
		job_answer(j, j->reply);
	}
	talloc_free(j);
}

static void job_reply(struct sms_job *j, enum sms_text id, const struct sms_vars *v)
{
	if (sms_texts_render(g_sms_texts, id, j->lang, v, j->reply, sizeof(j->reply)) < 0)
		LOGPJ(j, LOGL_ERROR, "reply cut short: it does not fit\n");
	if (!j->cust) {
		/* no customer record to put it on: answer what we have */
		job_answer(j, j->reply);
		talloc_free(j);
		return;
	}
	char cust[24];
	snprintf(cust, sizeof(cust), "%" PRId64, j->cust->id);
	const char *params[8] = { cust, sms_cmd_name(j->cmd.cmd), j->channel, j->mo_id, j->text, j->kind,
		j->reply[0] ? j->reply : NULL, j->late ? "queued" : "sent" };
	db_write(DB_SMS_MO_LOG, 8, params, logged, j);
}

static void job_fail(struct sms_job *j, int err)
{
	LOGPJ(j, LOGL_ERROR, "failed (%d): polite error\n", err);
	j->kind = "reply";
	job_reply(j, SMS_TEXT_ERROR, NULL);
}

/* ---- the commands ---- */

static void status_found(void *priv, const struct orders_row *rows, unsigned n, int err)
{
	struct sms_job *j = priv;
	if (err)
		return job_fail(j, err);
	struct sms_vars v = { .order = j->cmd.order, .status = -1, .lang = -1 };
	if (n != 1)
		return job_reply(j, SMS_TEXT_NOT_FOUND, &v);
	v.status = rows[0].status;
	v.total_cents = rows[0].total_cents;
	job_reply(j, SMS_TEXT_STATUS, &v);
}

static void orders_loaded(void *priv, const struct orders_row *rows, unsigned n, int err)
{
	struct sms_job *j = priv;
	if (err)
		return job_fail(j, err);
	struct sms_vars v = { .orders = rows, .n_orders = n, .status = -1, .lang = -1 };
	job_reply(j, n ? SMS_TEXT_ORDERS : SMS_TEXT_ORDERS_NONE, &v);
}

static void opt_stored(void *priv, const PGresult *res, int err)
{
	struct sms_job *j = priv;
	if (err)
		return job_fail(j, err);
	LOGPJ(j, LOGL_INFO, "marketing %s\n", j->cmd.cmd == SMS_CMD_STOP ? "opted out" : "opted in");
	job_reply(j, j->cmd.cmd == SMS_CMD_STOP ? SMS_TEXT_STOP : SMS_TEXT_START, NULL);
}

static void lang_stored(void *priv, struct customer *c, int err)
{
	struct sms_job *j = priv;
	if (err)
		return job_fail(j, err);
	/* confirmed in the language just chosen */
	j->lang = j->cmd.lang;
	struct sms_vars v = { .status = -1, .lang = j->cmd.lang };
	job_reply(j, SMS_TEXT_LANG, &v);
}

/* ---- customer care (care.h): COMPLAIN, RATE, a rating reply, free text ---- */

static void rate_not_delivered(void *priv, const struct orders_row *rows, unsigned n, int err)
{
	struct sms_job *j = priv;
	if (err)
		return job_fail(j, err);
	struct sms_vars v = { .order = j->cmd.order, .status = n == 1 ? rows[0].status : -1, .lang = -1 };
	job_reply(j, SMS_TEXT_RATE_NOT_DELIVERED, &v);
}

/* A care write's key: the front end's message, so a second delivery opens nothing again.
 * NULL (no message id): every delivery is new. */
static const char *care_key(struct sms_job *j)
{
	return j->mo_id ? talloc_asprintf(j, "sms:%s:%s", j->channel, j->mo_id) : NULL;
}

static void care_opened(void *priv, const struct care_result *r, int err)
{
	struct sms_job *j = priv;
	if (err)
		return job_fail(j, err);
	struct sms_vars v = { .order = j->cmd.order, .status = -1, .lang = -1, .ticket = r->ticket };
	switch (r->outcome) {
	case CARE_NOT_FOUND:
		return job_reply(j, SMS_TEXT_NOT_FOUND, &v);
	case CARE_JOINED:
		return job_reply(j, SMS_TEXT_CARE_JOINED, &v);
	default:
		return job_reply(j, j->cmd.cmd == SMS_CMD_COMPLAIN ? SMS_TEXT_CARE_ORDER_OPENED : SMS_TEXT_CARE_OPENED, &v);
	}
}

/* Anything that is not a keyword opens a ticket, or joins the customer's open one. */
static void care_free_text(struct sms_job *j)
{
	care_open(j->cust->id, 0, "free_text", "sms", j->text, care_key(j), care_opened, j);
}

static void rate_done(void *priv, const struct care_result *r, int err)
{
	struct sms_job *j = priv;
	if (err)
		return job_fail(j, err);
	struct sms_vars v = { .order = r->order ? r->order : j->cmd.order, .status = -1, .lang = -1,
			      .stars = j->cmd.stars };
	switch (r->outcome) {
	case CARE_RATED:
	case CARE_CHANGED:
		return job_reply(j, SMS_TEXT_RATED, &v);
	case CARE_NOT_DELIVERED:
		if (j->cmd.cmd != SMS_CMD_RATE)
			break;
		return orders_find(j->cmd.order, j->cust->id, rate_not_delivered, j);
	case CARE_NOT_FOUND:
		if (j->cmd.cmd != SMS_CMD_RATE)
			break;
		return job_reply(j, SMS_TEXT_NOT_FOUND, &v);
	default:
		break;
	}
	/* a bare digit with no rating asked for in the window is a message like any other */
	care_free_text(j);
}

/* CREDIT_BALANCE's row: limit, used, held, owed, available, store credit */
static void bal_loaded(void *priv, const PGresult *res, int err)
{
	struct sms_job *j = priv;
	if (err || PQntuples(res) != 1)
		return job_fail(j, err ? err : -EIO);
	struct sms_vars v = { .status = -1, .lang = -1 };
	int64_t *cols[] = { &v.limit_cents, &v.used_cents, NULL, &v.due_cents, &v.avail_cents, &v.store_cents };
	for (int i = 0; i < 6; i++)
		if (cols[i])
			*cols[i] = strtoll(PQgetvalue(res, 0, i), NULL, 10);
	job_reply(j, SMS_TEXT_BAL, &v);
}

/* LOYALTY_POINTS's row: the customer's points */
static void points_loaded(void *priv, const PGresult *res, int err)
{
	struct sms_job *j = priv;
	if (err || PQntuples(res) != 1)
		return job_fail(j, err ? err : -EIO);
	struct sms_vars v = { .status = -1, .lang = -1, .points = strtoll(PQgetvalue(res, 0, 0), NULL, 10) };
	job_reply(j, SMS_TEXT_POINTS, &v);
}

static void customer_ready(void *priv, struct customer *c, int err)
{
	struct sms_job *j = priv;
	if (err || !c)
		return job_fail(j, err ? err : -EIO);
	j->cust = c;
	j->lang = sms_texts_lang(c->lang);
	j->kind = "reply";
	char cust[24], source[32];
	snprintf(cust, sizeof(cust), "%" PRId64, c->id);

	switch (j->cmd.cmd) {
	case SMS_CMD_STATUS:
		if (!j->cmd.arg_ok)
			return job_reply(j, SMS_TEXT_STATUS_USAGE, NULL);
		return orders_find(j->cmd.order, c->id, status_found, j);
	case SMS_CMD_ORDERS:
		return orders_latest(c->id, g_sms_texts->orders_max, orders_loaded, j);
	case SMS_CMD_HELP:
		return job_reply(j, SMS_TEXT_HELP, NULL);
	case SMS_CMD_STOP:
	case SMS_CMD_START: {
		j->kind = "opt_confirm";
		snprintf(source, sizeof(source), "sms:%s", j->channel);
		const char *params[3] = { cust, j->cmd.cmd == SMS_CMD_STOP ? "true" : "false", source };
		db_write(DB_SMS_OPT_OUT, 3, params, opt_stored, j);
		return;
	}
	case SMS_CMD_LANG:
		if (!j->cmd.arg_ok)
			return job_reply(j, SMS_TEXT_LANG_USAGE, NULL);
		crm_set_lang(c, sms_lang_code(j->cmd.lang), lang_stored, j);
		return;
	case SMS_CMD_COMPLAIN:
		if (!j->cmd.arg_ok)
			return job_reply(j, SMS_TEXT_COMPLAIN_USAGE, NULL);
		return care_open(c->id, j->cmd.order, "other", "sms", j->cmd.rest, care_key(j), care_opened, j);
	case SMS_CMD_RATE:
		if (!j->cmd.arg_ok)
			return job_reply(j, SMS_TEXT_RATE_USAGE, NULL);
		return care_rate(c->id, j->cmd.order, j->cmd.stars, j->cmd.rest, "sms", rate_done, j);
	case SMS_CMD_BAL: {
		const char *params[1] = { cust };
		db_read(DB_CREDIT_BALANCE, 1, params, bal_loaded, j);
		return;
	}
	case SMS_CMD_POINTS: {
		const char *params[1] = { cust };
		db_read(DB_LOYALTY_POINTS, 1, params, points_loaded, j);
		return;
	}
	case SMS_CMD_UNKNOWN:
		if (j->cmd.stars)
			return care_rate_reply(c->id, j->cmd.stars, rate_done, j);
		if (j->text[strspn(j->text, " \t\r\n")])
			return care_free_text(j);
		break;
	case _SMS_CMD_COUNT:
		break;
	}
	/* an empty text: the short help */
	job_reply(j, SMS_TEXT_UNKNOWN, NULL);
}

void sms_mo(const struct sms_mo *mo, sms_reply_cb cb, void *priv)
{
	struct sms_job *j = talloc_zero(sms_ctx, struct sms_job);
	STAT_INC(SMS_MO);
	snprintf(j->msisdn, sizeof(j->msisdn), "%s", mo->msisdn);
	j->channel = talloc_strdup(j, mo->channel ? mo->channel : "sms");
	j->mo_id = mo->mo_id && *mo->mo_id ? talloc_strdup(j, mo->mo_id) : NULL;
	/* stored as text: cut at the cap and at anything that is not UTF-8 */
	j->text = talloc_strndup(j, mo->text ? mo->text : "", SMS_MO_TEXT_MAX);
	gsm7_truncate(j->text, strlen(j->text), UINT_MAX / 4, UINT_MAX / 4);
	j->cb = cb;
	j->priv = priv;
	j->lang = SMS_LANG_EN;
	j->kind = "reply";
	sms_cmd_parse(j->text, &j->cmd);
	osmo_timer_setup(&j->deadline, deadline_cb, j);
	talloc_set_destructor(j, job_destructor);
	osmo_timer_schedule(&j->deadline, g_cfg->hop_deadline_ms / 1000, (g_cfg->hop_deadline_ms % 1000) * 1000);
	LOGPJ(j, LOGL_INFO, "MO %s via %s\n", j->mo_id ? j->mo_id : "(no id)", j->channel);
	crm_get(j->msisdn, customer_ready, j);
}

void sms_init(void *ctx)
{
	sms_ctx = talloc_named_const(ctx, 0, "sms");
}
