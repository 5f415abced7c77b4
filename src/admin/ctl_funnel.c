/* spazactl funnel: the journey through the menus from the sessions' screen trails
 * (ussd_sessions.screens, one row per session written when it ends), in SQL over the sessions
 * since a day: nothing is added to a hop. doc/crm.md says how to read it.
 *
 * What the trails hold: the screens in the order shown, and per session its outcome, hops, start
 * and end, and its order. So per screen: entries, the exits of the sessions that ended there (END
 * reached, idle timeout, the customer or network abandoning, an error), backs (the next screen was
 * the one before), and how many sessions through it ended with an order and a paid order. Time on
 * a screen is not in the trail: the mean seconds per hop of the sessions through the screen is
 * shown instead (an exact time per screen needs the trail to carry each screen's entry time). */
#include <string.h>
#include "crm_form.h"
#include "ctl.h"

int ctl_funnel(struct ctl *ctl, int argc, char **argv)
{
	const char *since_arg = NULL;
	bool csv = false;
	for (int i = 0; i < argc; i++) {
		bool missing = false;
		const char *v = ctl_opt(argc, argv, &i, "--since", &missing);
		if (v)
			since_arg = v;
		else if (!strcmp(argv[i], "--csv"))
			csv = true;
		else {
			fprintf(stderr, "spazactl: funnel --since YYYY-MM-DD|Nd [--csv]\n");
			return CTL_USAGE;
		}
	}
	char since[40];
	if (!since_arg) {
		fprintf(stderr, "spazactl: funnel needs --since YYYY-MM-DD or --since Nd (N days ago)\n");
		return CTL_USAGE;
	}
	if (ctl_since(since_arg, since, sizeof(since)) < 0)
		return CTL_USAGE;
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	const char *params[] = { since };
	PGresult *res = ctl_query(ctl, DB_FUNNEL, params);
	if (!res)
		return CTL_ERR;
	const char *const *cols = crm_funnel_cols;
	if (csv) {
		for (unsigned c = 0; c < CRM_FUNNEL_NCOLS; c++)
			printf("%s%s", c ? "," : "", cols[c]);
		printf("\n");
		for (int i = 0; i < PQntuples(res); i++)
			for (unsigned c = 0; c < CRM_FUNNEL_NCOLS; c++)
				printf("%s%s", PQgetvalue(res, i, c), c == CRM_FUNNEL_NCOLS - 1 ? "\n" : ",");
	} else {
		printf("%-16s %-6s %-4s %-9s %7s %6s %7s %7s %5s %5s %7s %5s %9s\n", cols[0], cols[1], cols[2], cols[3],
		       cols[4], cols[5], cols[6], cols[7], cols[8], cols[9], cols[10], cols[11], cols[12]);
		for (int i = 0; i < PQntuples(res); i++)
			printf("%-16s %-6s %-4s %-9s %7s %6s %7s %7s %5s %5s %7s %5s %9s\n", PQgetvalue(res, i, 0),
			       PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
			       PQgetvalue(res, i, 5), PQgetvalue(res, i, 6), PQgetvalue(res, i, 7), PQgetvalue(res, i, 8),
			       PQgetvalue(res, i, 9), PQgetvalue(res, i, 10), PQgetvalue(res, i, 11), PQgetvalue(res, i, 12));
		if (!PQntuples(res))
			printf("no sessions since %s\n", since_arg);
	}
	PQclear(res);
	return CTL_OK;
}
