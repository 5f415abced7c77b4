/* spazactl sms: staff messages, marketing, and the SMS part of a customer's timeline
 * (sql/003_sms.sql; the daemon's outbox sends what is queued here). */
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

/* The words of TEXT joined by spaces, checked to be UTF-8 and to fit one SMS. NULL (with a
 * message) when it does not. */
static char *ctl_sms_text(struct ctl *ctl, int argc, char **argv)
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

/* The opt-out state, then every SMS in and out, newest first, with what it was read as (in)
 * or its kind, state and last delivery report (out). */
int ctl_sms_timeline(struct ctl *ctl, const char *msisdn)
{
	const char *params[] = { msisdn };
	PGresult *res = ctl_query(ctl, DB_SMS_OPT_STATE, params);
	if (!res)
		return -EIO;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 1))
		printf("\nmarketing %s since %s (%s)\n", strcmp(PQgetvalue(res, 0, 0), "t") ? "opted in" : "opted out",
		       PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	PQclear(res);

	res = ctl_query(ctl, DB_SMS_TIMELINE, params);
	if (!res)
		return -EIO;
	printf("\n%s\n", PQntuples(res) ? "SMS, newest first:" : "no SMS yet");
	for (int i = 0; i < PQntuples(res); i++) {
		const char *at = PQgetvalue(res, i, 0), *id = PQgetvalue(res, i, 1);
		if (!strcmp(PQgetvalue(res, i, 2), "in")) {
			printf("%s  sms in   #%s  %s  \"%s\"\n", at, id, PQgetvalue(res, i, 4), PQgetvalue(res, i, 7));
			continue;
		}
		printf("%s  sms out  #%s  %s  %s", at, id, PQgetvalue(res, i, 3), PQgetvalue(res, i, 5));
		if (!PQgetisnull(res, i, 6))
			printf(" (dlr %s)", PQgetvalue(res, i, 6));
		if (!strcmp(PQgetvalue(res, i, 5), "queued") && strcmp(PQgetvalue(res, i, 10), "0"))
			printf(" (%s attempts: %s)", PQgetvalue(res, i, 10), PQgetvalue(res, i, 11));
		if (!PQgetisnull(res, i, 7))
			printf("  \"%s\"\n", PQgetvalue(res, i, 7));
		else
			printf("  (order #%s %s: text rendered when sent)\n", PQgetvalue(res, i, 8), PQgetvalue(res, i, 9));
	}
	PQclear(res);
	return 0;
}
