# fuzz/common.sh - sourced by the fuzz/*.sh scripts (not run on its own).
# shellcheck shell=sh

# usage_check MIN_ARGS "$@": on --help, or with fewer than MIN_ARGS
# arguments, print the calling script's header comment (up to its first
# blank line) and exit 0 or 2.
usage_check() {
    min=$1
    shift
    if [ "${1:-}" = "--help" ] || [ $# -lt "$min" ]; then
        sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'
        [ "${1:-}" = "--help" ] && exit 0
        exit 2
    fi
}

# The harnesses: every fuzz/fuzz_*.c except the shared fuzz_util.c, so a
# new harness is picked up everywhere by adding its file.
all_harnesses() {
    for f in "$(dirname "$0")"/fuzz_*.c; do
        n=${f##*/}
        n=${n%.c}
        [ "$n" = fuzz_util ] || echo "$n"
    done
}

# option NAME KEY: the value of KEY in fuzz/NAME.options ([libfuzzer]
# section), or "".
option() {
    sed -n "s/^[ \t]*$2[ \t]*=[ \t]*//p" "fuzz/$1.options" 2>/dev/null | head -n 1
}

# stat LOG NAME: the value of libFuzzer's final statistic NAME in LOG.
stat() {
    sed -n "s/^stat::$2:[ \t]*//p" "$1" | tail -n 1
}
