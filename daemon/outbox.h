/* outbox: the sender loop. Takes due rows from the store, marks them
 * 'sending' (committed) before SMTP, then 'sent', 'temp_fail' (retried with
 * backoff) or 'failed'. Rows found 'sending' at start become 'uncertain' and
 * are never resent automatically. Holds no SQL and renders nothing.
 *
 * smtp.connections (default 4) senders work at once, each over its own
 * SMTP connection and store handle, each on the rows whose id modulo the
 * number of senders is its own: a slow MTA's round trips overlap. The
 * caller's thread is the first sender; the others are threads started
 * for the flush, with every signal blocked. */
#ifndef PEAKQ_OUTBOX_H
#define PEAKQ_OUTBOX_H

#include <signal.h>

#include "bounds.h"
#include "conf.h"
#include "smtp.h"
#include "store.h"
#include "xerr.h"

/* A row is marked 'sending' (committed) before its SMTP transaction, one
 * at a time; the 'sent' marks of up to this many rows (all senders
 * together: each takes its share) are committed together (one fsync
 * instead of many). A crash before that commit leaves them 'uncertain',
 * never resent: they were in fact sent. */
#define OUTBOX_MARK_BATCH 16

struct claim_group;

struct outbox_ctx {
	const struct conf *conf;
	struct store *store;
	volatile sig_atomic_t *stop;
	struct smtp_client *smtp; /* opened on first use */
	unsigned long sent, temp_failed, failed, uncertain;
	/* Rows sent whose 'sent' mark is not committed yet (outbox.c). */
	int64_t done_ids[OUTBOX_MARK_BATCH];
	int done_attempts[OUTBOX_MARK_BATCH];
	size_t ndone, mark_batch; /* 0: OUTBOX_MARK_BATCH */
	int *down; /* set by a sender that found the server unreachable */
	/* Mailboxes storing a backlog now (watch.c; may be NULL): while
	 * non-zero, acks younger than PQ_ACK_HOLD_SECS wait. */
	const int *backlog;
	unsigned long held; /* acks left waiting by the last flush */
	/* outbox.c: the configuration smtp was opened with (a reload opens
	 * a new connection), and the other senders, made on first use. */
	const struct conf *smtp_conf;
	struct outbox_ctx *lanes[PQ_SMTP_CONNECTIONS_MAX - 1];
	/* While several senders flush (outbox.c): their claims share
	 * commits. NULL otherwise. */
	struct claim_group *group;
};

/* At start: 'sending' -> 'uncertain'. Logs each. Returns 0 or -1. */
int outbox_recover(struct outbox_ctx *ctx, struct xerr *err) WARN_UNUSED;
/* Send every due row (stops early when the server is unreachable). Returns
 * 0, or -1 on a store error. SMTP failures are recorded on the rows. */
int outbox_flush(struct outbox_ctx *ctx, struct xerr *err) WARN_UNUSED;
/* Send row id again now, on an agent's request (actor): for failed,
 * uncertain, expired or temp_fail rows. Returns 0 when it was sent or
 * failed for good (see the row), 1 when the server refused for now (the
 * daemon retries it), -1 with err (XERR_PERM: not in a state to retry). */
int outbox_retry(struct outbox_ctx *ctx, int64_t id, const char *actor,
		 struct xerr *err) WARN_UNUSED;
/* Send pending row id now (an agent's reply): 0 when done with it (sent,
 * failed for good, or the daemon took it first), 1 when the server
 * refused for now (the daemon retries it), -1 on a store error. */
int outbox_send_now(struct outbox_ctx *ctx, int64_t id,
		    struct xerr *err) WARN_UNUSED;
/* Commit the pending 'sent' marks (outbox_flush, outbox_send_now and
 * outbox_retry do it before they return). 0 or -1. */
int outbox_commit_marks(struct outbox_ctx *ctx, struct xerr *err) WARN_UNUSED;
/* Commit pending marks (logging a failure) and free the SMTP client. */
void outbox_release(struct outbox_ctx *ctx);

#endif
