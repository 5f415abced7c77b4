/* The double-charge sweep (see double_charge.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include "db_sync.h"
#include "double_charge.h"
#include "ledger.h"
#include "refund.h"
#include "sms_texts.h"

/* DC_SCAN's columns */
enum { DC_COL_ID, DC_COL_KIND, DC_COL_STATUS, DC_COL_MSISDN, DC_COL_ORDER, DC_COL_DUP, DC_COL_AMOUNT, DC_COL_FOUND,
       DC_COL_CUSTOMER, DC_COLS };

static int64_t dc_i64(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* The customer is told once: the SMS's key is the refund's. */
static int dc_tell(PGconn *conn, const struct dc_found *f, char *err, size_t errlen)
{
	char cust[24], key[48], text[SMS_TEXT_BYTES];
	PGresult *res;
	if (!g_sms_texts)
		return 0;	/* no texts loaded (a caller without SMS): the refund stands */
	snprintf(cust, sizeof(cust), "%" PRId64, f->customer_id);
	const char *lp[] = { cust };
	if (db_sync_stmt(conn, "customer language", DB_CUSTOMER_LANG, lp, &res, err, errlen) < 0)
		return -EIO;
	int rc = refund_sms_render(g_sms_texts, PQntuples(res) ? PQgetvalue(res, 0, 0) : "en", f->refund_to, true,
				   f->order_id, f->amount_cents, NULL, text, sizeof(text));
	PQclear(res);
	if (rc < 0) {
		snprintf(err, errlen, "double charge %" PRId64 ": the refund SMS does not fit", f->id);
		return -EIO;
	}
	refund_dc_sms_key(key, sizeof(key), f->dup_txn_id);
	const char *qp[] = { cust, text, key };
	if (db_sync_stmt(conn, "refund SMS", DB_SMS_NOTICE_QUEUE, qp, &res, err, errlen) < 0)
		return -EIO;
	PQclear(res);
	return 0;
}

static int dc_refund_one(PGconn *conn, struct dc_found *f, char *err, size_t errlen)
{
	struct ledger_stmt st;
	struct ledger_result r;
	PGresult *res;
	ledger_dc_refund(&st, f->id);
	if (db_sync_stmt(conn, "double-charge refund", st.stmt, st.params, &res, err, errlen) < 0)
		return -EIO;
	int rc = ledger_result(res, &r);
	if (!rc && r.outcome == LEDGER_REFUNDED) {
		f->refunded_now = strcmp(f->status, "refunded") != 0;
		snprintf(f->status, sizeof(f->status), "refunded");
		snprintf(f->refund_to, sizeof(f->refund_to), "%s", r.text ? r.text : "store_credit");
	}
	PQclear(res);
	if (rc < 0) {
		snprintf(err, errlen, "double charge %" PRId64 ": no answer from the ledger", f->id);
		return -EIO;
	}
	return f->refunded_now ? dc_tell(conn, f, err, errlen) : 0;
}

int dc_sweep(void *ctx, PGconn *conn, int64_t customer_id, const char *since, bool refund, struct dc_result *out,
	     char *err, size_t errlen)
{
	char cust[24];
	PGresult *res;
	memset(out, 0, sizeof(*out));
	snprintf(cust, sizeof(cust), "%" PRId64, customer_id);
	const char *params[] = { customer_id ? cust : NULL, since };
	if (db_sync_stmt(conn, "double charges", DB_DC_SCAN, params, &res, err, errlen) < 0)
		return -EIO;
	if (PQnfields(res) != DC_COLS) {
		PQclear(res);
		snprintf(err, errlen, "double charges: unexpected answer");
		return -EIO;
	}
	out->n = PQntuples(res);
	out->found = talloc_zero_array(ctx, struct dc_found, out->n ? out->n : 1);
	for (unsigned i = 0; i < out->n; i++) {
		struct dc_found *f = &out->found[i];
		f->id = dc_i64(res, i, DC_COL_ID);
		snprintf(f->kind, sizeof(f->kind), "%s", PQgetvalue(res, i, DC_COL_KIND));
		snprintf(f->status, sizeof(f->status), "%s", PQgetvalue(res, i, DC_COL_STATUS));
		snprintf(f->msisdn, sizeof(f->msisdn), "%s", PQgetvalue(res, i, DC_COL_MSISDN));
		f->order_id = dc_i64(res, i, DC_COL_ORDER);
		f->dup_txn_id = dc_i64(res, i, DC_COL_DUP);
		f->amount_cents = dc_i64(res, i, DC_COL_AMOUNT);
		snprintf(f->found_at, sizeof(f->found_at), "%s", PQgetvalue(res, i, DC_COL_FOUND));
		f->customer_id = dc_i64(res, i, DC_COL_CUSTOMER);
		if (!strcmp(f->kind, "same_amount_two_methods"))
			out->for_a_person++;
		else
			out->confirmed++;
	}
	PQclear(res);
	if (!refund)
		return 0;
	for (unsigned i = 0; i < out->n; i++) {
		struct dc_found *f = &out->found[i];
		if (!strcmp(f->kind, "same_amount_two_methods"))
			continue;
		if (dc_refund_one(conn, f, err, errlen) < 0)
			return -EIO;
		out->refunded_now += f->refunded_now;
	}
	return 0;
}

int dc_check_customer(void *ctx, PGconn *conn, int64_t customer_id, struct dc_result *out, char *err, size_t errlen)
{
	if (customer_id <= 0) {
		snprintf(err, errlen, "no such customer");
		return -EINVAL;
	}
	return dc_sweep(ctx, conn, customer_id, NULL, true, out, err, errlen);
}

/* DC_TICKET's columns */
enum { DCT_STATE, DCT_NOTE, DCT_CUSTOMER, DCT_LANG, DCT_ORDER, DCT_DUP, DCT_AMOUNT, DCT_TO, DCT_COLS };

int dc_ticket(void *ctx, PGconn *conn, int64_t ticket, char **state, char **note, char *err, size_t errlen)
{
	char id[24];
	PGresult *res;
	snprintf(id, sizeof(id), "%" PRId64, ticket);
	const char *params[] = { id };
	if (db_sync_stmt(conn, "double-charge check", DB_DC_TICKET, params, &res, err, errlen) < 0)
		return -EIO;
	if (PQnfields(res) != DCT_COLS || PQntuples(res) < 1) {
		PQclear(res);
		snprintf(err, errlen, "double-charge check: unexpected answer");
		return -EIO;
	}
	*state = talloc_strdup(ctx, PQgetvalue(res, 0, DCT_STATE));
	*note = talloc_strdup(ctx, PQgetvalue(res, 0, DCT_NOTE));
	int rc = 0;
	for (int i = 0; i < PQntuples(res) && !rc; i++) {
		if (PQgetisnull(res, i, DCT_ORDER))
			continue;
		struct dc_found f = {
			.customer_id = dc_i64(res, i, DCT_CUSTOMER), .order_id = dc_i64(res, i, DCT_ORDER),
			.dup_txn_id = dc_i64(res, i, DCT_DUP), .amount_cents = dc_i64(res, i, DCT_AMOUNT),
		};
		snprintf(f.refund_to, sizeof(f.refund_to), "%s", PQgetvalue(res, i, DCT_TO));
		rc = dc_tell(conn, &f, err, errlen);
	}
	PQclear(res);
	return rc;
}
