/* spazad: the gateway daemon. Options and config, the schema, then one osmo_select loop
 * serving HTTP, the database and every session's timers in a single thread. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <talloc.h>
#include <libpq-fe.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/select.h>
#include <osmocom/core/stats.h>
#include <osmocom/vty/logging.h>
#include <osmocom/vty/misc.h>
#include <osmocom/vty/ports.h>
#include <osmocom/vty/stats.h>
#include <osmocom/vty/telnet_interface.h>
#include <osmocom/vty/vty.h>
#include "catalog_load.h"
#include "care.h"
#include "care_clock.h"
#include "care_dc.h"
#include "cfg.h"
#include "db_sync.h"
#include "crm.h"
#include "longcode.h"
#include "loyalty.h"
#include "db.h"
#include "front_admin.h"
#include "front_at.h"
#include "front_kannel.h"
#include "front_till.h"
#include "front_box.h"
#include "http.h"
#include "listen_cfg.h"
#include "logging.h"
#include "menu.h"
#include "migrate.h"
#include "orders.h"
#include "order_expiry.h"
#include "points_sweep.h"
#include "payments.h"
#include "privdrop.h"
#include "pin_budget.h"
#include "ratelimit.h"
#include "secrets.h"
#include "outbox.h"
#include "segment.h"
#include "campaign.h"
#include "sms_promise.h"
#include "session.h"
#include "sms.h"
#include "sms_texts.h"
#include "stats.h"
#include "timeline.h"
#include "vty.h"


static void *spazad_ctx;
static volatile sig_atomic_t quit, reload;

static struct vty_app_info vty_info = {
	.name = "spazad",
	.version = PACKAGE_VERSION,
	.copyright = "Spaza USSD/SMS commerce gateway\r\n",
};

static void usage(void)
{
	printf("usage: spazad [-c FILE] [-C] [-h] [-V]\n"
	       "  -c FILE  configuration file (default " CFG_DEFAULT_FILE ", which ./scripts/run writes)\n"
	       "  -C       check the configuration and the menus, print \"configuration OK\" or file:line: reason\n"
	       "  -V       print the version\n");
}

static struct menu_limits menu_limits(void)
{
	return (struct menu_limits){ .name_max = g_cfg->name_max, .price_max_cents = g_cfg->price_max_cents,
		.qty_max = g_cfg->qty_max, .septets = 182, .ucs2 = 80 };
}

/* Which version each menu is: new sessions record it, and the funnel breaks down by it. */
static void spazad_log_menus(const struct menu_set *set)
{
	for (unsigned i = 0; i < set->n; i++)
		LOGP(DMENU, LOGL_NOTICE, "menu %s version %s (%s)\n", set->menus[i]->name, set->menus[i]->version,
		     set->menus[i]->file);
}

static int spazad_reload_menus(void)
{
	struct menu_limits lim = menu_limits();
	struct menu_set *set;
	if (menu_set_load(spazad_ctx, g_cfg->menus_dir, &lim, &set) < 0) {
		LOGP(DMENU, LOGL_ERROR, "menus in %s not reloaded: errors above\n", g_cfg->menus_dir);
		return -EINVAL;
	}
	session_set_menus(set);
	LOGP(DMENU, LOGL_NOTICE, "menus reloaded from %s: %u menus\n", g_cfg->menus_dir, set->n);
	spazad_log_menus(set);
	return 0;
}

/* A role that owns the schema (or a superuser) could do everything the runtime role is kept
 * from (doc/security.md): worth a word in the log, though it works. */
static void spazad_role_warn(PGconn *conn)
{
	char err[256];
	PGresult *res;
	if (db_sync_exec(conn, "role", "SELECT current_user, rolsuper OR pg_has_role(current_user,"
			 " (SELECT relowner FROM pg_class WHERE oid = 'schema_migrations'::regclass), 'USAGE')"
			 " FROM pg_roles WHERE rolname = current_user", 0, NULL, PGRES_TUPLES_OK, &res, err, sizeof(err)))
		return;
	if (PQntuples(res) == 1 && !strcmp(PQgetvalue(res, 0, 1), "t"))
		LOGP(DMAIN, LOGL_NOTICE, "connected to the database as %s, which owns the schema or is a superuser:"
		     " connect as the runtime role, spaza_app (doc/security.md)\n", PQgetvalue(res, 0, 0));
	PQclear(res);
}

/* Start-up is the one place that may block: the schema must be the one this build carries
 * before we serve. spazad never migrates it: its role may not (spazactl migrate does, as the
 * owner). A database that is still starting gets 30 s. */
static int spazad_schema_check(void)
{
	char err[512];
	for (int attempt = 0; attempt < 60; attempt++) {
		const char *kw[4], *val[4];
		db_conn_params(g_cfg->db_conninfo, NULL, kw, val);
		PGconn *conn = PQconnectdbParams(kw, val, 1);
		if (PQstatus(conn) == CONNECTION_OK) {
			int rc = migrate_check(conn, err, sizeof(err));
			if (rc < 0)
				LOGP(DMAIN, LOGL_FATAL, "database schema: %s\n", err);
			else
				spazad_role_warn(conn);
			PQfinish(conn);
			return rc;
		}
		if (attempt == 0)
			LOGP(DMAIN, LOGL_NOTICE, "waiting for the database: %s", PQerrorMessage(conn));
		PQfinish(conn);
		usleep(500000);
	}
	LOGP(DMAIN, LOGL_FATAL, "database not reachable\n");
	return -ENOTCONN;
}

/* Give queued writes (the last timeline rows, a backlog of them after a busy spell) up to
 * SPAZAD_DRAIN_S to commit before we go; what is left then is logged and counted as lost
 * (timeline_close(), sms_promise_shutdown()). Well inside systemd's 90 s stop timeout. */
#define SPAZAD_DRAIN_S 10

static void spazad_drain_db(void)
{
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct db_stats st;
		db_get_stats(&st);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!db_is_up() || (!st.queued && !st.in_flight) || now.tv_sec - start.tv_sec >= SPAZAD_DRAIN_S)
			return;
		osmo_select_main(0);
	}
}

/* What the loop allocates for a while (sessions, database calls, SMS jobs, promises, timeline
 * batches) hangs under its module's context and is gone once the modules have shut down. Freeing
 * the root would free a leak silently with the rest, so before that every such context is
 * looked at: a block beyond the long-lived ones it keeps is reported, with its talloc tree.
 * The tests fail on the report (scripts/test, own_down in tests/integration/lib.sh). */
static const struct {
	const char *ctx;
	const char *keep[2];	/* children that live as long as the module */
} leak_ctxs[] = {
	{ "sessions", { "struct menu_set" } },	/* the menus in use */
	{ "timeline", { "{", "char" } },	/* the column buffers every flush reuses */
	{ "orders", { NULL } }, { "payments", { NULL } }, { "sms", { NULL } }, { "sms_promises", { NULL } },
};

/* talloc_report_depth_cb() walks a context and its children: these find the module contexts
 * among the root's children, then the children of one that it does not keep. */
static void leak_find_ctx(const void *ptr, int depth, int max_depth, int is_ref, void *priv)
{
	const void **found = priv;
	if (depth == 1 && !is_ref)
		for (unsigned i = 0; i < ARRAY_SIZE(leak_ctxs); i++)
			if (!strcmp(talloc_get_name(ptr), leak_ctxs[i].ctx))
				found[i] = ptr;
}

struct leak_count {
	unsigned i;
	size_t blocks;
};

static void leak_count_child(const void *ptr, int depth, int max_depth, int is_ref, void *priv)
{
	struct leak_count *lc = priv;
	if (depth != 1 || is_ref)
		return;
	for (unsigned k = 0; k < ARRAY_SIZE(leak_ctxs[lc->i].keep) && leak_ctxs[lc->i].keep[k]; k++)
		if (!strcmp(talloc_get_name(ptr), leak_ctxs[lc->i].keep[k]))
			return;
	lc->blocks += talloc_total_blocks(ptr);
}

static void spazad_leak_report(void)
{
	const void *found[ARRAY_SIZE(leak_ctxs)] = { 0 };
	talloc_report_depth_cb(spazad_ctx, 0, 1, leak_find_ctx, found);
	for (unsigned i = 0; i < ARRAY_SIZE(leak_ctxs); i++) {
		struct leak_count lc = { .i = i };
		if (!found[i])
			continue;
		talloc_report_depth_cb(found[i], 0, 1, leak_count_child, &lc);
		if (!lc.blocks)
			continue;
		LOGP(DMAIN, LOGL_ERROR, "talloc: %zu blocks left in %s at exit: a leak\n", lc.blocks, leak_ctxs[i].ctx);
		talloc_report_full(found[i], stderr);
	}
}

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		quit = 1;
}

int main(int argc, char **argv)
{
	const char *cfg_file = CFG_DEFAULT_FILE;
	bool check = false;
	int opt;

	while ((opt = getopt(argc, argv, "c:ChV")) != -1) {
		switch (opt) {
		case 'c': cfg_file = optarg; break;
		case 'C': check = true; break;
		case 'V': printf("spazad %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}

	spazad_ctx = talloc_named_const(NULL, 0, "spazad");
	vty_info.tall_ctx = spazad_ctx;
	spaza_logging_init(spazad_ctx);
	log_set_print_category(osmo_stderr_target, 1);
	log_set_print_category_hex(osmo_stderr_target, 0);
	vty_init(&vty_info);
	logging_vty_add_cmds();
	osmo_talloc_vty_add_cmds();
	cfg_init(spazad_ctx);
	cfg_vty_init();
	spaza_vty_init(spazad_reload_menus);

	if (cfg_read(cfg_file) < 0)
		return 1;
	struct menu_limits lim = menu_limits();
	struct menu_set *menus;
	if (menu_set_load(spazad_ctx, g_cfg->menus_dir, &lim, &menus) < 0)
		return 1;
	if (sms_texts_init(spazad_ctx) < 0)
		return 1;
	if (g_cfg->secrets_file) {
		char err[256];
		if (secrets_load_cfg(err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
	}
	char verr[512];
	if (spaza_vty_guard(spazad_ctx, cfg_file, verr, sizeof(verr)) < 0) {
		fprintf(stderr, "%s\n", verr);
		return 1;
	}
	char *cerr = NULL;
	PQconninfoOption *co = PQconninfoParse(g_cfg->db_conninfo, &cerr);
	if (!co) {
		fprintf(stderr, "%s: database: %s", cfg_file, cerr ? cerr : "bad connection string\n");
		PQfreemem(cerr);
		return 1;
	}
	PQconninfoFree(co);
	if (listen_cfg_check(cfg_file) < 0)
		return 1;
	if (check) {
		printf("configuration OK: %s, %u menus in %s\n", cfg_file, menus->n, g_cfg->menus_dir);
		for (unsigned i = 0; i < menus->n; i++)
			printf("  menu %s version %s (%s)\n", menus->menus[i]->name, menus->menus[i]->version,
			       menus->menus[i]->file);
		talloc_free(spazad_ctx);
		return 0;
	}
	/* before anything is bound or connected: a root start with no user to become goes no further */
	struct priv_user run_as;
	if (priv_prepare(g_cfg->run_as, &run_as, verr, sizeof(verr)) < 0) {
		LOGP(DMAIN, LOGL_FATAL, "%s\n", verr);
		return 1;
	}
	priv_raise_nofile();
	if (spazad_schema_check() < 0)
		return 1;

	stats_init(spazad_ctx);
	if (telnet_init_default(spazad_ctx, NULL, CFG_VTY_PORT_DEFAULT) < 0) {
		LOGP(DMAIN, LOGL_FATAL, "cannot open the VTY port\n");
		return 1;
	}
	db_init(spazad_ctx, g_cfg->db_conninfo, g_cfg->db_connections);
	crm_init(spazad_ctx);
	longcode_init(spazad_ctx);
	loyalty_init(spazad_ctx);
	orders_init(spazad_ctx);
	order_expiry_init(spazad_ctx);
	points_sweep_init(spazad_ctx);
	payments_init(spazad_ctx);
	ratelimit_init(spazad_ctx);
	pin_budget_init(spazad_ctx);
	timeline_init(spazad_ctx);
	session_init(spazad_ctx);
	session_set_menus(menus);
	spazad_log_menus(menus);
	catalog_load_init(spazad_ctx);
	if (http_listen(spazad_ctx, g_cfg->max_body) < 0)
		return 1;
	/* every listener is bound (the VTY and HTTP above; the box front connects out): root is
	 * no longer needed, and is not kept */
	if (priv_drop(&run_as, verr, sizeof(verr)) < 0) {
		LOGP(DMAIN, LOGL_FATAL, "%s\n", verr);
		return 1;
	}
	front_admin_init();
	front_at_init();
	front_till_init(spazad_ctx);
	sms_init(spazad_ctx);
	care_init(spazad_ctx);
	care_dc_init(spazad_ctx);
	care_clock_init();
	front_kannel_init(spazad_ctx);
	outbox_init(spazad_ctx);
	sms_promise_init(spazad_ctx);
	front_box_init(spazad_ctx);
	segment_init(spazad_ctx);
	campaign_init(spazad_ctx);

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	LOGP(DMAIN, LOGL_NOTICE, "spazad %s running\n", PACKAGE_VERSION);

	/* a signal interrupts the poll, so the flags are seen at once */
	while (!quit) {
		osmo_select_main(0);
		if (reload) {
			reload = 0;
			spazad_reload_menus();
			sms_texts_reload();
		}
	}

	LOGP(DMAIN, LOGL_NOTICE, "shutting down\n");
	/* every request parked on the database is answered first, and MHD gets to send those
	 * answers (spazad_drain_db runs the loop): it refuses to stop with suspended connections */
	session_shutdown();
	front_till_close();
	campaign_shutdown();
	segment_shutdown();
	outbox_shutdown();
	care_clock_stop();
	front_kannel_close();
	front_box_close();
	timeline_flush();
	spazad_drain_db();
	sms_promise_shutdown();
	http_close();
	db_close();
	timeline_close();
	session_release();
	spazad_leak_report();
	log_fini();
	talloc_free(spazad_ctx);
	return 0;
}
