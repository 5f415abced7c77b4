#pragma once
/* The receipt a till prints when it took the cash for a slip: 80 mm wide, as PDF or PNG (the
 * 203 dpi of receipt printers), drawn with draw.c like the slip itself. */
#include <stddef.h>
#include <stdint.h>
#include "barcode.h"

struct receipt {
	const char *shop;	/* who took the cash: the retailer */
	const char *ref;	/* the slip, 15 digits */
	int64_t order_id;
	int64_t amount_cents;
	const char *payment_id;
	const char *cashier;	/* the staff login */
	const char *printed;	/* when, as the reader reads it */
};

/* BARCODE_OUT_PDF or BARCODE_OUT_PNG; *out a talloc child of ctx. 0, or -EINVAL. */
int receipt_render(void *ctx, const struct receipt *r, enum barcode_out fmt, uint8_t **out, size_t *len);
