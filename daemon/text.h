/* text: UTF-8 text utilities with no I/O: validation and repair, charset
 * conversion to UTF-8 (iconv), HTML to readable text, header-safe values,
 * order-id extraction and a language guess. Knows nothing of MIME or mail. */
#ifndef PEAKQ_TEXT_H
#define PEAKQ_TEXT_H

#include <stddef.h>

#include "buf.h"
#include "xerr.h"

/* Length of an Amazon order id "ddd-ddddddd-ddddddd" plus NUL. */
#define TEXT_ORDER_ID_SIZE 20

/* Is s[0..n) valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF)? */
int text_utf8_valid(const char *s, size_t n);

/* Append s[0..n) to out with every invalid UTF-8 sequence replaced by U+FFFD
 * and NUL bytes dropped. Returns 0, or -1 when out's maximum is reached (what
 * fit is kept). */
int text_utf8_repair(const char *s, size_t n, struct buf *out) WARN_UNUSED;

/* Convert s[0..n) from charset to UTF-8, appending to out. The charset name
 * is matched case-insensitively; gb2312, gbk, x-gbk, cp936 and euc-cn are read
 * as GB18030, big5 as BIG5-HKSCS, ks_c_5601-1987 as CP949, latin-1/us-ascii
 * families as windows-1252 where that is a superset. NULL or empty charset
 * means us-ascii (repaired as UTF-8). Unconvertible bytes become U+FFFD;
 * the output is always valid UTF-8.
 * Returns 0; -1 with XERR_PERM when the charset is unknown to iconv (then the
 * input is appended as repaired UTF-8 anyway) or out is full. */
int text_to_utf8(const char *charset, const char *s, size_t n, struct buf *out,
		 struct xerr *err);

/* Make a value from a customer's mail safe to put in a header we send:
 * repair UTF-8; C0 controls, DEL, C1 controls, U+2028/2029 and bidi controls
 * (U+061C, U+200E/F, U+202A-202E, U+2066-2069) become a space; runs of white
 * space collapse to one; leading/trailing space trimmed; at most max_cp code
 * points kept (cut on a code point boundary). Returns an owned string. */
char *text_header_safe(const char *s, size_t n, size_t max_cp);

/* Turn HTML into readable plain text appended to out: drops <script>,
 * <style>, <head> and comments; block elements (p, div, br, li, tr, h1-6,
 * blockquote) break lines; entities decoded (named common ones, &#NN;,
 * &#xNN;); whitespace collapsed. Returns 0 or -1 when out is full. */
int text_html_to_text(const char *html, size_t n, struct buf *out) WARN_UNUSED;

/* Find Amazon order ids (3-7-7 digits, not part of a longer digit run) in
 * s[0..n), in order of appearance, without duplicates, appending to
 * ids[*count..max). Returns the new count. */
size_t text_order_ids(const char *s, size_t n, char (*ids)[TEXT_ORDER_ID_SIZE],
		      size_t count, size_t max);

/* "zh" when the text is mainly Chinese (Han characters make up at least a
 * fifth of the letters seen, or there are 5+ Han characters and no more than
 * 4x as many Latin letters), else "en". Borrowed static string. */
const char *text_guess_lang(const char *s, size_t n);

/* Decode one UTF-8 code point at s (n bytes available). Returns its length
 * (1-4) and stores the code point, or returns 1 with *cp = 0xFFFD for an
 * invalid sequence. n must be > 0. */
size_t text_utf8_decode(const char *s, size_t n, unsigned *cp);
/* Encode cp as UTF-8 into out (4 bytes room). Returns the length. */
size_t text_utf8_encode(unsigned cp, char *out);

#endif
