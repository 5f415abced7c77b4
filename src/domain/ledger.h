#pragma once
/* The money room: the one way C code reaches the ledger's SQL functions (sql/002_ledger.sql),
 * for every door: USSD (payments.c, on spazad's pipeline), the till API (front_till.c, the same
 * pipeline) and spazactl (admin/ctl_*.c, synchronous).
 *
 * The contract, for every door:
 *   - A money statement is declared once, in db_stmts.def, and built here once: a ledger_*()
 *     builder writes its parameters into a struct ledger_stmt, which either executor runs
 *     unchanged: db_read()/db_write(st.stmt, st.nparams, st.params, ...) in spazad, or
 *     db_sync_stmt(conn, what, st.stmt, st.params, ...) outside the loop (spazactl's
 *     ctl_query()). Nothing else formats a money parameter; this room runs nothing itself, so
 *     it links into either program (and the fuzz harness) without a database layer.
 *   - Each statement is one SQL function call, idempotent by the key the caller passes, so a
 *     retried hop, a till's retry or a second `spazactl order cancel` moves money once. The
 *     caller chooses the key; this room never invents one.
 *   - Every statement that answers with an outcome answers in one shape (db_stmts.def says
 *     what each column holds for it), read by ledger_result() and nothing else; the outcome
 *     words are ledger_outcomes.def's, and a word not in it reads LEDGER_OUTCOME_UNKNOWN, which
 *     every door treats as a failure.
 *   - Strings in a result point into the PGresult: valid while it is. */
#include <stdint.h>
#include <libpq-fe.h>
#include "db_stmts.h"
#include "secrets.h"

enum ledger_outcome {
#define X(name, word) LEDGER_##name,
#include "ledger_outcomes.def"
#undef X
	LEDGER_OUTCOME_UNKNOWN,
};
const char *ledger_outcome_word(enum ledger_outcome o);	/* "unknown" for LEDGER_OUTCOME_UNKNOWN */
enum ledger_outcome ledger_outcome_parse(const char *word);

#define LEDGER_PARAMS_MAX 8
/* A number or the hex of a 32-byte hash, with its NUL. */
#define LEDGER_PARAM_LEN 65

/* A money statement with its parameters written out. Caller's strings are pointed to, not
 * copied: keep them until the statement is sent (db_read/db_write copy them). */
struct ledger_stmt {
	enum db_stmt stmt;
	int nparams;
	const char *params[LEDGER_PARAMS_MAX];
	char buf[LEDGER_PARAMS_MAX][LEDGER_PARAM_LEN];
	char macs[SECRETS_MACS_MAX * (2 * SECRETS_HMAC_LEN + 1) + 3];	/* a voucher PIN's HMACs, a text[] */
};

/* macs: HMAC-SHA256 of the PIN under each version of the secret "voucher-pin" */
void ledger_voucher_redeem(struct ledger_stmt *st, const char *idem_key, const struct secrets_macs *macs,
			   int64_t customer_id, int64_t order_id);
/* Repay what the customer owes on their credit line from a voucher (macs as for redeeming). */
void ledger_credit_repay(struct ledger_stmt *st, const char *idem_key, const struct secrets_macs *macs,
			 int64_t customer_id);
void ledger_credit_hold(struct ledger_stmt *st, const char *idem_key, int64_t customer_id, int64_t order_id);
void ledger_credit_post(struct ledger_stmt *st, int64_t order_id);
void ledger_credit_set_limit(struct ledger_stmt *st, int64_t customer_id, int64_t limit_cents);
void ledger_slip_create(struct ledger_stmt *st, const char *idem_key, int64_t order_id, unsigned receiver_id);
/* A till's payment: the same payment id is the same request when it names the same slip and
 * amount, however the till wrote its JSON, so the request hash covers those two only. */
void ledger_till_pay(struct ledger_stmt *st, const char *key_id, const char *payment_id, const char *ref,
		     int64_t amount_cents);
void ledger_till_reverse(struct ledger_stmt *st, const char *key_id, const char *payment_id, const char *ref);
void ledger_order_cancel(struct ledger_stmt *st, int64_t order_id, const char *idem_key);
/* Holds and slips past their expiry, resolved: the result's row is (holds, slips). */
void ledger_holds_expire(struct ledger_stmt *st);

/* A refund (sql/012): amount_cents 0 is everything refundable; to NULL where it came from,
 * "store_credit" or "voucher" (a cash payment as a new voucher: its PIN's HMAC under 'voucher-pin'
 * version key_version, and last4). */
struct ledger_refund {
	const char *idem_key;
	int64_t order_id;
	int64_t amount_cents;
	const char *to;
	const char *reason;
	const uint8_t *pin_hmac;	/* 32 bytes, or NULL */
	const char *last4;
	unsigned key_version;
};
void ledger_refund(struct ledger_stmt *st, const struct ledger_refund *rf);
void ledger_store_credit_pay(struct ledger_stmt *st, const char *idem_key, int64_t customer_id, int64_t order_id);
void ledger_points_pay(struct ledger_stmt *st, const char *idem_key, int64_t customer_id, int64_t order_id);
/* A slip for what the customer owes on their credit line, paid at any till. */
void ledger_repay_slip_create(struct ledger_stmt *st, const char *idem_key, int64_t customer_id, unsigned receiver_id);
void ledger_cod_choose(struct ledger_stmt *st, int64_t customer_id, int64_t order_id);
void ledger_cod_settle(struct ledger_stmt *st, int64_t order_id, const char *by);
/* A retailer's till confirms the cash of a cash-on-delivery order (sql/019): the same payment
 * id for the same order and amount is the same confirmation, answered with the first response. */
void ledger_till_cod_pay(struct ledger_stmt *st, const char *key_id, const char *payment_id, int64_t order_id,
			 int64_t amount_cents);
/* The back office's: a retailer user's (as its till, id "web-cod-<order>") or fulfilment's,
 * finance's or the owner's (the shop's own courier); session is office_staff's, the database
 * checks its role again. */
void ledger_staff_cod_settle(struct ledger_stmt *st, const char *session, int64_t order_id, int64_t amount_cents);
/* Refund one double charge the detector found (double_charge.h), once. */
void ledger_dc_refund(struct ledger_stmt *st, int64_t dc_id);

/* The one shape of an outcome row (see db_stmts.def for each statement's columns). */
struct ledger_result {
	enum ledger_outcome outcome;
	int64_t amount_cents;	/* paid, held, posted, due, refunded */
	int64_t balance_cents;	/* left on the voucher, credit available or in use */
	int64_t id;		/* the hold, the order */
	const char *text;	/* slip reference, a till's JSON response, where a refund went; or NULL */
	const char *detail;	/* slip expiry date, a refunded voucher's last 4 digits; or NULL */
};
/* -EIO unless res holds exactly one outcome row. */
int ledger_result(const PGresult *res, struct ledger_result *r);
