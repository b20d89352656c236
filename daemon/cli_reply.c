/* cli_reply: `peakq reply N` — the agent's answer. A canned reply
 * (templates/<lang>/replies/<name>.txt, the acknowledgements' placeholders)
 * is filled from the case and opened in $EDITOR; on save it goes into the
 * outbox in the same transaction that records it and makes the case
 * pending, then is sent at once (the daemon retries it if the server says
 * "later"). Threaded on the customer's latest message, [Case #N] in the
 * subject; a person's mail, not an automatic reply. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "outbox.h"
#include "text.h"
#include "tmpl.h"

#define REPLY_MAX (256 * 1024)

struct thread {
	char *message_id, *from, *reply_to, *ack_rcpt, *ack_mid;
};

static int last_in(const struct store_message_row *m, void *ctx)
{
	struct thread *t = ctx;

	free(t->message_id);
	free(t->from);
	free(t->reply_to);
	t->message_id = m->message_id ? xstrdup(m->message_id) : NULL;
	t->from = m->from_addr ? xstrdup(m->from_addr) : NULL;
	t->reply_to = m->reply_to ? xstrdup(m->reply_to) : NULL;
	return 0;
}

static int first_ack(const struct store_outbox_info *o, void *ctx)
{
	struct thread *t = ctx;

	if (strcmp(o->kind, "ack") == 0 && o->rcpt && !t->ack_rcpt) {
		t->ack_rcpt = xstrdup(o->rcpt);
		if (o->message_id && (strcmp(o->state, "sent") == 0 ||
				      strcmp(o->state, "uncertain") == 0))
			t->ack_mid = xstrdup(o->message_id);
	}
	return 0;
}

static void thread_release(struct thread *t)
{
	free(t->message_id);
	free(t->from);
	free(t->reply_to);
	free(t->ack_rcpt);
	free(t->ack_mid);
}

/* The edited file -> subject and body: leading '#' lines dropped, a
 * "Subject:" line, a blank line, the body (trailing white space trimmed).
 * 0, or -1 with a message printed. */
static int read_back(const char *path, struct buf *subject, struct buf *body)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int in_body = 0, ret = -1;

	if (!f) {
		fprintf(stderr, "peakq reply: cannot read the reply back: %s\n",
			strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		if (!in_body) {
			if (line[0] == '#')
				continue;
			if (strncasecmp(line, "Subject:", 8) == 0) {
				char *v = line + 8;
				v += strspn(v, " \t");
				v[strcspn(v, "\r\n")] = 0;
				buf_reset(subject);
				if (buf_adds(subject, v) < 0)
					goto too_long;
				continue;
			}
			if (line[strspn(line, " \t\r\n")] == 0) {
				in_body = 1;
				continue;
			}
			in_body = 1; /* no blank line: the body starts here */
		}
		if (buf_add(body, line, (size_t)len) < 0)
			goto too_long;
	}
	while (body->len && strchr(" \t\r\n", body->data[body->len - 1]))
		buf_truncate(body, body->len - 1);
	ret = 0;
	goto out;
too_long:
	fprintf(stderr, "peakq reply: the reply is too long (256 KiB at "
			"most)\n");
out:
	free(line);
	fclose(f);
	return ret;
}

/* Let the agent edit the filled reply (or a kept draft) in path. 0 with
 * subj and body replaced by what to send, or -1 (said why) when nothing
 * is to be sent: the editor failed, the body is empty, or a [...] part of
 * the canned reply is still there (the text is then kept as a draft). */
static int edit_reply(int64_t id, const char *rcpt, const struct tmpl *t,
		      const char *draft, char *path, struct buf *subj,
		      struct buf *body)
{
	char **holes = NULL;
	size_t nholes = 0;
	const char *hole = NULL;
	int fd, ret = -1;
	FILE *f;

	/* The canned reply's [FILL THIS IN] parts: none may be sent as they
	 * are. */
	for (const char *p = buf_str(body); (p = strchr(p, '['));) {
		const char *e = strchr(p, ']');
		if (!e)
			break;
		holes = xreallocarray(holes, nholes + 1, sizeof(*holes));
		holes[nholes++] = xstrndup(p, (size_t)(e - p + 1));
		p = e + 1;
	}
	fd = mkstemp(path);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		if (fd >= 0)
			close(fd);
		fprintf(stderr, "peakq reply: cannot make a temporary file\n");
		goto out;
	}
	if (draft) {
		FILE *in = fopen(draft, "r");
		char chunk[4096];
		size_t k;
		if (!in) {
			fprintf(stderr,
				"peakq reply: cannot read the draft '%s': "
				"%s\n",
				draft, strerror(errno));
			fclose(f);
			goto out;
		}
		while ((k = fread(chunk, 1, sizeof(chunk), in)) > 0)
			fwrite(chunk, 1, k, f);
		fclose(in);
	} else {
		fprintf(f,
			"# Reply to case #%lld, to <%s> (%s, %s).\n"
			"# Lines starting with '#' up here are dropped. Fill "
			"in the [...] parts and\n"
			"# save to send; empty the body or quit the editor "
			"with an error to send\n"
			"# nothing.\n"
			"Subject: %s\n\n%s\n",
			(long long)id, rcpt, tmpl_name(t), tmpl_lang(t),
			buf_str(subj), buf_str(body));
	}
	if (fclose(f) != 0 || cli_edit(path) < 0) {
		fprintf(stderr,
			"peakq reply: the editor failed; nothing sent\n");
		goto out;
	}
	buf_reset(body);
	if (read_back(path, subj, body) < 0)
		goto out;
	if (!body->len) {
		fprintf(stderr, "peakq reply: empty reply; nothing sent\n");
		goto out;
	}
	for (size_t i = 0; i < nholes && !hole; i++)
		if (strstr(buf_str(body), holes[i]))
			hole = holes[i];
	if (hole) {
		/* Keep the agent's work for another go. */
		char *keep = xasprintf("%s.draft", path);
		fprintf(stderr,
			"peakq reply: %s is still to be filled in; nothing "
			"sent\n",
			hole);
		if (rename(path, keep) == 0)
			fprintf(stderr,
				"Your text is kept: peakq reply --draft %s "
				"%lld\n",
				keep, (long long)id);
		free(keep);
		goto out;
	}
	char *clean = xstrndup(body->data, body->len);
	buf_reset(body);
	if (text_utf8_repair(clean, strlen(clean), body) < 0)
		buf_truncate(body, body->len);
	free(clean);
	ret = 0;
out:
	for (size_t i = 0; i < nholes; i++)
		free(holes[i]);
	free(holes);
	return ret;
}

static void reply_usage(FILE *f)
{
	fputs("usage: peakq reply [--template NAME] [--dry-run] [--force] N\n"
	      "\n"
	      "Answer case N: the canned reply for its category (or NAME), "
	      "from\n"
	      "templates/<lang>/replies/, filled with the case's order id "
	      "and customer\n"
	      "name, opens in $VISUAL or $EDITOR. Save it to send it: it goes "
	      "through\n"
	      "the outbox at once, threaded on the customer's latest message "
	      "with\n"
	      "[Case #N] in the subject, is recorded as the case's reply, and "
	      "the case\n"
	      "becomes pending. Empty the body (or fail the editor) to send "
	      "nothing.\n"
	      "\n"
	      "  --template NAME  another canned reply (a file name in "
	      "replies/)\n"
	      "  --dry-run        print the filled reply as it would be sent; "
	      "nothing is\n"
	      "                   stored or sent\n"
	      "  --force          answer a case another agent has "
	      "(logged)\n",
	      f);
}

int cmd_reply(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"template", required_argument, NULL, 't'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"force", no_argument, NULL, 'f'},
	    {"draft", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *tname = NULL, *actor, *rcpt, *draft = NULL;
	char *name = NULL, *mid = NULL, path[] = "/tmp/peakq-reply-XXXXXX";
	struct tmpl_set *set = NULL;
	const struct tmpl *t;
	struct store *st = NULL;
	struct store_case c = {0};
	struct thread th = {0};
	struct store_act_result ar = {0};
	struct xerr err = {0};
	struct buf subj, body, msg;
	int64_t id, row = 0, now = now_s();
	int ch, dry = 0, force = 0, ret = 1, r;

	buf_init(&subj, 4096);
	buf_init(&body, REPLY_MAX);
	buf_init(&msg, 2 * REPLY_MAX);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			tname = optarg;
			break;
		case 'n':
			dry = 1;
			break;
		case 'f':
			force = 1;
			break;
		case 'd':
			draft = optarg;
			break;
		case 'h':
			reply_usage(stdout);
			ret = 0;
			goto out;
		default:
			reply_usage(stderr);
			ret = 2;
			goto out;
		}
	}
	if (optind + 1 != argc) {
		reply_usage(stderr);
		ret = 2;
		goto out;
	}
	if (cli_case_id(argv[optind], &id) < 0) {
		ret = 2;
		goto out;
	}
	if (tname && (strchr(tname, '/') || !*tname)) {
		fprintf(stderr, "peakq reply: '%s' is not a reply name\n",
			tname);
		ret = 2;
		goto out;
	}
	if (!(actor = cli_actor())) {
		ret = 2;
		goto out;
	}
	if ((ret = cli_store(cli, !dry, &st)))
		goto out;
	ret = 1;
	if (tmpl_load_dir(cli->conf->templates_dir, &set, &err) < 0) {
		fprintf(stderr, "peakq reply: %s\n", err.msg);
		ret = EX_CONFIG;
		goto out;
	}
	if ((r = store_case_get(st, id, &c, &err)) <= 0) {
		if (r < 0)
			ret = cli_store_error(&err);
		else
			fprintf(stderr, "peakq reply: no case %lld\n",
				(long long)id);
		goto out;
	}
	if (!dry && c.assignee && strcmp(c.assignee, actor) != 0 && !force) {
		fprintf(stderr,
			"peakq reply: case %lld is claimed by %s (--force to "
			"answer it anyway; it is logged)\n",
			(long long)id, c.assignee);
		goto out;
	}
	if (store_case_messages(st, id, last_in, &th, &err) < 0 ||
	    store_case_outbox(st, id, first_ack, &th, &err) < 0) {
		ret = cli_store_error(&err);
		goto out;
	}
	rcpt = th.ack_rcpt   ? th.ack_rcpt
	       : th.reply_to ? th.reply_to
	       : th.from     ? th.from
			     : c.customer;
	if (!rcpt) {
		fprintf(stderr,
			"peakq reply: case %lld has no address to "
			"answer\n",
			(long long)id);
		goto out;
	}
	name = xasprintf("replies/%s", tname ? tname : c.category);
	t = tmpl_find(set, c.lang, name);
	if (!t && !tname)
		t = tmpl_find(set, c.lang, "replies/general");
	if (!t) {
		fprintf(stderr,
			"peakq reply: no canned reply '%s' in %s/<lang>/"
			"replies/\n",
			tname ? tname : c.category, cli->conf->templates_dir);
		goto out;
	}
	struct tmpl_vars v = {
	    .case_id = id,
	    .order_id = c.order_id,
	    .customer_name = c.customer_name,
	    .original_subject = c.subject,
	    .category = c.category,
	    .team_name = cli->conf->team_name,
	    .sla_hours = c.sla_hours,
	    .reply_by = c.due_at,
	};
	if (tmpl_fill(t, &v, cli->conf->subject_tag, &subj, &body, &err) < 0) {
		fprintf(stderr, "peakq reply: %s\n", err.msg);
		goto out;
	}
	if (!dry && edit_reply(id, rcpt, t, draft, path, &subj, &body) < 0)
		goto out;
	const char *refs[1] = {th.ack_mid};
	struct tmpl_mail mail = {
	    .from_name = cli->conf->smtp.from_name,
	    .from_addr = cli->conf->smtp.from_addr,
	    .reply_to_name = cli->conf->smtp.reply_to_name,
	    .reply_to_addr = cli->conf->smtp.reply_to_addr,
	    .to_addr = rcpt,
	    .to_name = c.customer_name,
	    .in_reply_to = th.message_id,
	    .refs = refs,
	    .nrefs = th.ack_mid ? 1 : 0,
	    .subject_tag = cli->conf->subject_tag,
	    .date = now,
	};
	if (dry) {
		mid =
		    store_message_id(st, "reply", 0, cli->conf->smtp.from_addr);
		mail.message_id = mid;
		if (tmpl_compose(&mail, buf_str(&subj), buf_str(&body),
				 body.len, id, 1, &msg, &err) < 0) {
			fprintf(stderr, "peakq reply: %s\n", err.msg);
			goto out;
		}
		fwrite(msg.data, 1, msg.len, stdout);
		ret = 0;
		goto out;
	}
	/* Record, queue and make pending in one transaction. */
	char key[80];
	snprintf(key, sizeof(key), "reply:%lld:%lld:%d", (long long)id,
		 (long long)now, (int)getpid());
	struct store_outbox_new o = {
	    .case_id = id,
	    .kind = "reply",
	    .dedupe_key = key,
	    .rcpt = rcpt,
	    .state = OUTBOX_PENDING,
	    .created_at = now,
	};
	if (store_begin(st, &err) < 0) {
		ret = cli_store_error(&err);
		goto out;
	}
	if (store_case_set_status(st, id, "pending", 0, actor, force, now, &ar,
				  &err) < 0)
		goto dberr;
	if (ar.act == STORE_ACT_TAKEN || ar.act == STORE_ACT_NO_CASE) {
		store_rollback(st);
		fprintf(stderr,
			"peakq reply: case %lld changed hands while "
			"you wrote (now %s); nothing sent\n",
			(long long)id, ar.owner ? ar.owner : "gone");
		goto out;
	}
	if (store_outbox_insert(st, &o, &row, &err) <= 0) {
		if (!err.msg[0])
			xerr_set(&err, XERR_BUG, "reply row not created");
		goto dberr;
	}
	mid = store_message_id(st, "reply", row, cli->conf->smtp.from_addr);
	mail.message_id = mid;
	if (tmpl_compose(&mail, buf_str(&subj), buf_str(&body), body.len, id, 1,
			 &msg, &err) < 0) {
		store_rollback(st);
		fprintf(stderr, "peakq reply: %s; nothing sent\n", err.msg);
		goto out;
	}
	if (store_outbox_set_message(st, row, mid, msg.data, msg.len, &err) <
		0 ||
	    store_event_add(st, id, now, actor, "replied", tmpl_name(t), &err) <
		0 ||
	    store_commit(st, &err) < 0)
		goto dberr;
	/* Send now; if the server says "later", the daemon keeps trying. */
	struct outbox_ctx ob = {.conf = cli->conf, .store = st};
	r = outbox_send_now(&ob, row, &err);
	if (r < 0)
		fprintf(stderr, "peakq reply: %s\n", err.msg);
	if (ob.sent)
		printf("reply sent to %s (outbox row %lld); case %lld is "
		       "pending\n",
		       rcpt, (long long)row, (long long)id);
	else if (ob.failed)
		printf("reply to %s FAILED (outbox row %lld; see peakq "
		       "outbox)\n",
		       rcpt, (long long)row);
	else
		printf("reply queued (outbox row %lld): the mail server said "
		       "later; the\ndaemon will send it\n",
		       (long long)row);
	ret = ob.failed ? 1 : 0;
	outbox_release(&ob);
	goto out;
dberr:
	store_rollback(st);
	ret = cli_store_error(&err);
out:
	if (!dry && path[sizeof(path) - 2] != 'X')
		unlink(path);
	free(name);
	free(mid);
	store_act_result_release(&ar);
	thread_release(&th);
	store_case_release(&c);
	tmpl_free(&set);
	store_close(&st);
	buf_release(&subj);
	buf_release(&body);
	buf_release(&msg);
	return ret;
}
