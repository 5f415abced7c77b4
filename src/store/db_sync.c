/* Statements that wait for their answer (see db_sync.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "db_sync.h"
#include "secrets.h"

/* Hands res over (or frees it) when its status is what the caller wants; otherwise describes
 * the failure in err. */
static int db_sync_check(PGconn *conn, PGresult *res, const char *what, ExecStatusType want, PGresult **res_out,
			 char *err, size_t errlen)
{
	ExecStatusType st = PQresultStatus(res);
	if (st != want && !(want == PGRES_COMMAND_OK && st == PGRES_TUPLES_OK)) {
		const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
		snprintf(err, errlen, "%s: %s", what, *msg ? msg : "unexpected result");
		/* libpq messages end in a newline; the caller adds its own. */
		size_t len = strlen(err);
		while (len && err[len - 1] == '\n')
			err[--len] = '\0';
		PQclear(res);
		return -EIO;
	}
	if (res_out)
		*res_out = res;
	else
		PQclear(res);
	return 0;
}

int db_sync_exec(PGconn *conn, const char *what, const char *sql, int nparams, const char *const *params,
		 ExecStatusType want, PGresult **res_out, char *err, size_t errlen)
{
	PGresult *res = nparams ? PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0)
				: PQexec(conn, sql);
	return db_sync_check(conn, res, what, want, res_out, err, errlen);
}

int db_sync_stmt(PGconn *conn, const char *what, enum db_stmt stmt, const char *const *params, PGresult **res_out,
		 char *err, size_t errlen)
{
	/* PQexecParams even without parameters: one statement, as the pipeline prepares it */
	PGresult *res = PQexecParams(conn, db_stmts[stmt].sql, db_stmts[stmt].nparams, NULL, params, NULL, NULL, 0);
	return db_sync_check(conn, res, what, PGRES_COMMAND_OK, res_out, err, errlen);
}

void db_conn_params(const char *conninfo, const char *user, const char *kw[4], const char *val[4])
{
	const char *pw = secrets_password(user ? "database-owner-password" : "database-password");
	int n = 0;
	kw[n] = "dbname", val[n++] = conninfo;	/* expanded: a whole conninfo or URI */
	if (user)	/* later keywords override what the expanded conninfo said */
		kw[n] = "user", val[n++] = user;
	if (pw)
		kw[n] = "password", val[n++] = pw;
	kw[n] = NULL, val[n] = NULL;
}
