/* test-autoreply: who gets no acknowledgement, and why. Each case is a
 * small message run through mime_parse() and autoreply_decide(). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoreply.h"
#include "../tap.h"

#define HUMAN_NO_ID                                                            \
	"Return-Path: <ann@example.net>\r\n"                                   \
	"From: Ann <ann@example.net>\r\n"                                      \
	"To: support@example.test\r\n"
#define HUMAN HUMAN_NO_ID "Message-ID: <1@example.net>\r\n"

static const struct {
	const char *name, *raw, *reason, *rcpt;
} cases[] = {
    {"plain human mail", HUMAN "Subject: where is it\r\n\r\nhi\r\n", NULL,
     "ann@example.net"},
    {"Reply-To is answered", HUMAN "Reply-To: a2@example.net\r\n\r\nhi\r\n",
     NULL, "a2@example.net"},
    {"Auto-Submitted: no is human", HUMAN "Auto-Submitted: no\r\n\r\nhi\r\n",
     NULL, "ann@example.net"},
    {"missing Return-Path", "From: ann@example.net\r\nSubject: x\r\n\r\nhi\r\n",
     "no-return-path", NULL},
    {"null Return-Path (bounce)",
     "Return-Path: <>\r\nFrom: ann@example.net\r\n\r\nhi\r\n",
     "null-return-path", NULL},
    {"Auto-Submitted: auto-replied",
     HUMAN "Auto-Submitted: auto-replied\r\n\r\nhi\r\n", "auto-submitted",
     NULL},
    {"Auto-Submitted: auto-generated (case-insensitive)",
     HUMAN "auto-submitted: Auto-Generated\r\n\r\nhi\r\n", "auto-submitted",
     NULL},
    {"List-Id", HUMAN "List-Id: <x.lists.example>\r\n\r\nhi\r\n", "list", NULL},
    {"List-Unsubscribe", HUMAN "List-Unsubscribe: <mailto:u@x>\r\n\r\nhi\r\n",
     "list", NULL},
    {"Precedence: bulk", HUMAN "Precedence: bulk\r\n\r\nhi\r\n", "precedence",
     NULL},
    {"Precedence: junk", HUMAN "Precedence: Junk\r\n\r\nhi\r\n", "precedence",
     NULL},
    {"X-Auto-Response-Suppress: OOF",
     HUMAN "X-Auto-Response-Suppress: DR, OOF\r\n\r\nhi\r\n",
     "auto-response-suppress", NULL},
    {"X-Autoreply", HUMAN "X-Autoreply: yes\r\n\r\nhi\r\n", "auto-reply-header",
     NULL},
    {"multipart/report",
     HUMAN "Content-Type: multipart/report; report-type=delivery-status; "
	   "boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n"
	   "--b--\r\n",
     "report", NULL},
    {"marketplace notification",
     HUMAN "X-AMAZON-MAIL-RELAY-TYPE: NOTIFICATION\r\n\r\nhi\r\n",
     "marketplace-notification", NULL},
    {"spam flag", HUMAN "X-Spam-Flag: YES\r\n\r\nhi\r\n", "spam", NULL},
    {"MAILER-DAEMON return path",
     "Return-Path: <MAILER-DAEMON@mx.example>\r\nFrom: x@example.net\r\n"
     "\r\nhi\r\n",
     "system-sender", NULL},
    {"owner- return path",
     "Return-Path: <owner-list@example.org>\r\nFrom: x@example.net\r\n"
     "\r\nhi\r\n",
     "system-sender", NULL},
    {"noreply sender",
     "Return-Path: <b@example.net>\r\nFrom: no-reply@shop.example\r\n"
     "\r\nhi\r\n",
     "robot-sender", NULL},
    {"our own address",
     "Return-Path: <support@example.test>\r\nFrom: support@example.test\r\n"
     "\r\nhi\r\n",
     "own-address", NULL},
    {"our loop header", HUMAN "X-Peakq-Loop: 42\r\n\r\nhi\r\n",
     "own-loop-header", NULL},
    {"bounce without markers",
     HUMAN "Subject: Undelivered Mail Returned to Sender\r\n\r\nhi\r\n",
     "bounce", NULL},
    {"out-of-office subject",
     HUMAN "Subject: Automatic reply: holiday\r\n\r\nhi\r\n", "auto-reply",
     NULL},
    {"Chinese auto-reply subject",
     HUMAN "Subject: =?UTF-8?B?6Ieq5Yqo5Zue5aSN?=\r\n\r\nhi\r\n", "auto-reply",
     NULL},
    /* libetpan #431: a whitespace-only continuation line ends its header
     * parse early; our raw scan still sees Auto-Submitted. */
    {"Auto-Submitted after a blank continuation line",
     "Return-Path: <ann@example.net>\r\nFrom: ann@example.net\r\n"
     "References: <a@b>\r\n \r\n <c@d>\r\nAuto-Submitted: auto-replied\r\n"
     "\r\nhi\r\n",
     "auto-submitted", NULL},
    {"no From", "Return-Path: <ann@example.net>\r\nSubject: x\r\n\r\nhi\r\n",
     "no-sender-address", NULL},
    {"Request Tracker notification (its Message-ID)",
     HUMAN_NO_ID "Message-ID: <rt-4.2.8-6644-1530017064-1465.33575-215-0@"
		 "rt.example>\r\nSubject: [rt.example #33575] Resolved: FYI"
		 "\r\n\r\nhi\r\n",
     "ticket-system", NULL},
    {"OTRS loop header", HUMAN "X-OTRS-Loop: yes\r\n\r\nhi\r\n",
     "ticket-system", NULL},
    {"a Message-ID that merely starts with rt- is human",
     HUMAN_NO_ID "Message-ID: <rt-ann@example.net>\r\n\r\nhi\r\n", NULL,
     "ann@example.net"},
    {"X-Loop from a bug tracker",
     HUMAN "X-Loop: magick-bugs@simple.example\r\n\r\nhi\r\n", "loop-header",
     NULL},
    {"X-Loop naming our own address is our own forward",
     HUMAN "X-Loop: <Support@Example.test>\r\n\r\nhi\r\n", NULL,
     "ann@example.net"},
    {"ticket system auto-reply behind its tag",
     HUMAN "Subject: [support.example.de #33575] AutoReply: FYI\r\n\r\nhi"
	   "\r\n",
     "auto-reply", NULL},
    {"'auto reply' without the colon in a sentence is human",
     HUMAN "Subject: your auto reply said 4 hours\r\n\r\nhi\r\n", NULL,
     "ann@example.net"},
    {"challenge-response", HUMAN "X-Bluebottle-Request: <1234>\r\n\r\nhi\r\n",
     "challenge-response", NULL},
    {"ezmlm Mailing-List header",
     HUMAN "Mailing-List: contact x-help@lists.example; run by ezmlm\r\n"
	   "\r\nhi\r\n",
     "list", NULL},
    {"BATV-tagged www-data From",
     "Return-Path: <prvs=701fd58e1=www-data@rt.example>\r\nFrom: "
     "prvs=701fd58e1=www-data@rt.example\r\n\r\nhi\r\n",
     "robot-sender", NULL},
    {"bulk mailer's bounce collector as Return-Path",
     "Return-Path: <bounce-md_30112948.55a02731@mandrillapp.example>\r\n"
     "From: Papertrail <support@papertrail.example>\r\n\r\nhi\r\n",
     "bulk-sender", NULL},
    {"list manager's -bounces Return-Path",
     "Return-Path: <gpc-talk-bounces@grizz.example>\r\nFrom: "
     "ann@example.net\r\n\r\nhi\r\n",
     "bulk-sender", NULL},
    {"Amazon SES relay: 'bounces' only in the domain",
     "Return-Path: <0100018c2e-4d1f-a8d4-000000@email-bounces.amazonses."
     "com>\r\nFrom: Buyer - Amazon Marketplace "
     "<5vlhqz8kd3m4xyz@marketplace.amazon.com>\r\n\r\nwhere is it\r\n",
     NULL, "5vlhqz8kd3m4xyz@marketplace.amazon.com"},
    {"list owner with '+owner'",
     "Return-Path: <freebsd-hackers+owner@freebsd.example>\r\nFrom: "
     "freebsd-hackers+owner@freebsd.example\r\n\r\nhi\r\n",
     "system-sender", NULL},
    {"post_master is postmaster",
     "Return-Path: <post_master@vtext.example>\r\nFrom: "
     "post_master@vtext.example\r\n\r\nhi\r\n",
     "system-sender", NULL},
};

int main(void)
{
	static const char *const own[] = {"support@example.test"};
	struct autoreply_policy pol = {.own_addrs = own, .nown = 1};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct message *m =
		    mime_parse(cases[i].raw, strlen(cases[i].raw));
		const char *rcpt = NULL, *reason = NULL;
		int r = autoreply_decide(m, &pol, &rcpt, &reason);
		if (cases[i].reason) {
			ok(r == 0 && reason &&
			       strcmp(reason, cases[i].reason) == 0,
			   "%s: no ack (%s)", cases[i].name, cases[i].reason);
			if (r || !reason || strcmp(reason, cases[i].reason))
				diag("got r=%d reason=%s", r,
				     reason ? reason : "(null)");
		} else {
			ok(r == 1 && rcpt && strcmp(rcpt, cases[i].rcpt) == 0,
			   "%s: ack to %s", cases[i].name, cases[i].rcpt);
			if (r != 1)
				diag("suppressed: %s", reason);
		}
		message_free(&m);
	}
	ok(autoreply_robot_address("MAILER-DAEMON@x") &&
	       autoreply_robot_address("noreply@x") &&
	       autoreply_robot_address("no-reply-orders@x") &&
	       autoreply_robot_address("list-request@x") &&
	       autoreply_robot_address("gmail-noreply@google.example") &&
	       autoreply_robot_address("Do_Not_Reply@x") &&
	       autoreply_robot_address("newsletter@x") &&
	       autoreply_robot_address("newsletter-de@x") &&
	       autoreply_robot_address("notification@x") &&
	       autoreply_robot_address("alerts@x") &&
	       autoreply_robot_address("Auto-Reply@x") &&
	       autoreply_robot_address("ship-confirm@amazon.example") &&
	       autoreply_robot_address("nobody@x") &&
	       autoreply_robot_address("owner@bugs.example") &&
	       autoreply_robot_address("debian-devel-owner@x") &&
	       !autoreply_robot_address("bouncy.castle@x") &&
	       !autoreply_robot_address("newsom@x") &&
	       !autoreply_robot_address("root.anna@x") &&
	       !autoreply_robot_address("news.anchor.jo@x") &&
	       !autoreply_robot_address("alertson@x") &&
	       !autoreply_robot_address("ann.owner@x") &&
	       !autoreply_robot_address("prvs=@x") &&
	       !autoreply_robot_address("ann@x") &&
	       !autoreply_robot_address(
		   "5vlhqz8kd3m4xyz@marketplace.amazon.com"),
	   "robot addresses");
	return done_testing();
}
