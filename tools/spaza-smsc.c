/*
 * spaza-smsc: an SMPP 3.4 SMSC simulator, "an operator in a box" (doc/kannel.md).
 *
 * Kannel's bearerbox (or any ESME) binds to it over TCP. It injects what an operator's USSD and SMS
 * centres would send -- USSD dialogues as deliver_sm with the ussd_service_op and its_session_info TLVs,
 * plain SMS MOs, delivery receipts -- and answers every submit_sm with a submit_sm_resp carrying a
 * message id. Three ways to drive it:
 *   --script FILE   a dialogue script (wait-bind, ussd-begin, expect-submit, ...); exit 0 when every
 *                   expectation held, 1 with expected-vs-got on the first that did not;
 *   -i              the same commands read from stdin, every PDU printed; serves on after stdin ends;
 *   --load N        N USSD begin -> reply round trips, C at a time, reported as round trips/s and
 *                   latency percentiles. SIGUSR1 winds the load down: no new round trip starts,
 *                   the figures are printed once the ones in flight ended, and the SMSC serves on
 *                   (binds, pushes, receipts) until SIGTERM.
 *
 * PDUs are packed and unpacked by libsmpp34 (Osmocom). The socket side is ours: one thread, one
 * poll() loop, non-blocking sockets with TCP_NODELAY, a read buffer that frames PDUs by their
 * command_length and a write buffer drained on POLLOUT. The script runner is a small state machine
 * stepped by the loop: a step either completes at once or leaves a wait (for a bind, a submit_sm,
 * an unbind, a timer) that later events resolve, so scripts never sleep to wait for something.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <smpp34.h>
#include <smpp34_heap.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>

#include "gsm7.h"

#define MAX_CONNS	16
#define PDU_MAX		65536	/* a bigger command_length is a framing error */
#define PACK_MAX	4096
#define SM_MAX		253	/* libsmpp34 packs short_message of at most 253 octets */
#define MAX_WORDS	32
#define MSGID_RING	4096	/* issued message ids remembered for dlr */
#define DEFAULT_TIMEOUT_MS 10000

/* ------------------------------------------------------------------------------------------ */
/* Small helpers */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("spaza-smsc: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		die("out of memory");
	return d;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 0);
	return !errno && !*end && *out <= max;
}

/* Print text between double quotes with what a terminal would mangle escaped, UTF-8 left alone. */
static void put_quoted(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* libsmpp34's allocations, kept on a list. When smpp34_unpack() fails half-way through the TLVs it
 * returns without linking the TLV it was filling, and nobody could free it; we can: smpp_heap_reset()
 * after a failed unpack frees whatever the library still holds (nothing else is live at that point,
 * as every unpacked PDU's TLV list is destroyed right after use). */
struct smpp_block {
	struct smpp_block *prev, *next;
	size_t size;
	max_align_t data[];
};

static struct smpp_block smpp_heap = { &smpp_heap, &smpp_heap, 0 };

static void *smpp_heap_alloc(size_t n)
{
	struct smpp_block *b = malloc(sizeof(*b) + n);

	if (!b)
		die("out of memory");
	b->size = n;
	b->next = smpp_heap.next;
	b->prev = &smpp_heap;
	smpp_heap.next->prev = b;
	smpp_heap.next = b;
	return b->data;
}

static void smpp_heap_free(void *p)
{
	struct smpp_block *b;

	if (!p)
		return;
	b = (struct smpp_block *)((char *)p - offsetof(struct smpp_block, data));
	b->prev->next = b->next;	/* NOLINT(clang-analyzer-unix.Malloc): b is still on the list; the analyzer loses track of the ring */
	b->next->prev = b->prev;
	free(b);
}

static void *smpp_heap_realloc(void *p, size_t n)
{
	void *q = smpp_heap_alloc(n);

	if (p) {
		struct smpp_block *b = (struct smpp_block *)((char *)p - offsetof(struct smpp_block, data));

		memcpy(q, p, b->size < n ? b->size : n);
		smpp_heap_free(p);
	}
	return q;
}

static void smpp_heap_reset(void)
{
	while (smpp_heap.next != &smpp_heap)
		smpp_heap_free(smpp_heap.next->data);
}

/* The reason at the end of libsmpp34's field-by-field trace: "[field:value(reason)]". */
static const char *smpp_error(void)
{
	const char *p = smpp34_strerror + strlen(smpp34_strerror);
	int brackets = 0;

	while (p > smpp34_strerror && brackets < 2)
		if (*--p == '[')
			brackets++;
	return p;
}

/* ------------------------------------------------------------------------------------------ */
/* Options and global state */

enum mode { MODE_SCRIPT, MODE_INTERACTIVE, MODE_LOAD };

static struct {
	const char *host, *system_id, *password, *script, *code;
	unsigned port;
	enum mode mode;
	int verbosity;		/* 0 results only, 1 requests we get and send, 2 every PDU */
	unsigned timeout_ms;	/* default for waits and expectations */
	unsigned long load_n, load_c;
	bool load_sms;
	unsigned long long msisdn_base;
	int auto_dlr;		/* 0 off, else the message_state to report for every registered submit */
} opt = {
	.host = "127.0.0.1", .code = "*120*777#", .verbosity = 1, .timeout_ms = DEFAULT_TIMEOUT_MS,
	.load_c = 10, .msisdn_base = 27830000000ull,
};

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t wind_down_signal;	/* --load: SIGUSR1 */

/* ------------------------------------------------------------------------------------------ */
/* Connections: framing, buffered writes, bind state */

enum { CAN_SUBMIT = 1, CAN_RECEIVE = 2 };	/* what a bind allows the ESME: tx, rx, or both */

struct conn {
	int fd;
	unsigned id;
	unsigned bound;		/* CAN_* bits, 0 until bound */
	char system_id[16];
	uint32_t next_seq;
	uint8_t *rbuf;
	size_t rlen, rcap;
	uint8_t *wbuf;
	size_t woff, wlen, wcap;
	bool close_when_flushed;
};

static struct conn *conns[MAX_CONNS];
static int listen_fd = -1;
static unsigned conn_counter;

static const char *cmd_name(uint32_t id)
{
	switch (id) {
	case GENERIC_NACK: return "generic_nack";
	case BIND_RECEIVER: return "bind_receiver";
	case BIND_RECEIVER_RESP: return "bind_receiver_resp";
	case BIND_TRANSMITTER: return "bind_transmitter";
	case BIND_TRANSMITTER_RESP: return "bind_transmitter_resp";
	case BIND_TRANSCEIVER: return "bind_transceiver";
	case BIND_TRANSCEIVER_RESP: return "bind_transceiver_resp";
	case SUBMIT_SM: return "submit_sm";
	case SUBMIT_SM_RESP: return "submit_sm_resp";
	case DELIVER_SM: return "deliver_sm";
	case DELIVER_SM_RESP: return "deliver_sm_resp";
	case UNBIND: return "unbind";
	case UNBIND_RESP: return "unbind_resp";
	case ENQUIRE_LINK: return "enquire_link";
	case ENQUIRE_LINK_RESP: return "enquire_link_resp";
	case DATA_SM: return "data_sm";
	case QUERY_SM: return "query_sm";
	default: return "unknown";
	}
}

/* Handlers may close a connection (a failed write, a script's "drop"): callers holding a pointer ask
 * here before using it again. The id tells a reused address from the connection they meant. */
static bool conn_alive(const struct conn *c, unsigned id)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i] == c && c->id == id)
			return true;
	return false;
}

static void load_on_unbind(void);
static void load_on_deliver_resp(uint32_t seq, uint32_t status);

static void conn_close(struct conn *c, const char *why)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i] == c)
			conns[i] = NULL;
	if (c->bound)
		load_on_unbind();
	if (opt.verbosity >= 1)
		printf("-- connection %u closed (%s)%s%s\n", c->id, why, c->bound ? ", was bound as " : "",
		       c->bound ? c->system_id : "");
	close(c->fd);
	free(c->rbuf);
	free(c->wbuf);
	free(c);
}

static void conn_flush(struct conn *c)
{
	while (c->woff < c->wlen) {
		ssize_t n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			conn_close(c, strerror(errno));
			return;
		}
		c->woff += (size_t)n;
	}
	c->woff = c->wlen = 0;
	if (c->close_when_flushed)
		conn_close(c, "unbound");
}

static void conn_write(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->wlen + n > c->wcap) {
		c->wcap = (c->wlen + n) * 2;
		c->wbuf = xrealloc(c->wbuf, c->wcap);
	}
	memcpy(c->wbuf + c->wlen, p, n);
	c->wlen += n;
}

/* Pack a PDU whose header fields (command_id, status, sequence) are set, queue it and try to send it.
 * The caller flushes; the loop finishes what a full socket left over. */
static int conn_send_pdu(struct conn *c, void *pdu)
{
	uint8_t buf[PACK_MAX];
	int len = 0;
	uint32_t id;

	memcpy(&id, (uint8_t *)pdu + 4, sizeof(id));
	if (smpp34_pack2(buf, sizeof(buf), &len, pdu) != 0) {
		fprintf(stderr, "spaza-smsc: cannot pack %s: %s\n", cmd_name(id), smpp34_strerror);
		return -1;
	}
	conn_write(c, buf, (size_t)len);
	return 0;
}

static void send_header_only(struct conn *c, uint32_t id, uint32_t status, uint32_t seq)
{
	generic_nack_t p;

	memset(&p, 0, sizeof(p));
	p.command_id = id;
	p.command_status = status;
	p.sequence_number = seq;
	conn_send_pdu(c, &p);
	if (opt.verbosity >= 2)
		printf(">> %s conn=%u seq=%u status=0x%08x\n", cmd_name(id), c->id, seq, status);
}

/* The ESME that gets our deliver_sm: the most recently bound one that may receive. */
static struct conn *receiver(void)
{
	struct conn *best = NULL;

	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i] && (conns[i]->bound & CAN_RECEIVE) && !conns[i]->close_when_flushed &&
		    (!best || conns[i]->id > best->id))
			best = conns[i];
	return best;
}

static bool any_bound(void)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i] && conns[i]->bound && !conns[i]->close_when_flushed)
			return true;
	return false;
}

/* ------------------------------------------------------------------------------------------ */
/* Text: what Kannel sends (data_coding 0 = unpacked GSM-7, 8 = UCS-2 BE) into UTF-8, and back */

static size_t utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static char *hex_string(const uint8_t *p, size_t n)
{
	char *s = xrealloc(NULL, 2 * n + 1);

	for (size_t i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02x", p[i]);
	s[2 * n] = '\0';
	return s;
}

/* Decode a short message for display and matching. Returns a malloc'd NUL-terminated UTF-8 string;
 * binary codings come back as hex. */
static char *decode_text(unsigned dc, const uint8_t *p, size_t n)
{
	char *out = xrealloc(NULL, 4 * n + 1);
	size_t o = 0;

	if ((dc & 0xF0) == 0xF0)	/* message class group: bit 2 says 8-bit data, else GSM-7 */
		dc = (dc & 0x04) ? 4 : 0;
	switch (dc) {
	case 0:
		if (gsm7_decode(p, n, out, 4 * n + 1) >= 0)
			return out;
		/* not GSM-7 after all (an octet > 0x7F): show it as Latin-1 */
		/* fall through */
	case 1:
	case 3:
		for (size_t i = 0; i < n; i++)
			o += utf8_put(out + o, p[i]);
		out[o] = '\0';
		return out;
	case 8:
		for (size_t i = 0; i + 1 < n; i += 2) {
			uint32_t u = (uint32_t)p[i] << 8 | p[i + 1];

			if (u >= 0xD800 && u < 0xDC00 && i + 3 < n) {
				uint32_t lo = (uint32_t)p[i + 2] << 8 | p[i + 3];

				if (lo >= 0xDC00 && lo < 0xE000) {
					u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
					i += 2;
				}
			}
			o += utf8_put(out + o, u);
		}
		out[o] = '\0';
		return out;
	default:
		free(out);
		return hex_string(p, n);
	}
}

/* UTF-8 text into a short message: GSM-7 (data_coding 0) when every character has a septet, else
 * UCS-2 (data_coding 8), or UCS-2 when force_ucs2. Returns the length or -1 when it does not fit. */
static int encode_text(const char *text, bool force_ucs2, uint8_t *out, uint8_t *dc)
{
	int n = -1;

	if (!force_ucs2)
		n = gsm7_encode(text, strlen(text), out, SM_MAX);
	if (n >= 0) {
		*dc = 0;
		return n;
	}
	n = gsm7_to_ucs2be(text, strlen(text), out, SM_MAX);
	*dc = 8;
	return n < 0 ? -1 : n;
}

/* ------------------------------------------------------------------------------------------ */
/* What the ESME sent us: decoded submit_sm, kept in arrival order for the expectations */

struct submit {
	unsigned conn_id;
	uint32_t seq;
	char service_type[8], from[24], to[24];
	int op;			/* ussd_service_op, -1 when absent */
	long session;		/* its_session_info, -1 when absent */
	unsigned dc, esm, regdel;
	char *text;
	char msg_id[24];	/* what we answered ("" when we refused it) */
	char err[200];		/* why it could not be unpacked, "" when it could */
};

static struct {
	struct submit *q;
	size_t head, tail, cap;
} inbox;

static unsigned long submits_total;

static void submit_free(struct submit *s)
{
	free(s->text);
	s->text = NULL;
}

static void inbox_push(const struct submit *s)
{
	if (inbox.tail == inbox.cap) {
		if (inbox.head > 0) {
			memmove(inbox.q, inbox.q + inbox.head, (inbox.tail - inbox.head) * sizeof(*inbox.q));
			inbox.tail -= inbox.head;
			inbox.head = 0;
		} else {
			inbox.cap = inbox.cap ? 2 * inbox.cap : 16;
			inbox.q = xrealloc(inbox.q, inbox.cap * sizeof(*inbox.q));
		}
	}
	inbox.q[inbox.tail++] = *s;
}

static void print_submit(FILE *f, const struct submit *s)
{
	if (s->err[0]) {
		fprintf(f, "submit_sm seq=%u that libsmpp34 could not unpack: %s", s->seq, s->err);
		return;
	}
	fprintf(f, "submit_sm seq=%u from=%s to=%s", s->seq, s->from, s->to);
	if (s->service_type[0])
		fprintf(f, " service_type=%s", s->service_type);
	fprintf(f, " data_coding=%u", s->dc);
	if (s->esm)
		fprintf(f, " esm_class=0x%02x", s->esm);
	if (s->regdel)
		fprintf(f, " registered_delivery=%u", s->regdel);
	if (s->op >= 0)
		fprintf(f, " ussd_service_op=%d", s->op);
	if (s->session >= 0)
		fprintf(f, " its_session_info=%ld", s->session);
	fputs(" text=", f);
	put_quoted(f, s->text, strlen(s->text));
}

/* Issued message ids, so that "dlr ID ..." knows whom the receipt is from and to. */
static struct issued {
	uint32_t id;
	char from[24], to[24];
	time_t when;
	char text[24];
} issued[MSGID_RING];
static uint32_t next_msg_id = 1;
static uint32_t submit_status;	/* command_status for the next submit_sm_resp ("submit-status") */

static const struct issued *issued_find(uint32_t id)
{
	const struct issued *m = &issued[id % MSGID_RING];

	return m->id == id ? m : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Injecting: deliver_sm for USSD, SMS and receipts */

struct mo {
	const char *from, *to, *text, *service_type;
	int op;			/* ussd_service_op, -1 for none */
	long session;		/* its_session_info, -1 for none */
	bool ucs2;
	/* receipts */
	unsigned esm;
	const char *receipted_id;
	int message_state;	/* -1 for none */
};

static void set_addr(const char *addr, uint8_t *ton, uint8_t *npi, uint8_t *dst)
{
	bool digits = *addr != '\0';

	if (*addr == '+')
		addr++;
	for (const char *p = addr; *p; p++)
		if (*p < '0' || *p > '9')
			digits = false;
	/* a long all-digit address is an international MSISDN; short codes and service codes are not */
	if (digits && strlen(addr) >= 7) {
		*ton = TON_International;
		*npi = NPI_ISDN_E163_E164;
	} else {
		*ton = TON_Unknown;
		*npi = digits ? NPI_ISDN_E163_E164 : NPI_Unknown;
	}
	snprintf((char *)dst, ADDRESS_LENGTH, "%s", addr);
}

/* Returns 0, or -1 with the reason printed. */
static int mo_send(const struct mo *m)
{
	struct conn *c = receiver();
	deliver_sm_t d;
	tlv_t t_op, t_sess, t_rid, t_state;
	tlv_t *chain = NULL;
	uint8_t dc = 0;
	int n;

	if (!c) {
		fprintf(stderr, "spaza-smsc: no ESME is bound as receiver or transceiver\n");
		return -1;
	}
	if (strlen(m->from) >= ADDRESS_LENGTH || strlen(m->to) >= ADDRESS_LENGTH) {
		fprintf(stderr, "spaza-smsc: addresses are at most %d characters\n", ADDRESS_LENGTH - 1);
		return -1;
	}
	memset(&d, 0, sizeof(d));
	d.command_id = DELIVER_SM;
	d.sequence_number = c->next_seq++;
	snprintf((char *)d.service_type, sizeof(d.service_type), "%s", m->service_type ? m->service_type : "");
	set_addr(m->from, &d.source_addr_ton, &d.source_addr_npi, d.source_addr);
	set_addr(m->to, &d.dest_addr_ton, &d.dest_addr_npi, d.destination_addr);
	d.esm_class = (uint8_t)m->esm;
	n = encode_text(m->text, m->ucs2, d.short_message, &dc);
	if (n < 0) {
		fprintf(stderr, "spaza-smsc: text does not fit one short message (%d octets)\n", SM_MAX);
		return -1;
	}
	d.sm_length = (uint8_t)n;
	d.data_coding = dc;
	/* libsmpp34 packs the TLV list as linked; value sizes as the spec gives them */
	if (m->op >= 0) {
		memset(&t_op, 0, sizeof(t_op));
		t_op.tag = TLVID_ussd_service_op;
		t_op.length = 1;
		t_op.value.octet[0] = (uint8_t)m->op;
		t_op.next = chain;
		chain = &t_op;
	}
	if (m->session >= 0) {
		memset(&t_sess, 0, sizeof(t_sess));
		t_sess.tag = TLVID_its_session_info;
		t_sess.length = 2;
		t_sess.value.val16 = (uint16_t)m->session;
		t_sess.next = chain;
		chain = &t_sess;
	}
	if (m->receipted_id) {
		memset(&t_rid, 0, sizeof(t_rid));
		t_rid.tag = TLVID_receipted_message_id;
		t_rid.length = (uint16_t)(strlen(m->receipted_id) + 1);	/* a C-Octet String */
		memcpy(t_rid.value.octet, m->receipted_id, t_rid.length);
		t_rid.next = chain;
		chain = &t_rid;
	}
	if (m->message_state >= 0) {
		memset(&t_state, 0, sizeof(t_state));
		t_state.tag = TLVID_message_state;
		t_state.length = 1;
		t_state.value.val08 = (uint8_t)m->message_state;
		t_state.next = chain;
		chain = &t_state;
	}
	d.tlv = chain;
	if (conn_send_pdu(c, &d) != 0)
		return -1;
	if (opt.verbosity >= 1) {
		printf(">> deliver_sm conn=%u seq=%u from=%s to=%s", c->id, d.sequence_number, m->from, m->to);
		if (m->service_type && *m->service_type)
			printf(" service_type=%s", m->service_type);
		if (m->esm)
			printf(" esm_class=0x%02x", m->esm);
		printf(" data_coding=%u", dc);
		if (m->op >= 0)
			printf(" ussd_service_op=%d", m->op);
		if (m->session >= 0)
			printf(" its_session_info=%ld", m->session);
		if (m->receipted_id)
			printf(" receipted_message_id=%s message_state=%d", m->receipted_id, m->message_state);
		fputs(" text=", stdout);
		put_quoted(stdout, m->text, strlen(m->text));
		putchar('\n');
	}
	conn_flush(c);
	return 0;
}

static const struct {
	const char *name, *stat;
	int state;
} dlr_states[] = {
	{ "enroute", "ENROUTE", 1 }, { "delivered", "DELIVRD", 2 }, { "expired", "EXPIRED", 3 },
	{ "deleted", "DELETED", 4 }, { "failed", "UNDELIV", 5 }, { "undeliverable", "UNDELIV", 5 },
	{ "accepted", "ACCEPTD", 6 }, { "unknown", "UNKNOWN", 7 }, { "rejected", "REJECTD", 8 },
};

static int dlr_state_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(dlr_states) / sizeof(dlr_states[0]); i++)
		if (!strcmp(dlr_states[i].name, name))
			return (int)i;
	return -1;
}

/* A delivery receipt as SMSCs send them: esm_class 0x04, the SMPP 3.4 TLVs (which Kannel reads first)
 * and the customary "id:... stat:..." text (which older ESMEs parse). */
static int dlr_send(const struct issued *m, int st)
{
	char id[16], text[200], sub[16], done[16];
	time_t now = time(NULL);
	struct tm tm;
	struct mo r = { .from = m->to, .to = m->from, .esm = SMPP34_DELIVERY_RECEIPT, .op = -1, .session = -1,
			.message_state = dlr_states[st].state };

	snprintf(id, sizeof(id), "%" PRIu32, m->id);
	strftime(sub, sizeof(sub), "%y%m%d%H%M", localtime_r(&m->when, &tm));
	strftime(done, sizeof(done), "%y%m%d%H%M", localtime_r(&now, &tm));
	snprintf(text, sizeof(text), "id:%s sub:001 dlvrd:%s submit date:%s done date:%s stat:%s err:%s text:%.20s",
		 id, dlr_states[st].state == 2 ? "001" : "000", sub, done, dlr_states[st].stat,
		 dlr_states[st].state == 2 ? "000" : "001", m->text);
	r.text = text;
	r.receipted_id = id;
	return mo_send(&r);
}

/* ------------------------------------------------------------------------------------------ */
/* Handling what the ESME sends */

static void load_on_submit(const struct submit *s);
static void runner_poke(void);

static bool check_credentials(const char *sys, const char *pw, uint32_t *status)
{
	if (opt.system_id && strcmp(opt.system_id, sys)) {
		*status = ESME_RINVSYSID;
		return false;
	}
	if (opt.password && strcmp(opt.password, pw)) {
		*status = ESME_RINVPASWD;
		return false;
	}
	*status = ESME_ROK;
	return true;
}

static void on_bind(struct conn *c, uint32_t id, const uint8_t *pdu, size_t len, uint32_t seq)
{
	/* the three binds share their body layout; unpack with the matching type */
	bind_transceiver_t b;
	bind_transceiver_resp_t r;
	uint32_t status;
	unsigned can = id == BIND_TRANSCEIVER ? CAN_SUBMIT | CAN_RECEIVE :
		       id == BIND_TRANSMITTER ? CAN_SUBMIT : CAN_RECEIVE;

	memset(&b, 0, sizeof(b));
	if (smpp34_unpack(id, &b, pdu, (int)len) != 0) {
		printf("<< %s conn=%u seq=%u that libsmpp34 could not unpack: %s\n", cmd_name(id), c->id, seq,
		       smpp_error());
		status = ESME_RBINDFAIL;
	} else if (c->bound) {
		status = ESME_RALYBND;
	} else if (check_credentials((char *)b.system_id, (char *)b.password, &status)) {
		c->bound = can;
		snprintf(c->system_id, sizeof(c->system_id), "%s", (char *)b.system_id);
	}
	if (opt.verbosity >= 1)
		printf("<< %s conn=%u seq=%u system_id=%s system_type=%s -> %s\n", cmd_name(id), c->id, seq,
		       (char *)b.system_id, (char *)b.system_type, status == ESME_ROK ? "bound" : "refused");
	memset(&r, 0, sizeof(r));
	r.command_id = id | 0x80000000u;
	r.command_status = status;
	r.sequence_number = seq;
	snprintf((char *)r.system_id, sizeof(r.system_id), "spaza-smsc");
	conn_send_pdu(c, &r);
	if (status != ESME_ROK && !c->bound)
		c->close_when_flushed = true;
	conn_flush(c);	/* answers go out before the script reacts (it may drop the connection) */
	runner_poke();
}

static void on_submit(struct conn *c, const uint8_t *pdu, size_t len, uint32_t seq)
{
	submit_sm_t *p = calloc(1, sizeof(*p));	/* big: keep it off the stack */
	submit_sm_resp_t r;
	struct submit s;
	const uint8_t *sm;
	size_t sm_len;

	if (!p)
		die("out of memory");
	memset(&s, 0, sizeof(s));
	s.conn_id = c->id;
	s.seq = seq;
	s.op = -1;
	s.session = -1;
	memset(&r, 0, sizeof(r));
	r.command_id = SUBMIT_SM_RESP;
	r.sequence_number = seq;
	if (!(c->bound & CAN_SUBMIT)) {
		r.command_status = ESME_RINVBNDSTS;
		snprintf(s.err, sizeof(s.err), "sent before a transmitter bind");
	} else if (smpp34_unpack(SUBMIT_SM, p, pdu, (int)len) != 0) {
		r.command_status = ESME_RINVOPTPARSTREAM;
		snprintf(s.err, sizeof(s.err), "%.190s", smpp_error());
		destroy_tlv(p->tlv);
		p->tlv = NULL;
		smpp_heap_reset();
	} else {
		snprintf(s.service_type, sizeof(s.service_type), "%s", (char *)p->service_type);
		snprintf(s.from, sizeof(s.from), "%s", (char *)p->source_addr);
		snprintf(s.to, sizeof(s.to), "%s", (char *)p->destination_addr);
		s.dc = p->data_coding;
		s.esm = p->esm_class;
		s.regdel = p->registered_delivery;
		sm = p->short_message;
		sm_len = p->sm_length;
		for (tlv_t *t = p->tlv; t; t = t->next) {
			if (t->tag == TLVID_ussd_service_op && t->length >= 1)
				s.op = t->value.octet[0];
			else if (t->tag == TLVID_its_session_info)
				s.session = t->value.val16;
			else if (t->tag == TLVID_message_payload && sm_len == 0) {
				sm = t->value.octet;
				sm_len = t->length;
			}
		}
		if ((s.esm & SMPP34_UDHI_IND) && sm_len > 0 && (size_t)sm[0] + 1 <= sm_len) {
			sm_len -= (size_t)sm[0] + 1;
			sm += (size_t)sm[0] + 1;
		}
		s.text = decode_text(s.dc, sm, sm_len);
		r.command_status = submit_status;
	}
	destroy_tlv(p->tlv);
	free(p);
	if (!s.text)
		s.text = xstrdup("");
	if (r.command_status == ESME_ROK) {
		struct issued *m = &issued[next_msg_id % MSGID_RING];

		m->id = next_msg_id++;
		snprintf(m->from, sizeof(m->from), "%s", s.from);
		snprintf(m->to, sizeof(m->to), "%s", s.to);
		snprintf(m->text, sizeof(m->text), "%s", s.text);
		m->when = time(NULL);
		snprintf(s.msg_id, sizeof(s.msg_id), "%" PRIu32, m->id);
		snprintf((char *)r.message_id, sizeof(r.message_id), "%s", s.msg_id);
	}
	conn_send_pdu(c, &r);
	submits_total++;
	if (opt.verbosity >= 1) {
		printf("<< ");
		print_submit(stdout, &s);
		if (r.command_status == ESME_ROK)
			printf(" -> message_id=%s\n", s.msg_id);
		else
			printf(" -> status=0x%08x\n", r.command_status);
	}
	if (opt.auto_dlr && s.regdel && r.command_status == ESME_ROK)
		dlr_send(issued_find(next_msg_id - 1), opt.auto_dlr - 1);
	if (opt.mode == MODE_LOAD) {
		load_on_submit(&s);
		submit_free(&s);
		return;
	}
	inbox_push(&s);
	conn_flush(c);
	runner_poke();
}

/* One whole PDU (command_length octets, followed by a NUL that libsmpp34's C-string reads may run into). */
static void on_pdu(struct conn *c, const uint8_t *pdu, size_t len)
{
	uint32_t id = (uint32_t)pdu[4] << 24 | (uint32_t)pdu[5] << 16 | (uint32_t)pdu[6] << 8 | pdu[7];
	uint32_t status = (uint32_t)pdu[8] << 24 | (uint32_t)pdu[9] << 16 | (uint32_t)pdu[10] << 8 | pdu[11];
	uint32_t seq = (uint32_t)pdu[12] << 24 | (uint32_t)pdu[13] << 16 | (uint32_t)pdu[14] << 8 | pdu[15];
	generic_nack_t h;	/* header-only PDUs */

	switch (id) {
	case BIND_TRANSCEIVER:
	case BIND_TRANSMITTER:
	case BIND_RECEIVER:
		on_bind(c, id, pdu, len, seq);
		return;
	case SUBMIT_SM:
		on_submit(c, pdu, len, seq);
		return;
	case ENQUIRE_LINK:
	case UNBIND:
	case ENQUIRE_LINK_RESP:
	case UNBIND_RESP:
	case GENERIC_NACK:
	case DELIVER_SM_RESP:
		memset(&h, 0, sizeof(h));
		if (id != DELIVER_SM_RESP && smpp34_unpack(id, &h, pdu, (int)len) != 0) {
			printf("<< %s conn=%u seq=%u that libsmpp34 could not unpack: %s\n", cmd_name(id), c->id,
			       seq, smpp_error());
			if (!(id & 0x80000000u))
				send_header_only(c, GENERIC_NACK, ESME_RINVCMDLEN, seq);
			return;
		}
		break;
	default:
		printf("<< %s (0x%08x) conn=%u seq=%u: not supported, answered with generic_nack\n", cmd_name(id), id,
		       c->id, seq);
		send_header_only(c, GENERIC_NACK, ESME_RINVCMDID, seq);
		return;
	}
	if (opt.verbosity >= 2 || (opt.verbosity >= 1 && (id == UNBIND || id == GENERIC_NACK || status)))
		printf("<< %s conn=%u seq=%u status=0x%08x\n", cmd_name(id), c->id, seq, status);
	if (id == DELIVER_SM_RESP)
		load_on_deliver_resp(seq, status);
	if (id == ENQUIRE_LINK)
		send_header_only(c, ENQUIRE_LINK_RESP, ESME_ROK, seq);
	else if (id == UNBIND) {
		send_header_only(c, UNBIND_RESP, ESME_ROK, seq);
		c->bound = 0;
		load_on_unbind();
		c->close_when_flushed = true;
		conn_flush(c);
		runner_poke();
	} else if (id == UNBIND_RESP) {
		c->bound = 0;
		load_on_unbind();
		c->close_when_flushed = true;
		runner_poke();
	}
}

static void conn_read(struct conn *c)
{
	bool eof = false;

	for (;;) {
		ssize_t n;

		if (c->rcap - c->rlen < 4096) {
			c->rcap = c->rcap ? 2 * c->rcap : 16384;
			c->rbuf = xrealloc(c->rbuf, c->rcap);
		}
		n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen - 1, 0);
		if (n == 0) {
			eof = true;	/* handle what came before the close (an unbind, say) first */
			break;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			conn_close(c, strerror(errno));
			return;
		}
		c->rlen += (size_t)n;
		if ((size_t)n < c->rcap - c->rlen)
			break;
	}
	/* ACK at once: Kannel leaves Nagle on, so a delayed ACK from us would hold its next PDU ~40 ms */
	int one = 1;

	setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	size_t off = 0;
	unsigned id = c->id;

	while (c->rlen - off >= 16) {
		uint8_t *p = c->rbuf + off;
		uint32_t len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		uint8_t save;

		if (len < 16 || len > PDU_MAX) {
			printf("-- connection %u: command_length %u is not a PDU, closing\n", c->id, len);
			conn_close(c, "framing error");
			return;
		}
		if (c->rlen - off < len) {
			if (c->rcap < off + len + 1) {
				c->rcap = off + len + 1;
				c->rbuf = xrealloc(c->rbuf, c->rcap);
			}
			break;
		}
		/* the byte after the PDU is the next PDU's or free space: make it a NUL for the unpacker */
		save = p[len];
		p[len] = 0;
		on_pdu(c, p, len);
		if (!conn_alive(c, id))
			return;
		p[len] = save;
		off += len;
	}
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
	if (eof) {
		conn_close(c, "peer closed");
		return;
	}
	conn_flush(c);
}

static void accept_conns(void)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1, slot = -1;
		struct conn *c;

		if (fd < 0)
			return;
		for (int i = 0; i < MAX_CONNS; i++)
			if (!conns[i]) {
				slot = i;
				break;
			}
		if (slot < 0) {
			close(fd);
			fprintf(stderr, "spaza-smsc: more than %d connections, refusing one\n", MAX_CONNS);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = xrealloc(NULL, sizeof(*c));
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->id = ++conn_counter;
		c->next_seq = 1;
		conns[slot] = c;
		if (opt.verbosity >= 1)
			printf("-- connection %u accepted\n", c->id);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Script lines: words, key=value modifiers */

/* Split a line into words in place: blanks separate, double quotes group (and go), and backslash
 * escapes (\n \r \t \\ \" \xHH) work everywhere. Returns the count, or -1 for an unterminated quote. */
static int split_words(char *s, char **words, int max)
{
	int n = 0;
	char *w = s;

	for (;;) {
		bool quoted = false;
		char *start;

		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (!*s)
			return n;
		if (n == max)
			return -1;
		start = w;
		while (*s && (quoted || (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n'))) {
			if (*s == '"') {
				quoted = !quoted;
				s++;
			} else if (*s == '\\' && s[1]) {
				s++;
				switch (*s) {
				case 'n': *w++ = '\n'; s++; break;
				case 'r': *w++ = '\r'; s++; break;
				case 't': *w++ = '\t'; s++; break;
				case 'x': {
					unsigned v;

					if (sscanf(s + 1, "%2x", &v) == 1 && s[1] && s[2]) {
						*w++ = (char)v;
						s += 3;
					} else {
						*w++ = *s++;
					}
					break;
				}
				default: *w++ = *s++; break;
				}
			} else {
				*w++ = *s++;
			}
		}
		if (quoted)
			return -1;
		if (*s)
			s++;
		*w++ = '\0';
		words[n++] = start;
	}
}

/* The value of "key=..." among words[from..], NULL when absent. */
static const char *word_opt(int argc, char **argv, int from, const char *key)
{
	size_t kl = strlen(key);

	for (int i = from; i < argc; i++)
		if (!strncmp(argv[i], key, kl) && argv[i][kl] == '=')
			return argv[i] + kl + 1;
	return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Expectations on the next submit_sm */

struct expect {
	bool sms;		/* expect-submit-sms: must carry no ussd_service_op */
	long op, session;	/* -2 any */
	long dc, regdel;	/* -1 any */
	const char *to, *from, *service_type, *text;
	bool text_re;
	regex_t re;
	const char *cmd;	/* the command, for the report */
	char desc[600];
};

static bool addr_eq(const char *want, const char *got)
{
	/* Kannel writes international numbers with and without '+' depending on its config */
	if (*want == '+')
		want++;
	if (*got == '+')
		got++;
	return !strcmp(want, got);
}

/* Parse "key=value..." into e. Returns NULL or an error message. */
static const char *expect_parse(struct expect *e, int argc, char **argv, bool sms, unsigned *timeout_ms)
{
	static char err[200];
	unsigned long v;
	size_t dl = 0;
	char *k = NULL, *val = NULL;

	memset(e, 0, sizeof(*e));
	e->cmd = argv[0];
	e->sms = sms;
	e->op = e->session = -2;
	e->dc = e->regdel = -1;
	for (int i = 1; i < argc; i++) {
		k = argv[i];
		val = strchr(k, '=');

		if (!val) {
			snprintf(err, sizeof(err), "'%s' is not key=value", k);
			return err;
		}
		*val++ = '\0';
		if (!strcmp(k, "ussd_service_op") || !strcmp(k, "op")) {
			if (!strcmp(val, "none"))
				e->op = -1;
			else if (parse_ulong(val, 255, &v))
				e->op = (long)v;
			else
				goto bad;
		} else if (!strcmp(k, "its_session_info") || !strcmp(k, "session")) {
			if (!strcmp(val, "none"))
				e->session = -1;
			else if (parse_ulong(val, 65535, &v))
				e->session = (long)v;
			else
				goto bad;
		} else if (!strcmp(k, "data_coding")) {
			if (!parse_ulong(val, 255, &v))
				goto bad;
			e->dc = (long)v;
		} else if (!strcmp(k, "registered_delivery")) {
			if (!parse_ulong(val, 255, &v))
				goto bad;
			e->regdel = (long)v;
		} else if (!strcmp(k, "to")) {
			e->to = val;
		} else if (!strcmp(k, "from")) {
			e->from = val;
		} else if (!strcmp(k, "service_type")) {
			e->service_type = val;
		} else if (!strcmp(k, "timeout")) {
			if (!parse_ulong(val, 3600000, &v))
				goto bad;
			*timeout_ms = (unsigned)v;
		} else if (!strcmp(k, "text")) {
			size_t n = strlen(val);

			e->text = val;
			if (n >= 2 && val[0] == '/' && val[n - 1] == '/') {
				int rc;

				val[n - 1] = '\0';
				rc = regcomp(&e->re, val + 1, REG_EXTENDED | REG_NOSUB);
				if (rc) {
					regerror(rc, &e->re, err, sizeof(err));
					return err;
				}
				e->text_re = true;
				e->text = val + 1;
			}
		} else {
			snprintf(err, sizeof(err), "unknown key '%s'", k);
			return err;
		}
		dl += (size_t)snprintf(e->desc + dl, sizeof(e->desc) - dl, "%s%s=", dl ? " " : "", k);
		if (dl >= sizeof(e->desc))
			dl = sizeof(e->desc) - 1;
		if (!strcmp(k, "text")) {
			FILE *f = fmemopen(e->desc + dl, sizeof(e->desc) - dl, "w");

			if (f) {
				if (e->text_re)
					fprintf(f, "/%s/", e->text);
				else
					put_quoted(f, e->text, strlen(e->text));
				fclose(f);
				dl += strlen(e->desc + dl);
			}
		} else {
			dl += (size_t)snprintf(e->desc + dl, sizeof(e->desc) - dl, "%s", val);
			if (dl >= sizeof(e->desc))
				dl = sizeof(e->desc) - 1;
		}
	}
	return NULL;
bad:
	snprintf(err, sizeof(err), "bad value '%s' for %s", val, k);
	return err;
}

static void expect_free(struct expect *e)
{
	if (e->text_re)
		regfree(&e->re);
	e->text_re = false;
}

/* NULL when s meets e, else the first field that differs. */
static const char *expect_match(const struct expect *e, const struct submit *s)
{
	if (s->err[0])
		return "libsmpp34 could not unpack the submit_sm";
	if (e->sms && s->op >= 0)
		return "an SMS carries no ussd_service_op";
	if (e->op != -2 && e->op != s->op)
		return "ussd_service_op differs";
	if (e->session != -2 && e->session != s->session)
		return "its_session_info differs";
	if (e->dc >= 0 && (unsigned)e->dc != s->dc)
		return "data_coding differs";
	if (e->regdel >= 0 && (unsigned)e->regdel != s->regdel)
		return "registered_delivery differs";
	if (e->to && !addr_eq(e->to, s->to))
		return "to differs";
	if (e->from && !addr_eq(e->from, s->from))
		return "from differs";
	if (e->service_type && strcmp(e->service_type, s->service_type))
		return "service_type differs";
	if (e->text && (e->text_re ? regexec(&e->re, s->text, 0, NULL, 0) != 0 : strcmp(e->text, s->text) != 0))
		return "text differs";
	return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* The runner: executes script or stdin lines one by one; a line may leave a wait behind */

enum wait_kind { W_NONE, W_BIND, W_SUBMIT, W_NO_SUBMIT, W_UNBIND, W_SLEEP };

static struct {
	char **lines;
	int *linenos;
	size_t n, cap, pc;
	bool input_done;	/* no more lines will come */
	const char *name;
	enum wait_kind wait;
	uint64_t deadline;
	struct expect exp;
	unsigned failures, expectations;
	bool quit;
	char *stdin_buf;
	size_t stdin_len;
	int stdin_lineno;
} run;

static void runner_add(const char *line, int lineno)
{
	if (run.n == run.cap) {
		run.cap = run.cap ? 2 * run.cap : 64;
		run.lines = xrealloc(run.lines, run.cap * sizeof(*run.lines));
		run.linenos = xrealloc(run.linenos, run.cap * sizeof(*run.linenos));
	}
	run.lines[run.n] = xstrdup(line);
	run.linenos[run.n++] = lineno;
}

/* A failed step: in a script the run ends here (exit 1); interactively it is reported and counted. */
static void step_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void step_failed(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	printf("FAILED %s:%d: ", run.name, run.linenos[run.pc]);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	run.failures++;
	if (opt.mode == MODE_SCRIPT) {
		fflush(stdout);
		exit(1);
	}
}

static const char *fmt_submit(const struct submit *s)
{
	static char buf[2048];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	if (!f)
		return "?";
	print_submit(f, s);
	fclose(f);
	return buf;
}

static int step_timeout_ms(int argc, char **argv, int from, unsigned *ms)
{
	const char *t = word_opt(argc, argv, from, "timeout");
	unsigned long v;

	*ms = opt.timeout_ms;
	if (!t)
		return 0;
	if (!parse_ulong(t, 3600000, &v))
		return -1;
	*ms = (unsigned)v;
	return 0;
}

/* Modifiers shared by the injecting commands (op=, dest=, coding=8, service_type=) */
static int mo_mods(struct mo *m, int argc, char **argv, int from)
{
	const char *v;
	unsigned long n;

	for (int i = from; i < argc; i++)
		if (!strchr(argv[i], '=')) {
			step_failed("unexpected word '%s' (modifiers are key=value)", argv[i]);
			return -1;
		}
	if ((v = word_opt(argc, argv, from, "op"))) {
		if (!parse_ulong(v, 255, &n)) {
			step_failed("op wants 0-255");
			return -1;
		}
		m->op = (int)n;
	}
	if ((v = word_opt(argc, argv, from, "coding")))
		m->ucs2 = !strcmp(v, "8");
	if ((v = word_opt(argc, argv, from, "dest")))
		m->to = v;
	if ((v = word_opt(argc, argv, from, "service_type")))
		m->service_type = v;
	return 0;
}

/* Remembered per USSD session: the code it was opened with, the destination of its later hops. */
static struct { long session; char code[24]; } sess_codes[64];

static const char *session_code(long session)
{
	for (size_t i = 0; i < sizeof(sess_codes) / sizeof(sess_codes[0]); i++)
		if (sess_codes[i].code[0] && sess_codes[i].session == session)
			return sess_codes[i].code;
	return opt.code;
}

static bool parse_session(const char *s, long *out)
{
	unsigned long v;

	if (!parse_ulong(s, 65535, &v))
		return false;
	*out = (long)v;
	return true;
}

static int cmd_ussd(int argc, char **argv, bool begin)
{
	struct mo m = { .from = argv[1], .text = argv[2], .service_type = "USSD", .op = begin ? 1 : 18,
			.message_state = -1 };

	if (!parse_session(argv[3], &m.session)) {
		step_failed("SESSION (its_session_info) wants 0-65535, not '%s'", argv[3]);
		return -1;
	}
	m.to = begin ? argv[2] : session_code(m.session);
	if (begin) {
		static unsigned next;

		sess_codes[next % 64].session = m.session;
		snprintf(sess_codes[next % 64].code, sizeof(sess_codes[0].code), "%s", argv[2]);
		next++;
	}
	if (mo_mods(&m, argc, argv, 4) != 0)
		return -1;
	if (mo_send(&m) != 0) {
		step_failed("could not send the deliver_sm");
		return -1;
	}
	return 0;
}

static int cmd_ussd_begin(int argc, char **argv) { return cmd_ussd(argc, argv, true); }
static int cmd_ussd_continue(int argc, char **argv) { return cmd_ussd(argc, argv, false); }

static int cmd_sms(int argc, char **argv)
{
	struct mo m = { .from = argv[1], .to = argv[2], .text = argv[3], .op = -1, .session = -1,
			.message_state = -1 };

	if (mo_mods(&m, argc, argv, 4) != 0)
		return -1;
	if (mo_send(&m) != 0) {
		step_failed("could not send the deliver_sm");
		return -1;
	}
	return 0;
}

static int cmd_dlr(int argc, char **argv)
{
	unsigned long id;
	const struct issued *m;
	int st = dlr_state_by_name(argv[2]);

	if (!strcmp(argv[1], "last"))
		id = next_msg_id - 1;
	else if (!parse_ulong(argv[1], UINT32_MAX, &id)) {
		step_failed("MSG_ID wants a number or 'last', not '%s'", argv[1]);
		return -1;
	}
	if (st < 0) {
		step_failed("unknown state '%s' (delivered, failed, expired, rejected, ...)", argv[2]);
		return -1;
	}
	m = issued_find((uint32_t)id);
	if (!m) {
		step_failed("no submit_sm got message id %lu", id);
		return -1;
	}
	if (dlr_send(m, st) != 0) {
		step_failed("could not send the receipt");
		return -1;
	}
	return 0;
}

static int cmd_wait_bind(int argc, char **argv)
{
	unsigned ms;

	if (step_timeout_ms(argc, argv, 1, &ms) != 0) {
		step_failed("bad timeout");
		return -1;
	}
	run.wait = W_BIND;
	run.deadline = now_ns() + (uint64_t)ms * 1000000u;
	return 1;
}

static int cmd_wait_unbind(int argc, char **argv)
{
	unsigned ms;

	if (step_timeout_ms(argc, argv, 1, &ms) != 0) {
		step_failed("bad timeout");
		return -1;
	}
	run.wait = W_UNBIND;
	run.deadline = now_ns() + (uint64_t)ms * 1000000u;
	return 1;
}

static int cmd_expect(int argc, char **argv, bool sms)
{
	unsigned ms = opt.timeout_ms;
	const char *err = expect_parse(&run.exp, argc, argv, sms, &ms);

	if (err) {
		step_failed("%s", err);
		return -1;
	}
	run.expectations++;
	run.wait = W_SUBMIT;
	run.deadline = now_ns() + (uint64_t)ms * 1000000u;
	return 1;
}

static int cmd_expect_submit(int argc, char **argv) { return cmd_expect(argc, argv, false); }
static int cmd_expect_submit_sms(int argc, char **argv) { return cmd_expect(argc, argv, true); }

static int cmd_expect_none(int argc, char **argv)
{
	unsigned long ms;

	if (!parse_ulong(argv[1], 3600000, &ms)) {
		step_failed("expect-none wants milliseconds");
		return -1;
	}
	run.expectations++;
	run.wait = W_NO_SUBMIT;
	run.deadline = now_ns() + (uint64_t)ms * 1000000u;
	return 1;
}

static int cmd_sleep(int argc, char **argv)
{
	unsigned long ms;

	if (!parse_ulong(argv[1], 3600000, &ms)) {
		step_failed("sleep wants milliseconds");
		return -1;
	}
	run.wait = W_SLEEP;
	run.deadline = now_ns() + (uint64_t)ms * 1000000u;
	return 1;
}

static int cmd_submit_status(int argc, char **argv)
{
	unsigned long v;

	if (!strcmp(argv[1], "ok"))
		v = 0;
	else if (!parse_ulong(argv[1], UINT32_MAX, &v)) {
		step_failed("submit-status wants ok or a command_status number");
		return -1;
	}
	submit_status = (uint32_t)v;
	return 0;
}

static int cmd_auto_dlr(int argc, char **argv)
{
	int st = strcmp(argv[1], "off") ? dlr_state_by_name(argv[1]) : -1;

	if (st < 0 && strcmp(argv[1], "off")) {
		step_failed("auto-dlr wants off or a state (delivered, failed, ...)");
		return -1;
	}
	opt.auto_dlr = st + 1;
	return 0;
}

static int cmd_unbind(int argc, char **argv)
{
	bool any = false;

	for (int i = 0; i < MAX_CONNS; i++) {
		struct conn *c = conns[i];

		if (c && c->bound) {
			send_header_only(c, UNBIND, ESME_ROK, c->next_seq++);
			if (opt.verbosity == 1)
				printf(">> unbind conn=%u\n", c->id);
			any = true;
			conn_flush(c);
		}
	}
	if (!any)
		printf("-- unbind: nobody is bound\n");
	return 0;
}

static int cmd_drop(int argc, char **argv)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i])
			conn_close(conns[i], "dropped by the script");
	return 0;
}

static int cmd_echo(int argc, char **argv)
{
	if (argc == 1)
		putchar('\n');
	for (int i = 1; i < argc; i++)
		printf("%s%s", argv[i], i + 1 < argc ? " " : "\n");
	return 0;
}

static int cmd_quit(int argc, char **argv)
{
	run.quit = true;
	return 0;
}

/* Every command once: name, word counts (with the name), handler and usage. */
static const struct command {
	const char *name;
	int min, max;
	int (*fn)(int argc, char **argv);
	const char *usage;
} commands[] = {
	{ "wait-bind", 1, 2, cmd_wait_bind, "wait-bind [timeout=MS]" },
	{ "ussd-begin", 4, 9, cmd_ussd_begin, "ussd-begin MSISDN CODE SESSION [op=N dest=X coding=8]" },
	{ "ussd-continue", 4, 9, cmd_ussd_continue, "ussd-continue MSISDN TEXT SESSION [op=N dest=X coding=8]" },
	{ "sms", 4, 8, cmd_sms, "sms MSISDN SHORTCODE TEXT [coding=8 service_type=X]" },
	{ "expect-submit", 1, 12, cmd_expect_submit, "expect-submit [key=value...]" },
	{ "expect-submit-sms", 1, 12, cmd_expect_submit_sms, "expect-submit-sms [key=value...]" },
	{ "expect-none", 2, 2, cmd_expect_none, "expect-none MS" },
	{ "dlr", 3, 3, cmd_dlr, "dlr MSG_ID|last delivered|failed|expired|rejected|..." },
	{ "auto-dlr", 2, 2, cmd_auto_dlr, "auto-dlr off|delivered|failed|..." },
	{ "submit-status", 2, 2, cmd_submit_status, "submit-status ok|STATUS" },
	{ "sleep", 2, 2, cmd_sleep, "sleep MS" },
	{ "unbind", 1, 1, cmd_unbind, "unbind" },
	{ "wait-unbind", 1, 2, cmd_wait_unbind, "wait-unbind [timeout=MS]" },
	{ "drop", 1, 1, cmd_drop, "drop" },
	{ "echo", 1, MAX_WORDS, cmd_echo, "echo TEXT..." },
	{ "quit", 1, 1, cmd_quit, "quit" },
};

static int runner_exec(char *line)
{
	char *argv[MAX_WORDS];
	int argc = split_words(line, argv, MAX_WORDS);

	if (argc < 0) {
		step_failed("unterminated quote or more than %d words", MAX_WORDS);
		return -1;
	}
	if (argc == 0 || argv[0][0] == '#')
		return 0;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];

		if (strcmp(c->name, argv[0]))
			continue;
		if (argc < c->min || argc > c->max) {
			step_failed("usage: %s", c->usage);
			return -1;
		}
		return c->fn(argc, argv);
	}
	step_failed("unknown command '%s'", argv[0]);
	return -1;
}

/* Check every line of a script before anything is sent: a typo on line 40 should not cost a run.
 * Command names, word counts and expect-* keys are checked; values that need the run (message ids) are not. */
static void runner_check_all(void)
{
	int bad = 0;

	for (size_t i = 0; i < run.n; i++) {
		char *copy = xstrdup(run.lines[i]), *argv[MAX_WORDS];
		int argc = split_words(copy, argv, MAX_WORDS);
		const struct command *c = NULL;
		const char *err = NULL;

		if (argc < 0)
			err = "unterminated quote or too many words";
		else if (argc > 0 && argv[0][0] != '#') {
			for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
				if (!strcmp(commands[k].name, argv[0]))
					c = &commands[k];
			if (!c)
				err = "unknown command";
			else if (argc < c->min || argc > c->max)
				err = c->usage;
			else if (!strncmp(c->name, "expect-submit", 13)) {
				struct expect e;
				unsigned ms;

				err = expect_parse(&e, argc, argv, false, &ms);
				if (!err)
					expect_free(&e);
			}
		}
		if (err) {
			fprintf(stderr, "spaza-smsc: %s:%d: %s%s\n", run.name, run.linenos[i],
				c && err == c->usage ? "usage: " : "", err);
			bad++;
		}
		free(copy);
	}
	if (bad)
		exit(2);
}

/* Resolve the current wait: 1 done, 0 still waiting, -1 failed. */
static int runner_wait_check(uint64_t now)
{
	bool late = now >= run.deadline;

	switch (run.wait) {
	case W_NONE:
		return 1;
	case W_SLEEP:
		return late ? 1 : 0;
	case W_BIND:
		if (receiver())
			return 1;
		if (late) {
			step_failed("expected an ESME to bind as receiver or transceiver; nobody did in time");
			return -1;
		}
		return 0;
	case W_UNBIND:
		if (!any_bound())
			return 1;
		if (late) {
			step_failed("expected the ESME to unbind; it stayed bound");
			return -1;
		}
		return 0;
	case W_NO_SUBMIT:
		if (inbox.head < inbox.tail) {
			step_failed("expected no submit_sm; got: %s", fmt_submit(&inbox.q[inbox.head]));
			submit_free(&inbox.q[inbox.head++]);
			return -1;
		}
		if (late && opt.verbosity >= 1)
			printf("ok %s:%d: no submit_sm\n", run.name, run.linenos[run.pc]);
		return late ? 1 : 0;
	case W_SUBMIT:
		if (inbox.head < inbox.tail) {
			struct submit *s = &inbox.q[inbox.head++];
			const char *diff = expect_match(&run.exp, s);
			int rc = 1;

			if (diff) {
				step_failed("%s\n  expected: submit_sm %s\n  got:      %s", diff, run.exp.desc,
					    fmt_submit(s));
				rc = -1;
			} else if (opt.verbosity >= 1) {
				printf("ok %s:%d: %s %s\n", run.name, run.linenos[run.pc], run.exp.cmd, run.exp.desc);
			}
			submit_free(s);
			expect_free(&run.exp);
			return rc;
		}
		if (late) {
			step_failed("expected: submit_sm %s\n  got:      nothing in time", run.exp.desc);
			expect_free(&run.exp);
			return -1;
		}
		return 0;
	}
	return 1;
}

/* Run lines until one waits or they run out. Called after every event. */
static void runner_step(void)
{
	uint64_t now = now_ns();

	while (!run.quit && run.pc < run.n) {
		if (run.wait != W_NONE) {
			int rc = runner_wait_check(now);

			if (rc == 0)
				return;
			run.wait = W_NONE;
			run.pc++;
			continue;
		}
		int rc = runner_exec(run.lines[run.pc]);

		if (rc == 1)
			continue;	/* check the new wait at once: the condition may already hold */
		run.pc++;
	}
}

static bool in_runner;

static void runner_poke(void)
{
	if (opt.mode == MODE_LOAD || in_runner)
		return;
	in_runner = true;
	runner_step();
	in_runner = false;
}

static void runner_load_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0;

	if (!f)
		die("cannot open %s: %s", path, strerror(errno));
	while (getline(&line, &cap, f) >= 0)
		runner_add(line, ++lineno);
	free(line);
	fclose(f);
	run.input_done = true;
	run.name = path;
}

static void stdin_read(void)
{
	char buf[4096];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		run.input_done = true;
		if (run.stdin_len) {
			run.stdin_buf[run.stdin_len] = '\0';
			runner_add(run.stdin_buf, ++run.stdin_lineno);
			run.stdin_len = 0;
		}
		return;
	}
	run.stdin_buf = xrealloc(run.stdin_buf, run.stdin_len + (size_t)n + 1);
	memcpy(run.stdin_buf + run.stdin_len, buf, (size_t)n);
	run.stdin_len += (size_t)n;
	char *p = run.stdin_buf, *nl;

	while ((nl = memchr(p, '\n', run.stdin_len - (size_t)(p - run.stdin_buf)))) {
		*nl = '\0';
		runner_add(p, ++run.stdin_lineno);
		p = nl + 1;
	}
	run.stdin_len -= (size_t)(p - run.stdin_buf);
	memmove(run.stdin_buf, p, run.stdin_len);
}

/* ------------------------------------------------------------------------------------------ */
/* Load: N begin -> reply round trips, C in flight, one MSISDN per slot. When the ESME goes away
 * (a bearerbox restart), slots wait for it to bind again, -t at most; the round trips it had in
 * flight are cut (counted apart from timeouts), and their replies count as late when they still
 * come. */

static struct {
	struct slot {
		uint64_t t0;		/* 0 when idle */
		uint16_t session;
		bool parked;		/* waiting for a bind */
		uint32_t seq;		/* of its deliver_sm, for the deliver_sm_resp */
		uint64_t resend_at;	/* refused by the ESME: sent again then (0: not) */
	} *slots;
	unsigned long started, done, timeouts, bad, late, parked, rebinds;
	unsigned long cut;	/* in flight when the ESME went away */
	unsigned long refused;	/* deliver_sm answered with an error: sent again, as an SMSC does */
	uint64_t unbound_since;
	uint32_t *lat_us;
	uint64_t t_begin, t_end;
	bool running;
	bool winding;		/* SIGUSR1: no new round trips */
	bool reported;		/* the figures are out: serving on until SIGTERM */
	int rc;			/* load_report()'s */
} load;

static void load_send(unsigned long i);

static void load_start(unsigned long i)
{
	struct slot *s = &load.slots[i];

	if (!receiver()) {
		if (!s->parked) {
			s->parked = true;
			load.parked++;
		}
		if (!load.unbound_since)
			load.unbound_since = now_ns();
		return;
	}
	s->session++;
	s->t0 = now_ns();
	load.started++;
	load_send(i);
}

/* The slot's deliver_sm: its MSISDN, its session. */
static void load_send(unsigned long i)
{
	struct slot *s = &load.slots[i];
	char msisdn[24];
	struct mo m = { .from = msisdn, .to = opt.code, .text = opt.code, .service_type = "USSD", .op = 1,
			.message_state = -1 };
	struct conn *c = receiver();

	snprintf(msisdn, sizeof(msisdn), "%llu", opt.msisdn_base + i);
	if (opt.load_sms) {
		m.text = "PING";
		m.service_type = NULL;
		m.op = -1;
		m.session = -1;
	} else {
		m.session = s->session;
	}
	s->seq = c ? c->next_seq : 0;
	if (mo_send(&m) != 0)
		die("load: cannot send a deliver_sm");
}

/* A deliver_sm answered with an error (bearerbox just after its restart, before a box is there:
 * 0x64, temporary): an SMSC sends it again a little later, so the load does too. */
#define LOAD_RESEND_MS 200

static void load_on_deliver_resp(uint32_t seq, uint32_t status)
{
	if (!load.running || !status)
		return;
	for (unsigned long i = 0; i < opt.load_c; i++) {
		struct slot *sl = &load.slots[i];
		if (sl->t0 && !sl->resend_at && sl->seq == seq) {
			sl->resend_at = now_ns() + LOAD_RESEND_MS * 1000000ull;
			load.refused++;
			return;
		}
	}
}

static void load_resend_due(uint64_t now)
{
	for (unsigned long i = 0; i < opt.load_c; i++) {
		struct slot *sl = &load.slots[i];
		if (sl->t0 && sl->resend_at && now >= sl->resend_at && receiver()) {
			sl->resend_at = 0;
			load_send(i);
		}
	}
}

/* conn_close(): the last receiver went away. Waiting for the replies of what was in flight would
 * hold every slot until its timeout: they are cut and wait for the next bind instead. */
static void load_on_unbind(void)
{
	if (!load.running || receiver())
		return;
	for (unsigned long i = 0; i < opt.load_c; i++) {
		struct slot *sl = &load.slots[i];
		if (!sl->t0)
			continue;
		sl->t0 = 0;
		sl->resend_at = 0;
		load.cut++;
		if (load.started < opt.load_n && !sl->parked) {
			sl->parked = true;
			load.parked++;
		}
	}
	if (load.parked && !load.unbound_since)
		load.unbound_since = now_ns();
}

static void load_finish_slot(unsigned long i)
{
	load.slots[i].t0 = 0;
	if (load.started < opt.load_n)
		load_start(i);
	if (load.done + load.timeouts + load.bad + load.cut == opt.load_n)
		load.t_end = now_ns();
}

static void load_on_submit(const struct submit *s)
{
	const char *to = s->to[0] == '+' ? s->to + 1 : s->to;
	unsigned long long num = strtoull(to, NULL, 10);
	unsigned long i;
	struct slot *sl;

	if (!load.running || num < opt.msisdn_base || num - opt.msisdn_base >= opt.load_c)
		return;
	i = (unsigned long)(num - opt.msisdn_base);
	sl = &load.slots[i];
	if (!sl->t0 || (!opt.load_sms && s->op >= 0 && s->session != sl->session)) {
		load.late++;	/* the reply to a round trip that timed out */
		return;
	}
	if (!opt.load_sms && s->op < 0) {
		load.bad++;
		if (load.bad <= 3)
			fprintf(stderr, "spaza-smsc: load: unexpected reply: %s\n", fmt_submit(s));
	} else {
		uint64_t us = (now_ns() - sl->t0) / 1000;

		load.lat_us[load.done++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	}
	load_finish_slot(i);
}

static void load_check_timeouts(uint64_t now)
{
	for (unsigned long i = 0; i < opt.load_c; i++)
		if (load.slots[i].t0 && now - load.slots[i].t0 > (uint64_t)opt.timeout_ms * 1000000u) {
			load.slots[i].resend_at = 0;
			load.timeouts++;
			load_finish_slot(i);
		}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double pct_ms(double p)
{
	size_t i;

	if (!load.done)
		return 0;
	i = (size_t)(p * (double)(load.done - 1) + 0.5);
	return load.lat_us[i] / 1000.0;
}

static int load_report(void)
{
	double secs = (double)(load.t_end - load.t_begin) / 1e9;

	qsort(load.lat_us, load.done, sizeof(*load.lat_us), cmp_u32);
	printf("load: %lu %s round trips in %.2f s (concurrency %lu): %.0f round trips/s; "
	       "latency ms p50 %.2f p90 %.2f p99 %.2f max %.2f; timeouts %lu, bad replies %lu",
	       load.done, opt.load_sms ? "SMS" : "USSD", secs, opt.load_c, secs > 0 ? load.done / secs : 0,
	       pct_ms(0.50), pct_ms(0.90), pct_ms(0.99), pct_ms(1.0), load.timeouts, load.bad);
	if (load.rebinds || load.late || load.cut || load.refused)
		printf("; rebinds %lu, late replies %lu, cut by an unbind %lu, refused and sent again %lu", load.rebinds,
		       load.late, load.cut, load.refused);
	putchar('\n');
	return load.timeouts || load.bad ? 1 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Main loop */

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		wind_down_signal = sig;
	else
		stop_signal = sig;
}

static void open_listener(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port) };
	socklen_t sl = sizeof(sa);
	int one = 1;

	if (inet_pton(AF_INET, opt.host, &sa.sin_addr) != 1)
		die("--host wants an IPv4 address, not '%s'", opt.host);
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (listen_fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		die("cannot listen on %s:%u: %s", opt.host, opt.port, strerror(errno));
	if (listen(listen_fd, 16) != 0)
		die("listen: %s", strerror(errno));
	getsockname(listen_fd, (struct sockaddr *)&sa, &sl);
	printf("-- listening on %s:%u\n", opt.host, ntohs(sa.sin_port));
}

static uint64_t next_deadline(void)
{
	uint64_t d = UINT64_MAX;

	if (opt.mode != MODE_LOAD && run.wait != W_NONE)
		d = run.deadline;
	if (opt.mode == MODE_LOAD && !load.running)
		d = run.deadline;	/* the wait for the first bind */
	if (opt.mode == MODE_LOAD && load.running && load.parked)
		d = load.unbound_since + (uint64_t)opt.timeout_ms * 1000000u + 1000000u;
	if (opt.mode == MODE_LOAD && load.running)
		for (unsigned long i = 0; i < opt.load_c; i++)
			if (load.slots[i].t0 && load.slots[i].t0 + (uint64_t)opt.timeout_ms * 1000000u < d)
				d = load.slots[i].t0 + (uint64_t)opt.timeout_ms * 1000000u;
	if (opt.mode == MODE_LOAD && load.running)
		for (unsigned long i = 0; i < opt.load_c; i++)
			if (load.slots[i].resend_at && load.slots[i].resend_at < d)
				d = load.slots[i].resend_at;
	return d;
}

/* True when the run is over (rc set). */
static bool finished(int *rc)
{
	if (stop_signal) {
		*rc = opt.mode == MODE_INTERACTIVE && !run.failures ? 0 : 1;
		printf("-- stopped by signal %d\n", (int)stop_signal);
		if (load.reported) {
			*rc = load.rc;
		} else if (opt.mode == MODE_LOAD && load.running) {	/* what it did so far */
			load.t_end = now_ns();
			*rc = load_report();
		}
		return true;
	}
	switch (opt.mode) {
	case MODE_SCRIPT:
		if (run.pc >= run.n || run.quit) {
			printf("PASSED %s: %u expectations held\n", run.name, run.expectations);
			*rc = 0;
			return true;
		}
		return false;
	case MODE_INTERACTIVE:
		if (run.quit) {
			*rc = run.failures ? 1 : 0;
			return true;
		}
		return false;
	case MODE_LOAD:
		if (!load.running) {
			if (receiver()) {
				load.running = true;
				load.slots = xrealloc(NULL, opt.load_c * sizeof(*load.slots));
				memset(load.slots, 0, opt.load_c * sizeof(*load.slots));
				load.lat_us = xrealloc(NULL, opt.load_n * sizeof(*load.lat_us));
				load.t_begin = now_ns();
				for (unsigned long i = 0; i < opt.load_c && load.started < opt.load_n; i++)
					load_start(i);
			} else if (now_ns() >= run.deadline) {
				fprintf(stderr, "spaza-smsc: load: nobody bound within %u ms\n", opt.timeout_ms);
				*rc = 1;
				return true;
			}
			return false;
		}
		if (load.parked && receiver()) {	/* bound again: the waiting slots go on */
			load.rebinds++;
			load.unbound_since = 0;
			for (unsigned long i = 0; i < opt.load_c; i++)
				if (load.slots[i].parked) {
					load.slots[i].parked = false;
					load.parked--;
					load_start(i);
				}
		} else if (load.parked && now_ns() - load.unbound_since > (uint64_t)opt.timeout_ms * 1000000u) {
			fprintf(stderr, "spaza-smsc: load: nobody bound again within %u ms\n", opt.timeout_ms);
			load.t_end = now_ns();
			load_report();
			*rc = 1;
			return true;
		}
		if (wind_down_signal && !load.winding) {
			load.winding = true;
			opt.load_n = load.started;	/* the ones in flight finish, no more start */
		}
		if (load.done + load.timeouts + load.bad + load.cut == opt.load_n && !load.reported) {
			*rc = load.rc = load_report();
			fflush(stdout);
			load.reported = load.winding;
			return !load.winding;
		}
		return false;
	}
	return false;
}

static int loop(void)
{
	struct pollfd pfd[MAX_CONNS + 2];
	struct conn *who[MAX_CONNS + 2];
	unsigned ids[MAX_CONNS + 2];
	int rc = 0;
	bool use_stdin = opt.mode == MODE_INTERACTIVE;

	for (;;) {
		int n = 0, timeout = -1;
		uint64_t d, now;

		if (opt.mode != MODE_LOAD)
			runner_step();
		if (finished(&rc))
			break;
		pfd[n] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
		who[n++] = NULL;
		if (use_stdin && !run.input_done) {
			pfd[n] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
			who[n++] = NULL;
		}
		for (int i = 0; i < MAX_CONNS; i++)
			if (conns[i]) {
				pfd[n] = (struct pollfd){ .fd = conns[i]->fd, .events = POLLIN };
				if (conns[i]->wlen > conns[i]->woff)
					pfd[n].events |= POLLOUT;
				ids[n] = conns[i]->id;
				who[n++] = conns[i];
			}
		d = next_deadline();
		now = now_ns();
		if (d != UINT64_MAX)
			timeout = d <= now ? 0 : (int)((d - now + 999999) / 1000000);
		if (poll(pfd, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = who[i];

			if (!pfd[i].revents)
				continue;
			if (pfd[i].fd == listen_fd) {
				accept_conns();
				continue;
			}
			if (!c) {
				stdin_read();
				continue;
			}
			if (!conn_alive(c, ids[i]))
				continue;	/* closed while handling an earlier fd of this round */
			if (pfd[i].revents & POLLOUT) {
				conn_flush(c);
				if (!conn_alive(c, ids[i]))
					continue;
			}
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				conn_read(c);
		}
		if (opt.mode == MODE_LOAD && load.running) {
			load_resend_due(now_ns());
			load_check_timeouts(now_ns());
		}
	}
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i]) {
			conn_flush(conns[i]);
			if (conns[i])
				conn_close(conns[i], "exiting");
		}
	return rc;
}

static void usage(FILE *f)
{
	fputs("usage: spaza-smsc -p PORT [options] (--script FILE | -i | --load N [--concurrency C])\n"
	      "An SMPP 3.4 SMSC simulator: Kannel's bearerbox binds to it as a transceiver.\n"
	      "  -p, --port PORT        TCP port to listen on (0: any free one, printed)\n"
	      "  -H, --host ADDR        address to listen on (default 127.0.0.1)\n"
	      "  -u, --system-id ID     accept only binds with this system_id\n"
	      "  -w, --password PW      accept only binds with this password\n"
	      "  -s, --script FILE      run a dialogue script; exit 0 when every expectation held\n"
	      "  -i, --interactive      read the same commands from stdin, print every PDU\n"
	      "  -l, --load N           drive N USSD begin -> reply round trips (SIGUSR1: finish the ones in\n"
	      "                         flight, print the figures, serve on until SIGTERM)\n"
	      "  -c, --concurrency C    round trips in flight at once with --load (default 10)\n"
	      "      --load-sms         load with plain SMS (MO -> reply) instead of USSD\n"
	      "      --code CODE        USSD service code for --load (default *120*777#)\n"
	      "      --msisdn-base N    first MSISDN for --load (one per slot, default 27830000000)\n"
	      "      --auto-dlr STATE   answer every submit_sm asking for a receipt with one (delivered, failed)\n"
	      "  -t, --timeout MS       default wait for binds and expectations (default 10000)\n"
	      "  -v, --verbose          print every PDU\n"
	      "  -q, --quiet            print results only\n"
	      "Script commands (one a line, # comments; quotes group words, \\n is a newline):\n",
	      f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fputs("expect-submit keys: ussd_service_op|op=N|none its_session_info|session=N|none text=\"exact\"|text=/regex/\n"
	      "  to= from= service_type= data_coding= registered_delivery= timeout=MS\n", f);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "host", required_argument, NULL, 'H' },
		{ "system-id", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'w' },
		{ "script", required_argument, NULL, 's' },
		{ "interactive", no_argument, NULL, 'i' },
		{ "load", required_argument, NULL, 'l' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "load-sms", no_argument, NULL, 'S' },
		{ "code", required_argument, NULL, 'C' },
		{ "msisdn-base", required_argument, NULL, 'M' },
		{ "auto-dlr", required_argument, NULL, 'D' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c, modes = 0, verbosity = -1, rc;
	bool have_port = false;

	static const struct smpp34_memory_functions heap = { smpp_heap_alloc, smpp_heap_realloc, smpp_heap_free };

	setvbuf(stdout, NULL, _IOLBF, 0);
	smpp34_set_memory_functions(&heap);
	while ((c = getopt_long(argc, argv, "p:H:u:w:s:il:c:t:vqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!parse_ulong(optarg, 65535, &v))
				die("--port wants 0-65535, not '%s'", optarg);
			opt.port = (unsigned)v;
			have_port = true;
			break;
		case 'H': opt.host = optarg; break;
		case 'u': opt.system_id = optarg; break;
		case 'w': opt.password = optarg; break;
		case 's': opt.script = optarg; opt.mode = MODE_SCRIPT; modes++; break;
		case 'i': opt.mode = MODE_INTERACTIVE; modes++; break;
		case 'l':
			if (!parse_ulong(optarg, 100000000, &opt.load_n) || !opt.load_n)
				die("--load wants a count, not '%s'", optarg);
			opt.mode = MODE_LOAD;
			modes++;
			break;
		case 'c':
			if (!parse_ulong(optarg, 100000, &opt.load_c) || !opt.load_c)
				die("--concurrency wants 1-100000, not '%s'", optarg);
			break;
		case 'S': opt.load_sms = true; break;
		case 'C': opt.code = optarg; break;
		case 'M':
			if (!parse_ulong(optarg, ULONG_MAX, &v))
				die("--msisdn-base wants a number");
			opt.msisdn_base = v;
			break;
		case 'D':
			if (dlr_state_by_name(optarg) < 0)
				die("--auto-dlr wants delivered, failed, expired, rejected, ...");
			opt.auto_dlr = dlr_state_by_name(optarg) + 1;
			break;
		case 't':
			if (!parse_ulong(optarg, 3600000, &v) || !v)
				die("--timeout wants milliseconds");
			opt.timeout_ms = (unsigned)v;
			break;
		case 'v': verbosity = 2; break;
		case 'q': verbosity = 0; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !have_port || modes != 1) {
		usage(stderr);
		return 2;
	}
	if (opt.mode == MODE_INTERACTIVE)
		opt.verbosity = 2;
	if (opt.mode == MODE_LOAD)
		opt.verbosity = 0;
	if (verbosity >= 0)
		opt.verbosity = verbosity;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	if (opt.mode == MODE_SCRIPT) {
		runner_load_file(opt.script);
		runner_check_all();
	}
	else if (opt.mode == MODE_INTERACTIVE) {
		run.name = "stdin";	/* poll() says when a read() will not block: stdin stays as it is */
	} else {
		run.deadline = now_ns() + (uint64_t)opt.timeout_ms * 1000000u;
	}
	open_listener();
	rc = loop();
	close(listen_fd);
	for (size_t i = inbox.head; i < inbox.tail; i++)
		submit_free(&inbox.q[i]);
	free(inbox.q);
	for (size_t i = 0; i < run.n; i++)
		free(run.lines[i]);
	free(run.lines);
	free(run.linenos);
	free(run.stdin_buf);
	free(load.slots);
	free(load.lat_us);
	return rc;
}
