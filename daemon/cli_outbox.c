/* cli_outbox: `peakq outbox` — acknowledgements that need a look (waiting,
 * failed, uncertain) — and `peakq outbox retry N`, which sends one again
 * on purpose. */
#include "config.h"

#include <getopt.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "outbox.h"

struct ob_out {
	int json, first;
	size_t count;
};

static int ob_row(const struct store_outbox_info *o, void *ctx)
{
	struct ob_out *out = ctx;
	char when[32], next[32];

	out->count++;
	if (out->json) {
		int first = 1;
		fputs(out->first ? "[\n  {" : ",\n  {", stdout);
		out->first = 0;
		json_kv_int(stdout, &first, "id", o->id);
		json_kv_int(stdout, &first, "case", o->case_id);
		json_kv_str(stdout, &first, "kind", o->kind);
		json_kv_str(stdout, &first, "state", o->state);
		json_kv_str(stdout, &first, "rcpt", o->rcpt);
		json_kv_str(stdout, &first, "reason", o->reason);
		json_kv_str(stdout, &first, "last_error", o->last_error);
		json_kv_int(stdout, &first, "attempts", o->attempts);
		json_kv_time(stdout, &first, "created_at", o->created_at);
		json_kv_time(stdout, &first, "next_at",
			     strcmp(o->state, "temp_fail") == 0 ||
				     strcmp(o->state, "pending") == 0
				 ? o->next_at
				 : 0);
		json_kv_time(stdout, &first, "sent_at", o->sent_at);
		fputs("}", stdout);
		return 0;
	}
	cli_time(o->created_at, when, sizeof(when));
	next[0] = '\0';
	if (strcmp(o->state, "temp_fail") == 0)
		cli_time(o->next_at, next, sizeof(next));
	printf("%-6lld %-6lld %-10s %-4s %-30s %s", (long long)o->id,
	       (long long)o->case_id, o->state, o->kind,
	       o->rcpt ? o->rcpt : "-", when);
	if (next[0])
		printf("  next try %s", next);
	if (o->attempts)
		printf("  attempts %d", o->attempts);
	if (o->reason)
		printf("  (%s)", o->reason);
	if (o->last_error)
		printf("\n       %s", o->last_error);
	putchar('\n');
	return 0;
}

static void outbox_usage(FILE *f)
{
	fputs("usage: peakq outbox [--json] [--all]\n"
	      "       peakq outbox retry N\n"
	      "\n"
	      "Without a command: the acknowledgements that need a look: "
	      "waiting to be\n"
	      "sent or retried (pending, temp_fail), being sent, failed, and "
	      "uncertain\n"
	      "(the daemon stopped while sending, or no reply came after the "
	      "whole\n"
	      "message went out: it may or may not have reached the customer, "
	      "so it\n"
	      "is never resent by itself). --all lists every row.\n"
	      "\n"
	      "retry N  send outbox row N again now (failed, uncertain, "
	      "expired or\n"
	      "         waiting rows); exit 0 when the server accepted it, 75 "
	      "when it\n"
	      "         refused for now (the daemon keeps trying), 1 when it "
	      "failed.\n",
	      f);
}

static const char *actor(void)
{
	const char *a = getenv("PEAKQ_AGENT");
	struct passwd *pw;

	if (a && *a)
		return a;
	pw = getpwuid(getuid());
	return pw ? pw->pw_name : "agent";
}

static int cmd_retry(struct cli *cli, const char *arg)
{
	struct store *st = NULL;
	struct xerr err = {0};
	int64_t id;
	int r;

	if (cli_case_id(arg, &id) < 0)
		return 2;
	if ((r = cli_store(cli, 1, &st)))
		return r;
	struct outbox_ctx ob = {.conf = cli->conf, .store = st};
	r = outbox_retry(&ob, id, actor(), &err);
	if (r < 0) {
		fprintf(stderr, "peakq: %s\n", err.msg);
		r = err.kind == XERR_PERM ? 1 : EX_TEMPFAIL;
	} else if (ob.sent) {
		printf("outbox row %lld sent\n", (long long)id);
		r = 0;
	} else if (ob.failed) {
		printf("outbox row %lld failed (see peakq outbox)\n",
		       (long long)id);
		r = 1;
	} else {
		printf("outbox row %lld not sent yet: the server refused for "
		       "now; the daemon will retry it\n",
		       (long long)id);
		r = EX_TEMPFAIL;
	}
	outbox_release(&ob);
	store_close(&st);
	return r;
}

int cmd_outbox(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"all", no_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct ob_out out = {.first = 1};
	struct store *st = NULL;
	struct xerr err = {0};
	int c, r, all = 0;

	if (argc >= 2 && strcmp(argv[1], "retry") == 0) {
		if (argc != 3) {
			outbox_usage(stderr);
			return 2;
		}
		return cmd_retry(cli, argv[2]);
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			out.json = 1;
			break;
		case 'a':
			all = 1;
			break;
		case 'h':
			outbox_usage(stdout);
			return 0;
		default:
			outbox_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		outbox_usage(stderr);
		return 2;
	}
	if ((r = cli_store(cli, 0, &st)))
		return r;
	if (!out.json)
		printf("%-6s %-6s %-10s %-4s %-30s %s\n", "ROW", "CASE",
		       "STATE", "KIND", "TO", "CREATED");
	if (store_outbox_list(st, all, ob_row, &out, &err) < 0) {
		fprintf(stderr, "peakq: %s\n", err.msg);
		store_close(&st);
		return err.kind == XERR_TEMP ? EX_TEMPFAIL : EX_SOFTWARE;
	}
	if (out.json)
		fputs(out.first ? "[]\n" : "\n]\n", stdout);
	else if (!out.count)
		puts("(nothing waiting, failed or uncertain)");
	store_close(&st);
	return 0;
}
