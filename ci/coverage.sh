#!/usr/bin/env bash
# ci/coverage.sh - line and branch coverage of ref/ (libqed and qedtool).
#
# Usage: ci/coverage.sh            (what `make coverage` runs)
#
# Builds a separate tree with --coverage -O0 in build/cov, zeroes its
# counters, runs there whichever of these targets exist: test-unit (CUnit),
# test-cli (qedtool's CLI tests), test-interop (qedtool against QEMU),
# conform (the conformance suite), fuzz-replay (the fuzz corpora), then
# captures with lcov, keeps ref/ minus ref/tests/, writes HTML into
# build/coverage/ and prints lcov's lines/functions/branches summary.
#
# Exit status: 0 when every test target passed; 1 when one failed (the
# report is still written, from what ran); 2 when lcov is missing.

set -euo pipefail

COV_BUILDDIR=${COV_BUILDDIR:-build/cov}
HTML_DIR=${HTML_DIR:-build/coverage}
TARGETS=(test-unit test-cli test-cli-errors test-interop conform fuzz-replay)
LCOV_RC=(--rc lcov_branch_coverage=1)
MAKE=${MAKE:-make}

# cov_make ARGS...: make in the coverage tree, quietly.
cov_make() {
	"$MAKE" --no-print-directory BUILDDIR="$COV_BUILDDIR" \
		CFLAGS='-O0 -g --coverage' LDFLAGS='--coverage' "$@"
}

# target_exists T: true when the Makefile has a rule for T.
target_exists() { "$MAKE" -n "$1" >/dev/null 2>&1; }

# run_tests: run each existing test target; false when any failed.
run_tests() {
	local t ok=0
	for t in "${TARGETS[@]}"; do
		if ! target_exists "$t"; then
			echo "coverage: no target $t, not run"
			continue
		fi
		echo "coverage: running $t"
		cov_make "$t" </dev/null || { echo "coverage: $t FAILED"; ok=1; }
	done
	return "$ok"
}

# capture: lcov data for ref/ (not ref/tests/) into $COV_BUILDDIR/ref.info.
capture() {
	local all=$COV_BUILDDIR/all.info out=$COV_BUILDDIR/ref.info
	# lcov 1.16's geninfo warns that it redefines its own subroutines.
	lcov -q "${LCOV_RC[@]}" --capture --no-external --base-directory . \
		--directory "$COV_BUILDDIR/obj/ref" --output-file "$all" \
		2> >(grep -v ' redefined at ' >&2)
	lcov -q "${LCOV_RC[@]}" --remove "$all" '*/ref/tests/*' --output-file "$out"
}

main() {
	[[ ${1:-} == -h || ${1:-} == --help ]] && { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0"; exit 0; }
	if ! command -v lcov >/dev/null || ! command -v genhtml >/dev/null; then
		echo "coverage: SKIPPED: lcov not installed (run ci/install-deps)" >&2
		exit 2
	fi
	cov_make -j2 "$COV_BUILDDIR/qedtool" "$COV_BUILDDIR/unit-tests"
	lcov -q --zerocounters --directory "$COV_BUILDDIR"

	local status=0
	run_tests || status=1
	capture
	genhtml -q "${LCOV_RC[@]}" --output-directory "$HTML_DIR" \
		"$COV_BUILDDIR/ref.info" >/dev/null
	lcov "${LCOV_RC[@]}" --summary "$COV_BUILDDIR/ref.info" 2>&1 |
		grep -E '^ *(lines|functions|branches)\.*:'
	echo "coverage: HTML report in $HTML_DIR/index.html"
	[[ $status -eq 0 ]] || echo "coverage: some test targets FAILED" >&2
	exit "$status"
}

main "$@"
