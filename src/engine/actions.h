#pragma once
/* Actions: what a screen does when it is entered (menu_nodes.def's ACTION table) — create an
 * order, list or find orders, store the language, pay — run for one customer against the
 * domain, the outcome reported by callback. The caller (the session) sequences; this room does,
 * and knows nothing of sessions, hops or replies. */
#include <stdbool.h>
#include <stdint.h>
#include "menu.h"

struct customer;

struct actions_req {
	/* The call's talloc parent: the caller, who stays allocated until the callback came (so a
	 * call still due when the caller is freed at shutdown goes with it). */
	void *ctx;
	enum menu_action action;
	struct customer *cust;
	/* Names the input that started the action ("at:<session id>:<dialogue id>:<input index>",
	 * the dialogue id ours, see session_fsm.c): every write carries it (plus a suffix per
	 * kind), so the same input replayed finds the first result, and only that dialogue's. */
	const char *key;
	/* What the screens gathered. actions_run() wipes a voucher PIN in it before it returns;
	 * the results come back in the callback's own copy, as the action defines. */
	struct menu_vars *v;
	const struct menu *menu;		/* SET_LANGUAGE: its languages */
	const struct menu_screen *screen;	/* the screen whose action it is (LOAD_ORDERS: max-items) */
	bool went_on;		/* FIND_ORDER: the history goes on past this screen (a replay) */
	const char *front, *peer;	/* PAY_VOUCHER: where a failed PIN came from (pin_budget.h) */
};

struct actions_result {
	/* What the screen goes on with. MENU_OUTCOME_ERROR: the database failed or answered
	 * nothing we know: the screen's on: error if it has one, else the polite END. */
	enum menu_outcome outcome;
	bool fatal;		/* the polite END even where the screen has an on: error (no PIN key) */
	/* The key names another request's order or payment (dialogues:key-conflicts): the
	 * dialogue ends on a screen that says nothing was done, never on that result. */
	bool conflict;
	/* Voucher entry is paused for everyone (pin_budget.h): a screen that says so. */
	bool paused;
	/* The outcome reaches the customer by the order's own notification (placed, paid): a
	 * customer told "we'll SMS you" needs no second SMS for it. */
	bool notified;
	int64_t order_created;	/* the order this action created, 0: none (for the timeline) */
	const struct menu_vars *v;	/* the request's values with the action's results */
};

/* Called exactly once per actions_run(), possibly before it returns (a PIN refused by its check
 * digit needs no database). The result lives only during the call. */
typedef void (*actions_cb)(void *priv, const struct actions_result *r);

void actions_run(const struct actions_req *req, actions_cb cb, void *priv);
/* Writes that change what the customer has (an order, a payment) may still commit after the
 * hop's deadline: the customer is told the result follows by SMS rather than that it failed. */
bool actions_may_commit(enum menu_action a);
/* Payments and repayments: money moved on an order already placed, no stock taken, so they may
 * go on a database connection of their own (db_partition_money()). */
bool actions_is_payment(enum menu_action a);
