#pragma once
/* Paying orders from a USSD session: each call is one SQL function (sql/002_ledger.sql) run in
 * the database's write batch, idempotent by key, so a replayed hop or a retry pays once. */
#include <stdint.h>
#include "ledger.h"
struct secrets_macs;

struct payments_result {
	enum ledger_outcome outcome;	/* the SQL function's answer (ledger_outcomes.def) */
	int64_t amount_cents;		/* paid / held / due */
	int64_t remainder_cents;	/* voucher: left on it; credit: available after */
	const char *slip;		/* slip reference (digits) */
	const char *expiry;		/* slip expiry, YYYY-MM-DD */
};
typedef void (*payments_cb)(void *priv, const struct payments_result *r, int err);

void payments_init(void *ctx);
/* macs: HMAC-SHA256 of the PIN under each version of the secret "voucher-pin" (the PIN itself
 * never leaves spazad) */
void payments_voucher(const char *idem_key, const struct secrets_macs *macs, int64_t customer_id, int64_t order_id,
		      payments_cb cb, void *priv);
/* Hold the amount on the credit line, then post it (the shop accepts credit orders at once);
 * a crash between the two leaves a hold that expiry resolves. */
void payments_credit(const char *idem_key, int64_t customer_id, int64_t order_id, payments_cb cb, void *priv);
void payments_slip(const char *idem_key, int64_t order_id, unsigned receiver_id, payments_cb cb, void *priv);
/* Spend store credit on the order: paid, or partial (amount_cents spent, remainder_cents still due). */
void payments_store_credit(const char *idem_key, int64_t customer_id, int64_t order_id, payments_cb cb, void *priv);
/* Spend loyalty points on the order (sql/021, 1 point = 1 cent): as payments_store_credit(). */
void payments_points(const char *idem_key, int64_t customer_id, int64_t order_id, payments_cb cb, void *priv);
/* A slip to repay the credit line at a till (created: amount_cents owed, slip, expiry). */
void payments_repay_slip(const char *idem_key, int64_t customer_id, unsigned receiver_id, payments_cb cb, void *priv);
/* The customer pays cash on delivery (ok, amount_cents due then); the cash is settled by staff. */
void payments_cod(int64_t customer_id, int64_t order_id, payments_cb cb, void *priv);
/* Repay credit from a voucher: repaid (amount_cents), remainder_cents left on the voucher,
 * expiry: what is still owed, in cents as text. */
void payments_repay(const char *idem_key, const struct secrets_macs *macs, int64_t customer_id, payments_cb cb,
		    void *priv);

/* A customer's credit line and store credit (My account, the credit confirm screen). */
struct payments_balance {
	int64_t limit_cents, used_cents, owed_cents, available_cents, store_cents;
	int64_t due_cents;	/* with an order: what is still due on it (0: not theirs) */
};
typedef void (*payments_balance_cb)(void *priv, const struct payments_balance *b, int err);
/* order_id 0: the line alone; else also what is due on that order of theirs */
void payments_balance(int64_t customer_id, int64_t order_id, payments_balance_cb cb, void *priv);
/* The slip number (grouped in fours) and its pay-by date by SMS, in the customer's language
 * (lang: their code), once per slip and date; queued on the pipeline, never waited for.
 * order_id 0: a slip that repays the credit line. */
void payments_slip_sms(int64_t customer_id, const char *lang, int64_t order_id, int64_t amount_cents,
		       const char *slip_grouped, const char *expiry);
