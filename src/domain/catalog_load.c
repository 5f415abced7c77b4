/* The daemon's side of the catalogue: read categories and products without blocking the
 * loop, build a fresh struct catalog, swap it in. Sessions hold only ids, never pointers
 * into the catalogue, so the old one can go at once. */
#include <stdlib.h>
#include <talloc.h>
#include "catalog.h"
#include "catalog_load.h"
#include "db.h"
#include "logging.h"

static struct {
	void *ctx;
	struct catalog *building;
	bool loaded;
} g;

static void products_cb(void *priv, const PGresult *res, int err)
{
	struct catalog *c = g.building;
	g.building = NULL;
	if (err || !c) {
		LOGP(DCAT, LOGL_ERROR, "catalogue load failed (%d); keeping the previous one\n", err);
		talloc_free(c);
		return;
	}
	/* categories arrived first (same pipeline); now size the products */
	struct catalog *full = catalog_alloc(g.ctx, c->n_categories, PQntuples(res));
	for (unsigned i = 0; i < c->n_categories; i++) {
		full->categories[i].id = c->categories[i].id;
		full->categories[i].name = talloc_strdup(full, c->categories[i].name);
	}
	talloc_free(c);
	for (unsigned i = 0; i < full->n_products; i++) {
		struct catalog_product *p = &full->products[i];
		p->id = atoi(PQgetvalue(res, i, 0));
		p->category_id = atoi(PQgetvalue(res, i, 1));
		p->name = talloc_strdup(full, PQgetvalue(res, i, 3));
		p->price_cents = strtoll(PQgetvalue(res, i, 4), NULL, 10);
		p->stock = strtoll(PQgetvalue(res, i, 5), NULL, 10);
	}
	if (catalog_link(full) < 0) {
		LOGP(DCAT, LOGL_ERROR, "catalogue has products in unknown categories; keeping the previous one\n");
		talloc_free(full);
		return;
	}
	talloc_free(g_catalog);
	g_catalog = full;
	g.loaded = true;
	LOGP(DCAT, LOGL_NOTICE, "catalogue loaded: %u categories, %u products\n", full->n_categories, full->n_products);
}

static void categories_cb(void *priv, const PGresult *res, int err)
{
	if (err) {
		g.building = NULL;
		return;
	}
	struct catalog *c = catalog_alloc(g.ctx, PQntuples(res), 0);
	for (unsigned i = 0; i < c->n_categories; i++) {
		c->categories[i].id = atoi(PQgetvalue(res, i, 0));
		c->categories[i].name = talloc_strdup(c, PQgetvalue(res, i, 1));
	}
	talloc_free(g.building);
	g.building = c;
}

static void catalog_changed(void *priv)
{
	db_read(DB_CATEGORIES_ALL, 0, NULL, categories_cb, NULL);
	db_read(DB_PRODUCTS_ALL, 0, NULL, products_cb, NULL);
}

void catalog_load_init(void *ctx)
{
	g.ctx = talloc_named_const(ctx, 0, "catalog");
	db_listen("spaza_catalog", catalog_changed, NULL);
}

bool catalog_loaded(void)
{
	return g.loaded;
}
