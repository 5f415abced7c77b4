#pragma once
/* The /ussd/at request body as data: the five form fields of the Africa's Talking convention,
 * %-decoded, checked and the phone number made E.164. No I/O, no state: front_at.c answers
 * with what this finds, and the fuzzer (fuzz/at_form_fuzz.c) calls it directly. */
#include <stddef.h>
#include "msisdn.h"

enum at_field { AT_SESSION, AT_SERVICE, AT_PHONE, AT_NETWORK, AT_TEXT, _AT_FIELD_COUNT };

struct at_form {
	/* Point into the parsed buffer, decoded, NUL-terminated, NUL-free, valid UTF-8, within
	 * their limits. Only networkCode may be NULL (absent). */
	const char *val[_AT_FIELD_COUNT];
	char msisdn[MSISDN_BUF_LEN];	/* phoneNumber normalised for country_code */
};

/* Parse an application/x-www-form-urlencoded body (buf, NUL-terminated, decoded in place;
 * parsing stops at its first NUL). Unknown fields are ignored, a repeated one counts its last
 * time. Returns 0, or -EINVAL with the reason a client gets in why (always NUL-terminated,
 * cut to why_size). */
int at_form_parse(char *buf, const char *country_code, struct at_form *f, char *why, size_t why_size);
