#pragma once
/* What the CRM takes from a person (doc/crm.md), checked once for both doors: spazactl's
 * arguments (admin/ctl_segment.c, ctl_campaign.c, ctl_funnel.c, ctl_report.c) and the back
 * office's JSON (fronts/office_crm.c). Pure: the refusal's reason is a sentence the caller
 * prints or answers with, so a page and the command line refuse the same input the same way. */
#include <stdbool.h>
#include <stddef.h>
#include "campaign_text.h"

/* A segment's or a campaign's name: 1 to 32 lower-case letters, digits, - or _, starting with a
 * letter (the CHECK of crm_segments.name and campaigns.name, sql/015_crm.sql). */
bool crm_name_ok(const char *name);
#define CRM_NAME_RULE "1 to 32 lower-case letters, digits, - or _, starting with a letter"

/* A "since" (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS, or Nd: N days ago) as timestamptz text in buf.
 * 0, or -EINVAL. */
int crm_since_parse(const char *v, char *buf, size_t len);
#define CRM_SINCE_RULE "YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS or Nd (N days ago)"

/* A campaign's start: now, YYYY-MM-DD or "YYYY-MM-DD HH:MM" (local time). */
bool campaign_at_ok(const char *at);
/* 2 to 16 capital letters or digits, and no SMS command's keyword (it would never reach the
 * campaign's count: the command answers first). */
bool campaign_keyword_ok(const char *keyword);
/* *120*777*N# with N up to 6 digits. */
bool campaign_code_ok(const char *code);

/* One language's text as the linter sees it: rendered at its worst case with the offer and the
 * footer (text, "" when it could not be), whether it fits one SMS, and why (the room left, by how
 * much it is over, or the placeholder there is none of). */
struct campaign_lint {
	bool ok;
	char why[128];
	char text[1024];
};
bool campaign_lint_lang(const char *text, const char *offer, enum campaign_lang l, struct campaign_lint *out);

/* The funnel's columns (FUNNEL, db_stmts.def), in its order: spazactl's CSV header and the back
 * office's download and JSON keys, so the two cannot name a figure differently. */
#define CRM_FUNNEL_NCOLS 14
#define CRM_FUNNEL_NDIMS 5	/* the first five name the row (screen and its dimensions), the rest are figures */
extern const char *const crm_funnel_cols[CRM_FUNNEL_NCOLS];

/* The funnel's breakdown (FUNNEL's $2): a comma-separated list of front, lang, segment and
 * version, or "none" (per screen only); NULL or "": all four. A dimension left out reads '*'.
 * As the text[] literal the statement takes, in buf. 0, or -EINVAL. */
int crm_funnel_by(const char *list, char *buf, size_t len);
#define CRM_FUNNEL_BY_RULE "front, lang, segment, version (comma-separated) or none"
#define CRM_FUNNEL_BY_LEN 40
