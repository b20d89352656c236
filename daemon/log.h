/* log: one line per event to stderr (plain, journal <N> prefixes, or with
 * timestamps) or to syslog. Lines read "subsystem: what: why key=value". */
#ifndef PEAKQ_LOG_H
#define PEAKQ_LOG_H

#include "util.h"

enum log_target {
	LOG_TO_AUTO,   /* journal if JOURNAL_STREAM is set, else stderr */
	LOG_TO_STDERR, /* "peakqd: level: msg" */
	LOG_TO_JOURNAL,
	LOG_TO_HUMAN, /* timestamped, for -d */
	LOG_TO_SYSLOG,
};

enum log_level {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARN = 4,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7
};

/* verbose: 1 adds debug lines, 0 is errors, warnings and info, -1 only
 * errors and warnings (the CLI, which reports outcomes itself). */
void log_init(const char *ident, enum log_target target, int verbose);
void log_msg(enum log_level lvl, int errnum, const char *fmt, ...)
    PRINTF_LIKE(3, 4);

#define log_err(...) log_msg(LOG_LVL_ERR, 0, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, 0, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, 0, __VA_ARGS__)
#define log_err_errno(...) log_msg(LOG_LVL_ERR, errno, __VA_ARGS__)
#define log_warn_errno(...) log_msg(LOG_LVL_WARN, errno, __VA_ARGS__)

#endif
