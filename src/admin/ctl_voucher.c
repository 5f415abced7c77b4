/* spazactl vouchers: issue PINs into a file, show the vouchers ending in four digits. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <talloc.h>
#include "ctl.h"
#include "money.h"
#include "secrets.h"
#include "voucher_pins.h"

/* Most per run, largest value in cents. */
#define CTL_VOUCHERS_MAX 100000
#define CTL_VOUCHER_VALUE_MAX 10000000

/* YYYY-MM-DD with a month and day in range; the database judges the rest (February 30). */
static bool ctl_voucher_is_date(const char *s)
{
	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : s[i] < '0' || s[i] > '9')
			return false;
	int month = (s[5] - '0') * 10 + s[6] - '0', day = (s[8] - '0') * 10 + s[9] - '0';
	return s[10] == '\0' && month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/* vouchers issue: the PINs go to a new file (mode 0600, never overwritten) and nowhere else;
 * the database gets HMAC(secret 'voucher-pin', PIN) and the last 4 digits. The file is written
 * and synced first: if the database then refuses, the file is removed, so a PIN in a file is
 * always a voucher in the database. */
int ctl_vouchers_issue(struct ctl *ctl, int argc, char **argv)
{
	const char *count_s = NULL, *value_s = NULL, *expires = NULL, *out = NULL;
	int64_t value;
	char value_txt[MONEY_BUF_LEN];
	long count;
	char *end;

	for (int i = 0; i < argc; i++) {
		bool missing = false;
		const char *v;
		if ((v = ctl_opt(argc, argv, &i, "--count", &missing)))
			count_s = v;
		else if ((v = ctl_opt(argc, argv, &i, "--value", &missing)))
			value_s = v;
		else if ((v = ctl_opt(argc, argv, &i, "--expires", &missing)))
			expires = v;
		else if ((v = ctl_opt(argc, argv, &i, "--out", &missing)))
			out = v;
		if (!v) {
			fprintf(stderr, "spazactl: vouchers issue: %s \"%s\"\n", missing ? "no value for" : "unknown option",
				argv[i]);
			return CTL_USAGE;
		}
	}
	if (!count_s || !value_s || !out) {
		fprintf(stderr, "spazactl: vouchers issue needs --count N, --value R and --out FILE\n");
		return CTL_USAGE;
	}
	errno = 0;
	count = strtol(count_s, &end, 10);
	if (*count_s < '0' || *count_s > '9' || *end || errno || count < 1 || count > CTL_VOUCHERS_MAX) {
		fprintf(stderr, "spazactl: --count \"%s\": give a number from 1 to %d\n", count_s, CTL_VOUCHERS_MAX);
		return CTL_USAGE;
	}
	if (money_parse(value_s, &value) < 0 || value <= 0 || value > CTL_VOUCHER_VALUE_MAX) {
		fprintf(stderr, "spazactl: --value \"%s\": give an amount in rand like 50 or 49.99, at most %d\n",
			value_s, CTL_VOUCHER_VALUE_MAX / 100);
		return CTL_USAGE;
	}
	if (expires && !ctl_voucher_is_date(expires)) {
		fprintf(stderr, "spazactl: --expires \"%s\": give a date like 2029-12-31\n", expires);
		return CTL_USAGE;
	}
	if (access(out, F_OK) == 0) {
		fprintf(stderr, "spazactl: %s exists: PIN files are written once, name a new one\n", out);
		return CTL_ERR;
	}
	if (ctl_secrets("voucher-pin") < 0)
		return CTL_ERR;
	if (ctl_db(ctl) < 0)
		return CTL_ERR;

	const char *exp_params[] = { expires };
	PGresult *res = ctl_query(ctl, DB_VOUCHER_EXPIRY, exp_params);
	if (!res)
		return CTL_ERR;
	char expires_txt[16];
	snprintf(expires_txt, sizeof(expires_txt), "%s", PQgetvalue(res, 0, 0));
	bool future = !strcmp(PQgetvalue(res, 0, 1), "t");
	PQclear(res);
	if (!future) {
		fprintf(stderr, "spazactl: --expires %s is in the past\n", expires);
		return CTL_USAGE;
	}

	int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "spazactl: %s: %s\n", out, strerror(errno));
		return CTL_ERR;
	}
	FILE *fp = fdopen(fd, "w");
	if (!fp) {
		fprintf(stderr, "spazactl: %s: %s\n", out, strerror(errno));
		close(fd);
		unlink(out);
		return CTL_ERR;
	}

	size_t hmacs_len = voucher_pins_hmacs_len(count), last4s_len = voucher_pins_last4s_len(count);
	char *hmacs = talloc_size(ctl->ctx, hmacs_len), *last4s = talloc_size(ctl->ctx, last4s_len);
	int rc = CTL_OK;
	money_format(value_txt, sizeof(value_txt), value);
	/* one version for the whole batch, and the database records which */
	unsigned key_v = secrets_newest("voucher-pin");
	char key_v_txt[16];
	snprintf(key_v_txt, sizeof(key_v_txt), "%u", key_v);
	if (voucher_pins_make(fp, count, value_txt, expires_txt, key_v, hmacs, last4s) < 0)
		rc = CTL_ERR;
	if (rc == CTL_OK && (fflush(fp) != 0 || fsync(fileno(fp)) != 0)) {
		fprintf(stderr, "spazactl: %s: %s\n", out, strerror(errno));
		rc = CTL_ERR;
	}
	if (fclose(fp) != 0 && rc == CTL_OK) {
		fprintf(stderr, "spazactl: %s: %s\n", out, strerror(errno));
		rc = CTL_ERR;
	}

	if (rc == CTL_OK) {
		char value_c[24];
		snprintf(value_c, sizeof(value_c), "%" PRId64, value);
		const char *params[] = { hmacs, last4s, value_c, expires, key_v_txt };
		res = ctl_query(ctl, DB_VOUCHER_ISSUE, params);
		if (!res)
			rc = CTL_ERR;
		else {
			printf("issued %s vouchers of %s (ids %s-%s), valid until %s\n", PQgetvalue(res, 0, 0), value_txt,
			       PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), expires_txt);
			printf("the PINs are in %s (mode 0600) and nowhere else: hand the file over, then delete it\n", out);
			PQclear(res);
		}
	}
	if (rc != CTL_OK) {
		unlink(out);
		fprintf(stderr, "spazactl: no vouchers issued; %s removed\n", out);
	}
	talloc_free(hmacs);
	talloc_free(last4s);
	return rc;
}

int ctl_vouchers_show(struct ctl *ctl, int argc, char **argv)
{
	char value[MONEY_BUF_LEN], remaining[MONEY_BUF_LEN], amount[MONEY_BUF_LEN];
	const char *last4 = argv[0];
	PGresult *res;

	if (strlen(last4) != 4 || strspn(last4, "0123456789") != 4) {
		fprintf(stderr, "spazactl: \"%s\" is not the last 4 digits of a PIN\n", last4);
		return CTL_USAGE;
	}
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	const char *params[] = { last4 };
	res = ctl_query_row(ctl, DB_VOUCHER_HISTORY, params, "no voucher ending in %s", last4);
	if (!res)
		return CTL_ERR;
	const char *shown = NULL;
	for (int i = 0; i < PQntuples(res); i++) {
		if (!shown || strcmp(shown, PQgetvalue(res, i, 0))) {
			shown = PQgetvalue(res, i, 0);
			printf("%svoucher %s  ...%s  value %s  remaining %s  %s\n  issued %s  expires %s\n", i ? "\n" : "",
			       shown, last4, ctl_money(value, sizeof(value), PQgetvalue(res, i, 1)),
			       ctl_money(remaining, sizeof(remaining), PQgetvalue(res, i, 2)), PQgetvalue(res, i, 3),
			       PQgetvalue(res, i, 4), PQgetvalue(res, i, 5));
		}
		if (PQgetisnull(res, i, 7))
			continue;
		printf("  %s  %-16s %10s", PQgetvalue(res, i, 6), PQgetvalue(res, i, 7),
		       ctl_money(amount, sizeof(amount), PQgetvalue(res, i, 8)));
		if (!PQgetisnull(res, i, 9))
			printf("  order #%s  %s", PQgetvalue(res, i, 9), PQgetvalue(res, i, 10));
		printf("\n");
	}
	PQclear(res);
	return CTL_OK;
}
