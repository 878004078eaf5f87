#!/bin/sh
# summary-test.sh - the test of the HTML report's summary (make
# test-report-summary): a run of the partial adapter over the faulty
# adapter's accept fault (every image accepted: reject cases fail on their
# error_rule, read cases fail, write cases are skipped for lacking
# 'create') is reported with --json and --html; the summary of the HTML
# must agree with the JSON: per family the pass/fail/skip counts, per spec
# rule the failing cases that break it (their "broke" rules) and the other
# failing cases that cite it, per capability the skips that name it; the
# one-line list of rules broken must be the JSON's; and the summary must
# come before the matrix of every case.
#
# Usage: conformance/runner/summary-test.sh QED_CONFORM QEDTOOL [HTML]
#   HTML  also keep the report there (for a look in a browser)
# Exit 0 when all hold, 1 when one does not, 2 on a usage error.
set -u
if [ $# -lt 2 ] || [ "$1" = "--help" ]; then
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
    [ "${1:-}" = "--help" ] && exit 0
    exit 2
fi
conform=$1
tool=$(cd "$(dirname "$2")" && pwd)/$(basename "$2") || exit 2
keep=${3:-}
adapters=$(cd "$(dirname "$0")/../adapters" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/summary-test.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
bad=0

# problem TEXT: report one failed check.
problem() {
    echo "summary-test: FAIL: $1"
    bad=1
}

PARTIAL_TOOL=$adapters/faulty QED_CONFORM_TOOL=$tool QED_CONFORM_FAULT=accept \
    "$conform" --impl "cmd:$adapters/partial" --shard 1/3 -j 2 \
    --json "$tmp/r.json" --html "$tmp/r.html" >"$tmp/log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || problem "the run exited $rc, expected 1 (failures): $(tail -n 2 "$tmp/log")"
[ -z "$keep" ] || cp "$tmp/r.html" "$keep"

# From the JSON (one case a line): "F family pass fail skip", "K rule N"
# (N failing cases break it), "Q rule N" (N other failing cases cite it),
# "C capability skips", "B rule" for each rule broken.
awk '
function list(key,    s) {   # the strings of the array "key": [...] on this line
    if (!match($0, "\"" key "\": \\[[^]]*\\]")) return ""
    s = substr($0, RSTART, RLENGTH); sub(/^[^[]*\[/, "", s); sub(/\]$/, "", s)
    gsub(/"/, "", s); gsub(/, /, ",", s); return s
}
function field(key,    s) {
    if (!match($0, "\"" key "\": \"([^\"\\\\]|\\\\.)*\"")) return ""
    s = substr($0, RSTART, RLENGTH); sub("^\"" key "\": \"", "", s); return substr(s, 1, length(s) - 1)
}
/^    \{"id": / {
    fam = field("family"); st = field("status"); fams[fam] = 1; n[fam, st]++
    if (st == "fail") {
        b = list("broke"); which = b != "" ? "broken" : "cited"
        k = split(b != "" ? b : list("rules"), ids, ",")
        for (i = 1; i <= k; i++) { rules[ids[i]] = 1; cnt[ids[i], which]++; if (b != "") broke[ids[i]] = 1 }
    }
    if (st == "skip") {
        m = field("message"); named = 0
        while ((p = index(m, "lacks ")) > 0) {
            m = substr(m, p + 6)
            while (match(m, /^'"'"'[^'"'"']*'"'"'/)) {
                cap = substr(m, 2, RLENGTH - 2); caps[cap]++; named = 1
                m = substr(m, RLENGTH + 1)
                if (substr(m, 1, 3) == ", '"'"'") m = substr(m, 3)
                else if (substr(m, 1, 6) == " and '"'"'") m = substr(m, 6)
            }
        }
        if (!named) caps[""]++
    }
}
END {
    for (f in fams) printf "F %s %d %d %d\n", f, n[f, "pass"], n[f, "fail"], n[f, "skip"]
    for (r in rules) {
        if (cnt[r, "broken"]) printf "K %s %d\n", r, cnt[r, "broken"]
        if (cnt[r, "cited"]) printf "Q %s %d\n", r, cnt[r, "cited"]
    }
    for (c in caps) printf "C %s %d\n", c, caps[c]
    for (r in broke) printf "B %s\n", r
}' "$tmp/r.json" | sort >"$tmp/want"

# The same from the HTML summary's data attributes and its line of rules.
{
    grep -o '<tr data-family="[^"]*" data-pass="[0-9]*" data-fail="[0-9]*" data-skip="[0-9]*"' "$tmp/r.html" |
        sed 's/<tr data-family="\([^"]*\)" data-pass="\([0-9]*\)" data-fail="\([0-9]*\)" data-skip="\([0-9]*\)"/F \1 \2 \3 \4/'
    grep -o '<tr data-rule="[^"]*" data-broken="[0-9]*"' "$tmp/r.html" |
        sed 's/<tr data-rule="\([^"]*\)" data-broken="\([0-9]*\)"/K \1 \2/'
    grep -o '<tr data-rule="[^"]*" data-cited="[0-9]*"' "$tmp/r.html" |
        sed 's/<tr data-rule="\([^"]*\)" data-cited="\([0-9]*\)"/Q \1 \2/'
    grep -o '<tr data-cap="[^"]*" data-cases="[0-9]*"' "$tmp/r.html" |
        sed 's/<tr data-cap="\([^"]*\)" data-cases="\([0-9]*\)"/C \1 \2/'
    grep -o '<p class="breaks".*</p>' "$tmp/r.html" | sed 's/<[^>]*>//g; s/^[^:]*: //; s/&nbsp;([0-9]*)//g' |
        tr ',' '\n' | sed 's/^ *//; /^$/d; s/^/B /'
} | sort >"$tmp/got"

if ! cmp -s "$tmp/want" "$tmp/got"; then
    problem "the HTML summary differs from the JSON (< JSON, > HTML):"
    diff "$tmp/want" "$tmp/got" | sed -n '1,20p'
fi
for kind in F K Q C B; do
    grep -q "^$kind " "$tmp/want" || problem "the run has no '$kind' line to compare (the test cannot fail)"
done
summary_at=$(grep -n '<section class="summary"' "$tmp/r.html" | head -n 1 | cut -d: -f1)
matrix_at=$(grep -n '<table><thead>' "$tmp/r.html" | head -n 1 | cut -d: -f1)
[ -n "$summary_at" ] && [ -n "$matrix_at" ] && [ "$summary_at" -lt "$matrix_at" ] ||
    problem "the summary (line ${summary_at:-none}) does not come before the matrix (line ${matrix_at:-none})"
echo "summary-test: $(grep -c '^F ' "$tmp/want") families, $(grep -c '^K ' "$tmp/want") rules" \
     "broken, $(grep -c '^Q ' "$tmp/want") cited, $(grep -c '^C ' "$tmp/want") skip groups compared"
[ $bad -eq 0 ] && echo "summary-test: the HTML summary agrees with the JSON results"
exit $bad
