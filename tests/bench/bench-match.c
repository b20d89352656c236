/* bench-match: throughput of match_normalize() and the Aho-Corasick scan on
 * 1 MB of generated English/Chinese support mail, against naive memmem()
 * baselines measured in the same run. Deterministic input (fixed seed);
 * prints a table and exits 1 when a project target is missed. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "match.h"

#define TEXT_BYTES (1024u * 1024)
#define NKW_SMALL 20
#define NKW_LARGE 2000
#define RUNS 7
/* Targets: scan cost may grow at most this much from 20 to 2,000
 * keywords; the naive loop must be at least this many times slower than
 * normalise+scan. */
#define TARGET_SCALE 1.5
#define TARGET_NAIVE 20.0

/* Text is drawn from a general vocabulary (most words of a mail) followed
 * by the support vocabulary the keywords come from, with Zipf frequencies
 * (the word of rank r has weight 1/r), so that keywords are a minority of
 * the words, as in real mail. A second "stress" text uses only the support
 * vocabulary: nearly every word is then a keyword. */
static const char *const en_general[] = {
    "the",	   "i",		 "to",	       "and",	     "a",
    "my",	   "you",	 "it",	       "is",	     "of",
    "for",	   "in",	 "that",       "this",	     "have",
    "on",	   "was",	 "but",	       "me",	     "with",
    "be",	   "not",	 "we",	       "your",	     "can",
    "do",	   "please",	 "at",	       "so",	     "if",
    "are",	   "just",	 "would",      "as",	     "from",
    "they",	   "will",	 "there",      "what",	     "all",
    "an",	   "been",	 "no",	       "or",	     "had",
    "one",	   "about",	 "when",       "get",	     "there's",
    "out",	   "up",	 "know",       "like",	     "did",
    "how",	   "our",	 "some",       "thank",	     "could",
    "them",	   "any",	 "he",	       "she",	     "also",
    "very",	   "now",	 "which",      "time",	     "has",
    "more",	   "because",	 "only",       "other",	     "then",
    "into",	   "see",	 "were",       "should",     "make",
    "want",	   "still",	 "after",      "yet",	     "really",
    "hope",	   "way",	 "even",       "look",	     "think",
    "today",	   "day",	 "again",      "well",	     "why",
    "here",	   "let",	 "much",       "first",	     "last",
    "many",	   "new",	 "good",       "great",	     "sorry",
    "thanks",	   "regards",	 "best",       "hello",	     "hi",
    "dear",	   "sir",	 "madam",      "kind",	     "name",
    "said",	   "told",	 "asked",      "tell",	     "ask",
    "say",	   "go",	 "come",       "came",	     "take",
    "took",	   "give",	 "gave",       "find",	     "found",
    "tried",	   "try",	 "call",       "called",     "wrote",
    "write",	   "read",	 "keep",       "wait",	     "need",
    "already",	   "never",	 "always",     "sometimes",  "usually",
    "maybe",	   "perhaps",	 "soon",       "later",	     "before",
    "since",	   "until",	 "while",      "during",     "week",
    "month",	   "year",	 "morning",    "evening",    "night",
    "weekend",	   "family",	 "friend",     "son",	     "daughter",
    "wife",	   "husband",	 "home",       "house",	     "work",
    "job",	   "school",	 "city",       "country",    "place",
    "thing",	   "things",	 "something",  "nothing",    "everything",
    "anyone",	   "someone",	 "people",     "person",     "problem",
    "question",	   "issue",	 "reason",     "case",	     "fact",
    "point",	   "idea",	 "side",       "part",	     "number",
    "information", "details",	 "note",       "attention",  "matter",
    "situation",   "understand", "understood", "appreciate", "possible",
    "able",	   "sure",	 "clear",      "happy",	     "glad",
    "sad",	   "nice",	 "fine",       "okay",	     "ok",
    "right",	   "wrong",	 "big",	       "little",     "long",
    "short",	   "high",	 "low",	       "old",	     "young",
    "early",	   "late",	 "next",       "same",	     "different",
    "important",   "simple",	 "easy",       "hard",	     "quick",
};

static const char *const zh_general[] = {
    "的",   "了",   "我",   "你",   "是",   "在",   "有",   "和",   "就",
    "不",   "也",   "都",   "很",   "这个", "那个", "我们", "你们", "他们",
    "因为", "所以", "如果", "现在", "今天", "昨天", "明天", "一下", "这样",
    "那样", "知道", "觉得", "应该", "您好", "请",   "吗",   "呢",   "吧",
    "啊",   "非常", "真的", "比较", "然后", "之后", "之前", "还有", "情况",
    "联系", "告诉", "看到", "发现", "购买", "东西", "朋友", "家里", "公司",
    "地方", "结果", "其实", "可能", "马上", "等等", "这里", "那里", "时间",
    "今年", "去年", "上次", "这次", "每次", "所有", "一些", "很多", "一点",
    "自己", "大家", "别人", "孩子", "妈妈", "爸爸", "老公", "老婆", "上班",
    "下班", "周末", "晚上", "早上", "中午", "下午", "上午", "觉得", "认为",
    "以为", "看看", "说明", "解释", "理解", "明白", "方便", "麻烦", "辛苦",
    "感谢", "满意", "一样", "不同", "重要",
};

static const char *const en_words[] = {
    "the",	  "my",		  "order",     "package",
    "parcel",	  "delivery",	  "late",      "still",
    "not",	  "arrived",	  "yet",       "where",
    "is",	  "refund",	  "please",    "return",
    "exchange",	  "item",	  "wrong",     "size",
    "color",	  "damaged",	  "broken",    "box",
    "missing",	  "part",	  "gift",      "wrap",
    "card",	  "message",	  "tracking",  "number",
    "shows",	  "delivered",	  "but",       "never",
    "received",	  "it",		  "was",       "supposed",
    "to",	  "arrive",	  "on",	       "monday",
    "friday",	  "week",	  "days",      "ago",
    "i",	  "ordered",	  "a",	       "blue",
    "shirt",	  "and",	  "got",       "red",
    "one",	  "instead",	  "can",       "you",
    "send",	  "replacement",  "money",     "back",
    "account",	  "charged",	  "twice",     "invoice",
    "address",	  "change",	  "cancel",    "urgent",
    "customer",	  "service",	  "support",   "thank",
    "thanks",	  "hello",	  "hi",	       "dear",
    "team",	  "help",	  "need",      "asap",
    "quality",	  "poor",	  "cheap",     "material",
    "stitching",  "seam",	  "torn",      "leaking",
    "scratched",  "cracked",	  "screen",    "battery",
    "charger",	  "cable",	  "manual",    "instructions",
    "english",	  "chinese",	  "label",     "courier",
    "driver",	  "left",	  "door",      "neighbor",
    "stolen",	  "lost",	  "transit",   "customs",
    "fee",	  "tax",	  "shipping",  "cost",
    "free",	  "promised",	  "two",       "three",
    "five",	  "business",	  "weeks",     "months",
    "waiting",	  "patience",	  "complaint", "review",
    "star",	  "stars",	  "rating",    "seller",
    "amazon",	  "prime",	  "birthday",  "present",
    "christmas",  "holiday",	  "vacation",  "away",
    "office",	  "reply",	  "auto",      "when",
    "will",	  "get",	  "answer",    "email",
    "phone",	  "call",	  "number",    "photo",
    "attached",	  "picture",	  "shows",     "defect",
    "doesn't",	  "work",	  "stopped",   "working",
    "after",	  "use",	  "first",     "time",
    "unhappy",	  "disappointed", "angry",     "terrible",
    "experience", "again",	  "never",     "buy",
    "from",	  "store",	  "small",     "large",
    "medium",	  "fit",	  "too",       "tight",
    "loose",	  "shoes",	  "dress",     "jacket",
    "pants",	  "bag",	  "watch",     "headphones",
    "speaker",	  "lamp",	  "mug",       "toy",
    "book",	  "kindle",	  "case",      "cover",
    "bottle",	  "towel",
};

static const char *const zh_words[] = {
    "我的", "包裹", "还没", "收到", "快递",   "物流",	"订单", "退款", "退货",
    "换货", "发错", "错了", "颜色", "尺码",   "太小",	"太大", "坏了", "破损",
    "损坏", "质量", "问题", "客服", "你好",   "谢谢",	"请问", "什么", "时候",
    "能到", "已经", "一个", "星期", "几天",   "礼物",	"包装", "贺卡", "留言",
    "地址", "修改", "取消", "发票", "重复",   "扣款",	"两次", "运费", "关税",
    "海关", "丢失", "被偷", "邻居", "门口",   "司机",	"签收", "但是", "没有",
    "显示", "已经", "配送", "延迟", "迟到",   "着急",	"生日", "圣诞", "节日",
    "假期", "不在", "办公", "回复", "自动",   "邮件",	"电话", "照片", "附件",
    "图片", "缺陷", "不能", "工作", "停止",   "使用",	"第一", "失望", "生气",
    "糟糕", "体验", "再也", "不买", "商店",   "卖家",	"评价", "差评", "星级",
    "鞋子", "裙子", "外套", "裤子", "手表",   "耳机",	"音箱", "台灯", "杯子",
    "玩具", "书籍", "手机", "壳子", "瓶子",   "毛巾",	"电池", "充电", "数据",
    "说明", "中文", "英文", "标签", "少了",   "零件",	"配件", "缺少", "盒子",
    "划痕", "裂开", "屏幕", "漏水", "开线",   "做工",	"材料", "便宜", "太差",
    "麻烦", "尽快", "处理", "一下", "希望",   "能够",	"给我", "补发", "重新",
    "发货", "时间", "承诺", "等待", "耐心",   "投诉",	"服务", "帮助", "需要",
    "紧急", "账户", "重量", "数量", "价格",   "优惠",	"折扣", "活动", "到货",
    "到了", "没到", "还是", "一直", "为什么", "怎么办", "可以",
};

static const char *const zh_punct[] = {"，", "。", "！", "？", "："};

struct rng {
	uint64_t s;
};

static uint64_t next(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

static size_t pick(struct rng *r, size_t n)
{
	return (size_t)(next(r) % n);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void add(struct buf *b, const char *s)
{
	if (buf_adds(b, s) < 0)
		fatal(1, "bench: buffer full");
}

/* Words to draw from: the general words then the support words, by Zipf
 * weight, or (stress) only the support words, all alike. */
struct vocab {
	const char **w;
	double *cum;
	size_t n;
};

static void vocab_init(struct vocab *v, const char *const *gen, size_t ngen,
		       const char *const *sup, size_t nsup, int stress)
{
	double total = 0;

	v->n = (stress ? 0 : ngen) + nsup;
	v->w = xcalloc(v->n, sizeof(*v->w));
	v->cum = xcalloc(v->n, sizeof(*v->cum));
	for (size_t i = 0; i < v->n; i++) {
		v->w[i] =
		    !stress && i < ngen ? gen[i] : sup[i - (stress ? 0 : ngen)];
		total += stress ? 1.0 : 1.0 / (double)(i + 1);
		v->cum[i] = total;
	}
}

static void vocab_release(struct vocab *v)
{
	free(v->w);
	free(v->cum);
}

static const char *vocab_pick(const struct vocab *v, struct rng *r)
{
	double x =
	    (double)(next(r) >> 11) / 9007199254740992.0 * v->cum[v->n - 1];
	size_t lo = 0, hi = v->n - 1;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (v->cum[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return v->w[lo];
}

/* ~1 MB of mail-like text, about half the bytes Chinese. */
static char *make_text(int stress, size_t *len_r)
{
	struct rng r = {0x9E3779B97F4A7C15ull};
	struct vocab en, zhv;
	struct buf b;
	size_t zh = 0, ne = 0;

	vocab_init(&en, en_general, ARRAY_SIZE(en_general), en_words,
		   ARRAY_SIZE(en_words), stress);
	vocab_init(&zhv, zh_general, ARRAY_SIZE(zh_general), zh_words,
		   ARRAY_SIZE(zh_words), stress);
	buf_init(&b, 2 * TEXT_BYTES);
	while (b.len < TEXT_BYTES) {
		size_t before = b.len;
		int chinese = zh < ne ? pick(&r, 4) != 0 : pick(&r, 4) == 0;

		if (chinese) {
			size_t nw = 4 + pick(&r, 10);

			for (size_t i = 0; i < nw; i++) {
				add(&b, vocab_pick(&zhv, &r));
				if (i + 1 < nw && pick(&r, 6) == 0)
					add(&b, zh_punct[pick(&r, 2)]);
			}
			add(&b, zh_punct[1 + pick(&r, 3)]);
			zh += b.len - before;
		} else {
			size_t nw = 5 + pick(&r, 12);

			for (size_t i = 0; i < nw; i++) {
				const char *w = vocab_pick(&en, &r);
				char first[2] = {w[0], 0};

				if (i > 0)
					add(&b, pick(&r, 40) ? " " : "  ");
				if (i == 0 || pick(&r, 30) == 0) {
					first[0] =
					    (char)(w[0] >= 'a' && w[0] <= 'z'
						       ? w[0] - 32
						       : w[0]);
					add(&b, first);
					add(&b, w + 1);
				} else {
					add(&b, w);
				}
				if (i + 1 < nw && pick(&r, 12) == 0)
					add(&b, ",");
			}
			add(&b, pick(&r, 5) ? ". " : "! ");
			ne += b.len - before;
		}
		if (pick(&r, 5) == 0)
			add(&b, pick(&r, 3) ? "\n" : "\n\n");
	}
	vocab_release(&en);
	vocab_release(&zhv);
	return buf_detach(&b, len_r);
}

struct kwset {
	char **kw;
	size_t *len;
	size_t n;
};

static int have(const struct kwset *k, const char *s)
{
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->kw[i], s) == 0)
			return 1;
	return 0;
}

/* NKW_LARGE keywords: English words and 2-4 word phrases, Chinese words
 * of 2-4 characters, interleaved so that the first NKW_SMALL are a mix. */
static void make_keywords(struct kwset *k)
{
	struct rng r = {0xD1B54A32D192ED03ull};

	k->kw = xcalloc(NKW_LARGE, sizeof(*k->kw));
	k->len = xcalloc(NKW_LARGE, sizeof(*k->len));
	k->n = 0;
	while (k->n < NKW_LARGE) {
		struct buf b, nb;
		size_t kind = k->n % 4, nw;

		buf_init(&b, 256);
		if (kind == 0) {
			/* A single English word, or a phrase once they run
			 * out. */
			const char *w;

			do
				w = en_words[pick(&r, ARRAY_SIZE(en_words))];
			while (strlen(w) < 4);
			add(&b, w);
			if (k->n > 400) {
				add(&b, " ");
				add(&b,
				    en_words[pick(&r, ARRAY_SIZE(en_words))]);
			}
		} else if (kind == 1) {
			/* Support words, some led or joined by a common word
			 * ("not arrived", "refund for my order"). */
			nw = 2 + pick(&r, 3);
			for (size_t i = 0; i < nw; i++) {
				if (i)
					add(&b, " ");
				if (i + 1 < nw && pick(&r, 3) == 0)
					add(&b, en_general[pick(&r, 60)]);
				else
					add(&b, en_words[pick(
						    &r, ARRAY_SIZE(en_words))]);
			}
		} else {
			/* 2, 3 or 4 characters. */
			nw = pick(&r, 3);
			add(&b, zh_words[pick(&r, ARRAY_SIZE(zh_words))]);
			if (nw == 1) {
				const char *w =
				    zh_words[pick(&r, ARRAY_SIZE(zh_words))];

				if (buf_add(&b, w, 3) < 0)
					fatal(1, "bench: buffer full");
			} else if (nw == 2) {
				add(&b,
				    zh_words[pick(&r, ARRAY_SIZE(zh_words))]);
			}
		}
		buf_init(&nb, 1024);
		if (match_normalize(b.data, b.len, &nb) < 0)
			fatal(1, "bench: normalize failed");
		buf_release(&b);
		if (have(k, nb.data)) {
			buf_release(&nb);
			continue;
		}
		k->kw[k->n] = buf_detach(&nb, &k->len[k->n]);
		k->n++;
	}
}

static struct matcher *compile(const struct kwset *k, size_t n, double *ms_r)
{
	struct matcher *m = match_new();
	struct xerr err = {0};
	double t0 = now();

	for (size_t i = 0; i < n; i++)
		match_add(m, k->kw[i], k->len[i], (unsigned)i);
	if (match_compile(m, &err) < 0)
		fatal(1, "bench: %s", err.msg);
	*ms_r = (now() - t0) * 1e3;
	return m;
}

static size_t popcount(const uint64_t *bits, size_t words)
{
	size_t c = 0;

	for (size_t i = 0; i < words; i++)
		c += (size_t)__builtin_popcountll(bits[i]);
	return c;
}

struct ctx {
	char *text;
	size_t n;
	char *norm;
	size_t nn;
	struct buf out;
	struct matcher *m20, *m2000;
	uint64_t bits[NKW_LARGE / 64 + 1];
	const struct kwset *kws;
	size_t sink;
};

enum step { NORM, SCAN20, SCAN2000, BOTH, NAIVE, NAIVE_FIRST, MEMMEM };

static void run(struct ctx *c, enum step s)
{
	const char *p;

	memset(c->bits, 0, sizeof(c->bits));
	switch (s) {
	case NORM:
		buf_reset(&c->out);
		if (match_normalize(c->text, c->n, &c->out) < 0)
			fatal(1, "bench: normalize failed");
		break;
	case SCAN20:
		match_scan_bits(c->m20, c->norm, c->nn, c->bits);
		break;
	case SCAN2000:
		match_scan_bits(c->m2000, c->norm, c->nn, c->bits);
		break;
	case BOTH:
		buf_reset(&c->out);
		if (match_normalize(c->text, c->n, &c->out) < 0)
			fatal(1, "bench: normalize failed");
		match_scan_bits(c->m2000, c->out.data, c->out.len, c->bits);
		break;
	case NAIVE:
		/* Every occurrence of every keyword: one full pass each. */
		for (size_t k = 0; k < c->kws->n; k++)
			for (p = c->norm;
			     (p = memmem(p, (size_t)(c->norm + c->nn - p),
					 c->kws->kw[k], c->kws->len[k]));
			     p++)
				c->sink++;
		break;
	case NAIVE_FIRST:
		for (size_t k = 0; k < c->kws->n; k++)
			if (memmem(c->norm, c->nn, c->kws->kw[k],
				   c->kws->len[k]))
				c->sink++;
		break;
	case MEMMEM:
		if (memmem(c->norm, c->nn, "zq#zq", 5))
			c->sink++;
		break;
	}
}

static double best(struct ctx *c, enum step s)
{
	double b = 1e9;

	for (int i = 0; i < RUNS; i++) {
		double t0 = now(), t;

		run(c, s);
		t = now() - t0;
		if (t < b)
			b = t;
	}
	return b;
}

static void machine(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512], *model = NULL;

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "model name", 10) == 0) {
			char *colon = strchr(line, ':');

			model = xstrdup(colon ? colon + 2 : line);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	if (f)
		fclose(f);
	printf("machine: %ld CPUs online, %s\n", sysconf(_SC_NPROCESSORS_ONLN),
	       model ? model : "unknown CPU");
	free(model);
}

/* Make and normalise a text. */
static void text_init(struct ctx *c, int stress, size_t *zh_r)
{
	struct buf b;

	c->text = make_text(stress, &c->n);
	*zh_r = 0;
	for (size_t i = 0; i < c->n; i++)
		*zh_r += (unsigned char)c->text[i] >= 0x80;
	buf_init(&b, 4 * TEXT_BYTES);
	if (match_normalize(c->text, c->n, &b) < 0)
		fatal(1, "bench: normalize failed");
	c->norm = buf_detach(&b, &c->nn);
}

static size_t count_found(struct ctx *c, enum step s)
{
	run(c, s);
	return popcount(c->bits, ARRAY_SIZE(c->bits));
}

int main(int argc, char **argv)
{
	static const struct {
		enum step s;
		const char *what;
	} rows[] = {
	    {NORM, "1 normalise 1 MB"},
	    {SCAN20, "2 scan, 20 keywords"},
	    {SCAN2000, "3 scan, 2,000 keywords"},
	    {BOTH, "4 normalise+scan, 2,000"},
	    {NAIVE, "5 A: memmem x 2,000, all hits"},
	    {NAIVE_FIRST, "  A': memmem x 2,000, first hit"},
	    {MEMMEM, "6 B: one memmem, no hit"},
	};
	struct ctx c = {0}, sc;
	struct kwset k;
	double t[ARRAY_SIZE(rows)], ms20, ms350, ms2000, scale, naive, s20,
	    s2000;
	struct matcher *m350;
	size_t zh, szh;
	char cwd[4096];
	int rc = 0;

	(void)argc;
	make_keywords(&k);
	c.kws = &k;
	c.m20 = compile(&k, NKW_SMALL, &ms20);
	c.m2000 = compile(&k, NKW_LARGE, &ms2000);
	buf_init(&c.out, 4 * TEXT_BYTES);
	sc = c;
	text_init(&c, 0, &zh);
	text_init(&sc, 1, &szh);

	printf("bench-match: peakq keyword matcher\n");
	printf("command: %s (run by `make bench`), cwd %s\n", argv[0],
	       getcwd(cwd, sizeof(cwd)) ? cwd : "?");
	machine();
	printf("text: %zu bytes (%.0f%% of them non-ASCII: Chinese), %zu "
	       "normalised; Zipf-distributed words, keywords a minority\n",
	       c.n, 100.0 * (double)zh / (double)c.n, c.nn);
	m350 = compile(&k, 350, &ms350);
	printf("automaton memory: 20 keywords %zu bytes (compiled in %.2f "
	       "ms), 350 keywords %zu bytes (%.1f ms), 2,000 keywords %zu "
	       "bytes (%.1f ms)\n",
	       match_memory(c.m20), ms20, match_memory(m350), ms350,
	       match_memory(c.m2000), ms2000);
	match_free(&m350);
	printf("keywords found in the text: %zu of 20, %zu of 2,000\n",
	       count_found(&c, SCAN20), count_found(&c, SCAN2000));
	printf("best of %d runs, CLOCK_MONOTONIC\n\n", RUNS);
	printf("%-34s %10s %10s %10s\n", "step", "ms", "MB/s", "x step 4");
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		t[i] = best(&c, rows[i].s);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		size_t bytes =
		    rows[i].s == NORM || rows[i].s == BOTH ? c.n : c.nn;

		printf("%-34s %10.3f %10.1f %10.2f\n", rows[i].what, t[i] * 1e3,
		       (double)bytes / t[i] / 1e6, t[i] / t[3]);
	}
	scale = t[2] / t[1];
	naive = t[4] / t[3];
	printf("\ntarget (3)/(2) <= %.1f: %.2f %s\n", TARGET_SCALE, scale,
	       scale <= TARGET_SCALE ? "ok" : "MISSED");
	printf("target (5)/(4) >= %.0f: %.1f %s\n", TARGET_NAIVE, naive,
	       naive >= TARGET_NAIVE ? "ok" : "MISSED");
	printf("(A' stops at each keyword's first occurrence: %.1fx step 4, "
	       "for information)\n",
	       t[5] / t[3]);
	if (scale > TARGET_SCALE || naive < TARGET_NAIVE)
		rc = 1;

	/* For information: a text of support words only. */
	s20 = best(&sc, SCAN20);
	s2000 = best(&sc, SCAN2000);
	printf("\nstress text (support words only, %zu bytes, %.0f%% "
	       "non-ASCII; %zu of 20 and %zu of 2,000 keywords found):\n",
	       sc.nn, 100.0 * (double)szh / (double)sc.n,
	       count_found(&sc, SCAN20), count_found(&sc, SCAN2000));
	printf("%-34s %10.3f %10.1f\n", "  scan, 20 keywords", s20 * 1e3,
	       (double)sc.nn / s20 / 1e6);
	printf("%-34s %10.3f %10.1f\n", "  scan, 2,000 keywords", s2000 * 1e3,
	       (double)sc.nn / s2000 / 1e6);
	printf("  ratio %.2f (not a target)\n", s2000 / s20);

	match_free(&c.m20);
	match_free(&c.m2000);
	buf_release(&c.out);
	free(c.text);
	free(c.norm);
	free(sc.text);
	free(sc.norm);
	for (size_t i = 0; i < k.n; i++)
		free(k.kw[i]);
	free(k.kw);
	free(k.len);
	return rc;
}
