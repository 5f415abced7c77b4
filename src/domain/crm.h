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

/* The longest name a screen shows. SQL allows 40 characters, but the isiZulu home screen with
 * "Sawubona <40 septets>" above it is 11 septets over budget, so the greeting cuts every name
 * to this (two-septet characters, []{}|^~\\ and the euro sign, count twice). */
#define CRM_NAME_SEPTETS 28

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
};

typedef void (*crm_cb)(void *priv, struct customer *c, int err);

void crm_init(void *ctx);
/* Calls cb at once when the customer is cached, else after the database answered.
 * Returns NULL when cb was already called; otherwise cb is called exactly once later.
 * A customer handed to cb is held for the caller until it calls crm_put(). */
struct db_req *crm_get(const char *msisdn, crm_cb cb, void *priv);
void crm_put(struct customer *c);
/* The cached record, not held: use it before the loop turns. */
struct customer *crm_cached(const char *msisdn);
/* Store the language; cb(priv, c, err) after commit. */
struct db_req *crm_set_lang(struct customer *c, const char *lang, crm_cb cb, void *priv);
unsigned crm_cache_size(void);
/* The customer's answer to "Your name?" (sql/021: through spaza_customer_set(), source ussd):
 * a name, or "" to skip. The first answer stands; cb(priv, c, err) after commit, with c->name
 * as kept. */
struct db_req *crm_set_name(struct customer *c, const char *name, crm_cb cb, void *priv);
/* The name as a screen shows it (see struct customer): into out, "" when it cannot be shown. */
void crm_name_keep(char *out, size_t len, const char *name);
