#!/bin/sh
# keep-test.sh - the test of --keep-failures' budget (make test-keep-failures):
# a failing case whose adapter leaves a 2 TiB sparse file (1 TiB in, six
# bytes of data) and a 2 MiB file of data in its scratch directory must
# not stall the runner.  The kept copy of the sparse file must be sparse
# (2 TiB long, a few blocks, its data at the same offset); with
# --keep-limit 1M the dense file is left out, named in the README and
# counted in the case's message; with the default budget it is kept.
#
# Usage: conformance/runner/keep-test.sh QED_CONFORM QEDTOOL
# Prints one line per check; exit 0 when all hold, 1 when one does not,
# 2 on a usage error.
set -u
if [ $# -lt 2 ] || [ "$1" = "--help" ]; then
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    [ "${1:-}" = "--help" ] && exit 0
    exit 2
fi
conform=$1
tool=$(cd "$(dirname "$2")" && pwd)/$(basename "$2") || exit 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/keep-test.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
case_id=read/geom-cs4k-ts1
kept=read_geom-cs4k-ts1
tib=1099511627776
bad=0

# problem TEXT: report one failed check.
problem() {
    echo "keep-test: FAIL: $1"
    bad=1
}

# An adapter whose info leaves huge.raw (2 TiB, sparse) and dense.raw
# (2 MiB of data) behind and reports a wrong size, so the case fails.
cat >"$tmp/leaves-huge" <<ADAPTER
#!/bin/sh
case \$1 in
capabilities) printf '%s\n' info convert; exit 0 ;;
info) truncate -s 2T huge.raw
      printf KEEPME | dd of=huge.raw bs=1 seek=$tib conv=notrunc 2>/dev/null
      head -c 2097152 /dev/urandom >dense.raw
      echo '{"virtual-size": 1}'; exit 0 ;;
*) exec '$tool' "\$@" ;;
esac
ADAPTER
chmod +x "$tmp/leaves-huge"

# run NAME OPTION...: the failing case, kept in $tmp/NAME; must exit 1
# (a failure) within 30 s.
run() {
    name=$1
    shift
    start=$(date +%s)
    timeout 120 "$conform" --impl "cmd:$tmp/leaves-huge" --filter "$case_id" \
        --keep-failures "$tmp/$name" --json "$tmp/$name.json" "$@" >"$tmp/$name.log" 2>&1
    rc=$?
    secs=$(($(date +%s) - start))
    [ "$rc" -eq 1 ] || problem "$name: exit $rc, expected 1 (the case fails): $(tail -n 3 "$tmp/$name.log")"
    [ "$secs" -le 30 ] || problem "$name: the run took $secs s (a stall)"
    echo "keep-test: $name: exit $rc after $secs s"
}

run limited --keep-limit 1M
dir=$tmp/limited/$kept
size=$(stat -c %s "$dir/after/huge.raw" 2>/dev/null || echo missing)
blocks=$(stat -c %b "$dir/after/huge.raw" 2>/dev/null || echo 0)
data=$(dd if="$dir/after/huge.raw" bs=1 skip=$tib count=6 2>/dev/null)
[ "$size" = 2199023255552 ] || problem "kept huge.raw is $size bytes, expected 2199023255552"
[ "$blocks" -gt 0 ] && [ "$blocks" -le 2048 ] ||
    problem "kept huge.raw has $blocks blocks allocated: not a sparse copy"
[ "$data" = KEEPME ] || problem "kept huge.raw holds '$data' at 1 TiB, expected KEEPME"
[ -f "$dir/valid/geom-cs4k-ts1.qed" ] || problem "the case's input file was not kept"
[ ! -e "$dir/after/dense.raw" ] || problem "dense.raw (2 MiB of data) kept under --keep-limit 1M"
grep -q '^  after/dense.raw: left out: 2097152 bytes' "$dir/README" ||
    problem "README does not list after/dense.raw as left out: $(tail -n 4 "$dir/README")"
grep -q -- '--keep-failures left out 1 file' "$tmp/limited.json" ||
    problem "the case's message does not say a file was left out"
[ $bad -eq 0 ] && echo "keep-test: limited: huge.raw kept sparse ($blocks blocks), dense.raw left out and listed"

run default
dir=$tmp/default/$kept
[ "$(stat -c %s "$dir/after/dense.raw" 2>/dev/null)" = 2097152 ] ||
    problem "dense.raw not kept under the default budget"
grep -q '^Nothing was left out' "$dir/README" || problem "README of the default run: $(tail -n 3 "$dir/README")"
[ $bad -eq 0 ] && echo "keep-test: default: dense.raw kept, nothing left out"
[ $bad -eq 0 ] && echo "keep-test: a 2 TiB sparse scratch file is kept sparse, the budget holds"
exit $bad
