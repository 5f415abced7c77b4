#pragma once
/* What spazactl's commands share (admin/ctl_*.c, one file per noun; spazactl.c has main()
 * and the dispatch table). Every command checks its arguments before it touches the database,
 * so a typo never waits for one; it then runs statements of db_stmts.def by name, and moves
 * money only through the money room (ledger.h), as the daemon does. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <libpq-fe.h>
#include "db_stmts.h"
#include "msisdn.h"

/* Exit codes: scripts tell "you typed it wrong" from "it did not work". */
enum ctl_exit {
	CTL_OK = 0,
	CTL_ERR = 1,	/* bad data, not found, database trouble */
	CTL_USAGE = 2,	/* unknown command or option, wrong or malformed arguments */
};

struct ctl {
	void *ctx;
	PGconn *conn;
	/* What a command that changes something tells the audit log beside its words (JSON for
	 * the record before and after, where there is one); empty: nothing. */
	char audit_subject[64];
	char audit_before[256], audit_after[256];
};

/* A command: its words, its arguments, what it does. */
struct ctl_cmd {
	const char *group;	/* first word */
	const char *verb;	/* second word, NULL for one-word commands */
	const char *args;	/* argument synopsis for --help */
	int min_args, max_args;
	const char *help;
	int (*run)(struct ctl *ctl, int argc, char **argv);
	bool changes;		/* it changes something: the audit log records it (ctl_audit.c) */
};

/* ---- ctl_db.c: the database, statements, arguments every noun takes */

/* Connected and migrated (0), or -EIO after a message. */
int ctl_db(struct ctl *ctl);
/* A statement's rows; NULL after a message when it failed. */
PGresult *ctl_query(struct ctl *ctl, enum db_stmt stmt, const char *const *params);
/* A statement that must return a row: when it returns none, says so ("spazactl: " and
 * none_fmt) and returns NULL, as when it fails. */
PGresult *ctl_query_row(struct ctl *ctl, enum db_stmt stmt, const char *const *params, const char *none_fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A transaction's edge (BEGIN, COMMIT, ROLLBACK): 0 or -EIO after a message. */
int ctl_txn(struct ctl *ctl, const char *sql);
/* Cents as the database writes them, formatted as money. */
const char *ctl_money(char *buf, size_t len, const char *cents);
/* An MSISDN argument in any form msisdn_normalize() takes; -EINVAL after a message. */
int ctl_msisdn(const char *arg, char *out, size_t len);
/* The customer a command's MSISDN argument names (CUSTOMER_BY_MSISDN's row), with msisdn set
 * to its E.164 form and the database connected: CTL_OK, or the exit status after a message. */
int ctl_customer_arg(struct ctl *ctl, const char *arg, char msisdn[MSISDN_BUF_LEN], PGresult **cust);
/* CUSTOMER_BY_MSISDN's row for an E.164 number; NULL after a message. */
PGresult *ctl_customer(struct ctl *ctl, const char *msisdn);
/* An order number argument: its value, or 0 after a message. */
int64_t ctl_order_id(const char *arg);
/* The keys of the secrets file the config names, with `name` among them; -ENOKEY after a message. */
int ctl_secrets(const char *name);
/* Bytes from the kernel's CSPRNG; -EIO after a message. */
int ctl_random(void *buf, size_t len);
void ctl_hex(char *out, const uint8_t *b, size_t n);
/* --name VALUE and --name=VALUE: the value of the option at argv[*i] for name, moving *i past
 * it, or NULL when argv[*i] is not that option (*missing set when it has no value). */
const char *ctl_opt(int argc, char **argv, int *i, const char *name, bool *missing);
int ctl_migrate(struct ctl *ctl, int argc, char **argv);

/* ---- one file per noun */
int ctl_catalog_import(struct ctl *ctl, int argc, char **argv);
int ctl_catalog_show(struct ctl *ctl, int argc, char **argv);
int ctl_customer_show(struct ctl *ctl, int argc, char **argv);
int ctl_order_list(struct ctl *ctl, int argc, char **argv);
int ctl_order_status(struct ctl *ctl, int argc, char **argv);
int ctl_order_cancel(struct ctl *ctl, int argc, char **argv);
int ctl_order_show(struct ctl *ctl, int argc, char **argv);
int ctl_order_expire(struct ctl *ctl, int argc, char **argv);
/* The statuses orders.status allows (sql/001_init.sql), in the order an order moves. */
int ctl_vouchers_issue(struct ctl *ctl, int argc, char **argv);
int ctl_vouchers_show(struct ctl *ctl, int argc, char **argv);
int ctl_credit_set_limit(struct ctl *ctl, int argc, char **argv);
int ctl_credit_show(struct ctl *ctl, int argc, char **argv);
int ctl_retailer_add(struct ctl *ctl, int argc, char **argv);
int ctl_retailer_rotate_key(struct ctl *ctl, int argc, char **argv);
int ctl_ledger_check(struct ctl *ctl, int argc, char **argv);
int ctl_slip_print(struct ctl *ctl, int argc, char **argv);
int ctl_slip_verify(struct ctl *ctl, int argc, char **argv);
int ctl_sms_send(struct ctl *ctl, int argc, char **argv);
int ctl_sms_marketing(struct ctl *ctl, int argc, char **argv);
/* The words of TEXT joined by spaces, checked to be UTF-8 and to fit one SMS; NULL (with a
 * message) when it does not. */
char *ctl_sms_text(struct ctl *ctl, int argc, char **argv);
int ctl_vty(struct ctl *ctl, int argc, char **argv);
int ctl_keys_rotate(struct ctl *ctl, int argc, char **argv);
int ctl_keys_list(struct ctl *ctl, int argc, char **argv);
int ctl_audit_list(struct ctl *ctl, int argc, char **argv);
int ctl_customer_forget(struct ctl *ctl, int argc, char **argv);
/* ctl_refund.c: refunds, cash on delivery confirmed, the double-charge sweep */
int ctl_refund(struct ctl *ctl, int argc, char **argv);
/* the SMS texts a refund is told in, loaded once; a message and -EINVAL when they do not load */
int ctl_refund_texts(struct ctl *ctl);
int ctl_order_cod_paid(struct ctl *ctl, int argc, char **argv);
int ctl_care_double_charges(struct ctl *ctl, int argc, char **argv);

int ctl_staff_add(struct ctl *ctl, int argc, char **argv);
int ctl_staff_role(struct ctl *ctl, int argc, char **argv);
int ctl_staff_disable(struct ctl *ctl, int argc, char **argv);
int ctl_staff_list(struct ctl *ctl, int argc, char **argv);
/* The audit log's row for a command that changes something: argv its words after
 * "spazactl [-c FILE]", rc how it ended. Connects if the command did not; a failure to record
 * is said on stderr and turns success into CTL_ERR. */
int ctl_audit_record(struct ctl *ctl, int argc, char **argv, int rc);
/* Who runs spazactl (the OS user), for the audit log and the care tickets' authors. */
const char *ctl_who(char *buf, size_t len);
/* customer note / unlock (ctl_customer.c); care (ctl_care.c) */
int ctl_customer_note(struct ctl *ctl, int argc, char **argv);
int ctl_customer_unlock(struct ctl *ctl, int argc, char **argv);

/* ---- ctl_profile.c: the customer profile */
int ctl_customer_set(struct ctl *ctl, int argc, char **argv);
int ctl_customer_fields(struct ctl *ctl, int argc, char **argv);

/* ---- ctl_loyalty.c: loyalty points */
/* A command whose only option is NAME VALUE: *val is the value (NULL: not given); CTL_OK, or
 * CTL_USAGE after a message naming usage. */
int ctl_one_opt(int argc, char **argv, const char *name, const char *usage, const char **val);
int ctl_loyalty_show(struct ctl *ctl, int argc, char **argv);
int ctl_loyalty_expire(struct ctl *ctl, int argc, char **argv);

/* ---- ctl_referral.c: referrals */
int ctl_referral_code(struct ctl *ctl, int argc, char **argv);
int ctl_referral_enter(struct ctl *ctl, int argc, char **argv);
int ctl_referral_stats(struct ctl *ctl, int argc, char **argv);
int ctl_care_list(struct ctl *ctl, int argc, char **argv);
int ctl_care_show(struct ctl *ctl, int argc, char **argv);
int ctl_care_reply(struct ctl *ctl, int argc, char **argv);
int ctl_care_resolve(struct ctl *ctl, int argc, char **argv);
int ctl_care_close(struct ctl *ctl, int argc, char **argv);
int ctl_care_open(struct ctl *ctl, int argc, char **argv);

/* ---- CRM (doc/crm.md): ctl_segment.c, ctl_campaign.c, ctl_funnel.c, ctl_report.c */
struct segment_rule;
int ctl_segments_list(struct ctl *ctl, int argc, char **argv);
int ctl_segments_define(struct ctl *ctl, int argc, char **argv);
int ctl_segments_show(struct ctl *ctl, int argc, char **argv);
int ctl_segments_members(struct ctl *ctl, int argc, char **argv);
int ctl_segments_recompute(struct ctl *ctl, int argc, char **argv);
/* A rule's text parsed, or -EINVAL after a message. */
int ctl_segment_rule_parse(const char *text, struct segment_rule *r);
/* A segment's name (named or the shop's) to its rule; -ENOENT or -EIO after a message. */
int ctl_segment_resolve(struct ctl *ctl, const char *name, struct segment_rule *r);
int ctl_campaign_create(struct ctl *ctl, int argc, char **argv);
int ctl_campaign_preview(struct ctl *ctl, int argc, char **argv);
int ctl_campaign_start(struct ctl *ctl, int argc, char **argv);
int ctl_campaign_pause(struct ctl *ctl, int argc, char **argv);
int ctl_campaign_resume(struct ctl *ctl, int argc, char **argv);
int ctl_campaign_report(struct ctl *ctl, int argc, char **argv);
int ctl_funnel(struct ctl *ctl, int argc, char **argv);
int ctl_report(struct ctl *ctl, int argc, char **argv);
/* --since VALUE: YYYY-MM-DD (local midnight) or Nd (N days ago) as a timestamptz text in buf;
 * -EINVAL after a message. */
int ctl_since(const char *v, char *buf, size_t len);
