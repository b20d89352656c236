/* cli: what the peakq subcommands share: the loaded configuration, the
 * store, JSON output and display-width-aware text columns. */
#ifndef PEAKQ_CLI_H
#define PEAKQ_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "conf.h"
#include "store.h"

struct cli {
	const char *config_path;
	int config_given; /* -c on the command line */
	struct conf *conf;
};

/* Load the configuration once; prints the error and returns EX_CONFIG on
 * failure, 0 on success. */
int cli_conf(struct cli *cli);
/* Open the store of the configuration (read-only unless write). Prints the
 * error and returns an exit code on failure, 0 on success. */
int cli_store(struct cli *cli, int write, struct store **st_r);
/* Print a store error and return its exit code: 75 when the store was
 * busy or unavailable for a while (try again), 69 otherwise. */
int cli_store_error(const struct xerr *err);
/* An agent name (or a tag): 1-64 bytes of valid UTF-8, no white space
 * or control characters. */
int cli_name_ok(const char *s);
/* Who is acting: $PEAKQ_AGENT, else the login name. NULL (with a message
 * printed) when neither gives a usable name. */
const char *cli_actor(void);
/* Parse a case number; prints an error and returns -1 when invalid. */
int cli_case_id(const char *s, int64_t *id_r);

/* JSON output helpers: strings are escaped (invalid UTF-8 repaired). */
void json_str(FILE *f, const char *s);
void json_key(FILE *f, int *first, const char *key);
void json_kv_str(FILE *f, int *first, const char *key, const char *v);
void json_kv_int(FILE *f, int *first, const char *key, long long v);
void json_kv_time(FILE *f, int *first, const char *key, int64_t t);
void json_kv_bool(FILE *f, int *first, const char *key, int v);
/* A space-separated list (or NULL) as a JSON array of strings. */
void json_kv_words(FILE *f, int *first, const char *key, const char *words);

/* Columns of the terminal, width in cells of UTF-8 text (CJK = 2), and
 * printing s cut or padded to exactly width cells. */
int cli_term_columns(void);
size_t cli_width(const char *s);
void cli_cell(FILE *f, const char *s, size_t width);
/* "2026-12-27 09:15" local time, or "-" for 0. */
void cli_time(int64_t t, char *buf, size_t size);
/* A local date "2026-12-26", or "2026-12-26 09:00" (or with a T): 0 and
 * *t_r, -1. end_of_day: a date alone means the end of that day. */
int cli_parse_date(const char *s, int end_of_day, int64_t *t_r);
/* "due in 3h20m" / "overdue 35m" relative to now. */
void cli_due(int64_t due, int64_t now, char *buf, size_t size);

/* Run $VISUAL, else $EDITOR, else vi on path (the variable may hold
 * arguments); 0 when it exited 0. */
int cli_edit(const char *path);
/* Is the case past due and still waiting for us (new or open)? */
int cli_overdue(const struct store_case *c, int64_t now);
/* The SLA state: "due in 1h20m", "overdue 35m", "answered, waiting for
 * the customer", "resolved". */
void cli_sla(const struct store_case *c, int64_t now, char *buf, size_t size);
/* Print case id as `peakq show` does: 1, 0 when there is none, -1. */
int cli_show_case(struct store *st, int64_t id, int json, FILE *f,
		  struct xerr *err);

/* The queue filters list, next and watch share: long options whose
 * values are CLI_OPT_*, handled by cli_filter_opt() (0, or -1 with a
 * message printed). */
enum {
	CLI_OPT_FIRST = 1000,
	CLI_OPT_STATUS = CLI_OPT_FIRST,
	CLI_OPT_CATEGORY,
	CLI_OPT_PRIORITY,
	CLI_OPT_ASSIGNEE,
	CLI_OPT_UNASSIGNED,
	CLI_OPT_OVERDUE,
	CLI_OPT_DUE_WITHIN,
	CLI_OPT_ESCALATED,
	CLI_OPT_MAILBOX,
	CLI_OPT_SINCE,
	CLI_OPT_ALL,
};
#define CLI_FILTER_OPTIONS                                                     \
	{"status", required_argument, NULL, CLI_OPT_STATUS},                   \
	    {"category", required_argument, NULL, CLI_OPT_CATEGORY},           \
	    {"priority", required_argument, NULL, CLI_OPT_PRIORITY},           \
	    {"assignee", required_argument, NULL, CLI_OPT_ASSIGNEE},           \
	    {"unassigned", no_argument, NULL, CLI_OPT_UNASSIGNED},             \
	    {"overdue", no_argument, NULL, CLI_OPT_OVERDUE},                   \
	    {"due-within", required_argument, NULL, CLI_OPT_DUE_WITHIN},       \
	    {"escalated", no_argument, NULL, CLI_OPT_ESCALATED},               \
	    {"mailbox", required_argument, NULL, CLI_OPT_MAILBOX},             \
	    {"since", required_argument, NULL, CLI_OPT_SINCE},                 \
	{                                                                      \
		"all", no_argument, NULL, CLI_OPT_ALL                          \
	}
extern const char cli_filter_help[];
/* The queue table of `peakq list` (cols 0: the terminal's width). */
int cli_list_table(FILE *f, struct store *st, const struct store_filter *flt,
		   int64_t now, int cols, int color, size_t *count_r,
		   struct xerr *err);
int cli_filter_opt(int opt, const char *arg, struct store_filter *f,
		   const char *cmd);

int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_show(struct cli *cli, int argc, char **argv);
int cmd_rules(struct cli *cli, int argc, char **argv);
int cmd_outbox(struct cli *cli, int argc, char **argv);
int cmd_templates(struct cli *cli, int argc, char **argv);
int cmd_work(struct cli *cli, int argc, char **argv); /* claim, note, ... */
int cmd_search(struct cli *cli, int argc, char **argv);
int cmd_reply(struct cli *cli, int argc, char **argv);
int cmd_watch(struct cli *cli, int argc, char **argv);
int cmd_report(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv); /* health */

#endif
