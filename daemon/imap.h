/* imap: one IMAP session with libetpan: connect with verified TLS (implicit
 * or required STARTTLS), log in, select, find UIDs above a checkpoint, fetch
 * in batches without setting \Seen, and flag or move after ingest. Parses no
 * MIME and decides nothing. */
#ifndef PEAKQ_IMAP_H
#define PEAKQ_IMAP_H

#include <stddef.h>
#include <stdint.h>

#include "xerr.h"

enum imap_tls { IMAP_TLS_IMPLICIT, IMAP_TLS_STARTTLS, IMAP_TLS_NONE };
enum imap_after { IMAP_AFTER_KEYWORD, IMAP_AFTER_SEEN, IMAP_AFTER_MOVE };

struct imap_params {
	const char *host;
	int port;
	enum imap_tls tls;
	const char *ca_file; /* NULL: system trust */
	const char *user;
	const char *password;
	int timeout; /* seconds per read and for connecting */
};

struct imap_conn;

/* Connect, verify the certificate chain and host name before any IMAP byte
 * is parsed (implicit TLS) or before LOGIN (STARTTLS, which must be offered),
 * and log in. Returns 0 and an owned connection, or -1: XERR_TEMP for
 * network/TLS/server trouble (retry with backoff), XERR_CONFIG for a refused
 * login or a missing STARTTLS. */
int imap_connect(const struct imap_params *p, struct imap_conn **c_r,
		 struct xerr *err) WARN_UNUSED;
/* LOGOUT (best effort) and free. NULL is accepted. */
void imap_close(struct imap_conn **c);

struct imap_box {
	uint32_t uidvalidity, uidnext, exists;
	int can_keywords; /* PERMANENTFLAGS has \* */
};
/* SELECT (read-write). */
int imap_select(struct imap_conn *c, const char *mailbox,
		struct imap_box *box_r, struct xerr *err) WARN_UNUSED;

/* UIDs greater than last_uid, ascending. Owned array (free()). */
int imap_search_after(struct imap_conn *c, uint32_t last_uid, uint32_t **uids_r,
		      size_t *n_r, struct xerr *err) WARN_UNUSED;

/* RFC822.SIZE of each of uids[0..n) (sorted ascending) into sizes[i]; 0 for
 * a message that vanished. One command for the whole set. */
int imap_sizes(struct imap_conn *c, const uint32_t *uids, size_t n,
	       uint32_t *sizes, struct xerr *err) WARN_UNUSED;

struct imap_msg {
	uint32_t uid;
	const char *data; /* borrowed for the callback's duration */
	size_t len;
	size_t size;	      /* RFC822.SIZE: len < size means truncated */
	int64_t internaldate; /* epoch seconds, 0 if unknown */
};
/* UID FETCH (UID RFC822.SIZE INTERNALDATE BODY.PEEK[]<0.max_bytes>) of
 * uids[0..n) (sorted ascending) and call cb for each message returned, in
 * ascending UID order. cb returns 0 to go on, -1 to stop (its error is in err).
 */
int imap_fetch(struct imap_conn *c, const uint32_t *uids, size_t n,
	       size_t max_bytes,
	       int (*cb)(const struct imap_msg *m, void *ctx, struct xerr *err),
	       void *ctx, struct xerr *err) WARN_UNUSED;

/* After ingest: add the keyword, set \Seen, or move to folder (UID MOVE, or
 * UID COPY + \Deleted + UID EXPUNGE with UIDPLUS). */
int imap_mark(struct imap_conn *c, const uint32_t *uids, size_t n,
	      enum imap_after after, const char *arg,
	      struct xerr *err) WARN_UNUSED;

/* IDLE (RFC 2177). imap_can_idle: the server announced it. A session is
 * imap_idle_start (sends IDLE, waits for the continuation), imap_idle_wait
 * (until the server says anything, secs pass, or imap_idle_interrupt from
 * another thread), then imap_idle_done (DONE and the tagged reply). */
enum imap_wait {
	IMAP_WAIT_DATA,
	IMAP_WAIT_TIMEOUT,
	IMAP_WAIT_INTERRUPTED,
	IMAP_WAIT_ERROR
};
int imap_can_idle(const struct imap_conn *c);
int imap_idle_start(struct imap_conn *c, struct xerr *err) WARN_UNUSED;
enum imap_wait imap_idle_wait(struct imap_conn *c, int secs);
int imap_idle_done(struct imap_conn *c, struct xerr *err) WARN_UNUSED;
/* Thread-safe against the connection's owner: wake its imap_idle_wait. */
void imap_idle_interrupt(struct imap_conn *c);
/* Thread-safe against the owner: make its current and every later read
 * fail at once (a stalled or spinning server at shutdown). */
void imap_abort(struct imap_conn *c);

#endif
