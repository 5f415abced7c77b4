#pragma once
/* A printable page of black rectangles and centred one-line texts, in millimetres from the
 * top-left corner, written out as SVG, PDF or PNG. Just enough for payment slips
 * (barcode.c): no curves, no images, one monospaced face (Courier in PDF, the reader's
 * monospace in SVG, a built-in 5x7 bitmap font in upper case in PNG), so text widths are
 * known everywhere: every character advances DRAW_ADVANCE times the text size. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DRAW_ADVANCE 0.6f
/* PNG resolution: 8 dots per mm is the 203 dpi of receipt printers. */
#define DRAW_PNG_PX_PER_MM 8

struct draw_page;

/* A page of that size; texts are kept within margin_mm of either side. talloc child of ctx. */
struct draw_page *draw_page_new(void *ctx, float width_mm, float height_mm, float margin_mm);
void draw_page_height(struct draw_page *p, float height_mm);

void draw_rect(struct draw_page *p, float x, float y, float w, float h);
/* UTF-8 text centred on cx, its baseline at y, size = the em in mm. Text too wide for the
 * page's margins is cut and ends in "..."; invalid UTF-8 and control characters show as '?'. */
void draw_text(struct draw_page *p, float cx, float y, float size, bool bold, const char *utf8);

/* The page as a file; *out is a talloc child of ctx. Return 0 (or -ENOMEM for a page too
 * large to rasterise). */
int draw_svg(const struct draw_page *p, void *ctx, uint8_t **out, size_t *len);
int draw_pdf(const struct draw_page *p, void *ctx, uint8_t **out, size_t *len);
int draw_png(const struct draw_page *p, void *ctx, uint8_t **out, size_t *len);

/* Rounding without libm, for the non-negative lengths of a page. */
static inline long draw_round(double v)
{
	return v < 0 ? -(long)(0.5 - v) : (long)(v + 0.5);
}
static inline long draw_floor(double v)
{
	long i = (long)v;
	return i > v ? i - 1 : i;
}

/* PNG's CRC-32 and zlib's Adler-32, for tests that read the files back. */
uint32_t draw_crc32(uint32_t crc, const uint8_t *buf, size_t len);
uint32_t draw_adler32(uint32_t adler, const uint8_t *buf, size_t len);
