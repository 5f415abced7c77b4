/* EasyPay-style references: built from receiver id and order number with the Luhn digit,
 * parsed back from what a cashier types (grouped or not), typos refused, shown in fours.
 *
 * With --check FILE it compares the C code with the SQL side instead: FILE has lines
 *   luhn DIGITS CHECK            from spaza_luhn_check_digit(DIGITS)
 *   ref RECEIVER ACCOUNT REF     from spaza_easypay_ref(RECEIVER, ACCOUNT)
 * (tests/integration/ledger.sh writes it) and every line must agree. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include "easypay.h"
#include "luhn.h"
#include "testlib.h"

static void check_build(unsigned receiver, uint64_t account, const char *want)
{
	char ref[EASYPAY_REF_BUF] = "";
	char what[96];
	snprintf(what, sizeof(what), "receiver %u, account %" PRIu64 " -> %s", receiver, account, want);
	int rc = easypay_ref_build(ref, sizeof(ref), receiver, account);
	T_CHECK(rc == 0 && !strcmp(ref, want), what, "expected rc 0 and %s, got rc %d and \"%s\"", want, rc, ref);
}

static void check_parse(const char *in, unsigned want_receiver, uint64_t want_account, const char *want_ref)
{
	unsigned receiver = 0;
	uint64_t account = 0;
	char ref[EASYPAY_REF_BUF] = "";
	char what[96];
	snprintf(what, sizeof(what), "parse \"%s\"", in);
	int rc = easypay_ref_parse(in, &receiver, &account, ref, sizeof(ref));
	T_CHECK(rc == 0 && receiver == want_receiver && account == want_account && !strcmp(ref, want_ref), what,
		"expected 0, %u, %" PRIu64 ", %s; got %d, %u, %" PRIu64 ", \"%s\"", want_receiver, want_account,
		want_ref, rc, receiver, account, ref);
}

static void check_bad(const char *in, int want_rc, const char *why)
{
	char what[128];
	snprintf(what, sizeof(what), "parse \"%s\" refused (%s)", in, why);
	T_EQ_INT(easypay_ref_parse(in, NULL, NULL, NULL, 0), want_rc, what);
}

static void check_group(const char *digits, const char *want)
{
	char out[64] = "";
	char what[96];
	snprintf(what, sizeof(what), "group %s -> \"%s\"", digits, want);
	int rc = easypay_ref_group(out, sizeof(out), digits);
	T_CHECK(rc == 0 && !strcmp(out, want), what, "expected rc 0 and \"%s\", got rc %d and \"%s\"", want, rc, out);
}

/* The SQL side's answers, line by line, against ours. */
static int check_file(const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[256], kind[8], a[64], b[64], c[64];
	unsigned luhn_n = 0, luhn_bad = 0, ref_n = 0, ref_bad = 0;

	if (!fp) {
		printf("FAIL: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), fp)) {
		int n = sscanf(line, "%7s %63s %63s %63s", kind, a, b, c);
		if (n == 3 && !strcmp(kind, "luhn")) {
			luhn_n++;
			if (luhn_check_digit(a) != atoi(b)) {
				if (luhn_bad++ < 5)
					printf("# luhn %s: SQL says %s, C says %d\n", a, b, luhn_check_digit(a));
			}
		} else if (n == 4 && !strcmp(kind, "ref")) {
			char ref[EASYPAY_REF_BUF] = "";
			unsigned receiver = 0;
			uint64_t account = 0;
			ref_n++;
			int rc = easypay_ref_build(ref, sizeof(ref), strtoul(a, NULL, 10), strtoull(b, NULL, 10));
			if (rc || strcmp(ref, c) || easypay_ref_parse(c, &receiver, &account, NULL, 0) ||
			    receiver != strtoul(a, NULL, 10) || account != strtoull(b, NULL, 10)) {
				if (ref_bad++ < 5)
					printf("# ref %s %s: SQL says %s, C says %s (rc %d)\n", a, b, c, ref, rc);
			}
		} else {
			printf("FAIL: %s: unreadable line \"%s\"\n", path, line);
			fclose(fp);
			return 1;
		}
	}
	fclose(fp);
	T_CHECK(luhn_n >= 1000 && luhn_bad == 0, "C and SQL Luhn check digits agree",
		"expected 1000 or more lines all agreeing, got %u lines, %u differ", luhn_n, luhn_bad);
	T_CHECK(ref_n >= 1000 && ref_bad == 0, "C and SQL EasyPay references agree",
		"expected 1000 or more lines all agreeing, got %u lines, %u differ", ref_n, ref_bad);
	printf("# compared %u check digits and %u references\n", luhn_n, ref_n);
	return T_DONE();
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--check"))
		return check_file(argv[2]);

	check_build(1234, 1042, "912340000010428");
	check_build(0, 0, "900000000000001");
	check_build(1, 1001, "900010000010017");
	check_build(9999, 999999999, "999999999999994");
	check_build(42, 123456789, "900421234567898");

	char ref[EASYPAY_REF_BUF];
	T_EQ_INT(easypay_ref_build(ref, sizeof(ref), 10000, 1), -EINVAL, "5-digit receiver id refused");
	T_EQ_INT(easypay_ref_build(ref, sizeof(ref), 1, 1000000000), -EINVAL, "10-digit account refused");
	T_EQ_INT(easypay_ref_build(ref, sizeof(ref) - 1, 1, 1), -ENOSPC, "buffer one short refused");

	check_parse("912340000010428", 1234, 1042, "912340000010428");
	check_parse("9123 4000 0010 428", 1234, 1042, "912340000010428");
	check_parse("91234 00000 10428", 1234, 1042, "912340000010428");
	check_bad("912340000010427", -EBADMSG, "wrong check digit");
	check_bad("912340000010248", -EBADMSG, "4 and 2 swapped");
	check_bad("912340000001428", -EBADMSG, "1 and 0 swapped");
	check_bad("91234000001042", -EINVAL, "14 digits");
	check_bad("9123400000104280", -EINVAL, "16 digits");
	check_bad("812340000010428", -EINVAL, "not starting with 9");
	check_bad("", -EINVAL, "empty");
	check_bad(" 912340000010428", -EINVAL, "leading space");
	check_bad("912340000010428 ", -EINVAL, "trailing space");
	check_bad("9123  4000 0010 428", -EINVAL, "two spaces");
	check_bad("9123-4000-0010-428", -EINVAL, "dashes");
	check_bad("91234000001042x", -EINVAL, "a letter");
	T_CHECK(easypay_ref_check("9123 4000 0010 428"), "easypay_ref_check accepts a grouped reference", "refused");
	T_CHECK(!easypay_ref_check("9123 4000 0010 427"), "easypay_ref_check refuses a typo", "accepted");
	char small[EASYPAY_REF_BUF - 1];
	T_EQ_INT(easypay_ref_parse("912340000010428", NULL, NULL, small, sizeof(small)), -EINVAL,
		 "parse into a ref buffer one short refused");

	check_group("912340000010428", "9123 4000 0010 428");
	check_group("1234567890123456", "1234 5678 9012 3456");
	check_group("1234", "1234");
	check_group("12345", "1234 5");
	check_group("1", "1");
	char grouped[EASYPAY_GROUPED_BUF];
	T_EQ_INT(easypay_ref_group(grouped, sizeof(grouped), "912340000010428"), 0,
		 "EASYPAY_GROUPED_BUF holds a grouped reference");
	T_EQ_INT(easypay_ref_group(grouped, sizeof(grouped) - 1, "912340000010428"), -ENOSPC,
		 "a grouped buffer one short refused");
	T_EQ_INT(easypay_ref_group(grouped, sizeof(grouped), ""), -EINVAL, "grouping nothing refused");
	T_EQ_INT(easypay_ref_group(grouped, sizeof(grouped), "12a4"), -EINVAL, "grouping a letter refused");

	/* Every reference built for 10000 orders and 10 receivers parses back to its parts. */
	unsigned bad = 0;
	for (unsigned r = 0; r < 10000; r += 1111)
		for (uint64_t a = 1000; a < 11000; a++) {
			unsigned r2;
			uint64_t a2;
			if (easypay_ref_build(ref, sizeof(ref), r, a) || easypay_ref_parse(ref, &r2, &a2, NULL, 0) ||
			    r2 != r || a2 != a)
				bad++;
		}
	T_EQ_INT(bad, 0, "100000 references parse back to their receiver and order");
	return T_DONE();
}
