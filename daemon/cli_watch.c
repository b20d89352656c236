/* cli_watch: `peakq watch` — a live view of the queue for a wall screen or
 * a terminal corner: counts by status and category, then the most urgent
 * cases, redrawn every few seconds. Read-only; each frame is one short
 * read of the store, so it never holds the agents up. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define MAX_CATS 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct cat_row {
	char name[40];
	long long by_status[3]; /* new, open, pending */
	long long overdue, escalated;
};

struct stats {
	struct cat_row cats[MAX_CATS];
	size_t ncats;
	long long by_status[3], overdue, escalated, unassigned;
};

static int stat_cb(const struct store_queue_row *q, void *ctx)
{
	struct stats *s = ctx;
	int k = strcmp(q->status, "new") == 0	 ? 0
		: strcmp(q->status, "open") == 0 ? 1
						 : 2;
	size_t i;

	for (i = 0; i < s->ncats && strcmp(s->cats[i].name, q->category); i++)
		;
	if (i == s->ncats) {
		if (s->ncats == MAX_CATS)
			i = MAX_CATS - 1; /* fold the rest into the last */
		else
			snprintf(s->cats[s->ncats++].name,
				 sizeof(s->cats[0].name), "%s", q->category);
	}
	s->cats[i].by_status[k] += q->n;
	s->cats[i].overdue += q->overdue;
	s->cats[i].escalated += q->escalated;
	s->by_status[k] += q->n;
	s->overdue += q->overdue;
	s->escalated += q->escalated;
	s->unassigned += k < 2 ? q->unassigned : 0;
	return 0;
}

static int term_rows(void)
{
	struct winsize ws;
	const char *l = getenv("LINES");
	long long v;

	if (l && parse_ll(l, 5, 1000, &v) == 0)
		return (int)v;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row >= 5)
		return ws.ws_row;
	return 24;
}

/* The queue's counts at now, and the cases resolved since local
 * midnight. */
static int load_stats(struct store *st, int64_t now, struct stats *s,
		      long long *resolved_r, struct xerr *err)
{
	time_t tt = (time_t)now;
	struct tm tm;

	memset(s, 0, sizeof(*s));
	localtime_r(&tt, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return store_queue_stats(st, now, (int64_t)mktime(&tm), stat_cb, s,
				 resolved_r, err);
}

/* The counts as one JSON object (for monitoring scripts). */
static int counts_json(struct store *st, struct xerr *err)
{
	struct stats s;
	int64_t now = now_s();
	long long resolved = 0;
	int first = 1;

	if (load_stats(st, now, &s, &resolved, err) < 0)
		return -1;
	fputs("{", stdout);
	json_kv_time(stdout, &first, "at", now);
	json_kv_int(stdout, &first, "new", s.by_status[0]);
	json_kv_int(stdout, &first, "open", s.by_status[1]);
	json_kv_int(stdout, &first, "pending", s.by_status[2]);
	json_kv_int(stdout, &first, "overdue", s.overdue);
	json_kv_int(stdout, &first, "escalated", s.escalated);
	json_kv_int(stdout, &first, "unassigned", s.unassigned);
	json_kv_int(stdout, &first, "resolved_today", resolved);
	json_key(stdout, &first, "categories");
	fputs("[", stdout);
	for (size_t i = 0; i < s.ncats; i++) {
		int f2 = 1;
		fputs(i ? ",\n  {" : "\n  {", stdout);
		json_kv_str(stdout, &f2, "category", s.cats[i].name);
		json_kv_int(stdout, &f2, "new", s.cats[i].by_status[0]);
		json_kv_int(stdout, &f2, "open", s.cats[i].by_status[1]);
		json_kv_int(stdout, &f2, "pending", s.cats[i].by_status[2]);
		json_kv_int(stdout, &f2, "overdue", s.cats[i].overdue);
		json_kv_int(stdout, &f2, "escalated", s.cats[i].escalated);
		fputs("}", stdout);
	}
	fputs("]}\n", stdout);
	return 0;
}

/* One frame into f. 0, or -1 with err. */
static int frame(FILE *f, struct cli *cli, struct store *st,
		 const struct store_filter *flt, int interval, int color,
		 struct xerr *err)
{
	struct stats s;
	int64_t now = now_s();
	time_t tt = (time_t)now;
	struct tm tm;
	char when[32];
	long long resolved = 0;
	int rows = term_rows(), used;

	if (load_stats(st, now, &s, &resolved, err) < 0)
		return -1;
	localtime_r(&tt, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(f, "peakq watch  %s  %s", cli->conf->team_name, when);
	if (interval)
		fprintf(f, "  (every %ds; Ctrl-C to quit)", interval);
	fputs("\n\n", f);
	fprintf(f,
		"new %lld   open %lld   pending %lld   %soverdue %lld%s   "
		"escalated %lld   unassigned %lld   resolved today %lld\n\n",
		s.by_status[0], s.by_status[1], s.by_status[2],
		color && s.overdue ? "\033[31m" : "", s.overdue,
		color && s.overdue ? "\033[0m" : "", s.escalated, s.unassigned,
		resolved);
	cli_cell(f, "CATEGORY", 16);
	fputs("    NEW   OPEN PENDING OVERDUE ESCAL.\n", f);
	for (size_t i = 0; i < s.ncats; i++) {
		cli_cell(f, s.cats[i].name, 16);
		fprintf(f, " %6lld %6lld %7lld %7lld %6lld\n",
			s.cats[i].by_status[0], s.cats[i].by_status[1],
			s.cats[i].by_status[2], s.cats[i].overdue,
			s.cats[i].escalated);
	}
	if (!s.ncats)
		fputs("(the queue is empty)\n", f);
	fputc('\n', f);
	used = 6 + (int)(s.ncats ? s.ncats : 1) + 1;
	struct store_filter g = *flt;
	g.workable = 1; /* what needs someone: new and open */
	g.limit = rows - used - 1 > 3 ? (size_t)(rows - used - 1) : 3;
	return cli_list_table(f, st, &g, now, 0, color, NULL, err);
}

static void watch_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: peakq watch [--interval TIME] [--once] [FILTERS]\n"
	    "\n"
	    "A live view of the queue for a wall screen: counts by status "
	    "and category,\n"
	    "overdue, escalated and unassigned cases, then the most urgent "
	    "new and open\n"
	    "cases in working order, redrawn every few seconds. Ctrl-C "
	    "quits.\n"
	    "\n"
	    "  --interval TIME      redraw every TIME (default 5s, at least "
	    "1s)\n"
	    "  --once               print one frame and exit (no screen "
	    "clearing)\n"
	    "%s",
	    cli_filter_help);
}

int cmd_watch(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"interval", required_argument, NULL, 'i'},
	    {"once", no_argument, NULL, 'o'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    CLI_FILTER_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct store_filter flt = {0};
	struct store *st = NULL;
	struct xerr err = {0};
	long long interval = 5;
	int ch, r, once = 0, json = 0, color;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'i') {
			if (parse_duration(optarg, &interval) < 0 ||
			    interval < 1 || interval > 3600) {
				fprintf(stderr, "peakq watch: --interval needs "
						"a time from 1s to 1h\n");
				return 2;
			}
		} else if (ch == 'o') {
			once = 1;
		} else if (ch == 'j') {
			json = 1;
		} else if (ch == 'h') {
			watch_usage(stdout);
			return 0;
		} else if (ch >= CLI_OPT_FIRST && ch != CLI_OPT_ALL) {
			if (cli_filter_opt(ch, optarg, &flt, "watch") < 0)
				return 2;
		} else {
			watch_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		watch_usage(stderr);
		return 2;
	}
	if ((r = cli_store(cli, 0, &st)))
		return r;
	if (json) {
		r = counts_json(st, &err) < 0 ? cli_store_error(&err) : 0;
		store_close(&st);
		return r;
	}
	color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	if (once) {
		r = frame(stdout, cli, st, &flt, 0, color, &err) < 0
			? cli_store_error(&err)
			: 0;
		store_close(&st);
		return r;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fputs("\033[?25l", stdout); /* hide the cursor */
	while (!stop) {
		char *text = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&text, &len);
		if (!mem)
			break;
		if (frame(mem, cli, st, &flt, (int)interval, color, &err) < 0)
			fprintf(mem, "\n(store: %s; trying again)\n", err.msg);
		fclose(mem);
		/* Draw the whole frame at once: no flicker. */
		fputs("\033[H\033[2J", stdout);
		fwrite(text, 1, len, stdout);
		fflush(stdout);
		free(text);
		for (long long t = 0; t < interval * 10 && !stop; t++)
			usleep(100000);
	}
	fputs("\033[?25h\n", stdout);
	store_close(&st);
	return 0;
}
