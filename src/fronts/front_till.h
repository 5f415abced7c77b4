#pragma once
/* The retailer till API over HTTP: signed JSON requests to look slips up, confirm cash
 * payments against them, reverse those payments and fetch printable slip images.
 * doc/retailer-api.md is the reference. */

void front_till_init(void *ctx);
/* Before http_close(): requests still waiting on the database get a 503 and are forgotten
 * (a payment already sent to the database still commits; the till's timeout rules cover it). */
void front_till_close(void);
