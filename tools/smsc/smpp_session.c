/* The SMPP side: the ESME's TCP connections (Kannel's bearerbox binds as a transceiver). PDUs are
 * framed by their command_length in a read buffer and packed and unpacked by libsmpp34; writes queue in
 * a buffer the loop drains on POLLOUT. Binds are checked against -u/-w; every submit_sm is answered at
 * once with a message id (or the status "submit-status" set), then handed on: to the load, or to the
 * handsets waiting on the control interface, the SMS inboxes and the script's expectations. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdint.h>
#include <stdio.h>

#include <smpp34.h>
#include <smpp34_heap.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>

#include "smsc.h"

struct conn *conns[MAX_CONNS];
int listen_fd = -1;
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
bool conn_alive(const struct conn *c, unsigned id)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i] == c && c->id == id)
			return true;
	return false;
}

void conn_close(struct conn *c, const char *why)
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

void conn_flush(struct conn *c)
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
int conn_send_pdu(struct conn *c, void *pdu)
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

void send_header_only(struct conn *c, uint32_t id, uint32_t status, uint32_t seq)
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
struct conn *receiver(void)
{
	struct conn *best = NULL;

	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i] && (conns[i]->bound & CAN_RECEIVE) && !conns[i]->close_when_flushed &&
		    (!best || conns[i]->id > best->id))
			best = conns[i];
	return best;
}

bool any_bound(void)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i] && conns[i]->bound && !conns[i]->close_when_flushed)
			return true;
	return false;
}

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
	script_poke();
}

static void on_submit(struct conn *c, const uint8_t *pdu, size_t len, uint32_t seq)
{
	submit_sm_t *p = calloc(1, sizeof(*p));	/* big: keep it off the stack */
	submit_sm_resp_t r;
	struct submit s;
	const uint8_t *sm;
	size_t sm_len;
	uint32_t id = 0;

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
		id = sms_issue(&s);
		snprintf(s.msg_id, sizeof(s.msg_id), "%" PRIu32, id);
		snprintf((char *)r.message_id, sizeof(r.message_id), "%s", s.msg_id);
	}
	conn_send_pdu(c, &r);
	if (opt.verbosity >= 1) {
		printf("<< ");
		print_submit(stdout, &s);
		if (r.command_status == ESME_ROK)
			printf(" -> message_id=%s\n", s.msg_id);
		else
			printf(" -> status=0x%08x\n", r.command_status);
	}
	if (opt.auto_dlr && s.regdel && r.command_status == ESME_ROK)
		dlr_send(issued_find(id), opt.auto_dlr - 1);
	if (opt.mode == MODE_LOAD) {
		load_on_submit(&s);
		submit_free(&s);
		return;
	}
	control_on_submit(&s);
	if (s.op < 0 && !s.err[0])
		sms_store_add(&s);
	submits_push(&s);
	conn_flush(c);
	script_poke();
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
		script_poke();
	} else if (id == UNBIND_RESP) {
		c->bound = 0;
		load_on_unbind();
		c->close_when_flushed = true;
		script_poke();
	}
}

void conn_read(struct conn *c)
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

void smpp_accept(void)
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

void smpp_listen(void)
{
	unsigned port;

	listen_fd = tcp_listen(opt.port, "", &port);
	printf("-- listening on %s:%u\n", opt.host, port);
}

/* The SMSC unbinds every bound ESME (the script's "unbind"); false when nobody was bound. */
bool smpp_unbind_all(void)
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
	return any;
}

void smpp_close_all(const char *why)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i])
			conn_close(conns[i], why);
}
