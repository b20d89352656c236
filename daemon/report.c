/* report: one pass over the report rows of the store builds every group's
 * counts and duration lists; quantiles sort on demand. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"

static void dist_add(struct report_dist *d, int64_t v)
{
	if (v < 0)
		v = 0; /* clocks: a reply "before" the mail is 0 s */
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 16;
		d->v = xreallocarray(d->v, d->cap, sizeof(*d->v));
	}
	d->v[d->n++] = v;
	d->sorted = 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int64_t report_quantile(struct report_dist *d, int permille)
{
	size_t k;

	if (!d->n)
		return -1;
	if (!d->sorted) {
		qsort(d->v, d->n, sizeof(*d->v), cmp_i64);
		d->sorted = 1;
	}
	/* nearest rank: the k-th smallest, k = ceil(permille * n / 1000) */
	k = ((size_t)permille * d->n + 999) / 1000;
	if (k < 1)
		k = 1;
	if (k > d->n)
		k = d->n;
	return d->v[k - 1];
}

static void group_release(struct report_group *g)
{
	free(g->name);
	free(g->to_ack.v);
	free(g->to_reply.v);
	free(g->to_resolve.v);
	free(g->handling.v);
}

static void groups_release(struct report_groups *gs)
{
	for (size_t i = 0; i < gs->n; i++)
		group_release(&gs->g[i]);
	free(gs->g);
	memset(gs, 0, sizeof(*gs));
}

const struct report_group *report_find(const struct report_groups *gs,
				       const char *name)
{
	for (size_t i = 0; i < gs->n; i++)
		if (strcmp(gs->g[i].name, name) == 0)
			return &gs->g[i];
	return NULL;
}

/* The group named name (created empty when new); its index in *i_r. */
static struct report_group *group(struct report_groups *gs, const char *name,
				  size_t *i_r)
{
	size_t i;

	if (!name || !*name)
		name = "-";
	for (i = 0; i < gs->n; i++)
		if (strcmp(gs->g[i].name, name) == 0)
			break;
	if (i == gs->n) {
		gs->g = xreallocarray(gs->g, gs->n + 1, sizeof(*gs->g));
		memset(&gs->g[gs->n], 0, sizeof(*gs->g));
		gs->g[gs->n++].name = xstrdup(name);
	}
	if (i_r)
		*i_r = i;
	return &gs->g[i];
}

/* Count case c into group g. */
static void account(struct report_group *g, const struct store_report_case *c,
		    int64_t now)
{
	g->cases++;
	g->messages += c->nmessages;
	if (c->nmessages > 1)
		g->followups += c->nmessages - 1;
	if (c->nbefore_reply > 1)
		g->followups_before_reply += c->nbefore_reply - 1;
	if (c->escalated)
		g->escalated++;
	if (c->nreopened)
		g->reopened++;
	if (c->acked_at)
		dist_add(&g->to_ack, c->acked_at - c->created_at);
	if (c->first_reply_at) {
		dist_add(&g->to_reply, c->first_reply_at - c->created_at);
		if (c->first_reply_at <= c->due_at)
			g->sla_met++;
		else
			g->sla_breached++;
	} else if (now > c->due_at) {
		g->sla_breached++; /* past due, still unanswered */
	}
	if (c->resolved_at && strcmp(c->status, "resolved") == 0) {
		g->resolved++;
		dist_add(&g->to_resolve, c->resolved_at - c->created_at);
		if (c->assignee)
			dist_add(&g->handling,
				 c->resolved_at - (c->claimed_at
						       ? c->claimed_at
						       : c->created_at));
	}
}

/* Local midnight of day t. */
static int64_t day_start(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

/* Days from local day d0 to t (DST-proof: counts calendar days). */
static long day_index(int64_t d0, int64_t t)
{
	time_t a = (time_t)d0, b = (time_t)t;
	struct tm ta, tb;

	localtime_r(&a, &ta);
	localtime_r(&b, &tb);
	ta.tm_hour = tb.tm_hour = 12; /* noon: no DST edge */
	ta.tm_min = tb.tm_min = ta.tm_sec = tb.tm_sec = 0;
	ta.tm_isdst = tb.tm_isdst = -1;
	return (long)((mktime(&tb) - mktime(&ta) + 43200) / 86400);
}

struct build {
	struct report *r;
	size_t *case_day, *case_cat; /* per case, for day_cat */
	size_t n, cap;
	int64_t day_lo, day_hi; /* the last case's local day, [lo, hi) */
	long day_d;		/* and its index */
};

static int case_cb(const struct store_report_case *c, void *ctx)
{
	struct build *b = ctx;
	struct report *r = b->r;
	int64_t now = r->now;
	size_t cat;
	time_t tt = (time_t)c->created_at;
	struct tm tm;
	long d;

	account(&r->all, c, now);
	account(group(&r->category, c->category, &cat), c, now);
	account(group(&r->priority, c->priority, NULL), c, now);
	account(group(&r->lang, c->lang, NULL), c, now);
	account(group(&r->ack_tmpl, c->tmpl, NULL), c, now);
	if (c->reply_tmpl)
		account(group(&r->reply_tmpl, c->reply_tmpl, NULL), c, now);
	account(group(&r->agent, c->assignee ? c->assignee : "(nobody)", NULL),
		c, now);
	account(group(&r->rule, c->rule, NULL), c, now);
	if (c->ack_state) {
		if (strcmp(c->ack_state, "sent") == 0)
			r->acks_sent++;
		else if (strcmp(c->ack_state, "failed") == 0)
			r->acks_failed++;
		else if (strcmp(c->ack_state, "expired") == 0)
			r->acks_expired++;
		else if (strcmp(c->ack_state, "uncertain") == 0)
			r->acks_uncertain++;
		else if (strcmp(c->ack_state, "suppressed") == 0) {
			r->acks_suppressed++;
			group(&r->suppressed, c->ack_reason, NULL)->cases++;
		} else
			r->acks_waiting++;
	}
	localtime_r(&tt, &tm);
	r->hour[tm.tm_hour]++;
	r->week_hour[(tm.tm_wday + 6) % 7][tm.tm_hour]++;
	if (!r->day0)
		r->day0 = day_start(c->created_at);
	/* Cases come in order of creation: the day's bounds are computed
	 * once a day, not per case (mktime() reads the zone file again each
	 * time when TZ is not set). */
	if (c->created_at >= b->day_lo && c->created_at < b->day_hi) {
		d = b->day_d;
	} else {
		d = day_index(r->day0, c->created_at);
		if (d < 0)
			d = 0;
		b->day_lo = day_start(c->created_at);
		b->day_hi = day_start(b->day_lo + 26 * 3600); /* days <= 25 h */
		b->day_d = d;
	}
	if ((size_t)d >= r->ndays) {
		size_t nd = (size_t)d + 1;
		r->day = xreallocarray(r->day, nd, sizeof(*r->day));
		memset(r->day + r->ndays, 0, (nd - r->ndays) * sizeof(*r->day));
		r->ndays = nd;
	}
	r->day[d]++;
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 1024;
		b->case_day =
		    xreallocarray(b->case_day, b->cap, sizeof(size_t));
		b->case_cat =
		    xreallocarray(b->case_cat, b->cap, sizeof(size_t));
	}
	b->case_day[b->n] = (size_t)d;
	b->case_cat[b->n++] = cat;
	return 0;
}

static int esc_cb(const char *reason, long long n, void *ctx)
{
	struct build *b = ctx;

	group(&b->r->esc_reason, reason, NULL)->cases += n;
	return 0;
}

static int cmp_group_cases(const void *a, const void *b)
{
	const struct report_group *x = a, *y = b;

	if (x->cases != y->cases)
		return x->cases < y->cases ? 1 : -1;
	return strcmp(x->name, y->name);
}

int report_build(struct store *st, int64_t since, int64_t until,
		 const char *mailbox, int64_t now,
		 const char *const *rule_names, size_t nrules,
		 struct report **rep_r, struct xerr *err)
{
	struct report *r = xcalloc(1, sizeof(*r));
	struct build b = {.r = r};
	int ret = -1;

	r->since = since;
	r->until = until;
	r->now = now;
	r->mailbox = mailbox ? xstrdup(mailbox) : NULL;
	r->all.name = xstrdup("all");
	if (since > 0)
		r->day0 = day_start(since);
	if (store_report_cases(st, since, until, mailbox, case_cb, esc_cb, &b,
			       err) < 0)
		goto out;
	/* Biggest first: what a lead reads top-down. */
	struct report_groups *sorted[] = {
	    &r->category, &r->lang, &r->ack_tmpl,  &r->reply_tmpl,
	    &r->agent,	  &r->rule, &r->suppressed};
	/* Category indexes must survive the sort for day_cat. */
	size_t ncat = r->category.n;
	char **catnames = xcalloc(ncat ? ncat : 1, sizeof(char *));
	for (size_t i = 0; i < ncat; i++)
		catnames[i] = r->category.g[i].name;
	for (size_t i = 0; i < sizeof(sorted) / sizeof(*sorted); i++)
		if (sorted[i]->n)
			qsort(sorted[i]->g, sorted[i]->n,
			      sizeof(struct report_group), cmp_group_cases);
	r->day_cat = xcalloc(r->ndays * ncat + 1, sizeof(long long));
	for (size_t k = 0; k < b.n; k++) {
		size_t pos = 0;
		const char *name = catnames[b.case_cat[k]];
		while (pos < ncat && r->category.g[pos].name != name)
			pos++;
		r->day_cat[b.case_day[k] * ncat + pos]++;
	}
	free(catnames);
	/* Priorities in their own order. */
	{
		static const char *const order[] = {"urgent", "high", "normal",
						    "low"};
		struct report_groups p = {0};
		for (size_t i = 0; i < 4; i++) {
			const struct report_group *g =
			    report_find(&r->priority, order[i]);
			if (g) {
				p.g = xreallocarray(p.g, p.n + 1, sizeof(*p.g));
				p.g[p.n++] = *g;
			}
		}
		for (size_t i = 0; i < r->priority.n; i++) {
			int known = 0;
			for (size_t j = 0; j < 4; j++)
				known |= strcmp(r->priority.g[i].name,
						order[j]) == 0;
			if (!known) {
				p.g = xreallocarray(p.g, p.n + 1, sizeof(*p.g));
				p.g[p.n++] = r->priority.g[i];
			}
		}
		free(r->priority.g);
		r->priority = p;
	}
	for (size_t i = 0; i < nrules; i++)
		if (!report_find(&r->rule, rule_names[i])) {
			r->rules_never =
			    xreallocarray(r->rules_never, r->nrules_never + 1,
					  sizeof(char *));
			r->rules_never[r->nrules_never++] =
			    xstrdup(rule_names[i]);
		}
	*rep_r = r;
	r = NULL;
	ret = 0;
out:
	free(b.case_day);
	free(b.case_cat);
	report_free(&r);
	return ret;
}

void report_free(struct report **rp)
{
	struct report *r = *rp;

	if (!r)
		return;
	group_release(&r->all);
	groups_release(&r->category);
	groups_release(&r->priority);
	groups_release(&r->lang);
	groups_release(&r->ack_tmpl);
	groups_release(&r->reply_tmpl);
	groups_release(&r->agent);
	groups_release(&r->rule);
	groups_release(&r->suppressed);
	groups_release(&r->esc_reason);
	for (size_t i = 0; i < r->nrules_never; i++)
		free(r->rules_never[i]);
	free(r->rules_never);
	free(r->day);
	free(r->day_cat);
	free(r->mailbox);
	free(r);
	*rp = NULL;
}
