/* quote: line-based detection of quoted replies, forwards, signatures and
 * marketplace boilerplate, so that keyword rules see only what the customer
 * wrote now. Conservative: when unsure a line stays fresh. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "quote.h"
#include "util.h"

struct line {
	const char *p;
	size_t n;      /* without the LF */
	const char *t; /* p without leading spaces and tabs */
	size_t tn;
	int ascii; /* no byte >= 0x80: no CJK needle can be in it */
};

/* Every line is tested against some sixty prefixes: compare the first
 * byte before anything else. */
static int starts(const struct line *l, const char *prefix)
{
	size_t k;

	if (!l->tn || ascii_tolower((unsigned char)*l->t) !=
			  ascii_tolower((unsigned char)*prefix))
		return 0;
	k = strlen(prefix);
	return l->tn >= k && ascii_ncasecmp(l->t, prefix, k) == 0;
}

static int contains(const struct line *l, const char *needle)
{
	if (l->ascii && (unsigned char)needle[0] >= 0x80)
		return 0;
	return memmem(l->p, l->n, needle, strlen(needle)) != NULL;
}

/* Trailing text of the line (ignoring spaces) ends with suffix? */
static int ends(const struct line *l, const char *suffix)
{
	size_t k = strlen(suffix), n = l->n;

	while (n && (l->p[n - 1] == ' ' || l->p[n - 1] == '\t' ||
		     l->p[n - 1] == '\r'))
		n--;
	return n >= k && ascii_ncasecmp(l->p + n - k, suffix, k) == 0;
}

static int is_blank(const struct line *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->p[i] != ' ' && l->p[i] != '\t' && l->p[i] != '\r')
			return 0;
	return 1;
}

/* Does an attribution start at line i (of nl)? Returns the number of lines
 * it takes (1 or 2), or 0. */
static int attribution(const struct line *ls, size_t i, size_t nl)
{
	const struct line *l = &ls[i];

	if (starts(l, "-----Original Message-----") ||
	    starts(l, "----- Original Message -----") ||
	    starts(l, "---------- Forwarded message") ||
	    starts(l, "-------- Original message --------") ||
	    starts(l, "Begin forwarded message:") || contains(l, "原始邮件") ||
	    contains(l, "原始郵件") || contains(l, "转发的邮件") ||
	    contains(l, "轉寄的郵件"))
		return 1;
	/* "On Mon, Dec 22, 2025 at 10:14 AM Seller <a@b> wrote:", also when
	 * the client wrapped it onto a second line. */
	if (starts(l, "On ") || starts(l, "Le ") || starts(l, "Am ")) {
		if (ends(l, "wrote:") || ends(l, "a écrit :") ||
		    ends(l, "schrieb:"))
			return 1;
		if (i + 1 < nl && !is_blank(&ls[i + 1]) &&
		    (ends(&ls[i + 1], "wrote:")))
			return 2;
	}
	/* Chinese clients: "在 2025年12月22日 10:14，Seller <a@b> 写道：" */
	if ((starts(l, "在") || starts(l, "於") || starts(l, "于")) &&
	    (contains(l, "写道") || contains(l, "寫道")))
		return 1;
	/* Outlook: "From: X" then "Sent:"/"Date:" within the next lines,
	 * often after a line of underscores. */
	if ((starts(l, "From:") || starts(l, "发件人:") ||
	     starts(l, "发件人：") || starts(l, "寄件者:") ||
	     starts(l, "寄件者：")) &&
	    i + 1 < nl &&
	    (starts(&ls[i + 1], "Sent:") || starts(&ls[i + 1], "Date:") ||
	     starts(&ls[i + 1], "发送时间") || starts(&ls[i + 1], "寄件日期") ||
	     starts(&ls[i + 1], "To:")))
		return 1;
	if (l->n >= 20 && strspn(l->p, "_") >= 20)
		return 1;
	return 0;
}

static int signature(const struct line *l)
{
	return (l->n == 3 && memcmp(l->p, "-- ", 3) == 0) ||
	       (l->n == 2 && memcmp(l->p, "--", 2) == 0) ||
	       starts(l, "Sent from my ") || starts(l, "Get Outlook for ") ||
	       starts(l, "发自我的") || starts(l, "從我的 iPhone 傳送") ||
	       starts(l, "发自 ") || starts(l, "寄自我的");
}

/* Where a marketplace's own text starts after the buyer's words, in the
 * layouts that have no end marker (Amazon's newer and EU relays, eBay,
 * Etsy, Walmart, Shopify forms, JD and Taobao forwards): everything from
 * here on is theirs ("eBay Money Back Guarantee" is not a refund request). */
static int footer(const struct line *l)
{
	static const char *const starts_with[] = {
	    "Want to respond to this message?",
	    "We hope you found this message to be useful",
	    "Amazon will never ask you",
	    "If you believe this message is suspicious",
	    "Was this email helpful",
	    "For Your Information:",
	    "To respond to this customer",
	    "eBay sent this message",
	    "Your registered name is included to show this message",
	    "Reply on Etsy",
	    "Please reply on Etsy",
	    "Keep your conversations and payments on Etsy",
	    "Please respond within 48 hours in Seller Center",
	    "本邮件由系统自动发送",
	    "此邮件由系统自动发出",
	    "请尽快登录京麦",
	    "请登录千牛",
	    "You can respond to this message by replying",
	    "Please do not include links or personal email",
	    "Reply to this email to respond to the buyer",
	    "Reply to this message in My eBay",
	    "Reply to this message through My eBay",
	    "Reply to this message in Messages on eBay",
	    "Email reference id:",
	    "eBay will never ask you",
	    "View and reply to this conversation on Etsy",
	    "请在千牛工作台",
	    "请于拼多多商家工作台",
	    "请前往拼多多商家工作台",
	    "请至虾皮卖家中心",
	    "請至蝦皮賣家中心",
	    "請於商戶中心",
	    "Please reply via the Merchant Portal",
	    "（本邮件由系统自动发送",
	    "Reply: https://www.ebay.",
	    "This message was sent via eBay",
	    "We want you to buy with confidence",
	    "not include personal contact details in your reply",
	    "请尽快登录千牛工作台",
	    "请尽快前往卖家中心",
	    "請盡快前往賣家中心",
	    "此为系统自动发送",
	    "此為系統自動發送",
	    "请在24小时内通过咚咚工作台",
	    "京东商家服务中心",
	    "温馨提示：请勿引导消费者",
	    "Important: this message was sent via the Amazon",
	    "請至賣家中心",
	    "请至卖家中心",
	    "【请在商家后台",
	    NULL};
	/* whole lines */
	static const char *const exactly[] = {"Order details", "Reply", NULL};
	const char *p = l->p;
	size_t n = l->n;

	for (size_t i = 0; starts_with[i]; i++)
		if (starts(l, starts_with[i]))
			return 1;
	/* eBay's footer sentence, also after another on the same line
	 * ("Reply ... on eBay. Only purchases on eBay are covered by the eBay
	 * Money Back Guarantee."): not the customer asking for a guarantee */
	if (contains(l, "Only purchases on eBay are covered"))
		return 1;
	while (n && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
		n--;
	for (size_t i = 0; exactly[i]; i++)
		if (n == strlen(exactly[i]) && memcmp(p, exactly[i], n) == 0)
			return 1;
	return 0;
}

/* The marketplace's own lines about the order, also found inside the
 * message block: the product title must not be read as the customer's
 * words ("Wool Wrap Coat" is not a gift-wrap request). */
static int item_line(const struct line *l)
{
	size_t i = 0;

	if (starts(l, "Order ID") || starts(l, "Item:") || starts(l, "ASIN:") ||
	    starts(l, "Product:") || starts(l, "Quantity:") ||
	    starts(l, "SKU:") || starts(l, "订单编号") ||
	    starts(l, "訂單編號") || starts(l, "商品：") ||
	    starts(l, "ASIN：") || starts(l, "数量：") || starts(l, "數量："))
		return 1;
	/* "2 of Shatterproof Ornament Set [ASIN: B0T5F3716E]" */
	while (i < l->n && (l->p[i] == ' ' || l->p[i] == '\t'))
		i++;
	if (i == l->n || !(l->p[i] >= '0' && l->p[i] <= '9'))
		return 0;
	while (i < l->n && (l->p[i] >= '0' && l->p[i] <= '9'))
		i++;
	return l->n - i > 4 && memcmp(l->p + i, " of ", 4) == 0 &&
	       ascii_memcasemem(l->p + i, l->n - i, "[ASIN:", 6) != NULL;
}

/* The marketplace's markers around the buyer's words, in the languages
 * Seller Central writes: a run of dashes, the marker, more dashes. */
static const char *const begin_markers[] = {
    "Message:", "Begin message", "消息：",   "消息:", "買家訊息：",
    "訊息：",	"留言：",	 "消息内容", NULL};
static const char *const end_markers[] = {
    "End message", "消息结束", "訊息結束", "留言结束", "以上为买家消息", NULL};

static int marker(const struct line *l, const char *const *words)
{
	size_t i = 0, dashes;

	while (i < l->n && (l->p[i] == ' ' || l->p[i] == '\t'))
		i++;
	for (dashes = 0; i < l->n && l->p[i] == '-'; i++)
		dashes++;
	if (dashes < 5)
		return 0;
	while (i < l->n && l->p[i] == ' ')
		i++;
	for (size_t k = 0; words[k]; k++) {
		size_t w = strlen(words[k]), j = i + w;
		if (l->n - i < w || ascii_ncasecmp(l->p + i, words[k], w) != 0)
			continue;
		/* then only dashes (five or more) and white space */
		for (dashes = 0; j < l->n; j++)
			if (l->p[j] == '-')
				dashes++;
			else if (l->p[j] != ' ' && l->p[j] != '\t' &&
				 l->p[j] != '\r')
				break;
		return j == l->n && dashes >= 5;
	}
	return 0;
}

/* The product and account lines a Chinese marketplace's forward puts
 * around the buyer's words ("商品名称：破壁机" is not a broken item), and
 * the notice line a store's contact form or eBay puts first ("You received
 * a new message" is not the customer receiving something). */
static int platform_field(const struct line *l)
{
	static const char *const names[] = {
	    "商品名称", "商品名稱", "宝贝名称", "寶貝名稱", "宝贝：", "寶貝：",
	    "商品：", "买家账号", "客户账号", "买家昵称", "旺旺：",
	    /* a marketplace's item line ("Item: Switch OLED - White
	     * Joy-Con" is not the customer calling anything a con) */
	    "Item:", "Item number:", "Item ID:", "Item title:",
	    /* the notice lines of a store's contact form and of eBay */
	    "You received a new message from your online store",
	    "You've received a message from",
	    "You have received a message from",
	    "Walmart Marketplace - Customer Message", NULL};

	for (size_t i = 0; names[i]; i++)
		if (starts(l, names[i]))
			return 1;
	return 0;
}

/* Etsy's notice line ("colmdaly sent you a message about order #898...":
 * a user name, one word, then those words) and the item it names on the
 * next line, in brackets ("(Fireside Soy Candle - Cedar, Smoke & Clove,
 * 8oz)" is not smoke damage). "I sent you a message about this" is the
 * customer's. */
static int etsy_notice_line(const struct line *l)
{
	static const char about[] = " sent you a message about ";
	const char *at =
	    ascii_memcasemem(l->t, l->tn, about, sizeof(about) - 1);

	if (!at || at == l->t || (at - l->t == 1 && (*l->t | 0x20) == 'i'))
		return 0;
	return memchr(l->t, ' ', (size_t)(at - l->t)) == NULL;
}

static int etsy_notice(const struct line *ls, size_t i)
{
	const struct line *l = &ls[i];
	size_t n = l->tn;

	if (etsy_notice_line(l))
		return 1;
	while (n && (l->t[n - 1] == ' ' || l->t[n - 1] == '\r'))
		n--;
	return i > 0 && n >= 2 && l->t[0] == '(' && l->t[n - 1] == ')' &&
	       etsy_notice_line(&ls[i - 1]);
}

/* A row of the item table in Amazon's "X has sent you a message about the
 * following order" notice: it ends with the ASIN ("1  Kids Snow Boots,
 * Size 13   B0QZ68K2P5"), or is the table's heading ("#  Item Name ...
 * ASIN"). */
static int asin_row(const struct line *l)
{
	size_t n = l->n, k;

	while (n && (l->p[n - 1] == ' ' || l->p[n - 1] == '\t' ||
		     l->p[n - 1] == '\r'))
		n--;
	if (n >= 4 && memcmp(l->p + n - 4, "ASIN", 4) == 0 && l->tn &&
	    l->t[0] == '#')
		return 1;
	if (n < 12 || l->p[n - 11] != ' ' || l->p[n - 10] != 'B' ||
	    l->p[n - 9] != '0')
		return 0;
	for (k = n - 8; k < n; k++)
		if (!((l->p[k] >= 'A' && l->p[k] <= 'Z') ||
		      (l->p[k] >= '0' && l->p[k] <= '9')))
			return 0;
	return 1;
}

static int add(struct buf *b, const struct line *l)
{
	return buf_add(b, l->p, l->n) < 0 || buf_addc(b, '\n') < 0 ? -1 : 0;
}

int quote_split(const char *s, size_t n, struct buf *fresh, struct buf *quoted)
{
	struct line *ls = NULL;
	size_t nl = 0, cap = 0, i, from = 0, to;
	int ret = 0, amazon = 0, seen = 0, theirs;

	for (const char *p = s, *end = s + n; p < end;) {
		const char *nlp = memchr(p, '\n', (size_t)(end - p));
		size_t len = nlp ? (size_t)(nlp - p) : (size_t)(end - p);
		if (nl == cap) {
			cap = cap ? cap * 2 : 64;
			ls = xreallocarray(ls, cap, sizeof(*ls));
		}
		ls[nl].p = p;
		ls[nl].n = len;
		ls[nl].t = p;
		ls[nl].tn = len;
		while (ls[nl].tn && (*ls[nl].t == ' ' || *ls[nl].t == '\t')) {
			ls[nl].t++;
			ls[nl].tn--;
		}
		ls[nl].ascii = 1;
		for (size_t k = 0; k < len; k++)
			if ((unsigned char)p[k] >= 0x80) {
				ls[nl].ascii = 0;
				break;
			}
		nl++;
		p += len + 1;
	}
	to = nl;
	/* Amazon Buyer-Seller Messaging: the buyer's words are between the
	 * two markers; the rest is the marketplace's own text. */
	for (i = 0; i < nl; i++)
		if (marker(&ls[i], begin_markers)) {
			from = i + 1;
			amazon = 1;
			break;
		}
	if (amazon)
		for (i = from; i < nl; i++)
			if (marker(&ls[i], end_markers)) {
				to = i;
				break;
			}
	for (i = 0; i < from; i++)
		if (add(quoted, &ls[i]) < 0)
			ret = -1;
	for (i = from; i < to; i++) {
		int k = attribution(ls, i, to), foot = !k && footer(&ls[i]);
		/* A footer sentence above the buyer's words ("eBay sent this
		 * message to SELLER." opening the notice) is the marketplace's
		 * line, not the end of the buyer's words. */
		if (foot && !seen) {
			if (add(quoted, &ls[i]) < 0)
				ret = -1;
			continue;
		}
		if (k || foot || signature(&ls[i]))
			break;
		theirs = starts(&ls[i], ">") || (amazon && item_line(&ls[i])) ||
			 platform_field(&ls[i]) || asin_row(&ls[i]) ||
			 etsy_notice(ls, i);
		if (!theirs && !is_blank(&ls[i]))
			seen = 1;
		if (add(theirs ? quoted : fresh, &ls[i]) < 0)
			ret = -1;
	}
	for (; i < nl; i++)
		if (add(quoted, &ls[i]) < 0)
			ret = -1;
	free(ls);
	return ret;
}
