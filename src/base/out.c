/* Appending to a fixed buffer (see out.h). */
#include <string.h>
#include "out.h"

void out_put(struct out *o, const char *s, size_t n)
{
	if (o->len + n >= o->cap) {
		o->overflow = true;
		n = o->cap - 1 - o->len;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

void out_str(struct out *o, const char *s)
{
	out_put(o, s, strlen(s));
}

void out_line(struct out *o)
{
	if (o->len)
		out_put(o, "\n", 1);
}
