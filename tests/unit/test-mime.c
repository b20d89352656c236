/* test-mime: daemon/mime.c against golden .eml fixtures (tests/data/mime,
 * found through $top_srcdir), hostile messages built at run time (deep
 * nesting, many parts, a base64 bomb, NULs, header floods), and, when
 * present, every file of the shared real-mail corpus (invariants only). */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mime.h"
#include "../tap.h"

#define B(s) s, sizeof(s) - 1

static const char *srcdir(void)
{
	const char *d = getenv("top_srcdir");

	return d && *d ? d : ".";
}

/* Parse a fixture; NULL (and a failed test) when it cannot be read. */
static struct message *parse_fixture(const char *name)
{
	char *path = xasprintf("%s/tests/data/mime/%s", srcdir(), name);
	char *data = NULL;
	size_t len = 0;
	struct message *m = NULL;

	if (read_file(path, PQ_MAX_MESSAGE_BYTES, &data, &len) < 0)
		ok(0, "read fixture %s", path);
	else
		m = mime_parse(data, len);
	free(data);
	free(path);
	return m;
}

static struct message *parse_str(const char *s)
{
	return mime_parse(s, strlen(s));
}

static size_t count_cp(const char *s)
{
	size_t n = 0, i = 0, len = strlen(s);
	unsigned cp;

	while (i < len) {
		i += text_utf8_decode(s + i, len - i, &cp);
		n++;
	}
	return n;
}

/* Valid UTF-8 with no C0/C1 controls, DEL or bidi controls, no leading,
 * trailing or double space, at most max code points. */
static int header_safe(const char *s, size_t max)
{
	size_t i = 0, len = strlen(s);

	if (!text_utf8_valid(s, len) || count_cp(s) > max)
		return 0;
	if (len && (s[0] == ' ' || s[len - 1] == ' ' || strstr(s, "  ")))
		return 0;
	while (i < len) {
		unsigned cp;

		i += text_utf8_decode(s + i, len - i, &cp);
		if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) ||
		    cp == 0x2028 || cp == 0x2029 || cp == 0x061C ||
		    cp == 0x200E || cp == 0x200F ||
		    (cp >= 0x202A && cp <= 0x202E) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			return 0;
	}
	return 1;
}

/* No byte <= 0x20 or DEL, valid UTF-8. */
static int clean_token(const char *s)
{
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7F)
			return 0;
	return text_utf8_valid(s, strlen(s));
}

/* ------------------------------------------------------------- fixtures */

static const struct fixture {
	const char *file;
	const char *content_type;
	unsigned flags;
	const char *parse_error;
	const char *from_addr;
	const char *from_name;
	const char *return_path;
	const char *message_id;
	const char *subject;
	int64_t date;
	const char *lang;
	const char *order_ids; /* space separated */
	const char *text;
} fixtures[] = {
    {"plain-en.eml", "text/plain", 0, NULL, "Jane.Doe@example.com", "Doe, Jane",
     "Jane.Doe@example.com", "CAF=plain.1@mail.gmail.com", "Where is my order?",
     1764579600, "en", "112-1234567-1234567",
     "Hello,\n\nI ordered a kettle (order 112-1234567-1234567) two weeks "
     "ago\nand it has not arrived yet. Can you check?\n\nThanks,\nJane"},
    {"qp-utf8.eml", "text/plain", 0, NULL, "amelie@example.fr", "Amélie Durand",
     NULL, "20251202143000.qp@example.fr", "Commande non reçue", 1764682200,
     "en", "",
     "Bonjour,\n\nma commande n'est pas arrivée. J'ai payé 25 € pour la "
     "livraison express, et c'est très décevant car j'en avais besoin pour "
     "un anniversaire.\n\nCordialement,\nAmélie"},
    {"base64-utf8-zh.eml", "text/plain", 0, NULL, "wang@example.cn", "王先生",
     "wang@example.cn", "base64.zh.1@example.cn", "订单没有收到", 1764720900,
     "zh", "112-7654321-7654321",
     "您好，\n\n我的订单 112-7654321-7654321 "
     "还没有收到，请帮忙查一下物流。\n\n谢谢！\n王先生"},
    {"gb2312.eml", "text/plain", 0, NULL, "lihua@example.com.cn", "李华", NULL,
     "gb2312.1@example.com.cn", "退货申请 镕", 1764810000, "zh", "",
     "朱镕基先生：\n您好！我买的电饭煲坏了，想申请退货。"},
    {"big5.eml", "text/plain", 0, NULL, "chen@example.com.tw", "陳小姐", NULL,
     "big5.1@example.com.tw", "包裹查詢", 1764903600, "zh", "",
     "您好，我的包裹還沒有到，請幫忙查詢。"},
    {"iso-2022-jp.eml", "text/plain", 0, NULL, "yamada@example.jp", "山田太郎",
     NULL, "jis.1@example.jp", "お問い合わせ", 1764982800, "zh", "",
     "注文番号①について問い合わせます。\n商品がまだ届きません。"},
    {"shift_jis.eml", "text/plain", 0, NULL, "suzuki@example.jp", NULL, NULL,
     "sjis.1@example.jp", "返品", 1765069200, "zh", "", "返品をお願いします。"},
    {"euc-kr.eml", "text/plain", 0, NULL, "kim@example.kr", "김민수", NULL,
     "euckr.1@example.kr", "배송 문의", 1765155600, "en", "",
     "안녕하세요. 주문한 상품이 아직 도착하지 않았습니다."},
    {"latin1.eml", "text/plain", 0, NULL, "rene@example.de", "René Müller",
     NULL, "latin1.1@example.de", "Cafémaschine defekt", 1765270800, "en", "",
     "Die Kaffeemaschine für 49,90 € ist kaputt. Schöne Grüße, René"},
    {"windows-1252.eml", "text/plain", 0, NULL, "tom@example.ie", "Tom O'Brien",
     NULL, "cp1252.1@example.ie", "Refund", 1765360800, "en", "",
     "I was charged €30 for the “express” option – it wasn’t express…"},
    {"alternative.eml", "multipart/alternative", 0, NULL, "maria@example.es",
     "Maria", NULL, "alt.1@example.es", "Damaged item", 1765443600, "en", "",
     "The box arrived damaged.\nPlease send a replacement."},
    {"html-only.eml", "text/html", MSG_HTML_ONLY, NULL, "user@example.com",
     "Outlook User", NULL, "html.1@example.com", "Question about my order",
     1765551600, "en", "112-2223334-4445556",
     "Hi team,\nMy order #112-2223334-4445556 shows \"delivered\" but I "
     "didn't get it.\n- Tracking: 1Z999\n- Date: Dec 10\nRegards & "
     "thanks,\nSam"},
    {"mixed-attachment.eml", "multipart/mixed", 0, NULL, "lee@example.com",
     "Lee", NULL, "mixed.1@example.com", "Invoice attached", 1765620000, "en",
     "", "Please see the attached invoice."},
    {"no-separator.eml", "text/plain", 0, NULL, "nosep@example.com", NULL, NULL,
     NULL, "no blank line", 0, "en", "",
     "This line starts the body.\nAnd this one too."},
    {"empty.eml", "text/plain", 0, "empty message", NULL, NULL, NULL, NULL,
     NULL, 0, "en", "", ""},
    {"header-only.eml", "text/plain", 0, NULL, "headeronly@example.com", NULL,
     NULL, "ho.1@example.com", "Just headers", 0, "en", "", ""},
    {"lf.eml", "multipart/mixed", 0, NULL, "lf@example.com", "LF Sender", NULL,
     "lf.1@example.com", "Line ends", 1765792800, "en", "",
     "first line continued\nsecond line"},
    {"libetpan-431.eml", "text/plain", 0, NULL, "ooo@example.com", "AAA",
     "ooo@example.com", "msg-id-ccc@example.com", "Out of office", 0, "en", "",
     "I am away until Monday."},
    {"encoded-crlf.eml", "text/plain", 0, NULL, "eve@example.net",
     "Eve Bcc: victim@example.com", "", "crlf.1@example.net",
     "Hello Bcc: evil@example.com tail txt", 1765879200, "en", "", "body"},
    {"threading.eml", "text/plain", 0, NULL, "ann@example.com", "Ann", NULL,
     "reply.3@example.com", "Re: [Case 42] Where is my order?", 1765965600,
     "en", "",
     "Still nothing.\n\n> On Tue, Support wrote:\n> We are looking into "
     "it."},
    {"order-ids.eml", "text/plain", 0, NULL, "buyer@example.com", NULL, NULL,
     "orders.1@example.com", "Order #112-1234567-1234567 not received",
     1766052000, "en", "112-1234567-1234567 403-1111111-2222222",
     "Hi, order 112-1234567-1234567 and also 403-1111111-2222222 are "
     "late.\nTracking 1112-1234567-12345678 is not an order id."},
    {"report.eml", "multipart/report", MSG_REPORT, NULL,
     "MAILER-DAEMON@mx.example.net", "Mail Delivery System", "",
     "bounce.1@mx.example.net", "Undelivered Mail Returned to Sender",
     1766138400, "en", "",
     "This is the mail system at host mx.example.net.\nYour message could "
     "not be delivered."},
};

static void check_order_ids(const struct message *m, const char *want,
			    const char *what)
{
	struct buf got;

	buf_init(&got, PQ_MAX_ORDER_IDS * TEXT_ORDER_ID_SIZE + 1);
	for (size_t i = 0; i < m->norder_ids; i++)
		if (buf_addf(&got, "%s%s", i ? " " : "", m->order_ids[i]) < 0)
			break;
	is_str(buf_str(&got), want, "%s: order ids", what);
	buf_release(&got);
}

static void test_fixtures(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++) {
		const struct fixture *f = &fixtures[i];
		struct message *m = parse_fixture(f->file);

		if (!m)
			continue;
		is_str(m->content_type, f->content_type, "%s: content type",
		       f->file);
		is_int(m->flags, f->flags, "%s: flags", f->file);
		is_str(m->parse_error, f->parse_error, "%s: parse error",
		       f->file);
		is_str(m->from_addr, f->from_addr, "%s: from", f->file);
		is_str(m->from_name, f->from_name, "%s: from name", f->file);
		is_str(m->return_path, f->return_path, "%s: return path",
		       f->file);
		is_str(m->message_id, f->message_id, "%s: message id", f->file);
		is_str(m->subject, f->subject, "%s: subject", f->file);
		is_int(m->date, f->date, "%s: date", f->file);
		is_str(m->lang, f->lang, "%s: lang", f->file);
		check_order_ids(m, f->order_ids, f->file);
		is_str(m->text, f->text, "%s: text", f->file);
		is_int(m->text_len, strlen(f->text), "%s: text length",
		       f->file);
		message_free(&m);
		ok(m == NULL, "%s: message_free sets NULL", f->file);
	}
}

/* Fixture details the table does not cover. */
static void test_fixture_details(void)
{
	struct message *m;

	if ((m = parse_fixture("plain-en.eml"))) {
		is_int(m->nto, 3, "plain-en: To and Cc addresses");
		if (m->nto == 3) {
			is_str(m->to_addrs[0], "support@shop.example",
			       "plain-en: to 0");
			is_str(m->to_addrs[1], "orders@shop.example",
			       "plain-en: to 1 domain lowercased");
			is_str(m->to_addrs[2], "bob@example.org",
			       "plain-en: cc");
		}
		is_str(message_header(m, "X-Not-There"), NULL,
		       "plain-en: absent header");
		is_str(
		    message_header(m, "received"),
		    "from mail-wr1-f41.google.com (mail-wr1-f41.google.com "
		    "[209.85.221.41])\tby mx.shop.example (Postfix) with "
		    "ESMTPS id 4DkX2;\tMon, 01 Dec 2025 09:00:02 +0000 (UTC)",
		    "plain-en: folded header unfolded, case-insensitive");
		message_free(&m);
	}
	if ((m = parse_fixture("libetpan-431.eml"))) {
		is_str(message_header(m, "Auto-Submitted"), "auto-replied",
		       "#431: Auto-Submitted found after the bad fold");
		is_str(message_header(m, "AUTO-SUBMITTED"), "auto-replied",
		       "#431: case-insensitive lookup");
		is_int(m->nrefs, 1, "#431: folded-inside msg-id rejected");
		if (m->nrefs == 1)
			is_str(m->refs[0], "msg-id-aaa@example.com",
			       "#431: first reference kept");
		is_int(m->nto, 2, "#431: folded To has two addresses");
		message_free(&m);
	}
	if ((m = parse_fixture("threading.eml"))) {
		is_str(m->in_reply_to, "ack.2@shop.example",
		       "threading: in-reply-to without comment");
		is_int(m->nrefs, 2, "threading: id with a space skipped");
		if (m->nrefs == 2) {
			is_str(m->refs[0], "orig.1@example.com",
			       "threading: ref 0");
			is_str(m->refs[1], "ack.2@shop.example",
			       "threading: ref 1");
		}
		message_free(&m);
	}
	if ((m = parse_fixture("report.eml"))) {
		ok(!strstr(m->text, "ORIGINAL ACK TEXT"),
		   "report: attached original not in text");
		is_int(m->norder_ids, 0,
		       "report: no order id from the attached message");
		is_str(message_header(m, "auto-submitted"), "auto-replied",
		       "report: Auto-Submitted");
		message_free(&m);
	}
	if ((m = parse_fixture("mixed-attachment.eml"))) {
		ok(!strstr(m->text, "SECRET"), "mixed: attachment not in text");
		is_int(m->norder_ids, 0, "mixed: no order id from attachment");
		message_free(&m);
	}
	if ((m = parse_fixture("alternative.eml"))) {
		ok(!(m->flags & MSG_HTML_ONLY), "alternative: plain preferred");
		message_free(&m);
	}
	if ((m = parse_fixture("encoded-crlf.eml"))) {
		ok(!strpbrk(m->subject, "\r\n"), "encoded CRLF: no CR/LF");
		ok(header_safe(m->subject, MIME_SUBJECT_MAX_CP),
		   "encoded CRLF: subject header-safe");
		ok(header_safe(m->from_name, PQ_MAX_HEADER_CP),
		   "encoded CRLF: from name header-safe");
		message_free(&m);
	}
}

/* The LF fixture and its CRLF copy give the same message. */
static void test_crlf_vs_lf(void)
{
	char *path = xasprintf("%s/tests/data/mime/lf.eml", srcdir());
	char *lf = NULL;
	size_t len = 0;
	struct buf crlf;
	struct message *a, *b;

	buf_init(&crlf, PQ_MAX_MESSAGE_BYTES);
	if (read_file(path, 1 << 20, &lf, &len) < 0) {
		ok(0, "read %s", path);
		goto out;
	}
	for (size_t i = 0; i < len; i++)
		if ((lf[i] == '\n' && buf_addc(&crlf, '\r') < 0) ||
		    buf_addc(&crlf, lf[i]) < 0)
			break;
	a = mime_parse(lf, len);
	b = mime_parse(crlf.data, crlf.len);
	is_str(b->subject, a->subject, "crlf/lf: subject");
	is_str(b->text, a->text, "crlf/lf: text");
	is_str(b->from_name, a->from_name, "crlf/lf: from name");
	is_str(b->message_id, a->message_id, "crlf/lf: message id");
	is_str(b->content_type, a->content_type, "crlf/lf: content type");
	is_int(b->nheaders, a->nheaders, "crlf/lf: header count");
	is_int(b->flags, a->flags, "crlf/lf: flags");
	message_free(&a);
	message_free(&b);
out:
	buf_release(&crlf);
	free(lf);
	free(path);
}

/* ------------------------------------------------------ header tables */

static void test_headers_table(void)
{
	static const struct {
		const char *raw;
		const char *field; /* what to check */
		const char *want;
	} t[] = {
	    /* Return-Path */
	    {"Return-Path: <>\n\nx", "return_path", ""},
	    {"Return-Path:    < >  \n\nx", "return_path", ""},
	    {"Return-Path:\n\nx", "return_path", ""},
	    {"Return-Path: <MAILER-DAEMON>\n\nx", "return_path",
	     "MAILER-DAEMON"},
	    {"Return-Path: <@relay.example:User@Example.COM>\n\nx",
	     "return_path", "User@example.com"},
	    {"Return-Path: bare@Example.com\n\nx", "return_path",
	     "bare@example.com"},
	    {"Return-Path: <a b@c>\n\nx", "return_path", ""},
	    {"From: a@b.example\n\nx", "return_path", NULL},
	    /* From */
	    {"From: \"Doe, John\" <J@EXAMPLE.com>\n\nx", "from_addr",
	     "J@example.com"},
	    {"From: \"Doe, John\" <J@EXAMPLE.com>\n\nx", "from_name",
	     "Doe, John"},
	    {"From: =?UTF-8?B?5byg5LiJ?= <z@qq.com>\n\nx", "from_name", "张三"},
	    {"From: <user@example.com>\n\nx", "from_name", NULL},
	    {"From: user@example.com (Comment Name)\n\nx", "from_addr",
	     "user@example.com"},
	    {"From: bad <<a@b.example>\n\nx", "from_addr", "a@b.example"},
	    {"From: undisclosed-recipients:;\n\nx", "from_addr", NULL},
	    {"From: Mon\n\nx", "from_addr", NULL},
	    {"From: \"A\xE2\x80\xAE\" <a@b.example>\n\nx", "from_name", "A"},
	    {"From: =?utf-8?q?Caf=C3=A9?= =?utf-8?q?_Owner?= <o@c.example>"
	     "\n\nx",
	     "from_name", "Café Owner"},
	    {"From: Ren\xC3\xA9 <r@e.example>\n\nx", "from_name", "René"},
	    {"From: Ren\xE9 <r@e.example>\n\nx", "from_name", "René"},
	    {"From: \"=?ISO-8859-1?Q?Fran=E7ois?=\" <f@b.example>\n\nx",
	     "from_name", "François"},
	    {"From: =?iso-8859-1?Q? \"=F6tzi\" ?= <o@w.example>\n\nx",
	     "from_name", "ötzi"},
	    {"Subject: What =? is ?= this\n\nx", "subject",
	     "What =? is ?= this"},
	    {"Reply-To: Grp: a@x.example, b@y.example;\n\nx", "reply_to",
	     "a@x.example"},
	    {"Reply-To: <R@EXAMPLE.com>\n\nx", "reply_to", "R@example.com"},
	    /* Message-ID */
	    {"Message-ID: <a@b>\n\nx", "message_id", "a@b"},
	    {"Message-ID: a@b\n\nx", "message_id", "a@b"},
	    {"Message-ID:\n <folded@b>\n\nx", "message_id", "folded@b"},
	    {"Message-ID: <a b@c>\n\nx", "message_id", NULL},
	    {"Message-ID: <>\n\nx", "message_id", NULL},
	    {"Message-ID: <x <y@z>\n\nx", "message_id", "y@z"},
	    {"In-Reply-To: junk <p@q> <r@s>\n\nx", "in_reply_to", "p@q"},
	    /* Date */
	    {"Date: Mon, 01 Dec 2025 10:00:00 +0100\n\nx", "date",
	     "1764579600"},
	    {"Date: 1 Dec 2025 09:00:00 GMT\n\nx", "date", "1764579600"},
	    {"Date: Mon, 1 Dec 2025 04:00:00 EST\n\nx", "date", "1764579600"},
	    {"Date: Mon, 01 Dec 25 09:00:00 +0000\n\nx", "date", "1764579600"},
	    {"Date: Mon, 01 Dec 2025 09:00:00 +0000 (UTC)\n\nx", "date",
	     "1764579600"},
	    {"Date: yesterday\n\nx", "date", "0"},
	    {"Date: Mon, 32 Dec 2025 09:00:00 +0000\n\nx", "date", "0"},
	    {"Subject: x\n\nx", "date", "0"},
	    /* Subject */
	    {"Subject: =?UTF-8?Q?=E4=BD?= =?UTF-8?Q?=A0?=\n\nx", "subject",
	     "你"},
	    {"Subject: =?UTF-8?B?5L2g?=  =?UTF-8?B?5aW9?= !\n\nx", "subject",
	     "你好 !"},
	    {"Subject: a =?UTF-8?B?5L2g?= b\n\nx", "subject", "a 你 b"},
	    {"Subject: =?x-unknown?Q?abc?=\n\nx", "subject", "abc"},
	    {"Subject: =?utf-8?q?broken\n\nx", "subject", "=?utf-8?q?broken"},
	    {"Subject: =?gbk?B?xOO6ww==?=\n\nx", "subject", "你好"},
	    {"Subject: =?utf-8*en?q?lang?=\n\nx", "subject", "lang"},
	    {"Subject: \xC4\xE3\xBA\xC3\xA3\xAC\xCA\xC0\xBD\xE7\n\nx",
	     "subject", "你好，世界"},
	    {"Subject: tab\there\r  and\r\n  fold\n\nx", "subject",
	     "tab here and fold"},
	    {"Subject:\n\nx", "subject", ""},
	    {"From: a@b.example\n\nx", "subject", NULL},
	    /* Headers as scanned */
	    {"Subject: a\rb\n\nx", "header:subject", "a b"},
	    {"X-Trail: value \t \n\nx", "header:x-trail", "value"},
	    {"X-Empty:\n\nx", "header:x-empty", ""},
	    {"From nobody Mon Dec  1 10:00:00 2025\nX-A: 1\n\nx", "header:x-a",
	     "1"},
	    {"\xEF\xBB\xBFX-Bom: 1\n\nx", "header:x-bom", "1"},
	    {"   \nX-Lead: 1\n\nx", "header:x-lead", "1"},
	    {"X-Spaced Name: v\n\nx", "header:x-spaced name", "v"},
	    {"X-Diag: 1;AM4PR\nP8FxVksOO2tmF+Lx\nX-Next: 2\n\nbody",
	     "header:x-diag", "1;AM4PR P8FxVksOO2tmF+Lx"},
	    {"X-Diag: 1;AM4PR\nP8FxVksOO2tmF+Lx\nX-Next: 2\n\nbody", "text",
	     "body"},
	    {"Subject: hi\nHello there,\nOrder: 123\n", "text",
	     "Hello there,\nOrder: 123"},
	    {"Content-Type: multipart/mixed; boundary=b\n \n--b\n"
	     "Content-Type: text/plain\n\nhi\n--b--\n",
	     "text", "hi"},
	    {"Content-Type: multipart/mixed; boundary=b\nThis is MIME.\n--b\n"
	     "Content-Type: text/plain\n\nhi\n--b--\n",
	     "text", "hi"},
	    {"X-A: 1\rAuto-Submitted: auto-replied\r\rbody\rline 2\r",
	     "header:auto-submitted", "auto-replied"},
	    {"X-A: 1\rSubject: mac\r\rbody\rline 2\r", "text", "body\nline 2"},
	    {"Bad Name: v\n\nx", "text", "Bad Name: v\n\nx"},
	    /* Body */
	    {"Subject: x\n\n\n\n  body  \n\n", "text", "  body"},
	    {"Subject: x\n\r\na\r\rb\r\n", "text", "a\n\nb"},
	    {"Content-Type: text/plain\n\ncaf\xE9", "text", "café"},
	    {"Content-Type: text/plain; charset=utf-8\n\nDet h\xE4r \xE4r",
	     "text", "Det här är"},
	    {"Content-Type: text/plain; charset=utf-8\n\n\xC3\xA9\xFF", "text",
	     "é\xEF\xBF\xBD"},
	    {"Content-Type: text/plain; charset=gb2312\n\n"
	     "\xE4\xBD\xA0\xE5\xA5\xBD\xE4\xB8\x96",
	     "text", "你好世"},
	    {"Content-Type: text/plain; charset=x-unknown\n\n\xC4\xE3\xBA\xC3"
	     "\xCA\xC0",
	     "text", "你好世"},
	    {"MIME-Version: 1.0\n\n\xC4\xE3\xBA\xC3\xA3\xAC\xCA\xC0\xBD\xE7",
	     "text", "你好，世界"},
	    {"Content-Type: text/html\n\n<meta charset=\"gbk\"><p>\xC4\xE3"
	     "\xBA\xC3</p>",
	     "text", "你好"},
	    {"Content-Type: multipart/mixed; charset=big5; boundary=b\n\n--b\n"
	     "Content-Type: text/plain\n\n\xA7\x41\xA6\x6E\n--b--\n",
	     "text", "你好"},
	    {"Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	     "Content-Type: text/plain\n\nfirst\n--b\nContent-Type: "
	     "text/plain\n\nsecond\n--b",
	     "text", "first\n\nsecond"},
	    {"Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	     "Content-Type: text/plain\n\nkept\n--b\n\n",
	     "text", "kept"},
	    {"Content-Type: multipart/mixed; boundary=zz\n\nno parts here\n",
	     "parse_error", NULL},
	    {"Content-Type: multipart/mixed; boundary=zz\n\nno parts here\n",
	     "text", "no parts here"},
	    {"Content-Type: multipart/mixed\n\nno boundary\n", "text",
	     "no boundary"},
	    {"Content-Type: application/pdf\n\n%PDF", "text", ""},
	    {"Content-Type: text/calendar\n\nBEGIN:VCALENDAR", "text", ""},
	    {"Content-Type: message/rfc822\n\nSubject: inner\n\ninner text",
	     "text", ""},
	    {"Content-Type: multipart/alternative; boundary=a\n\n--a\n"
	     "Content-Type: text/plain\n\n   \n--a\nContent-Type: text/html\n"
	     "\n<p>html wins</p>\n--a--\n",
	     "text", "html wins"},
	    {"Content-Type: multipart/mixed; boundary=m\n\n--m\n"
	     "Content-Type: multipart/report; boundary=r\n\n--r\n"
	     "Content-Type: text/plain\n\nbounced\n--r--\n--m--\n",
	     "flags", "16"},
	    {"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
	     "aGVs\nbG8=\n",
	     "text", "hello"},
	    {"Content-Type: TEXT/HTML; CHARSET=UTF-8\n\n<b>x</b>",
	     "content_type", "text/html"},
	    {"Content-Type: Multipart/Mixed; boundary=q\n\n--q\n\nx\n--q--\n",
	     "content_type", "multipart/mixed"},
	    {"Content-Type: image/png\n\n", "content_type", "image/png"},
	    {"No header here\n\nbody", "parse_error", "no header block"},
	    {"No header here\n\nbody", "text", "No header here\n\nbody"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct message *m = parse_str(t[i].raw);
		const char *f = t[i].field, *got = NULL;
		char num[32];

		if (strcmp(f, "return_path") == 0)
			got = m->return_path;
		else if (strcmp(f, "from_addr") == 0)
			got = m->from_addr;
		else if (strcmp(f, "from_name") == 0)
			got = m->from_name;
		else if (strcmp(f, "reply_to") == 0)
			got = m->reply_to_addr;
		else if (strcmp(f, "message_id") == 0)
			got = m->message_id;
		else if (strcmp(f, "in_reply_to") == 0)
			got = m->in_reply_to;
		else if (strcmp(f, "subject") == 0)
			got = m->subject;
		else if (strcmp(f, "text") == 0)
			got = m->text;
		else if (strcmp(f, "parse_error") == 0)
			got = m->parse_error;
		else if (strcmp(f, "content_type") == 0)
			got = m->content_type;
		else if (strncmp(f, "header:", 7) == 0)
			got = message_header(m, f + 7);
		else if (strcmp(f, "date") == 0 || strcmp(f, "flags") == 0) {
			snprintf(num, sizeof(num), "%lld",
				 f[0] == 'd' ? (long long)m->date
					     : (long long)m->flags);
			got = num;
		}
		is_str(got, t[i].want, "table %zu: %s", i, f);
		ok(text_utf8_valid(m->text, m->text_len) &&
		       strlen(m->text) == m->text_len,
		   "table %zu: text valid", i);
		message_free(&m);
	}
}

/* NULs in headers and body, which a C string table cannot hold. */
static void test_nul_bytes(void)
{
	static const char raw[] = "From: a\0b@example.com\r\nSubject: hel\0lo"
				  "\r\nX-Test: a\0b\r\n\r\nbo\0dy\0\r\n";
	struct message *m = mime_parse(raw, sizeof(raw) - 1);

	is_str(m->subject, "hello", "NUL: dropped from subject");
	is_str(message_header(m, "X-Test"), "ab", "NUL: dropped from header");
	is_str(m->from_addr, "ab@example.com", "NUL: dropped from From");
	is_str(m->text, "body", "NUL: dropped from text");
	is_int(m->text_len, 4, "NUL: text length");
	message_free(&m);

	m = mime_parse(B("\0\0\0\0"));
	is_int(m->text_len, 0, "NUL only: empty text");
	ok(m->parse_error != NULL, "NUL only: parse error set");
	message_free(&m);

	m = mime_parse(NULL, 0);
	is_str(m->parse_error, "empty message", "NULL input: parse error");
	is_str(m->text, "", "NULL input: text is \"\"");
	message_free(&m);
}

/* ------------------------------------------------------- hostile input */

static struct message *nested(int depth)
{
	struct buf b;
	struct message *m;

	buf_init(&b, 64u * 1024 * 1024);
	if (buf_adds(&b, "From: deep@example.com\r\nSubject: deep\r\n") < 0)
		return NULL;
	for (int i = 0; i < depth; i++)
		if (buf_addf(&b,
			     "Content-Type: multipart/mixed; boundary=b%d\r\n"
			     "\r\n--b%d\r\n",
			     i, i) < 0)
			break;
	if (buf_adds(&b, "Content-Type: text/plain\r\n\r\nhello deep\r\n") < 0)
		return NULL;
	for (int i = depth - 1; i >= 0; i--)
		if (buf_addf(&b, "--b%d--\r\n", i) < 0)
			break;
	m = mime_parse(b.data, b.len);
	buf_release(&b);
	return m;
}

static void test_nesting(void)
{
	struct message *m;
	time_t t0;

	m = nested(10);
	is_str(m->text, "hello deep", "nested 10: text found");
	ok(!(m->flags & MSG_STRUCTURE_CAPPED), "nested 10: not capped");
	message_free(&m);

	m = nested(100);
	ok(m->flags & MSG_STRUCTURE_CAPPED, "nested 100: capped");
	is_str(m->text, "", "nested 100: text beyond the depth cap ignored");
	is_str(m->content_type, "multipart/mixed", "nested 100: type");
	is_str(m->subject, "deep", "nested 100: headers intact");
	message_free(&m);

	/* Without the guard libetpan takes minutes and overflows the stack. */
	t0 = time(NULL);
	m = nested(30000);
	ok(m->flags & MSG_STRUCTURE_CAPPED, "nested 30000: capped");
	ok(time(NULL) - t0 < 60, "nested 30000: fast");
	message_free(&m);
}

static void test_many_parts(void)
{
	struct buf b;
	struct message *m;

	buf_init(&b, 16u * 1024 * 1024);
	if (buf_adds(&b, "From: many@example.com\r\nContent-Type: "
			 "multipart/mixed; boundary=p\r\n\r\n") < 0)
		return;
	for (int i = 1; i <= 1000; i++)
		if (buf_addf(&b,
			     "--p\r\nContent-Type: text/plain\r\n\r\n"
			     "part-%04d-end\r\n",
			     i) < 0)
			break;
	if (buf_adds(&b, "--p--\r\n") < 0)
		return;
	m = mime_parse(b.data, b.len);
	ok(m->flags & MSG_STRUCTURE_CAPPED, "1000 parts: capped");
	ok(strstr(m->text, "part-0001-end\n\npart-0002-end") != NULL,
	   "1000 parts: first parts joined with a blank line");
	/* The multipart itself counts as one of PQ_MIME_MAX_PARTS. */
	ok(strstr(m->text, "part-0255-end") != NULL,
	   "1000 parts: part 255 kept");
	ok(strstr(m->text, "part-0256-end") == NULL,
	   "1000 parts: part 256 dropped");
	message_free(&m);
	buf_release(&b);

	/* More delimiters than libetpan is shown: cut early, no crash. */
	buf_init(&b, 16u * 1024 * 1024);
	if (buf_adds(&b, "Content-Type: multipart/mixed; boundary=q\r\n\r\n") <
	    0)
		return;
	for (int i = 0; i < 200000; i++)
		if (buf_adds(&b, "--q\r\n\r\nx\r\n") < 0)
			break;
	m = mime_parse(b.data, b.len);
	ok(m->flags & MSG_STRUCTURE_CAPPED, "200000 delimiters: capped");
	message_free(&m);
	buf_release(&b);
}

static void test_base64_bomb(void)
{
	/* Decodes to 12 MB of 'A' if nothing stops it. */
	size_t enc = 16u * 1024 * 1024, line = 76;
	struct buf b;
	struct message *m;
	time_t t0 = time(NULL);

	buf_init(&b, enc + enc / line * 2 + 4096);
	if (buf_adds(&b, "From: bomb@example.com\r\nSubject: bomb\r\n"
			 "Content-Type: text/plain; charset=utf-8\r\n"
			 "Content-Transfer-Encoding: base64\r\n\r\n") < 0)
		return;
	for (size_t i = 0; i < enc; i += line) {
		char l[80];

		memset(l, 'Q', line);
		l[line] = '\r';
		l[line + 1] = '\n';
		if (buf_add(&b, l, line + 2) < 0)
			break;
	}
	m = mime_parse(b.data, b.len);
	ok(m->flags & MSG_TEXT_TRUNCATED, "base64 bomb: truncated");
	ok(m->text_len > 0 && m->text_len <= PQ_MAX_TEXT_BYTES,
	   "base64 bomb: text within PQ_MAX_TEXT_BYTES (%zu)", m->text_len);
	ok(text_utf8_valid(m->text, m->text_len), "base64 bomb: valid text");
	ok(time(NULL) - t0 < 120, "base64 bomb: bounded time");
	message_free(&m);
	buf_release(&b);
}

static void test_header_caps(void)
{
	struct buf b;
	struct message *m;

	buf_init(&b, 8u * 1024 * 1024);
	for (int i = 0; i < PQ_MAX_HEADERS + 200; i++)
		if (buf_addf(&b, "X-H%d: v\r\n", i) < 0)
			break;
	if (buf_adds(&b, "Subject: late\r\n\r\nbody\r\n") < 0)
		return;
	m = mime_parse(b.data, b.len);
	is_int(m->nheaders, PQ_MAX_HEADERS, "header count capped");
	ok(m->flags & MSG_HEADERS_TRUNCATED, "header count: flag");
	is_str(m->text, "body", "header count: body still found");
	message_free(&m);
	buf_reset(&b);

	if (buf_adds(&b, "Subject: first\r\nX-Big: ") < 0)
		return;
	for (int i = 0; i < 40000; i++)
		if (buf_adds(&b, "0123456789") < 0)
			break;
	if (buf_adds(&b, "\r\nX-After: 1\r\n\r\nbody\r\n") < 0)
		return;
	m = mime_parse(b.data, b.len);
	ok(m->flags & MSG_HEADERS_TRUNCATED, "header bytes: flag");
	ok(message_header(m, "X-Big") &&
	       strlen(message_header(m, "X-Big")) < PQ_MAX_HEADER_BYTES &&
	       strlen(message_header(m, "X-Big")) > PQ_MAX_HEADER_BYTES - 64,
	   "header bytes: value cut at the cap");
	is_str(message_header(m, "X-After"), NULL,
	       "header bytes: later fields dropped");
	is_str(m->subject, "first", "header bytes: earlier fields kept");
	is_str(m->text, "body", "header bytes: body still found");
	message_free(&m);
	buf_reset(&b);

	/* Deeply nested comments: libetpan recurses per level. */
	if (buf_adds(&b, "From: ") < 0)
		return;
	for (int i = 0; i < 100000; i++)
		if (buf_addc(&b, '(') < 0)
			break;
	if (buf_adds(&b, " a@b.example\r\nSubject: c\r\n\r\nx\r\n") < 0)
		return;
	m = mime_parse(b.data, b.len);
	is_str(m->from_addr, "a@b.example", "nested comments: no crash");
	message_free(&m);
	buf_reset(&b);

	/* A part header of many tiny fields (libetpan: ~40 bytes each). */
	if (buf_adds(&b, "Content-Type: multipart/mixed; boundary=f\r\n\r\n"
			 "--f\r\nContent-Type: text/plain\r\n\r\nfirst\r\n"
			 "--f\r\n") < 0)
		return;
	for (int i = 0; i < 500000; i++)
		if (buf_adds(&b, "a:b\r\n") < 0)
			break;
	if (buf_adds(&b, "\r\nsecond\r\n--f--\r\n") < 0)
		return;
	m = mime_parse(b.data, b.len);
	ok(m->flags & MSG_STRUCTURE_CAPPED, "field flood: capped");
	ok(strncmp(m->text, "first", 5) == 0, "field flood: first part kept");
	message_free(&m);

	buf_release(&b);
}

static void test_limits(void)
{
	struct buf b;
	struct message *m;

	/* References: the first and the latest MIME_MAX_REFS - 1. */
	buf_init(&b, 1 << 20);
	if (buf_adds(&b, "References:") < 0)
		return;
	for (int i = 0; i < 80; i++)
		if (buf_addf(&b, " <r%d@x>", i) < 0)
			break;
	if (buf_adds(&b, "\r\n\r\nx") < 0)
		return;
	m = mime_parse(b.data, b.len);
	is_int(m->nrefs, MIME_MAX_REFS, "references capped");
	if (m->nrefs == MIME_MAX_REFS) {
		is_str(m->refs[0], "r0@x", "references: root kept");
		is_str(m->refs[1], "r31@x", "references: then the latest");
		is_str(m->refs[MIME_MAX_REFS - 1], "r79@x",
		       "references: last kept");
	}
	message_free(&m);
	buf_reset(&b);

	/* A msg-id over MIME_MAX_MSGID_BYTES is ignored. */
	if (buf_adds(&b, "Message-ID: <") < 0)
		return;
	for (int i = 0; i < MIME_MAX_MSGID_BYTES; i++)
		if (buf_addc(&b, 'a') < 0)
			break;
	if (buf_adds(&b, "@x>\r\n\r\nx") < 0)
		return;
	m = mime_parse(b.data, b.len);
	is_str(m->message_id, NULL, "long message id ignored");
	message_free(&m);
	buf_reset(&b);

	/* To and Cc: at most MIME_MAX_RCPTS. */
	if (buf_adds(&b, "To: ") < 0)
		return;
	for (int i = 0; i < 150; i++)
		if (buf_addf(&b, "%su%d@x.example", i ? ", " : "", i) < 0)
			break;
	if (buf_adds(&b, "\r\nCc: group: g@x.example;\r\n\r\nx") < 0)
		return;
	m = mime_parse(b.data, b.len);
	is_int(m->nto, MIME_MAX_RCPTS, "recipients capped");
	message_free(&m);
	buf_reset(&b);

	/* Subject: header-safe, MIME_SUBJECT_MAX_CP code points. */
	if (buf_adds(&b, "Subject: ") < 0)
		return;
	for (int i = 0; i < 2000; i++)
		if (buf_adds(&b, "字") < 0)
			break;
	if (buf_adds(&b, "\r\n\r\nx") < 0)
		return;
	m = mime_parse(b.data, b.len);
	is_int(count_cp(m->subject), MIME_SUBJECT_MAX_CP, "subject capped");
	message_free(&m);
	buf_release(&b);
}

/* --------------------------------------------------------------- corpus */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collect *.eml under dir (one level of subfolders). */
static void collect(const char *dir, int depth, char ***files, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *path;
		struct stat st;
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) && depth < 2) {
			collect(path, depth + 1, files, n);
			free(path);
		} else if (S_ISREG(st.st_mode) && len > 4 &&
			   strcmp(e->d_name + len - 4, ".eml") == 0) {
			*files = xreallocarray(*files, *n + 1, sizeof(**files));
			(*files)[(*n)++] = path;
		} else {
			free(path);
		}
	}
	closedir(d);
}

/* Every invariant the rest of the daemon relies on; why_r says which
 * failed. */
static int invariants(const struct message *m, const char **why_r)
{
#define NEED(c, w)                                                             \
	do {                                                                   \
		if (!(c)) {                                                    \
			*why_r = (w);                                          \
			return 0;                                              \
		}                                                              \
	} while (0)
	NEED(m->text, "text NULL");
	NEED(strlen(m->text) == m->text_len, "NUL in text");
	NEED(text_utf8_valid(m->text, m->text_len), "text not UTF-8");
	NEED(!memchr(m->text, '\r', m->text_len), "CR in text");
	NEED(m->text_len <= PQ_MAX_TEXT_BYTES, "text too long");
	NEED(!m->subject || header_safe(m->subject, MIME_SUBJECT_MAX_CP),
	     "subject not header-safe");
	NEED(!m->from_name || header_safe(m->from_name, PQ_MAX_HEADER_CP),
	     "from name not header-safe");
	NEED(!m->from_addr ||
		 (clean_token(m->from_addr) && strchr(m->from_addr, '@')),
	     "bad from address");
	NEED(!m->reply_to_addr || clean_token(m->reply_to_addr),
	     "bad reply-to");
	NEED(!m->return_path || !*m->return_path || clean_token(m->return_path),
	     "bad return path");
	for (size_t i = 0; i < m->nto; i++)
		NEED(clean_token(m->to_addrs[i]), "bad to address");
	NEED(m->nto <= MIME_MAX_RCPTS, "too many recipients");
	NEED(!m->message_id || clean_token(m->message_id), "bad message id");
	NEED(!m->in_reply_to || clean_token(m->in_reply_to), "bad in-reply-to");
	NEED(m->nrefs <= MIME_MAX_REFS, "too many references");
	for (size_t i = 0; i < m->nrefs; i++)
		NEED(clean_token(m->refs[i]) &&
			 strlen(m->refs[i]) <= MIME_MAX_MSGID_BYTES,
		     "bad reference");
	NEED(m->content_type && strchr(m->content_type, '/'),
	     "bad content type");
	for (const char *p = m->content_type; *p; p++)
		NEED(!(*p >= 'A' && *p <= 'Z'), "content type not lowercase");
	NEED(m->nheaders <= PQ_MAX_HEADERS, "too many headers");
	for (size_t i = 0; i < m->nheaders; i++)
		NEED(!strpbrk(m->headers[i].value, "\r\n") &&
			 m->headers[i].name[0],
		     "CR/LF in a header value");
	NEED(m->norder_ids <= PQ_MAX_ORDER_IDS, "too many order ids");
	for (size_t i = 0; i < m->norder_ids; i++)
		NEED(strlen(m->order_ids[i]) == TEXT_ORDER_ID_SIZE - 1,
		     "bad order id");
	NEED(strcmp(m->lang, "en") == 0 || strcmp(m->lang, "zh") == 0,
	     "bad lang");
	return 1;
#undef NEED
}

static void test_corpus(void)
{
	const char *env = getenv("PQ_CORPUS_DIR");
	char *dir = env && *env
			? xstrdup(env)
			: xasprintf("%s/../shared/corpus/real", srcdir());
	char **files = NULL;
	size_t n = 0, parsed = 0, errors = 0;
	struct stat st;

	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		ok(1, "# SKIP corpus not found at %s", dir);
		free(dir);
		return;
	}
	collect(dir, 0, &files, &n);
	qsort(files, n, sizeof(*files), cmp_str);
	diag("corpus: %zu files under %s", n, dir);
	for (size_t i = 0; i < n; i++) {
		char *data = NULL;
		size_t len = 0;
		struct message *m;
		const char *why = "";

		if (read_file(files[i], PQ_MAX_MESSAGE_BYTES, &data, &len) <
		    0) {
			ok(0, "corpus: read %s", files[i]);
			continue;
		}
		m = mime_parse(data, len);
		parsed++;
		errors += m->parse_error != NULL;
		if (!ok(invariants(m, &why), "corpus: %s",
			files[i] + strlen(dir) + 1))
			diag("  %s", why);
		message_free(&m);
		free(data);
	}
	diag("corpus: %zu parsed, %zu with parse_error", parsed, errors);
	ok(n > 0, "corpus: found files");
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
	free(dir);
}

int main(void)
{
	test_fixtures();
	test_fixture_details();
	test_crlf_vs_lf();
	test_headers_table();
	test_nul_bytes();
	test_nesting();
	test_many_parts();
	test_base64_bomb();
	test_header_caps();
	test_limits();
	test_corpus();
	return done_testing();
}
