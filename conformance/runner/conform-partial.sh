#!/bin/sh
# conform-partial.sh - the suite against a partial implementation (make
# conform-partial): conformance/adapters/partial offers only info and
# convert of the reference.  The runner must still judge every read case
# on content and size, say in each what it did not check, and skip only
# what needs a capability the adapter lacks, naming it.
#
# Usage: conformance/runner/conform-partial.sh BUILDDIR [RUNNER OPTION...]
#   BUILDDIR holds qed-conform and qedtool; the runs' logs go there
#   (conform-partial.log, conform-partial-crash.log, conform-partial.json).
#   RUNNER OPTION is passed to the fixed-corpus run (e.g. --random 1:50).
#
# Checks: (1) the run over the reference fails nothing; (2) every skip
# names a capability ('lacks 'NAME'') that the adapter does not list;
# (3) no read or random case is skipped, and each says "not checked: map
# (adapter lacks 'map')"; (4) check cases whose content as found is known
# are judged; (5) the same run over conformance/adapters/faulty's content
# and size faults fails read cases on content_sha256 and virtual-size, so
# the judging can fail (a case too large to export, whose content only io
# judges, passes the content fault saying so).  Prints the counts; exit 0
# when all hold, 1 when one does not, 2 on a usage error.
set -u
if [ $# -lt 1 ] || [ "$1" = "--help" ]; then
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
    [ "${1:-}" = "--help" ] && exit 0
    exit 2
fi
b=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
adapter=$here/../adapters/partial
conform=$b/qed-conform
tool=$(cd "$b" && pwd)/qedtool
lacking_ok='create|check|map|io|rebase|resize|io-trace'
bad=0

# problem TEXT: report one failed check.
problem() {
    echo "conform-partial: $1"
    bad=1
}

# counts LOG: "N run (P passed, F failed, S skipped)" from a -v log.
counts() {
    awk '/^pass /{p++} /^FAIL /{f++} /^skip /{s++}
         END {printf "%d cases: %d run (%d passed, %d failed), %d skipped\n",
                     p+f+s, p+f, p, f, s}' "$1"
}

PARTIAL_TOOL=$tool "$conform" --impl "cmd:$adapter" -v -j 2 "$@" \
    --json "$b/conform-partial.json" >"$b/conform-partial.log" 2>&1
rc=$?
PARTIAL_TOOL=$tool "$conform" crash --impl "cmd:$adapter" -v -j 2 \
    >"$b/conform-partial-crash.log" 2>&1
rc_crash=$?
[ $rc -eq 0 ] || problem "the run over the reference exited $rc (see $b/conform-partial.log)"
[ $rc_crash -eq 0 ] || problem "the crash run exited $rc_crash (see $b/conform-partial-crash.log)"

# (2) every skip names a capability the adapter lacks
for log in "$b/conform-partial.log" "$b/conform-partial-crash.log"; do
    unnamed=$(grep '^skip ' "$log" | grep -Ev "lacks '($lacking_ok)'" | head -n 3)
    [ -z "$unnamed" ] || problem "skips that name no lacking capability: $unnamed"
    wrong=$(grep '^skip ' "$log" | grep -E "lacks '(info|convert)'" | head -n 3)
    [ -z "$wrong" ] || problem "skips that blame a capability the adapter has: $wrong"
done

# (3) read and random cases are judged and say what was not checked
log=$b/conform-partial.log
reads=$(grep -Ec '^(pass|FAIL|skip) (read|random)/' "$log")
judged=$(grep -Ec "^pass (read|random)/.*not checked: map \(adapter lacks 'map'\)" "$log")
[ "$reads" -gt 0 ] || problem "no read case ran"
[ "$judged" -eq "$reads" ] ||
    problem "$judged of $reads read cases passed saying that the map was not checked"

# (4) check cases whose content as found is known are judged
asfound=$(grep -c '^pass check/' "$log")
[ "$asfound" -gt 0 ] || problem "no check case was judged on what it reads"

# (5) the judging can fail: content and size faults under the same adapter
for fault in content:content_sha256 size:virtual-size; do
    name=${fault%%:*} phrase=${fault#*:}
    out=$(PARTIAL_TOOL=$here/../adapters/faulty QED_CONFORM_TOOL=$tool QED_CONFORM_FAULT=$name \
          "$conform" --impl "cmd:$adapter" --filter 'read/*' --shard 1/6 -j 2 -v 2>&1)
    n=$(printf '%s\n' "$out" | grep -c "^FAIL read/.*$phrase")
    # a case too large to export is judged on content only through io
    byio=$(printf '%s\n' "$out" | grep -c "^pass read/.*content by reads (adapter lacks 'io')")
    last=$(printf '%s\n' "$out" | tail -n 1)
    [ "$n" -gt 0 ] && { [ "$last" = "0 passed, $n failed, 0 skipped" ] ||
                        { [ "$name" = content ] && [ "$last" = "$byio passed, $n failed, 0 skipped" ]; }; } ||
        problem "fault '$name': $n read cases failed on $phrase; the run said: $last"
done

echo "conform-partial: fixed corpus: $(counts "$b/conform-partial.log")"
echo "conform-partial: crash family: $(counts "$b/conform-partial-crash.log")"
grep '^  [a-z-]* .* passed .* failed .* skipped$' "$b/conform-partial.log"
if [ $bad -eq 0 ]; then
    echo "conform-partial: every read case judged on content and size; every skip names what it lacks"
fi
exit $bad
