/* The menu engine and its linter: the benchmark shop's screens come out exactly as
 * SHOP-BENCH.md prints them, lists paginate greedily to the budget, navigation keys work,
 * every shipped menu loads in every language, and broken menu files are refused with
 * file:line and a reason. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <talloc.h>
#include <openssl/sha.h>
#include "menu.h"
#include "catalog.h"
#include "crm.h"
#include "testfile.h"
#include "testlib.h"

static const struct menu_limits lim = { .name_max = 24, .price_max_cents = 999999, .qty_max = 20,
	.septets = 182, .ucs2 = 80 };

static const char *const cats[5] = { "Groceries", "Drinks", "Household", "Personal care", "Snacks" };
static const struct { const char *name; int64_t price; } prods[40] = {
	{ "White bread 700g", 1799 }, { "Brown bread 700g", 1649 }, { "Maize meal 5kg", 6499 }, { "Rice 2kg", 4250 },
	{ "Sugar 2.5kg", 5499 }, { "Cooking oil 2L", 7999 }, { "Eggs 6 pack", 2199 }, { "Milk 1L", 1849 },
	{ "Coke 2L", 2799 }, { "Fanta Orange 2L", 2599 }, { "Sprite 2L", 2599 }, { "Still water 1.5L", 1299 },
	{ "Rooibos tea 80s", 3999 }, { "Instant coffee 200g", 8999 }, { "Orange juice 1L", 2999 }, { "Energy drink 500ml", 1999 },
	{ "Dish liquid 750ml", 3299 }, { "Washing powder 2kg", 8999 }, { "Bleach 1.5L", 3649 }, { "Toilet paper 9s", 7499 },
	{ "Candles 6 pack", 2499 }, { "Matches 10 box", 1299 }, { "Paraffin 1L", 2899 }, { "Refuse bags 20s", 2399 },
	{ "Bath soap 175g", 1249 }, { "Toothpaste 100ml", 2499 }, { "Toothbrush", 1599 }, { "Body lotion 400ml", 4999 },
	{ "Petroleum jelly 250ml", 3499 }, { "Roll-on deodorant", 2999 }, { "Shampoo 400ml", 5499 }, { "Sanitary pads 10s", 2799 },
	{ "Chips 36g", 999 }, { "Peanuts 100g", 1699 }, { "Chocolate bar 80g", 2299 }, { "Biscuits 200g", 1999 },
	{ "Sweets 125g", 1499 }, { "Popcorn 100g", 1299 }, { "Fruit chews", 100 }, { "Vetkoek", 500 },
};

static void catalog_make(void *ctx)
{
	struct catalog *c = catalog_alloc(ctx, 5, 40);
	for (int i = 0; i < 5; i++)
		c->categories[i] = (struct catalog_category){ .id = i + 1, .name = (char *)cats[i] };
	for (int i = 0; i < 40; i++)
		c->products[i] = (struct catalog_product){ .id = (i / 8 + 1) * 100 + i % 8 + 1, .category_id = i / 8 + 1,
			.name = (char *)prods[i].name, .price_cents = prods[i].price, .stock = 10 };
	catalog_link(c);
	g_catalog = c;
}

static char screen[MENU_SCREEN_BYTES];

static const char *show(struct menu_run *r)
{
	menu_render(r, screen, sizeof(screen));
	return screen;
}

static enum menu_state feed(struct menu_run *r, const char *in)
{
	return menu_input(r, in, strlen(in));
}

static void bench_flows(const struct menu *m)
{
	struct menu_run r;
	T_EQ_INT(menu_start(&r, m, 0), MENU_CON, "bench: dialling shows a screen that continues");
	T_EQ_STR(show(&r), "Welcome to Spaza\n1. Browse\n2. My orders\n3. Pay\n4. Help", "bench: main menu exact");
	feed(&r, "7");
	T_EQ_STR(r.screen->name, "main", "bench: invalid choice re-shows main");
	feed(&r, "1");
	T_EQ_STR(show(&r), "Categories\n1. Groceries\n2. Drinks\n3. Household\n4. Personal care\n5. Snacks\n0. Back",
		 "bench: categories exact");
	feed(&r, "1");
	T_EQ_STR(show(&r), "Groceries (1/2)\n1. White bread 700g R17.99\n2. Brown bread 700g R16.49\n3. Maize meal 5kg R64.99\n"
		 "4. Rice 2kg R42.50\n5. Sugar 2.5kg R54.99\n6. Cooking oil 2L R79.99\n98. More\n0. Back",
		 "bench: groceries page 1 exact (SHOP-BENCH example, 177 chars)");
	T_EQ_INT(strlen(screen), 177, "bench: groceries page 1 is 177 characters");
	feed(&r, "98");
	T_EQ_STR(show(&r), "Groceries (2/2)\n7. Eggs 6 pack R21.99\n8. Milk 1L R18.49\n0. Back", "bench: 98 shows page 2");
	feed(&r, "98");
	T_EQ_INT(r.page, 1, "bench: 98 on the last page stays there");
	feed(&r, "3");
	T_EQ_STR(show(&r), "Maize meal 5kg\nPrice: R64.99\n1. Buy\n0. Back", "bench: item of page 1 selectable from page 2");
	feed(&r, "0");
	T_EQ_STR(r.screen->name, "products", "bench: back from detail returns to the product list");
	T_EQ_INT(r.page, 1, "bench: back from detail shows the list page the item was picked on");
	feed(&r, "3");
	feed(&r, "1");
	T_EQ_STR(show(&r), "Enter quantity (1-20):", "bench: quantity prompt");
	feed(&r, "01");
	T_EQ_STR(show(&r), "Invalid quantity.\nEnter quantity (1-20):", "bench: 01 is an invalid quantity");
	feed(&r, "21");
	T_EQ_STR(r.screen->name, "quantity", "bench: 21 is refused");
	feed(&r, "20");
	T_EQ_STR(show(&r), "Order 20 x Maize meal 5kg for R1299.80?\n1. Confirm\n2. Cancel", "bench: confirm shows the total");
	T_EQ_INT(feed(&r, "1"), MENU_PENDING, "bench: confirming waits for the order to be created");
	T_EQ_INT(r.pending, MENU_ACTION_CREATE_ORDER, "bench: the pending action is create_order");
	r.v.order_id = 1042;
	T_EQ_INT(menu_action_done(&r, MENU_OUTCOME_OK), MENU_END, "bench: created order ends the session");
	T_EQ_STR(show(&r), "Order #1042 placed. Pay via option 3.", "bench: placed screen exact");
	char trail[512];
	menu_trail(&r, trail, sizeof(trail));
	T_EQ_STR(trail, "main categories products detail products detail quantity confirm placed",
		 "bench: the trail records every screen visited");

	menu_start(&r, m, 0);
	feed(&r, "1");
	feed(&r, "4");
	T_EQ_STR(show(&r), "Personal care (1/2)\n1. Bath soap 175g R12.49\n2. Toothpaste 100ml R24.99\n3. Toothbrush R15.99\n"
		 "4. Body lotion 400ml R49.99\n5. Petroleum jelly 250ml R34.99\n98. More\n0. Back",
		 "bench: personal care page 1 has items 1-5 (greedy, 169 chars)");
	T_EQ_INT(strlen(screen), 169, "bench: personal care page 1 is 169 characters");
	feed(&r, "0");
	T_EQ_STR(r.screen->name, "categories", "bench: back from a product page goes to categories");
	feed(&r, "00");
	T_EQ_STR(r.screen->name, "categories", "bench: 00 is not a key of the benchmark shop");

	menu_start(&r, m, 0);
	T_EQ_INT(feed(&r, "2"), MENU_PENDING, "bench: my orders loads the orders first");
	r.v.n_orders = 0;
	T_EQ_INT(menu_action_done(&r, MENU_OUTCOME_OK), MENU_END, "bench: orders is a final screen");
	T_EQ_STR(show(&r), "You have no orders yet.", "bench: no orders");
	menu_start(&r, m, 0);
	feed(&r, "2");
	r.v.n_orders = ORDERS_MAX_ROWS;
	for (int i = 0; i < ORDERS_MAX_ROWS; i++)
		r.v.orders[i] = (struct orders_row){ .id = 1010 - i, .product_id = 101 + i, .qty = i + 1,
			.total_cents = 100, .status = i % 3 };
	menu_action_done(&r, MENU_OUTCOME_OK);
	T_EQ_STR(show(&r), "Your orders:\n#1010 1x White bread 700g: Awaiting payment\n#1009 2x Brown bread 700g: Paid\n"
		 "#1008 3x Maize meal 5kg: Shipped", "bench: the orders listed, newest first");

	menu_start(&r, m, 0);
	feed(&r, "3");
	feed(&r, "12a");
	T_EQ_STR(show(&r), "Enter order number", "bench: invalid order number re-shows the prompt");
	T_EQ_INT(feed(&r, "0001001"), MENU_PENDING, "bench: an order number is looked up");
	T_EQ_INT(r.pending, MENU_ACTION_FIND_ORDER, "bench: with find_order");
	T_EQ_INT(menu_action_done(&r, MENU_OUTCOME_NOT_FOUND), MENU_END, "bench: not found ends");
	T_EQ_STR(show(&r), "Order #0001001 not found.", "bench: not-found echoes the input as typed");
	menu_start(&r, m, 0);
	feed(&r, "3");
	feed(&r, "1001");
	r.v.order_id = 1001;
	r.v.status = 1;
	menu_action_done(&r, MENU_OUTCOME_NOT_PAYABLE);
	T_EQ_STR(show(&r), "Order #1001 is Paid.", "bench: an order not awaiting payment says its status");
	menu_start(&r, m, 0);
	feed(&r, "3");
	feed(&r, "1003");
	r.v.order_id = 1003;
	r.v.total_cents = 5399;
	T_EQ_INT(menu_action_done(&r, MENU_OUTCOME_OK), MENU_CON, "bench: a payable order continues");
	T_EQ_STR(show(&r), "Pay with:\n1. Voucher\n2. Credit\n3. Barcode slip", "bench: pay with exact");
	feed(&r, "2");
	T_EQ_STR(show(&r), "Credit request for order #1003 (R53.99) sent. You will get an SMS to approve.", "bench: credit screen");

	menu_start(&r, m, 0);
	feed(&r, "4");
	T_EQ_STR(show(&r), "Spaza help: call 0800 555 123 (free) or SMS HELP to 31555.", "bench: help");
}

static void shop_languages(const struct menu *m)
{
	struct menu_run r;
	int zu = menu_lang_index(m, "zu"), af = menu_lang_index(m, "af");
	T_CHECK(zu > 0 && af > 0, "shop: ships isiZulu and Afrikaans", "zu=%d af=%d", zu, af);
	menu_start(&r, m, zu);
	T_EQ_STR(show(&r), "Siyakwamukela ku-Spaza\n1. Bheka izimpahla\n2. Ama-oda ami\n3. Khokha\n4. Ulimi\n5. Usizo\n6. Ubhasikidi\n7. I-akhawunti yami",
		 "shop: main menu in isiZulu");
	menu_start(&r, m, af);
	feed(&r, "1");
	show(&r);
	T_CHECK(!strncmp(screen, "Kategorieë\n1. Groceries", strlen("Kategorieë\n1. Groceries")),
		"shop: Afrikaans categories (a UCS-2 screen)", "got \"%s\"", screen);
	/* the UCS-2 screen holds 80 characters: the five categories do not fit on one page */
	T_CHECK(strstr(screen, "98. Meer") != NULL, "shop: UCS-2 list paginates at 80 characters", "got \"%s\"", screen);
	menu_start(&r, m, 0);
	feed(&r, "4");
	T_EQ_STR(show(&r), "Choose your language\n1. English\n2. isiZulu\n3. Afrikaans\n0. Back", "shop: language list");
	T_EQ_INT(feed(&r, "3"), MENU_PENDING, "shop: choosing a language stores it");
	T_EQ_INT(r.pending, MENU_ACTION_SET_LANGUAGE, "shop: with set_language");
	menu_action_done(&r, MENU_OUTCOME_OK);
	T_EQ_STR(show(&r), "Taal is nou Afrikaans.", "shop: confirmation in the new language");
	menu_start(&r, m, 0);
	feed(&r, "1");
	feed(&r, "1");
	feed(&r, "1");
	feed(&r, "1");
	T_EQ_STR(show(&r), "Enter quantity (1-20):\n0. Back", "shop: input screens show back");
	feed(&r, "0");
	T_EQ_STR(r.screen->name, "detail", "shop: 0 on an input screen goes back");
	feed(&r, "00");
	T_EQ_STR(r.screen->name, "main", "shop: 00 goes home");
}

/* The name on USSD (sql/021): asked once, 0 skips, then the home screen greets by name. */
static void shop_name(const struct menu *m)
{
	struct menu_run r;
	int zu = menu_lang_index(m, "zu");
	T_EQ_INT(menu_start_customer(&r, m, 0, NULL, true), MENU_CON, "name: a customer never asked is asked");
	T_EQ_STR(show(&r), "Your name? (0 to skip)", "name: the question, without back (0 skips)");
	feed(&r, "00");
	T_EQ_STR(show(&r), "Letters only, please.\nYour name? (0 to skip)", "name: the home key is no name");
	T_EQ_INT(feed(&r, "Thandi"), MENU_PENDING, "name: a name is stored ...");
	T_EQ_INT(r.pending, MENU_ACTION_SET_NAME, "name: ... by set_name");
	T_EQ_STR(r.v.address, "Thandi", "name: ... which gets it as typed");
	r.name = "Thandi";	/* crm.c keeps the answer: the session's name is the customer's */
	T_EQ_INT(menu_action_done(&r, MENU_OUTCOME_OK), MENU_CON, "name: stored, the dialogue goes on ...");
	T_EQ_STR(r.screen->name, "main", "name: ... on the home screen");
	T_EQ_STR(show(&r), "Hi Thandi\nWelcome to Spaza\n1. Browse\n2. My orders\n3. Pay\n4. Language\n5. Help\n6. Basket\n7. My account",
		 "name: the home screen greets by name");
	menu_start_customer(&r, m, 0, NULL, true);
	T_EQ_INT(feed(&r, "0"), MENU_PENDING, "name: 0 is an answer (skip), not back");
	T_EQ_STR(r.v.address, "0", "name: ... handed to set_name as the skip key");
	menu_start_customer(&r, m, 0, "", false);
	T_EQ_STR(show(&r), "Welcome to Spaza\n1. Browse\n2. My orders\n3. Pay\n4. Language\n5. Help\n6. Basket\n7. My account",
		 "name: without a name the home screen is as it was");
	menu_start_customer(&r, m, zu, "Thandi", false);
	T_CHECK(!strncmp(show(&r), "Sawubona Thandi\nSiyakwamukela", 29), "name: greeted in isiZulu", "got \"%s\"", screen);
	menu_start_customer(&r, m, 0, "Thandi", false);
	feed(&r, "4");
	feed(&r, "00");
	T_CHECK(!strncmp(show(&r), "Hi Thandi\n", 10), "name: home (00) greets again", "got \"%s\"", screen);
	menu_start_customer(&r, m, 0, NULL, true);
	feed(&r, "Th4ndi");
	T_EQ_STR(r.screen->name, "name_ask", "name: digits are not a name: asked again");
}

/* The home screen's lines (crm home-lines 1): the latest order again and the offer of the
 * customer's segment, numbered after the options, one line above them; each choice goes where
 * the menu says, with the order, or the product and category. */
static void shop_home(const struct menu *m)
{
	static const char opts_en[] = "1. Browse\n2. My orders\n3. Pay\n4. Language\n5. Help\n6. Basket\n7. My account";
	char want[MENU_SCREEN_BYTES];
	struct menu_run r;
	int zu = menu_lang_index(m, "zu"), af = menu_lang_index(m, "af");
	struct crm_home h = { .last_order = 1042, .last_product = 201, .last_lines = 3, .segment = SEGMENT_ONCE_OFF,
			      .fav_product = 101 };

	menu_start_customer(&r, m, 0, "Thandi Nkosi", false);
	r.home = &h;
	snprintf(want, sizeof(want), "Hi Thandi\n%s\n8. Reorder Coke 2L +2\n9. Buy White bread again, on special", opts_en);
	T_EQ_STR(show(&r), want, "home: greeted by first name, the latest order and the segment's offer below the options");
	T_EQ_INT(feed(&r, "8"), MENU_PENDING, "home: 8 reorders ...");
	T_EQ_INT(r.pending, MENU_ACTION_REORDER, "home: ... by the reorder action of My orders");
	T_EQ_INT(r.v.order_id, 1042, "home: ... of the latest order");
	T_EQ_STR(r.screen->name, "order_reorder", "home: ... on its screen");

	menu_start_customer(&r, m, 0, "Thandi Nkosi", false);
	r.home = &h;
	feed(&r, "9");
	T_EQ_STR(show(&r), "White bread 700g\nPrice: R17.99\n1. Buy\n2. Add to basket\n0. Back",
		 "home: the offer opens its product");
	feed(&r, "0");
	T_CHECK(!strncmp(show(&r), "Groceries (1/", 13), "home: ... whose back is its category", "got \"%s\"", screen);

	menu_start_customer(&r, m, 0, NULL, false);
	r.home = &h;
	feed(&r, "10");
	snprintf(want, sizeof(want), "Invalid choice.\n%s\n8. Reorder Coke 2L +2\n9. Buy White bread again, on special", opts_en);
	T_EQ_STR(show(&r), want, "home: \"Invalid choice.\" is the one line above the options");
	feed(&r, "00");
	T_CHECK(!strncmp(show(&r), "Welcome to Spaza\n1. Browse", 26), "home: without a name, the screen's own text",
		"got \"%s\"", screen);

	h.segment = SEGMENT_NEW;
	menu_start_customer(&r, m, zu, "Thandi", false);
	r.home = &h;
	T_CHECK(strstr(show(&r), "Sawubona Thandi\n1. Bheka izimpahla") && strstr(screen, "\n8. Oda futhi Coke 2L +2\n9. Zama iziphuzo zethu"),
		"home: in isiZulu, the cross-sell of the new", "got \"%s\"", screen);
	feed(&r, "9");
	T_CHECK(!strncmp(show(&r), "Drinks (1/", 10), "home: ... which opens the category it names", "got \"%s\"", screen);

	h.segment = SEGMENT_LAPSED;
	h.last_lines = 1;
	menu_start_customer(&r, m, af, "Annelie", false);
	r.home = &h;
	T_CHECK(strstr(show(&r), "\n8. Bestel weer Coke 2L\n9. Welkom terug: White bread spesiaal"), "home: in Afrikaans, one line",
		"got \"%s\"", screen);

	h.segment = -1;
	menu_start_customer(&r, m, 0, NULL, false);
	r.home = &h;
	snprintf(want, sizeof(want), "Welcome to Spaza\n%s\n8. Reorder Coke 2L", opts_en);
	T_EQ_STR(show(&r), want, "home: no segment, no offer");
	T_EQ_INT(feed(&r, "9"), MENU_CON, "home: ... and no 9");
	T_CHECK(r.show_error, "home: ... which is an invalid choice", "accepted");

	h.segment = SEGMENT_AVERAGE;
	h.fav_product = 999;
	h.last_product = 998;
	menu_start_customer(&r, m, 0, NULL, false);
	r.home = &h;
	snprintf(want, sizeof(want), "Welcome to Spaza\n%s\n8. Reorder #1042", opts_en);
	T_EQ_STR(show(&r), want, "home: products gone from the catalogue: the order by number, no offer");

	struct catalog_product *p = (struct catalog_product *)catalog_product_by_id(g_catalog, 201);
	char *name = p->name;
	p->name = (char *)"Cr\xc3\xabme soda 2L";	/* outside GSM-7: the home screen would turn UCS-2 */
	h = (struct crm_home){ .last_order = 7, .last_product = 201, .last_lines = 2, .segment = SEGMENT_TOP, .fav_product = 201 };
	menu_start_customer(&r, m, 0, NULL, false);
	r.home = &h;
	snprintf(want, sizeof(want), "Welcome to Spaza\n%s\n8. Reorder #7 +1", opts_en);
	T_EQ_STR(show(&r), want, "home: a name outside GSM-7: the order's number, and no offer about that product");
	p->name = name;

	h = (struct crm_home){ .segment = -1 };
	menu_start_customer(&r, m, 0, "Thandi", false);
	r.home = &h;
	snprintf(want, sizeof(want), "Hi Thandi\nWelcome to Spaza\n%s", opts_en);
	T_EQ_STR(show(&r), want, "home: no orders, no segment: the home screen as it was");
}

/* A choice a screen does not have says so above the same screen, in the customer's language;
 * the bench menu, which has no invalid: text, repeats the screen as it always did. */
static void invalid_choice(const struct menu *shop, const struct menu *bench)
{
	struct menu_run r;
	int zu = menu_lang_index(shop, "zu"), af = menu_lang_index(shop, "af");
	menu_start(&r, shop, 0);
	T_EQ_INT(feed(&r, "8"), MENU_CON, "invalid: a choice the menu does not have keeps the session");
	T_EQ_STR(show(&r), "Invalid choice.\nWelcome to Spaza\n1. Browse\n2. My orders\n3. Pay\n4. Language\n5. Help\n6. Basket\n7. My account",
		 "invalid: the main menu says so above itself");
	feed(&r, "1");
	T_EQ_STR(r.screen->name, "categories", "invalid: a valid choice after it goes on");
	T_CHECK(strncmp(show(&r), "Invalid", 7), "invalid: ... and the message is gone", "got \"%s\"", screen);
	feed(&r, "abc");
	T_CHECK(!strncmp(show(&r), "Invalid choice.\nCategories\n1. Groceries", 39), "invalid: letters on a list say so too",
		"got \"%s\"", screen);
	feed(&r, "98");
	T_CHECK(strncmp(show(&r), "Invalid", 7), "invalid: the more key is a valid answer on a list", "got \"%s\"", screen);
	/* a list keeps room for the line on every page: the page shows the same items with it */
	menu_start(&r, shop, 0);
	feed(&r, "1");
	feed(&r, "1");
	char before[MENU_SCREEN_BYTES];
	snprintf(before, sizeof(before), "%s", show(&r));
	feed(&r, "55");
	char want[MENU_SCREEN_BYTES + 20];
	snprintf(want, sizeof(want), "Invalid choice.\n%s", before);
	T_EQ_STR(show(&r), want, "invalid: a number past the list repeats the same page below the message");
	menu_start(&r, shop, zu);
	feed(&r, "0");
	T_CHECK(!strncmp(show(&r), "Ukukhetha okungalungile.\nSiyakwamukela", 38), "invalid: in isiZulu",
		"got \"%s\"", screen);
	menu_start(&r, shop, af);
	feed(&r, "9");
	T_CHECK(!strncmp(show(&r), "Ongeldige keuse.\nWelkom by Spaza", 32), "invalid: in Afrikaans", "got \"%s\"", screen);
	menu_start(&r, bench, 0);
	char main_screen[MENU_SCREEN_BYTES];
	snprintf(main_screen, sizeof(main_screen), "%s", show(&r));
	feed(&r, "9");
	T_EQ_STR(show(&r), main_screen, "invalid: a menu without invalid: repeats the screen unchanged");
}

static int load_menu(void *ctx, const char *path)
{
	struct menu *m = NULL;
	return menu_load_file(ctx, path, &lim, &m);
}

#define HEAD "menu: t\nservice-codes: [\"*1#\"]\nlanguages: {en: English, zu: isiZulu}\nstart: a\n" \
	"labels: {back: Back, more: More}\nerror: Sorry\nslow: Wait\n" \
	"statuses: {awaiting_payment: A, paid: P, shipped: S, delivered: D, cancelled: C, expired: E}\nscreens:\n"

static void linter(void *ctx)
{
	testfile_expect_refused(ctx, load_menu, "lint: an overflowing screen is refused with line, language and overflow",
		HEAD "  a:\n    type: end\n    text:\n      en: short\n"
		"      zu: \"{product} {product} {product} {product} {product}\"\n",
		"10: screen \"a\" [zu]: 244 GSM-7 septets with worst-case values, over the 182 budget by 62");
	testfile_expect_refused(ctx, load_menu, "lint: a missing translation is refused", HEAD
		"  a:\n    type: end\n    text: {en: Hello}\n", "12: screen \"a\": no text for language \"zu\"");
	testfile_expect_refused(ctx, load_menu, "lint: an unknown placeholder is refused", HEAD
		"  a:\n    type: end\n    text: \"Hi {nom}\"\n", "12: unknown placeholder {nom}");
	testfile_expect_refused(ctx, load_menu, "lint: a typo in a key is named", HEAD
		"  a:\n    type: menu\n    text: Hi\n    otpions: []\n", "13: screen \"a\": unknown key \"otpions\"");
	testfile_expect_refused_once(ctx, load_menu, "lint: a goto to a missing screen is refused, with that error alone", HEAD
		"  a:\n    type: menu\n    text: Hi\n    options:\n      - {label: X, goto: nowhere}\n",
		"14: screen \"a\": no screen named \"nowhere\"");
	testfile_expect_refused(ctx, load_menu, "lint: an option without a goto is refused", HEAD
		"  a:\n    type: menu\n    text: Hi\n    options:\n      - {label: X}\n",
		"14: screen \"a\": option 1 has no goto");
	testfile_expect_refused(ctx, load_menu, "lint: YAML syntax errors give a line", HEAD "  a: [\n",
		"11: YAML syntax");
	testfile_expect_refused(ctx, load_menu, "lint: a bad pattern is refused", HEAD
		"  a:\n    type: input\n    text: Hi\n    pattern: \"([\"\n    store: qty\n    next: a\n",
		"13: screen \"a\": bad pattern");
	/* each of these made glibc's regcomp() take gigabytes (stacked, counted, nested repetition) */
	testfile_expect_refused(ctx, load_menu, "lint: stacked quantifiers in a pattern are refused", HEAD
		"  a:\n    type: input\n    text: Hi\n    pattern: \"^1+++++++++[0-9]$\"\n    store: qty\n    next: a\n",
		"13: screen \"a\": pattern too complex: a quantifier right after another");
	testfile_expect_refused(ctx, load_menu, "lint: a pattern repeating over 32 times is refused", HEAD
		"  a:\n    type: input\n    text: Hi\n    pattern: \"^(1{1,30}){1,1000}$\"\n    store: qty\n    next: a\n",
		"13: screen \"a\": pattern too complex: a repetition count over 32");
	testfile_expect_refused(ctx, load_menu, "lint: deeply nested pattern groups are refused", HEAD
		"  a:\n    type: input\n    text: Hi\n    pattern: \"((((1+)+)+)+)\"\n    store: qty\n    next: a\n",
		"13: screen \"a\": pattern too complex: parentheses nested deeper than 3");
	char yaml[1024], carets[100];
	memset(carets, '^', sizeof(carets));
	snprintf(yaml, sizeof(yaml), HEAD "  a:\n    type: end\n    text: \"%.92s\"\n", carets);
	testfile_expect_refused(ctx, load_menu, "lint: extension characters count two septets (92 x ^ = 184)", yaml,
		"10: screen \"a\" [en]: 184 GSM-7 septets with worst-case values, over the 182 budget by 2");
	snprintf(yaml, sizeof(yaml), HEAD "  a:\n    type: end\n    text: \"%.91s\"\n", carets);
	char path[] = "/tmp/menu_test_ok_XXXXXX.yaml";
	testfile_write(path, yaml);
	T_EQ_INT(load_menu(ctx, path), 0, "lint: 91 x ^ (182 septets) fits exactly");
	unlink(path);
}

/* A menu's version: the file's `version:`, else the first 8 hex digits of its bytes' SHA-256,
 * which any change to the file changes. */
static const char *version_of(void *ctx, const char *yaml)
{
	char path[] = "/tmp/menu_test_version_XXXXXX.yaml";
	testfile_write(path, yaml);
	struct menu *m = NULL;
	int rc = menu_load_file(ctx, path, &lim, &m);
	unlink(path);
	return rc < 0 ? "(refused)" : m->version;
}

static void versions(void *ctx)
{
	static const char yaml[] = HEAD "  a:\n    type: end\n    text: Hi\n";
	uint8_t h[SHA256_DIGEST_LENGTH];
	SHA256((const uint8_t *)yaml, strlen(yaml), h);
	char hex[9];
	snprintf(hex, sizeof(hex), "%02x%02x%02x%02x", h[0], h[1], h[2], h[3]);
	T_EQ_STR(version_of(ctx, yaml), hex, "version: without version:, the first 8 hex digits of the file's SHA-256");
	T_CHECK(strcmp(version_of(ctx, HEAD "  a:\n    type: end\n    text: Hi!\n"), hex),
		"version: ... another for a file changed by one character", "both %s", hex);
	T_EQ_STR(version_of(ctx, "version: 2027-01.short_checkout\n" HEAD "  a:\n    type: end\n    text: Hi\n"),
		 "2027-01.short_checkout", "version: the file's own version: when it has one");
	testfile_expect_refused(ctx, load_menu, "version: a version: with a space is refused",
		"version: \"one two\"\n" HEAD "  a:\n    type: end\n    text: Hi\n",
		"1: version: 1 to 32 letters, digits, '.', '_' or '-'");
	testfile_expect_refused(ctx, load_menu, "version: a version: that is not a word is refused",
		"version: [1, 2]\n" HEAD "  a:\n    type: end\n    text: Hi\n",
		"1: version: 1 to 32 letters, digits, '.', '_' or '-'");
}

int main(void)
{
	void *ctx = talloc_named_const(NULL, 0, "menu_test");
	catalog_make(ctx);
	struct menu_set *set = NULL;
	int rc = menu_set_load(ctx, SRCDIR "/menus", &lim, &set);
	T_EQ_INT(rc, 0, "every shipped menu loads and passes the linter in every language");
	if (rc < 0)
		return 1;
	const struct menu *bench = menu_set_find(set, "*384*123#"), *shop = menu_set_find(set, "*120*777#");
	T_CHECK(bench && shop, "service codes select the menus", "bench=%p shop=%p", (void *)bench, (void *)shop);
	if (bench)
		bench_flows(bench);
	if (shop) {
		shop_languages(shop);
		shop_name(shop);
		shop_home(shop);
	}
	if (shop && bench)
		invalid_choice(shop, bench);
	linter(ctx);
	versions(ctx);
	testfile_expect_refused(ctx, load_menu, "lint: the greeting with the longest name counts against the start screen",
		HEAD "  a:\n    type: menu\n    text: \"{product} {product} {product}\"\n    options:\n      - {label: X, goto: a}\n"
		"start: a\ngreeting: \"Hello there, {name}\"\n",
		"10: screen \"a\" [en]: 193 GSM-7 septets with worst-case values, over the 182 budget by 11");
	/* the home screen's lines (reorder:, offers:): each offer measured with the reorder line, the
	 * longest name, label and product; each refusal names the line to change */
#define HOME_SCREENS "  a:\n    type: menu\n    text: Hi\n    options:\n      - {label: X, goto: a}\n" \
	"  r:\n    type: menu\n    action: reorder\n    on: {not_found: a}\n    text: Basket\n    options:\n" \
	"      - {label: Y, goto: a}\n"
	static const struct { const char *what, *yaml, *want; } home_refusals[] = {
		{ "lint: an offer the home screen cannot hold is refused at its line",
		  HEAD HOME_SCREENS "reorder: {text: \"Reorder {last}\", goto: r}\noffers:\n  top: {text: \"Thanks\", goto: a}\n"
		  "  lapsed: {text: \"{fav} {fav} {fav} {fav} {fav} {fav} {fav} {fav} {fav} {fav}\", goto: a}\n",
		  "25: offers: lapsed [en]: the home screen \"a\" with this line is 186 GSM-7 septets with worst-case values, "
		  "over the 182 budget by 4" },
		{ "lint: the reorder line counts with the longest label",
		  HEAD HOME_SCREENS "reorder: {text: \"{last} {last} {last} {last} {last} {last} {last} {last} {last} {last}"
		  " {last} {last}\", goto: r}\n",
		  "22: reorder [en]: the home screen \"a\" with this line is 190 GSM-7 septets with worst-case values, "
		  "over the 182 budget by 8" },
		{ "lint: the reorder line goes to a screen that reorders",
		  HEAD HOME_SCREENS "reorder: {text: \"Reorder {last}\", goto: a}\n", "22: reorder: goto: a screen with action: reorder" },
		{ "lint: an offer opens a screen that acts on nothing", HEAD HOME_SCREENS "offers:\n  new: {text: \"Try {fav}\", goto: r}\n",
		  "23: offers: new: goto: a screen that acts on nothing (a product, a category), not one with action: reorder" },
		{ "lint: offers are for the named segments", HEAD HOME_SCREENS "offers:\n  loyal: {text: \"Try {fav}\", goto: a}\n",
		  "23: offers: \"loyal\" is not a named segment (top, average, once-off, new, lapsed)" },
		{ "lint: an offer needs a text in every language",
		  HEAD HOME_SCREENS "offers:\n  new: {text: {en: \"Try {fav}\"}, goto: a}\n", "23: offers: new: no text for language \"zu\"" },
		{ "lint: the home lines need two free keys after the start screen's options",
		  HEAD "  a:\n    type: menu\n    text: Hi\n    options:\n" "      - {label: X, goto: a}\n      - {label: X, goto: a}\n"
		  "      - {label: X, goto: a}\n      - {label: X, goto: a}\n      - {label: X, goto: a}\n"
		  "      - {label: X, goto: a}\n      - {label: X, goto: a}\n      - {label: X, goto: a}\n"
		  "offers:\n  new: {text: \"Try {fav}\", goto: a}\n",
		  "23: offers: the start screen has 8 options; with the reorder and offer lines after them at most 7" },
	};
	for (unsigned i = 0; i < sizeof(home_refusals) / sizeof(home_refusals[0]); i++)
		testfile_expect_refused(ctx, load_menu, home_refusals[i].what, home_refusals[i].yaml, home_refusals[i].want);
	testfile_expect_refused(ctx, load_menu, "lint: ask-name must be an input that stores a name",
		HEAD "  a:\n    type: end\n    text: Hi\nstart: a\nask-name: a\n", "14: ask-name: the screen must be an input with store: name");
	/* a long code's referral screen (doc/crm.md, "One dial string, three meanings"), consent */
	static const struct { const char *what, *yaml, *want; } refused[] = {
		{ "lint: long-code-referral must be an input that stores input",
		  HEAD "  a:\n    type: end\n    text: Hi\nlong-code: \"3\"\nlong-code-referral: a\n",
		  "14: long-code-referral: the screen must be an input with store: input, beside a long-code" },
		{ "lint: long-code-referral needs a long-code beside it",
		  HEAD "  a:\n    type: input\n    text: Code\n    pattern: \"^[0-9]{6}$\"\n    store: input\n    next: a\n"
		  "long-code-referral: a\n",
		  "16: long-code-referral: the screen must be an input with store: input, beside a long-code" },
		{ "lint: load_consent needs an opted_out screen",
		  HEAD "  a:\n    type: menu\n    action: load_consent\n    text: Offers\n    options:\n      - {label: X, goto: a}\n",
		  "11: screen \"a\": load_consent needs on: opted_out: <screen>" },
	};
	for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		testfile_expect_refused(ctx, load_menu, refused[i].what, refused[i].yaml, refused[i].want);
	testfile_expect_refused(ctx, load_menu, "lint: the invalid-choice line counts against every menu's budget",
		HEAD "  a:\n    type: menu\n    text: \"{product} {product} {product}\"\n    options:\n      - {label: X, goto: a}\n"
		"invalid: \"An invalid choice, said at length so that the screen no longer fits.\"\n",
		"10: screen \"a\" [en]: 220 GSM-7 septets with worst-case values, over the 182 budget by 38");

	/* a lower name limit than the shop needs makes the same file fail: the linter uses the limits */
	struct menu_limits tight = lim;
	tight.name_max = 80;
	struct menu *m;
	fflush(stderr);
	int saved = dup(2), devnull = open("/dev/null", O_WRONLY);
	dup2(devnull, 2);
	rc = menu_load_file(ctx, SRCDIR "/menus/shop.yaml", &tight, &m);
	dup2(saved, 2);
	T_CHECK(rc < 0, "lint: 80-character product names would overflow the shop's screens", "rc=%d", rc);
	talloc_free(ctx);
	return T_DONE();
}
