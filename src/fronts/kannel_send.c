/* Kannel's sendsms, the outbox's way out through smsbox, asynchronously: libcurl's multi interface with its sockets as osmo_fds and
 * its timeout as an osmo_timer (curl_multi_socket_action), so the loop never waits on smsbox.
 *
 * Each SMS is one GET to sendsms with the text, the coding Kannel needs (GSM-7 text as UTF-8 with
 * coding 0; anything else pre-encoded as UTF-16BE with coding 2 and no charset, KANNEL.md), and a
 * delivery report request: dlr-mask 31 (every report type) to spazad's /kannel/dlr with the row's
 * id, the report type (%d) and the SMSC's words (%A).
 *
 * The URL carries the sendsms password, so it is never logged; failures are logged with curl's
 * error or Kannel's answer only. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include <curl/curl.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>
#include "cfg.h"
#include "gsm7.h"
#include "kannel_send.h"
#include "logging.h"
#include "secrets.h"

#define KS_BODY_MAX 256		/* Kannel answers "0: Accepted for delivery" */
#define KS_SECRET_NAME "kannel-sendsms-password"

struct ks_req {
	CURL *easy;
	outbox_done_cb cb;
	void *priv;
	int64_t id;
	char *url;
	char body[KS_BODY_MAX];
	size_t body_len;
	char err[CURL_ERROR_SIZE];
};

/* One per socket curl wants watched, attached to it with curl_multi_assign(). */
struct ks_sock {
	struct osmo_fd ofd;
};

static struct {
	void *ctx;
	void *reqs, *socks;	/* apart, so shutdown can end the requests before the sockets */
	CURLM *multi;
	struct osmo_timer_list timer;
	bool enabled;
	char *password;		/* from the secrets file or the config */
	char *dlr_base;
} g;

/* ---- the loop glue ---- */

static void ks_check_done(void);

static int ks_fd_cb(struct osmo_fd *ofd, unsigned int what)
{
	int ev = (what & OSMO_FD_READ ? CURL_CSELECT_IN : 0) | (what & OSMO_FD_WRITE ? CURL_CSELECT_OUT : 0) |
		 (what & OSMO_FD_EXCEPT ? CURL_CSELECT_ERR : 0);
	int running;
	/* curl may close this socket inside the call (CURL_POLL_REMOVE frees ofd): read fd first */
	curl_multi_socket_action(g.multi, ofd->fd, ev, &running);
	ks_check_done();
	return 0;
}

static void ks_timer_cb(void *data)
{
	int running;
	curl_multi_socket_action(g.multi, CURL_SOCKET_TIMEOUT, 0, &running);
	ks_check_done();
}

static int ks_sock_destructor(struct ks_sock *ks)
{
	if (osmo_fd_is_registered(&ks->ofd))
		osmo_fd_unregister(&ks->ofd);
	return 0;
}

static int ks_socket_fn(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct ks_sock *ks = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (ks) {
			talloc_free(ks);
			curl_multi_assign(g.multi, s, NULL);
		}
		return 0;
	}
	unsigned int when = (what & CURL_POLL_IN ? OSMO_FD_READ : 0) | (what & CURL_POLL_OUT ? OSMO_FD_WRITE : 0);
	if (!ks) {
		ks = talloc_zero(g.socks, struct ks_sock);
		osmo_fd_setup(&ks->ofd, s, when, ks_fd_cb, ks, 0);
		if (osmo_fd_register(&ks->ofd) < 0) {
			LOGP(DKANNEL, LOGL_ERROR, "sendsms: cannot watch socket %d\n", (int)s);
			talloc_free(ks);
			return -1;
		}
		talloc_set_destructor(ks, ks_sock_destructor);
		curl_multi_assign(g.multi, s, ks);
	} else {
		osmo_fd_update_when(&ks->ofd, 0, when);
	}
	return 0;
}

static int ks_timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
	if (timeout_ms < 0)
		osmo_timer_del(&g.timer);
	else
		osmo_timer_schedule(&g.timer, timeout_ms / 1000, (timeout_ms % 1000) * 1000);
	return 0;
}

/* ---- requests ---- */

static size_t ks_write_fn(char *data, size_t size, size_t n, void *userp)
{
	struct ks_req *r = userp;
	size_t len = size * n, room = sizeof(r->body) - 1 - r->body_len;
	memcpy(r->body + r->body_len, data, len < room ? len : room);
	r->body_len += len < room ? len : room;
	r->body[r->body_len] = '\0';
	return len;
}

/* smsbox accepted it (2xx); refused this request itself (4xx), so trying again will not help;
 * or it was not reachable, answered 5xx, timed out or refused our credentials: try again later. */
static enum outbox_result ks_classify(CURLcode rc, long status)
{
	if (rc != CURLE_OK)
		return OUTBOX_RETRY;
	if (status >= 200 && status < 300)
		return OUTBOX_SENT;
	/* credentials and rate limits are fixed on Kannel's side, the message is fine: keep it */
	if (status == 401 || status == 403 || status == 408 || status == 429)
		return OUTBOX_RETRY;
	if (status >= 400 && status < 500)
		return OUTBOX_REFUSED;
	return OUTBOX_RETRY;
}

static int ks_req_destructor(struct ks_req *r)
{
	if (r->easy) {
		curl_multi_remove_handle(g.multi, r->easy);
		curl_easy_cleanup(r->easy);
	}
	return 0;
}

static void ks_check_done(void)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(g.multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *easy = msg->easy_handle;
		CURLcode rc = msg->data.result;
		struct ks_req *r = NULL;
		long status = 0;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
		enum outbox_result res = ks_classify(rc, status);
		char detail[KS_BODY_MAX + 64];
		if (rc != CURLE_OK)
			snprintf(detail, sizeof(detail), "%s", r->err[0] ? r->err : curl_easy_strerror(rc));
		else
			snprintf(detail, sizeof(detail), "HTTP %ld: %.*s", status, (int)strcspn(r->body, "\r\n"), r->body);
		LOGP(DKANNEL, res == OUTBOX_SENT ? LOGL_INFO : LOGL_NOTICE, "sendsms #%" PRId64 ": %s\n", r->id, detail);
		/* the handle goes first: the callback may well send the next one */
		outbox_done_cb cb = r->cb;
		void *priv = r->priv;
		talloc_free(r);
		cb(priv, res, detail);
	}
}

/* A sendsms parameter: "&name=" and the value URL-encoded. */
static char *ks_param(char *url, const char *name, const char *val, size_t len)
{
	char *esc = curl_easy_escape(NULL, val, len);
	url = talloc_asprintf_append(url, "&%s=%s", name, esc ? esc : "");
	curl_free(esc);
	return url;
}

static char *ks_url(void *ctx, const char *to, const char *text, int64_t id)
{
	const char *base = g_cfg->sendsms_url;
	char *url = talloc_asprintf(ctx, "%s%cusername=", base, strchr(base, '?') ? '&' : '?');
	char *user = curl_easy_escape(NULL, g_cfg->sendsms_user, 0);
	url = talloc_asprintf_append(url, "%s", user ? user : "");
	curl_free(user);
	if (g.password)
		url = ks_param(url, "password", g.password, strlen(g.password));
	url = ks_param(url, "to", to, strlen(to));
	if (g_cfg->sendsms_from)
		url = ks_param(url, "from", g_cfg->sendsms_from, strlen(g_cfg->sendsms_from));
	if (g_cfg->sendsms_smsc)
		url = ks_param(url, "smsc", g_cfg->sendsms_smsc, strlen(g_cfg->sendsms_smsc));

	struct gsm7_measure m;
	size_t len = strlen(text);
	if (gsm7_measure(text, len, &m) == 0 && m.coding == GSM7_CODING_UCS2) {
		uint8_t *ucs2 = talloc_size(ctx, len * 2 + 2);
		int n = gsm7_to_ucs2be(text, len, ucs2, len * 2 + 2);
		if (n < 0) {
			talloc_free(url);
			return NULL;
		}
		url = ks_param(url, "text", (const char *)ucs2, n);
		url = talloc_asprintf_append(url, "&coding=2");
		talloc_free(ucs2);
	} else {
		url = ks_param(url, "text", text, len);
		url = talloc_asprintf_append(url, "&charset=UTF-8&coding=0");
	}

	char *dlr = talloc_asprintf(ctx, "%s%cid=%" PRId64 "&type=%%d&reply=%%A", g.dlr_base,
				    strchr(g.dlr_base, '?') ? '&' : '?', id);
	url = talloc_asprintf_append(url, "&dlr-mask=31");
	url = ks_param(url, "dlr-url", dlr, strlen(dlr));
	talloc_free(dlr);
	return url;
}

/* One GET per SMS; the DLR request names the row's id. */
static int ks_send(int64_t dlr_id, const char *to, const char *text, outbox_done_cb cb, void *priv)
{
	if (!g.enabled)
		return -ENOTCONN;
	struct ks_req *r = talloc_zero(g.reqs, struct ks_req);
	r->cb = cb;
	r->priv = priv;
	r->id = dlr_id;
	r->url = ks_url(r, to, text, dlr_id);
	if (!r->url) {
		talloc_free(r);
		return -EINVAL;
	}
	r->easy = curl_easy_init();
	if (!r->easy) {
		talloc_free(r);
		return -ENOMEM;
	}
	curl_easy_setopt(r->easy, CURLOPT_URL, r->url);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, ks_write_fn);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->err);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, (long)g_cfg->sendsms_timeout_ms);
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(g_cfg->sendsms_timeout_ms < 3000 ? g_cfg->sendsms_timeout_ms : 3000));
	/* smsbox sits next to us: an http_proxy in the environment is not meant for it */
	curl_easy_setopt(r->easy, CURLOPT_PROXY, "");
	curl_easy_setopt(r->easy, CURLOPT_USERAGENT, "spazad/" PACKAGE_VERSION);
	if (curl_multi_add_handle(g.multi, r->easy) != CURLM_OK) {
		curl_easy_cleanup(r->easy);
		r->easy = NULL;
		talloc_free(r);
		return -EIO;
	}
	talloc_set_destructor(r, ks_req_destructor);
	return 0;
}

bool kannel_send_enabled(void)
{
	return g.enabled;
}

int kannel_send_init(void *ctx)
{
	g.ctx = talloc_named_const(ctx, 0, "kannel_send");
	if (!g_cfg->sendsms_url)
		return -EINVAL;
	const char *pw = secrets_password(KS_SECRET_NAME);
	if (pw)
		g.password = talloc_strdup(g.ctx, pw);
	if (g_cfg->dlr_url) {
		g.dlr_base = talloc_strdup(g.ctx, g_cfg->dlr_url);
	} else {
		const char *host = strcmp(g_cfg->http_addr, "0.0.0.0") ? g_cfg->http_addr : "127.0.0.1";
		g.dlr_base = talloc_asprintf(g.ctx, "http://%s:%u/kannel/dlr", host, g_cfg->http_port);
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		LOGP(DKANNEL, LOGL_ERROR, "libcurl did not initialise: no sendsms\n");
		return -EIO;
	}
	g.reqs = talloc_named_const(g.ctx, 0, "sendsms_requests");
	g.socks = talloc_named_const(g.ctx, 0, "sendsms_sockets");
	g.multi = curl_multi_init();
	curl_multi_setopt(g.multi, CURLMOPT_SOCKETFUNCTION, ks_socket_fn);
	curl_multi_setopt(g.multi, CURLMOPT_TIMERFUNCTION, ks_timer_fn);
	osmo_timer_setup(&g.timer, ks_timer_cb, NULL);
	g.enabled = true;
	LOGP(DKANNEL, LOGL_NOTICE, "sendsms: %s as %s%s, delivery reports to %s\n", g_cfg->sendsms_url,
	     g_cfg->sendsms_user, g.password ? " (with a password)" : "", g.dlr_base);
	return 0;
}

/* Requests in flight are dropped: their rows stay queued in the database. */
void kannel_send_shutdown(void)
{
	if (!g.multi)
		return;
	g.enabled = false;
	talloc_free(g.reqs);	/* the requests' destructors take their handles out of the multi */
	osmo_timer_del(&g.timer);
	curl_multi_cleanup(g.multi);
	g.multi = NULL;
	talloc_free(g.ctx);	/* sockets curl left to us, unwatched by their destructors */
	g.ctx = NULL;
	curl_global_cleanup();
}

/* Dropping the requests in flight is what the outbox asks of forget: their rows stay leased. */
const struct outbox_backend kannel_send_backend = {
	.name = "sendsms",
	.send = ks_send,
	.forget = kannel_send_shutdown,
};
