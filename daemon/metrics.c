/* metrics: store totals and daemon counters -> Prometheus text format. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "metrics.h"

struct out {
	struct buf *b;
	const char *last; /* the metric whose HELP/TYPE was written */
	long long ack_count;
};

/* A label value: \ " and newline escaped. */
static void label(struct buf *b, const char *v)
{
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			(void)!buf_addc(b, '\\');
		if (*v == '\n')
			(void)!buf_adds(b, "\\n");
		else
			(void)!buf_addc(b, *v);
	}
}

static void head(struct out *o, const char *name, const char *type,
		 const char *help)
{
	if (o->last && strcmp(o->last, name) == 0)
		return;
	o->last = name;
	(void)!buf_addf(o->b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
			type);
}

static int row(const char *name, const char *lab, const char *val, long long n,
	       void *ctx)
{
	struct out *o = ctx;

	if (strcmp(name, "cases") == 0) {
		head(o, "peakq_cases_total", "counter",
		     "Cases created, by category.");
		(void)!buf_adds(o->b, "peakq_cases_total{category=\"");
		label(o->b, val);
		(void)!buf_addf(o->b, "\"} %lld\n", n);
	} else if (strcmp(name, "messages") == 0) {
		head(o, "peakq_messages_total", "counter",
		     "Customer messages stored.");
		(void)!buf_addf(o->b, "peakq_messages_total %lld\n", n);
	} else if (strcmp(name, "acks") == 0) {
		/* Final states only: they never decrease. */
		if (strcmp(val, "sent") && strcmp(val, "suppressed") &&
		    strcmp(val, "failed") && strcmp(val, "expired") &&
		    strcmp(val, "uncertain"))
			return 0;
		head(o, "peakq_acks_total", "counter",
		     "Acknowledgements by final state (sent, suppressed, "
		     "failed, expired, uncertain).");
		(void)!buf_addf(o->b, "peakq_acks_total{state=\"%s\"} %lld\n",
				val, n);
	} else if (strcmp(name, "ack_latency") == 0) {
		head(o, "peakq_ack_latency_seconds", "histogram",
		     "From receipt to the acknowledgement accepted by the "
		     "MTA.");
		(void)!buf_addf(o->b,
				"peakq_ack_latency_seconds_bucket{le=\"%s\"} "
				"%lld\n",
				val, n);
		if (strcmp(val, "+Inf") == 0)
			o->ack_count = n;
	} else if (strcmp(name, "ack_latency_sum") == 0) {
		(void)!buf_addf(o->b,
				"peakq_ack_latency_seconds_sum %lld\n"
				"peakq_ack_latency_seconds_count %lld\n",
				n, o->ack_count);
	}
	(void)lab;
	return 0;
}

/* Both per-mailbox series from one read of the mailboxes. */
struct mb_out {
	struct buf *backlog, *up;
};

static void mb_labels(struct buf *b, const char *metric,
		      const struct store_mailbox_info *m)
{
	(void)!buf_addf(b, "%s{account=\"", metric);
	label(b, m->account);
	(void)!buf_adds(b, "\",mailbox=\"");
	label(b, m->name);
	(void)!buf_adds(b, "\"} ");
}

static int mb_row(const struct store_mailbox_info *m, void *ctx)
{
	struct mb_out *o = ctx;

	mb_labels(o->backlog, "peakq_mailbox_backlog", m);
	(void)!buf_addf(o->backlog, "%lld\n", m->backlog);
	mb_labels(o->up, "peakq_mailbox_up", m);
	/* Up: connected (not while connecting, after an error). */
	(void)!buf_addf(o->up, "%d\n",
			m->state && (strcmp(m->state, "ok") == 0 ||
				     strcmp(m->state, "idling") == 0 ||
				     strcmp(m->state, "fetching") == 0));
	return 0;
}

int metrics_write(const char *path, struct store *st, const struct conf *conf,
		  const unsigned long *reconnects, struct xerr *err)
{
	struct buf b;
	struct out o = {.b = &b};
	int fd;
	struct store_daemon_info d;
	struct store_counts c;
	char *tmp = NULL;
	FILE *f = NULL;
	int ret = -1;

	buf_init(&b, 16 * 1024 * 1024);
	if (store_metrics(st, row, &o, err) < 0 ||
	    store_counts(st, &c, err) < 0)
		goto out;
	(void)!buf_addf(&b,
			"# HELP peakq_outbox_backlog Acknowledgements and "
			"replies waiting to be sent.\n"
			"# TYPE peakq_outbox_backlog gauge\n"
			"peakq_outbox_backlog %lld\n",
			c.outbox_pending);
	(void)!buf_adds(&b, "# HELP peakq_imap_reconnects_total IMAP "
			    "connections made after a failure.\n"
			    "# TYPE peakq_imap_reconnects_total counter\n");
	for (size_t i = 0; i < conf->naccounts; i++) {
		(void)!buf_adds(&b, "peakq_imap_reconnects_total{account=\"");
		label(&b, conf->accounts[i].name);
		(void)!buf_addf(&b, "\"} %lu\n",
				reconnects ? reconnects[i] : 0);
	}
	struct buf up;
	buf_init(&up, 8 * 1024 * 1024);
	struct mb_out mo = {.backlog = &b, .up = &up};
	(void)!buf_adds(&b, "# HELP peakq_mailbox_backlog Messages on the "
			    "server still to be ingested.\n"
			    "# TYPE peakq_mailbox_backlog gauge\n");
	(void)!buf_adds(&up, "# HELP peakq_mailbox_up 1 while the mailbox is "
			     "connected and its last pass worked.\n"
			     "# TYPE peakq_mailbox_up gauge\n");
	int hr = store_health(st, &d, mb_row, &mo, err);
	(void)!buf_add(&b, up.data, up.len);
	buf_release(&up);
	if (hr < 0)
		goto out;
	(void)!buf_addf(&b,
			"# HELP peakq_heartbeat_timestamp_seconds The "
			"daemon's last heartbeat.\n"
			"# TYPE peakq_heartbeat_timestamp_seconds gauge\n"
			"peakq_heartbeat_timestamp_seconds %lld\n",
			(long long)d.heartbeat_at);
	tmp = xasprintf("%s.tmp", path);
	/* Mode 0640 whatever the umask: a textfile collector reads it as a
	 * member of the daemon's group; nobody else needs it. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd >= 0 && (fchmod(fd, 0640) < 0 || !(f = fdopen(fd, "w")))) {
		close(fd);
		fd = -1;
	}
	if (fd < 0 || fwrite(b.data, 1, b.len, f) != b.len || fflush(f) != 0 ||
	    fsync(fileno(f)) != 0) {
		xerr_set(err, XERR_TEMP, "metrics: cannot write '%s': %s", tmp,
			 strerror(errno));
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		xerr_set(err, XERR_TEMP, "metrics: cannot write '%s': %s", tmp,
			 strerror(errno));
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) < 0) {
		xerr_set(err, XERR_TEMP, "metrics: cannot rename to '%s': %s",
			 path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (f)
		fclose(f);
	if (ret < 0 && tmp)
		unlink(tmp);
	free(tmp);
	buf_release(&b);
	return ret;
}
