/* Customer records: one database upsert the first time a number is seen by this daemon,
 * memory after that. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/hashtable.h>
#include "crm.h"
#include "db.h"
#include "logging.h"
#include "stats.h"

#define CRM_HASH_BITS 14

static struct {
	void *ctx;
	DECLARE_HASHTABLE(by_msisdn, CRM_HASH_BITS);
	unsigned count;
} g;

static uint32_t crm_hash(const char *s)
{
	uint32_t h = 2166136261u;
	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

void crm_init(void *ctx)
{
	g.ctx = talloc_named_const(ctx, 0, "crm");
	hash_init(g.by_msisdn);
}

struct customer *crm_cached(const char *msisdn)
{
	struct customer *c;
	hash_for_each_possible(g.by_msisdn, c, node, crm_hash(msisdn))
		if (!strcmp(c->msisdn, msisdn))
			return c;
	return NULL;
}

unsigned crm_cache_size(void)
{
	return g.count;
}

struct crm_lookup {
	char msisdn[17];
	crm_cb cb;
	void *priv;
};

static void crm_upsert_cb(void *priv, const PGresult *res, int err)
{
	struct crm_lookup *lk = priv;
	struct customer *c = NULL;
	if (!err && PQntuples(res) == 1) {
		/* two sessions of a new customer may both have asked: the first answer is cached */
		c = crm_cached(lk->msisdn);
		if (!c) {
			c = talloc_zero(g.ctx, struct customer);
			snprintf(c->msisdn, sizeof(c->msisdn), "%s", lk->msisdn);
			hash_add(g.by_msisdn, &c->node, crm_hash(c->msisdn));
			g.count++;
		}
		c->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		snprintf(c->lang, sizeof(c->lang), "%s", PQgetvalue(res, 0, 1));
		STAT_INC(CUSTOMERS_NEW);
	} else {
		STAT_INC(DB_ERRORS);
		LOGP(DCRM, LOGL_ERROR, "%s: customer lookup failed (%d)\n", lk->msisdn, err);
		if (!err)
			err = -EIO;
	}
	lk->cb(lk->priv, c, err);
	talloc_free(lk);
}

struct db_req *crm_get(const char *msisdn, crm_cb cb, void *priv)
{
	struct customer *c = crm_cached(msisdn);
	if (c) {
		cb(priv, c, 0);
		return NULL;
	}
	struct crm_lookup *lk = talloc_zero(g.ctx, struct crm_lookup);
	snprintf(lk->msisdn, sizeof(lk->msisdn), "%s", msisdn);
	lk->cb = cb;
	lk->priv = priv;
	const char *params[2] = { lk->msisdn, "en" };
	return db_write(DB_CUSTOMER_UPSERT, 2, params, crm_upsert_cb, lk);
}

struct crm_lang {
	struct customer *c;
	char lang[8];
	crm_cb cb;
	void *priv;
};

static void crm_lang_cb(void *priv, const PGresult *res, int err)
{
	struct crm_lang *cl = priv;
	if (!err)
		snprintf(cl->c->lang, sizeof(cl->c->lang), "%s", cl->lang);
	else
		STAT_INC(DB_ERRORS);
	cl->cb(cl->priv, cl->c, err);
	talloc_free(cl);
}

struct db_req *crm_set_lang(struct customer *c, const char *lang, crm_cb cb, void *priv)
{
	struct crm_lang *cl = talloc_zero(g.ctx, struct crm_lang);
	char id[24];
	cl->c = c;
	snprintf(cl->lang, sizeof(cl->lang), "%s", lang);
	cl->cb = cb;
	cl->priv = priv;
	snprintf(id, sizeof(id), "%lld", (long long)c->id);
	const char *params[2] = { id, cl->lang };
	return db_write(DB_CUSTOMER_SET_LANG, 2, params, crm_lang_cb, cl);
}
