#pragma once
/* The daemon's least privilege at start (doc/security.md): as many open files as the hard limit
 * allows, no core dumps (a core holds the secrets file's keys and customers' data), and never
 * root once the listeners are bound. */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct priv_user {
	bool drop;	/* started as root: become uid/gid */
	uid_t uid;
	gid_t gid;
	char name[64];
};

/* Raise the soft RLIMIT_NOFILE to the hard one, and log the figure. */
void priv_raise_nofile(void);

/* Before anything is bound: who to become. Not root: nothing to drop (pu->drop false). Root:
 * the user must exist and not be root itself, else -ENOENT / -EPERM with the reason in err. */
int priv_prepare(const char *user, struct priv_user *pu, char *err, size_t errlen);

/* After the listeners are bound: become pu's user (its groups too, for files such as TLS keys
 * readable by a group), make sure root cannot be had back, then disable core dumps. The
 * dumpable flag is set last because the kernel resets it on a change of uid. Returns 0, or
 * -errno with the reason in err; the caller must not go on serving then. */
int priv_drop(const struct priv_user *pu, char *err, size_t errlen);
