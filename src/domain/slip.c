/* What a slip is to the doors that show it (see slip.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "slip.h"
#include "orders.h"

static const char *const slip_status_words[] = {
	[SLIP_OPEN] = "open",
	[SLIP_PAID] = "paid",
	[SLIP_VOIDED] = "voided",
	[SLIP_EXPIRED] = "expired",
};

/* SLIP_LOOKUP's columns */
enum { SLIP_COL_RETAILER, SLIP_COL_REF, SLIP_COL_STATUS, SLIP_COL_AMOUNT, SLIP_COL_EXPIRES_AT, SLIP_COL_EXPIRES,
       SLIP_COL_ORDER, SLIP_COL_ORDER_STATUS, SLIP_COL_PAYMENT_ID, SLIP_COL_PAYMENT_MINE, SLIP_COLS };

int slip_ref_parse(const char *in, size_t len, char out[EASYPAY_REF_BUF])
{
	char digits[EASYPAY_REF_LEN + 2];
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (in[i] == ' ')
			continue;
		if (in[i] < '0' || in[i] > '9' || n + 1 >= sizeof(digits))
			return -EINVAL;
		digits[n++] = in[i];
	}
	digits[n] = '\0';
	const char *d = n == EASYPAY_REF_LEN + 1 && digits[0] == '0' ? digits + 1 : digits;
	int rc = easypay_ref_parse(d, NULL, NULL, out, EASYPAY_REF_BUF);
	return rc == -EBADMSG ? rc : rc < 0 ? -EINVAL : 0;
}

void slip_lookup(struct ledger_stmt *st, const char *key_id, const char *ref)
{
	memset(st, 0, sizeof(*st));
	st->stmt = DB_SLIP_LOOKUP;
	st->nparams = db_stmts[DB_SLIP_LOOKUP].nparams;
	st->params[0] = key_id;
	st->params[1] = ref;
}

int slip_read(const PGresult *res, struct slip *s)
{
	memset(s, 0, sizeof(*s));
	if (PQntuples(res) != 1 || PQnfields(res) != SLIP_COLS)
		return -EIO;
	s->key_known = !PQgetisnull(res, 0, SLIP_COL_RETAILER);
	s->found = !PQgetisnull(res, 0, SLIP_COL_REF);
	if (!s->found)
		return 0;
	s->ref = PQgetvalue(res, 0, SLIP_COL_REF);
	s->status_word = PQgetvalue(res, 0, SLIP_COL_STATUS);
	s->status = SLIP_OPEN;
	for (size_t i = 0; i < sizeof(slip_status_words) / sizeof(slip_status_words[0]); i++)
		if (!strcmp(s->status_word, slip_status_words[i]))
			s->status = i;
	s->amount_cents = strtoll(PQgetvalue(res, 0, SLIP_COL_AMOUNT), NULL, 10);
	s->expires_at = PQgetvalue(res, 0, SLIP_COL_EXPIRES_AT);
	s->expires = PQgetvalue(res, 0, SLIP_COL_EXPIRES);
	s->order_id = strtoll(PQgetvalue(res, 0, SLIP_COL_ORDER), NULL, 10);
	s->order_status = PQgetvalue(res, 0, SLIP_COL_ORDER_STATUS);
	if (!PQgetisnull(res, 0, SLIP_COL_PAYMENT_ID)) {
		s->payment_id = PQgetvalue(res, 0, SLIP_COL_PAYMENT_ID);
		s->paid_by_key = !strcmp(PQgetvalue(res, 0, SLIP_COL_PAYMENT_MINE), "t");
	}
	return 0;
}

bool slip_gone(const struct slip *s)
{
	return s->status == SLIP_EXPIRED || s->status == SLIP_VOIDED;
}

bool slip_payable(const struct slip *s)
{
	return s->status == SLIP_OPEN && order_status_index(s->order_status) == ORDER_STATUS_AWAITING_PAYMENT;
}

int slip_render(void *ctx, const struct slip *s, enum barcode_out fmt, uint8_t **out, size_t *len)
{
	struct barcode_slip b = {
		.shop = BARCODE_SHOP_DEFAULT,
		.ref = s->ref,
		.order_id = s->order_id,
		.amount_cents = s->amount_cents,
		.expires = s->expires,
	};
	return barcode_slip_render(ctx, &b, fmt, out, len);
}
