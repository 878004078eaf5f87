#!/usr/bin/env bash
# run.sh - build every mutant of the reference and run the conformance
# suite against it.  A mutant is "killed" when the suite reports at least
# one failed case; the run fails unless every mutant is killed.
#
# usage: conformance/mutants/run.sh [BUILDDIR] [PATCH...]
#   BUILDDIR   the build directory holding qed-conform (default: build)
#   PATCH      mutant patches to run (default: conformance/mutants/*.patch)
#
# Each mutant is a copy of the top Makefile and ref/ (all a qedtool build
# needs) under BUILDDIR/mutants/NAME with one patch applied (git apply,
# which works outside a repository), built with `make PARTS=ref`, and run
# as `qed-conform --impl
# cmd:BUILDDIR/mutants/NAME/build/qedtool --fail-fast`.  The log of each run
# is kept in BUILDDIR/mutants/NAME.log.  A failure only means something
# when the unmutated reference fails nothing, so the reference is run first
# and any failure there stops the run; when make test has already judged
# these very binaries (clean_report below), its reports stand in for that
# run.
set -u -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
builddir=${1:-build}
shift || true
cd "$top" || exit 1
patches=("$@")
[ ${#patches[@]} -gt 0 ] || patches=(conformance/mutants/*.patch)
conform="$top/$builddir/qed-conform"
[ -x "$conform" ] || { echo "mutants: $conform not built (run make first)" >&2; exit 1; }

# run_suite QEDTOOL LOG: the fixed corpus, then (when that passes) the crash
# family; 2 jobs, the first failure ends each.  The log's last line is the
# summary of the run that decided.
run_suite() {
    "$conform" --impl "cmd:$1" -j 2 --fail-fast >"$2" 2>&1 || return
    "$conform" crash --impl "cmd:$1" -j 2 --fail-fast >>"$2" 2>&1
}

# clean_report JSON: true when JSON is a qed-conform report of --impl ref
# written after the qedtool and qed-conform in use were built, that passed
# every case and skipped none (make test's `conform` and `conform-crash`
# leave build/conform-ref.json and build/conform-crash-ref.json).
clean_report() {
    [ -f "$1" ] && [ "$1" -nt "$top/$builddir/qedtool" ] &&
        [ "$1" -nt "$conform" ] &&
        grep -q '^  "impl": "ref",$' "$1" &&
        grep -Eq '^  "passed": [1-9][0-9]*, "failed": 0, "skipped": 0,$' "$1"
}

baseline="$top/$builddir/mutants/reference.log"
mkdir -p "$top/$builddir/mutants"
if clean_report "$top/$builddir/conform-ref.json" &&
   clean_report "$top/$builddir/conform-crash-ref.json"; then
    # make test judged these very binaries on a superset of the fixed
    # corpus (with random cases) and on the whole crash family
    echo "reference: conform-ref.json and conform-crash-ref.json of these binaries" \
         "(make test) passed every case" > "$baseline"
    sed -n 's/^  "passed": \([0-9]*\), "failed": \([0-9]*\), "skipped": \([0-9]*\),$/\1 passed, \2 failed, \3 skipped/p' \
        "$top/$builddir/conform-crash-ref.json" >> "$baseline"
elif ! run_suite "$top/$builddir/qedtool" "$baseline"; then
    echo "mutants: the unmutated reference fails the suite ($(tail -n 1 "$baseline")); see $baseline" >&2
    exit 1
fi
echo "  reference                              $(tail -n 1 "$baseline")"

killed=0 total=0 survivors=()
for patch in "${patches[@]}"; do
    name=$(basename "$patch" .patch)
    dir="$top/$builddir/mutants/$name"
    log="$top/$builddir/mutants/$name.log"
    total=$((total + 1))
    rm -rf "$dir" && mkdir -p "$dir"
    # the sources a qedtool build needs, nothing else (ref/ builds alone)
    tar -cf - Makefile ref | tar -xf - -C "$dir"
    if ! (cd "$dir" && git apply "$top/$patch") >"$log" 2>&1; then
        echo "mutants: $name: patch does not apply (see $log)" >&2
        survivors+=("$name(patch-failed)")
        continue
    fi
    if ! make -s -C "$dir" PARTS=ref BUILDDIR=build build/qedtool >>"$log" 2>&1; then
        echo "mutants: $name: build failed (see $log)" >&2
        survivors+=("$name(build-failed)")
        continue
    fi
    run_suite "$dir/build/qedtool" "$log.run"
    rc=$?
    cat "$log.run" >>"$log" && rm -f "$log.run"
    summary=$(tail -n 1 "$log")
    if [ "$rc" -ne 0 ] && [[ "$summary" =~ ^[0-9]+\ passed,\ ([1-9][0-9]*)\ failed ]]; then
        killed=$((killed + 1))
        printf '  killed    %-28s %s\n' "$name" "$summary"
    else
        survivors+=("$name")
        printf '  SURVIVED  %-28s %s\n' "$name" "$summary"
    fi
done
echo "$killed/$total mutants killed"
if [ ${#survivors[@]} -gt 0 ]; then
    echo "mutants: not killed: ${survivors[*]}" >&2
    exit 1
fi
