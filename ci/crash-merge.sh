#!/bin/sh
# crash-merge.sh - merge the crash family's shard results (the CI matrix of
# .github/workflows/crash.yml) and judge them.
#
# usage: ci/crash-merge.sh SHARD_DIR BUILDDIR
#   SHARD_DIR holds crash-ref-K.json and crash-qemu-K.json from
#   `qed-conform crash --impl IMPL --shard K/N --json ...`.  Writes
#   BUILDDIR/crash-IMPL.json and .xml (one report per implementation) and
#   BUILDDIR/crash.html (both side by side).  Exit 0 when the reference
#   passed every case and QEMU failed exactly the known crash deviations
#   (conformance/KNOWN-DEVIATIONS.md), 1 otherwise.
set -u
shards=$1
b=$2
qc=$b/qed-conform
status=0
"$qc" --merge "$b/crash-ref.json" --junit "$b/crash-ref.xml" "$shards"/crash-ref-*.json \
    > "$b/crash-ref.summary" || status=1
echo "ref: $(tail -n 1 "$b/crash-ref.summary")"
if ls "$shards"/crash-qemu-*.json >/dev/null 2>&1; then
    "$qc" --merge "$b/crash-qemu.json" --junit "$b/crash-qemu.xml" "$shards"/crash-qemu-*.json \
        > "$b/crash-qemu.summary"
    echo "qemu: $(tail -n 1 "$b/crash-qemu.summary")"
    sed -n 's/^  FAIL \([^ ]*\) .*/\1/p' "$b/crash-qemu.summary" > "$b/crash-qemu.failing"
    "$(dirname "$0")/../conformance/crash/conform-crash-qemu.sh" --failing "$b/crash-qemu.failing" ||
        status=1
    "$qc" --html-merge "$b/crash.html" "$b/crash-ref.json" "$b/crash-qemu.json"
else
    "$qc" --html-merge "$b/crash.html" "$b/crash-ref.json"
fi
exit $status
