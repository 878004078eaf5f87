#!/bin/sh
# crash-check-test.sh - qed-conform crash-check end to end (make
# test-crash-check), on the golden traces of corpus/traces/: exit status 0
# on a passing trace and 1 on a broken one, 2 on usage and input errors (a
# truncated or garbage trace, a missing image), --json, --save-state (the
# saved image is what qedtool check calls corrupt), -j and --shard (the
# shares add up to the whole), --workload.
#
# usage: conformance/crash/crash-check-test.sh BUILDDIR
set -u
b=$(cd "${1:-build}" && pwd)
qc=$b/qed-conform
t=corpus/traces
tmp=$(mktemp -d "${TMPDIR:-/tmp}/crash-check-test.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# expect WHAT CODE CMD...: CMD exits CODE
expect() {
    what=$1 code=$2
    shift 2
    "$@" >"$tmp/out" 2>&1
    rc=$?
    if [ "$rc" -eq "$code" ]; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL $what: exit $rc, expected $code"; sed 's/^/  /' "$tmp/out" | head -5
    fi
}

# grep_out WHAT PATTERN: the last command's output matches PATTERN
grep_out() {
    if grep -q -- "$2" "$tmp/out"; then pass=$((pass + 1)); else
        fail=$((fail + 1)); echo "FAIL $1: output lacks '$2'"; fi
}

ok=$t/ref-cow-raw-4k bad=$t/broken-no-flush-second-session
expect "passing trace" 0 "$qc" crash-check --image "$ok/image.qed" --trace "$ok/trace.log" \
    --workload "$ok/workload.txt" --final "$ok/final.qed"
grep_out "summary line" '^crash-check: [0-9]* crash states .* 0 violations'
expect "broken trace" 1 "$qc" crash-check --image "$bad/image.qed" --trace "$bad/trace.log" \
    --workload "$bad/workload.txt" --json "$tmp/v.json"
grep_out "violation line" '^O2 state 5:8:-: NEED_CHECK is clear'
grep_out "strip" '^-- power lost here --'
if grep -q '"schema":"qed-conform-crash-1"' "$tmp/v.json" && grep -q '"oracle":"O2"' "$tmp/v.json"; then
    pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL --json: no O2 verdict in v.json"; fi
expect "save-state" 1 "$qc" crash-check --image "$bad/image.qed" --trace "$bad/trace.log" \
    --save-state 5:8:- "$tmp/state.qed"
expect "the saved state is corrupt" 2 "$b/qedtool" check "$tmp/state.qed"
expect "save-state of no state" 2 "$qc" crash-check --image "$bad/image.qed" --trace "$bad/trace.log" \
    --save-state 99:ff:- "$tmp/none.qed"
# the shares of -j and --shard add up to the whole
whole=$("$qc" crash-check --image "$ok/image.qed" --trace "$ok/trace.log" | sed -n 's/^crash-check: \([0-9]*\) crash.*/\1/p')
a=$("$qc" crash-check --image "$ok/image.qed" --trace "$ok/trace.log" --shard 1/3 -j 2 | sed -n 's/^crash-check: \([0-9]*\) crash.*/\1/p')
c=$("$qc" crash-check --image "$ok/image.qed" --trace "$ok/trace.log" --shard 2/3 | sed -n 's/^crash-check: \([0-9]*\) crash.*/\1/p')
d=$("$qc" crash-check --image "$ok/image.qed" --trace "$ok/trace.log" --shard 3/3 | sed -n 's/^crash-check: \([0-9]*\) crash.*/\1/p')
if [ -n "$whole" ] && [ $((a + c + d)) -eq "$whole" ]; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL shards: $a + $c + $d != $whole"; fi
# input errors: one line naming the entry and field, exit 2
head -c 700 "$ok/trace.log" > "$tmp/short.log"
expect "truncated trace" 2 "$qc" crash-check --image "$ok/image.qed" --trace "$tmp/short.log"
grep_out "truncated trace names the entry" 'entry'
printf 'not a trace at all' > "$tmp/garbage.log"
expect "garbage trace" 2 "$qc" crash-check --image "$ok/image.qed" --trace "$tmp/garbage.log"
expect "missing image" 2 "$qc" crash-check --image "$tmp/none.qed" --trace "$ok/trace.log"
expect "no arguments" 2 "$qc" crash-check
expect "help" 0 "$qc" crash-check --help
echo "crash-check-test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
