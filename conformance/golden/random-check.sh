#!/bin/sh
# random-check.sh - the random family is deterministic too (make
# golden-random-check): two runs of `qed-conform golden --random 42
# --count 40` must write identical files.
#
# Usage: conformance/golden/random-check.sh QED_CONFORM
# Exit status: 0 identical, 1 otherwise (diff -r shows what), 2 usage.
set -u
case ${1:-} in --help) sed -n '/^[^#]/q; 2,$ s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
[ $# -ge 1 ] || { echo "usage: conformance/golden/random-check.sh QED_CONFORM (see --help)" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/golden-random.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
for run in a b; do
    "$1" golden --random 42 --count 40 --out "$tmp/$run" >/dev/null || exit 1
done
diff -r "$tmp/a" "$tmp/b" || exit 1
echo "golden-random-check: 40 random cases, two runs identical"
