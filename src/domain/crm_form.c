/* The CRM's input checks (crm_form.h), shared by spazactl and the back office. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "crm_form.h"
#include "sms_cmd.h"

const char *const crm_funnel_cols[CRM_FUNNEL_NCOLS] = { "screen", "front", "lang", "segment", "version", "entries",
							 "end", "timeout", "abandon", "error", "back", "ordered",
							 "paid", "s_per_hop" };

int crm_funnel_by(const char *list, char *buf, size_t len)
{
	static const char *const dims[] = { "front", "lang", "segment", "version" };
	char chosen[sizeof(dims) / sizeof(dims[0])] = { 0 };
	if (!list || !*list)
		list = "front,lang,segment,version";
	else if (!strcmp(list, "none"))
		list = "";
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		unsigned d = 0;
		while (d < sizeof(dims) / sizeof(dims[0]) && (strlen(dims[d]) != n || strncmp(p, dims[d], n)))
			d++;
		if (d == sizeof(dims) / sizeof(dims[0]))
			return -EINVAL;
		chosen[d] = 1;
		p += n;
		if (*p == ',' && !*++p)
			return -EINVAL;	/* "lang," */
	}
	/* the dimensions in the table's order, whatever order they were named in */
	size_t used = 0;
	for (unsigned d = 0; d < sizeof(dims) / sizeof(dims[0]); d++)
		if (chosen[d])
			used += snprintf(buf + used, used < len ? len - used : 0, "%s%s", used ? "," : "{", dims[d]);
	used += snprintf(buf + used, used < len ? len - used : 0, "%s}", used ? "" : "{");
	return used < len ? 0 : -ENOSPC;
}

bool crm_name_ok(const char *name)
{
	size_t n = strlen(name);
	return n >= 1 && n <= 32 && name[0] >= 'a' && name[0] <= 'z' &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

int crm_since_parse(const char *v, char *buf, size_t len)
{
	int y, m, d, hh, mm, ss, used = 0;
	unsigned days;
	if (sscanf(v, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &m, &d, &hh, &mm, &ss, &used) == 6 && (size_t)used == strlen(v) &&
	    m >= 1 && m <= 12 && d >= 1 && d <= 31 && hh <= 23 && mm <= 59 && ss <= 60 && hh >= 0 && mm >= 0 && ss >= 0) {
		snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d", y, m, d, hh, mm, ss);
		return 0;
	}
	/* used is set again by each scan: a %n not reached keeps the last one's, which took
	 * "2026-13-01" (no month 13) as 2026 days ago */
	used = 0;
	if (sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &used) == 3 && (size_t)used == strlen(v) && m >= 1 && m <= 12 &&
	    d >= 1 && d <= 31) {
		snprintf(buf, len, "%04d-%02d-%02d", y, m, d);
		return 0;
	}
	used = 0;
	if (sscanf(v, "%5ud%n", &days, &used) == 1 && (size_t)used == strlen(v) && v[0] >= '0' && v[0] <= '9') {
		time_t t = time(NULL) - (time_t)days * 86400;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(buf, len, "%Y-%m-%d %H:%M:%S+00", &tm);
		return 0;
	}
	return -EINVAL;
}

bool campaign_at_ok(const char *at)
{
	int y, mo, d, h, mi;
	char extra;
	if (!strcmp(at, "now"))
		return true;
	if (sscanf(at, "%4d-%2d-%2d %2d:%2d%c", &y, &mo, &d, &h, &mi, &extra) == 5)
		return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h >= 0 && h <= 23 && mi >= 0 && mi <= 59;
	if (sscanf(at, "%4d-%2d-%2d%c", &y, &mo, &d, &extra) == 3)
		return mo >= 1 && mo <= 12 && d >= 1 && d <= 31;
	return false;
}

bool campaign_keyword_ok(const char *keyword)
{
	size_t n = strlen(keyword);
	struct sms_cmd_parsed p;
	if (n < 2 || n > 16 || strspn(keyword, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != n)
		return false;
	sms_cmd_parse(keyword, &p);
	return p.cmd == SMS_CMD_UNKNOWN;
}

bool campaign_code_ok(const char *code)
{
	unsigned n;
	int used = 0;
	return sscanf(code, "*120*777*%6u#%n", &n, &used) == 1 && (size_t)used == strlen(code);
}

bool campaign_lint_lang(const char *text, const char *offer, enum campaign_lang l, struct campaign_lint *out)
{
	char bad[32];
	out->text[0] = '\0';
	if (!campaign_placeholders_ok(text, bad, sizeof(bad))) {
		snprintf(out->why, sizeof(out->why), "unknown placeholder %s (there are {name}, {points}, {offer})", bad);
		return out->ok = false;
	}
	if (campaign_render(text, offer, l, true, out->text, sizeof(out->text)) < 0) {
		out->text[0] = '\0';
		snprintf(out->why, sizeof(out->why), "far longer than one SMS");
		return out->ok = false;
	}
	return out->ok = campaign_fits(out->text, out->why, sizeof(out->why));
}
