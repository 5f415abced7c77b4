#pragma once
/* SMS keyword commands: what a customer's text asks for, in any shipped language.
 * The vocabulary is sms_cmd.def; the replies' texts are sms_texts.h. */
#include <stdbool.h>
#include <stdint.h>

enum sms_lang {
#define SMS_LANG(e, code) SMS_LANG_##e,
#include "sms_cmd.def"
#undef SMS_LANG
	_SMS_LANG_COUNT
};

enum sms_arg {
	SMS_ARG_NONE, SMS_ARG_ORDER, SMS_ARG_LANG,
	SMS_ARG_COMPLAIN,	/* an order number, then the customer's words (at least one) */
	SMS_ARG_RATE,		/* an order number, a digit 1-5, then maybe a comment */
};

enum sms_cmd {
	SMS_CMD_UNKNOWN,	/* anything else, the empty text too: answered with a short help */
#define SMS_CMD(e, name, arg, en, zu, af) SMS_CMD_##e,
#include "sms_cmd.def"
#undef SMS_CMD
	_SMS_CMD_COUNT
};

/* Longest order number a customer may type (and the linter's worst case). */
#define SMS_ORDER_DIGITS_MAX 10

struct sms_cmd_parsed {
	enum sms_cmd cmd;
	int kw_lang;		/* the language of the keyword used, -1 for UNKNOWN */
	bool arg_ok;		/* the argument the command needs is there and valid */
	int64_t order;		/* STATUS: the order number */
	int lang;		/* LANG: the language asked for (enum sms_lang) */
	int stars;		/* RATE: 1-5; UNKNOWN: the text is one digit 1-5 (a rating reply), else 0 */
	const char *rest;	/* COMPLAIN's text, RATE's comment: points into the text parsed, blanks
				 * trimmed at its start; "" when none */
};

/* Reads "status 1001", " Isimo #1001 ", "TAAL af", "stop.", "complain 1001 no bread", "rate 1001 5
 * fast" ... Never fails: what it does not know is SMS_CMD_UNKNOWN (free text for customer care,
 * or a bare digit 1-5). text is UTF-8, not necessarily NUL-free of odd characters. */
void sms_cmd_parse(const char *text, struct sms_cmd_parsed *p);

const char *sms_cmd_name(enum sms_cmd cmd);	/* "status", ..., "unknown" */
/* The keyword of cmd in language lang ("ISIMO"); NULL for UNKNOWN. */
const char *sms_cmd_keyword(enum sms_cmd cmd, enum sms_lang lang);
const char *sms_lang_code(enum sms_lang lang);	/* "en" */
int sms_lang_index(const char *code);		/* -1 if not shipped */
