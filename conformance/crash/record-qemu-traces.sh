#!/bin/sh
# record-qemu-traces.sh - record golden traces from QEMU (make
# traces-qemu): for each chosen reference golden trace, run the same
# workload on the same initial image through QEMU (conformance/adapters/qemu
# io --trace, i.e. QEMU's blklogwrites driver), and write the folder and
# its verdict into corpus/traces/qemu/ (manifest.json, schema
# qedref-traces-1).  QEMU's runs are not byte-for-byte repeatable (requests
# in flight together complete in either order), so these traces are
# recorded once and kept; `make traces-check` judges them again and
# requires the verdict the manifest records.
#
# usage: conformance/crash/record-qemu-traces.sh BUILDDIR
set -eu
b=$(cd "$1" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
adapter=$top/conformance/adapters/qemu
out=$top/corpus/traces/qemu
# reference traces QEMU can run (table_size 1 it refuses: KNOWN-DEVIATIONS.md)
names="ref-cow-qed-64k ref-needcheck-repair ref-second-session-t4 ref-cow-raw-t4"
command -v qemu-io >/dev/null || { echo "record-qemu-traces: qemu-io not installed" >&2; exit 2; }
rm -rf "$out" && mkdir -p "$out"
first=1
{
    printf '{\n  "schema": "qedref-traces-1",\n  "generator": "conformance/crash/record-qemu-traces.sh",\n  "traces": [\n'
    for n in $names; do
        src=$top/corpus/traces/$n
        [ -d "$src" ] || { echo "record-qemu-traces: no $src" >&2; exit 1; }
        d=$out/$n
        mkdir -p "$d"
        cp "$src/image.qed" "$src/workload.txt" "$d/"
        for f in base.raw base.qed; do [ -f "$src/$f" ] && cp "$src/$f" "$d/"; done
        cp "$d/image.qed" "$d/final.qed"
        set --
        while read -r cmd; do set -- "$@" -c "$cmd"; done < "$d/workload.txt"
        (cd "$d" && "$adapter" io --trace trace.log final.qed "$@" >/dev/null)
        rc=0
        "$b/qed-conform" crash-check --image "$d/image.qed" --trace "$d/trace.log" \
            --workload "$d/workload.txt" --final "$d/final.qed" --json "$d/verdict.json" \
            >/dev/null || rc=$?
        [ "$rc" -le 1 ] || { echo "record-qemu-traces: $n: crash-check failed" >&2; exit 1; }
        [ $first -eq 1 ] || printf ',\n'
        first=0
        if [ "$rc" -eq 0 ]; then
            printf '    {"id": "%s", "source": "QEMU (blklogwrites)", "expect": "pass"}' "$n"
        else
            v=$(tr -d '\n' < "$d/verdict.json" | sed 's/.*"violations":\[{"oracle":"\(O[1-5]\)","state":"\([^"]*\)".*/\1 \2/')
            printf '    {"id": "%s", "source": "QEMU (blklogwrites)", "expect": "fail", "oracle": "%s", "state": "%s"}' \
                "$n" "${v% *}" "${v#* }"
        fi
        rm -f "$d/verdict.json"
    done
    printf '\n  ]\n}\n'
} > "$out/manifest.json"
echo "record-qemu-traces: $(echo "$names" | wc -w) traces in $out"
