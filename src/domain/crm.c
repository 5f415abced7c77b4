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
#include "gsm7.h"
#include "cfg.h"
#include "logging.h"
#include "segment_rule.h"
#include "siphash.h"
#include "stats.h"

#define CRM_HASH_BITS 14
/* How far from the cold end eviction looks for a record nobody holds: held ones are used by a
 * live dialogue, so they sit near the warm end, and the bound may be passed for a moment
 * rather than the whole list walked. */
#define CRM_EVICT_SCAN 8

static struct {
	void *ctx;
	DECLARE_HASHTABLE(by_msisdn, CRM_HASH_BITS);
	struct llist_head lru;
	unsigned count;
	uint8_t key[SIPHASH_KEY_LEN];	/* drawn at start: invented numbers cannot pick a bucket */
} g;

static uint32_t crm_hash(const char *s)
{
	return (uint32_t)siphash24(g.key, s, strlen(s));
}

static void crm_drop(struct customer *c)
{
	hash_del(&c->node);
	llist_del(&c->lru);
	g.count--;
}

/* Keeps the cache within memory customers. */
static void crm_evict(void)
{
	struct llist_head *pos = g.lru.prev;
	for (unsigned scanned = 0; pos != &g.lru && scanned < CRM_EVICT_SCAN && g.count >= g_cfg->customer_cache_max;
	     scanned++) {
		struct customer *c = llist_entry(pos, struct customer, lru);
		pos = pos->prev;
		if (c->users)
			continue;
		crm_drop(c);
		talloc_free(c);
		STAT_INC(CUSTOMER_EVICTIONS);
	}
}

void crm_put(struct customer *c)
{
	if (--c->users == 0 && c->forgotten)
		talloc_free(c);
}

/* `spazactl customer forget` gave a number's record a pseudonym (sql/008_audit.sql): the cache
 * must not link the number to it again. The notification names no number, and a forget is
 * rare, so the whole cache goes; a record a live dialogue holds leaves the cache now and
 * memory when the dialogue lets it go. */
static void crm_forgotten(void *priv)
{
	struct customer *c, *tmp;
	llist_for_each_entry_safe(c, tmp, &g.lru, lru) {
		crm_drop(c);
		if (c->users)
			c->forgotten = true;
		else
			talloc_free(c);
	}
	LOGP(DCRM, LOGL_NOTICE, "a customer was forgotten: the customer cache is emptied\n");
}

void crm_init(void *ctx)
{
	g.ctx = talloc_named_const(ctx, 0, "crm");
	hash_init(g.by_msisdn);
	INIT_LLIST_HEAD(&g.lru);
	siphash_random_key(g.key);
	db_listen("spaza_customer_forgotten", crm_forgotten, NULL);
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
	crm_answer_cb answer_cb;	/* crm_get_asking(): the row's column after the customer's */
	void *priv;
};

/* A question asked with the lookup (crm_get_asking()) is answered in the column after the
 * record's: id, lang, name, asked, then the five home columns (db_stmts.def). */
#define CRM_ANSWER_COL 9

/* CUSTOMER_UPSERT's home columns, from col on: last order, its first product, its lines, the
 * segment's word, the product bought most. */
static void crm_home_parse(struct crm_home *h, const PGresult *res, int col)
{
	long lines = strtol(PQgetvalue(res, 0, col + 2), NULL, 10);
	h->last_order = strtoll(PQgetvalue(res, 0, col), NULL, 10);
	h->last_product = (int32_t)strtol(PQgetvalue(res, 0, col + 1), NULL, 10);
	h->last_lines = lines > UINT8_MAX ? UINT8_MAX : (uint8_t)lines;
	h->segment = (int8_t)segment_named_index(PQgetvalue(res, 0, col + 3));
	h->fav_product = (int32_t)strtol(PQgetvalue(res, 0, col + 4), NULL, 10);
}

static void crm_upsert_cb(void *priv, const PGresult *res, int err)
{
	struct crm_lookup *lk = priv;
	struct customer *c = NULL;
	if (!err && PQntuples(res) == 1) {
		/* two sessions of a new customer may both have asked: the first answer is cached; a
		 * record read again (reread) is refreshed where it is */
		c = crm_cached(lk->msisdn);
		if (c && c->reread) {
			c->reread = false;
			llist_move(&c->lru, &g.lru);
		} else if (!c) {
			crm_evict();
			c = talloc_zero(g.ctx, struct customer);
			snprintf(c->msisdn, sizeof(c->msisdn), "%s", lk->msisdn);
			hash_add(g.by_msisdn, &c->node, crm_hash(c->msisdn));
			llist_add(&c->lru, &g.lru);
			g.count++;
		} else {
			llist_move(&c->lru, &g.lru);
		}
		c->users++;
		c->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		snprintf(c->lang, sizeof(c->lang), "%s", PQgetvalue(res, 0, 1));
		crm_name_keep(c->name, sizeof(c->name), PQgetvalue(res, 0, 2));
		c->name_asked = PQgetvalue(res, 0, 3)[0] == 't';
		crm_home_parse(&c->home, res, 4);
		STAT_INC(CUSTOMERS_NEW);
	} else {
		STAT_INC(DB_ERRORS);
		LOGP(DCRM, LOGL_ERROR, "%s: customer lookup failed (%d)\n", lk->msisdn, err);
		if (!err)
			err = -EIO;
	}
	if (lk->answer_cb)
		lk->answer_cb(lk->priv, c, c && PQnfields(res) > CRM_ANSWER_COL ? PQgetvalue(res, 0, CRM_ANSWER_COL) : "", err);
	else
		lk->cb(lk->priv, c, err);
	talloc_free(lk);
}

static struct crm_lookup *crm_lookup_new(const char *msisdn, void *priv)
{
	struct crm_lookup *lk = talloc_zero(g.ctx, struct crm_lookup);
	snprintf(lk->msisdn, sizeof(lk->msisdn), "%s", msisdn);
	lk->priv = priv;
	return lk;
}

struct db_req *crm_get(const char *msisdn, crm_cb cb, void *priv)
{
	struct customer *c = crm_cached(msisdn);
	if (c && !c->reread) {
		c->users++;
		llist_move(&c->lru, &g.lru);
		cb(priv, c, 0);
		return NULL;
	}
	struct crm_lookup *lk = crm_lookup_new(msisdn, priv);
	lk->cb = cb;
	const char *params[2] = { lk->msisdn, "en" };
	return db_write(DB_CUSTOMER_UPSERT, 2, params, crm_upsert_cb, lk);
}

/* A write, as CUSTOMER_UPSERT is: a new number's record is created by it. */
struct db_req *crm_get_asking(const char *msisdn, enum db_stmt stmt, const char *question, crm_answer_cb cb,
			      void *priv)
{
	struct crm_lookup *lk = crm_lookup_new(msisdn, priv);
	lk->answer_cb = cb;
	const char *params[3] = { lk->msisdn, "en", question };
	return db_write(stmt, 3, params, crm_upsert_cb, lk);
}

/* A change of the customer's record (language, name): the cache follows after commit. */
struct crm_change {
	struct customer *c;
	bool name;
	char value[48];		/* a language code, or a name typed on USSD (40 characters of GSM-7 text) */
	crm_cb cb;
	void *priv;
};

static void crm_change_cb(void *priv, const PGresult *res, int err)
{
	struct crm_change *cl = priv;
	if (!err && cl->name && PQntuples(res) == 1) {
		crm_name_keep(cl->c->name, sizeof(cl->c->name), PQgetvalue(res, 0, 0));
		cl->c->name_asked = true;
	} else if (!err && !cl->name) {
		snprintf(cl->c->lang, sizeof(cl->c->lang), "%.*s", (int)sizeof(cl->c->lang) - 1, cl->value);
	} else {
		STAT_INC(DB_ERRORS);
		if (!err)
			err = -EIO;
	}
	cl->cb(cl->priv, cl->c, err);
	talloc_free(cl);
}

static struct db_req *crm_change(struct customer *c, bool name, const char *value, crm_cb cb, void *priv)
{
	struct crm_change *cl = talloc_zero(g.ctx, struct crm_change);
	char id[24];
	cl->c = c;
	cl->name = name;
	snprintf(cl->value, sizeof(cl->value), "%s", value);
	cl->cb = cb;
	cl->priv = priv;
	snprintf(id, sizeof(id), "%lld", (long long)c->id);
	const char *params[2] = { id, cl->value };
	return db_write(name ? DB_CUSTOMER_NAME_USSD : DB_CUSTOMER_SET_LANG, 2, params, crm_change_cb, cl);
}

struct db_req *crm_set_lang(struct customer *c, const char *lang, crm_cb cb, void *priv)
{
	return crm_change(c, false, lang, cb, priv);
}

struct db_req *crm_set_name(struct customer *c, const char *name, crm_cb cb, void *priv)
{
	return crm_change(c, true, name, cb, priv);
}

/* Consent, read or changed; a change is SMS STOP/START's statement with the source ussd (the
 * timeline names it), and the same choice again changes nothing. */
struct crm_consent_call {
	int set;	/* -1: a read; else the consent chosen */
	crm_consent_cb cb;
	void *priv;
};

static void crm_consent_done(void *priv, const PGresult *res, int err)
{
	struct crm_consent_call cc = *(struct crm_consent_call *)priv;
	talloc_free(priv);
	if (!err && cc.set < 0 && PQntuples(res) != 1)
		err = -EIO;
	if (err)
		STAT_INC(DB_ERRORS);
	cc.cb(cc.priv, err ? false : cc.set < 0 ? PQgetvalue(res, 0, 0)[0] == 't' : cc.set, err);
}

static void crm_consent_call(const struct customer *c, int set, crm_consent_cb cb, void *priv)
{
	struct crm_consent_call *cc = talloc_zero(g.ctx, struct crm_consent_call);
	char id[24];
	cc->set = set;
	cc->cb = cb;
	cc->priv = priv;
	snprintf(id, sizeof(id), "%lld", (long long)c->id);
	const char *params[3] = { id, set ? "false" : "true", "ussd" };	/* opt_out is consent's opposite */
	if (set < 0)
		db_read(DB_CUSTOMER_CONSENT, 1, params, crm_consent_done, cc);
	else
		db_write(DB_SMS_OPT_OUT, 3, params, crm_consent_done, cc);
}

void crm_consent(const struct customer *c, crm_consent_cb cb, void *priv)
{
	crm_consent_call(c, -1, cb, priv);
}

void crm_set_consent(const struct customer *c, bool consent, crm_consent_cb cb, void *priv)
{
	crm_consent_call(c, consent, cb, priv);
}

void crm_name_keep(char *out, size_t len, const char *name)
{
	/* a GSM-7 character is at most two bytes of UTF-8 a septet ("€": three for two) */
	size_t keep = gsm7_prefix(name, strlen(name), CRM_NAME_SEPTETS);
	if (keep >= len)
		keep = 0;
	memcpy(out, name, keep);
	out[keep] = '\0';
}

void crm_order_placed(struct customer *c, int64_t order, int32_t first_product, unsigned lines)
{
	if (order <= c->home.last_order)	/* a replayed hop finds the order it placed: no news */
		return;
	c->home.last_order = order;
	c->home.last_product = first_product;
	c->home.last_lines = lines > UINT8_MAX ? UINT8_MAX : (uint8_t)lines;
}

void crm_order_paid(struct customer *c, int32_t first_product)
{
	if (c->home.segment >= 0)
		return;
	c->home.segment = SEGMENT_NEW;
	c->home.fav_product = first_product;
}

void crm_reread_all(void)
{
	struct customer *c;
	llist_for_each_entry(c, &g.lru, lru)
		c->reread = true;
}
