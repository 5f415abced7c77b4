/* Fixed-window counters, one per kind and key (a phone number's hops, its sessions, a retailer
 * key's till requests). A window is cheap to keep (a count and a start time) and good enough
 * against a script hammering the gateway: the limits are far above what a person types on a
 * feature phone or a shop's tills send. Entries whose window has ended hold nothing a new
 * window would not, so the sweep drops them.
 *
 * The keys come from outside (a phone number is whatever a hop claims), so the table is bounded
 * (memory rate-limits): past the bound the least recently counted entry goes, counted in
 * limits:evictions. An evicted entry's count starts again from zero; numbers invented to evict
 * a real one would have to outnumber the whole table within its window, and the PIN budget
 * (pin_budget.h) does not depend on this table. Buckets are chosen by SipHash under a key drawn
 * at start, so invented numbers cannot be chosen to pile into one bucket either. */
#include <string.h>
#include <time.h>
#include <talloc.h>
#include <osmocom/core/hashtable.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/timer.h>
#include "cfg.h"
#include "ratelimit.h"
#include "siphash.h"
#include "stats.h"

#define RATELIMIT_HASH_BITS 14
#define RATELIMIT_SWEEP_S 60

/* The window of each kind, in seconds */
static const unsigned rl_window_s[] = {
	[RATELIMIT_KIND_HOPS] = 60,
	[RATELIMIT_KIND_SESSIONS] = 3600,
	[RATELIMIT_KIND_TILL] = 60,
	[RATELIMIT_KIND_TILL_UNKNOWN] = 60,
	[RATELIMIT_KIND_STAFF_LOGIN] = 600,
};

struct rl_entry {
	struct hlist_node node;
	struct llist_head lru;	/* g.lru, most recently counted first */
	enum ratelimit_kind kind;
	time_t start;		/* of the window, on the monotonic clock */
	unsigned count;		/* events in the window, refused ones included */
	char key[];
};

static struct {
	void *ctx;
	DECLARE_HASHTABLE(table, RATELIMIT_HASH_BITS);
	struct llist_head lru;
	unsigned count;
	uint8_t key[SIPHASH_KEY_LEN];
	struct osmo_timer_list sweep;
} g;

static uint32_t rl_hash(enum ratelimit_kind kind, const char *s)
{
	return (uint32_t)(siphash24(g.key, s, strlen(s)) ^ kind);
}

static void rl_drop(struct rl_entry *e)
{
	hash_del(&e->node);
	llist_del(&e->lru);
	g.count--;
	talloc_free(e);
}

/* Monotonic: a wall clock stepped back would hold a window open (and a Retry-After long) */
static time_t rl_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void rl_sweep(void *data)
{
	struct rl_entry *e;
	struct hlist_node *tmp;
	unsigned b;
	time_t now = rl_now();
	hash_for_each_safe(g.table, b, tmp, e, node)
		if (now - e->start >= rl_window_s[e->kind])
			rl_drop(e);
	osmo_timer_schedule(&g.sweep, RATELIMIT_SWEEP_S, 0);
}

void ratelimit_init(void *ctx)
{
	g.ctx = talloc_named_const(ctx, 0, "ratelimit");
	hash_init(g.table);
	INIT_LLIST_HEAD(&g.lru);
	g.count = 0;
	siphash_random_key(g.key);
	osmo_timer_setup(&g.sweep, rl_sweep, NULL);
	osmo_timer_schedule(&g.sweep, RATELIMIT_SWEEP_S, 0);
}

static struct rl_entry *rl_find(enum ratelimit_kind kind, const char *key, uint32_t h)
{
	struct rl_entry *e;
	hash_for_each_possible(g.table, e, node, h)
		if (e->kind == kind && !strcmp(e->key, key))
			return e;
	return NULL;
}

/* The seconds left in e's window, at least 1 (a Retry-After of 0 would invite a retry now). */
static unsigned rl_left(const struct rl_entry *e, time_t now)
{
	time_t left = e->start + rl_window_s[e->kind] - now;
	return left < 1 ? 1 : (unsigned)left;
}

unsigned ratelimit_peek(enum ratelimit_kind kind, const char *key, unsigned limit)
{
	if (!limit || !g.ctx)
		return 0;
	time_t now = rl_now();
	const struct rl_entry *e = rl_find(kind, key, rl_hash(kind, key));
	if (!e || now - e->start >= rl_window_s[kind] || e->count < limit)
		return 0;
	return rl_left(e, now);
}

unsigned ratelimit_take(enum ratelimit_kind kind, const char *key, unsigned limit)
{
	if (!limit || !g.ctx)
		return 0;
	uint32_t h = rl_hash(kind, key);
	time_t now = rl_now();
	struct rl_entry *found = rl_find(kind, key, h);
	if (!found) {
		size_t len = strlen(key);
		if (g_cfg->ratelimit_max && g.count >= g_cfg->ratelimit_max) {
			rl_drop(llist_last_entry(&g.lru, struct rl_entry, lru));
			STAT_INC(LIMIT_EVICTIONS);
		}
		found = talloc_zero_size(g.ctx, sizeof(*found) + len + 1);
		talloc_set_name_const(found, "rl_entry");
		found->kind = kind;
		found->start = now;
		memcpy(found->key, key, len + 1);
		hash_add(g.table, &found->node, h);
		llist_add(&found->lru, &g.lru);
		g.count++;
	} else {
		llist_move(&found->lru, &g.lru);
	}
	unsigned window = rl_window_s[kind];
	if (now - found->start >= window) {
		found->start = now;
		found->count = 0;
	}
	if (++found->count <= limit)
		return 0;
	return rl_left(found, now);
}

enum ratelimit_verdict ratelimit_hop(const char *msisdn, bool new_session)
{
	/* a hop over the minute's limit starts no session, so it does not count as one */
	if (ratelimit_take(RATELIMIT_KIND_HOPS, msisdn, g_cfg->hops_per_minute)) {
		STAT_INC(LIMIT_HOPS);
		return RATELIMIT_HOPS;
	}
	if (new_session && ratelimit_take(RATELIMIT_KIND_SESSIONS, msisdn, g_cfg->sessions_per_hour)) {
		STAT_INC(LIMIT_SESSIONS);
		return RATELIMIT_SESSIONS;
	}
	return RATELIMIT_OK;
}

unsigned ratelimit_size(void)
{
	return g.count;
}
