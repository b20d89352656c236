/* log: the process's only logging backend. Holds the one piece of mutable
 * global state besides main(): the chosen target and verbosity. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static const char *log_ident = "peakq";
static enum log_target log_target = LOG_TO_STDERR;
static int log_verbose;

void log_init(const char *ident, enum log_target target, int verbose)
{
	log_ident = ident;
	log_verbose = verbose;
	if (target == LOG_TO_AUTO)
		target =
		    getenv("JOURNAL_STREAM") ? LOG_TO_JOURNAL : LOG_TO_STDERR;
	log_target = target;
	if (target == LOG_TO_SYSLOG)
		openlog(ident, LOG_PID, LOG_MAIL);
}

static const char *lvl_name(enum log_level lvl)
{
	switch (lvl) {
	case LOG_LVL_ERR:
		return "error";
	case LOG_LVL_WARN:
		return "warning";
	case LOG_LVL_INFO:
		return "info";
	case LOG_LVL_DEBUG:
		return "debug";
	}
	return "?";
}

void log_msg(enum log_level lvl, int errnum, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	size_t n;

	if ((lvl == LOG_LVL_DEBUG && log_verbose < 1) ||
	    (lvl == LOG_LVL_INFO && log_verbose < 0))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = strlen(line);
	if (errnum)
		snprintf(line + n, sizeof(line) - n, ": %s", strerror(errnum));
	/* One event, one line: never let a value break the line. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';

	switch (log_target) {
	case LOG_TO_SYSLOG:
		syslog((int)lvl, "%s", line);
		break;
	case LOG_TO_JOURNAL:
		fprintf(stderr, "<%d>%s\n", (int)lvl, line);
		break;
	case LOG_TO_HUMAN: {
		char ts[32];
		time_t t = time(NULL);
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
		fprintf(stderr, "%s %s[%s]: %s\n", ts, log_ident, lvl_name(lvl),
			line);
		break;
	}
	default:
		fprintf(stderr, "%s: %s: %s\n", log_ident, lvl_name(lvl), line);
		break;
	}
}
