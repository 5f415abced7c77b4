#pragma once
/* Loyalty points owed by paid orders (sql/028_points_later.sql) are posted here, in batches,
 * off the payments' own connections. */
void points_sweep_init(void *ctx);
