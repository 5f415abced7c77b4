#pragma once
/* A YAML file read whole into a libyaml document, for the loaders that refuse a file with every
 * problem in it as "file:line: reason" (menu_load.c for menus, sms_texts.c for SMS texts). */
#include <stdint.h>
#include <yaml.h>

struct yd {
	const char *file;	/* as messages name it */
	yaml_document_t doc;
	unsigned errors;	/* yd_err() messages so far: the file is refused if any */
	uint8_t sha256[32];	/* of the file's bytes as parsed (a menu's version, menu.h) */
};

/* Parses path into d->doc; yd_free() releases it. On failure prints "path:line: reason" and
 * returns -errno (cannot open) or -EINVAL (YAML syntax), with nothing to free. */
int yd_load(struct yd *d, const char *path);
void yd_free(struct yd *d);

/* Prints "file:line: reason" with the line of node at (1 without one) and counts it. */
void yd_err(struct yd *d, const yaml_node_t *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The string of a scalar node, or NULL for anything else (NULL included). */
const char *yd_scalar(const yaml_node_t *n);
/* The value of key in a mapping node, or NULL. */
yaml_node_t *yd_map_get(struct yd *d, const yaml_node_t *map, const char *key);
/* Every key of a mapping node must be one of names[0..n): a typo ("otpions:") is named, not
 * ignored, as "what: unknown key". Anything but a mapping is left to the caller. */
void yd_check_keys(struct yd *d, const yaml_node_t *map, const char *what, const char *const *names, unsigned n);
