/* cli_templates: `peakq templates check` (every template loads, every
 * template the rules name exists in English and Chinese, each renders to a
 * valid message, nothing a marketplace forbids) and `peakq templates
 * preview`, which prints an acknowledgement exactly as it would be sent. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "bounds.h"
#include "cli.h"
#include "ingest.h"
#include "notices.h"
#include "rules.h"
#include "text.h"
#include "tmpl.h"

static const char *const langs[] = {"en", "zh"};

/* A customer's message in each language, for previews and checks. */
static const char sample_en[] =
    "Return-Path: <k7xq2mzr9d8t1bp@marketplace.amazon.com>\r\n"
    "From: \"Emily Carter\" <k7xq2mzr9d8t1bp@marketplace.amazon.com>\r\n"
    "To: support@example.com\r\n"
    "Subject: Where is my order? It was meant to arrive before Christmas\r\n"
    "Message-ID: <sample-en@marketplace.amazon.com>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Hello, my order 112-4839201-5561203 still has not arrived and the "
    "tracking has not moved for a week. It is a Christmas present.\r\n";
static const char sample_zh[] =
    "Return-Path: <li.na@example.cn>\r\n"
    "From: =?UTF-8?B?5p2O5aic?= <li.na@example.cn>\r\n"
    "To: support@example.com\r\n"
    "Subject: =?UTF-8?B?5oiR55qE5Zyj6K+e56S854mp6L+Y5rKh5Yiw?=\r\n"
    "Message-ID: <sample-zh@example.cn>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "\xe6\x82\xa8\xe5\xa5\xbd\xef\xbc\x8c\xe8\xae\xa2\xe5\x8d\x95 "
    "114-7788123-9900456 \xe7\x9a\x84\xe5\x8c\x85\xe8\xa3\xb9\xe8\xbf\x98"
    "\xe6\xb2\xa1\xe5\x88\xb0\xef\xbc\x8c\xe7\x89\xa9\xe6\xb5\x81\xe4\xb8"
    "\x80\xe5\x91\xa8\xe6\xb2\xa1\xe6\x9b\xb4\xe6\x96\xb0\xe4\xba\x86\xe3"
    "\x80\x82\r\n";

static void usage(FILE *f)
{
	fputs("usage: peakq templates check [--rules DIR] [DIR]\n"
	      "       peakq templates preview NAME [--lang en|zh] [--text] "
	      "[FILE.eml]\n"
	      "\n"
	      "check    load every template (DIR, or templates_dir of the "
	      "configuration);\n"
	      "         every template the rules name must exist in English "
	      "and Chinese;\n"
	      "         each must render to a valid message; links and "
	      "e-mail addresses in\n"
	      "         a body are flagged (marketplaces forbid them). Exit 0 "
	      "or 1.\n"
	      "preview  print the acknowledgement NAME exactly as the "
	      "customer would get\n"
	      "         it, filled from FILE.eml or from a sample message in "
	      "the language\n"
	      "         (--lang, default en); --text shows it decoded.\n",
	      f);
}

static int load_tmpls(struct cli *cli, const char *dir, struct tmpl_set **t_r)
{
	struct xerr err = {0};
	int r;

	if (!dir) {
		if ((r = cli_conf(cli)))
			return r;
		dir = cli->conf->templates_dir;
	}
	if (tmpl_load_dir(dir, t_r, &err) < 0) {
		fprintf(stderr, "peakq: %s\n", err.msg);
		return 1;
	}
	return 0;
}

/* Render template t for the sample in its language, as the daemon would. */
static int render_sample(struct cli *cli, const struct ruleset *rules,
			 const struct notices *notices, const struct tmpl *t,
			 const char *raw, size_t len, struct buf *out,
			 struct xerr *err)
{
	struct ingest_ctx ctx = {
	    .conf = cli->conf, .rules = rules, .notices = notices};
	struct ingest_decision d;
	int64_t now = now_s();
	char *mid;
	int r;

	ingest_decide(cli->conf, rules, NULL, 0, raw, len, &d);
	if (!d.rcpt)
		d.rcpt = d.msg->reply_to_addr ? d.msg->reply_to_addr
					      : d.msg->from_addr;
	mid = xasprintf("peakq-ack-preview@%s",
			strrchr(cli->conf->smtp.from_addr, '@') + 1);
	r = ingest_render_ack(&ctx, &d, t, 12345, mid, now, now, out, err);
	if (r == 0 && !d.ack)
		fprintf(stderr,
			"peakq: note: this message would get no "
			"acknowledgement (%s)\n",
			d.suppressed);
	free(mid);
	ingest_decision_release(&d);
	return r;
}

static int template_check_one(struct cli *cli, const struct tmpl *t,
			      const struct ruleset *rules)
{
	const char *raw =
	    strcmp(tmpl_lang(t), "zh") == 0 ? sample_zh : sample_en;
	struct xerr err = {0};
	struct buf out;
	int bad = 0;

	buf_init(&out, 1 << 20);
	if (render_sample(cli, rules, NULL, t, raw, strlen(raw), &out, &err) <
	    0) {
		printf("%s: does not render: %s\n", tmpl_file(t), err.msg);
		buf_release(&out);
		return 1;
	}
	struct message *m = mime_parse(out.data, out.len);
	if (!m->subject || !*m->subject) {
		printf("%s: the rendered Subject is empty\n", tmpl_file(t));
		bad = 1;
	}
	if (m->text_len < 10) {
		printf("%s: the rendered body is (almost) empty\n",
		       tmpl_file(t));
		bad = 1;
	}
	if (strstr(m->text, "http://") || strstr(m->text, "https://") ||
	    strstr(m->text, "www."))
		printf("%s: warning: a link in the body (marketplaces forbid "
		       "links outside the marketplace)\n",
		       tmpl_file(t));
	if (m->text && strchr(m->text, '@'))
		printf("%s: warning: an e-mail address in the body "
		       "(marketplaces forbid them)\n",
		       tmpl_file(t));
	message_free(&m);
	buf_release(&out);
	return bad;
}

static int cmd_check(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"rules", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *rdir = NULL, **names;
	struct tmpl_set *tmpls = NULL;
	struct ruleset *rules = NULL;
	struct xerr err = {0};
	int c, r, bad = 0;
	size_t n;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rdir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind > 1) {
		usage(stderr);
		return 2;
	}
	/* Rendering needs the configuration (From, team name, tag). */
	if ((r = cli_conf(cli)))
		return r;
	if ((r = load_tmpls(cli, optind < argc ? argv[optind] : NULL, &tmpls)))
		return r;
	if (rules_load_dir(rdir ? rdir : cli->conf->rules_dir, &rules, &err) <
	    0) {
		fprintf(stderr, "peakq: %s\n", err.msg);
		tmpl_free(&tmpls);
		return 1;
	}
	n = rules_templates(rules, &names);
	for (size_t i = 0; i < n; i++)
		for (size_t l = 0; l < 2; l++) {
			const struct tmpl *t =
			    tmpl_find(tmpls, langs[l], names[i]);
			if (!t || strcmp(tmpl_lang(t), langs[l]) != 0) {
				printf("templates/%s/%s.txt is missing: the "
				       "rules use '%s'%s\n",
				       langs[l], names[i], names[i],
				       l ? " (Chinese customers would get the "
					   "English one)"
					 : "");
				bad = 1;
			}
		}
	for (size_t i = 0; i < tmpl_count(tmpls); i++)
		bad |= template_check_one(cli, tmpl_at(tmpls, i), rules);
	if (!bad)
		printf("templates OK: %zu template(s); every one of the %zu "
		       "the rules use exists in en and zh\n",
		       tmpl_count(tmpls), n);
	rules_free(&rules);
	tmpl_free(&tmpls);
	return bad ? 1 : 0;
}

static int cmd_preview(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"lang", required_argument, NULL, 'l'},
	    {"text", no_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *lang = NULL, *name;
	struct tmpl_set *tmpls = NULL;
	struct ruleset *rules = NULL;
	struct notices *notices = NULL;
	const struct tmpl *t;
	struct xerr err = {0};
	struct buf out;
	char *raw = NULL;
	size_t len;
	int c, r, text = 0, ret = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			lang = optarg;
			break;
		case 't':
			text = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc || argc - optind > 2 ||
	    (lang && strcmp(lang, "en") && strcmp(lang, "zh"))) {
		usage(stderr);
		return 2;
	}
	name = argv[optind];
	if ((r = cli_conf(cli)) || (r = load_tmpls(cli, NULL, &tmpls)))
		return r;
	buf_init(&out, 1 << 20);
	if (optind + 1 < argc) {
		if (read_file(argv[optind + 1], PQ_MAX_MESSAGE_BYTES, &raw,
			      &len) < 0) {
			fprintf(stderr, "peakq: cannot read '%s': %s\n",
				argv[optind + 1], strerror(errno));
			goto out;
		}
	} else {
		raw = xstrdup(lang && strcmp(lang, "zh") == 0 ? sample_zh
							      : sample_en);
		len = strlen(raw);
	}
	if (rules_load_dir(cli->conf->rules_dir, &rules, &err) < 0 ||
	    (cli->conf->notices_file &&
	     notices_load(cli->conf->notices_file, &notices, &err) < 0)) {
		fprintf(stderr, "peakq: %s\n", err.msg);
		goto out;
	}
	if (!lang) {
		/* the language the daemon would choose for this message */
		struct ingest_decision d;
		ingest_decide(cli->conf, rules, NULL, 0, raw, len, &d);
		lang = d.msg->lang; /* a static string */
		ingest_decision_release(&d);
	}
	t = tmpl_find(tmpls, lang, name);
	if (!t) {
		fprintf(stderr,
			"peakq: no template '%s' (templates/%s/%s.txt)\n", name,
			lang, name);
		goto out;
	}
	if (render_sample(cli, rules, notices, t, raw, len, &out, &err) < 0) {
		fprintf(stderr, "peakq: %s\n", err.msg);
		goto out;
	}
	if (text) {
		struct message *m = mime_parse(out.data, out.len);
		for (size_t i = 0; i < m->nheaders; i++)
			if (!ascii_casecmp(m->headers[i].name, "From") ||
			    !ascii_casecmp(m->headers[i].name, "To") ||
			    !ascii_casecmp(m->headers[i].name, "Subject"))
				printf("%s: %s\n", m->headers[i].name,
				       !ascii_casecmp(m->headers[i].name,
						      "Subject")
					   ? m->subject
					   : m->headers[i].value);
		printf("\n%s", m->text);
		if (m->text_len && m->text[m->text_len - 1] != '\n')
			putchar('\n');
		message_free(&m);
	} else {
		fwrite(out.data, 1, out.len, stdout);
	}
	ret = 0;
out:
	buf_release(&out);
	free(raw);
	rules_free(&rules);
	notices_free(&notices);
	tmpl_free(&tmpls);
	return ret;
}

int cmd_templates(struct cli *cli, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(cli, argc - 1, argv + 1);
	if (strcmp(argv[1], "preview") == 0)
		return cmd_preview(cli, argc - 1, argv + 1);
	fprintf(stderr, "peakq templates: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
