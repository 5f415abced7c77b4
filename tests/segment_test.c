/* The pure parts of the CRM: segment rules (parsed, refused with a reason, written back
 * canonical, turned into statement parameters) and campaign texts (worst-case rendering, the
 * footer per language, the one-SMS linter) and the quiet hours across midnight; the input checks
 * spazactl and the back office share (crm_form.c). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "testlib.h"
#include "campaign_text.h"
#include "crm_form.h"
#include "segment_rule.h"

static const char *canon(const char *text)
{
	static char buf[SEGMENT_RULE_MAX + 1], why[160];
	struct segment_rule r;
	if (segment_rule_parse(text, &r, why, sizeof(why)) < 0)
		return why;
	segment_rule_format(&r, buf, sizeof(buf));
	return buf;
}

/* a local time today at hh:mm */
static time_t at(int hh, int mm)
{
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	tm.tm_hour = hh, tm.tm_min = mm, tm.tm_sec = 0, tm.tm_isdst = -1;
	return mktime(&tm);
}

int main(void)
{
	T_EQ_STR(canon("lang zu and bought Drinks within 30"), "bought Drinks within 30 and lang zu",
		 "a rule is written back in one order, with and");
	T_EQ_STR(canon("opted-in   spent-over 150.5 segment top credit-due open-ticket"),
		 "segment top and spent-over 150.50 and credit-due and open-ticket and opted-in", "every condition at once");
	T_EQ_STR(canon(""), "everyone", "no condition: everyone");
	T_EQ_STR(canon("lang xh"), "lang is en, zu or af, not \"xh\"", "an unknown language is refused");
	T_EQ_STR(canon("bought Drinks within 0"), "within needs 1 to 3650 days, not \"0\"", "zero days is refused");
	T_EQ_STR(canon("bought Drinks"), "bought Drinks needs \"within DAYS\"", "bought without within is refused");
	T_EQ_STR(canon("bought Dr;nks within 3"), "bought needs a category number or one-word name, not \"Dr;nks\"",
		 "a category with punctuation is refused");
	T_EQ_STR(canon("spent-over -5"), "spent-over needs an amount in rand (150 or 150.50), not \"-5\"",
		 "a negative amount is refused");
	T_EQ_STR(canon("opted-in segment new segment top"), "segment is given twice", "a condition twice is refused");
	T_EQ_STR(canon("lang"), "lang needs a value", "a condition without its value is refused");

	struct segment_rule r;
	struct segment_rule_params p;
	char why[160];
	segment_rule_parse("bought 2 within 7 and lang af", &r, why, sizeof(why));
	segment_rule_params(&r, &p);
	T_EQ_STR(p.v[0], "2", "param 1: the category");
	T_EQ_STR(p.v[1], "7", "param 2: the days");
	T_CHECK(p.v[2] == NULL && p.v[7] == NULL, "no spent-over, no named segment: NULL parameters", "not NULL");
	T_EQ_STR(p.v[3], "af", "param 4: the language");
	T_EQ_STR(p.v[6], "false", "param 7: opted-in not asked");

	char buf[512];
	campaign_render("Hi {name}, {points} points: {offer}", "2 for R28", CAMPAIGN_ZU, true, buf, sizeof(buf));
	T_EQ_STR(buf, "Hi WWWWWWWWWWWWWWWWWWWW, 9999999 points: 2 for R28 Phendula ngo-STOP ukuze uyeke",
		 "the worst case: the longest name and points, the offer, the isiZulu footer");
	campaign_render("Hallo", "", CAMPAIGN_AF, false, buf, sizeof(buf));
	T_EQ_STR(buf, "Hallo Antwoord STOP om uit te teken", "the Afrikaans footer");
	T_CHECK(campaign_fits("Hi there Reply STOP to opt out", why, sizeof(why)), "a short text fits", "%s", why);
	T_EQ_STR(why, "30 of 160 GSM-7 septets", "... and says how much of the SMS it takes");
	char longtext[200];
	memset(longtext, 'x', 165);
	longtext[165] = '\0';
	T_CHECK(!campaign_fits(longtext, why, sizeof(why)), "165 septets do not fit", "fits");
	T_EQ_STR(why, "165 GSM-7 septets, one SMS holds 160: 5 too many", "... and the linter says by how much");
	T_CHECK(!campaign_fits("Sawubona Kategorieë 123456789012345678901234567890123456789012345678901234567890", why,
			       sizeof(why)), "a UCS-2 text over 70 characters does not fit", "fits");
	char bad[32];
	T_CHECK(!campaign_placeholders_ok("Hi {nmae}", bad, sizeof(bad)), "an unknown placeholder is found", "missed");
	T_EQ_STR(bad, "{nmae}", "... and named");

	T_CHECK(campaign_quiet(2000, 800, at(22, 0)), "20:00-08:00 is quiet at 22:00", "not quiet");
	T_CHECK(campaign_quiet(2000, 800, at(7, 59)), "... and at 07:59", "not quiet");
	T_CHECK(!campaign_quiet(2000, 800, at(8, 0)), "... not at 08:00", "quiet");
	T_CHECK(!campaign_quiet(2000, 800, at(12, 30)), "... not at 12:30", "quiet");
	T_CHECK(campaign_quiet(1230, 1400, at(13, 0)), "12:30-14:00 is quiet at 13:00", "not quiet");
	T_CHECK(!campaign_quiet(1230, 1400, at(14, 0)), "... not at 14:00", "quiet");
	T_CHECK(!campaign_quiet(900, 900, at(9, 0)), "from = to: never quiet", "quiet");
	/* crm_form.c: what spazactl's arguments and the back office's JSON are both held to */
	T_CHECK(crm_name_ok("zu-drinks_2") && !crm_name_ok("Zu") && !crm_name_ok("2x") && !crm_name_ok("") &&
		!crm_name_ok("a23456789012345678901234567890123"), "a name: lower-case, from a letter, up to 32", "a name check was wrong");
	char since[40];
	T_CHECK(crm_since_parse("2026-03-01", since, sizeof(since)) == 0 && !strcmp(since, "2026-03-01"), "a day", "got \"%s\"", since);
	T_CHECK(crm_since_parse("2026-03-01T08:30:00", since, sizeof(since)) == 0 && !strcmp(since, "2026-03-01 08:30:00"),
		"a time", "got \"%s\"", since);
	T_CHECK(crm_since_parse("30d", since, sizeof(since)) == 0 && strlen(since) == 22, "N days ago, in UTC", "got \"%s\"", since);
	T_CHECK(crm_since_parse("yesterday", since, sizeof(since)) < 0 && crm_since_parse("2026-13-01", since, sizeof(since)) < 0 &&
		crm_since_parse("-3d", since, sizeof(since)) < 0, "anything else is refused", "one was taken");
	T_CHECK(campaign_at_ok("now") && campaign_at_ok("2999-01-01") && campaign_at_ok("2999-01-01 09:00") &&
		!campaign_at_ok("2999-01-01 25:00") && !campaign_at_ok("tomorrow"), "a campaign's start", "a start check was wrong");
	T_CHECK(campaign_keyword_ok("BREAD") && !campaign_keyword_ok("STOP") && !campaign_keyword_ok("bread") &&
		!campaign_keyword_ok("B"), "a keyword: capitals, and no SMS command's", "a keyword check was wrong");
	T_CHECK(campaign_code_ok("*120*777*55#") && !campaign_code_ok("*120*777*55") && !campaign_code_ok("*120*777*1234567#"),
		"a dial code", "a code check was wrong");
	struct campaign_lint li;
	T_CHECK(campaign_lint_lang("Hi {name}: {offer}", "2 for R28", CAMPAIGN_ZU, &li) && li.ok &&
		!strcmp(li.text, "Hi WWWWWWWWWWWWWWWWWWWW: 2 for R28 Phendula ngo-STOP ukuze uyeke") &&
		strstr(li.why, "of 160 GSM-7 septets"), "a text linted at its worst case with its footer", "got \"%s\" (%s)", li.text, li.why);
	T_CHECK(!campaign_lint_lang("Hi {nam}", "", CAMPAIGN_EN, &li) && !li.text[0] &&
		!strcmp(li.why, "unknown placeholder {nam} (there are {name}, {points}, {offer})"), "an unknown placeholder is named",
		"got \"%s\"", li.why);
	char big[200];
	memset(big, 'x', 150);
	big[150] = '\0';
	T_CHECK(!campaign_lint_lang(big, "", CAMPAIGN_EN, &li) && li.text[0] && strstr(li.why, "too many"),
		"over one SMS, by how much", "got \"%s\"", li.why);
	return T_DONE();
}
