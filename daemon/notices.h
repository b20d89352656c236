/* notices: the carrier delay notices the team announces during the peak (a
 * YAML file), and which of them apply to a message: active on the day,
 * for its category, and mentioning a keyword when the notice has any.
 * Their text reaches acknowledgements as {{notice}}. No I/O but reading
 * the file. */
#ifndef PEAKQ_NOTICES_H
#define PEAKQ_NOTICES_H

#include <stddef.h>
#include <stdint.h>

#include "xerr.h"

struct notices;

/* Load path. Returns 0 and an owned set, or -1 with XERR_CONFIG
 * "file:line:col: message". */
int notices_load(const char *path, struct notices **n_r,
		 struct xerr *err) WARN_UNUSED;
void notices_free(struct notices **n);
size_t notices_count(const struct notices *n);

/* The text of every notice active at `now` (local date) for category,
 * in lang ("en" or "zh", falling back to en), whose keywords (if any)
 * occur in text; joined by newlines. Owned; "" when none. n may be
 * NULL. */
char *notices_for(const struct notices *n, int64_t now, const char *category,
		  const char *lang, const char *text, size_t len);

#endif
