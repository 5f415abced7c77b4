/* What the SMSC keeps of the SMS it was given: the message ids it handed out (so that a receipt, asked
 * for by "dlr ID" or sent by --auto-dlr, knows whom it is from and to), the receipts themselves, and
 * every SMS submit_sm per destination MSISDN: the handset's inbox that the control interface shows
 * (GET /inbox). The inbox is a ring of the last SMS_STORE_MAX messages of all numbers: a demo left
 * running for days keeps a bounded memory, and a number's newest messages are always there. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <stdint.h>
#include <stdio.h>

#include <smpp34.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>

#include "smsc.h"

#define MSGID_RING	4096	/* issued message ids remembered for dlr */
#define SMS_STORE_MAX	4096	/* SMS kept for the inboxes, all numbers together */

static struct issued issued[MSGID_RING];
static uint32_t next_msg_id = 1;
uint32_t submit_status;

/* A message id for an accepted submit_sm, remembered for its receipt. */
uint32_t sms_issue(const struct submit *s)
{
	struct issued *m = &issued[next_msg_id % MSGID_RING];

	m->id = next_msg_id++;
	snprintf(m->from, sizeof(m->from), "%s", s->from);
	snprintf(m->to, sizeof(m->to), "%s", s->to);
	snprintf(m->text, sizeof(m->text), "%s", s->text);
	m->when = time(NULL);
	return m->id;
}

uint32_t sms_last_issued(void)
{
	return next_msg_id - 1;
}

const struct issued *issued_find(uint32_t id)
{
	const struct issued *m = &issued[id % MSGID_RING];

	return m->id == id ? m : NULL;
}

static const struct {
	const char *name, *stat;
	int state;
} dlr_states[] = {
	{ "enroute", "ENROUTE", 1 }, { "delivered", "DELIVRD", 2 }, { "expired", "EXPIRED", 3 },
	{ "deleted", "DELETED", 4 }, { "failed", "UNDELIV", 5 }, { "undeliverable", "UNDELIV", 5 },
	{ "accepted", "ACCEPTD", 6 }, { "unknown", "UNKNOWN", 7 }, { "rejected", "REJECTD", 8 },
};

int dlr_state_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(dlr_states) / sizeof(dlr_states[0]); i++)
		if (!strcmp(dlr_states[i].name, name))
			return (int)i;
	return -1;
}

/* A delivery receipt as SMSCs send them: esm_class 0x04, the SMPP 3.4 TLVs (which Kannel reads first)
 * and the customary "id:... stat:..." text (which older ESMEs parse). */
int dlr_send(const struct issued *m, int st)
{
	char id[16], text[200], sub[16], done[16];
	time_t now = time(NULL);
	struct tm tm;
	struct mo r = { .from = m->to, .to = m->from, .esm = SMPP34_DELIVERY_RECEIPT, .op = -1, .session = -1,
			.message_state = dlr_states[st].state };

	snprintf(id, sizeof(id), "%" PRIu32, m->id);
	strftime(sub, sizeof(sub), "%y%m%d%H%M", localtime_r(&m->when, &tm));
	strftime(done, sizeof(done), "%y%m%d%H%M", localtime_r(&now, &tm));
	snprintf(text, sizeof(text), "id:%s sub:001 dlvrd:%s submit date:%s done date:%s stat:%s err:%s text:%.20s",
		 id, dlr_states[st].state == 2 ? "001" : "000", sub, done, dlr_states[st].stat,
		 dlr_states[st].state == 2 ? "000" : "001", m->text);
	r.text = text;
	r.receipted_id = id;
	return mo_send(&r);
}

static struct {
	struct stored_sms ring[SMS_STORE_MAX];
	unsigned long next_id;	/* ids start at 1: "after=0" is every message */
} store = { .next_id = 1 };

/* Kannel writes an international number with or without '+' depending on its configuration. */
static const char *bare(const char *msisdn)
{
	return *msisdn == '+' ? msisdn + 1 : msisdn;
}

void sms_store_add(const struct submit *s)
{
	struct stored_sms *m = &store.ring[store.next_id % SMS_STORE_MAX];

	free(m->text);
	m->id = store.next_id++;
	m->when = time(NULL);
	snprintf(m->from, sizeof(m->from), "%s", s->from);
	snprintf(m->to, sizeof(m->to), "%s", bare(s->to));
	m->dc = s->dc;
	m->text = xstrdup(s->text);
	control_on_sms();
}

/* The oldest SMS to MSISDN with an id above AFTER, or NULL. */
const struct stored_sms *sms_store_next(const char *msisdn, unsigned long after)
{
	unsigned long first = store.next_id > SMS_STORE_MAX ? store.next_id - SMS_STORE_MAX : 1;

	msisdn = bare(msisdn);
	for (unsigned long id = after + 1 > first ? after + 1 : first; id < store.next_id; id++) {
		const struct stored_sms *m = &store.ring[id % SMS_STORE_MAX];

		if (!strcmp(m->to, msisdn))
			return m;
	}
	return NULL;
}

void sms_store_free(void)
{
	for (size_t i = 0; i < SMS_STORE_MAX; i++)
		free(store.ring[i].text);
}
