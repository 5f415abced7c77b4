#pragma once
/* Every SQL statement C code runs, declared once in db_stmts.def and run by either executor
 * under the same name: db.c's pipeline (spazad, prepared on each connection) or db_sync.c
 * (spazactl and anything else outside the loop). A statement's text, its parameter count and
 * the meaning of its result columns are written in one place; the rooms that call it (ledger.c
 * for money) build its parameters and parse its rows once for both. */

enum db_stmt {
#define X(name, nparams, sql) DB_##name,
#include "db_stmts.def"
#undef X
	_DB_STMT_COUNT
};

#define DB_MAX_PARAMS 12	/* the timeline's session batch: twelve columns (sql/027) */

struct db_stmt_info {
	const char *name;	/* the prepared statement's name, and what an error names */
	int nparams;
	const char *sql;
};
extern const struct db_stmt_info db_stmts[_DB_STMT_COUNT];
