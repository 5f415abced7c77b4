/* MSISDN normalisation to E.164; see msisdn.h for the accepted forms. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "msisdn.h"

static bool msisdn_all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int msisdn_normalize(const char *in, const char *country_code, char *out, size_t out_len)
{
	size_t cc_len = strlen(country_code);
	const char *intl;	/* the number with its country code, no prefix */

	/* Country codes are 1-3 digits and never start with 0 (ITU-T E.164). */
	if (cc_len < 1 || cc_len > 3 || !msisdn_all_digits(country_code) || country_code[0] == '0')
		return -EINVAL;

	if (in[0] == '+')
		intl = in + 1;
	else if (in[0] == '0' && in[1] == '0')
		intl = in + 2;
	else if (in[0] == '0') {
		/* National: drop the trunk prefix, put our country code in front. */
		const char *nsn = in + 1;
		size_t nsn_len = strlen(nsn);
		if (!msisdn_all_digits(nsn) || nsn_len < MSISDN_NATIONAL_MIN || cc_len + nsn_len > MSISDN_E164_MAX)
			return -EINVAL;
		if (cc_len + nsn_len + 2 > out_len)
			return -ENOSPC;
		snprintf(out, out_len, "+%s%s", country_code, nsn);
		return 0;
	} else
		intl = in;

	size_t len = strlen(intl);
	if (!msisdn_all_digits(intl) || intl[0] == '0' || len > MSISDN_E164_MAX)
		return -EINVAL;
	/* For our own country we know where the national part starts; for others the
	 * shortest country code (1 digit) is the most we can assume. */
	size_t min = strncmp(intl, country_code, cc_len) == 0 ? cc_len + MSISDN_NATIONAL_MIN
							      : 1 + MSISDN_NATIONAL_MIN;
	if (len < min)
		return -EINVAL;
	if (len + 2 > out_len)
		return -ENOSPC;
	snprintf(out, out_len, "+%s", intl);
	return 0;
}
