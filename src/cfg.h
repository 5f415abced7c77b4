#pragma once
#include <stdint.h>
#include <stdbool.h>
#include <osmocom/vty/command.h>

enum spaza_vty_node {
	SPAZA_NODE = _LAST_OSMOVTY_NODE + 1,
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
	unsigned name_max;		/* longest product name the catalogue accepts (the linter's worst case) */
	int64_t price_max_cents;	/* largest price the catalogue accepts */
	unsigned qty_max;		/* largest quantity an order can have (worst case of totals) */
};

extern struct spaza_cfg *g_cfg;

void cfg_init(void *ctx);
void cfg_vty_init(void);
int cfg_read(const char *file);
