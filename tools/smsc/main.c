/* spaza-smsc's options, signals and its one poll() loop: the SMPP listener and connections, stdin
 * (-i), the control interface, and the deadlines of the script, the load and waiting handsets. What
 * each room does is in smsc.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smsc.h"

struct options opt = {
	.host = "127.0.0.1", .code = "*120*777#", .verbosity = 1, .timeout_ms = DEFAULT_TIMEOUT_MS,
	.load_c = 10, .msisdn_base = 27830000000ull,
};

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t wind_down_signal;	/* --load: SIGUSR1 */

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		wind_down_signal = sig;
	else
		stop_signal = sig;
}

static uint64_t next_deadline(void)
{
	uint64_t d = opt.mode == MODE_LOAD ? load_deadline() : script_deadline(), c = control_deadline();

	return c < d ? c : d;
}

/* True when the run is over (rc set). */
static bool finished(int *rc)
{
	if (stop_signal) {
		*rc = opt.mode == MODE_LOAD ? load_stopped() : script_stopped();
		printf("-- stopped by signal %d\n", (int)stop_signal);
		return true;
	}
	if (opt.mode == MODE_LOAD)
		return load_finished(rc, wind_down_signal != 0);
	return script_finished(rc);
}

static int loop(void)
{
	struct pollfd pfd[MAX_CONNS + 2 + CONTROL_MAX_FDS];
	struct conn *who[MAX_CONNS + 2 + CONTROL_MAX_FDS];
	unsigned ids[MAX_CONNS + 2 + CONTROL_MAX_FDS];
	int rc = 0;
	bool use_stdin = opt.mode == MODE_INTERACTIVE;

	for (;;) {
		int n = 0, ctl_from, ctl_to, timeout = -1;
		uint64_t d, now;

		if (finished(&rc))
			break;
		pfd[n] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
		who[n++] = NULL;
		if (use_stdin && script_reading_stdin()) {
			pfd[n] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
			who[n++] = NULL;
		}
		ctl_from = n;
		n += control_pollfds(pfd + n, CONTROL_MAX_FDS);
		ctl_to = n;
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
			if (i >= ctl_from && i < ctl_to) {
				control_event(pfd[i].fd, pfd[i].revents);
				continue;
			}
			if (pfd[i].fd == listen_fd) {
				smpp_accept();
				continue;
			}
			if (!c) {
				script_stdin_read();
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
		now = now_ns();
		if (opt.mode == MODE_LOAD)
			load_tick(now);
		control_tick(now);
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
	      "      --control PORT     handsets' HTTP interface on the listen address (0: any free port,\n"
	      "                         printed): POST /ussd, POST /sms, GET /inbox (doc/kannel.md)\n"
	      "  -t, --timeout MS       default wait for binds and expectations (default 10000)\n"
	      "  -v, --verbose          print every PDU\n"
	      "  -q, --quiet            print results only\n"
	      "Script commands (one a line, # comments; quotes group words, \\n is a newline):\n",
	      f);
	script_usage(f);
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
		{ "control", required_argument, NULL, 'K' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c, modes = 0, verbosity = -1, rc;
	bool have_port = false;

	setvbuf(stdout, NULL, _IOLBF, 0);
	smpp_heap_install();
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
		case 'K':
			if (!parse_ulong(optarg, 65535, &v))
				die("--control wants 0-65535, not '%s'", optarg);
			opt.control_port = (unsigned)v;
			opt.control = true;
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
		script_load_file(opt.script);
		script_check_all();
	} else if (opt.mode == MODE_INTERACTIVE) {
		script_stdin();
	} else {
		load_arm();
	}
	smpp_listen();
	if (opt.control)
		control_listen();
	rc = loop();
	close(listen_fd);
	control_close_all();
	submits_free();
	sms_store_free();
	script_free();
	load_free();
	return rc;
}
