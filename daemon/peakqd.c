/* peakqd: the daemon's main(): arguments, signals, the poll loop, and
 * reloading. All decisions live in ingest.c and outbox.c. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <getopt.h>
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

#include "conf.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "notices.h"
#include "outbox.h"
#include "rules.h"
#include "store.h"
#include "tmpl.h"

/* The metrics file is rewritten at most this often (seconds). */
#define METRICS_EVERY 10

static volatile sig_atomic_t stop_requested, reload_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

/* Everything loaded from files, swapped as one on SIGHUP. */
struct setup {
	struct conf *conf;
	struct ruleset *rules;
	struct tmpl_set *tmpls;
	struct notices *notices; /* NULL when not configured */
};

static void setup_free(struct setup *s)
{
	conf_free(&s->conf);
	rules_free(&s->rules);
	tmpl_free(&s->tmpls);
	notices_free(&s->notices);
}

static int template_exists(const char *name, void *ctx)
{
	const struct tmpl *t = tmpl_find(ctx, "en", name);

	return t && strcmp(tmpl_lang(t), "en") == 0;
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

static int setup_load(const char *path, struct setup *s, struct xerr *err)
{
	memset(s, 0, sizeof(*s));
	if (conf_load(path, &s->conf, err) < 0)
		goto fail;
	if (rules_load_dir(s->conf->rules_dir, &s->rules, err) < 0)
		goto fail;
	if (tmpl_load_dir(s->conf->templates_dir, &s->tmpls, err) < 0)
		goto fail;
	if (rules_check_templates(s->rules, template_exists, s->tmpls, err) < 0)
		goto fail;
	if (s->conf->notices_file &&
	    notices_load(s->conf->notices_file, &s->notices, err) < 0)
		goto fail;
	return 0;
fail:
	setup_free(s);
	return -1;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: peakqd [-c FILE] [--once] [-n] [-d] [-v] "
	    "[--log=TARGET]\n"
	    "\n"
	    "Watch the support mailboxes over IMAP, queue every message as "
	    "a case,\n"
	    "and send each new case its acknowledgement over SMTP.\n"
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
	    "Signals: SIGTERM/SIGINT finish the message in hand and exit; "
	    "SIGHUP\n"
	    "reloads configuration, rules and templates (kept if invalid).\n"
	    "See peakqd(8) and peakq.yaml(5).\n",
	    conf_default_path());
}

/* Sleep up to secs, returning early on a signal. Signals stay blocked
 * outside this call so no wake-up is lost. */
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

static void nap(int secs, const sigset_t *during)
{
	struct timespec ts = {.tv_sec = secs};

	if (stop_requested || reload_requested)
		return;
	ppoll(NULL, 0, &ts, during);
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
	struct setup set;
	struct store *st = NULL;
	struct xerr err = {0};
	struct sigaction sa = {0};
	sigset_t block, during;
	int64_t *next_try = NULL, started_at = 0, metrics_at = 0;
	int *failures = NULL;
	unsigned long *reconnects = NULL;

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
	conf_apply_time_zone(set.conf);
	if (check) {
		size_t nmb = 0;
		for (size_t i = 0; i < set.conf->naccounts; i++)
			nmb += set.conf->accounts[i].nmailboxes;
		printf("%s: configuration OK: %zu account(s), %zu mailbox(es), "
		       "%zu rule(s)\n",
		       path, set.conf->naccounts, nmb, rules_count(set.rules));
		setup_free(&set);
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

	if (store_open(set.conf->store_path, STORE_CREATE, &st, &err) < 0) {
		log_err("%s", err.msg);
		setup_free(&set);
		return err.kind == XERR_TEMP ? EX_TEMPFAIL : EX_CONFIG;
	}
	struct outbox_ctx ob = {
	    .conf = set.conf, .store = st, .stop = &stop_requested};
	if (outbox_recover(&ob, &err) < 0) {
		log_err("%s", err.msg);
		status = EX_TEMPFAIL;
		goto out;
	}
	log_info("peakqd %s started: %zu account(s), %zu rule(s), store %s%s",
		 PACKAGE_VERSION, set.conf->naccounts, rules_count(set.rules),
		 set.conf->store_path, once ? " (once)" : "");
	next_try = xcalloc(set.conf->naccounts, sizeof(*next_try));
	failures = xcalloc(set.conf->naccounts, sizeof(*failures));
	reconnects = xcalloc(set.conf->naccounts, sizeof(*reconnects));
	started_at = now_s();
	heartbeat(st, &set, started_at, 0);
	notify("READY=1");
	notify_status(st);

	while (!stop_requested) {
		struct ingest_ctx ic = {.conf = set.conf,
					.rules = set.rules,
					.tmpls = set.tmpls,
					.notices = set.notices,
					.store = st,
					.stop = &stop_requested};
		int64_t now = now_s(), wake = now + set.conf->poll_interval;

		/* Unblock while talking to servers so SIGTERM interrupts a
		 * stalled read; the message in hand is finished first. */
		sigprocmask(SIG_SETMASK, &during, NULL);
		for (size_t i = 0; i < set.conf->naccounts && !stop_requested;
		     i++) {
			const struct conf_account *a = &set.conf->accounts[i];
			if (next_try[i] > now) {
				if (next_try[i] < wake)
					wake = next_try[i];
				continue;
			}
			memset(&ic.counts, 0, sizeof(ic.counts));
			if (ingest_account(&ic, a, &err) < 0) {
				account_down(st, a, err.msg);
				int64_t d = 5;
				for (int k = 0; k < failures[i] && d < 900; k++)
					d *= 2;
				if (d > 900)
					d = 900;
				d += random() % (d / 4 + 1);
				failures[i]++;
				next_try[i] = now_s() + d;
				log_err("%s (retry in %llds)", err.msg,
					(long long)d);
				if (once)
					status = EX_TEMPFAIL;
			} else {
				if (failures[i])
					reconnects[i]++;
				failures[i] = 0;
				next_try[i] = 0;
			}
			if (ic.counts.fetched || ic.counts.flagged)
				log_info(
				    "ingest: account=%s fetched=%lu "
				    "cases=%lu followups=%lu "
				    "duplicates=%lu acks_queued=%lu "
				    "suppressed=%lu parse_errors=%lu "
				    "flagged=%lu",
				    a->name, ic.counts.fetched, ic.counts.cases,
				    ic.counts.followups, ic.counts.duplicates,
				    ic.counts.acks_queued, ic.counts.suppressed,
				    ic.counts.parse_errors, ic.counts.flagged);
		}
		if (!stop_requested && outbox_flush(&ob, &err) < 0)
			log_err("%s", err.msg);
		heartbeat(st, &set, started_at, 0);
		notify_status(st);
		if (set.conf->metrics_file &&
		    now_s() - metrics_at >= METRICS_EVERY) {
			metrics_at = now_s();
			if (metrics_write(set.conf->metrics_file, st, set.conf,
					  reconnects, &err) < 0)
				log_warn("%s", err.msg);
		}
		sigprocmask(SIG_BLOCK, &block, NULL);
		if (once)
			break;
		if (reload_requested) {
			struct setup fresh;
			reload_requested = 0;
			notify("RELOADING=1");
			if (setup_load(path, &fresh, &err) < 0) {
				log_err("reload refused, keeping the running "
					"configuration: %s",
					err.msg);
			} else if (strcmp(fresh.conf->store_path,
					  set.conf->store_path) != 0) {
				log_err("reload refused: 'store' cannot change "
					"while running (restart peakqd)");
				setup_free(&fresh);
			} else {
				setup_free(&set);
				set = fresh;
				conf_apply_time_zone(set.conf);
				ob.conf = set.conf;
				free(next_try);
				free(failures);
				free(reconnects);
				next_try = xcalloc(set.conf->naccounts,
						   sizeof(*next_try));
				failures = xcalloc(set.conf->naccounts,
						   sizeof(*failures));
				reconnects = xcalloc(set.conf->naccounts,
						     sizeof(*reconnects));
				metrics_at = 0;
				log_info("reloaded: %zu account(s), %zu "
					 "rule(s), %zu notice(s)",
					 set.conf->naccounts,
					 rules_count(set.rules),
					 notices_count(set.notices));
			}
			notify("READY=1");
			continue;
		}
		/* Sleep until the next poll, waking for the watchdog. */
		for (int64_t secs = wake - now_s(), wd = watchdog_secs();
		     secs > 0 && !stop_requested && !reload_requested;
		     secs = wake - now_s()) {
			nap(wd && secs > wd ? (int)wd : (int)secs, &during);
			if (wd)
				notify("WATCHDOG=1");
		}
	}
	notify("STOPPING=1");
	log_info("peakqd stopping: sent=%lu temp_failed=%lu failed=%lu",
		 ob.sent, ob.temp_failed, ob.failed);
	heartbeat(st, &set, started_at, 1);
	if (set.conf->metrics_file &&
	    metrics_write(set.conf->metrics_file, st, set.conf, reconnects,
			  &err) < 0)
		log_warn("%s", err.msg);
out:
	outbox_release(&ob);
	store_close(&st);
	setup_free(&set);
	free(next_try);
	free(failures);
	free(reconnects);
	return status;
}
