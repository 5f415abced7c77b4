/* Logging categories of spazad and spazactl (listed once in logging.def). */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* ---- phone numbers masked on their way out (privacy.h)
 *
 * A target writes a line through one of two functions: output (a formatted line: stdio
 * streams) or raw_output (the format and its arguments: the non-blocking write queue that
 * `log stderr` and `log file` switch to). Each wrapped target keeps the function it had, and
 * the wrapper hands it the line with the numbers masked. */

#define SPAZA_LOG_TARGETS_MAX 8
#define SPAZA_LOG_LINE_MAX 4096	/* libosmocore's own limit on a line */
typedef void (*spaza_log_output)(struct log_target *target, unsigned int level, const char *string);
typedef void (*spaza_log_raw)(struct log_target *target, int subsys, unsigned int level, const char *file, int line,
			      int cont, const char *format, va_list ap);

static struct {
	struct log_target *target;
	spaza_log_output output;
	spaza_log_raw raw;
} spaza_log_wrapped[SPAZA_LOG_TARGETS_MAX];

static int spaza_log_slot(const struct log_target *t)
{
	for (int i = 0; i < SPAZA_LOG_TARGETS_MAX; i++)
		if (spaza_log_wrapped[i].target == t)
			return i;
	return -1;
}

static bool spaza_log_full(unsigned int level)
{
	return level < LOGL_NOTICE && g_cfg && g_cfg->log_full_msisdn;
}

static void spaza_log_masked(struct log_target *target, unsigned int level, const char *string)
{
	char masked[SPAZA_LOG_LINE_MAX];
	int i = spaza_log_slot(target);
	if (i < 0 || !spaza_log_wrapped[i].output)
		return;
	if (spaza_log_full(level) || !privacy_has_msisdn(string))
		spaza_log_wrapped[i].output(target, level, string);
	else
		spaza_log_wrapped[i].output(target, level, privacy_mask(masked, sizeof(masked), string));
}

static void spaza_log_raw_call(spaza_log_raw raw, struct log_target *target, int subsys, unsigned int level,
			       const char *file, int line, int cont, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	raw(target, subsys, level, file, line, cont, format, ap);
	va_end(ap);
}

static void spaza_log_masked_raw(struct log_target *target, int subsys, unsigned int level, const char *file, int line,
				 int cont, const char *format, va_list ap)
{
	char text[SPAZA_LOG_LINE_MAX], masked[SPAZA_LOG_LINE_MAX];
	int i = spaza_log_slot(target);
	if (i < 0 || !spaza_log_wrapped[i].raw)
		return;
	vsnprintf(text, sizeof(text), format, ap);
	spaza_log_raw_call(spaza_log_wrapped[i].raw, target, subsys, level, file, line, cont, "%s",
			   spaza_log_full(level) || !privacy_has_msisdn(text) ? text :
			   privacy_mask(masked, sizeof(masked), text));
}

void spaza_logging_privacy(void)
{
	struct log_target *t;
	llist_for_each_entry(t, &osmo_log_target_list, entry) {
		int i = spaza_log_slot(t);
		if (i < 0)
			i = spaza_log_slot(NULL);
		if (i < 0)
			break;
		spaza_log_wrapped[i].target = t;
		if (t->output && t->output != spaza_log_masked) {
			spaza_log_wrapped[i].output = t->output;
			t->output = spaza_log_masked;
		}
		if (t->raw_output && t->raw_output != spaza_log_masked_raw) {
			spaza_log_wrapped[i].raw = t->raw_output;
			t->raw_output = spaza_log_masked_raw;
		}
	}
}
