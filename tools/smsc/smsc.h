/*
 * spaza-smsc: an SMPP 3.4 SMSC simulator, "an operator in a box" (doc/kannel.md).
 *
 * Kannel's bearerbox (or any ESME) binds to it over TCP. It injects what an operator's USSD and SMS
 * centres would send -- USSD dialogues as deliver_sm with the ussd_service_op and its_session_info TLVs,
 * plain SMS MOs, delivery receipts -- and answers every submit_sm with a submit_sm_resp carrying a
 * message id. Four ways to drive it:
 *   --script FILE   a dialogue script (wait-bind, ussd-begin, expect-submit, ...); exit 0 when every
 *                   expectation held, 1 with expected-vs-got on the first that did not;
 *   -i              the same commands read from stdin, every PDU printed; serves on after stdin ends;
 *   --load N        N USSD begin -> reply round trips, C at a time, reported as round trips/s and
 *                   latency percentiles. SIGUSR1 winds the load down: no new round trip starts,
 *                   the figures are printed once the ones in flight ended, and the SMSC serves on
 *                   (binds, pushes, receipts) until SIGTERM;
 *   --control PORT  (with any of the above) a loopback HTTP interface for handsets: dial and answer
 *                   USSD, send SMS, read one number's SMS inbox (what spaza-phone --smsc uses).
 *
 * One thread, one poll() loop (main.c) over non-blocking sockets. The rooms, in the order a PDU
 * meets them:
 *   smpp_session.c  the ESME's TCP connections: framing, binds, submit_sm in, PDUs out
 *   smpp_heap.c     libsmpp34's allocations, so a failed unpack leaks nothing
 *   text.c          short message octets <-> UTF-8 (GSM-7, UCS-2, Latin-1)
 *   deliver.c       deliver_sm out: what a subscriber sends (USSD, SMS) and receipts
 *   ussd.c          USSD dialogues: the code each its_session_info was opened with
 *   sms_store.c     message ids given out, delivery receipts, and every SMS kept per MSISDN
 *   expect.c        submit_sm waiting to be checked, and the expect-submit matcher
 *   script.c        the command runner (--script, -i): one line at a time, a line may leave a wait
 *   load.c          --load
 *   control.c       --control: the handsets' HTTP interface
 *   util.c          dying allocators, clocks, numbers, quoting
 */
#ifndef SPAZA_SMSC_H
#define SPAZA_SMSC_H

#include <stdbool.h>
#include <stdint.h>
#include <poll.h>
#include <regex.h>
#include <stdio.h>
#include <time.h>

#define MAX_CONNS	16
#define PDU_MAX		65536	/* a bigger command_length is a framing error */
#define PACK_MAX	4096
#define SM_MAX		253	/* libsmpp34 packs short_message of at most 253 octets */
#define MAX_WORDS	32
#define DEFAULT_TIMEOUT_MS 10000

/* ---- options (main.c) ---- */

enum mode { MODE_SCRIPT, MODE_INTERACTIVE, MODE_LOAD };

extern struct options {
	const char *host, *system_id, *password, *script, *code;
	unsigned port;
	unsigned control_port;	/* 0: no control interface */
	bool control;
	enum mode mode;
	int verbosity;		/* 0 results only, 1 requests we get and send, 2 every PDU */
	unsigned timeout_ms;	/* default for waits and expectations */
	unsigned long load_n, load_c;
	bool load_sms;
	unsigned long long msisdn_base;
	int auto_dlr;		/* 0 off, else 1 + the dlr state (sms_store.c) for every registered submit */
} opt;

/* ---- util.c ---- */

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
uint64_t now_ns(void);
bool parse_ulong(const char *s, unsigned long max, unsigned long *out);
void put_quoted(FILE *f, const char *s, size_t n);
int tcp_listen(unsigned port, const char *what, unsigned *bound);

/* ---- smpp_heap.c ---- */

void smpp_heap_install(void);
void smpp_heap_reset(void);
const char *smpp_error(void);

/* ---- smpp_session.c ---- */

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

extern struct conn *conns[MAX_CONNS];
extern int listen_fd;

void smpp_listen(void);
void smpp_accept(void);
bool conn_alive(const struct conn *c, unsigned id);
void conn_close(struct conn *c, const char *why);
void conn_flush(struct conn *c);
void conn_read(struct conn *c);
int conn_send_pdu(struct conn *c, void *pdu);
void send_header_only(struct conn *c, uint32_t id, uint32_t status, uint32_t seq);
struct conn *receiver(void);
bool any_bound(void);
bool smpp_unbind_all(void);
void smpp_close_all(const char *why);

/* ---- text.c ---- */

char *decode_text(unsigned dc, const uint8_t *p, size_t n);
int encode_text(const char *text, bool force_ucs2, uint8_t *out, uint8_t *dc);

/* ---- a submit_sm as the ESME sent it, decoded (smpp_session.c fills it) ---- */

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

void submit_free(struct submit *s);

/* ---- deliver.c ---- */

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

int mo_send(const struct mo *m);

/* ---- ussd.c ---- */

void ussd_begin(struct mo *m, const char *msisdn, const char *code, long session);
void ussd_continue(struct mo *m, const char *msisdn, const char *text, long session);
bool ussd_parse_session(const char *s, long *out);

/* ---- sms_store.c ---- */

struct issued {
	uint32_t id;
	char from[24], to[24];
	time_t when;
	char text[24];
};

extern uint32_t submit_status;	/* command_status for the next submit_sm_resp ("submit-status") */

uint32_t sms_issue(const struct submit *s);
uint32_t sms_last_issued(void);
const struct issued *issued_find(uint32_t id);
int dlr_state_by_name(const char *name);
int dlr_send(const struct issued *m, int st);
void sms_store_add(const struct submit *s);
void sms_store_free(void);

/* One SMS in a number's inbox: kept in arrival order, ids rise. */
struct stored_sms {
	unsigned long id;
	time_t when;
	char from[24], to[24];
	unsigned dc;
	char *text;
};

const struct stored_sms *sms_store_next(const char *msisdn, unsigned long after);

/* ---- expect.c ---- */

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

void submits_push(const struct submit *s);
struct submit *submits_peek(void);
void submits_pop(void);
void submits_free(void);
void print_submit(FILE *f, const struct submit *s);
const char *fmt_submit(const struct submit *s);
const char *expect_parse(struct expect *e, int argc, char **argv, bool sms, unsigned *timeout_ms);
void expect_free(struct expect *e);
const char *expect_match(const struct expect *e, const struct submit *s);

/* ---- script.c ---- */

void script_load_file(const char *path);
void script_check_all(void);
void script_stdin(void);
void script_stdin_read(void);
bool script_reading_stdin(void);
void script_poke(void);
uint64_t script_deadline(void);
bool script_finished(int *rc);
int script_stopped(void);
bool script_over(void);
void script_usage(FILE *f);
void script_free(void);

/* ---- load.c ---- */

void load_on_submit(const struct submit *s);
void load_on_unbind(void);
void load_on_deliver_resp(uint32_t seq, uint32_t status);
void load_arm(void);
uint64_t load_deadline(void);
bool load_finished(int *rc, bool wind_down);
int load_stopped(void);
void load_tick(uint64_t now);
void load_free(void);

/* ---- control.c ---- */

#define CONTROL_MAX_FDS	17	/* its listener and up to 16 handsets at a time */

void control_listen(void);
int control_pollfds(struct pollfd *pfd, int max);
void control_event(int fd, short revents);
void control_on_submit(const struct submit *s);
void control_on_sms(void);
uint64_t control_deadline(void);
void control_tick(uint64_t now);
void control_close_all(void);

#endif
