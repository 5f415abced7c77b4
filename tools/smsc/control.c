/*
 * The control interface (--control PORT): what handsets do on the operator's network, over loopback
 * HTTP, so that spaza-phone --smsc, a test or a newcomer with curl can be a subscriber behind Kannel:
 *
 *   POST /ussd   msisdn= session= text= [begin=1] [timeout=MS]
 *                begin=1 dials: text is the code (*120*777#); otherwise text is the answer. The request
 *                is held until the ESME's submit_sm for that MSISDN and its_session_info comes back,
 *                then answered "CON <screen>" (ussd_service_op 2: the dialogue goes on) or
 *                "END <screen>" (anything else), the aggregator format of /ussd/at. 504 after MS
 *                (default -t), 503 when no ESME is bound.
 *   POST /sms    msisdn= to= text=       an SMS from msisdn to the short code: 200 "sent"
 *   GET  /inbox  msisdn= [after=ID] [wait=MS]
 *                the SMS the ESME submitted to msisdn with an id above ID, one a line:
 *                "ID<TAB>YYYY-MM-DD HH:MM:SS<TAB>FROM<TAB>TEXT", the text with \n, \t, \r and \\
 *                escaped. With wait=MS and nothing there yet, held until one comes (or MS pass: empty).
 *   GET  /status "bound" (200) or "not bound" (503): is an ESME bound to receive?
 *   GET  /       this list
 * Parameters come in the query string or an application/x-www-form-urlencoded body. One request per
 * connection, answered with Connection: close: a handset's life is short and the simulator stays simple.
 * It listens on the SMPP listener's address (-H, loopback by default).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smsc.h"

#define REQUEST_MAX	16384	/* a handset's request: a USSD answer or an SMS, with room to spare */
#define MAX_PARAMS	16
#define HANDSETS	(CONTROL_MAX_FDS - 1)
#define WAIT_MAX_MS	600000
#define IO_MS		10000	/* to send a request or take an answer: then the handset is dropped */

enum handset_state { H_READING, H_WAIT_USSD, H_WAIT_SMS, H_WRITING };

struct handset {
	int fd;
	enum handset_state state;
	char req[REQUEST_MAX + 1];
	size_t req_len;
	/* what a held request waits for */
	char msisdn[24];
	long session;
	unsigned long after;
	uint64_t deadline;	/* of the wait, or of the read or write under way */
	/* the answer */
	char *out;
	size_t out_len, out_off;
};

static int ctl_fd = -1;
static struct handset *handsets[HANDSETS];

struct params {
	char *key[MAX_PARAMS], *val[MAX_PARAMS];
	int n;
};

/* ---- plumbing: accept, read, answer ---- */

static void handset_close(struct handset *h)
{
	for (int i = 0; i < HANDSETS; i++)
		if (handsets[i] == h)
			handsets[i] = NULL;
	close(h->fd);
	free(h->out);
	free(h);
}

static void handset_write(struct handset *h)
{
	while (h->out_off < h->out_len) {
		ssize_t n = send(h->fd, h->out + h->out_off, h->out_len - h->out_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			break;
		}
		h->out_off += (size_t)n;
	}
	handset_close(h);
}

static void answer(struct handset *h, int status, const char *body)
{
	const char *reason = status == 200 ? "OK" : status == 400 ? "Bad Request" : status == 404 ? "Not Found" :
			     status == 405 ? "Method Not Allowed" : status == 413 ? "Payload Too Large" :
			     status == 503 ? "Service Unavailable" : "Gateway Timeout";
	size_t n = strlen(body);
	int len = asprintf(&h->out, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
			   "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", status, reason, n, body);

	if (len < 0)
		die("out of memory");
	h->out_len = (size_t)len;
	h->out_off = 0;
	h->state = H_WRITING;
	h->deadline = now_ns() + IO_MS * 1000000ull;
	handset_write(h);
}

static void answerf(struct handset *h, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void answerf(struct handset *h, int status, const char *fmt, ...)
{
	va_list ap;
	char *body;

	va_start(ap, fmt);
	if (vasprintf(&body, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	answer(h, status, body);
	free(body);
}

void control_listen(void)
{
	unsigned port;

	ctl_fd = tcp_listen(opt.control_port, " for --control", &port);
	printf("-- control on http://%s:%u/\n", opt.host, port);
}

static void control_accept(void)
{
	for (;;) {
		int fd = accept4(ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), slot = -1;
		struct handset *h;

		if (fd < 0)
			return;
		for (int i = 0; i < HANDSETS; i++)
			if (!handsets[i]) {
				slot = i;
				break;
			}
		if (slot < 0) {
			close(fd);	/* the handset's client sees a reset and may try again */
			continue;
		}
		h = xrealloc(NULL, sizeof(*h));
		memset(h, 0, sizeof(*h));
		h->fd = fd;
		h->deadline = now_ns() + IO_MS * 1000000ull;
		handsets[slot] = h;
	}
}

/* ---- parameters: query string and form body, URL-decoded in place ---- */

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void url_decode(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '+') {
			*o++ = ' ';
		} else if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			*o++ = (char)(hexval(s[1]) << 4 | hexval(s[2]));
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static void params_parse(struct params *p, char *s)
{
	char *save = NULL;

	for (char *pair = strtok_r(s, "&", &save); pair && p->n < MAX_PARAMS; pair = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(pair, '=');

		if (eq)
			*eq++ = '\0';
		url_decode(pair);
		if (eq)
			url_decode(eq);
		p->key[p->n] = pair;
		p->val[p->n++] = eq ? eq : pair + strlen(pair);
	}
}

static const char *param(const struct params *p, const char *key)
{
	for (int i = 0; i < p->n; i++)
		if (!strcmp(p->key[i], key))
			return p->val[i];
	return NULL;
}

/* A number parameter within MAX, DEF when absent; false when present and not a number. */
static bool param_ulong(const struct params *p, const char *key, unsigned long max, unsigned long def,
			unsigned long *out)
{
	const char *v = param(p, key);

	*out = def;
	return !v || !*v || parse_ulong(v, max, out);
}

/* ---- the requests ---- */

/* The handset's deliver_sm to the bound ESME; false when it was answered with the reason instead. */
static bool handset_send(struct handset *h, const struct mo *m)
{
	if (!receiver()) {
		answer(h, 503, "no ESME is bound: is Kannel up?\n");
		return false;
	}
	if (mo_send(m) != 0) {
		answer(h, 400, "the deliver_sm could not be sent (see the simulator's output)\n");
		return false;
	}
	return true;
}

static void do_ussd(struct handset *h, const struct params *p)
{
	const char *msisdn = param(p, "msisdn"), *text = param(p, "text"), *sess = param(p, "session");
	bool begin = param(p, "begin") && strcmp(param(p, "begin"), "0");
	unsigned long timeout;
	struct mo m;

	if (!msisdn || !*msisdn || strlen(msisdn) >= sizeof(h->msisdn) || !text || !sess ||
	    !ussd_parse_session(sess, &h->session) || !param_ulong(p, "timeout", WAIT_MAX_MS, opt.timeout_ms, &timeout)) {
		answer(h, 400, "POST /ussd wants msisdn=, session= (0-65535), text= [begin=1] [timeout=MS]\n");
		return;
	}
	if (begin)
		ussd_begin(&m, msisdn, text, h->session);
	else
		ussd_continue(&m, msisdn, text, h->session);
	if (!handset_send(h, &m))
		return;
	snprintf(h->msisdn, sizeof(h->msisdn), "%s", *msisdn == '+' ? msisdn + 1 : msisdn);
	h->deadline = now_ns() + (uint64_t)timeout * 1000000u;
	h->state = H_WAIT_USSD;
}

static void do_sms(struct handset *h, const struct params *p)
{
	struct mo m = { .from = param(p, "msisdn"), .to = param(p, "to"), .text = param(p, "text"), .op = -1,
			.session = -1, .message_state = -1 };

	if (!m.from || !*m.from || !m.to || !*m.to || !m.text) {
		answer(h, 400, "POST /sms wants msisdn=, to= (the short code) and text=\n");
		return;
	}
	if (handset_send(h, &m))
		answer(h, 200, "sent\n");
}

static void escape_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '\t')
			fputs("\\t", f);
		else if (*s == '\r')
			fputs("\\r", f);
		else if (*s == '\\')
			fputs("\\\\", f);
		else
			fputc(*s, f);
	}
}

/* Answers with the messages above h->after; false (nothing answered) when there are none. */
static bool inbox_answer(struct handset *h, bool even_empty)
{
	const struct stored_sms *m = sms_store_next(h->msisdn, h->after);
	char *body = NULL;
	size_t n = 0;
	FILE *f;

	if (!m && !even_empty)
		return false;
	f = open_memstream(&body, &n);
	if (!f)
		die("out of memory");
	for (; m; m = sms_store_next(h->msisdn, m->id)) {
		char when[24];
		struct tm tm;

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&m->when, &tm));
		fprintf(f, "%lu\t%s\t%s\t", m->id, when, m->from);
		escape_text(f, m->text);
		fputc('\n', f);
	}
	fclose(f);
	answer(h, 200, body);
	free(body);
	return true;
}

static void do_inbox(struct handset *h, const struct params *p)
{
	const char *msisdn = param(p, "msisdn");
	unsigned long wait;

	if (!msisdn || !*msisdn || strlen(msisdn) >= sizeof(h->msisdn) ||
	    !param_ulong(p, "after", ULONG_MAX, 0, &h->after) || !param_ulong(p, "wait", WAIT_MAX_MS, 0, &wait)) {
		answer(h, 400, "GET /inbox wants msisdn= [after=ID] [wait=MS]\n");
		return;
	}
	snprintf(h->msisdn, sizeof(h->msisdn), "%s", *msisdn == '+' ? msisdn + 1 : msisdn);
	if (inbox_answer(h, wait == 0))
		return;
	h->deadline = now_ns() + (uint64_t)wait * 1000000u;
	h->state = H_WAIT_SMS;
}

static const char help[] =
	"spaza-smsc control interface: a handset on the simulated operator's network\n"
	"POST /ussd   msisdn= session= text= [begin=1] [timeout=MS]   dial (begin=1, text = the code) or answer\n"
	"POST /sms    msisdn= to= text=                                send an SMS to the short code\n"
	"GET  /inbox  msisdn= [after=ID] [wait=MS]                     the SMS delivered to msisdn\n"
	"GET  /status                                                  is an ESME (Kannel) bound?\n";

/* A whole request is in h->req: the head, and the body when Content-Length says there is one. */
static void dispatch(struct handset *h, char *path, bool post, char *body)
{
	struct params p = { .n = 0 };
	char *query = strchr(path, '?');

	if (query) {
		*query++ = '\0';
		params_parse(&p, query);
	}
	if (body)
		params_parse(&p, body);
	if (!strcmp(path, "/"))
		answer(h, 200, help);
	else if (!strcmp(path, "/status"))
		answer(h, receiver() ? 200 : 503, receiver() ? "bound\n" : "not bound\n");
	else if (!strcmp(path, "/inbox"))
		do_inbox(h, &p);
	else if (strcmp(path, "/ussd") && strcmp(path, "/sms"))
		answerf(h, 404, "no %s here\n%s", path, help);
	else if (!post)
		answerf(h, 405, "%s wants POST\n", path);
	else if (!strcmp(path, "/ussd"))
		do_ussd(h, &p);
	else
		do_sms(h, &p);
}

static void handset_read(struct handset *h)
{
	ssize_t n = recv(h->fd, h->req + h->req_len, REQUEST_MAX - h->req_len, 0);
	char *end, *cl, *sp, *path;
	size_t head_len, body_len = 0;

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		handset_close(h);	/* gone, also while its answer was held */
		return;
	}
	if (n < 0 || h->state != H_READING)
		return;
	h->req_len += (size_t)n;
	h->req[h->req_len] = '\0';
	end = strstr(h->req, "\r\n\r\n");
	if (!end) {
		if (h->req_len == REQUEST_MAX)
			answer(h, 413, "request too large\n");
		return;
	}
	head_len = (size_t)(end - h->req) + 4;
	end[2] = '\0';	/* the header search stays in the head */
	cl = strcasestr(h->req, "\r\ncontent-length:");
	if (cl) {
		char *e;

		errno = 0;
		body_len = strtoul(cl + 17, &e, 10);
		if (errno || e == cl + 17 || *e != '\r') {
			answer(h, 400, "bad Content-Length\n");
			return;
		}
	}
	end[2] = '\r';
	if (head_len + body_len > REQUEST_MAX) {
		answer(h, 413, "request too large\n");
		return;
	}
	if (h->req_len < head_len + body_len)
		return;	/* the body is not all there yet */
	h->req[head_len + body_len] = '\0';
	sp = strchr(h->req, ' ');
	path = sp ? sp + 1 : NULL;
	if (!path || !(sp = strchr(path, ' ')) || *path != '/') {
		answer(h, 400, "not an HTTP request\n");
		return;
	}
	*sp = '\0';
	dispatch(h, path, !strncmp(h->req, "POST ", 5), body_len ? h->req + head_len : NULL);
}

/* ---- the loop's side ---- */

int control_pollfds(struct pollfd *pfd, int max)
{
	int n = 0;

	if (ctl_fd < 0)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = ctl_fd, .events = POLLIN };
	for (int i = 0; i < HANDSETS && n < max; i++)
		if (handsets[i])
			pfd[n++] = (struct pollfd){ .fd = handsets[i]->fd,
						    .events = handsets[i]->state == H_WRITING ? POLLOUT : POLLIN };
	return n;
}

void control_event(int fd, short revents)
{
	if (fd == ctl_fd) {
		control_accept();
		return;
	}
	for (int i = 0; i < HANDSETS; i++) {
		struct handset *h = handsets[i];

		if (!h || h->fd != fd)
			continue;
		if (h->state == H_WRITING)
			handset_write(h);
		else if (revents & (POLLIN | POLLHUP | POLLERR))
			handset_read(h);
		return;
	}
}

/* A submit_sm came: the handset waiting in that USSD dialogue gets its screen. */
void control_on_submit(const struct submit *s)
{
	const char *to = s->to[0] == '+' ? s->to + 1 : s->to;

	if (s->op < 0 || s->err[0])
		return;
	for (int i = 0; i < HANDSETS; i++) {
		struct handset *h = handsets[i];

		if (h && h->state == H_WAIT_USSD && h->session == s->session && !strcmp(h->msisdn, to)) {
			answerf(h, 200, "%s %s", s->op == 2 ? "CON" : "END", s->text);
			return;
		}
	}
}

/* An SMS was stored: the inboxes waiting for one look again. */
void control_on_sms(void)
{
	for (int i = 0; i < HANDSETS; i++)
		if (handsets[i] && handsets[i]->state == H_WAIT_SMS)
			inbox_answer(handsets[i], false);
}

uint64_t control_deadline(void)
{
	uint64_t d = UINT64_MAX;

	for (int i = 0; i < HANDSETS; i++)
		if (handsets[i] && handsets[i]->deadline < d)
			d = handsets[i]->deadline;
	return d;
}

void control_tick(uint64_t now)
{
	for (int i = 0; i < HANDSETS; i++) {
		struct handset *h = handsets[i];

		if (!h || now < h->deadline)
			continue;
		if (h->state == H_WAIT_USSD)
			answer(h, 504, "no screen came back in time\n");
		else if (h->state == H_WAIT_SMS)
			inbox_answer(h, true);
		else
			handset_close(h);	/* a request or an answer stuck half-way */
	}
}

void control_close_all(void)
{
	for (int i = 0; i < HANDSETS; i++)
		if (handsets[i])
			handset_close(handsets[i]);
	if (ctl_fd >= 0)
		close(ctl_fd);
}
