/* tap.h: a header-only TAP producer for unit tests (run under automake's
 * tap-driver.sh). ok()/is_str()/is_int() report one test each; done_testing()
 * prints the plan and returns the exit status. */
#ifndef PEAKQ_TAP_H
#define PEAKQ_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3))) static int ok(int cond, const char *fmt,
						    ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

__attribute__((format(printf, 1, 2))) static void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

#define is_str(got, want, ...)                                                 \
	do {                                                                   \
		const char *g_ = (got), *w_ = (want);                          \
		int c_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_;          \
		if (!ok(c_, __VA_ARGS__))                                      \
			diag("  got: '%s'\n#   expected: '%s'",                \
			     g_ ? g_ : "(null)", w_ ? w_ : "(null)");          \
	} while (0)

#define is_int(got, want, ...)                                                 \
	do {                                                                   \
		long long g_ = (long long)(got), w_ = (long long)(want);       \
		if (!ok(g_ == w_, __VA_ARGS__))                                \
			diag("  got: %lld, expected: %lld", g_, w_);           \
	} while (0)

static int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
