/* xerr: fill and prefix error values; never logs. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "xerr.h"

int xerr_set(struct xerr *err, enum xerr_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->kind = kind;
	err->local = 0;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int xerr_prefix(struct xerr *err, const char *fmt, ...)
{
	char pre[256], old[sizeof(err->msg)];
	size_t pl, ol;
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	pl = strlen(pre);
	/* "prefix: old", the old message cut when it does not fit */
	ol = strnlen(old, sizeof(err->msg) - pl - 3);
	memcpy(err->msg, pre, pl);
	memcpy(err->msg + pl, ": ", 2);
	memcpy(err->msg + pl + 2, old, ol);
	err->msg[pl + 2 + ol] = '\0';
	return -1;
}

void xerr_clear(struct xerr *err)
{
	if (!err)
		return;
	err->kind = XERR_NONE;
	err->local = 0;
	err->msg[0] = '\0';
}

const char *xerr_kind_name(enum xerr_kind kind)
{
	switch (kind) {
	case XERR_NONE:
		return "none";
	case XERR_TEMP:
		return "temporary";
	case XERR_PERM:
		return "permanent";
	case XERR_CONFIG:
		return "config";
	case XERR_BUG:
		return "bug";
	}
	return "unknown";
}
