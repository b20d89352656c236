/* test-text: table-driven tests for daemon/text.c (UTF-8, charsets, header
 * values, HTML, order ids, language). No files, no network. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "text.h"
#include "../tap.h"

/* A byte string with its length (inputs may hold NUL). */
#define B(s) s, sizeof(s) - 1

static void test_utf8_valid(void)
{
	static const struct {
		const char *s;
		size_t n;
		int valid;
		const char *what;
	} t[] = {
	    {B("hello"), 1, "ascii"},
	    {B(""), 1, "empty"},
	    {B("caf\xC3\xA9"), 1, "two-byte"},
	    {B("\xE4\xBD\xA0\xE5\xA5\xBD"), 1, "three-byte"},
	    {B("\xF0\x9F\x98\x80"), 1, "four-byte emoji"},
	    {B("\xF4\x8F\xBF\xBF"), 1, "U+10FFFF"},
	    {B("a\0b"), 1, "NUL is valid UTF-8"},
	    {B("\xC0\xAF"), 0, "overlong two-byte"},
	    {B("\xE0\x80\xAF"), 0, "overlong three-byte"},
	    {B("\xF0\x80\x80\xAF"), 0, "overlong four-byte"},
	    {B("\xED\xA0\x80"), 0, "surrogate U+D800"},
	    {B("\xED\xBF\xBF"), 0, "surrogate U+DFFF"},
	    {B("\xF4\x90\x80\x80"), 0, "above U+10FFFF"},
	    {B("\xE4\xB8"), 0, "truncated"},
	    {B("\x80"), 0, "lone continuation"},
	    {B("\xFF"), 0, "0xFF"},
	    {B("\xF5\x80\x80\x80"), 0, "0xF5 lead"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		is_int(text_utf8_valid(t[i].s, t[i].n), t[i].valid,
		       "utf8_valid: %s", t[i].what);
}

static void test_utf8_repair(void)
{
	static const struct {
		const char *s;
		size_t n;
		const char *want;
		const char *what;
	} t[] = {
	    {B("plain"), "plain", "valid unchanged"},
	    {B("a\xC0\xAF"
	       "b"),
	     "a\xEF\xBF\xBD\xEF\xBF\xBD"
	     "b",
	     "overlong: one U+FFFD per byte"},
	    {B("\xE4\xB8"), "\xEF\xBF\xBD", "truncated: one U+FFFD"},
	    {B("\xE4\xB8z"), "\xEF\xBF\xBDz", "truncated then ascii"},
	    {B("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD",
	     "surrogate"},
	    {B("\xF4\x90\x80\x80"),
	     "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD",
	     "above U+10FFFF"},
	    {B("a\0b\0"), "ab", "NUL dropped"},
	    {B("\xC3\xA9\xFF\xC3\xA9"), "\xC3\xA9\xEF\xBF\xBD\xC3\xA9",
	     "0xFF between valid"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct buf b;
		int r;

		buf_init(&b, 1024);
		r = text_utf8_repair(t[i].s, t[i].n, &b);
		is_int(r, 0, "utf8_repair: %s: returns 0", t[i].what);
		is_str(buf_str(&b), t[i].want, "utf8_repair: %s", t[i].what);
		ok(text_utf8_valid(b.data ? b.data : "", b.len),
		   "utf8_repair: %s: output valid", t[i].what);
		buf_release(&b);
	}

	/* A full buffer keeps what fits, cut on a code point boundary. */
	{
		struct buf b;
		int r;

		buf_init(&b, 4);
		r = text_utf8_repair(B("abc\xC3\xA9"
				       "d"),
				     &b);
		is_int(r, -1, "utf8_repair: full buffer returns -1");
		is_str(buf_str(&b), "abc", "utf8_repair: no half character");
		buf_release(&b);
	}
}

static void test_decode_encode(void)
{
	unsigned cp;
	char enc[4];

	is_int(text_utf8_decode(B("\xE4\xBD\xA0"), &cp), 3, "decode: length");
	is_int(cp, 0x4F60, "decode: code point");
	is_int(text_utf8_decode(B("\xE4\xBD"), &cp), 1, "decode: bad length");
	is_int(cp, 0xFFFD, "decode: bad gives U+FFFD");
	is_int(text_utf8_encode(0x1F600, enc), 4, "encode: four bytes");
	ok(memcmp(enc, "\xF0\x9F\x98\x80", 4) == 0, "encode: emoji bytes");
	is_int(text_utf8_encode(0xD800, enc), 3, "encode: surrogate");
	ok(memcmp(enc, "\xEF\xBF\xBD", 3) == 0, "encode: surrogate->U+FFFD");
}

static void test_to_utf8(void)
{
	static const struct {
		const char *cs;
		const char *s;
		size_t n;
		const char *want;
		int ret;
	} t[] = {
	    {"gb2312", B("\xC4\xE3\xBA\xC3"), "你好", 0},
	    {"GB2312", B("\xE9\x46\xBB\xF9"), "镕基", 0}, /* GBK-only */
	    {"gbk", B("\xE9\x46"), "镕", 0},
	    {"x-gbk", B("\xC4\xE3"), "你", 0},
	    {"cp936", B("\xC4\xE3"), "你", 0},
	    {"euc-cn", B("\xC4\xE3"), "你", 0},
	    {"gb2312", B("\xC4\xE3\xFF"), "你\xEF\xBF\xBD", 0},
	    {"gb2312", B("\xC4"), "\xEF\xBF\xBD", 0},
	    {"big5", B("\xB1\x7A\xA6\x6E"), "您好", 0},
	    {"big5", B("\x9D\xEE"), "㗎", 0}, /* HKSCS */
	    {"iso-2022-jp",
	     B("\x1B\x24\x42\x24\x33\x24\x73\x24\x4B\x24\x41\x24\x4F\x1B"
	       "\x28\x42"),
	     "こんにちは", 0},
	    {"shift_jis", B("\x93\xFA\x96\x7B\x8C\xEA"), "日本語", 0},
	    {"iso-2022-jp", B("\x1B$B\x2D\x21\x2D\x62\x1B(B"), "①№", 0},
	    {"iso-2022-jp", B("\x1B(I12\x1B(B!"), "ｱｲ!", 0},
	    {"ISO-2022-JP", B("\xC6\xFC\xCB\xDC"), "日本", 0}, /* EUC-JP */
	    {"iso-2022-jp", B("a\x1B$Zb"), "a\xEF\xBF\xBD$Zb", 0},
	    {"Shift_JIS", B("\x87\x40"), "①", 0}, /* CP932 */
	    {"euc-jp", B("\xC6\xFC\xCB\xDC"), "日本", 0},
	    {"euc-kr", B("\xBE\xC8\xB3\xE7\xC7\xCF\xBC\xBC\xBF\xE4"),
	     "안녕하세요", 0},
	    {"ks_c_5601-1987", B("\x8C\x63"), "똠", 0}, /* CP949 */
	    {"iso-8859-1", B("caf\xE9"), "café", 0},
	    {"ISO-8859-1", B("\x80 5"), "€ 5", 0},
	    {"latin1", B("na\xEFve"), "naïve", 0},
	    {"windows-1252", B("\x93quoted\x94 \x80"), "“quoted” €", 0},
	    {"iso-8859-15", B("\xA4"), "€", 0},
	    {"koi8-r", B("\xD0\xD2\xC9\xD7\xC5\xD4"), "привет", 0},
	    {"us-ascii", B("caf\xC3\xA9"), "café", 0},
	    {"us-ascii", B("caf\xE9"), "café", 0},
	    {"utf-8", B("ok\xFF"), "ok\xEF\xBF\xBD", 0},
	    {"UTF8", B("a\0b"), "ab", 0},
	    {"\"utf-8\"", B("x"), "x", 0},
	    {"utf-8*en", B("x"), "x", 0},
	    {NULL, B("caf\xC3\xA9"), "café", 0},
	    {"", B("caf\xE9"), "caf\xEF\xBF\xBD", 0},
	    {"x-unknown-charset", B("caf\xC3\xA9\xFF"), "café\xEF\xBF\xBD", -1},
	    {"utf-8//IGNORE", B("ab"), "ab", -1},
	    {"../../etc/passwd", B("ab"), "ab", -1},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct xerr err = {0};
		struct buf b;
		int r;

		buf_init(&b, 1024);
		r = text_to_utf8(t[i].cs, t[i].s, t[i].n, &b, &err);
		is_int(r, t[i].ret, "to_utf8 %s: return",
		       t[i].cs ? t[i].cs : "(null)");
		is_str(buf_str(&b), t[i].want, "to_utf8 %s: text",
		       t[i].cs ? t[i].cs : "(null)");
		if (t[i].ret < 0)
			is_int(err.kind, XERR_PERM, "to_utf8 %s: XERR_PERM",
			       t[i].cs);
		buf_release(&b);
	}

	/* Output full: -1, XERR_PERM, what fit kept and valid. */
	{
		struct xerr err = {0};
		struct buf b;

		buf_init(&b, 5);
		is_int(text_to_utf8("gbk", B("\xC4\xE3\xBA\xC3"), &b, &err), -1,
		       "to_utf8: full buffer returns -1");
		is_str(buf_str(&b), "你", "to_utf8: full buffer keeps 你");
		is_int(err.kind, XERR_PERM, "to_utf8: full buffer XERR_PERM");
		buf_release(&b);
	}

	ok(text_charset_known("gb2312"), "charset_known: gb2312");
	ok(text_charset_known("UTF-8"), "charset_known: UTF-8");
	ok(!text_charset_known("x-foo"), "charset_known: x-foo");
	ok(!text_charset_known("utf-8//TRANSLIT"), "charset_known: suffix");
}

static void test_guess(void)
{
	static const struct {
		const char *s;
		size_t n;
		const char *want;
		const char *what;
	} t[] = {
	    {B("caf\xC3\xA9"), "café", "valid UTF-8 kept"},
	    {B("\xC4\xE3\xBA\xC3\xA3\xAC\xCA\xC0\xBD\xE7\xA1\xA3\xCE\xD2"
	       "\xB5\xC4\xB6\xA9\xB5\xA5"),
	     "你好，世界。我的订单", "GBK Chinese"},
	    {B("M\xFCller, caf\xE9 au lait"), "Müller, café au lait",
	     "latin-1 (isolated high bytes)"},
	    {B("M\xFCller"), "Müller", "one isolated high byte"},
	    {B("\x93quoted\x94"), "“quoted”", "cp1252 quotes"},
	    {B("\x1B$B$3$s\x1B(B"), "こん", "ISO-2022-JP escapes"},
	    {B("\xB1\x7A\xA6\x6E\xA1\x41\xBD\xD0\xC0\xB0\xA6\xA3\xAC"
	       "\x64\xB8\xDF\xA5\x5D\xBB\x71\xA1\x43"),
	     "您好，請幫忙查詢包裹。", "Big5 Chinese"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct buf b;

		buf_init(&b, 1024);
		is_int(text_guess_to_utf8(t[i].s, t[i].n, &b), 0,
		       "guess: %s: returns 0", t[i].what);
		is_str(buf_str(&b), t[i].want, "guess: %s", t[i].what);
		buf_release(&b);
	}
}

static void test_label(void)
{
	static const struct {
		const char *cs;
		const char *s;
		size_t n;
		const char *want;
	} t[] = {
	    {NULL, B("\xC4\xE3\xBA\xC3\xCA\xC0\xBD\xE7"), "你好世界"},
	    {"", B("caf\xE9"), "café"},
	    {"us-ascii", B("caf\xE9"), "café"},
	    {"x-unknown", B("\xC4\xE3\xBA\xC3\xCA\xC0\xBD\xE7"), "你好世界"},
	    {"utf-8", B("Det h\xE4r \xE4r"), "Det här är"},
	    {"utf-8", B("\xC3\xA9\xFF"), "é\xEF\xBF\xBD"},
	    {"gb2312", B("\xE4\xBD\xA0\xE5\xA5\xBD\xE4\xB8\x96"), "你好世"},
	    {"gb2312", B("\xC4\xE3"), "你"},
	    {"iso-8859-1", B("caf\xC3\xA9"), "cafÃ©"}, /* 1 < 3 characters */
	    {"iso-8859-1", B("caf\xE9"), "café"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct buf b;

		buf_init(&b, 1024);
		is_int(text_label_to_utf8(t[i].cs, t[i].s, t[i].n, &b), 0,
		       "label %zu: returns 0", i);
		is_str(buf_str(&b), t[i].want, "label %zu (%s)", i,
		       t[i].cs ? t[i].cs : "(null)");
		buf_release(&b);
	}
}

static void test_header_safe(void)
{
	static const struct {
		const char *s;
		size_t n;
		size_t max;
		const char *want;
		const char *what;
	} t[] = {
	    {B("Hello\r\nBcc: evil@example.com"), 256,
	     "Hello Bcc: evil@example.com", "CRLF becomes a space"},
	    {B("  lead  and \t  trail  "), 256, "lead and trail",
	     "white space collapsed and trimmed"},
	    {B("a\0b"), 256, "ab", "NUL dropped"},
	    {B("evil\xE2\x80\xAEgnp.exe"), 256, "evil gnp.exe", "U+202E RLO"},
	    {B("x\xE2\x81\xA6y\xE2\x81\xA9z"), 256, "x y z",
	     "U+2066/U+2069 isolates"},
	    {B("a\xE2\x80\x8E"
	       "b\xD8\x9C"
	       "c"),
	     256, "a b c", "U+200E and U+061C"},
	    {B("a\xC2\x85"
	       "b\xE2\x80\xA8"
	       "c\x7F"
	       "d"),
	     256, "a b c d", "C1, U+2028 and DEL"},
	    {B("bad\xFFutf"), 256, "bad\xEF\xBF\xBDutf",
	     "invalid UTF-8 repaired"},
	    {B("\r\n\t "), 256, "", "only white space"},
	    {B("ab cd"), 3, "ab", "cap never ends on a space"},
	    {B("ab cd"), 4, "ab c", "cap counts the space"},
	    {B("你好世界"), 2, "你好", "cap counts code points"},
	    {B("abc"), 0, "", "max 0"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		char *s = text_header_safe(t[i].s, t[i].n, t[i].max);

		is_str(s, t[i].want, "header_safe: %s", t[i].what);
		free(s);
	}

	/* Long input: exactly N code points. */
	{
		struct buf in;
		char *s;
		unsigned cp;
		size_t ncp = 0, i = 0;

		buf_init(&in, 4096);
		for (int k = 0; k < 300; k++)
			if (buf_adds(&in, k % 2 ? "x" : "中") < 0)
				break;
		s = text_header_safe(in.data, in.len, PQ_MAX_HEADER_CP);
		while (s[i]) {
			i += text_utf8_decode(s + i, strlen(s + i), &cp);
			ncp++;
		}
		is_int(ncp, PQ_MAX_HEADER_CP,
		       "header_safe: long input capped at exactly N");
		free(s);
		buf_release(&in);
	}
}

static void test_html(void)
{
	static const struct {
		const char *html;
		const char *want;
		const char *what;
	} t[] = {
	    {"<p>Hello</p><p>World</p>", "Hello\nWorld", "paragraphs"},
	    {"<html><head><title>T</title><style>p{color:red}</style>"
	     "</head><body>Hi <b>there</b></body></html>",
	     "Hi there", "head, title and style dropped"},
	    {"<script>alert('<p>x</p>')</script>Text", "Text",
	     "script with tags inside dropped"},
	    {"<SCRIPT type=\"text/javascript\">x()</SCRIPT>Up", "Up",
	     "upper-case script"},
	    {"Text<script>var a = 1;", "Text", "unclosed script"},
	    {"a<br>b<br/><br>c", "a\nb\n\nc", "br"},
	    {"<ul><li>one</li><li>two</li></ul>after", "- one\n- two\nafter",
	     "li"},
	    {"Tom &amp; Jerry &lt;3 &quot;x&quot; &#39;y&#39; &apos;z&apos;",
	     "Tom & Jerry <3 \"x\" 'y' 'z'", "basic entities"},
	    {"&#x4F60;&#22909;&nbsp;end", "你好 end", "numeric and nbsp"},
	    {"&mdash;&hellip;&yen;&euro;&copy;", "—…¥€©", "named entities"},
	    {"&#150;&#153;", "–™", "C1 numeric as windows-1252"},
	    {"AT&T &foo; &#xZZ; &#99999999; &amp &#0;",
	     "AT&T &foo; &#xZZ; \xEF\xBF\xBD &amp \xEF\xBF\xBD",
	     "malformed entities"},
	    {"Hello <b world", "Hello", "unterminated tag"},
	    {"<!-- comment <p>x</p> -->Visible", "Visible", "comment"},
	    {"before<!-- never closed", "before", "unclosed comment"},
	    {"a < b and c > d", "a < b and c > d", "bare < and >"},
	    {"<div><div><span>In</span>side</div></div>", "Inside",
	     "nested inline tags join"},
	    {"<table><tr><td>A</td><td>B</td></tr><tr><td>C</td></tr>"
	     "</table>",
	     "A B\nC", "table"},
	    {"<a href=\"x>y\" title='a>b'>link</a>", "link",
	     "> inside quoted attributes"},
	    {"<a href=\"unclosed>text</a> more", "text more", "unclosed quote"},
	    {"  lots   of\n\n spaces  ", "lots of spaces", "white space"},
	    {"<!DOCTYPE html><?xml version=\"1.0\"?><p>Doc</p>", "Doc",
	     "doctype and processing instruction"},
	    {"<!--[if gte mso 9]><xml><o:Settings/></xml><![endif]-->"
	     "<p class=MsoNormal>Hi<o:p></o:p></p>",
	     "Hi", "Outlook conditional comment"},
	    {"<head><meta charset=utf-8><body>Body", "Body",
	     "head without close"},
	    {"<HTML><BODY><P>Upper</P></BODY></HTML>", "Upper",
	     "upper-case tags"},
	    {"<div>a</div><div><br></div><div>b</div>", "a\n\nb",
	     "Gmail blank line"},
	    {"Order&nbsp;#112-1234567-1234567", "Order #112-1234567-1234567",
	     "order id survives"},
	    {"bad \xFF byte", "bad \xEF\xBF\xBD byte", "invalid UTF-8"},
	    {"", "", "empty"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct buf b;

		buf_init(&b, 4096);
		is_int(text_html_to_text(t[i].html, strlen(t[i].html), &b), 0,
		       "html: %s: returns 0", t[i].what);
		is_str(buf_str(&b), t[i].want, "html: %s", t[i].what);
		buf_release(&b);
	}
	{
		struct buf b;

		buf_init(&b, 5);
		is_int(text_html_to_text(B("<p>abcdefgh</p>"), &b), -1,
		       "html: full buffer returns -1");
		buf_release(&b);
	}
}

static void test_order_ids(void)
{
	static const struct {
		const char *s;
		size_t max;
		size_t n;
		const char *ids[3];
		const char *what;
	} t[] = {
	    {"Order 112-1234567-1234567 please",
	     16,
	     1,
	     {"112-1234567-1234567"},
	     "one id"},
	    {"Order #112-1234567-1234567",
	     16,
	     1,
	     {"112-1234567-1234567"},
	     "in a subject after #"},
	    {"1112-1234567-1234567", 16, 0, {0}, "digit before"},
	    {"112-1234567-12345678", 16, 0, {0}, "digit after"},
	    {"112-1234567-1234567-1", 16, 0, {0}, "dash-digit after"},
	    {"9-112-1234567-1234567", 16, 0, {0}, "digit-dash before"},
	    {"112-1234567-1234567x",
	     16,
	     1,
	     {"112-1234567-1234567"},
	     "letter after"},
	    {"(112-1234567-1234567).",
	     16,
	     1,
	     {"112-1234567-1234567"},
	     "punctuation around"},
	    {"112-1234567-1234567 and 112-1234567-1234567",
	     16,
	     1,
	     {"112-1234567-1234567"},
	     "duplicate"},
	    {"A 111-2222222-3333333, B 444-5555555-6666666.",
	     16,
	     2,
	     {"111-2222222-3333333", "444-5555555-6666666"},
	     "two"},
	    {"111-2222222-3333333 444-5555555-6666666 777-8888888-9999999",
	     2,
	     2,
	     {"111-2222222-3333333", "444-5555555-6666666"},
	     "capped at max"},
	    {"１１２-１２３４５６７-１２３４５６７",
	     16,
	     0,
	     {0},
	     "full-width digits are not matched"},
	    {"112-123456-1234567", 16, 0, {0}, "short middle"},
	    {"112-1234567-123456", 16, 0, {0}, "short last"},
	    {"", 16, 0, {0}, "empty"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		char ids[16][TEXT_ORDER_ID_SIZE];
		size_t n =
		    text_order_ids(t[i].s, strlen(t[i].s), ids, 0, t[i].max);

		is_int(n, t[i].n, "order_ids: %s: count", t[i].what);
		for (size_t k = 0; k < n && k < t[i].n; k++)
			is_str(ids[k], t[i].ids[k], "order_ids: %s: id %zu",
			       t[i].what, k);
	}

	/* Appends after existing ids and skips those already there. */
	{
		char ids[4][TEXT_ORDER_ID_SIZE] = {"111-2222222-3333333"};
		size_t n = text_order_ids(
		    B("111-2222222-3333333 444-5555555-6666666"), ids, 1, 4);

		is_int(n, 2, "order_ids: dedup against existing");
		is_str(ids[1], "444-5555555-6666666", "order_ids: appended");
	}
}

static void test_lang(void)
{
	static const struct {
		const char *s;
		const char *want;
	} t[] = {
	    {"Hello, where is my order? It has not arrived yet.", "en"},
	    {"你好，我的订单在哪里？还没有收到。", "zh"},
	    {"Order 112-1234567-1234567 我的订单没有收到", "zh"},
	    {"Hi 您好 thanks", "zh"},
	    {"Hello there my friend 好", "en"},
	    {"I ordered a 电饭煲 (rice cooker) but the package arrived "
	     "broken and I would like a refund please",
	     "en"},
	    {"", "en"},
	    {"12345 !!!", "en"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		is_str(text_guess_lang(t[i].s, strlen(t[i].s)), t[i].want,
		       "lang: '%s'", t[i].s);
}

int main(void)
{
	test_utf8_valid();
	test_utf8_repair();
	test_decode_encode();
	test_to_utf8();
	test_guess();
	test_label();
	test_header_safe();
	test_html();
	test_order_ids();
	test_lang();
	return done_testing();
}
