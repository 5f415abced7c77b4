/* The digits of a long code (longcode.h): the started campaigns' dial codes in memory, and the
 * one question a dial with other digits asks the database, folded into its customer lookup. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include "longcode.h"
#include "crm.h"
#include "db.h"
#include "logging.h"

static struct {
	void *ctx;
	char **codes;		/* sorted (strcmp), for bsearch: one per started campaign with a code */
	unsigned n;
	/* Loads may overlap (a notification while one is in flight) and reads of one loop turn may
	 * go out on different connections: only an answer newer than the one in use replaces it. */
	unsigned asked, applied;
} g;

static int longcode_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void longcode_codes_loaded(void *priv, const PGresult *res, int err)
{
	unsigned gen = (unsigned)(uintptr_t)priv;
	if (err) {
		LOGP(DCRM, LOGL_ERROR, "campaign dial codes not read (%d): keeping the %u known\n", err, g.n);
		return;
	}
	if (gen <= g.applied)
		return;
	g.applied = gen;
	unsigned n = PQntuples(res);
	char **codes = talloc_zero_array(g.ctx, char *, n ? n : 1);
	for (unsigned i = 0; i < n; i++)
		codes[i] = talloc_strdup(codes, PQgetvalue(res, i, 0));
	qsort(codes, n, sizeof(*codes), longcode_cmp);
	talloc_free(g.codes);
	g.codes = codes;
	g.n = n;
	LOGP(DCRM, LOGL_INFO, "%u campaign dial codes lead to the home screen\n", n);
}

/* db_listen() calls this after every (re)connect too: a code that started during an outage is
 * known once the database is back. */
static void longcode_codes_changed(void *priv)
{
	db_read(DB_LONGCODE_CAMPAIGN_CODES, 0, NULL, longcode_codes_loaded, (void *)(uintptr_t)++g.asked);
}

void longcode_init(void *ctx)
{
	g.ctx = talloc_named_const(ctx, 0, "longcode");
	db_listen("spaza_campaign_codes", longcode_codes_changed, NULL);
}

bool longcode_campaign(const char *code)
{
	return g.n && bsearch(&code, g.codes, g.n, sizeof(*g.codes), longcode_cmp);
}

struct longcode_call {
	longcode_cb cb;
	void *priv;
};

static void longcode_resolved(void *priv, struct customer *c, const char *answer, int err)
{
	struct longcode_call lc = *(struct longcode_call *)priv;
	talloc_free(priv);
	lc.cb(lc.priv, c, !err && !strcmp(answer, "referral"), err);
}

void longcode_resolve(const char *msisdn, const char *digits, longcode_cb cb, void *priv)
{
	struct longcode_call *lc = talloc_zero(g.ctx, struct longcode_call);
	lc->cb = cb;
	lc->priv = priv;
	crm_get_asking(msisdn, DB_LONGCODE_RESOLVE, digits, longcode_resolved, lc);
}
