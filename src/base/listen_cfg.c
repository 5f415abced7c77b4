/* The listeners' configuration commands and the start-up check that refuses a listener open to
 * the network without its protection. The front's address and port stay in g_cfg->http_addr and
 * http_port, which `http listen` (the old single listener, kept for old files) also sets and
 * the Kannel DLR URL is built from. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <osmocom/vty/command.h>
#include <osmocom/vty/vty.h>
#include "listen_cfg.h"

struct listen_cfg g_listen[LISTEN_N];
const char *const listen_names[LISTEN_N] = { "front", "till", "admin" };
static void *listen_ctx;

#define LISTEN_KINDS "(front|till|admin)"
#define LISTEN_KINDS_HELP "The customer fronts: /ussd/at, /kannel/*\n" "The till API: /api/v1/...\n" \
	"The back office: /health\n"

void listen_cfg_init(void *ctx)
{
	listen_ctx = ctx;
	/* An aggregator or smsbox is one address carrying every customer's hop, a till one
	 * address making a few requests at a time, the back office a person with a browser. */
	static const unsigned per_ip[LISTEN_N] = { 1000, 64, 16 };
	for (unsigned k = 0; k < LISTEN_N; k++)
		g_listen[k] = (struct listen_cfg){ .port = 8180 + k, .per_ip = per_ip[k], .timeout_s = 10 };
	g_listen[LISTEN_TILL].addr = talloc_strdup(ctx, "127.0.0.1");
	g_listen[LISTEN_ADMIN].addr = talloc_strdup(ctx, "127.0.0.1");
}

static enum listen_kind listen_kind_arg(const char *s)
{
	for (unsigned k = 0; k < LISTEN_N; k++)
		if (!strcmp(s, listen_names[k]))
			return k;
	return LISTEN_FRONT;
}

const char *listen_addr(enum listen_kind k)
{
	return k == LISTEN_FRONT ? g_cfg->http_addr : g_listen[k].addr;
}

uint16_t listen_port(enum listen_kind k)
{
	return k == LISTEN_FRONT ? g_cfg->http_port : g_listen[k].port;
}

bool listen_tls(enum listen_kind k)
{
	return g_listen[k].cert && g_listen[k].key;
}

bool listen_loopback(enum listen_kind k)
{
	struct in_addr a;
	return inet_pton(AF_INET, listen_addr(k), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

const char *listen_unprotected(enum listen_kind k)
{
	if (listen_loopback(k))
		return NULL;
	if (k != LISTEN_FRONT)
		return listen_tls(k) ? NULL : "no TLS";
	/* the older per-route lists protect the front too when both of its doors have one */
	if (g_listen[k].allow.n || (g_cfg->at_allow.n && g_cfg->kannel_allow.n))
		return NULL;
	return "no allow-list";
}

/* The line of the last command that starts with what (e.g. "tls till "), for file:line; the
 * check runs on the settings, so their line is found again in the file. */
static unsigned listen_cfg_line(const char *file, const char *what, const char *alias)
{
	FILE *fp = fopen(file, "r");
	char buf[1024];
	unsigned line = 0, found = 0;
	while (fp && fgets(buf, sizeof(buf), fp)) {
		const char *p = buf + strspn(buf, " \t");
		line++;
		if (!strncmp(p, what, strlen(what)) || (alias && !strncmp(p, alias, strlen(alias))))
			found = line;
	}
	if (fp)
		fclose(fp);
	return found ? found : 1;
}

static bool listen_readable(const char *path)
{
	FILE *fp = fopen(path, "r");
	if (fp)
		fclose(fp);
	return fp != NULL;
}

int listen_cfg_check(const char *file)
{
	char what[32];
	int rc = 0;
	for (unsigned k = 0; k < LISTEN_N; k++) {
		const char *lack = listen_unprotected(k);
		if (lack && !g_listen[k].insecure) {
			snprintf(what, sizeof(what), "listen %s ", listen_names[k]);
			fprintf(stderr, "%s:%u: listen %s %s %u is not a loopback address and has %s: add `%s %s %s`,"
				" or `insecure %s` to accept that\n", file,
				listen_cfg_line(file, what, k == LISTEN_FRONT ? "http listen " : NULL), listen_names[k],
				listen_addr(k), listen_port(k), lack, k == LISTEN_FRONT ? "allow" : "tls", listen_names[k],
				k == LISTEN_FRONT ? "A.B.C.D/M" : "cert PATH key PATH", listen_names[k]);
			rc = -EPERM;
		}
		const char *bad = !listen_tls(k) ? NULL : !listen_readable(g_listen[k].cert) ? g_listen[k].cert
			: !listen_readable(g_listen[k].key) ? g_listen[k].key : NULL;
		if (bad) {
			snprintf(what, sizeof(what), "tls %s ", listen_names[k]);
			fprintf(stderr, "%s:%u: tls %s: cannot read %s: %s\n", file, listen_cfg_line(file, what, NULL),
				listen_names[k], bad, strerror(errno));
			rc = -EPERM;
		}
	}
	return rc;
}

DEFUN(cfg_listen, cfg_listen_cmd, "listen " LISTEN_KINDS " A.B.C.D <1-65535>",
      "An HTTP listener\n" LISTEN_KINDS_HELP "IPv4 address (0.0.0.0: every interface)\n" "TCP port\n")
{
	enum listen_kind k = listen_kind_arg(argv[0]);
	if (k == LISTEN_FRONT) {
		osmo_talloc_replace_string(g_cfg, &g_cfg->http_addr, argv[1]);
		g_cfg->http_port = atoi(argv[2]);
		return CMD_SUCCESS;
	}
	osmo_talloc_replace_string(listen_ctx, &g_listen[k].addr, argv[1]);
	g_listen[k].port = atoi(argv[2]);
	return CMD_SUCCESS;
}

DEFUN(cfg_listen_limits, cfg_listen_limits_cmd,
      "listen " LISTEN_KINDS " limits per-ip <1-100000> timeout <1-3600>",
      "An HTTP listener\n" LISTEN_KINDS_HELP "What one client may take\n"
      "Connections one address may hold at a time (more are refused)\n" "Connections\n"
      "A request's headers and body must arrive within this, or the connection is closed\n" "Seconds\n")
{
	enum listen_kind k = listen_kind_arg(argv[0]);
	g_listen[k].per_ip = atoi(argv[1]);
	g_listen[k].timeout_s = atoi(argv[2]);
	return CMD_SUCCESS;
}

DEFUN(cfg_listen_allow, cfg_listen_allow_cmd, "allow " LISTEN_KINDS " A.B.C.D/M",
      "Only these networks may connect to a listener (repeat for more)\n" LISTEN_KINDS_HELP
      "IPv4 network, e.g. 196.201.214.0/24\n")
{
	return cfg_netlist_add(vty, &g_listen[listen_kind_arg(argv[0])].allow, argv[1]);
}

DEFUN(cfg_listen_tls, cfg_listen_tls_cmd, "tls " LISTEN_KINDS " cert PATH key PATH",
      "Serve a listener over HTTPS\n" LISTEN_KINDS_HELP "The certificate (chain), PEM\n" "Path\n"
      "Its private key, PEM (readable by root only: read before privileges are dropped)\n" "Path\n")
{
	enum listen_kind k = listen_kind_arg(argv[0]);
	osmo_talloc_replace_string(listen_ctx, &g_listen[k].cert, argv[1]);
	osmo_talloc_replace_string(listen_ctx, &g_listen[k].key, argv[2]);
	return CMD_SUCCESS;
}

DEFUN(cfg_listen_insecure, cfg_listen_insecure_cmd, "insecure " LISTEN_KINDS,
      "Accept a listener off loopback without TLS (till, admin) or allow-list (front): warned at every start\n"
      LISTEN_KINDS_HELP)
{
	g_listen[listen_kind_arg(argv[0])].insecure = true;
	return CMD_SUCCESS;
}

void listen_cfg_write(struct vty *vty)
{
	for (unsigned k = 0; k < LISTEN_N; k++) {
		const struct listen_cfg *l = &g_listen[k];
		const char *n = listen_names[k];
		vty_out(vty, " listen %s %s %u%s", n, listen_addr(k), listen_port(k), VTY_NEWLINE);
		vty_out(vty, " listen %s limits per-ip %u timeout %u%s", n, l->per_ip, l->timeout_s, VTY_NEWLINE);
		char cmd[16];
		snprintf(cmd, sizeof(cmd), "allow %s", n);
		cfg_netlist_write(vty, cmd, &l->allow);
		if (listen_tls(k))
			vty_out(vty, " tls %s cert %s key %s%s", n, l->cert, l->key, VTY_NEWLINE);
		if (l->insecure)
			vty_out(vty, " insecure %s%s", n, VTY_NEWLINE);
	}
}

void listen_cfg_vty_init(void)
{
	install_element(SPAZA_NODE, &cfg_listen_cmd);
	install_element(SPAZA_NODE, &cfg_listen_limits_cmd);
	install_element(SPAZA_NODE, &cfg_listen_allow_cmd);
	install_element(SPAZA_NODE, &cfg_listen_tls_cmd);
	install_element(SPAZA_NODE, &cfg_listen_insecure_cmd);
}
