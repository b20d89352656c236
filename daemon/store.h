/* store: the only module with SQL. Opens the SQLite queue (WAL,
 * synchronous=FULL, foreign keys), runs forward-only migrations, and offers
 * typed queries for the pipeline, the sender and the CLI. Knows nothing of
 * IMAP or SMTP. Every write runs inside store_begin()/store_commit() (BEGIN
 * IMMEDIATE), which the caller owns. */
#ifndef PEAKQ_STORE_H
#define PEAKQ_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "xerr.h"

struct store;

enum store_open_flags {
	STORE_CREATE = 1 << 0,	 /* create the file and schema if missing */
	STORE_READONLY = 1 << 1, /* CLI read commands */
	STORE_GROUP = 1 << 2,	 /* with STORE_CREATE: mode 0660, not 0600 */
	STORE_SMALL = 1 << 3,	 /* a 256 KiB page cache, not SQLite's 2 MB:
				    the daemon's handles, so that its memory
				    stays flat as the store grows (the OS
				    page cache holds the file anyway) */
};

/* Open path. Returns 0 and an owned handle, or -1 (XERR_TEMP when the
 * database is busy or the disk is unavailable, XERR_CONFIG when the file is
 * missing without STORE_CREATE or newer than this program). */
int store_open(const char *path, unsigned flags, struct store **st_r,
	       struct xerr *err) WARN_UNUSED;
void store_close(struct store **st);

/* Give the database file (and its -wal and -shm, when present) mode
 * `mode` if they have another and are ours. Returns 1 when something was
 * changed, 0 when nothing needed to be, -1 (XERR_CONFIG) when a file is
 * not ours or chmod failed. */
int store_set_mode(const char *path, unsigned mode,
		   struct xerr *err) WARN_UNUSED;

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. Rollback never fails. */
int store_begin(struct store *st, struct xerr *err) WARN_UNUSED;
int store_commit(struct store *st, struct xerr *err) WARN_UNUSED;
void store_rollback(struct store *st);

/* A random token made when the store was created; part of the Message-IDs
 * we generate so that two stores never collide. Borrowed. */
const char *store_instance(const struct store *st);
/* The Message-ID (without <>) of outbox row `row` of kind ("ack",
 * "esc", "reply"; row 0 for a dry run), sent from from_addr:
 * "peakq-KIND-ROW.INSTANCE@DOMAIN". Owned. */
char *store_message_id(const struct store *st, const char *kind, int64_t row,
		       const char *from_addr);
int store_schema_version(struct store *st);

/* ---------------------------------------------------------------- mailboxes */
struct store_mailbox {
	int64_t id;
	uint32_t uidvalidity; /* 0 before the first SELECT */
	uint32_t last_uid;
};

/* Get (creating if needed) the row for account/name. */
int store_mailbox_get(struct store *st, const char *account, const char *name,
		      struct store_mailbox *mb_r, struct xerr *err) WARN_UNUSED;
/* A new UIDVALIDITY voids last_uid (set to 0). */
int store_mailbox_set_uidvalidity(struct store *st, int64_t id,
				  uint32_t uidvalidity,
				  struct xerr *err) WARN_UNUSED;
int store_mailbox_set_last_uid(struct store *st, int64_t id, uint32_t uid,
			       struct xerr *err) WARN_UNUSED;
/* Record health: error NULL means a successful poll at `at`. */
int store_mailbox_health(struct store *st, int64_t id, int64_t at,
			 const char *error, struct xerr *err) WARN_UNUSED;

/* State of a mailbox now: "connecting", "fetching" (backlog messages to
 * go), "ok", "error"; store_mailbox_health sets ok/error too. */
int store_mailbox_state(struct store *st, int64_t id, const char *state,
			long long backlog, int64_t at,
			struct xerr *err) WARN_UNUSED;
/* The daemon's heartbeat (stopping: it is stopping cleanly now). */
int store_daemon_beat(struct store *st, long long pid, const char *version,
		      int64_t started_at, int64_t now, int64_t poll_interval,
		      int stopping, struct xerr *err) WARN_UNUSED;

/* A sign of life between heartbeats (a long batch of work). */
int store_daemon_touch(struct store *st, int64_t now,
		       struct xerr *err) WARN_UNUSED;

struct store_daemon_info {
	int known;
	long long pid;
	char version[32];
	int64_t started_at, heartbeat_at, stopped_at, poll_interval;
};
struct store_mailbox_info {
	const char *account, *name, *state, *last_error;
	int64_t state_at, last_ok_at, last_error_at;
	long long backlog;
	uint32_t uidvalidity, last_uid;
};
/* The daemon's last heartbeat and every mailbox's state (cb; NULL for
 * the heartbeat alone). */
int store_health(struct store *st, struct store_daemon_info *d_r,
		 int (*cb)(const struct store_mailbox_info *m, void *ctx),
		 void *ctx, struct xerr *err) WARN_UNUSED;
/* Totals for the metrics file: cb(name, label, label value, n) for cases
 * by category, messages, acks by state, ack latency buckets (le = 1, 2,
 * 5, 10, 30, 60, 300, 3600, +Inf seconds, cumulative) and their sum. */
int store_metrics(struct store *st,
		  int (*cb)(const char *name, const char *label,
			    const char *value, long long n, void *ctx),
		  void *ctx, struct xerr *err) WARN_UNUSED;

/* ---------------------------------------------------------------- ingest */

/* Does a message with this (mailbox, uidvalidity, uid) exist? 1/0/-1. */
int store_message_seen(struct store *st, int64_t mailbox_id,
		       uint32_t uidvalidity, uint32_t uid,
		       struct xerr *err) WARN_UNUSED;
/* The case of a stored message (inbound or one we sent) with this
 * Message-ID. 1 and *case_id_r, 0 when none, -1. */
int store_case_by_message_id(struct store *st, const char *message_id,
			     int64_t *case_id_r, struct xerr *err) WARN_UNUSED;
/* The case of an already stored copy of the same message (same Message-ID
 * and body hash). 1/0/-1. */
int store_case_by_duplicate(struct store *st, const char *message_id,
			    const char *body_hash, int64_t *case_id_r,
			    struct xerr *err) WARN_UNUSED;
/* Does case id exist with this customer address? 1/0/-1. */
int store_case_has_customer(struct store *st, int64_t case_id,
			    const char *customer, struct xerr *err) WARN_UNUSED;

struct store_case_new {
	const char *category, *priority, *rule, *tmpl, *lang;
	int escalate;
	int sla_hours;
	int64_t received_at;
	const char *customer, *customer_name, *order_id, *subject;
	const char *tags; /* space-separated, may be NULL */
	int64_t mailbox_id;
};
int store_case_insert(struct store *st, const struct store_case_new *c,
		      int64_t *id_r, struct xerr *err) WARN_UNUSED;
/* A customer wrote again on case_id at `at`: a resolved case is reopened
 * (*reopened_r 1), a pending one (we answered, waiting for them) is open
 * again (*reopened_r 2); new if nobody has it. */
int store_case_followup(struct store *st, int64_t case_id, int64_t at,
			int *reopened_r, struct xerr *err) WARN_UNUSED;

struct store_message_new {
	int64_t case_id, mailbox_id;
	uint32_t uidvalidity, uid;
	const char *message_id, *in_reply_to, *refs;
	const char *from_addr, *from_name, *reply_to, *subject;
	int64_t sent_date, received_at;
	const char *lang;
	const char *text;
	const char *raw;
	size_t raw_len;
	const char *body_hash;
	const char *parse_error;
	const char *order_ids; /* space-separated */
	/* Set: the insert leaves the message out of the search index and
	 * the caller adds it with store_message_search() in the same
	 * transaction. Not set: the insert adds it, computing the text. */
	int search_later;
};
/* Insert; 1 and *id_r when inserted, 0 when (mailbox, uidvalidity, uid)
 * already exists, -1 on error. */
int store_message_insert(struct store *st, const struct store_message_new *m,
			 int64_t *id_r, struct xerr *err) WARN_UNUSED;
/* Add message id to the search index: the text of "from_addr from_name",
 * the subject and the text, each already through store_fts_text() (or
 * NULL). FTS5 writes the words it holds to disk at the start of every
 * statement that opens a savepoint (most inserts here do), so a caller
 * storing many messages in one transaction adds all their search text
 * after its other statements, just before committing: one index segment
 * per transaction instead of one per message, and far less merging as the
 * index grows (issue 9, store growth). */
int store_message_search(struct store *st, int64_t id, const char *who,
			 const char *subject, const char *text,
			 struct xerr *err) WARN_UNUSED;

int store_event_add(struct store *st, int64_t case_id, int64_t at,
		    const char *actor, const char *kind, const char *detail,
		    struct xerr *err) WARN_UNUSED;

/* UIDs of messages committed but not yet flagged/moved on the server. Owned
 * array in *uids_r (free()). */
int store_imap_pending(struct store *st, int64_t mailbox_id,
		       uint32_t uidvalidity, uint32_t **uids_r, size_t *n_r,
		       struct xerr *err) WARN_UNUSED;
int store_imap_done(struct store *st, int64_t mailbox_id, uint32_t uidvalidity,
		    const uint32_t *uids, size_t n,
		    struct xerr *err) WARN_UNUSED;

/* ---------------------------------------------------------------- outbox */
enum store_outbox_state {
	OUTBOX_PENDING,
	OUTBOX_SENDING,
	OUTBOX_SENT,
	OUTBOX_TEMP_FAIL,
	OUTBOX_FAILED,
	OUTBOX_UNCERTAIN,
	OUTBOX_SUPPRESSED,
	OUTBOX_EXPIRED, /* too late to be worth sending */
};
const char *store_outbox_state_name(enum store_outbox_state s);

struct store_outbox_new {
	int64_t case_id;
	const char *kind;	/* "ack" */
	const char *dedupe_key; /* e.g. "ack:<case>"; UNIQUE */
	const char *rcpt;	/* NULL when suppressed */
	enum store_outbox_state state;
	const char *reason; /* suppression reason */
	int64_t created_at;
};
/* Insert; 1 and *id_r, 0 when dedupe_key exists, -1. */
int store_outbox_insert(struct store *st, const struct store_outbox_new *o,
			int64_t *id_r, struct xerr *err) WARN_UNUSED;
/* Attach the rendered message and its Message-ID to row id. */
int store_outbox_set_message(struct store *st, int64_t id,
			     const char *message_id, const char *data,
			     size_t len, struct xerr *err) WARN_UNUSED;

struct store_outbox_row {
	int64_t id, case_id;
	char *kind, *rcpt, *message_id;
	char *data;
	size_t len;
	int attempts;
	int64_t created_at;
};
void store_outbox_row_release(struct store_outbox_row *r);
/* Up to max rows due for sending at `now` (pending, or temp_fail whose
 * next_at passed), oldest first, among those whose id % nparts == part
 * (parallel senders share the work that way; 1, 0: all). Owned array
 * (release each row, free()). */
int store_outbox_due(struct store *st, int64_t now, size_t max, int nparts,
		     int part, struct store_outbox_row **rows_r, size_t *n_r,
		     struct xerr *err) WARN_UNUSED;
/* Move row id to state, recording attempts, next_at, last_error and, for
 * OUTBOX_SENT, sent_at = at (and the case's acked_at for kind "ack"); adds
 * the matching event. */
int store_outbox_mark(struct store *st, int64_t id,
		      enum store_outbox_state state, int64_t at, int attempts,
		      int64_t next_at, const char *last_error,
		      struct xerr *err) WARN_UNUSED;
/* Atomically take row id for sending: pending or temp_fail -> sending.
 * 1 when this caller got it, 0 when another process did or its state
 * changed, -1. Commit before talking SMTP. */
int store_outbox_claim(struct store *st, int64_t id, int attempts,
		       struct xerr *err) WARN_UNUSED;
/* At start: rows left in 'sending' by a crash become 'uncertain' (never
 * resent automatically). *n_r counts them. */
int store_outbox_recover(struct store *st, int64_t now, int *n_r,
			 struct xerr *err) WARN_UNUSED;

/* ---------------------------------------------------------------- reading */
struct store_case {
	int64_t id;
	char *status, *category, *priority, *rule, *tmpl, *lang;
	int escalated, sla_hours;
	int64_t due_at, created_at, updated_at, acked_at, first_reply_at,
	    resolved_at;
	char *customer, *customer_name, *order_id, *subject, *assignee;
	char *mailbox;	 /* "account/name" */
	char *ack_state; /* state of the ack outbox row, NULL if none */
	int nmessages;
	char *tags;	  /* space-separated, NULL when none */
	char *escalation; /* the latest escalation's reason, or NULL */
	int nnotes;
};
void store_case_release(struct store_case *c);

struct store_filter {
	const char *status;			    /* NULL: all but resolved */
	int all;				    /* include resolved */
	const char *category, *priority, *assignee; /* NULL: any */
	const char *mailbox; /* "account" or "account/folder"; NULL: any */
	int unassigned;	     /* nobody has claimed it */
	int overdue;	     /* new or open, past due */
	int escalated;
	int workable;	    /* new or open (not pending on the customer) */
	int64_t due_before; /* due at or before; 0: any */
	int64_t since;	    /* created at or after; 0: any */
	size_t limit;	    /* 0: no limit */
};
/* Cases in queue order (escalated, overdue, priority, due time). cb returns
 * 0 to go on, non-zero to stop. */
int store_case_list(struct store *st, const struct store_filter *f, int64_t now,
		    int (*cb)(const struct store_case *c, void *ctx), void *ctx,
		    struct xerr *err) WARN_UNUSED;
/* 1 and *c_r filled, 0 when no such case, -1. */
int store_case_get(struct store *st, int64_t id, struct store_case *c_r,
		   struct xerr *err) WARN_UNUSED;

/* Strings borrowed for the callback's duration. */
struct store_message_row {
	int64_t id;
	const char *message_id, *in_reply_to, *from_addr, *from_name, *reply_to,
	    *subject, *lang, *text, *parse_error, *order_ids, *mailbox;
	int64_t sent_date, received_at;
	uint32_t uid;
	size_t raw_size;
};
int store_case_messages(struct store *st, int64_t case_id,
			int (*cb)(const struct store_message_row *m, void *ctx),
			void *ctx, struct xerr *err) WARN_UNUSED;
/* Raw bytes of message id (owned). 1/0/-1. */
int store_message_raw(struct store *st, int64_t id, char **raw_r, size_t *len_r,
		      struct xerr *err) WARN_UNUSED;

struct store_outbox_info {
	int64_t id, case_id;
	const char *kind, *rcpt, *message_id, *state, *reason, *last_error;
	int attempts;
	int64_t created_at, next_at, sent_at;
	const char *data;
	size_t len;
};
int store_case_outbox(struct store *st, int64_t case_id,
		      int (*cb)(const struct store_outbox_info *o, void *ctx),
		      void *ctx, struct xerr *err) WARN_UNUSED;

/* Outbox rows needing attention (pending, sending, temp_fail, failed,
 * uncertain), or all rows with all. */
int store_outbox_list(struct store *st, int all,
		      int (*cb)(const struct store_outbox_info *o, void *ctx),
		      void *ctx, struct xerr *err) WARN_UNUSED;
/* Row id (with its message): cb once; 1, 0 when there is none, -1. */
int store_outbox_get(struct store *st, int64_t id,
		     int (*cb)(const struct store_outbox_info *o, void *ctx),
		     void *ctx, struct xerr *err) WARN_UNUSED;
/* Make a failed, uncertain, expired or temp_fail row pending again, due at
 * `at`, with an event by actor. 1 when requeued, 0 when the row is in
 * another state or has no message, -1. */
int store_outbox_requeue(struct store *st, int64_t id, int64_t at,
			 const char *actor, struct xerr *err) WARN_UNUSED;
/* Pending or temp_fail acknowledgements of cases received before
 * received_before become expired (reason why). *n_r counts them. */
int store_outbox_expire(struct store *st, int64_t received_before, int64_t now,
			const char *why, int *n_r,
			struct xerr *err) WARN_UNUSED;

/* Acknowledgements to rcpt created since `since` that were or may be sent
 * (for the per-sender limit). */
int store_acks_to(struct store *st, const char *rcpt, int64_t since,
		  long long *n_r, struct xerr *err) WARN_UNUSED;
/* The newest case of customer about order_id created since `since`:
 * 1 and *case_r, 0, -1. */
int store_case_by_sender_order(struct store *st, const char *customer,
			       const char *order_id, int64_t since,
			       int64_t *case_r, struct xerr *err) WARN_UNUSED;
/* A follow-up may raise a case's priority (never lower it) and escalate it.
 * Events record both. *changed_r: 1 when the priority rose, | 2 when the
 * case became escalated, 0 when nothing changed. */
int store_case_raise(struct store *st, int64_t case_id, const char *priority,
		     int escalate, int64_t at, const char *actor,
		     int *changed_r, struct xerr *err) WARN_UNUSED;

struct store_event_row {
	int64_t id, at;
	const char *actor, *kind, *detail;
};
int store_case_events(struct store *st, int64_t case_id,
		      int (*cb)(const struct store_event_row *e, void *ctx),
		      void *ctx, struct xerr *err) WARN_UNUSED;

/* ---------------------------------------------------------------- agents
 * Each runs inside the caller's store_begin()/store_commit() (BEGIN
 * IMMEDIATE): the state check and the write are one atomic step, so two
 * agents can never both claim a case. Every change adds an event by
 * actor. Return 0 with *r filled, or -1. */
enum store_act {
	STORE_ACT_DONE,	     /* changed, event added */
	STORE_ACT_UNCHANGED, /* already so; nothing written */
	STORE_ACT_NO_CASE,   /* no such case */
	STORE_ACT_TAKEN,     /* another agent has it: r->owner */
	STORE_ACT_RESOLVED,  /* the case is resolved */
};
struct store_act_result {
	enum store_act act;
	char *owner;  /* the case's assignee before the change, or NULL */
	char *before; /* the changed value before ("open", "normal", tags) */
	int64_t id;   /* the note's id for store_note_add */
};
void store_act_result_release(struct store_act_result *r);

/* Give case id to agent (the actor claims it when agent == actor). Refused
 * (TAKEN) when another agent has it, unless force (logged as a
 * take-over); RESOLVED for a resolved case. A new case becomes open. */
int store_case_claim(struct store *st, int64_t id, const char *agent,
		     const char *actor, int force, int64_t at,
		     struct store_act_result *r, struct xerr *err) WARN_UNUSED;
/* Unassign; only the assignee may, unless force. */
int store_case_unassign(struct store *st, int64_t id, const char *actor,
			int force, int64_t at, struct store_act_result *r,
			struct xerr *err) WARN_UNUSED;
/* Claim the first case of f's queue order (f should ask for unassigned,
 * workable cases). 1 and *id_r, 0 when there is none, -1. */
int store_case_next(struct store *st, const struct store_filter *f,
		    const char *actor, int64_t at, int64_t *id_r,
		    struct xerr *err) WARN_UNUSED;
/* status: open, pending or resolved. Refused (TAKEN) on a case another
 * agent has, unless force; an unclaimed case becomes the actor's, except
 * when reopening (reopen: 1), which leaves it unclaimed and new. Pending
 * or resolved the first time sets the case's first_reply_at. */
int store_case_set_status(struct store *st, int64_t id, const char *status,
			  int reopen, const char *actor, int force, int64_t at,
			  struct store_act_result *r,
			  struct xerr *err) WARN_UNUSED;
/* Escalate with a reason (UNCHANGED when already escalated), or with
 * reason NULL clear the escalation. */
int store_case_escalate(struct store *st, int64_t id, const char *reason,
			const char *actor, int64_t at,
			struct store_act_result *r,
			struct xerr *err) WARN_UNUSED;
int store_case_set_priority(struct store *st, int64_t id, const char *priority,
			    const char *actor, int64_t at,
			    struct store_act_result *r,
			    struct xerr *err) WARN_UNUSED;
/* Add and remove tags (space-separated lists, either NULL). */
int store_case_tag(struct store *st, int64_t id, const char *add,
		   const char *remove, const char *actor, int64_t at,
		   struct store_act_result *r, struct xerr *err) WARN_UNUSED;
/* A shared note on the case (r->id is the note's id). */
int store_note_add(struct store *st, int64_t id, const char *author,
		   const char *body, int64_t at, struct store_act_result *r,
		   struct xerr *err) WARN_UNUSED;

struct store_note_row {
	int64_t id, at;
	const char *author, *body;
};
int store_case_notes(struct store *st, int64_t case_id,
		     int (*cb)(const struct store_note_row *n, void *ctx),
		     void *ctx, struct xerr *err) WARN_UNUSED;

/* ---------------------------------------------------------------- search */
struct buf;
/* The search index's form of text: normalised like the rules' matcher
 * (case, width, traditional -> simplified Chinese) with every CJK
 * character a separate token. Appends to out. */
void store_fts_text(const char *s, size_t n, struct buf *out);
/* store_fts_text() of s[0..n) as a new string (free()), its length in
 * *len_r when len_r is not NULL. */
char *store_fts_string(const char *s, size_t n, size_t *len_r);

struct store_hit {
	int64_t case_id;
	const char *where; /* "message", "note", "order", "customer" */
	int64_t at;
	const char *text; /* the message's or note's text, or NULL */
};
/* Cases whose messages or notes contain every word of query (CJK words
 * as phrases), or whose order id or customer address is query. Newest
 * first, at most limit cases. */
int store_search(struct store *st, const char *query, size_t limit,
		 int (*cb)(const struct store_case *c,
			   const struct store_hit *h, void *ctx),
		 void *ctx, struct xerr *err) WARN_UNUSED;

/* The open queue by status and category (resolved cases not included):
 * cb once per (status, category) with its counts. resolved_since_r: cases
 * resolved at or after `since`. */
struct store_queue_row {
	const char *status, *category;
	long long n, overdue, escalated, unassigned;
};
int store_queue_stats(struct store *st, int64_t now, int64_t since,
		      int (*cb)(const struct store_queue_row *q, void *ctx),
		      void *ctx, long long *resolved_since_r,
		      struct xerr *err) WARN_UNUSED;

/* ---------------------------------------------------------------- report
 * What the season report is computed from: every case created in
 * [since, until) (of mailbox: "account" or "account/folder", NULL for
 * all), with figures derived from its messages, outbox rows and events.
 * Strings borrowed for the callback's duration. */
struct store_report_case {
	int64_t id, created_at, due_at, acked_at, first_reply_at, resolved_at;
	int64_t claimed_at; /* the first claim or assignment, 0 if none */
	const char *status, *category, *priority, *lang, *rule, *tmpl;
	const char *assignee;
	const char *reply_tmpl; /* the first reply's canned reply, or NULL */
	const char *ack_state, *ack_reason;
	int escalated;	   /* now, or at any time (an escalation event) */
	int nmessages;	   /* the customer's messages in the case */
	int nbefore_reply; /* of them, received before the first reply */
	int nreopened;	   /* reopenings (by the customer or an agent) */
};
/* Calls cb for each case, in order of creation, then esc_cb for each
 * escalation reason of those cases (event details) with its count, most
 * first. A callback returns non-zero to stop. */
int store_report_cases(struct store *st, int64_t since, int64_t until,
		       const char *mailbox,
		       int (*cb)(const struct store_report_case *c, void *ctx),
		       int (*esc_cb)(const char *reason, long long n,
				     void *ctx),
		       void *ctx, struct xerr *err) WARN_UNUSED;

/* Counts for summaries and tests. */
struct store_counts {
	long long cases, messages, outbox_pending, outbox_sent, outbox_failed,
	    outbox_uncertain, outbox_suppressed, parse_errors;
};
int store_counts(struct store *st, struct store_counts *c_r,
		 struct xerr *err) WARN_UNUSED;

/* For the tests: each step of the query plan (EXPLAIN QUERY PLAN's
 * detail) of every statement peakq prepares: the fixed ones, the report's,
 * search's, and the queue's for the filters agents use. The statements
 * meant to read a whole table have a `what` beginning "whole:". cb
 * returns non-zero to stop. */
int store_query_plans(struct store *st,
		      int (*cb)(const char *what, const char *sql,
				const char *step, void *ctx),
		      void *ctx, struct xerr *err) WARN_UNUSED;

#endif
