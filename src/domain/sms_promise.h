#pragma once
/* Replies promised on a USSD screen ("we'll SMS you the result"): queued for the outbox, and
 * queued again until the database takes them, so an outage after the promise loses no SMS. */
#include <stdint.h>

void sms_promise_init(void *ctx);
/* key: the promising hop's idempotency key; a second write with it queues nothing. */
void sms_promise_queue(int64_t customer_id, const char *key, const char *text);
/* Promises the database never took are logged, and counted in `show stats`, as lost. */
void sms_promise_shutdown(void);
