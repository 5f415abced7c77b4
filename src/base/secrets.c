/* The secrets file and HMAC-SHA256 under its keys; see secrets.h. The keys live in one static
 * table, wiped when replaced or cleared; nothing here ever prints a key or a line of the file,
 * only its name and line number. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "cfg.h"
#include "logging.h"
#include "secrets.h"

struct secret {
	char name[SECRETS_NAME_MAX + 1];
	unsigned version;	/* 1 for a line without @N */
	time_t since;		/* when `keys rotate` added it; 0: not known (a version 1) */
	uint8_t key[SECRETS_KEY_MAX + 1];	/* + a NUL, for the keys that are passwords */
	size_t len;
};

static struct secret secrets_tab[SECRETS_MAX];
static unsigned secrets_n;
/* The file secrets_load_cfg() read, so that a file `spazactl keys rotate` replaced (a new
 * inode) or edited is read again before the next HMAC: a rotation needs no restart. */
static struct stat secrets_st;

void secrets_clear(void)
{
	OPENSSL_cleanse(secrets_tab, sizeof(secrets_tab));
	secrets_n = 0;
	memset(&secrets_st, 0, sizeof(secrets_st));
}

static int secrets_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool secrets_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_' || c == '.';
}

/* One line "name = hex" (comments and blank lines already skipped) into s. Returns NULL or
 * what is wrong with it, in words that never quote the line. */
static const char *secrets_parse_line(char *line, struct secret *s)
{
	char *p = line, *name, *hex;
	size_t nlen, hlen;

	while (*p == ' ' || *p == '\t')
		p++;
	name = p;
	while (secrets_name_char(*p))
		p++;
	nlen = p - name;
	if (nlen == 0)
		return "expected \"name = hex\"";
	if (nlen > SECRETS_NAME_MAX)
		return "key name too long";
	s->version = 1;
	if (*p == '@') {
		char *end;
		unsigned long v = strtoul(p + 1, &end, 10);
		if (end == p + 1 || p[1] < '1' || p[1] > '9' || v > SECRETS_VERSION_MAX)
			return "the version after @ is not a number from 1 to 9999";
		s->version = v;
		p = end;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '=')
		return "expected \"name = hex\"";
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	hex = p;
	while (secrets_hexval(*p) >= 0)
		p++;
	hlen = p - hex;
	while (*p == ' ' || *p == '\t')
		p++;
	s->since = 0;
	if (!strncmp(p, "since ", 6)) {
		struct tm tm = { 0 };
		char *end = strptime(p + 6, "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (!end)
			return "expected \"since YYYY-MM-DDTHH:MM:SSZ\" after the value";
		s->since = timegm(&tm);
		p = end;
	}
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p)
		return "the value is not hexadecimal";
	if (hlen % 2)
		return "the value has an odd number of hex digits";
	if (hlen / 2 < SECRETS_KEY_MIN)
		return "the key is shorter than 16 bytes";
	if (hlen / 2 > SECRETS_KEY_MAX)
		return "the key is longer than 128 bytes";

	memcpy(s->name, name, nlen);
	s->name[nlen] = '\0';
	for (size_t i = 0; i < hlen / 2; i++)
		s->key[i] = secrets_hexval(hex[2 * i]) << 4 | secrets_hexval(hex[2 * i + 1]);
	s->len = hlen / 2;
	s->key[s->len] = 0;	/* secrets_password() */
	return NULL;
}

/* Parse the whole file into tab; the caller wipes tab whatever happens. */
static int secrets_parse(FILE *fp, const char *path, struct secret *tab, unsigned *n, char *err, size_t errlen)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = 0;

	*n = 0;
	while (getline(&line, &cap, fp) >= 0) {
		const char *why = NULL;
		char *p = line;
		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
			continue;
		if (*n == SECRETS_MAX)
			why = "too many keys";
		else
			why = secrets_parse_line(line, &tab[*n]);
		for (unsigned i = 0; !why && i < *n; i++)
			if (!strcmp(tab[i].name, tab[*n].name) && tab[i].version == tab[*n].version)
				why = "the key name appears twice";
		if (why) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			rc = -EINVAL;
			break;
		}
		(*n)++;
	}
	if (line) {
		OPENSSL_cleanse(line, cap);
		free(line);
	}
	if (!rc && ferror(fp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -EIO;
	}
	return rc;
}

int secrets_load(const char *path, char *err, size_t errlen)
{
	struct secret tab[SECRETS_MAX];
	struct stat st;
	unsigned n;
	FILE *fp;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "secrets file %s: %s", path, strerror(errno));
		return rc;
	}
	/* fstat on the open file: what is checked is what is read. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "secrets file %s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "secrets file %s: group or others may access it (mode %04o): refusing to use it;"
			 " chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return -EPERM;
	}
	fp = fdopen(fd, "r");
	if (!fp) {
		rc = -errno;
		snprintf(err, errlen, "secrets file %s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	/* Unbuffered, so no stdio buffer is left holding key material; the file is tiny. */
	setvbuf(fp, NULL, _IONBF, 0);
	rc = secrets_parse(fp, path, tab, &n, err, errlen);
	fclose(fp);
	if (rc == 0) {
		secrets_clear();
		memcpy(secrets_tab, tab, sizeof(tab));
		secrets_n = n;
		secrets_st = st;
	}
	OPENSSL_cleanse(tab, sizeof(tab));
	return rc;
}

int secrets_load_cfg(char *err, size_t errlen)
{
	if (!g_cfg || !g_cfg->secrets_file) {
		snprintf(err, errlen, "no secrets file: add \"secrets-file PATH\" to the spaza node of the config");
		return -ENOENT;
	}
	return secrets_load(g_cfg->secrets_file, err, errlen);
}

/* The secrets of the config's file, loaded or read again when the file changed since; 0 or
 * -ENOKEY after logging why. */
static int secrets_ensure(void)
{
	struct stat st;
	char err[512];

	if (secrets_n && g_cfg && g_cfg->secrets_file && secrets_st.st_ino &&
	    (stat(g_cfg->secrets_file, &st) < 0 || (st.st_ino == secrets_st.st_ino && st.st_size == secrets_st.st_size &&
	     st.st_mtim.tv_sec == secrets_st.st_mtim.tv_sec && st.st_mtim.tv_nsec == secrets_st.st_mtim.tv_nsec)))
		return 0;
	if (secrets_n && (!g_cfg || !g_cfg->secrets_file || !secrets_st.st_ino))
		return 0;	/* loaded by hand (secrets_load(), the unit tests) */
	if (secrets_load_cfg(err, sizeof(err)) < 0) {
		if (secrets_n)
			LOGP(DMAIN, LOGL_ERROR, "%s: keeping the keys read before\n", err);
		else
			LOGP(DMAIN, LOGL_ERROR, "%s\n", err);
		return secrets_n ? 0 : -ENOKEY;
	}
	return 0;
}

/* Version v of name (0: the newest). */
static const struct secret *secrets_find(const char *name, unsigned v)
{
	const struct secret *best = NULL;
	for (unsigned i = 0; i < secrets_n; i++)
		if (!strcmp(secrets_tab[i].name, name) && (v ? secrets_tab[i].version == v :
							   !best || secrets_tab[i].version > best->version))
			best = &secrets_tab[i];
	return best;
}

unsigned secrets_names(const char **out, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < secrets_n && n < max; i++) {
		bool seen = false;
		for (unsigned k = 0; k < n && !seen; k++)
			seen = !strcmp(out[k], secrets_tab[i].name);
		if (!seen)
			out[n++] = secrets_tab[i].name;
	}
	return n;
}

bool secrets_have(const char *name)
{
	return secrets_find(name, 0) != NULL;
}

unsigned secrets_newest(const char *name)
{
	if (secrets_ensure() < 0)
		return 0;
	const struct secret *s = secrets_find(name, 0);
	return s ? s->version : 0;
}

/* When version v of name stopped being the newest: the since of the next newer version
 * loaded; 0 while it is the newest. */
static time_t secrets_superseded(const char *name, unsigned v)
{
	const struct secret *next = NULL;
	for (unsigned i = 0; i < secrets_n; i++)
		if (!strcmp(secrets_tab[i].name, name) && secrets_tab[i].version > v &&
		    (!next || secrets_tab[i].version < next->version))
			next = &secrets_tab[i];
	return next ? next->since : 0;
}

unsigned secrets_versions(const char *name, struct secrets_version *out, unsigned max)
{
	unsigned n = 0, last = 0;
	if (secrets_ensure() < 0)
		return 0;
	/* oldest first: the next version above the last one taken, from the (small) table. Not
	 * by trying every version number: that was 9,999 lookups a voucher payment. */
	while (n < max) {
		const struct secret *s = NULL;
		for (unsigned i = 0; i < secrets_n; i++)
			if (secrets_tab[i].version > last && (!s || secrets_tab[i].version < s->version) &&
			    !strcmp(secrets_tab[i].name, name))
				s = &secrets_tab[i];
		if (!s)
			break;
		last = s->version;
		time_t sup = secrets_superseded(name, last);
		out[n++] = (struct secrets_version){ .version = last, .since = s->since, .superseded = sup,
						     .retires = sup ? sup + (g_cfg ? g_cfg->key_grace_s : 0) : 0 };
	}
	return n;
}

int secrets_usable(const char *name, unsigned v, time_t now)
{
	if (secrets_ensure() < 0 || !secrets_find(name, v))
		return -ENOKEY;
	time_t sup = secrets_superseded(name, v);
	if (!sup || now < sup + (time_t)(g_cfg ? g_cfg->key_grace_s : 0))
		return 0;
	LOGP(DMAIN, LOGL_NOTICE, "key %s version %u was replaced more than the grace period ago: refused\n", name, v);
	return -EKEYEXPIRED;
}

/* secrets_hmac_v() on the keys loaded: the caller made sure of them. */
static int secrets_hmac_loaded(const char *name, unsigned v, const void *data, size_t len,
			       uint8_t out[SECRETS_HMAC_LEN])
{
	const struct secret *s = secrets_find(name, v);
	unsigned outlen = 0;

	if (!s) {
		if (v)
			LOGP(DMAIN, LOGL_NOTICE, "no key \"%s\" version %u in the secrets file\n", name, v);
		else
			LOGP(DMAIN, LOGL_ERROR, "no key \"%s\" in the secrets file\n", name);
		return -ENOKEY;
	}
	if (!HMAC(EVP_sha256(), s->key, s->len, data, len, out, &outlen) || outlen != SECRETS_HMAC_LEN)
		return -EIO;
	return 0;
}

int secrets_hmac_v(const char *name, unsigned v, const void *data, size_t len, uint8_t out[SECRETS_HMAC_LEN])
{
	if (secrets_ensure() < 0)
		return -ENOKEY;
	return secrets_hmac_loaded(name, v, data, len, out);
}

int secrets_hmac(const char *name, const void *data, size_t len, uint8_t out[SECRETS_HMAC_LEN])
{
	return secrets_hmac_v(name, 0, data, len, out);
}

int secrets_hmac_all(const char *name, const void *data, size_t len, struct secrets_macs *m)
{
	struct secrets_version vs[SECRETS_MACS_MAX];
	time_t now = time(NULL);

	memset(m, 0, sizeof(*m));
	unsigned n = secrets_versions(name, vs, SECRETS_MACS_MAX);
	if (n == 0) {
		LOGP(DMAIN, LOGL_ERROR, "no key \"%s\" in the secrets file\n", name);
		return -ENOKEY;
	}
	/* secrets_versions() made sure of the file: one stat() a payment, not one per version */
	for (unsigned i = 0; i < n; i++) {
		int rc = secrets_hmac_loaded(name, vs[i].version, data, len, m->mac[i]);
		if (rc < 0) {
			OPENSSL_cleanse(m, sizeof(*m));
			return rc;
		}
		m->version[i] = vs[i].version;
		/* versions only ever retire oldest first, so the first one still in its grace is
		 * the oldest that verifies */
		if (!m->oldest_usable && (!vs[i].retires || now < vs[i].retires))
			m->oldest_usable = vs[i].version;
	}
	m->n = n;
	return 0;
}

const char *secrets_password(const char *name)
{
	if (!secrets_n && (!g_cfg || !g_cfg->secrets_file))
		return NULL;
	if (secrets_ensure() < 0)
		return NULL;
	const struct secret *s = secrets_find(name, 0);
	if (!s || memchr(s->key, 0, s->len))
		return NULL;
	return (const char *)s->key;
}

unsigned secrets_id_version(const char *id, const char *prefix)
{
	size_t plen = strlen(prefix);
	if (strncmp(id, prefix, plen) || id[plen] < '2' || id[plen] > '9')
		return 1;
	char *end;
	unsigned long v = strtoul(id + plen, &end, 10);
	return *end == '_' && v <= SECRETS_VERSION_MAX ? v : 1;
}

/* ---- spazactl keys rotate */

/* The new file: what the old one holds, then the new line; written beside it (same file
 * system), mode 0600 from the start, synced, then renamed over it, so that a reader sees the
 * old file or the new one, never half of one. */
static int secrets_write_rotated(const char *path, const char *line, char *err, size_t errlen)
{
	char tmp[4096];
	char buf[4096];
	ssize_t got;
	int in, out, rc = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.rotate.%d", path, (int)getpid()) >= sizeof(tmp)) {
		snprintf(err, errlen, "secrets file %s: path too long", path);
		return -ENAMETOOLONG;
	}
	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		rc = -errno;
		snprintf(err, errlen, "secrets file %s: %s", path, strerror(errno));
		return rc;
	}
	/* the new file keeps the old one's owner: spazad, running as its own user once it has
	 * dropped root, reads the file again after a rotation */
	struct stat st;
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0 || fchmod(out, 0600) < 0 || fstat(in, &st) < 0 ||
	    ((st.st_uid != geteuid() || st.st_gid != getegid()) && fchown(out, st.st_uid, st.st_gid) < 0)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(in);
		if (out >= 0) {
			close(out);
			unlink(tmp);
		}
		return rc;
	}
	while (!rc && (got = read(in, buf, sizeof(buf))) != 0) {
		if (got < 0 || write(out, buf, got) != got)
			rc = -EIO;
		else if (buf[got - 1] != '\n' && got < (ssize_t)sizeof(buf) && write(out, "\n", 1) != 1)
			rc = -EIO;	/* a last line without its newline */
	}
	if (!rc && (write(out, line, strlen(line)) != (ssize_t)strlen(line) || fsync(out) < 0))
		rc = -EIO;
	OPENSSL_cleanse(buf, sizeof(buf));
	close(in);
	if (close(out) < 0)
		rc = -EIO;
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	if (rc) {
		snprintf(err, errlen, "secrets file %s: cannot write the new version: %s", path, strerror(-rc));
		unlink(tmp);
	}
	return rc;
}

int secrets_rotate(const char *name, unsigned *version, char *err, size_t errlen)
{
	uint8_t key[SECRETS_ROTATE_BYTES];
	char line[SECRETS_NAME_MAX + 2 * SECRETS_ROTATE_BYTES + 64], when[32];
	time_t now = time(NULL);
	int rc, n;

	rc = secrets_load_cfg(err, errlen);
	if (rc < 0)
		return rc;
	const struct secret *cur = secrets_find(name, 0);
	*version = cur ? cur->version + 1 : 1;
	if (*version > SECRETS_VERSION_MAX || secrets_n == SECRETS_MAX) {
		snprintf(err, errlen, "secrets file %s: no room for another version of %s (remove retired ones)",
			 g_cfg->secrets_file, name);
		return -ENOSPC;
	}
	if (getrandom(key, sizeof(key), 0) != sizeof(key)) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -EIO;
	}
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	n = snprintf(line, sizeof(line), "%s@%u = ", name, *version);
	for (size_t i = 0; i < sizeof(key); i++)
		n += snprintf(line + n, sizeof(line) - n, "%02x", key[i]);
	snprintf(line + n, sizeof(line) - n, " since %s\n", when);
	OPENSSL_cleanse(key, sizeof(key));
	rc = secrets_write_rotated(g_cfg->secrets_file, line, err, errlen);
	OPENSSL_cleanse(line, sizeof(line));
	if (rc == 0)
		rc = secrets_load_cfg(err, errlen);
	return rc;
}
