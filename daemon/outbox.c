/* outbox: deliver acknowledgements at most once. The 'sending' mark is
 * committed before the SMTP transaction starts, so a crash in between is
 * visible afterwards ('uncertain') instead of causing a second message. */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "log.h"
#include "outbox.h"

#define DUE_BATCH 50

/* The daemon asked to stop (set by a signal handler, read by senders). */
static int stopping(const struct outbox_ctx *ctx)
{
	return ctx->stop && __atomic_load_n(ctx->stop, __ATOMIC_RELAXED);
}

static const char *helo_of(const struct conf_smtp *s)
{
	const char *at = strrchr(s->from_addr, '@');

	return at ? at + 1 : "localhost";
}

static int open_smtp(struct outbox_ctx *ctx, struct xerr *err)
{
	const struct conf_smtp *s = &ctx->conf->smtp;
	char *password = NULL;
	int r;

	if (ctx->smtp)
		return 0;
	if (s->user && conf_read_password(s->password_file, &password, err) < 0)
		return -1;
	struct smtp_params p = {
	    .host = s->host,
	    .port = s->port,
	    .implicit_tls = s->implicit_tls,
	    .starttls = s->starttls,
	    .ca_file = s->ca_file,
	    .user = s->user,
	    .password = password,
	    .helo = helo_of(s),
	    .envelope_from = s->envelope_from,
	    .timeout = s->timeout,
	    .stop = ctx->stop,
	};
	r = smtp_new(&p, &ctx->smtp, err);
	ctx->smtp_conf = ctx->conf;
	secret_free(&password);
	return r;
}

void outbox_release(struct outbox_ctx *ctx)
{
	struct xerr err = {0};

	if (outbox_commit_marks(ctx, &err) < 0)
		log_err(
		    "outbox: %zu acknowledgement(s) were sent but cannot be "
		    "marked so (they will show as uncertain): %s",
		    ctx->ndone, err.msg);
	smtp_free(&ctx->smtp);
	for (size_t i = 0; i < PQ_SMTP_CONNECTIONS_MAX - 1; i++) {
		struct outbox_ctx *l = ctx->lanes[i];
		if (!l)
			continue;
		outbox_release(l);
		store_close(&l->store);
		free(l);
		ctx->lanes[i] = NULL;
	}
}

int outbox_recover(struct outbox_ctx *ctx, struct xerr *err)
{
	int n = 0;

	if (store_begin(ctx->store, err) < 0)
		return -1;
	if (store_outbox_recover(ctx->store, now_s(), &n, err) < 0) {
		store_rollback(ctx->store);
		return -1;
	}
	if (store_commit(ctx->store, err) < 0)
		return -1;
	if (n)
		log_warn("outbox: %d acknowledgement(s) were being sent when "
			 "the daemon stopped; marked uncertain, not resent "
			 "(see peakq show)",
			 n);
	return 0;
}

/* Seconds until the next attempt: first doubling to 30 min, +-20%
 * jitter. */
static int64_t backoff(int64_t first, int attempts)
{
	int64_t d = first;

	for (int i = 1; i < attempts && d < 1800; i++)
		d *= 2;
	if (d > 1800)
		d = 1800;
	return d - d / 5 + (int64_t)(random() % (d / 5 * 2 + 1));
}

/* In st's transaction: the pending 'sent' marks of ctx. */
static int put_marks(struct store *st, const struct outbox_ctx *ctx,
		     struct xerr *err)
{
	for (size_t i = 0; i < ctx->ndone; i++)
		if (store_outbox_mark(st, ctx->done_ids[i], OUTBOX_SENT,
				      now_s(), ctx->done_attempts[i], 0, NULL,
				      err) < 0)
			return -1;
	return 0;
}

int outbox_commit_marks(struct outbox_ctx *ctx, struct xerr *err)
{
	if (ctx->ndone == 0)
		return 0;
	if (store_begin(ctx->store, err) < 0)
		return -1;
	if (put_marks(ctx->store, ctx, err) < 0) {
		store_rollback(ctx->store);
		return -1;
	}
	if (store_commit(ctx->store, err) < 0)
		return -1;
	ctx->ndone = 0;
	return 0;
}

static int mark(struct outbox_ctx *ctx, int64_t id,
		enum store_outbox_state state, int attempts, int64_t next_at,
		const char *why, struct xerr *err)
{
	if (store_begin(ctx->store, err) < 0)
		return -1;
	if (store_outbox_mark(ctx->store, id, state, now_s(), attempts, next_at,
			      why, err) < 0) {
		store_rollback(ctx->store);
		return -1;
	}
	return store_commit(ctx->store, err);
}

/* Group commit of the senders' claims. Each sender claims a row just
 * before its SMTP transaction, as one sender alone does, so a crash still
 * leaves at most one row 'sending' per sender; but a claim that arrives
 * while another sender's commit is under way waits for it, and the next
 * commit takes every claim queued meanwhile, with those senders' pending
 * 'sent' marks: one fsync for several acks instead of one each. */
struct claim_req {
	struct outbox_ctx *lane; /* its marks go in the same commit */
	int64_t id;
	int attempts;
	int got;   /* 1: claimed; 0: taken or finished by someone else */
	int state; /* 0 queued, 1 done, -1 failed (err) */
	struct xerr err;
};

struct claim_group {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct claim_req *q[PQ_SMTP_CONNECTIONS_MAX];
	int nq, busy;
};

/* Commit the claims of batch (n requests) on ctx's store handle, with
 * their senders' pending marks; each request's got is set. 0, or -1 with
 * err (nothing committed). */
static int claim_batch(struct outbox_ctx *ctx, struct claim_req **batch, int n,
		       struct xerr *err)
{
	if (store_begin(ctx->store, err) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		int got;
		if (put_marks(ctx->store, batch[i]->lane, err) < 0 ||
		    (got = store_outbox_claim(ctx->store, batch[i]->id,
					      batch[i]->attempts, err)) < 0) {
			store_rollback(ctx->store);
			return -1;
		}
		batch[i]->got = got;
	}
	return store_commit(ctx->store, err);
}

/* Claim row id (see claim_batch); 1 claimed, 0 not, -1 on a store error. */
static int group_claim(struct outbox_ctx *ctx, int64_t id, int attempts,
		       struct xerr *err)
{
	struct claim_group *g = ctx->group;
	struct claim_req me = {.lane = ctx, .id = id, .attempts = attempts};

	pthread_mutex_lock(&g->mu);
	g->q[g->nq++] = &me;
	while (me.state == 0) {
		if (g->busy) {
			pthread_cond_wait(&g->cv, &g->mu);
			continue;
		}
		/* This sender commits for every claim queued by now. */
		struct claim_req *batch[PQ_SMTP_CONNECTIONS_MAX];
		int n = g->nq;
		memcpy(batch, g->q, sizeof(batch[0]) * (size_t)n);
		struct xerr e = {0};
		g->nq = 0;
		g->busy = 1;
		pthread_mutex_unlock(&g->mu);
		int r = claim_batch(ctx, batch, n, &e);
		pthread_mutex_lock(&g->mu);
		/* The results, under the lock: the others read them when they
		 * wake. */
		for (int i = 0; i < n; i++) {
			if (r == 0)
				batch[i]->lane->ndone = 0;
			else
				batch[i]->err = e;
			batch[i]->state = r == 0 ? 1 : -1;
		}
		g->busy = 0;
		pthread_cond_broadcast(&g->cv);
	}
	pthread_mutex_unlock(&g->mu);
	if (me.state < 0) {
		*err = me.err;
		return -1;
	}
	return me.got;
}

/* Claim, send and record one row. Returns 0 when done with it (sent,
 * failed for good, or taken by another process), 1 after a temporary
 * failure (the server is probably unreachable), -1 on a store error. */
static int send_row(struct outbox_ctx *ctx, const struct store_outbox_row *r,
		    struct xerr *err)
{
	struct xerr serr = {0};
	int attempts = r->attempts + 1, got, uncertain = 0;

	if (ctx->group) {
		if ((got = group_claim(ctx, r->id, attempts, err)) < 0)
			return -1;
	} else {
		if (store_begin(ctx->store, err) < 0)
			return -1;
		if ((got = store_outbox_claim(ctx->store, r->id, attempts,
					      err)) < 0) {
			store_rollback(ctx->store);
			return -1;
		}
		if (store_commit(ctx->store, err) < 0)
			return -1;
	}
	if (!got)
		return 0;
	log_debug("outbox: sending row %lld (%s for case %lld)",
		  (long long)r->id, r->kind, (long long)r->case_id);
	if (open_smtp(ctx, &serr) == 0 &&
	    smtp_send(ctx->smtp, r->rcpt, r->data, r->len, &uncertain, &serr) ==
		0) {
		ctx->done_ids[ctx->ndone] = r->id;
		ctx->done_attempts[ctx->ndone++] = attempts;
		if (ctx->ndone >= (ctx->mark_batch ? ctx->mark_batch
						   : OUTBOX_MARK_BATCH) &&
		    outbox_commit_marks(ctx, err) < 0)
			return -1;
		ctx->sent++;
		log_info("outbox: %s for case %lld sent to %s message-id=<%s>",
			 r->kind, (long long)r->case_id, r->rcpt,
			 r->message_id);
		return 0;
	}
	if (uncertain) {
		if (store_begin(ctx->store, err) < 0)
			return -1;
		if (store_outbox_mark(ctx->store, r->id, OUTBOX_UNCERTAIN,
				      now_s(), attempts, 0, serr.msg,
				      err) < 0 ||
		    store_event_add(ctx->store, r->case_id, now_s(), "peakqd",
				    "ack_uncertain", serr.msg, err) < 0) {
			store_rollback(ctx->store);
			return -1;
		}
		if (store_commit(ctx->store, err) < 0)
			return -1;
		ctx->uncertain++;
		log_err("outbox: %s for case %lld uncertain, not resent (peakq "
			"outbox retry %lld sends it again): %s",
			r->kind, (long long)r->case_id, (long long)r->id,
			serr.msg);
		smtp_free(&ctx->smtp);
		return 0;
	}
	if (serr.kind == XERR_PERM ||
	    now_s() - r->created_at > ctx->conf->acks.give_up) {
		char why[600];
		snprintf(why, sizeof(why), "%s%s", serr.msg,
			 serr.kind == XERR_PERM ? "" : " (giving up: too old)");
		if (mark(ctx, r->id, OUTBOX_FAILED, attempts, 0, why, err) < 0)
			return -1;
		ctx->failed++;
		log_err("outbox: %s for case %lld failed for good: %s", r->kind,
			(long long)r->case_id, why);
		return 0;
	}
	int64_t next = now_s() + backoff(ctx->conf->acks.retry_delay, attempts);
	if (mark(ctx, r->id, OUTBOX_TEMP_FAIL, attempts, next, serr.msg, err) <
	    0)
		return -1;
	ctx->temp_failed++;
	log_warn("outbox: %s for case %lld not sent (attempt %d, retry in "
		 "%llds): %s",
		 r->kind, (long long)r->case_id, attempts,
		 (long long)(next - now_s()), serr.msg);
	smtp_free(&ctx->smtp);
	return 1;
}

/* Acknowledgements for messages received longer ago than acks.max_age are
 * not worth sending any more: "we'll reply within 4 hours" a day late. */
static int expire_stale(struct outbox_ctx *ctx, struct xerr *err)
{
	char why[128];
	int n = 0;

	snprintf(why, sizeof(why),
		 "the customer's message is older than acks.max_age (%llds)",
		 (long long)ctx->conf->acks.max_age);
	if (store_begin(ctx->store, err) < 0)
		return -1;
	if (store_outbox_expire(ctx->store, now_s() - ctx->conf->acks.max_age,
				now_s(), why, &n, err) < 0) {
		store_rollback(ctx->store);
		return -1;
	}
	if (store_commit(ctx->store, err) < 0)
		return -1;
	if (n)
		log_warn("outbox: %d acknowledgement(s) expired unsent: %s", n,
			 why);
	return 0;
}

/* Does row r wait for a backlog to be stored first? Only a recent ack:
 * an agent's reply, a retry or an ack queued over PQ_ACK_HOLD_SECS ago
 * goes now. */
static int held(const struct outbox_ctx *ctx, const struct store_outbox_row *r)
{
	return ctx->backlog &&
	       __atomic_load_n(ctx->backlog, __ATOMIC_RELAXED) > 0 &&
	       r->attempts == 0 && strcmp(r->kind, "ack") == 0 &&
	       r->created_at > now_s() - PQ_ACK_HOLD_SECS;
}

/* Send the due rows of part `part` of nparts (id % nparts). */
static int flush_part(struct outbox_ctx *ctx, int nparts, int part,
		      struct xerr *err)
{
	struct store_outbox_row *rows = NULL;
	size_t n = 0;
	int ret = -1, unreachable = 0, wait = 0;

	/* A reload may have changed the server or its credentials. */
	if (ctx->smtp && ctx->smtp_conf != ctx->conf)
		smtp_free(&ctx->smtp);
	ctx->held = 0;
	while (!unreachable && !wait && !stopping(ctx)) {
		if (store_outbox_due(ctx->store, now_s(), DUE_BATCH, nparts,
				     part, &rows, &n, err) < 0)
			return -1;
		if (n == 0)
			break;
		for (size_t i = 0; i < n && !unreachable; i++) {
			int r;
			/* oldest first: the rest are younger still */
			if (held(ctx, &rows[i])) {
				ctx->held = n - i;
				wait = 1;
				break;
			}
			if (stopping(ctx) ||
			    (ctx->down &&
			     __atomic_load_n(ctx->down, __ATOMIC_RELAXED)))
				break;
			if ((r = send_row(ctx, &rows[i], err)) < 0)
				goto out;
			/* A temporary failure: the server is probably down,
			 * stop hammering it until the next round (every
			 * sender). */
			unreachable = r == 1;
			if (unreachable && ctx->down)
				__atomic_store_n(ctx->down, 1,
						 __ATOMIC_RELAXED);
		}
		if (ctx->down && __atomic_load_n(ctx->down, __ATOMIC_RELAXED))
			unreachable = 1;
		for (size_t i = 0; i < n; i++)
			store_outbox_row_release(&rows[i]);
		free(rows);
		rows = NULL;
		n = 0;
		if (outbox_commit_marks(ctx, err) < 0)
			return -1;
	}
	ret = outbox_commit_marks(ctx, err);
out:
	for (size_t i = 0; i < n; i++)
		store_outbox_row_release(&rows[i]);
	free(rows);
	return ret;
}

struct lane_run {
	struct outbox_ctx *ctx;
	int nparts, part, ret;
	struct xerr err;
	pthread_t thread;
	int started;
};

static void *lane_main(void *p)
{
	struct lane_run *l = p;

	l->ret = flush_part(l->ctx, l->nparts, l->part, &l->err);
	return NULL;
}

/* Sender k (1..): its own store handle, opened once. NULL when the store
 * cannot be opened (logged; fewer senders work). */
static struct outbox_ctx *lane(struct outbox_ctx *ctx, int k)
{
	struct outbox_ctx *l = ctx->lanes[k - 1];
	struct xerr err = {0};

	if (!l) {
		struct store *st = NULL;
		if (store_open(ctx->conf->store_path, STORE_SMALL, &st, &err) <
		    0) {
			log_warn("outbox: sender %d not started: %s", k + 1,
				 err.msg);
			return NULL;
		}
		l = xcalloc(1, sizeof(*l));
		l->store = st;
		ctx->lanes[k - 1] = l;
	}
	l->conf = ctx->conf;
	l->stop = ctx->stop;
	l->backlog = ctx->backlog;
	return l;
}

int outbox_flush(struct outbox_ctx *ctx, struct xerr *err)
{
	struct lane_run runs[PQ_SMTP_CONNECTIONS_MAX] = {{0}};
	struct claim_group group = {.mu = PTHREAD_MUTEX_INITIALIZER,
				    .cv = PTHREAD_COND_INITIALIZER};
	int nparts = ctx->conf->smtp.connections, ret, down = 0;
	sigset_t all, old;

	if (expire_stale(ctx, err) < 0)
		return -1;
	if (nparts > PQ_SMTP_CONNECTIONS_MAX)
		nparts = PQ_SMTP_CONNECTIONS_MAX;
	for (int k = 1; k < nparts; k++)
		if (!(runs[k].ctx = lane(ctx, k))) {
			nparts = k;
			break;
		}
	ctx->mark_batch = 0;
	if (nparts <= 1)
		return flush_part(ctx, 1, 0, err);
	/* The crash exposure stays OUTBOX_MARK_BATCH rows in all. */
	ctx->mark_batch = OUTBOX_MARK_BATCH / (size_t)nparts;
	if (!ctx->mark_batch)
		ctx->mark_batch = 1;
	ctx->down = &down;
	ctx->group = &group;
	for (int k = 1; k < nparts; k++) {
		runs[k].ctx->mark_batch = ctx->mark_batch;
		runs[k].ctx->down = &down;
		runs[k].ctx->group = &group;
	}
	/* Signals stay with the calling thread (it may be interrupted). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int k = 1; k < nparts; k++) {
		runs[k].nparts = nparts;
		runs[k].part = k;
		runs[k].started = pthread_create(&runs[k].thread, NULL,
						 lane_main, &runs[k]) == 0;
		if (!runs[k].started) /* it does its part itself, below */
			log_warn("outbox: cannot start sender %d", k + 1);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	ret = flush_part(ctx, nparts, 0, err);
	for (int k = 1; k < nparts; k++) {
		struct outbox_ctx *l = runs[k].ctx;
		if (runs[k].started)
			pthread_join(runs[k].thread, NULL);
		else
			runs[k].ret = flush_part(ctx, nparts, k, &runs[k].err);
		if (runs[k].ret < 0 && ret == 0) {
			*err = runs[k].err;
			ret = -1;
		}
		l->down = NULL;
		l->group = NULL;
		ctx->sent += l->sent;
		ctx->temp_failed += l->temp_failed;
		ctx->failed += l->failed;
		ctx->uncertain += l->uncertain;
		ctx->held += l->held;
		l->sent = l->temp_failed = l->failed = l->uncertain = 0;
	}
	ctx->down = NULL;
	ctx->group = NULL;
	pthread_cond_destroy(&group.cv);
	pthread_mutex_destroy(&group.mu);
	return ret;
}

static int copy_row(const struct store_outbox_info *o, void *ctx)
{
	struct store_outbox_row *r = ctx;

	r->id = o->id;
	r->case_id = o->case_id;
	r->kind = xstrdup(o->kind ? o->kind : "");
	r->rcpt = o->rcpt ? xstrdup(o->rcpt) : NULL;
	r->message_id = xstrdup(o->message_id ? o->message_id : "");
	r->data = xmalloc(o->len + 1);
	if (o->len)
		memcpy(r->data, o->data, o->len);
	r->data[o->len] = '\0';
	r->len = o->len;
	r->attempts = o->attempts;
	/* a deliberate retry is not given up for its age */
	r->created_at = now_s();
	return 1;
}

int outbox_retry(struct outbox_ctx *ctx, int64_t id, const char *actor,
		 struct xerr *err)
{
	int got;

	if (store_begin(ctx->store, err) < 0)
		return -1;
	got = store_outbox_requeue(ctx->store, id, now_s(), actor, err);
	if (got < 0) {
		store_rollback(ctx->store);
		return -1;
	}
	if (store_commit(ctx->store, err) < 0)
		return -1;
	if (!got)
		return xerr_set(err, XERR_PERM,
				"outbox row %lld is not failed, uncertain, "
				"expired or waiting to retry (or has no "
				"message)",
				(long long)id);
	/* 0 sent (or failed for good), 1 will be retried */
	return outbox_send_now(ctx, id, err);
}

int outbox_send_now(struct outbox_ctx *ctx, int64_t id, struct xerr *err)
{
	struct store_outbox_row r = {0};
	int got;

	if ((got = store_outbox_get(ctx->store, id, copy_row, &r, err)) <= 0) {
		store_outbox_row_release(&r);
		return got < 0
			   ? -1
			   : xerr_set(err, XERR_BUG, "outbox row %lld is gone",
				      (long long)id);
	}
	got = send_row(ctx, &r, err);
	store_outbox_row_release(&r);
	if (got >= 0 && outbox_commit_marks(ctx, err) < 0)
		return -1;
	return got;
}
