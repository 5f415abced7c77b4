#pragma once
/* The customer timeline's USSD rows, written in bulk: at thousands of sessions a second one
 * INSERT per session would cost the database more than everything else together. */
#include <stdint.h>
#include <time.h>

struct timeline_session {
	int64_t customer_id;
	const char *channel, *ref, *service_code, *outcome, *screens;
	const char *lang;		/* the language the screens were shown in */
	const char *menu_version;	/* NULL: no menu (the funnel shows '-') */
	double started, ended;	/* epoch seconds */
	unsigned hops;
	int64_t order_id;	/* 0: none */
};

void timeline_init(void *ctx);
/* Copies the row; it reaches the database within TIMELINE_FLUSH_MS. */
void timeline_session_add(const struct timeline_session *row);
/* Sends what has gathered (at shutdown: before the drain). */
void timeline_flush(void);
/* After db_close(): what the database had not taken is logged, counted, and freed. */
void timeline_close(void);
