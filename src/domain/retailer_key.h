#pragma once
/* A retailer's till key (doc/api-till.md): a key id that names the 'retailer-master' version
 * it was made under ("rk_" for version 1, "rk<version>_" after, then random hex) and the
 * signing secret HMAC-SHA256('retailer-master' of that version, key id). The database keeps
 * the key id only; the secret is shown once, by spazactl or the back office's Money page, and
 * stored nowhere. Both doors make keys here, so a key from either signs the same way. */
#include "secrets.h"

#define RETAILER_KEY_ID_BYTES 8
#define RETAILER_KEY_ID_BUF (16 + 2 * RETAILER_KEY_ID_BYTES)	/* "rk<version>_" and the hex */

struct retailer_key {
	char id[RETAILER_KEY_ID_BUF];
	char secret_hex[2 * SECRETS_HMAC_LEN + 1];
	unsigned master_version;
};

/* A new key under the newest 'retailer-master' (the secrets file must be loaded): 0,
 * -ENOKEY without that key, -EIO when no random bytes could be had. */
int retailer_key_make(struct retailer_key *k);
/* Wipe the secret from memory once it has been shown. */
void retailer_key_wipe(struct retailer_key *k);
