/* rules: the rules directory's YAML files -> an immutable, compiled rule
 * set, and the classification of a message against it: one pass of the
 * keyword matcher per field whatever the number of rules. Knows nothing of
 * IMAP, SMTP or SQL. The language is documented in peakq-rules(5). */
#ifndef PEAKQ_RULES_H
#define PEAKQ_RULES_H

#include <stdio.h>
#include <stddef.h>

#include "xerr.h"

#define RULES_MAX_MATCHED 32
#define RULES_MAX_TAGS 16

/* Where a keyword can be looked for. */
enum rules_field {
	RULES_SUBJECT,
	RULES_BODY,   /* what the customer wrote now (not quoted text) */
	RULES_FROM,   /* sender's display name and address */
	RULES_TO,     /* To and Cc addresses */
	RULES_QUOTED, /* quoted replies, forwards, signatures, boilerplate */
	RULES_NFIELDS,
};
const char *rules_field_name(enum rules_field f);

struct ruleset;

/* What classification looks at; all UTF-8, any may be NULL. */
struct rules_input {
	const char *subject;
	const char *body;
	size_t body_len;
	const char *from_addr, *from_name;
	const char *const *to;
	size_t nto;
	const char *lang; /* "en" or "zh" */
};

struct rules_hit {
	const char *keyword; /* as written in the first rule that used it */
	enum rules_field field;
};

struct rules_verdict {
	/* All borrowed from the rule set. */
	const char *rule; /* the deciding rule, "general" for the fallback */
	const char *category;
	const char *priority;
	const char *tmpl;
	int sla_hours;
	int escalate; /* the deciding rule's, or any tagging rule's */
	const char *tags[RULES_MAX_TAGS];
	size_t ntags;
	struct rules_hit matched[RULES_MAX_MATCHED]; /* deciding and tagging */
	size_t nmatched;
};

/* Load every *.yaml file in dir, in name order. Returns 0 and an owned set,
 * or -1 with XERR_CONFIG "file:line:col: message". */
int rules_load_dir(const char *dir, struct ruleset **set_r,
		   struct xerr *err) WARN_UNUSED;
/* Load a single file (tests, tools). */
int rules_load_file(const char *path, struct ruleset **set_r,
		    struct xerr *err) WARN_UNUSED;
void rules_free(struct ruleset **set);

size_t rules_count(const struct ruleset *set);
size_t rules_keywords(const struct ruleset *set);
/* The name of rule i (0 <= i < rules_count), borrowed; NULL past the end. */
const char *rules_name_at(const struct ruleset *set, size_t i);
/* Templates named by deciding rules (and the fallback's), each once, in
 * rule order. Borrowed until rules_free. */
size_t rules_templates(const struct ruleset *set, const char ***names_r);
/* Categories used by the rules (and "general"), each once, in rule order. */
size_t rules_categories(const struct ruleset *set, const char ***names_r);

/* Check that every template a deciding rule names exists: exists(name,
 * ctx) returns non-zero when it does. Returns 0, or -1 with XERR_CONFIG
 * "file:line:col: template 'x' ..." for the first that does not. */
int rules_check_templates(const struct ruleset *set,
			  int (*exists)(const char *name, void *ctx), void *ctx,
			  struct xerr *err) WARN_UNUSED;

/* Classify. Never fails. */
void rules_classify(const struct ruleset *set, const struct rules_input *in,
		    struct rules_verdict *v_r);

/* Write to f, for every rule in order, whether it matched and why (which
 * keywords were found where, which were missing, which excluded it), and
 * the verdict. The same evaluation as rules_classify. */
void rules_explain(const struct ruleset *set, const struct rules_input *in,
		   FILE *f);

/* Warnings about the set (not errors): rules that can never decide
 * because an earlier rule matches every message they would match. Calls
 * warn(msg, ctx) with "file:line:col: warning: ..." for each; returns the
 * count. */
size_t rules_lint(const struct ruleset *set,
		  void (*warn)(const char *msg, void *ctx), void *ctx);

#endif
