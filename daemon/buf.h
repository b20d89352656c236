/* buf: a growable, NUL-terminated, binary-safe byte buffer with a mandatory
 * maximum size (git's strbuf crossed with curl's dynbuf). Untrusted bytes go
 * only into a struct buf. */
#ifndef PEAKQ_BUF_H
#define PEAKQ_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "util.h"

struct buf {
	char *data; /* always NUL-terminated once anything was added */
	size_t len;
	size_t cap;
	size_t max; /* adding beyond max fails and leaves buf unchanged */
};

/* Start an empty buffer that may hold at most max bytes (max > 0). */
void buf_init(struct buf *b, size_t max);
/* Free the storage; b may be reused after buf_init(). */
void buf_release(struct buf *b);
/* Forget the contents, keep the storage. */
void buf_reset(struct buf *b);
/* Append; return 0, or -1 when the result would exceed max (buf unchanged). */
int buf_add(struct buf *b, const void *p, size_t n) WARN_UNUSED;
int buf_adds(struct buf *b, const char *s) WARN_UNUSED;
int buf_addc(struct buf *b, char c) WARN_UNUSED;
int buf_addf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3) WARN_UNUSED;
int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
    PRINTF_LIKE(2, 0) WARN_UNUSED;
/* Drop bytes from the end so that len becomes n (n <= len). */
void buf_truncate(struct buf *b, size_t n);
/* Hand over the NUL-terminated contents (owned, free()) and reset b.
 * Never returns NULL. */
char *buf_detach(struct buf *b, size_t *len_r);
/* The contents as a C string (borrowed; "" when empty). */
const char *buf_str(const struct buf *b);

#endif
