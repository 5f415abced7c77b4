/* Rand amounts in integer cents <-> text. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include "money.h"

int money_format(char *buf, size_t len, int64_t cents)
{
	/* Work on the magnitude as unsigned so INT64_MIN has one too. */
	uint64_t mag = cents < 0 ? -(uint64_t)cents : (uint64_t)cents;
	int n = snprintf(buf, len, "%sR%" PRIu64 ".%02" PRIu64, cents < 0 ? "-" : "", mag / 100, mag % 100);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return 0;
}

int money_parse(const char *s, int64_t *cents)
{
	int64_t rands = 0, frac = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (rands > (INT64_MAX / 100 - (*p - '0')) / 10)
			return -ERANGE;
		rands = rands * 10 + (*p - '0');
	}
	if (*p == '.') {
		/* One or two decimals: "17." and "17.999" are typing mistakes, not amounts. */
		p++;
		int digits = 0;
		for (; *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
			frac = frac * 10 + (*p - '0');
		if (digits == 0 || digits > 2)
			return -EINVAL;
		if (digits == 1)
			frac *= 10;
	}
	if (*p)
		return -EINVAL;
	/* rands <= INT64_MAX / 100 was kept above, but the cents can still push it over. */
	if (rands * 100 > INT64_MAX - frac)
		return -ERANGE;
	*cents = rands * 100 + frac;
	return 0;
}
