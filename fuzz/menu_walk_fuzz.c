/* Fuzz target: customers' keypresses through the shipped menus (menus/shop.yaml and bench.yaml, loaded once),
 * which is menu_input() and menu_render() in src/menu.c: what every USSD hop runs on text
 * anyone with a phone can type. The first byte picks the menu and the language, the rest is
 * the session's text, split at '*' as session_fsm.c splits it; action outcomes are picked
 * from the input too. Every screen must render within one USSD screen, with a catalogue of
 * the longest names and highest prices the limits allow. */
#include "fuzz.h"
#include <errno.h>
#include <talloc.h>
#include "catalog.h"
#include "gsm7.h"
#include "menu.h"

#ifndef FUZZ_SRCDIR
#define FUZZ_SRCDIR "."
#endif

static const struct menu_limits lim = { .name_max = 24, .price_max_cents = 999999, .qty_max = 20,
	.septets = 182, .ucs2 = 80 };
static struct menu *menus[2];

static void catalog_make(void)
{
	static char worst[24 * 3 + 1];
	for (unsigned i = 0; i < lim.name_max; i++)
		memcpy(worst + 3 * i, "\xe2\x82\xac", 3);
	/* category 1 has enough products for two-digit page numbers */
	struct catalog *c = catalog_alloc(NULL, 3, 61);
	for (int i = 0; i < 3; i++)
		c->categories[i] = (struct catalog_category){ .id = i + 1, .name = worst };
	for (int i = 0; i < 61; i++)
		c->products[i] = (struct catalog_product){ .id = 100 + i, .category_id = i < 60 ? 1 : 2,
			.name = worst, .price_cents = lim.price_max_cents, .stock = 1 };
	FUZZ_ASSERT(catalog_link(c) == 0);
	g_catalog = c;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *files[2] = { FUZZ_SRCDIR "/menus/shop.yaml", FUZZ_SRCDIR "/menus/bench.yaml" };
	for (int i = 0; i < 2; i++)
		if (menu_load_file(NULL, files[i], &lim, &menus[i]) < 0) {
			fprintf(stderr, "%s does not load\n", files[i]);
			exit(1);
		}
	fuzz_quiet();
	catalog_make();
	return 0;
}

static void check_screen(struct menu_run *r)
{
	char buf[MENU_SCREEN_BYTES];
	struct gsm7_measure m;
	int len = menu_render(r, buf, sizeof(buf));
	bool fits = len >= 0 && gsm7_measure(buf, len, &m) == 0 &&
		    (m.coding == GSM7_CODING_GSM7 ? m.septets <= lim.septets : m.ucs2_units <= lim.ucs2);
	if (!fits) {
		fprintf(fuzz_stderr, "screen \"%s\" does not fit (%d bytes, %u septets, %u units):\n%s\n",
			r->screen->name, len, m.septets, m.ucs2_units, buf);
		FUZZ_ASSERT(!"a shipped screen rendered over budget");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const struct menu *m = menus[data[0] & 1];
	char *text = fuzz_strdup(data + 1, size - 1);
	size_t tlen = size - 1;
	struct menu_run r;
	unsigned rnd = data[0] >> 1;

	/* the fronts refuse text that is not UTF-8 or holds a NUL before a session sees it */
	if (memchr(text, '\0', tlen) || gsm7_measure(text, tlen, &(struct gsm7_measure){ 0 }) < 0) {
		free(text);
		return 0;
	}
	enum menu_state st = menu_start(&r, m, rnd % m->n_langs);
	size_t pos = 0;
	for (;;) {
		while (st == MENU_PENDING) {
			/* the worst values an action can leave (see session_fsm.c) */
			r.v.order_id = 999999999;
			r.v.total_cents = lim.price_max_cents * lim.qty_max;
			r.v.status = rnd % 5;
			r.v.remainder_cents = r.v.total_cents * 10;
			r.v.available_cents = 99999999999;
			snprintf(r.v.slip, sizeof(r.v.slip), "9999 9999 9999 9999 99");
			snprintf(r.v.expiry, sizeof(r.v.expiry), "2099-12-31");
			if (r.pending == MENU_ACTION_LOAD_ORDERS) {
				r.v.n_orders = r.screen->max_items < MENU_MAX_ORDERS ? r.screen->max_items : MENU_MAX_ORDERS;
				for (unsigned i = 0; i < r.v.n_orders; i++)
					r.v.orders[i] = (struct menu_order_row){ .id = 999999999, .product_id = 100 + i,
						.qty = lim.qty_max, .total_cents = r.v.total_cents, .status = i % 5 };
			}
			enum menu_outcome oc = rnd % 4 ? MENU_OUTCOME_OK : (enum menu_outcome)(rnd % _MENU_OUTCOME_COUNT);
			rnd = rnd * 7 + 3;
			st = menu_action_done(&r, oc);
			if (oc != MENU_OUTCOME_OK && !r.screen->on[oc])
				goto out;
		}
		check_screen(&r);
		if (st == MENU_END || pos > tlen || !tlen)
			break;
		const char *in = text + pos, *star = strchr(in, '*');
		size_t len = star ? (size_t)(star - in) : strlen(in);
		pos += len + 1;
		rnd += len;
		st = menu_input(&r, in, len);
	}
out:
	free(text);
	return 0;
}
