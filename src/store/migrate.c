/* Applying the embedded schema migrations, and checking none is pending (see migrate.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "db_sync.h"
#include "logging.h"
#include "migrate.h"

/* Every Spaza process uses this advisory lock key ("spaz" in ASCII) around migrations. */
#define MIGRATE_LOCK_KEY "1936744570"

static bool migrate_known(unsigned version)
{
	for (unsigned i = 0; i < spaza_migrations_count; i++)
		if (spaza_migrations[i].version == version)
			return true;
	return false;
}

static bool migrate_recorded(const PGresult *applied, unsigned version)
{
	for (int i = 0; i < PQntuples(applied); i++)
		if (strtoul(PQgetvalue(applied, i, 0), NULL, 10) == version)
			return true;
	return false;
}

/* One migration, all or nothing: its statements and its schema_migrations row commit together. */
static int migrate_one(PGconn *conn, const struct migration *m, char *err, size_t errlen)
{
	char version[16];
	const char *params[] = { version, m->name };
	int rc;

	snprintf(version, sizeof(version), "%u", m->version);
	rc = db_sync_exec(conn, "BEGIN", "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL, err, errlen);
	if (rc)
		return rc;
	/* Notices such as "already exists, skipping" are not news to an operator. */
	rc = db_sync_exec(conn, m->name, "SET LOCAL client_min_messages = warning", 0, NULL, PGRES_COMMAND_OK,
			  NULL, err, errlen);
	if (!rc)
		rc = db_sync_exec(conn, m->name, m->sql, 0, NULL, PGRES_COMMAND_OK, NULL, err, errlen);
	if (!rc)
		rc = db_sync_exec(conn, m->name, "INSERT INTO schema_migrations (version, name, applied_at)"
				  " VALUES ($1, $2, now())", 2, params, PGRES_COMMAND_OK, NULL, err, errlen);
	if (!rc)
		rc = db_sync_exec(conn, m->name, "COMMIT", 0, NULL, PGRES_COMMAND_OK, NULL, err, errlen);
	if (rc) {
		PQclear(PQexec(conn, "ROLLBACK"));
		return rc;
	}
	LOGP(DDB, LOGL_NOTICE, "applied schema migration %s\n", m->name);
	return 0;
}

/* Whether the table of applied migrations exists yet. */
static int migrate_have_table(PGconn *conn, bool *have, char *err, size_t errlen)
{
	PGresult *res;
	int rc = db_sync_exec(conn, "schema_migrations", "SELECT to_regclass('schema_migrations') IS NOT NULL", 0,
			      NULL, PGRES_TUPLES_OK, &res, err, errlen);
	if (rc)
		return rc;
	*have = !strcmp(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	return 0;
}

/* The applied versions (the caller owns the result), refusing (-EPROTO) a version this binary
 * does not know: an older binary must not run against a newer schema. */
static int migrate_applied(PGconn *conn, PGresult **applied, char *err, size_t errlen)
{
	int rc = db_sync_exec(conn, "schema_migrations", "SELECT version, name FROM schema_migrations ORDER BY version",
			      0, NULL, PGRES_TUPLES_OK, applied, err, errlen);
	if (rc)
		return rc;
	for (int i = 0; i < PQntuples(*applied); i++) {
		unsigned v = strtoul(PQgetvalue(*applied, i, 0), NULL, 10);
		if (!migrate_known(v)) {
			snprintf(err, errlen, "the database has schema version %u (%s), which this binary does not"
				 " know (it knows up to %u): use a newer build", v, PQgetvalue(*applied, i, 1),
				 spaza_migrations[spaza_migrations_count - 1].version);
			PQclear(*applied);
			return -EPROTO;
		}
	}
	return 0;
}

static int migrate_locked(PGconn *conn, char *err, size_t errlen)
{
	PGresult *applied;
	bool have;
	int rc;

	/* Checked first rather than CREATE TABLE IF NOT EXISTS, whose notice libpq would print on
	 * stderr every time; the advisory lock makes check-then-create safe. */
	rc = migrate_have_table(conn, &have, err, errlen);
	if (rc)
		return rc;
	if (!have) {
		rc = db_sync_exec(conn, "schema_migrations",
				  "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
				  " applied_at timestamptz NOT NULL)", 0, NULL, PGRES_COMMAND_OK, NULL, err, errlen);
		if (rc)
			return rc;
	}
	rc = migrate_applied(conn, &applied, err, errlen);
	if (rc)
		return rc;
	for (unsigned i = 0; i < spaza_migrations_count && !rc; i++)
		if (!migrate_recorded(applied, spaza_migrations[i].version))
			rc = migrate_one(conn, &spaza_migrations[i], err, errlen);
	PQclear(applied);
	return rc;
}

int migrate_apply(PGconn *conn, char *err, size_t errlen)
{
	const char *key[] = { MIGRATE_LOCK_KEY };
	char unlock_err[256];
	int rc;

	rc = db_sync_exec(conn, "advisory lock", "SELECT pg_advisory_lock($1::bigint)", 1, key,
			  PGRES_TUPLES_OK, NULL, err, errlen);
	if (rc)
		return rc;
	rc = migrate_locked(conn, err, errlen);
	/* The first error is the one worth reporting; an unlock failure matters only alone. */
	if (db_sync_exec(conn, "advisory unlock", "SELECT pg_advisory_unlock($1::bigint)", 1, key,
			 PGRES_TUPLES_OK, NULL, unlock_err, sizeof(unlock_err)) && !rc) {
		snprintf(err, errlen, "%s", unlock_err);
		rc = -EIO;
	}
	return rc;
}

int migrate_check(PGconn *conn, char *err, size_t errlen)
{
	PGresult *applied;
	unsigned pending = 0;
	const char *first = NULL;
	bool have;
	int rc;

	rc = migrate_have_table(conn, &have, err, errlen);
	if (rc)
		return rc;
	if (!have) {
		snprintf(err, errlen, "the database has no Spaza schema: run `spazactl migrate` first (it connects"
			 " as the schema's owner, `database-owner`)");
		return -EAGAIN;
	}
	rc = migrate_applied(conn, &applied, err, errlen);
	if (rc)
		return rc;
	for (unsigned i = 0; i < spaza_migrations_count; i++)
		if (!migrate_recorded(applied, spaza_migrations[i].version) && !pending++)
			first = spaza_migrations[i].name;
	PQclear(applied);
	if (pending) {
		snprintf(err, errlen, "%u schema migration%s pending, the first %s: run `spazactl migrate` (as the"
			 " schema's owner, `database-owner`); spazad's own role may not change the schema", pending,
			 pending == 1 ? "" : "s", first);
		return -EAGAIN;
	}
	return 0;
}

int migrate_current(PGconn *conn, unsigned *version, char *err, size_t errlen)
{
	PGresult *res;
	int rc = db_sync_exec(conn, "schema version", "SELECT coalesce(max(version), 0) FROM schema_migrations",
			      0, NULL, PGRES_TUPLES_OK, &res, err, errlen);
	if (rc)
		return rc;
	*version = strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}
