/* ingest: fetch -> parse -> thread -> classify -> decide -> store -> flag.
 * Invariants kept here: the raw message is committed before the server copy
 * is flagged or moved; a message never becomes two cases; a case gets at
 * most one acknowledgement row (dedupe key "ack:<case>"). */
#include "config.h"

#include <stdarg.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "imap.h"
#include "ingest.h"
#include "log.h"
#include "match.h"
#include "notify.h"
#include "quote.h"
#include "tls.h"

#define ACTOR "peakqd"
#define THREAD_WINDOW (30 * 86400)

void ingest_rules_input(const struct message *msg, struct rules_input *in)
{
	memset(in, 0, sizeof(*in));
	in->subject = msg->subject;
	in->body = msg->text;
	in->body_len = msg->text_len;
	in->from_addr = msg->from_addr;
	in->from_name = msg->from_name;
	in->to = (const char *const *)msg->to_addrs;
	in->nto = msg->nto;
	in->lang = msg->lang;
}

/* The language of what the customer wrote now: the subject and the fresh
 * text, not quoted mail or the marketplace's English boilerplate. */
/* Does s contain a letter of any script (so that its language can be
 * told)? */
static int has_letters(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned cp;
		i += text_utf8_decode(s + i, n - i, &cp);
		if (match_is_word_cp(cp) && !(cp >= '0' && cp <= '9'))
			return 1;
		if (cp >= 0x3400 && cp <= 0x9FFF)
			return 1;
	}
	return 0;
}

static const char *fresh_lang(const struct message *m, const char *fallback)
{
	struct buf all, quoted;
	const char *lang;

	buf_init(&all, m->text_len + (m->subject ? strlen(m->subject) : 0) + 8);
	buf_init(&quoted, m->text_len + 8);
	if (m->subject &&
	    (buf_adds(&all, m->subject) < 0 || buf_addc(&all, '\n') < 0)) {
		/* cannot happen: sized for it */
	}
	if (quote_split(m->text, m->text_len, &all, &quoted) < 0) {
		/* cannot happen: sized for it */
	}
	/* Nothing to go by (only an order number, say): the account's
	 * default language. */
	lang = has_letters(all.data ? all.data : "", all.len)
		   ? text_guess_lang(all.data, all.len)
		   : fallback;
	buf_release(&all);
	buf_release(&quoted);
	return lang;
}

void ingest_decide(const struct conf *conf, const struct ruleset *rules,
		   const char *default_lang, unsigned flags, const char *raw,
		   size_t len, struct ingest_decision *d)
{
	struct rules_input in;
	const char *own[3];
	struct autoreply_policy pol = {.own_addrs = own, .nown = 0};

	memset(d, 0, sizeof(*d));
	d->msg = mime_parse(raw, len);
	if ((flags & INGEST_ASSUME_DELIVERED) && !d->msg->return_path &&
	    d->msg->from_addr)
		d->msg->return_path = xstrdup(d->msg->from_addr);
	if (!default_lang)
		default_lang = conf ? conf->default_lang : "en";
	d->msg->lang =
	    fresh_lang(d->msg, strcmp(default_lang, "zh") == 0 ? "zh" : "en");
	ingest_rules_input(d->msg, &in);
	rules_classify(rules, &in, &d->verdict);
	if (conf) {
		own[pol.nown++] = conf->smtp.from_addr;
		if (conf->smtp.reply_to_addr)
			own[pol.nown++] = conf->smtp.reply_to_addr;
		if (conf->smtp.envelope_from && conf->smtp.envelope_from[0])
			own[pol.nown++] = conf->smtp.envelope_from;
	}
	if (d->msg->parse_error && d->msg->nheaders == 0) {
		/* No header block to check for robots (an empty message, or
		 * bytes that are not mail): never answer. A body that could
		 * not be read ("multipart without parts") under readable
		 * headers is judged by those headers. */
		d->ack = 0;
		d->suppressed = "parse-error";
		return;
	}
	d->ack = autoreply_decide(d->msg, &pol, &d->rcpt, &d->suppressed);
}

static char *fts_of(const char *s)
{
	return s ? store_fts_string(s, strlen(s), NULL) : NULL;
}

void ingest_decision_fts(struct ingest_decision *d)
{
	const struct message *m = d->msg;
	char *who = xasprintf("%s %s", m->from_addr ? m->from_addr : "",
			      m->from_name ? m->from_name : "");

	d->fts_who = fts_of(who);
	d->fts_subject = fts_of(m->subject);
	d->fts_text = fts_of(m->text);
	free(who);
}

void ingest_decision_release(struct ingest_decision *d)
{
	free(d->fts_who);
	free(d->fts_subject);
	free(d->fts_text);
	message_free(&d->msg);
	memset(d, 0, sizeof(*d));
}

/* ---------------------------------------------------------------- helpers */

/* Hash of what follows the header block: stable when a server rewrites
 * headers on re-import (UIDVALIDITY change). */
static void body_hash(const char *raw, size_t len, char out[65])
{
	const char *p = memmem(raw, len, "\r\n\r\n", 4);
	size_t skip = 4;

	if (!p) {
		p = memmem(raw, len, "\n\n", 2);
		skip = 2;
	}
	if (!p) {
		tls_sha256_hex(raw, len, out);
		return;
	}
	tls_sha256_hex(p + skip, len - (size_t)(p + skip - raw), out);
}

/* "[Case #123]"-style tag in the subject: the number, or 0. */
static int64_t subject_case_tag(const char *subject)
{
	const char *p = subject;

	while (p && (p = strstr(p, "#"))) {
		const char *q = p + 1;
		int64_t v = 0;
		int digits = 0;
		while (*q >= '0' && *q <= '9' && digits < 12) {
			v = v * 10 + (*q - '0');
			q++;
			digits++;
		}
		if (digits && *q == ']' && p >= subject + 5 &&
		    ascii_ncasecmp(p - 5, "Case ", 5) == 0)
			return v;
		p++;
	}
	return 0;
}

static char *join_refs(const struct message *m)
{
	struct buf b;

	buf_init(&b, 64 * 1024);
	for (size_t i = 0; i < m->nrefs; i++)
		if ((i && buf_addc(&b, ' ') < 0) ||
		    buf_adds(&b, m->refs[i]) < 0)
			break;
	return b.len ? buf_detach(&b, NULL) : (buf_release(&b), NULL);
}

static char *join_order_ids(const struct message *m)
{
	struct buf b;

	buf_init(&b, PQ_MAX_ORDER_IDS * TEXT_ORDER_ID_SIZE + 16);
	for (size_t i = 0; i < m->norder_ids; i++)
		if ((i && buf_addc(&b, ' ') < 0) ||
		    buf_adds(&b, m->order_ids[i]) < 0)
			break;
	return b.len ? buf_detach(&b, NULL) : (buf_release(&b), NULL);
}

/* "category=late_delivery priority=high rule=late sla=4h matched=late
 * (subject),still waiting (body) tags=vip" */
static char *created_detail(const struct rules_verdict *v)
{
	struct buf b;

	buf_init(&b, 4096);
	if (buf_addf(&b, "category=%s priority=%s rule=%s sla=%dh", v->category,
		     v->priority, v->rule, v->sla_hours) < 0)
		goto out;
	for (size_t i = 0; i < v->nmatched; i++)
		if (buf_addf(&b, "%s%s (%s)",
			     i ? "," : " matched=", v->matched[i].keyword,
			     rules_field_name(v->matched[i].field)) < 0)
			goto out;
	for (size_t i = 0; i < v->ntags; i++)
		if (buf_addf(&b, "%s%s", i ? "," : " tags=", v->tags[i]) < 0)
			goto out;
	if (v->escalate && buf_adds(&b, " escalate") < 0)
		goto out;
out:
	return buf_detach(&b, NULL);
}

/* Which existing case does this message continue? 1 with *case_r, 0, -1. */
static int find_thread(struct ingest_ctx *ctx, const struct message *m,
		       int64_t *case_r, const char **how_r, struct xerr *err)
{
	int r;
	int64_t tag;

	if (m->in_reply_to) {
		r = store_case_by_message_id(ctx->store, m->in_reply_to, case_r,
					     err);
		if (r != 0) {
			*how_r = "in-reply-to";
			return r;
		}
	}
	for (size_t i = m->nrefs; i-- > 0;) {
		r = store_case_by_message_id(ctx->store, m->refs[i], case_r,
					     err);
		if (r != 0) {
			*how_r = "references";
			return r;
		}
	}
	if (m->subject && m->from_addr &&
	    (tag = subject_case_tag(m->subject)) > 0) {
		r = store_case_has_customer(ctx->store, tag, m->from_addr, err);
		if (r != 0) {
			*case_r = tag;
			*how_r = "case-tag";
			return r;
		}
	}
	/* Webmail clients that send neither: the same customer writing about
	 * the same order within 30 days. */
	for (size_t i = 0; m->from_addr && i < m->norder_ids; i++) {
		r = store_case_by_sender_order(
		    ctx->store, m->from_addr, m->order_ids[i],
		    now_s() - THREAD_WINDOW, case_r, err);
		if (r != 0) {
			*how_r = "sender-and-order";
			return r;
		}
	}
	return 0;
}

int ingest_render_ack(const struct ingest_ctx *ctx,
		      const struct ingest_decision *d, const struct tmpl *t,
		      int64_t case_id, const char *message_id,
		      int64_t received_at, int64_t now, struct buf *out,
		      struct xerr *err)
{
	const struct conf *conf = ctx->conf;
	const struct message *m = d->msg;
	char *notice = notices_for(ctx->notices, now, d->verdict.category,
				   m->lang, m->text, m->text_len);
	struct tmpl_vars v = {
	    .case_id = case_id,
	    .order_id = m->norder_ids ? m->order_ids[0] : NULL,
	    .customer_name = m->from_name,
	    .original_subject = m->subject,
	    .category = d->verdict.category,
	    .team_name = conf->team_name,
	    .notice = notice,
	    .sla_hours = d->verdict.sla_hours,
	    .reply_by = received_at + (int64_t)d->verdict.sla_hours * 3600,
	};
	struct tmpl_mail mail = {
	    .from_name = conf->smtp.from_name,
	    .from_addr = conf->smtp.from_addr,
	    .reply_to_name = conf->smtp.reply_to_name,
	    .reply_to_addr = conf->smtp.reply_to_addr,
	    .to_addr = d->rcpt,
	    .to_name = m->from_name,
	    .message_id = message_id,
	    .in_reply_to = m->message_id,
	    .refs = (const char *const *)m->refs,
	    .nrefs = m->nrefs,
	    .subject_tag = conf->subject_tag,
	    .date = now,
	};
	int r = tmpl_render(t, &v, &mail, out, err);

	free(notice);
	return r;
}

/* Create the acknowledgement row for a new case: rendered and pending, or
 * suppressed with its reason. */
static int queue_ack(struct ingest_ctx *ctx, int64_t case_id,
		     const struct ingest_decision *d, int64_t received_at,
		     int64_t now, const char **ack_r, struct xerr *err)
{
	const struct conf *conf = ctx->conf;
	const struct message *m = d->msg;
	struct store_outbox_new o = {
	    .case_id = case_id,
	    .kind = "ack",
	    .created_at = now,
	};
	char key[40], *mid = NULL;
	const struct tmpl *t;
	struct buf out;
	int64_t id;
	int r, ret = -1;

	const char *suppressed = d->ack ? NULL : d->suppressed;
	long long recent = 0;

	snprintf(key, sizeof(key), "ack:%lld", (long long)case_id);
	o.dedupe_key = key;
	if (!suppressed) {
		/* At most acks.per_sender per window, counted in this same
		 * transaction from the rows themselves. */
		if (store_acks_to(ctx->store, d->rcpt, now - conf->acks.window,
				  &recent, err) < 0)
			return -1;
		if (recent >= conf->acks.per_sender)
			suppressed = "rate-limit";
	}
	*ack_r = suppressed ? suppressed : "queued";
	if (suppressed) {
		o.state = OUTBOX_SUPPRESSED;
		o.reason = suppressed;
		r = store_outbox_insert(ctx->store, &o, &id, err);
		if (r < 0)
			return -1;
		ctx->counts.suppressed++;
		return store_event_add(ctx->store, case_id, now, ACTOR,
				       "ack_suppressed", suppressed, err);
	}
	t = tmpl_find(ctx->tmpls, m->lang, d->verdict.tmpl);
	if (!t)
		t = tmpl_find(ctx->tmpls, m->lang, "general");
	o.state = OUTBOX_PENDING;
	o.rcpt = d->rcpt;
	if (!t) {
		o.state = OUTBOX_FAILED;
		o.reason = "no template";
	} else if (received_at < now - conf->acks.max_age) {
		/* Rendered, so that an agent can still send it on purpose
		 * (peakq outbox retry), but not sent by itself: "we'll reply
		 * within 4 hours" about mail that waited a day is worse than
		 * nothing. */
		o.state = OUTBOX_EXPIRED;
		o.reason = "too-old";
		*ack_r = "too-old";
	}
	r = store_outbox_insert(ctx->store, &o, &id, err);
	if (r <= 0)
		return r; /* 0: this case already has its acknowledgement */
	if (!t)
		return store_event_add(ctx->store, case_id, now, ACTOR,
				       "ack_failed", "no template", err);
	mid = store_message_id(ctx->store, "ack", id, conf->smtp.from_addr);
	buf_init(&out, 512 * 1024);
	if (ingest_render_ack(ctx, d, t, case_id, mid, received_at, now, &out,
			      err) < 0) {
		/* Unrenderable (e.g. an address we cannot use): keep the case,
		 * record why, never send. */
		char why[sizeof(err->msg)];
		snprintf(why, sizeof(why), "%s", err->msg);
		if (store_outbox_mark(ctx->store, id, OUTBOX_FAILED, now, 0, 0,
				      why, err) < 0)
			goto out;
		ret = 0;
		goto out;
	}
	if (store_outbox_set_message(ctx->store, id, mid, out.data, out.len,
				     err) < 0)
		goto out;
	if (store_event_add(ctx->store, case_id, now, ACTOR,
			    o.state == OUTBOX_EXPIRED ? "ack_expired"
						      : "ack_queued",
			    o.state == OUTBOX_EXPIRED
				? "the message is older than acks.max_age"
				: tmpl_name(t),
			    err) < 0)
		goto out;
	if (o.state == OUTBOX_EXPIRED)
		ctx->counts.suppressed++;
	else
		ctx->counts.acks_queued++;
	ret = 0;
out:
	buf_release(&out);
	free(mid);
	return ret;
}

/* ---------------------------------------------------------------- mailbox */

/* A fetched message, copied, with what the daemon decided about it: the
 * parsing and classifying happen before the write transaction begins, so
 * that the store is locked only for the inserts (agents' commands never
 * wait on the network or on the parser). */
struct fetched {
	struct imap_msg im; /* im.data is data */
	char *data;	    /* owned copy */
	struct ingest_decision d;
	int64_t msg_id; /* its message row, once stored in this lot */
};

/* A log line about a message, said only once its transaction committed
 * (a rolled-back batch is fetched and stored again later). */
struct note {
	enum log_level level;
	char *text;
};

/* Messages fetched in one UID FETCH. The decider reads items[] under
 * qlock only: queue items[qhead..nitems) waits for it; it ends when
 * qclosed and the queue is empty. */
struct lot {
	struct fetched **items;
	size_t nitems;
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	size_t qhead;
	int qclosed;
	int decider; /* its thread runs */
	pthread_t thread;
	const struct ingest_ctx *ctx;
	const struct conf_account *acct;
	int stopped;	   /* the daemon stopped during its fetch */
	uint32_t last_uid; /* the last UID asked for */
	size_t end;	   /* index in the mailbox's new UIDs after it */
};

struct batch {
	struct ingest_ctx *ctx;
	struct note *notes;
	size_t nnotes;
	struct ingest_counts saved; /* counts before the transaction */
	int open;		    /* a batch transaction is open */
	const struct conf_account *acct;
	const char *mailbox;
	struct store_mailbox *mb;
	/* Two lots of fetched messages: while one is stored (its
	 * transaction, its fsync, its flags on the server), the next has
	 * been fetched and a decider thread parses and classifies it. */
	struct lot lots[2];
	struct lot *cur;  /* decided; stored next */
	struct lot *fill; /* being fetched (collect appends here) */
	uint32_t *done;	  /* UIDs stored in this batch (to flag) */
	size_t ndone;
	/* UIDs flagged on the server after their batch committed, recorded
	 * as flagged in the next batch's transaction (one commit per batch;
	 * after a crash in between they are only flagged again). */
	uint32_t *flagged;
	size_t nflagged;
	uint32_t max_uid;
};

static void batch_note(struct batch *b, enum log_level level, const char *fmt,
		       ...) PRINTF_LIKE(3, 4);
static void batch_note(struct batch *b, enum log_level level, const char *fmt,
		       ...)
{
	va_list ap;

	b->notes = xreallocarray(b->notes, b->nnotes + 1, sizeof(*b->notes));
	va_start(ap, fmt);
	b->notes[b->nnotes].text = xvasprintf(fmt, ap);
	va_end(ap);
	b->notes[b->nnotes++].level = level;
}

/* The batch committed (say its notes) or rolled back (forget them, and
 * its counts). */
static void batch_settle(struct batch *b, int committed)
{
	for (size_t i = 0; i < b->nnotes; i++) {
		if (committed)
			log_msg(b->notes[i].level, 0, "%s", b->notes[i].text);
		free(b->notes[i].text);
	}
	b->nnotes = 0;
	if (!committed && b->open)
		b->ctx->counts = b->saved;
	b->open = 0;
}

static void lot_clear(struct lot *l)
{
	for (size_t i = 0; i < l->nitems; i++) {
		free(l->items[i]->data);
		ingest_decision_release(&l->items[i]->d);
		free(l->items[i]);
	}
	free(l->items);
	l->items = NULL;
	l->nitems = 0;
	l->qhead = 0;
	l->stopped = 0;
}

static void decide(const struct lot *l, struct fetched *f)
{
	ingest_decide(l->ctx->conf, l->ctx->rules, l->acct->default_lang, 0,
		      f->data, f->im.len, &f->d);
	/* here, on the decider's thread, not in the mailbox thread's
	 * transaction */
	ingest_decision_fts(&f->d);
}

static void *decider_main(void *vl)
{
	struct lot *l = vl;

	pthread_mutex_lock(&l->qlock);
	for (;;) {
		while (l->qhead == l->nitems && !l->qclosed)
			pthread_cond_wait(&l->qcond, &l->qlock);
		if (l->qhead == l->nitems)
			break;
		struct fetched *f = l->items[l->qhead++];
		pthread_mutex_unlock(&l->qlock);
		decide(l, f);
		pthread_mutex_lock(&l->qlock);
	}
	pthread_mutex_unlock(&l->qlock);
	return NULL;
}

/* Start the lot's decider (if no thread can be had, collect decides in
 * line). */
static void decider_start(struct lot *l)
{
	sigset_t all, old;

	l->qhead = 0;
	l->qclosed = 0;
	/* With every signal blocked: SIGTERM must reach the thread reading
	 * from the server, to interrupt a stalled read. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	l->decider = pthread_create(&l->thread, NULL, decider_main, l) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Wait until every message of the lot is decided. */
static void decider_finish(struct lot *l)
{
	if (!l->decider)
		return;
	pthread_mutex_lock(&l->qlock);
	l->qclosed = 1;
	pthread_cond_signal(&l->qcond);
	pthread_mutex_unlock(&l->qlock);
	pthread_join(l->thread, NULL);
	l->decider = 0;
}

/* A rule escalated case_id: record why and tell the supervisors
 * (escalate_to). On a follow-up the store recorded the event already. */
static int escalated(struct batch *b, int64_t case_id, const char *rule,
		     const char *when, int64_t now, struct xerr *err)
{
	struct ingest_ctx *ctx = b->ctx;
	char *reason = xasprintf("by rule %s%s", rule ? rule : "?", when);
	int n = 0, r = 0;

	if (!*when)
		r = store_event_add(ctx->store, case_id, now, ACTOR,
				    "escalated", reason, err);
	if (r == 0)
		r = notify_escalation(ctx->store, ctx->conf, case_id, reason,
				      ACTOR, now, &n, err);
	if (r == 0 && n)
		batch_note(b, LOG_LVL_INFO,
			   "ingest: case %lld escalated %s; %d supervisor(s) "
			   "told",
			   (long long)case_id, reason, n);
	free(reason);
	return r;
}

/* imap_fetch's callback: copy the message and decide about it (no store
 * access, no transaction). */
static int collect(const struct imap_msg *im, void *vb, struct xerr *err)
{
	struct batch *b = vb;
	struct ingest_ctx *ctx = b->ctx;
	struct lot *l = b->fill;
	struct fetched *f;
	char *copy;

	(void)err;
	if (l->stopped)
		return 0;
	if (ctx->stop && *ctx->stop) {
		l->stopped = 1; /* leave the rest for the next run */
		return 0;
	}
	f = xcalloc(1, sizeof(*f));
	copy = xmalloc(im->len + 1);
	memcpy(copy, im->data, im->len);
	copy[im->len] = '\0';
	f->im = *im;
	f->im.data = copy;
	f->data = copy;
	pthread_mutex_lock(&l->qlock);
	l->items = xreallocarray(l->items, l->nitems + 1, sizeof(*l->items));
	l->items[l->nitems++] = f;
	pthread_cond_signal(&l->qcond);
	pthread_mutex_unlock(&l->qlock);
	if (!l->decider)
		decide(l, f);
	return 0;
}

/* Store one decided message (inside the batch's transaction). */
static int store_one(struct batch *b, struct fetched *f, struct xerr *err)
{
	struct ingest_ctx *ctx = b->ctx;
	const struct imap_msg *im = &f->im;
	struct ingest_decision d = f->d;
	int64_t now = now_s(), received, case_id = 0, msg_id;
	const char *how = NULL;
	char hash[65], *refs = NULL, *oids = NULL, *detail = NULL;
	int r, ret = -1, is_new = 0, dup = 0;
	const char *ack = "none";

	r = store_message_seen(ctx->store, b->mb->id, b->mb->uidvalidity,
			       im->uid, err);
	if (r < 0)
		return -1;
	if (r > 0) {
		/* Already stored (e.g. refetched after a crash): only make
		 * sure it gets flagged. */
		if (im->uid > b->max_uid)
			b->max_uid = im->uid;
		return 0;
	}
	ctx->counts.fetched++;
	received = im->internaldate ? im->internaldate : now;
	body_hash(im->data, im->len, hash);

	if (d.msg->message_id) {
		r = store_case_by_duplicate(ctx->store, d.msg->message_id, hash,
					    &case_id, err);
		if (r < 0)
			goto out;
		if (r > 0) {
			dup = 1;
			how = "duplicate";
		}
	}
	if (!case_id) {
		r = find_thread(ctx, d.msg, &case_id, &how, err);
		if (r < 0)
			goto out;
	}
	if (!case_id) {
		struct buf tags;
		buf_init(&tags, 1024);
		for (size_t t = 0; t < d.verdict.ntags; t++)
			if ((t && buf_addc(&tags, ' ') < 0) ||
			    buf_adds(&tags, d.verdict.tags[t]) < 0)
				break;
		struct store_case_new c = {
		    .category = d.verdict.category,
		    .priority = d.verdict.priority,
		    .rule = d.verdict.rule,
		    .tmpl = d.verdict.tmpl,
		    .lang = d.msg->lang,
		    .escalate = d.verdict.escalate,
		    .sla_hours = d.verdict.sla_hours,
		    .received_at = received,
		    .customer = d.msg->from_addr,
		    .customer_name = d.msg->from_name,
		    .order_id = d.msg->norder_ids ? d.msg->order_ids[0] : NULL,
		    .subject = d.msg->subject,
		    .tags = buf_str(&tags),
		    .mailbox_id = b->mb->id,
		};
		r = store_case_insert(ctx->store, &c, &case_id, err);
		buf_release(&tags);
		if (r < 0)
			goto out;
		is_new = 1;
	}
	refs = join_refs(d.msg);
	oids = join_order_ids(d.msg);
	struct store_message_new sm = {
	    .case_id = case_id,
	    .mailbox_id = b->mb->id,
	    .uidvalidity = b->mb->uidvalidity,
	    .uid = im->uid,
	    .message_id = d.msg->message_id,
	    .in_reply_to = d.msg->in_reply_to,
	    .refs = refs,
	    .from_addr = d.msg->from_addr,
	    .from_name = d.msg->from_name,
	    .reply_to = d.msg->reply_to_addr,
	    .subject = d.msg->subject,
	    .sent_date = d.msg->date,
	    .received_at = received,
	    .lang = d.msg->lang,
	    .text = d.msg->text,
	    .raw = im->data,
	    .raw_len = im->len,
	    .body_hash = hash,
	    .parse_error = d.msg->parse_error,
	    .order_ids = oids,
	    .search_later = 1, /* store_lot() adds it */
	};
	r = store_message_insert(ctx->store, &sm, &msg_id, err);
	if (r < 0)
		goto out;
	f->msg_id = msg_id;
	if (r == 0) {
		xerr_set(err, XERR_BUG, "ingest: uid %u stored twice", im->uid);
		goto out;
	}
	if (is_new) {
		detail = created_detail(&d.verdict);
		if (store_event_add(ctx->store, case_id, now, ACTOR, "created",
				    detail, err) < 0)
			goto out;
		if (queue_ack(ctx, case_id, &d, received, now, &ack, err) < 0)
			goto out;
		if (d.verdict.escalate &&
		    escalated(b, case_id, d.verdict.rule, "", now, err) < 0)
			goto out;
		ctx->counts.cases++;
		batch_note(b, LOG_LVL_INFO,
			   "ingest: case %lld created account=%s mailbox=%s "
			   "uid=%u category=%s ack=%s",
			   (long long)case_id, b->acct->name, b->mailbox,
			   im->uid, d.verdict.category, ack);
	} else {
		int reopened = 0, raised = 0;
		if (!dup && store_case_followup(ctx->store, case_id, received,
						&reopened, err) < 0)
			goto out;
		/* What the customer writes now may make it more urgent (a
		 * complaint after a late parcel), never less. */
		if (!dup && !d.msg->parse_error &&
		    store_case_raise(ctx->store, case_id, d.verdict.priority,
				     d.verdict.escalate, now, ACTOR, &raised,
				     err) < 0)
			goto out;
		if ((raised & 2) && escalated(b, case_id, d.verdict.rule,
					      ", on a follow-up", now, err) < 0)
			goto out;
		free(detail);
		detail = xasprintf("uid=%u via=%s", im->uid, how);
		if (store_event_add(ctx->store, case_id, now, ACTOR,
				    dup ? "duplicate" : "followup", detail,
				    err) < 0)
			goto out;
		if (reopened &&
		    store_event_add(ctx->store, case_id, now, ACTOR, "reopened",
				    reopened == 1 ? "customer wrote again"
						  : "customer wrote again "
						    "(was pending)",
				    err) < 0)
			goto out;
		if (dup)
			ctx->counts.duplicates++;
		else
			ctx->counts.followups++;
		batch_note(b, LOG_LVL_INFO,
			   "ingest: %s of case %lld account=%s mailbox=%s "
			   "uid=%u via=%s",
			   dup ? "duplicate" : "follow-up", (long long)case_id,
			   b->acct->name, b->mailbox, im->uid, how);
	}
	if (d.msg->parse_error) {
		ctx->counts.parse_errors++;
		batch_note(b, LOG_LVL_WARN,
			   "ingest: message kept unparsed case=%lld uid=%u: %s",
			   (long long)case_id, im->uid, d.msg->parse_error);
	}
	if (im->len < im->size) {
		free(detail);
		detail = xasprintf("message of %zu bytes stored truncated to "
				   "%zu (max_message_size)",
				   im->size, im->len);
		if (store_event_add(ctx->store, case_id, now, ACTOR,
				    "truncated", detail, err) < 0)
			goto out;
		ctx->counts.truncated++;
		batch_note(b, LOG_LVL_WARN, "ingest: case=%lld uid=%u: %s",
			   (long long)case_id, im->uid, detail);
	}
	b->done = xreallocarray(b->done, b->ndone + 1, sizeof(*b->done));
	b->done[b->ndone++] = im->uid;
	if (im->uid > b->max_uid)
		b->max_uid = im->uid;
	ret = 0;
out:
	free(detail);
	free(refs);
	free(oids);
	return ret; /* d is f->d: released with the batch */
}

static enum imap_after after_of(const struct conf_account *a)
{
	switch (a->after) {
	case CONF_AFTER_SEEN:
		return IMAP_AFTER_SEEN;
	case CONF_AFTER_MOVE:
		return IMAP_AFTER_MOVE;
	case CONF_AFTER_KEYWORD:
		break;
	}
	return IMAP_AFTER_KEYWORD;
}

/* Record in the store that uids were flagged/moved on the server, in a
 * transaction of its own. */
static int record_flagged(struct ingest_ctx *ctx,
			  const struct store_mailbox *mb, const uint32_t *uids,
			  size_t n, struct xerr *err)
{
	if (store_begin(ctx->store, err) < 0)
		return -1;
	if (store_imap_done(ctx->store, mb->id, mb->uidvalidity, uids, n, err) <
	    0) {
		store_rollback(ctx->store);
		return -1;
	}
	if (store_commit(ctx->store, err) < 0)
		return -1;
	ctx->counts.flagged += n;
	return 0;
}

/* Flag/move uids on the server, then record that in the store. */
static int mark_done(struct ingest_ctx *ctx, struct imap_conn *ic,
		     const struct conf_account *a, struct store_mailbox *mb,
		     const uint32_t *uids, size_t n, struct xerr *err)
{
	if (n == 0)
		return 0;
	if (imap_mark(ic, uids, n, after_of(a), a->after_arg, err) < 0)
		return -1;
	return record_flagged(ctx, mb, uids, n, err);
}

/* Store the decided lot b->cur in one transaction, then flag its
 * messages on the server. -1 with err set if it could not be stored (it
 * is fetched again next time) or flagged. */
static int store_lot(struct batch *b, struct imap_conn *ic, size_t n,
		     struct xerr *err)
{
	struct ingest_ctx *ctx = b->ctx;
	const struct conf_account *a = b->acct;
	struct store_mailbox *mb = b->mb;
	struct lot *l = b->cur;

	b->ndone = 0;
	b->max_uid = 0;
	if (store_begin(ctx->store, err) < 0)
		return -1;
	b->saved = ctx->counts;
	b->open = 1;
	log_debug("ingest: storing account=%s mailbox=%s messages=%zu", a->name,
		  b->mailbox, l->nitems);
	for (size_t j = 0; j < l->nitems; j++) {
		l->items[j]->msg_id = 0;
		if (store_one(b, l->items[j], err) < 0)
			goto rollback;
	}
	/* UIDs asked for but not returned were expunged meanwhile: move
	 * past them unless we stopped early. */
	if (!l->stopped && l->last_uid > b->max_uid)
		b->max_uid = l->last_uid;
	if (b->max_uid &&
	    store_mailbox_set_last_uid(ctx->store, mb->id, b->max_uid, err) < 0)
		goto rollback;
	/* The previous lot's flags, and health: what is left, and a sign
	 * of life while a long backlog drains. */
	if (store_imap_done(ctx->store, mb->id, mb->uidvalidity, b->flagged,
			    b->nflagged, err) < 0 ||
	    store_mailbox_state(ctx->store, mb->id, "fetching",
				(long long)(n - l->end), now_s(), err) < 0 ||
	    store_daemon_touch(ctx->store, now_s(), err) < 0)
		goto rollback;
	/* The lot's search text last: one FTS5 segment for the lot (see
	 * store_message_search()). */
	for (size_t j = 0; j < l->nitems; j++) {
		const struct fetched *f = l->items[j];
		if (f->msg_id && store_message_search(
				     ctx->store, f->msg_id, f->d.fts_who,
				     f->d.fts_subject, f->d.fts_text, err) < 0)
			goto rollback;
	}
	if (store_commit(ctx->store, err) < 0) {
		batch_settle(b, 0);
		xerr_prefix(err, "batch not stored (it will be fetched again)");
		return -1;
	}
	batch_settle(b, 1);
	lot_clear(l);
	l->end = 0;
	ctx->counts.flagged += b->nflagged;
	b->nflagged = 0;
	if (b->ndone && imap_mark(ic, b->done, b->ndone, after_of(a),
				  a->after_arg, err) < 0)
		return -1;
	/* Flagged: recorded with the next lot, or at the end (the buffers
	 * swap; the next lot empties done). */
	uint32_t *t = b->flagged;
	b->flagged = b->done;
	b->done = t;
	b->nflagged = b->ndone;
	return 0;
rollback:
	store_rollback(ctx->store);
	batch_settle(b, 0);
	xerr_prefix(err, "batch not stored (it will be fetched again)");
	return -1;
}

int ingest_mailbox(struct ingest_ctx *ctx, struct imap_conn *ic,
		   const struct conf_account *a, const char *name,
		   struct xerr *err)
{
	struct imap_box box;
	struct store_mailbox mb = {0};
	uint32_t *uids = NULL, *pending = NULL, *sizes = NULL;
	size_t n = 0, npending = 0;
	struct batch b = {.ctx = ctx, .acct = a, .mailbox = name, .mb = &mb};
	int ret = -1, r, backlog = 0;

	for (int j = 0; j < 2; j++) {
		struct lot *l = &b.lots[j];
		pthread_mutex_init(&l->qlock, NULL);
		pthread_cond_init(&l->qcond, NULL);
		l->ctx = ctx;
		l->acct = a;
	}
	b.cur = &b.lots[0];
	b.fill = &b.lots[1];

	if (imap_select(ic, name, &box, err) < 0) {
		xerr_prefix(err, "mailbox '%s'", name);
		return -1;
	}
	if (a->after == CONF_AFTER_KEYWORD && !box.can_keywords) {
		xerr_set(err, XERR_CONFIG,
			 "mailbox '%s' does not allow keywords such as '%s': "
			 "use after_ingest: seen or {move: FOLDER}",
			 name, a->after_arg);
		return -1;
	}
	if (store_begin(ctx->store, err) < 0)
		return -1;
	if (store_mailbox_get(ctx->store, a->name, name, &mb, err) < 0)
		goto rollback;
	if (mb.uidvalidity != box.uidvalidity) {
		if (mb.uidvalidity != 0)
			log_warn("imap: UIDVALIDITY of account=%s mailbox=%s "
				 "changed from %u to %u: rescanning (copies "
				 "already stored are recognised by Message-ID "
				 "and body)",
				 a->name, name, mb.uidvalidity,
				 box.uidvalidity);
		if (store_mailbox_set_uidvalidity(ctx->store, mb.id,
						  box.uidvalidity, err) < 0)
			goto rollback;
		mb.uidvalidity = box.uidvalidity;
		mb.last_uid = 0;
	}
	if (store_commit(ctx->store, err) < 0)
		return -1;

	/* Messages committed before a crash or a lost connection but not yet
	 * flagged: flag them now. */
	if (store_imap_pending(ctx->store, mb.id, mb.uidvalidity, &pending,
			       &npending, err) < 0)
		goto out;
	for (size_t i = 0; i < npending; i += PQ_FETCH_BATCH * 4) {
		size_t k = npending - i < PQ_FETCH_BATCH * 4
			       ? npending - i
			       : PQ_FETCH_BATCH * 4;
		if (mark_done(ctx, ic, a, &mb, pending + i, k, err) < 0)
			goto out;
	}

	if (imap_search_after(ic, mb.last_uid, &uids, &n, err) < 0)
		goto out;
	if (n)
		log_debug("imap: account=%s mailbox=%s: %zu new message(s) "
			  "after uid %u",
			  a->name, name, n, mb.last_uid);
	if (store_mailbox_state(ctx->store, mb.id, n ? "fetching" : "ok",
				(long long)n, now_s(), err) < 0)
		goto out;
	sizes = xcalloc(n ? n : 1, sizeof(*sizes));
	if (imap_sizes(ic, uids, n, sizes, err) < 0)
		goto out;
	/* A backlog: the outbox holds the new acks until it is stored. */
	if (n > PQ_FETCH_BATCH && ctx->backlog) {
		backlog = 1;
		__atomic_add_fetch(ctx->backlog, 1, __ATOMIC_RELAXED);
	}
	/* Fetch lot k+1 (its decider parses and classifies it) before
	 * storing lot k: the decider works while this thread writes to the
	 * store, waits for the fsync and flags lot k on the server. */
	for (size_t i = 0;;) {
		struct lot *l = b.fill;
		int more =
		    i < n && !b.cur->stopped && !(ctx->stop && *ctx->stop);
		if (more) {
			size_t bytes = 0, k;
			/* A lot: up to PQ_FETCH_BATCH messages and
			 * PQ_FETCH_BATCH_BYTES, but always at least one. */
			for (k = 0; i + k < n && k < PQ_FETCH_BATCH; k++) {
				size_t sz = sizes[i + k];
				if (sz > (size_t)ctx->conf->max_message_size)
					sz =
					    (size_t)ctx->conf->max_message_size;
				if (k && bytes + sz > PQ_FETCH_BATCH_BYTES)
					break;
				bytes += sz;
			}
			log_debug("imap: fetch account=%s mailbox=%s uids=%zu "
				  "bytes=%zu",
				  a->name, name, k, bytes);
			lot_clear(l);
			l->last_uid = uids[i + k - 1];
			l->end = i + k;
			decider_start(l);
			r = imap_fetch(ic, uids + i, k,
				       (size_t)ctx->conf->max_message_size,
				       collect, &b, err);
			if (r < 0) {
				/* Nothing of this lot or the one before is
				 * stored or flagged: both are fetched again
				 * next time. */
				decider_finish(l);
				goto out;
			}
			i += k;
		}
		if (b.cur->end && store_lot(&b, ic, n, err) < 0) {
			decider_finish(l);
			goto out;
		}
		if (!more)
			break;
		decider_finish(l);
		b.fill = b.cur;
		b.cur = l;
	}
	ret = 0;
	goto out;
rollback:
	store_rollback(ctx->store);
out : {
	struct xerr e2;
	if (backlog)
		__atomic_sub_fetch(ctx->backlog, 1, __ATOMIC_RELAXED);
	/* The last batch's flags (after a failure too: they were set). */
	if (b.nflagged &&
	    record_flagged(ctx, &mb, b.flagged, b.nflagged, &e2) < 0)
		log_warn("store: cannot record %zu flagged message(s) (they "
			 "will be flagged again): %s",
			 b.nflagged, e2.msg);
	if (mb.id && store_mailbox_health(ctx->store, mb.id, now_s(),
					  ret < 0 ? err->msg : NULL, &e2) < 0)
		log_warn("store: cannot record mailbox health: %s", e2.msg);
}
	batch_settle(&b, 0);
	for (int j = 0; j < 2; j++) {
		lot_clear(&b.lots[j]);
		pthread_cond_destroy(&b.lots[j].qcond);
		pthread_mutex_destroy(&b.lots[j].qlock);
	}
	free(b.notes);
	free(uids);
	free(sizes);
	free(pending);
	free(b.done);
	free(b.flagged);
	return ret;
}

int ingest_connect(const struct conf_account *a, struct imap_conn **ic_r,
		   struct xerr *err)
{
	char *password = NULL;
	int r;

	if (conf_read_password(a->password_file, &password, err) < 0)
		return -1;
	struct imap_params p = {
	    .host = a->host,
	    .port = a->port,
	    .tls = a->tls == CONF_TLS_IMPLICIT	 ? IMAP_TLS_IMPLICIT
		   : a->tls == CONF_TLS_STARTTLS ? IMAP_TLS_STARTTLS
						 : IMAP_TLS_NONE,
	    .ca_file = a->ca_file,
	    .user = a->user,
	    .password = password,
	    .timeout = a->timeout,
	};
	r = imap_connect(&p, ic_r, err);
	secret_free(&password);
	return r;
}

int ingest_account(struct ingest_ctx *ctx, const struct conf_account *a,
		   struct xerr *err)
{
	struct imap_conn *ic = NULL;
	int ret = -1;

	if (ingest_connect(a, &ic, err) < 0)
		goto out;
	for (size_t i = 0; i < a->nmailboxes; i++) {
		if (ctx->stop && *ctx->stop)
			break;
		if (ingest_mailbox(ctx, ic, a, a->mailboxes[i], err) < 0)
			goto out;
	}
	ret = 0;
out:
	imap_close(&ic);
	if (ret < 0)
		xerr_prefix(err, "account '%s'", a->name);
	return ret;
}
