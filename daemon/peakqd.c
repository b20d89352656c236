/* peakqd: the daemon's main(): arguments, signals, the poll loop, and
 * reloading. All decisions live in ingest.c and outbox.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <getopt.h>
#ifdef HAVE_MALLOC_H
#include <malloc.h>
#endif
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "bounds.h"
#include "conf.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "setup.h"
#include "smtp.h"
#include "store.h"
#include "watch.h"

/* The metrics file is rewritten at most this often (seconds). */
#define METRICS_EVERY 10
/* On SIGTERM, mailbox threads get this long (seconds) to finish the batch
 * in hand before a still-busy connection is cut. */
#define STOP_GRACE 10

static volatile sig_atomic_t stop_requested, reload_requested;

static void on_stop(int sig)
{
	(void)sig;
	/* Atomic: the outbox's sender threads read it. */
	__atomic_store_n(&stop_requested, 1, __ATOMIC_RELAXED);
}

static void on_hup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

/* Health for `peakq status`: the heartbeat (a failure to record it is
 * only logged: the queue matters more than its monitoring). */
static void heartbeat(struct store *st, const struct setup *s,
		      int64_t started_at, int stopping)
{
	struct xerr err = {0};

	if (store_daemon_beat(st, (long long)getpid(), PACKAGE_VERSION,
			      started_at, now_s(), s->conf->poll_interval,
			      stopping, &err) < 0)
		log_warn("%s", err.msg);
}

/* An account could not be polled: each of its mailboxes shows why. */
static void account_down(struct store *st, const struct conf_account *a,
			 const char *why)
{
	struct xerr err = {0};

	for (size_t i = 0; i < a->nmailboxes; i++) {
		struct store_mailbox mb;
		if (store_mailbox_get(st, a->name, a->mailboxes[i], &mb, &err) <
			0 ||
		    store_mailbox_health(st, mb.id, now_s(), why, &err) < 0) {
			log_warn("%s", err.msg);
			return;
		}
	}
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: peakqd [-c FILE] [--once] [-n] [-d] [-v] "
	    "[--log=TARGET]\n"
	    "\n"
	    "Watch the support mailboxes over IMAP (IDLE where the server "
	    "offers it,\n"
	    "one connection per mailbox), queue every message as a case, "
	    "and send\n"
	    "each new case its acknowledgement over SMTP.\n"
	    "\n"
	    "  -c, --config FILE  configuration (default: %s)\n"
	    "      --once         poll every mailbox once, send due "
	    "acknowledgements, exit\n"
	    "  -n, --check        validate configuration, rules and "
	    "templates; exit 0 or 78\n"
	    "  -d, --debug        log to stderr with timestamps (for "
	    "humans)\n"
	    "  -v, --verbose      log debug messages too\n"
	    "      --log=TARGET   stderr, journal, syslog or auto "
	    "(default: auto)\n"
	    "  -h, --help         show this help\n"
	    "  -V, --version      show the version\n"
	    "\n"
	    "Signals: SIGTERM/SIGINT finish the batch in hand and exit; "
	    "SIGHUP\n"
	    "reloads configuration, rules and templates (kept if invalid), "
	    "connecting\n"
	    "added mailboxes and dropping removed ones without touching the "
	    "others.\n"
	    "See peakqd(8) and peakq.yaml(5).\n",
	    conf_default_path());
}

/* systemd (Type=notify): READY, RELOADING, STOPPING, STATUS and the
 * watchdog, when built with libsystemd and run under it; no-ops
 * otherwise. */
static void notify(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void notify(const char *fmt, ...)
{
#ifdef HAVE_SYSTEMD
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)sd_notify(0, msg);
#else
	(void)fmt;
#endif
}

/* Half the watchdog interval in seconds (0: no watchdog): the loop must
 * wake at least that often. */
static int watchdog_secs(void)
{
#ifdef HAVE_SYSTEMD
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0 && usec)
		return (int)(usec / 2000000) > 0 ? (int)(usec / 2000000) : 1;
#endif
	return 0;
}

static void notify_status(struct store *st)
{
	struct store_counts c;
	struct xerr err = {0};

	if (store_counts(st, &c, &err) == 0)
		notify("STATUS=%lld cases, %lld acknowledgements sent, %lld "
		       "waiting, %lld failed, %lld uncertain",
		       c.cases, c.outbox_sent, c.outbox_pending,
		       c.outbox_failed, c.outbox_uncertain);
	notify("WATCHDOG=1");
}

/* The metrics file, rewritten atomically. */
static void write_metrics(struct store *st, const struct conf *conf,
			  struct watchers *ws)
{
	unsigned long *reconnects;
	struct xerr err = {0};

	if (!conf->metrics_file)
		return;
	reconnects = xcalloc(conf->naccounts + 1, sizeof(*reconnects));
	for (size_t i = 0; ws && i < conf->naccounts; i++)
		reconnects[i] = watchers_reconnects(ws, conf->accounts[i].name);
	if (metrics_write(conf->metrics_file, st, conf, reconnects, &err) < 0)
		log_warn("%s", err.msg);
	free(reconnects);
}

/* --once: poll every account once, in turn, then send what is due. */
static int run_once(struct setup *set, struct store *st, struct outbox_ctx *ob,
		    const sigset_t *during)
{
	struct xerr err = {0};
	int64_t started_at = now_s();
	int status = 0;

	log_info("peakqd %s started: %zu account(s), %zu rule(s), store %s "
		 "(once)",
		 PACKAGE_VERSION, set->conf->naccounts, rules_count(set->rules),
		 set->conf->store_path);
	heartbeat(st, set, started_at, 0);
	/* Unblock while talking to servers so SIGTERM interrupts a stalled
	 * read; the message in hand is finished first. */
	sigprocmask(SIG_SETMASK, during, NULL);
	for (size_t i = 0; i < set->conf->naccounts && !stop_requested; i++) {
		const struct conf_account *a = &set->conf->accounts[i];
		struct ingest_ctx ic = {.conf = set->conf,
					.rules = set->rules,
					.tmpls = set->tmpls,
					.notices = set->notices,
					.store = st,
					.stop = &stop_requested};
		if (ingest_account(&ic, a, &err) < 0) {
			account_down(st, a, err.msg);
			log_err("%s", err.msg);
			status = EX_TEMPFAIL;
		}
		if (ic.counts.fetched || ic.counts.flagged)
			log_info("ingest: account=%s fetched=%lu cases=%lu "
				 "followups=%lu duplicates=%lu "
				 "acks_queued=%lu suppressed=%lu "
				 "parse_errors=%lu flagged=%lu",
				 a->name, ic.counts.fetched, ic.counts.cases,
				 ic.counts.followups, ic.counts.duplicates,
				 ic.counts.acks_queued, ic.counts.suppressed,
				 ic.counts.parse_errors, ic.counts.flagged);
	}
	if (!stop_requested && outbox_flush(ob, &err) < 0)
		log_err("%s", err.msg);
	heartbeat(st, set, started_at, 1);
	write_metrics(st, set->conf, NULL);
	log_info("peakqd stopping: sent=%lu temp_failed=%lu failed=%lu "
		 "uncertain=%lu",
		 ob->sent, ob->temp_failed, ob->failed, ob->uncertain);
	return status;
}

/* SIGHUP: load everything again; keep the running setup if anything is
 * wrong. */
static void reload(const char *path, struct setup **setp, struct watchers *ws,
		   struct outbox_ctx *ob)
{
	struct setup *fresh = NULL;
	struct xerr err = {0};

	notify("RELOADING=1");
	if (setup_load(path, &fresh, &err) < 0) {
		log_err("reload refused, keeping the running configuration: "
			"%s",
			err.msg);
	} else if (strcmp(fresh->conf->store_path, (*setp)->conf->store_path) !=
		   0) {
		log_err("reload refused: 'store' cannot change while running "
			"(restart peakqd)");
		setup_unref(&fresh);
	} else {
		setup_unref(setp);
		*setp = fresh;
		conf_apply_time_zone(fresh->conf);
		ob->conf = fresh->conf;
		if (store_set_mode(fresh->conf->store_path,
				   fresh->conf->store_mode, &err) < 0)
			log_warn("%s", err.msg);
		watchers_apply(ws, fresh);
		log_info("reloaded: %zu account(s), %zu rule(s), %zu "
			 "notice(s)",
			 fresh->conf->naccounts, rules_count(fresh->rules),
			 notices_count(fresh->notices));
	}
	notify("READY=1");
}

/* The service: a thread per mailbox ingests (watch.c); this thread sends
 * acknowledgements as soon as one is queued, reports health, and handles
 * signals. */
static int run(const char *path, struct setup **setp, struct store *st,
	       struct outbox_ctx *ob, const sigset_t *block,
	       const sigset_t *during)
{
	struct watchers *ws;
	struct xerr err = {0};
	int wake[2];
	int64_t started_at = now_s(), metrics_at = 0, beat_at = 0, flush_at = 0;
	unsigned long was_held = 0;

	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		log_err("cannot create a pipe: %s", strerror(errno));
		return EX_OSERR;
	}
	ws = watchers_new((*setp)->conf->store_path, wake[1]);
	ob->backlog = watchers_backlog(ws);
	watchers_apply(ws, *setp);
	log_info("peakqd %s started: %zu account(s), %zu mailbox "
		 "connection(s), %zu rule(s), store %s",
		 PACKAGE_VERSION, (*setp)->conf->naccounts,
		 watchers_running(ws), rules_count((*setp)->rules),
		 (*setp)->conf->store_path);
	heartbeat(st, *setp, started_at, 0);
	notify("READY=1");
	notify_status(st);

	while (!stop_requested) {
		const struct conf *conf = (*setp)->conf;
		struct pollfd pfd = {.fd = wake[0], .events = POLLIN};
		int64_t now, wd = watchdog_secs(), secs;
		char drain[256];

		/* Send what is queued: at once when a mailbox thread says
		 * so, and every poll interval for retries. SIGTERM may
		 * interrupt a stalled SMTP server. */
		sigprocmask(SIG_SETMASK, during, NULL);
		if (outbox_flush(ob, &err) < 0)
			log_err("%s", err.msg);
		if (ob->held && !was_held)
			log_info("outbox: a mailbox is storing a backlog: its "
				 "acknowledgements wait until it is stored (at "
				 "most %d s)",
				 PQ_ACK_HOLD_SECS);
		was_held = ob->held;
		sigprocmask(SIG_BLOCK, block, NULL);
		now = now_s();
		flush_at = now;
		if (now != beat_at) { /* at most once a second */
			beat_at = now;
			heartbeat(st, *setp, started_at, 0);
			notify_status(st);
		}
		if (conf->metrics_file && now - metrics_at >= METRICS_EVERY) {
			metrics_at = now;
			write_metrics(st, conf, ws);
		}
		watchers_reap(ws);
		if (reload_requested) {
			reload_requested = 0;
			reload(path, setp, ws, ob);
			metrics_at = 0;
			continue;
		}
		/* Wait for a mailbox thread, a signal, the next poll or the
		 * watchdog. */
		secs = flush_at + conf->poll_interval - now_s();
		if (wd && secs > wd)
			secs = wd;
		if (secs < 1)
			secs = 1;
		struct timespec ts = {.tv_sec = (time_t)secs};
		if (ppoll(&pfd, 1, &ts, during) > 0)
			while (read(wake[0], drain, sizeof(drain)) > 0)
				;
		if (wd)
			notify("WATCHDOG=1");
	}
	notify("STOPPING=1");
	watchers_stop(ws, STOP_GRACE);
	log_info("peakqd stopping: sent=%lu temp_failed=%lu failed=%lu "
		 "uncertain=%lu",
		 ob->sent, ob->temp_failed, ob->failed, ob->uncertain);
	heartbeat(st, *setp, started_at, 1);
	write_metrics(st, (*setp)->conf, ws);
	ob->backlog = NULL;
	watchers_free(&ws);
	close(wake[0]);
	close(wake[1]);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"once", no_argument, NULL, 'o'},
	    {"check", no_argument, NULL, 'n'},
	    {"debug", no_argument, NULL, 'd'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"log", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = conf_default_path();
	enum log_target target = LOG_TO_AUTO;
	int once = 0, check = 0, verbose = 0, c, status = 0;
	struct setup *set = NULL;
	struct store *st = NULL;
	struct xerr err = {0};
	struct sigaction sa = {0};
	sigset_t block, during;

#ifdef M_ARENA_MAX
	/* glibc gives each thread that allocates (the SMTP senders, the
	 * IDLE watchers) an arena of its own, and their freed blocks are not
	 * reused by the others: over a 10,000-message drain the anonymous
	 * memory grew 10.0 -> 12.8 MB with them, and stays flat with one
	 * (tests/bench/RESULTS.md, section 1). The threads allocate little,
	 * so the shared lock costs nothing measurable. */
	mallopt(M_ARENA_MAX, 1);
#endif
	while ((c = getopt_long(argc, argv, "c:ndvhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'o':
			once = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'd':
			target = LOG_TO_HUMAN;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'l':
			if (strcmp(optarg, "stderr") == 0)
				target = LOG_TO_STDERR;
			else if (strcmp(optarg, "journal") == 0)
				target = LOG_TO_JOURNAL;
			else if (strcmp(optarg, "syslog") == 0)
				target = LOG_TO_SYSLOG;
			else if (strcmp(optarg, "auto") == 0)
				target = LOG_TO_AUTO;
			else {
				fprintf(stderr,
					"peakqd: unknown log target '%s' "
					"(stderr, journal, syslog, auto)\n",
					optarg);
				return EX_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("peakqd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "peakqd: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return EX_USAGE;
	}
	log_init("peakqd", check ? LOG_TO_STDERR : target, verbose);

	if (setup_load(path, &set, &err) < 0) {
		log_err("%s", err.msg);
		return EX_CONFIG;
	}
	conf_apply_time_zone(set->conf);
	if (check) {
		size_t nmb = 0;
		for (size_t i = 0; i < set->conf->naccounts; i++)
			nmb += set->conf->accounts[i].nmailboxes;
		printf("%s: configuration OK: %zu account(s), %zu mailbox(es), "
		       "%zu rule(s)\n",
		       path, set->conf->naccounts, nmb,
		       rules_count(set->rules));
		setup_unref(&set);
		return 0;
	}

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &during);
	sigdelset(&during, SIGTERM);
	sigdelset(&during, SIGINT);
	sigdelset(&during, SIGHUP);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)(time(NULL) ^ getpid()));

	if (store_open(set->conf->store_path,
		       STORE_CREATE | STORE_SMALL |
			   (set->conf->store_mode == 0660 ? STORE_GROUP : 0),
		       &st, &err) < 0) {
		log_err("%s", err.msg);
		setup_unref(&set);
		return err.kind == XERR_TEMP ? EX_TEMPFAIL : EX_CONFIG;
	}
	switch (store_set_mode(set->conf->store_path, set->conf->store_mode,
			       &err)) {
	case 1:
		log_info("store: %s now has mode %04o (store_mode)",
			 set->conf->store_path, set->conf->store_mode);
		break;
	case -1:
		log_warn("%s", err.msg);
		break;
	}
	struct outbox_ctx ob = {
	    .conf = set->conf, .store = st, .stop = &stop_requested};
	/* Before any thread, as libcurl asks (and its TLS libraries are then
	 * in memory from the start rather than from the first send). */
	if (smtp_global_init() < 0) {
		log_err("smtp: libcurl cannot start");
		status = EX_SOFTWARE;
	} else if (outbox_recover(&ob, &err) < 0) {
		log_err("%s", err.msg);
		status = EX_TEMPFAIL;
	} else if (once) {
		status = run_once(set, st, &ob, &during);
	} else {
		status = run(path, &set, st, &ob, &block, &during);
	}
	outbox_release(&ob);
	store_close(&st);
	setup_unref(&set);
	return status;
}
