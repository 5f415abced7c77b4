/* spazactl sms: staff messages and marketing (sql/003_sms.sql; the daemon's outbox sends what
 * is queued here). A customer's SMS are on their timeline (customer show). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include "ctl.h"
#include "gsm7.h"

/* One SMS (160 GSM-7 septets, or 70 characters when any is outside GSM-7): sendsms sends one
 * part unless Kannel is told otherwise, so a longer text would be cut on the phone. */
#define CTL_SMS_SEPTETS 160u
#define CTL_SMS_UCS2 70u

char *ctl_sms_text(struct ctl *ctl, int argc, char **argv)
{
	char *text = talloc_strdup(ctl->ctx, "");
	for (int i = 0; i < argc; i++)
		text = talloc_asprintf_append(text, "%s%s", i ? " " : "", argv[i]);
	struct gsm7_measure m;
	if (!*text || gsm7_measure(text, strlen(text), &m) < 0) {
		fprintf(stderr, "spazactl: the text is empty or not UTF-8\n");
		return NULL;
	}
	if (!gsm7_fits(text, strlen(text), CTL_SMS_SEPTETS, CTL_SMS_UCS2)) {
		if (m.coding == GSM7_CODING_GSM7)
			fprintf(stderr, "spazactl: the text is %u GSM-7 septets, one SMS holds %u\n", m.septets,
				CTL_SMS_SEPTETS);
		else
			fprintf(stderr, "spazactl: the text is %u characters and not all GSM-7, one SMS holds %u of those\n",
				m.ucs2_units, CTL_SMS_UCS2);
		return NULL;
	}
	return text;
}

/* sms send MSISDN TEXT: queued for the daemon's outbox (a trigger wakes it); a number seen for
 * the first time becomes a customer, like on first contact. */
int ctl_sms_send(struct ctl *ctl, int argc, char **argv)
{
	char msisdn[MSISDN_BUF_LEN];
	if (ctl_msisdn(argv[0], msisdn, sizeof(msisdn)) < 0)
		return CTL_USAGE;
	char *text = ctl_sms_text(ctl, argc - 1, argv + 1);
	if (!text)
		return CTL_USAGE;
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	const char *cust_params[] = { msisdn };
	PGresult *cust = ctl_query(ctl, DB_CUSTOMER_ENSURE, cust_params);
	if (!cust)
		return CTL_ERR;
	const char *params[] = { PQgetvalue(cust, 0, 0), text };
	PGresult *res = ctl_query(ctl, DB_SMS_STAFF_QUEUE, params);
	PQclear(cust);
	if (!res)
		return CTL_ERR;
	printf("SMS #%s queued for %s\n", PQgetvalue(res, 0, 0), msisdn);
	PQclear(res);
	return CTL_OK;
}

/* sms marketing TEXT: one row per customer; for those who sent STOP it is stored suppressed
 * (and the outbox checks again before it sends, in case STOP comes in meanwhile). */
int ctl_sms_marketing(struct ctl *ctl, int argc, char **argv)
{
	char *text = ctl_sms_text(ctl, argc, argv);
	if (!text)
		return CTL_USAGE;
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	const char *params[] = { text };
	PGresult *res = ctl_query(ctl, DB_SMS_MARKETING_QUEUE, params);
	if (!res)
		return CTL_ERR;
	printf("marketing SMS queued for %s customers, suppressed for %s who opted out\n", PQgetvalue(res, 0, 0),
	       PQgetvalue(res, 0, 1));
	PQclear(res);
	return CTL_OK;
}
