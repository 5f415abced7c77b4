/* The command runner behind --script FILE and -i: lines run one by one; a line either completes at
 * once or leaves a wait (for a bind, a submit_sm, an unbind, a timer) that later events resolve, so
 * scripts never sleep to wait for something. Every command is in one table at the bottom-ish
 * (commands[]), which also gives the usage text. The whole of a script is checked before the first
 * PDU is sent. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smsc.h"

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

static int cmd_ussd(int argc, char **argv, bool begin)
{
	struct mo m;
	long session;

	if (!ussd_parse_session(argv[3], &session)) {
		step_failed("SESSION (its_session_info) wants 0-65535, not '%s'", argv[3]);
		return -1;
	}
	if (begin)
		ussd_begin(&m, argv[1], argv[2], session);
	else
		ussd_continue(&m, argv[1], argv[2], session);
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
		id = sms_last_issued();
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
	if (!smpp_unbind_all())
		printf("-- unbind: nobody is bound\n");
	return 0;
}

static int cmd_drop(int argc, char **argv)
{
	smpp_close_all("dropped by the script");
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
void script_check_all(void)
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
		if (submits_peek()) {
			struct submit *s = submits_peek();

			step_failed("expected no submit_sm; got: %s", fmt_submit(s));
			submit_free(s);
			submits_pop();
			return -1;
		}
		if (late && opt.verbosity >= 1)
			printf("ok %s:%d: no submit_sm\n", run.name, run.linenos[run.pc]);
		return late ? 1 : 0;
	case W_SUBMIT:
		if (submits_peek()) {
			struct submit *s = submits_peek();
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
			submits_pop();
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
static void script_step(void)
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

/* After every event: the lines waiting for it go on. */
void script_poke(void)
{
	if (opt.mode == MODE_LOAD || in_runner)
		return;
	in_runner = true;
	script_step();
	in_runner = false;
}

void script_load_file(const char *path)
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

void script_stdin_read(void)
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

void script_stdin(void)
{
	run.name = "stdin";	/* poll() says when a read() will not block: stdin stays as it is */
}

bool script_reading_stdin(void)
{
	return !run.input_done;
}

/* Every line ran and no more will come: nothing will look at another submit_sm. */
bool script_over(void)
{
	return opt.mode != MODE_LOAD && run.input_done && run.pc >= run.n && run.wait == W_NONE;
}

uint64_t script_deadline(void)
{
	return run.wait != W_NONE ? run.deadline : UINT64_MAX;
}

/* True when the run is over (rc set): a script ran its last line, or "quit". */
bool script_finished(int *rc)
{
	script_step();
	if (opt.mode == MODE_SCRIPT && (run.pc >= run.n || run.quit)) {
		printf("PASSED %s: %u expectations held\n", run.name, run.expectations);
		*rc = 0;
		return true;
	}
	if (opt.mode == MODE_INTERACTIVE && run.quit) {
		*rc = run.failures ? 1 : 0;
		return true;
	}
	return false;
}

/* The exit status when a signal stops the run. */
int script_stopped(void)
{
	return opt.mode == MODE_INTERACTIVE && !run.failures ? 0 : 1;
}

void script_usage(FILE *f)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].usage);
}

void script_free(void)
{
	for (size_t i = 0; i < run.n; i++)
		free(run.lines[i]);
	free(run.lines);
	free(run.linenos);
	free(run.stdin_buf);
}
