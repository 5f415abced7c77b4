#pragma once
/* A campaign's text as customers get it, and when marketing may go out: pure, shared by spazactl
 * (the preview and its linter) and spazad (the sender). The database fills the placeholders per
 * customer the same way (spaza__campaign_text() in sql/015_crm.sql); this file renders the worst
 * case, so the linter proves the longest SMS any customer can get before a campaign starts. */
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum campaign_lang { CAMPAIGN_EN, CAMPAIGN_ZU, CAMPAIGN_AF, _CAMPAIGN_LANG_COUNT };

/* One SMS: 160 GSM-7 septets, or 70 UCS-2 characters (sendsms sends one part). */
#define CAMPAIGN_SMS_SEPTETS 160u
#define CAMPAIGN_SMS_UCS2 70u
/* Worst-case placeholder values: the longest name a profile will hold, the largest points
 * balance shown, an offer line as long as the offer option allows. */
#define CAMPAIGN_NAME_MAX 20
#define CAMPAIGN_OFFER_MAX 60

const char *campaign_lang_code(enum campaign_lang l);
/* "Reply STOP to opt out" in the language: appended to every marketing SMS. */
const char *campaign_footer(enum campaign_lang l);

/* text with {name}, {points} and {offer} filled (name and points at their worst case when worst
 * is set, as a customer with no name and no points gets them otherwise), and the footer. 0 or
 * -ENOSPC. */
int campaign_render(const char *text, const char *offer, enum campaign_lang l, bool worst, char *buf, size_t len);

/* Whether a rendered text fits one SMS; why says by how much it does not. */
bool campaign_fits(const char *rendered, char *why, size_t why_len);
/* A placeholder other than the three: its name in bad (for the linter's message). */
bool campaign_placeholders_ok(const char *text, char *bad, size_t bad_len);

/* Whether local time t is in the quiet hours from..to (HHMM; from == to: never). */
bool campaign_quiet(unsigned from_hhmm, unsigned to_hhmm, time_t t);
