#!/bin/sh
# bench.sh - the speed and coverage of each libFuzzer harness (make fuzz-bench).
#
# Usage: fuzz/bench.sh [--help] [--min N] BUILDDIR SECONDS [HARNESS...]
#
# Runs each harness BUILDDIR/fuzz/fuzz_NAME for SECONDS seconds, one at a
# time in one process (no -jobs or -fork), with -seed=1, from its seeds corpus/fuzz/fuzz_NAME/ (read,
# never written: new inputs go to a fresh temporary directory, removed
# afterwards) with the max_len and dictionary of fuzz/fuzz_NAME.options,
# and prints a table:
#   harness  execs  exec/s  exec/cpu_s  cov  ft  new  rss_mb
# where exec/s is libFuzzer's average over the run (seed loading included),
# exec/cpu_s the executions per second of CPU time the run used (user +
# system, from /usr/bin/time if installed: steadier than exec/s on a busy
# machine), cov and ft libFuzzer's edge and feature counts at the end, new
# the inputs it added.  The 1-minute load average is printed before and
# after.  Crash inputs go to BUILDDIR/fuzz-artifacts/,
# each log to BUILDDIR/fuzz-logs/fuzz_NAME.bench.log.
# --min N (make fuzz-bench FUZZ_BENCH_MIN=N) fails each harness that ran
# fewer than N executions per CPU second ("below N" after its row).
# Exit status: 0 if no harness crashed or fell below --min, 1 otherwise, 2
# on usage errors.

set -u
. "$(dirname "$0")/common.sh"
min_rate=0
if [ "${1:-}" = "--min" ]; then
    min_rate=${2:-}
    shift
    [ $# -gt 0 ] && shift
    case $min_rate in
    ''|*[!0-9]*) echo "bench.sh: --min needs a number" >&2; exit 2 ;;
    esac
fi
usage_check 2 "$@"
build=$1
seconds=$2
shift 2
[ $# -eq 0 ] && set -- $(all_harnesses)
arts=$build/fuzz-artifacts
logs=$build/fuzz-logs
mkdir -p "$arts" "$logs"
failed=0

# The number after "$2:" on the last status line of log $1.
status() {
    grep -E '^#[0-9]+' "$1" | tail -n 1 |
        sed -n "s/.* $2: \([0-9]*\).*/\1/p"
}

loadavg() {
    cut -d ' ' -f 1 /proc/loadavg 2>/dev/null || echo '?'
}

echo "load average $(loadavg), $seconds s per harness"
row() {
    printf '%-18s %10s %9s %10s %6s %7s %5s %7s\n' "$@"
}
row harness execs exec/s exec/cpu_s cov ft new rss_mb
for n in "$@"; do
    log=$logs/$n.bench.log
    work=$(mktemp -d "${TMPDIR:-/tmp}/qedref-fuzz-bench.XXXXXX") || exit 1
    set -- -max_total_time="$seconds" -print_final_stats=1 -seed=1 \
        -artifact_prefix="$arts/$n-"
    len=$(option "$n" max_len)
    dict=$(option "$n" dict)
    [ -n "$len" ] && set -- "$@" -max_len="$len"
    [ -n "$dict" ] && set -- "$@" -dict="fuzz/$dict"
    cpu=$work.cpu
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -o "$cpu" -f '%U %S' \
            "$build/fuzz/$n" "$@" "$work" "corpus/fuzz/$n" >"$log" 2>&1
    else
        "$build/fuzz/$n" "$@" "$work" "corpus/fuzz/$n" >"$log" 2>&1
    fi
    rc=$?
    execs=$(stat "$log" number_of_executed_units)
    percpu=$(awk -v e="${execs:-0}" '{ t = $1 + $2 }
        END { if (t > 0) printf "%d", e / t; else print "?" }' "$cpu" 2>/dev/null)
    row "$n" "$execs" "$(stat "$log" average_exec_per_sec)" "${percpu:-?}" \
        "$(status "$log" cov)" "$(status "$log" ft)" \
        "$(stat "$log" new_units_added)" "$(stat "$log" peak_rss_mb)"
    if [ "$min_rate" -gt 0 ] && [ "${percpu:-0}" != "?" ] &&
       [ "${percpu:-0}" -lt "$min_rate" ]; then
        echo "  below $min_rate exec per CPU second"
        failed=$((failed + 1))
    fi
    if [ $rc -ne 0 ]; then
        grep -m 3 -E 'PROPERTY FAILED|ERROR: |SUMMARY: ' "$log" | sed "s/^/  /"
        echo "  crashed (exit $rc); log: $log"
        failed=$((failed + 1))
    fi
    rm -rf "$work" "$cpu"
done
echo "load average $(loadavg)"
[ "$failed" -eq 0 ]
