/* smtp: libcurl SMTP client. One easy handle per client keeps the
 * connection open between messages. TLS is always verified by libcurl;
 * plain text only when the configuration allowed it (loopback/insecure). */
#include "config.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "smtp.h"
#include "util.h"

struct smtp_client {
	CURL *curl;
	char *url;
	char *from;
	char *password;
	char errbuf[CURL_ERROR_SIZE];
	volatile sig_atomic_t *stop;
	int64_t stop_seen; /* mono_ms() when a transfer first saw stop */
};

struct reader {
	const char *data;
	size_t len, off; /* off == len: libcurl has the whole message */
};

static size_t read_cb(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct reader *r = ud;
	size_t room = size * nmemb, left = r->len - r->off;
	size_t n = left < room ? left : room;

	memcpy(buf, r->data + r->off, n);
	r->off += n;
	return n;
}

/* libcurl calls this at least once a second during a transfer: after a
 * stop, let the transaction finish for PQ_SMTP_STOP_GRACE seconds (a
 * server that answers), then cut it (one that stalls). */
static int progress_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct smtp_client *c = ud;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (!c->stop || !__atomic_load_n(c->stop, __ATOMIC_RELAXED))
		return 0;
	if (!c->stop_seen)
		c->stop_seen = mono_ms();
	return mono_ms() - c->stop_seen >= PQ_SMTP_STOP_GRACE * 1000;
}

/* curl_global_init is not thread-safe: once, whichever sender is first. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void curl_init(void)
{
	curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

int smtp_global_init(void)
{
	pthread_once(&curl_once, curl_init);
	return curl_ok ? 0 : -1;
}

int smtp_new(const struct smtp_params *p, struct smtp_client **c_r,
	     struct xerr *err)
{
	struct smtp_client *c;
	const char *host = p->host;
	int v6 = strchr(host, ':') != NULL;

	if (smtp_global_init() < 0)
		return xerr_set(err, XERR_BUG, "smtp: curl init failed");
	c = xcalloc(1, sizeof(*c));
	c->curl = curl_easy_init();
	if (!c->curl)
		fatal(70, "out of memory");
	c->url =
	    xasprintf("%s://%s%s%s:%d/%s", p->implicit_tls ? "smtps" : "smtp",
		      v6 ? "[" : "", host, v6 ? "]" : "", p->port,
		      p->helo ? p->helo : "localhost");
	c->from = xasprintf("<%s>", p->envelope_from ? p->envelope_from : "");
	curl_easy_setopt(c->curl, CURLOPT_URL, c->url);
	c->stop = p->stop;
	curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, c);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, (long)p->timeout);
	curl_easy_setopt(c->curl, CURLOPT_SERVER_RESPONSE_TIMEOUT,
			 (long)p->timeout);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, (long)p->timeout * 3);
	curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	if (p->ca_file)
		curl_easy_setopt(c->curl, CURLOPT_CAINFO, p->ca_file);
	if (!p->implicit_tls)
		curl_easy_setopt(c->curl, CURLOPT_USE_SSL,
				 p->starttls ? (long)CURLUSESSL_ALL
					     : (long)CURLUSESSL_NONE);
	if (p->user) {
		c->password = xstrdup(p->password ? p->password : "");
		curl_easy_setopt(c->curl, CURLOPT_USERNAME, p->user);
		curl_easy_setopt(c->curl, CURLOPT_PASSWORD, c->password);
	}
	curl_easy_setopt(c->curl, CURLOPT_MAIL_FROM, c->from);
	curl_easy_setopt(c->curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c->curl, CURLOPT_READFUNCTION, read_cb);
	*c_r = c;
	return 0;
}

void smtp_free(struct smtp_client **cp)
{
	struct smtp_client *c = *cp;

	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	free(c->url);
	free(c->from);
	secret_free(&c->password);
	free(c);
	*cp = NULL;
}

int smtp_send(struct smtp_client *c, const char *rcpt, const char *data,
	      size_t len, int *uncertain_r, struct xerr *err)
{
	struct curl_slist *rcpts = NULL;
	struct reader rd = {.data = data, .len = len};
	char *to;
	long code = 0;
	CURLcode rc;

	*uncertain_r = 0;
	if (!rcpt || !*rcpt || strpbrk(rcpt, "<>\r\n \t"))
		return xerr_set(err, XERR_PERM, "smtp: unusable recipient");
	to = xasprintf("<%s>", rcpt);
	rcpts = curl_slist_append(NULL, to);
	free(to);
	if (!rcpts)
		fatal(70, "out of memory");
	c->errbuf[0] = '\0';
	c->stop_seen = 0;
	curl_easy_setopt(c->curl, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(c->curl, CURLOPT_READDATA, &rd);
	curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	rc = curl_easy_perform(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(rcpts);
	if (rc == CURLE_OK)
		return 0;
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
	const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
	/* The server said "go ahead" (354) to DATA and libcurl took the whole
	 * message, then no final reply came (a timeout, a dropped
	 * connection, a signal): the server may have accepted it. Sending
	 * it again could make a second acknowledgement (RFC 5321 6.1). */
	if (rd.off == rd.len && code == 354) {
		*uncertain_r = 1;
		return xerr_set(err, XERR_TEMP,
				"smtp: no reply after the message was sent, "
				"it may have been delivered: %s",
				why);
	}
	/* A refused RCPT (55) or DATA (8) carries the server's code; only a
	 * 5xx there is permanent. TLS and network failures are temporary
	 * whatever stale code is left. */
	if ((rc == CURLE_SEND_ERROR || rc == CURLE_WEIRD_SERVER_REPLY ||
	     rc == CURLE_QUOTE_ERROR || rc == CURLE_UPLOAD_FAILED ||
	     rc == CURLE_RECV_ERROR) &&
	    code >= 500 && code < 600)
		return xerr_set(err, XERR_PERM, "smtp: rejected (%ld): %s",
				code, why);
	if (code >= 400 && code < 500)
		return xerr_set(err, XERR_TEMP,
				"smtp: temporarily refused (%ld): %s", code,
				why);
	return xerr_set(err, XERR_TEMP, "smtp: %s", why);
}
