/* spazactl funnel: the journey through the menus from the sessions' screen trails
 * (ussd_sessions.screens, one row per session written when it ends). doc/crm.md says how to
 * read it.
 *
 * What the trails hold: the screens in the order shown, and per session its outcome, hops, start
 * and end, its order, the language it was shown in, the customer's segment and the menu's
 * version. So per screen: entries, the exits of the sessions that ended there (END reached, idle
 * timeout, the customer or network abandoning, an error), backs (the next screen was the one
 * before), and how many sessions through it ended with an order and a paid order. Time on a
 * screen is not in the trail: the mean seconds per hop of the sessions through the screen is
 * shown instead.
 *
 * The figures come from a daily roll-up the sessions' own INSERT keeps (sql/027): nothing is
 * added to a hop, and 30 days at a million customers answer in a fraction of a second.
 * --raw computes them from the trails alone (the check: the same figures, slower); --rebuild
 * makes the roll-up again from every session (after a restore, or rows changed by hand). */
#include <string.h>
#include "crm_form.h"
#include "ctl.h"

#define CTL_FUNNEL_USAGE "spazactl: funnel --since YYYY-MM-DD|Nd [--by " CRM_FUNNEL_BY_RULE "] [--csv] [--raw] | --rebuild\n"

static int ctl_funnel_rebuild(struct ctl *ctl)
{
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	PGresult *res = ctl_query_row(ctl, DB_FUNNEL_REBUILD, NULL, "the funnel's roll-up was not rebuilt");
	if (!res)
		return CTL_ERR;
	printf("funnel roll-up rebuilt from the sessions: %s rows over %s days\n", PQgetvalue(res, 0, 1),
	       PQgetvalue(res, 0, 0));
	PQclear(res);
	return CTL_OK;
}

static void ctl_funnel_print(const PGresult *res, bool csv, const char *since_arg)
{
	const char *const *cols = crm_funnel_cols;
	if (csv) {
		for (unsigned c = 0; c < CRM_FUNNEL_NCOLS; c++)
			printf("%s%s", c ? "," : "", cols[c]);
		printf("\n");
		for (int i = 0; i < PQntuples(res); i++)
			for (unsigned c = 0; c < CRM_FUNNEL_NCOLS; c++)
				printf("%s%s", PQgetvalue(res, i, c), c == CRM_FUNNEL_NCOLS - 1 ? "\n" : ",");
		return;
	}
	/* widths: the screen's name, the four dimensions, then the figures */
	static const int w[CRM_FUNNEL_NCOLS] = { -16, -6, -4, -9, -9, 7, 6, 7, 7, 5, 5, 7, 5, 9 };
	for (int i = -1; i < PQntuples(res); i++)
		for (unsigned c = 0; c < CRM_FUNNEL_NCOLS; c++)
			printf("%*s%s", w[c], i < 0 ? cols[c] : PQgetvalue(res, i, c), c == CRM_FUNNEL_NCOLS - 1 ? "\n" : " ");
	if (!PQntuples(res))
		printf("no sessions since %s\n", since_arg);
}

int ctl_funnel(struct ctl *ctl, int argc, char **argv)
{
	const char *since_arg = NULL, *by_arg = NULL;
	bool csv = false, raw = false, rebuild = false;
	for (int i = 0; i < argc; i++) {
		bool missing = false;
		const char *v = ctl_opt(argc, argv, &i, "--since", &missing);
		const char *b = v || missing ? NULL : ctl_opt(argc, argv, &i, "--by", &missing);
		if (v)
			since_arg = v;
		else if (b)
			by_arg = b;
		else if (!missing && !strcmp(argv[i], "--csv"))
			csv = true;
		else if (!missing && !strcmp(argv[i], "--raw"))
			raw = true;
		else if (!missing && !strcmp(argv[i], "--rebuild"))
			rebuild = true;
		else {
			fprintf(stderr, CTL_FUNNEL_USAGE);
			return CTL_USAGE;
		}
	}
	if (rebuild) {
		if (argc != 1) {
			fprintf(stderr, "spazactl: funnel --rebuild takes nothing else\n");
			return CTL_USAGE;
		}
		return ctl_funnel_rebuild(ctl);
	}
	char since[40], by[CRM_FUNNEL_BY_LEN];
	if (!since_arg) {
		fprintf(stderr, "spazactl: funnel needs --since YYYY-MM-DD or --since Nd (N days ago)\n");
		return CTL_USAGE;
	}
	if (ctl_since(since_arg, since, sizeof(since)) < 0)
		return CTL_USAGE;
	if (crm_funnel_by(by_arg, by, sizeof(by)) < 0) {
		fprintf(stderr, "spazactl: --by is %s, not %s\n", CRM_FUNNEL_BY_RULE, by_arg);
		return CTL_USAGE;
	}
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	const char *params[] = { since, by, raw ? "true" : "false" };
	PGresult *res = ctl_query(ctl, DB_FUNNEL, params);
	if (!res)
		return CTL_ERR;
	ctl_funnel_print(res, csv, since_arg);
	PQclear(res);
	return CTL_OK;
}
