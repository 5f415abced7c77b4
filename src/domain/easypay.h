#pragma once
/* EasyPay-style payment references for barcode slips: '9', the 4-digit receiver id (config),
 * the account digits (the order number, zero-padded to 9 digits) and a Luhn check digit
 * (luhn.h): 15 digits, e.g. 912340000010428 for receiver 1234, order 1042. People read and
 * type them grouped in fours: "9123 4000 0010 428". sql/002_ledger.sql builds the same
 * references in spaza_easypay_ref(); tests prove the two agree. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EASYPAY_PREFIX '9'
#define EASYPAY_RECEIVER_MAX 9999u
#define EASYPAY_ACCOUNT_DIGITS 9
#define EASYPAY_ACCOUNT_MAX 999999999ull
#define EASYPAY_REF_LEN (1 + 4 + EASYPAY_ACCOUNT_DIGITS + 1)
#define EASYPAY_REF_BUF (EASYPAY_REF_LEN + 1)
/* the grouped form: a space after every 4 digits but the last group */
#define EASYPAY_GROUPED_BUF (EASYPAY_REF_LEN + (EASYPAY_REF_LEN - 1) / 4 + 1)

/* The reference for a receiver id (0-9999) and an account number (0-999999999).
 * Returns 0, -EINVAL (out of range) or -ENOSPC (EASYPAY_REF_BUF always suffices). */
int easypay_ref_build(char *out, size_t len, unsigned receiver_id, uint64_t account);

/* Read a reference as a till or a cashier hands it over: digits, spaces between them allowed
 * (the grouped form). On success stores the receiver id and account (either may be NULL) and,
 * when ref_out is given, the 15 digits without spaces (ref_len >= EASYPAY_REF_BUF).
 * Returns 0, -EINVAL (not 15 digits starting with 9, or ref_out too small) or -EBADMSG
 * (the check digit is wrong: a typing mistake). */
int easypay_ref_parse(const char *in, unsigned *receiver_id, uint64_t *account, char *ref_out, size_t ref_len);

/* Whether in is a well-formed reference with the right check digit. */
bool easypay_ref_check(const char *in);

/* A string of digits grouped in fours for people: "912340000010428" -> "9123 4000 0010 428".
 * Returns 0, -EINVAL (empty or not all digits) or -ENOSPC. */
int easypay_ref_group(char *out, size_t len, const char *digits);
