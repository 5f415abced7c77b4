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

/* Writes text to a temporary file, loads it and checks it is refused with "path:want" among
 * the messages: the file, the line and the reason. */
static void testfile_expect_refused(void *ctx, testfile_load_fn *load, const char *what, const char *text,
				    const char *want)
{
	char path[] = "/tmp/testfile_XXXXXX.yaml", errpath[] = "/tmp/testfile_err_XXXXXX";
	testfile_write(path, text);
	int efd = mkstemp(errpath);
	fflush(stderr);
	int saved = dup(2);
	dup2(efd, 2);
	int rc = load(ctx, path);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char msg[4096] = "";
	lseek(efd, 0, SEEK_SET);
	ssize_t n = read(efd, msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(efd);
	char full[512];
	snprintf(full, sizeof(full), "%s:%s", path, want);
	T_CHECK(rc < 0 && strstr(msg, full), what, "expected refusal with \"%s\", got rc=%d \"%s\"", full, rc, msg);
	unlink(path);
	unlink(errpath);
}
