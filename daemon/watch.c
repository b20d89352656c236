/* watch: the mailbox threads (see watch.h for the design). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imap.h"
#include "ingest.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "watch.h"

/* Reconnect backoff: first delay, cap (seconds). */
#define BACKOFF_FIRST 5
#define BACKOFF_MAX 900
/* ...and for the store's own trouble. */
#define BACKOFF_LOCAL_MAX 30

struct watcher {
	struct watchers *all;
	char *account, *mailbox;
	struct setup *born; /* the setup it was started under (main only) */
	pthread_t thread;
	int retired; /* told to stop (main only) */

	pthread_mutex_t lock; /* guards what follows */
	pthread_cond_t cond;
	int stop, idling, finished;
	struct imap_conn *conn; /* owned by the thread; others may wake or
				   abort it under lock */

	volatile sig_atomic_t stop_flag; /* ingest's "finish and leave" */
	atomic_ulong reconnects;
	struct watcher *next;
};

struct reconnect_total {
	char *account;
	unsigned long n;
};

struct watchers {
	pthread_mutex_t lock; /* guards current */
	struct setup *current;
	char *store_path;
	int wake_fd;
	int backlog;	      /* mailboxes storing a backlog now (atomic) */
	struct watcher *list; /* main thread only */
	struct reconnect_total *totals; /* of reaped threads (main only) */
	size_t ntotals;
};

static struct setup *current_setup(struct watchers *all)
{
	struct setup *s;

	pthread_mutex_lock(&all->lock);
	s = setup_ref(all->current);
	pthread_mutex_unlock(&all->lock);
	return s;
}

/* One of w's flags (stop, finished), read under its lock. */
static int flag(struct watcher *w, const int *f)
{
	int v;

	pthread_mutex_lock(&w->lock);
	v = *f;
	pthread_mutex_unlock(&w->lock);
	return v;
}

static int stopping(struct watcher *w)
{
	return flag(w, &w->stop);
}

/* Sleep secs, or until told to stop. */
static void nap(struct watcher *w, int64_t secs)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)secs;
	pthread_mutex_lock(&w->lock);
	while (!w->stop &&
	       pthread_cond_timedwait(&w->cond, &w->lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&w->lock);
}

/* The connection others may wake or abort (NULL: none). */
static void publish(struct watcher *w, struct imap_conn *c)
{
	pthread_mutex_lock(&w->lock);
	w->conn = c;
	pthread_mutex_unlock(&w->lock);
}

static void disconnect(struct watcher *w, struct imap_conn **c)
{
	publish(w, NULL);
	imap_close(c);
}

/* The mailbox's state for `peakq status`; a failure is only logged. */
static void set_state(struct watcher *w, struct store *st, const char *state,
		      const char *error)
{
	struct store_mailbox mb;
	struct xerr err = {0};

	if (!st)
		return;
	if (store_mailbox_get(st, w->account, w->mailbox, &mb, &err) < 0 ||
	    (error
		 ? store_mailbox_health(st, mb.id, now_s(), error, &err)
		 : store_mailbox_state(st, mb.id, state, 0, now_s(), &err)) < 0)
		log_warn("store: cannot record the state of account=%s "
			 "mailbox=%s: %s",
			 w->account, w->mailbox, err.msg);
}

/* Tell the main thread there may be acknowledgements to send. */
static void wake_main(struct watchers *all)
{
	ssize_t r;

	do
		r = write(all->wake_fd, "!", 1);
	while (r < 0 && errno == EINTR);
	/* EAGAIN: the pipe is full, the main thread will wake anyway. */
}

static void log_counts(const struct watcher *w, const struct ingest_counts *c)
{
	if (!c->fetched && !c->flagged)
		return;
	log_info("ingest: account=%s mailbox=%s fetched=%lu cases=%lu "
		 "followups=%lu duplicates=%lu acks_queued=%lu suppressed=%lu "
		 "parse_errors=%lu flagged=%lu",
		 w->account, w->mailbox, c->fetched, c->cases, c->followups,
		 c->duplicates, c->acks_queued, c->suppressed, c->parse_errors,
		 c->flagged);
}

/* One IDLE: until the server says anything (new mail, expunges, a
 * keepalive), refresh seconds pass, or we are told to stop. */
static int idle_once(struct watcher *w, struct imap_conn *c, int refresh,
		     struct store *st, struct xerr *err)
{
	enum imap_wait why;
	int stop;

	if (imap_idle_start(c, err) < 0)
		return -1;
	set_state(w, st, "idling", NULL);
	pthread_mutex_lock(&w->lock);
	w->idling = 1;
	stop = w->stop;
	pthread_mutex_unlock(&w->lock);
	why = stop ? IMAP_WAIT_INTERRUPTED : imap_idle_wait(c, refresh);
	pthread_mutex_lock(&w->lock);
	w->idling = 0;
	pthread_mutex_unlock(&w->lock);
	if (why == IMAP_WAIT_ERROR)
		return xerr_set(err, XERR_TEMP,
				"imap: connection lost while idling");
	log_debug("imap: account=%s mailbox=%s: idle ended (%s)", w->account,
		  w->mailbox,
		  why == IMAP_WAIT_DATA	     ? "server spoke"
		  : why == IMAP_WAIT_TIMEOUT ? "refresh"
					     : "interrupted");
	return imap_idle_done(c, err);
}

static void *watch_main(void *arg)
{
	struct watcher *w = arg;
	struct store *st = NULL;
	struct imap_conn *c = NULL;
	int failures = 0, local = 0;
	sigset_t all;

	/* Signals are the main thread's. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	log_debug("imap: account=%s mailbox=%s: watching", w->account,
		  w->mailbox);
	while (!stopping(w)) {
		struct xerr err = {0};
		struct setup *s = current_setup(w->all);
		const struct conf_account *a = setup_account(s, w->account);
		struct ingest_ctx ic = {.conf = s->conf,
					.rules = s->rules,
					.tmpls = s->tmpls,
					.notices = s->notices,
					.stop = &w->stop_flag,
					.backlog = &w->all->backlog};
		int64_t poll = s->conf->poll_interval, d;
		int idle, refresh, r;

		if (!a) { /* gone in a reload: the main thread stops us */
			setup_unref(&s);
			nap(w, 1);
			continue;
		}
		idle = a->idle;
		refresh = a->idle_refresh;
		/* A small page cache, like every handle of the daemon
		 * (store.h): each default 2 MB cache filled up over the
		 * first thousands of messages. */
		if (!st &&
		    store_open(w->all->store_path, STORE_SMALL, &st, &err) < 0)
			goto failed;
		if (!c) {
			set_state(w, st, "connecting", NULL);
			if (ingest_connect(a, &c, &err) < 0)
				goto failed;
			publish(w, c);
			if (failures) {
				atomic_fetch_add(&w->reconnects, 1);
				log_info("imap: account=%s mailbox=%s: "
					 "connected again after %d failed "
					 "attempt(s)",
					 w->account, w->mailbox, failures);
			}
		}
		ic.store = st;
		r = ingest_mailbox(&ic, c, a, w->mailbox, &err);
		log_counts(w, &ic.counts);
		if (ic.counts.cases || ic.counts.followups)
			wake_main(w->all);
		if (r < 0)
			goto failed;
		if (failures && local)
			log_info("ingest: account=%s mailbox=%s: the store "
				 "works again after %d failed attempt(s)",
				 w->account, w->mailbox, failures);
		failures = 0;
		local = 0;
		setup_unref(&s);
		if (idle && imap_can_idle(c)) {
			if (idle_once(w, c, refresh, st, &err) < 0)
				goto failed;
		} else {
			nap(w, poll);
		}
		continue;
	failed:
		setup_unref(&s);
		if (stopping(w))
			break;
		xerr_prefix(&err, "account '%s'", w->account);
		set_state(w, st, NULL, err.msg);
		/* A problem of the store (a full disk, a read-only file) is
		 * retried soon on the same connection: waiting longer helps
		 * nothing, and the server did nothing wrong. */
		local = err.local;
		if (!local)
			disconnect(w, &c);
		d = BACKOFF_FIRST;
		for (int k = 0; k < failures && d < BACKOFF_MAX; k++)
			d *= 2;
		if (d > (local ? BACKOFF_LOCAL_MAX : BACKOFF_MAX))
			d = local ? BACKOFF_LOCAL_MAX : BACKOFF_MAX;
		d += random() % (d / 4 + 1);
		failures++;
		log_err("%s (retry in %llds)", err.msg, (long long)d);
		nap(w, d);
	}
	disconnect(w, &c);
	store_close(&st);
	log_debug("imap: account=%s mailbox=%s: stopped", w->account,
		  w->mailbox);
	pthread_mutex_lock(&w->lock);
	w->finished = 1;
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct watchers *watchers_new(const char *store_path, int wake_fd)
{
	struct watchers *all = xcalloc(1, sizeof(*all));

	pthread_mutex_init(&all->lock, NULL);
	all->store_path = xstrdup(store_path);
	all->wake_fd = wake_fd;
	return all;
}

static void start(struct watchers *all, struct setup *s, const char *account,
		  const char *mailbox)
{
	struct watcher *w = xcalloc(1, sizeof(*w));
	pthread_condattr_t ca;
	int r;

	w->all = all;
	w->account = xstrdup(account);
	w->mailbox = xstrdup(mailbox);
	w->born = setup_ref(s);
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&w->reconnects, 0);
	r = pthread_create(&w->thread, NULL, watch_main, w);
	if (r != 0)
		fatal(71, "cannot start a thread for account=%s mailbox=%s: %s",
		      account, mailbox, strerror(r));
	w->next = all->list;
	all->list = w;
}

/* Tell w to stop: it finishes the batch in hand. */
static void retire(struct watcher *w)
{
	w->retired = 1;
	w->stop_flag = 1;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	if (w->idling && w->conn)
		imap_idle_interrupt(w->conn);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static int has_mailbox(const struct conf_account *a, const char *mailbox)
{
	for (size_t i = 0; a && i < a->nmailboxes; i++)
		if (strcmp(a->mailboxes[i], mailbox) == 0)
			return 1;
	return 0;
}

void watchers_apply(struct watchers *all, struct setup *s)
{
	struct setup *old;

	pthread_mutex_lock(&all->lock);
	old = all->current;
	all->current = setup_ref(s);
	pthread_mutex_unlock(&all->lock);
	setup_unref(&old);

	for (struct watcher *w = all->list; w; w = w->next) {
		const struct conf_account *now, *then;
		if (w->retired)
			continue;
		now = setup_account(s, w->account);
		then = setup_account(w->born, w->account);
		if (!has_mailbox(now, w->mailbox)) {
			log_info(
			    "imap: account=%s mailbox=%s: no longer in the "
			    "configuration; stopping its connection",
			    w->account, w->mailbox);
			retire(w);
		} else if (!conf_account_same_connection(then, now)) {
			log_info("imap: account=%s mailbox=%s: connection "
				 "settings changed; reconnecting",
				 w->account, w->mailbox);
			retire(w);
		} else {
			setup_unref(&w->born);
			w->born = setup_ref(s);
		}
	}
	for (size_t i = 0; i < s->conf->naccounts; i++) {
		const struct conf_account *a = &s->conf->accounts[i];
		for (size_t j = 0; j < a->nmailboxes; j++) {
			int live = 0;
			for (struct watcher *w = all->list; w && !live;
			     w = w->next)
				live = !w->retired &&
				       strcmp(w->account, a->name) == 0 &&
				       strcmp(w->mailbox, a->mailboxes[j]) == 0;
			if (!live)
				start(all, s, a->name, a->mailboxes[j]);
		}
	}
}

static void add_total(struct watchers *all, const char *account,
		      unsigned long n)
{
	size_t i;

	for (i = 0; i < all->ntotals; i++)
		if (strcmp(all->totals[i].account, account) == 0)
			break;
	if (i == all->ntotals) {
		all->totals = xreallocarray(all->totals, all->ntotals + 1,
					    sizeof(*all->totals));
		all->totals[i].account = xstrdup(account);
		all->totals[i].n = 0;
		all->ntotals++;
	}
	all->totals[i].n += n;
}

static void join_free(struct watchers *all, struct watcher *w)
{
	pthread_join(w->thread, NULL);
	add_total(all, w->account, atomic_load(&w->reconnects));
	setup_unref(&w->born);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w->account);
	free(w->mailbox);
	free(w);
}

static int finished(struct watcher *w)
{
	return flag(w, &w->finished);
}

void watchers_reap(struct watchers *all)
{
	for (struct watcher **p = &all->list; *p;) {
		struct watcher *w = *p;
		if (w->retired && finished(w)) {
			*p = w->next;
			join_free(all, w);
		} else {
			p = &w->next;
		}
	}
}

unsigned long watchers_reconnects(struct watchers *all, const char *account)
{
	unsigned long n = 0;

	for (size_t i = 0; i < all->ntotals; i++)
		if (strcmp(all->totals[i].account, account) == 0)
			n += all->totals[i].n;
	for (struct watcher *w = all->list; w; w = w->next)
		if (strcmp(w->account, account) == 0)
			n += atomic_load(&w->reconnects);
	return n;
}

const int *watchers_backlog(const struct watchers *w)
{
	return &w->backlog;
}

size_t watchers_running(struct watchers *all)
{
	size_t n = 0;

	for (struct watcher *w = all->list; w; w = w->next)
		n++;
	return n;
}

void watchers_stop(struct watchers *all, int grace)
{
	int64_t until;

	for (struct watcher *w = all->list; w; w = w->next)
		retire(w);
	until = mono_ms() + (int64_t)grace * 1000;
	for (;;) {
		int busy = 0;
		for (struct watcher *w = all->list; w; w = w->next)
			busy += !finished(w);
		if (!busy)
			break;
		if (mono_ms() >= until) {
			for (struct watcher *w = all->list; w; w = w->next) {
				pthread_mutex_lock(&w->lock);
				if (!w->finished && w->conn) {
					log_warn("imap: account=%s mailbox=%s: "
						 "server still busy after %d "
						 "s; closing the connection",
						 w->account, w->mailbox, grace);
					imap_abort(w->conn);
				}
				pthread_mutex_unlock(&w->lock);
			}
			break;
		}
		usleep(20 * 1000);
	}
	while (all->list) {
		struct watcher *w = all->list;
		all->list = w->next;
		join_free(all, w);
	}
}

void watchers_free(struct watchers **allp)
{
	struct watchers *all = *allp;

	if (!all)
		return;
	watchers_stop(all, 0);
	for (size_t i = 0; i < all->ntotals; i++)
		free(all->totals[i].account);
	free(all->totals);
	setup_unref(&all->current);
	pthread_mutex_destroy(&all->lock);
	free(all->store_path);
	free(all);
	*allp = NULL;
}
