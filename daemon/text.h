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
 * is matched case-insensitively (quotes, white space and an RFC 2231
 * "*lang" suffix ignored); gb2312, gbk, x-gbk, cp936 and euc-cn are read
 * as GB18030, big5 as BIG5-HKSCS, ks_c_5601-1987 and euc-kr as CP949,
 * shift_jis as CP932, euc-jp as EUC-JP-MS, iso-2022-jp with the CP50221
 * extensions (half-width katakana, NEC row 13), latin-1 families as
 * windows-1252. us-ascii/ascii: valid UTF-8 is kept as is (mislabelled
 * mail), anything else is read as windows-1252. NULL, empty, utf-8 and utf8
 * are repaired as UTF-8. Unconvertible bytes become U+FFFD (one per byte);
 * NULs are dropped; the output is always valid UTF-8.
 * Returns 0; -1 with XERR_PERM when the charset is unknown to iconv (then the
 * input is appended as repaired UTF-8 anyway) or out is full (what fit is
 * kept). */
int text_to_utf8(const char *charset, const char *s, size_t n, struct buf *out,
		 struct xerr *err);

/* Can text_to_utf8() convert from charset (1) or would it fall back to
 * repairing the bytes as UTF-8 (0)? */
int text_charset_known(const char *charset);

/* Convert bytes of undeclared charset to UTF-8, appending to out: read as
 * ISO-2022-JP when they hold its escapes (ESC $ B, ESC $ @); kept when
 * valid UTF-8; else read as GB18030, then as BIG5-HKSCS, when that decodes
 * without error and looks like Chinese text (all non-ASCII characters Han
 * or CJK punctuation, mostly in runs); else read as windows-1252. Returns
 * 0, or -1 when out is full (what fit is kept). */
int text_guess_to_utf8(const char *s, size_t n, struct buf *out) WARN_UNUSED;

/* Convert s[0..n), labelled charset by a mail (NULL or "" if not), to UTF-8,
 * appending to out, distrusting labels that cannot be right: no label,
 * us-ascii/ascii or a charset iconv does not know -> text_guess_to_utf8();
 * "utf-8" that is invalid without a single valid multi-byte character ->
 * guessed (Latin-1 from old clients); any other label on valid UTF-8 with
 * 3+ multi-byte characters -> UTF-8 (GBK or Latin-1 text is almost never
 * valid UTF-8); else text_to_utf8(). Returns 0, or -1 when out is full. */
int text_label_to_utf8(const char *charset, const char *s, size_t n,
		       struct buf *out) WARN_UNUSED;

/* Append the valid UTF-8 s[0..n) to out. When it does not fit, append the
 * longest prefix that ends on a code point boundary and return -1; else 0. */
int text_append_utf8(struct buf *out, const char *s, size_t n) WARN_UNUSED;

/* Make a value from a customer's mail safe to put in a header we send:
 * repair UTF-8; C0 controls, DEL, C1 controls, U+2028/2029 and bidi controls
 * (U+061C, U+200E/F, U+202A-202E, U+2066-2069) become a space; runs of white
 * space collapse to one; leading/trailing space trimmed; at most max_cp code
 * points kept (cut on a code point boundary). Returns an owned string. */
char *text_header_safe(const char *s, size_t n, size_t max_cp);

/* Turn HTML (UTF-8) into readable plain text appended to out: drops
 * <script>, <style>, <head>, <title>, comments, <!...> and <?...?>; block
 * elements (p, div, li, tr, h1-6, blockquote, table, ...) start a line,
 * <br> breaks one (two in a row leave a blank line), <li> starts "- ",
 * td/th are separated by a space; entities decoded (common named ones,
 * &#NN; and &#xNN;, &#128;-&#159; as windows-1252, invalid ones as U+FFFD;
 * an unknown or malformed entity stays as written); white space collapsed
 * (&nbsp; too), no leading or trailing white space; a tag left open at the
 * end is dropped; invalid UTF-8 repaired. A hand-written scanner, linear in
 * n. Returns 0 or -1 when out is full (what fit is kept). */
int text_html_to_text(const char *html, size_t n, struct buf *out) WARN_UNUSED;

/* Find Amazon order ids (3-7-7 ASCII digits, not part of a longer digit run
 * nor continuing a dash-digit pattern on either side) in s[0..n), in order of
 * appearance, without duplicates (also against ids[0..count)), appending to
 * ids[count..max). Returns the new count. */
size_t text_order_ids(const char *s, size_t n, char (*ids)[TEXT_ORDER_ID_SIZE],
		      size_t count, size_t max);

/* "zh" when the text is mainly Chinese (Han characters make up at least a
 * fifth of the letters seen, or there are 5+ Han characters and no more than
 * 4x as many Latin letters), else "en". Letters are Han, Latin (ASCII and
 * U+00C0-024F) and Greek, Cyrillic, kana and Hangul (so Japanese with many
 * kanji counts as "zh", Korean as "en"). Borrowed static string. */
const char *text_guess_lang(const char *s, size_t n);

/* Decode one UTF-8 code point at s (n bytes available). Returns its length
 * (1-4) and stores the code point, or returns 1 with *cp = 0xFFFD for an
 * invalid sequence. n must be > 0. */
size_t text_utf8_decode(const char *s, size_t n, unsigned *cp);
/* Encode cp as UTF-8 into out (4 bytes room). Returns the length. */
size_t text_utf8_encode(unsigned cp, char *out);

#endif
