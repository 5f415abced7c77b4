/* Raising the open-file limit, dropping root, disabling core dumps (see privdrop.h). */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include "logging.h"
#include "privdrop.h"

void priv_raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		LOGP(DMAIN, LOGL_ERROR, "open files limit unknown: %s\n", strerror(errno));
		return;
	}
	rlim_t was = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		LOGP(DMAIN, LOGL_ERROR, "open files limit stays %llu: %s\n", (unsigned long long)was, strerror(errno));
		return;
	}
	LOGP(DMAIN, LOGL_NOTICE, "open files limit %llu (was %llu)\n", (unsigned long long)rl.rlim_cur,
	     (unsigned long long)was);
}

int priv_prepare(const char *user, struct priv_user *pu, char *err, size_t errlen)
{
	memset(pu, 0, sizeof(*pu));
	if (geteuid() != 0)
		return 0;
	errno = 0;
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen, "started as root, and there is no user \"%s\" to run as: create it (useradd"
			 " --system --no-create-home --shell /usr/sbin/nologin %s) or name another with run-as USER",
			 user, user);
		return -ENOENT;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "run-as %s is root: name an unprivileged user", user);
		return -EPERM;
	}
	pu->drop = true;
	pu->uid = pw->pw_uid;
	pu->gid = pw->pw_gid;
	snprintf(pu->name, sizeof(pu->name), "%s", user);
	return 0;
}

static int priv_no_core(char *err, size_t errlen)
{
	struct rlimit rl = { 0, 0 };
	if (setrlimit(RLIMIT_CORE, &rl) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		snprintf(err, errlen, "cannot disable core dumps: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int priv_drop(const struct priv_user *pu, char *err, size_t errlen)
{
	if (pu->drop) {
		if (initgroups(pu->name, pu->gid) < 0 || setgid(pu->gid) < 0 || setuid(pu->uid) < 0) {
			snprintf(err, errlen, "cannot become user %s: %s", pu->name, strerror(errno));
			return -errno;
		}
		if (setuid(0) == 0) {
			snprintf(err, errlen, "still able to become root after becoming %s", pu->name);
			return -EPERM;
		}
		LOGP(DMAIN, LOGL_NOTICE, "running as user %s (uid %u, gid %u)\n", pu->name, (unsigned)pu->uid,
		     (unsigned)pu->gid);
	}
	return priv_no_core(err, errlen);
}
