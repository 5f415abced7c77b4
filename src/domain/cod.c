/* Cash on delivery as a retailer sees it (see cod.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cod.h"

/* TILL_COD_LOOKUP's and OFFICE_COD_LOOKUP's columns */
enum { COD_COL_RETAILER, COD_COL_ORDER, COD_COL_COD, COD_COL_STATUS, COD_COL_AMOUNT, COD_COL_PAYABLE,
       COD_COL_CONFIRMED, COD_COL_BY_YOU, COD_COL_PAYMENT_ID, COD_COL_CONFIRMED_AT, COD_COLS };

int cod_order_parse(const char *in, size_t len, int64_t *order_id)
{
	size_t i = 0, digits = 0;
	int64_t v = 0;
	while (i < len && in[i] == ' ')
		i++;
	if (i < len && in[i] == '#')
		i++;
	for (; i < len && in[i] >= '0' && in[i] <= '9'; i++, digits++) {
		if (digits >= 15)
			return -EINVAL;
		v = v * 10 + (in[i] - '0');
	}
	while (i < len && in[i] == ' ')
		i++;
	if (i != len || !digits || v < 1)
		return -EINVAL;
	*order_id = v;
	return 0;
}

static void cod_lookup(struct ledger_stmt *st, enum db_stmt stmt, int64_t order_id)
{
	memset(st, 0, sizeof(*st));
	st->stmt = stmt;
	st->nparams = db_stmts[stmt].nparams;
	snprintf(st->buf[1], sizeof(st->buf[1]), "%" PRId64, order_id);
	st->params[1] = st->buf[1];
}

void cod_lookup_by_key(struct ledger_stmt *st, const char *key_id, int64_t order_id)
{
	cod_lookup(st, DB_TILL_COD_LOOKUP, order_id);
	st->params[0] = key_id;
}

void cod_lookup_by_retailer(struct ledger_stmt *st, int retailer_id, int64_t order_id)
{
	cod_lookup(st, DB_OFFICE_COD_LOOKUP, order_id);
	snprintf(st->buf[0], sizeof(st->buf[0]), "%d", retailer_id);
	st->params[0] = st->buf[0];
}

static bool cod_bool(const PGresult *res, int col)
{
	return !PQgetisnull(res, 0, col) && !strcmp(PQgetvalue(res, 0, col), "t");
}

int cod_read(const PGresult *res, struct cod_order *o)
{
	memset(o, 0, sizeof(*o));
	if (PQntuples(res) != 1 || PQnfields(res) != COD_COLS)
		return -EIO;
	o->key_known = !PQgetisnull(res, 0, COD_COL_RETAILER);
	o->found = !PQgetisnull(res, 0, COD_COL_ORDER);
	if (!o->found)
		return 0;
	o->order_id = strtoll(PQgetvalue(res, 0, COD_COL_ORDER), NULL, 10);
	o->cod = cod_bool(res, COD_COL_COD);
	o->confirmed = cod_bool(res, COD_COL_CONFIRMED);
	o->by_you = cod_bool(res, COD_COL_BY_YOU);
	if (!o->cod)
		return 0;
	o->order_status = PQgetvalue(res, 0, COD_COL_STATUS);
	o->amount_cents = strtoll(PQgetvalue(res, 0, COD_COL_AMOUNT), NULL, 10);
	o->payable = cod_bool(res, COD_COL_PAYABLE);
	if (!PQgetisnull(res, 0, COD_COL_PAYMENT_ID))
		o->payment_id = PQgetvalue(res, 0, COD_COL_PAYMENT_ID);
	if (!PQgetisnull(res, 0, COD_COL_CONFIRMED_AT))
		o->confirmed_at = PQgetvalue(res, 0, COD_COL_CONFIRMED_AT);
	return 0;
}
