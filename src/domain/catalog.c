/* In-memory catalogue: categories and their products, looked up by id on every hop. */
#include <errno.h>
#include <stdlib.h>
#include <strings.h>
#include <talloc.h>
#include "catalog.h"

struct catalog *g_catalog;

struct catalog *catalog_alloc(void *ctx, unsigned n_categories, unsigned n_products)
{
	struct catalog *c = talloc_zero(ctx, struct catalog);
	c->n_categories = n_categories;
	c->categories = talloc_zero_array(c, struct catalog_category, n_categories ? n_categories : 1);
	c->n_products = n_products;
	c->products = talloc_zero_array(c, struct catalog_product, n_products ? n_products : 1);
	return c;
}

int catalog_link(struct catalog *c)
{
	for (unsigned i = 0; i < c->n_categories; i++) {
		struct catalog_category *cat = &c->categories[i];
		cat->n_products = 0;
		cat->products = talloc_zero_array(c, struct catalog_product *, c->n_products ? c->n_products : 1);
	}
	/* products[] arrives ordered by category and position, so appending keeps display order */
	for (unsigned i = 0; i < c->n_products; i++) {
		struct catalog_category *cat = (struct catalog_category *)catalog_category_by_id(c, c->products[i].category_id);
		if (!cat)
			return -EINVAL;
		cat->products[cat->n_products++] = &c->products[i];
	}
	return 0;
}

/* Catalogues are small (tens to a few hundred rows): a linear scan beats a hash here. */
const struct catalog_category *catalog_category_by_id(const struct catalog *c, int id)
{
	for (unsigned i = 0; c && i < c->n_categories; i++)
		if (c->categories[i].id == id)
			return &c->categories[i];
	return NULL;
}

const struct catalog_category *catalog_category_find(const struct catalog *c, const char *word)
{
	char *end;
	long id = strtol(word, &end, 10);
	if (*word && !*end)
		return catalog_category_by_id(c, (int)id);
	for (unsigned i = 0; c && i < c->n_categories; i++)
		if (!strcasecmp(c->categories[i].name, word))
			return &c->categories[i];
	return NULL;
}

const struct catalog_product *catalog_product_by_id(const struct catalog *c, int id)
{
	for (unsigned i = 0; c && i < c->n_products; i++)
		if (c->products[i].id == id)
			return &c->products[i];
	return NULL;
}
