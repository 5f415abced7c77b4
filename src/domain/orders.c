/* Orders over the asynchronous database: each call is one prepared statement. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <talloc.h>
#include "orders.h"
#include "db.h"
#include "logging.h"
#include "stats.h"

static void *orders_ctx;

void orders_init(void *ctx)
{
	orders_ctx = talloc_named_const(ctx, 0, "orders");
}

struct orders_call {
	void *priv;
	char *key;		/* create: its idempotency key, for the log */
	orders_create_cb create_cb;
	orders_list_cb list_cb;
};

static struct orders_call *call_new(void *priv)
{
	struct orders_call *c = talloc_zero(orders_ctx, struct orders_call);
	c->priv = priv;
	return c;
}

static void create_done(void *priv, const PGresult *res, int err)
{
	struct orders_call *c = priv;
	int64_t id = 0, total = 0;
	if (err) {
		STAT_INC(DB_ERRORS);
		LOGP(DCAT, LOGL_ERROR, "order create failed (%d)\n", err);
	} else if (PQntuples(res) == 1 && PQgetvalue(res, 0, 2)[0] == 't') {
		/* the key's order is not this request's: giving its number back would show the
		 * customer an order they never placed */
		STAT_INC(KEY_CONFLICTS);
		LOGP(DCAT, LOGL_ERROR, "order key %s names order %s of another request: refused\n", c->key,
		     PQgetvalue(res, 0, 0));
		err = -EEXIST;
	} else if (PQntuples(res) == 1) {
		id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		total = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		STAT_INC(ORDERS_CREATED);
	}
	c->create_cb(c->priv, id, total, err);
	talloc_free(c);
}

void orders_create(int64_t customer_id, int product_id, int qty, const char *idem_key, orders_create_cb cb, void *priv)
{
	struct orders_call *c = call_new(priv);
	char cust[24], prod[16], q[16];
	snprintf(cust, sizeof(cust), "%" PRId64, customer_id);
	snprintf(prod, sizeof(prod), "%d", product_id);
	snprintf(q, sizeof(q), "%d", qty);
	const char *params[4] = { cust, prod, q, idem_key };
	c->create_cb = cb;
	c->key = talloc_strdup(c, idem_key);
	db_write(DB_ORDER_CREATE, 4, params, create_done, c);
}

/* Rows of (id, product_id, qty, total_cents, status). */
static void list_done(void *priv, const PGresult *res, int err)
{
	struct orders_call *c = priv;
	struct orders_row rows[ORDERS_MAX_ROWS];
	unsigned n = 0;
	if (err) {
		STAT_INC(DB_ERRORS);
		LOGP(DCAT, LOGL_ERROR, "order query failed (%d)\n", err);
	} else {
		for (int i = 0; i < PQntuples(res) && n < ORDERS_MAX_ROWS; i++, n++) {
			rows[n].id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
			rows[n].product_id = atoi(PQgetvalue(res, i, 1));
			rows[n].qty = atoi(PQgetvalue(res, i, 2));
			rows[n].total_cents = strtoll(PQgetvalue(res, i, 3), NULL, 10);
			rows[n].status = order_status_index(PQgetvalue(res, i, 4));
		}
	}
	c->list_cb(c->priv, rows, n, err);
	talloc_free(c);
}

void orders_latest(int64_t customer_id, unsigned n, orders_list_cb cb, void *priv)
{
	struct orders_call *c = call_new(priv);
	char cust[24], lim[8];
	snprintf(cust, sizeof(cust), "%" PRId64, customer_id);
	snprintf(lim, sizeof(lim), "%u", n > ORDERS_MAX_ROWS ? ORDERS_MAX_ROWS : n);
	const char *params[2] = { cust, lim };
	c->list_cb = cb;
	db_read(DB_ORDERS_LATEST, 2, params, list_done, c);
}

void orders_find(int64_t order_id, int64_t customer_id, orders_list_cb cb, void *priv)
{
	struct orders_call *c = call_new(priv);
	char id[24], cust[24];
	snprintf(id, sizeof(id), "%" PRId64, order_id);
	snprintf(cust, sizeof(cust), "%" PRId64, customer_id);
	const char *params[2] = { id, cust };
	c->list_cb = cb;
	db_read(DB_ORDER_GET, 2, params, list_done, c);
}
