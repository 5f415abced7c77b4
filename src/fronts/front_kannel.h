#pragma once
/* Kannel's smsbox front end: GET /kannel/mo (the sms-service get-url) for USSD over SMPP and SMS,
 * GET /kannel/dlr for delivery reports, and sendsms as the outbox's backend when configured.
 * Before outbox_init(): the backend is set before the outbox's first poll. */
void front_kannel_init(void *ctx);
/* Stops sendsms, whether or not it was the outbox's backend. */
void front_kannel_close(void);

/* The sms-service get-url spazad expects (doc/kannel/smsbox-front.conf uses it). */
#define FRONT_KANNEL_MO_ARGS "from=%p&to=%P&text=%a&meta=%D&binfo=%B&id=%I&smsc=%i"
