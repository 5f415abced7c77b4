#pragma once
#include <stdint.h>
/* Loyalty points (sql/018_profile_loyalty.sql): the database earns, reverses and expires them
 * in the ledger; spazad tells it the configured rules. */

/* Write the configured rules (loyalty points-per-rand, expiry-days) to the database; a
 * failure is logged and the rules the database has stay. */
void loyalty_init(void *ctx);

typedef void (*loyalty_points_cb)(void *priv, int64_t points, int err);
/* A customer's points; cb(priv, points, 0) or cb(priv, 0, -errno) once, after the database answered. */
void loyalty_points(int64_t customer_id, loyalty_points_cb cb, void *priv);

typedef void (*loyalty_referral_cb)(void *priv, const char *outcome, int err);
/* A customer enters a referral code (sql/018's spaza_referral_enter(), as spazactl referral
 * enter): cb(priv, outcome word, 0) once after commit, or cb(priv, "", -errno). */
void loyalty_referral_enter(int64_t customer_id, const char *code, loyalty_referral_cb cb, void *priv);
