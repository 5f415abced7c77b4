/* Staff accounts: roles, password hashes, session tokens (staff.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include "staff.h"

const char *const staff_role_names[STAFF_ROLE_N] = {
#define STAFF_ROLE(id, word, pages) [STAFF_ROLE_##id] = word,
#include "staff_roles.def"
#undef STAFF_ROLE
};

static const unsigned staff_role_pages[STAFF_ROLE_N] = {
#define STAFF_ROLE(id, word, pages) [STAFF_ROLE_##id] = pages,
#include "staff_roles.def"
#undef STAFF_ROLE
};

const char *const staff_page_paths[STAFF_PAGE_N] = {
#define STAFF_PAGE(id, path, label) [STAFF_PAGE_##id] = path,
#include "staff_roles.def"
#undef STAFF_PAGE
};

const char *const staff_page_labels[STAFF_PAGE_N] = {
#define STAFF_PAGE(id, path, label) [STAFF_PAGE_##id] = label,
#include "staff_roles.def"
#undef STAFF_PAGE
};

/* scrypt's cost: 16 MiB and about 50 ms a login on a small server. It is paid in spazad's
 * loop, so not more; the per-account and per-IP throttles bound how often. */
#define STAFF_SCRYPT_N 16384
#define STAFF_SCRYPT_R 8
#define STAFF_SCRYPT_P 1
#define STAFF_SALT_LEN 16
#define STAFF_KEY_LEN 32

int staff_role_index(const char *word)
{
	for (int i = 0; i < STAFF_ROLE_N; i++)
		if (!strcmp(word, staff_role_names[i]))
			return i;
	return -1;
}

int staff_page_index(const char *path)
{
	for (int i = 0; i < STAFF_PAGE_N; i++)
		if (!strcmp(path, staff_page_paths[i]))
			return i;
	return -1;
}

bool staff_may(enum staff_role role, enum staff_page page)
{
	return role < STAFF_ROLE_N && page < STAFF_PAGE_N && (staff_role_pages[role] & (1u << page));
}

bool staff_login_valid(const char *login)
{
	size_t n = strlen(login);
	if (n < 2 || n > 32 || !strchr("abcdefghijklmnopqrstuvwxyz0123456789", login[0]))
		return false;
	return strspn(login, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static void staff_hex(char *out, const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static int staff_unhex(unsigned char *out, size_t n, const char *hex)
{
	if (strlen(hex) != 2 * n || strspn(hex, "0123456789abcdef") != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (unsigned char)v;
	}
	return 0;
}

static int staff_scrypt(const char *pw, const unsigned char *salt, uint64_t N, uint64_t r, uint64_t p,
			unsigned char key[STAFF_KEY_LEN])
{
	size_t len = strlen(pw);
	if (len > STAFF_PW_MAX)
		return -EINVAL;
	/* maxmem: what N and r need (128 * N * r bytes) and some room */
	if (EVP_PBE_scrypt(pw, len, salt, STAFF_SALT_LEN, N, r, p, 64ull << 20, key, STAFF_KEY_LEN) != 1)
		return -EIO;
	return 0;
}

int staff_pw_hash(const char *pw, char out[STAFF_HASH_BUF])
{
	unsigned char salt[STAFF_SALT_LEN], key[STAFF_KEY_LEN];
	char salt_hex[2 * STAFF_SALT_LEN + 1], key_hex[2 * STAFF_KEY_LEN + 1];
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return -EIO;
	int rc = staff_scrypt(pw, salt, STAFF_SCRYPT_N, STAFF_SCRYPT_R, STAFF_SCRYPT_P, key);
	if (rc < 0)
		return rc;
	staff_hex(salt_hex, salt, sizeof(salt));
	staff_hex(key_hex, key, sizeof(key));
	OPENSSL_cleanse(key, sizeof(key));
	snprintf(out, STAFF_HASH_BUF, "scrypt$%d$%d$%d$%s$%s", STAFF_SCRYPT_N, STAFF_SCRYPT_R, STAFF_SCRYPT_P,
		 salt_hex, key_hex);
	return 0;
}

bool staff_pw_verify(const char *pw, const char *hash)
{
	unsigned long long N, r, p;
	char salt_hex[2 * STAFF_SALT_LEN + 1], key_hex[2 * STAFF_KEY_LEN + 1];
	unsigned char salt[STAFF_SALT_LEN], want[STAFF_KEY_LEN], got[STAFF_KEY_LEN];
	if (sscanf(hash, "scrypt$%llu$%llu$%llu$%32[0-9a-f]$%64[0-9a-f]", &N, &r, &p, salt_hex, key_hex) != 5)
		return false;
	/* the stored cost is ours, but bound it: a hash edited by hand must not take the loop away */
	if (N < 1024 || N > (1u << 20) || r < 1 || r > 32 || p < 1 || p > 4)
		return false;
	if (staff_unhex(salt, sizeof(salt), salt_hex) < 0 || staff_unhex(want, sizeof(want), key_hex) < 0)
		return false;
	if (staff_scrypt(pw, salt, N, r, p, got) < 0)
		return false;
	bool ok = CRYPTO_memcmp(got, want, sizeof(got)) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	return ok;
}

int staff_pw_random(char out[17])
{
	static const char alphabet[] = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY346789";	/* 50 */
	unsigned char b[16];
	if (RAND_bytes(b, sizeof(b)) != 1)
		return -EIO;
	/* 250 = 5 * 50: reject the top bytes so every character is equally likely */
	for (size_t i = 0; i < 16; i++) {
		while (b[i] >= 250)
			if (RAND_bytes(&b[i], 1) != 1)
				return -EIO;
		out[i] = alphabet[b[i] % 50];
	}
	out[16] = '\0';
	OPENSSL_cleanse(b, sizeof(b));
	return 0;
}

int staff_token_new(char out[STAFF_TOKEN_HEX])
{
	unsigned char b[32];
	if (RAND_bytes(b, sizeof(b)) != 1)
		return -EIO;
	staff_hex(out, b, sizeof(b));
	OPENSSL_cleanse(b, sizeof(b));
	return 0;
}

bool staff_token_valid(const char *tok)
{
	return tok && strlen(tok) == 64 && strspn(tok, "0123456789abcdef") == 64;
}

void staff_token_sha(const char *tok, char out[STAFF_TOKEN_SHA_BUF])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)tok, strlen(tok), d);
	out[0] = '\\';
	out[1] = 'x';
	staff_hex(out + 2, d, sizeof(d));
}
