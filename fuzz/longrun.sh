#!/bin/sh
# longrun.sh - long fuzzing runs, one harness at a time, that keep going
# past crashes (libFuzzer -fork=1 -ignore_crashes=1), then triage.
#
# Usage: fuzz/longrun.sh [--help] BUILDDIR SECONDS [HARNESS...]
#
# Runs BUILDDIR/fuzz/fuzz_NAME (make fuzz-build) at nice 10 for SECONDS
# seconds each on the working corpus BUILDDIR/fuzz-corpus/fuzz_NAME/ plus
# the seeds, crash inputs into BUILDDIR/fuzz-long/fuzz_NAME/, log in
# BUILDDIR/fuzz-long/fuzz_NAME.log.  Then prints per harness the executions,
# exec/s, corpus size and the crash inputs grouped by signature
# (fuzz/triage.sh).  Known crashes (fuzz/KNOWN-CRASHES) show up here too:
# compare the signatures.

set -u
. "$(dirname "$0")/common.sh"
usage_check 2 "$@"
build=$1
seconds=$2
shift 2
[ $# -eq 0 ] && set -- $(all_harnesses)

for n in "$@"; do
    dir=$build/fuzz-long/$n
    work=$build/fuzz-corpus/$n
    log=$build/fuzz-long/$n.log
    rm -rf "$dir"
    mkdir -p "$dir" "$work"
    len=$(sed -n 's/^[ \t]*max_len[ \t]*=[ \t]*//p' "fuzz/$n.options" | head -n 1)
    start=$(date +%s)
    nice -n 10 "$build/fuzz/$n" -fork=1 -ignore_crashes=1 \
        -max_total_time="$seconds" -artifact_prefix="$dir/" \
        ${len:+-max_len=$len} -dict="fuzz/$n.dict" \
        "$work" "corpus/fuzz/$n" >"$log" 2>&1
    elapsed=$(( $(date +%s) - start ))
    # Fork mode's status lines: "#EXECS: cov: C ft: F corp: N exec/s E ..."
    last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -n 1)
    execs=$(printf '%s\n' "$last" | sed -n 's/^#\([0-9]*\):.*/\1/p')
    crashes=$(ls "$dir" | wc -l)
    echo "$n: ${execs:-?} execs in ${elapsed}s" \
        "($(( ${execs:-0} / (elapsed > 0 ? elapsed : 1) )) exec/s)," \
        "$(ls "$work" | wc -l) inputs, $crashes crash inputs"
    [ "$crashes" -gt 0 ] && fuzz/triage.sh "$build/fuzz/$n" "$dir"/* | sed 's/^/  /'
done
