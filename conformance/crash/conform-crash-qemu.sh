#!/bin/sh
# conform-crash-qemu.sh - the crash family against QEMU (make
# conform-crash-qemu): run `qed-conform crash --impl qemu` (QEMU records its
# own traces through its blklogwrites driver) and require its failures to
# be exactly what conformance/KNOWN-DEVIATIONS.md's crash section names:
# every failing case matches one of its "- pattern `GLOB` — RULE — why"
# lines, and every pattern matches at least one failing case, so that a new
# failure and a fixed deviation both fail.
#
# Usage: conformance/crash/conform-crash-qemu.sh BUILDDIR [RUNNER OPTION...]
#        conformance/crash/conform-crash-qemu.sh --failing FILE
#   The run's log, JSON and JUnit files go to BUILDDIR
#   (conform-crash-qemu.log, .json, .xml; .failing lists the failing ids).
#   With --failing, judge the failing ids listed in FILE (one a line, e.g.
#   from merged shards) without running anything.
#
# Without qemu-img or qemu-io it prints "conform-crash-qemu: SKIPPED (...)",
# leaves the reason in $QEDREF_SKIP_DIR/conform-crash-qemu when that is set,
# and exits 0.
set -u -f    # -f: the patterns are globs for case, never for files
if [ $# -lt 1 ] || [ "$1" = "--help" ]; then
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
    [ "${1:-}" = "--help" ] && exit 0
    exit 2
fi
known=$(dirname "$0")/../KNOWN-DEVIATIONS.md
# shellcheck disable=SC2016
patterns=$(sed -n 's/^- pattern `\(crash\/[^`]*\)` — .*/\1/p' "$known")

# judge FAILING LOG: every failure is a known deviation, every known
# deviation still shows; 0 or 1.
judge() {
    status=0
    while read -r id; do
        hit=
        for p in $patterns; do
            # shellcheck disable=SC2254
            case $id in $p) hit=1; break ;; esac
        done
        if [ -z "$hit" ]; then
            echo "conform-crash-qemu: new failure: $id${2:+: $(grep "^FAIL $id " "$2" | cut -c1-400)}"
            status=1
        fi
    done <"$1"
    for p in $patterns; do
        hit=
        while read -r id; do
            # shellcheck disable=SC2254
            case $id in $p) hit=1; break ;; esac
        done <"$1"
        if [ -z "$hit" ]; then
            echo "conform-crash-qemu: known deviation no longer shows: $p"
            status=1
        fi
    done
    [ $status -eq 0 ] && echo "conform-crash-qemu: QEMU fails exactly the known crash" \
        "deviations ($(wc -l <"$1") cases, $(echo "$patterns" | wc -w) patterns)"
    return $status
}

if [ "$1" = --failing ]; then
    [ $# -eq 2 ] || exit 2
    judge "$2" ""
    exit
fi
b=$1
shift
for tool in qemu-img qemu-io; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "conform-crash-qemu: SKIPPED ($tool not installed)"
        if [ -n "${QEDREF_SKIP_DIR:-}" ]; then
            mkdir -p "$QEDREF_SKIP_DIR" &&
                echo "$tool not installed" >"$QEDREF_SKIP_DIR/conform-crash-qemu"
        fi
        exit 0
    fi
done

"$b/qed-conform" crash --impl qemu "$@" --junit "$b/conform-crash-qemu.xml" \
    --json "$b/conform-crash-qemu.json" >"$b/conform-crash-qemu.log"
rc=$?
tail -n 1 "$b/conform-crash-qemu.log"
[ $rc -le 1 ] || { cat "$b/conform-crash-qemu.log"; exit 1; }
sed -n 's/^FAIL \([^ ]*\) .*/\1/p' "$b/conform-crash-qemu.log" >"$b/conform-crash-qemu.failing"
judge "$b/conform-crash-qemu.failing" "$b/conform-crash-qemu.log"
