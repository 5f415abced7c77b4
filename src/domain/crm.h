#pragma once
/* Customer records: created on first contact, keyed by E.164 MSISDN, cached in memory
 * (a customer's id and language are read on every hop and change rarely). The cache is
 * bounded (memory customers): past the bound the least recently used record that nobody
 * holds goes (customers:evictions), and is read from the database again when next needed. */
#include <stdbool.h>
#include <stdint.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/hashtable.h>
#include <osmocom/core/linuxlist.h>
#include "db_stmts.h"

/* The longest name a screen shows. SQL allows 40 characters, but the isiZulu home screen with
 * "Sawubona <40 septets>" above it is 11 septets over budget, so the greeting cuts every name
 * to this (two-septet characters, []{}|^~\\ and the euro sign, count twice). */
#define CRM_NAME_SEPTETS 28

/* What the home screen shows of a customer besides the name (menu.h: reorder:, offers:), read
 * with the record at first contact (store/db_stmts.def, CUSTOMER_UPSERT) and kept here, so a hop
 * that renders the home screen asks the database nothing. Ids only: names and prices come from
 * the catalogue in memory when the screen is drawn, so they are always today's. */
struct crm_home {
	int64_t last_order;	/* the customer's latest order, any status; 0: none */
	int32_t last_product;	/* its first line's product */
	int32_t fav_product;	/* bought in the most of their last 20 paid orders (ties: the latest); 0: none */
	uint8_t last_lines;	/* how many lines the latest order has */
	int8_t segment;		/* segment_rule.h's enum segment_named, -1: none (never paid) */
};

struct customer {
	struct hlist_node node;
	struct llist_head lru;	/* most recently used first */
	unsigned users;		/* holders (crm_get() callers that did not crm_put() yet): never evicted */
	bool forgotten;		/* out of the cache (spazactl customer forget): freed by its last crm_put() */
	int64_t id;
	char msisdn[17];
	char lang[8];
	/* The name as the home screen greets with it (sql/018's customers.name): GSM-7 names only, cut
	 * to CRM_NAME_SEPTETS septets; "" for none, or one a screen could not show (any character
	 * outside GSM-7 would turn the whole screen into UCS-2, whose budget is less than half). */
	char name[CRM_NAME_SEPTETS * 2 + 1];
	bool name_asked;	/* the name was given or the question skipped: never asked again */
	/* The segments were rebuilt (the nightly sweep) since this record was read: the next
	 * crm_get() reads it again, one lookup as at first contact, never one per hop. */
	bool reread;
	struct crm_home home;
};

typedef void (*crm_cb)(void *priv, struct customer *c, int err);

void crm_init(void *ctx);
/* Calls cb at once when the customer is cached, else after the database answered.
 * Returns NULL when cb was already called; otherwise cb is called exactly once later.
 * A customer handed to cb is held for the caller until it calls crm_put(). */
struct db_req *crm_get(const char *msisdn, crm_cb cb, void *priv);
void crm_put(struct customer *c);
/* crm_get() with one question of the caller's folded into the lookup, so that a hop that needs
 * both pays one statement (a long code's digits, longcode.h): stmt takes the number, the
 * default language and question, and answers CUSTOMER_UPSERT's columns and then the answer.
 * Always one statement, cached customer or not (the record is refreshed from it). cb exactly
 * once, after the database answered: the customer held as crm_get()'s, the answer valid
 * during the call; NULL and "" with -errno. */
typedef void (*crm_answer_cb)(void *priv, struct customer *c, const char *answer, int err);
struct db_req *crm_get_asking(const char *msisdn, enum db_stmt stmt, const char *question, crm_answer_cb cb,
			      void *priv);
/* The cached record, not held: use it before the loop turns. */
struct customer *crm_cached(const char *msisdn);
/* Store the language; cb(priv, c, err) after commit. */
struct db_req *crm_set_lang(struct customer *c, const char *lang, crm_cb cb, void *priv);
unsigned crm_cache_size(void);
/* The customer's answer to "Your name?" (sql/021: through spaza_customer_set(), source ussd):
 * a name, or "" to skip. The first answer stands; cb(priv, c, err) after commit, with c->name
 * as kept. */
struct db_req *crm_set_name(struct customer *c, const char *name, crm_cb cb, void *priv);
/* Marketing consent (promotions by SMS; sql/003's opt_out, sql/018's history): cb(priv, consent,
 * 0) once after the database answered, or cb(priv, false, -errno). Not cached: staff and SMS
 * STOP change it behind the cache's back, and the screen that shows it is rare. */
typedef void (*crm_consent_cb)(void *priv, bool consent, int err);
void crm_consent(const struct customer *c, crm_consent_cb cb, void *priv);
/* The customer's own choice on USSD, recorded as SMS STOP/START record theirs (when, source
 * ussd; sql/018 puts it on the timeline); cb after commit with the consent as chosen. */
void crm_set_consent(const struct customer *c, bool consent, crm_consent_cb cb, void *priv);
/* The name as a screen shows it (see struct customer): into out, "" when it cannot be shown. */
void crm_name_keep(char *out, size_t len, const char *name);
/* An order placed in this dialogue (its id, its first line's product, how many lines): the
 * home screen's Reorder line offers it from now on, without asking the database. */
void crm_order_placed(struct customer *c, int64_t order, int32_t first_product, unsigned lines);
/* An order paid in this dialogue, whose first line is first_product. Only sql/015's scores move
 * a segment, and the database keeps them; the one move known here for sure is a first paid
 * order: a customer in no segment is "new" (its first test that can hold), buying that product.
 * Every other move reaches the record at the next rebuild (crm_reread_all()). */
void crm_order_paid(struct customer *c, int32_t first_product);
/* The segments were rebuilt: every cached record is read again at its customer's next
 * dialogue (struct customer's reread). */
void crm_reread_all(void);
