/* UTF-8 <-> GSM 7-bit default alphabet: measuring, encoding, decoding, UCS-2 fallback, truncation.
 * Both directions are expanded from the one list in gsm7.def. Measuring runs on every screen render, so a
 * character costs one UTF-8 decode step and one array load (or, for the few characters above U+00FF, a
 * compiled switch). */
#include <errno.h>
#include <limits.h>
#include "gsm7.h"

/* The escape septet, taken from the table rather than written again here. */
enum {
#define X(septet, cp)
#define XE(septet, cp)
#define XESC(septet) GSM7_ESC = (septet),
#include "gsm7.def"
#undef X
#undef XE
#undef XESC
};

/* Encode direction: 0 for "not in GSM-7", otherwise a flag saying which table, ORed with the septet. */
enum {
	GSM7_ENC_NONE = 0,
	GSM7_ENC_BASE = 0x100,
	GSM7_ENC_EXT = 0x200,
	GSM7_ENC_SEPTET = 0x7F,
};

/* Code points below 256, indexed directly. C cannot leave an entry out of an initializer, so the entries
 * at U+0100 and above all land on the spare slot [256], which is never read (gsm7_lookup() answers them);
 * that is why overriding an initializer is allowed here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
static const uint16_t gsm7_enc_lo[257] = {
#define X(septet, cp) [(cp) < 256 ? (cp) : 256] = GSM7_ENC_BASE | (septet),
#define XE(septet, cp) [(cp) < 256 ? (cp) : 256] = GSM7_ENC_EXT | (septet),
#define XESC(septet)
#include "gsm7.def"
#undef X
#undef XE
#undef XESC
};
#pragma GCC diagnostic pop

/* Key of an entry in gsm7_lookup()'s switch. The switch lists every entry, so that a code point listed twice
 * in gsm7.def fails to compile (duplicate case); the entries below 256 belong to gsm7_enc_lo and are parked
 * above U+10FFFF, where no code point reaches. */
#define GSM7_HIGH_KEY(cp) ((cp) < 256 ? (cp) + 0x110000u : (cp))

static uint16_t gsm7_lookup(uint32_t cp)
{
	if (cp < 256)
		return gsm7_enc_lo[cp];
	switch (cp) {
#define X(septet, cp_) case GSM7_HIGH_KEY(cp_): return GSM7_ENC_BASE | (septet);
#define XE(septet, cp_) case GSM7_HIGH_KEY(cp_): return GSM7_ENC_EXT | (septet);
#define XESC(septet)
#include "gsm7.def"
#undef X
#undef XE
#undef XESC
	default:
		return GSM7_ENC_NONE;
	}
}

/* Decode direction. 0 marks "no character" (the escape, undefined extension codes): U+0000 is in neither
 * table, and every code point in them is in the BMP. */
static const uint16_t gsm7_dec_base[128] = {
#define X(septet, cp) [septet] = (cp),
#define XE(septet, cp)
#define XESC(septet)
#include "gsm7.def"
#undef X
#undef XE
#undef XESC
};

static const uint16_t gsm7_dec_ext[128] = {
#define X(septet, cp)
#define XE(septet, cp) [septet] = (cp),
#define XESC(septet)
#include "gsm7.def"
#undef X
#undef XE
#undef XESC
};

/* Reads the code point at s[*pos] and advances *pos. Accepts exactly the well-formed sequences of Unicode
 * table 3-7: checking the first continuation byte's range per lead byte is what rejects overlong forms
 * (C0, C1, E0 80..9F, F0 80..8F), UTF-16 surrogates (ED A0..BF) and code points above U+10FFFF (F4 90..,
 * F5..FF), so no decoded value needs checking afterwards. */
static int gsm7_utf8_next(const uint8_t *s, size_t len, size_t *pos, uint32_t *cp)
{
	size_t i = *pos;
	uint8_t b = s[i];
	uint8_t lo = 0x80, hi = 0xBF;
	unsigned ncont, k;
	uint32_t c;

	if (b < 0x80) {
		*cp = b;
		*pos = i + 1;
		return 0;
	}
	if (b >= 0xC2 && b <= 0xDF) {
		ncont = 1;
		c = b & 0x1F;
	} else if (b >= 0xE0 && b <= 0xEF) {
		ncont = 2;
		c = b & 0x0F;
		if (b == 0xE0)
			lo = 0xA0;
		else if (b == 0xED)
			hi = 0x9F;
	} else if (b >= 0xF0 && b <= 0xF4) {
		ncont = 3;
		c = b & 0x07;
		if (b == 0xF0)
			lo = 0x90;
		else if (b == 0xF4)
			hi = 0x8F;
	} else {
		return -EINVAL;
	}
	if (len - i - 1 < ncont)
		return -EINVAL;
	for (k = 1; k <= ncont; k++) {
		uint8_t t = s[i + k];
		if (t < lo || t > hi)
			return -EINVAL;
		c = (c << 6) | (t & 0x3F);
		lo = 0x80;
		hi = 0xBF;
	}
	*cp = c;
	*pos = i + 1 + ncont;
	return 0;
}

int gsm7_measure(const char *utf8, size_t len, struct gsm7_measure *m)
{
	const uint8_t *s = (const uint8_t *)utf8;
	struct gsm7_measure r = { .coding = GSM7_CODING_GSM7 };
	size_t pos = 0;

	/* A character costs at most 2 septets per byte (a 1-byte ^ is an escape pair), so this bound keeps
	 * every count from wrapping. */
	if (len > UINT_MAX / 2)
		return -EOVERFLOW;
	while (pos < len) {
		uint32_t cp;
		uint16_t code;
		int rc = gsm7_utf8_next(s, len, &pos, &cp);
		if (rc < 0)
			return rc;
		code = gsm7_lookup(cp);
		if (code == GSM7_ENC_NONE)
			r.coding = GSM7_CODING_UCS2;
		else
			r.septets += (code & GSM7_ENC_EXT) ? 2 : 1;
		r.ucs2_units += cp >= 0x10000 ? 2 : 1;
		r.chars++;
	}
	*m = r;
	return 0;
}

bool gsm7_fits(const char *utf8, size_t len, unsigned septet_budget, unsigned ucs2_budget)
{
	struct gsm7_measure m;

	if (gsm7_measure(utf8, len, &m) < 0)
		return false;
	if (m.coding == GSM7_CODING_GSM7)
		return m.septets <= septet_budget;
	return m.ucs2_units <= ucs2_budget;
}

int gsm7_encode(const char *utf8, size_t len, uint8_t *out, size_t out_max)
{
	const uint8_t *s = (const uint8_t *)utf8;
	size_t cap = out_max > INT_MAX ? INT_MAX : out_max;
	size_t pos = 0, n = 0;

	while (pos < len) {
		uint32_t cp;
		uint16_t code;
		int rc = gsm7_utf8_next(s, len, &pos, &cp);
		if (rc < 0)
			return rc;
		code = gsm7_lookup(cp);
		if (code == GSM7_ENC_NONE)
			return -EINVAL;
		if (code & GSM7_ENC_EXT) {
			if (cap - n < 2)
				return -ENOSPC;
			out[n++] = GSM7_ESC;
		} else if (cap - n < 1) {
			return -ENOSPC;
		}
		out[n++] = (uint8_t)(code & GSM7_ENC_SEPTET);
	}
	return (int)n;
}

/* Appends a BMP code point (all that the tables hold) as UTF-8, keeping a byte free for the NUL. */
static bool gsm7_put_utf8(char *out, size_t cap, size_t *pos, uint32_t cp)
{
	size_t p = *pos;
	size_t need = cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;

	if (cap - p <= need)
		return false;
	if (need == 1) {
		out[p++] = (char)cp;
	} else if (need == 2) {
		out[p++] = (char)(0xC0 | (cp >> 6));
		out[p++] = (char)(0x80 | (cp & 0x3F));
	} else {
		out[p++] = (char)(0xE0 | (cp >> 12));
		out[p++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[p++] = (char)(0x80 | (cp & 0x3F));
	}
	*pos = p;
	return true;
}

/* The code point shown for the escape sequence 0x1B + ext; see gsm7.h for why these fallbacks. */
static uint32_t gsm7_decode_escaped(uint8_t ext)
{
	if (ext == GSM7_ESC)
		return ' ';
	if (gsm7_dec_ext[ext])
		return gsm7_dec_ext[ext];
	return gsm7_dec_base[ext];
}

int gsm7_decode(const uint8_t *septets, size_t n, char *out, size_t out_max)
{
	size_t cap = out_max > INT_MAX ? INT_MAX : out_max;
	size_t i, pos = 0;
	int rc = 0;

	if (cap == 0)
		return -ENOSPC;
	for (i = 0; i < n; i++) {
		uint32_t cp;
		if (septets[i] > 0x7F) {
			rc = -EINVAL;
			break;
		}
		if (septets[i] != GSM7_ESC) {
			cp = gsm7_dec_base[septets[i]];
		} else if (i + 1 == n) {
			cp = ' ';
		} else if (septets[i + 1] > 0x7F) {
			rc = -EINVAL;
			break;
		} else {
			cp = gsm7_decode_escaped(septets[++i]);
		}
		if (!gsm7_put_utf8(out, cap, &pos, cp)) {
			rc = -ENOSPC;
			break;
		}
	}
	out[pos] = '\0';
	return rc < 0 ? rc : (int)pos;
}

int gsm7_to_ucs2be(const char *utf8, size_t len, uint8_t *out, size_t out_max)
{
	const uint8_t *s = (const uint8_t *)utf8;
	size_t cap = out_max > INT_MAX ? INT_MAX : out_max;
	size_t pos = 0, n = 0;

	while (pos < len) {
		uint32_t cp;
		int rc = gsm7_utf8_next(s, len, &pos, &cp);
		if (rc < 0)
			return rc;
		if (cp >= 0x10000) {
			/* Outside the BMP: a surrogate pair, which is why a non-BMP character costs 2 units. */
			uint32_t v = cp - 0x10000;
			uint32_t high = 0xD800 | (v >> 10), low = 0xDC00 | (v & 0x3FF);
			if (cap - n < 4)
				return -ENOSPC;
			out[n++] = (uint8_t)(high >> 8);
			out[n++] = (uint8_t)(high & 0xFF);
			out[n++] = (uint8_t)(low >> 8);
			out[n++] = (uint8_t)(low & 0xFF);
		} else {
			if (cap - n < 2)
				return -ENOSPC;
			out[n++] = (uint8_t)(cp >> 8);
			out[n++] = (uint8_t)(cp & 0xFF);
		}
	}
	return (int)n;
}

/* Fitting is not monotone in the prefix length: a prefix ending just before the first non-GSM-7 character
 * is judged by the septet budget, every longer one by the (usually smaller) UCS-2 budget. So the scan remembers the
 * last prefix that fitted and stops only once no longer prefix can: the UCS-2 budget is exceeded and the
 * septet budget no longer applies (a non-GSM-7 character was seen, or the septets are over too). The
 * counters are 64-bit because they may pass a budget of UINT_MAX by one character before the scan stops. */
size_t gsm7_truncate(char *utf8, size_t len, unsigned septet_budget, unsigned ucs2_budget)
{
	const uint8_t *s = (const uint8_t *)utf8;
	uint64_t septets = 0, units = 0;
	bool all_gsm7 = true;
	size_t pos = 0, best = 0;

	while (pos < len) {
		uint32_t cp;
		uint16_t code;
		if (gsm7_utf8_next(s, len, &pos, &cp) < 0)
			break;
		code = gsm7_lookup(cp);
		if (code == GSM7_ENC_NONE)
			all_gsm7 = false;
		else
			septets += (code & GSM7_ENC_EXT) ? 2 : 1;
		units += cp >= 0x10000 ? 2 : 1;
		if (all_gsm7 ? septets <= septet_budget : units <= ucs2_budget)
			best = pos;
		else if (units > ucs2_budget && (!all_gsm7 || septets > septet_budget))
			break;
	}
	if (best < len)
		utf8[best] = '\0';
	return best;
}

size_t gsm7_prefix(const char *utf8, size_t len, unsigned septets)
{
	const uint8_t *s = (const uint8_t *)utf8;
	size_t pos = 0, best = 0;
	uint64_t used = 0;

	while (pos < len) {
		uint32_t cp;
		uint16_t code;
		if (gsm7_utf8_next(s, len, &pos, &cp) < 0)
			return 0;
		code = gsm7_lookup(cp);
		if (code == GSM7_ENC_NONE || cp < 0x20 || cp == 0x7f)
			return 0;
		used += (code & GSM7_ENC_EXT) ? 2 : 1;
		if (used <= septets)
			best = pos;
	}
	return best;
}
