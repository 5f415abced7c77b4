/* Fuzz target: the shop's segment rules (src/domain/segment_rule.c), typed by staff into
 * `spazactl segments define` and `campaign create --rule`. A rule is accepted or refused with a
 * reason; an accepted one writes back to canonical text that parses to the same rule, and that
 * text is a fixed point. */
#include "fuzz.h"
#include <string.h>
#include "segment_rule.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strdup(data, size);
	struct segment_rule r, q;
	char why[160] = "", a[SEGMENT_RULE_MAX + 1], b[SEGMENT_RULE_MAX + 1];

	if (segment_rule_parse(text, &r, why, sizeof(why)) < 0) {
		FUZZ_ASSERT(why[0] != '\0');
		free(text);
		return 0;
	}
	FUZZ_ASSERT(r.named >= -1 && r.named < _SEGMENT_NAMED_COUNT);
	FUZZ_ASSERT(!r.category[0] || (r.within_days >= 1 && r.within_days <= 3650));
	FUZZ_ASSERT(!r.lang[0] || !strcmp(r.lang, "en") || !strcmp(r.lang, "zu") || !strcmp(r.lang, "af"));
	FUZZ_ASSERT(segment_rule_format(&r, a, sizeof(a)) == 0);
	FUZZ_ASSERT(segment_rule_parse(a, &q, why, sizeof(why)) == 0);
	FUZZ_ASSERT(memcmp(&r, &q, sizeof(r)) == 0);
	FUZZ_ASSERT(segment_rule_format(&q, b, sizeof(b)) == 0 && !strcmp(a, b));
	struct segment_rule_params p;
	segment_rule_params(&r, &p);
	FUZZ_ASSERT((p.v[0] == NULL) == (p.v[1] == NULL));
	free(text);
	return 0;
}
