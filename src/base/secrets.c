/* The secrets file and HMAC-SHA256 under its keys; see secrets.h. The keys live in one static
 * table, wiped when replaced or cleared; nothing here ever prints a key or a line of the file,
 * only its name and line number. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "cfg.h"
#include "logging.h"
#include "secrets.h"

struct secret {
	char name[SECRETS_NAME_MAX + 1];
	uint8_t key[SECRETS_KEY_MAX + 1];	/* + a NUL, for the keys that are passwords */
	size_t len;
};

static struct secret secrets_tab[SECRETS_MAX];
static unsigned secrets_n;

void secrets_clear(void)
{
	OPENSSL_cleanse(secrets_tab, sizeof(secrets_tab));
	secrets_n = 0;
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
			if (!strcmp(tab[i].name, tab[*n].name))
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

static const struct secret *secrets_find(const char *name)
{
	for (unsigned i = 0; i < secrets_n; i++)
		if (!strcmp(secrets_tab[i].name, name))
			return &secrets_tab[i];
	return NULL;
}

bool secrets_have(const char *name)
{
	return secrets_find(name) != NULL;
}

int secrets_hmac(const char *name, const void *data, size_t len, uint8_t out[SECRETS_HMAC_LEN])
{
	const struct secret *s;
	unsigned outlen = 0;

	if (secrets_n == 0) {
		char err[512];
		if (secrets_load_cfg(err, sizeof(err)) < 0) {
			LOGP(DMAIN, LOGL_ERROR, "%s\n", err);
			return -ENOKEY;
		}
	}
	s = secrets_find(name);
	if (!s) {
		LOGP(DMAIN, LOGL_ERROR, "no key \"%s\" in the secrets file\n", name);
		return -ENOKEY;
	}
	if (!HMAC(EVP_sha256(), s->key, s->len, data, len, out, &outlen) || outlen != SECRETS_HMAC_LEN)
		return -EIO;
	return 0;
}

const char *secrets_password(const char *name)
{
	if (secrets_n == 0 && g_cfg && g_cfg->secrets_file) {
		char err[512];
		if (secrets_load_cfg(err, sizeof(err)) < 0)
			return NULL;
	}
	const struct secret *s = secrets_find(name);
	if (!s || memchr(s->key, 0, s->len))
		return NULL;
	return (const char *)s->key;
}
