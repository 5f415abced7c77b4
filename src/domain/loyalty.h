#pragma once
/* Loyalty points (sql/018_profile_loyalty.sql): the database earns, reverses and expires them
 * in the ledger; spazad tells it the configured rules. */

/* Write the configured rules (loyalty points-per-rand, expiry-days) to the database; a
 * failure is logged and the rules the database has stay. */
void loyalty_init(void);
