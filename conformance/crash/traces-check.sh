#!/bin/sh
# traces-check.sh - corpus/traces/ is what `qed-conform crash-golden`
# writes, byte for byte, and every trace there (the reference's, and
# QEMU's under corpus/traces/qemu/ when present) still yields the verdict
# its manifest records.
#
# usage: conformance/crash/traces-check.sh BUILDDIR
set -u
builddir=${1:-build}
qc="$builddir/qed-conform"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/traces-check.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
"$qc" crash-golden --out "$tmp/traces" >/dev/null || exit 1
if ! diff -r -x qemu corpus/traces "$tmp/traces"; then
    echo 'traces-check: corpus/traces differs from the generator (run make traces)'
    exit 1
fi
status=0
for dir in corpus/traces corpus/traces/qemu; do
    [ -f "$dir/manifest.json" ] || continue
    "$qc" crash-golden --check "$dir" || status=1
done
exit $status
