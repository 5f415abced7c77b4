/* spazactl loyalty: a customer's points and their history, and the expiry run (nightly from
 * cron, or by hand). The postings are the database's (sql/018_profile_loyalty.sql). */
#include <stdlib.h>
#include <string.h>
#include "ctl.h"

/* loyalty show MSISDN */
int ctl_loyalty_show(struct ctl *ctl, int argc, char **argv)
{
	char msisdn[MSISDN_BUF_LEN];
	PGresult *cust;
	int rc = ctl_customer_arg(ctl, argv[0], msisdn, &cust);
	if (rc != CTL_OK)
		return rc;
	const char *params[] = { PQgetvalue(cust, 0, 0) };
	PGresult *res = ctl_query(ctl, DB_LOYALTY_SHOW, params);
	PQclear(cust);
	if (!res)
		return CTL_ERR;
	printf("%s: %s points\n", msisdn, PQntuples(res) ? PQgetvalue(res, 0, 4) : "0");
	for (int i = 0; i < PQntuples(res); i++) {
		const char *order = PQgetvalue(res, i, 2);
		printf("%s  %-16s %+6lld%s%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       strtoll(PQgetvalue(res, i, 3), NULL, 10), *order ? "  order #" : "", order);
	}
	PQclear(res);
	return CTL_OK;
}

int ctl_one_opt(int argc, char **argv, const char *name, const char *usage, const char **val)
{
	const char *v;
	bool missing = false;
	*val = NULL;
	for (int i = 0; i < argc; i++) {
		if ((v = ctl_opt(argc, argv, &i, name, &missing))) {
			*val = v;
		} else {
			fprintf(stderr, "spazactl: %s \"%s\" (usage: spazactl %s)\n", missing ? "no value for" : "unknown option",
				argv[i], usage);
			return CTL_USAGE;
		}
	}
	return CTL_OK;
}

/* loyalty expire [--as-of TIME] */
int ctl_loyalty_expire(struct ctl *ctl, int argc, char **argv)
{
	const char *as_of;
	if (ctl_one_opt(argc, argv, "--as-of", "loyalty expire [--as-of TIME]", &as_of) != CTL_OK)
		return CTL_USAGE;
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	const char *params[] = { as_of };
	PGresult *res = ctl_query(ctl, DB_LOYALTY_EXPIRE, params);
	if (!res)
		return CTL_ERR;
	printf("expired %s points of %s customers\n", PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 0));
	PQclear(res);
	return CTL_OK;
}
