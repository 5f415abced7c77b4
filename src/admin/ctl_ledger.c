/* spazactl ledger check: every invariant of the money core, proved against the whole database
 * by spaza_ledger_check(): one line per violation, and exit status 1 if there is any. */
#include "ctl.h"

int ctl_ledger_check(struct ctl *ctl, int argc, char **argv)
{
	PGresult *res;
	int violations;

	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	res = ctl_query(ctl, DB_LEDGER_TOTALS, NULL);
	if (!res)
		return CTL_ERR;
	printf("ledger check: %s transactions, %s entries, %s vouchers, %s credit lines, %s slips, %s paid orders\n",
	       PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
	       PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5));
	PQclear(res);
	res = ctl_query(ctl, DB_LEDGER_CHECK, NULL);
	if (!res)
		return CTL_ERR;
	violations = PQntuples(res);
	for (int i = 0; i < violations; i++)
		printf("VIOLATION: %s: %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
	PQclear(res);
	/* loyalty points (sql/018) and cash on delivery's confirmations (sql/019): their own
	 * invariants beside the money's */
	static const enum db_stmt more[] = { DB_LOYALTY_CHECK, DB_COD_CHECK };
	for (size_t k = 0; k < sizeof(more) / sizeof(more[0]); k++) {
		res = ctl_query(ctl, more[k], NULL);
		if (!res)
			return CTL_ERR;
		for (int i = 0; i < PQntuples(res); i++)
			printf("VIOLATION: %s: %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
		violations += PQntuples(res);
		PQclear(res);
	}
	if (violations) {
		printf("ledger check: %d violation%s\n", violations, violations == 1 ? "" : "s");
		return CTL_ERR;
	}
	printf("ledger check: every invariant holds (postings sum to zero per transaction and overall; credit lines"
	       " within their limits; vouchers within their value; slips paid at most once; each paid order has"
	       " exactly one settled payment; loyalty points never negative, earned once per order, reversed no more than earned;"
	       " cash on delivery confirmed once, on the account of who holds the cash)\n");
	return CTL_OK;
}
