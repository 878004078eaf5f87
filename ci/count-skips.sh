#!/usr/bin/env bash
# ci/count-skips.sh - run a test script whose last line is "N passed,
# N failed, N skipped" and, when N skipped is not 0, leave a note for make
# test's summary: $QEDREF_SKIP_DIR/TARGET holding "N of M skipped".
#
# Usage: ci/count-skips.sh TARGET COMMAND [ARG...]
# Output is COMMAND's (stderr merged into stdout); the exit status is
# COMMAND's.  Without QEDREF_SKIP_DIR set it only runs COMMAND.
set -u
case ${1:-} in --help) sed -n '/^[^#]/q; 2,$ s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
[ $# -ge 2 ] || { echo "usage: ci/count-skips.sh TARGET COMMAND [ARG...] (see --help)" >&2; exit 2; }
target=$1
shift
log=$(mktemp "${TMPDIR:-/tmp}/count-skips.XXXXXX") || exit 2
trap 'rm -f "$log"' EXIT
"$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
last=$(tail -n 1 "$log")
if [[ -n ${QEDREF_SKIP_DIR:-} && $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([1-9][0-9]*)\ skipped$ ]]; then
    total=$((BASH_REMATCH[1] + BASH_REMATCH[2] + BASH_REMATCH[3]))
    mkdir -p "$QEDREF_SKIP_DIR" &&
        echo "${BASH_REMATCH[3]} of $total skipped" >"$QEDREF_SKIP_DIR/$target"
fi
exit "$rc"
