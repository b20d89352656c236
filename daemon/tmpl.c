/* tmpl: load, check and render acknowledgement templates. Owns the header
 * encoder (libetpan has none) and the quoted-printable body encoder. Every
 * customer-derived value passes text_header_safe() before use. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bounds.h"
#include "text.h"
#include "tmpl.h"

#define MAX_MESSAGE (256u * 1024)

enum var_id {
	V_CASE_ID,
	V_ORDER_ID,
	V_CUSTOMER_NAME,
	V_SLA_HOURS,
	V_REPLY_BY,
	V_CATEGORY,
	V_ORIGINAL_SUBJECT,
	V_TEAM_NAME,
	V_NOTICE,
	V_COUNT,
};

static const char *const var_names[V_COUNT] = {
    "case_id",	"order_id",	    "customer_name", "sla_hours", "reply_by",
    "category", "original_subject", "team_name",     "notice",
};

/* A template is a sequence of literal text and placeholders. */
struct piece {
	int var;    /* -1 for literal */
	char *text; /* literal text, or the fallback (may be NULL) */
};

struct part {
	struct piece *p;
	size_t n;
};

struct tmpl {
	char *lang, *name, *file;
	struct part subject, body;
};

struct tmpl_set {
	struct tmpl *t;
	size_t n;
};

static void part_release(struct part *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->p[i].text);
	free(p->p);
}

void tmpl_free(struct tmpl_set **setp)
{
	struct tmpl_set *set = *setp;

	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++) {
		free(set->t[i].lang);
		free(set->t[i].name);
		free(set->t[i].file);
		part_release(&set->t[i].subject);
		part_release(&set->t[i].body);
	}
	free(set->t);
	free(set);
	*setp = NULL;
}

static void add_piece(struct part *p, int var, const char *s, size_t n)
{
	p->p = xreallocarray(p->p, p->n + 1, sizeof(*p->p));
	p->p[p->n].var = var;
	p->p[p->n].text = s ? xstrndup(s, n) : NULL;
	p->n++;
}

/* Parse s[0..n) (starting at line/col in file) into pieces. */
static int parse_part(const char *file, const char *s, size_t n, unsigned line,
		      unsigned col, struct part *p, struct xerr *err)
{
	size_t i = 0, lit = 0;

	while (i < n) {
		if (s[i] == '\n') {
			line++;
			col = 1;
			i++;
			continue;
		}
		if (s[i] != '{' || i + 1 >= n || s[i + 1] != '{') {
			i++;
			col++;
			continue;
		}
		const char *close = memmem(s + i + 2, n - i - 2, "}}", 2);
		if (!close)
			return xerr_set(err, XERR_CONFIG,
					"%s:%u:%u: '{{' without '}}'", file,
					line, col);
		const char *name = s + i + 2, *bar;
		size_t len = (size_t)(close - name), nlen;
		if (memchr(name, '\n', len))
			return xerr_set(err, XERR_CONFIG,
					"%s:%u:%u: placeholder spans lines",
					file, line, col);
		bar = memchr(name, '|', len);
		nlen = bar ? (size_t)(bar - name) : len;
		while (nlen && name[0] == ' ') {
			name++;
			nlen--;
		}
		while (nlen && name[nlen - 1] == ' ')
			nlen--;
		int var = -1;
		for (int v = 0; v < V_COUNT; v++)
			if (strlen(var_names[v]) == nlen &&
			    memcmp(var_names[v], name, nlen) == 0)
				var = v;
		if (var < 0)
			return xerr_set(err, XERR_CONFIG,
					"%s:%u:%u: unknown placeholder "
					"'{{%.*s}}' (known: case_id, order_id, "
					"customer_name, sla_hours, reply_by, "
					"category, original_subject, "
					"team_name, notice)",
					file, line, col, (int)nlen, name);
		if (i > lit)
			add_piece(p, -1, s + lit, i - lit);
		if (bar)
			add_piece(p, var, bar + 1, (size_t)(close - bar - 1));
		else
			add_piece(p, var, NULL, 0);
		col += (unsigned)(close + 2 - (s + i));
		i = (size_t)(close + 2 - s);
		lit = i;
	}
	if (n > lit)
		add_piece(p, -1, s + lit, n - lit);
	return 0;
}

static int load_one(const char *path, const char *lang, const char *name,
		    struct tmpl *t, struct xerr *err)
{
	char *data = NULL, *p, *end;
	size_t len;
	unsigned line = 1;
	int have_subject = 0, ret = -1;

	t->lang = xstrdup(lang);
	t->name = xstrdup(name);
	t->file = xstrdup(path);
	if (read_file(path, PQ_MAX_TEMPLATE_BYTES, &data, &len) < 0) {
		xerr_set(err, XERR_CONFIG, "%s: cannot read: %s", path,
			 strerror(errno));
		goto out;
	}
	if (!text_utf8_valid(data, len) || memchr(data, '\0', len)) {
		xerr_set(err, XERR_CONFIG, "%s: not valid UTF-8 text", path);
		goto out;
	}
	/* Header block: "Name: value" lines up to a blank line. */
	p = data;
	end = data + len;
	for (;;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *eol = nl ? nl : end;
		size_t ll = (size_t)(eol - p);
		if (ll && p[ll - 1] == '\r')
			ll--;
		if (ll == 0) {
			p = nl ? nl + 1 : end;
			line++;
			break;
		}
		if (!nl) {
			xerr_set(err, XERR_CONFIG,
				 "%s:%u:1: missing blank line between the "
				 "header block and the body",
				 path, line);
			goto out;
		}
		if (ascii_ncasecmp(p, "Subject:", 8) != 0) {
			char *colon = memchr(p, ':', ll);
			xerr_set(err, XERR_CONFIG,
				 "%s:%u:1: unsupported template header '%.*s' "
				 "(only Subject: is allowed; a template must "
				 "start with its Subject: line)",
				 path, line,
				 (int)(colon ? (size_t)(colon - p) : ll), p);
			goto out;
		}
		if (have_subject) {
			xerr_set(err, XERR_CONFIG,
				 "%s:%u:1: second Subject:", path, line);
			goto out;
		}
		have_subject = 1;
		const char *v = p + 8;
		while (*v == ' ' || *v == '\t')
			v++;
		if (parse_part(path, v, (size_t)(p + ll - v), line,
			       (unsigned)(v - p) + 1, &t->subject, err) < 0)
			goto out;
		p = nl + 1;
		line++;
	}
	if (!have_subject) {
		xerr_set(err, XERR_CONFIG, "%s:1:1: no Subject: line", path);
		goto out;
	}
	if (p >= end) {
		xerr_set(err, XERR_CONFIG, "%s:%u:1: the body is empty", path,
			 line);
		goto out;
	}
	if (parse_part(path, p, (size_t)(end - p), line, 1, &t->body, err) < 0)
		goto out;
	ret = 0;
out:
	free(data);
	return ret;
}

/* Load every *.txt of ldir as templates of lang named prefix + file name.
 * A missing directory is fine when optional. */
static int scan_dir(struct tmpl_set *set, const char *ldir, const char *lang,
		    const char *prefix, int optional, struct xerr *err)
{
	DIR *d = opendir(ldir);
	struct dirent *de;

	if (!d) {
		if (errno == ENOENT && optional)
			return 0;
		return xerr_set(err, XERR_CONFIG,
				"cannot open templates directory '%s': %s",
				ldir, strerror(errno));
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 5 ||
		    strcmp(de->d_name + len - 4, ".txt") != 0)
			continue;
		char *name =
		    xasprintf("%s%.*s", prefix, (int)(len - 4), de->d_name);
		char *path = xasprintf("%s/%s", ldir, de->d_name);
		set->t = xreallocarray(set->t, set->n + 1, sizeof(*set->t));
		memset(&set->t[set->n], 0, sizeof(*set->t));
		set->n++;
		int r = load_one(path, lang, name, &set->t[set->n - 1], err);
		free(name);
		free(path);
		if (r < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

int tmpl_load_dir(const char *dir, struct tmpl_set **set_r, struct xerr *err)
{
	static const char *const langs[] = {"en", "zh"};
	struct tmpl_set *set = xcalloc(1, sizeof(*set));
	int ret = -1;

	for (size_t l = 0; l < 2; l++) {
		char *ldir = xasprintf("%s/%s", dir, langs[l]);
		char *rdir = xasprintf("%s/replies", ldir);
		/* en must exist; zh and the agents' canned replies may not. */
		int r = scan_dir(set, ldir, langs[l], "", l > 0, err);
		if (r == 0)
			r = scan_dir(set, rdir, langs[l], "replies/", 1, err);
		free(ldir);
		free(rdir);
		if (r < 0)
			goto out;
	}
	*set_r = set;
	set = NULL;
	ret = 0;
out:
	tmpl_free(&set);
	return ret;
}

const struct tmpl *tmpl_find(const struct tmpl_set *set, const char *lang,
			     const char *name)
{
	const struct tmpl *en = NULL;

	for (size_t i = 0; i < set->n; i++) {
		if (strcmp(set->t[i].name, name) != 0)
			continue;
		if (lang && strcmp(set->t[i].lang, lang) == 0)
			return &set->t[i];
		if (strcmp(set->t[i].lang, "en") == 0)
			en = &set->t[i];
	}
	return en;
}

size_t tmpl_count(const struct tmpl_set *set)
{
	return set->n;
}

const struct tmpl *tmpl_at(const struct tmpl_set *set, size_t i)
{
	return i < set->n ? &set->t[i] : NULL;
}

const char *tmpl_file(const struct tmpl *t)
{
	return t->file;
}

const char *tmpl_lang(const struct tmpl *t)
{
	return t->lang;
}

const char *tmpl_name(const struct tmpl *t)
{
	return t->name;
}

/* ---------------------------------------------------------------- encoding */

static int is_plain_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* Does every space-separated word of value fit on a 78-character line
 * (the first after `first` characters of "Name: ")? */
static int words_fit(const char *value, size_t first)
{
	for (const char *p = value; *p;) {
		size_t w = strcspn(p + 1, " ") + 1;
		if ((p == value ? first : 0) + w > 78)
			return 0;
		p += w;
	}
	return 1;
}

int tmpl_header(struct buf *out, const char *name, const char *value)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
	    "tuvwxyz0123456789+/";
	size_t n = strlen(value), i = 0;
	size_t line = strlen(name) + 2;

	if (buf_addf(out, "%s: ", name) < 0)
		return -1;
	/* Printable ASCII without encoded-word look-alikes, whose words all
	 * fit: as is, folded at spaces so no line exceeds 78 characters
	 * (RFC 5322 2.1.1). Anything else, a 100-character URL included,
	 * goes into encoded words, which fold anywhere. */
	if (is_plain_ascii(value) && !strstr(value, "=?") && n <= 900 &&
	    words_fit(value, line)) {
		const char *p = value;
		size_t start = line; /* where the current line's words begin */
		while (*p) {
			size_t w = strcspn(p + 1, " ") + 1; /* " word" */
			if (line + w > 78 && line > start && *p == ' ') {
				if (buf_adds(out, "\r\n") < 0)
					return -1;
				line = 0;
				start = 0;
			}
			if (buf_add(out, p, w) < 0)
				return -1;
			line += w;
			p += w;
		}
		return buf_adds(out, "\r\n");
	}
	/* Encoded words of at most 39 bytes of UTF-8 each (52 base64 chars +
	 * 12 = 64 <= 75), never splitting a UTF-8 sequence, folded with
	 * CRLF SP. */
	while (i < n) {
		size_t chunk = n - i < 39 ? n - i : 39;
		while (chunk < n - i &&
		       ((unsigned char)value[i + chunk] & 0xC0) == 0x80)
			chunk--;
		if (chunk == 0)
			chunk = 1; /* unreachable for valid UTF-8 */
		if (i > 0 && buf_adds(out, "\r\n ") < 0)
			return -1;
		if (buf_adds(out, "=?UTF-8?B?") < 0)
			return -1;
		const unsigned char *s = (const unsigned char *)value + i;
		for (size_t k = 0; k < chunk; k += 3) {
			unsigned v = (unsigned)s[k] << 16;
			char q[4];
			if (k + 1 < chunk)
				v |= (unsigned)s[k + 1] << 8;
			if (k + 2 < chunk)
				v |= s[k + 2];
			q[0] = b64[(v >> 18) & 63];
			q[1] = b64[(v >> 12) & 63];
			q[2] = k + 1 < chunk ? b64[(v >> 6) & 63] : '=';
			q[3] = k + 2 < chunk ? b64[v & 63] : '=';
			if (buf_add(out, q, 4) < 0)
				return -1;
		}
		if (buf_adds(out, "?=") < 0)
			return -1;
		i += chunk;
	}
	return buf_adds(out, "\r\n");
}

int tmpl_qp(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char enc[3];
		size_t el;
		if (c == '\r' && i + 1 < n && s[i + 1] == '\n')
			continue;
		if (c == '\n') {
			if (buf_adds(out, "\r\n") < 0)
				return -1;
			col = 0;
			continue;
		}
		int trailing_ws =
		    (c == ' ' || c == '\t') &&
		    (i + 1 == n || s[i + 1] == '\n' || s[i + 1] == '\r');
		if ((c >= 33 && c <= 126 && c != '=') ||
		    ((c == ' ' || c == '\t') && !trailing_ws)) {
			enc[0] = (char)c;
			el = 1;
		} else {
			enc[0] = '=';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			el = 3;
		}
		/* Keep multi-byte UTF-8 sequences on one line when possible:
		 * break before a lead byte if the whole sequence won't fit. */
		size_t need = el;
		if (c >= 0xC0) {
			size_t seq = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
			need = seq * 3;
		}
		if (col + need > 75) {
			if (buf_adds(out, "=\r\n") < 0)
				return -1;
			col = 0;
		}
		if (buf_add(out, enc, el) < 0)
			return -1;
		col += el;
	}
	if (col > 0 && buf_adds(out, "\r\n") < 0)
		return -1;
	return 0;
}

/* ---------------------------------------------------------------- render */

static int valid_msgid(const char *id)
{
	if (!id || !*id || strlen(id) > 250)
		return 0;
	for (const char *p = id; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    *p == '<' || *p == '>' || *p == '"' || *p == '\\' ||
		    *p == '(' || *p == ')' || *p == ',' || *p == ';')
			return 0;
	return 1;
}

static int valid_addr(const char *a)
{
	const char *at;

	if (!a || !*a || strlen(a) > 254)
		return 0;
	at = strrchr(a, '@');
	if (!at || at == a || !at[1])
		return 0;
	for (const char *p = a; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '<' ||
		    *p == '>' || *p == '"' || *p == '\\' || *p == ',' ||
		    *p == '(' || *p == ')' || *p == ';' || *p == ':')
			return 0;
	return text_utf8_valid(a, strlen(a));
}

static void format_reply_by(int64_t t, const char *lang, char *out, size_t size)
{
	static const char *const wd_zh[] = {"日", "一", "二", "三",
					    "四", "五", "六"};
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	if (strcmp(lang, "zh") == 0) {
		snprintf(out, size, "%d年%d月%d日（星期%s）%02d:%02d",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 wd_zh[tm.tm_wday], tm.tm_hour, tm.tm_min);
	} else {
		static const char *const wd[] = {
		    "Sunday",	"Monday", "Tuesday", "Wednesday",
		    "Thursday", "Friday", "Saturday"};
		static const char *const mon[] = {
		    "January",	 "February", "March",	 "April",
		    "May",	 "June",     "July",	 "August",
		    "September", "October",  "November", "December"};
		snprintf(out, size, "%s %d %s %d, %02d:%02d", wd[tm.tm_wday],
			 tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900,
			 tm.tm_hour, tm.tm_min);
	}
}

/* Fill the placeholder values; every one is single-line and header-safe. */
static void fill_values(const struct tmpl *t, const struct tmpl_vars *v,
			char *vals[V_COUNT])
{
	char tmp[128];

	snprintf(tmp, sizeof(tmp), "%lld", (long long)v->case_id);
	vals[V_CASE_ID] = xstrdup(tmp);
	snprintf(tmp, sizeof(tmp), "%d", v->sla_hours);
	vals[V_SLA_HOURS] = xstrdup(tmp);
	format_reply_by(v->reply_by, t->lang, tmp, sizeof(tmp));
	vals[V_REPLY_BY] = xstrdup(tmp);
#define SAFE(id, s)                                                            \
	vals[id] = (s) ? text_header_safe((s), strlen(s), PQ_MAX_HEADER_CP)    \
		       : xstrdup("")
	SAFE(V_ORDER_ID, v->order_id);
	SAFE(V_CUSTOMER_NAME, v->customer_name);
	SAFE(V_ORIGINAL_SUBJECT, v->original_subject);
	SAFE(V_CATEGORY, v->category);
	SAFE(V_TEAM_NAME, v->team_name);
#undef SAFE
	/* The notice is the team's own multi-line text. */
	vals[V_NOTICE] = xstrdup(v->notice ? v->notice : "");
}

static int expand(const struct part *p, char *const vals[V_COUNT],
		  struct buf *out)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct piece *pc = &p->p[i];
		const char *s = pc->var < 0 ? pc->text : vals[pc->var];
		if (pc->var >= 0 && !*s && pc->text)
			s = pc->text; /* fallback */
		if (buf_adds(out, s) < 0)
			return -1;
	}
	return 0;
}

/* "Name" <addr> with the name quoted or encoded as needed. */
static int address_header(struct buf *out, const char *hname, const char *name,
			  const char *addr)
{
	if (!name || !*name)
		return buf_addf(out, "%s: <%s>\r\n", hname, addr);
	if (is_plain_ascii(name) && strlen(name) < 60) {
		if (buf_addf(out, "%s: \"", hname) < 0)
			return -1;
		for (const char *p = name; *p; p++) {
			if ((*p == '"' || *p == '\\') &&
			    buf_addc(out, '\\') < 0)
				return -1;
			if (buf_addc(out, *p) < 0)
				return -1;
		}
		return buf_addf(out, "\" <%s>\r\n", addr);
	}
	/* Encoded words for the name; the address goes on its own folded
	 * line. */
	struct buf tmp;
	int r;
	buf_init(&tmp, 4096);
	r = tmpl_header(&tmp, hname, name);
	if (r == 0) {
		buf_truncate(&tmp, tmp.len - 2); /* drop CRLF */
		r = buf_add(out, tmp.data, tmp.len) < 0 ||
			    buf_addf(out, "\r\n <%s>\r\n", addr) < 0
			? -1
			: 0;
	}
	buf_release(&tmp);
	return r;
}

int tmpl_fill(const struct tmpl *t, const struct tmpl_vars *v,
	      const char *subject_tag, struct buf *subject, struct buf *body,
	      struct xerr *err)
{
	char *vals[V_COUNT] = {0};
	struct buf subj, tag;
	char *safe = NULL;
	int ret = -1;

	buf_init(&subj, 8192);
	buf_init(&tag, 512);
	fill_values(t, v, vals);
	if (expand(&t->subject, vals, &subj) < 0 ||
	    expand(&t->body, vals, body) < 0) {
		xerr_set(err, XERR_PERM, "tmpl: rendered message too large");
		goto out;
	}
	/* The subject tag, e.g. "[Case #42]", unless the template has it. */
	{
		struct part tp = {0};
		if (parse_part("subject_tag", subject_tag, strlen(subject_tag),
			       1, 1, &tp, err) < 0) {
			part_release(&tp);
			goto out;
		}
		if (expand(&tp, vals, &tag) < 0) {
			part_release(&tp);
			xerr_set(err, XERR_PERM, "tmpl: subject tag too long");
			goto out;
		}
		part_release(&tp);
	}
	if (!strstr(buf_str(&subj), buf_str(&tag)) &&
	    (buf_addc(&subj, ' ') < 0 || buf_adds(&subj, buf_str(&tag)) < 0)) {
		xerr_set(err, XERR_PERM, "tmpl: subject too long");
		goto out;
	}
	/* The template's own text is trusted, the values are header-safe
	 * already; this pass guarantees a single line whatever happened. */
	safe = text_header_safe(subj.data, subj.len, 998);
	if (buf_adds(subject, safe) < 0) {
		xerr_set(err, XERR_PERM, "tmpl: subject too long");
		goto out;
	}
	ret = 0;
out:
	for (int i = 0; i < V_COUNT; i++)
		free(vals[i]);
	free(safe);
	buf_release(&subj);
	buf_release(&tag);
	return ret;
}

int tmpl_compose(const struct tmpl_mail *mail, const char *subject,
		 const char *body, size_t body_len, int64_t case_id, int human,
		 struct buf *out, struct xerr *err)
{
	char date[64], *safe_subject = NULL, *to_name = NULL;
	int ret = -1;
	time_t tt = (time_t)mail->date;
	struct tm tm;

	if (!valid_addr(mail->to_addr))
		return xerr_set(err, XERR_PERM,
				"tmpl: unusable recipient address");
	if (!valid_msgid(mail->message_id))
		return xerr_set(err, XERR_BUG, "tmpl: bad Message-ID");
	/* Whatever the caller passes (an agent's edited text included), the
	 * subject is one header-safe line. */
	safe_subject = text_header_safe(subject, strlen(subject), 998);
	if (mail->to_name)
		to_name = text_header_safe(mail->to_name, strlen(mail->to_name),
					   PQ_MAX_HEADER_CP);

	gmtime_r(&tt, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (address_header(out, "From", mail->from_name, mail->from_addr) < 0 ||
	    address_header(out, "To", to_name, mail->to_addr) < 0 ||
	    (mail->reply_to_addr &&
	     address_header(out, "Reply-To", mail->reply_to_name,
			    mail->reply_to_addr) < 0) ||
	    tmpl_header(out, "Subject", safe_subject) < 0 ||
	    buf_addf(out, "Date: %s\r\n", date) < 0 ||
	    buf_addf(out, "Message-ID: <%s>\r\n", mail->message_id) < 0)
		goto full;
	if (valid_msgid(mail->in_reply_to)) {
		size_t first = 0, kept = 0;
		if (buf_addf(out, "In-Reply-To: <%s>\r\n", mail->in_reply_to) <
		    0)
			goto full;
		if (buf_adds(out, "References:") < 0)
			goto full;
		/* Keep the thread's root and the most recent ids. */
		if (mail->nrefs + 1 > PQ_MAX_REFERENCES)
			first = mail->nrefs + 1 - PQ_MAX_REFERENCES + 1;
		for (size_t i = 0; i < mail->nrefs; i++) {
			if (i > 0 && i < first)
				continue;
			if (!valid_msgid(mail->refs[i]) ||
			    strcmp(mail->refs[i], mail->in_reply_to) == 0)
				continue;
			if (buf_addf(out, "%s<%s>", kept ? "\r\n " : " ",
				     mail->refs[i]) < 0)
				goto full;
			kept++;
		}
		if (buf_addf(out, "%s<%s>\r\n", kept ? "\r\n " : " ",
			     mail->in_reply_to) < 0)
			goto full;
	}
	/* An acknowledgement is an automatic reply (RFC 3834); an agent's
	 * answer is a person's mail and must not look like one. */
	if ((!human && buf_adds(out, "Auto-Submitted: auto-replied\r\n"
				     "X-Auto-Response-Suppress: All\r\n"
				     "Precedence: bulk\r\n") < 0) ||
	    buf_addf(out, "%s: %lld\r\n", "X-Peakq-Loop", (long long)case_id) <
		0 ||
	    buf_adds(out, "MIME-Version: 1.0\r\n"
			  "Content-Type: text/plain; charset=utf-8\r\n"
			  "Content-Transfer-Encoding: quoted-printable\r\n"
			  "\r\n") < 0 ||
	    tmpl_qp(out, body, body_len) < 0)
		goto full;
	ret = 0;
	goto out;
full:
	xerr_set(err, XERR_PERM, "tmpl: rendered message too large");
out:
	free(safe_subject);
	free(to_name);
	return ret;
}

int tmpl_render(const struct tmpl *t, const struct tmpl_vars *v,
		const struct tmpl_mail *mail, struct buf *out, struct xerr *err)
{
	struct buf subj, body;
	int ret = -1;

	buf_init(&subj, 8192);
	buf_init(&body, MAX_MESSAGE);
	if (!valid_addr(mail->to_addr)) {
		xerr_set(err, XERR_PERM, "tmpl: unusable recipient address");
		goto out;
	}
	if (tmpl_fill(t, v, mail->subject_tag, &subj, &body, err) < 0)
		goto out;
	ret = tmpl_compose(mail, buf_str(&subj), body.data ? body.data : "",
			   body.len, v->case_id, 0, out, err);
out:
	buf_release(&subj);
	buf_release(&body);
	return ret;
}
