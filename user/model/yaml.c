// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * yaml.c - the generic YAML walker of yaml.h: reading the file, loading its
 * one document, matching a mapping's keys against a schema's and writing
 * "FILE:LINE: KEY: problem" lines. Nothing here knows limpet's keys.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/value.h"
#include "model/yaml.h"

#define MSG_MAX 512

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- errors -------------------------------------------------------------- */

static int vfail(struct walk *w, int line, const char *key, const char *fmt, va_list ap)
{
	char msg[MSG_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (w->err && w->err_len)
		snprintf(w->err, w->err_len, "%s:%d: %s: %s", w->file, line, key, msg);
	return -EINVAL;
}

int walk_fail(struct walk *w, int line, const char *key, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vfail(w, line, key, fmt, ap);
	va_end(ap);
	return ret;
}

int walk_oom(struct walk *w)
{
	if (w->err && w->err_len)
		snprintf(w->err, w->err_len, "%s: out of memory", w->file);
	return -ENOMEM;
}

void walk_key_path(char *buf, size_t len, const char *path, const struct field *f)
{
	int n;

	if (f->key)
		n = snprintf(buf, len, "%s%s%s", path, *path ? "." : "", f->key);
	else
		n = snprintf(buf, len, "%s[%zu]", path, f->index);
	if (n >= (int)len && len > 4)
		strcpy(buf + len - 4, "...");
}

int walk_vfail_field(struct walk *w, const char *path, const struct field *f, const char *fmt,
		     va_list ap)
{
	char key[WALK_KEY_PATH_MAX];

	walk_key_path(key, sizeof(key), path, f);
	return vfail(w, f->line, key, fmt, ap);
}

int walk_fail_field(struct walk *w, const char *path, const struct field *f, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = walk_vfail_field(w, path, f, fmt, ap);
	va_end(ap);
	return ret;
}

/* ---- nodes --------------------------------------------------------------- */

const char *walk_text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static bool is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	size_t i;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (i = 0; i < ARRAY_SIZE(nulls); i++)
		if (!strcmp(walk_text(n), nulls[i]))
			return true;
	return false;
}

int walk_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

const char *walk_kind(const yaml_node_t *n, char *buf, size_t len)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_SCALAR_NODE:
		if (is_null(n))
			return "an empty value";
		return value_quote(buf, len, walk_text(n));
	default:
		return "nothing";
	}
}

/* A YAML null stands for an empty list or mapping ("backends:" alone). */
int walk_expect_kind(struct walk *w, const char *path, const struct field *f, yaml_node_type_t t)
{
	char q[VALUE_QUOTE_BUF];

	if (f->node->type == t || is_null(f->node))
		return 0;
	return walk_fail_field(w, path, f, "expected %s, got %s",
			       t == YAML_MAPPING_NODE ? "a mapping" : "a list",
			       walk_kind(f->node, q, sizeof(q)));
}

int walk_scalar(struct walk *w, const char *path, const struct field *f, const char **text)
{
	yaml_node_t *n = f->node;
	char q[VALUE_QUOTE_BUF];

	if (n->type != YAML_SCALAR_NODE)
		return walk_fail_field(w, path, f, "expected a single value, got %s",
				       walk_kind(n, q, sizeof(q)));
	if (strlen(walk_text(n)) != n->data.scalar.length)
		return walk_fail_field(w, path, f, "contains a NUL character");
	*text = is_null(n) ? "" : walk_text(n);
	return 0;
}

size_t walk_seq_len(const yaml_node_t *n)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return 0;
	return n->data.sequence.items.top - n->data.sequence.items.start;
}

struct field walk_seq_item(struct walk *w, const yaml_node_t *seq, size_t i)
{
	yaml_node_t *n = yaml_document_get_node(&w->doc, seq->data.sequence.items.start[i]);

	return (struct field){ .index = i, .node = n, .line = walk_line(n) };
}

int walk_key_line(struct walk *w, const yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	if (map->type != YAML_MAPPING_NODE)
		return walk_line(map);
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&w->doc, p->key);

		if (k->type == YAML_SCALAR_NODE && !strcmp(walk_text(k), key))
			return walk_line(k);
	}
	return walk_line(map);
}

int walk_item_key_line(struct walk *w, const yaml_node_t *seq, size_t i, const char *key)
{
	return walk_key_line(w, walk_seq_item(w, seq, i).node, key);
}

/* ---- keys ---------------------------------------------------------------- */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[VALUE_QUOTE_MAX + 1];

	if (la > VALUE_QUOTE_MAX || lb > VALUE_QUOTE_MAX)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static int unknown_key(struct walk *w, const char *path, const yaml_node_t *k,
		       const char *const *keys, size_t n_keys)
{
	const char *name = walk_text(k);
	char shown[VALUE_QUOTE_BUF], key[WALK_KEY_PATH_MAX];
	const char *best = NULL;
	size_t i, d, best_d = 3;
	bool plain = strlen(name) <= VALUE_QUOTE_MAX && *name;

	for (i = 0; name[i]; i++)
		if (name[i] <= ' ' || name[i] >= 0x7f)
			plain = false;
	snprintf(key, sizeof(key), "%s%s%s", path, *path ? "." : "",
		 plain ? name : value_quote(shown, sizeof(shown), name));
	for (i = 0; i < n_keys; i++) {
		d = edit_distance(name, keys[i]);
		if (d < best_d && d < strlen(keys[i])) {
			best_d = d;
			best = keys[i];
		}
	}
	if (best)
		return walk_fail(w, walk_line(k), key, "unknown key (did you mean \"%s\"?)", best);
	return walk_fail(w, walk_line(k), key, "unknown key");
}

int walk_get_fields(struct walk *w, const char *path, const yaml_node_t *map,
		    const char *const *keys, size_t n_keys, struct field *out)
{
	yaml_node_pair_t *p;
	char q[VALUE_QUOTE_BUF];
	size_t i;

	for (i = 0; i < n_keys; i++)
		out[i] = (struct field){ .key = keys[i] };
	if (map->type != YAML_MAPPING_NODE)
		return 0;	/* a null: no keys */
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&w->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&w->doc, p->value);

		if (k->type != YAML_SCALAR_NODE || strlen(walk_text(k)) != k->data.scalar.length)
			return walk_fail(w, walk_line(k), *path ? path : "(root)",
					 "expected a key name, got %s", walk_kind(k, q, sizeof(q)));
		for (i = 0; i < n_keys; i++)
			if (!strcmp(keys[i], walk_text(k)))
				break;
		if (i == n_keys)
			return unknown_key(w, path, k, keys, n_keys);
		if (out[i].node) {
			struct field dup = { .key = keys[i], .line = walk_line(k) };

			return walk_fail_field(w, path, &dup, "duplicate key (first at line %d)",
					       out[i].line);
		}
		out[i].node = v;
		out[i].line = walk_line(k);
	}
	return 0;
}

int walk_require(struct walk *w, const char *path, const yaml_node_t *map, const struct field *f)
{
	struct field missing = *f;

	if (f->node)
		return 0;
	missing.line = walk_line(map);
	return walk_fail_field(w, path, &missing, "missing required key");
}

int walk_open_mapping(struct walk *w, const char *path, const struct field *f, char *sub,
		      const char *const *keys, size_t n_keys, struct field *out)
{
	int err;

	err = walk_expect_kind(w, path, f, YAML_MAPPING_NODE);
	if (err)
		return err;
	walk_key_path(sub, WALK_KEY_PATH_MAX, path, f);
	return walk_get_fields(w, sub, f->node, keys, n_keys, out);
}

/* ---- loading ------------------------------------------------------------- */

static int read_file(const char *path, char **out, size_t *out_len)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *nbuf;
	struct stat st;
	ssize_t r;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		goto out;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= WALK_FILE_MAX) {
				err = -EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 4096;
			nbuf = realloc(buf, cap + 1);
			if (!nbuf) {
				err = -ENOMEM;
				goto out;
			}
			buf = nbuf;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (!r)
			break;
		len += r;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

static int syntax_error(struct walk *w, const yaml_parser_t *p, const char *buf, size_t len)
{
	const char *problem = p->problem ? p->problem : "unknown error";
	size_t line, i;
	int o;

	if (p->error == YAML_MEMORY_ERROR)
		return walk_oom(w);
	if (!w->err || !w->err_len)
		return -EINVAL;
	if (p->error == YAML_READER_ERROR) {
		/* No mark for encoding errors: count lines up to the offset. */
		for (line = 1, i = 0; i < len && i < p->problem_offset; i++)
			line += buf[i] == '\n';
	} else {
		line = p->problem_mark.line + 1;
	}
	o = snprintf(w->err, w->err_len, "%s:%zu: YAML syntax error: %s", w->file, line, problem);
	if (p->context && o >= 0 && (size_t)o < w->err_len)
		snprintf(w->err + o, w->err_len - o, " (%s at line %zu)", p->context,
			 p->context_mark.line + 1);
	return -EINVAL;
}

int walk_load_buffer(struct walk *w, const char *name, const char *buf, size_t len, char *err,
		     size_t err_len, yaml_node_t **root)
{
	yaml_document_t extra;
	yaml_parser_t parser;
	yaml_node_t *second;
	int ret = 0;

	memset(w, 0, sizeof(*w));
	w->file = name;
	w->err = err;
	w->err_len = err_len;
	*root = NULL;
	if (!yaml_parser_initialize(&parser))
		return walk_oom(w);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &w->doc)) {
		ret = syntax_error(w, &parser, buf, len);
		goto out;
	}
	w->loaded = true;

	/* A second document would be silently ignored: refuse it. */
	if (!yaml_parser_load(&parser, &extra)) {
		ret = syntax_error(w, &parser, buf, len);
		goto out;
	}
	second = yaml_document_get_root_node(&extra);
	if (second)
		ret = walk_fail(w, walk_line(second), "(root)",
				"only one YAML document is allowed");
	yaml_document_delete(&extra);
	if (!ret)
		*root = yaml_document_get_root_node(&w->doc);
out:
	yaml_parser_delete(&parser);
	return ret;
}

int walk_load(struct walk *w, const char *file, char *err, size_t err_len, yaml_node_t **root)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	memset(w, 0, sizeof(*w));
	*root = NULL;
	ret = read_file(file, &buf, &len);
	if (ret) {
		if (err && err_len)
			snprintf(err, err_len, "%s: cannot read: %s", file, strerror(-ret));
		return ret;
	}
	ret = walk_load_buffer(w, file, buf, len, err, err_len, root);
	free(buf);
	return ret;
}

void walk_free(struct walk *w)
{
	if (w->loaded)
		yaml_document_delete(&w->doc);
	w->loaded = false;
}
