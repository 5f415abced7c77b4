/* The audit log's rows (see audit.h). */
#include <stdio.h>
#include <string.h>
#include "audit.h"
#include "privacy.h"

static const char *const audit_sources[] = {
	[AUDIT_SPAZACTL] = "spazactl",
	[AUDIT_VTY] = "vty",
	[AUDIT_API] = "api",
};

static bool audit_secret_word(const char *w)
{
	return !strcmp(w, "password") || !strcmp(w, "token") || !strcmp(w, "secret");
}

static bool audit_pin_like(const char *w)
{
	size_t n = strspn(w, "0123456789");
	return n >= 16 && !w[n];
}

void audit_action(struct audit_rec *r, int argc, const char *const *argv)
{
	size_t o = 0;
	r->action[0] = '\0';
	for (int i = 0; i < argc && o + 1 < sizeof(r->action); i++) {
		char word[AUDIT_ACTION_MAX];
		const char *eq = strstr(argv[i], "password=");
		if ((i > 0 && audit_secret_word(argv[i - 1])) || audit_pin_like(argv[i]))
			snprintf(word, sizeof(word), "****");
		else if (eq)
			snprintf(word, sizeof(word), "%.*spassword=****", (int)(eq - argv[i]), argv[i]);
		else
			privacy_mask(word, sizeof(word), argv[i]);
		o += snprintf(r->action + o, sizeof(r->action) - o, "%s%s", i ? " " : "", word);
	}
}

void audit_action_line(struct audit_rec *r, const char *line)
{
	char copy[AUDIT_ACTION_MAX], *save = NULL;
	const char *words[64];
	int n = 0;
	snprintf(copy, sizeof(copy), "%s", line);
	for (char *w = strtok_r(copy, " \t\r\n", &save); w && n < 64; w = strtok_r(NULL, " \t\r\n", &save))
		words[n++] = w;
	audit_action(r, n, words);
}

const char *const *audit_params(struct audit_rec *r)
{
	r->params[0] = audit_sources[r->source];
	r->params[1] = r->who;
	r->params[2] = r->action;
	r->params[3] = r->subject;
	r->params[4] = r->ok ? "ok" : "failed";
	r->params[5] = r->before;
	r->params[6] = r->after;
	return r->params;
}
