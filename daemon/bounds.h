/* bounds: every bound on untrusted input lives here, with its default. */
#ifndef PEAKQ_BOUNDS_H
#define PEAKQ_BOUNDS_H

/* Messages larger than this are stored truncated and flagged (config:
 * max_message_size). */
#define PQ_MAX_MESSAGE_BYTES (32u * 1024 * 1024)
/* MIME structure. */
#define PQ_MIME_MAX_DEPTH 16
#define PQ_MIME_MAX_PARTS 256
/* Raw header block scanned for loop/auto-reply markers. */
#define PQ_MAX_HEADER_BYTES (256u * 1024)
#define PQ_MAX_HEADERS 1000
/* Decoded text kept and matched per message. */
#define PQ_MAX_TEXT_BYTES (1024u * 1024)
/* Decoded size of one part (a base64 bomb stops here). */
#define PQ_MAX_PART_BYTES (8u * 1024 * 1024)
/* Order ids remembered per message. */
#define PQ_MAX_ORDER_IDS 16
/* Code points kept from any customer value used in a header we send. */
#define PQ_MAX_HEADER_CP 256
/* Message-IDs kept in References (ours). */
#define PQ_MAX_REFERENCES 20
/* Config/rules/template file sizes. */
#define PQ_MAX_CONF_BYTES (4u * 1024 * 1024)
#define PQ_MAX_TEMPLATE_BYTES (256u * 1024)
/* Rules. */
#define PQ_MAX_RULES 10000
#define PQ_MAX_KEYWORDS 10000 /* the matcher also caps its states (match.c) */
/* IMAP: UIDs per UID FETCH, per-read timeout in seconds. */
#define PQ_FETCH_BATCH 25
/* ...and at most this many bytes per UID FETCH (libetpan holds a whole
 * response in memory); a larger message is fetched on its own. */
#define PQ_FETCH_BATCH_BYTES (4u * 1024 * 1024)
#define PQ_IMAP_TIMEOUT 60
/* An IDLE is ended and restarted after this many seconds (RFC 2177: servers
 * may drop one after 30 minutes). */
#define PQ_IDLE_REFRESH (25 * 60)
#define PQ_SMTP_TIMEOUT 60
/* SMTP connections the outbox sends over in parallel: default, most. */
#define PQ_SMTP_CONNECTIONS 4
#define PQ_SMTP_CONNECTIONS_MAX 16
/* While a mailbox's backlog (more than one lot) is being stored, the
 * acknowledgements queued in the last this many seconds wait: the cases
 * go in first, the acks follow (peakqd(8), HOW THE WORK IS SPLIT). */
#define PQ_ACK_HOLD_SECS 30
/* On stop, an SMTP transaction under way may finish for this long before
 * it is cut (then, after the final dot, it is uncertain). */
#define PQ_SMTP_STOP_GRACE 5

#endif
