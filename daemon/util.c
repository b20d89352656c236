/* util: allocation wrappers that abort on OOM, fatal(), number parsing,
 * ASCII helpers, clocks and whole-file reads. Nothing here logs. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static void NORETURN oom(size_t n)
{
	fprintf(stderr, "peakq: out of memory (%zu bytes)\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom(nmemb * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

void *xreallocarray(void *p, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		oom(SIZE_MAX);
	return xrealloc(p, nmemb * size);
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom(strlen(s));
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		oom(n);
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *p;

	if (vasprintf(&p, fmt, ap) < 0)
		oom(0);
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void fatal(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("peakq: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

void xfree(void *pp)
{
	void **p = pp;

	free(*p);
	*p = NULL;
}

int parse_ll(const char *s, long long min, long long max, long long *v_r)
{
	char *end;
	long long v;

	if (!s || !*s || isspace((unsigned char)*s)) {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno)
		return -1;
	if (*end) {
		errno = EINVAL;
		return -1;
	}
	if (v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*v_r = v;
	return 0;
}

int parse_duration(const char *s, long long *v_r)
{
	long long total = 0;
	int any = 0;

	if (!s || !*s)
		goto bad;
	while (*s) {
		char *end;
		long long v, mult;
		if (!isdigit((unsigned char)*s))
			goto bad;
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno || v > 100LL * 365 * 86400)
			goto bad;
		switch (*end) {
		case 'd':
			mult = 86400;
			break;
		case 'h':
			mult = 3600;
			break;
		case 'm':
			mult = 60;
			break;
		case 's':
			mult = 1;
			break;
		case '\0':
			if (any) /* "1h30" is ambiguous */
				goto bad;
			mult = 1;
			end--;
			break;
		default:
			goto bad;
		}
		total += v * mult;
		if (total > 100LL * 365 * 86400)
			goto bad;
		s = end + 1;
		any = 1;
	}
	*v_r = total;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int ascii_tolower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

int ascii_casecmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		int d = ascii_tolower((unsigned char)*a) -
			ascii_tolower((unsigned char)*b);
		if (d || !*a)
			return d;
	}
}

int ascii_ncasecmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		int d = ascii_tolower((unsigned char)*a) -
			ascii_tolower((unsigned char)*b);
		if (d || !*a)
			return d;
	}
	return 0;
}

int ascii_prefix(const char *s, const char *prefix)
{
	return ascii_ncasecmp(s, prefix, strlen(prefix)) == 0;
}

const char *ascii_memcasemem(const char *hay, size_t hn, const char *needle,
			     size_t nn)
{
	size_t i, j;

	if (nn == 0)
		return hay;
	if (hn < nn)
		return NULL;
	for (i = 0; i + nn <= hn; i++) {
		for (j = 0; j < nn; j++)
			if (ascii_tolower((unsigned char)hay[i + j]) !=
			    ascii_tolower((unsigned char)needle[j]))
				break;
		if (j == nn)
			return hay + i;
	}
	return NULL;
}

int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fmt_utc(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int read_file(const char *path, size_t max, char **data_r, size_t *len_r)
{
	int fd, ret = -1, saved;
	struct stat st;
	char *data = NULL;
	size_t len = 0, cap;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto out;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto out;
	}
	cap = (st.st_size > 0 && (size_t)st.st_size < max) ? (size_t)st.st_size
							   : 4096;
	data = xmalloc(cap + 1);
	for (;;) {
		if (len == cap) {
			if (cap >= max) {
				errno = EFBIG;
				goto out;
			}
			cap = cap * 2 > max ? max : cap * 2;
			data = xrealloc(data, cap + 1);
		}
		n = read(fd, data + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	data[len] = '\0';
	*data_r = data;
	*len_r = len;
	data = NULL;
	ret = 0;
out:
	saved = errno;
	free(data);
	close(fd);
	errno = saved;
	return ret;
}

void secret_free(char **s)
{
	if (!*s)
		return;
	explicit_bzero(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

/* ---------------------------------------------------------------- strtab */

static uint32_t strtab_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

uint32_t strtab_id(struct strtab *t, const char *s)
{
	size_t i;

	if (2 * (t->n + 1) >= t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		uint32_t *slot = xcalloc(cap, sizeof(*slot));
		for (size_t k = 0; k < t->n; k++) {
			i = strtab_hash(t->s[k]) & (cap - 1);
			while (slot[i])
				i = (i + 1) & (cap - 1);
			slot[i] = (uint32_t)k + 1;
		}
		free(t->slot);
		t->slot = slot;
		t->cap = cap;
	}
	i = strtab_hash(s) & (t->cap - 1);
	while (t->slot[i]) {
		if (strcmp(t->s[t->slot[i] - 1], s) == 0)
			return t->slot[i];
		i = (i + 1) & (t->cap - 1);
	}
	if (t->n == t->scap) {
		t->scap = t->scap ? 2 * t->scap : 64;
		t->s = xreallocarray(t->s, t->scap, sizeof(*t->s));
	}
	t->s[t->n] = xstrdup(s);
	t->slot[i] = (uint32_t)++t->n;
	return t->slot[i];
}

const char *strtab_str(const struct strtab *t, uint32_t id)
{
	return id ? t->s[id - 1] : NULL;
}

void strtab_free(struct strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->s[i]);
	free(t->s);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}
