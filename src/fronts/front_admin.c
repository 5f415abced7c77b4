/* GET /health on every listener, and the back office's routes (office.c) on the admin one. The front's and the till's answer a load balancer in two
 * words, and show nobody on the network more than that; the admin listener's says in JSON
 * what is up and what is not, for the back office and monitoring. */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "catalog_load.h"
#include "db.h"
#include "front_admin.h"
#include "front_box.h"
#include "http.h"
#include "kannel_send.h"
#include "office.h"
#include "outbox.h"

static bool admin_ready(void)
{
	return db_is_up() && catalog_loaded();
}

static void admin_alive(struct http_req *req)
{
	const char *body = admin_ready() ? "ok\n" : "starting\n";
	http_reply(req, admin_ready() ? 200 : 503, "text/plain", body, strlen(body));
}

static void admin_health(struct http_req *req)
{
	const char *box = front_box_state();
	json_t *j = json_pack("{ss ss ss s{ss sI ss}}", "status", admin_ready() ? "ok" : "starting",
			      "database", db_is_up() ? "up" : "down", "catalog", catalog_loaded() ? "loaded" : "loading",
			      "kannel", "sendsms", kannel_send_enabled() ? "configured" : "off",
			      "sms_in_flight", (json_int_t)outbox_in_flight(), "box", box ? box : "off");
	char *body = json_dumps(j, JSON_COMPACT);
	http_reply(req, admin_ready() ? 200 : 503, "application/json", body, strlen(body));
	free(body);
	json_decref(j);
}

void front_admin_init(void)
{
	http_route(LISTEN_FRONT, "GET", "/health", admin_alive);
	http_route(LISTEN_TILL, "GET", "/health", admin_alive);
	http_route(LISTEN_ADMIN, "GET", "/health", admin_health);
	office_init();
}
