#pragma once
/* Orders: created from a confirmed USSD screen (committed before the END screen is sent),
 * listed newest first, looked up by number for payment. */
#include <stdint.h>
#include "menu.h"

/* id 0 means the product is out of stock (or gone); err != 0 means the database failed. */
typedef void (*orders_create_cb)(void *priv, int64_t id, int64_t total_cents, int err);
typedef void (*orders_list_cb)(void *priv, const struct menu_order_row *rows, unsigned n, int err);

void orders_init(void *ctx);
/* The idempotency key names the session and the input that confirmed: a replayed hop
 * returns the order created the first time. */
void orders_create(int64_t customer_id, int product_id, int qty, const char *idem_key, orders_create_cb cb, void *priv);
void orders_latest(int64_t customer_id, unsigned n, orders_list_cb cb, void *priv);
/* n is 0 (not found / not the customer's) or 1. */
void orders_find(int64_t order_id, int64_t customer_id, orders_list_cb cb, void *priv);
