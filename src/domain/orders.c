/* Orders over the asynchronous database: each call is one prepared statement. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	orders_page_cb page_cb;
	orders_checkout_cb checkout_cb;
	orders_address_cb address_cb;
	orders_detail_cb detail_cb;
	orders_cancel_cb cancel_cb;
	orders_expire_cb expire_cb;
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
			rows[n].due_cents = PQnfields(res) > 5 ? strtoll(PQgetvalue(res, i, 5), NULL, 10)
							       : rows[n].total_cents;
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

static void db_failed(const char *what, int err)
{
	STAT_INC(DB_ERRORS);
	LOGP(DCAT, LOGL_ERROR, "%s failed (%d)\n", what, err);
}

static void row_read(const PGresult *res, int i, struct orders_row *row)
{
	row->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	row->product_id = atoi(PQgetvalue(res, i, 1));
	row->qty = atoi(PQgetvalue(res, i, 2));
	row->total_cents = strtoll(PQgetvalue(res, i, 3), NULL, 10);
	row->status = order_status_index(PQgetvalue(res, i, 4));
}

static void page_done(void *priv, const PGresult *res, int err)
{
	struct orders_call *c = priv;
	struct orders_row rows[ORDERS_MAX_ROWS];
	unsigned n = 0;
	bool more = false;
	if (err)
		db_failed("order page", err);
	else {
		for (int i = 0; i < PQntuples(res) && n < ORDERS_MAX_ROWS; i++, n++)
			row_read(res, i, &rows[n]);
		/* the window count is every order of the customer; the offset rides in key */
		more = n && strtoull(PQgetvalue(res, 0, 5), NULL, 10) > strtoull(c->key, NULL, 10) + n;
	}
	c->page_cb(c->priv, rows, n, more, err);
	talloc_free(c);
}

void orders_page(int64_t customer_id, unsigned n, unsigned offset, orders_page_cb cb, void *priv)
{
	struct orders_call *c = call_new(priv);
	char cust[24], lim[8];
	snprintf(cust, sizeof(cust), "%" PRId64, customer_id);
	snprintf(lim, sizeof(lim), "%u", n > ORDERS_MAX_ROWS ? ORDERS_MAX_ROWS : n);
	c->key = talloc_asprintf(c, "%u", offset);
	const char *params[3] = { cust, lim, c->key };
	c->page_cb = cb;
	db_read(DB_ORDERS_PAGE, 3, params, page_done, c);
}

static const char *const checkout_words[] = {
	[ORDERS_CHECKOUT_OK] = "ok", [ORDERS_CHECKOUT_OUT_OF_STOCK] = "out_of_stock",
	[ORDERS_CHECKOUT_TOO_MANY] = "too_many", [ORDERS_CHECKOUT_INVALID] = "invalid",
};

static void checkout_done(void *priv, const PGresult *res, int err)
{
	struct orders_call *c = priv;
	struct orders_checkout_result r = { .outcome = ORDERS_CHECKOUT_INVALID };
	if (err) {
		db_failed("checkout", err);
	} else if (PQntuples(res) != 1) {
		err = -EIO;
	} else if (!strcmp(PQgetvalue(res, 0, 0), "conflict")) {
		STAT_INC(KEY_CONFLICTS);
		LOGP(DCAT, LOGL_ERROR, "checkout key %s names another customer's order: refused\n", c->key);
		err = -EEXIST;
	} else {
		unsigned i;
		for (i = 0; i < sizeof(checkout_words) / sizeof(checkout_words[0]); i++)
			if (!strcmp(PQgetvalue(res, 0, 0), checkout_words[i]))
				break;
		if (i == sizeof(checkout_words) / sizeof(checkout_words[0])) {
			LOGP(DCAT, LOGL_ERROR, "checkout answered \"%s\"\n", PQgetvalue(res, 0, 0));
			err = -EIO;
		} else {
			r.outcome = i;
			r.id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
			r.total_cents = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
			r.product_id = atoi(PQgetvalue(res, 0, 3));
			if (r.outcome == ORDERS_CHECKOUT_OK)
				STAT_INC(ORDERS_CREATED);
		}
	}
	c->checkout_cb(c->priv, &r, err);
	talloc_free(c);
}

void orders_checkout(int64_t customer_id, const char *idem_key, const struct orders_row *lines, unsigned n,
		     const char *address, const char *note, unsigned cap, orders_checkout_cb cb, void *priv)
{
	struct orders_call *c = call_new(priv);
	char cust[24], capb[16];
	char *prods = talloc_strdup(c, "{"), *qtys = talloc_strdup(c, "{");
	for (unsigned i = 0; i < n; i++) {
		prods = talloc_asprintf_append(prods, "%s%d", i ? "," : "", lines[i].product_id);
		qtys = talloc_asprintf_append(qtys, "%s%d", i ? "," : "", lines[i].qty);
	}
	prods = talloc_strdup_append(prods, "}");
	qtys = talloc_strdup_append(qtys, "}");
	snprintf(cust, sizeof(cust), "%" PRId64, customer_id);
	snprintf(capb, sizeof(capb), "%u", cap);
	const char *params[7] = { cust, idem_key, prods, qtys, address && *address ? address : NULL,
				  note && *note ? note : NULL, capb };
	c->checkout_cb = cb;
	c->key = talloc_strdup(c, idem_key);
	db_write(DB_BASKET_CHECKOUT, 7, params, checkout_done, c);
}

static void address_done(void *priv, const PGresult *res, int err)
{
	struct orders_call *c = priv;
	bool found = !err && PQntuples(res) == 1;
	if (err)
		db_failed("last address", err);
	c->address_cb(c->priv, found, found ? PQgetvalue(res, 0, 0) : "", found ? PQgetvalue(res, 0, 1) : "", err);
	talloc_free(c);
}

void orders_last_address(int64_t customer_id, orders_address_cb cb, void *priv)
{
	struct orders_call *c = call_new(priv);
	char cust[24];
	snprintf(cust, sizeof(cust), "%" PRId64, customer_id);
	const char *params[1] = { cust };
	c->address_cb = cb;
	db_read(DB_ORDER_LAST_ADDRESS, 1, params, address_done, c);
}

static void detail_done(void *priv, const PGresult *res, int err)
{
	struct orders_call *c = priv;
	struct orders_detail d = { 0 };
	bool found = !err && PQntuples(res) == 1;
	if (err)
		db_failed("order detail", err);
	if (found) {
		d.id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		d.total_cents = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		d.status = order_status_index(PQgetvalue(res, 0, 2));
		d.method = PQgetvalue(res, 0, 3);
		d.slip = PQgetvalue(res, 0, 4);
		d.slip_expiry = PQgetvalue(res, 0, 5);
		d.items = PQgetvalue(res, 0, 6);
		d.history = PQgetvalue(res, 0, 7);
	}
	c->detail_cb(c->priv, found, &d, err);
	talloc_free(c);
}

static const char **id_params(struct orders_call *c, int64_t order_id, int64_t customer_id)
{
	const char **params = talloc_array(c, const char *, 2);
	params[0] = talloc_asprintf(c, "%" PRId64, order_id);
	params[1] = talloc_asprintf(c, "%" PRId64, customer_id);
	return params;
}

void orders_detail(int64_t order_id, int64_t customer_id, orders_detail_cb cb, void *priv)
{
	struct orders_call *c = call_new(priv);
	c->detail_cb = cb;
	db_read(DB_ORDER_DETAIL, 2, id_params(c, order_id, customer_id), detail_done, c);
}

static void cancel_done(void *priv, const PGresult *res, int err)
{
	struct orders_call *c = priv;
	bool cancelled = false;
	int status = -1;
	if (err) {
		db_failed("order cancel", err);
	} else if (PQntuples(res) == 1) {
		cancelled = !strcmp(PQgetvalue(res, 0, 0), "cancelled");
		status = PQgetisnull(res, 0, 1) ? -1 : order_status_index(PQgetvalue(res, 0, 1));
	}
	c->cancel_cb(c->priv, cancelled, status, err);
	talloc_free(c);
}

void orders_cancel_unpaid(int64_t order_id, int64_t customer_id, orders_cancel_cb cb, void *priv)
{
	struct orders_call *c = call_new(priv);
	c->cancel_cb = cb;
	db_write(DB_ORDER_CANCEL_UNPAID, 2, id_params(c, order_id, customer_id), cancel_done, c);
}

static void lines_done(void *priv, const PGresult *res, int err)
{
	struct orders_call *c = priv;
	struct orders_row rows[ORDERS_LINES_MAX] = { 0 };
	unsigned n = 0;
	if (err)
		db_failed("order lines", err);
	else
		for (int i = 0; i < PQntuples(res) && n < ORDERS_LINES_MAX; i++, n++) {
			rows[n].product_id = atoi(PQgetvalue(res, i, 0));
			rows[n].qty = atoi(PQgetvalue(res, i, 1));
			rows[n].status = -1;
		}
	c->list_cb(c->priv, rows, n, err);
	talloc_free(c);
}

void orders_lines(int64_t order_id, int64_t customer_id, orders_lines_cb cb, void *priv)
{
	struct orders_call *c = call_new(priv);
	c->list_cb = cb;
	db_read(DB_ORDER_LINES, 2, id_params(c, order_id, customer_id), lines_done, c);
}

static void expire_done(void *priv, const PGresult *res, int err)
{
	struct orders_call *c = priv;
	unsigned n = 0;
	if (err)
		db_failed("order expiry", err);
	else if (PQntuples(res) == 1)
		n = strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	c->expire_cb(c->priv, n, err);
	talloc_free(c);
}

void orders_expire(unsigned age_s, unsigned batch, orders_expire_cb cb, void *priv)
{
	struct orders_call *c = call_new(priv);
	char age[16], lim[16];
	snprintf(age, sizeof(age), "%u", age_s);
	snprintf(lim, sizeof(lim), "%u", batch);
	const char *params[2] = { age, lim };
	c->expire_cb = cb;
	db_write(DB_ORDERS_EXPIRE, 2, params, expire_done, c);
}
