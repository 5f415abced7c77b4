/* Masking phone numbers in text (see privacy.h). */
#include <ctype.h>
#include <string.h>
#include "cfg.h"
#include "privacy.h"

#define PRIVACY_KEEP_HEAD 4	/* digits shown first: the country code and network prefix */
#define PRIVACY_KEEP_TAIL 3

/* The length of the phone number starting at text[i] (with its "+"), or 0. */
static size_t privacy_number_at(const char *text, size_t i)
{
	const char *cc = g_cfg && g_cfg->country_code ? g_cfg->country_code : "27";
	bool plus = text[i] == '+';
	if (i > 0 && (isalnum((unsigned char)text[i - 1]) || text[i - 1] == '_' || (!plus && text[i - 1] == '+')))
		return 0;
	const char *d = text + i + plus;
	size_t n = strspn(d, "0123456789");
	if (isalpha((unsigned char)d[n]) || d[n] == '_')
		return 0;
	if (plus)
		return n >= 8 && n <= 15 ? n + 1 : 0;
	if (n == 11 && !strncmp(d, cc, strlen(cc)))
		return n;
	if (n == 10 && d[0] == '0' && d[1] != '0')
		return n;
	return 0;
}

bool privacy_has_msisdn(const char *text)
{
	for (size_t i = 0; text[i]; i++)
		if ((text[i] == '+' || isdigit((unsigned char)text[i])) && privacy_number_at(text, i))
			return true;
	return false;
}

char *privacy_mask(char *out, size_t len, const char *text)
{
	size_t o = 0;
	if (len == 0)
		return out;
	for (size_t i = 0; text[i] && o + 1 < len;) {
		size_t n = (text[i] == '+' || isdigit((unsigned char)text[i])) ? privacy_number_at(text, i) : 0;
		if (!n) {
			/* the rest of a digit run that is not a number is copied whole */
			do
				out[o++] = text[i++];
			while (isdigit((unsigned char)text[i]) && isdigit((unsigned char)text[i - 1]) && o + 1 < len);
			continue;
		}
		size_t head = PRIVACY_KEEP_HEAD + (text[i] == '+');
		for (size_t k = 0; k < n && o + 1 < len; k++)
			out[o++] = k < head || k >= n - PRIVACY_KEEP_TAIL ? text[i + k] : '*';
		i += n;
	}
	out[o] = '\0';
	return out;
}
