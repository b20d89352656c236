/* mime: raw RFC 5322 bytes -> struct message. Owns our scan of the raw
 * header block, RFC 2047 decoding, the libetpan MIME walk and every cap on
 * depth, parts and sizes. Must not log, store or send, and never fails:
 * what cannot be parsed sets parse_error and keeps what could be read.
 * libetpan sees only a defused copy of the message (see defuse()). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/mailimf.h>
#include <libetpan/mailmime.h>
#include <libetpan/mmapstring.h>

#include "mime.h"

/* libetpan recurses once per nested comment and per nested multipart or
 * message/rfc822 (stack and, for multiparts, time grow with the nesting:
 * 50,000 levels take minutes, then overflow the stack), and allocates ~40
 * bytes per byte of tiny header fields. The copy it parses is cut before
 * the line that exceeds one of these (MSG_STRUCTURE_CAPPED); comments
 * nested deeper than MAX_COMMENT_DEPTH lose their '('. */
#define MAX_COMPOSITES (4 * PQ_MIME_MAX_DEPTH)
#define MAX_DELIMITERS (4 * PQ_MIME_MAX_PARTS)
#define MAX_FIELD_RUN (2 * PQ_MAX_HEADERS)
#define MAX_COMMENT_DEPTH 32
/* Encoded-word text longer than this is not an encoded word. */
#define MAX_WORD_TEXT 1024
/* Addresses longer than this are not addresses. */
#define MAX_ADDR_BYTES 998

static int is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static void set_error(struct message *msg, const char *why)
{
	if (!msg->parse_error)
		msg->parse_error = xstrdup(why);
}

/* ------------------------------------------------------ raw header scan */

/* If line[0..n) starts a header field, return the length of its name and
 * set *value_r to the offset after the colon; else 0. A strict name is
 * RFC 5322 ftext (what libetpan accepts); a lenient one may also hold
 * spaces and tabs when it starts with "X-" (seen in test suites), up to
 * 100 bytes. */
static size_t field_name(const char *line, size_t n, size_t *value_r,
			 int lenient)
{
	size_t i = 0, name = 0;
	int inner_wsp = 0;

	for (; i < n && line[i] != ':'; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c > 32 && c < 127) {
			inner_wsp |= name < i;
			name = i + 1;
		} else if (!is_wsp(c)) {
			return 0;
		}
	}
	if (name == 0 || i >= n ||
	    (inner_wsp && (!lenient || name > 100 || n < 2 ||
			   ascii_ncasecmp(line, "x-", 2) != 0)))
		return 0;
	if (value_r)
		*value_r = i + 1;
	return name;
}

/* Is a stored (trimmed) name RFC 5322 ftext, so libetpan can take it? */
static int strict_name(const char *name)
{
	return !strchr(name, ' ') && !strchr(name, '\t');
}

struct scan {
	struct message *msg;
	size_t budget; /* header bytes we may still keep */
	size_t alloc;  /* slots in msg->headers */
	char *name;    /* field being read, NULL when not kept */
	struct buf value;
};

/* Append raw value bytes: NULs dropped, CR turned into a space. */
static void scan_append(struct scan *sc, const char *s, size_t n)
{
	size_t i = 0;

	if (!sc->name)
		return;
	while (i < n) {
		size_t run = i, room = sc->value.max - sc->value.len, k;
		int r = 0;

		while (run < n && s[run] != '\0' && s[run] != '\r')
			run++;
		k = run - i;
		if (k > room) { /* keep what fits of the value */
			k = room;
			r = -1;
		}
		if (k > 0 && buf_add(&sc->value, s + i, k) < 0)
			r = -1;
		if (r == 0 && run < n && s[run] == '\r')
			r = buf_addc(&sc->value, ' ');
		if (r < 0) {
			sc->msg->flags |= MSG_HEADERS_TRUNCATED;
			return;
		}
		i = run + 1;
	}
}

static void scan_finish(struct scan *sc)
{
	struct message *msg = sc->msg;
	struct mime_header *h;
	size_t len;
	char *v;

	if (!sc->name)
		return;
	v = buf_detach(&sc->value, &len);
	while (len > 0 && is_wsp((unsigned char)v[len - 1]))
		v[--len] = '\0';
	if (len > 0 && is_wsp((unsigned char)v[0])) {
		size_t k = 0;

		while (k < len && is_wsp((unsigned char)v[k]))
			k++;
		memmove(v, v + k, len - k + 1);
		len -= k;
	}
	if (msg->nheaders == sc->alloc) {
		sc->alloc = sc->alloc ? 2 * sc->alloc : 16;
		msg->headers = xreallocarray(msg->headers, sc->alloc,
					     sizeof(*msg->headers));
	}
	h = &msg->headers[msg->nheaders++];
	h->name = sc->name;
	h->value = v;
	len += strlen(sc->name);
	sc->budget = len < sc->budget ? sc->budget - len : 0;
	sc->name = NULL;
}

static void scan_start(struct scan *sc, const char *name, size_t n)
{
	if (sc->msg->nheaders >= PQ_MAX_HEADERS || n + 1 >= sc->budget) {
		sc->msg->flags |= MSG_HEADERS_TRUNCATED;
		return;
	}
	sc->name = xstrndup(name, n);
	buf_init(&sc->value, sc->budget - n);
}

/* A header name that a body line is unlikely to start with. */
static int plausible_name(const char *name, size_t n)
{
	static const char *const names[] = {
	    "received", "from",	    "to",	  "cc",		"bcc",
	    "date",	"subject",  "sender",	  "references", "keywords",
	    "comments", "priority", "importance", "precedence", "organization",
	};

	if (memchr(name, '-', n))
		return 1;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == n &&
		    ascii_ncasecmp(name, names[i], n) == 0)
			return 1;
	return 0;
}

/* Is the non-field line before raw[p] a continuation that lost its
 * indentation (Exchange and list archives wrap long fields so)? Only if a
 * plausible field follows within a few lines, before an empty line or a
 * MIME delimiter; else it starts a body that had no separator. */
static int lost_fold(const char *raw, size_t p, size_t len)
{
	for (int k = 0; k < 12 && p < len; k++) {
		const char *line = raw + p, *nl = memchr(line, '\n', len - p);
		size_t cl = nl ? (size_t)(nl - line) : len - p, nlen;

		if (cl > 0 && line[cl - 1] == '\r')
			cl--;
		if (cl == 0 || (cl >= 2 && line[0] == '-' && line[1] == '-'))
			return 0; /* an empty line or a MIME delimiter: body */
		if (!is_wsp((unsigned char)line[0]) &&
		    (nlen = field_name(line, cl, NULL, 0)) > 0)
			return plausible_name(line, nlen);
		p = nl ? (size_t)(nl - raw) + 1 : len;
	}
	return 0;
}

/* Scan the header block of raw[0..len) into msg->headers; returns the
 * offset where the body starts. */
static size_t scan_headers(struct message *msg, const char *raw, size_t len)
{
	struct scan sc = {.msg = msg, .budget = PQ_MAX_HEADER_BYTES};
	size_t p = 0, body = len;
	int in_field = 0;

	if (len >= 3 && memcmp(raw, "\xEF\xBB\xBF", 3) == 0)
		p = 3;
	if (len - p >= 5 && memcmp(raw + p, "From ", 5) == 0) {
		const char *nl = memchr(raw + p, '\n', len - p);

		p = nl ? (size_t)(nl - raw) + 1 : len;
	}
	while (p < len) {
		const char *line = raw + p;
		const char *nl = memchr(line, '\n', len - p);
		size_t ll = nl ? (size_t)(nl - line) : len - p;
		size_t next = nl ? p + ll + 1 : len, cl = ll, voff, nlen;

		if (cl > 0 && line[cl - 1] == '\r')
			cl--;
		if (cl == 0) {
			body = next;
			break;
		}
		if (is_wsp((unsigned char)line[0]) && in_field) {
			scan_append(&sc, line, cl);
			p = next;
			continue;
		}
		/* Before the first field, indented lines are taken as
		 * fields and blank ones skipped (seen in broken exports). */
		while (cl > 0 && is_wsp((unsigned char)line[0])) {
			line++;
			cl--;
		}
		if (cl == 0) {
			p = next;
			continue;
		}
		nlen = field_name(line, cl, &voff, 1);
		if (nlen == 0 && in_field && !(cl >= 2 && line[0] == '-') &&
		    lost_fold(raw, next, len)) {
			scan_append(&sc, " ", 1);
			scan_append(&sc, line, cl);
			p = next;
			continue;
		}
		if (nlen == 0) {
			body = p;
			break;
		}
		scan_finish(&sc);
		scan_start(&sc, line, nlen);
		scan_append(&sc, line + voff, cl - voff);
		in_field = 1;
		p = next;
	}
	scan_finish(&sc);
	return body;
}

const char *message_header(const struct message *msg, const char *name)
{
	for (size_t i = 0; i < msg->nheaders; i++)
		if (ascii_casecmp(msg->headers[i].name, name) == 0)
			return msg->headers[i].value;
	return NULL;
}

/* ----------------------------------------------------- RFC 2047 words */

struct words {
	struct buf *out;
	struct buf enc; /* decoded bytes of the pending encoded words */
	char cs[64];	/* their charset */
	int full;	/* out is full */
};

/* Convert the pending encoded words. When out is full, what fit is kept
 * and the rest dropped. */
static void words_flush(struct words *w)
{
	if (w->enc.len > 0 &&
	    text_label_to_utf8(w->cs, w->enc.data, w->enc.len, w->out) < 0)
		w->full = 1;
	buf_reset(&w->enc);
}

/* Parse "=?charset?B|Q?text?=" at s; returns its length or 0. */
static size_t encoded_word(const char *s, size_t n, size_t *cs_len_r,
			   int *enc_r, size_t *text_r, size_t *text_len_r)
{
	size_t i = 2, cs;

	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	while (i < n && i < 66 && s[i] != '?' && (unsigned char)s[i] > 32 &&
	       (unsigned char)s[i] < 127)
		i++;
	cs = i - 2;
	if (cs == 0 || cs >= 64 || i + 2 >= n || s[i] != '?' || s[i + 2] != '?')
		return 0;
	*enc_r = ascii_tolower((unsigned char)s[i + 1]);
	if (*enc_r != 'b' && *enc_r != 'q')
		return 0;
	i += 3;
	*text_r = i;
	while (i + 1 < n && !(s[i] == '?' && s[i + 1] == '=')) {
		/* RFC 2047 allows 75 bytes and no white space; be lenient
		 * (broken folding, hand-made words) but bounded. */
		if (((unsigned char)s[i] < 32 && s[i] != '\t') ||
		    (unsigned char)s[i] >= 127 || i - *text_r > MAX_WORD_TEXT)
			return 0;
		i++;
	}
	if (i + 1 >= n)
		return 0;
	*cs_len_r = cs;
	*text_len_r = i - *text_r;
	return i + 2;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = ascii_tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode a B or Q payload, appending bytes to out. */
static void word_payload(int enc, const char *s, size_t n, struct buf *out)
{
	unsigned acc = 0;
	int bits = 0, r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		int c = (unsigned char)s[i], v, h, l;

		if (enc == 'b') {
			if ((v = b64val(c)) < 0)
				continue;
			acc = (acc << 6) | (unsigned)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				r = buf_addc(out, (char)((acc >> bits) & 0xFF));
			}
		} else if (c == '_') {
			r = buf_addc(out, ' ');
		} else if (c == '=' && i + 2 < n &&
			   (h = hexv((unsigned char)s[i + 1])) >= 0 &&
			   (l = hexv((unsigned char)s[i + 2])) >= 0) {
			r = buf_addc(out, (char)(h * 16 + l));
			i += 2;
		} else {
			r = buf_addc(out, (char)c);
		}
	}
}

static int only_wsp(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_wsp((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Decode RFC 2047 encoded words in s[0..n) to UTF-8, appending to out.
 * White space between two encoded words is dropped; consecutive words in
 * one charset are converted together, so a character split across words
 * survives. Text outside words is read with text_guess_to_utf8(). */
static void decode_words(const char *s, size_t n, struct buf *out)
{
	struct words w = {.out = out};
	size_t i = 0, lit = 0;
	int after_word = 0;

	buf_init(&w.enc, n + 1);
	while (i < n && !w.full) {
		size_t cs_len, text, text_len, k;
		int enc;

		if (s[i] != '=' ||
		    !(k = encoded_word(s + i, n - i, &cs_len, &enc, &text,
				       &text_len))) {
			i++;
			continue;
		}
		if (i > lit && !(after_word && only_wsp(s + lit, i - lit))) {
			words_flush(&w);
			if (text_label_to_utf8(NULL, s + lit, i - lit, out) < 0)
				w.full = 1;
		}
		if (w.enc.len > 0 && (strlen(w.cs) != cs_len ||
				      ascii_ncasecmp(w.cs, s + i + 2, cs_len)))
			words_flush(&w);
		memcpy(w.cs, s + i + 2, cs_len);
		w.cs[cs_len] = '\0';
		word_payload(enc, s + i + text, text_len, &w.enc);
		i += k;
		lit = i;
		after_word = 1;
	}
	words_flush(&w);
	if (!w.full && lit < n &&
	    text_label_to_utf8(NULL, s + lit, n - lit, out) < 0)
		w.full = 1;
	buf_release(&w.enc);
}

/* Decoded, header-safe text of a raw header value; NULL when empty. With
 * unquote, one pair of double quotes around it all is removed (a quoted
 * display name holding encoded words). */
static char *header_text(const char *s, size_t n, size_t max_cp, int unquote)
{
	struct buf b;
	char *r;
	size_t len;

	buf_init(&b, 4 * n + 64);
	decode_words(s, n, &b);
	r = text_header_safe(buf_str(&b), b.len, max_cp);
	buf_release(&b);
	len = strlen(r);
	if (unquote && len >= 2 && r[0] == '"' && r[len - 1] == '"') {
		memmove(r, r + 1, len - 2);
		r[len - 2] = '\0';
	}
	if (!*r)
		xfree(&r);
	return r;
}

/* ------------------------------------------------------------ addresses */

/* Valid UTF-8 without white space, controls or address punctuation? */
static int clean_token(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned cp;
		unsigned char c = (unsigned char)s[i];

		if (c <= 32 || c == 127 || strchr("<>,;()\\", c))
			return 0;
		if (c < 128) {
			i++;
			continue;
		}
		if (text_utf8_decode(s + i, n - i, &cp) == 1 || cp < 0xA0)
			return 0;
		i += text_utf8_decode(s + i, n - i, &cp);
	}
	return 1;
}

/* "local@domain" with the domain lowercased, or NULL. */
static char *addr_norm(const char *s, size_t n)
{
	size_t at = n;
	char *a;

	if (n == 0 || n > MAX_ADDR_BYTES || !clean_token(s, n))
		return NULL;
	while (at > 0 && s[at - 1] != '@')
		at--;
	if (at <= 1 || at >= n)
		return NULL;
	a = xstrndup(s, n);
	for (size_t i = at; i < n; i++)
		a[i] = (char)ascii_tolower((unsigned char)a[i]);
	return a;
}

static void trim(const char **s, size_t *n)
{
	while (*n > 0 && is_wsp((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_wsp((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* Best effort for a mailbox libetpan could not parse: the last "<...>"
 * holding an address (*name_len_r = the text before it), else the first
 * token that is one. */
static char *addr_guess(const char *s, size_t n, size_t *name_len_r)
{
	static const char seps[] = " \t,;<>()\"";
	size_t i = n, gt = n;
	char *a;

	*name_len_r = 0;
	while (i-- > 0) {
		const char *in;
		size_t inn;

		if (s[i] == '>')
			gt = i; /* the nearest '>' right of what comes */
		if (s[i] != '<' || gt == n)
			continue;
		in = s + i + 1;
		inn = gt - i - 1;
		trim(&in, &inn);
		if ((a = addr_norm(in, inn))) {
			*name_len_r = i;
			return a;
		}
	}
	for (i = 0; i < n;) {
		size_t start;

		while (i < n && strchr(seps, s[i]))
			i++;
		start = i;
		while (i < n && !strchr(seps, s[i]))
			i++;
		if (i > start && memchr(s + start, '@', i - start) &&
		    (a = addr_norm(s + start, i - start)))
			return a;
	}
	return NULL;
}

/* A copy of s[0..n) that is safe for libetpan (see defuse_line()). */
static char *defused(const char *s, size_t n);

static void parse_from(struct message *msg, const char *v)
{
	size_t n = strlen(v), idx = 0, name_len;
	char *copy = defused(v, n);
	struct mailimf_mailbox_list *ml = NULL;

	if (mailimf_mailbox_list_parse(copy, n, &idx, &ml) ==
		MAILIMF_NO_ERROR &&
	    ml) {
		clistiter *c = clist_begin(ml->mb_list);
		struct mailimf_mailbox *mb = c ? clist_content(c) : NULL;

		if (mb && mb->mb_addr_spec)
			msg->from_addr = addr_norm(mb->mb_addr_spec,
						   strlen(mb->mb_addr_spec));
		if (msg->from_addr && mb->mb_display_name)
			msg->from_name = header_text(
			    mb->mb_display_name, strlen(mb->mb_display_name),
			    PQ_MAX_HEADER_CP, 1);
	}
	if (ml)
		mailimf_mailbox_list_free(ml);
	if (!msg->from_addr) {
		msg->from_addr = addr_guess(v, n, &name_len);
		if (msg->from_addr && name_len > 0) {
			const char *s = v;

			trim(&s, &name_len);
			if (name_len >= 2 && s[0] == '"' &&
			    s[name_len - 1] == '"') {
				s++;
				name_len -= 2;
			}
			msg->from_name =
			    header_text(s, name_len, PQ_MAX_HEADER_CP, 1);
		}
	}
	free(copy);
}

/* Call add(msg, addr) for each mailbox of an address list (groups
 * flattened); falls back to addr_guess() on each comma-separated piece. */
static void address_list(struct message *msg, const char *v,
			 void (*add)(struct message *, char *))
{
	size_t n = strlen(v), idx = 0, name_len;
	char *copy = defused(v, n);
	struct mailimf_address_list *al = NULL;
	int any = 0;

	if (mailimf_address_list_parse(copy, n, &idx, &al) ==
		MAILIMF_NO_ERROR &&
	    al) {
		for (clistiter *c = clist_begin(al->ad_list); c;
		     c = clist_next(c)) {
			struct mailimf_address *a = clist_content(c);
			struct mailimf_mailbox_list *ml = NULL;
			char *s;

			if (a->ad_type == MAILIMF_ADDRESS_MAILBOX) {
				s = a->ad_data.ad_mailbox->mb_addr_spec;
				if (s && (s = addr_norm(s, strlen(s)))) {
					add(msg, s);
					any = 1;
				}
				continue;
			}
			ml = a->ad_data.ad_group->grp_mb_list;
			if (!ml)
				continue;
			for (clistiter *g = clist_begin(ml->mb_list); g;
			     g = clist_next(g)) {
				struct mailimf_mailbox *mb = clist_content(g);

				s = mb->mb_addr_spec;
				if (s && (s = addr_norm(s, strlen(s)))) {
					add(msg, s);
					any = 1;
				}
			}
		}
	}
	if (al)
		mailimf_address_list_free(al);
	free(copy);
	for (size_t i = 0; !any && i < n;) {
		size_t start = i;
		int quoted = 0;
		char *s;

		while (i < n && (quoted || v[i] != ',')) {
			if (v[i] == '"')
				quoted = !quoted;
			i++;
		}
		if ((s = addr_guess(v + start, i - start, &name_len)))
			add(msg, s);
		i++;
	}
}

static void add_reply_to(struct message *msg, char *a)
{
	if (!msg->reply_to_addr)
		msg->reply_to_addr = a;
	else
		free(a);
}

static void add_rcpt(struct message *msg, char *a)
{
	if (msg->nto >= MIME_MAX_RCPTS) {
		free(a);
		return;
	}
	msg->to_addrs =
	    xreallocarray(msg->to_addrs, msg->nto + 1, sizeof(*msg->to_addrs));
	msg->to_addrs[msg->nto++] = a;
}

static char *return_path(const char *v)
{
	const char *s = strchr(v, '<'), *gt, *colon;
	size_t n;
	char *a;

	if (s) {
		s++;
		gt = strchr(s, '>');
		n = gt ? (size_t)(gt - s) : strlen(s);
	} else {
		s = v;
		n = strlen(v);
	}
	trim(&s, &n);
	/* Source route: "<@relay1,@relay2:user@host>". */
	if (n > 0 && s[0] == '@' && (colon = memchr(s, ':', n))) {
		n -= (size_t)(colon + 1 - s);
		s = colon + 1;
	}
	if (n == 0)
		return xstrdup("");
	if ((a = addr_norm(s, n)))
		return a;
	if (n <= MAX_ADDR_BYTES && clean_token(s, n))
		return xstrndup(s, n);
	return xstrdup("");
}

/* ---------------------------------------------------------- message ids */

static int msgid_ok(const char *s, size_t n)
{
	if (n == 0 || n > MIME_MAX_MSGID_BYTES)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 32 || c == 127 || c == '<' || c == '>')
			return 0;
	}
	return text_utf8_valid(s, n);
}

/* Find the next valid "<id>" in v from *pos: 1 with its span, else 0. */
static int next_msgid(const char *v, size_t n, size_t *pos, size_t *start_r,
		      size_t *len_r)
{
	size_t open = SIZE_MAX;

	for (size_t i = *pos; i < n; i++) {
		if (v[i] == '<') {
			open = i;
		} else if (v[i] == '>' && open != SIZE_MAX) {
			size_t s = open + 1, l = i - open - 1;

			open = SIZE_MAX;
			if (msgid_ok(v + s, l)) {
				*pos = i + 1;
				*start_r = s;
				*len_r = l;
				return 1;
			}
		}
	}
	*pos = n;
	return 0;
}

/* First msg-id of v; with bare, also a lone unbracketed "id@host". */
static char *first_msgid(const char *v, int bare)
{
	size_t n = strlen(v), pos = 0, s, l;

	if (next_msgid(v, n, &pos, &s, &l))
		return xstrndup(v + s, l);
	if (bare && !memchr(v, '<', n) && memchr(v, '@', n) && msgid_ok(v, n))
		return xstrdup(v);
	return NULL;
}

/* References: the first id and the latest MIME_MAX_REFS - 1. */
static void parse_refs(struct message *msg, const char *v)
{
	size_t n = strlen(v), pos = 0, s, l, total = 0, k = 0;

	while (next_msgid(v, n, &pos, &s, &l))
		total++;
	if (total == 0)
		return;
	msg->refs = xcalloc(total < MIME_MAX_REFS ? total : MIME_MAX_REFS,
			    sizeof(*msg->refs));
	for (pos = 0; next_msgid(v, n, &pos, &s, &l); k++)
		if (k == 0 || total - k < MIME_MAX_REFS)
			msg->refs[msg->nrefs++] = xstrndup(v + s, l);
}

/* ----------------------------------------------------------------- date */

static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t parse_date(const char *v)
{
	size_t n = strlen(v), idx = 0;
	char *copy = defused(v, n);
	struct mailimf_date_time *dt = NULL;
	int64_t t = 0, y;
	int z, off;

	if (mailimf_date_time_parse(copy, n, &idx, &dt) != MAILIMF_NO_ERROR ||
	    !dt)
		goto out;
	y = dt->dt_year;
	if (y < 50)
		y += 2000;
	else if (y < 1000)
		y += 1900;
	z = dt->dt_zone < 0 ? -dt->dt_zone : dt->dt_zone;
	if (y > 9999 || dt->dt_month < 1 || dt->dt_month > 12 ||
	    dt->dt_day < 1 || dt->dt_day > 31 || dt->dt_hour < 0 ||
	    dt->dt_hour > 23 || dt->dt_min < 0 || dt->dt_min > 59 ||
	    dt->dt_sec < 0 || dt->dt_sec > 60 || z > 9959 || z % 100 > 59)
		goto out;
	off = (z / 100 * 3600 + z % 100 * 60) * (dt->dt_zone < 0 ? -1 : 1);
	t = days_from_civil(y, dt->dt_month, dt->dt_day) * 86400 +
	    dt->dt_hour * 3600 + dt->dt_min * 60 + dt->dt_sec - off;
	if (t < 0)
		t = 0;
out:
	if (dt)
		mailimf_date_time_free(dt);
	free(copy);
	return t;
}

/* ------------------------------------------------------------- envelope */

static void fill_envelope(struct message *msg)
{
	const char *v;

	if ((v = message_header(msg, "Message-ID")))
		msg->message_id = first_msgid(v, 1);
	if ((v = message_header(msg, "In-Reply-To")))
		msg->in_reply_to = first_msgid(v, 0);
	if ((v = message_header(msg, "References")))
		parse_refs(msg, v);
	if ((v = message_header(msg, "From")))
		parse_from(msg, v);
	if ((v = message_header(msg, "Reply-To")))
		address_list(msg, v, add_reply_to);
	for (size_t i = 0; i < msg->nheaders; i++)
		if (ascii_casecmp(msg->headers[i].name, "To") == 0 ||
		    ascii_casecmp(msg->headers[i].name, "Cc") == 0)
			address_list(msg, msg->headers[i].value, add_rcpt);
	if ((v = message_header(msg, "Return-Path")))
		msg->return_path = return_path(v);
	if ((v = message_header(msg, "Subject"))) {
		msg->subject =
		    header_text(v, strlen(v), MIME_SUBJECT_MAX_CP, 0);
		if (!msg->subject)
			msg->subject = xstrdup("");
	}
	if ((v = message_header(msg, "Date")))
		msg->date = parse_date(v);
}

/* ------------------------------------------------------- libetpan input */

struct defuse {
	size_t composites, delimiters, run, depth;
};

/* Account for one line (without its line end) of what libetpan will parse.
 * Returns -1 when it goes over a cap; else neutralises '(' nested deeper
 * than MAX_COMMENT_DEPTH and returns 0. */
static int defuse_line(struct defuse *d, char *line, size_t n)
{
	if (n == 0) {
		d->run = 0;
		d->depth = 0;
		return 0;
	}
	if (n >= 2 && line[0] == '-' && line[1] == '-')
		d->delimiters++;
	if (is_wsp((unsigned char)line[0]))
		d->run += d->run > 0;
	else if (field_name(line, n, NULL, 0))
		d->run++;
	else
		d->run = 0;
	if (ascii_memcasemem(line, n, "multipart/", 10) ||
	    ascii_memcasemem(line, n, "message/rfc822", 14))
		d->composites++;
	if (d->composites > MAX_COMPOSITES || d->delimiters > MAX_DELIMITERS ||
	    d->run > MAX_FIELD_RUN)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (line[i] == '\\') {
			i++;
		} else if (line[i] == '(') {
			if (d->depth >= MAX_COMMENT_DEPTH)
				line[i] = ' ';
			else
				d->depth++;
		} else if (line[i] == ')' && d->depth > 0) {
			d->depth--;
		}
	}
	return 0;
}

/* Defuse s[0..n) in place; returns the length libetpan may parse. */
static size_t defuse(char *s, size_t n, unsigned *flags)
{
	struct defuse d = {0};
	size_t p = 0;

	while (p < n) {
		char *nl = memchr(s + p, '\n', n - p);
		size_t ll = nl ? (size_t)(nl - (s + p)) : n - p;
		size_t cl = ll > 0 && s[p + ll - 1] == '\r' ? ll - 1 : ll;

		if (defuse_line(&d, s + p, cl) < 0) {
			*flags |= MSG_STRUCTURE_CAPPED;
			return p;
		}
		p = nl ? p + ll + 1 : n;
	}
	return n;
}

static char *defused(const char *s, size_t n)
{
	struct defuse d = {0};
	char *c = xstrndup(s, n);

	(void)defuse_line(&d, c, n);
	return c;
}

/* Our header block (unfolded, NUL-free) + CRLF + the raw body: libetpan
 * never sees the header lines that trip its bug #431. */
static void build_input(const struct message *msg, const char *body,
			size_t body_len, struct buf *in)
{
	size_t need = body_len + 3;

	for (size_t i = 0; i < msg->nheaders; i++)
		need += strlen(msg->headers[i].name) +
			strlen(msg->headers[i].value) + 4;
	buf_init(in, need);
	for (size_t i = 0; i < msg->nheaders; i++)
		if (strict_name(msg->headers[i].name) &&
		    buf_addf(in, "%s: %s\r\n", msg->headers[i].name,
			     msg->headers[i].value) < 0)
			break;
	if (buf_add(in, "\r\n", 2) < 0 || buf_add(in, body, body_len) < 0)
		return; /* cannot happen: need covers it */
}

/* ----------------------------------------------------------------- walk */

/* Text gathered from a subtree. */
struct piece {
	struct buf text;
	int plain; /* some of it came from text/plain */
	int html;  /* some of it came from text/html */
	int cut;   /* something did not fit */
};

struct walk {
	size_t nparts;
	unsigned flags;
	int stop;
};

static void piece_init(struct piece *pc)
{
	memset(pc, 0, sizeof(*pc));
	buf_init(&pc->text, PQ_MAX_TEXT_BYTES);
}

/* CRLF and lone CR -> LF, in place. */
static void normalize_eol(struct buf *b)
{
	size_t o = 0;

	for (size_t i = 0; i < b->len; i++) {
		if (b->data[i] == '\r') {
			b->data[o++] = '\n';
			if (i + 1 < b->len && b->data[i + 1] == '\n')
				i++;
		} else {
			b->data[o++] = b->data[i];
		}
	}
	if (b->data)
		buf_truncate(b, o);
}

/* Append a part's text (valid UTF-8, LF line ends) without its leading
 * blank lines and trailing white space, after a blank line. */
static void piece_add(struct piece *pc, const char *s, size_t n, int html)
{
	for (;;) {
		const char *nl = memchr(s, '\n', n);
		size_t k;

		if (!nl)
			break;
		k = (size_t)(nl - s);
		if (!only_wsp(s, k))
			break;
		s += k + 1;
		n -= k + 1;
	}
	while (n > 0 && (is_wsp((unsigned char)s[n - 1]) || s[n - 1] == '\n'))
		n--;
	if (n == 0 || pc->cut)
		return;
	if (pc->text.len > 0 && buf_add(&pc->text, "\n\n", 2) < 0) {
		pc->cut = 1;
		return;
	}
	if (text_append_utf8(&pc->text, s, n) < 0)
		pc->cut = 1;
	if (html)
		pc->html = 1;
	else
		pc->plain = 1;
}

static void piece_merge(struct piece *dst, const struct piece *src)
{
	int plain = dst->plain, html = dst->html;

	piece_add(dst, buf_str(&src->text), src->text.len, 0);
	dst->plain = plain || src->plain;
	dst->html = html || src->html;
	dst->cut |= src->cut;
}

static int is_text_type(const struct mailmime_content *ct)
{
	return ct && ct->ct_type &&
	       ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE &&
	       ct->ct_type->tp_data.tp_discrete_type &&
	       ct->ct_type->tp_data.tp_discrete_type->dt_type ==
		   MAILMIME_DISCRETE_TYPE_TEXT &&
	       ct->ct_subtype;
}

static int is_multipart_type(const struct mailmime_content *ct,
			     const char *subtype)
{
	return ct && ct->ct_type &&
	       ct->ct_type->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE &&
	       ct->ct_type->tp_data.tp_composite_type &&
	       ct->ct_type->tp_data.tp_composite_type->ct_type ==
		   MAILMIME_COMPOSITE_TYPE_MULTIPART &&
	       (!subtype || (ct->ct_subtype &&
			     ascii_casecmp(ct->ct_subtype, subtype) == 0));
}

static int is_attachment(const struct mailmime_fields *f)
{
	if (!f || !f->fld_list)
		return 0;
	for (clistiter *c = clist_begin(f->fld_list); c; c = clist_next(c)) {
		const struct mailmime_field *fld = clist_content(c);

		if (fld->fld_type == MAILMIME_FIELD_DISPOSITION &&
		    fld->fld_data.fld_disposition &&
		    fld->fld_data.fld_disposition->dsp_type &&
		    fld->fld_data.fld_disposition->dsp_type->dsp_type ==
			MAILMIME_DISPOSITION_TYPE_ATTACHMENT)
			return 1;
	}
	return 0;
}

/* charset=... in the first bytes of an HTML part (<meta>). */
static int meta_charset(const char *s, size_t n, char *cs, size_t size)
{
	const char *p = ascii_memcasemem(s, n < 4096 ? n : 4096, "charset=", 8);
	size_t k = 0;

	if (!p)
		return 0;
	p += 8;
	if (p < s + n && (*p == '"' || *p == '\''))
		p++;
	while (p < s + n && k + 1 < size &&
	       ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		(*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		*p == '.' || *p == ':'))
		cs[k++] = *p++;
	cs[k] = '\0';
	return k > 0;
}

static const char *charset_param(struct mailmime_content *ct)
{
	char pname[] = "charset";
	const char *cs = ct ? mailmime_content_param_get(ct, pname) : NULL;

	return cs && *cs ? cs : NULL;
}

/* Convert a part's decoded bytes to UTF-8 (text_label_to_utf8()); a part
 * without a charset takes its multipart's, an HTML one its <meta>'s.
 * Returns -1 when out is full. */
static int part_to_utf8(struct mailmime_content *ct, const char *inherited,
			const char *s, size_t n, int html, struct buf *out)
{
	const char *cs = charset_param(ct);
	char meta[48];

	if (!cs)
		cs = inherited;
	if (!cs && html && meta_charset(s, n, meta, sizeof(meta)))
		cs = meta;
	return text_label_to_utf8(cs, s, n, out);
}

/* Decode a leaf's transfer encoding. The encoded input is cut first so
 * that the decoded bytes never exceed PQ_MAX_PART_BYTES (*cut_r set): a
 * base64 bomb never allocates more. *mm_r is a libetpan string to unref. */
static int decode_part(const struct mailmime_data *d, char **mm_r,
		       const char **p_r, size_t *n_r, int *cut_r)
{
	const char *s = d->dt_data.dt_text.dt_data;
	size_t n = d->dt_data.dt_text.dt_length, lim = PQ_MAX_PART_BYTES;
	size_t idx = 0, rn = 0;
	char *r = NULL;
	int enc = d->dt_encoding;

	*mm_r = NULL;
	*p_r = "";
	*n_r = 0;
	if (!s)
		return 0;
	if (enc == MAILMIME_MECHANISM_BASE64)
		lim = PQ_MAX_PART_BYTES / 3 * 4;
	if (n > lim) {
		n = lim;
		*cut_r = 1;
	}
	if (enc != MAILMIME_MECHANISM_BASE64 &&
	    enc != MAILMIME_MECHANISM_QUOTED_PRINTABLE) {
		*p_r = s;
		*n_r = n;
		return 0;
	}
	if (mailmime_part_parse(s, n, &idx, enc, &r, &rn) != MAILIMF_NO_ERROR)
		return -1;
	if (rn > PQ_MAX_PART_BYTES) { /* QP turns LF into CRLF */
		rn = PQ_MAX_PART_BYTES;
		*cut_r = 1;
	}
	*mm_r = r;
	*p_r = r;
	*n_r = rn;
	return 0;
}

static void leaf(struct mailmime *mm, struct piece *pc, const char *cs)
{
	struct mailmime_content *ct = mm->mm_content_type;
	const struct mailmime_data *d = mm->mm_data.mm_single;
	char *dec = NULL;
	const char *src;
	size_t n, room = PQ_MAX_TEXT_BYTES - pc->text.len;
	struct buf u = {0}, t = {0};
	int html, cut = 0;

	if (!is_text_type(ct) || is_attachment(mm->mm_mime_fields) || !d ||
	    d->dt_type != MAILMIME_DATA_TEXT)
		return;
	html = ascii_casecmp(ct->ct_subtype, "html") == 0;
	if (!html && ascii_casecmp(ct->ct_subtype, "plain") != 0)
		return;
	if (decode_part(d, &dec, &src, &n, &cut) < 0)
		return;
	/* Plain text needs no more than twice the room left (CRLF -> LF). */
	buf_init(&u, html || room > PQ_MAX_PART_BYTES / 2 - 64
			 ? PQ_MAX_PART_BYTES
			 : 2 * room + 64);
	if (part_to_utf8(ct, cs, src, n, html, &u) < 0)
		cut = 1;
	if (html) {
		buf_init(&t, PQ_MAX_TEXT_BYTES);
		if (text_html_to_text(buf_str(&u), u.len, &t) < 0)
			cut = 1;
		piece_add(pc, buf_str(&t), t.len, 1);
		buf_release(&t);
	} else {
		normalize_eol(&u);
		piece_add(pc, buf_str(&u), u.len, 0);
	}
	if (cut)
		pc->cut = 1;
	buf_release(&u);
	if (dec)
		mmap_string_unref(dec);
}

static void walk(struct walk *w, struct mailmime *mm, int depth,
		 struct piece *pc, const char *cs);

/* multipart/alternative: the first alternative with text/plain in it,
 * else the first one with any text. */
static void alternative(struct walk *w, struct mailmime *mm, int depth,
			struct piece *pc, const char *cs)
{
	struct piece best, cand;
	int have = 0;

	piece_init(&best);
	for (clistiter *c = clist_begin(mm->mm_data.mm_multipart.mm_mp_list);
	     c && !w->stop; c = clist_next(c)) {
		piece_init(&cand);
		walk(w, clist_content(c), depth + 1, &cand, cs);
		if (cand.text.len > 0 &&
		    (!have || (cand.plain && !best.plain))) {
			buf_release(&best.text);
			best = cand;
			have = 1;
			if (best.plain)
				break;
			continue;
		}
		buf_release(&cand.text);
	}
	if (have)
		piece_merge(pc, &best);
	buf_release(&best.text);
}

static void walk(struct walk *w, struct mailmime *mm, int depth,
		 struct piece *pc, const char *cs)
{
	if (w->stop || !mm || pc->cut)
		return;
	if (w->nparts >= PQ_MIME_MAX_PARTS) {
		w->flags |= MSG_STRUCTURE_CAPPED;
		w->stop = 1;
		return;
	}
	w->nparts++;
	if (depth > PQ_MIME_MAX_DEPTH) {
		w->flags |= MSG_STRUCTURE_CAPPED;
		return;
	}
	switch (mm->mm_type) {
	case MAILMIME_SINGLE:
		leaf(mm, pc, cs);
		break;
	case MAILMIME_MULTIPLE:
		if (!mm->mm_data.mm_multipart.mm_mp_list)
			break;
		if (charset_param(mm->mm_content_type))
			cs = charset_param(mm->mm_content_type);
		if (is_multipart_type(mm->mm_content_type, "alternative")) {
			alternative(w, mm, depth, pc, cs);
			break;
		}
		for (clistiter *c =
			 clist_begin(mm->mm_data.mm_multipart.mm_mp_list);
		     c && !w->stop && !pc->cut; c = clist_next(c))
			walk(w, clist_content(c), depth + 1, pc, cs);
		break;
	default:
		/* message/rfc822: an attached message is not the sender's
		 * text (bounces carry our own mail back). */
		break;
	}
}

static char *type_name(const struct mailmime_content *ct)
{
	/* Indexed by MAILMIME_DISCRETE_TYPE_* and MAILMIME_COMPOSITE_TYPE_*. */
	static const char *const discrete[] = {"text",	"text",	 "image",
					       "audio", "video", "application"};
	static const char *const composite[] = {"x-unknown", "message",
						"multipart"};
	const struct mailmime_type *tp = ct ? ct->ct_type : NULL;
	const char *t = "text";
	char *s;

	if (!tp)
		return xstrdup("text/plain");
	if (tp->tp_type == MAILMIME_TYPE_DISCRETE_TYPE &&
	    tp->tp_data.tp_discrete_type) {
		int d = tp->tp_data.tp_discrete_type->dt_type;
		const char *ext = tp->tp_data.tp_discrete_type->dt_extension;

		t = d >= 0 && d < (int)ARRAY_SIZE(discrete) ? discrete[d]
		    : ext				    ? ext
							    : "x-unknown";
	} else if (tp->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE &&
		   tp->tp_data.tp_composite_type) {
		int c = tp->tp_data.tp_composite_type->ct_type;
		const char *tok = tp->tp_data.tp_composite_type->ct_token;

		t = c > 0 && c < (int)ARRAY_SIZE(composite) ? composite[c]
		    : tok				    ? tok
							    : "x-unknown";
	}
	s = xasprintf("%s/%s", t, ct->ct_subtype ? ct->ct_subtype : "");
	for (char *p = s; *p; p++)
		*p = (char)ascii_tolower((unsigned char)*p);
	return s;
}

static int has_report(struct mailmime *top)
{
	if (is_multipart_type(top->mm_content_type, "report"))
		return 1;
	if (top->mm_type != MAILMIME_MULTIPLE ||
	    !top->mm_data.mm_multipart.mm_mp_list)
		return 0;
	for (clistiter *c = clist_begin(top->mm_data.mm_multipart.mm_mp_list);
	     c; c = clist_next(c)) {
		struct mailmime *part = clist_content(c);

		if (is_multipart_type(part->mm_content_type, "report"))
			return 1;
	}
	return 0;
}

/* The raw body as text, when there is no usable MIME structure. */
static void raw_text(struct piece *pc, const char *s, size_t n)
{
	struct buf u;

	buf_init(&u, 2 * (size_t)PQ_MAX_TEXT_BYTES + 64);
	if (n > PQ_MAX_PART_BYTES) {
		n = PQ_MAX_PART_BYTES;
		pc->cut = 1;
	}
	if (text_guess_to_utf8(s, n, &u) < 0)
		pc->cut = 1;
	normalize_eol(&u);
	piece_add(pc, buf_str(&u), u.len, 0);
	buf_release(&u);
}

static struct mailmime *top_of(struct mailmime *mm)
{
	return mm->mm_type == MAILMIME_MESSAGE
		   ? mm->mm_data.mm_message.mm_msg_mime
		   : mm;
}

/* A multipart in which libetpan found no part? */
static int no_parts(const struct mailmime *top)
{
	return is_multipart_type(top->mm_content_type, NULL) &&
	       (top->mm_type != MAILMIME_MULTIPLE ||
		!top->mm_data.mm_multipart.mm_mp_list ||
		clist_isempty(top->mm_data.mm_multipart.mm_mp_list));
}

/* libetpan drops every part of a multipart whose last part is broken (an
 * empty part, a final delimiter without "--", a cut message). Copy
 * in[0..n) up to its last delimiter line and close the multipart there.
 * Returns 0 with the copy in fix, -1 when there is nothing to repair. */
static int close_multipart(struct mailmime *top, const char *in, size_t n,
			   struct buf *fix)
{
	char *b = mailmime_extract_boundary(top->mm_content_type);
	size_t bl, last = SIZE_MAX, i = 0;
	const char *p;
	int ret = -1;

	if (!b)
		return -1;
	bl = strlen(b);
	while (bl > 0 && (p = memmem(in + i, n - i, "\n--", 3))) {
		i = (size_t)(p - in) + 3;
		if (n - i >= bl && memcmp(in + i, b, bl) == 0)
			last = (size_t)(p - in);
	}
	if (last != SIZE_MAX) {
		buf_init(fix, last + bl + 16);
		if (buf_add(fix, in, last) == 0 &&
		    buf_addf(fix, "\r\n--%s--\r\n", b) == 0)
			ret = 0;
	}
	free(b);
	return ret;
}

/* Walk libetpan's tree of in[0..n); 0, or -1 when it has no usable one. */
static int parse_mime(struct message *msg, const char *in, size_t n,
		      struct piece *pc)
{
	struct mailmime *mm = NULL, *mm2 = NULL, *top;
	struct walk w = {0};
	struct buf fix = {0};
	size_t idx = 0;
	char why[64];
	int r, ret = -1;

	r = mailmime_parse(in, n, &idx, &mm);
	if (r != MAILIMF_NO_ERROR || !mm) {
		snprintf(why, sizeof(why), "libetpan parse failed: %d", r);
		set_error(msg, why);
		goto out;
	}
	top = top_of(mm);
	if (top && top->mm_type == MAILMIME_MULTIPLE && no_parts(top) &&
	    close_multipart(top, in, n, &fix) == 0) {
		idx = 0;
		if (mailmime_parse(fix.data, fix.len, &idx, &mm2) ==
			MAILIMF_NO_ERROR &&
		    mm2) {
			mailmime_free(mm);
			mm = mm2;
			top = top_of(mm);
		} else if (mm2) {
			mailmime_free(mm2);
		}
	}
	if (!top) {
		set_error(msg, "no message body");
		goto out;
	}
	msg->content_type = type_name(top->mm_content_type);
	if (has_report(top))
		msg->flags |= MSG_REPORT;
	walk(&w, top, 1, pc, NULL);
	msg->flags |= w.flags;
	ret = 0;
	if (pc->text.len == 0 && no_parts(top)) {
		set_error(msg, "multipart without parts");
		ret = -1;
	}
out:
	if (mm)
		mailmime_free(mm);
	buf_release(&fix);
	return ret;
}

static void finish(struct message *msg)
{
	struct buf all;
	const char *subj = msg->subject ? msg->subject : "";
	size_t sl = strlen(subj);

	buf_init(&all, sl + msg->text_len + 2);
	if (buf_add(&all, subj, sl) < 0 || buf_addc(&all, '\n') < 0 ||
	    buf_add(&all, msg->text, msg->text_len) < 0)
		buf_reset(&all);
	msg->lang = text_guess_lang(buf_str(&all), all.len);
	buf_release(&all);
	msg->norder_ids =
	    text_order_ids(subj, sl, msg->order_ids, 0, PQ_MAX_ORDER_IDS);
	msg->norder_ids =
	    text_order_ids(msg->text, msg->text_len, msg->order_ids,
			   msg->norder_ids, PQ_MAX_ORDER_IDS);
}

/* Old Mac mail ends lines with a bare CR and has no LF at all. */
static int cr_line_ends(const char *raw, size_t len)
{
	return !memchr(raw, '\n', len) && memchr(raw, '\r', len);
}

struct message *mime_parse(const char *raw, size_t len)
{
	struct message *msg = xcalloc(1, sizeof(*msg));
	struct piece pc;
	struct buf in = {0}, lf = {0};
	size_t body, n;

	piece_init(&pc);
	if (!raw || len == 0) {
		set_error(msg, "empty message");
		goto out;
	}
	if (cr_line_ends(raw, len)) {
		/* Parse a copy with LF line ends instead. */
		buf_init(&lf, len);
		if (buf_add(&lf, raw, len) == 0)
			for (size_t i = 0; i < len; i++)
				if (lf.data[i] == '\r' &&
				    (i + 1 >= len || lf.data[i + 1] != '\n'))
					lf.data[i] = '\n';
		raw = buf_str(&lf);
	}
	body = scan_headers(msg, raw, len);
	fill_envelope(msg);
	if (msg->nheaders == 0) {
		set_error(msg, "no header block");
		raw_text(&pc, raw + body, len - body);
		goto out;
	}
	build_input(msg, raw + body, len - body, &in);
	n = defuse(in.data, in.len, &msg->flags);
	if (parse_mime(msg, in.data, n, &pc) < 0)
		raw_text(&pc, raw + body, len - body);
out:
	if (!msg->content_type)
		msg->content_type = xstrdup("text/plain");
	if (pc.cut)
		msg->flags |= MSG_TEXT_TRUNCATED;
	if (pc.html && !pc.plain)
		msg->flags |= MSG_HTML_ONLY;
	msg->text = buf_detach(&pc.text, &msg->text_len);
	buf_release(&in);
	buf_release(&lf);
	finish(msg);
	return msg;
}

void message_free(struct message **mp)
{
	struct message *msg = *mp;

	if (!msg)
		return;
	for (size_t i = 0; i < msg->nheaders; i++) {
		free(msg->headers[i].name);
		free(msg->headers[i].value);
	}
	free(msg->headers);
	free(msg->message_id);
	free(msg->in_reply_to);
	for (size_t i = 0; i < msg->nrefs; i++)
		free(msg->refs[i]);
	free(msg->refs);
	free(msg->from_addr);
	free(msg->from_name);
	free(msg->reply_to_addr);
	for (size_t i = 0; i < msg->nto; i++)
		free(msg->to_addrs[i]);
	free(msg->to_addrs);
	free(msg->return_path);
	free(msg->subject);
	free(msg->content_type);
	free(msg->text);
	free(msg->parse_error);
	free(msg);
	*mp = NULL;
}
