/* Configuration: the `spaza` VTY node, its defaults, and reading a file with file:line errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <libpq-fe.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>
#include "cfg.h"
#include "ratelimit.h"

struct spaza_cfg *g_cfg;
static void *cfg_ctx;
static void cfg_sms_defaults(void);
static void cfg_privilege_defaults(void);

void cfg_init(void *ctx)
{
	cfg_ctx = ctx;
	g_cfg = talloc_zero(ctx, struct spaza_cfg);
	g_cfg->http_addr = talloc_strdup(g_cfg, "127.0.0.1");
	g_cfg->http_port = 8180;
	g_cfg->db_conninfo = talloc_strdup(g_cfg, "dbname=spaza");
	g_cfg->menus_dir = talloc_strdup(g_cfg, "menus");
	g_cfg->idle_timeout_s = 60;
	g_cfg->hop_deadline_ms = 4000;
	g_cfg->max_body = 4096;
	g_cfg->country_code = talloc_strdup(g_cfg, "27");
	g_cfg->secrets_file = NULL;
	g_cfg->name_max = 24;
	g_cfg->price_max_cents = 999999;
	g_cfg->qty_max = 20;
	g_cfg->slip_receiver = 1234;
	g_cfg->hops_per_minute = 120;
	g_cfg->sessions_per_hour = 60;
	/* 600, ten a second sustained for a minute: a till sends about three requests per customer
	 * (lookup, perhaps the image, the payment), so even a chain's server relaying dozens of busy
	 * tills under one key stays well below it, while a script looping on the API is stopped
	 * within its first second or two. */
	g_cfg->till_requests_per_minute = 600;
	g_cfg->n_links = 1;
	g_cfg->links[0] = (struct kannel_link){ talloc_strdup(g_cfg, "*"), 1, 18, 2, 17, 33, false };
	cfg_sms_defaults();
	cfg_privilege_defaults();
}

const struct kannel_link *cfg_kannel_link(const char *smsc_id)
{
	for (unsigned i = 1; smsc_id && i < g_cfg->n_links; i++)
		if (!strcmp(g_cfg->links[i].smsc_id, smsc_id))
			return &g_cfg->links[i];
	return &g_cfg->links[0];
}

static struct kannel_link *link_get(const char *smsc_id)
{
	for (unsigned i = 0; i < g_cfg->n_links; i++)
		if (!strcmp(g_cfg->links[i].smsc_id, smsc_id))
			return &g_cfg->links[i];
	if (g_cfg->n_links == CFG_MAX_LINKS)
		return NULL;
	struct kannel_link *l = &g_cfg->links[g_cfg->n_links++];
	*l = g_cfg->links[0];
	l->smsc_id = talloc_strdup(g_cfg, smsc_id);
	return l;
}

/* ---- SMS: the outbox, Kannel's sendsms, the texts ---- */

static void cfg_sms_defaults(void)
{
	g_cfg->sendsms_timeout_ms = 10000;
	g_cfg->sms_retry_min_s = 5;
	g_cfg->sms_retry_max_s = 600;
	g_cfg->sms_poll_s = 5;
	g_cfg->sms_in_flight = 16;
}

DEFUN(cfg_sendsms_url, cfg_sendsms_url_cmd, "kannel sendsms url URL username USER",
      "Kannel front ends\n" "SMS out through smsbox's sendsms\n"
      "sendsms URL\n" "e.g. http://127.0.0.1:13013/cgi-bin/sendsms\n"
      "sendsms-user\n" "Its username\n")
{
	osmo_talloc_replace_string(g_cfg, &g_cfg->sendsms_url, argv[0]);
	osmo_talloc_replace_string(g_cfg, &g_cfg->sendsms_user, argv[1]);
	return CMD_SUCCESS;
}

/* libosmovty echoes a config line that failed to stderr: a refused secret is starred out in
 * the line buffer first, so that the refusal does not print it. */
static void cfg_mask_secret(struct vty *vty, const char *secret)
{
	char *p = *secret && vty->buf ? strstr(vty->buf, secret) : NULL;
	if (p)
		memset(p, '*', strlen(secret));
}

/* Secrets are read from the secrets file only (mode 0600, never written back by `write file`,
 * never shown by `show running-config`): an old configuration that has one is refused with the
 * way out rather than an "unknown command". */
DEFUN(cfg_sendsms_password, cfg_sendsms_password_cmd, "kannel sendsms password PASSWORD",
      "Kannel front ends\n" "SMS out through smsbox's sendsms\n"
      "Refused: the password belongs in the secrets file (kannel-sendsms-password)\n" "Password\n")
{
	cfg_mask_secret(vty, argv[0]);
	vty_out(vty, "%% a password in the configuration is refused: put kannel-sendsms-password (its bytes in hex)"
		" in the secrets file%s", VTY_NEWLINE);
	return CMD_WARNING;
}

DEFUN(cfg_sendsms_from, cfg_sendsms_from_cmd, "kannel sendsms from SENDER",
      "Kannel front ends\n" "SMS out through smsbox's sendsms\n" "Sender of our SMS\n" "The short code, e.g. 31555\n")
{
	osmo_talloc_replace_string(g_cfg, &g_cfg->sendsms_from, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_sendsms_smsc, cfg_sendsms_smsc_cmd, "kannel sendsms smsc SMSC",
      "Kannel front ends\n" "SMS out through smsbox's sendsms\n" "Route our SMS over one link\n" "Kannel smsc-id\n")
{
	osmo_talloc_replace_string(g_cfg, &g_cfg->sendsms_smsc, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_sendsms_timeout, cfg_sendsms_timeout_cmd, "kannel sendsms timeout <100-120000>",
      "Kannel front ends\n" "SMS out through smsbox's sendsms\n"
      "Give up on a sendsms request after (it is retried later)\n" "Milliseconds\n")
{
	g_cfg->sendsms_timeout_ms = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_dlr_url, cfg_dlr_url_cmd, "kannel dlr-url URL",
      "Kannel front ends\n" "Where Kannel reports deliveries: spazad's /kannel/dlr as Kannel reaches it\n"
      "e.g. http://10.0.0.5:8180/kannel/dlr\n")
{
	osmo_talloc_replace_string(g_cfg, &g_cfg->dlr_url, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_sms_texts, cfg_sms_texts_cmd, "sms texts FILE",
      "SMS\n" "The texts of SMS replies and notifications (default: <menus>/sms/texts.yaml)\n" "Path\n")
{
	osmo_talloc_replace_string(g_cfg, &g_cfg->sms_texts, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_sms_retry, cfg_sms_retry_cmd, "sms retry min <1-3600> max <1-86400>",
      "SMS\n" "Back-off of the outbox after a failed send, doubling per attempt\n"
      "First wait\n" "Seconds\n" "Longest wait\n" "Seconds\n")
{
	g_cfg->sms_retry_min_s = atoi(argv[0]);
	g_cfg->sms_retry_max_s = atoi(argv[1]);
	if (g_cfg->sms_retry_max_s < g_cfg->sms_retry_min_s)
		g_cfg->sms_retry_max_s = g_cfg->sms_retry_min_s;
	return CMD_SUCCESS;
}

DEFUN(cfg_sms_outbox, cfg_sms_outbox_cmd, "sms outbox poll <1-3600> in-flight <1-256>",
      "SMS\n" "The persistent outbox\n" "Look for due messages at least this often\n" "Seconds\n"
      "Send at most this many at a time\n" "Requests\n")
{
	g_cfg->sms_poll_s = atoi(argv[0]);
	g_cfg->sms_in_flight = atoi(argv[1]);
	return CMD_SUCCESS;
}

static void config_write_sms(struct vty *vty)
{
	if (g_cfg->sendsms_url)
		vty_out(vty, " kannel sendsms url %s username %s%s", g_cfg->sendsms_url, g_cfg->sendsms_user, VTY_NEWLINE);
	if (g_cfg->sendsms_from)
		vty_out(vty, " kannel sendsms from %s%s", g_cfg->sendsms_from, VTY_NEWLINE);
	if (g_cfg->sendsms_smsc)
		vty_out(vty, " kannel sendsms smsc %s%s", g_cfg->sendsms_smsc, VTY_NEWLINE);
	vty_out(vty, " kannel sendsms timeout %u%s", g_cfg->sendsms_timeout_ms, VTY_NEWLINE);
	if (g_cfg->dlr_url)
		vty_out(vty, " kannel dlr-url %s%s", g_cfg->dlr_url, VTY_NEWLINE);
	if (g_cfg->sms_texts)
		vty_out(vty, " sms texts %s%s", g_cfg->sms_texts, VTY_NEWLINE);
	vty_out(vty, " sms retry min %u max %u%s", g_cfg->sms_retry_min_s, g_cfg->sms_retry_max_s, VTY_NEWLINE);
	vty_out(vty, " sms outbox poll %u in-flight %u%s", g_cfg->sms_poll_s, g_cfg->sms_in_flight, VTY_NEWLINE);
}

static void cfg_sms_vty_init(void)
{
	install_element(SPAZA_NODE, &cfg_sendsms_url_cmd);
	install_element(SPAZA_NODE, &cfg_sendsms_password_cmd);
	install_element(SPAZA_NODE, &cfg_sendsms_from_cmd);
	install_element(SPAZA_NODE, &cfg_sendsms_smsc_cmd);
	install_element(SPAZA_NODE, &cfg_sendsms_timeout_cmd);
	install_element(SPAZA_NODE, &cfg_dlr_url_cmd);
	install_element(SPAZA_NODE, &cfg_sms_texts_cmd);
	install_element(SPAZA_NODE, &cfg_sms_retry_cmd);
	install_element(SPAZA_NODE, &cfg_sms_outbox_cmd);
}

/* ---- least privilege: who spazactl and spazad are (doc/security.md) ---- */

static void cfg_privilege_defaults(void)
{
	/* the system user scripts/lib.sh makes for PostgreSQL and the packaged unit names */
	g_cfg->run_as = talloc_strdup(g_cfg, "spaza");
}

DEFUN(cfg_database_owner, cfg_database_owner_cmd, "database-owner ROLE",
      "The database role spazactl connects as (it runs the migrations; spazad uses `database`)\n"
      "Role name; its password, if any, is database-owner-password in the secrets file\n")
{
	osmo_talloc_replace_string(g_cfg, &g_cfg->db_owner, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_run_as, cfg_run_as_cmd, "run-as USER",
      "Started as root, spazad binds its listeners, then runs as this user\n" "System user name\n")
{
	osmo_talloc_replace_string(g_cfg, &g_cfg->run_as, argv[0]);
	return CMD_SUCCESS;
}

static void config_write_privilege(struct vty *vty)
{
	if (g_cfg->db_owner)
		vty_out(vty, " database-owner %s%s", g_cfg->db_owner, VTY_NEWLINE);
	vty_out(vty, " run-as %s%s", g_cfg->run_as, VTY_NEWLINE);
}

static void cfg_privilege_vty_init(void)
{
	install_element(SPAZA_NODE, &cfg_database_owner_cmd);
	install_element(SPAZA_NODE, &cfg_run_as_cmd);
}

/* ---- the native box front end ---- */

DEFUN(cfg_kannel_box, cfg_kannel_box_cmd, "kannel box connect A.B.C.D <1-65535>",
      "Kannel front ends\n" "The native box front end: spazad as a box on bearerbox, no smsbox\n"
      "Connect to bearerbox's smsbox-port (retrying while it is away)\n" "IPv4 address\n" "TCP port\n")
{
	osmo_talloc_replace_string(g_cfg, &g_cfg->box_addr, argv[0]);
	g_cfg->box_port = atoi(argv[1]);
	return CMD_SUCCESS;
}

DEFUN(cfg_no_kannel_box, cfg_no_kannel_box_cmd, "no kannel box",
      NO_STR "Kannel front ends\n" "No native box front end\n")
{
	g_cfg->box_port = 0;
	return CMD_SUCCESS;
}

static struct cmd_node spaza_node = { .node = SPAZA_NODE, .prompt = "%s(config-spaza)# ", .vtysh = 1 };

DEFUN(cfg_spaza, cfg_spaza_cmd, "spaza", "Configure the Spaza gateway\n")
{
	vty->node = SPAZA_NODE;
	return CMD_SUCCESS;
}

DEFUN(cfg_http_listen, cfg_http_listen_cmd, "http listen A.B.C.D <1-65535>",
      "HTTP front end\n" "Address and port to listen on\n" "IPv4 address\n" "TCP port\n")
{
	osmo_talloc_replace_string(g_cfg, &g_cfg->http_addr, argv[0]);
	g_cfg->http_port = atoi(argv[1]);
	return CMD_SUCCESS;
}

DEFUN(cfg_http_max_body, cfg_http_max_body_cmd, "http max-body <256-1048576>",
      "HTTP front end\n" "Largest request body accepted, larger ones get 413\n" "Bytes\n")
{
	g_cfg->max_body = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_database, cfg_database_cmd, "database .CONNINFO",
      "PostgreSQL connection\n" "libpq connection string, e.g. host=127.0.0.1 port=5432 dbname=spaza\n")
{
	char *s = argv_concat(argv, argc, 0);
	PQconninfoOption *opts = PQconninfoParse(s, NULL);
	bool has_password = false;
	for (PQconninfoOption *o = opts; o && o->keyword; o++)
		if (!strcmp(o->keyword, "password") && o->val && *o->val) {
			has_password = true;
			cfg_mask_secret(vty, o->val);
		}
	PQconninfoFree(opts);
	if (has_password) {
		/* it would be written back by `write file` and shown by `show running-config` */
		vty_out(vty, "%% a password in the configuration is refused: put database-password (its bytes in hex)"
			" in the secrets file, or use PGPASSWORD or a ~/.pgpass file%s", VTY_NEWLINE);
		explicit_bzero(s, strlen(s));
		talloc_free(s);
		return CMD_WARNING;
	}
	osmo_talloc_replace_string(g_cfg, &g_cfg->db_conninfo, s);
	talloc_free(s);
	return CMD_SUCCESS;
}

DEFUN(cfg_menus, cfg_menus_cmd, "menus PATH",
      "Directory holding the menu files (*.yaml)\n" "Path\n")
{
	osmo_talloc_replace_string(g_cfg, &g_cfg->menus_dir, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_idle_timeout, cfg_idle_timeout_cmd, "session idle-timeout <1-3600>",
      "USSD sessions\n" "End a session idle for longer (outcome timeout)\n" "Seconds\n")
{
	g_cfg->idle_timeout_s = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_hop_deadline, cfg_hop_deadline_cmd, "session hop-deadline <50-60000>",
      "USSD sessions\n" "Answer a hop with a polite END if it is not done by then\n" "Milliseconds\n")
{
	g_cfg->hop_deadline_ms = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_country_code, cfg_country_code_cmd, "country-code <1-999>",
      "Country calling code used to turn national numbers (0821234567) into E.164\n" "Code\n")
{
	osmo_talloc_replace_string(g_cfg, &g_cfg->country_code, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_secrets_file, cfg_secrets_file_cmd, "secrets-file PATH",
      "File (mode 0600, outside git) holding the HMAC keys\n" "Path\n")
{
	osmo_talloc_replace_string(g_cfg, &g_cfg->secrets_file, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_catalog_limits, cfg_catalog_limits_cmd,
      "catalog limits name-max <8-80> price-max <1-1000000000> qty-max <1-999>",
      "Catalogue\n" "Worst-case values the menu linter proves every screen against\n"
      "Longest product name\n" "Characters\n" "Largest price\n" "Cents\n"
      "Largest order quantity\n" "Units\n")
{
	g_cfg->name_max = atoi(argv[0]);
	g_cfg->price_max_cents = atoll(argv[1]);
	g_cfg->qty_max = atoi(argv[2]);
	return CMD_SUCCESS;
}

DEFUN(cfg_kannel_ops, cfg_kannel_ops_cmd,
      "kannel link SMSC ussd-op begin <0-255> answer <0-255> continue <0-255> end <0-255> abort <0-255>",
      "Kannel front ends\n" "An SMSC link\n" "Kannel smsc-id, or * for every link not named\n"
      "ussd_service_op values of this link\n" "The customer opens a dialogue (PSSR indication)\n" "Value\n"
      "The customer answers (USSR confirm)\n" "Value\n" "We ask and wait (USSR request)\n" "Value\n"
      "We end the dialogue (PSSR response)\n" "Value\n" "The network aborts the dialogue\n" "Value\n")
{
	struct kannel_link *l = link_get(argv[0]);
	if (!l) {
		vty_out(vty, "%% at most %d links%s", CFG_MAX_LINKS, VTY_NEWLINE);
		return CMD_WARNING;
	}
	l->op_begin = atoi(argv[1]);
	l->op_answer = atoi(argv[2]);
	l->op_continue = atoi(argv[3]);
	l->op_end = atoi(argv[4]);
	l->op_abort = atoi(argv[5]);
	return CMD_SUCCESS;
}

DEFUN(cfg_kannel_end_bit, cfg_kannel_end_bit_cmd, "kannel link SMSC end-bit (on|off)",
      "Kannel front ends\n" "An SMSC link\n" "Kannel smsc-id, or *\n"
      "The operator marks the last message in its_session_info's low bit\n" "It does\n" "It does not\n")
{
	struct kannel_link *l = link_get(argv[0]);
	if (!l)
		return CMD_WARNING;
	l->end_bit = !strcmp(argv[1], "on");
	return CMD_SUCCESS;
}

DEFUN(cfg_slip_receiver, cfg_slip_receiver_cmd, "payments slip-receiver <0-9999>",
      "Payments\n" "Receiver id in payment slip numbers (9 + receiver + account + check digit)\n" "Id\n")
{
	g_cfg->slip_receiver = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_limits, cfg_limits_cmd, "limits hops-per-minute <0-100000> sessions-per-hour <0-100000>",
      "Abuse limits per phone number (0: none)\n" "USSD hops in a minute\n" "Hops\n"
      "USSD sessions started in an hour\n" "Sessions\n")
{
	g_cfg->hops_per_minute = atoi(argv[0]);
	g_cfg->sessions_per_hour = atoi(argv[1]);
	return CMD_SUCCESS;
}

/* A command of its own: retailers and phone numbers are tuned apart. */
DEFUN(cfg_limits_till, cfg_limits_till_cmd, "limits till-requests-per-minute <0-100000>",
      "Abuse limits (0: none)\n" "Signed till API requests per retailer key in a minute\n" "Requests\n")
{
	g_cfg->till_requests_per_minute = atoi(argv[0]);
	return CMD_SUCCESS;
}

static int netlist_add(struct vty *vty, struct cfg_netlist *l, const char *arg)
{
	char ip[INET_ADDRSTRLEN];
	unsigned prefix;
	struct in_addr a;
	if (sscanf(arg, "%15[0-9.]/%u", ip, &prefix) != 2 || prefix > 32 || inet_pton(AF_INET, ip, &a) != 1) {
		vty_out(vty, "%% not an IPv4 network: %s%s", arg, VTY_NEWLINE);
		return CMD_WARNING;
	}
	if (l->n == CFG_MAX_ALLOW) {
		vty_out(vty, "%% at most %d networks%s", CFG_MAX_ALLOW, VTY_NEWLINE);
		return CMD_WARNING;
	}
	l->net[l->n].prefix = prefix;
	l->net[l->n].mask = prefix ? 0xffffffffu << (32 - prefix) : 0;
	l->net[l->n].addr = ntohl(a.s_addr) & l->net[l->n].mask;
	l->n++;
	return CMD_SUCCESS;
}

static void netlist_write(struct vty *vty, const char *cmd, const struct cfg_netlist *l)
{
	for (unsigned i = 0; i < l->n; i++) {
		struct in_addr a = { .s_addr = htonl(l->net[i].addr) };
		vty_out(vty, " %s %s/%u%s", cmd, inet_ntoa(a), l->net[i].prefix, VTY_NEWLINE);
	}
}

bool cfg_net_allowed(const struct cfg_netlist *l, const char *peer)
{
	struct in_addr a;
	if (!l->n)
		return true;
	if (inet_pton(AF_INET, peer, &a) != 1)
		return false;
	for (unsigned i = 0; i < l->n; i++)
		if ((ntohl(a.s_addr) & l->net[i].mask) == l->net[i].addr)
			return true;
	return false;
}

DEFUN(cfg_at_allow, cfg_at_allow_cmd, "ussd-at allow A.B.C.D/M",
      "The aggregator front end, POST /ussd/at\n" "Only these networks may call it (repeat for more)\n"
      "IPv4 network, e.g. 196.201.214.0/24\n")
{
	return netlist_add(vty, &g_cfg->at_allow, argv[0]);
}

DEFUN(cfg_kannel_allow, cfg_kannel_allow_cmd, "kannel allow A.B.C.D/M",
      "Kannel front ends\n" "Only these networks may call /kannel/mo and /kannel/dlr (repeat for more)\n"
      "IPv4 network of the smsbox hosts, e.g. 10.1.2.0/28\n")
{
	return netlist_add(vty, &g_cfg->kannel_allow, argv[0]);
}

static int config_write_spaza(struct vty *vty)
{
	vty_out(vty, "spaza%s", VTY_NEWLINE);
	vty_out(vty, " http listen %s %u%s", g_cfg->http_addr, g_cfg->http_port, VTY_NEWLINE);
	vty_out(vty, " http max-body %u%s", g_cfg->max_body, VTY_NEWLINE);
	vty_out(vty, " database %s%s", g_cfg->db_conninfo, VTY_NEWLINE);
	vty_out(vty, " menus %s%s", g_cfg->menus_dir, VTY_NEWLINE);
	vty_out(vty, " session idle-timeout %u%s", g_cfg->idle_timeout_s, VTY_NEWLINE);
	vty_out(vty, " session hop-deadline %u%s", g_cfg->hop_deadline_ms, VTY_NEWLINE);
	vty_out(vty, " country-code %s%s", g_cfg->country_code, VTY_NEWLINE);
	if (g_cfg->secrets_file)
		vty_out(vty, " secrets-file %s%s", g_cfg->secrets_file, VTY_NEWLINE);
	vty_out(vty, " catalog limits name-max %u price-max %lld qty-max %u%s", g_cfg->name_max,
		(long long)g_cfg->price_max_cents, g_cfg->qty_max, VTY_NEWLINE);
	vty_out(vty, " payments slip-receiver %u%s", g_cfg->slip_receiver, VTY_NEWLINE);
	netlist_write(vty, "ussd-at allow", &g_cfg->at_allow);
	netlist_write(vty, "kannel allow", &g_cfg->kannel_allow);
	vty_out(vty, " limits hops-per-minute %u sessions-per-hour %u%s", g_cfg->hops_per_minute,
		g_cfg->sessions_per_hour, VTY_NEWLINE);
	vty_out(vty, " limits till-requests-per-minute %u%s", g_cfg->till_requests_per_minute, VTY_NEWLINE);
	for (unsigned i = 0; i < g_cfg->n_links; i++) {
		const struct kannel_link *l = &g_cfg->links[i];
		vty_out(vty, " kannel link %s ussd-op begin %u answer %u continue %u end %u abort %u%s", l->smsc_id,
			l->op_begin, l->op_answer, l->op_continue, l->op_end, l->op_abort, VTY_NEWLINE);
		if (l->end_bit)
			vty_out(vty, " kannel link %s end-bit on%s", l->smsc_id, VTY_NEWLINE);
	}
	config_write_sms(vty);
	config_write_privilege(vty);
	if (g_cfg->box_port)
		vty_out(vty, " kannel box connect %s %u%s", g_cfg->box_addr, g_cfg->box_port, VTY_NEWLINE);
	return CMD_SUCCESS;
}

void cfg_vty_init(void)
{
	install_element(CONFIG_NODE, &cfg_spaza_cmd);
	install_node(&spaza_node, config_write_spaza);
	install_element(SPAZA_NODE, &cfg_http_listen_cmd);
	install_element(SPAZA_NODE, &cfg_http_max_body_cmd);
	install_element(SPAZA_NODE, &cfg_database_cmd);
	install_element(SPAZA_NODE, &cfg_menus_cmd);
	install_element(SPAZA_NODE, &cfg_idle_timeout_cmd);
	install_element(SPAZA_NODE, &cfg_hop_deadline_cmd);
	install_element(SPAZA_NODE, &cfg_country_code_cmd);
	install_element(SPAZA_NODE, &cfg_secrets_file_cmd);
	install_element(SPAZA_NODE, &cfg_catalog_limits_cmd);
	install_element(SPAZA_NODE, &cfg_slip_receiver_cmd);
	install_element(SPAZA_NODE, &cfg_limits_cmd);
	install_element(SPAZA_NODE, &cfg_limits_till_cmd);
	install_element(SPAZA_NODE, &cfg_at_allow_cmd);
	install_element(SPAZA_NODE, &cfg_kannel_allow_cmd);
	install_element(SPAZA_NODE, &cfg_kannel_ops_cmd);
	install_element(SPAZA_NODE, &cfg_kannel_end_bit_cmd);
	cfg_sms_vty_init();
	install_element(SPAZA_NODE, &cfg_kannel_box_cmd);
	install_element(SPAZA_NODE, &cfg_no_kannel_box_cmd);
	cfg_privilege_vty_init();
}

/* libosmovty reads a file line by line with fgets() and stops at the first line it
 * cannot execute, so the stream position tells which line failed: count the newlines
 * before it. That gives operators the file:line they need without a parser of our own. */
int cfg_read(const char *file)
{
	FILE *fp = fopen(file, "r");
	if (!fp) {
		fprintf(stderr, "%s: %s\n", file, strerror(errno));
		return -errno;
	}
	host_config_set(file);	/* so that `write file` writes back where it was read */
	int rc = vty_read_config_filep(fp, NULL);
	if (rc < 0) {
		long pos = ftell(fp);
		unsigned line = 0;
		int c = '\n';
		rewind(fp);
		for (long i = 0; i < pos; i++)
			if ((c = fgetc(fp)) == '\n')
				line++;
		if (c != '\n')	/* the failing line is the last one, without a newline */
			line++;
		fprintf(stderr, "%s:%u: invalid or unknown configuration command\n", file, line ? line : 1);
		fclose(fp);
		return -EINVAL;
	}
	fclose(fp);
	return 0;
}
