/* spazactl retailer: a till retailer and its signing key (front_till.c checks the signatures). */
#include <string.h>
#include <openssl/crypto.h>
#include "ctl.h"
#include "secrets.h"

/* Random bytes in a retailer's key id ("rk_" or "rk<master version>_", then hex). */
#define CTL_KEY_ID_BYTES 8

/* A new key id for a retailer and the signing secret derived from it, printed once: the
 * database keeps the key id only. A rotation revokes the old key in the same transaction. */
static int ctl_retailer_key(struct ctl *ctl, const char *name, bool rotate)
{
	uint8_t rnd[CTL_KEY_ID_BYTES], secret[SECRETS_HMAC_LEN];
	char key_id[8 + 2 * CTL_KEY_ID_BYTES], secret_hex[2 * SECRETS_HMAC_LEN + 1], master_txt[16];
	PGresult *res;

	if (strlen(name) < 1 || strlen(name) > 64 || strpbrk(name, "\n\r\t")) {
		fprintf(stderr, "spazactl: a retailer name is 1 to 64 characters on one line\n");
		return CTL_USAGE;
	}
	if (ctl_secrets("retailer-master") < 0)
		return CTL_ERR;
	if (ctl_random(rnd, sizeof(rnd)) < 0)
		return CTL_ERR;
	/* the key id names the master version: rk_ (1), rk2_, rk3_ ... (secrets_id_version()) */
	unsigned master_v = secrets_newest("retailer-master");
	int n = master_v > 1 ? snprintf(key_id, sizeof(key_id), "rk%u_", master_v) : snprintf(key_id, sizeof(key_id), "rk_");
	ctl_hex(key_id + n, rnd, sizeof(rnd));
	if (secrets_hmac_v("retailer-master", master_v, key_id, strlen(key_id), secret) < 0)
		return CTL_ERR;
	if (ctl_db(ctl) < 0)
		return CTL_ERR;

	const char *params[] = { name };
	if (ctl_txn(ctl, "BEGIN") < 0)
		return CTL_ERR;
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
		snprintf(master_txt, sizeof(master_txt), "%u", master_v);
		const char *key_params[] = { key_id, PQgetvalue(res, 0, 0), master_txt };
		PGresult *added = ctl_query(ctl, DB_RETAILER_KEY_ADD, key_params);
		if (!added || ctl_txn(ctl, "COMMIT") < 0) {
			PQclear(res);
			res = NULL;
		}
		PQclear(added);
	}
	if (!res) {
		ctl_txn(ctl, "ROLLBACK");
		OPENSSL_cleanse(secret, sizeof(secret));
		return CTL_ERR;
	}
	ctl_hex(secret_hex, secret, sizeof(secret));
	printf("retailer  %s (id %s)%s\nkey id    %s\nsecret    %s\n", name, PQgetvalue(res, 0, 0),
	       rotate ? ": new key, the old one is revoked" : "", key_id, secret_hex);
	printf("the secret is shown once and stored nowhere: give it to the retailer now\n");
	PQclear(res);
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(secret_hex, sizeof(secret_hex));
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
