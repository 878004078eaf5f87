#!/bin/bash -eu
# build.sh - ClusterFuzzLite / OSS-Fuzz build of the libqed fuzz harnesses.
#
# Honours the base-builder environment: $CC and $CFLAGS (sanitizer and
# coverage flags of the current build), $LIB_FUZZING_ENGINE (libFuzzer,
# AFL++ or honggfuzz driver), $OUT.  For each harness fuzz/fuzz_NAME.c it
# writes $OUT/fuzz_NAME, with fuzz_NAME.dict and fuzz_NAME.options beside
# it and the seeds of corpus/fuzz/fuzz_NAME/ (plus its regression inputs)
# as $OUT/fuzz_NAME_seed_corpus.zip.  Run locally (no Docker) with e.g.
#   SRC=/path/containing/qedref OUT=/tmp/out CC=clang CXX=clang++ \
#   CFLAGS=-fsanitize=address,fuzzer-no-link CXXFLAGS= \
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer,address .clusterfuzzlite/build.sh

cd "$SRC/qedref"
std="-std=c11 -D_POSIX_C_SOURCE=200809L -D_FILE_OFFSET_BITS=64 -Iref -Ifuzz"
work=$(mktemp -d)

# libqed and the shared helpers, compiled once with the build's flags.
for src in ref/qed.c ref/io.c ref/trace.c fuzz/fuzz_util.c; do
    $CC $CFLAGS $std -c "$src" -o "$work/$(basename "$src" .c).o"
done

for harness in fuzz/fuzz_*.c; do
    name=$(basename "$harness" .c)
    [ "$name" = fuzz_util ] && continue
    $CC $CFLAGS $std -c "$harness" -o "$work/$name.o"
    # The engine may be a C++ archive: link with $CXX.
    $CXX $CXXFLAGS "$work/$name.o" "$work/qed.o" "$work/io.o" "$work/trace.o" \
        "$work/fuzz_util.o" $LIB_FUZZING_ENGINE -o "$OUT/$name"
    cp "fuzz/$name.dict" "fuzz/$name.options" "$OUT/"
    # Seeds plus fixed regressions (not those still in fuzz/KNOWN-CRASHES).
    rm -f "$OUT/${name}_seed_corpus.zip"
    for f in corpus/fuzz/"$name"/* corpus/regressions/"$name"-*; do
        [ -f "$f" ] || continue
        grep -q "^$(basename "$f")[[:space:]]" fuzz/KNOWN-CRASHES && continue
        echo "$f"
    done | zip -q -j "$OUT/${name}_seed_corpus.zip" -@
done
rm -rf "$work"
