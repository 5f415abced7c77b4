/* The session FSM on a fake clock, with the real menu engine on the shipped menus and link-time
 * fakes for what would need a database (actions, the customer lookup, the timeline, promised
 * SMS): a session idle past the idle timeout ends as timeout, and hops closer together keep it
 * alive; a hop past its deadline gets "we'll SMS you" while an order is in flight (the outcome
 * then by SMS) and the polite END otherwise; a repeated hop is answered from memory with no
 * second effect; an ended session answers repeats for 10 s, and after that the same hop is
 * replayed from the start with the same idempotency keys; a session left for a newer dial, or
 * aborted by the network, is abandoned. A session is its phone's: a hop with its id from another
 * number is refused; a recycled session id begins a new dialogue with keys of its own; a key
 * that names another request ends the dialogue on a conflict screen; no PIN digit stays in a
 * session's memory once its payment started. Nothing sleeps: time moves by libosmocore's clock
 * override. */
#define _GNU_SOURCE	/* memmem */
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include <osmocom/core/timer.h>
#include "actions.h"
#include "catalog.h"
#include "cfg.h"
#include "crm.h"
#include "dialogue.h"
#include "logging.h"
#include "longcode.h"
#include "menu.h"
#include "session.h"
#include "sms_promise.h"
#include "stats.h"
#include "timeline.h"
#include "testlib.h"

#define CODE "*120*777#"
#define DEADLINE_MS 1500	/* sub-second part: libosmocore 1.7 would take it for microseconds */
#define IDLE_S 60
#define LINGER_S 10
#define PIN "4000000000000002"

/* ---- the fakes ---- */

/* The action in flight: held until the test answers it, as a slow database would. */
static struct {
	unsigned runs;
	enum menu_action action;
	char key[160];
	bool went_on;
	actions_cb cb;
	void *priv;
	struct menu_vars v;
} act;

bool actions_may_commit(enum menu_action a)
{
	return a == MENU_ACTION_CREATE_ORDER || a == MENU_ACTION_PAY_VOUCHER || a == MENU_ACTION_PAY_CREDIT ||
	       a == MENU_ACTION_CREATE_SLIP || a == MENU_ACTION_CHECKOUT || a == MENU_ACTION_PLACE_ORDER ||
	       a == MENU_ACTION_CANCEL_ORDER;
}

bool actions_is_payment(enum menu_action a)
{
	return a == MENU_ACTION_PAY_VOUCHER || a == MENU_ACTION_PAY_CREDIT || a == MENU_ACTION_CREATE_SLIP;
}

void actions_run(const struct actions_req *req, actions_cb cb, void *priv)
{
	act.runs++;
	if (req->action == MENU_ACTION_PAY_VOUCHER)	/* as actions.c promises */
		explicit_bzero(req->v->pin, sizeof(req->v->pin));
	act.action = req->action;
	snprintf(act.key, sizeof(act.key), "%s", req->key);
	act.went_on = req->went_on;
	act.cb = cb;
	act.priv = priv;
	act.v = *req->v;
}

/* The held action answers: order is the order it created or found (0: none). */
static void act_answer(enum menu_outcome oc, int64_t order, bool notified)
{
	struct actions_result r = { .outcome = oc, .notified = notified, .v = &act.v };
	if (order) {
		act.v.order_id = order;
		act.v.total_cents = 5598;
		r.order_created = act.action == MENU_ACTION_CREATE_ORDER || act.action == MENU_ACTION_PLACE_ORDER ||
				  act.action == MENU_ACTION_CHECKOUT ? order : 0;
	}
	act.v.remainder_cents = 4402;
	actions_cb cb = act.cb;
	act.cb = NULL;
	cb(act.priv, &r);
}

/* The key named another request's order or payment. */
static void act_conflict(void)
{
	struct actions_result r = { .outcome = MENU_OUTCOME_ERROR, .conflict = true, .v = &act.v };
	actions_cb cb = act.cb;
	act.cb = NULL;
	cb(act.priv, &r);
}

/* The dialogue rows "in the database": ids counted up, found again by session id and number. */
static struct dlg_row {
	char ref[32], msisdn[17], id[DIALOGUE_ID_LEN + 1];
	char partition[17];	/* whose database connection it was queued on */
} dialogues[64];
static unsigned n_dialogues;
/* lazy_held: the next lazy row's commit is held back (one at a time) until lazy_commit() */
static bool lazy_held;
static void (*held_cb)(void *priv, int err);
static void *held_priv;

/* db.c's partitions: the phone number whose connection what is queued now goes on ("$" and the
 * number: its payments' connection); each call saves the one it replaces, as db.c's does */
static char partition[17];
static char partition_saved[16][17];
static int partition_depth;

static int partition_push(const char *prefix, const char *msisdn)
{
	OSMO_ASSERT(partition_depth < 16);
	memcpy(partition_saved[partition_depth], partition, sizeof(partition));
	snprintf(partition, sizeof(partition), "%s%s", prefix, msisdn);
	return partition_depth++;
}

int db_partition_set(const char *msisdn)
{
	return partition_push("", msisdn);
}

int db_partition_money(const char *msisdn)
{
	return partition_push("$", msisdn);
}

void db_partition_restore(int outer)
{
	memcpy(partition, partition_saved[outer], sizeof(partition));
	partition_depth = outer;
}

void dialogue_new_id(char *id)
{
	static unsigned next;
	snprintf(id, DIALOGUE_ID_LEN + 1, "%016x", ++next);
}

void dialogue_store(const char *channel, const char *ref, const char *msisdn, const char *id, bool lazy,
		    void (*cb)(void *priv, int err), void *priv)
{
	struct dlg_row *d = &dialogues[n_dialogues++ % 64];
	snprintf(d->ref, sizeof(d->ref), "%s", ref);
	snprintf(d->msisdn, sizeof(d->msisdn), "%s", msisdn);
	snprintf(d->id, sizeof(d->id), "%s", id);
	snprintf(d->partition, sizeof(d->partition), "%s", lazy ? "lazy" : partition);
	if (lazy && lazy_held) {	/* the lazy connection has not committed it yet */
		held_cb = cb;
		held_priv = priv;
		return;
	}
	cb(priv, 0);
}

/* The lazy connection's commit of the row held back above, now. */
static void lazy_commit(void)
{
	void (*cb)(void *, int) = held_cb;
	held_cb = NULL;
	lazy_held = false;
	if (cb)
		cb(held_priv, 0);
}

static const char *dialogue_of(const char *ref, const char *msisdn)
{
	for (unsigned i = n_dialogues; i-- > 0;)
		if (!strcmp(dialogues[i % 64].ref, ref) && !strcmp(dialogues[i % 64].msisdn, msisdn))
			return dialogues[i % 64].id;
	return NULL;
}

void dialogue_find(const char *channel, const char *ref, const char *msisdn,
		   void (*cb)(void *priv, const char *id, int err), void *priv)
{
	cb(priv, dialogue_of(ref, msisdn), 0);
}

/* The key an action of dialogue (ref, msisdn) gets at input n. */
static const char *key_of(const char *ref, const char *msisdn, unsigned n, const char *suffix)
{
	static char key[160];
	const char *d = dialogue_of(ref, msisdn);
	snprintf(key, sizeof(key), "at:%s:%s:%u%s", ref, d ? d : "?", n, suffix);
	return key;
}

static struct customer customers[32];

void crm_put(struct customer *c)
{
	c->users--;
}

struct db_req *crm_get(const char *msisdn, crm_cb cb, void *priv)
{
	unsigned i = 0;
	while (customers[i].id && strcmp(customers[i].msisdn, msisdn))
		i++;
	if (!customers[i].id) {
		customers[i].id = i + 1;
		snprintf(customers[i].msisdn, sizeof(customers[i].msisdn), "%s", msisdn);
		snprintf(customers[i].lang, sizeof(customers[i].lang), "en");
	}
	customers[i].users++;
	cb(priv, &customers[i], 0);	/* as when cached */
	return NULL;
}

/* longcode.h: *120*777*55# is a started campaign's code; a lookup that asks what digits are
 * is held until the test answers it, as the database would be; how many were asked. */
static struct {
	unsigned asked;
	char digits[16];
	longcode_cb cb;
	void *priv;
	struct customer *c;
} lc;

bool longcode_campaign(const char *code)
{
	return !strcmp(code, "*120*777*55#");
}

static void lc_customer(void *priv, struct customer *c, int err)
{
	lc.c = c;
}

void longcode_resolve(const char *msisdn, const char *digits, longcode_cb cb, void *priv)
{
	lc.asked++;
	snprintf(lc.digits, sizeof(lc.digits), "%s", digits);
	lc.cb = cb;
	lc.priv = priv;
	crm_get(msisdn, lc_customer, NULL);
}

static void lc_answer(bool referral)
{
	longcode_cb cb = lc.cb;
	lc.cb = NULL;
	cb(lc.priv, lc.c, referral, 0);
}

/* The timeline's rows: the last one per session id. */
static struct tl_row {
	char ref[32], outcome[16], screens[128], lang[8], version[40];
	unsigned hops;
	int64_t order_id;
} rows[32];
static unsigned n_rows;
static const struct tl_row no_row = { .outcome = "(none)" };

void timeline_session_add(const struct timeline_session *row)
{
	struct tl_row *r = &rows[n_rows++ % 32];
	snprintf(r->ref, sizeof(r->ref), "%s", row->ref);
	snprintf(r->outcome, sizeof(r->outcome), "%s", row->outcome);
	snprintf(r->screens, sizeof(r->screens), "%s", row->screens);
	snprintf(r->lang, sizeof(r->lang), "%s", row->lang);
	snprintf(r->version, sizeof(r->version), "%s", row->menu_version ? row->menu_version : "(none)");
	r->hops = row->hops;
	r->order_id = row->order_id;
}

static const struct tl_row *timeline_of(const char *ref)
{
	for (unsigned i = n_rows; i-- > 0;)
		if (!strcmp(rows[i % 32].ref, ref))
			return &rows[i % 32];
	return &no_row;
}

static const char *outcome_of(const char *ref)
{
	return timeline_of(ref)->outcome;
}

static struct {
	unsigned n;
	char key[160], text[MENU_SCREEN_BYTES + 1];
} promise;

void sms_promise_queue(int64_t customer_id, const char *key, const char *text)
{
	promise.n++;
	snprintf(promise.key, sizeof(promise.key), "%s", key);
	snprintf(promise.text, sizeof(promise.text), "%s", text);
}

/* ---- driving it ---- */

static char answer[MENU_SCREEN_BYTES + 8];
static unsigned n_answers;

static void on_reply(void *priv, bool end, const char *screen, size_t len)
{
	snprintf(answer, sizeof(answer), "%s %.*s", end ? "END" : "CON", (int)len, screen);
	n_answers++;
}

/* One aggregator hop; its answer, or "" when none came (yet). */
static const char *hop_op(const char *ref, const char *msisdn, enum session_op op, const char *text)
{
	struct session_hop h = { .ch = SESSION_CH_AT, .ref = ref, .msisdn = msisdn, .service_code = CODE,
				 .op = op, .text = text, .reply = on_reply };
	answer[0] = '\0';
	session_hop(&h);
	return answer;
}

static const char *hop(const char *ref, const char *msisdn, const char *text)
{
	return hop_op(ref, msisdn, SESSION_OP_HISTORY, text);
}

/* An aggregator hop on another service code (a long code) */
static const char *hop_code(const char *ref, const char *msisdn, const char *code, const char *text)
{
	struct session_hop h = { .ch = SESSION_CH_AT, .ref = ref, .msisdn = msisdn, .service_code = code,
				 .op = SESSION_OP_HISTORY, .text = text, .reply = on_reply };
	answer[0] = '\0';
	session_hop(&h);
	return answer;
}

/* libosmocore 1.7's timers read osmo_gettimeofday(); later ones the monotonic clock: both move. */
static void advance_ms(unsigned ms)
{
	osmo_gettimeofday_override_add(ms / 1000, (ms % 1000) * 1000);
	osmo_clock_override_add(CLOCK_MONOTONIC, ms / 1000, (ms % 1000) * 1000000L);
	osmo_timers_prepare();
	osmo_timers_update();
}

static char state[16];

static void state_cb(const struct session_info *si, void *priv)
{
	if (!strcmp(si->ref, priv))
		snprintf(state, sizeof(state), "%s", si->state);
}

static const char *state_of(const char *ref)
{
	snprintf(state, sizeof(state), "(gone)");
	session_foreach(state_cb, (void *)ref);
	return state;
}

/* ---- what it proves ---- */

static void test_idle(void)
{
	hop("idle-1", "+27820000001", "");
	T_EQ_STR(hop("idle-1", "+27820000001", "1"), "CON Categories\n1. Groceries\n2. Drinks\n0. Back",
		 "idle: the second hop shows the categories");
	T_EQ_STR(state_of("idle-1"), "WAIT", "idle: a session answered CON waits for the customer");
	advance_ms(IDLE_S * 1000 - 1);
	T_EQ_STR(outcome_of("idle-1"), "(none)", "idle: not ended a millisecond before the idle timeout");
	advance_ms(1);
	T_EQ_STR(outcome_of("idle-1"), "timeout", "idle: ended with outcome timeout at the idle timeout");
	T_EQ_INT(timeline_of("idle-1")->hops, 2, "idle: the timed-out session keeps its hops");
	T_EQ_STR(timeline_of("idle-1")->screens, "main categories", "idle: ... and its screens");
	T_EQ_STR(timeline_of("idle-1")->lang, "en", "idle: ... the language they were shown in");
	T_EQ_STR(timeline_of("idle-1")->version, menu_set_find(session_menus(), CODE)->version,
		 "idle: ... and the version of the menu it walked");
	T_EQ_STR(hop("idle-1", "+27820000001", "1*1"), "END Your session has ended. Please dial again.",
		 "idle: a hop after it idled out on a question hears that it ended");

	/* hops closer together than the idle timeout keep a session alive past it */
	hop("idle-2", "+27820000002", "");
	const char *texts[] = { "1", "1*2", "1*2*0" };
	for (unsigned i = 0; i < 3; i++) {
		advance_ms(IDLE_S * 1000 * 2 / 3);
		hop("idle-2", "+27820000002", texts[i]);
	}
	advance_ms(IDLE_S * 1000 * 2 / 3);
	T_EQ_STR(hop("idle-2", "+27820000002", "1*2*0*2"), "CON Drinks (1/1)\n1. Coke 2L R27.99\n0. Back",
		 "idle: a hop every 2/3 of the idle timeout keeps the session alive past 2.5 of them");
	T_EQ_STR(outcome_of("idle-2"), "(none)", "idle: ... and it is not on the timeline");
	advance_ms(IDLE_S * 1000);
}

static void test_deadline(void)
{
	/* an order in flight past the deadline: "we'll SMS you", and the order decides the outcome */
	hop("slow-1", "+27820000003", "");
	n_answers = 0;
	T_EQ_STR(hop("slow-1", "+27820000003", "1*2*1*1*2*1"), "", "deadline: an order waiting on the database is not answered yet");
	T_EQ_INT(act.action, MENU_ACTION_PLACE_ORDER, "deadline: the confirmation created an order");
	T_EQ_STR(act.key, key_of("slow-1", "+27820000003", 6, ""), "deadline: ... keyed by the session, its dialogue and the input that confirmed");
	advance_ms(DEADLINE_MS - 1);
	T_EQ_INT(n_answers, 0, "deadline: no answer a millisecond before the hop deadline (milliseconds, not microseconds)");
	advance_ms(1);
	T_EQ_STR(answer, "END This is taking longer than usual. We will SMS you the result.",
		 "deadline: at the deadline, with an order in flight, the customer is told the result follows by SMS");
	T_EQ_STR(state_of("slow-1"), "SLOW", "deadline: ... and the session waits on the order");
	T_EQ_STR(hop("slow-1", "+27820000003", "1*2*1*1*2*1"), "END This is taking longer than usual. We will SMS you the result.",
		 "deadline: the hop sent again meanwhile hears the same");
	T_EQ_INT(act.runs, 1, "deadline: ... and orders nothing more");
	unsigned promised = promise.n;
	act_answer(MENU_OUTCOME_OK, 1042, true);
	T_EQ_STR(outcome_of("slow-1"), "completed", "deadline: the order placed late completes the session");
	T_EQ_INT(timeline_of("slow-1")->order_id, 1042, "deadline: ... with its order on the timeline");
	T_EQ_INT(promise.n, promised, "deadline: a placed order's own notification is the SMS: no second one");

	/* sold out, found late: that outcome is the promised SMS */
	hop("slow-2", "+27820000004", "");
	hop("slow-2", "+27820000004", "1*2*1*1*2*1");
	advance_ms(DEADLINE_MS);
	act_answer(MENU_OUTCOME_OUT_OF_STOCK, 0, false);
	T_EQ_INT(promise.n, promised + 1, "deadline: an outcome no notification tells is sent as the promised SMS");
	T_EQ_STR(promise.text, "Sorry, Coke 2L is out of stock.", "deadline: ... with the screen it would have shown");
	T_EQ_STR(promise.key, key_of("slow-2", "+27820000004", 6, ":sms"), "deadline: ... keyed by the hop, so it is queued once");

	/* before the catalogue is read (just after a start), a first hop waits for it: no screen of
	 * empty categories, and a history replayed after a restart walks the screens typed */
	struct catalog *cat = g_catalog;
	g_catalog = NULL;
	T_EQ_STR(hop("cat-0", "+27820000096", "1*2*1*1*2*1"), "",
		 "catalogue: a replayed history before the catalogue is read waits for it");
	advance_ms(50);
	T_EQ_STR(answer, "", "catalogue: ... as long as it is not read");
	g_catalog = cat;
	advance_ms(50);
	T_EQ_STR(act.key, key_of("cat-0", "+27820000096", 6, ""),
		 "catalogue: once it is read, the history runs on it, to the order it typed");
	act_answer(MENU_OUTCOME_OK, 1380, true);
	T_EQ_STR(answer, "END Order #1380 placed. Pay via option 3.", "catalogue: ... and is answered");
	g_catalog = NULL;
	T_EQ_STR(hop("cat-1", "+27820000097", ""), "", "catalogue: a first dial waits too");
	advance_ms(DEADLINE_MS);
	T_EQ_STR(answer, "END Sorry, we could not do that right now. Please try again later.",
		 "catalogue: ... until the hop deadline, then the polite END");
	n_answers = 0;
	g_catalog = cat;
	advance_ms(50);
	T_EQ_INT(n_answers, 0, "catalogue: ... and the catalogue arriving afterwards answers nobody");

	/* a read past the deadline: nothing can have changed, so the polite END at once */
	hop("slow-3", "+27820000005", "");
	hop("slow-3", "+27820000005", "2");
	advance_ms(DEADLINE_MS);
	T_EQ_STR(answer, "END Sorry, we could not do that right now. Please try again later.",
		 "deadline: a list of orders not ready by the deadline gets the polite END");
	T_EQ_STR(outcome_of("slow-3"), "error", "deadline: ... and is on the timeline as an error");
	n_answers = 0;
	act_answer(MENU_OUTCOME_OK, 0, false);
	T_EQ_INT(n_answers, 0, "deadline: the list arriving afterwards answers nobody");
	advance_ms(LINGER_S * 1000);
	T_EQ_STR(state_of("slow-3"), "(gone)", "deadline: the session goes once its last callback came");
}

/* One dial string, three meanings (longcode.h): a plain dial and a campaign's code ask nothing
 * of the database beyond the customer; digits the referral screen would take are asked about in
 * the lookup, and a referral code starts on that screen with the digits as its answer, hops
 * queued meanwhile following; other digits pay, as before. */
static void test_long_code(void)
{
	const char *home = "CON Welcome to Spaza\n1. Browse\n2. My orders\n3. Pay\n4. Language\n5. Help\n6. Basket\n7. My account";
	T_EQ_STR(hop("lc-1", "+27820000041", ""), home, "long code: the plain code opens the home screen");
	T_EQ_INT(lc.asked, 0, "long code: ... asking nothing of the digits' meaning");
	T_EQ_STR(hop_code("lc-2", "+27820000041", "*120*777*55#", ""), home,
		 "long code: a started campaign's dial code opens the home screen");
	T_EQ_INT(lc.asked, 0, "long code: ... from memory, asking nothing");
	T_EQ_STR(hop_code("lc-2", "+27820000041", "*120*777*55#", "1"), "CON Categories\n1. Groceries\n2. Drinks\n0. Back",
		 "long code: ... and goes on as after the plain code");
	hop_code("lc-3", "+27820000041", "*120*777*1042#", "");
	T_EQ_INT(act.action, MENU_ACTION_FIND_ORDER, "long code: digits no referral code has (4 of them) look the order up");
	T_EQ_STR(act.v.input, "1042", "long code: ... the order typed after 3 (Pay)");
	T_EQ_INT(lc.asked, 0, "long code: ... with nothing asked first");
	act_answer(MENU_OUTCOME_NOT_FOUND, 0, false);

	/* six digits: asked with the customer; a referral code, with a hop queued behind the first */
	n_answers = 0;
	hop_code("lc-4", "+27820000042", "*120*777*123456#", "");
	T_EQ_INT(lc.asked, 1, "long code: six digits are asked about, once, with the customer lookup");
	T_EQ_STR(lc.digits, "123456", "long code: ... the digits dialled");
	T_EQ_INT(n_answers, 0, "long code: ... and nothing is answered before the database is");
	hop_code("lc-4", "+27820000042", "*120*777*123456#", "1");
	lc_answer(true);
	T_EQ_INT(act.action, MENU_ACTION_ENTER_REFERRAL, "long code: a referral code is entered for the caller");
	T_EQ_STR(act.v.input, "123456", "long code: ... the digits dialled");
	act_answer(MENU_OUTCOME_OK, 0, false);
	T_EQ_INT(n_answers, 2, "long code: both hops are answered once the code is in");
	T_EQ_STR(answer, home, "long code: ... the one queued behind the first from the outcome (1. Continue): home");

	/* six digits that are no referral code (the caller's order, or nothing): pay, as before */
	hop_code("lc-5", "+27820000043", "*120*777*654321#", "");
	lc_answer(false);
	T_EQ_INT(act.action, MENU_ACTION_FIND_ORDER, "long code: six digits that are not a referral code look the order up");
	T_EQ_STR(act.v.input, "654321", "long code: ... the digits dialled");
	act_answer(MENU_OUTCOME_NOT_FOUND, 0, false);
	T_EQ_STR(answer, "END Order #654321 not found.", "long code: ... and say so when there is none of the caller's");
	T_EQ_INT(lc.asked, 2, "long code: two dials asked, the others nothing");

	advance_ms(IDLE_S * 1000);
	T_EQ_STR(timeline_of("lc-2")->screens, "main categories", "long code: a campaign dial's screens from the home screen");
	T_EQ_STR(timeline_of("lc-4")->screens, "dial_referral dial_referral_done main",
		 "long code: a referral dial's screens: the code's screen, its outcome, home");
	advance_ms(LINGER_S * 1000);
}

static void test_replay(void)
{
	hop("rep-1", "+27820000006", "");
	const char *confirm = "CON Order 2 x Coke 2L for R55.98?\n1. Confirm\n2. Cancel";
	T_EQ_STR(hop("rep-1", "+27820000006", "1*2*1*1*2"), confirm, "replay: the walk to the confirmation");
	n_answers = 0;
	T_EQ_STR(hop("rep-1", "+27820000006", "1*2*1*1*2"), confirm, "replay: a repeated hop gets the same answer");
	T_EQ_STR(hop("rep-1", "+27820000006", "3"), "CON Enter order number\n0. Back",
		 "replay: a history that does not extend what was answered is replayed from the start");
	hop("rep-1", "+27820000006", "3*1042");
	T_EQ_INT(act.action, MENU_ACTION_FIND_ORDER, "replay: the order number is looked up");
	T_EQ_INT(act.went_on, 0, "replay: ... as typed, not replayed");
	act_answer(MENU_OUTCOME_OK, 1042, false);
	T_EQ_STR(answer, "CON Pay R55.98 for order #1042 with:\n1. Voucher\n2. Credit\n3. Barcode slip\n4. Store credit\n5. Cash on delivery\n6. Points\n0. Back",
		 "replay: the order found is offered for payment");

	/* an ended session answers repeats from memory for 10 s */
	hop("rep-1", "+27820000006", "3*1042*1*" PIN);
	T_EQ_INT(act.action, MENU_ACTION_PAY_VOUCHER, "replay: the PIN pays by voucher");
	char key[160];
	snprintf(key, sizeof(key), "%s", act.key);
	act_answer(MENU_OUTCOME_OK, 1042, true);
	const char *paid = "END Paid. Order #1042 R55.98 paid by voucher. Left on the voucher: R44.02.";
	T_EQ_STR(answer, paid, "replay: the voucher paid the order");
	unsigned runs = act.runs;
	advance_ms(LINGER_S * 1000 - 1);
	T_EQ_STR(hop("rep-1", "+27820000006", "3*1042*1*" PIN), paid, "replay: the ended session answers the repeat from memory");
	T_EQ_INT(act.runs, runs, "replay: ... with no second payment");
	advance_ms(1);
	T_EQ_STR(state_of("rep-1"), "(gone)", "replay: after 10 s the ended session is gone from memory");

	/* the same hop once the session is gone (after a restart, say): replayed from the start, it
	 * finds the order paid and goes on to the payment, whose key gives back the first result */
	hop("rep-1", "+27820000006", "3*1042*1*" PIN);
	T_EQ_INT(act.action, MENU_ACTION_FIND_ORDER, "replay: the hop after that is replayed from the start");
	T_EQ_INT(act.went_on, 1, "replay: ... the lookup knowing the history went on past it");
	act.v.status = ORDER_STATUS_PAID;
	act_answer(MENU_OUTCOME_OK, 1042, false);
	T_EQ_INT(act.action, MENU_ACTION_PAY_VOUCHER, "replay: ... and goes on to the payment");
	T_EQ_STR(act.key, key, "replay: ... with the first payment's idempotency key");
	act_answer(MENU_OUTCOME_OK, 1042, true);
	T_EQ_STR(answer, paid, "replay: ... and shows the first result");
	advance_ms(LINGER_S * 1000);
}

static void test_abandon(void)
{
	hop("ab-1", "+27820000007", "");
	hop("ab-1", "+27820000007", "3");
	hop("ab-2", "+27820000007", "");
	T_EQ_STR(hop("ab-2", "+27820000007", "5*3"), "END Spaza help: call 0800 555 123 (free) or SMS HELP to 31555.",
		 "abandon: a new dial of the same customer is served while the old session hangs");
	T_EQ_STR(outcome_of("ab-1"), "(none)", "abandon: the old session is not cut short");
	advance_ms(IDLE_S * 1000);
	T_EQ_STR(outcome_of("ab-1"), "abandoned", "abandon: left for a newer dial, it idles out as abandoned");
	T_EQ_STR(timeline_of("ab-1")->screens, "main pay_order", "abandon: ... with its screens");

	hop("ab-3", "+27820000008", "");
	hop("ab-3", "+27820000008", "1");
	hop_op("ab-3", "+27820000008", SESSION_OP_ABORT, "");
	T_EQ_STR(outcome_of("ab-3"), "abandoned", "abandon: a session the network aborts is abandoned at once");
	advance_ms(LINGER_S * 1000);
}

static void test_bind(void)
{
	const char *victim = "+27820000011", *other = "+27820000012";
	hop("bind-1", victim, "");
	hop("bind-1", victim, "1");
	unsigned runs = act.runs;
	T_EQ_STR(hop("bind-1", other, "1*2*1*1*2*1"), "END This session belongs to another phone. Please dial again.",
		 "bind: a hop with a live session's id from another number is refused with a short END");
	T_EQ_INT(act.runs, runs, "bind: ... and runs nothing for the session's customer");
	T_EQ_STR(hop("bind-1", other, ""), "END This session belongs to another phone. Please dial again.",
		 "bind: ... and cannot begin the session anew either");
	T_EQ_INT(rate_ctr_group_get_ctr(g_ctrs, CTR_SESS_WRONG_PHONE)->current, 2, "bind: both counted in sessions:wrong-phone");
	T_EQ_STR(hop("bind-1", victim, "1*2"), "CON Drinks (1/1)\n1. Coke 2L R27.99\n0. Back",
		 "bind: the session's own phone goes on undisturbed");
	hop_op("bind-1", other, SESSION_OP_ABORT, "");
	T_EQ_STR(state_of("bind-1"), "WAIT", "bind: an abort from another number does not end it");
	hop_op("bind-1", victim, SESSION_OP_ABORT, "");
	advance_ms(LINGER_S * 1000);
}

static void test_recycled(void)
{
	const char *p = "+27820000013";
	char first[160];
	hop("cyc-1", p, "");
	hop("cyc-1", p, "1*2*1*1*2*1");
	snprintf(first, sizeof(first), "%s", act.key);
	act_answer(MENU_OUTCOME_OK, 1369, true);
	T_EQ_STR(answer, "END Order #1369 placed. Pay via option 3.", "recycled: the first dialogue orders");

	/* the network gives the same session id to the customer's next dial, while the first still
	 * lingers and after it is gone: each is a new dialogue, with keys of its own */
	hop("cyc-1", p, "");
	T_EQ_STR(hop("cyc-1", p, "1*2*1*1*2*1"), "", "recycled: a new dialogue on the same id orders anew");
	T_CHECK(strcmp(act.key, first) != 0, "recycled: ... under a key of its own, not the first dialogue's",
		"both are \"%s\"", first);
	T_EQ_STR(act.key, key_of("cyc-1", p, 6, ""), "recycled: ... its new dialogue's");
	act_conflict();
	T_EQ_STR(answer, "END We could not match this to your session. Nothing was done. Please dial again.",
		 "recycled: a key that names another request's order ends on the conflict screen, not that order");
	T_EQ_STR(outcome_of("cyc-1"), "error", "recycled: ... as an error on the timeline");
	advance_ms(LINGER_S * 1000);
	hop("cyc-1", p, "");
	hop("cyc-1", p, "1*2*1*1*2*1");
	T_CHECK(strcmp(act.key, first) != 0, "recycled: the id reused after the first dialogue left memory: a key of its own too",
		"both are \"%s\"", first);
	act_answer(MENU_OUTCOME_OK, 1370, true);
	advance_ms(LINGER_S * 1000);

	/* a dialogue met first mid-way (we restarted before it wrote anything): no row to find, so
	 * a new id, stored before its order, so that its replay after another restart finds it */
	hop("cyc-2", p, "1*2*1*1*2*1");
	T_CHECK(dialogue_of("cyc-2", p) != NULL, "recycled: a dialogue met mid-way with no row gets one stored before its order",
		"no row");
	T_EQ_STR(act.key, key_of("cyc-2", p, 6, ""), "recycled: ... and its order is keyed by it");
	act_answer(MENU_OUTCOME_OK, 1371, true);
	advance_ms(LINGER_S * 1000);

	/* a new dialogue's row goes on the lazy connection; one that orders before that row
	 * committed queues it again on its own connection, before the order */
	unsigned dlg0 = n_dialogues;
	lazy_held = true;
	hop("cyc-3", p, "");
	T_EQ_STR(dialogues[dlg0 % 64].partition, "lazy", "dialogue row: a new dialogue's on the lazy connection");
	hop("cyc-3", p, "1*2*1*1*2*1");
	T_CHECK(n_dialogues == dlg0 + 2 && !strcmp(dialogues[(dlg0 + 1) % 64].partition, p),
		"dialogue row: ordering before the lazy row committed stores it again on the customer's connection",
		"%u rows, the last on \"%s\"", n_dialogues - dlg0, dialogues[(dlg0 + 1) % 64].partition);
	T_EQ_STR(act.key, key_of("cyc-3", p, 6, ""), "dialogue row: ... under the same dialogue id");
	act_answer(MENU_OUTCOME_OK, 1372, true);
	lazy_commit();
	hop("cyc-4", p, "");
	hop("cyc-4", p, "1*2*1*1*2*1");
	T_EQ_INT(n_dialogues, dlg0 + 3, "dialogue row: once the lazy row committed, an order stores none again");
	act_answer(MENU_OUTCOME_OK, 1373, true);
	advance_ms(LINGER_S * 1000);

	/* a payment goes on a payments' connection: a dialogue that pays before its lazy row
	 * committed stores it again there, in front of the payment, not on the customer's */
	char money[20];
	snprintf(money, sizeof(money), "$%s", p);
	lazy_held = true;
	hop("cyc-5", p, "");
	hop("cyc-5", p, "3*1042");
	act_answer(MENU_OUTCOME_OK, 1042, false);
	unsigned dlg5 = n_dialogues;
	hop("cyc-5", p, "3*1042*1*" PIN);
	T_EQ_INT(act.action, MENU_ACTION_PAY_VOUCHER, "dialogue row: the PIN pays by voucher");
	T_CHECK(n_dialogues == dlg5 + 1 && !strcmp(dialogues[dlg5 % 64].partition, money),
		"dialogue row: paying before the lazy row committed stores it again on the payment's connection",
		"%u rows, the last on \"%s\"", n_dialogues - dlg5, dialogues[(n_dialogues - 1) % 64].partition);
	act_answer(MENU_OUTCOME_OK, 1042, true);
	lazy_commit();
	advance_ms(LINGER_S * 1000);
}

/* Every block of memory under ctx, searched for the PIN's digits. */
static unsigned pin_found;

static void pin_scan(const void *ptr, int depth, int max_depth, int is_ref, void *priv)
{
	size_t n = talloc_get_size(ptr);
	if (!is_ref && n >= strlen(PIN) && memmem(ptr, n, PIN, strlen(PIN)))
		pin_found++;
}

static unsigned pin_blocks(void *ctx)
{
	pin_found = 0;
	talloc_report_depth_cb(ctx, 0, -1, pin_scan, NULL);
	return pin_found;
}

static void test_pin_wiped(void *ctx)
{
	const char *p = "+27820000014";
	hop("pin-1", p, "");
	hop("pin-1", p, "3*1042");
	act_answer(MENU_OUTCOME_OK, 1042, false);
	T_EQ_INT(pin_blocks(ctx), 0, "pin: no PIN in memory before it is typed (the scan works on clean memory)");
	hop("pin-1", p, "3*1042*1*" PIN);
	T_EQ_INT(act.action, MENU_ACTION_PAY_VOUCHER, "pin: the PIN pays by voucher");
	T_EQ_INT(pin_blocks(ctx), 0, "pin: while the payment runs, no session memory holds the PIN's digits");
	act_answer(MENU_OUTCOME_OK, 1042, true);
	T_EQ_INT(pin_blocks(ctx), 0, "pin: after the payment hop, the history holds a mask, not the PIN");
	unsigned runs = act.runs;
	T_EQ_STR(hop("pin-1", p, "3*1042*1*" PIN), "END Paid. Order #1042 R55.98 paid by voucher. Left on the voucher: R44.02.",
		 "pin: the paying hop repeated is answered from memory");
	T_EQ_INT(act.runs, runs, "pin: ... with no second payment");
	T_EQ_INT(pin_blocks(ctx), 0, "pin: ... and leaves no PIN behind either");
	advance_ms(LINGER_S * 1000);
}

int main(void)
{
	void *ctx = talloc_named_const(NULL, 0, "session_test");
	setvbuf(stdout, NULL, _IOLBF, 0);	/* a crash keeps the lines before it */
	spaza_logging_init(ctx);
	cfg_init(ctx);
	g_cfg->idle_timeout_s = IDLE_S;
	g_cfg->hop_deadline_ms = DEADLINE_MS;
	stats_init(ctx);
	osmo_gettimeofday_override = true;
	osmo_clock_override_enable(CLOCK_MONOTONIC, true);

	struct catalog *c = catalog_alloc(ctx, 2, 2);
	c->categories[0] = (struct catalog_category){ .id = 1, .name = (char *)"Groceries" };
	c->categories[1] = (struct catalog_category){ .id = 2, .name = (char *)"Drinks" };
	c->products[0] = (struct catalog_product){ .id = 101, .category_id = 1, .name = (char *)"Rice 2kg", .price_cents = 4250, .stock = 5 };
	c->products[1] = (struct catalog_product){ .id = 201, .category_id = 2, .name = (char *)"Coke 2L", .price_cents = 2799, .stock = 5 };
	catalog_link(c);
	g_catalog = c;

	const struct menu_limits lim = { .name_max = 24, .price_max_cents = 999999, .qty_max = 20, .septets = 182, .ucs2 = 80 };
	struct menu_set *set;
	T_EQ_INT(menu_set_load(ctx, SRCDIR "/menus", &lim, &set), 0, "the shipped menus load");
	session_init(ctx);
	session_set_menus(set);

	test_idle();
	test_deadline();
	test_replay();
	test_long_code();
	test_abandon();
	test_bind();
	test_recycled();
	test_pin_wiped(ctx);

	/* a dialogue's row commits with or before its first order only on its customer's connection
	 * (or its payment's, "$"); a new dialogue's first row goes on the lazy one */
	unsigned elsewhere = 0, lazy = 0;
	for (unsigned i = 0; i < n_dialogues && i < 64; i++) {
		const char *on = dialogues[i].partition;
		lazy += !strcmp(on, "lazy");
		elsewhere += strcmp(on, "lazy") && strcmp(on + (on[0] == '$'), dialogues[i].msisdn);
	}
	T_CHECK(lazy > 0 && !elsewhere, "every dialogue row is queued on the lazy connection or its own number's",
		"%u were queued elsewhere (%u lazy)", elsewhere, lazy);
	T_EQ_INT(partition_depth, 0, "every partition set was restored");
	T_EQ_INT(session_count(), 0, "every session is gone once its linger passed");
	session_release();
	talloc_free(ctx);
	return T_DONE();
}
