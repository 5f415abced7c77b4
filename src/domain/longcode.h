#pragma once
/* What the digits of a long code mean (doc/crm.md, "One dial string, three meanings"). A dial of
 * *120*777*<digits># is, in this order:
 *   1. the dial code of a campaign that has started (sql/015: running, paused or done): the home
 *      screen, the session counted for the campaign by its service code (campaign report);
 *   2. one of the caller's own orders: pay it;
 *   3. a referral code (sql/018): the caller enters it;
 *   4. anything else: pay, which says the order is not found.
 * 1 is answered from memory: the codes are read at start and again whenever a campaign starts or
 * its code changes (sql/026 notifies), so no dial asks the database for it. 2 and 3 cost one
 * statement, and it is the dial's customer lookup itself (crm_get_asking()). */
#include <stdbool.h>

struct customer;

void longcode_init(void *ctx);

/* Whether code, a service code as dialled ("*120*777*55#"), is a started campaign's dial code. */
bool longcode_campaign(const char *code);

/* cb(priv, customer, referral, 0): the caller's record, held for the caller as crm_get() holds
 * it, and whether the digits are a referral code to enter (3) rather than an order to pay (2, 4);
 * cb(priv, NULL, false, -errno) when the database failed. */
typedef void (*longcode_cb)(void *priv, struct customer *c, bool referral, int err);
/* Exactly one callback, after the database answered (never before this returns). */
void longcode_resolve(const char *msisdn, const char *digits, longcode_cb cb, void *priv);
