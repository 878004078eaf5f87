#!/bin/sh
# golden-vs-qemu.sh - cross-check a golden manifest against QEMU's tools.
#
# Usage: conformance/golden/golden-vs-qemu.sh [-v] [MANIFEST]
#        (default corpus/golden/manifest.json; needs qemu-img, qemu-io, jq)
#
#   read, random  qemu-img convert -f qed -O raw; sha256 == content_sha256
#   reject        qemu-img info -f qed must fail
#   check         qemu-img check --output=json: corruptions and leaks equal
#   write         create (qemu-img create) or copy, run the ops with qemu-io,
#                 qemu-img resize / rebase -u; sha256 of the result
#
# A case is skipped only when QEMU cannot express it (none today). Every
# failure prints the case id and what differed; a failure is either a bug in
# the generator or a deviation of QEMU from the spec: see the report.
# Last line: "N passed, N failed, N skipped".
set -u

verbose=0
[ "${1:-}" = "-v" ] && { verbose=1; shift; }
manifest=${1:-corpus/golden/manifest.json}
base=$(cd "$(dirname "$manifest")" && pwd)
for tool in qemu-img qemu-io jq sha256sum; do
    command -v $tool >/dev/null 2>&1 || { echo "golden-vs-qemu: $tool not found" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/golden-qemu.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT INT TERM
pass=0 fail=0 skip=0

ok()   { pass=$((pass + 1)); [ $verbose = 1 ] && echo "PASS $1"; return 0; }
bad()  { fail=$((fail + 1)); echo "FAIL $1: $2"; }

# Field $2 of test $1 (a JSON object) as raw text.
field() { printf '%s' "$1" | jq -r "$2 // empty"; }

# Copy the case's file and extra files into a fresh scratch directory.
stage() {
    rm -rf "$work/s" && mkdir -p "$work/s"
    printf '%s' "$1" | jq -r '[.file // empty] + [.extra_files[]?.file] | .[]' |
    while read -r f; do
        mkdir -p "$work/s/$(dirname "$f")" && cp "$base/$f" "$work/s/$f"
    done
}

# sha256 of the raw export of QED image $1 (empty on failure).
content_sha() {
    rm -f "$work/out.raw"
    qemu-img convert -f qed -O raw "$1" "$work/out.raw" 2>"$work/err" || return 1
    sha256sum "$work/out.raw" | cut -d' ' -f1
}

run_read() {
    id=$(field "$1" .id) file=$(field "$1" .file) want=$(field "$1" .content_sha256)
    if ! got=$(content_sha "$base/$file"); then
        bad "$id" "qemu-img convert failed: $(head -c 200 "$work/err")$(known "$id")"
    elif [ "$got" != "$want" ]; then
        bad "$id" "content $got, manifest $want"
    else ok "$id"; fi
}

# qemu-img convert opens the whole backing chain (info does not).
run_reject() {
    id=$(field "$1" .id) file=$(field "$1" .file) rule=$(field "$1" .error_rule)
    if timeout 20 qemu-img convert -f qed -O raw "$base/$file" "$work/out.raw" >/dev/null 2>&1; then
        bad "$id" "QEMU opens and converts an image breaking $rule$(known "$id")"
    else ok "$id"; fi
}

# Disagreements already analysed (see conformance/MANIFEST.md), as a note.
known() {
    case $1 in
    read/backing-raw-tiny-probed) echo " [known: QEMU probes a file shorter than the magic as if zero-padded, so \"QED\" probes as QED]" ;;
    reject/header-size-0) echo " [known: QEMU does not check header_size >= 1]" ;;
    reject/bname-size-0) echo " [known: QEMU accepts an empty backing name]" ;;
    reject/bname-contains-nul) echo " [known: QEMU truncates the name at the NUL]" ;;
    reject/backing-depth-17) echo " [known: QEMU has no chain depth limit of 16]" ;;
    write/large-cs2m-ts16|write/large-cs8m-ts2)
        echo " [known: QEMU's maximum image size wraps to 0 when N*N*cluster_size >= 2^64]" ;;
    write/grow-reveals-backing)
        echo " [known: QEMU refuses to grow an image over a backing file longer than the old size]" ;;
    write/write-into-zero-cluster)
        echo " [known: QEMU fills part of a partially written zero cluster from the backing file]" ;;
    check/data-over-later-l2-table) echo " [known: QEMU walks depth-first, so the later table is the duplicate and its data leaks]" ;;
    check/l2-table-twice*) echo " [known: QEMU counts one corruption per shared cluster, the spec one per duplicate reference]" ;;
    esac
}

# 1 if the file or any file of the case has table_size 1, which QEMU 7.2
# cannot open at all (its table-offset overflow test rejects table_size 1).
has_ts1() {
    [ "$(printf '%s' "$1" | jq '.create.table_size // 0')" = 1 ] && return 0
    for f in $(printf '%s' "$1" | jq -r '[.file // empty] + [.extra_files[]?.file] | .[]'); do
        [ "$(head -c 4 "$base/$f" | od -An -c | tr -d ' ')" = 'QED\0' ] || continue
        [ "$(od -An -tu4 -j8 -N4 "$base/$f" | tr -d ' ')" = 1 ] && return 0
    done
    return 1
}

run_check() {
    id=$(field "$1" .id) file=$(field "$1" .file)
    stage "$1"
    want="$(field "$1" .check.corruptions) $(field "$1" .check.leaks)"
    qemu-img check -f qed --output=json "$work/s/$file" >"$work/check.json" 2>"$work/err"
    got=$(jq -r '"\(.corruptions // 0) \(.leaks // 0)"' "$work/check.json" 2>/dev/null)
    if [ "$got" != "$want" ]; then
        bad "$id" "corruptions/leaks $got, manifest $want$(known "$id")"
        return
    fi
    want=$(field "$1" .repaired_content_sha256)
    qemu-img check -f qed -r all "$work/s/$file" >/dev/null 2>&1
    if [ -n "$want" ] && ! got=$(content_sha "$work/s/$file"); then
        bad "$id" "after check -r all, convert failed: $(head -c 200 "$work/err")"
    elif [ -n "$want" ] && [ "$got" != "$want" ]; then
        bad "$id" "repaired content $got, manifest $want"
    else ok "$id"; fi
}

# The qemu-img create command of a write case's create object.
write_create() {
    c=$(printf '%s' "$1" | jq -c .create)
    opts="cluster_size=$(field "$c" .cluster_size),table_size=$(field "$c" .table_size)"
    b=$(field "$c" .backing)
    if [ -n "$b" ]; then
        qemu-img create -q -f qed -o "$opts" -b "$b" -F "$(field "$c" .backing_format)" \
            "$work/s/new.qed" "$(field "$c" .size)"
    else
        qemu-img create -q -f qed -o "$opts" "$work/s/new.qed" "$(field "$c" .size)"
    fi
}

# Run the ops: each run of strings is one qemu-io call, objects are steps.
write_ops() {
    img=$2
    n=$(printf '%s' "$1" | jq '.ops | length')
    set --
    i=0
    while [ $i -lt "$n" ]; do
        op=$(printf '%s' "$test" | jq -c ".ops[$i]")
        case $op in
        \"*) set -- "$@" -c "$(printf '%s' "$op" | jq -r .)" ;;
        *)
            if [ $# -gt 0 ]; then qemu-io -f qed -t writeback "$@" "$img" >/dev/null || return 1; fi
            set --
            cmd=$(field "$op" .cmd)
            if [ "$cmd" = resize ]; then
                qemu-img resize -q -f qed "$img" "$(field "$op" .size)" || return 1
            else
                (cd "$(dirname "$img")" && qemu-img rebase -q -u -f qed -b "$(field "$op" .backing)" \
                    -F "$(field "$op" .backing_format)" "$(basename "$img")") || return 1
            fi ;;
        esac
        i=$((i + 1))
    done
    if [ $# -gt 0 ]; then qemu-io -f qed -t writeback "$@" "$img" >/dev/null || return 1; fi
    return 0
}

run_write() {
    test=$1
    id=$(field "$1" .id) want=$(field "$1" .content_sha256)
    stage "$1"
    if [ -n "$(field "$1" .file)" ]; then img="$work/s/$(field "$1" .file)"
    else img="$work/s/new.qed"; (cd "$work/s" && write_create "$1") 2>"$work/err" ||
        { bad "$id" "qemu-img create failed: $(head -c 200 "$work/err")$(known "$id")"; return; }
    fi
    if ! (cd "$work/s" && write_ops "$1" "$img") >"$work/err" 2>&1; then
        bad "$id" "ops failed: $(head -c 300 "$work/err")$(known "$id")"
    elif ! got=$(content_sha "$img"); then
        bad "$id" "convert failed: $(head -c 200 "$work/err")"
    elif [ "$got" != "$want" ]; then
        bad "$id" "content $got, manifest $want$(known "$id")"
    else
        qemu-img check -f qed --output=json "$img" >"$work/check.json" 2>/dev/null
        cl=$(jq -r '"\(.corruptions // 0) \(.leaks // 0)"' "$work/check.json")
        if [ "$cl" != "0 0" ]; then bad "$id" "QEMU's result checks with corruptions/leaks $cl"
        else ok "$id"; fi
    fi
}

jq -c '.testGroups[] | .family as $f | .tests[] | . + {family: $f}' "$manifest" >"$work/tests"
while read -r test; do
    fam=$(field "$test" .family) result=$(field "$test" .result)
    if [ "$fam" != reject ] && has_ts1 "$test"; then
        skip=$((skip + 1))
        echo "SKIP $(field "$test" .id): table_size 1, which QEMU 7.2 refuses (QEMU deviation from HDR-3)"
        continue
    fi
    case $fam/$result in
    read/valid|random/valid) run_read "$test" ;;
    reject/*|read/invalid) run_reject "$test" ;;
    check/*) run_check "$test" ;;
    write/*) run_write "$test" ;;
    *) skip=$((skip + 1)); echo "SKIP $(field "$test" .id): family $fam result $result" ;;
    esac
done <"$work/tests"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
