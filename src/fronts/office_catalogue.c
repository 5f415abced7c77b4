/* The Catalogue page's JSON (office.h): a CSV checked line by line by the same parser as
 * `spazactl catalog import` (catalog_import.c), every bad line with its reason, before anything
 * is imported; then the import of exactly the file that was checked, and a product's price and
 * stock. Both change what the runtime role may not (sql/006_roles.sql), so both go through
 * doors that check the owner's live session again in the database (sql/020_office_search.sql);
 * the import is spaza_catalog_import(), the very function spazactl's import runs.
 *
 *   GET  catalogue/products               the catalogue as it sells now: prices and stock
 *   POST catalogue/check {"csv": "..."}   rows, categories, every problem as {line, reason}, and
 *                                         the file's SHA-256 ("digest")
 *   POST catalogue/import {"csv", "digest"}  the same file again, refused unless it is clean and
 *                                         its digest is the checked one -> products, categories, retired
 *   POST catalogue/product {"sku", "price_cents", "stock"}  either or both (null keeps)
 * The upload is bounded by `http max-body`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <openssl/sha.h>
#include <inttypes.h>
#include "catalog_import.h"
#include "cfg.h"
#include "db.h"
#include "money.h"
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

/* The file's SHA-256 in hex: the check hands it to the page, the import wants it back, so what
 * is imported is byte for byte the file that was checked. */
static void office_catalogue_digest(const char *csv, size_t len, char hex[2 * SHA256_DIGEST_LENGTH + 1])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)csv, len, md);
	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* The body's CSV through the importer's parser. Returns the parser's result (0: clean, with
 * *cf a child of ctx), or -EINVAL with the problems in *problems; -ENOMEM. */
static int office_catalogue_parse(struct office_call *c, void *ctx, struct catalog_file **cf, json_t **problems,
				  char digest[2 * SHA256_DIGEST_LENGTH + 1])
{
	json_t *text = json_object_get(c->body, "csv");
	char *errs = NULL;
	size_t errs_len = 0;
	const struct catalog_limits lim = { .name_max = g_cfg->name_max, .price_max_cents = g_cfg->price_max_cents };
	const char *csv = json_string_value(text);
	size_t len = json_string_length(text);
	FILE *fp = open_memstream(&errs, &errs_len);
	if (!fp)
		return -ENOMEM;
	*cf = NULL;
	int rc = catalog_import_parse(ctx, "upload.csv", csv, len, &lim, fp, cf);
	fclose(fp);
	*problems = office_catalogue_problems(errs ? errs : "");
	free(errs);
	office_catalogue_digest(csv, len, digest);
	return rc;
}

void office_catalogue_check(struct office_call *c)
{
	struct catalog_file *cf;
	json_t *problems;
	char digest[2 * SHA256_DIGEST_LENGTH + 1];
	if (!json_is_string(json_object_get(c->body, "csv")))
		return office_error(c->req, 400, "give {\"csv\": the file's text}");
	void *ctx = talloc_new(c->req);
	int rc = office_catalogue_parse(c, ctx, &cf, &problems, digest);
	if (rc == -ENOMEM) {
		talloc_free(ctx);
		return office_error(c->req, 500, "out of memory");
	}
	office_json(c->req, 200, json_pack("{sb si si so ss}", "ok", rc == 0, "rows", cf ? (int)cf->n_rows : 0,
					   "categories", cf ? (int)cf->n_categories : 0, "problems", problems,
					   "digest", digest));
	talloc_free(ctx);
}

struct office_import {
	struct office_call *c;
	char digest[2 * SHA256_DIGEST_LENGTH + 1];
};

static void office_catalogue_imported(void *priv, const PGresult *res, int err)
{
	struct office_import *im = priv;
	char after[160];
	if (err)
		return office_error(im->c->req, 503, "the database did not take the import: nothing was imported");
	if (PQntuples(res) != 1)	/* the database's own check of the session and role */
		return office_error(im->c->req, 403, "your role may not import the catalogue");
	snprintf(after, sizeof(after), "{\"products\": %s, \"categories\": %s, \"retired\": %s, \"sha256\": \"%s\"}",
		 PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), im->digest);
	office_audit(&im->c->who, "catalog import upload.csv", "catalogue", true, NULL, after);
	office_json(im->c->req, 200, json_pack("{sI sI sI}", "products", (json_int_t)strtoll(PQgetvalue(res, 0, 0), NULL, 10),
					       "categories", (json_int_t)strtoll(PQgetvalue(res, 0, 1), NULL, 10),
					       "retired", (json_int_t)strtoll(PQgetvalue(res, 0, 2), NULL, 10)));
}

/* The import of a checked file: parsed again here (the server keeps nothing between two
 * requests), refused whole if any line is bad, and only when the page names the digest the check
 * gave it for these very bytes. */
void office_catalogue_import(struct office_call *c)
{
	struct catalog_file *cf;
	json_t *problems;
	const char *csv = NULL, *want = NULL;
	struct office_import *im = talloc_zero(c->req, struct office_import);
	im->c = c;
	if (json_unpack(c->body, "{s:s s:s}", "csv", &csv, "digest", &want) < 0)
		return office_error(c->req, 400, "give {\"csv\": the file's text, \"digest\": what the check answered}");
	int rc = office_catalogue_parse(c, im, &cf, &problems, im->digest);
	if (rc == -ENOMEM)
		return office_error(c->req, 500, "out of memory");
	if (rc < 0) {
		json_t *j = json_pack("{ss so}", "error", "the file has bad lines: nothing was imported", "problems", problems);
		return office_json(c->req, 400, j);
	}
	json_decref(problems);
	if (strcmp(want, im->digest))
		return office_error(c->req, 409, "this is not the file that was checked: check it again");
	char *file = catalog_import_json(im, cf);
	if (!file)
		return office_error(c->req, 500, "out of memory");
	const char *params[] = { c->who.session, file };
	db_write(DB_OFFICE_CATALOG_IMPORT, 2, params, office_catalogue_imported, im);
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

struct office_product_set {
	struct office_call *c;
	char sku[16];
};

static void office_product_set_done(void *priv, const PGresult *res, int err)
{
	struct office_product_set *ps = priv;
	char subject[32], action[96], before[96], after[96];
	if (err)
		return office_error(ps->c->req, 503, "the database is not answering: nothing was changed");
	const char *outcome = PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "";
	if (!strcmp(outcome, "not_found"))
		return office_error(ps->c->req, 404, "no such product on sale");
	if (strcmp(outcome, "ok"))
		return office_error(ps->c->req, 403, "your role may not change the catalogue");
	snprintf(subject, sizeof(subject), "product %s", ps->sku);
	snprintf(action, sizeof(action), "catalog set %s --price-cents %s --stock %s", ps->sku, PQgetvalue(res, 0, 3),
		 PQgetvalue(res, 0, 4));
	snprintf(before, sizeof(before), "{\"price_cents\": %s, \"stock\": %s}", PQgetvalue(res, 0, 1),
		 PQgetvalue(res, 0, 2));
	snprintf(after, sizeof(after), "{\"price_cents\": %s, \"stock\": %s}", PQgetvalue(res, 0, 3),
		 PQgetvalue(res, 0, 4));
	office_audit(&ps->c->who, action, subject, true, before, after);
	office_json(ps->c->req, 200, json_pack("{sI sI sI}", "sku", (json_int_t)strtoll(ps->sku, NULL, 10), "price_cents",
					       (json_int_t)strtoll(PQgetvalue(res, 0, 3), NULL, 10), "stock",
					       (json_int_t)strtoll(PQgetvalue(res, 0, 4), NULL, 10)));
}

/* A product's price and stock (null or absent keeps it): the price within `catalog limits
 * price-max`, as the importer's parser allows it, the stock 0 or more. */
void office_catalogue_product(struct office_call *c)
{
	json_t *sku = json_object_get(c->body, "sku"), *price = json_object_get(c->body, "price_cents"),
	       *stock = json_object_get(c->body, "stock");
	char price_txt[24], stock_txt[24], max[MONEY_BUF_LEN], msg[96];
	if (!json_is_integer(sku) || json_integer_value(sku) < 1 || json_integer_value(sku) > INT32_MAX)
		return office_error(c->req, 400, "sku: a product number");
	if ((price && !json_is_null(price) && !json_is_integer(price)) ||
	    (stock && !json_is_null(stock) && !json_is_integer(stock)) || (!json_is_integer(price) && !json_is_integer(stock)))
		return office_error(c->req, 400, "give {\"sku\", \"price_cents\" and/or \"stock\"}");
	money_format(max, sizeof(max), g_cfg->price_max_cents);
	snprintf(msg, sizeof(msg), "price: more than zero and at most %s (catalog limits price-max)", max);
	if (json_is_integer(price) && (json_integer_value(price) < 1 || json_integer_value(price) > g_cfg->price_max_cents))
		return office_error(c->req, 400, msg);
	if (json_is_integer(stock) && json_integer_value(stock) < 0)
		return office_error(c->req, 400, "stock: a whole number, 0 or more");
	struct office_product_set *ps = talloc_zero(c->req, struct office_product_set);
	ps->c = c;
	snprintf(ps->sku, sizeof(ps->sku), "%" JSON_INTEGER_FORMAT, json_integer_value(sku));
	snprintf(price_txt, sizeof(price_txt), "%" JSON_INTEGER_FORMAT, json_integer_value(price));
	snprintf(stock_txt, sizeof(stock_txt), "%" JSON_INTEGER_FORMAT, json_integer_value(stock));
	const char *params[] = { c->who.session, ps->sku, json_is_integer(price) ? price_txt : NULL,
				 json_is_integer(stock) ? stock_txt : NULL };
	db_write(DB_OFFICE_PRODUCT_SET, 4, params, office_product_set_done, ps);
}
