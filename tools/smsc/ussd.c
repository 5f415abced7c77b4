/* USSD dialogues as the operator's USSD centre runs them over SMPP: the subscriber's dial opens a
 * dialogue (ussd_service_op 1, PSSR indication, to the dialled code) under an its_session_info, and each
 * answer (18, USSR confirm) goes to the code that dialogue was opened with. Scripts and handsets on the
 * control interface both build their deliver_sm here, so the two cannot disagree on the TLVs. */
#define _GNU_SOURCE
#include <string.h>

#include "smsc.h"

#define USSD_OP_PSSR_INDICATION	1
#define USSD_OP_USSR_CONFIRM	18

/* The code each recent dialogue was opened with, by its_session_info: the destination of its answers. */
static struct {
	long session;
	char code[24];
} sess_codes[64];
static unsigned sess_next;

static const char *session_code(long session)
{
	for (size_t i = 0; i < sizeof(sess_codes) / sizeof(sess_codes[0]); i++)
		if (sess_codes[i].code[0] && sess_codes[i].session == session)
			return sess_codes[i].code;
	return opt.code;
}

bool ussd_parse_session(const char *s, long *out)
{
	unsigned long v;

	if (!parse_ulong(s, 65535, &v))
		return false;
	*out = (long)v;
	return true;
}

/* MSISDN dials CODE. M points into the arguments: they must outlive the send. */
void ussd_begin(struct mo *m, const char *msisdn, const char *code, long session)
{
	unsigned slot = sess_next++ % (sizeof(sess_codes) / sizeof(sess_codes[0]));

	sess_codes[slot].session = session;
	snprintf(sess_codes[slot].code, sizeof(sess_codes[slot].code), "%s", code);
	*m = (struct mo){ .from = msisdn, .to = code, .text = code, .service_type = "USSD",
			  .op = USSD_OP_PSSR_INDICATION, .session = session, .message_state = -1 };
}

/* MSISDN answers TEXT in the dialogue SESSION. */
void ussd_continue(struct mo *m, const char *msisdn, const char *text, long session)
{
	*m = (struct mo){ .from = msisdn, .to = session_code(session), .text = text, .service_type = "USSD",
			  .op = USSD_OP_USSR_CONFIRM, .session = session, .message_state = -1 };
}
