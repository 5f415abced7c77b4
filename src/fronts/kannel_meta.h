#pragma once
/* USSD over SMPP as Kannel carries it in an SMS's meta-data: the TLVs ussd_service_op and
 * its_session_info, e.g. "?smpp?ussd_service_op=%01&its_session_info=4%01&" (raw octets,
 * URL-encoded once). Shared by both Kannel front ends: the smsbox HTTP one (front_kannel.c,
 * where the string arrives in the get-url's %D) and the native box (front_box.c, where it is
 * the sms message's meta_data field). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kannel_link;

struct kannel_meta {
	int op;			/* ussd_service_op, -1 if absent: then the message is a plain SMS */
	uint8_t sess[8];	/* its_session_info octets */
	unsigned sess_len;
};

/* Parse meta-data (NULL or "" is a plain SMS). Returns 0, or -EINVAL for a string that is not
 * "?smpp?..." key=value pairs, a bad escape, or a TLV of the wrong length. */
int kannel_meta_parse(const char *meta, struct kannel_meta *km);

/* The reply's meta-data for an MO that carried km: ussd_service_op "continue" or "end" as this
 * link spells them, its_session_info echoed (its low bit set on end, cleared otherwise, where
 * the link marks the end there). Returns the length, or -ENOSPC. */
int kannel_meta_reply(char *buf, size_t size, const struct kannel_link *link, const struct kannel_meta *km,
		      bool end);

/* The session key of a USSD MO: MSISDN + its_session_info (without an end bit) + link.
 * Returns the length, or -ENOSPC. */
int kannel_meta_ref(char *buf, size_t size, const char *msisdn, const struct kannel_link *link,
		    const struct kannel_meta *km, const char *smsc_id);

/* What this link's ussd_service_op value means: SESSION_OP_BEGIN, SESSION_OP_CONTINUE (the
 * customer answered), SESSION_OP_ABORT, or -1 for a value that cannot start or move a dialogue. */
int kannel_meta_hop_op(const struct kannel_link *link, int op);
