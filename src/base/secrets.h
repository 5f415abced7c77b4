#pragma once
/* The HMAC keys in the secrets file named by the config (`secrets-file PATH` in the spaza
 * node). The file is outside git, mode 0600 (a file that group or others may read or write is
 * refused), one key per line:
 *
 *   # comment
 *   voucher-pin = 6c0f...   (hex, at least 16 bytes)
 *   retailer-master = 91ab...
 *   voucher-pin@2 = 3e5d... since 2026-12-07T03:41:09Z
 *
 * A key has versions: a line without @N is version 1; `spazactl keys rotate NAME` appends
 * the next one with the time it was made. New HMACs use the newest version; an older one
 * still verifies until `keys grace-period` (config) after the version that replaced it was
 * made, and is refused (logged at notice) after that. What is verified later names the
 * version it was made with: a voucher's key_version, a slip QR code's prefix (SPAZA<N>), a
 * retailer key id (rk<N>_..., rk_... is version 1).
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
#define SECRETS_MAX 32		/* keys in one file, every version counted */
#define SECRETS_VERSION_MAX 9999
#define SECRETS_MACS_MAX 8	/* versions of one key tried at once (secrets_hmac_all()) */
#define SECRETS_ROTATE_BYTES 32	/* a key `keys rotate` makes */
#include <time.h>

struct secrets_version {
	unsigned version;
	time_t since;		/* made (0: not known, a version 1 from before versions) */
	time_t superseded;	/* when the next version was made; 0 while it is the newest */
	time_t retires;		/* superseded + the grace period: refused from then on; 0: never */
};

/* HMACs of one text under every loaded version of a key (oldest first), for a stored HMAC
 * made under any of them: the database picks the one it has. */
struct secrets_macs {
	unsigned n;
	unsigned oldest_usable;	/* older versions are past their grace period */
	unsigned version[SECRETS_MACS_MAX];
	uint8_t mac[SECRETS_MACS_MAX][SECRETS_HMAC_LEN];
};

/* Read a secrets file, replacing what was loaded before. On error nothing is loaded and err
 * says why ("PATH:LINE: reason", never the key). Returns 0, -errno (cannot open), -EPERM
 * (group/world access) or -EINVAL (malformed). */
int secrets_load(const char *path, char *err, size_t errlen);

/* secrets_load() on g_cfg->secrets_file; -ENOENT when the config names none. */
int secrets_load_cfg(char *err, size_t errlen);

/* The names of the keys loaded (each once, in file order), at most max; how many. */
unsigned secrets_names(const char **out, unsigned max);

/* Whether a key of that name is loaded. */
bool secrets_have(const char *name);

/* out = HMAC-SHA256(the newest version of key name, data). Loads g_cfg->secrets_file first
 * if nothing is loaded or the file changed since (logging why when that fails). Returns 0,
 * -ENOKEY (no such key, or no secrets) or -EIO. */
int secrets_hmac(const char *name, const void *data, size_t len, uint8_t out[SECRETS_HMAC_LEN]);
/* The same under version v (0: the newest), whether or not it is past its grace period. */
int secrets_hmac_v(const char *name, unsigned v, const void *data, size_t len, uint8_t out[SECRETS_HMAC_LEN]);
/* Under every loaded version: 0, -ENOKEY or -EIO. */
int secrets_hmac_all(const char *name, const void *data, size_t len, struct secrets_macs *m);
/* The newest version of a key, 0 when there is none. */
unsigned secrets_newest(const char *name);
/* A key's versions, oldest first, at most max; how many there are. */
unsigned secrets_versions(const char *name, struct secrets_version *out, unsigned max);
/* Whether version v of name verifies at now: 0, -EKEYEXPIRED (past its grace period: logged
 * at notice) or -ENOKEY (no such version). */
int secrets_usable(const char *name, unsigned v, time_t now);
/* The master key version a derived key id names: N for "<prefix><N>_...", else 1 (ids made
 * before versions, "<prefix>_..."). */
unsigned secrets_id_version(const char *id, const char *prefix);

/* Append a new random version of name to the config's secrets file (made anew, mode 0600,
 * renamed over the old one) and load it; *version is its number. 0 or -errno, err saying why
 * (never the key). */
int secrets_rotate(const char *name, unsigned *version, char *err, size_t errlen);

/* A key that is a password (kannel-sendsms-password, database-password, vty-token): its bytes
 * as a string, or NULL (no such key, no secrets file, or a NUL among its bytes). Loads
 * g_cfg->secrets_file first if nothing is loaded. Valid until the next load or clear. */
const char *secrets_password(const char *name);

/* Forget every key, wiping the memory that held them. */
void secrets_clear(void);
