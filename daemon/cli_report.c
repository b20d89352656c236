/* cli_report: `peakq report` — the season review (or today's figures) as
 * aligned text, one JSON document, or CSV tables. The figures come from
 * report.c; this file only lays them out. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "report.h"
#include "rules.h"

enum rep_format { REP_TEXT, REP_JSON, REP_CSV, REP_HTML };

/* "45s", "12m", "3h05m", "2d04h"; "-" for none. */
static void fmt_dur(int64_t s, char *buf, size_t size)
{
	if (s < 0)
		snprintf(buf, size, "-");
	else if (s < 60)
		snprintf(buf, size, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm", (long long)(s / 60));
	else if (s < 86400)
		snprintf(buf, size, "%lldh%02lldm", (long long)(s / 3600),
			 (long long)(s % 3600 / 60));
	else
		snprintf(buf, size, "%lldd%02lldh", (long long)(s / 86400),
			 (long long)(s % 86400 / 3600));
}

static double pct(long long part, long long whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* ---------------------------------------------------------------- text */

static void text_dist3(FILE *f, struct report_dist *d)
{
	char a[32], b[32], c[32], cell[112];

	fmt_dur(report_quantile(d, 500), a, sizeof(a));
	fmt_dur(report_quantile(d, 900), b, sizeof(b));
	fmt_dur(report_quantile(d, 1000), c, sizeof(c));
	snprintf(cell, sizeof(cell), "%s/%s/%s", a, b, c);
	fprintf(f, " %-19s", cell);
}

static void text_bar(FILE *f, long long n, long long max, int width)
{
	int w = max ? (int)((n * width + max - 1) / max) : 0;

	for (int i = 0; i < w; i++)
		fputs("█", f);
}

static void text_counts(FILE *f, const char *title, struct report_groups *gs,
			long long total)
{
	fprintf(f, "  %s:", title);
	for (size_t i = 0; i < gs->n; i++)
		fprintf(f, "%s %s %lld (%.1f%%)", i ? "," : "", gs->g[i].name,
			gs->g[i].cases, pct(gs->g[i].cases, total));
	if (!gs->n)
		fputs(" -", f);
	fputc('\n', f);
}

static void text_speed_row(FILE *f, struct report_group *g)
{
	cli_cell(f, g->name, 16);
	fprintf(f, " %6lld", g->cases);
	text_dist3(f, &g->to_ack);
	text_dist3(f, &g->to_reply);
	text_dist3(f, &g->to_resolve);
	fprintf(f, " %5lld %5lld %5.1f%%\n", g->sla_met, g->sla_breached,
		pct(g->sla_breached, g->sla_met + g->sla_breached));
}

static void text_tmpl_rows(FILE *f, const char *title, struct report_groups *gs)
{
	char med[32];

	fprintf(f,
		"\n  %-24s  cases  follow-ups before reply  reopened  "
		"median to resolve\n",
		title);
	for (size_t i = 0; i < gs->n; i++) {
		struct report_group *g = &gs->g[i];
		fmt_dur(report_quantile(&g->to_resolve, 500), med, sizeof(med));
		fputs("  ", f);
		cli_cell(f, g->name, 24);
		fprintf(f, "  %5lld  %7lld (%4.2f per case)  %7.1f%%  %s\n",
			g->cases, g->followups_before_reply,
			g->cases ? (double)g->followups_before_reply /
				       (double)g->cases
				 : 0.0,
			pct(g->reopened, g->cases), med);
	}
	if (!gs->n)
		fputs("  -\n", f);
}

static void report_text(FILE *f, struct report *r, const char *team)
{
	char a[32], b[32], tz[16];
	time_t now = (time_t)r->now;
	struct tm tm;
	long long maxd = 0, maxh = 0;

	localtime_r(&now, &tm);
	strftime(tz, sizeof(tz), "%Z", &tm);
	cli_time(r->since ? r->since : r->day0, a, sizeof(a));
	cli_time(r->until < INT64_MAX ? r->until : r->now, b, sizeof(b));
	fprintf(f, "peakq report — %s — %s to %s (%s)%s%s\n\n", team, a, b, tz,
		r->mailbox ? " — mailbox " : "", r->mailbox ? r->mailbox : "");

	fprintf(f,
		"VOLUME: %lld cases, %lld messages, %.2f follow-ups per "
		"case\n",
		r->all.cases, r->all.messages,
		r->all.cases ? (double)r->all.followups / (double)r->all.cases
			     : 0.0);
	fprintf(f, "\n  %-16s %6s %7s %10s\n", "category", "cases", "share",
		"follow-ups");
	for (size_t i = 0; i < r->category.n; i++) {
		struct report_group *g = &r->category.g[i];
		fputs("  ", f);
		cli_cell(f, g->name, 16);
		fprintf(f, " %6lld %6.1f%% %10.2f  ", g->cases,
			pct(g->cases, r->all.cases),
			g->cases ? (double)g->followups / (double)g->cases
				 : 0.0);
		text_bar(f, g->cases,
			 r->category.n ? r->category.g[0].cases : 0, 30);
		fputc('\n', f);
	}
	fputc('\n', f);
	text_counts(f, "by priority", &r->priority, r->all.cases);
	text_counts(f, "by language", &r->lang, r->all.cases);

	for (size_t d = 0; d < r->ndays; d++)
		if (r->day[d] > maxd)
			maxd = r->day[d];
	fputs("\n  by day\n", f);
	for (size_t d = 0; d < r->ndays; d++) {
		time_t t = (time_t)(r->day0 + (int64_t)d * 86400 + 43200);
		char day[32];
		localtime_r(&t, &tm);
		strftime(day, sizeof(day), "%a %Y-%m-%d", &tm);
		fprintf(f, "  %s %6lld  ", day, r->day[d]);
		text_bar(f, r->day[d], maxd, 40);
		fputc('\n', f);
	}
	for (int h = 0; h < 24; h++)
		if (r->hour[h] > maxh)
			maxh = r->hour[h];
	fputs("\n  by hour of day\n", f);
	for (int h = 0; h < 24; h++) {
		fprintf(f, "  %02d:00 %6lld  ", h, r->hour[h]);
		text_bar(f, r->hour[h], maxh, 40);
		fputc('\n', f);
	}

	fputs("\nSPEED (median/p90/max; SLA: first reply by the due time)\n\n",
	      f);
	fprintf(f, "%-16s %6s %-19s %-19s %-19s %5s %5s %6s\n", "category",
		"cases", " to acknowledgement", " to first reply",
		" to resolution", "met", "late", "late%");
	for (size_t i = 0; i < r->category.n; i++)
		text_speed_row(f, &r->category.g[i]);
	text_speed_row(f, &r->all);

	fputs("\nTEMPLATES (which wording worked)\n", f);
	text_tmpl_rows(f, "acknowledgement", &r->ack_tmpl);
	text_tmpl_rows(f, "reply", &r->reply_tmpl);

	fputs("\nWORK\n\n", f);
	fprintf(f, "  escalated: %lld (%.1f%%)", r->all.escalated,
		pct(r->all.escalated, r->all.cases));
	fprintf(f, "   reopened: %lld (%.1f%%)   resolved: %lld (%.1f%%)\n",
		r->all.reopened, pct(r->all.reopened, r->all.cases),
		r->all.resolved, pct(r->all.resolved, r->all.cases));
	if (r->esc_reason.n)
		fputs("  escalation reasons:\n", f);
	for (size_t i = 0; i < r->esc_reason.n && i < 15; i++) {
		fprintf(f, "  %6lld  ", r->esc_reason.g[i].cases);
		cli_cell(f, r->esc_reason.g[i].name, 70);
		fputc('\n', f);
	}
	fprintf(f, "\n  %-16s %6s %8s %16s\n", "agent", "cases", "resolved",
		"median handling");
	for (size_t i = 0; i < r->agent.n; i++) {
		struct report_group *g = &r->agent.g[i];
		char med[32];
		fmt_dur(report_quantile(&g->handling, 500), med, sizeof(med));
		fputs("  ", f);
		cli_cell(f, g->name, 16);
		fprintf(f, " %6lld %8lld %16s\n", g->cases, g->resolved, med);
	}
	fputs("\n  rules that matched:", f);
	for (size_t i = 0; i < r->rule.n; i++)
		fprintf(f, "%s %s %lld", i ? "," : "", r->rule.g[i].name,
			r->rule.g[i].cases);
	fputs("\n  rules that never matched:", f);
	for (size_t i = 0; i < r->nrules_never; i++)
		fprintf(f, "%s %s", i ? "," : "", r->rules_never[i]);
	if (!r->nrules_never)
		fputs(" none", f);
	fprintf(f,
		"\n\n  acknowledgements: %lld sent, %lld suppressed, %lld "
		"failed, %lld expired, %lld uncertain, %lld waiting\n",
		r->acks_sent, r->acks_suppressed, r->acks_failed,
		r->acks_expired, r->acks_uncertain, r->acks_waiting);
	if (r->suppressed.n) {
		fputs("  suppressed by reason:", f);
		for (size_t i = 0; i < r->suppressed.n; i++)
			fprintf(f, "%s %s %lld", i ? "," : "",
				r->suppressed.g[i].name,
				r->suppressed.g[i].cases);
		fputc('\n', f);
	}
}

/* ---------------------------------------------------------------- JSON */

static void json_dist(FILE *f, int *first, const char *key,
		      struct report_dist *d)
{
	int f2 = 1;

	json_key(f, first, key);
	fputc('{', f);
	json_kv_int(f, &f2, "n", (long long)d->n);
	if (d->n) {
		json_kv_int(f, &f2, "median_s", report_quantile(d, 500));
		json_kv_int(f, &f2, "p90_s", report_quantile(d, 900));
		json_kv_int(f, &f2, "max_s", report_quantile(d, 1000));
	} else {
		json_key(f, &f2, "median_s");
		fputs("null", f);
		json_key(f, &f2, "p90_s");
		fputs("null", f);
		json_key(f, &f2, "max_s");
		fputs("null", f);
	}
	fputc('}', f);
}

static void json_group(FILE *f, struct report_group *g, long long total)
{
	int first = 1;

	fputc('{', f);
	json_kv_str(f, &first, "name", g->name);
	json_kv_int(f, &first, "cases", g->cases);
	json_key(f, &first, "share");
	fprintf(f, "%.4f", total ? (double)g->cases / (double)total : 0.0);
	json_kv_int(f, &first, "messages", g->messages);
	json_kv_int(f, &first, "followups", g->followups);
	json_kv_int(f, &first, "followups_before_reply",
		    g->followups_before_reply);
	json_kv_int(f, &first, "escalated", g->escalated);
	json_kv_int(f, &first, "reopened", g->reopened);
	json_kv_int(f, &first, "resolved", g->resolved);
	json_kv_int(f, &first, "sla_met", g->sla_met);
	json_kv_int(f, &first, "sla_breached", g->sla_breached);
	json_dist(f, &first, "to_ack", &g->to_ack);
	json_dist(f, &first, "to_first_reply", &g->to_reply);
	json_dist(f, &first, "to_resolution", &g->to_resolve);
	json_dist(f, &first, "handling", &g->handling);
	fputc('}', f);
}

static void json_groups(FILE *f, int *first, const char *key,
			struct report_groups *gs, long long total)
{
	json_key(f, first, key);
	fputc('[', f);
	for (size_t i = 0; i < gs->n; i++) {
		fputs(i ? ",\n  " : "\n  ", f);
		json_group(f, &gs->g[i], total);
	}
	fputc(']', f);
}

static void report_json(FILE *f, struct report *r)
{
	int first = 1;
	char day[16];

	fputc('{', f);
	json_kv_time(f, &first, "since", r->since ? r->since : r->day0);
	json_kv_time(f, &first, "until",
		     r->until < INT64_MAX ? r->until : r->now);
	json_kv_time(f, &first, "generated_at", r->now);
	json_kv_str(f, &first, "mailbox", r->mailbox);
	json_key(f, &first, "all");
	json_group(f, &r->all, r->all.cases);
	json_groups(f, &first, "categories", &r->category, r->all.cases);
	json_groups(f, &first, "priorities", &r->priority, r->all.cases);
	json_groups(f, &first, "languages", &r->lang, r->all.cases);
	json_groups(f, &first, "ack_templates", &r->ack_tmpl, r->all.cases);
	json_groups(f, &first, "reply_templates", &r->reply_tmpl, r->all.cases);
	json_groups(f, &first, "agents", &r->agent, r->all.cases);
	json_groups(f, &first, "rules", &r->rule, r->all.cases);
	json_key(f, &first, "rules_never_matched");
	fputc('[', f);
	for (size_t i = 0; i < r->nrules_never; i++) {
		if (i)
			fputc(',', f);
		json_str(f, r->rules_never[i]);
	}
	fputc(']', f);
	json_key(f, &first, "escalation_reasons");
	fputc('[', f);
	for (size_t i = 0; i < r->esc_reason.n; i++) {
		int f2 = 1;
		fputs(i ? ",{" : "{", f);
		json_kv_str(f, &f2, "reason", r->esc_reason.g[i].name);
		json_kv_int(f, &f2, "count", r->esc_reason.g[i].cases);
		fputc('}', f);
	}
	fputc(']', f);
	json_key(f, &first, "acks");
	{
		int f2 = 1;
		fputc('{', f);
		json_kv_int(f, &f2, "sent", r->acks_sent);
		json_kv_int(f, &f2, "suppressed", r->acks_suppressed);
		json_kv_int(f, &f2, "failed", r->acks_failed);
		json_kv_int(f, &f2, "expired", r->acks_expired);
		json_kv_int(f, &f2, "uncertain", r->acks_uncertain);
		json_kv_int(f, &f2, "waiting", r->acks_waiting);
		json_key(f, &f2, "suppressed_by_reason");
		fputc('{', f);
		int f3 = 1;
		for (size_t i = 0; i < r->suppressed.n; i++)
			json_kv_int(f, &f3, r->suppressed.g[i].name,
				    r->suppressed.g[i].cases);
		fputs("}}", f);
	}
	json_key(f, &first, "by_day");
	fputc('[', f);
	for (size_t d = 0; d < r->ndays; d++) {
		time_t t = (time_t)(r->day0 + (int64_t)d * 86400 + 43200);
		struct tm tm;
		int f2 = 1;
		localtime_r(&t, &tm);
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
		fputs(d ? ",{" : "{", f);
		json_kv_str(f, &f2, "date", day);
		json_kv_int(f, &f2, "cases", r->day[d]);
		fputc('}', f);
	}
	fputc(']', f);
	json_key(f, &first, "by_hour");
	fputc('[', f);
	for (int h = 0; h < 24; h++)
		fprintf(f, "%s%lld", h ? "," : "", r->hour[h]);
	fputc(']', f);
	json_key(f, &first, "by_weekday_hour");
	fputc('[', f);
	for (int w = 0; w < 7; w++) {
		fputs(w ? ",[" : "[", f);
		for (int h = 0; h < 24; h++)
			fprintf(f, "%s%lld", h ? "," : "", r->week_hour[w][h]);
		fputc(']', f);
	}
	fputs("]}\n", f);
}

/* ---------------------------------------------------------------- CSV */

static const char *const csv_tables[] = {
    "categories", "priorities", "languages", "ack_templates", "reply_templates",
    "agents",	  "rules",	"by_day",    "by_hour",	      NULL,
};

static void csv_group_table(FILE *f, struct report_groups *gs, long long total)
{
	fputs("name,cases,share,messages,followups,followups_before_reply,"
	      "escalated,reopened,resolved,sla_met,sla_breached,"
	      "to_ack_median_s,to_ack_p90_s,to_ack_max_s,"
	      "to_first_reply_median_s,to_first_reply_p90_s,"
	      "to_first_reply_max_s,to_resolution_median_s,"
	      "to_resolution_p90_s,to_resolution_max_s,handling_median_s\r\n",
	      f);
	for (size_t i = 0; i < gs->n; i++) {
		struct report_group *g = &gs->g[i];
		struct report_dist *ds[] = {&g->to_ack, &g->to_reply,
					    &g->to_resolve};
		/* names are ours (categories, rules, agents): quote anyway */
		fputc('"', f);
		for (const char *p = g->name; *p; p++) {
			if (*p == '"')
				fputc('"', f);
			fputc(*p, f);
		}
		fprintf(
		    f, "\",%lld,%.4f,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld",
		    g->cases, total ? (double)g->cases / (double)total : 0.0,
		    g->messages, g->followups, g->followups_before_reply,
		    g->escalated, g->reopened, g->resolved, g->sla_met,
		    g->sla_breached);
		for (size_t k = 0; k < 3; k++) {
			int qs[] = {500, 900, 1000};
			for (size_t q = 0; q < 3; q++) {
				int64_t v = report_quantile(ds[k], qs[q]);
				if (v < 0)
					fputs(",", f);
				else
					fprintf(f, ",%lld", (long long)v);
			}
		}
		int64_t hv = report_quantile(&g->handling, 500);
		if (hv < 0)
			fputs(",\r\n", f);
		else
			fprintf(f, ",%lld\r\n", (long long)hv);
	}
}

static int report_csv(FILE *f, struct report *r, const char *table)
{
	int any = 0;

	for (size_t t = 0; csv_tables[t]; t++) {
		const char *name = csv_tables[t];
		struct report_groups *gs = NULL;
		if (table && strcmp(table, name) != 0)
			continue;
		if (!table)
			fprintf(f, "%s# %s\r\n", any ? "\r\n" : "", name);
		any = 1;
		if (strcmp(name, "categories") == 0)
			gs = &r->category;
		else if (strcmp(name, "priorities") == 0)
			gs = &r->priority;
		else if (strcmp(name, "languages") == 0)
			gs = &r->lang;
		else if (strcmp(name, "ack_templates") == 0)
			gs = &r->ack_tmpl;
		else if (strcmp(name, "reply_templates") == 0)
			gs = &r->reply_tmpl;
		else if (strcmp(name, "agents") == 0)
			gs = &r->agent;
		else if (strcmp(name, "rules") == 0)
			gs = &r->rule;
		if (gs) {
			csv_group_table(f, gs, r->all.cases);
		} else if (strcmp(name, "by_day") == 0) {
			fputs("date,cases\r\n", f);
			for (size_t d = 0; d < r->ndays; d++) {
				time_t tt =
				    (time_t)(r->day0 + (int64_t)d * 86400 +
					     43200);
				struct tm tm;
				char day[16];
				localtime_r(&tt, &tm);
				strftime(day, sizeof(day), "%Y-%m-%d", &tm);
				fprintf(f, "%s,%lld\r\n", day, r->day[d]);
			}
		} else {
			fputs("hour,cases\r\n", f);
			for (int h = 0; h < 24; h++)
				fprintf(f, "%d,%lld\r\n", h, r->hour[h]);
		}
	}
	return any ? 0 : -1;
}

int report_html(FILE *f, struct report *r, const char *team);

/* ---------------------------------------------------------------- command */

static void report_usage(FILE *f)
{
	fputs(
	    "usage: peakq report [--since DATE] [--until DATE] [--mailbox M]\n"
	    "                    [--format text|json|csv|html] [--table "
	    "NAME] [-o FILE]\n"
	    "\n"
	    "The season review: volumes and shares by category, priority, "
	    "language,\n"
	    "day and hour; time to acknowledgement, first reply and "
	    "resolution\n"
	    "(median/p90/max) and SLA met or late, per category; which "
	    "acknowledgement\n"
	    "and reply templates worked; escalations, reopenings, agents, "
	    "rules, and\n"
	    "suppressed or failed acknowledgements. Computed from the "
	    "store's events;\n"
	    "dates and hours are local (TZ).\n"
	    "\n"
	    "  --since DATE   cases received from DATE (2025-12-01 or "
	    "'2025-12-01 08:00')\n"
	    "  --until DATE   ... until DATE (a date alone: through that "
	    "day)\n"
	    "  --mailbox M    one account, or account/folder\n"
	    "  --format F     text (default), json (one document), csv "
	    "(tables),\n"
	    "                 html (one self-contained page with charts)\n"
	    "  --table NAME   csv: only that table (categories, priorities, "
	    "languages,\n"
	    "                 ack_templates, reply_templates, agents, rules, "
	    "by_day,\n"
	    "                 by_hour)\n"
	    "  -o FILE        write to FILE instead of standard output\n",
	    f);
}

int cmd_report(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"since", required_argument, NULL, 's'},
	    {"until", required_argument, NULL, 'u'},
	    {"mailbox", required_argument, NULL, 'm'},
	    {"format", required_argument, NULL, 'f'},
	    {"table", required_argument, NULL, 't'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	enum rep_format fmt = REP_TEXT;
	int64_t since = 0, until = INT64_MAX;
	const char *mailbox = NULL, *table = NULL, *out = NULL;
	struct store *st = NULL;
	struct report *rep = NULL;
	struct ruleset *rules = NULL;
	struct xerr err = {0};
	const char **names = NULL;
	size_t nnames = 0;
	FILE *f = stdout;
	int ch, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
		case 'u':
			if (cli_parse_date(optarg, ch == 'u',
					   ch == 's' ? &since : &until) < 0) {
				fprintf(stderr,
					"peakq report: --%s needs a date "
					"(2025-12-01 or '2025-12-01 08:00'), "
					"not '%s'\n",
					ch == 's' ? "since" : "until", optarg);
				return 2;
			}
			break;
		case 'm':
			mailbox = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "text") == 0)
				fmt = REP_TEXT;
			else if (strcmp(optarg, "json") == 0)
				fmt = REP_JSON;
			else if (strcmp(optarg, "csv") == 0)
				fmt = REP_CSV;
			else if (strcmp(optarg, "html") == 0)
				fmt = REP_HTML;
			else {
				fprintf(stderr, "peakq report: --format is "
						"text, json, csv or html\n");
				return 2;
			}
			break;
		case 't':
			table = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			report_usage(stdout);
			return 0;
		default:
			report_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		report_usage(stderr);
		return 2;
	}
	if (table) {
		size_t i;
		for (i = 0; csv_tables[i] && strcmp(csv_tables[i], table); i++)
			;
		if (!csv_tables[i] || fmt != REP_CSV) {
			fprintf(stderr,
				"peakq report: --table goes with --format csv "
				"and is one of categories, priorities, "
				"languages, ack_templates, reply_templates, "
				"agents, rules, by_day, by_hour\n");
			return 2;
		}
	}
	if (since >= until) {
		fprintf(stderr, "peakq report: --since must be before "
				"--until\n");
		return 2;
	}
	if ((r = cli_store(cli, 0, &st)))
		return r;
	/* The rule set, for rules that never matched (optional). */
	if (rules_load_dir(cli->conf->rules_dir, &rules, &err) == 0) {
		nnames = rules_count(rules);
		names = xcalloc(nnames ? nnames : 1, sizeof(*names));
		for (size_t i = 0; i < nnames; i++)
			names[i] = rules_name_at(rules, i);
	}
	memset(&err, 0, sizeof(err));
	if (report_build(st, since, until, mailbox, now_s(), names, nnames,
			 &rep, &err) < 0) {
		r = cli_store_error(&err);
		goto out;
	}
	if (out && !(f = fopen(out, "w"))) {
		fprintf(stderr, "peakq report: cannot write '%s': %m\n", out);
		r = 1;
		goto out;
	}
	switch (fmt) {
	case REP_TEXT:
		report_text(f, rep, cli->conf->team_name);
		break;
	case REP_JSON:
		report_json(f, rep);
		break;
	case REP_CSV:
		report_csv(f, rep, table);
		break;
	case REP_HTML:
		report_html(f, rep, cli->conf->team_name);
		break;
	}
	if (f != stdout && fclose(f) != 0) {
		fprintf(stderr, "peakq report: writing '%s' failed: %m\n", out);
		r = 1;
	}
	f = stdout;
out:
	free(names);
	rules_free(&rules);
	report_free(&rep);
	store_close(&st);
	return r;
}
