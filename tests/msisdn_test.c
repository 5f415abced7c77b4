/* msisdn_normalize(): every form a front end may hand over becomes one E.164 key, and
 * anything that is not a phone number is refused rather than guessed at. */
#include <errno.h>
#include "msisdn.h"
#include "testlib.h"

static void check_ok(const char *in, const char *cc, const char *want)
{
	char out[MSISDN_BUF_LEN] = "";
	char what[128];
	snprintf(what, sizeof(what), "\"%s\" (cc %s) -> %s", in, cc, want);
	int rc = msisdn_normalize(in, cc, out, sizeof(out));
	T_CHECK(rc == 0 && !strcmp(out, want), what, "expected rc 0 and \"%s\", got rc %d and \"%s\"", want, rc, out);
}

static void check_rc(const char *in, const char *cc, int want, const char *why)
{
	char out[MSISDN_BUF_LEN];
	char what[128];
	snprintf(what, sizeof(what), "\"%s\" (cc %s) refused: %s", in, cc, why);
	T_EQ_INT(msisdn_normalize(in, cc, out, sizeof(out)), want, what);
}

int main(void)
{
	/* The four forms of the same South African number. */
	check_ok("0821234567", "27", "+27821234567");
	check_ok("27821234567", "27", "+27821234567");
	check_ok("+27821234567", "27", "+27821234567");
	check_ok("0027821234567", "27", "+27821234567");
	/* Foreign numbers keep their own country code; other configured codes work too. */
	check_ok("+4915112345678", "27", "+4915112345678");
	check_ok("00447911123456", "27", "+447911123456");
	check_ok("0712345678", "254", "+254712345678");
	check_ok("17035550123", "1", "+17035550123");
	/* Bounds: 7 national digits is the shortest, 15 E.164 digits the longest. */
	check_ok("01234567", "27", "+271234567");
	check_ok("+123456789012345", "27", "+123456789012345");
	check_ok("0123456789012", "27", "+27123456789012");

	check_rc("", "27", -EINVAL, "empty");
	check_rc("+", "27", -EINVAL, "only a plus");
	check_rc("0", "27", -EINVAL, "only the trunk prefix");
	check_rc("00", "27", -EINVAL, "only the dialling prefix");
	check_rc(" 0821234567", "27", -EINVAL, "leading space");
	check_rc("082 123 4567", "27", -EINVAL, "spaces inside");
	check_rc("082-123-4567", "27", -EINVAL, "dashes");
	check_rc("0821234567\t", "27", -EINVAL, "trailing tab");
	check_rc("++27821234567", "27", -EINVAL, "two pluses");
	check_rc("+0821234567", "27", -EINVAL, "country code starting with 0");
	check_rc("000821234567", "27", -EINVAL, "000 prefix");
	check_rc("082123456x", "27", -EINVAL, "letter");
	check_rc("0123456", "27", -EINVAL, "6 national digits");
	check_rc("27123456", "27", -EINVAL, "6 national digits after our country code");
	check_rc("+2712345", "27", -EINVAL, "short E.164 with our country code");
	check_rc("+1234567", "27", -EINVAL, "7 digits in all for a foreign number");
	check_rc("+1234567890123456", "27", -EINVAL, "16 digits");
	check_rc("012345678901234", "27", -EINVAL, "national number making 16 digits");
	check_rc("0821234567", "", -EINVAL, "empty country code");
	check_rc("0821234567", "2a", -EINVAL, "country code not digits");
	check_rc("0821234567", "1234", -EINVAL, "country code of 4 digits");
	check_rc("0821234567", "027", -EINVAL, "country code starting with 0");

	char small[12];
	T_EQ_INT(msisdn_normalize("0821234567", "27", small, sizeof(small)), -ENOSPC, "national: buffer one short");
	T_EQ_INT(msisdn_normalize("27821234567", "27", small, sizeof(small)), -ENOSPC, "international: buffer one short");
	char exact[13];
	T_EQ_INT(msisdn_normalize("0821234567", "27", exact, sizeof(exact)), 0, "buffer of exactly the right size");
	T_EQ_STR(exact, "+27821234567", "buffer of exactly the right size holds the number");
	return T_DONE();
}
