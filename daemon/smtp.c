/* smtp: libcurl SMTP client. One easy handle per client keeps the
 * connection open between messages. TLS is always verified by libcurl;
 * plain text only when the configuration allowed it (loopback/insecure). */
#include "config.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp.h"

struct smtp_client {
	CURL *curl;
	char *url;
	char *from;
	char *password;
	char errbuf[CURL_ERROR_SIZE];
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

int smtp_new(const struct smtp_params *p, struct smtp_client **c_r,
	     struct xerr *err)
{
	static int inited;
	struct smtp_client *c;
	const char *host = p->host;
	int v6 = strchr(host, ':') != NULL;

	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return xerr_set(err, XERR_BUG,
					"smtp: curl init failed");
		inited = 1;
	}
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
