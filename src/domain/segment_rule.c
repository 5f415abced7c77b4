/* The shop's segment rules: words in, a struct out, and back to canonical words (segment_rule.h).
 * A rule comes from staff on the command line; the parser bounds every field and refuses
 * anything it does not know with a sentence saying which word, since a rule that silently meant
 * something else would send a campaign to the wrong people. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "segment_rule.h"
#include "money.h"

static const char *const named_words[] = {
#define SEGMENT_WORD(id, word) word,
	SEGMENT_NAMED(SEGMENT_WORD)
#undef SEGMENT_WORD
};

const char *segment_named_word(enum segment_named s)
{
	return (unsigned)s < _SEGMENT_NAMED_COUNT ? named_words[s] : NULL;
}

int segment_named_index(const char *word)
{
	for (int i = 0; i < _SEGMENT_NAMED_COUNT; i++)
		if (!strcmp(word, named_words[i]))
			return i;
	return -1;
}

static int refuse(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The next blank-separated word of *s into w (at most len - 1 bytes); false at the end. */
static bool next_word(const char **s, char *w, size_t len, bool *too_long)
{
	const char *p = *s;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (!*p)
		return false;
	size_t n = 0;
	*too_long = false;
	while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
		if (n + 1 < len)
			w[n++] = *p;
		else
			*too_long = true;
		p++;
	}
	w[n] = '\0';
	*s = p;
	return true;
}

/* A category: its number or its name, one word of letters, digits, '-' and '_'. */
static bool category_ok(const char *w)
{
	if (!*w)
		return false;
	for (const char *p = w; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
	return true;
}

int segment_rule_parse(const char *text, struct segment_rule *r, char *why, size_t why_len)
{
	char w[SEGMENT_CATEGORY_MAX] = "", arg[SEGMENT_CATEGORY_MAX] = "";
	bool seen_bought = false, seen_spent = false, seen_lang = false, too_long;
	const char *s = text;

	memset(r, 0, sizeof(*r));
	r->spent_over_cents = -1;
	r->named = -1;
	if (strlen(text) > SEGMENT_RULE_MAX)
		return refuse(why, why_len, "the rule is longer than %d characters", SEGMENT_RULE_MAX);
	while (next_word(&s, w, sizeof(w), &too_long)) {
		if (too_long)
			return refuse(why, why_len, "a word of the rule is too long");
		if (!strcmp(w, "and") || !strcmp(w, "everyone"))
			continue;
		bool has_arg = false;
		if (!strcmp(w, "bought") || !strcmp(w, "spent-over") || !strcmp(w, "lang") || !strcmp(w, "segment")) {
			has_arg = next_word(&s, arg, sizeof(arg), &too_long);
			if (!has_arg)
				return refuse(why, why_len, "%s needs a value", w);
			if (too_long)
				return refuse(why, why_len, "the value after %s is too long", w);
		}
		if (!strcmp(w, "bought")) {
			if (seen_bought)
				return refuse(why, why_len, "bought is given twice");
			seen_bought = true;
			if (!category_ok(arg))
				return refuse(why, why_len, "bought needs a category number or one-word name, not \"%s\"", arg);
			snprintf(r->category, sizeof(r->category), "%s", arg);
			char kw[16], days[16];
			if (!next_word(&s, kw, sizeof(kw), &too_long) || too_long || strcmp(kw, "within"))
				return refuse(why, why_len, "bought %s needs \"within DAYS\"", arg);
			if (!next_word(&s, days, sizeof(days), &too_long) || too_long)
				return refuse(why, why_len, "within needs a number of days");
			char *end;
			errno = 0;
			unsigned long d = strtoul(days, &end, 10);
			if (!isdigit((unsigned char)days[0]) || *end || errno || d < 1 || d > 3650)
				return refuse(why, why_len, "within needs 1 to 3650 days, not \"%s\"", days);
			r->within_days = (unsigned)d;
		} else if (!strcmp(w, "spent-over")) {
			if (seen_spent)
				return refuse(why, why_len, "spent-over is given twice");
			seen_spent = true;
			int64_t c;
			if (money_parse(arg, &c) < 0 || c > INT64_C(100000000000))
				return refuse(why, why_len, "spent-over needs an amount in rand (150 or 150.50), not \"%s\"", arg);
			r->spent_over_cents = c;
		} else if (!strcmp(w, "lang")) {
			if (seen_lang)
				return refuse(why, why_len, "lang is given twice");
			seen_lang = true;
			if (strcmp(arg, "en") && strcmp(arg, "zu") && strcmp(arg, "af"))
				return refuse(why, why_len, "lang is en, zu or af, not \"%s\"", arg);
			memcpy(r->lang, arg, sizeof(r->lang));	/* two letters and the NUL, checked above */
		} else if (!strcmp(w, "segment")) {
			if (r->named >= 0)
				return refuse(why, why_len, "segment is given twice");
			r->named = segment_named_index(arg);
			if (r->named < 0)
				return refuse(why, why_len, "segment is top, average, once-off, new or lapsed, not \"%s\"", arg);
		} else if (!strcmp(w, "credit-due")) {
			r->credit_due = true;
		} else if (!strcmp(w, "open-ticket")) {
			r->open_ticket = true;
		} else if (!strcmp(w, "opted-in")) {
			r->opted_in = true;
		} else {
			return refuse(why, why_len, "unknown condition \"%s\" (bought, spent-over, lang, credit-due,"
				      " open-ticket, opted-in, segment)", w);
		}
	}
	return 0;
}

int segment_rule_format(const struct segment_rule *r, char *buf, size_t len)
{
	size_t n = 0;
	int k;
	buf[0] = '\0';
#define PUT(...) do { \
		k = snprintf(buf + n, len - n, "%s", n ? " and " : ""); \
		if (k < 0 || (size_t)k >= len - n) return -ENOSPC; \
		n += k; \
		k = snprintf(buf + n, len - n, __VA_ARGS__); \
		if (k < 0 || (size_t)k >= len - n) return -ENOSPC; \
		n += k; \
	} while (0)
	if (r->named >= 0)
		PUT("segment %s", segment_named_word(r->named));
	if (r->category[0])
		PUT("bought %s within %u", r->category, r->within_days);
	if (r->spent_over_cents >= 0) {
		char m[MONEY_BUF_LEN];
		money_format(m, sizeof(m), r->spent_over_cents);
		PUT("spent-over %s", m + 1);	/* without the R: what the parser takes */
	}
	if (r->lang[0])
		PUT("lang %s", r->lang);
	if (r->credit_due)
		PUT("credit-due");
	if (r->open_ticket)
		PUT("open-ticket");
	if (r->opted_in)
		PUT("opted-in");
	if (!n)
		PUT("everyone");
#undef PUT
	return 0;
}

void segment_rule_params(const struct segment_rule *r, struct segment_rule_params *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->within, sizeof(p->within), "%u", r->within_days);
	snprintf(p->spent, sizeof(p->spent), "%" PRId64, r->spent_over_cents);
	p->v[0] = r->category[0] ? r->category : NULL;
	p->v[1] = r->category[0] ? p->within : NULL;
	p->v[2] = r->spent_over_cents >= 0 ? p->spent : NULL;
	p->v[3] = r->lang[0] ? r->lang : NULL;
	p->v[4] = r->credit_due ? "true" : "false";
	p->v[5] = r->open_ticket ? "true" : "false";
	p->v[6] = r->opted_in ? "true" : "false";
	p->v[7] = r->named >= 0 ? segment_named_word(r->named) : NULL;
}
