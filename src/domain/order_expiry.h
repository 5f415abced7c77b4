#pragma once
/* The sweep that expires unpaid orders (sql/013_basket.sql's spaza_orders_expire) from the
 * daemon's loop: a batch at a time, each an ordinary asynchronous write, so the loop never
 * waits on it. `order unpaid-expiry 0` stops it; spazactl order expire runs one by hand. */

void order_expiry_init(void *ctx);
