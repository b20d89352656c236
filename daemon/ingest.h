/* ingest: the pipeline. The only module that knows them all: IMAP fetch ->
 * MIME parse -> thread -> classify -> may-we-ack -> ONE store transaction
 * (message, case, outbox row with the rendered acknowledgement, events,
 * checkpoint) -> flag or move on the server after COMMIT. Holds no SQL. */
#ifndef PEAKQ_INGEST_H
#define PEAKQ_INGEST_H

#include <signal.h>
#include <stddef.h>

#include "autoreply.h"
#include "conf.h"
#include "mime.h"
#include "notices.h"
#include "rules.h"
#include "store.h"
#include "tmpl.h"
#include "xerr.h"

struct ingest_counts {
	unsigned long fetched, cases, followups, duplicates, acks_queued,
	    suppressed, parse_errors, truncated, flagged;
};

struct ingest_ctx {
	const struct conf *conf;
	const struct ruleset *rules;
	const struct tmpl_set *tmpls;
	const struct notices *notices; /* may be NULL */
	struct store *store;
	volatile sig_atomic_t *stop; /* set asynchronously: finish and leave */
	/* Raised (atomically) while this mailbox stores a backlog of more
	 * than one lot, so that the outbox holds new acks; may be NULL. */
	int *backlog;
	struct ingest_counts counts; /* since the last reset */
};

/* What the daemon decides about one message before touching the store:
 * parse, classify, may we acknowledge. `peakq rules test` runs exactly
 * this. */
struct ingest_decision {
	struct message *msg; /* owned */
	struct rules_verdict verdict;
	int ack;		/* may acknowledge */
	const char *rcpt;	/* borrowed from msg when ack */
	const char *suppressed; /* static reason when !ack */
	/* The search index's text (store_fts_text()) of the sender, the
	 * subject and the body, prepared off the mailbox thread by
	 * ingest_decision_fts(); NULL when not prepared. Owned. */
	char *fts_who, *fts_subject, *fts_text;
};

/* What the rules look at, taken from msg (borrowed). */
void ingest_rules_input(const struct message *msg, struct rules_input *in);

/* conf may be NULL (no own addresses known); default_lang ("en"/"zh", or
 * NULL for the configuration's) is the language of a message whose own
 * cannot be told. Never fails. */
enum ingest_decide_flags {
	/* A message without Return-Path is read as an MTA would have
	 * delivered it, with its From address as the envelope sender (test
	 * fixtures and archives lack the header a delivery adds). */
	INGEST_ASSUME_DELIVERED = 1 << 0,
};
void ingest_decide(const struct conf *conf, const struct ruleset *rules,
		   const char *default_lang, unsigned flags, const char *raw,
		   size_t len, struct ingest_decision *d);
/* Prepare d's search-index text (the fts_ fields) from d->msg. */
void ingest_decision_fts(struct ingest_decision *d);
void ingest_decision_release(struct ingest_decision *d);

/* Render the acknowledgement of decision d (recipient d->rcpt) with
 * template t for case_id, as it would be sent: Message-ID message_id
 * (without <>), due time from received_at, notices active at now. Uses
 * ctx's conf, templates and notices only. Returns 0, or -1 (XERR_PERM). */
int ingest_render_ack(const struct ingest_ctx *ctx,
		      const struct ingest_decision *d, const struct tmpl *t,
		      int64_t case_id, const char *message_id,
		      int64_t received_at, int64_t now, struct buf *out,
		      struct xerr *err) WARN_UNUSED;

struct imap_conn;

/* Read a's password and connect and log in (imap_connect). */
int ingest_connect(const struct conf_account *a, struct imap_conn **ic_r,
		   struct xerr *err) WARN_UNUSED;

/* One pass over mailbox `name` of account a on connection ic: SELECT, flag
 * what was committed but not yet flagged, fetch and store everything above
 * the checkpoint, flag it. Records the mailbox's health. Returns 0 or -1. */
int ingest_mailbox(struct ingest_ctx *ctx, struct imap_conn *ic,
		   const struct conf_account *a, const char *name,
		   struct xerr *err) WARN_UNUSED;

/* Poll every mailbox of account once: connect, apply pending flags, fetch
 * and store new mail, flag it. Returns 0, or -1 (the account's error; the
 * caller logs it and retries later). Messages committed before an error are
 * kept. */
int ingest_account(struct ingest_ctx *ctx, const struct conf_account *a,
		   struct xerr *err) WARN_UNUSED;

#endif
