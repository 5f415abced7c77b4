/* Rand amounts in integer cents <-> text. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "money.h"

int money_format(char *buf, size_t len, int64_t cents)
{
	/* Work on the magnitude as unsigned so INT64_MIN has one too. By hand, not snprintf():
	 * every screen with a price formats several of these per hop (doc/benchmark.md). */
	uint64_t mag = cents < 0 ? -(uint64_t)cents : (uint64_t)cents;
	char tmp[32], *p = tmp + sizeof(tmp);
	*--p = (char)('0' + mag % 10);
	*--p = (char)('0' + mag / 10 % 10);
	*--p = '.';
	mag /= 100;
	do {
		*--p = (char)('0' + mag % 10);
		mag /= 10;
	} while (mag);
	*--p = 'R';
	if (cents < 0)
		*--p = '-';
	size_t n = (size_t)(tmp + sizeof(tmp) - p);
	if (!len)
		return -ENOSPC;
	memcpy(buf, p, n < len ? n : len - 1);
	buf[n < len ? n : len - 1] = '\0';
	return n < len ? 0 : -ENOSPC;
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
