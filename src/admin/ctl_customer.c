/* spazactl customer: a customer's record and merged timeline (show), staff notes, lifting a
 * voucher-PIN lockout, forgetting (POPIA). The timeline is domain/timeline_query.c, the same
 * room the back office calls. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <jansson.h>
#include "ctl.h"
#include "money.h"
#include "timeline_query.h"

#define CTL_TIMELINE_DEFAULT 100

/* The profile (sql/018_profile_loyalty.sql, spaza_customer_profile) as JSON; NULL after a message. */
static json_t *ctl_customer_profile_json(struct ctl *ctl, const char *id)
{
	const char *params[] = { id };
	PGresult *res = ctl_query(ctl, DB_CUSTOMER_PROFILE, params);
	if (!res)
		return NULL;
	json_t *p = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	PQclear(res);
	if (!p)
		fprintf(stderr, "spazactl: the profile is not JSON\n");
	return p;
}

/* The profile lines of the header: name, preferred channel, custom fields. */
static int ctl_customer_profile_lines(struct ctl *ctl, const char *id)
{
	json_t *p = ctl_customer_profile_json(ctl, id), *v;
	const char *k;
	if (!p)
		return -EIO;
	const char *name = json_string_value(json_object_get(p, "name"));
	const char *channel = json_string_value(json_object_get(p, "channel"));
	printf("name      %s\nchannel   %s\n", name ? name : json_is_true(json_object_get(p, "name_asked")) ?
	       "(not given)" : "(not asked yet)", channel ? channel : "(no preference)");
	json_object_foreach(json_object_get(p, "fields"), k, v)
		printf("field     %s = %s\n", k, json_string_value(v));
	json_decref(p);
	return 0;
}

/* The header: who, language, since, marketing opt-out, credit, the PIN lockout. */
static int ctl_customer_header(struct ctl *ctl, PGresult *cust, const char *msisdn)
{
	char money[6][MONEY_BUF_LEN];
	const char *id[] = { PQgetvalue(cust, 0, 0) };
	printf("customer  %s\nlanguage  %s\nsince     %s\n", PQgetvalue(cust, 0, 1), PQgetvalue(cust, 0, 2),
	       PQgetvalue(cust, 0, 3));
	const char *num[] = { msisdn };
	if (ctl_customer_profile_lines(ctl, id[0]) < 0)
		return -EIO;
	PGresult *res = ctl_query(ctl, DB_SMS_OPT_STATE, num);
	if (!res)
		return -EIO;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 1))
		printf("marketing %s since %s (%s)\n", strcmp(PQgetvalue(res, 0, 0), "t") ? "opted in" : "opted out",
		       PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	else
		printf("marketing opted in\n");
	PQclear(res);
	if (!(res = ctl_query(ctl, DB_CREDIT_BALANCE, id)))
		return -EIO;
	for (int i = 0; i < 6; i++)
		ctl_money(money[i], sizeof(money[i]), PQgetvalue(res, 0, i));
	printf("credit    limit %s, used %s, available %s, store credit %s\n", money[0], money[1], money[4], money[5]);
	PQclear(res);
	if (!(res = ctl_query(ctl, DB_CUSTOMER_LOCKOUT, id)))
		return -EIO;
	if (!PQgetisnull(res, 0, 1))
		printf("PIN lock  LOCKED until %s (%s wrong voucher PINs in 24 h; spazactl customer unlock lifts it)\n",
		       PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 0));
	else
		printf("PIN lock  none (%s wrong voucher PINs in 24 h)\n", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/* customer show MSISDN [--json] [--before TIME] [--limit N] */
int ctl_customer_show(struct ctl *ctl, int argc, char **argv)
{
	char msisdn[MSISDN_BUF_LEN], err[512];
	const char *before = NULL, *v;
	bool json = false, missing = false;
	unsigned lim = CTL_TIMELINE_DEFAULT;
	PGresult *cust;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if ((v = ctl_opt(argc, argv, &i, "--before", &missing))) {
			before = v;
		} else if ((v = ctl_opt(argc, argv, &i, "--limit", &missing))) {
			char *end;
			unsigned long n = strtoul(v, &end, 10);
			if (*end || !n || n > TIMELINE_PAGE_MAX) {
				fprintf(stderr, "spazactl: --limit: a number from 1 to %d\n", TIMELINE_PAGE_MAX);
				return CTL_USAGE;
			}
			lim = n;
		} else {
			fprintf(stderr, "spazactl: customer show: %s \"%s\" (usage: spazactl customer show MSISDN"
				" [--json] [--before TIME] [--limit N])\n", missing ? "no value for" : "unknown option", argv[i]);
			return CTL_USAGE;
		}
	}
	int rc = ctl_customer_arg(ctl, argv[0], msisdn, &cust);
	if (rc != CTL_OK)
		return rc;
	struct timeline_page *page;
	if (timeline_query(ctl->ctx, ctl->conn, strtoll(PQgetvalue(cust, 0, 0), NULL, 10), before, lim, &page, err,
			   sizeof(err)) < 0) {
		fprintf(stderr, "spazactl: %s\n", err);
		PQclear(cust);
		return CTL_ERR;
	}
	if (json) {
		json_t *o = timeline_page_json(page);
		json_object_set_new(o, "customer", json_string(PQgetvalue(cust, 0, 1)));
		json_object_set_new(o, "language", json_string(PQgetvalue(cust, 0, 2)));
		json_t *profile = ctl_customer_profile_json(ctl, PQgetvalue(cust, 0, 0));
		if (!profile) {
			PQclear(cust);
			json_decref(o);
			return CTL_ERR;
		}
		json_object_set_new(o, "profile", profile);
		char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", s);
		free(s);
		json_decref(o);
		PQclear(cust);
		return CTL_OK;
	}
	rc = ctl_customer_header(ctl, cust, msisdn);
	PQclear(cust);
	if (rc < 0)
		return CTL_ERR;
	printf("\n%s\n", page->n ? "timeline, newest first:" : "nothing on the timeline yet");
	for (unsigned i = 0; i < page->n; i++) {
		const struct timeline_event *e = &page->ev[i];
		/* "2026-12-07T05:40:20.123456Z" -> "2026-12-07 05:40:20" */
		printf("%.10s %.8s  %-15s %-6s %s\n", e->at, e->at + 11, e->kind, e->ref, e->summary);
	}
	if (page->next_before[0])
		printf("\nolder events: spazactl customer show %s --before %s\n", msisdn, page->next_before);
	return CTL_OK;
}

/* customer note MSISDN TEXT */
int ctl_customer_note(struct ctl *ctl, int argc, char **argv)
{
	char msisdn[MSISDN_BUF_LEN], who[64];
	PGresult *cust;
	char *text = talloc_strdup(ctl->ctx, "");
	for (int i = 1; i < argc; i++)
		text = talloc_asprintf_append(text, "%s%s", i > 1 ? " " : "", argv[i]);
	if (!*text) {
		fprintf(stderr, "spazactl: a note needs some text\n");
		return CTL_USAGE;
	}
	int rc = ctl_customer_arg(ctl, argv[0], msisdn, &cust);
	if (rc != CTL_OK)
		return rc;
	const char *params[] = { PQgetvalue(cust, 0, 0), text, ctl_who(who, sizeof(who)) };
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "customer %s", PQgetvalue(cust, 0, 0));
	PGresult *res = ctl_query(ctl, DB_CUSTOMER_NOTE, params);
	PQclear(cust);
	if (!res)
		return CTL_ERR;
	printf("note #%s added to %s\n", PQgetvalue(res, 0, 0), msisdn);
	PQclear(res);
	return CTL_OK;
}

/* customer unlock MSISDN: lift a voucher-PIN lockout (sql/011_care.sql, spaza_customer_unlock). */
int ctl_customer_unlock(struct ctl *ctl, int argc, char **argv)
{
	char msisdn[MSISDN_BUF_LEN], who[64];
	PGresult *cust;
	int rc = ctl_customer_arg(ctl, argv[0], msisdn, &cust);
	if (rc != CTL_OK)
		return rc;
	const char *params[] = { PQgetvalue(cust, 0, 0), ctl_who(who, sizeof(who)) };
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "customer %s", PQgetvalue(cust, 0, 0));
	PGresult *res = ctl_query(ctl, DB_CUSTOMER_UNLOCK, params);
	PQclear(cust);
	if (!res)
		return CTL_ERR;
	int lifted = atoi(PQgetvalue(res, 0, 0));
	bool was_locked = !strcmp(PQgetvalue(res, 0, 1), "t");
	if (!lifted)
		printf("%s has no wrong voucher PINs in the last 24 hours: nothing to lift\n", msisdn);
	else
		printf("%s %s: %d wrong voucher PIN%s cleared\n", msisdn, was_locked ? "unlocked" : "was not locked",
		       lifted, lifted == 1 ? "" : "s");
	snprintf(ctl->audit_after, sizeof(ctl->audit_after), "{\"failures_cleared\": %d, \"was_locked\": %s}", lifted,
		 was_locked ? "true" : "false");
	PQclear(res);
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
