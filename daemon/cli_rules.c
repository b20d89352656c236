/* cli_rules: `peakq rules test` (the daemon's parse -> classify -> may-we-
 * acknowledge path, run on files) and `peakq rules check`. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "bounds.h"
#include "cli.h"
#include "ingest.h"
#include "rules.h"

struct test_run {
	const struct conf *conf;
	const struct ruleset *rules;
	int json;
	unsigned long files, errors;
};

static void test_one(struct test_run *t, const char *path)
{
	struct ingest_decision d;
	char *raw = NULL;
	size_t len;

	if (read_file(path, PQ_MAX_MESSAGE_BYTES, &raw, &len) < 0) {
		fprintf(stderr, "peakq: cannot read '%s': %s\n", path,
			strerror(errno));
		t->errors++;
		return;
	}
	t->files++;
	ingest_decide(t->conf, t->rules, raw, len, &d);
	if (t->json) {
		int first = 1;
		fputc('{', stdout);
		json_kv_str(stdout, &first, "file", path);
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
			json_str(stdout, d.verdict.matched[i]);
		}
		fputc(']', stdout);
		json_kv_str(stdout, &first, "parse_error", d.msg->parse_error);
		fputs("}\n", stdout);
	} else {
		printf("%s: %s (priority %s, %dh, rule %s%s)", path,
		       d.verdict.category, d.verdict.priority,
		       d.verdict.sla_hours, d.verdict.rule,
		       d.verdict.escalate ? ", escalate" : "");
		if (d.verdict.nmatched) {
			printf(" matched:");
			for (size_t i = 0; i < d.verdict.nmatched; i++)
				printf(" \"%s\"", d.verdict.matched[i]);
		}
		printf("; lang %s", d.msg->lang);
		if (d.msg->norder_ids)
			printf("; order %s", d.msg->order_ids[0]);
		if (d.ack)
			printf("; ack to %s\n", d.rcpt);
		else
			printf("; no ack (%s)\n", d.suppressed);
	}
	ingest_decision_release(&d);
	free(raw);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_path(struct test_run *t, const char *path, int depth)
{
	struct stat sb;
	DIR *dir;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;

	if (stat(path, &sb) < 0) {
		fprintf(stderr, "peakq: '%s': %s\n", path, strerror(errno));
		t->errors++;
		return;
	}
	if (!S_ISDIR(sb.st_mode)) {
		test_one(t, path);
		return;
	}
	if (depth > 8 || !(dir = opendir(path))) {
		fprintf(stderr, "peakq: cannot read directory '%s'\n", path);
		t->errors++;
		return;
	}
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		size_t pl = strlen(path);
		while (pl > 1 && path[pl - 1] == '/')
			pl--;
		names[n++] = xasprintf("%.*s/%s", (int)pl, path, de->d_name);
	}
	closedir(dir);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]);
		if (stat(names[i], &sb) == 0 &&
		    (S_ISDIR(sb.st_mode) ||
		     (l > 4 && strcmp(names[i] + l - 4, ".eml") == 0)))
			test_path(t, names[i], depth + 1);
		free(names[i]);
	}
	free(names);
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
	fputs("usage: peakq rules test [--rules DIR] [--json] FILE.eml|DIR...\n"
	      "       peakq rules check [DIR]\n"
	      "\n"
	      "test   run each message through exactly what peakqd does "
	      "before storing\n"
	      "       it: parse, classify, decide whether to acknowledge. "
	      "With --json, one\n"
	      "       object per message: file, category, priority, "
	      "sla_hours, escalate,\n"
	      "       template, lang, order_ids, ack, suppressed, rcpt, "
	      "rule, matched,\n"
	      "       parse_error. Directories are searched for *.eml "
	      "files.\n"
	      "check  load the rules (DIR, or rules_dir of the "
	      "configuration) and report\n"
	      "       the first error as file:line:col; exit 0 or 1.\n",
	      f);
}

int cmd_rules(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"rules", required_argument, NULL, 'r'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct test_run t = {0};
	struct ruleset *set = NULL;
	const char *dir = NULL;
	int c, r;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		rules_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "check") == 0) {
		if (argc > 3) {
			rules_usage(stderr);
			return 2;
		}
		if ((r = load_rules(cli, argc == 3 ? argv[2] : NULL, &set)))
			return r == EX_CONFIG ? r : 1;
		printf("rules OK: %zu rule(s)\n", rules_count(set));
		rules_free(&set);
		return 0;
	}
	if (strcmp(argv[1], "test") != 0) {
		fprintf(stderr, "peakq rules: unknown command '%s'\n", argv[1]);
		rules_usage(stderr);
		return 2;
	}
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			dir = optarg;
			break;
		case 'j':
			t.json = 1;
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
		fprintf(stderr, "peakq rules test: give at least one .eml file "
				"or directory\n");
		return 2;
	}
	if ((r = load_rules(cli, dir, &set)))
		return r;
	t.conf = cli->conf;
	t.rules = set;
	for (int i = optind; i < argc; i++)
		test_path(&t, argv[i], 0);
	rules_free(&set);
	fflush(stdout);
	if (!t.json)
		fprintf(stderr, "%lu message(s) tested, %lu error(s)\n",
			t.files, t.errors);
	return t.errors ? 1 : 0;
}
