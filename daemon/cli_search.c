/* cli_search: `peakq search TEXT` — cases whose messages or notes hold
 * every word (SQLite FTS5, Chinese by characters), or whose order id or
 * customer address is TEXT. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "buf.h"
#include "cli.h"
#include "text.h"

struct search_out {
	int json, first;
	size_t count;
	const char *query;
};

/* A one-line excerpt of text around the first query word found (plain
 * case-insensitive search; the index matched more loosely), else its
 * start. */
static void excerpt(const char *text, const char *query, char *out, size_t size)
{
	const char *hit = NULL, *p = query;
	size_t n = strlen(text), start = 0, i, w = 0, o = 0;

	while (*p && !hit) {
		p += strspn(p, " \t");
		size_t k = strcspn(p, " \t");
		char *word = xstrndup(p, k);
		if (k)
			hit = strcasestr(text, word);
		free(word);
		p += k;
	}
	if (hit) {
		start = (size_t)(hit - text);
		/* back up about 20 characters, to a character boundary */
		for (int back = 0; start > 0 && back < 20; back++) {
			start--;
			while (start > 0 &&
			       ((unsigned char)text[start] & 0xc0) == 0x80)
				start--;
		}
	}
	if (start)
		o += (size_t)snprintf(out, size, "…");
	for (i = start; i < n && w < 70 && o + 5 < size;) {
		unsigned cp;
		size_t k = text_utf8_decode(text + i, n - i, &cp);
		if (cp == '\n' || cp == '\r' || cp == '\t' || cp < 0x20) {
			if (o && out[o - 1] != ' ')
				out[o++] = ' ';
		} else {
			memcpy(out + o, text + i, k);
			o += k;
		}
		w++;
		i += k;
	}
	out[o] = 0;
	if (i < n && o + 4 < size)
		strcat(out, "…");
}

static int hit_cb(const struct store_case *c, const struct store_hit *h,
		  void *ctx)
{
	struct search_out *o = ctx;
	char ex[400] = "";
	char id[24], when[32];

	o->count++;
	if (h->text)
		excerpt(h->text, o->query, ex, sizeof(ex));
	if (o->json) {
		int first = 1;
		fputs(o->first ? "[\n  {" : ",\n  {", stdout);
		o->first = 0;
		json_kv_int(stdout, &first, "id", c->id);
		json_kv_str(stdout, &first, "status", c->status);
		json_kv_str(stdout, &first, "category", c->category);
		json_kv_str(stdout, &first, "customer", c->customer);
		json_kv_str(stdout, &first, "order_id", c->order_id);
		json_kv_str(stdout, &first, "subject", c->subject);
		json_kv_str(stdout, &first, "assignee", c->assignee);
		json_kv_str(stdout, &first, "matched", h->where);
		json_kv_time(stdout, &first, "at", h->at);
		json_kv_str(stdout, &first, "excerpt", h->text ? ex : NULL);
		fputs("}", stdout);
		return 0;
	}
	snprintf(id, sizeof(id), "%lld", (long long)c->id);
	cli_time(h->at, when, sizeof(when));
	cli_cell(stdout, id, 6);
	fputc(' ', stdout);
	cli_cell(stdout, c->status, 8);
	fputc(' ', stdout);
	cli_cell(stdout, c->category, 15);
	fputc(' ', stdout);
	cli_cell(stdout, c->customer ? c->customer : "?", 28);
	fputc(' ', stdout);
	cli_cell(stdout, c->subject ? c->subject : "", 40);
	fputc('\n', stdout);
	printf("       %s, %s",
	       h->where[0] == 'n'   ? "in a note"
	       : h->where[0] == 'm' ? "in a message"
	       : h->where[0] == 'o' ? "its order id"
				    : "its customer",
	       when);
	if (h->text) {
		fputs(": ", stdout);
		cli_cell(stdout, ex, cli_width(ex));
	}
	fputc('\n', stdout);
	return 0;
}

static void search_usage(FILE *f)
{
	fputs("usage: peakq search [--json] [--limit N] TEXT...\n"
	      "\n"
	      "Find cases whose subjects, messages or notes contain every "
	      "word of TEXT\n"
	      "(case, width and traditional/simplified Chinese folded; "
	      "Chinese words\n"
	      "match as runs of characters), or whose order id or customer "
	      "address is\n"
	      "TEXT. Newest first.\n"
	      "\n"
	      "  --json     a JSON array of hits\n"
	      "  --limit N  at most N cases (default 50)\n",
	      f);
}

int cmd_search(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"limit", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct search_out o = {.first = 1};
	struct store *st = NULL;
	struct xerr err = {0};
	struct buf q;
	long long limit = 50;
	int ch, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			o.json = 1;
			break;
		case 'l':
			if (parse_ll(optarg, 1, 100000, &limit) < 0) {
				fprintf(stderr, "peakq search: --limit needs "
						"a number\n");
				return 2;
			}
			break;
		case 'h':
			search_usage(stdout);
			return 0;
		default:
			search_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		search_usage(stderr);
		return 2;
	}
	buf_init(&q, 4096);
	for (int i = optind; i < argc; i++)
		if ((i > optind && buf_addc(&q, ' ') < 0) ||
		    buf_adds(&q, argv[i]) < 0) {
			fprintf(stderr, "peakq search: the text is too long\n");
			buf_release(&q);
			return 2;
		}
	o.query = buf_str(&q);
	if ((r = cli_store(cli, 0, &st))) {
		buf_release(&q);
		return r;
	}
	if (store_search(st, o.query, (size_t)limit, hit_cb, &o, &err) < 0)
		r = cli_store_error(&err);
	else if (o.json)
		fputs(o.first ? "[]\n" : "\n]\n", stdout);
	else if (!o.count)
		fprintf(stderr, "peakq search: nothing found\n");
	if (!r && !o.count)
		r = 1;
	store_close(&st);
	buf_release(&q);
	return r;
}
