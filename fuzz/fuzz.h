#pragma once
/* What every fuzz target shares: a stderr the product may write to without flooding the run,
 * bytes turned into a C string or a file for the APIs that want one, and an assertion that
 * libFuzzer counts as a crash. See doc/reliability.md. */
/* memfd_create(); include this header first */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The product reports bad input on stderr ("file:line: reason"), thousands of times a second
 * here. libFuzzer keeps its own FILE (taken before main) and the sanitizers write to fd 2, so
 * pointing stdio's stderr elsewhere silences only the product. FUZZ_VERBOSE=1 keeps it, to see
 * what the product said about a crashing input. */
static FILE *fuzz_stderr;

static inline void fuzz_quiet(void)
{
	fuzz_stderr = stderr;
	if (getenv("FUZZ_VERBOSE"))
		return;
	FILE *null = fopen("/dev/null", "w");
	if (null)
		stderr = null;
}

/* A property of the product's output that must hold whatever the input: abort() is a crash
 * to libFuzzer, which saves the input. */
#define FUZZ_ASSERT(cond) do { \
	if (!(cond)) { \
		fprintf(fuzz_stderr ? fuzz_stderr : stderr, "%s:%d: FUZZ_ASSERT(%s) failed\n", __FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* The input as a NUL-terminated string (malloc'd; the caller frees it). Bytes after an
 * embedded NUL stay in the copy, as they would in a request body. */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	FUZZ_ASSERT(s);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* For loaders that take a path: the input in an in-memory file, reachable as
 * /proc/self/fd/N. One file for the whole run, rewritten for every input. */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[32];
	if (fd < 0) {
		fd = memfd_create("fuzz-input", 0);
		FUZZ_ASSERT(fd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	FUZZ_ASSERT(ftruncate(fd, 0) == 0);
	FUZZ_ASSERT(pwrite(fd, data, size, 0) == (ssize_t)size);
	return path;
}
