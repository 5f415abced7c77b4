/* A till's receipt for a slip payment (receipt.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <talloc.h>
#include "draw.h"
#include "easypay.h"
#include "money.h"
#include "receipt.h"

#define RECEIPT_W 80.0f		/* mm: the paper of receipt printers */
#define RECEIPT_MARGIN 4.0f

int receipt_render(void *ctx, const struct receipt *r, enum barcode_out fmt, uint8_t **out, size_t *len)
{
	char grouped[EASYPAY_GROUPED_BUF], amount[MONEY_BUF_LEN], line[96];
	const float cx = RECEIPT_W / 2;
	if ((fmt != BARCODE_OUT_PDF && fmt != BARCODE_OUT_PNG) || r->amount_cents <= 0 ||
	    easypay_ref_group(grouped, sizeof(grouped), r->ref) < 0 ||
	    money_format(amount, sizeof(amount), r->amount_cents) < 0)
		return -EINVAL;
	struct draw_page *pg = draw_page_new(NULL, RECEIPT_W, 0, RECEIPT_MARGIN);
	draw_text(pg, cx, 9, 5, true, r->shop);
	draw_text(pg, cx, 15, 3.6f, false, "PAYMENT RECEIVED - Spaza");
	draw_rect(pg, RECEIPT_MARGIN, 18, RECEIPT_W - 2 * RECEIPT_MARGIN, 0.3f);
	draw_text(pg, cx, 28, 8, true, amount);
	snprintf(line, sizeof(line), "Order #%" PRId64, r->order_id);
	draw_text(pg, cx, 35, 4, false, line);
	snprintf(line, sizeof(line), "Slip %s", grouped);
	draw_text(pg, cx, 41, 3.6f, false, line);
	snprintf(line, sizeof(line), "Payment %s", r->payment_id);
	draw_text(pg, cx, 46.5f, 3, false, line);
	snprintf(line, sizeof(line), "Cashier %s, %s", r->cashier, r->printed);
	draw_text(pg, cx, 51.5f, 3, false, line);
	draw_rect(pg, RECEIPT_MARGIN, 55, RECEIPT_W - 2 * RECEIPT_MARGIN, 0.3f);
	draw_text(pg, cx, 61, 3, false, "Keep this receipt. The shop sends an SMS");
	draw_text(pg, cx, 65, 3, false, "when the order ships.");
	draw_page_height(pg, 70);
	int rc = fmt == BARCODE_OUT_PDF ? draw_pdf(pg, ctx, out, len) : draw_png(pg, ctx, out, len);
	talloc_free(pg);
	return rc;
}
