/* Logging categories of spazad and spazactl (listed once in logging.def). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <osmocom/core/application.h>
#include <osmocom/core/linuxlist.h>
#include "cfg.h"
#include "logging.h"
#include "privacy.h"

/* libosmocore's list of log targets: exported, not declared in its headers. */
extern struct llist_head osmo_log_target_list;

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
	spaza_logging_privacy();
}

/* ---- phone numbers masked on their way out (privacy.h) */

#define SPAZA_LOG_TARGETS_MAX 8
typedef void (*spaza_log_output)(struct log_target *target, unsigned int level, const char *string);

/* Each wrapped target and the output function libosmocore gave it. */
static struct {
	struct log_target *target;
	spaza_log_output output;
} spaza_log_wrapped[SPAZA_LOG_TARGETS_MAX];

static spaza_log_output spaza_log_original(const struct log_target *t)
{
	for (size_t i = 0; i < SPAZA_LOG_TARGETS_MAX; i++)
		if (spaza_log_wrapped[i].target == t)
			return spaza_log_wrapped[i].output;
	return NULL;
}

static void spaza_log_masked(struct log_target *target, unsigned int level, const char *string)
{
	spaza_log_output out = spaza_log_original(target);
	bool full = level < LOGL_NOTICE && g_cfg && g_cfg->log_full_msisdn;
	if (!out)
		return;
	if (full || !privacy_has_msisdn(string)) {
		out(target, level, string);
		return;
	}
	size_t len = strlen(string) + 1;
	char *masked = talloc_size(NULL, len);
	out(target, level, privacy_mask(masked, len, string));
	talloc_free(masked);
}

void spaza_logging_privacy(void)
{
	struct log_target *t;
	llist_for_each_entry(t, &osmo_log_target_list, entry) {
		/* a target that formats by itself (the systemd journal) is not one we can filter */
		if (t->raw_output || !t->output || t->output == spaza_log_masked)
			continue;
		for (size_t i = 0; i < SPAZA_LOG_TARGETS_MAX; i++) {
			if (spaza_log_wrapped[i].target && spaza_log_wrapped[i].target != t)
				continue;
			spaza_log_wrapped[i].target = t;
			spaza_log_wrapped[i].output = t->output;
			t->output = spaza_log_masked;
			break;
		}
	}
}
