/* EasyPay-style slip references; see easypay.h. The check digit comes from luhn.c only. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "easypay.h"
#include "luhn.h"

int easypay_ref_build(char *out, size_t len, unsigned receiver_id, uint64_t account)
{
	char payload[EASYPAY_REF_BUF];

	if (receiver_id > EASYPAY_RECEIVER_MAX || account > EASYPAY_ACCOUNT_MAX)
		return -EINVAL;
	if (len < EASYPAY_REF_BUF)
		return -ENOSPC;
	snprintf(payload, sizeof(payload), "%c%04u%0*" PRIu64, EASYPAY_PREFIX, receiver_id,
		 EASYPAY_ACCOUNT_DIGITS, account);
	snprintf(out, len, "%s%d", payload, luhn_check_digit(payload));
	return 0;
}

int easypay_ref_parse(const char *in, unsigned *receiver_id, uint64_t *account, char *ref_out, size_t ref_len)
{
	char ref[EASYPAY_REF_BUF];
	size_t n = 0;

	/* Digits with single spaces between them; nothing else, not even a leading space. */
	for (const char *p = in; *p; p++) {
		if (*p == ' ' && p != in && p[1] >= '0' && p[1] <= '9' && p[-1] != ' ')
			continue;
		if (*p < '0' || *p > '9' || n == EASYPAY_REF_LEN)
			return -EINVAL;
		ref[n++] = *p;
	}
	ref[n] = '\0';
	if (n != EASYPAY_REF_LEN || ref[0] != EASYPAY_PREFIX)
		return -EINVAL;
	if (ref_out && ref_len < EASYPAY_REF_BUF)
		return -EINVAL;
	if (!luhn_valid(ref))
		return -EBADMSG;

	if (receiver_id) {
		unsigned r = 0;
		for (int i = 1; i <= 4; i++)
			r = r * 10 + (ref[i] - '0');
		*receiver_id = r;
	}
	if (account) {
		uint64_t a = 0;
		for (int i = 5; i < 5 + EASYPAY_ACCOUNT_DIGITS; i++)
			a = a * 10 + (ref[i] - '0');
		*account = a;
	}
	if (ref_out)
		memcpy(ref_out, ref, sizeof(ref));
	return 0;
}

bool easypay_ref_check(const char *in)
{
	return easypay_ref_parse(in, NULL, NULL, NULL, 0) == 0;
}

int easypay_ref_group(char *out, size_t len, const char *digits)
{
	size_t n = strlen(digits), o = 0;

	if (n == 0)
		return -EINVAL;
	if (n + (n - 1) / 4 + 1 > len)
		return -ENOSPC;
	for (size_t i = 0; i < n; i++) {
		if (digits[i] < '0' || digits[i] > '9')
			return -EINVAL;
		if (i && i % 4 == 0)
			out[o++] = ' ';
		out[o++] = digits[i];
	}
	out[o] = '\0';
	return 0;
}
