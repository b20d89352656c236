/* rules: load keyword rules from YAML into one compiled set and classify
 * messages with it. All keywords of all rules go into one matcher (match.c),
 * scanned once per field; rules are then decided from bit sets, so the cost
 * does not grow with the number of keywords. Reads rule files, nothing
 * else. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "match.h"
#include "quote.h"
#include "rules.h"
#include "text.h"
#include "yml.h"

#define F(x) (1u << (x))
#define DEFAULT_FIELDS (F(RULES_SUBJECT) | F(RULES_BODY))
#define MAX_FROM_PATTERNS 100
#define MAX_REGEX_TEXT (256u * 1024)

enum lang { LANG_ANY, LANG_EN, LANG_ZH };

/* A keyword written a second time in the same list (in the same entry of
 * an 'all' list), perhaps in another case, width or script: the loader
 * keeps one, and 'rules check' says so. */
struct kwdup {
	char *as_written;
	unsigned line, col, first_line;
	const char *what; /* "any", "all", "none" */
};

/* A keyword list. In 'all', an entry may itself be a list of
 * alternatives: group[i] numbers the entry keyword i belongs to, and each
 * entry needs one of its keywords. */
struct kwlist {
	unsigned *kw;	   /* indexes into ruleset.kw */
	unsigned *group;   /* entry of each keyword */
	unsigned *line_of; /* line of each keyword in its file */
	size_t n, ngroups;
	unsigned fields;
	int negatable; /* 0: "negatable: false", a negation never cancels */
	unsigned line, col;
	struct kwdup *dup; /* keywords written twice, for rules_lint */
	size_t ndup;
};

struct rule {
	char *name, *category, *priority, *tmpl, *file;
	unsigned line, col, tmpl_line, tmpl_col;
	int sla_hours, escalate, stop;
	char **tags;
	size_t ntags;
	struct kwlist any, all, none;
	regex_t *re;
	char *re_src;
	unsigned re_fields;
	enum lang lang;
	char **from;
	size_t nfrom;
};

struct keyword {
	const char *norm; /* normalised; owned by the ruleset's norms */
	char *orig;	  /* as first written */
	int negates;	  /* starts with a negation: never negated itself */
};

struct ruleset {
	struct rule *rules;
	size_t n;
	struct rule fallback;
	struct keyword *kw;
	size_t nkw, kwcap;
	struct strtab norms; /* kw[i].norm has id i + 1 */
	struct matcher *m;
	const char **cats, **tmpls;
	size_t ncats, ntmpls;
};

static const char *const field_names[RULES_NFIELDS] = {
    [RULES_SUBJECT] = "subject", [RULES_BODY] = "body",
    [RULES_FROM] = "from",	 [RULES_TO] = "to",
    [RULES_QUOTED] = "quoted",
};

const char *rules_field_name(enum rules_field f)
{
	return field_names[f];
}

/* ---------------------------------------------------------------- negation */

/* Words that negate a Latin keyword a few words later ("it's not damaged",
 * "nothing was broken"), and words that end a clause. Text is normalised:
 * lowercase, single spaces, straight apostrophes. */
static const char *const negators[] = {
    "not",    "no",	 "never",     "nothing",  "none",      "without",
    "nor",    "neither", "don't",     "dont",	  "doesn't",   "doesnt",
    "didn't", "didnt",	 "isn't",     "isnt",	  "wasn't",    "wasnt",
    "aren't", "arent",	 "weren't",   "werent",	  "won't",     "wont",
    "can't",  "cant",	 "cannot",    "haven't",  "havent",    "hasn't",
    "hasnt",  "hadn't",	 "shouldn't", "wouldn't", "nothing's", "nothings",
    "nobody", "ain't",	 "aint",      NULL};
/* ("or" does not end it: "not damaged or defective" negates both) */
static const char *const clause_ends[] = {
    "but", "and", "so", "because", "however", "though", "although", "if", NULL};

static int word_in(const char *w, size_t n, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (strlen(list[i]) == n && memcmp(list[i], w, n) == 0)
			return 1;
	return 0;
}

/* 不 没 未 无 非 别, and Cantonese 冇 ("hasn't", "no") and 唔 ("not"). */
static int cjk_negator(unsigned cp)
{
	return cp == 0x4E0D || cp == 0x6CA1 || cp == 0x672A || cp == 0x65E0 ||
	       cp == 0x975E || cp == 0x522B || cp == 0x5187 || cp == 0x5514;
}

/* Does keyword kw (normalised) start with a negation word? */
static int starts_negated(const char *kw)
{
	size_t n = strcspn(kw, " ");
	unsigned cp;

	if (word_in(kw, n, negators))
		return 1;
	text_utf8_decode(kw, strlen(kw), &cp);
	return cjk_negator(cp);
}

static int is_clause_punct(unsigned cp)
{
	return cp == '.' || cp == ',' || cp == '!' || cp == '?' || cp == ';' ||
	       cp == ':' || cp == 0x3002 || cp == 0xFF0C || cp == 0x3001 ||
	       cp == 0xFF01 || cp == 0xFF1F || cp == 0xFF1B || cp == 0xFF1A ||
	       cp == '(' || cp == ')' || cp == '"';
}

/* Step back from t[i] to the start of the previous code point. */
static size_t prev_cp(const char *t, size_t i, unsigned *cp)
{
	size_t j = i - 1;

	while (j > 0 && ((unsigned char)t[j] & 0xC0) == 0x80)
		j--;
	text_utf8_decode(t + j, i - j, cp);
	return j;
}

/* Decode the code point at t[i] (t NUL-terminated: at most four bytes
 * are read, however long the rest is); its length. */
static size_t next_cp(const char *t, size_t i, unsigned *cp)
{
	return text_utf8_decode(t + i, strnlen(t + i, 4), cp);
}

/* Is the negation character at t[j..i) the middle of a question "A不A"
 * (是不是, 有没有, 能不能, 会不会, 係唔係): the same character before and
 * after it? Or Cantonese 有冇 ("is there", "did it"), which asks too. */
static int a_not_a(const char *t, size_t j, size_t i)
{
	unsigned before, after, neg;

	if (j == 0 || t[i] == '\0')
		return 0;
	prev_cp(t, j, &before);
	text_utf8_decode(t + j, i - j, &neg);
	if (before == 0x6709 && neg == 0x5187) /* 有冇 */
		return 1;
	next_cp(t, i, &after);
	return before == after && before >= 0x3400;
}

/* Does a list go on after the keyword ending at t[end]: "or"/"nor" or a
 * comma within the next three words ("nothing dented, scratched or
 * wobbly")? */
static int list_goes_on(const char *t, size_t end)
{
	end += strcspn(t + end, " ,.;:!?"); /* the rest of a prefix's word */
	for (int words = 0; words < 3; words++) {
		size_t n;
		unsigned cp;
		if (t[end] == ',') {
			/* a list of words goes on: "dented, scratched"; not
			 * a Chinese clause after a full-width comma */
			size_t k = end + 1 + (t[end + 1] == ' ');
			next_cp(t, k, &cp);
			return match_is_word_cp(cp);
		}
		if (t[end] != ' ')
			return 0;
		end++;
		n = strcspn(t + end, " ,.;:!?");
		if ((n == 2 && memcmp(t + end, "or", 2) == 0) ||
		    (n == 3 && memcmp(t + end, "nor", 3) == 0))
			return 1;
		if (n == 0)
			return 0;
		text_utf8_decode(t + end, n, &cp);
		if (!match_is_word_cp(cp))
			return 0;
		end += n;
	}
	return 0;
}

/* Is a CJK keyword ending at t[end] denied right after it, to the end of
 * the clause: "线头都没有。", "划痕也冇", "破损都没有啊" (都 or 也, then 没有,
 * 没, 冇 or 无, then at most a particle)? "坏了也没人管" goes on, so it is
 * not. */
static int denied_after(const char *t, size_t end)
{
	size_t i = end, k;
	unsigned cp;
	int neg = 0;

	k = next_cp(t, i, &cp);
	if (!k || (cp != 0x90FD && cp != 0x4E5F)) /* 都 也 */
		return 0;
	i += k;
	k = next_cp(t, i, &cp);
	if (k && (cp == 0x6CA1 || cp == 0x5187 || cp == 0x65E0)) { /* 没冇无 */
		neg = 1;
		i += k;
		k = next_cp(t, i, &cp);
		if (k && cp == 0x6709) { /* 有 */
			i += k;
			k = next_cp(t, i, &cp);
		}
	}
	if (!neg)
		return 0;
	/* 了 啊 呀 喔 嘅 啦 */
	if (k && (cp == 0x4E86 || cp == 0x554A || cp == 0x5440 ||
		  cp == 0x5594 || cp == 0x5605 || cp == 0x5566)) {
		i += k;
		k = next_cp(t, i, &cp);
	}
	return !k || cp == ' ' || cp == '\n' || is_clause_punct(cp);
}

/* Is the occurrence at t[start..end) negated? Latin keywords: one of the
 * five words before it, within the clause, is a negation ("I'm not going
 * to leave a bad review"); a comma ends the clause unless a short list
 * goes on across it ("nothing dented, scratched or wobbly"). CJK keywords:
 * the character before it, skipping up to three filler characters (是 会
 * 给 们 ...), is a negation ("不是发错", "不会给差评", "没有坏", "冇烂"). */
static int negated(const char *t, size_t start, size_t end, int latin)
{
	static const unsigned fillers[] = {
	    0x662F, 0x4F1A, 0x7ED9, 0x4EEC, 0x4F60, 0x6211, 0x4ED6, 0x5979,
	    0x5B83, 0x8FD9, 0x90A3, 0x88AB, 0x7B97, 0x6709, 0x8BF4, 0x8981,
	    0x518D, 0x4E5F, 0x90FD, 0x5E76, 0x5C31, 0x8FD8, 0x7CFB, 0x5497,
	    0x54CB, 0x4F62, 0x7528, 0x4F7F, 0x4EFB, 0x4F55, 0x60F3, 0x7740,
	    0x6025, 0x4EF6, 0x6765, 0};
	/* 是会给们你我他她它这那被算有说要再也都并就还, Cantonese 系(係) 咗
	 * 哋 佢, 用 使 ("不用退货", "唔使退款": no need to), 任 何 ("没有任何
	 * 破损"), 想 ("不想退货"), 着 急 ("不着急退款", "不急着退"), 件 ("不是
	 * 说件丢了"), 来 ("不是来退货的", "不是来投诉的": not here to) */
	size_t i = start;
	unsigned cp;

	if (latin) {
		int list = -1; /* does a list go on after the keyword? */
		int since_comma = 0, commas = 0, or_seen = 0, crossed = 0;
		for (int words = 0; words < 5 && i > 0;) {
			size_t wend;
			while (i > 0 && t[i - 1] == ' ')
				i--;
			if (i == 0)
				break;
			wend = i;
			while (i > 0 && t[i - 1] != ' ') {
				size_t j = prev_cp(t, i, &cp);
				if (is_clause_punct(cp))
					break;
				i = j;
			}
			if (i == wend) {
				/* punctuation: the clause ends, unless it is
				 * a comma inside a short list */
				prev_cp(t, i, &cp);
				if (cp != ',' || since_comma > 2 ||
				    ++commas > 2)
					return 0;
				if (list < 0)
					list = list_goes_on(t, end);
				if (!list && !or_seen)
					return 0;
				i--;
				since_comma = 0;
				crossed = 1;
				continue;
			}
			if (word_in(t + i, wend - i, negators))
				/* "No, it's broken": an answer, not a
				 * negation of what follows the comma */
				return !(crossed && since_comma == 0);
			if (word_in(t + i, wend - i, clause_ends))
				return 0;
			if ((wend - i == 2 && memcmp(t + i, "or", 2) == 0) ||
			    (wend - i == 3 && memcmp(t + i, "nor", 3) == 0))
				or_seen = 1;
			words++;
			since_comma++;
			if (i > 0 && t[i - 1] != ' ' && t[i - 1] != ',')
				return 0; /* punctuation right before */
		}
		return 0;
	}
	if (denied_after(t, end))
		return 1;
	for (int skipped = 0; i > 0;) {
		size_t j = prev_cp(t, i, &cp);
		int filler = 0;
		if (cjk_negator(cp))
			return !a_not_a(t, j, i);
		for (size_t k = 0; fillers[k]; k++)
			if (fillers[k] == cp)
				filler = 1;
		if (!filler || ++skipped > 3)
			return 0;
		i = j;
	}
	return 0;
}

/* ------------------------------------------------------------ side stories */

/* Words that open a side story: another time or another seller ("Last year
 * the one I got from another shop came cracked, so please pack it well").
 * Text is normalised (lowercase, simplified Chinese). */
static const char *const aside_openers[] = {"last time",
					    "last year",
					    "last christmas",
					    "the time before",
					    "a previous order",
					    "my previous order",
					    "my last order",
					    "a few years ago",
					    "years ago",
					    "another seller",
					    "another shop",
					    "another store",
					    "another retailer",
					    "another website",
					    "a different seller",
					    "a different shop",
					    "other sellers",
					    "上次",
					    "上回",
					    "上一次",
					    "上一单",
					    "去年",
					    "前年",
					    "旧年",
					    "别家",
					    "别的店",
					    "别的卖家",
					    "别的商家",
					    "其他店",
					    "其他卖家",
					    "其他商家",
					    "另一家",
					    NULL};
/* Words that turn back to the request at hand ("but this time", 这次). */
static const char *const aside_turns[] = {
    "but",	"however",    "though", "although",  "yet",
    "so",	"again",      "now",	"this time", "this year",
    "this one", "this order", "today",	"但",	     "可是",
    "不过",	"所以",	      "这次",	"这回",	     "这一次",
    "这单",	"今年",	      "现在",	"又",	     NULL};
/* Words that make an opener a comparison ("like last time", 跟上次一样). */
static const char *const aside_likes[] = {"like", "as", "than", "跟", "和",
					  "像",	  "同", "比",	NULL};

/* Does t[i..) start with w, as a whole word when w is Latin? */
static int word_at(const char *t, size_t i, size_t end, const char *w)
{
	size_t n = strlen(w);
	unsigned cp;

	if (n > end - i || memcmp(t + i, w, n) != 0)
		return 0;
	text_utf8_decode(w, n, &cp);
	if (!match_is_word_cp(cp))
		return 1; /* Chinese: anywhere */
	if (i > 0) {
		prev_cp(t, i, &cp);
		if (match_is_word_cp(cp))
			return 0;
	}
	if (i + n < end && text_utf8_decode(t + i + n, end - i - n, &cp) &&
	    match_is_word_cp(cp))
		return 0;
	return 1;
}

/* Does a word of list start at t[i]? Its length, or 0. */
static size_t list_at(const char *t, size_t i, size_t n,
		      const char *const *list)
{
	for (size_t k = 0; list[k]; k++)
		if (t[i] == list[k][0] && t[i + 1] == list[k][1] &&
		    word_at(t, i, n, list[k]))
			return strlen(list[k]);
	return 0;
}

/* Is the opener at t[i] a comparison: "like last time", 跟上次一样? */
static int compared(const char *t, size_t i, size_t n)
{
	if (i > 0 && t[i - 1] == ' ')
		i--;
	for (size_t k = 0; aside_likes[k]; k++) {
		size_t l = strlen(aside_likes[k]);
		if (i >= l && word_at(t, i - l, n, aside_likes[k]))
			return 1;
	}
	return 0;
}

#define ASIDE_REACH 300 /* bytes a side story runs at most */

/* Append the pair [from, to) to the *count pairs of *spans (room for *cap). */
static void add_span(size_t **spans, size_t *count, size_t *cap, size_t from,
		     size_t to)
{
	if (*count == *cap) {
		*cap = *cap ? 2 * *cap : 4;
		*spans = xreallocarray(*spans, *cap, 2 * sizeof(size_t));
	}
	(*spans)[2 * *count] = from;
	(*spans)[2 * *count + 1] = to;
	(*count)++;
}

/* The side stories of normalised text t[0..n), in one pass: each runs from
 * an opener of another time or another seller ("last year", "another
 * shop", 上次, 别家) to the end of its sentence, a turn back to the request
 * at hand ("but", "this time", 这次), or ASIDE_REACH bytes, whichever comes
 * first. An opener in a comparison ("like last time") opens none. Sets
 * spans to a malloc'd array of [from, to) pairs; returns their number. */
static size_t aside_spans(const char *t, size_t n, size_t **spans)
{
	size_t i = 0, count = 0, cap = 0, from = 0;
	int open = 0;

	*spans = NULL;
	for (i = 0; aside_openers[i]; i++)
		if (memmem(t, n, aside_openers[i], strlen(aside_openers[i])))
			break;
	if (!aside_openers[i])
		return 0; /* most texts: no opener at all */
	i = 0;
	while (i < n) {
		unsigned cp;
		size_t k = text_utf8_decode(t + i, n - i, &cp), l;
		int end = cp == '.' || cp == '!' || cp == '?' || cp == ';' ||
			  cp == 0x3002 || cp == 0xFF01 || cp == 0xFF1F ||
			  cp == 0xFF1B || cp == 0x2026;
		if (open && (end || i - from >= ASIDE_REACH ||
			     (l = list_at(t, i, n, aside_turns)) > 0)) {
			add_span(spans, &count, &cap, from, i);
			open = 0;
		}
		if (!end && (l = list_at(t, i, n, aside_openers)) > 0) {
			if (!open && !compared(t, i, n)) {
				open = 1;
				from = i + l;
			}
			i += l;
			continue;
		}
		i += k;
	}
	if (open)
		add_span(spans, &count, &cap, from, n);
	return count;
}

/* Is pos inside one of the n sorted, disjoint [from, to) pairs of spans? */
static int in_spans(const size_t *spans, size_t n, size_t pos)
{
	size_t lo = 0, hi = n;

	while (lo < hi) { /* the first span ending after pos */
		size_t mid = lo + (hi - lo) / 2;
		if (spans[2 * mid + 1] <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && spans[2 * lo] <= pos;
}

/* ---------------------------------------------------------------- freeing */

static void kwlist_release(struct kwlist *kl)
{
	free(kl->kw);
	free(kl->group);
	free(kl->line_of);
	for (size_t i = 0; i < kl->ndup; i++)
		free(kl->dup[i].as_written);
	free(kl->dup);
}

static void rule_release(struct rule *r)
{
	free(r->name);
	free(r->category);
	free(r->priority);
	free(r->tmpl);
	free(r->file);
	for (size_t i = 0; i < r->ntags; i++)
		free(r->tags[i]);
	free(r->tags);
	kwlist_release(&r->any);
	kwlist_release(&r->all);
	kwlist_release(&r->none);
	if (r->re) {
		regfree(r->re);
		free(r->re);
	}
	free(r->re_src);
	for (size_t i = 0; i < r->nfrom; i++)
		free(r->from[i]);
	free(r->from);
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
	for (size_t i = 0; i < set->nkw; i++)
		free(set->kw[i].orig);
	free(set->kw);
	strtab_free(&set->norms);
	match_free(&set->m);
	free(set->cats);
	free(set->tmpls);
	free(set);
	*setp = NULL;
}

size_t rules_count(const struct ruleset *set)
{
	return set->n;
}

const char *rules_name_at(const struct ruleset *set, size_t i)
{
	return i < set->n ? set->rules[i].name : NULL;
}

size_t rules_keywords(const struct ruleset *set)
{
	return set->nkw;
}

size_t rules_templates(const struct ruleset *set, const char ***names_r)
{
	*names_r = set->tmpls;
	return set->ntmpls;
}

size_t rules_categories(const struct ruleset *set, const char ***names_r)
{
	*names_r = set->cats;
	return set->ncats;
}

/* ---------------------------------------------------------------- keywords */

/* Index of normalised keyword norm, adding it if new. */
static unsigned intern(struct ruleset *set, const char *norm, const char *orig)
{
	uint32_t id = strtab_id(&set->norms, norm);

	if (id <= set->nkw)
		return id - 1;
	if (set->nkw == set->kwcap) {
		set->kwcap = set->kwcap ? set->kwcap * 2 : 64;
		set->kw = xreallocarray(set->kw, set->kwcap, sizeof(*set->kw));
	}
	set->kw[set->nkw].norm = strtab_str(&set->norms, id);
	set->kw[set->nkw].orig = xstrdup(orig);
	set->kw[set->nkw].negates = starts_negated(norm);
	return (unsigned)set->nkw++;
}

static char *normalize(const char *s, size_t n)
{
	struct buf b;

	buf_init(&b, n * 4 + 16);
	if (match_normalize(s, n, &b) < 0) {
		/* cannot happen: 4x room; keep what fit */
	}
	return buf_detach(&b, NULL);
}

/* ---------------------------------------------------------------- loading */

struct loader {
	struct ruleset *set;
	const struct yml_doc *doc;
	struct xerr *err;
};

static int load_fields(struct loader *l, const struct yml_node *v,
		       unsigned *fields_r)
{
	const struct yml_doc *doc = l->doc;

	if (yml_expect(doc, v, YML_SEQ, "fields", l->err) < 0)
		return -1;
	if (v->n == 0)
		return yml_error(doc, v, l->err, "fields is an empty list");
	*fields_r = 0;
	for (size_t i = 0; i < v->n; i++) {
		int f;
		if (yml_expect(doc, v->items[i], YML_SCALAR, "a field",
			       l->err) < 0)
			return -1;
		for (f = 0; f < RULES_NFIELDS; f++)
			if (strcmp(v->items[i]->str, field_names[f]) == 0)
				break;
		if (f == RULES_NFIELDS)
			return yml_error(doc, v->items[i], l->err,
					 "unknown field '%s' (subject, body, "
					 "from, to, quoted)",
					 v->items[i]->str);
		*fields_r |= F(f);
	}
	return 0;
}

/* kl->kw[kl->n], just interned from k, is already in the list: remember
 * where, for rules_lint */
static void note_dup(struct kwlist *kl, const char *what,
		     const struct yml_node *k)
{
	for (size_t j = 0; j < kl->n; j++) {
		/* in an 'all' list, one keyword may meet two entries at
		 * once on purpose: only a repeat within an entry counts */
		if (kl->kw[j] != kl->kw[kl->n] ||
		    (strcmp(what, "all") == 0 &&
		     kl->group[j] != kl->group[kl->n]))
			continue;
		kl->dup =
		    xreallocarray(kl->dup, kl->ndup + 1, sizeof(*kl->dup));
		kl->dup[kl->ndup++] =
		    (struct kwdup){xstrndup(k->str, k->len), k->line, k->col,
				   kl->line_of[j], what};
		return;
	}
}

/* A keyword list: [kw, ...], a single keyword, or {keywords: [...],
 * fields: [...]}. */
static int load_kwlist(struct loader *l, const struct yml_node *v,
		       const char *what, struct kwlist *kl)
{
	static const char *const keys[] = {"keywords", "fields", "negatable",
					   NULL};
	const struct yml_doc *doc = l->doc;
	const struct yml_node *list = v, *f;

	kl->fields = DEFAULT_FIELDS;
	kl->negatable = 1;
	kl->line = v->line;
	kl->col = v->col;
	if (v->type == YML_MAP) {
		if (yml_check_keys(doc, v, keys, l->err) < 0)
			return -1;
		if (!(list = yml_get(v, "keywords")))
			return yml_error(doc, v, l->err,
					 "%s: 'keywords' is required", what);
		if ((f = yml_get(v, "fields")) &&
		    load_fields(l, f, &kl->fields) < 0)
			return -1;
		if ((f = yml_get(v, "negatable")) &&
		    yml_bool(doc, f, "negatable", &kl->negatable, l->err) < 0)
			return -1;
	}
	if (list->type == YML_SCALAR) {
		/* a single keyword written without brackets */
	} else if (yml_expect(doc, list, YML_SEQ, what, l->err) < 0) {
		return -1;
	} else if (list->n == 0) {
		return yml_error(doc, list, l->err,
				 "%s is an empty list: give at least one "
				 "keyword or remove it",
				 what);
	}
	size_t n = list->type == YML_SCALAR ? 1 : list->n;
	for (size_t i = 0; i < n; i++) {
		const struct yml_node *e =
		    list->type == YML_SCALAR ? list : list->items[i];
		size_t m = e->type == YML_SEQ ? e->n : 1;
		if (e->type == YML_SEQ && m == 0)
			return yml_error(doc, e, l->err,
					 "%s: empty list of alternatives",
					 what);
		if (e->type == YML_MAP)
			return yml_error(doc, e, l->err,
					 "%s: a keyword, or a list of "
					 "alternatives, not a mapping",
					 what);
		for (size_t j = 0; j < m; j++) {
			const struct yml_node *k =
			    e->type == YML_SEQ ? e->items[j] : e;
			char *norm;
			if (yml_expect(doc, k, YML_SCALAR, "a keyword",
				       l->err) < 0)
				return -1;
			if (!text_utf8_valid(k->str, k->len) ||
			    memchr(k->str, '\0', k->len))
				return yml_error(doc, k, l->err,
						 "keyword is not valid UTF-8 "
						 "text");
			norm = normalize(k->str, k->len);
			if (!*norm || strcmp(norm, "*") == 0) {
				free(norm);
				return yml_error(doc, k, l->err,
						 "%s: empty keyword", what);
			}
			if (strlen(norm) > MATCH_MAX_KEYWORD) {
				free(norm);
				return yml_error(doc, k, l->err,
						 "%s: keyword longer than %u "
						 "bytes (an unclosed quote?)",
						 what, MATCH_MAX_KEYWORD);
			}
			if (strchr(norm, '*') != norm + strlen(norm) - 1 &&
			    strchr(norm, '*')) {
				free(norm);
				return yml_error(
				    doc, k, l->err,
				    "%s: '*' may only end a keyword "
				    "(a prefix: 'damag*')",
				    what);
			}
			kl->kw =
			    xreallocarray(kl->kw, kl->n + 1, sizeof(*kl->kw));
			kl->group = xreallocarray(kl->group, kl->n + 1,
						  sizeof(*kl->group));
			kl->line_of = xreallocarray(kl->line_of, kl->n + 1,
						    sizeof(*kl->line_of));
			kl->kw[kl->n] = intern(l->set, norm, k->str);
			kl->group[kl->n] = (unsigned)kl->ngroups;
			kl->line_of[kl->n] = k->line;
			note_dup(kl, what, k);
			kl->n++;
			free(norm);
			if (l->set->nkw > PQ_MAX_KEYWORDS)
				return yml_error(doc, k, l->err,
						 "more than %d different "
						 "keywords",
						 PQ_MAX_KEYWORDS);
		}
		kl->ngroups++;
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

static int load_name(struct loader *l, const struct yml_node *v,
		     const char *what, char **out)
{
	if (yml_str(l->doc, v, what, 0, out, l->err) < 0)
		return -1;
	if (!valid_name(*out))
		return yml_error(l->doc, v, l->err,
				 "%s '%s' may only use a-z, 0-9, '_' and '-'",
				 what, *out);
	return 0;
}

static int load_regex(struct loader *l, const struct yml_node *v,
		      struct rule *r)
{
	static const char *const keys[] = {"pattern", "fields", NULL};
	const struct yml_node *p = v, *f;
	char msg[256];
	int rc;

	r->re_fields = DEFAULT_FIELDS;
	if (v->type == YML_MAP) {
		if (yml_check_keys(l->doc, v, keys, l->err) < 0)
			return -1;
		if (!(p = yml_get(v, "pattern")))
			return yml_error(l->doc, v, l->err,
					 "regex: 'pattern' is required");
		if ((f = yml_get(v, "fields")) &&
		    load_fields(l, f, &r->re_fields) < 0)
			return -1;
	}
	if (yml_str(l->doc, p, "regex", 0, &r->re_src, l->err) < 0)
		return -1;
	r->re = xcalloc(1, sizeof(*r->re));
	rc = regcomp(r->re, r->re_src, REG_EXTENDED | REG_ICASE | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, r->re, msg, sizeof(msg));
		free(r->re);
		r->re = NULL;
		return yml_error(l->doc, p, l->err,
				 "regex is not a valid POSIX extended regular "
				 "expression: %s",
				 msg);
	}
	return 0;
}

static int load_match(struct loader *l, const struct yml_node *m,
		      struct rule *r)
{
	static const char *const keys[] = {"any",  "all",  "none", "regex",
					   "lang", "from", NULL};
	const struct yml_doc *doc = l->doc;
	struct yml_node *v;
	char *lang = NULL;

	if (yml_expect(doc, m, YML_MAP, "match", l->err) < 0 ||
	    yml_check_keys(doc, m, keys, l->err) < 0)
		return -1;
	if ((v = yml_get(m, "any")) && load_kwlist(l, v, "any", &r->any) < 0)
		return -1;
	if ((v = yml_get(m, "all")) && load_kwlist(l, v, "all", &r->all) < 0)
		return -1;
	if ((v = yml_get(m, "none")) && load_kwlist(l, v, "none", &r->none) < 0)
		return -1;
	if ((v = yml_get(m, "regex")) && load_regex(l, v, r) < 0)
		return -1;
	if ((v = yml_get(m, "lang"))) {
		if (yml_str(doc, v, "lang", 0, &lang, l->err) < 0)
			return -1;
		r->lang = strcmp(lang, "en") == 0   ? LANG_EN
			  : strcmp(lang, "zh") == 0 ? LANG_ZH
						    : LANG_ANY;
		if (r->lang == LANG_ANY && strcmp(lang, "any") != 0) {
			free(lang);
			return yml_error(doc, v, l->err,
					 "lang must be en, zh or any");
		}
		free(lang);
	}
	if ((v = yml_get(m, "from"))) {
		const struct yml_node *list = v;
		size_t n = v->type == YML_SCALAR ? 1 : v->n;
		if (v->type != YML_SCALAR &&
		    yml_expect(doc, v, YML_SEQ, "from", l->err) < 0)
			return -1;
		if (n == 0 || n > MAX_FROM_PATTERNS)
			return yml_error(doc, v, l->err,
					 "from must list 1 to %d address "
					 "patterns",
					 MAX_FROM_PATTERNS);
		r->from = xcalloc(n, sizeof(char *));
		for (size_t i = 0; i < n; i++) {
			const struct yml_node *p =
			    list->type == YML_SCALAR ? list : list->items[i];
			if (yml_str(doc, p, "from pattern", 0, &r->from[i],
				    l->err) < 0)
				return -1;
			r->nfrom++;
		}
	}
	if (r->any.n == 0 && r->all.n == 0 && !r->re && r->nfrom == 0)
		return yml_error(doc, m, l->err,
				 "rule '%s' has no 'any', 'all', 'regex' or "
				 "'from': it would match every message",
				 r->name);
	return 0;
}

static int load_rule(struct loader *l, const struct yml_node *m, struct rule *r,
		     const char *file)
{
	static const char *const keys[] = {
	    "name",	"category", "priority", "sla_hours", "template",
	    "escalate", "tags",	    "stop",	"match",     NULL};
	static const char *const prios[] = {"urgent", "high", "normal", "low",
					    NULL};
	static const char *const decide[] = {"category", "priority",
					     "sla_hours", "template", NULL};
	const struct yml_doc *doc = l->doc;
	struct yml_node *v;
	long long sla;

	r->file = xstrdup(file);
	r->line = m->line;
	r->col = m->col;
	r->stop = 1;
	if (yml_expect(doc, m, YML_MAP, "a rule", l->err) < 0 ||
	    yml_check_keys(doc, m, keys, l->err) < 0)
		return -1;
	if (!(v = yml_get(m, "name")))
		return yml_error(doc, m, l->err, "rule: 'name' is required");
	if (load_name(l, v, "rule name", &r->name) < 0)
		return -1;
	if ((v = yml_get(m, "stop")) &&
	    yml_bool(doc, v, "stop", &r->stop, l->err) < 0)
		return -1;
	if (!r->stop) {
		for (size_t i = 0; decide[i]; i++)
			if ((v = yml_get(m, decide[i])))
				return yml_error(
				    doc, v, l->err,
				    "rule '%s' has stop: false, so it only "
				    "adds tags and cannot set '%s'",
				    r->name, decide[i]);
		if (!yml_get(m, "tags") && !yml_get(m, "escalate"))
			return yml_error(
			    doc, m, l->err,
			    "rule '%s' has stop: false but no "
			    "tags or escalate: it would do nothing",
			    r->name);
	} else {
		if (!(v = yml_get(m, "category")))
			return yml_error(doc, m, l->err,
					 "rule '%s': 'category' is required",
					 r->name);
		if (load_name(l, v, "category", &r->category) < 0)
			return -1;
		r->priority = xstrdup("normal");
		if ((v = yml_get(m, "priority"))) {
			size_t i;
			if (yml_str(doc, v, "priority", 0, &r->priority,
				    l->err) < 0)
				return -1;
			for (i = 0; prios[i]; i++)
				if (strcmp(prios[i], r->priority) == 0)
					break;
			if (!prios[i])
				return yml_error(doc, v, l->err,
						 "priority must be urgent, "
						 "high, normal or low, not "
						 "'%s'",
						 r->priority);
		}
		r->sla_hours = 24;
		if ((v = yml_get(m, "sla_hours"))) {
			if (yml_int(doc, v, "sla_hours", 1, 24 * 30, &sla,
				    l->err) < 0)
				return -1;
			r->sla_hours = (int)sla;
		}
		r->tmpl = xstrdup(r->category);
		r->tmpl_line = r->line;
		r->tmpl_col = r->col;
		if ((v = yml_get(m, "template"))) {
			if (load_name(l, v, "template name", &r->tmpl) < 0)
				return -1;
			r->tmpl_line = v->line;
			r->tmpl_col = v->col;
		}
	}
	if ((v = yml_get(m, "escalate")) &&
	    yml_bool(doc, v, "escalate", &r->escalate, l->err) < 0)
		return -1;
	if ((v = yml_get(m, "tags"))) {
		if (yml_expect(doc, v, YML_SEQ, "tags", l->err) < 0)
			return -1;
		if (v->n > RULES_MAX_TAGS)
			return yml_error(doc, v, l->err, "at most %d tags",
					 RULES_MAX_TAGS);
		r->tags = xcalloc(v->n ? v->n : 1, sizeof(char *));
		for (size_t i = 0; i < v->n; i++) {
			r->ntags++; /* freed with the rule even if invalid */
			if (load_name(l, v->items[i], "tag", &r->tags[i]) < 0)
				return -1;
		}
	}
	if (!(v = yml_get(m, "match")))
		return yml_error(doc, m, l->err,
				 "rule '%s': 'match' is required (any, all, "
				 "none keyword lists)",
				 r->name);
	return load_match(l, v, r);
}

static int load_into(struct ruleset *set, const char *path, struct xerr *err)
{
	struct yml_doc *doc = NULL;
	struct yml_node *list;
	static const char *const keys[] = {"rules", NULL};
	struct loader l = {.set = set, .err = err};
	int ret = -1;

	if (yml_load_file(path, &doc, err) < 0)
		goto out;
	l.doc = doc;
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
		if (load_rule(&l, list->items[i], r, path) < 0)
			goto out;
		for (size_t j = 0; j + 1 < set->n; j++)
			if (strcmp(set->rules[j].name, r->name) == 0) {
				yml_error(doc, list->items[i], err,
					  "rule name '%s' is used twice (first "
					  "at %s:%u)",
					  r->name, set->rules[j].file,
					  set->rules[j].line);
				goto out;
			}
	}
	ret = 0;
out:
	yml_doc_free(&doc);
	return ret;
}

static void add_unique(const char ***arr, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*arr)[i], s) == 0)
			return;
	*arr = xreallocarray(*arr, *n + 1, sizeof(char *));
	(*arr)[(*n)++] = s;
}

static int finish(struct ruleset *set, struct xerr *err)
{
	struct rule *f = &set->fallback;

	f->name = xstrdup("general");
	f->category = xstrdup("general");
	f->priority = xstrdup("normal");
	f->tmpl = xstrdup("general");
	f->file = xstrdup("(built in)");
	f->sla_hours = 24;
	f->stop = 1;
	for (size_t i = 0; i <= set->n; i++) {
		const struct rule *r = i < set->n ? &set->rules[i] : f;
		if (!r->stop)
			continue;
		add_unique(&set->cats, &set->ncats, r->category);
		add_unique(&set->tmpls, &set->ntmpls, r->tmpl);
	}
	set->m = match_new();
	for (size_t k = 0; k < set->nkw; k++) {
		/* "damag*" is a prefix: damage, damaged, damaging */
		const char *kw = set->kw[k].norm;
		size_t len = strlen(kw);
		if (len > 1 && kw[len - 1] == '*')
			match_add_prefix(set->m, kw, len - 1, (unsigned)k);
		else
			match_add(set->m, kw, len, (unsigned)k);
	}
	return match_compile(set->m, err);
}

int rules_load_file(const char *path, struct ruleset **set_r, struct xerr *err)
{
	struct ruleset *set = xcalloc(1, sizeof(*set));

	if (load_into(set, path, err) < 0 || finish(set, err) < 0) {
		rules_free(&set);
		return -1;
	}
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
	if (finish(set, err) < 0)
		goto out;
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

int rules_check_templates(const struct ruleset *set,
			  int (*exists)(const char *name, void *ctx), void *ctx,
			  struct xerr *err)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct rule *r = &set->rules[i];
		if (!r->stop || exists(r->tmpl, ctx))
			continue;
		return xerr_set(err, XERR_CONFIG,
				"%s:%u:%u: rule '%s' uses template '%s', but "
				"templates/en/%s.txt does not exist",
				r->file, r->tmpl_line, r->tmpl_col, r->name,
				r->tmpl, r->tmpl);
	}
	if (!exists(set->fallback.tmpl, ctx))
		return xerr_set(err, XERR_CONFIG,
				"the fallback rule needs templates/en/%s.txt, "
				"which does not exist",
				set->fallback.tmpl);
	return 0;
}

/* ---------------------------------------------------------------- matching */

/* The message's fields, normalised, and which keywords each contains. */
struct scan {
	char *text[RULES_NFIELDS];
	size_t len[RULES_NFIELDS];
	uint64_t *bits[RULES_NFIELDS];	 /* found, not negated */
	uint64_t *anyhit[RULES_NFIELDS]; /* found, negated or not */
	uint64_t *main[RULES_NFIELDS];	 /* found, not negated, not aside */
	const char *lang;
	const char *from_addr;
};

static void scan_release(struct scan *s)
{
	for (int f = 0; f < RULES_NFIELDS; f++) {
		free(s->text[f]);
		free(s->bits[f]);
		free(s->anyhit[f]);
		free(s->main[f]);
	}
}

struct hit_ctx {
	const struct ruleset *set;
	const char *text;
	uint64_t *bits, *anyhit, *main;
	const size_t *spans; /* side stories: [from, to) pairs */
	size_t nspans;
};

/* Record keyword id as found unless this occurrence is negated, and as
 * found in the main story unless this occurrence is in a side story. */
static int on_hit(unsigned id, size_t start, size_t end, void *vctx)
{
	struct hit_ctx *c = vctx;
	const struct keyword *kw = &c->set->kw[id];
	unsigned cp;
	size_t first;

	c->anyhit[id / 64] |= (uint64_t)1 << (id % 64);
	if (c->main[id / 64] >> (id % 64) & 1)
		return 0;
	first = text_utf8_decode(kw->norm, strlen(kw->norm), &cp);
	if (!kw->negates && negated(c->text, start, end, match_is_word_cp(cp)))
		return 0;
	/* "不能用" inside the question "能不能用" is not the statement */
	if (kw->negates && !match_is_word_cp(cp) &&
	    a_not_a(c->text, start, start + first))
		return 0;
	c->bits[id / 64] |= (uint64_t)1 << (id % 64);
	if (!in_spans(c->spans, c->nspans, start))
		c->main[id / 64] |= (uint64_t)1 << (id % 64);
	return 0;
}

/* Is subject a reply or forward ("Re:", "RE :", "Fwd:", "回复：", "答复",
 * ...)? Then it repeats an earlier message's subject: it is quoted text,
 * and what the customer asks now is in the body. */
static int reply_subject(const char *subject)
{
	static const char *const prefixes[] = {
	    "re:",  "re :", "aw:",  "sv:",  "vs:",  "fw:",  "fwd:", "tr:",
	    "回复", "回覆", "答复", "转发", "轉寄", "轉發", NULL};

	while (*subject == ' ' || *subject == '[')
		subject++;
	for (size_t i = 0; prefixes[i]; i++)
		if (ascii_prefix(subject, prefixes[i]))
			return 1;
	return 0;
}

static void scan_message(const struct ruleset *set,
			 const struct rules_input *in, struct scan *s)
{
	struct buf fresh, quoted, addrs;
	size_t words = (set->nkw + 63) / 64;
	size_t body_len = in->body ? in->body_len : 0;

	memset(s, 0, sizeof(*s));
	if (body_len > PQ_MAX_TEXT_BYTES)
		body_len = PQ_MAX_TEXT_BYTES;
	buf_init(&fresh, body_len + 16);
	buf_init(&quoted,
		 body_len + (in->subject ? strlen(in->subject) : 0) + 16);
	const char *subject = in->subject ? in->subject : "";
	if (reply_subject(subject)) {
		/* matched as quoted text, not as the subject */
		if (buf_adds(&quoted, subject) < 0 ||
		    buf_addc(&quoted, '\n') < 0) {
			/* cannot happen: sized for it */
		}
		subject = "";
	}
	if (in->body && quote_split(in->body, body_len, &fresh, &quoted) < 0) {
		/* cannot happen: each buffer can hold the whole body */
	}
	buf_init(&addrs, 64 * 1024);
	if (in->from_name && buf_adds(&addrs, in->from_name) == 0)
		(void)!buf_addc(&addrs, ' ');
	if (in->from_addr && buf_adds(&addrs, in->from_addr) < 0) {
		/* an over-long address is matched as far as it fits */
	}
	s->text[RULES_FROM] =
	    normalize(addrs.data ? addrs.data : "", addrs.len);
	buf_reset(&addrs);
	for (size_t i = 0; i < in->nto; i++)
		if (buf_adds(&addrs, in->to[i]) < 0 ||
		    buf_addc(&addrs, ' ') < 0)
			break;
	s->text[RULES_TO] = normalize(addrs.data ? addrs.data : "", addrs.len);
	s->text[RULES_SUBJECT] = normalize(subject, strlen(subject));
	s->text[RULES_BODY] =
	    normalize(fresh.data ? fresh.data : "", fresh.len);
	s->text[RULES_QUOTED] =
	    normalize(quoted.data ? quoted.data : "", quoted.len);
	buf_release(&fresh);
	buf_release(&quoted);
	buf_release(&addrs);
	for (int f = 0; f < RULES_NFIELDS; f++) {
		struct hit_ctx hc = {.set = set, .text = s->text[f]};
		s->len[f] = strlen(s->text[f]);
		s->bits[f] = xcalloc(words ? words : 1, sizeof(uint64_t));
		s->anyhit[f] = xcalloc(words ? words : 1, sizeof(uint64_t));
		hc.bits = s->bits[f];
		hc.anyhit = s->anyhit[f];
		s->main[f] = xcalloc(words ? words : 1, sizeof(uint64_t));
		hc.main = s->main[f];
		if (set->nkw) {
			size_t *spans = NULL;
			hc.nspans = 0;
			/* (addresses tell no stories) */
			if (f != RULES_FROM && f != RULES_TO)
				hc.nspans =
				    aside_spans(s->text[f], s->len[f], &spans);
			hc.spans = spans;
			match_scan(set->m, s->text[f], s->len[f], on_hit, &hc);
			free(spans);
		}
	}
	s->lang = in->lang;
	s->from_addr = in->from_addr;
}

/* The first field of list kl's fields whose text contains keyword k, or
 * -1. Negated occurrences do not count unless the list says negations do
 * not; occurrences in a side story count only when asides is set. */
static int found_in(const struct scan *s, unsigned k, const struct kwlist *kl,
		    int asides)
{
	uint64_t *const *maps = !kl->negatable ? s->anyhit
				: asides       ? s->bits
					       : s->main;

	for (int f = 0; f < RULES_NFIELDS; f++)
		if ((kl->fields & F(f)) && (maps[f][k / 64] >> (k % 64) & 1))
			return f;
	return -1;
}

struct why {
	/* Filled only when explaining. */
	FILE *f;
	const struct ruleset *set;
};

static void add_hit(struct rules_verdict *v, const struct ruleset *set,
		    unsigned k, int field)
{
	for (size_t i = 0; i < v->nmatched; i++)
		if (v->matched[i].keyword == set->kw[k].orig &&
		    v->matched[i].field == (enum rules_field)field)
			return;
	if (v->nmatched < RULES_MAX_MATCHED) {
		v->matched[v->nmatched].keyword = set->kw[k].orig;
		v->matched[v->nmatched].field = (enum rules_field)field;
		v->nmatched++;
	}
}

static int regex_matches(const struct rule *r, const struct scan *s)
{
	for (int f = 0; f < RULES_NFIELDS; f++) {
		if (!(r->re_fields & F(f)))
			continue;
		/* regexec needs a C string; very long texts are cut. */
		if (s->len[f] <= MAX_REGEX_TEXT) {
			if (regexec(r->re, s->text[f], 0, NULL, 0) == 0)
				return 1;
		} else {
			char *cut = xstrndup(s->text[f], MAX_REGEX_TEXT);
			int hit = regexec(r->re, cut, 0, NULL, 0) == 0;
			free(cut);
			if (hit)
				return 1;
		}
	}
	return 0;
}

static int from_matches(const struct rule *r, const char *addr)
{
	if (!addr)
		return 0;
	for (size_t i = 0; i < r->nfrom; i++)
		if (fnmatch(r->from[i], addr, FNM_CASEFOLD) == 0)
			return 1;
	return 0;
}

/* When explaining: keyword k of list kl (named list) was found, but only
 * in a side story, so it does not count. */
static void told_aside(const struct why *w, const struct ruleset *set,
		       const struct scan *s, const struct kwlist *kl,
		       unsigned k, const char *list)
{
	int f;

	if (w->f && (f = found_in(s, k, kl, 1)) >= 0)
		fprintf(w->f,
			"    %s: '%s' found in %s only in a side story "
			"(another time or seller): not counted\n",
			list, set->kw[k].orig, field_names[f]);
}

/* Does rule r match? Records its keyword hits in v when it does; explains
 * to w->f when set. */
static int rule_matches(const struct ruleset *set, const struct rule *r,
			const struct scan *s, struct rules_verdict *v,
			const struct why *w)
{
	size_t before = v->nmatched, i;
	int f, ok = 1;

	if (r->lang != LANG_ANY && s->lang &&
	    strcmp(s->lang, r->lang == LANG_EN ? "en" : "zh") != 0) {
		if (w->f)
			fprintf(w->f, "    no: the message is not in %s\n",
				r->lang == LANG_EN ? "en" : "zh");
		return 0;
	}
	if (r->nfrom && !from_matches(r, s->from_addr)) {
		if (w->f)
			fprintf(w->f,
				"    no: sender %s fits no from pattern\n",
				s->from_addr ? s->from_addr : "(none)");
		return 0;
	}
	for (i = 0; i < r->none.n; i++)
		if ((f = found_in(s, r->none.kw[i], &r->none, 1)) >= 0) {
			if (w->f)
				fprintf(w->f,
					"    no: excluded by '%s' in %s\n",
					set->kw[r->none.kw[i]].orig,
					field_names[f]);
			ok = 0;
			if (!w->f)
				goto no;
		}
	for (size_t g = 0, i0 = 0; g < r->all.ngroups; g++) {
		int found = 0;
		size_t i1 = i0;
		while (i1 < r->all.n && r->all.group[i1] == g)
			i1++;
		for (i = i0; i < i1; i++) {
			if ((f = found_in(s, r->all.kw[i], &r->all,
					  r->escalate)) < 0) {
				told_aside(w, set, s, &r->all, r->all.kw[i],
					   "all");
				continue;
			}
			found = 1;
			add_hit(v, set, r->all.kw[i], f);
			if (w->f)
				fprintf(w->f, "    all: '%s' found in %s\n",
					set->kw[r->all.kw[i]].orig,
					field_names[f]);
			break;
		}
		if (!found) {
			if (w->f)
				fprintf(
				    w->f, "    no: '%s'%s (all) not found\n",
				    set->kw[r->all.kw[i0]].orig,
				    i1 - i0 > 1 ? " or its alternatives" : "");
			ok = 0;
			if (!w->f)
				goto no;
		}
		i0 = i1;
	}
	if (r->any.n) {
		int any = 0;
		for (i = 0; i < r->any.n; i++) {
			if ((f = found_in(s, r->any.kw[i], &r->any,
					  r->escalate)) < 0) {
				told_aside(w, set, s, &r->any, r->any.kw[i],
					   "any");
				continue;
			}
			any = 1;
			add_hit(v, set, r->any.kw[i], f);
			if (w->f)
				fprintf(w->f, "    any: '%s' found in %s\n",
					set->kw[r->any.kw[i]].orig,
					field_names[f]);
		}
		if (!any) {
			if (w->f)
				fprintf(w->f,
					"    no: none of its %zu 'any' "
					"keywords found\n",
					r->any.n);
			ok = 0;
		}
	}
	if (ok && r->re && !regex_matches(r, s)) {
		if (w->f)
			fprintf(w->f, "    no: regex /%s/ does not match\n",
				r->re_src);
		ok = 0;
	}
	if (ok)
		return 1;
no:
	v->nmatched = before;
	return 0;
}

static void evaluate(const struct ruleset *set, const struct rules_input *in,
		     struct rules_verdict *v, FILE *explain)
{
	const struct rule *hit = &set->fallback;
	struct why w = {.f = explain, .set = set};
	struct scan s;

	memset(v, 0, sizeof(*v));
	scan_message(set, in, &s);
	for (size_t i = 0; i < set->n; i++) {
		const struct rule *r = &set->rules[i];
		if (explain)
			fprintf(explain, "%s:%u: rule %s%s%s\n", r->file,
				r->line, r->name, r->stop ? " -> " : " (tags)",
				r->stop ? r->category : "");
		if (!rule_matches(set, r, &s, v, &w)) {
			if (explain)
				fprintf(explain, "  not matched\n");
			continue;
		}
		if (explain)
			fprintf(explain, "  MATCHED%s\n",
				r->stop ? ": decides the case" : "");
		for (size_t t = 0; t < r->ntags && v->ntags < RULES_MAX_TAGS;
		     t++) {
			size_t k;
			for (k = 0; k < v->ntags; k++)
				if (strcmp(v->tags[k], r->tags[t]) == 0)
					break;
			if (k == v->ntags)
				v->tags[v->ntags++] = r->tags[t];
		}
		if (r->escalate)
			v->escalate = 1;
		if (r->stop) {
			hit = r;
			break;
		}
	}
	v->rule = hit->name;
	v->category = hit->category;
	v->priority = hit->priority;
	v->tmpl = hit->tmpl;
	v->sla_hours = hit->sla_hours;
	if (explain) {
		if (hit == &set->fallback)
			fprintf(explain, "no rule matched: fallback general\n");
		fprintf(explain,
			"verdict: category %s, priority %s, %dh, template %s, "
			"rule %s%s",
			v->category, v->priority, v->sla_hours, v->tmpl,
			v->rule, v->escalate ? ", escalate" : "");
		for (size_t t = 0; t < v->ntags; t++)
			fprintf(explain, "%s%s",
				t ? " " : ", tags: ", v->tags[t]);
		fputc('\n', explain);
	}
	scan_release(&s);
}

void rules_classify(const struct ruleset *set, const struct rules_input *in,
		    struct rules_verdict *v_r)
{
	evaluate(set, in, v_r, NULL);
}

void rules_explain(const struct ruleset *set, const struct rules_input *in,
		   FILE *f)
{
	struct rules_verdict v;

	evaluate(set, in, &v, f);
}

/* ---------------------------------------------------------------- lint */

struct contains_ctx {
	const struct ruleset *set;
	const struct rule *a;
	unsigned found; /* keyword index + 1 of a's any list found */
};

static int contains_cb(unsigned id, size_t start, size_t end, void *vctx)
{
	struct contains_ctx *c = vctx;

	(void)start;
	(void)end;
	for (size_t i = 0; i < c->a->any.n; i++)
		if (c->a->any.kw[i] == id) {
			c->found = id + 1;
			return 1;
		}
	return 0;
}

/* Keyword index of a->any found (on word boundaries) inside keyword k, or
 * -1. */
static long any_inside(const struct ruleset *set, const struct rule *a,
		       unsigned k)
{
	struct contains_ctx c = {.set = set, .a = a};
	const char *t = set->kw[k].norm;

	match_scan(set->m, t, strlen(t), contains_cb, &c);
	return c.found ? (long)c.found - 1 : -1;
}

/* Does every exclusion of a exclude b too: each of a's 'none' keywords
 * in b's 'none' list, which looks in at least the same fields and counts
 * negations alike? */
static int none_covered(const struct rule *a, const struct rule *b)
{
	if (a->none.n == 0)
		return 1;
	if ((a->none.fields & ~b->none.fields) ||
	    a->none.negatable != b->none.negatable)
		return 0;
	for (size_t i = 0; i < a->none.n; i++) {
		size_t j = 0;
		while (j < b->none.n && b->none.kw[j] != a->none.kw[i])
			j++;
		if (j == b->none.n)
			return 0;
	}
	return 1;
}

/* Does every message rule b matches also match rule a (a earlier, a
 * deciding rule without restrictions beyond 'any' and exclusions b
 * shares)? Sets *why. */
static int shadows(const struct ruleset *set, const struct rule *a,
		   const struct rule *b, unsigned *kb, long *ka)
{
	if (!a->stop || a->all.n || !none_covered(a, b) || a->re || a->nfrom ||
	    a->lang != LANG_ANY || a->any.n == 0)
		return 0;
	/* a rule that escalates counts keywords in side stories, which one
	 * that does not escalate ignores */
	if (b->escalate && !a->escalate)
		return 0;
	/* b needs one of its 'all' keywords, or each of its 'any' keywords,
	 * to contain one of a's, in fields a looks at. */
	/* (a negated occurrence matches b's list but not a's, when only b
	 * ignores negations) */
	if ((b->all.fields & ~a->any.fields) == 0 &&
	    (b->all.negatable || !a->any.negatable))
		for (size_t g = 0, i0 = 0; g < b->all.ngroups; g++) {
			/* every alternative of the entry contains one of a's */
			size_t i = i0;
			int covered = 1;
			while (i < b->all.n && b->all.group[i] == g) {
				if (any_inside(set, a, b->all.kw[i]) < 0)
					covered = 0;
				i++;
			}
			if (covered) {
				*kb = b->all.kw[i0];
				*ka = any_inside(set, a, *kb);
				return 1;
			}
			i0 = i;
		}
	if (b->any.n == 0 || (b->any.fields & ~a->any.fields) ||
	    (!b->any.negatable && a->any.negatable))
		return 0;
	for (size_t i = 0; i < b->any.n; i++)
		if ((*ka = any_inside(set, a, b->any.kw[i])) < 0)
			return 0;
	*kb = b->any.kw[0];
	*ka = any_inside(set, a, *kb);
	return 1;
}

size_t rules_lint(const struct ruleset *set,
		  void (*warn)(const char *msg, void *ctx), void *ctx)
{
	static const char *const keys[] = {"keywords", "fields", "negatable",
					   NULL};
	size_t count = 0;

	for (size_t j = 0; j < set->n; j++) {
		const struct rule *b = &set->rules[j];
		/* "all: {keywords: ...}" indented one level too deep, or a
		 * list of the keys themselves: they become keywords */
		const struct kwlist *lists[] = {&b->any, &b->all, &b->none};
		for (size_t l = 0; l < 3; l++)
			for (size_t i = 0; i < lists[l]->n; i++) {
				const char *kw = set->kw[lists[l]->kw[i]].orig;
				for (size_t k = 0; keys[k]; k++) {
					if (strcmp(kw, keys[k]) != 0)
						continue;
					char *msg = xasprintf(
					    "%s:%u:%u: warning: rule '%s' has "
					    "the keyword '%s': a key of a "
					    "keyword list written as a "
					    "keyword?",
					    b->file, lists[l]->line,
					    lists[l]->col, b->name, kw);
					warn(msg, ctx);
					free(msg);
					count++;
				}
			}
		for (size_t l = 0; l < 3; l++)
			for (size_t i = 0; i < lists[l]->ndup; i++) {
				const struct kwdup *d = &lists[l]->dup[i];
				char *msg = xasprintf(
				    "%s:%u:%u: warning: rule '%s' lists "
				    "'%s' twice in its '%s' list (also on "
				    "line %u, perhaps in another case, width "
				    "or Chinese script): one will do",
				    b->file, d->line, d->col, b->name,
				    d->as_written, d->what, d->first_line);
				warn(msg, ctx);
				free(msg);
				count++;
			}
		for (size_t i = 0; i < j; i++) {
			const struct rule *a = &set->rules[i];
			unsigned kb;
			long ka;
			if (!shadows(set, a, b, &kb, &ka))
				continue;
			char *msg =
			    (long)kb == ka
				? xasprintf(
				      "%s:%u:%u: warning: rule '%s' can never "
				      "decide: rule '%s' (%s:%u) comes first "
				      "and matches every message it would "
				      "(both "
				      "need '%s')",
				      b->file, b->line, b->col, b->name,
				      a->name, a->file, a->line,
				      set->kw[kb].orig)
				: xasprintf(
				      "%s:%u:%u: warning: rule '%s' can never "
				      "decide: rule '%s' (%s:%u) comes first "
				      "and matches every message it would "
				      "('%s' contains '%s')",
				      b->file, b->line, b->col, b->name,
				      a->name, a->file, a->line,
				      set->kw[kb].orig, set->kw[ka].orig);
			warn(msg, ctx);
			free(msg);
			count++;
			break;
		}
	}
	return count;
}
