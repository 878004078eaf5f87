#!/bin/sh
# test-shim-qemu.sh - make test-shim-qemu: the shim's acceptance test.
#
# Usage: conformance/crash/shim/test-shim-qemu.sh BUILDDIR
#
# The same qemu-io workloads recorded by QEMU's blklogwrites driver and by
# libqedtrace.so must give the same trace (qemu-compare.sh: the same
# flushes, the same writes between them with the same sectors and data,
# byte-identical images), at log sector sizes 512 and 4096; traces of two
# different workloads must not compare equal; and QEMU's own asynchronous
# back ends (aio=native, aio=io_uring) must be refused by the shim.
#
# Without qemu-io or qemu-img it prints SKIPPED and exits 0 (make test goes
# on; a skip is never counted as a pass).
set -u

[ $# -eq 1 ] || { echo "usage: $0 BUILDDIR" >&2; exit 2; }
QEMU_IMG=${QEMU_IMG:-qemu-img}
QEMU_IO=${QEMU_IO:-qemu-io}
if ! command -v "$QEMU_IO" > /dev/null || ! command -v "$QEMU_IMG" > /dev/null; then
    echo "test-shim-qemu: SKIPPED (qemu-io or qemu-img not installed)"
    exit 0
fi
build=$(cd "$1" && pwd) || exit 2
here=$(cd "$(dirname "$0")" && pwd)
compare=$here/qemu-compare.sh
st=$build/shim-test
work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT
pass=0 fail=0

ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "test-shim-qemu: FAIL: $*"; }

# workload NAME QEMU-COMPARE-ARGS...: at both sector sizes.
workload() {
    w_name=$1
    shift
    for ss in 512 4096; do
        if out=$("$compare" --builddir "$build" --name "$w_name/$ss" --sector-size "$ss" \
                 --keep "$work/$w_name-$ss" "$@" 2>&1); then
            ok
        else
            bad "$out"
        fi
    done
}

workload alloc -c 'write -P 0x41 66048 4096'
workload alloc-raw-backing --backing raw -c 'write -P 0x41 66048 4096'
workload zeroes --backing raw -c 'write -z 1M 64k' -c 'write -z 2M 1000'
workload zeroes-no-backing -c 'write -z 1M 64k' -c 'write -z 2M 1000' -c 'write -P 0x45 3M 4k'
workload write-flush-write -c 'write -P 0x41 0 4k' -c flush -c 'write -P 0x42 1M 100k'
workload qed-backing-4k --backing qed --create-opts cluster_size=4k,table_size=2 \
    -c 'write -P 0x41 5000 10000' -c flush -c 'write -z 0 4k'
workload second-session --setup 'write -P 0x11 0 64k' -c 'write -P 0x44 32k 64k'
workload concurrent --setup 'write -P 0x11 0 1M' -c 'aio_write -P 0x41 0 64k' \
    -c 'aio_write -P 0x42 64k 64k' -c 'aio_write -P 0x43 128k 64k' \
    -c 'aio_write -P 0x44 192k 64k' -c aio_flush
workload concurrent-alloc --backing raw -c 'aio_write -P 0x41 0 64k' \
    -c 'aio_write -P 0x42 1M 64k' -c 'aio_write -P 0x43 2M 5000' -c aio_flush
# QEMU's WR-1 deviation (KNOWN-DEVIATIONS.md, crash section): both
# recorders must give the same failing verdict, O2 included.
workload second-session-wr1 --create-opts cluster_size=4k,table_size=4 \
    --setup 'write -P 0x5a 0 4k' -c 'write -P 0x22 4796 1500'
for ss in 512 4096; do
    if grep -q '^O2 state' "$work/second-session-wr1-$ss/shim.verdict" 2>/dev/null; then
        ok
    else
        bad "second-session-wr1/$ss: the shim's trace does not show QEMU's WR-1 break (O2)"
    fi
done

# Two different workloads: their traces must not compare equal.
if [ -f "$work/alloc-512/blk.log" ] && [ -f "$work/write-flush-write-512/shim.log" ]; then
    if "$st" compare --epochs "$work/alloc-512/blk.log" \
           "$work/write-flush-write-512/shim.log" > /dev/null 2>&1; then
        bad "the traces of two different workloads compare equal"
    else
        ok
    fi
fi

# QEMU's asynchronous back ends, under the shim: refused (not silently
# missed).  Each needs what the host may not offer (O_DIRECT, io_uring):
# when QEMU cannot open the image that way even without the shim, skip.
refused_backend() {
    r_aio=$1 r_what=$2 r_opts=$3
    r=$work/aio-$r_aio
    if ! mkdir "$r" || ! "$QEMU_IMG" create -q -f qed "$r/img" 4M; then
        bad "aio=$r_aio: cannot create $r/img"
        return
    fi
    r_image="driver=qed,file.driver=file,file.filename=$r/img,file.aio=$r_aio$r_opts"
    if ! "$QEMU_IO" --image-opts -c 'read 0 4k' "$r_image" > /dev/null 2>&1; then
        echo "test-shim-qemu: SKIPPED aio=$r_aio (QEMU cannot use it here)"
        return
    fi
    if QEDTRACE_FILE=$r/img QEDTRACE_LOG=$r/log LD_PRELOAD=$build/libqedtrace.so \
           "$QEMU_IO" --image-opts -c 'write -P 0x41 0 4k' -c flush "$r_image" \
           > /dev/null 2> "$r/stderr" &&
       "$st" check-refusals "$r/log" "refused:$r_what" > /dev/null &&
       grep -q "^qedtrace: refused: $r_what (pid" "$r/stderr"; then
        ok
    else
        bad "aio=$r_aio under the shim: expected the MARK refused:$r_what"
    fi
}
refused_backend native 'Linux native AIO (io_submit) on the file' ',file.cache.direct=on'
refused_backend io_uring io_uring ''

echo "test-shim-qemu: $pass passed, $fail failed"
[ $fail -eq 0 ]
