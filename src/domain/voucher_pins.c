/* Voucher PIN batches (voucher_pins.h). */
#include <errno.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "luhn.h"
#include "secrets.h"
#include "voucher_pins.h"

size_t voucher_pins_hmacs_len(long count)
{
	return count * (2 * SECRETS_HMAC_LEN + 1) + 3;
}

size_t voucher_pins_last4s_len(long count)
{
	return count * 5 + 3;
}

/* A PIN: VOUCHER_PIN_LEN - 1 uniformly random digits (bytes of 250 and up are thrown away, so
 * every digit is equally likely) and the Luhn check digit. */
int voucher_pin(char pin[VOUCHER_PIN_LEN + 1])
{
	int n = 0;
	while (n < VOUCHER_PIN_LEN - 1) {
		uint8_t b[32];
		if (RAND_bytes(b, sizeof(b)) != 1)
			return -EIO;
		for (size_t i = 0; i < sizeof(b) && n < VOUCHER_PIN_LEN - 1; i++)
			if (b[i] < 250)
				pin[n++] = '0' + b[i] % 10;
		OPENSSL_cleanse(b, sizeof(b));
	}
	pin[n] = '\0';
	pin[n] = '0' + luhn_check_digit(pin);
	pin[n + 1] = '\0';
	return 0;
}

static void voucher_hex(char *out, const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
}

int voucher_pins_make(FILE *fp, long count, const char *value_txt, const char *expires_txt, unsigned key_v,
		      char *hmacs, char *last4s)
{
	char *h = hmacs, *l = last4s;
	int rc = 0;
	fprintf(fp, "pin,value,expires\n");
	*h++ = '{';
	*l++ = '{';
	for (long i = 0; i < count; i++) {
		char pin[VOUCHER_PIN_LEN + 1];
		uint8_t mac[SECRETS_HMAC_LEN];
		if (voucher_pin(pin) < 0 || secrets_hmac_v("voucher-pin", key_v, pin, VOUCHER_PIN_LEN, mac) < 0) {
			rc = -EIO;
			break;
		}
		fprintf(fp, "%s,%s,%s\n", pin, value_txt + 1, expires_txt);
		if (i)
			*h++ = ',', *l++ = ',';
		voucher_hex(h, mac, sizeof(mac));
		h += 2 * SECRETS_HMAC_LEN;
		memcpy(l, pin + VOUCHER_PIN_LEN - 4, 4);
		l += 4;
		OPENSSL_cleanse(pin, sizeof(pin));
	}
	*h++ = '}';
	*h = '\0';
	*l++ = '}';
	*l = '\0';
	return rc;
}
