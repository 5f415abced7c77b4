/* The merged timeline's pages (domain/timeline_query.c) from rows as the database answers them
 * (a result built by hand, no database): a short history is one page; a long one ends its page
 * where the next starts, never inside a group of events of one instant (the next page starts a
 * microsecond after it and holds the whole group); the JSON the back office reads. */
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <jansson.h>
#include <libpq-fe.h>
#include "testlib.h"
#include "timeline_query.h"

/* A CUSTOMER_TIMELINE_PAGE result of n rows: (at, kind, ref, summary). */
static PGresult *rows(const char *const at[], unsigned n)
{
	PGresAttDesc cols[4] = { { .name = "at", .format = 0 }, { .name = "kind" }, { .name = "ref" }, { .name = "summary" } };
	PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PQsetResultAttrs(r, 4, cols);
	for (unsigned i = 0; i < n; i++) {
		char ref[16];
		snprintf(ref, sizeof(ref), "%u", 100 + i);
		PQsetvalue(r, i, 0, (char *)at[i], strlen(at[i]));
		PQsetvalue(r, i, 1, "note", 4);
		PQsetvalue(r, i, 2, ref, strlen(ref));
		PQsetvalue(r, i, 3, "a \"quoted\" note", 15);
	}
	return r;
}

int main(void)
{
	void *ctx = talloc_named_const(NULL, 0, "timeline_query_test");
	static const char *const distinct[] = { "2026-12-07T10:00:03.000000Z", "2026-12-07T10:00:02.000000Z",
						"2026-12-07T10:00:01.000000Z" };
	PGresult *r = rows(distinct, 3);
	struct timeline_page *p = timeline_page_from(ctx, r, 3);
	T_CHECK(p->n == 3 && !p->next_before[0], "three events asked for with a limit of 3 (4 fetched): one page, no next",
		"got %u events, next \"%s\"", p->n, p->next_before);
	p = timeline_page_from(ctx, r, 2);
	T_CHECK(p->n == 2 && !strcmp(p->next_before, "2026-12-07T10:00:02.000000Z"),
		"a page of 2 of 3 distinct times: the next starts before the last shown",
		"got %u events, next \"%s\"", p->n, p->next_before);
	PQclear(r);

	/* the page would end inside a group of one instant: the group goes to the next page */
	static const char *const tied[] = { "2026-12-07T10:00:03.000000Z", "2026-12-07T10:00:02.999999Z",
					    "2026-12-07T10:00:02.999999Z", "2026-12-07T10:00:02.999999Z" };
	r = rows(tied, 4);
	p = timeline_page_from(ctx, r, 2);
	T_CHECK(p->n == 1 && !strcmp(p->next_before, "2026-12-07T10:00:03.000000Z"),
		"a page ending inside a group of one instant stops before it; the next starts a microsecond after it",
		"got %u events, next \"%s\"", p->n, p->next_before);
	PQclear(r);
	static const char *const all_tied[] = { "2026-12-07T10:00:02.500000Z", "2026-12-07T10:00:02.500000Z",
						"2026-12-07T10:00:02.500000Z" };
	r = rows(all_tied, 3);
	p = timeline_page_from(ctx, r, 2);
	T_CHECK(p->n == 2 && !strcmp(p->next_before, "2026-12-07T10:00:02.500000Z"),
		"a whole page of one instant is shown whole, the next starts before it",
		"got %u events, next \"%s\"", p->n, p->next_before);
	PQclear(r);
	/* a year's last microsecond: the next start carries into the next year */
	static const char *const carry[] = { "2027-01-01T00:00:00.500000Z", "2026-12-31T23:59:59.999999Z",
					     "2026-12-31T23:59:59.999999Z" };
	r = rows(carry, 3);
	p = timeline_page_from(ctx, r, 2);
	T_CHECK(p->n == 1 && !strcmp(p->next_before, "2027-01-01T00:00:00.000000Z"),
		"the group's next page starts one microsecond after it, carried into the next second",
		"got %u, \"%s\"", p->n, p->next_before);

	json_t *j = timeline_page_json(p);
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	T_EQ_STR(s, "{\"events\":[{\"at\":\"2027-01-01T00:00:00.500000Z\",\"kind\":\"note\",\"ref\":\"100\","
		 "\"summary\":\"a \\\"quoted\\\" note\"}],\"next_before\":\"2027-01-01T00:00:00.000000Z\"}",
		 "the page as JSON: events with at, kind, ref, summary (escaped), and the next page's start");
	free(s);
	json_decref(j);
	PQclear(r);
	talloc_free(ctx);
	return T_DONE();
}
