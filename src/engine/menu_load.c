/* Menu loader and linter: a YAML menu file becomes an immutable struct menu, or a list of
 * "file:line: reason" messages. Every screen is then rendered in every language with
 * worst-case values (longest names, largest prices, longest lists) and the file is refused
 * if any screen could overflow the USSD budget: a shop owner learns it at load time,
 * never from a customer's phone. */
#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <yaml.h>
#include <osmocom/core/utils.h>
#include "menu.h"
#include "gsm7.h"
#include "yaml_doc.h"

static const char *const screen_names[] = {
#define SCREEN(e, n) n,
#include "menu_nodes.def"
#undef SCREEN
};
static const char *const var_names[] = {
#define VAR(e, n) n,
#include "menu_nodes.def"
#undef VAR
};
static const char *const source_names[] = {
#define SOURCE(e, n) n,
#include "menu_nodes.def"
#undef SOURCE
};
static const char *const action_names[] = {
#define ACTION(e, n) n,
#include "menu_nodes.def"
#undef ACTION
};
static const char *const method_names[] = {
#define METHOD(e, n) n,
#include "menu_nodes.def"
#undef METHOD
};
static const char *const outcome_names[] = {
#define OUTCOME(e, n) n,
#include "menu_nodes.def"
#undef OUTCOME
};

struct loader {
	struct yd yd;
	struct menu *m;
	bool plain;	/* loading status texts or language names: no placeholders (see text_compile) */
};

static int name_index(const char *const *names, unsigned n, const char *s)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

/* "Order {qty} x {product}" -> literal and placeholder segments. */
static int text_compile(struct loader *ld, const yaml_node_t *at, const char *src, struct menu_text *t)
{
	struct menu_seg segs[64];
	unsigned n = 0;
	const char *p = src;
	while (*p) {
		if (n >= 62) {
			yd_err(&ld->yd, at, "text has too many placeholders");
			return -EINVAL;
		}
		const char *open = strchr(p, '{');
		if (!open) {
			segs[n++] = (struct menu_seg){ -1, talloc_strdup(ld->m, p), (unsigned)strlen(p) };
			break;
		}
		if (open > p)
			segs[n++] = (struct menu_seg){ -1, talloc_strndup(ld->m, p, open - p), (unsigned)(open - p) };
		const char *close = strchr(open, '}');
		if (!close) {
			yd_err(&ld->yd, at, "unclosed \"{\" in text \"%s\"", src);
			return -EINVAL;
		}
		char name[32];
		snprintf(name, sizeof(name), "%.*s", (int)(close - open - 1), open + 1);
		int v = name_index(var_names, _MENU_VAR_COUNT, name);
		if (v < 0) {
			yd_err(&ld->yd, at, "unknown placeholder {%s}", name);
			return -EINVAL;
		}
		/* Status texts and language names are themselves what {status} and {language} show:
		 * a placeholder in one would render itself, recursing until the stack runs out. */
		if (ld->plain) {
			yd_err(&ld->yd, at, "placeholder {%s} in a status text or language name (they are plain text)",
			       name);
			return -EINVAL;
		}
		segs[n++] = (struct menu_seg){ v, NULL, 0 };
		p = close + 1;
	}
	if (gsm7_measure(src, strlen(src), &(struct gsm7_measure){ 0 }) < 0) {
		yd_err(&ld->yd, at, "text is not valid UTF-8");
		return -EINVAL;
	}
	t->n = n;
	t->segs = talloc_memdup(ld->m, segs, n * sizeof(segs[0]));
	return 0;
}

/* A text is one string for every language, or a mapping language -> string with every
 * language of the menu present. */
static void text_load(struct loader *ld, const yaml_node_t *n, const char *what, struct menu_text *t, bool required)
{
	struct menu *m = ld->m;
	if (!n) {
		if (required)
			yd_err(&ld->yd, NULL, "%s: text missing", what);
		return;
	}
	if (n->type == YAML_SCALAR_NODE) {
		for (unsigned l = 0; l < m->n_langs; l++)
			text_compile(ld, n, yd_scalar(n), &t[l]);
		return;
	}
	if (n->type != YAML_MAPPING_NODE) {
		yd_err(&ld->yd, n, "%s: a text is a string or a mapping of language to string", what);
		return;
	}
	for (unsigned l = 0; l < m->n_langs; l++) {
		const yaml_node_t *v = yd_map_get(&ld->yd, n, m->langs[l]);
		if (!yd_scalar(v))
			yd_err(&ld->yd, n, "%s: no text for language \"%s\"", what, m->langs[l]);
		else
			text_compile(ld, v, yd_scalar(v), &t[l]);
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(&ld->yd.doc, p->key);
		if (menu_lang_index(m, yd_scalar(k) ? yd_scalar(k) : "") < 0)
			yd_err(&ld->yd, k, "%s: language \"%s\" is not in the menu's languages", what, yd_scalar(k));
	}
}

static struct menu_screen *screen_find(struct menu *m, const char *name)
{
	for (unsigned i = 0; name && i < m->n_screens; i++)
		if (!strcmp(m->screens[i].name, name))
			return &m->screens[i];
	return NULL;
}

static const struct menu_screen *screen_ref(struct loader *ld, const yaml_node_t *n, const char *what)
{
	if (!n)
		return NULL;
	const struct menu_screen *s = screen_find(ld->m, yd_scalar(n));
	if (!s)
		yd_err(&ld->yd, n, "%s: no screen named \"%s\"", what, yd_scalar(n) ? yd_scalar(n) : "?");
	return s;
}

static unsigned uint_get(struct loader *ld, const yaml_node_t *n, unsigned dflt, unsigned lo, unsigned hi)
{
	if (!n)
		return dflt;
	char *end;
	const char *s = yd_scalar(n);
	unsigned long v = s ? strtoul(s, &end, 10) : 0;
	if (!s || *end || v < lo || v > hi) {
		yd_err(&ld->yd, n, "expected a number from %u to %u", lo, hi);
		return dflt;
	}
	return v;
}

static bool bool_get(struct loader *ld, const yaml_node_t *n, bool dflt)
{
	const char *s = yd_scalar(n);
	if (!n)
		return dflt;
	if (s && (!strcmp(s, "true") || !strcmp(s, "yes")))
		return true;
	if (s && (!strcmp(s, "false") || !strcmp(s, "no")))
		return false;
	yd_err(&ld->yd, n, "expected true or false");
	return dflt;
}

static int regex_destructor(regex_t **re)
{
	regfree(*re);
	return 0;
}

/* glibc's regcomp() copies a subexpression once for every repetition it may take, and again for
 * every quantifier around it: stacked quantifiers ("1++++...") or nested counted repetitions
 * grow it exponentially, to gigabytes (the menu_load fuzz target found it). An input screen's
 * pattern checks a few digits, so these bounds cost no real menu anything. */
#define PATTERN_MAX_LEN 80
#define PATTERN_MAX_COUNT 32	/* largest number in {m,n} */
#define PATTERN_MAX_DEPTH 3	/* nested parentheses */
#define PATTERN_MAX_BRACES 3	/* {m,n} quantifiers */

static bool pattern_too_complex(const char *pat, char *why, size_t len)
{
	unsigned depth = 0, braces = 0;
	bool after_quantifier = false;

	if (strlen(pat) > PATTERN_MAX_LEN) {
		snprintf(why, len, "longer than %d characters", PATTERN_MAX_LEN);
		return true;
	}
	for (const char *p = pat; *p; p++) {
		bool quantifier = *p == '*' || *p == '+' || *p == '?' || *p == '{';
		if (*p == '\\' && p[1]) {
			p++;
		} else if (*p == '[') {	/* a bracket expression: no quantifiers inside */
			const char *end = strchr(p + (p[1] == ']' ? 2 : 1), ']');
			p = end ? end : p + strlen(p) - 1;
		} else if (quantifier && after_quantifier) {
			snprintf(why, len, "a quantifier right after another (\"%.2s\")", p - 1);
			return true;
		} else if (*p == '(' && ++depth > PATTERN_MAX_DEPTH) {
			snprintf(why, len, "parentheses nested deeper than %d", PATTERN_MAX_DEPTH);
			return true;
		} else if (*p == ')' && depth) {
			depth--;
		} else if (*p == '{') {
			char *end;
			for (const char *q = p + 1; *q && *q != '}'; q = end) {
				unsigned long v = strtoul(q, &end, 10);
				if (end == q)
					end = (char *)q + 1;
				else if (v > PATTERN_MAX_COUNT) {
					snprintf(why, len, "a repetition count over %d", PATTERN_MAX_COUNT);
					return true;
				}
			}
			if (++braces > PATTERN_MAX_BRACES) {
				snprintf(why, len, "more than %d counted repetitions ({m,n})", PATTERN_MAX_BRACES);
				return true;
			}
			const char *close = strchr(p, '}');
			p = close ? close : p + strlen(p) - 1;
		}
		after_quantifier = quantifier;
	}
	return false;
}

static void screen_load(struct loader *ld, struct menu_screen *s, const yaml_node_t *n)
{
	static const char *const keys[] = { "type", "text", "options", "back", "next", "select", "source",
		"item", "empty", "error", "pattern", "max-length", "store", "action", "on", "nav", "end",
		"max-items" };
	char what[96];
	snprintf(what, sizeof(what), "screen \"%s\"", s->name);
	yd_check_keys(&ld->yd, n, what, keys, ARRAY_SIZE(keys));

	const char *type = yd_scalar(yd_map_get(&ld->yd, n, "type"));
	int t = type ? name_index(screen_names, _MENU_SCREEN_COUNT, type) : -1;
	if (t < 0) {
		yd_err(&ld->yd, n, "%s: type must be menu, list, input, confirm or end", what);
		return;
	}
	s->type = t;
	s->nav = bool_get(ld, yd_map_get(&ld->yd, n, "nav"), true);
	s->back = screen_ref(ld, yd_map_get(&ld->yd, n, "back"), what);
	s->next = screen_ref(ld, yd_map_get(&ld->yd, n, "next"), what);
	s->select = screen_ref(ld, yd_map_get(&ld->yd, n, "select"), what);
	s->source = MENU_SOURCE_NONE;
	s->action = MENU_ACTION_NONE;
	text_load(ld, yd_map_get(&ld->yd, n, "text"), what, s->text, true);

	const yaml_node_t *a = yd_map_get(&ld->yd, n, "action");
	if (a) {
		int ai = yd_scalar(a) ? name_index(action_names, _MENU_ACTION_COUNT, yd_scalar(a)) : -1;
		if (ai < 0 || ai == MENU_ACTION_LOAD_ORDERS)
			yd_err(&ld->yd, a, "%s: unknown action \"%s\"", what, yd_scalar(a) ? yd_scalar(a) : "?");
		else
			s->action = ai;
	}
	const yaml_node_t *on = yd_map_get(&ld->yd, n, "on");
	if (on && on->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = on->data.mapping.pairs.start; p < on->data.mapping.pairs.top; p++) {
			const yaml_node_t *k = yaml_document_get_node(&ld->yd.doc, p->key);
			int oi = yd_scalar(k) ? name_index(outcome_names, _MENU_OUTCOME_COUNT, yd_scalar(k)) : -1;
			if (oi <= MENU_OUTCOME_OK)
				yd_err(&ld->yd, k, "%s: unknown outcome \"%s\"", what,
				       yd_scalar(k) ? yd_scalar(k) : "?");
			else
				s->on[oi] = screen_ref(ld, yaml_document_get_node(&ld->yd.doc, p->value), what);
		}
	} else if (on) {
		yd_err(&ld->yd, on, "%s: on: maps outcomes to screens", what);
	}

	switch (s->type) {
	case MENU_SCREEN_MENU:
	case MENU_SCREEN_CONFIRM: {
		const yaml_node_t *opts = yd_map_get(&ld->yd, n, "options");
		if (!opts || opts->type != YAML_SEQUENCE_NODE || opts->data.sequence.items.top == opts->data.sequence.items.start) {
			yd_err(&ld->yd, n, "%s: options: a list of {label, goto} is required", what);
			break;
		}
		s->n_options = opts->data.sequence.items.top - opts->data.sequence.items.start;
		if (s->type == MENU_SCREEN_CONFIRM && s->n_options != 2)
			yd_err(&ld->yd, opts, "%s: a confirm screen has exactly two options (yes, no)", what);
		if (s->n_options > 9)
			yd_err(&ld->yd, opts, "%s: at most 9 options (keys 1-9); use a list for more", what);
		s->options = talloc_zero_array(ld->m, struct menu_option, s->n_options);
		for (unsigned i = 0; i < s->n_options; i++) {
			const yaml_node_t *o = yaml_document_get_node(&ld->yd.doc, opts->data.sequence.items.start[i]);
			static const char *const okeys[] = { "label", "goto" };
			yd_check_keys(&ld->yd, o, what, okeys, ARRAY_SIZE(okeys));
			text_load(ld, yd_map_get(&ld->yd, o, "label"), what, s->options[i].label, true);
			const yaml_node_t *go = yd_map_get(&ld->yd, o, "goto");
			/* a goto to a missing screen is screen_ref()'s error, said once */
			s->options[i].go = screen_ref(ld, go, what);
			if (!go)
				yd_err(&ld->yd, o, "%s: option %u has no goto", what, i + 1);
		}
		break;
	}
	case MENU_SCREEN_LIST: {
		const char *src = yd_scalar(yd_map_get(&ld->yd, n, "source"));
		int si = src ? name_index(source_names, _MENU_SOURCE_COUNT, src) : -1;
		if (si < 0) {
			yd_err(&ld->yd, n, "%s: source must be categories, products, orders, languages or basket", what);
			break;
		}
		s->source = si;
		if (si == MENU_SOURCE_ORDERS)
			s->action = MENU_ACTION_LOAD_ORDERS;
		s->end = bool_get(ld, yd_map_get(&ld->yd, n, "end"), false);
		s->max_items = uint_get(ld, yd_map_get(&ld->yd, n, "max-items"), s->end ? 3 : 99, 1, 99);
		text_load(ld, yd_map_get(&ld->yd, n, "item"), what, s->item, true);
		text_load(ld, yd_map_get(&ld->yd, n, "empty"), what, s->empty, true);
		if (!s->end && !s->select)
			yd_err(&ld->yd, n, "%s: a list that does not end needs select: (the screen an item leads to)",
			       what);
		break;
	}
	case MENU_SCREEN_INPUT: {
		const yaml_node_t *pn = yd_map_get(&ld->yd, n, "pattern");
		char why[96];
		const char *pat = yd_scalar(pn);
		text_load(ld, yd_map_get(&ld->yd, n, "error"), what, s->error, false);
		s->max_length = uint_get(ld, yd_map_get(&ld->yd, n, "max-length"), 20, 1, MENU_ADDRESS_MAX);
		if (!pat) {
			yd_err(&ld->yd, n, "%s: pattern: (a regular expression) is required", what);
		} else if (pattern_too_complex(pat, why, sizeof(why))) {
			yd_err(&ld->yd, pn, "%s: pattern too complex: %s", what, why);
		} else {
			regex_t *re = talloc_zero(ld->m, regex_t);
			int rc = regcomp(re, pat, REG_EXTENDED | REG_NOSUB);
			if (rc) {
				char msg[128];
				regerror(rc, re, msg, sizeof(msg));
				yd_err(&ld->yd, pn, "%s: bad pattern \"%s\": %s", what, pat, msg);
				talloc_free(re);
			} else {
				regex_t **holder = talloc(ld->m, regex_t *);
				*holder = re;
				talloc_set_destructor(holder, regex_destructor);
				s->pattern = re;
			}
		}
		const char *store = yd_scalar(yd_map_get(&ld->yd, n, "store"));
		if (!store || (strcmp(store, "qty") && strcmp(store, "input") && strcmp(store, "pin") &&
			       strcmp(store, "address") && strcmp(store, "note") && strcmp(store, "order") &&
			       strcmp(store, "name")))
			yd_err(&ld->yd, n, "%s: store: must be qty, input, pin, address, note, name or order", what);
		else
			s->store = !strcmp(store, "qty") ? MENU_VAR_QTY : !strcmp(store, "pin") ? -1 :
				   !strcmp(store, "address") ? MENU_VAR_ADDRESS : !strcmp(store, "note") ? MENU_VAR_NOTE :
				   !strcmp(store, "name") ? MENU_VAR_NAME :
				   !strcmp(store, "order") ? MENU_VAR_ORDER : MENU_VAR_INPUT;
		/* input, order and pin keep shorter fields than an address */
		if (store && (!strcmp(store, "input") || !strcmp(store, "pin") || !strcmp(store, "order")) &&
		    s->max_length > sizeof(((struct menu_vars *)0)->input) - 1)
			yd_err(&ld->yd, n, "%s: max-length: at most %zu for store: %s", what,
			       sizeof(((struct menu_vars *)0)->input) - 1, store);
		if (!s->next)
			yd_err(&ld->yd, n, "%s: next: (the screen after a valid answer) is required", what);
		break;
	}
	case MENU_SCREEN_END:
	case _MENU_SCREEN_COUNT:
		break;
	}
	/* every outcome an action can have must lead somewhere (error falls back to the menu's error text) */
	if (s->action == MENU_ACTION_CREATE_ORDER && !s->on[MENU_OUTCOME_OUT_OF_STOCK])
		yd_err(&ld->yd, n, "%s: create_order needs on: out_of_stock: <screen>", what);
	if (s->action == MENU_ACTION_FIND_ORDER && (!s->on[MENU_OUTCOME_NOT_FOUND] || !s->on[MENU_OUTCOME_NOT_PAYABLE]))
		yd_err(&ld->yd, n, "%s: find_order needs on: not_found: and not_payable: screens", what);
	if (s->action == MENU_ACTION_PAY_VOUCHER &&
	    (!s->on[MENU_OUTCOME_INVALID] || !s->on[MENU_OUTCOME_EXPIRED] || !s->on[MENU_OUTCOME_INSUFFICIENT] ||
	     !s->on[MENU_OUTCOME_LOCKED] || !s->on[MENU_OUTCOME_NOT_PAYABLE]))
		yd_err(&ld->yd, n, "%s: pay_voucher needs on: invalid:, expired:, insufficient:, locked: and not_payable: screens", what);
	if (s->action == MENU_ACTION_PAY_CREDIT && (!s->on[MENU_OUTCOME_OVER_LIMIT] || !s->on[MENU_OUTCOME_NOT_PAYABLE]))
		yd_err(&ld->yd, n, "%s: pay_credit needs on: over_limit: and not_payable: screens", what);
	if (s->action == MENU_ACTION_CREATE_SLIP && !s->on[MENU_OUTCOME_NOT_PAYABLE])
		yd_err(&ld->yd, n, "%s: create_slip needs on: not_payable: <screen>", what);
	if (s->action == MENU_ACTION_BASKET_ADD && !s->on[MENU_OUTCOME_FULL])
		yd_err(&ld->yd, n, "%s: basket_add needs on: full: <screen>", what);
	if (s->action == MENU_ACTION_LAST_ADDRESS && !s->on[MENU_OUTCOME_NOT_FOUND])
		yd_err(&ld->yd, n, "%s: last_address needs on: not_found: <screen>", what);
	if (s->action == MENU_ACTION_PLACE_ORDER && (!s->on[MENU_OUTCOME_OUT_OF_STOCK] || !s->on[MENU_OUTCOME_TOO_MANY]))
		yd_err(&ld->yd, n, "%s: place_order needs on: out_of_stock: and too_many: screens", what);
	if (s->action == MENU_ACTION_CHECKOUT && (!s->on[MENU_OUTCOME_OUT_OF_STOCK] || !s->on[MENU_OUTCOME_TOO_MANY] ||
						  !s->on[MENU_OUTCOME_INVALID]))
		yd_err(&ld->yd, n, "%s: checkout needs on: out_of_stock:, too_many: and invalid: screens", what);
	if (s->action == MENU_ACTION_ORDER_DETAIL && (!s->on[MENU_OUTCOME_SLIP] || !s->on[MENU_OUTCOME_NOT_PAYABLE] ||
						      !s->on[MENU_OUTCOME_NOT_FOUND]))
		yd_err(&ld->yd, n, "%s: order_detail needs on: slip:, not_payable: and not_found: screens", what);
	if (s->action == MENU_ACTION_CANCEL_ORDER && !s->on[MENU_OUTCOME_NOT_PAYABLE])
		yd_err(&ld->yd, n, "%s: cancel_order needs on: not_payable: <screen>", what);
	if (s->action == MENU_ACTION_REORDER && !s->on[MENU_OUTCOME_NOT_FOUND])
		yd_err(&ld->yd, n, "%s: reorder needs on: not_found: <screen>", what);
	if (s->action == MENU_ACTION_CARE_ORDER && !s->on[MENU_OUTCOME_NOT_FOUND])
		yd_err(&ld->yd, n, "%s: care_order needs on: not_found: <screen>", what);
	if (s->action == MENU_ACTION_CARE_RATE_ORDER && (!s->on[MENU_OUTCOME_NOT_FOUND] || !s->on[MENU_OUTCOME_NOT_DELIVERED]))
		yd_err(&ld->yd, n, "%s: care_rate_order needs on: not_found: and not_delivered: screens", what);
	if (s->action == MENU_ACTION_CARE_RATE && !s->on[MENU_OUTCOME_NOT_DELIVERED])
		yd_err(&ld->yd, n, "%s: care_rate needs on: not_delivered: <screen>", what);
	if (s->action == MENU_ACTION_PAY_STORE_CREDIT && (!s->on[MENU_OUTCOME_PARTIAL] ||
	    !s->on[MENU_OUTCOME_INSUFFICIENT] || !s->on[MENU_OUTCOME_NOT_PAYABLE]))
		yd_err(&ld->yd, n, "%s: pay_store_credit needs on: partial:, insufficient: and not_payable: screens", what);
	if (s->action == MENU_ACTION_CHOOSE_COD && (!s->on[MENU_OUTCOME_UNAVAILABLE] || !s->on[MENU_OUTCOME_NOT_PAYABLE]))
		yd_err(&ld->yd, n, "%s: choose_cod needs on: unavailable: and not_payable: screens", what);
	if (s->action == MENU_ACTION_CREDIT_QUOTE && !s->on[MENU_OUTCOME_OVER_LIMIT])
		yd_err(&ld->yd, n, "%s: credit_quote needs on: over_limit: <screen>", what);
	if (s->action == MENU_ACTION_REPAY_VOUCHER &&
	    (!s->on[MENU_OUTCOME_INVALID] || !s->on[MENU_OUTCOME_EXPIRED] || !s->on[MENU_OUTCOME_INSUFFICIENT] ||
	     !s->on[MENU_OUTCOME_LOCKED] || !s->on[MENU_OUTCOME_NOTHING_OWED]))
		yd_err(&ld->yd, n, "%s: repay_voucher needs on: invalid:, expired:, insufficient:, locked: and nothing_owed: screens",
		       what);
	if (s->action == MENU_ACTION_REPAY_SLIP && !s->on[MENU_OUTCOME_NOTHING_OWED])
		yd_err(&ld->yd, n, "%s: repay_slip needs on: nothing_owed: <screen>", what);
	if (s->action == MENU_ACTION_LOAD_CONSENT && !s->on[MENU_OUTCOME_OPTED_OUT])
		yd_err(&ld->yd, n, "%s: load_consent needs on: opted_out: <screen>", what);
}

static void langs_load(struct loader *ld, const yaml_node_t *root)
{
	struct menu *m = ld->m;
	const yaml_node_t *langs = yd_map_get(&ld->yd, root, "languages");
	if (!langs || langs->type != YAML_MAPPING_NODE) {
		yd_err(&ld->yd, root, "languages: a mapping of language code to its name is required (en: English)");
		return;
	}
	for (yaml_node_pair_t *p = langs->data.mapping.pairs.start; p < langs->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(&ld->yd.doc, p->key);
		if (m->n_langs == MENU_MAX_LANGS) {
			yd_err(&ld->yd, k, "at most %u languages", MENU_MAX_LANGS);
			return;
		}
		m->langs[m->n_langs++] = talloc_strdup(m, yd_scalar(k) ? yd_scalar(k) : "?");
	}
	if (!m->n_langs)	/* found by fuzzing: a menu with no language loaded with no start screen */
		yd_err(&ld->yd, langs, "languages: at least one language is required");
	ld->plain = true;
	for (unsigned l = 0; l < m->n_langs; l++) {
		const yaml_node_t *v = yd_map_get(&ld->yd, langs, m->langs[l]);
		if (!yd_scalar(v))
			yd_err(&ld->yd, v ? v : langs, "languages: the name of \"%s\" must be a string", m->langs[l]);
		else
			text_compile(ld, v, yd_scalar(v), &m->lang_name[l]);
	}
	ld->plain = false;
}

/* One of the start screen's lines for a customer with history (menu.h: reorder:, offers:):
 * { text, goto } and, for an offer, the category it opens. */
static void home_line_load(struct loader *ld, const yaml_node_t *n, const char *what, struct menu_home_line *hl,
			   bool offer)
{
	static const char *const keys[] = { "text", "goto", "category" };
	if (!n || n->type != YAML_MAPPING_NODE) {
		yd_err(&ld->yd, n, "%s: a mapping of text:, goto:%s", what, offer ? " and category: (optional)" : "");
		return;
	}
	yd_check_keys(&ld->yd, n, what, keys, offer ? 3 : 2);
	hl->line = n->start_mark.line + 1;
	text_load(ld, yd_map_get(&ld->yd, n, "text"), what, hl->text, true);
	const yaml_node_t *go = yd_map_get(&ld->yd, n, "goto");
	hl->go = screen_ref(ld, go, what);
	if (!go)
		yd_err(&ld->yd, n, "%s: goto: (the screen it opens) is required", what);
	else if (!offer && hl->go && hl->go->action != MENU_ACTION_REORDER)
		yd_err(&ld->yd, go, "%s: goto: a screen with action: reorder (the latest order's lines become the basket)",
		       what);
	else if (offer && hl->go && hl->go->action != MENU_ACTION_NONE)
		yd_err(&ld->yd, go, "%s: goto: a screen that acts on nothing (a product, a category), not one with action: %s",
		       what, action_names[hl->go->action]);
	const char *cat = yd_scalar(yd_map_get(&ld->yd, n, "category"));
	if (offer && cat)
		hl->category = talloc_strdup(ld->m, cat);
}

/* reorder: and offers: (one per named segment) below the start screen's options, which must be a
 * menu with room for both: keys 1-9. */
static void home_lines_load(struct loader *ld, const yaml_node_t *root)
{
	struct menu *m = ld->m;
	const yaml_node_t *ro = yd_map_get(&ld->yd, root, "reorder"), *of = yd_map_get(&ld->yd, root, "offers");
	if (ro)
		home_line_load(ld, ro, "reorder", &m->reorder, false);
	if (of && of->type != YAML_MAPPING_NODE) {
		yd_err(&ld->yd, of, "offers: a mapping of named segment (top, average, once-off, new, lapsed) to offer");
	} else if (of) {
		for (yaml_node_pair_t *p = of->data.mapping.pairs.start; p < of->data.mapping.pairs.top; p++) {
			const yaml_node_t *k = yaml_document_get_node(&ld->yd.doc, p->key);
			int seg = segment_named_index(yd_scalar(k) ? yd_scalar(k) : "");
			char what[48];
			if (seg < 0) {
				yd_err(&ld->yd, k, "offers: \"%s\" is not a named segment (top, average, once-off, new, lapsed)",
				       yd_scalar(k) ? yd_scalar(k) : "?");
				continue;
			}
			snprintf(what, sizeof(what), "offers: %s", segment_named_word(seg));
			home_line_load(ld, yaml_document_get_node(&ld->yd.doc, p->value), what, &m->offers[seg], true);
		}
	}
	const yaml_node_t *at = ro ? ro : of;
	if (!at || !m->start)
		return;
	if (m->start->type != MENU_SCREEN_MENU)
		yd_err(&ld->yd, at, "%s: the start screen must be a menu to carry them", ro ? "reorder" : "offers");
	else if (m->start->n_options > 9 - MENU_HOME_LINES)
		yd_err(&ld->yd, at, "%s: the start screen has %u options; with the reorder and offer lines after them at most %d",
		       ro ? "reorder" : "offers", m->start->n_options, 9 - MENU_HOME_LINES);
}

/* The version sessions record (menu.h): the file's own word for it, or its content's hash. */
static void menu_version_load(struct loader *ld, const yaml_node_t *root)
{
	const yaml_node_t *n = yd_map_get(&ld->yd, root, "version");
	const char *v = yd_scalar(n);
	if (n) {
		size_t len = v ? strlen(v) : 0;
		if (!len || len > MENU_VERSION_MAX ||
		    strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != len)
			yd_err(&ld->yd, n, "version: 1 to %d letters, digits, '.', '_' or '-'", MENU_VERSION_MAX);
		else
			ld->m->version = talloc_strdup(ld->m, v);
		return;
	}
	ld->m->version = talloc_asprintf(ld->m, "%02x%02x%02x%02x", ld->yd.sha256[0], ld->yd.sha256[1],
					 ld->yd.sha256[2], ld->yd.sha256[3]);
}

static void menu_from_doc(struct loader *ld, const yaml_node_t *root)
{
	static const char *const keys[] = { "menu", "version", "service-codes", "long-code", "languages", "start", "keys",
		"labels", "statuses", "error", "slow", "screens", "invalid", "methods", "ask-name", "greeting",
		"long-code-referral", "reorder", "offers" };
	struct menu *m = ld->m;
	if (!root || root->type != YAML_MAPPING_NODE) {
		yd_err(&ld->yd, root, "a menu file is a mapping (menu:, languages:, screens: ...)");
		return;
	}
	yd_check_keys(&ld->yd, root, "menu", keys, ARRAY_SIZE(keys));
	m->name = talloc_strdup(m, yd_scalar(yd_map_get(&ld->yd, root, "menu")) ?: "");
	if (!*m->name)
		yd_err(&ld->yd, root, "menu: a name is required");
	menu_version_load(ld, root);

	const yaml_node_t *codes = yd_map_get(&ld->yd, root, "service-codes");
	if (!codes || codes->type != YAML_SEQUENCE_NODE) {
		yd_err(&ld->yd, root, "service-codes: a list of USSD codes (\"*120*777#\") is required");
	} else {
		m->n_codes = codes->data.sequence.items.top - codes->data.sequence.items.start;
		m->service_codes = talloc_zero_array(m, const char *, m->n_codes);
		for (unsigned i = 0; i < m->n_codes; i++) {
			const yaml_node_t *c = yaml_document_get_node(&ld->yd.doc, codes->data.sequence.items.start[i]);
			const char *code = yd_scalar(c);
			if (!code || code[0] != '*' || code[strlen(code) - 1] != '#')
				yd_err(&ld->yd, c, "service code \"%s\" must look like *120*777#", code ? code : "?");
			m->service_codes[i] = talloc_strdup(m, code ? code : "");
		}
	}
	const char *lc = yd_scalar(yd_map_get(&ld->yd, root, "long-code"));
	m->long_code = lc ? talloc_strdup(m, lc) : NULL;
	langs_load(ld, root);
	if (!m->n_langs)
		return;

	const yaml_node_t *keysn = yd_map_get(&ld->yd, root, "keys");
	static const char *const kkeys[] = { "back", "home", "more" };
	yd_check_keys(&ld->yd, keysn, "keys", kkeys, ARRAY_SIZE(kkeys));
	m->key_back = talloc_strdup(m, yd_scalar(yd_map_get(&ld->yd, keysn, "back")) ?: "0");
	m->key_home = talloc_strdup(m, yd_scalar(yd_map_get(&ld->yd, keysn, "home")) ?: "00");
	m->key_more = talloc_strdup(m, yd_scalar(yd_map_get(&ld->yd, keysn, "more")) ?: "98");

	const yaml_node_t *labels = yd_map_get(&ld->yd, root, "labels");
	static const char *const lkeys[] = { "back", "more" };
	yd_check_keys(&ld->yd, labels, "labels", lkeys, ARRAY_SIZE(lkeys));
	text_load(ld, yd_map_get(&ld->yd, labels, "back"), "labels: back", m->back_label, true);
	text_load(ld, yd_map_get(&ld->yd, labels, "more"), "labels: more", m->more_label, true);
	text_load(ld, yd_map_get(&ld->yd, root, "error"), "error", m->error_text, true);
	text_load(ld, yd_map_get(&ld->yd, root, "slow"), "slow", m->slow_text, true);

	const yaml_node_t *st = yd_map_get(&ld->yd, root, "statuses");
	ld->plain = true;
	for (unsigned i = 0; i < _ORDER_STATUS_COUNT; i++) {
		char what[64];
		snprintf(what, sizeof(what), "statuses: %s", order_status_names[i]);
		text_load(ld, yd_map_get(&ld->yd, st, order_status_names[i]), what, m->status_text[i], true);
	}
	/* optional: how an order was paid ({method}) */
	const yaml_node_t *mt = yd_map_get(&ld->yd, root, "methods");
	if (mt) {
		for (unsigned i = 0; i < _MENU_METHOD_COUNT; i++) {
			char what[64];
			snprintf(what, sizeof(what), "methods: %s", method_names[i]);
			text_load(ld, yd_map_get(&ld->yd, mt, method_names[i]), what, m->method_text[i], true);
		}
		yd_check_keys(&ld->yd, mt, "methods", method_names, _MENU_METHOD_COUNT);
	}
	text_load(ld, yd_map_get(&ld->yd, root, "invalid"), "invalid", m->invalid_text, false);
	ld->plain = false;
	/* optional: the line greeting a customer with a name on the start screen ({name}) */
	text_load(ld, yd_map_get(&ld->yd, root, "greeting"), "greeting", m->greeting, false);
	yd_check_keys(&ld->yd, st, "statuses", order_status_names, _ORDER_STATUS_COUNT);

	const yaml_node_t *screens = yd_map_get(&ld->yd, root, "screens");
	if (!screens || screens->type != YAML_MAPPING_NODE) {
		yd_err(&ld->yd, root, "screens: a mapping of screen name to screen is required");
		return;
	}
	/* Two passes: create every screen first, so screens can refer to ones defined later. */
	m->n_screens = screens->data.mapping.pairs.top - screens->data.mapping.pairs.start;
	if (m->n_screens > 255) {
		yd_err(&ld->yd, screens, "at most 255 screens in one menu");
		return;
	}
	m->screens = talloc_zero_array(m, struct menu_screen, m->n_screens);
	for (unsigned i = 0; i < m->n_screens; i++) {
		yaml_node_pair_t *p = &screens->data.mapping.pairs.start[i];
		const yaml_node_t *k = yaml_document_get_node(&ld->yd.doc, p->key);
		m->screens[i].name = talloc_strdup(m, yd_scalar(k) ? yd_scalar(k) : "?");
		m->screens[i].line = k->start_mark.line + 1;
		if (screen_find(m, m->screens[i].name) != &m->screens[i])
			yd_err(&ld->yd, k, "screen \"%s\" is defined twice", m->screens[i].name);
	}
	for (unsigned i = 0; i < m->n_screens; i++)
		screen_load(ld, &m->screens[i], yaml_document_get_node(&ld->yd.doc, screens->data.mapping.pairs.start[i].value));

	const yaml_node_t *start = yd_map_get(&ld->yd, root, "start");
	m->start = screen_ref(ld, start, "start");
	if (!start)
		yd_err(&ld->yd, root, "start: the first screen is required");
	else if (m->greeting[0].n && m->start && m->start->type != MENU_SCREEN_MENU)
		yd_err(&ld->yd, start, "greeting: the start screen must be a menu to carry it");
	home_lines_load(ld, root);
	const yaml_node_t *ask = yd_map_get(&ld->yd, root, "ask-name");
	m->ask_name = screen_ref(ld, ask, "ask-name");
	if (m->ask_name && (m->ask_name->type != MENU_SCREEN_INPUT || m->ask_name->store != MENU_VAR_NAME))
		yd_err(&ld->yd, ask, "ask-name: the screen must be an input with store: name");
	const yaml_node_t *lcr = yd_map_get(&ld->yd, root, "long-code-referral");
	m->long_code_referral = screen_ref(ld, lcr, "long-code-referral");
	if (m->long_code_referral && (m->long_code_referral->type != MENU_SCREEN_INPUT ||
				      m->long_code_referral->store != MENU_VAR_INPUT || !m->long_code))
		yd_err(&ld->yd, lcr, "long-code-referral: the screen must be an input with store: input, beside a long-code");
}

int menu_load_file(void *ctx, const char *path, const struct menu_limits *lim, struct menu **out)
{
	struct loader ld = { 0 };
	int rc = yd_load(&ld.yd, path);
	if (rc < 0)
		return rc;
	ld.m = talloc_zero(ctx, struct menu);
	ld.m->file = talloc_strdup(ld.m, path);
	menu_from_doc(&ld, yaml_document_get_root_node(&ld.yd.doc));
	yd_free(&ld.yd);
	if (ld.yd.errors || menu_lint(ld.m, lim, path) < 0) {
		talloc_free(ld.m);
		return -EINVAL;
	}
	*out = ld.m;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int menu_set_load(void *ctx, const char *dir, const struct menu_limits *lim, struct menu_set **out)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "%s: cannot open menu directory: %s\n", dir, strerror(errno));
		return -errno;
	}
	struct menu_set *set = talloc_zero(ctx, struct menu_set);
	char **names = NULL;
	unsigned n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len > 5 && !strcmp(e->d_name + len - 5, ".yaml") && e->d_name[0] != '.') {
			names = talloc_realloc(set, names, char *, n + 1);
			names[n++] = talloc_asprintf(set, "%s/%s", dir, e->d_name);
		}
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	int rc = 0;
	set->menus = talloc_zero_array(set, struct menu *, n ? n : 1);
	for (unsigned i = 0; i < n; i++) {
		struct menu *m;
		if (menu_load_file(set, names[i], lim, &m) < 0) {
			rc = -EINVAL;
			continue;
		}
		set->menus[set->n++] = m;
	}
	/* one service code, one menu: otherwise which one answers would depend on file order */
	for (unsigned i = 0; i < set->n; i++)
		for (unsigned c = 0; c < set->menus[i]->n_codes; c++)
			for (unsigned j = 0; j < i; j++)
				if (menu_set_find(&(struct menu_set){ .n = 1, .menus = &set->menus[j] },
						  set->menus[i]->service_codes[c])) {
					fprintf(stderr, "%s:1: service code %s is also served by %s\n", set->menus[i]->file,
						set->menus[i]->service_codes[c], set->menus[j]->file);
					rc = -EINVAL;
				}
	if (!n) {
		fprintf(stderr, "%s: no menu files (*.yaml)\n", dir);
		rc = -ENOENT;
	}
	if (rc < 0) {
		talloc_free(set);
		return rc;
	}
	*out = set;
	return 0;
}

const struct menu *menu_set_find(const struct menu_set *set, const char *service_code)
{
	for (unsigned i = 0; set && i < set->n; i++)
		for (unsigned c = 0; c < set->menus[i]->n_codes; c++)
			if (!strcmp(set->menus[i]->service_codes[c], service_code))
				return set->menus[i];
	return NULL;
}

int menu_lang_index(const struct menu *m, const char *code)
{
	for (unsigned l = 0; l < m->n_langs; l++)
		if (!strcmp(m->langs[l], code))
			return l;
	return -1;
}
