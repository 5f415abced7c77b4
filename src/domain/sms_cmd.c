/* SMS keyword commands: one table (sms_cmd.def) of every command's keyword in every shipped
 * language. A text is a keyword, then maybe an argument; case, surrounding blanks and a
 * trailing full stop or exclamation mark do not matter, because that is how people type on
 * a keypad. Words after a command that takes no argument are ignored ("STOP please"). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "sms_cmd.h"

static const char *const lang_codes[] = {
#define SMS_LANG(e, code) code,
#include "sms_cmd.def"
#undef SMS_LANG
};

static const struct {
	const char *name;
	enum sms_arg arg;
	const char *kw[_SMS_LANG_COUNT];
} cmds[] = {
	[SMS_CMD_UNKNOWN] = { "unknown", SMS_ARG_NONE, { NULL } },
#define SMS_CMD(e, nm, a, en, zu, af) [SMS_CMD_##e] = { nm, a, { en, zu, af } },
#include "sms_cmd.def"
#undef SMS_CMD
};
_Static_assert(_SMS_LANG_COUNT == 3, "sms_cmd.def: SMS_CMD has one keyword column per SMS_LANG");

static const struct {
	enum sms_lang lang;
	const char *word;
} lang_words[] = {
#define SMS_LANG_WORD(l, w) { SMS_LANG_##l, w },
#include "sms_cmd.def"
#undef SMS_LANG_WORD
};

#define SMS_WORD_MAX 24

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The next word, upper-cased into buf (ASCII only: keywords are ASCII). Returns the position
 * after it; *len 0 at the end of the text. A word longer than buf is returned cut short and
 * flagged by *len = SMS_WORD_MAX + 1, so it matches nothing. */
static const char *next_word(const char *p, char *buf, size_t *len)
{
	size_t n = 0;
	while (is_blank(*p))
		p++;
	while (*p && !is_blank(*p)) {
		if (n < SMS_WORD_MAX)
			buf[n] = toupper((unsigned char)*p);
		n++;
		p++;
	}
	if (n > SMS_WORD_MAX)
		n = SMS_WORD_MAX + 1;
	buf[n > SMS_WORD_MAX ? SMS_WORD_MAX : n] = '\0';
	/* "stop." "help!" */
	while (n && n <= SMS_WORD_MAX && (buf[n - 1] == '.' || buf[n - 1] == '!'))
		buf[--n] = '\0';
	*len = n;
	return p;
}

/* "1001" or "#1001": digits only, at most one leading '#', no more than fit an order number. */
static bool parse_order(const char *w, int64_t *order)
{
	if (*w == '#')
		w++;
	size_t n = strlen(w);
	if (!n || n > SMS_ORDER_DIGITS_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)w[i]))	/* NOLINT(clang-analyzer-core.uninitialized.ArraySubscript): next_word() NUL-terminates w */
			return false;
	*order = strtoll(w, NULL, 10);
	return *order > 0;
}

static int parse_lang(const char *w)
{
	for (int l = 0; l < _SMS_LANG_COUNT; l++)
		if (!strcasecmp(w, lang_codes[l]))
			return l;
	for (size_t i = 0; i < sizeof(lang_words) / sizeof(lang_words[0]); i++)
		if (!strcmp(w, lang_words[i].word))
			return lang_words[i].lang;
	return -1;
}

/* "1".."5" alone: a star rating. */
static int parse_stars(const char *w, size_t len)
{
	return len == 1 && w[0] >= '1' && w[0] <= '5' ? w[0] - '0' : 0;
}

static const char *skip_blanks(const char *p)
{
	while (is_blank(*p))
		p++;
	return p;
}

void sms_cmd_parse(const char *text, struct sms_cmd_parsed *p)
{
	char word[SMS_WORD_MAX + 1], arg[SMS_WORD_MAX + 1];
	size_t len, alen;

	*p = (struct sms_cmd_parsed){ .cmd = SMS_CMD_UNKNOWN, .kw_lang = -1, .lang = -1, .rest = "" };
	if (!text)
		return;
	const char *rest = next_word(text, word, &len);
	if (!len || len > SMS_WORD_MAX)
		return;
	if (!*skip_blanks(rest))
		p->stars = parse_stars(word, len);
	/* the customer's own language is not known here: first match in table order wins, and
	 * the table has no word that means two different commands */
	for (int c = SMS_CMD_UNKNOWN + 1; c < _SMS_CMD_COUNT && p->cmd == SMS_CMD_UNKNOWN; c++)
		for (int l = 0; l < _SMS_LANG_COUNT; l++)
			if (!strcmp(word, cmds[c].kw[l])) {
				p->cmd = c;
				p->kw_lang = l;
				break;
			}
	if (p->cmd == SMS_CMD_UNKNOWN)
		return;
	p->stars = 0;
	rest = next_word(rest, arg, &alen);
	switch (cmds[p->cmd].arg) {
	case SMS_ARG_NONE:
		p->arg_ok = true;
		break;
	case SMS_ARG_ORDER:
		p->arg_ok = alen && alen <= SMS_WORD_MAX && parse_order(arg, &p->order);
		break;
	case SMS_ARG_LANG:
		p->lang = alen && alen <= SMS_WORD_MAX ? parse_lang(arg) : -1;
		p->arg_ok = p->lang >= 0;
		break;
	case SMS_ARG_COMPLAIN:
		p->rest = skip_blanks(rest);
		p->arg_ok = alen && alen <= SMS_WORD_MAX && parse_order(arg, &p->order) && *p->rest;
		break;
	case SMS_ARG_RATE: {
		char st[SMS_WORD_MAX + 1];
		size_t slen;
		p->arg_ok = alen && alen <= SMS_WORD_MAX && parse_order(arg, &p->order);
		rest = next_word(rest, st, &slen);
		p->stars = parse_stars(st, slen);
		p->arg_ok = p->arg_ok && p->stars;
		p->rest = skip_blanks(rest);
		break;
	}
	}
}

const char *sms_cmd_name(enum sms_cmd cmd)
{
	return cmd < _SMS_CMD_COUNT ? cmds[cmd].name : "unknown";
}

const char *sms_cmd_keyword(enum sms_cmd cmd, enum sms_lang lang)
{
	if (cmd == SMS_CMD_UNKNOWN || cmd >= _SMS_CMD_COUNT || lang >= _SMS_LANG_COUNT)
		return NULL;
	return cmds[cmd].kw[lang];
}

const char *sms_lang_code(enum sms_lang lang)
{
	return lang < _SMS_LANG_COUNT ? lang_codes[lang] : "en";
}

int sms_lang_index(const char *code)
{
	for (int l = 0; code && l < _SMS_LANG_COUNT; l++)
		if (!strcmp(code, lang_codes[l]))
			return l;
	return -1;
}
