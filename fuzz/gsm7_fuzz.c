/* Fuzz target: UTF-8 <-> GSM-7 (src/gsm7.c), which every screen, every SMS and every
 * aggregator field goes through. The first 3 bytes are a buffer size and two budgets, the
 * rest is the text. Each function is checked against the others: measure against encode and
 * UCS-2, encode against decode (a round trip), truncate against fits; every output buffer is
 * a heap block of exactly the size the function is told. */
#include "fuzz.h"
#include <errno.h>
#include "gsm7.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

static void check_text(const char *s, size_t len, size_t small, unsigned sept_budget, unsigned ucs2_budget)
{
	struct gsm7_measure m;
	int rc = gsm7_measure(s, len, &m);
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL);
	bool fits = gsm7_fits(s, len, sept_budget, ucs2_budget);
	if (rc < 0) {
		FUZZ_ASSERT(!fits);
		uint8_t *out = malloc(len * 2 + 4);
		FUZZ_ASSERT(gsm7_encode(s, len, out, len * 2 + 4) == -EINVAL);
		FUZZ_ASSERT(gsm7_to_ucs2be(s, len, out, len * 2 + 4) == -EINVAL);
		free(out);
	} else {
		FUZZ_ASSERT(m.chars <= len && m.ucs2_units >= m.chars && m.ucs2_units <= 2 * m.chars);
		FUZZ_ASSERT(fits == (m.coding == GSM7_CODING_GSM7 ? m.septets <= sept_budget : m.ucs2_units <= ucs2_budget));

		/* UCS-2: exactly two bytes per unit, and nothing past a short buffer */
		uint8_t *u = malloc(m.ucs2_units * 2 + 1);
		FUZZ_ASSERT(gsm7_to_ucs2be(s, len, u, m.ucs2_units * 2) == (int)m.ucs2_units * 2);
		free(u);
		if (m.ucs2_units) {
			size_t cut = small % (m.ucs2_units * 2);
			u = malloc(cut + 1);
			FUZZ_ASSERT(gsm7_to_ucs2be(s, len, u, cut) == -ENOSPC);
			free(u);
		}

		uint8_t *sept = malloc(m.septets + 1);
		int n = gsm7_encode(s, len, sept, m.septets);
		if (m.coding != GSM7_CODING_GSM7) {
			FUZZ_ASSERT(n == -EINVAL || n == -ENOSPC);
		} else {
			FUZZ_ASSERT(n == (int)m.septets);
			/* the way back gives the same text */
			char *back = malloc(len + 1);
			FUZZ_ASSERT(gsm7_decode(sept, n, back, len + 1) == (int)len);
			FUZZ_ASSERT(!memcmp(back, s, len) && back[len] == '\0');
			free(back);
			if (m.septets) {
				size_t cut = small % m.septets;
				uint8_t *o = malloc(cut + 1);
				FUZZ_ASSERT(gsm7_encode(s, len, o, cut) == -ENOSPC);
				free(o);
			}
		}
		free(sept);
	}

	/* truncation: a prefix at a character boundary that fits (or nothing) */
	char *t = malloc(len + 1);
	memcpy(t, s, len);
	t[len] = '\0';
	size_t best = gsm7_truncate(t, len, sept_budget, ucs2_budget);
	FUZZ_ASSERT(best <= len);
	FUZZ_ASSERT(gsm7_measure(t, best, &m) == 0);
	FUZZ_ASSERT(best == 0 || gsm7_fits(t, best, sept_budget, ucs2_budget));
	if (best < len)
		FUZZ_ASSERT(t[best] == '\0');
	if (rc == 0 && fits)
		FUZZ_ASSERT(best == len);
	free(t);
}

/* The text's bytes read as unpacked septets, as an SMSC might hand them over. */
static void check_septets(const uint8_t *sept, size_t n, size_t out_max)
{
	char *out = malloc(out_max ? out_max : 1);
	int rc = gsm7_decode(sept, n, out, out_max);
	if (out_max == 0) {
		FUZZ_ASSERT(rc == -ENOSPC);
	} else {
		size_t len = strlen(out);
		FUZZ_ASSERT(len < out_max);
		FUZZ_ASSERT(rc < 0 || (size_t)rc == len);
		struct gsm7_measure m;
		/* whatever was decoded is valid UTF-8 and GSM-7 again */
		FUZZ_ASSERT(gsm7_measure(out, len, &m) == 0 && m.coding == GSM7_CODING_GSM7);
		/* with room for 3 bytes a septet, only a byte above 0x7F is an error */
		if (out_max > n * 3) {
			bool high = false;
			for (size_t i = 0; i < n; i++)
				high |= sept[i] > 0x7F;
			FUZZ_ASSERT(high ? rc == -EINVAL : rc >= 0);
		}
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	const char *s = (const char *)data + 3;
	size_t len = size - 3;
	check_text(s, len, data[0], data[1], data[2]);
	check_septets(data + 3, len, data[0]);
	check_septets(data + 3, len, len * 3 + 1);
	return 0;
}
