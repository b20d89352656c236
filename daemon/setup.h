/* setup: everything peakqd loads from files (configuration, rules,
 * templates, notices), loaded and checked as one. The mailbox threads
 * share it read-only; SIGHUP replaces it with a new one while threads
 * finish with the old, so it is counted and freed by its last user. */
#ifndef PEAKQ_SETUP_H
#define PEAKQ_SETUP_H

#include <stdatomic.h>

#include "conf.h"
#include "notices.h"
#include "rules.h"
#include "tmpl.h"
#include "xerr.h"

struct setup {
	struct conf *conf;
	struct ruleset *rules;
	struct tmpl_set *tmpls;
	struct notices *notices; /* NULL when not configured */
	atomic_int refs;
};

/* Load and cross-check path's configuration and the rules, templates and
 * notices it names. Returns 0 and a setup with one reference, or -1. */
int setup_load(const char *path, struct setup **s_r,
	       struct xerr *err) WARN_UNUSED;
/* Another reference to s (returned). */
struct setup *setup_ref(struct setup *s);
/* Drop *s's reference (freeing it with the last) and set *s to NULL. NULL
 * is accepted. */
void setup_unref(struct setup **s);

/* The account called name in s's configuration, or NULL. */
const struct conf_account *setup_account(const struct setup *s,
					 const char *name);

#endif
