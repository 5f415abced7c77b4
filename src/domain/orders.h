#pragma once
/* Orders: created from a confirmed USSD screen (committed before the END screen is sent),
 * listed newest first, looked up by number for payment. The orders vocabulary (statuses, the
 * row a list carries) is the domain's: the menus and SMS texts render it, they do not own it. */
#include <stdbool.h>
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
	int64_t due_cents;	/* what is still due: total less store credit spent on it (orders_find) */
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

/* ---- the basket, an order's detail, cancel, reorder, expiry (sql/013_basket.sql) ---- */

#define ORDERS_LINES_MAX 20	/* lines of one order (order_items.line) */

/* A page of the customer's orders, newest first; more: older ones follow it. */
typedef void (*orders_page_cb)(void *priv, const struct orders_row *rows, unsigned n, bool more, int err);
void orders_page(int64_t customer_id, unsigned n, unsigned offset, orders_page_cb cb, void *priv);

enum orders_checkout_outcome {
	ORDERS_CHECKOUT_OK,
	ORDERS_CHECKOUT_OUT_OF_STOCK,	/* product_id: the first line that cannot be had */
	ORDERS_CHECKOUT_TOO_MANY,	/* the customer has the cap's number of unpaid orders */
	ORDERS_CHECKOUT_INVALID,	/* an empty or malformed basket */
};
struct orders_checkout_result {
	enum orders_checkout_outcome outcome;
	int64_t id, total_cents;
	int product_id;
};
/* err -EEXIST: the key names another customer's order. */
typedef void (*orders_checkout_cb)(void *priv, const struct orders_checkout_result *r, int err);
/* One order of the lines (product_id, qty of each row), stock taken for all or none; a
 * replayed key returns the first order. cap: the most unpaid orders a customer may hold (0: no cap). */
void orders_checkout(int64_t customer_id, const char *idem_key, const struct orders_row *lines, unsigned n,
		     const char *address, const char *note, unsigned cap, orders_checkout_cb cb, void *priv);

/* The address and instructions of the customer's last order that had one; found false: none. */
typedef void (*orders_address_cb)(void *priv, bool found, const char *address, const char *note, int err);
void orders_last_address(int64_t customer_id, orders_address_cb cb, void *priv);

struct orders_detail {
	int64_t id, total_cents;
	int status;		/* enum order_status */
	const char *method;	/* orders.payment_method, "" if unpaid */
	const char *slip;	/* the open slip's reference, "" if none */
	const char *slip_expiry;	/* its last day, YYYY-MM-DD */
	const char *items;	/* "2x Bread, 1x Milk" */
	const char *history;	/* "status|MM-DD HH:MI;..." oldest first, the latest four */
};
/* found false: no such order of this customer. */
typedef void (*orders_detail_cb)(void *priv, bool found, const struct orders_detail *d, int err);
void orders_detail(int64_t order_id, int64_t customer_id, orders_detail_cb cb, void *priv);

/* cancelled: the order is cancelled now (or already was); otherwise status says what it is
 * (-1: not this customer's order). */
typedef void (*orders_cancel_cb)(void *priv, bool cancelled, int status, int err);
void orders_cancel_unpaid(int64_t order_id, int64_t customer_id, orders_cancel_cb cb, void *priv);

/* The lines of one of the customer's orders: rows with product_id and qty. */
typedef void (*orders_lines_cb)(void *priv, const struct orders_row *rows, unsigned n, int err);
void orders_lines(int64_t order_id, int64_t customer_id, orders_lines_cb cb, void *priv);

/* Expire up to batch unpaid orders older than age_s seconds; n: how many expired. */
typedef void (*orders_expire_cb)(void *priv, unsigned n, int err);
void orders_expire(unsigned age_s, unsigned batch, orders_expire_cb cb, void *priv);
