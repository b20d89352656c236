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

/* One header field from the raw header block, unfolded (CRLF + WSP -> the
 * WSP), name as written, value with leading white space removed. The value is
 * raw bytes (not RFC 2047-decoded, may be invalid UTF-8, never contains NUL or
 * CR/LF). */
struct mime_header {
	char *name;
	char *value;
};

enum message_flags {
	MSG_HTML_ONLY = 1 << 0,	      /* text came from an HTML part */
	MSG_TEXT_TRUNCATED = 1 << 1,  /* text cut at PQ_MAX_TEXT_BYTES */
	MSG_HEADERS_TRUNCATED = 1 << 2, /* header block over the caps */
	MSG_STRUCTURE_CAPPED = 1 << 3, /* MIME depth or part count cap hit */
	MSG_REPORT = 1 << 4, /* multipart/report anywhere at top level */
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
	 * UTF-8, no controls; NULL if absent or unparseable. */
	char *from_addr;
	char *from_name; /* RFC 2047-decoded display name, header-safe */
	char *reply_to_addr;
	char **to_addrs; /* To and Cc addr-specs */
	size_t nto;
	/* Return-Path: NULL when the header is absent, "" for "<>", else the
	 * address without brackets. */
	char *return_path;

	char *subject;	    /* RFC 2047-decoded UTF-8, NULL if absent */
	int64_t date;	    /* Date: as epoch seconds, 0 if absent/bad */
	char *content_type; /* top-level "type/subtype" lowercase */

	/* Body text: the text/plain parts (or HTML turned into text when a
	 * part has no text/plain alternative) joined with a blank line;
	 * valid UTF-8, LF line ends, NUL-free. Never NULL. */
	char *text;
	size_t text_len;

	const char *lang; /* "en" or "zh" (text_guess_lang on subject+text) */
	char order_ids[PQ_MAX_ORDER_IDS][TEXT_ORDER_ID_SIZE];
	size_t norder_ids; /* from subject, then text */

	unsigned flags;	   /* enum message_flags */
	char *parse_error; /* NULL, or why the message could not be parsed */
};

/* Parse raw[0..len). Never returns NULL; raw is not kept (the message owns
 * copies). Free with message_free(). */
struct message *mime_parse(const char *raw, size_t len);
void message_free(struct message **msg);

/* First header named name (ASCII case-insensitive); borrowed raw value or
 * NULL. */
const char *message_header(const struct message *msg, const char *name);

#endif
