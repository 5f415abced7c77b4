/* box_msg: Kannel 1.4.5's box protocol records. Proves that every field of every message
 * survives pack + unpack, that frames captured from Debian's bearerbox decode as it meant them,
 * that what we pack is byte for byte what bearerbox packs, and that truncated, oversized or
 * otherwise malformed frames are rejected without leaking. Also the meta-data helpers both
 * Kannel front ends share (kannel_meta.c). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include "box_msg.h"
#include "cfg.h"
#include "kannel_meta.h"
#include "session.h"
#include "testlib.h"

/* An MO as Debian 12's bearerbox 1.4.5 sent it to a box (fakesmsc: "0821234567 777 text hello+world"). */
static const uint8_t captured_mo[] =
	"\x00\x00\x00\x02\x00\x00\x00\x0a\x30\x38\x32\x31\x32\x33\x34\x35\x36\x37\x00\x00\x00\x03\x37\x37"
	"\x37\xff\xff\xff\xff\x00\x00\x00\x0b\x68\x65\x6c\x6c\x6f\x2b\x77\x6f\x72\x6c\x64\x6b\x05\xb6\x9b"
	"\x00\x00\x00\x05\x66\x61\x6b\x65\x31\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
	"\xff\x00\x00\x00\x24\x63\x65\x35\x63\x32\x65\x66\x36\x2d\x36\x31\x64\x33\x2d\x34\x62\x31\x31\x2d"
	"\x62\x31\x66\x66\x2d\x30\x32\x62\x37\x62\x34\x62\x35\x35\x38\x62\x39\x00\x00\x00\x00\xff\xff\xff"
	"\xff\xff\xff\xff\xff\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
	"\xff";

/* bearerbox's ack (whole frame) for an MT it queued: nack 3 (buffered), time, our id. */
static const uint8_t captured_ack[] =
	"\x00\x00\x00\x34\x00\x00\x00\x03\x00\x00\x00\x03\x6b\x05\xb6\xcd\x00\x00\x00\x24"
	"11111111-2222-3333-4444-555555555555";

static void *ctx;

/* Fill every field with a value of its own: integers count up (one negative), strings carry the
 * field's name and a NUL and a 0xff byte, UUIDs are fresh. */
static void fill(struct box_msg *m, enum box_msg_type type)
{
	int32_t v = 1000;
	box_msg_init(m, type);
	switch (type) {
#define BOX_INT(n)	x->n = (v == 1000) ? -123456 : v; v += 7;
#define BOX_STR(n)	{ char *s = talloc_asprintf(ctx, "%s=%d.\377", #n, v++); size_t l = strlen(s); s[l - 2] = '\0'; \
			  x->n = box_str_ref(s, l); }
#define BOX_UUID(n)	box_uuid_generate(x->n);
#define BOX_VOID(n)
#define BOX_MSG(name, num, fields) case num: { struct box_##name *x = &m->name; fields } break;
#include "box_msg.def"
	}
}

/* Compare every field; prints one FAIL per difference. */
static int compare(const struct box_msg *a, const struct box_msg *b, const char *what)
{
	int bad = 0;
	if (a->type != b->type) {
		printf("FAIL: %s: type: expected %d, got %d\n", what, a->type, b->type);
		return 1;
	}
	switch (a->type) {
#define BOX_INT(n)	if (x->n != y->n) { bad++; printf("FAIL: %s: %s: expected %d, got %d\n", what, #n, x->n, y->n); }
#define BOX_STR(n)	if (x->n.len != y->n.len || (x->n.data == NULL) != (y->n.data == NULL) || \
			    (x->n.data && memcmp(x->n.data, y->n.data, x->n.len))) { \
				bad++; printf("FAIL: %s: %s: expected %d bytes, got %d (or other bytes)\n", what, #n, x->n.len, y->n.len); }
#define BOX_UUID(n)	if (strcmp(x->n, y->n)) { bad++; printf("FAIL: %s: %s: expected %s, got %s\n", what, #n, x->n, y->n); }
#define BOX_VOID(n)
#define BOX_MSG(name, num, fields) case num: { const struct box_##name *x = &a->name, *y = &b->name; fields } break;
#include "box_msg.def"
	}
	return bad;
}

static void test_round_trip(void)
{
	static const enum box_msg_type types[] = {
#define BOX_MSG(name, num, fields) BOX_MSG_##name,
#include "box_msg.def"
	};
	for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct box_msg in, out;
		char what[96], why[128] = "";
		fill(&in, types[i]);
		size_t len = box_msg_pack(&in, NULL, 0);
		uint8_t *buf = talloc_size(ctx, len);
		T_EQ_INT(box_msg_pack(&in, buf, len), len, "pack reports the same length when the frame fits");
		snprintf(what, sizeof(what), "%s: frame length prefix is the payload length", box_msg_type_name(types[i]));
		T_EQ_INT((buf[0] << 24 | buf[1] << 16 | buf[2] << 8 | buf[3]), len - 4, what);
		T_EQ_INT(box_frame_len(buf, len), len, "box_frame_len finds the whole frame");
		int rc = box_msg_unpack(ctx, &out, buf + 4, len - 4, why, sizeof(why));
		snprintf(what, sizeof(what), "%s: unpacks", box_msg_type_name(types[i]));
		T_CHECK(rc == 0, what, "expected 0, got %d (%s)", rc, why);
		if (rc == 0) {
			snprintf(what, sizeof(what), "%s: every field survives pack + unpack", box_msg_type_name(types[i]));
			int bad = compare(&in, &out, what);
			if (!bad)
				printf("PASS: %s\n", what);
			testlib_failed += bad;
			box_msg_free(&out);
		}
	}

	/* unset and empty strings stay apart; -1 integers stay -1 */
	struct box_msg in, out;
	char why[128] = "";
	uint8_t buf[1024];
	box_msg_init(&in, BOX_MSG_sms);
	in.sms.msgdata = box_str_ref("", 0);
	size_t len = box_msg_pack(&in, buf, sizeof(buf));
	T_CHECK(box_msg_unpack(ctx, &out, buf + 4, len - 4, why, sizeof(why)) == 0, "an sms of unset fields unpacks", "%s", why);
	T_CHECK(out.sms.msgdata.data && out.sms.msgdata.len == 0, "an empty string stays empty, not unset", "len %d", out.sms.msgdata.len);
	T_CHECK(!out.sms.udhdata.data && out.sms.udhdata.len == -1, "an unset string stays unset (-1)", "len %d", out.sms.udhdata.len);
	T_EQ_INT(out.sms.dlr_mask, -1, "an unset integer stays -1");
	box_msg_free(&out);
}

static void test_captured(void)
{
	struct box_msg m;
	char why[128] = "";
	int rc = box_msg_unpack(ctx, &m, captured_mo, sizeof(captured_mo) - 1, why, sizeof(why));
	T_CHECK(rc == 0, "bearerbox 1.4.5's MO frame unpacks with nothing left over", "got %d (%s)", rc, why);
	if (rc)
		return;
	T_EQ_INT(m.type, BOX_MSG_sms, "captured MO: an sms");
	T_EQ_STR((char *)m.sms.sender.data, "0821234567", "captured MO: sender");
	T_EQ_STR((char *)m.sms.receiver.data, "777", "captured MO: receiver");
	T_EQ_STR((char *)m.sms.msgdata.data, "hello+world", "captured MO: msgdata");
	T_EQ_STR((char *)m.sms.smsc_id.data, "fake1", "captured MO: smsc_id");
	T_EQ_STR(m.sms.id, "ce5c2ef6-61d3-4b11-b1ff-02b7b4b558b9", "captured MO: id, a UUID in text form");
	T_EQ_INT(m.sms.time, 0x6b05b69b, "captured MO: time");
	T_EQ_INT(m.sms.sms_type, BOX_SMS_MO, "captured MO: sms_type mo");
	T_EQ_INT(m.sms.coding, BOX_CODING_7BIT, "captured MO: coding 0");
	T_EQ_INT(m.sms.dlr_mask, -1, "captured MO: dlr_mask unset");
	T_CHECK(!m.sms.meta_data.data, "captured MO: no meta-data (fake SMSC)", "got %d bytes", m.sms.meta_data.len);

	/* packed again, it is the same bytes: our layout is bearerbox's */
	uint8_t buf[256];
	size_t len = box_msg_pack(&m, buf, sizeof(buf));
	T_CHECK(len == sizeof(captured_mo) - 1 + 4 && !memcmp(buf + 4, captured_mo, sizeof(captured_mo) - 1),
		"the captured MO packs back to bearerbox's exact bytes", "length %zu", len);
	box_msg_free(&m);

	T_EQ_INT(box_frame_len(captured_ack, sizeof(captured_ack) - 1), sizeof(captured_ack) - 1, "captured ack: one whole frame");
	rc = box_msg_unpack(ctx, &m, captured_ack + 4, sizeof(captured_ack) - 1 - 4, why, sizeof(why));
	T_CHECK(rc == 0, "bearerbox's ack frame unpacks", "got %d (%s)", rc, why);
	T_EQ_INT(m.type, BOX_MSG_ack, "captured ack: an ack");
	T_EQ_INT(m.ack.nack, BOX_ACK_BUFFERED, "captured ack: nack 3, buffered");
	T_EQ_STR(m.ack.id, "11111111-2222-3333-4444-555555555555", "captured ack: the MT's id");

	/* and an ack we build is exactly what bearerbox would send */
	struct box_msg ack = { .type = BOX_MSG_ack, .ack = { .nack = BOX_ACK_BUFFERED, .time = 0x6b05b6cd } };
	memcpy(ack.ack.id, "11111111-2222-3333-4444-555555555555", BOX_UUID_LEN + 1);
	len = box_msg_pack(&ack, buf, sizeof(buf));
	T_CHECK(len == sizeof(captured_ack) - 1 && !memcmp(buf, captured_ack, len), "our ack is byte for byte bearerbox's",
		"length %zu", len);

	/* identify: admin, command 3, boxc_id NULL */
	struct box_msg id;
	box_msg_init(&id, BOX_MSG_admin);
	id.admin.command = BOX_CMD_IDENTIFY;
	len = box_msg_pack(&id, buf, sizeof(buf));
	T_CHECK(len == 16 && !memcmp(buf, "\0\0\0\x0c\0\0\0\x01\0\0\0\x03\xff\xff\xff\xff", 16),
		"identify is admin{cmd_identify, boxc_id NULL}", "length %zu", len);
}

static void expect_bad(const uint8_t *payload, size_t len, const char *what, const char *reason)
{
	struct box_msg m;
	char why[128] = "";
	size_t blocks = talloc_total_blocks(ctx);
	int rc = box_msg_unpack(ctx, &m, payload, len, why, sizeof(why));
	T_CHECK(rc == -EBADMSG && strstr(why, reason), what, "expected -EBADMSG with \"%s\", got %d (%s)", reason, rc, why);
	T_CHECK(talloc_total_blocks(ctx) == blocks, "nothing stays allocated after a rejected frame",
		"%zu blocks before, %zu after", blocks, talloc_total_blocks(ctx));
	if (rc == 0)
		box_msg_free(&m);
}

static void test_malformed(void)
{
	struct box_msg m;
	char why[128] = "";
	uint8_t buf[2048];

	/* every proper prefix of a full sms payload is truncated */
	fill(&m, BOX_MSG_sms);
	size_t len = box_msg_pack(&m, buf, sizeof(buf));
	unsigned rejected = 0, total = 0;
	size_t blocks = talloc_total_blocks(ctx);
	for (size_t cut = 0; cut < len - 4; cut++, total++) {
		struct box_msg out;
		if (box_msg_unpack(ctx, &out, buf + 4, cut, why, sizeof(why)) == -EBADMSG)
			rejected++;
		else
			box_msg_free(&out);
	}
	T_EQ_INT(rejected, total, "every truncation of an sms payload is rejected");
	T_EQ_INT(talloc_total_blocks(ctx), blocks, "truncated payloads leave nothing allocated");
	expect_bad(buf + 4, 100, "a payload cut inside a field names the field", "sms.");
	expect_bad(buf + 4, 2, "a payload shorter than its type", "type: truncated");

	/* bytes after the last field: a layout that is not bearerbox's */
	memcpy(buf + len, "\0\0\0\0", 4);
	expect_bad(buf + 4, len - 4 + 4, "bytes after the last field are rejected", "after the last field");

	/* unknown types */
	expect_bad((const uint8_t *)"\0\0\0\x05\0\0\0\0", 8, "message type 5 is rejected", "unknown message type 5");
	expect_bad((const uint8_t *)"\xff\xff\xff\xff", 4, "message type -1 is rejected", "unknown message type -1");

	/* string lengths */
	expect_bad((const uint8_t *)"\0\0\0\x01\0\0\0\x03\xff\xff\xff\xfe", 12, "a string length of -2 is rejected",
		   "admin.boxc_id: length out of range");
	expect_bad((const uint8_t *)"\0\0\0\x01\0\0\0\x03\x7f\xff\xff\xff" "abc", 15,
		   "a string longer than the frame is rejected", "admin.boxc_id: truncated");
	expect_bad((const uint8_t *)"\0\0\0\x01\0\0\0\x03\0\0\0\x05" "abc", 15, "a string cut short is rejected",
		   "admin.boxc_id: truncated");

	/* UUIDs */
	uint8_t ack[4 + 4 + 4 + 4 + 36];
	memcpy(ack, "\0\0\0\x03\0\0\0\0\0\0\0\0\0\0\0\x24", 16);
	memcpy(ack + 16, "11111111-2222-3333-4444-55555555555x", 36);
	expect_bad(ack, sizeof(ack), "a UUID with a non-hex digit is rejected", "ack.id: not a UUID");
	memcpy(ack + 16, "11111111-2222-3333-4444+555555555555", 36);
	expect_bad(ack, sizeof(ack), "a UUID without its dashes is rejected", "ack.id: not a UUID");
	memcpy(ack + 12, "\0\0\0\x23", 4);
	expect_bad(ack, sizeof(ack) - 1, "a UUID of 35 characters is rejected", "ack.id: not a UUID");
	memcpy(ack + 12, "\xff\xff\xff\xff", 4);
	expect_bad(ack, 16, "an unset UUID is rejected", "ack.id: not a UUID");

	/* the frame length prefix */
	T_EQ_INT(box_frame_len((const uint8_t *)"\0\0", 2), 0, "a partial length prefix waits for more");
	T_EQ_INT(box_frame_len((const uint8_t *)"\0\0\0\x08\0\0\0\0", 8), 0, "a partial payload waits for more");
	T_EQ_INT(box_frame_len((const uint8_t *)"\0\0\0\x04\0\0\0\0", 8), 8, "a heartbeat-sized frame is complete");
	T_EQ_INT(box_frame_len((const uint8_t *)"\0\x01\0\0", 4), 0, "a 64 KiB payload is allowed (waits for it)");
	T_EQ_INT(box_frame_len((const uint8_t *)"\0\x01\0\x01", 4), -EMSGSIZE, "a payload over 64 KiB is rejected at once");
	T_EQ_INT(box_frame_len((const uint8_t *)"\xff\xff\xff\xff", 4), -EMSGSIZE, "a length of -1 is rejected");
	T_EQ_INT(box_frame_len((const uint8_t *)"\0\0\0\x03", 4), -EMSGSIZE, "a payload without room for its type is rejected");
	T_EQ_INT(box_frame_len((const uint8_t *)"\0\0\0\0", 4), -EMSGSIZE, "an empty payload is rejected");
}

static void test_pack_bounds(void)
{
	struct box_msg m;
	uint8_t buf[64];
	fill(&m, BOX_MSG_sms);
	memset(buf, 0xa5, sizeof(buf));
	size_t need = box_msg_pack(&m, buf, 32);
	T_CHECK(need > 32, "pack into a small buffer reports the size it needs", "got %zu", need);
	int untouched = 1;
	for (unsigned i = 32; i < sizeof(buf); i++)
		untouched &= buf[i] == 0xa5;
	T_CHECK(untouched, "pack never writes past the buffer it was given", "bytes after 32 changed");
}

static void test_uuid(void)
{
	char a[BOX_UUID_LEN + 1], b[BOX_UUID_LEN + 1];
	box_uuid_generate(a);
	box_uuid_generate(b);
	T_EQ_INT(strlen(a), 36, "a generated UUID has 36 characters");
	T_CHECK(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-' && a[14] == '4', "a generated UUID is a version 4 UUID",
		"got %s", a);
	T_CHECK(strcmp(a, b), "two generated UUIDs differ", "got %s twice", a);
	struct box_msg m;
	box_msg_init(&m, BOX_MSG_sms);
	T_CHECK(m.sms.time == -1 && !m.sms.meta_data.data && m.sms.meta_data.len == -1 && strlen(m.sms.id) == 36,
		"a new sms has every integer -1, every string unset, a fresh id", "time %d", m.sms.time);
}

static void test_kannel_meta(void)
{
	struct kannel_link l = { "*", 1, 18, 2, 17, 33, false }, eb = { "op2", 1, 18, 2, 17, 33, true };
	struct kannel_meta km;
	char buf[96];

	T_EQ_INT(kannel_meta_parse("?smpp?ussd_service_op=%01&its_session_info=4%01&", &km), 0, "meta-data of a PSSR indication parses");
	T_CHECK(km.op == 1 && km.sess_len == 2 && km.sess[0] == 0x34 && km.sess[1] == 0x01, "ussd_service_op and its_session_info octets",
		"op %d, %u octets", km.op, km.sess_len);
	kannel_meta_reply(buf, sizeof(buf), &l, &km, false);
	T_EQ_STR(buf, "?smpp?ussd_service_op=%02&its_session_info=%34%01&", "a continue reply echoes its_session_info");
	kannel_meta_reply(buf, sizeof(buf), &l, &km, true);
	T_EQ_STR(buf, "?smpp?ussd_service_op=%11&its_session_info=%34%01&", "an end reply says PSSR response (17)");
	kannel_meta_reply(buf, sizeof(buf), &eb, &(struct kannel_meta){ 18, { 0x34, 0x00 }, 2 }, true);
	T_EQ_STR(buf, "?smpp?ussd_service_op=%11&its_session_info=%34%01&", "an end-bit link sets the low bit on end");
	kannel_meta_ref(buf, sizeof(buf), "+27821234567", &eb, &(struct kannel_meta){ 18, { 0x34, 0x01 }, 2 }, "op2");
	T_EQ_STR(buf, "+27821234567/3400/op2", "the session key drops the end bit");
	T_EQ_INT(kannel_meta_hop_op(&l, 1), SESSION_OP_BEGIN, "op 1 begins");
	T_EQ_INT(kannel_meta_hop_op(&l, 18), SESSION_OP_CONTINUE, "op 18 is the customer's answer");
	T_EQ_INT(kannel_meta_hop_op(&l, 33), SESSION_OP_ABORT, "op 33 aborts");
	T_EQ_INT(kannel_meta_hop_op(&l, 3), -1, "op 3 (USSN) does not move a dialogue");
	T_EQ_INT(kannel_meta_parse(NULL, &km), 0, "no meta-data: a plain SMS");
	T_EQ_INT(km.op, -1, "no meta-data: no ussd_service_op");
	T_EQ_INT(kannel_meta_parse("?smpp?ussd_service_op=%0", &km), -EINVAL, "a cut escape is malformed");
	T_EQ_INT(kannel_meta_parse("?smpp?its_session_info=%01", &km), -EINVAL, "a one-octet its_session_info is malformed");
	T_EQ_INT(kannel_meta_parse("?http?x=y&", &km), -EINVAL, "meta-data of another group is malformed");
}

int main(void)
{
	ctx = talloc_named_const(NULL, 0, "box_msg_test");
	test_round_trip();
	test_captured();
	test_malformed();
	test_pack_bounds();
	test_uuid();
	test_kannel_meta();
	talloc_free(ctx);
	return T_DONE();
}
