/* smtp: send one rendered message with libcurl over verified TLS (smtps://
 * or smtp:// with STARTTLS required), reusing one connection across sends,
 * and classify failures as temporary (4xx, network) or permanent (5xx).
 * Renders nothing. */
#ifndef PEAKQ_SMTP_H
#define PEAKQ_SMTP_H

#include <signal.h>
#include <stddef.h>

#include "xerr.h"

struct smtp_params {
	const char *host;
	int port;
	int implicit_tls; /* smtps:// */
	int starttls;	  /* require STARTTLS on smtp:// */
	const char *ca_file;
	const char *user;	   /* NULL: no AUTH */
	const char *password;	   /* copied */
	const char *helo;	   /* EHLO name */
	const char *envelope_from; /* "" for the null sender <> */
	int timeout;		   /* seconds */
	/* Set asynchronously when the daemon stops: a transaction under way
	 * gets PQ_SMTP_STOP_GRACE seconds more, then is cut. May be NULL. */
	volatile sig_atomic_t *stop;
};

struct smtp_client;

/* libcurl's global initialisation (once; also done by smtp_new). Call it
 * before starting threads, as libcurl asks: it loads the TLS libraries,
 * which would otherwise happen in whichever sender thread comes first.
 * 0, or -1 if libcurl cannot start. */
int smtp_global_init(void);

int smtp_new(const struct smtp_params *p, struct smtp_client **c_r,
	     struct xerr *err) WARN_UNUSED;
void smtp_free(struct smtp_client **c);

/* Send data (CRLF line ends) to rcpt. Returns 0 when the server accepted it,
 * or -1 with XERR_TEMP (retry later) or XERR_PERM (5xx: do not retry).
 * *uncertain_r is 1 when the whole message went out and no final reply
 * came: the server may have it, and it must not be sent again by itself. */
int smtp_send(struct smtp_client *c, const char *rcpt, const char *data,
	      size_t len, int *uncertain_r, struct xerr *err) WARN_UNUSED;

#endif
