/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * config.c - read, validate and default the YAML configuration.
 *
 * The file is read whole, loaded with libyaml's document API and then walked
 * against a fixed schema. Each mapping is first checked for unknown and
 * duplicate keys; its values are then parsed in a fixed order, so that a
 * check which depends on another key (dsr needs mode l4, a backend's family
 * must be the VIP's) always finds that key already parsed. The first problem
 * stops the walk and is reported as one line "FILE:LINE: KEY: problem", LINE
 * being 1-based: the line of the key, of the list item, or of the enclosing
 * mapping when a required key is missing.
 *
 * Scalars are taken by their text whatever their YAML style (port: "80" is
 * port 80); a plain empty value, ~ or null reads as "" where a value is
 * expected and as an empty list or mapping where one is. Integers are decimal
 * without sign, booleans true/false, durations an integer and one unit
 * (ms, s, m, h, d). parse_duration_ms() accepts 0; the config rejects it where
 * 0 means nothing (TTLs, health interval and timeout, http connect_timeout).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "config.h"

#define CONFIG_FILE_MAX (4 << 20)	/* refuse absurd files before parsing them */
#define KEY_PATH_MAX 192
#define QUOTE_MAX 48			/* characters of a bad value echoed in an error */
#define QUOTE_BUF (QUOTE_MAX * 4 + 8)
#define IFNAME_MAX 15			/* IFNAMSIZ - 1 */
#define FLOW_TABLE_MIN 1024
#define FLOW_TABLE_MAX 67108864
#define RING_SIZE_MIN 3
#define HEALTH_COUNT_MAX 1000
#define COOKIE_DOMAIN_MAX 253

#define MS_PER_S 1000ULL
#define MS_PER_M (60 * MS_PER_S)
#define MS_PER_H (60 * MS_PER_M)
#define MS_PER_D (24 * MS_PER_H)

#define HTTP_CONNECT_TIMEOUT_MAX (60 * MS_PER_S)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct ctx {
	const char *file;
	yaml_document_t *doc;
	char *err;
	size_t err_len;
	size_t n_backends;	/* over all services, against LIMPET_MAX_BACKENDS */
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

/* ------------------------------------------------------------------------ */
/* Shared parsers                                                            */

/* Decimal digits only: no sign, no space, no base prefix. */
static int parse_u64(const char *text, __u64 max, __u64 *out)
{
	unsigned long long v;
	char *end;

	if (!text || *text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_duration_ms(const char *text, __u64 *ms)
{
	static const struct {
		const char *unit;
		__u64 ms;
	} units[] = {
		{ "ms", 1 }, { "s", MS_PER_S }, { "m", MS_PER_M }, { "h", MS_PER_H },
		{ "d", MS_PER_D },
	};
	const char *p = text;
	__u64 n = 0;
	size_t i;

	if (!text || *p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned int d = *p - '0';

		if (n > (UINT64_MAX - d) / 10)
			return -EINVAL;
		n = n * 10 + d;
	}
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(p, units[i].unit))
			continue;
		if (n > UINT64_MAX / units[i].ms)
			return -EINVAL;
		*ms = n * units[i].ms;
		return 0;
	}
	return -EINVAL;
}

int parse_ip_address(const char *text, struct ip_address *out)
{
	struct ip_address ip;

	if (!text || !out)
		return -EINVAL;
	memset(&ip, 0, sizeof(ip));
	if (inet_pton(AF_INET, text, &ip.addr.a[0]) == 1) {
		ip.family = LIMPET_FAMILY_V4;
	} else if (inet_pton(AF_INET6, text, ip.addr.a) == 1) {
		ip.family = LIMPET_FAMILY_V6;
	} else {
		return -EINVAL;
	}
	*out = ip;
	return 0;
}

int parse_port(const char *text, __u16 *port)
{
	__u64 v;

	if (parse_u64(text, 65535, &v) || v == 0)
		return -EINVAL;
	*port = v;
	return 0;
}

int parse_weight(const char *text, __u32 *weight)
{
	__u64 v;

	if (parse_u64(text, 65535, &v))
		return -EINVAL;
	*weight = v;
	return 0;
}

int format_ip_address(const struct ip_address *ip, char *buf, size_t len)
{
	const char *s;

	if (!ip || !buf)
		return -EINVAL;
	if (ip->family == LIMPET_FAMILY_V4)
		s = inet_ntop(AF_INET, &ip->addr.a[0], buf, len);
	else if (ip->family == LIMPET_FAMILY_V6)
		s = inet_ntop(AF_INET6, ip->addr.a, buf, len);
	else
		return -EINVAL;
	return s ? 0 : -ENOSPC;
}

bool is_prime(__u32 n)
{
	__u32 d;

	if (n < 2)
		return false;
	if (n % 2 == 0)
		return n == 2;
	for (d = 3; d <= n / d; d += 2)
		if (n % d == 0)
			return false;
	return true;
}

struct service_config *config_find_service(struct limpet_config *cfg, const char *name)
{
	size_t i;

	if (!cfg || !name)
		return NULL;
	for (i = 0; i < cfg->n_services; i++)
		if (!strcmp(cfg->services[i].name, name))
			return &cfg->services[i];
	return NULL;
}

struct backend_config *config_find_backend(struct service_config *svc, const char *name)
{
	size_t i;

	if (!svc || !name)
		return NULL;
	for (i = 0; i < svc->n_backends; i++)
		if (!strcmp(svc->backends[i].name, name))
			return &svc->backends[i];
	return NULL;
}

void config_free(struct limpet_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->n_services; i++)
		free(cfg->services[i].backends);
	free(cfg->services);
	free(cfg->interfaces);
	memset(cfg, 0, sizeof(*cfg));
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */

static int vfail(struct ctx *c, int line, const char *key, const char *fmt, va_list ap)
{
	char msg[CONFIG_ERR_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (c->err && c->err_len)
		snprintf(c->err, c->err_len, "%s:%d: %s: %s", c->file, line, key, msg);
	return -EINVAL;
}

static int __attribute__((format(printf, 4, 5)))
fail(struct ctx *c, int line, const char *key, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vfail(c, line, key, fmt, ap);
	va_end(ap);
	return ret;
}

static int oom(struct ctx *c)
{
	if (c->err && c->err_len)
		snprintf(c->err, c->err_len, "%s: out of memory", c->file);
	return -ENOMEM;
}

/* "services[0]" + field "port" -> "services[0].port"; + item 2 -> "services[0][2]". */
static void key_path(char *buf, size_t len, const char *path, const struct field *f)
{
	int n;

	if (f->key)
		n = snprintf(buf, len, "%s%s%s", path, *path ? "." : "", f->key);
	else
		n = snprintf(buf, len, "%s[%zu]", path, f->index);
	if (n >= (int)len && len > 4)
		strcpy(buf + len - 4, "...");
}

static int __attribute__((format(printf, 4, 5)))
fail_field(struct ctx *c, const char *path, const struct field *f, const char *fmt, ...)
{
	char key[KEY_PATH_MAX];
	va_list ap;
	int ret;

	key_path(key, sizeof(key), path, f);
	va_start(ap, fmt);
	ret = vfail(c, f->line, key, fmt, ap);
	va_end(ap);
	return ret;
}

/* Echo user text in an error: quoted, escaped, shortened; always one line. */
static const char *quote(char *buf, size_t len, const char *s)
{
	size_t o = 0, i;

	if (len < QUOTE_BUF)
		return "";
	buf[o++] = '"';
	for (i = 0; s[i] && i < QUOTE_MAX; i++) {
		unsigned char ch = s[i];

		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = ch;
		} else if (ch == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else if (ch == '\t') {
			buf[o++] = '\\';
			buf[o++] = 't';
		} else if (ch < 0x20 || ch == 0x7f) {
			o += snprintf(buf + o, len - o, "\\x%02x", ch);
		} else {
			buf[o++] = ch;
		}
	}
	if (s[i]) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* ------------------------------------------------------------------------ */
/* Nodes                                                                     */

static const char *node_text(const yaml_node_t *n)
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
		if (!strcmp(node_text(n), nulls[i]))
			return true;
	return false;
}

static int node_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static const char *kind(const yaml_node_t *n, char *buf, size_t len)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_SCALAR_NODE:
		if (is_null(n))
			return "an empty value";
		return quote(buf, len, node_text(n));
	default:
		return "nothing";
	}
}

/* A YAML null stands for an empty list or mapping ("backends:" alone). */
static int expect_kind(struct ctx *c, const char *path, const struct field *f, yaml_node_type_t t)
{
	char q[QUOTE_BUF];

	if (f->node->type == t || is_null(f->node))
		return 0;
	return fail_field(c, path, f, "expected %s, got %s",
			  t == YAML_MAPPING_NODE ? "a mapping" : "a list",
			  kind(f->node, q, sizeof(q)));
}

/* The text of a scalar field; "" for a YAML null. */
static int scalar(struct ctx *c, const char *path, const struct field *f, const char **text)
{
	yaml_node_t *n = f->node;
	char q[QUOTE_BUF];

	if (n->type != YAML_SCALAR_NODE)
		return fail_field(c, path, f, "expected a single value, got %s",
				  kind(n, q, sizeof(q)));
	if (strlen(node_text(n)) != n->data.scalar.length)
		return fail_field(c, path, f, "contains a NUL character");
	*text = is_null(n) ? "" : node_text(n);
	return 0;
}

static size_t seq_len(const yaml_node_t *n)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return 0;
	return n->data.sequence.items.top - n->data.sequence.items.start;
}

static struct field seq_item(struct ctx *c, const yaml_node_t *seq, size_t i)
{
	yaml_node_t *n = yaml_document_get_node(c->doc, seq->data.sequence.items.start[i]);

	return (struct field){ .index = i, .node = n, .line = node_line(n) };
}

/* The line of <key> in mapping <map>, or the mapping's own line. */
static int key_line(struct ctx *c, const yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	if (map->type != YAML_MAPPING_NODE)
		return node_line(map);
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);

		if (k->type == YAML_SCALAR_NODE && !strcmp(node_text(k), key))
			return node_line(k);
	}
	return node_line(map);
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[QUOTE_MAX + 1];

	if (la > QUOTE_MAX || lb > QUOTE_MAX)
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

static int unknown_key(struct ctx *c, const char *path, const yaml_node_t *k,
		       const char *const *keys, size_t n_keys)
{
	const char *name = node_text(k);
	char shown[QUOTE_BUF], key[KEY_PATH_MAX];
	const char *best = NULL;
	size_t i, d, best_d = 3;
	bool plain = strlen(name) <= QUOTE_MAX && *name;

	for (i = 0; name[i]; i++)
		if (name[i] <= ' ' || name[i] >= 0x7f)
			plain = false;
	snprintf(key, sizeof(key), "%s%s%s", path, *path ? "." : "",
		 plain ? name : quote(shown, sizeof(shown), name));
	for (i = 0; i < n_keys; i++) {
		d = edit_distance(name, keys[i]);
		if (d < best_d && d < strlen(keys[i])) {
			best_d = d;
			best = keys[i];
		}
	}
	if (best)
		return fail(c, node_line(k), key, "unknown key (did you mean \"%s\"?)", best);
	return fail(c, node_line(k), key, "unknown key");
}

/*
 * Match the keys of mapping <map> (at <path>) against <keys>: out[i] gets the
 * value of keys[i], or .node = NULL. Unknown and repeated keys are errors.
 */
static int get_fields(struct ctx *c, const char *path, const yaml_node_t *map,
		      const char *const *keys, size_t n_keys, struct field *out)
{
	yaml_node_pair_t *p;
	char q[QUOTE_BUF];
	size_t i;

	for (i = 0; i < n_keys; i++)
		out[i] = (struct field){ .key = keys[i] };
	if (map->type != YAML_MAPPING_NODE)
		return 0;	/* a null: no keys */
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(c->doc, p->value);

		if (k->type != YAML_SCALAR_NODE || strlen(node_text(k)) != k->data.scalar.length)
			return fail(c, node_line(k), *path ? path : "(root)",
				    "expected a key name, got %s", kind(k, q, sizeof(q)));
		for (i = 0; i < n_keys; i++)
			if (!strcmp(keys[i], node_text(k)))
				break;
		if (i == n_keys)
			return unknown_key(c, path, k, keys, n_keys);
		if (out[i].node) {
			struct field dup = { .key = keys[i], .line = node_line(k) };

			return fail_field(c, path, &dup, "duplicate key (first at line %d)",
					  out[i].line);
		}
		out[i].node = v;
		out[i].line = node_line(k);
	}
	return 0;
}

static int require(struct ctx *c, const char *path, const yaml_node_t *map,
		   const struct field *f)
{
	struct field missing = *f;

	if (f->node)
		return 0;
	missing.line = node_line(map);
	return fail_field(c, path, &missing, "missing required key");
}

/* ------------------------------------------------------------------------ */
/* Value parsers                                                             */

static int get_string(struct ctx *c, const char *path, const struct field *f, char *buf,
		      size_t size, bool (*ok)(const char *), const char *what)
{
	char q[QUOTE_BUF];
	const char *s;
	int err;

	err = scalar(c, path, f, &s);
	if (err)
		return err;
	if (ok && !ok(s))
		return fail_field(c, path, f, "expected %s, got %s", what, quote(q, sizeof(q), s));
	if (strlen(s) >= size)
		return fail_field(c, path, f, "too long (at most %zu characters), got %s",
				  size - 1, quote(q, sizeof(q), s));
	strcpy(buf, s);
	return 0;
}

static int get_uint(struct ctx *c, const char *path, const struct field *f, __u64 min, __u64 max,
		    __u64 *out)
{
	char q[QUOTE_BUF];
	const char *s;
	__u64 v;
	int err;

	err = scalar(c, path, f, &s);
	if (err)
		return err;
	if (parse_u64(s, max, &v) || v < min)
		return fail_field(c, path, f, "expected an integer %llu-%llu, got %s",
				  (unsigned long long)min, (unsigned long long)max,
				  quote(q, sizeof(q), s));
	*out = v;
	return 0;
}

static int get_u32(struct ctx *c, const char *path, const struct field *f, __u32 min, __u32 max,
		   __u32 *out)
{
	__u64 v;
	int err;

	err = get_uint(c, path, f, min, max, &v);
	if (!err)
		*out = v;
	return err;
}

/* <names> is indexed by the enum value; *out gets the index of the match. */
static int get_enum(struct ctx *c, const char *path, const struct field *f,
		    const char *const *names, size_t n, int *out)
{
	char q[QUOTE_BUF], list[128] = "";
	const char *s;
	size_t i, o = 0;
	int err;

	err = scalar(c, path, f, &s);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		if (!strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	}
	for (i = 0; i < n && o < sizeof(list); i++)
		o += snprintf(list + o, sizeof(list) - o, "%s%s", i ? " | " : "",
			      *names[i] ? names[i] : "\"\"");
	return fail_field(c, path, f, "expected %s%s, got %s", n > 2 ? "one of " : "", list,
			  quote(q, sizeof(q), s));
}

static int get_bool(struct ctx *c, const char *path, const struct field *f, bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	char q[QUOTE_BUF];
	const char *s;
	size_t i;
	int err;

	err = scalar(c, path, f, &s);
	if (err)
		return err;
	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return fail_field(c, path, f, "expected true or false, got %s", quote(q, sizeof(q), s));
}

static int get_duration(struct ctx *c, const char *path, const struct field *f, bool allow_zero,
			__u64 *ms)
{
	char q[QUOTE_BUF];
	const char *s;
	__u64 v;
	int err;

	err = scalar(c, path, f, &s);
	if (err)
		return err;
	if (parse_duration_ms(s, &v))
		return fail_field(c, path, f,
				  "expected a duration such as 500ms, 30s, 5m, 23h or 7d, got %s",
				  quote(q, sizeof(q), s));
	if (!v && !allow_zero)
		return fail_field(c, path, f, "must be greater than 0, got %s",
				  quote(q, sizeof(q), s));
	*ms = v;
	return 0;
}

/* A unicast address: not unspecified, multicast or IPv4 broadcast. */
static bool is_unicast(const struct ip_address *ip)
{
	const __u8 *b = (const __u8 *)ip->addr.a;

	if (ip->family == LIMPET_FAMILY_V4) {
		__u32 h = ntohl(ip->addr.a[0]);

		return h != 0 && (h >> 28) != 0xe && h != 0xffffffffu;
	}
	if (b[0] == 0xff)
		return false;
	return ip->addr.a[0] || ip->addr.a[1] || ip->addr.a[2] || ip->addr.a[3];
}

static int get_address(struct ctx *c, const char *path, const struct field *f,
		       struct ip_address *ip)
{
	char q[QUOTE_BUF];
	const char *s;
	int err;

	err = scalar(c, path, f, &s);
	if (err)
		return err;
	if (parse_ip_address(s, ip))
		return fail_field(c, path, f, "expected an IPv4 or IPv6 address, got %s",
				  quote(q, sizeof(q), s));
	if (!is_unicast(ip))
		return fail_field(c, path, f, "expected a unicast address, got %s",
				  quote(q, sizeof(q), s));
	return 0;
}

/* ------------------------------------------------------------------------ */
/* String validators                                                         */

static bool chars_ok(const char *s, size_t min, size_t max, const char *extra)
{
	size_t n = strlen(s), i;

	if (n < min || n > max)
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9'))
			continue;
		if (!strchr(extra, ch))
			return false;
	}
	return true;
}

static bool instance_ok(const char *s)
{
	return chars_ok(s, 1, LIMPET_NAME_MAX - 1, "_-");
}

static bool name_ok(const char *s)
{
	return chars_ok(s, 1, LIMPET_NAME_MAX - 1, "_.-");
}

/* RFC 9110 token: cookie and header names. */
static bool token_ok(const char *s)
{
	return chars_ok(s, 1, LIMPET_NAME_MAX - 1, "!#$%&'*+-.^_`|~");
}

static bool domain_ok(const char *s)
{
	return chars_ok(s, 0, COOKIE_DOMAIN_MAX, ".-");
}

/* RFC 6265 path-value: any CHAR but CTLs and ';'. */
static bool cookie_path_ok(const char *s)
{
	if (*s != '/')
		return false;
	for (; *s; s++)
		if (*s < 0x20 || *s >= 0x7f || *s == ';')
			return false;
	return true;
}

/* backend_header: "" (off) or a header name. */
static bool header_or_empty_ok(const char *s)
{
	return !*s || token_ok(s);
}

/* Goes into a request line: no space, no CTL. */
static bool http_path_ok(const char *s)
{
	if (*s != '/')
		return false;
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f)
			return false;
	return true;
}

static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f || *s == '/' || *s == ':')
			return false;
	return true;
}

static bool nonempty(const char *s)
{
	return *s;
}

/* "127.0.0.1:9100" or "[::1]:9100". */
static bool listen_ok(const char *s)
{
	char host[INET6_ADDRSTRLEN + 1];
	unsigned char a[16];
	const char *colon;
	__u16 port;
	size_t n;

	if (*s == '[') {
		colon = strstr(s, "]:");
		if (!colon)
			return false;
		n = colon - s - 1;
		if (n >= sizeof(host))
			return false;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		return inet_pton(AF_INET6, host, a) == 1 && !parse_port(colon + 2, &port);
	}
	colon = strrchr(s, ':');
	if (!colon)
		return false;
	n = colon - s;
	if (n >= sizeof(host))
		return false;
	memcpy(host, s, n);
	host[n] = '\0';
	return inet_pton(AF_INET, host, a) == 1 && !parse_port(colon + 1, &port);
}

/* ------------------------------------------------------------------------ */
/* Schema                                                                    */

static const char *const xdp_mode_names[] = {
	[XDP_MODE_CFG_NATIVE] = "native",
	[XDP_MODE_CFG_GENERIC] = "generic",
};
static const char *const mode_names[] = {
	[SERVICE_MODE_L4] = "l4",
	[SERVICE_MODE_HTTP] = "http",
};
static const char *const forwarding_names[] = {
	[LIMPET_FWD_NAT] = "nat",
	[LIMPET_FWD_DSR] = "dsr",
};
static const char *const affinity_names[] = {
	[LIMPET_AFFINITY_NONE] = "none",
	[LIMPET_AFFINITY_CLIENT_IP] = "client_ip",
	[LIMPET_AFFINITY_COOKIE] = "cookie",
	[LIMPET_AFFINITY_HEADER] = "header",
};
static const char *const fallback_names[] = {
	[FALLBACK_CLIENT_IP] = "client_ip",
	[FALLBACK_NONE] = "none",
};
static const char *const policy_names[] = {
	[POLICY_PIN] = "pin",
	[POLICY_REBALANCE] = "rebalance",
};
static const char *const failover_names[] = {
	[FAILOVER_NONE] = "none",
	[FAILOVER_TEMPORARY] = "temporary",
	[FAILOVER_STICKY] = "sticky",
};
static const char *const samesite_names[] = {
	[SAMESITE_UNSET] = "",
	[SAMESITE_LAX] = "lax",
	[SAMESITE_STRICT] = "strict",
	[SAMESITE_NONE] = "none",
};
static const char *const health_names[] = {
	[HEALTH_TCP] = "tcp",
	[HEALTH_HTTP] = "http",
	[HEALTH_NONE] = "none",
};
static const char *const protocol_names[] = { "tcp", "udp" };

/* The configuration words for a service's settings, as status prints them. */
const char *config_protocol_name(__u8 protocol)
{
	return protocol_names[protocol == IPPROTO_UDP];
}

const char *config_mode_name(enum service_mode mode)
{
	return mode_names[mode];
}

const char *config_forwarding_name(enum limpet_forwarding forwarding)
{
	return forwarding_names[forwarding];
}

const char *config_affinity_name(enum limpet_affinity type)
{
	return affinity_names[type];
}

enum { T_INSTANCE, T_INTERFACES, T_SECRET_FILE, T_METRICS, T_FLOW_TABLE_SIZE, T_SERVICES, T_MAX };
static const char *const top_keys[T_MAX] = {
	[T_INSTANCE] = "instance",
	[T_INTERFACES] = "interfaces",
	[T_SECRET_FILE] = "secret_file",
	[T_METRICS] = "metrics",
	[T_FLOW_TABLE_SIZE] = "flow_table_size",
	[T_SERVICES] = "services",
};

enum { I_NAME, I_XDP_MODE, I_MAX };
static const char *const interface_keys[I_MAX] = {
	[I_NAME] = "name",
	[I_XDP_MODE] = "xdp_mode",
};

enum { M_LISTEN, M_MAX };
static const char *const metrics_keys[M_MAX] = {
	[M_LISTEN] = "listen",
};

enum {
	S_NAME, S_VIP, S_PORT, S_PROTOCOL, S_MODE, S_FORWARDING, S_AFFINITY, S_FAILOVER,
	S_DRAIN_TIMEOUT, S_RING_SIZE, S_HEALTH, S_HTTP, S_BACKENDS, S_MAX
};
static const char *const service_keys[S_MAX] = {
	[S_NAME] = "name",
	[S_VIP] = "vip",
	[S_PORT] = "port",
	[S_PROTOCOL] = "protocol",
	[S_MODE] = "mode",
	[S_FORWARDING] = "forwarding",
	[S_AFFINITY] = "affinity",
	[S_FAILOVER] = "failover",
	[S_DRAIN_TIMEOUT] = "drain_timeout",
	[S_RING_SIZE] = "ring_size",
	[S_HEALTH] = "health",
	[S_HTTP] = "http",
	[S_BACKENDS] = "backends",
};

enum { A_TYPE, A_FALLBACK, A_POLICY, A_COOKIE, A_HEADERS, A_REQUIRE_ALL, A_IDLE_TTL, A_MAX };
static const char *const affinity_keys[A_MAX] = {
	[A_TYPE] = "type",
	[A_FALLBACK] = "fallback",
	[A_POLICY] = "policy",
	[A_COOKIE] = "cookie",
	[A_HEADERS] = "headers",
	[A_REQUIRE_ALL] = "require_all_headers",
	[A_IDLE_TTL] = "idle_ttl",
};

enum { C_NAME, C_TTL, C_PATH, C_DOMAIN, C_SECURE, C_SAMESITE, C_MAX };
static const char *const cookie_keys[C_MAX] = {
	[C_NAME] = "name",
	[C_TTL] = "ttl",
	[C_PATH] = "path",
	[C_DOMAIN] = "domain",
	[C_SECURE] = "secure",
	[C_SAMESITE] = "samesite",
};

enum { H_TYPE, H_PATH, H_EXPECT, H_INTERVAL, H_TIMEOUT, H_RISE, H_FALL, H_MAX };
static const char *const health_keys[H_MAX] = {
	[H_TYPE] = "type",
	[H_PATH] = "path",
	[H_EXPECT] = "expect",
	[H_INTERVAL] = "interval",
	[H_TIMEOUT] = "timeout",
	[H_RISE] = "rise",
	[H_FALL] = "fall",
};

enum { HT_CONNECT_TIMEOUT, HT_BACKEND_HEADER, HT_MAX };
static const char *const http_keys[HT_MAX] = {
	[HT_CONNECT_TIMEOUT] = "connect_timeout",
	[HT_BACKEND_HEADER] = "backend_header",
};

/*
 * Header names that backend_header may not take: a second one of these in a
 * response head would change how the client frames the body or treats the
 * connection.
 */
static const char *const reserved_headers[] = {
	"Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive",
	"Proxy-Connection", "Upgrade", "Trailer",
};

enum { B_NAME, B_ADDRESS, B_PORT, B_WEIGHT, B_MAX };
static const char *const backend_keys[B_MAX] = {
	[B_NAME] = "name",
	[B_ADDRESS] = "address",
	[B_PORT] = "port",
	[B_WEIGHT] = "weight",
};

#define NAME_WHAT "a name of 1-63 characters from [A-Za-z0-9_.-]"

/* ------------------------------------------------------------------------ */
/* Sections                                                                  */

/* Open the mapping of field <f> (at <path>): its key path, then its fields. */
static int open_mapping(struct ctx *c, const char *path, const struct field *f, char *sub,
			const char *const *keys, size_t n_keys, struct field *out)
{
	int err;

	err = expect_kind(c, path, f, YAML_MAPPING_NODE);
	if (err)
		return err;
	key_path(sub, KEY_PATH_MAX, path, f);
	return get_fields(c, sub, f->node, keys, n_keys, out);
}

static int parse_interfaces(struct ctx *c, const struct field *f, struct limpet_config *cfg)
{
	char path[KEY_PATH_MAX], sub[KEY_PATH_MAX], q[QUOTE_BUF];
	size_t n, i, j;
	int err, v;

	err = expect_kind(c, "", f, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	n = seq_len(f->node);
	if (!n)
		return fail_field(c, "", f, "at least one interface is required");
	cfg->interfaces = calloc(n, sizeof(*cfg->interfaces));
	if (!cfg->interfaces)
		return oom(c);
	cfg->n_interfaces = n;
	key_path(path, sizeof(path), "", f);

	for (i = 0; i < n; i++) {
		struct interface_config *ifc = &cfg->interfaces[i];
		struct field item = seq_item(c, f->node, i), fl[I_MAX];

		err = open_mapping(c, path, &item, sub, interface_keys, I_MAX, fl);
		if (!err)
			err = require(c, sub, item.node, &fl[I_NAME]);
		if (!err)
			err = get_string(c, sub, &fl[I_NAME], ifc->name, sizeof(ifc->name),
					 ifname_ok, "an interface name of 1-15 characters");
		if (err)
			return err;
		for (j = 0; j < i; j++) {
			if (strcmp(cfg->interfaces[j].name, ifc->name))
				continue;
			return fail_field(c, sub, &fl[I_NAME],
					  "duplicate interface %s (first at line %d)",
					  quote(q, sizeof(q), ifc->name),
					  key_line(c, seq_item(c, f->node, j).node, "name"));
		}
		ifc->xdp_mode = XDP_MODE_CFG_NATIVE;
		if (fl[I_XDP_MODE].node) {
			err = get_enum(c, sub, &fl[I_XDP_MODE], xdp_mode_names,
				       ARRAY_SIZE(xdp_mode_names), &v);
			if (err)
				return err;
			ifc->xdp_mode = v;
		}
	}
	return 0;
}

static int parse_metrics(struct ctx *c, const struct field *f, struct metrics_config *m)
{
	char sub[KEY_PATH_MAX];
	struct field fl[M_MAX];
	int err;

	err = open_mapping(c, "", f, sub, metrics_keys, M_MAX, fl);
	if (err || !fl[M_LISTEN].node)
		return err;
	err = get_string(c, sub, &fl[M_LISTEN], m->listen, sizeof(m->listen), listen_ok,
			 "host:port such as 127.0.0.1:9100 or [::1]:9100");
	if (!err)
		m->enabled = true;
	return err;
}

static int parse_cookie(struct ctx *c, const char *path, const struct field *f,
			struct cookie_config *ck)
{
	char sub[KEY_PATH_MAX];
	struct field fl[C_MAX];
	int err, v;

	err = open_mapping(c, path, f, sub, cookie_keys, C_MAX, fl);
	if (err)
		return err;
	if (fl[C_NAME].node) {
		err = get_string(c, sub, &fl[C_NAME], ck->name, sizeof(ck->name), token_ok,
				 "a cookie name of 1-63 token characters");
		if (err)
			return err;
	}
	if (fl[C_TTL].node) {
		err = get_duration(c, sub, &fl[C_TTL], false, &ck->ttl_ms);
		if (err)
			return err;
	}
	if (fl[C_PATH].node) {
		err = get_string(c, sub, &fl[C_PATH], ck->path, sizeof(ck->path), cookie_path_ok,
				 "a path starting with / without ';' or control characters");
		if (err)
			return err;
	}
	if (fl[C_DOMAIN].node) {
		err = get_string(c, sub, &fl[C_DOMAIN], ck->domain, sizeof(ck->domain), domain_ok,
				 "a domain name of [A-Za-z0-9.-] or \"\"");
		if (err)
			return err;
	}
	if (fl[C_SECURE].node) {
		err = get_bool(c, sub, &fl[C_SECURE], &ck->secure);
		if (err)
			return err;
	}
	if (fl[C_SAMESITE].node) {
		err = get_enum(c, sub, &fl[C_SAMESITE], samesite_names,
			       ARRAY_SIZE(samesite_names), &v);
		if (err)
			return err;
		ck->samesite = v;
	}
	/* Browsers drop a SameSite=None cookie that is not Secure. */
	if (ck->samesite == SAMESITE_NONE)
		ck->secure = true;
	return 0;
}

static int parse_headers(struct ctx *c, const char *path, const struct field *f,
			 struct affinity_config *a)
{
	char sub[KEY_PATH_MAX], q[QUOTE_BUF];
	size_t n, i, j;
	int err;

	err = expect_kind(c, path, f, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	n = seq_len(f->node);
	if (n > CONFIG_MAX_HEADERS)
		return fail_field(c, path, f, "at most %d headers, got %zu", CONFIG_MAX_HEADERS, n);
	key_path(sub, sizeof(sub), path, f);
	for (i = 0; i < n; i++) {
		struct field item = seq_item(c, f->node, i);

		err = get_string(c, sub, &item, a->headers[i], sizeof(a->headers[i]), token_ok,
				 "a header name of 1-63 token characters");
		if (err)
			return err;
		for (j = 0; j < i; j++)
			if (!strcasecmp(a->headers[j], a->headers[i]))
				return fail_field(c, sub, &item,
						  "duplicate header %s (first at line %d)",
						  quote(q, sizeof(q), a->headers[i]),
						  seq_item(c, f->node, j).line);
	}
	a->n_headers = n;
	return 0;
}

static int parse_affinity(struct ctx *c, const char *path, const struct field *f,
			  struct service_config *svc)
{
	struct affinity_config *a = &svc->affinity;
	char sub[KEY_PATH_MAX];
	struct field fl[A_MAX];
	int err, v;

	err = open_mapping(c, path, f, sub, affinity_keys, A_MAX, fl);
	if (err)
		return err;
	if (fl[A_TYPE].node) {
		err = get_enum(c, sub, &fl[A_TYPE], affinity_names, ARRAY_SIZE(affinity_names),
			       &v);
		if (err)
			return err;
		a->type = v;
		if ((a->type == LIMPET_AFFINITY_COOKIE || a->type == LIMPET_AFFINITY_HEADER) &&
		    svc->mode != SERVICE_MODE_HTTP)
			return fail_field(c, sub, &fl[A_TYPE], "%s requires mode http",
					  affinity_names[a->type]);
	}
	if (fl[A_FALLBACK].node) {
		err = get_enum(c, sub, &fl[A_FALLBACK], fallback_names, ARRAY_SIZE(fallback_names),
			       &v);
		if (err)
			return err;
		a->fallback = v;
	}
	if (fl[A_POLICY].node) {
		err = get_enum(c, sub, &fl[A_POLICY], policy_names, ARRAY_SIZE(policy_names), &v);
		if (err)
			return err;
		a->policy = v;
	}
	if (fl[A_COOKIE].node) {
		err = parse_cookie(c, sub, &fl[A_COOKIE], &a->cookie);
		if (err)
			return err;
	}
	if (fl[A_HEADERS].node) {
		err = parse_headers(c, sub, &fl[A_HEADERS], a);
		if (err)
			return err;
	}
	if (a->type == LIMPET_AFFINITY_HEADER && !a->n_headers) {
		struct field h = fl[A_HEADERS];

		h.line = h.node ? h.line : node_line(f->node);
		return fail_field(c, sub, &h, "affinity type header needs at least one header");
	}
	if (fl[A_REQUIRE_ALL].node) {
		err = get_bool(c, sub, &fl[A_REQUIRE_ALL], &a->require_all_headers);
		if (err)
			return err;
	}
	if (fl[A_IDLE_TTL].node) {
		err = get_duration(c, sub, &fl[A_IDLE_TTL], false, &a->idle_ttl_ms);
		if (err)
			return err;
	}
	return 0;
}

static int parse_health(struct ctx *c, const char *path, const struct field *f,
			struct health_config *h)
{
	char sub[KEY_PATH_MAX];
	struct field fl[H_MAX];
	int err, v;

	err = open_mapping(c, path, f, sub, health_keys, H_MAX, fl);
	if (err)
		return err;
	if (fl[H_TYPE].node) {
		err = get_enum(c, sub, &fl[H_TYPE], health_names, ARRAY_SIZE(health_names), &v);
		if (err)
			return err;
		h->type = v;
	}
	if (fl[H_PATH].node) {
		err = get_string(c, sub, &fl[H_PATH], h->path, sizeof(h->path), http_path_ok,
				 "a path starting with / without spaces or control characters");
		if (err)
			return err;
	}
	if (fl[H_EXPECT].node) {
		err = get_u32(c, sub, &fl[H_EXPECT], 100, 599, &h->expect);
		if (err)
			return err;
	}
	if (fl[H_INTERVAL].node) {
		err = get_duration(c, sub, &fl[H_INTERVAL], false, &h->interval_ms);
		if (err)
			return err;
	}
	if (fl[H_TIMEOUT].node) {
		err = get_duration(c, sub, &fl[H_TIMEOUT], false, &h->timeout_ms);
		if (err)
			return err;
	}
	if (fl[H_RISE].node) {
		err = get_u32(c, sub, &fl[H_RISE], 1, HEALTH_COUNT_MAX, &h->rise);
		if (err)
			return err;
	}
	if (fl[H_FALL].node) {
		err = get_u32(c, sub, &fl[H_FALL], 1, HEALTH_COUNT_MAX, &h->fall);
		if (err)
			return err;
	}
	return 0;
}

static int parse_http(struct ctx *c, const char *path, const struct field *f,
		      struct http_config *h)
{
	char sub[KEY_PATH_MAX], q[QUOTE_BUF];
	struct field fl[HT_MAX];
	size_t i;
	int err;

	err = open_mapping(c, path, f, sub, http_keys, HT_MAX, fl);
	if (err)
		return err;
	if (fl[HT_CONNECT_TIMEOUT].node) {
		err = get_duration(c, sub, &fl[HT_CONNECT_TIMEOUT], false, &h->connect_timeout_ms);
		if (err)
			return err;
		if (h->connect_timeout_ms > HTTP_CONNECT_TIMEOUT_MAX) {
			const char *s = node_text(fl[HT_CONNECT_TIMEOUT].node);

			return fail_field(c, sub, &fl[HT_CONNECT_TIMEOUT],
					  "must be at most 60s, got %s", quote(q, sizeof(q), s));
		}
	}
	if (fl[HT_BACKEND_HEADER].node) {
		err = get_string(c, sub, &fl[HT_BACKEND_HEADER], h->backend_header,
				 sizeof(h->backend_header), header_or_empty_ok,
				 "a header name of 1-63 token characters or \"\"");
		if (err)
			return err;
		for (i = 0; i < ARRAY_SIZE(reserved_headers); i++)
			if (!strcasecmp(h->backend_header, reserved_headers[i]))
				return fail_field(c, sub, &fl[HT_BACKEND_HEADER],
						  "%s would change how the response is framed or "
						  "the connection kept; use another name such as "
						  "X-Limpet-Backend",
						  quote(q, sizeof(q), h->backend_header));
	}
	return 0;
}

static bool ip_equal(const struct ip_address *a, const struct ip_address *b)
{
	return a->family == b->family && !memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

static const char *family_name(__u8 family)
{
	return family == LIMPET_FAMILY_V4 ? "IPv4" : "IPv6";
}

static int parse_backend(struct ctx *c, const char *path, const struct field *item,
			 const yaml_node_t *seq, struct service_config *svc, size_t i)
{
	struct backend_config *b = &svc->backends[i];
	char sub[KEY_PATH_MAX], q[QUOTE_BUF], addr[INET6_ADDRSTRLEN];
	struct field fl[B_MAX];
	size_t j;
	int err;

	err = open_mapping(c, path, item, sub, backend_keys, B_MAX, fl);
	if (!err)
		err = require(c, sub, item->node, &fl[B_NAME]);
	if (!err)
		err = require(c, sub, item->node, &fl[B_ADDRESS]);
	if (!err)
		err = get_string(c, sub, &fl[B_NAME], b->name, sizeof(b->name), name_ok,
				 NAME_WHAT);
	if (err)
		return err;
	for (j = 0; j < i; j++)
		if (!strcmp(svc->backends[j].name, b->name))
			return fail_field(c, sub, &fl[B_NAME],
					  "duplicate backend name %s (first at line %d)",
					  quote(q, sizeof(q), b->name),
					  key_line(c, seq_item(c, seq, j).node, "name"));

	err = get_address(c, sub, &fl[B_ADDRESS], &b->address);
	if (err)
		return err;
	if (b->address.family != svc->vip.family) {
		format_ip_address(&b->address, addr, sizeof(addr));
		return fail_field(c, sub, &fl[B_ADDRESS], "%s address %s in an %s service",
				  family_name(b->address.family), addr,
				  family_name(svc->vip.family));
	}

	b->port = svc->port;
	if (fl[B_PORT].node) {
		__u64 v;

		err = get_uint(c, sub, &fl[B_PORT], 1, 65535, &v);
		if (err)
			return err;
		b->port = v;
	}
	if (svc->forwarding == LIMPET_FWD_DSR && b->port != svc->port)
		return fail_field(c, sub, &fl[B_PORT],
				  "dsr requires the service port %u, got %u", svc->port, b->port);

	for (j = 0; j < i; j++) {
		const struct backend_config *o = &svc->backends[j];

		if (o->port != b->port || !ip_equal(&o->address, &b->address))
			continue;
		return fail_field(c, sub, &fl[B_ADDRESS],
				  "same address and port as backend %s (line %d)",
				  quote(q, sizeof(q), o->name),
				  key_line(c, seq_item(c, seq, j).node, "address"));
	}

	b->weight = 1;
	if (fl[B_WEIGHT].node) {
		err = get_u32(c, sub, &fl[B_WEIGHT], 0, 65535, &b->weight);
		if (err)
			return err;
	}
	return 0;
}

static int parse_backends(struct ctx *c, const char *path, const struct field *f,
			  struct service_config *svc)
{
	char sub[KEY_PATH_MAX];
	size_t n, i;
	int err;

	err = expect_kind(c, path, f, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	n = seq_len(f->node);
	c->n_backends += n;
	if (c->n_backends > LIMPET_MAX_BACKENDS)
		return fail_field(c, path, f, "too many backends: %zu in all services, at most %d",
				  c->n_backends, LIMPET_MAX_BACKENDS);
	if (!n)
		return 0;
	svc->backends = calloc(n, sizeof(*svc->backends));
	if (!svc->backends)
		return oom(c);
	svc->n_backends = n;
	key_path(sub, sizeof(sub), path, f);
	for (i = 0; i < n; i++) {
		struct field item = seq_item(c, f->node, i);

		err = parse_backend(c, sub, &item, f->node, svc, i);
		if (err)
			return err;
	}
	return 0;
}

static void service_defaults(struct service_config *svc)
{
	struct affinity_config *a = &svc->affinity;
	struct health_config *h = &svc->health;

	svc->protocol = IPPROTO_TCP;
	svc->mode = SERVICE_MODE_L4;
	svc->forwarding = LIMPET_FWD_NAT;
	a->type = LIMPET_AFFINITY_CLIENT_IP;
	a->fallback = FALLBACK_CLIENT_IP;
	a->policy = POLICY_PIN;
	strcpy(a->cookie.name, "limpet");
	a->cookie.ttl_ms = 23 * MS_PER_H;
	strcpy(a->cookie.path, "/");
	a->cookie.samesite = SAMESITE_UNSET;
	a->idle_ttl_ms = 30 * MS_PER_M;
	svc->failover = FAILOVER_TEMPORARY;
	svc->drain_timeout_ms = 5 * MS_PER_M;
	svc->ring_size = LIMPET_RING_SIZE_DEFAULT;
	h->type = HEALTH_TCP;
	strcpy(h->path, "/");
	h->expect = 200;
	h->interval_ms = 2 * MS_PER_S;
	h->timeout_ms = 1 * MS_PER_S;
	h->rise = 2;
	h->fall = 3;
	svc->http.connect_timeout_ms = 2 * MS_PER_S;
	svc->http.backend_header[0] = '\0';
}

static __u32 next_prime(__u32 n)
{
	while (n < LIMPET_RING_SIZE_MAX && !is_prime(n))
		n++;
	return n;
}

static int parse_ring_size(struct ctx *c, const char *path, const struct field *f, __u32 *out)
{
	char q[QUOTE_BUF];
	const char *s;
	__u64 v;
	int err;

	err = scalar(c, path, f, &s);
	if (err)
		return err;
	if (parse_u64(s, LIMPET_RING_SIZE_MAX, &v) || v < RING_SIZE_MIN)
		return fail_field(c, path, f, "expected a prime %d-%d, got %s", RING_SIZE_MIN,
				  LIMPET_RING_SIZE_MAX, quote(q, sizeof(q), s));
	if (!is_prime(v))
		return fail_field(c, path, f, "expected a prime %d-%d, got %s (next prime: %u)",
				  RING_SIZE_MIN, LIMPET_RING_SIZE_MAX, quote(q, sizeof(q), s),
				  next_prime(v));
	*out = v;
	return 0;
}

static int parse_service(struct ctx *c, const char *path, const struct field *item,
			 const yaml_node_t *seq, struct limpet_config *cfg, size_t i)
{
	struct service_config *svc = &cfg->services[i];
	char sub[KEY_PATH_MAX], q[QUOTE_BUF], addr[INET6_ADDRSTRLEN];
	struct field fl[S_MAX];
	size_t j;
	int err, v;

	service_defaults(svc);
	err = open_mapping(c, path, item, sub, service_keys, S_MAX, fl);
	if (!err)
		err = require(c, sub, item->node, &fl[S_NAME]);
	if (!err)
		err = require(c, sub, item->node, &fl[S_VIP]);
	if (!err)
		err = require(c, sub, item->node, &fl[S_PORT]);
	if (!err)
		err = require(c, sub, item->node, &fl[S_BACKENDS]);
	if (!err)
		err = get_string(c, sub, &fl[S_NAME], svc->name, sizeof(svc->name), name_ok,
				 NAME_WHAT);
	if (err)
		return err;
	for (j = 0; j < i; j++)
		if (!strcmp(cfg->services[j].name, svc->name))
			return fail_field(c, sub, &fl[S_NAME],
					  "duplicate service name %s (first at line %d)",
					  quote(q, sizeof(q), svc->name),
					  key_line(c, seq_item(c, seq, j).node, "name"));

	err = get_address(c, sub, &fl[S_VIP], &svc->vip);
	if (!err) {
		__u64 port;

		err = get_uint(c, sub, &fl[S_PORT], 1, 65535, &port);
		svc->port = port;
	}
	if (err)
		return err;

	if (fl[S_MODE].node) {
		err = get_enum(c, sub, &fl[S_MODE], mode_names, ARRAY_SIZE(mode_names), &v);
		if (err)
			return err;
		svc->mode = v;
	}
	if (fl[S_PROTOCOL].node) {
		err = get_enum(c, sub, &fl[S_PROTOCOL], protocol_names,
			       ARRAY_SIZE(protocol_names), &v);
		if (err)
			return err;
		svc->protocol = v ? IPPROTO_UDP : IPPROTO_TCP;
		if (svc->protocol == IPPROTO_UDP && svc->mode != SERVICE_MODE_L4)
			return fail_field(c, sub, &fl[S_PROTOCOL], "udp requires mode l4");
	}
	if (fl[S_FORWARDING].node) {
		err = get_enum(c, sub, &fl[S_FORWARDING], forwarding_names,
			       ARRAY_SIZE(forwarding_names), &v);
		if (err)
			return err;
		svc->forwarding = v;
		if (svc->forwarding == LIMPET_FWD_DSR && svc->mode != SERVICE_MODE_L4)
			return fail_field(c, sub, &fl[S_FORWARDING], "dsr requires mode l4");
	}

	for (j = 0; j < i; j++) {
		const struct service_config *o = &cfg->services[j];

		if (o->port != svc->port || o->protocol != svc->protocol ||
		    !ip_equal(&o->vip, &svc->vip))
			continue;
		format_ip_address(&svc->vip, addr, sizeof(addr));
		return fail_field(c, sub, &fl[S_VIP],
				  "%s port %u/%s is already used by service %s (line %d)", addr,
				  svc->port, svc->protocol == IPPROTO_UDP ? "udp" : "tcp",
				  quote(q, sizeof(q), o->name),
				  key_line(c, seq_item(c, seq, j).node, "vip"));
	}

	if (fl[S_AFFINITY].node) {
		err = parse_affinity(c, sub, &fl[S_AFFINITY], svc);
		if (err)
			return err;
	}
	if (fl[S_FAILOVER].node) {
		err = get_enum(c, sub, &fl[S_FAILOVER], failover_names,
			       ARRAY_SIZE(failover_names), &v);
		if (err)
			return err;
		svc->failover = v;
	}
	if (fl[S_DRAIN_TIMEOUT].node) {
		/* 0: a drained backend loses its sessions at once. */
		err = get_duration(c, sub, &fl[S_DRAIN_TIMEOUT], true, &svc->drain_timeout_ms);
		if (err)
			return err;
	}
	if (fl[S_RING_SIZE].node) {
		err = parse_ring_size(c, sub, &fl[S_RING_SIZE], &svc->ring_size);
		if (err)
			return err;
	}
	/* A TCP connect says nothing about a UDP service: unless the file asks
	 * for a check, a UDP service has none (a tcp default would fail on
	 * every backend and take the whole service out).
	 */
	if (svc->protocol == IPPROTO_UDP)
		svc->health.type = HEALTH_NONE;
	if (fl[S_HEALTH].node) {
		err = parse_health(c, sub, &fl[S_HEALTH], &svc->health);
		if (err)
			return err;
	}
	if (fl[S_HTTP].node) {
		if (svc->mode != SERVICE_MODE_HTTP)
			return fail_field(c, sub, &fl[S_HTTP], "requires mode http");
		err = parse_http(c, sub, &fl[S_HTTP], &svc->http);
		if (err)
			return err;
	}
	err = parse_backends(c, sub, &fl[S_BACKENDS], svc);
	if (err)
		return err;
	if (svc->n_backends > svc->ring_size) {
		const struct field *at = fl[S_RING_SIZE].node ? &fl[S_RING_SIZE] : &fl[S_BACKENDS];

		return fail_field(c, sub, at, "ring_size %u is smaller than the %zu backends",
				  svc->ring_size, svc->n_backends);
	}
	return 0;
}

static int parse_services(struct ctx *c, const struct field *f, struct limpet_config *cfg)
{
	char path[KEY_PATH_MAX];
	size_t n, i;
	int err;

	err = expect_kind(c, "", f, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	n = seq_len(f->node);
	if (n > LIMPET_MAX_SERVICES)
		return fail_field(c, "", f, "at most %d services, got %zu", LIMPET_MAX_SERVICES, n);
	if (!n)
		return 0;
	cfg->services = calloc(n, sizeof(*cfg->services));
	if (!cfg->services)
		return oom(c);
	cfg->n_services = n;
	key_path(path, sizeof(path), "", f);
	for (i = 0; i < n; i++) {
		struct field item = seq_item(c, f->node, i);

		err = parse_service(c, path, &item, f->node, cfg, i);
		if (err)
			return err;
	}
	return 0;
}

static int parse_root(struct ctx *c, yaml_node_t *root, struct limpet_config *cfg)
{
	struct field fl[T_MAX];
	char q[QUOTE_BUF];
	__u64 v;
	int err;

	if (root->type != YAML_MAPPING_NODE)
		return fail(c, node_line(root), "(root)", "expected a mapping, got %s",
			    kind(root, q, sizeof(q)));
	err = get_fields(c, "", root, top_keys, T_MAX, fl);
	if (err)
		return err;

	strcpy(cfg->instance, "limpet");
	strcpy(cfg->secret_file, "/etc/limpet/secret");
	cfg->flow_table_size = LIMPET_FLOW_TABLE_DEFAULT;

	if (fl[T_INSTANCE].node) {
		err = get_string(c, "", &fl[T_INSTANCE], cfg->instance, sizeof(cfg->instance),
				 instance_ok, "a name of 1-63 characters from [A-Za-z0-9_-]");
		if (err)
			return err;
	}
	err = require(c, "", root, &fl[T_INTERFACES]);
	if (!err)
		err = parse_interfaces(c, &fl[T_INTERFACES], cfg);
	if (err)
		return err;
	if (fl[T_SECRET_FILE].node) {
		err = get_string(c, "", &fl[T_SECRET_FILE], cfg->secret_file,
				 sizeof(cfg->secret_file), nonempty, "a file name");
		if (err)
			return err;
	}
	if (fl[T_METRICS].node) {
		err = parse_metrics(c, &fl[T_METRICS], &cfg->metrics);
		if (err)
			return err;
	}
	if (fl[T_FLOW_TABLE_SIZE].node) {
		err = get_uint(c, "", &fl[T_FLOW_TABLE_SIZE], FLOW_TABLE_MIN, FLOW_TABLE_MAX, &v);
		if (err)
			return err;
		cfg->flow_table_size = v;
	}
	if (fl[T_SERVICES].node)
		return parse_services(c, &fl[T_SERVICES], cfg);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                   */

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
			if (cap >= CONFIG_FILE_MAX) {
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

static int syntax_error(struct ctx *c, const yaml_parser_t *p, const char *buf, size_t len)
{
	const char *problem = p->problem ? p->problem : "unknown error";
	size_t line, i;
	int o;

	if (p->error == YAML_MEMORY_ERROR)
		return oom(c);
	if (!c->err || !c->err_len)
		return -EINVAL;
	if (p->error == YAML_READER_ERROR) {
		/* No mark for encoding errors: count lines up to the offset. */
		for (line = 1, i = 0; i < len && i < p->problem_offset; i++)
			line += buf[i] == '\n';
	} else {
		line = p->problem_mark.line + 1;
	}
	o = snprintf(c->err, c->err_len, "%s:%zu: YAML syntax error: %s", c->file, line, problem);
	if (p->context && o >= 0 && (size_t)o < c->err_len)
		snprintf(c->err + o, c->err_len - o, " (%s at line %zu)", p->context,
			 p->context_mark.line + 1);
	return -EINVAL;
}

/*
 * Parse <buf> (<len> bytes, NUL-terminated at buf[len]) read from <name>;
 * the body of both loaders.
 */
static int load_text(const char *name, const char *buf, size_t len, struct limpet_config *cfg,
		     char *err, size_t err_len)
{
	struct ctx c = { .file = name, .err = err, .err_len = err_len };
	yaml_document_t doc, extra;
	yaml_parser_t parser;
	yaml_node_t *root;
	int ret = 0;

	strcpy(cfg->path, name);
	if (!yaml_parser_initialize(&parser))
		return oom(&c);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		ret = syntax_error(&c, &parser, buf, len);
		goto out_parser;
	}
	c.doc = &doc;

	/* A second document would be silently ignored: refuse it. */
	if (!yaml_parser_load(&parser, &extra)) {
		ret = syntax_error(&c, &parser, buf, len);
		goto out_doc;
	}
	root = yaml_document_get_root_node(&extra);
	if (root)
		ret = fail(&c, node_line(root), "(root)", "only one YAML document is allowed");
	yaml_document_delete(&extra);
	if (ret)
		goto out_doc;

	root = yaml_document_get_root_node(&doc);
	if (!root)
		ret = fail(&c, 1, "(root)", "expected a mapping, got an empty document");
	else
		ret = parse_root(&c, root, cfg);

out_doc:
	yaml_document_delete(&doc);
out_parser:
	yaml_parser_delete(&parser);
	if (ret)
		config_free(cfg);
	return ret;
}

int config_load(const char *path, struct limpet_config *cfg, char *err, size_t err_len)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	if (!path || !cfg)
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	if (err && err_len)
		err[0] = '\0';
	if (strlen(path) >= sizeof(cfg->path))
		ret = -ENAMETOOLONG;
	else
		ret = read_file(path, &buf, &len);
	if (ret) {
		if (err && err_len)
			snprintf(err, err_len, "%s: cannot read: %s", path, strerror(-ret));
		return ret;
	}
	ret = load_text(path, buf, len, cfg, err, err_len);
	free(buf);
	return ret;
}

int config_load_buffer(const char *name, const char *text, size_t len, struct limpet_config *cfg,
		       char *err, size_t err_len)
{
	char *buf;
	int ret;

	if (!name || !cfg || (!text && len))
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	if (err && err_len)
		err[0] = '\0';
	if (strlen(name) >= sizeof(cfg->path))
		ret = -ENAMETOOLONG;
	else if (len > CONFIG_FILE_MAX)
		ret = -EFBIG;
	else
		ret = 0;
	if (ret) {
		if (err && err_len)
			snprintf(err, err_len, "%s: cannot read: %s", name, strerror(-ret));
		return ret;
	}
	/* libyaml reads <len> bytes; the NUL is for the line count of syntax errors. */
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	if (len)
		memcpy(buf, text, len);
	buf[len] = '\0';
	ret = load_text(name, buf, len, cfg, err, err_len);
	free(buf);
	return ret;
}
