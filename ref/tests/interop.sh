#!/bin/bash
# interop.sh - interoperability between libqed (qedtool) and QEMU's qed
# driver (qemu-img, qemu-io).
#
# Usage: ref/tests/interop.sh [--help]
#   Environment: QEDTOOL (default build/qedtool), QEMU_IMG, QEMU_IO,
#   KEEP=1 keeps the scratch directory.
#
# Direction 1: images written by QEMU (several geometries, zero clusters,
# raw and QED backing chains, a grown image) must read back byte-identical
# through `qedtool convert -O raw` and `qemu-img convert -O raw`.
# Direction 2: images written by qedtool must pass `qemu-img check` and read
# back right in `qemu-io -c 'read -P ...'`.
# Where QEMU breaks the spec, the case asserts OUR behaviour and prints
# QEMU's as a known deviation naming the rule (see QEMU-DEVIATIONS.md).
# Without qemu-img/qemu-io every case is printed as SKIPPED and not counted
# as passed.  Last line: "N passed, N failed, N skipped"; exit 1 on failure.

set -u

usage() {
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
}
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
    usage
    exit 0
fi

QEDTOOL=$(realpath -m "${QEDTOOL:-build/qedtool}")
QEMU_IMG=${QEMU_IMG:-qemu-img}
QEMU_IO=${QEMU_IO:-qemu-io}
if [ ! -x "$QEDTOOL" ]; then
    echo "interop.sh: $QEDTOOL not found (run make first)" >&2
    exit 2
fi
HAVE_QEMU=1
command -v "$QEMU_IMG" >/dev/null 2>&1 || HAVE_QEMU=0
command -v "$QEMU_IO" >/dev/null 2>&1 || HAVE_QEMU=0

WORK=$(mktemp -d /tmp/qed-interop.XXXXXX)
DEVS="$WORK/deviations"
: > "$DEVS"
pass=0 fail=0 skip=0
cleanup() { [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"; }
trap cleanup EXIT

# ---- helpers used inside cases (each case runs in its own directory) ----

Q() { "$QEDTOOL" "$@"; }
qimg() { "$QEMU_IMG" "$@"; }
# qemu-io in writeback mode; it can exit 0 after a failed command, so its
# output is searched for failures too.
qio() { qio_check -t writeback "$@"; }
qio_check() {
    local out
    out=$("$QEMU_IO" "$@" 2>&1); local rc=$?
    echo "$out"
    [ $rc -eq 0 ] && ! grep -qi "fail\|error\|can't" <<<"$out"
}
# Both converters must produce the same raw bytes.
same_raw() {
    local img=$1
    qimg convert -f qed -O raw "$img" "$img.qemu.raw"
    Q convert -O raw "$img" "$img.ours.raw"
    cmp "$img.qemu.raw" "$img.ours.raw"
}
# Both map the image the same way (qemu-img map's JSON objects).
same_map() {
    qimg map --output=json "$1" | jq -c '.[]' > "$1.qemu.map"
    Q map --output=json "$1" | jq -c '.[]' > "$1.ours.map"
    diff "$1.qemu.map" "$1.ours.map"
}
# Little-endian field access for crafting and inspecting headers.
put_le() {
    local f=$1 off=$2 v=$3 n=$4 s="" i
    for ((i = 0; i < n; i++)); do s+=$(printf '\\x%02x' $(((v >> (8 * i)) & 255))); done
    printf "$s" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}
get_le64() { od -An -tu8 -j "$2" -N 8 "$1" | tr -d ' '; }
# Record a known deviation of QEMU from the spec.
deviation() {
    echo "$1" >> "$DEVS"
    echo "KNOWN DEVIATION: $1"
}

# run_case NAME FUNC: PASS/FAIL/SKIPPED, with the case log on failure.
run_case() {
    local name=$1 fn=$2 dir="$WORK/$2"
    if [ $HAVE_QEMU = 0 ]; then
        echo "SKIPPED  $name (qemu-img/qemu-io not installed)"
        skip=$((skip + 1))
        return
    fi
    mkdir -p "$dir"
    # The case runs as a plain command, not under `if` or `&&`: bash
    # ignores set -e in a subshell whose status is being tested, which
    # would let a failing step inside a case pass unnoticed.
    local rc=0
    (cd "$dir" && set -e -o pipefail && "$fn") > "$dir/log" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
        echo "PASS     $name"
        pass=$((pass + 1))
    else
        echo "FAIL     $name"
        sed 's/^/    | /' "$dir/log" | tail -25
        fail=$((fail + 1))
    fi
    grep '^KNOWN DEVIATION' "$dir/log" | sed 's/^/    /' || true
}

# ---- direction 1: QEMU writes, we read --------------------------------

# Where the writes of a geometry go: across a cluster boundary, across the
# first L2 table's span when it fits in half the image, near the end.
# Sets P2 (the L2-crossing offset) and P4 (the tail offset).
positions() { # cluster table size
    local cs=$1 span=$(($2 * $1 / 8 * $1)) size=$3
    P2=$((span < size / 2 ? span - 1024 : size / 2 - 1024))
    P4=$((size - 3 * cs))
}

qemu_geometry() { # cluster table size
    local cs=$1 ts=$2
    positions "$@"
    qimg create -f qed -o cluster_size=$cs,table_size=$ts g.qed $3
    qio -f qed -c "write -P 0x11 0 $((cs + 512))" -c "write -P 0x22 $P2 2048" \
        -c "write -P 0x33 $((3 * cs + 100)) 700" -c "write -P 0x44 $P4 $((2 * cs))" g.qed
    same_raw g.qed
    Q io -r g.qed -c "read -P 0x11 0 $((cs + 512))" -c "read -P 0x22 $P2 2048" \
        -c "read -P 0x44 $P4 $((2 * cs))" -c "read -P 0 $((P4 + 2 * cs)) $cs"
    Q check g.qed
}
case_q_64k() { qemu_geometry 65536 4 $((64 << 20)); }
case_q_4k_t2() { qemu_geometry 4096 2 $((16 << 20)); }
case_q_8k_t16() { qemu_geometry 8192 16 $((512 << 20)); }
case_q_2m_t2() { qemu_geometry $((2 << 20)) 2 $((64 << 20)); }

# table_size 1: QEMU creates such images but cannot open them.
case_q_table1() {
    qimg create -f qed -o cluster_size=4096,table_size=1 t1.qed 8M
    Q check t1.qed
    Q io t1.qed -c 'write -P 0x5c 2093056 8192' -c 'read -P 0x5c 2093056 8192'
    Q check t1.qed
    if ! qimg info t1.qed > qemu.out 2>&1; then
        deviation "HDR-3/HDR-8: qemu-img opens no table_size=1 image, even its own ($(tail -1 qemu.out))"
    fi
}

# Zero clusters (write -z): aligned over unallocated and allocated clusters,
# and unaligned.
case_q_zero() {
    qimg create -f qed -o cluster_size=4096,table_size=2 z.qed 16M
    qio -f qed -c 'write -P 0x66 0 64k' -c 'write -z 8k 8k' -c 'write -z 1M 64k' \
        -c 'write -z 30000 1000' z.qed
    same_raw z.qed
    Q io -r z.qed -c 'read -P 0 8k 8k' -c 'read -P 0x66 16k 13000' -c 'read -P 0 1M 64k'
    same_map z.qed
}

case_q_raw_backing() {
    qimg create -f raw base.raw 6M
    qio -f raw -c 'write -P 0xba 0 6M' base.raw
    qimg create -f qed -b base.raw -F raw -o cluster_size=4096,table_size=2 top.qed 8M
    qio -f qed -c 'write -P 0x01 5000 100' -c 'write -z 64k 8k' -c 'write -P 0x02 6M 8k' top.qed
    same_raw top.qed
    same_map top.qed
    Q io -r top.qed -c 'read -P 0xba 0 5000' -c 'read -P 0x01 5000 100' \
        -c 'read -P 0 64k 8k' -c 'read -P 0xba 72k 4k' -c 'read -P 0 7M 4k'
    Q info --output=json top.qed | jq -e '."backing-filename-format" == "raw"'
}

case_q_qed_chain() {
    mkdir -p sub
    qimg create -f qed -o cluster_size=4096,table_size=2 sub/base.qed 8M
    qio -f qed -c 'write -P 0xb0 0 8M' sub/base.qed
    qimg create -f qed -b base.qed -F qed -o cluster_size=8192,table_size=2 sub/mid.qed 8M
    qio -f qed -c 'write -P 0xb1 1M 1M' sub/mid.qed
    qimg create -f qed -b sub/mid.qed -F qed top.qed 8M
    qio -f qed -c 'write -P 0xb2 1536k 8k' -c 'write -z 4M 64k' top.qed
    same_raw top.qed
    same_map top.qed
    Q io -r top.qed -c 'read -P 0xb0 0 1M' -c 'read -P 0xb1 1M 512k' \
        -c 'read -P 0xb2 1536k 8k' -c 'read -P 0 4M 64k'
    (cd / && "$QEDTOOL" io -r "$OLDPWD/top.qed" -c 'read -P 0xb1 1M 4k')
}

case_q_short_backing() {
    qimg create -f raw base.raw 1M
    truncate -s $((1048576 + 700)) base.raw
    qio -f raw -c 'write -P 0x3c 0 1049276' base.raw 2>/dev/null || \
        qio -f raw -c 'write -P 0x3c 0 1M' base.raw
    qimg create -f qed -b base.raw -F raw -o cluster_size=4096,table_size=2 top.qed 4M
    qio -f qed -c 'write -P 0x7e 1M 100' top.qed
    same_raw top.qed
}

case_q_resize() {
    qimg create -f qed -o cluster_size=4096,table_size=2 r.qed 1M
    qio -f qed -c 'write -P 0x31 1020k 4k' r.qed
    qimg resize -f qed r.qed 6M
    qio -f qed -c 'write -P 0x32 5M 64k' r.qed
    same_raw r.qed
    Q info --output=json r.qed | jq -e '."virtual-size" == 6291456'
}

# A dirty image (NEED_CHECK) left by an aborted QEMU session without a
# backing file; and the backing-file case, where QEMU skips NEED_CHECK.
case_q_aborted() {
    qimg create -f qed -o cluster_size=4096,table_size=2 d.qed 8M
    qio -f qed -c 'write -P 0x66 4096 512' -c abort d.qed || true
    [ "$(get_le64 d.qed 16)" = 2 ]
    Q io -r d.qed -c 'read -P 0x66 4096 512'
    Q io d.qed -c 'read -P 0x66 4096 512'          # WR-5 repairs, clears
    [ "$(get_le64 d.qed 16)" = 0 ]
    qimg check d.qed
    qimg create -f raw base.raw 8M
    qimg create -f qed -b base.raw -F raw -o cluster_size=4096,table_size=2 b.qed 8M
    qio -f qed -c 'write -P 0x67 4096 512' -c abort b.qed || true
    Q check b.qed
    Q io -r b.qed -c 'read -P 0x67 4096 512' -c 'read -P 0 0 4096'
    if [ "$(get_le64 b.qed 16)" = 5 ]; then
        deviation "WR-1: with a backing file QEMU updates L2/L1 tables without setting NEED_CHECK first (features 0x5 after an aborted allocating write)"
    fi
}

# Check counts agree on a leak.
case_q_check_leak() {
    qimg create -f qed -o cluster_size=4096,table_size=2 l.qed 8M
    qio -f qed -c 'write -P 1 0 8k' l.qed
    truncate -s +8192 l.qed
    rc=0; qimg check --output=json l.qed > qemu.json || rc=$?
    [ $rc = 3 ]
    rc=0; Q check --output=json l.qed > ours.json || rc=$?
    [ $rc = 3 ]
    [ "$(jq .leaks qemu.json)" = 2 ] && [ "$(jq .leaks ours.json)" = 2 ]
    Q check -r leaks l.qed
    qimg check l.qed
}

# Backing names with a NUL byte (HDR-13) and header_size 0 (HDR-4).
case_q_header_rules() {
    qimg create -f raw base.raw 1M
    qimg create -f qed -b base.raw -F raw -o cluster_size=4096,table_size=2 n.qed 1M
    put_le n.qed 66 0 1
    if Q info n.qed > ours.out 2>&1; then cat ours.out; false; fi
    grep -q 'HDR-13' ours.out
    if qimg info n.qed > qemu.out 2>&1; then
        deviation "HDR-13: QEMU opens an image whose backing name holds a NUL byte and uses the name cut at the NUL ($(grep 'backing file:' qemu.out))"
    fi
    qimg create -f qed -o cluster_size=4096,table_size=2 h.qed 1M
    put_le h.qed 12 0 4
    if Q info h.qed > ours.out 2>&1; then cat ours.out; false; fi
    grep -q 'HDR-4' ours.out
    if qimg info h.qed > /dev/null 2>&1; then
        deviation "HDR-4: QEMU opens (and writes) an image with header_size 0"
    fi
}

# ---- direction 2: we write, QEMU reads --------------------------------

ours_geometry() { # cluster table size
    local cs=$1 ts=$2
    positions "$@"
    Q create -q -o cluster_size=$cs,table_size=$ts o.qed $3
    Q io o.qed -c "write -P 0x11 0 $((cs + 512))" -c "write -P 0x22 $P2 2048" \
        -c "write -P 0x33 $((4 * cs)) $((2 * cs))" -c "write -z $((4 * cs)) $((2 * cs))" \
        -c "write -P 0x44 $P4 $((2 * cs))"
    qimg check o.qed
    qio_check -r -f qed -c "read -P 0x11 0 $((cs + 512))" -c "read -P 0x22 $P2 2048" \
        -c "read -P 0 $((4 * cs)) $((2 * cs))" -c "read -P 0x44 $P4 $((2 * cs))" o.qed
    same_raw o.qed
}
case_o_64k() { ours_geometry 65536 4 $((64 << 20)); }
case_o_4k_t2() { ours_geometry 4096 2 $((16 << 20)); }
case_o_16k_t8() { ours_geometry 16384 8 $((1 << 30)); }
# 2 MiB clusters with table 16: the maximum size is 2^65 bytes, which QEMU
# computes with 64-bit wrap-around.
case_o_2m_t16() {
    Q create -q -o cluster_size=2M,table_size=16 o.qed 128M
    Q io o.qed -c 'write -P 0x21 2M 4M' -c 'write -P 0x22 120M 1000'
    Q check o.qed
    Q io -r o.qed -c 'read -P 0x21 2M 4M' -c 'read -P 0x22 120M 1000' -c 'read -P 0 0 2M'
    if ! qimg check o.qed > qemu.out 2>&1; then
        deviation "HDR-10: QEMU computes the maximum image size with 64-bit wrap-around and refuses valid images with 2 MiB clusters and table_size 16 ($(tail -1 qemu.out))"
    fi
    if ! qimg create -f qed -o cluster_size=4M,table_size=4 q.qed 128M > qemu.out 2>&1; then
        deviation "HDR-10: qemu-img create refuses cluster_size=4M,table_size=4 ($(tail -1 qemu.out))"
    fi
}

case_o_table1() {
    Q create -q -o cluster_size=4096,table_size=1 o1.qed 8M
    Q io o1.qed -c 'write -P 0x12 2093056 8192'
    Q check o1.qed
    Q convert -O raw o1.qed o1.raw
    cmp <(dd if=o1.raw bs=4096 skip=511 count=2 status=none) <(head -c 8192 /dev/zero | tr '\0' '\022')
    if ! qimg check o1.qed > qemu.out 2>&1; then
        deviation "HDR-3/HDR-8: qemu-img check refuses our valid table_size=1 image ($(tail -1 qemu.out))"
    fi
}

case_o_raw_backing() {
    qimg create -f raw base.raw 4M
    qio -f raw -c 'write -P 0xba 0 4M' base.raw
    Q create -q -b base.raw -F raw -o cluster_size=4096,table_size=2 top.qed 8M
    Q io top.qed -c 'write -P 0x01 5000 100' -c 'write -z 64k 8k' -c 'write -P 0x02 5M 4k'
    qimg check top.qed
    qimg info --output=json top.qed | jq -e '."backing-filename-format" == "raw"'
    qio_check -r -f qed -c 'read -P 0xba 0 5000' -c 'read -P 0x01 5000 100' -c 'read -P 0xba 5100 3092' \
        -c 'read -P 0 64k 8k' -c 'read -P 0xba 72k 4k' -c 'read -P 0 4M 1M' -c 'read -P 0x02 5M 4k' top.qed
    same_raw top.qed
}

case_o_qed_chain() {
    Q create -q -o cluster_size=4096,table_size=2 base.qed 8M
    Q io base.qed -c 'write -P 0xc0 0 8M'
    Q create -q -b base.qed -F qed -o cluster_size=8192,table_size=2 mid.qed
    Q io mid.qed -c 'write -P 0xc1 1M 1M'
    Q create -q -b mid.qed top.qed 8M
    Q io top.qed -c 'write -P 0xc2 1536k 8k' -c 'write -z 4M 64k'
    qimg check top.qed
    qio_check -r -f qed -c 'read -P 0xc0 0 1M' -c 'read -P 0xc1 1M 512k' \
        -c 'read -P 0xc2 1536k 8k' -c 'read -P 0 4M 64k' -c 'read -P 0xc0 5M 1M' top.qed
    same_raw top.qed
    same_map top.qed
}

case_o_resize_rebase() {
    Q create -q -o cluster_size=4096,table_size=2 r.qed 1M
    Q io r.qed -c 'write -P 0x31 1020k 4k'
    Q resize r.qed 6M
    Q io r.qed -c 'write -P 0x32 5M 64k'
    qimg check r.qed
    qimg info --output=json r.qed | jq -e '."virtual-size" == 6291456'
    qio_check -r -f qed -c 'read -P 0x31 1020k 4k' -c 'read -P 0 1M 4M' -c 'read -P 0x32 5M 64k' r.qed
    qimg create -f raw new.raw 6M
    qio -f raw -c 'write -P 0x9e 0 6M' new.raw
    Q rebase -u -b new.raw -F raw r.qed
    qimg info --output=json r.qed | jq -e '."backing-filename" == "new.raw"'
    qio_check -r -f qed -c 'read -P 0x9e 0 1020k' -c 'read -P 0x31 1020k 4k' r.qed
}

case_o_convert_from_raw() {
    qimg create -f raw src.raw 3M
    qio -f raw -c 'write -P 0x5d 100k 300k' -c 'write -P 0x5e 2M 4k' src.raw
    Q convert -O qed -o cluster_size=4096,table_size=2 src.raw c.qed
    qimg check c.qed
    qimg compare -f raw -F qed src.raw c.qed
}

case_o_leak_repair() {
    Q create -q -o cluster_size=4096,table_size=2 l.qed 8M
    Q io l.qed -c 'write -P 1 0 8k'
    truncate -s +4096 l.qed
    rc=0; Q check l.qed || rc=$?
    [ $rc = 3 ]
    rc=0; qimg check l.qed || rc=$?
    [ $rc = 3 ]
    Q check -r leaks l.qed
    qimg check l.qed
}

run_case "qemu writes 64K/table 4, we read"          case_q_64k
run_case "qemu writes 4K/table 2, we read"           case_q_4k_t2
run_case "qemu writes 8K/table 16, we read"          case_q_8k_t16
run_case "qemu writes 2M/table 2, we read"           case_q_2m_t2
run_case "qemu table_size 1"                         case_q_table1
run_case "qemu zero clusters, map agrees"            case_q_zero
run_case "qemu raw backing, map agrees"             case_q_raw_backing
run_case "qemu QED chain, relative names, map agrees" case_q_qed_chain
run_case "qemu short backing file"                   case_q_short_backing
run_case "qemu resize"                               case_q_resize
run_case "qemu aborted sessions (NEED_CHECK)"        case_q_aborted
run_case "check counts agree on leaks"               case_q_check_leak
run_case "header rules QEMU relaxes"                 case_q_header_rules
run_case "we write 64K/table 4, qemu reads"          case_o_64k
run_case "we write 4K/table 2, qemu reads"           case_o_4k_t2
run_case "we write 16K/table 8, qemu reads"          case_o_16k_t8
run_case "we write 2M/table 16, qemu reads"          case_o_2m_t16
run_case "we write table_size 1"                     case_o_table1
run_case "we write over raw backing, qemu reads"     case_o_raw_backing
run_case "we write a QED chain, qemu reads"          case_o_qed_chain
run_case "we resize and rebase, qemu reads"          case_o_resize_rebase
run_case "we convert raw to qed, qemu compares"      case_o_convert_from_raw
run_case "we repair leaks, qemu agrees"              case_o_leak_repair

if [ -s "$DEVS" ]; then
    echo
    echo "Known QEMU deviations from the spec (see ref/tests/QEMU-DEVIATIONS.md):"
    sort -u "$DEVS" | sed 's/^/  /'
fi
echo
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
