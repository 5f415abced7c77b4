/* --load N --concurrency C: N begin -> reply round trips, C in flight, one MSISDN per slot. When the
 * ESME goes away (a bearerbox restart), slots wait for it to bind again, -t at most; the round trips it
 * had in flight are cut (counted apart from timeouts), and their replies count as late when they
 * still come. SIGUSR1 winds the load down; the figures are one line (doc/kannel.md). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "smsc.h"

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
	uint64_t bind_deadline;	/* for the first bind */
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

void load_on_deliver_resp(uint32_t seq, uint32_t status)
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
void load_on_unbind(void)
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

void load_on_submit(const struct submit *s)
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

/* The first bind must come within -t. */
void load_arm(void)
{
	load.bind_deadline = now_ns() + (uint64_t)opt.timeout_ms * 1000000u;
}

uint64_t load_deadline(void)
{
	uint64_t d = UINT64_MAX;

	if (!load.running)
		return load.bind_deadline;
	if (load.parked)
		d = load.unbound_since + (uint64_t)opt.timeout_ms * 1000000u + 1000000u;
	for (unsigned long i = 0; i < opt.load_c; i++) {
		if (load.slots[i].t0 && load.slots[i].t0 + (uint64_t)opt.timeout_ms * 1000000u < d)
			d = load.slots[i].t0 + (uint64_t)opt.timeout_ms * 1000000u;
		if (load.slots[i].resend_at && load.slots[i].resend_at < d)
			d = load.slots[i].resend_at;
	}
	return d;
}

/* True when the load is over (rc set). WIND_DOWN: SIGUSR1 came. */
bool load_finished(int *rc, bool wind_down)
{
	if (!load.running) {
		if (receiver()) {
			load.running = true;
			load.slots = xrealloc(NULL, opt.load_c * sizeof(*load.slots));
			memset(load.slots, 0, opt.load_c * sizeof(*load.slots));
			load.lat_us = xrealloc(NULL, opt.load_n * sizeof(*load.lat_us));
			load.t_begin = now_ns();
			for (unsigned long i = 0; i < opt.load_c && load.started < opt.load_n; i++)
				load_start(i);
		} else if (now_ns() >= load.bind_deadline) {
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
	if (wind_down && !load.winding) {
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

/* SIGTERM: the exit status, with the figures so far when they are not out yet. */
int load_stopped(void)
{
	if (load.reported)
		return load.rc;
	if (!load.running)
		return 1;
	load.t_end = now_ns();
	return load_report();
}

void load_tick(uint64_t now)
{
	if (!load.running)
		return;
	load_resend_due(now);
	load_check_timeouts(now);
}

void load_free(void)
{
	free(load.slots);
	free(load.lat_us);
}
