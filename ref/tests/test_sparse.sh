#!/bin/bash
# test_sparse.sh - convert and compare cost what the images hold, not their
# virtual size (issue 11, item 1), end to end:
#   content   a sparse raw file (holes, data, a run of written zeroes, an
#             unaligned tail) converted raw->qed, qed->raw and raw->raw
#             reads back byte for byte (cmp; qemu-img compare when present)
#   sparse    the raw outputs are sparse (st_blocks about the data) and
#             written zeroes become holes or unallocated clusters, as
#             qemu-img's default -S does
#   scale     a 4 TiB raw file with 1 MiB of data converts both ways and
#             compares within 60 s each: only the data is read (reading
#             every hole, as before, takes hours)
#
# Usage: ref/tests/test_sparse.sh [QEDTOOL]  (default: build/qedtool, or
#   $QEDTOOL); QEMU_IMG names qemu-img (used when present); KEEP=1 keeps
#   the scratch directory.  The scale case is SKIPPED where the scratch
#   file system refuses a 4 TiB sparse file.  Last line: "N passed, N
#   failed, N skipped"; exit 1 on any failure.

set -u

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
QEDTOOL=$(realpath -m "${1:-${QEDTOOL:-$here/../../build/qedtool}}")
QEMU_IMG=${QEMU_IMG:-qemu-img}
[ -x "$QEDTOOL" ] || { echo "test_sparse: $QEDTOOL not found (run make first)" >&2; exit 2; }
HAVE_QEMU=1
command -v "$QEMU_IMG" >/dev/null 2>&1 || HAVE_QEMU=0

WORK=$(mktemp -d "${TMPDIR:-/tmp}/qed-sparse.XXXXXX")
pass=0 fail=0 skip=0
cleanup() { [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"; }
trap cleanup EXIT

Q() { "$QEDTOOL" "$@"; }

# put FILE OFFSET LEN BYTE: write LEN bytes of BYTE (octal, e.g. 132) at
# OFFSET into FILE, in place.
put() {
    head -c "$3" /dev/zero | tr '\0' "\\$4" |
        dd of="$1" bs=64k seek="$2" oflag=seek_bytes conv=notrunc status=none
}

# layout FILE SIZE: a sparse raw file of SIZE bytes: 1 MiB of data at
# 5 MiB, 4 KiB at 20 MiB + 512 (not cluster aligned), 256 KiB of written
# zeroes at 30 MiB (allocated in FILE, zero in content), 3 KiB at the end.
layout() {
    rm -f "$1"
    truncate -s "$2" "$1"
    put "$1" $((5 << 20)) $((1 << 20)) 132
    put "$1" $(((20 << 20) + 512)) 4096 245
    head -c $((256 << 10)) /dev/zero |
        dd of="$1" bs=64k seek=$((30 << 20)) oflag=seek_bytes conv=notrunc status=none
    put "$1" $(($2 - 3072)) 3072 7
}

# allocated FILE MAX: FILE's allocated bytes (st_blocks) are at most MAX.
allocated() {
    local got
    got=$(($(stat -c %b "$1") * $(stat -c %B "$1")))
    [ "$got" -le "$2" ] || { echo "$1: $got bytes allocated, expected <= $2"; return 1; }
}

# within SECONDS CMD...: CMD succeeds within SECONDS.
within() {
    local s=$1 rc=0
    shift
    timeout "$s" "$@" > cmd.out 2> cmd.err || rc=$?
    [ $rc -ne 124 ] || { echo "$*: not done within $s s"; return 1; }
    [ $rc -eq 0 ] || { echo "$*: exit $rc: $(head -c 400 cmd.err)"; return 1; }
}

# run_case NAME FUNC: PASS/FAIL; a case that exits 77 is SKIPPED.
run_case() {
    local name=$1 fn=$2 dir="$WORK/$2" rc
    mkdir -p "$dir"
    (cd "$dir" || exit 2; set -e -o pipefail; "$fn") > "$dir/log" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
        echo "PASS     $name"
        pass=$((pass + 1))
    elif [ $rc -eq 77 ]; then
        echo "SKIPPED  $name ($(tail -n 1 "$dir/log"))"
        skip=$((skip + 1))
    else
        echo "FAIL     $name"
        sed 's/^/    | /' "$dir/log" | tail -25
        fail=$((fail + 1))
    fi
}

# Content: every output reads as the source, byte for byte.
case_content() {
    layout src.raw $(((64 << 20) + 3072))
    Q convert -O qed -o cluster_size=64k src.raw a.qed
    Q convert -O raw a.qed b.raw
    Q convert -f raw -O raw src.raw c.raw
    Q convert -O qed -o cluster_size=4k a.qed d.qed
    cmp src.raw b.raw
    cmp src.raw c.raw
    Q compare src.raw a.qed
    Q compare a.qed d.qed
    Q compare -q b.raw src.raw
    if [ $HAVE_QEMU = 1 ]; then
        "$QEMU_IMG" compare -f raw -F qed src.raw a.qed
        "$QEMU_IMG" compare -f raw -F qed src.raw d.qed
        "$QEMU_IMG" check -f qed a.qed
    fi
    # a difference inside the data and one in a hole are both found
    cp b.raw e.raw
    put e.raw $(((5 << 20) + 4096)) 1 1
    ! Q compare a.qed e.raw > cmp.out
    grep -qx "Content mismatch at offset $(((5 << 20) + 4096))!" cmp.out
    cp b.raw f.raw
    put f.raw $((40 << 20)) 1 1
    ! Q compare f.raw a.qed > cmp.out
    grep -qx "Content mismatch at offset $((40 << 20))!" cmp.out
}

# Sparse: holes and written zeroes stay unallocated in every output.
case_sparse() {
    layout src.raw $(((64 << 20) + 3072))
    Q convert -O qed -o cluster_size=64k src.raw a.qed
    Q convert -O raw a.qed b.raw
    Q convert -f raw -O raw src.raw c.raw
    # data: 1 MiB + 4 KiB + 3 KiB; the file system may round each run up
    allocated b.raw $(((1 << 20) + (64 << 10)))
    allocated c.raw $(((1 << 20) + (64 << 10)))
    # QED: the 1 MiB run, one cluster at 20 MiB, the last one; nothing at 30 MiB
    Q map --output=json a.qed > map.json
    [ "$(grep -c '"data": true' map.json)" -eq 3 ]
    ! grep -q "\"start\": $((30 << 20)), .*\"data\": true" map.json
}

# Scale: 4 TiB of virtual disk, 1 MiB of data; only the data is read.
case_scale() {
    local size=$((4 << 40))
    truncate -s "$size" big.raw 2> /dev/null || { echo "no 4 TiB sparse file here"; exit 77; }
    put big.raw $((3 << 40)) $((1 << 20)) 132
    put big.raw $((size - 512)) 512 7
    within 60 "$QEDTOOL" convert -O qed big.raw big.qed
    within 60 "$QEDTOOL" convert -O raw big.qed back.raw
    within 60 "$QEDTOOL" convert -f raw -O raw big.raw copy.raw
    within 60 "$QEDTOOL" compare big.raw big.qed
    within 60 "$QEDTOOL" compare back.raw big.raw
    within 60 "$QEDTOOL" compare copy.raw big.qed
    allocated back.raw $((2 << 20))
    allocated copy.raw $((2 << 20))
    allocated big.qed $((8 << 20))
    if [ $HAVE_QEMU = 1 ]; then
        within 60 "$QEMU_IMG" compare -f raw -F qed big.raw big.qed
        within 60 "$QEMU_IMG" compare -f raw -F raw big.raw back.raw
    fi
}

run_case "sparse converts keep the content"           case_content
run_case "holes and written zeroes stay unallocated"  case_sparse
run_case "4 TiB with 1 MiB of data: only data is read" case_scale

echo
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
