#pragma once
/* Payment slip images: the slip reference as Code 128 and Interleaved 2 of 5 (libzint) and a
 * QR code (libqrencode) whose payload carries the reference, amount and expiry under an HMAC
 * (secret 'slip-qr'), so a forged or altered slip is detectable. One layout, 80 mm receipt
 * width, drawn as rectangles and text, written as PNG (203 dpi, 1 bit), SVG or a one-page PDF.
 *
 * The 15-digit reference has an odd number of digits and Interleaved 2 of 5 needs an even
 * number: the ITF symbol carries "0" + the reference (BARCODE_ITF_DIGITS). Code 128 carries
 * the reference as it is. Tills may send either form; front_till.c takes both. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "easypay.h"

enum barcode_out {
	BARCODE_OUT_PNG,
	BARCODE_OUT_SVG,
	BARCODE_OUT_PDF,
};

/* What a slip shows. Strings are UTF-8; ref is the 15 digits, expires "YYYY-MM-DD". */
struct barcode_slip {
	const char *shop;
	const char *ref;
	int64_t order_id;
	int64_t amount_cents;
	const char *expires;
};

/* The shop name slips carry until the config names one. */
#define BARCODE_SHOP_DEFAULT "Spaza"

/* "png" | "svg" | "pdf" -> the format; -EINVAL for anything else. */
int barcode_out_parse(const char *name, enum barcode_out *out);
const char *barcode_out_name(enum barcode_out fmt);
const char *barcode_out_ctype(enum barcode_out fmt);

/* Render a slip; *out is a talloc child of ctx holding *len bytes. Returns 0, -EINVAL (the
 * slip's fields are malformed), -ENOKEY (no 'slip-qr' secret) or -EIO (an encoder failed,
 * logged). */
int barcode_slip_render(void *ctx, const struct barcode_slip *slip, enum barcode_out fmt, uint8_t **out,
			size_t *len);

/* ---- the QR payload: "SPAZA<N>:<ref>:<amount cents>:<expiry YYYYMMDD>:<MAC>", MAC being the
 * first 16 bytes of HMAC-SHA256(version N of 'slip-qr', everything before the last ':') in
 * upper-case hex; slips printed before keys had versions read SPAZA1, version 1. Only QR
 * alphanumeric characters, so the symbol stays small (version 4, 33 modules). */
#define BARCODE_QR_PREFIX "SPAZA"
#define BARCODE_QR_MAC_BYTES 16
#define BARCODE_QR_MAX 96

/* Returns 0, -EINVAL (malformed fields), -ENOSPC or -ENOKEY. */
int barcode_qr_payload(char *out, size_t len, const char *ref, int64_t amount_cents, const char *expires);

struct barcode_qr_info {
	char ref[EASYPAY_REF_BUF];
	int64_t amount_cents;
	char expires[11];	/* YYYY-MM-DD */
	unsigned key_version;	/* the 'slip-qr' version it names */
};
/* Check a scanned payload. Returns 0 (genuine: info filled in), -EINVAL (not a slip payload),
 * -EBADMSG (the MAC does not match: forged or altered), -EKEYEXPIRED (genuine, but its key
 * version is past its grace period: logged) or -ENOKEY (no 'slip-qr' secret of its version).
 * The MAC is compared in constant time. */
int barcode_qr_verify(const char *payload, struct barcode_qr_info *info);

/* ---- the 1-D symbols, for tests and anyone who wants the bars themselves */
enum barcode_symbol {
	BARCODE_SYM_CODE128,
	BARCODE_SYM_ITF,
};
/* The digits an ITF symbol of ref carries: "0" + the 15 digits. */
#define BARCODE_ITF_DIGITS (EASYPAY_REF_LEN + 1)

struct barcode_bar {
	uint16_t x, w;		/* in modules from the symbol's left edge */
};
struct barcode_bars {
	unsigned modules;	/* width of the symbol, quiet zones not included */
	unsigned n;
	struct barcode_bar *bar;	/* talloc child of the struct */
};
/* The bars of ref (15 digits) as a symbol. *out is a talloc child of ctx. Returns 0, -EINVAL
 * or -EIO (libzint refused, logged). */
int barcode_bars(void *ctx, enum barcode_symbol sym, const char *ref, struct barcode_bars **out);
