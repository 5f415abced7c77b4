/* spazactl segments: the named RFM segments and the shop's rule segments (doc/crm.md;
 * sql/015_crm.sql). Counts are live: a rule's members are counted when asked, never stored. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include "cfg.h"
#include "crm_form.h"
#include "ctl.h"
#include "segment_cfg.h"
#include "segment_rule.h"

#define CTL_MEMBERS_DEFAULT 50
#define CTL_MEMBERS_MAX 100000

/* The words of argv joined by spaces. */
static char *ctl_words(struct ctl *ctl, int argc, char **argv)
{
	char *s = talloc_strdup(ctl->ctx, "");
	for (int i = 0; i < argc; i++)
		s = talloc_asprintf_append(s, "%s%s", i ? " " : "", argv[i]);
	return s;
}

int ctl_segment_rule_parse(const char *text, struct segment_rule *r)
{
	char why[160];
	if (segment_rule_parse(text, r, why, sizeof(why)) < 0) {
		fprintf(stderr, "spazactl: bad rule: %s\n", why);
		return -EINVAL;
	}
	return 0;
}

/* A segment name: a named RFM segment, or a rule segment of crm_segments (the database must be
 * connected for those). -ENOENT / -EIO after a message. */
int ctl_segment_resolve(struct ctl *ctl, const char *name, struct segment_rule *r)
{
	int named = segment_named_index(name);
	if (named >= 0) {
		memset(r, 0, sizeof(*r));
		r->spent_over_cents = -1;
		r->named = named;
		return 0;
	}
	const char *params[] = { name };
	PGresult *res = ctl_query(ctl, DB_SEGMENT_GET, params);
	if (!res)
		return -EIO;
	if (!PQntuples(res)) {
		fprintf(stderr, "spazactl: no segment \"%s\" (named: top, average, once-off, new, lapsed;"
			" the shop's: spazactl segments list)\n", name);
		PQclear(res);
		return -ENOENT;
	}
	int rc = ctl_segment_rule_parse(PQgetvalue(res, 0, 0), r);
	PQclear(res);
	return rc < 0 ? -EIO : 0;
}

/* Counts of a rule: total and per language, printed. */
static int ctl_segment_count(struct ctl *ctl, const struct segment_rule *r)
{
	struct segment_rule_params p;
	segment_rule_params(r, &p);
	PGresult *res = ctl_query(ctl, DB_SEGMENT_RULE_COUNT, p.v);
	if (!res)
		return CTL_ERR;
	printf("members: %s (en %s, zu %s, af %s)\n", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
	       PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
	PQclear(res);
	return CTL_OK;
}

/* The named segments with their counts and mean scores, then the shop's rules. */
static int ctl_segments_print(struct ctl *ctl)
{
	PGresult *res = ctl_query(ctl, DB_SEGMENT_NAMED_COUNTS, NULL);
	if (!res)
		return CTL_ERR;
	printf("%-10s %10s  %5s %5s %5s  %14s\n", "segment", "customers", "R", "F", "M", "spent");
	for (int w = 0; w <= _SEGMENT_NAMED_COUNT; w++) {
		const char *want = w < _SEGMENT_NAMED_COUNT ? segment_named_word(w) : "none";
		const char *n = "0", *rr = "-", *f = "-", *m = "-", *spent = NULL;
		for (int i = 0; i < PQntuples(res); i++)
			if (!strcmp(PQgetvalue(res, i, 0), want)) {
				n = PQgetvalue(res, i, 1);
				if (!PQgetisnull(res, i, 2))
					rr = PQgetvalue(res, i, 2), f = PQgetvalue(res, i, 3), m = PQgetvalue(res, i, 4),
					spent = PQgetvalue(res, i, 5);
			}
		char money[32];
		printf("%-10s %10s  %5s %5s %5s  %14s\n", want, n, rr, f, m, spent ? ctl_money(money, sizeof(money), spent) : "-");
	}
	PQclear(res);
	res = ctl_query(ctl, DB_SEGMENT_LIST, NULL);
	if (!res)
		return CTL_ERR;
	printf("\n%s\n", PQntuples(res) ? "the shop's segments:" : "no segments of the shop's own yet (spazactl segments define)");
	for (int i = 0; i < PQntuples(res); i++)
		printf("  %-20s %s  (since %s)\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
	PQclear(res);
	return CTL_OK;
}

/* segments list */
int ctl_segments_list(struct ctl *ctl, int argc, char **argv)
{
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	return ctl_segments_print(ctl);
}

/* segments define NAME RULE...: the rule checked, written back canonical, counted */
int ctl_segments_define(struct ctl *ctl, int argc, char **argv)
{
	const char *name = argv[0];
	if (segment_named_index(name) >= 0) {
		fprintf(stderr, "spazactl: %s is a named segment already\n", name);
		return CTL_USAGE;
	}
	if (!crm_name_ok(name)) {
		fprintf(stderr, "spazactl: a segment name is " CRM_NAME_RULE "\n");
		return CTL_USAGE;
	}
	struct segment_rule r;
	if (ctl_segment_rule_parse(ctl_words(ctl, argc - 1, argv + 1), &r) < 0)
		return CTL_USAGE;
	char canon[SEGMENT_RULE_MAX + 1];
	if (segment_rule_format(&r, canon, sizeof(canon)) < 0)
		return CTL_USAGE;
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	const char *params[] = { name, canon };
	PGresult *res = ctl_query(ctl, DB_SEGMENT_DEFINE, params);
	if (!res)
		return CTL_ERR;
	printf("segment %s %s: %s\n", name, strcmp(PQgetvalue(res, 0, 0), "t") ? "changed" : "defined", canon);
	PQclear(res);
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "segment %s", name);
	return ctl_segment_count(ctl, &r);
}

/* segments show NAME: its rule and its members counted now */
int ctl_segments_show(struct ctl *ctl, int argc, char **argv)
{
	struct segment_rule r;
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	if (ctl_segment_resolve(ctl, argv[0], &r) < 0)
		return CTL_ERR;
	char canon[SEGMENT_RULE_MAX + 1];
	segment_rule_format(&r, canon, sizeof(canon));
	printf("segment %s: %s\n", argv[0], canon);
	return ctl_segment_count(ctl, &r);
}

/* segments members NAME [--limit N]: the first members by customer number */
int ctl_segments_members(struct ctl *ctl, int argc, char **argv)
{
	long limit = CTL_MEMBERS_DEFAULT;
	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v = ctl_opt(argc, argv, &i, "--limit", &missing);
		char *end;
		if (v)
			limit = strtol(v, &end, 10);
		if (!v || *end || limit < 1 || limit > CTL_MEMBERS_MAX) {
			fprintf(stderr, "spazactl: segments members NAME [--limit 1..%d]\n", CTL_MEMBERS_MAX);
			return CTL_USAGE;
		}
	}
	struct segment_rule r;
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	if (ctl_segment_resolve(ctl, argv[0], &r) < 0)
		return CTL_ERR;
	struct segment_rule_params p;
	segment_rule_params(&r, &p);
	char lim[16];
	snprintf(lim, sizeof(lim), "%ld", limit);
	const char *params[SEGMENT_RULE_NPARAMS + 1];
	memcpy(params, p.v, sizeof(p.v));
	params[SEGMENT_RULE_NPARAMS] = lim;
	PGresult *res = ctl_query(ctl, DB_SEGMENT_RULE_MEMBERS, params);
	if (!res)
		return CTL_ERR;
	printf("%-16s %-4s %-9s %s %s %s %7s %12s\n", "msisdn", "lang", "segment", "R", "F", "M", "orders", "spent");
	for (int i = 0; i < PQntuples(res); i++) {
		char money[32];
		printf("%-16s %-4s %-9s %s %s %s %7s %12s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       PQgetvalue(res, i, 2), PQgetisnull(res, i, 3) ? "-" : PQgetvalue(res, i, 3),
		       PQgetisnull(res, i, 4) ? "-" : PQgetvalue(res, i, 4), PQgetisnull(res, i, 5) ? "-" : PQgetvalue(res, i, 5),
		       PQgetvalue(res, i, 6), ctl_money(money, sizeof(money), PQgetvalue(res, i, 7)));
	}
	printf("(%d shown)\n", PQntuples(res));
	PQclear(res);
	return CTL_OK;
}

/* segments recompute: the configuration's thresholds in, every customer rescored in batches
 * (what spazad's nightly sweep does) */
int ctl_segments_recompute(struct ctl *ctl, int argc, char **argv)
{
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	struct segment_cfg_params sp;
	segment_cfg_params(g_cfg, &sp);
	PGresult *res = ctl_query(ctl, DB_CRM_SETTINGS_SET, sp.v);
	if (!res)
		return CTL_ERR;
	PQclear(res);
	char after[24] = "0", batch[16];
	unsigned batches = 0;
	snprintf(batch, sizeof(batch), "%u", g_cfg->crm_sweep_batch * 10);
	for (;;) {
		const char *params[] = { after, batch };
		res = ctl_query(ctl, DB_RFM_RECOMPUTE, params);
		if (!res)
			return CTL_ERR;
		bool done = PQgetisnull(res, 0, 0);
		if (!done)
			snprintf(after, sizeof(after), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		if (done)
			break;
		batches++;
	}
	printf("RFM scores recomputed (%u batches)\n", batches);
	return ctl_segments_print(ctl);
}
