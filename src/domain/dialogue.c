/* Dialogue ids: random, and their rows in ussd_dialogues (see dialogue.h). */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <talloc.h>
#include "db.h"
#include "dialogue.h"
#include "logging.h"
#include "stats.h"

/* 64 bits: a dialogue id is unique with no coordination, across restarts and daemons. */
void dialogue_new_id(char *id)
{
	static uint64_t fallback;
	uint64_t r;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r)) {
		/* next to impossible; a unique id matters more than an unguessable one here */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		r = ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)ts.tv_nsec ^ ++fallback;
	}
	snprintf(id, DIALOGUE_ID_LEN + 1, "%016llx", (unsigned long long)r);
}

struct dialogue_call {
	void (*store_cb)(void *priv, int err);
	void (*find_cb)(void *priv, const char *id, int err);
	void *priv;
};

static struct dialogue_call *call_new(void *priv)
{
	/* under the caller, which stays allocated until its callback came */
	struct dialogue_call *c = talloc_zero(priv, struct dialogue_call);
	c->priv = priv;
	return c;
}

static void stored(void *priv, const PGresult *res, int err)
{
	struct dialogue_call *c = priv;
	if (err)
		STAT_INC(DB_ERRORS);
	if (c->store_cb)
		c->store_cb(c->priv, err);
	talloc_free(c);
}

void dialogue_store(const char *channel, const char *ref, const char *msisdn, const char *id, bool lazy,
		    void (*cb)(void *priv, int err), void *priv)
{
	struct dialogue_call *c = call_new(priv);
	c->store_cb = cb;
	const char *params[4] = { id, channel, ref, msisdn };
	if (lazy)
		db_write_lazy(DB_DIALOGUE_STORE, 4, params, stored, c);
	else
		db_write(DB_DIALOGUE_STORE, 4, params, stored, c);
}

static void found(void *priv, const PGresult *res, int err)
{
	struct dialogue_call *c = priv;
	if (err) {
		STAT_INC(DB_ERRORS);
		LOGP(DSESS, LOGL_ERROR, "dialogue lookup failed (%d)\n", err);
	}
	c->find_cb(c->priv, !err && PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : NULL, err);
	talloc_free(c);
}

void dialogue_find(const char *channel, const char *ref, const char *msisdn,
		   void (*cb)(void *priv, const char *id, int err), void *priv)
{
	struct dialogue_call *c = call_new(priv);
	c->find_cb = cb;
	const char *params[3] = { channel, ref, msisdn };
	db_read(DB_DIALOGUE_FIND, 3, params, found, c);
}
