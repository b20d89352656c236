#!/bin/sh
# t5003: bash completion (contrib/bash-completion/peakq) offers the
# commands, their options and the values of the filters, and case numbers
# from the queue (tested in t5001, which has one).
. "$(dirname "$0")/lib.sh"
command -v bash >/dev/null || skip_all "bash not installed"
[ -f /usr/share/bash-completion/bash_completion ] ||
	skip_all "bash-completion not installed"
comp() { bash_complete "$@"; }
is "$(comp peakq cl)" "claim " "a command"
is "$(comp peakq re)" "release reopen reply report resolve " "several commands"
comp peakq list --d | grep -q -- "--due-within"
ok $? "list: --due-within"
is "$(comp peakq list --category dam)" "damaged " "list --category: category names"
is "$(comp peakq list --status p)" "pending " "list --status: statuses"
is "$(comp peakq status 12 "")" "open pending resolved " "status N: the statuses"
is "$(comp peakq priority 12 u)" "urgent " "priority N: the priorities"
is "$(comp peakq escalate 3 --r)" "--reason " "escalate: --reason"
is "$(comp peakq rules "")" "check explain test " "rules: its subcommands"
is "$(comp peakq reply --d)" "--draft --dry-run " "reply: its options"
is "$(comp peakq reply --template gift)" "gift_options " "reply --template: the canned replies"
is "$(comp peakq report --format h)" "html " "report --format: the formats"
comp peakq watch --i | grep -q -- "--interval"
ok $? "watch: --interval"
is "$(comp peakq -c /x.yaml sh)" "show " "after -c FILE"

# Case numbers from the queue: t5001 (it has a queue).
done_testing
