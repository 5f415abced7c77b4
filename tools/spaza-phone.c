/* spaza-phone: a terminal phone for dialling into the Spaza demo, and "ussdscript", the transcript
 * runner the tests use. Both speak the aggregator contract of doc/ussd-at.md: POST /ussd/at with
 * sessionId, serviceCode, phoneNumber, networkCode and text (every input so far joined by '*'),
 * answered by "CON <screen>" or "END <screen>". The transcript format is doc/transcripts.md.
 * With --smsc the interactive phone is a handset on spaza-smsc's network instead (its control
 * interface, doc/kannel.md): USSD and SMS through SMPP and Kannel, and the number's SMS inbox. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#define DEFAULT_URL	"http://127.0.0.1:8180/ussd/at"
#define DEFAULT_MSISDN	"0821234567"
#define DEFAULT_CODE	"*120*777#"
#define DEFAULT_NETWORK	"65501"
#define MAX_REPLY	(1 << 20)	/* a USSD screen is 182 characters; anything this big is a bug */
#define SCREEN_COLS	30		/* width of the simulated phone display */

#define DEFAULT_SMSC_MSISDN	"27821234567"	/* an SMSC carries numbers international, without '+' */
#define DEFAULT_SHORTCODE	"31555"
#define SMSC_SMS_WAIT_MS	2000	/* after a dialogue or an SMS, how long the phone listens for SMS */

static struct {
	const char *url, *msisdn, *code, *network;
	const char *smsc, *shortcode;	/* --smsc: spaza-smsc's control interface, not /ussd/at */
	long timeout_s;
	bool verbose;
} opt = { DEFAULT_URL, NULL, DEFAULT_CODE, DEFAULT_NETWORK, NULL, DEFAULT_SHORTCODE, 10, false };

/* ---- small helpers: dying allocators and a growable string ---- */

static void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatalx(const char *fmt, ...)
{
	va_list ap;

	fputs("spaza-phone: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		fatalx("out of memory");
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *d = xrealloc(NULL, n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

static void rtrim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

struct buf {
	char *s;
	size_t len, cap;
};

static void buf_addn(struct buf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, p, n);	/* NOLINT(clang-analyzer-core.NonNullParamChecker): b->s is allocated above whenever it is NULL; the analyzer loses track in run_check() */
	b->len += n;
	b->s[b->len] = '\0';
}

static void buf_adds(struct buf *b, const char *s)
{
	buf_addn(b, s, strlen(s));
}

static void buf_vaddf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	buf_addn(b, "", 0);
	if (b->len + n + 1 > b->cap) {
		b->cap = b->len + n + 1;
		b->s = xrealloc(b->s, b->cap);
	}
	vsnprintf(b->s + b->len, n + 1, fmt, ap);
	b->len += n;
}

static void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

static const char *buf_str(const struct buf *b)
{
	return b->s ? b->s : "";
}

static void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

static void buf_free(struct buf *b)
{
	free(b->s);
	*b = (struct buf){ 0 };
}

/* Screens go into one-line reports, so newlines, control bytes and the backslash itself are escaped:
 * the reader can always tell "\n" (a line break) from a backslash followed by n ("\\n"). */
static void buf_add_escaped(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '\n')
			buf_adds(b, "\\n");
		else if (c == '\r')
			buf_adds(b, "\\r");
		else if (c == '\t')
			buf_adds(b, "\\t");
		else if (c == '\\')
			buf_adds(b, "\\\\");
		else if (c < 0x20 || c == 0x7f)
			buf_addf(b, "\\x%02x", c);
		else
			buf_addn(b, (const char *)&c, 1);
	}
}

/* ---- HTTP: one libcurl easy handle, reused so hops share a kept-alive connection ---- */

struct http {
	CURL *curl;
	struct curl_slist *headers;
	char *noproxy;
	char errbuf[CURL_ERROR_SIZE];
};

struct reply {
	long status;
	struct buf body;
};

static size_t http_write(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (b->len + size * n > MAX_REPLY)
		return 0;	/* curl turns this into CURLE_WRITE_ERROR */
	buf_addn(b, p, size * n);
	return size * n;
}

static void http_init(struct http *h)
{
	const char *env = getenv("no_proxy");
	struct buf np = { 0 };

	*h = (struct http){ 0 };
	h->curl = curl_easy_init();
	if (!h->curl)
		fatalx("cannot initialise libcurl");
	/* A developer's http_proxy must not swallow requests to the local demo; keep their own
	 * no_proxy list, since setting CURLOPT_NOPROXY replaces it. */
	if (!env)
		env = getenv("NO_PROXY");
	buf_adds(&np, "localhost,127.0.0.1,::1");
	if (env && *env)
		buf_addf(&np, ",%s", env);
	h->noproxy = np.s;
	h->headers = curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
	if (!h->headers)
		fatalx("out of memory");
	curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(h->curl, CURLOPT_URL, opt.url);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "spaza-phone");
	curl_easy_setopt(h->curl, CURLOPT_NOPROXY, h->noproxy);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, opt.timeout_s < 5 ? opt.timeout_s : 5L);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, opt.timeout_s);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf);
}

static void http_cleanup(struct http *h)
{
	curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);
	free(h->noproxy);
}

/* POST a form body. Returns CURLE_OK and fills R (any HTTP status counts as an answer), or the curl
 * error with a one-line reason in ERR when no HTTP answer came back at all. */
static CURLcode http_post(struct http *h, const char *form, struct reply *r, struct buf *err)
{
	CURLcode rc;

	buf_reset(&r->body);
	buf_addn(&r->body, "", 0);
	r->status = 0;
	h->errbuf[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(form));
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &r->body);
	rc = curl_easy_perform(h->curl);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &r->status);
		return rc;
	}
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		buf_addf(err, "gateway not reachable at %s", opt.url);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		buf_addf(err, "gateway at %s did not answer within %ld s", opt.url, opt.timeout_s);
		break;
	case CURLE_WRITE_ERROR:
		buf_addf(err, "reply from %s is larger than %d bytes", opt.url, MAX_REPLY);
		break;
	default:
		buf_addf(err, "request to %s failed: %s", opt.url,
			 h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
	}
	return rc;
}

/* ---- a USSD session as the aggregator sees it ---- */

struct session {
	char *id, *code, *msisdn, *network;
	struct buf text;	/* every input so far, joined by '*' */
	int inputs;
};

/* Session ids carry pid and start time, so two runs against one database never share an id. */
static char *session_new_id(const char *prefix)
{
	static unsigned counter;
	struct buf b = { 0 };

	buf_addf(&b, "%s-%ld-%lld-%u", prefix, (long)getpid(), (long long)time(NULL), ++counter);
	return b.s;
}

static void session_free(struct session *s)
{
	free(s->id);
	free(s->code);
	free(s->msisdn);
	free(s->network);
	buf_free(&s->text);
	*s = (struct session){ 0 };
}

/* Takes ownership of ID. */
static void session_start(struct session *s, char *id, const char *code, const char *msisdn,
			  const char *network)
{
	session_free(s);
	s->id = id;
	s->code = xstrdup(code);
	s->msisdn = xstrdup(msisdn);
	s->network = xstrdup(network);
	buf_addn(&s->text, "", 0);
}

/* INPUT may itself hold several inputs ("1*2"): the text just grows by "*1*2". */
static void session_input(struct session *s, const char *input)
{
	if (s->inputs++ > 0)
		buf_adds(&s->text, "*");
	buf_adds(&s->text, input);
}

static void form_add(struct http *h, struct buf *b, const char *name, const char *value)
{
	char *v = curl_easy_escape(h->curl, value, 0);

	if (!v)
		fatalx("out of memory");
	buf_addf(b, "%s%s=%s", b->len ? "&" : "", name, v);
	curl_free(v);
}

static char *session_form(struct http *h, const struct session *s)
{
	struct buf b = { 0 };

	form_add(h, &b, "sessionId", s->id);
	form_add(h, &b, "serviceCode", s->code);
	form_add(h, &b, "phoneNumber", s->msisdn);
	form_add(h, &b, "networkCode", s->network);
	form_add(h, &b, "text", buf_str(&s->text));
	return b.s;
}

enum screen_kind { SCREEN_CON, SCREEN_END, SCREEN_OTHER };

static enum screen_kind screen_parse(const char *body, const char **screen)
{
	*screen = body;
	if (!strncmp(body, "CON", 3) && (body[3] == ' ' || body[3] == '\0')) {
		*screen = body[3] ? body + 4 : body + 3;
		return SCREEN_CON;
	}
	if (!strncmp(body, "END", 3) && (body[3] == ' ' || body[3] == '\0')) {
		*screen = body[3] ? body + 4 : body + 3;
		return SCREEN_END;
	}
	return SCREEN_OTHER;
}

/* ================= interactive mode: the phone ================= */

/* Reads one line without its newline; false on end of input. When stdin is not a terminal (a
 * here-doc, a pipe), the line is echoed so the output reads like a session at a terminal. */
static bool phone_read(const char *prompt, char **line, size_t *cap)
{
	ssize_t n;

	fputs(prompt, stdout);
	fflush(stdout);
	n = getline(line, cap, stdin);
	if (n < 0) {
		fputc('\n', stdout);
		return false;
	}
	while (n > 0 && ((*line)[n - 1] == '\n' || (*line)[n - 1] == '\r'))
		(*line)[--n] = '\0';
	if (!isatty(STDIN_FILENO))
		printf("%s\n", *line);
	return true;
}

/* Display width of UTF-8 text: one column per code point, which is right for what menus show. */
static size_t utf8_cols(const char *s, size_t n)
{
	size_t cols = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			cols++;
	return cols;
}

/* Byte length of the first COLS code points of S (at most N bytes). */
static size_t utf8_prefix(const char *s, size_t n, size_t cols)
{
	size_t i = 0;

	while (i < n && cols > 0) {
		i++;
		while (i < n && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		cols--;
	}
	return i;
}

/* Control bytes (a stray '\r' from the gateway) would break the frame; they show as '?'. */
static void phone_row(const char *s, size_t n)
{
	fputs("  | ", stdout);
	for (size_t i = 0; i < n; i++)
		fputc((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i], stdout);
	printf("%*s |\n", (int)(SCREEN_COLS - utf8_cols(s, n)), "");
}

/* A screen line longer than the display wraps at the last space that fits, as handsets do; a word
 * longer than the display is cut. */
static void phone_line(const char *s, size_t n)
{
	do {
		size_t fit = utf8_prefix(s, n, SCREEN_COLS), cut = fit;
		bool wrapped = fit < n;

		if (wrapped) {
			while (cut > 0 && s[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = fit;
		}
		phone_row(s, cut);
		s += cut;
		n -= cut;
		while (wrapped && n > 0 && *s == ' ') {
			s++;
			n--;
		}
	} while (n > 0);
}

static void phone_border(const char *label)
{
	size_t used = 0;

	fputs("  +", stdout);
	if (label) {
		printf("- %s ", label);
		used = utf8_cols(label, strlen(label)) + 3;
	}
	for (size_t i = used; i < SCREEN_COLS + 2; i++)
		fputc('-', stdout);
	fputs("+\n", stdout);
}

static void phone_screen(const char *msisdn, const char *screen)
{
	phone_border(msisdn);
	for (;;) {
		const char *nl = strchr(screen, '\n');
		size_t n = nl ? (size_t)(nl - screen) : strlen(screen);

		phone_line(screen, n);
		if (!nl)
			break;
		screen = nl + 1;
	}
	phone_border(NULL);
}

/* POST to URL instead of opt.url: the handset's requests go to several of the simulator's resources. */
static CURLcode http_post_to(struct http *h, const char *url, const char *form, struct reply *r, struct buf *err)
{
	CURLcode rc;

	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	rc = http_post(h, form, r, err);
	curl_easy_setopt(h->curl, CURLOPT_URL, opt.url);
	return rc;
}

/* The URL of one of spaza-smsc's control resources (--smsc): "/ussd", "/sms", "/inbox". */
static char *smsc_url(const char *resource)
{
	struct buf b = { 0 };
	size_t n = strlen(opt.smsc);

	buf_addn(&b, opt.smsc, n && opt.smsc[n - 1] == '/' ? n - 1 : n);
	buf_adds(&b, resource);
	return b.s;
}

/* One hop's request. To the aggregator front: the whole session so far (its text holds every input).
 * To the SMSC simulator, as a handset talks to its network: the dialled code first (begin=1), then
 * each answer alone, in the dialogue named by its its_session_info (the session id). INPUT is NULL
 * on the first hop. */
static char *hop_form(struct http *h, const struct session *s, const char *input)
{
	struct buf b = { 0 };

	if (!opt.smsc)
		return session_form(h, s);
	form_add(h, &b, "msisdn", s->msisdn);
	form_add(h, &b, "session", s->id);
	form_add(h, &b, "text", input ? input : s->code);
	if (!input)
		form_add(h, &b, "begin", "1");
	return b.s;
}

/* One session from the first hop to END, an error, or the user cancelling. Returns false when the
 * user pressed Ctrl-D and wants out altogether. */
static bool phone_session(struct http *h, struct session *s, char **line, size_t *cap)
{
	struct reply r = { 0 };
	struct buf err = { 0 };
	bool more = true;
	const char *input = NULL;
	char *url = opt.smsc ? smsc_url("/ussd") : xstrdup(opt.url);

	for (;;) {
		char *form = hop_form(h, s, input);
		const char *screen;
		enum screen_kind kind;
		CURLcode rc;

		if (opt.verbose)
			printf("  -> POST %s %s\n", url, form);
		rc = http_post_to(h, url, form, &r, &err);
		free(form);
		if (rc != CURLE_OK) {
			printf("  %s%s\n", buf_str(&err),
			       rc == CURLE_COULDNT_CONNECT ? " — is ./scripts/run running?" : "");
			break;
		}
		if (opt.verbose) {
			struct buf e = { 0 };

			buf_add_escaped(&e, buf_str(&r.body));
			printf("  <- %ld %s\n", r.status, buf_str(&e));
			buf_free(&e);
		}
		if (r.status != 200) {
			printf("  %s answered HTTP %ld: %s\n", opt.smsc ? "the SMSC simulator" : "gateway", r.status,
			       buf_str(&r.body));
			break;
		}
		kind = screen_parse(buf_str(&r.body), &screen);
		if (kind == SCREEN_OTHER) {
			struct buf e = { 0 };

			buf_add_escaped(&e, buf_str(&r.body));
			printf("  unexpected reply (neither CON nor END): %s\n", buf_str(&e));
			buf_free(&e);
			break;
		}
		phone_screen(s->msisdn, screen);
		if (kind == SCREEN_END) {
			printf("  Session ended.\n");
			break;
		}
		if (!phone_read("  Reply (empty line cancels, Ctrl-D quits): ", line, cap)) {
			more = false;
			break;
		}
		if (!**line) {
			printf("  Cancelled.\n");
			break;
		}
		session_input(s, *line);
		input = *line;
	}
	free(url);
	buf_free(&err);
	buf_free(&r.body);
	return more;
}

/* ---- the SMS side of a handset (--smsc): send to the short code, and the inbox ---- */

/* Undo the inbox's escapes (\n, \t, \r, \\) in place. */
static void inbox_unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			*o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s == 'r' ? '\r' : *s;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* Show the SMS above *LAST (every one when ALL), waiting up to WAIT_MS for the first; *LAST moves on.
 * Lines are "ID<TAB>DATE TIME<TAB>FROM<TAB>TEXT" (spaza-smsc's GET /inbox). */
static void phone_inbox(struct http *h, unsigned long *last, bool all, unsigned wait_ms)
{
	struct reply r = { 0 };
	struct buf err = { 0 }, form = { 0 };
	char *url = smsc_url("/inbox"), *save = NULL, num[32];
	int shown = 0;

	form_add(h, &form, "msisdn", opt.msisdn);
	snprintf(num, sizeof(num), "%lu", all ? 0 : *last);
	form_add(h, &form, "after", num);
	snprintf(num, sizeof(num), "%u", wait_ms);
	form_add(h, &form, "wait", num);
	if (http_post_to(h, url, buf_str(&form), &r, &err) != CURLE_OK || r.status != 200) {
		printf("  inbox: %s%s\n", buf_str(&err), r.status ? buf_str(&r.body) : "");
		goto out;
	}
	for (char *l = strtok_r(r.body.s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *f[4], *p = l;
		struct buf label = { 0 };
		int n = 0;

		for (; n < 3 && (f[n] = strsep(&p, "\t")); n++)
			;
		if (n < 3 || !p)
			continue;
		f[3] = p;
		inbox_unescape(f[3]);
		buf_addf(&label, "SMS from %s, %s", f[2], strlen(f[1]) > 11 ? f[1] + 11 : f[1]);
		phone_screen(buf_str(&label), f[3]);
		buf_free(&label);
		if (strtoul(f[0], NULL, 10) > *last)
			*last = strtoul(f[0], NULL, 10);
		shown++;
	}
	if (all && !shown)
		printf("  No SMS for %s yet.\n", opt.msisdn);
out:
	free(url);
	buf_free(&form);
	buf_free(&err);
	buf_free(&r.body);
}

static void phone_sms(struct http *h, const char *text)
{
	struct reply r = { 0 };
	struct buf err = { 0 }, form = { 0 };
	char *url = smsc_url("/sms");

	form_add(h, &form, "msisdn", opt.msisdn);
	form_add(h, &form, "to", opt.shortcode);
	form_add(h, &form, "text", text);
	if (http_post_to(h, url, buf_str(&form), &r, &err) != CURLE_OK)
		printf("  %s — is ./scripts/run running?\n", buf_str(&err));
	else if (r.status != 200)
		printf("  the SMSC simulator answered HTTP %ld: %s", r.status, buf_str(&r.body));
	else
		printf("  SMS to %s sent: %s\n", opt.shortcode, text);
	free(url);
	buf_free(&form);
	buf_free(&err);
	buf_free(&r.body);
}

/* An its_session_info for a new dialogue: 16 bits, unlikely to meet one of a recent dialogue. */
static char *smsc_session_id(void)
{
	struct buf b = { 0 };

	buf_addf(&b, "%u", (unsigned)((getpid() * 7919u + (unsigned)time(NULL) * 104729u + (unsigned)rand()) % 65536u));
	return b.s;
}

static int phone_run(void)
{
	/* A terminal shares one open file description among every process on it: a program run
	 * before us from the same shell may have left it non-blocking, and getline() would then
	 * see EAGAIN as the end of input. */
	int fl = fcntl(STDIN_FILENO, F_GETFL);
	if (fl >= 0 && (fl & O_NONBLOCK))
		fcntl(STDIN_FILENO, F_SETFL, fl & ~O_NONBLOCK);
	struct http h;
	struct session s = { 0 };
	struct buf prompt = { 0 };
	char *line = NULL;
	size_t cap = 0;
	unsigned long last_sms = 0;

	http_init(&h);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	if (opt.smsc) {
		printf("Spaza phone %s on the simulated operator network (SMSC simulator %s)\n", opt.msisdn, opt.smsc);
		phone_inbox(&h, &last_sms, true, 0);
		buf_addf(&prompt, "Dial (Enter for %s), \"sms TEXT\" to text %s, \"inbox\", q to quit: ", opt.code,
			 opt.shortcode);
	} else {
		printf("Spaza phone %s -> %s\n", opt.msisdn, opt.url);
		buf_addf(&prompt, "Dial (Enter for %s, q to quit): ", opt.code);
	}
	while (phone_read(buf_str(&prompt), &line, &cap)) {
		char *code = line;

		rtrim(code);
		while (isblank((unsigned char)*code))
			code++;
		if (!strcmp(code, "q"))
			break;
		if (opt.smsc && !strcmp(code, "inbox")) {
			phone_inbox(&h, &last_sms, true, 0);
			continue;
		}
		if (opt.smsc && !strncmp(code, "sms ", 4)) {
			phone_sms(&h, code + 4);
			phone_inbox(&h, &last_sms, false, SMSC_SMS_WAIT_MS);
			continue;
		}
		session_start(&s, opt.smsc ? smsc_session_id() : session_new_id("sim"), *code ? code : opt.code,
			      opt.msisdn, opt.network);
		if (!phone_session(&h, &s, &line, &cap))
			break;
		/* an order's SMS follows its last screen within a second or so, as on a real phone */
		if (opt.smsc)
			phone_inbox(&h, &last_sms, false, SMSC_SMS_WAIT_MS);
	}
	session_free(&s);
	buf_free(&prompt);
	free(line);
	http_cleanup(&h);
	return 0;
}

/* ================= script mode: ussdscript ================= */

enum step_kind {
	STEP_DIAL,	/* a = code, b = msisdn (NULL: the defaults) */
	STEP_INPUT,	/* a = input(s) */
	STEP_AGAIN,
	STEP_POST,	/* a = raw form body */
	STEP_EXPECT,	/* a = one screen line pattern */
	STEP_STATUS,	/* num = HTTP status */
	STEP_NETWORK,	/* a = networkCode */
	STEP_SESSION,	/* a = sessionId for the next dial */
};

struct step {
	enum step_kind kind;
	int line;
	char *a, *b;
	long num;
};

struct script {
	const char *file;
	struct step *steps;
	size_t n, cap;
};

static bool is_request(enum step_kind k)
{
	return k == STEP_DIAL || k == STEP_INPUT || k == STEP_AGAIN || k == STEP_POST;
}

static void script_free(struct script *sc)
{
	for (size_t i = 0; i < sc->n; i++) {
		free(sc->steps[i].a);
		free(sc->steps[i].b);
	}
	free(sc->steps);
}

static struct step *script_add(struct script *sc, enum step_kind kind, int line)
{
	if (sc->n == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 32;
		sc->steps = xrealloc(sc->steps, sc->cap * sizeof(*sc->steps));
	}
	sc->steps[sc->n] = (struct step){ .kind = kind, .line = line };
	return &sc->steps[sc->n++];
}

/* Outside "<" lines, a '#' with blank space on both sides starts a comment to the end of the line.
 * The '#' of a service code ("*120*777#") has a digit before it and so stays. */
static void strip_comment(char *s)
{
	for (char *p = s; *p; p++) {
		if (*p == '#' && p > s && isblank((unsigned char)p[-1]) &&
		    (p[1] == '\0' || isblank((unsigned char)p[1]))) {
			*p = '\0';
			rtrim(s);
			return;
		}
	}
}

static char *next_word(char **p)
{
	char *w;

	while (isblank((unsigned char)**p))
		(*p)++;
	if (!**p)
		return NULL;
	w = *p;
	while (**p && !isblank((unsigned char)**p))
		(*p)++;
	if (**p)
		*(*p)++ = '\0';
	return w;
}

/* Parses one script line into SC. Returns NULL, or the reason the line is wrong. */
static const char *script_parse_line(struct script *sc, char *s, int lineno, bool *dialed)
{
	/* What the previous step was decides where '<' and "status" may go; before the first
	 * step, anything that is not a request will do. */
	enum step_kind prev = sc->n ? sc->steps[sc->n - 1].kind : STEP_NETWORK;
	char *kw, *w;
	struct step *st;

	while (isblank((unsigned char)*s))
		s++;
	if (*s == '\0' || *s == '#')
		return NULL;
	if (*s == '<') {
		if (!is_request(prev) && prev != STEP_EXPECT && prev != STEP_STATUS)
			return "'<' must follow a request (dial, >, again, post)";
		s++;
		if (*s == ' ')
			s++;
		script_add(sc, STEP_EXPECT, lineno)->a = xstrdup(s);
		return NULL;
	}
	if (*s == '>') {
		if (!*dialed)
			return "'>' before any dial";
		s++;
		while (isblank((unsigned char)*s))
			s++;
		strip_comment(s);
		script_add(sc, STEP_INPUT, lineno)->a = xstrdup(s);
		return NULL;
	}
	strip_comment(s);
	kw = next_word(&s);
	if (!strcmp(kw, "dial")) {
		char *code = NULL, *msisdn = NULL;

		w = next_word(&s);
		if (w && strcmp(w, "from")) {
			code = w;
			w = next_word(&s);
		}
		if (w) {
			if (strcmp(w, "from") || !(msisdn = next_word(&s)))
				return "expected: dial [CODE] [from MSISDN]";
		}
		if (next_word(&s))
			return "expected: dial [CODE] [from MSISDN]";
		st = script_add(sc, STEP_DIAL, lineno);
		st->a = code ? xstrdup(code) : NULL;
		st->b = msisdn ? xstrdup(msisdn) : NULL;
		*dialed = true;
	} else if (!strcmp(kw, "again")) {
		bool any = false;

		if (next_word(&s))
			return "'again' takes no argument";
		for (size_t i = 0; i < sc->n; i++)
			any |= is_request(sc->steps[i].kind);
		if (!any)
			return "'again' before any request";
		script_add(sc, STEP_AGAIN, lineno);
	} else if (!strcmp(kw, "post")) {
		while (isblank((unsigned char)*s))
			s++;
		script_add(sc, STEP_POST, lineno)->a = xstrdup(s);
	} else if (!strcmp(kw, "status")) {
		char *end = NULL;
		long v = 0;

		for (size_t i = sc->n; i-- > 0 && !is_request(sc->steps[i].kind);)
			if (sc->steps[i].kind == STEP_STATUS)
				return "a second 'status' for the same request";
		if (!is_request(prev) && prev != STEP_EXPECT)
			return "'status' must follow a request (dial, >, again, post)";
		if ((w = next_word(&s)))
			v = strtol(w, &end, 10);
		if (!w || *end || v < 100 || v > 599 || next_word(&s))
			return "expected: status CODE (100-599)";
		script_add(sc, STEP_STATUS, lineno)->num = v;
	} else if (!strcmp(kw, "network") || !strcmp(kw, "session")) {
		bool net = kw[0] == 'n';

		w = next_word(&s);
		if (!w || next_word(&s))
			return net ? "expected: network CODE" : "expected: session ID";
		script_add(sc, net ? STEP_NETWORK : STEP_SESSION, lineno)->a = xstrdup(w);
	} else {
		return "unknown command (expected dial, >, <, again, post, status, network, session)";
	}
	return NULL;
}

/* Reads the whole file first, so a typo near the end is reported before anything is sent. Returns 0,
 * or -1 with "LINE: reason" (or "reason") in ERR. */
static int script_load(struct script *sc, struct buf *err)
{
	FILE *f = fopen(sc->file, "r");
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, rc = 0;
	bool dialed = false, sends = false;

	if (!f) {
		buf_addf(err, " cannot open: %s", strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) >= 0) {
		const char *why;

		lineno++;
		rtrim(line);
		if ((why = script_parse_line(sc, line, lineno, &dialed))) {
			buf_addf(err, "%d: %s", lineno, why);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		buf_addf(err, " cannot read: %s", strerror(errno));
		rc = -1;
	}
	/* A transcript that sends nothing proves nothing: most likely the wrong file. */
	for (size_t i = 0; i < sc->n; i++)
		sends |= is_request(sc->steps[i].kind);
	if (rc == 0 && !sends) {
		buf_adds(err, " no requests in transcript");
		rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}

/* ---- captures and screen patterns ---- */

struct binding {
	char *name, *value;
};

struct run {
	const char *file;
	struct http *http;
	struct session sess;
	char *next_id;		/* from "session", for the next dial */
	char *network;
	char *last_form;	/* for "again" */
	struct binding *binds;
	size_t nbinds, capbinds;
	struct buf fail;	/* "LINE: reason" of the first failure */
};

enum tok { TOK_END, TOK_CHAR, TOK_ANY, TOK_NAME };

/* The token at P: "{*}", "{name}" (a letter or '_', then letters, digits, '_' or '-'), or one
 * literal byte. Any other brace is literal. */
static enum tok pattern_token(const char *p, const char **name, size_t *namelen, size_t *toklen)
{
	size_t i = 1;

	*toklen = 1;
	if (*p == '\0')
		return TOK_END;
	if (*p != '{')
		return TOK_CHAR;
	if (!strncmp(p, "{*}", 3)) {
		*toklen = 3;
		return TOK_ANY;
	}
	if (!isalpha((unsigned char)p[1]) && p[1] != '_')
		return TOK_CHAR;
	while (isalnum((unsigned char)p[i]) || p[i] == '_' || p[i] == '-')
		i++;
	if (p[i] != '}')
		return TOK_CHAR;
	*name = p + 1;
	*namelen = i - 1;
	*toklen = i + 1;
	return TOK_NAME;
}

static ssize_t binding_find(const struct run *r, const char *name, size_t n)
{
	for (size_t i = 0; i < r->nbinds; i++)
		if (strlen(r->binds[i].name) == n && !memcmp(r->binds[i].name, name, n))
			return i;
	return -1;
}

static void binding_add(struct run *r, const char *name, size_t n, const char *val, size_t vn)
{
	if (r->nbinds == r->capbinds) {
		r->capbinds = r->capbinds ? r->capbinds * 2 : 8;
		r->binds = xrealloc(r->binds, r->capbinds * sizeof(*r->binds));
	}
	r->binds[r->nbinds].name = xstrndup(name, n);
	r->binds[r->nbinds].value = xstrndup(val, vn);
	r->nbinds++;
}

static void bindings_truncate(struct run *r, size_t keep)
{
	while (r->nbinds > keep) {
		r->nbinds--;
		free(r->binds[r->nbinds].name);
		free(r->binds[r->nbinds].value);
	}
}

/* Does pattern P match all of S? "{*}" takes any run of characters short of a newline; "{name}" takes
 * one or more digits and binds them, or must repeat its value when already bound. Both backtrack, so
 * "{a}{b}" or "{*}: {n}" work; a binding made on a path that fails is undone, and only a match of the
 * whole screen leaves its bindings behind. Screens are a few hundred bytes, so plain recursion will do. */
/* NOLINTNEXTLINE(misc-no-recursion): as deep as the pattern has {*} and {name} tokens */
static bool pattern_match(struct run *r, const char *p, const char *s)
{
	for (;;) {
		const char *name = NULL;
		size_t nlen = 0, tlen, digits = 0;
		ssize_t bound;

		switch (pattern_token(p, &name, &nlen, &tlen)) {
		case TOK_END:
			return *s == '\0';	/* NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult): S is the reply body, a NUL-terminated string; the analyzer loses that past http_post() */
		case TOK_CHAR:
			if (*s != *p)	/* NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult): as above */
				return false;
			p++;
			s++;
			continue;
		case TOK_ANY:
			for (;; s++) {
				if (pattern_match(r, p + tlen, s))
					return true;
				if (*s == '\0' || *s == '\n')	/* NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult): as above */
					return false;
			}
		case TOK_NAME:
			while (isdigit((unsigned char)s[digits]))	/* NOLINT(clang-analyzer-core.uninitialized.ArraySubscript): as above */
				digits++;
			for (size_t k = digits; k > 0; k--) {
				size_t mark = r->nbinds;

				bound = binding_find(r, name, nlen);
				if (bound >= 0) {
					const char *v = r->binds[bound].value;

					if (strlen(v) != k || memcmp(v, s, k))
						continue;
				} else {
					binding_add(r, name, nlen, s, k);
				}
				if (pattern_match(r, p + tlen, s + k))
					return true;
				bindings_truncate(r, mark);
			}
			return false;
		}
	}
}

/* Replaces each "{name}" in IN by its captured value. Returns -1 with the reason in ERR when a name
 * has not been captured. */
static int subst(struct run *r, const char *in, struct buf *out, struct buf *err)
{
	const char *name = NULL;
	size_t nlen = 0, tlen;
	enum tok t;

	buf_addn(out, "", 0);
	while ((t = pattern_token(in, &name, &nlen, &tlen)) != TOK_END) {
		if (t == TOK_NAME) {
			ssize_t b = binding_find(r, name, nlen);

			if (b < 0) {
				buf_addf(err, "nothing captured as {%.*s} yet", (int)nlen, name);
				return -1;
			}
			buf_adds(out, r->binds[b].value);	/* NOLINT(clang-analyzer-core.NullDereference): b >= 0: binds exist */
		} else {
			buf_addn(out, in, tlen);
		}
		in += tlen;
	}
	return 0;
}

/* ---- running a script ---- */

static void run_fail(struct run *r, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void run_fail(struct run *r, int line, const char *fmt, ...)
{
	va_list ap;

	if (r->fail.len)
		return;
	buf_addf(&r->fail, "%d: ", line);
	va_start(ap, fmt);
	buf_vaddf(&r->fail, fmt, ap);
	va_end(ap);
}

static void run_fail_diff(struct run *r, int line, const char *expected, const char *got)
{
	struct buf e = { 0 }, g = { 0 };

	buf_add_escaped(&e, expected);
	buf_add_escaped(&g, got);
	run_fail(r, line, "expected <%s>, got <%s>", buf_str(&e), buf_str(&g));
	buf_free(&e);
	buf_free(&g);
}

/* The expected screen as a failure shows it: a capture bound by an earlier screen shows its value,
 * "{order=1042}", since the script alone cannot tell the reader what it had to be. */
static void pattern_show(const struct run *r, const char *p, struct buf *out)
{
	const char *name = NULL;
	size_t nlen = 0, tlen;
	enum tok t;

	while ((t = pattern_token(p, &name, &nlen, &tlen)) != TOK_END) {
		ssize_t b = t == TOK_NAME ? binding_find(r, name, nlen) : -1;

		if (b >= 0)
			buf_addf(out, "{%.*s=%s}", (int)nlen, name, r->binds[b].value);
		else
			buf_addn(out, p, tlen);
		p += tlen;
	}
}

/* Which "<" line to blame when the screen as a whole did not match: the first one that does not match
 * its own line of the reply on its own. Bindings tried here are thrown away. */
static int blame_line(struct run *r, const struct step **exp, size_t nexp, const char *body)
{
	size_t mark = r->nbinds;
	int line = exp[0]->line;

	for (size_t i = 0; i < nexp; i++) {
		const char *nl = strchr(body, '\n');
		char *got;
		bool ok;

		if (i == nexp - 1 && nl) {	/* the reply has more lines than expected */
			line = exp[i]->line;
			break;
		}
		got = nl ? xstrndup(body, nl - body) : xstrdup(body);
		ok = pattern_match(r, exp[i]->a, got);
		free(got);
		if (!ok) {
			line = exp[i]->line;
			break;
		}
		if (!nl && i < nexp - 1) {	/* the reply has fewer lines than expected */
			line = exp[i + 1]->line;
			break;
		}
		body = nl + 1;
	}
	bindings_truncate(r, mark);
	return line;
}

/* Checks a reply against the "<" and "status" lines that follow its request (in any order). */
static void run_check(struct run *r, const struct step *req, const struct step *block, size_t n,
		      const struct reply *rep)
{
	const struct step *status = NULL, **exp = xrealloc(NULL, n * sizeof(*exp));	/* NOLINT(bugprone-sizeof-expression): an array of pointers */
	struct buf want = { 0 }, got = { 0 };
	size_t nexp = 0;

	for (size_t i = 0; i < n; i++) {
		if (block[i].kind == STEP_STATUS)
			status = &block[i];
		else
			exp[nexp++] = &block[i];
	}
	if (rep->status != (status ? status->num : 200)) {
		buf_addf(&want, "HTTP %ld", status ? status->num : 200);
		buf_addf(&got, "HTTP %ld: %s", rep->status, buf_str(&rep->body));
		run_fail_diff(r, status ? status->line : req->line, buf_str(&want), buf_str(&got));
	} else if (nexp) {
		for (size_t i = 0; i < nexp; i++)
			buf_addf(&want, "%s%s", i ? "\n" : "", exp[i]->a);
		if (!pattern_match(r, buf_str(&want), buf_str(&rep->body))) {
			struct buf shown = { 0 };

			pattern_show(r, buf_str(&want), &shown);
			run_fail_diff(r, blame_line(r, exp, nexp, buf_str(&rep->body)), buf_str(&shown),
				      buf_str(&rep->body));
			buf_free(&shown);
		}
	}
	buf_free(&want);
	buf_free(&got);
	free(exp);
}

static void run_verbose(const struct run *r, int line, const char *dir, const char *text)
{
	struct buf e = { 0 };

	buf_add_escaped(&e, text);
	printf("  %s:%d: %s %s\n", r->file, line, dir, buf_str(&e));
	buf_free(&e);
}

/* Builds the form for a request step (or fails the run). Returns a malloc'ed body or NULL. */
static char *run_form(struct run *r, const struct step *st)
{
	struct buf v = { 0 }, err = { 0 };
	char *form = NULL;

	switch (st->kind) {
	case STEP_DIAL:
		session_start(&r->sess, r->next_id ? r->next_id : session_new_id("ussdscript"),
			      st->a ? st->a : opt.code, st->b ? st->b : opt.msisdn, r->network);
		r->next_id = NULL;
		form = session_form(r->http, &r->sess);
		break;
	case STEP_INPUT:
		if (subst(r, st->a, &v, &err) == 0) {
			session_input(&r->sess, buf_str(&v));
			form = session_form(r->http, &r->sess);
		}
		break;
	case STEP_AGAIN:
		form = xstrdup(r->last_form);
		break;
	case STEP_POST:
		if (subst(r, st->a, &v, &err) == 0)
			form = xstrdup(buf_str(&v));
		break;
	default:
		break;
	}
	if (!form)
		run_fail(r, st->line, "%s", buf_str(&err));
	buf_free(&v);
	buf_free(&err);
	return form;
}

static void run_steps(struct run *r, const struct script *sc)
{
	struct reply rep = { 0 };
	struct buf err = { 0 }, v = { 0 };

	for (size_t i = 0; i < sc->n && !r->fail.len;) {
		const struct step *st = &sc->steps[i++];
		size_t block;
		char *form;

		switch (st->kind) {
		case STEP_NETWORK:
			free(r->network);
			r->network = xstrdup(st->a);
			continue;
		case STEP_SESSION:
			buf_reset(&v);
			if (subst(r, st->a, &v, &err) < 0) {
				run_fail(r, st->line, "%s", buf_str(&err));
				continue;
			}
			free(r->next_id);
			r->next_id = xstrdup(buf_str(&v));
			continue;
		case STEP_EXPECT:
		case STEP_STATUS:	/* the parser only lets these follow a request */
			continue;
		default:
			break;
		}
		if (!(form = run_form(r, st)))
			continue;
		if (opt.verbose)
			run_verbose(r, st->line, "->", form);
		free(r->last_form);
		r->last_form = form;
		if (http_post(r->http, form, &rep, &err) != CURLE_OK) {
			run_fail(r, st->line, "%s", buf_str(&err));
			continue;
		}
		if (opt.verbose) {
			buf_reset(&v);
			buf_addf(&v, "%ld %s", rep.status, buf_str(&rep.body));
			run_verbose(r, st->line, "<-", buf_str(&v));
		}
		for (block = i; block < sc->n && (sc->steps[block].kind == STEP_EXPECT ||
						  sc->steps[block].kind == STEP_STATUS); block++)
			;
		run_check(r, st, &sc->steps[i], block - i, &rep);
		i = block;
	}
	buf_free(&rep.body);
	buf_free(&err);
	buf_free(&v);
}

/* Runs one transcript and prints its PASS or FAIL line. Returns true when it passed. */
static bool script_run(struct http *h, const char *file)
{
	struct script sc = { .file = file };
	struct run r = { .file = file, .http = h };
	bool ok;

	if (script_load(&sc, &r.fail) == 0) {
		r.network = xstrdup(opt.network);
		run_steps(&r, &sc);
	}
	ok = r.fail.len == 0;
	if (ok)
		printf("PASS: %s\n", file);
	else
		printf("FAIL: %s:%s\n", file, buf_str(&r.fail));	/* "LINE: why" or " why" */
	fflush(stdout);
	session_free(&r.sess);
	bindings_truncate(&r, 0);
	free(r.binds);
	free(r.next_id);
	free(r.network);
	free(r.last_form);
	buf_free(&r.fail);
	script_free(&sc);
	return ok;
}

/* ================= main ================= */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: spaza-phone [options]                               an interactive phone\n"
		"       spaza-phone [options] --script FILE [FILE...]       run transcripts\n"
		"\n"
		"  -u, --url URL        the gateway's USSD endpoint (default %s)\n"
		"      --smsc URL       be a handset on the SMSC simulator's network instead (spaza-smsc\n"
		"                       --control; USSD and SMS through SMPP and Kannel, with an SMS inbox)\n"
		"      --shortcode CODE where \"sms TEXT\" goes with --smsc (default %s)\n"
		"  -m, --msisdn NUMBER  the phone's number (default %s; %s with --smsc)\n"
		"  -c, --code CODE      the service code to dial (default %s)\n"
		"  -n, --network CODE   networkCode sent with each hop (default %s)\n"
		"  -s, --script FILE    run the transcript FILE; may be repeated\n"
		"  -t, --timeout SEC    give up on a hop after SEC seconds (default 10)\n"
		"  -v, --verbose        print every request and reply\n"
		"  -h, --help           this text\n"
		"\n"
		"Transcripts print PASS: FILE or FAIL: FILE:LINE: reason; the exit status is 1 when\n"
		"any failed. The format is described in doc/transcripts.md and spaza-phone(1).\n",
		DEFAULT_URL, DEFAULT_SHORTCODE, DEFAULT_MSISDN, DEFAULT_SMSC_MSISDN, DEFAULT_CODE, DEFAULT_NETWORK);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "smsc", required_argument, NULL, 'S' },
		{ "shortcode", required_argument, NULL, 'C' },
		{ "msisdn", required_argument, NULL, 'm' },
		{ "code", required_argument, NULL, 'c' },
		{ "network", required_argument, NULL, 'n' },
		{ "script", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char **scripts = xrealloc(NULL, argc * sizeof(*scripts));
	size_t nscripts = 0;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "u:m:c:n:s:t:vh", longopts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'u': opt.url = optarg; break;
		case 'S': opt.smsc = optarg; break;
		case 'C': opt.shortcode = optarg; break;
		case 'm': opt.msisdn = optarg; break;
		case 'c': opt.code = optarg; break;
		case 'n': opt.network = optarg; break;
		case 's': scripts[nscripts++] = optarg; break;
		case 'v': opt.verbose = true; break;
		case 't':
			opt.timeout_s = strtol(optarg, &end, 10);
			if (*end || opt.timeout_s < 1 || opt.timeout_s > 3600)
				fatalx("--timeout wants seconds between 1 and 3600, not '%s'", optarg);
			break;
		case 'h':
			usage(stdout);
			free(scripts);
			return 0;
		default:
			usage(stderr);
			free(scripts);
			return 2;
		}
	}
	/* "--script a.txt b.txt" (a shell glob) runs both. */
	if (optind < argc && !nscripts) {
		fprintf(stderr, "spaza-phone: unexpected argument '%s' (transcripts go after --script)\n",
			argv[optind]);
		free(scripts);
		return 2;
	}
	while (optind < argc)
		scripts[nscripts++] = argv[optind++];

	if (!opt.msisdn)
		opt.msisdn = opt.smsc ? DEFAULT_SMSC_MSISDN : DEFAULT_MSISDN;
	if (opt.smsc)
		opt.url = opt.smsc;	/* what error messages name */
	if (opt.smsc && nscripts) {
		fprintf(stderr, "spaza-phone: transcripts run against /ussd/at, not --smsc\n");
		free(scripts);
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("cannot initialise libcurl");
	if (nscripts) {
		struct http h;

		http_init(&h);
		for (size_t i = 0; i < nscripts; i++)
			if (!script_run(&h, scripts[i]))
				rc = 1;
		http_cleanup(&h);
	} else {
		rc = phone_run();
	}
	curl_global_cleanup();
	free(scripts);
	return rc;
}
