#pragma once
/* A payment slip: a 15-digit EasyPay-style reference (easypay.c) a customer takes to any till
 * to pay an order in cash, for the amount due, until it expires. The ledger makes slips
 * (spaza_slip_create, through payments.c) and takes payments on them (front_till.c, through
 * ledger.h); this is what a slip is to the doors that show it: the till API and spazactl.
 * Both look one up with the same statement and read it with slip_read(). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>
#include "barcode.h"
#include "easypay.h"
#include "ledger.h"

enum slip_status {
	SLIP_OPEN,
	SLIP_PAID,
	SLIP_VOIDED,	/* its order was cancelled or paid another way */
	SLIP_EXPIRED,	/* past its expiry: paying again on USSD makes a new one */
};

/* The strings point into the lookup's PGresult. */
struct slip {
	bool key_known;		/* the till's key id is active (false when looked up without one) */
	bool found;		/* there is a slip with this reference; the rest is only set then */
	const char *ref;
	enum slip_status status;
	const char *status_word;
	int64_t amount_cents;
	const char *expires_at;	/* UTC, ISO 8601, as the API gives it */
	const char *expires;	/* YYYY-MM-DD, as the slip prints it */
	int64_t order_id;
	const char *order_status;
	const char *payment_id;	/* the payment in force, or NULL */
	bool paid_by_key;	/* ... and it is the key's retailer's */
};

/* A reference as people and scanners give it: 15 digits, spaces between them allowed (the
 * grouped form), or the 16 digits an ITF scan gives ("0" + the reference). 0, -EBADMSG (a
 * wrong check digit: a typing mistake) or -EINVAL (not a reference). */
int slip_ref_parse(const char *in, size_t len, char out[EASYPAY_REF_BUF]);

/* The statement that looks a slip up, with a till's key id (NULL: none) for whose payment it is. */
void slip_lookup(struct ledger_stmt *st, const char *key_id, const char *ref);
/* -EIO when res is not the lookup's row. */
int slip_read(const PGresult *res, struct slip *s);

/* No till takes it: expired or void. */
bool slip_gone(const struct slip *s);
/* A till may take a payment on it now. */
bool slip_payable(const struct slip *s);

/* The slip as printed (barcode.c): PDF, PNG or SVG, *out a talloc child of ctx. */
int slip_render(void *ctx, const struct slip *s, enum barcode_out fmt, uint8_t **out, size_t *len);
