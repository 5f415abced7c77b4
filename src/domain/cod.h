#pragma once
/* Cash on delivery as the people who hold the cash see it (sql/019_cod_confirm.sql): a
 * retailer looks an order up by its number before taking the cash, through the till API
 * (front_till.c, by key id) or the till page (office_till.c, by the user's retailer), and the
 * two read the one row shape here. The confirmation itself is money: ledger.h's
 * ledger_till_cod_pay() and ledger_staff_cod_settle(), over spaza__cod_confirm, the one body
 * `spazactl order cod-paid` runs too.
 *
 * What a retailer learns of an order is only what taking its cash needs: whether it is to be
 * paid cash on delivery, and only then its status and amount due, and whether this retailer
 * confirmed it. Order numbers are short and guessable where slip references are not, so
 * nothing of the customer is ever in the answer. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>
#include "ledger.h"

#define COD_ORDER_MAX 999999999999999LL	/* an order number a door takes: up to 15 digits */

struct cod_order {
	bool key_known;		/* the retailer is known (an active key, or the page's retailer) */
	bool found;		/* the order exists; the rest only then */
	int64_t order_id;
	bool cod;		/* the customer chose cash on delivery; the rest only then */
	const char *order_status;
	int64_t amount_cents;	/* still due: the total less store credit */
	bool payable;		/* cod and awaiting payment */
	bool confirmed;		/* its cash was confirmed (by anyone) */
	bool by_you;		/* ... by this retailer */
	const char *payment_id;	/* this retailer's id of the confirmation, or NULL */
	const char *confirmed_at;	/* UTC, ISO 8601, or NULL */
};

/* "1234" or "#1234" (a board's or an SMS's way of writing it), spaces around allowed: 0 and
 * the number, -EINVAL otherwise. */
int cod_order_parse(const char *in, size_t len, int64_t *order_id);
/* TILL_COD_LOOKUP by a till's key id; OFFICE_COD_LOOKUP by a retailer id. Strings are pointed
 * to: keep key_id until the statement is sent. */
void cod_lookup_by_key(struct ledger_stmt *st, const char *key_id, int64_t order_id);
void cod_lookup_by_retailer(struct ledger_stmt *st, int retailer_id, int64_t order_id);
/* -EIO unless res is one lookup row; strings point into res. */
int cod_read(const PGresult *res, struct cod_order *o);
