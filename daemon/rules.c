/* rules: load keyword rules from YAML and match them against normalised
 * text: whole words for Latin keywords, substrings for CJK ones. This first
 * version scans once per keyword; the matcher is isolated in match_one() so
 * a multi-pattern automaton can replace it. No I/O beyond reading rules. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "rules.h"
#include "text.h"
#include "yml.h"

struct kwlist {
	char **kw;   /* normalised */
	char **orig; /* as written */
	size_t n;
};

struct rule {
	char *name, *category, *priority, *tmpl;
	int sla_hours, escalate;
	struct kwlist any, all, none;
};

struct ruleset {
	struct rule *rules;
	size_t n;
	struct rule fallback;
	const char **tmpls;
	size_t ntmpls;
};

static void kwlist_release(struct kwlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->kw[i]);
		free(l->orig[i]);
	}
	free(l->kw);
	free(l->orig);
}

static void rule_release(struct rule *r)
{
	free(r->name);
	free(r->category);
	free(r->priority);
	free(r->tmpl);
	kwlist_release(&r->any);
	kwlist_release(&r->all);
	kwlist_release(&r->none);
}

void rules_free(struct ruleset **setp)
{
	struct ruleset *set = *setp;

	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		rule_release(&set->rules[i]);
	free(set->rules);
	rule_release(&set->fallback);
	free(set->tmpls);
	free(set);
	*setp = NULL;
}

size_t rules_count(const struct ruleset *set)
{
	return set->n;
}

size_t rules_templates(const struct ruleset *set, const char ***names_r)
{
	*names_r = set->tmpls;
	return set->ntmpls;
}

/* ---------------------------------------------------------------- text */

static int is_space_cp(unsigned cp)
{
	return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
	       cp == '\f' || cp == '\v' || cp == 0xA0 || cp == 0x3000 ||
	       (cp >= 0x2000 && cp <= 0x200B);
}

char *rules_normalize(const char *s, size_t n, size_t *len_r)
{
	char *out = xmalloc(n + 2), *o = out;
	int space = 1; /* drop leading white space */
	size_t i = 0;

	while (i < n) {
		unsigned cp;
		size_t k = text_utf8_decode(s + i, n - i, &cp);
		i += k;
		if (is_space_cp(cp)) {
			if (!space)
				*o++ = ' ';
			space = 1;
			continue;
		}
		space = 0;
		if (cp >= 0xFF01 && cp <= 0xFF5E) /* full-width ASCII */
			cp -= 0xFEE0;
		if (cp >= 'A' && cp <= 'Z')
			cp += 32;
		if (cp == 0x2019 || cp == 0x2018) /* curly apostrophes */
			cp = '\'';
		char enc[4];
		size_t el = text_utf8_encode(cp, enc);
		/* Folding never lengthens: full-width (3 bytes) -> 1. */
		memcpy(o, enc, el);
		o += el;
	}
	if (o > out && o[-1] == ' ')
		o--;
	*o = '\0';
	*len_r = (size_t)(o - out);
	return out;
}

static int is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static int is_latin_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c >= 'A' && c <= 'Z');
}

/* Does normalised keyword kw occur in normalised text t? Keywords that
 * start/end with a Latin letter or digit must sit on word boundaries. */
static int match_one(const char *t, size_t tn, const char *kw)
{
	size_t kn = strlen(kw);
	const char *p = t, *end = t + tn;
	int lead = is_latin_byte((unsigned char)kw[0]);
	int tail = is_latin_byte((unsigned char)kw[kn - 1]);

	while (p < end) {
		const char *hit = memmem(p, (size_t)(end - p), kw, kn);
		if (!hit)
			return 0;
		int ok = 1;
		if (lead && hit > t && is_word_byte((unsigned char)hit[-1]) &&
		    (unsigned char)hit[-1] < 0x80)
			ok = 0;
		if (tail && hit + kn < end &&
		    is_word_byte((unsigned char)hit[kn]) &&
		    (unsigned char)hit[kn] < 0x80)
			ok = 0;
		if (ok)
			return 1;
		p = hit + 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- loading */

static int load_kwlist(const struct yml_doc *doc, const struct yml_node *v,
		       const char *what, struct kwlist *l, struct xerr *err)
{
	if (v->type == YML_SCALAR) {
		/* a single keyword written without brackets */
		l->kw = xcalloc(1, sizeof(char *));
		l->orig = xcalloc(1, sizeof(char *));
		l->orig[0] = NULL;
		if (yml_str(doc, v, what, 0, &l->orig[0], err) < 0)
			return -1;
		size_t n;
		l->kw[0] = rules_normalize(v->str, v->len, &n);
		l->n = 1;
		if (n == 0)
			return yml_error(doc, v, err, "%s: empty keyword",
					 what);
		return 0;
	}
	if (yml_expect(doc, v, YML_SEQ, what, err) < 0)
		return -1;
	if (v->n == 0)
		return yml_error(doc, v, err,
				 "%s is an empty list: give at least one "
				 "keyword or remove it",
				 what);
	l->kw = xcalloc(v->n, sizeof(char *));
	l->orig = xcalloc(v->n, sizeof(char *));
	for (size_t i = 0; i < v->n; i++) {
		size_t n;
		if (yml_str(doc, v->items[i], "keyword", 0, &l->orig[i], err) <
		    0)
			return -1;
		if (!text_utf8_valid(l->orig[i], strlen(l->orig[i])))
			return yml_error(doc, v->items[i], err,
					 "keyword is not valid UTF-8");
		l->kw[i] = rules_normalize(l->orig[i], strlen(l->orig[i]), &n);
		l->n++;
		if (n == 0)
			return yml_error(doc, v->items[i], err,
					 "%s: empty keyword", what);
	}
	return 0;
}

static int valid_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-'))
			return 0;
	return 1;
}

static int load_rule(const struct yml_doc *doc, const struct yml_node *m,
		     struct rule *r, struct xerr *err)
{
	static const char *const keys[] = {"name",	"category", "priority",
					   "sla_hours", "template", "escalate",
					   "match",	NULL};
	static const char *const mkeys[] = {"any", "all", "none", NULL};
	static const char *const prios[] = {"urgent", "high", "normal", "low",
					    NULL};
	struct yml_node *v, *match;
	long long sla;
	size_t i;

	if (yml_expect(doc, m, YML_MAP, "a rule", err) < 0 ||
	    yml_check_keys(doc, m, keys, err) < 0)
		return -1;
	if (!(v = yml_get(m, "name")))
		return yml_error(doc, m, err, "rule: 'name' is required");
	if (yml_str(doc, v, "name", 0, &r->name, err) < 0)
		return -1;
	if (!valid_name(r->name))
		return yml_error(doc, v, err,
				 "rule name '%s' may only use a-z, 0-9, '_' "
				 "and '-'",
				 r->name);
	if (!(v = yml_get(m, "category")))
		return yml_error(doc, m, err,
				 "rule '%s': 'category' is required", r->name);
	if (yml_str(doc, v, "category", 0, &r->category, err) < 0)
		return -1;
	if (!valid_name(r->category))
		return yml_error(doc, v, err,
				 "category '%s' may only use a-z, 0-9, '_' "
				 "and '-'",
				 r->category);
	r->priority = xstrdup("normal");
	if ((v = yml_get(m, "priority"))) {
		if (yml_str(doc, v, "priority", 0, &r->priority, err) < 0)
			return -1;
		for (i = 0; prios[i]; i++)
			if (strcmp(prios[i], r->priority) == 0)
				break;
		if (!prios[i])
			return yml_error(
			    doc, v, err,
			    "priority must be urgent, high, normal "
			    "or low, not '%s'",
			    r->priority);
	}
	r->sla_hours = 24;
	if ((v = yml_get(m, "sla_hours"))) {
		if (yml_int(doc, v, "sla_hours", 1, 24 * 30, &sla, err) < 0)
			return -1;
		r->sla_hours = (int)sla;
	}
	r->tmpl = xstrdup(r->category);
	if ((v = yml_get(m, "template"))) {
		if (yml_str(doc, v, "template", 0, &r->tmpl, err) < 0)
			return -1;
		if (!valid_name(r->tmpl))
			return yml_error(doc, v, err,
					 "template name '%s' may only use a-z, "
					 "0-9, '_' and '-'",
					 r->tmpl);
	}
	if ((v = yml_get(m, "escalate")) &&
	    yml_bool(doc, v, "escalate", &r->escalate, err) < 0)
		return -1;
	if (!(match = yml_get(m, "match")))
		return yml_error(doc, m, err,
				 "rule '%s': 'match' is required (any, all, "
				 "none keyword lists)",
				 r->name);
	if (yml_expect(doc, match, YML_MAP, "match", err) < 0 ||
	    yml_check_keys(doc, match, mkeys, err) < 0)
		return -1;
	if ((v = yml_get(match, "any")) &&
	    load_kwlist(doc, v, "any", &r->any, err) < 0)
		return -1;
	if ((v = yml_get(match, "all")) &&
	    load_kwlist(doc, v, "all", &r->all, err) < 0)
		return -1;
	if ((v = yml_get(match, "none")) &&
	    load_kwlist(doc, v, "none", &r->none, err) < 0)
		return -1;
	if (r->any.n == 0 && r->all.n == 0)
		return yml_error(doc, match, err,
				 "rule '%s' has no 'any' or 'all' keywords: it "
				 "would match every message",
				 r->name);
	return 0;
}

static int load_into(struct ruleset *set, const char *path, struct xerr *err)
{
	struct yml_doc *doc = NULL;
	struct yml_node *list;
	static const char *const keys[] = {"rules", NULL};
	int ret = -1;

	if (yml_load_file(path, &doc, err) < 0)
		goto out;
	if (!doc->root) {
		ret = 0; /* an empty file is allowed */
		goto out;
	}
	if (yml_expect(doc, doc->root, YML_MAP, "a rules file", err) < 0 ||
	    yml_check_keys(doc, doc->root, keys, err) < 0)
		goto out;
	if (!(list = yml_get(doc->root, "rules"))) {
		yml_error(doc, doc->root, err, "'rules:' list is missing");
		goto out;
	}
	if (yml_expect(doc, list, YML_SEQ, "rules", err) < 0)
		goto out;
	for (size_t i = 0; i < list->n; i++) {
		struct rule *r;
		if (set->n >= PQ_MAX_RULES) {
			yml_error(doc, list->items[i], err,
				  "more than %d rules", PQ_MAX_RULES);
			goto out;
		}
		set->rules =
		    xreallocarray(set->rules, set->n + 1, sizeof(*set->rules));
		r = &set->rules[set->n++];
		memset(r, 0, sizeof(*r));
		if (load_rule(doc, list->items[i], r, err) < 0)
			goto out;
		for (size_t j = 0; j + 1 < set->n; j++)
			if (strcmp(set->rules[j].name, r->name) == 0) {
				yml_error(doc, list->items[i], err,
					  "rule name '%s' is used twice",
					  r->name);
				goto out;
			}
	}
	ret = 0;
out:
	yml_doc_free(&doc);
	return ret;
}

static void finish(struct ruleset *set)
{
	struct rule *f = &set->fallback;

	f->name = xstrdup("general");
	f->category = xstrdup("general");
	f->priority = xstrdup("normal");
	f->tmpl = xstrdup("general");
	f->sla_hours = 24;
	for (size_t i = 0; i <= set->n; i++) {
		const char *t = i < set->n ? set->rules[i].tmpl : f->tmpl;
		size_t j;
		for (j = 0; j < set->ntmpls; j++)
			if (strcmp(set->tmpls[j], t) == 0)
				break;
		if (j == set->ntmpls) {
			set->tmpls = xreallocarray(set->tmpls, set->ntmpls + 1,
						   sizeof(char *));
			set->tmpls[set->ntmpls++] = t;
		}
	}
}

int rules_load_file(const char *path, struct ruleset **set_r, struct xerr *err)
{
	struct ruleset *set = xcalloc(1, sizeof(*set));

	if (load_into(set, path, err) < 0) {
		rules_free(&set);
		return -1;
	}
	finish(set);
	*set_r = set;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int rules_load_dir(const char *dir, struct ruleset **set_r, struct xerr *err)
{
	struct ruleset *set = xcalloc(1, sizeof(*set));
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int ret = -1;

	if (!(d = opendir(dir))) {
		xerr_set(err, XERR_CONFIG,
			 "cannot open rules directory '%s': %s", dir,
			 strerror(errno));
		goto out;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 ||
		    strcmp(de->d_name + len - 5, ".yaml") != 0)
			continue;
		names = xreallocarray(names, n + 1, sizeof(char *));
		names[n++] = xasprintf("%s/%s", dir, de->d_name);
	}
	closedir(d);
	if (n == 0) {
		xerr_set(err, XERR_CONFIG,
			 "no rules (*.yaml) in '%s': every message would be "
			 "'general'",
			 dir);
		goto out;
	}
	qsort(names, n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < n; i++)
		if (load_into(set, names[i], err) < 0)
			goto out;
	finish(set);
	*set_r = set;
	set = NULL;
	ret = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	rules_free(&set);
	return ret;
}

/* ---------------------------------------------------------------- matching */

static void note_match(struct rules_verdict *v, const char *kw)
{
	if (v->nmatched < RULES_MAX_MATCHED)
		v->matched[v->nmatched++] = kw;
}

static int rule_matches(const struct rule *r, const char *t, size_t tn,
			struct rules_verdict *v)
{
	size_t i, before = v->nmatched;

	for (i = 0; i < r->none.n; i++)
		if (match_one(t, tn, r->none.kw[i]))
			return 0;
	for (i = 0; i < r->all.n; i++) {
		if (!match_one(t, tn, r->all.kw[i]))
			goto no;
		note_match(v, r->all.orig[i]);
	}
	if (r->any.n == 0)
		return 1;
	for (i = 0; i < r->any.n; i++)
		if (match_one(t, tn, r->any.kw[i])) {
			note_match(v, r->any.orig[i]);
			return 1;
		}
no:
	v->nmatched = before;
	return 0;
}

void rules_classify(const struct ruleset *set, const char *subject,
		    const char *body, size_t body_len,
		    struct rules_verdict *v_r)
{
	static const char sep[] = "\n\x01\n";
	const struct rule *hit = &set->fallback;
	size_t sn = subject ? strlen(subject) : 0, tn;
	char *all, *t;

	memset(v_r, 0, sizeof(*v_r));
	if (body_len > PQ_MAX_TEXT_BYTES)
		body_len = PQ_MAX_TEXT_BYTES;
	/* Subject and body are matched as one text, separated so a phrase
	 * cannot span them. */
	all = xmalloc(sn + sizeof(sep) + body_len);
	if (sn)
		memcpy(all, subject, sn);
	memcpy(all + sn, sep, sizeof(sep) - 1);
	if (body_len)
		memcpy(all + sn + sizeof(sep) - 1, body, body_len);
	t = rules_normalize(all, sn + sizeof(sep) - 1 + body_len, &tn);
	free(all);
	for (size_t i = 0; i < set->n; i++)
		if (rule_matches(&set->rules[i], t, tn, v_r)) {
			hit = &set->rules[i];
			break;
		}
	free(t);
	v_r->rule = hit->name;
	v_r->category = hit->category;
	v_r->priority = hit->priority;
	v_r->tmpl = hit->tmpl;
	v_r->sla_hours = hit->sla_hours;
	v_r->escalate = hit->escalate;
}
