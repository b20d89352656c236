/* cli_list: `peakq list` — the queue in working order, as a table that
 * fits the terminal, JSON or CSV; and the filter options list, next and
 * watch share. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

enum list_format { FMT_TABLE, FMT_JSON, FMT_CSV };

struct list_out {
	FILE *f;
	enum list_format format;
	int first, color;
	int64_t now;
	size_t subj_w, cust_w, count;
	int show_order, show_cust;
	int cols; /* 0: the terminal's */
};

static void list_json(const struct store_case *c, struct list_out *o)
{
	int first = 1;

	fputs(o->first ? "[\n  {" : ",\n  {", o->f);
	o->first = 0;
	json_kv_int(o->f, &first, "id", c->id);
	json_kv_str(o->f, &first, "status", c->status);
	json_kv_str(o->f, &first, "priority", c->priority);
	json_kv_str(o->f, &first, "category", c->category);
	json_kv_bool(o->f, &first, "escalated", c->escalated);
	json_kv_str(o->f, &first, "escalation", c->escalation);
	json_kv_str(o->f, &first, "customer", c->customer);
	json_kv_str(o->f, &first, "customer_name", c->customer_name);
	json_kv_str(o->f, &first, "order_id", c->order_id);
	json_kv_str(o->f, &first, "subject", c->subject);
	json_kv_str(o->f, &first, "lang", c->lang);
	json_kv_str(o->f, &first, "rule", c->rule);
	json_kv_str(o->f, &first, "mailbox", c->mailbox);
	json_kv_str(o->f, &first, "assignee", c->assignee);
	json_kv_int(o->f, &first, "sla_hours", c->sla_hours);
	json_kv_time(o->f, &first, "created_at", c->created_at);
	json_kv_time(o->f, &first, "due_at", c->due_at);
	json_kv_time(o->f, &first, "acked_at", c->acked_at);
	json_kv_time(o->f, &first, "first_reply_at", c->first_reply_at);
	json_kv_time(o->f, &first, "resolved_at", c->resolved_at);
	json_kv_bool(o->f, &first, "overdue", cli_overdue(c, o->now));
	json_kv_str(o->f, &first, "ack", c->ack_state);
	json_kv_int(o->f, &first, "messages", c->nmessages);
	json_kv_int(o->f, &first, "notes", c->nnotes);
	json_kv_words(o->f, &first, "tags", c->tags);
	fputs("}", o->f);
}

/* One CSV field (RFC 4180). A field a spreadsheet would run as a formula
 * (= + - @ first) gets a leading ' : customer text must not execute. */
static void csv_field(FILE *f, const char *s, int last)
{
	if (s) {
		int formula = strchr("=+-@\t\r", s[0]) && s[0];
		fputc('"', f);
		if (formula)
			fputc('\'', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	}
	fputs(last ? "\r\n" : ",", f);
}

static const char *const csv_cols[] = {
    "id",	   "status",   "priority", "category",
    "escalated",   "assignee", "customer", "customer_name",
    "order_id",	   "subject",  "lang",	   "mailbox",
    "created_at",  "due_at",   "overdue",  "first_reply_at",
    "resolved_at", "tags",     NULL,
};

static void list_csv(const struct store_case *c, struct list_out *o)
{
	char id[24], created[32], due[32], reply[32], resolved[32];

	snprintf(id, sizeof(id), "%lld", (long long)c->id);
	fmt_utc(c->created_at, created, sizeof(created));
	fmt_utc(c->due_at, due, sizeof(due));
	reply[0] = resolved[0] = 0;
	if (c->first_reply_at)
		fmt_utc(c->first_reply_at, reply, sizeof(reply));
	if (c->resolved_at)
		fmt_utc(c->resolved_at, resolved, sizeof(resolved));
	csv_field(o->f, id, 0);
	csv_field(o->f, c->status, 0);
	csv_field(o->f, c->priority, 0);
	csv_field(o->f, c->category, 0);
	csv_field(o->f, c->escalated ? "yes" : "no", 0);
	csv_field(o->f, c->assignee ? c->assignee : "", 0);
	csv_field(o->f, c->customer ? c->customer : "", 0);
	csv_field(o->f, c->customer_name ? c->customer_name : "", 0);
	csv_field(o->f, c->order_id ? c->order_id : "", 0);
	csv_field(o->f, c->subject ? c->subject : "", 0);
	csv_field(o->f, c->lang ? c->lang : "", 0);
	csv_field(o->f, c->mailbox ? c->mailbox : "", 0);
	csv_field(o->f, created, 0);
	csv_field(o->f, due, 0);
	csv_field(o->f, cli_overdue(c, o->now) ? "yes" : "no", 0);
	csv_field(o->f, reply, 0);
	csv_field(o->f, resolved, 0);
	csv_field(o->f, c->tags ? c->tags : "", 1);
}

/* Fixed columns: ID 6, STATUS 8, PRIO 7, CATEGORY 15, AGENT 10, DUE 14. */
#define FIXED_W (6 + 8 + 7 + 15 + 10 + 14 + 6)

static void list_row(const struct store_case *c, struct list_out *o)
{
	char id[24], due[32];
	int overdue = cli_overdue(c, o->now);
	const char *on = "", *off = "";

	if (o->color &&
	    (overdue || c->escalated || strcmp(c->priority, "urgent") == 0)) {
		on = overdue ? "\033[31m" : "\033[33m";
		off = "\033[0m";
	}
	snprintf(id, sizeof(id), "%lld", (long long)c->id);
	if (strcmp(c->status, "resolved") == 0)
		snprintf(due, sizeof(due), "-");
	else if (strcmp(c->status, "pending") == 0)
		snprintf(due, sizeof(due), "answered");
	else
		cli_due(c->due_at, o->now, due, sizeof(due));
	fputs(on, o->f);
	cli_cell(o->f, id, 6);
	fputc(' ', o->f);
	cli_cell(o->f, c->status, 8);
	fputc(' ', o->f);
	cli_cell(o->f, c->escalated ? "ESCAL." : c->priority, 7);
	fputc(' ', o->f);
	cli_cell(o->f, c->category, 15);
	fputc(' ', o->f);
	cli_cell(o->f, c->assignee ? c->assignee : "-", 10);
	fputc(' ', o->f);
	cli_cell(o->f, due, 14);
	fputc(' ', o->f);
	if (o->show_cust) {
		cli_cell(o->f, c->customer ? c->customer : "?", o->cust_w);
		fputc(' ', o->f);
	}
	if (o->show_order) {
		cli_cell(o->f, c->order_id ? c->order_id : "-", 19);
		fputc(' ', o->f);
	}
	cli_cell(o->f, c->subject ? c->subject : "(no subject)", o->subj_w);
	fputs(off, o->f);
	fputc('\n', o->f);
}

static void list_header(struct list_out *o)
{
	int cols = o->cols ? o->cols : cli_term_columns(),
	    rest = cols - FIXED_W;

	/* Subject first, then customer, then order id, as room allows. */
	o->show_cust = rest >= 10 + 16;
	o->show_order = rest >= 10 + 16 + 20;
	if (o->show_order)
		rest -= 20;
	if (o->show_cust) {
		o->cust_w = rest >= 70 ? 30 : (size_t)(rest - 10) / 2;
		if (o->cust_w < 15)
			o->cust_w = 15;
		rest -= (int)o->cust_w + 1;
	}
	o->subj_w = rest > 10 ? (size_t)rest : 10;
	cli_cell(o->f, "ID", 6);
	fputc(' ', o->f);
	cli_cell(o->f, "STATUS", 8);
	fputc(' ', o->f);
	cli_cell(o->f, "PRIO", 7);
	fputc(' ', o->f);
	cli_cell(o->f, "CATEGORY", 15);
	fputc(' ', o->f);
	cli_cell(o->f, "AGENT", 10);
	fputc(' ', o->f);
	cli_cell(o->f, "DUE", 14);
	fputc(' ', o->f);
	if (o->show_cust) {
		cli_cell(o->f, "CUSTOMER", o->cust_w);
		fputc(' ', o->f);
	}
	if (o->show_order) {
		cli_cell(o->f, "ORDER", 19);
		fputc(' ', o->f);
	}
	cli_cell(o->f, "SUBJECT", o->subj_w);
	fputc('\n', o->f);
}

static int list_cb(const struct store_case *c, void *ctx)
{
	struct list_out *o = ctx;

	o->count++;
	if (o->format == FMT_JSON)
		list_json(c, o);
	else if (o->format == FMT_CSV)
		list_csv(c, o);
	else
		list_row(c, o);
	return 0;
}

int cli_list_table(FILE *f, struct store *st, const struct store_filter *flt,
		   int64_t now, int cols, int color, size_t *count_r,
		   struct xerr *err)
{
	struct list_out o = {
	    .f = f, .first = 1, .now = now, .cols = cols, .color = color};

	list_header(&o);
	if (store_case_list(st, flt, now, list_cb, &o, err) < 0)
		return -1;
	if (count_r)
		*count_r = o.count;
	return 0;
}

const char cli_filter_help[] =
    "  --status STATUS      new, open, pending or resolved\n"
    "  --category NAME      e.g. late_delivery, complaint\n"
    "  --priority P         urgent, high, normal or low\n"
    "  --assignee AGENT     cases of AGENT ('me': yours)\n"
    "  --unassigned         cases nobody has claimed\n"
    "  --overdue            new or open cases past their due time\n"
    "  --due-within TIME    due within TIME (30m, 2h, 1d) or overdue\n"
    "  --escalated          the supervisors' view: escalated cases\n"
    "  --mailbox M          one account, or account/folder\n"
    "  --since WHEN         created since a date (2026-12-26, "
    "'2026-12-26 09:00')\n"
    "                       or for a time (2h, 1d)\n"
    "  --all                include resolved cases\n";

/* A date (cli_parse_date), or a duration back from now ("2h", "1d"). */
static int parse_since(const char *s, int64_t now, int64_t *t_r)
{
	long long d;

	if (parse_duration(s, &d) == 0 && strspn(s, "0123456789") < strlen(s)) {
		*t_r = now - d;
		return 0;
	}
	return cli_parse_date(s, 0, t_r);
}

int cli_filter_opt(int opt, const char *arg, struct store_filter *f,
		   const char *cmd)
{
	static const char *const statuses[] = {"new", "open", "pending",
					       "resolved", NULL};
	static const char *const prios[] = {"urgent", "high", "normal", "low",
					    NULL};
	int64_t now = now_s(), t;
	long long d;
	size_t i;

	switch (opt) {
	case CLI_OPT_STATUS:
		for (i = 0; statuses[i] && strcmp(statuses[i], arg); i++)
			;
		if (!statuses[i]) {
			fprintf(stderr,
				"peakq %s: unknown status '%s' (new, open, "
				"pending, resolved)\n",
				cmd, arg);
			return -1;
		}
		f->status = arg;
		return 0;
	case CLI_OPT_CATEGORY:
		f->category = arg;
		return 0;
	case CLI_OPT_PRIORITY:
		for (i = 0; prios[i] && strcmp(prios[i], arg); i++)
			;
		if (!prios[i]) {
			fprintf(stderr,
				"peakq %s: unknown priority '%s' (urgent, "
				"high, normal, low)\n",
				cmd, arg);
			return -1;
		}
		f->priority = arg;
		return 0;
	case CLI_OPT_ASSIGNEE:
		if (strcmp(arg, "me") == 0 && !(arg = cli_actor()))
			return -1;
		f->assignee = arg;
		return 0;
	case CLI_OPT_UNASSIGNED:
		f->unassigned = 1;
		return 0;
	case CLI_OPT_OVERDUE:
		f->overdue = 1;
		return 0;
	case CLI_OPT_DUE_WITHIN:
		if (parse_duration(arg, &d) < 0) {
			fprintf(stderr,
				"peakq %s: --due-within needs a time like "
				"30m, 2h or 1d, not '%s'\n",
				cmd, arg);
			return -1;
		}
		f->due_before = now + d;
		f->workable = 1;
		return 0;
	case CLI_OPT_ESCALATED:
		f->escalated = 1;
		return 0;
	case CLI_OPT_MAILBOX:
		f->mailbox = arg;
		return 0;
	case CLI_OPT_SINCE:
		if (parse_since(arg, now, &t) < 0) {
			fprintf(stderr,
				"peakq %s: --since needs a date "
				"(2026-12-26, '2026-12-26 09:00') or a time "
				"(2h, 1d), not '%s'\n",
				cmd, arg);
			return -1;
		}
		f->since = t;
		return 0;
	case CLI_OPT_ALL:
		f->all = 1;
		return 0;
	}
	return -1;
}

static void list_usage(FILE *f)
{
	fprintf(f,
		"usage: peakq list [--json | --csv] [FILTERS] [--limit N]\n"
		"\n"
		"Show the queue in working order: escalated first, then "
		"overdue, then by\n"
		"priority and due time. Resolved cases are hidden unless "
		"--all or\n"
		"--status resolved. On a terminal, overdue cases are red and "
		"urgent or\n"
		"escalated ones yellow (NO_COLOR turns colour off).\n"
		"\n"
		"  --json               one JSON array of case objects "
		"(fields in peakq(1))\n"
		"  --csv                CSV with a header line (RFC 4180)\n"
		"%s"
		"  --limit N            at most N cases\n",
		cli_filter_help);
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"csv", no_argument, NULL, 'v'},
	    {"limit", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    CLI_FILTER_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct store_filter flt = {0};
	struct list_out o = {.f = stdout, .first = 1};
	struct store *st = NULL;
	struct xerr err = {0};
	long long v;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o.format = FMT_JSON;
			break;
		case 'v':
			o.format = FMT_CSV;
			break;
		case 'l':
			if (parse_ll(optarg, 1, 100000000, &v) < 0) {
				fprintf(stderr,
					"peakq list: --limit needs a number\n");
				return 2;
			}
			flt.limit = (size_t)v;
			break;
		case 'h':
			list_usage(stdout);
			return 0;
		default:
			if (c >= CLI_OPT_FIRST) {
				if (cli_filter_opt(c, optarg, &flt, "list") < 0)
					return 2;
				break;
			}
			list_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		list_usage(stderr);
		return 2;
	}
	if ((r = cli_store(cli, 0, &st)))
		return r;
	o.now = now_s();
	o.color = o.format == FMT_TABLE && isatty(STDOUT_FILENO) &&
		  !getenv("NO_COLOR");
	if (o.format == FMT_TABLE)
		list_header(&o);
	else if (o.format == FMT_CSV)
		for (size_t i = 0; csv_cols[i]; i++)
			csv_field(stdout, csv_cols[i], !csv_cols[i + 1]);
	if (store_case_list(st, &flt, o.now, list_cb, &o, &err) < 0) {
		store_close(&st);
		return cli_store_error(&err);
	}
	if (o.format == FMT_JSON)
		fputs(o.first ? "[]\n" : "\n]\n", stdout);
	else if (o.format == FMT_TABLE && o.count == 0)
		fputs("(no cases)\n", stdout);
	store_close(&st);
	return 0;
}
