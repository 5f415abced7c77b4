/* spazactl retailer: a till retailer and its signing key (front_till.c checks the signatures). */
#include <errno.h>
#include <string.h>
#include "ctl.h"
#include "retailer_key.h"

/* A new key id for a retailer and the signing secret derived from it (retailer_key.c, as the
 * Money page makes them), printed once: the database keeps the key id only. A rotation revokes
 * the old key in the same transaction. */
static int ctl_retailer_key(struct ctl *ctl, const char *name, bool rotate)
{
	struct retailer_key k;
	char master_txt[16];
	PGresult *res;

	if (strlen(name) < 1 || strlen(name) > 64 || strpbrk(name, "\n\r\t")) {
		fprintf(stderr, "spazactl: a retailer name is 1 to 64 characters on one line\n");
		return CTL_USAGE;
	}
	if (ctl_secrets("retailer-master") < 0)
		return CTL_ERR;
	int rc = retailer_key_make(&k);
	if (rc < 0) {
		fprintf(stderr, "spazactl: no key made: %s\n", strerror(-rc));
		return CTL_ERR;
	}
	const char *params[] = { name };
	if (ctl_db(ctl) < 0 || ctl_txn(ctl, "BEGIN") < 0) {
		retailer_key_wipe(&k);
		return CTL_ERR;
	}
	if (rotate) {
		res = ctl_query_row(ctl, DB_RETAILER_LOCK, params, "no retailer \"%s\"", name);
		PGresult *revoked = res ? ctl_query(ctl, DB_RETAILER_KEYS_REVOKE, params) : NULL;
		if (!revoked) {
			PQclear(res);
			res = NULL;
		}
		PQclear(revoked);
	} else {
		res = ctl_query_row(ctl, DB_RETAILER_ADD, params,
				    "retailer \"%s\" exists (a new key: spazactl retailer rotate-key)", name);
	}
	if (res) {
		snprintf(master_txt, sizeof(master_txt), "%u", k.master_version);
		const char *key_params[] = { k.id, PQgetvalue(res, 0, 0), master_txt };
		PGresult *added = ctl_query(ctl, DB_RETAILER_KEY_ADD, key_params);
		if (!added || ctl_txn(ctl, "COMMIT") < 0) {
			PQclear(res);
			res = NULL;
		}
		PQclear(added);
	}
	if (!res) {
		ctl_txn(ctl, "ROLLBACK");
		retailer_key_wipe(&k);
		return CTL_ERR;
	}
	printf("retailer  %s (id %s)%s\nkey id    %s\nsecret    %s\n", name, PQgetvalue(res, 0, 0),
	       rotate ? ": new key, the old one is revoked" : "", k.id, k.secret_hex);
	printf("the secret is shown once and stored nowhere: give it to the retailer now\n");
	PQclear(res);
	retailer_key_wipe(&k);
	return CTL_OK;
}

int ctl_retailer_add(struct ctl *ctl, int argc, char **argv)
{
	return ctl_retailer_key(ctl, argv[0], false);
}

int ctl_retailer_rotate_key(struct ctl *ctl, int argc, char **argv)
{
	return ctl_retailer_key(ctl, argv[0], true);
}
