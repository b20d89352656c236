/* peakq: the agents' CLI. Parses global options and dispatches to the
 * cli_*.c subcommands; holds no business logic. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "log.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: peakq [-c FILE] COMMAND [ARGS]\n"
		"\n"
		"Work the peakq support queue.\n"
		"\n"
		"Work the queue (the actor is $PEAKQ_AGENT or your login "
		"name):\n"
		"  list [--json|--csv] [FILTERS]        the queue, most urgent "
		"first\n"
		"  next [--category C]                  claim the most urgent "
		"unclaimed case\n"
		"  show [--json] [--raw] N              one case: messages, "
		"notes, events\n"
		"  claim [--force] N                    take case N\n"
		"  assign [--force] N AGENT             give case N to AGENT\n"
		"  release N                            give case N back to "
		"the queue\n"
		"  note N [TEXT]                        a shared note (TEXT, "
		"stdin or $EDITOR)\n"
		"  status N open|pending|resolved       set the status "
		"(--note TEXT)\n"
		"  resolve N, reopen N                  the same, shorter\n"
		"  reply [--template T] [--dry-run] N   answer the customer "
		"(canned reply, $EDITOR)\n"
		"  escalate N --reason TEXT             to the supervisors "
		"(list --escalated)\n"
		"  tag N +TAG -TAG, priority N P        tags and priority\n"
		"  search [--json] TEXT                 messages, notes, "
		"order ids, addresses\n"
		"  watch [--interval T]                 a live view of the "
		"queue\n"
		"  report [--since D] [--format F]      the season review "
		"(text, json, csv, html)\n"
		"  status [--json]                      is peakqd alive, "
		"mailboxes, outbox (exit 1: no)\n"
		"\n"
		"Check and test (no store needed):\n"
		"  rules test [--json] FILE.eml|DIR...  dry-run the daemon's "
		"classification\n"
		"  rules check [DIR]                    validate the rules\n"
		"  rules explain FILE.eml               why each rule matched "
		"or not\n"
		"  outbox [--json] [--all]              acknowledgements "
		"waiting, failed, uncertain\n"
		"  outbox retry N                       send one again\n"
		"  templates check [DIR]                validate the "
		"acknowledgement templates\n"
		"  templates preview NAME [--lang L] [FILE.eml]\n"
		"                                       one acknowledgement as "
		"the customer gets it\n"
		"\n"
		"Options:\n"
		"  -c, --config FILE  configuration (default: %s)\n"
		"  -h, --help         this help; COMMAND --help for a "
		"command\n"
		"  -V, --version      the version\n"
		"\n"
		"Exit status: 0 ok, 1 refused or not found, 2 usage, 69/75 "
		"store\n"
		"unavailable/busy, 78 configuration error. See peakq(1).\n",
		conf_default_path());
}

int main(int argc, char **argv)
{
	struct cli cli = {.config_path = conf_default_path()};
	int i = 1, r;

	/* Modules the CLI shares with the daemon (the outbox) log; the CLI
	 * reports outcomes itself, so only their warnings and errors show. */
	log_init("peakq", LOG_TO_STDERR, -1);
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-c") == 0 ||
		    strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "peakq: %s needs a file\n",
					argv[i]);
				return 2;
			}
			cli.config_path = argv[i + 1];
			cli.config_given = 1;
			i += 2;
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			cli.config_path = argv[i] + 9;
			cli.config_given = 1;
			i++;
		} else if (strcmp(argv[i], "-h") == 0 ||
			   strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "-V") == 0 ||
			   strcmp(argv[i], "--version") == 0) {
			printf("peakq %s\n", PACKAGE_VERSION);
			return 0;
		} else {
			fprintf(stderr, "peakq: unknown option '%s'\n",
				argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[i];
	if (strcmp(cmd, "list") == 0)
		r = cmd_list(&cli, argc - i, argv + i);
	else if (strcmp(cmd, "show") == 0)
		r = cmd_show(&cli, argc - i, argv + i);
	else if (strcmp(cmd, "rules") == 0)
		r = cmd_rules(&cli, argc - i, argv + i);
	else if (strcmp(cmd, "outbox") == 0)
		r = cmd_outbox(&cli, argc - i, argv + i);
	else if (strcmp(cmd, "templates") == 0)
		r = cmd_templates(&cli, argc - i, argv + i);
	else if (strcmp(cmd, "search") == 0)
		r = cmd_search(&cli, argc - i, argv + i);
	else if (strcmp(cmd, "reply") == 0)
		r = cmd_reply(&cli, argc - i, argv + i);
	else if (strcmp(cmd, "watch") == 0)
		r = cmd_watch(&cli, argc - i, argv + i);
	else if (strcmp(cmd, "report") == 0)
		r = cmd_report(&cli, argc - i, argv + i);
	else if (strcmp(cmd, "status") == 0)
		r = cmd_status(&cli, argc - i, argv + i);
	else if ((r = cmd_work(&cli, argc - i, argv + i)) >= 0)
		;
	else if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		r = 0;
	} else {
		fprintf(stderr, "peakq: unknown command '%s'\n", cmd);
		usage(stderr);
		r = 2;
	}
	conf_free(&cli.conf);
	return r;
}
