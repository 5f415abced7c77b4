#pragma once
/* Abuse limits in fixed windows, one table for every kind of key: hops per minute and sessions
 * per hour per MSISDN, till requests per minute per retailer key id. */
#include <stdbool.h>

enum ratelimit_verdict { RATELIMIT_OK, RATELIMIT_HOPS, RATELIMIT_SESSIONS };

/* What is counted, and so how long its window is. The same key string in two kinds is two
 * separate counts. */
enum ratelimit_kind {
	RATELIMIT_KIND_HOPS,		/* USSD hops of an MSISDN, a minute */
	RATELIMIT_KIND_SESSIONS,	/* USSD sessions an MSISDN starts, an hour */
	RATELIMIT_KIND_TILL,		/* signed till API requests of a retailer key id, a minute */
	RATELIMIT_KIND_TILL_UNKNOWN,	/* a retailer key id's requests for slips that do not exist, a minute */
	RATELIMIT_KIND_STAFF_LOGIN,	/* back office login attempts from one address, ten minutes */
};

void ratelimit_init(void *ctx);
/* Entries in the table (at most memory rate-limits), for `show stats`. */
unsigned ratelimit_size(void);
/* Count one event of kind for key against limit (0: no limit, nothing is counted). Returns 0
 * when it may go on; past the limit, the seconds (at least 1) until its window ends, for a
 * Retry-After. Refused events count too, so a client that keeps hammering stays refused until
 * its window passes. The caller counts the refusal in its stats.def counter. Before
 * ratelimit_init() nothing is limited (the fuzz harness runs front_till.c's handlers alone). */
unsigned ratelimit_take(enum ratelimit_kind kind, const char *key, unsigned limit);
/* Whether key is past limit in its current window already, without counting anything: 0, or
 * the seconds until the window ends. For a limit on what answers turn out to be (a lookup of
 * a slip that does not exist), counted with ratelimit_take() once the answer is known and
 * checked with this before the next question is asked. */
unsigned ratelimit_peek(enum ratelimit_kind kind, const char *key, unsigned limit);
/* Count one hop (and a new session when new_session) for msisdn; says whether it may go on,
 * and counts a refusal in limits:hops or limits:sessions. */
enum ratelimit_verdict ratelimit_hop(const char *msisdn, bool new_session);
