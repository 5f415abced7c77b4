/* One osmo_fsm instance per USSD session.
 *
 * A hop carries the whole input history ("1*3*2"); the session remembers what it has
 * already processed, feeds only the new inputs to the menu, and keeps the last reply, so a
 * repeated hop is answered from memory with no second effect. A hop whose history does not
 * extend what we saw (the aggregator lost a reply, or we restarted) is replayed from the
 * start: every side effect carries an idempotency key made of the session id and the input
 * position, so a replay finds the order it created the first time instead of ordering twice.
 *
 * Requests to the database are never cancelled: a session that gave up on one (deadline)
 * stays allocated until every callback has come back, so callbacks never see freed memory. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <osmocom/core/fsm.h>
#include <osmocom/core/hashtable.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>
#include "session.h"
#include "cfg.h"
#include "crm.h"
#include "db.h"
#include "logging.h"
#include "menu.h"
#include "orders.h"
#include "payments.h"
#include "ratelimit.h"
#include "easypay.h"
#include "luhn.h"
#include "secrets.h"
#include "sms_promise.h"
#include "stats.h"
#include "timeline.h"

#define SESSION_HASH_BITS 16
#define SESSION_LINGER_S 10	/* an ended session still answers repeats of its last hop */
#define SESSION_MAX_QUEUED 4

enum session_state { ST_LOOKUP, ST_BUSY, ST_WAIT, ST_DONE };
enum session_event { EV_HOP, EV_READY, EV_DEADLINE };
enum session_outcome { OUT_NONE, OUT_COMPLETED, OUT_ABANDONED, OUT_TIMEOUT, OUT_ERROR };
static const char *const outcome_names[] = { "", "completed", "abandoned", "timeout", "error" };
static const char *const channel_names[] = { "at", "kannel", "box" };

struct waiter {
	session_reply_cb cb;
	void *priv;
	char *text;	/* the hop's full input history */
};

struct session {
	struct hlist_node node;
	struct osmo_fsm_inst *fi;
	enum session_channel ch;
	char *ref;
	char msisdn[17];
	char *service_code;
	struct customer *cust;
	struct menu_set *menus;
	struct menu_run *run;	/* freed when the session ends: a lingering session keeps only its reply */
	bool started;
	char *text;		/* inputs processed so far */
	char *hop_text;		/* the history of the hop being processed */
	size_t hop_pos;		/* next unprocessed byte of hop_text */
	unsigned input_index;	/* position of the next input in the whole history */
	char *reply;		/* "CON ..." / "END ..." of the last hop */
	char *last_mo_id;	/* the front end's id of the last hop, to spot duplicate deliveries */
	bool retired;		/* its id was reused for a newer dialogue */
	char *prefix;		/* inputs implied by a long code, before what the customer typed */
	bool reply_end;
	unsigned n_waiting;
	struct waiter waiting[SESSION_MAX_QUEUED];	/* [0] is being processed */
	unsigned outstanding;	/* database callbacks still to come */
	struct osmo_timer_list deadline;
	double started_at;	/* epoch seconds: a timeline orders sessions started within a second */
	unsigned hops;
	int64_t order_id;
	enum session_outcome outcome;
	bool slow;		/* told "we'll SMS you": the action in flight still decides the outcome */
	bool slow_notified;	/* ... and that outcome reaches the customer by an order notification */
};

static struct {
	void *ctx;
	struct menu_set *menus;
	DECLARE_HASHTABLE(by_ref, SESSION_HASH_BITS);
	unsigned count;
} g;

static struct osmo_fsm session_fsm;

#define LOGPS(s, lvl, fmt, args...) LOGP(DSESS, lvl, "%s/%s: " fmt, (s)->msisdn, (s)->ref, ## args)

static double session_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t session_hash(enum session_channel ch, const char *ref)
{
	uint32_t h = 2166136261u ^ ch;
	while (*ref)
		h = (h ^ (uint8_t)*ref++) * 16777619u;
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

/* ---- replies ---- */

static void session_answer(struct session *s, bool end, const char *screen, size_t len)
{
	s->reply = talloc_realloc(s, s->reply, char, len + 5);
	memcpy(s->reply, end ? "END " : "CON ", 4);
	memcpy(s->reply + 4, screen, len);
	s->reply[len + 4] = '\0';
	s->reply_end = end;
	struct waiter *w = &s->waiting[0];
	w->cb(w->priv, end, screen, len);
	/* the history we answered for is now what the session has seen */
	talloc_free(s->text);
	s->text = w->text;
	w->text = NULL;
	s->n_waiting--;
	memmove(&s->waiting[0], &s->waiting[1], s->n_waiting * sizeof(s->waiting[0]));
	osmo_timer_del(&s->deadline);
}

static void session_log(struct session *s)
{
	char trail[1024];
	menu_trail(s->run, trail, sizeof(trail));
	struct timeline_session row = {
		.customer_id = s->cust->id, .channel = channel_names[s->ch], .ref = s->ref,
		.service_code = s->service_code, .outcome = outcome_names[s->outcome], .screens = trail,
		.started = s->started_at, .ended = session_now(), .hops = s->hops, .order_id = s->order_id,
	};
	timeline_session_add(&row);
}

/* The session is over: count it, put it on the customer's timeline, linger for repeats. */
static void session_end(struct session *s, enum session_outcome outcome)
{
	if (s->outcome != OUT_NONE)
		return;
	s->outcome = outcome;
	switch (outcome) {
	case OUT_COMPLETED: STAT_INC(SESS_COMPLETED); break;
	case OUT_ABANDONED: STAT_INC(SESS_ABANDONED); break;
	case OUT_TIMEOUT: STAT_INC(SESS_TIMEOUT); break;
	default: STAT_INC(SESS_ERROR); break;
	}
	if (s->cust) {
		if (s->cust->live == s)
			s->cust->live = NULL;
		session_log(s);
	}
	TALLOC_FREE(s->run);
	LOGPS(s, LOGL_INFO, "ended: %s after %u hops\n", outcome_names[outcome], s->hops);
	/* hops queued behind the last one get the final screen too */
	while (s->n_waiting && s->reply)
		session_answer(s, true, s->reply + 4, strlen(s->reply + 4));
	osmo_fsm_inst_state_chg(s->fi, ST_DONE, SESSION_LINGER_S, 0);
}

/* The customer was told "we'll SMS you the result": this is that SMS, unless the order's own
 * notification (placed, paid) already tells it. */
static void slow_result_sms(struct session *s, const char *text, size_t len)
{
	char key[160], body[MENU_SCREEN_BYTES + 1];
	if (s->slow_notified || !s->cust)
		return;
	snprintf(key, sizeof(key), "%s:%s:%u:sms", channel_names[s->ch], s->ref, s->input_index);
	snprintf(body, sizeof(body), "%.*s", (int)len, text);
	sms_promise_queue(s->cust->id, key, body);
}

static void session_fail(struct session *s)
{
	char buf[MENU_SCREEN_BYTES];
	int len = s->run && s->run->menu ? menu_render_error(s->run, buf, sizeof(buf)) : 0;
	if (len <= 0)
		len = snprintf(buf, sizeof(buf), "Sorry, we could not do that right now. Please try again later.");
	while (s->n_waiting)
		session_answer(s, true, buf, len);
	if (s->slow)
		slow_result_sms(s, buf, len);
	session_end(s, OUT_ERROR);
}

/* ---- walking the menu ---- */

static void session_continue(struct session *s);
static const struct menu *session_resolve_code(const struct menu_set *set, const char *code, char **history, void *ctx);

static void action_begin(struct session *s)
{
	s->outstanding++;
	osmo_fsm_inst_state_chg(s->fi, ST_BUSY, 0, 0);
}

/* Every database answer comes back through here: false means the session gave up meanwhile.
 * A session that answered "we'll SMS you" ends now, as the work turned out (the SMS comes
 * from the order's own notifications). */
static bool action_end(struct session *s, int err)
{
	s->outstanding--;
	return s->outcome == OUT_NONE && (s->n_waiting || s->slow);
}


/* A failed action goes to the screen's on: error: if it has one, else to the polite END. */
static void action_failed(struct session *s)
{
	if (!s->run->screen->on[MENU_OUTCOME_ERROR])
		return session_fail(s);
	menu_action_done(s->run, MENU_OUTCOME_ERROR);
	session_continue(s);
}

static void order_created(void *priv, int64_t id, int64_t total, int err)
{
	struct session *s = priv;
	if (!err && id)
		s->order_id = id;	/* on the timeline even when the customer was already told "we'll SMS you" */
	if (!action_end(s, err))
		return;
	if (err)
		return action_failed(s);
	s->run->v.order_id = id;
	if (id) {
		s->order_id = id;
		s->run->v.total_cents = total;
	}
	s->slow_notified = id != 0;	/* the order_placed notification */
	menu_action_done(s->run, id ? MENU_OUTCOME_OK : MENU_OUTCOME_OUT_OF_STOCK);
	session_continue(s);
}

static void orders_loaded(void *priv, const struct menu_order_row *rows, unsigned n, int err)
{
	struct session *s = priv;
	if (!action_end(s, err))
		return;
	if (err)
		return action_failed(s);
	s->run->v.n_orders = n;
	memcpy(s->run->v.orders, rows, n * sizeof(*rows));
	menu_action_done(s->run, MENU_OUTCOME_OK);
	session_continue(s);
}

static void order_found(void *priv, const struct menu_order_row *rows, unsigned n, int err)
{
	struct session *s = priv;
	if (!action_end(s, err))
		return;
	if (err)
		return action_failed(s);
	enum menu_outcome oc = MENU_OUTCOME_NOT_FOUND;
	if (n == 1) {
		s->run->v.order_id = rows[0].id;
		s->run->v.total_cents = rows[0].total_cents;
		s->run->v.status = rows[0].status;
		s->run->v.product_id = rows[0].product_id;
		s->run->v.qty = rows[0].qty;
		/* The history going on past this screen means the customer saw the order payable the
		 * first time and paid: this is a replay (a restart, a lost reply). The payment's own
		 * key then gives back that first result, or refuses anew if it was paid elsewhere. */
		bool went_on = s->hop_text && s->hop_text[0] && s->hop_pos <= strlen(s->hop_text);
		oc = rows[0].status == menu_status_index("awaiting_payment") || went_on ? MENU_OUTCOME_OK :
											 MENU_OUTCOME_NOT_PAYABLE;
	}
	menu_action_done(s->run, oc);
	session_continue(s);
}

static void lang_stored(void *priv, struct customer *c, int err)
{
	struct session *s = priv;
	if (!action_end(s, err))
		return;
	if (err)
		return action_failed(s);
	menu_action_done(s->run, MENU_OUTCOME_OK);
	session_continue(s);
}

static enum menu_outcome payment_outcome(const char *o)
{
	static const struct { const char *word; enum menu_outcome oc; } map[] = {
		{ "paid", MENU_OUTCOME_OK }, { "ok", MENU_OUTCOME_OK }, { "created", MENU_OUTCOME_OK },
		{ "invalid", MENU_OUTCOME_INVALID }, { "expired", MENU_OUTCOME_EXPIRED },
		{ "insufficient", MENU_OUTCOME_INSUFFICIENT }, { "locked", MENU_OUTCOME_LOCKED },
		{ "over_limit", MENU_OUTCOME_OVER_LIMIT }, { "not_payable", MENU_OUTCOME_NOT_PAYABLE },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(map); i++)
		if (!strcmp(map[i].word, o))
			return map[i].oc;
	return MENU_OUTCOME_ERROR;
}

static void payment_done(void *priv, const struct payments_result *r, int err)
{
	struct session *s = priv;
	if (!action_end(s, err))
		return;
	if (err)
		return action_failed(s);
	struct menu_vars *v = &s->run->v;
	enum menu_outcome oc = payment_outcome(r->outcome);
	if (oc == MENU_OUTCOME_ERROR)
		LOGPS(s, LOGL_ERROR, "payment for order %" PRId64 ": %s\n", v->order_id, r->outcome);
	switch (s->run->pending) {
	case MENU_ACTION_PAY_VOUCHER:
		v->remainder_cents = r->remainder_cents;
		break;
	case MENU_ACTION_PAY_CREDIT:
		v->available_cents = r->remainder_cents;
		break;
	case MENU_ACTION_CREATE_SLIP:
		if (oc == MENU_OUTCOME_OK) {
			easypay_ref_group(v->slip, sizeof(v->slip), r->slip);
			snprintf(v->expiry, sizeof(v->expiry), "%s", r->expiry);
			v->total_cents = r->amount_cents;
		}
		break;
	default:
		break;
	}
	if (oc == MENU_OUTCOME_ERROR && !s->run->screen->on[MENU_OUTCOME_ERROR])
		return session_fail(s);
	/* a paid order is announced by its order_status notification; a slip, a refusal are not */
	s->slow_notified = oc == MENU_OUTCOME_OK && s->run->pending != MENU_ACTION_CREATE_SLIP;
	menu_action_done(s->run, oc);
	session_continue(s);
}

/* The PIN's check digit is checked before any database work; the database only ever sees
 * its HMAC, and the PIN is wiped from memory once that is computed. */
/* Recursion: an invalid PIN continues the session at once, and each turn through
 * session_continue() takes one input of the hop. NOLINTNEXTLINE(misc-no-recursion) */
static void pay_voucher(struct session *s, const char *key)
{
	struct menu_vars *v = &s->run->v;
	uint8_t mac[SECRETS_HMAC_LEN];
	bool ok = luhn_valid(v->pin);
	int rc = ok ? secrets_hmac("voucher-pin", v->pin, strlen(v->pin), mac) : 0;
	explicit_bzero(v->pin, sizeof(v->pin));
	if (!ok) {
		s->outstanding--;
		menu_action_done(s->run, MENU_OUTCOME_INVALID);
		return session_continue(s);
	}
	if (rc < 0) {
		LOGPS(s, LOGL_ERROR, "cannot check voucher PINs: no voucher-pin key in the secrets file\n");
		s->outstanding--;
		return session_fail(s);
	}
	payments_voucher(key, mac, s->cust->id, v->order_id, payment_done, s);
	explicit_bzero(mac, sizeof(mac));
}

/* NOLINTNEXTLINE(misc-no-recursion): see pay_voucher() */
static void action_start(struct session *s)
{
	struct menu_vars *v = &s->run->v;
	char key[160];
	action_begin(s);
	switch (s->run->pending) {
	case MENU_ACTION_CREATE_ORDER:
		snprintf(key, sizeof(key), "%s:%s:%u", channel_names[s->ch], s->ref, s->input_index);
		orders_create(s->cust->id, v->product_id, v->qty, key, order_created, s);
		break;
	case MENU_ACTION_LOAD_ORDERS:
		orders_latest(s->cust->id, s->run->screen->max_items, orders_loaded, s);
		break;
	case MENU_ACTION_FIND_ORDER: {
		int64_t id = strtoll(v->input, NULL, 10);
		orders_find(id, s->cust->id, order_found, s);
		break;
	}
	case MENU_ACTION_SET_LANGUAGE:
		crm_set_lang(s->cust, s->run->menu->langs[v->new_lang], lang_stored, s);
		break;
	case MENU_ACTION_PAY_VOUCHER:
		snprintf(key, sizeof(key), "%s:%s:%u:voucher", channel_names[s->ch], s->ref, s->input_index);
		pay_voucher(s, key);
		break;
	case MENU_ACTION_PAY_CREDIT:
		snprintf(key, sizeof(key), "%s:%s:%u:credit", channel_names[s->ch], s->ref, s->input_index);
		payments_credit(key, s->cust->id, v->order_id, payment_done, s);
		break;
	case MENU_ACTION_CREATE_SLIP:
		snprintf(key, sizeof(key), "%s:%s:%u:slip", channel_names[s->ch], s->ref, s->input_index);
		payments_slip(key, v->order_id, g_cfg->slip_receiver, payment_done, s);
		break;
	default:
		s->outstanding--;
		session_fail(s);
		break;
	}
}

/* Feed the hop's remaining inputs to the menu until it waits on an action or they run out. */
/* Recursion through actions and queued hops, bounded by the inputs of the hop and the
 * SESSION_MAX_QUEUED waiting hops. NOLINTNEXTLINE(misc-no-recursion) */
static void session_continue(struct session *s)
{
	enum menu_state st = s->run->pending != MENU_ACTION_NONE ? MENU_PENDING : MENU_CON;
	const char *t = s->hop_text;
	for (;;) {
		if (s->run->pending != MENU_ACTION_NONE)
			return action_start(s);
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
	if (s->slow) {
		slow_result_sms(s, buf, len);
		return session_end(s, OUT_COMPLETED);
	}
	bool end = st == MENU_END;
	session_answer(s, end, buf, len);
	if (end)
		return session_end(s, OUT_COMPLETED);
	osmo_fsm_inst_state_chg(s->fi, ST_WAIT, g_cfg->idle_timeout_s, 0);
	if (s->n_waiting)
		osmo_fsm_inst_dispatch(s->fi, EV_HOP, NULL);
}

/* Start (or restart) the walk from the first screen and replay the whole history. */
static void session_replay(struct session *s)
{
	const struct menu *m = menu_set_find(s->menus, s->service_code);
	if (!m) {	/* a long code: its menu is the one whose code it extends */
		char *history;
		m = session_resolve_code(s->menus, s->service_code, &history, s);
		talloc_free(history);
	}
	int lang = menu_lang_index(m, s->cust->lang);
	menu_start(s->run, m, lang);
	s->input_index = 0;
	s->hop_pos = 0;
	s->started = true;
}

/* Writes that change what the customer has (an order, a payment) may still commit after the
 * deadline: the customer is told the result comes by SMS instead of being told it failed. */
static bool action_may_commit(enum menu_action a)
{
	return a == MENU_ACTION_CREATE_ORDER || a == MENU_ACTION_PAY_VOUCHER || a == MENU_ACTION_PAY_CREDIT ||
	       a == MENU_ACTION_CREATE_SLIP;
}

static void deadline_cb(void *data)
{
	struct session *s = data;
	char buf[MENU_SCREEN_BYTES];
	if (s->outstanding && s->run && s->run->menu && action_may_commit(s->run->pending)) {
		LOGPS(s, LOGL_NOTICE, "hop not answered within %u ms: result will follow by SMS\n", g_cfg->hop_deadline_ms);
		int len = menu_render_slow(s->run, buf, sizeof(buf));
		s->slow = true;
		while (s->n_waiting)
			session_answer(s, true, buf, len);
		return;
	}
	LOGPS(s, LOGL_NOTICE, "hop not answered within %u ms: polite END\n", g_cfg->hop_deadline_ms);
	session_fail(s);
}

/* Process the oldest queued hop. */
/* Recursion: each turn answers one of the SESSION_MAX_QUEUED waiting hops. NOLINTNEXTLINE(misc-no-recursion) */
static void session_next_hop(struct session *s)
{
	struct waiter *w = &s->waiting[0];
	if (s->reply && !strcmp(w->text, s->text)) {
		/* a retry that arrived while its original was being answered */
		STAT_INC(HOPS_REPEATED);
		session_answer(s, s->reply_end, s->reply + 4, strlen(s->reply + 4));
		if (s->n_waiting)
			session_next_hop(s);
		return;
	}
	s->hops++;
	if (!osmo_timer_pending(&s->deadline))
		osmo_timer_schedule(&s->deadline, g_cfg->hop_deadline_ms / 1000, (g_cfg->hop_deadline_ms % 1000) * 1000);
	size_t seen = strlen(s->text);
	if (!s->started || (seen && (strncmp(w->text, s->text, seen) || w->text[seen] != '*'))) {
		if (s->started)
			LOGPS(s, LOGL_INFO, "history does not extend what we answered: replaying\n");
		session_replay(s);
	} else {
		s->hop_pos = seen ? seen + 1 : 0;
	}
	s->hop_text = w->text;
	osmo_fsm_inst_state_chg(s->fi, ST_BUSY, 0, 0);
	session_continue(s);
}

static void customer_ready(void *priv, struct customer *c, int err)
{
	struct session *s = priv;
	if (s->outstanding)
		s->outstanding--;
	if (s->outcome != OUT_NONE)
		return;
	if (err || !c)
		return session_fail(s);
	s->cust = c;
	/* the customer's newest dialogue; one left hanging behind it counts as abandoned when
	 * it idles out. It is not cut short here: a phone network may still deliver its last hop. */
	c->live = s;
	osmo_fsm_inst_dispatch(s->fi, EV_READY, NULL);
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
	osmo_timer_setup(&s->deadline, deadline_cb, s);
	hash_add(g.by_ref, &s->node, session_hash(s->ch, s->ref));
	g.count++;
	STAT_INC(SESS_STARTED);
	return s;
}

static int session_destructor(struct session *s)
{
	if (!--s->menus->users && !s->menus->current)
		talloc_free(s->menus);
	osmo_timer_del(&s->deadline);
	hash_del(&s->node);
	g.count--;
	if (s->cust && s->cust->live == s)
		s->cust->live = NULL;
	for (unsigned i = 0; i < s->n_waiting; i++)
		talloc_free(s->waiting[i].text);
	return 0;
}

/* The dialled code picks the menu. A long code (*120*777*1042#) is the menu's code with
 * extra inputs: they follow the menu's long-code prefix, so *120*777*1042# on a menu with
 * `long-code: "3"` starts as if the customer had typed 3 then 1042. */
static const struct menu *session_resolve_code(const struct menu_set *set, const char *code, char **history, void *ctx)
{
	const struct menu *m = menu_set_find(set, code);
	*history = NULL;
	if (m)
		return m;
	size_t len = strlen(code);
	if (len < 3 || code[len - 1] != '#')
		return NULL;
	for (unsigned i = 0; i < set->n; i++) {
		const struct menu *cand = set->menus[i];
		for (unsigned c = 0; c < cand->n_codes; c++) {
			size_t blen = strlen(cand->service_codes[c]) - 1;	/* without '#' */
			if (blen < len && !strncmp(code, cand->service_codes[c], blen) && code[blen] == '*' && cand->long_code) {
				*history = talloc_asprintf(ctx, "%s*%.*s", cand->long_code, (int)(len - blen - 2), code + blen + 1);
				return cand;
			}
		}
	}
	return NULL;
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
	/* the deadline runs from the hop's arrival, the customer lookup included */
	if (!s->n_waiting)
		osmo_timer_schedule(&s->deadline, g_cfg->hop_deadline_ms / 1000, (g_cfg->hop_deadline_ms % 1000) * 1000);
	s->waiting[s->n_waiting++] = (struct waiter){ hop->reply, hop->priv, talloc_strdup(s, text) };
	if (hop->mo_id)
		osmo_talloc_replace_string(s, &s->last_mo_id, hop->mo_id);
}

void session_hop(const struct session_hop *hop)
{
	static const char unknown[] = "This service code is not in use.";
	static const char expired[] = "Your session has ended. Please dial again.";
	struct session *s = session_find(hop->ch, hop->ref);

	if (hop->op == SESSION_OP_ABORT) {
		/* the network gave up on the dialogue (the customer hung up) */
		if (s && s->outcome == OUT_NONE && !s->n_waiting)
			session_end(s, OUT_ABANDONED);
		return;
	}
	if (!s || s->outcome == OUT_NONE) {
		enum ratelimit_verdict v = ratelimit_hop(hop->msisdn, !s);
		if (v != RATELIMIT_OK) {
			static const char slow_down[] = "Too many requests from your number. Please try again later.";
			LOGP(DSESS, LOGL_NOTICE, "%s: %s limit reached\n", hop->msisdn, v == RATELIMIT_HOPS ? "hop" : "session");
			hop->reply(hop->priv, true, slow_down, sizeof(slow_down) - 1);
			return;
		}
	}
	if (s && hop->mo_id && s->last_mo_id && !strcmp(hop->mo_id, s->last_mo_id) && s->reply && !s->n_waiting) {
		STAT_INC(HOPS_REPEATED);	/* the same message delivered twice */
		hop->reply(hop->priv, s->reply_end, s->reply + 4, strlen(s->reply + 4));
		return;
	}
	if (!s || (hop->op == SESSION_OP_BEGIN && s->outcome != OUT_NONE)) {
		if (s)	/* a network reusing a session id for a new dialogue: the old one lingers unseen */
			s->retired = true;
		if (hop->op == SESSION_OP_CONTINUE) {
			hop->reply(hop->priv, true, expired, sizeof(expired) - 1);
			return;
		}
		char *history;
		if (!session_resolve_code(g.menus, hop->service_code, &history, g.ctx)) {
			hop->reply(hop->priv, true, unknown, sizeof(unknown) - 1);
			return;
		}
		s = session_alloc(hop);
		talloc_set_destructor(s, session_destructor);
		s->prefix = history ? talloc_steal(s, history) : NULL;
		char *first = session_with_prefix(s, hop->op == SESSION_OP_HISTORY ? hop->text : "");
		session_queue(s, hop, first);
		talloc_free(first);
		/* cached customers answer at once (EV_READY), new ones after the database did */
		s->outstanding++;
		crm_get(s->msisdn, customer_ready, s);
		return;
	}
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
	if (s->outcome != OUT_NONE || s->slow) {
		/* the dialogue is over: a repeat or anything later gets its final screen again, or,
		 * when it idled out on a question, word that it ended */
		if (s->reply && s->reply_end)
			hop->reply(hop->priv, true, s->reply + 4, strlen(s->reply + 4));
		else
			hop->reply(hop->priv, true, expired, sizeof(expired) - 1);
	} else if (!strcmp(text, s->text) && s->reply && !s->n_waiting) {
		/* a repeated hop: the same answer, no second effect */
		STAT_INC(HOPS_REPEATED);
		hop->reply(hop->priv, s->reply_end, s->reply + 4, strlen(s->reply + 4));
	} else if (s->n_waiting == SESSION_MAX_QUEUED) {
		static const char busy[] = "Please wait for the previous answer.";
		hop->reply(hop->priv, false, busy, sizeof(busy) - 1);
	} else {
		session_queue(s, hop, text);
		osmo_fsm_inst_dispatch(s->fi, EV_HOP, NULL);
	}
	talloc_free(text);
}

void session_init(void *ctx)
{
	g.ctx = talloc_named_const(ctx, 0, "sessions");
	hash_init(g.by_ref);
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

unsigned session_count(void)
{
	return g.count;
}

static const char *const state_names[] = { "LOOKUP", "BUSY", "WAIT", "DONE" };

void session_foreach(void (*cb)(const struct session_info *si, void *priv), void *priv)
{
	struct session *s;
	struct hlist_node *tmp;
	unsigned b;
	hash_for_each_safe(g.by_ref, b, tmp, s, node) {
		struct session_info si = { s->ref, s->msisdn, s->run && s->run->screen ? s->run->screen->name : "-",
			s->fi ? state_names[s->fi->state] : "?", s->hops, (time_t)s->started_at };
		cb(&si, priv);
	}
}

void session_foreach_customer(const struct customer *c, void (*cb)(const struct session_info *si, void *priv), void *priv)
{
	struct session *s = c->live;
	if (!s)
		return;
	struct session_info si = { s->ref, s->msisdn, s->run && s->run->screen ? s->run->screen->name : "-",
		s->fi ? state_names[s->fi->state] : "?", s->hops, (time_t)s->started_at };
	cb(&si, priv);
}

void session_shutdown(void)
{
	struct session *s;
	struct hlist_node *tmp;
	unsigned b;
	/* dialogues cut by a shutdown are on the timeline as errors */
	hash_for_each_safe(g.by_ref, b, tmp, s, node)
		if (s->outcome == OUT_NONE && s->cust)
			session_fail(s);
}

/* After the database is closed: no callback can come for a session any more, so every one can go
 * (before, a session waiting on the database must stay allocated for its callback). */
void session_release(void)
{
	struct session *s;
	struct hlist_node *tmp;
	unsigned b;
	hash_for_each_safe(g.by_ref, b, tmp, s, node)
		if (s->fi)
			osmo_fsm_inst_term(s->fi, OSMO_FSM_TERM_REQUEST, NULL);
}

/* ---- the state machine ---- */

#define S(x) (1 << (x))

static void st_lookup(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	struct session *s = fi->priv;
	if (event == EV_READY)
		session_next_hop(s);
	/* EV_HOP while looking up: queued, served after the first */
}

static void st_busy(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	/* hops arriving now wait in the queue; session_continue serves them in order */
}

static void st_wait(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	struct session *s = fi->priv;
	if (event == EV_HOP && s->n_waiting)
		session_next_hop(s);
}

static void st_done(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
}

static int session_timer_cb(struct osmo_fsm_inst *fi)
{
	struct session *s = fi->priv;
	switch (fi->state) {
	case ST_WAIT:
		session_end(s, s->cust && s->cust->live != s ? OUT_ABANDONED : OUT_TIMEOUT);
		return 0;
	case ST_DONE:
		if (s->outstanding) {
			osmo_fsm_inst_state_chg(fi, ST_DONE, SESSION_LINGER_S, 0);
			return 0;
		}
		return 1;	/* terminate: frees the session via its talloc parent below */
	default:
		return 0;
	}
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
	{ EV_READY, "READY" },
	{ EV_DEADLINE, "DEADLINE" },
	{ 0, NULL }
};

static const struct osmo_fsm_state session_states[] = {
	[ST_LOOKUP] = {
		.name = "LOOKUP",
		.in_event_mask = S(EV_HOP) | S(EV_READY),
		.out_state_mask = S(ST_BUSY) | S(ST_WAIT) | S(ST_DONE),
		.action = st_lookup,
	},
	[ST_BUSY] = {
		.name = "BUSY",
		.in_event_mask = S(EV_HOP),
		.out_state_mask = S(ST_BUSY) | S(ST_WAIT) | S(ST_DONE),
		.action = st_busy,
	},
	[ST_WAIT] = {
		.name = "WAIT",
		.in_event_mask = S(EV_HOP),
		.out_state_mask = S(ST_BUSY) | S(ST_WAIT) | S(ST_DONE),
		.action = st_wait,
	},
	[ST_DONE] = {
		.name = "DONE",
		.in_event_mask = S(EV_HOP) | S(EV_READY),
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
