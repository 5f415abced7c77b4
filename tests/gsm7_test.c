/* gsm7: the alphabet table both ways, septet and UCS-2 counting, the screen budgets, strict UTF-8, UCS-2BE
 * output and truncation that never splits a character. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "gsm7.h"
#include "testlib.h"

#define SCREEN_SEPTETS 182
#define SCREEN_UCS2 80

/* The test's own UTF-8 encoder, so the round trip does not lean on the code under test. */
static size_t gsm7_test_utf8(uint32_t cp, char *buf)
{
	if (cp < 0x80) {
		buf[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		buf[0] = (char)(0xC0 | (cp >> 6));
		buf[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	buf[0] = (char)(0xE0 | (cp >> 12));
	buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
	buf[2] = (char)(0x80 | (cp & 0x3F));
	return 3;
}

/* n copies of c followed by tail, NUL-terminated; returns the length. */
static size_t gsm7_test_text(char *buf, char c, size_t n, const char *tail)
{
	memset(buf, c, n);
	strcpy(buf + n, tail);
	return strlen(buf);
}

static bool gsm7_test_on_screen(const char *text, size_t len)
{
	return gsm7_fits(text, len, SCREEN_SEPTETS, SCREEN_UCS2);
}

static void gsm7_test_table_shape(void)
{
	unsigned base_seen[128] = { 0 }, ext_seen[128] = { 0 };
	unsigned base_dups = 0, base_missing = 0, esc_septet = 0, n_ext = 0, ext_dups = 0;
	unsigned s;
	static const uint8_t want_ext[] = { 0x0A, 0x14, 0x28, 0x29, 0x2F, 0x3C, 0x3D, 0x3E, 0x40, 0x65 };
	bool ext_as_spec = true;

#define X(septet, cp) base_seen[septet]++;
#define XE(septet, cp) ext_seen[septet]++; n_ext++;
#define XESC(septet) base_seen[septet]++; esc_septet = (septet);
#include "gsm7.def"
#undef X
#undef XE
#undef XESC
	for (s = 0; s < 128; s++) {
		base_missing += base_seen[s] == 0;
		base_dups += base_seen[s] > 1;
		ext_dups += ext_seen[s] > 1;
	}
	for (s = 0; s < sizeof(want_ext); s++)
		ext_as_spec &= ext_seen[want_ext[s]] == 1;
	T_CHECK(!base_missing && !base_dups, "gsm7.def lists each of the 128 default-alphabet septets exactly once",
		"%u missing, %u listed twice", base_missing, base_dups);
	T_EQ_INT(esc_septet, 0x1B, "gsm7.def: the escape to the extension table is septet 0x1B");
	T_CHECK(n_ext == sizeof(want_ext) && !ext_dups && ext_as_spec,
		"gsm7.def: the extension table is FF ^ { } \\ [ ~ ] | EUR at their 23.038 septets",
		"%u entries, %u duplicates, at spec septets: %d", n_ext, ext_dups, ext_as_spec);
}

/* The alphabet written out a second time, in septet order, independently of gsm7.def: decoding every septet
 * must give exactly this, which checks the table's content and not just its consistency. */
static void gsm7_test_table_content(void)
{
	static const char want_base[] =
		"@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ" /* 0x00-0x1A; 0x1B is the escape */
		"ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
		"¿abcdefghijklmnopqrstuvwxyzäöñüà";
	static const uint8_t ext[] = { 0x1B, 0x0A, 0x1B, 0x14, 0x1B, 0x28, 0x1B, 0x29, 0x1B, 0x2F,
				       0x1B, 0x3C, 0x1B, 0x3D, 0x1B, 0x3E, 0x1B, 0x40, 0x1B, 0x65 };
	uint8_t septets[127];
	char out[512];
	unsigned s, n = 0;
	int rc;

	for (s = 0; s < 128; s++)
		if (s != 0x1B)
			septets[n++] = s;
	rc = gsm7_decode(septets, n, out, sizeof(out));
	T_EQ_INT(rc, (long long)strlen(want_base),
		 "decoding septets 0x00-0x7F (but 0x1B) gives the whole default alphabet's bytes");
	T_EQ_STR(out, want_base, "decoding septets 0x00-0x7F (but 0x1B) gives the default alphabet in 23.038 order");

	rc = gsm7_decode(ext, sizeof(ext), out, sizeof(out));
	T_EQ_STR(out, "\f^{}\\[~]|€", "decoding each 0x1B pair gives the extension table: FF ^ { } \\ [ ~ ] | €");
	T_EQ_INT(rc, 12, "the ten extension characters decode to 12 UTF-8 bytes (€ is 3)");
}

/* Every entry through gsm7_encode() and back through gsm7_decode(): proves the two expansions of the table
 * agree for all 137 characters. */
static void gsm7_test_round_trip(void)
{
	unsigned tried = 0, bad = 0;
	char first_bad[96] = "";

#define ROUND_TRIP(septet, cp, is_ext) do { \
		char u[4], back[8]; \
		uint8_t sep[4]; \
		size_t ul = gsm7_test_utf8(cp, u); \
		int en = gsm7_encode(u, ul, sep, sizeof(sep)); \
		int de = gsm7_decode(sep, en > 0 ? (size_t)en : 0, back, sizeof(back)); \
		bool ok = is_ext ? (en == 2 && sep[0] == 0x1B && sep[1] == (septet)) \
				 : (en == 1 && sep[0] == (septet)); \
		ok = ok && de == (int)ul && !memcmp(back, u, ul); \
		tried++; \
		if (!ok && !bad++) \
			snprintf(first_bad, sizeof(first_bad), "U+%04X (septet 0x%02X): encode %d, decode %d", \
				 (unsigned)(cp), (unsigned)(septet), en, de); \
	} while (0);
#define X(septet, cp) ROUND_TRIP(septet, cp, false)
#define XE(septet, cp) ROUND_TRIP(septet, cp, true)
#define XESC(septet)
#include "gsm7.def"
#undef X
#undef XE
#undef XESC
#undef ROUND_TRIP
	T_CHECK(!bad && tried == 137, "every table entry encodes to its septet (extension: 0x1B + septet) and decodes back",
		"%u of %u wrong, first %s", bad, tried, first_bad);
}

static void gsm7_test_counting(void)
{
	struct gsm7_measure m;
	static const char *const ext_chars[] = { "\f", "^", "{", "}", "\\", "[", "~", "]", "|", "€" };
	unsigned i, not_two = 0;
	int rc;

	rc = gsm7_measure("Hello, world 123", 16, &m);
	T_CHECK(rc == 0 && m.coding == GSM7_CODING_GSM7 && m.septets == 16 && m.chars == 16 && m.ucs2_units == 16,
		"plain ASCII is GSM-7 and counts one septet per character",
		"rc %d coding %d septets %u chars %u units %u", rc, m.coding, m.septets, m.chars, m.ucs2_units);

	rc = gsm7_measure("1. Buy\n2. Pay\r\n", 15, &m);
	T_CHECK(rc == 0 && m.coding == GSM7_CODING_GSM7 && m.septets == 15,
		"LF and CR are in the default alphabet and count one septet each",
		"rc %d coding %d septets %u", rc, m.coding, m.septets);

	rc = gsm7_measure("@£$¥§¿ÄäΔΩ", strlen("@£$¥§¿ÄäΔΩ"), &m);
	T_CHECK(rc == 0 && m.coding == GSM7_CODING_GSM7 && m.septets == 10 && m.chars == 10,
		"non-ASCII default-alphabet characters (£ ¥ § ¿ Ä ä Δ Ω) count one septet each",
		"rc %d coding %d septets %u chars %u", rc, m.coding, m.septets, m.chars);

	for (i = 0; i < sizeof(ext_chars) / sizeof(ext_chars[0]); i++) {
		rc = gsm7_measure(ext_chars[i], strlen(ext_chars[i]), &m);
		if (rc != 0 || m.coding != GSM7_CODING_GSM7 || m.septets != 2 || m.chars != 1)
			not_two++;
	}
	T_EQ_INT(not_two, 0, "every extension character (FF ^ { } \\ [ ~ ] | €) is GSM-7 and counts 2 septets");

	rc = gsm7_measure("R5 €", strlen("R5 €"), &m);
	T_CHECK(rc == 0 && m.coding == GSM7_CODING_GSM7 && m.septets == 5 && m.chars == 4 && m.ucs2_units == 4,
		"€ counts 2 septets but one character and one UCS-2 unit",
		"rc %d coding %d septets %u chars %u units %u", rc, m.coding, m.septets, m.chars, m.ucs2_units);

	rc = gsm7_measure("`ok`", 4, &m);
	T_CHECK(rc == 0 && m.coding == GSM7_CODING_UCS2 && m.ucs2_units == 4,
		"a backtick is in neither GSM-7 table and forces UCS-2", "rc %d coding %d units %u", rc, m.coding, m.ucs2_units);

	rc = gsm7_measure("ça", strlen("ça"), &m);
	T_CHECK(rc == 0 && m.coding == GSM7_CODING_UCS2,
		"small ç is not GSM-7 (0x09 is capital Ç) and forces UCS-2", "rc %d coding %d", rc, m.coding);

	rc = gsm7_measure("Baie dankie, ê", strlen("Baie dankie, ê"), &m);
	T_CHECK(rc == 0 && m.coding == GSM7_CODING_UCS2 && m.ucs2_units == 14 && m.chars == 14,
		"Afrikaans ê is not GSM-7: the text is UCS-2 at one unit per character",
		"rc %d coding %d units %u chars %u", rc, m.coding, m.ucs2_units, m.chars);

	rc = gsm7_measure("ok \xF0\x9F\x98\x80", 7, &m);
	T_CHECK(rc == 0 && m.coding == GSM7_CODING_UCS2 && m.ucs2_units == 5 && m.chars == 4,
		"an emoji (U+1F600) is one character but 2 UCS-2 units",
		"rc %d coding %d units %u chars %u", rc, m.coding, m.ucs2_units, m.chars);

	rc = gsm7_measure("", 0, &m);
	T_CHECK(rc == 0 && m.coding == GSM7_CODING_GSM7 && m.septets == 0 && m.chars == 0,
		"empty text is GSM-7 with nothing to count", "rc %d coding %d septets %u", rc, m.coding, m.septets);
}

static void gsm7_test_budgets(void)
{
	char buf[300];
	size_t n;

	n = gsm7_test_text(buf, 'a', 182, "");
	T_CHECK(gsm7_test_on_screen(buf, n), "a 182-septet screen fits the 182-septet budget", "did not fit");
	n = gsm7_test_text(buf, 'a', 183, "");
	T_CHECK(!gsm7_test_on_screen(buf, n), "a 183-septet screen does not fit", "fitted");
	n = gsm7_test_text(buf, 'a', 180, "{");
	T_CHECK(gsm7_test_on_screen(buf, n), "180 characters + { (2 septets) = 182 fits", "did not fit");
	n = gsm7_test_text(buf, 'a', 181, "{");
	T_CHECK(!gsm7_test_on_screen(buf, n),
		"181 characters + one extension char (182 characters, 183 septets) does not fit", "fitted");
	n = gsm7_test_text(buf, 'a', 181, "€");
	T_CHECK(!gsm7_test_on_screen(buf, n), "181 characters + € (183 septets) does not fit", "fitted");

	n = gsm7_test_text(buf, 'a', 79, "ê");
	T_CHECK(gsm7_test_on_screen(buf, n), "with ê the budget is 80 UCS-2 units: 80 characters fit", "did not fit");
	n = gsm7_test_text(buf, 'a', 80, "ê");
	T_CHECK(!gsm7_test_on_screen(buf, n),
		"with ê the budget is 80 UCS-2 units: 81 characters do not fit, though far below 182 septets", "fitted");
	n = gsm7_test_text(buf, 'a', 78, "\xF0\x9F\x98\x80");
	T_CHECK(gsm7_test_on_screen(buf, n), "78 characters + an emoji (80 units) fit", "did not fit");
	n = gsm7_test_text(buf, 'a', 79, "\xF0\x9F\x98\x80");
	T_CHECK(!gsm7_test_on_screen(buf, n), "79 characters + an emoji (81 units) do not fit", "fitted");
}

static void gsm7_test_bad_utf8(void)
{
	static const struct {
		const char *what, *bytes;
		size_t len;
	} cases[] = {
		{ "a lone continuation byte (80)", "a\x80z", 3 },
		{ "overlong '/' (C0 AF)", "\xC0\xAF", 2 },
		{ "overlong 3-byte form (E0 80 AF)", "\xE0\x80\xAF", 3 },
		{ "a UTF-16 surrogate (ED A0 80)", "\xED\xA0\x80", 3 },
		{ "a truncated sequence (E2 82 at the end)", "ab\xE2\x82", 4 },
		{ "a lead byte followed by ASCII (C3 41)", "\xC3\x41", 2 },
		{ "a code point above U+10FFFF (F4 90 80 80)", "\xF4\x90\x80\x80", 4 },
		{ "a byte that never occurs (F5)", "\xF5\x80\x80\x80", 4 },
	};
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char what[160];
		struct gsm7_measure m;
		uint8_t out[16];
		bool all;

		all = gsm7_measure(cases[i].bytes, cases[i].len, &m) == -EINVAL
		      && gsm7_encode(cases[i].bytes, cases[i].len, out, sizeof(out)) == -EINVAL
		      && gsm7_to_ucs2be(cases[i].bytes, cases[i].len, out, sizeof(out)) == -EINVAL
		      && !gsm7_fits(cases[i].bytes, cases[i].len, 1000, 1000);
		snprintf(what, sizeof(what), "%s is invalid UTF-8: -EINVAL from measure, encode and to_ucs2be; fits is false",
			 cases[i].what);
		T_CHECK(all, what, "one of them accepted it");
	}
}

static void gsm7_test_encode(void)
{
	uint8_t out[16];
	int rc;

	rc = gsm7_encode("@£$¥", strlen("@£$¥"), out, sizeof(out));
	T_CHECK(rc == 4 && out[0] == 0x00 && out[1] == 0x01 && out[2] == 0x02 && out[3] == 0x03,
		"@ £ $ ¥ encode to septets 00 01 02 03", "rc %d, %02X %02X %02X %02X", rc, out[0], out[1], out[2], out[3]);
	rc = gsm7_encode("R5€", strlen("R5€"), out, sizeof(out));
	T_CHECK(rc == 4 && out[0] == 0x52 && out[1] == 0x35 && out[2] == 0x1B && out[3] == 0x65,
		"R5€ encodes to 52 35 1B 65 (the escape before the euro)",
		"rc %d, %02X %02X %02X %02X", rc, out[0], out[1], out[2], out[3]);
	T_EQ_INT(gsm7_encode("sê", strlen("sê"), out, sizeof(out)), -EINVAL,
		 "encoding a character that is not GSM-7 (ê) is -EINVAL");
	T_EQ_INT(gsm7_encode("abc", 3, out, 2), -ENOSPC, "encoding 3 septets into 2 bytes is -ENOSPC");
	T_EQ_INT(gsm7_encode("a{", 2, out, 2), -ENOSPC,
		 "an escape pair that would not fit whole is -ENOSPC, not half written");
	T_EQ_INT(gsm7_encode("a{", 2, out, 3), 3, "an escape pair that fits exactly is written");
	T_EQ_INT(gsm7_encode("", 0, NULL, 0), 0, "encoding empty text gives 0 septets");
}

static void gsm7_test_decode(void)
{
	char out[16];
	int rc;

	rc = gsm7_decode((const uint8_t[]){ 0x1B, 0x41, 0x62 }, 3, out, sizeof(out));
	T_CHECK(rc == 2 && !strcmp(out, "Ab"), "an undefined escape (1B 41) decodes as the default-alphabet char (A)",
		"rc %d, \"%s\"", rc, out);
	rc = gsm7_decode((const uint8_t[]){ 0x61, 0x1B, 0x1B, 0x62 }, 4, out, sizeof(out));
	T_CHECK(rc == 3 && !strcmp(out, "a b"), "the reserved double escape (1B 1B) decodes as one space",
		"rc %d, \"%s\"", rc, out);
	rc = gsm7_decode((const uint8_t[]){ 0x61, 0x1B }, 2, out, sizeof(out));
	T_CHECK(rc == 2 && !strcmp(out, "a "), "an escape at the very end decodes as a space", "rc %d, \"%s\"", rc, out);
	rc = gsm7_decode((const uint8_t[]){ 0x61, 0x80 }, 2, out, sizeof(out));
	T_CHECK(rc == -EINVAL && !strcmp(out, "a"), "a septet above 0x7F is -EINVAL, the output holds what came before",
		"rc %d, \"%s\"", rc, out);
	rc = gsm7_decode((const uint8_t[]){ 0x1B, 0xE5 }, 2, out, sizeof(out));
	T_EQ_INT(rc, -EINVAL, "an escape followed by a byte above 0x7F is -EINVAL");
	rc = gsm7_decode((const uint8_t[]){ 0x61, 0x1B, 0x65 }, 3, out, 4);
	T_CHECK(rc == -ENOSPC && !strcmp(out, "a"),
		"€ (3 bytes) after 'a' does not fit 4 bytes with the NUL: -ENOSPC, no half character",
		"rc %d, \"%s\"", rc, out);
	rc = gsm7_decode((const uint8_t[]){ 0x61, 0x1B, 0x65 }, 3, out, 5);
	T_CHECK(rc == 4 && !strcmp(out, "a€"), "a€ fits 5 bytes exactly (4 + NUL)", "rc %d, \"%s\"", rc, out);
	T_EQ_INT(gsm7_decode((const uint8_t[]){ 0x61 }, 0, out, 0), -ENOSPC,
		 "decoding into no room at all (not even the NUL) is -ENOSPC");
}

static void gsm7_test_ucs2be(void)
{
	/* A, ê, € and U+1F600 (a surrogate pair) */
	static const char in[] = "Aê€\xF0\x9F\x98\x80";
	static const uint8_t want[] = { 0x00, 0x41, 0x00, 0xEA, 0x20, 0xAC, 0xD8, 0x3D, 0xDE, 0x00 };
	uint8_t out[16];
	int rc;

	rc = gsm7_to_ucs2be(in, strlen(in), out, sizeof(out));
	T_CHECK(rc == (int)sizeof(want) && !memcmp(out, want, sizeof(want)),
		"\"Aê€\" + U+1F600 in UTF-16BE is 0041 00EA 20AC D83D DE00",
		"rc %d, %02X%02X %02X%02X %02X%02X %02X%02X %02X%02X", rc,
		out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7], out[8], out[9]);
	T_EQ_INT(gsm7_to_ucs2be(in, strlen(in), out, 9), -ENOSPC,
		 "UTF-16BE output one byte short of the surrogate pair is -ENOSPC");
}

static void gsm7_test_truncate(void)
{
	char buf[300];
	size_t n, r;

	n = gsm7_test_text(buf, 'a', 200, "");
	r = gsm7_truncate(buf, n, SCREEN_SEPTETS, SCREEN_UCS2);
	T_CHECK(r == 182 && buf[182] == '\0', "200 ASCII characters are cut to 182 and NUL-terminated", "got %zu", r);

	n = gsm7_test_text(buf, 'a', 10, "");
	r = gsm7_truncate(buf, n, SCREEN_SEPTETS, SCREEN_UCS2);
	T_EQ_INT(r, 10, "text that fits is left whole");

	n = gsm7_test_text(buf, 'a', 181, "€b");
	r = gsm7_truncate(buf, n, SCREEN_SEPTETS, SCREEN_UCS2);
	T_CHECK(r == 181 && buf[181] == '\0',
		"181 characters + € are cut before the € (its escape pair does not fit whole)",
		"got %zu", r);

	n = gsm7_test_text(buf, 'a', 181, "^");
	r = gsm7_truncate(buf, n, SCREEN_SEPTETS, SCREEN_UCS2);
	T_EQ_INT(r, 181, "181 characters + ^ are cut before the ^ (1 byte, but 2 septets)");

	n = gsm7_test_text(buf, 'a', 180, "€b");
	r = gsm7_truncate(buf, n, SCREEN_SEPTETS, SCREEN_UCS2);
	T_EQ_INT(r, 183, "180 characters + € (182 septets) keep the whole € (3 bytes)");

	n = gsm7_test_text(buf, 'x', 0, "éééé");
	r = gsm7_truncate(buf, n, 3, SCREEN_UCS2);
	T_CHECK(r == 6 && !strcmp(buf, "ééé"), "a 3-septet budget keeps 3 two-byte é (6 bytes), never half of one",
		"got %zu \"%s\"", r, buf);

	n = gsm7_test_text(buf, 'a', 100, "ê and more");
	r = gsm7_truncate(buf, n, SCREEN_SEPTETS, SCREEN_UCS2);
	T_EQ_INT(r, 100, "cutting off the only ê brings back the septet budget: 100 GSM-7 characters are kept");

	n = gsm7_test_text(buf, 'a', 70, "êêêbbbbbbbbbbbbbbbbbbbb");
	r = gsm7_truncate(buf, n, SCREEN_SEPTETS, SCREEN_UCS2);
	T_EQ_INT(r, 70 + 6 + 7, "with ê kept the cut is at 80 UCS-2 characters (70 a + 3 ê + 7 b = 83 bytes)");

	n = gsm7_test_text(buf, 'a', 20, "ê\xF0\x9F\x98\x80\xF0\x9F\x98\x80");
	r = gsm7_truncate(buf, n, SCREEN_SEPTETS, 22);
	T_EQ_INT(r, 20 + 2, "an emoji (2 units) with 1 unit left is dropped whole: 20 a + ê (21 units) of budget 22");
	n = gsm7_test_text(buf, 'a', 20, "ê\xF0\x9F\x98\x80\xF0\x9F\x98\x80");
	r = gsm7_truncate(buf, n, SCREEN_SEPTETS, 23);
	T_EQ_INT(r, 20 + 2 + 4, "an emoji with exactly 2 units left is kept (4 bytes, 23 units)");

	n = gsm7_test_text(buf, 'a', 3, "\x80zz");
	r = gsm7_truncate(buf, n, SCREEN_SEPTETS, SCREEN_UCS2);
	T_CHECK(r == 3 && !strcmp(buf, "aaa"), "invalid UTF-8 ends the text: the cut is before the bad byte", "got %zu", r);
}

int main(void)
{
	gsm7_test_table_shape();
	gsm7_test_table_content();
	gsm7_test_round_trip();
	gsm7_test_counting();
	gsm7_test_budgets();
	gsm7_test_bad_utf8();
	gsm7_test_encode();
	gsm7_test_decode();
	gsm7_test_ucs2be();
	gsm7_test_truncate();
	return T_DONE();
}
