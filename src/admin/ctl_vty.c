/* spazactl vty [COMMAND...]: into the running spazad's VTY without telnet (which a fresh
 * machine lacks). The address and port are the config's `line vty` (bind ADDR [PORT]; an
 * address of any host connects over loopback); when the secrets file has a vty-token the VTY
 * asks for it (admin/vty.c) and it is sent at the prompt, never shown.
 *
 * With commands, each is sent in turn and its output printed without the echo and the prompt;
 * with none, the commands are stdin's lines, or, when stdin is a terminal, the session is
 * the user's (the terminal raw, so the VTY's own echo, completion and help work as in telnet)
 * until the VTY closes it. libosmovty speaks telnet: its option negotiation is dropped from
 * what is printed, and answered by nothing (it does not wait for answers). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <talloc.h>
#include <osmocom/vty/vty.h>
#include "cfg.h"
#include "ctl.h"
#include "secrets.h"

#define CTL_VTY_TIMEOUT_MS 10000
#define CTL_VTY_TELNET_IAC 255
#define CTL_VTY_TELNET_SB 250
#define CTL_VTY_TELNET_SE 240
#define CTL_VTY_TELNET_WILL 251

struct ctl_vty {
	void *ctx;
	int fd;
	char *buf;		/* text read since the last prompt, telnet commands dropped */
	size_t len;
	int iac;		/* telnet parser: 0 text, 1 after IAC, 2 option byte due, 3 in SB, 4 IAC in SB */
	char host[64];		/* the prompt's host name, learnt from the first prompt */
};

/* Text out of a telnet byte stream: IAC IAC is a 0xff, IAC WILL/WONT/DO/DONT x and IAC SB ...
 * IAC SE are negotiation; NULs and CRs go too. */
static void ctl_vty_take(struct ctl_vty *v, const uint8_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t b = in[i];
		switch (v->iac) {
		case 1:
			v->iac = b == CTL_VTY_TELNET_SB ? 3 : b >= CTL_VTY_TELNET_WILL && b < CTL_VTY_TELNET_IAC ? 2 : 0;
			if (b != CTL_VTY_TELNET_IAC)
				continue;
			break;
		case 2:
			v->iac = 0;
			continue;
		case 3:
			v->iac = b == CTL_VTY_TELNET_IAC ? 4 : 3;
			continue;
		case 4:
			v->iac = b == CTL_VTY_TELNET_SE ? 0 : 3;
			continue;
		default:
			if (b == CTL_VTY_TELNET_IAC) {
				v->iac = 1;
				continue;
			}
			if (b == '\r' || b == '\0')
				continue;
		}
		v->buf = talloc_realloc_size(v->ctx, v->buf, v->len + 2);
		v->buf[v->len++] = b;
		v->buf[v->len] = '\0';
	}
}

/* The last line of what was read ("" before anything was). */
static const char *ctl_vty_last_line(const struct ctl_vty *v)
{
	const char *line = v->buf ? strrchr(v->buf, '\n') : NULL;
	return line ? line + 1 : v->buf ? v->buf : "";
}

/* The last line of what was read, when it is a prompt: "host> ", "host# ", "host(config)# ";
 * a password prompt too, before the host is known. */
static bool ctl_vty_prompted(const struct ctl_vty *v, bool password)
{
	const char *line = ctl_vty_last_line(v);
	size_t n = strlen(line);
	if (password)
		return n >= 10 && !strcmp(line + n - 10, "Password: ");
	if (n < 2 || line[n - 1] != ' ' || (line[n - 2] != '>' && line[n - 2] != '#'))
		return false;
	return !*v->host || !strncmp(line, v->host, strlen(v->host));
}

/* Reads until a prompt; 0, or -EIO after a message (closed, timed out). */
static int ctl_vty_wait(struct ctl_vty *v, bool password)
{
	while (!ctl_vty_prompted(v, password)) {
		if (!password && ctl_vty_prompted(v, true)) {
			fprintf(stderr, "spazactl: vty: the VTY asks for a password: the vty-token of the secrets file"
				" %s is missing or not spazad's\n", g_cfg->secrets_file);
			return -EIO;
		}
		struct pollfd p = { .fd = v->fd, .events = POLLIN };
		uint8_t in[4096];
		if (poll(&p, 1, CTL_VTY_TIMEOUT_MS) <= 0) {
			fprintf(stderr, "spazactl: vty: no %s within %d s\n", password ? "password prompt" : "prompt",
				CTL_VTY_TIMEOUT_MS / 1000);
			return -EIO;
		}
		ssize_t n = read(v->fd, in, sizeof(in));
		if (n <= 0) {
			fprintf(stderr, "spazactl: vty: the VTY closed the connection%s\n",
				password ? "" : " (a wrong vty-token?)");
			return -EIO;
		}
		ctl_vty_take(v, in, n);
	}
	return 0;
}

/* A line ends in a bare "\n": libosmovty runs a command at "\r" and again at "\n", so telnet's
 * "\r\n" would add an empty command and a second prompt. MSG_NOSIGNAL: a VTY that closed the
 * connection is an error to report, not a SIGPIPE. */
static int ctl_vty_send(struct ctl_vty *v, const char *line)
{
	size_t n = strlen(line);
	if (send(v->fd, line, n, MSG_NOSIGNAL) != (ssize_t)n || send(v->fd, "\n", 1, MSG_NOSIGNAL) != 1) {
		fprintf(stderr, "spazactl: vty: %s\n", strerror(errno));
		return -EIO;
	}
	return 0;
}

static void ctl_vty_clear(struct ctl_vty *v)
{
	v->len = 0;
	if (v->buf)
		v->buf[0] = '\0';
}

/* One command: its output, without the echoed command line and the next prompt. */
static int ctl_vty_command(struct ctl_vty *v, const char *cmd)
{
	ctl_vty_clear(v);
	if (ctl_vty_send(v, cmd) < 0 || ctl_vty_wait(v, false) < 0)
		return -EIO;
	char *out = strchr(v->buf, '\n');
	char *prompt = strrchr(v->buf, '\n');
	if (out && prompt > out)
		fwrite(out + 1, 1, prompt - out, stdout);
	fflush(stdout);
	return 0;
}

/* The user's own session: the terminal raw, bytes both ways until the VTY closes. */
static int ctl_vty_interactive(struct ctl_vty *v)
{
	struct termios saved, raw;
	if (tcgetattr(STDIN_FILENO, &saved) < 0)
		return -EIO;
	raw = saved;
	cfmakeraw(&raw);
	raw.c_oflag |= OPOST;	/* "\n" in our own messages still starts a line */
	tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	fputs(ctl_vty_last_line(v), stdout);
	fflush(stdout);
	int rc = 0;
	for (;;) {
		struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = POLLIN }, { .fd = v->fd, .events = POLLIN } };
		uint8_t in[4096];
		if (poll(p, 2, -1) < 0 && errno != EINTR) {
			rc = -EIO;
			break;
		}
		if (p[0].revents) {
			ssize_t n = read(STDIN_FILENO, in, sizeof(in));
			if (n <= 0 || send(v->fd, in, n, MSG_NOSIGNAL) != n)
				break;
		}
		if (p[1].revents) {
			ssize_t n = read(v->fd, in, sizeof(in));
			if (n <= 0)
				break;
			ctl_vty_clear(v);
			ctl_vty_take(v, in, n);
			if (v->len)
				fwrite(v->buf, 1, v->len, stdout);
			fflush(stdout);
		}
	}
	tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	printf("\n");
	return rc;
}

/* Connected to the config's VTY address and port; -EIO after a message. */
static int ctl_vty_connect(void)
{
	const char *addr = vty_get_bind_addr();
	char port[8];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai, *a;

	if (!addr || !strcmp(addr, "0.0.0.0") || !strcmp(addr, "*"))
		addr = "127.0.0.1";
	else if (!strcmp(addr, "::"))
		addr = "::1";
	snprintf(port, sizeof(port), "%d", vty_get_bind_port(CFG_VTY_PORT_DEFAULT));
	int rc = getaddrinfo(addr, port, &hints, &ai);
	if (rc) {
		fprintf(stderr, "spazactl: vty: %s: %s\n", addr, gai_strerror(rc));
		return -EIO;
	}
	int fd = -1;
	for (a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	if (fd < 0)
		fprintf(stderr, "spazactl: vty: cannot connect to %s port %s: %s (is spazad running?)\n", addr, port,
			strerror(errno));
	return fd < 0 ? -EIO : fd;
}

int ctl_vty(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_vty v = { .ctx = ctl->ctx, .fd = -1 };
	char err[512];
	int rc = CTL_ERR;

	/* The token, when the secrets file has one: a VTY off loopback asks for it. */
	if (secrets_load_cfg(err, sizeof(err)) < 0) {
		fprintf(stderr, "spazactl: %s\n", err);
		return CTL_ERR;
	}
	const char *token = secrets_password("vty-token");
	v.fd = ctl_vty_connect();
	if (v.fd < 0)
		return CTL_ERR;
	if (token && (ctl_vty_wait(&v, true) < 0 || ctl_vty_send(&v, token) < 0))
		goto out;
	/* from here on a password prompt is a refusal */
	ctl_vty_clear(&v);
	if (ctl_vty_wait(&v, false) < 0)
		goto out;
	/* the host name: the prompt up to its '>' */
	const char *line = ctl_vty_last_line(&v);
	snprintf(v.host, sizeof(v.host), "%.*s", (int)strcspn(line, ">#("), line);

	rc = CTL_OK;
	if (argc) {
		for (int i = 0; i < argc && rc == CTL_OK; i++)
			if (ctl_vty_command(&v, argv[i]) < 0)
				rc = CTL_ERR;
	} else if (isatty(STDIN_FILENO)) {
		if (ctl_vty_interactive(&v) < 0)
			rc = CTL_ERR;
	} else {
		char *cmd = NULL;
		size_t cap = 0;
		while (rc == CTL_OK && getline(&cmd, &cap, stdin) >= 0) {
			cmd[strcspn(cmd, "\r\n")] = '\0';
			if (*cmd && ctl_vty_command(&v, cmd) < 0)
				rc = CTL_ERR;
		}
		free(cmd);
	}
	if (rc == CTL_OK && (argc || !isatty(STDIN_FILENO)))
		ctl_vty_send(&v, "exit");
out:
	close(v.fd);
	talloc_free(v.buf);
	return rc;
}
