#pragma once
/* Orders: created from a confirmed USSD screen (committed before the END screen is sent),
 * listed newest first, looked up by number for payment. The orders vocabulary (statuses, the
 * row a list carries) is the domain's: the menus and SMS texts render it, they do not own it. */
#include <stdint.h>

enum order_status {
#define ORDER_STATUS(e, word) ORDER_STATUS_##e,
#include "order_status.def"
#undef ORDER_STATUS
	_ORDER_STATUS_COUNT
};
/* The words as stored, by enum order_status (order_status.c). */
extern const char *const order_status_names[_ORDER_STATUS_COUNT];
/* enum order_status of a stored word, -1 if it is none. */
int order_status_index(const char *word);

#define ORDERS_MAX_ROWS 3	/* rows an orders list carries: every byte here is per live session */

struct orders_row {
	int64_t id;
	int product_id;
	int qty;
	int64_t total_cents;
	int status;	/* enum order_status, -1: unknown */
};

/* id 0 means the product is out of stock (or gone); err != 0 means the database failed, and
 * -EEXIST that the key names another request's order (counted in dialogues:key-conflicts). */
typedef void (*orders_create_cb)(void *priv, int64_t id, int64_t total_cents, int err);
typedef void (*orders_list_cb)(void *priv, const struct orders_row *rows, unsigned n, int err);

void orders_init(void *ctx);
/* The idempotency key names the session and the input that confirmed: a replayed hop
 * returns the order created the first time. */
void orders_create(int64_t customer_id, int product_id, int qty, const char *idem_key, orders_create_cb cb, void *priv);
void orders_latest(int64_t customer_id, unsigned n, orders_list_cb cb, void *priv);
/* n is 0 (not found / not the customer's) or 1. */
void orders_find(int64_t order_id, int64_t customer_id, orders_list_cb cb, void *priv);
