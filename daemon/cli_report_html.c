/* cli_report_html: `peakq report --format html` — one self-contained page
 * (no script, font or network: inline CSS and SVG drawn here) with four
 * charts and the report's tables. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "report.h"

/* Colour-blind-safe palette (Okabe-Ito), then greys. */
static const char *const palette[] = {
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7",
    "#56B4E9", "#F0E442", "#000000", "#999999", "#666666",
};
#define NPAL (sizeof(palette) / sizeof(*palette))

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\n')
				fputc(' ', f);
			else
				fputc(*s, f);
		}
	}
}

static void dur(int64_t s, char *buf, size_t size)
{
	if (s < 0)
		snprintf(buf, size, "–");
	else if (s < 60)
		snprintf(buf, size, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm", (long long)((s + 59) / 60));
	else if (s < 86400)
		snprintf(buf, size, "%.1fh", (double)s / 3600);
	else
		snprintf(buf, size, "%.1fd", (double)s / 86400);
}

static double pctd(long long a, long long b)
{
	return b ? 100.0 * (double)a / (double)b : 0;
}

/* Daily volume, stacked by category. */
static void chart_daily(FILE *f, struct report *r)
{
	const int W = 1160, H = 300, L = 50, B = 40, T = 20;
	size_t nc = r->category.n, nd = r->ndays ? r->ndays : 1;
	long long max = 1;
	double bw;

	for (size_t d = 0; d < r->ndays; d++)
		if (r->day[d] > max)
			max = r->day[d];
	bw = (double)(W - L - 10) / (double)nd;
	fprintf(f,
		"<svg viewBox=\"0 0 %d %d\" role=\"img\" "
		"aria-label=\"Cases per day by category\">\n",
		W, H + 30);
	for (int k = 0; k <= 4; k++) {
		double y = T + (double)(H - T - B) * (1 - k / 4.0);
		fprintf(f,
			"<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" "
			"class=\"grid\"/><text x=\"%d\" y=\"%.1f\" "
			"class=\"ax\" text-anchor=\"end\">%lld</text>\n",
			L, W - 10, y, y, L - 6, y + 4, max * k / 4);
	}
	for (size_t d = 0; d < r->ndays; d++) {
		double y = H - B, x = L + bw * (double)d;
		for (size_t c = 0; c < nc; c++) {
			long long n = r->day_cat[d * nc + c];
			double h =
			    (double)(H - T - B) * (double)n / (double)max;
			if (!n)
				continue;
			y -= h;
			fprintf(f,
				"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				"height=\"%.1f\" fill=\"%s\"><title>",
				x + 0.5, y, bw > 2 ? bw - 1 : bw, h,
				palette[c % NPAL]);
			esc(f, r->category.g[c].name);
			fprintf(f, ": %lld</title></rect>\n", n);
		}
		/* a date label every week (and the first day) */
		if (d % 7 == 0) {
			time_t t =
			    (time_t)(r->day0 + (int64_t)d * 86400 + 43200);
			struct tm tm;
			char lab[16];
			localtime_r(&t, &tm);
			strftime(lab, sizeof(lab), "%b %d", &tm);
			fprintf(f,
				"<text x=\"%.1f\" y=\"%d\" class=\"ax\">%s"
				"</text>\n",
				x, H - B + 16, lab);
		}
	}
	/* legend */
	for (size_t c = 0; c < nc; c++) {
		int x = L + (int)(c % 6) * 180, y = H + (int)(c / 6) * 16 - 8;
		fprintf(f,
			"<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" "
			"fill=\"%s\"/><text x=\"%d\" y=\"%d\" class=\"lg\">",
			x, y - 10, palette[c % NPAL], x + 16, y);
		esc(f, r->category.g[c].name);
		fputs("</text>\n", f);
	}
	fputs("</svg>\n", f);
}

/* Hour-of-week heat map. */
static void chart_heat(FILE *f, struct report *r)
{
	static const char *const wd[] = {"Mon", "Tue", "Wed", "Thu",
					 "Fri", "Sat", "Sun"};
	const int L = 50, T = 24, cw = 30, ch = 26;
	long long max = 1;

	for (int w = 0; w < 7; w++)
		for (int h = 0; h < 24; h++)
			if (r->week_hour[w][h] > max)
				max = r->week_hour[w][h];
	fprintf(f,
		"<svg viewBox=\"0 0 %d %d\" role=\"img\" "
		"aria-label=\"Cases by weekday and hour\">\n",
		L + 24 * cw + 10, T + 7 * ch + 10);
	for (int h = 0; h < 24; h += 2)
		fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"ax\">%02d</text>\n",
			L + h * cw + 6, T - 8, h);
	for (int w = 0; w < 7; w++) {
		fprintf(f,
			"<text x=\"%d\" y=\"%d\" class=\"ax\" "
			"text-anchor=\"end\">%s</text>\n",
			L - 6, T + w * ch + 17, wd[w]);
		for (int h = 0; h < 24; h++) {
			long long n = r->week_hour[w][h];
			double a = (double)n / (double)max;
			fprintf(f,
				"<rect x=\"%d\" y=\"%d\" width=\"%d\" "
				"height=\"%d\" fill=\"#0072B2\" "
				"fill-opacity=\"%.3f\" stroke=\"#fff\"><title>"
				"%s %02d:00: %lld</title></rect>\n",
				L + h * cw, T + w * ch, cw, ch,
				n ? 0.08 + 0.92 * a : 0.02, wd[w], h, n);
		}
	}
	fputs("</svg>\n", f);
}

/* Per category: horizontal bars. mode 0: time to first reply (median bar,
 * p90 whisker, max tick); mode 1: SLA breach rate. */
static void chart_bars(FILE *f, struct report *r, int mode)
{
	const int L = 150, T = 10, rh = 28, W = 600;
	size_t nc = r->category.n;
	int64_t max = 1;

	if (mode == 0)
		for (size_t c = 0; c < nc; c++) {
			int64_t v =
			    report_quantile(&r->category.g[c].to_reply, 900);
			if (v > max)
				max = v;
		}
	fprintf(f, "<svg viewBox=\"0 0 %d %d\" role=\"img\">\n", W,
		T + (int)nc * rh + 30);
	for (size_t c = 0; c < nc; c++) {
		struct report_group *g = &r->category.g[c];
		int y = T + (int)c * rh;
		fprintf(f,
			"<text x=\"%d\" y=\"%d\" class=\"lg\" "
			"text-anchor=\"end\">",
			L - 8, y + 17);
		esc(f, g->name);
		fputs("</text>\n", f);
		if (mode == 0) {
			int64_t med = report_quantile(&g->to_reply, 500);
			int64_t p90 = report_quantile(&g->to_reply, 900);
			char a[16], b[16];
			double sx = (double)(W - L - 130) / (double)max;
			if (med < 0) {
				fputs("<text class=\"ax\" x=\"152\" y=\"", f);
				fprintf(f, "%d\">no replies</text>\n", y + 17);
				continue;
			}
			dur(med, a, sizeof(a));
			dur(p90, b, sizeof(b));
			fprintf(f,
				"<line x1=\"%d\" x2=\"%.1f\" y1=\"%d\" "
				"y2=\"%d\" stroke=\"#999\" "
				"stroke-width=\"2\"/>\n",
				L, L + sx * (double)p90, y + 12, y + 12);
			fprintf(f,
				"<rect x=\"%d\" y=\"%d\" width=\"%.1f\" "
				"height=\"16\" fill=\"%s\"><title>median %s, "
				"p90 %s</title></rect>\n",
				L, y + 4, sx * (double)med + 1,
				palette[c % NPAL], a, b);
			fprintf(f,
				"<text x=\"%.1f\" y=\"%d\" class=\"ax\">%s "
				"(p90 %s)</text>\n",
				L + sx * (double)p90 + 6, y + 17, a, b);
		} else {
			long long den = g->sla_met + g->sla_breached;
			double p = pctd(g->sla_breached, den);
			double w = (double)(W - L - 70) * p / 100.0;
			fprintf(f,
				"<rect x=\"%d\" y=\"%d\" width=\"%d\" "
				"height=\"16\" fill=\"#eee\"/>"
				"<rect x=\"%d\" y=\"%d\" width=\"%.1f\" "
				"height=\"16\" fill=\"%s\"/>"
				"<text x=\"%d\" y=\"%d\" class=\"ax\">%.1f%%"
				"</text>\n",
				L, y + 4, W - L - 70, L, y + 4, w,
				p >= 10 ? "#D55E00" : "#009E73", W - 62, y + 17,
				p);
		}
	}
	fputs("</svg>\n", f);
}

static void table_groups(FILE *f, const char *title, struct report_groups *gs,
			 long long total, int speed)
{
	fprintf(f,
		"<h3>%s</h3>\n<table>\n<tr><th>name</th><th>cases</th>"
		"<th>share</th>",
		title);
	if (speed)
		fputs("<th>to ack (median / p90)</th><th>to first reply "
		      "(median / p90)</th><th>to resolution (median / "
		      "p90)</th><th>SLA met</th><th>late</th>",
		      f);
	else
		fputs("<th>follow-ups before reply</th><th>reopened</th>"
		      "<th>resolved</th><th>median to resolve</th>",
		      f);
	fputs("</tr>\n", f);
	for (size_t i = 0; i < gs->n; i++) {
		struct report_group *g = &gs->g[i];
		char a[16], b[16], c[16], d[16], e[16], h[16];
		fputs("<tr><td>", f);
		esc(f, g->name);
		fprintf(f, "</td><td class=n>%lld</td><td class=n>%.1f%%</td>",
			g->cases, pctd(g->cases, total));
		if (speed) {
			dur(report_quantile(&g->to_ack, 500), a, sizeof(a));
			dur(report_quantile(&g->to_ack, 900), b, sizeof(b));
			dur(report_quantile(&g->to_reply, 500), c, sizeof(c));
			dur(report_quantile(&g->to_reply, 900), d, sizeof(d));
			dur(report_quantile(&g->to_resolve, 500), e, sizeof(e));
			dur(report_quantile(&g->to_resolve, 900), h, sizeof(h));
			fprintf(f,
				"<td class=n>%s / %s</td><td class=n>%s / %s"
				"</td><td class=n>%s / %s</td><td "
				"class=n>%lld</td><td class=n>%lld (%.1f%%)"
				"</td>",
				a, b, c, d, e, h, g->sla_met, g->sla_breached,
				pctd(g->sla_breached,
				     g->sla_met + g->sla_breached));
		} else {
			dur(report_quantile(&g->to_resolve, 500), a, sizeof(a));
			fprintf(f,
				"<td class=n>%lld</td><td class=n>%.1f%%</td>"
				"<td class=n>%lld</td><td class=n>%s</td>",
				g->followups_before_reply,
				pctd(g->reopened, g->cases), g->resolved, a);
		}
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

int report_html(FILE *f, struct report *r, const char *team);
int report_html(FILE *f, struct report *r, const char *team)
{
	char a[32], b[32], m1[16], m2[16];

	cli_time(r->since ? r->since : r->day0, a, sizeof(a));
	cli_time(r->until < INT64_MAX ? r->until : r->now, b, sizeof(b));
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
	      "charset=\"utf-8\">\n<meta name=\"viewport\" "
	      "content=\"width=device-width\">\n<title>peakq report</title>\n"
	      "<style>\n"
	      "body{font:14px/1.45 system-ui,-apple-system,'Segoe "
	      "UI','Noto Sans','Noto Sans CJK SC',sans-serif;margin:24px "
	      "auto;max-width:1200px;color:#222;padding:0 20px}\n"
	      "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;"
	      "margin:28px 0 8px;border-bottom:1px solid #ddd;"
	      "padding-bottom:4px}h3{font-size:14px;margin:16px 0 6px}\n"
	      ".sub{color:#666}.kpis{display:flex;gap:12px;flex-wrap:wrap;"
	      "margin:16px 0}.kpi{background:#f5f7fa;border-radius:8px;"
	      "padding:10px 16px;min-width:130px}.kpi b{display:block;"
	      "font-size:22px}\n"
	      ".row{display:flex;gap:24px;flex-wrap:wrap}.row>div{flex:1;"
	      "min-width:500px}\n"
	      "svg{width:100%;height:auto}.grid{stroke:#eee}.ax{font-size:"
	      "11px;fill:#666}.lg{font-size:12px;fill:#333}\n"
	      "table{border-collapse:collapse;width:100%;margin-bottom:8px}"
	      "th,td{padding:4px 8px;border-bottom:1px solid #eee;"
	      "text-align:left}th{background:#f5f7fa;font-weight:600}"
	      "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
	      "</style></head><body>\n",
	      f);
	fputs("<h1>Season report — ", f);
	esc(f, team);
	fprintf(f, "</h1>\n<div class=\"sub\">%s to %s", a, b);
	if (r->mailbox) {
		fputs(" · mailbox ", f);
		esc(f, r->mailbox);
	}
	fputs(" · generated by peakq</div>\n", f);
	dur(report_quantile(&r->all.to_ack, 500), m1, sizeof(m1));
	dur(report_quantile(&r->all.to_reply, 500), m2, sizeof(m2));
	fprintf(f,
		"<div class=\"kpis\"><div class=\"kpi\">cases<b>%lld</b></div>"
		"<div class=\"kpi\">follow-ups per case<b>%.2f</b></div>"
		"<div class=\"kpi\">median to acknowledgement<b>%s</b></div>"
		"<div class=\"kpi\">median to first reply<b>%s</b></div>"
		"<div class=\"kpi\">SLA late<b>%.1f%%</b></div>"
		"<div class=\"kpi\">escalated<b>%.1f%%</b></div>"
		"<div class=\"kpi\">reopened<b>%.1f%%</b></div></div>\n",
		r->all.cases,
		r->all.cases ? (double)r->all.followups / (double)r->all.cases
			     : 0.0,
		m1, m2,
		pctd(r->all.sla_breached, r->all.sla_met + r->all.sla_breached),
		pctd(r->all.escalated, r->all.cases),
		pctd(r->all.reopened, r->all.cases));
	fputs("<h2>Cases per day, by category</h2>\n", f);
	chart_daily(f, r);
	fputs("<div class=\"row\"><div><h2>When customers write (hour of "
	      "week)</h2>\n",
	      f);
	chart_heat(f, r);
	fputs("</div></div>\n<div class=\"row\"><div><h2>Time to first "
	      "reply, per category</h2>\n",
	      f);
	chart_bars(f, r, 0);
	fputs("</div><div><h2>SLA breach rate, per category</h2>\n", f);
	chart_bars(f, r, 1);
	fputs("</div></div>\n<h2>Tables</h2>\n", f);
	table_groups(f, "Speed by category", &r->category, r->all.cases, 1);
	table_groups(f, "By priority", &r->priority, r->all.cases, 1);
	table_groups(f, "By language", &r->lang, r->all.cases, 1);
	table_groups(f, "Acknowledgement templates", &r->ack_tmpl, r->all.cases,
		     0);
	table_groups(f, "Reply templates", &r->reply_tmpl, r->all.cases, 0);
	table_groups(f, "Agents", &r->agent, r->all.cases, 0);
	fputs("<h3>Escalation reasons</h3>\n<table><tr><th>reason</th>"
	      "<th>cases</th></tr>\n",
	      f);
	for (size_t i = 0; i < r->esc_reason.n; i++) {
		fputs("<tr><td>", f);
		esc(f, r->esc_reason.g[i].name);
		fprintf(f, "</td><td class=n>%lld</td></tr>\n",
			r->esc_reason.g[i].cases);
	}
	fputs("</table>\n<h3>Rules</h3>\n<p>Matched: ", f);
	for (size_t i = 0; i < r->rule.n; i++) {
		if (i)
			fputs(", ", f);
		esc(f, r->rule.g[i].name);
		fprintf(f, " %lld", r->rule.g[i].cases);
	}
	fputs(".<br>Never matched: ", f);
	for (size_t i = 0; i < r->nrules_never; i++) {
		if (i)
			fputs(", ", f);
		esc(f, r->rules_never[i]);
	}
	if (!r->nrules_never)
		fputs("none", f);
	fprintf(f,
		".</p>\n<h3>Acknowledgements</h3>\n<p>%lld sent, %lld "
		"suppressed, %lld failed, %lld expired, %lld uncertain, %lld "
		"waiting.",
		r->acks_sent, r->acks_suppressed, r->acks_failed,
		r->acks_expired, r->acks_uncertain, r->acks_waiting);
	if (r->suppressed.n) {
		fputs(" Suppressed: ", f);
		for (size_t i = 0; i < r->suppressed.n; i++) {
			if (i)
				fputs(", ", f);
			esc(f, r->suppressed.g[i].name);
			fprintf(f, " %lld", r->suppressed.g[i].cases);
		}
		fputc('.', f);
	}
	fputs("</p>\n</body></html>\n", f);
	return 0;
}
