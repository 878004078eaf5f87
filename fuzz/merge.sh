#!/bin/sh
# merge.sh - minimise the seed corpora with libFuzzer's -merge=1
# (make fuzz-merge).
#
# Usage: fuzz/merge.sh [--help] BUILDDIR [HARNESS...]
#
# For each harness, the inputs of the working corpus
# BUILDDIR/fuzz-corpus/fuzz_NAME/ (from make fuzz or fuzz/longrun.sh) that
# add coverage to corpus/fuzz/fuzz_NAME/ are copied into it (libFuzzer
# -merge=1 into a copy of the seeds: the named seeds, which make fuzz-seeds
# regenerates, are all kept; redundant new inputs are not taken).  Inputs
# longer than the harness's max_len (fuzz/fuzz_NAME.options) are skipped.
# Review with git status before committing.  Exit status: 0 on success, 1
# if a merge failed.

set -u
. "$(dirname "$0")/common.sh"
usage_check 1 "$@"
build=$1
shift
[ $# -eq 0 ] && set -- $(all_harnesses)
status=0

for n in "$@"; do
    seeds=corpus/fuzz/$n
    work=$build/fuzz-corpus/$n
    fresh=$build/fuzz-merge/$n
    len=$(sed -n 's/^[ \t]*max_len[ \t]*=[ \t]*//p' "fuzz/$n.options" | head -n 1)
    rm -rf "$fresh" "$build/fuzz-merge/$n.small"
    mkdir -p "$fresh" "$work" "$seeds" "$build/fuzz-merge/$n.small"
    cp "$seeds"/* "$fresh"/ 2>/dev/null
    find "$work" -type f -size -"$(( ${len:-1048576} + 1 ))"c \
        -exec cp {} "$build/fuzz-merge/$n.small"/ \;
    if ! "$build/fuzz/$n" -merge=1 ${len:+-max_len=$len} "$fresh" \
        "$build/fuzz-merge/$n.small" >"$build/fuzz-merge/$n.log" 2>&1; then
        echo "$n: merge failed, see $build/fuzz-merge/$n.log"
        status=1
        continue
    fi
    old=$(ls "$seeds" | wc -l)
    cp "$fresh"/* "$seeds"/ 2>/dev/null
    echo "$n: $old seeds before, $(ls "$seeds" | wc -l) after"
done
exit $status
