/* autoreply: suppression rules for acknowledgements. Reads only the
 * message's raw header scan (robust to libetpan's early header end) and its
 * parsed addresses. Every "no" comes with a reason that is stored. */
#include "config.h"

#include <string.h>

#include "autoreply.h"

static int any_header(const struct message *m, const char *const *names)
{
	for (size_t i = 0; names[i]; i++)
		if (message_header(m, names[i]))
			return 1;
	return 0;
}

/* First token of value, case-insensitively equal to word? */
static int first_token_is(const char *value, const char *word)
{
	size_t n = strlen(word);

	while (*value == ' ' || *value == '\t')
		value++;
	return ascii_ncasecmp(value, word, n) == 0 &&
	       (value[n] == '\0' || value[n] == ';' || value[n] == ' ' ||
		value[n] == '\t' || value[n] == '(');
}

static int contains_word(const char *value, const char *word)
{
	return ascii_memcasemem(value, strlen(value), word, strlen(word)) !=
	       NULL;
}

/* The local part of addr, lower-cased, BATV tag removed
 * ("prvs=701fd58e1=www-data" -> "www-data"). */
static int local_part(const char *addr, char *out, size_t size)
{
	static const char *const batv[] = {"prvs=", "msprvs1=", "btv1=", NULL};
	const char *at = strrchr(addr, '@');
	size_t n = at ? (size_t)(at - addr) : strlen(addr);

	for (size_t i = 0; batv[i]; i++) {
		size_t k = strlen(batv[i]);
		size_t eq = n;
		if (n <= k || ascii_ncasecmp(addr, batv[i], k) != 0)
			continue;
		while (eq > k && addr[eq - 1] != '=')
			eq--;
		if (eq > k) { /* the address after the last '=' */
			addr += eq;
			n -= eq;
		}
		break;
	}
	if (n == 0 || n >= size)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)ascii_tolower((unsigned char)addr[i]);
	out[n] = '\0';
	return 0;
}

static int separator(char c)
{
	return c == '-' || c == '_' || c == '.' || c == '+' || c == '=';
}

/* Does word occur in lp as a whole token (between separators or ends)? */
static int has_token(const char *lp, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = lp; (p = strstr(p, word)); p++)
		if ((p == lp || separator(p[-1])) &&
		    (p[n] == '\0' || separator(p[n])))
			return 1;
	return 0;
}

/* lp without separators: "post_master" -> "postmaster",
 * "do-not-reply" -> "donotreply". */
static void squeeze(const char *lp, char *out)
{
	for (; *lp; lp++)
		if (!separator(*lp))
			*out++ = *lp;
	*out = '\0';
}

/* The names RFC 3834/Pigeonhole treat as system addresses, however
 * written ("post_master", "Mailer-Daemon"), and list owner/request
 * addresses ("owner-x", "x-request", "x+owner"). */
static int system_address(const char *addr)
{
	static const char *const names[] = {"mailerdaemon", "listserv",
					    "majordomo", "postmaster", NULL};
	char lp[128], sq[128];
	size_t n;

	if (local_part(addr, lp, sizeof(lp)) < 0)
		return 0;
	squeeze(lp, sq);
	for (size_t i = 0; names[i]; i++)
		if (strcmp(sq, names[i]) == 0)
			return 1;
	n = strlen(lp);
	return strstr(lp, "-request") != NULL ||
	       strncmp(lp, "owner-", 6) == 0 || strcmp(lp, "owner") == 0 ||
	       (n > 6 && strcmp(lp + n - 6, "-owner") == 0) ||
	       strstr(lp, "+owner") != NULL;
}

int autoreply_robot_address(const char *addr)
{
	/* anywhere in the local part once separators are gone
	 * ("gmail-noreply", "do_not_reply") */
	static const char *const inside[] = {"noreply",	      "donotreply",
					     "mailerdaemon",  "autoreply",
					     "autoresponder", NULL};
	/* a whole token ("bounces+1234", "newsletter-de", "alerts") */
	static const char *const tokens[] = {
	    "bounce",	  "bounces",	 "mailer",	 "daemon",
	    "newsletter", "newsletters", "notification", "notifications",
	    "notify",	  "notifier",	 "alerts",	 NULL};
	/* the whole local part ("root@", "nobody@") */
	static const char *const whole[] = {"www-data",
					    "wwwdata",
					    "nobody",
					    "apache",
					    "nginx",
					    "cron",
					    "news",
					    "marketing",
					    "promo",
					    "promotions",
					    "offers",
					    "deals",
					    "ship-confirm",
					    "auto-confirm",
					    "shipment-tracking",
					    NULL};
	char lp[128], sq[128];

	if (system_address(addr))
		return 1;
	if (local_part(addr, lp, sizeof(lp)) < 0)
		return 0;
	squeeze(lp, sq);
	for (size_t i = 0; inside[i]; i++)
		if (strstr(sq, inside[i]))
			return 1;
	for (size_t i = 0; tokens[i]; i++)
		if (has_token(lp, tokens[i]))
			return 1;
	for (size_t i = 0; whole[i]; i++)
		if (strcmp(lp, whole[i]) == 0)
			return 1;
	return 0;
}

static int own_address(const struct autoreply_policy *p, const char *addr)
{
	for (size_t i = 0; i < p->nown; i++)
		if (p->own_addrs[i] &&
		    ascii_casecmp(p->own_addrs[i], addr) == 0)
			return 1;
	return 0;
}

/* Does a header value (an address, maybe in <> or with a comment) name
 * one of our addresses? */
static int names_own_address(const struct autoreply_policy *p,
			     const char *value)
{
	for (size_t i = 0; i < p->nown; i++)
		if (p->own_addrs[i] && p->own_addrs[i][0] &&
		    ascii_memcasemem(value, strlen(value), p->own_addrs[i],
				     strlen(p->own_addrs[i])))
			return 1;
	return 0;
}

/* Request Tracker's own Message-IDs: "rt-4.2.8-22046-1529425595-591..." */
static int rt_message_id(const char *id)
{
	if (*id == '<')
		id++;
	if (ascii_ncasecmp(id, "rt-", 3) != 0)
		return 0;
	id += 3;
	if (!(*id >= '0' && *id <= '9'))
		return 0;
	while ((*id >= '0' && *id <= '9') || *id == '.')
		id++;
	return *id == '-';
}

/* A Return-Path a bulk mailer or list manager uses to collect bounces
 * ("bounces+1234-ann=example.net@", "bounce-md_30112948.55a0",
 * "gpc-talk-bounces@"). Only the local part: Amazon SES relays come from
 * "...@email-bounces.amazonses.com" with a hex local part. */
static int bulk_return_path(const char *addr)
{
	char lp[128];

	if (local_part(addr, lp, sizeof(lp)) < 0)
		return 0;
	return has_token(lp, "bounce") || has_token(lp, "bounces");
}

/* Subjects every MTA and auto-responder uses, for bounces and replies that
 * carry no standard marker. Matched at the start of the subject. */
static const char *robot_subject(const char *subject)
{
	static const struct {
		const char *prefix, *reason;
	} subjects[] = {
	    {"Undelivered Mail Returned to Sender", "bounce"},
	    {"Undeliverable:", "bounce"},
	    {"Undeliverable mail", "bounce"},
	    {"Undelivered Mail", "bounce"},
	    {"Delivery Status Notification", "bounce"},
	    {"Delivery Failure", "bounce"},
	    {"Delivery failed", "bounce"},
	    {"Delivery has failed", "bounce"},
	    {"failure notice", "bounce"},
	    {"Mail delivery failed", "bounce"},
	    {"Mail Delivery Failure", "bounce"},
	    {"Mail Delivery Subsystem", "bounce"},
	    {"Mail System Error", "bounce"},
	    {"Returned mail:", "bounce"},
	    {"Message not delivered", "bounce"},
	    {"Nondeliverable mail", "bounce"},
	    {"Warning: could not send message", "bounce"},
	    {"DELIVERY FAILURE:", "bounce"},
	    {"Automatic reply:", "auto-reply"},
	    {"Auto-Reply:", "auto-reply"},
	    {"Autoreply:", "auto-reply"},
	    {"Auto Reply:", "auto-reply"},
	    {"Auto Response", "auto-reply"},
	    {"Out of Office", "auto-reply"},
	    {"Out of the Office", "auto-reply"},
	    {"Abwesenheitsnotiz", "auto-reply"},
	    {"自动回复", "auto-reply"},
	    {"自動回覆", "auto-reply"},
	    {"Read:", "read-receipt"},
	    {"Read receipt", "read-receipt"},
	};

	/* anywhere: ticket systems put their tag first
	 * ("[support.example #33575] AutoReply: ...") */
	static const char *const inside[] = {
	    "AutoReply:",  "Auto-Reply:",    "Automatic reply:",
	    "Auto Reply:", "Out of Office:", "自动回复",
	    "自動回覆",	   "自动答复",	     NULL};

	while (*subject == ' ')
		subject++;
	for (size_t i = 0; i < sizeof(subjects) / sizeof(*subjects); i++)
		if (ascii_prefix(subject, subjects[i].prefix))
			return subjects[i].reason;
	for (size_t i = 0; inside[i]; i++)
		if (ascii_memcasemem(subject, strlen(subject), inside[i],
				     strlen(inside[i])))
			return "auto-reply";
	return NULL;
}

int autoreply_decide(const struct message *m, const struct autoreply_policy *p,
		     const char **rcpt_r, const char **reason_r)
{
	static const char *const list_headers[] = {"List-Id",
						   "List-Help",
						   "List-Subscribe",
						   "List-Unsubscribe",
						   "List-Post",
						   "List-Owner",
						   "List-Archive",
						   "Mailing-List",
						   "X-Mailing-List",
						   "X-BeenThere",
						   NULL};
	static const char *const autoreply_headers[] = {
	    "X-Autoreply", "X-Autorespond", "X-Autoresponder",
	    "X-Autogenerated", NULL};
	/* "confirm you are human" systems: answering them confirms a
	 * spammer's forged From, or starts a loop */
	static const char *const challenge_headers[] = {
	    "X-Bluebottle-Request",
	    "X-Boxtrapper",
	    "X-Spamarrest-noauth",
	    "X-Spamarrest-Confirm",
	    "X-ChoiceMail-Registration-Request",
	    "X-TMDA-Confirm",
	    "X-Mailbox-Challenge",
	    NULL};
	/* help-desk software writing about its own tickets */
	static const char *const ticket_headers[] = {
	    "X-RT-Loop-Prevention", "RT-Ticket", "X-OTRS-Loop", NULL};
	const char *v, *rcpt, *why;

	*rcpt_r = NULL;
#define NO(r)                                                                  \
	do {                                                                   \
		*reason_r = (r);                                               \
		return 0;                                                      \
	} while (0)

	if (message_header(m, AUTOREPLY_LOOP_HEADER))
		NO("own-loop-header");
	/* procmail, bug trackers and list managers mark what they send; one
	 * naming our own address is our own forwarding rule, not a robot */
	if ((v = message_header(m, "X-Loop")) && !names_own_address(p, v))
		NO("loop-header");
	if (!m->return_path)
		NO("no-return-path");
	if (!m->return_path[0])
		NO("null-return-path");
	if ((v = message_header(m, "Auto-Submitted")) &&
	    !first_token_is(v, "no"))
		NO("auto-submitted");
	if (any_header(m, list_headers))
		NO("list");
	if ((v = message_header(m, "Precedence")) &&
	    (first_token_is(v, "bulk") || first_token_is(v, "list") ||
	     first_token_is(v, "junk")))
		NO("precedence");
	if ((v = message_header(m, "X-Auto-Response-Suppress")) &&
	    (contains_word(v, "All") || contains_word(v, "OOF") ||
	     contains_word(v, "AutoReply")))
		NO("auto-response-suppress");
	if (any_header(m, autoreply_headers))
		NO("auto-reply-header");
	if (any_header(m, challenge_headers))
		NO("challenge-response");
	if (any_header(m, ticket_headers) ||
	    (m->message_id && rt_message_id(m->message_id)))
		NO("ticket-system");
	if (m->flags & MSG_REPORT)
		NO("report");
	if ((v = message_header(m, "X-AMAZON-MAIL-RELAY-TYPE")) &&
	    first_token_is(v, "NOTIFICATION"))
		NO("marketplace-notification");
	if (((v = message_header(m, "X-Spam-Flag")) &&
	     first_token_is(v, "YES")) ||
	    ((v = message_header(m, "X-Spam-Status")) &&
	     first_token_is(v, "Yes")))
		NO("spam");
	if (system_address(m->return_path))
		NO("system-sender");
	if (bulk_return_path(m->return_path))
		NO("bulk-sender");
	if (!m->from_addr)
		NO("no-sender-address");
	if (own_address(p, m->from_addr) || own_address(p, m->return_path) ||
	    (m->reply_to_addr && own_address(p, m->reply_to_addr)))
		NO("own-address");
	if (autoreply_robot_address(m->from_addr) ||
	    (m->reply_to_addr && autoreply_robot_address(m->reply_to_addr)))
		NO("robot-sender");
	if (m->subject && (why = robot_subject(m->subject)))
		NO(why);
	rcpt = m->reply_to_addr ? m->reply_to_addr : m->from_addr;
#undef NO
	*rcpt_r = rcpt;
	*reason_r = NULL;
	return 1;
}
