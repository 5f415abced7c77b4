/* SMS texts: loader, linter and renderer of menus/sms/texts.yaml.
 *
 * A reply that does not fit one SMS is split by Kannel into parts that may arrive out of order,
 * cost the shop twice, or be cut off (sendsms sends one part unless told otherwise). So every
 * text is proven at load, in every language, to fit one segment with the longest values its
 * placeholders can take: 160 GSM-7 septets (extension characters count 2) or, when any
 * character is outside GSM-7, 70 UCS-2 units. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <yaml.h>
#include "cfg.h"
#include "gsm7.h"
#include "logging.h"
#include "money.h"
#include "out.h"
#include "sms_texts.h"
#include "yaml_doc.h"

struct sms_texts *g_sms_texts;
static void *texts_ctx;

static const char *const text_keys[] = {
#define SMS_TEXT(e, key, vars) key,
#include "sms_cmd.def"
#undef SMS_TEXT
};
static const unsigned text_vars[] = {
#define SMS_TEXT(e, key, vars) vars,
#include "sms_cmd.def"
#undef SMS_TEXT
};
static const char *const var_names[] = {
#define SMS_VAR(e, name) name,
#include "sms_cmd.def"
#undef SMS_VAR
};

/* The most money a text shows: R1,000,000 (spazactl's credit limit cap). */
#define SMS_MONEY_MAX_CENTS 100000000
#define ORDERS_SEP "; "

/* ---- loading ---- */

struct loader {
	struct yd yd;
	struct sms_texts *t;
};

static int var_index(const char *name, size_t len)
{
	for (int v = 0; v < _SMS_VAR_COUNT; v++)
		if (strlen(var_names[v]) == len && !strncmp(var_names[v], name, len))
			return v;
	return -1;
}

/* The placeholders are known and allowed in this text; valid UTF-8. */
static bool text_check(struct loader *ld, const yaml_node_t *at, const char *what, const char *s, unsigned allowed)
{
	if (gsm7_measure(s, strlen(s), &(struct gsm7_measure){ 0 }) < 0) {
		yd_err(&ld->yd, at, "%s: not valid UTF-8", what);
		return false;
	}
	for (const char *p = strchr(s, '{'); p; p = strchr(p + 1, '{')) {
		const char *close = strchr(p, '}');
		if (!close) {
			yd_err(&ld->yd, at, "%s: unclosed \"{\"", what);
			return false;
		}
		int v = var_index(p + 1, close - p - 1);
		if (v < 0) {
			yd_err(&ld->yd, at, "%s: unknown placeholder {%.*s}", what, (int)(close - p - 1), p + 1);
			return false;
		}
		if (!(allowed & (1u << v))) {
			yd_err(&ld->yd, at, "%s: placeholder {%s} has no value here", what, var_names[v]);
			return false;
		}
	}
	return true;
}

/* A text is one string for every language or a mapping with every shipped language. */
static void text_load(struct loader *ld, const yaml_node_t *n, const char *what, char **out, unsigned allowed,
		      unsigned *lines)
{
	if (!n) {
		yd_err(&ld->yd, NULL, "%s: text missing", what);
		return;
	}
	if (n->type == YAML_SCALAR_NODE) {
		if (text_check(ld, n, what, yd_scalar(n), allowed))
			for (int l = 0; l < _SMS_LANG_COUNT; l++) {
				out[l] = talloc_strdup(ld->t, yd_scalar(n));
				if (lines)
					lines[l] = n->start_mark.line + 1;
			}
		return;
	}
	if (n->type != YAML_MAPPING_NODE) {
		yd_err(&ld->yd, n, "%s: a text is a string or a mapping of language to string", what);
		return;
	}
	const char *codes[_SMS_LANG_COUNT];
	for (int l = 0; l < _SMS_LANG_COUNT; l++) {
		codes[l] = sms_lang_code(l);
		const yaml_node_t *v = yd_map_get(&ld->yd, n, codes[l]);
		char w[96];
		snprintf(w, sizeof(w), "%s (%s)", what, codes[l]);
		if (!yd_scalar(v))
			yd_err(&ld->yd, n, "%s: no text for language \"%s\"", what, codes[l]);
		else if (text_check(ld, v, w, yd_scalar(v), allowed)) {
			out[l] = talloc_strdup(ld->t, yd_scalar(v));
			if (lines)
				lines[l] = v->start_mark.line + 1;
		}
	}
	yd_check_keys(&ld->yd, n, what, codes, _SMS_LANG_COUNT);
}

static void texts_from_doc(struct loader *ld, const yaml_node_t *root)
{
	static const char *const keys[] = { "languages", "orders-max", "statuses", "texts" };
	struct sms_texts *t = ld->t;
	if (!root || root->type != YAML_MAPPING_NODE) {
		yd_err(&ld->yd, root, "an SMS texts file is a mapping (languages:, statuses:, texts:)");
		return;
	}
	yd_check_keys(&ld->yd, root, "texts file", keys, 4);

	const yaml_node_t *langs = yd_map_get(&ld->yd, root, "languages");
	if (!langs || langs->type != YAML_MAPPING_NODE)
		yd_err(&ld->yd, root, "languages: a mapping of every shipped language to its name is required");
	else
		text_load(ld, langs, "languages", t->lang_name, 0, NULL);

	t->orders_max = 3;
	const yaml_node_t *om = yd_map_get(&ld->yd, root, "orders-max");
	if (om) {
		const char *sv = yd_scalar(om);
		char *end = NULL;
		unsigned long v = sv ? strtoul(sv, &end, 10) : 0;
		if (!sv || *end || v < 1 || v > SMS_ORDERS_MAX)
			yd_err(&ld->yd, om, "orders-max: a number from 1 to %d", SMS_ORDERS_MAX);
		else
			t->orders_max = v;
	}

	const yaml_node_t *st = yd_map_get(&ld->yd, root, "statuses");
	for (int s = 0; s < _ORDER_STATUS_COUNT; s++) {
		char what[64];
		snprintf(what, sizeof(what), "statuses: %s", order_status_names[s]);
		text_load(ld, yd_map_get(&ld->yd, st, order_status_names[s]), what, t->status[s], 0, NULL);
	}
	yd_check_keys(&ld->yd, st, "statuses", order_status_names, _ORDER_STATUS_COUNT);

	const yaml_node_t *tx = yd_map_get(&ld->yd, root, "texts");
	if (!tx || tx->type != YAML_MAPPING_NODE) {
		yd_err(&ld->yd, root, "texts: a mapping of text name to text is required");
		return;
	}
	for (int i = 0; i < _SMS_TEXT_COUNT; i++) {
		char what[64];
		snprintf(what, sizeof(what), "texts: %s", text_keys[i]);
		text_load(ld, yd_map_get(&ld->yd, tx, text_keys[i]), what, t->text[i], text_vars[i], t->line[i]);
	}
	yd_check_keys(&ld->yd, tx, "texts", text_keys, _SMS_TEXT_COUNT);
}

/* ---- the linter: the size of the longest rendering, without rendering every combination ---- */

/* The worst case of a piece of text: the most septets any all-GSM-7 rendering takes, the most
 * UCS-2 units any rendering takes, and whether renderings of either kind exist. Pieces add up
 * exactly (septets and units are both additive), so a text's worst case is the sum of its
 * literals' and placeholders' worst cases, and a value set's is its maximum. */
struct wc {
	bool gsm;		/* some rendering is all GSM-7 */
	bool ucs2;		/* some rendering needs UCS-2 */
	unsigned septets;	/* the most, over all-GSM-7 renderings */
	unsigned units;		/* the most, over all renderings */
};

static struct wc wc_of(const char *s, size_t len)
{
	struct gsm7_measure m;
	if (gsm7_measure(s, len, &m) < 0)
		return (struct wc){ false, true, 0, UINT_MAX / 4 };
	bool gsm = m.coding == GSM7_CODING_GSM7;
	return (struct wc){ gsm, !gsm, gsm ? m.septets : 0, m.ucs2_units };
}

static struct wc wc_cat(struct wc a, struct wc b)
{
	return (struct wc){ a.gsm && b.gsm, a.ucs2 || b.ucs2, a.septets + b.septets, a.units + b.units };
}

/* One of several values. */
static struct wc wc_any(struct wc a, struct wc b)
{
	struct wc r = { a.gsm || b.gsm, a.ucs2 || b.ucs2, 0, a.units > b.units ? a.units : b.units };
	r.septets = (a.gsm && a.septets > r.septets) ? a.septets : r.septets;
	r.septets = (b.gsm && b.septets > r.septets) ? b.septets : r.septets;
	return r;
}

static const struct wc wc_empty = { true, false, 0, 0 };
static const struct wc wc_none = { false, false, 0, 0 };	/* the identity of wc_any */

static struct wc wc_text(const struct sms_texts *t, const char *s, int lang, const struct sms_limits *lim);

/* Status texts and language names hold no placeholders (refused at load), so the recursion
 * through wc_text() is one level deep. NOLINTNEXTLINE(misc-no-recursion) */
static struct wc wc_var(const struct sms_texts *t, int var, int lang, const struct sms_limits *lim)
{
	char buf[MONEY_BUF_LEN + SMS_ORDER_DIGITS_MAX];
	struct wc r = wc_none;
	switch (var) {
	case SMS_VAR_ORDER:
		memset(buf, '9', SMS_ORDER_DIGITS_MAX);
		return wc_of(buf, SMS_ORDER_DIGITS_MAX);
	case SMS_VAR_TOTAL:
		money_format(buf, sizeof(buf), lim->total_max_cents);
		return wc_of(buf, strlen(buf));
	case SMS_VAR_STATUS:
		for (int s = 0; s < _ORDER_STATUS_COUNT; s++)
			r = wc_any(r, wc_of(t->status[s][lang], strlen(t->status[s][lang])));
		return r;
	case SMS_VAR_LANG:
		for (int l = 0; l < _SMS_LANG_COUNT; l++)
			r = wc_any(r, wc_of(t->lang_name[l], strlen(t->lang_name[l])));
		return r;
	case SMS_VAR_TICKET:
		memset(buf, '9', SMS_ORDER_DIGITS_MAX);
		return wc_of(buf, SMS_ORDER_DIGITS_MAX);
	case SMS_VAR_STARS:
		return wc_of("5", 1);
	case SMS_VAR_AMOUNT: case SMS_VAR_LIMIT: case SMS_VAR_USED: case SMS_VAR_AVAIL: case SMS_VAR_DUE:
	case SMS_VAR_STORE:
		/* a credit limit or a refund is at most what spazactl allows (R1,000,000) */
		money_format(buf, sizeof(buf), SMS_MONEY_MAX_CENTS);
		return wc_of(buf, strlen(buf));
	case SMS_VAR_SLIP: case SMS_VAR_PIN:
		/* 15 or 16 digits in groups of four */
		return wc_of("0000 0000 0000 0000", 19);
	case SMS_VAR_DATE:
		return wc_of("2026-12-31", 10);
	case SMS_VAR_POINTS:
		/* a billion points: far beyond R1,000,000 of orders at the largest rate */
		return wc_of("1000000000", 10);
	case SMS_VAR_ORDERS: {
		/* fewer orders are shorter: the worst case is the most, each at its worst */
		struct wc item = wc_text(t, t->text[SMS_TEXT_ORDERS_ITEM][lang], lang, lim);
		r = item;
		for (unsigned i = 1; i < t->orders_max; i++)
			r = wc_cat(wc_cat(r, wc_of(ORDERS_SEP, strlen(ORDERS_SEP))), item);
		return r;
	}
	}
	return wc_empty;
}

/* NOLINTNEXTLINE(misc-no-recursion): one level deep, see wc_var() */
static struct wc wc_text(const struct sms_texts *t, const char *s, int lang, const struct sms_limits *lim)
{
	struct wc r = wc_empty;
	const char *p = s;
	for (;;) {
		const char *open = strchr(p, '{');
		r = wc_cat(r, wc_of(p, open ? (size_t)(open - p) : strlen(p)));
		if (!open)
			return r;
		const char *close = strchr(open, '}');
		r = wc_cat(r, wc_var(t, var_index(open + 1, close - open - 1), lang, lim));
		p = close + 1;
	}
}

static int texts_lint(const struct sms_texts *t, const struct sms_limits *lim, const char *file)
{
	int rc = 0;
	for (int i = 0; i < _SMS_TEXT_COUNT; i++) {
		if (i == SMS_TEXT_ORDERS_ITEM)
			continue;	/* part of orders: checked there */
		for (int l = 0; l < _SMS_LANG_COUNT; l++) {
			struct wc w = wc_text(t, t->text[i][l], l, lim);
			if (w.gsm && w.septets > lim->septets) {
				fprintf(stderr, "%s:%u: texts: %s (%s): %u GSM-7 septets with the longest values,"
					" over the %u of one SMS by %u\n", file, t->line[i][l], text_keys[i],
					sms_lang_code(l), w.septets, lim->septets, w.septets - lim->septets);
				rc = -EINVAL;
			}
			if (w.ucs2 && w.units > lim->ucs2) {
				fprintf(stderr, "%s:%u: texts: %s (%s): %u UCS-2 characters with the longest values"
					" (not all GSM-7), over the %u of one SMS by %u\n", file, t->line[i][l],
					text_keys[i], sms_lang_code(l), w.units, lim->ucs2, w.units - lim->ucs2);
				rc = -EINVAL;
			}
		}
	}
	return rc;
}

int sms_texts_load(void *ctx, const char *path, const struct sms_limits *lim, struct sms_texts **out)
{
	struct loader ld = { 0 };
	if (yd_load(&ld.yd, path) < 0)
		return -EINVAL;	/* sms_texts.h: any refusal, an unreadable file included */
	ld.t = talloc_zero(ctx, struct sms_texts);
	ld.t->file = talloc_strdup(ld.t, path);
	texts_from_doc(&ld, yaml_document_get_root_node(&ld.yd.doc));
	yd_free(&ld.yd);
	if (ld.yd.errors || texts_lint(ld.t, lim, path) < 0) {
		talloc_free(ld.t);
		return -EINVAL;
	}
	*out = ld.t;
	return 0;
}

/* ---- rendering ---- */

static const char *status_text(const struct sms_texts *t, int status, int lang)
{
	return status >= 0 && status < _ORDER_STATUS_COUNT ? t->status[status][lang] : "?";
}

/* NOLINTNEXTLINE(misc-no-recursion): one level deep, see wc_var() */
static void render(struct out *o, const struct sms_texts *t, const char *s, int lang, const struct sms_vars *v)
{
	char buf[MONEY_BUF_LEN];
	for (const char *p = s; *p;) {
		const char *open = strchr(p, '{');
		if (!open) {
			out_str(o, p);
			return;
		}
		out_put(o, p, open - p);
		const char *close = strchr(open, '}');
		switch (var_index(open + 1, close - open - 1)) {
		case SMS_VAR_ORDER:
			snprintf(buf, sizeof(buf), "%" PRId64, v->order);
			out_str(o, buf);
			break;
		case SMS_VAR_STATUS:
			out_str(o, status_text(t, v->status, lang));
			break;
		case SMS_VAR_TOTAL:
			money_format(buf, sizeof(buf), v->total_cents);
			out_str(o, buf);
			break;
		case SMS_VAR_LANG:
			out_str(o, t->lang_name[v->lang >= 0 && v->lang < _SMS_LANG_COUNT ? v->lang : lang]);
			break;
		case SMS_VAR_TICKET:
			snprintf(buf, sizeof(buf), "%" PRId64, v->ticket);
			out_str(o, buf);
			break;
		case SMS_VAR_STARS:
			snprintf(buf, sizeof(buf), "%d", v->stars);
			out_str(o, buf);
			break;
		case SMS_VAR_AMOUNT: case SMS_VAR_LIMIT: case SMS_VAR_USED: case SMS_VAR_AVAIL: case SMS_VAR_DUE:
		case SMS_VAR_STORE: {
			const int64_t *m[] = { [SMS_VAR_AMOUNT] = &v->amount_cents, [SMS_VAR_LIMIT] = &v->limit_cents,
					       [SMS_VAR_USED] = &v->used_cents, [SMS_VAR_AVAIL] = &v->avail_cents,
					       [SMS_VAR_DUE] = &v->due_cents, [SMS_VAR_STORE] = &v->store_cents };
			money_format(buf, sizeof(buf), *m[var_index(open + 1, close - open - 1)]);
			out_str(o, buf);
			break;
		}
		case SMS_VAR_SLIP:
			out_str(o, v->slip ? v->slip : "");
			break;
		case SMS_VAR_DATE:
			out_str(o, v->date ? v->date : "");
			break;
		case SMS_VAR_PIN:
			out_str(o, v->pin ? v->pin : "");
			break;
		case SMS_VAR_POINTS:
			snprintf(buf, sizeof(buf), "%" PRId64, v->points);
			out_str(o, buf);
			break;
		case SMS_VAR_ORDERS:
			for (unsigned i = 0; i < v->n_orders && i < t->orders_max; i++) {
				const struct orders_row *r = &v->orders[i];
				struct sms_vars iv = { .order = r->id, .status = r->status, .total_cents = r->total_cents };
				if (i)
					out_str(o, ORDERS_SEP);
				render(o, t, t->text[SMS_TEXT_ORDERS_ITEM][lang], lang, &iv);
			}
			break;
		}
		p = close + 1;
	}
}

int sms_texts_render(const struct sms_texts *t, enum sms_text id, enum sms_lang lang, const struct sms_vars *v,
		     char *buf, size_t len)
{
	struct out o = { buf, 0, len, false };
	static const struct sms_vars none = { .status = -1, .lang = -1 };
	if (!len)
		return -ENOSPC;
	buf[0] = '\0';
	if (id >= _SMS_TEXT_COUNT || lang >= _SMS_LANG_COUNT)
		return -EINVAL;
	render(&o, t, t->text[id][lang], lang, v ? v : &none);
	return o.overflow ? -ENOSPC : (int)o.len;
}

enum sms_lang sms_texts_lang(const char *code)
{
	int l = sms_lang_index(code);
	return l < 0 ? SMS_LANG_EN : l;
}

/* ---- the daemon's copy ---- */

static char *texts_path(void *ctx)
{
	if (g_cfg->sms_texts)
		return talloc_strdup(ctx, g_cfg->sms_texts);
	return talloc_asprintf(ctx, "%s/sms/texts.yaml", g_cfg->menus_dir);
}

static int texts_load_cfg(struct sms_texts **out)
{
	struct sms_limits lim = { .total_max_cents = g_cfg->price_max_cents * g_cfg->qty_max, .septets = 160, .ucs2 = 70 };
	char *path = texts_path(texts_ctx);
	int rc = sms_texts_load(texts_ctx, path, &lim, out);
	talloc_free(path);
	return rc;
}

int sms_texts_init(void *ctx)
{
	texts_ctx = talloc_named_const(ctx, 0, "sms_texts");
	return texts_load_cfg(&g_sms_texts);
}

int sms_texts_reload(void)
{
	struct sms_texts *t;
	if (texts_load_cfg(&t) < 0) {
		LOGP(DSMS, LOGL_ERROR, "SMS texts not reloaded: errors above\n");
		return -EINVAL;
	}
	/* nothing keeps pointers into the texts across loop turns: the old ones can go */
	talloc_free(g_sms_texts);
	g_sms_texts = t;
	LOGP(DSMS, LOGL_NOTICE, "SMS texts reloaded from %s\n", t->file);
	return 0;
}
