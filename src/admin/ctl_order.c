/* spazactl order: list orders, move one through fulfilment, cancel one (through the money room,
 * so that holds, slips and refunds follow). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "cfg.h"
#include "ctl.h"
#include "ledger.h"
#include "orders.h"
#include "money.h"

#define CTL_ORDER_LIST_MAX 50


int ctl_order_list(struct ctl *ctl, int argc, char **argv)
{
	char msisdn[MSISDN_BUF_LEN], limit[16], total[MONEY_BUF_LEN];
	/* No MSISDN is an SQL NULL: every customer's orders. */
	const char *params[] = { argc ? msisdn : NULL, limit };
	PGresult *res;

	if (argc && ctl_msisdn(argv[0], msisdn, sizeof(msisdn)) < 0)
		return CTL_USAGE;
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	if (argc) {
		PGresult *cust = ctl_customer(ctl, msisdn);
		if (!cust)
			return CTL_ERR;
		PQclear(cust);
	}
	snprintf(limit, sizeof(limit), "%d", CTL_ORDER_LIST_MAX);
	res = ctl_query(ctl, DB_ORDER_LIST, params);
	if (!res)
		return CTL_ERR;
	if (PQntuples(res) == 0)
		printf("no orders\n");
	for (int i = 0; i < PQntuples(res); i++)
		printf("#%-8s %s  %-16s %-16s %10s  %s x %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
		       ctl_money(total, sizeof(total), PQgetvalue(res, i, 4)), PQgetvalue(res, i, 5),
		       PQgetvalue(res, i, 6));
	PQclear(res);
	return CTL_OK;
}

/* order ORDER cancelled, through the ledger under this command's own key: the status it had
 * before (ORDER_STATUS's row), or NULL after a message when it could not be cancelled. */
static PGresult *ctl_order_cancel_status(struct ctl *ctl, const char *id, int64_t n, const char *status)
{
	const char *params[] = { id };
	PGresult *before = ctl_query_row(ctl, DB_ORDER_STATUS, params, "no order #%s that can become %s", id, status);
	if (!before)
		return NULL;
	char key[64];
	struct ledger_stmt st;
	struct ledger_result r;
	snprintf(key, sizeof(key), "spazactl:cancel:%s", id);
	ledger_order_cancel(&st, n, key);
	PGresult *res = ctl_query(ctl, st.stmt, st.params);
	if (!res) {
		PQclear(before);
		return NULL;
	}
	bool done = ledger_result(res, &r) == 0 && (r.outcome == LEDGER_CANCELLED || r.outcome == LEDGER_REFUNDED);
	PQclear(res);
	if (!done) {
		fprintf(stderr, "spazactl: no order #%s that can become %s\n", id, status);
		PQclear(before);
		return NULL;
	}
	return before;
}

int ctl_order_status(struct ctl *ctl, int argc, char **argv)
{
	const char *id = argv[0], *status;
	PGresult *res;

	int64_t n = ctl_order_id(id);
	if (!n)
		return CTL_USAGE;
	int st = order_status_index(argv[1]);
	if (st < 0) {
		fprintf(stderr, "spazactl: unknown status \"%s\" (see spazactl --help)\n", argv[1]);
		return CTL_USAGE;
	}
	status = order_status_names[st];
	/* Money decides paid and awaiting payment: a status set by hand would be a paid order
	 * without its payment. Cancelling goes through the ledger so that holds, slips and
	 * refunds follow. */
	if (st == ORDER_STATUS_PAID || st == ORDER_STATUS_AWAITING_PAYMENT) {
		fprintf(stderr, "spazactl: an order becomes %s through a payment or its reversal, not by hand\n", status);
		return CTL_USAGE;
	}
	if (ctl_db(ctl) < 0)
		return CTL_ERR;

	const char *params[] = { id, status };
	if (st == ORDER_STATUS_CANCELLED)
		res = ctl_order_cancel_status(ctl, id, n, status);
	else
		res = ctl_query_row(ctl, DB_ORDER_FULFIL, params, "no order #%s that can become %s", id, status);
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "order %" PRId64, n);
	if (!res)
		return CTL_ERR;
	snprintf(ctl->audit_before, sizeof(ctl->audit_before), "{\"status\": \"%s\"}", PQgetvalue(res, 0, 1));
	snprintf(ctl->audit_after, sizeof(ctl->audit_after), "{\"status\": \"%s\"}", status);
	printf("order #%s: %s -> %s\n", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), status);
	PQclear(res);
	return CTL_OK;
}

int ctl_order_cancel(struct ctl *ctl, int argc, char **argv)
{
	const char *id = argv[0];
	char key[64], amount[MONEY_BUF_LEN];
	struct ledger_stmt st;
	struct ledger_result r;
	PGresult *res;
	int rc = CTL_OK;

	int64_t n = ctl_order_id(id);
	if (!n)
		return CTL_USAGE;
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "order %" PRId64, n);
	/* The same key every time: cancelling twice is asking once. */
	snprintf(key, sizeof(key), "spazactl:order-cancel:%" PRId64, n);
	ledger_order_cancel(&st, n, key);
	res = ctl_query(ctl, st.stmt, st.params);
	if (!res)
		return CTL_ERR;
	if (ledger_result(res, &r) < 0) {
		fprintf(stderr, "spazactl: order #%s: no answer from the ledger\n", id);
		PQclear(res);
		return CTL_ERR;
	}
	money_format(amount, sizeof(amount), r.amount_cents);
	const char *to = r.text ? r.text : "";
	snprintf(ctl->audit_after, sizeof(ctl->audit_after), "{\"outcome\": \"%s\", \"refund_cents\": %" PRId64 "}",
		 ledger_outcome_word(r.outcome), r.amount_cents);
	switch (r.outcome) {
	case LEDGER_CANCELLED:
		printf("order #%s cancelled (it was not paid: nothing to refund)\n", id);
		break;
	case LEDGER_REFUNDED:
		printf("order #%s cancelled, %s refunded to ", id, amount);
		if (!strcmp(to, "voucher"))
			printf("voucher ...%s\n", r.detail ? r.detail : "");
		else if (!strcmp(to, "credit"))
			printf("the credit line\n");
		else if (!strcmp(to, "credit_and_store_credit"))
			printf("the credit line, what was already repaid to store credit\n");
		else
			printf("store credit\n");
		break;
	case LEDGER_NOT_FOUND:
		fprintf(stderr, "spazactl: no order #%s\n", id);
		rc = CTL_ERR;
		break;
	case LEDGER_NOT_CANCELLABLE:
		fprintf(stderr, "spazactl: order #%s has shipped: it cannot be cancelled\n", id);
		rc = CTL_ERR;
		break;
	default:
		fprintf(stderr, "spazactl: order #%s: %s\n", id, ledger_outcome_word(r.outcome));
		rc = CTL_ERR;
	}
	PQclear(res);
	return rc;
}

/* order show ORDER: what fulfilment needs: status, the lines, the delivery address and instructions */
int ctl_order_show(struct ctl *ctl, int argc, char **argv)
{
	(void)argc;
	const char *id = argv[0];
	char unit[MONEY_BUF_LEN];
	if (!ctl_order_id(id))
		return CTL_USAGE;
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	const char *params[] = { id };
	PGresult *o = ctl_query_row(ctl, DB_ORDER_DELIVERY_SHOW, params, "no order #%s", id);
	if (!o)
		return CTL_ERR;
	PGresult *items = ctl_query(ctl, DB_ORDER_ITEMS_SHOW, params);
	if (!items) {
		PQclear(o);
		return CTL_ERR;
	}
	printf("order #%s: %s\n", id, PQgetvalue(o, 0, 2));
	for (int i = 0; i < PQntuples(items); i++)
		printf("  %s x %s (sku %s) at %s\n", PQgetvalue(items, i, 2), PQgetvalue(items, i, 1),
		       PQgetvalue(items, i, 0), ctl_money(unit, sizeof(unit), PQgetvalue(items, i, 3)));
	printf("deliver to: %s\n", *PQgetvalue(o, 0, 0) ? PQgetvalue(o, 0, 0) : "-");
	printf("instructions: %s\n", *PQgetvalue(o, 0, 1) ? PQgetvalue(o, 0, 1) : "-");
	PQclear(items);
	PQclear(o);
	return CTL_OK;
}

/* order expire [HOURS]: what spazad's sweep does, now, in batches until none is left. */
int ctl_order_expire(struct ctl *ctl, int argc, char **argv)
{
	char age[16], batch[] = "1000";
	unsigned hours = g_cfg->order_expiry_h, total = 0, n;
	if (argc) {
		char *end;
		unsigned long h = strtoul(argv[0], &end, 10);
		if (!*argv[0] || *end || h < 1 || h > 8760) {
			fprintf(stderr, "spazactl: HOURS must be a number from 1 to 8760\n");
			return CTL_USAGE;
		}
		hours = h;
	}
	if (!hours) {
		fprintf(stderr, "spazactl: order unpaid-expiry is 0 (never): give HOURS\n");
		return CTL_USAGE;
	}
	if (ctl_db(ctl) < 0)
		return CTL_ERR;
	snprintf(age, sizeof(age), "%u", hours * 3600);
	const char *params[] = { age, batch };
	do {
		PGresult *res = ctl_query(ctl, DB_ORDERS_EXPIRE, params);
		if (!res)
			return CTL_ERR;
		n = strtoul(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
		total += n;
	} while (n == 1000);
	snprintf(ctl->audit_subject, sizeof(ctl->audit_subject), "unpaid orders older than %u h", hours);
	snprintf(ctl->audit_after, sizeof(ctl->audit_after), "{\"expired\": %u}", total);
	printf("%u unpaid order(s) older than %u hours expired\n", total, hours);
	return CTL_OK;
}
