/* notices: load carrier delay notices and pick those that apply to a
 * message. Dates are local calendar days, inclusive at both ends. Keywords
 * match like rule keywords (normalised, case- and width-insensitive). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "match.h"
#include "notices.h"
#include "text.h"
#include "yml.h"

#define MAX_NOTICES 200

struct notice {
	char *name;
	int from, until; /* yyyymmdd */
	char **cats;
	size_t ncats;
	char **kw; /* normalised */
	size_t nkw;
	char *en, *zh;
};

struct notices {
	struct notice *n;
	size_t count;
};

void notices_free(struct notices **np)
{
	struct notices *ns = *np;

	if (!ns)
		return;
	for (size_t i = 0; i < ns->count; i++) {
		struct notice *n = &ns->n[i];
		free(n->name);
		for (size_t k = 0; k < n->ncats; k++)
			free(n->cats[k]);
		free(n->cats);
		for (size_t k = 0; k < n->nkw; k++)
			free(n->kw[k]);
		free(n->kw);
		free(n->en);
		free(n->zh);
	}
	free(ns->n);
	free(ns);
	*np = NULL;
}

size_t notices_count(const struct notices *n)
{
	return n ? n->count : 0;
}

static char *norm(const char *s)
{
	struct buf b;

	buf_init(&b, strlen(s) * 4 + 16);
	if (match_normalize(s, strlen(s), &b) < 0) {
		/* cannot happen: 4x room */
	}
	return buf_detach(&b, NULL);
}

/* "2025-12-20" -> 20251220 */
static int parse_date(const char *s, int *v_r)
{
	int y, m, d;
	char *end;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	y = (int)strtol(s, &end, 10);
	if (end != s + 4)
		return -1;
	m = (int)strtol(s + 5, &end, 10);
	if (end != s + 7 || m < 1 || m > 12)
		return -1;
	d = (int)strtol(s + 8, &end, 10);
	if (end != s + 10 || d < 1 || d > 31 || y < 2000 || y > 2200)
		return -1;
	*v_r = y * 10000 + m * 100 + d;
	return 0;
}

static int load_list(const struct yml_doc *doc, const struct yml_node *v,
		     const char *what, int normalise, char ***out, size_t *n,
		     struct xerr *err)
{
	if (yml_expect(doc, v, YML_SEQ, what, err) < 0)
		return -1;
	if (v->n == 0)
		return yml_error(doc, v, err, "%s is an empty list", what);
	*out = xcalloc(v->n, sizeof(char *));
	for (size_t i = 0; i < v->n; i++) {
		char *s = NULL;
		if (yml_str(doc, v->items[i], what, 0, &s, err) < 0)
			return -1;
		(*out)[(*n)++] = normalise ? (norm(s)) : s;
		if (normalise)
			free(s);
	}
	return 0;
}

static int load_one(const struct yml_doc *doc, const struct yml_node *m,
		    struct notice *n, struct xerr *err)
{
	static const char *const keys[] = {"name",	 "from",     "until",
					   "categories", "keywords", "en",
					   "zh",	 NULL};
	struct yml_node *v;
	char *s = NULL;
	int r;

	if (yml_expect(doc, m, YML_MAP, "a notice", err) < 0 ||
	    yml_check_keys(doc, m, keys, err) < 0)
		return -1;
	if (!(v = yml_get(m, "name")) ||
	    yml_str(doc, v, "name", 0, &n->name, err) < 0)
		return v ? -1
			 : yml_error(doc, m, err, "notice: 'name' is required");
	for (int which = 0; which < 2; which++) {
		const char *key = which ? "until" : "from";
		if (!(v = yml_get(m, key)))
			return yml_error(doc, m, err,
					 "notice '%s': '%s' (a date like "
					 "2025-12-20) is required",
					 n->name, key);
		if (yml_str(doc, v, key, 0, &s, err) < 0)
			return -1;
		r = parse_date(s, which ? &n->until : &n->from);
		free(s);
		s = NULL;
		if (r < 0)
			return yml_error(doc, v, err,
					 "%s must be a date like 2025-12-20",
					 key);
	}
	if (n->until < n->from)
		return yml_error(doc, yml_get(m, "until"), err,
				 "notice '%s' ends before it starts", n->name);
	if ((v = yml_get(m, "categories"))) {
		if (load_list(doc, v, "categories", 0, &n->cats, &n->ncats,
			      err) < 0)
			return -1;
	} else {
		n->cats = xcalloc(1, sizeof(char *));
		n->cats[n->ncats++] = xstrdup("late_delivery");
	}
	if ((v = yml_get(m, "keywords")) &&
	    load_list(doc, v, "keywords", 1, &n->kw, &n->nkw, err) < 0)
		return -1;
	if (!(v = yml_get(m, "en")))
		return yml_error(doc, m, err,
				 "notice '%s': the English text 'en' is "
				 "required",
				 n->name);
	if (yml_str(doc, v, "en", 0, &n->en, err) < 0)
		return -1;
	if ((v = yml_get(m, "zh")) && yml_str(doc, v, "zh", 0, &n->zh, err) < 0)
		return -1;
	return 0;
}

int notices_load(const char *path, struct notices **n_r, struct xerr *err)
{
	static const char *const keys[] = {"notices", NULL};
	struct yml_doc *doc = NULL;
	struct notices *ns = xcalloc(1, sizeof(*ns));
	const struct yml_node *list;
	int ret = -1;

	if (yml_load_file(path, &doc, err) < 0)
		goto out;
	if (!doc->root) {
		ret = 0; /* an empty file: no notices */
		goto done;
	}
	if (yml_expect(doc, doc->root, YML_MAP, "a notices file", err) < 0 ||
	    yml_check_keys(doc, doc->root, keys, err) < 0)
		goto out;
	if (!(list = yml_get(doc->root, "notices"))) {
		yml_error(doc, doc->root, err, "'notices:' list is missing");
		goto out;
	}
	if (list->type == YML_SCALAR && list->len == 0)
		goto done; /* "notices:" with nothing under it */
	if (yml_expect(doc, list, YML_SEQ, "notices", err) < 0)
		goto out;
	if (list->n > MAX_NOTICES) {
		yml_error(doc, list, err, "more than %d notices", MAX_NOTICES);
		goto out;
	}
	ns->n = xcalloc(list->n ? list->n : 1, sizeof(*ns->n));
	for (size_t i = 0; i < list->n; i++) {
		ns->count++;
		if (load_one(doc, list->items[i], &ns->n[i], err) < 0)
			goto out;
	}
done:
	*n_r = ns;
	ns = NULL;
	ret = 0;
out:
	notices_free(&ns);
	yml_doc_free(&doc);
	return ret;
}

/* Does normalised keyword kw occur in normalised text t, on word
 * boundaries where it starts or ends with a word character ("ups" in "UPS
 * says" but not in "groups")? */
static int found(const char *t, const char *kw)
{
	size_t kn = strlen(kw);
	unsigned first, last, cp;

	text_utf8_decode(kw, kn, &first);
	last = first;
	for (size_t i = 0; i < kn;)
		i += text_utf8_decode(kw + i, kn - i, &last);
	for (const char *p = t; (p = strstr(p, kw)); p++) {
		int ok = 1;
		if (match_is_word_cp(first) && p > t) {
			const char *q = p - 1;
			while (q > t && ((unsigned char)*q & 0xC0) == 0x80)
				q--;
			text_utf8_decode(q, (size_t)(p - q), &cp);
			ok = !match_is_word_cp(cp);
		}
		if (ok && match_is_word_cp(last) && p[kn]) {
			text_utf8_decode(p + kn, strlen(p + kn), &cp);
			ok = !match_is_word_cp(cp);
		}
		if (ok)
			return 1;
	}
	return 0;
}

char *notices_for(const struct notices *ns, int64_t now, const char *category,
		  const char *lang, const char *text, size_t len)
{
	struct buf out;
	char *t = NULL;
	time_t tt = (time_t)now;
	struct tm tm;
	int today;

	buf_init(&out, 64 * 1024);
	if (!ns || !ns->count)
		return buf_detach(&out, NULL);
	localtime_r(&tt, &tm);
	today =
	    (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
	for (size_t i = 0; i < ns->count; i++) {
		const struct notice *n = &ns->n[i];
		int cat = 0, kw = n->nkw == 0;
		if (today < n->from || today > n->until)
			continue;
		for (size_t k = 0; k < n->ncats; k++)
			if (category && strcmp(n->cats[k], category) == 0)
				cat = 1;
		if (!cat)
			continue;
		if (!kw) {
			if (!t) {
				struct buf b;
				buf_init(&b, len * 4 + 16);
				if (text &&
				    match_normalize(text, len, &b) < 0) {
					/* cannot happen: 4x room */
				}
				t = buf_detach(&b, NULL);
			}
			for (size_t k = 0; k < n->nkw && !kw; k++)
				kw = found(t, n->kw[k]);
		}
		if (!kw)
			continue;
		const char *msg =
		    (lang && strcmp(lang, "zh") == 0 && n->zh) ? n->zh : n->en;
		if ((out.len && buf_addc(&out, '\n') < 0) ||
		    buf_adds(&out, msg) < 0)
			break;
	}
	free(t);
	return buf_detach(&out, NULL);
}
