#pragma once
/* Kannel's smsbox front end: GET /kannel/mo (the sms-service get-url) for USSD over SMPP and SMS. */
void front_kannel_init(void);

/* The sms-service get-url spazad expects (doc/kannel/smsbox-front.conf uses it). */
#define FRONT_KANNEL_MO_ARGS "from=%p&to=%P&text=%a&meta=%D&binfo=%B&id=%I&smsc=%i"
