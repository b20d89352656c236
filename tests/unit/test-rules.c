/* test-rules: loading errors are located; matching is whole-word for Latin
 * keywords, substring for CJK, case- and width-insensitive, first rule wins,
 * and the default rule set classifies typical holiday mail. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "rules.h"
#include "util.h"
#include "../tap.h"

static char dir[] = "/tmp/pq-rules-XXXXXX";

static int load(const char *text, struct ruleset **set, struct xerr *err)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/r.yaml", dir);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return rules_load_file(path, set, err);
}

static const struct {
	const char *yaml, *error;
} bad[] = {
    {"rules:\n  - name: a\n    category: c\n", "2:5: rule 'a': 'match' is "
					       "required"},
    {"rules:\n  - name: a\n    category: c\n    match: {any: []}\n",
     "4:18: any is an empty list"},
    {"rules:\n  - name: a\n    category: c\n    priority: hot\n    match: "
     "{any: [x]}\n",
     "4:15: priority must be urgent, high, normal or low, not 'hot'"},
    {"rules:\n  - name: a\n    category: c\n    match: {any: [x]}\n  - name: "
     "a\n    category: d\n    match: {any: [y]}\n",
     "5:5: rule name 'a' is used twice"},
    {"rules:\n  - name: a\n    category: c\n    match: {none: [x]}\n",
     "4:12: rule 'a' has no 'any', 'all', 'regex' or 'from'"},
    {"rules:\n  - name: a\n    categroy: c\n", "3:5: unknown key "
					       "'categroy'"},
    {"rules:\n  - name: a\n    category: c\n    sla_hours: -1\n    match: "
     "{any: [x]}\n",
     "4:16: sla_hours must be a whole number from 1 to 720"},
    {"rules:\n  - name: A B\n", "2:11: rule name 'A B' may only use"},
    {"rule:\n  - name: a\n", "1:1: unknown key 'rule'"},
};

static struct rules_verdict verdict;

static const char *classify_full(const struct ruleset *set, const char *subject,
				 const char *body, const char *from,
				 const char *lang)
{
	struct rules_input in = {.subject = subject,
				 .body = body,
				 .body_len = strlen(body),
				 .from_addr = from,
				 .lang = lang ? lang : "en"};

	rules_classify(set, &in, &verdict);
	return verdict.category;
}

static const char *classify(const struct ruleset *set, const char *subject,
			    const char *body)
{
	return classify_full(set, subject, body, "ann@example.net", NULL);
}

static void collect(const char *msg, void *ctx)
{
	struct buf *b = ctx;

	if (buf_adds(b, msg) < 0 || buf_addc(b, '\n') < 0)
		return;
}

static int no_template(const char *name, void *ctx)
{
	(void)ctx;
	return strcmp(name, "missing") != 0;
}

int main(void)
{
	struct ruleset *set = NULL;
	struct xerr err = {0};
	char prefix[300];

	if (!mkdtemp(dir))
		return 99;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = load(bad[i].yaml, &set, &err);
		snprintf(prefix, sizeof(prefix), "%s/r.yaml:%s", dir,
			 bad[i].error);
		ok(r == -1 && strncmp(err.msg, prefix, strlen(prefix)) == 0,
		   "bad rules %zu: %s", i, bad[i].error);
		if (r == 0 || strncmp(err.msg, prefix, strlen(prefix)))
			diag("got: %s", r == 0 ? "(loaded)" : err.msg);
		rules_free(&set);
	}

	int r = load("rules:\n"
		     "  - name: late\n"
		     "    category: late_delivery\n"
		     "    priority: high\n"
		     "    sla_hours: 4\n"
		     "    match:\n"
		     "      any: [late, \"not arrived\", 还没到]\n"
		     "      none: [refund]\n"
		     "  - name: gift\n"
		     "    category: gift_options\n"
		     "    match:\n"
		     "      all: [gift, receipt]\n"
		     "  - name: refund\n"
		     "    category: return_exchange\n"
		     "    match: {any: refund}\n",
		     &set, &err);
	ok(r == 0, "rules load");
	if (r) {
		diag("%s", err.msg);
		return done_testing();
	}
	is_int(rules_count(set), 3, "three rules");
	is_str(classify(set, "Order is LATE!", ""), "late_delivery",
	       "case-insensitive, punctuation is a boundary");
	is_str(classify(set, "", "It is late."), "late_delivery",
	       "word at end of sentence");
	is_str(classify(set, "", "I love chocolate"), "general",
	       "no match inside a word (chocolate)");
	is_str(classify(set, "", "please translate this"), "general",
	       "no match inside a word (translate)");
	is_str(classify(set, "", "it has not\n   arrived yet"), "late_delivery",
	       "phrase across line breaks and spaces");
	is_str(classify(set, "", "ＬＡＴＥ again"), "late_delivery",
	       "full-width letters fold");
	is_str(classify(set, "", "我的包裹还没到，怎么办"), "late_delivery",
	       "CJK substring");
	is_str(classify(set, "", "late, I want a refund"), "return_exchange",
	       "'none' keyword skips the rule");
	is_str(classify(set, "", "a gift receipt please"), "gift_options",
	       "all keywords present");
	is_str(classify(set, "", "a gift please"), "general",
	       "one of 'all' missing");
	is_str(classify(set, "Where", "nothing here"), "general", "fallback");
	classify(set, "late", "");
	is_str(verdict.rule, "late", "verdict names the rule");
	is_int(verdict.sla_hours, 4, "verdict sla");
	ok(verdict.nmatched == 1 &&
	       strcmp(verdict.matched[0].keyword, "late") == 0 &&
	       verdict.matched[0].field == RULES_SUBJECT,
	   "verdict lists the matched keyword and where");
	classify(set, "", "nothing");
	is_str(verdict.tmpl, "general", "fallback template");
	is_int(verdict.sla_hours, 24, "fallback sla");
	is_str(classify(set, "", "Thanks!\n> it was late\n"), "general",
	       "quoted text is not matched");
	is_str(classify(set, "",
			"ok\nOn Mon, Dec 22, 2025, Shop <s@x> wrote:\nlate\n"),
	       "general", "text after an attribution is not matched");
	rules_free(&set);

	/* The rest of the language. */
	r = load("rules:\n"
		 "  - name: vip\n"
		 "    stop: false\n"
		 "    tags: [vip]\n"
		 "    match: {from: ['*@vip.example', 'boss@*']}\n"
		 "  - name: amazon\n"
		 "    stop: false\n"
		 "    tags: [marketplace]\n"
		 "    escalate: true\n"
		 "    match:\n"
		 "      from: '*@marketplace.amazon.com'\n"
		 "      any: [order]\n"
		 "  - name: subject-only\n"
		 "    category: damaged\n"
		 "    match:\n"
		 "      any: {keywords: [broken], fields: [subject]}\n"
		 "  - name: quoted-ok\n"
		 "    category: wrong_item\n"
		 "    match:\n"
		 "      any: {keywords: [wrong size], fields: [quoted]}\n"
		 "  - name: zh-only\n"
		 "    category: late_delivery\n"
		 "    match: {lang: zh, any: [包裹]}\n"
		 "  - name: orders\n"
		 "    category: general\n"
		 "    template: missing\n"
		 "    tags: [has-order]\n"
		 "    match:\n"
		 "      regex: '[0-9]{3}-[0-9]{7}-[0-9]{7}'\n",
		 &set, &err);
	ok(r == 0, "full language loads");
	if (r) {
		diag("%s", err.msg);
		return done_testing();
	}
	is_str(classify_full(set, "it is broken", "", "x@y", NULL), "damaged",
	       "fields: [subject] matches the subject");
	is_str(classify_full(set, "hello", "it is broken", "x@y", NULL),
	       "general", "fields: [subject] ignores the body");
	is_str(classify_full(set, "", "see below\n> wrong size\n", "x@y", NULL),
	       "wrong_item", "fields: [quoted] looks at quoted text");
	is_str(classify_full(set, "", "我的包裹", "x@y", "zh"), "late_delivery",
	       "lang: zh matches Chinese mail");
	is_str(classify_full(set, "", "my 包裹", "x@y", "en"), "general",
	       "lang: zh skips English mail");
	is_str(classify_full(set, "", "order 111-2222222-3333333", "x@y", NULL),
	       "general", "regex decides");
	is_str(verdict.rule, "orders", "regex rule named");
	classify_full(set, "", "my order", "k7xq@marketplace.amazon.com", NULL);
	ok(verdict.ntags == 1 && strcmp(verdict.tags[0], "marketplace") == 0 &&
	       verdict.escalate,
	   "stop: false rule adds its tags and escalation and goes on");
	classify_full(set, "", "111-2222222-3333333", "boss@vip.example", NULL);
	ok(verdict.ntags == 2 && strcmp(verdict.tags[0], "vip") == 0 &&
	       strcmp(verdict.tags[1], "has-order") == 0,
	   "tags of tagging and deciding rules both kept");
	ok(rules_check_templates(set, no_template, NULL, &err) == -1 &&
	       strstr(err.msg, "r.yaml:26:15: rule 'orders' uses template "
			       "'missing'"),
	   "a missing template is located");
	diag("%s", err.msg);
	rules_free(&set);

	/* Lint: rules that can never decide. */
	r = load("rules:\n"
		 "  - name: late\n"
		 "    category: late_delivery\n"
		 "    match: {any: [late, 还没]}\n"
		 "  - name: very-late\n"
		 "    category: complaint\n"
		 "    match: {any: [very late, 还没到]}\n"
		 "  - name: late-gift\n"
		 "    category: gift_options\n"
		 "    match: {all: [gift, late]}\n"
		 "  - name: chocolate\n"
		 "    category: general\n"
		 "    match: {any: [chocolate, late]}\n"
		 "  - name: keys\n"
		 "    category: missing_item\n"
		 "    match:\n"
		 "      all:\n"
		 "        keywords: [negatable, keywords]\n"
		 "  - name: parcel\n"
		 "    category: lost_package\n"
		 "    match: {any: [parcel], none: [gift]}\n"
		 "  - name: parcel-gift\n"
		 "    category: gift_options\n"
		 "    match: {any: [parcel], none: [gift, wrap]}\n"
		 "  - name: parcel-wrap\n"
		 "    category: gift_options\n"
		 "    match: {any: [parcel], none: [wrap]}\n"
		 "  - name: late-claim\n"
		 "    category: complaint\n"
		 "    escalate: true\n"
		 "    match: {any: [late]}\n",
		 &set, &err);
	ok(r == 0, "lint rules load");
	struct buf warnings;
	buf_init(&warnings, 1 << 16);
	is_int(rules_lint(set, collect, &warnings), 5,
	       "three shadowed rules and two keys as keywords found");
	ok(strstr(buf_str(&warnings), "rule 'parcel-gift' can never decide: "
				      "rule 'parcel'") != NULL,
	   "an earlier rule whose exclusions the later one shares shadows it");
	ok(strstr(buf_str(&warnings), "'parcel-wrap' can never") == NULL,
	   "an exclusion the later rule lacks leaves it reachable");
	ok(strstr(buf_str(&warnings), "'late-claim' can never") == NULL,
	   "a rule that escalates counts side stories, so a rule that does "
	   "not escalate cannot shadow it");
	ok(strstr(buf_str(&warnings),
		  "r.yaml:5:5: warning: rule 'very-late' can never decide: "
		  "rule 'late'") != NULL,
	   "shadowed 'any' rule located and explained");
	ok(strstr(buf_str(&warnings), "rule 'late-gift' can never decide") !=
	       NULL,
	   "shadowed 'all' rule found");
	ok(strstr(buf_str(&warnings), "'chocolate'") == NULL,
	   "a rule with one keyword not covered is reachable");
	ok(strstr(buf_str(&warnings),
		  "rule 'keys' has the keyword "
		  "'negatable': a key of a keyword list") != NULL,
	   "a key written as a keyword is a warning");
	diag("%s", buf_str(&warnings));
	buf_release(&warnings);
	rules_free(&set);

	/* Lint: a keyword written twice in one list, in another case, width
	 * or script; in an 'all' list only within one entry, since one
	 * keyword meeting two entries is a choice. */
	r = load("rules:\n"
		 "  - name: dup\n"
		 "    category: complaint\n"
		 "    match:\n"
		 "      any: [lawyer, 投诉, Lawyer, 投訴]\n"
		 "      all:\n"
		 "        - [refund, 退款]\n"
		 "        - [退款, now, NOW]\n"
		 "      none: [？, '?']\n",
		 &set, &err);
	ok(r == 0, "keywords written twice still load");
	buf_init(&warnings, 1 << 16);
	is_int(rules_lint(set, collect, &warnings), 4,
	       "three lists, four keywords written twice");
	ok(strstr(buf_str(&warnings),
		  "r.yaml:5:25: warning: rule 'dup' lists 'Lawyer' twice in "
		  "its 'any' list (also on line 5") != NULL,
	   "a keyword twice in another case is located");
	ok(strstr(buf_str(&warnings), "'投訴' twice in its 'any' list") != NULL,
	   "traditional and simplified forms are one keyword");
	ok(strstr(buf_str(&warnings), "'NOW' twice in its 'all' list") != NULL,
	   "twice within one entry of an 'all' list");
	ok(strstr(buf_str(&warnings), "'退款' twice") == NULL,
	   "one keyword in two entries of an 'all' list is no warning");
	ok(strstr(buf_str(&warnings), "'?' twice in its 'none' list") != NULL,
	   "full-width and half-width forms are one keyword");
	diag("%s", buf_str(&warnings));
	buf_release(&warnings);
	rules_free(&set);

	/* What a person means: negation, alternatives, reply subjects,
	 * traditional/simplified Chinese. */
	r = load("rules:\n"
		 "  - name: damaged\n"
		 "    category: damaged\n"
		 "    match: {any: [broken, 坏了, 发错]}\n"
		 "  - name: lost\n"
		 "    category: lost_package\n"
		 "    match:\n"
		 "      all:\n"
		 "        - [delivered, 签收]\n"
		 "        - [not here, never got, 没收到]\n"
		 "  - name: late\n"
		 "    category: late_delivery\n"
		 "    match: {any: [还没到, \"doesn't work\", 不能用]}\n"
		 "  - name: prefix\n"
		 "    category: wrong_item\n"
		 "    match: {any: [mislabel*]}\n"
		 "  - name: none-in-box\n"
		 "    category: missing_item\n"
		 "    match:\n"
		 "      all:\n"
		 "        keywords: [[in the box, in the package], [no, "
		 "\"weren't\"]]\n"
		 "        negatable: false\n",
		 &set, &err);
	ok(r == 0, "negation rules load");
	if (r) {
		diag("%s", err.msg);
		return done_testing();
	}
	static const struct {
		const char *subject, *body, *category, *why;
	} means[] = {
	    {"", "It arrived broken.", "damaged", "plain hit"},
	    {"", "It's not broken, just slow.", "general", "'not' negates"},
	    {"", "Nothing was broken.", "general", "'nothing was' negates"},
	    {"", "Nothing's broken, it just hasn't come", "general",
	     "'nothing's' negates"},
	    {"", "It is not damaged or broken", "general",
	     "'or' does not end the negation"},
	    {"", "I'm not going to say it's broken", "general",
	     "negation five words back"},
	    {"", "No, it is broken.", "damaged",
	     "a comma ends the negation's reach"},
	    {"", "not my fault but it is broken", "damaged",
	     "'but' ends the negation's reach"},
	    {"", "it doesn't work", "late_delivery",
	     "a keyword that starts with a negation still counts"},
	    {"", "Nothing dented, scratched or broken.", "general",
	     "a list after a negation: the commas do not end it"},
	    {"", "no scratches, mislabeling or the like", "general",
	     "a list goes on after a prefix keyword's word"},
	    {"", "no dents, broken clasp", "damaged",
	     "a comma without an 'or' list ends the negation"},
	    {"", "No, it's broken or worse.", "damaged",
	     "'No,' alone before a comma is an answer, not a negation"},
	    {"", "It is not as described, broken，我好嬲", "damaged",
	     "a Chinese clause after a full-width comma is no list: the "
	     "negation does not reach across it"},
	    {"", "I was not sure, the glass part is broken or cracked",
	     "damaged", "more than two words after the comma: a new clause"},
	    {"", "东西没有坏了吧", "general", "没有 negates 坏了"},
	    {"", "冇发错，系我唔钟意", "general", "Cantonese 冇 negates"},
	    {"", "唔系你哋发错", "general", "Cantonese 唔 + 系 negates"},
	    {"", "係唔係发错咗？", "damaged",
	     "係唔係 asks, it does not negate"},
	    {"", "有冇发错？", "damaged", "有冇 asks, it does not negate"},
	    {"", "不用发错的", "general", "不用: no need to, negates"},
	    {"", "没有任何发错", "general", "没有任何: three fillers, negates"},
	    {"", "发错都没有。就是太大", "general",
	     "都没有 to the end of the clause denies it"},
	    {"", "坏了也没人管", "damaged",
	     "也没 followed by more words is not a denial"},
	    {"", "不是你们发错了", "general", "不是 + fillers negates"},
	    {"", "我不着急发错", "general", "不着急: in no hurry to, negates"},
	    {"", "不想发错", "general", "不想: not wanting to, negates"},
	    {"", "也不是说件坏了", "general", "不是说件 + keyword negates"},
	    {"", "我不是来说发错的", "general",
	     "不是来: not here to (complain, return), negates"},
	    {"", "不想到时候又坏了", "damaged",
	     "不想 far before (a hypothetical): no negation"},
	    {"", "没多久就坏了", "damaged", "没 far before: no negation"},
	    {"", "杯子不能用了", "late_delivery", "不能用 is itself a keyword"},
	    {"", "是不是发错了？", "damaged",
	     "是不是 asks, it does not negate"},
	    {"", "奶瓶能不能用蒸汽消毒", "general",
	     "不能用 inside the question 能不能用 is not the statement"},
	    {"", "Tracking says delivered, but it is not here", "lost_package",
	     "all: one of each alternative list"},
	    {"", "它显示已经签收了，我没收到", "lost_package",
	     "alternatives in Chinese"},
	    {"", "It was delivered yesterday.", "general",
	     "one alternative list missing"},
	    {"", "我的包裹還沒到", "late_delivery",
	     "traditional text, simplified keyword"},
	    {"Re: broken vase", "thanks, all fine now", "general",
	     "a reply subject is quoted text"},
	    {"broken vase", "thanks", "damaged", "a new subject counts"},
	    {"", "it was mislabeled", "wrong_item", "a prefix keyword"},
	    {"", "mislabelled twice", "wrong_item", "a prefix, other form"},
	    {"", "a remislabel", "general",
	     "a prefix still needs a word start"},
	    {"", "the earrings weren't in the package", "missing_item",
	     "negatable: false: the negation does not cancel 'in the "
	     "package'"},
	    {"", "there was no lid in the box", "missing_item",
	     "negatable: false, five words on"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(means); i++)
		is_str(classify(set, means[i].subject, means[i].body),
		       means[i].category, "%s", means[i].why);
	rules_free(&set);

	/* Side stories: a keyword told of another time or another seller
	 * does not count for 'any' and 'all', still counts for 'none', and
	 * still counts for a rule that escalates. */
	r = load("rules:\n"
		 "  - name: complaint\n"
		 "    category: complaint\n"
		 "    escalate: true\n"
		 "    match: {any: [chargeback, 差评]}\n"
		 "  - name: damaged\n"
		 "    category: damaged\n"
		 "    match: {any: [cracked, 摔坏], none: [refunded]}\n"
		 "  - name: gift\n"
		 "    category: gift_options\n"
		 "    match: {any: [wrap, 包好]}\n",
		 &set, &err);
	ok(r == 0, "side-story rules load");
	if (r) {
		diag("%s", err.msg);
		return done_testing();
	}
	static const struct {
		const char *body, *category, *why;
	} asides[] = {
	    {"Last year the mug from you came cracked. Please wrap this one.",
	     "gift_options", "'last year' opens a side story"},
	    {"It came cracked, unlike the one from another shop", "damaged",
	     "an opener after the keyword does not reach back"},
	    {"Another shop sent me one that came cracked! Can you wrap it?",
	     "gift_options", "'another shop' opens a side story"},
	    {"Last time it was fine, but this time it came cracked.", "damaged",
	     "'but' turns back to the request at hand"},
	    {"Last time it was fine. It came cracked.", "damaged",
	     "the sentence ends the side story"},
	    {"Like last time, it came cracked. Wrap it please", "damaged",
	     "'like last time' is a comparison, not a side story"},
	    {"Last year I had to file a chargeback with a shop.", "complaint",
	     "a rule that escalates counts side stories"},
	    {"Last year one came cracked and was refunded. Wrap it",
	     "gift_options",
	     "'none' counts side stories: the exclusion still holds"},
	    {"上次在别家买的摔坏了，这次请包好", "gift_options",
	     "上次 opens a side story, 这次 ends it"},
	    {"跟上次一样，又摔坏了，麻烦包好", "damaged",
	     "跟上次 is a comparison"},
	    {"去年买过一个。收到就摔坏了，麻烦包好", "damaged",
	     "a Chinese full stop ends the side story"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(asides); i++)
		is_str(classify(set, "", asides[i].body), asides[i].category,
		       "%s", asides[i].why);
	rules_free(&set);

	/* Malformed rule files: each a located error, never a crash. */
	static const struct {
		const char *yaml, *error;
	} broken[] = {
	    {"", NULL}, /* empty: loads, no rules */
	    {"# only a comment\n", NULL},
	    {"rules:\n\t- name: x\n", "2:1: found character that cannot "
				      "start any token"},
	    {"rules: [\n", "2:1: "},
	    {"- name: x\n", "1:1: a rules file must be a mapping"},
	    {"rules:\n  - name: x\n    category: c\n    match:\n      any: "
	     "{keywords: [a], negatable: maybe}\n",
	     "5:39: negatable must be true or false"},
	    {"rules: x\n", "1:8: rules must be a list"},
	    {"rules:\n  - x\n", "2:5: a rule must be a mapping"},
	    {"rules:\n  - name: 5\n    category: [a]\n    match: {any: "
	     "[x]}\n",
	     "3:15: category must be a value"},
	    {"rules:\n  - name: a\n    category: c\n    escalate: maybe\n    "
	     "match: {any: [x]}\n",
	     "4:15: escalate must be true or false"},
	    {"rules:\n  - name: a\n    category: c\n    match: {any: [[x, y]]}"
	     "\n",
	     NULL}, /* alternatives are allowed in any: they flatten */
	    {"rules:\n  - name: a\n    category: c\n    match: {all: [[]]}\n",
	     "4:19: all: empty list of alternatives"},
	    {"rules:\n  - name: a\n    category: c\n    match: {any: [{x: "
	     "1}]}\n",
	     "4:19: any: a keyword, or a list of alternatives"},
	    {"rules:\n  - name: a\n    category: c\n    match: {any: ['a*b']}"
	     "\n",
	     "4:19: any: '*' may only end a keyword"},
	    {"rules:\n  - name: a\n    category: c\n    match: {any: ['  ']}"
	     "\n",
	     "4:19: any: empty keyword"},
	    {"rules:\n  - name: a\n    category: c\n    match: {any: [x], "
	     "fields: [body]}\n",
	     "4:23: unknown key 'fields'"},
	    {"rules:\n  - name: a\n    category: c\n    match: {any: "
	     "{keywords: [x], fields: [head]}}\n",
	     "4:43: unknown field 'head'"},
	    {"rules:\n  - name: a\n    category: c\n    match: {regex: "
	     "'(unclosed'}\n",
	     "4:20: regex is not a valid POSIX extended regular expression"},
	    {"rules:\n  - name: a\n    category: c\n    match: {lang: fr, "
	     "any: [x]}\n",
	     "4:19: lang must be en, zh or any"},
	    {"rules:\n  - name: a\n    stop: false\n    match: {any: [x]}\n",
	     "2:5: rule 'a' has stop: false but no tags or escalate"},
	    {"rules:\n  - name: a\n    stop: false\n    category: c\n    "
	     "tags: [t]\n    match: {any: [x]}\n",
	     "4:15: rule 'a' has stop: false, so it only adds tags"},
	    {"rules:\n  - name: a\n    category: c\n    tags: [Bad Tag]\n    "
	     "match: {any: [x]}\n",
	     "4:12: tag 'Bad Tag' may only use"},
	    {"rules:\n  - name: a\n    category: c\n    match: {any: [x]}\n"
	     "    match: {any: [y]}\n",
	     "5:5: duplicate key 'match'"},
	    {"rules:\n  - &r {name: a}\n  - *r\n",
	     "3:5: aliases (*r) are not supported"},
	    {"rules:\n  - name: a\n    category: c\n    match: {any: "
	     "[\xff\xfe]}\n",
	     "4:19: invalid leading UTF-8 octet (byte 0xff): the file must be "
	     "UTF-8"},
	    {"\xff\xfe\x00r\x00u\x00l\x00e\x00s", "1:1: "},
	};
	/* A keyword longer than the matcher takes (an unclosed quote can
	 * swallow the rest of the file): located, not a bare error. */
	{
		char big[2200];
		int off = snprintf(big, sizeof(big),
				   "rules:\n  - name: a\n    category: c\n    "
				   "match: {any: [\"");
		memset(big + off, 'x', 1100);
		snprintf(big + off + 1100, sizeof(big) - (size_t)off - 1100,
			 "\"]}\n");
		r = load(big, &set, &err);
		snprintf(prefix, sizeof(prefix),
			 "%s/r.yaml:4:19: any: keyword longer than 1024 bytes",
			 dir);
		ok(r == -1 && strncmp(err.msg, prefix, strlen(prefix)) == 0,
		   "an over-long keyword is a located error");
		if (r == 0 || strncmp(err.msg, prefix, strlen(prefix)))
			diag("got: %s", r == 0 ? "(loaded)" : err.msg);
		rules_free(&set);
	}
	for (size_t i = 0; i < ARRAY_SIZE(broken); i++) {
		r = load(broken[i].yaml, &set, &err);
		if (!broken[i].error) {
			ok(r == 0, "file %zu loads", i);
			if (r)
				diag("%s", err.msg);
			rules_free(&set);
			continue;
		}
		snprintf(prefix, sizeof(prefix), "%s/r.yaml:%s", dir,
			 broken[i].error);
		ok(r == -1 && strncmp(err.msg, prefix, strlen(prefix)) == 0,
		   "broken file %zu: %s", i, broken[i].error);
		if (r == 0 || strncmp(err.msg, prefix, strlen(prefix)))
			diag("got: %s", r == 0 ? "(loaded)" : err.msg);
		rules_free(&set);
	}

	/* The shipped rule set. */
	const char *top = getenv("top_srcdir");
	char rdir[512];
	snprintf(rdir, sizeof(rdir), "%s/rules", top ? top : ".");
	r = rules_load_dir(rdir, &set, &err);
	ok(r == 0, "default rule set loads");
	if (r) {
		diag("%s", err.msg);
		return done_testing();
	}
	static const struct {
		const char *subject, *body, *category;
	} cases[] = {
	    {"Where is my order?", "It was supposed to come on Monday",
	     "late_delivery"},
	    {"Re: order 111-2222222-3333333",
	     "Tracking says delivered but I never received it", "lost_package"},
	    {"wrong size", "You sent me the wrong size, I ordered M",
	     "wrong_item"},
	    {"Gift", "Can you include a gift receipt and hide the price?",
	     "gift_options"},
	    {"Broken", "The vase arrived broken into pieces", "damaged"},
	    {"", "I will file an A-to-z claim if this is not solved",
	     "complaint"},
	    {"订单问题", "我的快递还没到，已经一个星期了", "late_delivery"},
	    {"质量", "收到的杯子碎了", "damaged"},
	    {"退货", "尺码不合适，想换货", "return_exchange"},
	    {"Question", "Do you ship to Canada?", "general"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		is_str(classify(set, cases[i].subject, cases[i].body),
		       cases[i].category, "default rules: %s",
		       cases[i].category);
	rules_free(&set);

	/* Mutations of the shipped file: each loads or is a located error;
	 * none crashes (this runs under ASan and valgrind in CI). */
	{
		char *orig = NULL, path[600];
		size_t olen;
		unsigned seed = 12345, located = 0, loaded = 0;
		/* Each round parses the whole shipped file: under valgrind
		 * (CI's check-valgrind) 40 rounds cover the error paths in a
		 * seventh of the time. */
		int rounds = getenv("PQ_VALGRIND") ? 40 : 300;
		static const char junk[] = ":[]{}-#&*!|>'\"\t\n ,?%@`x\xe4";
		snprintf(path, sizeof(path), "%s/10-holiday.yaml", rdir);
		if (read_file(path, 1 << 22, &orig, &olen) == 0) {
			for (int round = 0; round < rounds; round++) {
				char *m = xmalloc(olen + 64);
				size_t mlen = olen;
				memcpy(m, orig, olen);
				for (int k = 0; k < 1 + round % 4; k++) {
					seed = seed * 1103515245u + 12345u;
					size_t at = (seed >> 8) % mlen;
					seed = seed * 1103515245u + 12345u;
					char c = junk[(seed >> 8) %
						      (sizeof(junk) - 1)];
					switch (round % 3) {
					case 0: /* replace */
						m[at] = c;
						break;
					case 1: /* insert */
						memmove(m + at + 1, m + at,
							mlen - at);
						m[at] = c;
						mlen++;
						break;
					default: /* delete */
						memmove(m + at, m + at + 1,
							mlen - at - 1);
						mlen--;
						break;
					}
				}
				m[mlen] = '\0';
				char mp[300];
				snprintf(mp, sizeof(mp), "%s/r.yaml", dir);
				FILE *f = fopen(mp, "w");
				fwrite(m, 1, mlen, f);
				fclose(f);
				free(m);
				r = rules_load_file(mp, &set, &err);
				if (r == 0) {
					loaded++;
				} else {
					size_t pl = strlen(mp);
					if (strncmp(err.msg, mp, pl) == 0 &&
					    err.msg[pl] == ':' &&
					    err.msg[pl + 1] >= '1' &&
					    err.msg[pl + 1] <= '9')
						located++;
					else
						diag("unlocated: %s", err.msg);
				}
				rules_free(&set);
			}
			free(orig);
		}
		is_int(located + loaded, (unsigned)rounds,
		       "%d mutated rule files: each loads or is located "
		       "(%u loaded, %u errors)",
		       rounds, loaded, located);
	}
	char p[300];
	snprintf(p, sizeof(p), "%s/r.yaml", dir);
	unlink(p);
	rmdir(dir);
	return done_testing();
}
