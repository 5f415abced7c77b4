#pragma once
/* UTF-8 text against the GSM 7-bit default alphabet (3GPP TS 23.038): how big a text is on the air, whether
 * it fits a screen, and its GSM-7 / UCS-2 forms. The alphabet is listed once, in gsm7.def. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
enum gsm7_coding { GSM7_CODING_GSM7 = 0, GSM7_CODING_UCS2 = 2 };
struct gsm7_measure {
	enum gsm7_coding coding; /* GSM7 if every character is in the default alphabet or its extension table */
	unsigned septets;        /* GSM-7 septets needed (extension chars count 2); meaningful when coding == GSM7 */
	unsigned ucs2_units;     /* UTF-16 code units needed (a non-BMP char counts 2) */
	unsigned chars;          /* Unicode code points */
};
/* Measure UTF-8 text. Returns 0, or -EINVAL for invalid UTF-8 (overlong, surrogates, truncated, > U+10FFFF),
 * or -EOVERFLOW for text too long to count in an unsigned (len > UINT_MAX / 2). */
int gsm7_measure(const char *utf8, size_t len, struct gsm7_measure *m);
/* true iff the text fits: septets <= septet_budget when GSM-7, else ucs2_units <= ucs2_budget. false for bad UTF-8. */
bool gsm7_fits(const char *utf8, size_t len, unsigned septet_budget, unsigned ucs2_budget);
/* UTF-8 -> unpacked GSM-7 septet values (one byte each, 0x1B escape before extension chars). Returns count or -EINVAL (bad UTF-8 / char not in GSM-7) / -ENOSPC. */
int gsm7_encode(const char *utf8, size_t len, uint8_t *out, size_t out_max);
/* Unpacked GSM-7 septets -> UTF-8 (NUL-terminated). Returns bytes written (without NUL) or -ENOSPC / -EINVAL
 * (septet > 0x7F); on error out holds the NUL-terminated part decoded so far (when out_max > 0).
 * Escapes that the extension table does not define decode as 23.038 6.2.1.1 says a phone displays them:
 * 0x1B + X as the default-alphabet character X (so 0x1B 0x0D, CR2, is a CR), 0x1B 0x1B (SS2, reserved for a
 * further table) as one space, and a 0x1B at the very end (its character cut off) as a space too. */
int gsm7_decode(const uint8_t *septets, size_t n, char *out, size_t out_max);
/* UTF-8 -> UTF-16BE (for Kannel coding=2). Returns bytes written or -EINVAL/-ENOSPC. */
int gsm7_to_ucs2be(const char *utf8, size_t len, uint8_t *out, size_t out_max);
/* Truncate UTF-8 text in place to the longest prefix (at a character boundary) that fits the budgets; returns new length. Used when a dynamic value must be shortened.
 * A prefix is measured on its own, so cutting off the only non-GSM-7 character brings the septet budget back.
 * Invalid UTF-8 ends the text: the result is never longer than the valid prefix. When the text gets shorter a
 * NUL is written at the new end. */
size_t gsm7_truncate(char *utf8, size_t len, unsigned septet_budget, unsigned ucs2_budget);
/* The longest prefix, in bytes and at a character boundary, of a text of GSM-7 characters that takes at most
 * septets septets; 0 when any character of the whole text is outside GSM-7 or a control character (bad UTF-8 too).
 * For a value a screen shows cut (a name): one character outside GSM-7 would turn the whole screen into UCS-2,
 * a control character would break its lines. */
size_t gsm7_prefix(const char *utf8, size_t len, unsigned septets);
