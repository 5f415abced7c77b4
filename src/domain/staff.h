#pragma once
/* Staff accounts of the back office (sql/014_staff.sql): their roles and what each may use
 * (staff_roles.def), their passwords and their session tokens. spazactl makes and changes
 * accounts with this room, spazad's back office (office/) logs them in with it. */
#include <stdbool.h>
#include <stdint.h>

enum staff_page {
#define STAFF_PAGE(id, path, label) STAFF_PAGE_##id,
#include "staff_roles.def"
#undef STAFF_PAGE
	STAFF_PAGE_N
};
#define STAFF_PAGE(id, path, label) STAFF_P_##id = 1u << STAFF_PAGE_##id,
enum staff_page_bit {
#include "staff_roles.def"
	STAFF_P_ALL = (1u << STAFF_PAGE_N) - 1,
};
#undef STAFF_PAGE

enum staff_role {
#define STAFF_ROLE(id, word, pages) STAFF_ROLE_##id,
#include "staff_roles.def"
#undef STAFF_ROLE
	STAFF_ROLE_N
};

extern const char *const staff_role_names[STAFF_ROLE_N];
extern const char *const staff_page_paths[STAFF_PAGE_N];
extern const char *const staff_page_labels[STAFF_PAGE_N];

/* enum staff_role of a stored word, -1 if none. */
int staff_role_index(const char *word);
/* enum staff_page of a path word ("orders"), -1 if none. */
int staff_page_index(const char *path);
bool staff_may(enum staff_role role, enum staff_page page);
/* A login as the table allows it: 2-32 of a-z 0-9 . _ - starting with a letter or digit. */
bool staff_login_valid(const char *login);

/* Passwords: at least this long, and at most (a bound on the work one login costs). */
#define STAFF_PW_MIN 10
#define STAFF_PW_MAX 256
/* "scrypt$N$r$p$<salt hex>$<hash hex>" */
#define STAFF_HASH_BUF 160

/* The stored form of a password: scrypt (OpenSSL) with a fresh salt. 0 or -errno. */
int staff_pw_hash(const char *pw, char out[STAFF_HASH_BUF]);
/* Whether pw is the password stored as hash (constant time in what matters: the compare). A
 * malformed hash never matches. */
bool staff_pw_verify(const char *pw, const char *hash);
/* A random password people can type: 16 characters of an alphabet without look-alikes. */
int staff_pw_random(char out[17]);

/* A session: the cookie's token (64 hex digits, 256 random bits), and what the database keeps of
 * it, the SHA-256 as the bytea literal "\x..." (67 bytes). */
#define STAFF_TOKEN_HEX 65
#define STAFF_TOKEN_SHA_BUF 67
int staff_token_new(char out[STAFF_TOKEN_HEX]);
bool staff_token_valid(const char *tok);
void staff_token_sha(const char *tok, char out[STAFF_TOKEN_SHA_BUF]);
