/* Fuzz target: the bearerbox box protocol (src/fronts/box_msg.c), bytes as they arrive on the
 * smsbox-port: cut into frames as front_box.c cuts them, each frame unpacked. A frame that
 * unpacks must pack back to the very same bytes (the .def table drives both ways), in any
 * buffer size without writing past it; unpacking must leave nothing allocated once freed,
 * whether it succeeded or not. */
#include "fuzz.h"
#include <errno.h>
#include <talloc.h>
#include "box_msg.h"
#include "cfg.h"
#include "kannel_meta.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

static void check_frame(void *ctx, const uint8_t *frame, size_t flen, uint8_t small)
{
	struct box_msg m;
	char why[128];

	why[0] = '\0';
	if (box_msg_unpack(ctx, &m, frame + 4, flen - 4, why, sizeof(why)) < 0) {
		FUZZ_ASSERT(why[0]);
		FUZZ_ASSERT(talloc_total_blocks(ctx) == 1);
		return;
	}
	FUZZ_ASSERT(box_msg_type_name(m.type)[0]);
	size_t need = box_msg_pack(&m, NULL, 0);
	FUZZ_ASSERT(need == flen);
	uint8_t *out = malloc(need);
	FUZZ_ASSERT(box_msg_pack(&m, out, need) == need);
	FUZZ_ASSERT(!memcmp(out, frame, flen));
	free(out);
	/* a buffer too small gets what fits and nothing more */
	size_t cut = small % need;
	out = malloc(cut ? cut : 1);
	FUZZ_ASSERT(box_msg_pack(&m, out, cut) == need);
	free(out);

	if (m.type == BOX_MSG_sms) {
		/* what front_box.c reads of an MO before a session sees it */
		struct kannel_meta km;
		int rc = kannel_meta_parse((const char *)m.sms.meta_data.data, &km);
		FUZZ_ASSERT(rc == 0 || rc == -EINVAL);
		if (m.sms.meta_data.data)
			FUZZ_ASSERT(m.sms.meta_data.data[m.sms.meta_data.len] == '\0');
		FUZZ_ASSERT(strlen(m.sms.id) == BOX_UUID_LEN);
	}
	box_msg_free(&m);
	FUZZ_ASSERT(talloc_total_blocks(ctx) == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *ctx = talloc_named_const(NULL, 0, "fuzz");
	size_t off = 0;

	for (;;) {
		ssize_t fl = box_frame_len(data + off, size - off);
		if (fl <= 0) {
			FUZZ_ASSERT(fl == 0 || fl == -EMSGSIZE);
			break;
		}
		FUZZ_ASSERT(fl >= 8 && (size_t)fl <= size - off && fl <= BOX_FRAME_MAX + 4);
		check_frame(ctx, data + off, fl, data[off + fl - 1]);
		off += fl;
	}
	talloc_free(ctx);
	return 0;
}
