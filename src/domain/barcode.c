/* Payment slip images: the reference as Code 128 and Interleaved 2 of 5 from libzint's vector
 * output, a signed QR code from libqrencode, laid out on an 80 mm receipt (draw.c writes the
 * PNG, SVG or PDF); see barcode.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <openssl/crypto.h>
#include <time.h>
#include <qrencode.h>
#include <zint.h>
#include "barcode.h"
#include "draw.h"
#include "easypay.h"
#include "logging.h"
#include "money.h"
#include "secrets.h"

#define BARCODE_QR_KEY "slip-qr"
#define BARCODE_AMOUNT_MAX 999999999999LL

/* The slip, in mm. A bar module is 3 pixels of the 203 dpi PNG (0.375 mm) and a QR module 4,
 * and everything starts on a whole pixel, so the PNG's bars are exact; both 1-D symbols
 * (134 and 153 modules) fit the 72 mm between the margins with their quiet zones. */
#define SLIP_W 80.0f
#define SLIP_MARGIN 4.0f
#define SLIP_MODULE (3.0f / DRAW_PNG_PX_PER_MM)
#define SLIP_QR_MODULE (4.0f / DRAW_PNG_PX_PER_MM)
#define SLIP_BAR_H 14.0f

int barcode_out_parse(const char *name, enum barcode_out *out)
{
	static const enum barcode_out all[] = { BARCODE_OUT_PNG, BARCODE_OUT_SVG, BARCODE_OUT_PDF };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(name, barcode_out_name(all[i]))) {
			*out = all[i];
			return 0;
		}
	return -EINVAL;
}

const char *barcode_out_name(enum barcode_out fmt)
{
	switch (fmt) {
	case BARCODE_OUT_PNG: return "png";
	case BARCODE_OUT_SVG: return "svg";
	case BARCODE_OUT_PDF: return "pdf";
	}
	return "?";
}

const char *barcode_out_ctype(enum barcode_out fmt)
{
	switch (fmt) {
	case BARCODE_OUT_PNG: return "image/png";
	case BARCODE_OUT_SVG: return "image/svg+xml";
	case BARCODE_OUT_PDF: return "application/pdf";
	}
	return "application/octet-stream";
}

/* Exactly the 15 digits with the right check digit (no spaces: callers normalise first). */
static bool barcode_ref_ok(const char *ref)
{
	return ref && strlen(ref) == EASYPAY_REF_LEN && strspn(ref, "0123456789") == EASYPAY_REF_LEN &&
	       easypay_ref_check(ref);
}

/* "YYYY-MM-DD" -> "YYYYMMDD" (out has 9 bytes); false when it is not that shape. */
static bool barcode_date_compact(const char *date, char out[9])
{
	if (!date || strlen(date) != 10 || date[4] != '-' || date[7] != '-')
		return false;
	for (int i = 0, o = 0; i < 10; i++) {
		if (i == 4 || i == 7)
			continue;
		if (date[i] < '0' || date[i] > '9')
			return false;
		out[o++] = date[i];
	}
	out[8] = '\0';
	return true;
}

/* ---- the QR payload */

/* The MAC of the signed part of a payload under version v of the key. */
static int barcode_qr_mac(unsigned v, const char *signed_part, size_t len, uint8_t mac[BARCODE_QR_MAC_BYTES])
{
	uint8_t full[SECRETS_HMAC_LEN];
	int rc = secrets_hmac_v(BARCODE_QR_KEY, v, signed_part, len, full);
	if (rc < 0)
		return rc;
	memcpy(mac, full, BARCODE_QR_MAC_BYTES);
	OPENSSL_cleanse(full, sizeof(full));
	return 0;
}

int barcode_qr_payload(char *out, size_t len, const char *ref, int64_t amount_cents, const char *expires)
{
	char date[9];
	uint8_t mac[BARCODE_QR_MAC_BYTES];

	if (!barcode_ref_ok(ref) || amount_cents <= 0 || amount_cents > BARCODE_AMOUNT_MAX ||
	    !barcode_date_compact(expires, date))
		return -EINVAL;
	unsigned v = secrets_newest(BARCODE_QR_KEY);
	if (!v)
		return -ENOKEY;
	int n = snprintf(out, len, BARCODE_QR_PREFIX "%u:%s:%" PRId64 ":%s", v, ref, amount_cents, date);
	if (n < 0 || (size_t)n + 1 + 2 * BARCODE_QR_MAC_BYTES >= len)
		return -ENOSPC;
	int rc = barcode_qr_mac(v, out, n, mac);
	if (rc < 0)
		return rc;
	out[n++] = ':';
	for (int i = 0; i < BARCODE_QR_MAC_BYTES; i++, n += 2)
		snprintf(out + n, 3, "%02X", mac[i]);
	return 0;
}

static int barcode_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int barcode_qr_verify(const char *payload, struct barcode_qr_info *info)
{
	const char *p = payload;
	uint8_t given[BARCODE_QR_MAC_BYTES], want[BARCODE_QR_MAC_BYTES];
	size_t plen = strlen(BARCODE_QR_PREFIX);
	int64_t amount = 0;

	memset(info, 0, sizeof(*info));
	if (strncmp(p, BARCODE_QR_PREFIX, plen))
		return -EINVAL;
	p += plen;
	size_t nv = strspn(p, "0123456789");
	if (nv < 1 || nv > 4 || p[0] == '0' || p[nv] != ':')
		return -EINVAL;
	for (size_t i = 0; i < nv; i++)
		info->key_version = info->key_version * 10 + (p[i] - '0');
	p += nv + 1;
	if (strspn(p, "0123456789") != EASYPAY_REF_LEN || p[EASYPAY_REF_LEN] != ':')
		return -EINVAL;
	memcpy(info->ref, p, EASYPAY_REF_LEN);
	p += EASYPAY_REF_LEN + 1;
	size_t nd = strspn(p, "0123456789");
	if (nd < 1 || nd > 12 || p[nd] != ':' || (p[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < nd; i++)
		amount = amount * 10 + (p[i] - '0');
	p += nd + 1;
	if (strspn(p, "0123456789") != 8 || p[8] != ':')
		return -EINVAL;
	snprintf(info->expires, sizeof(info->expires), "%.4s-%.2s-%.2s", p, p + 4, p + 6);
	p += 9;
	size_t signed_len = p - 1 - payload;
	if (strlen(p) != 2 * BARCODE_QR_MAC_BYTES)
		return -EINVAL;
	for (int i = 0; i < BARCODE_QR_MAC_BYTES; i++) {
		int hi = barcode_hexval(p[2 * i]), lo = barcode_hexval(p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		given[i] = hi << 4 | lo;
	}
	info->amount_cents = amount;
	int rc = barcode_qr_mac(info->key_version, payload, signed_len, want);
	if (rc < 0)
		return rc;
	rc = CRYPTO_memcmp(given, want, sizeof(want)) ? -EBADMSG : 0;
	OPENSSL_cleanse(want, sizeof(want));
	/* a genuine payload always names a well-formed reference */
	if (!rc && !barcode_ref_ok(info->ref))
		rc = -EBADMSG;
	/* only a genuine one is old: a forgery naming an old version is a forgery */
	if (!rc)
		rc = secrets_usable(BARCODE_QR_KEY, info->key_version, time(NULL));
	return rc;
}

/* ---- the 1-D symbols */

static int barcode_bar_cmp(const void *a, const void *b)
{
	const struct barcode_bar *x = a, *y = b;
	return (int)x->x - (int)y->x;
}

int barcode_bars(void *ctx, enum barcode_symbol sym, const char *ref, struct barcode_bars **out)
{
	char data[BARCODE_ITF_DIGITS + 1];
	struct zint_symbol *z;
	int rc;

	if (!barcode_ref_ok(ref))
		return -EINVAL;
	snprintf(data, sizeof(data), "%s%s", sym == BARCODE_SYM_ITF ? "0" : "", ref);
	z = ZBarcode_Create();
	if (!z)
		return -EIO;
	z->symbology = sym == BARCODE_SYM_ITF ? BARCODE_C25INTER : BARCODE_CODE128;
	z->show_hrt = 0;
	z->whitespace_width = 0;
	z->output_options |= BARCODE_NO_QUIET_ZONES;
	rc = ZBarcode_Encode_and_Buffer_Vector(z, (const unsigned char *)data, strlen(data), 0);
	if (rc >= ZINT_ERROR || !z->vector || z->width <= 0) {
		LOGP(DCAT, LOGL_ERROR, "libzint refused %s for slip %s: %s\n",
		     sym == BARCODE_SYM_ITF ? "ITF" : "Code 128", ref, z->errtxt);
		ZBarcode_Delete(z);
		return -EIO;
	}
	/* vector coordinates are in units of the module size libzint chose: back to modules */
	float unit = z->vector->width / z->width;
	struct barcode_bars *b = talloc_zero(ctx, struct barcode_bars);
	for (struct zint_vector_rect *r = z->vector->rectangles; r; r = r->next)
		b->n++;
	b->bar = talloc_array(b, struct barcode_bar, b->n ? b->n : 1);
	b->modules = z->width;
	unsigned i = 0;
	for (struct zint_vector_rect *r = z->vector->rectangles; r; r = r->next, i++)
		b->bar[i] = (struct barcode_bar){ (uint16_t)draw_round(r->x / unit), (uint16_t)draw_round(r->width / unit) };
	qsort(b->bar, b->n, sizeof(b->bar[0]), barcode_bar_cmp);
	ZBarcode_Delete(z);
	*out = b;
	return 0;
}

/* ---- layout */

/* x of something w mm wide centred on the slip, on a whole PNG pixel */
static float slip_centre(float w)
{
	return (float)draw_floor((SLIP_W - w) / 2 * DRAW_PNG_PX_PER_MM) / DRAW_PNG_PX_PER_MM;
}

static int slip_bars(struct draw_page *pg, enum barcode_symbol sym, const char *ref, float top)
{
	struct barcode_bars *b;
	int rc = barcode_bars(pg, sym, ref, &b);
	if (rc < 0)
		return rc;
	float x0 = slip_centre(b->modules * SLIP_MODULE);
	for (unsigned i = 0; i < b->n; i++)
		draw_rect(pg, x0 + b->bar[i].x * SLIP_MODULE, top, b->bar[i].w * SLIP_MODULE, SLIP_BAR_H);
	talloc_free(b);
	return 0;
}

/* The QR code's dark modules, one rectangle per run in a row; returns its height in mm. */
static int slip_qr(struct draw_page *pg, const char *payload, float top, float *height)
{
	QRcode *q = QRcode_encodeString(payload, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!q) {
		LOGP(DCAT, LOGL_ERROR, "libqrencode failed on a slip payload: %s\n", strerror(errno));
		return -EIO;
	}
	float x0 = slip_centre(q->width * SLIP_QR_MODULE);
	for (int y = 0; y < q->width; y++) {
		for (int x = 0; x < q->width;) {
			if (!(q->data[y * q->width + x] & 1)) {
				x++;
				continue;
			}
			int run = 1;
			while (x + run < q->width && (q->data[y * q->width + x + run] & 1))
				run++;
			draw_rect(pg, x0 + x * SLIP_QR_MODULE, top + y * SLIP_QR_MODULE, run * SLIP_QR_MODULE, SLIP_QR_MODULE);
			x += run;
		}
	}
	*height = q->width * SLIP_QR_MODULE;
	QRcode_free(q);
	return 0;
}

int barcode_slip_render(void *ctx, const struct barcode_slip *slip, enum barcode_out fmt, uint8_t **out,
			size_t *len)
{
	char grouped[EASYPAY_GROUPED_BUF], amount[MONEY_BUF_LEN], line[64], payload[BARCODE_QR_MAX];
	const float cx = SLIP_W / 2;
	float y, qr_h;
	int rc;

	if (!barcode_ref_ok(slip->ref) || slip->amount_cents <= 0 || !slip->expires ||
	    easypay_ref_group(grouped, sizeof(grouped), slip->ref) < 0 ||
	    money_format(amount, sizeof(amount), slip->amount_cents) < 0)
		return -EINVAL;
	rc = barcode_qr_payload(payload, sizeof(payload), slip->ref, slip->amount_cents, slip->expires);
	if (rc < 0)
		return rc;

	struct draw_page *pg = draw_page_new(NULL, SLIP_W, 0, SLIP_MARGIN);
	draw_text(pg, cx, 10, 6, true, slip->shop && *slip->shop ? slip->shop : BARCODE_SHOP_DEFAULT);
	draw_text(pg, cx, 15.5, 3.2, false, "PAYMENT SLIP - pay cash at any till");
	snprintf(line, sizeof(line), "Order #%" PRId64, slip->order_id);
	draw_text(pg, cx, 22.5, 4, false, line);
	draw_text(pg, cx, 31.5, 7.5, true, amount);
	snprintf(line, sizeof(line), "Pay by %s", slip->expires);
	draw_text(pg, cx, 37.5, 3.6, false, line);
	y = 41;
	if ((rc = slip_bars(pg, BARCODE_SYM_CODE128, slip->ref, y)) < 0)
		goto out;
	y += SLIP_BAR_H + 6.5f;
	draw_text(pg, cx, y, 5, true, grouped);
	y += 3.5f;
	if ((rc = slip_bars(pg, BARCODE_SYM_ITF, slip->ref, y)) < 0)
		goto out;
	y += SLIP_BAR_H + 4;
	if ((rc = slip_qr(pg, payload, y, &qr_h)) < 0)
		goto out;
	y += qr_h + 5;
	draw_text(pg, cx, y, 2.8f, false, "The till types or scans the number.");
	y += 4;
	draw_text(pg, cx, y, 2.8f, false, "The QR code proves the slip is genuine.");
	draw_page_height(pg, y + 5);

	switch (fmt) {
	case BARCODE_OUT_PNG: rc = draw_png(pg, ctx, out, len); break;
	case BARCODE_OUT_SVG: rc = draw_svg(pg, ctx, out, len); break;
	case BARCODE_OUT_PDF: rc = draw_pdf(pg, ctx, out, len); break;
	default: rc = -EINVAL;
	}
out:
	talloc_free(pg);
	return rc;
}
