/* Fuzz target: SMS keyword commands (src/domain/sms_cmd.c), the text any phone can send to the short
 * code. The parser never fails, so the checks are on what it says: a known command, an
 * argument in range when it says the argument is good, and the same answer whatever the case
 * of the letters. */
#include "fuzz.h"
#include <ctype.h>
#include <string.h>
#include "sms_cmd.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strdup(data, size);
	struct sms_cmd_parsed p, q;

	sms_cmd_parse(text, &p);
	FUZZ_ASSERT(p.cmd >= SMS_CMD_UNKNOWN && p.cmd < _SMS_CMD_COUNT);
	FUZZ_ASSERT(sms_cmd_name(p.cmd) != NULL);
	if (p.cmd == SMS_CMD_UNKNOWN) {
		FUZZ_ASSERT(p.kw_lang == -1 && !p.arg_ok);
		FUZZ_ASSERT(sms_cmd_keyword(p.cmd, SMS_LANG_EN) == NULL);
	} else {
		FUZZ_ASSERT(p.kw_lang >= 0 && p.kw_lang < _SMS_LANG_COUNT);
		FUZZ_ASSERT(sms_cmd_keyword(p.cmd, p.kw_lang) != NULL);
	}
	if (p.cmd == SMS_CMD_STATUS && p.arg_ok)
		FUZZ_ASSERT(p.order >= 1 && p.order <= 9999999999LL);
	/* customer care: an order and words (COMPLAIN), an order and 1-5 (RATE), a bare digit;
	 * the rest of the text is a string inside the text parsed */
	size_t len = strlen(text);
	FUZZ_ASSERT(p.rest && (!*p.rest || (p.rest >= text && p.rest + strlen(p.rest) == text + len)));
	if (p.cmd == SMS_CMD_COMPLAIN && p.arg_ok)
		/* the parser's blanks: space, tab, CR, LF (a vertical tab is text) */
		FUZZ_ASSERT(p.order >= 1 && p.order <= 9999999999LL && *p.rest && !strchr(" \t\r\n", *p.rest));
	if (p.cmd == SMS_CMD_RATE && p.arg_ok)
		FUZZ_ASSERT(p.order >= 1 && p.order <= 9999999999LL && p.stars >= 1 && p.stars <= 5);
	if (p.cmd == SMS_CMD_UNKNOWN)
		FUZZ_ASSERT(p.stars >= 0 && p.stars <= 5);
	if (p.cmd == SMS_CMD_LANG && p.arg_ok) {
		FUZZ_ASSERT(p.lang >= 0 && p.lang < _SMS_LANG_COUNT);
		FUZZ_ASSERT(sms_lang_index(sms_lang_code(p.lang)) == p.lang);
	}

	/* keywords and language names are matched whatever their case */
	for (size_t i = 0; i < size; i++)
		text[i] = (char)toupper((unsigned char)text[i]);
	sms_cmd_parse(text, &q);
	FUZZ_ASSERT(q.cmd == p.cmd && q.kw_lang == p.kw_lang && q.arg_ok == p.arg_ok);
	FUZZ_ASSERT(!p.arg_ok || (q.order == p.order && q.lang == p.lang));
	FUZZ_ASSERT(q.stars == p.stars);
	free(text);
	return 0;
}
