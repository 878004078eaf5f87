#!/bin/sh
# qemu-compare.sh - record one qemu-io workload twice and compare the traces:
# once by QEMU's own blklogwrites driver (the qemu adapter's `io --trace`),
# once by the LD_PRELOAD shim (libqedtrace.so around the same adapter's
# plain `io`, i.e. a shell that execs qemu-io -f qed -t writeback).
#
# Usage: conformance/crash/shim/qemu-compare.sh [OPTIONS] -c CMD [-c CMD]...
#
#   --builddir DIR      where libqedtrace.so, shim-test and qed-conform are
#                       (default: build)
#   --sector-size N     the logs' sector size (512; 4096 ...)
#   --backing raw|qed   give the image a 4 MiB backing file of 0x33 bytes
#   --create-opts OPTS  qemu-img create -o OPTS for the image
#                       (e.g. cluster_size=4k,table_size=1)
#   --size SIZE         the image's virtual size (default 4M)
#   --setup CMD         a qemu-io command run on the image before recording
#                       (e.g. a first write, so the workload finds tables);
#                       may be repeated
#   --keep DIR          keep everything in DIR (created): init.qed (the image
#                       before the workload, with its backing file), blk.log
#                       and blk.qed (blklogwrites), shim.log and shim.qed
#                       (the shim), workload (one command per line)
#   --name NAME         the label of the result line
#
# The traces must carry the same flushes and, between two flushes, the same
# writes, truncations and fallocates with the same sector ranges and data
# (`shim-test compare --epochs`: other marks are labels and are dropped, a
# "refused:" mark fails).  Within a flush epoch the order may differ where
# no crash state can tell (requests in flight together complete in a
# different order in every run, whoever records them); events that overlap
# must keep their order.  Both images must end byte-identical.  Why they agree although the two
# recorders sit at different layers (blklogwrites between the qed driver
# and the file driver, the shim below the file driver at the system calls)
# is in README.md beside this script.
#
# Verdicts: both traces are judged from init.qed by `qed-conform
# crash-check` and must get the same verdict: its exit status and the set
# of oracles broken (compare_verdicts below).
#
# Exit 0 when they agree, 1 when they differ (what differs is printed),
# 2 on a usage or set-up error (qemu-io missing included).
set -u

usage() {
    sed -n '2,/^set -u/p' "$0" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//' >&2
    exit 2
}

builddir=build sector=512 backing='' create_opts='' size=4M keep='' name=workload
setup_file=$(mktemp) cmds_file=$(mktemp)
trap 'rm -f "$setup_file" "$cmds_file"' EXIT
while [ $# -gt 0 ]; do
    case $1 in
    --builddir) builddir=$2; shift 2 ;;
    --sector-size) sector=$2; shift 2 ;;
    --backing) backing=$2; shift 2 ;;
    --create-opts) create_opts=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --setup) printf '%s\n' "$2" >> "$setup_file"; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    -c) printf '%s\n' "$2" >> "$cmds_file"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "qemu-compare: unknown option '$1'" >&2; usage ;;
    esac
done
[ -s "$cmds_file" ] || usage
case $backing in ''|raw|qed) ;; *) echo "qemu-compare: --backing raw|qed" >&2; exit 2 ;; esac

here=$(cd "$(dirname "$0")" && pwd)
adapter=$here/../../adapters/qemu
builddir=$(cd "$builddir" && pwd) || exit 2
shim=$builddir/libqedtrace.so
shim_test=$builddir/shim-test
QEMU_IMG=${QEMU_IMG:-qemu-img}
QEMU_IO=${QEMU_IO:-qemu-io}
for tool in "$QEMU_IMG" "$QEMU_IO"; do
    command -v "$tool" > /dev/null || { echo "qemu-compare: $tool not found" >&2; exit 2; }
done
if [ ! -f "$shim" ] || [ ! -x "$shim_test" ]; then
    echo "qemu-compare: build $shim and $shim_test first (make)" >&2
    exit 2
fi

if [ -n "$keep" ]; then
    mkdir -p "$keep" && dir=$(cd "$keep" && pwd) || exit 2
else
    dir=$(mktemp -d) || exit 2
    trap 'rm -rf "$dir"; rm -f "$setup_file" "$cmds_file"' EXIT
fi
cd "$dir" || exit 2
rm -f init.qed blk.qed shim.qed blk.log shim.log base.raw base.qed
cp "$cmds_file" workload

# Run qemu-io with the -c commands read from file $2 on image $1 through
# "$@" after them (a command line prefix); quiet unless it fails.
run_cmds() {
    list=$1 img=$2
    shift 2
    set -- "$@" "$img"
    while IFS= read -r c; do
        set -- "$@" -c "$c"
    done < "$list"
    out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
}

# The initial image: its backing file, qemu-img create, the setup commands.
make_initial() {
    bopts=
    case $backing in
    raw) "$QEMU_IMG" create -q -f raw base.raw 4M &&
         "$QEMU_IO" -f raw -c 'write -P 0x33 0 4M' base.raw > /dev/null &&
         bopts="-b base.raw -F raw" ;;
    qed) "$QEMU_IMG" create -q -f qed base.qed 4M &&
         "$QEMU_IO" -f qed -c 'write -P 0x33 0 4M' base.qed > /dev/null &&
         bopts="-b base.qed -F qed" ;;
    esac || return 1
    # shellcheck disable=SC2086 # bopts is two or four words
    "$QEMU_IMG" create -q -f qed ${create_opts:+-o "$create_opts"} $bopts init.qed $size &&
    if [ -s "$setup_file" ]; then
        run_cmds "$setup_file" init.qed "$adapter" io
    fi
}

make_initial || { echo "qemu-compare: $name: cannot make the initial image" >&2; exit 2; }
cp init.qed blk.qed && cp init.qed shim.qed || exit 2

# 1. blklogwrites, through the adapter's io --trace.
run_cmds "$cmds_file" blk.qed "$adapter" io --trace blk.log --trace-sector-size "$sector" ||
    { echo "qemu-compare: $name: qemu-io failed under blklogwrites" >&2; exit 1; }
# 2. The shim, around the adapter's plain io (the shell loads the shim too,
#    but never opens the image, so only qemu-io records).
run_cmds "$cmds_file" shim.qed env QEDTRACE_FILE="$dir/shim.qed" \
    QEDTRACE_LOG="$dir/shim.log" QEDTRACE_SECTOR_SIZE="$sector" LD_PRELOAD="$shim" \
    "$adapter" io ||
    { echo "qemu-compare: $name: qemu-io failed under the shim" >&2; exit 1; }

# Same verdicts from init.qed for both traces: crash-check's exit status
# and the set of oracles broken.  (State ids may differ: requests in flight
# together complete in either order, and the shim adds labels such as the
# close mark, which shift the cut numbers.)
oracles_of() {
    sed -n 's/^\(O[1-5]\) state .*/\1/p' "$1" | sort -u | tr '\n' ' '
}

compare_verdicts() {
    qc=$builddir/qed-conform
    "$qc" crash-check --image init.qed --trace blk.log > blk.verdict 2>&1
    rb=$?
    "$qc" crash-check --image init.qed --trace shim.log > shim.verdict 2>&1
    rs=$?
    ob=$(oracles_of blk.verdict) os=$(oracles_of shim.verdict)
    verdict="crash-check exit $rb${ob:+, breaks $ob}"
    [ "$rb" -le 1 ] && [ "$rb" -eq "$rs" ] && [ "$ob" = "$os" ] && return 0
    echo "qemu-compare: $name: crash-check verdicts differ: blklogwrites exit $rb ($ob)," \
         "shim exit $rs ($os) (blk.verdict, shim.verdict in --keep DIR)" >&2
    return 1
}

status=0
if ! result=$("$shim_test" compare --epochs blk.log shim.log 2>&1); then
    printf 'qemu-compare: %s: the traces differ\n%s\n' "$name" "$result" >&2
    status=1
fi
if ! cmp -s blk.qed shim.qed; then
    echo "qemu-compare: $name: the images differ after the workload" >&2
    status=1
fi
compare_verdicts || status=1
[ $status -eq 0 ] &&
    echo "qemu-compare: $name: agree (${result#shim-test: blk.log and shim.log agree: }; $verdict)"
exit $status
