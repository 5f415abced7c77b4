/* fixed-box: the trivial responder of the box path, for scripts/bench-kannel.
 *
 * A minimal box on bearerbox's smsbox-port, doing what spazad's box front end does minus Spaza:
 * it identifies with a NULL box id, acks every sms bearerbox sends, and answers every MO at once
 * with one fixed MT (receiver and sender swapped, the same link; for USSD the meta-data carries
 * ussd_service_op 2 and the MO's its_session_info echoed as it came). Frames are packed and
 * unpacked by src/fronts/box_msg.c, the daemon's own codec.
 *
 * It sets TCP_NODELAY and re-arms TCP_QUICKACK after every read, as spazad does, so the figure it
 * gives is the box path's ceiling on this machine, not Nagle's. One thread, one poll() loop; the
 * connection is retried every 0.5 s while bearerbox is away. SIGTERM or SIGINT ends it and it
 * prints what it did: "fixed-box: mo N, mt N, acks N, nacks N, connects N".
 *
 *   fixed-box -p PORT [-H ADDR] [-t TEXT] [-q]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <talloc.h>

#include "box_msg.h"

#define RX_SIZE		(4 + BOX_FRAME_MAX)
#define TX_MAX		(4 << 20)
#define HEARTBEAT_S	30
#define RETRY_MS	500

static struct {
	const char *host;
	int port;
	const char *text;
	bool quiet;
} opt = { .host = "127.0.0.1", .text = "CON ok" };

static struct {
	void *ctx;
	int fd;
	uint8_t *rx;
	size_t rx_len;
	uint8_t *tx;
	size_t tx_len, tx_size;
	time_t last_heartbeat;
	unsigned long mo, mt, acks, nacks, connects;
} b = { .fd = -1 };

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	if (opt.quiet)
		return;
	va_start(ap, fmt);
	fputs("fixed-box: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static void queue_msg(const struct box_msg *m)
{
	size_t n = box_msg_pack(m, NULL, 0);

	if (b.tx_len + n > b.tx_size) {
		size_t size = b.tx_size;

		while (size < b.tx_len + n)
			size *= 2;
		if (size > TX_MAX) {
			say("bearerbox does not read what we send: dropping a frame\n");
			return;
		}
		uint8_t *tx = talloc_realloc_size(b.ctx, b.tx, size);

		if (!tx) {
			say("out of memory: dropping a frame\n");
			return;
		}
		b.tx = tx;
		b.tx_size = size;
	}
	box_msg_pack(m, b.tx + b.tx_len, n);
	b.tx_len += n;
}

static void disconnect(const char *why)
{
	if (b.fd < 0)
		return;
	say("connection closed: %s\n", why);
	close(b.fd);
	b.fd = -1;
	b.rx_len = b.tx_len = 0;
}

static void flush_tx(void)
{
	size_t off = 0;

	while (off < b.tx_len) {
		ssize_t n = send(b.fd, b.tx + off, b.tx_len - off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			disconnect(strerror(errno));
			return;
		}
		off += (size_t)n;
	}
	if (off && b.tx) {	/* b.tx is set whenever tx_len is; the analyzer cannot see it */
		memmove(b.tx, b.tx + off, b.tx_len - off);
		b.tx_len -= off;
	}
}

/* "its_session_info=<value>" of the MO's meta-data, the value as it came (URL-encoded). */
static const char *session_of(const struct box_str *meta, int *len)
{
	const char *p, *end;

	if (!meta->data)
		return NULL;
	p = strstr((const char *)meta->data, "its_session_info=");
	if (!p)
		return NULL;
	p += strlen("its_session_info=");
	end = strchr(p, '&');
	*len = end ? (int)(end - p) : (int)strlen(p);
	return p;
}

static void mo_in(const struct box_sms *s)
{
	struct box_msg r;
	char meta[128];
	const char *sess;
	int sess_len = 0;

	b.mo++;
	box_msg_init(&r, BOX_MSG_sms);
	r.sms.sender = s->receiver;
	r.sms.receiver = s->sender;
	r.sms.smsc_id = s->smsc_id;
	r.sms.sms_type = BOX_SMS_MT_REPLY;
	r.sms.time = (int32_t)time(NULL);
	r.sms.coding = BOX_CODING_7BIT;
	r.sms.dlr_mask = 0;
	r.sms.msgdata = box_str_refz(opt.text);
	sess = session_of(&s->meta_data, &sess_len);
	if (sess && strstr((const char *)s->meta_data.data, "ussd_service_op=")) {
		snprintf(meta, sizeof(meta), "?smpp?ussd_service_op=%%02&its_session_info=%.*s&", sess_len, sess);
		r.sms.meta_data = box_str_refz(meta);
		r.sms.binfo = box_str_refz("USSD");
	}
	queue_msg(&r);
	b.mt++;
}

static void frame_in(const uint8_t *payload, size_t len)
{
	struct box_msg m;
	char why[128];

	if (box_msg_unpack(b.ctx, &m, payload, len, why, sizeof(why)) < 0) {
		disconnect(why);
		return;
	}
	switch (m.type) {
	case BOX_MSG_sms: {
		struct box_msg ack = { .type = BOX_MSG_ack, .ack = { .nack = BOX_ACK_SUCCESS, .time = m.sms.time } };

		memcpy(ack.ack.id, m.sms.id, sizeof(ack.ack.id));
		queue_msg(&ack);
		if (m.sms.sms_type == BOX_SMS_MO)
			mo_in(&m.sms);
		break;
	}
	case BOX_MSG_ack:
		if (m.ack.nack == BOX_ACK_SUCCESS || m.ack.nack == BOX_ACK_BUFFERED)
			b.acks++;
		else
			b.nacks++;
		break;
	case BOX_MSG_admin:
		if (m.admin.command == BOX_CMD_SHUTDOWN || m.admin.command == BOX_CMD_RESTART)
			disconnect("bearerbox shuts down");
		break;
	default:
		break;
	}
	box_msg_free(&m);
}

static void read_in(void)
{
	ssize_t n = read(b.fd, b.rx + b.rx_len, RX_SIZE - b.rx_len);
	size_t off = 0;
	int one = 1;

	if (n == 0) {
		disconnect("closed by bearerbox");
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			disconnect(strerror(errno));
		return;
	}
	setsockopt(b.fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	b.rx_len += (size_t)n;
	for (;;) {
		ssize_t fl = box_frame_len(b.rx + off, b.rx_len - off);

		if (fl == 0)
			break;
		if (fl < 0) {
			disconnect("frame length out of bounds");
			return;
		}
		frame_in(b.rx + off + 4, (size_t)fl - 4);
		if (b.fd < 0)
			return;
		off += (size_t)fl;
	}
	memmove(b.rx, b.rx + off, b.rx_len - off);
	b.rx_len -= off;
}

/* A blocking connect (loopback: at once), then non-blocking I/O. */
static bool connect_bb(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port) };
	struct box_msg m;
	int one = 1;

	if (inet_pton(AF_INET, opt.host, &sa.sin_addr) != 1) {
		fprintf(stderr, "fixed-box: -H wants an IPv4 address\n");
		exit(2);
	}
	b.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (b.fd < 0 || connect(b.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (b.fd >= 0)
			close(b.fd);
		b.fd = -1;
		return false;
	}
	setsockopt(b.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(b.fd, F_SETFL, fcntl(b.fd, F_GETFL) | O_NONBLOCK);
	b.connects++;
	say("connected to bearerbox %s:%d\n", opt.host, opt.port);
	box_msg_init(&m, BOX_MSG_admin);
	m.admin.command = BOX_CMD_IDENTIFY;	/* boxc_id NULL: bearerbox routes MOs to us */
	queue_msg(&m);
	flush_tx();
	b.last_heartbeat = time(NULL);
	return b.fd >= 0;
}

static void usage(FILE *f)
{
	fputs("usage: fixed-box -p PORT [-H ADDR] [-t TEXT] [-q]\n"
	      "A minimal Kannel box: connects to bearerbox's smsbox-port, acks every MO and answers it\n"
	      "with TEXT (default \"CON ok\"); USSD answers carry ussd_service_op 2 and the echoed\n"
	      "its_session_info. The trivial responder of scripts/bench-kannel.\n"
	      "  -p, --port PORT   bearerbox's smsbox-port\n"
	      "  -H, --host ADDR   bearerbox's address (default 127.0.0.1)\n"
	      "  -t, --text TEXT   the reply\n"
	      "  -q, --quiet       print only the counts at exit\n", f);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "port", required_argument, NULL, 'p' }, { "host", required_argument, NULL, 'H' },
		{ "text", required_argument, NULL, 't' }, { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "p:H:t:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'p': opt.port = atoi(optarg); break;
		case 'H': opt.host = optarg; break;
		case 't': opt.text = optarg; break;
		case 'q': opt.quiet = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || opt.port <= 0 || opt.port > 65535) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	b.ctx = talloc_named_const(NULL, 0, "fixed-box");
	b.rx = talloc_size(b.ctx, RX_SIZE);
	b.tx_size = 65536;
	b.tx = talloc_size(b.ctx, b.tx_size);
	if (!b.rx || !b.tx) {
		fprintf(stderr, "fixed-box: out of memory\n");
		return 1;
	}

	while (!stop) {
		struct pollfd pfd;
		time_t now;

		if (b.fd < 0 && !connect_bb()) {
			usleep(RETRY_MS * 1000);
			continue;
		}
		pfd = (struct pollfd){ .fd = b.fd, .events = POLLIN | (b.tx_len ? POLLOUT : 0) };
		if (poll(&pfd, 1, 1000) < 0) {
			if (errno == EINTR)
				continue;
			perror("fixed-box: poll");
			return 1;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
			read_in();
		now = time(NULL);
		if (b.fd >= 0 && now - b.last_heartbeat >= HEARTBEAT_S) {
			struct box_msg hb = { .type = BOX_MSG_heartbeat, .heartbeat = { .load = 0 } };

			queue_msg(&hb);
			b.last_heartbeat = now;
		}
		/* what this turn's frames produced leaves now, in one write */
		if (b.fd >= 0 && b.tx_len)
			flush_tx();
	}
	if (b.fd >= 0)
		close(b.fd);
	printf("fixed-box: mo %lu, mt %lu, acks %lu, nacks %lu, connects %lu\n", b.mo, b.mt, b.acks, b.nacks,
	       b.connects);
	talloc_free(b.ctx);
	return 0;
}
