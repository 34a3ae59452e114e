/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * yaml.h - a walk over one YAML document against a schema of fixed keys:
 * the generic half of the configuration reader (model/config.c holds the
 * schema itself).
 *
 * walk_load() reads a file whole and loads its one document with libyaml's
 * document API. A mapping's keys are matched with walk_get_fields(), which
 * refuses unknown keys (suggesting the nearest known one) and repeated ones;
 * a value is a struct field: a mapping entry (<key>) or a list item
 * (<index>), with the 1-based line operators and editors jump to. Every
 * problem is one line "FILE:LINE: KEY: problem" in the walk's error buffer,
 * KEY the path of the value ("services[0].backends[1].port"), and makes
 * the walk_*() call return -EINVAL (-ENOMEM: "FILE: out of memory").
 *
 * Scalars are taken by their text whatever their YAML style (port: "80" is
 * port 80); a plain empty value, ~ or null reads as "" where a value is
 * expected and as an empty list or mapping where one is.
 */
#ifndef LIMPET_YAML_H
#define LIMPET_YAML_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#define WALK_KEY_PATH_MAX 192

struct walk {
	const char *file;
	yaml_document_t doc;
	bool loaded;		/* <doc> holds a document to delete */
	char *err;		/* NULL: no message wanted */
	size_t err_len;
};

/*
 * One value being parsed: a mapping entry (<key> set) or a list item
 * (<key> NULL, <index>). <node> is NULL when the key is absent.
 */
struct field {
	const char *key;
	size_t index;
	yaml_node_t *node;
	int line;		/* 1-based: the key's line, or the item's */
};

/* Refuse absurd files before parsing them: room for LIMPET_MAX_BACKENDS
 * backends written out in block style (~120 bytes each).
 */
#define WALK_FILE_MAX (64 << 20)

/*
 * Read <file> (at most 4 MiB) and load its one YAML document into <w>.
 * Returns 0 and the root in <*root> (NULL for an empty document); or -errno
 * with "FILE: cannot read: ...", or -EINVAL with "FILE:LINE: YAML syntax
 * error: ..." or a second document refused. walk_free() in every case.
 */
int walk_load(struct walk *w, const char *file, char *err, size_t err_len, yaml_node_t **root);
/* The same on <len> bytes at <buf> (buf[len] readable, NUL), named <name>. */
int walk_load_buffer(struct walk *w, const char *name, const char *buf, size_t len, char *err,
		     size_t err_len, yaml_node_t **root);
void walk_free(struct walk *w);

/* Errors: one line "FILE:LINE: KEY: <fmt>"; return -EINVAL. */
int walk_fail(struct walk *w, int line, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* At field <f> of the mapping or list at <path>. */
int walk_fail_field(struct walk *w, const char *path, const struct field *f, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int walk_vfail_field(struct walk *w, const char *path, const struct field *f, const char *fmt,
		     va_list ap) __attribute__((format(printf, 4, 0)));
/* "FILE: out of memory"; returns -ENOMEM. */
int walk_oom(struct walk *w);

/* "services[0]" + field "port" -> "services[0].port"; + item 2 -> "services[0][2]". */
void walk_key_path(char *buf, size_t len, const char *path, const struct field *f);

/* Node helpers. */
const char *walk_text(const yaml_node_t *n);		/* a scalar's text */
int walk_line(const yaml_node_t *n);			/* 1-based */
size_t walk_seq_len(const yaml_node_t *n);		/* 0 unless a list */
struct field walk_seq_item(struct walk *w, const yaml_node_t *seq, size_t i);
/* The line of <key> in mapping <map>, or the mapping's own line. */
int walk_key_line(struct walk *w, const yaml_node_t *map, const char *key);
/* The line of <key> in item <i> of list <seq>: where an earlier value stood. */
int walk_item_key_line(struct walk *w, const yaml_node_t *seq, size_t i, const char *key);
/* "a mapping", "a list", "an empty value" or the scalar quoted. */
const char *walk_kind(const yaml_node_t *n, char *buf, size_t len);

/* Field <f> is a mapping or list of type <t> (or a null: an empty one). */
int walk_expect_kind(struct walk *w, const char *path, const struct field *f,
		     yaml_node_type_t t);
/* The text of scalar field <f>; "" for a YAML null. */
int walk_scalar(struct walk *w, const char *path, const struct field *f, const char **text);

/*
 * Match the keys of mapping <map> (at <path>) against <keys>: out[i] gets the
 * value of keys[i], or .node = NULL. Unknown and repeated keys are errors.
 */
int walk_get_fields(struct walk *w, const char *path, const yaml_node_t *map,
		    const char *const *keys, size_t n_keys, struct field *out);
/* Field <f> of <map> must be present. */
int walk_require(struct walk *w, const char *path, const yaml_node_t *map, const struct field *f);
/* Field <f> (at <path>) is a mapping: its key path into <sub>, its fields into <out>. */
int walk_open_mapping(struct walk *w, const char *path, const struct field *f, char *sub,
		      const char *const *keys, size_t n_keys, struct field *out);

#endif /* LIMPET_YAML_H */
