/* Luhn mod 10 check digits; see luhn.h. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include "luhn.h"

/* The check digit for the first len characters of digits, or -EINVAL. */
static int luhn_digit_of(const char *digits, size_t len)
{
	unsigned sum = 0;
	bool dbl = true;	/* the rightmost payload digit is doubled */

	if (len == 0)
		return -EINVAL;
	for (size_t i = len; i-- > 0;) {
		if (digits[i] < '0' || digits[i] > '9')
			return -EINVAL;
		unsigned d = digits[i] - '0';
		if (dbl) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
		dbl = !dbl;
	}
	return (10 - sum % 10) % 10;
}

int luhn_check_digit(const char *digits)
{
	return luhn_digit_of(digits, strlen(digits));
}

bool luhn_valid(const char *digits)
{
	size_t len = strlen(digits);

	if (len < 2 || digits[len - 1] < '0' || digits[len - 1] > '9')
		return false;
	return luhn_digit_of(digits, len - 1) == digits[len - 1] - '0';
}
