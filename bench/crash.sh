#!/usr/bin/env bash
# bench/crash.sh - the crash family's speed (make bench-crash, part of
# make bench): two rows.
#
#   judge   crash states judged per second by `qed-conform crash-check` on
#           one long trace (120 writes of 3000 bytes over a 64 MiB image,
#           a flush after every fourth: about 100,000 states), in JOBS
#           worker processes: the explorer and the oracles alone
#   family  the whole crash family against the reference (`qed-conform
#           crash --impl ref -j JOBS`): workloads, crash states, wall time,
#           states per second (adapter processes included)
#
# usage: bench/crash.sh BUILDDIR [JOBS]
set -eu
builddir=$(cd "${1:-build}" && pwd)
jobs=${2:-2}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-crash.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# now: seconds since the epoch, with nanoseconds
now() { date +%s.%N; }

# rate LABEL STATES START END: one row
rate() {
    awk -v l="$1" -v s="$2" -v a="$3" -v b="$4" -v j="$jobs" 'BEGIN {
        t = b - a; printf "%-7s -j %d: %d crash states in %.1f s wall, %.0f states/s\n", l, j, s, t, s / t }'
}

# judge: one long trace recorded by the reference
cd "$tmp"
"$builddir/qedtool" create -o cluster_size=4k,table_size=4 img.qed 64M >/dev/null
cp img.qed before.qed
cmds=()
for i in $(seq 0 119); do
    off=$(( (i * 7919 % 16000) * 4096 + (i % 3) * 1000 ))
    echo "write -P $((i % 200 + 1)) $off 3000" >>wl.txt
    cmds+=(-c "write -P $((i % 200 + 1)) $off 3000")
    if [ $((i % 4)) -eq 3 ]; then echo flush >>wl.txt; cmds+=(-c flush); fi
done
"$builddir/qedtool" io --trace t.log img.qed "${cmds[@]}" >/dev/null
start=$(now)
out=$("$builddir/qed-conform" crash-check --image before.qed --trace t.log --workload wl.txt \
      --final img.qed -j "$jobs" | tail -n 1)
end=$(now)
rate judge "$(echo "$out" | sed -n 's/^crash-check: \([0-9]*\) crash states.*/\1/p')" "$start" "$end"

# family: every workload through the adapter
start=$(now)
"$builddir/qed-conform" crash --impl ref -j "$jobs" --json family.json >/dev/null
end=$(now)
states=$(grep -o '"message": *"[0-9]* crash states' family.json | grep -o '[0-9]* crash' |
         awk '{s += $1} END {print s + 0}')
cases=$(grep -c '"message": *"[0-9]* crash states' family.json || true)
echo "family: $cases workloads"
rate family "$states" "$start" "$end"
