/* spazactl catalog: import a CSV (catalog_import.c checks it whole first), show what is on sale. */
#include <errno.h>
#include <string.h>
#include "catalog_import.h"
#include "cfg.h"
#include "ctl.h"
#include "money.h"

int ctl_catalog_import(struct ctl *ctl, int argc, char **argv)
{
	const struct catalog_limits lim = { .name_max = g_cfg->name_max, .price_max_cents = g_cfg->price_max_cents };
	struct catalog_file *cf;
	unsigned retired = 0;
	char err[512];

	/* The file is checked in full before the database is touched. */
	int rc = catalog_import_read(ctl->ctx, argv[0], &lim, stderr, &cf);
	if (rc == -EINVAL)
		fprintf(stderr, "%s: nothing imported\n", argv[0]);
	if (rc < 0)
		return CTL_ERR;
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	if (catalog_import_apply(ctl->conn, cf, &retired, err, sizeof(err)) < 0) {
		fprintf(stderr, "spazactl: %s: nothing imported: %s\n", argv[0], err);
		return CTL_ERR;
	}
	printf("imported %u products in %u categories\n", cf->n_rows, cf->n_categories);
	if (retired)
		printf("retired %u products that are no longer in the file\n", retired);
	return CTL_OK;
}

int ctl_catalog_show(struct ctl *ctl, int argc, char **argv)
{
	PGresult *res;
	const char *cat = NULL;
	char price[MONEY_BUF_LEN];

	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	res = ctl_query(ctl, DB_CATALOG_SHOW, NULL);
	if (!res)
		return CTL_ERR;
	if (PQntuples(res) == 0)
		printf("the catalogue is empty: load one with spazactl catalog import FILE.csv\n");
	else
		printf("  #  sku           price          stock  name\n");
	for (int i = 0; i < PQntuples(res); i++) {
		if (!cat || strcmp(cat, PQgetvalue(res, i, 0))) {
			cat = PQgetvalue(res, i, 0);
			printf("%s (category %s)\n", PQgetvalue(res, i, 1), cat);
		}
		printf("%3s  %-10s %8s %14s  %s\n", PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
		       ctl_money(price, sizeof(price), PQgetvalue(res, i, 4)), PQgetvalue(res, i, 5),
		       PQgetvalue(res, i, 6));
	}
	PQclear(res);

	res = ctl_query(ctl, DB_PRODUCTS_RETIRED, NULL);
	if (!res)
		return CTL_ERR;
	if (strcmp(PQgetvalue(res, 0, 0), "0"))
		printf("(%s retired products not shown)\n", PQgetvalue(res, 0, 0));
	PQclear(res);
	return CTL_OK;
}
