/* Fuzz target: the /ussd/at form decoder (src/fronts/at_form.c), what any client that reaches the
 * gateway's HTTP port can send. Besides not crashing, a body it accepts must hand the session
 * layer exactly what at_form.h promises. */
#include "fuzz.h"
#include <errno.h>
#include "at_form.h"
#include "gsm7.h"

static const size_t field_max[_AT_FIELD_COUNT] = { 128, 32, 32, 16, 1024 };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_strdup(data, size);
	struct at_form f;
	char why[160];

	why[0] = '\0';
	int rc = at_form_parse(buf, "27", &f, why, sizeof(why));
	if (rc < 0) {
		FUZZ_ASSERT(rc == -EINVAL);
		FUZZ_ASSERT(why[0] && strlen(why) < sizeof(why));
	} else {
		FUZZ_ASSERT(rc == 0);
		for (int i = 0; i < _AT_FIELD_COUNT; i++) {
			if (!f.val[i]) {
				FUZZ_ASSERT(i == AT_NETWORK);
				continue;
			}
			/* inside the buffer, NUL-terminated there, within its limit, valid UTF-8 */
			FUZZ_ASSERT(f.val[i] >= buf && f.val[i] <= buf + size);
			size_t len = strlen(f.val[i]);
			FUZZ_ASSERT(f.val[i] + len <= buf + size);
			FUZZ_ASSERT(len <= field_max[i]);
			FUZZ_ASSERT(gsm7_measure(f.val[i], len, &(struct gsm7_measure){ 0 }) == 0);
		}
		FUZZ_ASSERT(f.val[AT_SESSION][0] && f.val[AT_SERVICE][0]);
		/* E.164: '+', then 8 to 15 digits, the first not 0 */
		size_t ml = strlen(f.msisdn);
		FUZZ_ASSERT(f.msisdn[0] == '+' && ml >= 9 && ml <= 16 && f.msisdn[1] != '0');
		for (size_t i = 1; i < ml; i++)
			FUZZ_ASSERT(f.msisdn[i] >= '0' && f.msisdn[i] <= '9');
	}
	free(buf);
	return 0;
}
