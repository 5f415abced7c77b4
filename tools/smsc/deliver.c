/* deliver_sm out: what a subscriber does (dials USSD, answers, sends an SMS) and the delivery receipts
 * the operator reports, to the most recently bound receiver. The TLVs are linked in the order
 * libsmpp34 packs them; addresses get the type of number an SMSC would give them. */
#define _GNU_SOURCE
#include <string.h>

#include <stdint.h>
#include <stdio.h>

#include <smpp34.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>

#include "smsc.h"

static void set_addr(const char *addr, uint8_t *ton, uint8_t *npi, uint8_t *dst)
{
	bool digits = *addr != '\0';

	if (*addr == '+')
		addr++;
	for (const char *p = addr; *p; p++)
		if (*p < '0' || *p > '9')
			digits = false;
	/* a long all-digit address is an international MSISDN; short codes and service codes are not */
	if (digits && strlen(addr) >= 7) {
		*ton = TON_International;
		*npi = NPI_ISDN_E163_E164;
	} else {
		*ton = TON_Unknown;
		*npi = digits ? NPI_ISDN_E163_E164 : NPI_Unknown;
	}
	snprintf((char *)dst, ADDRESS_LENGTH, "%s", addr);
}

/* Returns 0, or -1 with the reason printed. */
int mo_send(const struct mo *m)
{
	struct conn *c = receiver();
	deliver_sm_t d;
	tlv_t t_op, t_sess, t_rid, t_state;
	tlv_t *chain = NULL;
	uint8_t dc = 0;
	int n;

	if (!c) {
		fprintf(stderr, "spaza-smsc: no ESME is bound as receiver or transceiver\n");
		return -1;
	}
	if (strlen(m->from) >= ADDRESS_LENGTH || strlen(m->to) >= ADDRESS_LENGTH) {
		fprintf(stderr, "spaza-smsc: addresses are at most %d characters\n", ADDRESS_LENGTH - 1);
		return -1;
	}
	memset(&d, 0, sizeof(d));
	d.command_id = DELIVER_SM;
	d.sequence_number = c->next_seq++;
	snprintf((char *)d.service_type, sizeof(d.service_type), "%s", m->service_type ? m->service_type : "");
	set_addr(m->from, &d.source_addr_ton, &d.source_addr_npi, d.source_addr);
	set_addr(m->to, &d.dest_addr_ton, &d.dest_addr_npi, d.destination_addr);
	d.esm_class = (uint8_t)m->esm;
	n = encode_text(m->text, m->ucs2, d.short_message, &dc);
	if (n < 0) {
		fprintf(stderr, "spaza-smsc: text does not fit one short message (%d octets)\n", SM_MAX);
		return -1;
	}
	d.sm_length = (uint8_t)n;
	d.data_coding = dc;
	/* libsmpp34 packs the TLV list as linked; value sizes as the spec gives them */
	if (m->op >= 0) {
		memset(&t_op, 0, sizeof(t_op));
		t_op.tag = TLVID_ussd_service_op;
		t_op.length = 1;
		t_op.value.octet[0] = (uint8_t)m->op;
		t_op.next = chain;
		chain = &t_op;
	}
	if (m->session >= 0) {
		memset(&t_sess, 0, sizeof(t_sess));
		t_sess.tag = TLVID_its_session_info;
		t_sess.length = 2;
		t_sess.value.val16 = (uint16_t)m->session;
		t_sess.next = chain;
		chain = &t_sess;
	}
	if (m->receipted_id) {
		memset(&t_rid, 0, sizeof(t_rid));
		t_rid.tag = TLVID_receipted_message_id;
		t_rid.length = (uint16_t)(strlen(m->receipted_id) + 1);	/* a C-Octet String */
		memcpy(t_rid.value.octet, m->receipted_id, t_rid.length);
		t_rid.next = chain;
		chain = &t_rid;
	}
	if (m->message_state >= 0) {
		memset(&t_state, 0, sizeof(t_state));
		t_state.tag = TLVID_message_state;
		t_state.length = 1;
		t_state.value.val08 = (uint8_t)m->message_state;
		t_state.next = chain;
		chain = &t_state;
	}
	d.tlv = chain;
	if (conn_send_pdu(c, &d) != 0)
		return -1;
	if (opt.verbosity >= 1) {
		printf(">> deliver_sm conn=%u seq=%u from=%s to=%s", c->id, d.sequence_number, m->from, m->to);
		if (m->service_type && *m->service_type)
			printf(" service_type=%s", m->service_type);
		if (m->esm)
			printf(" esm_class=0x%02x", m->esm);
		printf(" data_coding=%u", dc);
		if (m->op >= 0)
			printf(" ussd_service_op=%d", m->op);
		if (m->session >= 0)
			printf(" its_session_info=%ld", m->session);
		if (m->receipted_id)
			printf(" receipted_message_id=%s message_state=%d", m->receipted_id, m->message_state);
		fputs(" text=", stdout);
		put_quoted(stdout, m->text, strlen(m->text));
		putchar('\n');
	}
	conn_flush(c);
	return 0;
}
