#pragma once
/* Failed voucher PINs, counted for the whole gateway. The database locks one customer out
 * after 5 failures in 24 hours; that does nothing against many numbers guessing together (200
 * PINs from 40 numbers in a fifth of a second all reached the vouchers). So every failure from
 * every number counts against one budget a minute (limits pin-failures-per-minute); past it,
 * voucher entry pauses for everyone for the cool-down (limits pin-cooldown), with an alarm
 * counter and an ERROR line. Failures are also counted per front end (stats.def) and per peer
 * (the aggregator's or smsbox's address, the bearerbox link), for `show stats`. */
#include <stdint.h>

void pin_budget_init(void *ctx);
/* Seconds left of a pause; 0: voucher entry is open. */
unsigned pin_budget_paused(void);
/* A PIN that passed its check digit and no voucher has, from front ("at", "kannel", "box")
 * through peer. */
void pin_budget_failed(const char *front, const char *peer);
/* The per-peer counts, most recent peers first; peers past PIN_BUDGET_PEERS share "other". */
#define PIN_BUDGET_PEERS 64
void pin_budget_foreach_peer(void (*cb)(const char *front, const char *peer, uint64_t failed, void *priv), void *priv);
