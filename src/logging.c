/* Logging categories of spazad and spazactl (listed once in logging.def). */
#include "logging.h"

static const struct log_info_cat spaza_log_cats[] = {
#define X(cat, nm, desc, level) \
	[cat] = { .name = nm, .description = desc, .color = "\033[1;3" "6m", .enabled = 1, .loglevel = level },
#include "logging.def"
#undef X
};

const struct log_info spaza_log_info = {
	.cat = spaza_log_cats,
	.num_cat = sizeof(spaza_log_cats) / sizeof(spaza_log_cats[0]),
};
