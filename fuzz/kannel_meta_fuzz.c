/* Fuzz target: Kannel meta-data (src/fronts/kannel_meta.c), which arrives from bearerbox or smsbox
 * as it came from the operator's SMSC. The first 7 bytes configure the link (the five
 * ussd_service_op values, end-bit, a buffer size), the rest is the meta-data string. A string
 * that parses as USSD must give a reply that parses back to the same session, in any buffer
 * size. */
#include "fuzz.h"
#include <errno.h>
#include "cfg.h"
#include "kannel_meta.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

/* Both builders write into a heap buffer of exactly the size they are told, so ASan sees any
 * byte past it. */
static void check_builders(const struct kannel_link *link, const struct kannel_meta *km, size_t size)
{
	for (int end = 0; end <= 1; end++) {
		char *buf = malloc(size ? size : 1);
		int n = kannel_meta_reply(buf, size, link, km, end);
		FUZZ_ASSERT(n == -ENOSPC || (n >= 0 && (size_t)n < size && strlen(buf) == (size_t)n));
		if (n >= 0) {
			struct kannel_meta back;
			FUZZ_ASSERT(kannel_meta_parse(buf, &back) == 0);
			FUZZ_ASSERT(back.op == (end ? link->op_end : link->op_continue));
			FUZZ_ASSERT(back.sess_len == km->sess_len);
			if (km->sess_len == 2) {
				FUZZ_ASSERT(back.sess[0] == km->sess[0]);
				FUZZ_ASSERT((back.sess[1] | 1) == (km->sess[1] | 1));
				if (link->end_bit)
					FUZZ_ASSERT((back.sess[1] & 1) == end);
				else
					FUZZ_ASSERT(back.sess[1] == km->sess[1]);
			}
		}
		free(buf);
	}
	for (int with_smsc = 0; with_smsc <= 1; with_smsc++) {
		char *buf = malloc(size ? size : 1);
		int n = kannel_meta_ref(buf, size, "+27821234567", link, km, with_smsc ? "smsc-a" : NULL);
		FUZZ_ASSERT(n == -ENOSPC || (n >= 0 && (size_t)n < size && strlen(buf) == (size_t)n));
		free(buf);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 7)
		return 0;
	struct kannel_link link = {
		.smsc_id = "*", .op_begin = data[0], .op_answer = data[1], .op_continue = data[2],
		.op_end = data[3], .op_abort = data[4], .end_bit = data[5] & 1,
	};
	size_t buf_size = data[6] % 96;
	char *meta = fuzz_strdup(data + 7, size - 7);
	struct kannel_meta km;

	int rc = kannel_meta_parse(meta, &km);
	FUZZ_ASSERT(rc == 0 || rc == -EINVAL);
	if (rc == 0) {
		FUZZ_ASSERT(km.op >= -1 && km.op <= 255);
		FUZZ_ASSERT(km.sess_len == 0 || km.sess_len == 2);
		/* both front ends build a reply and a session key only for USSD with a session */
		if (km.op >= 0 && km.sess_len == 2) {
			FUZZ_ASSERT(kannel_meta_hop_op(&link, km.op) >= -1);
			check_builders(&link, &km, buf_size);
			check_builders(&link, &km, 64);
		}
	}
	/* NULL and "" are a plain SMS */
	FUZZ_ASSERT(kannel_meta_parse(NULL, &km) == 0 && km.op == -1);
	free(meta);
	return 0;
}
