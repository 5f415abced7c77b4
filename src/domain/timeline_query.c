/* The merged timeline's pages (timeline_query.h). The database does the merging: one call of
 * spaza_customer_timeline(), which reads every timeline_* view as one index scan; this file
 * only turns its rows into structs, JSON, and the next page's start.
 *
 * Paging goes by time: a page holds the events strictly older than its `before`. Several
 * events often share one instant (one transaction wrote them), so a page must not end among
 * them: the next page would start strictly before that instant and skip the rest. A page that
 * would end inside such a group leaves the group out and the next page starts one microsecond
 * (the database's resolution) after it, so the group comes whole on the next page. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <talloc.h>
#include "db_sync.h"
#include "timeline_query.h"

/* at + 1 microsecond, in the same format; -EINVAL if at is not in it. */
static int timeline_at_next(const char *at, char *out, size_t len)
{
	struct tm tm = { 0 };
	long us;
	if (sscanf(at, "%4d-%2d-%2dT%2d:%2d:%2d.%6ldZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec, &us) != 7)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	if (++us == 1000000) {
		us = 0;
		t++;
	}
	gmtime_r(&t, &tm);
	char sec[24];
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%06ldZ", sec, us);
	return 0;
}

struct timeline_page *timeline_page_from(void *ctx, const PGresult *res, unsigned lim)
{
	struct timeline_page *p = talloc_zero(ctx, struct timeline_page);
	unsigned rows = PQntuples(res);
	unsigned n = rows > lim ? lim : rows;
	p->ev = talloc_zero_array(p, struct timeline_event, n ? n : 1);
	for (unsigned i = 0; i < n; i++) {
		struct timeline_event *e = &p->ev[i];
		snprintf(e->at, sizeof(e->at), "%s", PQgetvalue(res, i, 0));
		e->kind = talloc_strdup(p, PQgetvalue(res, i, 1));
		e->ref = talloc_strdup(p, PQgetvalue(res, i, 2));
		e->summary = talloc_strdup(p, PQgetvalue(res, i, 3));
	}
	p->n = n;
	if (rows <= lim)
		return p;	/* the last page */
	const char *last = p->ev[n - 1].at;
	if (strcmp(PQgetvalue(res, n, 0), last)) {
		snprintf(p->next_before, sizeof(p->next_before), "%s", last);
		return p;
	}
	unsigned keep = n;
	while (keep && !strcmp(p->ev[keep - 1].at, last))
		keep--;
	if (!keep) {
		/* the whole page is one instant: the next starts before it (the rest of it is lost) */
		snprintf(p->next_before, sizeof(p->next_before), "%s", last);
		return p;
	}
	p->n = keep;
	if (timeline_at_next(last, p->next_before, sizeof(p->next_before)) < 0)
		snprintf(p->next_before, sizeof(p->next_before), "%s", last);
	return p;
}

int timeline_query(void *ctx, PGconn *conn, int64_t customer, const char *before, unsigned lim,
		   struct timeline_page **out, char *err, size_t errlen)
{
	char cust[24], n[16];
	PGresult *res;
	if (!lim || lim > TIMELINE_PAGE_MAX) {
		snprintf(err, errlen, "a page holds 1 to %d events", TIMELINE_PAGE_MAX);
		return -EINVAL;
	}
	snprintf(cust, sizeof(cust), "%" PRId64, customer);
	snprintf(n, sizeof(n), "%u", lim + 1);
	const char *params[3] = { cust, before, n };
	if (db_sync_stmt(conn, "timeline", DB_CUSTOMER_TIMELINE_PAGE, params, &res, err, errlen) < 0)
		return -EIO;
	*out = timeline_page_from(ctx, res, lim);
	PQclear(res);
	return 0;
}

json_t *timeline_page_json(const struct timeline_page *p)
{
	json_t *events = json_array();
	for (unsigned i = 0; i < p->n; i++)
		json_array_append_new(events, json_pack("{s:s, s:s, s:s, s:s}", "at", p->ev[i].at, "kind", p->ev[i].kind,
							"ref", p->ev[i].ref, "summary", p->ev[i].summary));
	return json_pack("{s:o, s:o}", "events", events, "next_before",
			 p->next_before[0] ? json_string(p->next_before) : json_null());
}
