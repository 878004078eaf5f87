#!/bin/sh
# ci/ref-alone.sh - prove that ref/ (libqed, qedtool and their unit tests)
# builds from a tree holding nothing but the top Makefile and ref/: no
# conformance/, fuzz/, ci/ or spec/.  What `make ref-alone` runs.
#
# Usage: ci/ref-alone.sh [MAKE ARGS...]   (e.g. CC=clang CFLAGS=-O0)
#
# Copies Makefile and ref/ into a scratch directory (under $TMPDIR or
# /tmp, removed afterwards), runs `make PARTS=ref` there for libqed.a,
# libqed.so, qedtool and unit-tests, then runs `qedtool --version`.
# Exit status: 0 when all of it built and ran, 1 otherwise.
set -u
case ${1:-} in --help) sed -n '/^[^#]/q; 2,$ s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ref-alone.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
(cd "$top" && tar -cf - Makefile ref) | tar -xf - -C "$tmp" || exit 1
# a make of its own (not this make's job server, flags or dry run)
if ! MAKEFLAGS='' make -s --no-print-directory -C "$tmp" PARTS=ref BUILDDIR=build "$@" \
        build/libqed.a build/libqed.so build/qedtool build/unit-tests >"$tmp.log" 2>&1 ||
   ! "$tmp/build/qedtool" --version >>"$tmp.log" 2>&1; then
    cat "$tmp.log"
    rm -f "$tmp.log"
    echo "ref-alone: ref/ does not build without the rest of the tree"
    exit 1
fi
rm -f "$tmp.log"
echo "ref-alone: libqed, qedtool and the unit tests build from Makefile + ref/ alone"
