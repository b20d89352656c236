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
 * - invalid UTF-8 -> U+FFFD (one per maximal subpart, as
 *   text_utf8_repair()), NUL dropped;
 * - Unicode simple case folding (CaseFolding.txt statuses C and S): one
 *   code point to one, so "Stra\u00dfe" stays "stra\u00dfe" and does not
 *   match "strasse"; final sigma folds to sigma;
 * - full-width forms (U+FF01-FF5E) -> ASCII, half-width katakana and
 *   Hangul -> their full-width forms, U+3000 -> space;
 * - traditional Chinese -> simplified (Unihan kSimplifiedVariant, where the
 *   mapping is one character to one character);
 * - curly quotes and apostrophes -> ' and ", dashes (U+2010-2015, U+2212)
 *   -> '-';
 * - every run of white space (ASCII, NBSP, U+2000-200B, U+3000, line and
 *   paragraph separators) -> one ' '; leading and trailing space dropped.
 * Tables: match_tables.h, generated from Unicode 15.0.0. Kana voicing
 * marks are not composed (half-width "\uff76\uff9e" gives U+30AB U+3099,
 * not U+30AC). The output is valid UTF-8, idempotent under a second pass,
 * and at most 3n bytes (an invalid byte becoming U+FFFD), 1.5n for valid
 * input. Each call trims its own leading and trailing space, so two calls
 * appending to one buffer do not join with a space. Keywords and text go
 * through the same function, so a keyword matches every spelling that
 * normalises alike. Returns 0, or -1 when out is full (what fit is kept,
 * never half a character). */
int match_normalize(const char *s, size_t n, struct buf *out) WARN_UNUSED;

/* Is cp a letter or digit of an alphabetic script (Latin incl. accented,
 * Greek, Cyrillic, ...)? Such characters join words; CJK ideographs, kana,
 * Hangul, punctuation and symbols do not. Precisely: general category L*,
 * M* or Nd, not of a script written without spaces (Han, kana, Hangul,
 * Thai, ...; match_tables.h). '_' is not a word character. */
int match_is_word_cp(unsigned cp);

struct matcher;

/* The longest keyword, in bytes of normalised UTF-8. */
#define MATCH_MAX_KEYWORD 1024u

/* An empty matcher. Owned; free with match_free(). */
struct matcher *match_new(void);
void match_free(struct matcher **m);

/* Add a normalised keyword kw[0..len) (len > 0, valid UTF-8, at most
 * 1,024 bytes: match_compile() checks) under id (< 1,000,000), before
 * match_compile(). The bytes are copied.
 * Several keywords may share an id; the same keyword may be added under
 * several ids. A keyword whose first (last) character is a word character
 * (match_is_word_cp) only matches where the text's preceding (following)
 * character is not one: "late" is found in "late!" and "is late." but not in
 * "chocolate" or "lately"; CJK keywords match anywhere. */
void match_add(struct matcher *m, const char *kw, size_t len, unsigned id);

/* The same for a prefix: only the start needs a word boundary ("damag"
 * added this way is found in "damaged" and "damages"). A keyword added
 * both ways shares one state and is then treated as a prefix. */
void match_add_prefix(struct matcher *m, const char *kw, size_t len,
		      unsigned id);

/* Build the automaton after the last match_add(); call it once. Frees the
 * keyword copies. Returns 0, or -1 with XERR_CONFIG when a keyword is
 * invalid UTF-8 or too long, or the automaton would be too large (more
 * than 65,535 states or an 8 MB table: about 5,000-10,000 keywords; the
 * limits are in match.c). After a failure the matcher finds nothing. */
int match_compile(struct matcher *m, struct xerr *err) WARN_UNUSED;

/* Number of ids (largest id + 1); bit sets passed to match_scan_bits() hold
 * at least this many bits. */
size_t match_ids(const struct matcher *m);
/* Bytes of memory the compiled automaton uses. */
size_t match_memory(const struct matcher *m);

/* Scan normalised text t[0..n) once. For every occurrence of a keyword
 * that respects its word boundaries, call cb(id, start, end, ctx) with
 * t[start..end) the occurrence, in order of end, the longest first; cb
 * returns non-zero to stop the scan. t must be valid UTF-8, as
 * match_normalize() output is: on invalid bytes what is found is
 * unspecified (but memory stays safe). A matcher not compiled, or whose
 * compilation failed, finds nothing. */
void match_scan(const struct matcher *m, const char *t, size_t n,
		int (*cb)(unsigned id, size_t start, size_t end, void *ctx),
		void *ctx);
/* The same, only setting bit id of bits (uint64_t words, caller-zeroed)
 * for every keyword found. The fast path of classification: a text of
 * 32 KB and more is scanned as 8 interleaved parts. Allocates 10 KB of
 * scratch per call. Several threads may scan with one matcher. */
void match_scan_bits(const struct matcher *m, const char *t, size_t n,
		     uint64_t *bits);

#endif
