/* tmpl: acknowledgement templates (templates/<lang>/<name>.txt) -> a
 * complete RFC 5322 message: CRLF, lines <= 998 bytes, RFC 2047 subject,
 * quoted-printable UTF-8 body, loop-safe headers. Values taken from a
 * customer's mail can never add or change a header. Never sends.
 *
 * A template is a header block (only "Subject:" for now), a blank line and
 * a UTF-8 body. Placeholders: {{name}} or {{name|fallback}} with name one of
 * case_id, order_id, customer_name, sla_hours, reply_by, category,
 * original_subject, team_name, notice. Unknown names are load errors. */
#ifndef PEAKQ_TMPL_H
#define PEAKQ_TMPL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "xerr.h"

struct tmpl_set;
struct tmpl;

/* Load every templates/<lang>/<name>.txt under dir (lang: en, zh). Returns
 * 0 and an owned set, or -1 with XERR_CONFIG "file:line:col: message". */
int tmpl_load_dir(const char *dir, struct tmpl_set **set_r,
		  struct xerr *err) WARN_UNUSED;
void tmpl_free(struct tmpl_set **set);

/* The template for lang and name, falling back to English; NULL if none.
 * Borrowed until tmpl_free. */
const struct tmpl *tmpl_find(const struct tmpl_set *set, const char *lang,
			     const char *name);
const char *tmpl_lang(const struct tmpl *t);
/* All loaded templates, for checks: count and the i-th (borrowed). */
size_t tmpl_count(const struct tmpl_set *set);
const struct tmpl *tmpl_at(const struct tmpl_set *set, size_t i);
/* The file a template was read from (borrowed). */
const char *tmpl_file(const struct tmpl *t);
const char *tmpl_name(const struct tmpl *t);

struct tmpl_vars {
	int64_t case_id;
	const char *order_id;	      /* NULL: fallback or "" */
	const char *customer_name;    /* from the customer's mail */
	const char *original_subject; /* from the customer's mail */
	const char *category;
	const char *team_name;
	const char *notice;
	int sla_hours;
	int64_t reply_by; /* epoch seconds */
};

struct tmpl_mail {
	const char *from_name, *from_addr;	   /* ours, from config */
	const char *reply_to_name, *reply_to_addr; /* optional, config */
	const char *to_addr;	 /* parsed addr-spec of the customer */
	const char *to_name;	 /* customer's display name or NULL */
	const char *message_id;	 /* ours, without <> */
	const char *in_reply_to; /* theirs, without <>, or NULL */
	const char *const *refs; /* theirs, without <> */
	size_t nrefs;
	const char *subject_tag; /* e.g. "[Case #{{case_id}}]" */
	int64_t date;
};

/* Render t into a complete message appended to out. Returns 0, or -1 with
 * XERR_PERM when an address is unusable or the result is too large. */
int tmpl_render(const struct tmpl *t, const struct tmpl_vars *v,
		const struct tmpl_mail *mail, struct buf *out,
		struct xerr *err) WARN_UNUSED;

/* The two halves of tmpl_render: fill t's subject (with the subject tag
 * appended unless present; one header-safe line) and body (UTF-8 text)
 * into the buffers; and compose a complete message from a subject and a
 * body, e.g. an agent's edited reply. human: a person's mail (no
 * Auto-Submitted, X-Auto-Response-Suppress or Precedence). 0 or -1. */
int tmpl_fill(const struct tmpl *t, const struct tmpl_vars *v,
	      const char *subject_tag, struct buf *subject, struct buf *body,
	      struct xerr *err) WARN_UNUSED;
int tmpl_compose(const struct tmpl_mail *mail, const char *subject,
		 const char *body, size_t body_len, int64_t case_id, int human,
		 struct buf *out, struct xerr *err) WARN_UNUSED;

/* RFC 2047: append "Name: value" folded to out, value encoded as UTF-8 B
 * words when it is not short printable ASCII. value must be header-safe.
 * Returns 0 or -1 when out is full. */
int tmpl_header(struct buf *out, const char *name,
		const char *value) WARN_UNUSED;
/* Quoted-printable (RFC 2045) of UTF-8 text with LF or CRLF line ends;
 * output lines end in CRLF and are <= 76 characters. */
int tmpl_qp(struct buf *out, const char *s, size_t n) WARN_UNUSED;

#endif
