#pragma once
/* Kannel's box protocol, the messages bearerbox and its boxes (smsbox, kannel-sqlbox, spazad's
 * front_box.c) exchange over the smsbox-port. A frame is a 4-byte big-endian payload length,
 * then the payload: a 4-byte message type and the type's fields in the order box_msg.def lists
 * them. The struct, pack, unpack and free below are all expanded from that one list. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Largest payload accepted: a Kannel sms with every field full is a few KiB. */
#define BOX_FRAME_MAX	65536
#define BOX_UUID_LEN	36	/* "ce5c2ef6-61d3-4b11-b1ff-02b7b4b558b9" */

enum box_msg_type {
#define BOX_MSG(name, num, fields) BOX_MSG_##name = num,
#include "box_msg.def"
};

/* sms.sms_type */
enum { BOX_SMS_MO = 0, BOX_SMS_MT_REPLY = 1, BOX_SMS_MT_PUSH = 2, BOX_SMS_REPORT_MO = 3, BOX_SMS_REPORT_MT = 4 };
/* admin.command */
enum { BOX_CMD_SHUTDOWN = 0, BOX_CMD_SUSPEND = 1, BOX_CMD_RESUME = 2, BOX_CMD_IDENTIFY = 3, BOX_CMD_RESTART = 4 };
/* ack.nack */
enum { BOX_ACK_SUCCESS = 0, BOX_ACK_FAILED = 1, BOX_ACK_FAILED_TMP = 2, BOX_ACK_BUFFERED = 3 };
/* sms.coding */
enum { BOX_CODING_7BIT = 0, BOX_CODING_8BIT = 1, BOX_CODING_UCS2 = 2 };

/* An octet string: data NULL means unset (length -1 on the wire). Unpacked strings are talloc
 * allocations with a NUL after the last byte, so text fields can be read as C strings (a field
 * holding a NUL, such as UCS-2 msgdata, must be read with len). */
struct box_str {
	uint8_t *data;
	int32_t len;
};

#define BOX_INT(n)	int32_t n;
#define BOX_STR(n)	struct box_str n;
#define BOX_UUID(n)	char n[BOX_UUID_LEN + 1];
#define BOX_VOID(n)
#define BOX_MSG(name, num, fields) struct box_##name { fields };
#include "box_msg.def"

struct box_msg {
	enum box_msg_type type;
	union {	/* the member named by type */
#define BOX_MSG(name, num, fields) struct box_##name name;
#include "box_msg.def"
	};
};

/* A message of this type with every integer -1, every string unset and every UUID fresh. */
void box_msg_init(struct box_msg *m, enum box_msg_type type);
const char *box_msg_type_name(int type);

/* A string field that refers to the caller's bytes (not copied): a message built of these is
 * packed, never passed to box_msg_free(). */
struct box_str box_str_ref(const void *data, size_t len);
struct box_str box_str_refz(const char *s);	/* NULL -> unset */

/* The whole frame (length prefix included) into buf if it fits; returns the frame's length
 * either way, like snprintf. */
size_t box_msg_pack(const struct box_msg *m, uint8_t *buf, size_t size);

/* Is a whole frame at the start of buf? Returns its length (prefix included), 0 when more bytes
 * are needed, -EMSGSIZE when the length prefix is out of bounds (under 4 or over BOX_FRAME_MAX). */
ssize_t box_frame_len(const uint8_t *buf, size_t avail);

/* Unpack one payload (the frame without its length prefix). Strings are allocated under ctx.
 * Returns 0, or -EBADMSG with the reason in why (e.g. "sms.msgdata: truncated"): unknown type,
 * truncated field, string length out of range, malformed UUID, bytes left over. Nothing stays
 * allocated on failure. */
int box_msg_unpack(void *ctx, struct box_msg *m, const uint8_t *payload, size_t len, char *why, size_t why_size);

/* Free the strings of an unpacked message. */
void box_msg_free(struct box_msg *m);

/* A random (version 4) UUID in text form. */
void box_uuid_generate(char out[BOX_UUID_LEN + 1]);
