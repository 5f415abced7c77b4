/* Campaign texts and quiet hours (campaign_text.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "campaign_text.h"
#include "gsm7.h"

static const char *const lang_codes[] = { "en", "zu", "af" };
/* Every marketing SMS says how to stop them, in the customer's language (STOP is the keyword
 * in each: domain/sms_cmd.def). */
static const char *const footers[] = {
	"Reply STOP to opt out",
	"Phendula ngo-STOP ukuze uyeke",
	"Antwoord STOP om uit te teken",
};

const char *campaign_lang_code(enum campaign_lang l)
{
	return (unsigned)l < _CAMPAIGN_LANG_COUNT ? lang_codes[l] : "en";
}

const char *campaign_footer(enum campaign_lang l)
{
	return (unsigned)l < _CAMPAIGN_LANG_COUNT ? footers[l] : footers[CAMPAIGN_EN];
}

int campaign_render(const char *text, const char *offer, enum campaign_lang l, bool worst, char *buf, size_t len)
{
	/* 'W' is the widest GSM-7 letter there is only in septets, which is what counts */
	static const char worst_name[CAMPAIGN_NAME_MAX + 1] = "WWWWWWWWWWWWWWWWWWWW";
	size_t n = 0;
	buf[0] = '\0';
	for (const char *p = text; *p;) {
		const char *put = NULL;
		size_t skip = 0;
		if (!strncmp(p, "{name}", 6))
			put = worst ? worst_name : "", skip = 6;
		else if (!strncmp(p, "{points}", 8))
			put = worst ? "9999999" : "0", skip = 8;
		else if (!strncmp(p, "{offer}", 7))
			put = offer ? offer : "", skip = 7;
		if (put) {
			size_t k = strlen(put);
			if (n + k >= len)
				return -ENOSPC;
			memcpy(buf + n, put, k);
			n += k;
			p += skip;
			continue;
		}
		if (n + 1 >= len)
			return -ENOSPC;
		buf[n++] = *p++;
	}
	/* what the database does to a name left empty: no blank before punctuation, none at the ends */
	buf[n] = '\0';
	int k = snprintf(buf + n, len - n, " %s", campaign_footer(l));
	return k < 0 || (size_t)k >= len - n ? -ENOSPC : 0;
}

bool campaign_fits(const char *rendered, char *why, size_t why_len)
{
	struct gsm7_measure m;
	size_t n = strlen(rendered);
	if (gsm7_measure(rendered, n, &m) < 0) {
		snprintf(why, why_len, "not UTF-8");
		return false;
	}
	if (gsm7_fits(rendered, n, CAMPAIGN_SMS_SEPTETS, CAMPAIGN_SMS_UCS2)) {
		if (m.coding == GSM7_CODING_GSM7)
			snprintf(why, why_len, "%u of %u GSM-7 septets", m.septets, CAMPAIGN_SMS_SEPTETS);
		else
			snprintf(why, why_len, "%u of %u UCS-2 characters", m.ucs2_units, CAMPAIGN_SMS_UCS2);
		return true;
	}
	if (m.coding == GSM7_CODING_GSM7)
		snprintf(why, why_len, "%u GSM-7 septets, one SMS holds %u: %u too many", m.septets, CAMPAIGN_SMS_SEPTETS,
			 m.septets - CAMPAIGN_SMS_SEPTETS);
	else
		snprintf(why, why_len, "%u UCS-2 characters (not all GSM-7), one SMS holds %u: %u too many", m.ucs2_units,
			 CAMPAIGN_SMS_UCS2, m.ucs2_units - CAMPAIGN_SMS_UCS2);
	return false;
}

bool campaign_placeholders_ok(const char *text, char *bad, size_t bad_len)
{
	for (const char *p = strchr(text, '{'); p; p = strchr(p + 1, '{')) {
		if (!strncmp(p, "{name}", 6) || !strncmp(p, "{points}", 8) || !strncmp(p, "{offer}", 7))
			continue;
		const char *e = strchr(p, '}');
		snprintf(bad, bad_len, "%.*s", e && e - p < 24 ? (int)(e - p + 1) : 8, p);
		return false;
	}
	return true;
}

static unsigned minutes(unsigned hhmm)
{
	return (hhmm / 100) * 60 + hhmm % 100;
}

bool campaign_quiet(unsigned from_hhmm, unsigned to_hhmm, time_t t)
{
	struct tm tm;
	localtime_r(&t, &tm);
	unsigned now = tm.tm_hour * 60 + tm.tm_min, from = minutes(from_hhmm), to = minutes(to_hhmm);
	if (from == to)
		return false;
	/* 2000-0800 wraps midnight; 1200-1400 does not */
	return from < to ? now >= from && now < to : now >= from || now < to;
}
