/* Customer care from the customer's side (see care.h). Every call is one write of the
 * asynchronous database; its callback runs after the commit, so a confirmation never names a
 * ticket that is not there. */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include "care.h"
#include "care_dc.h"
#include "cfg.h"
#include "db.h"
#include "logging.h"
#include "stats.h"

static void *care_ctx;

static const struct {
	const char *word;
	enum care_outcome outcome;
} care_words[] = {
	{ "opened", CARE_OPENED }, { "joined", CARE_JOINED }, { "rated", CARE_RATED }, { "changed", CARE_CHANGED },
	{ "not_found", CARE_NOT_FOUND }, { "not_delivered", CARE_NOT_DELIVERED }, { "none", CARE_NONE },
};

struct care_call {
	care_cb cb;
	void *priv;
	bool dc_check;	/* a charged-twice ticket: the double-charge check once it is open */
};

void care_init(void *ctx)
{
	care_ctx = talloc_named_const(ctx, 0, "care");
}

static int care_word(const char *w, enum care_outcome *o)
{
	for (size_t i = 0; i < sizeof(care_words) / sizeof(care_words[0]); i++)
		if (!strcmp(w, care_words[i].word)) {
			*o = care_words[i].outcome;
			return 0;
		}
	return -EPROTO;
}

/* (outcome, ticket or order): every statement of this room answers in that shape. */
static void care_done(void *priv, const PGresult *res, int err)
{
	struct care_call *c = priv;
	struct care_result r = { 0 };
	if (!err && (PQntuples(res) != 1 || care_word(PQgetvalue(res, 0, 0), &r.outcome) < 0))
		err = -EPROTO;
	if (err) {
		STAT_INC(DB_ERRORS);
		LOGP(DCARE, LOGL_ERROR, "care statement failed (%d)\n", err);
	} else {
		int64_t id = PQnfields(res) > 1 && !PQgetisnull(res, 0, 1) ? strtoll(PQgetvalue(res, 0, 1), NULL, 10) : 0;
		switch (r.outcome) {
		case CARE_OPENED:
			STAT_INC(CARE_TICKETS);
			r.ticket = id;
			if (c->dc_check)
				care_dc_check(id);
			break;
		case CARE_JOINED:
			STAT_INC(CARE_MESSAGES);
			r.ticket = id;
			break;
		case CARE_RATED:
		case CARE_CHANGED:
			STAT_INC(CARE_RATINGS);
			r.order = id;
			break;
		default:
			break;
		}
	}
	c->cb(c->priv, &r, err);
	talloc_free(c);
}

static struct care_call *care_call(care_cb cb, void *priv)
{
	struct care_call *c = talloc_zero(care_ctx, struct care_call);
	c->cb = cb;
	c->priv = priv;
	return c;
}

void care_open(int64_t customer, int64_t order, const char *kind, const char *channel, const char *text,
	       const char *key, care_cb cb, void *priv)
{
	char cust[24], ord[24];
	snprintf(cust, sizeof(cust), "%" PRId64, customer);
	snprintf(ord, sizeof(ord), "%" PRId64, order);
	const char *params[7] = { cust, order ? ord : NULL, kind, channel, text && *text ? text : NULL, channel, key };
	struct care_call *c = care_call(cb, priv);
	c->dc_check = !strcmp(kind, "charged_twice");
	LOGP(DCARE, LOGL_INFO, "customer %s: %s by %s\n", cust, kind, channel);
	db_write(DB_CARE_OPEN, 7, params, care_done, c);
}

void care_rate(int64_t customer, int64_t order, int stars, const char *comment, const char *channel, care_cb cb,
	       void *priv)
{
	char cust[24], ord[24], st[8];
	snprintf(cust, sizeof(cust), "%" PRId64, customer);
	snprintf(ord, sizeof(ord), "%" PRId64, order);
	snprintf(st, sizeof(st), "%d", stars);
	const char *params[5] = { cust, ord, st, comment && *comment ? comment : NULL, channel };
	db_write(DB_CARE_RATE, 5, params, care_done, care_call(cb, priv));
}

void care_rate_reply(int64_t customer, int stars, care_cb cb, void *priv)
{
	char cust[24], st[8], win[16];
	snprintf(cust, sizeof(cust), "%" PRId64, customer);
	snprintf(st, sizeof(st), "%d", stars);
	snprintf(win, sizeof(win), "%u", g_cfg->care_rating_window_h * 60);
	const char *params[3] = { cust, st, win };
	db_write(DB_CARE_RATE_REPLY, 3, params, care_done, care_call(cb, priv));
}

static void care_sms_queued(void *priv, const PGresult *res, int err)
{
	if (err) {
		STAT_INC(DB_ERRORS);
		LOGP(DCARE, LOGL_ERROR, "care confirmation SMS not queued (%d)\n", err);
	}
}

void care_sms(int64_t customer, const char *text, const char *key)
{
	char cust[24];
	snprintf(cust, sizeof(cust), "%" PRId64, customer);
	const char *params[3] = { cust, text, key };
	db_write(DB_SMS_QUEUE_REPLY, 3, params, care_sms_queued, NULL);
}
