#!/bin/sh
# replay.sh - replay the seed corpora and the regression inputs through the
# replay builds of the fuzz harnesses (make fuzz-replay).
#
# Usage: fuzz/replay.sh [--help] REPLAY_DIR
#
# For each harness fuzz_NAME (a binary REPLAY_DIR/fuzz_NAME) it replays
#   corpus/fuzz/fuzz_NAME/*            the seed corpus
#   corpus/regressions/fuzz_NAME-*     regression inputs (the file name
#                                      starts with the harness name and '-')
# except the regression files listed in fuzz/KNOWN-CRASHES (crashes found
# and reported, not fixed yet).  A regression file that names no harness is
# an error.  Prints one line per harness and 'N passed, N failed' last.
# Exit status: 0 if every input passed, 1 otherwise, 2 on usage errors.

set -u
. "$(dirname "$0")/common.sh"
usage_check 1 "$@"
bindir=$1
names=$(all_harnesses)
known=fuzz/KNOWN-CRASHES
passed=0
failed=0

# 1 if regression file $1 is listed in fuzz/KNOWN-CRASHES.
is_known() {
    [ -f "$known" ] && grep -v '^#' "$known" | awk '{print $1}' |
        grep -qxF "$(basename "$1")"
}

# Regression files that name no harness count as failures.
for f in corpus/regressions/*; do
    [ -f "$f" ] || continue
    base=$(basename "$f")
    ok=0
    for n in $names; do
        case $base in "$n"-*) ok=1 ;; esac
    done
    if [ $ok -eq 0 ]; then
        echo "replay: $f: name does not start with a harness name"
        failed=$((failed + 1))
    fi
done

for n in $names; do
    set --
    for f in corpus/fuzz/"$n"/* corpus/regressions/"$n"-*; do
        [ -f "$f" ] || continue
        is_known "$f" && continue
        set -- "$@" "$f"
    done
    if [ $# -eq 0 ]; then
        echo "$n: no inputs"
        failed=$((failed + 1))
        continue
    fi
    out=$("$bindir/$n" --quiet "$@" 2>/dev/null)
    summary=$(printf '%s\n' "$out" | tail -n 1)
    p=$(printf '%s\n' "$summary" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
    q=$(printf '%s\n' "$summary" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    if [ -z "$p" ]; then
        echo "$n: replay driver failed to run"
        failed=$((failed + $#))
        continue
    fi
    printf '%s\n' "$out" | grep '^FAIL' | sed "s/^/$n: /"
    echo "$n: $# inputs, $p passed, $q failed"
    passed=$((passed + p))
    failed=$((failed + q))
done
if [ -f "$known" ] && grep -qv '^#' "$known"; then
    echo "(skipped: $(grep -vc '^#' "$known") known crashes in $known)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
