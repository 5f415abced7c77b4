/* spazactl's database and the arguments every noun takes (see ctl.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "cfg.h"
#include "ctl.h"
#include "db_sync.h"
#include "migrate.h"
#include "money.h"
#include "secrets.h"

int ctl_db(struct ctl *ctl)
{
	char err[512];

	/* as the schema's owner: staff's work and the migrations are beyond spazad's role */
	const char *kw[4], *val[4];
	db_conn_params(g_cfg->db_conninfo, g_cfg->db_owner, kw, val);
	ctl->conn = PQconnectdbParams(kw, val, 1);
	if (PQstatus(ctl->conn) != CONNECTION_OK) {
		fprintf(stderr, "spazactl: database (%s): %s", g_cfg->db_conninfo, PQerrorMessage(ctl->conn));
		return -EIO;
	}
	if (migrate_apply(ctl->conn, err, sizeof(err)) < 0) {
		fprintf(stderr, "spazactl: schema migration: %s\n", err);
		return -EIO;
	}
	return 0;
}

int ctl_migrate(struct ctl *ctl, int argc, char **argv)
{
	char err[512];
	unsigned version;

	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	if (migrate_current(ctl->conn, &version, err, sizeof(err)) < 0) {
		fprintf(stderr, "spazactl: %s\n", err);
		return CTL_ERR;
	}
	printf("schema version %u\n", version);
	return CTL_OK;
}

PGresult *ctl_query(struct ctl *ctl, enum db_stmt stmt, const char *const *params)
{
	char err[512];
	PGresult *res;

	if (db_sync_stmt(ctl->conn, "database", stmt, params, &res, err, sizeof(err)) < 0) {
		fprintf(stderr, "spazactl: %s\n", err);
		return NULL;
	}
	return res;
}

PGresult *ctl_query_row(struct ctl *ctl, enum db_stmt stmt, const char *const *params, const char *none_fmt, ...)
{
	PGresult *res = ctl_query(ctl, stmt, params);
	if (res && PQntuples(res) == 0) {
		va_list ap;
		fprintf(stderr, "spazactl: ");
		va_start(ap, none_fmt);
		vfprintf(stderr, none_fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
		PQclear(res);
		return NULL;
	}
	return res;
}

int ctl_txn(struct ctl *ctl, const char *sql)
{
	char err[512];

	if (db_sync_exec(ctl->conn, "database", sql, 0, NULL, PGRES_COMMAND_OK, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "spazactl: %s\n", err);
		return -EIO;
	}
	return 0;
}

const char *ctl_money(char *buf, size_t len, const char *cents)
{
	money_format(buf, len, strtoll(cents, NULL, 10));
	return buf;
}

int ctl_msisdn(const char *arg, char *out, size_t len)
{
	if (msisdn_normalize(arg, g_cfg->country_code, out, len) < 0) {
		fprintf(stderr, "spazactl: \"%s\" is not a phone number (like 0821234567 or +27821234567)\n", arg);
		return -EINVAL;
	}
	return 0;
}

PGresult *ctl_customer(struct ctl *ctl, const char *msisdn)
{
	const char *params[] = { msisdn };
	return ctl_query_row(ctl, DB_CUSTOMER_BY_MSISDN, params, "no customer %s", msisdn);
}

int ctl_customer_arg(struct ctl *ctl, const char *arg, char msisdn[MSISDN_BUF_LEN], PGresult **cust)
{
	if (ctl_msisdn(arg, msisdn, MSISDN_BUF_LEN) < 0)
		return CTL_USAGE;
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	*cust = ctl_customer(ctl, msisdn);
	return *cust ? CTL_OK : CTL_ERR;
}

int64_t ctl_order_id(const char *arg)
{
	char *end;

	errno = 0;
	long long n = strtoll(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end || errno || n <= 0) {
		fprintf(stderr, "spazactl: \"%s\" is not an order number\n", arg);
		return 0;
	}
	return n;
}

int ctl_secrets(const char *name)
{
	char err[512];

	if (secrets_load_cfg(err, sizeof(err)) < 0) {
		fprintf(stderr, "spazactl: %s\n", err);
		return -ENOKEY;
	}
	if (!secrets_have(name)) {
		fprintf(stderr, "spazactl: the secrets file %s has no key \"%s\"\n", g_cfg->secrets_file, name);
		return -ENOKEY;
	}
	return 0;
}

int ctl_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "spazactl: getrandom: %s\n", strerror(errno));
			return -EIO;
		}
		p += n;
		len -= n;
	}
	return 0;
}

void ctl_hex(char *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

const char *ctl_opt(int argc, char **argv, int *i, const char *name, bool *missing)
{
	size_t len = strlen(name);
	if (strncmp(argv[*i], name, len))	/* NOLINT(clang-analyzer-core.NonNullParamChecker): *i < argc */
		return NULL;
	if (argv[*i][len] == '=')
		return argv[*i] + len + 1;
	if (argv[*i][len])
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	*i += 1;
	return argv[*i];
}
