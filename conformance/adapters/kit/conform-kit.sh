#!/bin/sh
# conform-kit.sh - libqed through the adapter kit (build/qed-kit-ref) must
# get the reference's result on every case (make conform-kit, make
# test-conform-kit).
#
# Usage: conformance/adapters/kit/conform-kit.sh [--crash] BUILDDIR [RUNNER OPTION...]
#   BUILDDIR holds qed-kit-ref, qed-conform and the reference's results of
#   the same tree: conform-ref.json (make conform) and, with --crash,
#   conform-crash-ref.json (make conform-crash).  RUNNER OPTION goes to the
#   corpus run and must select the cases `make conform` ran (e.g.
#   --random 1:50).
#
# Steps: (1) `qed-conform adapter-check --impl cmd:BUILDDIR/qed-kit-ref`
# must exit 0, and so must it with QED_KIT_REF_OPS=reader (a table of
# open, size, close, read and map only), declaring "info map convert";
# (2) the corpus run through the kit (BUILDDIR/conform-kit.json and .log);
# (3) with --crash, the crash family through the kit, recorded by the
# LD_PRELOAD shim since the kit has no io-trace (conform-crash-kit.json and
# .log); (4) for each run, the kit's list of (case id, status) must equal
# the reference's: a case missing, added or with another status is printed
# and fails; and the comparison must see a result altered on purpose.
# Messages that differ are counted, not failed (the crash family's state
# counts differ where the two recorders log a session as other entries).
# Last line "N passed, N failed, 0 skipped" (N: the checks above); exit 0
# when all hold, 1 when one does not, 2 on a usage error.
set -u
LC_ALL=C
export LC_ALL
crash=0
if [ "${1:-}" = "--crash" ]; then crash=1; shift; fi
if [ $# -lt 1 ] || [ "$1" = "--help" ]; then
    sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
    [ "${1:-}" = "--help" ] && exit 0
    exit 2
fi
b=$1
shift
kit=$(cd "$b" && pwd)/qed-kit-ref
conform=$b/qed-conform
passed=0 failed=0

# pairs JSON: "ID STATUS" per case, sorted.
pairs() {
    sed -n 's/^ *{"id": "\([^"]*\)", "family": "[^"]*", "status": "\([a-z]*\)".*/\1 \2/p' "$1" |
        sort
}

# messages JSON: "ID MESSAGE" per case, sorted.
messages() {
    sed -n 's/^ *{"id": "\([^"]*\)".*"message": "\(.*\)", "seconds".*/\1 \2/p' "$1" | sort
}

# compare NAME REF.json KIT.json: print the figures; 0 when the per-case
# results are equal, 1 (after printing the differences) when not.
compare() {
    name=$1 ref=$2 got=$3 t=$b/conform-kit.tmp
    if [ ! -s "$ref" ] || [ ! -s "$got" ]; then
        echo "conform-kit: $name: missing $ref or $got"
        return 1
    fi
    pairs "$ref" >"$t.ref"; pairs "$got" >"$t.got"
    messages "$ref" >"$t.refmsg"; messages "$got" >"$t.gotmsg"
    n=$(wc -l <"$t.ref")
    same=$(comm -12 "$t.ref" "$t.got" | wc -l)
    msg=$(comm -12 "$t.refmsg" "$t.gotmsg" | wc -l)
    statuses=$(cut -d' ' -f2 "$t.got" | sort | uniq -c | awk '{printf " %s %s", $1, $2}')
    echo "conform-kit: $name: $n cases, $same with the reference's result" \
         "($msg with its message too); the kit's:$statuses"
    rc=0
    if [ "$n" -eq 0 ] || [ "$same" -ne "$n" ] || [ "$(wc -l <"$t.got")" -ne "$n" ]; then
        echo "conform-kit: $name: results that differ (< reference, > kit):"
        diff "$t.ref" "$t.got" | grep '^[<>]' | head -n 20
        rc=1
    fi
    rm -f "$t.ref" "$t.got" "$t.refmsg" "$t.gotmsg"
    return $rc
}

# judge NAME REF.json KIT.json: compare, counted; and the comparison must
# see one result changed on purpose (the kit's first case made a "fail").
judge() {
    if compare "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    sed '0,/"status": "pass"/s//"status": "fail"/' "$3" >"$b/conform-kit.altered.json"
    if compare "$1 with one result altered" "$2" "$b/conform-kit.altered.json" >/dev/null; then
        echo "conform-kit: $1: the comparison did not see a result changed on purpose"
        failed=$((failed + 1))
    fi
    rm -f "$b/conform-kit.altered.json"
}

# (1) the contract, subcommand by subcommand: the whole table, then the
# reader's (open, size, close, read, map), whose capabilities must be
# exactly what those ops serve
if "$conform" adapter-check --impl "cmd:$kit"; then
    passed=$((passed + 1))
else
    echo "conform-kit: adapter-check found the kit breaking the contract"
    failed=$((failed + 1))
fi
reader=$(QED_KIT_REF_OPS=reader "$conform" adapter-check --impl "cmd:$kit")
rc=$?
declared=$(echo "$reader" | sed -n 's/^  ok      capabilities: exit 0, declares //p')
if [ $rc -eq 0 ] && [ "$declared" = "info map convert" ]; then
    echo "conform-kit: the reader's table: adapter-check exit 0, declares $declared"
    passed=$((passed + 1))
else
    echo "$reader"
    echo "conform-kit: the reader's table: adapter-check exit $rc, declares '$declared'; expected 0 and 'info map convert'"
    failed=$((failed + 1))
fi

# (2) the corpus, (3) the crash family
"$conform" --impl "cmd:$kit" -j 2 "$@" --json "$b/conform-kit.json" >"$b/conform-kit.log" 2>&1
tail -n 1 "$b/conform-kit.log" | sed 's/^/conform-kit: corpus through the kit: /'
judge "corpus" "$b/conform-ref.json" "$b/conform-kit.json"
if [ $crash -eq 1 ]; then
    "$conform" crash --impl "cmd:$kit" -j 2 --json "$b/conform-crash-kit.json" \
        >"$b/conform-crash-kit.log" 2>&1
    tail -n 1 "$b/conform-crash-kit.log" | sed 's/^/conform-kit: crash family through the kit: /'
    judge "crash" "$b/conform-crash-ref.json" "$b/conform-crash-kit.json"
fi
echo "$passed passed, $failed failed, 0 skipped"
[ $failed -eq 0 ]
