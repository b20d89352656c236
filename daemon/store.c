/* store: SQLite schema, migrations and every SQL statement of peakq.
 * Statements are prepared once per handle and reset after each use.
 * Callers own transactions (store_begin/commit); nothing here logs. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "buf.h"
#include "match.h"
#include "store.h"
#include "text.h"

#define BUSY_TIMEOUT_MS 5000

/* Forward-only migrations: entry i brings user_version from i to i + 1. */
static const char *const migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE mailbox("
    " id INTEGER PRIMARY KEY,"
    " account TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " uidvalidity INTEGER NOT NULL DEFAULT 0,"
    " last_uid INTEGER NOT NULL DEFAULT 0,"
    " last_ok_at INTEGER,"
    " last_error TEXT,"
    " last_error_at INTEGER,"
    " UNIQUE(account, name));"
    "CREATE TABLE cases("
    " id INTEGER PRIMARY KEY,"
    " status TEXT NOT NULL DEFAULT 'new'"
    "  CHECK(status IN ('new','open','pending','resolved')),"
    " category TEXT NOT NULL,"
    " priority TEXT NOT NULL"
    "  CHECK(priority IN ('urgent','high','normal','low')),"
    " rule TEXT,"
    " template TEXT,"
    " escalated INTEGER NOT NULL DEFAULT 0,"
    " sla_hours INTEGER NOT NULL,"
    " due_at INTEGER NOT NULL,"
    " customer TEXT,"
    " customer_name TEXT,"
    " order_id TEXT,"
    " subject TEXT,"
    " lang TEXT,"
    " assignee TEXT,"
    " mailbox_id INTEGER REFERENCES mailbox(id),"
    " created_at INTEGER NOT NULL,"
    " acked_at INTEGER,"
    " first_reply_at INTEGER,"
    " resolved_at INTEGER,"
    " updated_at INTEGER NOT NULL);"
    "CREATE INDEX cases_queue ON cases(status, escalated, due_at);"
    "CREATE INDEX cases_customer ON cases(customer);"
    "CREATE TABLE message("
    " id INTEGER PRIMARY KEY,"
    " case_id INTEGER NOT NULL REFERENCES cases(id),"
    " mailbox_id INTEGER NOT NULL REFERENCES mailbox(id),"
    " uidvalidity INTEGER NOT NULL,"
    " uid INTEGER NOT NULL,"
    " message_id TEXT,"
    " in_reply_to TEXT,"
    " refs TEXT,"
    " from_addr TEXT,"
    " from_name TEXT,"
    " reply_to TEXT,"
    " subject TEXT,"
    " sent_date INTEGER,"
    " received_at INTEGER NOT NULL,"
    " ingested_at INTEGER NOT NULL,"
    " lang TEXT,"
    " order_ids TEXT,"
    " text TEXT,"
    " raw BLOB NOT NULL,"
    " raw_size INTEGER NOT NULL,"
    " body_hash TEXT,"
    " parse_error TEXT,"
    " imap_done INTEGER NOT NULL DEFAULT 0,"
    " UNIQUE(mailbox_id, uidvalidity, uid));"
    "CREATE INDEX message_mid ON message(message_id);"
    "CREATE INDEX message_case ON message(case_id);"
    "CREATE INDEX message_imap_todo ON message(mailbox_id, uidvalidity)"
    " WHERE imap_done = 0;"
    "CREATE TABLE outbox("
    " id INTEGER PRIMARY KEY,"
    " case_id INTEGER NOT NULL REFERENCES cases(id),"
    " kind TEXT NOT NULL,"
    " dedupe_key TEXT UNIQUE,"
    " rcpt TEXT,"
    " message_id TEXT,"
    " message BLOB,"
    " state TEXT NOT NULL CHECK(state IN ('pending','sending','sent',"
    "  'temp_fail','failed','uncertain','suppressed')),"
    " reason TEXT,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL,"
    " next_at INTEGER,"
    " last_error TEXT,"
    " sent_at INTEGER);"
    "CREATE INDEX outbox_due ON outbox(next_at)"
    " WHERE state IN ('pending','temp_fail');"
    "CREATE INDEX outbox_mid ON outbox(message_id);"
    "CREATE INDEX outbox_case ON outbox(case_id);"
    "CREATE TABLE event("
    " id INTEGER PRIMARY KEY,"
    " case_id INTEGER REFERENCES cases(id),"
    " at INTEGER NOT NULL,"
    " actor TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " detail TEXT);"
    "CREATE INDEX event_case ON event(case_id);"
    "CREATE TABLE note("
    " id INTEGER PRIMARY KEY,"
    " case_id INTEGER NOT NULL REFERENCES cases(id),"
    " at INTEGER NOT NULL,"
    " author TEXT NOT NULL,"
    " body TEXT NOT NULL);"
    "CREATE INDEX note_case ON note(case_id);",
    /* 2: tags added by rules (space-separated) */
    "ALTER TABLE cases ADD COLUMN tags TEXT;",
    /* 3: outbox rows can expire; rate limits look rows up by recipient */
    "CREATE TABLE outbox_new("
    " id INTEGER PRIMARY KEY,"
    " case_id INTEGER NOT NULL REFERENCES cases(id),"
    " kind TEXT NOT NULL,"
    " dedupe_key TEXT UNIQUE,"
    " rcpt TEXT,"
    " message_id TEXT,"
    " message BLOB,"
    " state TEXT NOT NULL CHECK(state IN ('pending','sending','sent',"
    "  'temp_fail','failed','uncertain','suppressed','expired')),"
    " reason TEXT,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL,"
    " next_at INTEGER,"
    " last_error TEXT,"
    " sent_at INTEGER);"
    "INSERT INTO outbox_new SELECT * FROM outbox;"
    "DROP TABLE outbox;"
    "ALTER TABLE outbox_new RENAME TO outbox;"
    "CREATE INDEX outbox_due ON outbox(next_at)"
    " WHERE state IN ('pending','temp_fail');"
    "CREATE INDEX outbox_mid ON outbox(message_id);"
    "CREATE INDEX outbox_case ON outbox(case_id);"
    "CREATE INDEX outbox_rcpt ON outbox(rcpt COLLATE NOCASE, created_at);"
    "CREATE INDEX cases_customer_order ON cases(customer COLLATE NOCASE,"
    " order_id, created_at);",
    /* 4: full-text search over messages (rowid 2*id) and notes (rowid
     * 2*id+1), contentless: the text stays in message and note. Text goes
     * through peakq_fts() (normalised, each CJK character a token), so
     * Chinese words are found as phrases of characters. Agents' views. */
    "CREATE VIRTUAL TABLE search USING fts5(who, subject, body,"
    " content='', tokenize='unicode61 remove_diacritics 2');"
    "INSERT INTO search(rowid, who, subject, body) SELECT 2 * id,"
    " peakq_fts(coalesce(from_addr, '') || ' ' || coalesce(from_name, '')),"
    " peakq_fts(subject), peakq_fts(text) FROM message;"
    "INSERT INTO search(rowid, who, subject, body) SELECT 2 * id + 1,"
    " peakq_fts(author), NULL, peakq_fts(body) FROM note;"
    "CREATE INDEX cases_order ON cases(order_id);"
    "CREATE INDEX cases_assignee ON cases(assignee, status);",
    /* 5: health: each mailbox's state and backlog, the daemon's
     * heartbeat (peakq status) */
    "ALTER TABLE mailbox ADD COLUMN state TEXT;"
    "ALTER TABLE mailbox ADD COLUMN state_at INTEGER;"
    "ALTER TABLE mailbox ADD COLUMN backlog INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE daemon(id INTEGER PRIMARY KEY CHECK(id = 1),"
    " pid INTEGER, version TEXT, started_at INTEGER, heartbeat_at INTEGER,"
    " stopped_at INTEGER, poll_interval INTEGER);",
    /* 6: costs that stay flat as the season grows. The totals the daemon
     * reports every second (STATUS, metrics, peakq status) are kept in
     * tally by triggers instead of counted over the whole store; periods
     * (report --since, list --since) find their cases by creation time;
     * the outbox's unfinished rows have their own index. tally names:
     * cases (label: category), messages, parse_errors, 'outbox KIND'
     * (label: state), ack_latency (label: bucket's upper bound in
     * seconds, or +Inf), ack_latency_sum. */
    "CREATE TABLE tally(name TEXT NOT NULL, label TEXT NOT NULL DEFAULT '',"
    " n INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(name, label)) WITHOUT ROWID;"
    "INSERT INTO tally SELECT 'cases', category, count(*) FROM cases"
    " GROUP BY category;"
    "INSERT INTO tally SELECT 'messages', '', count(*) FROM message;"
    "INSERT INTO tally SELECT 'parse_errors', '', count(*) FROM message"
    " WHERE parse_error IS NOT NULL;"
    "INSERT INTO tally SELECT 'outbox ' || kind, state, count(*) FROM outbox"
    " GROUP BY kind, state;"
    "INSERT INTO tally SELECT 'ack_latency', b.column1, (SELECT count(*)"
    " FROM cases WHERE acked_at IS NOT NULL AND (b.column1 = '+Inf' OR"
    " acked_at - created_at <= CAST(b.column1 AS INTEGER))) FROM (VALUES"
    " ('1'), ('2'), ('5'), ('10'), ('30'), ('60'), ('300'), ('3600'),"
    " ('+Inf')) b;"
    "INSERT INTO tally SELECT 'ack_latency_sum', '',"
    " coalesce(sum(acked_at - created_at), 0) FROM cases"
    " WHERE acked_at IS NOT NULL;"
    "CREATE TRIGGER tally_case_new AFTER INSERT ON cases BEGIN"
    " INSERT INTO tally VALUES('cases', new.category, 1)"
    "  ON CONFLICT(name, label) DO UPDATE SET n = n + 1;"
    " UPDATE tally SET n = n + 1 WHERE new.acked_at IS NOT NULL AND"
    "  name = 'ack_latency' AND (label = '+Inf' OR"
    "  new.acked_at - new.created_at <= CAST(label AS INTEGER));"
    " UPDATE tally SET n = n + new.acked_at - new.created_at WHERE"
    "  new.acked_at IS NOT NULL AND name = 'ack_latency_sum';"
    "END;"
    "CREATE TRIGGER tally_case_acked AFTER UPDATE OF acked_at ON cases"
    " WHEN old.acked_at IS NULL AND new.acked_at IS NOT NULL BEGIN"
    " UPDATE tally SET n = n + 1 WHERE name = 'ack_latency' AND"
    "  (label = '+Inf' OR"
    "  new.acked_at - new.created_at <= CAST(label AS INTEGER));"
    " UPDATE tally SET n = n + new.acked_at - new.created_at"
    "  WHERE name = 'ack_latency_sum';"
    "END;"
    "CREATE TRIGGER tally_case_category AFTER UPDATE OF category ON cases"
    " WHEN old.category IS NOT new.category BEGIN"
    " UPDATE tally SET n = n - 1 WHERE name = 'cases' AND"
    "  label = old.category;"
    " INSERT INTO tally VALUES('cases', new.category, 1)"
    "  ON CONFLICT(name, label) DO UPDATE SET n = n + 1;"
    "END;"
    "CREATE TRIGGER tally_message_new AFTER INSERT ON message BEGIN"
    " UPDATE tally SET n = n + 1 WHERE name = 'messages' OR"
    "  (name = 'parse_errors' AND new.parse_error IS NOT NULL);"
    "END;"
    "CREATE TRIGGER tally_outbox_new AFTER INSERT ON outbox BEGIN"
    " INSERT INTO tally VALUES('outbox ' || new.kind, new.state, 1)"
    "  ON CONFLICT(name, label) DO UPDATE SET n = n + 1;"
    "END;"
    "CREATE TRIGGER tally_outbox_state AFTER UPDATE OF state ON outbox"
    " WHEN old.state IS NOT new.state BEGIN"
    " UPDATE tally SET n = n - 1 WHERE name = 'outbox ' || old.kind AND"
    "  label = old.state;"
    " INSERT INTO tally VALUES('outbox ' || new.kind, new.state, 1)"
    "  ON CONFLICT(name, label) DO UPDATE SET n = n + 1;"
    "END;"
    /* peakq never deletes. Cases and messages are totals of what was
     * recorded (counters never go down); the outbox's states are
     * gauges, kept right if rows are deleted by hand. */
    "CREATE TRIGGER tally_outbox_gone AFTER DELETE ON outbox BEGIN"
    " UPDATE tally SET n = n - 1 WHERE name = 'outbox ' || old.kind AND"
    "  label = old.state;"
    "END;"
    "CREATE INDEX cases_created ON cases(created_at);"
    "CREATE INDEX cases_resolved ON cases(resolved_at);"
    "CREATE INDEX outbox_state ON outbox(state);"
    /* The queue's order, and its usual filters (next: nobody's; one
     * category), from the index alone, without reading the rows */
    "DROP INDEX cases_queue;"
    "CREATE INDEX cases_queue ON cases(status, escalated, due_at, priority,"
    " assignee, category);",
    /* 7: a case's messages in order from the index alone; the season
     * report reads every message's case and time from it instead of
     * from the table, where the raw messages are (2.5 GB store of
     * 200,000 cases: 0.53 -> 0.10 s) */
    "DROP INDEX message_case;"
    "CREATE INDEX message_case ON message(case_id, received_at);",
};

enum stmt_id {
	S_MAILBOX_GET,
	S_MAILBOX_ADD,
	S_MAILBOX_UIDVALIDITY,
	S_MAILBOX_LAST_UID,
	S_MAILBOX_OK,
	S_MAILBOX_ERR,
	S_MESSAGE_SEEN,
	S_CASE_BY_MID,
	S_CASE_BY_OUT_MID,
	S_CASE_BY_DUP,
	S_CASE_HAS_CUSTOMER,
	S_CASE_INSERT,
	S_CASE_FOLLOWUP_GET,
	S_CASE_REOPEN,
	S_CASE_TOUCH,
	S_MESSAGE_INSERT,
	S_EVENT_ADD,
	S_IMAP_PENDING,
	S_IMAP_DONE,
	S_OUTBOX_INSERT,
	S_OUTBOX_SET_MESSAGE,
	S_OUTBOX_DUE,
	S_OUTBOX_MARK,
	S_OUTBOX_CASE,
	S_CASE_ACKED,
	S_OUTBOX_SENDING,
	S_OUTBOX_RECOVER,
	S_CASE_GET,
	S_CASE_MESSAGES,
	S_MESSAGE_RAW,
	S_CASE_OUTBOX,
	S_CASE_EVENTS,
	S_COUNTS,
	S_ACKS_TO,
	S_CASE_BY_SENDER_ORDER,
	S_CASE_PRIO_GET,
	S_CASE_PRIO_SET,
	S_OUTBOX_STALE,
	S_OUTBOX_LIST,
	S_OUTBOX_LIST_ALL,
	S_OUTBOX_GET,
	S_OUTBOX_REQUEUE,
	S_OUTBOX_CLAIM,
	S_CASE_STATE,
	S_CASE_ASSIGN,
	S_CASE_STATUS,
	S_CASE_ESCALATE,
	S_CASE_SET_PRIO,
	S_CASE_SET_TAGS,
	S_NOTE_ADD,
	S_CASE_NOTES,
	S_FTS_ADD,
	S_FTS_ADD_READY,
	S_MAILBOX_STATE,
	S_DAEMON_BEAT,
	S_DAEMON_TOUCH,
	S_COUNT_MAX,
};

static const char *const stmt_sql[S_COUNT_MAX] = {
    [S_MAILBOX_STATE] = "UPDATE mailbox SET state = ?2, state_at = ?3,"
			" backlog = ?4 WHERE id = ?1",
    [S_DAEMON_BEAT] = "INSERT INTO daemon(id, pid, version, started_at,"
		      " heartbeat_at, stopped_at, poll_interval) VALUES(1, ?1,"
		      " ?2, ?3, ?4, CASE WHEN ?6 THEN ?4 END, ?5) ON"
		      " CONFLICT(id) DO UPDATE SET pid = ?1, version = ?2,"
		      " started_at = ?3, heartbeat_at = ?4, stopped_at = CASE"
		      " WHEN ?6 THEN ?4 END, poll_interval = ?5",
    [S_DAEMON_TOUCH] = "UPDATE daemon SET heartbeat_at = ?1 WHERE id = 1",
    [S_CASE_STATE] = "SELECT status, assignee, priority, escalated, tags"
		     " FROM cases WHERE id = ?1",
    [S_CASE_ASSIGN] = "UPDATE cases SET assignee = ?2, status = CASE WHEN"
		      " ?2 IS NOT NULL AND status = 'new' THEN 'open' ELSE"
		      " status END, updated_at = ?3 WHERE id = ?1",
    /* ?3: who takes the case if nobody has it (NULL: nobody). Reopening
     * an unclaimed case makes it new again. The first answer (pending or
     * resolved) is the first human reply. */
    [S_CASE_STATUS] = "UPDATE cases SET status = CASE WHEN ?2 = 'open' AND"
		      " coalesce(assignee, ?3) IS NULL THEN 'new' ELSE ?2 END,"
		      " assignee = coalesce(assignee, ?3), resolved_at = CASE"
		      " WHEN ?2 = 'resolved' THEN ?4 END, first_reply_at ="
		      " CASE WHEN ?2 IN ('pending','resolved') THEN"
		      " coalesce(first_reply_at, ?4) ELSE first_reply_at END,"
		      " updated_at = ?4 WHERE id = ?1",
    [S_CASE_ESCALATE] = "UPDATE cases SET escalated = ?2, updated_at = ?3"
			" WHERE id = ?1",
    [S_CASE_SET_PRIO] = "UPDATE cases SET priority = ?2, updated_at = ?3"
			" WHERE id = ?1",
    [S_CASE_SET_TAGS] = "UPDATE cases SET tags = ?2, updated_at = ?3"
			" WHERE id = ?1",
    [S_NOTE_ADD] = "INSERT INTO note(case_id, at, author, body)"
		   " VALUES(?1, ?2, ?3, ?4) RETURNING id",
    [S_CASE_NOTES] = "SELECT id, at, author, body FROM note WHERE case_id"
		     " = ?1 ORDER BY at, id",
    [S_FTS_ADD] = "INSERT INTO search(rowid, who, subject, body)"
		  " VALUES(?1, peakq_fts(?2), peakq_fts(?3), peakq_fts(?4))",
    [S_FTS_ADD_READY] = "INSERT INTO search(rowid, who, subject, body)"
			" VALUES(?1, ?2, ?3, ?4)",
    [S_ACKS_TO] = "SELECT count(*) FROM outbox WHERE rcpt = ?1 COLLATE NOCASE"
		  " AND created_at >= ?2 AND kind = 'ack' AND state IN"
		  " ('pending','sending','sent','temp_fail','uncertain')",
    [S_CASE_BY_SENDER_ORDER] = "SELECT id FROM cases WHERE customer = ?1"
			       " COLLATE NOCASE AND order_id = ?2 AND"
			       " created_at >= ?3 ORDER BY id DESC LIMIT 1",
    [S_CASE_PRIO_GET] = "SELECT priority, escalated FROM cases WHERE id = ?1",
    [S_CASE_PRIO_SET] = "UPDATE cases SET priority = ?2, escalated = ?3,"
			" updated_at = ?4 WHERE id = ?1",
    [S_OUTBOX_STALE] = "SELECT o.id FROM outbox o JOIN cases c ON c.id ="
		       " o.case_id WHERE o.state IN ('pending','temp_fail')"
		       " AND o.kind = 'ack' AND c.created_at < ?1",
    [S_OUTBOX_LIST] = "SELECT id, kind, rcpt, message_id, state, reason,"
		      " last_error, attempts, created_at, next_at, sent_at,"
		      " NULL, case_id FROM outbox WHERE state IN"
		      " ('pending','sending','temp_fail','failed','uncertain')"
		      " ORDER BY id",
    [S_OUTBOX_LIST_ALL] = "SELECT id, kind, rcpt, message_id, state, reason,"
			  " last_error, attempts, created_at, next_at,"
			  " sent_at, NULL, case_id FROM outbox ORDER BY id",
    [S_OUTBOX_GET] = "SELECT id, kind, rcpt, message_id, state, reason,"
		     " last_error, attempts, created_at, next_at, sent_at,"
		     " message, case_id FROM outbox WHERE id = ?1",
    [S_OUTBOX_CLAIM] = "UPDATE outbox SET state = 'sending', attempts = ?2"
		       " WHERE id = ?1 AND state IN ('pending','temp_fail')",
    [S_OUTBOX_REQUEUE] = "UPDATE outbox SET state = 'pending', next_at = ?2,"
			 " last_error = NULL WHERE id = ?1 AND state IN"
			 " ('temp_fail','failed','uncertain','expired')"
			 " AND message IS NOT NULL",
    [S_MAILBOX_GET] = "SELECT id, uidvalidity, last_uid FROM mailbox"
		      " WHERE account = ?1 AND name = ?2",
    [S_MAILBOX_ADD] = "INSERT INTO mailbox(account, name) VALUES(?1, ?2)"
		      " ON CONFLICT DO NOTHING",
    [S_MAILBOX_UIDVALIDITY] = "UPDATE mailbox SET uidvalidity = ?2,"
			      " last_uid = 0 WHERE id = ?1",
    [S_MAILBOX_LAST_UID] = "UPDATE mailbox SET last_uid = ?2"
			   " WHERE id = ?1 AND last_uid < ?2",
    [S_MAILBOX_OK] = "UPDATE mailbox SET last_ok_at = ?2, last_error ="
		     " NULL, state = 'ok', state_at = ?2, backlog = 0"
		     " WHERE id = ?1",
    [S_MAILBOX_ERR] = "UPDATE mailbox SET last_error = ?3, last_error_at"
		      " = ?2, state = 'error', state_at = ?2 WHERE id = ?1",
    [S_MESSAGE_SEEN] = "SELECT 1 FROM message WHERE mailbox_id = ?1"
		       " AND uidvalidity = ?2 AND uid = ?3",
    [S_CASE_BY_MID] = "SELECT case_id FROM message WHERE message_id = ?1"
		      " ORDER BY id LIMIT 1",
    [S_CASE_BY_OUT_MID] = "SELECT case_id FROM outbox WHERE message_id ="
			  " ?1 LIMIT 1",
    [S_CASE_BY_DUP] = "SELECT case_id FROM message WHERE message_id = ?1"
		      " AND body_hash = ?2 ORDER BY id LIMIT 1",
    [S_CASE_HAS_CUSTOMER] = "SELECT 1 FROM cases WHERE id = ?1 AND"
			    " customer = ?2",
    [S_CASE_INSERT] =
	"INSERT INTO cases(category, priority, rule, template,"
	" escalated, sla_hours, due_at, customer, customer_name,"
	" order_id, subject, lang, mailbox_id, created_at,"
	" updated_at, tags) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
	" ?10, ?11, ?12, ?13, ?14, ?14, ?15)",
    [S_CASE_FOLLOWUP_GET] = "SELECT status FROM cases WHERE id = ?1",
    [S_CASE_REOPEN] = "UPDATE cases SET status = CASE WHEN assignee IS"
		      " NULL THEN 'new' ELSE 'open' END, resolved_at ="
		      " NULL, updated_at = ?2 WHERE id = ?1",
    [S_CASE_TOUCH] = "UPDATE cases SET updated_at = ?2 WHERE id = ?1",
    [S_MESSAGE_INSERT] =
	"INSERT INTO message(case_id, mailbox_id, uidvalidity, uid,"
	" message_id, in_reply_to, refs, from_addr, from_name,"
	" reply_to, subject, sent_date, received_at, ingested_at,"
	" lang, order_ids, text, raw, raw_size, body_hash,"
	" parse_error) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
	" ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)"
	" ON CONFLICT DO NOTHING RETURNING id",
    [S_EVENT_ADD] = "INSERT INTO event(case_id, at, actor, kind, detail)"
		    " VALUES(?1, ?2, ?3, ?4, ?5)",
    [S_IMAP_PENDING] = "SELECT uid FROM message WHERE mailbox_id = ?1"
		       " AND uidvalidity = ?2 AND imap_done = 0"
		       " ORDER BY uid",
    [S_IMAP_DONE] = "UPDATE message SET imap_done = 1 WHERE mailbox_id ="
		    " ?1 AND uidvalidity = ?2 AND uid = ?3",
    [S_OUTBOX_INSERT] =
	"INSERT INTO outbox(case_id, kind, dedupe_key, rcpt, state,"
	" reason, created_at, next_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6,"
	" ?7, ?7) ON CONFLICT DO NOTHING RETURNING id",
    [S_OUTBOX_SET_MESSAGE] = "UPDATE outbox SET message_id = ?2, message ="
			     " ?3 WHERE id = ?1",
    [S_OUTBOX_DUE] = "SELECT id, case_id, kind, rcpt, message_id, message,"
		     " attempts, created_at FROM outbox WHERE state IN"
		     " ('pending','temp_fail') AND next_at <= ?1"
		     " AND id % ?3 = ?4 ORDER BY next_at, id LIMIT ?2",
    [S_OUTBOX_MARK] = "UPDATE outbox SET state = ?2, attempts = ?3,"
		      " next_at = ?4, last_error = ?5, sent_at = CASE"
		      " WHEN ?2 = 'sent' THEN ?6 ELSE sent_at END"
		      " WHERE id = ?1",
    [S_OUTBOX_CASE] = "SELECT case_id, kind FROM outbox WHERE id = ?1",
    [S_CASE_ACKED] = "UPDATE cases SET acked_at = ?2, updated_at = ?2"
		     " WHERE id = ?1 AND acked_at IS NULL",
    [S_OUTBOX_SENDING] = "SELECT id, case_id FROM outbox WHERE state ="
			 " 'sending'",
    [S_OUTBOX_RECOVER] = "UPDATE outbox SET state = 'uncertain',"
			 " last_error = 'the daemon stopped while"
			 " sending; not resent to avoid a duplicate'"
			 " WHERE id = ?1",
    [S_CASE_GET] = "SELECT c.id, c.status, c.category, c.priority, c.rule,"
		   " c.template, c.lang, c.escalated, c.sla_hours, c.due_at,"
		   " c.created_at, c.updated_at, c.acked_at, c.first_reply_at,"
		   " c.resolved_at, c.customer, c.customer_name, c.order_id,"
		   " c.subject, c.assignee, mb.account || '/' || mb.name,"
		   " (SELECT state FROM outbox o WHERE o.case_id = c.id AND"
		   "  o.kind = 'ack' ORDER BY o.id LIMIT 1),"
		   " (SELECT count(*) FROM message m WHERE m.case_id = c.id),"
		   " c.tags,"
		   " (SELECT detail FROM event e WHERE e.case_id = c.id AND"
		   "  e.kind = 'escalated' ORDER BY e.id DESC LIMIT 1),"
		   " (SELECT count(*) FROM note n WHERE n.case_id = c.id)"
		   " FROM cases c LEFT JOIN mailbox mb ON mb.id = c.mailbox_id"
		   " WHERE c.id = ?1",
    [S_CASE_MESSAGES] =
	"SELECT m.id, m.message_id, m.in_reply_to, m.from_addr,"
	" m.from_name, m.reply_to, m.subject, m.lang, m.text,"
	" m.parse_error, m.order_ids, mb.account || '/' || mb.name,"
	" m.sent_date, m.received_at, m.uid, m.raw_size FROM message m"
	" JOIN mailbox mb ON mb.id = m.mailbox_id WHERE m.case_id = ?1"
	" ORDER BY m.received_at, m.id",
    [S_MESSAGE_RAW] = "SELECT raw FROM message WHERE id = ?1",
    [S_CASE_OUTBOX] = "SELECT id, kind, rcpt, message_id, state, reason,"
		      " last_error, attempts, created_at, next_at,"
		      " sent_at, message, case_id FROM outbox WHERE case_id"
		      " = ?1 ORDER BY id",
    [S_CASE_EVENTS] = "SELECT id, at, actor, kind, detail FROM event"
		      " WHERE case_id = ?1 ORDER BY at, id",
    /* From the tally (migration 6): no scan however big the store. */
    [S_COUNTS] = "SELECT coalesce(sum(n) FILTER (WHERE name = 'cases'), 0),"
		 " coalesce(sum(n) FILTER (WHERE name = 'messages'), 0),"
		 " coalesce(sum(n) FILTER (WHERE name LIKE 'outbox %' AND"
		 "  label IN ('pending','sending','temp_fail')), 0),"
		 " coalesce(sum(n) FILTER (WHERE name LIKE 'outbox %' AND"
		 "  label = 'sent'), 0),"
		 " coalesce(sum(n) FILTER (WHERE name LIKE 'outbox %' AND"
		 "  label = 'failed'), 0),"
		 " coalesce(sum(n) FILTER (WHERE name LIKE 'outbox %' AND"
		 "  label = 'uncertain'), 0),"
		 " coalesce(sum(n) FILTER (WHERE name LIKE 'outbox %' AND"
		 "  label = 'suppressed'), 0),"
		 " coalesce(sum(n) FILTER (WHERE name = 'parse_errors'), 0)"
		 " FROM tally",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmts[S_COUNT_MAX];
	char *path;
	char instance[40];
	int in_tx;
	int64_t busy_since; /* mono_ms() when the current wait began */
};

static enum xerr_kind kind_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_NOMEM:
	case SQLITE_PROTOCOL:
		return XERR_TEMP;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return XERR_CONFIG;
	default:
		return XERR_BUG;
	}
}

/* SQLite failed: the store's own trouble (err->local). Returns -1. */
static int db_error(struct store *st, int rc, const char *what,
		    struct xerr *err)
{
	if ((rc & 0xff) == SQLITE_BUSY)
		xerr_set(err, XERR_TEMP,
			 "store: %s: another process kept the queue locked "
			 "for more than %d s",
			 what, BUSY_TIMEOUT_MS / 1000);
	else
		xerr_set(err, kind_of(rc), "store: %s: %s", what,
			 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
	if (err)
		err->local = 1;
	return -1;
}

static int exec(struct store *st, const char *sql, struct xerr *err)
{
	char *msg = NULL;
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);

	if ((rc & 0xff) == SQLITE_BUSY) {
		sqlite3_free(msg);
		return db_error(st, rc, sql, err);
	}
	if (rc != SQLITE_OK) {
		xerr_set(err, kind_of(rc), "store: %s",
			 msg ? msg : sqlite3_errstr(rc));
		if (err)
			err->local = 1;
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* The prepared statement id, reset and with bindings cleared. */
static sqlite3_stmt *stmt(struct store *st, enum stmt_id id, struct xerr *err)
{
	sqlite3_stmt *s = st->stmts[id];
	int rc;

	if (s) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return s;
	}
	rc = sqlite3_prepare_v3(st->db, stmt_sql[id], -1,
				SQLITE_PREPARE_PERSISTENT, &s, NULL);
	if (rc != SQLITE_OK) {
		db_error(st, rc, "prepare", err);
		return NULL;
	}
	st->stmts[id] = s;
	return s;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static void bind_opt_int(sqlite3_stmt *s, int i, int64_t v)
{
	if (v)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

static char *col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? xstrdup((const char *)t) : NULL;
}

static const char *col_str(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* Step a statement that returns no row we need. */
static int step_done(struct store *st, sqlite3_stmt *s, const char *what,
		     struct xerr *err)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		db_error(st, rc, what, err);
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);
	return 0;
}

/* Step a one-row lookup: 1 when the row is ready (the caller reads it and
 * then resets s), 0 when there is none, -1 on error (both reset s). */
static int step_row(struct store *st, sqlite3_stmt *s, const char *what,
		    struct xerr *err)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 1;
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 0;
	return db_error(st, rc, what, err);
}

/* Step a single-integer lookup: 1 with *v_r, 0 when no row, -1. */
static int step_int(struct store *st, sqlite3_stmt *s, const char *what,
		    int64_t *v_r, struct xerr *err)
{
	int rc = sqlite3_step(s), ret;

	if (rc == SQLITE_ROW) {
		if (v_r)
			*v_r = sqlite3_column_int64(s, 0);
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		ret = db_error(st, rc, what, err);
	}
	sqlite3_reset(s);
	return ret;
}

static int fts_add(struct store *st, int which, int64_t rowid, const char *who,
		   const char *subject, const char *body, struct xerr *err);

void store_fts_text(const char *s, size_t n, struct buf *out)
{
	struct buf norm;
	size_t i = 0;

	buf_init(&norm, 3 * n + 16);
	if (match_normalize(s, n, &norm) < 0)
		buf_reset(&norm); /* cannot happen: norm holds 3n */
	while (i < norm.len) {
		unsigned cp;
		size_t k = text_utf8_decode(norm.data + i, norm.len - i, &cp);
		int sep = cp >= 0x2e80 && !match_is_word_cp(cp);
		if (k == 0)
			k = 1;
		if ((sep && buf_addc(out, ' ') < 0) ||
		    buf_add(out, norm.data + i, k) < 0 ||
		    (sep && buf_addc(out, ' ') < 0))
			break;
		i += k;
	}
	buf_release(&norm);
}

char *store_fts_string(const char *s, size_t n, size_t *len_r)
{
	struct buf out;

	/* Folding may triple a character and spacing CJK doubles that. */
	buf_init(&out, 6 * n + 16);
	store_fts_text(s, n, &out);
	return buf_detach(&out, len_r);
}

/* SQL peakq_fts(text): store_fts_text() for the search index. */
static void sql_fts(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *t = (const char *)sqlite3_value_text(argv[0]);
	size_t n;
	char *f;

	(void)argc;
	if (!t) {
		sqlite3_result_null(ctx);
		return;
	}
	f = store_fts_string(t, (size_t)sqlite3_value_bytes(argv[0]), &n);
	sqlite3_result_text(ctx, f, (int)n, free);
}

static int migrate(struct store *st, int readonly, struct xerr *err)
{
	sqlite3_stmt *s = NULL;
	int version, target = (int)(sizeof(migrations) / sizeof(*migrations));
	int rc;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_error(st, rc, "read schema version", err);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(s);
		return db_error(st, rc, "read schema version", err);
	}
	version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (version > target)
		return xerr_set(err, XERR_CONFIG,
				"store: '%s' has schema version %d, newer than "
				"this peakq (%d): upgrade peakq",
				st->path, version, target);
	if (version == target)
		return 0;
	if (readonly)
		return xerr_set(err, XERR_TEMP,
				"store: '%s' needs migrating to schema %d; "
				"start peakqd once",
				st->path, target);
	if (store_begin(st, err) < 0)
		return -1;
	/* Re-read inside the write lock: another process may have migrated. */
	rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
	if (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	for (; version < target; version++) {
		char pragma[64];
		if (exec(st, migrations[version], err) < 0) {
			xerr_prefix(err, "migrating to schema %d", version + 1);
			goto fail;
		}
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
			 version + 1);
		if (exec(st, pragma, err) < 0)
			goto fail;
		if (version == 0) {
			unsigned char rnd[12];
			char sql[160];
			sqlite3_randomness(sizeof(rnd), rnd);
			int off = 0;
			char hex[25];
			for (size_t i = 0; i < sizeof(rnd); i++)
				off += snprintf(hex + off, sizeof(hex) - off,
						"%02x", rnd[i]);
			snprintf(sql, sizeof(sql),
				 "INSERT INTO meta VALUES('instance', '%s')",
				 hex);
			if (exec(st, sql, err) < 0)
				goto fail;
		}
	}
	return store_commit(st, err);
fail:
	store_rollback(st);
	return -1;
}

static int load_instance(struct store *st, struct xerr *err)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(st->db,
				"SELECT value FROM meta WHERE key = 'instance'",
				-1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_error(st, rc, "read instance", err);
	if (sqlite3_step(s) == SQLITE_ROW && col_str(s, 0))
		snprintf(st->instance, sizeof(st->instance), "%s",
			 col_str(s, 0));
	sqlite3_finalize(s);
	if (!st->instance[0])
		return xerr_set(err, XERR_CONFIG,
				"store: '%s' has no instance token", st->path);
	return 0;
}

/* SQLite's own busy timeout sleeps 1, 2, 5, 10, 15, 20, 25... ms between
 * tries: a writer that finds the daemon's other thread in a 2 ms commit
 * often sleeps 8 ms or more, which halved ingestion while acknowledgements
 * were being sent. Try again every 0.2 ms for the first 20 ms, then every
 * 2 ms, up to BUSY_TIMEOUT_MS in all. */
static int busy_wait(void *ctx, int n)
{
	struct store *st = ctx;
	int64_t now = mono_ms();

	if (n == 0)
		st->busy_since = now;
	if (now - st->busy_since >= BUSY_TIMEOUT_MS)
		return 0;
	usleep(now - st->busy_since < 20 ? 200 : 2000);
	return 1;
}

/* When path cannot be written because its file system is read-only, say
 * that (SQLite only says "unable to open database file"). Returns 1 when
 * err was set so. */
static int why_unwritable(const char *path, struct xerr *err)
{
	struct statvfs sv;
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int r = 0;

	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if (statvfs(slash ? dir : ".", &sv) == 0 && (sv.f_flag & ST_RDONLY)) {
		xerr_set(err, XERR_TEMP,
			 "store: '%s' is on a read-only file system", path);
		r = 1;
	}
	free(dir);
	return r;
}

int store_open(const char *path, unsigned flags, struct store **st_r,
	       struct xerr *err)
{
	struct store *st = xcalloc(1, sizeof(*st));
	int rc, oflags, ret = -1;
	int readonly = (flags & STORE_READONLY) != 0;

	st->path = xstrdup(path);
	if (!(flags & STORE_CREATE) && access(path, F_OK) < 0) {
		if (errno == EACCES)
			goto denied;
		xerr_set(err, XERR_CONFIG,
			 "store: '%s' does not exist (peakqd creates it on "
			 "first start)",
			 path);
		goto out;
	}
	if (!(flags & STORE_CREATE) && access(path, R_OK | W_OK) < 0 &&
	    errno == EACCES)
		goto denied;
	oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	if (flags & STORE_CREATE) {
		/* Created 0600 (the queue holds customers' mail), or 0660
		 * for agents in its group (store_mode). Only the main thread
		 * creates it, before any other runs: umask is per process. */
		mode_t old = umask((flags & STORE_GROUP) ? 007 : 077);
		oflags |= SQLITE_OPEN_CREATE;
		rc = sqlite3_open_v2(path, &st->db, oflags, NULL);
		umask(old);
	} else {
		rc = sqlite3_open_v2(path, &st->db, oflags, NULL);
	}
	if (rc != SQLITE_OK) {
		if (!why_unwritable(path, err))
			xerr_set(err, kind_of(rc),
				 "store: cannot open '%s': %s", path,
				 st->db ? sqlite3_errmsg(st->db)
					: sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_handler(st->db, busy_wait, st);
	if (exec(st, "PRAGMA foreign_keys = ON", err) < 0)
		goto out;
	if (!readonly && exec(st, "PRAGMA journal_mode = WAL", err) < 0) {
		if (!why_unwritable(path, err))
			xerr_prefix(err, "cannot open '%s'", path);
		goto out;
	}
	if (exec(st, "PRAGMA synchronous = FULL", err) < 0)
		goto out;
	if ((flags & STORE_SMALL) &&
	    exec(st, "PRAGMA cache_size = -256", err) < 0)
		goto out;
	rc = sqlite3_create_function(st->db, "peakq_fts", 1,
				     SQLITE_UTF8 | SQLITE_DETERMINISTIC |
					 SQLITE_INNOCUOUS,
				     NULL, sql_fts, NULL, NULL);
	if (rc != SQLITE_OK) {
		db_error(st, rc, "register peakq_fts", err);
		goto out;
	}
	if (migrate(st, readonly, err) < 0)
		goto out;
	if (load_instance(st, err) < 0)
		goto out;
	*st_r = st;
	st = NULL;
	ret = 0;
	goto out;
denied:
	xerr_set(err, XERR_CONFIG,
		 "store: '%s': permission denied (agents need to be in the "
		 "group of the store and its folder, and peakq.yaml needs "
		 "store_mode: 0660; see peakq.yaml(5))",
		 path);
out:
	store_close(&st);
	if (ret < 0 && err)
		err->local = 1; /* whatever the reason, it is not a server's */
	return ret;
}

int store_set_mode(const char *path, unsigned mode, struct xerr *err)
{
	static const char *const suffix[] = {"", "-wal", "-shm"};
	int changed = 0;

	for (size_t i = 0; i < ARRAY_SIZE(suffix); i++) {
		char *p = xasprintf("%s%s", path, suffix[i]);
		struct stat sb;
		int r = 0;

		if (stat(p, &sb) == 0 && (sb.st_mode & 07777) != mode) {
			if (sb.st_uid != geteuid())
				r = xerr_set(err, XERR_CONFIG,
					     "store: '%s' has mode %04o and "
					     "belongs to uid %u, not to us: "
					     "cannot give it mode %04o",
					     p, (unsigned)(sb.st_mode & 07777),
					     (unsigned)sb.st_uid, mode);
			else if (chmod(p, mode) < 0)
				r = xerr_set(err, XERR_CONFIG,
					     "store: chmod %04o '%s': %s", mode,
					     p, strerror(errno));
			else
				changed = 1;
		}
		free(p);
		if (r < 0)
			return -1;
	}
	return changed;
}

void store_close(struct store **stp)
{
	struct store *st = *stp;

	if (!st)
		return;
	for (int i = 0; i < S_COUNT_MAX; i++)
		sqlite3_finalize(st->stmts[i]);
	sqlite3_close(st->db);
	free(st->path);
	free(st);
	*stp = NULL;
}

int store_begin(struct store *st, struct xerr *err)
{
	if (exec(st, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	st->in_tx = 1;
	return 0;
}

int store_commit(struct store *st, struct xerr *err)
{
	if (exec(st, "COMMIT", err) < 0) {
		store_rollback(st);
		return -1;
	}
	st->in_tx = 0;
	return 0;
}

void store_rollback(struct store *st)
{
	if (sqlite3_get_autocommit(st->db) == 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_tx = 0;
}

const char *store_instance(const struct store *st)
{
	return st->instance;
}

char *store_message_id(const struct store *st, const char *kind, int64_t row,
		       const char *from_addr)
{
	const char *at = from_addr ? strrchr(from_addr, '@') : NULL;

	return xasprintf("peakq-%s-%lld.%s@%s", kind, (long long)row,
			 st->instance, at ? at + 1 : "localhost");
}

int store_schema_version(struct store *st)
{
	sqlite3_stmt *s = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) ==
		SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* ---------------------------------------------------------------- mailboxes */

int store_mailbox_get(struct store *st, const char *account, const char *name,
		      struct store_mailbox *mb_r, struct xerr *err)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		sqlite3_stmt *s = stmt(st, S_MAILBOX_GET, err);
		int rc;
		if (!s)
			return -1;
		bind_text(s, 1, account);
		bind_text(s, 2, name);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			mb_r->id = sqlite3_column_int64(s, 0);
			mb_r->uidvalidity =
			    (uint32_t)sqlite3_column_int64(s, 1);
			mb_r->last_uid = (uint32_t)sqlite3_column_int64(s, 2);
			sqlite3_reset(s);
			return 0;
		}
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return db_error(st, rc, "read mailbox", err);
		if (!(s = stmt(st, S_MAILBOX_ADD, err)))
			return -1;
		bind_text(s, 1, account);
		bind_text(s, 2, name);
		if (step_done(st, s, "add mailbox", err) < 0)
			return -1;
	}
	return xerr_set(err, XERR_BUG, "store: mailbox row vanished");
}

int store_mailbox_set_uidvalidity(struct store *st, int64_t id,
				  uint32_t uidvalidity, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_MAILBOX_UIDVALIDITY, err);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, uidvalidity);
	return step_done(st, s, "set uidvalidity", err);
}

int store_mailbox_set_last_uid(struct store *st, int64_t id, uint32_t uid,
			       struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_MAILBOX_LAST_UID, err);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, uid);
	return step_done(st, s, "set last uid", err);
}

int store_mailbox_health(struct store *st, int64_t id, int64_t at,
			 const char *error, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, error ? S_MAILBOX_ERR : S_MAILBOX_OK, err);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, at);
	if (error)
		bind_text(s, 3, error);
	return step_done(st, s, "record mailbox health", err);
}

/* ---------------------------------------------------------------- ingest */

int store_message_seen(struct store *st, int64_t mailbox_id,
		       uint32_t uidvalidity, uint32_t uid, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_MESSAGE_SEEN, err);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, mailbox_id);
	sqlite3_bind_int64(s, 2, uidvalidity);
	sqlite3_bind_int64(s, 3, uid);
	return step_int(st, s, "look up message", NULL, err);
}

int store_case_by_message_id(struct store *st, const char *message_id,
			     int64_t *case_id_r, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_CASE_BY_MID, err);
	int r;

	if (!s)
		return -1;
	bind_text(s, 1, message_id);
	r = step_int(st, s, "look up message-id", case_id_r, err);
	if (r != 0)
		return r;
	if (!(s = stmt(st, S_CASE_BY_OUT_MID, err)))
		return -1;
	bind_text(s, 1, message_id);
	return step_int(st, s, "look up message-id", case_id_r, err);
}

int store_case_by_duplicate(struct store *st, const char *message_id,
			    const char *body_hash, int64_t *case_id_r,
			    struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_CASE_BY_DUP, err);

	if (!s)
		return -1;
	bind_text(s, 1, message_id);
	bind_text(s, 2, body_hash);
	return step_int(st, s, "look up duplicate", case_id_r, err);
}

int store_case_has_customer(struct store *st, int64_t case_id,
			    const char *customer, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_CASE_HAS_CUSTOMER, err);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, case_id);
	bind_text(s, 2, customer);
	return step_int(st, s, "look up case", NULL, err);
}

int store_case_insert(struct store *st, const struct store_case_new *c,
		      int64_t *id_r, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_CASE_INSERT, err);

	if (!s)
		return -1;
	bind_text(s, 1, c->category);
	bind_text(s, 2, c->priority);
	bind_text(s, 3, c->rule);
	bind_text(s, 4, c->tmpl);
	sqlite3_bind_int(s, 5, c->escalate ? 1 : 0);
	sqlite3_bind_int(s, 6, c->sla_hours);
	sqlite3_bind_int64(s, 7, c->received_at + (int64_t)c->sla_hours * 3600);
	bind_text(s, 8, c->customer);
	bind_text(s, 9, c->customer_name);
	bind_text(s, 10, c->order_id);
	bind_text(s, 11, c->subject);
	bind_text(s, 12, c->lang);
	bind_opt_int(s, 13, c->mailbox_id);
	sqlite3_bind_int64(s, 14, c->received_at);
	bind_text(s, 15, c->tags && *c->tags ? c->tags : NULL);
	if (step_done(st, s, "insert case", err) < 0)
		return -1;
	*id_r = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int store_case_followup(struct store *st, int64_t case_id, int64_t at,
			int *reopened_r, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_CASE_FOLLOWUP_GET, err);
	int rc, resolved;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, case_id);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		if (rc == SQLITE_DONE)
			return xerr_set(err, XERR_BUG, "store: no case %lld",
					(long long)case_id);
		return db_error(st, rc, "read case", err);
	}
	resolved = strcmp(col_str(s, 0), "resolved") == 0  ? 1
		   : strcmp(col_str(s, 0), "pending") == 0 ? 2
							   : 0;
	sqlite3_reset(s);
	if (!(s = stmt(st, resolved ? S_CASE_REOPEN : S_CASE_TOUCH, err)))
		return -1;
	sqlite3_bind_int64(s, 1, case_id);
	sqlite3_bind_int64(s, 2, at);
	*reopened_r = resolved;
	return step_done(st, s, "update case", err);
}

int store_message_insert(struct store *st, const struct store_message_new *m,
			 int64_t *id_r, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_MESSAGE_INSERT, err);
	int64_t mid = 0;
	int ret;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, m->case_id);
	sqlite3_bind_int64(s, 2, m->mailbox_id);
	sqlite3_bind_int64(s, 3, m->uidvalidity);
	sqlite3_bind_int64(s, 4, m->uid);
	bind_text(s, 5, m->message_id);
	bind_text(s, 6, m->in_reply_to);
	bind_text(s, 7, m->refs);
	bind_text(s, 8, m->from_addr);
	bind_text(s, 9, m->from_name);
	bind_text(s, 10, m->reply_to);
	bind_text(s, 11, m->subject);
	bind_opt_int(s, 12, m->sent_date);
	sqlite3_bind_int64(s, 13, m->received_at);
	sqlite3_bind_int64(s, 14, now_s());
	bind_text(s, 15, m->lang);
	bind_text(s, 16, m->order_ids);
	bind_text(s, 17, m->text);
	sqlite3_bind_blob64(s, 18, m->raw ? m->raw : "",
			    (sqlite3_uint64)m->raw_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 19, (int64_t)m->raw_len);
	bind_text(s, 20, m->body_hash);
	bind_text(s, 21, m->parse_error);
	ret = step_int(st, s, "insert message", &mid, err);
	if (id_r)
		*id_r = mid;
	/* The raw blob was bound STATIC: drop the reference now. */
	sqlite3_clear_bindings(s);
	if (ret == 1 && !m->search_later) {
		char *who = xasprintf("%s %s", m->from_addr ? m->from_addr : "",
				      m->from_name ? m->from_name : "");
		int r = fts_add(st, S_FTS_ADD, 2 * mid, who, m->subject,
				m->text, err);
		free(who);
		if (r < 0)
			return -1;
	}
	return ret;
}

int store_message_search(struct store *st, int64_t id, const char *who,
			 const char *subject, const char *text,
			 struct xerr *err)
{
	return fts_add(st, S_FTS_ADD_READY, 2 * id, who, subject, text, err);
}

int store_event_add(struct store *st, int64_t case_id, int64_t at,
		    const char *actor, const char *kind, const char *detail,
		    struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_EVENT_ADD, err);

	if (!s)
		return -1;
	bind_opt_int(s, 1, case_id);
	sqlite3_bind_int64(s, 2, at);
	bind_text(s, 3, actor);
	bind_text(s, 4, kind);
	bind_text(s, 5, detail);
	return step_done(st, s, "add event", err);
}

int store_imap_pending(struct store *st, int64_t mailbox_id,
		       uint32_t uidvalidity, uint32_t **uids_r, size_t *n_r,
		       struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_IMAP_PENDING, err);
	uint32_t *uids = NULL;
	size_t n = 0;
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, mailbox_id);
	sqlite3_bind_int64(s, 2, uidvalidity);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		uids = xreallocarray(uids, n + 1, sizeof(*uids));
		uids[n++] = (uint32_t)sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		free(uids);
		return db_error(st, rc, "list unflagged messages", err);
	}
	*uids_r = uids;
	*n_r = n;
	return 0;
}

int store_imap_done(struct store *st, int64_t mailbox_id, uint32_t uidvalidity,
		    const uint32_t *uids, size_t n, struct xerr *err)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *s = stmt(st, S_IMAP_DONE, err);
		if (!s)
			return -1;
		sqlite3_bind_int64(s, 1, mailbox_id);
		sqlite3_bind_int64(s, 2, uidvalidity);
		sqlite3_bind_int64(s, 3, uids[i]);
		if (step_done(st, s, "mark flagged", err) < 0)
			return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- outbox */

static const char *const state_names[] = {
    [OUTBOX_PENDING] = "pending",
    [OUTBOX_SENDING] = "sending",
    [OUTBOX_SENT] = "sent",
    [OUTBOX_TEMP_FAIL] = "temp_fail",
    [OUTBOX_FAILED] = "failed",
    [OUTBOX_UNCERTAIN] = "uncertain",
    [OUTBOX_SUPPRESSED] = "suppressed",
    [OUTBOX_EXPIRED] = "expired",
};

const char *store_outbox_state_name(enum store_outbox_state s)
{
	return state_names[s];
}

int store_outbox_insert(struct store *st, const struct store_outbox_new *o,
			int64_t *id_r, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_OUTBOX_INSERT, err);
	int ret;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, o->case_id);
	bind_text(s, 2, o->kind);
	bind_text(s, 3, o->dedupe_key);
	bind_text(s, 4, o->rcpt);
	bind_text(s, 5, state_names[o->state]);
	bind_text(s, 6, o->reason);
	sqlite3_bind_int64(s, 7, o->created_at);
	ret = step_int(st, s, "insert outbox row", id_r, err);
	return ret;
}

int store_outbox_set_message(struct store *st, int64_t id,
			     const char *message_id, const char *data,
			     size_t len, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_OUTBOX_SET_MESSAGE, err);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, message_id);
	sqlite3_bind_blob64(s, 3, data, (sqlite3_uint64)len, SQLITE_TRANSIENT);
	return step_done(st, s, "store rendered message", err);
}

void store_outbox_row_release(struct store_outbox_row *r)
{
	free(r->kind);
	free(r->rcpt);
	free(r->message_id);
	free(r->data);
	memset(r, 0, sizeof(*r));
}

int store_outbox_due(struct store *st, int64_t now, size_t max, int nparts,
		     int part, struct store_outbox_row **rows_r, size_t *n_r,
		     struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_OUTBOX_DUE, err);
	struct store_outbox_row *rows = NULL;
	size_t n = 0;
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, (int64_t)max);
	sqlite3_bind_int(s, 3, nparts > 0 ? nparts : 1);
	sqlite3_bind_int(s, 4, nparts > 0 ? part : 0);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_outbox_row *r;
		const void *blob;
		rows = xreallocarray(rows, n + 1, sizeof(*rows));
		r = &rows[n++];
		memset(r, 0, sizeof(*r));
		r->id = sqlite3_column_int64(s, 0);
		r->case_id = sqlite3_column_int64(s, 1);
		r->kind = col_dup(s, 2);
		r->rcpt = col_dup(s, 3);
		r->message_id = col_dup(s, 4);
		blob = sqlite3_column_blob(s, 5);
		r->len = (size_t)sqlite3_column_bytes(s, 5);
		r->data = xmalloc(r->len + 1);
		if (r->len)
			memcpy(r->data, blob, r->len);
		r->data[r->len] = '\0';
		r->attempts = sqlite3_column_int(s, 6);
		r->created_at = sqlite3_column_int64(s, 7);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		for (size_t i = 0; i < n; i++)
			store_outbox_row_release(&rows[i]);
		free(rows);
		return db_error(st, rc, "list due outbox rows", err);
	}
	*rows_r = rows;
	*n_r = n;
	return 0;
}

int store_outbox_mark(struct store *st, int64_t id,
		      enum store_outbox_state state, int64_t at, int attempts,
		      int64_t next_at, const char *last_error, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_OUTBOX_MARK, err);
	int64_t case_id;
	char *kind = NULL, *ev = NULL;
	int rc, ret = -1;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, state_names[state]);
	sqlite3_bind_int(s, 3, attempts);
	bind_opt_int(s, 4, next_at);
	bind_text(s, 5, last_error);
	sqlite3_bind_int64(s, 6, at);
	if (step_done(st, s, "update outbox row", err) < 0)
		return -1;
	if (state == OUTBOX_SENDING)
		return 0; /* not an event: the result of the attempt is */
	if (!(s = stmt(st, S_OUTBOX_CASE, err)))
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return db_error(st, rc, "read outbox row", err);
	}
	case_id = sqlite3_column_int64(s, 0);
	kind = col_dup(s, 1);
	sqlite3_reset(s);
	if (state == OUTBOX_SENT && strcmp(kind, "ack") == 0) {
		if (!(s = stmt(st, S_CASE_ACKED, err)))
			goto out;
		sqlite3_bind_int64(s, 1, case_id);
		sqlite3_bind_int64(s, 2, at);
		if (step_done(st, s, "mark case acknowledged", err) < 0)
			goto out;
	}
	ev = xasprintf("%s_%s", kind, state_names[state]);
	if (store_event_add(st, case_id, at, "peakqd", ev, last_error, err) < 0)
		goto out;
	ret = 0;
out:
	free(kind);
	free(ev);
	return ret;
}

int store_outbox_recover(struct store *st, int64_t now, int *n_r,
			 struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_OUTBOX_SENDING, err);
	int64_t *ids = NULL, *cases = NULL;
	size_t n = 0;
	int rc, ret = -1;

	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ids = xreallocarray(ids, n + 1, sizeof(*ids));
		cases = xreallocarray(cases, n + 1, sizeof(*cases));
		ids[n] = sqlite3_column_int64(s, 0);
		cases[n++] = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		db_error(st, rc, "list rows being sent", err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!(s = stmt(st, S_OUTBOX_RECOVER, err)))
			goto out;
		sqlite3_bind_int64(s, 1, ids[i]);
		if (step_done(st, s, "mark uncertain", err) < 0)
			goto out;
		if (store_event_add(
			st, cases[i], now, "peakqd", "ack_uncertain",
			"daemon stopped during SMTP; not resent", err) < 0)
			goto out;
	}
	*n_r = (int)n;
	ret = 0;
out:
	free(ids);
	free(cases);
	return ret;
}

/* ---------------------------------------------------------------- reading */

void store_case_release(struct store_case *c)
{
	free(c->status);
	free(c->category);
	free(c->priority);
	free(c->rule);
	free(c->tmpl);
	free(c->lang);
	free(c->customer);
	free(c->customer_name);
	free(c->order_id);
	free(c->subject);
	free(c->assignee);
	free(c->mailbox);
	free(c->ack_state);
	free(c->tags);
	free(c->escalation);
	memset(c, 0, sizeof(*c));
}

static void read_case(sqlite3_stmt *s, struct store_case *c)
{
	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(s, 0);
	c->status = col_dup(s, 1);
	c->category = col_dup(s, 2);
	c->priority = col_dup(s, 3);
	c->rule = col_dup(s, 4);
	c->tmpl = col_dup(s, 5);
	c->lang = col_dup(s, 6);
	c->escalated = sqlite3_column_int(s, 7);
	c->sla_hours = sqlite3_column_int(s, 8);
	c->due_at = sqlite3_column_int64(s, 9);
	c->created_at = sqlite3_column_int64(s, 10);
	c->updated_at = sqlite3_column_int64(s, 11);
	c->acked_at = sqlite3_column_int64(s, 12);
	c->first_reply_at = sqlite3_column_int64(s, 13);
	c->resolved_at = sqlite3_column_int64(s, 14);
	c->customer = col_dup(s, 15);
	c->customer_name = col_dup(s, 16);
	c->order_id = col_dup(s, 17);
	c->subject = col_dup(s, 18);
	c->assignee = col_dup(s, 19);
	c->mailbox = col_dup(s, 20);
	c->ack_state = col_dup(s, 21);
	c->nmessages = sqlite3_column_int(s, 22);
	c->tags = col_dup(s, 23);
	c->escalation = col_dup(s, 24);
	c->nnotes = sqlite3_column_int(s, 25);
}

/* The queue's SQL for filter f: only the filter's own conditions, so that
 * SQLite can take the cases from an index (open ones by status, an
 * agent's by assignee, recent ones by creation time) and never reads the
 * season's resolved cases unless asked to (--all, --status resolved). The
 * inner query orders and limits the case ids; the columns, with their
 * per-case subqueries, are read for those cases only. Values are always
 * bound (?1..?14), never pasted. */
static void case_list_sql(const struct store_filter *f, struct buf *b)
{
	const char *base = stmt_sql[S_CASE_GET];
	const char *from = strstr(base, " FROM cases c");
	const char *and = " WHERE ";

	(void)!buf_add(b, base, (size_t)(from - base));
	(void)!buf_adds(b, " FROM (SELECT c.id AS qid, c.escalated AS k1,"
			   " (c.due_at < ?3 AND c.status IN ('new','open'))"
			   " AS k2, CASE c.priority WHEN 'urgent' THEN 0"
			   " WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3"
			   " END AS k3, c.due_at AS k4 FROM cases c");
#define COND(c)                                                                \
	do {                                                                   \
		(void)!buf_adds(b, and);                                       \
		(void)!buf_adds(b, c);                                         \
		and = " AND ";                                                 \
	} while (0)
	/* With --since the recent cases come by creation time: the unary +
	 * keeps SQLite from taking the status index instead. */
	if (f->status)
		COND(f->since ? "+c.status = ?1" : "c.status = ?1");
	else if (f->workable || f->overdue)
		COND(f->since ? "+c.status IN ('new','open')"
			      : "c.status IN ('new','open')");
	else if (!f->all)
		COND(f->since ? "+c.status IN ('new','open','pending')"
			      : "c.status IN ('new','open','pending')");
	if (f->category)
		COND("c.category = ?5");
	if (f->priority)
		COND("c.priority = ?6");
	if (f->assignee)
		COND("c.assignee = ?7");
	if (f->unassigned)
		COND("c.assignee IS NULL");
	if (f->overdue) /* new or open past due */
		COND(f->status ? "c.due_at < ?3 AND c.status IN ('new','open')"
			       : "c.due_at < ?3");
	if (f->due_before)
		COND("c.due_at <= ?10");
	if (f->mailbox)
		COND("c.mailbox_id IN (SELECT id FROM mailbox WHERE"
		     " account = ?11 OR account || '/' || name = ?11)");
	if (f->since)
		COND("c.created_at >= ?12");
	if (f->escalated)
		COND("c.escalated");
	if (f->workable && f->status)
		COND("c.status IN ('new','open')");
#undef COND
	(void)!buf_adds(b, " ORDER BY k1 DESC, k2 DESC, k3, k4, qid LIMIT ?4) q"
			   " JOIN cases c ON c.id = q.qid"
			   " LEFT JOIN mailbox mb ON mb.id = c.mailbox_id"
			   " ORDER BY q.k1 DESC, q.k2 DESC, q.k3, q.k4, q.qid");
}

int store_case_list(struct store *st, const struct store_filter *f, int64_t now,
		    int (*cb)(const struct store_case *c, void *ctx), void *ctx,
		    struct xerr *err)
{
	struct buf sql;
	sqlite3_stmt *s = NULL;
	struct store_case c;
	int rc, ret = -1;

	buf_init(&sql, 64 * 1024);
	case_list_sql(f, &sql);
	rc = sqlite3_prepare_v2(st->db, buf_str(&sql), -1, &s, NULL);
	buf_release(&sql);
	if (rc != SQLITE_OK)
		return db_error(st, rc, "prepare list", err);
	/* Only the parameters case_list_sql() wrote. */
	sqlite3_bind_int64(s, 3, now);
	sqlite3_bind_int64(s, 4, f->limit ? (int64_t)f->limit : -1);
	if (f->status)
		bind_text(s, 1, f->status);
	if (f->category)
		bind_text(s, 5, f->category);
	if (f->priority)
		bind_text(s, 6, f->priority);
	if (f->assignee)
		bind_text(s, 7, f->assignee);
	if (f->due_before)
		sqlite3_bind_int64(s, 10, f->due_before);
	if (f->mailbox)
		bind_text(s, 11, f->mailbox);
	if (f->since)
		sqlite3_bind_int64(s, 12, f->since);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int stop;
		read_case(s, &c);
		stop = cb(&c, ctx);
		store_case_release(&c);
		if (stop)
			break;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		db_error(st, rc, "list cases", err);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

int store_case_get(struct store *st, int64_t id, struct store_case *c_r,
		   struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_CASE_GET, err);
	int r;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if ((r = step_row(st, s, "read case", err)) == 1) {
		read_case(s, c_r);
		sqlite3_reset(s);
	}
	return r;
}

int store_case_messages(struct store *st, int64_t case_id,
			int (*cb)(const struct store_message_row *m, void *ctx),
			void *ctx, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_CASE_MESSAGES, err);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, case_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_message_row m = {
		    .id = sqlite3_column_int64(s, 0),
		    .message_id = col_str(s, 1),
		    .in_reply_to = col_str(s, 2),
		    .from_addr = col_str(s, 3),
		    .from_name = col_str(s, 4),
		    .reply_to = col_str(s, 5),
		    .subject = col_str(s, 6),
		    .lang = col_str(s, 7),
		    .text = col_str(s, 8),
		    .parse_error = col_str(s, 9),
		    .order_ids = col_str(s, 10),
		    .mailbox = col_str(s, 11),
		    .sent_date = sqlite3_column_int64(s, 12),
		    .received_at = sqlite3_column_int64(s, 13),
		    .uid = (uint32_t)sqlite3_column_int64(s, 14),
		    .raw_size = (size_t)sqlite3_column_int64(s, 15),
		};
		if (cb(&m, ctx))
			break;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_error(st, rc, "read messages", err);
	return 0;
}

int store_message_raw(struct store *st, int64_t id, char **raw_r, size_t *len_r,
		      struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_MESSAGE_RAW, err);
	int r;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if ((r = step_row(st, s, "read raw message", err)) == 1) {
		size_t n = (size_t)sqlite3_column_bytes(s, 0);
		char *raw = xmalloc(n + 1);
		if (n)
			memcpy(raw, sqlite3_column_blob(s, 0), n);
		raw[n] = '\0';
		*raw_r = raw;
		*len_r = n;
		sqlite3_reset(s);
	}
	return r;
}

/* Step statement s (the 13 outbox columns) calling cb for each row. */
static int outbox_rows(struct store *st, sqlite3_stmt *s,
		       int (*cb)(const struct store_outbox_info *o, void *ctx),
		       void *ctx, struct xerr *err)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_outbox_info o = {
		    .id = sqlite3_column_int64(s, 0),
		    .kind = col_str(s, 1),
		    .rcpt = col_str(s, 2),
		    .message_id = col_str(s, 3),
		    .state = col_str(s, 4),
		    .reason = col_str(s, 5),
		    .last_error = col_str(s, 6),
		    .attempts = sqlite3_column_int(s, 7),
		    .created_at = sqlite3_column_int64(s, 8),
		    .next_at = sqlite3_column_int64(s, 9),
		    .sent_at = sqlite3_column_int64(s, 10),
		    .data = sqlite3_column_blob(s, 11),
		    .len = (size_t)sqlite3_column_bytes(s, 11),
		    .case_id = sqlite3_column_int64(s, 12),
		};
		if (cb(&o, ctx))
			break;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_error(st, rc, "read outbox", err);
	return 0;
}

int store_case_outbox(struct store *st, int64_t case_id,
		      int (*cb)(const struct store_outbox_info *o, void *ctx),
		      void *ctx, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_CASE_OUTBOX, err);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, case_id);
	return outbox_rows(st, s, cb, ctx, err);
}

int store_outbox_list(struct store *st, int all,
		      int (*cb)(const struct store_outbox_info *o, void *ctx),
		      void *ctx, struct xerr *err)
{
	sqlite3_stmt *s =
	    stmt(st, all ? S_OUTBOX_LIST_ALL : S_OUTBOX_LIST, err);

	if (!s)
		return -1;
	return outbox_rows(st, s, cb, ctx, err);
}

struct one_row {
	int found;
	int (*cb)(const struct store_outbox_info *o, void *ctx);
	void *ctx;
};

static int one_row_cb(const struct store_outbox_info *o, void *vctx)
{
	struct one_row *r = vctx;

	r->found = 1;
	r->cb(o, r->ctx);
	return 1;
}

int store_outbox_get(struct store *st, int64_t id,
		     int (*cb)(const struct store_outbox_info *o, void *ctx),
		     void *ctx, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_OUTBOX_GET, err);
	struct one_row r = {.cb = cb, .ctx = ctx};

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (outbox_rows(st, s, one_row_cb, &r, err) < 0)
		return -1;
	return r.found;
}

int store_outbox_claim(struct store *st, int64_t id, int attempts,
		       struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_OUTBOX_CLAIM, err);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, attempts);
	if (step_done(st, s, "claim outbox row", err) < 0)
		return -1;
	return sqlite3_changes(st->db) == 1;
}

int store_outbox_requeue(struct store *st, int64_t id, int64_t at,
			 const char *actor, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_OUTBOX_REQUEUE, err);
	int64_t case_id = 0;
	int r;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, at);
	if (step_done(st, s, "requeue outbox row", err) < 0)
		return -1;
	if (sqlite3_changes(st->db) == 0)
		return 0;
	if (!(s = stmt(st, S_OUTBOX_CASE, err)))
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if ((r = step_int(st, s, "read outbox row", &case_id, err)) <= 0)
		return r < 0 ? -1 : xerr_set(err, XERR_BUG, "store: row gone");
	if (store_event_add(st, case_id, at, actor, "ack_retry",
			    "sent again on request", err) < 0)
		return -1;
	return 1;
}

int store_acks_to(struct store *st, const char *rcpt, int64_t since,
		  long long *n_r, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_ACKS_TO, err);
	int64_t n = 0;

	if (!s)
		return -1;
	bind_text(s, 1, rcpt);
	sqlite3_bind_int64(s, 2, since);
	if (step_int(st, s, "count acknowledgements", &n, err) < 0)
		return -1;
	*n_r = n;
	return 0;
}

int store_case_by_sender_order(struct store *st, const char *customer,
			       const char *order_id, int64_t since,
			       int64_t *case_r, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_CASE_BY_SENDER_ORDER, err);

	if (!s)
		return -1;
	bind_text(s, 1, customer);
	bind_text(s, 2, order_id);
	sqlite3_bind_int64(s, 3, since);
	return step_int(st, s, "look up case by sender and order", case_r, err);
}

static int prio_rank(const char *p)
{
	static const char *const order[] = {"urgent", "high", "normal", "low"};

	for (int i = 0; i < 4; i++)
		if (p && strcmp(p, order[i]) == 0)
			return i;
	return 4;
}

int store_case_raise(struct store *st, int64_t case_id, const char *priority,
		     int escalate, int64_t at, const char *actor,
		     int *changed_r, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_CASE_PRIO_GET, err);
	char *old = NULL, *detail = NULL;
	int was_escalated, ret = -1, r;

	*changed_r = 0;
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, case_id);
	if ((r = step_row(st, s, "read case priority", err)) <= 0)
		return r < 0 ? -1
			     : xerr_set(err, XERR_BUG, "store: no case %lld",
					(long long)case_id);
	old = col_dup(s, 0);
	was_escalated = sqlite3_column_int(s, 1);
	sqlite3_reset(s);
	int raise = prio_rank(priority) < prio_rank(old);
	int esc = escalate && !was_escalated;
	if (!raise && !esc) {
		ret = 0;
		goto out;
	}
	if (!(s = stmt(st, S_CASE_PRIO_SET, err)))
		goto out;
	sqlite3_bind_int64(s, 1, case_id);
	bind_text(s, 2, raise ? priority : old);
	sqlite3_bind_int(s, 3, was_escalated || escalate);
	sqlite3_bind_int64(s, 4, at);
	if (step_done(st, s, "raise priority", err) < 0)
		goto out;
	if (raise) {
		detail = xasprintf("%s -> %s", old, priority);
		if (store_event_add(st, case_id, at, actor, "priority", detail,
				    err) < 0)
			goto out;
	}
	if (esc && store_event_add(st, case_id, at, actor, "escalated",
				   "by rule, on a follow-up", err) < 0)
		goto out;
	*changed_r = (raise ? 1 : 0) | (esc ? 2 : 0);
	ret = 0;
out:
	free(old);
	free(detail);
	return ret;
}

int store_outbox_expire(struct store *st, int64_t received_before, int64_t now,
			const char *why, int *n_r, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_OUTBOX_STALE, err);
	int64_t *ids = NULL;
	size_t n = 0;
	int rc, ret = -1;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, received_before);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ids = xreallocarray(ids, n + 1, sizeof(*ids));
		ids[n++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		db_error(st, rc, "list stale outbox rows", err);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (store_outbox_mark(st, ids[i], OUTBOX_EXPIRED, now, 0, 0,
				      why, err) < 0)
			goto out;
	*n_r = (int)n;
	ret = 0;
out:
	free(ids);
	return ret;
}

int store_case_events(struct store *st, int64_t case_id,
		      int (*cb)(const struct store_event_row *e, void *ctx),
		      void *ctx, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_CASE_EVENTS, err);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, case_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_event_row e = {
		    .id = sqlite3_column_int64(s, 0),
		    .at = sqlite3_column_int64(s, 1),
		    .actor = col_str(s, 2),
		    .kind = col_str(s, 3),
		    .detail = col_str(s, 4),
		};
		if (cb(&e, ctx))
			break;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_error(st, rc, "read events", err);
	return 0;
}

int store_counts(struct store *st, struct store_counts *c_r, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_COUNTS, err);
	int rc;

	if (!s)
		return -1;
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return db_error(st, rc, "count", err);
	}
	c_r->cases = sqlite3_column_int64(s, 0);
	c_r->messages = sqlite3_column_int64(s, 1);
	c_r->outbox_pending = sqlite3_column_int64(s, 2);
	c_r->outbox_sent = sqlite3_column_int64(s, 3);
	c_r->outbox_failed = sqlite3_column_int64(s, 4);
	c_r->outbox_uncertain = sqlite3_column_int64(s, 5);
	c_r->outbox_suppressed = sqlite3_column_int64(s, 6);
	c_r->parse_errors = sqlite3_column_int64(s, 7);
	sqlite3_reset(s);
	return 0;
}

/* ---------------------------------------------------------------- agents */

void store_act_result_release(struct store_act_result *r)
{
	free(r->owner);
	free(r->before);
	memset(r, 0, sizeof(*r));
}

struct case_state {
	char *status, *assignee, *priority, *tags;
	int escalated;
};

static void case_state_release(struct case_state *cs)
{
	free(cs->status);
	free(cs->assignee);
	free(cs->priority);
	free(cs->tags);
	memset(cs, 0, sizeof(*cs));
}

/* Read the case's state for a change: 1, 0 (r->act = NO_CASE), -1. */
static int case_state_get(struct store *st, int64_t id, struct case_state *cs,
			  struct store_act_result *r, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_CASE_STATE, err);
	int rc;

	memset(cs, 0, sizeof(*cs));
	memset(r, 0, sizeof(*r));
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if ((rc = step_row(st, s, "read case", err)) <= 0) {
		r->act = STORE_ACT_NO_CASE;
		return rc;
	}
	cs->status = col_dup(s, 0);
	cs->assignee = col_dup(s, 1);
	cs->priority = col_dup(s, 2);
	cs->escalated = sqlite3_column_int(s, 3);
	cs->tags = col_dup(s, 4);
	sqlite3_reset(s);
	r->owner = cs->assignee ? xstrdup(cs->assignee) : NULL;
	return 1;
}

static int case_event(struct store *st, int64_t id, int64_t at,
		      const char *actor, const char *kind, struct xerr *err,
		      const char *fmt, ...) PRINTF_LIKE(7, 8);
static int case_event(struct store *st, int64_t id, int64_t at,
		      const char *actor, const char *kind, struct xerr *err,
		      const char *fmt, ...)
{
	char *detail = NULL;
	va_list ap;
	int r;

	if (fmt) {
		va_start(ap, fmt);
		detail = xvasprintf(fmt, ap);
		va_end(ap);
	}
	r = store_event_add(st, id, at, actor, kind, detail, err);
	free(detail);
	return r;
}

int store_case_claim(struct store *st, int64_t id, const char *agent,
		     const char *actor, int force, int64_t at,
		     struct store_act_result *r, struct xerr *err)
{
	struct case_state cs;
	sqlite3_stmt *s;
	int rc, ret = -1;

	if ((rc = case_state_get(st, id, &cs, r, err)) <= 0)
		return rc;
	if (strcmp(cs.status, "resolved") == 0) {
		r->act = STORE_ACT_RESOLVED;
		ret = 0;
		goto out;
	}
	if (cs.assignee && strcmp(cs.assignee, agent) == 0) {
		r->act = STORE_ACT_UNCHANGED;
		ret = 0;
		goto out;
	}
	if (cs.assignee && !force) {
		r->act = STORE_ACT_TAKEN;
		ret = 0;
		goto out;
	}
	if (!(s = stmt(st, S_CASE_ASSIGN, err)))
		goto out;
	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, agent);
	sqlite3_bind_int64(s, 3, at);
	if (step_done(st, s, "assign case", err) < 0)
		goto out;
	if (strcmp(agent, actor) == 0)
		rc = cs.assignee
			 ? case_event(st, id, at, actor, "claimed", err,
				      "taken over from %s", cs.assignee)
			 : case_event(st, id, at, actor, "claimed", err, NULL);
	else
		rc = cs.assignee
			 ? case_event(st, id, at, actor, "assigned", err,
				      "to %s (from %s)", agent, cs.assignee)
			 : case_event(st, id, at, actor, "assigned", err,
				      "to %s", agent);
	if (rc < 0)
		goto out;
	r->act = STORE_ACT_DONE;
	r->before = xstrdup(cs.status);
	ret = 0;
out:
	case_state_release(&cs);
	return ret;
}

int store_case_unassign(struct store *st, int64_t id, const char *actor,
			int force, int64_t at, struct store_act_result *r,
			struct xerr *err)
{
	struct case_state cs;
	sqlite3_stmt *s;
	int rc, ret = -1, mine;

	if ((rc = case_state_get(st, id, &cs, r, err)) <= 0)
		return rc;
	if (!cs.assignee) {
		r->act = STORE_ACT_UNCHANGED;
		ret = 0;
		goto out;
	}
	mine = strcmp(cs.assignee, actor) == 0;
	if (!mine && !force) {
		r->act = STORE_ACT_TAKEN;
		ret = 0;
		goto out;
	}
	if (!(s = stmt(st, S_CASE_ASSIGN, err)))
		goto out;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_null(s, 2);
	sqlite3_bind_int64(s, 3, at);
	if (step_done(st, s, "release case", err) < 0)
		goto out;
	if ((mine ? case_event(st, id, at, actor, "released", err, NULL)
		  : case_event(st, id, at, actor, "released", err,
			       "taken from %s", cs.assignee)) < 0)
		goto out;
	r->act = STORE_ACT_DONE;
	ret = 0;
out:
	case_state_release(&cs);
	return ret;
}

static int next_cb(const struct store_case *c, void *ctx)
{
	*(int64_t *)ctx = c->id;
	return 1;
}

int store_case_next(struct store *st, const struct store_filter *f,
		    const char *actor, int64_t at, int64_t *id_r,
		    struct xerr *err)
{
	struct store_filter g = *f;
	struct store_act_result r;
	int64_t id = 0;

	g.unassigned = 1;
	g.workable = 1;
	g.limit = 1;
	if (store_case_list(st, &g, at, next_cb, &id, err) < 0)
		return -1;
	if (!id)
		return 0;
	if (store_case_claim(st, id, actor, actor, 0, at, &r, err) < 0)
		return -1;
	int ok = r.act == STORE_ACT_DONE;
	store_act_result_release(&r);
	if (!ok) /* cannot happen inside one write transaction */
		return xerr_set(err, XERR_BUG,
				"store: case %lld changed while claiming",
				(long long)id);
	*id_r = id;
	return 1;
}

int store_case_set_status(struct store *st, int64_t id, const char *status,
			  int reopen, const char *actor, int force, int64_t at,
			  struct store_act_result *r, struct xerr *err)
{
	struct case_state cs;
	sqlite3_stmt *s;
	int rc, ret = -1;

	if ((rc = case_state_get(st, id, &cs, r, err)) <= 0)
		return rc;
	if (cs.assignee && strcmp(cs.assignee, actor) != 0 && !force) {
		r->act = STORE_ACT_TAKEN;
		ret = 0;
		goto out;
	}
	if (strcmp(cs.status, status) == 0 ||
	    (strcmp(status, "open") == 0 && strcmp(cs.status, "new") == 0 &&
	     reopen)) {
		r->act = STORE_ACT_UNCHANGED;
		ret = 0;
		goto out;
	}
	if (!(s = stmt(st, S_CASE_STATUS, err)))
		goto out;
	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, status);
	bind_text(s, 3, reopen ? NULL : actor);
	sqlite3_bind_int64(s, 4, at);
	if (step_done(st, s, "change status", err) < 0)
		goto out;
	if (cs.assignee && strcmp(cs.assignee, actor) != 0)
		rc = case_event(st, id, at, actor, "status", err,
				"%s -> %s (case of %s)", cs.status, status,
				cs.assignee);
	else
		rc = case_event(st, id, at, actor, "status", err, "%s -> %s",
				cs.status, status);
	if (rc < 0)
		goto out;
	r->act = STORE_ACT_DONE;
	r->before = xstrdup(cs.status);
	ret = 0;
out:
	case_state_release(&cs);
	return ret;
}

int store_case_escalate(struct store *st, int64_t id, const char *reason,
			const char *actor, int64_t at,
			struct store_act_result *r, struct xerr *err)
{
	struct case_state cs;
	sqlite3_stmt *s;
	int rc, ret = -1;

	if ((rc = case_state_get(st, id, &cs, r, err)) <= 0)
		return rc;
	if (!!cs.escalated == !!reason) {
		r->act = STORE_ACT_UNCHANGED;
		ret = 0;
		goto out;
	}
	if (!(s = stmt(st, S_CASE_ESCALATE, err)))
		goto out;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, reason != NULL);
	sqlite3_bind_int64(s, 3, at);
	if (step_done(st, s, "escalate case", err) < 0)
		goto out;
	if ((reason
		 ? case_event(st, id, at, actor, "escalated", err, "%s", reason)
		 : case_event(st, id, at, actor, "deescalated", err, NULL)) < 0)
		goto out;
	r->act = STORE_ACT_DONE;
	ret = 0;
out:
	case_state_release(&cs);
	return ret;
}

int store_case_set_priority(struct store *st, int64_t id, const char *priority,
			    const char *actor, int64_t at,
			    struct store_act_result *r, struct xerr *err)
{
	struct case_state cs;
	sqlite3_stmt *s;
	int rc, ret = -1;

	if ((rc = case_state_get(st, id, &cs, r, err)) <= 0)
		return rc;
	r->before = xstrdup(cs.priority);
	if (strcmp(cs.priority, priority) == 0) {
		r->act = STORE_ACT_UNCHANGED;
		ret = 0;
		goto out;
	}
	if (!(s = stmt(st, S_CASE_SET_PRIO, err)))
		goto out;
	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, priority);
	sqlite3_bind_int64(s, 3, at);
	if (step_done(st, s, "change priority", err) < 0)
		goto out;
	if (case_event(st, id, at, actor, "priority", err, "%s -> %s",
		       cs.priority, priority) < 0)
		goto out;
	r->act = STORE_ACT_DONE;
	ret = 0;
out:
	case_state_release(&cs);
	return ret;
}

/* Is word (len n) one of the space-separated words of list? */
static int has_word(const char *list, const char *word, size_t n)
{
	const char *p = list;

	while (p && *p) {
		size_t k = strcspn(p, " ");
		if (k == n && memcmp(p, word, n) == 0)
			return 1;
		p += k;
		p += strspn(p, " ");
	}
	return 0;
}

int store_case_tag(struct store *st, int64_t id, const char *add,
		   const char *remove, const char *actor, int64_t at,
		   struct store_act_result *r, struct xerr *err)
{
	struct case_state cs;
	struct buf tags, added, removed;
	sqlite3_stmt *s;
	const char *p;
	int rc, ret = -1;

	if ((rc = case_state_get(st, id, &cs, r, err)) <= 0)
		return rc;
	buf_init(&tags, 1 << 16);
	buf_init(&added, 1 << 16);
	buf_init(&removed, 1 << 16);
	/* Keep the order: old tags not removed, then new ones. */
	for (p = cs.tags; p && *p;) {
		size_t k = strcspn(p, " ");
		if (k && !has_word(remove, p, k)) {
			if ((tags.len && buf_addc(&tags, ' ') < 0) ||
			    buf_add(&tags, p, k) < 0)
				goto full;
		} else if (k) {
			if ((removed.len && buf_addc(&removed, ' ') < 0) ||
			    buf_addc(&removed, '-') < 0 ||
			    buf_add(&removed, p, k) < 0)
				goto full;
		}
		p += k;
		p += strspn(p, " ");
	}
	for (p = add; p && *p;) {
		size_t k = strcspn(p, " ");
		if (k && !has_word(buf_str(&tags), p, k)) {
			if ((tags.len && buf_addc(&tags, ' ') < 0) ||
			    buf_add(&tags, p, k) < 0 ||
			    (added.len && buf_addc(&added, ' ') < 0) ||
			    buf_addc(&added, '+') < 0 ||
			    buf_add(&added, p, k) < 0)
				goto full;
		}
		p += k;
		p += strspn(p, " ");
	}
	r->before = xstrdup(cs.tags ? cs.tags : "");
	if (!added.len && !removed.len) {
		r->act = STORE_ACT_UNCHANGED;
		ret = 0;
		goto out;
	}
	if (!(s = stmt(st, S_CASE_SET_TAGS, err)))
		goto out;
	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, tags.len ? buf_str(&tags) : NULL);
	sqlite3_bind_int64(s, 3, at);
	if (step_done(st, s, "change tags", err) < 0)
		goto out;
	if (case_event(st, id, at, actor, "tags", err, "%s%s%s",
		       buf_str(&added), added.len && removed.len ? " " : "",
		       buf_str(&removed)) < 0)
		goto out;
	r->act = STORE_ACT_DONE;
	ret = 0;
	goto out;
full:
	xerr_set(err, XERR_CONFIG, "store: too many tags on case %lld",
		 (long long)id);
out:
	buf_release(&tags);
	buf_release(&added);
	buf_release(&removed);
	case_state_release(&cs);
	return ret;
}

/* which: S_FTS_ADD (the text goes through peakq_fts()) or
 * S_FTS_ADD_READY (already store_fts_text()). */
static int fts_add(struct store *st, int which, int64_t rowid, const char *who,
		   const char *subject, const char *body, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, which, err);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, rowid);
	bind_text(s, 2, who);
	bind_text(s, 3, subject);
	bind_text(s, 4, body);
	return step_done(st, s, "index for search", err);
}

int store_note_add(struct store *st, int64_t id, const char *author,
		   const char *body, int64_t at, struct store_act_result *r,
		   struct xerr *err)
{
	struct case_state cs;
	sqlite3_stmt *s;
	int rc, ret = -1;

	if ((rc = case_state_get(st, id, &cs, r, err)) <= 0)
		return rc;
	if (!(s = stmt(st, S_NOTE_ADD, err)))
		goto out;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, at);
	bind_text(s, 3, author);
	bind_text(s, 4, body);
	if (step_int(st, s, "add note", &r->id, err) <= 0) {
		if (!err->msg[0])
			xerr_set(err, XERR_BUG, "store: note not added");
		goto out;
	}
	if (fts_add(st, S_FTS_ADD, 2 * r->id + 1, author, NULL, body, err) <
		0 ||
	    case_event(st, id, at, author, "note", err, "note %lld",
		       (long long)r->id) < 0)
		goto out;
	r->act = STORE_ACT_DONE;
	ret = 0;
out:
	case_state_release(&cs);
	return ret;
}

int store_case_notes(struct store *st, int64_t case_id,
		     int (*cb)(const struct store_note_row *n, void *ctx),
		     void *ctx, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_CASE_NOTES, err);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, case_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_note_row n = {
		    .id = sqlite3_column_int64(s, 0),
		    .at = sqlite3_column_int64(s, 1),
		    .author = col_str(s, 2),
		    .body = col_str(s, 3),
		};
		if (cb(&n, ctx))
			break;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_error(st, rc, "read notes", err);
	return 0;
}

/* ---------------------------------------------------------------- search */

/* Append w[0..n) to q as one quoted FTS5 phrase (after a space if q is
 * not empty); -1 when q is full. */
static int fts_phrase(struct buf *q, const char *w, size_t n)
{
	if ((q->len && buf_addc(q, ' ') < 0) || buf_addc(q, '"') < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((w[i] == '"' && buf_addc(q, '"') < 0) ||
		    buf_addc(q, w[i]) < 0)
			return -1;
	return buf_addc(q, '"');
}

/* query -> an FTS5 expression: each word a quoted phrase of its tokens
 * (so CJK words match as runs of characters), all words required. */
static void fts_query(const char *query, struct buf *q)
{
	const char *p = query;

	while (*p) {
		size_t k, wn;
		char *w;
		int any = 0, full = 0;

		p += strspn(p, " \t\r\n");
		k = strcspn(p, " \t\r\n");
		if (!k)
			break;
		w = store_fts_string(p, k, &wn);
		/* Keep what the tokenizer keeps; quote the rest away. */
		for (size_t i = 0; i < wn; i++)
			if ((unsigned char)w[i] >= 0x80 ||
			    isalnum((unsigned char)w[i]))
				any = 1;
		if (any)
			full = fts_phrase(q, w, wn) < 0;
		free(w);
		if (full)
			break;
		p += k;
	}
}

static const char search_sql[] =
    "WITH hits AS (SELECT rowid AS r FROM search WHERE ?1 IS NOT NULL"
    " AND search MATCH ?1)"
    " SELECT m.case_id, 'message', m.received_at, m.text FROM hits"
    " JOIN message m ON m.id = hits.r / 2 WHERE hits.r % 2 = 0"
    " UNION ALL SELECT n.case_id, 'note', n.at, n.body FROM hits"
    " JOIN note n ON n.id = hits.r / 2 WHERE hits.r % 2 = 1"
    " UNION ALL SELECT id, 'order', created_at, NULL FROM cases"
    " WHERE order_id = ?2"
    " UNION ALL SELECT id, 'customer', created_at, NULL FROM cases"
    " WHERE customer = ?2 COLLATE NOCASE"
    " ORDER BY 3 DESC";

int store_search(struct store *st, const char *query, size_t limit,
		 int (*cb)(const struct store_case *c,
			   const struct store_hit *h, void *ctx),
		 void *ctx, struct xerr *err)
{
	struct buf q;
	sqlite3_stmt *s = NULL;
	int64_t *seen = NULL;
	size_t nseen = 0;
	int rc, ret = -1;
	char trimmed[320];

	snprintf(trimmed, sizeof(trimmed), "%.*s",
		 (int)strcspn(query + strspn(query, " \t"), " \t\r\n"),
		 query + strspn(query, " \t"));
	buf_init(&q, 6 * strlen(query) + 64);
	fts_query(query, &q);
	rc = sqlite3_prepare_v2(st->db, search_sql, -1, &s, NULL);
	if (rc != SQLITE_OK) {
		db_error(st, rc, "prepare search", err);
		goto out;
	}
	if (q.len)
		sqlite3_bind_text(s, 1, buf_str(&q), (int)q.len,
				  SQLITE_TRANSIENT);
	bind_text(s, 2, trimmed);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t case_id = sqlite3_column_int64(s, 0);
		struct store_case c;
		size_t i;
		int r;
		for (i = 0; i < nseen && seen[i] != case_id; i++)
			;
		if (i < nseen)
			continue;
		seen = xreallocarray(seen, nseen + 1, sizeof(*seen));
		seen[nseen++] = case_id;
		struct store_hit h = {
		    .case_id = case_id,
		    .where = col_str(s, 1),
		    .at = sqlite3_column_int64(s, 2),
		    .text = col_str(s, 3),
		};
		/* store_case_get uses another statement: s stays valid. */
		if ((r = store_case_get(st, case_id, &c, err)) < 0)
			goto out;
		if (r == 0)
			continue;
		r = cb(&c, &h, ctx);
		store_case_release(&c);
		if (r || (limit && nseen >= limit))
			break;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		db_error(st, rc, "search", err);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(s);
	buf_release(&q);
	free(seen);
	return ret;
}

static const char queue_stats_sql[] =
    "SELECT status, category, count(*), sum(due_at < ?1 AND status IN"
    " ('new','open')), sum(escalated), sum(assignee IS NULL) FROM"
    " cases WHERE status IN ('new','open','pending')"
    " GROUP BY status, category"
    " ORDER BY category, status";

static const char resolved_since_sql[] =
    "SELECT count(*) FROM cases WHERE resolved_at >= ?1 AND"
    " +status = 'resolved'";

int store_queue_stats(struct store *st, int64_t now, int64_t since,
		      int (*cb)(const struct store_queue_row *q, void *ctx),
		      void *ctx, long long *resolved_since_r, struct xerr *err)
{
	sqlite3_stmt *s = NULL;
	int rc, ret = -1;

	rc = sqlite3_prepare_v2(st->db, queue_stats_sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_error(st, rc, "prepare queue counts", err);
	sqlite3_bind_int64(s, 1, now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_queue_row q = {
		    .status = col_str(s, 0),
		    .category = col_str(s, 1),
		    .n = sqlite3_column_int64(s, 2),
		    .overdue = sqlite3_column_int64(s, 3),
		    .escalated = sqlite3_column_int64(s, 4),
		    .unassigned = sqlite3_column_int64(s, 5),
		};
		if (cb(&q, ctx))
			break;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		db_error(st, rc, "queue counts", err);
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	rc = sqlite3_prepare_v2(st->db, resolved_since_sql, -1, &s, NULL);
	if (rc != SQLITE_OK) {
		db_error(st, rc, "prepare resolved count", err);
		goto out;
	}
	sqlite3_bind_int64(s, 1, since);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		db_error(st, rc, "resolved count", err);
		goto out;
	}
	*resolved_since_r = sqlite3_column_int64(s, 0);
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

/* ---------------------------------------------------------------- report */

#define REPORT_SCOPE                                                           \
	" c.created_at >= ?1 AND c.created_at < ?2 AND (?3 IS NULL OR"         \
	" mb.account = ?3 OR mb.account || '/' || mb.name = ?3)"

/* A period that holds a small part of the store: each selected case's
 * rows through the case_id indexes (CROSS JOIN makes sel the outer loop),
 * so that a week's report costs a week's rows however long the season. */
static const char report_lookup_sql[] =
    "WITH sel AS (SELECT c.* FROM cases c LEFT JOIN mailbox mb ON"
    "  mb.id = c.mailbox_id WHERE" REPORT_SCOPE "),"
    " msg AS (SELECT m.case_id, count(*) AS n, sum(sel.first_reply_at"
    "  IS NOT NULL AND m.received_at < sel.first_reply_at) AS before"
    "  FROM sel CROSS JOIN message m ON m.case_id = sel.id"
    "  GROUP BY m.case_id),"
    " ev AS (SELECT e.case_id, sum(e.kind = 'reopened' OR (e.kind ="
    "  'status' AND e.detail LIKE 'resolved -> %')) AS reopened,"
    "  min(CASE WHEN e.kind IN ('claimed','assigned') THEN e.at END)"
    "  AS claimed_at, min(CASE WHEN e.kind = 'replied' THEN e.id END)"
    "  AS replied_ev, max(e.kind = 'escalated') AS esc"
    "  FROM sel CROSS JOIN event e ON e.case_id = sel.id"
    "  GROUP BY e.case_id),"
    " ack AS (SELECT o.case_id, o.state, o.reason FROM sel CROSS JOIN"
    "  outbox o ON o.case_id = sel.id WHERE o.kind = 'ack')"
    " SELECT sel.id, sel.created_at, sel.due_at, sel.acked_at,"
    " sel.first_reply_at, sel.resolved_at, ev.claimed_at, sel.status,"
    " sel.category, sel.priority, sel.lang, sel.rule, sel.template,"
    " sel.assignee, (SELECT detail FROM event WHERE id ="
    " ev.replied_ev), ack.state, ack.reason,"
    " max(sel.escalated, coalesce(ev.esc, 0)),"
    " coalesce(msg.n, 0), coalesce(msg.before, 0),"
    " coalesce(ev.reopened, 0)"
    " FROM sel LEFT JOIN msg ON msg.case_id = sel.id"
    " LEFT JOIN ev ON ev.case_id = sel.id"
    " LEFT JOIN ack ON ack.case_id = sel.id"
    " ORDER BY sel.created_at, sel.id";
static const char report_esc_sql[] =
    "SELECT coalesce(e.detail, ''), count(*) FROM event e JOIN cases c"
    " ON c.id = e.case_id LEFT JOIN mailbox mb ON mb.id = c.mailbox_id"
    " WHERE e.kind = 'escalated' AND" REPORT_SCOPE
    " GROUP BY 1 ORDER BY 2 DESC, 1";

/* Most or all of the store: one pass over each table in its own order,
 * the per-case figures kept in C by case, and one pass over the selected
 * cases at the end. SQL's grouped joins of the same rows built temporary
 * B-trees for every join (3.4 s for 200,000 cases, against 2 s). */
static const char report_ids_sql[] =
    "SELECT id, first_reply_at FROM cases ORDER BY id";
static const char report_msg_sql[] = "SELECT case_id, received_at FROM message";
static const char report_ev_sql[] =
    "SELECT case_id, kind, at, CASE WHEN kind IN ('status', 'replied',"
    " 'escalated') THEN coalesce(detail, '') END FROM event"
    " WHERE case_id IS NOT NULL ORDER BY id";
static const char report_ack_sql[] =
    "SELECT case_id, state, reason FROM outbox WHERE kind = 'ack'"
    " ORDER BY id";
static const char report_sel_sql[] =
    "SELECT c.id, c.created_at, c.due_at, c.acked_at, c.first_reply_at,"
    " c.resolved_at, c.escalated, c.status, c.category, c.priority, c.lang,"
    " c.rule, c.template, c.assignee FROM cases c LEFT JOIN mailbox mb ON"
    " mb.id = c.mailbox_id WHERE" REPORT_SCOPE " ORDER BY c.created_at, c.id";

/* Reply templates, ack states and reasons and escalation reasons are
 * interned in a strtab: few distinct values over many cases. */
struct report_merge {
	int64_t *id; /* the store's case ids, ascending */
	struct report_agg {
		int64_t first_reply_at, claimed_at;
		int n, before, reopened;
		uint32_t reply_tmpl, ack_state, ack_reason; /* strtab ids */
		unsigned char esc, sel;
	} * agg;
	size_t n, cap;
	struct strtab str;
	struct {
		size_t slot;
		uint32_t reason;
	} * esc; /* escalation events */
	size_t nesc, esccap;
};

/* The slot of case id in m, or (size_t)-1: ids are dense unless rows
 * were deleted by hand, so the first guess is nearly always right. */
static size_t merge_slot(const struct report_merge *m, int64_t id)
{
	size_t lo = 0, hi = m->n;

	if (!m->n)
		return (size_t)-1;
	if (id >= m->id[0] && (uint64_t)(id - m->id[0]) < m->n &&
	    m->id[id - m->id[0]] == id)
		return (size_t)(id - m->id[0]);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->id[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->n && m->id[lo] == id ? lo : (size_t)-1;
}

/* sql prepared with the report's scope bound (REPORT_SCOPE: ?1 since,
 * ?2 until, ?3 mailbox); NULL with err set. */
static sqlite3_stmt *report_stmt(struct store *st, const char *sql,
				 int64_t since, int64_t until,
				 const char *mailbox, const char *what,
				 struct xerr *err)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK) {
		db_error(st, rc, what, err);
		return NULL;
	}
	sqlite3_bind_int64(s, 1, since);
	sqlite3_bind_int64(s, 2, until);
	bind_text(s, 3, mailbox);
	return s;
}

/* Step each row of sql into row(); 0, or -1 with err set. */
static int merge_pass(struct store *st, const char *sql,
		      void (*row)(sqlite3_stmt *s, struct report_merge *m),
		      struct report_merge *m, struct xerr *err)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK)
		return db_error(st, rc, "prepare report", err);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		row(s, m);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return db_error(st, rc, "report", err);
	return 0;
}

static void merge_id_row(sqlite3_stmt *s, struct report_merge *m)
{
	static const struct report_agg zero;

	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 1024;
		m->id = xreallocarray(m->id, m->cap, sizeof(*m->id));
		m->agg = xreallocarray(m->agg, m->cap, sizeof(*m->agg));
	}
	m->id[m->n] = sqlite3_column_int64(s, 0);
	m->agg[m->n] = zero;
	m->agg[m->n++].first_reply_at = sqlite3_column_int64(s, 1);
}

static void merge_msg_row(sqlite3_stmt *s, struct report_merge *m)
{
	size_t k = merge_slot(m, sqlite3_column_int64(s, 0));
	struct report_agg *a;

	if (k == (size_t)-1)
		return;
	a = &m->agg[k];
	a->n++;
	if (a->first_reply_at && sqlite3_column_int64(s, 1) < a->first_reply_at)
		a->before++;
}

static void merge_ev_row(sqlite3_stmt *s, struct report_merge *m)
{
	size_t k = merge_slot(m, sqlite3_column_int64(s, 0));
	const char *kind = col_str(s, 1), *detail = col_str(s, 3);
	int64_t at = sqlite3_column_int64(s, 2);
	struct report_agg *a;

	if (k == (size_t)-1 || !kind)
		return;
	a = &m->agg[k];
	if (strcmp(kind, "reopened") == 0 ||
	    (strcmp(kind, "status") == 0 && detail &&
	     strncasecmp(detail, "resolved -> ", 12) == 0))
		a->reopened++;
	else if (strcmp(kind, "claimed") == 0 ||
		 strcmp(kind, "assigned") == 0) {
		if (!a->claimed_at || at < a->claimed_at)
			a->claimed_at = at;
	} else if (strcmp(kind, "replied") == 0) {
		if (!a->reply_tmpl && detail) /* the first, in id order */
			a->reply_tmpl = strtab_id(&m->str, detail);
	} else if (strcmp(kind, "escalated") == 0) {
		a->esc = 1;
		if (m->nesc == m->esccap) {
			m->esccap = m->esccap ? 2 * m->esccap : 64;
			m->esc =
			    xreallocarray(m->esc, m->esccap, sizeof(*m->esc));
		}
		m->esc[m->nesc].slot = k;
		m->esc[m->nesc++].reason =
		    strtab_id(&m->str, detail ? detail : "");
	}
}

static void merge_ack_row(sqlite3_stmt *s, struct report_merge *m)
{
	size_t k = merge_slot(m, sqlite3_column_int64(s, 0));
	const char *state = col_str(s, 1), *reason = col_str(s, 2);

	if (k == (size_t)-1 || m->agg[k].ack_state || !state)
		return; /* one ack a case; the first if ever more */
	m->agg[k].ack_state = strtab_id(&m->str, state);
	if (reason)
		m->agg[k].ack_reason = strtab_id(&m->str, reason);
}

struct esc_count {
	const char *reason;
	long long n;
};

static int cmp_esc_count(const void *a, const void *b)
{
	const struct esc_count *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->reason, y->reason);
}

static int
report_merged(struct store *st, int64_t since, int64_t until,
	      const char *mailbox,
	      int (*cb)(const struct store_report_case *c, void *ctx),
	      int (*esc_cb)(const char *reason, long long n, void *ctx),
	      void *ctx, struct xerr *err)
{
	struct report_merge m = {0};
	sqlite3_stmt *s = NULL;
	struct esc_count *order = NULL;
	long long *count = NULL; /* by reason's strtab id */
	size_t norder = 0;
	int rc, ret = -1, stop = 0;

	if (merge_pass(st, report_ids_sql, merge_id_row, &m, err) < 0 ||
	    merge_pass(st, report_msg_sql, merge_msg_row, &m, err) < 0 ||
	    merge_pass(st, report_ev_sql, merge_ev_row, &m, err) < 0 ||
	    merge_pass(st, report_ack_sql, merge_ack_row, &m, err) < 0)
		goto out;
	s = report_stmt(st, report_sel_sql, since, until, mailbox,
			"prepare report", err);
	if (!s)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		size_t k = merge_slot(&m, sqlite3_column_int64(s, 0));
		static const struct report_agg none;
		const struct report_agg *a =
		    k == (size_t)-1 ? &none : &m.agg[k];
		struct store_report_case c = {
		    .id = sqlite3_column_int64(s, 0),
		    .created_at = sqlite3_column_int64(s, 1),
		    .due_at = sqlite3_column_int64(s, 2),
		    .acked_at = sqlite3_column_int64(s, 3),
		    .first_reply_at = sqlite3_column_int64(s, 4),
		    .resolved_at = sqlite3_column_int64(s, 5),
		    .claimed_at = a->claimed_at,
		    .status = col_str(s, 7),
		    .category = col_str(s, 8),
		    .priority = col_str(s, 9),
		    .lang = col_str(s, 10),
		    .rule = col_str(s, 11),
		    .tmpl = col_str(s, 12),
		    .assignee = col_str(s, 13),
		    .reply_tmpl = strtab_str(&m.str, a->reply_tmpl),
		    .ack_state = strtab_str(&m.str, a->ack_state),
		    .ack_reason = strtab_str(&m.str, a->ack_reason),
		    .escalated = sqlite3_column_int(s, 6) || a->esc,
		    .nmessages = a->n,
		    .nbefore_reply = a->before,
		    .nreopened = a->reopened,
		};
		if (k != (size_t)-1)
			m.agg[k].sel = 1;
		if (!stop && cb(&c, ctx))
			stop = 1;
	}
	if (rc != SQLITE_DONE) {
		db_error(st, rc, "report", err);
		goto out;
	}
	/* Escalation reasons of the selected cases, most first, then by
	 * name (as report_esc_sql orders them). */
	count = xcalloc(m.str.n + 1, sizeof(*count));
	for (size_t i = 0; i < m.nesc; i++)
		if (m.agg[m.esc[i].slot].sel)
			count[m.esc[i].reason]++;
	for (uint32_t id = 1; id <= m.str.n; id++)
		if (count[id]) {
			order =
			    xreallocarray(order, norder + 1, sizeof(*order));
			order[norder].reason = strtab_str(&m.str, id);
			order[norder++].n = count[id];
		}
	if (norder)
		qsort(order, norder, sizeof(*order), cmp_esc_count);
	for (size_t i = 0; !stop && i < norder; i++)
		stop = esc_cb(order[i].reason, order[i].n, ctx);
	ret = 0;
out:
	sqlite3_finalize(s);
	free(order);
	free(count);
	free(m.id);
	free(m.agg);
	free(m.esc);
	strtab_free(&m.str);
	return ret;
}

/* 1 when the period [since, until) holds less than an eighth of the
 * store's cases (then report_lookup_sql is the cheaper plan), 0 otherwise. */
static int small_period(struct store *st, int64_t since, int64_t until)
{
	sqlite3_stmt *s = NULL;
	long long in = 0, all = 0;

	if (since <= 0 && until == INT64_MAX)
		return 0;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT (SELECT count(*) FROM cases WHERE"
			       " created_at >= ?1 AND created_at < ?2),"
			       " (SELECT coalesce(sum(n), 0) FROM tally"
			       " WHERE name = 'cases')",
			       -1, &s, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(s, 1, since);
	sqlite3_bind_int64(s, 2, until);
	if (sqlite3_step(s) == SQLITE_ROW) {
		in = sqlite3_column_int64(s, 0);
		all = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return in * 8 < all;
}

int store_report_cases(struct store *st, int64_t since, int64_t until,
		       const char *mailbox,
		       int (*cb)(const struct store_report_case *c, void *ctx),
		       int (*esc_cb)(const char *reason, long long n,
				     void *ctx),
		       void *ctx, struct xerr *err)
{
	sqlite3_stmt *s = NULL;
	int rc, ret = -1, stop = 0;

	if (!small_period(st, since, until))
		return report_merged(st, since, until, mailbox, cb, esc_cb, ctx,
				     err);
	s = report_stmt(st, report_lookup_sql, since, until, mailbox,
			"prepare report", err);
	if (!s)
		return -1;
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_report_case c = {
		    .id = sqlite3_column_int64(s, 0),
		    .created_at = sqlite3_column_int64(s, 1),
		    .due_at = sqlite3_column_int64(s, 2),
		    .acked_at = sqlite3_column_int64(s, 3),
		    .first_reply_at = sqlite3_column_int64(s, 4),
		    .resolved_at = sqlite3_column_int64(s, 5),
		    .claimed_at = sqlite3_column_int64(s, 6),
		    .status = col_str(s, 7),
		    .category = col_str(s, 8),
		    .priority = col_str(s, 9),
		    .lang = col_str(s, 10),
		    .rule = col_str(s, 11),
		    .tmpl = col_str(s, 12),
		    .assignee = col_str(s, 13),
		    .reply_tmpl = col_str(s, 14),
		    .ack_state = col_str(s, 15),
		    .ack_reason = col_str(s, 16),
		    .escalated = sqlite3_column_int(s, 17),
		    .nmessages = sqlite3_column_int(s, 18),
		    .nbefore_reply = sqlite3_column_int(s, 19),
		    .nreopened = sqlite3_column_int(s, 20),
		};
		stop = cb(&c, ctx);
	}
	if (!stop && rc != SQLITE_DONE) {
		db_error(st, rc, "report", err);
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	s = report_stmt(st, report_esc_sql, since, until, mailbox,
			"prepare escalations", err);
	if (!s)
		goto out;
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW)
		stop = esc_cb(col_str(s, 0), sqlite3_column_int64(s, 1), ctx);
	if (!stop && rc != SQLITE_DONE) {
		db_error(st, rc, "escalations", err);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

/* ---------------------------------------------------------------- health */

int store_mailbox_state(struct store *st, int64_t id, const char *state,
			long long backlog, int64_t at, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_MAILBOX_STATE, err);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, state);
	sqlite3_bind_int64(s, 3, at);
	sqlite3_bind_int64(s, 4, backlog);
	return step_done(st, s, "record mailbox state", err);
}

int store_daemon_beat(struct store *st, long long pid, const char *version,
		      int64_t started_at, int64_t now, int64_t poll_interval,
		      int stopping, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_DAEMON_BEAT, err);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, pid);
	bind_text(s, 2, version);
	sqlite3_bind_int64(s, 3, started_at);
	sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_int64(s, 5, poll_interval);
	sqlite3_bind_int(s, 6, stopping);
	return step_done(st, s, "record heartbeat", err);
}

int store_daemon_touch(struct store *st, int64_t now, struct xerr *err)
{
	sqlite3_stmt *s = stmt(st, S_DAEMON_TOUCH, err);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	return step_done(st, s, "record heartbeat", err);
}

int store_health(struct store *st, struct store_daemon_info *d_r,
		 int (*cb)(const struct store_mailbox_info *m, void *ctx),
		 void *ctx, struct xerr *err)
{
	sqlite3_stmt *s = NULL;
	int rc, ret = -1;

	memset(d_r, 0, sizeof(*d_r));
	rc = sqlite3_prepare_v2(st->db,
				"SELECT pid, version, started_at, heartbeat_at,"
				" stopped_at, poll_interval FROM daemon WHERE"
				" id = 1",
				-1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_error(st, rc, "prepare health", err);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		d_r->known = 1;
		d_r->pid = sqlite3_column_int64(s, 0);
		snprintf(d_r->version, sizeof(d_r->version), "%s",
			 col_str(s, 1) ? col_str(s, 1) : "");
		d_r->started_at = sqlite3_column_int64(s, 2);
		d_r->heartbeat_at = sqlite3_column_int64(s, 3);
		d_r->stopped_at = sqlite3_column_int64(s, 4);
		d_r->poll_interval = sqlite3_column_int64(s, 5);
	} else if (rc != SQLITE_DONE) {
		db_error(st, rc, "read heartbeat", err);
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (!cb)
		return 0;
	rc = sqlite3_prepare_v2(
	    st->db,
	    "SELECT account, name, state, state_at, backlog, last_ok_at,"
	    " last_error, last_error_at, uidvalidity, last_uid FROM mailbox"
	    " ORDER BY account, name",
	    -1, &s, NULL);
	if (rc != SQLITE_OK) {
		db_error(st, rc, "prepare mailboxes", err);
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_mailbox_info m = {
		    .account = col_str(s, 0),
		    .name = col_str(s, 1),
		    .state = col_str(s, 2),
		    .state_at = sqlite3_column_int64(s, 3),
		    .backlog = sqlite3_column_int64(s, 4),
		    .last_ok_at = sqlite3_column_int64(s, 5),
		    .last_error = col_str(s, 6),
		    .last_error_at = sqlite3_column_int64(s, 7),
		    .uidvalidity = (uint32_t)sqlite3_column_int64(s, 8),
		    .last_uid = (uint32_t)sqlite3_column_int64(s, 9),
		};
		if (cb(&m, ctx))
			break;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		db_error(st, rc, "read mailboxes", err);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

int store_metrics(struct store *st,
		  int (*cb)(const char *name, const char *label,
			    const char *value, long long n, void *ctx),
		  void *ctx, struct xerr *err)
{
	/* name, label, label value, count: everything the metrics file
	 * shows that the store knows, as monotonic totals, from the tally
	 * (a few dozen rows, whatever the store's size). */
	static const char sql[] =
	    "SELECT k, l, v, n FROM ("
	    " SELECT 1 AS o, 0 AS o2, 'cases' AS k, 'category' AS l,"
	    " label AS v, n FROM tally WHERE name = 'cases' AND n > 0"
	    " UNION ALL SELECT 2, 0, 'messages', NULL, NULL, n FROM tally"
	    " WHERE name = 'messages'"
	    " UNION ALL SELECT 3, 0, 'acks', 'state', label, n FROM tally"
	    " WHERE name = 'outbox ack'"
	    " UNION ALL SELECT 4, CASE label WHEN '+Inf' THEN 1e18 ELSE"
	    " CAST(label AS INTEGER) END, 'ack_latency', 'le', label, n"
	    " FROM tally WHERE name = 'ack_latency'"
	    " UNION ALL SELECT 5, 0, 'ack_latency_sum', NULL, NULL, n"
	    " FROM tally WHERE name = 'ack_latency_sum')"
	    " ORDER BY o, o2, v";
	sqlite3_stmt *s = NULL;
	int rc, ret = -1;

	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_error(st, rc, "prepare metrics", err);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (cb(col_str(s, 0), col_str(s, 1), col_str(s, 2),
		       sqlite3_column_int64(s, 3), ctx))
			break;
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		db_error(st, rc, "metrics", err);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

/* ---------------------------------------------------------------- plans */

/* The queue's filters whose plans are checked: the views agents use. */
static const struct store_filter plan_filters[] = {
    {.limit = 50},
    {.limit = 1, .unassigned = 1, .workable = 1}, /* next */
    {.limit = 50, .category = "complaint"},
    {.limit = 50, .assignee = "mei"},
    {.limit = 50, .overdue = 1},
    {.limit = 50, .escalated = 1},
    {.limit = 50, .since = 1},
    {.limit = 50, .status = "pending"},
    {.limit = 50, .mailbox = "support/INBOX"},
};

static int plan_of(struct store *st, const char *what, const char *sql,
		   int (*cb)(const char *what, const char *sql,
			     const char *step, void *ctx),
		   void *ctx, struct xerr *err)
{
	char *q = xasprintf("EXPLAIN QUERY PLAN %s", sql);
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, q, -1, &s, NULL), stop = 0;

	free(q);
	if (rc != SQLITE_OK)
		return db_error(st, rc, what, err);
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW)
		stop = cb(what, sql, col_str(s, 3) ? col_str(s, 3) : "", ctx);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_error(st, rc, what, err);
	return stop;
}

int store_query_plans(struct store *st,
		      int (*cb)(const char *what, const char *sql,
				const char *step, void *ctx),
		      void *ctx, struct xerr *err)
{
	static const struct {
		const char *what, *sql;
	} named[] = {
	    {"whole: report, the store's case ids", report_ids_sql},
	    {"whole: report, messages", report_msg_sql},
	    {"whole: report, events", report_ev_sql},
	    {"whole: report, acks", report_ack_sql},
	    {"whole: report, the selected cases", report_sel_sql},
	    {"report of a period", report_lookup_sql},
	    {"report escalations", report_esc_sql},
	    {"search", search_sql},
	    {"queue stats", queue_stats_sql},
	    {"resolved since", resolved_since_sql},
	};
	char what[64];
	int r = 0;

	for (size_t i = 0; r == 0 && i < S_COUNT_MAX; i++) {
		if (i == S_OUTBOX_LIST_ALL)
			snprintf(what, sizeof(what), "whole: outbox --all");
		else
			snprintf(what, sizeof(what), "statement %zu", i);
		r = plan_of(st, what, stmt_sql[i], cb, ctx, err);
	}
	for (size_t i = 0; r == 0 && i < sizeof(named) / sizeof(*named); i++)
		r = plan_of(st, named[i].what, named[i].sql, cb, ctx, err);
	for (size_t i = 0;
	     r == 0 && i < sizeof(plan_filters) / sizeof(*plan_filters); i++) {
		struct buf b;
		buf_init(&b, 64 * 1024);
		case_list_sql(&plan_filters[i], &b);
		snprintf(what, sizeof(what), "queue, filter %zu", i);
		r = plan_of(st, what, buf_str(&b), cb, ctx, err);
		buf_release(&b);
	}
	return r < 0 ? -1 : 0;
}
