#!/bin/sh
# run.sh - run each libFuzzer harness for a while (make fuzz).
#
# Usage: fuzz/run.sh [--help] BUILDDIR SECONDS [HARNESS...]
#
# Each harness BUILDDIR/fuzz/fuzz_NAME runs for SECONDS seconds on a working
# corpus BUILDDIR/fuzz-corpus/fuzz_NAME/ (new inputs land there; the seeds
# in corpus/fuzz/fuzz_NAME/ are read, never written), with the max_len and
# dictionary of fuzz/fuzz_NAME.options.  Crash, leak, timeout and OOM inputs
# go to BUILDDIR/fuzz-artifacts/.  Prints one line per harness:
#   fuzz_NAME: EXECS exec/s, N inputs, N crashes
# and 'N passed, N failed' (harnesses without/with crashes) last.
# The full libFuzzer log is BUILDDIR/fuzz-logs/fuzz_NAME.log.
# Exit status: 0 if no harness crashed, 1 otherwise, 2 on usage errors.

set -u
. "$(dirname "$0")/common.sh"
usage_check 2 "$@"
build=$1
seconds=$2
shift 2
[ $# -eq 0 ] && set -- $(all_harnesses)
arts=$build/fuzz-artifacts
logs=$build/fuzz-logs
mkdir -p "$arts" "$logs"
passed=0
failed=0

# (The for list is expanded once, so reusing "$@" for the flags is safe.)
for n in "$@"; do
    work=$build/fuzz-corpus/$n
    log=$logs/$n.log
    mkdir -p "$work"
    before=$(ls "$arts" | grep -c "^$n-")
    set -- -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="$arts/$n-"
    len=$(option "$n" max_len)
    dict=$(option "$n" dict)
    [ -n "$len" ] && set -- "$@" -max_len="$len"
    [ -n "$dict" ] && set -- "$@" -dict="fuzz/$dict"
    "$build/fuzz/$n" "$@" "$work" "corpus/fuzz/$n" >"$log" 2>&1
    rc=$?
    crashes=$(( $(ls "$arts" | grep -c "^$n-") - before ))
    [ $rc -ne 0 ] && [ $crashes -eq 0 ] && crashes=1
    execs=$(stat "$log" average_exec_per_sec)
    inputs=$(ls "$work" | wc -l)
    echo "$n: ${execs:-?} exec/s, $inputs inputs, $crashes crashes"
    if [ $crashes -ne 0 ]; then
        grep -m 3 -E 'PROPERTY FAILED|ERROR: |SUMMARY: ' "$log" | sed "s/^/  /"
        echo "  log: $log; inputs: $arts/$n-*"
        failed=$((failed + 1))
    else
        passed=$((passed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
