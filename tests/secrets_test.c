/* The secrets file: read only when nobody but its owner may touch it, malformed lines named by
 * file:line without ever quoting a key, and HMAC-SHA256 as RFC 4231 computes it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <talloc.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include "cfg.h"
#include "logging.h"
#include "secrets.h"
#include "testlib.h"

/* The key of RFC 4231 test case 1, and a value that must never appear in a message. */
#define KEY1 "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"
#define KEY3 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define CANARY "5ec7e75ec7e75ec7e75ec7e75ec7e75e"

static char dir[] = "/tmp/secrets_test.XXXXXX";

static const char *write_file(const char *name, mode_t mode, const char *text)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || fchmod(fd, mode) < 0) {
		printf("FAIL: cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(fd);
	return path;
}

static void hex(char *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* A file that must be refused: the right rc, a message naming the place, never the key. */
static void check_refused(const char *name, mode_t mode, const char *text, int want_rc, const char *want_in_err)
{
	char err[512] = "", what[128];
	const char *path = write_file(name, mode, text);
	int rc = secrets_load(path, err, sizeof(err));
	snprintf(what, sizeof(what), "%s refused with %d", name, want_rc);
	T_EQ_INT(rc, want_rc, what);
	snprintf(what, sizeof(what), "%s: the message says \"%s\"", name, want_in_err);
	T_CHECK(strstr(err, want_in_err) != NULL, what, "got \"%s\"", err);
	snprintf(what, sizeof(what), "%s: the message quotes no key", name);
	T_CHECK(!strstr(err, CANARY) && !strstr(err, "5EC7E7") && !strstr(err, KEY1), what, "got \"%s\"", err);
}

int main(void)
{
	void *ctx = talloc_named_const(NULL, 0, "secrets_test");
	uint8_t mac[SECRETS_HMAC_LEN];
	char err[512], machex[2 * SECRETS_HMAC_LEN + 1];
	const char *path;

	osmo_init_logging2(ctx, &spaza_log_info);
	cfg_init(ctx);
	if (!mkdtemp(dir)) {
		printf("FAIL: mkdtemp: %s\n", strerror(errno));
		return 1;
	}

	/* Nothing loaded, no file configured: no HMAC. */
	T_EQ_INT(secrets_hmac("voucher-pin", "1", 1, mac), -ENOKEY, "no secrets file configured: no HMAC");
	T_EQ_INT(secrets_load_cfg(err, sizeof(err)), -ENOENT, "no secrets-file in the config is -ENOENT");
	T_CHECK(strstr(err, "secrets-file") != NULL, "the message names the secrets-file setting", "got \"%s\"", err);

	path = write_file("good", 0600, "# Spaza secrets\n\n  voucher-pin = " KEY1 "\n"
			  "retailer-master=" KEY3 "  \n\t# another comment\n");
	T_EQ_INT(secrets_load(path, err, sizeof(err)), 0, "a 0600 file with two keys and comments loads");
	T_CHECK(secrets_have("voucher-pin") && secrets_have("retailer-master") && !secrets_have("other"),
		"both keys are there and no other", "wrong set of keys");

	T_EQ_INT(secrets_hmac("voucher-pin", "Hi There", 8, mac), 0, "HMAC under voucher-pin");
	hex(machex, mac, sizeof(mac));
	T_EQ_STR(machex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
		 "HMAC-SHA256 matches RFC 4231 test case 1");
	uint8_t dd[50];
	memset(dd, 0xdd, sizeof(dd));
	T_EQ_INT(secrets_hmac("retailer-master", dd, sizeof(dd), mac), 0, "HMAC under retailer-master");
	hex(machex, mac, sizeof(mac));
	T_EQ_STR(machex, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
		 "HMAC-SHA256 matches RFC 4231 test case 3");
	T_EQ_INT(secrets_hmac("no-such-key", "x", 1, mac), -ENOKEY, "an unknown key name is -ENOKEY");

	check_refused("world-readable", 0644, "voucher-pin = " CANARY "\n", -EPERM, "chmod 600");
	check_refused("group-readable", 0640, "voucher-pin = " CANARY "\n", -EPERM, "mode 0640");
	check_refused("group-writable", 0620, "voucher-pin = " CANARY "\n", -EPERM, "group or others");
	check_refused("other-executable", 0601, "voucher-pin = " CANARY "\n", -EPERM, "group or others");
	check_refused("no-equals", 0600, "voucher-pin " CANARY "\n", -EINVAL, "no-equals:1: expected");
	check_refused("not-hex", 0600, "# x\nvoucher-pin = " CANARY "zz\n", -EINVAL, "not-hex:2: the value is not hexadecimal");
	check_refused("odd-hex", 0600, "voucher-pin = " CANARY "5\n", -EINVAL, "odd-hex:1: the value has an odd number");
	check_refused("short-key", 0600, "voucher-pin = 5ec7e75ec7e75ec7\n", -EINVAL, "short-key:1: the key is shorter");
	check_refused("twice", 0600, "a = " CANARY "\nb = " CANARY "\na = " CANARY "\n", -EINVAL,
		      "twice:3: the key name appears twice");
	check_refused("bad-name", 0600, "voucher pin = " CANARY "\n", -EINVAL, "bad-name:1: expected");
	check_refused("upper-hex", 0600, "voucher-pin = 5EC7E75EC7E75EC7E75EC7E75EC7E75EZ\n", -EINVAL, "not hexadecimal");

	/* A refused file leaves what was loaded before in place. */
	T_CHECK(secrets_have("voucher-pin") && secrets_have("retailer-master"),
		"a refused file leaves the loaded keys alone", "keys gone");

	char missing[256];
	snprintf(missing, sizeof(missing), "%s/none", dir);
	T_EQ_INT(secrets_load(missing, err, sizeof(err)), -ENOENT, "a missing file is -ENOENT");
	T_EQ_INT(secrets_load(dir, err, sizeof(err)), -EINVAL, "a directory is refused");

	/* secrets_hmac() loads the configured file by itself when nothing is loaded. */
	secrets_clear();
	T_CHECK(!secrets_have("voucher-pin"), "secrets_clear forgets every key", "still there");
	path = write_file("cfg", 0600, "voucher-pin = " KEY1 "\n");
	osmo_talloc_replace_string(g_cfg, &g_cfg->secrets_file, path);
	T_EQ_INT(secrets_hmac("voucher-pin", "Hi There", 8, mac), 0, "HMAC loads g_cfg->secrets_file by itself");
	hex(machex, mac, sizeof(mac));
	T_EQ_STR(machex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
		 "... and gets the RFC 4231 answer");

	secrets_clear();
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	log_fini();
	talloc_free(ctx);
	return T_DONE();
}
