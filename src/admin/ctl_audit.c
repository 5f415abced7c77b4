/* spazactl audit: the audit log, and the row each changing command adds to it (audit.h). */
#include <pwd.h>
#include <string.h>
#include <unistd.h>
#include "audit.h"
#include "ctl.h"

const char *ctl_who(char *buf, size_t len)
{
	const struct passwd *pw = getpwuid(getuid());

	if (pw)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "uid %u", (unsigned)getuid());
	return buf;
}

int ctl_audit_record(struct ctl *ctl, int argc, char **argv, int rc)
{
	struct audit_rec r = { .source = AUDIT_SPAZACTL, .ok = rc == CTL_OK };

	ctl_who(r.who, sizeof(r.who));
	audit_action(&r, argc, (const char *const *)argv);
	r.subject = ctl->audit_subject[0] ? ctl->audit_subject : NULL;
	r.before = ctl->audit_before[0] ? ctl->audit_before : NULL;
	r.after = ctl->audit_after[0] ? ctl->audit_after : NULL;
	/* a command that failed may have left its transaction open */
	if (ctl->conn && PQtransactionStatus(ctl->conn) == PQTRANS_INERROR)
		ctl_txn(ctl, "ROLLBACK");
	if (!ctl->conn && ctl_db(ctl) < 0) {
		fprintf(stderr, "spazactl: the audit log could not record this command\n");
		return CTL_ERR;
	}
	PGresult *res = ctl_query(ctl, DB_AUDIT_ADD, audit_params(&r));
	if (!res) {
		fprintf(stderr, "spazactl: the audit log could not record this command\n");
		return CTL_ERR;
	}
	PQclear(res);
	return rc;
}

/* audit [--since TIME] [--who WHO] */
int ctl_audit_list(struct ctl *ctl, int argc, char **argv)
{
	const char *since = NULL, *who = NULL;

	for (int i = 0; i < argc; i++) {
		bool missing = false;
		const char *v;
		if ((v = ctl_opt(argc, argv, &i, "--since", &missing)))
			since = v;
		else if ((v = ctl_opt(argc, argv, &i, "--who", &missing)))
			who = v;
		else {
			fprintf(stderr, "spazactl: audit: %s \"%s\" (usage: spazactl audit [--since TIME] [--who WHO])\n",
				missing ? "no value after" : "unknown option", argv[i]);
			return CTL_USAGE;
		}
	}
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	const char *params[] = { since, who };
	PGresult *res = ctl_query(ctl, DB_AUDIT_LIST, params);
	if (!res)
		return CTL_ERR;
	printf("%-19s  %-8s  %-16s  %-6s  %-20s  %s\n", "WHEN", "SOURCE", "WHO", "RESULT", "SUBJECT", "ACTION");
	for (int i = 0; i < PQntuples(res); i++) {
		printf("%-19s  %-8s  %-16s  %-6s  %-20s  %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       PQgetvalue(res, i, 2), PQgetvalue(res, i, 5), PQgetvalue(res, i, 4), PQgetvalue(res, i, 3));
		if (strcmp(PQgetvalue(res, i, 6), "-") || strcmp(PQgetvalue(res, i, 7), "-"))
			printf("%21s before %s  after %s\n", "", PQgetvalue(res, i, 6), PQgetvalue(res, i, 7));
	}
	PQclear(res);
	return CTL_OK;
}
