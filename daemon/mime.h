/* mime: raw RFC 5322 bytes -> struct message (decoded headers, UTF-8 text,
 * order ids) using libetpan's MIME parser and our own scan of the raw header
 * block. Never sends, stores or logs. Every input gives a message: what
 * cannot be parsed sets parse_error and keeps what could be read. */
#ifndef PEAKQ_MIME_H
#define PEAKQ_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "text.h"

/* Subject: decoded, then made header-safe (text_header_safe) and kept up to
 * this many code points (RFC 5322's line limit). */
#define MIME_SUBJECT_MAX_CP 998
/* Message-IDs: at most this many bytes, else ignored. References keeps at
 * most MIME_MAX_REFS of them: the first (the thread root) and the latest. */
#define MIME_MAX_MSGID_BYTES 998
#define MIME_MAX_REFS 50
/* To and Cc: at most this many addresses are kept. */
#define MIME_MAX_RCPTS 100

/* One header field from the raw header block, unfolded (CRLF + WSP -> the
 * WSP), name as written, value with leading and trailing white space
 * removed. The value is raw bytes (not RFC 2047-decoded, may be invalid
 * UTF-8, never contains NUL or CR/LF: NULs are dropped, a CR not ending a
 * line becomes a space). A name is printable ASCII; "X-" names with inner
 * spaces (up to 100 bytes) are kept too but not shown to libetpan. The
 * block ends at the first empty line (CRLF or LF) or at the first line that
 * is neither a field nor a continuation (then that line starts the body),
 * except that a line (not starting with "--") followed within 12 lines,
 * before an empty or "--" line, by a field with a plausible name
 * ("Received", "X-...", any with a '-') is taken as a continuation that
 * lost its indentation (joined with a space);
 * a leading mbox "From " line is skipped. A message with CRs but no LF at
 * all (old Mac mail) is read with each CR as a line end. */
struct mime_header {
	char *name;
	char *value;
};

enum message_flags {
	MSG_HTML_ONLY = 1 << 0, /* text came from an HTML part */
	/* text cut at PQ_MAX_TEXT_BYTES, or a part at PQ_MAX_PART_BYTES */
	MSG_TEXT_TRUNCATED = 1 << 1,
	MSG_HEADERS_TRUNCATED = 1 << 2, /* header block over the caps */
	/* MIME depth or part count cap hit, or nesting/delimiters/fields
	 * beyond what is handed to libetpan (the rest is ignored) */
	MSG_STRUCTURE_CAPPED = 1 << 3,
	/* multipart/report: the message's type or a direct part's */
	MSG_REPORT = 1 << 4,
};

struct message {
	/* Raw header block, as scanned by us (not libetpan): all fields in
	 * order. Used for loop/auto-reply checks. */
	struct mime_header *headers;
	size_t nheaders;

	/* Identity and threading; msg-ids without the angle brackets. */
	char *message_id;  /* NULL if absent */
	char *in_reply_to; /* first msg-id of In-Reply-To, NULL if absent */
	char **refs;	   /* References msg-ids in order */
	size_t nrefs;

	/* Addresses: addr-specs as "local@domain" (domain lowercased), valid
	 * UTF-8, no controls, spaces or <>,;()\; NULL if absent or
	 * unparseable. Parsed by libetpan from our scan's values; what it
	 * rejects is searched for a "<local@domain>" or a bare one. From and
	 * Reply-To: the first mailbox; groups are flattened. */
	char *from_addr;
	char *from_name; /* RFC 2047-decoded display name, header-safe */
	char *reply_to_addr;
	char **to_addrs; /* To and Cc addr-specs, at most MIME_MAX_RCPTS */
	size_t nto;
	/* Return-Path (the first one): NULL when the header is absent, "" for
	 * "<>" or an empty or unreadable value, else the address without
	 * brackets or source route (domain lowercased; a bare name such as
	 * "MAILER-DAEMON" is kept). */
	char *return_path;

	/* RFC 2047-decoded UTF-8, header-safe (no controls, CR, LF or bidi
	 * controls, white space collapsed), at most MIME_SUBJECT_MAX_CP code
	 * points; NULL if absent. */
	char *subject;
	int64_t date;	    /* Date: as epoch seconds, 0 if absent/bad */
	char *content_type; /* top-level "type/subtype" lowercase */

	/* Body text: the text/plain parts (or HTML turned into text when a
	 * part has no text/plain alternative) joined with a blank line;
	 * valid UTF-8, LF line ends, NUL-free, leading blank lines and
	 * trailing white space of each part removed. Never NULL.
	 * Parts with Content-Disposition: attachment, non-text parts and
	 * attached messages (message/rfc822, e.g. the original in a bounce
	 * or a forward as attachment) are not included. Charsets: see
	 * text_label_to_utf8(); a part without a charset takes its
	 * multipart's, an HTML part its <meta>'s. A multipart whose last
	 * part is broken is closed before it. When libetpan cannot parse the
	 * message, or finds no part in a multipart, the raw body is used
	 * (see parse_error). */
	char *text;
	size_t text_len;

	const char *lang; /* "en" or "zh" (text_guess_lang on subject+text) */
	char order_ids[PQ_MAX_ORDER_IDS][TEXT_ORDER_ID_SIZE];
	size_t norder_ids; /* from subject, then text */

	unsigned flags; /* enum message_flags */
	/* NULL, or why the message could not be parsed: "empty message", "no
	 * header block", "libetpan parse failed: N", "no message body",
	 * "multipart without parts". */
	char *parse_error;
};

/* Parse raw[0..len) (raw may be NULL when len is 0). Never returns NULL and
 * never fails: see parse_error. raw is not kept (the message owns copies).
 * Free with message_free(). */
struct message *mime_parse(const char *raw, size_t len);
void message_free(struct message **msg);

/* First header named name (ASCII case-insensitive); borrowed raw value or
 * NULL. */
const char *message_header(const struct message *msg, const char *name);

#endif
