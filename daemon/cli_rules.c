/* cli_rules: `peakq rules test` (the daemon's parse -> classify -> may-we-
 * acknowledge path, on files, folders and mboxes, with accuracy against a
 * labels file), `peakq rules check` and `peakq rules explain`. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "bounds.h"
#include "cli.h"
#include "ingest.h"
#include "rules.h"
#include "tmpl.h"

struct label {
	char *path; /* absolute */
	char *category;
};

struct test_run {
	const struct conf *conf;
	const struct ruleset *rules;
	int json;
	unsigned flags; /* ingest_decide_flags */
	unsigned long files, errors;
	struct label *labels;
	size_t nlabels;
	/* confusion counts: [expected][got] over categories */
	const char **cats;
	size_t ncats;
	unsigned long *confusion;
	unsigned long labelled, correct, unlabelled;
};

static const char *find_label(const struct test_run *t, const char *path)
{
	char real[PATH_MAX];

	if (!t->nlabels || !realpath(path, real))
		return NULL;
	for (size_t i = 0; i < t->nlabels; i++)
		if (strcmp(t->labels[i].path, real) == 0)
			return t->labels[i].category;
	return NULL;
}

static size_t cat_index(struct test_run *t, const char *cat)
{
	size_t i;

	for (i = 0; i < t->ncats; i++)
		if (strcmp(t->cats[i], cat) == 0)
			return i;
	return i; /* unknown: the extra row/column */
}

static void record(struct test_run *t, const char *expected, const char *got)
{
	size_t n = t->ncats + 1;

	t->labelled++;
	if (strcmp(expected, got) == 0)
		t->correct++;
	t->confusion[cat_index(t, expected) * n + cat_index(t, got)]++;
}

/* Classify one message (raw[0..len)), named name in the output. */
static void test_one(struct test_run *t, const char *name, const char *path,
		     const char *raw, size_t len)
{
	struct ingest_decision d;
	const char *expected = path ? find_label(t, path) : NULL;

	t->files++;
	ingest_decide(t->conf, t->rules, NULL, t->flags, raw, len, &d);
	if (t->nlabels) {
		if (expected)
			record(t, expected, d.verdict.category);
		else
			t->unlabelled++;
	}
	if (t->json) {
		int first = 1;
		fputc('{', stdout);
		json_kv_str(stdout, &first, "file", name);
		json_kv_str(stdout, &first, "category", d.verdict.category);
		json_kv_str(stdout, &first, "priority", d.verdict.priority);
		json_kv_int(stdout, &first, "sla_hours", d.verdict.sla_hours);
		json_kv_bool(stdout, &first, "escalate", d.verdict.escalate);
		json_kv_str(stdout, &first, "template", d.verdict.tmpl);
		json_kv_str(stdout, &first, "lang", d.msg->lang);
		json_key(stdout, &first, "order_ids");
		fputc('[', stdout);
		for (size_t i = 0; i < d.msg->norder_ids; i++) {
			if (i)
				fputc(',', stdout);
			json_str(stdout, d.msg->order_ids[i]);
		}
		fputc(']', stdout);
		json_kv_bool(stdout, &first, "ack", d.ack);
		json_kv_str(stdout, &first, "suppressed",
			    d.ack ? NULL : d.suppressed);
		json_kv_str(stdout, &first, "rcpt", d.ack ? d.rcpt : NULL);
		json_kv_str(stdout, &first, "rule", d.verdict.rule);
		json_key(stdout, &first, "matched");
		fputc('[', stdout);
		for (size_t i = 0; i < d.verdict.nmatched; i++) {
			if (i)
				fputc(',', stdout);
			json_str(stdout, d.verdict.matched[i].keyword);
		}
		fputc(']', stdout);
		json_key(stdout, &first, "matched_in");
		fputc('[', stdout);
		for (size_t i = 0; i < d.verdict.nmatched; i++) {
			int f2 = 1;
			fputs(i ? ",{" : "{", stdout);
			json_kv_str(stdout, &f2, "keyword",
				    d.verdict.matched[i].keyword);
			json_kv_str(
			    stdout, &f2, "field",
			    rules_field_name(d.verdict.matched[i].field));
			fputc('}', stdout);
		}
		fputc(']', stdout);
		json_key(stdout, &first, "tags");
		fputc('[', stdout);
		for (size_t i = 0; i < d.verdict.ntags; i++) {
			if (i)
				fputc(',', stdout);
			json_str(stdout, d.verdict.tags[i]);
		}
		fputc(']', stdout);
		json_kv_str(stdout, &first, "parse_error", d.msg->parse_error);
		if (t->nlabels)
			json_kv_str(stdout, &first, "expected", expected);
		fputs("}\n", stdout);
	} else {
		printf("%s: %s (priority %s, %dh, rule %s%s)", name,
		       d.verdict.category, d.verdict.priority,
		       d.verdict.sla_hours, d.verdict.rule,
		       d.verdict.escalate ? ", escalate" : "");
		if (expected && strcmp(expected, d.verdict.category) != 0)
			printf(" EXPECTED %s", expected);
		if (d.verdict.nmatched) {
			printf(" matched:");
			for (size_t i = 0; i < d.verdict.nmatched; i++)
				printf(" \"%s\" (%s)",
				       d.verdict.matched[i].keyword,
				       rules_field_name(
					   d.verdict.matched[i].field));
		}
		for (size_t i = 0; i < d.verdict.ntags; i++)
			printf("%s%s", i ? " " : "; tags ", d.verdict.tags[i]);
		printf("; lang %s", d.msg->lang);
		if (d.msg->norder_ids)
			printf("; order %s", d.msg->order_ids[0]);
		if (d.ack)
			printf("; ack to %s\n", d.rcpt);
		else
			printf("; no ack (%s)\n", d.suppressed);
	}
	ingest_decision_release(&d);
}

/* An mbox: messages start at lines "From " after a blank line (or at the
 * top); ">From " lines are unescaped (mboxrd). */
static void test_mbox(struct test_run *t, const char *path, const char *data,
		      size_t len)
{
	const char *p = data, *end = data + len;
	unsigned long n = 0;

	while (p < end) {
		const char *body = memchr(p, '\n', (size_t)(end - p));
		const char *next = body;
		struct buf msg;
		char *name;
		if (!body)
			break;
		body++;
		/* the next "\nFrom " after a blank line */
		for (next = body; next < end;) {
			const char *hit =
			    memmem(next, (size_t)(end - next), "\n\nFrom ", 7);
			if (!hit) {
				next = end;
				break;
			}
			next = hit + 2;
			break;
		}
		buf_init(&msg, (size_t)(next - body) + 1);
		for (const char *l = body; l < next;) {
			const char *nl = memchr(l, '\n', (size_t)(next - l));
			const char *le = nl ? nl + 1 : next;
			const char *s = l;
			/* mboxrd: ">From " and ">>From " lose one '>' */
			const char *q = l;
			while (q < le && *q == '>')
				q++;
			if (q > l && (size_t)(le - q) >= 5 &&
			    memcmp(q, "From ", 5) == 0)
				s = l + 1;
			if (buf_add(&msg, s, (size_t)(le - s)) < 0)
				break;
			l = le;
		}
		name = xasprintf("%s:%lu", path, ++n);
		test_one(t, name, NULL, msg.data ? msg.data : "", msg.len);
		free(name);
		buf_release(&msg);
		p = next;
	}
}

static void test_file(struct test_run *t, const char *path)
{
	char *raw = NULL;
	size_t len;

	if (read_file(path, PQ_MAX_MESSAGE_BYTES * 8, &raw, &len) < 0) {
		fprintf(stderr, "peakq: cannot read '%s': %s\n", path,
			strerror(errno));
		t->errors++;
		return;
	}
	if (len >= 5 && memcmp(raw, "From ", 5) == 0)
		test_mbox(t, path, raw, len);
	else
		test_one(t, path, path, raw, len);
	free(raw);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_message_file(const char *name)
{
	size_t l = strlen(name);

	return (l > 4 && strcmp(name + l - 4, ".eml") == 0) ||
	       (l > 5 && strcmp(name + l - 5, ".mbox") == 0);
}

static void test_path(struct test_run *t, const char *path, int depth)
{
	struct stat sb;
	DIR *dir;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, pl = strlen(path);

	if (stat(path, &sb) < 0) {
		fprintf(stderr, "peakq: '%s': %s\n", path, strerror(errno));
		t->errors++;
		return;
	}
	if (!S_ISDIR(sb.st_mode)) {
		test_file(t, path);
		return;
	}
	if (depth > 8 || !(dir = opendir(path))) {
		fprintf(stderr, "peakq: cannot read directory '%s'\n", path);
		t->errors++;
		return;
	}
	while (pl > 1 && path[pl - 1] == '/')
		pl--;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xasprintf("%.*s/%s", (int)pl, path, de->d_name);
	}
	closedir(dir);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (stat(names[i], &sb) == 0 &&
		    (S_ISDIR(sb.st_mode) || is_message_file(names[i])))
			test_path(t, names[i], depth + 1);
		free(names[i]);
	}
	free(names);
}

/* labels.tsv: "file<TAB>category" per line (a header line "file..." and
 * lines starting with '#' are skipped); paths relative to the file's
 * folder. */
static int load_labels(struct test_run *t, const char *path)
{
	char *data = NULL, *line, *next, *dir, *slash;
	size_t len;
	unsigned lineno = 0;

	if (read_file(path, 16 * 1024 * 1024, &data, &len) < 0) {
		fprintf(stderr, "peakq: cannot read labels '%s': %s\n", path,
			strerror(errno));
		return -1;
	}
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else {
		free(dir);
		dir = xstrdup(".");
	}
	for (line = data; *line; line = next) {
		char *tab, *cat, *end, *file, real[PATH_MAX];
		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = '\0';
		lineno++;
		if (!*line)
			continue;
		tab = strchr(line, '\t');
		if (line[0] == '#' ||
		    (lineno == 1 && strncmp(line, "file", 4) == 0))
			continue;
		if (!tab) {
			fprintf(stderr, "%s:%u: expected FILE<TAB>CATEGORY\n",
				path, lineno);
			continue;
		}
		*tab = '\0';
		cat = tab + 1;
		end = cat + strcspn(cat, "\t\r");
		*end = '\0';
		file = line[0] == '/' ? xstrdup(line)
				      : xasprintf("%s/%s", dir, line);
		if (!realpath(file, real)) {
			fprintf(stderr, "%s:%u: '%s': %s\n", path, lineno, file,
				strerror(errno));
			free(file);
			continue;
		}
		free(file);
		t->labels = xreallocarray(t->labels, t->nlabels + 1,
					  sizeof(*t->labels));
		t->labels[t->nlabels].path = xstrdup(real);
		t->labels[t->nlabels].category = xstrdup(cat);
		t->nlabels++;
	}
	free(dir);
	free(data);
	return 0;
}

static void print_confusion(const struct test_run *t, FILE *f)
{
	size_t n = t->ncats + 1;

	fprintf(f, "\naccuracy: %lu/%lu = %.1f%%", t->correct, t->labelled,
		t->labelled ? 100.0 * (double)t->correct / (double)t->labelled
			    : 0.0);
	if (t->unlabelled)
		fprintf(f, " (%lu message(s) without a label not counted)",
			t->unlabelled);
	fprintf(f, "\n\nconfusion matrix (rows: expected, columns: got)\n");
	fprintf(f, "%-16s", "");
	for (size_t j = 0; j < n; j++)
		fprintf(f, " %5.5s", j < t->ncats ? t->cats[j] : "other");
	fprintf(f, "  recall\n");
	for (size_t i = 0; i < n; i++) {
		unsigned long row = 0;
		for (size_t j = 0; j < n; j++)
			row += t->confusion[i * n + j];
		if (!row)
			continue;
		fprintf(f, "%-16s", i < t->ncats ? t->cats[i] : "other");
		for (size_t j = 0; j < n; j++)
			fprintf(f, " %5lu", t->confusion[i * n + j]);
		fprintf(f, "  %5.1f%%\n",
			100.0 * (double)t->confusion[i * n + i] / (double)row);
	}
	fprintf(f, "%-16s", "precision");
	for (size_t j = 0; j < n; j++) {
		unsigned long col = 0;
		for (size_t i = 0; i < n; i++)
			col += t->confusion[i * n + j];
		if (col)
			fprintf(f, " %4.0f%%",
				100.0 * (double)t->confusion[j * n + j] /
				    (double)col);
		else
			fprintf(f, " %5s", "-");
	}
	fputc('\n', f);
}

/* Load the rules from --rules DIR, else from the configuration. */
static int load_rules(struct cli *cli, const char *dir, struct ruleset **set_r)
{
	struct xerr err = {0};
	int r;

	if (!dir || cli->config_given) {
		/* own addresses come from the configuration */
		if ((r = cli_conf(cli)) && !dir)
			return r;
	}
	if (!dir)
		dir = cli->conf->rules_dir;
	if (rules_load_dir(dir, set_r, &err) < 0) {
		fprintf(stderr, "peakq: %s\n", err.msg);
		return 1;
	}
	return 0;
}

static void rules_usage(FILE *f)
{
	fputs("usage: peakq rules test [--rules DIR] [--json] [--labels "
	      "FILE.tsv]\n"
	      "                        [--assume-delivered] "
	      "FILE.eml|FILE.mbox|DIR...\n"
	      "       peakq rules check [--templates DIR] [DIR]\n"
	      "       peakq rules explain [--rules DIR] FILE.eml\n"
	      "\n"
	      "test     run each message through exactly what peakqd does "
	      "before storing\n"
	      "         it: parse, classify, decide whether to acknowledge. "
	      "Folders are\n"
	      "         searched for *.eml and *.mbox. With --json, one object "
	      "per message\n"
	      "         (fields in peakq(1)). With --labels (lines "
	      "FILE<TAB>CATEGORY),\n"
	      "         also the accuracy and a confusion matrix. With\n"
	      "         --assume-delivered, a message without Return-Path is "
	      "read as if\n"
	      "         delivered with its From as envelope sender (archives "
	      "lack the\n"
	      "         header; without it such mail is never acknowledged).\n"
	      "check    load the rules (DIR, or rules_dir of the "
	      "configuration); report\n"
	      "         errors as file:line:col, warn about rules that can "
	      "never decide\n"
	      "         and keywords written twice in one list, and check "
	      "their\n"
	      "         templates exist; exit 0 or 1.\n"
	      "explain  every rule in order: matched or not, and why.\n"
	      "\n"
	      "Rules are read from --rules DIR or the configuration's "
	      "rules_dir.\n",
	      f);
}

static void print_warning(const char *msg, void *ctx)
{
	(void)ctx;
	fprintf(stderr, "%s\n", msg);
}

static int template_exists(const char *name, void *ctx)
{
	const struct tmpl *t = tmpl_find(ctx, "en", name);

	return t && strcmp(tmpl_lang(t), "en") == 0;
}

static int cmd_check(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"templates", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *tdir = NULL;
	struct ruleset *set = NULL;
	struct tmpl_set *tmpls = NULL;
	struct xerr err = {0};
	int c, r;
	size_t warnings;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			tdir = optarg;
			break;
		case 'h':
			rules_usage(stdout);
			return 0;
		default:
			rules_usage(stderr);
			return 2;
		}
	}
	if (argc - optind > 1) {
		rules_usage(stderr);
		return 2;
	}
	if ((r = load_rules(cli, optind < argc ? argv[optind] : NULL, &set)))
		return r == EX_CONFIG ? r : 1;
	warnings = rules_lint(set, print_warning, NULL);
	if (!tdir && cli->conf)
		tdir = cli->conf->templates_dir;
	if (tdir) {
		if (tmpl_load_dir(tdir, &tmpls, &err) < 0 ||
		    rules_check_templates(set, template_exists, tmpls, &err) <
			0) {
			fprintf(stderr, "peakq: %s\n", err.msg);
			tmpl_free(&tmpls);
			rules_free(&set);
			return 1;
		}
	}
	printf("rules OK: %zu rule(s), %zu keyword(s), %zu warning(s)%s\n",
	       rules_count(set), rules_keywords(set), warnings,
	       tdir ? "" : " (templates not checked: no --templates)");
	tmpl_free(&tmpls);
	rules_free(&set);
	return 0;
}

static int cmd_explain(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"rules", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = NULL;
	struct ruleset *set = NULL;
	struct message *msg;
	struct rules_input in;
	char *raw = NULL;
	size_t len;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			dir = optarg;
			break;
		case 'h':
			rules_usage(stdout);
			return 0;
		default:
			rules_usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "peakq rules explain: give one message file\n");
		return 2;
	}
	if (read_file(argv[optind], PQ_MAX_MESSAGE_BYTES, &raw, &len) < 0) {
		fprintf(stderr, "peakq: cannot read '%s': %s\n", argv[optind],
			strerror(errno));
		return 1;
	}
	if ((r = load_rules(cli, dir, &set))) {
		free(raw);
		return r;
	}
	msg = mime_parse(raw, len);
	ingest_rules_input(msg, &in);
	printf("%s: subject \"%s\", language %s, from %s\n", argv[optind],
	       msg->subject ? msg->subject : "", msg->lang,
	       msg->from_addr ? msg->from_addr : "(none)");
	rules_explain(set, &in, stdout);
	message_free(&msg);
	rules_free(&set);
	free(raw);
	return 0;
}

static int cmd_test(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"rules", required_argument, NULL, 'r'},
	    {"json", no_argument, NULL, 'j'},
	    {"labels", required_argument, NULL, 'l'},
	    {"assume-delivered", no_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct test_run t = {0};
	struct ruleset *set = NULL;
	const char *dir = NULL, *labels = NULL;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			dir = optarg;
			break;
		case 'j':
			t.json = 1;
			break;
		case 'l':
			labels = optarg;
			break;
		case 'd':
			t.flags |= INGEST_ASSUME_DELIVERED;
			break;
		case 'h':
			rules_usage(stdout);
			return 0;
		default:
			rules_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr,
			"peakq rules test: give at least one .eml file, "
			"mbox or folder\n");
		return 2;
	}
	if ((r = load_rules(cli, dir, &set)))
		return r;
	t.conf = cli->conf;
	t.rules = set;
	if (labels) {
		if (load_labels(&t, labels) < 0) {
			rules_free(&set);
			return 1;
		}
		t.ncats = rules_categories(set, &t.cats);
		t.confusion = xcalloc((t.ncats + 1) * (t.ncats + 1),
				      sizeof(*t.confusion));
	}
	for (int i = optind; i < argc; i++)
		test_path(&t, argv[i], 0);
	fflush(stdout);
	if (labels)
		print_confusion(&t, t.json ? stderr : stdout);
	if (!t.json)
		fprintf(stderr, "%lu message(s) tested, %lu error(s)\n",
			t.files, t.errors);
	for (size_t i = 0; i < t.nlabels; i++) {
		free(t.labels[i].path);
		free(t.labels[i].category);
	}
	free(t.labels);
	free(t.confusion);
	rules_free(&set);
	return t.errors ? 1 : 0;
}

int cmd_rules(struct cli *cli, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		rules_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "test") == 0)
		return cmd_test(cli, argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(cli, argc - 1, argv + 1);
	if (strcmp(argv[1], "explain") == 0)
		return cmd_explain(cli, argc - 1, argv + 1);
	fprintf(stderr, "peakq rules: unknown command '%s'\n", argv[1]);
	rules_usage(stderr);
	return 2;
}
