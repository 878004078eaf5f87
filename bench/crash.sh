#!/usr/bin/env bash
# bench/crash.sh - the crash family's speed: crash states judged per second
# and the family's wall time against the reference (make bench-crash).
#
# usage: bench/crash.sh BUILDDIR [JOBS]
# Prints one row: workloads, crash states, wall seconds, states per second.
# The states counted are those the cases report ("N crash states ..."),
# summed from the run's JSON results.
set -eu
builddir=${1:-build}
jobs=${2:-2}
json=$(mktemp "${TMPDIR:-/tmp}/bench-crash.XXXXXX.json")
trap 'rm -f "$json"' EXIT
start=$(date +%s.%N)
"$builddir/qed-conform" crash --impl ref -j "$jobs" --json "$json" >/dev/null
end=$(date +%s.%N)
states=$(grep -o '"message": *"[0-9]* crash states' "$json" | grep -o '[0-9]* crash' |
         awk '{s += $1} END {print s + 0}')
cases=$(grep -c '"message": *"[0-9]* crash states' "$json" || true)
awk -v c="$cases" -v s="$states" -v a="$start" -v b="$end" -v j="$jobs" 'BEGIN {
    t = b - a
    printf "crash family (ref, -j %d): %d workloads, %d crash states, %.1f s wall, %.0f states/s\n",
           j, c, s, t, s / t }'
