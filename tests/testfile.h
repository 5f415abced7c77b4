#pragma once
/* For tests of the loaders that refuse a file with "file:line: reason" on stderr (menus, SMS
 * texts): a temporary file with given contents, and the check that loading it is refused with
 * the expected message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testlib.h"

/* Writes text to a new file named after tmpl, "/tmp/<name>_XXXXXX.yaml" (the X's are filled
 * in); the caller unlinks it. */
static void testfile_write(char *tmpl, const char *text)
{
	int fd = mkstemps(tmpl, strlen(".yaml"));
	(void)!write(fd, text, strlen(text));
	close(fd);
}

/* Loads path (-errno or -EINVAL when refused); its messages go to stderr. */
typedef int testfile_load_fn(void *ctx, const char *path);

/* Writes text to a temporary file and loads it: the result, and in msg what was said on
 * stderr, each message starting with the file's path (in path, PATH_LEN bytes). */
#define TESTFILE_PATH_LEN 32
static int testfile_load(void *ctx, testfile_load_fn *load, const char *text, char *path, char *msg, size_t len)
{
	char errpath[] = "/tmp/testfile_err_XXXXXX";
	snprintf(path, TESTFILE_PATH_LEN, "/tmp/testfile_XXXXXX.yaml");
	testfile_write(path, text);
	int efd = mkstemp(errpath);
	fflush(stderr);
	int saved = dup(2);
	dup2(efd, 2);
	int rc = load(ctx, path);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(efd, 0, SEEK_SET);
	ssize_t n = read(efd, msg, len - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(efd);
	unlink(path);
	unlink(errpath);
	return rc;
}

/* Writes text to a temporary file, loads it and checks it is refused with "path:want" among
 * the messages: the file, the line and the reason. */
static void testfile_expect_refused(void *ctx, testfile_load_fn *load, const char *what, const char *text,
				    const char *want)
{
	char path[TESTFILE_PATH_LEN], msg[4096], full[512];
	int rc = testfile_load(ctx, load, text, path, msg, sizeof(msg));
	snprintf(full, sizeof(full), "%s:%s", path, want);
	T_CHECK(rc < 0 && strstr(msg, full), what, "expected refusal with \"%s\", got rc=%d \"%s\"", full, rc, msg);
}

/* The same, and "path:want" is the only message: one error, said once. (inline: not every
 * test that includes this file uses it) */
static inline void testfile_expect_refused_once(void *ctx, testfile_load_fn *load, const char *what, const char *text,
						const char *want)
{
	char path[TESTFILE_PATH_LEN], msg[4096], full[512];
	int rc = testfile_load(ctx, load, text, path, msg, sizeof(msg));
	snprintf(full, sizeof(full), "%s:%s\n", path, want);
	T_CHECK(rc < 0 && !strcmp(msg, full), what, "expected refusal with only \"%s\", got rc=%d \"%s\"", full, rc, msg);
}
