#pragma once
/* The texts of SMS replies and notifications (menus/sms/texts.yaml): every text in every shipped
 * language, proven at load to fit one SMS with worst-case values, rendered with the customer's
 * values at run time. */
#include <stddef.h>
#include <stdint.h>
#include "sms_cmd.h"
#include "orders.h"

enum sms_text {
#define SMS_TEXT(e, key, vars) SMS_TEXT_##e,
#include "sms_cmd.def"
#undef SMS_TEXT
	_SMS_TEXT_COUNT
};

enum sms_var {
#define SMS_VAR(e, name) SMS_VAR_##e,
#include "sms_cmd.def"
#undef SMS_VAR
	_SMS_VAR_COUNT
};
#define SMS_V(e) (1u << SMS_VAR_##e)

#define SMS_TEXT_BYTES 512	/* one SMS of UTF-8 (160 septets or 70 UCS-2 units), with room */
#define SMS_ORDERS_MAX 5	/* most orders one ORDERS reply may list (orders-max:) */

struct sms_texts {
	const char *file;
	unsigned orders_max;	/* how many orders an ORDERS reply lists */
	char *lang_name[_SMS_LANG_COUNT];
	char *status[_ORDER_STATUS_COUNT][_SMS_LANG_COUNT];
	char *text[_SMS_TEXT_COUNT][_SMS_LANG_COUNT];
	unsigned line[_SMS_TEXT_COUNT][_SMS_LANG_COUNT];	/* where each text is, for messages */
};

/* What the linter proves every text against. */
struct sms_limits {
	int64_t total_max_cents;	/* the largest order total (price-max x qty-max) */
	unsigned septets;		/* 160 */
	unsigned ucs2;			/* 70 */
};

/* Loads and lints one file; errors go to stderr as "file:line: reason", -EINVAL if any. */
int sms_texts_load(void *ctx, const char *path, const struct sms_limits *lim, struct sms_texts **out);

/* The values a text's placeholders render. */
struct sms_vars {
	int64_t order;
	int status;				/* enum order_status */
	int64_t total_cents;
	const struct orders_row *orders;	/* {orders} */
	unsigned n_orders;
	int lang;				/* {language}: enum sms_lang */
	int64_t ticket;				/* {ticket} */
	int stars;				/* {stars} */
	int64_t amount_cents;			/* {amount} */
	int64_t limit_cents, used_cents, avail_cents, due_cents, store_cents;	/* BAL */
	const char *slip, *date, *pin;		/* {slip} {date} {pin}, already formatted */
	int64_t points;				/* {points}: loyalty points */
};

/* Renders a text in a language into buf (NUL-terminated); returns its length, or -ENOSPC. */
int sms_texts_render(const struct sms_texts *t, enum sms_text id, enum sms_lang lang, const struct sms_vars *v,
		     char *buf, size_t len);
/* The language a customer's stored code stands for (English when not shipped). */
enum sms_lang sms_texts_lang(const char *code);

/* The daemon's current texts (loaded by sms_texts_init, replaced by sms_texts_reload). */
extern struct sms_texts *g_sms_texts;
int sms_texts_init(void *ctx);		/* from g_cfg; -EINVAL with messages on stderr */
int sms_texts_reload(void);		/* keeps the old texts if the file has errors */
