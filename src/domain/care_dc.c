/* The charged-twice ticket's double-charge check in spazad (see care_dc.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <talloc.h>
#include "care_dc.h"
#include "db.h"
#include "logging.h"
#include "refund.h"
#include "stats.h"

/* DC_TICKET's columns */
enum { CDC_STATE, CDC_NOTE, CDC_CUSTOMER, CDC_LANG, CDC_ORDER, CDC_DUP, CDC_AMOUNT, CDC_TO, CDC_COLS };

static void *care_dc_ctx;

void care_dc_init(void *ctx)
{
	care_dc_ctx = talloc_named_const(ctx, 0, "care_dc");
}

static void care_dc_sms_queued(void *priv, const PGresult *res, int err)
{
	if (err) {
		STAT_INC(DB_ERRORS);
		LOGP(DCARE, LOGL_ERROR, "double-charge refund SMS not queued (%d)\n", err);
	}
}

/* The refund is committed: tell the customer, once per double charge (the key is the one
 * spazactl's sweep uses, so whichever door refunded it, one SMS). */
static void care_dc_tell(const PGresult *res, int row)
{
	char text[SMS_TEXT_BYTES], key[48];
	int64_t order = strtoll(PQgetvalue(res, row, CDC_ORDER), NULL, 10);
	int64_t amount = strtoll(PQgetvalue(res, row, CDC_AMOUNT), NULL, 10);
	if (!g_sms_texts || refund_sms_render(g_sms_texts, PQgetvalue(res, row, CDC_LANG), PQgetvalue(res, row, CDC_TO),
					      true, order, amount, NULL, text, sizeof(text)) < 0) {
		LOGP(DCARE, LOGL_ERROR, "order %" PRId64 ": the double-charge refund SMS does not render\n", order);
		return;
	}
	refund_dc_sms_key(key, sizeof(key), strtoll(PQgetvalue(res, row, CDC_DUP), NULL, 10));
	const char *params[3] = { PQgetvalue(res, row, CDC_CUSTOMER), text, key };
	db_write(DB_SMS_NOTICE_QUEUE, 3, params, care_dc_sms_queued, NULL);
}

static void care_dc_done(void *priv, const PGresult *res, int err)
{
	int64_t *ticket = priv;
	if (!err && (PQnfields(res) != CDC_COLS || PQntuples(res) < 1))
		err = -EPROTO;
	if (err) {
		STAT_INC(DB_ERRORS);
		LOGP(DCARE, LOGL_ERROR, "ticket %" PRId64 ": double-charge check failed (%d): left for a person\n",
		     *ticket, err);
	} else {
		LOGP(DCARE, LOGL_INFO, "ticket %" PRId64 " %s: %s\n", *ticket, PQgetvalue(res, 0, CDC_STATE),
		     PQgetvalue(res, 0, CDC_NOTE));
		for (int i = 0; i < PQntuples(res); i++)
			if (!PQgetisnull(res, i, CDC_ORDER))
				care_dc_tell(res, i);
	}
	talloc_free(ticket);
}

void care_dc_check(int64_t ticket)
{
	int64_t *t = talloc(care_dc_ctx, int64_t);
	char id[24];
	*t = ticket;
	snprintf(id, sizeof(id), "%" PRId64, ticket);
	const char *params[1] = { id };
	db_write(DB_DC_TICKET, 1, params, care_dc_done, t);
}
