/* text: pure text utilities on byte strings: strict UTF-8 decoding and
 * repair, charset conversion through iconv (with our own alias table and
 * U+FFFD for bad input), a small HTML-to-text scanner, header-safe values,
 * order ids and a language guess. No I/O, no logging, no MIME knowledge, no
 * global state (each conversion opens and closes its own iconv handle). */
#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>

#include "text.h"

#define REPLACEMENT 0xFFFDu
#define CHARSET_NAME_MAX 48

/* ---------------------------------------------------------------- UTF-8 */

/* Decode one code point. Returns the number of bytes used; *ok says whether
 * they form a valid sequence. An invalid sequence uses its maximal subpart
 * (Unicode 3.9, table 3-7), at least one byte. */
static size_t decode1(const unsigned char *s, size_t n, unsigned *cp, int *ok)
{
	unsigned c = s[0], v;
	unsigned char lo = 0x80, hi = 0xBF;
	size_t need;

	*ok = 0;
	*cp = REPLACEMENT;
	if (c < 0x80) {
		*cp = c;
		*ok = 1;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		v = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 1;
	}
	for (size_t k = 1; k <= need; k++) {
		unsigned char b;

		if (k >= n)
			return k;
		b = s[k];
		if (b < lo || b > hi)
			return k;
		lo = 0x80;
		hi = 0xBF;
		v = (v << 6) | (b & 0x3F);
	}
	*cp = v;
	*ok = 1;
	return need + 1;
}

size_t text_utf8_decode(const char *s, size_t n, unsigned *cp)
{
	int ok;
	size_t k = decode1((const unsigned char *)s, n, cp, &ok);

	return ok ? k : 1;
}

size_t text_utf8_encode(unsigned cp, char *out)
{
	unsigned char *o = (unsigned char *)out;

	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = REPLACEMENT;
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

int text_utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned cp;
		int ok;

		if (u[i] < 0x80) {
			i++;
			continue;
		}
		i += decode1(u + i, n - i, &cp, &ok);
		if (!ok)
			return 0;
	}
	return 1;
}

int text_append_utf8(struct buf *out, const char *s, size_t n)
{
	size_t room;

	if (buf_add(out, s, n) == 0)
		return 0;
	room = out->max > out->len ? out->max - out->len : 0;
	if (room > n)
		room = n;
	/* s[room] is the first byte left out: never cut before a
	 * continuation byte. */
	while (room > 0 && ((unsigned char)s[room] & 0xC0) == 0x80)
		room--;
	if (room > 0 && buf_add(out, s, room) < 0)
		return -1;
	return -1;
}

static int add_cp(struct buf *out, unsigned cp)
{
	char enc[4];

	return buf_add(out, enc, text_utf8_encode(cp, enc));
}

int text_utf8_repair(const char *s, size_t n, struct buf *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0;

	while (i < n) {
		unsigned cp;
		size_t k;
		int ok = 1;

		if (u[i] != 0 && u[i] < 0x80) {
			i++;
			continue;
		}
		k = u[i] ? decode1(u + i, n - i, &cp, &ok) : 1;
		if (ok && u[i]) {
			i += k;
			continue;
		}
		/* NUL or an invalid sequence: flush the valid run first. */
		if (text_append_utf8(out, s + run, i - run) < 0)
			return -1;
		if (!ok && add_cp(out, REPLACEMENT) < 0)
			return -1;
		i += k;
		run = i;
	}
	return text_append_utf8(out, s + run, i - run);
}

/* ------------------------------------------------------------- charsets */

enum cs_kind {
	CS_UTF8,  /* repair as UTF-8 */
	CS_ASCII, /* UTF-8 if valid, else windows-1252 */
	CS_ICONV, /* through iconv with the mapped name */
	CS_JIS,	  /* ISO-2022-JP, rewritten as EUC-JP for EUC-JP-MS */
};

struct cs_alias {
	const char *name;
	enum cs_kind kind;
	const char *iconv_name;
};

/* Labels seen in mail, mapped to what the sender's software really wrote:
 * the Windows supersets. Anything else goes to iconv as written. */
static const struct cs_alias cs_aliases[] = {
    {"utf-8", CS_UTF8, NULL},
    {"utf8", CS_UTF8, NULL},
    {"unicode-1-1-utf-8", CS_UTF8, NULL},
    {"x-unicode20utf8", CS_UTF8, NULL},
    {"us-ascii", CS_ASCII, NULL},
    {"ascii", CS_ASCII, NULL},
    {"us", CS_ASCII, NULL},
    {"ansi_x3.4-1968", CS_ASCII, NULL},
    {"iso-8859-1", CS_ICONV, "WINDOWS-1252"},
    {"iso8859-1", CS_ICONV, "WINDOWS-1252"},
    {"iso_8859-1", CS_ICONV, "WINDOWS-1252"},
    {"latin1", CS_ICONV, "WINDOWS-1252"},
    {"latin-1", CS_ICONV, "WINDOWS-1252"},
    {"l1", CS_ICONV, "WINDOWS-1252"},
    {"cp819", CS_ICONV, "WINDOWS-1252"},
    {"windows-1252", CS_ICONV, "WINDOWS-1252"},
    {"cp1252", CS_ICONV, "WINDOWS-1252"},
    {"x-cp1252", CS_ICONV, "WINDOWS-1252"},
    {"gb2312", CS_ICONV, "GB18030"},
    {"gb_2312-80", CS_ICONV, "GB18030"},
    {"gb2312-80", CS_ICONV, "GB18030"},
    {"csgb2312", CS_ICONV, "GB18030"},
    {"gbk", CS_ICONV, "GB18030"},
    {"x-gbk", CS_ICONV, "GB18030"},
    {"cp936", CS_ICONV, "GB18030"},
    {"ms936", CS_ICONV, "GB18030"},
    {"windows-936", CS_ICONV, "GB18030"},
    {"euc-cn", CS_ICONV, "GB18030"},
    {"x-euc-cn", CS_ICONV, "GB18030"},
    {"gb18030", CS_ICONV, "GB18030"},
    {"big5", CS_ICONV, "BIG5-HKSCS"},
    {"big-5", CS_ICONV, "BIG5-HKSCS"},
    {"x-big5", CS_ICONV, "BIG5-HKSCS"},
    {"cn-big5", CS_ICONV, "BIG5-HKSCS"},
    {"csbig5", CS_ICONV, "BIG5-HKSCS"},
    {"big5-hkscs", CS_ICONV, "BIG5-HKSCS"},
    {"ks_c_5601-1987", CS_ICONV, "CP949"},
    {"ks_c_5601", CS_ICONV, "CP949"},
    {"ksc5601", CS_ICONV, "CP949"},
    {"ksc_5601", CS_ICONV, "CP949"},
    {"euc-kr", CS_ICONV, "CP949"},
    {"cp949", CS_ICONV, "CP949"},
    {"windows-949", CS_ICONV, "CP949"},
    {"shift_jis", CS_ICONV, "CP932"},
    {"shift-jis", CS_ICONV, "CP932"},
    {"sjis", CS_ICONV, "CP932"},
    {"x-sjis", CS_ICONV, "CP932"},
    {"ms_kanji", CS_ICONV, "CP932"},
    {"csshiftjis", CS_ICONV, "CP932"},
    {"windows-31j", CS_ICONV, "CP932"},
    {"cp932", CS_ICONV, "CP932"},
    {"iso-2022-jp", CS_JIS, "EUC-JP-MS"},
    {"csiso2022jp", CS_JIS, "EUC-JP-MS"},
    {"euc-jp", CS_ICONV, "EUC-JP-MS"},
    {"x-euc-jp", CS_ICONV, "EUC-JP-MS"},
};

/* Lowercase and trim a charset label into name; strips quotes and an RFC
 * 2231 "*language" suffix. Returns 0, or -1 when the label has characters
 * no charset name has (so nothing like "//IGNORE" reaches iconv). */
static int charset_norm(const char *cs, char *name, size_t size)
{
	size_t n = 0, len = strlen(cs);

	while (len > 0 && (cs[len - 1] == ' ' || cs[len - 1] == '\t' ||
			   cs[len - 1] == '"' || cs[len - 1] == '\''))
		len--;
	while (len > 0 &&
	       (*cs == ' ' || *cs == '\t' || *cs == '"' || *cs == '\'')) {
		cs++;
		len--;
	}
	for (size_t i = 0; i < len && cs[i] != '*'; i++) {
		int c = ascii_tolower((unsigned char)cs[i]);

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.' || c == ':' || c == '+'))
			return -1;
		if (n + 1 >= size)
			return -1;
		name[n++] = (char)c;
	}
	name[n] = '\0';
	return 0;
}

/* Resolve a label. Returns the kind; for CS_ICONV, *iconv_r is the name to
 * open (static or name itself, uppercased). -1 for an unusable label. */
static int charset_resolve(const char *charset, char *name, size_t size,
			   const char **iconv_r)
{
	*iconv_r = NULL;
	if (!charset || !*charset)
		return CS_UTF8;
	if (charset_norm(charset, name, size) < 0)
		return -1;
	if (!*name)
		return CS_UTF8;
	for (size_t i = 0; i < ARRAY_SIZE(cs_aliases); i++)
		if (strcmp(name, cs_aliases[i].name) == 0) {
			*iconv_r = cs_aliases[i].iconv_name;
			return (int)cs_aliases[i].kind;
		}
	for (char *p = name; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	*iconv_r = name;
	return CS_ICONV;
}

static iconv_t open_to_utf8(const char *from)
{
	return iconv_open("UTF-8", from);
}

/* Run s[0..n) through cd into out. Bad input becomes U+FFFD (one byte
 * skipped, then go on) unless strict, where it fails. Returns 0, -1 when out
 * is full, -2 on bad input in strict mode. */
static int convert(iconv_t cd, const char *s, size_t n, struct buf *out,
		   int strict)
{
	char tmp[4096];
	char *in = (char *)(uintptr_t)s;
	size_t inleft = n;

	for (;;) {
		char *op = tmp;
		size_t outleft = sizeof(tmp), r;
		int flushing = inleft == 0, e;

		/* With no input left, write out the shift state (ISO-2022). */
		if (flushing)
			r = iconv(cd, NULL, NULL, &op, &outleft);
		else
			r = iconv(cd, &in, &inleft, &op, &outleft);
		e = errno;
		if (text_utf8_repair(tmp, (size_t)(op - tmp), out) < 0)
			return -1;
		if (r != (size_t)-1) {
			if (flushing)
				return 0;
			continue;
		}
		if (e == E2BIG)
			continue;
		if (flushing)
			return 0;
		if (strict)
			return -2;
		/* EILSEQ, or EINVAL for a sequence cut at the end. */
		if (add_cp(out, REPLACEMENT) < 0)
			return -1;
		in++;
		inleft--;
	}
}

enum jis_state { JIS_ASCII, JIS_X0208, JIS_KANA, JIS_X0212 };

struct jis_escape {
	const char *seq; /* after ESC */
	enum jis_state state;
};

static const struct jis_escape jis_escapes[] = {
    {"(B", JIS_ASCII},	{"(J", JIS_ASCII},  {"(H", JIS_ASCII},
    {"(I", JIS_KANA},	{"$@", JIS_X0208},  {"$B", JIS_X0208},
    {"$(Q", JIS_X0208}, {"$(O", JIS_X0208}, {"$(D", JIS_X0212},
};

/* Rewrite ISO-2022-JP as EUC-JP, so that EUC-JP-MS reads it with the
 * CP50220/CP50221 extensions real mail uses (half-width katakana, NEC row
 * 13: "①", "№"); glibc's ISO-2022-JP knows none of them. An unknown escape
 * becomes 0xFF (then U+FFFD). 8-bit bytes pass unchanged, so EUC-JP
 * mislabelled as ISO-2022-JP still reads well. Returns 0 or -1 when e is
 * full. */
static int jis_to_eucjp(const char *s, size_t n, struct buf *e)
{
	const unsigned char *u = (const unsigned char *)s;
	enum jis_state st = JIS_ASCII;
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		unsigned char c = u[i], two[3];
		size_t k;

		if (c == 0x1B) {
			for (k = 0; k < ARRAY_SIZE(jis_escapes); k++) {
				size_t l = strlen(jis_escapes[k].seq);

				if (n - i - 1 >= l &&
				    memcmp(s + i + 1, jis_escapes[k].seq, l) ==
					0) {
					st = jis_escapes[k].state;
					i += l;
					break;
				}
			}
			if (k == ARRAY_SIZE(jis_escapes)) {
				if (n - i - 1 >= 2 &&
				    memcmp(s + i + 1, "&@", 2) == 0)
					i += 2; /* JIS X 0208-1990 prefix */
				else
					r = buf_addc(e, (char)0xFF);
			}
			continue;
		}
		if (c == 0x0E || c == 0x0F) { /* SO/SI katakana shift */
			st = c == 0x0E ? JIS_KANA : JIS_ASCII;
			continue;
		}
		if ((st == JIS_X0208 || st == JIS_X0212) && c >= 0x21 &&
		    c <= 0x7E && i + 1 < n && u[i + 1] >= 0x21 &&
		    u[i + 1] <= 0x7E) {
			k = 0;
			if (st == JIS_X0212)
				two[k++] = 0x8F;
			two[k++] = c | 0x80;
			two[k++] = u[++i] | 0x80;
			r = buf_add(e, two, k);
		} else if (st == JIS_KANA && c >= 0x21 && c <= 0x5F) {
			two[0] = 0x8E;
			two[1] = c | 0x80;
			r = buf_add(e, two, 2);
		} else {
			r = buf_addc(e, (char)c);
		}
	}
	return r;
}

static int jis_to_utf8(iconv_t cd, const char *s, size_t n, struct buf *out)
{
	struct buf e;
	int r;

	buf_init(&e, 2 * n + 16);
	r = jis_to_eucjp(s, n, &e);
	if (r == 0)
		r = convert(cd, buf_str(&e), e.len, out, 0) < 0 ? -1 : 0;
	buf_release(&e);
	return r;
}

int text_charset_known(const char *charset)
{
	char name[CHARSET_NAME_MAX];
	const char *ic;
	iconv_t cd;
	int kind = charset_resolve(charset, name, sizeof(name), &ic);

	if (kind < 0)
		return 0;
	if (kind != CS_ICONV && kind != CS_JIS)
		return 1;
	cd = open_to_utf8(ic);
	if (cd == (iconv_t)-1)
		return 0;
	iconv_close(cd);
	return 1;
}

static int to_1252(const char *s, size_t n, struct buf *out)
{
	iconv_t cd = open_to_utf8("WINDOWS-1252");
	int r;

	if (cd == (iconv_t)-1)
		return text_utf8_repair(s, n, out);
	r = convert(cd, s, n, out, 0);
	iconv_close(cd);
	return r < 0 ? -1 : 0;
}

int text_to_utf8(const char *charset, const char *s, size_t n, struct buf *out,
		 struct xerr *err)
{
	char name[CHARSET_NAME_MAX];
	const char *ic;
	iconv_t cd = (iconv_t)-1;
	int kind, ret = 0;

	kind = charset_resolve(charset, name, sizeof(name), &ic);
	switch (kind) {
	case CS_UTF8:
		if (text_utf8_repair(s, n, out) < 0)
			goto full;
		goto out;
	case CS_ASCII:
		if (text_utf8_valid(s, n)) {
			if (text_utf8_repair(s, n, out) < 0)
				goto full;
		} else if (to_1252(s, n, out) < 0) {
			goto full;
		}
		goto out;
	case CS_JIS:
	case CS_ICONV:
		cd = open_to_utf8(ic);
		if (cd != (iconv_t)-1)
			break;
		/* FALLTHROUGH */
	default:
		if (text_utf8_repair(s, n, out) < 0)
			goto full;
		ret = xerr_set(err, XERR_PERM, "unknown charset '%.64s'",
			       charset);
		goto out;
	}
	if (kind == CS_JIS ? jis_to_utf8(cd, s, n, out) < 0
			   : convert(cd, s, n, out, 0) < 0)
		goto full;
	goto out;
full:
	ret = xerr_set(err, XERR_PERM, "text too long (over %zu bytes)",
		       out->max);
out:
	if (cd != (iconv_t)-1)
		iconv_close(cd);
	return ret;
}

/* Does cp belong to the scripts and punctuation of Chinese text? */
static int chinese_cp(unsigned cp)
{
	return (cp >= 0x4E00 && cp <= 0x9FFF) ||
	       (cp >= 0x3400 && cp <= 0x4DBF) ||
	       (cp >= 0x3000 && cp <= 0x303F) ||
	       (cp >= 0xFF00 && cp <= 0xFFEF) ||
	       (cp >= 0x2010 && cp <= 0x203B) || cp == 0x00B7 ||
	       (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0x2460 && cp <= 0x249B);
}

/* Is s[0..n) (valid UTF-8) plausibly Chinese text: every non-ASCII code
 * point Chinese, and at least half of them next to another one? Latin-1
 * read as GB18030 gives isolated ideographs ("M\xfcller" -> "M" + one Han
 * character + "ller"). */
static int looks_chinese(const char *s, size_t n)
{
	size_t i = 0, na = 0, paired = 0;
	int prev_na = 0, prev_counted = 0;

	while (i < n) {
		unsigned cp;
		size_t k = text_utf8_decode(s + i, n - i, &cp);
		int is_na = cp >= 0x80;

		if (is_na) {
			if (!chinese_cp(cp))
				return 0;
			na++;
			if (prev_na) {
				paired += prev_counted ? 1 : 2;
				prev_counted = 1;
			} else {
				prev_counted = 0;
			}
		}
		prev_na = is_na;
		i += k;
	}
	return na > 0 && paired * 2 >= na;
}

int text_guess_to_utf8(const char *s, size_t n, struct buf *out)
{
	static const char *const chinese[] = {"GB18030", "BIG5-HKSCS"};
	struct buf tmp;
	int r, r2;

	if (memmem(s, n, "\x1b$B", 3) || memmem(s, n, "\x1b$@", 3))
		return text_to_utf8("iso-2022-jp", s, n, out, NULL);
	if (text_utf8_valid(s, n))
		return text_utf8_repair(s, n, out);
	for (size_t i = 0; i < ARRAY_SIZE(chinese); i++) {
		iconv_t cd = open_to_utf8(chinese[i]);

		if (cd == (iconv_t)-1)
			continue;
		buf_init(&tmp, out->max);
		r = convert(cd, s, n, &tmp, 1);
		iconv_close(cd);
		/* r == -1: tmp is full, judge by what fit. */
		if (r != -2 && looks_chinese(buf_str(&tmp), tmp.len)) {
			r2 = text_append_utf8(out, buf_str(&tmp), tmp.len);
			buf_release(&tmp);
			return r < 0 || r2 < 0 ? -1 : 0;
		}
		buf_release(&tmp);
	}
	return to_1252(s, n, out);
}

/* Is s[0..n) valid UTF-8? *mb_r counts its valid multi-byte characters. */
static int utf8_stats(const char *s, size_t n, size_t *mb_r)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	int valid = 1;

	*mb_r = 0;
	while (i < n) {
		unsigned cp;
		int ok;

		if (u[i] < 0x80) {
			i++;
			continue;
		}
		i += decode1(u + i, n - i, &cp, &ok);
		if (ok)
			(*mb_r)++;
		else
			valid = 0;
	}
	return valid;
}

int text_label_to_utf8(const char *charset, const char *s, size_t n,
		       struct buf *out)
{
	char name[CHARSET_NAME_MAX];
	const char *ic;
	size_t mb;
	int kind = charset ? charset_resolve(charset, name, sizeof(name), &ic)
			   : CS_ASCII;
	int valid;

	if (kind == CS_ASCII || !text_charset_known(charset) ||
	    (charset && !*charset))
		return text_guess_to_utf8(s, n, out);
	valid = utf8_stats(s, n, &mb);
	if (kind == CS_UTF8 ? !valid && mb == 0 : valid && mb >= 3)
		return text_guess_to_utf8(s, n, out);
	return text_to_utf8(charset, s, n, out, NULL) < 0 ? -1 : 0;
}

/* --------------------------------------------------------- header values */

static int unsafe_cp(unsigned cp)
{
	return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0x061C || cp == 0x200E ||
	       cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

char *text_header_safe(const char *s, size_t n, size_t max_cp)
{
	const unsigned char *u = (const unsigned char *)s;
	struct buf b;
	size_t i = 0, ncp = 0;
	int space = 0;

	buf_init(&b, SIZE_MAX / 2);
	while (i < n && ncp < max_cp) {
		unsigned cp;
		int ok;

		if (u[i] == 0) {
			i++;
			continue;
		}
		i += decode1(u + i, n - i, &cp, &ok);
		if (cp == ' ' || unsafe_cp(cp)) {
			space = ncp > 0;
			continue;
		}
		if (space) {
			if (ncp + 2 > max_cp || buf_addc(&b, ' ') < 0)
				break;
			ncp++;
			space = 0;
		}
		if (add_cp(&b, cp) < 0)
			break;
		ncp++;
	}
	return buf_detach(&b, NULL);
}

/* ------------------------------------------------------------------ HTML */

struct html {
	struct buf *out;
	int emitted;	    /* wrote any text yet */
	int nl;		    /* pending line breaks, 0-2 */
	int space;	    /* pending space */
	const char *prefix; /* pending list bullet */
	int full;
	int no_title_end, no_head_end; /* no "</title", "</head" ahead */
};

static void h_pending(struct html *h)
{
	if (h->emitted) {
		if (h->nl > 0) {
			if (buf_add(h->out, "\n\n", (size_t)h->nl) < 0)
				h->full = 1;
		} else if (h->space && buf_addc(h->out, ' ') < 0) {
			h->full = 1;
		}
	}
	if (h->prefix && buf_adds(h->out, h->prefix) < 0)
		h->full = 1;
	h->nl = 0;
	h->space = 0;
	h->prefix = NULL;
	h->emitted = 1;
}

static void h_word(struct html *h, const char *s, size_t n)
{
	if (h->full || n == 0)
		return;
	h_pending(h);
	if (!h->full && text_utf8_repair(s, n, h->out) < 0)
		h->full = 1;
}

static void h_cp(struct html *h, unsigned cp)
{
	char enc[4];

	if (cp == 0xA0 || cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
	    cp == 0x2002 || cp == 0x2003 || cp == 0x2009) {
		h->space = 1;
		return;
	}
	if (cp < 0x20 || cp == 0x7F)
		cp = REPLACEMENT;
	h_word(h, enc, text_utf8_encode(cp, enc));
}

static void h_break(struct html *h, int n)
{
	h->nl = n > h->nl ? n : h->nl;
}

struct entity {
	const char *name;
	unsigned cp;
};

static const struct entity entities[] = {
    {"amp", '&'},	{"AMP", '&'},	   {"lt", '<'},
    {"LT", '<'},	{"gt", '>'},	   {"GT", '>'},
    {"quot", '"'},	{"QUOT", '"'},	   {"apos", '\''},
    {"nbsp", 0xA0},	{"ensp", 0x2002},  {"emsp", 0x2003},
    {"thinsp", 0x2009}, {"mdash", 0x2014}, {"ndash", 0x2013},
    {"hellip", 0x2026}, {"lsquo", 0x2018}, {"rsquo", 0x2019},
    {"ldquo", 0x201C},	{"rdquo", 0x201D}, {"laquo", 0xAB},
    {"raquo", 0xBB},	{"bull", 0x2022},  {"middot", 0xB7},
    {"yen", 0xA5},	{"euro", 0x20AC},  {"pound", 0xA3},
    {"cent", 0xA2},	{"copy", 0xA9},	   {"COPY", 0xA9},
    {"reg", 0xAE},	{"REG", 0xAE},	   {"trade", 0x2122},
    {"times", 0xD7},	{"divide", 0xF7},  {"deg", 0xB0},
    {"sect", 0xA7},	{"para", 0xB6},	   {"iexcl", 0xA1},
    {"iquest", 0xBF},	{"eacute", 0xE9},  {"egrave", 0xE8},
    {"agrave", 0xE0},	{"ccedil", 0xE7},  {"uuml", 0xFC},
    {"ouml", 0xF6},	{"auml", 0xE4},	   {"szlig", 0xDF},
};

/* Windows-1252 for &#128; to &#159; (what HTML5 does). */
static const unsigned short c1_1252[32] = {
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
    0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
};

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = ascii_tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode the entity at s[0] == '&'. Returns its length and sets *cp, or 0
 * when it is not an entity (then '&' is text). */
static size_t entity(const char *s, size_t n, unsigned *cp)
{
	size_t i = 1;

	if (i < n && s[i] == '#') {
		unsigned long v = 0;
		int base = 10, d, digits = 0;

		i++;
		if (i < n && (s[i] == 'x' || s[i] == 'X')) {
			base = 16;
			i++;
		}
		while (i < n && (d = hexval((unsigned char)s[i])) >= 0 &&
		       d < base) {
			if (v <= 0x10FFFF)
				v = v * (unsigned long)base + (unsigned long)d;
			digits++;
			i++;
		}
		if (digits == 0)
			return 0;
		if (i < n && s[i] == ';')
			i++;
		if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
			v = REPLACEMENT;
		else if (v >= 0x80 && v <= 0x9F)
			v = c1_1252[v - 0x80];
		*cp = (unsigned)v;
		return i;
	}
	while (i < n && i < 12 &&
	       ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
		i++;
	if (i >= n || s[i] != ';')
		return 0;
	for (size_t k = 0; k < ARRAY_SIZE(entities); k++)
		if (strlen(entities[k].name) == i - 1 &&
		    memcmp(entities[k].name, s + 1, i - 1) == 0) {
			*cp = entities[k].cp;
			return i + 1;
		}
	return 0;
}

static int html_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* Text between tags: words, white space and entities. */
static void h_text(struct html *h, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && !h->full) {
		size_t start = i, k;
		unsigned cp;

		if (html_space((unsigned char)s[i])) {
			h->space = 1;
			i++;
			continue;
		}
		if (s[i] == '&' && (k = entity(s + i, n - i, &cp)) > 0) {
			h_cp(h, cp);
			i += k;
			continue;
		}
		i++;
		while (i < n && !html_space((unsigned char)s[i]) && s[i] != '&')
			i++;
		h_word(h, s + start, i - start);
	}
}

/* Find "</name" (case-insensitive) from s[from]; returns its offset or n. */
static size_t find_close(const char *s, size_t n, size_t from, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = from; i + 2 + nl <= n; i++)
		if (s[i] == '<' && s[i + 1] == '/' &&
		    ascii_ncasecmp(s + i + 2, name, nl) == 0)
			return i;
	return n;
}

/* Offset just past the '>' ending the tag opened at s[i] == '<', or n. A
 * quote left open falls back to the first '>'. */
static size_t tag_end(const char *s, size_t n, size_t i)
{
	const char *gt;

	for (size_t j = i + 1; j < n; j++) {
		if (s[j] == '>')
			return j + 1;
		if ((s[j] == '"' || s[j] == '\'') && j > i + 1 &&
		    s[j - 1] == '=') {
			const char *q = memchr(s + j + 1, s[j], n - j - 1);

			if (!q)
				break;
			j = (size_t)(q - s);
		}
	}
	gt = memchr(s + i, '>', n - i);
	return gt ? (size_t)(gt - s) + 1 : n;
}

static int name_in(const char *name, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(name, list[i]) == 0)
			return 1;
	return 0;
}

static const char *const block_tags[] = {
    "address", "article", "aside",  "blockquote", "caption",  "center",
    "dd",      "div",	  "dl",	    "dt",	  "fieldset", "figure",
    "footer",  "form",	  "h1",	    "h2",	  "h3",	      "h4",
    "h5",      "h6",	  "header", "hr",	  "li",	      "main",
    "nav",     "ol",	  "p",	    "pre",	  "section",  "table",
    "tbody",   "tfoot",	  "thead",  "tr",	  "ul",	      NULL,
};

/* Handle the tag at s[i] == '<'; returns the offset to go on from. */
static size_t h_tag(struct html *h, const char *s, size_t n, size_t i)
{
	char name[16];
	size_t j = i + 1, end, k = 0, c;
	int closing = 0;

	if (j < n && s[j] == '/') {
		closing = 1;
		j++;
	}
	while (j < n &&
	       ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z') ||
		(s[j] >= '0' && s[j] <= '9') || s[j] == ':' || s[j] == '-')) {
		if (k + 1 < sizeof(name))
			name[k++] = (char)ascii_tolower((unsigned char)s[j]);
		j++;
	}
	name[k] = '\0';
	end = tag_end(s, n, i);
	if (closing) {
		if (name_in(name, block_tags))
			h_break(h, 1);
		return end;
	}
	if (strcmp(name, "script") == 0 || strcmp(name, "style") == 0) {
		c = find_close(s, n, end, name);
		return c < n ? tag_end(s, n, c) : n;
	}
	if (strcmp(name, "title") == 0 || strcmp(name, "head") == 0) {
		/* Unclosed: ignore the tag (and never search again). */
		int *none = name[0] == 't' ? &h->no_title_end : &h->no_head_end;

		c = *none ? n : find_close(s, n, end, name);
		if (c == n) {
			*none = 1;
			return end;
		}
		return tag_end(s, n, c);
	}
	if (strcmp(name, "br") == 0) {
		h->nl = h->nl < 2 ? h->nl + 1 : 2;
	} else if (strcmp(name, "li") == 0) {
		h_break(h, 1);
		h->prefix = "- ";
	} else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0) {
		h->space = 1;
	} else if (name_in(name, block_tags)) {
		h_break(h, 1);
	}
	return end;
}

int text_html_to_text(const char *html, size_t n, struct buf *out)
{
	struct html h = {.out = out};
	size_t i = 0;

	while (i < n && !h.full) {
		const char *lt = memchr(html + i, '<', n - i);
		size_t t = lt ? (size_t)(lt - html) : n, j;

		h_text(&h, html + i, t - i);
		if (t >= n || h.full)
			break;
		j = t + 1;
		if (n - t >= 4 && memcmp(html + t, "<!--", 4) == 0) {
			const char *e = NULL;

			for (size_t k = t + 2; k + 3 <= n; k++)
				if (memcmp(html + k, "-->", 3) == 0) {
					e = html + k;
					break;
				}
			i = e ? (size_t)(e - html) + 3 : n;
		} else if (j < n && (html[j] == '!' || html[j] == '?')) {
			i = tag_end(html, n, t);
		} else if (j < n && (((html[j] | 0x20) >= 'a' &&
				      (html[j] | 0x20) <= 'z') ||
				     (html[j] == '/' && j + 1 < n &&
				      (html[j + 1] | 0x20) >= 'a' &&
				      (html[j + 1] | 0x20) <= 'z'))) {
			i = h_tag(&h, html, n, t);
		} else {
			h_word(&h, "<", 1);
			i = t + 1;
		}
	}
	return h.full ? -1 : 0;
}

/* ------------------------------------------------------------- order ids */

static int is_digit(const char *s, size_t n, size_t i)
{
	return i < n && s[i] >= '0' && s[i] <= '9';
}

static int order_id_at(const char *s, size_t n, size_t i)
{
	static const char pat[] = "ddd-ddddddd-ddddddd";

	if (n - i < TEXT_ORDER_ID_SIZE - 1)
		return 0;
	for (size_t k = 0; k < TEXT_ORDER_ID_SIZE - 1; k++) {
		if (pat[k] == '-' ? s[i + k] != '-' : !is_digit(s, n, i + k))
			return 0;
	}
	/* Not inside a longer digit run or a longer dash-digit pattern. */
	if (i > 0 && is_digit(s, n, i - 1))
		return 0;
	if (i > 1 && s[i - 1] == '-' && is_digit(s, n, i - 2))
		return 0;
	i += TEXT_ORDER_ID_SIZE - 1;
	if (is_digit(s, n, i))
		return 0;
	if (i < n && s[i] == '-' && is_digit(s, n, i + 1))
		return 0;
	return 1;
}

size_t text_order_ids(const char *s, size_t n, char (*ids)[TEXT_ORDER_ID_SIZE],
		      size_t count, size_t max)
{
	for (size_t i = 0; i < n && count < max; i++) {
		size_t k;

		if (!is_digit(s, n, i) || !order_id_at(s, n, i))
			continue;
		for (k = 0; k < count; k++)
			if (memcmp(ids[k], s + i, TEXT_ORDER_ID_SIZE - 1) == 0)
				break;
		if (k == count) {
			memcpy(ids[count], s + i, TEXT_ORDER_ID_SIZE - 1);
			ids[count][TEXT_ORDER_ID_SIZE - 1] = '\0';
			count++;
		}
		i += TEXT_ORDER_ID_SIZE - 2;
	}
	return count;
}

/* -------------------------------------------------------------- language */

static int han_cp(unsigned cp)
{
	return (cp >= 0x4E00 && cp <= 0x9FFF) ||
	       (cp >= 0x3400 && cp <= 0x4DBF) ||
	       (cp >= 0xF900 && cp <= 0xFAFF) ||
	       (cp >= 0x20000 && cp <= 0x2FFFF);
}

static int latin_cp(unsigned cp)
{
	return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
	       (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7);
}

/* Letters of other scripts (Greek, Cyrillic, kana, Hangul) dilute both. */
static int other_letter_cp(unsigned cp)
{
	return (cp >= 0x370 && cp <= 0x52F) || (cp >= 0x3040 && cp <= 0x30FF) ||
	       (cp >= 0xAC00 && cp <= 0xD7AF);
}

const char *text_guess_lang(const char *s, size_t n)
{
	size_t i = 0, han = 0, latin = 0, letters = 0;

	while (i < n) {
		unsigned cp = (unsigned char)s[i];

		if (cp < 0x80) { /* most of any mail: no decoding needed */
			i++;
			if (latin_cp(cp)) {
				latin++;
				letters++;
			}
			continue;
		}
		i += text_utf8_decode(s + i, n - i, &cp);
		if (han_cp(cp)) {
			han++;
			letters++;
		} else if (latin_cp(cp)) {
			latin++;
			letters++;
		} else if (other_letter_cp(cp)) {
			letters++;
		}
	}
	if (han > 0 && han * 5 >= letters)
		return "zh";
	if (han >= 5 && latin <= 4 * han)
		return "zh";
	return "en";
}
