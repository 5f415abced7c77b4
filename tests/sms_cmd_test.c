/* SMS keyword commands and texts: every command is understood by its keyword in every shipped
 * language, whatever the case and the blanks around it; arguments are read (order numbers,
 * language codes and names) and bad ones flagged; anything else is UNKNOWN. The shipped texts
 * load and fit one SMS in every language; broken or overlong texts are refused with file:line. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <talloc.h>
#include "gsm7.h"
#include "sms_cmd.h"
#include "sms_texts.h"
#include "testfile.h"
#include "testlib.h"

static struct sms_cmd_parsed parse(const char *text)
{
	struct sms_cmd_parsed p;
	sms_cmd_parse(text, &p);
	return p;
}

static void check_cmd(const char *text, enum sms_cmd cmd, int kw_lang, bool arg_ok)
{
	char what[160], shown[80];
	struct sms_cmd_parsed p = parse(text);
	/* the test name on one line: blanks shown as they are, CR and LF as \r \n */
	size_t n = 0;
	for (const char *c = text; *c && n < sizeof(shown) - 3; c++) {
		if (*c == '\r' || *c == '\n') {
			shown[n++] = '\\';
			shown[n++] = *c == '\r' ? 'r' : 'n';
		} else {
			shown[n++] = *c;
		}
	}
	shown[n] = '\0';
	snprintf(what, sizeof(what), "\"%.60s\" is %s (%s keyword, argument %s)", shown, sms_cmd_name(cmd),
		 kw_lang >= 0 ? sms_lang_code(kw_lang) : "no", arg_ok ? "ok" : "missing or bad");
	T_CHECK(p.cmd == cmd && p.kw_lang == kw_lang && p.arg_ok == arg_ok, what,
		"expected %s/%d/%d, got %s/%d/%d", sms_cmd_name(cmd), kw_lang, arg_ok, sms_cmd_name(p.cmd), p.kw_lang,
		p.arg_ok);
}

/* Every command's keyword, in every language, in three spellings. */
static void keywords_every_language(void)
{
	for (int c = SMS_CMD_UNKNOWN + 1; c < _SMS_CMD_COUNT; c++)
		for (int l = 0; l < _SMS_LANG_COUNT; l++) {
			const char *kw = sms_cmd_keyword(c, l);
			char lower[32], mixed[40], text[64];
			size_t n = strlen(kw);
			for (size_t i = 0; i <= n; i++) {
				lower[i] = (char)(kw[i] >= 'A' && kw[i] <= 'Z' ? kw[i] + 32 : kw[i]);
				mixed[i] = i % 2 ? lower[i] : kw[i];
			}
			/* the same word may be a keyword in two languages (STATUS, STOP): the first wins */
			int first = l;
			for (int e = 0; e < l; e++)
				if (!strcmp(sms_cmd_keyword(c, e), kw))
					first = e;
			const char *arg = c == SMS_CMD_STATUS ? " 1001" : c == SMS_CMD_LANG ? " zu" :
					  c == SMS_CMD_COMPLAIN ? " 1001 no bread" : c == SMS_CMD_RATE ? " 1001 4" : "";
			snprintf(text, sizeof(text), "%s%s", kw, arg);
			check_cmd(text, c, first, true);
			snprintf(text, sizeof(text), "%s%s", lower, arg);
			check_cmd(text, c, first, true);
			snprintf(text, sizeof(text), "  %s%s \r\n", mixed, arg);
			check_cmd(text, c, first, true);
		}
}

/* No word stands for two different commands, or the parser's first match would hide one. */
static void keywords_unambiguous(void)
{
	unsigned clashes = 0;
	for (int c = SMS_CMD_UNKNOWN + 1; c < _SMS_CMD_COUNT; c++)
		for (int l = 0; l < _SMS_LANG_COUNT; l++)
			for (int d = c + 1; d < _SMS_CMD_COUNT; d++)
				for (int m = 0; m < _SMS_LANG_COUNT; m++)
					clashes += !strcasecmp(sms_cmd_keyword(c, l), sms_cmd_keyword(d, m));
	T_EQ_INT(clashes, 0, "no keyword means two different commands in any pair of languages");
}

static void languages_named(void)
{
	T_EQ_STR(sms_cmd_keyword(SMS_CMD_STATUS, SMS_LANG_ZU), "ISIMO", "isiZulu STATUS is ISIMO");
	T_EQ_STR(sms_cmd_keyword(SMS_CMD_ORDERS, SMS_LANG_AF), "BESTELLINGS", "Afrikaans ORDERS is BESTELLINGS");
	T_EQ_STR(sms_cmd_keyword(SMS_CMD_START, SMS_LANG_AF), "BEGIN", "Afrikaans START is BEGIN");
	T_EQ_STR(sms_cmd_keyword(SMS_CMD_STOP, SMS_LANG_ZU), "YEKA", "isiZulu STOP is YEKA");
	T_EQ_INT(sms_lang_index("af"), SMS_LANG_AF, "af is a shipped language");
	T_EQ_INT(sms_lang_index("fr"), -1, "fr is not a shipped language");
}

static void arguments(void)
{
	struct sms_cmd_parsed p = parse("STATUS 1042");
	T_EQ_INT(p.order, 1042, "STATUS 1042 reads order 1042");
	p = parse("isimo #1043");
	T_CHECK(p.cmd == SMS_CMD_STATUS && p.arg_ok && p.order == 1043, "isimo #1043 reads order 1043 (a # in front)",
		"got %s ok=%d order=%lld", sms_cmd_name(p.cmd), p.arg_ok, (long long)p.order);
	p = parse("Status 1044 please");
	T_CHECK(p.arg_ok && p.order == 1044, "words after the order number are ignored", "got ok=%d order=%lld",
		p.arg_ok, (long long)p.order);
	check_cmd("STATUS", SMS_CMD_STATUS, SMS_LANG_EN, false);
	check_cmd("STATUS abc", SMS_CMD_STATUS, SMS_LANG_EN, false);
	check_cmd("STATUS 0", SMS_CMD_STATUS, SMS_LANG_EN, false);
	check_cmd("STATUS -5", SMS_CMD_STATUS, SMS_LANG_EN, false);
	check_cmd("STATUS 12345678901", SMS_CMD_STATUS, SMS_LANG_EN, false);	/* 11 digits */
	p = parse("status 9999999999");
	T_CHECK(p.arg_ok && p.order == 9999999999LL, "a 10-digit order number is read", "got ok=%d", p.arg_ok);

	static const struct { const char *text; int lang; } langs[] = {
		{ "LANG zu", SMS_LANG_ZU }, { "lang AF", SMS_LANG_AF }, { "Lang en", SMS_LANG_EN },
		{ "TAAL afrikaans", SMS_LANG_AF }, { "ulimi isizulu", SMS_LANG_ZU }, { "ULIMI ZULU", SMS_LANG_ZU },
		{ "taal engels", SMS_LANG_EN }, { "lang English", SMS_LANG_EN }, { "ulimi isingisi", SMS_LANG_EN },
		{ "ulimi isibhunu", SMS_LANG_AF },
	};
	for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++) {
		char what[96];
		p = parse(langs[i].text);
		snprintf(what, sizeof(what), "\"%s\" asks for %s", langs[i].text, sms_lang_code(langs[i].lang));
		T_CHECK(p.cmd == SMS_CMD_LANG && p.arg_ok && p.lang == langs[i].lang, what, "got %s ok=%d lang=%d",
			sms_cmd_name(p.cmd), p.arg_ok, p.lang);
	}
	check_cmd("LANG", SMS_CMD_LANG, SMS_LANG_EN, false);
	check_cmd("LANG fr", SMS_CMD_LANG, SMS_LANG_EN, false);
	check_cmd("STOP please", SMS_CMD_STOP, SMS_LANG_EN, true);
	check_cmd("stop.", SMS_CMD_STOP, SMS_LANG_EN, true);
	check_cmd("Help!", SMS_CMD_HELP, SMS_LANG_EN, true);
}

/* Customer care: COMPLAIN needs an order and words, RATE an order and 1-5 (a comment may
 * follow); one digit alone is a rating reply; anything else is free text (UNKNOWN). */
static void care(void)
{
	struct sms_cmd_parsed p = parse("complain #1042   my bread never came");
	T_CHECK(p.cmd == SMS_CMD_COMPLAIN && p.arg_ok && p.order == 1042 && !strcmp(p.rest, "my bread never came"),
		"COMPLAIN reads the order and keeps the customer's words", "got %s ok=%d order=%lld rest=\"%s\"",
		sms_cmd_name(p.cmd), p.arg_ok, (long long)p.order, p.rest);
	check_cmd("KHALAZA 1042 isinkwa asifikanga", SMS_CMD_COMPLAIN, SMS_LANG_ZU, true);
	check_cmd("kla 1042 geen brood", SMS_CMD_COMPLAIN, SMS_LANG_AF, true);
	check_cmd("COMPLAIN 1042", SMS_CMD_COMPLAIN, SMS_LANG_EN, false);
	check_cmd("COMPLAIN 1042   ", SMS_CMD_COMPLAIN, SMS_LANG_EN, false);
	check_cmd("COMPLAIN bread 1042", SMS_CMD_COMPLAIN, SMS_LANG_EN, false);
	check_cmd("COMPLAIN", SMS_CMD_COMPLAIN, SMS_LANG_EN, false);

	p = parse("rate 1042 5 fast and friendly");
	T_CHECK(p.cmd == SMS_CMD_RATE && p.arg_ok && p.order == 1042 && p.stars == 5 &&
		!strcmp(p.rest, "fast and friendly"), "RATE reads the order, the stars and the comment",
		"got %s ok=%d order=%lld stars=%d rest=\"%s\"", sms_cmd_name(p.cmd), p.arg_ok, (long long)p.order,
		p.stars, p.rest);
	p = parse("BEOORDEEL 1042 3");
	T_CHECK(p.cmd == SMS_CMD_RATE && p.arg_ok && p.stars == 3 && !*p.rest, "a rating without a comment",
		"got ok=%d stars=%d rest=\"%s\"", p.arg_ok, p.stars, p.rest);
	check_cmd("LINGANISA 1042 1", SMS_CMD_RATE, SMS_LANG_ZU, true);
	check_cmd("RATE 1042 0", SMS_CMD_RATE, SMS_LANG_EN, false);
	check_cmd("RATE 1042 6", SMS_CMD_RATE, SMS_LANG_EN, false);
	check_cmd("RATE 1042 55", SMS_CMD_RATE, SMS_LANG_EN, false);
	check_cmd("RATE 1042", SMS_CMD_RATE, SMS_LANG_EN, false);
	check_cmd("RATE five 1042", SMS_CMD_RATE, SMS_LANG_EN, false);

	for (int d = 1; d <= 5; d++) {
		char text[8], what[64];
		snprintf(text, sizeof(text), " %d.\r\n", d);
		p = parse(text);
		snprintf(what, sizeof(what), "a bare %d is a rating reply of %d stars", d, d);
		T_CHECK(p.cmd == SMS_CMD_UNKNOWN && p.stars == d, what, "got %s stars=%d", sms_cmd_name(p.cmd), p.stars);
	}
	static const char *const not_ratings[] = { "0", "6", "12", "5 stars", "five", "STATUS 5" };
	for (size_t i = 0; i < sizeof(not_ratings) / sizeof(not_ratings[0]); i++) {
		char what[64];
		p = parse(not_ratings[i]);
		snprintf(what, sizeof(what), "\"%s\" is not a rating reply", not_ratings[i]);
		T_CHECK(p.stars == 0 || p.cmd == SMS_CMD_RATE, what, "got stars=%d", p.stars);
	}
}

static void unknown(void)
{
	check_cmd("", SMS_CMD_UNKNOWN, -1, false);
	check_cmd("   ", SMS_CMD_UNKNOWN, -1, false);
	check_cmd("hello there", SMS_CMD_UNKNOWN, -1, false);
	check_cmd("STATUS1001", SMS_CMD_UNKNOWN, -1, false);
	check_cmd("STOPP", SMS_CMD_UNKNOWN, -1, false);
	check_cmd("1001", SMS_CMD_UNKNOWN, -1, false);
	check_cmd("ŠTOP", SMS_CMD_UNKNOWN, -1, false);
	char longword[200];
	memset(longword, 'S', sizeof(longword) - 1);
	longword[sizeof(longword) - 1] = '\0';
	check_cmd(longword, SMS_CMD_UNKNOWN, -1, false);
	struct sms_cmd_parsed p;
	sms_cmd_parse(NULL, &p);
	T_EQ_INT(p.cmd, SMS_CMD_UNKNOWN, "no text at all is UNKNOWN");
}

static const struct sms_limits lim = { .total_max_cents = 999999 * 20, .septets = 160, .ucs2 = 70 };

static void shipped_texts(void *ctx)
{
	struct sms_texts *t = NULL;
	int rc = sms_texts_load(ctx, SRCDIR "/menus/sms/texts.yaml", &lim, &t);
	T_EQ_INT(rc, 0, "the shipped SMS texts load and fit one SMS in every language with the longest values");
	if (rc < 0)
		return;
	char buf[SMS_TEXT_BYTES];
	struct sms_vars v = { .order = 1042, .status = 2, .total_cents = 8397, .lang = -1 };
	sms_texts_render(t, SMS_TEXT_STATUS, SMS_LANG_EN, &v, buf, sizeof(buf));
	T_EQ_STR(buf, "Order #1042: shipped. Total R83.97.", "STATUS reply in English");
	sms_texts_render(t, SMS_TEXT_STATUS, SMS_LANG_ZU, &v, buf, sizeof(buf));
	T_EQ_STR(buf, "I-oda #1042: kuthunyelwe. Isamba R83.97.", "STATUS reply in isiZulu");
	sms_texts_render(t, SMS_TEXT_ORDER_STATUS, SMS_LANG_AF, &v, buf, sizeof(buf));
	T_EQ_STR(buf, "Spaza: bestelling #1042 is nou gestuur. Totaal R83.97.", "status notification in Afrikaans");
	struct orders_row rows[4] = { { 1044, 1, 1, 1799, 0, 1799 }, { 1043, 1, 2, 5598, 1, 5598 }, { 1042, 1, 3, 8397, 4, 8397 },
		{ 1041, 1, 1, 100, 3, 100 } };
	struct sms_vars lv = { .orders = rows, .n_orders = 4, .status = -1, .lang = -1 };
	sms_texts_render(t, SMS_TEXT_ORDERS, SMS_LANG_EN, &lv, buf, sizeof(buf));
	T_EQ_STR(buf, "Your orders: #1044 awaiting payment R17.99; #1043 paid R55.98; #1042 cancelled R83.97",
		 "ORDERS lists orders-max (3) orders, newest first, joined by \"; \"");
	struct sms_vars lang = { .status = -1, .lang = SMS_LANG_AF };
	sms_texts_render(t, SMS_TEXT_LANG, SMS_LANG_AF, &lang, buf, sizeof(buf));
	T_EQ_STR(buf, "Spaza sal in Afrikaans aan jou skryf.", "LANG confirms in the language chosen");
	unsigned over = 0;
	for (int i = 0; i < _SMS_TEXT_COUNT; i++)
		for (int l = 0; l < _SMS_LANG_COUNT; l++) {
			struct sms_vars w = { .order = 9999999999LL, .status = 0, .total_cents = lim.total_max_cents,
				.orders = rows, .n_orders = 3, .lang = l };
			int n = sms_texts_render(t, i, l, &w, buf, sizeof(buf));
			over += n < 0 || !gsm7_fits(buf, n, 160, 70);
		}
	T_EQ_INT(over, 0, "every text rendered with large values fits one SMS (what the linter proved)");
	T_EQ_INT(sms_texts_lang("xx"), SMS_LANG_EN, "a customer language SMS is not shipped in falls back to English");
}

static int load_texts(void *ctx, const char *path)
{
	struct sms_texts *t = NULL;
	return sms_texts_load(ctx, path, &lim, &t);
}

/* A complete file, every text "Hi", with one text replaced. */
static char *texts_yaml2(void *ctx, const char *key, const char *value, const char *key2, const char *value2)
{
	char *y = talloc_strdup(ctx, "languages: {en: English, zu: isiZulu, af: Afrikaans}\n"
				"statuses: {awaiting_payment: A, paid: P, shipped: S, delivered: D, cancelled: C, expired: E}\n"
				"texts:\n");
	static const char *const keys[] = {
#define SMS_TEXT(e, k, v) k,
#include "sms_cmd.def"
#undef SMS_TEXT
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (key && !strcmp(keys[i], key)) {
			if (value)
				y = talloc_asprintf_append(y, "  %s: %s\n", key, value);
			continue;
		}
		if (key2 && !strcmp(keys[i], key2)) {
			y = talloc_asprintf_append(y, "  %s: %s\n", key2, value2);
			continue;
		}
		y = talloc_asprintf_append(y, "  %s: Hi\n", keys[i]);
	}
	return y;
}

static char *texts_yaml(void *ctx, const char *key, const char *value)
{
	return texts_yaml2(ctx, key, value, NULL, NULL);
}

static void refusals(void *ctx)
{
	char path[] = "/tmp/sms_test_ok_XXXXXX.yaml";
	testfile_write(path, texts_yaml(ctx, NULL, NULL));
	T_EQ_INT(load_texts(ctx, path), 0, "a minimal complete texts file loads");
	unlink(path);

	/* line 4 is the first text (help) */
	testfile_expect_refused(ctx, load_texts, "texts: a missing translation is refused with its line",
		texts_yaml(ctx, "help", "{en: Help, zu: Usizo}"), "4: texts: help: no text for language \"af\"");
	testfile_expect_refused(ctx, load_texts, "texts: a missing text is named", texts_yaml(ctx, "stop", NULL),
		"1: texts: stop: text missing");
	testfile_expect_refused(ctx, load_texts, "texts: an unknown placeholder is refused",
		texts_yaml(ctx, "help", "\"Hi {name}\""), "4: texts: help: unknown placeholder {name}");
	testfile_expect_refused(ctx, load_texts, "texts: a placeholder the text has no value for is refused",
		texts_yaml(ctx, "help", "\"Hi {order}\""), "4: texts: help: placeholder {order} has no value here");
	testfile_expect_refused(ctx, load_texts, "texts: a typo in a text name is named",
		talloc_asprintf(ctx, "%s  hlep: x\n", texts_yaml(ctx, NULL, NULL)),
		/* the line after the last text: one line per text after the first three */
		talloc_asprintf(ctx, "%d: texts: unknown key \"hlep\"", 4 + _SMS_TEXT_COUNT));
	testfile_expect_refused(ctx, load_texts, "texts: YAML syntax errors give a line", "languages: [\n",
		"2: YAML syntax");

	char carets[100], *v;
	memset(carets, '^', sizeof(carets));
	v = talloc_asprintf(ctx, "\"%.81s\"", carets);
	testfile_expect_refused(ctx, load_texts, "lint: extension characters count two septets (81 x ^ = 162 > 160)",
		texts_yaml(ctx, "help", v), "4: texts: help (en): 162 GSM-7 septets with the longest values,"
		" over the 160 of one SMS by 2");
	v = talloc_asprintf(ctx, "\"%.80s\"", carets);
	testfile_write(strcpy(path, "/tmp/sms_test_ok_XXXXXX.yaml"), texts_yaml(ctx, "help", v));
	T_EQ_INT(load_texts(ctx, path), 0, "lint: 80 x ^ (160 septets) fits exactly");
	unlink(path);

	/* 60 characters + a 10-digit order number: 70 UCS-2 characters fit, 71 do not */
	testfile_expect_refused(ctx, load_texts,
		"lint: a non-GSM-7 text with the longest order number is held to 70 UCS-2 characters",
		texts_yaml(ctx, "not_found", "\"ê123456789012345678901234567890123456789012345678901234567890{order}\""),
		"8: texts: not_found (en): 71 UCS-2 characters with the longest values (not all GSM-7), over the 70");
	testfile_expect_refused(ctx, load_texts, "lint: {orders} counts orders-max items at their longest status",
		talloc_asprintf(ctx, "orders-max: 3\n%s", texts_yaml2(ctx, "orders", "\"Orders: {orders}\"",
		"orders_item", "\"#{order} {status} {total} and some more words here!\"")),
		"10: texts: orders (en): 162 GSM-7 septets");
}

int main(void)
{
	void *ctx = talloc_named_const(NULL, 0, "sms_cmd_test");
	keywords_every_language();
	keywords_unambiguous();
	languages_named();
	arguments();
	care();
	unknown();
	shipped_texts(ctx);
	refusals(ctx);
	talloc_free(ctx);
	return T_DONE();
}
