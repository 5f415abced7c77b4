/* A page of rectangles and centred texts, written as SVG, PDF or PNG; see draw.h.
 *
 * The writers are small on purpose. The PDF is one page of hand-written objects using the
 * standard Courier faces (no fonts embedded). The PNG is 1 bit per pixel, compressed with a
 * minimal deflate of our own (fixed Huffman codes, runs as distance-1 matches, rows filtered
 * "Up"): barcode pages are runs of identical rows and bytes, so that takes a 600 KB raster to
 * a few KB without a zlib dependency. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include "draw.h"

#define DRAW_TEXT_MAX 128		/* code points in one text */
#define DRAW_PNG_MAX_PIXELS (16u << 20)
#define DRAW_MM_TO_PT (72.0 / 25.4)

struct draw_box {
	float x, y, w, h;
};

struct draw_line {
	float cx, y, size;
	bool bold;
	unsigned n;
	uint32_t cp[DRAW_TEXT_MAX];
};

struct draw_page {
	float w, h, margin;
	struct draw_box *rects;
	unsigned n_rects, cap_rects;
	struct draw_line *texts;
	unsigned n_texts, cap_texts;
};

struct draw_page *draw_page_new(void *ctx, float width_mm, float height_mm, float margin_mm)
{
	struct draw_page *p = talloc_zero(ctx, struct draw_page);
	p->w = width_mm;
	p->h = height_mm;
	p->margin = margin_mm;
	return p;
}

void draw_page_height(struct draw_page *p, float height_mm)
{
	p->h = height_mm;
}

void draw_rect(struct draw_page *p, float x, float y, float w, float h)
{
	if (w <= 0 || h <= 0)
		return;
	if (p->n_rects == p->cap_rects) {
		p->cap_rects = p->cap_rects ? 2 * p->cap_rects : 64;
		p->rects = talloc_realloc(p, p->rects, struct draw_box, p->cap_rects);
	}
	p->rects[p->n_rects++] = (struct draw_box){ x, y, w, h };
}

/* The next code point of s (advancing *i); '?' for a malformed sequence (one byte skipped)
 * or a control character. */
static uint32_t draw_utf8_next(const unsigned char *s, size_t *i)
{
	unsigned char c = s[*i];
	uint32_t cp;
	unsigned more;
	(*i)++;
	if (c < 0x80)
		return c < 0x20 || c == 0x7f ? '?' : c;
	if (c >= 0xc2 && c <= 0xdf)
		cp = c & 0x1f, more = 1;
	else if (c >= 0xe0 && c <= 0xef)
		cp = c & 0x0f, more = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		cp = c & 0x07, more = 3;
	else
		return '?';
	for (unsigned k = 0; k < more; k++) {
		if ((s[*i + k] & 0xc0) != 0x80)
			return '?';
		cp = cp << 6 | (s[*i + k] & 0x3f);
	}
	/* overlong forms, surrogates and the C1 controls */
	if ((more == 2 && cp < 0x800) || (more == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
		return '?';
	*i += more;
	return cp;
}

void draw_text(struct draw_page *p, float cx, float y, float size, bool bold, const char *utf8)
{
	const unsigned char *s = (const unsigned char *)utf8;
	unsigned max = (unsigned)draw_floor((p->w - 2 * p->margin) / (DRAW_ADVANCE * size));
	struct draw_line *t;
	size_t i = 0;

	if (max > DRAW_TEXT_MAX)
		max = DRAW_TEXT_MAX;
	if (p->n_texts == p->cap_texts) {
		p->cap_texts = p->cap_texts ? 2 * p->cap_texts : 16;
		p->texts = talloc_realloc(p, p->texts, struct draw_line, p->cap_texts);
	}
	t = &p->texts[p->n_texts++];
	*t = (struct draw_line){ .cx = cx, .y = y, .size = size, .bold = bold };
	while (s[i] && t->n < max)
		t->cp[t->n++] = draw_utf8_next(s, &i);
	if (s[i] && max >= 3)	/* cut: say so */
		t->cp[t->n - 1] = t->cp[t->n - 2] = t->cp[t->n - 3] = '.';
}

/* ---- output buffers */

struct draw_buf {
	uint8_t *d;
	size_t len, cap;
};

static void buf_put(struct draw_buf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = b->cap ? b->cap : 4096;
		while (b->len + n > b->cap)
			b->cap *= 2;
		b->d = talloc_realloc_size(NULL, b->d, b->cap);
	}
	memcpy(b->d + b->len, data, n);
	b->len += n;
}

static void buf_byte(struct draw_buf *b, uint8_t c)
{
	buf_put(b, &c, 1);
}

static void buf_be32(struct draw_buf *b, uint32_t v)
{
	uint8_t x[4] = { v >> 24, v >> 16, v >> 8, v };
	buf_put(b, x, 4);
}

__attribute__((format(printf, 2, 3)))
static void buf_printf(struct draw_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		buf_put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A number with at most 3 decimals and no trailing zeros: "12", "0.375". */
static const char *num(char *out, double v)
{
	snprintf(out, 24, "%.3f", v);
	char *e = out + strlen(out) - 1;
	while (*e == '0')
		*e-- = '\0';
	if (*e == '.')
		*e = '\0';
	if (!strcmp(out, "-0"))
		strcpy(out, "0");
	return out;
}

static int buf_done(struct draw_buf *b, void *ctx, uint8_t **out, size_t *len)
{
	*out = talloc_steal(ctx, b->d);
	*len = b->len;
	return 0;
}

/* ---- SVG */

static void svg_text(struct draw_buf *b, const struct draw_line *t)
{
	for (unsigned i = 0; i < t->n; i++) {
		uint32_t c = t->cp[i];
		switch (c) {
		case '&': buf_printf(b, "&amp;"); continue;
		case '<': buf_printf(b, "&lt;"); continue;
		case '>': buf_printf(b, "&gt;"); continue;
		case '"': buf_printf(b, "&quot;"); continue;
		}
		uint8_t u[4];
		size_t n;
		if (c < 0x80)
			u[0] = c, n = 1;
		else if (c < 0x800)
			u[0] = 0xc0 | c >> 6, u[1] = 0x80 | (c & 0x3f), n = 2;
		else if (c < 0x10000)
			u[0] = 0xe0 | c >> 12, u[1] = 0x80 | (c >> 6 & 0x3f), u[2] = 0x80 | (c & 0x3f), n = 3;
		else
			u[0] = 0xf0 | c >> 18, u[1] = 0x80 | (c >> 12 & 0x3f), u[2] = 0x80 | (c >> 6 & 0x3f),
			u[3] = 0x80 | (c & 0x3f), n = 4;
		buf_put(b, u, n);
	}
}

int draw_svg(const struct draw_page *p, void *ctx, uint8_t **out, size_t *len)
{
	struct draw_buf b = { 0 };
	char n1[24], n2[24], n3[24], n4[24];

	buf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%smm\" height=\"%smm\""
		   " viewBox=\"0 0 %s %s\">\n", num(n1, p->w), num(n2, p->h), n1, n2);
	buf_printf(&b, "<rect width=\"%s\" height=\"%s\" fill=\"#ffffff\"/>\n", n1, n2);
	buf_printf(&b, "<path fill=\"#000000\" d=\"");
	for (unsigned i = 0; i < p->n_rects; i++) {
		const struct draw_box *r = &p->rects[i];
		buf_printf(&b, "%sM%s %sh%sv%sh-%sz", i ? " " : "", num(n1, r->x), num(n2, r->y), num(n3, r->w),
			   num(n4, r->h), n3);
	}
	buf_printf(&b, "\"/>\n<g font-family=\"'DejaVu Sans Mono','Liberation Mono','Courier New',monospace\""
		   " text-anchor=\"middle\" fill=\"#000000\">\n");
	for (unsigned i = 0; i < p->n_texts; i++) {
		const struct draw_line *t = &p->texts[i];
		/* textLength holds every viewer to the monospaced advance the layout assumed */
		buf_printf(&b, "<text x=\"%s\" y=\"%s\" font-size=\"%s\" textLength=\"%s\" lengthAdjust=\"spacingAndGlyphs\"%s>",
			   num(n1, t->cx), num(n2, t->y), num(n3, t->size), num(n4, t->n * DRAW_ADVANCE * t->size),
			   t->bold ? " font-weight=\"bold\"" : "");
		svg_text(&b, t);
		buf_printf(&b, "</text>\n");
	}
	buf_printf(&b, "</g>\n</svg>\n");
	return buf_done(&b, ctx, out, len);
}

/* ---- PDF: catalog, pages, page, two fonts, one content stream */

int draw_pdf(const struct draw_page *p, void *ctx, uint8_t **out, size_t *len)
{
	struct draw_buf b = { 0 }, c = { 0 };
	size_t off[7];
	char n1[24], n2[24], n3[24], n4[24];
	double pw = p->w * DRAW_MM_TO_PT, ph = p->h * DRAW_MM_TO_PT;

	/* the content stream first: its length goes in the dictionary */
	buf_printf(&c, "0 0 0 rg\n");
	for (unsigned i = 0; i < p->n_rects; i++) {
		const struct draw_box *r = &p->rects[i];
		buf_printf(&c, "%s %s %s %s re\n", num(n1, r->x * DRAW_MM_TO_PT),
			   num(n2, ph - (r->y + r->h) * DRAW_MM_TO_PT), num(n3, r->w * DRAW_MM_TO_PT),
			   num(n4, r->h * DRAW_MM_TO_PT));
	}
	if (p->n_rects)
		buf_printf(&c, "f\n");
	for (unsigned i = 0; i < p->n_texts; i++) {
		const struct draw_line *t = &p->texts[i];
		double x = (t->cx - t->n * DRAW_ADVANCE * t->size / 2) * DRAW_MM_TO_PT;
		buf_printf(&c, "BT /%s %s Tf %s %s Td (", t->bold ? "F2" : "F1", num(n1, t->size * DRAW_MM_TO_PT),
			   num(n2, x), num(n3, ph - t->y * DRAW_MM_TO_PT));
		/* WinAnsiEncoding is Latin-1 from 0xa0 up; anything else shows as '?' */
		for (unsigned k = 0; k < t->n; k++) {
			uint32_t ch = t->cp[k];
			if (ch == '(' || ch == ')' || ch == '\\')
				buf_printf(&c, "\\%c", (char)ch);
			else if (ch >= 0x20 && ch < 0x7f)
				buf_byte(&c, (uint8_t)ch);
			else if (ch >= 0xa0 && ch <= 0xff)
				buf_printf(&c, "\\%03o", (unsigned)ch);
			else
				buf_byte(&c, '?');
		}
		buf_printf(&c, ") Tj ET\n");
	}

	buf_printf(&b, "%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n");
	off[1] = b.len;
	buf_printf(&b, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
	off[2] = b.len;
	buf_printf(&b, "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n");
	off[3] = b.len;
	buf_printf(&b, "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s]"
		   " /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>\nendobj\n",
		   num(n1, pw), num(n2, ph));
	off[4] = b.len;
	buf_printf(&b, "4 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>\nendobj\n");
	off[5] = b.len;
	buf_printf(&b, "5 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Courier-Bold /Encoding /WinAnsiEncoding >>\n"
		   "endobj\n");
	off[6] = b.len;
	buf_printf(&b, "6 0 obj\n<< /Length %zu >>\nstream\n", c.len);
	buf_put(&b, c.d, c.len);
	buf_printf(&b, "endstream\nendobj\n");
	talloc_free(c.d);
	size_t xref = b.len;
	buf_printf(&b, "xref\n0 7\n0000000000 65535 f \n");
	for (int i = 1; i <= 6; i++)
		buf_printf(&b, "%010zu 00000 n \n", off[i]);
	buf_printf(&b, "trailer\n<< /Size 7 /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", xref);
	return buf_done(&b, ctx, out, len);
}

/* ---- PNG */

/* A 5x7 bitmap font: digits, upper-case letters and the punctuation slips use. Lower case is
 * drawn in upper case; anything else as '?'. */
static const struct {
	char c;
	const char *row[7];
} draw_font[] = {
	{ ' ', { ".....", ".....", ".....", ".....", ".....", ".....", "....." } },
	{ '0', { ".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###." } },
	{ '1', { "..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###." } },
	{ '2', { ".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####" } },
	{ '3', { "#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###." } },
	{ '4', { "...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#." } },
	{ '5', { "#####", "#....", "####.", "....#", "....#", "#...#", ".###." } },
	{ '6', { "..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###." } },
	{ '7', { "#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..." } },
	{ '8', { ".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###." } },
	{ '9', { ".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.." } },
	{ 'A', { ".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#" } },
	{ 'B', { "####.", "#...#", "#...#", "####.", "#...#", "#...#", "####." } },
	{ 'C', { ".###.", "#...#", "#....", "#....", "#....", "#...#", ".###." } },
	{ 'D', { "###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###.." } },
	{ 'E', { "#####", "#....", "#....", "####.", "#....", "#....", "#####" } },
	{ 'F', { "#####", "#....", "#....", "####.", "#....", "#....", "#...." } },
	{ 'G', { ".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####" } },
	{ 'H', { "#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#" } },
	{ 'I', { ".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###." } },
	{ 'J', { "..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.." } },
	{ 'K', { "#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#" } },
	{ 'L', { "#....", "#....", "#....", "#....", "#....", "#....", "#####" } },
	{ 'M', { "#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#" } },
	{ 'N', { "#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#" } },
	{ 'O', { ".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###." } },
	{ 'P', { "####.", "#...#", "#...#", "####.", "#....", "#....", "#...." } },
	{ 'Q', { ".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#" } },
	{ 'R', { "####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#" } },
	{ 'S', { ".####", "#....", "#....", ".###.", "....#", "....#", "####." } },
	{ 'T', { "#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.." } },
	{ 'U', { "#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###." } },
	{ 'V', { "#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.." } },
	{ 'W', { "#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#." } },
	{ 'X', { "#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#" } },
	{ 'Y', { "#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.." } },
	{ 'Z', { "#####", "....#", "...#.", "..#..", ".#...", "#....", "#####" } },
	{ '!', { "..#..", "..#..", "..#..", "..#..", "..#..", ".....", "..#.." } },
	{ '"', { ".#.#.", ".#.#.", ".....", ".....", ".....", ".....", "....." } },
	{ '#', { ".#.#.", ".#.#.", "#####", ".#.#.", "#####", ".#.#.", ".#.#." } },
	{ '%', { "##..#", "##..#", "...#.", "..#..", ".#...", "#..##", "#..##" } },
	{ '&', { ".##..", "#..#.", "#.#..", ".#...", "#.#.#", "#..#.", ".##.#" } },
	{ '\'', { "..#..", "..#..", ".#...", ".....", ".....", ".....", "....." } },
	{ '(', { "...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#." } },
	{ ')', { ".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..." } },
	{ '*', { ".....", "..#..", "#.#.#", ".###.", "#.#.#", "..#..", "....." } },
	{ '+', { ".....", "..#..", "..#..", "#####", "..#..", "..#..", "....." } },
	{ ',', { ".....", ".....", ".....", ".....", ".##..", "..#..", ".#..." } },
	{ '-', { ".....", ".....", ".....", "#####", ".....", ".....", "....." } },
	{ '.', { ".....", ".....", ".....", ".....", ".....", ".##..", ".##.." } },
	{ '/', { ".....", "....#", "...#.", "..#..", ".#...", "#....", "....." } },
	{ ':', { ".....", ".##..", ".##..", ".....", ".##..", ".##..", "....." } },
	{ ';', { ".....", ".##..", ".##..", ".....", ".##..", "..#..", ".#..." } },
	{ '=', { ".....", ".....", "#####", ".....", "#####", ".....", "....." } },
	{ '?', { ".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.." } },
	{ '@', { ".###.", "#...#", "....#", ".##.#", "#.#.#", "#.#.#", ".###." } },
	{ '_', { ".....", ".....", ".....", ".....", ".....", ".....", "#####" } },
};

/* NOLINTNEXTLINE(misc-no-recursion): '?' is in the font, so at most one level */
static int draw_glyph(uint32_t cp)
{
	if (cp >= 'a' && cp <= 'z')
		cp -= 'a' - 'A';
	for (size_t i = 0; i < sizeof(draw_font) / sizeof(draw_font[0]); i++)
		if ((uint32_t)(unsigned char)draw_font[i].c == cp)
			return (int)i;
	return draw_glyph('?');
}

struct draw_raster {
	unsigned w, h;
	uint8_t *ink;		/* one byte per pixel, 1 = black */
};

static void raster_fill(struct draw_raster *r, long x0, long y0, long x1, long y1)
{
	if (x0 < 0) x0 = 0;
	if (y0 < 0) y0 = 0;
	if (x1 > (long)r->w) x1 = r->w;
	if (y1 > (long)r->h) y1 = r->h;
	for (long y = y0; y < y1; y++)
		if (x1 > x0)
			memset(r->ink + (size_t)y * r->w + x0, 1, x1 - x0);
}

/* A text in the bitmap font, scaled by a whole number of pixels per font dot so that every
 * character takes the same advance as in the other formats (6 dots: 5 and a gap). */
static void raster_text(struct draw_raster *r, const struct draw_line *t)
{
	const double ppm = DRAW_PNG_PX_PER_MM;
	long k = draw_round(t->size * DRAW_ADVANCE * ppm / 6);
	if (k < 1)
		k = 1;
	long x = draw_round(t->cx * ppm) - (long)t->n * 6 * k / 2 + k / 2;
	long top = draw_round(t->y * ppm) - 7 * k;
	long bold = t->bold ? (k + 1) / 2 : 0;
	for (unsigned i = 0; i < t->n; i++, x += 6 * k) {
		int g = draw_glyph(t->cp[i]);
		for (int row = 0; row < 7; row++)
			for (int col = 0; col < 5; col++)
				if (draw_font[g].row[row][col] == '#')
					raster_fill(r, x + col * k, top + row * k, x + (col + 1) * k + bold, top + (row + 1) * k);
	}
}

uint32_t draw_crc32(uint32_t crc, const uint8_t *buf, size_t len)
{
	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= buf[i];
		for (int k = 0; k < 8; k++)
			crc = crc >> 1 ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

uint32_t draw_adler32(uint32_t adler, const uint8_t *buf, size_t len)
{
	uint32_t a = adler & 0xffff, b = adler >> 16;
	for (size_t i = 0; i < len; i++) {
		a = (a + buf[i]) % 65521;
		b = (b + a) % 65521;
	}
	return b << 16 | a;
}

/* Deflate, fixed Huffman codes (RFC 1951 3.2.6), bits packed from the least significant. */
struct draw_bits {
	struct draw_buf *b;
	uint32_t acc;
	unsigned n;
};

static void bits_put(struct draw_bits *w, uint32_t v, unsigned n)
{
	w->acc |= v << w->n;
	w->n += n;
	while (w->n >= 8) {
		buf_byte(w->b, w->acc & 0xff);
		w->acc >>= 8;
		w->n -= 8;
	}
}

/* Huffman codes go out most significant bit first. */
static void bits_code(struct draw_bits *w, uint32_t code, unsigned n)
{
	uint32_t r = 0;
	for (unsigned i = 0; i < n; i++)
		r = r << 1 | (code >> i & 1);
	bits_put(w, r, n);
}

static void deflate_literal(struct draw_bits *w, uint8_t c)
{
	if (c < 144)
		bits_code(w, 0x30 + c, 8);
	else
		bits_code(w, 0x190 + c - 144, 9);
}

/* A copy of the byte before, len (3-258) times: a match at distance 1. */
static void deflate_run(struct draw_bits *w, unsigned len)
{
	static const uint16_t base[29] = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
					   67, 83, 99, 115, 131, 163, 195, 227, 258 };
	static const uint8_t extra[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
					   4, 4, 4, 4, 5, 5, 5, 5, 0 };
	int i = 28;
	while (base[i] > len)
		i--;
	unsigned sym = 257 + i;
	if (sym <= 279)
		bits_code(w, sym - 256, 7);
	else
		bits_code(w, 0xc0 + sym - 280, 8);
	bits_put(w, len - base[i], extra[i]);
	bits_code(w, 0, 5);	/* distance code 0: distance 1 */
}

/* data as a zlib stream (RFC 1950) of one fixed-Huffman block. */
static void deflate_zlib(struct draw_buf *out, const uint8_t *data, size_t len)
{
	struct draw_bits w = { .b = out };
	buf_byte(out, 0x78);
	buf_byte(out, 0x01);
	bits_put(&w, 1, 1);	/* BFINAL */
	bits_put(&w, 1, 2);	/* BTYPE 01: fixed Huffman codes */
	for (size_t i = 0; i < len;) {
		size_t run = 0;
		if (i > 0)
			while (run < 258 && i + run < len && data[i + run] == data[i - 1])
				run++;
		if (run >= 3) {
			deflate_run(&w, run);
			i += run;
		} else {
			deflate_literal(&w, data[i++]);
		}
	}
	bits_code(&w, 0, 7);	/* end of block */
	if (w.n)
		bits_put(&w, 0, 8 - w.n);
	buf_be32(out, draw_adler32(1, data, len));
}

static void png_chunk(struct draw_buf *b, const char *type, const uint8_t *data, size_t len)
{
	buf_be32(b, len);
	size_t start = b->len;
	buf_put(b, type, 4);
	if (len)
		buf_put(b, data, len);
	buf_be32(b, draw_crc32(0, b->d + start, len + 4));
}

int draw_png(const struct draw_page *p, void *ctx, uint8_t **out, size_t *len)
{
	const double ppm = DRAW_PNG_PX_PER_MM;
	struct draw_raster r = { .w = draw_round(p->w * ppm), .h = draw_round(p->h * ppm) };
	struct draw_buf b = { 0 }, z = { 0 };

	if (!r.w || !r.h || (size_t)r.w * r.h > DRAW_PNG_MAX_PIXELS)
		return -ENOMEM;
	r.ink = talloc_zero_size(NULL, (size_t)r.w * r.h);
	for (unsigned i = 0; i < p->n_rects; i++) {
		const struct draw_box *q = &p->rects[i];
		raster_fill(&r, draw_round(q->x * ppm), draw_round(q->y * ppm), draw_round((q->x + q->w) * ppm),
			    draw_round((q->y + q->h) * ppm));
	}
	for (unsigned i = 0; i < p->n_texts; i++)
		raster_text(&r, &p->texts[i]);

	/* 1-bit grey rows (1 = white), each filtered "Up": the difference to the row above, so a
	 * row like the one before it is all zeros and deflates to almost nothing */
	size_t stride = (r.w + 7) / 8;
	uint8_t *rows = talloc_zero_size(r.ink, (stride + 1) * r.h);
	uint8_t *prev = talloc_zero_size(r.ink, stride), *cur = talloc_size(r.ink, stride);
	for (unsigned y = 0; y < r.h; y++) {
		memset(cur, 0xff, stride);
		for (unsigned x = 0; x < r.w; x++)
			if (r.ink[(size_t)y * r.w + x])
				cur[x / 8] &= ~(0x80 >> (x % 8));
		uint8_t *row = rows + y * (stride + 1);
		row[0] = 2;
		for (size_t i = 0; i < stride; i++)
			row[1 + i] = cur[i] - prev[i];
		uint8_t *t = prev;
		prev = cur;
		cur = t;
	}
	deflate_zlib(&z, rows, (stride + 1) * r.h);

	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	uint8_t ihdr[13] = { r.w >> 24, r.w >> 16, r.w >> 8, r.w, r.h >> 24, r.h >> 16, r.h >> 8, r.h,
			     1 /* bit depth */, 0 /* grey */, 0, 0, 0 };
	uint32_t ppmeter = DRAW_PNG_PX_PER_MM * 1000;
	uint8_t phys[9] = { ppmeter >> 24, ppmeter >> 16, ppmeter >> 8, ppmeter,
			    ppmeter >> 24, ppmeter >> 16, ppmeter >> 8, ppmeter, 1 /* metre */ };
	buf_put(&b, sig, sizeof(sig));
	png_chunk(&b, "IHDR", ihdr, sizeof(ihdr));
	png_chunk(&b, "pHYs", phys, sizeof(phys));
	png_chunk(&b, "IDAT", z.d, z.len);
	png_chunk(&b, "IEND", NULL, 0);
	talloc_free(z.d);
	talloc_free(r.ink);
	return buf_done(&b, ctx, out, len);
}
