/* conf: walk the YAML tree of peakq.yaml into struct conf, refusing unknown
 * keys, wrong types and unsafe TLS choices with located errors. Touches no
 * network and no database. */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "buf.h"
#include "conf.h"
#include "yml.h"

#define DEFAULT_KEYWORD "$PeakqQueued"

const char *conf_default_path(void)
{
	const char *p = getenv("PEAKQ_CONFIG");

	return (p && *p) ? p : SYSCONFDIR "/peakq/peakq.yaml";
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int conf_account_same_connection(const struct conf_account *a,
				 const struct conf_account *b)
{
	return same_str(a->name, b->name) && same_str(a->host, b->host) &&
	       a->port == b->port && a->tls == b->tls &&
	       same_str(a->ca_file, b->ca_file) && a->insecure == b->insecure &&
	       same_str(a->user, b->user) &&
	       same_str(a->password_file, b->password_file) &&
	       a->timeout == b->timeout && a->idle == b->idle &&
	       a->idle_refresh == b->idle_refresh && a->after == b->after &&
	       same_str(a->after_arg, b->after_arg);
}

int conf_host_is_loopback(const char *host)
{
	if (!host)
		return 0;
	if (ascii_casecmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
	    strcmp(host, "[::1]") == 0)
		return 1;
	if (strncmp(host, "127.", 4) == 0) {
		/* a dotted quad in 127/8 */
		int dots = 0;
		for (const char *p = host; *p; p++) {
			if (*p == '.')
				dots++;
			else if (*p < '0' || *p > '9')
				return 0;
		}
		return dots == 3;
	}
	return 0;
}

static void account_release(struct conf_account *a)
{
	free(a->name);
	free(a->host);
	free(a->ca_file);
	free(a->user);
	free(a->password_file);
	for (size_t i = 0; i < a->nmailboxes; i++)
		free(a->mailboxes[i]);
	free(a->mailboxes);
	free(a->after_arg);
	free(a->default_lang);
}

void conf_free(struct conf **confp)
{
	struct conf *c = *confp;

	if (!c)
		return;
	for (size_t i = 0; i < c->naccounts; i++)
		account_release(&c->accounts[i]);
	free(c->accounts);
	free(c->file);
	free(c->team_name);
	free(c->store_path);
	free(c->rules_dir);
	free(c->templates_dir);
	free(c->default_lang);
	free(c->subject_tag);
	free(c->time_zone);
	free(c->metrics_file);
	for (size_t i = 0; i < c->nescalate_to; i++)
		free(c->escalate_to[i]);
	free(c->escalate_to);
	free(c->notices_file);
	free(c->smtp.url);
	free(c->smtp.host);
	free(c->smtp.ca_file);
	free(c->smtp.user);
	free(c->smtp.password_file);
	free(c->smtp.from);
	free(c->smtp.from_addr);
	free(c->smtp.from_name);
	free(c->smtp.reply_to);
	free(c->smtp.reply_to_name);
	free(c->smtp.reply_to_addr);
	free(c->smtp.envelope_from);
	free(c);
	*confp = NULL;
}

/* ${NAME} in a path becomes the environment variable NAME; with systemd,
 * password_file: ${CREDENTIALS_DIRECTORY}/support-imap reads a
 * LoadCredential= file. An unset variable is an error, not "". */
static int expand_env(const struct yml_doc *doc, const struct yml_node *v,
		      char **s, struct xerr *err)
{
	char *p = strstr(*s, "${");
	struct buf b;
	const char *q = *s;

	if (!p)
		return 0;
	buf_init(&b, 8192);
	while ((p = strstr(q, "${"))) {
		char *end = strchr(p, '}'), *name;
		const char *val;
		if (!end) {
			buf_release(&b);
			return yml_error(doc, v, err, "'${' without '}'");
		}
		name = xstrndup(p + 2, (size_t)(end - p - 2));
		val = getenv(name);
		if (!val || !*val) {
			int r = yml_error(
			    doc, v, err, "${%s} is not set%s", name,
			    strcmp(name, "CREDENTIALS_DIRECTORY") == 0
				? " (run peakqd under systemd with "
				  "LoadCredential=, or give the file's path)"
				: "");
			free(name);
			buf_release(&b);
			return r;
		}
		free(name);
		(void)!buf_add(&b, q, (size_t)(p - q));
		(void)!buf_adds(&b, val);
		q = end + 1;
	}
	(void)!buf_adds(&b, q);
	free(*s);
	*s = buf_detach(&b, NULL);
	return 0;
}

/* Make a relative path relative to the config file's directory. */
static void resolve_path(const struct conf *c, char **path)
{
	char *dir, *copy;

	if (!*path || (*path)[0] == '/' || (*path)[0] == '\0')
		return;
	copy = xstrdup(c->file);
	dir = dirname(copy);
	char *abs = xasprintf("%s/%s", dir, *path);
	free(copy);
	free(*path);
	*path = abs;
}

/* Parse "Name <addr>" or "addr"; *addr_r and *name_r (NULL when there is
 * no name) owned. Returns 0 or -1. */
static int parse_from(const char *s, char **addr_r, char **name_r)
{
	const char *lt = strrchr(s, '<'), *gt, *at, *full = s;
	size_t n;

	if (strpbrk(s, "\r\n"))
		return -1;
	if (lt) {
		gt = strchr(lt, '>');
		if (!gt || gt[1] != '\0')
			return -1;
		s = lt + 1;
		n = (size_t)(gt - s);
	} else {
		n = strlen(s);
	}
	if (n == 0 || n > 254)
		return -1;
	at = memchr(s, '@', n);
	if (!at || at == s || at == s + n - 1)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '<' || s[i] == '>' ||
		    (unsigned char)s[i] < 0x20)
			return -1;
	*addr_r = xstrndup(s, n);
	*name_r = NULL;
	if (lt) {
		const char *b = full, *e = lt;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e - b >= 2 && *b == '"' && e[-1] == '"') {
			b++;
			e--;
		}
		if (e > b)
			*name_r = xstrndup(b, (size_t)(e - b));
	}
	return 0;
}

static int load_imap(const struct yml_doc *doc, const struct yml_node *m,
		     struct conf_account *a, struct xerr *err)
{
	static const char *const keys[] = {"host",	    "port",	"tls",
					   "ca_file",	    "insecure", "user",
					   "password_file", "timeout",	"idle",
					   "idle_refresh",  NULL};
	struct yml_node *v;
	long long port, secs;
	char *tls = NULL;
	int ret = -1;

	if (yml_expect(doc, m, YML_MAP, "imap", err) < 0 ||
	    yml_check_keys(doc, m, keys, err) < 0)
		goto out;
	if (!(v = yml_get(m, "host"))) {
		yml_error(doc, m, err, "imap: 'host' is required");
		goto out;
	}
	if (yml_str(doc, v, "imap host", 0, &a->host, err) < 0)
		goto out;
	a->tls = CONF_TLS_IMPLICIT;
	if ((v = yml_get(m, "tls"))) {
		if (yml_str(doc, v, "tls", 0, &tls, err) < 0)
			goto out;
		if (strcmp(tls, "implicit") == 0)
			a->tls = CONF_TLS_IMPLICIT;
		else if (strcmp(tls, "starttls") == 0)
			a->tls = CONF_TLS_STARTTLS;
		else if (strcmp(tls, "none") == 0)
			a->tls = CONF_TLS_NONE;
		else {
			yml_error(doc, v, err,
				  "tls must be implicit, starttls or none, "
				  "not '%s'",
				  tls);
			goto out;
		}
	}
	a->port = a->tls == CONF_TLS_IMPLICIT ? 993 : 143;
	if ((v = yml_get(m, "port"))) {
		if (yml_int(doc, v, "port", 1, 65535, &port, err) < 0)
			goto out;
		a->port = (int)port;
	}
	if ((v = yml_get(m, "ca_file")) &&
	    yml_str(doc, v, "ca_file", 0, &a->ca_file, err) < 0)
		goto out;
	if ((v = yml_get(m, "insecure")) &&
	    yml_bool(doc, v, "insecure", &a->insecure, err) < 0)
		goto out;
	if (!(v = yml_get(m, "user"))) {
		yml_error(doc, m, err, "imap: 'user' is required");
		goto out;
	}
	if (yml_str(doc, v, "user", 0, &a->user, err) < 0)
		goto out;
	if (!(v = yml_get(m, "password_file"))) {
		yml_error(doc, m, err,
			  "imap: 'password_file' is required (passwords never "
			  "go in this file)");
		goto out;
	}
	if (yml_str(doc, v, "password_file", 0, &a->password_file, err) < 0 ||
	    expand_env(doc, v, &a->password_file, err) < 0)
		goto out;
	a->timeout = PQ_IMAP_TIMEOUT;
	if ((v = yml_get(m, "timeout"))) {
		if (yml_duration(doc, v, "timeout", 1, 3600, &secs, err) < 0)
			goto out;
		a->timeout = (int)secs;
	}
	a->idle = 1;
	if ((v = yml_get(m, "idle")) &&
	    yml_bool(doc, v, "idle", &a->idle, err) < 0)
		goto out;
	/* RFC 2177: a server may drop an IDLE after 30 minutes. */
	a->idle_refresh = PQ_IDLE_REFRESH;
	if ((v = yml_get(m, "idle_refresh"))) {
		if (yml_duration(doc, v, "idle_refresh", 5, 29 * 60, &secs,
				 err) < 0)
			goto out;
		a->idle_refresh = (int)secs;
	}
	if (a->tls == CONF_TLS_NONE && !a->insecure &&
	    !conf_host_is_loopback(a->host)) {
		v = yml_get(m, "tls");
		yml_error(doc, v, err,
			  "tls: none sends the password in clear text to '%s'; "
			  "only allowed for a loopback host or with "
			  "insecure: true",
			  a->host);
		goto out;
	}
	ret = 0;
out:
	free(tls);
	return ret;
}

static int load_after(const struct yml_doc *doc, const struct yml_node *v,
		      struct conf_account *a, struct xerr *err)
{
	static const char *const keys[] = {"keyword", "move", NULL};

	if (v->type == YML_SCALAR) {
		if (strcmp(v->str, "keyword") == 0) {
			a->after = CONF_AFTER_KEYWORD;
			return 0;
		}
		if (strcmp(v->str, "seen") == 0) {
			a->after = CONF_AFTER_SEEN;
			return 0;
		}
		return yml_error(doc, v, err,
				 "after_ingest must be keyword, seen, "
				 "{keyword: NAME} or {move: FOLDER}, not '%s'",
				 v->str);
	}
	if (yml_expect(doc, v, YML_MAP, "after_ingest", err) < 0 ||
	    yml_check_keys(doc, v, keys, err) < 0)
		return -1;
	if (v->n != 1)
		return yml_error(doc, v, err,
				 "after_ingest takes exactly one of keyword "
				 "or move");
	if (strcmp(v->keys[0]->str, "keyword") == 0) {
		a->after = CONF_AFTER_KEYWORD;
		if (yml_str(doc, v->items[0], "keyword", 0, &a->after_arg,
			    err) < 0)
			return -1;
		/* RFC 3501 atom, no '\' system flags. */
		for (const char *p = a->after_arg; *p; p++)
			if ((unsigned char)*p <= ' ' ||
			    (unsigned char)*p >= 127 ||
			    strchr("(){%*\"\\]", *p))
				return yml_error(doc, v->items[0], err,
						 "keyword '%s' is not a valid "
						 "IMAP keyword",
						 a->after_arg);
		return 0;
	}
	a->after = CONF_AFTER_MOVE;
	return yml_str(doc, v->items[0], "move folder", 0, &a->after_arg, err);
}

static int load_account(const struct yml_doc *doc, const struct yml_node *m,
			struct conf_account *a, struct xerr *err)
{
	static const char *const keys[] = {
	    "name", "imap", "mailboxes", "after_ingest", "default_lang", NULL};
	struct yml_node *v;

	if (yml_expect(doc, m, YML_MAP, "an account", err) < 0 ||
	    yml_check_keys(doc, m, keys, err) < 0)
		return -1;
	if (!(v = yml_get(m, "name")))
		return yml_error(doc, m, err, "account: 'name' is required");
	if (yml_str(doc, v, "account name", 0, &a->name, err) < 0)
		return -1;
	for (const char *p = a->name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("-_.", *p)))
			return yml_error(doc, v, err,
					 "account name '%s' may only use "
					 "letters, digits, '-', '_' and '.'",
					 a->name);
	if (!(v = yml_get(m, "imap")))
		return yml_error(doc, m, err,
				 "account '%s': 'imap' is required", a->name);
	if (load_imap(doc, v, a, err) < 0)
		return -1;
	if ((v = yml_get(m, "mailboxes"))) {
		if (yml_expect(doc, v, YML_SEQ, "mailboxes", err) < 0)
			return -1;
		if (v->n == 0)
			return yml_error(doc, v, err,
					 "mailboxes must list at least one "
					 "folder");
		a->mailboxes = xcalloc(v->n, sizeof(char *));
		for (size_t i = 0; i < v->n; i++) {
			if (yml_str(doc, v->items[i], "mailbox", 0,
				    &a->mailboxes[i], err) < 0)
				return -1;
			a->nmailboxes++;
			for (size_t j = 0; j < i; j++)
				if (strcmp(a->mailboxes[j], a->mailboxes[i]) ==
				    0)
					return yml_error(doc, v->items[i], err,
							 "mailbox '%s' listed "
							 "twice",
							 a->mailboxes[i]);
		}
	} else {
		a->mailboxes = xcalloc(1, sizeof(char *));
		a->mailboxes[0] = xstrdup("INBOX");
		a->nmailboxes = 1;
	}
	a->after = CONF_AFTER_KEYWORD;
	if ((v = yml_get(m, "after_ingest")) && load_after(doc, v, a, err) < 0)
		return -1;
	if (a->after == CONF_AFTER_KEYWORD && !a->after_arg)
		a->after_arg = xstrdup(DEFAULT_KEYWORD);
	if ((v = yml_get(m, "default_lang"))) {
		if (yml_str(doc, v, "default_lang", 0, &a->default_lang, err) <
		    0)
			return -1;
		if (strcmp(a->default_lang, "en") &&
		    strcmp(a->default_lang, "zh"))
			return yml_error(doc, v, err,
					 "default_lang must be en or zh, not "
					 "'%s'",
					 a->default_lang);
	}
	if (a->after == CONF_AFTER_MOVE) {
		for (size_t i = 0; i < a->nmailboxes; i++)
			if (strcmp(a->mailboxes[i], a->after_arg) == 0)
				return yml_error(
				    doc, yml_get(m, "after_ingest"), err,
				    "cannot move into '%s': it is "
				    "a watched mailbox",
				    a->after_arg);
	}
	return 0;
}

/* smtp[s]://host[:port][/ehlo] */
static int parse_smtp_url(struct conf_smtp *s)
{
	const char *p = s->url, *host, *end;

	if (strncmp(p, "smtps://", 8) == 0) {
		s->implicit_tls = 1;
		p += 8;
	} else if (strncmp(p, "smtp://", 7) == 0) {
		p += 7;
	} else {
		return -1;
	}
	host = p;
	if (*p == '[') {
		end = strchr(p, ']');
		if (!end)
			return -1;
		s->host = xstrndup(p + 1, (size_t)(end - p - 1));
		p = end + 1;
	} else {
		end = p + strcspn(p, ":/");
		if (end == host)
			return -1;
		s->host = xstrndup(host, (size_t)(end - host));
		p = end;
	}
	s->port = s->implicit_tls ? 465 : 587;
	if (*p == ':') {
		char num[8];
		size_t n = strcspn(p + 1, "/");
		long long port;
		if (n == 0 || n >= sizeof(num))
			return -1;
		memcpy(num, p + 1, n);
		num[n] = '\0';
		if (parse_ll(num, 1, 65535, &port) < 0)
			return -1;
		s->port = (int)port;
		p += 1 + n;
	}
	if (*p && *p != '/')
		return -1;
	return 0;
}

static int load_smtp(const struct yml_doc *doc, const struct yml_node *m,
		     struct conf_smtp *s, struct xerr *err)
{
	static const char *const keys[] = {
	    "url",	     "tls",	      "ca_file",     "insecure",
	    "user",	     "password_file", "from",	     "reply_to",
	    "envelope_from", "timeout",	      "connections", NULL};
	struct yml_node *v;
	char *tls = NULL, *addr = NULL;
	int ret = -1, none = 0;
	long long secs;

	if (yml_expect(doc, m, YML_MAP, "smtp", err) < 0 ||
	    yml_check_keys(doc, m, keys, err) < 0)
		goto out;
	if (!(v = yml_get(m, "url"))) {
		yml_error(doc, m, err, "smtp: 'url' is required");
		goto out;
	}
	if (yml_str(doc, v, "smtp url", 0, &s->url, err) < 0)
		goto out;
	if (parse_smtp_url(s) < 0) {
		yml_error(doc, v, err,
			  "smtp url must look like smtps://host[:port] or "
			  "smtp://host[:port], not '%s'",
			  s->url);
		goto out;
	}
	s->starttls = !s->implicit_tls;
	if ((v = yml_get(m, "tls"))) {
		if (yml_str(doc, v, "tls", 0, &tls, err) < 0)
			goto out;
		if (strcmp(tls, "starttls") == 0 && !s->implicit_tls) {
			s->starttls = 1;
		} else if (strcmp(tls, "implicit") == 0 && s->implicit_tls) {
			s->starttls = 0;
		} else if (strcmp(tls, "none") == 0 && !s->implicit_tls) {
			s->starttls = 0;
			none = 1;
		} else {
			yml_error(
			    doc, v, err,
			    "smtp tls '%s' does not fit the url (smtps:// "
			    "is implicit; smtp:// is starttls or none)",
			    tls);
			goto out;
		}
	}
	if ((v = yml_get(m, "ca_file")) &&
	    yml_str(doc, v, "ca_file", 0, &s->ca_file, err) < 0)
		goto out;
	if ((v = yml_get(m, "insecure")) &&
	    yml_bool(doc, v, "insecure", &s->insecure, err) < 0)
		goto out;
	if (none && !s->insecure && !conf_host_is_loopback(s->host)) {
		yml_error(doc, yml_get(m, "tls"), err,
			  "tls: none sends mail in clear text to '%s'; only "
			  "allowed for a loopback host or with insecure: true",
			  s->host);
		goto out;
	}
	if ((v = yml_get(m, "user")) &&
	    yml_str(doc, v, "smtp user", 0, &s->user, err) < 0)
		goto out;
	if ((v = yml_get(m, "password_file")) &&
	    (yml_str(doc, v, "password_file", 0, &s->password_file, err) < 0 ||
	     expand_env(doc, v, &s->password_file, err) < 0))
		goto out;
	if (s->user && !s->password_file) {
		yml_error(doc, m, err,
			  "smtp: 'user' needs 'password_file' (passwords "
			  "never go in this file)");
		goto out;
	}
	if (!(v = yml_get(m, "from"))) {
		yml_error(doc, m, err, "smtp: 'from' is required");
		goto out;
	}
	if (yml_str(doc, v, "from", 0, &s->from, err) < 0)
		goto out;
	if (parse_from(s->from, &s->from_addr, &s->from_name) < 0) {
		yml_error(doc, v, err,
			  "from must be 'Name <address>' or 'address', not "
			  "'%s'",
			  s->from);
		goto out;
	}
	if ((v = yml_get(m, "reply_to"))) {
		if (yml_str(doc, v, "reply_to", 0, &s->reply_to, err) < 0)
			goto out;
		if (parse_from(s->reply_to, &s->reply_to_addr,
			       &s->reply_to_name) < 0) {
			yml_error(doc, v, err,
				  "reply_to must be 'Name <address>' or "
				  "'address'");
			goto out;
		}
	}
	s->timeout = PQ_SMTP_TIMEOUT;
	if ((v = yml_get(m, "timeout"))) {
		if (yml_duration(doc, v, "timeout", 1, 3600, &secs, err) < 0)
			goto out;
		s->timeout = (int)secs;
	}
	s->connections = PQ_SMTP_CONNECTIONS;
	if ((v = yml_get(m, "connections"))) {
		long long n;
		if (yml_int(doc, v, "connections", 1, PQ_SMTP_CONNECTIONS_MAX,
			    &n, err) < 0)
			goto out;
		s->connections = (int)n;
	}
	s->envelope_from = xstrdup("");
	if ((v = yml_get(m, "envelope_from"))) {
		if (yml_str(doc, v, "envelope_from", 1, &s->envelope_from,
			    err) < 0)
			goto out;
		if (strcmp(s->envelope_from, "<>") == 0)
			s->envelope_from[0] = '\0';
		char *name = NULL;
		if (s->envelope_from[0] &&
		    parse_from(s->envelope_from, &addr, &name) < 0) {
			yml_error(doc, v, err,
				  "envelope_from must be an address or \"<>\"");
			goto out;
		}
		free(name);
		if (addr) {
			free(s->envelope_from);
			s->envelope_from = addr;
			addr = NULL;
		}
	}
	ret = 0;
out:
	free(tls);
	free(addr);
	return ret;
}

static int load_acks(const struct yml_doc *doc, const struct yml_node *m,
		     struct conf_acks *a, struct xerr *err)
{
	static const char *const keys[] = {"max_age",	    "per_sender",
					   "window",	    "retry_delay",
					   "give_up_after", NULL};
	struct yml_node *v;

	a->max_age = 12 * 3600;
	a->per_sender = 3;
	a->window = 24 * 3600;
	a->retry_delay = 30;
	a->give_up = 24 * 3600;
	if (!m)
		return 0;
	if (yml_expect(doc, m, YML_MAP, "acks", err) < 0 ||
	    yml_check_keys(doc, m, keys, err) < 0)
		return -1;
	if ((v = yml_get(m, "max_age")) &&
	    yml_duration(doc, v, "max_age", 60, 30 * 86400, &a->max_age, err) <
		0)
		return -1;
	if ((v = yml_get(m, "per_sender")) &&
	    yml_int(doc, v, "per_sender", 1, 1000, &a->per_sender, err) < 0)
		return -1;
	if ((v = yml_get(m, "window")) &&
	    yml_duration(doc, v, "window", 60, 30 * 86400, &a->window, err) < 0)
		return -1;
	if ((v = yml_get(m, "retry_delay")) &&
	    yml_duration(doc, v, "retry_delay", 1, 3600, &a->retry_delay, err) <
		0)
		return -1;
	if ((v = yml_get(m, "give_up_after")) &&
	    yml_duration(doc, v, "give_up_after", 60, 7 * 86400, &a->give_up,
			 err) < 0)
		return -1;
	return 0;
}

/* escalate_to: one address or a list; "Name <addr>" or addr. */
static int load_escalate_to(const struct yml_doc *doc, const struct yml_node *v,
			    struct conf *c, struct xerr *err)
{
	const struct yml_node *one = v;
	size_t n = v->type == YML_SEQ ? v->n : 1;

	if (v->type != YML_SEQ &&
	    yml_expect(doc, v, YML_SCALAR, "escalate_to", err) < 0)
		return -1;
	if (n > 50)
		return yml_error(doc, v, err,
				 "escalate_to: at most 50 "
				 "addresses");
	c->escalate_to = xcalloc(n ? n : 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		char *s = NULL, *name = NULL;
		if (v->type == YML_SEQ)
			one = v->items[i];
		if (yml_str(doc, one, "escalate_to", 0, &s, err) < 0)
			return -1;
		int r = parse_from(s, &c->escalate_to[i], &name);
		free(s);
		free(name);
		if (r < 0)
			return yml_error(doc, one, err,
					 "escalate_to: not an e-mail address");
		c->nescalate_to++;
	}
	return 0;
}

static int load_root(const struct yml_doc *doc, struct conf *c,
		     struct xerr *err)
{
	static const char *const keys[] = {"team_name",
					   "store",
					   "rules_dir",
					   "templates_dir",
					   "poll_interval",
					   "max_message_size",
					   "default_lang",
					   "subject_tag",
					   "accounts",
					   "smtp",
					   "acks",
					   "notices",
					   "escalate_to",
					   "time_zone",
					   "metrics_file",
					   "store_mode",
					   "strict_permissions",
					   NULL};
	const struct yml_node *root = doc->root;
	struct yml_node *v;

	if (!root)
		return xerr_set(err, XERR_CONFIG, "%s: the file is empty",
				doc->file);
	if (yml_expect(doc, root, YML_MAP, "the configuration", err) < 0 ||
	    yml_check_keys(doc, root, keys, err) < 0)
		return -1;

	c->team_name = xstrdup("Customer Service");
	if ((v = yml_get(root, "team_name")) &&
	    yml_str(doc, v, "team_name", 0, &c->team_name, err) < 0)
		return -1;
	c->store_path = xstrdup(LOCALSTATEDIR "/lib/peakq/peakq.db");
	if ((v = yml_get(root, "store")) &&
	    yml_str(doc, v, "store", 0, &c->store_path, err) < 0)
		return -1;
	c->store_mode = 0600;
	if ((v = yml_get(root, "store_mode"))) {
		if (yml_expect(doc, v, YML_SCALAR, "store_mode", err) < 0)
			return -1;
		if (strcmp(v->str, "0660") == 0 || strcmp(v->str, "660") == 0)
			c->store_mode = 0660;
		else if (strcmp(v->str, "0600") && strcmp(v->str, "600"))
			return yml_error(doc, v, err,
					 "store_mode must be 0600 (only the "
					 "daemon's user) or 0660 (agents in "
					 "its group too), not '%s'",
					 v->str);
	}
	if ((v = yml_get(root, "strict_permissions")) &&
	    yml_bool(doc, v, "strict_permissions", &c->strict_permissions,
		     err) < 0)
		return -1;
	c->rules_dir = xstrdup(SYSCONFDIR "/peakq/rules");
	if ((v = yml_get(root, "rules_dir")) &&
	    yml_str(doc, v, "rules_dir", 0, &c->rules_dir, err) < 0)
		return -1;
	c->templates_dir = xstrdup(SYSCONFDIR "/peakq/templates");
	if ((v = yml_get(root, "templates_dir")) &&
	    yml_str(doc, v, "templates_dir", 0, &c->templates_dir, err) < 0)
		return -1;
	c->poll_interval = 60;
	if ((v = yml_get(root, "poll_interval")) &&
	    yml_duration(doc, v, "poll_interval", 1, 86400, &c->poll_interval,
			 err) < 0)
		return -1;
	c->max_message_size = PQ_MAX_MESSAGE_BYTES;
	if ((v = yml_get(root, "max_message_size")) &&
	    yml_size(doc, v, "max_message_size", 64 * 1024,
		     1024LL * 1024 * 1024, &c->max_message_size, err) < 0)
		return -1;
	c->default_lang = xstrdup("en");
	if ((v = yml_get(root, "default_lang"))) {
		if (yml_str(doc, v, "default_lang", 0, &c->default_lang, err) <
		    0)
			return -1;
		if (strcmp(c->default_lang, "en") &&
		    strcmp(c->default_lang, "zh"))
			return yml_error(doc, v, err,
					 "default_lang must be en or zh, not "
					 "'%s'",
					 c->default_lang);
	}
	c->subject_tag = xstrdup("[Case #{{case_id}}]");
	if ((v = yml_get(root, "subject_tag"))) {
		if (yml_str(doc, v, "subject_tag", 0, &c->subject_tag, err) < 0)
			return -1;
		if (!strstr(c->subject_tag, "{{case_id}}") ||
		    strpbrk(c->subject_tag, "\r\n"))
			return yml_error(doc, v, err,
					 "subject_tag must contain "
					 "{{case_id}} and fit on one line");
	}
	if (load_acks(doc, yml_get(root, "acks"), &c->acks, err) < 0)
		return -1;
	if ((v = yml_get(root, "notices")) &&
	    yml_str(doc, v, "notices", 0, &c->notices_file, err) < 0)
		return -1;
	if ((v = yml_get(root, "escalate_to")) &&
	    load_escalate_to(doc, v, c, err) < 0)
		return -1;
	if ((v = yml_get(root, "metrics_file")) &&
	    yml_str(doc, v, "metrics_file", 0, &c->metrics_file, err) < 0)
		return -1;
	if ((v = yml_get(root, "time_zone"))) {
		char *zf;
		int known;
		if (yml_str(doc, v, "time_zone", 0, &c->time_zone, err) < 0)
			return -1;
		/* An IANA name (Europe/Berlin, Asia/Shanghai, UTC) that the
		 * system knows; nothing relative, nothing odd. */
		zf = xasprintf("/usr/share/zoneinfo/%s", c->time_zone);
		known = c->time_zone[0] != '/' && !strstr(c->time_zone, "..") &&
			strspn(c->time_zone,
			       "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			       "abcdefghijklmnopqrstuvwxyz"
			       "0123456789/_+-") == strlen(c->time_zone) &&
			access(zf, R_OK) == 0;
		free(zf);
		if (!known)
			return yml_error(doc, v, err,
					 "time_zone: unknown time zone '%s' "
					 "(an IANA name such as Asia/Shanghai "
					 "or Europe/Berlin; see "
					 "/usr/share/zoneinfo)",
					 c->time_zone);
	}

	if (!(v = yml_get(root, "accounts")))
		return yml_error(doc, root, err,
				 "'accounts' is required: at least one mailbox "
				 "account to watch");
	if (yml_expect(doc, v, YML_SEQ, "accounts", err) < 0)
		return -1;
	if (v->n == 0)
		return yml_error(doc, v, err, "accounts is empty");
	c->accounts = xcalloc(v->n, sizeof(*c->accounts));
	for (size_t i = 0; i < v->n; i++) {
		c->naccounts++;
		if (load_account(doc, v->items[i], &c->accounts[i], err) < 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->accounts[j].name, c->accounts[i].name) ==
			    0)
				return yml_error(doc, v->items[i], err,
						 "account name '%s' used twice",
						 c->accounts[i].name);
	}
	for (size_t i = 0; i < c->naccounts; i++)
		if (!c->accounts[i].default_lang)
			c->accounts[i].default_lang = xstrdup(c->default_lang);
	if (!(v = yml_get(root, "smtp")))
		return yml_error(doc, root, err,
				 "'smtp' is required: where acknowledgements "
				 "are sent");
	return load_smtp(doc, v, &c->smtp, err);
}

int conf_load(const char *path, struct conf **conf_r, struct xerr *err)
{
	struct yml_doc *doc = NULL;
	struct conf *c;
	int ret = -1;

	c = xcalloc(1, sizeof(*c));
	c->file = xstrdup(path);
	if (yml_load_file(path, &doc, err) < 0)
		goto out;
	if (load_root(doc, c, err) < 0)
		goto out;
	resolve_path(c, &c->store_path);
	resolve_path(c, &c->rules_dir);
	resolve_path(c, &c->templates_dir);
	resolve_path(c, &c->smtp.ca_file);
	resolve_path(c, &c->notices_file);
	resolve_path(c, &c->metrics_file);
	resolve_path(c, &c->smtp.password_file);
	for (size_t i = 0; i < c->naccounts; i++) {
		resolve_path(c, &c->accounts[i].ca_file);
		resolve_path(c, &c->accounts[i].password_file);
	}
	*conf_r = c;
	c = NULL;
	ret = 0;
out:
	yml_doc_free(&doc);
	conf_free(&c);
	return ret;
}

int conf_secret_private(const char *path, struct xerr *err)
{
	struct stat sb;

	if (stat(path, &sb) < 0)
		return 0; /* reading it will say why */
	if (sb.st_mode & (S_IROTH | S_IWOTH))
		return xerr_set(err, XERR_CONFIG,
				"password file '%s' can be %s by every user "
				"(mode %04o): chmod o-rwx it",
				path,
				(sb.st_mode & S_IROTH) ? "read" : "changed",
				(unsigned)(sb.st_mode & 07777));
	return 0;
}

int conf_read_password(const char *path, char **pw_r, struct xerr *err)
{
	char *data = NULL;
	size_t len;

	if (read_file(path, 4096, &data, &len) < 0)
		return xerr_set(err, XERR_CONFIG,
				"cannot read password file '%s': %s", path,
				strerror(errno));
	{
		size_t line = strcspn(data, "\r\n");
		explicit_bzero(data + line, len - line);
		len = line;
	}
	if (len == 0) {
		secret_free(&data);
		return xerr_set(err, XERR_CONFIG, "password file '%s' is empty",
				path);
	}
	*pw_r = data;
	return 0;
}

void conf_apply_time_zone(const struct conf *conf)
{
	if (conf && conf->time_zone) {
		setenv("TZ", conf->time_zone, 1);
		tzset();
	}
}
