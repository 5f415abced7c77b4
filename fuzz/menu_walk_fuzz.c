/* Fuzz target: customers' keypresses through the shipped menus (menus/shop.yaml and
 * menus/bench.yaml, loaded once): menu_input() and menu_render() in src/engine/menu.c, what every
 * USSD hop runs on text anyone with a phone can type. The first byte picks the menu and the
 * language, the second the lengths of the product names, the rest is the session's text, split
 * at '*' as session_fsm.c splits it; action outcomes are picked from the input too. Every
 * screen must fit one USSD screen with names up to the longest the limits allow (in
 * two-septet characters), the longest name greeting the customer, the home screen's reorder and
 * offer lines, and the highest prices: what the linter proved at load time. */
#include "fuzz.h"
#include <talloc.h>
#include "fuzz_menu.h"
#include "crm.h"

#ifndef FUZZ_SRCDIR
#define FUZZ_SRCDIR "."
#endif

static struct menu *menus[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *files[2] = { FUZZ_SRCDIR "/menus/shop.yaml", FUZZ_SRCDIR "/menus/bench.yaml" };
	for (int i = 0; i < 2; i++)
		if (menu_load_file(NULL, files[i], &fuzz_lim, &menus[i]) < 0) {
			fprintf(stderr, "%s does not load\n", files[i]);
			exit(1);
		}
	fuzz_quiet();
	fuzz_catalog_make(60);
	fuzz_name_make();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	const struct menu *m = menus[data[0] & 1];
	unsigned rnd = data[0] >> 1;
	char *text = fuzz_strdup(data + 2, size - 2);
	size_t tlen = size - 2, pos = 0;
	struct menu_run r;

	/* the fronts refuse text that is not UTF-8 or holds a NUL before a session sees it */
	if (memchr(text, '\0', tlen) || gsm7_measure(text, tlen, &(struct gsm7_measure){ 0 }) < 0) {
		free(text);
		return 0;
	}
	fuzz_catalog_names(data[1]);
	/* a customer with the longest name (greeted) or none, asked their name or not */
	enum menu_state st = menu_start_customer(&r, m, rnd % m->n_langs, data[1] & 0x40 ? fuzz_name : NULL,
						 data[1] & 0x80);
	/* with history or not (crm home-lines): a latest order of up to twenty lines, a segment's offer
	 * or none, on products of the longest names */
	struct crm_home home = { .last_order = 999999999, .last_product = 100 + (int32_t)(rnd % 3),
				 .last_lines = (uint8_t)(1 + rnd % 20), .segment = (int8_t)((rnd >> 2) % 6) - 1,
				 .fav_product = 100 + (int32_t)((rnd >> 5) % 3) };
	r.home = data[1] & 0x20 ? &home : NULL;
	for (;;) {
		while (st == MENU_PENDING) {
			fuzz_action_values(&r, rnd);
			enum menu_outcome oc = rnd % 4 ? MENU_OUTCOME_OK : (enum menu_outcome)(rnd % _MENU_OUTCOME_COUNT);
			rnd = rnd * 7 + 3;
			st = menu_action_done(&r, oc);
			if (oc != MENU_OUTCOME_OK && !r.screen->on[oc])
				goto out;	/* the session shows the menu's error text */
		}
		fuzz_check_screen(&r);
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
