/*
 * spaza-load: the load generator of the benchmark (doc/benchmark.md, SHOP-BENCH section 6).
 *
 * One thread, one epoll loop, C keep-alive HTTP/1.1 connections, one request in flight per
 * connection (never pipelined). Each connection walks USSD sessions one after another: a new
 * sessionId per session, the phone drawn from the 1,000 bench customers, `text` growing by one
 * input per hop. Every reply is checked against the screen SHOP-BENCH sections 3-4 says it must be,
 * exactly where the screen is known and by its shape where it holds data (order numbers, lists).
 *
 * The generator shares a 2-core machine with the server under test, so it is kept lean: all
 * expected screens are built once at start-up, a request is a few memcpy()s into the
 * connection's buffer, a hop costs one send(), one recv() and a share of one epoll_wait(), and
 * latencies go into a log-linear histogram (128 buckets per octave, < 0.4% error) instead of
 * a sample array. Its own CPU share is reported beside the server's, so a saturated generator
 * is visible in every result line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define SCREEN_MAX	182
#define NPHONES		1000
#define RBUF_SIZE	8192
#define WBUF_SIZE	2048
#define MAX_INPUTS	6
#define MAX_SHOWN	3	/* mismatches printed in full */

/* ------------------------------------------------------------------------------------------ */
/* Small helpers */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("spaza-load: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* splitmix64: tiny, fast and good enough to draw phones and menu choices */
static uint64_t rnd_state;

static uint64_t rnd_next(void)
{
	uint64_t z = (rnd_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned rnd_below(unsigned n)
{
	return (unsigned)(((rnd_next() >> 32) * n) >> 32);
}

/* ------------------------------------------------------------------------------------------ */
/* The benchmark shop: catalogue (SHOP-BENCH section 4) and the screens the server must send */

struct product {
	const char *name;
	long cents;
};

struct category {
	const char *name;
	struct product items[8];
};

static const struct category catalog[5] = {
	{ "Groceries", { { "White bread 700g", 1799 }, { "Brown bread 700g", 1649 },
		{ "Maize meal 5kg", 6499 }, { "Rice 2kg", 4250 }, { "Sugar 2.5kg", 5499 },
		{ "Cooking oil 2L", 7999 }, { "Eggs 6 pack", 2199 }, { "Milk 1L", 1849 } } },
	{ "Drinks", { { "Coke 2L", 2799 }, { "Fanta Orange 2L", 2599 }, { "Sprite 2L", 2599 },
		{ "Still water 1.5L", 1299 }, { "Rooibos tea 80s", 3999 },
		{ "Instant coffee 200g", 8999 }, { "Orange juice 1L", 2999 },
		{ "Energy drink 500ml", 1999 } } },
	{ "Household", { { "Dish liquid 750ml", 3299 }, { "Washing powder 2kg", 8999 },
		{ "Bleach 1.5L", 3649 }, { "Toilet paper 9s", 7499 }, { "Candles 6 pack", 2499 },
		{ "Matches 10 box", 1299 }, { "Paraffin 1L", 2899 }, { "Refuse bags 20s", 2399 } } },
	{ "Personal care", { { "Bath soap 175g", 1249 }, { "Toothpaste 100ml", 2499 },
		{ "Toothbrush", 1599 }, { "Body lotion 400ml", 4999 },
		{ "Petroleum jelly 250ml", 3499 }, { "Roll-on deodorant", 2999 },
		{ "Shampoo 400ml", 5499 }, { "Sanitary pads 10s", 2799 } } },
	{ "Snacks", { { "Chips 36g", 999 }, { "Peanuts 100g", 1699 }, { "Chocolate bar 80g", 2299 },
		{ "Biscuits 200g", 1999 }, { "Sweets 125g", 1499 }, { "Popcorn 100g", 1299 },
		{ "Fruit chews", 100 }, { "Vetkoek", 500 } } },
};

/* An expected reply body, prefix ("CON "/"END ") included. */
struct text {
	const char *s;
	size_t len;
};

static struct text scr_main, scr_cats, scr_qty, scr_pay_order, scr_pay_with, scr_voucher;
static struct text scr_polite, scr_slow;	/* the menu's error: and slow: screens (--faults) */
static struct text scr_page[5][2];		/* [category][page]; every category has 2 pages */
static int page_first[5][3];			/* first item (0-based) of each page, [npages] = 8 */
static int page_count[5];
static struct text scr_detail[5][8];
static struct text scr_confirm[5][8][20];	/* [category][item][qty-1] */

static struct text text_dup(const char *s)
{
	struct text t = { strdup(s), strlen(s) };
	if (!t.s)
		die("out of memory");
	return t;
}

static void fmt_money(char *buf, size_t sz, long cents)
{
	snprintf(buf, sz, "R%ld.%02ld", cents / 100, cents % 100);
}

static size_t item_line(char *buf, size_t sz, int cat, int item)
{
	char price[32];
	fmt_money(price, sizeof(price), catalog[cat].items[item].cents);
	return (size_t)snprintf(buf, sz, "%d. %s %s", item + 1, catalog[cat].items[item].name, price);
}

/* Page `page` (0-based) of a category, without the "CON " prefix. */
static size_t render_page(char *buf, size_t sz, int cat, int page, int npages)
{
	size_t n = (size_t)snprintf(buf, sz, "%s (%d/%d)", catalog[cat].name, page + 1, npages);
	for (int i = page_first[cat][page]; i < page_first[cat][page + 1]; i++) {
		buf[n++] = '\n';
		n += item_line(buf + n, sz - n, cat, i);
	}
	if (page_first[cat][page + 1] < 8)
		n += (size_t)snprintf(buf + n, sz - n, "\n98. More");
	n += (size_t)snprintf(buf + n, sz - n, "\n0. Back");
	return n;
}

/*
 * The greedy pagination rule of SHOP-BENCH section 4: a page starting at item s takes the largest
 * k >= 1 whose rendered page (with "98. More" iff items remain) fits in 182 characters. The
 * page count is one digit, so the header's length is known before the count is.
 */
static void paginate(int cat)
{
	char line[128];
	int s = 0, np = 0;
	size_t header = strlen(catalog[cat].name) + strlen(" (1/1)");

	while (s < 8) {
		int k;
		for (k = 8 - s; k > 1; k--) {
			size_t len = header;
			for (int i = s; i < s + k; i++)
				len += 1 + item_line(line, sizeof(line), cat, i);
			if (s + k < 8)
				len += strlen("\n98. More");
			len += strlen("\n0. Back");
			if (len <= SCREEN_MAX)
				break;
		}
		if (np >= 2)
			die("category %s needs more than 2 pages", catalog[cat].name);
		page_first[cat][np++] = s;
		s += k;
	}
	page_first[cat][np] = 8;
	page_count[cat] = np;
}

static void build_screens(void)
{
	char buf[512], price[32];

	scr_main = text_dup("CON Welcome to Spaza\n1. Browse\n2. My orders\n3. Pay\n4. Help");
	scr_cats = text_dup("CON Categories\n1. Groceries\n2. Drinks\n3. Household\n"
			    "4. Personal care\n5. Snacks\n0. Back");
	scr_qty = text_dup("CON Enter quantity (1-20):");
	scr_pay_order = text_dup("CON Enter order number");
	scr_pay_with = text_dup("CON Pay with:\n1. Voucher\n2. Credit\n3. Barcode slip");
	scr_voucher = text_dup("CON Enter 16-digit voucher PIN");
	scr_polite = text_dup("END Sorry, we could not do that right now. Please try again later.");
	scr_slow = text_dup("END This is taking longer than usual. We will SMS you the result.");

	for (int c = 0; c < 5; c++) {
		paginate(c);
		for (int p = 0; p < page_count[c]; p++) {
			memcpy(buf, "CON ", 4);	/* NOLINT(bugprone-not-null-terminated-result): render_page() ends it */
			render_page(buf + 4, sizeof(buf) - 4, c, p, page_count[c]);
			scr_page[c][p] = text_dup(buf);
		}
		for (int i = 0; i < 8; i++) {
			const struct product *pr = &catalog[c].items[i];
			fmt_money(price, sizeof(price), pr->cents);
			snprintf(buf, sizeof(buf), "CON %s\nPrice: %s\n1. Buy\n0. Back", pr->name, price);
			scr_detail[c][i] = text_dup(buf);
			for (int q = 1; q <= 20; q++) {
				fmt_money(price, sizeof(price), pr->cents * q);
				snprintf(buf, sizeof(buf), "CON Order %d x %s for %s?\n1. Confirm\n2. Cancel",
					 q, pr->name, price);
				scr_confirm[c][i][q - 1] = text_dup(buf);
			}
		}
	}
}

/* --print-screens: every screen the tool expects, for whoever writes the bench menu file. */
static void print_screens(void)
{
	struct text *all[] = { &scr_main, &scr_cats, &scr_qty, &scr_pay_order, &scr_pay_with,
			       &scr_voucher };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		printf("[%zu chars]\n%s\n\n", all[i]->len - 4, all[i]->s);
	for (int c = 0; c < 5; c++) {
		for (int p = 0; p < page_count[c]; p++)
			printf("[%s page %d/%d: items %d-%d, %zu chars]\n%s\n\n", catalog[c].name, p + 1,
			       page_count[c], page_first[c][p] + 1, page_first[c][p + 1],
			       scr_page[c][p].len - 4, scr_page[c][p].s);
		for (int i = 0; i < 8; i++)
			printf("[%zu chars]\n%s\n\n", scr_detail[c][i].len - 4, scr_detail[c][i].s);
	}
	printf("[longest confirm screen: ");
	size_t longest = 0;
	const char *ls = "";
	for (int c = 0; c < 5; c++)
		for (int i = 0; i < 8; i++)
			for (int q = 0; q < 20; q++)
				if (scr_confirm[c][i][q].len > longest) {
					longest = scr_confirm[c][i][q].len;
					ls = scr_confirm[c][i][q].s;
				}
	printf("%zu chars]\n%s\n", longest - 4, ls);
}

/* ------------------------------------------------------------------------------------------ */
/* Options */

static struct {
	const char *url;
	int conc;
	double seconds, warmup, timeout;
	const char *pins_file, *orders_file, *orders_out;
	pid_t server_pid;
	const char *fixed;
	size_t fixed_len;
	uint64_t seed;
	bool seed_set;
	long open_sessions, phone_base;
	bool json;
	bool faults;			/* --faults: outage answers are answers, broken hops are retried */
	int retries;
	const char *acks_file, *series_file;
	double rate;			/* --rate: hops a second at most (0: as fast as the replies come) */
} opt = { .conc = 16, .seconds = 10, .warmup = 1, .timeout = 10, .retries = 3 };

static struct sockaddr_storage srv_addr;
static socklen_t srv_addrlen;
static char req_head[512];	/* "POST <path> HTTP/1.1\r\nHost: ...\r\n...Content-Length: " */
static size_t req_head_len;
static char run_tag[32];	/* makes sessionIds unique across runs */
static size_t run_tag_len;

static void parse_url(const char *url)
{
	char host[256], port[16] = "80";
	const char *p, *path, *hend;

	if (strncmp(url, "http://", 7))
		die("--url must start with http:// (got %s)", url);
	p = url + 7;
	path = strchr(p, '/');
	if (!path)
		path = p + strlen(p);
	if (*p == '[') {	/* [v6 literal] */
		hend = memchr(p, ']', (size_t)(path - p));
		if (!hend)
			die("bad --url %s", url);
		snprintf(host, sizeof(host), "%.*s", (int)(hend - p - 1), p + 1);
		hend++;
	} else {
		hend = memchr(p, ':', (size_t)(path - p));
		if (!hend)
			hend = path;
		snprintf(host, sizeof(host), "%.*s", (int)(hend - p), p);
	}
	if (hend < path && *hend == ':')
		snprintf(port, sizeof(port), "%.*s", (int)(path - hend - 1), hend + 1);

	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
	int rc = getaddrinfo(host, port, &hints, &ai);
	if (rc)
		die("cannot resolve %s:%s: %s", host, port, gai_strerror(rc));
	memcpy(&srv_addr, ai->ai_addr, ai->ai_addrlen);
	srv_addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);

	int n = snprintf(req_head, sizeof(req_head),
			 "POST %s HTTP/1.1\r\nHost: %.*s\r\n"
			 "Content-Type: application/x-www-form-urlencoded\r\n"
			 "Content-Length: ",
			 *path ? path : "/", (int)(path - (url + 7)), url + 7);
	if (n <= 0 || (size_t)n >= sizeof(req_head))
		die("--url too long");
	req_head_len = (size_t)n;
}

/* ------------------------------------------------------------------------------------------ */
/* Vouchers: PINs from --pins, orders awaiting payment from --orders and from this run */

static char (*pins)[17];
static size_t npins, pins_used;
static size_t *pins_back, npins_back;	/* --faults: PINs of payments a fault ended before their PIN hop */

/* Awaiting orders per phone: singly linked LIFO lists in one growable pool. */
struct onode {
	long id;
	int next;
};
static struct onode *opool;
static int opool_len, opool_cap, ofree = -1;
static int ohead[NPHONES];

/*
 * A handset runs one USSD session at a time, and spazad ends a customer's live session when a new
 * one starts: two connections must never dial from the same phone at once. A session's phone is
 * drawn uniformly from the phones that have no session in progress.
 */
static bool phone_busy[NPHONES];
static long orders_loaded, orders_placed;

static void order_push(int phone, long id)
{
	int i;
	if (ofree >= 0) {
		i = ofree;
		ofree = opool[i].next;
	} else {
		if (opool_len == opool_cap) {
			opool_cap = opool_cap ? opool_cap * 2 : 4096;
			opool = realloc(opool, (size_t)opool_cap * sizeof(*opool));
			if (!opool)
				die("out of memory");
		}
		i = opool_len++;
	}
	opool[i].id = id;
	opool[i].next = ohead[phone];
	ohead[phone] = i;
}

static bool order_pop(int phone, long *id)
{
	int i = ohead[phone];
	if (i < 0)
		return false;
	*id = opool[i].id;
	ohead[phone] = opool[i].next;
	opool[i].next = ofree;
	ofree = i;
	return true;
}

/* "+27820000123" -> 123; -1 when not one of the bench's 1,000 customers */
static int phone_index(const char *msisdn)
{
	if (strncmp(msisdn, "+27820000", 9) || strlen(msisdn) != 12)
		return -1;
	int v = 0;
	for (int i = 9; i < 12; i++) {
		if (msisdn[i] < '0' || msisdn[i] > '9')
			return -1;
		v = v * 10 + msisdn[i] - '0';
	}
	return v;
}

static void load_pins(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	size_t cap = 0;
	if (!f)
		die("cannot open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, "\r\n \t");
		if (n == 0)
			continue;
		if (n != 16 || strspn(line, "0123456789") < 16)
			die("%s: not a 16-digit PIN: %.*s", path, (int)n, line);
		if (npins == cap) {
			cap = cap ? cap * 2 : 1024;
			pins = realloc(pins, cap * sizeof(*pins));
			if (!pins)
				die("out of memory");
		}
		memcpy(pins[npins], line, 16);
		pins[npins++][16] = 0;
	}
	fclose(f);
}

static void load_orders(const char *path)
{
	FILE *f = fopen(path, "r");
	char msisdn[64];
	long id;
	int rc;
	if (!f)
		die("cannot open %s: %s", path, strerror(errno));
	while ((rc = fscanf(f, "%63s %ld", msisdn, &id)) == 2) {
		int ph = phone_index(msisdn);
		if (ph < 0)
			continue;	/* not a phone the tool dials */
		order_push(ph, id);
		orders_loaded++;
	}
	if (rc != EOF)
		die("%s: lines must be 'MSISDN ORDER_ID'", path);
	fclose(f);
}

static void write_orders(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "spaza-load: cannot write %s: %s\n", path, strerror(errno));
		return;
	}
	for (int ph = 0; ph < NPHONES; ph++)
		for (int i = ohead[ph]; i >= 0; i = opool[i].next)
			fprintf(f, "+27820000%03d %ld\n", ph, opool[i].id);
	fclose(f);
}

/* ------------------------------------------------------------------------------------------ */
/* Figures */

/*
 * Log-linear latency histogram in nanoseconds: values below 256 have a bucket each, above that
 * every octave [2^k, 2^(k+1)) is split into 128 equal buckets, so a bucket's midpoint is within
 * 0.4% of any value in it. Values are clamped below 2^40 ns (18 minutes).
 */
#define HIST_SUB_BITS	7
#define HIST_BUCKETS	(((40 - HIST_SUB_BITS) << HIST_SUB_BITS) + (2 << HIST_SUB_BITS))

static uint64_t hist[HIST_BUCKETS];

static unsigned hist_index(uint64_t v)
{
	if (v >= (1ull << 40))
		v = (1ull << 40) - 1;
	if (v < (2u << HIST_SUB_BITS))
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v) - HIST_SUB_BITS;
	return (e << HIST_SUB_BITS) + (unsigned)(v >> e);
}

static double hist_value(unsigned idx)
{
	if (idx < (2u << HIST_SUB_BITS))
		return idx;
	unsigned e = (idx >> HIST_SUB_BITS) - 1;
	uint64_t sub = (idx & ((1u << HIST_SUB_BITS) - 1)) + (1u << HIST_SUB_BITS);
	return (double)(sub << e) + (double)(1ull << e) / 2;
}

enum kind { K_BROWSE, K_STATUS, K_VOUCHER, K_OPEN, K__N };
static const char *const kind_name[K__N] = { "browse", "status", "voucher", "open" };
static const int kind_hops[K__N] = { 7, 2, 5, 1 };

static struct {
	uint64_t hops, sessions, kind_done[K__N];
	uint64_t lat_max;
} win;					/* counted in the measured window only */

static struct {
	uint64_t mismatch, http, conn, timeout;
	uint64_t shown;
	uint64_t vouchers_as_status;	/* no --pins: every voucher session ran as status */
	uint64_t voucher_fallback;	/* --pins given but no PIN or awaiting order left */
	uint64_t opened;		/* --open-sessions: first hops answered correctly */
	uint64_t polite, slow;		/* --faults: sessions ended by the error: / slow: screen */
	uint64_t retried;		/* --faults: hops sent again after a broken connection or timeout */
	uint64_t unanswered;		/* --faults: hops left with no answer at the end */
	uint64_t paid_on_replay;	/* --faults: a payment hop sent again found its order paid */
} tot;					/* counted over the whole run, warmup included */

/*
 * --acks FILE: what a customer was told, one line each as it happens, WHAT KIND ORDER PHONE
 * SESSION HOP: WHAT is order ("Order #ORDER placed"), paid ("Paid. Order #ORDER ..."), slow ("We
 * will SMS you the result") or polite ("Sorry, ... try again later"); KIND the session's kind
 * (browse, status, voucher); ORDER the order placed or paid (0 when none is known); SESSION the
 * sessionId sent; HOP the hop (1-based).
 * --series FILE: one line a second from the start (warmup included):
 *   SECOND HOPS POLITE SLOW ERRORS MAX_MS    (hops: replies checked and accepted)
 */
static FILE *acks_f, *series_f;
static struct {
	uint64_t hops, polite, slow, errors;
	uint64_t lat_max;
} sec;
static uint64_t sec_next, sec_n;

static uint64_t errors_total(void)
{
	return tot.mismatch + tot.http + tot.conn + tot.timeout;
}

/* CPU seconds of a process from /proc/PID/stat (utime + stime, all threads) */
static double proc_cpu(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *p = strrchr(buf, ')');	/* comm may hold spaces */
	unsigned long ut, st;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* ------------------------------------------------------------------------------------------ */
/* Connections and sessions */

/* C_PACED (--rate): the next hop is built and waits for its slot */
enum cstate { C_DOWN, C_CONNECTING, C_SENDING, C_WAITING, C_PACED };

struct conn {
	int fd;
	enum cstate state;
	uint64_t t_send, retry_at;
	size_t wlen, woff, rlen, hdr_len, body_len;
	int status;
	bool hdr_done, close_after;
	bool busy;		/* a request of this connection awaits its reply */
	bool resume;		/* the server closed mid-session: send the built hop on reconnect */
	int tries;		/* --faults: times the current hop was sent again */

	/* the session this connection is walking */
	enum kind kind;
	uint64_t sid;			/* the sessionId's number */
	int hop, phone, cat, item, qty;	/* phone: +27820000000 + phone */
	bool has_phone;			/* holds phone_busy[phone] */
	long order;
	size_t pin;			/* the voucher session's PIN, an index into pins */
	char inputs[MAX_INPUTS][20];
	size_t prefix_len, text_len;
	char prefix[192];	/* body up to and including "text=" */
	char text[192];		/* text so far, `*` sent as %2A */

	char wbuf[WBUF_SIZE];
	char rbuf[RBUF_SIZE];
};

static struct conn *conns;
static int epfd;
static uint64_t session_counter;
static uint64_t t_measure, t_end;	/* the measured window */
static long open_started;
static bool measuring;
static uint64_t w0;			/* when the window was entered, and the CPU used by then */
static double srv_cpu0, self_cpu0;

static size_t put(char *dst, const char *s, size_t n)
{
	memcpy(dst, s, n);
	return n;
}

static size_t put_u64(char *dst, uint64_t v)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		dst[i] = tmp[n - 1 - i];
	return n;
}

static void session_start(struct conn *c)
{
	enum kind k;
	char *p = c->prefix;

	if (c->has_phone)
		phone_busy[c->phone] = false;
	c->has_phone = false;
	if (opt.open_sessions) {
		/* every held session from its own phone, or the server would end the older one */
		c->phone = (int)(opt.phone_base + open_started - 1);
		k = K_OPEN;
	} else {
		int tries = 0;
		do
			c->phone = (int)rnd_below(NPHONES);
		while (phone_busy[c->phone] && ++tries < 10000);
		phone_busy[c->phone] = c->has_phone = true;
		unsigned r = rnd_below(100);
		k = r < 50 ? K_BROWSE : r < 80 ? K_STATUS : K_VOUCHER;
	}
	switch (k) {
	case K_BROWSE:
		c->cat = (int)rnd_below(5);
		c->item = (int)rnd_below(8);
		c->qty = 1 + (int)rnd_below(20);
		strcpy(c->inputs[0], "1");
		snprintf(c->inputs[1], sizeof(c->inputs[1]), "%d", c->cat + 1);
		snprintf(c->inputs[2], sizeof(c->inputs[2]), "%d", c->item + 1);
		strcpy(c->inputs[3], "1");
		snprintf(c->inputs[4], sizeof(c->inputs[4]), "%d", c->qty);
		strcpy(c->inputs[5], "1");
		break;
	case K_VOUCHER:
		if (!pins) {
			tot.vouchers_as_status++;
			k = K_STATUS;
		} else if ((pins_used >= npins && !npins_back) || !order_pop(c->phone, &c->order)) {
			tot.voucher_fallback++;
			k = K_STATUS;
		} else {
			strcpy(c->inputs[0], "3");
			snprintf(c->inputs[1], sizeof(c->inputs[1]), "%ld", c->order);
			strcpy(c->inputs[2], "1");
			c->pin = npins_back ? pins_back[--npins_back] : pins_used++;
			memcpy(c->inputs[3], pins[c->pin], 17);
			break;
		}
		/* fall through */
	case K_STATUS:
		strcpy(c->inputs[0], "2");
		break;
	default:
		break;
	}
	c->kind = k;
	c->hop = 0;
	c->tries = 0;
	c->text_len = 0;
	c->busy = true;

	p += put(p, "sessionId=", 10);
	p += put(p, run_tag, run_tag_len);
	c->sid = ++session_counter;
	p += put_u64(p, c->sid);
	p += put(p, "&serviceCode=%2A384%2A123%23&phoneNumber=%2B2782", 48);
	for (int d = 1000000; d; d /= 10)
		*p++ = (char)('0' + c->phone / d % 10);
	p += put(p, "&networkCode=65501&text=", 24);
	c->prefix_len = (size_t)(p - c->prefix);
}

/* The request of the current hop into wbuf: text gains the hop's input first. */
static void request_build(struct conn *c)
{
	if (c->hop > 0) {
		const char *in = c->inputs[c->hop - 1];
		if (c->hop > 1)
			c->text_len += put(c->text + c->text_len, "%2A", 3);
		c->text_len += put(c->text + c->text_len, in, strlen(in));
	}
	char *p = c->wbuf;
	p += put(p, req_head, req_head_len);
	p += put_u64(p, c->prefix_len + c->text_len);
	p += put(p, "\r\n\r\n", 4);
	p += put(p, c->prefix, c->prefix_len);
	p += put(p, c->text, c->text_len);
	c->wlen = (size_t)(p - c->wbuf);
	c->woff = 0;
}

static void show_text(const char *s, size_t n)
{
	fputc('"', stderr);
	for (size_t i = 0; i < n && i < 400; i++) {
		if (s[i] == '\n')
			fputs("\\n", stderr);
		else if (s[i] == '\r')
			fputs("\\r", stderr);
		else if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			fprintf(stderr, "\\x%02x", (unsigned char)s[i]);
		else
			fputc(s[i], stderr);
	}
	fputs(n > 400 ? "\"..." : "\"", stderr);
}

static void report_mismatch(struct conn *c, const char *what, const struct text *expect,
			    const char *got, size_t got_len)
{
	if (tot.shown++ >= MAX_SHOWN)
		return;
	fprintf(stderr, "spaza-load: %s: %s session, hop %d, text=\"", what, kind_name[c->kind],
		c->hop + 1);
	for (size_t i = 0; i < c->text_len; i++) {
		if (!strncmp(c->text + i, "%2A", 3)) {
			fputc('*', stderr);
			i += 2;
		} else {
			fputc(c->text[i], stderr);
		}
	}
	fprintf(stderr, "\" phone=+2782%07d\n  expected: ", c->phone);
	show_text(expect->s, expect->len);
	fputs("\n  got:      ", stderr);
	show_text(got, got_len);
	fputc('\n', stderr);
}

static void ack(const char *what, const struct conn *c, long order)
{
	if (!acks_f)
		return;
	fprintf(acks_f, "%s %s %ld +2782%07d %.*s%" PRIu64 " %d\n", what, kind_name[c->kind], order, c->phone,
		(int)run_tag_len, run_tag, c->sid, c->hop + 1);
}

static bool starts(const char *s, size_t n, const char *pfx, size_t plen)
{
	return n >= plen && !memcmp(s, pfx, plen);
}

static size_t skip_digits(const char *s, size_t n, size_t i)
{
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

/* "END Order #<digits> placed. Pay via option 3." -> the order number, or -1 */
static long match_placed(const char *s, size_t n)
{
	static const char pre[] = "END Order #", post[] = " placed. Pay via option 3.";
	if (!starts(s, n, pre, sizeof(pre) - 1))
		return -1;
	size_t i = sizeof(pre) - 1, j = skip_digits(s, n, i);
	if (j == i || j - i > 15 || n - j != sizeof(post) - 1 || memcmp(s + j, post, n - j))
		return -1;
	long id = 0;
	for (; i < j; i++)
		id = id * 10 + (s[i] - '0');
	return id;
}

/* "END Your orders:\n" + 1-3 lines "#<id> <qty>x <name>: <status>", or no orders at all */
static bool match_orders(const char *s, size_t n)
{
	static const char none[] = "END You have no orders yet.", pre[] = "END Your orders:\n";
	if (n == sizeof(none) - 1 && !memcmp(s, none, n))
		return true;
	if (!starts(s, n, pre, sizeof(pre) - 1))
		return false;
	size_t i = sizeof(pre) - 1;
	int lines = 0;
	while (i < n) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - s) : n, j;
		if (++lines > 3 || s[i] != '#')
			return false;
		j = skip_digits(s, e, i + 1);
		if (j == i + 1 || j >= e || s[j] != ' ')
			return false;
		i = j + 1;
		j = skip_digits(s, e, i);
		if (j == i || j >= e || s[j] != 'x' || !memmem(s + j, e - j, ": ", 2))
			return false;
		i = nl ? e + 1 : e;
		if (nl && i == n)
			return false;	/* trailing newline */
	}
	return lines > 0;
}

/* "END Paid. Order #<id> R<rands>.<cc> paid by voucher." */
static bool match_paid(const char *s, size_t n, long order)
{
	static const char post[] = " paid by voucher.";
	char pre[48];
	int plen = snprintf(pre, sizeof(pre), "END Paid. Order #%ld R", order);
	if (!starts(s, n, pre, (size_t)plen))
		return false;
	size_t i = (size_t)plen, j = skip_digits(s, n, i);
	if (j == i || j >= n || s[j] != '.')
		return false;
	i = j + 1;
	j = skip_digits(s, n, i);
	return j == i + 2 && n - j == sizeof(post) - 1 && !memcmp(s + j, post, n - j);
}

/* --faults: the payment hop sent again to a restarted server is replayed from the start, and the
 * replay finds the order paid (by the first attempt, which committed): "END Order #<id> is Paid." */
static bool paid_on_replay(const char *s, size_t n, long order)
{
	char want[64];
	int len = snprintf(want, sizeof(want), "END Order #%ld is Paid.", order);
	if (n != (size_t)len || memcmp(s, want, n))
		return false;
	tot.paid_on_replay++;
	return true;
}

/* Is the reply to the current hop right? On a mismatch, says what was expected. */
static bool reply_check(struct conn *c, const char *b, size_t n, struct text *expect)
{
	const struct text *e = NULL;

	if (opt.fixed) {
		expect->s = opt.fixed;
		expect->len = opt.fixed_len;
		return n == opt.fixed_len && !memcmp(b, opt.fixed, n);
	}
	if (c->hop == 0) {
		e = &scr_main;
	} else if (c->kind == K_BROWSE) {
		switch (c->hop) {
		case 1: e = &scr_cats; break;
		case 2: e = &scr_page[c->cat][0]; break;
		case 3: e = &scr_detail[c->cat][c->item]; break;
		case 4: e = &scr_qty; break;
		case 5: e = &scr_confirm[c->cat][c->item][c->qty - 1]; break;
		default: {
			long id = match_placed(b, n);
			*expect = (struct text){ "END Order #<digits> placed. Pay via option 3.", 45 };
			if (id < 0)
				return false;
			if (pins)
				order_push(c->phone, id);
			orders_placed++;
			ack("order", c, id);
			return true;
		}
		}
	} else if (c->kind == K_STATUS) {
		*expect = (struct text){ "END Your orders:\\n#<id> <qty>x <name>: <status>... "
					 "(1-3 lines) | END You have no orders yet.", 92 };
		return match_orders(b, n);
	} else if (c->kind == K_VOUCHER) {
		switch (c->hop) {
		case 1: e = &scr_pay_order; break;
		case 2: e = &scr_pay_with; break;
		case 3: e = &scr_voucher; break;
		default: {
			static char buf[96];
			expect->s = buf;
			expect->len = (size_t)snprintf(buf, sizeof(buf),
						       "END Paid. Order #%ld R<rands>.<cc> paid by voucher.",
						       c->order);
			if (!match_paid(b, n, c->order) && !(opt.faults && c->tries && paid_on_replay(b, n, c->order)))
				return false;
			ack("paid", c, c->order);
			return true;
		}
		}
	}
	*expect = *e;	/* NOLINT(clang-analyzer-core.NullDereference): K_OPEN has one hop, which is hop 0 */
	return n == e->len && !memcmp(b, e->s, n);
}

static void conn_close(struct conn *c, uint64_t retry_delay)
{
	if (c->fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->state = C_DOWN;
	c->retry_at = now_ns() + retry_delay;
}

static bool want_more(void)
{
	if (!opt.open_sessions)
		return true;
	return open_started < opt.open_sessions;
}

static void conn_send(struct conn *c);

/* --rate: the hops' schedule, one slot every pace_step ns. A hop takes the next free slot, or
 * now when the schedule is behind: a server slower than the rate is not made up for with a
 * burst, the run then goes as fast as the replies come (as without --rate). A hop's latency counts
 * from its send, never from its slot. */
static uint64_t pace_next, pace_step;

/* Send the hop just built, at once or (--rate) when its slot comes (pace_scan). */
static void conn_go(struct conn *c)
{
	uint64_t now = now_ns();
	if (!pace_step || pace_next <= now) {
		if (pace_step)
			pace_next = now + pace_step;
		conn_send(c);
		return;
	}
	if (c->state == C_CONNECTING) {	/* nothing to write until the slot: stop asking */
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
	}
	c->state = C_PACED;
	c->retry_at = pace_next;
	pace_next += pace_step;
}

/* --rate: send the hops whose slot has come; returns the ms until the next slot (-1: none). */
static int pace_scan(uint64_t now)
{
	uint64_t next = UINT64_MAX;
	for (int i = 0; i < opt.conc; i++) {
		struct conn *c = &conns[i];
		if (c->state != C_PACED)
			continue;
		if (now >= t_end && !opt.open_sessions) {
			c->state = C_DOWN;	/* the window is over: stay quiet */
			c->retry_at = UINT64_MAX;
		} else if (c->retry_at <= now) {
			conn_send(c);
		} else if (c->retry_at < next) {
			next = c->retry_at;
		}
	}
	/* rounded up: a hop goes out at most a millisecond late rather than the loop spinning */
	return next == UINT64_MAX ? -1 : (int)((next - now + 999999) / 1000000);
}

/* Start a session (when the last one ended or failed) and send its first hop. */
static void conn_next_session(struct conn *c)
{
	if (!want_more()) {
		c->state = C_DOWN;
		c->retry_at = UINT64_MAX;
		return;
	}
	if (opt.open_sessions)
		open_started++;
	session_start(c);
	request_build(c);
	conn_go(c);
}

/* The connection broke or the server misbehaved: count it, drop the session, reconnect. With
 * --faults a hop lost to a broken connection or a timeout is sent again on the new connection
 * (as an aggregator retries), up to --retries times: the server must answer it with no second
 * effect. */
static void conn_fail(struct conn *c, uint64_t *counter)
{
	bool in_flight = c->state == C_WAITING || c->state == C_SENDING ||
			 (c->state == C_CONNECTING && c->resume);
	(*counter)++;
	if (opt.open_sessions && c->busy)
		tot.opened++;	/* done (as an error), so the opening phase still ends */
	c->busy = false;
	c->resume = opt.faults && in_flight && counter != &tot.http && c->kind != K_OPEN &&
		    c->tries < opt.retries;
	if (c->resume) {
		c->tries++;
		c->woff = 0;
		tot.retried++;
	}
	conn_close(c, 10 * 1000000ull);
}

/* --faults: the screens a server under a fault answers with instead of the expected one. They
 * end the session; they are answers, not errors. */
static bool fault_reply(struct conn *c, const char *b, size_t n)
{
	bool slow = n == scr_slow.len && !memcmp(b, scr_slow.s, n);
	if (!slow && !(n == scr_polite.len && !memcmp(b, scr_polite.s, n)))
		return false;
	if (slow) {
		tot.slow++;
		sec.slow++;
	} else {
		tot.polite++;
		sec.polite++;
	}
	ack(slow ? "slow" : "polite", c, c->kind == K_VOUCHER ? c->order : 0);
	/* a payment ended before its PIN hop leaves the order unpaid and the PIN unused: both go back,
	 * or a fault would leave the rest of the run without orders to pay or PINs to pay with */
	if (c->kind == K_VOUCHER && c->hop + 1 < kind_hops[K_VOUCHER]) {
		order_push(c->phone, c->order);
		if (!pins_back && !(pins_back = calloc(npins, sizeof(*pins_back))))
			die("out of memory");
		pins_back[npins_back++] = c->pin;	/* at most npins: each PIN is out once */
	}
	return true;
}

static void series_tick(uint64_t now)
{
	static uint64_t errors_before;
	while (now >= sec_next) {
		uint64_t e = errors_total();
		fprintf(series_f, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %.2f\n", sec_n,
			sec.hops, sec.polite, sec.slow, e - errors_before, (double)sec.lat_max / 1e6);
		errors_before = e;
		memset(&sec, 0, sizeof(sec));
		sec_n++;
		sec_next += 1000000000ull;
	}
	fflush(series_f);
}

static void conn_open(struct conn *c)
{
	int fd = socket(srv_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->state = C_CONNECTING;
	c->busy = false;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
	c->t_send = now_ns();	/* connect counts against --timeout */
	if (connect(fd, (struct sockaddr *)&srv_addr, srv_addrlen) < 0 && errno != EINPROGRESS) {
		if (tot.conn++ < MAX_SHOWN)
			fprintf(stderr, "spaza-load: connect: %s\n", strerror(errno));
		conn_close(c, 100 * 1000000ull);
	}
}

static void conn_send(struct conn *c)
{
	bool first = c->woff == 0;
	if (first)
		c->t_send = now_ns();
	ssize_t n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			conn_fail(c, &tot.conn);
			return;
		}
		n = 0;
	}
	c->woff += (size_t)n;
	if (c->woff < c->wlen) {
		if (c->state != C_SENDING) {
			struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
			epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
		}
		c->state = C_SENDING;
		return;
	}
	if (c->state == C_SENDING || c->state == C_CONNECTING) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
	}
	c->state = C_WAITING;
	c->rlen = 0;
	c->body_len = 0;
	c->hdr_done = false;
}

static bool hdr_is(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);
	return n > k && !strncasecmp(line, name, k);
}

/* Headers are in rbuf[0..hdr_len): status 200, Content-Length, no chunking. */
static int parse_head(struct conn *c)
{
	const char *b = c->rbuf, *end = c->rbuf + c->hdr_len - 4;
	bool have_len = false;

	if (c->hdr_len < 16 || memcmp(b, "HTTP/1.", 7) || b[8] != ' ')
		return -1;
	c->status = atoi(b + 9);
	c->close_after = b[7] == '0';
	const char *l = memchr(b, '\n', (size_t)(end - b));
	while (l && l < end) {
		l++;
		const char *nl = memchr(l, '\r', (size_t)(end - l));
		size_t n = nl ? (size_t)(nl - l) : (size_t)(end - l);
		if (hdr_is(l, n, "content-length:")) {
			c->body_len = strtoul(l + 15, NULL, 10);
			have_len = true;
		} else if (hdr_is(l, n, "transfer-encoding:")) {
			return -1;
		} else if (hdr_is(l, n, "connection:")) {
			const char *v = l + 11;
			while (*v == ' ')
				v++;
			if (!strncasecmp(v, "close", 5))
				c->close_after = true;
		}
		l = nl ? nl + 1 : NULL;
	}
	return have_len && c->hdr_len + c->body_len <= RBUF_SIZE ? 0 : -1;
}

static void record_hop(struct conn *c, uint64_t t_done, bool session_done)
{
	if (t_done < t_measure || t_done >= t_end)
		return;
	uint64_t lat = t_done - c->t_send;
	hist[hist_index(lat)]++;
	if (lat > win.lat_max)
		win.lat_max = lat;
	win.hops++;
	if (session_done) {
		win.sessions++;
		win.kind_done[c->kind]++;
	}
}

static void conn_read(struct conn *c)
{
	ssize_t n = recv(c->fd, c->rbuf + c->rlen, RBUF_SIZE - c->rlen, 0);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (c->state == C_WAITING || c->state == C_SENDING) {
			if (tot.conn < MAX_SHOWN)
				fprintf(stderr, "spaza-load: connection %s while awaiting a reply\n",
					n == 0 ? "closed by the server" : strerror(errno));
			conn_fail(c, &tot.conn);
		} else
			conn_close(c, 0);	/* idle keep-alive connection closed by the server */
		return;
	}
	if (c->state != C_WAITING) {	/* bytes nobody asked for */
		conn_fail(c, &tot.http);
		return;
	}
	size_t old = c->rlen;
	c->rlen += (size_t)n;
	if (!c->hdr_done) {
		size_t from = old > 3 ? old - 3 : 0;
		const char *e = memmem(c->rbuf + from, c->rlen - from, "\r\n\r\n", 4);
		if (!e) {
			if (c->rlen == RBUF_SIZE)
				conn_fail(c, &tot.http);
			return;
		}
		c->hdr_len = (size_t)(e - c->rbuf) + 4;
		c->hdr_done = true;
		if (parse_head(c) < 0) {
			struct text ex = { "HTTP/1.1 200 with Content-Length", 32 };
			report_mismatch(c, "bad HTTP reply", &ex, c->rbuf, c->rlen);
			conn_fail(c, &tot.http);
			return;
		}
	}
	if (c->rlen < c->hdr_len + c->body_len)
		return;
	uint64_t t_done = now_ns();
	if (c->rlen > c->hdr_len + c->body_len) {
		conn_fail(c, &tot.http);	/* more than one reply to one request */
		return;
	}

	const char *body = c->rbuf + c->hdr_len;
	struct text expect;
	bool ok, fault = false;
	c->busy = false;
	if (c->status != 200) {
		expect = (struct text){ "HTTP/1.1 200", 12 };
		report_mismatch(c, "HTTP error", &expect, c->rbuf, c->rlen);
		tot.http++;
		ok = false;
	} else if (!(ok = reply_check(c, body, c->body_len, &expect))) {
		if (opt.faults && !opt.fixed && fault_reply(c, body, c->body_len)) {
			ok = fault = true;
		} else {
			report_mismatch(c, "wrong reply", &expect, body, c->body_len);
			tot.mismatch++;
		}
	}
	/* a wrong reply ends the session: its further screens could not be checked */
	bool done = !ok || fault || c->hop + 1 == kind_hops[c->kind];
	if (ok) {
		record_hop(c, t_done, done && !fault);
		c->tries = 0;
		sec.hops++;
		if (t_done - c->t_send > sec.lat_max)
			sec.lat_max = t_done - c->t_send;
	}
	if (opt.open_sessions)
		tot.opened++;
	if (c->close_after) {	/* the server ends keep-alive: the session goes on elsewhere */
		if (!done && t_done < t_end) {
			c->hop++;
			request_build(c);
			c->resume = true;
		}
		conn_close(c, 0);
		return;
	}
	if (t_done >= t_end && !opt.open_sessions) {
		c->state = C_DOWN;	/* the window is over: stay quiet */
		c->retry_at = UINT64_MAX;
		return;
	}
	if (done) {
		conn_next_session(c);
	} else {
		c->hop++;
		request_build(c);
		conn_go(c);
	}
}

static void conn_event(struct conn *c, uint32_t ev)
{
	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t l = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
			err = errno;
		if (err == 0 && !(ev & (EPOLLERR | EPOLLHUP)) && (ev & EPOLLOUT)) {
			if (c->resume) {
				c->resume = false;
				c->busy = true;
				conn_send(c);
				return;
			}
			conn_next_session(c);
			if (c->state == C_DOWN && c->fd >= 0)	/* nothing left to send */
				conn_close(c, UINT64_MAX / 2);
			return;
		}
		if (tot.conn++ < MAX_SHOWN)
			fprintf(stderr, "spaza-load: connect: %s\n", strerror(err ? err : ECONNRESET));
		conn_close(c, 100 * 1000000ull);
		return;
	}
	if (c->state == C_SENDING && (ev & EPOLLOUT))
		conn_send(c);
	if (c->fd >= 0 && (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		conn_read(c);
}

/* Reconnect connections whose back-off is over; fail requests older than --timeout. */
static void conns_scan(uint64_t now)
{
	uint64_t tmo = (uint64_t)(opt.timeout * 1e9);
	for (int i = 0; i < opt.conc; i++) {
		struct conn *c = &conns[i];
		if (c->state == C_DOWN && c->fd < 0 && c->retry_at <= now && now < t_end &&
		    want_more()) {
			conn_open(c);
		} else if ((c->state == C_WAITING || c->state == C_SENDING ||
			    c->state == C_CONNECTING) && now - c->t_send > tmo) {
			if (tot.timeout < MAX_SHOWN)
				fprintf(stderr, "spaza-load: no reply within %.1fs, reconnecting\n",
					opt.timeout);
			conn_fail(c, &tot.timeout);
		}
	}
}

/* ------------------------------------------------------------------------------------------ */

static double pct_ms(double q)
{
	if (!win.hops)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)win.hops + 0.999999), cum = 0;
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		cum += hist[i];
		if (cum >= rank) {
			double v = hist_value(i);
			return (v > (double)win.lat_max ? (double)win.lat_max : v) / 1e6;
		}
	}
	return (double)win.lat_max / 1e6;
}

static void usage(FILE *f)
{
	fputs("usage: spaza-load --url http://HOST:PORT/PATH [-c CONCURRENCY] [-d SECONDS]\n"
	      "         [--warmup SECONDS] [--pins FILE] [--orders FILE] [--orders-out FILE]\n"
	      "         [--server-pid PID] [--fixed-reply TEXT] [--seed N] [--timeout SECONDS]\n"
	      "         [--open-sessions N [--phone-base N]] [--json]\n"
	      "         [--faults [--retries N]] [--acks FILE] [--series FILE] [--rate HOPS]\n"
	      "       spaza-load --print-screens\n"
	      "Replays the benchmark shop sessions (SHOP-BENCH section 6) and checks every reply;\n"
	      "see doc/benchmark.md.\n", f);
}

static bool any_in_flight(void)
{
	for (int i = 0; i < opt.conc; i++)
		if (conns[i].state == C_WAITING || conns[i].state == C_SENDING)
			return true;
	return false;
}

static void loop(void)
{
	struct epoll_event evs[256];
	uint64_t last_scan = 0;

	for (;;) {
		uint64_t now = now_ns();
		if (!measuring && now >= t_measure) {
			measuring = true;
			w0 = now;
			srv_cpu0 = opt.server_pid ? proc_cpu(opt.server_pid) : 0;
			self_cpu0 = self_cpu();
		}
		if (opt.open_sessions ? tot.opened >= (uint64_t)opt.open_sessions : now >= t_end) {
			/* --faults: what was asked before the end is answered (or times out) */
			if (!opt.faults || opt.open_sessions || !any_in_flight())
				return;
		}
		if (opt.open_sessions && now >= t_end)
			die("opened only %" PRIu64 " of %ld sessions in time", tot.opened,
			    opt.open_sessions);
		int tmo = 50;
		if (!opt.open_sessions) {
			uint64_t left = now < t_measure ? t_measure - now : t_end - now;
			if (left / 1000000 < (uint64_t)tmo)
				tmo = (int)(left / 1000000) + 1;
		}
		if (pace_step) {
			int p = pace_scan(now);
			if (p >= 0 && p < tmo)
				tmo = p;
		}
		int n = epoll_wait(epfd, evs, 256, tmo);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++)
			conn_event(evs[i].data.ptr, evs[i].events);
		now = now_ns();
		if (series_f && now >= sec_next)
			series_tick(now);
		if (now - last_scan > 20 * 1000000ull) {
			conns_scan(now);
			last_scan = now;
		}
	}
}

/* --open-sessions: hold the sessions (they live in the server) until told or -d is over. */
static void hold_open(void)
{
	for (int i = 0; i < opt.conc; i++)
		if (conns[i].fd >= 0)
			conn_close(&conns[i], UINT64_MAX / 2);
	printf("open %" PRIu64 "\n", tot.opened - errors_total());
	fflush(stdout);
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	uint64_t end = now_ns() + (uint64_t)(opt.seconds * 1e9);
	for (;;) {
		uint64_t now = now_ns();
		if (now >= end)
			break;
		int rc = poll(&pfd, 1, (int)((end - now) / 1000000) + 1);
		if (rc > 0) {
			char ch;
			ssize_t r = read(0, &ch, 1);
			if (r <= 0 || ch == '\n')
				break;
		} else if (rc < 0 && errno != EINTR) {
			break;
		}
	}
}

int main(int argc, char **argv)
{
	enum { O_WARMUP = 256, O_PINS, O_ORDERS, O_ORDERS_OUT, O_PID, O_FIXED, O_SEED, O_OPEN,
	       O_JSON, O_TIMEOUT, O_SCREENS, O_PHONE_BASE, O_FAULTS, O_RETRIES, O_ACKS, O_SERIES, O_RATE };
	static const struct option lopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, O_WARMUP },
		{ "pins", required_argument, NULL, O_PINS },
		{ "orders", required_argument, NULL, O_ORDERS },
		{ "orders-out", required_argument, NULL, O_ORDERS_OUT },
		{ "server-pid", required_argument, NULL, O_PID },
		{ "fixed-reply", required_argument, NULL, O_FIXED },
		{ "seed", required_argument, NULL, O_SEED },
		{ "open-sessions", required_argument, NULL, O_OPEN },
		{ "phone-base", required_argument, NULL, O_PHONE_BASE },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "json", no_argument, NULL, O_JSON },
		{ "faults", no_argument, NULL, O_FAULTS },
		{ "retries", required_argument, NULL, O_RETRIES },
		{ "acks", required_argument, NULL, O_ACKS },
		{ "series", required_argument, NULL, O_SERIES },
		{ "rate", required_argument, NULL, O_RATE },
		{ "print-screens", no_argument, NULL, O_SCREENS },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	bool screens = false;
	int o;

	while ((o = getopt_long(argc, argv, "u:c:d:h", lopts, NULL)) != -1) {
		switch (o) {
		case 'u': opt.url = optarg; break;
		case 'c': opt.conc = atoi(optarg); break;
		case 'd': opt.seconds = atof(optarg); break;
		case O_WARMUP: opt.warmup = atof(optarg); break;
		case O_PINS: opt.pins_file = optarg; break;
		case O_ORDERS: opt.orders_file = optarg; break;
		case O_ORDERS_OUT: opt.orders_out = optarg; break;
		case O_PID: opt.server_pid = (pid_t)atoi(optarg); break;
		case O_FIXED: opt.fixed = optarg; opt.fixed_len = strlen(optarg); break;
		case O_SEED: opt.seed = strtoull(optarg, NULL, 0); opt.seed_set = true; break;
		case O_OPEN: opt.open_sessions = atol(optarg); break;
		case O_PHONE_BASE: opt.phone_base = atol(optarg); break;
		case O_TIMEOUT: opt.timeout = atof(optarg); break;
		case O_JSON: opt.json = true; break;
		case O_FAULTS: opt.faults = true; break;
		case O_RETRIES: opt.retries = atoi(optarg); break;
		case O_ACKS: opt.acks_file = optarg; break;
		case O_SERIES: opt.series_file = optarg; break;
		case O_RATE: opt.rate = atof(optarg); break;
		case O_SCREENS: screens = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	build_screens();
	if (screens) {
		print_screens();
		return 0;
	}
	if (!opt.url || optind != argc)
		usage(stderr), exit(2);
	if (opt.conc < 1 || opt.conc > 100000 || opt.seconds <= 0 || opt.warmup < 0 ||
	    opt.timeout <= 0 || opt.open_sessions < 0 || opt.phone_base < 0 || opt.retries < 0 ||
	    opt.phone_base + opt.open_sessions > 10000000 || opt.rate < 0 || opt.rate > 1e7)
		die("bad -c, -d, --warmup, --timeout, --open-sessions, --phone-base or --rate");
	if (opt.rate > 0)
		pace_step = (uint64_t)(1e9 / opt.rate);
	if (!opt.open_sessions && opt.conc > NPHONES / 2)
		die("-c %d: at most %d, so that every session finds a phone without one in progress",
		    opt.conc, NPHONES / 2);
	if (opt.server_pid && proc_cpu(opt.server_pid) < 0)
		die("--server-pid %d: no such process", (int)opt.server_pid);
	parse_url(opt.url);

	memset(ohead, -1, sizeof(ohead));
	if (opt.pins_file)
		load_pins(opt.pins_file);
	if (opt.orders_file)
		load_orders(opt.orders_file);
	if (opt.acks_file && !(acks_f = fopen(opt.acks_file, "w")))
		die("cannot write %s: %s", opt.acks_file, strerror(errno));
	if (opt.series_file && !(series_f = fopen(opt.series_file, "w")))
		die("cannot write %s: %s", opt.series_file, strerror(errno));
	if (opt.orders_file && !opt.pins_file)
		fprintf(stderr, "spaza-load: --orders without --pins: voucher sessions run as status "
				"sessions\n");

	if (!opt.seed_set)
		opt.seed = now_ns() ^ ((uint64_t)getpid() << 32);
	rnd_state = opt.seed;
	{
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int n = snprintf(run_tag, sizeof(run_tag), "L%lx%x-", (unsigned long)ts.tv_sec,
				 (unsigned)getpid());
		run_tag_len = (size_t)n;
	}

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1: %s", strerror(errno));
	conns = xmalloc((size_t)opt.conc * sizeof(*conns));

	uint64_t t0 = now_ns();
	sec_next = t0 + 1000000000ull;
	if (opt.open_sessions) {
		t_measure = t0;
		t_end = t0 + 60000000000ull + (uint64_t)opt.open_sessions * 1000000ull;
	} else {
		t_measure = t0 + (uint64_t)(opt.warmup * 1e9);
		t_end = t_measure + (uint64_t)(opt.seconds * 1e9);
	}
	for (int i = 0; i < opt.conc; i++) {
		conns[i].fd = -1;
		conn_open(&conns[i]);
	}

	/* The measured window: CPU is sampled at its edges. */
	loop();
	for (int i = 0; i < opt.conc; i++)
		if (opt.faults && (conns[i].resume || conns[i].state == C_WAITING || conns[i].state == C_SENDING))
			tot.unanswered++;
	uint64_t w1 = now_ns();
	double srv1 = opt.server_pid ? proc_cpu(opt.server_pid) : 0, self1 = self_cpu();

	double wall = (double)(w1 - w0) / 1e9, secs = opt.open_sessions ? wall : opt.seconds;
	double srv_pct = opt.server_pid && srv1 >= 0 ? 100 * (srv1 - srv_cpu0) / wall : -1;
	double self_pct = 100 * (self1 - self_cpu0) / wall;
	const char *vouchers = opt.fixed ? "fixed" : !pins ? "as-status" : "paid";
	char line[512];
	int n = snprintf(line, sizeof(line),
			 "c=%d hops=%" PRIu64 " hops/s=%.0f sessions/s=%.0f p50=%.2fms p90=%.2fms "
			 "p99=%.2fms max=%.2fms errors=%" PRIu64,
			 opt.conc, win.hops, (double)win.hops / secs, (double)win.sessions / secs,
			 pct_ms(0.50), pct_ms(0.90), pct_ms(0.99), (double)win.lat_max / 1e6,
			 errors_total());
	if (errors_total())
		n += snprintf(line + n, sizeof(line) - (size_t)n,
			      " (mismatch=%" PRIu64 " http=%" PRIu64 " conn=%" PRIu64 " timeout=%" PRIu64
			      ")", tot.mismatch, tot.http, tot.conn, tot.timeout);
	if (opt.faults)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " polite=%" PRIu64 " slow=%" PRIu64
			      " retried=%" PRIu64 " unanswered=%" PRIu64 " paid_on_replay=%" PRIu64, tot.polite,
			      tot.slow, tot.retried, tot.unanswered, tot.paid_on_replay);
	n += snprintf(line + n, sizeof(line) - (size_t)n, " cpu:");
	if (srv_pct >= 0)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " server %.0f%%", srv_pct);
	n += snprintf(line + n, sizeof(line) - (size_t)n, " load %.0f%%", self_pct);
	if (!opt.fixed && !opt.open_sessions)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " vouchers=%s", vouchers);
	if (opt.rate > 0)
		snprintf(line + n, sizeof(line) - (size_t)n, " rate=%.0f", opt.rate);

	if (!opt.fixed && !opt.open_sessions && !pins)
		fprintf(stderr, "spaza-load: no --pins: the 20%% voucher share ran as order-status "
				"sessions\n");
	if (tot.voucher_fallback)
		fprintf(stderr, "spaza-load: %" PRIu64 " voucher sessions ran as status sessions "
				"(no PIN or no awaiting order left)\n", tot.voucher_fallback);

	if (opt.open_sessions)
		fprintf(stderr, "%s\n", line);
	else if (!opt.json)
		printf("%s\n", line);
	else
		fprintf(stderr, "%s\n", line);
	if (opt.json && !opt.open_sessions) {
		printf("{\"mode\":\"%s\",\"concurrency\":%d,\"seconds\":%.3f,\"warmup\":%.3f,"
		       "\"hops\":%" PRIu64 ",\"hops_per_s\":%.1f,\"sessions\":%" PRIu64
		       ",\"sessions_per_s\":%.1f,\"p50_ms\":%.4f,\"p90_ms\":%.4f,\"p99_ms\":%.4f,"
		       "\"max_ms\":%.4f,\"errors\":%" PRIu64 ",\"mismatches\":%" PRIu64
		       ",\"http_errors\":%" PRIu64 ",\"conn_errors\":%" PRIu64 ",\"timeouts\":%" PRIu64
		       ",\"server_cpu_pct\":%.1f,\"load_cpu_pct\":%.1f,\"vouchers\":\"%s\""
		       ",\"sessions_browse\":%" PRIu64 ",\"sessions_status\":%" PRIu64
		       ",\"sessions_voucher\":%" PRIu64 ",\"voucher_fallbacks\":%" PRIu64
		       ",\"pins_used\":%zu,\"orders_placed\":%ld,\"seed\":%" PRIu64
		       ",\"polite\":%" PRIu64 ",\"slow\":%" PRIu64 ",\"retried\":%" PRIu64
		       ",\"unanswered\":%" PRIu64 ",\"paid_on_replay\":%" PRIu64
		       ",\"run_wall_s\":%.3f,\"run_cpu_s\":%.3f,\"rate\":%.0f}\n",
		       opt.fixed ? "fixed" : "shop", opt.conc, secs, opt.warmup, win.hops,
		       (double)win.hops / secs, win.sessions, (double)win.sessions / secs, pct_ms(0.50),
		       pct_ms(0.90), pct_ms(0.99), (double)win.lat_max / 1e6, errors_total(),
		       tot.mismatch, tot.http, tot.conn, tot.timeout, srv_pct, self_pct, vouchers,
		       win.kind_done[K_BROWSE], win.kind_done[K_STATUS], win.kind_done[K_VOUCHER],
		       tot.voucher_fallback, pins_used, orders_placed, opt.seed, tot.polite, tot.slow,
		       tot.retried, tot.unanswered, tot.paid_on_replay, (double)(w1 - t0) / 1e9, self1, opt.rate);
	}
	fflush(stdout);
	if (acks_f && fclose(acks_f))
		fprintf(stderr, "spaza-load: cannot write %s: %s\n", opt.acks_file, strerror(errno));
	if (series_f)
		fclose(series_f);
	if (opt.orders_out)
		write_orders(opt.orders_out);
	if (opt.open_sessions)
		hold_open();
	return errors_total() > 0 || (opt.open_sessions ? tot.opened == 0 : win.hops == 0);
}
