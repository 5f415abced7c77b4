#pragma once
#include <stdint.h>
#include <stdbool.h>
#include <osmocom/vty/command.h>

enum spaza_vty_node {
	SPAZA_NODE = _LAST_OSMOVTY_NODE + 1,
};

/* How one SMSC link (Kannel smsc-id) marks USSD dialogue steps in ussd_service_op;
 * operators differ, so it is configured per link ("*" is the default). */
struct kannel_link {
	char *smsc_id;
	uint8_t op_begin, op_answer, op_continue, op_end, op_abort;
	bool end_bit;	/* the operator marks the end in its_session_info's low bit */
};
/* The configuration file spazad and spazactl read when not given one: the one ./scripts/run
 * writes, relative to the top of the tree, so that the demo needs no -c. */
#define CFG_DEFAULT_FILE "var/spazad.cfg"
/* The VTY's port when `line vty` binds none (spazactl vty connects to the same). */
#define CFG_VTY_PORT_DEFAULT 4265
#define CFG_MAX_LINKS 16
#define CFG_MAX_ALLOW 16

/* IPv4 networks allowed to call a front end; an empty list allows any address. */
struct cfg_netlist {
	unsigned n;
	struct { uint32_t addr, mask; uint8_t prefix; } net[CFG_MAX_ALLOW];	/* host order */
};

/* The gateway's configuration: set by the VTY commands in cfg.c, written back by them too. */
struct spaza_cfg {
	char *http_addr;
	uint16_t http_port;
	char *db_conninfo;
	char *menus_dir;
	unsigned idle_timeout_s;	/* a USSD session idle longer than this ends with outcome timeout */
	unsigned hop_deadline_ms;	/* a hop not answered by then gets a polite END */
	unsigned max_body;		/* largest request body accepted */
	char *country_code;		/* "27": 0821234567 -> +27821234567 */
	char *secrets_file;
	unsigned key_grace_s;		/* a replaced key version verifies this long after its successor */
	unsigned log_full_msisdn;	/* 1: phone numbers in full at info and debug (never at notice+) */
	unsigned name_max;		/* longest product name the catalogue accepts (the linter's worst case) */
	int64_t price_max_cents;	/* largest price the catalogue accepts */
	unsigned qty_max;		/* largest quantity an order can have (worst case of totals) */
	unsigned slip_receiver;		/* EasyPay-style receiver id printed in slip numbers */
	unsigned cash_on_delivery;	/* 1: pay_with offers cash on delivery (sql/012) */
	struct cfg_netlist at_allow;	/* who may call POST /ussd/at (the aggregators) */
	struct cfg_netlist kannel_allow;	/* who may call /kannel/mo and /kannel/dlr (smsbox) */
	unsigned hops_per_minute;	/* per MSISDN; 0: no limit */
	unsigned sessions_per_hour;	/* per MSISDN; 0: no limit */
	unsigned till_requests_per_minute;	/* per retailer key; 0: no limit */
	unsigned till_unknown_slips_per_minute;	/* per retailer key; 0: no limit */
	unsigned till_replay_max;	/* signatures kept against replays */
	unsigned pin_failures_per_minute;	/* all numbers together; 0: no budget */
	unsigned pin_cooldown_s;	/* voucher entry pauses this long past it */
	unsigned customer_cache_max;	/* customer records kept in memory */
	unsigned ratelimit_max;		/* rate-limit counters kept in memory */
	char *office_web_dir;		/* the back office's pages (NULL: "web") */
	unsigned n_links;
	struct kannel_link links[CFG_MAX_LINKS];
	/* SMS out through Kannel's sendsms (kannel_send.c); no url: no sendsms, the outbox waits */
	char *sendsms_url, *sendsms_user, *sendsms_from, *sendsms_smsc;
	unsigned sendsms_timeout_ms;
	char *dlr_url;			/* where Kannel reports deliveries; default http://<http listen>/kannel/dlr */
	char *sms_texts;		/* SMS texts file; default <menus>/sms/texts.yaml */
	unsigned sms_retry_min_s, sms_retry_max_s;	/* outbox back-off after a failed send */
	unsigned sms_poll_s;		/* the outbox looks for due rows at least this often */
	unsigned sms_in_flight;		/* sendsms requests at a time */
	/* The native box front end (front_box.c): bearerbox's smsbox-port; port 0: none */
	char *box_addr;
	uint16_t box_port;
	/* Least privilege (doc/security.md): the role spazactl connects as (the `database` conninfo
	 * with this user; NULL: as that conninfo says), and the user spazad drops to when root. */
	char *db_owner;
	char *run_as;
	/* Unpaid orders (orders.c, the sweep in spazad.c): expire after this many hours (0: never);
	 * at most this many per customer at once (0: no cap). */
	unsigned order_expiry_h;
	unsigned order_unpaid_max;
	/* Customer care: the tickets' clocks, the window of a bare-digit rating (cfg_keys.def) */
	unsigned care_first_response_min, care_resolution_h, care_rating_window_h;
	unsigned db_connections;	/* PostgreSQL connections (store/db.c) */
	/* CRM (domain/segment.c, campaign.c; doc/crm.md): RFM thresholds for the scores 5, 4, 3, 2 */
	unsigned crm_r_days[4], crm_f_orders[4], crm_m_rand[4];
	unsigned crm_top_score, crm_new_days, crm_lapsed_days;
	unsigned crm_sweep_hour, crm_sweep_batch;	/* the nightly rebuild: local hour, customers a batch */
	unsigned crm_quiet_from, crm_quiet_to;	/* HHMM local: no marketing from..to (equal: never quiet) */
	unsigned crm_cap, crm_cap_days;		/* marketing SMS per customer per days */
	unsigned crm_rate;			/* marketing SMS a second into the outbox */
	/* Loyalty points (domain/loyalty.c, sql/018): earned per rand, expiry in days */
	unsigned loyalty_points_per_rand, loyalty_expiry_days;
	unsigned crm_ask_name;		/* 1: ask a customer's name once on USSD (sql/021) */
	unsigned crm_home_lines;	/* 1: the home screen's reorder and offer lines (menu.h) */
};


extern struct spaza_cfg *g_cfg;
const struct kannel_link *cfg_kannel_link(const char *smsc_id);
/* Whether peer (dotted IPv4) is in the list (or the list is empty). */
bool cfg_net_allowed(const struct cfg_netlist *l, const char *peer);
/* "A.B.C.D/M" added to l (CMD_WARNING and why on vty when not a network or l is full); every
 * network written back as " CMD A.B.C.D/M". */
int cfg_netlist_add(struct vty *vty, struct cfg_netlist *l, const char *arg);
void cfg_netlist_write(struct vty *vty, const char *cmd, const struct cfg_netlist *l);

void cfg_init(void *ctx);
void cfg_vty_init(void);
/* Called after each command of the spaza node typed over the VTY (not read from the file),
 * ok saying whether it was taken; vty->buf holds the line. spazad's VTY adds it to the audit
 * log (audit.h). */
struct vty;
typedef void (*cfg_audit_fn)(struct vty *vty, bool ok);
void cfg_set_audit(cfg_audit_fn fn);
int cfg_read(const char *file);

/* `crm quiet-hours`: refuses a time that is no HHMM (base/cfg_crm.c). */
struct vty;
int crm_cfg_check_quiet(struct vty *vty, char *const vals[]);
