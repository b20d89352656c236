/* outbox: deliver acknowledgements at most once. The 'sending' mark is
 * committed before the SMTP transaction starts, so a crash in between is
 * visible afterwards ('uncertain') instead of causing a second message. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "log.h"
#include "outbox.h"

#define DUE_BATCH 50

static const char *helo_of(const struct conf_smtp *s)
{
	const char *at = strrchr(s->from_addr, '@');

	return at ? at + 1 : "localhost";
}

static int open_smtp(struct outbox_ctx *ctx, struct xerr *err)
{
	const struct conf_smtp *s = &ctx->conf->smtp;
	char *password = NULL;
	int r;

	if (ctx->smtp)
		return 0;
	if (s->user && conf_read_password(s->password_file, &password, err) < 0)
		return -1;
	struct smtp_params p = {
	    .host = s->host,
	    .port = s->port,
	    .implicit_tls = s->implicit_tls,
	    .starttls = s->starttls,
	    .ca_file = s->ca_file,
	    .user = s->user,
	    .password = password,
	    .helo = helo_of(s),
	    .envelope_from = s->envelope_from,
	    .timeout = s->timeout,
	};
	r = smtp_new(&p, &ctx->smtp, err);
	secret_free(&password);
	return r;
}

void outbox_release(struct outbox_ctx *ctx)
{
	smtp_free(&ctx->smtp);
}

int outbox_recover(struct outbox_ctx *ctx, struct xerr *err)
{
	int n = 0;

	if (store_begin(ctx->store, err) < 0)
		return -1;
	if (store_outbox_recover(ctx->store, now_s(), &n, err) < 0) {
		store_rollback(ctx->store);
		return -1;
	}
	if (store_commit(ctx->store, err) < 0)
		return -1;
	if (n)
		log_warn("outbox: %d acknowledgement(s) were being sent when "
			 "the daemon stopped; marked uncertain, not resent "
			 "(see peakq show)",
			 n);
	return 0;
}

/* Seconds until the next attempt: 30 s doubling to 30 min, +-20% jitter. */
static int64_t backoff(int attempts)
{
	int64_t d = 30;

	for (int i = 1; i < attempts && d < 1800; i++)
		d *= 2;
	if (d > 1800)
		d = 1800;
	return d - d / 5 + (int64_t)(random() % (d / 5 * 2 + 1));
}

static int mark(struct outbox_ctx *ctx, int64_t id,
		enum store_outbox_state state, int attempts, int64_t next_at,
		const char *why, struct xerr *err)
{
	if (store_begin(ctx->store, err) < 0)
		return -1;
	if (store_outbox_mark(ctx->store, id, state, now_s(), attempts, next_at,
			      why, err) < 0) {
		store_rollback(ctx->store);
		return -1;
	}
	return store_commit(ctx->store, err);
}

int outbox_flush(struct outbox_ctx *ctx, struct xerr *err)
{
	struct store_outbox_row *rows = NULL;
	size_t n = 0;
	int ret = -1, unreachable = 0;

	while (!unreachable && !(ctx->stop && *ctx->stop)) {
		if (store_outbox_due(ctx->store, now_s(), DUE_BATCH, &rows, &n,
				     err) < 0)
			return -1;
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++) {
			struct store_outbox_row *r = &rows[i];
			struct xerr serr = {0};
			int attempts = r->attempts + 1;

			if (unreachable || (ctx->stop && *ctx->stop))
				break;
			if (mark(ctx, r->id, OUTBOX_SENDING, attempts, 0, NULL,
				 err) < 0)
				goto out;
			if (open_smtp(ctx, &serr) == 0 &&
			    smtp_send(ctx->smtp, r->rcpt, r->data, r->len,
				      &serr) == 0) {
				if (mark(ctx, r->id, OUTBOX_SENT, attempts, 0,
					 NULL, err) < 0)
					goto out;
				ctx->sent++;
				log_info("outbox: %s for case %lld sent to %s "
					 "message-id=<%s>",
					 r->kind, (long long)r->case_id,
					 r->rcpt, r->message_id);
				continue;
			}
			int64_t age = now_s() - r->created_at;
			if (serr.kind == XERR_PERM ||
			    age > ctx->conf->ack_retry_max_age) {
				char why[600];
				snprintf(why, sizeof(why), "%s%s", serr.msg,
					 serr.kind == XERR_PERM
					     ? ""
					     : " (giving up: too old)");
				if (mark(ctx, r->id, OUTBOX_FAILED, attempts, 0,
					 why, err) < 0)
					goto out;
				ctx->failed++;
				log_err("outbox: %s for case %lld failed for "
					"good: %s",
					r->kind, (long long)r->case_id, why);
				continue;
			}
			int64_t next = now_s() + backoff(attempts);
			if (mark(ctx, r->id, OUTBOX_TEMP_FAIL, attempts, next,
				 serr.msg, err) < 0)
				goto out;
			ctx->temp_failed++;
			log_warn("outbox: %s for case %lld not sent (attempt "
				 "%d, retry in %llds): %s",
				 r->kind, (long long)r->case_id, attempts,
				 (long long)(next - now_s()), serr.msg);
			/* The server is probably down: stop hammering it. */
			unreachable = 1;
			smtp_free(&ctx->smtp);
		}
		for (size_t i = 0; i < n; i++)
			store_outbox_row_release(&rows[i]);
		free(rows);
		rows = NULL;
		n = 0;
	}
	ret = 0;
out:
	for (size_t i = 0; i < n; i++)
		store_outbox_row_release(&rows[i]);
	free(rows);
	return ret;
}
