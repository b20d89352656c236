/* cli_show: `peakq show N` — a case with its messages (inbound and ours),
 * the acknowledgement's state and the audit trail of events. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "mime.h"

struct show_out {
	FILE *f;
	int json, first;
	struct store *st;
};

static int msg_json(const struct store_message_row *m, void *ctx)
{
	struct show_out *o = ctx;
	int first = 1;

	fputs(o->first ? "\n    {" : ",\n    {", o->f);
	o->first = 0;
	json_kv_int(o->f, &first, "id", m->id);
	json_kv_str(o->f, &first, "direction", "in");
	json_kv_str(o->f, &first, "mailbox", m->mailbox);
	json_kv_int(o->f, &first, "uid", m->uid);
	json_kv_str(o->f, &first, "message_id", m->message_id);
	json_kv_str(o->f, &first, "in_reply_to", m->in_reply_to);
	json_kv_str(o->f, &first, "from", m->from_addr);
	json_kv_str(o->f, &first, "from_name", m->from_name);
	json_kv_str(o->f, &first, "reply_to", m->reply_to);
	json_kv_str(o->f, &first, "subject", m->subject);
	json_kv_str(o->f, &first, "lang", m->lang);
	json_kv_str(o->f, &first, "order_ids", m->order_ids);
	json_kv_time(o->f, &first, "date", m->sent_date);
	json_kv_time(o->f, &first, "received_at", m->received_at);
	json_kv_int(o->f, &first, "size", (long long)m->raw_size);
	json_kv_str(o->f, &first, "parse_error", m->parse_error);
	json_kv_str(o->f, &first, "text", m->text);
	fputs("}", o->f);
	return 0;
}

static int msg_text(const struct store_message_row *m, void *ctx)
{
	struct show_out *o = ctx;
	char when[32];

	cli_time(m->received_at, when, sizeof(when));
	fprintf(o->f, "\n--- message %lld, received %s (%s uid %u, %zu bytes)",
		(long long)m->id, when, m->mailbox, m->uid, m->raw_size);
	fputs(" ---\n", o->f);
	fprintf(o->f, "From:    %s%s%s%s\n", m->from_name ? m->from_name : "",
		m->from_name ? " <" : "", m->from_addr ? m->from_addr : "?",
		m->from_name ? ">" : "");
	if (m->reply_to)
		fprintf(o->f, "Reply-To: %s\n", m->reply_to);
	fprintf(o->f, "Subject: %s\n", m->subject ? m->subject : "");
	if (m->order_ids)
		fprintf(o->f, "Orders:  %s\n", m->order_ids);
	if (m->parse_error)
		fprintf(o->f, "Parse error: %s (raw message kept)\n",
			m->parse_error);
	fprintf(o->f, "\n%s\n", m->text ? m->text : "");
	return 0;
}

static int out_json(const struct store_outbox_info *ob, void *ctx)
{
	struct show_out *o = ctx;
	int first = 1;

	fputs(o->first ? "\n    {" : ",\n    {", o->f);
	o->first = 0;
	json_kv_int(o->f, &first, "id", ob->id);
	json_kv_str(o->f, &first, "kind", ob->kind);
	json_kv_str(o->f, &first, "state", ob->state);
	json_kv_str(o->f, &first, "rcpt", ob->rcpt);
	json_kv_str(o->f, &first, "message_id", ob->message_id);
	json_kv_str(o->f, &first, "reason", ob->reason);
	json_kv_str(o->f, &first, "last_error", ob->last_error);
	json_kv_int(o->f, &first, "attempts", ob->attempts);
	json_kv_time(o->f, &first, "created_at", ob->created_at);
	json_kv_time(o->f, &first, "sent_at", ob->sent_at);
	if (ob->len) {
		char *data = xstrndup(ob->data, ob->len);
		json_kv_str(o->f, &first, "message", data);
		free(data);
	} else {
		json_kv_str(o->f, &first, "message", NULL);
	}
	fputs("}", o->f);
	return 0;
}

static int out_text(const struct store_outbox_info *ob, void *ctx)
{
	struct show_out *o = ctx;
	char when[32];

	cli_time(ob->sent_at ? ob->sent_at : ob->created_at, when,
		 sizeof(when));
	fprintf(o->f, "\n--- our %s: %s", ob->kind, ob->state);
	if (ob->sent_at)
		fprintf(o->f, " %s", when);
	if (ob->rcpt)
		fprintf(o->f, " to %s", ob->rcpt);
	fprintf(o->f, " (attempts %d) ---\n", ob->attempts);
	if (ob->reason)
		fprintf(o->f, "Not sent: %s\n", ob->reason);
	if (ob->last_error)
		fprintf(o->f, "Last error: %s\n", ob->last_error);
	if (ob->len) {
		struct message *m = mime_parse(ob->data, ob->len);
		fprintf(o->f, "Message-ID: <%s>\nSubject: %s\n\n%s\n",
			ob->message_id ? ob->message_id : "",
			m->subject ? m->subject : "", m->text);
		message_free(&m);
	}
	return 0;
}

static int first_message(const struct store_message_row *m, void *ctx)
{
	*(int64_t *)ctx = m->id;
	return 1;
}

static int ev_json(const struct store_event_row *e, void *ctx)
{
	struct show_out *o = ctx;
	int first = 1;

	fputs(o->first ? "\n    {" : ",\n    {", o->f);
	o->first = 0;
	json_kv_time(o->f, &first, "at", e->at);
	json_kv_str(o->f, &first, "actor", e->actor);
	json_kv_str(o->f, &first, "kind", e->kind);
	json_kv_str(o->f, &first, "detail", e->detail);
	fputs("}", o->f);
	return 0;
}

static int ev_text(const struct store_event_row *e, void *ctx)
{
	struct show_out *o = ctx;
	char when[32];

	cli_time(e->at, when, sizeof(when));
	fprintf(o->f, "  %s  %-8s %-16s %s\n", when, e->actor, e->kind,
		e->detail ? e->detail : "");
	return 0;
}

static void case_json(FILE *f, const struct store_case *c, int64_t now)
{
	int first = 1;

	fputs("{", f);
	json_kv_int(f, &first, "id", c->id);
	json_kv_str(f, &first, "status", c->status);
	json_kv_str(f, &first, "priority", c->priority);
	json_kv_str(f, &first, "category", c->category);
	json_kv_bool(f, &first, "escalated", c->escalated);
	json_kv_str(f, &first, "rule", c->rule);
	json_kv_str(f, &first, "template", c->tmpl);
	json_kv_str(f, &first, "lang", c->lang);
	json_kv_str(f, &first, "customer", c->customer);
	json_kv_str(f, &first, "customer_name", c->customer_name);
	json_kv_str(f, &first, "order_id", c->order_id);
	json_kv_str(f, &first, "subject", c->subject);
	json_kv_str(f, &first, "mailbox", c->mailbox);
	json_kv_str(f, &first, "assignee", c->assignee);
	json_kv_int(f, &first, "sla_hours", c->sla_hours);
	json_kv_time(f, &first, "created_at", c->created_at);
	json_kv_time(f, &first, "due_at", c->due_at);
	json_kv_time(f, &first, "acked_at", c->acked_at);
	json_kv_time(f, &first, "first_reply_at", c->first_reply_at);
	json_kv_time(f, &first, "resolved_at", c->resolved_at);
	json_kv_time(f, &first, "updated_at", c->updated_at);
	json_kv_bool(f, &first, "overdue", cli_overdue(c, now));
	json_kv_str(f, &first, "ack", c->ack_state);
	json_kv_words(f, &first, "tags", c->tags);
	json_kv_str(f, &first, "escalation", c->escalation);
	fputs("}", f);
}

static int note_json(const struct store_note_row *n, void *ctx)
{
	struct show_out *o = ctx;
	int first = 1;

	fputs(o->first ? "\n    {" : ",\n    {", o->f);
	o->first = 0;
	json_kv_int(o->f, &first, "id", n->id);
	json_kv_time(o->f, &first, "at", n->at);
	json_kv_str(o->f, &first, "author", n->author);
	json_kv_str(o->f, &first, "text", n->body);
	fputs("}", o->f);
	return 0;
}

static int note_text(const struct store_note_row *n, void *ctx)
{
	struct show_out *o = ctx;
	char when[32];

	cli_time(n->at, when, sizeof(when));
	fprintf(o->f, "\n--- note %lld by %s, %s ---\n%s\n", (long long)n->id,
		n->author, when, n->body);
	return 0;
}

static void show_usage(FILE *f)
{
	fputs("usage: peakq show [--json] [--raw] N\n"
	      "\n"
	      "Show case N: its state and SLA, every message in order (the "
	      "customer's and\n"
	      "ours), the agents' notes, and the events that changed it.\n"
	      "\n"
	      "  --json  one JSON object {case, messages, outbox, notes, "
	      "events}\n"
	      "          (see peakq(1))\n"
	      "  --raw   print the first message exactly as it was "
	      "received\n",
	      f);
}

int cli_show_case(struct store *st, int64_t id, int json, FILE *f,
		  struct xerr *err)
{
	struct show_out o = {.f = f, .json = json, .st = st};
	struct store_case c = {0};
	int64_t now = now_s();
	int r;

	if ((r = store_case_get(st, id, &c, err)) <= 0)
		return r;
	r = -1;
	if (json) {
		fputs("{\"case\":", f);
		case_json(f, &c, now);
		fputs(",\n  \"messages\":[", f);
		o.first = 1;
		if (store_case_messages(st, id, msg_json, &o, err) < 0)
			goto out;
		fputs("],\n  \"outbox\":[", f);
		o.first = 1;
		if (store_case_outbox(st, id, out_json, &o, err) < 0)
			goto out;
		fputs("],\n  \"notes\":[", f);
		o.first = 1;
		if (store_case_notes(st, id, note_json, &o, err) < 0)
			goto out;
		fputs("],\n  \"events\":[", f);
		o.first = 1;
		if (store_case_events(st, id, ev_json, &o, err) < 0)
			goto out;
		fputs("]}\n", f);
		r = 1;
		goto out;
	}
	{
		char created[32], sla[48];
		cli_time(c.created_at, created, sizeof(created));
		cli_sla(&c, now, sla, sizeof(sla));
		fprintf(f, "Case #%lld  %s  %s%s  %s  (%s)\n", (long long)c.id,
			c.status, c.priority, c.escalated ? " ESCALATED" : "",
			c.category, sla);
		fprintf(f, "Customer:  %s%s%s%s\n",
			c.customer_name ? c.customer_name : "",
			c.customer_name ? " <" : "",
			c.customer ? c.customer : "?",
			c.customer_name ? ">" : "");
		fprintf(f, "Order:     %s\n", c.order_id ? c.order_id : "-");
		fprintf(f, "Subject:   %s\n", c.subject ? c.subject : "");
		fprintf(f, "Rule:      %s (template %s, SLA %dh)\n",
			c.rule ? c.rule : "-", c.tmpl ? c.tmpl : "-",
			c.sla_hours);
		fprintf(f, "Mailbox:   %s\n", c.mailbox ? c.mailbox : "-");
		fprintf(f, "Created:   %s\n", created);
		fprintf(f, "Assignee:  %s\n", c.assignee ? c.assignee : "-");
		fprintf(f, "Ack:       %s\n", c.ack_state ? c.ack_state : "-");
		if (c.tags)
			fprintf(f, "Tags:      %s\n", c.tags);
		if (c.escalated)
			fprintf(f, "Escalated: %s\n",
				c.escalation ? c.escalation : "(by rule)");
	}
	if (store_case_messages(st, id, msg_text, &o, err) < 0 ||
	    store_case_outbox(st, id, out_text, &o, err) < 0 ||
	    store_case_notes(st, id, note_text, &o, err) < 0)
		goto out;
	fprintf(f, "\n--- events ---\n");
	if (store_case_events(st, id, ev_text, &o, err) < 0)
		goto out;
	r = 1;
out:
	store_case_release(&c);
	return r;
}

int cmd_show(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"raw", no_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct store *st = NULL;
	struct xerr err = {0};
	int64_t id;
	int ch, r, raw = 0, json = 0, ret = EX_SOFTWARE;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'r':
			raw = 1;
			break;
		case 'h':
			show_usage(stdout);
			return 0;
		default:
			show_usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		show_usage(stderr);
		return 2;
	}
	if (cli_case_id(argv[optind], &id) < 0)
		return 2;
	if ((r = cli_store(cli, 0, &st)))
		return r;
	if (raw) {
		int64_t mid = 0;
		char *data = NULL;
		size_t len;
		if (store_case_messages(st, id, first_message, &mid, &err) < 0)
			goto dberr;
		r = mid ? store_message_raw(st, mid, &data, &len, &err) : 0;
		if (r < 0)
			goto dberr;
		if (r > 0)
			fwrite(data, 1, len, stdout);
		free(data);
		if (!mid) {
			fprintf(stderr, "peakq: no case %lld\n", (long long)id);
			ret = 1;
			goto out;
		}
		ret = 0;
		goto out;
	}
	r = cli_show_case(st, id, json, stdout, &err);
	if (r < 0)
		goto dberr;
	if (r == 0) {
		fprintf(stderr, "peakq: no case %lld\n", (long long)id);
		ret = 1;
		goto out;
	}
	ret = 0;
	goto out;
dberr:
	ret = cli_store_error(&err);
out:
	store_close(&st);
	return ret;
}
