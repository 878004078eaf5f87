#!/usr/bin/env bash
# ci/doc-examples.sh - run every command example of the documentation and
# of the --help texts, taken from the files and the help output themselves,
# so that an example is tested exactly as a reader sees it.  What
# `make doc-examples` runs.
#
# Usage: ci/doc-examples.sh [-v] [-j N] [--list] [--only GLOB] BUILDDIR
#   -v          also show the output of the examples that passed
#   -j N        run N blocks at once (default 1)
#   --list      print every example found (SOURCE:LINE, then the command)
#               and what would happen to it; run nothing
#   --only GLOB only the examples whose SOURCE (a file name, or a help
#               command such as "qedtool help io") matches GLOB; the
#               check for stale entries is then left out
#
# What is an example:
#   - Markdown (DOC_FILES below): every line of a fence opened with ```sh
#     (blank lines and lines starting with # aside; a line ending in \
#     goes on on the next); and, in a table, every code span of a column
#     headed "example", and every code span of a column headed "command"
#     that starts with qedtool, qed-conform, make or build/.  Other
#     fences (```, ```c) and code spans in prose are never run.
#   - Help texts (HELP_COMMANDS below, and `qedtool help CMD` for every
#     command under COMMANDS in `qedtool --help`): every line under a
#     heading "EXAMPLES", "Examples:" or "Example:", up to the next line
#     that starts in the first column.
# A fence, a help text's examples, or one table row is a block: its
# examples run in order, in one fresh scratch directory, each by
# `bash -o pipefail -c`, with BUILDDIR first on PATH, standard input
# /dev/null and a time limit of $EXAMPLE_TIMEOUT seconds (default 300).
# An example must exit 0, or N when it carries the comment "# exits N"
# (or is listed in EXPECT below, for help texts that cannot say so).
#
# The scratch directory of every block starts with these files:
#   disk.qed       a 16 MiB QED image, 64 KiB clusters, 0xab in its first
#                  64 KiB, cleanly closed
#   disk.raw       disk.qed's content as a raw file (so compare finds them equal)
#   base.raw       a 16 MiB raw file, 0x5a in its first 1 MiB
#   overlay.qed    a QED image over base.raw (-F raw), 0xcd at 4 MiB..+64 KiB
#   new.raw, new-base.raw   copies of base.raw (for the rebase examples)
#   suspicious.qed disk.qed with NEED_CHECK set, as a crash leaves an image
#   myadapter      a qed-conform adapter that runs qedtool ("exec qedtool")
#   build, conformance, corpus, ref   links to BUILDDIR and to the source's
#                  folders, so that paths written from the top of a clone
#                  (build/qedtool, conformance/adapters/example) resolve;
#                  EXAMPLE_TOOL is BUILDDIR/qedtool for the example adapter
#
# An example that cannot run here is listed in EXCLUDE below with the
# reason, and printed as EXCL on every run; an excluded `make` example
# still has its target names checked against the Makefile.  An EXCLUDE or
# EXPECT entry that matches no example fails the run (the text changed), and
# so does an examples heading in the C sources of a help text not read.
# An example that needs a tool this machine lacks (OPTIONAL_TOOLS) is
# SKIPPED, and counted as such.  A failure names SOURCE:LINE, the exit
# status and the expected one, then the example's output.  Last line:
# "N passed, N failed, N skipped"; exit status 1 when any example failed
# or an entry is stale, 2 on a usage or setup error.
set -u

DOC_FILES=(README.md conformance/ADAPTERS.md conformance/crash/shim/README.md
           conformance/adapters/kit/README.md)

# Help texts whose examples run, besides `qedtool help CMD` for each command
# listed under COMMANDS in `qedtool --help`.
HELP_COMMANDS=(
    "qedtool --help"
    "qed-conform --help"
    "qed-conform crash-check --help"
    "qed-conform golden --help"
    "qed-conform trace dump --help"
    "qed-conform adapter-check --help"
    "qed-conform crash-golden --help"
)

# Examples not run, by their text (without a trailing "# comment"), with
# the reason.
declare -A EXCLUDE=(
    ["make"]="the build itself: this target depends on it"
    ["make test"]="it runs this script"
    ["make doc-examples"]="this script"
    ["make conform"]="in TEST_TARGETS: make test runs it"
    ["make conform-qemu"]="in TEST_TARGETS: make test runs it"
    ["make golden-check"]="in TEST_TARGETS: make test runs it"
    ["make ref-alone"]="in TEST_TARGETS: make test runs it"
    ["make spec-check"]="in TEST_TARGETS: make test runs it"
    ["make test-conform-unit"]="in TEST_TARGETS: make test runs it"
    ["make conform-selftest"]="in TEST_TARGETS: make test runs it"
    ["make SANITIZE=address,undefined BUILDDIR=build/asan"]="a second full build of the tree (minutes)"
    ["make test-asan"]="its own CI stage: an ASan build, the unit tests and the suite (minutes)"
    ["make test-valgrind"]="its own CI stage: the unit tests under valgrind (minutes)"
    ["make mutants"]="builds and runs the suite on every mutant (minutes)"
    ["make golden"]="rewrites corpus/golden in the source tree (make golden-check covers it)"
    ["make fuzz FUZZ_SECONDS=60"]="its own CI stage: a minute per harness, needs clang's libFuzzer"
    ["make fuzz-afl"]="an AFL++ build (minutes; needs afl++)"
    ["make fuzz-merge"]="rewrites the seed corpora in the source tree"
    ["make coverage"]="its own CI stage: a coverage build and every test (minutes)"
    ["make bench"]="a benchmark (minutes; the figures need a quiet machine)"
    ["make install PREFIX=/usr/local DESTDIR="]="writes to /usr/local"
    ["make conform-html"]="runs the whole suite against the reference and against QEMU (minutes)"
    ["make conform-crash"]="in TEST_TARGETS: make test runs it"
    ["make conform-crash-qemu"]="in TEST_TARGETS: make test runs it"
    ["make traces-check"]="in TEST_TARGETS: make test runs it"
    ["make traces"]="rewrites corpus/traces in the source tree (make traces-check covers it)"
    ["make bench-crash"]="a benchmark (minutes; the figures need a quiet machine)"
)

# Expected exit statuses of help-text examples that cannot carry "# exits N"
# (keyed as EXCLUDE is): the status, a space, the reason.
declare -A EXPECT=(
    ["qed-conform --impl qemu --filter 'read/*' -j 2"]="1 QEMU's known read deviations (conformance/KNOWN-DEVIATIONS.md)"
)

# Tools an example may need that make test does not install: an example
# naming one (as a word) is skipped without it.  "--impl qemu" needs both
# qemu tools.
OPTIONAL_TOOLS=(jq less qemu-img qemu-io)

usage() { sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

verbose=0 jobs=1 list=0 only=
while [ $# -gt 0 ]; do
    case $1 in
    -v) verbose=1 ;;
    -j) [ $# -ge 2 ] || { usage >&2; exit 2; }; jobs=$2; shift ;;
    --list) list=1 ;;
    --only) [ $# -ge 2 ] || { usage >&2; exit 2; }; only=$2; shift ;;
    --help) usage; exit 0 ;;
    -*) usage >&2; exit 2 ;;
    *) break ;;
    esac
    shift
done
if [ $# -ne 1 ] || ! [[ $jobs =~ ^[1-9][0-9]*$ ]]; then usage >&2; exit 2; fi
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" 2>/dev/null && pwd) || { echo "doc-examples: no build directory $1" >&2; exit 2; }
for tool in qedtool qed-conform; do
    [ -x "$build/$tool" ] || { echo "doc-examples: $build/$tool not built (run make)" >&2; exit 2; }
done
timeout_s=${EXAMPLE_TIMEOUT:-300}
work=$(mktemp -d "${TMPDIR:-/tmp}/doc-examples.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
export PATH="$build:$PATH"

# ---------------------------------------------------------------- finding

# extract_markdown SOURCE < FILE: one record per example,
# "SOURCE<TAB>LINE<TAB>BLOCK<TAB>TEXT" (BLOCK: the line its block starts at).
extract_markdown() {
    awk -v src="$1" '
    function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
    function emit(line, block, text) {
        gsub(/\t/, " ", text)
        print src "\t" line "\t" block "\t" trim(text)
    }
    # a fence line: open or close
    /^[ \t]*```/ {
        if (fence) { fence = 0; pending = ""; next }
        fence = 1; sh = trim(substr(trim($0), 4)) == "sh"; start = NR; intable = 0
        next
    }
    fence && !sh { next }
    fence {
        if (pending == "") {
            t = trim($0)
            if (t == "" || t ~ /^#/) next
            first = NR; cur = t
        } else
            cur = pending " " trim($0)
        if (cur ~ /\\$/) { pending = trim(substr(cur, 1, length(cur) - 1)); next }
        pending = ""
        emit(first, start, cur)
        next
    }
    # a table row: header, separator or body
    /^[ \t]*\|/ {
        row = $0; gsub(/\\\|/, "\001", row)
        n = split(row, cell, "|")
        if (!intable) {
            intable = 1; delete col
            for (i = 2; i < n; i++) col[i] = tolower(trim(cell[i]))
            next
        }
        if (row ~ /^[ \t]*\|[-:| \t]+$/) next
        for (i = 2; i < n; i++) {
            if (col[i] != "example" && col[i] != "command") continue
            c = cell[i]
            while (match(c, /`[^`]+`/)) {
                span = substr(c, RSTART + 1, RLENGTH - 2)
                c = substr(c, RSTART + RLENGTH)
                gsub(/\001/, "|", span)
                if (col[i] == "example" || span ~ /^(qedtool|qed-conform|make)( |$)|^build\//)
                    emit(NR, NR, span)
            }
        }
        next
    }
    { intable = 0 }'
}

# extract_help SOURCE < HELP-OUTPUT: the records of its examples section.
extract_help() {
    awk -v src="$1" '
    function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
    /^(EXAMPLES|Examples?:)[ \t]*$/ { inex = 1; head = NR; next }
    inex && /^[^ \t]/ { inex = 0 }
    !inex { next }
    {
        if (pending == "") {
            t = trim($0)
            if (t == "") next
            first = NR; cur = t
        } else
            cur = pending " " trim($0)
        if (cur ~ /\\$/) { pending = trim(substr(cur, 1, length(cur) - 1)); next }
        pending = ""
        gsub(/\t/, " ", cur)
        print src "\t" first "\t" head "\t" cur
    }'
}

# find_examples: every record, documentation first, then the help texts.
find_examples() {
    local f c
    for f in "${DOC_FILES[@]}"; do
        [ -f "$top/$f" ] || { echo "doc-examples: $f is missing" >&2; return 2; }
        extract_markdown "$f" <"$top/$f"
    done
    local helps=("${HELP_COMMANDS[@]}")
    for c in $(qedtool --help | awk '/^COMMANDS/ { on = 1; next }
                                     /^[^ \t]/ { on = 0 } on && NF { print $1 }'); do
        helps+=("qedtool help $c")
    done
    for c in "${helps[@]}"; do
        # shellcheck disable=SC2086  # the words of the help command
        $c >"$work/help.txt" 2>&1 || { echo "doc-examples: '$c' failed" >&2; return 2; }
        extract_help "$c" <"$work/help.txt"
        if grep -qE '^(EXAMPLES|Examples?:)[[:space:]]*$' "$work/help.txt"; then
            echo "$c" >>"$work/helps"
        fi
    done
    touch "$work/helps"
}

# unread_help_examples: fail when the C sources hold more examples headings
# than the help texts read here show (a new help text with examples that
# HELP_COMMANDS does not name).
unread_help_examples() {
    local in_src shown
    in_src=$(cd "$top" && grep -rhE '^"(EXAMPLES|Examples?:)\\n"' --include='*.c' ref conformance |
             wc -l)
    shown=$(wc -l <"$work/helps")
    [ "$in_src" -le "$shown" ] ||
        echo "FAIL ci/doc-examples.sh: the sources hold $in_src help texts with examples, HELP_COMMANDS reaches $shown"
}

# where SOURCE LINE BLOCK TEXT: SOURCE:LINE; for a help text (BLOCK the
# line of its examples heading) also the C file and line of the example,
# found as the line that starts with the example's text and is as far below
# a heading "EXAMPLES\n" or "Example(s):\n" in the source as the example is
# below its heading in the output.
where() {
    local src=$1 line=$2 blk=$3 text=$4 needle files hit
    case $src in
    *.md) echo "$src:$line"; return ;;
    qedtool*) files=(ref/qedtool.c) ;;
    *) files=(conformance/runner/*.c conformance/crash/*.c conformance/golden/*.c) ;;
    esac
    needle=${text%%[\\\"]*}
    needle=${needle:0:40}
    hit=$(cd "$top" && awk -v off=$((line - blk)) -v needle="$needle" '
        FNR == 1 { delete head }
        /^"(EXAMPLES|Examples?:)\\n"/ { head[FNR + off] = 1 }
        FNR in head {
            line = $0; sub(/^"[ \t]*/, "", line)
            if (index(line, needle) == 1) { print FILENAME ":" FNR; exit }
        }
    ' "${files[@]}" 2>/dev/null)
    echo "$src, line $line${hit:+ ($hit)}"
}

# ---------------------------------------------------------------- judging

# key TEXT: TEXT without its trailing comment (from the first # that
# follows a blank outside quotes), as EXCLUDE and EXPECT name an example.
key() {
    local s=$1 i c q=
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        if [ -n "$q" ]; then
            [ "$c" = "$q" ] && q=
        elif [ "$c" = "'" ] || [ "$c" = '"' ]; then
            q=$c
        elif [ "$c" = '#' ] && [ "$i" -gt 0 ] && [[ ${s:i-1:1} == [[:space:]] ]]; then
            s=${s:0:i}
            echo "${s%"${s##*[![:space:]]}"}"
            return
        fi
    done
    echo "$s"
}

# expected_status TEXT: the status the example must exit with: N from its
# comment "# exits N", else EXPECT's, else 0.
expected_status() {
    local k comment re='^[[:space:]]*#[[:space:]]*exits[[:space:]]+([0-9]+)'
    k=$(key "$1")
    comment=${1:${#k}}
    if [[ $comment =~ $re ]]; then echo "${BASH_REMATCH[1]}"
    elif [ -n "${EXPECT[$k]+x}" ]; then echo "${EXPECT[$k]%% *}"
    else echo 0; fi
}

# missing_tool TEXT: the first optional tool the example needs that is not
# installed, or nothing.
missing_tool() {
    local t words=" $1 "
    [[ $words == *" --impl qemu "* ]] && words="$words qemu-img qemu-io "
    for t in "${OPTIONAL_TOOLS[@]}"; do
        if [[ $words =~ [^[:alnum:]_.-]${t}[^[:alnum:]_.-] ]] && ! command -v "$t" >/dev/null; then
            echo "$t"
            return
        fi
    done
}

# list_make_targets: every target the top Makefile defines, one per line,
# into $work/targets (before the blocks start: they only read it).
list_make_targets() {
    MAKEFLAGS='' make -C "$top" -pq FORCE 2>/dev/null |
        sed -n 's/^\([A-Za-z0-9_.\/-]*\):.*/\1/p' | sort -u >"$work/targets"
}

# check_make_example TEXT: print the target names of an excluded make
# example that the Makefile does not define.
check_make_example() {
    local w targets=()
    for w in $1; do
        case $w in make) ;; -*|*=*) ;; *) targets+=("$w") ;; esac
    done
    [ ${#targets[@]} -gt 0 ] || targets=(all)
    for w in "${targets[@]}"; do
        grep -qxF -- "$w" "$work/targets" || echo "$w"
    done
}

# ---------------------------------------------------------------- running

# make_setup DIR: the files every block starts with (see the header).
make_setup() {
    local d=$1
    mkdir -p "$d" && cd "$d" || return 1
    qedtool create -q disk.qed 16M &&
        qedtool io disk.qed -c 'write -q -P 0xab 0 64k' &&
        qedtool convert -O raw disk.qed disk.raw &&
        head -c 1048576 /dev/zero | tr '\0' '\132' >base.raw &&
        truncate -s 16M base.raw &&
        cp base.raw new.raw && cp base.raw new-base.raw &&
        qedtool create -q -b base.raw -F raw overlay.qed &&
        qedtool io overlay.qed -c 'write -q -P 0xcd 4M 64k' &&
        cp disk.qed suspicious.qed &&
        printf '\002' | dd of=suspicious.qed bs=1 seek=16 conv=notrunc status=none &&
        printf '#!/bin/sh\nexec qedtool "$@"\n' >myadapter && chmod +x myadapter &&
        ln -s "$build" build && ln -s "$top/conformance" conformance &&
        ln -s "$top/corpus" corpus && ln -s "$top/ref" ref
}

# run_block N: run the examples of block N ($work/block.N, one record per
# line) in a copy of the setup; results to $work/result.N (one line per
# example: SOURCE<TAB>pass|fail|skip|excl) and the report to $work/log.N.
run_block() {
    local n=$1 dir src line blk text want rc why miss k t0 secs at
    dir=$work/scratch.$n
    cp -a "$work/setup" "$dir" || return 1
    while IFS=$'\t' read -r src line blk text; do
        at=$(where "$src" "$line" "$blk" "$text")
        if k=$(key "$text") && [ -n "${EXCLUDE[$k]+x}" ]; then
            why=${EXCLUDE[$k]}
            miss=
            [[ $k == make* ]] && miss=$(check_make_example "$k" | tr '\n' ' ')
            if [ -n "$miss" ]; then
                echo "FAIL $at: excluded, but the Makefile has no target ${miss% }: $text"
                printf '%s\tfail\n' "$src" >>"$work/result.$n"
            else
                echo "EXCL $at: $text  ($why)"
                printf '%s\texcl\n' "$src" >>"$work/result.$n"
            fi
            continue
        fi
        miss=$(missing_tool "$text")
        if [ -n "$miss" ]; then
            echo "SKIP $at: needs $miss: $text"
            printf '%s\tskip\n' "$src" >>"$work/result.$n"
            continue
        fi
        want=$(expected_status "$text")
        t0=$(date +%s%N)
        (cd "$dir" && EXAMPLE_TOOL=$build/qedtool timeout "$timeout_s" \
            bash -o pipefail -c "$text") </dev/null >"$work/out.$n" 2>&1
        rc=$?
        secs=$(( ($(date +%s%N) - t0) / 100000000 ))
        secs="[$((secs / 10)).$((secs % 10)) s]"
        if [ "$rc" -eq "$want" ]; then
            echo "ok   $at: $text  $secs"
            [ "$verbose" = 1 ] && sed 's/^/       /' "$work/out.$n"
            printf '%s\tpass\n' "$src" >>"$work/result.$n"
        else
            why="exit $rc, expected $want"
            [ "$rc" -eq 124 ] && why="timed out after ${timeout_s} s"
            echo "FAIL $at: $why: $text  $secs"
            tail -n 20 "$work/out.$n" | sed 's/^/       /'
            printf '%s\tfail\n' "$src" >>"$work/result.$n"
        fi
    done <"$work/block.$n"
    rm -rf "$dir"
}

# stale_entries: EXCLUDE and EXPECT keys that no example has (the example
# changed: its entry must follow).
stale_entries() {
    local k text
    while IFS=$'\t' read -r _ _ _ text; do key "$text"; done <"$work/examples" >"$work/keys"
    for k in "${!EXCLUDE[@]}" "${!EXPECT[@]}"; do
        grep -qxF -- "$k" "$work/keys" || echo "$k"
    done
}

# ---------------------------------------------------------------- main

find_examples >"$work/all" || exit 2
if [ -n "$only" ]; then
    while IFS= read -r rec; do
        # shellcheck disable=SC2053  # a glob, on purpose
        [[ ${rec%%$'\t'*} == $only ]] && printf '%s\n' "$rec"
    done <"$work/all" >"$work/examples"
else
    cp "$work/all" "$work/examples"
fi
if [ "$list" = 1 ]; then
    while IFS=$'\t' read -r src line blk text; do
        what=run k=$(key "$text")
        [ -n "${EXCLUDE[$k]+x}" ] && what="excluded: ${EXCLUDE[$k]}"
        [ "$what" = run ] && [ "$(expected_status "$text")" != 0 ] &&
            what="run, must exit $(expected_status "$text")"
        printf '%s:%s [%s]\n    %s\n' "$src" "$line" "$what" "$text"
    done <"$work/examples"
    exit 0
fi

# Split into blocks: consecutive records of one SOURCE and BLOCK.
awk -F'\t' -v dir="$work" '
    $1 "\t" $3 != last { n++; last = $1 "\t" $3 }
    { print > (dir "/block." n) }
    END { print n + 0 > (dir "/nblocks") }' "$work/examples"
nblocks=$(cat "$work/nblocks")
list_make_targets
(make_setup "$work/setup") >"$work/setup.log" 2>&1 ||
    { cat "$work/setup.log"; echo "doc-examples: the setup failed" >&2; exit 2; }

running=0
for n in $(seq 1 "$nblocks"); do
    if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
    run_block "$n" >"$work/log.$n" 2>&1 &
    running=$((running + 1))
done
wait

# A block that stopped early (its scratch copy failed) fails the examples
# it did not report.
for n in $(seq 1 "$nblocks"); do
    cat "$work/log.$n"
    want=$(wc -l <"$work/block.$n")
    got=$(wc -l 2>/dev/null <"$work/result.$n" || echo 0)
    if [ "$got" -lt "$want" ]; then
        src=$(head -n 1 "$work/block.$n" | cut -f1)
        echo "FAIL $src: $((want - got)) of the block's $want examples did not run"
        for _ in $(seq "$got" $((want - 1))); do printf '%s\tfail\n' "$src"; done >>"$work/result.$n"
    fi
done
if [ -z "$only" ]; then
    { stale_entries | sed 's/^/FAIL ci\/doc-examples.sh: an EXCLUDE or EXPECT entry matches no example: /'
      unread_help_examples; } >"$work/stale"
    cat "$work/stale"
    sed 's/.*/ci\/doc-examples.sh\tfail/' "$work/stale" >"$work/result.stale"
fi

# One line per source: found, run (passed + failed), excluded, skipped.
for n in $(seq 1 "$nblocks") stale; do
    cat "$work/result.$n" 2>/dev/null
done | awk -F'\t' '
    !($1 in seen) { seen[$1] = 1; order[++k] = $1 }
    { c[$1, $2]++; t[$2]++ }
    END {
        for (i = 1; i <= k; i++) {
            s = order[i]
            if (s == "ci/doc-examples.sh") continue     # a stale entry
            printf "%-32s %2d found, %2d run (%d failed), %2d excluded, %d skipped\n", s ":",
                c[s, "pass"] + c[s, "fail"] + c[s, "excl"] + c[s, "skip"],
                c[s, "pass"] + c[s, "fail"], c[s, "fail"], c[s, "excl"], c[s, "skip"]
        }
        printf "%d passed, %d failed, %d skipped\n", t["pass"], t["fail"], t["skip"]
        exit t["fail"] > 0
    }'
