#pragma once
/* Abuse limits per MSISDN: hops per minute and sessions per hour, in fixed windows. */
#include <stdbool.h>

enum ratelimit_verdict { RATELIMIT_OK, RATELIMIT_HOPS, RATELIMIT_SESSIONS };

void ratelimit_init(void *ctx);
/* Count one hop (and a new session when new_session) for msisdn; says whether it may go on. */
enum ratelimit_verdict ratelimit_hop(const char *msisdn, bool new_session);
