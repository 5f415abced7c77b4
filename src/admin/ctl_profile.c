/* spazactl customer set|fields: the customer profile (sql/018_profile_loyalty.sql): name,
 * preferred channel, marketing consent, the shop's custom fields. The database writes every
 * change to the profile history, which the timeline shows (timeline_profile). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <jansson.h>
#include "ctl.h"

#define CTL_NAME_MAX 40
#define CTL_FIELD_VALUE_MAX 160

/* Whether KEY is one of the shop's field keys (CUSTOMER_FIELD_KEYS); -EIO after a message. */
static int ctl_field_key_known(struct ctl *ctl, const char *key)
{
	PGresult *res = ctl_query(ctl, DB_CUSTOMER_FIELD_KEYS, NULL);
	if (!res)
		return -EIO;
	int known = 0;
	for (int i = 0; i < PQntuples(res) && !known; i++)
		known = !strcmp(PQgetvalue(res, i, 0), key);
	PQclear(res);
	return known;
}

/* One NAME=VALUE argument of customer set into the statement's parameters; CTL_OK or
 * CTL_USAGE/CTL_ERR after a message. */
static int ctl_set_arg(struct ctl *ctl, const char *arg, const char **name, const char **channel,
		       const char **consent, json_t *fields)
{
	const char *eq = strchr(arg, '=');
	if (!eq) {
		fprintf(stderr, "spazactl: customer set: \"%s\" is not NAME=VALUE (name=, channel=, consent=, field.KEY=)\n",
			arg);
		return CTL_USAGE;
	}
	const char *val = eq + 1;
	size_t klen = eq - arg;
	if (klen == 4 && !strncmp(arg, "name", 4)) {
		if (strlen(val) > CTL_NAME_MAX) {
			fprintf(stderr, "spazactl: customer set: a name is at most %d characters\n", CTL_NAME_MAX);
			return CTL_USAGE;
		}
		*name = val;
	} else if (klen == 7 && !strncmp(arg, "channel", 7)) {
		if (strcmp(val, "ussd") && strcmp(val, "sms")) {
			fprintf(stderr, "spazactl: customer set: channel is ussd or sms\n");
			return CTL_USAGE;
		}
		*channel = val;
	} else if (klen == 7 && !strncmp(arg, "consent", 7)) {
		if (strcmp(val, "yes") && strcmp(val, "no")) {
			fprintf(stderr, "spazactl: customer set: consent is yes or no\n");
			return CTL_USAGE;
		}
		*consent = strcmp(val, "yes") ? "false" : "true";
	} else if (klen > 6 && !strncmp(arg, "field.", 6)) {
		char *key = talloc_strndup(ctl->ctx, arg + 6, klen - 6);
		int known = ctl_field_key_known(ctl, key);
		if (known < 0)
			return CTL_ERR;
		if (!known) {
			fprintf(stderr, "spazactl: customer set: no field \"%s\" (spazactl customer fields add %s LABEL)\n",
				key, key);
			return CTL_ERR;
		}
		if (strlen(val) > CTL_FIELD_VALUE_MAX) {
			fprintf(stderr, "spazactl: customer set: a field value is at most %d characters\n",
				CTL_FIELD_VALUE_MAX);
			return CTL_USAGE;
		}
		json_object_set_new(fields, key, json_string(val));
	} else {
		fprintf(stderr, "spazactl: customer set: unknown part \"%.*s\" (name, channel, consent, field.KEY)\n",
			(int)klen, arg);
		return CTL_USAGE;
	}
	return CTL_OK;
}

/* customer set MSISDN name=... channel=ussd|sms consent=yes|no field.KEY=... ("" clears) */
int ctl_customer_set(struct ctl *ctl, int argc, char **argv)
{
	char msisdn[MSISDN_BUF_LEN], who[64];
	const char *name = NULL, *channel = NULL, *consent = NULL;
	PGresult *cust;

	int rc = ctl_customer_arg(ctl, argv[0], msisdn, &cust);
	if (rc != CTL_OK)
		return rc;
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "customer %s", PQgetvalue(cust, 0, 0));
	json_t *fields = json_object();
	for (int i = 1; i < argc && rc == CTL_OK; i++)
		rc = ctl_set_arg(ctl, argv[i], &name, &channel, &consent, fields);
	char *fj = json_dumps(fields, JSON_COMPACT | JSON_SORT_KEYS);
	if (rc == CTL_OK) {
		const char *params[] = { PQgetvalue(cust, 0, 0), name, channel, consent, fj, ctl_who(who, sizeof(who)) };
		json_t *after = json_pack("{s:s?,s:s?,s:s?,s:O}", "name", name, "channel", channel, "consent", consent,
					  "fields", fields);
		char *aj = json_dumps(after, JSON_COMPACT | JSON_PRESERVE_ORDER);
		snprintf(ctl->audit_after, sizeof(ctl->audit_after), "%s", aj && strlen(aj) < sizeof(ctl->audit_after) ? aj : "{}");
		free(aj);
		json_decref(after);
		PGresult *res = ctl_query(ctl, DB_CUSTOMER_SET, params);
		if (res) {
			printf("%s: %s change%s\n", msisdn, PQgetvalue(res, 0, 0), strcmp(PQgetvalue(res, 0, 0), "1") ? "s" : "");
			PQclear(res);
		} else {
			rc = CTL_ERR;
		}
	}
	free(fj);
	json_decref(fields);
	PQclear(cust);
	return rc;
}

/* customer fields add KEY LABEL... | list */
int ctl_customer_fields(struct ctl *ctl, int argc, char **argv)
{
	if (!strcmp(argv[0], "list") && argc == 1) {
		if (ctl_db(ctl) < 0)
			return CTL_ERR;
		PGresult *res = ctl_query(ctl, DB_CUSTOMER_FIELD_KEYS, NULL);
		if (!res)
			return CTL_ERR;
		if (!PQntuples(res))
			printf("no custom fields (spazactl customer fields add KEY LABEL)\n");
		for (int i = 0; i < PQntuples(res); i++)
			printf("%-24s %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
		PQclear(res);
		return CTL_OK;
	}
	if (strcmp(argv[0], "add") || argc < 3) {
		fprintf(stderr, "spazactl: usage: spazactl customer fields add KEY LABEL | list\n");
		return CTL_USAGE;
	}
	const char *key = argv[1];
	size_t n = strlen(key);
	bool ok = n >= 1 && n <= 24 && key[0] >= 'a' && key[0] <= 'z';
	for (size_t i = 1; ok && i < n; i++)
		ok = (key[i] >= 'a' && key[i] <= 'z') || (key[i] >= '0' && key[i] <= '9') || key[i] == '_';
	if (!ok) {
		fprintf(stderr, "spazactl: a field key is 1 to 24 of a-z, 0-9 and _, starting with a letter\n");
		return CTL_USAGE;
	}
	char *label = talloc_strdup(ctl->ctx, "");
	for (int i = 2; i < argc; i++)
		label = talloc_asprintf_append(label, "%s%s", i > 2 ? " " : "", argv[i]);
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	const char *params[] = { key, label };
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "field %s", key);
	PGresult *res = ctl_query(ctl, DB_CUSTOMER_FIELD_KEY_ADD, params);
	if (!res)
		return CTL_ERR;
	printf("field %s %s\n", key, strcmp(PQgetvalue(res, 0, 0), "t") ? "relabelled" : "added");
	PQclear(res);
	return CTL_OK;
}
