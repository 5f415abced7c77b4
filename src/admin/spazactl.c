/* spazactl: the shop staff's command line. It reads spazad's config file (database, country
 * code, catalogue limits), brings the schema up to date and does one job over a short-lived
 * synchronous libpq connection. The running daemon learns about catalogue changes through
 * NOTIFY; everything else it reads from the database when it needs it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <talloc.h>
#include <openssl/crypto.h>
#include <libpq-fe.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/utils.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/logging.h>
#include "barcode.h"
#include "catalog_import.h"
#include "cfg.h"
#include "db_sync.h"
#include "easypay.h"
#include "luhn.h"
#include "logging.h"
#include "migrate.h"
#include "money.h"
#include "msisdn.h"
#include "gsm7.h"
#include "secrets.h"

/* Exit codes: scripts tell "you typed it wrong" from "it did not work". */
enum spazactl_exit {
	SPAZACTL_OK = 0,
	SPAZACTL_ERR = 1,	/* bad data, not found, database trouble */
	SPAZACTL_USAGE = 2,	/* unknown command or option, wrong or malformed arguments */
};

/* What ./scripts/run writes, so that after it a bare `spazactl ...` talks to the demo. */
#define SPAZACTL_DEFAULT_CFG "var/spazad.cfg"
#define SPAZACTL_ORDER_LIST_MAX 50
#define SPAZACTL_TIME_FMT "'YYYY-MM-DD HH24:MI:SS'"
/* Vouchers: PIN length (with the Luhn check digit), most per run, largest value in cents. */
#define VOUCHER_PIN_LEN 16
#define SPAZACTL_VOUCHERS_MAX 100000
#define SPAZACTL_VOUCHER_VALUE_MAX 10000000
#define SPAZACTL_CREDIT_LIMIT_MAX 100000000
/* Random bytes in a retailer's key id ("rk_" + hex). */
#define SPAZACTL_KEY_ID_BYTES 8

/* The statuses orders.status allows (sql/001_init.sql), in the order an order moves. */
static const char *const spazactl_statuses[] = {
	"awaiting_payment", "paid", "shipped", "delivered", "cancelled",
};

struct spazactl {
	void *ctx;
	PGconn *conn;
};

struct spazactl_cmd {
	const char *group;	/* first word */
	const char *verb;	/* second word, NULL for one-word commands */
	const char *args;	/* argument synopsis for --help */
	int min_args, max_args;
	const char *help;
	int (*run)(struct spazactl *ctl, int argc, char **argv);
};

static const struct spazactl_cmd spazactl_cmds[];
static int spazactl_sms_timeline(struct spazactl *ctl, const char *msisdn);

/* "catalog import FILE.csv", "migrate" */
static const char *spazactl_synopsis(char *buf, size_t len, const struct spazactl_cmd *c)
{
	snprintf(buf, len, "%s%s%s%s%s", c->group, c->verb ? " " : "", c->verb ? c->verb : "", *c->args ? " " : "",
		 c->args);
	return buf;
}

static void spazactl_usage(FILE *out)
{
	fprintf(out, "usage: spazactl [-c FILE] COMMAND [ARGS]\n\n"
		"options:\n"
		"  -c, --config FILE  spazad's configuration file (default: " SPAZACTL_DEFAULT_CFG
		", which ./scripts/run writes)\n"
		"  -h, --help         show this help\n\n"
		"commands (each applies pending schema migrations first):\n");
	for (const struct spazactl_cmd *c = spazactl_cmds; c->group; c++) {
		char synopsis[96];
		spazactl_synopsis(synopsis, sizeof(synopsis), c);
		/* A synopsis too long for the column gets the help on a line of its own. */
		fprintf(out, "  %-28s%s%s\n", synopsis, strlen(synopsis) > 28 ? "\n                               " : " ",
			c->help);
	}
	fprintf(out, "\nSTATUS is one of:");
	for (size_t i = 0; i < ARRAY_SIZE(spazactl_statuses); i++)
		fprintf(out, " %s", spazactl_statuses[i]);
	fprintf(out, "\nexit status: 0 ok, 1 error (bad data, not found, database), 2 usage\n");
}

/* The database, connected and migrated. Commands call it only after checking their
 * arguments, so a typo never waits for a database. */
static int spazactl_db(struct spazactl *ctl)
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

/* A query that returns rows; on failure says what failed and returns NULL. */
static PGresult *spazactl_query(struct spazactl *ctl, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = PQexecParams(ctl->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "spazactl: database: %s",
			res ? PQresultErrorMessage(res) : PQerrorMessage(ctl->conn));
		PQclear(res);
		return NULL;
	}
	return res;
}

/* A query that must return a row, such as one thing looked up by what the user typed: when it
 * returns none, says so ("spazactl: " and none_fmt) and returns NULL, as when it fails. */
static PGresult *spazactl_query_row(struct spazactl *ctl, const char *sql, int nparams, const char *const *params,
				    const char *none_fmt, ...) __attribute__((format(printf, 5, 6)));
static PGresult *spazactl_query_row(struct spazactl *ctl, const char *sql, int nparams, const char *const *params,
				    const char *none_fmt, ...)
{
	PGresult *res = spazactl_query(ctl, sql, nparams, params);
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

static const char *spazactl_money(char *buf, size_t len, const char *cents)
{
	money_format(buf, len, strtoll(cents, NULL, 10));
	return buf;
}

/* MSISDN argument in any form msisdn_normalize() takes; a malformed one is a usage error. */
static int spazactl_msisdn(const char *arg, char *out, size_t len)
{
	if (msisdn_normalize(arg, g_cfg->country_code, out, len) < 0) {
		fprintf(stderr, "spazactl: \"%s\" is not a phone number (like 0821234567 or +27821234567)\n", arg);
		return -EINVAL;
	}
	return 0;
}

/* The customer row for an E.164 number: id, msisdn, lang, since. NULL (with a message)
 * when there is no such customer or the query failed. */
static PGresult *spazactl_customer(struct spazactl *ctl, const char *msisdn)
{
	const char *params[] = { msisdn };
	return spazactl_query_row(ctl, "SELECT id, msisdn, lang, to_char(created_at, " SPAZACTL_TIME_FMT ")"
				  " FROM customers WHERE msisdn = $1", 1, params, "no customer %s", msisdn);
}

/* The customer a command's MSISDN argument names (spazactl_customer's row), with msisdn set
 * to its E.164 form and the database connected. Returns SPAZACTL_OK, or the exit status
 * after a message. */
static int spazactl_customer_arg(struct spazactl *ctl, const char *arg, char msisdn[MSISDN_BUF_LEN],
				 PGresult **cust)
{
	if (spazactl_msisdn(arg, msisdn, MSISDN_BUF_LEN) < 0)
		return SPAZACTL_USAGE;
	if (spazactl_db(ctl) < 0)
		return SPAZACTL_ERR;
	*cust = spazactl_customer(ctl, msisdn);
	return *cust ? SPAZACTL_OK : SPAZACTL_ERR;
}

static int spazactl_migrate(struct spazactl *ctl, int argc, char **argv)
{
	char err[512];
	unsigned version;

	if (spazactl_db(ctl) < 0)
		return SPAZACTL_ERR;
	if (migrate_current(ctl->conn, &version, err, sizeof(err)) < 0) {
		fprintf(stderr, "spazactl: %s\n", err);
		return SPAZACTL_ERR;
	}
	printf("schema version %u\n", version);
	return SPAZACTL_OK;
}

static int spazactl_catalog_import(struct spazactl *ctl, int argc, char **argv)
{
	const struct catalog_limits lim = { .name_max = g_cfg->name_max, .price_max_cents = g_cfg->price_max_cents };
	struct catalog_file *cf;
	unsigned retired = 0;
	char err[512];

	/* The file is checked in full before the database is touched. */
	int rc = catalog_import_read(ctl->ctx, argv[0], &lim, stderr, &cf);
	if (rc == -EINVAL)
		fprintf(stderr, "%s: nothing imported\n", argv[0]);
	if (rc < 0)
		return SPAZACTL_ERR;
	if (spazactl_db(ctl) < 0)
		return SPAZACTL_ERR;
	if (catalog_import_apply(ctl->conn, cf, &retired, err, sizeof(err)) < 0) {
		fprintf(stderr, "spazactl: %s: nothing imported: %s\n", argv[0], err);
		return SPAZACTL_ERR;
	}
	printf("imported %u products in %u categories\n", cf->n_rows, cf->n_categories);
	if (retired)
		printf("retired %u products that are no longer in the file\n", retired);
	return SPAZACTL_OK;
}

static int spazactl_catalog_show(struct spazactl *ctl, int argc, char **argv)
{
	PGresult *res;
	const char *cat = NULL;
	char price[MONEY_BUF_LEN];

	if (spazactl_db(ctl) < 0)
		return SPAZACTL_ERR;
	res = spazactl_query(ctl, "SELECT c.id, c.name, p.position, p.id, p.price_cents, p.stock, p.name"
			     " FROM categories c JOIN products p ON p.category_id = c.id WHERE p.active"
			     " ORDER BY c.position, p.position", 0, NULL);
	if (!res)
		return SPAZACTL_ERR;
	if (PQntuples(res) == 0)
		printf("the catalogue is empty: load one with spazactl catalog import FILE.csv\n");
	else
		printf("  #  sku           price          stock  name\n");
	for (int i = 0; i < PQntuples(res); i++) {
		if (!cat || strcmp(cat, PQgetvalue(res, i, 0))) {
			cat = PQgetvalue(res, i, 0);
			printf("%s (category %s)\n", PQgetvalue(res, i, 1), cat);
		}
		printf("%3s  %-10s %8s %14s  %s\n", PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
		       spazactl_money(price, sizeof(price), PQgetvalue(res, i, 4)), PQgetvalue(res, i, 5),
		       PQgetvalue(res, i, 6));
	}
	PQclear(res);

	res = spazactl_query(ctl, "SELECT count(*) FROM products WHERE NOT active", 0, NULL);
	if (!res)
		return SPAZACTL_ERR;
	if (strcmp(PQgetvalue(res, 0, 0), "0"))
		printf("(%s retired products not shown)\n", PQgetvalue(res, 0, 0));
	PQclear(res);
	return SPAZACTL_OK;
}

/* One customer's sessions and orders, merged by time, newest first. */
static void spazactl_timeline_print(const PGresult *res)
{
	char total[MONEY_BUF_LEN];

	if (PQntuples(res) == 0)
		printf("no sessions or orders yet\n");
	for (int i = 0; i < PQntuples(res); i++) {
		const char *at = PQgetvalue(res, i, 0);
		if (!strcmp(PQgetvalue(res, i, 1), "order")) {
			printf("%s  order    #%s  %s x %s  %s  %s\n", at, PQgetvalue(res, i, 7), PQgetvalue(res, i, 8),
			       PQgetvalue(res, i, 9), spazactl_money(total, sizeof(total), PQgetvalue(res, i, 10)),
			       PQgetvalue(res, i, 11));
			continue;
		}
		printf("%s  session  %s %s  %s  %s hops  %s", at, PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
		       PQgetvalue(res, i, 4), PQgetvalue(res, i, 5), PQgetvalue(res, i, 6));
		if (!PQgetisnull(res, i, 7))
			printf("  order #%s", PQgetvalue(res, i, 7));
		printf("\n");
	}
}

static int spazactl_customer_show(struct spazactl *ctl, int argc, char **argv)
{
	char msisdn[MSISDN_BUF_LEN];
	PGresult *cust, *res;

	int rc = spazactl_customer_arg(ctl, argv[0], msisdn, &cust);
	if (rc != SPAZACTL_OK)
		return rc;
	printf("customer  %s\nlanguage  %s\nsince     %s\n\n", PQgetvalue(cust, 0, 1), PQgetvalue(cust, 0, 2),
	       PQgetvalue(cust, 0, 3));

	/* Both kinds of event in one result with the same columns, so the database merges
	 * them by time: at, kind, channel, service code, outcome, hops, screens, order id,
	 * qty, product, total, status. */
	const char *params[] = { PQgetvalue(cust, 0, 0) };
	res = spazactl_query(ctl,
		"SELECT to_char(t.at, " SPAZACTL_TIME_FMT "), t.* FROM ("
		" SELECT 'session' AS kind, s.channel, s.service_code, s.outcome, s.hops, s.screens, s.order_id,"
		"  NULL::integer AS qty, NULL::text AS product, NULL::bigint AS total_cents, NULL::text AS status,"
		"  s.started_at AS at"
		" FROM ussd_sessions s WHERE s.customer_id = $1"
		" UNION ALL"
		" SELECT 'order', NULL, NULL, NULL, NULL, NULL, o.id, o.qty, p.name, o.total_cents, o.status, o.created_at"
		" FROM orders o JOIN products p ON p.id = o.product_id WHERE o.customer_id = $1"
		") t ORDER BY t.at DESC, t.kind", 1, params);
	PQclear(cust);
	if (!res)
		return SPAZACTL_ERR;
	spazactl_timeline_print(res);
	PQclear(res);
	if (spazactl_sms_timeline(ctl, msisdn) < 0)
		return SPAZACTL_ERR;
	return SPAZACTL_OK;
}

static int spazactl_order_list(struct spazactl *ctl, int argc, char **argv)
{
	char msisdn[MSISDN_BUF_LEN], limit[16], total[MONEY_BUF_LEN];
	/* No MSISDN is an SQL NULL: every customer's orders. */
	const char *params[] = { argc ? msisdn : NULL, limit };
	PGresult *res;

	if (argc && spazactl_msisdn(argv[0], msisdn, sizeof(msisdn)) < 0)
		return SPAZACTL_USAGE;
	if (spazactl_db(ctl) < 0)
		return SPAZACTL_ERR;
	if (argc) {
		PGresult *cust = spazactl_customer(ctl, msisdn);
		if (!cust)
			return SPAZACTL_ERR;
		PQclear(cust);
	}
	snprintf(limit, sizeof(limit), "%d", SPAZACTL_ORDER_LIST_MAX);
	res = spazactl_query(ctl,
		"SELECT o.id, to_char(o.created_at, " SPAZACTL_TIME_FMT "), c.msisdn, o.status, o.total_cents, o.qty, p.name"
		" FROM orders o JOIN customers c ON c.id = o.customer_id JOIN products p ON p.id = o.product_id"
		" WHERE $1::text IS NULL OR c.msisdn = $1 ORDER BY o.id DESC LIMIT $2", 2, params);
	if (!res)
		return SPAZACTL_ERR;
	if (PQntuples(res) == 0)
		printf("no orders\n");
	for (int i = 0; i < PQntuples(res); i++)
		printf("#%-8s %s  %-16s %-16s %10s  %s x %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
		       spazactl_money(total, sizeof(total), PQgetvalue(res, i, 4)), PQgetvalue(res, i, 5),
		       PQgetvalue(res, i, 6));
	PQclear(res);
	return SPAZACTL_OK;
}

static int spazactl_order_status(struct spazactl *ctl, int argc, char **argv)
{
	const char *id = argv[0], *status = NULL;
	char *end;
	PGresult *res;

	errno = 0;
	long long n = strtoll(id, &end, 10);
	if (id[0] < '0' || id[0] > '9' || *end || errno || n <= 0) {
		fprintf(stderr, "spazactl: \"%s\" is not an order number\n", id);
		return SPAZACTL_USAGE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(spazactl_statuses); i++)
		if (!strcmp(argv[1], spazactl_statuses[i]))
			status = spazactl_statuses[i];
	if (!status) {
		fprintf(stderr, "spazactl: unknown status \"%s\" (see spazactl --help)\n", argv[1]);
		return SPAZACTL_USAGE;
	}
	/* Money decides paid and awaiting payment: a status set by hand would be a paid order
	 * without its payment. Cancelling goes through the ledger so that holds, slips and
	 * refunds follow. */
	if (!strcmp(status, "paid") || !strcmp(status, "awaiting_payment")) {
		fprintf(stderr, "spazactl: an order becomes %s through a payment or its reversal, not by hand\n", status);
		return SPAZACTL_USAGE;
	}
	if (spazactl_db(ctl) < 0)
		return SPAZACTL_ERR;

	const char *params[] = { id, status };
	const char *sql;
	int nparams;
	if (!strcmp(status, "cancelled")) {
		sql = "SELECT o.id, o.status FROM orders o, spaza_order_cancel($1::bigint, 'spazactl:cancel:' || $1) c"
		      " WHERE o.id = $1::bigint AND c.outcome IN ('cancelled', 'refunded')";
		nparams = 1;
	} else {	/* joining the row to itself hands back the status it had before this update */
		/* fulfilment follows payment: only a paid order ships, only a paid or shipped one is
		 * delivered (an unpaid order marked shipped would be a sale without its money) */
		sql = "UPDATE orders o SET status = $2, updated_at = now() FROM orders old"
		      " WHERE o.id = $1 AND old.id = o.id AND (old.status = 'paid'"
		      " OR ($2 = 'delivered' AND old.status = 'shipped'))"
		      " RETURNING o.id, old.status";
		nparams = 2;
	}
	res = spazactl_query_row(ctl, sql, nparams, params, "no order #%s that can become %s", id, status);
	if (!res)
		return SPAZACTL_ERR;
	printf("order #%s: %s -> %s\n", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), status);
	PQclear(res);
	return SPAZACTL_OK;
}

/* ---- money: vouchers, credit, retailers, the ledger (sql/002_ledger.sql does the work) ---- */

/* A statement that returns no rows (BEGIN, UPDATE ...); on failure says what failed. */
static int spazactl_exec(struct spazactl *ctl, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = PQexecParams(ctl->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	int rc = 0;
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "spazactl: database: %s", res ? PQresultErrorMessage(res) : PQerrorMessage(ctl->conn));
		rc = -EIO;
	}
	PQclear(res);
	return rc;
}

/* The keys of the secrets file the config names, with `name` among them. */
static int spazactl_secrets(const char *name)
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

/* Bytes from the kernel's CSPRNG. */
static int spazactl_random(void *buf, size_t len)
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

/* A voucher PIN: VOUCHER_PIN_LEN - 1 uniformly random digits (bytes of 250 and up are
 * thrown away, so every digit is equally likely) and the Luhn check digit. */
static int spazactl_voucher_pin(char pin[VOUCHER_PIN_LEN + 1])
{
	int n = 0;
	while (n < VOUCHER_PIN_LEN - 1) {
		uint8_t b[32];
		if (spazactl_random(b, sizeof(b)) < 0)
			return -EIO;
		for (size_t i = 0; i < sizeof(b) && n < VOUCHER_PIN_LEN - 1; i++)
			if (b[i] < 250)
				pin[n++] = '0' + b[i] % 10;
		OPENSSL_cleanse(b, sizeof(b));
	}
	pin[n] = '\0';
	pin[n] = '0' + luhn_check_digit(pin);
	pin[n + 1] = '\0';
	return 0;
}

static void spazactl_hex(char *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* --name VALUE and --name=VALUE; returns the value of the option at argv[*i] for name, moving
 * *i past it, or NULL when argv[*i] is not that option. *missing is set when it has no value. */
static const char *spazactl_opt(int argc, char **argv, int *i, const char *name, bool *missing)
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

/* YYYY-MM-DD with a month and day in range; the database judges the rest (February 30). */
static bool spazactl_is_date(const char *s)
{
	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : s[i] < '0' || s[i] > '9')
			return false;
	int month = (s[5] - '0') * 10 + s[6] - '0', day = (s[8] - '0') * 10 + s[9] - '0';
	return s[10] == '\0' && month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/* vouchers issue: the PINs go to a new file (mode 0600, never overwritten) and nowhere else;
 * the database gets HMAC(secret 'voucher-pin', PIN) and the last 4 digits. The file is written
 * and synced first: if the database then refuses, the file is removed, so a PIN in a file is
 * always a voucher in the database. */
static int spazactl_vouchers_issue(struct spazactl *ctl, int argc, char **argv)
{
	const char *count_s = NULL, *value_s = NULL, *expires = NULL, *out = NULL;
	int64_t value;
	char value_txt[MONEY_BUF_LEN];
	long count;
	char *end;

	for (int i = 0; i < argc; i++) {
		bool missing = false;
		const char *v;
		if ((v = spazactl_opt(argc, argv, &i, "--count", &missing)))
			count_s = v;
		else if ((v = spazactl_opt(argc, argv, &i, "--value", &missing)))
			value_s = v;
		else if ((v = spazactl_opt(argc, argv, &i, "--expires", &missing)))
			expires = v;
		else if ((v = spazactl_opt(argc, argv, &i, "--out", &missing)))
			out = v;
		if (!v) {
			fprintf(stderr, "spazactl: vouchers issue: %s \"%s\"\n", missing ? "no value for" : "unknown option",
				argv[i]);
			return SPAZACTL_USAGE;
		}
	}
	if (!count_s || !value_s || !out) {
		fprintf(stderr, "spazactl: vouchers issue needs --count N, --value R and --out FILE\n");
		return SPAZACTL_USAGE;
	}
	errno = 0;
	count = strtol(count_s, &end, 10);
	if (*count_s < '0' || *count_s > '9' || *end || errno || count < 1 || count > SPAZACTL_VOUCHERS_MAX) {
		fprintf(stderr, "spazactl: --count \"%s\": give a number from 1 to %d\n", count_s, SPAZACTL_VOUCHERS_MAX);
		return SPAZACTL_USAGE;
	}
	if (money_parse(value_s, &value) < 0 || value <= 0 || value > SPAZACTL_VOUCHER_VALUE_MAX) {
		fprintf(stderr, "spazactl: --value \"%s\": give an amount in rand like 50 or 49.99, at most %d\n",
			value_s, SPAZACTL_VOUCHER_VALUE_MAX / 100);
		return SPAZACTL_USAGE;
	}
	if (expires && !spazactl_is_date(expires)) {
		fprintf(stderr, "spazactl: --expires \"%s\": give a date like 2029-12-31\n", expires);
		return SPAZACTL_USAGE;
	}
	if (access(out, F_OK) == 0) {
		fprintf(stderr, "spazactl: %s exists: PIN files are written once, name a new one\n", out);
		return SPAZACTL_ERR;
	}
	if (spazactl_secrets("voucher-pin") < 0)
		return SPAZACTL_ERR;
	if (spazactl_db(ctl) < 0)
		return SPAZACTL_ERR;

	/* The expiry: the end of the given day, or the database's default (3 years). */
	PGresult *res;
	const char *exp_params[] = { expires };
	res = spazactl_query(ctl, "SELECT to_char(coalesce(($1::date + 1)::timestamptz, now() + interval '3 years')"
			     " - interval '1 second', 'YYYY-MM-DD'), coalesce(($1::date + 1)::timestamptz > now(), true)",
			     1, exp_params);
	if (!res)
		return SPAZACTL_ERR;
	char expires_txt[16];
	snprintf(expires_txt, sizeof(expires_txt), "%s", PQgetvalue(res, 0, 0));
	bool future = !strcmp(PQgetvalue(res, 0, 1), "t");
	PQclear(res);
	if (!future) {
		fprintf(stderr, "spazactl: --expires %s is in the past\n", expires);
		return SPAZACTL_USAGE;
	}

	int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "spazactl: %s: %s\n", out, strerror(errno));
		return SPAZACTL_ERR;
	}
	FILE *fp = fdopen(fd, "w");
	if (!fp) {
		fprintf(stderr, "spazactl: %s: %s\n", out, strerror(errno));
		close(fd);
		unlink(out);
		return SPAZACTL_ERR;
	}

	/* "{hex,hex,...}" and "{1234,0456,...}": text[] literals of plain hex and digits. */
	size_t hmacs_len = count * (2 * SECRETS_HMAC_LEN + 1) + 3, last4s_len = count * 5 + 3;
	char *hmacs = talloc_size(ctl->ctx, hmacs_len), *last4s = talloc_size(ctl->ctx, last4s_len);
	char *h = hmacs, *l = last4s;
	int rc = SPAZACTL_OK;
	money_format(value_txt, sizeof(value_txt), value);
	fprintf(fp, "pin,value,expires\n");
	*h++ = '{';
	*l++ = '{';
	for (long i = 0; i < count && rc == SPAZACTL_OK; i++) {
		char pin[VOUCHER_PIN_LEN + 1];
		uint8_t mac[SECRETS_HMAC_LEN];
		if (spazactl_voucher_pin(pin) < 0 || secrets_hmac("voucher-pin", pin, VOUCHER_PIN_LEN, mac) < 0) {
			rc = SPAZACTL_ERR;
			break;
		}
		fprintf(fp, "%s,%s,%s\n", pin, value_txt + 1, expires_txt);
		if (i)
			*h++ = ',', *l++ = ',';
		spazactl_hex(h, mac, sizeof(mac));
		h += 2 * SECRETS_HMAC_LEN;
		memcpy(l, pin + VOUCHER_PIN_LEN - 4, 4);
		l += 4;
		OPENSSL_cleanse(pin, sizeof(pin));
	}
	*h++ = '}';
	*h = '\0';
	*l++ = '}';
	*l = '\0';
	if (rc == SPAZACTL_OK && (fflush(fp) != 0 || fsync(fileno(fp)) != 0)) {
		fprintf(stderr, "spazactl: %s: %s\n", out, strerror(errno));
		rc = SPAZACTL_ERR;
	}
	if (fclose(fp) != 0 && rc == SPAZACTL_OK) {
		fprintf(stderr, "spazactl: %s: %s\n", out, strerror(errno));
		rc = SPAZACTL_ERR;
	}

	if (rc == SPAZACTL_OK) {
		char value_c[24];
		snprintf(value_c, sizeof(value_c), "%" PRId64, value);
		const char *params[] = { hmacs, last4s, value_c, expires };
		res = spazactl_query(ctl, "SELECT issued, first_id, last_id FROM spaza_voucher_issue($1::text[], $2::text[],"
				     " $3::bigint, ($4::date + 1)::timestamptz)", 4, params);
		if (!res)
			rc = SPAZACTL_ERR;
		else {
			printf("issued %s vouchers of %s (ids %s-%s), valid until %s\n", PQgetvalue(res, 0, 0), value_txt,
			       PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), expires_txt);
			printf("the PINs are in %s (mode 0600) and nowhere else: hand the file over, then delete it\n", out);
			PQclear(res);
		}
	}
	if (rc != SPAZACTL_OK) {
		unlink(out);
		fprintf(stderr, "spazactl: no vouchers issued; %s removed\n", out);
	}
	talloc_free(hmacs);
	talloc_free(last4s);
	return rc;
}

static int spazactl_vouchers_show(struct spazactl *ctl, int argc, char **argv)
{
	char value[MONEY_BUF_LEN], remaining[MONEY_BUF_LEN], amount[MONEY_BUF_LEN];
	const char *last4 = argv[0];
	PGresult *res;

	if (strlen(last4) != 4 || strspn(last4, "0123456789") != 4) {
		fprintf(stderr, "spazactl: \"%s\" is not the last 4 digits of a PIN\n", last4);
		return SPAZACTL_USAGE;
	}
	if (spazactl_db(ctl) < 0)
		return SPAZACTL_ERR;
	const char *params[] = { last4 };
	res = spazactl_query_row(ctl,
		"SELECT v.id, v.value_cents, v.remaining_cents,"
		" CASE WHEN v.status = 'active' AND v.expires_at <= now() THEN 'expired' ELSE v.status END,"
		" to_char(v.issued_at, " SPAZACTL_TIME_FMT "), to_char(v.expires_at, " SPAZACTL_TIME_FMT "),"
		" to_char(t.created_at, " SPAZACTL_TIME_FMT "), t.reason, -e.amount_cents, t.order_id, c.msisdn"
		" FROM vouchers v"
		" LEFT JOIN ledger_accounts a ON a.kind = 'voucher_float' AND a.owner_id = v.id"
		" LEFT JOIN ledger_entries e ON e.account_id = a.id"
		" LEFT JOIN ledger_txns t ON t.id = e.txn_id"
		" LEFT JOIN orders o ON o.id = t.order_id LEFT JOIN customers c ON c.id = o.customer_id"
		" WHERE v.last4 = $1 ORDER BY v.id, t.id", 1, params, "no voucher ending in %s", last4);
	if (!res)
		return SPAZACTL_ERR;
	const char *shown = NULL;
	for (int i = 0; i < PQntuples(res); i++) {
		if (!shown || strcmp(shown, PQgetvalue(res, i, 0))) {
			shown = PQgetvalue(res, i, 0);
			printf("%svoucher %s  ...%s  value %s  remaining %s  %s\n  issued %s  expires %s\n", i ? "\n" : "",
			       shown, last4, spazactl_money(value, sizeof(value), PQgetvalue(res, i, 1)),
			       spazactl_money(remaining, sizeof(remaining), PQgetvalue(res, i, 2)), PQgetvalue(res, i, 3),
			       PQgetvalue(res, i, 4), PQgetvalue(res, i, 5));
		}
		if (PQgetisnull(res, i, 7))
			continue;
		printf("  %s  %-16s %10s", PQgetvalue(res, i, 6), PQgetvalue(res, i, 7),
		       spazactl_money(amount, sizeof(amount), PQgetvalue(res, i, 8)));
		if (!PQgetisnull(res, i, 9))
			printf("  order #%s  %s", PQgetvalue(res, i, 9), PQgetvalue(res, i, 10));
		printf("\n");
	}
	PQclear(res);
	return SPAZACTL_OK;
}

static int spazactl_credit_set_limit(struct spazactl *ctl, int argc, char **argv)
{
	char msisdn[MSISDN_BUF_LEN], limit[24], used[MONEY_BUF_LEN], amount[MONEY_BUF_LEN];
	int64_t cents;
	PGresult *res;

	if (spazactl_msisdn(argv[0], msisdn, sizeof(msisdn)) < 0)
		return SPAZACTL_USAGE;
	if (money_parse(argv[1], &cents) < 0 || cents > SPAZACTL_CREDIT_LIMIT_MAX) {
		fprintf(stderr, "spazactl: \"%s\" is not an amount in rand like 500 or 499.99 (at most %d)\n", argv[1],
			SPAZACTL_CREDIT_LIMIT_MAX / 100);
		return SPAZACTL_USAGE;
	}
	if (spazactl_db(ctl) < 0)
		return SPAZACTL_ERR;
	snprintf(limit, sizeof(limit), "%" PRId64, cents);
	/* Staff may open a line before the customer's first contact: the record starts here then. */
	const char *params[] = { msisdn, limit };
	res = spazactl_query(ctl,
		"WITH c AS (INSERT INTO customers (msisdn) VALUES ($1) ON CONFLICT (msisdn) DO UPDATE"
		" SET msisdn = EXCLUDED.msisdn RETURNING id)"
		" SELECT l.outcome, l.used_cents FROM c, spaza_credit_set_limit(c.id, $2::bigint) l", 2, params);
	if (!res)
		return SPAZACTL_ERR;
	money_format(amount, sizeof(amount), cents);
	spazactl_money(used, sizeof(used), PQgetvalue(res, 0, 1));
	int rc = SPAZACTL_OK;
	if (!strcmp(PQgetvalue(res, 0, 0), "ok"))
		printf("credit limit of %s: %s (%s in use)\n", msisdn, amount, used);
	else {
		fprintf(stderr, "spazactl: %s uses %s of their credit: the limit cannot go below that\n", msisdn, used);
		rc = SPAZACTL_ERR;
	}
	PQclear(res);
	return rc;
}

static int spazactl_credit_show(struct spazactl *ctl, int argc, char **argv)
{
	static const char *const labels[] = { "limit", "used", "held", "owed", "available", "store credit" };
	char msisdn[MSISDN_BUF_LEN], amount[MONEY_BUF_LEN];
	PGresult *cust, *res;

	int rc = spazactl_customer_arg(ctl, argv[0], msisdn, &cust);
	if (rc != SPAZACTL_OK)
		return rc;
	const char *params[] = { PQgetvalue(cust, 0, 0) };
	res = spazactl_query(ctl, "SELECT limit_cents, used_cents, held_cents, owed_cents, available_cents,"
			     " store_credit_cents FROM spaza_credit_balance($1)", 1, params);
	if (!res) {
		PQclear(cust);
		return SPAZACTL_ERR;
	}
	printf("customer      %s\n", msisdn);
	for (size_t i = 0; i < ARRAY_SIZE(labels); i++)
		printf("%-13s %s\n", labels[i], spazactl_money(amount, sizeof(amount), PQgetvalue(res, 0, i)));
	PQclear(res);

	/* Holds and the ledger's movements on the customer's accounts, newest first. */
	res = spazactl_query(ctl,
		"SELECT to_char(at, " SPAZACTL_TIME_FMT "), what, amount, order_id FROM ("
		" SELECT h.created_at AS at, 'hold ' || h.status AS what, h.amount_cents AS amount, h.order_id, h.id AS n"
		" FROM holds h WHERE h.customer_id = $1"
		" UNION ALL"
		" SELECT t.created_at, t.reason || CASE a.kind WHEN 'store_credit' THEN ' (store credit)' ELSE '' END,"
		"  CASE a.kind WHEN 'store_credit' THEN -e.amount_cents ELSE e.amount_cents END, t.order_id, t.id"
		" FROM ledger_accounts a JOIN ledger_entries e ON e.account_id = a.id JOIN ledger_txns t ON t.id = e.txn_id"
		" WHERE a.kind IN ('customer_credit', 'store_credit') AND a.owner_id = $1"
		") x ORDER BY at DESC, n DESC LIMIT 20", 1, params);
	PQclear(cust);
	if (!res)
		return SPAZACTL_ERR;
	if (PQntuples(res))
		printf("\n");
	for (int i = 0; i < PQntuples(res); i++) {
		printf("%s  %-30s %10s", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       spazactl_money(amount, sizeof(amount), PQgetvalue(res, i, 2)));
		if (!PQgetisnull(res, i, 3))
			printf("  order #%s", PQgetvalue(res, i, 3));
		printf("\n");
	}
	PQclear(res);
	return SPAZACTL_OK;
}

/* A new key id for a retailer and the signing secret derived from it, printed once: the
 * database keeps the key id only. */
static int spazactl_retailer_key(struct spazactl *ctl, const char *name, bool rotate)
{
	uint8_t rnd[SPAZACTL_KEY_ID_BYTES], secret[SECRETS_HMAC_LEN];
	char key_id[4 + 2 * SPAZACTL_KEY_ID_BYTES], secret_hex[2 * SECRETS_HMAC_LEN + 1];
	PGresult *res;

	if (strlen(name) < 1 || strlen(name) > 64 || strpbrk(name, "\n\r\t")) {
		fprintf(stderr, "spazactl: a retailer name is 1 to 64 characters on one line\n");
		return SPAZACTL_USAGE;
	}
	if (spazactl_secrets("retailer-master") < 0)
		return SPAZACTL_ERR;
	if (spazactl_random(rnd, sizeof(rnd)) < 0)
		return SPAZACTL_ERR;
	memcpy(key_id, "rk_", 3);
	spazactl_hex(key_id + 3, rnd, sizeof(rnd));
	if (secrets_hmac("retailer-master", key_id, strlen(key_id), secret) < 0)
		return SPAZACTL_ERR;
	if (spazactl_db(ctl) < 0)
		return SPAZACTL_ERR;

	const char *params[] = { name, key_id };
	if (spazactl_exec(ctl, "BEGIN", 0, NULL) < 0)
		return SPAZACTL_ERR;
	if (rotate) {
		res = spazactl_query_row(ctl, "SELECT id FROM retailers WHERE name = $1 FOR UPDATE", 1, params,
					 "no retailer \"%s\"", name);
		if (res && spazactl_exec(ctl, "UPDATE retailer_keys SET revoked_at = now() WHERE revoked_at IS NULL"
					 " AND retailer_id = (SELECT id FROM retailers WHERE name = $1)", 1, params) < 0) {
			PQclear(res);
			res = NULL;
		}
	} else {
		res = spazactl_query_row(ctl, "INSERT INTO retailers (name) VALUES ($1) ON CONFLICT (name) DO NOTHING"
					 " RETURNING id", 1, params,
					 "retailer \"%s\" exists (a new key: spazactl retailer rotate-key)", name);
	}
	if (res) {
		const char *key_params[] = { key_id, PQgetvalue(res, 0, 0) };
		if (spazactl_exec(ctl, "INSERT INTO retailer_keys (key_id, retailer_id) VALUES ($1, $2)", 2, key_params) < 0 ||
		    spazactl_exec(ctl, "COMMIT", 0, NULL) < 0) {
			PQclear(res);
			res = NULL;
		}
	}
	if (!res) {
		PQclear(PQexec(ctl->conn, "ROLLBACK"));
		OPENSSL_cleanse(secret, sizeof(secret));
		return SPAZACTL_ERR;
	}
	spazactl_hex(secret_hex, secret, sizeof(secret));
	printf("retailer  %s (id %s)%s\nkey id    %s\nsecret    %s\n", name, PQgetvalue(res, 0, 0),
	       rotate ? ": new key, the old one is revoked" : "", key_id, secret_hex);
	printf("the secret is shown once and stored nowhere: give it to the retailer now\n");
	PQclear(res);
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(secret_hex, sizeof(secret_hex));
	return SPAZACTL_OK;
}

static int spazactl_retailer_add(struct spazactl *ctl, int argc, char **argv)
{
	return spazactl_retailer_key(ctl, argv[0], false);
}

static int spazactl_retailer_rotate_key(struct spazactl *ctl, int argc, char **argv)
{
	return spazactl_retailer_key(ctl, argv[0], true);
}

/* Every invariant of the money core, proved against the whole database by
 * spaza_ledger_check(): one line per violation, and exit status 1 if there is any. */
static int spazactl_ledger_check(struct spazactl *ctl, int argc, char **argv)
{
	PGresult *res;
	int violations;

	if (spazactl_db(ctl) < 0)
		return SPAZACTL_ERR;
	res = spazactl_query(ctl, "SELECT (SELECT count(*) FROM ledger_txns), (SELECT count(*) FROM ledger_entries),"
			     " (SELECT count(*) FROM vouchers), (SELECT count(*) FROM credit_lines),"
			     " (SELECT count(*) FROM slips), (SELECT count(*) FROM orders"
			     "  WHERE status IN ('paid', 'shipped', 'delivered'))", 0, NULL);
	if (!res)
		return SPAZACTL_ERR;
	printf("ledger check: %s transactions, %s entries, %s vouchers, %s credit lines, %s slips, %s paid orders\n",
	       PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
	       PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5));
	PQclear(res);
	res = spazactl_query(ctl, "SELECT invariant, detail FROM spaza_ledger_check() ORDER BY 1, 2", 0, NULL);
	if (!res)
		return SPAZACTL_ERR;
	violations = PQntuples(res);
	for (int i = 0; i < violations; i++)
		printf("VIOLATION: %s: %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
	PQclear(res);
	if (violations) {
		printf("ledger check: %d violation%s\n", violations, violations == 1 ? "" : "s");
		return SPAZACTL_ERR;
	}
	printf("ledger check: every invariant holds (postings sum to zero per transaction and overall; credit lines"
	       " within their limits; vouchers within their value; slips paid at most once; each paid order has"
	       " exactly one settled payment)\n");
	return SPAZACTL_OK;
}

static int spazactl_order_cancel(struct spazactl *ctl, int argc, char **argv)
{
	const char *id = argv[0];
	char key[64], amount[MONEY_BUF_LEN];
	char *end;
	PGresult *res;
	int rc = SPAZACTL_OK;

	errno = 0;
	long long n = strtoll(id, &end, 10);
	if (id[0] < '0' || id[0] > '9' || *end || errno || n <= 0) {
		fprintf(stderr, "spazactl: \"%s\" is not an order number\n", id);
		return SPAZACTL_USAGE;
	}
	if (spazactl_db(ctl) < 0)
		return SPAZACTL_ERR;
	/* The same key every time: cancelling twice is asking once. */
	snprintf(key, sizeof(key), "spazactl:order-cancel:%lld", n);
	const char *params[] = { id, key };
	res = spazactl_query(ctl, "SELECT outcome, refund_cents, refund_to, v.last4 FROM spaza_order_cancel($1, $2) c"
			     " LEFT JOIN vouchers v ON v.id = c.voucher_id", 2, params);
	if (!res)
		return SPAZACTL_ERR;
	const char *outcome = PQgetvalue(res, 0, 0);
	spazactl_money(amount, sizeof(amount), PQgetvalue(res, 0, 1));
	if (!strcmp(outcome, "cancelled"))
		printf("order #%s cancelled (it was not paid: nothing to refund)\n", id);
	else if (!strcmp(outcome, "refunded")) {
		const char *to = PQgetvalue(res, 0, 2);
		printf("order #%s cancelled, %s refunded to ", id, amount);
		if (!strcmp(to, "voucher"))
			printf("voucher ...%s\n", PQgetvalue(res, 0, 3));
		else if (!strcmp(to, "credit"))
			printf("the credit line\n");
		else if (!strcmp(to, "credit_and_store_credit"))
			printf("the credit line, what was already repaid to store credit\n");
		else
			printf("store credit\n");
	} else if (!strcmp(outcome, "not_found")) {
		fprintf(stderr, "spazactl: no order #%s\n", id);
		rc = SPAZACTL_ERR;
	} else if (!strcmp(outcome, "not_cancellable")) {
		fprintf(stderr, "spazactl: order #%s has shipped: it cannot be cancelled\n", id);
		rc = SPAZACTL_ERR;
	} else {
		fprintf(stderr, "spazactl: order #%s: %s\n", id, outcome);
		rc = SPAZACTL_ERR;
	}
	PQclear(res);
	return rc;
}

/* ---- SMS: staff messages, marketing, the SMS part of a customer's timeline (sql/003_sms.sql) ---- */

/* One SMS (160 GSM-7 septets, or 70 characters when any is outside GSM-7): sendsms sends one
 * part unless Kannel is told otherwise, so a longer text would be cut on the phone. */
#define SPAZACTL_SMS_SEPTETS 160u
#define SPAZACTL_SMS_UCS2 70u

/* The words of TEXT joined by spaces, checked to be UTF-8 and to fit one SMS. NULL (with a
 * message) when it does not. */
static char *spazactl_sms_text(struct spazactl *ctl, int argc, char **argv)
{
	char *text = talloc_strdup(ctl->ctx, "");
	for (int i = 0; i < argc; i++)
		text = talloc_asprintf_append(text, "%s%s", i ? " " : "", argv[i]);
	struct gsm7_measure m;
	if (!*text || gsm7_measure(text, strlen(text), &m) < 0) {
		fprintf(stderr, "spazactl: the text is empty or not UTF-8\n");
		return NULL;
	}
	if (!gsm7_fits(text, strlen(text), SPAZACTL_SMS_SEPTETS, SPAZACTL_SMS_UCS2)) {
		if (m.coding == GSM7_CODING_GSM7)
			fprintf(stderr, "spazactl: the text is %u GSM-7 septets, one SMS holds %u\n", m.septets,
				SPAZACTL_SMS_SEPTETS);
		else
			fprintf(stderr, "spazactl: the text is %u characters and not all GSM-7, one SMS holds %u of those\n",
				m.ucs2_units, SPAZACTL_SMS_UCS2);
		return NULL;
	}
	return text;
}

/* sms send MSISDN TEXT: queued for the daemon's outbox (a trigger wakes it); a number seen for
 * the first time becomes a customer, like on first contact. */
static int spazactl_sms_send(struct spazactl *ctl, int argc, char **argv)
{
	char msisdn[MSISDN_BUF_LEN];
	if (spazactl_msisdn(argv[0], msisdn, sizeof(msisdn)) < 0)
		return SPAZACTL_USAGE;
	char *text = spazactl_sms_text(ctl, argc - 1, argv + 1);
	if (!text)
		return SPAZACTL_USAGE;
	if (spazactl_db(ctl) < 0)
		return SPAZACTL_ERR;
	const char *params[] = { msisdn, text };
	PGresult *res = spazactl_query(ctl,
		"WITH c AS (INSERT INTO customers (msisdn) VALUES ($1) ON CONFLICT (msisdn)"
		" DO UPDATE SET msisdn = EXCLUDED.msisdn RETURNING id)"
		" INSERT INTO sms_messages (customer_id, direction, kind, text, status)"
		" SELECT c.id, 'out', 'reply', $2, 'queued' FROM c RETURNING id", 2, params);
	if (!res)
		return SPAZACTL_ERR;
	printf("SMS #%s queued for %s\n", PQgetvalue(res, 0, 0), msisdn);
	PQclear(res);
	return SPAZACTL_OK;
}

/* sms marketing TEXT: one row per customer; for those who sent STOP it is stored suppressed
 * (and the outbox checks again before it sends, in case STOP comes in meanwhile). */
static int spazactl_sms_marketing(struct spazactl *ctl, int argc, char **argv)
{
	char *text = spazactl_sms_text(ctl, argc, argv);
	if (!text)
		return SPAZACTL_USAGE;
	if (spazactl_db(ctl) < 0)
		return SPAZACTL_ERR;
	const char *params[] = { text };
	PGresult *res = spazactl_query(ctl,
		"WITH ins AS (INSERT INTO sms_messages (customer_id, direction, kind, text, status)"
		" SELECT id, 'out', 'marketing', $1, CASE WHEN opt_out THEN 'suppressed' ELSE 'queued' END"
		" FROM customers ORDER BY id RETURNING status)"
		" SELECT count(*) FILTER (WHERE status = 'queued'), count(*) FILTER (WHERE status = 'suppressed') FROM ins",
		1, params);
	if (!res)
		return SPAZACTL_ERR;
	printf("marketing SMS queued for %s customers, suppressed for %s who opted out\n", PQgetvalue(res, 0, 0),
	       PQgetvalue(res, 0, 1));
	PQclear(res);
	return SPAZACTL_OK;
}

/* The SMS part of customer show: the opt-out state, then every SMS in and out, newest first,
 * with what it was read as (in) or its kind, state and last delivery report (out). */
static int spazactl_sms_timeline(struct spazactl *ctl, const char *msisdn)
{
	const char *params[] = { msisdn };
	PGresult *res = spazactl_query(ctl,
		"SELECT opt_out, to_char(opt_out_at, " SPAZACTL_TIME_FMT "), opt_out_source FROM customers"
		" WHERE msisdn = $1", 1, params);
	if (!res)
		return -EIO;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 1))
		printf("\nmarketing %s since %s (%s)\n", strcmp(PQgetvalue(res, 0, 0), "t") ? "opted in" : "opted out",
		       PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	PQclear(res);

	res = spazactl_query(ctl,
		"SELECT to_char(m.created_at, " SPAZACTL_TIME_FMT "), m.id, m.direction, m.kind, m.command, m.status,"
		" m.dlr, m.text, m.order_id, m.order_status, m.attempts, m.last_error"
		" FROM sms_messages m JOIN customers c ON c.id = m.customer_id WHERE c.msisdn = $1"
		" ORDER BY m.created_at DESC, m.id DESC", 1, params);
	if (!res)
		return -EIO;
	printf("\n%s\n", PQntuples(res) ? "SMS, newest first:" : "no SMS yet");
	for (int i = 0; i < PQntuples(res); i++) {
		const char *at = PQgetvalue(res, i, 0), *id = PQgetvalue(res, i, 1);
		if (!strcmp(PQgetvalue(res, i, 2), "in")) {
			printf("%s  sms in   #%s  %s  \"%s\"\n", at, id, PQgetvalue(res, i, 4), PQgetvalue(res, i, 7));
			continue;
		}
		printf("%s  sms out  #%s  %s  %s", at, id, PQgetvalue(res, i, 3), PQgetvalue(res, i, 5));
		if (!PQgetisnull(res, i, 6))
			printf(" (dlr %s)", PQgetvalue(res, i, 6));
		if (!strcmp(PQgetvalue(res, i, 5), "queued") && strcmp(PQgetvalue(res, i, 10), "0"))
			printf(" (%s attempts: %s)", PQgetvalue(res, i, 10), PQgetvalue(res, i, 11));
		if (!PQgetisnull(res, i, 7))
			printf("  \"%s\"\n", PQgetvalue(res, i, 7));
		else
			printf("  (order #%s %s: text rendered when sent)\n", PQgetvalue(res, i, 8), PQgetvalue(res, i, 9));
	}
	PQclear(res);
	return 0;
}

/* ---- slips: printing one, checking a scanned QR code (barcode.c) ---- */

/* A slip reference as staff type it: grouped in fours or not, or the 16 digits an ITF scan
 * gives. A malformed one is a usage error. */
static int spazactl_slip_ref(const char *arg, char ref[EASYPAY_REF_BUF])
{
	char digits[32];
	size_t n = 0;
	for (const char *p = arg; *p && n + 1 < sizeof(digits); p++)
		if (*p != ' ')
			digits[n++] = *p;
	digits[n] = '\0';
	int rc = easypay_ref_parse(n == EASYPAY_REF_LEN + 1 && digits[0] == '0' ? digits + 1 : digits, NULL, NULL,
				   ref, EASYPAY_REF_BUF);
	if (rc == -EBADMSG)
		fprintf(stderr, "spazactl: \"%s\": the check digit is wrong (a typing mistake?)\n", arg);
	else if (rc < 0)
		fprintf(stderr, "spazactl: \"%s\" is not a slip number (15 digits starting with 9)\n", arg);
	return rc;
}

/* The slip as tills see it: ref, status, amount, expiry date (as slips print it), order. NULL
 * (with a message) when there is none or the query failed. */
static PGresult *spazactl_slip_lookup(struct spazactl *ctl, const char *ref)
{
	const char *params[] = { ref };
	return spazactl_query_row(ctl, "SELECT slip_ref, status, amount_cents, to_char(expires_at, 'YYYY-MM-DD'),"
				  " order_id, order_status FROM spaza_slip_lookup($1)", 1, params, "no slip %s", ref);
}

/* slip print REF [--format pdf|png|svg] [--out FILE]: the slip tills and customers see, to a
 * file or to stdout (not to a terminal, for the binary formats). */
static int spazactl_slip_print(struct spazactl *ctl, int argc, char **argv)
{
	const char *ref_arg = NULL, *format = "pdf", *out = NULL;
	char ref[EASYPAY_REF_BUF], grouped[EASYPAY_GROUPED_BUF], amount[MONEY_BUF_LEN];
	enum barcode_out fmt;

	for (int i = 0; i < argc; i++) {
		bool missing = false;
		const char *v;
		if ((v = spazactl_opt(argc, argv, &i, "--format", &missing)))
			format = v;
		else if ((v = spazactl_opt(argc, argv, &i, "--out", &missing)))
			out = v;
		else if (!missing && argv[i][0] != '-' && !ref_arg)	/* NOLINT(clang-analyzer-core.NullDereference): i < argc */
			ref_arg = v = argv[i];
		if (!v) {
			fprintf(stderr, "spazactl: slip print: %s \"%s\"\n", missing ? "no value for" : "unknown option",
				argv[i]);
			return SPAZACTL_USAGE;
		}
	}
	if (!ref_arg) {
		fprintf(stderr, "spazactl: slip print needs the slip number\n");
		return SPAZACTL_USAGE;
	}
	if (barcode_out_parse(format, &fmt) < 0) {
		fprintf(stderr, "spazactl: --format \"%s\": give pdf, png or svg\n", format);
		return SPAZACTL_USAGE;
	}
	if (spazactl_slip_ref(ref_arg, ref) < 0)
		return SPAZACTL_USAGE;
	if (!out && fmt != BARCODE_OUT_SVG && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "spazactl: a %s is not for a terminal: give --out FILE (or redirect)\n", format);
		return SPAZACTL_USAGE;
	}
	if (spazactl_secrets("slip-qr") < 0)
		return SPAZACTL_ERR;
	if (spazactl_db(ctl) < 0)
		return SPAZACTL_ERR;
	PGresult *res = spazactl_slip_lookup(ctl, ref);
	if (!res)
		return SPAZACTL_ERR;
	const char *status = PQgetvalue(res, 0, 1);
	if (!strcmp(status, "expired") || !strcmp(status, "voided")) {
		fprintf(stderr, "spazactl: slip %s is %s: no till will take it (paying again on USSD makes a new one)\n",
			ref, status);
		PQclear(res);
		return SPAZACTL_ERR;
	}
	struct barcode_slip slip = {
		.shop = BARCODE_SHOP_DEFAULT,
		.ref = ref,
		.order_id = strtoll(PQgetvalue(res, 0, 4), NULL, 10),
		.amount_cents = strtoll(PQgetvalue(res, 0, 2), NULL, 10),
		.expires = PQgetvalue(res, 0, 3),
	};
	uint8_t *img;
	size_t len;
	int rc = barcode_slip_render(ctl->ctx, &slip, fmt, &img, &len);
	if (rc < 0) {
		fprintf(stderr, "spazactl: slip %s could not be drawn (%s)\n", ref, strerror(-rc));
		PQclear(res);
		return SPAZACTL_ERR;
	}
	FILE *fp = out ? fopen(out, "wb") : stdout;
	if (!fp || fwrite(img, 1, len, fp) != len || fflush(fp) != 0 || (out && fclose(fp) != 0)) {
		fprintf(stderr, "spazactl: %s: %s\n", out ? out : "stdout", strerror(errno));
		PQclear(res);
		return SPAZACTL_ERR;
	}
	easypay_ref_group(grouped, sizeof(grouped), ref);
	money_format(amount, sizeof(amount), slip.amount_cents);
	fprintf(out ? stdout : stderr, "slip %s (order #%" PRId64 ", %s, pay by %s%s) as %s%s%s, %zu bytes\n",
		grouped, slip.order_id, amount, slip.expires, strcmp(status, "paid") ? "" : "; already PAID",
		format, out ? " in " : " on stdout", out ? out : "", len);
	PQclear(res);
	return SPAZACTL_OK;
}

/* slip verify PAYLOAD: whether a slip's QR code was made by us (its HMAC under 'slip-qr'), and
 * whether it agrees with the slip in the database. Exit 1 for a forgery, a stale or an
 * unknown slip. */
static int spazactl_slip_verify(struct spazactl *ctl, int argc, char **argv)
{
	struct barcode_qr_info qr;
	char grouped[EASYPAY_GROUPED_BUF], amount[MONEY_BUF_LEN], now[MONEY_BUF_LEN];

	if (spazactl_secrets("slip-qr") < 0)
		return SPAZACTL_ERR;
	int rc = barcode_qr_verify(argv[0], &qr);
	if (rc == -EINVAL) {
		fprintf(stderr, "spazactl: not a Spaza slip QR code (they read " BARCODE_QR_PREFIX ":...)\n");
		return SPAZACTL_ERR;
	}
	if (rc == -ENOKEY)
		return SPAZACTL_ERR;
	if (easypay_ref_group(grouped, sizeof(grouped), qr.ref) < 0 ||
	    money_format(amount, sizeof(amount), qr.amount_cents) < 0)
		return SPAZACTL_ERR;
	if (rc == -EBADMSG) {
		printf("FORGED: the QR code says slip %s for %s, pay by %s, but its signature does not match:"
		       " do not accept this slip\n", grouped, amount, qr.expires);
		return SPAZACTL_ERR;
	}
	printf("genuine: slip %s for %s, pay by %s\n", grouped, amount, qr.expires);
	if (spazactl_db(ctl) < 0)
		return SPAZACTL_ERR;
	PGresult *res = spazactl_slip_lookup(ctl, qr.ref);
	if (!res)
		return SPAZACTL_ERR;
	int64_t cents = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	money_format(now, sizeof(now), cents);
	printf("in the database: %s, %s, order #%s (%s)\n", PQgetvalue(res, 0, 1), now, PQgetvalue(res, 0, 4),
	       PQgetvalue(res, 0, 5));
	rc = SPAZACTL_OK;
	if (cents != qr.amount_cents) {
		printf("the slip's amount is out of date: the order now costs %s\n", now);
		rc = SPAZACTL_ERR;
	}
	PQclear(res);
	return rc;
}

static const struct spazactl_cmd spazactl_cmds[] = {
	{ "migrate", NULL, "", 0, 0, "apply schema migrations, print the schema version", spazactl_migrate },
	{ "catalog", "import", "FILE.csv", 1, 1, "replace the catalogue (CSV: sku,category,name,price,stock)",
	  spazactl_catalog_import },
	{ "catalog", "show", "", 0, 0, "list categories and products with prices and stock",
	  spazactl_catalog_show },
	{ "customer", "show", "MSISDN", 1, 1, "a customer and their sessions and orders, newest first",
	  spazactl_customer_show },
	{ "order", "list", "[MSISDN]", 0, 1, "the latest 50 orders, of one customer if given", spazactl_order_list },
	{ "order", "status", "ORDER STATUS", 2, 2, "set an order's status", spazactl_order_status },
	{ "order", "cancel", "ORDER", 1, 1, "cancel an order: void its holds and slips, or refund it once",
	  spazactl_order_cancel },
	{ "vouchers", "issue", "--count N --value R --out FILE [--expires YYYY-MM-DD]", 3, 8,
	  "issue voucher PINs into a new file (mode 0600)", spazactl_vouchers_issue },
	{ "vouchers", "show", "LAST4", 1, 1, "vouchers ending in LAST4, with their redemptions", spazactl_vouchers_show },
	{ "credit", "set-limit", "MSISDN AMOUNT", 2, 2, "set a customer's credit limit in rand",
	  spazactl_credit_set_limit },
	{ "credit", "show", "MSISDN", 1, 1, "a customer's credit line, holds and store credit", spazactl_credit_show },
	{ "retailer", "add", "NAME", 1, 1, "add a till retailer; prints its key id and secret once",
	  spazactl_retailer_add },
	{ "retailer", "rotate-key", "NAME", 1, 1, "a new key for a retailer, revoking the old one",
	  spazactl_retailer_rotate_key },
	{ "ledger", "check", "", 0, 0, "prove the money invariants; exit 1 naming each violation",
	  spazactl_ledger_check },
	{ "slip", "print", "REF [--format pdf|png|svg] [--out FILE]", 1, 5,
	  "a payment slip to print (80 mm): barcodes, signed QR code", spazactl_slip_print },
	{ "slip", "verify", "PAYLOAD", 1, 1, "check a slip's scanned QR code: genuine, forged or out of date",
	  spazactl_slip_verify },
	{ "sms", "send", "MSISDN TEXT", 2, 64, "queue an SMS to a customer (one SMS long)", spazactl_sms_send },
	{ "sms", "marketing", "TEXT", 1, 64, "queue a marketing SMS to every customer who has not sent STOP",
	  spazactl_sms_marketing },
	{ .group = NULL }
};

static void spazactl_group_usage(const char *group)
{
	char synopsis[96];
	for (const struct spazactl_cmd *c = spazactl_cmds; c->group; c++)
		if (!strcmp(c->group, group))
			fprintf(stderr, "usage: spazactl %s\n", spazactl_synopsis(synopsis, sizeof(synopsis), c));
}

/* The command named by the first one or two words, with *words set to how many it used.
 * NULL after explaining what is wrong. */
static const struct spazactl_cmd *spazactl_find(int argc, char **argv, int *words)
{
	const char *group = NULL;

	if (argc == 0) {
		spazactl_usage(stderr);
		return NULL;
	}
	for (const struct spazactl_cmd *c = spazactl_cmds; c->group; c++) {
		if (strcmp(argv[0], c->group))
			continue;
		group = c->group;
		if (!c->verb || (argc > 1 && !strcmp(argv[1], c->verb))) {
			*words = c->verb ? 2 : 1;
			int nargs = argc - *words;
			if (nargs >= c->min_args && nargs <= c->max_args)
				return c;
			break;
		}
	}
	if (group)
		spazactl_group_usage(group);
	else
		fprintf(stderr, "spazactl: unknown command \"%s\" (see spazactl --help)\n", argv[0]);
	return NULL;
}

/* libosmovty reads the config: logging first (its VTY commands are built from the log
 * categories), then the VTY, then our `spaza` node. Only errors go to stderr, however the
 * daemon's config file sets up logging: spazactl's output is for people and scripts. */
static int spazactl_config(void *ctx, const char *file)
{
	static struct vty_app_info vty_info = { .name = "spazactl" };

	spaza_logging_init(ctx);
	vty_info.tall_ctx = ctx;
	vty_init(&vty_info);
	logging_vty_add_cmds();
	cfg_init(ctx);
	cfg_vty_init();

	if (!file) {
		if (access(SPAZACTL_DEFAULT_CFG, F_OK) < 0) {
			fprintf(stderr, "spazactl: no %s here: pass spazad's config file with -c FILE"
				" (./scripts/run writes %s)\n", SPAZACTL_DEFAULT_CFG, SPAZACTL_DEFAULT_CFG);
			return SPAZACTL_USAGE;
		}
		file = SPAZACTL_DEFAULT_CFG;
	}
	int rc = cfg_read(file);
	log_set_log_level(osmo_stderr_target, LOGL_ERROR);
	return rc < 0 ? SPAZACTL_ERR : SPAZACTL_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfg_file = NULL;
	const struct spazactl_cmd *cmd;
	struct spazactl ctl = { 0 };
	int opt, words, rc;

	/* '+': options end at the command, whose own arguments may start with '-' one day. */
	while ((opt = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cfg_file = optarg;
			break;
		case 'h':
			spazactl_usage(stdout);
			return SPAZACTL_OK;
		default:
			fprintf(stderr, "see spazactl --help\n");
			return SPAZACTL_USAGE;
		}
	}
	cmd = spazactl_find(argc - optind, argv + optind, &words);
	if (!cmd)
		return SPAZACTL_USAGE;

	ctl.ctx = talloc_named_const(NULL, 0, "spazactl");
	rc = spazactl_config(ctl.ctx, cfg_file);
	if (rc == SPAZACTL_OK)
		rc = cmd->run(&ctl, argc - optind - words, argv + optind + words);

	PQfinish(ctl.conn);
	log_fini();
	talloc_free(ctl.ctx);
	return rc;
}
