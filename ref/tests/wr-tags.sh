#!/bin/bash
# wr-tags.sh - the WRITE RULES list at the top of ref/qed.c against the code.
#
# Usage: ref/tests/wr-tags.sh [QED_C [RULES_TSV]]
#        (defaults: ref/qed.c and spec/rules.tsv, from the top of the tree)
#
# Every write rule of the spec (each WR-n in spec/rules.tsv, and CHK-5,
# which spec section 9 counts among them) must have an entry in the list,
# the entry must name a function ("-> name()"), and the rule's tag, a
# comment holding nothing but the rule ID ("/* WR-4 */"), must occur in
# ref/qed.c exactly once, inside that function.  Prints one line per rule
# and "N passed, N failed"; exits 1 when any rule failed.

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
src=${1:-$top/ref/qed.c}
rules=${2:-$top/spec/rules.tsv}
if [ ! -r "$src" ] || [ ! -r "$rules" ]; then
    echo "wr-tags: cannot read $src or $rules" >&2
    exit 2
fi

passed=0 failed=0

# The function each list entry points at, as "RULE NAME" lines.
list=$(awk '
    /^ \* WRITE RULES/ { inlist = 1; next }
    /^ \* SESSION STATES/ { inlist = 0 }
    !inlist { next }
    match($0, /^ \*   (WR-[0-9]+|CHK-[0-9]+) /) {
        rule = substr($0, 6, RLENGTH - 6); sub(/ +$/, "", rule); found = 0
    }
    rule != "" && !found && match($0, /-> [a-z_0-9]+\(\)/) {
        print rule, substr($0, RSTART + 3, RLENGTH - 5); found = 1
    }' "$src")

for rule in $(awk -F'\t' '$1 ~ /^WR-[0-9]+$/ { print $1 }' "$rules") CHK-5; do
    fn=$(awk -v r="$rule" '$1 == r { print $2; exit }' <<<"$list")
    tags=$(grep -n -F "/* $rule */" "$src" | cut -d: -f1)
    count=$(grep -c -F "/* $rule */" "$src")
    if [ -z "$fn" ]; then
        failed=$((failed + 1)); echo "FAIL: $rule: no entry with '-> function()' in the list"
        continue
    fi
    if [ "$count" -ne 1 ]; then
        failed=$((failed + 1)); echo "FAIL: $rule: $count tags '/* $rule */' (want exactly 1)"
        continue
    fi
    # the body of fn: from its definition at column 0 to the next "}" there
    span=$(awk -v f="$fn" '
        !start && $0 ~ "^[a-z].*[ *]" f "\\(" && $0 !~ /;$/ { start = NR }
        start && !end && $0 == "}" { end = NR }
        END { print start, end }' "$src")
    read -r from to <<<"$span"
    if [ -n "$from" ] && [ -n "$to" ] && [ "$tags" -ge "$from" ] && [ "$tags" -le "$to" ]; then
        passed=$((passed + 1)); echo "ok   $rule -> $fn() line $tags"
    else
        failed=$((failed + 1)); echo "FAIL: $rule: tag at line $tags is not inside $fn() (lines ${from:-?}-${to:-?})"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
