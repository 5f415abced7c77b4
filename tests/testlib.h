#pragma once
/* The smallest test helper that says what it expected and what it got.
 * Each check prints "PASS: what" or "FAIL: what: expected ..., got ..."; scripts/test counts them. */
#include <stdio.h>
#include <string.h>

static int testlib_failed;

#define T_CHECK(cond, what, ...) do { \
	if (cond) printf("PASS: %s\n", what); \
	else { testlib_failed++; printf("FAIL: %s: ", what); printf(__VA_ARGS__); printf("\n"); } \
} while (0)

#define T_EQ_INT(got, want, what) do { long long _g = (got), _w = (want); \
	T_CHECK(_g == _w, what, "expected %lld, got %lld", _w, _g); } while (0)

#define T_EQ_STR(got, want, what) do { const char *_g = (got), *_w = (want); \
	T_CHECK(_g && _w && !strcmp(_g, _w), what, "expected \"%s\", got \"%s\"", _w ? _w : "(null)", _g ? _g : "(null)"); } while (0)

#define T_DONE() (testlib_failed ? 1 : 0)
