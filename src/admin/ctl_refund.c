/* spazactl refund, order cod-paid, care double-charges: the money care staff do, through the
 * money room (ledger.h, sql/012_money_care.sql), each idempotent by a key, each customer told
 * by SMS once (refund.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include "ctl.h"
#include "voucher_pins.h"
#include "double_charge.h"
#include "ledger.h"
#include "money.h"
#include "refund.h"
#include "secrets.h"
#include "sms_texts.h"

#define CTL_REFUND_REASON_MAX 200

/* The texts the customer is told in (ctl.h). */
int ctl_refund_texts(struct ctl *ctl)
{
	if (g_sms_texts)
		return 0;
	if (sms_texts_init(ctl->ctx) < 0) {
		fprintf(stderr, "spazactl: the SMS texts do not load (see above): nothing was refunded\n");
		return -EINVAL;
	}
	return 0;
}

/* The customer's SMS, once per key (a repeated command finds it queued). */
static int ctl_refund_tell(struct ctl *ctl, const char *customer, const char *key, int64_t order_id,
			   const struct ledger_result *r, const char *pin)
{
	char text[SMS_TEXT_BYTES];
	const char *lp[] = { customer };
	PGresult *res = ctl_query(ctl, DB_CUSTOMER_LANG, lp);
	if (!res)
		return -EIO;
	int rc = refund_sms_render(g_sms_texts, PQntuples(res) ? PQgetvalue(res, 0, 0) : "en", r->text, false, order_id,
				   r->amount_cents, pin, text, sizeof(text));
	PQclear(res);
	if (rc < 0) {
		fprintf(stderr, "spazactl: the refund SMS does not fit one message\n");
		return -EIO;
	}
	const char *qp[] = { customer, text, key };
	res = ctl_query(ctl, DB_SMS_NOTICE_QUEUE, qp);
	OPENSSL_cleanse(text, sizeof(text));
	if (!res)
		return -EIO;
	if (PQntuples(res))
		printf("the customer is told by SMS #%s\n", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/* The same command is the same refund: the key is the order, amount, destination and reason. */
static void ctl_refund_key(char *key, size_t len, int64_t order, int64_t cents, const char *to, const char *reason)
{
	uint8_t h[SHA256_DIGEST_LENGTH];
	char hex[17];
	SHA256((const uint8_t *)reason, strlen(reason), h);
	ctl_hex(hex, h, 8);
	snprintf(key, len, "spazactl:refund:%" PRId64 ":%" PRId64 ":%s:%s", order, cents, to ? to : "-", hex);
}

/* refund ORDER [--amount R] [--to voucher|store-credit] --reason TEXT [--key KEY] */
int ctl_refund(struct ctl *ctl, int argc, char **argv)
{
	const char *amount_txt = NULL, *to_txt = NULL, *reason = NULL, *key_arg = NULL, *to = NULL;
	char key[200], money[MONEY_BUF_LEN], pin[VOUCHER_PIN_LEN + 1] = "";
	uint8_t mac[SECRETS_HMAC_LEN];
	int64_t cents = 0;
	int64_t order = ctl_order_id(argv[0]);
	if (!order)
		return CTL_USAGE;
	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v;
		if ((v = ctl_opt(argc, argv, &i, "--amount", &missing)))
			amount_txt = v;
		else if ((v = ctl_opt(argc, argv, &i, "--to", &missing)))
			to_txt = v;
		else if ((v = ctl_opt(argc, argv, &i, "--reason", &missing)))
			reason = v;
		else if ((v = ctl_opt(argc, argv, &i, "--key", &missing)))
			key_arg = v;
		else {
			fprintf(stderr, "spazactl: refund: %s \"%s\"\n", missing ? "no value after" : "unknown option", argv[i]);
			return CTL_USAGE;
		}
	}
	if (!reason || !*reason || strlen(reason) > CTL_REFUND_REASON_MAX || strpbrk(reason, "\n\r\t")) {
		fprintf(stderr, "spazactl: refund: --reason TEXT is required (one line, at most %d characters)\n",
			CTL_REFUND_REASON_MAX);
		return CTL_USAGE;
	}
	if (amount_txt && (money_parse(amount_txt, &cents) < 0 || cents <= 0)) {
		fprintf(stderr, "spazactl: refund: \"%s\" is not an amount in rand like 20 or 19.99\n", amount_txt);
		return CTL_USAGE;
	}
	if (to_txt && !strcmp(to_txt, "store-credit"))
		to = "store_credit";
	else if (to_txt && !strcmp(to_txt, "voucher"))
		to = "voucher";
	else if (to_txt) {
		fprintf(stderr, "spazactl: refund: --to is voucher or store-credit, not \"%s\"\n", to_txt);
		return CTL_USAGE;
	}
	if (key_arg && (strlen(key_arg) > 120 || !*key_arg)) {
		fprintf(stderr, "spazactl: refund: --key is 1 to 120 characters\n");
		return CTL_USAGE;
	}
	if (key_arg)
		snprintf(key, sizeof(key), "spazactl:refund:%s", key_arg);
	else
		ctl_refund_key(key, sizeof(key), order, cents, to, reason);
	if (ctl_refund_texts(ctl) < 0)
		return CTL_ERR;
	struct ledger_refund rf = { .idem_key = key, .order_id = order, .amount_cents = cents, .to = to, .reason = reason };
	char last4[5];
	if (to && !strcmp(to, "voucher")) {
		/* cash back as a new voucher: its PIN goes to the customer only, by SMS */
		unsigned v;
		if (ctl_secrets("voucher-pin") < 0)
			return CTL_ERR;
		v = secrets_newest("voucher-pin");
		if (voucher_pin(pin) < 0 || secrets_hmac_v("voucher-pin", v, pin, VOUCHER_PIN_LEN, mac) < 0)
			return CTL_ERR;
		memcpy(last4, pin + VOUCHER_PIN_LEN - 4, 5);
		rf.pin_hmac = mac;
		rf.last4 = last4;
		rf.key_version = v;
	}
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "order %" PRId64, order);

	struct ledger_stmt st;
	struct ledger_result r;
	ledger_refund(&st, &rf);
	PGresult *res = ctl_query(ctl, st.stmt, st.params);
	int rc = CTL_ERR;
	if (!res || ledger_result(res, &r) < 0) {
		fprintf(stderr, "spazactl: order #%" PRId64 ": no answer from the ledger\n", order);
		goto out;
	}
	money_format(money, sizeof(money), r.amount_cents);
	switch (r.outcome) {
	case LEDGER_REFUNDED: {
		char customer[24];
		snprintf(customer, sizeof(customer), "%" PRId64, r.id);
		/* a repeat answers with the first refund: its voucher's PIN went out then, not this one */
		bool fresh_pin = *pin && r.detail && !strcmp(r.detail, last4) && r.text && !strcmp(r.text, "new_voucher");
		printf("order #%" PRId64 ": refunded %s to %s", order, money, r.text ? r.text : "-");
		if (r.detail)
			printf(" (voucher ...%s)", r.detail);
		printf("\n");
		snprintf(ctl->audit_after, sizeof(ctl->audit_after),
			 "{\"refund_cents\": %" PRId64 ", \"refund_to\": \"%s\", \"key\": \"%.100s\"}", r.amount_cents,
			 r.text ? r.text : "", key);
		rc = ctl_refund_tell(ctl, customer, key, order, &r, fresh_pin ? pin : NULL) < 0 ? CTL_ERR : CTL_OK;
		break;
	}
	case LEDGER_TOO_MUCH:
		fprintf(stderr, "spazactl: order #%" PRId64 ": only %s is refundable\n", order, money);
		break;
	case LEDGER_NOTHING:
		fprintf(stderr, "spazactl: order #%" PRId64 ": nothing left to refund\n", order);
		break;
	case LEDGER_NOT_FOUND:
		fprintf(stderr, "spazactl: no order #%" PRId64 "\n", order);
		break;
	case LEDGER_CONFLICT:
		fprintf(stderr, "spazactl: the key %s was used for another refund\n", key);
		break;
	default:
		fprintf(stderr, "spazactl: order #%" PRId64 ": %s\n", order, ledger_outcome_word(r.outcome));
		break;
	}
out:
	PQclear(res);
	OPENSSL_cleanse(pin, sizeof(pin));
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

/* order cod-paid ORDER --by NAME: a courier or retailer has the cash of a cash-on-delivery order. */
int ctl_order_cod_paid(struct ctl *ctl, int argc, char **argv)
{
	const char *by = NULL;
	char money[MONEY_BUF_LEN];
	int64_t order = ctl_order_id(argv[0]);
	if (!order)
		return CTL_USAGE;
	for (int i = 1; i < argc; i++) {
		bool missing = false;
		const char *v;
		if ((v = ctl_opt(argc, argv, &i, "--by", &missing)))
			by = v;
		else {
			fprintf(stderr, "spazactl: order cod-paid: %s \"%s\"\n", missing ? "no value after" : "unknown option",
				argv[i]);
			return CTL_USAGE;
		}
	}
	if (!by || !*by || strlen(by) > 64 || strpbrk(by, "\n\r\t")) {
		fprintf(stderr, "spazactl: order cod-paid: --by NAME (who has the cash, one line, at most 64 characters)\n");
		return CTL_USAGE;
	}
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "order %" PRId64, order);
	struct ledger_stmt st;
	struct ledger_result r;
	ledger_cod_settle(&st, order, by);
	PGresult *res = ctl_query(ctl, st.stmt, st.params);
	if (!res || ledger_result(res, &r) < 0) {
		PQclear(res);
		fprintf(stderr, "spazactl: order #%" PRId64 ": no answer from the ledger\n", order);
		return CTL_ERR;
	}
	money_format(money, sizeof(money), r.amount_cents);
	int rc = CTL_ERR;
	if (r.outcome == LEDGER_PAID) {
		printf("order #%" PRId64 ": %s cash on delivery received by %s\n", order, money, r.text ? r.text : by);
		snprintf(ctl->audit_after, sizeof(ctl->audit_after), "{\"status\": \"paid\", \"cod_cents\": %" PRId64 "}",
			 r.amount_cents);
		rc = CTL_OK;
	} else if (r.outcome == LEDGER_NOT_COD)
		fprintf(stderr, "spazactl: order #%" PRId64 " is not to be paid cash on delivery\n", order);
	else if (r.outcome == LEDGER_NOT_FOUND)
		fprintf(stderr, "spazactl: no order #%" PRId64 "\n", order);
	else
		fprintf(stderr, "spazactl: order #%" PRId64 " is not awaiting payment\n", order);
	PQclear(res);
	return rc;
}

/* care double-charges [--since TIME] [--customer MSISDN] [--refund] */
int ctl_care_double_charges(struct ctl *ctl, int argc, char **argv)
{
	const char *since = NULL, *who = NULL;
	int64_t customer_id = 0;
	bool refund = false;
	char err[512], money[MONEY_BUF_LEN];
	for (int i = 0; i < argc; i++) {
		bool missing = false;
		const char *v;
		if ((v = ctl_opt(argc, argv, &i, "--since", &missing)))
			since = v;
		else if ((v = ctl_opt(argc, argv, &i, "--customer", &missing)))
			who = v;
		else if (!strcmp(argv[i], "--refund"))
			refund = true;
		else {
			fprintf(stderr, "spazactl: care double-charges: %s \"%s\"\n",
				missing ? "no value after" : "unknown option", argv[i]);
			return CTL_USAGE;
		}
	}
	if (refund && ctl_refund_texts(ctl) < 0)
		return CTL_ERR;
	if (who) {	/* what care's "charged twice" ticket runs (dc_check_customer) */
		char msisdn[MSISDN_BUF_LEN];
		PGresult *cust;
		int rc = ctl_customer_arg(ctl, who, msisdn, &cust);
		if (rc != CTL_OK)
			return rc;
		customer_id = strtoll(PQgetvalue(cust, 0, 0), NULL, 10);
		PQclear(cust);
	} else if (ctl_db(ctl) < 0)
		return CTL_ERR;
	struct dc_result dc;
	int rc = customer_id && refund ? dc_check_customer(ctl->ctx, ctl->conn, customer_id, &dc, err, sizeof(err))
				       : dc_sweep(ctl->ctx, ctl->conn, customer_id, since, refund, &dc, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "spazactl: %s\n", err);
		return CTL_ERR;
	}
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "double charges");
	snprintf(ctl->audit_after, sizeof(ctl->audit_after), "{\"confirmed\": %u, \"refunded_now\": %u, \"for_a_person\": %u}",
		 dc.confirmed, dc.refunded_now, dc.for_a_person);
	printf("%-6s %-24s %-13s %-16s %-8s %-10s %s\n", "ID", "KIND", "STATUS", "CUSTOMER", "ORDER", "AMOUNT", "FOUND");
	for (unsigned i = 0; i < dc.n; i++) {
		const struct dc_found *f = &dc.found[i];
		money_format(money, sizeof(money), f->amount_cents);
		printf("%-6" PRId64 " %-24s %-13s %-16s %-8" PRId64 " %-10s %s%s\n", f->id, f->kind, f->status, f->msisdn,
		       f->order_id, money, f->found_at, f->refunded_now ? "  (refunded now)" : "");
	}
	printf("%u confirmed, %u refunded now, %u for a person\n", dc.confirmed, dc.refunded_now, dc.for_a_person);
	return CTL_OK;
}
