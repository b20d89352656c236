/* test-quote: what the customer wrote now is separated from quoted replies,
 * forwards, signatures and marketplace boilerplate. */
#include "config.h"

#include <string.h>

#include "quote.h"
#include "../tap.h"

static const struct {
	const char *name, *text, *fresh;
} cases[] = {
    {"no quote", "It is late.\nPlease help.\n", "It is late.\nPlease help.\n"},
    {"> lines", "Still nothing!\n> It was damaged\n> badly\nThanks\n",
     "Still nothing!\nThanks\n"},
    {"gmail attribution",
     "Where is it?\n\nOn Mon, Dec 22, 2025 at 10:14 AM Shop <s@x.com> "
     "wrote:\n> Your refund is on its way\n",
     "Where is it?\n\n"},
    {"wrapped attribution",
     "ok thanks\nOn Mon, Dec 22, 2025 at 10:14 AM Holiday Support Team\n"
     "<support@example.com> wrote:\n\nwe shipped the wrong item\n",
     "ok thanks\n"},
    {"outlook original message",
     "Any news?\n-----Original Message-----\nFrom: Shop\nSubject: "
     "damaged\n",
     "Any news?\n"},
    {"outlook from/sent block",
     "Please hurry\n\nFrom: Shop <s@x.com>\nSent: Monday\nTo: me\n"
     "Subject: your return\n",
     "Please hurry\n\n"},
    {"chinese attribution",
     "还没收到\n\n在 2025年12月22日 10:14，客服 <s@x.com> 写道：\n退款已处理\n",
     "还没收到\n\n"},
    {"traditional attribution", "請問進度\n於 2025年12月22日 寫道：\n已寄出\n",
     "請問進度\n"},
    {"qq divider",
     "谢谢\n------------------ 原始邮件 ------------------\n发件人: "
     "客服\n坏了\n",
     "谢谢\n"},
    {"signature", "It broke.\n-- \nJane\nReturns Manager, ACME\n",
     "It broke.\n"},
    {"mobile footer", "wrong size\n\nSent from my iPhone\n", "wrong size\n\n"},
    {"chinese mobile footer", "颜色不对\n发自我的iPhone\n", "颜色不对\n"},
    {"amazon relay",
     "Order ID: 113-4472915-0082365\nItem: Scarf\n\n------------- "
     "Message: -------------\n\nWhere is my scarf?\n\n------------- End "
     "message -------------\n\nYou can respond to this buyer, return or "
     "refund...\n",
     "\nWhere is my scarf?\n\n"},
    {"amazon relay, other layout",
     "Order ID: 114-7462658-5436572: 1 of Speaker [ASIN: B0Y]\n"
     "------------- Begin message -------------\nit does not turn on\n"
     "------------- End message -------------\nTo respond to this "
     "customer, reply to this e-mail\n",
     "it does not turn on\n"},
    {"amazon relay, item lines inside the message",
     "------------- Message: -------------\nOrder ID: 111-1\nItem: Wool "
     "Wrap Coat, Camel\nplease swap it for a L\n------------- End message "
     "-------------\n",
     "please swap it for a L\n"},
    {"amazon relay, 'N of title [ASIN]' line inside the message",
     "------------- Message: -------------\n\nOrder ID "
     "113-5460206-8630007:\n2 of Shatterproof Ornament Set, 24-Count "
     "[ASIN: B0T5F3716E] \n\nonly one set came\n------------- End message "
     "-------------\n",
     "\n\nonly one set came\n"},
    {"amazon product question: 'Product:' line",
     "------------- Message: -------------\nASIN: B0LL62C46L\nProduct: "
     "Ride-On Tractor, 12V\n\nwill it arrive by the 24th?\n"
     "------------- End message -------------\n",
     "\nwill it arrive by the 24th?\n"},
    {"amazon relay in Chinese",
     "------------- 消息： -------------\n\n根本就还没到！\n\n------------- "
     "消息结束 "
     "-------------\n\n订单编号：114-9096714-1925624\n举报可疑活动：如果"
     "您认为此消息可疑，请举报。\n",
     "\n根本就还没到！\n\n"},
    {"a dash line that is not a marker stays",
     "----- Message: see below\nit is late\n",
     "----- Message: see below\nit is late\n"},
    {"amazon relay without an end marker: 'Order details' starts theirs",
     "Message from customer Gillian:\n------------- Message: -------------\n"
     "We're three pieces short.\nOrder details\nQty  Item\n1    Puzzle\n"
     "Amazon will never ask you to share your password. If a message looks "
     "suspicious, report it.\n",
     "We're three pieces short.\n"},
    {"eBay: the money back guarantee is not the buyer's",
     "New message from: ro-ann_52 (651)\nthe item hasn't arrived yet.\n"
     "Reply\nOrder number: 20-13768-04787\nOnly purchases on eBay are "
     "covered by the eBay Money Back Guarantee.\n",
     "New message from: ro-ann_52 (651)\nthe item hasn't arrived yet.\n"},
    {"'Reply' inside a sentence stays", "Reply soon please, it is late\n",
     "Reply soon please, it is late\n"},
    {"a JD forward's product line is the platform's",
     "咨询内容：退货已经寄回去五天了，退款什么时候到账？\n商品名称：破壁机 家用"
     "\n订单号：261676943447\n",
     "咨询内容：退货已经寄回去五天了，退款什么时候到账？\n订单号：261676943447"
     "\n"},
    {"a store's contact-form and eBay notice lines are theirs",
     "You received a new message from your online store's contact form.\n"
     "Name: Denise\nBody:\nI received men's size 8 instead.\n"
     "You've received a message from kw_cards\n",
     "Name: Denise\nBody:\nI received men's size 8 instead.\n"},
    {"eBay's footer sentence above the buyer's words is theirs, and the "
     "words after it stay the buyer's",
     "eBay sent this message to pacificbay_trading.\nYour registered name is "
     "included to show this message originated from eBay.\nHi,\nPlease put "
     "no invoice in the box.\nReply to this message through My eBay.\n"
     "eBay sent this message on behalf of an eBay member.\n",
     "Hi,\nPlease put no invoice in the box.\n"},
    {"more marketplace footers are theirs",
     "The lamp is too tall.\nYou can respond to this message by replying to "
     "this email.\nPlease do not include links.\n",
     "The lamp is too tall.\n"},
    {"the item table of Amazon's 'has sent you a message' notice is theirs",
     "#  Item Name                        ASIN\n"
     "1  Kids Snow Boots, Broken Arrow   B0QZ68K2P5\n"
     "My order is late.\n",
     "My order is late.\n"},
    {"a Taobao notice's message markers",
     "【千牛】您有一条新的买家消息\n-------- 消息内容 --------\n台灯太高了\n"
     "-------- 以上为买家消息 --------\n请尽快登录千牛工作台回复\n",
     "台灯太高了\n"},
    {"Amazon's 'Important:' footer and a Walmart notice line are theirs",
     "Walmart Marketplace - Customer Message\nIt is late.\nImportant: this "
     "message was sent via the Amazon.com Buyer-Seller Messaging service.\n",
     "It is late.\n"},
    {"a Taobao notice's footer is theirs",
     "台灯太高了\n请在千牛工作台及时回复买家，超过24小时未回复将影响店铺响应率"
     "。\n",
     "台灯太高了\n"},
    {"'2 of them' in the customer's words stays",
     "------------- Message: -------------\n2 of them were broken\n"
     "------------- End message -------------\n",
     "2 of them were broken\n"},
    {"'On' in a sentence is not an attribution",
     "On Monday it was still not here.\nWhy?\n",
     "On Monday it was still not here.\nWhy?\n"},
    {"Etsy's notice line and the item it names are theirs",
     "Etsy Conversations\ncolmdaly sent you a message about order #898186\n"
     "(Fireside Soy Candle - Cedar, Smoke & Clove, 8oz)\n"
     "Hey! Please leave my name out.\n(I mean it.)\n",
     "Etsy Conversations\nHey! Please leave my name out.\n(I mean it.)\n"},
    {"eBay's footer sentence after another one on the line is theirs",
     "换一个可以吗？\n\nReply to this message in Messages on eBay. Only "
     "purchases on eBay are covered by the eBay Money Back Guarantee.\n",
     "换一个可以吗？\n\n"},
    {"'I sent you a message about' is the customer's",
     "I sent you a message about this four days ago.\n(No reply.)\n",
     "I sent you a message about this four days ago.\n(No reply.)\n"},
    {"'From:' in a sentence is not a header block",
     "From: my mother, a gift\nit is late\n",
     "From: my mother, a gift\nit is late\n"},
};

int main(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct buf fresh, quoted;
		size_t n = strlen(cases[i].text);
		buf_init(&fresh, 1 << 16);
		buf_init(&quoted, 1 << 16);
		ok(quote_split(cases[i].text, n, &fresh, &quoted) == 0,
		   "%s: split", cases[i].name);
		is_str(buf_str(&fresh), cases[i].fresh, "%s: fresh text",
		       cases[i].name);
		is_int(fresh.len + quoted.len,
		       n + (cases[i].text[n - 1] != '\n'), "%s: nothing lost",
		       cases[i].name);
		buf_release(&fresh);
		buf_release(&quoted);
	}
	return done_testing();
}
