#!/bin/bash
# test_cli_errors.sh - qedtool's error paths and less travelled options.
#
# Usage: ref/tests/test_cli_errors.sh [QEDTOOL]  (default: build/qedtool, or $QEDTOOL)
#
# Every case runs one qedtool command and checks its exact exit status and
# a fixed fragment of its stdout or stderr: usage errors of each
# subcommand, the option scanner, size parsing, missing and invalid files,
# damaged images through every subcommand, dump's verdicts on broken
# headers and tables, compare/convert/rebase/resize/io edge cases, and the
# human and JSON outputs.  Images are built with qedtool itself and damaged
# with dd.  Needs bash, dd, head, truncate and script (util-linux, for the
# one progress case that needs a terminal).  Prints "N passed, N failed"
# and exits 1 when any case failed.

set -u

here=$(cd "$(dirname "$0")" && pwd)
Q=${1:-${QEDTOOL:-$here/../../build/qedtool}}
Q=$(cd "$(dirname "$Q")" && pwd)/$(basename "$Q")
[ -x "$Q" ] || { echo "test_cli_errors: $Q not found (run make first)" >&2; exit 2; }

T=$(mktemp -d "${TMPDIR:-/tmp}/qedtool-err.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 2

passed=0 failed=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# run WANT_RC CMD...: run CMD (stdout to out, stderr to err) and check its
# exit status.
run() {
    local want=$1 got
    shift
    "$@" >out 2>err
    got=$?
    if [ "$got" -eq "$want" ]; then pass; else
        fail "$*: exit $got, expected $want: $(head -c 300 err)"; fi
}

# has FILE TEXT: FILE (out or err) contains the fixed string TEXT.
has() {
    if grep -qF -- "$2" "$1"; then pass; else
        fail "'$2' not in $1 of the last command: $(head -c 300 "$1")"; fi
}

# expect WANT_RC STREAM TEXT CMD...: run, then has STREAM TEXT.
expect() {
    local want=$1 stream=$2 text=$3
    shift 3
    run "$want" "$@"
    has "$stream" "$text"
}

# empty FILE: the last command wrote nothing there.
empty() {
    if [ ! -s "$1" ]; then pass; else fail "$1 not empty: $(head -c 200 "$1")"; fi
}

# is_file PATH / no_file PATH
is_file() { if [ -f "$1" ]; then pass; else fail "$1 missing"; fi; }
no_file() { if [ ! -e "$1" ]; then pass; else fail "$1 exists"; fi; }

# put_le N FILE OFF VALUE: store VALUE as N little-endian bytes at OFF.
put_le() {
    local n=$1 f=$2 off=$3 v=$4 i s=""
    for ((i = 0; i < n; i++)); do
        s+=$(printf '\\x%02x' $(((v >> (8 * i)) & 255)))
    done
    printf "$s" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}

# json FILE KEY: the value of "KEY" in qedtool's one-key-per-line JSON.
json() { sed -n "s/^ *\"$2\": \\(.*\\)/\\1/p" "$1" | sed 's/,$//'; }

# expect_json KEY VALUE: in the last command's out.
expect_json() {
    local got
    got=$(json out "$1")
    if [ "$got" = "$2" ]; then pass; else fail "json \"$1\" is '$got', expected '$2'"; fi
}

# ---------------------------------------------------------------------
# Fixtures: d.qed (4 KiB clusters, 1-cluster tables, 1 MiB, two data
# clusters: L1 at 0x1000, data at 0x2000/0x3000, L2 at 0x4000), a raw file,
# a QED base with data and an overlay chain on it.
# ---------------------------------------------------------------------

"$Q" create -q -o cluster_size=4k,table_size=1 d.qed 1M
"$Q" io d.qed -c 'write -q -P 0x11 0 8k' >/dev/null
head -c 100000 /dev/urandom > base.raw
"$Q" create -q -o cluster_size=4k,table_size=1 b.qed 64k
"$Q" io b.qed -c 'write -q -P 0x22 32k 4k' >/dev/null
"$Q" create -q -b b.qed -o cluster_size=4k,table_size=1 mid.qed
"$Q" create -q -b mid.qed -o cluster_size=4k,table_size=1 top.qed
"$Q" io top.qed -c 'write -q -P 0x33 0 4k' >/dev/null
[ -s d.qed ] && [ -s top.qed ] || { echo "test_cli_errors: fixtures failed" >&2; exit 2; }

# ---------------------------------------------------------------------
# Dispatch, help, version
# ---------------------------------------------------------------------

expect 1 err "qedtool: no command given (see 'qedtool --help')" "$Q"
expect 1 err "qedtool: unknown command 'bogus' (see 'qedtool --help')" "$Q" bogus
expect 1 err "qedtool: help: unknown command 'bogus'" "$Q" help bogus
expect 1 err "qedtool: capabilities: takes no arguments (see 'qedtool help capabilities')" \
    "$Q" capabilities extra
expect 0 out "COMMANDS" "$Q" -h
expect 0 out "qedtool (qedref) " "$Q" -V
expect 0 out "Print the commands this tool offers" "$Q" help capabilities
# the golden generator is the suite's (qed-conform golden), not qedtool's
expect 1 err "qedtool: unknown command 'golden' (see 'qedtool --help')" "$Q" golden
for c in create info check map convert compare rebase resize io dump; do
    expect 0 out "qedtool $c" "$Q" "$c" -h
    has out "SYNOPSIS"
    expect 0 out "qedtool $c" "$Q" "$c" --help
done

# ---------------------------------------------------------------------
# The option scanner (shared by every subcommand)
# ---------------------------------------------------------------------

expect 1 err "qedtool: create: unknown option '-x' (see 'qedtool help create')" \
    "$Q" create -q -x a.qed 1M
expect 1 err "qedtool: create: unknown option '-x'" "$Q" create -qx a.qed 1M
expect 1 err "qedtool: create: unknown option '--foo' (see 'qedtool help create')" \
    "$Q" create --foo a.qed 1M
expect 1 err "qedtool: create: unknown option '--q'" "$Q" create --q=1 a.qed 1M
expect 1 err "qedtool: create: unknown option '--help'" "$Q" create --help=x
expect 1 err "qedtool: create: option 'o' needs a value (see 'qedtool help create')" \
    "$Q" create a.qed -o
no_file a.qed
# "--" ends the options: a file name starting with '-'
run 0 "$Q" create -q -- -dash.qed 64k
is_file ./-dash.qed
# a lone "-" is an operand (a file name), not an option
expect 1 err "qedtool: -: No such file or directory" "$Q" info -
# -oVALUE and --output VALUE forms
run 0 "$Q" create -q -ocluster_size=8k glued.qed 64k
expect 0 out '"cluster-size": 8192' "$Q" info --output json glued.qed

# ---------------------------------------------------------------------
# Sizes and create
# ---------------------------------------------------------------------

expect 1 err "qedtool: create: missing FILE (see 'qedtool help create')" "$Q" create
expect 1 err "qedtool: create: too many operands" "$Q" create a b c
expect 1 err "qedtool: create: SIZE is required without -b" "$Q" create a.qed
for bad in 1Q 1kk 0x1G 0x "" k 18446744073709551616 16E; do
    expect 1 err "qedtool: create: invalid size '$bad'" "$Q" create a.qed "$bad"
done
expect 1 err "qedtool: create: size '0xffffffffffffffff' is too large" \
    "$Q" create a.qed 0xffffffffffffffff
no_file a.qed
run 0 "$Q" create -q hex.qed 0X1F4aB
expect 0 out '"virtual-size": 128512' "$Q" info --output=json hex.qed
run 0 "$Q" create -q tiny.qed 1b
expect 0 out '"virtual-size": 512' "$Q" info --output=json tiny.qed
run 0 "$Q" create -q upper.qed 2K
expect 0 out '"virtual-size": 2048' "$Q" info --output=json upper.qed
expect 0 out "Formatting 'fmt.qed', fmt=qed size=65536 cluster_size=65536 table_size=4" \
    "$Q" create -f qed fmt.qed 64k
expect 1 err "qedtool: create: unsupported format 'raw' (this command takes qed only)" \
    "$Q" create -f raw a.qed 1M
expect 1 err "qedtool: create: unsupported format 'vmdk' (this command takes qed or raw)" \
    "$Q" create -b base.raw -F vmdk a.qed
expect 1 err "qedtool: create: unknown -o option 'foo' (known: cluster_size, table_size)" \
    "$Q" create -o foo=1 a.qed 1M
expect 1 err "qedtool: create: -o option 'cluster_size' needs a value (key=value)" \
    "$Q" create -o cluster_size a.qed 1M
expect 1 err "qedtool: create: invalid value '5000000000' for option cluster_size" \
    "$Q" create -o cluster_size=5000000000 a.qed 1M
expect 1 err "qedtool: create: invalid value 'x' for option table_size" \
    "$Q" create -o table_size=x a.qed 1M
expect 1 err "qedtool: a.qed: cluster_size is not a power of two in [4096, 67108864] (HDR-2)" \
    "$Q" create -o cluster_size=3000 a.qed 1M
no_file a.qed                                  # the half-made file is removed
expect 1 err "(HDR-3)" "$Q" create -o table_size=17 a.qed 1M
no_file a.qed
expect 1 err "(HDR-10)" "$Q" create -o cluster_size=4k,table_size=1 a.qed 2G
no_file a.qed
empty out                                      # validated before "Formatting"
echo keep >kept.qed                            # an existing FILE is left alone
expect 1 err "qedtool: kept.qed: image_size exceeds the maximum for this geometry (HDR-10)" \
    "$Q" create -o cluster_size=4k,table_size=2 kept.qed 10G
empty out
has kept.qed keep
expect 1 err "qedtool: /nonexistent-qed-dir/a.qed: No such file or directory" \
    "$Q" create /nonexistent-qed-dir/a.qed 1M
# backing files
expect 1 err "qedtool: create: the backing file name is empty" "$Q" create -b "" a.qed
expect 1 err "qedtool: nonexist: No such file or directory" "$Q" create -b nonexist a.qed
mkdir -p sub
expect 1 err "qedtool: sub/nonexist: No such file or directory" \
    "$Q" create -b nonexist sub/a.qed
expect 1 err "qedtool: base.raw: -F qed given but the backing file is not a QED image" \
    "$Q" create -b base.raw -F qed a.qed
cp d.qed badbase.qed
put_le 4 badbase.qed 4 3000                    # HDR-2 broken base
expect 1 err "qedtool: badbase.qed: cluster_size is not a power of two" \
    "$Q" create -b badbase.qed a.qed
no_file a.qed
expect 0 out "backing_file=b.qed backing_fmt=qed" "$Q" create -b b.qed ov.qed
expect 0 out '"virtual-size": 65536' "$Q" info --output=json ov.qed
expect 0 out "backing_fmt=raw" "$Q" create -b b.qed -F raw asraw.qed 1M

# ---------------------------------------------------------------------
# info: human and JSON, backing details, dirty flag, errors
# ---------------------------------------------------------------------

expect 1 err "qedtool: info: missing FILE" "$Q" info
expect 1 err "qedtool: info: too many operands" "$Q" info a b
expect 1 err "qedtool: info: --output must be 'human' or 'json', not 'xml'" \
    "$Q" info --output=xml d.qed
expect 1 err "qedtool: info: unsupported format 'raw'" "$Q" info -f raw d.qed
expect 1 err "qedtool: info: unknown option '-q'" "$Q" info -q d.qed
expect 1 err "qedtool: base.raw: bad magic: not a QED image (HDR-1)" "$Q" info base.raw
expect 1 err "qedtool: nonexist: No such file or directory" "$Q" info nonexist
expect 0 out "cluster_size: 4096" "$Q" info --output=human -f qed d.qed
has out "virtual size: 1 MiB (1048576 bytes)"
expect 0 out "backing file format: qed (probed)" "$Q" info ov.qed
has out "backing file: b.qed"
expect 0 out "backing file format: raw" "$Q" info asraw.qed
cp base.raw sub/base.raw
run 0 "$Q" create -q -b base.raw sub/ov.qed
expect 0 out "backing file: base.raw (actual path: sub/base.raw)" "$Q" info sub/ov.qed
run 0 "$Q" info --output=json sub/ov.qed
expect_json backing-filename '"base.raw"'
expect_json full-backing-filename '"sub/base.raw"'
expect_json backing-filename-format '"raw"'
# JSON string escapes: quote, backslash, tab, newline, a control byte
weird=$'we"ir\\d\tna\nme\001.raw'
cp base.raw "$weird"
run 0 "$Q" create -q -b "$weird" weird.qed
expect 0 out '"backing-filename": "we\"ir\\d\tna\nme\u0001.raw"' "$Q" info --output=json weird.qed
# NEED_CHECK set: dirty
cp d.qed dirty.qed
put_le 8 dirty.qed 16 2
expect 0 out "cleanly shut down: no" "$Q" info dirty.qed
run 0 "$Q" info --output=json dirty.qed
expect_json dirty-flag true
# a missing backing file (BACK-5)
cp ov.qed orphan.qed
mkdir -p lone && mv orphan.qed lone/
expect 1 err "qedtool: lone/orphan.qed: backing file 'lone/b.qed': No such file or directory (BACK-5)" \
    "$Q" info lone/orphan.qed

# ---------------------------------------------------------------------
# check
# ---------------------------------------------------------------------

expect 1 err "qedtool: check: -r takes 'leaks' or 'all'" "$Q" check -r bogus d.qed
expect 1 err "qedtool: check: missing FILE" "$Q" check
expect 1 err "qedtool: nonexist: No such file or directory" "$Q" check nonexist
expect 1 err "(HDR-1)" "$Q" check base.raw
run 0 "$Q" check -q d.qed
empty out
expect 0 out "No errors were found on the image." "$Q" check -r leaks d.qed
run 0 "$Q" check --output=json d.qed
expect_json check-errors 0
expect_json image-end-offset 20480
# two leaked clusters at the end of the file
cp d.qed leak.qed
head -c 8192 /dev/zero | tr '\0' '\021' >> leak.qed
expect 3 out "2 leaked clusters were found on the image." "$Q" check leak.qed
has out "This means waste of disk space, but no harm to data."
run 3 "$Q" check --output=json leak.qed
expect_json leaks 2
expect_json allocated-clusters 2
run 3 "$Q" check -q leak.qed
empty out
expect 0 out "2 leaked clusters" "$Q" check -r leaks --output=human leak.qed
has out "Double checking the fixed image now..."
expect 0 out "No errors were found on the image." "$Q" check leak.qed
# a cluster referenced twice: L2[1] = L2[0]
cp d.qed twice.qed
put_le 8 twice.qed $((0x4000 + 8)) $((0x2000))
expect 2 out "1 errors were found on the image." "$Q" check twice.qed
has out "Data may be corrupted, or further writes to the image may corrupt it."
run 2 "$Q" check --output=json twice.qed
expect_json corruptions 1
expect_json leaks 1
run 2 "$Q" check -q twice.qed
empty out
run 3 "$Q" check -r all --output=json twice.qed
expect_json corruptions-fixed 1
expect_json leaks 1

# a 2 TiB (sparse) file has more clusters than check scans by default
cp d.qed huge.qed
if truncate -s 2T huge.qed; then
    expect 1 err "qedtool: huge.qed: check failed: a configured limit would be exceeded" \
        "$Q" check huge.qed
    expect 1 err "qedtool: huge.qed: check failed: " "$Q" check -r leaks huge.qed
else
    fail "cannot make a sparse 2 TiB file in $T"
fi
rm -f huge.qed

# ---------------------------------------------------------------------
# map
# ---------------------------------------------------------------------

expect 1 err "qedtool: map: missing FILE" "$Q" map
expect 1 err "qedtool: map: too many operands" "$Q" map a b
expect 1 err "qedtool: map: unsupported format 'raw'" "$Q" map -f raw d.qed
expect 1 err "qedtool: map: --output must be 'human' or 'json', not 'yaml'" \
    "$Q" map --output=yaml d.qed
expect 1 err "qedtool: nonexist: No such file or directory" "$Q" map nonexist
# human map of a three-level chain names the file at each depth
expect 0 out "0               0x1000          0x2000          top.qed" "$Q" map top.qed
has out "0x8000          0x1000          0x2000          b.qed"
run 0 "$Q" map --output=json top.qed
has out '{ "start": 32768, "length": 4096, "depth": 2, "present": true, "zero": false, "data": true, "offset": 8192}'
expect 0 out "0               0x186a0         0               sub/base.raw" "$Q" map sub/ov.qed

# ---------------------------------------------------------------------
# Damaged tables: d.qed with L2 entries broken (TBL-2, TBL-6)
# ---------------------------------------------------------------------

cp d.qed badl2.qed
put_le 8 badl2.qed $((0x4000 + 16)) $((0x2001))     # L2[2]: reserved bits
put_le 8 badl2.qed $((0x4000 + 48)) $((0x900000))   # L2[6]: past the end
put_le 8 badl2.qed $((0x4000 + 56)) 1               # L2[7]: zero cluster
expect 1 err "qedtool: badl2.qed: map failed: " "$Q" map badl2.qed
expect 1 err "(TBL-2)" "$Q" io -r badl2.qed -c 'read 0x2000 1'
expect 1 err "qedtool: badl2.qed: read failed at offset 24576: " \
    "$Q" io -r badl2.qed -c 'read 0x6000 4k'
expect 1 err "qedtool: badl2.qed: write failed at offset 24576: " \
    "$Q" io badl2.qed -c 'write 0x6000 1'
expect 1 err "qedtool: badl2.qed: write -z failed at offset 24576: " \
    "$Q" io badl2.qed -c 'write -z 0x6000 4k'
expect 1 err "qedtool: badl2.qed: read at offset " "$Q" convert badl2.qed bad.raw
expect 2 err "qedtool: " "$Q" compare badl2.qed d.qed
expect 2 err "qedtool: " "$Q" compare d.qed badl2.qed
expect 2 out "errors were found on the image." "$Q" check badl2.qed

# ---------------------------------------------------------------------
# convert
# ---------------------------------------------------------------------

expect 1 err "qedtool: convert: expected SRC and DST" "$Q" convert a
expect 1 err "qedtool: convert: -o needs -O qed" "$Q" convert -o cluster_size=4k d.qed x.raw
expect 1 err "qedtool: convert: unsupported format 'vmdk' (this command takes qed or raw)" \
    "$Q" convert -O vmdk d.qed x
expect 1 err "qedtool: convert: unsupported format 'vmdk'" "$Q" convert -f vmdk d.qed x
expect 1 err "qedtool: nonexist: No such file or directory" "$Q" convert nonexist x
expect 1 err "qedtool: /nonexistent-qed-dir/x: No such file or directory" \
    "$Q" convert d.qed /nonexistent-qed-dir/x
expect 1 err "qedtool: /nonexistent-qed-dir/x: No such file or directory" \
    "$Q" convert -O qed d.qed /nonexistent-qed-dir/x
expect 1 err "qedtool: base.raw: bad magic: not a QED image (HDR-1)" \
    "$Q" convert -f qed base.raw x
expect 1 err "qedtool: cs.qed: cluster_size is not a power of two" \
    "$Q" convert -O qed -o cluster_size=1k base.raw cs.qed
# a character device is not a file qedtool writes (nor reads)
if [ -w /dev/full ]; then
    expect 1 err "qedtool: /dev/full: is a character device, not a regular file or block device" \
        "$Q" convert d.qed /dev/full
    expect 1 err "qedtool: /dev/full: is a character device, not a regular file or block device" \
        "$Q" convert -O qed d.qed /dev/full
else
    fail "/dev/full is not writable here"
fi
# a file size limit (ulimit -f, in KiB) makes writes fail with EFBIG,
# reported as such (qedtool ignores SIGXFSZ itself)
expect_limited() {
    local kib=$1 text=$2
    shift 2
    (ulimit -f "$kib"; "$@") >out 2>err
    local got=$?
    if [ "$got" -eq 1 ]; then pass; else fail "ulimit -f $kib $*: exit $got, expected 1"; fi
    has err "$text"
}
expect_limited 4 "qedtool: lim.raw: file too large (EFBIG" "$Q" convert d.qed lim.raw
expect_limited 4 "qedtool: lim.qed: file too large (EFBIG" "$Q" convert -O qed d.qed lim.qed
expect_limited 12 "qedtool: lim4k.qed: write at offset 0 failed: file too large (EFBIG" \
    "$Q" convert -O qed -o cluster_size=4k,table_size=1 d.qed lim4k.qed
expect_limited 4 "qedtool: new.qed: file too large (EFBIG" "$Q" create new.qed 1M
no_file new.qed                                # removed after the failure
cp d.qed w.qed
expect_limited 20 "qedtool: w.qed: write failed at offset 524288: file too large (EFBIG" \
    "$Q" io w.qed -c 'write 512k 8k'
expect 0 out "cleanly shut down: no" "$Q" info w.qed      # WR-4: still dirty
run 0 "$Q" io w.qed -c flush                   # WR-5 repairs on open
run 0 "$Q" info --output=json w.qed
expect_json dirty-flag false
# a directory is refused at open, named as one: probed, or read as raw
mkdir -p adir
isdir="qedtool: adir: is a directory, not a regular file or block device"
expect 1 err "$isdir" "$Q" convert adir x.raw
expect 1 err "$isdir" "$Q" convert -f raw adir x.raw
expect 2 err "$isdir" "$Q" compare adir base.raw
expect 2 err "$isdir" "$Q" compare -f raw -F raw adir base.raw
# both directions with -p/-q/-f/-o; a raw source of 100000 bytes gives a
# QED image of 100352 (rounded to 512)
run 0 "$Q" convert -p -q -f raw -O qed -o cluster_size=4k,table_size=2 base.raw c.qed
empty out                                      # -p without a terminal: quiet
expect 0 out '"virtual-size": 100352' "$Q" info --output=json c.qed
expect 0 out '"cluster-size": 4096' "$Q" info --output=json c.qed
run 0 "$Q" convert -f qed -O raw c.qed c.raw
run 0 cmp <(head -c 100000 c.raw) base.raw
run 0 "$Q" convert top.qed top.raw             # the whole chain, flattened
expect 0 out "Images are identical." "$Q" compare top.qed top.raw
# progress on a terminal
if script -qec "$Q convert -p d.qed prog.raw" /dev/null > prog.txt 2>&1; then
    has prog.txt "(100.00/100%)"
else
    fail "convert -p under script: $(head -c 200 prog.txt)"
fi

# ---------------------------------------------------------------------
# compare (exit 0 same, 1 different, 2 error)
# ---------------------------------------------------------------------

expect 2 err "qedtool: compare: expected two images" "$Q" compare
expect 2 err "qedtool: compare: unsupported format 'vmdk'" "$Q" compare -f vmdk a b
expect 2 err "qedtool: compare: unsupported format 'vmdk'" "$Q" compare -F vmdk a b
expect 2 err "qedtool: nonexist: No such file or directory" "$Q" compare nonexist d.qed
expect 2 err "qedtool: nonexist: No such file or directory" "$Q" compare d.qed nonexist
expect 2 err "qedtool: base.raw: bad magic: not a QED image (HDR-1)" \
    "$Q" compare -f qed base.raw d.qed
expect 1 out "Content mismatch at offset 0!" "$Q" compare d.qed base.raw
run 1 "$Q" compare -q d.qed base.raw
empty out
expect 1 out "Content mismatch at offset 0!" "$Q" compare -f raw -F raw base.raw c.qed
expect 0 out "Warning: Image size mismatch!" "$Q" compare base.raw c.qed
has out "Images are identical."
run 0 "$Q" compare -q -f raw -F qed base.raw c.qed
empty out
head -c 50000 base.raw > half.raw
expect 1 out "Content mismatch at offset 50000!" "$Q" compare half.raw base.raw
expect 1 out "Content mismatch at offset 50000!" "$Q" compare base.raw half.raw
cp base.raw pad.raw
truncate -s 200000 pad.raw
expect 0 out "Images are identical." "$Q" compare base.raw pad.raw
expect 0 out "Images are identical." "$Q" compare pad.raw base.raw
# two empty QED images: zero runs in both
"$Q" create -q -o cluster_size=4k,table_size=1 e1.qed 1M
"$Q" create -q e2.qed 1M
"$Q" io e2.qed -c 'write -q -z 0 512k' >/dev/null
expect 0 out "Images are identical." "$Q" compare e1.qed e2.qed
"$Q" io e2.qed -c 'write -q -P 1 1000 1' >/dev/null
expect 1 out "Content mismatch at offset 512!" "$Q" compare e1.qed e2.qed

# ---------------------------------------------------------------------
# rebase
# ---------------------------------------------------------------------

cp d.qed rb.qed
expect 1 err "qedtool: rebase: only unsafe mode (-u) is supported" "$Q" rebase rb.qed
expect 1 err "qedtool: rebase: missing FILE" "$Q" rebase -u
expect 1 err "qedtool: rebase: too many operands" "$Q" rebase -u a b
expect 1 err "qedtool: rebase: unsupported format 'raw' (this command takes qed only)" \
    "$Q" rebase -u -f raw rb.qed
expect 1 err "qedtool: rebase: unsupported format 'vmdk' (this command takes qed or raw)" \
    "$Q" rebase -u -F vmdk rb.qed
expect 1 err "qedtool: nonexist: No such file or directory" "$Q" rebase -u nonexist
expect 1 err "qedtool: base.raw: bad magic: not a QED image (HDR-1)" \
    "$Q" rebase -u -b x base.raw
run 0 "$Q" rebase -u -p -q -f qed -b base.raw -F raw rb.qed
empty out
run 0 "$Q" info --output=json rb.qed
expect_json backing-filename '"base.raw"'
expect_json backing-filename-format '"raw"'
run 0 "$Q" rebase -u -b "" rb.qed
run 0 "$Q" info --output=json rb.qed
if grep -q backing out; then fail "rebase -b '': backing still shown"; else pass; fi
run 0 "$Q" rebase -u -b b.qed rb.qed
run 0 "$Q" rebase -u rb.qed                    # no -b: removes it too
expect 0 out '"virtual-size": 1048576' "$Q" info --output=json rb.qed
if grep -q backing out; then fail "rebase without -b: backing still shown"; else pass; fi
long=$(head -c 5000 /dev/zero | tr '\0' n)
expect 1 err "qedtool: rb.qed: the backing file name does not fit in the header clusters (HDR-11)" \
    "$Q" rebase -u -b "$long" rb.qed
cp d.qed compat.qed
put_le 8 compat.qed 24 1                       # an unknown compat feature
expect 1 err "(HDR-6)" "$Q" rebase -u -b base.raw compat.qed

# ---------------------------------------------------------------------
# resize
# ---------------------------------------------------------------------

cp d.qed rs.qed
expect 1 err "qedtool: resize: expected FILE and SIZE" "$Q" resize
expect 1 err "qedtool: resize: expected FILE and SIZE" "$Q" resize rs.qed
expect 1 err "qedtool: resize: unsupported format 'raw'" "$Q" resize -f raw rs.qed 2M
expect 1 err "qedtool: nonexist: No such file or directory" "$Q" resize nonexist 1M
expect 1 err "(HDR-1)" "$Q" resize base.raw 1M
run 0 "$Q" resize -q -f qed rs.qed +1M
empty out
expect 0 out "Image resized." "$Q" resize rs.qed 3M
expect 0 out '"virtual-size": 3145728' "$Q" info --output=json rs.qed
expect 1 err "qedtool: rs.qed: image size can only grow (WR-9)" "$Q" resize rs.qed -512
expect 1 err "qedtool: rs.qed: image size can only grow (WR-9)" "$Q" resize rs.qed 1000
expect 1 err "qedtool: resize: invalid size '-100M'" "$Q" resize rs.qed -100M
expect 1 err "qedtool: resize: invalid size '+0xffffffffffffffff'" \
    "$Q" resize rs.qed +0xffffffffffffffff
expect 1 err "qedtool: resize: invalid size '1Z'" "$Q" resize rs.qed 1Z
expect 1 err "qedtool: resize: invalid size '+'" "$Q" resize rs.qed +
expect 1 err "(HDR-10)" "$Q" resize rs.qed 2G
expect 0 out '"virtual-size": 3145728' "$Q" info --output=json rs.qed

# ---------------------------------------------------------------------
# io
# ---------------------------------------------------------------------

cp d.qed i.qed
expect 1 err "qedtool: io: missing FILE" "$Q" io
expect 1 err "qedtool: io: too many operands" "$Q" io a b
expect 1 err "qedtool: io: unknown cache mode 'bogus'" "$Q" io -t bogus i.qed -c flush
expect 1 err "qedtool: io: unsupported format 'raw'" "$Q" io -f raw i.qed -c flush
expect 1 err "qedtool: nonexist: No such file or directory" "$Q" io nonexist -c flush
for mode in none writeback writethrough directsync unsafe; do
    run 0 "$Q" io -t "$mode" -f qed i.qed -c flush
done
expect 1 err 'qedtool: io: command "bogus" not found (known: read, write, flush, truncate, quit)' \
    "$Q" io i.qed -c bogus
expect 1 err 'qedtool: io: command "flush x" not found' "$Q" io i.qed -c 'flush x'
expect 1 err 'qedtool: io: command "quit now" not found' "$Q" io i.qed -c 'quit now'
expect 1 err "qedtool: io: read: expected OFF and LEN" "$Q" io i.qed -c read
expect 1 err "qedtool: io: write: expected OFF and LEN" "$Q" io i.qed -c 'write 0 1 2'
expect 1 err "qedtool: io: read: -P needs a byte value, not nothing" "$Q" io i.qed -c 'read -P'
expect 1 err "qedtool: io: read: -P needs a byte value, not 256" "$Q" io i.qed -c 'read -P 256 0 1'
expect 1 err "qedtool: io: read: -P needs a byte value, not x" "$Q" io i.qed -c 'read -P x 0 1'
expect 1 err "qedtool: io: read: -P needs a byte value, not 0x" "$Q" io i.qed -c 'read -P 0x 0 1'
expect 1 err "qedtool: io: read: unknown option -Q" "$Q" io i.qed -c 'read -Q 0 1'
expect 1 err "qedtool: io: read: unknown option -z" "$Q" io i.qed -c 'read -z 0 1'
expect 1 err "qedtool: io: read: invalid offset zz" "$Q" io i.qed -c 'read zz 1'
expect 1 err "qedtool: io: read: invalid length zz" "$Q" io i.qed -c 'read 0 zz'
expect 1 err "qedtool: io: write: -z and -P exclude each other" "$Q" io i.qed -c 'write -z -P 1 0 1'
expect 1 err "qedtool: io: command: too many words in a b c d e f g h i j k l m n o p q" \
    "$Q" io i.qed -c 'a b c d e f g h i j k l m n o p q'
expect 1 err "qedtool: io: command: too long" "$Q" io i.qed -c "$(head -c 5000 /dev/zero | tr '\0' a)"
expect 1 err "qedtool: i.qed: read of 1 bytes at offset 1048576 is past the end of the 1048576-byte disk (XLT-3)" \
    "$Q" io i.qed -c 'read 1M 1'
expect 1 err "qedtool: i.qed: write of 1 bytes at offset 1048576 is past the end" "$Q" io i.qed -c 'write 1M 1'
expect 1 err "qedtool: i.qed: write of 4096 bytes at offset 1048576 is past the end" \
    "$Q" io i.qed -c 'write -z 1M 4k'
expect 1 out "Pattern verification failed at offset 0, 1 bytes" "$Q" io i.qed -c 'read -P 5 0 1'
expect 1 err "qedtool: i.qed: write failed at offset 0: image is open read-only" \
    "$Q" io -r i.qed -c 'write 0 1'
expect 1 err "qedtool: i.qed: write -z failed at offset 0: image is open read-only" \
    "$Q" io -r i.qed -c 'write -z 0 4k'
# comments, blank commands and quit: what follows quit does not run
run 0 "$Q" io i.qed -c '# comment' -c '' -c 'q' -c 'bogus'
empty err
run 0 "$Q" io i.qed -c 'quit' -c 'bogus'
# qemu-io's report lines; -q silences them
expect 0 out "wrote 4096/4096 bytes at offset 8192" "$Q" io i.qed -c 'write -P 0x44 8k 4k'
has out "4 KiB, 1 ops; "
expect 0 out "read 1048576/1048576 bytes at offset 0" "$Q" io i.qed -c 'read 0 1M'
has out "1 MiB, 1 ops; "
expect 0 out "read 100/100 bytes at offset 8192" "$Q" io i.qed -c 'read -P 0x44 8k 100'
has out "100 bytes, 1 ops; "
run 0 "$Q" io i.qed -c 'write -q -z 100 5000' -c 'read -q -P 0 100 5000'
empty out
expect 0 out "4.883 KiB, 1 ops" "$Q" io i.qed -c 'read -P 0 100 5000'
# commands from standard input
printf 'write -q -P 0x22 0 4k\nread -q -P 34 0 4k\nquit\nbogus\n' > cmds
run 0 "$Q" io i.qed < cmds
empty err
printf 'read -P 0x22 0 4k' > cmds                 # no final newline
expect 0 out "read 4096/4096 bytes at offset 0" "$Q" io i.qed < cmds
printf 'read -q 0 4k\nbogus\nread 0 4k\n' > cmds
expect 1 err 'qedtool: io: command "bogus" not found' "$Q" io i.qed < cmds
empty out
head -c 5000 /dev/zero | tr '\0' a > cmds
printf '\n' >> cmds
expect 1 err "qedtool: io: command: line too long" "$Q" io i.qed < cmds

# ---------------------------------------------------------------------
# dump: valid, damaged headers, damaged tables
# ---------------------------------------------------------------------

expect 1 err "qedtool: dump: expected one FILE" "$Q" dump
expect 1 err "qedtool: dump: unsupported format 'raw'" "$Q" dump -f raw d.qed
expect 1 err "qedtool: nonexist: No such file or directory" "$Q" dump nonexist
head -c 30 d.qed > short.qed
expect 1 err "qedtool: short.qed: file is shorter than the 64-byte QED header (FILE-2)" \
    "$Q" dump short.qed
expect 0 out "Header verdict: valid" "$Q" dump -f qed d.qed
has out "    L2[1]  logical 0x1000  data at 0x3000"
# a backing name with bytes that need escaping, and one cut short
cp d.qed dn.qed
put_le 8 dn.qed 16 1
put_le 4 dn.qed 56 64
put_le 4 dn.qed 60 6
printf 'a"b\001cd' | dd of=dn.qed bs=1 seek=64 conv=notrunc status=none
expect 0 out 'backing name             "a\x22b\x01cd"' "$Q" dump dn.qed
has out "features                 0x1                  BACKING_FILE  [HDR-5 ok]"
head -c 2000 /dev/zero | tr '\0' n | dd of=dn.qed bs=1 seek=64 conv=notrunc status=none
put_le 4 dn.qed 60 2000                         # longer than the 1024 shown
expect 0 out 'nnnn"...' "$Q" dump dn.qed
put_le 4 dn.qed 60 0
expect 1 out "backing name             (not readable from the file)" "$Q" dump dn.qed
has out "Header verdict: backing file name is empty (HDR-12)"
put_le 4 dn.qed 56 30000
put_le 4 dn.qed 60 10
expect 1 out "backing name             (not readable from the file)" "$Q" dump dn.qed
# broken header fields
cp d.qed h.qed
put_le 4 h.qed 0 0x12345678
expect 1 out "[HDR-1 BROKEN]" "$Q" dump h.qed
cp d.qed h.qed
put_le 4 h.qed 4 3000
expect 1 out "Tables not shown: the geometry is invalid (HDR-2, HDR-3)" "$Q" dump h.qed
has out "[HDR-2 BROKEN]"
cp d.qed h.qed
put_le 4 h.qed 8 17
expect 1 out "[HDR-3 BROKEN]" "$Q" dump h.qed
cp d.qed h.qed
put_le 8 h.qed 16 $((0x10 | 0x2 | 0x4))
expect 1 out "NEED_CHECK BACKING_FORMAT_NO_PROBE unknown 0x10  [HDR-5 BROKEN]" "$Q" dump h.qed
cp d.qed h.qed
put_le 8 h.qed 40 5000
expect 1 out "L1 table not shown (HDR-8): l1_table_offset: table entry has reserved low bits set (TBL-2)" "$Q" dump h.qed
has out "Header verdict: l1_table_offset is not a valid table offset (HDR-8)"
cp d.qed h.qed
put_le 8 h.qed 40 $((0x100000))
expect 1 out "l1_table_offset: table lies in the header clusters or beyond the file's whole clusters (TBL-4)" "$Q" dump h.qed
cp d.qed h.qed
put_le 8 h.qed 48 1000
expect 1 out "[HDR-9 BROKEN]" "$Q" dump h.qed
# broken L1 entries: reserved bits, past the end, and the L2 budget
cp d.qed l1.qed
put_le 8 l1.qed $((0x1000 + 8)) $((0x4001))
put_le 8 l1.qed $((0x1000 + 16)) $((0x100000))
expect 1 out "  L1[1]  L2 table at 0x4001  logical from 0x200000  BROKEN: table entry has reserved low bits set (TBL-2)" \
    "$Q" dump l1.qed
has out "  L1[2]  L2 table at 0x100000  logical from 0x400000  BROKEN: table lies in the header clusters or beyond the file's whole clusters (TBL-4)"
cp d.qed budget.qed
for i in 1 2 3 4 5 6; do put_le 8 budget.qed $((0x1000 + 8 * i)) $((0x4000)); done
expect 0 out "(not shown: the L1 table references more L2 bytes than the file holds; see CHK-1)" \
    "$Q" dump budget.qed
has out "(past image_size)"
# broken L2 entries
expect 1 out "    L2[2]  logical 0x2000  data at 0x2001  BROKEN: table entry has reserved low bits set (TBL-2)" \
    "$Q" dump badl2.qed
has out "    L2[6]  logical 0x6000  data at 0x900000  BROKEN: data cluster lies in the header clusters or beyond the file's whole clusters (TBL-6)"
has out "    L2[7]  logical 0x7000  zero cluster (ZERO-1)"
# 64 KiB clusters with a two-cluster header: TBL-3 and the header checks
"$Q" create -q -o cluster_size=64k,table_size=1 big.qed 1G
truncate -s $((0x50000)) big.qed                # zeroes up to 0x50000
put_le 4 big.qed 12 2                           # header_size 2: 0..128 KiB
put_le 8 big.qed 40 $((0x20000))                # L1 moves past it
put_le 8 big.qed $((0x20000)) $((0x30000))      # L1[0] -> L2 at 0x30000
put_le 8 big.qed $((0x20000 + 8)) $((0x31000))  # L1[1]: not cluster-aligned
put_le 8 big.qed $((0x20000 + 16)) $((0x10000)) # L1[2]: inside the header
put_le 8 big.qed $((0x30000)) $((0x40000))      # L2[0]: fine
put_le 8 big.qed $((0x30000 + 8)) $((0x41000))  # L2[1]: not cluster-aligned
put_le 8 big.qed $((0x30000 + 16)) $((0x10000)) # L2[2]: inside the header
run 1 "$Q" dump big.qed
has out "L1[1]  L2 table at 0x31000  logical from 0x20000000  BROKEN: table entry is not cluster-aligned (TBL-3)"
has out "L1[2]  L2 table at 0x10000  logical from 0x40000000  BROKEN: table lies in the header clusters or beyond the file's whole clusters (TBL-4)"
has out "4 table entries break a rule"
has out "L2[1]  logical 0x10000  data at 0x41000  BROKEN: table entry is not cluster-aligned (TBL-3)"
has out "L2[2]  logical 0x20000  data at 0x10000  BROKEN: data cluster lies in the header clusters or beyond the file's whole clusters (TBL-6)"
has out "L2[0]  logical 0x0  data at 0x40000"
# a file ending in a partial cluster: ranges are judged against its whole
# clusters (FILE-3), so nothing may lie in the 100 bytes past 0x5000
cp d.qed rl.qed
truncate -s $((0x5000 + 100)) rl.qed
put_le 8 rl.qed $((0x1000 + 8)) $((0x5000))     # L1[1]: table in the partial cluster
put_le 8 rl.qed $((0x4000 + 24)) $((0x5000))    # L2[3]: data in the partial cluster
put_le 8 rl.qed $((0x4000 + 32)) $((0x4000))    # L2[4]: the last whole cluster
expect 1 out "Header (file length 20580 bytes; 20480 in whole clusters, the rest ignored (FILE-3))" \
    "$Q" dump rl.qed
has out "L1[1]  L2 table at 0x5000  logical from 0x200000  BROKEN: table lies in the header clusters or beyond the file's whole clusters (TBL-4)"
has out "L2[3]  logical 0x3000  data at 0x5000  BROKEN: data cluster lies in the header clusters or beyond the file's whole clusters (TBL-6)"
has out "    L2[4]  logical 0x4000  data at 0x4000"
has out "2 table entries break a rule"                 # L2[4] is not among them
expect 0 out "Header (file length 20480 bytes)" "$Q" dump d.qed

# --- fixes found while raising coverage ------------------------------------
# io refuses a request past the end of the disk before writing any of it
"$Q" create -q oor.qed 1M
expect 1 err "write of 2097152 bytes at offset 0 is past the end of the 1048576-byte disk (XLT-3)" \
    "$Q" io oor.qed -c 'write -P 0x33 0 2M'
expect 0 out '"present": false' "$Q" map --output=json oor.qed
expect 1 err "read of 4096 bytes at offset 1048064 is past the end" \
    "$Q" io oor.qed -c 'read 1048064 4k'
# a failed create or convert removes the file it made, and only that
expect 1 err "(HDR-2)" "$Q" create -o cluster_size=1k newfail.qed 1M
no_file newfail.qed
expect 1 err "(HDR-2)" "$Q" convert -O qed -o cluster_size=1k d.qed convfail.qed
no_file convfail.qed
printf 'keep me' > existing.qed
expect 1 err "(HDR-2)" "$Q" create -o cluster_size=1k existing.qed 1M
is_file existing.qed
# dump judges HDR-13, which needs the name's bytes
"$Q" create -q -b d.qed -F qed nul.qed
printf 'd\0qed' | dd of=nul.qed bs=1 seek=64 conv=notrunc 2>/dev/null
expect 1 out "Header verdict: backing file name contains a NUL byte (HDR-13)" "$Q" dump nul.qed

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
