#!/bin/sh
# triage.sh - group crash inputs by their failure signature.
#
# Usage: fuzz/triage.sh [--help] BINARY INPUT...
#
# Runs the libFuzzer (or replay) BINARY on each INPUT and takes the first
# "PROPERTY FAILED" or sanitizer "SUMMARY:" line of its output, with numbers
# replaced by N, as the signature.  Prints, per signature, how many inputs
# share it and the smallest one (the one to save in corpus/regressions/).

set -u
. "$(dirname "$0")/common.sh"
usage_check 2 "$@"
bin=$1
shift
for f in "$@"; do
    sig=$(UBSAN_OPTIONS=print_stacktrace=1 "$bin" "$f" 2>&1 |
        grep -m 1 -E 'PROPERTY FAILED|SUMMARY: ' |
        sed -e 's/[0-9][0-9]*/N/g' -e 's/^.*PROPERTY FAILED/PROPERTY FAILED/')
    printf '%s\t%s\t%s\n' "${sig:-no failure reproduced}" "$(wc -c < "$f")" "$f"
done | sort -t "$(printf '\t')" -k1,1 -k2,2n |
awk -F '\t' '$1 != last { if (last != "") print n "x " last "\n    smallest: " small;
                          last = $1; n = 0; small = $3 " (" $2 " bytes)" }
             { n++ }
             END { if (last != "") print n "x " last "\n    smallest: " small }'
