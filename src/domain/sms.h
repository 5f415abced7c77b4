#pragma once
/* SMS in: keyword commands (STATUS, ORDERS, HELP, STOP, START, LANG, COMPLAIN, RATE) from any
 * front end; any other text goes to customer care (care.h). */
#include <stddef.h>

struct sms_mo {
	const char *msisdn;	/* E.164 */
	const char *to;		/* the short code */
	const char *text;	/* UTF-8 */
	const char *mo_id;	/* the front end's message id: a duplicate delivery is answered once */
	const char *channel;	/* "kannel", "box" */
};

/* The reply SMS (UTF-8) or NULL for none; called once, maybe later. */
typedef void (*sms_reply_cb)(void *priv, const char *text);

void sms_init(void *ctx);
void sms_mo(const struct sms_mo *mo, sms_reply_cb cb, void *priv);
