/* Payment slip images (barcode.c, draw.c): the bars carry the reference (Interleaved 2 of 5
 * decoded back here from the bars; Code 128 framed by its start and stop patterns), the QR
 * payload's HMAC verifies and every forgery fails, and the PNG, SVG and PDF files are well
 * formed: the PNG is inflated here by a decoder of our own and the barcode read back from its
 * pixels, the PDF's cross-reference table points at its objects. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <talloc.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include "barcode.h"
#include "cfg.h"
#include "draw.h"
#include "easypay.h"
#include "logging.h"
#include "secrets.h"
#include "testlib.h"

/* receiver 1234, order 1042 */
#define REF "912340000010428"
#define GROUPED "9123 4000 0010 428"
#define QR_KEY "3f1c2a9b8d7e6f5041322314a5b6c7d8e9fa0b1c2d3e4f506172839405a6b7c8"
#define OTHER_KEY "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static char dir[] = "/tmp/barcode_test.XXXXXX";

static void load_secrets(const char *text)
{
	char path[256], err[256];
	snprintf(path, sizeof(path), "%s/secrets", dir);
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		printf("FAIL: cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(fd);
	if (secrets_load(path, err, sizeof(err)) < 0) {
		printf("FAIL: secrets_load: %s\n", err);
		exit(1);
	}
}

/* ---- Interleaved 2 of 5, decoded from the bars: narrow = 1 module, wide = more */

static const char *const itf_digits[10] = { "NNWWN", "WNNNW", "NWNNW", "WWNNN", "NNWNW",
					     "WNWNN", "NWWNN", "NNNWW", "WNNWN", "NWNWN" };

/* The widths of bars and spaces, alternating from the first bar. */
static unsigned elements(const struct barcode_bars *b, unsigned *w, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < b->n && n + 2 <= max; i++) {
		w[n++] = b->bar[i].w;
		if (i + 1 < b->n)
			w[n++] = b->bar[i + 1].x - b->bar[i].x - b->bar[i].w;
	}
	return n;
}

static int itf_digit(const unsigned *w, unsigned stride)
{
	char pat[6];
	for (int i = 0; i < 5; i++)
		pat[i] = w[i * stride] > 1 ? 'W' : 'N';
	pat[5] = '\0';
	for (int d = 0; d < 10; d++)
		if (!strcmp(pat, itf_digits[d]))
			return d;
	return -1;
}

/* The digits of an ITF symbol, or "" when it does not decode. */
static void itf_decode(const unsigned *w, unsigned n, char *out)
{
	unsigned o = 0;
	*out = '\0';
	if (n < 7 || w[0] != 1 || w[1] != 1 || w[2] != 1 || w[3] != 1)
		return;
	if (w[n - 3] <= 1 || w[n - 2] != 1 || w[n - 1] != 1)	/* stop: wide bar, narrow space, narrow bar */
		return;
	for (unsigned i = 4; i + 10 <= n - 3; i += 10) {
		int a = itf_digit(w + i, 2), b = itf_digit(w + i + 1, 2);
		if (a < 0 || b < 0) {
			*out = '\0';
			return;
		}
		out[o++] = '0' + a;
		out[o++] = '0' + b;
	}
	out[o] = '\0';
	if ((n - 7) % 10)
		*out = '\0';
}

static void test_symbols(void *ctx)
{
	struct barcode_bars *b;
	unsigned w[512], n;
	char digits[64];

	T_CHECK(easypay_ref_check(REF), "the test reference " REF " has a right Luhn check digit", "it does not");
	int rc = barcode_bars(ctx, BARCODE_SYM_ITF, REF, &b);
	T_EQ_INT(rc, 0, "ITF symbol of " REF " rendered");
	if (rc == 0) {
		n = elements(b, w, 512);
		itf_decode(w, n, digits);
		T_EQ_STR(digits, "0" REF, "ITF bars decode to 0 + the reference (an even number of digits)");
		T_EQ_INT(b->modules, 4 + 8 * 18 + 5, "ITF: start, 8 digit pairs at 18 modules, stop");
	}
	rc = barcode_bars(ctx, BARCODE_SYM_CODE128, REF, &b);
	T_EQ_INT(rc, 0, "Code 128 symbol of " REF " rendered");
	if (rc == 0) {
		n = elements(b, w, 512);
		char start[7], stop[8];
		for (int i = 0; i < 6; i++)
			start[i] = '0' + w[i];
		start[6] = '\0';
		for (int i = 0; i < 7; i++)
			stop[i] = '0' + w[n - 7 + i];
		stop[7] = '\0';
		T_CHECK(!strcmp(start, "211232") || !strcmp(start, "211214"), "Code 128 starts with Start C or Start B",
			"got %s", start);
		T_EQ_STR(stop, "2331112", "Code 128 ends with the stop pattern");
		T_EQ_INT((b->modules - 13) % 11, 0, "Code 128: whole 11-module characters and the 13-module stop");
		/* start, 7 digit pairs in code C, a shift and the odd digit, the check character */
		T_EQ_INT((b->modules - 13) / 11, 11, "Code 128 of 15 digits is 11 characters before the stop");
	}
	T_EQ_INT(barcode_bars(ctx, BARCODE_SYM_ITF, "912340000010429", &b), -EINVAL,
		 "a reference with a wrong check digit is not drawn");
	T_EQ_INT(barcode_bars(ctx, BARCODE_SYM_CODE128, "9123 4000 0010 428", &b), -EINVAL,
		 "a grouped reference must be normalised first");
}

/* ---- the QR payload */

static void test_qr(void)
{
	char payload[BARCODE_QR_MAX], tampered[BARCODE_QR_MAX];
	struct barcode_qr_info info;

	load_secrets("slip-qr = " QR_KEY "\n");
	int rc = barcode_qr_payload(payload, sizeof(payload), REF, 1500, "2030-01-08");
	T_EQ_INT(rc, 0, "QR payload built");
	T_EQ_INT(strncmp(payload, "SPAZA1:" REF ":1500:20300108:", 30), 0, "the payload carries reference, amount, expiry");

	/* the MAC as the documentation defines it, computed here with OpenSSL directly */
	uint8_t key[32], mac[32];
	unsigned maclen = 0;
	for (int i = 0; i < 32; i++)
		sscanf(QR_KEY + 2 * i, "%2hhx", &key[i]);
	const char *msg = "SPAZA1:" REF ":1500:20300108";
	HMAC(EVP_sha256(), key, sizeof(key), (const uint8_t *)msg, strlen(msg), mac, &maclen);
	char want[2 * BARCODE_QR_MAC_BYTES + 1];
	for (int i = 0; i < BARCODE_QR_MAC_BYTES; i++)
		sprintf(want + 2 * i, "%02X", mac[i]);
	T_EQ_STR(payload + strlen(msg) + 1, want, "the MAC is HMAC-SHA256(slip-qr, the fields) cut to 16 bytes, hex");
	T_CHECK(strspn(payload, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:") == strlen(payload),
		"the payload uses QR alphanumeric characters only", "got %s", payload);

	rc = barcode_qr_verify(payload, &info);
	T_EQ_INT(rc, 0, "a genuine payload verifies");
	T_EQ_STR(info.ref, REF, "... naming the reference");
	T_EQ_INT(info.amount_cents, 1500, "... the amount");
	T_EQ_STR(info.expires, "2030-01-08", "... and the expiry");

	/* forgeries: every field changed once, the MAC changed, the MAC of another key */
	snprintf(tampered, sizeof(tampered), "%s", payload);
	memcpy(tampered + 23, "9500", 4);
	T_EQ_INT(barcode_qr_verify(tampered, &info), -EBADMSG, "a forged amount (R95 for R15) is detected");
	snprintf(tampered, sizeof(tampered), "%s", payload);
	memcpy(tampered + 7, "912340000010436", 15);
	T_EQ_INT(barcode_qr_verify(tampered, &info), -EBADMSG, "another (valid) reference under the old MAC is detected");
	snprintf(tampered, sizeof(tampered), "%s", payload);
	tampered[30] = tampered[30] == '9' ? '8' : '9';
	T_EQ_INT(barcode_qr_verify(tampered, &info), -EBADMSG, "a later expiry is detected");
	snprintf(tampered, sizeof(tampered), "%s", payload);
	char *last = tampered + strlen(tampered) - 1;
	*last = *last == 'A' ? 'B' : 'A';
	T_EQ_INT(barcode_qr_verify(tampered, &info), -EBADMSG, "a changed MAC is detected");
	snprintf(tampered, sizeof(tampered), "%s", payload);
	for (char *p = strrchr(tampered, ':') + 1; *p; p++)
		*p = *p >= 'A' ? *p - 'A' + 'a' : *p;
	T_EQ_INT(barcode_qr_verify(tampered, &info), 0, "the MAC in lower case hex still verifies");

	load_secrets("slip-qr = " OTHER_KEY "\n");
	T_EQ_INT(barcode_qr_verify(payload, &info), -EBADMSG, "a payload made under another key is refused");
	char forged[BARCODE_QR_MAX];
	barcode_qr_payload(forged, sizeof(forged), REF, 1500, "2030-01-08");
	load_secrets("slip-qr = " QR_KEY "\n");
	T_EQ_INT(barcode_qr_verify(forged, &info), -EBADMSG, "... both ways");

	static const char *const malformed[] = {
		"", "hello", "SPAZA1:", "spaza1:" REF ":1500:20300108:00112233445566778899AABBCCDDEEFF",
		"SPAZA1:" REF ":1500:20300108", "SPAZA1:" REF ":01500:20300108:00112233445566778899AABBCCDDEEFF",
		"SPAZA1:91234000001042:1500:20300108:00112233445566778899AABBCCDDEEFF",
		"SPAZA1:" REF ":1500:2030010:00112233445566778899AABBCCDDEEFF",
		"SPAZA1:" REF ":1500:20300108:00112233445566778899AABBCCDDEEF",
		"SPAZA1:" REF ":1500:20300108:00112233445566778899AABBCCDDEEFG",
		"SPAZA1:" REF ":1500:20300108:00112233445566778899AABBCCDDEEFF0",
	};
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		char what[160];
		snprintf(what, sizeof(what), "malformed payload \"%.60s\" refused as not a slip", malformed[i]);
		T_EQ_INT(barcode_qr_verify(malformed[i], &info), -EINVAL, what);
	}
	T_EQ_INT(barcode_qr_payload(payload, sizeof(payload), "912340000010429", 1500, "2030-01-08"), -EINVAL,
		 "no payload for a reference with a wrong check digit");
	T_EQ_INT(barcode_qr_payload(payload, sizeof(payload), REF, 0, "2030-01-08"), -EINVAL, "no payload for R0");
	T_EQ_INT(barcode_qr_payload(payload, 40, REF, 1500, "2030-01-08"), -ENOSPC, "a short buffer is -ENOSPC");
}

/* ---- reading the files back */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

struct inflate {
	const uint8_t *in;
	size_t len, pos;	/* in bits */
	uint8_t *out;
	size_t out_len, out_cap;
	bool bad;
};

static unsigned in_bit(struct inflate *z)
{
	if (z->pos >= z->len * 8) {
		z->bad = true;
		return 0;
	}
	unsigned b = z->in[z->pos / 8] >> (z->pos % 8) & 1;
	z->pos++;
	return b;
}

static unsigned in_bits(struct inflate *z, unsigned n)	/* least significant first */
{
	unsigned v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= in_bit(z) << i;
	return v;
}

static void out_byte(struct inflate *z, uint8_t c)
{
	if (z->out_len == z->out_cap) {
		z->bad = true;
		return;
	}
	z->out[z->out_len++] = c;
}

/* A symbol of the fixed literal/length code (RFC 1951 3.2.6). */
static unsigned fixed_symbol(struct inflate *z)
{
	unsigned code = 0;
	for (int i = 0; i < 7; i++)
		code = code << 1 | in_bit(z);
	if (code <= 0x17)
		return 256 + code;
	code = code << 1 | in_bit(z);
	if (code >= 0x30 && code <= 0xbf)
		return code - 0x30;
	if (code >= 0xc0 && code <= 0xc7)
		return 280 + code - 0xc0;
	code = code << 1 | in_bit(z);
	return 144 + code - 0x190;
}

/* A zlib stream of stored and fixed-Huffman blocks (all our encoder writes). */
static bool inflate_zlib(struct inflate *z)
{
	static const uint16_t lbase[29] = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67,
					    83, 99, 115, 131, 163, 195, 227, 258 };
	static const uint8_t lext[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5,
					  5, 5, 0 };
	static const uint16_t dbase[30] = { 1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
					    1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577 };
	static const uint8_t dext[30] = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11,
					  11, 12, 12, 13, 13 };
	if (z->len < 6 || (z->in[0] & 0x0f) != 8 || ((z->in[0] << 8) | z->in[1]) % 31)
		return false;
	z->pos = 16;
	unsigned final;
	do {
		final = in_bit(z);
		unsigned type = in_bits(z, 2);
		if (type == 0) {
			z->pos = (z->pos + 7) / 8 * 8;
			unsigned len = in_bits(z, 16), nlen = in_bits(z, 16);
			if ((len ^ 0xffff) != nlen)
				return false;
			for (unsigned i = 0; i < len && !z->bad; i++)
				out_byte(z, in_bits(z, 8));
		} else if (type == 1) {
			for (;;) {
				unsigned sym = fixed_symbol(z);
				if (z->bad || sym > 285)
					return false;
				if (sym < 256) {
					out_byte(z, sym);
					continue;
				}
				if (sym == 256)
					break;
				unsigned len = lbase[sym - 257] + in_bits(z, lext[sym - 257]);
				unsigned dcode = 0;
				for (int i = 0; i < 5; i++)
					dcode = dcode << 1 | in_bit(z);
				if (dcode >= 30)
					return false;
				unsigned dist = dbase[dcode] + in_bits(z, dext[dcode]);
				if (dist > z->out_len)
					return false;
				for (unsigned i = 0; i < len; i++)
					out_byte(z, z->out[z->out_len - dist]);
			}
		} else {
			return false;
		}
	} while (!final && !z->bad);
	size_t end = (z->pos + 7) / 8;
	if (z->bad || end + 4 != z->len)
		return false;
	return be32(z->in + end) == draw_adler32(1, z->out, z->out_len);
}

/* Check a PNG from the signature to IEND; on success the pixels (1 = black) in *ink. */
static void check_png(void *ctx, const uint8_t *png, size_t len, const struct barcode_bars *code128)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	size_t pos = 8;
	bool crc_ok = true, ihdr = false, iend = false;
	uint32_t w = 0, h = 0;
	uint8_t *idat = NULL;
	size_t idat_len = 0;

	T_CHECK(len > 8 && !memcmp(png, sig, 8), "PNG: signature", "got %zu bytes", len);
	while (pos + 12 <= len && !iend) {
		uint32_t n = be32(png + pos);
		if (pos + 12 + n > len)
			break;
		const uint8_t *type = png + pos + 4, *data = png + pos + 8;
		if (draw_crc32(0, type, n + 4) != be32(data + n))
			crc_ok = false;
		if (!memcmp(type, "IHDR", 4) && n == 13) {
			ihdr = pos == 8;
			w = be32(data);
			h = be32(data + 4);
			T_CHECK(data[8] == 1 && data[9] == 0 && data[12] == 0, "PNG: 1-bit grey, not interlaced",
				"depth %u type %u interlace %u", data[8], data[9], data[12]);
		} else if (!memcmp(type, "IDAT", 4)) {
			idat = talloc_realloc_size(ctx, idat, idat_len + n);
			memcpy(idat + idat_len, data, n);
			idat_len += n;
		} else if (!memcmp(type, "IEND", 4)) {
			iend = pos + 12 == len;
		}
		pos += 12 + n;
	}
	T_CHECK(ihdr, "PNG: IHDR first", "missing");
	T_CHECK(crc_ok, "PNG: every chunk's CRC-32 is right", "a CRC is wrong");
	T_CHECK(iend, "PNG: ends with IEND", "it does not");
	T_EQ_INT(w, 80 * DRAW_PNG_PX_PER_MM, "PNG: 80 mm wide at 8 dots per mm");
	T_CHECK(h > 100 * DRAW_PNG_PX_PER_MM && h < 160 * DRAW_PNG_PX_PER_MM, "PNG: a receipt's height",
		"got %u px", h);

	size_t stride = (w + 7) / 8;
	struct inflate z = { .in = idat, .len = idat_len, .out_cap = (stride + 1) * h };
	z.out = talloc_size(ctx, z.out_cap + 1);
	bool ok = idat && inflate_zlib(&z);
	T_CHECK(ok && z.out_len == (stride + 1) * h, "PNG: IDAT inflates (Adler-32 right) to every row",
		"inflate %s, %zu bytes of %zu", ok ? "ok" : "failed", z.out_len, (stride + 1) * h);
	T_CHECK(len < 20000, "PNG: compressed to under 20 KB", "got %zu bytes", len);
	if (!ok || z.out_len != (stride + 1) * h)
		return;

	/* undo the row filters (only None and Up are expected), then read the Code 128 bars
	 * back from the row through their middle: 41 mm + 7 mm from the top */
	uint8_t *prev = talloc_zero_size(ctx, stride);
	uint8_t *img = talloc_size(ctx, stride * h);
	bool filters_ok = true;
	for (uint32_t y = 0; y < h; y++) {
		const uint8_t *row = z.out + y * (stride + 1);
		for (size_t i = 0; i < stride; i++)
			img[y * stride + i] = row[0] == 2 ? row[1 + i] + prev[i] : row[1 + i];
		if (row[0] > 2)
			filters_ok = false;
		memcpy(prev, img + y * stride, stride);
	}
	T_CHECK(filters_ok, "PNG: rows filtered None or Up", "other filter types");
	uint32_t y = 48 * DRAW_PNG_PX_PER_MM;
	char got[512] = "", want[512] = "";
	unsigned run = 0, o = 0;
	int first = -1;
	for (uint32_t x = 0; x < w && o + 4 < sizeof(got); x++) {
		bool black = !(img[y * stride + x / 8] & (0x80 >> (x % 8)));
		if (black && first < 0)
			first = x;
		if (first < 0)
			continue;
		bool prev_black = x > 0 && !(img[y * stride + (x - 1) / 8] & (0x80 >> ((x - 1) % 8)));
		if (x > (uint32_t)first && black != prev_black) {
			o += snprintf(got + o, sizeof(got) - o, "%u,", run);
			run = 0;
		}
		run++;
	}
	o = 0;
	for (unsigned i = 0; i < code128->n && o + 8 < sizeof(want); i++) {
		o += snprintf(want + o, sizeof(want) - o, "%u,", code128->bar[i].w * 3);
		if (i + 1 < code128->n)
			o += snprintf(want + o, sizeof(want) - o, "%u,",
				      (code128->bar[i + 1].x - code128->bar[i].x - code128->bar[i].w) * 3);
	}
	T_EQ_STR(got, want, "PNG: the Code 128 bars read back from the pixels at 3 px per module");
}

static void check_svg(const char *svg, size_t len)
{
	T_CHECK(len > 100 && !strncmp(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44), "SVG: XML declaration, svg root",
		"got %.60s", svg);
	T_CHECK(len > 7 && !strcmp(svg + len - 7, "</svg>\n"), "SVG: ends with </svg>", "it does not");
	T_CHECK(strstr(svg, "width=\"80mm\"") != NULL, "SVG: 80 mm wide", "no width=\"80mm\"");
	T_CHECK(strstr(svg, ">" GROUPED "</text>") != NULL, "SVG: the grouped number", "not found");
	T_CHECK(strstr(svg, ">Order #1042</text>") && strstr(svg, ">R15.00</text>") && strstr(svg, ">Pay by 2030-01-08</text>"),
		"SVG: order, amount, expiry", "not all found");
	T_CHECK(strstr(svg, ">Jo &amp; Mo&quot;s &lt;Spaza&gt;</text>") != NULL, "SVG: the shop name, escaped",
		"not found");
	unsigned open = 0, close = 0;
	for (const char *p = svg; (p = strstr(p, "<text")); p++)
		open++;
	for (const char *p = svg; (p = strstr(p, "</text>")); p++)
		close++;
	T_CHECK(open == close && open >= 6, "SVG: every text element closed", "%u opened, %u closed", open, close);
	size_t lt = 0, gt = 0;
	for (size_t i = 0; i < len; i++)
		lt += svg[i] == '<', gt += svg[i] == '>';
	T_CHECK(lt == gt, "SVG: angle brackets balance (text is escaped)", "%zu < and %zu >", lt, gt);
}

static void check_pdf(const char *pdf, size_t len)
{
	T_CHECK(len > 100 && !strncmp(pdf, "%PDF-1.4\n", 9), "PDF: header", "got %.10s", pdf);
	T_CHECK(len > 6 && !strcmp(pdf + len - 6, "%%EOF\n"), "PDF: ends with %%EOF", "it does not");
	const char *sx = strstr(pdf, "startxref\n");
	size_t xref = sx ? strtoul(sx + 10, NULL, 10) : 0;
	T_CHECK(sx && xref < len && !strncmp(pdf + xref, "xref\n0 7\n", 9), "PDF: startxref points at the xref table",
		"offset %zu", xref);
	if (!sx || xref >= len)
		return;
	bool offsets_ok = true;
	const char *e = pdf + xref + 9 + 20;	/* past the free entry */
	for (int i = 1; i <= 6; i++, e += 20) {
		char want[16];
		size_t off = strtoul(e, NULL, 10);
		snprintf(want, sizeof(want), "%d 0 obj\n", i);
		if (off >= len || strncmp(pdf + off, want, strlen(want)) || strncmp(e + 10, " 00000 n \n", 10))
			offsets_ok = false;
	}
	T_CHECK(offsets_ok, "PDF: every xref entry (20 bytes) points at its object", "some do not");
	const char *st = strstr(pdf, "/Length ");
	const char *body = st ? strstr(st, "stream\n") : NULL;
	size_t slen = st ? strtoul(st + 8, NULL, 10) : 0;
	T_CHECK(body && body + 7 + slen < pdf + len && !strncmp(body + 7 + slen, "endstream", 9),
		"PDF: the content stream is as long as /Length says", "it is not");
	T_CHECK(strstr(pdf, "/MediaBox [0 0 226.772 ") != NULL, "PDF: 80 mm (226.772 pt) wide", "no such MediaBox");
	T_CHECK(strstr(pdf, "(" GROUPED ") Tj") != NULL, "PDF: the grouped number", "not found");
	T_CHECK(strstr(pdf, "(Jo & Mo\"s <Spaza>) Tj") != NULL, "PDF: the shop name", "not found");
	T_CHECK(strstr(pdf, " re\n") != NULL, "PDF: the bars as rectangles", "none");
}

static void test_render(void *ctx)
{
	struct barcode_slip slip = { .shop = "Jo & Mo\"s <Spaza>", .ref = REF, .order_id = 1042,
				     .amount_cents = 1500, .expires = "2030-01-08" };
	struct barcode_bars *code128 = NULL;
	uint8_t *out;
	size_t len;

	load_secrets("slip-qr = " QR_KEY "\n");
	barcode_bars(ctx, BARCODE_SYM_CODE128, REF, &code128);
	int rc = barcode_slip_render(ctx, &slip, BARCODE_OUT_PNG, &out, &len);
	T_EQ_INT(rc, 0, "slip rendered as PNG");
	if (!rc && code128)
		check_png(ctx, out, len, code128);
	rc = barcode_slip_render(ctx, &slip, BARCODE_OUT_SVG, &out, &len);
	T_EQ_INT(rc, 0, "slip rendered as SVG");
	if (!rc)
		check_svg(talloc_strndup(ctx, (char *)out, len), len);
	rc = barcode_slip_render(ctx, &slip, BARCODE_OUT_PDF, &out, &len);
	T_EQ_INT(rc, 0, "slip rendered as PDF");
	if (!rc)
		check_pdf(talloc_strndup(ctx, (char *)out, len), len);

	slip.shop = "A shop with a name far too long for one line of a receipt";
	rc = barcode_slip_render(ctx, &slip, BARCODE_OUT_SVG, &out, &len);
	char *s = rc ? NULL : talloc_strndup(ctx, (char *)out, len);
	T_CHECK(s && strstr(s, ">A shop with a nam...</text>"), "a long shop name is cut to the width, ending in ...",
		"got %s", s ? "no such text" : "no SVG");

	slip.ref = "912340000010429";
	T_EQ_INT(barcode_slip_render(ctx, &slip, BARCODE_OUT_PNG, &out, &len), -EINVAL,
		 "a slip with a wrong check digit is refused");
	slip.ref = REF;
	slip.expires = "8 Jan 2030";
	T_EQ_INT(barcode_slip_render(ctx, &slip, BARCODE_OUT_PNG, &out, &len), -EINVAL, "a malformed expiry is refused");
	slip.expires = "2030-01-08";
	load_secrets("voucher-pin = " QR_KEY "\n");
	T_EQ_INT(barcode_slip_render(ctx, &slip, BARCODE_OUT_PDF, &out, &len), -ENOKEY,
		 "without a slip-qr key there is no slip (its QR could not be signed)");

	enum barcode_out f;
	T_CHECK(barcode_out_parse("pdf", &f) == 0 && f == BARCODE_OUT_PDF && barcode_out_parse("PNG", &f) == -EINVAL,
		"formats by their lower-case names", "parse failed");
	T_EQ_STR(barcode_out_ctype(BARCODE_OUT_SVG), "image/svg+xml", "SVG content type");
}

/* Key versions: a payload names the slip-qr version that signed it; a new one is signed with
 * the newest; an old one verifies within the grace period (cfg default, a week) and not after. */
static void test_qr_versions(void)
{
	char old[BARCODE_QR_MAX], fresh[BARCODE_QR_MAX], lines[256], when[32];
	struct barcode_qr_info info;
	time_t now = time(NULL), long_ago = now - 30 * 86400;

	load_secrets("slip-qr = " QR_KEY "\n");
	barcode_qr_payload(old, sizeof(old), REF, 1500, "2030-01-08");
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	snprintf(lines, sizeof(lines), "slip-qr = " QR_KEY "\nslip-qr@2 = " OTHER_KEY " since %s\n", when);
	load_secrets(lines);
	T_EQ_INT(barcode_qr_payload(fresh, sizeof(fresh), REF, 1500, "2030-01-08"), 0, "a payload after a rotation");
	T_EQ_INT(strncmp(fresh, "SPAZA2:" REF ":", 23), 0, "... names version 2");
	T_EQ_INT(barcode_qr_verify(fresh, &info), 0, "... and verifies");
	T_EQ_INT(info.key_version, 2, "... as version 2");
	T_EQ_INT(barcode_qr_verify(old, &info), 0, "a version 1 payload verifies within the grace period");
	T_EQ_INT(info.key_version, 1, "... as version 1");

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&long_ago));
	snprintf(lines, sizeof(lines), "slip-qr = " QR_KEY "\nslip-qr@2 = " OTHER_KEY " since %s\n", when);
	load_secrets(lines);
	T_EQ_INT(barcode_qr_verify(old, &info), -EKEYEXPIRED, "a version 1 payload is refused after the grace period");
	T_EQ_INT(barcode_qr_verify(fresh, &info), 0, "... a version 2 one still verifies");
	char forged[BARCODE_QR_MAX];
	snprintf(forged, sizeof(forged), "SPAZA2%s", old + 6);
	T_EQ_INT(barcode_qr_verify(forged, &info), -EBADMSG, "a version 1 MAC under version 2's name is a forgery");
	snprintf(forged, sizeof(forged), "SPAZA3%s", old + 6);
	T_EQ_INT(barcode_qr_verify(forged, &info), -ENOKEY, "a version the file does not have is refused");
}

int main(void)
{
	void *ctx = talloc_named_const(NULL, 0, "barcode_test");
	osmo_init_logging2(ctx, &spaza_log_info);
	log_set_log_level(osmo_stderr_target, LOGL_FATAL);
	cfg_init(ctx);
	if (!mkdtemp(dir)) {
		printf("FAIL: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_symbols(ctx);
	test_qr();
	test_qr_versions();
	test_render(ctx);
	secrets_clear();
	char path[256];
	snprintf(path, sizeof(path), "%s/secrets", dir);
	unlink(path);
	rmdir(dir);
	talloc_free(ctx);
	return T_DONE();
}
