/* Catalogue import: CSV checking (all errors, with line numbers) and the one-transaction load. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <jansson.h>
#include "catalog_import.h"
#include "db_sync.h"
#include "gsm7.h"
#include "money.h"

#define CATALOG_HEADER "sku,category,name,price,stock"
enum catalog_col { COL_SKU, COL_CATEGORY, COL_NAME, COL_PRICE, COL_STOCK, COL_COUNT };

struct catalog_sku_seen {
	int32_t sku;
	unsigned line;
};

/* State while checking one file. */
struct catalog_parser {
	const char *path;
	const struct catalog_limits *lim;
	FILE *errs;
	unsigned line;
	unsigned n_errors;
	struct catalog_file *cf;
	unsigned *cat_size;		/* products so far per category: the next position */
	struct catalog_sku_seen *seen;	/* every valid sku, also on lines with other errors */
	unsigned n_seen;
};

static void catalog_err(struct catalog_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void catalog_err(struct catalog_parser *p, const char *fmt, ...)
{
	va_list ap;
	fprintf(p->errs, "%s:%u: ", p->path, p->line);
	va_start(ap, fmt);
	vfprintf(p->errs, fmt, ap);
	va_end(ap);
	fputc('\n', p->errs);
	p->n_errors++;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. A name that is not
 * valid UTF-8 would be rendered as garbage on every phone, so it is refused here. */
static bool catalog_utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned char lo = 0x80, hi = 0xbf;	/* allowed range of the second byte */
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else
			return false;
		if (i + n >= len)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		i += n + 1;
	}
	return true;
}

/* Characters, not bytes, of text already known to be valid UTF-8. */
static unsigned catalog_utf8_chars(const char *s)
{
	unsigned n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Split one line into fields (RFC 4180: a field may be quoted, "" inside quotes is a quote).
 * A quoted field cannot span lines: a line break in a product name has no place on a USSD
 * screen, and keeping records to one line keeps every message's line number right.
 * Returns the number of fields, or -EINVAL after reporting the problem. */
static int catalog_split(struct catalog_parser *p, void *tmp, const char *s, size_t len, char ***out)
{
	char **fields = NULL;
	int n = 0;
	size_t i = 0;

	for (;;) {
		char *f = talloc_size(tmp, len + 1);
		size_t fl = 0;
		if (i < len && s[i] == '"') {
			for (i++;; i++) {
				if (i >= len) {
					catalog_err(p, "field %d: quote not closed (a field cannot span lines)", n + 1);
					return -EINVAL;
				}
				if (s[i] == '"') {
					if (i + 1 < len && s[i + 1] == '"')
						i++;
					else
						break;
				}
				f[fl++] = s[i];
			}
			i++;
			if (i < len && s[i] != ',') {
				catalog_err(p, "field %d: text after the closing quote", n + 1);
				return -EINVAL;
			}
		} else {
			for (; i < len && s[i] != ','; i++) {
				if (s[i] == '"') {
					catalog_err(p, "field %d: quote inside an unquoted field (quote the whole"
						    " field and double the quote: \"a \"\"b\"\"\")", n + 1);
					return -EINVAL;
				}
				f[fl++] = s[i];
			}
		}
		f[fl] = '\0';
		fields = talloc_realloc(tmp, fields, char *, n + 1);
		fields[n++] = f;
		if (i >= len)
			break;
		i++;	/* the comma */
	}
	*out = fields;
	return n;
}

/* A whole number written as plain digits ("1e3", "+5", " 5" and "" are not), within 0..max. */
static bool catalog_uint(const char *s, int64_t max, int64_t *v)
{
	int64_t x = 0;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || x > (max - (*s - '0')) / 10)
			return false;
		x = x * 10 + (*s - '0');
	}
	*v = x;
	return true;
}

static bool catalog_text_ok(struct catalog_parser *p, const char *what, const char *s)
{
	size_t len = strlen(s);
	if (!len) {
		catalog_err(p, "empty %s", what);
		return false;
	}
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			catalog_err(p, "%s contains a control character", what);
			return false;
		}
	/* Refused rather than trimmed: "Drinks " would silently become a second category
	 * in the operator's eyes but not in ours, and the operator should see the file as we do. */
	if (s[0] == ' ' || s[len - 1] == ' ') {
		catalog_err(p, "%s \"%s\" has leading or trailing spaces", what, s);
		return false;
	}
	/* Names go on screens next to GSM-7 text: one character outside GSM-7 would turn the whole
	 * screen into UCS-2 (80 characters, not 182), which the menu linter does not allow for. */
	struct gsm7_measure m;
	if (gsm7_measure(s, len, &m) == 0 && m.coding != GSM7_CODING_GSM7) {
		catalog_err(p, "%s \"%s\" has characters outside the GSM-7 alphabet (phones would get an 80-character screen)",
			    what, s);
		return false;
	}
	unsigned chars = catalog_utf8_chars(s);
	if (chars > p->lim->name_max) {
		catalog_err(p, "%s \"%s\" has %u characters, more than %u (catalog limits name-max)", what, s,
			    chars, p->lim->name_max);
		return false;
	}
	return true;
}

static bool catalog_sku_ok(struct catalog_parser *p, const char *s, int32_t *sku)
{
	int64_t v;
	if (!catalog_uint(s, INT32_MAX, &v) || v == 0) {
		catalog_err(p, "sku \"%s\" is not a whole number from 1 to %d", s, INT32_MAX);
		return false;
	}
	for (unsigned i = 0; i < p->n_seen; i++)
		if (p->seen[i].sku == v) {
			catalog_err(p, "duplicate sku %" PRId64 " (first on line %u)", v, p->seen[i].line);
			return false;
		}
	p->seen = talloc_realloc(p->cf, p->seen, struct catalog_sku_seen, p->n_seen + 1);
	p->seen[p->n_seen++] = (struct catalog_sku_seen){ .sku = v, .line = p->line };
	*sku = v;
	return true;
}

static bool catalog_price_ok(struct catalog_parser *p, const char *s, int64_t *cents)
{
	if (money_parse(s, cents) < 0) {
		catalog_err(p, "price \"%s\" is not an amount in rand like 17.99", s);
		return false;
	}
	if (*cents == 0) {
		catalog_err(p, "price is zero");
		return false;
	}
	if (*cents > p->lim->price_max_cents) {
		char max[MONEY_BUF_LEN];
		money_format(max, sizeof(max), p->lim->price_max_cents);
		catalog_err(p, "price %s is more than %s (catalog limits price-max)", s, max);
		return false;
	}
	return true;
}

static unsigned catalog_category_index(struct catalog_parser *p, const char *name)
{
	struct catalog_file *cf = p->cf;
	for (unsigned i = 0; i < cf->n_categories; i++)
		if (!strcmp(cf->categories[i], name))
			return i;
	cf->categories = talloc_realloc(cf, cf->categories, const char *, cf->n_categories + 1);
	cf->categories[cf->n_categories] = talloc_strdup(cf, name);
	p->cat_size = talloc_realloc(cf, p->cat_size, unsigned, cf->n_categories + 1);
	p->cat_size[cf->n_categories] = 0;
	return cf->n_categories++;
}

/* Check one record and, if it is good, append it. Every column is checked even after one
 * failed, so a single run shows the operator everything to fix. */
static void catalog_record(struct catalog_parser *p, char **f, int n)
{
	struct catalog_row row = { .line = p->line };
	bool ok;

	if (n != COL_COUNT) {
		catalog_err(p, "%d fields, expected %d (" CATALOG_HEADER ")", n, COL_COUNT);
		return;
	}
	ok = catalog_sku_ok(p, f[COL_SKU], &row.sku);
	ok &= catalog_text_ok(p, "category", f[COL_CATEGORY]);
	ok &= catalog_text_ok(p, "name", f[COL_NAME]);
	ok &= catalog_price_ok(p, f[COL_PRICE], &row.price_cents);
	if (!catalog_uint(f[COL_STOCK], INT64_MAX, &row.stock)) {
		catalog_err(p, "stock \"%s\" is not a whole number, 0 or more", f[COL_STOCK]);
		ok = false;
	}
	if (!ok)
		return;

	struct catalog_file *cf = p->cf;
	row.category = catalog_category_index(p, f[COL_CATEGORY]);
	row.position = ++p->cat_size[row.category];
	row.name = talloc_strdup(cf, f[COL_NAME]);
	cf->rows = talloc_realloc(cf, cf->rows, struct catalog_row, cf->n_rows + 1);
	cf->rows[cf->n_rows++] = row;
}

static void catalog_line(struct catalog_parser *p, const char *s, size_t len)
{
	void *tmp = talloc_new(NULL);
	char **f;
	int n;

	if (!catalog_utf8_valid((const unsigned char *)s, len))
		catalog_err(p, "invalid UTF-8");
	else if (memchr(s, '\0', len))
		catalog_err(p, "contains a NUL byte");
	else if ((n = catalog_split(p, tmp, s, len, &f)) >= 0)
		catalog_record(p, f, n);
	talloc_free(tmp);
}

static int catalog_parse(struct catalog_parser *p, const char *buf, size_t len)
{
	const char *s = buf, *end = buf + len;
	bool header = true;

	/* Spreadsheets like to start a "CSV UTF-8" file with a byte order mark. */
	if (len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
		s += 3;
	for (p->line = 1; s < end; p->line++) {
		const char *nl = memchr(s, '\n', end - s);
		size_t l = nl ? (size_t)(nl - s) : (size_t)(end - s);
		if (l && s[l - 1] == '\r')
			l--;
		if (header) {
			if (l != strlen(CATALOG_HEADER) || memcmp(s, CATALOG_HEADER, l)) {
				catalog_err(p, "the first line must be the header " CATALOG_HEADER);
				return -EINVAL;
			}
			header = false;
		} else if (l)
			catalog_line(p, s, l);
		s = nl ? nl + 1 : end;
	}
	if (header) {
		p->line = 1;
		catalog_err(p, "empty file (expected the header " CATALOG_HEADER ")");
	} else if (!p->n_errors && !p->cf->n_rows) {
		/* Importing nothing would retire the whole shop: surely a mistake. */
		p->line--;
		catalog_err(p, "no products after the header");
	}
	return p->n_errors ? -EINVAL : 0;
}

int catalog_import_read(void *ctx, const char *path, const struct catalog_limits *lim, FILE *errs,
			struct catalog_file **out)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		int rc = -errno;
		fprintf(errs, "%s: %s\n", path, strerror(errno));
		return rc;
	}
	char *buf = NULL;
	size_t len = 0;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		buf = talloc_realloc_size(ctx, buf, len + n);
		memcpy(buf + len, chunk, n);
		len += n;
	}
	if (ferror(fp)) {
		fprintf(errs, "%s: read error\n", path);
		fclose(fp);
		talloc_free(buf);
		return -EIO;
	}
	fclose(fp);

	int rc = catalog_import_parse(ctx, path, buf ? buf : "", len, lim, errs, out);
	talloc_free(buf);
	return rc;
}

int catalog_import_parse(void *ctx, const char *path, const char *buf, size_t len, const struct catalog_limits *lim,
			 FILE *errs, struct catalog_file **out)
{
	struct catalog_parser p = {
		.path = path, .lim = lim, .errs = errs, .cf = talloc_zero(ctx, struct catalog_file),
	};
	int rc = catalog_parse(&p, buf, len);
	if (rc) {
		talloc_free(p.cf);
		return rc;
	}
	/* Parser bookkeeping is no longer needed once the file is known good. */
	TALLOC_FREE(p.seen);
	TALLOC_FREE(p.cat_size);
	*out = p.cf;
	return 0;
}

char *catalog_import_json(void *ctx, const struct catalog_file *cf)
{
	json_t *cats = json_array(), *prods = json_array();
	for (unsigned c = 0; c < cf->n_categories; c++)
		json_array_append_new(cats, json_string(cf->categories[c]));
	for (unsigned i = 0; i < cf->n_rows; i++) {
		const struct catalog_row *r = &cf->rows[i];
		json_array_append_new(prods, json_pack("{sI sI sI ss sI sI}", "sku", (json_int_t)r->sku, "category",
						       (json_int_t)r->category, "position", (json_int_t)r->position,
						       "name", r->name, "price_cents", (json_int_t)r->price_cents,
						       "stock", (json_int_t)r->stock));
	}
	json_t *j = json_pack("{so so}", "categories", cats, "products", prods);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	char *out = text ? talloc_strdup(ctx, text) : NULL;
	free(text);
	return out;
}

/* The work itself is spaza_catalog_import() (sql/020_office_search.sql), which the back
 * office's Catalogue page reaches through its session-checked door: one statement, one
 * transaction, the same rules for both. */
int catalog_import_apply(PGconn *conn, const struct catalog_file *cf, unsigned *retired, char *err, size_t errlen)
{
	PGresult *res;
	char *file = catalog_import_json(NULL, cf);
	if (!file) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	const char *params[] = { file };
	int rc = db_sync_stmt(conn, "catalog import", DB_CATALOG_IMPORT, params, &res, err, errlen);
	talloc_free(file);
	if (rc)
		return rc;
	*retired = strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}
