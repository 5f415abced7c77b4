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

struct customer {
	struct hlist_node node;
	struct llist_head lru;	/* most recently used first */
	unsigned users;		/* holders (crm_get() callers that did not crm_put() yet): never evicted */
	bool forgotten;		/* out of the cache (spazactl customer forget): freed by its last crm_put() */
	int64_t id;
	char msisdn[17];
	char lang[8];
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
