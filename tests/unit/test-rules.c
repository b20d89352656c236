/* test-rules: loading errors are located; matching is whole-word for Latin
 * keywords, substring for CJK, case- and width-insensitive, first rule wins,
 * and the default rule set classifies typical holiday mail. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules.h"
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
     "4:12: rule 'a' has no 'any' or 'all' keywords"},
    {"rules:\n  - name: a\n    categroy: c\n", "3:5: unknown key "
					       "'categroy'"},
    {"rules:\n  - name: a\n    category: c\n    sla_hours: -1\n    match: "
     "{any: [x]}\n",
     "4:16: sla_hours must be a whole number from 1 to 720"},
    {"rules:\n  - name: A B\n", "2:11: rule name 'A B' may only use"},
    {"rule:\n  - name: a\n", "1:1: unknown key 'rule'"},
};

static const char *classify(const struct ruleset *set, const char *subject,
			    const char *body)
{
	struct rules_verdict v;

	rules_classify(set, subject, body, strlen(body), &v);
	return v.category;
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
	struct rules_verdict v;
	rules_classify(set, "late", "", 0, &v);
	is_str(v.rule, "late", "verdict names the rule");
	is_int(v.sla_hours, 4, "verdict sla");
	ok(v.nmatched == 1 && strcmp(v.matched[0], "late") == 0,
	   "verdict lists the matched keyword");
	rules_classify(set, "", "nothing", 7, &v);
	is_str(v.tmpl, "general", "fallback template");
	is_int(v.sla_hours, 24, "fallback sla");
	rules_free(&set);

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
	char p[300];
	snprintf(p, sizeof(p), "%s/r.yaml", dir);
	unlink(p);
	rmdir(dir);
	return done_testing();
}
