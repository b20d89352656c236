/* watch: one thread per watched mailbox, each with its own IMAP connection
 * and its own store handle, so a slow or broken server delays nobody else.
 *
 * Why threads and not one poll() loop: libetpan's commands block (a FETCH
 * of a large message is many reads inside one call), so in a single loop
 * a server that stops answering mid-FETCH would hold every other mailbox
 * for the whole read timeout. A thread per mailbox costs one connection
 * and one SQLite handle each; SQLite's WAL and BEGIN IMMEDIATE serialise
 * the short write transactions. Each thread:
 *
 *   connect -> ingest everything above the checkpoint -> IDLE until the
 *   server speaks (or idle_refresh passes, or we are told to stop) -> DONE
 *   -> ingest again ...   (no IDLE, or idle: false: sleep poll_interval)
 *
 * and on any error records it in the mailbox's health, closes the
 * connection and reconnects after an exponential backoff with jitter
 * (5 s doubling to 15 min). New mail is found by the stored checkpoint
 * (UIDVALIDITY, last UID), never by flags, so nothing that arrived while
 * disconnected is missed. After committing new cases a thread writes a
 * byte to wake_fd so the main thread sends the acknowledgements at once;
 * SMTP never runs in these threads, so a slow MTA never slows ingestion.
 *
 * The configuration, rules and templates in use are the current setup,
 * taken afresh by each thread for each pass: a reload applies between two
 * passes, never inside one. All functions are for the main thread only. */
#ifndef PEAKQ_WATCH_H
#define PEAKQ_WATCH_H

#include "setup.h"

struct watchers;

/* wake_fd: the write end of a non-blocking pipe the main thread polls. */
struct watchers *watchers_new(const char *store_path, int wake_fd);

/* Make s the current setup (taking a reference) and have exactly one
 * thread per mailbox of s's accounts: threads of mailboxes that are gone,
 * or whose account now connects differently, are told to stop; new ones
 * are started; the others go on undisturbed. */
void watchers_apply(struct watchers *w, struct setup *s);

/* Join the threads that were told to stop and have finished. */
void watchers_reap(struct watchers *w);

/* Connections of account that followed a failure, since start. */
unsigned long watchers_reconnects(struct watchers *w, const char *account);

/* Number of threads running (told to stop or not). */
size_t watchers_running(struct watchers *w);
/* How many mailboxes are storing a backlog now: read it atomically. */
const int *watchers_backlog(const struct watchers *w);

/* Stop every thread: each finishes the batch in hand; after grace seconds
 * the connections of those still busy (a stalled server) are aborted.
 * Then join them all (their reconnect counts are kept). */
void watchers_stop(struct watchers *w, int grace);
/* Stop (without grace) and free. NULL is accepted. */
void watchers_free(struct watchers **w);

#endif
