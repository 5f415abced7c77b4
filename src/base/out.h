#pragma once
/* A fixed buffer the renderers append text to (menu screens, SMS texts). Text that does not
 * fit is cut and overflow set; the buffer is always NUL-terminated. */
#include <stdbool.h>
#include <stddef.h>

struct out {
	char *buf;
	size_t len, cap;	/* cap is buf's size, at least 1 */
	bool overflow;
};

void out_put(struct out *o, const char *s, size_t n);
void out_str(struct out *o, const char *s);
/* A line break, unless nothing has been written yet. */
void out_line(struct out *o);
