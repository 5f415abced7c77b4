/* Fuzz target: the menu loader and linter (src/engine/menu_load.c, menu_lint in src/engine/menu.c), which
 * read a shop's YAML. A file it refuses must leave nothing allocated. A file it accepts is then
 * walked like a customer would (keys, numbers, every action outcome) against a catalogue of
 * names up to the longest allowed and the highest prices, and every screen shown must fit one
 * USSD screen: the linter's promise ("a shop owner learns it at load time, never from a
 * customer's phone"). */
#include "fuzz.h"
#include <errno.h>
#include <talloc.h>
#include "fuzz_menu.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	fuzz_catalog_make(25);
	fuzz_name_make();
	return 0;
}

static void walk(const struct menu *m, uint32_t seed)
{
	const char *inputs[] = { m->key_back, m->key_home, m->key_more, "1", "2", "3", "4", "5", "9", "10",
		"12", "20", "0", "x", "1234567890123", "" };
	const unsigned n_inputs = sizeof(inputs) / sizeof(inputs[0]);
	struct menu_run r;
	char buf[MENU_SCREEN_BYTES];

	fuzz_catalog_names(seed);
	enum menu_state st = menu_start_customer(&r, m, seed % m->n_langs, seed & 0x100 ? fuzz_name : NULL, seed & 0x200);
	for (unsigned step = 0; step < 40; step++) {
		seed = seed * 1103515245 + 12345;
		unsigned rnd = seed >> 16;
		if (st == MENU_PENDING) {
			fuzz_action_values(&r, rnd);
			enum menu_outcome oc = rnd % 3 ? MENU_OUTCOME_OK : (enum menu_outcome)(rnd % _MENU_OUTCOME_COUNT);
			st = menu_action_done(&r, oc);
			if (oc != MENU_OUTCOME_OK && !r.screen->on[oc])
				break;	/* the session shows the menu's error text */
			continue;
		}
		fuzz_check_screen(&r);
		if (st == MENU_END)
			break;
		const char *in = inputs[rnd % n_inputs];
		st = menu_input(&r, in, strlen(in));
		/* a quantity typed past qty-max is the pattern's to refuse, not the linter's */
		if (r.v.qty > (int)fuzz_lim.qty_max) {
			r.v.qty = fuzz_lim.qty_max;
			r.v.total_cents = fuzz_lim.price_max_cents * fuzz_lim.qty_max;
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

	int rc = menu_load_file(ctx, path, &fuzz_lim, &m);
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
