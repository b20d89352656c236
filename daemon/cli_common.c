/* cli_common: configuration and store access for subcommands, JSON and
 * column output. Business logic lives elsewhere. */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "text.h"

int cli_conf(struct cli *cli)
{
	struct xerr err = {0};

	if (cli->conf)
		return 0;
	if (conf_load(cli->config_path, &cli->conf, &err) < 0) {
		fprintf(stderr, "peakq: %s\n", err.msg);
		return EX_CONFIG;
	}
	conf_apply_time_zone(cli->conf);
	return 0;
}

int cli_store(struct cli *cli, int write, struct store **st_r)
{
	struct xerr err = {0};
	int r = cli_conf(cli);

	if (r)
		return r;
	if (store_open(cli->conf->store_path, write ? 0 : STORE_READONLY, st_r,
		       &err) < 0) {
		fprintf(stderr, "peakq: %s\n", err.msg);
		return err.kind == XERR_TEMP ? EX_TEMPFAIL : EX_UNAVAILABLE;
	}
	return 0;
}

int cli_store_error(const struct xerr *err)
{
	if (err->kind == XERR_TEMP) {
		fprintf(stderr, "peakq: %s (try again)\n", err->msg);
		return EX_TEMPFAIL;
	}
	fprintf(stderr, "peakq: %s\n", err->msg);
	return EX_UNAVAILABLE;
}

int cli_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 64 || !text_utf8_valid(s, n))
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return 0;
	return 1;
}

const char *cli_actor(void)
{
	static char name[80];
	const char *a = getenv("PEAKQ_AGENT");
	struct passwd *pw;

	if (a && *a) {
		if (!cli_name_ok(a)) {
			fprintf(stderr,
				"peakq: PEAKQ_AGENT must be a name of 1-64 "
				"characters without spaces or control "
				"characters\n");
			return NULL;
		}
		return a;
	}
	if ((pw = getpwuid(geteuid())) && cli_name_ok(pw->pw_name)) {
		snprintf(name, sizeof(name), "%s", pw->pw_name);
		return name;
	}
	fprintf(stderr, "peakq: who are you? Set PEAKQ_AGENT to your agent "
			"name\n");
	return NULL;
}

int cli_edit(const char *path)
{
	const char *ed = getenv("VISUAL");
	pid_t pid;
	int status;

	if (!ed || !*ed)
		ed = getenv("EDITOR");
	if (!ed || !*ed)
		ed = "vi";
	fflush(NULL);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		/* The editor's words may hold arguments ("code --wait"). */
		setenv("PEAKQ_EDITOR", ed, 1);
		execl("/bin/sh", "sh", "-c", "exec $PEAKQ_EDITOR \"$1\"", "sh",
		      path, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int cli_overdue(const struct store_case *c, int64_t now)
{
	return c->due_at < now && (strcmp(c->status, "new") == 0 ||
				   strcmp(c->status, "open") == 0);
}

void cli_sla(const struct store_case *c, int64_t now, char *buf, size_t size)
{
	if (strcmp(c->status, "resolved") == 0)
		snprintf(buf, size, "resolved");
	else if (strcmp(c->status, "pending") == 0)
		snprintf(buf, size, "answered, waiting for the customer");
	else
		cli_due(c->due_at, now, buf, size);
}

int cli_case_id(const char *s, int64_t *id_r)
{
	long long v;

	if (s && *s == '#')
		s++;
	if (!s || parse_ll(s, 1, INT64_MAX, &v) < 0) {
		fprintf(stderr, "peakq: '%s' is not a case number\n",
			s ? s : "");
		return -1;
	}
	*id_r = v;
	return 0;
}

void json_str(FILE *f, const char *s)
{
	struct buf b;

	if (!s) {
		fputs("null", f);
		return;
	}
	buf_init(&b, strlen(s) * 3 + 16);
	if (text_utf8_repair(s, strlen(s), &b) < 0)
		buf_truncate(&b, b.len);
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)buf_str(&b); *p;
	     p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
	buf_release(&b);
}

void json_key(FILE *f, int *first, const char *key)
{
	if (!*first)
		fputc(',', f);
	*first = 0;
	json_str(f, key);
	fputc(':', f);
}

void json_kv_str(FILE *f, int *first, const char *key, const char *v)
{
	json_key(f, first, key);
	json_str(f, v);
}

void json_kv_int(FILE *f, int *first, const char *key, long long v)
{
	json_key(f, first, key);
	fprintf(f, "%lld", v);
}

void json_kv_time(FILE *f, int *first, const char *key, int64_t t)
{
	char buf[32];

	json_key(f, first, key);
	if (!t) {
		fputs("null", f);
		return;
	}
	fmt_utc(t, buf, sizeof(buf));
	json_str(f, buf);
}

void json_kv_bool(FILE *f, int *first, const char *key, int v)
{
	json_key(f, first, key);
	fputs(v ? "true" : "false", f);
}

void json_kv_words(FILE *f, int *first, const char *key, const char *words)
{
	int n = 0;

	json_key(f, first, key);
	fputc('[', f);
	for (const char *p = words; p && *p;) {
		size_t len = strcspn(p, " ");
		if (len) {
			char *w = xstrndup(p, len);
			if (n++)
				fputc(',', f);
			json_str(f, w);
			free(w);
		}
		p += len;
		p += strspn(p, " ");
	}
	fputc(']', f);
}

int cli_term_columns(void)
{
	struct winsize ws;
	const char *c = getenv("COLUMNS");
	long long v;

	if (c && parse_ll(c, 20, 1000, &v) == 0)
		return (int)v;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 100;
}

/* East Asian Wide and Fullwidth ranges (the common ones). */
static int cp_width(unsigned cp)
{
	if (cp == 0 || (cp >= 0x300 && cp <= 0x36F) || cp == 0x200B ||
	    (cp >= 0x200E && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0x061C)
		return 0;
	if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
	    (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
	    (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
	    (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
	    (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
	    (cp >= 0xFFE0 && cp <= 0xFFE6) ||
	    (cp >= 0x1F300 && cp <= 0x1F64F) ||
	    (cp >= 0x1F900 && cp <= 0x1F9FF) ||
	    (cp >= 0x20000 && cp <= 0x3FFFD))
		return 2;
	return 1;
}

static int is_bidi(unsigned cp)
{
	return (cp >= 0x200E && cp <= 0x200F) ||
	       (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x061C;
}

size_t cli_width(const char *s)
{
	size_t w = 0, n = strlen(s), i = 0;

	while (i < n) {
		unsigned cp;
		i += text_utf8_decode(s + i, n - i, &cp);
		w += (size_t)cp_width(cp);
	}
	return w;
}

void cli_cell(FILE *f, const char *s, size_t width)
{
	size_t w = 0, n = s ? strlen(s) : 0, i = 0;
	size_t full = s ? cli_width(s) : 0;

	while (i < n) {
		unsigned cp;
		size_t k = text_utf8_decode(s + i, n - i, &cp);
		int cw = cp_width(cp);
		if (cp < 0x20 || cp == 0x7f)
			cw = 1;
		/* Leave one cell for the ellipsis when cutting. */
		if (full > width && w + (size_t)cw > width - 1)
			break;
		if (cp < 0x20 || cp == 0x7f)
			fputc(' ', f);
		else if (!is_bidi(cp)) /* customer text must not reorder */
			fwrite(s + i, 1, k, f);
		w += (size_t)cw;
		i += k;
	}
	if (full > width && width > 0) {
		fputs("…", f);
		w++;
	}
	for (; w < width; w++)
		fputc(' ', f);
}

void cli_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t) {
		snprintf(buf, size, "-");
		return;
	}
	localtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M", &tm);
}

int cli_parse_date(const char *s, int end_of_day, int64_t *t_r)
{
	struct tm tm;
	const char *e;

	memset(&tm, 0, sizeof(tm));
	if (!(e = strptime(s, "%Y-%m-%d", &tm)))
		return -1;
	if (*e == ' ' || *e == 'T') {
		if (!(e = strptime(e + 1, "%H:%M", &tm)) || *e)
			return -1;
	} else if (*e) {
		return -1;
	} else if (end_of_day) {
		tm.tm_mday++; /* --until 2026-01-12: through that day */
	}
	tm.tm_isdst = -1;
	*t_r = (int64_t)mktime(&tm);
	return 0;
}

void cli_due(int64_t due, int64_t now, char *buf, size_t size)
{
	int64_t d = due - now, a = d < 0 ? -d : d;
	long long h = (long long)(a / 3600), m = (long long)(a % 3600 / 60);

	if (d < 0) {
		if (h >= 48)
			snprintf(buf, size, "overdue %lldd", h / 24);
		else if (h)
			snprintf(buf, size, "overdue %lldh%02lldm", h, m);
		else
			snprintf(buf, size, "overdue %lldm", m);
	} else {
		if (h >= 48)
			snprintf(buf, size, "due in %lldd", h / 24);
		else if (h)
			snprintf(buf, size, "due in %lldh%02lldm", h, m);
		else
			snprintf(buf, size, "due in %lldm", m);
	}
}
