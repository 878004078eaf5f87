#!/bin/sh
# ci/test-summary.sh - the last line of make test: how its test targets
# ended, counting a target that left a skip note (SKIP_DIR/TARGET, holding
# the reason) as SKIPPED, never as passed.
#
# Usage: ci/test-summary.sh SKIP_DIR STATUS TARGET...
#   STATUS is the exit status of the make that ran the TARGETs.
# Prints "make test: all N test targets passed", or "make test: N passed,
# N SKIPPED (target: reason; ...)", or "make test: FAILED (see above) ..."
# and exits with 0, 0 and 1 respectively.
set -u
case ${1:-} in --help) sed -n '/^[^#]/q; 2,$ s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
[ $# -ge 2 ] || { echo "usage: ci/test-summary.sh SKIP_DIR STATUS TARGET... (see --help)" >&2; exit 2; }
dir=$1 status=$2
shift 2
total=$# skipped=0 notes=
for t in "$@"; do
    [ -f "$dir/$t" ] || continue
    skipped=$((skipped + 1))
    notes="$notes${notes:+; }$t: $(head -n 1 "$dir/$t")"
done
if [ "$status" -ne 0 ]; then
    echo "make test: FAILED (see the errors above)${notes:+; $skipped SKIPPED ($notes)}"
    exit 1
fi
if [ "$skipped" -eq 0 ]; then
    echo "make test: all $total test targets passed"
else
    echo "make test: $((total - skipped)) passed, $skipped SKIPPED ($notes)"
fi
