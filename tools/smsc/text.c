/* Text of a short message: what Kannel sends (data_coding 0 = unpacked GSM-7, 8 = UCS-2 BE, 1 and 3 =
 * Latin-1) into UTF-8 for display and matching, and UTF-8 back into octets for a deliver_sm. GSM-7 comes
 * from the daemon's own table (src/base/gsm7.c), so the simulator and spazad agree on every character. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "gsm7.h"
#include "smsc.h"

static size_t utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static char *hex_string(const uint8_t *p, size_t n)
{
	char *s = xrealloc(NULL, 2 * n + 1);

	for (size_t i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02x", p[i]);
	s[2 * n] = '\0';
	return s;
}

/* Decode a short message for display and matching. Returns a malloc'd NUL-terminated UTF-8 string;
 * binary codings come back as hex. */
char *decode_text(unsigned dc, const uint8_t *p, size_t n)
{
	char *out = xrealloc(NULL, 4 * n + 1);
	size_t o = 0;

	if ((dc & 0xF0) == 0xF0)	/* message class group: bit 2 says 8-bit data, else GSM-7 */
		dc = (dc & 0x04) ? 4 : 0;
	switch (dc) {
	case 0:
		if (gsm7_decode(p, n, out, 4 * n + 1) >= 0)
			return out;
		/* not GSM-7 after all (an octet > 0x7F): show it as Latin-1 */
		/* fall through */
	case 1:
	case 3:
		for (size_t i = 0; i < n; i++)
			o += utf8_put(out + o, p[i]);
		out[o] = '\0';
		return out;
	case 8:
		for (size_t i = 0; i + 1 < n; i += 2) {
			uint32_t u = (uint32_t)p[i] << 8 | p[i + 1];

			if (u >= 0xD800 && u < 0xDC00 && i + 3 < n) {
				uint32_t lo = (uint32_t)p[i + 2] << 8 | p[i + 3];

				if (lo >= 0xDC00 && lo < 0xE000) {
					u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
					i += 2;
				}
			}
			o += utf8_put(out + o, u);
		}
		out[o] = '\0';
		return out;
	default:
		free(out);
		return hex_string(p, n);
	}
}

/* UTF-8 text into a short message: GSM-7 (data_coding 0) when every character has a septet, else
 * UCS-2 (data_coding 8), or UCS-2 when force_ucs2. Returns the length or -1 when it does not fit. */
int encode_text(const char *text, bool force_ucs2, uint8_t *out, uint8_t *dc)
{
	int n = -1;

	if (!force_ucs2)
		n = gsm7_encode(text, strlen(text), out, SM_MAX);
	if (n >= 0) {
		*dc = 0;
		return n;
	}
	n = gsm7_to_ucs2be(text, strlen(text), out, SM_MAX);
	*dc = 8;
	return n < 0 ? -1 : n;
}
