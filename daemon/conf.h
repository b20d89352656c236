/* conf: peakq.yaml -> an immutable struct conf. Validates everything it can
 * without touching the network or the store (passwords are read later, by
 * conf_read_password). Errors are "file:line:col: message". */
#ifndef PEAKQ_CONF_H
#define PEAKQ_CONF_H

#include <stddef.h>

#include "xerr.h"

enum conf_tls { CONF_TLS_IMPLICIT, CONF_TLS_STARTTLS, CONF_TLS_NONE };
enum conf_after { CONF_AFTER_KEYWORD, CONF_AFTER_SEEN, CONF_AFTER_MOVE };

struct conf_account {
	char *name;
	char *host;
	int port;
	enum conf_tls tls;
	char *ca_file; /* NULL: system trust store */
	int insecure;  /* allow plain text off loopback */
	char *user;
	char *password_file;
	int timeout;	    /* seconds per network read */
	int idle;	    /* use IDLE when the server offers it */
	int idle_refresh;   /* seconds: end and restart an IDLE this often */
	char *default_lang; /* "en"/"zh" when a message's own can't be told */
	char **mailboxes;
	size_t nmailboxes;
	enum conf_after after;
	char *after_arg; /* keyword or folder */
};

struct conf_smtp {
	char *url; /* smtp://host:port/ehlo or smtps://... */
	char *host;
	int port;
	int implicit_tls; /* smtps:// */
	int starttls;	  /* smtp:// with tls: starttls (required) */
	char *ca_file;
	int insecure;
	char *user; /* NULL: no AUTH */
	char *password_file;
	char *from;	     /* full From value as configured */
	char *from_name;     /* its display name or NULL */
	char *from_addr;     /* its addr-spec */
	char *reply_to;	     /* optional */
	char *reply_to_name; /* optional */
	char *reply_to_addr; /* optional */
	char *envelope_from; /* "" for <> */
	int timeout;	     /* seconds per network read */
	int connections;     /* sent over in parallel */
};

struct conf {
	char *file;
	char *team_name;
	char *store_path;
	unsigned store_mode;	/* 0600, or 0660 for agents in its group */
	int strict_permissions; /* refuse password files others can read */
	char *rules_dir;
	char *templates_dir;
	long long poll_interval; /* seconds */
	long long max_message_size;
	char *default_lang;
	char *subject_tag; /* "[Case #%d]"-like format with {{case_id}} */
	struct conf_account *accounts;
	size_t naccounts;
	struct conf_smtp smtp;
	struct conf_acks {
		long long max_age;     /* older messages: expired, not sent */
		long long per_sender;  /* at most this many per sender... */
		long long window;      /* ...in this many seconds */
		long long retry_delay; /* first retry; doubles to 30 min */
		long long give_up;     /* temp failures for this long: failed */
	} acks;
	char *notices_file; /* NULL: none */
	char *time_zone;    /* e.g. "Asia/Shanghai"; NULL: the system's */
	char *metrics_file; /* Prometheus text file; NULL: none */
	char **escalate_to; /* supervisors' addr-specs, told of escalations */
	size_t nescalate_to;
};

/* Load and validate path. Relative paths inside the file are taken relative
 * to the file's directory. Returns 0 and an owned conf, or -1 with
 * XERR_CONFIG. */
int conf_load(const char *path, struct conf **conf_r,
	      struct xerr *err) WARN_UNUSED;
void conf_free(struct conf **conf);
/* Make the configuration's time_zone the process's local time (TZ) for
 * dates in acknowledgements, the CLI and reports. No-op without one. */
void conf_apply_time_zone(const struct conf *conf);

/* Do a and b connect and mark mail the same way (same server, login,
 * timeouts, IDLE use and after_ingest)? Then a running connection of a
 * can go on serving b after a reload. */
int conf_account_same_connection(const struct conf_account *a,
				 const struct conf_account *b);

/* 0 if password file path cannot be read or changed by every user (or
 * does not exist: reading it will say so), else -1 with the reason. */
int conf_secret_private(const char *path, struct xerr *err) WARN_UNUSED;

/* Read a password file (first line, without the newline). Returns 0 and an
 * owned string (free with secret_free), or -1 with XERR_CONFIG. */
int conf_read_password(const char *path, char **pw_r,
		       struct xerr *err) WARN_UNUSED;

/* Is host a loopback name or address (localhost, 127.0.0.0/8, ::1)? */
int conf_host_is_loopback(const char *host);

/* Default config path: $PEAKQ_CONFIG or SYSCONFDIR/peakq/peakq.yaml. */
const char *conf_default_path(void);

#endif
