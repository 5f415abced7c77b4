/* The menu engine at run time: one input at a time moves a session between screens;
 * rendering fills placeholders, numbers options and paginates lists to the USSD budget.
 * The linter renders every screen through the same code with worst-case values, so what
 * it proves is what customers get. */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "menu.h"
#include "catalog.h"
#include "crm.h"
#include "gsm7.h"
#include "money.h"
#include "out.h"

#define LIST_MAX 97	/* item numbers stop below the "more" key 98 */
#define WORST_LIST 20	/* worst-case lists have two-digit item numbers */

/* What a list item or a page puts in scope besides the session's own values. */
struct scope {
	const struct catalog_category *cat;
	const struct catalog_product *prod;
	const struct orders_row *ord;
	struct orders_row row;	/* a basket line as an order row (ord points here) */
	int lang;
	unsigned page, pages;
	bool first_name;	/* {name} above the home lines: the first name alone */
};

/* Worst-case values for the linter: names of only two-septet characters (or, on a screen
 * that is UCS-2 anyway, one unit each), the largest price and quantity, the longest status
 * and language name. */
struct worst {
	const struct menu_limits *lim;
	char name[512];
	char input[160 * 3 + 1];
	size_t unit_len;
	struct catalog_category cat;
	struct catalog_product prod;
	struct orders_row ord;
	int status, lang_name, method;
	bool empty_list;	/* render lists with no items (their empty: text) */
	bool home;		/* the start screen with its home lines ... */
	int offer;		/* ... and this segment's offer (-1: the reorder line alone) ... */
	bool anonymous;		/* ... for a customer without a name (its own text, not the greeting, above) */
};

static void text_render(struct out *o, const struct menu_run *r, const struct menu_text *t, const struct scope *sc);

static const struct worst *worst_of(const struct menu_run *r);

static void num_put(struct out *o, int64_t v);

/* A worst-case value a screen shows cut to septets: two-septet characters, or on a screen that is
 * UCS-2 anyway one unit each (a GSM-7 value of n septets is at most n units). An odd width would
 * be measured a septet short. */
_Static_assert(MENU_ITEMS_SEPTETS % 2 == 0, "worst-case widths are even");
_Static_assert(MENU_NAME_SEPTETS % 2 == 0, "worst-case widths are even");
_Static_assert(MENU_LAST_SEPTETS % 2 == 0, "worst-case widths are even");
_Static_assert(MENU_FAV_SEPTETS % 2 == 0, "worst-case widths are even");
_Static_assert(MENU_FIRST_NAME_SEPTETS % 2 == 0, "worst-case widths are even");
static void worst_put(struct out *o, const struct worst *w, unsigned septets)
{
	out_put(o, w->input, w->unit_len * (w->unit_len > 1 ? septets / 2 : septets));
}

/* {name} above the home lines: the first word of the name crm.c keeps (GSM-7 already), cut. */
static void first_name_put(struct out *o, const char *name)
{
	out_put(o, name, gsm7_prefix(name, strcspn(name, " "), MENU_FIRST_NAME_SEPTETS));
}

/* A product's name in at most septets: cut at the end of a word where the cut falls inside one
 * ("White bread 700g" in 14: "White bread"); 0 where it cannot be shown at all (outside GSM-7). */
static size_t name_cut(const char *name, unsigned septets)
{
	size_t len = strlen(name), keep = gsm7_prefix(name, len, septets);
	if (keep && keep < len && name[keep] != ' ') {
		size_t sp = keep;
		while (sp > 1 && name[sp - 1] != ' ')
			sp--;
		if (sp > 1)
			keep = sp - 1;
	}
	return keep;
}

/* {last}: the latest order as "White bread 700g", "Coke 2L +2" (two more lines), cut to
 * MENU_LAST_SEPTETS with the count kept; its number ("#1042 +2") where the product's name cannot
 * be shown (gone from the catalogue, or outside GSM-7). */
static void last_put(struct out *o, const struct crm_home *h)
{
	char more[8] = "";
	size_t ml = h->last_lines > 1 ? (size_t)snprintf(more, sizeof(more), " +%u", h->last_lines - 1u) : 0;
	const struct catalog_product *p = catalog_product_by_id(g_catalog, h->last_product);
	size_t keep = p ? name_cut(p->name, MENU_LAST_SEPTETS - ml) : 0;
	if (keep) {
		out_put(o, p->name, keep);
	} else {
		out_str(o, "#");
		num_put(o, h->last_order);
	}
	out_put(o, more, ml);
}

/* {fav}: the product the customer buys most, its name cut; NULL where it cannot be shown. */
static const struct catalog_product *fav_product(const struct crm_home *h, size_t *keep)
{
	const struct catalog_product *p = h ? catalog_product_by_id(g_catalog, h->fav_product) : NULL;
	*keep = p ? name_cut(p->name, MENU_FAV_SEPTETS) : 0;
	return *keep ? p : NULL;
}

static const struct catalog_category *cur_category(const struct menu_run *r, const struct scope *sc)
{
	if (sc && sc->cat)
		return sc->cat;
	if (worst_of(r))
		return &worst_of(r)->cat;
	return catalog_category_by_id(g_catalog, r->v.category_id);
}

static const struct catalog_product *cur_product(const struct menu_run *r, const struct scope *sc)
{
	if (worst_of(r))
		return &worst_of(r)->prod;
	if (sc && sc->prod)
		return sc->prod;
	if (sc && sc->ord)
		return catalog_product_by_id(g_catalog, sc->ord->product_id);
	return catalog_product_by_id(g_catalog, r->v.product_id);
}

/* Numbers and prices by hand, not snprintf(): several a screen, every hop (doc/benchmark.md) */
static void num_put(struct out *o, int64_t v)
{
	char b[24], *p = b + sizeof(b);
	uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
	do {
		*--p = (char)('0' + mag % 10);
		mag /= 10;
	} while (mag);
	if (v < 0)
		*--p = '-';
	out_put(o, p, (size_t)(b + sizeof(b) - p));
}

static void money_put(struct out *o, int64_t cents)
{
	char b[32];
	money_format(b, sizeof(b), cents);
	out_str(o, b);
}

/* {status} and {language} render a status text or a language name, which the loader keeps free
 * of placeholders (menu_load.c): the recursion is one level deep. NOLINTNEXTLINE(misc-no-recursion) */
static void var_render(struct out *o, const struct menu_run *r, int var, const struct scope *sc)
{
	const struct worst *w = worst_of(r);
	const struct orders_row *ord = w ? &w->ord : sc ? sc->ord : NULL;
	const struct catalog_category *cat;
	const struct catalog_product *p;

	switch ((enum menu_var)var) {
	case MENU_VAR_CATEGORY:
		cat = cur_category(r, sc);
		out_str(o, cat ? cat->name : "?");
		break;
	case MENU_VAR_PRODUCT:
		p = cur_product(r, sc);
		out_str(o, p ? p->name : "?");
		break;
	case MENU_VAR_PRICE:
		p = cur_product(r, sc);
		money_put(o, p ? p->price_cents : 0);
		break;
	case MENU_VAR_QTY:
		num_put(o, w ? (int64_t)w->lim->qty_max : ord ? ord->qty : r->v.qty);
		break;
	case MENU_VAR_TOTAL:
		money_put(o, w ? w->lim->price_max_cents * w->lim->qty_max : ord ? ord->total_cents : r->v.total_cents);
		break;
	case MENU_VAR_ORDER:
		num_put(o, w ? 999999999 : ord ? ord->id : r->v.order_id);
		break;
	case MENU_VAR_INPUT:
		if (w)	/* {input} echoes up to max_length characters */
			out_put(o, w->input, w->unit_len * (r->screen && r->screen->max_length ? r->screen->max_length
										   : sizeof(r->v.input) - 1));
		else
			out_str(o, r->v.input);
		break;
	case MENU_VAR_STATUS: {
		int st = w ? w->status : ord ? ord->status : r->v.status;
		if (st >= 0 && st < _ORDER_STATUS_COUNT)
			text_render(o, r, &r->menu->status_text[st][r->lang], NULL);
		break;
	}
	case MENU_VAR_PAGE:
		num_put(o, sc ? sc->page : 1);
		break;
	case MENU_VAR_PAGES:
		num_put(o, sc ? sc->pages : 1);
		break;
	case MENU_VAR_LANGUAGE: {
		int l = w ? w->lang_name : sc ? sc->lang : r->lang;
		text_render(o, r, &r->menu->lang_name[l], NULL);
		break;
	}
	case MENU_VAR_REMAINDER:
		money_put(o, w ? w->lim->price_max_cents * w->lim->qty_max * 10 : r->v.remainder_cents);
		break;
	case MENU_VAR_AVAILABLE:
		money_put(o, w ? (int64_t)99999999999 : r->v.available_cents);
		break;
	case MENU_VAR_SLIP:
		out_str(o, w ? "9999 9999 9999 9999 99" : r->v.slip);
		break;
	case MENU_VAR_EXPIRY:
		out_str(o, w ? "9999-99-99" : r->v.expiry);
		break;
	case MENU_VAR_ADDRESS:
		if (w)
			out_put(o, w->input, w->unit_len * MENU_ADDRESS_MAX);
		else
			out_str(o, r->v.address);
		break;
	case MENU_VAR_NOTE:
		if (w)
			out_put(o, w->input, w->unit_len * MENU_ADDRESS_MAX);
		else
			out_str(o, r->v.note);
		break;
	case MENU_VAR_ITEMS:
		/* menu_items_fit() cut them to MENU_ITEMS_SEPTETS septets or as many UCS-2 units */
		if (w)
			worst_put(o, w, MENU_ITEMS_SEPTETS);
		else
			out_str(o, r->v.items);
		break;
	case MENU_VAR_HISTORY:
		for (unsigned i = 0; i < (w ? MENU_HISTORY_MAX : r->v.n_history); i++) {
			int st = w ? w->status : r->v.history[i].status;
			if (i)
				out_line(o);
			if (st >= 0 && st < _ORDER_STATUS_COUNT)
				text_render(o, r, &r->menu->status_text[st][r->lang], NULL);
			out_str(o, " ");
			out_str(o, w ? "99-99 99:99" : r->v.history[i].at);
		}
		break;
	case MENU_VAR_METHOD: {
		int me = w ? w->method : r->v.method;
		if (me >= 0 && me < _MENU_METHOD_COUNT)
			text_render(o, r, &r->menu->method_text[me][r->lang], NULL);
		break;
	}
	case MENU_VAR_TICKET:
		num_put(o, w ? 9999999999 : r->v.ticket_id);
		break;
	case MENU_VAR_LIMIT:
		money_put(o, w ? (int64_t)99999999999 : r->v.limit_cents);
		break;
	case MENU_VAR_USED:
		money_put(o, w ? (int64_t)99999999999 : r->v.used_cents);
		break;
	case MENU_VAR_DUE:
		money_put(o, w ? (int64_t)99999999999 : r->v.due_cents);
		break;
	case MENU_VAR_STORE:
		money_put(o, w ? (int64_t)99999999999 : r->v.store_cents);
		break;
	case MENU_VAR_AMOUNT:
		money_put(o, w ? (int64_t)99999999999 : r->v.amount_cents);
		break;
	case MENU_VAR_POINTS:
		num_put(o, w ? 9999999999 : r->v.points);
		break;
	case MENU_VAR_NAME:
		/* crm.c keeps GSM-7 names of at most MENU_NAME_SEPTETS septets (or as many UCS-2 units) */
		if (w)
			worst_put(o, w, sc && sc->first_name ? MENU_FIRST_NAME_SEPTETS : MENU_NAME_SEPTETS);
		else if (sc && sc->first_name && r->name)
			first_name_put(o, r->name);
		else
			out_str(o, r->name ? r->name : "");
		break;
	case MENU_VAR_LAST:
		if (w)
			worst_put(o, w, MENU_LAST_SEPTETS);
		else if (r->home)
			last_put(o, r->home);
		break;
	case MENU_VAR_FAV: {
		size_t keep;
		const struct catalog_product *fp = w ? NULL : fav_product(r->home, &keep);
		if (w)
			worst_put(o, w, MENU_FAV_SEPTETS);
		else if (fp)
			out_put(o, fp->name, keep);
		break;
	}
	case _MENU_VAR_COUNT:
		break;
	}
}

/* NOLINTNEXTLINE(misc-no-recursion): one level deep, see var_render() */
static void text_render(struct out *o, const struct menu_run *r, const struct menu_text *t, const struct scope *sc)
{
	for (unsigned i = 0; i < t->n; i++) {
		if (t->segs[i].var < 0)
			out_put(o, t->segs[i].lit, t->segs[i].len);
		else
			var_render(o, r, t->segs[i].var, sc);
	}
}

/* Size of a piece of screen, additive across lines (a newline is one septet / one unit). */
struct size {
	unsigned septets, units;
	bool ucs2;
};

static struct size size_of(const char *s, size_t len)
{
	struct gsm7_measure m;
	if (gsm7_measure(s, len, &m) < 0)
		return (struct size){ 9999, 9999, true };
	return (struct size){ m.septets, m.ucs2_units, m.coding == GSM7_CODING_UCS2 };
}

static void size_add(struct size *a, struct size b)
{
	if (a->septets || a->units) {
		a->septets++;
		a->units++;
	}
	a->septets += b.septets;
	a->units += b.units;
	a->ucs2 |= b.ucs2;
}

static const struct menu_limits *budget_of(const struct menu_run *r);

static bool size_fits(const struct menu_run *r, struct size s)
{
	const struct menu_limits *b = budget_of(r);
	return s.ucs2 ? s.units <= b->ucs2 : s.septets <= b->septets;
}

/* The items of a list screen, from the catalogue, the session's orders or the menu. */
static unsigned list_count(const struct menu_run *r, const struct menu_screen *s)
{
	const struct catalog_category *cat;
	if (worst_of(r))
		return worst_of(r)->empty_list ? 0 : s->end ? s->max_items : WORST_LIST;
	switch (s->source) {
	case MENU_SOURCE_CATEGORIES:
		return g_catalog ? g_catalog->n_categories : 0;
	case MENU_SOURCE_PRODUCTS:
		cat = catalog_category_by_id(g_catalog, r->v.category_id);
		return cat ? cat->n_products : 0;
	case MENU_SOURCE_ORDERS:
		return r->v.n_orders;
	case MENU_SOURCE_LANGUAGES:
		return r->menu->n_langs;
	case MENU_SOURCE_BASKET:
		return r->v.n_basket;
	default:
		return 0;
	}
}

static struct scope list_item(const struct menu_run *r, const struct menu_screen *s, unsigned i)
{
	struct scope sc = { 0 };
	const struct worst *w = worst_of(r);
	const struct catalog_category *cat;
	switch (s->source) {
	case MENU_SOURCE_CATEGORIES:
		sc.cat = w ? &w->cat : &g_catalog->categories[i];
		break;
	case MENU_SOURCE_PRODUCTS:
		cat = w ? &w->cat : catalog_category_by_id(g_catalog, r->v.category_id);
		sc.prod = w ? &w->prod : cat->products[i];
		break;
	case MENU_SOURCE_ORDERS:
		sc.ord = w ? &w->ord : &r->v.orders[i];
		break;
	case MENU_SOURCE_LANGUAGES:
		sc.lang = w ? w->lang_name : (int)i;
		break;
	case MENU_SOURCE_BASKET: {	/* item_render() points sc.ord at sc.row */
		const struct catalog_product *p = w ? NULL : catalog_product_by_id(g_catalog, r->v.basket[i].product_id);
		sc.row = w ? w->ord : (struct orders_row){ .product_id = r->v.basket[i].product_id,
			.qty = r->v.basket[i].qty, .total_cents = p ? p->price_cents * r->v.basket[i].qty : 0, .status = -1 };
		break;
	}
	default:
		break;
	}
	return sc;
}

/* One list line: "n. item" on a list the customer picks from, "item" on a final list. */
static void item_render(struct out *o, const struct menu_run *r, const struct menu_screen *s, unsigned i)
{
	struct scope sc = list_item(r, s, i);
	if (s->source == MENU_SOURCE_BASKET)
		sc.ord = &sc.row;
	if (!s->end) {
		num_put(o, i + 1);
		out_str(o, ". ");
	}
	text_render(o, r, &s->item[r->lang], &sc);
}

static struct size line_size(const struct menu_run *r, const struct menu_screen *s, int item,
			     const struct menu_text *t, const struct scope *sc, const char *prefix)
{
	char b[MENU_SCREEN_BYTES * 2];
	struct out o = { b, 0, sizeof(b), false };
	b[0] = '\0';
	if (item >= 0)
		item_render(&o, r, s, item);
	else {
		out_str(&o, prefix);
		text_render(&o, r, t, sc);
	}
	return size_of(b, o.len);
}

static char key_prefix_buf[2][8];
static const char *key_prefix(const char *key, int which)
{
	char *b = key_prefix_buf[which];
	size_t n = strnlen(key, sizeof(key_prefix_buf[which]) - 3);
	memcpy(b, key, n);
	memcpy(b + n, ". ", 3);
	return b;
}

/* Greedy pagination: a page starting at item s takes the most items that fit with its header,
 * "more" (when items remain) and "back". starts[] gets each page's first item; returns pages.
 * The header is measured with page numbers of max_page's width ({page}/{pages} as 9/9 or 99/99). */
static unsigned paginate_with(const struct menu_run *r, const struct menu_screen *s, unsigned n, unsigned *starts,
			      unsigned max_page)
{
	const struct menu *m = r->menu;
	struct scope hs = { .page = max_page, .pages = max_page };
	struct size head = line_size(r, s, -1, &s->text[r->lang], &hs, "");
	/* room for "Invalid choice." on every page, shown or not, so pages never shift under it */
	if (m->invalid_text[r->lang].n)
		size_add(&head, line_size(r, s, -1, &m->invalid_text[r->lang], NULL, ""));
	struct size more = line_size(r, s, -1, &m->more_label[r->lang], NULL, key_prefix(m->key_more, 0));
	struct size back = line_size(r, s, -1, &m->back_label[r->lang], NULL, key_prefix(m->key_back, 1));
	struct size items[LIST_MAX];
	for (unsigned i = 0; i < n; i++)
		items[i] = line_size(r, s, i, NULL, NULL, NULL);

	unsigned pages = 0;
	for (unsigned st = 0; st < n;) {
		unsigned k = 1;
		for (unsigned kk = 1; st + kk <= n; kk++) {
			struct size t = head;
			for (unsigned i = st; i < st + kk; i++)
				size_add(&t, items[i]);
			if (st + kk < n)
				size_add(&t, more);
			if (s->back)
				size_add(&t, back);
			if (!size_fits(r, t))
				break;
			k = kk;
		}
		starts[pages++] = st;
		st += k;
	}
	return pages;
}

/* A list of ten pages or more shows two-digit page numbers in its header ("(10/12)"), so it is
 * paginated again with room for them (more pages, never fewer). LIST_MAX items never make more
 * than 99 pages. The linter measures every list with two digits: it must hold for any length. */
_Static_assert(LIST_MAX <= 99, "page numbers have at most two digits");
static unsigned paginate(const struct menu_run *r, const struct menu_screen *s, unsigned n, unsigned *starts)
{
	unsigned pages = paginate_with(r, s, n, starts, worst_of(r) ? 99 : 9);
	if (pages > 9 && !worst_of(r))
		pages = paginate_with(r, s, n, starts, 99);
	return pages;
}

/* "Invalid choice." above a menu or list the customer answered with a choice it does not have */
static void invalid_render(struct out *o, const struct menu_run *r)
{
	const struct menu_text *t = &r->menu->invalid_text[r->lang];
	if (r->show_error && t->n) {
		text_render(o, r, t, NULL);
		out_line(o);
	}
}

/* The orders list pages through the database: more follows its last page while older orders exist. */
static bool orders_more(const struct menu_run *r, const struct menu_screen *s)
{
	return s->source == MENU_SOURCE_ORDERS && !s->end && (worst_of(r) || r->v.orders_more);
}

static void list_render(struct out *o, struct menu_run *r, const struct menu_screen *s)
{
	const struct menu *m = r->menu;
	unsigned n = list_count(r, s);
	if (n > LIST_MAX)
		n = LIST_MAX;
	if (!s->end)
		invalid_render(o, r);
	if (!n) {
		text_render(o, r, &s->empty[r->lang], NULL);
		if (s->back && s->nav && !s->end) {
			out_line(o);
			out_str(o, key_prefix(m->key_back, 0));
			text_render(o, r, &m->back_label[r->lang], NULL);
		}
		return;
	}
	if (s->end) {
		/* A final list cannot page: show as many of its first max_items as fit. */
		struct size t = line_size(r, s, -1, &s->text[r->lang], NULL, "");
		text_render(o, r, &s->text[r->lang], NULL);
		for (unsigned i = 0; i < n && i < s->max_items; i++) {
			struct size add = t;
			size_add(&add, line_size(r, s, i, NULL, NULL, NULL));
			if (i > 0 && !size_fits(r, add))
				break;
			t = add;
			out_line(o);
			item_render(o, r, s, i);
		}
		return;
	}
	unsigned starts[LIST_MAX];
	unsigned pages = paginate(r, s, n, starts);
	if (r->page >= pages)
		r->page = pages - 1;
	unsigned first = starts[r->page], last = r->page + 1 < pages ? starts[r->page + 1] : n;
	struct scope hs = { .page = r->page + 1, .pages = pages };
	if (worst_of(r)) {	/* the linter looks at a middle page: two-digit numbers, more and back */
		unsigned p = 0;
		while (p + 1 < pages && starts[p] < 9)
			p++;
		first = starts[p];
		last = p + 1 < pages ? starts[p + 1] : n;
		hs.page = hs.pages = 99;
	}
	text_render(o, r, &s->text[r->lang], &hs);
	for (unsigned i = first; i < last; i++) {
		out_line(o);
		item_render(o, r, s, i);
	}
	if (last < n || orders_more(r, s)) {
		out_line(o);
		out_str(o, key_prefix(m->key_more, 0));
		text_render(o, r, &m->more_label[r->lang], NULL);
	}
	if (s->back && s->nav) {
		out_line(o);
		out_str(o, key_prefix(m->key_back, 0));
		text_render(o, r, &m->back_label[r->lang], NULL);
	}
}

/* "Hi Thandi" above the start screen, for a customer with a name (the linter: unless it measures
 * the home lines for one without) */
static bool greets(const struct menu_run *r, const struct menu_screen *s)
{
	return s == r->menu->start && r->menu->greeting[r->lang].n &&
	       (r->lint ? !worst_of(r)->anonymous : r->name && r->name[0]);
}

/* The start screen's lines below its options for this customer (menu.h: reorder:, offers:). */
struct home {
	const struct menu_home_line *line[MENU_HOME_LINES];
	unsigned n;
};

/* The category an offer opens: the one it names, else that of the product it is about. NULL: the
 * offer is not shown (that product is not sold, or its name cannot be shown; no such category). */
static const struct catalog_category *offer_category(const struct menu_run *r, const struct menu_home_line *of)
{
	size_t keep;
	const struct catalog_product *p = fav_product(r->home, &keep);
	if (!p)
		return NULL;
	return of->category ? catalog_category_find(g_catalog, of->category)
			    : catalog_category_by_id(g_catalog, p->category_id);
}

/* The reorder line for a customer with an order; the offer of their segment where it can be
 * shown. The linter: the reorder line and the offer it measures. */
static unsigned home_lines(const struct menu_run *r, const struct menu_screen *s, struct home *h)
{
	const struct menu *m = r->menu;
	const struct worst *w = worst_of(r);
	h->n = 0;
	if (s != m->start || !(w ? w->home : r->home != NULL))
		return 0;
	if (m->reorder.go && (w || r->home->last_order > 0))
		h->line[h->n++] = &m->reorder;
	int seg = w ? w->offer : r->home->segment;
	if (seg >= 0 && seg < _SEGMENT_NAMED_COUNT && m->offers[seg].go && (w || offer_category(r, &m->offers[seg])))
		h->line[h->n++] = &m->offers[seg];
	return h->n;
}

/* Above the home lines one line, not two: "Invalid choice." after a choice the screen does not
 * have, else the greeting with the first name, else the screen's own text (menu.h). */
static void home_header(struct out *o, const struct menu_run *r, const struct menu_screen *s)
{
	const struct menu_text *invalid = &r->menu->invalid_text[r->lang];
	if (r->show_error && invalid->n)
		text_render(o, r, invalid, NULL);
	else if (greets(r, s))
		text_render(o, r, &r->menu->greeting[r->lang], &(struct scope){ .first_name = true });
	else
		text_render(o, r, &s->text[r->lang], NULL);
}

/* A home line chosen: the reorder screen gets the latest order, an offer's screen its product and
 * category, as if chosen on their lists. */
static enum menu_state home_choose(struct menu_run *r, const struct menu_home_line *l);

int menu_render(struct menu_run *r, char *buf, size_t len)
{
	const struct menu_screen *s = r->screen;
	const struct menu *m = r->menu;
	struct out o = { buf, 0, len, false };
	buf[0] = '\0';

	switch (s->type) {
	case MENU_SCREEN_MENU:
	case MENU_SCREEN_CONFIRM: {
		struct home h;
		if (home_lines(r, s, &h)) {
			home_header(&o, r, s);
		} else {
			if (greets(r, s)) {
				text_render(&o, r, &m->greeting[r->lang], NULL);
				out_line(&o);
			}
			invalid_render(&o, r);
			text_render(&o, r, &s->text[r->lang], NULL);
		}
		for (unsigned i = 0; i < s->n_options + h.n; i++) {
			out_line(&o);
			num_put(&o, i + 1);
			out_str(&o, ". ");
			text_render(&o, r, i < s->n_options ? &s->options[i].label[r->lang]
							     : &h.line[i - s->n_options]->text[r->lang], NULL);
		}
		break;
	}
	case MENU_SCREEN_INPUT:
		if (r->show_error && s->error[r->lang].n) {
			text_render(&o, r, &s->error[r->lang], NULL);
			out_line(&o);
		}
		text_render(&o, r, &s->text[r->lang], NULL);
		break;
	case MENU_SCREEN_LIST:
		list_render(&o, r, s);
		return o.overflow ? -ENOSPC : (int)o.len;
	case MENU_SCREEN_END:
		text_render(&o, r, &s->text[r->lang], NULL);
		break;
	case _MENU_SCREEN_COUNT:
		break;
	}
	if (s->back && s->nav && s->type != MENU_SCREEN_END) {
		out_line(&o);
		out_str(&o, key_prefix(m->key_back, 0));
		text_render(&o, r, &m->back_label[r->lang], NULL);
	}
	return o.overflow ? -ENOSPC : (int)o.len;
}

/* The polite END shown when the database or an action fails. */
int menu_render_error(const struct menu_run *r, char *buf, size_t len)
{
	struct out o = { buf, 0, len, false };
	buf[0] = '\0';
	text_render(&o, r, &r->menu->error_text[r->lang], NULL);
	return (int)o.len;
}

void menu_trail(const struct menu_run *r, char *buf, size_t len)
{
	struct out o = { buf, 0, len, false };
	buf[0] = '\0';
	for (unsigned i = 0; i < r->n_trail; i++) {
		if (i)
			out_put(&o, " ", 1);
		out_str(&o, r->menu->screens[r->trail[i]].name);
	}
}

int menu_render_slow(const struct menu_run *r, char *buf, size_t len)
{
	struct out o = { buf, 0, len, false };
	buf[0] = '\0';
	text_render(&o, r, &r->menu->slow_text[r->lang], NULL);
	return (int)o.len;
}

static bool screen_ends(const struct menu_screen *s)
{
	return s->type == MENU_SCREEN_END || (s->type == MENU_SCREEN_LIST && s->end);
}

static enum menu_state enter(struct menu_run *r, const struct menu_screen *s)
{
	/* the orders list starts at the newest order, unless the customer comes back to it from
	 * an order they picked on it (back keeps the page) */
	if (s->source == MENU_SOURCE_ORDERS && r->screen != s && r->picked_from != s)
		r->v.orders_offset = 0;
	r->screen = s;
	r->page = 0;
	r->show_error = false;
	r->screens_visited++;
	if (r->n_trail < sizeof(r->trail))
		r->trail[r->n_trail++] = s - r->menu->screens;
	if (s->action != MENU_ACTION_NONE) {
		r->pending = s->action;
		return MENU_PENDING;
	}
	return screen_ends(s) ? MENU_END : MENU_CON;
}

enum menu_state menu_start_at(struct menu_run *r, const struct menu *m, int lang, const char *name,
			      const struct menu_screen *first)
{
	memset(r, 0, sizeof(*r));
	r->menu = m;
	r->lang = lang >= 0 && (unsigned)lang < m->n_langs ? lang : 0;
	r->pending = MENU_ACTION_NONE;
	r->v.status = -1;
	r->v.line = -1;
	r->v.method = -1;
	r->name = name;
	return enter(r, first ? first : m->start);
}

enum menu_state menu_start_customer(struct menu_run *r, const struct menu *m, int lang, const char *name, bool ask)
{
	return menu_start_at(r, m, lang, name, ask ? m->ask_name : NULL);
}

enum menu_state menu_start(struct menu_run *r, const struct menu *m, int lang)
{
	return menu_start_customer(r, m, lang, NULL, false);
}

enum menu_state menu_action_done(struct menu_run *r, enum menu_outcome outcome)
{
	enum menu_action a = r->pending;
	r->pending = MENU_ACTION_NONE;
	if (outcome == MENU_OUTCOME_OK) {
		if (a == MENU_ACTION_SET_LANGUAGE)
			r->lang = r->v.new_lang;
		/* a screen that only does (set_name) goes on at once; an input's next: is its answer's */
		if (r->screen->next && r->screen->type != MENU_SCREEN_INPUT)
			return enter(r, r->screen->next);
		return screen_ends(r->screen) ? MENU_END : MENU_CON;
	}
	const struct menu_screen *to = r->screen->on[outcome];
	if (!to)
		return MENU_END;	/* the caller shows the menu's error text */
	return enter(r, to);
}

/* An empty key in the menu file switches that navigation key off. */
static bool key_is(const char *key, const char *in, size_t len)
{
	return key[0] && strlen(key) == len && !memcmp(key, in, len);
}

/* "1".."n" without sign, spaces or leading zeros; 0 if it is not such a number. */
static unsigned small_number(const char *in, size_t len, unsigned max)
{
	if (!len || len > 2 || in[0] < '1' || in[0] > '9')
		return 0;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (in[i] < '0' || in[i] > '9')
			return 0;
		v = v * 10 + (in[i] - '0');
	}
	return v <= max ? v : 0;
}

static void total_update(struct menu_run *r)
{
	const struct catalog_product *p = catalog_product_by_id(g_catalog, r->v.product_id);
	r->v.total_cents = p ? p->price_cents * r->v.qty : 0;
}

/* Text that later screens show again (an address, instructions) must be GSM-7: one character
 * outside it (a control byte, an emoji) would turn those whole screens into UCS-2, whose budget is
 * less than half, and the linter proves them against GSM-7 input. The screen's error line shows. */
static bool echo_ok(const struct menu_screen *s, const char *buf, size_t len)
{
	struct gsm7_measure m;
	if (s->store != MENU_VAR_ADDRESS && s->store != MENU_VAR_NOTE && s->store != MENU_VAR_NAME)
		return true;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			return false;
	return gsm7_measure(buf, len, &m) == 0 && m.coding == GSM7_CODING_GSM7;
}

static enum menu_state home_choose(struct menu_run *r, const struct menu_home_line *l)
{
	if (l == &r->menu->reorder) {
		r->v.order_id = r->home->last_order;
	} else {
		const struct catalog_category *cat = offer_category(r, l);
		r->v.product_id = r->home->fav_product;
		r->v.category_id = cat ? cat->id : 0;
		total_update(r);
	}
	return enter(r, l->go);
}

static enum menu_state list_select(struct menu_run *r, const struct menu_screen *s, unsigned i)
{
	const struct catalog_category *cat;
	r->picked_from = s;
	r->picked_page = r->page;
	switch (s->source) {
	case MENU_SOURCE_CATEGORIES:
		r->v.category_id = g_catalog->categories[i].id;
		break;
	case MENU_SOURCE_PRODUCTS:
		cat = catalog_category_by_id(g_catalog, r->v.category_id);
		r->v.product_id = cat->products[i]->id;
		total_update(r);
		break;
	case MENU_SOURCE_ORDERS:
		r->v.order_id = r->v.orders[i].id;
		r->v.total_cents = r->v.orders[i].total_cents;
		r->v.status = r->v.orders[i].status;
		break;
	case MENU_SOURCE_LANGUAGES:
		r->v.new_lang = i;
		break;
	case MENU_SOURCE_BASKET:	/* {total} stays the basket's */
		r->v.line = i;
		r->v.product_id = r->v.basket[i].product_id;
		r->v.qty = r->v.basket[i].qty;
		break;
	default:
		break;
	}
	return enter(r, s->select);
}

bool menu_accepts(const struct menu_screen *s, const char *in)
{
	return s->type == MENU_SCREEN_INPUT && strlen(in) <= s->max_length && regexec(s->pattern, in, 0, NULL, 0) == 0;
}

enum menu_state menu_input(struct menu_run *r, const char *in, size_t len)
{
	const struct menu_screen *s = r->screen;
	const struct menu *m = r->menu;
	unsigned n;

	if (screen_ends(s))
		return MENU_END;
	if (s->nav) {
		if (key_is(m->key_home, in, len))
			return enter(r, m->start);
		if (s->back && key_is(m->key_back, in, len)) {
			enum menu_state st = enter(r, s->back);
			if (s->back == r->picked_from)	/* back to the list page the item came from */
				r->page = r->picked_page;
			return st;
		}
	}

	switch (s->type) {
	case MENU_SCREEN_MENU:
	case MENU_SCREEN_CONFIRM: {
		struct home h;
		if ((n = small_number(in, len, s->n_options + home_lines(r, s, &h))))
			return n <= s->n_options ? enter(r, s->options[n - 1].go) : home_choose(r, h.line[n - 1 - s->n_options]);
		r->show_error = true;
		break;
	}
	case MENU_SCREEN_LIST: {
		unsigned count = list_count(r, s);
		if (count > LIST_MAX)
			count = LIST_MAX;
		r->show_error = false;
		if (key_is(m->key_more, in, len)) {
			unsigned starts[LIST_MAX];
			unsigned pages = count ? paginate(r, s, count, starts) : 1;
			if (r->page + 1 < pages) {
				r->page++;
			} else if (orders_more(r, s)) {	/* the next page of orders comes from the database */
				r->v.orders_offset += r->v.n_orders;
				return enter(r, s);
			}
			return MENU_CON;
		}
		if ((n = small_number(in, len, count)))
			return list_select(r, s, n - 1);
		r->show_error = true;
		break;
	}
	case MENU_SCREEN_INPUT: {
		/* a PIN goes to its own field, wiped after use; it is never echoed */
		bool pin = (int)s->store == -1;
		bool into_input = s->store == MENU_VAR_INPUT || s->store == MENU_VAR_ORDER;
		/* a name goes where an address does: it is asked before anything else, and set_name
		 * takes it at once (menu.h: never needed at once) */
		char *to = pin ? r->v.pin : into_input ? r->v.input : s->store == MENU_VAR_ADDRESS ||
			   s->store == MENU_VAR_NAME ? r->v.address : s->store == MENU_VAR_NOTE ? r->v.note : NULL;
		char buf[MENU_ADDRESS_MAX + 1];
		size_t room = pin ? sizeof(r->v.pin) : into_input ? sizeof(r->v.input) : sizeof(buf);
		if (len < room && !memchr(in, '\0', len)) {
			memcpy(buf, in, len);	/* len < room <= sizeof(buf) */
			buf[len] = '\0';
			if (menu_accepts(s, buf) && echo_ok(s, buf, len)) {
				if (to)
					memcpy(to, buf, len + 1);
				if (s->store == MENU_VAR_ADDRESS)	/* a new address: last time's instructions go */
					r->v.note[0] = '\0';
				if (s->store == MENU_VAR_ORDER)
					r->v.order_id = strtoll(buf, NULL, 10);
				if (s->store == MENU_VAR_QTY) {
					r->v.qty = atoi(buf);
					total_update(r);
				}
				explicit_bzero(buf, sizeof(buf));
				return enter(r, s->next);
			}
			explicit_bzero(buf, sizeof(buf));
		}
		r->show_error = true;
		break;
	}
	default:
		break;
	}
	return MENU_CON;	/* invalid input never ends a session: the screen shows again */
}

void menu_items_cut(char *s)
{
	size_t len = strlen(s), keep = 0;
	for (size_t i = 1; i <= len; i++) {
		if (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
			continue;	/* inside a UTF-8 character */
		struct size sz = size_of(s, i);
		if (sz.ucs2 ? sz.units > MENU_ITEMS_SEPTETS / 2 : sz.septets > MENU_ITEMS_SEPTETS)
			break;
		keep = i;
	}
	s[keep] = '\0';
}

/* ---- the linter ---- */

static const struct worst *lint_worst;
static const struct menu_limits default_budget = { .septets = 182, .ucs2 = 80 };

static const struct worst *worst_of(const struct menu_run *r)
{
	return r->lint ? lint_worst : NULL;
}

static const struct menu_limits *budget_of(const struct menu_run *r)
{
	return r->budget ? r->budget : &default_budget;
}

static unsigned text_units(const struct menu_run *r, const struct menu_text *t)
{
	char b[MENU_SCREEN_BYTES];
	struct out o = { b, 0, sizeof(b), false };
	b[0] = '\0';
	text_render(&o, r, t, NULL);
	struct size sz = size_of(b, o.len);
	return sz.ucs2 ? sz.units * 2 : sz.septets;
}

/* Is the screen's own text (without values) GSM-7? Then worst-case names are two-septet
 * characters; on a UCS-2 screen every character is one unit, so plain letters will do. */
static bool screen_static_ucs2(const struct menu_run *r, const struct menu_screen *s)
{
	struct home h;
	unsigned nh = home_lines(r, s, &h);
	const struct menu_text *ts[] = { &s->text[r->lang], &s->item[r->lang], &s->error[r->lang],
		&r->menu->back_label[r->lang], &r->menu->more_label[r->lang],
		greets(r, s) ? &r->menu->greeting[r->lang] : &s->error[r->lang],
		nh > 0 ? &h.line[0]->text[r->lang] : &s->error[r->lang],
		nh > 1 ? &h.line[1]->text[r->lang] : &s->error[r->lang] };
	for (unsigned i = 0; i < sizeof(ts) / sizeof(ts[0]); i++)
		for (unsigned j = 0; j < ts[i]->n; j++)
			if (ts[i]->segs[j].var < 0 && size_of(ts[i]->segs[j].lit, ts[i]->segs[j].len).ucs2)
				return true;
	for (unsigned i = 0; i < s->n_options; i++)
		for (unsigned j = 0; j < s->options[i].label[r->lang].n; j++) {
			const struct menu_seg *g = &s->options[i].label[r->lang].segs[j];
			if (g->var < 0 && size_of(g->lit, g->len).ucs2)
				return true;
		}
	return false;
}

/* Renders one screen with worst-case values, with and without its error line (lists full and
 * empty, both with "Invalid choice.": it only ever adds), and for the start screen with home lines
 * for a customer with and without a name; says where it does not fit. what names the variant:
 * NULL for the screen itself, else the home line measured ("offers: lapsed"), at line. */
/* The worst values for screen s as the variant in w and r shows it (screen_static_ucs2()). */
static void worst_names(struct menu_run *r, struct worst *w, const struct menu_screen *s)
{
	const struct menu_limits *lim = w->lim;
	/* "€" is two septets but one UCS-2 unit: the worst name either way on a GSM-7 screen */
	const char *unit = screen_static_ucs2(r, s) ? "x" : "\xe2\x82\xac";
	size_t ul = strlen(unit), n = 0;
	for (unsigned c = 0; c < lim->name_max && n + ul < sizeof(w->name) / 2; c++, n += ul)
		memcpy(w->name + n, unit, ul);
	w->name[n] = '\0';
	w->unit_len = ul;
	for (unsigned c = 0; c < 160; c++)
		memcpy(w->input + c * ul, unit, ul);
	w->cat = (struct catalog_category){ .id = 1, .name = w->name };
	w->prod = (struct catalog_product){ .id = 1, .category_id = 1, .name = w->name,
		.price_cents = lim->price_max_cents, .stock = 1 };
	w->ord = (struct orders_row){ .id = 999999999, .product_id = 1, .qty = lim->qty_max,
		.total_cents = lim->price_max_cents * lim->qty_max, .status = w->status };
}

static int lint_screen(struct menu_run *r, struct worst *w, const struct menu_screen *s, const char *file,
		       const char *what, unsigned line)
{
	const struct menu *m = r->menu;
	const struct menu_limits *lim = w->lim;
	int rc = 0;
	r->screen = s;
	int variants = s->type == MENU_SCREEN_END ? 1 : 2;
	for (int v = 0; v < variants * (w->home ? 2 : 1); v++) {
		char b[MENU_SCREEN_BYTES * 4];
		int err = v % variants;
		w->anonymous = v >= variants;
		worst_names(r, w, s);	/* without the greeting a screen may be GSM-7 */
		r->show_error = s->type == MENU_SCREEN_LIST ? true : err;
		w->empty_list = err;
		int len = menu_render(r, b, sizeof(b));
		struct size sz = size_of(b, len < 0 ? 0 : (size_t)len);
		if (len >= 0 && size_fits(r, sz))
			continue;
		char where[160];
		if (what)
			snprintf(where, sizeof(where), "%s [%s]: the home screen \"%s\" with this line is", what,
				 m->langs[r->lang], s->name);
		else
			snprintf(where, sizeof(where), "screen \"%s\" [%s]:", s->name, m->langs[r->lang]);
		if (sz.ucs2)
			fprintf(stderr, "%s:%u: %s %u UCS-2 characters with worst-case values, over the %u budget by %u\n",
				file, what ? line : s->line, where, sz.units, lim->ucs2, sz.units - lim->ucs2);
		else
			fprintf(stderr, "%s:%u: %s %u GSM-7 septets with worst-case values, over the %u budget by %u\n",
				file, what ? line : s->line, where, sz.septets, lim->septets, sz.septets - lim->septets);
		rc = -EINVAL;
		if (what)	/* a home line: said once, at its first variant over the budget */
			break;
	}
	w->anonymous = false;
	return rc;
}

/* The start screen with its home lines: the reorder line with each segment's offer in turn (the
 * reorder line alone when there are no offers). */
static int lint_home(struct menu_run *r, struct worst *w, const char *file)
{
	const struct menu *m = r->menu;
	int rc = 0;
	bool offers = false;
	w->home = true;
	for (int seg = 0; seg < _SEGMENT_NAMED_COUNT; seg++) {
		char what[48];
		if (!m->offers[seg].go)
			continue;
		offers = true;
		w->offer = seg;
		snprintf(what, sizeof(what), "offers: %s", segment_named_word(seg));
		rc |= lint_screen(r, w, m->start, file, what, m->offers[seg].line);
	}
	w->offer = -1;
	if (!offers && m->reorder.go)
		rc |= lint_screen(r, w, m->start, file, "reorder", m->reorder.line);
	w->home = false;
	return rc;
}

int menu_lint(const struct menu *m, const struct menu_limits *lim, const char *file)
{
	static struct worst w;
	int rc = 0;
	lint_worst = &w;
	w.lim = lim;
	w.home = false;
	w.offer = -1;
	for (unsigned l = 0; l < m->n_langs; l++) {
		struct menu_run r = { .menu = m, .lang = l, .lint = true, .budget = lim };
		/* the longest status and language name in this language */
		unsigned best = 0;
		w.status = 0;
		for (unsigned st = 0; st < _ORDER_STATUS_COUNT; st++)
			if (text_units(&r, &m->status_text[st][l]) > best) {
				best = text_units(&r, &m->status_text[st][l]);
				w.status = st;
			}
		best = 0;
		w.method = 0;
		for (unsigned me = 0; me < _MENU_METHOD_COUNT; me++)
			if (text_units(&r, &m->method_text[me][l]) > best) {
				best = text_units(&r, &m->method_text[me][l]);
				w.method = me;
			}
		best = 0;
		w.lang_name = 0;
		for (unsigned ll = 0; ll < m->n_langs; ll++)
			if (text_units(&r, &m->lang_name[ll]) > best) {
				best = text_units(&r, &m->lang_name[ll]);
				w.lang_name = ll;
			}
		for (unsigned i = 0; i < m->n_screens; i++)
			rc |= lint_screen(&r, &w, &m->screens[i], file, NULL, 0);
		if (m->start)
			rc |= lint_home(&r, &w, file);
	}
	/* the menu-wide texts: plain, but they must fit too (invalid: within every screen above) */
	for (unsigned l = 0; l < m->n_langs; l++) {
		struct menu_run r = { .menu = m, .lang = l, .budget = lim };
		char b[MENU_SCREEN_BYTES * 4];
		int lens[2] = { menu_render_error(&r, b, sizeof(b)), 0 };
		struct size sz[2] = { size_of(b, lens[0]) };
		lens[1] = menu_render_slow(&r, b, sizeof(b));
		sz[1] = size_of(b, lens[1]);
		for (int i = 0; i < 2; i++)
			if (!size_fits(&r, sz[i])) {
				fprintf(stderr, "%s:1: %s text [%s] does not fit one screen\n", file, i ? "slow" : "error", m->langs[l]);
				rc = -EINVAL;
			}
	}
	lint_worst = NULL;
	w.empty_list = false;
	return rc;
}
