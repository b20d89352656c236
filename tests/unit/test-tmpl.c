/* test-tmpl: template loading errors, rendering, header safety (no value
 * from a customer can add a header), RFC 2047 and quoted-printable. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text.h"
#include "tmpl.h"
#include "../tap.h"

static char dir[] = "/tmp/pq-tmpl-XXXXXX";

static void put(const char *rel, const char *text)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

/* Count header lines (lines before the blank line that do not start with
 * white space) and check every line ends in CRLF and is <= 998 bytes. */
static int header_fields(const char *m, int *crlf_ok, int *len_ok)
{
	int n = 0;
	const char *p = m;

	*crlf_ok = *len_ok = 1;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (!nl || len == 0 || p[len - 1] != '\r')
			*crlf_ok = 0;
		if (len > 999)
			*len_ok = 0;
		if (len == 1) /* "\r": end of headers */
			break;
		if (*p != ' ' && *p != '\t')
			n++;
		p = nl ? nl + 1 : p + len;
	}
	return n;
}

/* Does every line of s end in CRLF and hold at most max characters? */
static int lines_within(const char *s, long max)
{
	for (const char *p = s; *p;) {
		const char *nl = strstr(p, "\r\n");
		if (!nl || nl - p > max)
			return 0;
		p = nl + 2;
	}
	return 1;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

int main(void)
{
	struct tmpl_set *set = NULL;
	struct xerr err = {0};
	struct buf out;
	char path[300];

	if (!mkdtemp(dir))
		return 99;
	snprintf(path, sizeof(path), "%s/en", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/zh", dir);
	mkdir(path, 0755);

	put("en/bad.txt", "Subject: hi {{nonsense}}\n\nbody\n");
	ok(tmpl_load_dir(dir, &set, &err) == -1 &&
	       strstr(err.msg, "en/bad.txt:1:13: unknown placeholder "
			       "'{{nonsense}}'"),
	   "unknown placeholder is a located load error");
	diag("%s", err.msg);
	put("en/bad.txt", "From: me\nSubject: x\n\nbody\n");
	ok(tmpl_load_dir(dir, &set, &err) == -1 &&
	       strstr(err.msg, "en/bad.txt:1:1: unsupported template "
			       "header 'From'"),
	   "headers other than Subject are refused");
	put("en/bad.txt", "Subject: x\nbody without blank line\n");
	ok(tmpl_load_dir(dir, &set, &err) == -1 &&
	       strstr(err.msg, "en/bad.txt:2:1: unsupported"),
	   "missing blank line is reported");
	put("en/bad.txt", "Subject: x\n\nhello {{case_id\n");
	ok(tmpl_load_dir(dir, &set, &err) == -1 &&
	       strstr(err.msg, "en/bad.txt:3:7: '{{' without '}}'"),
	   "unclosed placeholder is reported");
	snprintf(path, sizeof(path), "%s/en/bad.txt", dir);
	unlink(path);

	put("en/late.txt",
	    "Subject: Re: {{original_subject|your order}}\n\n"
	    "Hello {{customer_name|there}},\n"
	    "about order {{order_id|your order}}: we reply within "
	    "{{sla_hours}} hours (case {{case_id}}, {{category}}).\n"
	    "{{team_name}}\n");
	put("zh/late.txt", "Subject: 回复：{{original_subject}}\n\n"
			   "{{customer_name|尊敬的顾客}}，您好！{{sla_hours}} "
			   "小时内回复。\n");
	ok(tmpl_load_dir(dir, &set, &err) == 0, "templates load");
	if (!set) {
		diag("%s", err.msg);
		return done_testing();
	}
	ok(tmpl_find(set, "en", "general") == NULL,
	   "no template for an unknown name");
	ok(tmpl_find(set, "zh", "late") != NULL &&
	       strcmp(tmpl_lang(tmpl_find(set, "zh", "late")), "zh") == 0,
	   "zh template found");
	ok(tmpl_find(set, "fr", "late") != NULL &&
	       strcmp(tmpl_lang(tmpl_find(set, "fr", "late")), "en") == 0,
	   "unknown language falls back to en");

	const char *refs[] = {"root@x", "mid@x"};
	struct tmpl_vars v = {.case_id = 42,
			      .order_id = "123-4567890-1234567",
			      .customer_name = "Ann Lee",
			      .original_subject = "Where is my gift?",
			      .category = "late_delivery",
			      .team_name = "Holiday Desk",
			      .sla_hours = 4,
			      .reply_by = 1798000000};
	struct tmpl_mail mail = {.from_name = "Holiday Desk",
				 .from_addr = "support@example.test",
				 .to_addr = "ann@example.net",
				 .to_name = "Ann Lee",
				 .message_id = "peakq-ack-7.abc@example.test",
				 .in_reply_to = "orig@example.net",
				 .refs = refs,
				 .nrefs = 2,
				 .subject_tag = "[Case #{{case_id}}]",
				 .date = 1798000000};
	buf_init(&out, 1 << 20);
	ok(tmpl_render(tmpl_find(set, "en", "late"), &v, &mail, &out, &err) ==
	       0,
	   "render en");
	const char *m = buf_str(&out);
	ok(strstr(m, "Subject: Re: Where is my gift? [Case #42]\r\n") != NULL,
	   "subject with tag");
	ok(strstr(m, "To: \"Ann Lee\" <ann@example.net>\r\n") != NULL, "To");
	ok(strstr(m, "From: \"Holiday Desk\" <support@example.test>\r\n") !=
	       NULL,
	   "From");
	ok(strstr(m, "Message-ID: <peakq-ack-7.abc@example.test>\r\n") != NULL,
	   "Message-ID");
	ok(strstr(m, "In-Reply-To: <orig@example.net>\r\n") != NULL,
	   "In-Reply-To");
	ok(strstr(m, "References: <root@x>\r\n <mid@x>\r\n <orig@example.net>"
		     "\r\n") != NULL,
	   "References: theirs then the original");
	ok(strstr(m, "Auto-Submitted: auto-replied\r\n") != NULL,
	   "Auto-Submitted");
	ok(strstr(m, "X-Auto-Response-Suppress: All\r\n") != NULL,
	   "X-Auto-Response-Suppress");
	ok(strstr(m, "Content-Transfer-Encoding: quoted-printable\r\n") != NULL,
	   "QP body");
	ok(strstr(m, "about order 123-4567890-1234567: we reply within 4 "
		     "hours") != NULL,
	   "placeholders filled");
	int crlf, len_ok;
	int fields = header_fields(m, &crlf, &len_ok);
	ok(crlf && len_ok, "every line CRLF and <= 998 bytes");
	is_int(fields, 14, "exactly the 14 header fields we write");

	/* Hostile values: encoded CR/LF, NUL cut, bidi controls, very long. */
	char longname[5000];
	memset(longname, 'A', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	const char *hostile[] = {
	    "Hi\r\nBcc: victim@example.com",
	    "x\nContent-Type: text/html",
	    "\xe2\x80\xae"
	    "evil\xe2\x81\xa6 name",
	    "bad \xff\xfe utf8",
	    longname,
	};
	for (size_t i = 0; i < ARRAY_SIZE(hostile); i++) {
		v.original_subject = hostile[i];
		v.customer_name = hostile[i];
		mail.to_name = hostile[i];
		buf_reset(&out);
		ok(tmpl_render(tmpl_find(set, "en", "late"), &v, &mail, &out,
			       &err) == 0,
		   "hostile %zu renders", i);
		m = buf_str(&out);
		fields = header_fields(m, &crlf, &len_ok);
		is_int(fields, 14, "hostile %zu adds no header", i);
		ok(crlf && len_ok, "hostile %zu: lines CRLF and short", i);
		ok(!strstr(m, "\nBcc:") &&
		       !strstr(m, "\nContent-Type: text/html"),
		   "hostile %zu: injected header absent", i);
		ok(count(m, "\r\n\r\n") >= 1 && !memchr(m, '\0', out.len),
		   "hostile %zu: one body, no NUL", i);
		ok(text_utf8_valid(m, out.len), "hostile %zu: valid UTF-8", i);
	}

	/* A long ASCII subject is folded at spaces, not encoded. */
	v.original_subject = "Where is my order? It was supposed to arrive "
			     "before Christmas and the tracking page has not "
			     "changed for a week";
	v.customer_name = "Ann";
	mail.to_name = "Ann";
	buf_reset(&out);
	ok(tmpl_render(tmpl_find(set, "en", "late"), &v, &mail, &out, &err) ==
	       0,
	   "render long ASCII subject");
	m = buf_str(&out);
	ok(strstr(m, "Subject: Re: Where is my order?") != NULL &&
	       strstr(m, "Christmas and\r\n the tracking page has not "
			 "changed for a week [Case #42]\r\n") != NULL,
	   "long ASCII subject folded at a space, left readable");
	fields = header_fields(m, &crlf, &len_ok);
	ok(crlf && fields == 14, "folded subject is still one field");
	{
		int short_lines = 1;
		for (const char *p = m; *p && strncmp(p, "\r\n\r\n", 4);) {
			const char *nl = strstr(p, "\r\n");
			if (nl - p > 78)
				short_lines = 0;
			p = nl + 2;
		}
		ok(short_lines, "header lines within 78 characters");
	}

	/* Chinese: encoded subject and name. */
	v.original_subject = "我的礼物在哪里？订单号 123-4567890-1234567";
	v.customer_name = "王小明";
	mail.to_name = "王小明";
	buf_reset(&out);
	ok(tmpl_render(tmpl_find(set, "zh", "late"), &v, &mail, &out, &err) ==
	       0,
	   "render zh");
	m = buf_str(&out);
	ok(strstr(m, "Subject: =?UTF-8?B?") != NULL,
	   "non-ASCII subject is RFC 2047 encoded");
	ok(strstr(m, "To: =?UTF-8?B?") != NULL, "non-ASCII name encoded");
	fields = header_fields(m, &crlf, &len_ok);
	ok(crlf && len_ok && fields == 14, "zh headers well-formed");
	/* every encoded word <= 75 chars */
	int words_ok = 1;
	for (const char *p = m; (p = strstr(p, "=?UTF-8?B?")); p++) {
		const char *e = strstr(p + 10, "?=");
		if (!e || e + 2 - p > 75)
			words_ok = 0;
	}
	ok(words_ok, "encoded words are at most 75 characters");

	/* QP */
	buf_reset(&out);
	ok(tmpl_qp(&out, "a=b \nx\n", 7) == 0, "qp");
	is_str(buf_str(&out), "a=3Db=20\r\nx\r\n",
	       "qp escapes '=' and trailing space");
	buf_reset(&out);
	char longline[300];
	memset(longline, 'z', 299);
	longline[299] = '\0';
	ok(tmpl_qp(&out, longline, 299) == 0, "qp long line");
	crlf = lines_within(buf_str(&out), 76);
	ok(crlf, "qp lines <= 76 with soft breaks");

	/* Found by fuzz-header: an ASCII word too long for one line went out
	 * as is, on an 83-character line. Now encoded words, <= 78. */
	buf_reset(&out);
	memset(longline, ',', 74);
	longline[74] = '\0';
	ok(tmpl_header(&out, "Subject", longline) == 0, "header: long word");
	crlf = lines_within(buf_str(&out), 78);
	ok(crlf && strstr(buf_str(&out), "=?UTF-8?B?"),
	   "a word that cannot fit goes into encoded words, lines <= 78");
	buf_reset(&out);
	ok(tmpl_header(&out, "Subject",
		       "Where is my order? It was a gift for "
		       "my daughter and it has not arrived") == 0 &&
	       strcmp(buf_str(&out),
		      "Subject: Where is my order? It was a gift for my "
		      "daughter and it has not\r\n arrived\r\n") == 0,
	   "plain words still go as is, folded at a space");
	/* Found by fuzz-header after 30 minutes: a continuation line whose
	 * first words were no longer than "Subject: " was never folded
	 * again, so a long word after them made an 86-character line. */
	buf_reset(&out);
	ok(tmpl_header(
	       &out, "Subject",
	       "n s o666666666666666666666666666666666666666666666 6ec $"
	       "r 03?Bre s my or$0 c $By612 @@@@@@@@@@@@@@@@@@@@@@@@@@@@"
	       "@@@@@@@@@@@@@@@@@@@@@@`@@@@@@@@@s my or$ec $r 03y my or$"
	       "0 c $By612 s my or$ec $r 02?Bre s my or$0 c $By612 s my "
	       "or$ec $r 03nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
	       "nnnWqnnnnnnnnnnnnnXnnnnnnnXnx nnnnnnnnBc Bc:) x nnnnnnnn"
	       "nnnnnnNnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnWqnnnnnnnnnnn") == 0 &&
	       !strstr(buf_str(&out), "=?UTF-8?"),
	   "header: short words then a long one on a continuation line");
	crlf = lines_within(buf_str(&out), 78);
	ok(crlf, "every line <= 78 (got: %s)", buf_str(&out));
	buf_release(&out);
	tmpl_free(&set);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		diag("cannot remove %s", dir);
	return done_testing();
}
