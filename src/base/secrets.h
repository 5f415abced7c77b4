#pragma once
/* The HMAC keys in the secrets file named by the config (`secrets-file PATH` in the spaza
 * node). The file is outside git, mode 0600 (a file that group or others may read or write is
 * refused), one key per line:
 *
 *   # comment
 *   voucher-pin = 6c0f...   (hex, at least 16 bytes)
 *   retailer-master = 91ab...
 *
 * Keys in use: 'voucher-pin' (the database stores HMAC(key, PIN), never the PIN),
 * 'retailer-master' (a retailer's signing secret is HMAC(key, key id), never stored),
 * 'slip-qr' (signs slip QR codes); passwords: 'kannel-sendsms-password', 'database-password'
 * and 'vty-token' (see secrets_password()).
 * Key values never appear in a message or a log line. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SECRETS_HMAC_LEN 32	/* HMAC-SHA256 */
#define SECRETS_KEY_MIN 16	/* shortest key accepted, in bytes */
#define SECRETS_KEY_MAX 128
#define SECRETS_NAME_MAX 64
#define SECRETS_MAX 32		/* keys in one file */

/* Read a secrets file, replacing what was loaded before. On error nothing is loaded and err
 * says why ("PATH:LINE: reason", never the key). Returns 0, -errno (cannot open), -EPERM
 * (group/world access) or -EINVAL (malformed). */
int secrets_load(const char *path, char *err, size_t errlen);

/* secrets_load() on g_cfg->secrets_file; -ENOENT when the config names none. */
int secrets_load_cfg(char *err, size_t errlen);

/* Whether a key of that name is loaded. */
bool secrets_have(const char *name);

/* out = HMAC-SHA256(key name, data). Loads g_cfg->secrets_file first if nothing is loaded
 * (logging why when that fails). Returns 0, -ENOKEY (no such key, or no secrets) or -EIO. */
int secrets_hmac(const char *name, const void *data, size_t len, uint8_t out[SECRETS_HMAC_LEN]);

/* A key that is a password (kannel-sendsms-password, database-password, vty-token): its bytes
 * as a string, or NULL (no such key, no secrets file, or a NUL among its bytes). Loads
 * g_cfg->secrets_file first if nothing is loaded. Valid until the next load or clear. */
const char *secrets_password(const char *name);

/* Forget every key, wiping the memory that held them. */
void secrets_clear(void);
