#pragma once
#include <osmocom/core/logging.h>

enum spaza_log_cat {
#define X(cat, name, desc, level) cat,
#include "logging.def"
#undef X
};

extern const struct log_info spaza_log_info;

/* osmo_init_logging2() plus care for the terminal: see logging.c. */
void spaza_logging_init(void *ctx);
/* Every log target set up so far masks phone numbers (privacy.h) in lines at notice and above,
 * and at info and debug unless `privacy log-full-msisdn 1`. cfg_read() calls it once the
 * config has made its targets; a target added later over the VTY is not masked. */
void spaza_logging_privacy(void);
