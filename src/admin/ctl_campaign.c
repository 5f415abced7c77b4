/* spazactl campaign: compose, preview (with the linter), start, pause, resume, report
 * (doc/crm.md; sql/015_crm.sql). spazad sends (domain/campaign.c): consent, quiet hours, the
 * frequency cap and the throughput limit are its to keep; nothing here sends an SMS. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include "campaign_text.h"
#include "cfg.h"
#include "crm_form.h"
#include "ctl.h"
#include "segment_rule.h"

#define CTL_CAMPAIGN_WINDOW_DAYS 7

struct ctl_campaign {
	const char *name, *text[_CAMPAIGN_LANG_COUNT], *offer, *segment, *rule, *at, *keyword, *code;
};

/* Every language's text at its worst case, with its footer, fits one SMS: printed, and false
 * when any does not (or names a placeholder there is none of). The check is crm_form.c's, which the
 * back office's preview runs too. */
static bool ctl_campaign_lint(const char *const text[], const char *offer, bool quiet)
{
	bool ok = true;
	for (int l = 0; l < _CAMPAIGN_LANG_COUNT; l++) {
		struct campaign_lint li;
		bool fits = campaign_lint_lang(text[l], offer, l, &li);
		ok = ok && fits;
		if (!li.text[0])
			printf("%s: FAIL: %s\n", campaign_lang_code(l), li.why);
		else if (!quiet || !fits)
			printf("%s: %s: %s\n  \"%s\"\n", campaign_lang_code(l), fits ? "ok" : "FAIL", li.why, li.text);
	}
	return ok;
}

static int ctl_campaign_args(int argc, char **argv, struct ctl_campaign *c)
{
	memset(c, 0, sizeof(*c));
	c->name = argv[0];
	c->offer = "";
	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v;
		if ((v = ctl_opt(argc, argv, &i, "--text", &missing)))
			c->text[CAMPAIGN_EN] = v;
		else if ((v = ctl_opt(argc, argv, &i, "--text-zu", &missing)))
			c->text[CAMPAIGN_ZU] = v;
		else if ((v = ctl_opt(argc, argv, &i, "--text-af", &missing)))
			c->text[CAMPAIGN_AF] = v;
		else if ((v = ctl_opt(argc, argv, &i, "--offer", &missing)))
			c->offer = v;
		else if ((v = ctl_opt(argc, argv, &i, "--segment", &missing)))
			c->segment = v;
		else if ((v = ctl_opt(argc, argv, &i, "--rule", &missing)))
			c->rule = v;
		else if ((v = ctl_opt(argc, argv, &i, "--at", &missing)))
			c->at = v;
		else if ((v = ctl_opt(argc, argv, &i, "--keyword", &missing)))
			c->keyword = v;
		else if ((v = ctl_opt(argc, argv, &i, "--code", &missing)))
			c->code = v;
		if (!v) {
			fprintf(stderr, "spazactl: %s %s\n", argv[i], missing ? "needs a value" : "is no option of campaign create");
			return -EINVAL;
		}
	}
	return 0;
}

/* campaign create NAME --text T [--text-zu T] [--text-af T] [--offer O] --segment S|--rule R
 * --at TIME [--keyword K] [--code *120*777*N#] */
int ctl_campaign_create(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_campaign c;
	if (ctl_campaign_args(argc, argv, &c) < 0)
		return CTL_USAGE;
	if (!crm_name_ok(c.name)) {
		fprintf(stderr, "spazactl: a campaign name is 1 to 32 lower-case letters, digits, - or _, starting with a letter\n");
		return CTL_USAGE;
	}
	if (!c.text[CAMPAIGN_EN] || !*c.text[CAMPAIGN_EN] || !c.at || !c.segment == !c.rule) {
		fprintf(stderr, "spazactl: campaign create needs --text, --at and one of --segment or --rule\n");
		return CTL_USAGE;
	}
	if (!campaign_at_ok(c.at)) {
		fprintf(stderr, "spazactl: --at is now, YYYY-MM-DD or \"YYYY-MM-DD HH:MM\" (local time), not \"%s\"\n", c.at);
		return CTL_USAGE;
	}
	if (strlen(c.offer) > CAMPAIGN_OFFER_MAX) {
		fprintf(stderr, "spazactl: --offer is at most %d characters\n", CAMPAIGN_OFFER_MAX);
		return CTL_USAGE;
	}
	/* a language without its own text gets the English one, as a customer would otherwise get nothing */
	for (int l = 1; l < _CAMPAIGN_LANG_COUNT; l++)
		if (!c.text[l] || !*c.text[l])
			c.text[l] = c.text[CAMPAIGN_EN];
	if (c.keyword && !campaign_keyword_ok(c.keyword)) {
		fprintf(stderr, "spazactl: --keyword is 2 to 16 capital letters or digits, and no SMS command's keyword\n");
		return CTL_USAGE;
	}
	if (c.code && !campaign_code_ok(c.code)) {
		fprintf(stderr, "spazactl: --code is *120*777*N# with N up to 6 digits\n");
		return CTL_USAGE;
	}
	struct segment_rule r;
	char canon[SEGMENT_RULE_MAX + 1];
	if (c.rule && ctl_segment_rule_parse(c.rule, &r) < 0)
		return CTL_USAGE;
	if (!ctl_campaign_lint(c.text, c.offer, true)) {
		fprintf(stderr, "spazactl: the text does not fit one SMS in every language (spazactl campaign preview)\n");
		return CTL_USAGE;
	}
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	if (c.segment && ctl_segment_resolve(ctl, c.segment, &r) < 0)
		return CTL_ERR;
	segment_rule_format(&r, canon, sizeof(canon));
	const char *params[] = { c.name, c.text[CAMPAIGN_EN], c.text[CAMPAIGN_ZU], c.text[CAMPAIGN_AF], c.offer, c.segment,
				 canon, c.at, c.keyword, c.code };
	PGresult *res = ctl_query(ctl, DB_CAMPAIGN_CREATE, params);
	if (!res)
		return CTL_ERR;
	printf("campaign %s created (#%s): %s, from %s; spazactl campaign preview %s, then start\n", c.name,
	       PQgetvalue(res, 0, 0), canon, c.at, c.name);
	PQclear(res);
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "campaign %s", c.name);
	return CTL_OK;
}

/* The campaign's row (CAMPAIGN_GET), its rule parsed; NULL after a message. */
static PGresult *ctl_campaign_get(struct ctl *ctl, const char *name, struct segment_rule *r)
{
	if (ctl_db(ctl) < 0)
		return NULL;
	const char *params[] = { name };
	PGresult *res = ctl_query_row(ctl, DB_CAMPAIGN_GET, params, "no campaign %s", name);
	if (res && ctl_segment_rule_parse(PQgetvalue(res, 0, 7), r) < 0) {
		PQclear(res);
		return NULL;
	}
	return res;
}

static void ctl_campaign_texts(const PGresult *res, const char *text[_CAMPAIGN_LANG_COUNT])
{
	for (int l = 0; l < _CAMPAIGN_LANG_COUNT; l++)
		text[l] = PQgetvalue(res, 0, 2 + l);
}

/* campaign preview NAME: who it reaches now, and each language at its worst case */
int ctl_campaign_preview(struct ctl *ctl, int argc, char **argv)
{
	struct segment_rule r;
	PGresult *res = ctl_campaign_get(ctl, argv[0], &r);
	if (!res)
		return CTL_ERR;
	printf("campaign %s (%s): audience %s (%s), from %s", argv[0], PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 6),
	       PQgetvalue(res, 0, 7), PQgetvalue(res, 0, 8));
	if (!PQgetisnull(res, 0, 9))
		printf(", keyword %s", PQgetvalue(res, 0, 9));
	if (!PQgetisnull(res, 0, 10))
		printf(", dial code %s", PQgetvalue(res, 0, 10));
	printf("\n");
	struct segment_rule_params p;
	segment_rule_params(&r, &p);
	PGresult *cnt = ctl_query(ctl, DB_SEGMENT_RULE_COUNT, p.v);
	if (!cnt) {
		PQclear(res);
		return CTL_ERR;
	}
	printf("audience now: %s (en %s, zu %s, af %s); consent and the cap are checked as each SMS goes\n",
	       PQgetvalue(cnt, 0, 0), PQgetvalue(cnt, 0, 1), PQgetvalue(cnt, 0, 2), PQgetvalue(cnt, 0, 3));
	PQclear(cnt);
	printf("each language with the longest name and points, the offer and the opt-out footer:\n");
	const char *text[_CAMPAIGN_LANG_COUNT];
	ctl_campaign_texts(res, text);
	bool ok = ctl_campaign_lint(text, PQgetvalue(res, 0, 5), false);
	PQclear(res);
	return ok ? CTL_OK : CTL_ERR;
}

/* campaign start NAME: the audience fixed now; spazad sends from the campaign's time on */
int ctl_campaign_start(struct ctl *ctl, int argc, char **argv)
{
	struct segment_rule r;
	PGresult *res = ctl_campaign_get(ctl, argv[0], &r);
	if (!res)
		return CTL_ERR;
	const char *text[_CAMPAIGN_LANG_COUNT];
	ctl_campaign_texts(res, text);
	if (strcmp(PQgetvalue(res, 0, 1), "draft")) {
		fprintf(stderr, "spazactl: campaign %s is %s already (campaign pause / resume)\n", argv[0], PQgetvalue(res, 0, 1));
		PQclear(res);
		return CTL_ERR;
	}
	if (!ctl_campaign_lint(text, PQgetvalue(res, 0, 5), true)) {
		PQclear(res);
		return CTL_ERR;
	}
	struct segment_rule_params p;
	segment_rule_params(&r, &p);
	const char *params[1 + SEGMENT_RULE_NPARAMS] = { PQgetvalue(res, 0, 0) };
	memcpy(params + 1, p.v, sizeof(p.v));
	PGresult *st = ctl_query(ctl, DB_CAMPAIGN_START, params);
	if (!st) {
		PQclear(res);
		return CTL_ERR;
	}
	printf("campaign %s started: %s recipients, sent from %s outside the quiet hours\n", argv[0], PQgetvalue(st, 0, 0),
	       PQgetvalue(res, 0, 8));
	PQclear(st);
	PQclear(res);
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "campaign %s", argv[0]);
	return CTL_OK;
}

static int ctl_campaign_state(struct ctl *ctl, const char *name, const char *state)
{
	struct segment_rule r;
	PGresult *res = ctl_campaign_get(ctl, name, &r);
	if (!res)
		return CTL_ERR;
	const char *params[] = { PQgetvalue(res, 0, 0), state };
	PGresult *st = ctl_query(ctl, DB_CAMPAIGN_SET_STATE, params);
	PQclear(res);
	if (!st)
		return CTL_ERR;
	int rc = CTL_OK;
	if (PQntuples(st))
		printf("campaign %s %s\n", name, PQgetvalue(st, 0, 0));
	else {
		fprintf(stderr, "spazactl: campaign %s is not running or paused\n", name);
		rc = CTL_ERR;
	}
	PQclear(st);
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "campaign %s", name);
	return rc;
}

int ctl_campaign_pause(struct ctl *ctl, int argc, char **argv)
{
	return ctl_campaign_state(ctl, argv[0], "paused");
}

int ctl_campaign_resume(struct ctl *ctl, int argc, char **argv)
{
	return ctl_campaign_state(ctl, argv[0], "running");
}

/* campaign report NAME [--window DAYS]: what happened to it, and what it brought */
int ctl_campaign_report(struct ctl *ctl, int argc, char **argv)
{
	long window = CTL_CAMPAIGN_WINDOW_DAYS;
	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v = ctl_opt(argc, argv, &i, "--window", &missing);
		char *end;
		if (v)
			window = strtol(v, &end, 10);
		if (!v || *end || window < 1 || window > 365) {
			fprintf(stderr, "spazactl: campaign report NAME [--window 1..365 days]\n");
			return CTL_USAGE;
		}
	}
	struct segment_rule r;
	PGresult *res = ctl_campaign_get(ctl, argv[0], &r);
	if (!res)
		return CTL_ERR;
	char w[16];
	snprintf(w, sizeof(w), "%ld", window);
	const char *params[] = { PQgetvalue(res, 0, 0), w };
	PGresult *rep = ctl_query(ctl, DB_CAMPAIGN_REPORT, params);
	if (!rep) {
		PQclear(res);
		return CTL_ERR;
	}
	static const char *const what[] = { "recipients", "pending", "queued", "no consent", "capped", "sent",
					    "delivered", "failed", "opted out", "dialled", "ordered", "paid" };
	printf("campaign %s (%s)\n", argv[0], PQgetvalue(res, 0, 1));
	for (unsigned i = 0; i < sizeof(what) / sizeof(what[0]); i++)
		printf("%-11s %s\n", what[i], PQgetvalue(rep, 0, i));
	char money[32];
	printf("%-11s %s\n", "revenue", ctl_money(money, sizeof(money), PQgetvalue(rep, 0, 12)));
	PQclear(rep);
	PQclear(res);
	return CTL_OK;
}
