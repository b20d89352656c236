/* cli_status: `peakq status` — is the daemon alive, how is each mailbox,
 * what is waiting in the outbox. Exit 0 when the daemon reported within
 * two poll intervals, 1 otherwise: a monitoring check. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"

/* Seconds of grace beyond two poll intervals (a slow poll, a clock). */
#define STATUS_SLACK 5

struct st_out {
	int json, first, bad;
	int64_t now;
};

static void ago(int64_t t, int64_t now, char *buf, size_t size)
{
	int64_t d = now - t;

	if (!t)
		snprintf(buf, size, "never");
	else if (d < 60)
		snprintf(buf, size, "%llds ago", (long long)(d < 0 ? 0 : d));
	else if (d < 3600)
		snprintf(buf, size, "%lldm ago", (long long)(d / 60));
	else if (d < 86400)
		snprintf(buf, size, "%lldh%02lldm ago", (long long)(d / 3600),
			 (long long)(d % 3600 / 60));
	else
		snprintf(buf, size, "%lldd ago", (long long)(d / 86400));
}

static int mb_cb(const struct store_mailbox_info *m, void *ctx)
{
	struct st_out *o = ctx;
	char name[300], ok[32], since[32];

	if (m->state && strcmp(m->state, "error") == 0)
		o->bad++;
	if (o->json) {
		int f = 1;
		fputs(o->first ? "\n  {" : ",\n  {", stdout);
		o->first = 0;
		json_kv_str(stdout, &f, "account", m->account);
		json_kv_str(stdout, &f, "mailbox", m->name);
		json_kv_str(stdout, &f, "state", m->state);
		json_kv_time(stdout, &f, "state_at", m->state_at);
		json_kv_int(stdout, &f, "backlog", m->backlog);
		json_kv_time(stdout, &f, "last_ok_at", m->last_ok_at);
		json_kv_str(stdout, &f, "last_error", m->last_error);
		json_kv_time(stdout, &f, "last_error_at", m->last_error_at);
		json_kv_int(stdout, &f, "uidvalidity", m->uidvalidity);
		json_kv_int(stdout, &f, "last_uid", m->last_uid);
		fputc('}', stdout);
		return 0;
	}
	snprintf(name, sizeof(name), "%s/%s", m->account, m->name);
	ago(m->last_ok_at, o->now, ok, sizeof(ok));
	ago(m->state_at, o->now, since, sizeof(since));
	fputs("  ", stdout);
	cli_cell(stdout, name, 24);
	fputc(' ', stdout);
	cli_cell(stdout, m->state ? m->state : "-", 10);
	fputc(' ', stdout);
	cli_cell(stdout, since, 11);
	fputc(' ', stdout);
	cli_cell(stdout, ok, 11);
	printf(" %7lld", m->backlog);
	if (m->last_error && m->state && strcmp(m->state, "error") == 0) {
		fputs("  ", stdout);
		cli_cell(stdout, m->last_error, cli_width(m->last_error));
	} else if (m->last_error && m->state &&
		   strcmp(m->state, "connecting") == 0 &&
		   m->last_error_at >= m->last_ok_at) {
		/* retrying after a failure: still say why it failed */
		fputs("  last error: ", stdout);
		cli_cell(stdout, m->last_error, cli_width(m->last_error));
	}
	fputc('\n', stdout);
	return 0;
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct st_out o = {.first = 1, .now = now_s()};
	struct store_daemon_info d;
	struct store_counts c;
	struct store *st = NULL;
	struct xerr err = {0};
	const char *verdict;
	char hb[32], up[32];
	int ch, r, alive;

	/* `peakq status N open|pending|resolved` changes a case; without a
	 * case number it is the daemon's health. */
	for (int i = 1; i < argc; i++)
		if (argv[i][0] != '-')
			return cmd_work(cli, argc, argv);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'j') {
			o.json = 1;
		} else if (ch == 'h') {
			fputs("usage: peakq status [--json]\n"
			      "       peakq status [--force] [--note TEXT] N "
			      "open|pending|resolved\n"
			      "       (a case's status: peakq status N "
			      "--help)\n\n"
			      "Is peakqd alive (its heartbeat in the store), "
			      "each mailbox's state, last\n"
			      "successful poll, backlog and last error, and "
			      "what waits in the outbox.\n"
			      "Exit 0 when the daemon reported within two poll "
			      "intervals, 1 when it\n"
			      "did not (stopped, hung, never started): a "
			      "monitoring check.\n",
			      stdout);
			return 0;
		} else {
			fputs("usage: peakq status [--json]\n", stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fputs("usage: peakq status [--json]\n", stderr);
		return 2;
	}
	if ((r = cli_store(cli, 0, &st)))
		return r;
	if (store_counts(st, &c, &err) < 0) {
		r = cli_store_error(&err);
		goto out;
	}
	/* Read the heartbeat first: a late verdict must not blame a daemon
	 * that reported while we read the rest. */
	if (store_health(st, &d, NULL, NULL, &err) < 0) {
		r = cli_store_error(&err);
		goto out;
	}
	alive =
	    d.known && !d.stopped_at &&
	    o.now - d.heartbeat_at <=
		2 * (d.poll_interval > 0 ? d.poll_interval : 60) + STATUS_SLACK;
	verdict = !d.known	 ? "never-ran"
		  : d.stopped_at ? "stopped"
		  : alive	 ? "running"
				 : "not-reporting";
	ago(d.heartbeat_at, o.now, hb, sizeof(hb));
	if (o.json) {
		int f = 1;
		fputs("{", stdout);
		json_kv_str(stdout, &f, "daemon", verdict);
		json_kv_bool(stdout, &f, "alive", alive);
		json_kv_int(stdout, &f, "pid", d.pid);
		json_kv_str(stdout, &f, "version", d.known ? d.version : NULL);
		json_kv_time(stdout, &f, "started_at", d.started_at);
		json_kv_time(stdout, &f, "heartbeat_at", d.heartbeat_at);
		json_kv_time(stdout, &f, "stopped_at", d.stopped_at);
		json_kv_int(stdout, &f, "poll_interval", d.poll_interval);
		json_key(stdout, &f, "mailboxes");
		fputc('[', stdout);
	} else {
		if (!d.known)
			printf("peakqd: has never run on this store\n");
		else if (d.stopped_at)
			printf("peakqd: stopped cleanly %s (pid %lld)\n", hb,
			       d.pid);
		else if (alive) {
			ago(d.started_at, o.now, up, sizeof(up));
			printf("peakqd: running, pid %lld, version %s, started "
			       "%s, last heartbeat %s (polls every %llds)\n",
			       d.pid, d.version, up, hb,
			       (long long)d.poll_interval);
		} else
			printf(
			    "peakqd: NOT REPORTING: last heartbeat %s, more "
			    "than two poll intervals (%llds) ago; pid %lld\n",
			    hb, (long long)d.poll_interval, d.pid);
		printf("\n  %-24s %-10s %-11s %-11s %7s  %s\n", "MAILBOX",
		       "STATE", "SINCE", "LAST OK", "BACKLOG", "LAST ERROR");
	}
	if (store_health(st, &d, mb_cb, &o, &err) < 0) {
		r = cli_store_error(&err);
		goto out;
	}
	if (o.json) {
		int f = 0;
		fputs("]", stdout);
		json_key(stdout, &f, "outbox");
		int g = 1;
		fputc('{', stdout);
		json_kv_int(stdout, &g, "waiting", c.outbox_pending);
		json_kv_int(stdout, &g, "failed", c.outbox_failed);
		json_kv_int(stdout, &g, "uncertain", c.outbox_uncertain);
		json_kv_int(stdout, &g, "sent", c.outbox_sent);
		fputs("}", stdout);
		json_kv_int(stdout, &f, "cases", c.cases);
		json_kv_int(stdout, &f, "messages", c.messages);
		fputs("}\n", stdout);
	} else {
		printf("\n  outbox: %lld waiting, %lld failed, %lld uncertain "
		       "(peakq outbox), %lld sent\n",
		       c.outbox_pending, c.outbox_failed, c.outbox_uncertain,
		       c.outbox_sent);
		printf("  store: %lld cases, %lld messages\n", c.cases,
		       c.messages);
	}
	r = alive ? 0 : 1;
	if (!alive && !o.json)
		fprintf(stderr, "peakq status: peakqd is %s\n",
			!d.known       ? "not running (never ran on this store)"
			: d.stopped_at ? "stopped"
				       : "not reporting");
out:
	store_close(&st);
	return r;
}
