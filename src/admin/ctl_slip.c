/* spazactl slip: print a slip, check a scanned slip's QR code (slip.c, barcode.c). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>
#include "ctl.h"
#include "money.h"
#include "slip.h"

/* A slip reference as staff type it (slip_ref_parse()); a malformed one is a usage error. */
static int ctl_slip_ref(const char *arg, char ref[EASYPAY_REF_BUF])
{
	int rc = slip_ref_parse(arg, strlen(arg), ref);
	if (rc == -EBADMSG)
		fprintf(stderr, "spazactl: \"%s\": the check digit is wrong (a typing mistake?)\n", arg);
	else if (rc < 0)
		fprintf(stderr, "spazactl: \"%s\" is not a slip number (15 digits starting with 9)\n", arg);
	return rc;
}

/* The slip as tills see it, in *res (which its strings point into); -EIO after a message when
 * there is none or the lookup failed. */
static int ctl_slip_lookup(struct ctl *ctl, const char *ref, struct slip *slip, PGresult **res)
{
	struct ledger_stmt st;

	slip_lookup(&st, NULL, ref);
	*res = ctl_query(ctl, st.stmt, st.params);
	if (!*res)
		return -EIO;
	if (slip_read(*res, slip) < 0 || !slip->found) {
		fprintf(stderr, "spazactl: no slip %s\n", ref);
		PQclear(*res);
		return -EIO;
	}
	return 0;
}

/* slip print REF [--format pdf|png|svg] [--out FILE]: the slip tills and customers see, to a
 * file or to stdout (not to a terminal, for the binary formats). */
int ctl_slip_print(struct ctl *ctl, int argc, char **argv)
{
	const char *ref_arg = NULL, *format = "pdf", *out = NULL;
	char ref[EASYPAY_REF_BUF], grouped[EASYPAY_GROUPED_BUF], amount[MONEY_BUF_LEN];
	enum barcode_out fmt;
	struct slip slip;
	PGresult *res;

	for (int i = 0; i < argc; i++) {
		bool missing = false;
		const char *v;
		if ((v = ctl_opt(argc, argv, &i, "--format", &missing)))
			format = v;
		else if ((v = ctl_opt(argc, argv, &i, "--out", &missing)))
			out = v;
		else if (!missing && argv[i][0] != '-' && !ref_arg)	/* NOLINT(clang-analyzer-core.NullDereference): i < argc */
			ref_arg = v = argv[i];
		if (!v) {
			fprintf(stderr, "spazactl: slip print: %s \"%s\"\n", missing ? "no value for" : "unknown option",
				argv[i]);
			return CTL_USAGE;
		}
	}
	if (!ref_arg) {
		fprintf(stderr, "spazactl: slip print needs the slip number\n");
		return CTL_USAGE;
	}
	if (barcode_out_parse(format, &fmt) < 0) {
		fprintf(stderr, "spazactl: --format \"%s\": give pdf, png or svg\n", format);
		return CTL_USAGE;
	}
	if (ctl_slip_ref(ref_arg, ref) < 0)
		return CTL_USAGE;
	if (!out && fmt != BARCODE_OUT_SVG && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "spazactl: a %s is not for a terminal: give --out FILE (or redirect)\n", format);
		return CTL_USAGE;
	}
	if (ctl_secrets("slip-qr") < 0)
		return CTL_ERR;
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	if (ctl_slip_lookup(ctl, ref, &slip, &res) < 0)
		return CTL_ERR;
	if (slip_gone(&slip)) {
		fprintf(stderr, "spazactl: slip %s is %s: no till will take it (paying again on USSD makes a new one)\n",
			ref, slip.status_word);
		PQclear(res);
		return CTL_ERR;
	}
	uint8_t *img;
	size_t len;
	int rc = slip_render(ctl->ctx, &slip, fmt, &img, &len);
	if (rc < 0) {
		fprintf(stderr, "spazactl: slip %s could not be drawn (%s)\n", ref, strerror(-rc));
		PQclear(res);
		return CTL_ERR;
	}
	FILE *fp = out ? fopen(out, "wb") : stdout;
	if (!fp || fwrite(img, 1, len, fp) != len || fflush(fp) != 0 || (out && fclose(fp) != 0)) {
		fprintf(stderr, "spazactl: %s: %s\n", out ? out : "stdout", strerror(errno));
		PQclear(res);
		return CTL_ERR;
	}
	easypay_ref_group(grouped, sizeof(grouped), ref);
	money_format(amount, sizeof(amount), slip.amount_cents);
	fprintf(out ? stdout : stderr, "slip %s (order #%" PRId64 ", %s, pay by %s%s) as %s%s%s, %zu bytes\n",
		grouped, slip.order_id, amount, slip.expires, slip.status == SLIP_PAID ? "; already PAID" : "",
		format, out ? " in " : " on stdout", out ? out : "", len);
	PQclear(res);
	return CTL_OK;
}

/* slip verify PAYLOAD: whether a slip's QR code was made by us (its HMAC under 'slip-qr'), and
 * whether it agrees with the slip in the database. Exit 1 for a forgery, a stale or an
 * unknown slip. */
int ctl_slip_verify(struct ctl *ctl, int argc, char **argv)
{
	struct barcode_qr_info qr;
	char grouped[EASYPAY_GROUPED_BUF], amount[MONEY_BUF_LEN], now[MONEY_BUF_LEN];
	struct slip slip;
	PGresult *res;

	if (ctl_secrets("slip-qr") < 0)
		return CTL_ERR;
	int rc = barcode_qr_verify(argv[0], &qr);
	if (rc == -EINVAL) {
		fprintf(stderr, "spazactl: not a Spaza slip QR code (they read " BARCODE_QR_PREFIX "1:...)\n");
		return CTL_ERR;
	}
	if (rc == -ENOKEY) {
		fprintf(stderr, "spazactl: the QR code names slip-qr version %u, which the secrets file does not have:"
			" do not accept this slip\n", qr.key_version);
		return CTL_ERR;
	}
	if (easypay_ref_group(grouped, sizeof(grouped), qr.ref) < 0 ||
	    money_format(amount, sizeof(amount), qr.amount_cents) < 0)
		return CTL_ERR;
	if (rc == -EBADMSG) {
		printf("FORGED: the QR code says slip %s for %s, pay by %s, but its signature does not match:"
		       " do not accept this slip\n", grouped, amount, qr.expires);
		return CTL_ERR;
	}
	if (rc == -EKEYEXPIRED) {
		printf("RETIRED: the QR code says slip %s for %s, pay by %s, signed with slip-qr version %u, which was"
		       " replaced more than the grace period ago: do not accept this slip; print a new one\n", grouped,
		       amount, qr.expires, qr.key_version);
		return CTL_ERR;
	}
	printf("genuine: slip %s for %s, pay by %s (slip-qr version %u)\n", grouped, amount, qr.expires, qr.key_version);
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	if (ctl_slip_lookup(ctl, qr.ref, &slip, &res) < 0)
		return CTL_ERR;
	money_format(now, sizeof(now), slip.amount_cents);
	printf("in the database: %s, %s, order #%" PRId64 " (%s)\n", slip.status_word, now, slip.order_id,
	       slip.order_status);
	rc = CTL_OK;
	if (slip.amount_cents != qr.amount_cents) {
		printf("the slip's amount is out of date: the order now costs %s\n", now);
		rc = CTL_ERR;
	}
	PQclear(res);
	return rc;
}
