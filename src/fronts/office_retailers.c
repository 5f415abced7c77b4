/* The Money page's retailers and their till keys (office.h), as `spazactl retailer add` and
 * `retailer rotate-key` make them (retailer_key.c, the same key ids and the same derivation):
 * the database keeps the key id only (sql/002), the signing secret is HMAC('retailer-master',
 * key id), derived here from the secrets file spazad already holds for the till API, put in
 * this one answer and wiped. It is never stored, logged or audited; no later answer can show it
 * again (only a new key, which revokes this one). The writes go through doors that check an
 * owner's or finance's live session again in the database (sql/020_office_search.sql).
 *
 *   POST money/retailer {"name"}          a retailer and its first key -> id, key_id, secret
 *   POST money/retailer-key {"retailer"}  a new key, the active one revoked -> key_id, secret */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include "db.h"
#include "office.h"
#include "retailer_key.h"

struct office_rkey {
	struct office_call *c;
	struct retailer_key k;
	char name[72];		/* a new retailer's */
	char retailer[16];	/* a new key's retailer id, "" for a new retailer */
};

static int office_rkey_free(struct office_rkey *r)
{
	retailer_key_wipe(&r->k);
	return 0;
}

static void office_rkey_done(void *priv, const PGresult *res, int err)
{
	struct office_rkey *r = priv;
	bool add = !*r->retailer;
	char subject[32], before[64], after[96];
	if (err)
		return office_error(r->c->req, 503, "the database is not answering: no key was issued");
	const char *outcome = PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "";
	if (!strcmp(outcome, "exists"))
		return office_error(r->c->req, 409, "a retailer of that name exists: give it a new key instead");
	if (!strcmp(outcome, "not_found"))
		return office_error(r->c->req, 404, "no such retailer");
	if (strcmp(outcome, "ok"))
		return office_error(r->c->req, 403, "your role may not issue till keys");
	snprintf(subject, sizeof(subject), "retailer %s", PQgetvalue(res, 0, 1));
	snprintf(before, sizeof(before), "{\"keys_revoked\": %s}", PQgetvalue(res, 0, 3));
	/* the key id is no secret and says which key the tills now use; the secret is in no row */
	snprintf(after, sizeof(after), "{\"key_id\": \"%s\"}", r->k.id);
	office_audit(&r->c->who, add ? "retailer add" : "retailer rotate-key", subject, true, add ? NULL : before, after);
	/* what the page shows once (office_json() says no-store: no cache keeps it) */
	office_json(r->c->req, 200, json_pack("{sI ss ss ss sb}", "retailer_id",
					      (json_int_t)strtoll(PQgetvalue(res, 0, 1), NULL, 10), "name",
					      PQgetvalue(res, 0, 2), "key_id", r->k.id, "secret", r->k.secret_hex,
					      "rotated", strcmp(PQgetvalue(res, 0, 3), "0") != 0));
}

/* A new key for retailer (NULL: a new retailer named name), made and sent to the door. */
static void office_rkey_issue(struct office_call *c, const char *retailer, const char *name)
{
	struct office_rkey *r = talloc_zero(c->req, struct office_rkey);
	char master[16];
	r->c = c;
	talloc_set_destructor(r, office_rkey_free);
	int rc = retailer_key_make(&r->k);
	if (rc == -ENOKEY)
		return office_error(c->req, 409, "the secrets file has no retailer-master key: no till key can be made");
	if (rc < 0)
		return office_error(c->req, 500, "no till key could be made: try again");
	snprintf(r->retailer, sizeof(r->retailer), "%s", retailer ? retailer : "");
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "");
	snprintf(master, sizeof(master), "%u", r->k.master_version);
	const char *params[] = { c->who.session, retailer ? r->retailer : NULL, name ? r->name : NULL, r->k.id, master };
	db_write(DB_OFFICE_RETAILER_KEY_NEW, 5, params, office_rkey_done, r);
}

/* 1 to 64 bytes on one line, no space at either end: the retailers table's own check (no
 * control character), and no name that looks like another in the list. */
static bool office_retailer_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 64 || s[0] == ' ' || s[n - 1] == ' ')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

void office_retailer_add(struct office_call *c)
{
	const char *name = NULL;
	if (json_unpack(c->body, "{s:s}", "name", &name) < 0 || !office_retailer_name_ok(name))
		return office_error(c->req, 400, "name: 1 to 64 characters on one line");
	office_rkey_issue(c, NULL, name);
}

void office_retailer_key(struct office_call *c)
{
	json_int_t id = 0;
	char retailer[16];
	if (json_unpack(c->body, "{s:I}", "retailer", &id) < 0 || id < 1 || id > INT32_MAX)
		return office_error(c->req, 400, "retailer: a retailer's id");
	snprintf(retailer, sizeof(retailer), "%" JSON_INTEGER_FORMAT, id);
	office_rkey_issue(c, retailer, NULL);
}
