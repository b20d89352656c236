/* autoreply: "may we acknowledge this message?" following RFC 3834, RFC 5230
 * and Pigeonhole's vacation checks, plus marketplace, spam and bounce
 * heuristics. Decides only; never sends, stores or logs. */
#ifndef PEAKQ_AUTOREPLY_H
#define PEAKQ_AUTOREPLY_H

#include <stddef.h>

#include "mime.h"

/* The header we put on everything we send; its presence on incoming mail
 * means a peakq (ours or another) wrote it. */
#define AUTOREPLY_LOOP_HEADER "X-Peakq-Loop"

struct autoreply_policy {
	const char *const *own_addrs; /* our addresses (From, Reply-To, ...) */
	size_t nown;
};

/* Returns 1 when we may acknowledge, with *rcpt_r the address to answer
 * (borrowed from msg: Reply-To if present, else From); 0 when not, with
 * *reason_r a short static reason ("auto-submitted", "list", ...). */
int autoreply_decide(const struct message *msg,
		     const struct autoreply_policy *policy, const char **rcpt_r,
		     const char **reason_r);

/* Is the local part of addr a system or robot sender (MAILER-DAEMON,
 * postmaster, owner-*, *-request, gmail-noreply, bounces+..., newsletter,
 * www-data, ...; the list is in peakqd(8))? */
int autoreply_robot_address(const char *addr);

#endif
