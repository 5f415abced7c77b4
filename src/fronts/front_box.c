/* Kannel's native box front end: spazad is a box on bearerbox's smsbox-port, as kannel-sqlbox
 * and opensmppbox are. No smsbox and no HTTP hop: MOs arrive as sms messages on one TCP
 * connection and the replies leave on it as sms messages (box_msg.def has the record layout).
 *
 * The connection lives in the osmo_select loop:
 *   OFF         no `kannel box connect` configured, or shutting down
 *   WAIT        the back-off timer runs (0.5 s doubling to 10 s), then a non-blocking connect
 *   CONNECTING  connect() in progress: the fd waits for writability, a timer for a hung connect
 *   UP          identified with admin{cmd_identify} and a NULL box id (bearerbox gives a named
 *               box only what smsbox-route sends it); a heartbeat every 30 s
 * Whatever goes wrong on the wire (a malformed frame, a read or write error, EOF, bearerbox's
 * shutdown command) closes the socket and goes back to WAIT. The daemon never exits for it, and
 * an outage is logged once at NOTICE, however many attempts it takes.
 *
 * Every sms from bearerbox is acked at once: bearerbox counts unacked ones against
 * smsbox-max-pending and sends them again on the next connection. An MO then becomes a session
 * hop (USSD: meta-data with ussd_service_op, exactly as on /kannel/mo) or goes to the SMS
 * commands. A reply is an MT sms that stays on the MT list until bearerbox acks it, so one
 * written to a connection that broke goes out again on the next (while it is fresh). */
#include <errno.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <talloc.h>
#include <osmocom/core/bit32gen.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>
#include <osmocom/vty/command.h>
#include <osmocom/vty/vty.h>

#include "box_msg.h"
#include "cfg.h"
#include "front_box.h"
#include "gsm7.h"
#include "kannel_meta.h"
#include "logging.h"
#include "msisdn.h"
#include "kannel_send.h"
#include "outbox.h"
#include "session.h"
#include "sms.h"
#include "stats.h"

#define BOX_BACKOFF_MIN_MS	500
#define BOX_BACKOFF_MAX_MS	10000
#define BOX_CONNECT_TIMEOUT_S	5
#define BOX_HEARTBEAT_S		30
/* A connection that lived this long earns a fresh back-off; one that dies sooner (a bad frame
 * bearerbox sends again on every connection, say) keeps doubling it. */
#define BOX_STABLE_S		10
#define BOX_RX_SIZE		(4 + BOX_FRAME_MAX)
#define BOX_TX_MAX		(4 << 20)	/* unsent bytes: bearerbox has stopped reading */
#define BOX_MT_MAX		10000		/* MTs waiting for bearerbox's ack */
#define BOX_MT_FRESH_S		60		/* older ones are not sent again after a reconnect */
#define BOX_MT_RETRY_S		1		/* after a temporary nack (bearerbox's queue is full) */
#define BOX_MT_TRIES		3
#define BOX_TEXT_MAX		640		/* longest MO text in UTF-8 bytes, as on /kannel/mo */

enum box_state { BOX_OFF, BOX_WAIT, BOX_CONNECTING, BOX_UP };
static const char *const box_state_names[] = { "off", "waiting to reconnect", "connecting", "connected" };

/* An MT, packed, until bearerbox acks it. */
struct box_mt {
	struct llist_head entry;
	char id[BOX_UUID_LEN + 1];
	char *to;
	time_t created;
	bool written;		/* queued on the current connection */
	unsigned tries;
	size_t len;
	uint8_t *frame;
	outbox_done_cb done;	/* an outbox SMS: told how it ended */
	void *done_priv;
};

/* An MO whose reply is still to come: what the reply needs of it. */
struct box_mo {
	char *sender, *receiver, *smsc_id;
	const struct kannel_link *link;
	struct kannel_meta meta;
};

static struct {
	void *ctx;
	char *addr;
	uint16_t port;
	enum box_state state;
	struct osmo_fd ofd;			/* fd -1 while there is no socket */
	struct osmo_timer_list timer;		/* WAIT: the back-off; CONNECTING: the connect timeout */
	struct osmo_timer_list heartbeat;
	struct osmo_timer_list retry;		/* MTs nacked with "queue full" */
	unsigned backoff_ms;
	bool was_up;				/* connected at least once: later connects are reconnects */
	bool in_outage;				/* the outage has been logged */
	unsigned attempts;			/* connects that failed in this outage */
	time_t outage_since, up_since;
	uint8_t *rx;
	size_t rx_len;
	uint8_t *tx;
	size_t tx_len, tx_size;
	struct llist_head mts;
	unsigned n_mts;
	unsigned n_mo_waiting;
	bool outbox;				/* the outbox sends through us */
} g_box = { .ofd = { .fd = -1 } };

#define LOGBOX(lvl, fmt, args...) LOGP(DKANNEL, lvl, "box %s:%u: " fmt, g_box.addr, g_box.port, ## args)

static void box_connect(void);
static void box_mt_resend(void);
static void box_mt_done(struct box_mt *mt, enum outbox_result r, const char *detail);

/* ---- the connection ---- */

static void box_close(void)
{
	struct box_mt *mt;

	if (g_box.ofd.fd >= 0) {
		osmo_fd_unregister(&g_box.ofd);
		close(g_box.ofd.fd);
		g_box.ofd.fd = -1;
	}
	osmo_timer_del(&g_box.timer);
	osmo_timer_del(&g_box.heartbeat);
	osmo_timer_del(&g_box.retry);
	g_box.rx_len = 0;
	g_box.tx_len = 0;
	llist_for_each_entry(mt, &g_box.mts, entry)
		mt->written = false;
}

/* The connection broke or never came: log once per outage, try again after the back-off.
 * Safe to call from anywhere below the fd callback; callers stop when the state is not UP. */
static void box_fail(const char *why)
{
	time_t now = time(NULL);
	bool was_up = g_box.state == BOX_UP;
	struct box_mt *mt, *tmp;

	box_close();
	/* outbox SMS go back to the outbox at once, to be sent again after its back-off: waiting
	 * here for the reconnect could outlast the outbox's lease on the row and send it twice */
	llist_for_each_entry_safe(mt, tmp, &g_box.mts, entry)
		if (mt->done)
			box_mt_done(mt, OUTBOX_RETRY, "connection to bearerbox lost");
	if (was_up) {
		if (now - g_box.up_since >= BOX_STABLE_S)
			g_box.backoff_ms = BOX_BACKOFF_MIN_MS;
		LOGBOX(LOGL_NOTICE, "connection to bearerbox lost: %s; reconnecting\n", why);
		g_box.in_outage = true;
		g_box.outage_since = now;
		g_box.attempts = 0;
	} else if (!g_box.in_outage) {
		LOGBOX(LOGL_NOTICE, "bearerbox not reachable: %s; retrying in the background\n", why);
		g_box.in_outage = true;
		g_box.outage_since = now;
		g_box.attempts = 1;
	} else {
		LOGBOX(LOGL_INFO, "bearerbox still not reachable: %s\n", why);
		g_box.attempts++;
	}
	g_box.state = BOX_WAIT;
	osmo_timer_schedule(&g_box.timer, g_box.backoff_ms / 1000, (g_box.backoff_ms % 1000) * 1000);
	g_box.backoff_ms = OSMO_MIN(g_box.backoff_ms * 2, BOX_BACKOFF_MAX_MS);
}

static bool box_tx_reserve(size_t n)
{
	if (g_box.tx_len + n <= g_box.tx_size)
		return true;
	if (g_box.tx_len + n > BOX_TX_MAX)
		return false;
	size_t size = OSMO_MAX(g_box.tx_size * 2, g_box.tx_len + n);
	g_box.tx = talloc_realloc_size(g_box.ctx, g_box.tx, size);
	OSMO_ASSERT(g_box.tx);
	g_box.tx_size = size;
	return true;
}

/* Append one frame; it is written when the socket is writable (at the latest on the next loop
 * turn), so the acks and replies of one turn leave together. */
static void box_queue_msg(const struct box_msg *m)
{
	size_t avail = g_box.tx_size - g_box.tx_len;
	size_t n = box_msg_pack(m, g_box.tx + g_box.tx_len, avail);

	if (n > avail) {
		if (!box_tx_reserve(n)) {
			box_fail("bearerbox does not read what we send");
			return;
		}
		box_msg_pack(m, g_box.tx + g_box.tx_len, n);
	}
	g_box.tx_len += n;
	osmo_fd_write_enable(&g_box.ofd);
}

static void box_flush(void)
{
	size_t off = 0;

	while (off < g_box.tx_len) {
		ssize_t n = send(g_box.ofd.fd, g_box.tx + off, g_box.tx_len - off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			box_fail(strerror(errno));
			return;
		}
		off += n;
	}
	memmove(g_box.tx, g_box.tx + off, g_box.tx_len - off);
	g_box.tx_len -= off;
	if (g_box.tx_len)
		osmo_fd_write_enable(&g_box.ofd);
	else
		osmo_fd_write_disable(&g_box.ofd);
}

static void box_heartbeat_cb(void *data)
{
	/* load: how busy this box is, for bearerbox's choice among several boxes */
	struct box_msg m = { .type = BOX_MSG_heartbeat, .heartbeat = { .load = g_box.n_mo_waiting } };

	box_queue_msg(&m);
	if (g_box.state == BOX_UP)
		osmo_timer_schedule(&g_box.heartbeat, BOX_HEARTBEAT_S, 0);
}

static void box_up(void)
{
	time_t now = time(NULL);
	struct box_msg m;

	osmo_timer_del(&g_box.timer);
	g_box.state = BOX_UP;
	g_box.up_since = now;
	if (g_box.in_outage)
		LOGBOX(LOGL_NOTICE, "connected to bearerbox after %ld s and %u failed attempts\n",
		       (long)(now - g_box.outage_since), g_box.attempts);
	else
		LOGBOX(LOGL_NOTICE, "connected to bearerbox\n");
	if (g_box.was_up)
		STAT_INC(BOX_RECONNECTS);
	g_box.was_up = true;
	g_box.in_outage = false;
	g_box.attempts = 0;
	osmo_fd_read_enable(&g_box.ofd);
	osmo_fd_write_disable(&g_box.ofd);

	box_msg_init(&m, BOX_MSG_admin);
	m.admin.command = BOX_CMD_IDENTIFY;	/* boxc_id stays NULL */
	box_queue_msg(&m);
	box_mt_resend();
	if (g_box.state == BOX_UP) {
		osmo_timer_schedule(&g_box.heartbeat, BOX_HEARTBEAT_S, 0);
		if (g_box.outbox)
			outbox_resume();	/* SMS queued while bearerbox was away go now */
	}
}

/* ---- MOs in, replies out ---- */

static int box_mo_destructor(struct box_mo *mo)
{
	g_box.n_mo_waiting--;
	return 0;
}

static struct box_mo *box_mo_new(const struct box_sms *sms, const struct kannel_meta *km)
{
	struct box_mo *mo = talloc_zero(g_box.ctx, struct box_mo);

	OSMO_ASSERT(mo);
	mo->sender = talloc_strdup(mo, (const char *)sms->sender.data);
	mo->receiver = talloc_strdup(mo, (const char *)sms->receiver.data);
	mo->smsc_id = sms->smsc_id.data ? talloc_strdup(mo, (const char *)sms->smsc_id.data) : NULL;
	mo->meta = *km;
	g_box.n_mo_waiting++;
	talloc_set_destructor(mo, box_mo_destructor);
	return mo;
}

/* An MT leaves the list: acked (OUTBOX_SENT), refused for good, or given up on (OUTBOX_RETRY:
 * the outbox sends it again after its back-off). */
static void box_mt_done(struct box_mt *mt, enum outbox_result r, const char *detail)
{
	if (mt->done)
		mt->done(mt->done_priv, r, detail);
	llist_del(&mt->entry);
	g_box.n_mts--;
	talloc_free(mt);
}

static void box_mt_write(struct box_mt *mt)
{
	if (!box_tx_reserve(mt->len)) {
		box_fail("bearerbox does not read what we send");
		return;
	}
	memcpy(g_box.tx + g_box.tx_len, mt->frame, mt->len);
	g_box.tx_len += mt->len;
	mt->written = true;
	mt->tries++;
	osmo_fd_write_enable(&g_box.ofd);
}

/* MTs not on the current connection (a new connection, a temporary nack): write them again,
 * unless they are too old to matter (a USSD screen long after the dialogue ended). */
static void box_mt_resend(void)
{
	time_t now = time(NULL);
	struct box_mt *mt, *tmp;

	llist_for_each_entry_safe(mt, tmp, &g_box.mts, entry) {
		if (mt->written)
			continue;
		if (now - mt->created > BOX_MT_FRESH_S) {
			LOGBOX(LOGL_NOTICE, "MT %s to %s dropped: not acked by bearerbox for %ld s\n", mt->id, mt->to,
			       (long)(now - mt->created));
			STAT_INC(BOX_MT_DROPPED);
			box_mt_done(mt, OUTBOX_RETRY, "not acked by bearerbox in time");
			continue;
		}
		box_mt_write(mt);
		if (g_box.state != BOX_UP)
			return;
	}
}

static void box_retry_cb(void *data)
{
	if (g_box.state == BOX_UP)
		box_mt_resend();
}

static struct box_mt *box_mt_add(const struct box_msg *m)
{
	struct box_mt *mt;

	STAT_INC(BOX_MT);
	if (g_box.n_mts >= BOX_MT_MAX) {
		mt = llist_first_entry(&g_box.mts, struct box_mt, entry);
		LOGBOX(LOGL_NOTICE, "MT %s to %s dropped: %u MTs wait for bearerbox's ack\n", mt->id, mt->to, g_box.n_mts);
		STAT_INC(BOX_MT_DROPPED);
		box_mt_done(mt, OUTBOX_RETRY, "too many MTs wait for bearerbox");
	}
	mt = talloc_zero(g_box.ctx, struct box_mt);
	OSMO_ASSERT(mt);
	memcpy(mt->id, m->sms.id, sizeof(mt->id));
	mt->to = talloc_strndup(mt, (const char *)m->sms.receiver.data, m->sms.receiver.len);
	mt->created = time(NULL);
	mt->len = box_msg_pack(m, NULL, 0);
	mt->frame = talloc_size(mt, mt->len);
	OSMO_ASSERT(mt->frame);
	box_msg_pack(m, mt->frame, mt->len);
	llist_add_tail(&mt->entry, &g_box.mts);
	g_box.n_mts++;
	if (g_box.state == BOX_UP)
		box_mt_write(mt);
	else
		LOGBOX(LOGL_INFO, "MT %s to %s waits for the connection\n", mt->id, mt->to);
	return mt;
}

/* An MT sms of text on the list: GSM-7 text as UTF-8 (coding 0; bearerbox converts) or
 * UTF-16BE with coding 2. meta (USSD) carries the TLVs. */
static struct box_mt *box_mt_text(const char *sender, const char *receiver, const char *smsc_id, int sms_type,
				  const char *text, size_t len, const char *meta)
{
	struct box_msg m;
	struct box_sms *s = &m.sms;
	struct gsm7_measure gm;
	uint8_t *ucs2 = NULL;

	box_msg_init(&m, BOX_MSG_sms);
	s->sender = box_str_refz(sender);
	s->receiver = box_str_refz(receiver);
	s->smsc_id = box_str_refz(smsc_id);
	s->sms_type = sms_type;
	s->time = time(NULL);
	s->dlr_mask = 0;
	s->coding = BOX_CODING_7BIT;
	s->msgdata = box_str_ref(text, len);
	if (gsm7_measure(text, len, &gm) == 0 && gm.coding == GSM7_CODING_UCS2) {
		size_t cap = 2 * len + 2;	/* UTF-16 takes at most two bytes per UTF-8 byte */
		ucs2 = talloc_size(g_box.ctx, cap);
		OSMO_ASSERT(ucs2);
		int n = gsm7_to_ucs2be(text, len, ucs2, cap);
		if (n >= 0) {
			s->coding = BOX_CODING_UCS2;
			s->msgdata = box_str_ref(ucs2, n);
		}
	}
	if (meta) {
		s->meta_data = box_str_refz(meta);
		s->binfo = box_str_refz("USSD");	/* the SMPP service_type, as on /kannel/mo */
	}
	struct box_mt *mt = box_mt_add(&m);
	talloc_free(ucs2);
	return mt;
}

/* The reply to an MO: receiver and sender swapped, the same link. */
static void box_reply(const struct box_mo *mo, const char *text, size_t len, const char *meta)
{
	box_mt_text(mo->receiver, mo->sender, mo->smsc_id, BOX_SMS_MT_REPLY, text, len, meta);
}

static void box_ussd_reply(void *priv, bool end, const char *screen, size_t len)
{
	struct box_mo *mo = priv;
	char meta[96];

	if (kannel_meta_reply(meta, sizeof(meta), mo->link, &mo->meta, end) >= 0)
		box_reply(mo, screen, len, meta);
	talloc_free(mo);
}

static void box_sms_reply(void *priv, const char *text)
{
	struct box_mo *mo = priv;

	if (text)
		box_reply(mo, text, strlen(text), NULL);
	talloc_free(mo);
}

static void box_mo_drop(const struct box_sms *sms, const char *why)
{
	STAT_INC(BOX_DROPPED);
	LOGBOX(LOGL_NOTICE, "MO %s from %s dropped: %s\n", sms->id, sms->sender.data ? (char *)sms->sender.data : "?", why);
}

/* UTF-16BE -> NUL-terminated UTF-8; the length, or -EINVAL (odd length, lone surrogate, NUL)
 * or -ENOSPC. */
static int box_ucs2_to_utf8(const uint8_t *in, size_t len, char *out, size_t size)
{
	size_t o = 0;

	if (len % 2)
		return -EINVAL;
	for (size_t i = 0; i < len; i += 2) {
		uint32_t c = in[i] << 8 | in[i + 1];
		if (c >= 0xd800 && c <= 0xdbff) {
			uint32_t lo = i + 3 < len ? (uint32_t)(in[i + 2] << 8 | in[i + 3]) : 0;
			if (lo < 0xdc00 || lo > 0xdfff)
				return -EINVAL;
			c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
			i += 2;
		} else if ((c >= 0xdc00 && c <= 0xdfff) || c == 0) {
			return -EINVAL;
		}
		if (o + 5 > size)
			return -ENOSPC;
		if (c < 0x80) {
			out[o++] = c;
		} else if (c < 0x800) {
			out[o++] = 0xc0 | c >> 6;
			out[o++] = 0x80 | (c & 0x3f);
		} else if (c < 0x10000) {
			out[o++] = 0xe0 | c >> 12;
			out[o++] = 0x80 | ((c >> 6) & 0x3f);
			out[o++] = 0x80 | (c & 0x3f);
		} else {
			out[o++] = 0xf0 | c >> 18;
			out[o++] = 0x80 | ((c >> 12) & 0x3f);
			out[o++] = 0x80 | ((c >> 6) & 0x3f);
			out[o++] = 0x80 | (c & 0x3f);
		}
	}
	out[o] = '\0';
	return o;
}

/* An MO's text as UTF-8: bearerbox hands over GSM-7 (and 8-bit) text already as UTF-8, UCS-2 as
 * UTF-16BE. */
static int box_mo_text(const struct box_sms *sms, char *out, size_t size)
{
	const struct box_str *d = &sms->msgdata;
	struct gsm7_measure gm;

	if (!d->data) {
		out[0] = '\0';
		return 0;
	}
	if (sms->coding == BOX_CODING_UCS2)
		return box_ucs2_to_utf8(d->data, d->len, out, size);
	if ((size_t)d->len >= size)
		return -ENOSPC;
	if (memchr(d->data, '\0', d->len) || gsm7_measure((const char *)d->data, d->len, &gm) < 0)
		return -EINVAL;
	memcpy(out, d->data, d->len + 1);
	return d->len;
}

static void box_mo_in(const struct box_sms *sms)
{
	char msisdn[MSISDN_BUF_LEN], text[BOX_TEXT_MAX + 1], ref[64], why[64];
	const char *smsc_id = (const char *)sms->smsc_id.data;
	struct kannel_meta km;
	struct box_mo *mo;

	STAT_INC(BOX_MO);
	if (!sms->sender.data || !sms->receiver.data || !sms->receiver.len)
		return box_mo_drop(sms, "missing sender or receiver");
	if (msisdn_normalize((const char *)sms->sender.data, g_cfg->country_code, msisdn, sizeof(msisdn)) < 0)
		return box_mo_drop(sms, "bad sender number");
	if (box_mo_text(sms, text, sizeof(text)) < 0)
		return box_mo_drop(sms, "text too long or not text");
	if (kannel_meta_parse((const char *)sms->meta_data.data, &km) < 0)
		return box_mo_drop(sms, "malformed meta-data");

	mo = box_mo_new(sms, &km);
	if (km.op < 0) {
		struct sms_mo in = { .msisdn = msisdn, .to = mo->receiver, .text = text, .mo_id = sms->id,
				     .channel = "box" };
		return sms_mo(&in, box_sms_reply, mo);
	}
	mo->link = cfg_kannel_link(smsc_id);
	if (km.sess_len != 2) {
		talloc_free(mo);
		return box_mo_drop(sms, "USSD without its_session_info");
	}
	if (kannel_meta_ref(ref, sizeof(ref), msisdn, mo->link, &km, smsc_id) < 0) {
		talloc_free(mo);
		return box_mo_drop(sms, "smsc id too long");
	}
	struct session_hop hop = {
		.ch = SESSION_CH_BOX, .ref = ref, .msisdn = msisdn, .service_code = mo->receiver, .mo_id = sms->id,
		.reply = box_ussd_reply, .priv = mo, .peer = g_cfg->box_addr,
	};
	switch (kannel_meta_hop_op(mo->link, km.op)) {
	case SESSION_OP_BEGIN:
		hop.op = SESSION_OP_BEGIN;
		/* the dialled code is the text of a PSSR indication; the short code is the fallback */
		if (text[0] == '*')
			hop.service_code = text;
		break;
	case SESSION_OP_CONTINUE:
		hop.op = SESSION_OP_CONTINUE;
		hop.input = text;
		break;
	case SESSION_OP_ABORT:
		hop.op = SESSION_OP_ABORT;
		session_hop(&hop);	/* no reply to an abort */
		talloc_free(mo);
		return;
	default:
		talloc_free(mo);
		snprintf(why, sizeof(why), "unknown ussd_service_op %d", km.op);
		return box_mo_drop(sms, why);
	}
	session_hop(&hop);
}

/* ---- what bearerbox sends ---- */

static void box_sms_in(const struct box_sms *sms)
{
	struct box_msg ack = { .type = BOX_MSG_ack, .ack = { .nack = BOX_ACK_SUCCESS, .time = sms->time } };

	memcpy(ack.ack.id, sms->id, sizeof(ack.ack.id));
	box_queue_msg(&ack);
	if (g_box.state != BOX_UP)
		return;
	switch (sms->sms_type) {
	case BOX_SMS_MO:
		box_mo_in(sms);
		break;
	case BOX_SMS_REPORT_MO:
		/* our MTs ask for none (dlr_mask 0); one for someone else's MT is only logged */
		LOGBOX(LOGL_INFO, "delivery report %d for %s from %s ignored\n", sms->dlr_mask,
		       sms->receiver.data ? (char *)sms->receiver.data : "?", sms->smsc_id.data ? (char *)sms->smsc_id.data : "?");
		break;
	default:
		LOGBOX(LOGL_INFO, "sms %s of type %d ignored\n", sms->id, sms->sms_type);
	}
}

static void box_ack_in(const struct box_ack *ack)
{
	struct box_mt *mt, *found = NULL;

	/* bearerbox acks in order: the one we look for is nearly always the first */
	llist_for_each_entry(mt, &g_box.mts, entry) {
		if (!strcmp(mt->id, ack->id)) {
			found = mt;
			break;
		}
	}
	if (!found) {
		LOGBOX(LOGL_INFO, "ack %d for an MT we do not know: %s\n", ack->nack, ack->id);
		return;
	}
	switch (ack->nack) {
	case BOX_ACK_SUCCESS:
	case BOX_ACK_BUFFERED:	/* queued for an SMSC link that is down: bearerbox owns it now */
		STAT_INC(BOX_ACKS);
		box_mt_done(found, OUTBOX_SENT, ack->nack == BOX_ACK_SUCCESS ? "bearerbox ack" : "bearerbox ack (buffered)");
		return;
	case BOX_ACK_FAILED_TMP:
		STAT_INC(BOX_NACKS);
		if (found->tries < BOX_MT_TRIES) {
			LOGBOX(LOGL_INFO, "MT %s to %s refused for now (queue full): again in %d s\n", found->id, found->to,
			       BOX_MT_RETRY_S);
			found->written = false;
			if (!osmo_timer_pending(&g_box.retry))
				osmo_timer_schedule(&g_box.retry, BOX_MT_RETRY_S, 0);
			return;
		}
		LOGBOX(LOGL_NOTICE, "MT %s to %s dropped: bearerbox's queue stayed full\n", found->id, found->to);
		STAT_INC(BOX_MT_DROPPED);
		box_mt_done(found, OUTBOX_RETRY, "bearerbox's queue stayed full");
		return;
	default:
		STAT_INC(BOX_NACKS);
		LOGBOX(LOGL_NOTICE, "MT %s to %s refused by bearerbox (nack %d: no route to its SMSC?)\n", found->id,
		       found->to, ack->nack);
		box_mt_done(found, OUTBOX_REFUSED, "refused by bearerbox (no route to its SMSC?)");
	}
}

static void box_admin_in(const struct box_admin *adm)
{
	switch (adm->command) {
	case BOX_CMD_SHUTDOWN:
	case BOX_CMD_RESTART:
		/* bearerbox waits for its boxes to close */
		box_fail(adm->command == BOX_CMD_SHUTDOWN ? "bearerbox shuts down" : "bearerbox restarts");
		break;
	case BOX_CMD_SUSPEND:
	case BOX_CMD_RESUME:
		LOGBOX(LOGL_NOTICE, "bearerbox %s\n", adm->command == BOX_CMD_SUSPEND ? "suspended" : "resumed");
		break;
	default:
		LOGBOX(LOGL_INFO, "admin command %d ignored\n", adm->command);
	}
}

static void box_frame_in(const uint8_t *payload, size_t len)
{
	struct box_msg m;
	char why[128];

	if (box_msg_unpack(g_box.ctx, &m, payload, len, why, sizeof(why)) < 0) {
		STAT_INC(BOX_BAD_FRAMES);
		LOGBOX(LOGL_ERROR, "malformed frame from bearerbox (%s): dropping the connection\n", why);
		box_fail("malformed frame");
		return;
	}
	switch (m.type) {
	case BOX_MSG_heartbeat:
		break;
	case BOX_MSG_admin:
		box_admin_in(&m.admin);
		break;
	case BOX_MSG_sms:
		box_sms_in(&m.sms);
		break;
	case BOX_MSG_ack:
		box_ack_in(&m.ack);
		break;
	default:
		LOGBOX(LOGL_INFO, "%s message ignored\n", box_msg_type_name(m.type));
	}
	box_msg_free(&m);
}

static void box_read(void)
{
	ssize_t n = read(g_box.ofd.fd, g_box.rx + g_box.rx_len, BOX_RX_SIZE - g_box.rx_len);
	size_t off = 0;

	if (n == 0)
		return box_fail("closed by bearerbox");
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			box_fail(strerror(errno));
		return;
	}
	/* ACK at once. bearerbox leaves Nagle on, so while our kernel delays the ACK of its last
	 * frame (up to 40 ms: we often have nothing to send back, an ack of an MT, say), its next
	 * MO waits; back-to-back hops took 44 ms instead of well under one. Linux clears
	 * the flag again by itself, hence after every read. */
	int one = 1;
	setsockopt(g_box.ofd.fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	g_box.rx_len += n;
	for (;;) {
		ssize_t fl = box_frame_len(g_box.rx + off, g_box.rx_len - off);
		if (fl == 0)
			break;
		if (fl < 0) {
			STAT_INC(BOX_BAD_FRAMES);
			LOGBOX(LOGL_ERROR, "frame of %u bytes from bearerbox (at most %u): dropping the connection\n",
			       osmo_load32be(g_box.rx + off), BOX_FRAME_MAX);
			return box_fail("malformed frame");
		}
		box_frame_in(g_box.rx + off + 4, fl - 4);
		if (g_box.state != BOX_UP)
			return;
		off += fl;
	}
	memmove(g_box.rx, g_box.rx + off, g_box.rx_len - off);
	g_box.rx_len -= off;
}

static int box_fd_cb(struct osmo_fd *ofd, unsigned int what)
{
	if (g_box.state == BOX_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(ofd->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err)
			box_fail(strerror(err));
		else
			box_up();
		return 0;
	}
	if (what & OSMO_FD_READ) {
		box_read();
		if (g_box.state != BOX_UP)
			return 0;
	}
	/* what this turn's frames produced leaves now, not on the next turn */
	if (g_box.tx_len)
		box_flush();
	return 0;
}

static void box_connect(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(g_box.port) };
	int one = 1, idle = 30, intvl = 10, cnt = 3;
	int fd;

	if (inet_pton(AF_INET, g_box.addr, &sa.sin_addr) != 1) {
		LOGBOX(LOGL_ERROR, "not an IPv4 address: box front end off\n");
		g_box.state = BOX_OFF;
		return;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return box_fail(strerror(errno));
	/* Kannel never sets TCP_NODELAY: a lone reply would wait for the delayed ACK of the previous
	 * segment (Nagle), about 40 ms each way */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* bearerbox sends nothing while idle: keepalives find a peer that vanished */
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	osmo_fd_setup(&g_box.ofd, fd, OSMO_FD_WRITE, box_fd_cb, NULL, 0);
	if (osmo_fd_register(&g_box.ofd) < 0) {
		close(fd);
		g_box.ofd.fd = -1;
		return box_fail("cannot watch the socket");
	}
	g_box.state = BOX_CONNECTING;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return box_up();
	if (errno != EINPROGRESS)
		return box_fail(strerror(errno));
	osmo_timer_schedule(&g_box.timer, BOX_CONNECT_TIMEOUT_S, 0);
}

static void box_timer_cb(void *data)
{
	if (g_box.state == BOX_WAIT)
		box_connect();
	else if (g_box.state == BOX_CONNECTING)
		box_fail("connect timed out");
}

/* ---- VTY ---- */

#define BOX_CTR(c) ((uint64_t)rate_ctr_group_get_ctr(g_ctrs, CTR_##c)->current)

DEFUN(show_kannel_box, show_kannel_box_cmd, "show kannel box",
      SHOW_STR "Kannel front ends\n" "The box connection to bearerbox\n")
{
	time_t now = time(NULL);

	if (!g_box.ctx) {
		vty_out(vty, "box front end not configured%s", VTY_NEWLINE);
		return CMD_SUCCESS;
	}
	vty_out(vty, "bearerbox %s:%u: %s", g_box.addr, g_box.port, box_state_names[g_box.state]);
	if (g_box.state == BOX_UP)
		vty_out(vty, " for %ld s", (long)(now - g_box.up_since));
	else if (g_box.in_outage)
		vty_out(vty, " (away for %ld s, %u failed attempts)", (long)(now - g_box.outage_since), g_box.attempts);
	vty_out(vty, "%sMTs waiting for bearerbox's ack: %u%sMOs waiting for their reply: %u%s", VTY_NEWLINE,
		g_box.n_mts, VTY_NEWLINE, g_box.n_mo_waiting, VTY_NEWLINE);
	vty_out(vty, "mo %" PRIu64 ", mt %" PRIu64 ", acks %" PRIu64 ", nacks %" PRIu64 ", reconnects %" PRIu64
		", bad-frames %" PRIu64 ", dropped %" PRIu64 "%s", BOX_CTR(BOX_MO), BOX_CTR(BOX_MT), BOX_CTR(BOX_ACKS),
		BOX_CTR(BOX_NACKS), BOX_CTR(BOX_RECONNECTS), BOX_CTR(BOX_BAD_FRAMES), BOX_CTR(BOX_DROPPED), VTY_NEWLINE);
	return CMD_SUCCESS;
}

const char *front_box_state(void)
{
	return g_box.ctx ? box_state_names[g_box.state] : NULL;
}

/* ---- start and stop ---- */

/* ---- the outbox over the box connection ----
 *
 * With a box front and no smsbox there is no sendsms: the outbox hands its SMS to bearerbox here,
 * as MT pushes from `kannel sendsms from` (over `kannel sendsms smsc` when set). bearerbox's ack
 * means sent, as smsbox's 202 does for sendsms: bearerbox owns the SMS from there, and its store
 * file keeps it across its own restarts. An MT nacked, or not acked while it was fresh (the
 * connection broke), goes back to the outbox, which sends it again after its back-off: at least
 * once, never lost. */

static int box_outbox_send(int64_t id, const char *to, const char *text, outbox_done_cb done, void *priv)
{
	if (g_box.state != BOX_UP)
		return -ENOTCONN;
	if (g_box.n_mts >= BOX_MT_MAX)
		return -EBUSY;	/* adding would drop an older MT, whose done would run inside send */
	struct box_mt *mt = box_mt_text(g_cfg->sendsms_from, to, g_cfg->sendsms_smsc, BOX_SMS_MT_PUSH, text,
					strlen(text), NULL);
	mt->done = done;
	mt->done_priv = priv;
	LOGBOX(LOGL_DEBUG, "outbox SMS #%" PRId64 " to %s as MT %s\n", id, to, mt->id);
	return 0;
}

static void box_outbox_forget(void)
{
	struct box_mt *mt;
	llist_for_each_entry(mt, &g_box.mts, entry)
		mt->done = NULL;
}

static const struct outbox_backend box_outbox_backend = {
	.name = "bearerbox (box front)",
	.send = box_outbox_send,
	.forget = box_outbox_forget,
};

void front_box_init(void *ctx)
{
	install_element_ve(&show_kannel_box_cmd);
	if (!g_cfg->box_port)
		return;
	g_box.ctx = talloc_named_const(ctx, 0, "front_box");
	g_box.addr = talloc_strdup(g_box.ctx, g_cfg->box_addr);
	g_box.port = g_cfg->box_port;
	INIT_LLIST_HEAD(&g_box.mts);
	osmo_timer_setup(&g_box.timer, box_timer_cb, NULL);
	osmo_timer_setup(&g_box.heartbeat, box_heartbeat_cb, NULL);
	osmo_timer_setup(&g_box.retry, box_retry_cb, NULL);
	g_box.rx = talloc_size(g_box.ctx, BOX_RX_SIZE);
	g_box.tx_size = 4096;
	g_box.tx = talloc_size(g_box.ctx, g_box.tx_size);
	OSMO_ASSERT(g_box.rx && g_box.tx);
	g_box.backoff_ms = BOX_BACKOFF_MIN_MS;
	if (!kannel_send_enabled()) {
		if (g_cfg->sendsms_from) {
			g_box.outbox = true;
			outbox_set_backend(&box_outbox_backend);
			if (!g_cfg->sendsms_smsc)
				LOGBOX(LOGL_NOTICE, "outbox SMS go to bearerbox without an smsc-id: a link with"
				       " allowed-smsc-id refuses them (set kannel sendsms smsc)\n");
		}
		else
			LOGBOX(LOGL_NOTICE, "no `kannel sendsms from`: the outbox sends nothing over the box connection\n");
	}
	LOGBOX(LOGL_NOTICE, "connecting to bearerbox's smsbox-port\n");
	box_connect();
}

void front_box_close(void)
{
	if (!g_box.ctx)
		return;
	if (g_box.state == BOX_UP && g_box.tx_len)
		box_flush();	/* the acks of what we took, at least */
	box_close();
	g_box.state = BOX_OFF;
	if (g_box.n_mts)
		LOGBOX(LOGL_NOTICE, "%u MTs not acked by bearerbox at shutdown\n", g_box.n_mts);
}
