/* cli_work: the agents' changes to cases: next, claim, assign, release,
 * note, status, resolve, reopen, escalate, tag, priority. Each is one
 * short BEGIN IMMEDIATE transaction in the store (which checks and
 * changes atomically and records the event); this file parses arguments,
 * reads note text and reports the outcome. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "notify.h"
#include "text.h"

#define NOTE_MAX (64 * 1024)
#define REASON_MAX 1000

struct work {
	struct cli *cli;
	const char *cmd;   /* "claim" */
	const char *actor; /* who acts */
	int64_t id;
	int force;
	struct store *st;
	struct xerr err;
};

/* Open the store and begin; 0 or an exit code (message printed). */
static int work_begin(struct work *w)
{
	int r;

	if ((r = cli_store(w->cli, 1, &w->st)))
		return r;
	if (store_begin(w->st, &w->err) < 0)
		return cli_store_error(&w->err);
	return 0;
}

/* Commit (ok) or roll back; 0 or an exit code. */
static int work_end(struct work *w, int ok)
{
	if (!ok) {
		store_rollback(w->st);
		return cli_store_error(&w->err);
	}
	if (store_commit(w->st, &w->err) < 0)
		return cli_store_error(&w->err);
	return 0;
}

/* The refusals every change shares; -1 when r is not one of them. */
static int work_refused(const struct work *w, const struct store_act_result *r)
{
	switch (r->act) {
	case STORE_ACT_NO_CASE:
		fprintf(stderr, "peakq %s: no case %lld\n", w->cmd,
			(long long)w->id);
		return 1;
	case STORE_ACT_TAKEN:
		fprintf(stderr,
			"peakq %s: case %lld is claimed by %s (--force to "
			"take it over; it is logged)\n",
			w->cmd, (long long)w->id, r->owner ? r->owner : "?");
		return 1;
	case STORE_ACT_RESOLVED:
		fprintf(stderr,
			"peakq %s: case %lld is resolved (peakq reopen %lld "
			"first)\n",
			w->cmd, (long long)w->id, (long long)w->id);
		return 1;
	default:
		return -1;
	}
}

static void work_usage(FILE *f, const char *usage, const char *help)
{
	fprintf(f, "usage: peakq %s\n\n%s", usage, help);
}

/* Parse [--force] [--help] and the case number (plus nargs more
 * arguments, left in w and argv[optind + 1 ...]). 0 to go on, or an exit
 * code (-1 for 0 after --help). */
static int work_args(struct work *w, int argc, char **argv, int nargs,
		     int allow_force, const char *usage, const char *help,
		     const struct option *extra, int (*on_extra)(int, void *),
		     void *ctx)
{
	struct option opts[16];
	size_t n = 0;
	int ch;

	opts[n++] = (struct option){"help", no_argument, NULL, 'h'};
	if (allow_force)
		opts[n++] = (struct option){"force", no_argument, NULL, 'f'};
	for (; extra && extra->name && n < 14; extra++)
		opts[n++] = *extra;
	opts[n] = (struct option){NULL, 0, NULL, 0};
	optind = 1;
	/* A note's words may start with '-': options come before N. */
	while ((ch = getopt_long(argc, argv, nargs < 0 ? "+h" : "h", opts,
				 NULL)) != -1) {
		if (ch == 'h') {
			work_usage(stdout, usage, help);
			return -1;
		} else if (ch == 'f') {
			w->force = 1;
		} else if (on_extra && ch != '?' && on_extra(ch, ctx) == 0) {
			continue;
		} else {
			work_usage(stderr, usage, help);
			return 2;
		}
	}
	if (nargs >= 0 ? argc - optind != 1 + nargs : argc - optind < 1) {
		work_usage(stderr, usage, help);
		return 2;
	}
	if (cli_case_id(argv[optind], &w->id) < 0)
		return 2;
	if (!(w->actor = cli_actor()))
		return 2;
	return 0;
}

static int work_init(struct work *w, struct cli *cli, const char *cmd)
{
	memset(w, 0, sizeof(*w));
	w->cli = cli;
	w->cmd = cmd;
	return 0;
}

static void work_free(struct work *w)
{
	store_close(&w->st);
}

/* ---------------------------------------------------------------- claim */

static int do_claim(struct cli *cli, int argc, char **argv, int assign)
{
	static const char claim_help[] =
	    "Take case N: it becomes yours and open. Refused when another "
	    "agent has\n"
	    "it; --force takes it over (logged in the case's events).\n"
	    "\n"
	    "  --force  take the case from its current owner\n";
	static const char assign_help[] =
	    "Give case N to AGENT (a supervisor's move). Refused when another "
	    "agent\n"
	    "has it; --force reassigns it (logged).\n"
	    "\n"
	    "  --force  take the case from its current owner\n";
	struct work w;
	struct store_act_result r = {0};
	const char *agent;
	int ret;

	work_init(&w, cli, assign ? "assign" : "claim");
	ret =
	    work_args(&w, argc, argv, assign ? 1 : 0, 1,
		      assign ? "assign [--force] N AGENT" : "claim [--force] N",
		      assign ? assign_help : claim_help, NULL, NULL, NULL);
	if (ret)
		return ret < 0 ? 0 : ret;
	agent = assign ? argv[optind + 1] : w.actor;
	if (assign && !cli_name_ok(agent)) {
		fprintf(stderr, "peakq assign: '%s' is not an agent name\n",
			agent);
		return 2;
	}
	if ((ret = work_begin(&w)))
		goto out;
	int ok = store_case_claim(w.st, w.id, agent, w.actor, w.force, now_s(),
				  &r, &w.err) == 0;
	if ((ret = work_end(&w, ok)))
		goto out;
	if ((ret = work_refused(&w, &r)) >= 0)
		goto out;
	ret = 0;
	if (r.act == STORE_ACT_UNCHANGED)
		printf("case %lld is already %s\n", (long long)w.id,
		       assign ? "theirs" : "yours");
	else if (r.owner)
		printf("case %lld: %s now (taken over from %s)\n",
		       (long long)w.id, agent, r.owner);
	else
		printf("case %lld: %s now\n", (long long)w.id,
		       assign ? agent : "yours");
out:
	store_act_result_release(&r);
	work_free(&w);
	return ret;
}

static int cmd_claim(struct cli *cli, int argc, char **argv)
{
	return do_claim(cli, argc, argv, 0);
}

static int cmd_assign(struct cli *cli, int argc, char **argv)
{
	return do_claim(cli, argc, argv, 1);
}

static int cmd_release(struct cli *cli, int argc, char **argv)
{
	struct work w;
	struct store_act_result r = {0};
	int ret;

	work_init(&w, cli, "release");
	ret = work_args(&w, argc, argv, 0, 1, "release [--force] N",
			"Give case N back to the queue (unclaimed) for "
			"another agent to take.\n"
			"Only its owner may, unless --force (logged).\n",
			NULL, NULL, NULL);
	if (ret)
		return ret < 0 ? 0 : ret;
	if ((ret = work_begin(&w)))
		goto out;
	int ok = store_case_unassign(w.st, w.id, w.actor, w.force, now_s(), &r,
				     &w.err) == 0;
	if ((ret = work_end(&w, ok)) || (ret = work_refused(&w, &r)) >= 0)
		goto out;
	ret = 0;
	if (r.act == STORE_ACT_UNCHANGED)
		printf("case %lld is not claimed\n", (long long)w.id);
	else
		printf("case %lld released\n", (long long)w.id);
out:
	store_act_result_release(&r);
	work_free(&w);
	return ret;
}

/* ---------------------------------------------------------------- next */

static int cmd_next(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    CLI_FILTER_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct store_filter flt = {0};
	struct work w;
	int64_t id = 0;
	int ch, json = 0, ret, got;

	work_init(&w, cli, "next");
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'j') {
			json = 1;
		} else if (ch == 'h') {
			printf("usage: peakq next [--json] [FILTERS]\n\n"
			       "Claim the most urgent unclaimed case (new or "
			       "open; escalated and\n"
			       "overdue first, then priority, then due time) "
			       "and show it. Two agents\n"
			       "running next at once always get different "
			       "cases. Exit 1 when there is\n"
			       "none.\n\n"
			       "  --json               the case as peakq show "
			       "--json prints it\n%s",
			       cli_filter_help);
			return 0;
		} else if (ch >= CLI_OPT_FIRST && ch != CLI_OPT_UNASSIGNED &&
			   ch != CLI_OPT_ASSIGNEE && ch != CLI_OPT_ALL) {
			if (cli_filter_opt(ch, optarg, &flt, "next") < 0)
				return 2;
		} else {
			fprintf(stderr,
				"usage: peakq next [--json] [FILTERS] (peakq "
				"next --help)\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: peakq next [--json] [FILTERS]\n");
		return 2;
	}
	if (flt.status && strcmp(flt.status, "new") &&
	    strcmp(flt.status, "open")) {
		fprintf(stderr, "peakq next: only new or open cases can be "
				"taken\n");
		return 2;
	}
	if (!(w.actor = cli_actor()))
		return 2;
	if ((ret = work_begin(&w)))
		goto out;
	got = store_case_next(w.st, &flt, w.actor, now_s(), &id, &w.err);
	if ((ret = work_end(&w, got >= 0)))
		goto out;
	if (got == 0) {
		fprintf(stderr, "peakq next: no unclaimed case%s\n",
			flt.category || flt.priority || flt.status ||
				flt.overdue || flt.due_before || flt.mailbox ||
				flt.since || flt.escalated
			    ? " matches"
			    : " in the queue");
		ret = 1;
		goto out;
	}
	if (!json)
		printf("You have case %lld now.\n\n", (long long)id);
	if (cli_show_case(w.st, id, json, stdout, &w.err) < 0)
		ret = cli_store_error(&w.err);
out:
	work_free(&w);
	return ret;
}

/* ---------------------------------------------------------------- note */

/* Read all of fd into b (max NOTE_MAX); 0 or -1 (too long / error). */
static int read_all(FILE *in, struct buf *b)
{
	char chunk[4096];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
		if (buf_add(b, chunk, n) < 0)
			return -1;
	return ferror(in) ? -1 : 0;
}

/* Note text from the editor: lines starting with '#' are dropped. */
static int note_from_editor(int64_t id, struct buf *b)
{
	char path[] = "/tmp/peakq-note-XXXXXX";
	int fd = mkstemp(path), ret = -1;
	FILE *f;

	if (fd < 0)
		return -1;
	f = fdopen(fd, "w+");
	if (!f) {
		close(fd);
		unlink(path);
		return -1;
	}
	fprintf(f,
		"\n# Note on case %lld, shared with every agent. Lines "
		"starting\n# with '#' are dropped; an empty note is not "
		"saved.\n",
		(long long)id);
	fflush(f);
	if (cli_edit(path) < 0) {
		fprintf(stderr, "peakq note: the editor failed; nothing "
				"saved\n");
		goto out;
	}
	FILE *in = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	if (!in)
		goto out;
	ret = 0;
	while ((len = getline(&line, &cap, in)) >= 0)
		if (line[0] != '#' && buf_add(b, line, (size_t)len) < 0) {
			ret = -1;
			break;
		}
	free(line);
	fclose(in);
out:
	fclose(f);
	unlink(path);
	return ret;
}

/* Trim white space at both ends; make valid UTF-8 without controls other
 * than newline and tab. Owned result, NULL when empty. */
static char *clean_text(const char *s, size_t n)
{
	struct buf b;
	char *out;

	while (n && strchr(" \t\r\n", s[0])) {
		s++;
		n--;
	}
	while (n && strchr(" \t\r\n", s[n - 1]))
		n--;
	if (!n)
		return NULL;
	buf_init(&b, 3 * n + 16);
	if (text_utf8_repair(s, n, &b) < 0)
		buf_truncate(&b, b.len);
	out = buf_detach(&b, NULL);
	for (char *p = out; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t') ||
		    *p == 0x7f)
			*p = ' ';
	return out;
}

static int edit_extra(int ch, void *ctx)
{
	if (ch != 'e')
		return -1;
	*(int *)ctx = 1;
	return 0;
}

static int cmd_note(struct cli *cli, int argc, char **argv)
{
	struct work w;
	struct store_act_result r = {0};
	struct buf b;
	char *text = NULL;
	int ret;

	static const struct option extra[] = {
	    {"edit", no_argument, NULL, 'e'},
	    {NULL, 0, NULL, 0},
	};
	int edit = 0;

	work_init(&w, cli, "note");
	ret = work_args(&w, argc, argv, -1, 0, "note [--edit] N [TEXT...]",
			"Add a note to case N, shared with every agent and "
			"shown by peakq show.\n"
			"The text is the arguments; or standard input when it "
			"is not a terminal\n"
			"(or TEXT is '-'); or else what you write in $VISUAL "
			"or $EDITOR.\n"
			"\n"
			"  --edit  use the editor even when standard input is "
			"not a terminal\n",
			extra, edit_extra, &edit);
	if (ret)
		return ret < 0 ? 0 : ret;
	buf_init(&b, NOTE_MAX);
	if (argc - optind > 1 && strcmp(argv[optind + 1], "-") != 0) {
		for (int i = optind + 1; i < argc; i++)
			if ((i > optind + 1 && buf_addc(&b, ' ') < 0) ||
			    buf_adds(&b, argv[i]) < 0)
				goto too_long;
	} else if (argc - optind > 1 || (!edit && !isatty(STDIN_FILENO))) {
		if (read_all(stdin, &b) < 0)
			goto too_long;
	} else if (note_from_editor(w.id, &b) < 0) {
		ret = 1;
		goto out;
	}
	if (!(text = clean_text(buf_str(&b), b.len))) {
		fprintf(stderr, "peakq note: empty note; nothing saved\n");
		ret = 1;
		goto out;
	}
	if ((ret = work_begin(&w)))
		goto out;
	int ok =
	    store_note_add(w.st, w.id, w.actor, text, now_s(), &r, &w.err) == 0;
	if ((ret = work_end(&w, ok)) || (ret = work_refused(&w, &r)) >= 0)
		goto out;
	printf("note %lld added to case %lld\n", (long long)r.id,
	       (long long)w.id);
	ret = 0;
	goto out;
too_long:
	fprintf(stderr, "peakq note: a note holds at most %d KiB\n",
		NOTE_MAX / 1024);
	ret = 2;
out:
	free(text);
	buf_release(&b);
	store_act_result_release(&r);
	work_free(&w);
	return ret;
}

/* ---------------------------------------------------------------- status */

struct status_opts {
	const char *note;
};

static int status_extra(int ch, void *ctx)
{
	struct status_opts *so = ctx;

	if (ch != 'n')
		return -1;
	so->note = optarg;
	return 0;
}

/* Change status (and add the note, in the same transaction). */
static int set_status(struct work *w, const char *status, int reopen,
		      const char *note)
{
	struct store_act_result r = {0}, nr = {0};
	char *text = note ? clean_text(note, strlen(note)) : NULL;
	int64_t now = now_s();
	int ret, ok;

	if ((ret = work_begin(w)))
		goto out;
	ok = store_case_set_status(w->st, w->id, status, reopen, w->actor,
				   w->force, now, &r, &w->err) == 0;
	if (ok && text &&
	    (r.act == STORE_ACT_DONE || r.act == STORE_ACT_UNCHANGED))
		ok = store_note_add(w->st, w->id, w->actor, text, now, &nr,
				    &w->err) == 0;
	if (ok && r.act != STORE_ACT_DONE && r.act != STORE_ACT_UNCHANGED) {
		store_rollback(w->st);
		ret = work_refused(w, &r);
		goto out;
	}
	if ((ret = work_end(w, ok)) || (ret = work_refused(w, &r)) >= 0)
		goto out;
	ret = 0;
	if (r.act == STORE_ACT_UNCHANGED)
		printf("case %lld is already %s%s\n", (long long)w->id, status,
		       text ? " (note added)" : "");
	else
		printf("case %lld: %s -> %s%s\n", (long long)w->id, r.before,
		       status, text ? " (note added)" : "");
out:
	free(text);
	store_act_result_release(&r);
	store_act_result_release(&nr);
	return ret;
}

static const struct option note_opt[] = {
    {"note", required_argument, NULL, 'n'},
    {NULL, 0, NULL, 0},
};

/* status, resolve and reopen: fixed is the status the command sets, or
 * NULL when it is the argument after N. */
static int status_cmd(struct cli *cli, int argc, char **argv, const char *cmd,
		      const char *fixed, int reopen, const char *usage,
		      const char *help)
{
	struct status_opts so = {0};
	struct work w;
	const char *status = fixed;
	int ret;

	work_init(&w, cli, cmd);
	ret = work_args(&w, argc, argv, fixed ? 0 : 1, 1, usage, help, note_opt,
			status_extra, &so);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (!fixed) {
		status = argv[optind + 1];
		if (strcmp(status, "open") && strcmp(status, "pending") &&
		    strcmp(status, "resolved")) {
			fprintf(stderr,
				"peakq status: '%s' is not open, pending or "
				"resolved\n",
				status);
			return 2;
		}
	}
	ret = set_status(&w, status, reopen, so.note);
	work_free(&w);
	return ret;
}

static int cmd_set_status(struct cli *cli, int argc, char **argv)
{
	return status_cmd(
	    cli, argc, argv, "status", NULL, 0,
	    "status [--force] [--note TEXT] N open|pending|resolved",
	    "Set case N's status: open (being worked), pending (answered, "
	    "waiting for\n"
	    "the customer) or resolved. An unclaimed case becomes yours; a "
	    "case of\n"
	    "another agent needs --force (logged). The first pending or "
	    "resolved is\n"
	    "the case's first reply for the SLA report.\n"
	    "\n"
	    "  --note TEXT  add a note in the same step\n"
	    "  --force      change a case another agent has\n");
}

static int cmd_resolve(struct cli *cli, int argc, char **argv)
{
	return status_cmd(cli, argc, argv, "resolve", "resolved", 0,
			  "resolve [--force] [--note TEXT] N",
			  "Mark case N resolved (peakq status N resolved). A "
			  "customer writing\n"
			  "again reopens it.\n"
			  "\n"
			  "  --note TEXT  add a note in the same step\n"
			  "  --force      resolve a case another agent has\n");
}

static int cmd_reopen(struct cli *cli, int argc, char **argv)
{
	return status_cmd(cli, argc, argv, "reopen", "open", 1,
			  "reopen [--force] [--note TEXT] N",
			  "Reopen case N: open again for its owner, or new "
			  "(in the queue) when\n"
			  "nobody has it.\n"
			  "\n"
			  "  --note TEXT  add a note in the same step\n"
			  "  --force      reopen a case another agent has\n");
}

/* ---------------------------------------------------------------- escalate */

struct esc_opts {
	const char *reason;
	int clear;
};

static int esc_extra(int ch, void *ctx)
{
	struct esc_opts *eo = ctx;

	if (ch == 'r')
		eo->reason = optarg;
	else if (ch == 'c')
		eo->clear = 1;
	else
		return -1;
	return 0;
}

static int cmd_escalate(struct cli *cli, int argc, char **argv)
{
	static const struct option extra[] = {
	    {"reason", required_argument, NULL, 'r'},
	    {"clear", no_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	struct esc_opts eo = {0};
	struct store_act_result r = {0};
	struct work w;
	char *reason = NULL;
	int ret;

	work_init(&w, cli, "escalate");
	ret = work_args(&w, argc, argv, 0, 0,
			"escalate N --reason TEXT | escalate N --clear",
			"Escalate case N to the supervisors: it moves to the "
			"top of the queue\n"
			"and into peakq list --escalated, with the reason.\n"
			"\n"
			"  --reason TEXT  why (required)\n"
			"  --clear        a supervisor takes the escalation "
			"back\n",
			extra, esc_extra, &eo);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (!eo.clear &&
	    !(reason = eo.reason ? clean_text(eo.reason, strlen(eo.reason))
				 : NULL)) {
		fprintf(stderr, "peakq escalate: say why: --reason TEXT\n");
		return 2;
	}
	if (reason && strlen(reason) > REASON_MAX) {
		fprintf(stderr, "peakq escalate: the reason is too long "
				"(1000 bytes at most; add a note)\n");
		free(reason);
		return 2;
	}
	if ((ret = work_begin(&w)))
		goto out;
	int64_t now = now_s();
	int told = 0;
	int ok = store_case_escalate(w.st, w.id, reason, w.actor, now, &r,
				     &w.err) == 0;
	/* The supervisors' mail is queued in the same transaction: the
	 * escalation and its notice exist together or not at all. */
	if (ok && reason && r.act == STORE_ACT_DONE)
		ok = notify_escalation(w.st, cli->conf, w.id, reason, w.actor,
				       now, &told, &w.err) == 0;
	if ((ret = work_end(&w, ok)) || (ret = work_refused(&w, &r)) >= 0)
		goto out;
	ret = 0;
	if (r.act == STORE_ACT_UNCHANGED)
		printf("case %lld is %s escalated%s\n", (long long)w.id,
		       reason ? "already" : "not",
		       reason ? " (add to it with peakq note)" : "");
	else if (reason && told)
		printf("case %lld escalated; %d supervisor(s) will be told by "
		       "mail\n",
		       (long long)w.id, told);
	else
		printf("case %lld %s\n", (long long)w.id,
		       reason ? "escalated (no escalate_to: in the "
				"configuration, so nobody is told by mail)"
			      : "no longer escalated");
out:
	free(reason);
	store_act_result_release(&r);
	work_free(&w);
	return ret;
}

/* ---------------------------------------------------------------- tag */

/* A tag is a name that can also sit in a CSV cell and a JSON list. */
static int tag_ok(const char *t)
{
	return cli_name_ok(t) && !strpbrk(t, ",\"");
}

static int cmd_tag(struct cli *cli, int argc, char **argv)
{
	struct store_act_result r = {0};
	struct buf add, rm;
	struct work w;
	int ret;

	work_init(&w, cli, "tag");
	/* "-tag" looks like an option to getopt: stop at the case number. */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			work_usage(stdout, "tag N +TAG|-TAG...",
				   "Add (+TAG, or TAG) and remove (-TAG) tags "
				   "on case N. Tags are words\n"
				   "without spaces; peakq list --json shows "
				   "them.\n");
			return 0;
		}
	if (argc < 3) {
		work_usage(stderr, "tag N +TAG|-TAG...", "");
		return 2;
	}
	if (cli_case_id(argv[1], &w.id) < 0)
		return 2;
	if (!(w.actor = cli_actor()))
		return 2;
	buf_init(&add, 1 << 14);
	buf_init(&rm, 1 << 14);
	for (int i = 2; i < argc; i++) {
		const char *t = argv[i];
		struct buf *b = &add;
		if (*t == '+' || *t == '-') {
			b = *t == '-' ? &rm : &add;
			t++;
		}
		if (!tag_ok(t)) {
			fprintf(stderr,
				"peakq tag: '%s' is not a tag (a word of "
				"1-64 characters)\n",
				argv[i]);
			ret = 2;
			goto out;
		}
		if ((b->len && buf_addc(b, ' ') < 0) || buf_adds(b, t) < 0) {
			fprintf(stderr, "peakq tag: too many tags\n");
			ret = 2;
			goto out;
		}
	}
	if ((ret = work_begin(&w)))
		goto out;
	int ok = store_case_tag(w.st, w.id, add.len ? buf_str(&add) : NULL,
				rm.len ? buf_str(&rm) : NULL, w.actor, now_s(),
				&r, &w.err) == 0;
	if ((ret = work_end(&w, ok)) || (ret = work_refused(&w, &r)) >= 0)
		goto out;
	ret = 0;
	printf("case %lld: tags %s\n", (long long)w.id,
	       r.act == STORE_ACT_UNCHANGED ? "unchanged" : "changed");
out:
	buf_release(&add);
	buf_release(&rm);
	store_act_result_release(&r);
	work_free(&w);
	return ret;
}

/* ---------------------------------------------------------------- priority */

static int cmd_priority(struct cli *cli, int argc, char **argv)
{
	struct store_act_result r = {0};
	struct work w;
	const char *p;
	int ret;

	work_init(&w, cli, "priority");
	ret =
	    work_args(&w, argc, argv, 1, 0, "priority N urgent|high|normal|low",
		      "Set case N's priority (the queue's order after "
		      "escalation and\n"
		      "overdue).\n",
		      NULL, NULL, NULL);
	if (ret)
		return ret < 0 ? 0 : ret;
	p = argv[optind + 1];
	if (strcmp(p, "urgent") && strcmp(p, "high") && strcmp(p, "normal") &&
	    strcmp(p, "low")) {
		fprintf(stderr,
			"peakq priority: '%s' is not urgent, high, normal or "
			"low\n",
			p);
		return 2;
	}
	if ((ret = work_begin(&w)))
		goto out;
	int ok = store_case_set_priority(w.st, w.id, p, w.actor, now_s(), &r,
					 &w.err) == 0;
	if ((ret = work_end(&w, ok)) || (ret = work_refused(&w, &r)) >= 0)
		goto out;
	ret = 0;
	if (r.act == STORE_ACT_UNCHANGED)
		printf("case %lld is already %s\n", (long long)w.id, p);
	else
		printf("case %lld: %s -> %s\n", (long long)w.id, r.before, p);
out:
	store_act_result_release(&r);
	work_free(&w);
	return ret;
}

/* ---------------------------------------------------------------- dispatch */

static const struct {
	const char *name;
	int (*fn)(struct cli *, int, char **);
} work_cmds[] = {
    {"next", cmd_next},		{"claim", cmd_claim},
    {"assign", cmd_assign},	{"release", cmd_release},
    {"note", cmd_note},		{"status", cmd_set_status},
    {"resolve", cmd_resolve},	{"reopen", cmd_reopen},
    {"escalate", cmd_escalate}, {"tag", cmd_tag},
    {"priority", cmd_priority},
};

int cmd_work(struct cli *cli, int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(work_cmds) / sizeof(*work_cmds); i++)
		if (strcmp(argv[0], work_cmds[i].name) == 0)
			return work_cmds[i].fn(cli, argc, argv);
	return -1;
}
