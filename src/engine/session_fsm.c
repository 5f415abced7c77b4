/* One osmo_fsm instance per USSD session: the dialogue's protocol, read top to bottom.
 *
 *   LOOKUP --customer (and dialogue id)--> BUSY --answered CON--> WAIT --hop--> BUSY --> ...
 *     `--deadline, waiting on a continued dialogue's id--> SLOW (runs the hop once it is in)
 *                          |--answered END, or failed------------------> DONE --linger--> freed
 *                          `--deadline, an order or payment in flight--> SLOW --action done--> DONE
 *   WAIT --idle timeout--> DONE (timeout; abandoned when the customer dialled again meanwhile)
 *   WAIT, SLOW --the network aborts--> DONE (abandoned)
 *
 * LOOKUP: the first hop waits for the customer record. BUSY: the oldest queued hop's inputs go
 * to the menu one by one; a screen's action runs in actions.c and comes back as an event.
 * WAIT: answered CON, waiting for the customer. SLOW: the hop's deadline passed while an order
 * or payment was in flight: the customer was told "we'll SMS you", and the action still
 * decides the outcome (and that SMS). DONE: over, on the timeline; repeats of the last hop are
 * answered from memory for SESSION_LINGER_S. Hops that arrive while one is being answered
 * wait in a short queue and are served in order.
 *
 * Each deadline is a state timeout: the hop deadline (T_HOP) runs from a hop's arrival through
 * LOOKUP and BUSY, the idle timeout (T_IDLE) in WAIT, the linger (T_LINGER) in DONE.
 *
 * A hop carries the whole input history ("1*3*2"); the session remembers what it has
 * already processed, feeds only the new inputs to the menu, and keeps the last reply, so a
 * repeated hop is answered from memory with no second effect. A hop whose history does not
 * extend what we saw (the aggregator lost a reply, or we restarted) is replayed from the
 * start: every side effect carries an idempotency key made of the dialogue id and the input
 * position, so a replay finds the order it created the first time instead of ordering twice.
 *
 * The dialogue id is ours, drawn when a dialogue begins, never the network's session id alone:
 * networks recycle those, and a key made of one gave a later dialogue an earlier one's order.
 * It survives a restart through its row (dialogue.h, sql/009_dialogues.sql), written before
 * the dialogue's first order or payment: a hop that continues a dialogue we do not know (a
 * non-empty history) waits in LOOKUP for that row too, and goes on under the same id; a first
 * hop (an empty history, an SMPP begin) always begins a new dialogue with a new id.
 *
 * A session belongs to the phone number it began with: a hop naming its session id with another
 * number is refused and counted (sessions:wrong-phone), so knowing a session id is not enough
 * to act for its customer.
 *
 * A long code (*120*777*<digits>#) is a menu's code with inputs of its own: a started campaign's
 * dial code begins like the plain code, digits that are a referral code begin on the menu's
 * long-code-referral screen with the digits as its answer, and any other digits follow the
 * menu's long-code inputs (pay that order). Which digits are a referral code is asked with the
 * customer lookup, in LOOKUP; a plain dial asks nothing more (session_dial_of()).
 *
 * A voucher PIN leaves the history once its payment starts: its digits are overwritten with
 * 'x' in place (the history keeps its length, so positions and offsets stay right), and a hop
 * is compared with the history under the same mask. The payment's key names the input
 * position, not the PIN, so a replay still finds the first payment.
 *
 * Requests to the database are never cancelled: a session that gave up on one (deadline)
 * stays allocated until every callback has come back, so callbacks never see freed memory. */
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include <osmocom/core/fsm.h>
#include <osmocom/core/hashtable.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>
#include "session.h"
#include "actions.h"
#include "catalog.h"
#include "cfg.h"
#include "crm.h"
#include "db.h"
#include "dialogue.h"
#include "logging.h"
#include "longcode.h"
#include "menu.h"
#include "ratelimit.h"
#include "sms_promise.h"
#include "stats.h"
#include "timeline.h"

#define SESSION_HASH_BITS 16
#define SESSION_LINGER_S 10	/* an ended session still answers repeats of its last hop */
#define SESSION_MAX_QUEUED 4

enum session_state { ST_LOOKUP, ST_BUSY, ST_WAIT, ST_SLOW, ST_DONE };
enum session_event {
	EV_HOP,		/* a hop for this session: struct session_hop_in */
	EV_CUSTOMER,	/* the customer record: struct customer, NULL when the lookup failed */
	EV_DIALOGUE,	/* a continued dialogue's id is in s->did (NULL: the lookup failed) */
	EV_ACTION_DONE,	/* the screen's action finished: struct actions_result */
	EV_ABORT,	/* the network gave up on the dialogue (the customer hung up) */
	EV_SHUTDOWN,	/* the daemon stops */
};
/* The state timeouts (osmo_fsm's T numbers; negative: our own, not a specification's) */
enum session_timer { T_HOP = -1, T_IDLE = -2, T_LINGER = -3 };
enum session_outcome { OUT_COMPLETED, OUT_ABANDONED, OUT_TIMEOUT, OUT_ERROR };
static const char *const outcome_names[] = { "completed", "abandoned", "timeout", "error" };
static const char *const channel_names[] = { "at", "kannel", "box" };
static const char expired[] = "Your session has ended. Please dial again.";
static const char wrong_phone[] = "This session belongs to another phone. Please dial again.";
static const char paused[] = "Voucher payments are paused for a few minutes. Please try again later.";
static const char conflict[] = "We could not match this to your session. Nothing was done. Please dial again.";

struct waiter {
	session_reply_cb cb;
	void *priv;
	char *text;	/* the hop's full input history */
};

/* EV_HOP's data: the hop, and its history (an SMPP hop's one input added to what came before). */
struct session_hop_in {
	const struct session_hop *hop;
	const char *text;
};

struct session {
	struct hlist_node node;		/* g.by_ref */
	struct hlist_node live_node;	/* g.live, while it is its customer's newest dialogue */
	struct osmo_fsm_inst *fi;
	enum session_channel ch;
	char *ref;
	char did[DIALOGUE_ID_LEN + 1];	/* the dialogue id; "" while LOOKUP still looks for it */
	bool did_stored;	/* its row committed */
	bool catalog_wait;	/* its first hop waits for the catalogue (session_lookup_done()) */
	uint64_t pin_inputs;	/* input positions (< 64) that held a PIN, masked in every history */
	char msisdn[17];
	char peer[48];		/* who handed over the last hop (session_hop's peer) */
	char *service_code;
	struct customer *cust;
	struct menu_set *menus;
	struct menu_run *run;	/* freed when the session ends: a lingering session keeps only its reply */
	char *text;		/* inputs processed so far */
	char *hop_text;		/* the history of the hop being processed */
	size_t hop_pos;		/* next unprocessed byte of hop_text */
	unsigned input_index;	/* position of the next input in the whole history */
	char *reply;		/* "CON ..." / "END ..." of the last hop */
	char *last_mo_id;	/* the front end's id of the last hop, to spot duplicate deliveries */
	bool retired;		/* its id was reused for a newer dialogue */
	char *prefix;		/* inputs implied by a long code, before what the customer typed */
	unsigned n_waiting;
	struct waiter waiting[SESSION_MAX_QUEUED];	/* [0] is being processed */
	unsigned outstanding;	/* database callbacks still to come */
	double started_at;	/* epoch seconds: a timeline orders sessions started within a second */
	unsigned hops;
	int64_t order_id;
	bool notified;		/* the outcome of the last order or payment reaches the customer by its
				 * own notification: SLOW sends no SMS of its own for it */
	/* The dialogue starts on the menu's ask-name screen (crm ask-name, a customer never asked, a
	 * plain dial): decided once, so a replay walks the same history from the same screen after
	 * the answer. */
	bool ask_name;
	/* A long code's digits are a referral code (longcode.h): the dialogue starts on the menu's
	 * long-code-referral screen, the digits its answer (the prefix), and replays start there too. */
	bool referral;
};

_Static_assert(MENU_NAME_SEPTETS == CRM_NAME_SEPTETS, "the linter's worst name is the longest crm.c keeps");

static struct {
	void *ctx;
	struct menu_set *menus;
	DECLARE_HASHTABLE(by_ref, SESSION_HASH_BITS);
	DECLARE_HASHTABLE(live, SESSION_HASH_BITS);	/* by MSISDN: each customer's newest dialogue */
	unsigned count;
	struct osmo_timer_list catalog_poll;	/* while a first hop waits for the catalogue */
} g;

static struct osmo_fsm session_fsm;

#define LOGPS(s, lvl, fmt, args...) LOGP(DSESS, lvl, "%s/%s: " fmt, (s)->msisdn, (s)->ref, ## args)

static double session_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t session_hash(uint32_t seed, const char *str)
{
	uint32_t h = 2166136261u ^ seed;
	while (*str)
		h = (h ^ (uint8_t)*str++) * 16777619u;
	return h;
}

static struct session *session_find(enum session_channel ch, const char *ref)
{
	struct session *s;
	hash_for_each_possible(g.by_ref, s, node, session_hash(ch, ref))
		if (s->ch == ch && !s->retired && !strcmp(s->ref, ref))
			return s;
	return NULL;
}

/* ---- the customer's newest dialogue ---- */

/* A customer may leave a dialogue hanging and dial again; the older one is not cut short (a
 * phone network may still deliver its last hop) but counts as abandoned when it idles out. */
static struct session *session_live(const char *msisdn)
{
	struct session *s;
	hash_for_each_possible(g.live, s, live_node, session_hash(0, msisdn))
		if (!strcmp(s->msisdn, msisdn))
			return s;
	return NULL;
}

static bool session_is_live(const struct session *s)
{
	return !hlist_unhashed(&s->live_node);
}

static void session_unlive(struct session *s)
{
	if (session_is_live(s))
		hash_del(&s->live_node);
}

static void session_make_live(struct session *s)
{
	struct session *older = session_live(s->msisdn);
	if (older)
		session_unlive(older);
	hash_add(g.live, &s->live_node, session_hash(0, s->msisdn));
}

/* ---- the dialogue id, the PIN mask ---- */

static void session_dialogue_stored(void *priv, int err)
{
	struct session *s = priv;
	s->outstanding--;
	if (!err)
		s->did_stored = true;
}

/* lazy: a new dialogue's row, on the lazy connection. The first hop never waited for it, and
 * it is no write of the customers' connection (a quarter of a statement a hop there): a row that
 * committed before the dialogue's first order is made durable by that order's commit (WAL is
 * flushed in order), and a dialogue that ordered nothing has nothing to find again. */
static void session_dialogue_store(struct session *s, bool lazy)
{
	s->outstanding++;
	dialogue_store(channel_names[s->ch], s->ref, s->msisdn, s->did, lazy, session_dialogue_stored, s);
}

/* Overwrites, in place, the characters of the inputs at the positions in mask with 'x'. */
static void session_mask(uint64_t mask, char *text)
{
	unsigned pos = 0;
	for (char *p = text; *p && pos < 64; p++) {
		if (*p == '*')
			pos++;
		else if (mask & (1ULL << pos))
			*p = 'x';
	}
}

/* A masked copy of a hop's history, to compare with what the session has seen. */
static char *session_masked(const struct session *s, const char *text)
{
	char *m = talloc_strdup(s, text);
	session_mask(s->pin_inputs, m);
	return m;
}

/* A history may hold a PIN: nothing of it stays behind in freed memory. */
static void session_text_free(char *text)
{
	if (text) {
		explicit_bzero(text, strlen(text));
		talloc_free(text);
	}
}

/* The voucher PIN was the last input the menu took: from now on its position is masked in
 * every history the session keeps (the menu's own copy is wiped by actions_run()). */
static void session_pin_used(struct session *s)
{
	if (s->input_index && s->input_index <= 64)
		s->pin_inputs |= 1ULL << (s->input_index - 1);
	session_mask(s->pin_inputs, s->hop_text);
}

/* ---- replies ---- */

static bool session_reply_end(const struct session *s)
{
	return s->reply && s->reply[0] == 'E';
}

/* The last reply again, to a hop that repeats the one it answered. */
static void session_reply_again(const struct session *s, const struct session_hop *hop)
{
	hop->reply(hop->priv, session_reply_end(s), s->reply + 4, strlen(s->reply + 4));
}

/* Answers the oldest queued hop and remembers the answer. */
static void session_answer(struct session *s, bool end, const char *screen, size_t len)
{
	s->reply = talloc_realloc(s, s->reply, char, len + 5);
	memcpy(s->reply, end ? "END " : "CON ", 4);
	memcpy(s->reply + 4, screen, len);
	s->reply[len + 4] = '\0';
	struct waiter *w = &s->waiting[0];
	w->cb(w->priv, end, screen, len);
	/* the history we answered for is now what the session has seen */
	session_text_free(s->text);
	s->text = w->text;
	w->text = NULL;
	s->n_waiting--;
	memmove(&s->waiting[0], &s->waiting[1], s->n_waiting * sizeof(s->waiting[0]));
}

/* The session's row: the funnel breaks it down by the language its screens were shown in and
 * the version of the menu it walked (a reload meanwhile changed neither: it keeps its menu). */
static void session_log(struct session *s, enum session_outcome outcome)
{
	char trail[1024];
	menu_trail(s->run, trail, sizeof(trail));
	const struct menu *m = s->run->menu;
	struct timeline_session row = {
		.customer_id = s->cust->id, .channel = channel_names[s->ch], .ref = s->ref,
		.service_code = s->service_code, .outcome = outcome_names[outcome], .screens = trail,
		.started = s->started_at, .ended = session_now(), .hops = s->hops, .order_id = s->order_id,
		.lang = m ? m->langs[s->run->lang] : s->cust->lang, .menu_version = m ? m->version : NULL,
	};
	timeline_session_add(&row);
}

/* The session is over: count it, put it on the customer's timeline, linger for repeats. */
static void session_end(struct session *s, enum session_outcome outcome)
{
	if (s->fi->state == ST_DONE)
		return;
	switch (outcome) {
	case OUT_COMPLETED: STAT_INC(SESS_COMPLETED); break;
	case OUT_ABANDONED: STAT_INC(SESS_ABANDONED); break;
	case OUT_TIMEOUT: STAT_INC(SESS_TIMEOUT); break;
	default: STAT_INC(SESS_ERROR); break;
	}
	session_unlive(s);
	if (s->cust)
		session_log(s, outcome);
	TALLOC_FREE(s->run);
	LOGPS(s, LOGL_INFO, "ended: %s after %u hops\n", outcome_names[outcome], s->hops);
	/* hops queued behind the last one get the final screen too */
	while (s->n_waiting && s->reply)
		session_answer(s, true, s->reply + 4, strlen(s->reply + 4));
	osmo_fsm_inst_state_chg(s->fi, ST_DONE, SESSION_LINGER_S, T_LINGER);
}

/* The customer was told "we'll SMS you the result": this is that SMS, unless the order's own
 * notification (placed, paid) already tells it. */
static void session_slow_sms(struct session *s, const char *text, size_t len)
{
	char key[160], body[MENU_SCREEN_BYTES + 1];
	if (s->notified || !s->cust)
		return;
	snprintf(key, sizeof(key), "%s:%s:%s:%u:sms", channel_names[s->ch], s->ref, s->did, s->input_index);
	snprintf(body, sizeof(body), "%.*s", (int)len, text);
	sms_promise_queue(s->cust->id, key, body);
}

/* Ends the dialogue on a fixed screen: every hop waiting gets it, a customer told "we'll SMS
 * you" gets it by SMS. */
static void session_fail_with(struct session *s, const char *buf, int len)
{
	while (s->n_waiting)
		session_answer(s, true, buf, len);
	if (s->fi->state == ST_SLOW)
		session_slow_sms(s, buf, len);
	session_end(s, OUT_ERROR);
}

static void session_fail(struct session *s)
{
	char buf[MENU_SCREEN_BYTES];
	int len = s->run && s->run->menu ? menu_render_error(s->run, buf, sizeof(buf)) : 0;
	if (len <= 0)
		len = snprintf(buf, sizeof(buf), "Sorry, we could not do that right now. Please try again later.");
	session_fail_with(s, buf, len);
}

/* libosmocore 1.7's osmo_fsm_inst_state_chg_ms() takes the milliseconds for microseconds (fixed
 * in 1.8), and the hop deadline is set in milliseconds, sub-second ones included (the fault
 * tests use 1000, `session hop-deadline` allows 50): so the state is entered without a timeout
 * and the instance's own state timer armed here. osmo_fsm fires it into session_timer_cb() as
 * T_HOP and stops it at the next state change, as it does any state timeout. */
static void session_state_chg_deadline(struct session *s, enum session_state st)
{
	unsigned ms = g_cfg->hop_deadline_ms;
	osmo_fsm_inst_state_chg(s->fi, st, 0, T_HOP);
	osmo_timer_schedule(&s->fi->timer, ms / 1000, (ms % 1000) * 1000);
}

/* ---- walking the menu ---- */

static void session_continue(struct session *s);
static void session_next_hop(struct session *s);
static void session_catalog_poll(void *unused);
static const struct menu *session_menu_of(const struct menu_set *set, const char *code, char **extra, void *ctx);

/* Every action's answer comes back through here, also to a session that gave up on it
 * meanwhile: DONE ignores it (and the order it made is on the timeline already or never). */
static void session_action_done(void *priv, const struct actions_result *r)
{
	struct session *s = priv;
	s->outstanding--;
	if (r->order_created)
		s->order_id = r->order_created;	/* on the timeline even when the customer was told "we'll SMS you" */
	osmo_fsm_inst_dispatch(s->fi, EV_ACTION_DONE, (void *)r);
}

/* The action's key names the input that started it (see actions.h). An action may answer
 * before actions_run() returns (a PIN refused by its check digit): the session then goes on
 * from inside this call, taking the hop's next input. */
static void session_action_start(struct session *s)
{
	char key[160];
	/* Set here, not left to the hop or the callback this runs from (a payment's, say): a payment
	 * goes on its connection, anything else on the customer's, where the stock is taken. Either
	 * way the dialogue's row below goes with it. */
	int outer = actions_is_payment(s->run->pending) ? db_partition_money(s->msisdn) : db_partition_set(s->msisdn);
	if (actions_may_commit(s->run->pending)) {
		if (s->run->pending == MENU_ACTION_PAY_VOUCHER || s->run->pending == MENU_ACTION_REPAY_VOUCHER)
			session_pin_used(s);
		if (!s->did_stored)	/* queued before the action's write: commits with or before it */
			session_dialogue_store(s, false);
	}
	snprintf(key, sizeof(key), "%s:%s:%s:%u", channel_names[s->ch], s->ref, s->did, s->input_index);
	struct actions_req req = {
		.ctx = s, .action = s->run->pending, .cust = s->cust, .key = key, .v = &s->run->v,
		.menu = s->run->menu, .screen = s->run->screen,
		.went_on = s->hop_text && s->hop_text[0] && s->hop_pos <= strlen(s->hop_text),
		.front = channel_names[s->ch], .peer = s->peer,
	};
	s->outstanding++;
	actions_run(&req, session_action_done, s);
	db_partition_restore(outer);
}

/* BUSY and SLOW: the screen goes on with the action's outcome. A failure goes to the screen's
 * on: error if it has one, else to the polite END. */
static void session_action_result(struct session *s, const struct actions_result *r)
{
	if (r->conflict)
		return session_fail_with(s, conflict, sizeof(conflict) - 1);
	if (r->paused)
		return session_fail_with(s, paused, sizeof(paused) - 1);
	if (r->outcome == MENU_OUTCOME_ERROR && (r->fatal || !s->run->screen->on[MENU_OUTCOME_ERROR]))
		return session_fail(s);
	/* an order or a payment decides anew whether its own notification tells the outcome */
	if (actions_may_commit(s->run->pending))
		s->notified = r->notified;
	s->run->v = *r->v;
	menu_action_done(s->run, r->outcome);
	session_continue(s);
}

/* Feed the hop's remaining inputs to the menu until it waits on an action or they run out,
 * then answer. Recursion through actions and queued hops, bounded by the inputs of the hop and
 * the SESSION_MAX_QUEUED waiting hops. NOLINTNEXTLINE(misc-no-recursion) */
static void session_continue(struct session *s)
{
	enum menu_state st = s->run->pending != MENU_ACTION_NONE ? MENU_PENDING : MENU_CON;
	const char *t = s->hop_text;
	for (;;) {
		if (s->run->pending != MENU_ACTION_NONE)
			return session_action_start(s);
		if (s->run->screen->type == MENU_SCREEN_END || (s->run->screen->type == MENU_SCREEN_LIST && s->run->screen->end)) {
			st = MENU_END;
			break;
		}
		if (s->hop_pos > strlen(t) || !t[0])
			break;
		const char *in = t + s->hop_pos, *star = strchr(in, '*');
		size_t len = star ? (size_t)(star - in) : strlen(in);
		s->hop_pos += len + 1;
		s->input_index++;
		st = menu_input(s->run, in, len);
	}
	char buf[MENU_SCREEN_BYTES];
	int len = menu_render(s->run, buf, sizeof(buf));
	if (len < 0)
		return session_fail(s);
	if (s->fi->state == ST_SLOW) {
		session_slow_sms(s, buf, len);
		return session_end(s, OUT_COMPLETED);
	}
	bool end = st == MENU_END;
	session_answer(s, end, buf, len);
	if (end)
		return session_end(s, OUT_COMPLETED);
	osmo_fsm_inst_state_chg(s->fi, ST_WAIT, g_cfg->idle_timeout_s, T_IDLE);
	if (s->n_waiting)
		session_next_hop(s);
}

/* Start (or restart) the walk from the first screen and replay the whole history. */
static void session_replay(struct session *s)
{
	char *extra;
	const struct menu *m = session_menu_of(s->menus, s->service_code, &extra, s);
	talloc_free(extra);
	int lang = menu_lang_index(m, s->cust->lang);
	menu_start_at(s->run, m, lang, s->cust->name,
		      s->referral ? m->long_code_referral : s->ask_name ? m->ask_name : NULL);
	/* the record, not a copy: an order placed in this dialogue is on the home screen at once */
	s->run->home = g_cfg->crm_home_lines ? &s->cust->home : NULL;
	s->input_index = 0;
	s->hop_pos = 0;
}

/* Walks a history on the menu up to its first action, running nothing: whether that action may
 * commit (an order, a payment). The hop itself is walked again from the start when it runs. */
static bool session_history_commits(struct session *s, const char *text)
{
	session_replay(s);
	for (const char *in = text; *in && s->run->pending == MENU_ACTION_NONE;) {
		const char *star = strchr(in, '*');
		size_t len = star ? (size_t)(star - in) : strlen(in);
		menu_input(s->run, in, len);
		in += star ? len + 1 : len;
	}
	explicit_bzero(s->run->v.pin, sizeof(s->run->v.pin));	/* taken by the walk, never used */
	return actions_may_commit(s->run->pending);
}

/* The hop deadline passed in LOOKUP or BUSY. An order or payment in flight may still commit: the
 * customer is told the result follows by SMS (SLOW) rather than that it failed. */
static void session_deadline(struct session *s)
{
	char buf[MENU_SCREEN_BYTES];
	/* A hop that continues a dialogue we did not know still waits for the dialogue's id: its
	 * history may well reach an order or a payment, which it will run once the id is in */
	bool dialogue_wait = s->fi->state == ST_LOOKUP && s->cust && !s->did[0] &&
			     session_history_commits(s, s->waiting[0].text);
	if (s->outstanding && s->run->menu && (dialogue_wait || actions_may_commit(s->run->pending))) {
		LOGPS(s, LOGL_NOTICE, "hop not answered within %u ms: result will follow by SMS\n", g_cfg->hop_deadline_ms);
		int len = menu_render_slow(s->run, buf, sizeof(buf));
		while (s->n_waiting)
			session_answer(s, true, buf, len);
		osmo_fsm_inst_state_chg(s->fi, ST_SLOW, 0, 0);
		return;
	}
	LOGPS(s, LOGL_NOTICE, "hop not answered within %u ms: polite END\n", g_cfg->hop_deadline_ms);
	session_fail(s);
}

/* Process the oldest queued hop (from LOOKUP or WAIT). */
/* Recursion: each turn answers one of the SESSION_MAX_QUEUED waiting hops. NOLINTNEXTLINE(misc-no-recursion) */
static void session_next_hop(struct session *s)
{
	struct waiter *w = &s->waiting[0];
	char *masked = session_masked(s, w->text);
	size_t seen = strlen(s->text);
	bool extends = !seen || (!strncmp(masked, s->text, seen) && (!masked[seen] || masked[seen] == '*'));
	if (extends) {	/* the PIN it repeats is not needed again: drop it now */
		session_text_free(w->text);
		w->text = masked;
	} else {
		session_text_free(masked);
	}
	if (s->reply && !strcmp(w->text, s->text)) {
		/* a retry that arrived while its original was being answered */
		STAT_INC(HOPS_REPEATED);
		session_answer(s, session_reply_end(s), s->reply + 4, strlen(s->reply + 4));
		if (s->n_waiting)
			session_next_hop(s);
		return;
	}
	s->hops++;
	/* the deadline runs from the hop's arrival: the first one's since LOOKUP */
	if (s->fi->state == ST_LOOKUP)
		osmo_fsm_inst_state_chg_keep_timer(s->fi, ST_BUSY);
	else
		session_state_chg_deadline(s, ST_BUSY);
	if (!s->run->menu || (seen && (!extends || w->text[seen] != '*'))) {
		if (s->run->menu)
			LOGPS(s, LOGL_INFO, "history does not extend what we answered: replaying\n");
		session_replay(s);
	} else {
		s->hop_pos = seen ? seen + 1 : 0;
	}
	s->hop_text = w->text;
	session_continue(s);
}

static void session_customer_ready(void *priv, struct customer *c, int err)
{
	struct session *s = priv;
	s->outstanding--;
	osmo_fsm_inst_dispatch(s->fi, EV_CUSTOMER, err ? NULL : c);
	if (!err && c && s->cust != c)	/* a dialogue that gave up meanwhile holds none */
		crm_put(c);
}

static void session_dialogue_found(void *priv, const char *id, int err)
{
	struct session *s = priv;
	s->outstanding--;
	if (!err && (s->fi->state == ST_LOOKUP || s->fi->state == ST_SLOW)) {
		if (id && strlen(id) == DIALOGUE_ID_LEN) {
			memcpy(s->did, id, sizeof(s->did));
			s->did_stored = true;
		} else {
			/* it never wrote anything (its row comes before its first write): nothing to
			 * find again, and a new id, stored like a new dialogue's, is as good */
			dialogue_new_id(s->did);
			session_dialogue_store(s, false);
		}
	}
	osmo_fsm_inst_dispatch(s->fi, EV_DIALOGUE, err ? NULL : s->did);
}

static struct session *session_alloc(const struct session_hop *hop)
{
	struct session *s = talloc_zero(g.ctx, struct session);
	s->fi = osmo_fsm_inst_alloc(&session_fsm, g.ctx, s, LOGL_INFO, NULL);
	s->ch = hop->ch;
	/* the id and the code share one allocation: every block costs a live session ~100 bytes */
	size_t lr = strlen(hop->ref), lc = strlen(hop->service_code);
	s->ref = talloc_size(s, lr + lc + 2);
	memcpy(s->ref, hop->ref, lr + 1);
	s->service_code = s->ref + lr + 1;
	memcpy(s->service_code, hop->service_code, lc + 1);
	snprintf(s->msisdn, sizeof(s->msisdn), "%s", hop->msisdn);
	s->text = talloc_strdup(s, "");
	s->menus = g.menus;
	g.menus->users++;
	s->started_at = session_now();
	s->run = talloc_zero(s, struct menu_run);
	s->run->pending = MENU_ACTION_NONE;
	hash_add(g.by_ref, &s->node, session_hash(s->ch, s->ref));
	g.count++;
	STAT_INC(SESS_STARTED);
	return s;
}

static int session_destructor(struct session *s)
{
	if (!--s->menus->users && !s->menus->current)
		talloc_free(s->menus);
	hash_del(&s->node);
	session_unlive(s);
	if (s->cust)
		crm_put(s->cust);
	g.count--;
	for (unsigned i = 0; i < s->n_waiting; i++)
		session_text_free(s->waiting[i].text);
	/* a history whose PIN never reached a payment (it failed before) is not masked */
	session_text_free(s->text);
	return 0;
}

/* The dialled code picks the menu: one of its codes, or a long code, which is one of them with
 * inputs before the '#' (*120*777*1042# extends *120*777#); of the menus it extends, one with a
 * long-code first. *extra: those inputs ("1042", talloc'd on ctx), NULL for the menu's own code. */
static const struct menu *session_menu_of(const struct menu_set *set, const char *code, char **extra, void *ctx)
{
	const struct menu *m = menu_set_find(set, code), *found = NULL;
	size_t len = strlen(code), blen = 0;
	*extra = NULL;
	if (m)
		return m;
	if (len < 3 || code[len - 1] != '#')
		return NULL;
	for (unsigned i = 0; i < set->n && !(found && found->long_code); i++) {
		const struct menu *cand = set->menus[i];
		for (unsigned c = 0; c < cand->n_codes; c++) {
			size_t b = strlen(cand->service_codes[c]) - 1;	/* without '#' */
			if (b < len && !strncmp(code, cand->service_codes[c], b) && code[b] == '*' &&
			    (!found || (cand->long_code && !found->long_code))) {
				found = cand;
				blen = b;
			}
		}
	}
	if (found)
		*extra = talloc_strndup(ctx, code + blen + 1, len - blen - 2);
	return found;
}

/* What a long code's inputs mean (doc/crm.md, "One dial string, three meanings"; longcode.h):
 * a started campaign's code is a plain dial (no prefix: the home screen); anything else is
 * typed after the menu's long-code inputs (*120*777*1042# as 3 then 1042: pay order 1042),
 * unless the database says the digits are a referral code. Only digits the menu's
 * long-code-referral screen would take can be one (DIAL_ASK): their customer lookup asks, and
 * the answer may swap the prefix (session_longcode_ready()). No other dial asks anything. */
static enum session_dial {
	DIAL_UNKNOWN, DIAL_PLAIN, DIAL_CAMPAIGN, DIAL_LONG, DIAL_ASK,
} session_dial_of(const struct menu *m, const char *code, const char *extra)
{
	if (!m)
		return DIAL_UNKNOWN;
	if (!extra)
		return DIAL_PLAIN;
	if (longcode_campaign(code))
		return DIAL_CAMPAIGN;
	if (!m->long_code)
		return DIAL_UNKNOWN;
	return m->long_code_referral && menu_accepts(m->long_code_referral, extra) ? DIAL_ASK : DIAL_LONG;
}

/* The digits of a DIAL_ASK are a referral code: the hops queued meanwhile carry the pay prefix
 * ("3*123456"), every one of them from its start; they get the digits alone, the answer of the
 * long-code-referral screen the dialogue now starts on. */
static void session_dial_referral(struct session *s)
{
	char *extra;
	const struct menu *m = session_menu_of(s->menus, s->service_code, &extra, s);
	size_t old = strlen(s->prefix);
	OSMO_ASSERT(m && extra);
	for (unsigned i = 0; i < s->n_waiting; i++) {
		char *t = s->waiting[i].text;
		OSMO_ASSERT(!strncmp(t, s->prefix, old));
		s->waiting[i].text = talloc_asprintf(s, "%s%s", extra, t + old);
		session_text_free(t);
	}
	talloc_free(s->prefix);
	s->prefix = extra;
	s->referral = true;
	STAT_INC(DIAL_REFERRAL);
	LOGPS(s, LOGL_INFO, "long code: a referral code, entered for the caller\n");
}

/* Before the customer goes to LOOKUP (EV_CUSTOMER): the replay it starts must begin on the
 * screen the digits call for. A dialogue that gave up meanwhile takes no notice. */
static void session_longcode_ready(void *priv, struct customer *c, bool referral, int err)
{
	struct session *s = priv;
	if (!err && referral && s->fi->state == ST_LOOKUP)
		session_dial_referral(s);
	session_customer_ready(priv, c, err);
}

/* An aggregator's text holds only what the customer typed: put the long code's inputs first. */
static char *session_with_prefix(struct session *s, const char *text)
{
	if (!s->prefix)
		return talloc_strdup(s, text);
	return text[0] ? talloc_asprintf(s, "%s*%s", s->prefix, text) : talloc_strdup(s, s->prefix);
}

static void session_queue(struct session *s, const struct session_hop *hop, const char *text)
{
	snprintf(s->peer, sizeof(s->peer), "%s", hop->peer ? hop->peer : "-");
	s->waiting[s->n_waiting++] = (struct waiter){ hop->reply, hop->priv, talloc_strdup(s, text) };
	if (hop->mo_id)
		osmo_talloc_replace_string(s, &s->last_mo_id, hop->mo_id);
}

/* A new dialogue: its first hop waits (LOOKUP) for the customer record, cached customers
 * answering at once, new ones after the database did. old: a lingering session whose id the
 * network reuses for it, left to linger unseen. */
static void session_begin(const struct session_hop *hop, struct session *old)
{
	static const char unknown[] = "This service code is not in use.";
	if (old)
		old->retired = true;
	if (hop->op == SESSION_OP_CONTINUE) {
		hop->reply(hop->priv, true, expired, sizeof(expired) - 1);
		return;
	}
	char *extra;
	const struct menu *m = session_menu_of(g.menus, hop->service_code, &extra, g.ctx);
	enum session_dial dial = session_dial_of(m, hop->service_code, extra);
	if (dial == DIAL_UNKNOWN) {
		talloc_free(extra);
		hop->reply(hop->priv, true, unknown, sizeof(unknown) - 1);
		return;
	}
	struct session *s = session_alloc(hop);
	talloc_set_destructor(s, session_destructor);
	if (dial == DIAL_LONG || dial == DIAL_ASK)
		s->prefix = talloc_asprintf(s, "%s*%s", m->long_code, extra);
	if (dial == DIAL_CAMPAIGN) {
		STAT_INC(DIAL_CAMPAIGN);
		LOGPS(s, LOGL_INFO, "long code: a campaign's dial code, the home screen\n");
	}
	/* Only a plain dial (or a campaign's code) may start on the ask-name screen: a long code's
	 * inputs, or a history (a shortcut, a dialogue we restarted under), were typed for the home
	 * screen. */
	s->ask_name = !s->prefix && !(hop->op == SESSION_OP_HISTORY && hop->text[0]);
	char *first = session_with_prefix(s, hop->op == SESSION_OP_HISTORY ? hop->text : "");
	session_state_chg_deadline(s, ST_LOOKUP);	/* the lookups count against the first hop */
	session_queue(s, hop, first);
	session_text_free(first);
	if (hop->op == SESSION_OP_HISTORY && hop->text[0]) {
		/* a dialogue going on that we do not know (we restarted): its id is in its row */
		s->outstanding++;
		dialogue_find(channel_names[s->ch], s->ref, s->msisdn, session_dialogue_found, s);
	} else {
		dialogue_new_id(s->did);
		session_dialogue_store(s, true);
	}
	s->outstanding++;
	if (dial == DIAL_ASK)	/* the digits' meaning comes with the customer record: one statement */
		longcode_resolve(s->msisdn, extra, session_longcode_ready, s);
	else
		crm_get(s->msisdn, session_customer_ready, s);
	talloc_free(extra);
}

/* Whether a first hop (an empty history, an SMPP begin) on a session id we know begins a new
 * dialogue, the network having recycled the id. Once the session is over, it does. While it
 * goes on, an aggregator's empty history from the same phone does once that phone answered
 * past the first screen (a repeat of the first hop is still answered from memory); from
 * another phone it is refused, or anyone knowing the id could cut the dialogue short. */
static bool session_recycled(const struct session *s, const struct session_hop *hop)
{
	if (hop->op == SESSION_OP_BEGIN)
		return s->fi->state == ST_DONE;
	if (hop->op != SESSION_OP_HISTORY || hop->text[0])
		return false;
	return s->fi->state == ST_DONE || (s->hops > 1 && !strcmp(s->msisdn, hop->msisdn));
}

static void session_hop_run(const struct session_hop *hop)
{
	struct session *s = session_find(hop->ch, hop->ref);
	bool fresh = !s || session_recycled(s, hop);

	if (s && !fresh && strcmp(s->msisdn, hop->msisdn)) {
		STAT_INC(SESS_WRONG_PHONE);
		LOGPS(s, LOGL_NOTICE, "hop from %s refused: the session is another number's\n", hop->msisdn);
		if (hop->op != SESSION_OP_ABORT)
			hop->reply(hop->priv, true, wrong_phone, sizeof(wrong_phone) - 1);
		return;
	}
	if (hop->op == SESSION_OP_ABORT) {
		if (s)
			osmo_fsm_inst_dispatch(s->fi, EV_ABORT, NULL);
		return;
	}
	if (fresh || s->fi->state != ST_DONE) {
		enum ratelimit_verdict v = ratelimit_hop(hop->msisdn, fresh);
		if (v != RATELIMIT_OK) {
			static const char slow_down[] = "Too many requests from your number. Please try again later.";
			LOGP(DSESS, LOGL_NOTICE, "%s: %s limit reached\n", hop->msisdn, v == RATELIMIT_HOPS ? "hop" : "session");
			hop->reply(hop->priv, true, slow_down, sizeof(slow_down) - 1);
			return;
		}
	}
	if (s && hop->mo_id && s->last_mo_id && !strcmp(hop->mo_id, s->last_mo_id) && s->reply && !s->n_waiting) {
		STAT_INC(HOPS_REPEATED);	/* the same message delivered twice */
		session_reply_again(s, hop);
		return;
	}
	if (fresh)
		return session_begin(hop, s);
	/* an SMPP hop carries one input: the history is what came before plus it */
	char *text = NULL;
	if (hop->op == SESSION_OP_CONTINUE) {
		const char *before = s->n_waiting ? s->waiting[s->n_waiting - 1].text : s->text;
		text = before[0] ? talloc_asprintf(s, "%s*%s", before, hop->input) : talloc_strdup(s, hop->input);
	} else if (hop->op == SESSION_OP_BEGIN) {
		text = talloc_strdup(s, s->text);	/* a repeated begin */
	} else {
		text = session_with_prefix(s, hop->text);
	}
	struct session_hop_in in = { hop, text };
	osmo_fsm_inst_dispatch(s->fi, EV_HOP, &in);
	session_text_free(text);
}

/* What a hop queues is its customer's: on the customer's database connection, so that the
 * dialogue's row, its orders and its payments commit in the order they were queued. */
void session_hop(const struct session_hop *hop)
{
	int outer = db_partition_set(hop->msisdn);
	session_hop_run(hop);
	db_partition_restore(outer);
}

void session_init(void *ctx)
{
	g.ctx = talloc_named_const(ctx, 0, "sessions");
	hash_init(g.by_ref);
	hash_init(g.live);
	osmo_timer_setup(&g.catalog_poll, session_catalog_poll, NULL);
	OSMO_ASSERT(osmo_fsm_register(&session_fsm) == 0);
}

void session_set_menus(struct menu_set *set)
{
	struct menu_set *old = g.menus;
	g.menus = talloc_steal(g.ctx, set);
	set->current = true;
	/* live sessions still walk the old set: it goes when the last of them ends */
	if (old) {
		old->current = false;
		if (!old->users)
			talloc_free(old);
	}
}

const struct menu_set *session_menus(void)
{
	return g.menus;
}

unsigned session_count(void)
{
	return g.count;
}

static void session_info_report(const struct session *s, void (*cb)(const struct session_info *si, void *priv),
				void *priv)
{
	struct session_info si = { s->ref, s->msisdn, s->run && s->run->screen ? s->run->screen->name : "-",
		osmo_fsm_inst_state_name(s->fi), s->hops, (time_t)s->started_at };
	cb(&si, priv);
}

void session_foreach(void (*cb)(const struct session_info *si, void *priv), void *priv)
{
	struct session *s;
	struct hlist_node *tmp;
	unsigned b;
	hash_for_each_safe(g.by_ref, b, tmp, s, node)
		session_info_report(s, cb, priv);
}

bool session_customer_live(const struct customer *c)
{
	return session_live(c->msisdn) != NULL;
}

void session_foreach_customer(const struct customer *c, void (*cb)(const struct session_info *si, void *priv), void *priv)
{
	struct session *s = session_live(c->msisdn);
	if (s)
		session_info_report(s, cb, priv);
}

void session_shutdown(void)
{
	struct session *s;
	struct hlist_node *tmp;
	unsigned b;
	hash_for_each_safe(g.by_ref, b, tmp, s, node)
		osmo_fsm_inst_dispatch(s->fi, EV_SHUTDOWN, NULL);
}

/* After the database is closed: no callback can come for a session any more, so every one can go
 * (before, a session waiting on the database must stay allocated for its callback). */
void session_release(void)
{
	struct session *s;
	struct hlist_node *tmp;
	unsigned b;
	hash_for_each_safe(g.by_ref, b, tmp, s, node)
		osmo_fsm_inst_term(s->fi, OSMO_FSM_TERM_REQUEST, NULL);
}

/* ---- the state machine ---- */

/* A hop while the dialogue goes on (LOOKUP, BUSY, WAIT): a repeat of the hop last answered gets
 * the same answer with no second effect; anything else waits its turn. */
static void session_hop_queue(struct session *s, const struct session_hop_in *in)
{
	static const char busy[] = "Please wait for the previous answer.";
	char *masked = session_masked(s, in->text);
	bool same = !strcmp(masked, s->text);
	session_text_free(masked);
	if (same && s->reply && !s->n_waiting) {
		STAT_INC(HOPS_REPEATED);
		session_reply_again(s, in->hop);
	} else if (s->n_waiting == SESSION_MAX_QUEUED) {
		in->hop->reply(in->hop->priv, false, busy, sizeof(busy) - 1);
	} else {
		session_queue(s, in->hop, in->text);
	}
}

/* A hop once the dialogue is over (SLOW, DONE): a repeat or anything later gets its final
 * screen again, or, when it idled out on a question, word that it ended. */
static void session_hop_over(struct session *s, const struct session_hop_in *in)
{
	if (session_reply_end(s))
		session_reply_again(s, in->hop);
	else
		in->hop->reply(in->hop->priv, true, expired, sizeof(expired) - 1);
}

/* The lookups are in: the first hop runs, on a catalogue. In the moments after a start, before
 * the catalogue has been read (g_catalog is NULL until then), a hop would see empty categories,
 * and a history replayed after a restart would walk other screens than the customer typed: it
 * waits for the catalogue like a lookup, within the hop deadline (then the polite END, as when
 * the database is down). Only a start has no catalogue, so a poll costs nothing the rest of
 * the time. */
#define SESSION_CATALOG_POLL_MS 10

static void session_lookup_done(struct session *s)
{
	if (!g_catalog) {
		LOGPS(s, LOGL_INFO, "waiting for the catalogue\n");
		s->catalog_wait = true;
		if (!osmo_timer_pending(&g.catalog_poll))
			osmo_timer_schedule(&g.catalog_poll, 0, SESSION_CATALOG_POLL_MS * 1000);
		return;
	}
	session_next_hop(s);
}

static void session_catalog_poll(void *unused)
{
	struct session *s;
	struct hlist_node *tmp;
	unsigned b, waiting = 0;
	hash_for_each_safe(g.by_ref, b, tmp, s, node) {
		if (!s->catalog_wait)
			continue;
		if (s->fi->state != ST_LOOKUP) {	/* its deadline answered it meanwhile */
			s->catalog_wait = false;
		} else if (g_catalog) {
			s->catalog_wait = false;
			int outer = db_partition_set(s->msisdn);
			session_next_hop(s);
			db_partition_restore(outer);
		} else {
			waiting++;
		}
	}
	if (waiting)
		osmo_timer_schedule(&g.catalog_poll, 0, SESSION_CATALOG_POLL_MS * 1000);
}

static void st_lookup(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	struct session *s = fi->priv;
	switch (event) {
	case EV_HOP:	/* served after the first */
		session_hop_queue(s, data);
		break;
	case EV_CUSTOMER:
		if (!data)
			return session_fail(s);
		s->cust = data;
		s->ask_name = s->ask_name && g_cfg->crm_ask_name && !s->cust->name_asked;
		session_make_live(s);
		if (s->did[0])
			session_lookup_done(s);
		break;
	case EV_DIALOGUE:
		/* without the id a replay could order again under a new one: the polite END */
		if (!data)
			return session_fail(s);
		if (s->cust)
			session_lookup_done(s);
		break;
	default:	/* EV_ABORT, EV_SHUTDOWN: the first hop is still to be answered, and decides */
		break;
	}
}

static void st_busy(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	struct session *s = fi->priv;
	switch (event) {
	case EV_HOP:	/* served in order once this one is answered */
		session_hop_queue(s, data);
		break;
	case EV_ACTION_DONE:
		session_action_result(s, data);
		break;
	case EV_SHUTDOWN:
		session_fail(s);
		break;
	default:	/* EV_ABORT: the hop being answered decides how it ends */
		break;
	}
}

static void st_wait(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	struct session *s = fi->priv;
	switch (event) {
	case EV_HOP:
		session_hop_queue(s, data);
		if (s->n_waiting)
			session_next_hop(s);
		break;
	case EV_ABORT:
		session_end(s, OUT_ABANDONED);
		break;
	case EV_SHUTDOWN:
		session_fail(s);
		break;
	default:
		break;
	}
}

/* SLOW since LOOKUP, the dialogue's id in at last: the hop goes on, its outcome by SMS (its
 * history is s->text since the customer was answered "we'll SMS you"). */
static void session_slow_resume(struct session *s)
{
	session_replay(s);	/* from the start again, after session_history_commits() */
	s->hops++;
	s->hop_text = s->text;
	session_continue(s);
}

static void st_slow(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	struct session *s = fi->priv;
	if (event == EV_DIALOGUE)
		return data ? session_slow_resume(s) : session_fail(s);
	if (event == EV_HOP)
		return session_hop_over(s, data);
	if (event == EV_ABORT)
		return session_end(s, OUT_ABANDONED);
	/* EV_ACTION_DONE: the outcome goes by SMS and the session ends; EV_SHUTDOWN: as in BUSY */
	st_busy(fi, event, data);
}

static void st_done(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	/* late answers to a dialogue that gave up (EV_CUSTOMER, EV_DIALOGUE, EV_ACTION_DONE) change nothing */
	if (event == EV_HOP)
		session_hop_over(fi->priv, data);
}

static int session_timer_run(struct osmo_fsm_inst *fi)
{
	struct session *s = fi->priv;
	switch (fi->T) {
	case T_HOP:
		session_deadline(s);
		return 0;
	case T_IDLE:
		session_end(s, session_is_live(s) ? OUT_TIMEOUT : OUT_ABANDONED);
		return 0;
	case T_LINGER:
		if (s->outstanding) {
			osmo_fsm_inst_state_chg(fi, ST_DONE, SESSION_LINGER_S, T_LINGER);
			return 0;
		}
		return 1;	/* terminate: frees the session via its talloc parent below */
	default:
		return 0;
	}
}

/* A deadline or an idle end queues for the session's customer too (see session_hop()). */
static int session_timer_cb(struct osmo_fsm_inst *fi)
{
	struct session *s = fi->priv;
	int outer = db_partition_set(s->msisdn);
	int rc = session_timer_run(fi);
	db_partition_restore(outer);
	return rc;
}

/* The FSM instance is a sibling of its session, not a child: terminating the instance
 * frees the session here, and osmo_fsm frees the instance itself afterwards. */
static void session_cleanup(struct osmo_fsm_inst *fi, enum osmo_fsm_term_cause cause)
{
	struct session *s = fi->priv;
	s->fi = NULL;
	talloc_free(s);
}

static const struct value_string session_event_names[] = {
	{ EV_HOP, "HOP" },
	{ EV_CUSTOMER, "CUSTOMER" },
	{ EV_DIALOGUE, "DIALOGUE" },
	{ EV_ACTION_DONE, "ACTION_DONE" },
	{ EV_ABORT, "ABORT" },
	{ EV_SHUTDOWN, "SHUTDOWN" },
	{ 0, NULL }
};

#define S(x) (1 << (x))

static const struct osmo_fsm_state session_states[] = {
	[ST_LOOKUP] = {
		.name = "LOOKUP",
		.in_event_mask = S(EV_HOP) | S(EV_CUSTOMER) | S(EV_DIALOGUE) | S(EV_ABORT) | S(EV_SHUTDOWN),
		.out_state_mask = S(ST_LOOKUP) | S(ST_BUSY) | S(ST_SLOW) | S(ST_DONE),
		.action = st_lookup,
	},
	[ST_BUSY] = {
		.name = "BUSY",
		.in_event_mask = S(EV_HOP) | S(EV_ACTION_DONE) | S(EV_ABORT) | S(EV_SHUTDOWN),
		.out_state_mask = S(ST_WAIT) | S(ST_SLOW) | S(ST_DONE),
		.action = st_busy,
	},
	[ST_WAIT] = {
		.name = "WAIT",
		.in_event_mask = S(EV_HOP) | S(EV_ABORT) | S(EV_SHUTDOWN),
		.out_state_mask = S(ST_BUSY) | S(ST_DONE),
		.action = st_wait,
	},
	[ST_SLOW] = {
		.name = "SLOW",
		.in_event_mask = S(EV_HOP) | S(EV_DIALOGUE) | S(EV_ACTION_DONE) | S(EV_ABORT) | S(EV_SHUTDOWN),
		.out_state_mask = S(ST_DONE),
		.action = st_slow,
	},
	[ST_DONE] = {
		.name = "DONE",
		.in_event_mask = S(EV_HOP) | S(EV_CUSTOMER) | S(EV_DIALOGUE) | S(EV_ACTION_DONE) | S(EV_ABORT) | S(EV_SHUTDOWN),
		.out_state_mask = S(ST_DONE),
		.action = st_done,
	},
};

static struct osmo_fsm session_fsm = {
	.name = "ussd_session",
	.states = session_states,
	.num_states = ARRAY_SIZE(session_states),
	.timer_cb = session_timer_cb,
	.cleanup = session_cleanup,
	.event_names = session_event_names,
	.log_subsys = DSESS,
};
