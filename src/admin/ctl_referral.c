/* spazactl referral: a customer's referral code, a code entered for a customer (at the counter,
 * on the phone), and the counts of every outcome (sql/018_profile_loyalty.sql). */
#include <string.h>
#include "ctl.h"

/* referral code MSISDN */
int ctl_referral_code(struct ctl *ctl, int argc, char **argv)
{
	char msisdn[MSISDN_BUF_LEN];
	PGresult *cust;
	int rc = ctl_customer_arg(ctl, argv[0], msisdn, &cust);
	if (rc != CTL_OK)
		return rc;
	const char *params[] = { PQgetvalue(cust, 0, 0) };
	PGresult *res = ctl_query(ctl, DB_REFERRAL_CODE, params);
	PQclear(cust);
	if (!res)
		return CTL_ERR;
	printf("%s: referral code %s\n", msisdn, PQgetvalue(res, 0, 0));
	PQclear(res);
	return CTL_OK;
}

/* referral enter MSISDN CODE: exit 1 unless the code was taken */
int ctl_referral_enter(struct ctl *ctl, int argc, char **argv)
{
	char msisdn[MSISDN_BUF_LEN];
	PGresult *cust;
	int rc = ctl_customer_arg(ctl, argv[0], msisdn, &cust);
	if (rc != CTL_OK)
		return rc;
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "customer %s", PQgetvalue(cust, 0, 0));
	const char *params[] = { PQgetvalue(cust, 0, 0), argv[1] };
	PGresult *res = ctl_query(ctl, DB_REFERRAL_ENTER, params);
	PQclear(cust);
	if (!res)
		return CTL_ERR;
	const char *outcome = PQgetvalue(res, 0, 0);
	printf("%s: %s\n", msisdn, outcome);
	rc = strcmp(outcome, "ok") ? CTL_ERR : CTL_OK;
	PQclear(res);
	return rc;
}

/* referral stats [--since TIME] */
int ctl_referral_stats(struct ctl *ctl, int argc, char **argv)
{
	const char *since;
	if (ctl_one_opt(argc, argv, "--since", "referral stats [--since TIME]", &since) != CTL_OK)
		return CTL_USAGE;
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	const char *params[] = { since };
	PGresult *res = ctl_query(ctl, DB_REFERRAL_STATS, params);
	if (!res)
		return CTL_ERR;
	if (!PQntuples(res))
		printf("no referral codes entered\n");
	for (int i = 0; i < PQntuples(res); i++)
		printf("%-16s %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
	PQclear(res);
	return CTL_OK;
}
