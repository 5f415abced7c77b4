/* spazactl: the shop staff's command line. It reads spazad's config file (database, country
 * code, catalogue limits), brings the schema up to date and does one job over a short-lived
 * synchronous libpq connection. The running daemon learns about catalogue changes through
 * NOTIFY; everything else it reads from the database when it needs it. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <talloc.h>
#include <libpq-fe.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/utils.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/logging.h>
#include "catalog_import.h"
#include "cfg.h"
#include "logging.h"
#include "migrate.h"
#include "money.h"
#include "msisdn.h"

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
		char synopsis[64];
		fprintf(out, "  %-28s %s\n", spazactl_synopsis(synopsis, sizeof(synopsis), c), c->help);
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

	ctl->conn = PQconnectdb(g_cfg->db_conninfo);
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
	PGresult *res = spazactl_query(ctl, "SELECT id, msisdn, lang, to_char(created_at, " SPAZACTL_TIME_FMT ")"
				       " FROM customers WHERE msisdn = $1", 1, params);
	if (res && PQntuples(res) == 0) {
		fprintf(stderr, "spazactl: no customer %s\n", msisdn);
		PQclear(res);
		return NULL;
	}
	return res;
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

	if (spazactl_msisdn(argv[0], msisdn, sizeof(msisdn)) < 0)
		return SPAZACTL_USAGE;
	if (spazactl_db(ctl) < 0)
		return SPAZACTL_ERR;
	cust = spazactl_customer(ctl, msisdn);
	if (!cust)
		return SPAZACTL_ERR;
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
	if (spazactl_db(ctl) < 0)
		return SPAZACTL_ERR;

	/* Joining the row to itself hands back the status it had before this update. */
	const char *params[] = { id, status };
	res = spazactl_query(ctl, "UPDATE orders o SET status = $2, updated_at = now() FROM orders old"
			     " WHERE o.id = $1 AND old.id = o.id RETURNING o.id, old.status", 2, params);
	if (!res)
		return SPAZACTL_ERR;
	if (PQntuples(res) == 0) {
		fprintf(stderr, "spazactl: no order #%s\n", id);
		PQclear(res);
		return SPAZACTL_ERR;
	}
	printf("order #%s: %s -> %s\n", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), status);
	PQclear(res);
	return SPAZACTL_OK;
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
	{ .group = NULL }
};

static void spazactl_group_usage(const char *group)
{
	char synopsis[64];
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

	osmo_init_logging2(ctx, &spaza_log_info);
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
