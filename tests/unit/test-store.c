/* test-store: schema creation, the ingest keys (no message twice, one ack
 * per case), the outbox state machine including crash recovery, queue order
 * and file permissions. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "store.h"
#include "../tap.h"

static int count_cb(const struct store_case *c, void *ctx)
{
	int64_t **ids = ctx;

	*(*ids)++ = c->id;
	return 0;
}

static int64_t new_case(struct store *st, const char *prio, int sla, int64_t at,
			struct xerr *err)
{
	struct store_case_new c = {.category = "late_delivery",
				   .priority = prio,
				   .rule = "late",
				   .tmpl = "late_delivery",
				   .lang = "en",
				   .sla_hours = sla,
				   .received_at = at,
				   .customer = "ann@example.net"};
	int64_t id = 0;

	if (store_case_insert(st, &c, &id, err) < 0)
		return -1;
	return id;
}

static int hit_cb(const struct store_case *c, const struct store_hit *h,
		  void *ctx)
{
	(void)c;
	(void)h;
	(*(int *)ctx)++;
	return 0;
}

/* A plan step that reads a whole table that grows all season (cases,
 * messages, outbox, events, notes: aliases c m o e n) outside a statement
 * meant to ("whole: ..."). */
struct plan_check {
	int steps, bad;
};

static int plan_cb(const char *what, const char *sql, const char *step,
		   void *ctx)
{
	static const char *const growing[] = {"cases",	"c", "message", "m",
					      "outbox", "o", "event",	"e",
					      "note",	"n", NULL};
	struct plan_check *pc = ctx;
	char name[32];

	pc->steps++;
	if (strncmp(what, "whole:", 6) == 0 ||
	    sscanf(step, "SCAN %31s", name) != 1)
		return 0;
	for (size_t i = 0; growing[i]; i++)
		if (strcmp(name, growing[i]) == 0) {
			diag("%s reads a whole table: %s", what, step);
			diag("  in: %s", sql);
			pc->bad++;
		}
	return 0;
}

/* The metrics' totals as they were counted before the tally (schema 6):
 * the tally must always agree. */
static const char recount_sql[] =
    "SELECT 'cases', category, count(*) FROM cases GROUP BY category"
    " UNION ALL SELECT 'messages', '', count(*) FROM message"
    " UNION ALL SELECT 'parse_errors', '', count(*) FROM message"
    "  WHERE parse_error IS NOT NULL"
    " UNION ALL SELECT 'outbox ' || kind, state, count(*) FROM outbox"
    "  GROUP BY kind, state"
    " UNION ALL SELECT 'ack_latency_sum', '',"
    "  coalesce(sum(acked_at - created_at), 0) FROM cases"
    "  WHERE acked_at IS NOT NULL"
    " UNION ALL SELECT 'ack_latency', '+Inf', count(*) FROM cases"
    "  WHERE acked_at IS NOT NULL"
    " EXCEPT SELECT name, label, n FROM tally";

static int tally_agrees(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int rows = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
		SQLITE_OK &&
	    sqlite3_prepare_v2(db, recount_sql, -1, &s, NULL) == SQLITE_OK) {
		rows = 0;
		while (sqlite3_step(s) == SQLITE_ROW) {
			diag("tally disagrees: %s %s %lld",
			     sqlite3_column_text(s, 0),
			     sqlite3_column_text(s, 1),
			     (long long)sqlite3_column_int64(s, 2));
			rows++;
		}
	} else {
		diag("recount: %s", sqlite3_errmsg(db));
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rows == 0;
}

int main(void)
{
	char dir[] = "/tmp/pq-store-XXXXXX", path[300];
	struct store *st = NULL, *st2 = NULL;
	struct store_mailbox mb;
	struct xerr err = {0};
	struct stat sb;
	int64_t case1, case2, case3, id, mid;
	int n;

	if (!mkdtemp(dir))
		return 99;
	snprintf(path, sizeof(path), "%s/q.db", dir);
	ok(store_open(path, 0, &st, &err) == -1 &&
	       strstr(err.msg, "does not exist"),
	   "missing store without STORE_CREATE is an error");
	ok(store_open(path, STORE_CREATE, &st, &err) == 0, "store created");
	if (!st) {
		diag("%s", err.msg);
		return done_testing();
	}
	is_int(store_schema_version(st), 7,
	       "schema version 7 (all migrations run)");
	ok(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	   "store file is mode 0600");
	ok(strlen(store_instance(st)) == 24, "instance token");

	ok(store_mailbox_get(st, "support", "INBOX", &mb, &err) == 0 &&
	       mb.id > 0 && mb.uidvalidity == 0 && mb.last_uid == 0,
	   "mailbox created on first use");
	ok(store_mailbox_set_uidvalidity(st, mb.id, 777, &err) == 0,
	   "uidvalidity set");
	ok(store_mailbox_set_last_uid(st, mb.id, 10, &err) == 0 &&
	       store_mailbox_set_last_uid(st, mb.id, 5, &err) == 0,
	   "last uid set");
	struct store_mailbox mb2;
	ok(store_mailbox_get(st, "support", "INBOX", &mb2, &err) == 0 &&
	       mb2.id == mb.id && mb2.uidvalidity == 777 && mb2.last_uid == 10,
	   "checkpoint never moves backwards");

	ok(store_begin(st, &err) == 0, "begin");
	case1 = new_case(st, "normal", 24, 1000, &err);
	ok(case1 > 0, "case inserted");
	struct store_message_new m = {.case_id = case1,
				      .mailbox_id = mb.id,
				      .uidvalidity = 777,
				      .uid = 3,
				      .message_id = "a@x",
				      .from_addr = "ann@example.net",
				      .subject = "Where?",
				      .received_at = 1000,
				      .text = "text",
				      .raw = "raw\0bytes",
				      .raw_len = 9,
				      .body_hash = "h1"};
	is_int(store_message_insert(st, &m, &mid, &err), 1, "message stored");
	is_int(store_message_insert(st, &m, NULL, &err), 0,
	       "same (mailbox, uidvalidity, uid) is not stored twice");
	is_int(store_message_seen(st, mb.id, 777, 3, &err), 1, "seen");
	is_int(store_message_seen(st, mb.id, 778, 3, &err), 0,
	       "another uidvalidity is another message");
	struct store_outbox_new o = {.case_id = case1,
				     .kind = "ack",
				     .dedupe_key = "ack:1",
				     .rcpt = "ann@example.net",
				     .state = OUTBOX_PENDING,
				     .created_at = 1000};
	is_int(store_outbox_insert(st, &o, &id, &err), 1, "ack queued");
	int64_t id2;
	is_int(store_outbox_insert(st, &o, &id2, &err), 0,
	       "second ack for the case refused by dedupe key");
	ok(store_outbox_set_message(st, id, "ack-1@x", "msg\r\n", 5, &err) == 0,
	   "rendered message attached");
	ok(store_commit(st, &err) == 0, "commit");

	int64_t found;
	ok(store_case_by_message_id(st, "a@x", &found, &err) == 1 &&
	       found == case1,
	   "case found by inbound Message-ID");
	ok(store_case_by_message_id(st, "ack-1@x", &found, &err) == 1 &&
	       found == case1,
	   "case found by our ack's Message-ID");
	ok(store_case_by_duplicate(st, "a@x", "h1", &found, &err) == 1,
	   "duplicate by Message-ID + hash");
	ok(store_case_by_duplicate(st, "a@x", "h2", &found, &err) == 0,
	   "other body is not a duplicate");
	ok(store_case_has_customer(st, case1, "ann@example.net", &err) == 1 &&
	       store_case_has_customer(st, case1, "eve@x", &err) == 0,
	   "case tag needs the same customer");

	uint32_t *uids;
	size_t nu;
	ok(store_imap_pending(st, mb.id, 777, &uids, &nu, &err) == 0 &&
	       nu == 1 && uids[0] == 3,
	   "committed but unflagged uid listed");
	ok(store_imap_done(st, mb.id, 777, uids, nu, &err) == 0, "flag done");
	free(uids);
	ok(store_imap_pending(st, mb.id, 777, &uids, &nu, &err) == 0 && nu == 0,
	   "nothing left to flag");
	free(uids);

	/* outbox: due -> sending -> (crash) -> uncertain, never due again */
	struct store_outbox_row *rows;
	size_t nr;
	ok(store_outbox_due(st, 2000, 10, 1, 0, &rows, &nr, &err) == 0 &&
	       nr == 1 && rows[0].len == 5 &&
	       strcmp(rows[0].rcpt, "ann@example.net") == 0,
	   "pending row is due");
	for (size_t i = 0; i < nr; i++)
		store_outbox_row_release(&rows[i]);
	free(rows);
	/* Three senders: the row is in the part of its id, and only there. */
	int parts_with = 0;
	for (int part = 0; part < 3; part++) {
		ok(store_outbox_due(st, 2000, 10, 3, part, &rows, &nr, &err) ==
		       0,
		   "due rows of part %d of 3", part);
		if (nr == 1 && part == (int)(rows[0].id % 3))
			parts_with++;
		for (size_t i = 0; i < nr; i++)
			store_outbox_row_release(&rows[i]);
		free(rows);
	}
	is_int(parts_with, 1, "the row is due in its own part only");
	ok(store_outbox_mark(st, id, OUTBOX_SENDING, 2000, 1, 0, NULL, &err) ==
	       0,
	   "marked sending");
	ok(store_outbox_due(st, 2000, 10, 1, 0, &rows, &nr, &err) == 0 &&
	       nr == 0,
	   "a row being sent is not due");
	free(rows);
	/* another handle, as after a restart */
	ok(store_open(path, 0, &st2, &err) == 0, "second handle");
	ok(store_outbox_recover(st2, 2100, &n, &err) == 0 && n == 1,
	   "recovery marks one row uncertain");
	ok(store_outbox_due(st2, 99999, 10, 1, 0, &rows, &nr, &err) == 0 &&
	       nr == 0,
	   "an uncertain row is never due");
	free(rows);
	store_close(&st2);

	/* sent: acked_at set and event written */
	ok(store_begin(st, &err) == 0, "begin");
	case2 = new_case(st, "urgent", 2, 1000, &err);
	case3 = new_case(st, "low", 24, 1000, &err);
	o.case_id = case2;
	o.dedupe_key = "ack:2";
	ok(store_outbox_insert(st, &o, &id, &err) == 1, "second ack");
	ok(store_outbox_mark(st, id, OUTBOX_SENT, 1500, 1, 0, NULL, &err) == 0,
	   "marked sent");
	ok(store_commit(st, &err) == 0, "commit");
	struct store_case c;
	ok(store_case_get(st, case2, &c, &err) == 1 && c.acked_at == 1500 &&
	       strcmp(c.ack_state, "sent") == 0,
	   "case acknowledged at send time");
	is_int(c.due_at, 1000 + 2 * 3600, "due = received + sla");
	store_case_release(&c);
	ok(store_case_get(st, 9999, &c, &err) == 0, "no such case");

	int64_t order[8], *p = order;
	struct store_filter f = {0};
	ok(store_case_list(st, &f, 5000, count_cb, &p, &err) == 0 &&
	       p - order == 3,
	   "three open cases listed");
	ok(order[0] == case2 && order[1] == case1 && order[2] == case3,
	   "queue order: overdue urgent first, then by priority and due");

	int reopened;
	ok(store_case_followup(st, case3, 3000, &reopened, &err) == 0 &&
	       !reopened,
	   "follow-up on an open case does not reopen");

	/* Agents: two handles (two processes' worth) on one store. */
	struct store_act_result r = {0};
	ok(store_open(path, 0, &st2, &err) == 0, "a second handle");
	ok(store_begin(st, &err) == 0 &&
	       store_case_claim(st, case1, "alice", "alice", 0, 6000, &r,
				&err) == 0 &&
	       r.act == STORE_ACT_DONE && store_commit(st, &err) == 0,
	   "alice claims case 1");
	store_act_result_release(&r);
	ok(store_begin(st2, &err) == 0 &&
	       store_case_claim(st2, case1, "bob", "bob", 0, 6001, &r, &err) ==
		   0 &&
	       r.act == STORE_ACT_TAKEN && r.owner &&
	       strcmp(r.owner, "alice") == 0 && store_commit(st2, &err) == 0,
	   "bob's claim on the other handle is refused, naming alice");
	store_act_result_release(&r);
	/* While alice holds the write lock, bob's BEGIN waits (busy timeout)
	 * and then fails as temporary: nothing half-done. */
	ok(store_begin(st, &err) == 0, "alice begins a write");
	int64_t t0 = now_s();
	ok(store_begin(st2, &err) == -1 && err.kind == XERR_TEMP &&
	       strstr(err.msg, "locked for more than"),
	   "bob's write waits for the busy timeout, then fails temporarily");
	ok(now_s() - t0 >= 4, "after waiting about 5 s");
	store_rollback(st);
	int64_t got = 0;
	struct store_filter nf = {0};
	ok(store_begin(st2, &err) == 0 &&
	       store_case_next(st2, &nf, "bob", 6002, &got, &err) == 1 &&
	       got != case1 && store_commit(st2, &err) == 0,
	   "bob's next skips alice's case");
	ok(store_begin(st, &err) == 0 &&
	       store_case_set_status(st, got, "pending", 0, "alice", 0, 6003,
				     &r, &err) == 0 &&
	       r.act == STORE_ACT_TAKEN && store_commit(st, &err) == 0,
	   "alice cannot change bob's case without force");
	store_act_result_release(&r);
	ok(store_begin(st2, &err) == 0 &&
	       store_case_set_status(st2, got, "pending", 0, "bob", 0, 6004, &r,
				     &err) == 0 &&
	       r.act == STORE_ACT_DONE && store_commit(st2, &err) == 0,
	   "bob sets it pending");
	store_act_result_release(&r);
	ok(store_case_get(st, got, &c, &err) == 1 && c.first_reply_at == 6004 &&
	       strcmp(c.status, "pending") == 0,
	   "pending sets the first reply time");
	store_case_release(&c);
	ok(store_case_followup(st, got, 6005, &reopened, &err) == 0 &&
	       reopened == 2 && store_case_get(st, got, &c, &err) == 1 &&
	       strcmp(c.status, "open") == 0 && c.first_reply_at == 6004,
	   "the customer writing back opens a pending case again");
	store_case_release(&c);
	ok(store_begin(st, &err) == 0 &&
	       store_case_tag(st, case1, "vip refund", NULL, "alice", 6006, &r,
			      &err) == 0 &&
	       r.act == STORE_ACT_DONE && store_commit(st, &err) == 0,
	   "tags added");
	store_act_result_release(&r);
	ok(store_begin(st, &err) == 0 &&
	       store_case_tag(st, case1, "vip", "refund", "alice", 6007, &r,
			      &err) == 0 &&
	       store_commit(st, &err) == 0 &&
	       store_case_get(st, case1, &c, &err) == 1 && c.tags &&
	       strcmp(c.tags, "vip") == 0,
	   "a tag removed, a present one not added twice");
	store_case_release(&c);
	store_act_result_release(&r);
	ok(store_begin(st, &err) == 0 &&
	       store_note_add(st, case1, "alice", "Paket 丢了 in the depot",
			      6008, &r, &err) == 0 &&
	       store_commit(st, &err) == 0,
	   "a note");
	store_act_result_release(&r);
	int hits = 0;
	ok(store_search(st, "丢", 10, hit_cb, &hits, &err) == 0 && hits == 1,
	   "search finds a note by one Chinese character");
	hits = 0;
	ok(store_search(st, "DEPOT paket", 10, hit_cb, &hits, &err) == 0 &&
	       hits == 1,
	   "search: every word, any case");
	hits = 0;
	ok(store_search(st, "\"*:(", 10, hit_cb, &hits, &err) == 0 && hits == 0,
	   "search: FTS syntax in the query is only text");
	struct buf fb;
	buf_init(&fb, 1000);
	store_fts_text("寄錯ＡＢＣ x", strlen("寄錯ＡＢＣ x"), &fb);
	is_str(buf_str(&fb), " 寄  错 abc x", "index text: CJK split, folded");
	buf_release(&fb);
	size_t fn = 0;
	char *fs =
	    store_fts_string("寄錯ＡＢＣ x", strlen("寄錯ＡＢＣ x"), &fn);
	ok(strcmp(fs, " 寄  错 abc x") == 0 && fn == strlen(fs),
	   "index text as a string, with its length");
	free(fs);
	/* A message stored with search_later is found only once the caller
	 * adds its text, in the same transaction. */
	struct store_message_new later = m;
	later.uid = 40;
	later.message_id = "later@x";
	later.text = "kumquat marmalade";
	later.search_later = 1;
	int64_t lid = 0;
	ok(store_begin(st, &err) == 0 &&
	       store_message_insert(st, &later, &lid, &err) == 1 &&
	       store_commit(st, &err) == 0,
	   "a message stored, its search text left for later");
	hits = 0;
	ok(store_search(st, "kumquat", 10, hit_cb, &hits, &err) == 0 &&
	       hits == 0,
	   "search_later: not in the index by itself");
	fs = store_fts_string("Kumquat MARMALADE", 17, NULL);
	ok(store_begin(st, &err) == 0 &&
	       store_message_search(st, lid, "ann example net", NULL, fs,
				    &err) == 0 &&
	       store_commit(st, &err) == 0,
	   "its search text added");
	free(fs);
	hits = 0;
	ok(store_search(st, "marmalade kumquat", 10, hit_cb, &hits, &err) ==
		   0 &&
	       hits == 1,
	   "then search finds it");
	store_close(&st2);

	struct store_counts cnt;
	ok(store_counts(st, &cnt, &err) == 0 && cnt.cases == 3 &&
	       cnt.messages == 2 && cnt.outbox_uncertain == 1 &&
	       cnt.outbox_sent == 1,
	   "counts");
	ok(tally_agrees(path),
	   "the tally (counts, metrics) equals a recount of the tables");

	struct plan_check pc = {0};
	int plans = store_query_plans(st, plan_cb, &pc, &err);
	ok(plans == 0 && pc.steps > 100, "query plans read (%d steps)",
	   pc.steps);
	is_int(pc.bad, 0,
	       "no query reads a whole growing table unless meant to "
	       "(report of the whole store, outbox --all)");
	store_close(&st);

	ok(store_open(path, STORE_READONLY, &st, &err) == 0,
	   "read-only open of an existing store");
	store_close(&st);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		diag("cleanup failed");
	return done_testing();
}
