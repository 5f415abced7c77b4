#pragma once
/* Shared by the two menu targets (menu_load_fuzz.c, menu_walk_fuzz.c): the catalogue limits
 * spazad runs with by default, a catalogue at those limits, the values actions leave, and the
 * check that a screen fits one USSD screen. Include after fuzz.h. */
#include "catalog.h"
#include "gsm7.h"
#include "menu.h"

static const struct menu_limits fuzz_lim = { .name_max = 24, .price_max_cents = 999999, .qty_max = 20,
	.septets = 182, .ucs2 = 80 };

/* name_max two-septet characters ("€"); shorter names are its tails */
static char fuzz_worst[24 * 3 + 1];

/* The longest name crm.c keeps for the greeting (MENU_NAME_SEPTETS septets of "€"), for the
 * walk to start as a customer with a name. */
static char fuzz_name[MENU_NAME_SEPTETS / 2 * 3 + 1];

static void fuzz_name_make(void)
{
	for (unsigned i = 0; i < MENU_NAME_SEPTETS / 2; i++)
		memcpy(fuzz_name + 3 * i, "\xe2\x82\xac", 3);
}

/* Three categories: the first with n_first products (enough for two-digit page numbers),
 * the second with one, the third empty. Every name the longest, every price the highest. */
static void fuzz_catalog_make(unsigned n_first)
{
	for (unsigned i = 0; i < fuzz_lim.name_max; i++)
		memcpy(fuzz_worst + 3 * i, "\xe2\x82\xac", 3);
	struct catalog *c = catalog_alloc(NULL, 3, n_first + 1);
	for (int i = 0; i < 3; i++)
		c->categories[i] = (struct catalog_category){ .id = i + 1, .name = fuzz_worst };
	for (unsigned i = 0; i <= n_first; i++)
		c->products[i] = (struct catalog_product){ .id = 100 + i, .category_id = i < n_first ? 1 : 2,
			.name = fuzz_worst, .price_cents = fuzz_lim.price_max_cents, .stock = 1 };
	FUZZ_ASSERT(catalog_link(c) == 0);
	g_catalog = c;
}

/* Product names of lengths picked by seed (0: all the longest), so that list pages fill up to
 * every possible length, the edge where pagination goes wrong if it does. */
static void fuzz_catalog_names(uint32_t seed)
{
	uint32_t x = seed;
	unsigned spread = (seed & 31) + 1;
	for (unsigned i = 0; i < g_catalog->n_products; i++) {
		x = x * 1103515245 + 12345;
		g_catalog->products[i].name = fuzz_worst + 3 * ((x >> 16) % spread % fuzz_lim.name_max);
	}
}

/* What session_fsm.c fills in when an action finishes, at the largest values the limits allow. */
static void fuzz_action_values(struct menu_run *r, unsigned rnd)
{
	struct menu_vars *v = &r->v;
	v->order_id = 999999999;
	v->total_cents = fuzz_lim.price_max_cents * fuzz_lim.qty_max;
	v->status = rnd % 5;
	v->remainder_cents = v->total_cents * 10;
	v->available_cents = 99999999999;
	snprintf(v->slip, sizeof(v->slip), "9999 9999 9999 9999 99");
	snprintf(v->expiry, sizeof(v->expiry), "2099-12-31");
	/* My points, points spent at checkout (sql/021: as many as cents), store credit spent */
	v->points = 9999999999;
	v->amount_cents = 99999999999;
	/* an order's detail and the last address share the orders page's room: the actions fill
	 * them, so the walk fills them too, at their longest */
	if (r->pending == MENU_ACTION_ORDER_DETAIL) {
		memset(v->items, 'W', MENU_ITEMS_SEPTETS);
		v->items[MENU_ITEMS_SEPTETS] = '\0';
		v->n_history = MENU_HISTORY_MAX;
		for (unsigned i = 0; i < MENU_HISTORY_MAX; i++) {
			v->history[i].status = (int8_t)((rnd + i) % _ORDER_STATUS_COUNT);
			snprintf(v->history[i].at, sizeof(v->history[i].at), "12-31 23:59");
		}
		v->method = (int8_t)(rnd % _MENU_METHOD_COUNT);
	}
	if (r->pending == MENU_ACTION_LAST_ADDRESS) {
		memset(v->address, 'W', MENU_ADDRESS_MAX);
		v->address[MENU_ADDRESS_MAX] = '\0';
		memset(v->note, 'W', MENU_ADDRESS_MAX);
		v->note[MENU_ADDRESS_MAX] = '\0';
	}
	if (r->pending == MENU_ACTION_LOAD_ORDERS) {
		v->n_orders = r->screen->max_items < ORDERS_MAX_ROWS ? r->screen->max_items : ORDERS_MAX_ROWS;
		for (unsigned i = 0; i < v->n_orders; i++)
			v->orders[i] = (struct orders_row){ .id = 999999999 - i, .product_id = 100 + i,
				.qty = fuzz_lim.qty_max, .total_cents = v->total_cents, .status = (rnd + i) % 5 };
	}
}

/* Render the current screen as session_fsm.c does and check it fits one USSD screen. */
static void fuzz_check_screen(struct menu_run *r)
{
	char buf[MENU_SCREEN_BYTES];
	struct gsm7_measure m = { 0 };
	int len = menu_render(r, buf, sizeof(buf));
	bool fits = len >= 0 && gsm7_measure(buf, len, &m) == 0 &&
		    (m.coding == GSM7_CODING_GSM7 ? m.septets <= fuzz_lim.septets : m.ucs2_units <= fuzz_lim.ucs2);
	if (!fits) {
		fprintf(fuzz_stderr, "screen \"%s\" does not fit one USSD screen (%d bytes, %u septets, %u UCS-2 units):\n%s\n",
			r->screen->name, len, m.septets, m.ucs2_units, buf);
		FUZZ_ASSERT(!"screen over budget");
	}
}
