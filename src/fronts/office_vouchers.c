/* A voucher batch from the Money page (office.h): the same batch as `spazactl vouchers issue`
 * (voucher_pins.c), issued through a door that checks the session again in the database. The
 * PINs exist in one place only: the CSV of this one answer, downloaded by the member of staff
 * who asked. spazad keeps no copy (the buffer is wiped once sent) and never shows them again.
 *
 *   POST money/vouchers {"count": N, "value_cents": V, "expires": "YYYY-MM-DD" or ""}
 *        -> text/csv "pin,value,expires", as an attachment */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <openssl/crypto.h>
#include "db.h"
#include "money.h"
#include "office.h"
#include "secrets.h"
#include "voucher_pins.h"

/* A browser download, not a print run: larger batches are spazactl's (its file, mode 0600). */
#define OFFICE_VOUCHERS_MAX 5000
#define OFFICE_VOUCHER_VALUE_MAX 10000000	/* R100,000, spazactl's bound */

struct office_batch {
	struct office_call *c;
	long count;
	int64_t value_cents;
	char expires[16];	/* as asked, "" for the default */
	char *csv;		/* the only copy of the PINs */
	size_t csv_len;
	char *hmacs, *last4s;
};

static int office_batch_free(struct office_batch *b)
{
	if (b->csv) {
		OPENSSL_cleanse(b->csv, b->csv_len);
		free(b->csv);
	}
	return 0;
}

static void office_batch_issued(void *priv, const PGresult *res, int err)
{
	struct office_batch *b = priv;
	char subject[64], action[96], after[96], disp[96];
	if (err)
		return office_error(b->c->req, 503, "the database is not answering: no vouchers were issued");
	if (PQntuples(res) != 1)	/* the database's own check of the session and role */
		return office_error(b->c->req, 403, "your role may not issue vouchers");
	snprintf(subject, sizeof(subject), "vouchers %s-%s", PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	snprintf(action, sizeof(action), "vouchers issue --count %ld --value-cents %" PRId64, b->count, b->value_cents);
	snprintf(after, sizeof(after), "{\"issued\": %s, \"value_cents\": %" PRId64 "}", PQgetvalue(res, 0, 0),
		 b->value_cents);
	office_audit(&b->c->who, action, subject, true, NULL, after);
	snprintf(disp, sizeof(disp), "attachment; filename=\"vouchers-%s-%s.csv\"", PQgetvalue(res, 0, 1),
		 PQgetvalue(res, 0, 2));
	http_reply_header(b->c->req, "Content-Disposition", disp);
	http_reply_header(b->c->req, "Cache-Control", "no-store");
	http_reply(b->c->req, 200, "text/csv; charset=utf-8", b->csv, b->csv_len);
}

static void office_batch_expiry(void *priv, const PGresult *res, int err)
{
	struct office_batch *b = priv;
	char value_txt[MONEY_BUF_LEN], value_c[24], key_v_txt[16];
	if (err || PQntuples(res) != 1)
		return office_error(b->c->req, 503, "the database is not answering: no vouchers were issued");
	if (strcmp(PQgetvalue(res, 0, 1), "t"))
		return office_error(b->c->req, 400, "the expiry date is in the past");
	unsigned key_v = secrets_newest("voucher-pin");
	if (!key_v)
		return office_error(b->c->req, 409, "the secrets file has no voucher-pin key: vouchers cannot be issued");
	FILE *fp = open_memstream(&b->csv, &b->csv_len);
	if (!fp)
		return office_error(b->c->req, 500, "out of memory");
	b->hmacs = talloc_size(b, voucher_pins_hmacs_len(b->count));
	b->last4s = talloc_size(b, voucher_pins_last4s_len(b->count));
	money_format(value_txt, sizeof(value_txt), b->value_cents);
	int rc = voucher_pins_make(fp, b->count, value_txt, PQgetvalue(res, 0, 0), key_v, b->hmacs, b->last4s);
	fclose(fp);
	if (rc < 0)
		return office_error(b->c->req, 500, "the PINs could not be made: no vouchers were issued");
	snprintf(value_c, sizeof(value_c), "%" PRId64, b->value_cents);
	snprintf(key_v_txt, sizeof(key_v_txt), "%u", key_v);
	const char *params[] = { b->c->who.session, b->hmacs, b->last4s, value_c, *b->expires ? b->expires : NULL,
				 key_v_txt };
	db_write(DB_OFFICE_VOUCHER_ISSUE, 6, params, office_batch_issued, b);
}

void office_vouchers_issue(struct office_call *c)
{
	struct office_batch *b = talloc_zero(c->req, struct office_batch);
	json_int_t count = 0, value = 0;
	const char *expires = "";
	talloc_set_destructor(b, office_batch_free);
	b->c = c;
	if (json_unpack(c->body, "{sI sI s?s}", "count", &count, "value_cents", &value, "expires", &expires) < 0 ||
	    count < 1 || count > OFFICE_VOUCHERS_MAX || value < 1 || value > OFFICE_VOUCHER_VALUE_MAX)
		return office_error(c->req, 400, "give {\"count\": 1 to 5000, \"value_cents\": up to R100,000, \"expires\"}");
	if (!expires)
		expires = "";
	if (*expires && (strlen(expires) != 10 || strspn(expires, "0123456789-") != 10 || expires[4] != '-' ||
			 expires[7] != '-'))
		return office_error(c->req, 400, "expires: a date like 2029-12-31, or empty for the default");
	b->count = count;
	b->value_cents = value;
	snprintf(b->expires, sizeof(b->expires), "%s", expires);
	const char *params[] = { *b->expires ? b->expires : NULL };
	db_read(DB_VOUCHER_EXPIRY, 1, params, office_batch_expiry, b);
}
