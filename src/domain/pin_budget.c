/* The gateway-wide budget of failed voucher PINs (see pin_budget.h). A fixed one-minute window
 * is enough: a guesser is stopped within the minute it crosses the budget, and what matters is
 * that the number of guesses a minute is bounded whatever the number of phone numbers. */
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/timer.h>
#include "cfg.h"
#include "logging.h"
#include "pin_budget.h"
#include "stats.h"

#define PIN_BUDGET_WINDOW_S 60

struct pin_peer {
	struct llist_head entry;	/* g.peers, most recently failed first */
	char front[8];
	char peer[48];
	uint64_t failed;
};

static struct {
	void *ctx;
	time_t window_start;
	unsigned window_failed;
	time_t paused_until;
	struct llist_head peers;
	unsigned n_peers;
} g;

/* osmo_clock_gettime(): the tests move it */
static time_t pin_now(void)
{
	struct timespec ts;
	osmo_clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

void pin_budget_init(void *ctx)
{
	g.ctx = talloc_named_const(ctx, 0, "pin_budget");
	INIT_LLIST_HEAD(&g.peers);
	g.window_start = pin_now();
}

unsigned pin_budget_paused(void)
{
	time_t now = pin_now();
	return g.paused_until > now ? (unsigned)(g.paused_until - now) : 0;
}

static struct pin_peer *pin_peer_find(const char *front, const char *peer)
{
	struct pin_peer *p;
	llist_for_each_entry(p, &g.peers, entry)
		if (!strcmp(p->front, front) && !strcmp(p->peer, peer))
			return p;
	return NULL;
}

/* A bounded list: addresses are not invented as easily as phone numbers, but a full list still
 * takes no more: new peers then count as "other", which takes the least recent peer's slot. */
static void pin_peer_count(const char *front, const char *peer)
{
	struct pin_peer *p = pin_peer_find(front, peer);
	if (!p && g.n_peers == PIN_BUDGET_PEERS) {
		peer = "other";
		p = pin_peer_find(front, peer);
	}
	if (!p) {
		if (g.n_peers < PIN_BUDGET_PEERS) {
			p = talloc_zero(g.ctx, struct pin_peer);
			g.n_peers++;
		} else {
			p = llist_last_entry(&g.peers, struct pin_peer, entry);
			llist_del(&p->entry);
			p->failed = 0;
		}
		snprintf(p->front, sizeof(p->front), "%s", front);
		snprintf(p->peer, sizeof(p->peer), "%s", peer);
		llist_add(&p->entry, &g.peers);
	}
	p->failed++;
	llist_move(&p->entry, &g.peers);
}

void pin_budget_failed(const char *front, const char *peer)
{
	time_t now = pin_now();
	if (!strcmp(front, "at"))
		STAT_INC(PINS_FAILED_AT);
	else if (!strcmp(front, "kannel"))
		STAT_INC(PINS_FAILED_KANNEL);
	else
		STAT_INC(PINS_FAILED_BOX);
	pin_peer_count(front, peer && peer[0] ? peer : "-");
	if (now - g.window_start >= PIN_BUDGET_WINDOW_S) {
		g.window_start = now;
		g.window_failed = 0;
	}
	g.window_failed++;
	if (!g_cfg->pin_failures_per_minute || g.window_failed <= g_cfg->pin_failures_per_minute ||
	    pin_budget_paused())
		return;
	g.paused_until = now + g_cfg->pin_cooldown_s;
	STAT_INC(PINS_BUDGET_ALARMS);
	LOGP(DSESS, LOGL_ERROR, "%u failed voucher PINs within a minute, last from %s %s: voucher entry paused for "
	     "everyone for %u s\n", g.window_failed, front, peer && peer[0] ? peer : "-", g_cfg->pin_cooldown_s);
}

void pin_budget_foreach_peer(void (*cb)(const char *front, const char *peer, uint64_t failed, void *priv), void *priv)
{
	struct pin_peer *p;
	llist_for_each_entry(p, &g.peers, entry)
		cb(p->front, p->peer, p->failed, priv);
}
