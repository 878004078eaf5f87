#!/usr/bin/env bash
# mutants-unit.sh - measure the power of the libqed unit tests: build each
# mutant of the reference (conformance/mutants/*.patch, one broken rule
# each) with the CURRENT unit tests and run them.  A mutant is killed when
# unit-tests exits non-zero (a failed test or a crash).
#
# usage: ref/tests/mutants-unit.sh [--help] [PATCH...]
#   Scratch trees go to ${MUTANT_DIR:-build/mutants-unit}/NAME, with the
#   build log and test output beside them (NAME.log, NAME.out).
#   Exit status: 0 every mutant killed, 1 otherwise.
set -u
if [ "${1:-}" = "--help" ]; then
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
out=$(realpath -m "${MUTANT_DIR:-build/mutants-unit}")
patches=("$@")
[ ${#patches[@]} -gt 0 ] || patches=(conformance/mutants/*.patch)
killed=0 total=0 survivors=()
for patch in "${patches[@]}"; do
    name=$(basename "$patch" .patch)
    dir="$out/$name"
    total=$((total + 1))
    rm -rf "$dir" && mkdir -p "$dir"
    # ref/ builds alone: the top Makefile and ref/ are all a unit-test build needs
    tar -cf - Makefile ref | tar -xf - -C "$dir"
    if ! (cd "$dir" && git apply "$top/$patch") > "$out/$name.log" 2>&1 ||
       ! make -s -C "$dir" PARTS=ref BUILDDIR=build build/unit-tests >> "$out/$name.log" 2>&1; then
        echo "  BROKEN    $name (see $out/$name.log)"
        survivors+=("$name")
        continue
    fi
    (cd "$dir/build" && QED_RULES_TSV="$top/spec/rules.tsv" timeout 600 ./unit-tests) \
        > "$out/$name.out" 2>&1
    rc=$?
    summary=$(tail -n 1 "$out/$name.out")
    if [ $rc -ne 0 ]; then
        killed=$((killed + 1))
        printf '  killed    %-28s rc %-3s %s\n' "$name" "$rc" "$summary"
    else
        survivors+=("$name")
        printf '  SURVIVED  %-28s %s\n' "$name" "$summary"
    fi
done
echo "$killed/$total mutants killed by the unit tests"
[ ${#survivors[@]} -eq 0 ]
