/* imap: libetpan IMAP client session. libetpan does not verify TLS peers,
 * so every TLS stream's chain goes through tls_verify_chain() before a byte
 * of IMAP is trusted. Connections are our own sockets with timeouts. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libetpan/libetpan.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "imap.h"
#include "tls.h"

struct imap_conn {
	mailimap *imap;
	char *host;
	int has_move, has_uidplus, has_idle;
	int idle_setup; /* mailstream_setup_idle() done */
	int broken;	/* a stream or parse error: no LOGOUT at close */
};

static const char *server_text(mailimap *imap)
{
	return (imap && imap->imap_response) ? imap->imap_response : "";
}

static int peer_closed(const struct imap_conn *c);
static int literal_refused(const struct imap_conn *c, unsigned long long *size,
			   unsigned long long *limit);

/* Set err from a libetpan result code. */
static int imap_error(struct imap_conn *c, int r, const char *what,
		      struct xerr *err)
{
	const char *txt = server_text(c ? c->imap : NULL);
	enum xerr_kind kind = XERR_TEMP;
	unsigned long long size, limit;

	switch (r) {
	case MAILIMAP_ERROR_STREAM:
		if (c)
			c->broken = 1;
		if (literal_refused(c, &size, &limit))
			return xerr_set(err, kind,
					"imap: %s: the server announced a "
					"literal of %llu bytes, more than the "
					"%llu this command can bring; "
					"connection dropped",
					what, size, limit);
		if (c && peer_closed(c))
			return xerr_set(err, kind,
					"imap: %s: the server closed the "
					"connection",
					what);
		return xerr_set(err, kind,
				"imap: %s: connection lost or no answer within "
				"the timeout",
				what);
	case MAILIMAP_ERROR_PARSE:
		if (c)
			c->broken = 1;
		return xerr_set(err, kind,
				"imap: %s: malformed response from server",
				what);
	case MAILIMAP_ERROR_LOGIN:
		return xerr_set(err, XERR_CONFIG,
				"imap: login refused for this user%s%s",
				*txt ? ": " : "", txt);
	default:
		return xerr_set(err, kind, "imap: %s failed (libetpan %d)%s%s",
				what, r, *txt ? ": " : "", txt);
	}
}

static int is_ip_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	       inet_pton(AF_INET6, host, buf) == 1;
}

/* TCP connect with a timeout; returns a blocking fd or -1. */
static int tcp_connect(const char *host, int port, int timeout,
		       struct xerr *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_family = AF_UNSPEC},
			*res = NULL, *ai;
	char portstr[8];
	int fd = -1, r, last = 0;

	snprintf(portstr, sizeof(portstr), "%d", port);
	r = getaddrinfo(host, portstr, &hints, &res);
	if (r != 0)
		return xerr_set(err, XERR_TEMP, "imap: cannot resolve '%s': %s",
				host, gai_strerror(r));
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd pfd;
		int soerr = 0, one = 1;
		socklen_t sl = sizeof(soerr);

		fd = socket(ai->ai_family,
			    ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		/* A peer that vanished while we IDLE is noticed within
		 * about two minutes, not the kernel's two hours. */
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &(int){60},
			   sizeof(int));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &(int){15},
			   sizeof(int));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &(int){4},
			   sizeof(int));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 &&
		    errno != EINPROGRESS) {
			last = errno;
			goto next;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		r = poll(&pfd, 1, timeout * 1000);
		if (r == 0) {
			last = ETIMEDOUT;
			goto next;
		}
		if (r < 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) {
			last = errno;
			goto next;
		}
		if (soerr) {
			last = soerr;
			goto next;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		freeaddrinfo(res);
		return fd;
	next:
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return xerr_set(err, XERR_TEMP, "imap: cannot connect to %s:%d: %s",
			host, port, strerror(last ? last : ECONNREFUSED));
}

/* A guard sits between libetpan and every stream it reads (plain text and
 * TLS) and answers for two traps of libetpan 1.9.4 (TECH-NOTES 1.5):
 *
 * - It spins forever at full CPU when a plain-text peer closes the
 *   connection inside a literal: its socket driver reports end of file as a
 *   0-byte read, which the literal parser retries (fixed upstream in
 *   68de795). Its TLS driver reports an error instead; the guard does the
 *   same for both.
 * - It allocates a buffer of the announced size as soon as it reads a
 *   literal's {N}: a server announcing {4294967295} costs 4 GiB of address
 *   space (and, under ASan, 512 MiB of shadow memory written) before a byte
 *   of it arrives. The guard follows the server's framing and drops the
 *   connection when a literal is larger than the command in progress can
 *   ask for (guard_limit), before libetpan sees the {N}.
 *
 * Wrapping the TLS driver hides it from mailstream_wait_idle(), which then
 * waits on the socket alone and no longer sees TLS data already decrypted
 * but unread. At IDLE only "+ idling" and short untagged lines are read, far
 * below the 8 KiB libetpan asks for per read, so none is left pending; were
 * one ever, the wait would end at its timeout (imap_idle_wait). */
#define GUARD_LIMIT_DEFAULT (1024 * 1024) /* outside a body FETCH */

enum guard_state { G_TEXT, G_DIGITS, G_CLOSE, G_CR };

struct guard {
	mailstream_low *in;
	int eof;	     /* the peer closed the connection */
	uint64_t limit;	     /* largest literal accepted now */
	uint64_t refused;    /* size of the literal refused, 0 if none */
	uint64_t lit;	     /* bytes left in the current literal */
	uint64_t num;	     /* the number read after '{' */
	int digits;	     /* how many digits it had */
	enum guard_state st; /* where in a line's "{N}\r\n" we are */
};

/* Follow the server's framing over p[0..n): a line that ends in "{N}\r\n"
 * opens a literal of N bytes, whose content is skipped. Returns -1 when a
 * literal is announced above the limit. */
static int guard_scan(struct guard *g, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = p[i];

		if (g->lit) {
			uint64_t k = n - i < g->lit ? n - i : g->lit;
			g->lit -= k;
			i += (size_t)k - 1;
			continue;
		}
		switch (g->st) {
		case G_DIGITS:
			if (ch >= '0' && ch <= '9') {
				g->num = g->num > UINT64_MAX / 10 - 9
					     ? UINT64_MAX
					     : g->num * 10 + (ch - '0');
				g->digits++;
				continue;
			}
			if (ch == '}' && g->digits) {
				g->st = G_CLOSE;
				continue;
			}
			break;
		case G_CLOSE:
			if (ch == '\r') {
				g->st = G_CR;
				continue;
			}
			break;
		case G_CR:
			if (ch == '\n') {
				g->st = G_TEXT;
				if (g->num > g->limit) {
					g->refused = g->num;
					return -1;
				}
				g->lit = g->num;
				continue;
			}
			break;
		case G_TEXT:
			break;
		}
		g->st = ch == '{' ? G_DIGITS : G_TEXT;
		g->num = 0;
		g->digits = 0;
	}
	return 0;
}

static ssize_t guard_read(mailstream_low *s, void *buf, size_t n)
{
	struct guard *g = s->data;
	ssize_t r;

	if (g->refused) {
		errno = EMSGSIZE;
		return -1;
	}
	r = mailstream_low_read(g->in, buf, n);
	if (r == 0 && n > 0) {
		g->eof = 1;
		errno = ECONNRESET;
		return -1;
	}
	if (r > 0 && guard_scan(g, buf, (size_t)r) < 0) {
		errno = EMSGSIZE;
		return -1;
	}
	return r;
}

/* The wrapped driver. */
static mailstream_low *inner(mailstream_low *s)
{
	return ((struct guard *)s->data)->in;
}

static ssize_t guard_write(mailstream_low *s, const void *buf, size_t n)
{
	return mailstream_low_write(inner(s), buf, n);
}

static int guard_close(mailstream_low *s)
{
	return mailstream_low_close(inner(s));
}

static int guard_get_fd(mailstream_low *s)
{
	return mailstream_low_get_fd(inner(s));
}

static void guard_free(mailstream_low *s)
{
	struct guard *g = s->data;

	mailstream_low_free(g->in);
	free(g);
	free(s);
}

static void guard_cancel(mailstream_low *s)
{
	mailstream_low_cancel(inner(s));
}

static struct mailstream_cancel *guard_get_cancel(mailstream_low *s)
{
	return mailstream_low_get_cancel(inner(s));
}

static carray *guard_chain(mailstream_low *s)
{
	return mailstream_low_get_certificate_chain(inner(s));
}

static int guard_setup_idle(mailstream_low *s)
{
	return mailstream_low_setup_idle(inner(s));
}

static int guard_unsetup_idle(mailstream_low *s)
{
	return mailstream_low_unsetup_idle(inner(s));
}

static int guard_interrupt_idle(mailstream_low *s)
{
	return mailstream_low_interrupt_idle(inner(s));
}

static mailstream_low_driver guard_driver = {
    .mailstream_read = guard_read,
    .mailstream_write = guard_write,
    .mailstream_close = guard_close,
    .mailstream_get_fd = guard_get_fd,
    .mailstream_free = guard_free,
    .mailstream_cancel = guard_cancel,
    .mailstream_get_cancel = guard_get_cancel,
    .mailstream_get_certificate_chain = guard_chain,
    .mailstream_setup_idle = guard_setup_idle,
    .mailstream_unsetup_idle = guard_unsetup_idle,
    .mailstream_interrupt_idle = guard_interrupt_idle,
};

/* The guard of c's stream, or NULL. */
static struct guard *guard_of(const struct imap_conn *c)
{
	mailstream_low *low;

	if (!c || !c->imap || !c->imap->imap_stream)
		return NULL;
	low = mailstream_get_low(c->imap->imap_stream);
	if (!low || low->driver != &guard_driver)
		return NULL;
	return low->data;
}

static int peer_closed(const struct imap_conn *c)
{
	struct guard *g = guard_of(c);

	return g && g->eof;
}

/* Whether the guard dropped c's connection over a literal's size. */
static int literal_refused(const struct imap_conn *c, unsigned long long *size,
			   unsigned long long *limit)
{
	struct guard *g = guard_of(c);

	if (!g || !g->refused)
		return 0;
	*size = g->refused;
	*limit = g->limit;
	return 1;
}

/* The largest literal the command about to be sent may bring. */
static void guard_limit(struct imap_conn *c, uint64_t limit)
{
	struct guard *g = guard_of(c);

	if (g && !g->refused) /* the refused one's limit stays for the error */
		g->limit = limit;
}

/* Put a guard under stream s. */
static int guard_stream(mailstream *s)
{
	struct guard *g = xcalloc(1, sizeof(*g));
	mailstream_low *out;

	g->in = mailstream_get_low(s);
	g->limit = GUARD_LIMIT_DEFAULT;
	out = mailstream_low_new(g, &guard_driver);
	if (!out) {
		free(g);
		return -1;
	}
	mailstream_low_set_timeout(out, mailstream_low_get_timeout(g->in));
	mailstream_set_low(s, out);
	return 0;
}

static void sni_cb(struct mailstream_ssl_context *ctx, void *data)
{
	char *host = data;

	/* RFC 6066: no SNI for address literals. */
	if (!is_ip_literal(host))
		mailstream_ssl_set_server_name(ctx, host);
}

/* Verify the peer chain of stream s for host. */
static int verify_stream(mailstream *s, const char *host, const char *ca_file,
			 struct xerr *err)
{
	carray *chain = mailstream_get_certificate_chain(s);
	struct tls_der *der = NULL;
	size_t n;
	int r;

	if (!chain)
		return xerr_set(err, XERR_TEMP,
				"imap: tls: no certificate from '%s'", host);
	n = carray_count(chain);
	der = xcalloc(n ? n : 1, sizeof(*der));
	for (size_t i = 0; i < n; i++) {
		MMAPString *m = carray_get(chain, (unsigned)i);
		der[i].data = (const unsigned char *)m->str;
		der[i].len = m->len;
	}
	r = tls_verify_chain(der, n, host, ca_file, err);
	free(der);
	mailstream_certificate_chain_free(chain);
	if (r < 0)
		xerr_prefix(err, "imap");
	return r;
}

static void read_caps(struct imap_conn *c)
{
	struct mailimap_capability_data *caps = NULL;

	if (mailimap_capability(c->imap, &caps) == MAILIMAP_NO_ERROR)
		mailimap_capability_data_free(caps);
	c->has_move = mailimap_has_extension(c->imap, "MOVE");
	c->has_uidplus = mailimap_has_uidplus(c->imap);
	c->has_idle = mailimap_has_idle(c->imap);
}

int imap_connect(const struct imap_params *p, struct imap_conn **c_r,
		 struct xerr *err)
{
	struct imap_conn *c = xcalloc(1, sizeof(*c));
	mailstream *s = NULL;
	int fd = -1, r, ret = -1;

	c->host = xstrdup(p->host);
	c->imap = mailimap_new(0, NULL);
	if (!c->imap)
		fatal(70, "out of memory");
	mailimap_set_timeout(c->imap, p->timeout);
	fd = tcp_connect(p->host, p->port, p->timeout, err);
	if (fd < 0)
		goto out;
	if (p->tls == IMAP_TLS_IMPLICIT) {
		s = mailstream_ssl_open_with_callback_timeout(fd, p->timeout,
							      sni_cb, c->host);
		if (!s) {
			xerr_set(err, XERR_TEMP,
				 "imap: tls handshake with %s:%d failed",
				 p->host, p->port);
			goto out;
		}
		fd = -1; /* owned by the stream now */
		if (verify_stream(s, p->host, p->ca_file, err) < 0)
			goto out;
	} else {
		s = mailstream_socket_open_timeout(fd, p->timeout);
		if (!s) {
			xerr_set(err, XERR_TEMP, "imap: cannot open stream");
			goto out;
		}
		fd = -1;
	}
	if (guard_stream(s) < 0)
		fatal(70, "out of memory");
	r = mailimap_connect(c->imap, s);
	s = NULL; /* owned by c->imap, even on failure */
	if (r != MAILIMAP_NO_ERROR_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		imap_error(c, r, "greeting", err);
		goto out;
	}
	if (p->tls == IMAP_TLS_STARTTLS) {
		read_caps(c);
		if (!mailimap_has_extension(c->imap, "STARTTLS")) {
			xerr_set(
			    err, XERR_CONFIG,
			    "imap: %s:%d does not offer STARTTLS; refusing "
			    "to log in without TLS",
			    p->host, p->port);
			goto out;
		}
		r = mailimap_socket_starttls_with_callback(c->imap, sni_cb,
							   c->host);
		if (r != MAILIMAP_NO_ERROR) {
			if (r == MAILIMAP_ERROR_STARTTLS)
				xerr_set(err, XERR_TEMP,
					 "imap: STARTTLS with %s:%d failed "
					 "(refused, or data injected before "
					 "the handshake)",
					 p->host, p->port);
			else
				imap_error(c, r, "STARTTLS", err);
			goto out;
		}
		if (verify_stream(c->imap->imap_stream, p->host, p->ca_file,
				  err) < 0)
			goto out;
		/* The guard went with the plain-text stream. */
		if (guard_stream(c->imap->imap_stream) < 0)
			fatal(70, "out of memory");
	}
	r = mailimap_login(c->imap, p->user, p->password);
	if (r != MAILIMAP_NO_ERROR) {
		imap_error(c, r, "login", err);
		goto out;
	}
	read_caps(c);
	*c_r = c;
	c = NULL;
	ret = 0;
out:
	if (s)
		mailstream_close(s);
	if (fd >= 0)
		close(fd);
	if (c) {
		mailimap_free(c->imap);
		free(c->host);
		free(c);
	}
	return ret;
}

void imap_close(struct imap_conn **cp)
{
	struct imap_conn *c = *cp;

	if (!c)
		return;
	if (c->idle_setup && c->imap->imap_stream)
		mailstream_unsetup_idle(c->imap->imap_stream);
	/* After a stream or parse error the session is in no known state:
	 * a LOGOUT could only wait for the timeout. */
	if (c->imap->imap_stream && !c->broken)
		mailimap_logout(c->imap);
	mailimap_free(c->imap);
	free(c->host);
	free(c);
	*cp = NULL;
}

int imap_select(struct imap_conn *c, const char *mailbox,
		struct imap_box *box_r, struct xerr *err)
{
	struct mailimap_selection_info *si;
	clistiter *it;
	int r;

	r = mailimap_select(c->imap, mailbox);
	if (r != MAILIMAP_NO_ERROR)
		return imap_error(c, r, "select", err);
	si = c->imap->imap_selection_info;
	memset(box_r, 0, sizeof(*box_r));
	if (!si || si->sel_uidvalidity == 0)
		return xerr_set(err, XERR_TEMP,
				"imap: select '%s': server sent no UIDVALIDITY",
				mailbox);
	box_r->uidvalidity = si->sel_uidvalidity;
	box_r->uidnext = si->sel_uidnext;
	box_r->exists = si->sel_exists;
	if (si->sel_perm_flags)
		for (it = clist_begin(si->sel_perm_flags); it;
		     it = clist_next(it)) {
			struct mailimap_flag_perm *fp = clist_content(it);
			if (fp->fl_type == MAILIMAP_FLAG_PERM_ALL)
				box_r->can_keywords = 1;
		}
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int imap_search_after(struct imap_conn *c, uint32_t last_uid, uint32_t **uids_r,
		      size_t *n_r, struct xerr *err)
{
	struct mailimap_search_key *key;
	clist *result = NULL;
	clistiter *it;
	uint32_t *uids = NULL;
	size_t n = 0;
	int r;

	key = mailimap_search_key_new_uid(
	    mailimap_set_new_interval(last_uid + 1, 0));
	r = mailimap_uid_search(c->imap, NULL, key, &result);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR)
		return imap_error(c, r, "uid search", err);
	uids = xcalloc((size_t)clist_count(result) + 1, sizeof(*uids));
	for (it = clist_begin(result); it; it = clist_next(it)) {
		uint32_t uid = *(uint32_t *)clist_content(it);
		/* "UID n:*" includes the highest UID even when below n. */
		if (uid > last_uid)
			uids[n++] = uid;
	}
	mailimap_search_result_free(result);
	qsort(uids, n, sizeof(*uids), cmp_u32);
	*uids_r = uids;
	*n_r = n;
	return 0;
}

static int64_t imap_date(const struct mailimap_date_time *d)
{
	struct tm tm = {0};
	int64_t t;
	int z;

	if (!d)
		return 0;
	tm.tm_year = d->dt_year - 1900;
	tm.tm_mon = d->dt_month - 1;
	tm.tm_mday = d->dt_day;
	tm.tm_hour = d->dt_hour;
	tm.tm_min = d->dt_min;
	tm.tm_sec = d->dt_sec;
	t = (int64_t)timegm(&tm);
	z = d->dt_zone < 0 ? -d->dt_zone : d->dt_zone;
	z = (z / 100) * 3600 + (z % 100) * 60;
	return d->dt_zone < 0 ? t + z : t - z;
}

struct fetched {
	struct imap_msg m;
	int have_body;
};

static int cmp_fetched(const void *a, const void *b)
{
	return cmp_u32(&((const struct fetched *)a)->m.uid,
		       &((const struct fetched *)b)->m.uid);
}

/* A UID set for sorted uids, with runs of consecutive UIDs as ranges so
 * that thousands of UIDs make a short command. */
static struct mailimap_set *uid_set(const uint32_t *uids, size_t n)
{
	struct mailimap_set *set = mailimap_set_new_empty();

	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		if (j == i)
			mailimap_set_add_single(set, uids[i]);
		else
			mailimap_set_add_interval(set, uids[i], uids[j]);
		i = j + 1;
	}
	return set;
}

int imap_sizes(struct imap_conn *c, const uint32_t *uids, size_t n,
	       uint32_t *sizes, struct xerr *err)
{
	struct mailimap_set *set;
	struct mailimap_fetch_type *ft;
	clist *result = NULL;
	int r;

	memset(sizes, 0, n * sizeof(*sizes));
	if (n == 0)
		return 0;
	set = uid_set(uids, n);
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(
	    ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(
	    ft, mailimap_fetch_att_new_rfc822_size());
	r = mailimap_uid_fetch(c->imap, set, ft, &result);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return imap_error(c, r, "uid fetch sizes", err);
	for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
		struct mailimap_msg_att *att = clist_content(it);
		uint32_t uid = 0, size = 0;
		for (clistiter *ai = clist_begin(att->att_list); ai;
		     ai = clist_next(ai)) {
			struct mailimap_msg_att_item *item = clist_content(ai);
			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			if (item->att_data.att_static->att_type ==
			    MAILIMAP_MSG_ATT_UID)
				uid =
				    item->att_data.att_static->att_data.att_uid;
			else if (item->att_data.att_static->att_type ==
				 MAILIMAP_MSG_ATT_RFC822_SIZE)
				size = item->att_data.att_static->att_data
					   .att_rfc822_size;
		}
		uint32_t *hit = bsearch(&uid, uids, n, sizeof(*uids), cmp_u32);
		if (hit)
			sizes[hit - uids] = size;
	}
	mailimap_fetch_list_free(result);
	return 0;
}

int imap_fetch(struct imap_conn *c, const uint32_t *uids, size_t n,
	       size_t max_bytes,
	       int (*cb)(const struct imap_msg *m, void *ctx, struct xerr *err),
	       void *ctx, struct xerr *err)
{
	struct mailimap_set *set = uid_set(uids, n);
	struct mailimap_fetch_type *ft;
	clist *result = NULL;
	clistiter *it;
	struct fetched *msgs = NULL;
	size_t nm = 0;
	int r, ret = -1;

	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(
	    ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(
	    ft, mailimap_fetch_att_new_rfc822_size());
	mailimap_fetch_type_new_fetch_att_list_add(
	    ft, mailimap_fetch_att_new_internaldate());
	mailimap_fetch_type_new_fetch_att_list_add(
	    ft, mailimap_fetch_att_new_body_peek_section_partial(
		    mailimap_section_new(NULL), 0, (uint32_t)max_bytes));
	/* BODY[]<0.max_bytes> brings at most max_bytes; twice that and a
	 * MiB leave room for a server that rounds up, not for {4294967295}. */
	guard_limit(c, 2 * (uint64_t)max_bytes + GUARD_LIMIT_DEFAULT);
	r = mailimap_uid_fetch(c->imap, set, ft, &result);
	guard_limit(c, GUARD_LIMIT_DEFAULT);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		imap_error(c, r, "uid fetch", err);
		goto out;
	}
	msgs = xcalloc((size_t)clist_count(result) + 1, sizeof(*msgs));
	for (it = clist_begin(result); it; it = clist_next(it)) {
		struct mailimap_msg_att *att = clist_content(it);
		struct fetched f = {0};
		for (clistiter *ai = clist_begin(att->att_list); ai;
		     ai = clist_next(ai)) {
			struct mailimap_msg_att_item *item = clist_content(ai);
			struct mailimap_msg_att_static *st;
			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			st = item->att_data.att_static;
			switch (st->att_type) {
			case MAILIMAP_MSG_ATT_UID:
				f.m.uid = st->att_data.att_uid;
				break;
			case MAILIMAP_MSG_ATT_RFC822_SIZE:
				f.m.size = st->att_data.att_rfc822_size;
				break;
			case MAILIMAP_MSG_ATT_INTERNALDATE:
				f.m.internaldate =
				    imap_date(st->att_data.att_internal_date);
				break;
			case MAILIMAP_MSG_ATT_BODY_SECTION:
				if (st->att_data.att_body_section) {
					f.m.data =
					    st->att_data.att_body_section
						->sec_body_part;
					f.m.len = st->att_data.att_body_section
						      ->sec_length;
					f.have_body = 1;
				}
				break;
			default:
				break;
			}
		}
		/* Unsolicited FETCH responses (flag changes) carry no body. */
		if (f.m.uid && f.have_body) {
			if (!f.m.data)
				f.m.data = "";
			if (f.m.size < f.m.len)
				f.m.size = f.m.len;
			msgs[nm++] = f;
		}
	}
	qsort(msgs, nm, sizeof(*msgs), cmp_fetched);
	for (size_t i = 0; i < nm; i++)
		if (cb(&msgs[i].m, ctx, err) < 0)
			goto out;
	ret = 0;
out:
	free(msgs);
	if (result)
		mailimap_fetch_list_free(result);
	return ret;
}

static int add_flag(struct imap_conn *c, const uint32_t *uids, size_t n,
		    struct mailimap_flag *flag, struct xerr *err)
{
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
	struct mailimap_store_att_flags *sa;
	struct mailimap_set *set = uid_set(uids, n);
	int r;

	mailimap_flag_list_add(fl, flag);
	sa = mailimap_store_att_flags_new_add_flags_silent(fl);
	r = mailimap_uid_store(c->imap, set, sa);
	mailimap_store_att_flags_free(sa);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return imap_error(c, r, "uid store", err);
	return 0;
}

int imap_mark(struct imap_conn *c, const uint32_t *uids, size_t n,
	      enum imap_after after, const char *arg, struct xerr *err)
{
	struct mailimap_set *set, *src = NULL, *dst = NULL;
	uint32_t uv = 0;
	int r;

	if (n == 0)
		return 0;
	switch (after) {
	case IMAP_AFTER_KEYWORD:
		return add_flag(c, uids, n,
				mailimap_flag_new_flag_keyword(xstrdup(arg)),
				err);
	case IMAP_AFTER_SEEN:
		return add_flag(c, uids, n, mailimap_flag_new_seen(), err);
	case IMAP_AFTER_MOVE:
		break;
	}
	set = uid_set(uids, n);
	if (c->has_move) {
		r = mailimap_uidplus_uid_move(c->imap, set, arg, &uv, &src,
					      &dst);
		mailimap_set_free(set);
		if (src)
			mailimap_set_free(src);
		if (dst)
			mailimap_set_free(dst);
		if (r != MAILIMAP_NO_ERROR)
			return imap_error(c, r, "uid move", err);
		return 0;
	}
	r = mailimap_uid_copy(c->imap, set, arg);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return imap_error(c, r, "uid copy", err);
	if (add_flag(c, uids, n, mailimap_flag_new_deleted(), err) < 0)
		return -1;
	if (!c->has_uidplus)
		return 0; /* never a plain EXPUNGE: it would remove others' */
	set = uid_set(uids, n);
	r = mailimap_uid_expunge(c->imap, set);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return imap_error(c, r, "uid expunge", err);
	return 0;
}

int imap_can_idle(const struct imap_conn *c)
{
	return c->has_idle;
}

int imap_idle_start(struct imap_conn *c, struct xerr *err)
{
	int r;

	if (!c->imap->imap_stream)
		return xerr_set(err, XERR_TEMP, "imap: idle: not connected");
	if (mailstream_setup_idle(c->imap->imap_stream) < 0)
		return xerr_set(err, XERR_TEMP, "imap: idle: cannot set up");
	c->idle_setup = 1;
	r = mailimap_idle(c->imap);
	if (r != MAILIMAP_NO_ERROR) {
		mailstream_unsetup_idle(c->imap->imap_stream);
		c->idle_setup = 0;
		return imap_error(c, r, "idle", err);
	}
	return 0;
}

enum imap_wait imap_idle_wait(struct imap_conn *c, int secs)
{
	mailstream *s = c->imap->imap_stream;

	/* An untagged response already read along with the continuation
	 * would never wake poll(). */
	if (s->read_buffer_len > 0)
		return IMAP_WAIT_DATA;
	switch (mailstream_wait_idle(s, secs)) {
	case MAILSTREAM_IDLE_HASDATA:
		return IMAP_WAIT_DATA;
	case MAILSTREAM_IDLE_TIMEOUT:
		return IMAP_WAIT_TIMEOUT;
	case MAILSTREAM_IDLE_INTERRUPTED:
		return IMAP_WAIT_INTERRUPTED;
	default:
		return IMAP_WAIT_ERROR;
	}
}

void imap_idle_interrupt(struct imap_conn *c)
{
	if (c->idle_setup && c->imap->imap_stream)
		mailstream_interrupt_idle(c->imap->imap_stream);
}

int imap_idle_done(struct imap_conn *c, struct xerr *err)
{
	int r = mailimap_idle_done(c->imap);

	if (c->idle_setup && c->imap->imap_stream)
		mailstream_unsetup_idle(c->imap->imap_stream);
	c->idle_setup = 0;
	if (r != MAILIMAP_NO_ERROR)
		return imap_error(c, r, "idle done", err);
	return 0;
}

void imap_abort(struct imap_conn *c)
{
	if (c->imap->imap_stream)
		mailstream_cancel(c->imap->imap_stream);
}
