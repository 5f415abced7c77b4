/* spazactl: the shop staff's command line. It reads spazad's config file (database, country
 * code, catalogue limits, the VTY's address), brings the schema up to date and does one job
 * over a short-lived synchronous libpq connection. The running daemon learns about catalogue
 * changes through NOTIFY; everything else it reads from the database when it needs it.
 *
 * This file is the options and the dispatch table; each noun's commands are in
 * admin/ctl_<noun>.c (ctl.h), and money moves only through the money room (ledger.h). */
#include <getopt.h>
#include <string.h>
#include <unistd.h>
#include <talloc.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/utils.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/logging.h>
#include "cfg.h"
#include "ctl.h"
#include "logging.h"
#include "orders.h"

#define CTL_SYNOPSIS_COL 28

static const struct ctl_cmd ctl_cmds[] = {
	{ "migrate", NULL, "", 0, 0, "apply schema migrations, print the schema version", ctl_migrate, true },
	{ "catalog", "import", "FILE.csv", 1, 1, "replace the catalogue (CSV: sku,category,name,price,stock)",
	  ctl_catalog_import, true },
	{ "catalog", "show", "", 0, 0, "list categories and products with prices and stock", ctl_catalog_show, false },
	{ "customer", "show", "MSISDN [--json] [--before TIME] [--limit N]", 1, 6,
	  "a customer (profile, opt-out, credit, PIN lockout) and their merged timeline, newest first", ctl_customer_show,
	  false },
	{ "order", "list", "[MSISDN]", 0, 1, "the latest 50 orders, of one customer if given", ctl_order_list, false },
	{ "order", "status", "ORDER STATUS", 2, 2, "set an order's status", ctl_order_status, true },
	{ "order", "cancel", "ORDER", 1, 1, "cancel an order: void its holds and slips, or refund it once",
	  ctl_order_cancel, true },
	{ "order", "show", "ORDER", 1, 1, "an order's lines, status, delivery address and instructions",
	  ctl_order_show, false },
	{ "order", "expire", "[HOURS]", 0, 1, "expire unpaid orders older than HOURS (default: order unpaid-expiry)",
	  ctl_order_expire, true },
	{ "vouchers", "issue", "--count N --value R --out FILE [--expires YYYY-MM-DD]", 3, 8,
	  "issue voucher PINs into a new file (mode 0600)", ctl_vouchers_issue, true },
	{ "vouchers", "show", "LAST4", 1, 1, "vouchers ending in LAST4, with their redemptions", ctl_vouchers_show, false },
	{ "credit", "set-limit", "MSISDN AMOUNT", 2, 2, "set a customer's credit limit in rand", ctl_credit_set_limit, true },
	{ "credit", "show", "MSISDN", 1, 1, "a customer's credit line, holds and store credit", ctl_credit_show, false },
	{ "retailer", "add", "NAME", 1, 1, "add a till retailer; prints its key id and secret once", ctl_retailer_add, true },
	{ "retailer", "rotate-key", "NAME", 1, 1, "a new key for a retailer, revoking the old one",
	  ctl_retailer_rotate_key, true },
	{ "ledger", "check", "", 0, 0, "prove the money invariants; exit 1 naming each violation", ctl_ledger_check, false },
	{ "slip", "print", "REF [--format pdf|png|svg] [--out FILE]", 1, 5,
	  "a payment slip to print (80 mm): barcodes, signed QR code", ctl_slip_print, false },
	{ "slip", "verify", "PAYLOAD", 1, 1, "check a slip's scanned QR code: genuine, forged or out of date",
	  ctl_slip_verify, false },
	{ "sms", "send", "MSISDN TEXT", 2, 64, "queue an SMS to a customer (one SMS long)", ctl_sms_send, true },
	{ "sms", "marketing", "TEXT", 1, 64, "queue a marketing SMS to every customer who has not sent STOP",
	  ctl_sms_marketing, true },
	{ "customer", "forget", "MSISDN", 1, 1,
	  "erase a customer's personal data (POPIA): the number becomes a pseudonym, SMS texts go", ctl_customer_forget, true },
	{ "keys", "rotate", "NAME", 1, 1, "add a new version of a key (voucher-pin, retailer-master, slip-qr)",
	  ctl_keys_rotate, true },
	{ "keys", "list", "", 0, 0, "the keys of the secrets file: versions, dates, grace (never the keys)",
	  ctl_keys_list, false },
	{ "audit", NULL, "[--since TIME] [--who WHO]", 0, 4, "the audit log of admin actions, oldest first",
	  ctl_audit_list, false },
	{ "refund", NULL, "ORDER [--amount R] [--to voucher|store-credit] --reason TEXT [--key KEY]", 2, 10,
	  "refund an order, whole or in part, to where the money came from (once per key); the customer is told by SMS",
	  ctl_refund, true },
	{ "order", "cod-paid", "ORDER --by NAME", 2, 3, "the cash of a cash-on-delivery order is in: the order is paid (once)",
	  ctl_order_cod_paid, true },
	{ "care", "double-charges", "[--since TIME] [--customer MSISDN] [--refund]", 0, 5,
	  "orders paid twice and the like; --refund refunds the confirmed ones once and tells the customers",
	  ctl_care_double_charges, true },
	{ "staff", "add", "LOGIN --role ROLE [--retailer ID] [--password-stdin]", 2, 6,
	  "a back office account; prints its password once (or reads it from stdin)", ctl_staff_add, true },
	{ "staff", "role", "LOGIN ROLE [--retailer ID]", 2, 4, "change an account's role (its sessions end)",
	  ctl_staff_role, true },
	{ "staff", "disable", "LOGIN", 1, 1, "disable an account (its sessions end at once)", ctl_staff_disable, true },
	{ "staff", "list", "", 0, 0, "the back office accounts, roles, last login", ctl_staff_list, false },
	{ "vty", NULL, "[COMMAND...]", 0, 64,
	  "run VTY commands on the running spazad and print their output (interactive without any)", ctl_vty, false },
	{ "customer", "note", "MSISDN TEXT", 2, 64, "add a staff note to a customer's timeline", ctl_customer_note, true },
	{ "customer", "unlock", "MSISDN", 1, 1, "lift a customer's voucher-PIN lockout (5 wrong PINs in 24 h)",
	  ctl_customer_unlock, true },
	{ "care", "list", "[--open] [--breached]", 0, 2, "care tickets, newest first, with their clocks", ctl_care_list,
	  false },
	{ "care", "show", "N", 1, 1, "a care ticket with its messages and steps", ctl_care_show, false },
	{ "care", "reply", "N TEXT", 2, 64, "reply to a ticket by SMS; the ticket then waits on the customer",
	  ctl_care_reply, true },
	{ "care", "resolve", "N [NOTE]", 1, 64, "mark a ticket resolved", ctl_care_resolve, true },
	{ "care", "close", "N", 1, 1, "close a ticket for good", ctl_care_close, true },
	{ "care", "open", "MSISDN [--order N] KIND TEXT", 3, 66, "open a ticket for a customer (a call, a visit)",
	  ctl_care_open, true },
	{ "segments", "list", "", 0, 0, "the named RFM segments with counts and mean scores, and the shop's segments",
	  ctl_segments_list, false },
	{ "segments", "show", "NAME", 1, 1, "a segment's rule and its members counted now", ctl_segments_show, false },
	{ "segments", "members", "NAME [--limit N]", 1, 3, "a segment's first members with their scores",
	  ctl_segments_members, false },
	{ "segments", "define", "NAME RULE...", 2, 64, "define or change a segment of the shop's (doc/crm.md: rules)",
	  ctl_segments_define, true },
	{ "segments", "recompute", "", 0, 0, "rescore every customer now (spazad does it nightly)", ctl_segments_recompute,
	  true },
	{ "campaign", "create", "NAME --text T --segment S|--rule R --at TIME [...]", 5, 24,
	  "compose a campaign ([--text-zu T] [--text-af T] [--offer O] [--keyword K] [--code *120*777*N#])",
	  ctl_campaign_create, true },
	{ "campaign", "preview", "NAME", 1, 1, "its audience now and each language's SMS, linted at the worst case",
	  ctl_campaign_preview, false },
	{ "campaign", "start", "NAME", 1, 1, "fix the audience; spazad sends from its time on", ctl_campaign_start, true },
	{ "campaign", "pause", "NAME", 1, 1, "stop sending a running campaign", ctl_campaign_pause, true },
	{ "campaign", "resume", "NAME", 1, 1, "send a paused campaign again", ctl_campaign_resume, true },
	{ "campaign", "report", "NAME [--window DAYS]", 1, 3, "sent, delivered, failed, opted out, dialled, ordered, paid",
	  ctl_campaign_report, false },
	{ "funnel", NULL, "--since YYYY-MM-DD|Nd [--by DIMS] [--csv] [--raw] | --rebuild", 1, 7,
	  "the journey per screen: entries, exits, backs, orders (--by front,lang,segment,version)", ctl_funnel, false },
	{ "report", NULL, "KIND [--since YYYY-MM-DD|Nd] [--csv]", 1, 4,
	  "sales, payments, credit-ageing, vouchers, settlements or repeat", ctl_report, false },
	{ "customer", "set", "MSISDN name=N channel=ussd|sms consent=yes|no field.KEY=V...", 2, 34,
	  "change a customer's profile (\"\" clears a part); the timeline shows each change", ctl_customer_set, true },
	{ "customer", "fields", "add KEY LABEL | list", 1, 34, "the shop's custom customer fields", ctl_customer_fields,
	  true },
	{ "loyalty", "show", "MSISDN", 1, 1, "a customer's loyalty points and their history, newest first",
	  ctl_loyalty_show, false },
	{ "loyalty", "expire", "[--as-of TIME]", 0, 2, "expire points older than loyalty expiry-days (once a day)",
	  ctl_loyalty_expire, true },
	{ "referral", "code", "MSISDN", 1, 1, "a customer's referral code (made on first use)", ctl_referral_code, true },
	{ "referral", "enter", "MSISDN CODE", 2, 2, "enter a referral code for a new customer; exit 1 with the reason if refused",
	  ctl_referral_enter, true },
	{ "referral", "stats", "[--since TIME]", 0, 2, "how many referral codes were taken, refused (by reason), rewarded",
	  ctl_referral_stats, false },
	{ .group = NULL }
};

/* "catalog import FILE.csv", "migrate" */
static const char *ctl_synopsis(char *buf, size_t len, const struct ctl_cmd *c)
{
	snprintf(buf, len, "%s%s%s%s%s", c->group, c->verb ? " " : "", c->verb ? c->verb : "", *c->args ? " " : "",
		 c->args);
	return buf;
}

static void ctl_statuses(FILE *out)
{
	fprintf(out, "STATUS is one of:");
	for (size_t i = 0; i < _ORDER_STATUS_COUNT; i++)
		fprintf(out, " %s", order_status_names[i]);
	fprintf(out, "\n");
}

static void ctl_usage(FILE *out)
{
	fprintf(out, "usage: spazactl [-c FILE] COMMAND [ARGS]\n\n"
		"options:\n"
		"  -c, --config FILE  spazad's configuration file (default: " CFG_DEFAULT_FILE
		", which ./scripts/run writes)\n"
		"  -h, --help         show this help; after a command, that command's\n\n"
		"commands (each applies pending schema migrations first):\n");
	for (const struct ctl_cmd *c = ctl_cmds; c->group; c++) {
		char synopsis[96];
		ctl_synopsis(synopsis, sizeof(synopsis), c);
		/* A synopsis too long for the column gets the help on a line of its own. */
		fprintf(out, "  %-*s%s%s\n", CTL_SYNOPSIS_COL, synopsis,
			strlen(synopsis) > CTL_SYNOPSIS_COL ? "\n                               " : " ", c->help);
	}
	fprintf(out, "\n");
	ctl_statuses(out);
	fprintf(out, "exit status: 0 ok, 1 error (bad data, not found, database), 2 usage\n");
}

/* `spazactl GROUP --help` (verb NULL: every command of the group) or `spazactl GROUP VERB --help`. */
static void ctl_help(const char *group, const char *verb)
{
	char synopsis[96];
	bool first = true;
	for (const struct ctl_cmd *c = ctl_cmds; c->group; c++) {
		if (strcmp(c->group, group) || (verb && c->verb && strcmp(c->verb, verb)))
			continue;
		printf("%susage: spazactl [-c FILE] %s\n  %s\n", first ? "" : "\n", ctl_synopsis(synopsis, sizeof(synopsis), c),
		       c->help);
		if (c->run == ctl_order_status)
			ctl_statuses(stdout);
		first = false;
	}
}

static void ctl_group_usage(const char *group)
{
	char synopsis[96];
	for (const struct ctl_cmd *c = ctl_cmds; c->group; c++)
		if (!strcmp(c->group, group))
			fprintf(stderr, "usage: spazactl %s\n", ctl_synopsis(synopsis, sizeof(synopsis), c));
}

static bool ctl_is_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], "--help") || (i == 0 && !strcmp(argv[i], "-h")))
			return true;
	return false;
}

/* The command named by the first one or two words, with *words set to how many it used.
 * NULL after explaining what is wrong, or after printing the help asked for (*words = -1). */
static const struct ctl_cmd *ctl_find(int argc, char **argv, int *words)
{
	const char *group = NULL;

	if (argc == 0) {
		ctl_usage(stderr);
		return NULL;
	}
	for (const struct ctl_cmd *c = ctl_cmds; c->group; c++) {
		if (strcmp(argv[0], c->group))
			continue;
		group = c->group;
		if (!c->verb || (argc > 1 && !strcmp(argv[1], c->verb))) {
			*words = c->verb ? 2 : 1;
			int nargs = argc - *words;
			/* `vty --help` is help; the VTY's own words after it are the VTY's */
			if (ctl_is_help(c->run == ctl_vty && nargs ? 1 : nargs, argv + *words)) {
				ctl_help(c->group, c->verb);
				*words = -1;
				return NULL;
			}
			if (nargs >= c->min_args && nargs <= c->max_args)
				return c;
			break;
		}
	}
	if (group && argc > 1 && ctl_is_help(1, argv + 1)) {
		ctl_help(group, NULL);
		*words = -1;
		return NULL;
	}
	if (group)
		ctl_group_usage(group);
	else
		fprintf(stderr, "spazactl: unknown command \"%s\" (see spazactl --help)\n", argv[0]);
	return NULL;
}

/* libosmovty reads the config: logging first (its VTY commands are built from the log
 * categories), then the VTY, then our `spaza` node. Only errors go to stderr, however the
 * daemon's config file sets up logging: spazactl's output is for people and scripts. */
static int ctl_config(void *ctx, const char *file)
{
	static struct vty_app_info vty_info = { .name = "spazactl" };

	spaza_logging_init(ctx);
	vty_info.tall_ctx = ctx;
	vty_init(&vty_info);
	logging_vty_add_cmds();
	cfg_init(ctx);
	cfg_vty_init();

	if (!file) {
		if (access(CFG_DEFAULT_FILE, F_OK) < 0) {
			fprintf(stderr, "spazactl: no %s here: pass spazad's config file with -c FILE"
				" (./scripts/run writes %s)\n", CFG_DEFAULT_FILE, CFG_DEFAULT_FILE);
			return CTL_USAGE;
		}
		file = CFG_DEFAULT_FILE;
	}
	int rc = cfg_read(file);
	log_set_log_level(osmo_stderr_target, LOGL_ERROR);
	return rc < 0 ? CTL_ERR : CTL_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfg_file = NULL;
	const struct ctl_cmd *cmd;
	struct ctl ctl = { 0 };
	int opt, words = 0, rc;

	/* '+': options end at the command, whose own arguments may start with '-'. */
	while ((opt = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cfg_file = optarg;
			break;
		case 'h':
			ctl_usage(stdout);
			return CTL_OK;
		default:
			fprintf(stderr, "see spazactl --help\n");
			return CTL_USAGE;
		}
	}
	cmd = ctl_find(argc - optind, argv + optind, &words);
	if (!cmd)
		return words < 0 ? CTL_OK : CTL_USAGE;

	ctl.ctx = talloc_named_const(NULL, 0, "spazactl");
	rc = ctl_config(ctl.ctx, cfg_file);
	if (rc == CTL_OK) {
		rc = cmd->run(&ctl, argc - optind - words, argv + optind + words);
		/* a usage error changed nothing; anything else was an attempt worth recording */
		if (cmd->changes && rc != CTL_USAGE)
			rc = ctl_audit_record(&ctl, argc - optind, argv + optind, rc);
	}

	PQfinish(ctl.conn);
	log_fini();
	talloc_free(ctl.ctx);
	return rc;
}
