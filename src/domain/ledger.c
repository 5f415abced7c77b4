/* The money room (see ledger.h for the contract): parameters in, one row shape out. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>
#include "ledger.h"

static const char *const ledger_words[] = {
#define X(name, word) [LEDGER_##name] = word,
#include "ledger_outcomes.def"
#undef X
	[LEDGER_OUTCOME_UNKNOWN] = "unknown",
};

/* The outcome row: outcome, amount_cents, balance_cents, id, text, detail */
enum { LEDGER_COL_OUTCOME, LEDGER_COL_AMOUNT, LEDGER_COL_BALANCE, LEDGER_COL_ID, LEDGER_COL_TEXT, LEDGER_COL_DETAIL,
       LEDGER_COLS };

const char *ledger_outcome_word(enum ledger_outcome o)
{
	return o <= LEDGER_OUTCOME_UNKNOWN ? ledger_words[o] : ledger_words[LEDGER_OUTCOME_UNKNOWN];
}

enum ledger_outcome ledger_outcome_parse(const char *word)
{
	for (int o = 0; o < LEDGER_OUTCOME_UNKNOWN; o++)
		if (!strcmp(ledger_words[o], word))
			return o;
	return LEDGER_OUTCOME_UNKNOWN;
}

static void ledger_stmt_init(struct ledger_stmt *st, enum db_stmt stmt)
{
	memset(st, 0, sizeof(*st));
	st->stmt = stmt;
	st->nparams = db_stmts[stmt].nparams;
}

static void ledger_str(struct ledger_stmt *st, int i, const char *s)
{
	st->params[i] = s;
}

static void ledger_i64(struct ledger_stmt *st, int i, int64_t v)
{
	snprintf(st->buf[i], sizeof(st->buf[i]), "%" PRId64, v);
	st->params[i] = st->buf[i];
}

static void ledger_hex(struct ledger_stmt *st, int i, const uint8_t b[32])
{
	for (int k = 0; k < 32; k++)
		snprintf(st->buf[i] + 2 * k, 3, "%02x", b[k]);
	st->params[i] = st->buf[i];
}

/* {hex,hex} and {1,2}: the PIN under each key version, and which (params 1 and 2), and the
 * oldest version still usable (param 3) */
static void ledger_macs(struct ledger_stmt *st, const struct secrets_macs *macs)
{
	size_t n = 0, v = 0;
	st->macs[n++] = '{';
	st->buf[2][v++] = '{';
	for (unsigned i = 0; i < macs->n; i++) {
		for (int k = 0; k < SECRETS_HMAC_LEN; k++, n += 2)
			snprintf(st->macs + n, 3, "%02x", macs->mac[i][k]);
		st->macs[n++] = i + 1 < macs->n ? ',' : '}';
		v += snprintf(st->buf[2] + v, sizeof(st->buf[2]) - v, "%u%s", macs->version[i], i + 1 < macs->n ? "," : "}");
	}
	st->macs[n] = '\0';
	st->params[1] = st->macs;
	st->params[2] = st->buf[2];
	ledger_i64(st, 3, macs->oldest_usable);
}

void ledger_voucher_redeem(struct ledger_stmt *st, const char *idem_key, const struct secrets_macs *macs,
			   int64_t customer_id, int64_t order_id)
{
	ledger_stmt_init(st, DB_VOUCHER_REDEEM);
	ledger_str(st, 0, idem_key);
	ledger_macs(st, macs);
	ledger_i64(st, 4, customer_id);
	ledger_i64(st, 5, order_id);
}

void ledger_credit_repay(struct ledger_stmt *st, const char *idem_key, const struct secrets_macs *macs,
			 int64_t customer_id)
{
	ledger_stmt_init(st, DB_CREDIT_REPAY);
	ledger_str(st, 0, idem_key);
	ledger_macs(st, macs);
	ledger_i64(st, 4, customer_id);
}

void ledger_credit_hold(struct ledger_stmt *st, const char *idem_key, int64_t customer_id, int64_t order_id)
{
	ledger_stmt_init(st, DB_CREDIT_HOLD);
	ledger_str(st, 0, idem_key);
	ledger_i64(st, 1, customer_id);
	ledger_i64(st, 2, order_id);
}

void ledger_credit_post(struct ledger_stmt *st, int64_t order_id)
{
	ledger_stmt_init(st, DB_CREDIT_POST);
	ledger_i64(st, 0, order_id);
}

void ledger_credit_set_limit(struct ledger_stmt *st, int64_t customer_id, int64_t limit_cents)
{
	ledger_stmt_init(st, DB_CREDIT_SET_LIMIT);
	ledger_i64(st, 0, customer_id);
	ledger_i64(st, 1, limit_cents);
}

void ledger_slip_create(struct ledger_stmt *st, const char *idem_key, int64_t order_id, unsigned receiver_id)
{
	ledger_stmt_init(st, DB_SLIP_CREATE);
	ledger_str(st, 0, idem_key);
	ledger_i64(st, 1, order_id);
	ledger_i64(st, 2, receiver_id);
}

void ledger_till_pay(struct ledger_stmt *st, const char *key_id, const char *payment_id, const char *ref,
		     int64_t amount_cents)
{
	char canon[64];
	uint8_t hash[SHA256_DIGEST_LENGTH];
	_Static_assert(SHA256_DIGEST_LENGTH == 32, "the request hash is written as 32 bytes of hex");

	ledger_stmt_init(st, DB_TILL_PAY);
	ledger_str(st, 0, key_id);
	ledger_str(st, 1, payment_id);
	ledger_str(st, 2, ref);
	ledger_i64(st, 3, amount_cents);
	int n = snprintf(canon, sizeof(canon), "%s|%" PRId64, ref, amount_cents);
	SHA256((const uint8_t *)canon, n, hash);
	ledger_hex(st, 4, hash);
}

void ledger_till_reverse(struct ledger_stmt *st, const char *key_id, const char *payment_id, const char *ref)
{
	ledger_stmt_init(st, DB_TILL_REVERSE);
	ledger_str(st, 0, key_id);
	ledger_str(st, 1, payment_id);
	ledger_str(st, 2, ref);
}

void ledger_order_cancel(struct ledger_stmt *st, int64_t order_id, const char *idem_key)
{
	ledger_stmt_init(st, DB_ORDER_CANCEL);
	ledger_i64(st, 0, order_id);
	ledger_str(st, 1, idem_key);
}

void ledger_holds_expire(struct ledger_stmt *st)
{
	ledger_stmt_init(st, DB_HOLDS_EXPIRE);
}

void ledger_refund(struct ledger_stmt *st, const struct ledger_refund *rf)
{
	ledger_stmt_init(st, DB_REFUND);
	ledger_str(st, 0, rf->idem_key);
	ledger_i64(st, 1, rf->order_id);
	if (rf->amount_cents > 0)
		ledger_i64(st, 2, rf->amount_cents);
	ledger_str(st, 3, rf->to);
	ledger_str(st, 4, rf->reason);
	if (rf->pin_hmac) {
		ledger_hex(st, 5, rf->pin_hmac);
		ledger_str(st, 6, rf->last4);
		ledger_i64(st, 7, rf->key_version);
	}
}

/* Store credit and points pay an order alike: key, customer, order (sql/012, sql/021). */
static void ledger_prepay(struct ledger_stmt *st, enum db_stmt stmt, const char *idem_key, int64_t customer_id,
			  int64_t order_id)
{
	ledger_stmt_init(st, stmt);
	ledger_str(st, 0, idem_key);
	ledger_i64(st, 1, customer_id);
	ledger_i64(st, 2, order_id);
}

void ledger_store_credit_pay(struct ledger_stmt *st, const char *idem_key, int64_t customer_id, int64_t order_id)
{
	ledger_prepay(st, DB_STORE_CREDIT_PAY, idem_key, customer_id, order_id);
}

void ledger_points_pay(struct ledger_stmt *st, const char *idem_key, int64_t customer_id, int64_t order_id)
{
	ledger_prepay(st, DB_POINTS_PAY, idem_key, customer_id, order_id);
}

void ledger_repay_slip_create(struct ledger_stmt *st, const char *idem_key, int64_t customer_id, unsigned receiver_id)
{
	ledger_stmt_init(st, DB_REPAY_SLIP_CREATE);
	ledger_str(st, 0, idem_key);
	ledger_i64(st, 1, customer_id);
	ledger_i64(st, 2, receiver_id);
}

void ledger_cod_choose(struct ledger_stmt *st, int64_t customer_id, int64_t order_id)
{
	ledger_stmt_init(st, DB_COD_CHOOSE);
	ledger_i64(st, 0, customer_id);
	ledger_i64(st, 1, order_id);
}

void ledger_cod_settle(struct ledger_stmt *st, int64_t order_id, const char *by)
{
	ledger_stmt_init(st, DB_COD_SETTLE);
	ledger_i64(st, 0, order_id);
	ledger_str(st, 1, by);
}

void ledger_till_cod_pay(struct ledger_stmt *st, const char *key_id, const char *payment_id, int64_t order_id,
			 int64_t amount_cents)
{
	ledger_stmt_init(st, DB_TILL_COD_PAY);
	ledger_str(st, 0, key_id);
	ledger_str(st, 1, payment_id);
	ledger_i64(st, 2, order_id);
	ledger_i64(st, 3, amount_cents);
}

void ledger_staff_cod_settle(struct ledger_stmt *st, const char *session, int64_t order_id, int64_t amount_cents)
{
	ledger_stmt_init(st, DB_OFFICE_COD_SETTLE);
	ledger_str(st, 0, session);
	ledger_i64(st, 1, order_id);
	ledger_i64(st, 2, amount_cents);
}

void ledger_dc_refund(struct ledger_stmt *st, int64_t dc_id)
{
	ledger_stmt_init(st, DB_DC_REFUND);
	ledger_i64(st, 0, dc_id);
}

static int64_t ledger_col_i64(const PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? 0 : strtoll(PQgetvalue(res, 0, col), NULL, 10);
}

static const char *ledger_col_str(const PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? NULL : PQgetvalue(res, 0, col);
}

int ledger_result(const PGresult *res, struct ledger_result *r)
{
	if (PQntuples(res) != 1 || PQnfields(res) != LEDGER_COLS || PQgetisnull(res, 0, LEDGER_COL_OUTCOME))
		return -EIO;
	*r = (struct ledger_result){
		.outcome = ledger_outcome_parse(PQgetvalue(res, 0, LEDGER_COL_OUTCOME)),
		.amount_cents = ledger_col_i64(res, LEDGER_COL_AMOUNT),
		.balance_cents = ledger_col_i64(res, LEDGER_COL_BALANCE),
		.id = ledger_col_i64(res, LEDGER_COL_ID),
		.text = ledger_col_str(res, LEDGER_COL_TEXT),
		.detail = ledger_col_str(res, LEDGER_COL_DETAIL),
	};
	return 0;
}
