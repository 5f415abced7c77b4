/* Live inspection over the VTY (telnet on loopback): sessions, customers, counters, and
 * reloading the menus; and who may reach the VTY at all. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <talloc.h>
#include <osmocom/vty/command.h>
#include <osmocom/vty/misc.h>
#include <osmocom/vty/vty.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include "audit.h"
#include "crm.h"
#include "db.h"
#include "logging.h"
#include "menu.h"
#include "msisdn.h"
#include "pin_budget.h"
#include "ratelimit.h"
#include "cfg.h"
#include "secrets.h"
#include "session.h"
#include "stats.h"
#include "vty.h"

static void show_session(const struct session_info *si, void *priv)
{
	struct vty *vty = priv;
	vty_out(vty, "%-24s %-16s %-6s %-20s %5u %6lds%s", si->ref, si->msisdn, si->state, si->screen, si->hops,
		(long)(time(NULL) - si->started), VTY_NEWLINE);
}

DEFUN(show_sessions, show_sessions_cmd, "show sessions", SHOW_STR "Live USSD sessions\n")
{
	vty_out(vty, "%-24s %-16s %-6s %-20s %5s %7s%s", "SESSION", "MSISDN", "STATE", "SCREEN", "HOPS", "AGE", VTY_NEWLINE);
	session_foreach(show_session, vty);
	vty_out(vty, "%u sessions%s", session_count(), VTY_NEWLINE);
	return CMD_SUCCESS;
}

DEFUN(show_customer, show_customer_cmd, "show customer MSISDN",
      SHOW_STR "A customer known to this daemon\n" "Phone number (national or E.164)\n")
{
	char e164[24];
	if (msisdn_normalize(argv[0], g_cfg->country_code, e164, sizeof(e164)) < 0) {
		vty_out(vty, "%% not a phone number: %s%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	struct customer *c = crm_cached(e164);
	if (!c) {
		vty_out(vty, "%% %s has not been in touch since start-up (spazactl customer show %s has the full timeline)%s",
			e164, e164, VTY_NEWLINE);
		return CMD_WARNING;
	}
	vty_out(vty, "customer %lld %s language %s%s", (long long)c->id, c->msisdn, c->lang, VTY_NEWLINE);
	if (session_customer_live(c)) {
		vty_out(vty, " live session:%s", VTY_NEWLINE);
		session_foreach_customer(c, show_session, vty);
	}
	return CMD_SUCCESS;
}

static void show_pin_peer(const char *front, const char *peer, uint64_t failed, void *priv)
{
	struct vty *vty = priv;
	vty_out(vty, " failed PINs from %s %s: %llu%s", front, peer, (unsigned long long)failed, VTY_NEWLINE);
}

DEFUN(show_stats_spaza, show_stats_spaza_cmd, "show stats", SHOW_STR "Counters of the gateway\n")
{
	struct db_stats st;
	db_get_stats(&st);
	vty_out_rate_ctr_group(vty, " ", g_ctrs);
	vty_out(vty, " live sessions: %u, cached customers: %u of %u, rate-limit counters: %u of %u%s", session_count(),
		crm_cache_size(), g_cfg->customer_cache_max, ratelimit_size(), g_cfg->ratelimit_max, VTY_NEWLINE);
	vty_out(vty, " database %s: %lu reads, %lu writes in %lu batches, %lu errors, %lu reconnects, %u queued, %u in flight%s",
		db_is_up() ? "up" : "DOWN", st.reads, st.writes, st.batches, st.errors, st.reconnects, st.queued,
		st.in_flight, VTY_NEWLINE);
	unsigned paused = pin_budget_paused();
	if (paused)
		vty_out(vty, " voucher entry PAUSED for %u s more: failed PINs over budget%s", paused, VTY_NEWLINE);
	pin_budget_foreach_peer(show_pin_peer, vty);
	return CMD_SUCCESS;
}

/* The menus new sessions get, with the version each session records (menu.h): after `menu
 * reload`, the version the funnel will show for the sessions that start from now on. */
DEFUN(show_menus, show_menus_cmd, "show menus", SHOW_STR "The menus new sessions get, with their versions\n")
{
	const struct menu_set *set = session_menus();
	vty_out(vty, "%-10s %-24s %-12s %s%s", "MENU", "VERSION", "CODE", "FILE", VTY_NEWLINE);
	for (unsigned i = 0; set && i < set->n; i++) {
		const struct menu *m = set->menus[i];
		vty_out(vty, "%-10s %-24s %-12s %s%s", m->name, m->version, m->n_codes ? m->service_codes[0] : "-", m->file,
			VTY_NEWLINE);
	}
	vty_out(vty, "%u menus, %u live sessions on them%s", set ? set->n : 0, set ? set->users : 0, VTY_NEWLINE);
	return CMD_SUCCESS;
}

static spaza_vty_reload_fn vty_reload_menus;

DEFUN(menu_reload, menu_reload_cmd, "menu reload", "Menus\n" "Re-read the menu files (live sessions keep theirs)\n")
{
	int rc = vty_reload_menus();
	if (rc < 0) {
		vty_out(vty, "%% menus not reloaded: see the log for file:line and reason%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	vty_out(vty, "menus reloaded%s", VTY_NEWLINE);
	return CMD_SUCCESS;
}

/* ---- configuration changes go to the audit log (audit.h), who being the VTY's peer */

static void vty_audit_done(void *priv, const PGresult *res, int err)
{
	if (err)
		LOGP(DMAIN, LOGL_ERROR, "the audit log could not record a VTY configuration change\n");
}

static void vty_audit(struct vty *vty, bool ok)
{
	struct audit_rec r = { .source = AUDIT_VTY, .ok = ok };
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "unknown";
	uint16_t port = 0;

	if (getpeername(vty->fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
			port = ntohs(sin->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
			port = ntohs(sin6->sin6_port);
		}
	}
	snprintf(r.who, sizeof(r.who), "%s:%u", host, port);
	audit_action_line(&r, vty->buf ? vty->buf : "");
	db_write(DB_AUDIT_ADD, db_stmts[DB_AUDIT_ADD].nparams, audit_params(&r), vty_audit_done, NULL);
}

void spaza_vty_init(spaza_vty_reload_fn reload_menus)
{
	vty_reload_menus = reload_menus;
	cfg_set_audit(vty_audit);
	install_element_ve(&show_sessions_cmd);
	install_element_ve(&show_customer_cmd);
	install_element_ve(&show_stats_spaza_cmd);
	install_element_ve(&show_menus_cmd);
	install_element(ENABLE_NODE, &menu_reload_cmd);
}

/* ---- who may reach the VTY ----
 *
 * The VTY can change the configuration and read every customer, and libosmovty's telnet has no
 * authentication unless a password is set: so it stays on loopback, unless the secrets file has
 * a vty-token, which then becomes the telnet password. A password in the configuration itself
 * (libosmovty's `password` command) is refused, like every other secret there: `write file` and
 * `show running-config` would print it. */

static bool vty_addr_loopback(const char *addr)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (!strcmp(addr, "localhost"))
		return true;
	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, addr, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* libosmovty (1.7) exports these, though no header of it declares them */
extern struct host host;
extern vector cmdvec;

/* libosmovty writes host.password into `write file` and `show running-config`; the token must
 * appear in neither, so the CONFIG_NODE writer runs with it hidden. */
static int (*vty_host_write_orig)(struct vty *vty);

static int vty_host_write(struct vty *vty)
{
	char *pw = host.password;
	host.password = NULL;
	int rc = vty_host_write_orig(vty);
	host.password = pw;
	return rc;
}

int spaza_vty_guard(void *ctx, const char *cfg_file, char *err, size_t errlen)
{
	const char *addr = vty_get_bind_addr();
	const char *token = secrets_password("vty-token");

	if (host.password || host.password_encrypt) {
		snprintf(err, errlen, "%s: password: a password in the configuration is refused: put vty-token"
			 " (its bytes in hex) in the secrets file", cfg_file);
		return -EPERM;
	}
	if (!token && !vty_addr_loopback(addr)) {
		snprintf(err, errlen, "%s: line vty: bind %s is not a loopback address: the VTY would be open to the"
			 " network without a password; bind 127.0.0.1, or put vty-token (its bytes in hex) in the"
			 " secrets file", cfg_file, addr);
		return -EPERM;
	}
	/* the vty line node's `login` turns the password check on, `no login` off: no API does.
	 * Set either way, since a file written back with a token says `login`. */
	char login[32];
	snprintf(login, sizeof(login), "line vty\n %slogin\n", token ? "" : "no ");
	FILE *fp = fmemopen(login, strlen(login), "r");
	int rc = fp ? vty_read_config_filep(fp, NULL) : -ENOMEM;
	if (fp)
		fclose(fp);
	if (rc < 0) {
		snprintf(err, errlen, "VTY: could not set the password check (%d)", rc);
		return -EIO;
	}
	if (!token)
		return 0;
	host.password = talloc_strdup(ctx, token);
	struct cmd_node *cn = vector_slot(cmdvec, CONFIG_NODE);
	if (cn && cn->func != vty_host_write) {
		vty_host_write_orig = cn->func;
		cn->func = vty_host_write;
	}
	return 0;
}
