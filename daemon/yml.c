/* yml: libyaml event stream -> located node tree. Refuses aliases (no
 * billion-laughs), duplicate keys, non-scalar keys and more than one
 * document; caps nesting depth and node count. Never logs. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "bounds.h"
#include "yml.h"

#define YML_MAX_DEPTH 64
#define YML_MAX_NODES 1000000

struct loader {
	yaml_parser_t parser;
	struct yml_doc *doc;
	size_t nodes;
	struct xerr *err;
	const char *data; /* the input, for positions of reader errors */
	size_t len;
};

static void node_free(struct yml_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			node_free(n->keys[i]);
		node_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->str);
	free(n);
}

void yml_doc_free(struct yml_doc **doc)
{
	if (!*doc)
		return;
	node_free((*doc)->root);
	free((*doc)->file);
	free(*doc);
	*doc = NULL;
}

static int loc_error(struct loader *l, yaml_mark_t mark, const char *fmt, ...)
    PRINTF_LIKE(3, 4);

static int loc_error(struct loader *l, yaml_mark_t mark, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return xerr_set(l->err, XERR_CONFIG, "%s:%zu:%zu: %s", l->doc->file,
			mark.line + 1, mark.column + 1, msg);
}

static int next_event(struct loader *l, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&l->parser, ev)) {
		yaml_mark_t m = l->parser.problem_mark;
		const char *ctx = l->parser.context;
		if (l->parser.error == YAML_READER_ERROR) {
			/* Bad bytes: libyaml gives only an offset. */
			size_t off = l->parser.problem_offset;
			m.line = m.column = 0;
			for (size_t i = 0; i < off && i < l->len; i++) {
				if (l->data[i] == '\n') {
					m.line++;
					m.column = 0;
				} else if (((unsigned char)l->data[i] & 0xC0) !=
					   0x80) {
					m.column++;
				}
			}
			if (l->parser.problem_value >= 0)
				return loc_error(l, m,
						 "%s (byte 0x%02x): the "
						 "file must be UTF-8",
						 l->parser.problem,
						 l->parser.problem_value);
			return loc_error(l, m, "%s: the file must be UTF-8",
					 l->parser.problem);
		}
		if (ctx)
			return loc_error(l, m, "%s %s", l->parser.problem, ctx);
		return loc_error(l, m, "%s",
				 l->parser.problem ? l->parser.problem
						   : "malformed YAML");
	}
	return 0;
}

static struct yml_node *new_node(struct loader *l, enum yml_type type,
				 yaml_mark_t mark)
{
	struct yml_node *n = xcalloc(1, sizeof(*n));

	n->type = type;
	n->line = (unsigned)mark.line + 1;
	n->col = (unsigned)mark.column + 1;
	l->nodes++;
	return n;
}

static void push(struct yml_node *parent, struct yml_node *key,
		 struct yml_node *val)
{
	parent->items =
	    xreallocarray(parent->items, parent->n + 1, sizeof(*parent->items));
	if (parent->type == YML_MAP)
		parent->keys = xreallocarray(parent->keys, parent->n + 1,
					     sizeof(*parent->keys));
	if (key)
		parent->keys[parent->n] = key;
	parent->items[parent->n++] = val;
}

static int check_tag(struct loader *l, const yaml_char_t *tag, yaml_mark_t m)
{
	/* Core-schema tags are harmless; anything else (e.g. !!python/...) is
	 * almost certainly a mistake in a rules or config file. */
	static const char *const ok_tags[] = {
	    "tag:yaml.org,2002:str",  "tag:yaml.org,2002:int",
	    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:map",
	    "tag:yaml.org,2002:seq",  "tag:yaml.org,2002:float",
	    "tag:yaml.org,2002:null", NULL};

	if (!tag)
		return 0;
	for (size_t i = 0; ok_tags[i]; i++)
		if (strcmp((const char *)tag, ok_tags[i]) == 0)
			return 0;
	return loc_error(l, m, "unsupported tag '%s'", (const char *)tag);
}

/* Parse one node whose first event is *ev (already read, owned here). */
static int parse_node(struct loader *l, yaml_event_t *ev, unsigned depth,
		      struct yml_node **node_r)
{
	struct yml_node *n = NULL, *key = NULL, *val = NULL;
	yaml_event_t sub;
	int ret = -1;

	if (depth > YML_MAX_DEPTH) {
		loc_error(l, ev->start_mark, "nesting deeper than %d levels",
			  YML_MAX_DEPTH);
		goto out;
	}
	if (l->nodes > YML_MAX_NODES) {
		loc_error(l, ev->start_mark, "more than %d nodes",
			  YML_MAX_NODES);
		goto out;
	}
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		loc_error(l, ev->start_mark,
			  "aliases (*%s) are not supported: repeat the value",
			  (const char *)ev->data.alias.anchor);
		goto out;
	case YAML_SCALAR_EVENT:
		if (check_tag(l, ev->data.scalar.tag, ev->start_mark) < 0)
			goto out;
		n = new_node(l, YML_SCALAR, ev->start_mark);
		n->str = xmalloc(ev->data.scalar.length + 1);
		memcpy(n->str, ev->data.scalar.value, ev->data.scalar.length);
		n->str[ev->data.scalar.length] = '\0';
		n->len = ev->data.scalar.length;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		break;
	case YAML_SEQUENCE_START_EVENT:
		if (check_tag(l, ev->data.sequence_start.tag, ev->start_mark) <
		    0)
			goto out;
		n = new_node(l, YML_SEQ, ev->start_mark);
		for (;;) {
			if (next_event(l, &sub) < 0)
				goto out;
			if (sub.type == YAML_SEQUENCE_END_EVENT) {
				yaml_event_delete(&sub);
				break;
			}
			if (parse_node(l, &sub, depth + 1, &val) < 0)
				goto out;
			push(n, NULL, val);
			val = NULL;
		}
		break;
	case YAML_MAPPING_START_EVENT:
		if (check_tag(l, ev->data.mapping_start.tag, ev->start_mark) <
		    0)
			goto out;
		n = new_node(l, YML_MAP, ev->start_mark);
		for (;;) {
			if (next_event(l, &sub) < 0)
				goto out;
			if (sub.type == YAML_MAPPING_END_EVENT) {
				yaml_event_delete(&sub);
				break;
			}
			if (sub.type != YAML_SCALAR_EVENT &&
			    sub.type != YAML_ALIAS_EVENT) {
				loc_error(l, sub.start_mark,
					  "a key must be a plain word");
				yaml_event_delete(&sub);
				goto out;
			}
			if (parse_node(l, &sub, depth + 1, &key) < 0)
				goto out;
			for (size_t i = 0; i < n->n; i++)
				if (strcmp(n->keys[i]->str, key->str) == 0) {
					xerr_set(l->err, XERR_CONFIG,
						 "%s:%u:%u: duplicate key '%s' "
						 "(first at line %u)",
						 l->doc->file, key->line,
						 key->col, key->str,
						 n->keys[i]->line);
					goto out;
				}
			if (next_event(l, &sub) < 0)
				goto out;
			if (parse_node(l, &sub, depth + 1, &val) < 0)
				goto out;
			push(n, key, val);
			key = val = NULL;
		}
		break;
	default:
		loc_error(l, ev->start_mark, "unexpected YAML event");
		goto out;
	}
	*node_r = n;
	n = NULL;
	ret = 0;
out:
	yaml_event_delete(ev);
	node_free(n);
	node_free(key);
	node_free(val);
	return ret;
}

int yml_load_mem(const char *name, const char *data, size_t len,
		 struct yml_doc **doc_r, struct xerr *err)
{
	struct loader l = {.err = err, .data = data, .len = len};
	yaml_event_t ev;
	int ret = -1, docs = 0;

	l.doc = xcalloc(1, sizeof(*l.doc));
	l.doc->file = xstrdup(name);
	if (!yaml_parser_initialize(&l.parser))
		fatal(70, "cannot initialise libyaml");
	yaml_parser_set_input_string(&l.parser, (const unsigned char *)data,
				     len);
	yaml_parser_set_encoding(&l.parser, YAML_UTF8_ENCODING);
	for (;;) {
		if (next_event(&l, &ev) < 0)
			goto out;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type == YAML_STREAM_START_EVENT ||
		    ev.type == YAML_DOCUMENT_END_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		if (ev.type == YAML_DOCUMENT_START_EVENT) {
			if (++docs > 1) {
				loc_error(&l, ev.start_mark,
					  "only one YAML document per file");
				yaml_event_delete(&ev);
				goto out;
			}
			yaml_event_delete(&ev);
			continue;
		}
		if (parse_node(&l, &ev, 0, &l.doc->root) < 0)
			goto out;
	}
	*doc_r = l.doc;
	l.doc = NULL;
	ret = 0;
out:
	yaml_parser_delete(&l.parser);
	yml_doc_free(&l.doc);
	return ret;
}

int yml_load_file(const char *path, struct yml_doc **doc_r, struct xerr *err)
{
	char *data = NULL;
	size_t len;
	int ret;

	if (read_file(path, PQ_MAX_CONF_BYTES, &data, &len) < 0)
		return xerr_set(err, XERR_CONFIG, "%s: cannot read: %s", path,
				strerror(errno));
	ret = yml_load_mem(path, data, len, doc_r, err);
	free(data);
	return ret;
}

int yml_error(const struct yml_doc *doc, const struct yml_node *node,
	      struct xerr *err, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!node)
		return xerr_set(err, XERR_CONFIG, "%s: %s", doc->file, msg);
	return xerr_set(err, XERR_CONFIG, "%s:%u:%u: %s", doc->file, node->line,
			node->col, msg);
}

struct yml_node *yml_get(const struct yml_node *map, const char *key)
{
	if (!map || map->type != YML_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->keys[i]->str, key) == 0)
			return map->items[i];
	return NULL;
}

int yml_check_keys(const struct yml_doc *doc, const struct yml_node *map,
		   const char *const *allowed, struct xerr *err)
{
	for (size_t i = 0; i < map->n; i++) {
		size_t j;
		for (j = 0; allowed[j]; j++)
			if (strcmp(map->keys[i]->str, allowed[j]) == 0)
				break;
		if (!allowed[j]) {
			char list[256] = "";
			size_t off = 0;
			for (j = 0; allowed[j] && off < sizeof(list); j++) {
				int w =
				    snprintf(list + off, sizeof(list) - off,
					     "%s%s", j ? ", " : "", allowed[j]);
				if (w < 0)
					break;
				off += (size_t)w;
			}
			return yml_error(doc, map->keys[i], err,
					 "unknown key '%s' (expected one of: "
					 "%s)",
					 map->keys[i]->str, list);
		}
	}
	return 0;
}

static const char *type_name(enum yml_type t)
{
	switch (t) {
	case YML_SCALAR:
		return "a value";
	case YML_MAP:
		return "a mapping (key: value lines)";
	case YML_SEQ:
		return "a list";
	}
	return "?";
}

int yml_expect(const struct yml_doc *doc, const struct yml_node *node,
	       enum yml_type type, const char *what, struct xerr *err)
{
	if (node->type != type)
		return yml_error(doc, node, err, "%s must be %s, not %s", what,
				 type_name(type), type_name(node->type));
	return 0;
}

static int is_null(const struct yml_node *node)
{
	return node->type == YML_SCALAR && node->plain &&
	       (node->len == 0 || strcmp(node->str, "~") == 0 ||
		strcmp(node->str, "null") == 0);
}

int yml_str(const struct yml_doc *doc, const struct yml_node *node,
	    const char *what, int allow_empty, char **s_r, struct xerr *err)
{
	if (yml_expect(doc, node, YML_SCALAR, what, err) < 0)
		return -1;
	if (is_null(node) && !allow_empty)
		return yml_error(doc, node, err, "%s must not be empty", what);
	if (memchr(node->str, '\0', node->len))
		return yml_error(doc, node, err, "%s contains a NUL byte",
				 what);
	free(*s_r);
	*s_r = xstrdup(is_null(node) ? "" : node->str);
	return 0;
}

int yml_int(const struct yml_doc *doc, const struct yml_node *node,
	    const char *what, long long min, long long max, long long *v_r,
	    struct xerr *err)
{
	if (yml_expect(doc, node, YML_SCALAR, what, err) < 0)
		return -1;
	if (parse_ll(node->str, min, max, v_r) < 0)
		return yml_error(doc, node, err,
				 "%s must be a whole number from %lld to %lld, "
				 "not '%s'",
				 what, min, max, node->str);
	return 0;
}

int yml_bool(const struct yml_doc *doc, const struct yml_node *node,
	     const char *what, int *v_r, struct xerr *err)
{
	static const char *const yes[] = {"true", "yes", "on", NULL};
	static const char *const no[] = {"false", "no", "off", NULL};

	if (yml_expect(doc, node, YML_SCALAR, what, err) < 0)
		return -1;
	for (size_t i = 0; node->plain && yes[i]; i++) {
		if (ascii_casecmp(node->str, yes[i]) == 0) {
			*v_r = 1;
			return 0;
		}
		if (ascii_casecmp(node->str, no[i]) == 0) {
			*v_r = 0;
			return 0;
		}
	}
	return yml_error(doc, node, err, "%s must be true or false, not '%s'",
			 what, node->str);
}

static int scaled(const struct yml_doc *doc, const struct yml_node *node,
		  const char *what, const char *units, const long long *mults,
		  long long min, long long max, long long *v_r,
		  struct xerr *err)
{
	char num[32];
	long long v, mult = 1;
	size_t len;
	const char *u;

	if (yml_expect(doc, node, YML_SCALAR, what, err) < 0)
		return -1;
	len = node->len;
	if (len == 0 || len >= sizeof(num))
		goto bad;
	memcpy(num, node->str, len);
	num[len] = '\0';
	u = strchr(units, num[len - 1]);
	if (u && num[len - 1]) {
		mult = mults[u - units];
		num[--len] = '\0';
	}
	if (parse_ll(num, 0, max, &v) < 0 || (mult > 1 && v > max / mult))
		goto bad;
	v *= mult;
	if (v < min || v > max)
		goto bad;
	*v_r = v;
	return 0;
bad:
	return yml_error(doc, node, err,
			 "%s must be a number with an optional unit (%s) from "
			 "%lld to %lld, not '%s'",
			 what, units, min, max, node->str);
}

int yml_duration(const struct yml_doc *doc, const struct yml_node *node,
		 const char *what, long long min_s, long long max_s,
		 long long *v_r, struct xerr *err)
{
	static const long long mults[] = {1, 60, 3600, 86400};

	return scaled(doc, node, what, "smhd", mults, min_s, max_s, v_r, err);
}

int yml_size(const struct yml_doc *doc, const struct yml_node *node,
	     const char *what, long long min, long long max, long long *v_r,
	     struct xerr *err)
{
	static const long long mults[] = {1024, 1024 * 1024,
					  1024LL * 1024 * 1024};

	return scaled(doc, node, what, "KMG", mults, min, max, v_r, err);
}
