#pragma once
/* Kannel's sendsms as a client: libcurl's multi interface driven by the osmo_select loop, so a
 * slow or dead smsbox never blocks a hop. One request per SMS, with a DLR request pointing back
 * at spazad's /kannel/dlr. */
#include <stdbool.h>
#include <stdint.h>

enum kannel_send_result {
	KANNEL_SEND_OK,		/* smsbox accepted it (2xx) */
	KANNEL_SEND_RETRY,	/* not reachable, 5xx, timeout, credentials refused: try again later */
	KANNEL_SEND_REFUSED,	/* smsbox refused this request itself (4xx): trying again will not help */
};

/* detail: Kannel's answer or curl's error (never the URL: it carries the password). */
typedef void (*kannel_send_cb)(void *priv, enum kannel_send_result r, const char *detail);

/* Reads the sendsms settings from g_cfg (the password from the secrets file when it has
 * kannel-sendsms-password). Returns 0, or -EINVAL when sendsms is not configured. */
int kannel_send_init(void *ctx);
void kannel_send_shutdown(void);
bool kannel_send_enabled(void);

/* Queues one SMS: to is E.164, text UTF-8, dlr_id the id /kannel/dlr reports on. cb is called
 * exactly once, from the loop, never from inside this call. Returns 0 or -errno (cb not called). */
int kannel_send(const char *to, const char *text, int64_t dlr_id, kannel_send_cb cb, void *priv);
unsigned kannel_send_in_flight(void);
