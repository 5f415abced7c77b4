/* Kannel meta-data for USSD over SMPP: parse what an MO carries, build what the reply carries.
 * Both Kannel front ends use it, so a hop means the same whichever way it came in. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cfg.h"
#include "kannel_meta.h"
#include "session.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* URL-decode into bytes; -1 on a bad escape or overflow. */
static int url_bytes(const char *s, size_t len, uint8_t *out, unsigned max)
{
	unsigned n = 0;
	for (size_t i = 0; i < len; i++) {
		int v = (uint8_t)s[i];
		if (s[i] == '%') {
			int hi, lo;
			if (i + 2 >= len || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				return -1;
			v = hi << 4 | lo;
			i += 2;
		} else if (s[i] == '+') {
			v = ' ';
		}
		if (n == max)
			return -1;
		out[n++] = v;
	}
	return n;
}

int kannel_meta_parse(const char *meta, struct kannel_meta *km)
{
	km->op = -1;
	km->sess_len = 0;
	if (!meta || !*meta)
		return 0;
	if (strncmp(meta, "?smpp?", 6))
		return -EINVAL;
	for (const char *p = meta + 6; *p;) {
		const char *amp = strchr(p, '&'), *eq = strchr(p, '=');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		if (!eq || eq > p + len)
			return -EINVAL;
		uint8_t v[8];
		int n = url_bytes(eq + 1, p + len - eq - 1, v, sizeof(v));
		if (n < 0)
			return -EINVAL;
		if (!strncmp(p, "ussd_service_op=", 16)) {
			if (n != 1)
				return -EINVAL;
			km->op = v[0];
		} else if (!strncmp(p, "its_session_info=", 17)) {
			if (n != 2)
				return -EINVAL;
			memcpy(km->sess, v, n);
			km->sess_len = n;
		}
		p += len + (amp ? 1 : 0);
	}
	return 0;
}

int kannel_meta_reply(char *buf, size_t size, const struct kannel_link *link, const struct kannel_meta *km,
		      bool end)
{
	int n = snprintf(buf, size, "?smpp?ussd_service_op=%%%02X&its_session_info=",
			 end ? link->op_end : link->op_continue);
	uint8_t sess[2] = { km->sess[0], km->sess[1] };
	if (link->end_bit)
		sess[1] = end ? (sess[1] | 1) : (sess[1] & ~1);
	for (unsigned i = 0; i < km->sess_len && i < sizeof(sess) && n >= 0 && (size_t)n < size; i++)
		n += snprintf(buf + n, size - n, "%%%02X", sess[i]);
	if (n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - n, "&");
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

int kannel_meta_ref(char *buf, size_t size, const char *msisdn, const struct kannel_link *link,
		    const struct kannel_meta *km, const char *smsc_id)
{
	uint8_t s1 = link->end_bit ? (km->sess[1] & ~1) : km->sess[1];
	int n = snprintf(buf, size, "%s/%02x%02x/%s", msisdn, km->sess[0], s1, smsc_id ? smsc_id : "");
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

int kannel_meta_hop_op(const struct kannel_link *link, int op)
{
	if (op == link->op_begin)
		return SESSION_OP_BEGIN;
	if (op == link->op_answer)
		return SESSION_OP_CONTINUE;
	if (op == link->op_abort)
		return SESSION_OP_ABORT;
	return -1;
}
