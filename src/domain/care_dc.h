#pragma once
/* A "charged twice" ticket's double-charge check, in spazad (sql/016_wiring.sql's
 * spaza_dc_ticket): run once the ticket is open, asynchronously. Confirmed double charges of
 * the customer are refunded once through the ledger and the customer told by SMS; the ticket
 * is resolved with the evidence, or left open for a person with the finding noted.
 * spazactl's `care open` does the same on its own connection (double_charge.h's dc_ticket). */
#include <stdint.h>

void care_dc_init(void *ctx);
void care_dc_check(int64_t ticket);
