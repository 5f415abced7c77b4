#pragma once
#include <osmocom/core/logging.h>

enum spaza_log_cat {
#define X(cat, name, desc, level) cat,
#include "logging.def"
#undef X
};

extern const struct log_info spaza_log_info;
