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
