/* The expectations of scripts: every submit_sm the ESME sent, queued in arrival order until a script
 * line looks at it, and "expect-submit KEY=VALUE..." parsed and matched against one. */
#define _GNU_SOURCE
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "smsc.h"

static struct {
	struct submit *q;
	size_t head, tail, cap;
} queue;

void submit_free(struct submit *s)
{
	free(s->text);
	s->text = NULL;
}

/* Takes over S's text. Once the script has run its last line nobody will look at the queue: then the
 * submit is dropped, so a passive SMSC (-i </dev/null, the demo's) does not grow for ever. */
void submits_push(const struct submit *s)
{
	if (script_over()) {
		struct submit dropped = *s;

		submit_free(&dropped);
		return;
	}
	if (queue.tail == queue.cap) {
		if (queue.head > 0) {
			memmove(queue.q, queue.q + queue.head, (queue.tail - queue.head) * sizeof(*queue.q));
			queue.tail -= queue.head;
			queue.head = 0;
		} else {
			queue.cap = queue.cap ? 2 * queue.cap : 16;
			queue.q = xrealloc(queue.q, queue.cap * sizeof(*queue.q));
		}
	}
	queue.q[queue.tail++] = *s;
}

void print_submit(FILE *f, const struct submit *s)
{
	if (s->err[0]) {
		fprintf(f, "submit_sm seq=%u that libsmpp34 could not unpack: %s", s->seq, s->err);
		return;
	}
	fprintf(f, "submit_sm seq=%u from=%s to=%s", s->seq, s->from, s->to);
	if (s->service_type[0])
		fprintf(f, " service_type=%s", s->service_type);
	fprintf(f, " data_coding=%u", s->dc);
	if (s->esm)
		fprintf(f, " esm_class=0x%02x", s->esm);
	if (s->regdel)
		fprintf(f, " registered_delivery=%u", s->regdel);
	if (s->op >= 0)
		fprintf(f, " ussd_service_op=%d", s->op);
	if (s->session >= 0)
		fprintf(f, " its_session_info=%ld", s->session);
	fputs(" text=", f);
	put_quoted(f, s->text, strlen(s->text));
}

struct submit *submits_peek(void)
{
	return queue.head < queue.tail ? &queue.q[queue.head] : NULL;
}

/* The caller frees what it took from submits_peek(). */
void submits_pop(void)
{
	queue.head++;
}

void submits_free(void)
{
	for (size_t i = queue.head; i < queue.tail; i++)
		submit_free(&queue.q[i]);
	free(queue.q);
}

const char *fmt_submit(const struct submit *s)
{
	static char buf[2048];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	if (!f)
		return "?";
	print_submit(f, s);
	fclose(f);
	return buf;
}

static bool addr_eq(const char *want, const char *got)
{
	/* Kannel writes international numbers with and without '+' depending on its config */
	if (*want == '+')
		want++;
	if (*got == '+')
		got++;
	return !strcmp(want, got);
}

/* Parse "key=value..." into e. Returns NULL or an error message. */
const char *expect_parse(struct expect *e, int argc, char **argv, bool sms, unsigned *timeout_ms)
{
	static char err[200];
	unsigned long v;
	size_t dl = 0;
	char *k = NULL, *val = NULL;

	memset(e, 0, sizeof(*e));
	e->cmd = argv[0];
	e->sms = sms;
	e->op = e->session = -2;
	e->dc = e->regdel = -1;
	for (int i = 1; i < argc; i++) {
		k = argv[i];
		val = strchr(k, '=');

		if (!val) {
			snprintf(err, sizeof(err), "'%s' is not key=value", k);
			return err;
		}
		*val++ = '\0';
		if (!strcmp(k, "ussd_service_op") || !strcmp(k, "op")) {
			if (!strcmp(val, "none"))
				e->op = -1;
			else if (parse_ulong(val, 255, &v))
				e->op = (long)v;
			else
				goto bad;
		} else if (!strcmp(k, "its_session_info") || !strcmp(k, "session")) {
			if (!strcmp(val, "none"))
				e->session = -1;
			else if (parse_ulong(val, 65535, &v))
				e->session = (long)v;
			else
				goto bad;
		} else if (!strcmp(k, "data_coding")) {
			if (!parse_ulong(val, 255, &v))
				goto bad;
			e->dc = (long)v;
		} else if (!strcmp(k, "registered_delivery")) {
			if (!parse_ulong(val, 255, &v))
				goto bad;
			e->regdel = (long)v;
		} else if (!strcmp(k, "to")) {
			e->to = val;
		} else if (!strcmp(k, "from")) {
			e->from = val;
		} else if (!strcmp(k, "service_type")) {
			e->service_type = val;
		} else if (!strcmp(k, "timeout")) {
			if (!parse_ulong(val, 3600000, &v))
				goto bad;
			*timeout_ms = (unsigned)v;
		} else if (!strcmp(k, "text")) {
			size_t n = strlen(val);

			e->text = val;
			if (n >= 2 && val[0] == '/' && val[n - 1] == '/') {
				int rc;

				val[n - 1] = '\0';
				rc = regcomp(&e->re, val + 1, REG_EXTENDED | REG_NOSUB);
				if (rc) {
					regerror(rc, &e->re, err, sizeof(err));
					return err;
				}
				e->text_re = true;
				e->text = val + 1;
			}
		} else {
			snprintf(err, sizeof(err), "unknown key '%s'", k);
			return err;
		}
		dl += (size_t)snprintf(e->desc + dl, sizeof(e->desc) - dl, "%s%s=", dl ? " " : "", k);
		if (dl >= sizeof(e->desc))
			dl = sizeof(e->desc) - 1;
		if (!strcmp(k, "text")) {
			FILE *f = fmemopen(e->desc + dl, sizeof(e->desc) - dl, "w");

			if (f) {
				if (e->text_re)
					fprintf(f, "/%s/", e->text);
				else
					put_quoted(f, e->text, strlen(e->text));
				fclose(f);
				dl += strlen(e->desc + dl);
			}
		} else {
			dl += (size_t)snprintf(e->desc + dl, sizeof(e->desc) - dl, "%s", val);
			if (dl >= sizeof(e->desc))
				dl = sizeof(e->desc) - 1;
		}
	}
	return NULL;
bad:
	snprintf(err, sizeof(err), "bad value '%s' for %s", val, k);
	return err;
}

void expect_free(struct expect *e)
{
	if (e->text_re)
		regfree(&e->re);
	e->text_re = false;
}

/* NULL when s meets e, else the first field that differs. */
const char *expect_match(const struct expect *e, const struct submit *s)
{
	if (s->err[0])
		return "libsmpp34 could not unpack the submit_sm";
	if (e->sms && s->op >= 0)
		return "an SMS carries no ussd_service_op";
	if (e->op != -2 && e->op != s->op)
		return "ussd_service_op differs";
	if (e->session != -2 && e->session != s->session)
		return "its_session_info differs";
	if (e->dc >= 0 && (unsigned)e->dc != s->dc)
		return "data_coding differs";
	if (e->regdel >= 0 && (unsigned)e->regdel != s->regdel)
		return "registered_delivery differs";
	if (e->to && !addr_eq(e->to, s->to))
		return "to differs";
	if (e->from && !addr_eq(e->from, s->from))
		return "from differs";
	if (e->service_type && strcmp(e->service_type, s->service_type))
		return "service_type differs";
	if (e->text && (e->text_re ? regexec(&e->re, s->text, 0, NULL, 0) != 0 : strcmp(e->text, s->text) != 0))
		return "text differs";
	return NULL;
}

