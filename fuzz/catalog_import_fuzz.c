/* Fuzz target: the catalogue CSV checker (src/domain/catalog_import.c, catalog_import_parse), which
 * reads whatever a shop's spreadsheet exported. No database: the parser is what decides what
 * reaches one. A file it accepts must hold only what catalog_import_apply() can store and the
 * menu linter allowed for; a file it refuses must leave nothing allocated. */
#include "fuzz.h"
#include <talloc.h>
#include "catalog_import.h"
#include "gsm7.h"

static const struct catalog_limits lim = { .name_max = 24, .price_max_cents = 999999 };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

static void check_name(const char *s)
{
	struct gsm7_measure m;
	size_t len = strlen(s);
	FUZZ_ASSERT(len > 0 && s[0] != ' ' && s[len - 1] != ' ');
	FUZZ_ASSERT(gsm7_measure(s, len, &m) == 0 && m.coding == GSM7_CODING_GSM7);
	FUZZ_ASSERT(m.chars <= lim.name_max);
	for (size_t i = 0; i < len; i++)
		FUZZ_ASSERT((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *ctx = talloc_named_const(NULL, 0, "fuzz");
	struct catalog_file *cf = NULL;

	int rc = catalog_import_parse(ctx, "fuzz.csv", (const char *)data, size, &lim, stderr, &cf);
	if (rc < 0) {
		FUZZ_ASSERT(talloc_total_blocks(ctx) == 1);
	} else {
		FUZZ_ASSERT(rc == 0 && cf && cf->n_rows > 0 && cf->n_categories > 0);
		for (unsigned c = 0; c < cf->n_categories; c++) {
			check_name(cf->categories[c]);
			for (unsigned d = 0; d < c; d++)
				FUZZ_ASSERT(strcmp(cf->categories[c], cf->categories[d]));
		}
		unsigned *next = calloc(cf->n_categories, sizeof(*next));
		for (unsigned i = 0; i < cf->n_rows; i++) {
			const struct catalog_row *r = &cf->rows[i];
			FUZZ_ASSERT(r->sku >= 1 && r->category < cf->n_categories);
			FUZZ_ASSERT(r->position == ++next[r->category]);
			FUZZ_ASSERT(r->price_cents >= 1 && r->price_cents <= lim.price_max_cents);
			FUZZ_ASSERT(r->stock >= 0);
			FUZZ_ASSERT(i == 0 || r->line > cf->rows[i - 1].line);
			check_name(r->name);
			for (unsigned j = 0; j < i; j++)
				FUZZ_ASSERT(cf->rows[j].sku != r->sku);
		}
		free(next);
		talloc_free(cf);
		FUZZ_ASSERT(talloc_total_blocks(ctx) == 1);
	}
	talloc_free(ctx);
	return 0;
}
