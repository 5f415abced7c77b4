#pragma once
/* The back office on the admin listener (doc/back-office.md): staff log in (staff.h), get a
 * session cookie, and use the pages of web/ and the JSON under /admin/api/ their role allows.
 * office.c is the door (login, sessions, CSRF, roles, static files); office_api.c the JSON. */
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "http.h"
#include "staff.h"

struct office_staff {
	int id;
	char login[40];
	enum staff_role role;
	int retailer_id;	/* a retailer user's retailer, else 0 */
	char csrf[65];
	char session[STAFF_TOKEN_SHA_BUF];	/* its session's SHA-256, for doors that check it again */
};

/* One request of a logged-in member of staff, while its handler works (a talloc child of req). */
struct office_call {
	struct http_req *req;
	struct office_staff who;
	json_t *body;		/* a POST's JSON object, NULL for GET */
	void *priv;		/* the handler's own */
};

typedef void (*office_handler)(struct office_call *c);

/* An API path under /admin/api/ (exact), the page whose right it needs, its handler. */
struct office_route {
	const char *method;
	const char *path;
	enum staff_page page;
	office_handler h;
};
/* office_api.c's table, ended by a NULL path. */
extern const struct office_route office_routes[];

/* The handlers of the other files: office_till.c, office_customer.c, office_phone.c,
 * office_catalogue.c, office_vouchers.c. */
void office_till_slip(struct office_call *c);
void office_till_pay(struct office_call *c);
void office_till_reverse(struct office_call *c);
void office_till_takings(struct office_call *c);
void office_till_receipt(struct office_call *c);
void office_customer(struct office_call *c);
void office_customer_find(struct office_call *c);
void office_customer_sms(struct office_call *c);
void office_customer_credit(struct office_call *c);
void office_phone_hop(struct office_call *c);
void office_phone_inbox(struct office_call *c);
void office_catalogue_check(struct office_call *c);
void office_catalogue_products(struct office_call *c);
void office_catalogue_import(struct office_call *c);
void office_catalogue_product(struct office_call *c);
void office_vouchers_issue(struct office_call *c);
/* office_retailers.c: the Money page's retailers and till keys. */
void office_retailer_add(struct office_call *c);
void office_retailer_key(struct office_call *c);
void office_customer_refund(struct office_call *c);
void office_customer_unlock(struct office_call *c);
void office_customer_note(struct office_call *c);
/* office_care.c: the Care page. */
void office_care_tickets(struct office_call *c);
void office_care_ticket(struct office_call *c);
void office_care_reply(struct office_call *c);
void office_care_state(struct office_call *c);
void office_care_dc_refund(struct office_call *c);
/* office_cod.c: cash on delivery from the till page (a retailer user) and the orders board. */
void office_till_cod(struct office_call *c);
void office_till_cod_pay(struct office_call *c);
void office_orders_cod_paid(struct office_call *c);
/* Whether who may confirm a courier's cash on the orders board (fulfilment, finance, owner): the
 * button shows and the request is taken; the database checks the session's role again. */
bool office_may_cod(const struct office_staff *who);
/* Whether who may refund (finance, owner): the button shows and the request is taken; the
 * database checks the session's role again (sql/017). */
bool office_may_refund(const struct office_staff *who);
struct ledger_result;
/* Tells the customer of a refund by SMS, once per key, as spazactl's refund does (refund.c). */
void office_refund_tell(int64_t customer, const char *key, int64_t order, const struct ledger_result *r,
			bool duplicate);

/* office_crm.c: the Segments, Campaigns and Funnel pages (the owner changes, care reads). */
void office_segments(struct office_call *c);
void office_segment_members(struct office_call *c);
void office_segment_define(struct office_call *c);
void office_campaigns(struct office_call *c);
void office_campaign_preview(struct office_call *c);
void office_campaign_create(struct office_call *c);
void office_campaign_state(struct office_call *c);
void office_funnel(struct office_call *c);

void office_init(void);
/* Reply with j (its reference is taken) or with {"error": msg}. */
void office_json(struct http_req *req, unsigned status, json_t *j);
void office_error(struct http_req *req, unsigned status, const char *msg);
/* The audit log's row for a change a member of staff made (source api, who: the login). */
void office_audit(const struct office_staff *who, const char *action, const char *subject, bool ok,
		  const char *before, const char *after);
