#!/bin/sh
# check.sh - the golden corpus check (make golden-check): regenerate the
# corpus into a scratch directory and compare every byte with corpus/golden
# (diff -r reports differing, missing and extra files); then every rule ID
# of spec/rules.tsv must be cited by some case, and every cited ID exist.
#
# Usage: conformance/golden/check.sh QED_CONFORM   (run from the top of the tree)
# Exit status: 0 when all holds, 1 otherwise (with what differs), 2 on a
# usage error.  Needs jq.
set -u
case ${1:-} in --help) sed -n '/^[^#]/q; 2,$ s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
[ $# -ge 1 ] || { echo "usage: conformance/golden/check.sh QED_CONFORM (see --help)" >&2; exit 2; }
conform=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/golden-check.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
"$conform" golden --out "$tmp/corpus" >/dev/null || exit 1
if ! diff -r corpus/golden "$tmp/corpus" >"$tmp/diff" 2>&1; then
    cat "$tmp/diff"
    echo 'golden-check: corpus/golden differs from the generator (run make golden)'
    exit 1
fi
jq -r '.testGroups[].tests[].rules[]' corpus/golden/manifest.json | sort -u >"$tmp/cited" || exit 1
cut -f1 spec/rules.tsv | tail -n +2 | sort -u >"$tmp/spec"
missing=$(comm -23 "$tmp/spec" "$tmp/cited")
unknown=$(comm -13 "$tmp/spec" "$tmp/cited")
if [ -n "$missing$unknown" ]; then
    echo "golden-check: rules cited by no case: $missing; unknown rules cited: $unknown"
    exit 1
fi
echo "golden-check: corpus/golden matches the generator; all $(wc -l <"$tmp/spec") rules cited"
