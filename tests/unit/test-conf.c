/* test-conf: peakq.yaml parsing: defaults, relative paths, and a located
 * error for each kind of mistake. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "../tap.h"

static char dir[] = "/tmp/pq-conf-XXXXXX";

static int load(const char *text, struct conf **c, struct xerr *err)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/peakq.yaml", dir);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return conf_load(path, c, err);
}

#define BASE_SMTP                                                              \
	"smtp:\n"                                                              \
	"  url: smtps://smtp.example.com\n"                                    \
	"  from: \"Holiday Support <support@example.com>\"\n"

static const struct {
	const char *yaml, *error; /* after "<dir>/peakq.yaml:" */
} bad[] = {
    {"accounts: []\n" BASE_SMTP, "1:11: accounts is empty"},
    {"acounts: []\n", "1:1: unknown key 'acounts'"},
    {"accounts:\n  - name: a\n    imap: {host: h, user: u, "
     "password_file: p, tls: maybe}\n" BASE_SMTP,
     "3:53: tls must be implicit, starttls or none, not 'maybe'"},
    {"accounts:\n  - name: a\n    imap: {host: mail.example.com, user: u, "
     "password_file: p, tls: none}\n" BASE_SMTP,
     "3:68: tls: none sends the password in clear text"},
    {"accounts:\n  - name: a\n    imap: {host: h, user: u}\n" BASE_SMTP,
     "3:11: imap: 'password_file' is required"},
    {"accounts:\n  - name: a\n    imap: {host: h, user: u, password_file: "
     "p, port: 99999}\n" BASE_SMTP,
     "3:54: port must be a whole number from 1 to 65535"},
    {"accounts:\n  - name: a\n    imap: {host: h, user: u, password_file: "
     "p}\n    after_ingest: {move: INBOX}\n" BASE_SMTP,
     "4:19: cannot move into 'INBOX': it is a watched mailbox"},
    {"accounts:\n  - name: a\n    imap: {host: h, user: u, password_file: "
     "p}\n    after_ingest: flag\n" BASE_SMTP,
     "4:19: after_ingest must be keyword, seen"},
    {"accounts:\n  - name: a\n    imap: {host: h, user: u, password_file: "
     "p}\n  - name: a\n    imap: {host: h, user: u, password_file: "
     "p}\n" BASE_SMTP,
     "4:5: account name 'a' used twice"},
    {"accounts:\n  - name: a\n    imap: {host: h, user: u, password_file: "
     "p}\nsmtp:\n  url: http://x\n  from: a@b\n",
     "5:8: smtp url must look like"},
    {"accounts:\n  - name: a\n    imap: {host: h, user: u, password_file: "
     "p}\nsmtp:\n  url: smtp://x\n  from: nobody\n",
     "6:9: from must be 'Name <address>' or 'address'"},
    {"accounts:\n  - name: a\n    imap: {host: h, user: u, password_file: "
     "p}\nsmtp:\n  url: smtp://x.example\n  tls: none\n  from: a@b\n",
     "6:8: tls: none sends mail in clear text"},
    {"accounts:\n  - name: a\n    imap: {host: h, user: u, password_file: "
     "p}\nsmtp:\n  url: smtp://x\n  from: a@b\n  connections: 17\n",
     "7:16: connections must be"},
    {"accounts:\n  - name: a\n    imap: {host: h, user: u, password_file: "
     "p}\n" BASE_SMTP "poll_interval: 0\n",
     "7:16: poll_interval must be a number"},
    {"accounts:\n  - name: a\n    imap: {host: h, user: u, password_file: "
     "p, idle_refresh: 45m}\n" BASE_SMTP,
     "3:62: idle_refresh must be"},
    {"accounts:\n  - name: a\n    imap: {host: h, user: u, password_file: "
     "p, idle: sometimes}\n" BASE_SMTP,
     "3:54: idle must be true or false"},
};

int main(void)
{
	struct conf *c = NULL;
	struct xerr err = {0};
	char prefix[300];

	if (!mkdtemp(dir))
		return 99;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = load(bad[i].yaml, &c, &err);
		snprintf(prefix, sizeof(prefix), "%s/peakq.yaml:%s", dir,
			 bad[i].error);
		ok(r == -1 && strncmp(err.msg, prefix, strlen(prefix)) == 0,
		   "bad config %zu: %s", i, bad[i].error);
		if (r == 0 || strncmp(err.msg, prefix, strlen(prefix)))
			diag("got: %s", r == 0 ? "(loaded)" : err.msg);
		conf_free(&c);
	}

	int r = load("team_name: Holiday Desk\n"
		     "store: data/peakq.db\n"
		     "poll_interval: 2m\n"
		     "accounts:\n"
		     "  - name: support\n"
		     "    imap:\n"
		     "      host: 127.0.0.1\n"
		     "      tls: none\n"
		     "      user: support@example.test\n"
		     "      password_file: support.pass\n"
		     "    mailboxes: [INBOX, Amazon]\n"
		     "  - name: sales\n"
		     "    imap: {host: imap.example.com, tls: starttls, user: "
		     "s, password_file: /etc/p, ca_file: ca.pem, idle: false, "
		     "idle_refresh: 10m}\n"
		     "    after_ingest: {move: Queued}\n"
		     "smtp:\n"
		     "  url: smtp://127.0.0.1:2525/peakq.example\n"
		     "  from: \"客服 <support@example.test>\"\n"
		     "  reply_to: help@example.test\n",
		     &c, &err);
	ok(r == 0, "full config loads");
	if (r) {
		diag("%s", err.msg);
		return done_testing();
	}
	is_str(c->team_name, "Holiday Desk", "team_name");
	ok(strncmp(c->store_path, dir, strlen(dir)) == 0 &&
	       strcmp(c->store_path + strlen(dir), "/data/peakq.db") == 0,
	   "relative store path is taken from the config's folder");
	is_int(c->poll_interval, 120, "poll_interval 2m");
	is_int(c->naccounts, 2, "two accounts");
	is_int(c->accounts[0].port, 143, "tls none defaults to port 143");
	is_int(c->accounts[0].nmailboxes, 2, "two mailboxes");
	is_int(c->accounts[0].after, CONF_AFTER_KEYWORD, "default after");
	is_str(c->accounts[0].after_arg, "$PeakqQueued", "default keyword");
	is_int(c->accounts[1].tls, CONF_TLS_STARTTLS, "starttls");
	is_int(c->accounts[1].after, CONF_AFTER_MOVE, "move");
	ok(c->accounts[0].idle && c->accounts[0].idle_refresh == 25 * 60,
	   "IDLE by default, restarted every 25 minutes");
	ok(!c->accounts[1].idle && c->accounts[1].idle_refresh == 600,
	   "idle: false and idle_refresh: 10m");
	ok(conf_account_same_connection(&c->accounts[0], &c->accounts[0]) &&
	       !conf_account_same_connection(&c->accounts[0], &c->accounts[1]),
	   "same connection: an account is itself, not another");
	is_str(c->accounts[1].after_arg, "Queued", "move folder");
	is_str(c->accounts[1].password_file, "/etc/p", "absolute path kept");
	is_str(c->smtp.host, "127.0.0.1", "smtp host");
	is_int(c->smtp.port, 2525, "smtp port");
	ok(c->smtp.starttls && !c->smtp.implicit_tls,
	   "smtp:// requires STARTTLS by default");
	is_str(c->smtp.from_addr, "support@example.test", "from address");
	is_str(c->smtp.from_name, "客服", "from display name");
	is_str(c->smtp.reply_to_addr, "help@example.test", "reply_to");
	is_str(c->smtp.envelope_from, "", "null envelope sender by default");
	is_int(c->smtp.connections, 4, "4 SMTP connections by default");
	is_str(c->subject_tag, "[Case #{{case_id}}]", "default subject tag");
	conf_free(&c);

	ok(conf_host_is_loopback("127.0.0.1") &&
	       conf_host_is_loopback("localhost") &&
	       conf_host_is_loopback("::1") &&
	       !conf_host_is_loopback("127.0.0.1.evil.com") &&
	       !conf_host_is_loopback("10.0.0.1"),
	   "loopback detection");

	char path[300], *pw = NULL;
	snprintf(path, sizeof(path), "%s/pw", dir);
	FILE *f = fopen(path, "w");
	fputs("s3cret\nsecond line\n", f);
	fclose(f);
	ok(conf_read_password(path, &pw, &err) == 0, "password read");
	is_str(pw, "s3cret", "first line only");
	secret_free(&pw);
	unlink(path);
	snprintf(path, sizeof(path), "%s/peakq.yaml", dir);
	unlink(path);
	rmdir(dir);
	return done_testing();
}
