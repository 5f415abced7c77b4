/* What a customer is told about a refund (see refund.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "easypay.h"
#include "refund.h"

enum sms_text refund_sms_text(const char *refund_to, bool duplicate)
{
	if (duplicate)
		return SMS_TEXT_REFUND_DOUBLE;
	if (!refund_to)
		return SMS_TEXT_REFUND_STORE;
	if (!strcmp(refund_to, "voucher"))
		return SMS_TEXT_REFUND_VOUCHER;
	if (!strcmp(refund_to, "new_voucher"))
		return SMS_TEXT_REFUND_PIN;
	if (!strcmp(refund_to, "credit"))
		return SMS_TEXT_REFUND_CREDIT;
	if (!strcmp(refund_to, "points"))	/* a points payment (sql/021) */
		return SMS_TEXT_REFUND_POINTS;
	/* store credit, or part credit and part store credit: the customer spends it at checkout */
	return SMS_TEXT_REFUND_STORE;
}

int refund_sms_render(const struct sms_texts *t, const char *lang, const char *refund_to, bool duplicate,
		      int64_t order_id, int64_t amount_cents, const char *pin, char *buf, size_t len)
{
	char grouped[32] = "";
	if (pin)	/* read out and typed in fours, like a slip number */
		easypay_ref_group(grouped, sizeof(grouped), pin);
	struct sms_vars v = { .order = order_id, .status = -1, .lang = -1, .amount_cents = amount_cents,
			      .pin = grouped };
	int rc = sms_texts_render(t, refund_sms_text(refund_to, duplicate), sms_texts_lang(lang), &v, buf, len);
	explicit_bzero(grouped, sizeof(grouped));
	return rc;
}

void refund_dc_sms_key(char *buf, size_t len, int64_t dup_txn_id)
{
	snprintf(buf, len, "spaza:dc:%" PRId64, dup_txn_id);
}
