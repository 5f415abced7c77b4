#pragma once
/* Statements that wait for their answer, for what runs outside the daemon's event loop: the
 * schema migrations (before the loop starts) and spazactl. The daemon's own queries go through
 * db.c's pipeline; a statement of db_stmts.def runs through either, by the same enum. */
#include <stddef.h>
#include <libpq-fe.h>
#include "db_stmts.h"

/* Runs one statement and checks its status; on failure describes it in err as "what: reason"
 * and returns -EIO. With no params the text goes through PQexec, which allows several
 * statements (a whole migration file); the rest use PQexecParams. want PGRES_COMMAND_OK also
 * accepts rows, since a migration file may well end in a SELECT (setval() say). With res_out
 * the caller owns the result. */
int db_sync_exec(PGconn *conn, const char *what, const char *sql, int nparams, const char *const *params,
		 ExecStatusType want, PGresult **res_out, char *err, size_t errlen);

/* Runs a statement of db_stmts.def (its parameter count is the table's) with db_sync_exec()'s
 * rules: on failure err holds "what: reason". */
int db_sync_stmt(PGconn *conn, const char *what, enum db_stmt stmt, const char *const *params, PGresult **res_out,
		 char *err, size_t errlen);

/* libpq keywords and values (NULL-terminated, for PQconnectdbParams/PQconnectStartParams with
 * expand_dbname) for a conninfo: it, and the secrets file's database-password if there is one
 * (otherwise libpq's own PGPASSWORD or ~/.pgpass apply). The configuration refuses a password
 * in the conninfo itself, where `write file` would write it back. With a user (the schema's
 * owner, `database-owner`), the same server and database as that user, with the secrets
 * file's database-owner-password instead. */
void db_conn_params(const char *conninfo, const char *user, const char *kw[4], const char *val[4]);
