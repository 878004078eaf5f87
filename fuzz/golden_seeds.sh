#!/bin/sh
# golden_seeds.sh - add the golden corpus to the fuzz seeds (make fuzz-seeds).
#
# Usage: fuzz/golden_seeds.sh [--help] [GOLDEN_DIR [SEED_DIR]]
#
# From GOLDEN_DIR (default corpus/golden) copies, as golden-NAME, files no
# larger than 256 KiB (the whole-image harnesses' max_len):
#   valid/*.qed, invalid/*   -> SEED_DIR/fuzz_open_read/
#   check/*.qed              -> SEED_DIR/fuzz_check_repair/
#   the first 64 bytes of each, plus its length as a u64 LE
#                            -> SEED_DIR/fuzz_header/
# (SEED_DIR defaults to corpus/fuzz.)  Images naming a backing file get no
# backing part, so their open fails at the backing file; the golden
# directory's own backing files still serve as plain images.

set -u

if [ "${1:-}" = "--help" ]; then
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
golden=${1:-corpus/golden}
seeds=${2:-corpus/fuzz}
max=262144
[ -d "$golden" ] || { echo "golden_seeds: no $golden, nothing to add"; exit 0; }
mkdir -p "$seeds/fuzz_open_read" "$seeds/fuzz_check_repair" "$seeds/fuzz_header"

# Copy file $1 as golden-<name> into harness dir $2 if small enough.
add() {
    size=$(wc -c < "$1")
    [ "$size" -le "$max" ] || return 0
    cp "$1" "$2/golden-$(basename "$1")"
}

# The header seed of file $1: 64 bytes, then the length as u64 LE.
add_header() {
    out=$seeds/fuzz_header/golden-$(basename "$1")
    size=$(wc -c < "$1")
    head -c 64 "$1" > "$out"
    # u64 little-endian via printf octal escapes, one byte at a time.
    i=0
    while [ $i -lt 8 ]; do
        printf "\\$(printf '%03o' $(( (size >> (8 * i)) & 255 )))" >> "$out"
        i=$((i + 1))
    done
}

n=0
for f in "$golden"/valid/*.qed "$golden"/invalid/*; do
    [ -f "$f" ] || continue
    add "$f" "$seeds/fuzz_open_read"
    add_header "$f"
    n=$((n + 1))
done
for f in "$golden"/check/*.qed; do
    [ -f "$f" ] || continue
    add "$f" "$seeds/fuzz_check_repair"
    add_header "$f"
    n=$((n + 1))
done
echo "golden_seeds: $n golden files considered"
