#!/bin/sh
# adapter-check-test.sh - the test of `qed-conform adapter-check` (make
# test-adapter-check): the reference, the partial adapter, the mute-exit
# example and, when qemu-img and qemu-io are installed, the QEMU adapter
# must keep the contract (exit 0); deliberately broken adapters must be
# named BROKEN with the part of the contract they break (exit 1); usage
# errors exit 2.
#
# Usage: conformance/runner/adapter-check-test.sh QED_CONFORM QEDTOOL
#
# The broken adapters are written into a temporary directory: one whose
# exit status is always 1 and whose info prints text (as a real tool was
# seen to), one that declares map but refuses it, one that writes to the
# image it reads, one whose capabilities names nothing known; and the
# faulty adapter's json and accept faults; the fixed-geometry adapter
# declaring create-cluster-size only (keeps it) and declaring
# create-table-size but ignoring it (breaks it).  Last line: "N passed, N
# failed, N skipped" (QEMU's run is the skip when it is not installed).
set -u
if [ $# -lt 2 ] || [ "$1" = "--help" ]; then
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
    [ "${1:-}" = "--help" ] && exit 0
    exit 2
fi
conform=$1
tool=$(cd "$(dirname "$2")" && pwd)/$(basename "$2") || exit 2
adapters=$(cd "$(dirname "$0")/../adapters" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/adapter-check-test.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0 skipped=0

# expect NAME RC PHRASE ARGS...: adapter-check ARGS must exit RC and print
# a line matching PHRASE (a grep -E pattern; "" for any).
expect() {
    name=$1 want=$2 phrase=$3
    shift 3
    out=$("$conform" adapter-check "$@" 2>&1)
    rc=$?
    if [ "$rc" -eq "$want" ] && { [ -z "$phrase" ] || printf '%s\n' "$out" | grep -Eq -- "$phrase"; }; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "adapter-check-test: $name: exit $rc (expected $want), output:"
        printf '%s\n' "$out" | sed 's/^/    /'
        [ -z "$phrase" ] || echo "    (expected a line matching: $phrase)"
    fi
}

# adapter NAME BODY: write an adapter script NAME wrapping the reference,
# with BODY as its case arms before the default (run the reference).
adapter() {
    {
        echo '#!/bin/sh'
        echo "TOOL='$tool'"
        echo 'cmd=$1'
        echo 'case $cmd in'
        printf '%s\n' "$2"
        echo '*) exec "$TOOL" "$@" ;;'
        echo 'esac'
    } >"$tmp/$1"
    chmod +x "$tmp/$1"
}

expect reference 0 'keeps the contract' --impl ref
expect partial 0 '^  -       map: not declared' --impl "cmd:$adapters/partial"
MUTE_EXIT_TOOL=$tool expect mute-exit 0 'keeps the contract' --impl "cmd:$adapters/mute-exit"
if command -v qemu-img >/dev/null 2>&1 && command -v qemu-io >/dev/null 2>&1; then
    expect qemu 0 'keeps the contract' --impl qemu
else
    skipped=$((skipped + 1))
    echo "adapter-check-test: qemu: SKIPPED (qemu-img or qemu-io not installed)"
fi

# A tool whose exit status is always 1 and whose info is text, not JSON.
adapter exit1 'capabilities) printf "%s\n" info convert check; exit 0 ;;
info) "$TOOL" info "$3" >/dev/null; echo "virtual size: 1048576"; exit 1 ;;
*) "$TOOL" "$@"; exit 1 ;;'
expect exit-always-1 1 '^  BROKEN  info: `info --output=json known.qed` exited 1; expected 0' \
    --impl "cmd:$tmp/exit1"
expect exit-always-1-convert 1 '^  BROKEN  convert: .* exited 1; expected 0' --impl "cmd:$tmp/exit1"
expect exit-always-1-check 1 '^  BROKEN  check: .* exited 1; expected 0: the image is clean' \
    --impl "cmd:$tmp/exit1"
expect exit-always-1-leak 1 '^  BROKEN  check of an image with one leaked cluster: .* exited 1; expected 3' \
    --impl "cmd:$tmp/exit1"

# A declared subcommand the adapter does not have.
adapter nomap 'capabilities) printf "%s\n" info convert map; exit 0 ;;
map) echo "nomap: unknown subcommand map" >&2; exit 2 ;;'
expect declared-missing 1 "^  BROKEN  map: .* exited 2; expected 0.*unknown subcommand map" \
    --impl "cmd:$tmp/nomap"

# Reading that writes: info rewrites byte 100 of the image.
adapter writer 'info) printf X | dd of="$3" bs=1 seek=100 conv=notrunc 2>/dev/null; exec "$TOOL" "$@" ;;'
expect read-writes 1 '^  BROKEN  info: changed a file it only reads \(known.qed changed at byte 100 .*reading must not write' \
    --impl "cmd:$tmp/writer"

# capabilities that name nothing the runner knows.
adapter nocaps 'capabilities) echo "all of them"; exit 0 ;;'
expect no-capability 1 '^  BROKEN  capabilities: exit 0 but no subcommand name' --impl "cmd:$tmp/nocaps"

# The faulty adapter: wrong JSON, and an adapter that accepts anything.
export QED_CONFORM_TOOL="$tool" QED_CONFORM_FAULT=json
expect faulty-json 1 '^  BROKEN  info: printed no valid JSON' --impl "cmd:$adapters/faulty"
QED_CONFORM_FAULT=accept
expect faulty-accept 1 '^  BROKEN  convert of base.raw, a raw file \(must refuse\): .* exited 0' \
    --impl "cmd:$adapters/faulty"
unset QED_CONFORM_FAULT

# Geometry: an implementation with a fixed table size (create-cluster-size
# only) keeps the contract; one that declares create-table-size and ignores
# it breaks it.
export FIXED_GEOMETRY_TOOL="$tool" FIXED_GEOMETRY=table
expect fixed-table-size 0 '^  ok      create -o cluster_size: the image made has cluster_size 16384' \
    --impl "cmd:$adapters/fixed-geometry"
expect fixed-table-size-undeclared 0 '^  -       create-table-size: not declared' \
    --impl "cmd:$adapters/fixed-geometry"
FIXED_GEOMETRY=liar
expect ignored-table-size 1 '^  BROKEN  create -o table_size: `create -o table_size=2` made table_size 4' \
    --impl "cmd:$adapters/fixed-geometry"
unset FIXED_GEOMETRY

# Usage errors.
expect bad-option 2 'unknown option' --bogus
expect bad-impl 2 'not an executable' --impl "cmd:$tmp/does-not-exist"
expect bad-timeout 2 'bad --timeout' --timeout 0

echo "$pass passed, $fail failed, $skipped skipped"
[ $fail -eq 0 ]
