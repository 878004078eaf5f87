#!/bin/bash
# trace-dump-test.sh - `qed-conform trace dump` on sessions recorded with
# `qedtool io --trace`: every write is labelled with what it hit (header
# fields, L1 and L2 entries, new tables and new data), the order of a first
# allocation is visible (new data and new L2 table, FLUSH, then the L1
# entry: WR-2), and a damaged log fails with exit 2 naming the entry.
#
# Usage: conformance/trace-dump-test.sh BUILDDIR
# Prints "trace-dump: N passed, N failed" and exits non-zero on a failure.

set -u
B=$(cd "${1:-build}" && pwd)
Q=$B/qedtool
C=$B/qed-conform
for t in "$Q" "$C"; do
    [ -x "$t" ] || { echo "trace-dump-test: $t not found (run make first)" >&2; exit 2; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/trace-dump.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 2

passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# entry DUMP TEXT: the index of the first entry whose line holds TEXT.
entry() { grep -F -- "$2" "$1" | head -n 1 | awk '{ print $1 }'; }
# has NAME DUMP TEXT: DUMP holds TEXT.
has() { if grep -qF -- "$3" "$2"; then pass; else fail "$1: '$3' not in: $(cat "$2")"; fi; }
# dump NAME OUT ARGS...: trace dump must exit 0; its output goes to OUT.
dump() {
    local name=$1 out=$2
    shift 2
    if "$C" trace dump "$@" > "$out" 2> err; then pass
    else fail "$name: exit $?: $(cat err)"; fi
}
# before NAME DUMP A B: the entry holding A comes before the one holding B.
before() {
    local a b
    a=$(entry "$2" "$3") b=$(entry "$2" "$4")
    if [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]; then pass
    else fail "$1: '$3' (entry ${a:-none}) not before '$4' (entry ${b:-none})"; fi
}

# A first write into an empty 4 KiB-cluster image, table_size 1.
"$Q" create -o cluster_size=4k,table_size=1 a.qed 1M > /dev/null
cp a.qed a0.qed
"$Q" io --trace a.log a.qed -c 'write -q -P 0x11 20k 4k' -c flush > /dev/null ||
    fail "qedtool io --trace failed"
dump "first allocation" a.dump a.log --image a0.qed
has "header line" a.dump "a.log: 13 entries, 512-byte sectors; initial image: a0.qed (8192 bytes)"
has "WR-1 label" a.dump "header: features 0x0 -> 0x2 (NEED_CHECK set)"
has "new data label" a.dump "new data of logical cluster 5"
has "new L2 table label" a.dump "new L2 table at 12288"
has "L1 entry label" a.dump "L1[0..63] changes [0]"
has "sector and byte ranges" a.dump "sectors 8..8         bytes 4096..4607"
has "mark text" a.dump 'MARK       "flush:0"'
has "WR-4 label" a.dump "header: features 0x2 -> 0x0 (NEED_CHECK cleared)"
has "summary" a.dump "end: 5 writes"
before "WR-1 before the table" a.dump "NEED_CHECK set" "new L2 table"
before "WR-2: table before L1" a.dump "new L2 table" "L1[0..63] changes [0]"
t=$(entry a.dump "new L2 table") l=$(entry a.dump "L1[0..63]")
if sed -n "$((t + 2)),$((l + 1))p" a.dump | grep -q '  FLUSH$'; then pass
else fail "no FLUSH between the L2 table (entry $t) and the L1 entry (entry $l)"; fi

# The second session: the table exists, one L2 entry changes; 4 KiB log
# sectors widen the L2 write to 512 entries.
cp a.qed b0.qed
"$Q" io --trace b.log --trace-sector-size 4096 a.qed -c 'write -q 64k 100' > /dev/null ||
    fail "qedtool io --trace-sector-size 4096 failed"
dump "second session" b.dump b.log --image b0.qed
has "4K sectors" b.dump "4096-byte sectors"
has "L2 entry label" b.dump "L2 table at 12288 [0..511] changes [16]"
has "new data, 4K" b.dump "new data of logical cluster 16"

# Without --image the file starts empty: what the session found already
# there is named from the end of the trace.
dump "no --image" c.dump b.log
has "empty start" c.dump "initial image: an empty file"
has "look-ahead header" c.dump "new header"

# A multi-cluster write: consecutive data clusters merge into one label,
# first as new data, then (rewritten) as referenced data.
cp a.qed d0.qed
"$Q" io --trace d.log a.qed -c 'write -q 24k 8k' -c 'write -q 24k 8k' > /dev/null ||
    fail "qedtool io (d) failed"
dump "two clusters" d.dump d.log --image d0.qed
has "new data range label" d.dump "new data of logical clusters 6..7"
has "data range label" d.dump "  data of logical clusters 6..7"

# The file-length marks of spec 9 are replayed: entry 0 of a session on a
# clean image is the MARK "op:0" at log offset 512; set_mark LOG TEXT
# replaces its text (data_len at +24, the text at +32).
set_mark() {
    cp e.log "$1"
    # shellcheck disable=SC2059  # the format is the length byte, as an escape
    printf "$(printf '\\%03o' "${#2}")"'\0\0\0\0\0\0\0' |
        dd of="$1" bs=1 seek=$((512 + 24)) conv=notrunc 2> /dev/null
    printf '%s' "$2" | dd of="$1" bs=1 seek=$((512 + 32)) conv=notrunc 2> /dev/null
}
"$Q" create -o cluster_size=4k,table_size=1 e.qed 1M > /dev/null
cp e.qed e0.qed
"$Q" io --trace e.log e.qed -c 'write -q 0 4k' > /dev/null || fail "qedtool io (e) failed"
dump "plain" e.dump e.log --image e0.qed
has "plain length" e.dump "file length 16384"
set_mark t.log "truncate:100000"
dump "truncate mark" t.dump t.log --image e0.qed
has "truncate replayed" t.dump "file length 100000"
has "truncate text" t.dump 'MARK       "truncate:100000"'
set_mark t.log "fallocate:0:8192:200000"
dump "fallocate mark" t.dump t.log --image e0.qed
has "fallocate extends" t.dump "file length 208192"
set_mark t.log "fallocate:1:8192:200000"
dump "fallocate KEEP_SIZE" t.dump t.log --image e0.qed
has "KEEP_SIZE keeps the length" t.dump "file length 16384"
set_mark t.log "truncate:12x"
dump "malformed mark" t.dump t.log --image e0.qed
has "malformed mark noted" t.dump '"truncate:12x"  (malformed: not replayed)'
set_mark t.log "refused:mmap"
dump "refused mark" t.dump t.log --image e0.qed
has "refused noted" t.dump "the trace must not be judged"

# Damaged logs: exit 2, one line naming the entry and the field.
size=$(wc -c < a.log)
head -c $((size - 100)) a.log > cut.log
"$C" trace dump cut.log > out 2> err; rc=$?
if [ "$rc" -eq 2 ] && grep -q "^qed-conform: trace dump: cut.log: entry 12: .*nr_entries is 13" err &&
   [ "$(wc -l < err)" -eq 1 ]; then pass
else fail "truncated log: exit $rc: $(cat err)"; fi
cp a.log flags.log
printf '\110' | dd of=flags.log bs=1 seek=$((512 + 16)) conv=notrunc 2> /dev/null
"$C" trace dump flags.log > out 2> err; rc=$?
if [ "$rc" -eq 2 ] && grep -q "entry 0: flags 0x48 has unknown bits 0x40" err; then pass
else fail "unknown flag: exit $rc: $(cat err)"; fi
"$C" trace dump > out 2> err; rc=$?
if [ "$rc" -eq 2 ]; then pass; else fail "no LOG: exit $rc"; fi
"$C" trace dump --help > out 2> err; rc=$?
if [ "$rc" -eq 0 ] && grep -q "^Usage: qed-conform trace dump LOG" out; then pass
else fail "--help: exit $rc"; fi

echo "trace-dump: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
