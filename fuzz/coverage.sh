#!/bin/sh
# coverage.sh - line and branch coverage of ref/ reached by the seed
# corpora and regression inputs (make fuzz-coverage).
#
# Usage: fuzz/coverage.sh [--help] OUTDIR
#
# Builds every harness with $CC (default cc) --coverage -O0 and the replay
# driver into OUTDIR, replays corpus/fuzz/fuzz_NAME/ and the harness's
# regression inputs (except fuzz/KNOWN-CRASHES) through it, and reports with lcov (branch coverage on)
# the lines and branches of ref/qed.c, ref/io.c and ref/trace.c that ran:
# the summary is printed, the tracefile is OUTDIR/ref.info, HTML (if genhtml is installed)
# goes to OUTDIR/html/.

set -u
. "$(dirname "$0")/common.sh"
usage_check 1 "$@"
out=$1
cc=${CC:-cc}
flags="-std=c11 -D_POSIX_C_SOURCE=200809L -D_FILE_OFFSET_BITS=64 -Iref -O0 -g --coverage"
rc="--rc lcov_branch_coverage=1"
rm -rf "$out"
mkdir -p "$out"
for n in $(all_harnesses); do
    mkdir -p "$out/$n"
    # Objects per harness so each .gcda belongs to one build directory.
    (cd "$out/$n" && $cc $flags -c "$OLDPWD/fuzz/$n.c" "$OLDPWD/fuzz/fuzz_util.c" \
        "$OLDPWD/fuzz/replay_main.c" "$OLDPWD/ref/qed.c" "$OLDPWD/ref/io.c" \
        "$OLDPWD/ref/trace.c" -I"$OLDPWD/ref") || exit 1
    $cc --coverage -o "$out/$n/$n" "$out/$n"/*.o || exit 1
    set --
    for f in corpus/fuzz/"$n"/* corpus/regressions/"$n"-*; do
        [ -f "$f" ] || continue
        grep -q "^$(basename "$f")[ 	]" fuzz/KNOWN-CRASHES 2>/dev/null &&
            continue
        set -- "$@" "$f"
    done
    "$out/$n/$n" --quiet "$@" | tail -n 1 | sed "s/^/$n: /"
done
lcov -q $rc --capture --directory "$out" --output-file "$out/all.info" \
    2>/dev/null || exit 1
lcov -q $rc --extract "$out/all.info" '*/ref/qed.c' '*/ref/io.c' '*/ref/trace.c' \
    --output-file "$out/ref.info" 2>/dev/null || exit 1
lcov $rc --summary "$out/ref.info" 2>&1 | grep -E 'lines|functions|branches'
if command -v genhtml >/dev/null 2>&1; then
    genhtml -q $rc --output-directory "$out/html" "$out/ref.info" 2>/dev/null
fi
