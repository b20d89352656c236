/* cli_list: `peakq list` — the queue in working order, as a table or JSON. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

struct list_out {
	FILE *f;
	int json, first, color;
	int64_t now;
	size_t subj_w, cust_w, count;
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
	json_kv_bool(o->f, &first, "overdue",
		     c->due_at < o->now && strcmp(c->status, "resolved") != 0);
	json_kv_str(o->f, &first, "ack", c->ack_state);
	json_kv_int(o->f, &first, "messages", c->nmessages);
	json_kv_words(o->f, &first, "tags", c->tags);
	fputs("}", o->f);
}

static void list_row(const struct store_case *c, struct list_out *o)
{
	char id[24], due[32];
	int overdue = c->due_at < o->now && strcmp(c->status, "resolved") != 0;
	const char *on = "", *off = "";

	if (o->color && (overdue || strcmp(c->priority, "urgent") == 0)) {
		on = overdue ? "\033[31m" : "\033[33m";
		off = "\033[0m";
	}
	snprintf(id, sizeof(id), "%lld", (long long)c->id);
	if (strcmp(c->status, "resolved") == 0)
		snprintf(due, sizeof(due), "-");
	else
		cli_due(c->due_at, o->now, due, sizeof(due));
	fputs(on, o->f);
	cli_cell(o->f, id, 6);
	fputc(' ', o->f);
	cli_cell(o->f, c->status, 8);
	fputc(' ', o->f);
	cli_cell(o->f, c->escalated ? "urgent!" : c->priority, 7);
	fputc(' ', o->f);
	cli_cell(o->f, c->category, 15);
	fputc(' ', o->f);
	cli_cell(o->f, c->customer ? c->customer : "?", o->cust_w);
	fputc(' ', o->f);
	cli_cell(o->f, c->order_id ? c->order_id : "-", 19);
	fputc(' ', o->f);
	cli_cell(o->f, due, 16);
	fputc(' ', o->f);
	cli_cell(o->f, c->subject ? c->subject : "(no subject)", o->subj_w);
	fputs(off, o->f);
	fputc('\n', o->f);
}

static int list_cb(const struct store_case *c, void *ctx)
{
	struct list_out *o = ctx;

	o->count++;
	if (o->json)
		list_json(c, o);
	else
		list_row(c, o);
	return 0;
}

static void list_usage(FILE *f)
{
	fputs("usage: peakq list [--json] [--all] [--status STATUS] "
	      "[--limit N]\n"
	      "\n"
	      "Show the queue in working order: escalated first, then "
	      "overdue, then by\n"
	      "priority and due time. Resolved cases are hidden unless --all "
	      "or\n"
	      "--status resolved.\n"
	      "\n"
	      "  --json           one JSON array of case objects (fields in "
	      "peakq(1))\n"
	      "  --all            include resolved cases\n"
	      "  --status STATUS  only new, open, pending or resolved cases\n"
	      "  --limit N        at most N cases\n",
	      f);
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"all", no_argument, NULL, 'a'},
	    {"status", required_argument, NULL, 's'},
	    {"limit", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
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
			o.json = 1;
			break;
		case 'a':
			flt.all = 1;
			break;
		case 's':
			if (strcmp(optarg, "new") && strcmp(optarg, "open") &&
			    strcmp(optarg, "pending") &&
			    strcmp(optarg, "resolved")) {
				fprintf(stderr,
					"peakq list: unknown status '%s' (new, "
					"open, pending, resolved)\n",
					optarg);
				return 2;
			}
			flt.status = optarg;
			break;
		case 'l':
			if (parse_ll(optarg, 1, 1000000, &v) < 0) {
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
	o.color = !o.json && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	if (!o.json) {
		int cols = cli_term_columns();
		/* fixed columns: 6+8+7+15+19+16 + 7 separators = 78 */
		int rest = cols - 78;
		o.cust_w = rest > 60 ? 30 : rest > 30 ? (size_t)rest / 2 : 15;
		o.subj_w = rest - (int)o.cust_w > 10
			       ? (size_t)(rest - (int)o.cust_w)
			       : 10;
		cli_cell(stdout, "ID", 6);
		fputc(' ', stdout);
		cli_cell(stdout, "STATUS", 8);
		fputc(' ', stdout);
		cli_cell(stdout, "PRIO", 7);
		fputc(' ', stdout);
		cli_cell(stdout, "CATEGORY", 15);
		fputc(' ', stdout);
		cli_cell(stdout, "CUSTOMER", o.cust_w);
		fputc(' ', stdout);
		cli_cell(stdout, "ORDER", 19);
		fputc(' ', stdout);
		cli_cell(stdout, "DUE", 16);
		fputc(' ', stdout);
		cli_cell(stdout, "SUBJECT", o.subj_w);
		fputc('\n', stdout);
	}
	if (store_case_list(st, &flt, o.now, list_cb, &o, &err) < 0) {
		fprintf(stderr, "peakq: %s\n", err.msg);
		store_close(&st);
		return err.kind == XERR_TEMP ? EX_TEMPFAIL : EX_SOFTWARE;
	}
	if (o.json)
		fputs(o.first ? "[]\n" : "\n]\n", stdout);
	else if (o.count == 0)
		fputs("(no cases)\n", stdout);
	store_close(&st);
	return 0;
}
