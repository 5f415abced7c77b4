/* spazactl report: the shop's figures over a period, straight from the store of record (orders,
 * the ledger's tables, tills' payments, the RFM rows). One statement each (db_stmts.def). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "crm_form.h"
#include "ctl.h"

int ctl_since(const char *v, char *buf, size_t len)
{
	if (crm_since_parse(v, buf, len) == 0)
		return 0;
	fprintf(stderr, "spazactl: --since is " CRM_SINCE_RULE ", not \"%s\"\n", v);
	return -EINVAL;
}

struct ctl_report_kind {
	const char *name;
	enum db_stmt stmt;
	int nparams;
	const char *head;
	int money_cols;		/* bit i: column i is cents */
};

static const struct ctl_report_kind kinds[] = {
	{ "sales", DB_REPORT_SALES, 1, "day|orders|paid|revenue|customers", 1 << 3 },
	{ "payments", DB_REPORT_PAYMENTS, 1, "method|payments|amount", 1 << 2 },
	{ "credit-ageing", DB_REPORT_CREDIT_AGEING, 0, "owed since|customers|owed", 1 << 2 },
	{ "vouchers", DB_REPORT_VOUCHERS, 1, "status|vouchers|value|float", (1 << 2) | (1 << 3) },
	{ "settlements", DB_REPORT_SETTLEMENTS, 1, "retailer|payments|taken|reversals|reversed|cod|cod taken",
	  (1 << 2) | (1 << 4) | (1 << 6) },
	{ "repeat", DB_REPORT_REPEAT, 1, "segment|buyers|repeat buyers|repeat %", 0 },
};

/* report KIND [--since YYYY-MM-DD|Nd] [--csv] (default: the last 30 days) */
int ctl_report(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_report_kind *k = NULL;
	for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(argv[0], kinds[i].name))
			k = &kinds[i];
	if (!k) {
		fprintf(stderr, "spazactl: report sales|payments|credit-ageing|vouchers|settlements|repeat [--since D]\n");
		return CTL_USAGE;
	}
	char since[40];
	bool csv = false;
	if (ctl_since("30d", since, sizeof(since)) < 0)
		return CTL_ERR;
	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v = ctl_opt(argc, argv, &i, "--since", &missing);
		if (v) {
			if (ctl_since(v, since, sizeof(since)) < 0)
				return CTL_USAGE;
		} else if (!strcmp(argv[i], "--csv")) {
			csv = true;
		} else {
			fprintf(stderr, "spazactl: report %s [--since YYYY-MM-DD|Nd] [--csv]\n", k->name);
			return CTL_USAGE;
		}
	}
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	const char *params[] = { since };
	PGresult *res = ctl_query(ctl, k->stmt, k->nparams ? params : NULL);
	if (!res)
		return CTL_ERR;
	const char *sep = csv ? "," : "  ";
	for (const char *h = k->head; *h; h++)
		if (*h == '|')
			fputs(sep, stdout);
		else
			putchar(csv && *h == ' ' ? '_' : *h);
	putchar('\n');
	for (int i = 0; i < PQntuples(res); i++) {
		for (int c = 0; c < PQnfields(res); c++) {
			char money[32];
			const char *v = PQgetvalue(res, i, c);
			if (k->money_cols & (1 << c))
				v = csv ? v : ctl_money(money, sizeof(money), v);
			printf("%s%s", c ? sep : "", v);
		}
		putchar('\n');
	}
	if (!PQntuples(res) && !csv)
		printf("(nothing)\n");
	PQclear(res);
	return CTL_OK;
}
