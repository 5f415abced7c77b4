#pragma once
/* The merged customer timeline as data: one page of spaza_customer_timeline() (sql/011_care.sql),
 * newest first, for spazactl's `customer show` and the back office alike. */
#include <stdint.h>
#include <libpq-fe.h>
#include <jansson.h>

#define TIMELINE_AT_LEN 32	/* "2026-12-07T05:40:20.123456Z" */
#define TIMELINE_PAGE_MAX 1000	/* the most events one page holds */

struct timeline_event {
	char at[TIMELINE_AT_LEN];	/* UTC, ISO 8601 with microseconds */
	const char *kind;		/* session, sms_in, sms_out, order, ticket_opened, rating, note, ... */
	const char *ref;		/* the order, ticket, message ... number; "" when none */
	const char *summary;		/* one line for people; never a PIN or secret */
};

struct timeline_page {
	unsigned n;
	struct timeline_event *ev;
	/* The `before` of the next (older) page; "" when this is the last. Events sharing one
	 * instant are never split across two pages (unless a whole page shares it). */
	char next_before[TIMELINE_AT_LEN];
};

/* One page of the customer's events older than before (NULL: now), at most lim (1 ..
 * TIMELINE_PAGE_MAX), over a connection that waits (db_sync). The page is a talloc child of
 * ctx. 0, or -EINVAL (bad lim or before) / -EIO with the reason in err. */
int timeline_query(void *ctx, PGconn *conn, int64_t customer, const char *before, unsigned lim,
		   struct timeline_page **out, char *err, size_t errlen);
/* The page from CUSTOMER_TIMELINE_PAGE's rows, asked for with lim + 1 (so it knows whether
 * more follow): for callers that run the statement themselves (the daemon's pipeline). */
struct timeline_page *timeline_page_from(void *ctx, const PGresult *res, unsigned lim);
/* {"events": [{"at", "kind", "ref", "summary"}...], "next_before": "..." | null}; the caller
 * owns the reference. */
json_t *timeline_page_json(const struct timeline_page *p);
