#pragma once
/* The catalogue in memory: read on every hop, it never changes per hop, so spazad keeps it
 * here and swaps in a fresh copy when `spazactl catalog import` notifies a change. */
#include <stdint.h>
#include <stdbool.h>

struct catalog_product {
	int id;			/* the sku */
	int category_id;
	char *name;
	int64_t price_cents;
	int64_t stock;
};

struct catalog_category {
	int id;
	char *name;
	unsigned n_products;
	struct catalog_product **products;	/* in display order */
};

struct catalog {
	unsigned n_categories;
	struct catalog_category *categories;	/* in display order */
	unsigned n_products;
	struct catalog_product *products;
};

/* The catalogue sessions read; replaced as a whole (old one freed when no longer current). */
extern struct catalog *g_catalog;

struct catalog *catalog_alloc(void *ctx, unsigned n_categories, unsigned n_products);
/* After filling categories[] and products[] (any order), link products into their categories. */
int catalog_link(struct catalog *c);
const struct catalog_category *catalog_category_by_id(const struct catalog *c, int id);
const struct catalog_product *catalog_product_by_id(const struct catalog *c, int id);
/* A category by its number or its name (any case), as a shop owner writes it in a menu file. */
const struct catalog_category *catalog_category_find(const struct catalog *c, const char *word);
