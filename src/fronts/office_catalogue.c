/* The Catalogue page's JSON (office.h): a CSV checked line by line by the same parser as
 * `spazactl catalog import` (catalog_import.c), every bad line with its reason, before anything
 * is imported. The import itself changes prices and stock, which the runtime role may not
 * (sql/006_roles.sql): the page shows the spazactl command that does it, as the owner.
 *
 *   GET  catalogue/products               the catalogue as it sells now: prices and stock
 *   POST catalogue/check {"csv": "..."}   rows, categories, and every problem as {line, reason}
 * The upload is bounded by `http max-body`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include "catalog_import.h"
#include "cfg.h"
#include "db.h"
#include "office.h"

/* "upload.csv:12: reason" lines, as the parser writes them, into {line, reason} objects */
static json_t *office_catalogue_problems(const char *text)
{
	json_t *a = json_array();
	static const char prefix[] = "upload.csv:";
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (!strncmp(p, prefix, strlen(prefix))) {
			char *end;
			long line = strtol(p + strlen(prefix), &end, 10);
			const char *reason = *end == ':' ? end + 1 : end;
			while (*reason == ' ')
				reason++;
			json_array_append_new(a, json_pack("{sI ss%}", "line", (json_int_t)line, "reason", reason,
							   n - (size_t)(reason - p)));
		} else if (n) {
			json_array_append_new(a, json_pack("{sI ss%}", "line", (json_int_t)0, "reason", p, n));
		}
		p = nl ? nl + 1 : NULL;
	}
	return a;
}

void office_catalogue_check(struct office_call *c)
{
	json_t *text = json_object_get(c->body, "csv");
	char *errs = NULL;
	size_t errs_len = 0;
	struct catalog_file *cf = NULL;
	const struct catalog_limits lim = { .name_max = g_cfg->name_max, .price_max_cents = g_cfg->price_max_cents };
	if (!json_is_string(text))
		return office_error(c->req, 400, "give {\"csv\": the file's text}");
	const char *csv = json_string_value(text);
	size_t len = json_string_length(text);
	FILE *fp = open_memstream(&errs, &errs_len);
	if (!fp)
		return office_error(c->req, 500, "out of memory");
	void *ctx = talloc_new(c->req);
	int rc = catalog_import_parse(ctx, "upload.csv", csv, len, &lim, fp, &cf);
	fclose(fp);
	json_t *problems = office_catalogue_problems(errs ? errs : "");
	free(errs);
	office_json(c->req, 200, json_pack("{sb si si so}", "ok", rc == 0, "rows", cf ? (int)cf->n_rows : 0,
					   "categories", cf ? (int)cf->n_categories : 0, "problems", problems));
	talloc_free(ctx);
}

static void office_products_done(void *priv, const PGresult *res, int err)
{
	struct office_call *c = priv;
	if (err)
		return office_error(c->req, 503, "the database is not answering: try again in a moment");
	json_t *a = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(a, json_pack("{ss sI ss sI sI}", "category", PQgetvalue(res, i, 1), "sku",
						   (json_int_t)strtoll(PQgetvalue(res, i, 3), NULL, 10), "name",
						   PQgetvalue(res, i, 6), "price_cents",
						   (json_int_t)strtoll(PQgetvalue(res, i, 4), NULL, 10), "stock",
						   (json_int_t)strtoll(PQgetvalue(res, i, 5), NULL, 10)));
	office_json(c->req, 200, json_pack("{so}", "products", a));
}

/* `spazactl catalog show`'s statement */
void office_catalogue_products(struct office_call *c)
{
	db_read(DB_CATALOG_SHOW, 0, NULL, office_products_done, c);
}
