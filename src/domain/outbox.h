#pragma once
/* The persistent outbox: every SMS we send is a row of sms_messages first (queued by a trigger,
 * a keyword reply that missed its deadline, or spazactl), and the outbox sends due rows through
 * a backend that a transport registers (as OpenSMTPD's queue backends plug into its queue). A
 * failed send leaves the row queued with a back-off, so an outage delays SMS but loses none.
 * Delivery reports, however they arrive, update the rows through outbox_dlr(). */
#include <stdint.h>

/* How one send ended: the row is then sent, retried later, or failed for good. */
enum outbox_result { OUTBOX_SENT, OUTBOX_RETRY, OUTBOX_REFUSED };
typedef void (*outbox_done_cb)(void *priv, enum outbox_result r, const char *detail);

/* A way out for MTs, registered by the transport that offers it (fronts/kannel_send.c: smsbox's
 * sendsms; fronts/front_box.c: MT pushes over the box connection). */
struct outbox_backend {
	const char *name;
	/* Send one SMS; call done exactly once, later (never from inside send). 0 or -errno. */
	int (*send)(int64_t id, const char *to, const char *text, outbox_done_cb done, void *priv);
	/* Optional: the outbox is going away, call no done any more. */
	void (*forget)(void);
};

void outbox_init(void *ctx);		/* LISTEN spaza_outbox, the poll timer */
/* Calls the backend's forget, so its done callbacks stop before the outbox goes. */
void outbox_shutdown(void);
/* NULL: the outbox keeps every row queued. Set before outbox_init(), the backend is used from
 * the first poll on; set later, due rows are looked for at once. */
void outbox_set_backend(const struct outbox_backend *b);
/* The backend is reachable again (a reconnect): the pause after failed sends ends now. */
void outbox_resume(void);
/* Look for due rows now (they are also found on NOTIFY spaza_outbox and by the poll timer). */
void outbox_kick(void);
/* SMS handed to the transport and not yet answered (the admin listener's /health). */
unsigned outbox_in_flight(void);

/* A delivery report for row id: state is delivered, failed, buffered, submitted or rejected,
 * reply the SMSC's words (NULL: none). done is called once, after the write: 0, -ENOENT (no
 * such row) or -EIO (the database). priv is a talloc object that outlives the call. */
typedef void (*outbox_dlr_cb)(void *priv, int rc);
void outbox_dlr(int64_t id, const char *state, const char *reply, outbox_dlr_cb done, void *priv);
