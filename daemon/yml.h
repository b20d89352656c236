/* yml: load a YAML file (libyaml events) into a small tree of scalars, maps
 * and sequences that remembers where each node was written, and typed
 * accessors that report "file:line:col: message". Aliases, tags other than
 * the core ones and multi-document streams are refused. No I/O but reading
 * the file. */
#ifndef PEAKQ_YML_H
#define PEAKQ_YML_H

#include <stddef.h>

#include "xerr.h"

enum yml_type { YML_SCALAR, YML_MAP, YML_SEQ };

struct yml_node {
	enum yml_type type;
	unsigned line, col;	 /* 1-based */
	int plain;		 /* scalar written without quotes */
	char *str;		 /* scalar value (NUL-terminated UTF-8) */
	size_t len;		 /* scalar length */
	struct yml_node **keys;	 /* map keys (scalars) */
	struct yml_node **items; /* map values or sequence items */
	size_t n;
};

struct yml_doc {
	char *file;	       /* path as given, for messages */
	struct yml_node *root; /* NULL for an empty document */
};

/* Load path. Returns 0 and an owned doc, or -1 with XERR_CONFIG and
 * "file:line:col: message" (or "file: message" for I/O errors). */
int yml_load_file(const char *path, struct yml_doc **doc_r,
		  struct xerr *err) WARN_UNUSED;
/* The same from memory; name is used in messages. */
int yml_load_mem(const char *name, const char *data, size_t len,
		 struct yml_doc **doc_r, struct xerr *err) WARN_UNUSED;
void yml_doc_free(struct yml_doc **doc);

/* Set err to "file:line:col: message" for node (XERR_CONFIG); returns -1. */
int yml_error(const struct yml_doc *doc, const struct yml_node *node,
	      struct xerr *err, const char *fmt, ...) PRINTF_LIKE(4, 5);

/* Value for key in map, or NULL. */
struct yml_node *yml_get(const struct yml_node *map, const char *key);
/* Check that every key of map is in the NULL-terminated list allowed.
 * Returns 0 or -1 naming the first unknown key (and listing what is
 * allowed). */
int yml_check_keys(const struct yml_doc *doc, const struct yml_node *map,
		   const char *const *allowed, struct xerr *err) WARN_UNUSED;

/* Typed reads of a node. Each returns 0, or -1 with a located error. */
int yml_expect(const struct yml_doc *doc, const struct yml_node *node,
	       enum yml_type type, const char *what,
	       struct xerr *err) WARN_UNUSED;
/* A scalar string; owned copy in *s_r (replacing and freeing a previous
 * value). Empty strings are refused unless allow_empty. */
int yml_str(const struct yml_doc *doc, const struct yml_node *node,
	    const char *what, int allow_empty, char **s_r,
	    struct xerr *err) WARN_UNUSED;
int yml_int(const struct yml_doc *doc, const struct yml_node *node,
	    const char *what, long long min, long long max, long long *v_r,
	    struct xerr *err) WARN_UNUSED;
/* true/false/yes/no/on/off (plain scalars only). */
int yml_bool(const struct yml_doc *doc, const struct yml_node *node,
	     const char *what, int *v_r, struct xerr *err) WARN_UNUSED;
/* A duration: plain integer seconds or "<n>s", "<n>m", "<n>h", "<n>d". */
int yml_duration(const struct yml_doc *doc, const struct yml_node *node,
		 const char *what, long long min_s, long long max_s,
		 long long *v_r, struct xerr *err) WARN_UNUSED;
/* A byte size: plain integer or "<n>K", "<n>M", "<n>G" (powers of 1024). */
int yml_size(const struct yml_doc *doc, const struct yml_node *node,
	     const char *what, long long min, long long max, long long *v_r,
	     struct xerr *err) WARN_UNUSED;

#endif
