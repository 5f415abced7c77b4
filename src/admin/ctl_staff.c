/* spazactl staff: the back office's accounts (staff.c, sql/014_staff.sql). A new account's
 * password is made here and printed once, or read from stdin; it is never an argument (shell
 * history, ps and the audit log would keep it) and never stored but as its scrypt hash. */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "ctl.h"
#include "staff.h"

/* ROLE [--retailer ID] from argv[from..]: the role and the retailer id as text (NULL: none);
 * CTL_OK or CTL_USAGE after a message. */
static int ctl_staff_role_args(int argc, char **argv, int from, const char *role, int *role_out,
			       const char **retailer, bool *pw_stdin)
{
	*retailer = NULL;
	for (int i = from; i < argc; i++) {
		bool missing = false;
		const char *v;
		if ((v = ctl_opt(argc, argv, &i, "--retailer", &missing))) {
			if (strspn(v, "0123456789") != strlen(v) || !*v || strlen(v) > 9) {
				fprintf(stderr, "spazactl: --retailer \"%s\": give the retailer's id (a number)\n", v);
				return CTL_USAGE;
			}
			*retailer = v;
		} else if (pw_stdin && !strcmp(argv[i], "--password-stdin")) {
			*pw_stdin = true;
		} else {
			fprintf(stderr, "spazactl: staff: %s \"%s\"\n", missing ? "no value for" : "unknown option", argv[i]);
			return CTL_USAGE;
		}
	}
	*role_out = staff_role_index(role);
	if (*role_out < 0) {
		fprintf(stderr, "spazactl: unknown role \"%s\" (owner, care, fulfilment, finance, retailer)\n", role);
		return CTL_USAGE;
	}
	if ((*role_out == STAFF_ROLE_RETAILER) != (*retailer != NULL)) {
		fprintf(stderr, "spazactl: %s\n", *retailer ? "only a retailer user belongs to a retailer"
							   : "a retailer user needs --retailer ID");
		return CTL_USAGE;
	}
	return CTL_OK;
}

/* One line of stdin, without its newline: the password; -1 after a message. */
static int ctl_staff_read_pw(char *pw, size_t len)
{
	if (!fgets(pw, (int)len, stdin)) {
		fprintf(stderr, "spazactl: no password on stdin\n");
		return -1;
	}
	pw[strcspn(pw, "\r\n")] = '\0';
	if (strlen(pw) < STAFF_PW_MIN || strlen(pw) > STAFF_PW_MAX) {
		fprintf(stderr, "spazactl: a password is %d to %d characters\n", STAFF_PW_MIN, STAFF_PW_MAX);
		return -1;
	}
	return 0;
}

/* staff add LOGIN --role R [--retailer ID] [--password-stdin] */
int ctl_staff_add(struct ctl *ctl, int argc, char **argv)
{
	const char *login = argv[0], *role = NULL, *retailer;
	char pw[STAFF_PW_MAX + 2], hash[STAFF_HASH_BUF];
	bool pw_stdin = false, missing = false;
	int r, rc;

	/* --role first (it is the command's second word in effect), the rest after */
	int i = 1;
	if (argc > 1 && !(role = ctl_opt(argc, argv, &i, "--role", &missing))) {
		fprintf(stderr, "spazactl: staff add LOGIN --role ROLE [--retailer ID] [--password-stdin]\n");
		return CTL_USAGE;
	}
	if (!role) {
		fprintf(stderr, "spazactl: staff add needs --role (owner, care, fulfilment, finance, retailer)\n");
		return CTL_USAGE;
	}
	if (!staff_login_valid(login)) {
		fprintf(stderr, "spazactl: \"%s\": a login is 2 to 32 of a-z 0-9 . _ - (starting with a letter or digit)\n",
			login);
		return CTL_USAGE;
	}
	if ((rc = ctl_staff_role_args(argc, argv, i + 1, role, &r, &retailer, &pw_stdin)) != CTL_OK)
		return rc;
	if (pw_stdin ? ctl_staff_read_pw(pw, sizeof(pw)) < 0 : staff_pw_random(pw) < 0)
		return CTL_ERR;
	rc = staff_pw_hash(pw, hash);
	if (rc < 0 || ctl_db(ctl) < 0) {
		OPENSSL_cleanse(pw, sizeof(pw));
		return CTL_ERR;
	}
	const char *params[] = { login, staff_role_names[r], retailer, hash };
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "staff %s", login);
	PGresult *res = ctl_query_row(ctl, DB_STAFF_ADD, params, "staff login \"%s\" exists", login);
	if (!res) {
		OPENSSL_cleanse(pw, sizeof(pw));
		return CTL_ERR;
	}
	snprintf(ctl->audit_after, sizeof(ctl->audit_after), "{\"role\": \"%s\", \"retailer\": %s}",
		 staff_role_names[r], retailer ? retailer : "null");
	printf("staff %s (%s%s%s) added\n", login, staff_role_names[r], retailer ? ", retailer " : "",
	       retailer ? retailer : "");
	if (!pw_stdin)
		printf("password  %s\nthe password is shown once and stored only hashed: give it to %s now\n", pw, login);
	PQclear(res);
	OPENSSL_cleanse(pw, sizeof(pw));
	return CTL_OK;
}

/* staff role LOGIN ROLE [--retailer ID]: takes effect at once (the account's sessions end) */
int ctl_staff_role(struct ctl *ctl, int argc, char **argv)
{
	const char *retailer;
	int r, rc;
	if ((rc = ctl_staff_role_args(argc, argv, 2, argv[1], &r, &retailer, NULL)) != CTL_OK)
		return rc;
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	const char *params[] = { argv[0], staff_role_names[r], retailer };
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "staff %.40s", argv[0]);
	PGresult *res = ctl_query_row(ctl, DB_STAFF_SET_ROLE, params, "no staff login \"%s\"", argv[0]);
	if (!res)
		return CTL_ERR;
	snprintf(ctl->audit_before, sizeof(ctl->audit_before), "{\"role\": \"%s\", \"retailer\": %s}",
		 PQgetvalue(res, 0, 0), PQgetisnull(res, 0, 1) ? "null" : PQgetvalue(res, 0, 1));
	snprintf(ctl->audit_after, sizeof(ctl->audit_after), "{\"role\": \"%s\", \"retailer\": %s}",
		 staff_role_names[r], retailer ? retailer : "null");
	printf("staff %s: %s -> %s (signed out everywhere)\n", argv[0], PQgetvalue(res, 0, 0), staff_role_names[r]);
	PQclear(res);
	return CTL_OK;
}

int ctl_staff_disable(struct ctl *ctl, int argc, char **argv)
{
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	const char *params[] = { argv[0] };
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "staff %.40s", argv[0]);
	PGresult *res = ctl_query_row(ctl, DB_STAFF_DISABLE, params, "no staff login \"%s\"", argv[0]);
	if (!res)
		return CTL_ERR;
	bool was = !strcmp(PQgetvalue(res, 0, 0), "t");
	snprintf(ctl->audit_before, sizeof(ctl->audit_before), "{\"disabled\": %s}", was ? "false" : "true");
	snprintf(ctl->audit_after, sizeof(ctl->audit_after), "{\"disabled\": true}");
	printf("staff %s %s (signed out everywhere)\n", argv[0], was ? "disabled" : "was disabled already");
	PQclear(res);
	return CTL_OK;
}

int ctl_staff_list(struct ctl *ctl, int argc, char **argv)
{
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	PGresult *res = ctl_query(ctl, DB_STAFF_LIST, NULL);
	if (!res)
		return CTL_ERR;
	printf("%-20s %-11s %-20s %-9s %-17s %s\n", "login", "role", "retailer", "state", "last login", "sessions");
	for (int i = 0; i < PQntuples(res); i++)
		printf("%-20s %-11s %-20s %-9s %-17s %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4), PQgetvalue(res, i, 5));
	PQclear(res);
	return CTL_OK;
}
