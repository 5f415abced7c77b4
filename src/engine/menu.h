#pragma once
/* The menu engine: menus are data (YAML files in menus/, loaded and linted by menu_load.c);
 * menu.c walks a session through them one input at a time and renders screens. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "orders.h"
#include "segment_rule.h"

enum menu_screen_type {
#define SCREEN(e, n) MENU_SCREEN_##e,
#include "menu_nodes.def"
#undef SCREEN
	_MENU_SCREEN_COUNT
};
enum menu_var {
#define VAR(e, n) MENU_VAR_##e,
#include "menu_nodes.def"
#undef VAR
	_MENU_VAR_COUNT
};
enum menu_source {
	MENU_SOURCE_NONE = -1,
#define SOURCE(e, n) MENU_SOURCE_##e,
#include "menu_nodes.def"
#undef SOURCE
	_MENU_SOURCE_COUNT
};
enum menu_action {
	MENU_ACTION_NONE = -1,
#define ACTION(e, n) MENU_ACTION_##e,
#include "menu_nodes.def"
#undef ACTION
	_MENU_ACTION_COUNT
};
enum menu_method {
#define METHOD(e, n) MENU_METHOD_##e,
#include "menu_nodes.def"
#undef METHOD
	_MENU_METHOD_COUNT
};
enum menu_outcome {
#define OUTCOME(e, n) MENU_OUTCOME_##e,
#include "menu_nodes.def"
#undef OUTCOME
	_MENU_OUTCOME_COUNT
};

#define MENU_MAX_LANGS 8
#define MENU_SCREEN_BYTES 512	/* 182 septets of UTF-8, with room */
#define MENU_BASKET_MAX 6	/* lines of a basket: every byte here is per live session */
#define MENU_HISTORY_MAX 4	/* an order's latest statuses shown */
#define MENU_ADDRESS_MAX 40	/* characters of a delivery address or instructions */
#define MENU_ITEMS_SEPTETS 40	/* {items}: an order's lines are cut to this (menu_items_cut()) */
#define MENU_NAME_SEPTETS 28	/* {name}: the customer's name as kept (crm.h's CRM_NAME_SEPTETS, asserted equal) */
/* The home screen's lines (reorder:, offers:) for a customer with history. The screen must fit
 * with the longest of each (the linter proves it), so each value has a width, and the home screen
 * with these lines has one line above its options, not two: "Invalid choice." after a choice it
 * does not have, else the greeting with the first name alone, else the screen's own text. */
#define MENU_LAST_SEPTETS 14	/* {last}: "Maize meal 5kg", "Coke 2L +2", "#1042 +1" */
#define MENU_FAV_SEPTETS 14	/* {fav}: the product's name, cut */
#define MENU_FIRST_NAME_SEPTETS 14	/* {name} above the home lines: the first name, cut */
#define MENU_HOME_LINES 2		/* the reorder line and one offer */

/* A text compiled once at load: literal runs and placeholders, so rendering never parses. */
struct menu_seg {
	int var;		/* -1: literal */
	const char *lit;
	unsigned len;
};
struct menu_text {
	unsigned n;
	struct menu_seg *segs;
};

struct menu_screen;
struct crm_home;
struct menu_option {
	struct menu_text label[MENU_MAX_LANGS];
	const struct menu_screen *go;
};

struct menu_screen {
	const char *name;
	unsigned line;				/* where it is defined, for messages */
	enum menu_screen_type type;
	struct menu_text text[MENU_MAX_LANGS];	/* menu/confirm/end text, input prompt, list title */
	struct menu_text item[MENU_MAX_LANGS];	/* list item */
	struct menu_text empty[MENU_MAX_LANGS];	/* list with no items */
	struct menu_text error[MENU_MAX_LANGS];	/* input: shown above the prompt after a bad answer */
	unsigned n_options;
	struct menu_option *options;
	enum menu_source source;
	bool end;				/* list: show once and end the session */
	unsigned max_items;			/* end list: at most this many items */
	const struct menu_screen *back, *next, *select;
	const struct menu_screen *on[_MENU_OUTCOME_COUNT];
	enum menu_action action;
	void *pattern;				/* input: compiled regex_t */
	unsigned max_length;			/* input: longest answer accepted */
	enum menu_var store;			/* input: QTY, INPUT, ADDRESS, NOTE, NAME or ORDER (the order in
						 * context, as typed in INPUT too); -1: a PIN */
	bool nav;				/* navigation keys apply (default true) */
};

/* A menu's version, on every session that walked it (the funnel's `--by version`): the file's
 * `version:` (1 to MENU_VERSION_MAX letters, digits, '.', '_' or '-', e.g. "2027-01-short-checkout"),
 * else the first 8 hex digits of the file's SHA-256 (`sha256sum FILE | cut -c1-8`), so that a
 * changed file is a new version even when nobody names it. */
#define MENU_VERSION_MAX 32

struct menu {
	const char *file;
	const char *name;
	const char *version;
	unsigned n_codes;
	const char **service_codes;
	const char *long_code;	/* inputs a long code's extra digits follow (*120*777*1042# -> "3" then 1042) */
	/* Optional: the input screen a long code starts on, its digits the answer, when they are a
	 * referral code (the session asks longcode.h); the screen's pattern says which digits may be. */
	const struct menu_screen *long_code_referral;
	unsigned n_langs;
	const char *langs[MENU_MAX_LANGS];
	struct menu_text lang_name[MENU_MAX_LANGS];
	struct menu_text back_label[MENU_MAX_LANGS], more_label[MENU_MAX_LANGS];
	struct menu_text error_text[MENU_MAX_LANGS];	/* the polite END when something fails */
	struct menu_text slow_text[MENU_MAX_LANGS];	/* the END when an order or payment is still in progress */
	struct menu_text status_text[_ORDER_STATUS_COUNT][MENU_MAX_LANGS];	/* by enum order_status */
	struct menu_text method_text[_MENU_METHOD_COUNT][MENU_MAX_LANGS];	/* by enum menu_method (optional) */
	/* Shown above a menu or list that repeats after a choice it does not have (optional: a
	 * menu without it repeats the screen silently). */
	struct menu_text invalid_text[MENU_MAX_LANGS];
	const char *key_back, *key_home, *key_more;
	const struct menu_screen *start;
	/* Optional (sql/021): the screen a customer who never gave nor skipped a name starts on
	 * instead of start, and the line above the start screen for one who has a name ({name}). */
	const struct menu_screen *ask_name;
	struct menu_text greeting[MENU_MAX_LANGS];
	/* Optional: the start screen's lines for a customer with history, numbered after its own
	 * options. reorder: the latest order again ({last}), its goto a screen with action: reorder;
	 * offers: one per named segment (enum segment_named), the text with {fav} (the product the
	 * customer buys most), its goto a screen that acts on nothing (a product, a category), with
	 * that product and its category, or the category the offer names. go NULL: none. */
	struct menu_home_line {
		struct menu_text text[MENU_MAX_LANGS];
		const struct menu_screen *go;
		const char *category;	/* offers: a category's number or name; NULL: the product's own */
		unsigned line;		/* where it is defined, for messages */
	} reorder, offers[_SEGMENT_NAMED_COUNT];
	unsigned n_screens;
	struct menu_screen *screens;
};

/* All menus loaded from a directory; a session counts itself as a user of the set it started
 * with, so a reload never changes a live session's menu. */
struct menu_set {
	unsigned n;
	struct menu **menus;
	unsigned users;		/* sessions walking it */
	bool current;		/* new sessions get it */
};

/* Worst-case values the linter proves every screen against (from the catalogue limits). */
struct menu_limits {
	unsigned name_max;
	int64_t price_max_cents;
	unsigned qty_max;
	unsigned septets;	/* 182 */
	unsigned ucs2;		/* 80 */
};

/* Loads every *.yaml in dir. Errors go to stderr as "file:line: reason"; returns -EINVAL if any. */
int menu_set_load(void *ctx, const char *dir, const struct menu_limits *lim, struct menu_set **out);
int menu_load_file(void *ctx, const char *path, const struct menu_limits *lim, struct menu **out);
const struct menu *menu_set_find(const struct menu_set *set, const char *service_code);
int menu_lang_index(const struct menu *m, const char *code);

/* What a session knows so far: the values placeholders render. Every byte here is per live
 * session (100,000 live sessions in 300 MiB, doc/benchmark.md): the fields go widest first, so
 * the struct has no holes, and what is never needed at once shares its bytes. */
struct menu_vars {
	int64_t order_id;
	int64_t total_cents;
	int64_t remainder_cents, available_cents;
	int64_t limit_cents, used_cents, due_cents, store_cents, amount_cents;	/* My account, store credit */
	int64_t ticket_id;		/* a care ticket an action opened */
	int64_t points;			/* load_points: the customer's loyalty points */
	/* A page of orders, the detail of one chosen on it, or the delivery being checked out:
	 * never needed at once (the list fetches its page whenever it is entered; the checkout asks
	 * the address right before it orders). */
	union {
		struct orders_row orders[ORDERS_MAX_ROWS];
		struct {
			char items[81];		/* "2x Bread, 1x Milk", cut to 40 septets (menu_items_cut()) */
			struct { int8_t status; char at[12]; } history[MENU_HISTORY_MAX];
		};
		/* address also carries a name typed on the ask-name screen to set_name (store: name) */
		struct { char address[MENU_ADDRESS_MAX + 1], note[MENU_ADDRESS_MAX + 1]; };
	};
	int category_id;
	int product_id;
	int qty;
	int status;
	int new_lang;			/* set_language: the chosen language index */
	unsigned n_orders;
	unsigned orders_offset;		/* the orders list: how many newer orders come before this page */
	/* The basket: product and quantity of each line; prices are today's, from the catalogue.
	 * Packed: six bytes a line instead of eight. */
	struct __attribute__((packed)) menu_basket_line { int32_t product_id; int16_t qty; } basket[MENU_BASKET_MAX];
	char input[33];			/* what the last `store: input` screen took, as typed (at most 32) */
	union {				/* never needed at once: the PIN is wiped before a slip exists */
		char pin[17];		/* a voucher PIN, kept out of input and wiped after use */
		char slip[24];		/* grouped in fours */
	};
	char expiry[12];
	uint8_t n_history;
	bool orders_more;		/* the orders list: older orders follow this page */
	int8_t method;			/* enum menu_method, -1: not paid */
	uint8_t n_basket;
	int8_t line;			/* the basket line chosen, -1: none */
};

enum menu_state { MENU_CON, MENU_END, MENU_PENDING };

/* One session's walk through one menu. */
struct menu_run {
	const struct menu *menu;
	const struct menu_screen *screen;
	const struct menu_screen *picked_from;	/* the list the last item was chosen on ... */
	const struct menu_limits *budget;	/* NULL: 182 septets / 80 UCS-2 */
	const char *name;		/* {name} and the greeting: the customer's (crm.h keeps it), NULL: none */
	/* The home screen's lines: what crm.h keeps of the customer, NULL: none (the caller sets it
	 * after menu_start_customer(), as it keeps the name: the record is the customer's) */
	const struct crm_home *home;
	struct menu_vars v;
	int lang;
	unsigned page;
	unsigned picked_page;			/* ... and its page: "back" returns there */
	enum menu_action pending;	/* valid when the last call returned MENU_PENDING */
	unsigned screens_visited;	/* for the timeline */
	bool show_error;
	bool lint;			/* render worst-case values (the linter) */
	uint8_t n_trail;		/* screens visited (capped), as indexes into menu->screens: */
	uint8_t trail[32];		/* a session's memory is what bounds how many can be live */
};

enum menu_state menu_start(struct menu_run *r, const struct menu *m, int lang);
/* menu_start_customer() on the screen first (NULL: the menu's start): a long code's (menu.h). */
enum menu_state menu_start_at(struct menu_run *r, const struct menu *m, int lang, const char *name,
			      const struct menu_screen *first);
/* Whether the input screen s takes in as an answer (its length and pattern). */
bool menu_accepts(const struct menu_screen *s, const char *in);
/* menu_start() for a known customer: their name greets them on the start screen (name "" or
 * NULL: no greeting, the screen as it is); ask: start on the menu's ask-name screen, if it has one. */
enum menu_state menu_start_customer(struct menu_run *r, const struct menu *m, int lang, const char *name, bool ask);
/* Feed one input (one '*'-separated part of the text). Not while PENDING. */
enum menu_state menu_input(struct menu_run *r, const char *in, size_t len);
/* The pending action finished with this outcome (the caller filled r->v as the action defines). */
enum menu_state menu_action_done(struct menu_run *r, enum menu_outcome outcome);
/* Renders the current screen into buf (NUL-terminated, no CON/END prefix); returns its length. */
int menu_render(struct menu_run *r, char *buf, size_t len);
/* The screens visited, space separated, for the timeline. */
void menu_trail(const struct menu_run *r, char *buf, size_t len);
/* The menu's polite END for failures, in the session's language. */
int menu_render_error(const struct menu_run *r, char *buf, size_t len);
int menu_render_slow(const struct menu_run *r, char *buf, size_t len);
/* Cuts an order's lines ("2x Bread, 1x Milk, ...") to what {items} may take on a screen. */
void menu_items_cut(char *s);
/* Proves every screen of m fits in every language with worst-case values; messages to stderr. */
int menu_lint(const struct menu *m, const struct menu_limits *lim, const char *file);
