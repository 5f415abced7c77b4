/* Reading a YAML file for a checking loader (see yaml_doc.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>
#include "yaml_doc.h"

/* The whole file is read first and parsed from memory, so the fingerprint is of exactly the
 * bytes the loader saw (a file replaced between two reads cannot pair one text with another's
 * hash). Menu and text files are a few hundred KiB at most. */
int yd_load(struct yd *d, const char *path)
{
	*d = (struct yd){ .file = path };
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		int err = errno;
		fprintf(stderr, "%s:1: cannot open: %s\n", path, strerror(err));
		return -err;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? 2 * cap : 65536;
			char *bigger = realloc(buf, cap);
			if (!bigger) {
				free(buf);
				fclose(fp);
				fprintf(stderr, "%s:1: out of memory reading it\n", path);
				return -ENOMEM;
			}
			buf = bigger;
		}
		size_t got = fread(buf + len, 1, cap - len, fp);
		len += got;
		if (got == 0)
			break;
	}
	int rerr = ferror(fp) ? errno : 0;
	fclose(fp);
	if (rerr) {
		free(buf);
		fprintf(stderr, "%s:1: cannot read: %s\n", path, strerror(rerr));
		return -rerr;
	}
	SHA256((const unsigned char *)buf, len, d->sha256);
	yaml_parser_t parser;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	int rc = 0;
	if (!yaml_parser_load(&parser, &d->doc)) {
		fprintf(stderr, "%s:%zu: YAML syntax: %s\n", path, parser.problem_mark.line + 1,
			parser.problem ? parser.problem : "error");
		rc = -EINVAL;
	}
	yaml_parser_delete(&parser);
	free(buf);
	return rc;
}

void yd_free(struct yd *d)
{
	yaml_document_delete(&d->doc);
}

void yd_err(struct yd *d, const yaml_node_t *at, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s:%zu: ", d->file, at ? at->start_mark.line + 1 : 1);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	d->errors++;
}

const char *yd_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

yaml_node_t *yd_map_get(struct yd *d, const yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = yd_scalar(yaml_document_get_node(&d->doc, p->key));
		if (k && !strcmp(k, key))
			return yaml_document_get_node(&d->doc, p->value);
	}
	return NULL;
}

void yd_check_keys(struct yd *d, const yaml_node_t *map, const char *what, const char *const *names, unsigned n)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *kn = yaml_document_get_node(&d->doc, p->key);
		const char *k = yd_scalar(kn);
		bool ok = false;
		for (unsigned i = 0; k && i < n; i++)
			ok |= !strcmp(names[i], k);
		if (!ok)
			yd_err(d, kn, "%s: unknown key \"%s\"", what, k ? k : "?");
	}
}
