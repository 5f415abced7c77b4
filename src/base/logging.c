/* Logging categories of spazad and spazactl (listed once in logging.def). */
#include <fcntl.h>
#include <stdlib.h>
#include <osmocom/core/application.h>
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

/* libosmocore's stderr target makes fd 2 non-blocking. On a terminal, stdin, stdout and stderr
 * share one open file description, so the shell that ran us (and the phone simulator after
 * us) would find its terminal non-blocking and take EAGAIN for the end of input. Put the
 * flags back when we exit. */
static int stderr_flags = -1;

static void spaza_logging_restore(void)
{
	if (stderr_flags >= 0)
		fcntl(2, F_SETFL, stderr_flags);
}

void spaza_logging_init(void *ctx)
{
	stderr_flags = fcntl(2, F_GETFL);
	atexit(spaza_logging_restore);
	osmo_init_logging2(ctx, &spaza_log_info);
}
