/* luhn_check_digit()/luhn_valid(): the published examples come out right, garbage is refused,
 * and the scheme catches every single-digit typo and every adjacent swap but 09 <-> 90, which
 * is what cashiers typing a reference and customers typing a PIN get wrong. */
#include <errno.h>
#include <stdlib.h>
#include "luhn.h"
#include "testlib.h"

static void check_digit(const char *payload, int want)
{
	char what[96];
	snprintf(what, sizeof(what), "check digit of %s is %d", payload, want);
	T_EQ_INT(luhn_check_digit(payload), want, what);
}

static void check_valid(const char *digits, bool want)
{
	char what[96];
	snprintf(what, sizeof(what), "%s is %s", digits, want ? "valid" : "invalid");
	T_CHECK(luhn_valid(digits) == want, what, "expected %s", want ? "valid" : "invalid");
}

/* A deterministic stream of digits (no randomness in tests). */
static unsigned luhn_test_seed = 12345;
static char next_digit(void)
{
	luhn_test_seed = luhn_test_seed * 1103515245 + 12345;
	return '0' + (luhn_test_seed >> 16) % 10;
}

int main(void)
{
	check_digit("7992739871", 3);		/* the textbook example */
	check_digit("411111111111111", 1);	/* the Visa test card */
	check_digit("91234000001042", 8);	/* easypay.h's example reference */
	check_digit("0", 0);
	check_digit("1", 8);
	check_digit("5", 9);			/* 5 doubles to 10 -> 1 */
	check_digit("9", 1);			/* 9 doubles to 18 -> 9 */
	check_digit("000000000000000", 0);
	T_EQ_INT(luhn_check_digit(""), -EINVAL, "no digits refused");
	T_EQ_INT(luhn_check_digit("12a4"), -EINVAL, "a letter refused");
	T_EQ_INT(luhn_check_digit("12 4"), -EINVAL, "a space refused");
	T_EQ_INT(luhn_check_digit("-124"), -EINVAL, "a sign refused");

	check_valid("79927398713", true);
	check_valid("4111111111111111", true);
	check_valid("4111111111111112", false);
	check_valid("79927398710", false);
	check_valid("00", true);
	check_valid("0", false);		/* a check digit alone proves nothing */
	check_valid("", false);
	check_valid("7992739871x", false);
	check_valid("x9927398713", false);
	check_valid("799273 98713", false);

	/* 1000 random 16-digit PINs: every single-digit change and every adjacent swap
	 * (except 0<->9) turns a valid PIN invalid. */
	unsigned pins = 0, missed_typo = 0, missed_swap = 0, swaps = 0;
	for (int n = 0; n < 1000; n++) {
		char pin[17];
		for (int i = 0; i < 15; i++)
			pin[i] = next_digit();
		pin[15] = '\0';
		pin[15] = '0' + luhn_check_digit(pin);
		pin[16] = '\0';
		if (luhn_valid(pin))
			pins++;
		for (int i = 0; i < 16; i++) {
			char keep = pin[i];
			for (char d = '0'; d <= '9'; d++) {
				if (d == keep)
					continue;
				pin[i] = d;
				missed_typo += luhn_valid(pin);
			}
			pin[i] = keep;
		}
		for (int i = 0; i < 15; i++) {
			char a = pin[i], b = pin[i + 1];
			if (a == b || (a == '0' && b == '9') || (a == '9' && b == '0'))
				continue;
			pin[i] = b;
			pin[i + 1] = a;
			swaps++;
			missed_swap += luhn_valid(pin);
			pin[i] = a;
			pin[i + 1] = b;
		}
	}
	T_EQ_INT(pins, 1000, "1000 generated PINs with their check digit are valid");
	T_EQ_INT(missed_typo, 0, "every single-digit typo in 1000 PINs is caught");
	T_CHECK(swaps > 10000 && missed_swap == 0, "every adjacent swap (but 09/90) in 1000 PINs is caught",
		"expected over 10000 swaps all caught, got %u swaps, %u missed", swaps, missed_swap);
	return T_DONE();
}
