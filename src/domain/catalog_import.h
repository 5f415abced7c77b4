#pragma once
/* `spazactl catalog import`: a CSV file (sku,category,name,price,stock) becomes the whole
 * catalogue in one transaction, or nothing changes at all. */
#include <stdint.h>
#include <stdio.h>
#include <libpq-fe.h>

/* What a line may contain; spazactl takes these from `catalog limits` in the config, the
 * same worst cases the menu linter proves every screen against. */
struct catalog_limits {
	unsigned name_max;		/* characters (not bytes) in a product or category name */
	int64_t price_max_cents;
};

struct catalog_row {
	unsigned line;			/* in the file, for messages */
	int32_t sku;			/* the product id, stable across imports */
	unsigned category;		/* index into catalog_file.categories */
	unsigned position;		/* 1..n within its category, in file order */
	const char *name;
	int64_t price_cents;
	int64_t stock;
};

struct catalog_file {
	struct catalog_row *rows;
	unsigned n_rows;
	const char **categories;	/* names, in order of first appearance */
	unsigned n_categories;
};

/* Read and check the whole file. Every problem is printed to errs as "path:line: reason",
 * all of them, not just the first. Returns 0 with *out (a talloc child of ctx), -EINVAL when
 * the file had any problem, or -errno when it could not be read. */
int catalog_import_read(void *ctx, const char *path, const struct catalog_limits *lim, FILE *errs,
			struct catalog_file **out);
/* The same check on bytes already in memory (path only names them in messages): no file, no
 * database, which is how the tests and the fuzzer (fuzz/catalog_import_fuzz.c) call it. */
int catalog_import_parse(void *ctx, const char *path, const char *buf, size_t len, const struct catalog_limits *lim,
			 FILE *errs, struct catalog_file **out);

/* cf as the JSON spaza_catalog_import() takes (sql/020_office_search.sql), a talloc child of
 * ctx (NULL without memory): what both doors send, spazactl below and the back office's
 * Catalogue page. */
char *catalog_import_json(void *ctx, const struct catalog_file *cf);
/* Make the database's catalogue exactly cf in one transaction (spaza_catalog_import(), as the
 * owner): categories keep their ids by name (new ones get max + 1), products are upserted by
 * sku, products missing from cf are retired (active = false), and the daemon is told to reload
 * (NOTIFY spaza_catalog).
 * *retired says how many products were retired. Returns 0, or -EIO with a reason in err. */
int catalog_import_apply(PGconn *conn, const struct catalog_file *cf, unsigned *retired,
			 char *err, size_t errlen);
