#pragma once
/* The double-charge detector (sql/012_money_care.sql). A deferred trigger notes, at the commit of
 * every payment, a payment that found its order already paid; this room is the sweep over what
 * was noted (nightly: `spazactl care double-charges`; for one customer: care's "charged twice"
 * ticket): it finds what the trigger may have missed, refunds each confirmed double charge
 * (the same order paid twice, a slip paid after another method) once through the ledger, with
 * the key spaza:dc:<duplicate payment>, and tells the customer by SMS (once, by the same key).
 * The same amount paid by two methods for two orders within minutes is only listed, for a person.
 *
 * Synchronous, on a db_sync connection of the owner role (spazactl, the back office): the
 * refund function is not the runtime role's. */
#include <stdbool.h>
#include <stdint.h>
#include <libpq-fe.h>

struct dc_found {
	int64_t id;
	char kind[32];		/* same_order | slip_after_other | same_amount_two_methods */
	char status[16];	/* found | refunded | for_a_person (after this run) */
	bool refunded_now;	/* this run refunded it */
	int64_t customer_id, order_id, dup_txn_id, amount_cents;
	char msisdn[17];
	char found_at[24];
	char refund_to[32];	/* where the refund went, when refunded */
};

struct dc_result {
	unsigned n;		/* found[]'s length: everything noted for the scope, confirmed first */
	unsigned confirmed;	/* same order paid twice (incl. slip after another method) */
	unsigned refunded_now;	/* refunded by this run */
	unsigned for_a_person;	/* ambiguous: listed only */
	struct dc_found *found;	/* talloc child of the ctx given */
};

/* The sweep: customer_id 0 is everyone, since NULL ever (else a time PostgreSQL reads, e.g.
 * "2026-12-01" or "now() - 1 day" is not: "yesterday" is); refund: refund the confirmed ones.
 * 0, or -EIO with err filled. */
int dc_sweep(void *ctx, PGconn *conn, int64_t customer_id, const char *since, bool refund, struct dc_result *out,
	     char *err, size_t errlen);
/* care's "charged twice" ticket: the sweep for one customer, refunding what is confirmed; out
 * says what was found (the ticket's evidence) and whether anything is left for a person. */
int dc_check_customer(void *ctx, PGconn *conn, int64_t customer_id, struct dc_result *out, char *err, size_t errlen);
/* A charged-twice ticket's check (sql/016_wiring.sql's spaza_dc_ticket, the room spazad's
 * care_dc.c calls too): the customer's sweep, confirmed double charges refunded once and the
 * customer told by SMS; *state is the ticket's after it (resolved: with the evidence; open: the
 * finding noted for a person; not_found: no charged-twice ticket), *note the finding (talloc
 * children of ctx). 0, or -EIO with err filled. */
int dc_ticket(void *ctx, PGconn *conn, int64_t ticket, char **state, char **note, char *err, size_t errlen);
