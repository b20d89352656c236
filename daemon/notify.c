/* notify: the supervisors' escalation mail, composed and queued in the
 * outbox. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "notify.h"
#include "text.h"
#include "tmpl.h"

#define NOTIFY_MAX (256 * 1024)
#define EXCERPT_LINES 40

struct last_msg {
	char *text;
};

static int last_cb(const struct store_message_row *m, void *ctx)
{
	struct last_msg *l = ctx;

	free(l->text);
	l->text = xstrdup(m->text ? m->text : "");
	return 0; /* keep going: the last one wins */
}

/* The subject tag of the configuration for case_id ("[Case #42]"). */
static void case_tag(const char *fmt, int64_t case_id, struct buf *out)
{
	const char *p = strstr(fmt, "{{case_id}}");

	if (!p) {
		(void)!buf_addf(out, "[Case #%lld]", (long long)case_id);
		return;
	}
	(void)!buf_add(out, fmt, (size_t)(p - fmt));
	(void)!buf_addf(out, "%lld", (long long)case_id);
	(void)!buf_adds(out, p + strlen("{{case_id}}"));
}

static int compose(const struct conf *conf, const struct store_case *c,
		   const char *text, const char *reason, const char *actor,
		   const char *rcpt, const char *mid, int64_t now,
		   struct buf *out)
{
	struct buf subj, body;
	char date[64], due[64];
	time_t tt = (time_t)now, dt = (time_t)c->due_at;
	struct tm tm;
	char *safe = NULL;
	int ret = -1;

	buf_init(&subj, 4096);
	buf_init(&body, NOTIFY_MAX / 2);
	case_tag(conf->subject_tag, c->id, &subj);
	(void)!buf_adds(&subj, " Escalated: ");
	(void)!buf_adds(&subj, c->subject ? c->subject : "(no subject)");
	safe = text_header_safe(subj.data, subj.len, 300);
	gmtime_r(&tt, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	localtime_r(&dt, &tm);
	strftime(due, sizeof(due), "%Y-%m-%d %H:%M %Z", &tm);

	if (buf_addf(&body, "Case #%lld was escalated by %s.\n\nReason: %s\n\n",
		     (long long)c->id, actor, reason) < 0 ||
	    buf_addf(&body, "Customer:  %s%s%s%s\n",
		     c->customer_name ? c->customer_name : "",
		     c->customer_name ? " <" : "",
		     c->customer ? c->customer : "?",
		     c->customer_name ? ">" : "") < 0 ||
	    buf_addf(&body, "Order:     %s\n",
		     c->order_id ? c->order_id : "-") < 0 ||
	    buf_addf(&body, "Category:  %s, priority %s, due %s\n", c->category,
		     c->priority, due) < 0 ||
	    buf_addf(&body, "Status:    %s, %s\n", c->status,
		     c->assignee ? c->assignee : "nobody has it") < 0 ||
	    buf_addf(&body, "Subject:   %s\n", c->subject ? c->subject : "") <
		0 ||
	    buf_addf(&body, "Mailbox:   %s\n\n",
		     c->mailbox ? c->mailbox : "-") < 0)
		goto out;
	if (text && *text) {
		const char *p = text;
		if (buf_adds(&body, "The customer's latest message:\n\n") < 0)
			goto out;
		for (int n = 0; *p && n < EXCERPT_LINES; n++) {
			size_t k = strcspn(p, "\n");
			if (buf_adds(&body, "  ") < 0 ||
			    buf_add(&body, p, k) < 0 ||
			    buf_addc(&body, '\n') < 0)
				goto out;
			p += k;
			if (*p)
				p++;
		}
		if (*p && buf_adds(&body, "  [...]\n") < 0)
			goto out;
		if (buf_addc(&body, '\n') < 0)
			goto out;
	}
	if (buf_addf(&body, "Work it with: peakq show %lld\n-- \n%s (peakq)\n",
		     (long long)c->id, conf->team_name) < 0)
		goto out;
	if (buf_addf(out, "From: %s <%s>\r\nTo: <%s>\r\n", "peakq",
		     conf->smtp.from_addr, rcpt) < 0 ||
	    tmpl_header(out, "Subject", safe) < 0 ||
	    buf_addf(out, "Date: %s\r\nMessage-ID: <%s>\r\n", date, mid) < 0 ||
	    buf_adds(out, "Auto-Submitted: auto-generated\r\n"
			  "X-Auto-Response-Suppress: All\r\n") < 0 ||
	    buf_addf(out, "X-Peakq-Loop: %lld\r\n", (long long)c->id) < 0 ||
	    buf_adds(out, "MIME-Version: 1.0\r\n"
			  "Content-Type: text/plain; charset=utf-8\r\n"
			  "Content-Transfer-Encoding: quoted-printable\r\n"
			  "\r\n") < 0 ||
	    tmpl_qp(out, body.data, body.len) < 0)
		goto out;
	ret = 0;
out:
	free(safe);
	buf_release(&subj);
	buf_release(&body);
	return ret;
}

int notify_escalation(struct store *st, const struct conf *conf,
		      int64_t case_id, const char *reason, const char *actor,
		      int64_t now, int *n_r, struct xerr *err)
{
	struct store_case c = {0};
	struct last_msg last = {0};
	int r, ret = -1;

	*n_r = 0;
	if (!conf->nescalate_to)
		return 0;
	if ((r = store_case_get(st, case_id, &c, err)) <= 0)
		return r < 0 ? -1
			     : xerr_set(err, XERR_BUG, "notify: no case %lld",
					(long long)case_id);
	if (store_case_messages(st, case_id, last_cb, &last, err) < 0)
		goto out;
	for (size_t i = 0; i < conf->nescalate_to; i++) {
		const char *rcpt = conf->escalate_to[i];
		char *key = xasprintf("esc:%lld:%lld:%s", (long long)case_id,
				      (long long)now, rcpt);
		struct store_outbox_new o = {
		    .case_id = case_id,
		    .kind = "escalation",
		    .dedupe_key = key,
		    .rcpt = rcpt,
		    .state = OUTBOX_PENDING,
		    .created_at = now,
		};
		int64_t id = 0;
		struct buf msg;
		char *mid;
		r = store_outbox_insert(st, &o, &id, err);
		free(key);
		if (r < 0)
			goto out;
		if (r == 0)
			continue; /* told already, this second */
		mid = store_message_id(st, "esc", id, conf->smtp.from_addr);
		buf_init(&msg, NOTIFY_MAX);
		r = compose(conf, &c, last.text, reason, actor, rcpt, mid, now,
			    &msg);
		if (r == 0)
			r = store_outbox_set_message(st, id, mid, msg.data,
						     msg.len, err);
		else
			r = store_outbox_mark(st, id, OUTBOX_FAILED, now, 0, 0,
					      "escalation mail too large", err);
		buf_release(&msg);
		free(mid);
		if (r < 0)
			goto out;
		(*n_r)++;
	}
	ret = 0;
out:
	free(last.text);
	store_case_release(&c);
	return ret;
}
