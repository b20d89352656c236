/* fuzz-rules: the rules YAML loader (libyaml -> yml -> rules), and when a
 * file loads, its checks and a classification of a fixed text with it. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rules.h"

static int fd = -1;
static char path[64];

static int no_template(const char *name, void *ctx)
{
	(void)ctx;
	return name[0] != 'x';
}

static void lint(const char *msg, void *ctx)
{
	(void)msg;
	(void)ctx;
}

/* rules_explain into /dev/null-like memory. */
static int fmemopen_explain(const struct ruleset *set,
			    const struct rules_input *in)
{
	static char sink[1 << 16];
	FILE *f = fmemopen(sink, sizeof(sink), "w");

	if (!f)
		return -1;
	rules_explain(set, in, f);
	fclose(f);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ruleset *set = NULL;
	struct xerr err = {0};

	if (fd < 0) {
		fd = memfd_create("rules.yaml", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	if (rules_load_file(path, &set, &err) == 0) {
		struct rules_input in = {
		    .subject = "Where is my order 123-4567890-1234567?",
		    .body =
			"It was a Christmas gift. 圣诞礼物还没到，快递丢了吗？",
		    .from_addr = "buyer@marketplace.amazon.com",
		    .lang = "en"};
		struct rules_verdict v;
		in.body_len = strlen(in.body);
		(void)rules_check_templates(set, no_template, NULL, &err);
		(void)rules_lint(set, lint, NULL);
		rules_classify(set, &in, &v);
		if (fmemopen_explain(set, &in) < 0)
			abort();
		rules_free(&set);
	}
	return 0;
}
