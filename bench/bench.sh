#!/usr/bin/env bash
# bench/bench.sh - time qedtool against QEMU's qemu-img/qemu-io, side by side.
#
# Usage: bench/bench.sh [QEDTOOL]        (default QEDTOOL: build/qedtool)
#
# Cases (each tool gets the same input and the same commands):
#   convert qed->raw   a fully written 512 MiB QED image to raw
#   convert raw->qed   a 512 MiB raw image of non-zero data to QED
#   alloc writes       WRITES random 4 KiB writes, each into a different
#                      unallocated 64 KiB cluster of a fresh 1 GiB image,
#                      as `io -c 'write -P 0xNN OFF 4k' ...`
#   sparse converts    raw->qed and qed->raw of a SPARSE_MIB (4096) MiB
#                      image with 1% data (164 runs of 256 KiB), against
#                      qemu-img and against `cp --sparse=always` of the raw
#                      file followed by `sync -d` (the same durability)
#   tables             check of TABLES (1024) hole-only L2 tables of 1 MiB
#                      (64 KiB clusters, table_size 16, 8 TiB virtual) and
#                      check and map of as many of 256 KiB (table_size 4,
#                      2 TiB): QEMU 7.2's map fails an assertion on any
#                      table_size 16 image with an L2 table
#   full image         check and map of a fully written FULL_MIB (4096) MiB
#                      image (64 KiB clusters, table_size 4)
#
# Runs alternate between the tools (qedtool first on even runs, QEMU first on
# odd ones), after one untimed warm-up run of each. Before every run, untimed,
# the run's output file is removed and the file system flushed (sync -f).
# The warm-up run is also checked for correct output (cmp of raw files, qemu-img
# compare and qemu-img check of QED files). The table gives median wall and
# CPU (user + system) times in seconds and the ratios qedtool/QEMU. See
# bench/README.md.
#
# Environment: BENCH_DIR (scratch directory, default build/bench; needs about
# 6 GiB), RUNS (timed runs per tool, default 5), CONVERT_RUNS (for the two
# 512 MiB converts, default 5), SCALE_RUNS (for the sparse, tables and full
# image rows, default 5), WRITES (default 3000), SEED (default 1),
# SIZE_MIB (convert image size, default 512), QEMU_CACHE (qemu-img convert's
# -t, default writeback: flush at the end like qedtool; `unsafe` is its own
# default, no flush), SPARSE_MIB, TABLES, FULL_MIB (above), CASES (the
# groups to run, default "converts writes sparse tables"), BENCH_KEEP=1
# keeps the files.
#
# Exit status: 0 when every output checked out, 1 when one did not, 2 when
# a tool is missing.

set -euo pipefail

QEDTOOL=${1:-build/qedtool}
BENCH_DIR=${BENCH_DIR:-build/bench}
RUNS=${RUNS:-5}
CONVERT_RUNS=${CONVERT_RUNS:-5}
WRITES=${WRITES:-3000}
SEED=${SEED:-1}
SIZE_MIB=${SIZE_MIB:-512}
SPARSE_MIB=${SPARSE_MIB:-4096}   # sparse converts: virtual size
FULL_MIB=${FULL_MIB:-4096}       # check/map of a fully written image
TABLES=${TABLES:-1024}           # check/map of hole-only L2 tables
SCALE_RUNS=${SCALE_RUNS:-5}      # timed runs of the sparse and table rows
CASES=${CASES:-converts writes sparse tables}
# qedtool flushes its output before it exits; qemu-img convert's default
# cache mode does not, so it gets -t writeback (flush on close) too.
QEMU_CACHE=${QEMU_CACHE:-writeback}
IMAGE_SIZE=1G          # alloc writes: virtual size, default geometry
CLUSTERS=16384         # 1 GiB / 64 KiB
SANITY_FAILED=0
RESULTS=()             # "name|target|qedtool wall cpu|qemu wall cpu"

die() { echo "bench: $*" >&2; exit 2; }

# time_cmd CMD...: run CMD with its stdout discarded; print its wall time
# and its CPU time (user + system, children included) in seconds.
time_cmd() {
	local TIMEFORMAT='%R %U %S'
	{ time "$@" >/dev/null 2>&3; } 3>&2 2>&1 |
		awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }'
}

# medians: read "wall cpu" lines on stdin, print "median-wall median-cpu".
medians() {
	awk '{ w[NR] = $1; c[NR] = $2 }
	function med(v, n,   i, j, t) {
		for (i = 2; i <= n; i++)            # insertion sort, n is small
			for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
				t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	}
	END { printf "%.3f %.3f\n", med(w, NR), med(c, NR) }'
}

# record NAME TARGET: add a row from the caller's tq and te arrays.
record() {
	RESULTS+=("$1|$2|$(printf '%s\n' "${tq[@]}" | medians)|$(printf '%s\n' "${te[@]}" | medians)")
}

# check_ok WHAT CMD...: run a sanity check; report and count a failure.
check_ok() {
	local what=$1; shift
	if ! "$@" >/dev/null 2>&1; then
		echo "bench: SANITY FAILED: $what ($*)" >&2
		SANITY_FAILED=1
	fi
}

# make_raw FILE MIB: write MIB MiB of non-zero, repeatable data to FILE.
make_raw() {
	local bytes=$(($2 << 20))
	if command -v openssl >/dev/null; then
		# head closes the pipe early: openssl's SIGPIPE is expected.
		(set +o pipefail
		 openssl enc -aes-128-ctr -nosalt -pass "pass:qedref-bench-$SEED" \
			-pbkdf2 </dev/zero 2>/dev/null | head -c "$bytes" >"$1")
	else
		head -c "$bytes" /dev/urandom >"$1"
	fi
	[[ $(stat -c %s "$1") -eq $bytes ]] || die "could not write $1"
}

# --- the two converts -------------------------------------------------------

# The file each convert command writes (in $W).  Before every run of a
# command, untimed, before_run removes that file and flushes the file
# system: a run then times the convert alone, neither the unlink of the
# last run's output (0.2-0.4 s for the sparse 4 GiB raw file on ext4 here,
# more than the convert itself) nor, in its final fdatasync, the journal
# and writeback work that the unlink or the other tool left pending.
declare -A OUTPUT=(
	[to_raw_qedtool]=q.raw [to_raw_qemu]=e.raw
	[to_qed_qedtool]=q.qed [to_qed_qemu]=e.qed
	[sp_to_qed_qedtool]=q.qed [sp_to_qed_qemu]=e.qed
	[sp_to_raw_qedtool]=q.raw [sp_to_raw_qemu]=e.raw [sp_cp]=c.raw
)

# before_run CMD: remove CMD's output, if it has one, and flush the file
# system that holds $W.
before_run() {
	[[ -z ${OUTPUT[$1]:-} ]] || rm -f "$W/${OUTPUT[$1]}"
	sync -f "$W"
}

# run_timed CMD: before_run CMD, then print CMD's wall and CPU time.
run_timed() {
	before_run "$1"
	time_cmd "$1" timed
}

# bench_pair NAME RUNS TARGET QCMD -- EMUCMD: warm up and time two commands
# alternately (each a bash function name plus arguments), record medians.
bench_pair() {
	local name=$1 runs=$2 target=$3 qcmd=$4 ecmd=$5 i tq=() te=()
	before_run "$qcmd"; "$qcmd" warm >/dev/null
	before_run "$ecmd"; "$ecmd" warm >/dev/null
	for ((i = 0; i < runs; i++)); do
		if ((i % 2 == 0)); then
			tq+=("$(run_timed "$qcmd")")
			te+=("$(run_timed "$ecmd")")
		else
			te+=("$(run_timed "$ecmd")")
			tq+=("$(run_timed "$qcmd")")
		fi
	done
	record "$name" "$target"
}

to_raw_qedtool() { "$QEDTOOL" convert -O raw "$W/src.qed" "$W/q.raw"; }
to_raw_qemu()    { qemu-img convert -t "$QEMU_CACHE" -f qed -O raw "$W/src.qed" "$W/e.raw"; }
to_qed_qedtool() { "$QEDTOOL" convert -O qed "$W/src.raw" "$W/q.qed"; }
to_qed_qemu()    { qemu-img convert -t "$QEMU_CACHE" -f raw -O qed "$W/src.raw" "$W/e.qed"; }

# bench_converts: cases (a) and (b), with their output checks.
bench_converts() {
	echo "bench: preparing ${SIZE_MIB} MiB raw and QED sources in $W" >&2
	make_raw "$W/src.raw" "$SIZE_MIB"
	qemu-img convert -f raw -O qed "$W/src.raw" "$W/src.qed"

	bench_pair "convert qed->raw ${SIZE_MIB} MiB" "$CONVERT_RUNS" 1.0 \
		to_raw_qedtool to_raw_qemu
	check_ok "qedtool raw output = source" cmp "$W/q.raw" "$W/src.raw"
	check_ok "qemu-img raw output = source" cmp "$W/e.raw" "$W/src.raw"
	rm -f "$W/q.raw" "$W/e.raw"

	bench_pair "convert raw->qed ${SIZE_MIB} MiB" "$CONVERT_RUNS" 1.0 \
		to_qed_qedtool to_qed_qemu
	check_ok "qedtool qed output = source" \
		qemu-img compare -f qed -F raw "$W/q.qed" "$W/src.raw"
	check_ok "qedtool qed output = qemu-img's" \
		qemu-img compare -f qed -F qed "$W/q.qed" "$W/e.qed"
	check_ok "qemu-img check of qedtool's output" qemu-img check -f qed "$W/q.qed"
	rm -f "$W/q.qed" "$W/e.qed" "$W/src.raw" "$W/src.qed"
}

# --- allocating writes ------------------------------------------------------

# gen_writes N SEED: print N qemu-io write commands, 4 KiB each, 4 KiB
# aligned, in N distinct clusters picked by a partial Fisher-Yates shuffle
# driven by the minstd LCG (exact in awk's doubles, so the same list on
# every awk).
gen_writes() {
	awk -v n="$1" -v seed="$2" -v clusters="$CLUSTERS" '
	function rnd(m) { s = (s * 48271) % 2147483647; return s % m }
	BEGIN {
		s = seed % 2147483646 + 1
		for (i = 0; i < clusters; i++) c[i] = i
		for (i = 0; i < n; i++) {
			j = i + rnd(clusters - i); t = c[i]; c[i] = c[j]; c[j] = t
			off = c[i] * 65536 + rnd(16) * 4096
			printf "write -P 0x%02x %d 4k\n", i % 255 + 1, off
		}
	}'
}

# split_commands FILE: split FILE's command lines into chunk files
# FILE.NNN, each small enough for one command line (a quarter of ARG_MAX,
# counting "-c", the pointer and the NUL of every argument). Prints the
# chunk count.
split_commands() {
	local budget
	budget=$(($(getconf ARG_MAX) / 4))
	awk -v budget="$budget" -v base="$1" '
	{ cost = length($0) + 3 + 2 * 8 + 1
	  if (used + cost > budget || chunk == 0) {
		if (chunk) close(out)
		out = sprintf("%s.%03d", base, chunk++); used = 0 }
	  print > out; used += cost }
	END { print chunk }' "$1"
}

# run_io TOOL IMG: issue every chunk's commands with TOOL (qedtool|qemu).
run_io() {
	local tool=$1 img=$2 chunk args line
	for chunk in "$W"/writes.cmd.[0-9]*; do
		args=()
		while IFS= read -r line; do args+=(-c "$line"); done <"$chunk"
		if [[ $tool == qedtool ]]; then
			"$QEDTOOL" io "$img" "${args[@]}"
		else
			qemu-io -f qed -t writeback "${args[@]}" "$img"
		fi
	done
}

fresh_image() { rm -f "$1"; qemu-img create -q -f qed "$1" "$IMAGE_SIZE"; }
io_qedtool() { run_io qedtool "$W/q.img"; }
io_qemu()    { run_io qemu "$W/e.img"; }

# bench_writes: case (c); fresh images are made outside the timed part.
bench_writes() {
	local i chunks tq=() te=()
	gen_writes "$WRITES" "$SEED" >"$W/writes.cmd"
	chunks=$(split_commands "$W/writes.cmd")
	echo "bench: $WRITES writes in $chunks invocation(s) per run" >&2

	fresh_image "$W/q.img"; io_qedtool >/dev/null
	fresh_image "$W/e.img"; io_qemu >/dev/null
	check_ok "qedtool and qemu-io images hold the same data" \
		qemu-img compare -f qed -F qed "$W/q.img" "$W/e.img"
	check_ok "qemu-img check of qedtool's image" qemu-img check -f qed "$W/q.img"
	check_ok "qedtool check of qemu-io's image" "$QEDTOOL" check "$W/e.img"

	for ((i = 0; i < RUNS; i++)); do
		fresh_image "$W/q.img"; fresh_image "$W/e.img"
		if ((i % 2 == 0)); then
			tq+=("$(time_cmd io_qedtool)"); te+=("$(time_cmd io_qemu)")
		else
			te+=("$(time_cmd io_qemu)"); tq+=("$(time_cmd io_qedtool)")
		fi
	done
	record "$WRITES alloc 4k writes, 1 GiB" 0.5
	rm -f "$W/q.img" "$W/e.img" "$W"/writes.cmd*
}

# --- sparse converts --------------------------------------------------------

# make_sparse FILE MIB: a raw file of MIB MiB holding 1% data: 256 KiB runs
# of non-zero bytes at distinct 1 MiB-aligned offsets (a fixed odd stride
# modulo the MiB count), holes elsewhere.
make_sparse() {
	local mib=$2 runs=$(($2 * 4 / 100)) i
	make_raw "$W/runs.bin" $(((runs + 3) / 4))
	rm -f "$1"
	truncate -s "${mib}M" "$1"
	for ((i = 0; i < runs; i++)); do
		dd if="$W/runs.bin" of="$1" bs=256k count=1 skip="$i" \
			seek=$(((i * 2654435761 % mib) * 4)) conv=notrunc status=none
	done
	rm -f "$W/runs.bin"
}

# sparse_ok FILE: FILE's allocated bytes are at most twice the source's.
sparse_ok() {
	(($(stat -c %b "$1") <= 2 * $(stat -c %b "$W/sp.raw")))
}

sp_to_qed_qedtool() { "$QEDTOOL" convert -O qed "$W/sp.raw" "$W/q.qed"; }
sp_to_qed_qemu()    { qemu-img convert -t "$QEMU_CACHE" -f raw -O qed "$W/sp.raw" "$W/e.qed"; }
sp_to_raw_qedtool() { "$QEDTOOL" convert -O raw "$W/sp.qed" "$W/q.raw"; }
sp_to_raw_qemu()    { qemu-img convert -t "$QEMU_CACHE" -f qed -O raw "$W/sp.qed" "$W/e.raw"; }
sp_cp()             { cp --sparse=always "$W/sp.raw" "$W/c.raw" && sync -d "$W/c.raw"; }

# bench_sparse: both sparse converts, against qemu-img and against cp.
bench_sparse() {
	local mib=$SPARSE_MIB
	echo "bench: preparing a ${mib} MiB raw file with 1% data in $W" >&2
	make_sparse "$W/sp.raw" "$mib"
	qemu-img convert -f raw -O qed "$W/sp.raw" "$W/sp.qed"

	bench_pair "sparse raw->qed ${mib} MiB" "$SCALE_RUNS" 1.0 \
		sp_to_qed_qedtool sp_to_qed_qemu
	bench_pair "  same, against cp" "$SCALE_RUNS" 1.1 sp_to_qed_qedtool sp_cp
	check_ok "qedtool sparse qed output = source" \
		qemu-img compare -f qed -F raw "$W/q.qed" "$W/sp.raw"
	check_ok "qemu-img check of qedtool's sparse output" qemu-img check -f qed "$W/q.qed"
	bench_pair "sparse qed->raw ${mib} MiB" "$SCALE_RUNS" 1.0 \
		sp_to_raw_qedtool sp_to_raw_qemu
	bench_pair "  same, against cp" "$SCALE_RUNS" 1.1 sp_to_raw_qedtool sp_cp
	check_ok "qedtool sparse raw output = source" \
		qemu-img compare -f raw -F raw "$W/q.raw" "$W/sp.raw"
	check_ok "qedtool's raw output is sparse" sparse_ok "$W/q.raw"
	check_ok "cp's output = source" qemu-img compare -f raw -F raw "$W/c.raw" "$W/sp.raw"
	rm -f "$W"/sp.* "$W"/[qec].raw "$W"/[qe].qed
}

# --- check and map at scale -------------------------------------------------

# make_tables FILE TABLE_SIZE: a QED image (64 KiB clusters) with TABLES
# L2 tables that map nothing: a zero cluster is written at the start of
# each table's range (which allocates the table), then its entry is
# cleared in place.  qedtool create puts the L1 table at 64 KiB.
make_tables() {
	local span=$(($2 * 8192 * 65536)) i args=() off
	rm -f "$1"
	"$QEDTOOL" create -q -o "cluster_size=64k,table_size=$2" "$1" $((TABLES * span))
	for ((i = 0; i < TABLES; i++)); do args+=(-c "write -z $((i * span)) 64k"); done
	"$QEDTOOL" io "$1" "${args[@]}" >/dev/null
	for off in $(od -An -v -t u8 -j 65536 -N $((TABLES * 8)) "$1"); do
		dd if=/dev/zero of="$1" bs=8 count=1 seek=$((off / 8)) conv=notrunc status=none
	done
}

# make_full FILE MIB: a fully written QED image of MIB MiB, by qemu-io.
make_full() {
	local i
	rm -f "$1"
	qemu-img create -q -f qed "$1" "${2}M"
	for ((i = 0; i < $2; i += 1024)); do
		qemu-io -f qed -c "write -q -P 0x5a ${i}M $(($2 - i < 1024 ? $2 - i : 1024))M" "$1" >/dev/null
	done
}

# same_map FILE: qedtool map and qemu-img map print the same JSON.
same_map() {
	cmp <("$QEDTOOL" map --output=json "$1") <(qemu-img map -f qed --output=json "$1")
}

# (the bench images have no leaks, but QEMU counts one on images of its own)
check_qedtool() { "$QEDTOOL" check "$IMG" || [[ $? -eq 3 ]]; }
check_qemu()    { qemu-img check -f qed "$IMG" || [[ $? -eq 3 ]]; }
map_qedtool()   { "$QEDTOOL" map "$IMG"; }
map_qemu()      { qemu-img map -f qed "$IMG"; }

# bench_tables: check (and map where QEMU can) of many hole-only tables
# and of a fully written image.
bench_tables() {
	echo "bench: preparing $TABLES hole-only L2 tables of 1 MiB and of 256 KiB" >&2
	make_tables "$W/t16.qed" 16
	make_tables "$W/t4.qed" 4
	check_ok "qedtool check of the 1 MiB tables" "$QEDTOOL" check "$W/t16.qed"
	check_ok "qemu-img check of the 1 MiB tables" qemu-img check -f qed "$W/t16.qed"
	check_ok "qedtool map = qemu-img map, 256 KiB tables" same_map "$W/t4.qed"
	IMG=$W/t16.qed
	bench_pair "check $TABLES L2 tables of 1M" "$SCALE_RUNS" 1.0 check_qedtool check_qemu
	IMG=$W/t4.qed
	bench_pair "check $TABLES L2 tables of 256K" "$SCALE_RUNS" 1.0 check_qedtool check_qemu
	bench_pair "map $TABLES L2 tables of 256K" "$SCALE_RUNS" 1.0 map_qedtool map_qemu
	rm -f "$W/t16.qed" "$W/t4.qed"

	echo "bench: preparing a fully written ${FULL_MIB} MiB QED image" >&2
	make_full "$W/full.qed" "$FULL_MIB"
	check_ok "qedtool check of the full image" "$QEDTOOL" check "$W/full.qed"
	check_ok "qedtool map = qemu-img map, full image" same_map "$W/full.qed"
	IMG=$W/full.qed
	bench_pair "check full ${FULL_MIB} MiB" "$SCALE_RUNS" 1.0 check_qedtool check_qemu
	bench_pair "map full ${FULL_MIB} MiB" "$SCALE_RUNS" 1.0 map_qedtool map_qemu
	rm -f "$W/full.qed"
}

# --- report -----------------------------------------------------------------

# print_table: the results, one row per case: median wall and CPU seconds
# of each tool, and the ratios qedtool/QEMU.
print_table() {
	local row name target q e
	printf '%-28s %8s %8s %6s %7s %7s %6s  %s\n' case "qedtool" "QEMU" ratio \
		"q cpu" "Q cpu" ratio "target (wall)"
	for row in "${RESULTS[@]}"; do
		IFS='|' read -r name target q e <<<"$row"
		awk -v n="$name" -v t="$target" -v q="$q" -v e="$e" 'BEGIN {
			split(q, qa, " "); split(e, ea, " ")
			r = ea[1] > 0 ? qa[1] / ea[1] : 0
			rc = ea[2] > 0 ? qa[2] / ea[2] : 0
			printf "%-28s %8.3f %8.3f %6.2f %7.3f %7.3f %6.2f  <=%s%s\n",
			       n, qa[1], ea[1], r, qa[2], ea[2], rc, t,
			       r <= t ? "" : " over" }'
	done
}

main() {
	[[ ${1:-} == -h || ${1:-} == --help ]] && { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0"; exit 0; }
	[[ -x $QEDTOOL ]] || die "no executable qedtool at '$QEDTOOL' (run make first)"
	if ! command -v qemu-img >/dev/null || ! command -v qemu-io >/dev/null; then
		die "SKIPPED: qemu-img/qemu-io not installed (apt-get install qemu-utils)"
	fi
	mkdir -p "$BENCH_DIR"
	W=$(mktemp -d "$BENCH_DIR/run.XXXXXX")
	[[ ${BENCH_KEEP:-0} == 1 ]] || trap 'rm -rf "$W"' EXIT

	echo "bench: qedtool=$QEDTOOL vs $(qemu-img --version | head -1)" >&2
	echo "bench: runs=$RUNS (converts $CONVERT_RUNS), medians in seconds;" \
		"qemu-img convert -t $QEMU_CACHE, qemu-io -t writeback" >&2
	local c
	for c in $CASES; do
		case $c in
		converts|writes|sparse|tables) "bench_$c" ;;
		*) die "unknown case '$c' in CASES (converts writes sparse tables)" ;;
		esac
	done
	print_table
	if [[ $SANITY_FAILED -ne 0 ]]; then
		echo "bench: some outputs did not check out: the times above are not valid" >&2
		exit 1
	fi
}

main "$@"
