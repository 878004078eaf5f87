#!/bin/sh
# spec-check-selftest.sh - prove that ci/spec-check.sh catches each kind of gap.
#
# Builds a tiny fixture repository (three rules, a spec, one C file, a
# manifest) in a temporary directory, checks that it passes, then breaks it
# one way at a time and checks that spec-check fails with the expected line.
# Prints "N passed, N failed"; exit status 0 only when every case passed.

set -u
here=$(cd "$(dirname "$0")" && pwd)
checker=$here/../../ci/spec-check.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spec-check-selftest.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
passed=0 failed=0
tab=$(printf '\t')

# Write the clean fixture into directory $1.
make_fixture() {
    mkdir -p "$1/spec" "$1/ref" "$1/conformance" "$1/corpus/golden"
    printf 'id\tsection\tsummary\n' > "$1/spec/rules.tsv"
    printf 'HDR-1\t2 Header\tmagic\nHDR-10\t2 Header\tmax size\nTBL-2\t4 Tables\treserved bits\n' \
        >> "$1/spec/rules.tsv"
    cat > "$1/spec/qed-spec.md" <<'SPEC'
# Fixture spec
## 2 Header
**HDR-1** The magic.  SHA-256 and UTF-8 are not rule IDs.

**HDR-10** The maximum size; see HDR-1.
## 4 Tables
**TBL-2** Reserved bits.
SPEC
    cat > "$1/ref/codec.c" <<'CODE'
/* HDR-1 */ static const char *why = "reserved bits (TBL-2)";
int max_size(void) { return 10; } /* HDR-10 */
CODE
    cat > "$1/conformance/runner.c" <<'CODE'
/* checks TBL-2 */
CODE
    cat > "$1/corpus/golden/manifest.json" <<'JSON'
{ "testGroups": [ { "family": "read", "tests": [
  { "tcId": 1, "id": "read/a", "rules": [ "HDR-1" ] },
  { "tcId": 2, "id": "reject/b", "error_rule": "TBL-2",
    "rules": [
      "HDR-10",
      "TBL-2"
    ] } ] } ] }
JSON
}

# Run one case: name, expected exit status, expected output line (a fixed
# string, "" for none), then a shell command run in the fixture to break it.
check_case() {
    name=$1 want_rc=$2 want_line=$3 breakage=$4
    dir=$tmp/$name
    make_fixture "$dir"
    (cd "$dir" && eval "$breakage") || { echo "FAIL $name: breakage did not apply"; failed=$((failed + 1)); return; }
    out=$(sh "$checker" --root "$dir" 2>&1); rc=$?
    if [ "$rc" -ne "$want_rc" ]; then
        echo "FAIL $name: exit $rc, expected $want_rc"; echo "$out" | sed 's/^/    /'
        failed=$((failed + 1))
    elif [ -n "$want_line" ] && ! printf '%s\n' "$out" | grep -F -x -q -- "$want_line"; then
        echo "FAIL $name: no line '$want_line' in:"; echo "$out" | sed 's/^/    /'
        failed=$((failed + 1))
    else
        echo "ok   $name"; passed=$((passed + 1))
    fi
}

check_case clean 0 'spec-check: 3 rules, 0 not defined in spec, 0 uncited in ref/, 0 without a case, 0 problems in all' ':'
check_case uncited 1 'HDR-1: no citing site in ref/*.c or ref/*.h' \
    "sed -i 's|/\\* HDR-1 \\*/||' ref/codec.c"
check_case whole-word 1 'HDR-1: no citing site in ref/*.c or ref/*.h' \
    "sed -i 's|/\\* HDR-1 \\*/|/* HDR-10, HDR-1a, XHDR-1, MY_HDR-1 */|' ref/codec.c"
check_case cited-only-outside-ref 1 'TBL-2: no citing site in ref/*.c or ref/*.h' \
    "sed -i 's|(TBL-2)||' ref/codec.c"
check_case undefined-in-spec 1 'TBL-2: not defined in spec/qed-spec.md (a paragraph starting **TBL-2**)' \
    "sed -i 's|^\\*\\*TBL-2\\*\\*|TBL-2|' spec/qed-spec.md"
check_case defined-twice 1 'spec/qed-spec.md:8: HDR-1 defined again (first at line 3)' \
    "printf '**HDR-1** again.\\n' >> spec/qed-spec.md"
check_case wrong-section 1 'spec/qed-spec.md:8: HDR-1 defined in section 4, rules.tsv puts it in section 2' \
    "sed -i 's|^\\*\\*HDR-1\\*\\* The magic.*|HDR-1 moved.|' spec/qed-spec.md && printf '**HDR-1** moved.\\n' >> spec/qed-spec.md"
check_case out-of-order 1 'spec/qed-spec.md:7: TBL-2 defined after HDR-10, out of rules.tsv order' \
    "printf 'id${tab}section${tab}summary\\nTBL-2${tab}2 Header${tab}x\\nHDR-1${tab}2 Header${tab}x\\nHDR-10${tab}2 Header${tab}x\\n' > spec/rules.tsv && sed -i 's|^## 4 Tables||' spec/qed-spec.md"
check_case spec-undefined-id 1 'spec/qed-spec.md:5: cites HDR-11, which spec/rules.tsv does not define' \
    "sed -i 's|see HDR-1\\.|see HDR-11.|' spec/qed-spec.md"
check_case spec-extra-definition 1 'spec/qed-spec.md:8: defines TBL-9, which spec/rules.tsv does not list' \
    "printf '**TBL-9** extra.\\n' >> spec/qed-spec.md"
check_case code-undefined-id 1 'conformance/runner.c:1: cites TBL-7, which spec/rules.tsv does not define' \
    "sed -i 's|TBL-2|TBL-7|' conformance/runner.c"
check_case no-manifest 1 'corpus/golden/manifest.json: missing: no case covers any rule (schema: conformance/MANIFEST.md)' \
    'rm corpus/golden/manifest.json'
check_case no-case 1 'HDR-1: in no case'"'"'s "rules" array in corpus/golden/manifest.json' \
    "sed -i 's|\"rules\": \\[ \"HDR-1\" \\]|\"rules\": []|' corpus/golden/manifest.json"
check_case manifest-undefined-id 1 'corpus/golden/manifest.json:2: a case cites "HDR-99", which spec/rules.tsv does not define' \
    "sed -i 's|\"HDR-1\" \\]|\"HDR-1\", \"HDR-99\" ]|' corpus/golden/manifest.json"
check_case multiline-array 1 'corpus/golden/manifest.json:4: a case cites "TBL-3", which spec/rules.tsv does not define' \
    "sed -i 's|^      \"TBL-2\"|      \"TBL-3\"|' corpus/golden/manifest.json"
check_case error-rule-undefined 1 'corpus/golden/manifest.json:3: error_rule "TBL-4" is not defined in spec/rules.tsv' \
    "sed -i 's|\"error_rule\": \"TBL-2\"|\"error_rule\": \"TBL-4\"|' corpus/golden/manifest.json"
check_case one-line-manifest 0 'spec-check: 3 rules, 0 not defined in spec, 0 uncited in ref/, 0 without a case, 0 problems in all' \
    "printf '{\"testGroups\":[{\"tests\":[{\"rules\":[\"HDR-1\"]},{\"error_rule\":\"TBL-2\",\"rules\":[\"HDR-10\",\"TBL-2\"]}]}]}' > corpus/golden/manifest.json"
check_case rules-not-array 1 'corpus/golden/manifest.json:2: "rules" is not an array of strings' \
    "sed -i 's|\"rules\": \\[ \"HDR-1\" \\]|\"rules\": \"HDR-1\"|' corpus/golden/manifest.json"
check_case unterminated-array 1 'corpus/golden/manifest.json:4: unterminated "rules" or "error_rule" value' \
    "head -n 5 corpus/golden/manifest.json > m.tmp && mv m.tmp corpus/golden/manifest.json"
check_case rules-tsv-duplicate 1 'spec/rules.tsv:5: HDR-1 listed twice' \
    "printf 'HDR-1\\t2 Header\\tagain\\n' >> spec/rules.tsv"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
