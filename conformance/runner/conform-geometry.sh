#!/bin/sh
# conform-geometry.sh - the write family against an implementation that
# cannot choose its geometry (make conform-geometry), through
# conformance/adapters/fixed-geometry (the reference, its `create` ignoring
# the options it cannot honour).
#
# Usage: conformance/runner/conform-geometry.sh BUILDDIR
#   BUILDDIR holds qed-conform and qedtool; the logs go there
#   (conform-geometry-MODE.log).  The cases are the fixed corpus's.
#
# Checks, for the modes of the adapter: (1) table (declares
# create-cluster-size only) and both (declares neither): no write case
# fails, the skipped cases are exactly the write cases about geometry (flags
# Geometry or L2Boundary in the manifest) and each skip names the create
# option capability the mode lacks and no other; in mode both, cases are
# judged at the implementation's own geometry; (2) liar (declares both,
# ignores table_size): cases fail saying the table_size made; (3) mode both
# over the faulty adapter's lostwrite fault: the cases judged at the own
# geometry fail on their content (all but the one that writes only zeroes),
# so that judgement can fail.  Prints the counts; exit 0 when all hold, 1
# when one does not, 2 on a usage error.
set -u
if [ $# -lt 1 ] || [ "$1" = "--help" ]; then
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
    [ "${1:-}" = "--help" ] && exit 0
    exit 2
fi
b=$1
here=$(cd "$(dirname "$0")" && pwd)
adapter=$here/../adapters/fixed-geometry
conform=$b/qed-conform
tool=$(cd "$b" && pwd)/qedtool
manifest=$here/../../corpus/golden/manifest.json
bad=0

# problem TEXT: report one failed check.
problem() {
    echo "conform-geometry: $1"
    bad=1
}


# The write cases about geometry, from the manifest's flags (sorted ids).
about=$(awk '/"id": "write\//{ id = $2; gsub(/[",]/, "", id) }
             /"flags":/ && id != "" && /"(Geometry|L2Boundary)"/ { print id; id = "" }' \
            "$manifest" | sort)
[ -n "$about" ] || problem "no write case about geometry in $manifest"

# check_mode MODE LACKS NOT: (1) for one mode.
check_mode() {
    log=$b/conform-geometry-$1.log
    FIXED_GEOMETRY=$1 FIXED_GEOMETRY_TOOL=$tool "$conform" --impl "cmd:$adapter" \
        --filter 'write/*' -v -j 2 >"$log" 2>&1 ||
        problem "mode $1: the run exited $? (see $log)"
    skipped=$(awk '/^skip /{ sub(":", "", $2); print $2 }' "$log" | sort)
    [ "$skipped" = "$about" ] ||
        problem "mode $1: skipped $(echo $skipped), expected the geometry cases $(echo $about)"
    named=$(grep -c "^skip .*lacks .*'$2'.*about the geometry" "$log")
    [ "$named" -eq "$(echo "$about" | wc -l)" ] || problem "mode $1: $named skips name '$2'"
    if [ -n "$3" ] && grep -q "^skip .*'$3'" "$log"; then
        problem "mode $1: a skip blames '$3', which the adapter declares"
    fi
    grep -q '^FAIL ' "$log" && problem "mode $1: failures: $(grep -m 3 '^FAIL ' "$log")"
    echo "conform-geometry: mode $1: $(tail -n 1 "$log")"
}

check_mode table create-table-size create-cluster-size
check_mode both create-cluster-size ""
own=$(grep -c "^pass .*judged at the implementation's own geometry" "$b/conform-geometry-both.log")
[ "$own" -gt 0 ] || problem "mode both: no case judged at the implementation's own geometry"
echo "conform-geometry: mode both: $own cases judged at the implementation's own geometry"

# (2) a false claim fails
log=$b/conform-geometry-liar.log
FIXED_GEOMETRY=liar FIXED_GEOMETRY_TOOL=$tool "$conform" --impl "cmd:$adapter" \
    --filter 'write/*' -v -j 2 >"$log" 2>&1
n=$(grep -c "^FAIL .*made an image with table_size 4 (the adapter declares 'create-table-size')" "$log")
[ "$n" -gt 0 ] || problem "mode liar: no case failed on the table_size made (see $log)"
echo "conform-geometry: mode liar: $n cases failed on the table_size made"

# (3) the own-geometry judgement can fail
log=$b/conform-geometry-lostwrite.log
FIXED_GEOMETRY=both FIXED_GEOMETRY_TOOL=$here/../adapters/faulty QED_CONFORM_TOOL=$tool \
    QED_CONFORM_FAULT=lostwrite "$conform" --impl "cmd:$adapter" --filter 'write/*' \
    -v -j 2 >"$log" 2>&1
lost=$(grep -c "^FAIL .*content at the implementation's own geometry" "$log")
# write/zero-no-backing alone reads all zeroes with its writes lost as well
passed=$(grep '^pass ' "$log" | grep -v '^pass write/zero-no-backing' | head -n 3)
[ "$lost" -gt 0 ] && [ -z "$passed" ] ||
    problem "lostwrite: $lost cases failed on their own-geometry content; passed: $passed"
echo "conform-geometry: lostwrite: $lost cases failed on their content at the own geometry"
[ $bad -eq 0 ] && echo "conform-geometry: non-geometry write cases pass at the implementation's geometry; geometry cases skipped naming the option"
exit $bad
