#pragma once
/* USSD sessions: every front end turns what arrives into a hop and hands it here; one
 * osmo_fsm instance per session (session_fsm.c) sequences the dialogue: it looks up the
 * customer, feeds the hop's inputs to the menu engine, has actions.c run a screen's action,
 * answers through the callback of the front end the hop came from, and keeps the deadlines
 * (the hop's, the idle timeout) and the memory that answers a repeated hop. */
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum session_channel { SESSION_CH_AT, SESSION_CH_KANNEL, SESSION_CH_BOX, _SESSION_CH_COUNT };

/* What a hop says: AT hops carry the whole history in text; SMPP hops carry one input. */
enum session_op { SESSION_OP_HISTORY, SESSION_OP_BEGIN, SESSION_OP_CONTINUE, SESSION_OP_ABORT };

/* The reply to one hop: end says whether the session is over (END) or continues (CON). */
typedef void (*session_reply_cb)(void *priv, bool end, const char *screen, size_t len);

struct session_hop {
	enum session_channel ch;
	const char *ref;		/* the front end's session id */
	const char *msisdn;		/* E.164 */
	const char *service_code;
	enum session_op op;
	const char *text;		/* HISTORY: every input of the session so far, joined by '*' */
	const char *input;		/* CONTINUE: the one new input */
	const char *mo_id;		/* the front end's message id, if any: a duplicate delivery is answered once */
	const char *peer;		/* who handed it over (aggregator, smsbox, bearerbox): counts failed PINs */
	session_reply_cb reply;
	void *priv;
};

void session_init(void *ctx);
void session_hop(const struct session_hop *hop);
/* Re-read menus: new sessions use them, live ones keep the menus they started with. */
struct menu_set;
void session_set_menus(struct menu_set *set);
/* The menus new sessions get (`show menus`). */
const struct menu_set *session_menus(void);

/* For `show sessions`. */
struct session_info {
	const char *ref, *msisdn, *screen, *state;
	unsigned hops;
	time_t started;
};
void session_foreach(void (*cb)(const struct session_info *si, void *priv), void *priv);
unsigned session_count(void);
struct customer;
/* Whether the customer has a dialogue going on (the newest, if they dialled again). */
bool session_customer_live(const struct customer *c);
void session_foreach_customer(const struct customer *c, void (*cb)(const struct session_info *si, void *priv), void *priv);
void session_shutdown(void);
void session_release(void);
