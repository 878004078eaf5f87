#!/bin/sh
# spec-check.sh - traceability check between the spec, the code and the corpus.
#
# Usage: ci/spec-check.sh [--root DIR] [--help]
#
# Every rule ID in spec/rules.tsv must be
#   (a) defined exactly once in spec/qed-spec.md, as a paragraph starting
#       with **ID**, under the section rules.tsv gives it, in rules.tsv order;
#   (b) cited (as a whole word) in ref/*.c or ref/*.h;
#   (c) listed in the "rules" array of at least one case of
#       corpus/golden/manifest.json.
# Nothing may cite an ID that rules.tsv does not define: the spec, the C
# sources under ref/, conformance/ and fuzz/, and the manifest's "rules" and
# "error_rule" fields are all checked.  Only IDs whose prefix (HDR, TBL ...)
# rules.tsv uses are recognised, so "SHA-256" or "UTF-8" are not citations.
#
# Prints one line per problem, then a summary line.  Exit status: 0 clean,
# 1 problems found, 2 usage error or missing spec/rules.tsv.
# Needs only POSIX sh, find (POSIX options only) and awk; no jq, since
# `make spec-check` must run on a machine with only a C compiler and make.

set -u

usage() {
    cat <<'EOF'
Usage: ci/spec-check.sh [--root DIR]

Check that every rule ID of spec/rules.tsv is defined in spec/qed-spec.md,
cited in ref/*.c or ref/*.h, and covered by a case of
corpus/golden/manifest.json; and that nothing cites an undefined ID.

Options:
  --root DIR   the repository to check (default: the parent of this
               script's directory)
  --help       show this text

Prints one line per problem and a final summary line.
Exit status: 0 all clean, 1 problems found, 2 usage error.
EOF
}

root=$(cd "$(dirname "$0")/.." && pwd)
while [ $# -gt 0 ]; do
    case $1 in
    --root) [ $# -ge 2 ] || { echo "spec-check: --root needs a directory" >&2; exit 2; }
            root=$2; shift 2 ;;
    --root=*) root=${1#--root=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "spec-check: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
cd "$root" 2>/dev/null || { echo "spec-check: cannot enter '$root'" >&2; exit 2; }

rules=spec/rules.tsv
spec=spec/qed-spec.md
manifest=corpus/golden/manifest.json
[ -r "$rules" ] || { echo "spec-check: $rules: not found in $root" >&2; exit 2; }

# File operands are prefixed with ./ so that awk never takes a name containing
# '=' for a variable assignment; the awk program strips the prefix again.
ref_files=
for f in ./ref/*.c ./ref/*.h; do
    [ -f "$f" ] && ref_files="$ref_files $f"
done
other_code=$(find ./ref ./conformance ./fuzz -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null |
             LC_ALL=C sort | awk -F/ '!($2 == "ref" && NF == 3)')

spec_arg=; [ -r "$spec" ] && spec_arg=./$spec
manifest_arg=; [ -r "$manifest" ] && manifest_arg=./$manifest

# shellcheck disable=SC2086  # the file lists are split on purpose
exec awk -v spec_path="$spec" -v manifest_path="$manifest" \
    -v have_spec="${spec_arg:+1}" -v have_manifest="${manifest_arg:+1}" '
# ---- helpers ---------------------------------------------------------------

# Report one problem on one line.
function problem(msg) { print msg; nproblems++ }

# The name of the current input file without the ./ prefix.
function fname() { return substr(FILENAME, 1, 2) == "./" ? substr(FILENAME, 3) : FILENAME }

# 1 if c (one character or "") is part of a word: letter, digit or underscore.
function wordchar(c) { return c ~ /^[A-Za-z0-9_]$/ }

# Find every whole-word ID with a known prefix in text; store them in
# found[1..n] and return n.
function ids_in(text, found,    n, rest, before, id, after, pfx) {
    n = 0; before = ""
    rest = text
    while (match(rest, /[A-Z][A-Z0-9]*-[0-9]+/)) {
        id = substr(rest, RSTART, RLENGTH)
        before = RSTART > 1 ? substr(rest, RSTART - 1, 1) : before
        after = substr(rest, RSTART + RLENGTH, 1)
        pfx = id; sub(/-[0-9]+$/, "", pfx)
        if (!wordchar(before) && !wordchar(after) && (pfx in prefix))
            found[++n] = id
        before = substr(rest, RSTART + RLENGTH - 1, 1)
        rest = substr(rest, RSTART + RLENGTH)
    }
    return n
}

# Flag every ID in text that rules.tsv does not define; mark defined ones
# cited when cite_ref is set.  where is "file:line".
function scan_citations(text, where, cite_ref,    found, n, i) {
    n = ids_in(text, found)
    for (i = 1; i <= n; i++) {
        if (!(found[i] in defined))
            problem(where ": cites " found[i] ", which spec/rules.tsv does not define")
        else if (cite_ref)
            ref_cited[found[i]]++
    }
}

# Number of newlines in s.
function count_lines(s,    t) { t = s; return gsub(/\n/, "", t) }

# ---- spec/rules.tsv --------------------------------------------------------

role == "rules" && FNR == 1 {
    if ($0 != "id\tsection\tsummary")
        problem(fname() ":1: header must be id<TAB>section<TAB>summary")
    next
}
role == "rules" && /^[ \t]*$/ { next }
role == "rules" {
    nf = split($0, col, "\t")
    where = fname() ":" FNR
    if (nf != 3 || col[3] == "") { problem(where ": expected 3 tab-separated, non-empty fields"); next }
    if (col[1] !~ /^[A-Z][A-Z0-9]*-[0-9]+$/) { problem(where ": malformed rule ID \"" col[1] "\""); next }
    if (col[1] in defined) { problem(where ": " col[1] " listed twice"); next }
    if (col[2] !~ /^[0-9]+ /) { problem(where ": section \"" col[2] "\" does not start with its number"); next }
    defined[col[1]] = 1
    order[++nrules] = col[1]
    rank[col[1]] = nrules
    section_of[col[1]] = col[2] + 0
    p = col[1]; sub(/-[0-9]+$/, "", p); prefix[p] = 1
    next
}

# ---- spec/qed-spec.md ------------------------------------------------------

role == "spec" && /^(```|~~~)/ { in_fence = !in_fence; next }
role == "spec" && !in_fence && /^## +[0-9]+/ {
    s = $0; sub(/^## +/, "", s); spec_section = s + 0
}
role == "spec" && !in_fence && /^\*\*[A-Z][A-Z0-9]*-[0-9]+\*\*/ {
    id = substr($0, 3); sub(/\*\*.*/, "", id)
    where = fname() ":" FNR
    if (!(id in defined))
        problem(where ": defines " id ", which spec/rules.tsv does not list")
    else if (id in spec_line)
        problem(where ": " id " defined again (first at line " spec_line[id] ")")
    else {
        spec_line[id] = FNR
        if (spec_section != section_of[id])
            problem(where ": " id " defined in section " spec_section \
                    ", rules.tsv puts it in section " section_of[id])
        if (rank[id] < last_rank)
            problem(where ": " id " defined after " order[last_rank] \
                    ", out of rules.tsv order")
        else
            last_rank = rank[id]
    }
}
role == "spec" { scan_citations($0, fname() ":" FNR, 0); next }

# ---- C sources -------------------------------------------------------------

role == "ref"  { scan_citations($0, fname() ":" FNR, 1); next }
role == "code" { scan_citations($0, fname() ":" FNR, 0); next }

# ---- corpus/golden/manifest.json, streamed --------------------------------

role == "manifest" { manifest_line($0); next }

# Feed one manifest line.  Only lines from a "rules" or "error_rule" key on
# are kept, until the value is complete, so time and memory stay linear in
# the size of the manifest.
function manifest_line(line) {
    if (pending == "" && line !~ /"(rules|error_rule)"/)
        return
    if (pending == "")
        pending_line = FNR
    pending = pending line "\n"
    drain_pending()
}

# Drop the first n characters of the pending text, counting its lines.
function consume(n) {
    pending_line += count_lines(substr(pending, 1, n))
    pending = substr(pending, n + 1)
}

# Check every complete "rules" array and "error_rule" string in the pending
# text; keep an incomplete one for the next line.
function drain_pending(    ws, n) {
    ws = "[ \t\r\n]*"
    while (match(pending, /"(rules|error_rule)"/)) {
        if (RSTART > 1 && substr(pending, RSTART - 1, 1) == "\\") {
            consume(RSTART)                       # inside an escaped string
            continue
        }
        consume(RSTART - 1)
        if (substr(pending, 2, 5) == "rules") {
            if (match(pending, "^\"rules\"" ws ":" ws "\\[[^]]*\\]")) {
                n = RLENGTH; take_rules(substr(pending, 1, n)); consume(n)
            } else if (pending !~ /\]/ && length(pending) < 65536) {
                return                            # the array goes on
            } else {
                problem(manifest_path ":" pending_line ": \"rules\" is not an array of strings"); consume(7)
            }
        } else if (match(pending, "^\"error_rule\"" ws ":" ws "\"[^\"]*\"")) {
            n = RLENGTH; take_error_rule(substr(pending, 1, n)); consume(n)
        } else if (gsub(/"/, "\"", pending) < 4 && length(pending) < 65536) {
            return                                # the string goes on
        } else {
            problem(manifest_path ":" pending_line ": \"error_rule\" is not a string"); consume(12)
        }
    }
    pending = ""
}

# Record every rule of one "rules" array; flag undefined ones.
function take_rules(arr,    id) {
    sub(/^"rules"[^[]*\[/, "", arr)
    nrule_arrays++
    while (match(arr, /"[^"]*"/)) {
        id = substr(arr, RSTART + 1, RLENGTH - 2)
        arr = substr(arr, RSTART + RLENGTH)
        if (id in defined) case_cited[id]++
        else problem(manifest_path ":" pending_line ": a case cites \"" id "\", which spec/rules.tsv does not define")
    }
}

# Flag an "error_rule" naming an undefined rule.
function take_error_rule(text,    id) {
    id = text
    sub(/^"error_rule"[^:]*:[ \t\r\n]*"/, "", id); sub(/"$/, "", id)
    if (!(id in defined))
        problem(manifest_path ":" pending_line ": error_rule \"" id "\" is not defined in spec/rules.tsv")
}

END {
    if (nrules == 0) problem("spec/rules.tsv: no rules")
    if (!have_spec) problem(spec_path ": missing: no rule is defined")
    if (!have_manifest)
        problem(manifest_path ": missing: no case covers any rule (schema: conformance/MANIFEST.md)")
    else {
        if (pending != "")
            problem(manifest_path ":" pending_line ": unterminated \"rules\" or \"error_rule\" value")
        if (nrule_arrays == 0) problem(manifest_path ": no \"rules\" array found")
    }
    for (i = 1; i <= nrules; i++) {
        id = order[i]
        if (have_spec && !(id in spec_line)) {
            problem(id ": not defined in " spec_path " (a paragraph starting **" id "**)"); nodef++
        }
        if (!(id in ref_cited)) {
            problem(id ": no citing site in ref/*.c or ref/*.h"); nocite++
        }
        if (!(id in case_cited)) {
            if (have_manifest) problem(id ": in no case\047s \"rules\" array in " manifest_path)
            nocase++
        }
    }
    if (!have_spec) nodef = nrules
    printf "spec-check: %d rules, %d not defined in spec, %d uncited in ref/, %d without a case, %d problems in all\n", \
           nrules, nodef, nocite, nocase, nproblems
    exit nproblems > 0 ? 1 : 0
}
' role=rules "./$rules" \
  role=spec $spec_arg \
  role=ref $ref_files \
  role=code $other_code \
  role=manifest $manifest_arg
