/* The /ussd/at form decoder: split name=value pairs, %-decode, check, normalise the MSISDN.
 * Kept apart from front_at.c so that what an aggregator can send is tested (and fuzzed)
 * without a socket, a session table or a configuration. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "at_form.h"
#include "gsm7.h"

static const char *const at_field_names[_AT_FIELD_COUNT] = { "sessionId", "serviceCode", "phoneNumber",
							     "networkCode", "text" };
static const size_t at_field_max[_AT_FIELD_COUNT] = { 128, 32, 32, 16, 1024 };

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode one application/x-www-form-urlencoded value in place; -1 on a bad %XX. */
static int form_decode(char *s, size_t len, size_t *out_len)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '+') {
			s[o++] = ' ';
		} else if (s[i] == '%') {
			int hi, lo;
			if (i + 2 >= len || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				return -1;
			s[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = '\0';
	*out_len = o;
	return 0;
}

static int at_bad(char *why, size_t why_size, const char *fmt, const char *arg)
{
	snprintf(why, why_size, fmt, arg);
	return -EINVAL;
}

int at_form_parse(char *buf, const char *country_code, struct at_form *f, char *why, size_t why_size)
{
	memset(f, 0, sizeof(*f));
	/* split name=value pairs; unknown fields are ignored, as aggregators add their own */
	for (char *p = buf, *next; p && *p; p = next) {
		next = strchr(p, '&');
		if (next)
			*next++ = '\0';
		char *eq = strchr(p, '=');
		if (!eq)
			continue;
		*eq = '\0';
		for (int i = 0; i < _AT_FIELD_COUNT; i++) {
			if (strcmp(p, at_field_names[i]))
				continue;
			size_t len;
			if (form_decode(eq + 1, strlen(eq + 1), &len) < 0)
				return at_bad(why, why_size, "bad %%-encoding in %s", at_field_names[i]);
			if (len > at_field_max[i])
				return at_bad(why, why_size, "%s too long", at_field_names[i]);
			if (memchr(eq + 1, '\0', len) || gsm7_measure(eq + 1, len, &(struct gsm7_measure){ 0 }) < 0)
				return at_bad(why, why_size, "%s is not valid UTF-8 text", at_field_names[i]);
			f->val[i] = eq + 1;
		}
	}
	for (int i = 0; i < _AT_FIELD_COUNT; i++)
		if (!f->val[i] && i != AT_NETWORK)
			return at_bad(why, why_size, "missing field %s", at_field_names[i]);
	if (!f->val[AT_SESSION][0])
		return at_bad(why, why_size, "empty %s", "sessionId");
	if (!f->val[AT_SERVICE][0])
		return at_bad(why, why_size, "empty %s", "serviceCode");
	if (msisdn_normalize(f->val[AT_PHONE], country_code, f->msisdn, sizeof(f->msisdn)) < 0)
		return at_bad(why, why_size, "bad phoneNumber \"%s\"", f->val[AT_PHONE]);
	return 0;
}
