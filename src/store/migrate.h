#pragma once
/* Schema migrations: sql/NNN_description.sql, compiled in by scripts/embed-sql (sql_embed.c),
 * applied by spazactl before every command (as the schema's owner); spazad only checks them. */
#include <stddef.h>
#include <libpq-fe.h>

struct migration {
	unsigned version;	/* the file's number prefix */
	const char *name;	/* the file name, recorded in schema_migrations */
	const char *sql;	/* the whole file; must not contain BEGIN/COMMIT of its own */
};

/* In ascending version order (embed-sql guarantees it). */
extern const struct migration spaza_migrations[];
extern const unsigned spaza_migrations_count;

/* Bring the database up to the newest embedded version: every missing version in its own
 * transaction, under an advisory lock so a daemon and spazactl starting together do not
 * race. Refuses (-EPROTO) a database that has a version this binary does not know: an
 * older binary must not run against a newer schema. Idempotent. Synchronous; call it
 * before any event loop runs. Returns 0, or -EPROTO / -EIO with a reason in err. */
int migrate_apply(PGconn *conn, char *err, size_t errlen);

/* Whether the database has exactly the schema this binary carries, changing nothing: spazad
 * connects as the runtime role, which may not change the schema, so it checks and refuses
 * rather than migrates. Returns 0; -EAGAIN when migrations are pending (err says which and that
 * `spazactl migrate` applies them); -EPROTO for a schema newer than this binary; -EIO. */
int migrate_check(PGconn *conn, char *err, size_t errlen);

/* The newest version recorded in the database (0 if none). Returns 0 or -EIO. */
int migrate_current(PGconn *conn, unsigned *version, char *err, size_t errlen);
