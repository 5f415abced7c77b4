#pragma once
/* Kannel's sendsms as a client: libcurl's multi interface driven by the osmo_select loop, so a
 * slow or dead smsbox never blocks a hop. One request per SMS, with a DLR request pointing back
 * at spazad's /kannel/dlr. The outbox reaches it as kannel_send_backend: the backend's done
 * gets Kannel's answer or curl's error as detail (never the URL: it carries the password). */
#include <stdbool.h>
#include "outbox.h"

/* Reads the sendsms settings from g_cfg (the password from the secrets file when it has
 * kannel-sendsms-password). Returns 0, or -EINVAL when sendsms is not configured. */
int kannel_send_init(void *ctx);
/* Requests in flight are dropped without their done; a second call does nothing. */
void kannel_send_shutdown(void);
bool kannel_send_enabled(void);

extern const struct outbox_backend kannel_send_backend;
