#pragma once
/* Money is integer cents everywhere; these are the only places it becomes text and back. */
#include <stddef.h>
#include <stdint.h>

/* Longest money_format() result: "-R" + 17 rand digits + ".cc" + NUL. */
#define MONEY_BUF_LEN 24

/* "R17.99", "R1.00", "R1799.80", "R0.05", "-R3.50": no thousands separator, as the screens
 * show it. Returns 0 or -ENOSPC (buf too small; it then holds nothing useful). */
int money_format(char *buf, size_t len, int64_t cents);

/* A non-negative amount in rand as staff type it in a catalogue: "17.99", "17.9" (1790 cents),
 * "17". No sign, no currency symbol, no spaces, no exponent, at most two decimals.
 * Returns 0, -EINVAL (not an amount) or -ERANGE (does not fit in int64_t cents). */
int money_parse(const char *s, int64_t *cents);
