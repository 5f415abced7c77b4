/* spazactl credit: a customer's credit limit (set through the money room) and their line. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"
#include "ledger.h"
#include "money.h"

#define CTL_CREDIT_LIMIT_MAX 100000000

int ctl_credit_set_limit(struct ctl *ctl, int argc, char **argv)
{
	char msisdn[MSISDN_BUF_LEN], used[MONEY_BUF_LEN], amount[MONEY_BUF_LEN];
	struct ledger_stmt st;
	struct ledger_result r;
	int64_t cents;
	PGresult *res;

	if (ctl_msisdn(argv[0], msisdn, sizeof(msisdn)) < 0)
		return CTL_USAGE;
	if (money_parse(argv[1], &cents) < 0 || cents > CTL_CREDIT_LIMIT_MAX) {
		fprintf(stderr, "spazactl: \"%s\" is not an amount in rand like 500 or 499.99 (at most %d)\n", argv[1],
			CTL_CREDIT_LIMIT_MAX / 100);
		return CTL_USAGE;
	}
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	/* Staff may open a line before the customer's first contact: the record starts here then. */
	const char *params[] = { msisdn };
	res = ctl_query(ctl, DB_CUSTOMER_ENSURE, params);
	if (!res)
		return CTL_ERR;
	int64_t customer_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "customer %s", PQgetvalue(res, 0, 0));
	const char *id_params[] = { PQgetvalue(res, 0, 0) };
	PGresult *was = ctl_query(ctl, DB_CREDIT_BALANCE, id_params);
	if (was && PQntuples(was) == 1)
		snprintf(ctl->audit_before, sizeof(ctl->audit_before), "{\"limit_cents\": %s}", PQgetvalue(was, 0, 0));
	PQclear(was);
	PQclear(res);
	ledger_credit_set_limit(&st, customer_id, cents);
	res = ctl_query(ctl, st.stmt, st.params);
	if (!res)
		return CTL_ERR;
	int rc = ledger_result(res, &r) < 0 ? CTL_ERR : CTL_OK;
	PQclear(res);
	if (rc != CTL_OK) {
		fprintf(stderr, "spazactl: %s: no answer from the ledger\n", msisdn);
		return rc;
	}
	money_format(amount, sizeof(amount), cents);
	money_format(used, sizeof(used), r.balance_cents);
	if (r.outcome == LEDGER_OK) {
		snprintf(ctl->audit_after, sizeof(ctl->audit_after), "{\"limit_cents\": %" PRId64 "}", cents);
		printf("credit limit of %s: %s (%s in use)\n", msisdn, amount, used);
		return CTL_OK;
	}
	fprintf(stderr, "spazactl: %s uses %s of their credit: the limit cannot go below that\n", msisdn, used);
	return CTL_ERR;
}

int ctl_credit_show(struct ctl *ctl, int argc, char **argv)
{
	static const char *const labels[] = { "limit", "used", "held", "owed", "available", "store credit" };
	char msisdn[MSISDN_BUF_LEN], amount[MONEY_BUF_LEN];
	PGresult *cust, *res;

	int rc = ctl_customer_arg(ctl, argv[0], msisdn, &cust);
	if (rc != CTL_OK)
		return rc;
	const char *params[] = { PQgetvalue(cust, 0, 0) };
	res = ctl_query(ctl, DB_CREDIT_BALANCE, params);
	if (!res) {
		PQclear(cust);
		return CTL_ERR;
	}
	printf("customer      %s\n", msisdn);
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		printf("%-13s %s\n", labels[i], ctl_money(amount, sizeof(amount), PQgetvalue(res, 0, i)));
	PQclear(res);

	res = ctl_query(ctl, DB_CREDIT_HISTORY, params);
	PQclear(cust);
	if (!res)
		return CTL_ERR;
	if (PQntuples(res))
		printf("\n");
	for (int i = 0; i < PQntuples(res); i++) {
		printf("%s  %-30s %10s", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       ctl_money(amount, sizeof(amount), PQgetvalue(res, i, 2)));
		if (!PQgetisnull(res, i, 3))
			printf("  order #%s", PQgetvalue(res, i, 3));
		printf("\n");
	}
	PQclear(res);
	return CTL_OK;
}
