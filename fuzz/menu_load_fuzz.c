/* Fuzz target: the menu loader and linter (src/menu_load.c, menu_lint in src/menu.c), which
 * read a shop's YAML. A file it refuses must leave nothing allocated. A file it accepts is then
 * walked like a customer would (keys, numbers, every action outcome) against a catalogue of
 * worst-case names and prices, and every screen shown must fit one USSD screen: that is the
 * linter's promise ("a shop owner learns it at load time, never from a customer's phone"). */
#include "fuzz.h"
#include <errno.h>
#include <talloc.h>
#include "catalog.h"
#include "gsm7.h"
#include "menu.h"

static const struct menu_limits lim = { .name_max = 24, .price_max_cents = 999999, .qty_max = 20,
	.septets = 182, .ucs2 = 80 };

/* Three categories: 25 products with the longest names allowed (each a two-septet "€"),
 * one product, none. */
static void catalog_make(void)
{
	static char worst[24 * 3 + 1];
	for (unsigned i = 0; i < lim.name_max; i++)
		memcpy(worst + 3 * i, "\xe2\x82\xac", 3);
	struct catalog *c = catalog_alloc(NULL, 3, 26);
	for (int i = 0; i < 3; i++)
		c->categories[i] = (struct catalog_category){ .id = i + 1, .name = worst };
	for (int i = 0; i < 26; i++)
		c->products[i] = (struct catalog_product){ .id = 100 + i, .category_id = i < 25 ? 1 : 2,
			.name = i % 3 ? worst : "Bread", .price_cents = lim.price_max_cents, .stock = 1 };
	FUZZ_ASSERT(catalog_link(c) == 0);
	g_catalog = c;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	catalog_make();
	return 0;
}

static bool screen_fits(const char *buf, int len)
{
	struct gsm7_measure m;
	if (len < 0 || gsm7_measure(buf, len, &m) < 0)
		return false;
	return m.coding == GSM7_CODING_GSM7 ? m.septets <= lim.septets : m.ucs2_units <= lim.ucs2;
}

/* What the session layer (session_fsm.c) fills in when an action finishes, at the largest
 * values the catalogue limits allow. */
static void action_values(struct menu_run *r, unsigned rnd)
{
	struct menu_vars *v = &r->v;
	v->order_id = 999999999;
	v->total_cents = lim.price_max_cents * lim.qty_max;
	v->status = rnd % 5;
	v->remainder_cents = lim.price_max_cents * lim.qty_max * 10;
	v->available_cents = 99999999999;
	snprintf(v->slip, sizeof(v->slip), "9999 9999 9999 9999 99");
	snprintf(v->expiry, sizeof(v->expiry), "2099-12-31");
	if (r->pending == MENU_ACTION_LOAD_ORDERS) {
		v->n_orders = r->screen->max_items < MENU_MAX_ORDERS ? r->screen->max_items : MENU_MAX_ORDERS;
		for (unsigned i = 0; i < v->n_orders; i++)
			v->orders[i] = (struct menu_order_row){ .id = 999999999 - i, .product_id = 100 + i,
				.qty = lim.qty_max, .total_cents = lim.price_max_cents * lim.qty_max, .status = (rnd + i) % 5 };
	}
}

static void walk(const struct menu *m, uint32_t seed)
{
	const char *inputs[] = { m->key_back, m->key_home, m->key_more, "1", "2", "3", "4", "5", "9", "10",
		"12", "20", "0", "x", "1234567890123", "" };
	const unsigned n_inputs = sizeof(inputs) / sizeof(inputs[0]);
	struct menu_run r;
	char buf[MENU_SCREEN_BYTES];

	enum menu_state st = menu_start(&r, m, seed % m->n_langs);
	for (unsigned step = 0; step < 40; step++) {
		seed = seed * 1103515245 + 12345;
		unsigned rnd = seed >> 16;
		if (st == MENU_PENDING) {
			action_values(&r, rnd);
			enum menu_outcome oc = rnd % 3 ? MENU_OUTCOME_OK : (enum menu_outcome)(rnd % _MENU_OUTCOME_COUNT);
			st = menu_action_done(&r, oc);
			if (oc != MENU_OUTCOME_OK && !r.screen->on[oc])
				break;	/* the session shows the menu's error text */
			continue;
		}
		int len = menu_render(&r, buf, sizeof(buf));
		if (!screen_fits(buf, len)) {
			fprintf(fuzz_stderr, "screen \"%s\" does not fit at run time (%d bytes):\n%s\n", r.screen->name, len, buf);
			FUZZ_ASSERT(!"a linted menu rendered a screen over budget");
		}
		if (st == MENU_END)
			break;
		const char *in = inputs[rnd % n_inputs];
		st = menu_input(&r, in, strlen(in));
		/* a quantity typed past qty-max is the pattern's to refuse, not the linter's */
		if (r.v.qty > (int)lim.qty_max) {
			r.v.qty = lim.qty_max;
			r.v.total_cents = lim.price_max_cents * lim.qty_max;
		}
	}
	menu_render_error(&r, buf, sizeof(buf));
	menu_render_slow(&r, buf, sizeof(buf));
	menu_trail(&r, buf, sizeof(buf));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *ctx = talloc_named_const(NULL, 0, "fuzz");
	const char *path = fuzz_file(data, size);
	struct menu *m = NULL;

	int rc = menu_load_file(ctx, path, &lim, &m);
	if (rc < 0) {
		FUZZ_ASSERT(rc == -EINVAL);
		FUZZ_ASSERT(talloc_total_blocks(ctx) == 1);
	} else {
		FUZZ_ASSERT(m && m->start && m->n_langs >= 1 && m->n_langs <= MENU_MAX_LANGS);
		FUZZ_ASSERT(m->n_screens >= 1 && m->n_screens <= 255);
		for (unsigned i = 0; i < m->n_codes; i++)
			FUZZ_ASSERT(menu_set_find(&(struct menu_set){ .n = 1, .menus = &m }, m->service_codes[i]) == m);
		uint32_t seed = 0;
		for (size_t i = 0; i < size; i++)
			seed = seed * 31 + data[i];
		for (int w = 0; w < 4; w++)
			walk(m, seed + w);
		talloc_free(m);
		FUZZ_ASSERT(talloc_total_blocks(ctx) == 1);
	}
	talloc_free(ctx);
	return 0;
}
