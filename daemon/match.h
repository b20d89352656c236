/* match: text normalisation for keyword matching, and a multi-keyword
 * matcher (Aho-Corasick) whose cost per byte of text does not grow with the
 * number of keywords. Knows nothing of rules, mail, IMAP or SQL. */
#ifndef PEAKQ_MATCH_H
#define PEAKQ_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "xerr.h"

/* Normalise UTF-8 text s[0..n) for matching, appending to out:
 * - invalid UTF-8 -> U+FFFD, NUL dropped;
 * - Unicode simple case folding (CaseFolding.txt statuses C and S);
 * - full-width forms (U+FF01-FF5E) -> ASCII, half-width katakana and
 *   Hangul -> their full-width forms, U+3000 -> space;
 * - traditional Chinese -> simplified (Unihan kSimplifiedVariant, where the
 *   mapping is one character to one character);
 * - curly quotes and apostrophes -> ' and ", dashes (U+2010-2015, U+2212)
 *   -> '-';
 * - every run of white space (ASCII, NBSP, U+2000-200B, U+3000, line and
 *   paragraph separators) -> one ' '; leading and trailing space dropped.
 * Keywords and text go through the same function, so a keyword matches
 * every spelling that normalises alike. Returns 0, or -1 when out is full
 * (what fit is kept). */
int match_normalize(const char *s, size_t n, struct buf *out) WARN_UNUSED;

/* Is cp a letter or digit of an alphabetic script (Latin incl. accented,
 * Greek, Cyrillic, ...)? Such characters join words; CJK ideographs, kana,
 * Hangul, punctuation and symbols do not. */
int match_is_word_cp(unsigned cp);

struct matcher;

/* An empty matcher. Owned; free with match_free(). */
struct matcher *match_new(void);
void match_free(struct matcher **m);

/* Add a normalised keyword kw[0..len) (len > 0) under id (< 1,000,000).
 * Several keywords may share an id; the same keyword may be added under
 * several ids. A keyword whose first (last) character is a word character
 * (match_is_word_cp) only matches where the text's preceding (following)
 * character is not one: "late" is found in "late!" and "is late." but not in
 * "chocolate" or "lately"; CJK keywords match anywhere. */
void match_add(struct matcher *m, const char *kw, size_t len, unsigned id);

/* Build the automaton after the last match_add(). Returns 0, or -1 with
 * XERR_CONFIG when it would be too large (bounds.h). */
int match_compile(struct matcher *m, struct xerr *err) WARN_UNUSED;

/* Number of ids (largest id + 1); bit sets passed to match_scan_bits() hold
 * at least this many bits. */
size_t match_ids(const struct matcher *m);
/* Bytes of memory the compiled automaton uses. */
size_t match_memory(const struct matcher *m);

/* Scan normalised text t[0..n) once. For every occurrence of a keyword
 * that respects its word boundaries, call cb(id, start, end, ctx) with
 * t[start..end) the occurrence; cb returns non-zero to stop the scan. */
void match_scan(const struct matcher *m, const char *t, size_t n,
		int (*cb)(unsigned id, size_t start, size_t end, void *ctx),
		void *ctx);
/* The same, only setting bit id of bits (uint64_t words, caller-zeroed)
 * for every keyword found. The fast path of classification. */
void match_scan_bits(const struct matcher *m, const char *t, size_t n,
		     uint64_t *bits);

#endif
