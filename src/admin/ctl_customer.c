/* spazactl customer show: one customer's whole timeline, sessions, orders and SMS. */
#include <string.h>
#include "ctl.h"
#include "money.h"

/* One customer's sessions and orders (CUSTOMER_TIMELINE), merged by time, newest first. */
static void ctl_customer_timeline_print(const PGresult *res)
{
	char total[MONEY_BUF_LEN];

	if (PQntuples(res) == 0)
		printf("no sessions or orders yet\n");
	for (int i = 0; i < PQntuples(res); i++) {
		const char *at = PQgetvalue(res, i, 0);
		if (!strcmp(PQgetvalue(res, i, 1), "order")) {
			printf("%s  order    #%s  %s x %s  %s  %s\n", at, PQgetvalue(res, i, 7), PQgetvalue(res, i, 8),
			       PQgetvalue(res, i, 9), ctl_money(total, sizeof(total), PQgetvalue(res, i, 10)),
			       PQgetvalue(res, i, 11));
			continue;
		}
		printf("%s  session  %s %s  %s  %s hops  %s", at, PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
		       PQgetvalue(res, i, 4), PQgetvalue(res, i, 5), PQgetvalue(res, i, 6));
		if (!PQgetisnull(res, i, 7))
			printf("  order #%s", PQgetvalue(res, i, 7));
		printf("\n");
	}
}

int ctl_customer_show(struct ctl *ctl, int argc, char **argv)
{
	char msisdn[MSISDN_BUF_LEN];
	PGresult *cust, *res;

	int rc = ctl_customer_arg(ctl, argv[0], msisdn, &cust);
	if (rc != CTL_OK)
		return rc;
	printf("customer  %s\nlanguage  %s\nsince     %s\n\n", PQgetvalue(cust, 0, 1), PQgetvalue(cust, 0, 2),
	       PQgetvalue(cust, 0, 3));
	const char *params[] = { PQgetvalue(cust, 0, 0) };
	res = ctl_query(ctl, DB_CUSTOMER_TIMELINE, params);
	PQclear(cust);
	if (!res)
		return CTL_ERR;
	ctl_customer_timeline_print(res);
	PQclear(res);
	if (ctl_sms_timeline(ctl, msisdn) < 0)
		return CTL_ERR;
	return CTL_OK;
}

/* customer forget MSISDN: the database erases what identifies the customer (sql/008_audit.sql:
 * spaza_customer_forget) in one statement; the ledger keeps every posting, owned by the
 * customer's id. The audit row names the customer by id, never by number. */
int ctl_customer_forget(struct ctl *ctl, int argc, char **argv)
{
	char msisdn[MSISDN_BUF_LEN];

	if (ctl_msisdn(argv[0], msisdn, sizeof(msisdn)) < 0)
		return CTL_USAGE;
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	const char *params[] = { msisdn };
	PGresult *res = ctl_query(ctl, DB_CUSTOMER_FORGET, params);
	if (!res)
		return CTL_ERR;
	if (PQgetisnull(res, 0, 0)) {
		PQclear(res);
		fprintf(stderr, "spazactl: no customer %s\n", argv[0]);
		return CTL_ERR;
	}
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "customer %s", PQgetvalue(res, 0, 0));
	snprintf(ctl->audit_after, sizeof(ctl->audit_after), "{\"msisdn\": \"%s\"}", PQgetvalue(res, 0, 1));
	printf("customer %s forgotten: now %s; their SMS texts are erased, their ledger postings stay\n",
	       PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	PQclear(res);
	return CTL_OK;
}
