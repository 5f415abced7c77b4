/* spaza-bench-engine: the menu engine alone, in process and without I/O (issue 14's
 * "make bench-engine"). It walks the bench and shop menus with the SHOP-BENCH mix (half the
 * sessions browse and order, 30% look at their orders, 20% pay an order by voucher; the shop's
 * sessions in en, zu and af in turn) and times each hop as spazad does it: menu_start() or
 * menu_input(), the pending action answered as its domain call would, then menu_render().
 * Prints hops per second on one core (run it pinned, scripts/bench-engine does).
 *
 * Usage: spaza-bench-engine MENUS_DIR CATALOG_CSV [SECONDS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <talloc.h>
#include "menu.h"
#include "catalog.h"

static const struct menu_limits lim = { .name_max = 24, .price_max_cents = 999999, .qty_max = 20,
	.septets = 182, .ucs2 = 80 };

/* The benchmark catalogue (menus/bench-catalog.csv: sku,category,name,price,stock), categories
 * in the order they first appear, as `spazactl catalog import` orders them. */
static int catalog_read(void *ctx, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256], cats[16][64];
	unsigned n_cats = 0, n_prods = 0;
	struct { int sku; unsigned cat; char name[64]; long price; } rows[256];
	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f) && n_prods < 256) {
		char cat[64], name[64];
		int sku, rands, cents;
		if (sscanf(line, "%d,%63[^,],%63[^,],%d.%d", &sku, cat, name, &rands, &cents) != 5)
			continue;
		unsigned c = 0;
		while (c < n_cats && strcmp(cats[c], cat))
			c++;
		if (c == n_cats && n_cats < 16)
			strcpy(cats[n_cats++], cat);
		rows[n_prods].sku = sku;
		rows[n_prods].cat = c;
		strcpy(rows[n_prods].name, name);
		rows[n_prods++].price = rands * 100L + cents;
	}
	fclose(f);
	struct catalog *c = catalog_alloc(ctx, n_cats, n_prods);
	for (unsigned i = 0; i < n_cats; i++)
		c->categories[i] = (struct catalog_category){ .id = (int)i + 1, .name = talloc_strdup(c, cats[i]) };
	for (unsigned i = 0; i < n_prods; i++)
		c->products[i] = (struct catalog_product){ .id = rows[i].sku, .category_id = (int)rows[i].cat + 1,
			.name = talloc_strdup(c, rows[i].name), .price_cents = rows[i].price, .stock = 1000000 };
	if (catalog_link(c) < 0)
		return -1;
	g_catalog = c;
	return 0;
}

/* splitmix64, as tools/spaza-load.c draws its mix */
static uint64_t rnd_state = 42;
static unsigned rnd_below(unsigned n)
{
	uint64_t z = (rnd_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (unsigned)((z ^ (z >> 31)) % n);
}

/* What the domain would answer a pending action with: an order created, three orders found,
 * the order to pay found and payable, the voucher accepted. */
static enum menu_state action_answer(struct menu_run *r)
{
	if (r->pending == MENU_ACTION_NONE)
		return MENU_CON;
	r->v.order_id = 1000 + rnd_below(100000);
	r->v.total_cents = 6499;
	r->v.status = 0;
	r->v.n_orders = ORDERS_MAX_ROWS;
	for (unsigned i = 0; i < ORDERS_MAX_ROWS; i++)
		r->v.orders[i] = (struct orders_row){ .id = 1000 + i, .product_id = g_catalog->products[i * 7].id,
			.qty = 2, .total_cents = 2 * g_catalog->products[i * 7].price_cents, .status = (int)i % 3 };
	r->v.orders_more = false;
	r->v.remainder_cents = 0;
	return menu_action_done(r, MENU_OUTCOME_OK);
}

static unsigned long hops, bytes;
static char screen[MENU_SCREEN_BYTES];

static void hop_render(struct menu_run *r, enum menu_state st)
{
	while (st == MENU_PENDING)
		st = action_answer(r);
	int n = menu_render(r, screen, sizeof(screen));
	hops++;
	bytes += n > 0 ? (unsigned)n : 0;
}

/* One session of the mix: inputs as spaza-load sends them. */
static void session(const struct menu *m, int lang)
{
	char in[6][24];
	unsigned n_in, kind = rnd_below(100);
	if (kind < 50) {	/* browse, buy */
		snprintf(in[0], sizeof(in[0]), "1");
		snprintf(in[1], sizeof(in[1]), "%u", 1 + rnd_below(5));
		snprintf(in[2], sizeof(in[2]), "%u", 1 + rnd_below(8));
		snprintf(in[3], sizeof(in[3]), "1");
		snprintf(in[4], sizeof(in[4]), "%u", 1 + rnd_below(20));
		snprintf(in[5], sizeof(in[5]), "1");
		n_in = 6;
	} else if (kind < 80) {	/* my orders */
		snprintf(in[0], sizeof(in[0]), "2");
		n_in = 1;
	} else {		/* pay an order by voucher */
		snprintf(in[0], sizeof(in[0]), "3");
		snprintf(in[1], sizeof(in[1]), "%u", 1000 + rnd_below(100000));
		snprintf(in[2], sizeof(in[2]), "1");
		snprintf(in[3], sizeof(in[3]), "%016u", rnd_below(1000000000));
		n_in = 4;
	}
	struct menu_run r;
	enum menu_state st = menu_start(&r, m, lang);
	hop_render(&r, st);
	for (unsigned i = 0; i < n_in && st != MENU_END; i++) {
		st = menu_input(&r, in[i], strlen(in[i]));
		hop_render(&r, st);
	}
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s MENUS_DIR CATALOG_CSV [SECONDS]\n", argv[0]);
		return 2;
	}
	double seconds = argc > 3 ? atof(argv[3]) : 3;
	void *ctx = talloc_named_const(NULL, 0, "bench-engine");
	struct menu_set *set = NULL;
	if (catalog_read(ctx, argv[2]) < 0) {
		fprintf(stderr, "%s: cannot read the catalogue\n", argv[2]);
		return 1;
	}
	if (menu_set_load(ctx, argv[1], &lim, &set) < 0)
		return 1;
	const struct menu *menus[2] = { menu_set_find(set, "*384*123#"), menu_set_find(set, "*120*777#") };
	if (!menus[0] || !menus[1]) {
		fprintf(stderr, "%s: the bench and shop menus are needed\n", argv[1]);
		return 1;
	}
	/* The bench menu as the HTTP bench drives it, and the shop in its three languages */
	const char *names[2] = { "bench", "shop" };
	double total_hops = 0, total_cpu = 0;
	for (int k = 0; k < 2; k++) {
		hops = bytes = 0;
		double t0 = now(), c0 = cpu_now(), t;
		unsigned s = 0;
		do {
			for (int i = 0; i < 1000; i++, s++)
				session(menus[k], k ? (int)(s % menus[k]->n_langs) : 0);
			t = now();
		} while (t - t0 < seconds / 2);
		double cpu = cpu_now() - c0;
		printf("bench-engine: %-5s %9.0f hops/s of CPU (%lu hops, %.2f s CPU, %.2f s wall, %.0f bytes/screen)\n",
		       names[k], hops / cpu, hops, cpu, t - t0, (double)bytes / hops);
		total_hops += hops;
		total_cpu += cpu;
	}
	printf("bench-engine: both  %9.0f hops/s of CPU (target >= 1000000 on one core)\n", total_hops / total_cpu);
	talloc_free(ctx);
	return 0;
}
