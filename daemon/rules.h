/* rules: the rules directory's YAML files -> an immutable, compiled rule set,
 * and classification of a message's text against it. Knows nothing of IMAP,
 * SMTP or SQL.
 *
 * File format (first version; see peakq-rules(5)):
 *   rules:
 *     - name: late
 *       category: late_delivery
 *       priority: high          # urgent | high | normal | low
 *       sla_hours: 4
 *       template: late_delivery # templates/<lang>/<template>.txt
 *       escalate: false
 *       match:
 *         any: [late, "not arrived", 还没到]   # at least one
 *         all: [...]                           # every one
 *         none: [...]                          # not one
 * Files are read in name order, rules evaluated in order; the first rule
 * that matches decides. When none does, the built-in fallback `general`
 * (priority normal, 24 h, template general) applies. */
#ifndef PEAKQ_RULES_H
#define PEAKQ_RULES_H

#include <stddef.h>

#include "xerr.h"

#define RULES_MAX_MATCHED 16

struct ruleset;

struct rules_verdict {
	/* All borrowed from the rule set. */
	const char *rule; /* rule name, "general" for the fallback */
	const char *category;
	const char *priority;
	const char *tmpl;
	int sla_hours;
	int escalate;
	const char *matched[RULES_MAX_MATCHED]; /* keywords that matched */
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
/* Template names used by the rules (and the fallback), each once. Borrowed
 * until rules_free. */
size_t rules_templates(const struct ruleset *set, const char ***names_r);

/* Classify: subject and body are UTF-8. Never fails. */
void rules_classify(const struct ruleset *set, const char *subject,
		    const char *body, size_t body_len,
		    struct rules_verdict *v_r);

/* Normalise text for matching: ASCII and full-width letters lowercased and
 * folded to half-width, every run of white space (and line breaks) turned
 * into one space. Appends to out (owned by caller, NUL-terminated). */
char *rules_normalize(const char *s, size_t n, size_t *len_r);

#endif
