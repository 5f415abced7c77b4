#pragma once
/* What a customer is told about a refund (menus/sms/texts.yaml): which text says where the
 * money went, rendered in their language. The refund itself is the ledger's (ledger_refund(),
 * sql/012_money_care.sql); every door that refunds (spazactl refund, the double-charge sweep)
 * tells the customer through this room, so they all say the same. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sms_texts.h"

/* refund_to as the ledger answers it (voucher, new_voucher, credit, store_credit, several ...);
 * duplicate: the refund of a double charge. */
enum sms_text refund_sms_text(const char *refund_to, bool duplicate);
/* The text in the language whose code is lang ("en", "zu", "af"; others read English); pin
 * the new voucher's PIN (digits) or NULL. Its length, or -ENOSPC. */
int refund_sms_render(const struct sms_texts *t, const char *lang, const char *refund_to, bool duplicate,
		      int64_t order_id, int64_t amount_cents, const char *pin, char *buf, size_t len);
/* The key of a double charge's refund SMS (the refund's own key, spaza:dc:<duplicate
 * payment>): the sweep and the charged-twice ticket queue it under it, so it goes once. */
void refund_dc_sms_key(char *buf, size_t len, int64_t dup_txn_id);
