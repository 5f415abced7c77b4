/* A retailer's till key, made the one way both doors use (retailer_key.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <openssl/crypto.h>
#include "retailer_key.h"

static void retailer_key_hex(char *out, const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0xf];
	}
	out[2 * n] = '\0';
}

int retailer_key_make(struct retailer_key *k)
{
	uint8_t rnd[RETAILER_KEY_ID_BYTES], secret[SECRETS_HMAC_LEN];
	unsigned v = secrets_newest("retailer-master");
	if (!v)
		return -ENOKEY;
	/* blocking only before the kernel's pool is ready, which is long past once we serve */
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -EIO;
	/* the key id names the master version: rk_ (1), rk2_, rk3_ ... (secrets_id_version()) */
	int n = v > 1 ? snprintf(k->id, sizeof(k->id), "rk%u_", v) : snprintf(k->id, sizeof(k->id), "rk_");
	retailer_key_hex(k->id + n, rnd, sizeof(rnd));
	k->master_version = v;
	if (secrets_hmac_v("retailer-master", v, k->id, strlen(k->id), secret) < 0)
		return -ENOKEY;
	retailer_key_hex(k->secret_hex, secret, sizeof(secret));
	OPENSSL_cleanse(secret, sizeof(secret));
	return 0;
}

void retailer_key_wipe(struct retailer_key *k)
{
	OPENSSL_cleanse(k->secret_hex, sizeof(k->secret_hex));
}
