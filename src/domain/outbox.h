#pragma once
/* The persistent outbox: every SMS we send is a row of sms_messages first (queued by a trigger,
 * a keyword reply that missed its deadline, or spazactl), and the outbox sends due rows through
 * a backend (Kannel's sendsms by default). A failed send leaves the row queued with a back-off,
 * so a Kannel outage delays SMS but loses none. Delivery reports (/kannel/dlr) update the rows. */
#include <stdint.h>

/* How one send ended: the row is then sent, retried later, or failed for good. */
enum outbox_result { OUTBOX_SENT, OUTBOX_RETRY, OUTBOX_REFUSED };
typedef void (*outbox_done_cb)(void *priv, enum outbox_result r, const char *detail);

/* A way out for MTs: Kannel's sendsms (kannel_send.c) unless a front end sets its own. */
struct outbox_backend {
	const char *name;
	/* Send one SMS; call done exactly once, later (never from inside send). 0 or -errno. */
	int (*send)(int64_t id, const char *to, const char *text, outbox_done_cb done, void *priv);
	/* Optional: the outbox is going away, call no done any more. */
	void (*forget)(void);
};

void outbox_init(void *ctx);		/* LISTEN spaza_outbox, the poll timer, GET /kannel/dlr */
void outbox_shutdown(void);
/* NULL: the outbox keeps every row queued. */
void outbox_set_backend(const struct outbox_backend *b);
extern const struct outbox_backend outbox_kannel_backend;
extern const struct outbox_backend outbox_box_backend;	/* front_box.c: MT pushes to bearerbox */
/* The backend is reachable again (a reconnect): the pause after failed sends ends now. */
void outbox_resume(void);
/* Look for due rows now (they are also found on NOTIFY spaza_outbox and by the poll timer). */
void outbox_kick(void);
