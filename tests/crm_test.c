/* The customer cache stays within its bound (memory customers) whatever numbers a flood
 * invents: the least recently used record nobody holds goes (customers:evictions); a record a
 * live dialogue holds is never freed under it. The database is faked at link time: every
 * upsert answers with a new id. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include <libpq-fe.h>
#include "cfg.h"
#include "crm.h"
#include "db.h"
#include "logging.h"
#include "segment_rule.h"
#include "stats.h"
#include "testlib.h"

#define MAX 50

static long long next_id = 1;

struct db_req *db_write(enum db_stmt stmt, int nparams, const char *const *params, db_cb cb, void *priv)
{
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	/* the record, then the home screen's: last order, its first product, its lines, segment,
	 * favourite; a question folded into the lookup (crm_get_asking()) reads the same record (its
	 * id) and has its answer after them */
	static const char *const names[10] = { "id", "lang", "name", "asked", "last", "product", "lines", "segment",
					       "fav", "answer" };
	const char *vals[10] = { NULL, "en", "Thandi", "t", "1042", "201", "3", "once-off", "101", NULL };
	bool asking = stmt == DB_LONGCODE_RESOLVE;
	int n = asking ? 10 : 9;
	PGresAttDesc cols[10];
	char id[24];
	snprintf(id, sizeof(id), "%lld", asking ? next_id - 1 : next_id++);
	vals[0] = id;
	if (asking) {
		vals[1] = "zu";
		vals[9] = params[2];
	}
	for (int i = 0; i < n; i++)
		cols[i] = (PGresAttDesc){ .name = (char *)names[i], .format = 0 };
	PQsetResultAttrs(res, n, cols);
	for (int i = 0; i < n; i++)
		PQsetvalue(res, 0, i, (char *)vals[i], strlen(vals[i]));
	cb(priv, res, 0);
	PQclear(res);
	return NULL;
}

/* reads (the consent) are not this test's: the database is down for them */
struct db_req *db_read(enum db_stmt stmt, int nparams, const char *const *params, db_cb cb, void *priv)
{
	cb(priv, NULL, -ENOTCONN);
	return NULL;
}

/* the LISTEN crm_init() asks for: `spazactl customer forget`'s notification */
static void (*forgotten_cb)(void *priv);

int db_listen(const char *channel, void (*cb)(void *priv), void *priv)
{
	if (!strcmp(channel, "spaza_customer_forgotten"))
		forgotten_cb = cb;
	return 0;
}

static struct customer *got;

static void on_customer(void *priv, struct customer *c, int err)
{
	got = err ? NULL : c;
}

static char answer[16];

static void on_answer(void *priv, struct customer *c, const char *a, int err)
{
	got = err ? NULL : c;
	snprintf(answer, sizeof(answer), "%s", a);
}

static uint64_t evictions(void)
{
	return rate_ctr_group_get_ctr(g_ctrs, CTR_CUSTOMER_EVICTIONS)->current;
}

int main(void)
{
	void *ctx = talloc_named_const(NULL, 0, "crm_test");
	setvbuf(stdout, NULL, _IOLBF, 0);
	spaza_logging_init(ctx);
	cfg_init(ctx);
	g_cfg->customer_cache_max = MAX;
	stats_init(ctx);
	crm_init(ctx);

	/* a customer a dialogue holds while the flood passes */
	crm_get("+27820000001", on_customer, NULL);
	struct customer *held = got;
	T_CHECK(held != NULL, "held: the customer is looked up", "none");

	char num[24];
	for (unsigned i = 0; i < 10000; i++) {
		snprintf(num, sizeof(num), "+2782%07u", i + 100);
		crm_get(num, on_customer, NULL);
		crm_put(got);
	}
	T_CHECK(crm_cache_size() <= MAX, "bound: 10,000 invented numbers leave the cache within its bound",
		"%u cached", crm_cache_size());
	T_CHECK(evictions() >= 10000 - MAX, "bound: ... the rest evicted, counted in customers:evictions",
		"%llu evictions", (unsigned long long)evictions());
	T_CHECK(crm_cached("+27820000001") == held, "held: a record a dialogue holds is not evicted under it",
		"it was");

	/* a forget: nothing cached links a number to its old record any more; the record a
	 * dialogue holds stays usable to it, and goes when it is let go */
	T_CHECK(forgotten_cb != NULL, "forget: the cache listens for spazactl customer forget", "no LISTEN");
	if (forgotten_cb)
		forgotten_cb(NULL);
	T_CHECK(crm_cache_size() == 0, "forget: the cache is emptied", "%u cached", crm_cache_size());
	T_CHECK(crm_cached("+27820000001") == NULL, "forget: the held record is out of the cache", "still found");
	T_CHECK(held->id > 0 && !strcmp(held->msisdn, "+27820000001"), "forget: ... and still whole for its dialogue",
		"id %lld", (long long)held->id);
	crm_get("+27820000001", on_customer, NULL);
	T_CHECK(got && got != held && got->id != held->id, "forget: the number's next contact reads the database again",
		"the old record came back");
	T_EQ_STR(got ? got->name : NULL, "Thandi", "name: the record carries the customer's name for the greeting");
	T_CHECK(got && got->name_asked, "name: ... and that it was asked", "not asked");
	/* the home screen's lines come with the record, and follow what the dialogue does */
	struct customer *c = got;
	T_CHECK(c && c->home.last_order == 1042 && c->home.last_product == 201 && c->home.last_lines == 3,
		"home: the latest order comes with the record", "order %lld", c ? (long long)c->home.last_order : 0LL);
	T_CHECK(c && c->home.segment == SEGMENT_ONCE_OFF && c->home.fav_product == 101,
		"home: ... the segment and the product bought most too", "segment %d", c ? c->home.segment : -9);
	if (c) {
		crm_order_placed(c, 2001, 305, 2);
		T_CHECK(c->home.last_order == 2001 && c->home.last_product == 305 && c->home.last_lines == 2,
			"home: an order placed in the dialogue is the latest at once", "order %lld", (long long)c->home.last_order);
		crm_order_placed(c, 2000, 101, 1);
		T_CHECK(c->home.last_order == 2001, "home: an older order (a replayed hop's) changes nothing",
			"order %lld", (long long)c->home.last_order);
		crm_order_paid(c, 305);
		T_CHECK(c->home.segment == SEGMENT_ONCE_OFF && c->home.fav_product == 101,
			"home: a payment leaves a segment only the scores can move", "segment %d", c->home.segment);
		c->home.segment = -1;
		crm_order_paid(c, 305);
		T_CHECK(c->home.segment == SEGMENT_NEW && c->home.fav_product == 305,
			"home: a first paid order makes a customer new, buying its product", "segment %d", c->home.segment);
		long long before = next_id;
		crm_put(c);
		crm_reread_all();
		crm_get("+27820000001", on_customer, NULL);
		T_CHECK(got == c && next_id == before + 1 && c->home.segment == SEGMENT_ONCE_OFF && !c->reread,
			"home: after a rebuild of the segments the next contact reads the record again, in place",
			"lookups %lld, segment %d", (next_id - before), c->home.segment);
		crm_get("+27820000001", on_customer, NULL);
		T_CHECK(next_id == before + 1, "home: ... once", "lookups %lld", (next_id - before));
		crm_put(c);
	}
	crm_put(got);
	crm_put(held);

	/* a question folded into the lookup: one statement even for a cached customer, whose record
	 * it refreshes, and the answer handed over with the customer (held) */
	struct customer *cached = crm_cached("+27820000001");
	crm_get_asking("+27820000001", DB_LONGCODE_RESOLVE, "referral", on_answer, NULL);
	T_CHECK(got && got == cached, "asking: a cached customer is the record handed over", "another one");
	T_EQ_STR(answer, "referral", "asking: ... with the statement's answer");
	T_EQ_STR(got ? got->lang : NULL, "zu", "asking: ... and the record refreshed from the same row");
	T_CHECK(got && got->users == 1, "asking: ... held for the caller", "%u users", got ? got->users : 0);
	crm_put(got);

	/* the greeting's name (crm_name_keep): GSM-7 only, at most CRM_NAME_SEPTETS septets */
	static const struct { const char *in, *want, *what; } names[] = {
		{ "Thandi Dlamini", "Thandi Dlamini", "name: a short GSM-7 name is kept whole" },
		{ "Nomvula Thandeka Khumalo-Dlamini", "Nomvula Thandeka Khumalo-Dla", "name: a 32-character name is cut to 28 septets" },
		{ "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "[[[[[[[[[[[[[[", "name: two-septet characters count twice" },
		{ "Zo\xc3\xab", "", "name: a name outside GSM-7 (would turn the home screen into UCS-2) is not shown" },
		{ "Th\tandi", "", "name: a control character is not shown" },
		{ "Andr\xc3\xa9", "Andr\xc3\xa9", "name: GSM-7's own accented letters are kept" },
	};
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char name[CRM_NAME_SEPTETS * 2 + 1];
		crm_name_keep(name, sizeof(name), names[i].in);
		T_EQ_STR(name, names[i].want, names[i].what);
	}
	talloc_free(ctx);
	return T_DONE();
}
