/* Live inspection over the VTY (telnet on loopback): sessions, customers, counters, and
 * reloading the menus. */
#include <string.h>
#include <time.h>
#include <osmocom/vty/command.h>
#include <osmocom/vty/misc.h>
#include <osmocom/vty/vty.h>
#include "crm.h"
#include "db.h"
#include "msisdn.h"
#include "cfg.h"
#include "session.h"
#include "spazad.h"
#include "stats.h"

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
	if (c->live) {
		vty_out(vty, " live session:%s", VTY_NEWLINE);
		session_foreach_customer(c, show_session, vty);
	}
	return CMD_SUCCESS;
}

DEFUN(show_stats_spaza, show_stats_spaza_cmd, "show stats", SHOW_STR "Counters of the gateway\n")
{
	struct db_stats st;
	db_get_stats(&st);
	vty_out_rate_ctr_group(vty, " ", g_ctrs);
	vty_out(vty, " live sessions: %u, cached customers: %u%s", session_count(), crm_cache_size(), VTY_NEWLINE);
	vty_out(vty, " database %s: %lu reads, %lu writes in %lu batches, %lu errors, %lu reconnects, %u queued, %u in flight%s",
		db_is_up() ? "up" : "DOWN", st.reads, st.writes, st.batches, st.errors, st.reconnects, st.queued,
		st.in_flight, VTY_NEWLINE);
	return CMD_SUCCESS;
}

DEFUN(menu_reload, menu_reload_cmd, "menu reload", "Menus\n" "Re-read the menu files (live sessions keep theirs)\n")
{
	int rc = spazad_reload_menus();
	if (rc < 0) {
		vty_out(vty, "%% menus not reloaded: see the log for file:line and reason%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	vty_out(vty, "menus reloaded%s", VTY_NEWLINE);
	return CMD_SUCCESS;
}

void spaza_vty_init(void)
{
	install_element_ve(&show_sessions_cmd);
	install_element_ve(&show_customer_cmd);
	install_element_ve(&show_stats_spaza_cmd);
	install_element(ENABLE_NODE, &menu_reload_cmd);
}
