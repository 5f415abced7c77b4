/* Kannel's box protocol messages: pack, unpack, free, all expanded from box_msg.def. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <talloc.h>
#include <osmocom/core/bit32gen.h>
#include <osmocom/core/utils.h>
#include "box_msg.h"

void box_msg_init(struct box_msg *m, enum box_msg_type type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	switch (type) {
#define BOX_INT(n)	x->n = -1;
#define BOX_STR(n)	x->n = (struct box_str){ NULL, -1 };
#define BOX_UUID(n)	box_uuid_generate(x->n);
#define BOX_VOID(n)
#define BOX_MSG(name, num, fields) case num: { struct box_##name *x = &m->name; fields } break;
#include "box_msg.def"
	}
}

const char *box_msg_type_name(int type)
{
	switch (type) {
#define BOX_MSG(name, num, fields) case num: return #name;
#include "box_msg.def"
	}
	return "unknown";
}

struct box_str box_str_ref(const void *data, size_t len)
{
	return (struct box_str){ (uint8_t *)data, (int32_t)len };
}

struct box_str box_str_refz(const char *s)
{
	return s ? box_str_ref(s, strlen(s)) : (struct box_str){ NULL, -1 };
}

/* ---- packing: every writer counts, and writes only what fits ---- */

struct box_wr {
	uint8_t *buf;
	size_t size, off;
};

static void wr_int(struct box_wr *w, int32_t v)
{
	if (w->off + 4 <= w->size)
		osmo_store32be((uint32_t)v, w->buf + w->off);
	w->off += 4;
}

static void wr_bytes(struct box_wr *w, const void *p, size_t len)
{
	wr_int(w, len);
	if (w->off + len <= w->size)
		memcpy(w->buf + w->off, p, len);
	w->off += len;
}

static void wr_str(struct box_wr *w, const struct box_str *s)
{
	if (!s->data || s->len < 0)
		wr_int(w, -1);
	else
		wr_bytes(w, s->data, s->len);
}

size_t box_msg_pack(const struct box_msg *m, uint8_t *buf, size_t size)
{
	struct box_wr w = { buf, size, 4 };

	wr_int(&w, m->type);
	switch (m->type) {
#define BOX_INT(n)	wr_int(&w, x->n);
#define BOX_STR(n)	wr_str(&w, &x->n);
#define BOX_UUID(n)	wr_bytes(&w, x->n, BOX_UUID_LEN);
#define BOX_VOID(n)
#define BOX_MSG(name, num, fields) case num: { const struct box_##name *x = &m->name; fields } break;
#include "box_msg.def"
	}
	if (size >= 4)
		osmo_store32be(w.off - 4, buf);
	return w.off;
}

ssize_t box_frame_len(const uint8_t *buf, size_t avail)
{
	if (avail < 4)
		return 0;
	uint32_t len = osmo_load32be(buf);
	if (len < 4 || len > BOX_FRAME_MAX)
		return -EMSGSIZE;
	return avail < 4 + (size_t)len ? 0 : 4 + (ssize_t)len;
}

/* ---- unpacking: every reader checks what is left ---- */

enum rd_err { RD_OK = 0, RD_TRUNCATED = -1, RD_BAD_LENGTH = -2, RD_BAD_UUID = -3 };
static const char *const rd_err_names[] = { "", "truncated", "length out of range", "not a UUID" };

struct box_rd {
	const uint8_t *p;
	size_t len, off;
};

static int rd_int(struct box_rd *r, int32_t *v)
{
	if (r->len - r->off < 4)
		return RD_TRUNCATED;
	*v = (int32_t)osmo_load32be(r->p + r->off);
	r->off += 4;
	return RD_OK;
}

static int rd_str(void *ctx, struct box_rd *r, struct box_str *s)
{
	int32_t len;
	if (rd_int(r, &len) < 0)
		return RD_TRUNCATED;
	if (len == -1) {
		*s = (struct box_str){ NULL, -1 };
		return RD_OK;
	}
	if (len < 0)
		return RD_BAD_LENGTH;
	if (r->len - r->off < (size_t)len)
		return RD_TRUNCATED;
	s->data = talloc_size(ctx, len + 1);
	OSMO_ASSERT(s->data);
	memcpy(s->data, r->p + r->off, len);
	s->data[len] = '\0';
	s->len = len;
	r->off += len;
	return RD_OK;
}

static bool uuid_valid(const uint8_t *s)
{
	for (int i = 0; i < BOX_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'f')))
			return false;
	}
	return true;
}

static int rd_uuid(struct box_rd *r, char out[BOX_UUID_LEN + 1])
{
	int32_t len;
	if (rd_int(r, &len) < 0)
		return RD_TRUNCATED;
	if (len != BOX_UUID_LEN)
		return len >= 0 && r->len - r->off < (size_t)len ? RD_TRUNCATED : RD_BAD_UUID;
	if (r->len - r->off < BOX_UUID_LEN)
		return RD_TRUNCATED;
	if (!uuid_valid(r->p + r->off))
		return RD_BAD_UUID;
	memcpy(out, r->p + r->off, BOX_UUID_LEN);
	out[BOX_UUID_LEN] = '\0';
	r->off += BOX_UUID_LEN;
	return RD_OK;
}

int box_msg_unpack(void *ctx, struct box_msg *m, const uint8_t *payload, size_t len, char *why, size_t why_size)
{
	struct box_rd r = { payload, len, 0 };
	const char *msg_name = "", *field = "type";
	int32_t type;
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = rd_int(&r, &type)) < 0)
		goto bad_field;
	m->type = type;
	switch (type) {
#define BOX_INT(n)	field = #n; if ((rc = rd_int(&r, &x->n)) < 0) goto bad_field;
#define BOX_STR(n)	field = #n; if ((rc = rd_str(ctx, &r, &x->n)) < 0) goto bad_field;
#define BOX_UUID(n)	field = #n; if ((rc = rd_uuid(&r, x->n)) < 0) goto bad_field;
#define BOX_VOID(n)
#define BOX_MSG(name, num, fields) \
	case num: { struct box_##name *x = &m->name; msg_name = #name "."; fields } break;
#include "box_msg.def"
	default:
		snprintf(why, why_size, "unknown message type %d", type);
		memset(m, 0, sizeof(*m));
		return -EBADMSG;
	}
	if (r.off != len) {
		snprintf(why, why_size, "%s: %zu bytes after the last field", box_msg_type_name(type), len - r.off);
		box_msg_free(m);
		return -EBADMSG;
	}
	return 0;

bad_field:
	snprintf(why, why_size, "%s%s: %s", msg_name, field, rd_err_names[-rc]);
	box_msg_free(m);
	return -EBADMSG;
}

void box_msg_free(struct box_msg *m)
{
	switch (m->type) {
#define BOX_INT(n)
#define BOX_STR(n)	TALLOC_FREE(x->n.data); x->n.len = -1;
#define BOX_UUID(n)
#define BOX_VOID(n)
#define BOX_MSG(name, num, fields) case num: { struct box_##name *x = &m->name; (void)x; fields } break;
#include "box_msg.def"
	}
}

void box_uuid_generate(char out[BOX_UUID_LEN + 1])
{
	uint8_t b[16];
	if (getrandom(b, sizeof(b), GRND_NONBLOCK) != sizeof(b)) {
		/* getrandom() failing is next to impossible; a unique id matters more than a random one */
		static uint64_t seq;
		uint64_t v = ++seq ^ (uint64_t)(uintptr_t)&seq;
		memcpy(b, &v, 8);
		memcpy(b + 8, &seq, 8);
	}
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	snprintf(out, BOX_UUID_LEN + 1, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}
