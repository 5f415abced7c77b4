/* money_format()/money_parse(): amounts look the way the benchmark screens show them, and
 * a catalogue price that is not exactly an amount of cents is refused. */
#include <errno.h>
#include <stdint.h>
#include "money.h"
#include "testlib.h"

static void check_fmt(int64_t cents, const char *want)
{
	char buf[MONEY_BUF_LEN] = "";
	char what[96];
	snprintf(what, sizeof(what), "format %lld -> %s", (long long)cents, want);
	int rc = money_format(buf, sizeof(buf), cents);
	T_CHECK(rc == 0 && !strcmp(buf, want), what, "expected rc 0 and \"%s\", got rc %d and \"%s\"", want, rc, buf);
}

static void check_parse(const char *s, int64_t want)
{
	int64_t got = -1;
	char what[96];
	snprintf(what, sizeof(what), "parse \"%s\" -> %lld cents", s, (long long)want);
	int rc = money_parse(s, &got);
	T_CHECK(rc == 0 && got == want, what, "expected rc 0 and %lld, got rc %d and %lld",
		(long long)want, rc, (long long)got);
}

static void check_bad(const char *s, int want_rc)
{
	int64_t got = 12345;
	char what[96];
	snprintf(what, sizeof(what), "parse \"%s\" refused with %d, output untouched", s, want_rc);
	int rc = money_parse(s, &got);
	T_CHECK(rc == want_rc && got == 12345, what, "expected rc %d, got rc %d and %lld", want_rc, rc, (long long)got);
}

int main(void)
{
	check_fmt(1799, "R17.99");
	check_fmt(100, "R1.00");
	check_fmt(179980, "R1799.80");
	check_fmt(5, "R0.05");
	check_fmt(0, "R0.00");
	check_fmt(-350, "-R3.50");
	check_fmt(-5, "-R0.05");
	check_fmt(INT64_MAX, "R92233720368547758.07");
	check_fmt(INT64_MIN, "-R92233720368547758.08");

	char buf[7];
	T_EQ_INT(money_format(buf, sizeof(buf), 1799), 0, "format into a buffer of exactly the right size");
	T_EQ_INT(money_format(buf, sizeof(buf), 17999), -ENOSPC, "format into a buffer one short");

	check_parse("17.99", 1799);
	check_parse("17.9", 1790);
	check_parse("17", 1700);
	check_parse("0.05", 5);
	check_parse("0", 0);
	check_parse("017.50", 1750);
	check_parse("92233720368547758.07", INT64_MAX);

	check_bad("", -EINVAL);
	check_bad("abc", -EINVAL);
	check_bad("17.999", -EINVAL);
	check_bad("17.", -EINVAL);
	check_bad(".5", -EINVAL);
	check_bad("-1", -EINVAL);
	check_bad("+1", -EINVAL);
	check_bad("1e3", -EINVAL);
	check_bad("R17.99", -EINVAL);
	check_bad(" 17", -EINVAL);
	check_bad("17 ", -EINVAL);
	check_bad("1,000", -EINVAL);
	check_bad("17.9x", -EINVAL);
	check_bad("1.2.3", -EINVAL);
	check_bad("92233720368547758.08", -ERANGE);
	check_bad("92233720368547759", -ERANGE);
	check_bad("99999999999999999999999", -ERANGE);
	return T_DONE();
}
