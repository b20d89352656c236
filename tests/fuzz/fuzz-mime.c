/* fuzz-mime: the daemon's whole decision on one message, as peakqd makes
 * it: MIME parse, charsets, text and quote stripping, language, rules,
 * may-we-acknowledge (ingest_decide), with the default rule set. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "ingest.h"
#include "rules.h"

static struct ruleset *rules;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct xerr err = {0};
	const char *dir = getenv("PQ_FUZZ_RULES");

	(void)argc;
	(void)argv;
	if (rules_load_dir(dir ? dir : FUZZ_SRCDIR "/rules", &rules, &err) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_decision d;

	ingest_decide(NULL, rules, NULL, size & 1 ? INGEST_ASSUME_DELIVERED : 0,
		      (const char *)data, size, &d);
	ingest_decision_release(&d);
	return 0;
}
