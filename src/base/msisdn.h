#pragma once
/* Phone numbers as customers are keyed by: E.164 with a leading '+' ("+27821234567"). */
#include <stddef.h>

/* Shortest national significant number (after the country code) and longest E.164 number,
 * both in digits; the customers table checks the same bounds. */
#define MSISDN_NATIONAL_MIN 7
#define MSISDN_E164_MAX 15
/* '+', the digits and the terminating NUL */
#define MSISDN_BUF_LEN (MSISDN_E164_MAX + 2)

/* Turn a number as an aggregator, Kannel or an operator types it into E.164.
 * With country_code "27" these all give "+27821234567":
 *   "0821234567"     national (trunk prefix 0)
 *   "27821234567"    international without '+' (what aggregators send)
 *   "+27821234567"   E.164
 *   "0027821234567"  international with the "00" dialling prefix
 * Only digits and one leading '+' are accepted: front ends hand over clean numbers, and
 * silently dropping spaces or dashes would hide a broken front end rather than report it.
 * Returns 0, -EINVAL (not a number, too short, too long, bad country_code) or -ENOSPC
 * (out_len too small; MSISDN_BUF_LEN always suffices). */
int msisdn_normalize(const char *in, const char *country_code, char *out, size_t out_len);
