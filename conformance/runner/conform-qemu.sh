#!/bin/sh
# conform-qemu.sh - the suite against QEMU (make conform-qemu): run
# qed-conform --impl qemu and require the failing case ids to be exactly
# the "- family/name — RULE — why" lines of conformance/KNOWN-DEVIATIONS.md,
# so that a new failure and a fixed deviation both fail.
#
# Usage: conformance/runner/conform-qemu.sh BUILDDIR [RUNNER OPTION...]
#   BUILDDIR holds qed-conform; the run's log, JSON and JUnit files go
#   there too (conform-qemu.log, .json, .xml; .failing and .known are the
#   two sorted id lists compared).
#
# Without qemu-img or qemu-io it prints "conform-qemu: SKIPPED (...)",
# leaves that reason in $QEDREF_SKIP_DIR/conform-qemu when the variable is
# set (make test counts it), and exits 0.  Otherwise exit 0 when the ids
# match, 1 when they differ or the run failed to run.
set -u
case ${1:-} in --help) sed -n '/^[^#]/q; 2,$ s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
[ $# -ge 1 ] || { echo "usage: conformance/runner/conform-qemu.sh BUILDDIR [RUNNER OPTION...] (see --help)" >&2; exit 2; }
b=$1
shift
known_list=$(dirname "$0")/../KNOWN-DEVIATIONS.md
for tool in qemu-img qemu-io; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "conform-qemu: SKIPPED ($tool not installed)"
        if [ -n "${QEDREF_SKIP_DIR:-}" ]; then
            mkdir -p "$QEDREF_SKIP_DIR" && echo "$tool not installed" >"$QEDREF_SKIP_DIR/conform-qemu"
        fi
        exit 0
    fi
done

"$b/qed-conform" --impl qemu "$@" --junit "$b/conform-qemu.xml" \
    --json "$b/conform-qemu.json" >"$b/conform-qemu.log"
rc=$?
tail -n 1 "$b/conform-qemu.log"
[ $rc -le 1 ] || { cat "$b/conform-qemu.log"; exit 1; }
sed -n 's/^FAIL \([^ ]*\) .*/\1/p' "$b/conform-qemu.log" | LC_ALL=C sort >"$b/conform-qemu.failing"
sed -n 's|^- \([a-z][a-z0-9-]*/[^ ]*\) — .*|\1|p' "$known_list" | LC_ALL=C sort \
    >"$b/conform-qemu.known"
if cmp -s "$b/conform-qemu.known" "$b/conform-qemu.failing"; then
    echo 'conform-qemu: QEMU fails exactly the known deviations'
    exit 0
fi
echo 'conform-qemu: failing cases differ from conformance/KNOWN-DEVIATIONS.md'
echo '  (< known deviation that now passes, > new failure)'
diff "$b/conform-qemu.known" "$b/conform-qemu.failing" | grep '^[<>]'
exit 1
