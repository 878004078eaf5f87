#!/bin/sh
# merge.sh - minimise the seed corpora with libFuzzer's -merge=1
# (make fuzz-merge).
#
# Usage: fuzz/merge.sh [--help] BUILDDIR [HARNESS...]
#
# For each harness, the inputs of corpus/fuzz/fuzz_NAME/ and of the working
# corpus BUILDDIR/fuzz-corpus/fuzz_NAME/ (from make fuzz) are merged into a
# fresh directory keeping only inputs that add coverage; that directory then
# replaces corpus/fuzz/fuzz_NAME/.  Inputs longer than the harness's
# max_len (fuzz/fuzz_NAME.options) are dropped.  Review with git status
# before committing.  Exit status: 0 on success, 1 if a merge failed.

set -u

if [ "${1:-}" = "--help" ] || [ $# -lt 1 ]; then
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    [ "${1:-}" = "--help" ] && exit 0
    exit 2
fi
build=$1
shift
[ $# -eq 0 ] && set -- fuzz_header fuzz_tables fuzz_open_read \
    fuzz_check_repair fuzz_ops
status=0

for n in "$@"; do
    seeds=corpus/fuzz/$n
    work=$build/fuzz-corpus/$n
    fresh=$build/fuzz-merge/$n
    len=$(sed -n 's/^[ \t]*max_len[ \t]*=[ \t]*//p' "fuzz/$n.options" | head -n 1)
    rm -rf "$fresh"
    mkdir -p "$fresh" "$work" "$seeds"
    if ! "$build/fuzz/$n" -merge=1 ${len:+-max_len=$len} "$fresh" "$seeds" \
        "$work" >"$build/fuzz-merge/$n.log" 2>&1; then
        echo "$n: merge failed, see $build/fuzz-merge/$n.log"
        status=1
        continue
    fi
    old=$(ls "$seeds" | wc -l)
    rm -f "$seeds"/*
    cp "$fresh"/* "$seeds"/ 2>/dev/null
    echo "$n: $old seeds before, $(ls "$seeds" | wc -l) after"
done
exit $status
