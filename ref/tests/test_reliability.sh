#!/bin/bash
# test_reliability.sh - qedtool's reliability promises (README.md,
# "Reliability"), end to end, each case one promise:
#   locks     a qedtool writer excludes every other writer and reader, a
#             reader excludes writers (two qedtool processes; one holds the
#             image in a long `io` session reading its commands from a
#             FIFO); -U/--force-share reads without the lock and says so;
#             qemu-io refuses an image qedtool holds and qedtool one that
#             qemu-io holds (needs qemu-img and qemu-io)
#   overwrite convert and create refuse a destination that is the source
#             or a file of its backing chain (after links), untouched
#   check     check -r exits with the state of the image after the repair
#   types     a FIFO or a directory as backing file is a one-line error
#             naming it, never a hang (each command under a timeout)
#   fsize     under ulimit -f, EFBIG is reported, the new destination
#             removed, and no SIGXFSZ kills qedtool
#   budget    check -r all (and WR-5 at a read-write open) of an image
#             whose repair would copy about 1 GiB is refused at once, in
#             one line naming the bytes and the budget, the image unchanged
#   blockdev  a raw backing file on a loop device reads the device's bytes
#             (a partial write into a new cluster keeps them), and a QED
#             image on a loop device opens; needs root and losetup
#   untrusted a backing loop is refused at its first repeat (under
#             ulimit -v), the chain's tables bounded; --backing-dir and
#             --no-backing (which never overwrites what it did not open);
#             rebase -u with the old base gone; JSON names;
#             create refuses what open would; qed-conform passes the
#             ref adapter --no-backing where a case needs no backing file
#
# Usage: ref/tests/test_reliability.sh [QEDTOOL]  (default: build/qedtool,
#   or $QEDTOOL); QEMU_IMG, QEMU_IO name QEMU's tools; KEEP=1 keeps the
#   scratch directory.  Cases that need QEMU, or a loop device (root and a
#   working losetup), print SKIPPED without them and are not counted as
#   passed.  Linux only (the lock holder is found in
#   /proc/locks).  Last line: "N passed, N failed, N skipped"; exit 1 on
#   any failure.

set -u

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
    sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
QEDTOOL=$(realpath -m "${1:-${QEDTOOL:-$here/../../build/qedtool}}")
QEMU_IMG=${QEMU_IMG:-qemu-img}
QEMU_IO=${QEMU_IO:-qemu-io}
[ -x "$QEDTOOL" ] || { echo "test_reliability: $QEDTOOL not found (run make first)" >&2; exit 2; }
HAVE_QEMU=1
command -v "$QEMU_IMG" >/dev/null 2>&1 || HAVE_QEMU=0
command -v "$QEMU_IO" >/dev/null 2>&1 || HAVE_QEMU=0

WORK=$(mktemp -d "${TMPDIR:-/tmp}/qed-reliab.XXXXXX")
pass=0 fail=0 skip=0
LOOPS="$WORK/loop-devices"        # the loop devices attached, one a line
# Detach the loop devices this script attached (by name), then clean up.
cleanup() {
    local dev
    if [ -f "$LOOPS" ]; then
        while read -r dev; do losetup -d "$dev" 2>/dev/null; done < "$LOOPS"
    fi
    [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

# ---- helpers used inside cases (each case runs in its own directory,
# under set -e: the first helper that returns non-zero fails the case) ----

Q() { "$QEDTOOL" "$@"; }

# fails RC TEXT CMD...: CMD exits RC and writes exactly one line to
# stderr, containing the fixed string TEXT.
fails() {
    local want=$1 text=$2 rc=0
    shift 2
    "$@" >cmd.out 2>cmd.err || rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "$*: exit $rc, expected $want: $(head -c 400 cmd.err)"
        return 1
    fi
    if ! grep -qF -- "$text" cmd.err; then
        echo "$*: '$text' not in stderr: $(head -c 400 cmd.err)"
        return 1
    fi
    if [ "$(wc -l < cmd.err)" -ne 1 ]; then
        echo "$*: stderr is not one line:"
        cat cmd.err
        return 1
    fi
}

# locked CMD...: CMD is refused because the image is locked (exit 1).
locked() { fails 1 "image is locked by another process" "$@"; }

# same FILE COPY: FILE still holds the bytes saved in COPY.
same() { cmp "$1" "$2" || { echo "$1 was changed"; return 1; }; }

# wait_locked FILE: wait (at most 10 s) until some process holds a lock on
# FILE, as /proc/locks shows.
wait_locked() {
    local ino i
    ino=$(stat -c %i "$1")
    for ((i = 0; i < 100; i++)); do
        grep -q ":$ino " /proc/locks && return 0
        sleep 0.1
    done
    echo "nobody locked $1 within 10 s"
    return 1
}

# hold CMD...: run CMD (a qedtool io or qemu-io session on one image,
# without -c) in the background, its commands coming from fd 7, and wait
# until it holds the image (the last word of CMD).  release closes fd 7,
# which ends the session, and returns its exit status.
hold() {
    rm -f hold.fifo
    mkfifo hold.fifo
    "$@" < hold.fifo > hold.out 2>&1 &
    HOLD_PID=$!
    exec 7> hold.fifo
    wait_locked "${!#}"
}
release() {
    exec 7>&-
    wait "$HOLD_PID"
}

# loop_attach FILE: attach FILE to a free loop device, print its name and
# note it for cleanup.
loop_attach() {
    local dev
    dev=$(losetup -f --show "$1") || return 1
    echo "$dev" >> "$LOOPS"
    echo "$dev"
}

# can_loop: whether loop devices can be made here (root, losetup, and a
# trial attach that works: containers often have no /dev/loop*).
can_loop() {
    local dev
    [ "$(id -u)" = 0 ] && command -v losetup > /dev/null 2>&1 || return 1
    truncate -s 64k "$WORK/loop-probe" &&
        dev=$(loop_attach "$WORK/loop-probe" 2>/dev/null) && [ -b "$dev" ]
}

# run_case NAME FUNC [qemu|loop]: PASS/FAIL, or SKIPPED when the case
# needs QEMU's tools, or loop devices, and they are missing.
run_case() {
    local name=$1 fn=$2 dir="$WORK/$2"
    if [ "${3:-}" = qemu ] && [ $HAVE_QEMU = 0 ]; then
        echo "SKIPPED  $name (needs $QEMU_IMG and $QEMU_IO, not installed)"
        skip=$((skip + 1))
        return
    fi
    if [ "${3:-}" = loop ] && ! can_loop; then
        echo "SKIPPED  $name (needs root and a working losetup)"
        skip=$((skip + 1))
        return
    fi
    mkdir -p "$dir"
    # (not inside if/&&/||: there bash ignores set -e in the whole case)
    (cd "$dir" || exit 2; set -e -o pipefail; "$fn") > "$dir/log" 2>&1
    if [ $? -eq 0 ]; then
        echo "PASS     $name"
        pass=$((pass + 1))
    else
        echo "FAIL     $name"
        sed 's/^/    | /' "$dir/log" | tail -25
        fail=$((fail + 1))
    fi
}

# ---- locks (issue 10, item 1) ------------------------------------------

# While a qedtool writer holds the image, every other qedtool open of it is
# refused in one line naming it, and nothing is written to it; -U reads
# it, with a warning; the writer's own work (sent last: its session's
# output comes only at its end, so nothing could wait for it) is intact
# afterwards.
case_writer_excludes() {
    Q create -q -o cluster_size=4k img.qed 1M
    Q io img.qed -c 'write -P 0x5a 0 64k' > /dev/null
    cp img.qed img.copy
    hold "$QEDTOOL" io img.qed
    locked Q io img.qed -c 'write 0 4k'
    locked Q io -r img.qed -c 'read 0 4k'
    locked Q info img.qed
    locked Q check img.qed
    locked Q check -r all img.qed
    locked Q map img.qed
    locked Q resize img.qed 2M
    locked Q rebase -u img.qed
    locked Q dump img.qed
    locked Q convert img.qed out.raw
    fails 2 "image is locked by another process" Q compare img.qed img.copy
    locked Q create -q img.qed 1M
    locked Q convert -O qed img.copy img.qed
    [ ! -e out.raw ] || { echo "convert left out.raw"; return 1; }
    same img.qed img.copy
    Q info -U img.qed > info.out 2> info.err
    grep -q "virtual size: 1 MiB" info.out
    grep -q "may be inconsistent" info.err
    Q io --force-share -r img.qed -c 'read 0 4k' > /dev/null 2> io.err
    grep -q "may be inconsistent" io.err
    fails 1 "-U (--force-share) reads without a lock, so it needs -r" \
        Q io -U img.qed -c 'read 0 4k'
    fails 1 "it cannot be used with -r" Q check -U -r all img.qed
    echo "write -P 0x5b 64k 4k" >&7
    release
    Q io -r img.qed -c 'read -P 0x5a 0 64k' -c 'read -P 0x5b 64k 4k'
    Q check img.qed
}

# While a qedtool reader holds the image, writers are refused, readers
# are not.
case_reader_excludes_writers() {
    Q create -q img.qed 1M
    Q io img.qed -c 'write -P 0x33 0 4k' > /dev/null
    cp img.qed img.copy
    hold "$QEDTOOL" io -r img.qed
    locked Q io img.qed -c 'write 0 4k'
    locked Q check -r leaks img.qed
    locked Q resize img.qed 2M
    locked Q create -q img.qed 1M
    Q info img.qed > /dev/null
    Q check img.qed > /dev/null
    Q io -r img.qed -c 'read -P 0x33 0 4k' > /dev/null
    Q convert img.qed out.raw
    same img.qed img.copy
    echo "read -P 0x33 0 4k" >&7
    release
    Q io img.qed -c 'write 0 4k' > /dev/null
}

# The backing files of an open overlay are read-locked: the base of an
# image being written cannot be written meanwhile.
case_chain_locked() {
    Q create -q base.qed 1M
    Q create -q -b base.qed -F qed top.qed
    hold "$QEDTOOL" io top.qed
    locked Q io base.qed -c 'write 0 4k'
    Q info base.qed > /dev/null
    release
    Q io base.qed -c 'write 0 4k' > /dev/null
}

# qedtool and QEMU see each other's locks: qemu-io and qemu-img refuse an
# image qedtool writes, qedtool refuses one qemu-io writes; readers of
# both kinds share; -U on either side reads anyway.
case_qemu_sees_qedtool() {
    Q create -q img.qed 1M
    Q io img.qed -c 'write -P 0x44 0 4k' > /dev/null
    hold "$QEDTOOL" io img.qed
    local rc=0
    "$QEMU_IO" -f qed -c 'read 0 4k' img.qed > q.out 2>&1 || rc=$?
    [ $rc -ne 0 ] && grep -q 'Failed to get "write" lock' q.out ||
        { echo "qemu-io opened an image qedtool writes (exit $rc): $(cat q.out)"; return 1; }
    rc=0
    "$QEMU_IMG" info img.qed > q.out 2>&1 || rc=$?
    [ $rc -ne 0 ] && grep -q 'Failed to get shared "write" lock' q.out ||
        { echo "qemu-img info opened an image qedtool writes (exit $rc): $(cat q.out)"; return 1; }
    "$QEMU_IMG" info -U img.qed > /dev/null
    release
    hold "$QEDTOOL" io -r img.qed
    rc=0
    "$QEMU_IO" -f qed -c 'write 0 4k' img.qed > q.out 2>&1 || rc=$?
    [ $rc -ne 0 ] && grep -q 'Failed to get "write" lock' q.out ||
        { echo "qemu-io wrote an image qedtool reads (exit $rc): $(cat q.out)"; return 1; }
    "$QEMU_IMG" info img.qed > /dev/null
    "$QEMU_IO" -r -f qed -c 'read -P 0x44 0 4k' img.qed > /dev/null
    release
}

case_qedtool_sees_qemu() {
    "$QEMU_IMG" create -q -f qed img.qed 1M
    cp img.qed img.copy
    hold "$QEMU_IO" -f qed img.qed
    locked Q io img.qed -c 'write 0 4k'
    locked Q info img.qed
    locked Q check -r all img.qed
    locked Q create -q img.qed 1M
    locked Q convert -O qed img.copy img.qed
    Q info -U img.qed > /dev/null 2>&1
    echo "write -P 0x66 0 4k" >&7
    release
    Q io -r img.qed -c 'read -P 0x66 0 4k' > /dev/null
    hold "$QEMU_IO" -r -f qed img.qed
    locked Q io img.qed -c 'write 0 4k'
    Q info img.qed > /dev/null
    release
}

# ---- no self-overwrite (item 2) ------------------------------------------

# overwrite CMD...: CMD is refused before it writes anything.
overwrite() {
    fails 1 "or a file of its backing chain; refusing to overwrite it" "$@"
}

case_no_self_overwrite() {
    Q create -q a.qed 1M
    Q io a.qed -c 'write -P 0xab 0 64k' > /dev/null
    cp a.qed a.copy
    overwrite Q convert -O qed a.qed a.qed
    overwrite Q convert -O raw a.qed a.qed
    local rc=0                          # -U: the warning, then the refusal
    Q convert -U -O qed a.qed a.qed 2> u.err || rc=$?
    [ $rc -eq 1 ] && grep -q "refusing to overwrite it" u.err ||
        { echo "convert -U a.qed a.qed: exit $rc: $(cat u.err)"; return 1; }
    same a.qed a.copy
    ln -s a.qed link-to-a.qed
    overwrite Q convert -O raw a.qed link-to-a.qed
    overwrite Q convert -O qed link-to-a.qed a.qed
    ln a.qed hard-a.qed
    overwrite Q convert -O raw a.qed hard-a.qed
    same a.qed a.copy
    overwrite Q create -b a.qed -F qed a.qed
    overwrite Q create -b a.qed a.qed 1M
    overwrite Q create -b link-to-a.qed -F qed a.qed
    same a.qed a.copy
    Q io -r a.qed -c 'read -P 0xab 0 64k' > /dev/null
    head -c 65536 /dev/urandom > r.raw
    cp r.raw r.copy
    overwrite Q convert -f raw -O raw r.raw r.raw
    overwrite Q create -b r.raw -F raw r.raw
    same r.raw r.copy
    Q convert -O raw a.qed other.raw              # a real destination works
    Q create -q -b a.qed -F qed b.qed
}

# Every file of the source's backing chain is protected, at any depth.
case_no_chain_overwrite() {
    mkdir sub
    Q create -q base.qed 1M
    Q io base.qed -c 'write -P 0x11 0 4k' > /dev/null
    Q create -q -b base.qed -F qed mid.qed
    Q create -q -b mid.qed -F qed top.qed
    cp base.qed base.copy
    cp mid.qed mid.copy
    overwrite Q convert -O qed top.qed base.qed
    overwrite Q convert -O raw top.qed mid.qed
    overwrite Q create -b top.qed -F qed base.qed
    overwrite Q create -b mid.qed mid.qed
    ln -s ../base.qed sub/b.qed
    overwrite Q convert top.qed sub/b.qed
    same base.qed base.copy
    same mid.qed mid.copy
    Q io -r top.qed -c 'read -P 0x11 0 4k' > /dev/null
}

# ---- check -r exit status (item 5) ----------------------------------------

# A leak in the middle of the file (an L2 entry cleared) and two leaked
# clusters at its end: -r leaks truncates the two, the third stays, so the
# image as it is now has leaks: exit 3, whatever was fixed.
case_check_repair_status() {
    Q create -q -o cluster_size=4k,table_size=1 m.qed 1M
    Q io m.qed -c 'write 0 12k' > /dev/null
    local l2
    l2=$(od -An -tu8 -j 4096 -N 8 m.qed | tr -d ' ')
    dd if=/dev/zero of=m.qed bs=1 seek=$((l2 + 8)) count=8 conv=notrunc status=none
    truncate -s +8192 m.qed
    cp m.qed m2.qed
    local rc=0
    Q check -r leaks --output=json m.qed > check.json || rc=$?
    [ $rc -eq 3 ] || { echo "check -r leaks exit $rc, expected 3"; cat check.json; return 1; }
    grep -q '"leaks": 1' check.json
    grep -q '"leaks-fixed": 2' check.json
    rc=0
    Q check -r all m2.qed > /dev/null || rc=$?
    [ $rc -eq 3 ] || { echo "check -r all exit $rc, expected 3"; return 1; }
    rc=0
    Q check m.qed > /dev/null || rc=$?
    [ $rc -eq 3 ] || { echo "check after repair exit $rc, expected 3"; return 1; }
    # a corruption -r leaks does not touch, with leaks it fixes: 2
    Q create -q -o cluster_size=4k,table_size=1 c.qed 1M
    Q io c.qed -c 'write 0 4k' > /dev/null
    l2=$(od -An -tu8 -j 4096 -N 8 c.qed | tr -d ' ')
    printf '\064\022' | dd of=c.qed bs=1 seek=$((l2 + 8)) conv=notrunc status=none  # 0x1234: TBL-2
    truncate -s +8192 c.qed
    rc=0
    Q check -r leaks c.qed > /dev/null || rc=$?
    [ $rc -eq 2 ] || { echo "check -r leaks on a corrupt image exit $rc, expected 2"; return 1; }
    # everything fixed: 0
    Q create -q -o cluster_size=4k,table_size=1 z.qed 1M
    Q io z.qed -c 'write 0 4k' > /dev/null
    truncate -s +8192 z.qed
    Q check -r leaks z.qed > /dev/null
    Q check z.qed > /dev/null
}

# ---- special files (item 7) ------------------------------------------------

# A backing file that is a FIFO (or a directory) gives one line naming it
# and its type, at once; every command runs under a 10 s timeout, whose
# exit status 124 would fail the case.
case_fifo_backing() {
    truncate -s 1M base.raw
    Q create -q -b base.raw -F raw e.qed
    rm base.raw
    mkfifo base.raw
    local t="qedtool: e.qed: backing file 'base.raw': is a FIFO, not a regular file or block device (BACK-5)"
    fails 1 "$t" timeout 10 "$QEDTOOL" info e.qed
    fails 1 "$t" timeout 10 "$QEDTOOL" check e.qed
    fails 1 "$t" timeout 10 "$QEDTOOL" map e.qed
    fails 1 "$t" timeout 10 "$QEDTOOL" convert e.qed out.raw
    fails 2 "$t" timeout 10 "$QEDTOOL" compare e.qed e.qed
    fails 1 "$t" timeout 10 "$QEDTOOL" io -r e.qed -c 'read 0 4k'
    fails 1 "qedtool: base.raw: is a FIFO, not a regular file or block device" \
        timeout 10 "$QEDTOOL" create -b base.raw -F raw new.qed 1M
    fails 1 "qedtool: base.raw: is a FIFO, not a regular file or block device" \
        timeout 10 "$QEDTOOL" create -b base.raw new.qed
    [ ! -e new.qed ] && [ ! -e out.raw ]
    fails 1 "qedtool: base.raw: is a FIFO" timeout 10 "$QEDTOOL" info base.raw
    rm base.raw
    mkdir base.raw
    fails 1 "qedtool: e.qed: backing file 'base.raw': is a directory, not a regular file or block device (BACK-5)" \
        timeout 10 "$QEDTOOL" info e.qed
    fails 1 "qedtool: base.raw: is a directory, not a regular file or block device" \
        timeout 10 "$QEDTOOL" create -b base.raw -F raw new.qed 1M
}

# ---- file size limit (item 11) ---------------------------------------------

# limited KIB RC TEXT CMD...: under ulimit -f KIB (and no trap of ours:
# qedtool ignores SIGXFSZ itself), CMD exits RC with TEXT on stderr; a
# death by SIGXFSZ would be exit 153.
limited() {
    local kib=$1
    shift
    (ulimit -f "$kib"; fails "$@")
}

case_file_size_limit() {
    Q create -q src.qed 1M
    Q io src.qed -c 'write -P 0x77 0 512k' > /dev/null
    limited 64 1 "qedtool: big.raw: file too large" Q convert -O raw src.qed big.raw
    limited 64 1 "qedtool: big.qed: file too large" Q convert -O qed src.qed big.qed
    limited 64 1 "qedtool: new.qed: file too large" Q create -q new.qed 1M
    [ ! -e big.raw ] && [ ! -e big.qed ] && [ ! -e new.qed ] ||
        { echo "a destination created under the limit was left behind"; ls -l; return 1; }
    # an existing destination is kept (it was not ours to remove)
    : > old.raw
    limited 64 1 "qedtool: old.raw: file too large" Q convert -O raw src.qed old.raw
    [ -e old.raw ]
    cp src.qed w.qed
    limited 600 1 "write failed at offset 524288: file too large" \
        Q io w.qed -c 'write 512k 128k'
}

# ---- bounded repair (item 6) --------------------------------------------------

# le64 N: the 8 little-endian bytes of N.
le64() {
    local i
    for i in 0 1 2 3 4 5 6 7; do
        printf "\\$(printf %03o $(( ($1 >> (8 * i)) & 255 )))"
    done
}

# The hostile image of issue 10, at 4 KiB clusters and table_size 1: all
# 512 L1 entries name the one L2 table, all its 512 entries the one data
# cluster.  A 16 KiB file whose repair would copy 511 tables and 511 * 513
# clusters (about 1 GiB): over the default budget (2 x 16 KiB + 64 MiB),
# check -r all is refused at once and writes nothing (ulimit -f bounds
# what a repair without a budget would write); so is a read-write open
# with NEED_CHECK set (WR-5); a read-only one still reads.
case_repair_budget() {
    Q create -q -o cluster_size=4k,table_size=1 h.qed 1G
    Q io h.qed -c 'write -P 0x5a 0 4k' > /dev/null
    local l2 data i rc=0
    l2=$(od -An -tu8 -j 4096 -N 8 h.qed | tr -d ' ')
    data=$(od -An -tu8 -j "$l2" -N 8 h.qed | tr -d ' ')
    for ((i = 0; i < 512; i++)); do le64 "$l2"; done > l1.bin
    for ((i = 0; i < 512; i++)); do le64 "$data"; done > l2.bin
    dd if=l1.bin of=h.qed bs=4096 seek=1 conv=notrunc status=none
    dd if=l2.bin of=h.qed bs=1 seek="$l2" conv=notrunc status=none
    cp h.qed h.copy
    Q check h.qed > /dev/null || rc=$?
    [ $rc -eq 2 ] || { echo "check exit $rc, expected 2"; return 1; }
    limited 131072 1 "qedtool: h.qed: check failed: repair refused, nothing written: its copies need at least" \
        timeout 20 "$QEDTOOL" check -r all h.qed
    grep -qF "over the repair budget of 67141632 bytes" cmd.err
    same h.qed h.copy
    printf '\002' | dd of=h.qed bs=1 seek=16 conv=notrunc status=none   # NEED_CHECK
    cp h.qed h.copy
    limited 131072 1 "qedtool: h.qed: repair refused: its copies would exceed the repair budget" \
        timeout 20 "$QEDTOOL" io h.qed -c 'write 0 4k'
    same h.qed h.copy
    Q io -r h.qed -c 'read -P 0x5a 0 4k' -c 'read -P 0x5a 1020k 4k' > /dev/null
}

# ---- block devices (item 3) -------------------------------------------------

# A raw backing file on a loop device: its length is the device's (not
# st_size's 0), so create takes the size from it, unallocated clusters
# read its bytes, and a partial write into a new cluster keeps them
# around the write; a QED image on a loop device opens (not FILE-2),
# checks clean, reads and writes in place.
case_block_devices() {
    head -c 1048576 /dev/zero | tr '\0' '\253' > base.img       # 0xab
    local dev img
    dev=$(loop_attach base.img)
    Q create -q -o cluster_size=4k -b "$dev" -F raw top.qed
    Q info top.qed > info.out
    grep -q "virtual size: 1 MiB" info.out ||
        { echo "create -b $dev did not take the device's size:"; cat info.out; return 1; }
    Q io -r top.qed -c 'read -P 0xab 0 1M' > /dev/null
    Q io top.qed -c 'write -P 0x5c 512 512' > /dev/null
    Q io -r top.qed -c 'read -P 0xab 0 512' -c 'read -P 0x5c 512 512' \
        -c 'read -P 0xab 1k 3k' -c 'read -P 0xab 4k 1020k' > /dev/null
    Q check top.qed > /dev/null
    Q create -q -o cluster_size=4k i.qed 1M
    Q io i.qed -c 'write -P 0x77 0 4k' > /dev/null
    img=$(loop_attach i.qed)
    Q info "$img" > info.out
    grep -q "virtual size: 1 MiB" info.out
    Q check "$img" > /dev/null
    Q io "$img" -c 'read -P 0x77 0 4k' -c 'write -P 0x78 0 4k' > /dev/null
    Q io -r "$img" -c 'read -P 0x78 0 4k' > /dev/null
}

# ---- untrusted images (issue 10, items 8-11) ---------------------------

# A backing loop a.qed -> b.qed -> a.qed with 16 MiB tables: refused as a
# loop (BACK-4) at its first repeat, before a.qed's tables load a second
# time, so it fits in 200 MB of address space (following the loop to the
# depth limit took 17 images' tables, about 550 MB).  A chain of distinct
# images whose tables (64 MiB each) exceed max_chain_table_bytes (256 MiB)
# is refused naming the bound.
case_backing_loop() {
    Q create -q -o cluster_size=4M,table_size=4 a.qed 1G
    Q create -q -o cluster_size=4M,table_size=4 -b a.qed b.qed
    Q rebase -u -b b.qed a.qed
    (ulimit -v 200000; fails 1 "qedtool: a.qed: backing file 'a.qed' is a file of the chain above it: a loop (BACK-4)" \
        Q info a.qed)
    Q create -q -o cluster_size=16M,table_size=4 c1.qed 1G
    Q create -q -o cluster_size=16M,table_size=4 -b c1.qed c2.qed
    Q create -q --no-backing -o cluster_size=16M,table_size=4 -b c2.qed c3.qed 1G
    Q info c2.qed > /dev/null
    fails 1 "exceed the limit qed_limits.max_chain_table_bytes = 268435456 bytes" Q info c3.qed
}

# An image's backing name is untrusted: with --backing-dir DIR only names
# inside DIR (after links) are followed, an absolute, escaping or
# linked-out name is refused naming it and nothing is written; with
# --no-backing no backing file is opened, info still works and a read of
# an unallocated range fails clearly.  Without either the name is
# followed, as QEMU does (the "before": convert copies /etc/hostname).
case_untrusted_names() {
    mkdir -p dir/sub out
    : > x
    ln -s /etc dir/etc
    Q create -q -b /etc/hostname -F raw abs.qed 64k
    Q create -q --no-backing -b ../x -F raw dir/sub/up.qed 64k
    Q create -q --no-backing -b etc/hostname -F raw link.qed 64k
    Q convert -O raw abs.qed out/followed.raw        # the default follows
    cmp -n "$(wc -c < /etc/hostname)" /etc/hostname out/followed.raw
    fails 1 "qedtool: abs.qed: backing file name '/etc/hostname' refused: --backing-dir dir takes only relative names" \
        Q convert --backing-dir dir -O raw abs.qed out/abs.raw
    fails 1 "backing file name '../x' refused" Q convert --backing-dir dir/sub -O raw dir/sub/up.qed out/up.raw
    fails 1 "backing file name 'etc/hostname' refused" Q convert --backing-dir dir -O raw link.qed out/link.raw
    fails 1 "backing file name '/etc/hostname' refused" Q map --backing-dir dir abs.qed
    fails 2 "backing file name '/etc/hostname' refused" Q compare --backing-dir dir abs.qed abs.qed
    # a name deeper in the chain: the message says which image holds it
    Q create -q --no-backing -b ../../out/secret.raw -F raw dir/sub/mid.qed 64k
    Q create -q --no-backing -b sub/mid.qed -F qed dir/top2.qed 64k
    fails 1 "'../../out/secret.raw' refused: --backing-dir dir takes only relative names that stay inside it after links are followed (the name is stored in " \
        Q info --backing-dir dir dir/top2.qed
    [ -z "$(ls out | grep -v followed.raw)" ] || { echo "a refused convert wrote: $(ls out)"; return 1; }
    # a chain inside DIR is followed: the top's name resolves in DIR
    Q create -q dir/base.qed 64k
    Q io dir/base.qed -c 'write -P 0x5a 0 4k' > /dev/null
    Q create -q --no-backing -b base.qed -F qed ov.qed 64k
    Q convert --backing-dir dir -O raw ov.qed out/ov.raw
    Q convert -O raw dir/base.qed out/base.raw
    cmp out/ov.raw out/base.raw
    fails 1 "qedtool: ov.qed: backing file 'base.qed' (in --backing-dir dir/sub): No such file or directory" \
        Q info --backing-dir dir/sub ov.qed
    # --no-backing: the header shows, reads of unallocated ranges fail
    Q info --no-backing abs.qed | grep -q '^backing file: /etc/hostname$'
    Q check --no-backing abs.qed > /dev/null
    fails 1 "--no-backing opens no backing file" Q io --no-backing -r -c 'read 0 512' abs.qed
    fails 1 "--no-backing opens no backing file" Q convert --no-backing -O raw abs.qed out/nb.raw
    [ ! -e out/nb.raw ]
    for c in info check map convert compare create resize io; do
        Q help $c | grep -q -- '--no-backing' || { echo "help $c lacks --no-backing"; return 1; }
        Q help $c | grep -q -- '--backing-dir DIR' || { echo "help $c lacks --backing-dir"; return 1; }
    done
}

# --no-backing never costs a byte elsewhere: convert into the unopened
# backing file, or create over a file deeper in BACKING's chain, is
# refused before anything is written; a write that would need the unopened
# backing file's bytes is refused and leaves the image as it was.
case_no_backing_destroys_nothing() {
    printf 'base-bytes' > base.raw
    truncate -s 1M base.raw
    cp base.raw base.orig
    Q create -q -b base.raw -F raw top.qed 1M
    Q create -q -b base.raw -F raw mid.qed 1M
    fails 1 "convert: base.raw exists and --no-backing does not open the backing chain of top.qed" \
        Q convert --no-backing -O raw top.qed base.raw
    cmp base.raw base.orig
    fails 1 "create: base.raw exists and --no-backing does not open the backing chain" \
        Q create -q --no-backing -f qed -b mid.qed -F qed base.raw 1M
    cmp base.raw base.orig
    cp top.qed top.orig
    fails 1 "--no-backing opens no backing file" \
        Q io --no-backing top.qed -c 'write -P 0x11 100 10'
    cmp top.qed top.orig                      # not even NEED_CHECK set
    Q io --no-backing top.qed -c 'write -P 0x11 0 64k' > /dev/null  # whole clusters
    Q check top.qed > /dev/null
}

# rebase -u repoints an overlay whose base has moved (it opens no backing
# file); a missing backing file is named, in quotes, with the system's text.
case_rebase_moved_base() {
    Q create -q base.qed 64k
    Q create -q -b base.qed ov.qed
    mv base.qed moved.qed
    fails 1 "qedtool: ov.qed: backing file 'base.qed': No such file or directory (BACK-5)" Q info ov.qed
    Q rebase -u -b moved.qed ov.qed
    Q info ov.qed | grep -q '^backing file: moved.qed$'
    Q check ov.qed > /dev/null
}

# --output=json is valid JSON (strict UTF-8) whatever bytes the names
# hold: invalid UTF-8 becomes \ufffd, control bytes, quotes and
# backslashes are escaped, well-formed UTF-8 is kept.
case_json_names() {
    local n f
    n=$(printf 'b\377\300\257\355\240\200"q\\\001\tz\303\251\342\202\254.raw')
    f=$(printf 'i\376"\\.qed')
    Q create -q --no-backing -b "$n" -F raw "$f" 64k
    Q info --no-backing --output=json "$f" > info.json
    python3 - info.json <<'PY'
import json, sys
d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8", "strict"))
want_f = 'i\ufffd"\\.qed'
want_b = 'b\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd"q\\\x01\tz\u00e9\u20ac.raw'
assert d["filename"] == want_f, repr(d["filename"])
assert d["backing-filename"] == want_b, repr(d["backing-filename"])
PY
    Q map --no-backing --output=json "$f" | python3 -m json.tool > /dev/null
    Q check --no-backing --output=json "$f" | python3 -m json.tool > /dev/null
}

# create never makes an image open refuses: a geometry whose tables
# exceed max_table_bytes, a name too long, a chain whose tables or depth
# the new image would take past the bound: refused by both with the same
# line, naming the bound and its value, and create leaves no file.
case_create_open_limits() {
    local t="a table of table_size * cluster_size = 1073741824 bytes exceeds the limit qed_limits.max_table_bytes = 67108864 bytes"
    fails 1 "qedtool: big.qed: $t" Q create -q -o cluster_size=64M,table_size=16 big.qed 1G
    [ ! -e big.qed ]
    python3 - <<'PY'
import struct
h = struct.pack('<IIIIQQQQQII', 0x00444551, 1 << 26, 16, 1, 0, 0, 0, 1 << 26, 1 << 30, 0, 0)
with open('big.qed', 'wb') as f:
    f.write(h)
    f.truncate((1 << 26) * 17)
PY
    fails 1 "qedtool: big.qed: $t" Q info big.qed
    fails 1 "names shorter than QED_MAX_BACKING_NAME (4096 bytes)" \
        Q create -q --no-backing -b "$(printf '%04096d' 0)" long.qed 64k
    [ ! -e long.qed ]
    # over a chain: the new image's tables and depth count, as its open
    # counts them (the same line from create -b and from info)
    Q create -q -o cluster_size=16M,table_size=4 c1.qed 1G
    Q create -q -o cluster_size=16M,table_size=4 -b c1.qed c2.qed
    t="qedtool: c3.qed: the tables of its backing chain (the L1 table and the L2 cache of each image) would exceed the limit qed_limits.max_chain_table_bytes = 268435456 bytes"
    fails 1 "$t" Q create -q -b c2.qed c3.qed
    [ ! -e c3.qed ]
    Q create -q --no-backing -b c2.qed c3.qed 1G
    fails 1 "$t" Q info c3.qed
    local i
    Q create -q d0.qed 64k
    for i in $(seq 1 16); do Q create -q -b "d$((i - 1)).qed" "d$i.qed"; done
    Q info d16.qed > /dev/null
    fails 1 "qedtool: d17.qed: backing chain too deep (or a loop) (BACK-4)" Q create -q -b d16.qed d17.qed
    [ ! -e d17.qed ]
    Q create -q --no-backing -b d16.qed d17.qed 64k
    fails 1 "qedtool: d17.qed: backing chain too deep (or a loop) (BACK-4)" Q info d17.qed
}

# qed-conform runs the ref adapter with --no-backing in a case that needs
# no backing file, and without it in one that does (a wrapper qedtool
# next to a copy of qed-conform logs each command line it gets).
case_conform_strict() {
    local conform manifest
    conform=$(dirname "$QEDTOOL")/qed-conform
    manifest=$here/../../corpus/golden/manifest.json
    [ -x "$conform" ] || { echo "$conform not built"; return 1; }
    mkdir bin
    cp "$conform" bin/qed-conform
    printf '#!/bin/sh\nprintf "%%s\\n" "$*" >> "%s/calls.log"\nexec "%s" "$@"\n' \
        "$PWD" "$QEDTOOL" > bin/qedtool
    chmod +x bin/qedtool
    bin/qed-conform --impl ref --manifest "$manifest" --filter 'read/geom-cs4k-ts1' > out.txt
    grep -q '^info --no-backing ' calls.log || { echo "no --no-backing:"; cat calls.log; return 1; }
    grep -q '^convert --no-backing ' calls.log
    : > calls.log
    bin/qed-conform --impl ref --manifest "$manifest" --filter 'read/backing-qed' > out.txt
    grep -q '^info ' calls.log
    if grep -q -- '--no-backing' calls.log; then
        echo "--no-backing in a case that needs its backing file:"; cat calls.log; return 1
    fi
}

run_case "a writer excludes writers and readers"    case_writer_excludes
run_case "a reader excludes writers"                 case_reader_excludes_writers
run_case "an overlay read-locks its backing chain"   case_chain_locked
run_case "qemu-io/qemu-img see qedtool's locks"      case_qemu_sees_qedtool qemu
run_case "qedtool sees qemu-io's locks"              case_qedtool_sees_qemu qemu
run_case "convert/create never overwrite the source" case_no_self_overwrite
run_case "... nor any file of its backing chain"     case_no_chain_overwrite
run_case "check -r exits with the repaired state"    case_check_repair_status
run_case "a FIFO or directory as backing file"       case_fifo_backing
run_case "ulimit -f: EFBIG reported, no SIGXFSZ"     case_file_size_limit
run_case "check -r all: refused over its budget"     case_repair_budget
run_case "block devices: length from the device"    case_block_devices loop
run_case "a backing loop is cheap, the chain bounded" case_backing_loop
run_case "--backing-dir and --no-backing"            case_untrusted_names
run_case "--no-backing destroys nothing elsewhere"   case_no_backing_destroys_nothing
run_case "rebase -u when the old base is gone"       case_rebase_moved_base
run_case "--output=json is valid for any name"       case_json_names
run_case "create refuses what open would refuse"     case_create_open_limits
run_case "qed-conform: ref adapter in strict mode"   case_conform_strict

echo
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
