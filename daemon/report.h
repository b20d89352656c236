/* report: the season review's figures, computed from the store's cases,
 * messages, outbox rows and events (no counters of its own that could
 * drift). Knows no SQL and prints nothing: cli_report.c formats the model
 * as text, JSON, CSV or HTML. Times of day and dates are local (TZ). */
#ifndef PEAKQ_REPORT_H
#define PEAKQ_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "xerr.h"

/* Durations in seconds, summarised. */
struct report_dist {
	int64_t *v;
	size_t n, cap;
	int sorted;
};
/* The nearest-rank quantile: the k-th smallest value with k =
 * ceil(permille * n / 1000) (500 the median, 900 p90, 1000 the max); -1
 * when empty. */
int64_t report_quantile(struct report_dist *d, int permille);

/* Figures for one group of cases: a category, a priority, a language, a
 * template, an agent, a rule, or all of them. */
struct report_group {
	char *name;
	long long cases, messages, followups; /* followups: messages - 1 */
	long long followups_before_reply;     /* customers writing again
						 before our first reply */
	long long escalated, reopened, resolved;
	long long sla_met, sla_breached; /* first reply by due time or not;
					    open cases not yet due count in
					    neither */
	struct report_dist to_ack, to_reply, to_resolve;
	struct report_dist handling; /* claim -> resolved (agents) */
};

struct report_groups {
	struct report_group *g;
	size_t n;
};

struct report {
	int64_t since, until, now;
	char *mailbox; /* NULL: all */
	struct report_group all;
	struct report_groups category, priority, lang, ack_tmpl, reply_tmpl,
	    agent, rule, suppressed, esc_reason;
	char **rules_never; /* rules of the rule set no case matched */
	size_t nrules_never;
	long long acks_sent, acks_failed, acks_expired, acks_suppressed,
	    acks_uncertain, acks_waiting;
	/* Volume by local day (day[0] is the day of `since`, or of the first
	 * case when since is 0) and hour. */
	int64_t day0;
	long long *day;
	size_t ndays;
	long long hour[24];
	long long week_hour[7][24]; /* Monday = 0 */
	/* categories by day, for the stacked chart: day * ncat_days + cat */
	long long *day_cat;
};

/* Build the report of cases created in [since, until) (0, INT64_MAX for
 * all) of mailbox (NULL for all), at `now`. rule_names (n of them) are the
 * current rule set's, for "rules that never matched"; may be NULL. */
int report_build(struct store *st, int64_t since, int64_t until,
		 const char *mailbox, int64_t now,
		 const char *const *rule_names, size_t nrules,
		 struct report **rep_r, struct xerr *err) WARN_UNUSED;
void report_free(struct report **rep);

/* The group of gs named name, or NULL. */
const struct report_group *report_find(const struct report_groups *gs,
				       const char *name);

#endif
