#pragma once
/* Customer care from the customer's side (SMS and USSD): open a ticket or add a message to the
 * one already open, rate a delivered order, confirm either by SMS. Each call is one statement
 * of sql/011_care.sql's functions; the staff's side is admin/ctl_care.c over the same ones.
 * The tickets' clocks are care_clock.c. */
#include <stdint.h>

/* The ticket kinds of sql/011_care.sql, in its order. */
#define CARE_KINDS "not_delivered, wrong_item, damaged, charged_twice, want_refund, other, free_text"
/* Whether word is one of them. */
int care_kind_valid(const char *word);

/* What the database answered (the words of spaza_care_open, spaza_care_rate, _rate_reply). */
enum care_outcome {
	CARE_OPENED,		/* a new ticket */
	CARE_JOINED,		/* the message went on an open ticket */
	CARE_RATED,		/* the first rating of the order */
	CARE_CHANGED,		/* a rating that replaced an earlier one */
	CARE_NOT_FOUND,		/* not this customer's order */
	CARE_NOT_DELIVERED,	/* only a delivered order is rated */
	CARE_NONE,		/* a bare digit with no rating SMS in the window */
};

struct care_result {
	enum care_outcome outcome;
	int64_t ticket;		/* opened, joined */
	int64_t order;		/* a bare digit's order */
};

/* Called once, after the write committed; err < 0: it failed (the result is not set). */
typedef void (*care_cb)(void *priv, const struct care_result *r, int err);

void care_init(void *ctx);
/* order 0: none. channel: ussd, sms; author: who wrote text (the channel for a customer).
 * key names the request: a repeat answers as the first and writes nothing. */
void care_open(int64_t customer, int64_t order, const char *kind, const char *channel, const char *text,
	       const char *key, care_cb cb, void *priv);
/* stars 1-5; comment may be NULL. */
void care_rate(int64_t customer, int64_t order, int stars, const char *comment, const char *channel, care_cb cb,
	       void *priv);
/* A bare digit by SMS: the order of the newest delivered SMS within care rating-window. */
void care_rate_reply(int64_t customer, int stars, care_cb cb, void *priv);
/* Queues text as an SMS to the customer once per key (a repeated hop queues nothing again). */
void care_sms(int64_t customer, const char *text, const char *key);
