#pragma once
/* Luhn mod 10 check digits: voucher PINs and EasyPay-style slip references carry one.
 * From the rightmost payload digit leftwards every other digit, starting with the rightmost,
 * is doubled (less 9 when that exceeds 9); the check digit brings the sum to a multiple of 10.
 * sql/002_ledger.sql computes the same in spaza_luhn_check_digit(); tests prove they agree. */
#include <stdbool.h>

/* The check digit (0-9) to append to a non-empty string of digits, or -EINVAL. */
int luhn_check_digit(const char *digits);

/* Whether a string of at least two digits ends in the right check digit. */
bool luhn_valid(const char *digits);
