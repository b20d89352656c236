/* xerr: errors as values. A fallible function takes `struct xerr *err` last,
 * fills it on failure, and the caller (ingest, main, cli) decides and logs. */
#ifndef PEAKQ_XERR_H
#define PEAKQ_XERR_H

#include "util.h"

enum xerr_kind {
	XERR_NONE = 0,
	XERR_TEMP,   /* retry later: network, SQLITE_BUSY, SMTP 4xx */
	XERR_PERM,   /* skip this item: broken MIME, SMTP 5xx */
	XERR_CONFIG, /* configuration, rules or templates are wrong */
	XERR_BUG,    /* should not happen */
};

struct xerr {
	enum xerr_kind kind;
	/* The failure is the local store's (a full disk, a read-only file, a
	 * lock), not a server's. Set by store.c; cleared by xerr_set. */
	int local;
	char msg[512];
};

/* Set kind and message; returns -1 so callers can `return xerr_set(...)`.
 * err may be NULL. */
int xerr_set(struct xerr *err, enum xerr_kind kind, const char *fmt, ...)
    PRINTF_LIKE(3, 4);
/* Prepend "prefix: " to the message, keeping the kind. Returns -1. */
int xerr_prefix(struct xerr *err, const char *fmt, ...) PRINTF_LIKE(2, 3);
void xerr_clear(struct xerr *err);
const char *xerr_kind_name(enum xerr_kind kind);

#endif
