/* test-match: table-driven tests for daemon/match.c (normalisation, word
 * characters, the Aho-Corasick matcher) and a randomized differential test
 * of the automaton against a naive memmem() matcher. No network; reads
 * /usr/share/unicode/CaseFolding.txt when present. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#define MATCH_TABLES_PAIRS
#include "match_tables.h"
#include "text.h"
#include "../tap.h"

/* A byte string with its length (inputs may hold NUL). */
#define B(s) s, sizeof(s) - 1

#define NORM_MAX (8u * 1024 * 1024)

/* Normalise s[0..n) into an owned string. */
static char *norm_n(const char *s, size_t n, size_t *len_r)
{
	struct buf b;

	buf_init(&b, NORM_MAX);
	if (match_normalize(s, n, &b) < 0)
		diag("normalize: buffer full");
	return buf_detach(&b, len_r);
}

/* s with control characters escaped, for test names (owned). */
static char *show(const char *s)
{
	struct buf b;

	buf_init(&b, 4096);
	for (; *s; s++) {
		int r;

		if ((unsigned char)*s < 0x20)
			r = buf_addf(&b, "\\x%02X", (unsigned char)*s);
		else
			r = buf_addc(&b, *s);
		if (r < 0)
			break;
	}
	return buf_detach(&b, NULL);
}

/* --------------------------------------------------------- normalisation */

static void test_normalize(void)
{
	static const struct {
		const char *s;
		size_t n;
		const char *want;
		const char *what;
	} t[] = {
	    {B(""), "", "empty"},
	    {B("Late"), "late", "ASCII upper case"},
	    {B("LATE DELIVERY"), "late delivery", "ASCII words"},
	    {B("\xEF\xBC\xAC\xEF\xBC\xA1\xEF\xBC\xB4\xEF\xBC\xA5"), "late",
	     "full-width LATE"},
	    {B("\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93\xEF\xBC\x81"), "123!",
	     "full-width digits and !"},
	    {B("\xEF\xBD\xB6\xEF\xBE\x80\xEF\xBD\xB6\xEF\xBE\x85"),
	     "\xE3\x82\xAB\xE3\x82\xBF\xE3\x82\xAB\xE3\x83\x8A",
	     "half-width katakana -> full-width"},
	    {B("\xEF\xBE\xA1\xEF\xBF\x82"), "\xE3\x84\xB1\xE3\x85\x8F",
	     "half-width Hangul -> compatibility jamo"},
	    {B("  a \t\n b  "), "a b", "white space collapsed and trimmed"},
	    {B("\t\r\n\v\f "), "", "only white space"},
	    {B("a\xC2\xA0\xC2\xA0"
	       "b"),
	     "a b", "NBSP"},
	    {B("a \xC2\xA0 \xE2\x80\x83 b"), "a b", "mixed white space"},
	    {B("\xE3\x80\x80\xE4\xBD\xA0\xE5\xA5\xBD\xE3\x80\x80\xE4\xB8\x96"
	       "\xE7\x95\x8C\xE3\x80\x80"),
	     "\xE4\xBD\xA0\xE5\xA5\xBD \xE4\xB8\x96\xE7\x95\x8C",
	     "U+3000 is white space, trimmed at both ends"},
	    {B("a\xE2\x80\xA8"
	       "b\xE2\x80\xA9"
	       "c\xE2\x80\x8B"
	       "d"),
	     "a b c d", "U+2028, U+2029, U+200B"},
	    {B("\xE2\x80\x9C"
	       "Don\xE2\x80\x99t\xE2\x80\x9D \xE2\x80\x98x\xE2\x80\x99"),
	     "\"don't\" 'x'", "curly quotes and apostrophe"},
	    {B("a\xE2\x80\x93"
	       "b\xE2\x80\x94"
	       "c\xE2\x88\x92"
	       "d\xE2\x80\x90"
	       "e"),
	     "a-b-c-d-e", "dashes"},
	    {B("\xCE\xA3\xCE\x8A\xCE\xA3\xCE\xA5\xCE\xA6\xCE\x9F\xCE\xA3"),
	     "\xCF\x83\xCE\xAF\xCF\x83\xCF\x85\xCF\x86\xCE\xBF\xCF\x83",
	     "Greek capitals: simple folding, final sigma as sigma"},
	    {B("\xCF\x83\xCE\xAF\xCF\x83\xCF\x85\xCF\x86\xCE\xBF\xCF\x82"),
	     "\xCF\x83\xCE\xAF\xCF\x83\xCF\x85\xCF\x86\xCE\xBF\xCF\x83",
	     "Greek final sigma folds to sigma"},
	    {B("\xD0\x9F\xD0\xA0\xD0\x98\xD0\x92\xD0\x95\xD0\xA2"),
	     "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82", "Cyrillic"},
	    {B("\xD0\x81\xD0\x96"), "\xD1\x91\xD0\xB6", "Cyrillic Yo, Zhe"},
	    {B("Stra\xC3\x9F"
	       "e"),
	     "stra\xC3\x9F"
	     "e",
	     "German sharp s stays (simple folding, no ss)"},
	    {B("STRASSE"), "strasse", "German STRASSE"},
	    {B("\xE1\xBA\x9E"), "\xC3\x9F", "capital sharp s -> sharp s"},
	    {B("\xC3\x89"
	       "COLE"),
	     "\xC3\xA9"
	     "cole",
	     "accented capital"},
	    {B("\xE2\x84\xAA"), "k", "Kelvin sign"},
	    {B("\xE9\x82\x84\xE6\xB2\x92\xE5\x88\xB0"),
	     "\xE8\xBF\x98\xE6\xB2\xA1\xE5\x88\xB0", "traditional: still not"},
	    {B("\xE7\x99\xBC\xE9\x8C\xAF"), "\xE5\x8F\x91\xE9\x94\x99",
	     "traditional: sent wrong"},
	    {B("\xE5\xA3\x9E\xE4\xBA\x86"), "\xE5\x9D\x8F\xE4\xBA\x86",
	     "traditional: broken"},
	    {B("\xE7\xA6\xAE\xE7\x89\xA9"), "\xE7\xA4\xBC\xE7\x89\xA9",
	     "traditional: gift"},
	    {B("\xE8\xB2\xA8"), "\xE8\xB4\xA7", "traditional: goods"},
	    {B("\xE4\xB8\x80\xE9\x80\xB1\xE4\xBA\x86"),
	     "\xE4\xB8\x80\xE5\x91\xA8\xE4\xBA\x86",
	     "variant: a week (週 has no kSimplifiedVariant)"},
	    {B("\xE7\x9B\x92\xE5\xAD\x90\xE8\xA3\x8F"),
	     "\xE7\x9B\x92\xE5\xAD\x90\xE9\x87\x8C",
	     "variant: inside (裏 -> 里)"},
	    {B("\xE8\xAA\xAC\xE6\x98\x8E\xE6\x9B\xB8"),
	     "\xE8\xAF\xB4\xE6\x98\x8E\xE4\xB9\xA6", "variant: 説 -> 说"},
	    {B("\xE5\xB7\xB2\xE7\xB1\xA4\xE6\x94\xB6"),
	     "\xE5\xB7\xB2\xE7\xAD\xBE\xE6\x94\xB6",
	     "variant: signed for (籤 -> 签)"},
	    {B("\xE6\xBA\xBC\xE9\x80\x8F\xE6\xB1\x99\xE6\xBC\xAC"),
	     "\xE6\xB9\xBF\xE9\x80\x8F\xE6\xB1\xA1\xE6\xB8\x8D",
	     "variants: soaked, stain"},
	    {B("\xE5\x99\x81\xE5\xBF\x83"), "\xE6\x81\xB6\xE5\xBF\x83",
	     "variant wins over Unihan's rare form (U+2BAC7)"},
	    {B("\xE6\xB7\xA8\xE4\xBF\x82\xE5\xBE\x97"),
	     "\xE5\x87\x80\xE7\xB3\xBB\xE5\xBE\x97",
	     "variant: Cantonese only (淨 -> 净)"},
	    {B("\xE9\x8A\xB7\xE7\x87\xAC"), "\xE9\x94\x80\xE6\xAF\x81",
	     "variant: destroyed (燬 -> 毁)"},
	    {B("\xE4\xB9\xBE"), "\xE5\xB9\xB2",
	     "several kSimplifiedVariants: the first other one (U+4E7E)"},
	    {B("\xE9\x96\x8B"), "\xE5\xBC\x80",
	     "several kSimplifiedVariants: open (U+958B)"},
	    {B("\xE8\xB2\xB7"), "\xE4\xB9\xB0",
	     "several kSimplifiedVariants: buy (U+8CB7)"},
	    {B("\xE8\xBF\x98\xE6\xB2\xA1\xE5\x88\xB0"),
	     "\xE8\xBF\x98\xE6\xB2\xA1\xE5\x88\xB0", "simplified unchanged"},
	    {B("\xE6\x88\x91\xE7\x9A\x84\xE5\x8C\x85\xE8\xA3\xB9\xE9\x82\x84"
	       "\xE6\xB2\x92\xE5\x88\xB0\xE5\x91\xA2\xEF\xBC\x81"),
	     "\xE6\x88\x91\xE7\x9A\x84\xE5\x8C\x85\xE8\xA3\xB9\xE8\xBF\x98"
	     "\xE6\xB2\xA1\xE5\x88\xB0\xE5\x91\xA2!",
	     "mixed traditional sentence with full-width !"},
	    {B("a\xFF"
	       "b"),
	     "a\xEF\xBF\xBD"
	     "b",
	     "invalid byte -> U+FFFD"},
	    {B("\xE4\xB8"), "\xEF\xBF\xBD",
	     "truncated sequence -> one U+FFFD (maximal subpart)"},
	    {B("\xC0\xAF"
	       "X"),
	     "\xEF\xBF\xBD\xEF\xBF\xBD"
	     "x",
	     "overlong -> U+FFFD per byte"},
	    {B("\xED\xA0\x80\xE9\x82\x84"),
	     "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xE8\xBF\x98",
	     "surrogate then traditional"},
	    {B("a\0b\0"), "ab", "NUL dropped"},
	    {B("a \0 b"), "a b", "NUL inside white space"},
	    {B("\xF0\x90\x90\x80"), "\xF0\x90\x90\xA8",
	     "Deseret capital (outside the BMP)"},
	    {B("\xF0\x9F\x98\x80 OK"), "\xF0\x9F\x98\x80 ok", "emoji kept"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		size_t n, n2;
		char *got = norm_n(t[i].s, t[i].n, &n);
		char *again = norm_n(got, n, &n2);

		is_str(got, t[i].want, "normalize: %s", t[i].what);
		ok(text_utf8_valid(got, n), "normalize: %s: valid UTF-8",
		   t[i].what);
		is_str(again, got, "normalize: %s: idempotent", t[i].what);
		free(got);
		free(again);
	}
}

static void test_normalize_buf(void)
{
	struct buf b;
	int r;

	/* Each call trims its own leading and trailing white space. */
	buf_init(&b, 64);
	r = match_normalize(B("Hello "), &b);
	is_int(r, 0, "append: first call");
	r = match_normalize(B("  World"), &b);
	is_int(r, 0, "append: second call");
	is_str(buf_str(&b), "helloworld", "append: calls do not join spaces");
	buf_release(&b);

	/* A full buffer keeps what fits, never half a character. */
	buf_init(&b, 5);
	r = match_normalize(B("ABCDEFGH"), &b);
	is_int(r, -1, "full: ASCII returns -1");
	is_str(buf_str(&b), "abcde", "full: ASCII prefix kept");
	buf_release(&b);

	buf_init(&b, 7);
	r = match_normalize(B("\xE9\x82\x84\xE6\xB2\x92\xE5\x88\xB0"), &b);
	is_int(r, -1, "full: CJK returns -1");
	is_str(buf_str(&b), "\xE8\xBF\x98\xE6\xB2\xA1", "full: CJK cut");
	buf_release(&b);

	buf_init(&b, 8);
	r = match_normalize(B("\xE8\xBF\x98\xE6\xB2\xA1\xE5\x88\xB0"), &b);
	is_int(r, -1, "full: unchanged CJK run returns -1");
	is_str(buf_str(&b), "\xE8\xBF\x98\xE6\xB2\xA1",
	       "full: unchanged CJK run cut on a boundary");
	buf_release(&b);

	buf_init(&b, 9);
	r = match_normalize(B("\xE8\xBF\x98\xE6\xB2\xA1\xE5\x88\xB0"), &b);
	is_int(r, 0, "exact fit returns 0");
	buf_release(&b);
}

/* Output is at most 3 bytes per input byte (an invalid byte becomes
 * U+FFFD), and at most 1.5 per byte for valid UTF-8. */
static void test_normalize_bound(void)
{
	unsigned seed = 12345;
	size_t worst_bad = 0, worst_good = 0, ok_bad = 1, ok_good = 1;
	char *in = xmalloc(4096);

	for (int round = 0; round < 300; round++) {
		size_t n = 1 + (size_t)(rand_r(&seed) % 4096), len;
		char *out;

		for (size_t i = 0; i < n; i++)
			in[i] = (char)(rand_r(&seed) & 0xFF);
		out = norm_n(in, n, &len);
		if (len > 3 * n)
			ok_bad = 0;
		if (len * 100 / n > worst_bad)
			worst_bad = len * 100 / n;
		free(out);
	}
	ok(ok_bad,
	   "bound: random bytes give <= 3 bytes per byte (worst "
	   "%zu%%)",
	   worst_bad);
	/* Valid text made of the characters that grow most. */
	for (size_t i = 0; i < ARRAY_SIZE(match_fold_pairs); i++) {
		char enc[8];
		size_t k = text_utf8_encode(match_fold_pairs[i][0], enc), len;
		char *out = norm_n(enc, k, &len);

		if (2 * len > 3 * k)
			ok_good = 0;
		if (len * 100 / k > worst_good)
			worst_good = len * 100 / k;
		free(out);
	}
	ok(ok_good, "bound: valid UTF-8 grows <= 1.5x (worst %zu%%)",
	   worst_good);
	free(in);
}

/* Every mapping of the generated table, and every other code point
 * unchanged. */
static void test_normalize_tables(void)
{
	size_t bad = 0, p = 0, count = 0;
	struct buf b;

	buf_init(&b, 64);
	for (unsigned cp = 0x80; cp <= 0x10FFFF; cp++) {
		char enc[4], want[4];
		size_t k, wk;
		unsigned to = cp;

		if (cp >= 0xD800 && cp <= 0xDFFF)
			continue;
		while (p < ARRAY_SIZE(match_fold_pairs) &&
		       match_fold_pairs[p][0] < cp)
			p++;
		if (p < ARRAY_SIZE(match_fold_pairs) &&
		    match_fold_pairs[p][0] == cp) {
			to = match_fold_pairs[p][1];
			count++;
		}
		k = text_utf8_encode(cp, enc);
		wk = to == ' ' ? 0 : text_utf8_encode(to, want);
		buf_reset(&b);
		if (match_normalize(enc, k, &b) < 0 || b.len != wk ||
		    memcmp(buf_str(&b), want, wk) != 0) {
			if (bad++ < 5)
				diag("U+%04X -> '%s'", cp, buf_str(&b));
		}
	}
	/* ASCII: white space goes, A-Z fold as in the pairs. */
	for (unsigned cp = 1, p2 = 0; cp < 0x80; cp++) {
		char c = (char)cp, want = (char)cp;

		if (match_fold_pairs[p2][0] == cp) {
			want = (char)match_fold_pairs[p2++][1];
			count++;
		}
		buf_reset(&b);
		if (match_normalize(&c, 1, &b) < 0 ||
		    strcmp(buf_str(&b),
			   strchr(" \t\n\v\f\r", c) ? "" : (char[]){want, 0}) !=
			0)
			bad++;
	}
	buf_release(&b);
	is_int(bad, 0, "tables: every code point maps as in the pairs");
	is_int(count, MATCH_TABLES_NFOLD, "tables: all %u mappings checked",
	       (unsigned)MATCH_TABLES_NFOLD);
}

/* CaseFolding.txt C and S lines, independent of the generator. */
static void test_casefolding_file(void)
{
	FILE *f = fopen("/usr/share/unicode/CaseFolding.txt", "r");
	char line[512];
	size_t n = 0, bad = 0;

	if (!f) {
		ok(1, "# SKIP CaseFolding.txt not installed");
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char *end, *st, a[8], b[8], *na, *nb;
		unsigned long from, to;
		size_t ka, kb;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		from = strtoul(line, &end, 16);
		st = strchr(end, ';');
		if (!st || (st[2] != 'C' && st[2] != 'S'))
			continue;
		to = strtoul(st + 4, NULL, 16);
		ka = text_utf8_encode((unsigned)from, a);
		kb = text_utf8_encode((unsigned)to, b);
		na = norm_n(a, ka, NULL);
		nb = norm_n(b, kb, NULL);
		if (strcmp(na, nb) != 0 && bad++ < 5)
			diag("U+%04lX and U+%04lX differ", from, to);
		n++;
		free(na);
		free(nb);
	}
	fclose(f);
	ok(n > 1400 && bad == 0,
	   "CaseFolding.txt: %zu C/S pairs fold alike (%zu differ)", n, bad);
}

static void test_word_cp(void)
{
	static const struct {
		unsigned cp;
		int word;
	} t[] = {
	    {'a', 1},	  {'Z', 1},	{'0', 1},    {'9', 1},	  {'_', 0},
	    {'-', 0},	  {' ', 0},	{'\'', 0},   {'!', 0},	  {0xE9, 1},
	    {0xDF, 1},	  {0xD7, 0},	{0xF7, 0},   {0x3C3, 1},  {0x3C2, 1},
	    {0x44F, 1},	  {0x301, 1},	{0x5D0, 1},  {0x628, 1},  {0x1EA1, 1},
	    {0x4E2D, 0},  {0x3042, 0},	{0x30AB, 0}, {0x30FC, 0}, {0xD55C, 0},
	    {0x3131, 0},  {0x0E01, 0},	{0x3000, 0}, {0xFF0C, 0}, {0x3002, 0},
	    {0x1F600, 0}, {0x20000, 0}, {0xFF41, 1}, {0xFF10, 1}, {0xFFFD, 0},
	    {0x2019, 0},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		is_int(match_is_word_cp(t[i].cp), t[i].word, "word cp U+%04X",
		       t[i].cp);
}

/* ---------------------------------------------------------------- match */

struct hits {
	struct buf b;
	size_t count, limit;
};

static int hit_cb(unsigned id, size_t start, size_t end, void *ctx)
{
	struct hits *h = ctx;

	if (buf_addf(&h->b, "%s%u@%zu-%zu", h->b.len ? " " : "", id, start,
		     end) < 0)
		diag("hits: buffer full");
	h->count++;
	return h->limit && h->count >= h->limit;
}

/* Keywords "kw=id|kw=id|..." (normalised here; '|' separates). */
static struct matcher *make(const char *spec)
{
	struct matcher *m = match_new();
	struct xerr err = {0};
	char *copy = xstrdup(spec), *p = copy;

	while (p && *p) {
		char *bar = strchr(p, '|'), *eq, *kw;
		size_t len;

		if (bar)
			*bar = '\0';
		eq = strrchr(p, '=');
		*eq = '\0';
		kw = norm_n(p, strlen(p), &len);
		match_add(m, kw, len, (unsigned)strtoul(eq + 1, NULL, 10));
		free(kw);
		p = bar ? bar + 1 : NULL;
	}
	free(copy);
	if (match_compile(m, &err) < 0)
		diag("compile: %s", err.msg);
	return m;
}

/* The ids found in text (normalised first) by match_scan_bits, as "1 3". */
static char *found(const struct matcher *m, const char *text)
{
	size_t n, words = match_ids(m) / 64 + 1;
	char *t = norm_n(text, strlen(text), &n);
	uint64_t *bits = xcalloc(words, sizeof(*bits));
	struct buf b;

	match_scan_bits(m, t, n, bits);
	buf_init(&b, 4096);
	for (size_t id = 0; id < words * 64; id++)
		if (bits[id / 64] >> (id % 64) & 1)
			if (buf_addf(&b, "%s%zu", b.len ? " " : "", id) < 0)
				diag("found: buffer full");
	free(bits);
	free(t);
	return buf_detach(&b, NULL);
}

static char *scanned(const struct matcher *m, const char *text, size_t limit)
{
	struct hits h = {.limit = limit};
	size_t n;
	char *t = norm_n(text, strlen(text), &n);

	buf_init(&h.b, 4096);
	match_scan(m, t, n, hit_cb, &h);
	free(t);
	return buf_detach(&h.b, NULL);
}

static void test_match_table(void)
{
	static const struct {
		const char *kws, *text, *want;
	} t[] = {
	    {"late=1", "late!", "1"},
	    {"late=1", "Late.", "1"},
	    {"late=1", "it is late", "1"},
	    {"late=1", "LATE", "1"},
	    {"late=1", "\xEF\xBC\xAC\xEF\xBC\xA1\xEF\xBC\xB4\xEF\xBC\xA5", "1"},
	    {"late=1", "chocolate", ""},
	    {"late=1", "translate this", ""},
	    {"late=1", "lately", ""},
	    {"late=1", "late2", ""},
	    {"late=1", "2late", ""},
	    {"late=1", "\xC3\xA9late", ""},
	    {"late=1", "late\xC3\xA9", ""},
	    {"late=1", "\xCF\x83late", ""},
	    {"late=1", "late-night", "1"},
	    {"late=1", "_late_", "1"},
	    {"late=1", "\xE5\xA4\xAAlate\xE4\xBA\x86", "1"},
	    {"late=1", "", ""},
	    {"late=1", "lat", ""},
	    {"not arrived=2", "it has not\n\n  arrived yet", "2"},
	    {"not arrived=2", "not arrivedx", ""},
	    {"not arrived=2", "knot arrived", ""},
	    {"\xE8\xBF\x98\xE6\xB2\xA1\xE5\x88\xB0=3",
	     "\xE6\x88\x91\xE7\x9A\x84\xE5\x8C\x85\xE8\xA3\xB9\xE8\xBF\x98"
	     "\xE6\xB2\xA1\xE5\x88\xB0\xE5\x91\xA2",
	     "3"},
	    {"\xE9\x82\x84\xE6\xB2\x92\xE5\x88\xB0=3",
	     "\xE6\x88\x91\xE7\x9A\x84\xE5\x8C\x85\xE8\xA3\xB9\xE8\xBF\x98"
	     "\xE6\xB2\xA1\xE5\x88\xB0\xE5\x91\xA2",
	     "3"},
	    {"\xE8\xBF\x98\xE6\xB2\xA1\xE5\x88\xB0=3",
	     "\xE6\x88\x91\xE7\x9A\x84\xE5\x8C\x85\xE8\xA3\xB9\xE9\x82\x84"
	     "\xE6\xB2\x92\xE5\x88\xB0\xE5\x91\xA2",
	     "3"},
	    {"\xE8\xBF\x98\xE6\xB2\xA1\xE5\x88\xB0=3",
	     "abc\xE8\xBF\x98"
	     "\xE6\xB2\xA1\xE5\x88\xB0"
	     "def",
	     "3"},
	    {"\xE8\xBF\x98\xE6\xB2\xA1\xE5\x88\xB0=3",
	     "\xE8\xBF\x98\xE6\xB2\xA1", ""},
	    {"gift=1|gift wrap=2|wrap=3", "please gift wrap it", "1 2 3"},
	    {"gift=1|gift wrap=2|wrap=3", "giftwrap", ""},
	    {"gift=1|gift wrap=2|wrap=3", "a gift wrapper", "1"},
	    {"gift=1|gift wrap=2|wrap=3", "wrap a gift", "1 3"},
	    {"package=1|age=2", "my package", "1"},
	    {"package=1|age=2", "age of package", "1 2"},
	    {"\xE5\x8C\x85\xE8\xA3\xB9=1|\xE8\xA3\xB9=2",
	     "\xE5\x8C\x85\xE8\xA3\xB9", "1 2"},
	    {"\xE6\xB2\xA1\xE5\x88\xB0=1|\xE8\xBF\x98\xE6\xB2\xA1\xE5\x88\xB0="
	     "2|\xE5\x88\xB0=3",
	     "\xE8\xBF\x98\xE6\xB2\xA1\xE5\x88\xB0", "1 2 3"},
	    {"refund=5|refund=7|Refund=7", "I want a refund.", "5 7"},
	    {"refund=5|money back=5", "money back", "5"},
	    {"\xE4\xB9\xB0\xE4\xBA\x86iphone=1",
	     "\xE6\x88\x91\xE4\xB9\xB0\xE4\xBA\x86iPhone", "1"},
	    {"\xE4\xB9\xB0\xE4\xBA\x86iphone=1",
	     "\xE6\x88\x91\xE4\xB9\xB0\xE4\xBA\x86iPhone\xE3\x80\x82", "1"},
	    {"\xE4\xB9\xB0\xE4\xBA\x86iphone=1",
	     "\xE6\x88\x91\xE4\xB9\xB0\xE4\xBA\x86iphones", ""},
	    {"\xE4\xB9\xB0\xE4\xBA\x86iphone=1",
	     "\xE6\x88\x91\xE4\xB9\xB0\xE4\xBA\x86iphone15", ""},
	    {"\xE4\xB9\xB0\xE4\xBA\x86iphone=1",
	     "x\xE4\xB9\xB0\xE4\xBA\x86iphone 15", "1"},
	    {"iphone\xE5\x9D\x8F\xE4\xBA\x86=1",
	     "\xE6\x88\x91\xE7\x9A\x84iPhone\xE5\x9D\x8F\xE4\xBA\x86", "1"},
	    {"iphone\xE5\x9D\x8F\xE4\xBA\x86=1",
	     "myiphone\xE5\x9D\x8F\xE4\xBA\x86", ""},
	    {"iphone\xE5\x9D\x8F\xE4\xBA\x86=1",
	     "\xE6\x88\x91\xE7\x9A\x84 iphone\xE5\xA3\x9E\xE4\xBA\x86", "1"},
	    {"1-star=1|a-to-z=2", "a 1-star review", "1"},
	    {"1-star=1|a-to-z=2", "11-star", ""},
	    {"1-star=1|a-to-z=2", "1-stars", ""},
	    {"1-star=1|a-to-z=2", "from a-to-z.", "2"},
	    {"1-star=1|a-to-z=2", "ta-to-z", ""},
	    {"1-star=1|a-to-z=2", "1\xE2\x80\x93star", "1"},
	    {"\xCF\x83\xCE\xAF\xCF\x83\xCF\x85\xCF\x86\xCE\xBF\xCF\x82=4",
	     "\xCE\xA3\xCE\x8A\xCE\xA3\xCE\xA5\xCE\xA6\xCE\x9F\xCE\xA3!", "4"},
	    {"\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82=6",
	     "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82, "
	     "\xD0\xBC\xD0\xB8"
	     "\xD1\x80",
	     "6"},
	    {"\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82=6",
	     "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82\xD1\x81\xD1\x82"
	     "\xD0\xB2\xD0\xB8\xD0\xB5",
	     ""},
	    {"stra\xC3\x9F"
	     "e=8",
	     "STRASSE", ""},
	    {"strasse=8", "Strasse 5", "8"},
	    {"don't=9", "I don\xE2\x80\x99t know", "9"},
	    {"a=1|b=2|ab=3|abc=4|bc=5|c=6", "abc", "4"},
	    {"a=1|b=2|ab=3|abc=4|bc=5|c=6", "a b c", "1 2 6"},
	    {"x=999999", "x", "999999"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct matcher *m = make(t[i].kws);
		char *got = found(m, t[i].text), *what = show(t[i].text);

		is_str(got, t[i].want, "match: [%s] in '%s'", t[i].kws, what);
		free(got);
		free(what);
		match_free(&m);
		ok(m == NULL, "match_free NULLs the pointer");
	}
}

static void test_match_positions(void)
{
	static const struct {
		const char *kws, *text, *want;
		size_t limit;
	} t[] = {
	    {"late=1", "late, LATE", "1@0-4 1@6-10", 0},
	    {"late=1", "late, LATE", "1@0-4", 1},
	    {"gift=1|gift wrap=2|wrap=3", "gift wrap", "1@0-4 2@0-9 3@5-9", 0},
	    {"gift=1|gift wrap=2|wrap=3", "gift wrap", "1@0-4 2@0-9", 2},
	    {"refund=5|refund=7", "refund", "5@0-6 7@0-6", 0},
	    {"refund=5|refund=7", "refund", "5@0-6", 1},
	    {"\xE8\xB4\xA7=1", "\xE8\xB4\xA7 \xE8\xB2\xA8\xE8\xB4\xA7",
	     "1@0-3 1@4-7 1@7-10", 0},
	    {"\xE6\xB2\xA1\xE5\x88\xB0=1|\xE8\xBF\x98\xE6\xB2\xA1\xE5\x88\xB0="
	     "2",
	     "\xE8\xBF\x98\xE6\xB2\xA1\xE5\x88\xB0", "2@0-9 1@3-9", 0},
	    {"not arrived=2", "Not\n\n  ARRIVED", "2@0-11", 0},
	    {"late=1", "", "", 0},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct matcher *m = make(t[i].kws);
		char *got = scanned(m, t[i].text, t[i].limit);
		char *what = show(t[i].text);

		is_str(got, t[i].want, "scan: [%s] in '%s' (stop after %zu)",
		       t[i].kws, what, t[i].limit);
		free(got);
		free(what);
		match_free(&m);
	}
}

static void test_match_misc(void)
{
	struct matcher *m = match_new();
	struct xerr err = {0};
	uint64_t bits[1] = {0};
	struct hits h = {0};
	char *kw;

	/* Empty matcher. */
	is_int(match_compile(m, &err), 0, "empty: compiles");
	is_int(match_ids(m), 0, "empty: no ids");
	match_scan_bits(m, B("anything"), bits);
	is_int(bits[0], 0, "empty: nothing found");
	buf_init(&h.b, 64);
	match_scan(m, B("anything"), hit_cb, &h);
	is_int(h.count, 0, "empty: no callback");
	buf_release(&h.b);
	match_free(&m);
	match_free(&m);
	ok(1, "match_free(NULL) is harmless");

	m = make("late=3|\xE8\xBF\x98\xE6\xB2\xA1\xE5\x88\xB0=70");
	is_int(match_ids(m), 71, "ids: largest + 1");
	ok(match_memory(m) > 0 && match_memory(m) < 64 * 1024,
	   "memory: small automaton, %zu bytes", match_memory(m));
	match_free(&m);

	/* Too many states fails with XERR_CONFIG. */
	m = match_new();
	kw = xmalloc(1000);
	{
		unsigned seed = 7;

		for (unsigned k = 0; k < 80; k++) {
			for (size_t i = 0; i < 1000; i++)
				kw[i] = (char)('a' + rand_r(&seed) % 26);
			match_add(m, kw, 1000, k);
		}
	}
	is_int(match_compile(m, &err), -1, "too large: fails");
	is_int(err.kind, XERR_CONFIG, "too large: XERR_CONFIG");
	ok(strstr(err.msg, "too large") != NULL, "too large: '%s'", err.msg);
	bits[0] = 0;
	match_scan_bits(m, kw, 1000, bits);
	is_int(bits[0], 0, "too large: scans find nothing");
	match_free(&m);

	/* A keyword too long. */
	m = match_new();
	kw = xrealloc(kw, 5000);
	memset(kw, 'a', 5000);
	match_add(m, kw, 5000, 1);
	xerr_clear(&err);
	is_int(match_compile(m, &err), -1, "long keyword: fails");
	ok(err.kind == XERR_CONFIG && strstr(err.msg, "too long"),
	   "long keyword: '%s'", err.msg);
	match_free(&m);
	free(kw);
}

/* A 1 MB text. */
static void test_match_big(void)
{
	static const char unit[] =
	    "The package is LATE, \xE6\x88\x91\xE7\x9A\x84\xE5\x8C\x85\xE8\xA3"
	    "\xB9\xE9\x82\x84\xE6\xB2\x92\xE5\x88\xB0\xE3\x80\x82 chocolate\n";
	struct matcher *m =
	    make("late=1|package=2|\xE8\xBF\x98\xE6\xB2\xA1\xE5\x88\xB0=3|"
		 "the package=4|choc=5");
	size_t reps = (1024 * 1024) / (sizeof(unit) - 1), n, tn;
	char *text = xmalloc(reps * (sizeof(unit) - 1) + 1), *t;
	struct hits h = {0};
	uint64_t bits[1] = {0};

	for (size_t i = 0; i < reps; i++)
		memcpy(text + i * (sizeof(unit) - 1), unit, sizeof(unit) - 1);
	n = reps * (sizeof(unit) - 1);
	text[n] = '\0';
	t = norm_n(text, n, &tn);
	ok(n >= 1000000 && tn > 900000, "big: %zu bytes, %zu normalised", n,
	   tn);
	match_scan_bits(m, t, tn, bits);
	is_int(bits[0], 0x1E, "big: ids 1-4 found, not 5");
	buf_init(&h.b, 64 * 1024 * 1024);
	match_scan(m, t, tn, hit_cb, &h);
	is_int(h.count, 4 * reps, "big: 4 hits per repetition");
	buf_release(&h.b);
	free(t);
	free(text);
	match_free(&m);
}

/* ------------------------------------------------- differential testing */

/* Pieces keywords and texts are built from: ASCII letters that overlap a
 * lot, word and non-word separators, accented/Greek letters and CJK. */
static const char *const pieces[] = {
    "a",
    "b",
    "c",
    "ab",
    "ba",
    " ",
    "-",
    "'",
    "1",
    "\xC3\xA9",
    "\xCF\x83",
    "\xE8\xBF\x98",
    "\xE6\xB2\xA1",
    "\xE5\x88\xB0",
    "\xE8\xB4\xA7",
    "\xE5\x8F\x91",
    "\xE3\x80\x82",
    "\xEF\xBF\xBD",
    "x",
    "!",
};

struct ref_hit {
	unsigned id;
	size_t start, end;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct ref_hit *x = a, *y = b;

	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

struct hitlist {
	struct ref_hit *v;
	size_t n, cap;
};

static void hit_push(struct hitlist *l, unsigned id, size_t start, size_t end)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n].id = id;
	l->v[l->n].start = start;
	l->v[l->n].end = end;
	l->n++;
}

static int list_cb(unsigned id, size_t start, size_t end, void *ctx)
{
	hit_push(ctx, id, start, end);
	return 0;
}

/* The first code point of s[0..n), and the one ending at s[n]. */
static unsigned first_cp(const char *s, size_t n)
{
	unsigned cp;

	text_utf8_decode(s, n, &cp);
	return cp;
}

static unsigned last_cp(const char *s, size_t n)
{
	size_t j = n - 1;
	unsigned cp;

	while (j > 0 && ((unsigned char)s[j] & 0xC0) == 0x80)
		j--;
	text_utf8_decode(s + j, n - j, &cp);
	return cp;
}

/* The naive reference: memmem() for every keyword, boundary rule applied
 * by decoding the neighbouring code points. */
static void reference(char **kws, size_t *lens, unsigned *ids, size_t nkw,
		      const char *t, size_t n, struct hitlist *out)
{
	for (size_t k = 0; k < nkw; k++) {
		int ws = match_is_word_cp(first_cp(kws[k], lens[k]));
		int we = match_is_word_cp(last_cp(kws[k], lens[k]));
		const char *p = t;

		while ((p = memmem(p, (size_t)(t + n - p), kws[k], lens[k]))) {
			size_t s = (size_t)(p - t), e = s + lens[k];

			if (!(ws && s > 0 && match_is_word_cp(last_cp(t, s))) &&
			    !(we && e < n &&
			      match_is_word_cp(first_cp(t + e, n - e))))
				hit_push(out, ids[k], s, e);
			p++;
		}
	}
}

static void dedupe(struct hitlist *l)
{
	size_t w = 0;

	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), ref_cmp);
	for (size_t i = 0; i < l->n; i++)
		if (w == 0 || ref_cmp(&l->v[w - 1], &l->v[i]) != 0)
			l->v[w++] = l->v[i];
	l->n = w;
}

static int same_hits(const struct hitlist *a, const struct hitlist *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (ref_cmp(&a->v[i], &b->v[i]) != 0)
			return 0;
	return 1;
}

static void test_differential(void)
{
	unsigned seed = 20240601;
	size_t cases = 2500, bad_bits = 0, bad_scan = 0, total_hits = 0;

	for (size_t c = 0; c < cases; c++) {
		size_t nkw =
		    1 + (size_t)(rand_r(&seed) % (c % 10 == 0 ? 300 : 20));
		char **kws = xcalloc(nkw, sizeof(*kws));
		size_t *lens = xcalloc(nkw, sizeof(*lens)), tn, nids = 0;
		unsigned *ids = xcalloc(nkw, sizeof(*ids));
		struct matcher *m = match_new();
		struct xerr err = {0};
		struct buf raw;
		struct hitlist want = {0}, got = {0};
		uint64_t *bits, *want_bits;
		char *t;

		for (size_t k = 0; k < nkw; k++) {
			size_t np = 1 + (size_t)(rand_r(&seed) % 5), len;

			buf_init(&raw, 256);
			for (size_t p = 0; p < np; p++)
				if (buf_adds(&raw, pieces[rand_r(&seed) %
							  ARRAY_SIZE(pieces)]) <
				    0)
					diag("keyword too long");
			kws[k] = norm_n(raw.data, raw.len, &len);
			buf_release(&raw);
			if (len == 0) {
				free(kws[k]);
				kws[k] = xstrdup("a");
				len = 1;
			}
			lens[k] = len;
			/* Some ids shared, some keywords repeated. */
			ids[k] = (unsigned)(rand_r(&seed) % (nkw + 5));
			if (k > 0 && rand_r(&seed) % 10 == 0) {
				free(kws[k]);
				kws[k] = xstrdup(kws[k - 1]);
				lens[k] = lens[k - 1];
			}
			match_add(m, kws[k], lens[k], ids[k]);
			if (ids[k] + 1 > nids)
				nids = ids[k] + 1;
		}
		if (match_compile(m, &err) < 0)
			diag("compile: %s", err.msg);

		/* The text: keywords and pieces, not normalised (the
		 * matcher works on any bytes). */
		buf_init(&raw, 1 << 16);
		for (size_t p = 0, np = (size_t)(rand_r(&seed) % 60); p < np;
		     p++) {
			int r;

			if (rand_r(&seed) % 2) {
				size_t k = (size_t)rand_r(&seed) % nkw;

				r = buf_add(&raw, kws[k], lens[k]);
			} else {
				r = buf_adds(
				    &raw,
				    pieces[rand_r(&seed) % ARRAY_SIZE(pieces)]);
			}
			if (r < 0)
				diag("text too long");
		}
		tn = raw.len;
		t = buf_detach(&raw, NULL);

		reference(kws, lens, ids, nkw, t, tn, &want);
		dedupe(&want);
		match_scan(m, t, tn, list_cb, &got);
		dedupe(&got);
		total_hits += want.n;
		if (!same_hits(&got, &want)) {
			if (bad_scan++ < 3)
				diag("case %zu: scan found %zu hits, reference "
				     "%zu, text '%s'",
				     c, got.n, want.n, t);
		}
		bits = xcalloc(nids / 64 + 1, sizeof(*bits));
		want_bits = xcalloc(nids / 64 + 1, sizeof(*bits));
		for (size_t i = 0; i < want.n; i++)
			want_bits[want.v[i].id / 64] |= (uint64_t)1
							<< (want.v[i].id % 64);
		match_scan_bits(m, t, tn, bits);
		if (memcmp(bits, want_bits, (nids / 64 + 1) * sizeof(*bits)) !=
		    0) {
			if (bad_bits++ < 3)
				diag("case %zu: bits differ, text '%s'", c, t);
		}
		free(bits);
		free(want_bits);
		free(want.v);
		free(got.v);
		free(t);
		for (size_t k = 0; k < nkw; k++)
			free(kws[k]);
		free(kws);
		free(lens);
		free(ids);
		match_free(&m);
	}
	is_int(bad_scan, 0,
	       "differential: match_scan equals memmem in %zu "
	       "cases (%zu hits)",
	       cases, total_hits);
	is_int(bad_bits, 0,
	       "differential: match_scan_bits equals memmem in "
	       "%zu cases",
	       cases);
}

/* Long texts take the interleaved path of match_scan_bits(): compare it
 * with the reference, keywords straddling the parts included. */
static void test_differential_long(void)
{
	unsigned seed = 777;
	size_t bad = 0, cases = 12, hits = 0;

	for (size_t c = 0; c < cases; c++) {
		size_t nkw = 20 + (size_t)(rand_r(&seed) % 280), nids = 0;
		char **kws = xcalloc(nkw, sizeof(*kws));
		size_t *lens = xcalloc(nkw, sizeof(*lens)), tn;
		unsigned *ids = xcalloc(nkw, sizeof(*ids));
		struct matcher *m = match_new();
		struct xerr err = {0};
		struct hitlist want = {0};
		struct buf raw;
		uint64_t *bits, *want_bits;
		char *t;

		for (size_t k = 0; k < nkw; k++) {
			size_t np = 1 + (size_t)(rand_r(&seed) % 6), len;

			/* One long keyword in some cases: a longer warm-up
			 * before each part. */
			if (k == 0 && c % 3 == 0)
				np = 300;
			buf_init(&raw, 4096);
			for (size_t p = 0; p < np; p++)
				if (buf_adds(&raw, pieces[rand_r(&seed) %
							  ARRAY_SIZE(pieces)]) <
				    0)
					diag("keyword too long");
			kws[k] = norm_n(raw.data, raw.len, &len);
			buf_release(&raw);
			if (len == 0) {
				free(kws[k]);
				kws[k] = xstrdup("b");
				len = 1;
			}
			lens[k] = len;
			ids[k] = (unsigned)k;
			match_add(m, kws[k], lens[k], ids[k]);
		}
		nids = nkw;
		if (match_compile(m, &err) < 0)
			diag("compile: %s", err.msg);
		buf_init(&raw, 1 << 20);
		while (raw.len < 40000 + (size_t)(c * 7919)) {
			size_t k = (size_t)rand_r(&seed) % nkw;
			int r;

			if (rand_r(&seed) % 3 == 0)
				r = buf_add(&raw, kws[k], lens[k]);
			else
				r = buf_adds(
				    &raw,
				    pieces[rand_r(&seed) % ARRAY_SIZE(pieces)]);
			if (r < 0)
				diag("text too long");
		}
		tn = raw.len;
		t = buf_detach(&raw, NULL);
		reference(kws, lens, ids, nkw, t, tn, &want);
		hits += want.n;
		bits = xcalloc(nids / 64 + 1, sizeof(*bits));
		want_bits = xcalloc(nids / 64 + 1, sizeof(*bits));
		for (size_t i = 0; i < want.n; i++)
			want_bits[want.v[i].id / 64] |= (uint64_t)1
							<< (want.v[i].id % 64);
		match_scan_bits(m, t, tn, bits);
		if (memcmp(bits, want_bits, (nids / 64 + 1) * sizeof(*bits)))
			bad++;
		free(bits);
		free(want_bits);
		free(want.v);
		free(t);
		for (size_t k = 0; k < nkw; k++)
			free(kws[k]);
		free(kws);
		free(lens);
		free(ids);
		match_free(&m);
	}
	is_int(bad, 0, "differential: long texts, %zu cases (%zu hits)", cases,
	       hits);
}

/* Keywords straddling the parts of the interleaved scan, the longest
 * one (ASCII: its warm-up is not widened to a character boundary) ending
 * one byte into a part included. */
static void test_streams_edges(void)
{
	static const struct {
		const char *kw;
		uint64_t bit;
	} k[] = {
	    {"late", 0x2},
	    {"\xE8\xBF\x98\xE6\xB2\xA1\xE5\x88\xB0", 0x4},
	    {"abcdefghijkl", 0x10},
	};
	struct matcher *m =
	    make("late=1|\xE8\xBF\x98\xE6\xB2\xA1\xE5\x88\xB0=2|"
		 "x=3|abcdefghijkl=4");
	size_t n = 8 * 5000 + 5, tried = 0, bad = 0;
	char *t = xmalloc(n);
	uint64_t bits[1];

	for (size_t part = 1; part < 8; part++) {
		for (size_t w = 0; w < ARRAY_SIZE(k); w++) {
			size_t len = strlen(k[w].kw);

			for (size_t off = 0; off <= len; off++) {
				memset(t, ' ', n);
				memcpy(t + part * (n / 8) - off, k[w].kw, len);
				bits[0] = 0;
				match_scan_bits(m, t, n, bits);
				tried++;
				if (bits[0] != k[w].bit)
					bad++;
			}
		}
	}
	/* At the very end (the tail after the last part) and start. */
	memset(t, ' ', n);
	memcpy(t + n - 4, "late", 4);
	memcpy(t, "x", 1);
	bits[0] = 0;
	match_scan_bits(m, t, n, bits);
	is_int(bits[0], 0xA, "streams: keywords at both ends");
	is_int(bad, 0, "streams: %zu keywords across part boundaries", tried);
	free(t);
	match_free(&m);
}

/* Invalid UTF-8 text (not what match_normalize() gives) scans without
 * fault; what is found is unspecified. */
static void test_invalid_text(void)
{
	struct matcher *m = make("late=1|\xE8\xBF\x98=2|\xC3\xA9t\xC3\xA9=3");
	unsigned seed = 99;
	size_t n = 100000;
	char *t = xmalloc(n);
	uint64_t bits[1] = {0};
	struct hits h = {0};
	struct xerr err = {0};
	struct matcher *bad = match_new();

	for (size_t i = 0; i < n; i++)
		t[i] = (char)(rand_r(&seed) & 0xFF);
	match_scan_bits(m, t, n, bits);
	match_scan_bits(m, t, 100, bits);
	buf_init(&h.b, 1 << 20);
	match_scan(m, t, n, hit_cb, &h);
	buf_release(&h.b);
	ok(1, "invalid text: scanned");
	free(t);
	match_free(&m);

	match_add(bad, B("ab\xFF"), 1);
	is_int(match_compile(bad, &err), -1, "invalid keyword: fails");
	ok(err.kind == XERR_CONFIG && strstr(err.msg, "UTF-8"),
	   "invalid keyword: '%s'", err.msg);
	match_free(&bad);
}

int main(void)
{
	test_normalize();
	test_normalize_buf();
	test_normalize_bound();
	test_normalize_tables();
	test_casefolding_file();
	test_word_cp();
	test_match_table();
	test_match_positions();
	test_match_misc();
	test_match_big();
	test_differential();
	test_differential_long();
	test_streams_edges();
	test_invalid_text();
	return done_testing();
}
