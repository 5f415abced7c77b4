#pragma once
/* Phone numbers are personal information (POPIA): where text leaves the daemon for a log or
 * the audit log, the numbers in it are masked, "+27821234567" -> "+2782****567". A number is a
 * run of digits standing alone (no letter or digit touching it) that is either "+" and 8 to 15
 * digits, or 11 digits starting with the country code, or 10 digits starting with one 0: the
 * forms msisdn_normalize() takes. Order numbers, slip references (15 digits starting with 9)
 * and key ids are left alone. */
#include <stdbool.h>
#include <stddef.h>

/* Whether text holds a phone number. */
bool privacy_has_msisdn(const char *text);
/* text with every phone number masked, into out (truncated to len); returns out. */
char *privacy_mask(char *out, size_t len, const char *text);
