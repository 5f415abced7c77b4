#pragma once
/* spazad's campaign sender (doc/crm.md): a token bucket that hands marketing SMS to the outbox.
 *
 * Campaigns are a queue of their own (campaign_recipients, sql/015_crm.sql), apart from the
 * outbox: once a second the bucket is filled with `crm campaign rate` tokens and that many
 * recipients at most are decided in one statement: consent and the frequency cap are checked as
 * each one's turn comes, and those who pass get an SMS row the outbox sends like any other. So
 * the outbox never holds more than a second's worth of marketing in front of a transactional SMS,
 * and the bucket does not fill it at all in the quiet hours, while the outbox is at its in-flight
 * limit, or while hops have requests waiting on the database: marketing is the lowest priority. */
void campaign_init(void *ctx);
void campaign_shutdown(void);
