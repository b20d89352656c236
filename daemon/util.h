/* util: allocation that succeeds or kills the process, fatal(), small string
 * and number helpers. No module state, no I/O except fatal()'s message. */
#ifndef PEAKQ_UTIL_H
#define PEAKQ_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define WARN_UNUSED __attribute__((warn_unused_result))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define NORETURN __attribute__((noreturn))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation: abort the process on failure, never return NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a string the caller owns (free()). */
char *xasprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);
char *xvasprintf(const char *fmt, va_list ap) PRINTF_LIKE(1, 0);

/* Print "peakq: <msg>" to stderr and exit(code). Start-up and OOM only. */
void fatal(int code, const char *fmt, ...) PRINTF_LIKE(2, 3) NORETURN;

/* free(*p) and set *p to NULL. */
void xfree(void *pp);

/* "90", "90s", "30m", "2h", "1d", "1h30m" -> seconds (at most 100
 * years). 0, or -1 with errno EINVAL. */
int parse_duration(const char *s, long long *v_r) WARN_UNUSED;
/* Parse a base-10 integer in [min, max]; the whole string must be used.
 * Returns 0, or -1 with errno set (EINVAL or ERANGE). */
int parse_ll(const char *s, long long min, long long max,
	     long long *v_r) WARN_UNUSED;

/* ASCII case-insensitive helpers (locale independent). */
int ascii_casecmp(const char *a, const char *b);
int ascii_ncasecmp(const char *a, const char *b, size_t n);
int ascii_tolower(int c);
/* Does s start with prefix (ASCII case-insensitive)? */
int ascii_prefix(const char *s, const char *prefix);
/* memmem() with ASCII case folding. */
const char *ascii_memcasemem(const char *hay, size_t hn, const char *needle,
			     size_t nn);

/* Seconds since the epoch (wall clock) and a monotonic clock in ms. */
int64_t now_s(void);
int64_t mono_ms(void);

/* Format t as RFC 3339 UTC ("2026-12-27T09:15:00Z") into buf (>= 21). */
void fmt_utc(int64_t t, char *buf, size_t size);

/* Read a whole file (at most max bytes) into an owned, NUL-terminated buffer.
 * Returns 0, or -1 with errno set (EFBIG when larger than max). */
int read_file(const char *path, size_t max, char **data_r,
	      size_t *len_r) WARN_UNUSED;

/* Overwrite secrets before freeing them. NULL is accepted. */
void secret_free(char **s);

/* Interned strings: each distinct string gets an id, 1, 2, ... in the
 * order first seen, found again in constant time (FNV-1a hash, linear
 * probing). Zero-initialise; strtab_free() releases. */
struct strtab {
	char **s; /* s[id - 1] */
	size_t n, scap;
	uint32_t *slot; /* id, 0 = empty */
	size_t cap;	/* a power of two, > 2n */
};
/* The id of s, added if new. */
uint32_t strtab_id(struct strtab *t, const char *s);
/* The string of id; NULL for 0. Valid until strtab_free(). */
const char *strtab_str(const struct strtab *t, uint32_t id);
void strtab_free(struct strtab *t);

#endif
