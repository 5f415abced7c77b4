/* The CRM's pages (office.h; doc/back-office.md, doc/crm.md): Segments, Campaigns and Funnel, on
 * the statements `spazactl segments`, `campaign` and `funnel` run (db_stmts.def), with the same
 * rule parser (segment_rule.c) and the same input checks and linter (crm_form.c). Care reads;
 * the owner defines segments and runs campaigns, each change audited under the staff login.
 *
 *   GET  segments                    the named segments (counts, mean R F M), the shop's rules counted now
 *   GET  segments/members?name=      a segment's rule and its first members
 *   POST segments/define {"name", "rule"}   a rule segment defined or changed -> its count
 *   GET  campaigns                   the newest 50 with state and `campaign report`'s figures
 *   GET  campaigns/preview?name=     the audience now and each language at its worst case, linted
 *   POST campaigns/create {"name", "text_en", "text_zu", "text_af", "offer", "segment"|"rule", "at",
 *                          "keyword", "code"}
 *   POST campaigns/state {"name", "action": "start"|"pause"|"resume"}
 *   GET  funnel?since=[&by=][&csv=1] `spazactl funnel --since [--by]`, or its --csv byte for byte
 *
 * A read of several statements answers when the last is in (crm_gather); a failed one makes the
 * whole answer a 503, never a page with a figure missing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include "crm_form.h"
#include "db.h"
#include "office.h"
#include "segment_rule.h"

#define OFFICE_CRM_MEMBERS 20		/* a segment's first members the page shows */
#define OFFICE_CRM_WINDOW "7"		/* days after each SMS an order counts for its campaign (ctl_campaign.c) */
#define OFFICE_CRM_DOWN "the database is not answering: try again in a moment"

static json_int_t crm_int(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* A column that may be NULL (the mean scores of 'none', a campaign's keyword) as JSON null. */
static json_t *crm_num_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? json_null() : json_real(strtod(PQgetvalue(res, row, col), NULL));
}

static json_t *crm_str_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? json_null() : json_string(PQgetvalue(res, row, col));
}

/* The care desk reads these pages; what they change is the owner's (staff_roles.def). */
static bool office_crm_may_change(const struct office_staff *who)
{
	return who->role == STAFF_ROLE_OWNER;
}

/* The audit row of a change, its after-state built as JSON so a text in it cannot break it. */
static void office_crm_audit(const struct office_staff *who, const char *action, const char *subject, json_t *after)
{
	char *a = json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS);
	office_audit(who, action, subject, true, NULL, a);
	free(a);
	json_decref(after);
}

/* A rule's member counts (SEGMENT_RULE_COUNT's row) as the pages show them. */
static json_t *crm_counts(const PGresult *res)
{
	return json_pack("{sI sI sI sI}", "total", crm_int(res, 0, 0), "en", crm_int(res, 0, 1), "zu",
			 crm_int(res, 0, 2), "af", crm_int(res, 0, 3));
}

/* ---- One answer gathered from several reads: the lists, then a count or report per row ---- */

struct crm_gather {
	struct office_call *c;
	json_t *out;		/* the answer, filled as the reads come in */
	unsigned pending;
	bool failed;
};

/* A row's own read: it fills row (borrowed from g->out) when it comes in. */
struct crm_gather_row {
	struct crm_gather *g;
	json_t *row;
};

static struct crm_gather *crm_gather_new(struct office_call *c, json_t *out, unsigned pending)
{
	struct crm_gather *g = talloc_zero(c->req, struct crm_gather);
	g->c = c;
	g->out = out;
	g->pending = pending;
	return g;
}

/* One read in (failed or not): the answer goes when it was the last. */
static void crm_gather_done(struct crm_gather *g, bool failed)
{
	g->failed = g->failed || failed;
	if (--g->pending)
		return;
	if (g->failed) {
		json_decref(g->out);
		return office_error(g->c->req, 503, OFFICE_CRM_DOWN);
	}
	office_json(g->c->req, 200, g->out);
}

/* A read for one row of the answer, counted in before it is sent. */
static void crm_gather_row(struct crm_gather *g, json_t *row, enum db_stmt stmt, int n, const char *const *params,
			   db_cb cb)
{
	struct crm_gather_row *r = talloc_zero(g, struct crm_gather_row);
	r->g = g;
	r->row = row;
	g->pending++;
	db_read(stmt, n, params, cb, r);
}

/* ---- Segments ---- */

static void crm_segments_named(void *priv, const PGresult *res, int err)
{
	struct crm_gather *g = priv;
	json_t *named = json_object_get(g->out, "named");
	if (err)
		return crm_gather_done(g, true);
	/* every named segment and 'none', in the order `segments list` prints them, 0 when empty */
	for (int w = 0; w <= _SEGMENT_NAMED_COUNT; w++) {
		const char *want = w < _SEGMENT_NAMED_COUNT ? segment_named_word(w) : "none";
		json_t *row = json_pack("{ss sI sn sn sn sn}", "segment", want, "customers", (json_int_t)0, "r", "f", "m",
					"spent_cents");
		for (int i = 0; i < PQntuples(res); i++)
			if (!strcmp(PQgetvalue(res, i, 0), want)) {
				json_object_set_new(row, "customers", json_integer(crm_int(res, i, 1)));
				json_object_set_new(row, "r", crm_num_or_null(res, i, 2));
				json_object_set_new(row, "f", crm_num_or_null(res, i, 3));
				json_object_set_new(row, "m", crm_num_or_null(res, i, 4));
				if (!PQgetisnull(res, i, 5))
					json_object_set_new(row, "spent_cents", json_integer(crm_int(res, i, 5)));
			}
		json_array_append_new(named, row);
	}
	crm_gather_done(g, false);
}

static void crm_rule_counted(void *priv, const PGresult *res, int err)
{
	struct crm_gather_row *r = priv;
	if (!err)
		json_object_set_new(r->row, "members", crm_counts(res));
	crm_gather_done(r->g, err != 0);
}

static void crm_segments_rules(void *priv, const PGresult *res, int err)
{
	struct crm_gather *g = priv;
	json_t *rules = json_object_get(g->out, "rules");
	if (err)
		return crm_gather_done(g, true);
	for (int i = 0; i < PQntuples(res); i++) {
		struct segment_rule r;
		char why[160];
		json_t *row = json_pack("{ss ss ss}", "name", PQgetvalue(res, i, 0), "rule", PQgetvalue(res, i, 1), "since",
					PQgetvalue(res, i, 2));
		json_array_append_new(rules, row);
		/* a rule stored by an older spazactl that no longer parses is shown with its reason, uncounted */
		if (segment_rule_parse(PQgetvalue(res, i, 1), &r, why, sizeof(why)) < 0) {
			json_object_set_new(row, "error", json_string(why));
			continue;
		}
		struct segment_rule_params p;
		segment_rule_params(&r, &p);
		crm_gather_row(g, row, DB_SEGMENT_RULE_COUNT, SEGMENT_RULE_NPARAMS, p.v, crm_rule_counted);
	}
	crm_gather_done(g, false);
}

void office_segments(struct office_call *c)
{
	struct crm_gather *g = crm_gather_new(c, json_pack("{s[] s[] sb}", "named", "rules", "may_define",
							    office_crm_may_change(&c->who)), 2);
	db_read(DB_SEGMENT_NAMED_COUNTS, 0, NULL, crm_segments_named, g);
	db_read(DB_SEGMENT_LIST, 0, NULL, crm_segments_rules, g);
}

/* A segment by name, as ctl_segment_resolve() finds it: a named RFM segment at once, a rule
 * segment from crm_segments. cb(c, rule) with the rule parsed, or the answer given (404, 503). */
typedef void (*crm_resolved_cb)(struct office_call *c, const struct segment_rule *r, const char *name);

struct crm_resolve {
	struct office_call *c;
	crm_resolved_cb cb;
	char name[40];
};

static void crm_resolve_got(void *priv, const PGresult *res, int err)
{
	struct crm_resolve *rs = priv;
	struct segment_rule r;
	char why[160], msg[240];
	if (err)
		return office_error(rs->c->req, 503, OFFICE_CRM_DOWN);
	if (!PQntuples(res)) {
		snprintf(msg, sizeof(msg), "no segment \"%s\" (named: top, average, once-off, new, lapsed; or the shop's own)",
			 rs->name);
		return office_error(rs->c->req, 404, msg);
	}
	if (segment_rule_parse(PQgetvalue(res, 0, 0), &r, why, sizeof(why)) < 0) {
		snprintf(msg, sizeof(msg), "segment %s's stored rule does not parse: %s", rs->name, why);
		return office_error(rs->c->req, 409, msg);
	}
	rs->cb(rs->c, &r, rs->name);
}

static void crm_resolve(struct office_call *c, const char *name, crm_resolved_cb cb)
{
	int named = segment_named_index(name);
	if (named >= 0) {
		struct segment_rule r;
		memset(&r, 0, sizeof(r));
		r.spent_over_cents = -1;
		r.named = named;
		return cb(c, &r, name);
	}
	if (!crm_name_ok(name))
		return office_error(c->req, 400, "name: a segment's name (" CRM_NAME_RULE ")");
	struct crm_resolve *rs = talloc_zero(c->req, struct crm_resolve);
	rs->c = c;
	rs->cb = cb;
	snprintf(rs->name, sizeof(rs->name), "%s", name);
	const char *params[] = { rs->name };
	db_read(DB_SEGMENT_GET, 1, params, crm_resolve_got, rs);
}

static void crm_members_done(void *priv, const PGresult *res, int err)
{
	struct office_call *c = priv;
	if (err) {
		json_decref(c->priv);
		return office_error(c->req, 503, OFFICE_CRM_DOWN);
	}
	json_t *a = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(a, json_pack("{ss ss ss so so so sI sI}", "msisdn", PQgetvalue(res, i, 0), "lang",
						   PQgetvalue(res, i, 1), "segment", PQgetvalue(res, i, 2), "r",
						   crm_num_or_null(res, i, 3), "f", crm_num_or_null(res, i, 4), "m",
						   crm_num_or_null(res, i, 5), "orders", crm_int(res, i, 6), "spent_cents",
						   crm_int(res, i, 7)));
	json_object_set_new(c->priv, "members", a);
	office_json(c->req, 200, c->priv);
}

static void crm_members_resolved(struct office_call *c, const struct segment_rule *r, const char *name)
{
	char canon[SEGMENT_RULE_MAX + 1], lim[8];
	struct segment_rule_params p;
	const char *params[SEGMENT_RULE_NPARAMS + 1];
	segment_rule_format(r, canon, sizeof(canon));
	c->priv = json_pack("{ss ss}", "name", name, "rule", canon);
	segment_rule_params(r, &p);
	memcpy(params, p.v, sizeof(p.v));
	snprintf(lim, sizeof(lim), "%d", OFFICE_CRM_MEMBERS);
	params[SEGMENT_RULE_NPARAMS] = lim;
	db_read(DB_SEGMENT_RULE_MEMBERS, SEGMENT_RULE_NPARAMS + 1, params, crm_members_done, c);
}

void office_segment_members(struct office_call *c)
{
	const char *name = http_req_arg(c->req, "name");
	if (!name || !*name)
		return office_error(c->req, 400, "name: a segment's name");
	crm_resolve(c, name, crm_members_resolved);
}

/* A define: the rule checked and written back canonical, as `segments define` stores it, then
 * counted the way the list counts it. */
struct crm_define {
	struct office_call *c;
	struct segment_rule r;
	char name[40], canon[SEGMENT_RULE_MAX + 1];
	bool created;
};

static void crm_define_counted(void *priv, const PGresult *res, int err)
{
	struct crm_define *d = priv;
	if (err)	/* defined, but not counted: the list counts it */
		return office_json(d->c->req, 200, json_pack("{ss ss sb sn}", "name", d->name, "rule", d->canon, "created",
							     d->created, "members"));
	office_json(d->c->req, 200, json_pack("{ss ss sb so}", "name", d->name, "rule", d->canon, "created", d->created,
					      "members", crm_counts(res)));
}

static void crm_define_done(void *priv, const PGresult *res, int err)
{
	struct crm_define *d = priv;
	char subject[64];
	if (err || PQntuples(res) != 1)
		return office_error(d->c->req, 503, "the database is not answering: the segment was not defined");
	d->created = !strcmp(PQgetvalue(res, 0, 0), "t");
	snprintf(subject, sizeof(subject), "segment %s", d->name);
	office_crm_audit(&d->c->who, "segments define", subject, json_pack("{ss}", "rule", d->canon));
	struct segment_rule_params p;
	segment_rule_params(&d->r, &p);
	db_read(DB_SEGMENT_RULE_COUNT, SEGMENT_RULE_NPARAMS, p.v, crm_define_counted, d);
}

void office_segment_define(struct office_call *c)
{
	const char *name = NULL, *rule = NULL;
	char why[160], msg[200];
	if (!office_crm_may_change(&c->who))
		return office_error(c->req, 403, "the owner defines segments; your role reads them");
	if (json_unpack(c->body, "{s:s s:s}", "name", &name, "rule", &rule) < 0)
		return office_error(c->req, 400, "give {\"name\": ..., \"rule\": ...}");
	if (segment_named_index(name) >= 0)
		return office_error(c->req, 400, "that is a named segment already: choose another name");
	if (!crm_name_ok(name))
		return office_error(c->req, 400, "name: " CRM_NAME_RULE);
	struct crm_define *d = talloc_zero(c->req, struct crm_define);
	d->c = c;
	if (strlen(rule) > SEGMENT_RULE_MAX || segment_rule_parse(rule, &d->r, why, sizeof(why)) < 0) {
		snprintf(msg, sizeof(msg), "bad rule: %s", strlen(rule) > SEGMENT_RULE_MAX ? "too long" : why);
		return office_error(c->req, 400, msg);
	}
	if (segment_rule_format(&d->r, d->canon, sizeof(d->canon)) < 0)
		return office_error(c->req, 400, "bad rule: too long");
	snprintf(d->name, sizeof(d->name), "%s", name);
	const char *params[] = { d->name, d->canon };
	db_write(DB_SEGMENT_DEFINE, 2, params, crm_define_done, d);
}

/* ---- Campaigns ---- */

static const char *const crm_report_keys[] = { "recipients", "pending", "queued", "no_consent", "capped", "sent",
					       "delivered", "failed", "opted_out", "dialled", "ordered", "paid",
					       "revenue_cents" };

static void crm_campaign_reported(void *priv, const PGresult *res, int err)
{
	struct crm_gather_row *r = priv;
	bool ok = !err && PQntuples(res) == 1;
	if (ok) {
		json_t *rep = json_object();
		for (unsigned i = 0; i < sizeof(crm_report_keys) / sizeof(crm_report_keys[0]); i++)
			json_object_set_new(rep, crm_report_keys[i], json_integer(crm_int(res, 0, (int)i)));
		json_object_set_new(r->row, "report", rep);
	}
	crm_gather_done(r->g, !ok);
}

static void crm_campaigns_listed(void *priv, const PGresult *res, int err)
{
	struct crm_gather *g = priv;
	json_t *list = json_object_get(g->out, "campaigns");
	if (err)
		return crm_gather_done(g, true);
	for (int i = 0; i < PQntuples(res); i++) {
		json_t *row = json_pack("{ss ss ss ss ss so so}", "name", PQgetvalue(res, i, 1), "state", PQgetvalue(res, i, 2),
					"segment", PQgetvalue(res, i, 3), "rule", PQgetvalue(res, i, 4), "start",
					PQgetvalue(res, i, 5), "keyword", crm_str_or_null(res, i, 6), "code",
					crm_str_or_null(res, i, 7));
		json_array_append_new(list, row);
		const char *params[] = { PQgetvalue(res, i, 0), OFFICE_CRM_WINDOW };
		crm_gather_row(g, row, DB_CAMPAIGN_REPORT, 2, params, crm_campaign_reported);
	}
	crm_gather_done(g, false);
}

void office_campaigns(struct office_call *c)
{
	struct crm_gather *g = crm_gather_new(c, json_pack("{s[] sb}", "campaigns", "may_change",
							    office_crm_may_change(&c->who)), 1);
	db_read(DB_CAMPAIGN_LIST, 0, NULL, crm_campaigns_listed, g);
}

/* Every language's text linted as `campaign preview` lints it: {lang, ok, why, text}. */
static json_t *crm_lint(const char *const text[_CAMPAIGN_LANG_COUNT], const char *offer, bool *all_ok)
{
	json_t *a = json_array();
	*all_ok = true;
	for (int l = 0; l < _CAMPAIGN_LANG_COUNT; l++) {
		struct campaign_lint li;
		bool ok = campaign_lint_lang(text[l], offer, l, &li);
		*all_ok = *all_ok && ok;
		json_array_append_new(a, json_pack("{ss sb ss ss}", "lang", campaign_lang_code(l), "ok", ok, "why", li.why,
						   "text", li.text));
	}
	return a;
}

/* One campaign's row (CAMPAIGN_GET) kept for the next step: its id, state, texts, offer and rule. */
struct crm_campaign {
	struct office_call *c;
	char name[40], id[16], state[16], segment[40], at[24];
	char *text[_CAMPAIGN_LANG_COUNT], *offer, *keyword, *code;
	char canon[SEGMENT_RULE_MAX + 1];
	struct segment_rule r;
	const char *action;		/* campaigns/state's */
};

typedef void (*crm_campaign_cb)(struct crm_campaign *k);

struct crm_campaign_get {
	struct crm_campaign *k;
	crm_campaign_cb cb;
};

static void crm_campaign_got(void *priv, const PGresult *res, int err)
{
	struct crm_campaign_get *g = priv;
	struct crm_campaign *k = g->k;
	char why[160], msg[240];
	if (err)
		return office_error(k->c->req, 503, OFFICE_CRM_DOWN);
	if (!PQntuples(res)) {
		snprintf(msg, sizeof(msg), "no campaign %s", k->name);
		return office_error(k->c->req, 404, msg);
	}
	snprintf(k->id, sizeof(k->id), "%s", PQgetvalue(res, 0, 0));
	snprintf(k->state, sizeof(k->state), "%s", PQgetvalue(res, 0, 1));
	for (int l = 0; l < _CAMPAIGN_LANG_COUNT; l++)
		k->text[l] = talloc_strdup(k, PQgetvalue(res, 0, 2 + l));
	k->offer = talloc_strdup(k, PQgetvalue(res, 0, 5));
	snprintf(k->segment, sizeof(k->segment), "%s", PQgetvalue(res, 0, 6));
	snprintf(k->canon, sizeof(k->canon), "%s", PQgetvalue(res, 0, 7));
	snprintf(k->at, sizeof(k->at), "%s", PQgetvalue(res, 0, 8));
	k->keyword = PQgetisnull(res, 0, 9) ? NULL : talloc_strdup(k, PQgetvalue(res, 0, 9));
	k->code = PQgetisnull(res, 0, 10) ? NULL : talloc_strdup(k, PQgetvalue(res, 0, 10));
	if (segment_rule_parse(k->canon, &k->r, why, sizeof(why)) < 0) {
		snprintf(msg, sizeof(msg), "campaign %s's stored rule does not parse: %s", k->name, why);
		return office_error(k->c->req, 409, msg);
	}
	g->cb(k);
}

static void crm_campaign_get(struct office_call *c, const char *name, const char *action, crm_campaign_cb cb)
{
	if (!name || !crm_name_ok(name))
		return office_error(c->req, 400, "name: a campaign's name (" CRM_NAME_RULE ")");
	struct crm_campaign *k = talloc_zero(c->req, struct crm_campaign);
	struct crm_campaign_get *g = talloc_zero(k, struct crm_campaign_get);
	k->c = c;
	k->action = action;
	snprintf(k->name, sizeof(k->name), "%s", name);
	g->k = k;
	g->cb = cb;
	const char *params[] = { k->name };
	db_read(DB_CAMPAIGN_GET, 1, params, crm_campaign_got, g);
}

static void crm_preview_counted(void *priv, const PGresult *res, int err)
{
	struct crm_campaign *k = priv;
	bool ok;
	if (err)
		return office_error(k->c->req, 503, OFFICE_CRM_DOWN);
	json_t *texts = crm_lint((const char *const *)k->text, k->offer, &ok);
	office_json(k->c->req, 200, json_pack("{ss ss ss ss ss ss? ss? ss so so sb}", "name", k->name, "state", k->state,
					      "segment", k->segment, "rule", k->canon, "start", k->at, "keyword",
					      k->keyword, "code", k->code, "offer", k->offer, "audience", crm_counts(res),
					      "texts", texts, "ok", ok));
}

static void crm_preview_got(struct crm_campaign *k)
{
	struct segment_rule_params p;
	segment_rule_params(&k->r, &p);
	db_read(DB_SEGMENT_RULE_COUNT, SEGMENT_RULE_NPARAMS, p.v, crm_preview_counted, k);
}

void office_campaign_preview(struct office_call *c)
{
	crm_campaign_get(c, http_req_arg(c->req, "name"), NULL, crm_preview_got);
}

/* create: checked as `campaign create` checks it, the segment resolved, then one insert. */
struct crm_create {
	struct office_call *c;
	char name[40], at[24];
	char *text[_CAMPAIGN_LANG_COUNT], *offer, *segment, *keyword, *code;
	char canon[SEGMENT_RULE_MAX + 1];
};

static void crm_create_done(void *priv, const PGresult *res, int err)
{
	struct crm_create *k = priv;
	char subject[64];
	if (err || PQntuples(res) != 1)	/* a name taken since the check is refused by its UNIQUE too */
		return office_error(k->c->req, 409, "the campaign was not created: its name may be taken; try again");
	snprintf(subject, sizeof(subject), "campaign %s", k->name);
	office_crm_audit(&k->c->who, "campaign create", subject,
			 json_pack("{ss ss ss* ss ss* ss*}", "rule", k->canon, "at", k->at, "segment", k->segment, "text_en",
				   k->text[CAMPAIGN_EN], "keyword", k->keyword, "code", k->code));
	office_json(k->c->req, 200, json_pack("{sI ss ss ss}", "id", crm_int(res, 0, 0), "name", k->name, "rule", k->canon,
					      "state", "draft"));
}

static void crm_create_insert(struct crm_create *k)
{
	const char *params[] = { k->name, k->text[CAMPAIGN_EN], k->text[CAMPAIGN_ZU], k->text[CAMPAIGN_AF], k->offer,
				 k->segment, k->canon, k->at, k->keyword, k->code };
	db_write(DB_CAMPAIGN_CREATE, 10, params, crm_create_done, k);
}

/* The campaign's segment found as `segments members` finds it: its rule as it is now, fixed in
 * the campaign as spazactl fixes it. */
static void crm_create_resolved(struct office_call *c, const struct segment_rule *r, const char *name)
{
	struct crm_create *k = c->priv;
	segment_rule_format(r, k->canon, sizeof(k->canon));
	crm_create_insert(k);
}

static void crm_create_exists(void *priv, const PGresult *res, int err)
{
	struct crm_create *k = priv;
	if (err)
		return office_error(k->c->req, 503, OFFICE_CRM_DOWN);
	if (PQntuples(res))
		return office_error(k->c->req, 409, "a campaign of that name exists: choose another name");
	if (k->segment) {
		k->c->priv = k;
		return crm_resolve(k->c, k->segment, crm_create_resolved);
	}
	crm_create_insert(k);
}

/* An optional string member: absent, null or "" is NULL; a non-string is an error (-EINVAL). */
static int crm_opt_str(json_t *body, const char *key, const char **out)
{
	json_t *v = json_object_get(body, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -EINVAL;
	if (*json_string_value(v))
		*out = json_string_value(v);
	return 0;
}

void office_campaign_create(struct office_call *c)
{
	static const char *const text_keys[] = { "text_en", "text_zu", "text_af" };
	const char *name, *text[_CAMPAIGN_LANG_COUNT], *offer, *segment, *rule, *at, *keyword, *code;
	char why[160], msg[320];
	if (!office_crm_may_change(&c->who))
		return office_error(c->req, 403, "the owner creates campaigns; your role reads them");
	if (crm_opt_str(c->body, "name", &name) || crm_opt_str(c->body, "offer", &offer) ||
	    crm_opt_str(c->body, "segment", &segment) || crm_opt_str(c->body, "rule", &rule) ||
	    crm_opt_str(c->body, "at", &at) || crm_opt_str(c->body, "keyword", &keyword) ||
	    crm_opt_str(c->body, "code", &code) || crm_opt_str(c->body, text_keys[0], &text[0]) ||
	    crm_opt_str(c->body, text_keys[1], &text[1]) || crm_opt_str(c->body, text_keys[2], &text[2]))
		return office_error(c->req, 400, "the campaign's fields are strings");
	if (!name || !crm_name_ok(name))
		return office_error(c->req, 400, "name: " CRM_NAME_RULE);
	if (!text[CAMPAIGN_EN] || !at || !segment == !rule)
		return office_error(c->req, 400, "a campaign needs text_en, at and one of segment or rule");
	if (!campaign_at_ok(at))
		return office_error(c->req, 400, "at: now, YYYY-MM-DD or \"YYYY-MM-DD HH:MM\" (local time)");
	if (offer && strlen(offer) > CAMPAIGN_OFFER_MAX)
		return office_error(c->req, 400, "offer: at most 60 characters");
	if (keyword && !campaign_keyword_ok(keyword))
		return office_error(c->req, 400, "keyword: 2 to 16 capital letters or digits, and no SMS command's keyword");
	if (code && !campaign_code_ok(code))
		return office_error(c->req, 400, "code: *120*777*N# with N up to 6 digits");
	if (segment && segment_named_index(segment) < 0 && !crm_name_ok(segment))
		return office_error(c->req, 400, "segment: a segment's name");
	/* a language without its own text gets the English one, as spazactl gives it */
	for (int l = 1; l < _CAMPAIGN_LANG_COUNT; l++)
		if (!text[l])
			text[l] = text[CAMPAIGN_EN];
	struct crm_create *k = talloc_zero(c->req, struct crm_create);
	k->c = c;
	if (rule) {
		struct segment_rule r;
		if (strlen(rule) > SEGMENT_RULE_MAX || segment_rule_parse(rule, &r, why, sizeof(why)) < 0) {
			snprintf(msg, sizeof(msg), "bad rule: %s", strlen(rule) > SEGMENT_RULE_MAX ? "too long" : why);
			return office_error(c->req, 400, msg);
		}
		segment_rule_format(&r, k->canon, sizeof(k->canon));
	}
	for (int l = 0; l < _CAMPAIGN_LANG_COUNT; l++) {
		struct campaign_lint li;
		if (!campaign_lint_lang(text[l], offer ? offer : "", l, &li)) {
			snprintf(msg, sizeof(msg), "text_%s does not fit one SMS: %s", campaign_lang_code(l), li.why);
			return office_error(c->req, 400, msg);
		}
	}
	snprintf(k->name, sizeof(k->name), "%s", name);
	snprintf(k->at, sizeof(k->at), "%s", at);
	for (int l = 0; l < _CAMPAIGN_LANG_COUNT; l++)
		k->text[l] = talloc_strdup(k, text[l]);
	k->offer = talloc_strdup(k, offer ? offer : "");
	k->segment = segment ? talloc_strdup(k, segment) : NULL;
	k->keyword = keyword ? talloc_strdup(k, keyword) : NULL;
	k->code = code ? talloc_strdup(k, code) : NULL;
	const char *params[] = { k->name };
	db_read(DB_CAMPAIGN_GET, 1, params, crm_create_exists, k);
}

/* start, pause, resume: as `campaign start|pause|resume` */
static void crm_state_done(void *priv, const PGresult *res, int err)
{
	struct crm_campaign *k = priv;
	char subject[64], action[32], msg[120];
	bool start = !strcmp(k->action, "start");
	if (err)
		return office_error(k->c->req, 503, "the database is not answering: nothing was changed");
	if (!start && !PQntuples(res)) {
		snprintf(msg, sizeof(msg), "campaign %s is not running or paused (it is %s)", k->name, k->state);
		return office_error(k->c->req, 409, msg);
	}
	snprintf(subject, sizeof(subject), "campaign %s", k->name);
	snprintf(action, sizeof(action), "campaign %s", k->action);
	json_t *after = start ? json_pack("{ss sI}", "state", "running", "recipients", crm_int(res, 0, 0))
			      : json_pack("{ss}", "state", PQgetvalue(res, 0, 0));
	office_crm_audit(&k->c->who, action, subject, json_deep_copy(after));
	json_object_set_new(after, "name", json_string(k->name));
	office_json(k->c->req, 200, after);
}

static void crm_state_got(struct crm_campaign *k)
{
	char msg[200];
	if (!strcmp(k->action, "start")) {
		bool ok;
		if (strcmp(k->state, "draft")) {
			snprintf(msg, sizeof(msg), "campaign %s is %s already (pause or resume it)", k->name, k->state);
			return office_error(k->c->req, 409, msg);
		}
		json_decref(crm_lint((const char *const *)k->text, k->offer, &ok));
		if (!ok)
			return office_error(k->c->req, 400, "the text does not fit one SMS in every language: see the preview");
		struct segment_rule_params p;
		const char *params[1 + SEGMENT_RULE_NPARAMS] = { k->id };
		segment_rule_params(&k->r, &p);
		memcpy(params + 1, p.v, sizeof(p.v));
		db_write(DB_CAMPAIGN_START, 1 + SEGMENT_RULE_NPARAMS, params, crm_state_done, k);
		return;
	}
	const char *params[] = { k->id, !strcmp(k->action, "pause") ? "paused" : "running" };
	db_write(DB_CAMPAIGN_SET_STATE, 2, params, crm_state_done, k);
}

void office_campaign_state(struct office_call *c)
{
	const char *name = NULL, *action = NULL;
	if (!office_crm_may_change(&c->who))
		return office_error(c->req, 403, "the owner runs campaigns; your role reads them");
	if (json_unpack(c->body, "{s:s s:s}", "name", &name, "action", &action) < 0)
		return office_error(c->req, 400, "give {\"name\": ..., \"action\": \"start\"|\"pause\"|\"resume\"}");
	if (strcmp(action, "start") && strcmp(action, "pause") && strcmp(action, "resume"))
		return office_error(c->req, 400, "action: start, pause or resume");
	/* the action as a literal of ours, not a pointer into the request's JSON */
	action = !strcmp(action, "start") ? "start" : !strcmp(action, "pause") ? "pause" : "resume";
	crm_campaign_get(c, name, action, crm_state_got);
}

/* ---- Funnel ---- */

static void crm_funnel_done(void *priv, const PGresult *res, int err)
{
	struct office_call *c = priv;
	if (err)
		return office_error(c->req, 503, OFFICE_CRM_DOWN);
	const char *csv = http_req_arg(c->req, "csv");
	if (csv && !strcmp(csv, "1")) {
		/* `spazactl funnel --csv`'s bytes: its header, then each row's columns as the statement gives them */
		char *out = talloc_strdup(c, "");
		for (unsigned k = 0; k < CRM_FUNNEL_NCOLS; k++)
			out = talloc_asprintf_append(out, "%s%s", k ? "," : "", crm_funnel_cols[k]);
		out = talloc_strdup_append(out, "\n");
		for (int i = 0; i < PQntuples(res); i++)
			for (unsigned k = 0; k < CRM_FUNNEL_NCOLS; k++)
				out = talloc_asprintf_append(out, "%s%s", PQgetvalue(res, i, (int)k),
							     k == CRM_FUNNEL_NCOLS - 1 ? "\n" : ",");
		http_reply_header(c->req, "Content-Disposition", "attachment; filename=\"funnel.csv\"");
		http_reply_header(c->req, "Cache-Control", "no-store");
		http_reply(c->req, 200, "text/csv; charset=utf-8", out, strlen(out));
		return;
	}
	json_t *a = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		json_t *row = json_object();
		for (unsigned k = 0; k < CRM_FUNNEL_NCOLS; k++) {
			const char *v = PQgetvalue(res, i, (int)k);
			/* the screen and its dimensions are words, the rest figures (s_per_hop a decimal) */
			json_object_set_new(row, crm_funnel_cols[k], k < CRM_FUNNEL_NDIMS ? json_string(v) : k == CRM_FUNNEL_NCOLS - 1
										? json_real(strtod(v, NULL))
										: json_integer(strtoll(v, NULL, 10)));
		}
		json_array_append_new(a, row);
	}
	office_json(c->req, 200, json_pack("{so}", "rows", a));
}

void office_funnel(struct office_call *c)
{
	const char *since_arg = http_req_arg(c->req, "since");
	char since[40], by[CRM_FUNNEL_BY_LEN];
	if (!since_arg || crm_since_parse(since_arg, since, sizeof(since)) < 0)
		return office_error(c->req, 400, "since: " CRM_SINCE_RULE);
	if (crm_funnel_by(http_req_arg(c->req, "by"), by, sizeof(by)) < 0)
		return office_error(c->req, 400, "by: " CRM_FUNNEL_BY_RULE);
	const char *params[] = { since, by, "false" };
	db_read(DB_FUNNEL, 3, params, crm_funnel_done, c);
}
