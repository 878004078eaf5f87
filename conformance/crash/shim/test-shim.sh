#!/bin/sh
# test-shim.sh - make test-shim: libqedtrace.so tested end to end.
#
# Usage: conformance/crash/shim/test-shim.sh BUILDDIR
#
#   1. shim-test's workload under the shim, at log sector sizes 512 and
#      4096: every intercepted call checked entry by entry (shim-test check),
#      and the stderr messages (the refused mmap, the forked child).
#   2. the refusals: each a MARK, once, and a message on stderr.
#   3. the environment: nothing set, QEDTRACE_LOG missing, a bad sector
#      size, a log another process holds, a log that cannot grow.
#   4. the comparison's own test (shim-test pairs): agrees where no crash
#      state can tell the traces apart, differs where one can.
#   5. qedtool's own recorder (`qedtool io --trace`) against the shim around
#      a plain `qedtool io`, on the same workloads: the same events in the
#      same order, and byte-identical images.
#
# Prints one line per failure and a summary; exit 0 when all pass.
set -u

[ $# -eq 1 ] || { echo "usage: $0 BUILDDIR" >&2; exit 2; }
build=$(cd "$1" && pwd) || exit 2
shim=$build/libqedtrace.so
st=$build/shim-test
qedtool=$build/qedtool
work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT
pass=0 fail=0 skipped=

ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "test-shim: FAIL: $*"; }

# traced DIR LOG SECTOR CMD...: CMD under the shim, tracing DIR/img.
traced() {
    t_dir=$1 t_log=$2 t_ss=$3
    shift 3
    QEDTRACE_FILE=$t_dir/img QEDTRACE_LOG=$t_log QEDTRACE_SECTOR_SIZE=$t_ss \
        LD_PRELOAD=$shim "$@"
}

# expect_lines FILE PATTERN...: FILE holds exactly one line matching each
# extended regex, and no other line.
expect_lines() {
    e_file=$1
    shift
    e_n=0
    for e_re in "$@"; do
        [ "$(grep -cE "$e_re" "$e_file")" -eq 1 ] || return 1
        e_n=$((e_n + 1))
    done
    [ "$(wc -l < "$e_file")" -eq "$e_n" ]
}

pid='\(pid [0-9]+\)'

# --- 1. the workload ------------------------------------------------------
for ss in 512 4096; do
    d=$work/run$ss
    mkdir "$d"
    if ! traced "$d" "$d/log" "$ss" "$st" run "$d" 2> "$d/stderr"; then
        bad "workload at sector size $ss: shim-test run failed: $(cat "$d/stderr")"
        continue
    fi
    if out=$("$st" check "$d" "$d/log" "$ss" 2>&1); then ok; else bad "$out"; fi
    if expect_lines "$d/stderr" \
        "^qedtrace: refused: shared writable mmap of the file $pid\$" \
        "^qedtrace: refused: forked child $pid: its calls are not recorded\$"; then
        ok
    else
        bad "workload at sector size $ss: stderr is not the two refusals:"; cat "$d/stderr"
    fi
done

# --- 2. the refusals ------------------------------------------------------
d=$work/refusals
mkdir "$d"
if traced "$d" "$d/log" 512 "$st" refusals "$d" 2> "$d/stderr" &&
   out=$("$st" check-refusals "$d/log" 2>&1); then
    ok
else
    bad "refusals: ${out:-shim-test refusals failed}"
fi
if expect_lines "$d/stderr" \
    "^qedtrace: refused: io_uring $pid\$" \
    "^qedtrace: refused: Linux native AIO \(io_submit\) on the file $pid\$" \
    "^qedtrace: refused: copy_file_range into the file $pid\$" \
    "^qedtrace: refused: splice into the file $pid\$" \
    "^qedtrace: refused: sendfile into the file $pid\$" \
    "^qedtrace: refused: fallocate mode 0x8 $pid\$" \
    "^qedtrace: refused: pwritev2 flags 0x40000000 $pid\$" \
    "^qedtrace: refused: stdio stream writing the file $pid\$" \
    "^qedtrace: refused: POSIX AIO on the file $pid\$" \
    "^qedtrace: refused: a writable descriptor of the file the shim did not see opened $pid\$" \
    "^qedtrace: refused: shared writable mmap of the file $pid\$"; then
    ok
else
    bad "refusals: stderr is not one line per refusal:"; cat "$d/stderr"
fi

# A process that records nothing still refuses what its audit finds.
if traced "$d" "$d/silent.log" 512 "$st" silent-map "$d" 2> "$d/stderr" &&
   "$st" check-refusals "$d/silent.log" "refused:shared writable mmap of the file" > /dev/null &&
   expect_lines "$d/stderr" "^qedtrace: refused: shared writable mmap of the file $pid\$"; then
    ok
else
    bad "a mapping only the audit sees: expected its refusal in $d/silent.log:"; cat "$d/stderr"
fi

# --- 3. the environment ---------------------------------------------------
d=$work/env
mkdir "$d"
# Nothing set: the shim is silent and records nothing.
if LD_PRELOAD=$shim "$st" pairs "$d" fff 2> "$d/stderr" && [ ! -s "$d/stderr" ]; then
    ok
else
    bad "no QEDTRACE_FILE: the shim spoke or the program failed: $(cat "$d/stderr")"
fi
# QEDTRACE_FILE without QEDTRACE_LOG: said once, the program runs as ever.
if QEDTRACE_FILE=$d/img LD_PRELOAD=$shim "$st" run "$d" 2> "$d/stderr" &&
   expect_lines "$d/stderr" \
       "^qedtrace: QEDTRACE_FILE is set but QEDTRACE_LOG is not: not recording $pid\$"; then
    ok
else
    bad "QEDTRACE_LOG unset: expected one message:"; cat "$d/stderr"
fi
# A bad sector size: said, no log.
if traced "$d" "$d/log" 1000 "$st" pairs "$d" fff 2> "$d/stderr" && [ ! -e "$d/log" ] &&
   expect_lines "$d/stderr" \
       "^qedtrace: QEDTRACE_SECTOR_SIZE=1000 is not a power of two in \[512, 65536\]: not recording $pid\$"; then
    ok
else
    bad "QEDTRACE_SECTOR_SIZE=1000: expected one message and no log:"; cat "$d/stderr"
fi
# A log another process holds (flock): refused, the log left alone.
if command -v flock > /dev/null; then
    : > "$d/held.log"
    if flock -o "$d/held.log" env QEDTRACE_FILE="$d/img" QEDTRACE_LOG="$d/held.log" \
           LD_PRELOAD="$shim" "$st" pairs "$d" fff 2> "$d/stderr" &&
       [ ! -s "$d/held.log" ] &&
       expect_lines "$d/stderr" \
           "^qedtrace: refused: .*held.log is being recorded by another process: not recording $pid\$"; then
        ok
    else
        bad "a held log: expected the refusal and an untouched log:"; cat "$d/stderr"
    fi
else
    echo "test-shim: SKIPPED a held log (no flock(1))"
    skipped=1
fi
# A log that cannot grow (RLIMIT_FSIZE 20 KiB; 4 KiB log sectors need more;
# the image itself stays under it): said, and the log spoilt, not a short
# trace that looks whole.
if (trap '' XFSZ; ulimit -f 40 &&
    traced "$d" "$d/small.log" 4096 "$st" pairs "$d" fff) 2> "$d/stderr" &&
   grep -qE "^qedtrace: writing the trace to .*small.log failed \(File too large\): the log is spoilt" \
       "$d/stderr" &&
   ! "$st" dump "$d/small.log" > /dev/null 2>&1; then
    ok
else
    bad "a log that cannot grow: expected the message and an unreadable log:"; cat "$d/stderr"
fi

# --- 4. the comparison's own test ------------------------------------------
for o in fff frf rff ffr; do
    mkdir "$work/p$o"
    if ! traced "$work/p$o" "$work/p$o/log" 512 "$st" pairs "$work/p$o" $o; then
        bad "shim-test pairs $o failed"
    fi
done
# compares WANT DESCRIPTION ARGS...: `shim-test compare ARGS` exits WANT.
compares() {
    c_want=$1 c_what=$2
    shift 2
    "$st" compare "$@" > /dev/null 2>&1
    if [ $? -eq "$c_want" ]; then ok; else bad "shim-test compare: $c_what"; fi
}
compares 0 "disjoint writes in another order must agree by epochs" \
    --epochs "$work/pfff/log" "$work/pfrf/log"
compares 1 "disjoint writes in another order must differ in order" \
    "$work/pfff/log" "$work/pfrf/log"
compares 1 "overlapping writes in another order must differ" \
    --epochs "$work/pfff/log" "$work/prff/log"
compares 1 "a write and a truncate in another order must differ" \
    --epochs "$work/pfff/log" "$work/pffr/log"

# --- 5. qedtool's recorder against the shim ---------------------------------
# qedtool_pair NAME SECTOR 'CREATE_OPTIONS' IO_ARGS...: the image made by
# `qedtool create CREATE_OPTIONS init.qed 4M`, then the session recorded
# both ways: `qedtool io --trace` and the shim around a plain `qedtool io`.
qedtool_pair() {
    q_name=$1 q_ss=$2 q_create=$3
    shift 3
    q=$work/qt-$q_name-$q_ss
    mkdir "$q"
    # shellcheck disable=SC2086 # q_create is a list of words without blanks
    (cd "$q" && "$qedtool" create $q_create init.qed 4M > /dev/null) ||
        { bad "qedtool $q_name: create failed"; return; }
    cp "$q/init.qed" "$q/rec.qed" && cp "$q/init.qed" "$q/img"
    (cd "$q" && "$qedtool" io --trace rec.log --trace-sector-size "$q_ss" rec.qed "$@") \
        > /dev/null || { bad "qedtool $q_name: io --trace failed"; return; }
    (cd "$q" && traced "$q" "$q/shim.log" "$q_ss" "$qedtool" io img "$@") > /dev/null ||
        { bad "qedtool $q_name: io under the shim failed"; return; }
    if out=$("$st" compare "$q/rec.log" "$q/shim.log" 2>&1) && cmp -s "$q/rec.qed" "$q/img"; then
        ok
    else
        bad "qedtool $q_name at sector size $q_ss: recorder and shim differ: $out"
    fi
}

if "$qedtool" capabilities 2> /dev/null | grep -qx io-trace; then
    head -c 4194304 /dev/zero | tr '\0' '3' > "$work/qt-base.raw"
    for ss in 512 4096; do
        qedtool_pair alloc $ss '' -c 'write -P 0x41 66048 4096'
        qedtool_pair flushes $ss '' -c 'write -P 0x41 0 4k' -c flush -c 'write -P 0x42 1M 100k'
        qedtool_pair crossing $ss '-o cluster_size=4k,table_size=1' \
            -c 'write -P 0x43 3000 70000' -c 'write -z 8k 4k' -c 'write -z 20000 100'
        qedtool_pair backing $ss '-b ../qt-base.raw -F raw' \
            -c 'write -P 0x41 66048 4096' -c 'write -z 1M 64k' -c 'write -z 2M 1000'
    done
else
    echo "test-shim: SKIPPED qedtool's recorder against the shim (qedtool has no io --trace)"
    skipped=1
fi

echo "test-shim: $pass passed, $fail failed${skipped:+, some SKIPPED (above)}"
[ $fail -eq 0 ]
