/* notify: mail to the supervisors (escalate_to: in the configuration)
 * when a case is escalated, by a rule or by an agent. The message goes
 * into the outbox in the caller's transaction and the daemon sends it like
 * an acknowledgement; nothing here talks SMTP. Customers' text only ever
 * reaches the quoted-printable body or a header-safe, RFC 2047-encoded
 * subject. */
#ifndef PEAKQ_NOTIFY_H
#define PEAKQ_NOTIFY_H

#include <stdint.h>

#include "conf.h"
#include "store.h"
#include "xerr.h"

/* Queue one escalation mail per escalate_to address about case_id
 * (reason: why; actor: who escalated). *n_r counts the rows queued (0
 * when nobody is configured). 0 or -1. */
int notify_escalation(struct store *st, const struct conf *conf,
		      int64_t case_id, const char *reason, const char *actor,
		      int64_t now, int *n_r, struct xerr *err) WARN_UNUSED;

#endif
