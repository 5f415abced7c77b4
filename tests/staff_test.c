/* staff.c: the role table lets each role exactly its pages; logins and tokens are checked as
 * the table and the cookie need; a password verifies against its scrypt hash (and a hash made
 * by another scrypt, Python's hashlib, for the same salt), never against a wrong password or a
 * hash that was tampered with or asks for absurd work. */
#include <string.h>
#include "staff.h"
#include "testlib.h"

/* scrypt("correct horse battery", salt 00 01 .. 0f, N=16384, r=8, p=1), by hashlib.scrypt */
static const char known[] = "scrypt$16384$8$1$000102030405060708090a0b0c0d0e0f$"
			    "e96ec6ba8c63a23698220f37c7fc042925d430c7feadec9ceb04af03cabb9f2f";

int main(void)
{
	char h1[STAFF_HASH_BUF], h2[STAFF_HASH_BUF], pw[17], tok[STAFF_TOKEN_HEX], sha[STAFF_TOKEN_SHA_BUF];

	/* roles */
	for (int p = 0; p < STAFF_PAGE_N; p++)
		T_CHECK(staff_may(STAFF_ROLE_OWNER, p), "the owner may use every page", "not %s", staff_page_paths[p]);
	for (int p = 0; p < STAFF_PAGE_N; p++)
		T_CHECK(staff_may(STAFF_ROLE_RETAILER, p) == (p == STAFF_PAGE_TILL), "a retailer user has the till alone",
			"%s", staff_page_paths[p]);
	T_CHECK(staff_may(STAFF_ROLE_CARE, STAFF_PAGE_CUSTOMER) && !staff_may(STAFF_ROLE_CARE, STAFF_PAGE_MONEY),
		"care sees customers, not the money", "wrong");
	T_CHECK(staff_may(STAFF_ROLE_FULFILMENT, STAFF_PAGE_ORDERS) && !staff_may(STAFF_ROLE_FULFILMENT, STAFF_PAGE_CUSTOMER),
		"fulfilment sees orders, not customers", "wrong");
	T_CHECK(staff_may(STAFF_ROLE_FINANCE, STAFF_PAGE_MONEY) && !staff_may(STAFF_ROLE_FINANCE, STAFF_PAGE_TILL),
		"finance sees the money, takes no cash", "wrong");
	T_CHECK(staff_may(STAFF_ROLE_FINANCE, STAFF_PAGE_ORDERS),
		"finance sees the orders board (a courier's cash on delivery handed in)", "wrong");
	T_EQ_INT(staff_role_index("fulfilment"), STAFF_ROLE_FULFILMENT, "a stored role word is its role");
	T_EQ_INT(staff_role_index("root"), -1, "an unknown role word is none");
	T_EQ_INT(staff_page_index("till"), STAFF_PAGE_TILL, "a page path is its page");
	T_EQ_INT(staff_page_index("../till"), -1, "anything else is no page");

	/* logins, as sql/014_staff.sql's CHECK */
	T_CHECK(staff_login_valid("thandi.m") && staff_login_valid("a1"), "plain logins are valid", "refused");
	T_CHECK(!staff_login_valid("a") && !staff_login_valid("Thandi") && !staff_login_valid("-x") &&
		!staff_login_valid("a b") && !staff_login_valid("abcdefghijklmnopqrstuvwxyz0123456"),
		"too short, upper case, a leading dash, a blank or 33 characters are not", "accepted");

	/* passwords */
	T_CHECK(staff_pw_verify("correct horse battery", known), "a hash made by another scrypt verifies", "refused");
	T_CHECK(!staff_pw_verify("correct horse batterY", known), "a wrong password does not", "accepted");
	T_EQ_INT(staff_pw_hash("correct horse battery", h1), 0, "a password hashes");
	T_EQ_INT(staff_pw_hash("correct horse battery", h2), 0, "... twice");
	T_CHECK(strcmp(h1, h2) != 0, "each hash has its own salt", "the same hash twice");
	T_CHECK(!strncmp(h1, "scrypt$16384$8$1$", 17) && strlen(h1) == 17 + 32 + 1 + 64, "the stored form",
		"%s", h1);
	T_CHECK(staff_pw_verify("correct horse battery", h1), "the password verifies against its hash", "refused");
	char bad[STAFF_HASH_BUF];
	strcpy(bad, h1);
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
	T_CHECK(!staff_pw_verify("correct horse battery", bad), "a tampered hash verifies nothing", "accepted");
	T_CHECK(!staff_pw_verify("x", "scrypt$1073741824$8$1$000102030405060708090a0b0c0d0e0f$"
				     "e96ec6ba8c63a23698220f37c7fc042925d430c7feadec9ceb04af03cabb9f2f"),
		"a hash asking for a gigabyte of work is refused without doing it", "accepted");
	T_CHECK(!staff_pw_verify("", "") && !staff_pw_verify("x", "bcrypt$whatever"), "malformed hashes verify nothing",
		"accepted");
	T_EQ_INT(staff_pw_random(pw), 0, "a random password");
	T_CHECK(strlen(pw) == 16 && strspn(pw, "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY346789") == 16,
		"16 characters without look-alikes", "%s", pw);

	/* session tokens */
	T_EQ_INT(staff_token_new(tok), 0, "a token");
	T_CHECK(staff_token_valid(tok), "64 hex digits", "%s", tok);
	T_CHECK(!staff_token_valid("0123") && !staff_token_valid(NULL) &&
		!staff_token_valid("0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"),
		"short, missing or upper-case tokens are not", "accepted");
	staff_token_sha("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", sha);
	T_EQ_STR(sha, "\\xa8ae6e6ee929abea3afcfc5258c8ccd6f85273e0d4626d26c7279f3250f77c8e",
		 "the database keeps the token's SHA-256 as a bytea literal");
	return T_DONE();
}
