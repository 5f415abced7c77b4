/* spazactl care: the staff's side of care tickets (sql/011_care.sql). Every change is one call
 * of a spaza_care_* function, the room the back office calls too; the audit log records each
 * (spazactl.c). The clocks are the config's `care first-response` and `care resolution`: the
 * list computes breaches itself, so it is right whether or not spazad runs. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include "care.h"
#include "cfg.h"
#include "ctl.h"
#include "double_charge.h"

/* A ticket number argument: its value, or 0 after a message. */
static int64_t ctl_care_ticket(const char *arg)
{
	char *end;
	long long n = strtoll(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end || n <= 0) {
		fprintf(stderr, "spazactl: \"%s\" is not a ticket number\n", arg);
		return 0;
	}
	return n;
}

static void ctl_care_clocks(char frt[16], char res[16])
{
	snprintf(frt, 16, "%u", g_cfg->care_first_response_min);
	snprintf(res, 16, "%u", g_cfg->care_resolution_h);
}

/* care list [--open] [--breached] */
int ctl_care_list(struct ctl *ctl, int argc, char **argv)
{
	bool open_only = false, breached = false;
	char frt[16], resol[16];
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--open"))
			open_only = true;
		else if (!strcmp(argv[i], "--breached"))
			breached = true;
		else {
			fprintf(stderr, "spazactl: care list: unknown option \"%s\" (usage: spazactl care list [--open]"
				" [--breached])\n", argv[i]);
			return CTL_USAGE;
		}
	}
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	ctl_care_clocks(frt, resol);
	const char *params[] = { open_only ? "true" : "false", breached ? "true" : "false", frt, resol };
	PGresult *res = ctl_query(ctl, DB_CARE_LIST, params);
	if (!res)
		return CTL_ERR;
	if (!PQntuples(res))
		printf("no tickets\n");
	else
		printf("ticket  opened            customer          kind           order   via    state     clocks"
		       "           msgs\n");
	for (int i = 0; i < PQntuples(res); i++) {
		bool f = !strcmp(PQgetvalue(res, i, 7), "t"), r = !strcmp(PQgetvalue(res, i, 8), "t");
		char clocks[40];
		snprintf(clocks, sizeof(clocks), "%s", f && r ? "BREACHED first+res" : f ? "BREACHED first" :
			 r ? "BREACHED resolution" : "ok");
		printf("#%-6s %-17s %-17s %-14s %-7s %-6s %-9s %-16s %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetisnull(res, i, 4) ? "-" : PQgetvalue(res, i, 4),
		       PQgetvalue(res, i, 5), PQgetvalue(res, i, 6), clocks, PQgetvalue(res, i, 9));
	}
	PQclear(res);
	return CTL_OK;
}

/* care show N: the ticket and every message and step. */
int ctl_care_show(struct ctl *ctl, int argc, char **argv)
{
	int64_t t = ctl_care_ticket(argv[0]);
	if (!t)
		return CTL_USAGE;
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	const char *params[] = { argv[0] };
	PGresult *res = ctl_query_row(ctl, DB_CARE_GET, params, "no ticket %s", argv[0]);
	if (!res)
		return CTL_ERR;
	printf("ticket    #%s\ncustomer  %s\nkind      %s\norder     %s\nopened    %s by %s\nstate     %s\n",
	       PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
	       PQgetisnull(res, 0, 4) ? "-" : PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 7), PQgetvalue(res, 0, 5),
	       PQgetvalue(res, 0, 6));
	printf("answered  %s\nresolved  %s\nclosed    %s\n\n", PQgetisnull(res, 0, 8) ? "not yet" : PQgetvalue(res, 0, 8),
	       PQgetisnull(res, 0, 9) ? "not yet" : PQgetvalue(res, 0, 9),
	       PQgetisnull(res, 0, 10) ? "not yet" : PQgetvalue(res, 0, 10));
	PQclear(res);
	if (!(res = ctl_query(ctl, DB_CARE_MESSAGES, params)))
		return CTL_ERR;
	for (int i = 0; i < PQntuples(res); i++) {
		printf("%s  %-4s %-8s %-12s", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
		       PQgetvalue(res, i, 3));
		if (!PQgetisnull(res, i, 4))
			printf("  \"%s\"", PQgetvalue(res, i, 4));
		if (!PQgetisnull(res, i, 5))
			printf("  (SMS %s)", PQgetvalue(res, i, 5));
		printf("\n");
	}
	PQclear(res);
	return CTL_OK;
}

/* care reply N TEXT: one SMS through the outbox; the ticket waits on the customer. */
int ctl_care_reply(struct ctl *ctl, int argc, char **argv)
{
	char who[64];
	if (!ctl_care_ticket(argv[0]))
		return CTL_USAGE;
	char *text = ctl_sms_text(ctl, argc - 1, argv + 1);
	if (!text)
		return CTL_USAGE;
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "ticket %s", argv[0]);
	const char *params[] = { argv[0], text, ctl_who(who, sizeof(who)) };
	PGresult *res = ctl_query(ctl, DB_CARE_REPLY, params);
	if (!res)
		return CTL_ERR;
	const char *outcome = PQgetvalue(res, 0, 0);
	int rc = CTL_OK;
	if (!strcmp(outcome, "replied"))
		printf("reply queued as SMS #%s; ticket #%s waits on the customer\n", PQgetvalue(res, 0, 1), argv[0]);
	else {
		fprintf(stderr, "spazactl: %s\n", !strcmp(outcome, "closed") ? "the ticket is closed: no reply" :
			"no such ticket");
		rc = CTL_ERR;
	}
	PQclear(res);
	return rc;
}

/* resolve and close: the same statement, with an optional note. */
static int ctl_care_state(struct ctl *ctl, int argc, char **argv, const char *state)
{
	char who[64];
	if (!ctl_care_ticket(argv[0]))
		return CTL_USAGE;
	char *note = NULL;
	for (int i = 1; i < argc; i++)
		note = talloc_asprintf_append(note, "%s%s", i > 1 ? " " : "", argv[i]);
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "ticket %s", argv[0]);
	const char *params[] = { argv[0], state, note, ctl_who(who, sizeof(who)) };
	PGresult *res = ctl_query(ctl, DB_CARE_SET_STATE, params);
	talloc_free(note);
	if (!res)
		return CTL_ERR;
	const char *outcome = PQgetvalue(res, 0, 0);
	int rc = CTL_ERR;
	if (!strcmp(outcome, "ok")) {
		snprintf(ctl->audit_before, sizeof(ctl->audit_before), "{\"state\": \"%s\"}", PQgetvalue(res, 0, 1));
		snprintf(ctl->audit_after, sizeof(ctl->audit_after), "{\"state\": \"%s\"}", state);
		printf("ticket #%s %s (was %s)\n", argv[0], state, PQgetvalue(res, 0, 1));
		rc = CTL_OK;
	} else if (!strcmp(outcome, "already"))
		fprintf(stderr, "spazactl: ticket #%s is already %s\n", argv[0], state);
	else if (!strcmp(outcome, "not_allowed"))
		fprintf(stderr, "spazactl: ticket #%s is closed\n", argv[0]);
	else
		fprintf(stderr, "spazactl: no ticket %s\n", argv[0]);
	PQclear(res);
	return rc;
}

int ctl_care_resolve(struct ctl *ctl, int argc, char **argv)
{
	return ctl_care_state(ctl, argc, argv, "resolved");
}

int ctl_care_close(struct ctl *ctl, int argc, char **argv)
{
	return ctl_care_state(ctl, argc, argv, "closed");
}

/* A charged-twice ticket: the customer's double charges checked at once, as spazad does for
 * one opened by USSD (care_dc.c): refunded and resolved, or the finding noted for a person. */
static int ctl_care_dc(struct ctl *ctl, int64_t ticket)
{
	char err[256], *state, *note;
	if (dc_ticket(ctl->ctx, ctl->conn, ticket, &state, &note, err, sizeof(err)) < 0) {
		fprintf(stderr, "spazactl: ticket #%" PRId64 ": %s\n", ticket, err);
		return CTL_ERR;
	}
	printf("ticket #%" PRId64 " %s: %s\n", ticket, state, note);
	return CTL_OK;
}

/* care open MSISDN [--order N] KIND TEXT: a ticket staff open (a call, a walk-in). */
int ctl_care_open(struct ctl *ctl, int argc, char **argv)
{
	char msisdn[MSISDN_BUF_LEN], who[64], author[80];
	const char *order = NULL, *v;
	bool missing = false;
	int i = 1;
	if ((v = ctl_opt(argc, argv, &i, "--order", &missing))) {
		if (!ctl_order_id(v))
			return CTL_USAGE;
		order = v;
		i++;
	}
	if (missing || i + 1 >= argc) {
		fprintf(stderr, "spazactl: usage: spazactl care open MSISDN [--order N] KIND TEXT\n");
		return CTL_USAGE;
	}
	if (!care_kind_valid(argv[i])) {
		fprintf(stderr, "spazactl: \"%s\" is not a ticket kind (%s)\n", argv[i], CARE_KINDS);
		return CTL_USAGE;
	}
	const char *kind = argv[i++];
	char *text = talloc_strdup(ctl->ctx, "");
	for (int k = i; k < argc; k++)
		text = talloc_asprintf_append(text, "%s%s", k > i ? " " : "", argv[k]);
	if (ctl_msisdn(argv[0], msisdn, sizeof(msisdn)) < 0)
		return CTL_USAGE;
	/* a charged-twice ticket may refund at once: the customer is told in their language */
	if (!strcmp(kind, "charged_twice") && ctl_refund_texts(ctl) < 0)
		return CTL_ERR;
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	const char *cparams[] = { msisdn };
	PGresult *cust = ctl_query(ctl, DB_CUSTOMER_ENSURE, cparams);
	if (!cust)
		return CTL_ERR;
	snprintf(author, sizeof(author), "%s", ctl_who(who, sizeof(who)));
	/* staff open a new ticket each time: no key joins two of theirs */
	const char *params[] = { PQgetvalue(cust, 0, 0), order, kind, "staff", text, author, NULL };
	PGresult *res = ctl_query(ctl, DB_CARE_OPEN, params);
	PQclear(cust);
	if (!res)
		return CTL_ERR;
	int rc = CTL_OK;
	if (!strcmp(PQgetvalue(res, 0, 0), "not_found")) {
		fprintf(stderr, "spazactl: order %s is not %s's\n", order, msisdn);
		rc = CTL_ERR;
	} else {
		snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "ticket %s", PQgetvalue(res, 0, 1));
		printf("ticket #%s %s for %s\n", PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 0), msisdn);
		if (!strcmp(kind, "charged_twice"))
			rc = ctl_care_dc(ctl, strtoll(PQgetvalue(res, 0, 1), NULL, 10));
	}
	PQclear(res);
	return rc;
}
