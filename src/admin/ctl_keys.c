/* spazactl keys: versions of the HMAC keys in the secrets file (secrets.h). Nothing here
 * prints or logs a key: only names, version numbers and dates. */
#include <string.h>
#include <time.h>
#include "cfg.h"
#include "ctl.h"
#include "secrets.h"

/* The keys whose versions are named by what they signed; passwords are changed by hand. */
static const char *const ctl_keys_versioned[] = { "voucher-pin", "retailer-master", "slip-qr" };

static const char *ctl_keys_time(char *buf, size_t len, time_t t)
{
	if (!t)
		return "-";
	strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", gmtime(&t));
	return buf;
}

int ctl_keys_rotate(struct ctl *ctl, int argc, char **argv)
{
	char err[512];
	unsigned version;
	bool known = false;

	for (size_t i = 0; i < sizeof(ctl_keys_versioned) / sizeof(ctl_keys_versioned[0]); i++)
		known |= !strcmp(argv[0], ctl_keys_versioned[i]);
	if (!known) {
		fprintf(stderr, "spazactl: keys rotate: NAME is voucher-pin, retailer-master or slip-qr\n");
		return CTL_USAGE;
	}
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "key %s", argv[0]);
	if (ctl_secrets(argv[0]) < 0)
		return CTL_ERR;
	snprintf(ctl->audit_before, sizeof(ctl->audit_before), "{\"version\": %u}", secrets_newest(argv[0]));
	if (secrets_rotate(argv[0], &version, err, sizeof(err)) < 0) {
		fprintf(stderr, "spazactl: %s\n", err);
		return CTL_ERR;
	}
	snprintf(ctl->audit_after, sizeof(ctl->audit_after), "{\"version\": %u}", version);
	printf("%s: version %u added to %s; new HMACs use it, version %u verifies for %u s more\n", argv[0], version,
	       g_cfg->secrets_file, version - 1, g_cfg->key_grace_s);
	return CTL_OK;
}

int ctl_keys_list(struct ctl *ctl, int argc, char **argv)
{
	char err[512], made[32], replaced[32], retires[32];
	const char *names[SECRETS_MAX];
	time_t now = time(NULL);

	if (secrets_load_cfg(err, sizeof(err)) < 0) {
		fprintf(stderr, "spazactl: %s\n", err);
		return CTL_ERR;
	}
	unsigned n = secrets_names(names, SECRETS_MAX);
	printf("%-24s %7s  %-20s  %-20s  %-20s  %s\n", "NAME", "VERSION", "MADE", "REPLACED", "REFUSED FROM", "STATE");
	for (unsigned i = 0; i < n; i++) {
		struct secrets_version vs[SECRETS_MACS_MAX];
		unsigned nv = secrets_versions(names[i], vs, SECRETS_MACS_MAX);
		for (unsigned k = 0; k < nv; k++)
			printf("%-24s %7u  %-20s  %-20s  %-20s  %s\n", names[i], vs[k].version,
			       ctl_keys_time(made, sizeof(made), vs[k].since),
			       ctl_keys_time(replaced, sizeof(replaced), vs[k].superseded),
			       ctl_keys_time(retires, sizeof(retires), vs[k].retires),
			       !vs[k].superseded ? "current" : now < vs[k].retires ? "grace" : "retired");
	}
	return CTL_OK;
}
