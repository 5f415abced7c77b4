#pragma once
/* The audit log (sql/008_audit.sql, doc/security.md): one row per admin action, added by
 * whoever takes the action and never changed: spazactl (who: the OS user), the VTY's config
 * node (who: the peer's address) and the back office's API (who: the staff account). This
 * room writes the row's parameters for the statement AUDIT_ADD (db_stmts.def), which either
 * executor runs: db_sync_stmt() in spazactl, db_write() in spazad. What it records of the
 * command never holds a secret, a PIN or a whole phone number (privacy.h). */
#include <stdbool.h>
#include <stddef.h>

enum audit_source { AUDIT_SPAZACTL, AUDIT_VTY, AUDIT_API };

#define AUDIT_ACTION_MAX 512
#define AUDIT_WHO_MAX 80

struct audit_rec {
	enum audit_source source;
	char who[AUDIT_WHO_MAX];
	char action[AUDIT_ACTION_MAX];	/* set by audit_action() */
	const char *subject;	/* "order 1001", "customer 42"; NULL: none */
	bool ok;
	const char *before, *after;	/* JSON, or NULL where there is no record */
	const char *params[7];	/* AUDIT_ADD's, set by audit_params() */
};

/* The command's words, joined by spaces, each masked: a phone number (privacy_mask()), a word
 * of 16 or more digits (a voucher PIN), the value after "password", "token" or "secret" and
 * any "password=..." become stars. */
void audit_action(struct audit_rec *r, int argc, const char *const *argv);
/* The same for a command line as typed (the VTY). */
void audit_action_line(struct audit_rec *r, const char *line);
/* AUDIT_ADD's parameters, pointing into r. */
const char *const *audit_params(struct audit_rec *r);
