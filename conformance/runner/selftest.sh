#!/bin/sh
# selftest.sh - the runner's self-test (make conform-selftest): through
# conformance/adapters/faulty, inject one fault at a time into the
# reference; qed-conform must report each one as a failure with the
# expected message, or its checks could not fail.
#
# Usage: conformance/runner/selftest.sh QED_CONFORM QEDTOOL [RUNNER OPTION...]
#   QED_CONFORM  the runner to test (e.g. build/qed-conform)
#   QEDTOOL      the reference the faulty adapter wraps (e.g. build/qedtool)
#   RUNNER OPTION  passed to every run, e.g. --manifest FILE
#
# Each fault runs on the cases matching its glob: the hang only on the first
# one (with a 2 s limit), the others on every sixth (--shard 1/6).  Then an
# adapter whose read calls write one byte into the image they read must
# fail every read, reject, check and read-error case it runs as "reading
# must not write".  Last line: "conform-selftest: N passed, N failed"; exit 1 when a
# fault was not reported as expected, 2 on a usage error.
set -u
case ${1:-} in --help) sed -n '/^[^#]/q; 2,$ s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
[ $# -ge 2 ] || { echo "usage: conformance/runner/selftest.sh QED_CONFORM QEDTOOL [RUNNER OPTION...] (see --help)" >&2; exit 2; }
conform=$1
# absolute: the adapter runs in each case's scratch directory
tool=$(cd "$(dirname "$2")" && pwd)/$(basename "$2") || exit 2
shift 2
adapter=$(dirname "$0")/../adapters/faulty
export QED_CONFORM_TOOL="$tool"

# FAULT|GLOB|PHRASE: the fault, the cases it runs on, the failure expected.
faults='hang|read/*|timeout (hang)
crash|read/*|crash (signal 11: SIGSEGV)
content|read/*|content_sha256
size|read/*|virtual-size
map|read/*|map
json|read/*|no valid JSON
accept|reject/*|accepted the invalid image
accept|read-error/*|needs an invalid entry
counts|check/*|corruptions
lostwrite|write/*|content_sha256'

pass=0 fail=0
while IFS='|' read -r fault glob phrase; do
    sel="--shard 1/6 --timeout 20"
    if [ "$fault" = hang ]; then
        glob=$("$conform" "$@" --list --filter "$glob" | head -n 1)
        sel="--timeout 2"
    fi
    # shellcheck disable=SC2086  # $sel is two options
    out=$(QED_CONFORM_FAULT=$fault "$conform" "$@" --impl "cmd:$adapter" \
          --filter "$glob" $sel -j 2 2>&1)
    rc=$?
    if [ $rc -eq 1 ] && printf '%s\n' "$out" | grep -q "^FAIL .*$phrase"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "conform-selftest: fault '$fault' on $glob not reported as '$phrase' (exit $rc)"
    fi
done <<EOT
$faults
EOT
# Reading must not write: the reference, then byte 40 of the file read
# (info, map and check: $3; convert: $6) overwritten (a shorter file grows
# to 41 bytes), so that only the guard can notice.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/conform-selftest.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/writer" <<EOT
#!/bin/sh
"$tool" "\$@"
rc=\$?
case \$1 in
info|map|check) img=\$3 ;;
convert) img=\$6 ;;
*) exit \$rc ;;
esac
printf Z | dd of="\$img" bs=1 seek=40 conv=notrunc 2>/dev/null
exit \$rc
EOT
chmod +x "$tmp/writer"
for glob in 'read/*' 'reject/*' 'check/*' 'read-error/*'; do
    out=$("$conform" "$@" --impl "cmd:$tmp/writer" --filter "$glob" --shard 1/6 -j 2 2>&1)
    n=$(printf '%s\n' "$out" | grep -Ec '^FAIL .*reading must not write: .* (changed at byte 40|grew from [0-9]+ to 41 bytes)')
    last=$(printf '%s\n' "$out" | tail -n 1)
    if [ "$n" -gt 0 ] && [ "$last" = "0 passed, $n failed, 0 skipped" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "conform-selftest: a writing reader on $glob: $n cases failed as expected; the run said: $last"
    fi
done
echo "conform-selftest: $pass passed, $fail failed"
[ $fail -eq 0 ]
