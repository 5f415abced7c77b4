/* Configuration: the `spaza` VTY node, its defaults, and reading a file with file:line errors.
 *
 * The node's keys are listed once, in cfg_keys.def: each command's words, help, values with
 * their type, bounds and default. From it come the VTY commands (one handler for all, which
 * finds its row from the cmd_element libosmovty hands it), the defaults (set through the same
 * parsing a config line gets), the range checks and their reasons, and config_write_spaza(),
 * so `write file` and `show running-config` write back exactly what was read. Lines that repeat
 * (allow lists) or are kept per link are parsed and written by hand, in their place of the
 * table's order. */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <talloc.h>
#include <libpq-fe.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>
#include "cfg.h"
#include "listen_cfg.h"
#include "logging.h"

struct spaza_cfg *g_cfg;
static void *cfg_ctx;

/* ---- the key table ---- */

enum cfg_type { CFG_STR, CFG_LINE, CFG_IPV4, CFG_DIGITS, CFG_U16, CFG_UINT, CFG_I64 };
enum cfg_write { CFG_ALWAYS, CFG_SET, CFG_OWN, CFG_ALIAS };

enum cfg_cmd_id {
#define CFG_CMD(id, words, help, write, check, then) CFG_CMD_##id,
#define CFG_VAL(cmd, kw, kw_help, name, member, type, min, max, dflt, help)
#include "cfg_keys.def"
#undef CFG_CMD
#undef CFG_VAL
	CFG_N_CMDS
};

/* the most values one command has */
#define CFG_MAX_VALS 5	/* crm rfm and crm segments take four and five */

/* A check sees the values as typed (the LINE one joined) and may refuse the line. */
typedef int (*cfg_check_fn)(struct vty *vty, char *const vals[]);

struct cfg_cmd_def {
	const char *words, *help;
	enum cfg_write write;
	cfg_check_fn check;
	void (*then)(void);
};

struct cfg_val_def {
	enum cfg_cmd_id cmd;
	const char *keyword, *keyword_help, *name;
	size_t off;
	enum cfg_type type;
	long long min, max;
	const char *dflt, *help;
	const char *token;	/* in the command's syntax */
};

/* the member each type writes must have the type's size */
#define CFG_SIZE_STR sizeof(char *)
#define CFG_SIZE_LINE sizeof(char *)
#define CFG_SIZE_IPV4 sizeof(char *)
#define CFG_SIZE_DIGITS sizeof(char *)
#define CFG_SIZE_U16 sizeof(uint16_t)
#define CFG_SIZE_UINT sizeof(unsigned)
#define CFG_SIZE_I64 sizeof(int64_t)
#define CFG_CMD(id, words, help, write, check, then)
#define CFG_VAL(cmd, kw, kw_help, name, member, type, min, max, dflt, help) \
	_Static_assert(sizeof(((struct spaza_cfg *)0)->member) == CFG_SIZE_##type, #member " is no " #type);
#include "cfg_keys.def"
#undef CFG_CMD
#undef CFG_VAL

#define CFG_TOKEN_STR(name, min, max) name
#define CFG_TOKEN_LINE(name, min, max) "." name
#define CFG_TOKEN_IPV4(name, min, max) "A.B.C.D"
#define CFG_TOKEN_RANGE(min, max) "<" #min "-" #max ">"
#define CFG_TOKEN_DIGITS(name, min, max) CFG_TOKEN_RANGE(min, max)
#define CFG_TOKEN_U16(name, min, max) CFG_TOKEN_RANGE(min, max)
#define CFG_TOKEN_UINT(name, min, max) CFG_TOKEN_RANGE(min, max)
#define CFG_TOKEN_I64(name, min, max) CFG_TOKEN_RANGE(min, max)

static int cfg_check_conninfo(struct vty *vty, char *const vals[]);
static void cfg_then_retry(void);

static const struct cfg_cmd_def cfg_cmd_defs[CFG_N_CMDS] = {
#define CFG_CMD(id, words, help, write, check, then) [CFG_CMD_##id] = { words, help, CFG_##write, check, then },
#define CFG_VAL(cmd, kw, kw_help, name, member, type, min, max, dflt, help)
#include "cfg_keys.def"
#undef CFG_CMD
#undef CFG_VAL
};

static const struct cfg_val_def cfg_val_defs[] = {
#define CFG_CMD(id, words, help, write, check, then)
#define CFG_VAL(cmd, kw, kw_help, name, member, type, min, max, dflt, help) \
	{ CFG_CMD_##cmd, kw, kw_help, name, offsetof(struct spaza_cfg, member), CFG_##type, min, max, dflt, help, \
	  CFG_TOKEN_##type(name, min, max) },
#include "cfg_keys.def"
#undef CFG_CMD
#undef CFG_VAL
};

/* The commands libosmovty runs, one per table row but the OWN ones, built by cfg_vty_init(). */
static struct cmd_element cfg_cmds[CFG_N_CMDS];

/* Whether text is a good value for v; if not, why says so in the words of spazad -C. */
static int cfg_val_check(const struct cfg_val_def *v, const char *text, char *why, size_t len)
{
	struct in_addr a;
	char *end;
	switch (v->type) {
	case CFG_STR:
	case CFG_LINE:
		return 0;
	case CFG_IPV4:
		if (inet_pton(AF_INET, text, &a) == 1)
			return 0;
		snprintf(why, len, "%s %s is not an IPv4 address", v->name, text);
		return -EINVAL;
	default:
		errno = 0;
		long long n = strtoll(text, &end, 10);
		if (!*text || *end || errno) {
			snprintf(why, len, "%s %s is not a number", v->name, text);
			return -EINVAL;
		}
		if (n < v->min || n > v->max) {
			snprintf(why, len, "%s %s out of range (%lld-%lld)", v->name, text, v->min, v->max);
			return -ERANGE;
		}
		return 0;
	}
}

/* Stores a value cfg_val_check() accepted. */
static void cfg_val_store(const struct cfg_val_def *v, const char *text)
{
	void *p = (char *)g_cfg + v->off;
	switch (v->type) {
	case CFG_STR:
	case CFG_LINE:
	case CFG_IPV4:
	case CFG_DIGITS:
		osmo_talloc_replace_string(g_cfg, (char **)p, text);
		break;
	case CFG_U16:
		*(uint16_t *)p = strtoll(text, NULL, 10);
		break;
	case CFG_UINT:
		*(unsigned *)p = strtoll(text, NULL, 10);
		break;
	case CFG_I64:
		*(int64_t *)p = strtoll(text, NULL, 10);
		break;
	}
}

/* The value as `write file` writes it, NULL when it is not set (a NULL string, a 0). */
static const char *cfg_val_text(const struct cfg_val_def *v, char *buf, size_t len)
{
	const void *p = (const char *)g_cfg + v->off;
	long long n;
	switch (v->type) {
	case CFG_U16:
		n = *(const uint16_t *)p;
		break;
	case CFG_UINT:
		n = *(const unsigned *)p;
		break;
	case CFG_I64:
		n = *(const int64_t *)p;
		break;
	default:
		return *(char *const *)p;
	}
	snprintf(buf, len, "%lld", n);
	return n ? buf : NULL;
}

/* The values of command c, in order: their rows in vals, how many as the result. */
static unsigned cfg_cmd_vals(enum cfg_cmd_id c, const struct cfg_val_def *vals[CFG_MAX_VALS])
{
	unsigned n = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(cfg_val_defs); i++)
		if (cfg_val_defs[i].cmd == c) {
			OSMO_ASSERT(n < CFG_MAX_VALS);
			vals[n++] = &cfg_val_defs[i];
		}
	return n;
}

/* ---- the audit log: every command of the spaza node typed over the VTY (not read from the
 * file) is handed to the audit function spazad sets, refused or not. The node's commands are
 * installed with cfg_audited() in front of their own function, which it finds by the command. */
static cfg_audit_fn cfg_audit;
#define CFG_AUDITED_MAX (CFG_N_CMDS + 8)
static struct {
	const struct cmd_element *cmd;
	int (*func)(struct cmd_element *self, struct vty *vty, int argc, const char *argv[]);
} cfg_audited_cmds[CFG_AUDITED_MAX];
static unsigned cfg_n_audited;

static int cfg_audited(struct cmd_element *self, struct vty *vty, int argc, const char *argv[])
{
	int rc = CMD_WARNING;
	for (unsigned i = 0; i < cfg_n_audited; i++)
		if (cfg_audited_cmds[i].cmd == self)
			rc = cfg_audited_cmds[i].func(self, vty, argc, argv);
	if (cfg_audit && vty->type != VTY_FILE)
		cfg_audit(vty, rc == CMD_SUCCESS);
	return rc;
}

static void cfg_install(struct cmd_element *cmd)
{
	OSMO_ASSERT(cfg_n_audited < CFG_AUDITED_MAX);
	cfg_audited_cmds[cfg_n_audited].cmd = cmd;
	cfg_audited_cmds[cfg_n_audited++].func = cmd->func;
	cmd->func = cfg_audited;
	install_element(SPAZA_NODE, cmd);
}

/* The one handler of every table command: all values are checked before any is stored, so a
 * refused line changes nothing. */
static int cfg_cmd_run(struct cmd_element *self, struct vty *vty, int argc, const char *argv[])
{
	enum cfg_cmd_id c = self - cfg_cmds;
	const struct cfg_val_def *vals[CFG_MAX_VALS];
	char *texts[CFG_MAX_VALS] = { NULL };
	char why[160];
	unsigned n = cfg_cmd_vals(c, vals);
	int rc = CMD_SUCCESS;

	for (unsigned i = 0; i < n && (int)i < argc; i++) {
		texts[i] = vals[i]->type == CFG_LINE ? argv_concat(argv, argc, i) : talloc_strdup(cfg_ctx, argv[i]);
		if (cfg_val_check(vals[i], texts[i], why, sizeof(why)) < 0) {
			vty_out(vty, "%% %s%s", why, VTY_NEWLINE);
			rc = CMD_WARNING;
		}
	}
	if (rc == CMD_SUCCESS && cfg_cmd_defs[c].check)
		rc = cfg_cmd_defs[c].check(vty, texts);
	for (unsigned i = 0; i < n; i++) {
		if (rc == CMD_SUCCESS && texts[i])
			cfg_val_store(vals[i], texts[i]);
		talloc_free(texts[i]);
	}
	if (rc == CMD_SUCCESS && cfg_cmd_defs[c].then)
		cfg_cmd_defs[c].then();
	return rc;
}

/* Diagnoses a line libosmovty found no command for: one of ours, typed right, with a value
 * out of its bounds or of the wrong form (libosmovty only says "no such command" then). */
static int cfg_diagnose(const char *line, char *why, size_t len)
{
	char *words[16];
	unsigned n = 0;
	char *copy = talloc_strdup(cfg_ctx, line), *save = NULL;
	for (char *w = strtok_r(copy, " \t\r\n", &save); w && n < ARRAY_SIZE(words); w = strtok_r(NULL, " \t\r\n", &save))
		words[n++] = w;
	int rc = -ENOENT;
	for (unsigned c = 0; c < CFG_N_CMDS && rc == -ENOENT; c++) {
		const struct cfg_val_def *vals[CFG_MAX_VALS];
		unsigned nv = cfg_cmd_vals(c, vals), k = 0;
		char *cw = talloc_strdup(copy, cfg_cmd_defs[c].words), *s2 = NULL;
		bool same = cfg_cmd_defs[c].write != CFG_OWN;
		for (char *w = strtok_r(cw, " ", &s2); w && same; w = strtok_r(NULL, " ", &s2))
			same = k < n && !strcmp(words[k++], w);
		for (unsigned i = 0; i < nv && same; i++) {
			if (vals[i]->keyword)
				same = k < n && !strcmp(words[k++], vals[i]->keyword);
			if (same && vals[i]->type != CFG_LINE)
				same = k < n;
			if (same && vals[i]->type != CFG_LINE && cfg_val_check(vals[i], words[k++], why, len) < 0)
				rc = -EINVAL;
		}
	}
	talloc_free(copy);
	return rc;
}

/* ---- defaults ---- */

void cfg_init(void *ctx)
{
	cfg_ctx = ctx;
	g_cfg = talloc_zero(ctx, struct spaza_cfg);
	for (unsigned i = 0; i < ARRAY_SIZE(cfg_val_defs); i++)
		if (cfg_val_defs[i].dflt)
			cfg_val_store(&cfg_val_defs[i], cfg_val_defs[i].dflt);
	g_cfg->n_links = 1;
	g_cfg->links[0] = (struct kannel_link){ talloc_strdup(g_cfg, "*"), 1, 18, 2, 17, 33, false };
	listen_cfg_init(g_cfg);
}

/* ---- the keys with checks of their own ---- */

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

static int cfg_check_conninfo(struct vty *vty, char *const vals[])
{
	PQconninfoOption *opts = PQconninfoParse(vals[0], NULL);
	bool has_password = false;
	for (PQconninfoOption *o = opts; o && o->keyword; o++)
		if (!strcmp(o->keyword, "password") && o->val && *o->val) {
			has_password = true;
			cfg_mask_secret(vty, o->val);
		}
	PQconninfoFree(opts);
	if (!has_password)
		return CMD_SUCCESS;
	/* it would be written back by `write file` and shown by `show running-config` */
	vty_out(vty, "%% a password in the configuration is refused: put database-password (its bytes in hex)"
		" in the secrets file, or use PGPASSWORD or a ~/.pgpass file%s", VTY_NEWLINE);
	explicit_bzero(vals[0], strlen(vals[0]));
	return CMD_WARNING;
}

static void cfg_then_retry(void)
{
	if (g_cfg->sms_retry_max_s < g_cfg->sms_retry_min_s)
		g_cfg->sms_retry_max_s = g_cfg->sms_retry_min_s;
}

DEFUN(cfg_no_kannel_box, cfg_no_kannel_box_cmd, "no kannel box",
      NO_STR "Kannel front ends\n" "No native box front end\n")
{
	g_cfg->box_port = 0;
	return CMD_SUCCESS;
}

/* ---- Kannel links ---- */

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

/* ---- allow lists ---- */

int cfg_netlist_add(struct vty *vty, struct cfg_netlist *l, const char *arg)
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

void cfg_netlist_write(struct vty *vty, const char *cmd, const struct cfg_netlist *l)
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
	return cfg_netlist_add(vty, &g_cfg->at_allow, argv[0]);
}

DEFUN(cfg_kannel_allow, cfg_kannel_allow_cmd, "kannel allow A.B.C.D/M",
      "Kannel front ends\n" "Only these networks may call /kannel/mo and /kannel/dlr (repeat for more)\n"
      "IPv4 network of the smsbox hosts, e.g. 10.1.2.0/28\n")
{
	return cfg_netlist_add(vty, &g_cfg->kannel_allow, argv[0]);
}

/* ---- the node and its write-back ---- */

static struct cmd_node spaza_node = { .node = SPAZA_NODE, .prompt = "%s(config-spaza)# ", .vtysh = 1 };

DEFUN(cfg_spaza, cfg_spaza_cmd, "spaza", "Configure the Spaza gateway\n")
{
	vty->node = SPAZA_NODE;
	return CMD_SUCCESS;
}

static void cfg_write_own(struct vty *vty, enum cfg_cmd_id c)
{
	switch (c) {
	case CFG_CMD_HTTP_LISTEN:
		listen_cfg_write(vty);
		break;
	case CFG_CMD_AT_ALLOW:
		cfg_netlist_write(vty, "ussd-at allow", &g_cfg->at_allow);
		break;
	case CFG_CMD_KANNEL_ALLOW:
		cfg_netlist_write(vty, "kannel allow", &g_cfg->kannel_allow);
		break;
	case CFG_CMD_KANNEL_LINK:
		for (unsigned i = 0; i < g_cfg->n_links; i++) {
			const struct kannel_link *l = &g_cfg->links[i];
			vty_out(vty, " kannel link %s ussd-op begin %u answer %u continue %u end %u abort %u%s", l->smsc_id,
				l->op_begin, l->op_answer, l->op_continue, l->op_end, l->op_abort, VTY_NEWLINE);
			if (l->end_bit)
				vty_out(vty, " kannel link %s end-bit on%s", l->smsc_id, VTY_NEWLINE);
		}
		break;
	default:
		OSMO_ASSERT(0);
	}
}

static int config_write_spaza(struct vty *vty)
{
	vty_out(vty, "spaza%s", VTY_NEWLINE);
	for (unsigned c = 0; c < CFG_N_CMDS; c++) {
		const struct cfg_val_def *vals[CFG_MAX_VALS];
		unsigned n = cfg_cmd_vals(c, vals);
		char *line;
		bool all_set = true;
		if (cfg_cmd_defs[c].write == CFG_OWN || cfg_cmd_defs[c].write == CFG_ALIAS) {
			cfg_write_own(vty, c);
			continue;
		}
		line = talloc_asprintf(cfg_ctx, " %s", cfg_cmd_defs[c].words);
		for (unsigned i = 0; i < n; i++) {
			char buf[24];
			const char *t = cfg_val_text(vals[i], buf, sizeof(buf));
			all_set = all_set && t;
			line = talloc_asprintf_append(line, "%s%s %s", vals[i]->keyword ? " " : "",
						      vals[i]->keyword ? vals[i]->keyword : "", t ? t : "");
		}
		if (cfg_cmd_defs[c].write == CFG_ALWAYS || all_set)
			vty_out(vty, "%s%s", line, VTY_NEWLINE);
		talloc_free(line);
	}
	return CMD_SUCCESS;
}

/* Each table command's syntax and help, from its words and its values' keywords and tokens. */
static void cfg_cmd_build(enum cfg_cmd_id c)
{
	const struct cfg_val_def *vals[CFG_MAX_VALS];
	unsigned n = cfg_cmd_vals(c, vals);
	char *string = talloc_strdup(cfg_ctx, cfg_cmd_defs[c].words);
	char *doc = talloc_strdup(cfg_ctx, cfg_cmd_defs[c].help);
	for (unsigned i = 0; i < n; i++) {
		if (vals[i]->keyword) {
			string = talloc_asprintf_append(string, " %s", vals[i]->keyword);
			doc = talloc_strdup_append(doc, vals[i]->keyword_help);
		}
		string = talloc_asprintf_append(string, " %s", vals[i]->token);
		doc = talloc_strdup_append(doc, vals[i]->help);
	}
	cfg_cmds[c] = (struct cmd_element){ .string = string, .func = cfg_cmd_run, .doc = doc };
	cfg_install(&cfg_cmds[c]);
}

void cfg_set_audit(cfg_audit_fn fn)
{
	cfg_audit = fn;
}

void cfg_vty_init(void)
{
	install_element(CONFIG_NODE, &cfg_spaza_cmd);
	install_node(&spaza_node, config_write_spaza);
	for (unsigned c = 0; c < CFG_N_CMDS; c++)
		if (cfg_cmd_defs[c].write != CFG_OWN)
			cfg_cmd_build(c);
	cfg_install(&cfg_at_allow_cmd);
	cfg_install(&cfg_kannel_allow_cmd);
	cfg_install(&cfg_kannel_ops_cmd);
	cfg_install(&cfg_kannel_end_bit_cmd);
	cfg_install(&cfg_sendsms_password_cmd);
	cfg_install(&cfg_no_kannel_box_cmd);
	listen_cfg_vty_init();
}

/* ---- reading a file ---- */

/* The reason for a line that failed, from what was said while it was read: a command that
 * refused the line said why in its own "% " lines, which are passed on as they are (the
 * operator reads them first, as always) and the reason points at them; else it is our
 * diagnosis of the line, else libosmovty's verdict in our words. */
static void cfg_read_reason(FILE *said, const char *line, char *why, size_t len)
{
	char buf[512];
	bool own = false, no_match = false, ambiguous = false, incomplete = false;
	rewind(said);
	while (fgets(buf, sizeof(buf), said)) {
		if (!strncmp(buf, "% ", 2)) {
			fputs(buf, stderr);
			own = true;
		}
		buf[strcspn(buf, "\r\n")] = '\0';
		no_match |= !strcmp(buf, "There is no such command.");
		ambiguous |= !strcmp(buf, "Ambiguous command.");
		incomplete |= !strcmp(buf, "Command incomplete.");
	}
	if (own) {
		snprintf(why, len, "refused, for the reason above");
		return;
	}
	if (cfg_diagnose(line, why, len) == -EINVAL)
		return;
	const char *t = line + strspn(line, " \t");
	snprintf(why, len, "%s: %.*s", ambiguous ? "ambiguous command" : incomplete ? "incomplete command" :
		 no_match ? "unknown command" : "invalid or unknown configuration command", (int)strcspn(t, "\r\n"), t);
}

/* libosmovty reads a file line by line with fgets() and stops at the first line it cannot
 * execute, so the stream position tells which line failed: count the newlines before it.
 * What it and our commands say meanwhile goes to stderr in its own words ("There is no such
 * command.", the line again): stderr is caught in a temporary file while it reads, so that a
 * bad line gives the operator one `file:line: reason` and nothing else. */
int cfg_read(const char *file)
{
	FILE *fp = fopen(file, "r");
	if (!fp) {
		fprintf(stderr, "%s: %s\n", file, strerror(errno));
		return -errno;
	}
	host_config_set(file);	/* so that `write file` writes back where it was read */
	FILE *said = tmpfile();
	int saved = -1;
	fflush(stderr);
	if (said) {
		saved = dup(STDERR_FILENO);
		dup2(fileno(said), STDERR_FILENO);
	}
	int rc = vty_read_config_filep(fp, NULL);
	spaza_logging_privacy();	/* the targets the config made */
	fflush(stderr);
	if (saved >= 0) {
		dup2(saved, STDERR_FILENO);
		close(saved);
	}
	if (rc >= 0) {
		/* what was said on a good read (log lines) is not ours to drop */
		char buf[512];
		size_t n;
		rewind(said);
		while (said && (n = fread(buf, 1, sizeof(buf), said)) > 0)
			fwrite(buf, 1, n, stderr);
	} else {
		long pos = ftell(fp);
		unsigned line = 0;
		int c = '\n';
		char text[512] = "", why[640];
		size_t tl = 0;
		rewind(fp);
		for (long i = 0; i < pos; i++) {
			if ((c = fgetc(fp)) == '\n') {
				line++;
				if (i < pos - 1)
					tl = 0;
			} else if (tl < sizeof(text) - 1) {
				text[tl++] = c;
			}
		}
		text[tl] = '\0';
		if (c != '\n')	/* the failing line is the last one, without a newline */
			line++;
		if (said)
			cfg_read_reason(said, text, why, sizeof(why));
		else
			snprintf(why, sizeof(why), "invalid or unknown configuration command");
		fprintf(stderr, "%s:%u: %s\n", file, line ? line : 1, why);
		rc = -EINVAL;
	}
	if (said)
		fclose(said);
	fclose(fp);
	return rc < 0 ? -EINVAL : 0;
}
