/*
 * conform_report.c - summary, JSON, JUnit XML and HTML reports.  See
 * conform_report.h.
 */
#include "conform_report.h"

#include "../lib/json_string.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FAMILIES 32
#define RESULT_FILE_MAX ((size_t)256 << 20)

/* Counts of one family. */
typedef struct {
    const char *name;
    size_t n[3];   /* indexed by case_status */
} family_count;

/* Tally rows per family, in order of first appearance. */
static size_t count_families(const report_run *run, family_count *fams)
{
    size_t nf = 0;
    for (size_t i = 0; i < run->count; i++) {
        size_t f = 0;
        while (f < nf && strcmp(fams[f].name, run->rows[i].family) != 0)
            f++;
        if (f == nf) {
            if (nf == MAX_FAMILIES)
                f = nf - 1;   /* lump any excess families into the last */
            else
                fams[nf++] = (family_count){ run->rows[i].family, { 0, 0, 0 } };
        }
        fams[f].n[run->rows[i].status]++;
    }
    return nf;
}

/* Print each distinct skip reason once, with how many cases it skipped. */
static void summarise_skips(FILE *f, const report_run *run)
{
    for (size_t i = 0; i < run->count; i++) {
        const report_row *r = &run->rows[i];
        size_t seen = 0, n = 0;
        if (r->status != CS_SKIP)
            continue;
        for (size_t j = 0; j < run->count; j++) {
            if (run->rows[j].status != CS_SKIP || strcmp(run->rows[j].message, r->message) != 0)
                continue;
            seen += j < i;
            n++;
        }
        if (seen == 0)
            fprintf(f, "  SKIP %zu case%s: %s (first: %s)\n", n, n == 1 ? "" : "s", r->message, r->id);
    }
}

void report_summary(FILE *f, const report_run *run)
{
    family_count fams[MAX_FAMILIES];
    size_t nf = count_families(run, fams), shown = 0;
    fprintf(f, "\nqed-conform --impl %s: %zu cases in %.1f s\n", run->impl, run->count,
            run->seconds);
    for (size_t i = 0; i < nf; i++)
        fprintf(f, "  %-12s %4zu passed %4zu failed %4zu skipped\n", fams[i].name,
                fams[i].n[CS_PASS], fams[i].n[CS_FAIL], fams[i].n[CS_SKIP]);
    for (size_t i = 0; i < run->count; i++) {
        const report_row *r = &run->rows[i];
        if (r->status != CS_FAIL)
            continue;
        if (shown++ == 0)
            fprintf(f, "Failures:\n");
        fprintf(f, "  FAIL %s [%s]: %s\n", r->id, r->rules, r->message);
    }
    summarise_skips(f, run);
}

/* Open path for writing, with a one-line error on failure. */
static FILE *open_report(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        fprintf(stderr, "qed-conform: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

/* Close a report file, reporting a write error. */
static int close_report(FILE *f, const char *path)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "qed-conform: error writing %s\n", path);
        return -1;
    }
    return 0;
}

/* A comma-separated list of rule IDs as a JSON array of strings. */
static void json_rule_array(FILE *f, const char *rules)
{
    fputc('[', f);
    for (const char *p = rules; *p; ) {
        char id[CR_RULES_MAX];
        size_t n = strcspn(p, ",");
        snprintf(id, sizeof id, "%.*s", (int)n, p);
        fputs(p == rules ? "" : ", ", f);
        json_write_string(json_sink_file, f, id);
        p += n + (p[n] == ',');
    }
    fputc(']', f);
}

/* One case as a JSON object. */
static void json_row(FILE *f, const report_row *r)
{
    fputs("    {\"id\": ", f);
    json_write_string(json_sink_file, f, r->id);
    fputs(", \"family\": ", f);
    json_write_string(json_sink_file, f, r->family);
    fprintf(f, ", \"status\": \"%s\", \"rules\": ", conform_status_name(r->status));
    json_rule_array(f, r->rules);
    if (r->broke && r->broke[0]) {
        fputs(", \"broke\": ", f);
        json_rule_array(f, r->broke);
    }
    fputs(", \"message\": ", f);
    json_write_string(json_sink_file, f, r->message);
    if (r->detail && r->detail[0]) {
        fputs(", \"detail\": ", f);
        json_write_string(json_sink_file, f, r->detail);
    }
    fprintf(f, ", \"seconds\": %.3f}", r->seconds);
}

int report_json(const char *path, const report_run *run)
{
    size_t n[3] = { 0, 0, 0 };
    FILE *f = open_report(path);
    if (f == NULL)
        return -1;
    for (size_t i = 0; i < run->count; i++)
        n[run->rows[i].status]++;
    fputs("{\n  \"schema\": \"qed-conform-results-1\",\n  \"impl\": ", f);
    json_write_string(json_sink_file, f, run->impl);
    fprintf(f, ",\n  \"seconds\": %.3f,\n  \"passed\": %zu, \"failed\": %zu, \"skipped\": %zu,\n"
               "  \"cases\": [\n", run->seconds, n[CS_PASS], n[CS_FAIL], n[CS_SKIP]);
    for (size_t i = 0; i < run->count; i++) {
        json_row(f, &run->rows[i]);
        fputs(i + 1 < run->count ? ",\n" : "\n", f);
    }
    fputs("  ]\n}\n", f);
    return close_report(f, path);
}

/* Write s escaped for XML text and attribute values; control characters
 * XML 1.0 cannot carry become '?'. */
static void xml_escape(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        case '\n': fputs("&#10;", f); break;
        case '\t': fputs("&#9;", f); break;
        default: fputc(*p < 0x20 ? '?' : *p, f);
        }
    }
}

/* The <testcase> of one row. */
static void junit_case(FILE *f, const report_row *r)
{
    fputs("    <testcase classname=\"", f);
    xml_escape(f, r->family);
    fputs("\" name=\"", f);
    xml_escape(f, r->id);
    fprintf(f, "\" time=\"%.3f\"", r->seconds);
    if (r->status == CS_PASS) {
        fputs("/>\n", f);
        return;
    }
    fputs(">\n      ", f);
    fputs(r->status == CS_FAIL ? "<failure message=\"" : "<skipped message=\"", f);
    xml_escape(f, r->message);
    if (r->status == CS_FAIL) {
        fputs("\" type=\"", f);
        xml_escape(f, r->rules);
        fputs("\">rules: ", f);
        xml_escape(f, r->rules);
        fputs("&#10;", f);
        xml_escape(f, r->message);
        fputs("</failure>\n", f);
    } else {
        fputs("\"/>\n", f);
    }
    fputs("    </testcase>\n", f);
}

/* One <testsuite> holding the rows of one family. */
static void junit_suite(FILE *f, const report_run *run, const family_count *fam)
{
    double secs = 0;
    for (size_t i = 0; i < run->count; i++)
        if (strcmp(run->rows[i].family, fam->name) == 0)
            secs += run->rows[i].seconds;
    fputs("  <testsuite name=\"", f);
    xml_escape(f, fam->name);
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" time=\"%.3f\">\n",
            fam->n[0] + fam->n[1] + fam->n[2], fam->n[CS_FAIL], fam->n[CS_SKIP], secs);
    for (size_t i = 0; i < run->count; i++)
        if (strcmp(run->rows[i].family, fam->name) == 0)
            junit_case(f, &run->rows[i]);
    fputs("  </testsuite>\n", f);
}

int report_junit(const char *path, const report_run *run)
{
    family_count fams[MAX_FAMILIES];
    size_t nf = count_families(run, fams), n[3] = { 0, 0, 0 };
    FILE *f = open_report(path);
    if (f == NULL)
        return -1;
    for (size_t i = 0; i < nf; i++)
        for (int s = 0; s < 3; s++)
            n[s] += fams[i].n[s];
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"qed-conform ", f);
    xml_escape(f, run->impl);
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" time=\"%.3f\">\n",
            run->count, n[CS_FAIL], n[CS_SKIP], run->seconds);
    for (size_t i = 0; i < nf; i++)
        junit_suite(f, run, &fams[i]);
    fputs("</testsuites>\n", f);
    return close_report(f, path);
}

/* ---- HTML matrix ---- */

/* The row of case id in run, or NULL. */
static const report_row *find_row(const report_run *run, const char *id)
{
    for (size_t i = 0; i < run->count; i++)
        if (strcmp(run->rows[i].id, id) == 0)
            return &run->rows[i];
    return NULL;
}

/* 1 when some run failed case id; *disagree set when two runs that have
 * the case gave it different statuses (a run without it is no opinion). */
static int any_failure(const report_run *runs, size_t nruns, const char *id, int *disagree)
{
    int failed = 0;
    const report_row *first = NULL;
    *disagree = 0;
    for (size_t k = 0; k < nruns; k++) {
        const report_row *r = find_row(&runs[k], id);
        if (r == NULL)
            continue;
        if (first == NULL)
            first = r;
        else if (r->status != first->status)
            *disagree = 1;
        if (r->status == CS_FAIL)
            failed = 1;
    }
    return failed;
}

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<title>qed-conform results</title>\n<style>\n"
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\n"
    "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:3px 8px;"
    "vertical-align:top}\n"
    "th{background:#eee;position:sticky;top:0}td.id{font-family:monospace}\n"
    "td.id{white-space:nowrap}td.pass{background:#d9f2d9}td.fail{background:#f8d0d0}td.skip{background:#eee;color:#666}\n"
    "td.none{background:#fff}td.rules{font-size:12px;max-width:14em}\n"
    ".msg{font-size:12px;color:#444;max-width:40em;max-height:5.6em;overflow:hidden}\n"
    "tr.hidden{display:none}\n"
    ".strip{display:flex;flex-wrap:wrap;gap:2px;margin-top:4px;max-width:60em}\n"
    ".ev{display:inline-flex;flex-direction:column;width:9.5em;font-size:10px;"
    "border:1px solid #999;padding:1px 2px;overflow:hidden}\n"
    ".ev b{font-size:12px}.ev i{font-style:normal;overflow:hidden;max-height:2.5em;"
    "line-height:1.25em}\n"
    ".st-durable{background:#b8d8f0}.st-persisted{background:#c8f0c8}"
    ".st-lost{background:#fff;border-style:dashed;color:#888}"
    ".st-torn{background:#f8e0a0}.st-after{background:#eee;color:#aaa}.st--{background:#f4f4f4}\n"
    ".cut{font-size:20px;color:#c00;align-self:center}\n"
    "section.summary{border:1px solid #bbb;padding:0 1em 1em;margin-bottom:1.5em}\n"
    ".sumgrid{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}\n"
    ".sumgrid caption{font-weight:bold;text-align:left;padding:4px 0}\n"
    "p.breaks{font-size:16px;margin:0 0 .5em}td.n{text-align:right}\n"
    "td.ids{font-size:12px;max-width:48em}.sum-rules{max-width:64em}\n"
    "details{margin-top:.7em}summary{cursor:pointer;max-width:60em}\n"
    "</style></head><body>\n"
    "<h1>qed-conform: implementations side by side</h1>\n";

/* The key of the crash strips, above the matrix. */
static const char html_legend[] =
    "<p>Crash strips: <span class=\"ev st-durable\"><b>W</b><i>durable</i></span> "
    "<span class=\"ev st-persisted\"><b>W</b><i>persisted</i></span> "
    "<span class=\"ev st-lost\"><b>W</b><i>lost</i></span> "
    "<span class=\"ev st-torn\"><b>W</b><i>torn</i></span> "
    "<span class=\"ev st-after\"><b>W</b><i>not issued</i></span> "
    "<span class=\"cut\">&#9889;</span> power loss</p>\n";

static const char html_script[] =
    "<script>\n"
    "function applyFilter(){\n"
    "  var only=document.getElementById('only').checked;\n"
    "  var rows=document.querySelectorAll('tbody tr');\n"
    "  for(var i=0;i<rows.length;i++){\n"
    "    var hide=only&&rows[i].getAttribute('data-disagree')!=='1';\n"
    "    rows[i].className=hide?'hidden':'';\n"
    "  }\n"
    "}\n"
    "</script>\n</body></html>\n";

/* The summary line and header row, one column per run. */
static void html_header(FILE *f, const report_run *runs, size_t nruns)
{
    fputs("<p>", f);
    for (size_t k = 0; k < nruns; k++) {
        size_t n[3] = { 0, 0, 0 };
        for (size_t i = 0; i < runs[k].count; i++)
            n[runs[k].rows[i].status]++;
        fputs("<b>", f);
        xml_escape(f, runs[k].impl);
        fprintf(f, "</b>: %zu passed, %zu failed, %zu skipped.&nbsp; ", n[0], n[1], n[2]);
    }
    fputs("</p>\n<p><label><input type=\"checkbox\" id=\"only\" onchange=\"applyFilter()\"> "
          "only disagreements</label> (cases whose status differs between implementations)</p>\n"
          "<table><thead><tr><th>case</th><th>family</th><th>rules</th>", f);
    for (size_t k = 0; k < nruns; k++) {
        fputs("<th>", f);
        xml_escape(f, runs[k].impl);
        fputs("</th>", f);
    }
    fputs("</tr></thead><tbody>\n", f);
}

/* ---- HTML summary: what a third party wants to see first ---- */

#define SUM_MAX_KEYS 512     /* distinct rules or capabilities summarised */
#define SUM_IDS_SHOWN 12     /* case ids listed per rule or capability */

/* One rule (or capability) and the rows of the cases under it. */
typedef struct {
    char key[40];
    const report_row *rows[SUM_IDS_SHOWN];
    size_t n;
} sum_entry;

typedef struct {
    sum_entry e[SUM_MAX_KEYS];
    size_t count;
} sum_table;

/* Add row under key (cut to 39 bytes); keys beyond SUM_MAX_KEYS are not
 * counted, and the caller says so. */
static void sum_add(sum_table *t, const char *key, size_t len, const report_row *row)
{
    size_t i = 0;
    char k[40];
    snprintf(k, sizeof k, "%.*s", (int)(len < sizeof k ? len : sizeof k - 1), key);
    while (i < t->count && strcmp(t->e[i].key, k) != 0)
        i++;
    if (i == t->count) {
        if (t->count == SUM_MAX_KEYS)
            return;
        memset(&t->e[i], 0, sizeof t->e[i]);
        memcpy(t->e[i].key, k, sizeof k);
        t->count++;
    }
    if (t->e[i].n < SUM_IDS_SHOWN)
        t->e[i].rows[t->e[i].n] = row;
    t->e[i].n++;
}

/* Order of rule IDs: prefix alphabetically, then number ("HDR-2" < "HDR-10"). */
static int rule_order(const void *a, const void *b)
{
    const char *x = ((const sum_entry *)a)->key, *y = ((const sum_entry *)b)->key;
    size_t px = strcspn(x, "-"), py = strcspn(y, "-");
    int c = strncmp(x, y, px < py ? px : py);
    if (c != 0 || px != py)
        return c != 0 ? c : px < py ? -1 : 1;
    long nx = strtol(x + px + (x[px] == '-'), NULL, 10), ny = strtol(y + py + (y[py] == '-'), NULL, 10);
    return nx < ny ? -1 : nx > ny ? 1 : strcmp(x, y);
}

/* Add row under each rule of the comma-separated list rules. */
static void sum_add_rules(sum_table *t, const char *rules, const report_row *row)
{
    for (const char *p = rules; *p; ) {
        size_t n = strcspn(p, ",");
        if (n > 0)
            sum_add(t, p, n, row);
        p += n + (p[n] == ',');
    }
}

/* The rules the failing cases of run break (broken: a reject's
 * error_rule, a crash verdict's rules) and those that the other failing
 * cases cite (cited: the manifest does not say which of them failed). */
static void sum_rules(const report_run *run, sum_table *broken, sum_table *cited)
{
    broken->count = cited->count = 0;
    for (size_t i = 0; i < run->count; i++) {
        const report_row *r = &run->rows[i];
        if (r->status != CS_FAIL)
            continue;
        if (r->broke && r->broke[0])
            sum_add_rules(broken, r->broke, r);
        else
            sum_add_rules(cited, r->rules, r);
    }
    qsort(broken->e, broken->count, sizeof broken->e[0], rule_order);
    qsort(cited->e, cited->count, sizeof cited->e[0], rule_order);
}

/* The capabilities a skip message names ("adapter lacks 'map'", "lacks
 * 'convert', 'info' and 'map'"), each added under its name; 0 when the
 * message names none. */
static int sum_skip_caps(sum_table *t, const report_row *r)
{
    int found = 0;
    for (const char *p = strstr(r->message, "lacks "); p != NULL; p = strstr(p, "lacks ")) {
        p += 6;
        while (*p == '\'') {
            size_t n = strcspn(p + 1, "'");
            if (p[1 + n] != '\'')
                break;
            sum_add(t, p + 1, n, r);
            found = 1;
            p += n + 2;
            if (strncmp(p, ", '", 3) == 0 || strncmp(p, " and '", 6) == 0)
                p += p[0] == ',' ? 2 : 5;
        }
    }
    return found;
}

/* The skips of run, grouped by the capability they lack; those that
 * name none under the key "" (listed last). */
static void sum_skips(const report_run *run, sum_table *t)
{
    t->count = 0;
    for (size_t i = 0; i < run->count; i++)
        if (run->rows[i].status == CS_SKIP && !sum_skip_caps(t, &run->rows[i]))
            sum_add(t, "", 0, &run->rows[i]);
}

/* The cell "N: id, id, ... and M more" of one entry. */
static void html_sum_ids(FILE *f, const sum_entry *e)
{
    fprintf(f, "<td class=\"ids\"><b>%zu</b>: ", e->n);
    for (size_t i = 0; i < e->n && i < SUM_IDS_SHOWN; i++) {
        fputs(i ? ", <code>" : "<code>", f);
        xml_escape(f, e->rows[i]->id);
        fputs("</code>", f);
    }
    if (e->n > SUM_IDS_SHOWN)
        fprintf(f, " and %zu more", e->n - SUM_IDS_SHOWN);
    fputs("</td>", f);
}

/* Pass/fail/skip per family. */
static void html_sum_families(FILE *f, const report_run *run)
{
    family_count fams[MAX_FAMILIES];
    size_t nf = count_families(run, fams);
    fputs("<table class=\"sum-families\"><caption>By family</caption>\n<tr><th>family</th>"
          "<th>pass</th><th>fail</th><th>skip</th></tr>\n", f);
    for (size_t i = 0; i < nf; i++) {
        fputs("<tr data-family=\"", f);
        xml_escape(f, fams[i].name);
        fprintf(f, "\" data-pass=\"%zu\" data-fail=\"%zu\" data-skip=\"%zu\"><td>", fams[i].n[0],
                fams[i].n[1], fams[i].n[2]);
        xml_escape(f, fams[i].name);
        fprintf(f, "</td><td class=\"%s\">%zu</td><td class=\"%s\">%zu</td><td class=\"%s\">%zu"
                   "</td></tr>\n", fams[i].n[0] ? "pass" : "", fams[i].n[0],
                fams[i].n[1] ? "fail" : "", fams[i].n[1], fams[i].n[2] ? "skip" : "", fams[i].n[2]);
    }
    fputs("</table>\n", f);
}

/* One line of rules with their case counts: "HDR-2 (3), HDR-8 (1)". */
static void html_sum_rule_line(FILE *f, const sum_table *t)
{
    for (size_t i = 0; i < t->count; i++) {
        fputs(i ? ", " : "", f);
        xml_escape(f, t->e[i].key);
        fprintf(f, "&nbsp;(%zu)", t->e[i].n);
    }
}

/* A table of rules, each with its cases, the rows marked data-KIND="N"
 * (broken or cited). */
static void html_sum_rule_table(FILE *f, const sum_table *t, const char *kind, const char *head)
{
    fprintf(f, "<table class=\"sum-%s\"><tr><th>rule</th><th>%s</th></tr>\n", kind, head);
    for (size_t i = 0; i < t->count; i++) {
        fputs("<tr data-rule=\"", f);
        xml_escape(f, t->e[i].key);
        fprintf(f, "\" data-%s=\"%zu\"><td class=\"id\">", kind, t->e[i].n);
        xml_escape(f, t->e[i].key);
        fputs("</td>", f);
        html_sum_ids(f, &t->e[i]);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* The rules: the ones failing cases break, in one line to read at a
 * glance and a table of the cases under each; then, folded, the rules the
 * other failing cases cite. */
static void html_sum_rules(FILE *f, const report_run *run, sum_table *broken, sum_table *cited)
{
    sum_rules(run, broken, cited);
    fprintf(f, "<div class=\"sum-rules\"><p class=\"breaks\" data-rules=\"%zu\">",
            broken->count);
    if (broken->count == 0 && cited->count == 0) {
        fputs("<b>No failing case</b>: no spec rule broken.</p></div>\n", f);
        return;
    }
    if (broken->count == 0)
        fputs("<b>Breaks no rule</b> that a failing case names as the one it breaks.</p>\n", f);
    else {
        fprintf(f, "<b>Breaks %zu rule%s:</b> ", broken->count, broken->count == 1 ? "" : "s");
        html_sum_rule_line(f, broken);
        fputs("</p>\n", f);
        html_sum_rule_table(f, broken, "broken", "failing cases that break it");
    }
    if (cited->count > 0) {
        fprintf(f, "<details><summary><b>The other failing cases cite %zu rules:</b> ",
                cited->count);
        html_sum_rule_line(f, cited);
        fputs(" <i>(a read, check or write case cites every rule it exercises; its message "
              "says what differed)</i></summary>\n", f);
        html_sum_rule_table(f, cited, "cited", "other failing cases that cite it");
        fputs("</details>\n", f);
    }
    fputs("</div>\n", f);
}

/* The skips, grouped by the capability the adapter lacks. */
static void html_sum_skips(FILE *f, const report_run *run, sum_table *t)
{
    sum_skips(run, t);
    if (t->count == 0)
        return;
    fputs("<table class=\"sum-skips\"><caption>Skipped, by the capability the adapter lacks"
          "</caption>\n<tr><th>lacks</th><th>skipped cases</th></tr>\n", f);
    for (int other = 0; other < 2; other++)
        for (size_t i = 0; i < t->count; i++) {
            if ((t->e[i].key[0] == '\0') != other)
                continue;
            fputs("<tr data-cap=\"", f);
            xml_escape(f, t->e[i].key);
            fprintf(f, "\" data-cases=\"%zu\"><td class=\"id\">", t->e[i].n);
            xml_escape(f, other ? "(no capability named)" : t->e[i].key);
            fputs("</td>", f);
            html_sum_ids(f, &t->e[i]);
            fputs("</tr>\n", f);
        }
    fputs("</table>\n", f);
}

/* The summary of every run, before the matrix. */
static void html_summary(FILE *f, const report_run *runs, size_t nruns)
{
    static sum_table t, cited;   /* large: one summary at a time */
    for (size_t k = 0; k < nruns; k++) {
        size_t n[3] = { 0, 0, 0 };
        for (size_t i = 0; i < runs[k].count; i++)
            n[runs[k].rows[i].status]++;
        fputs("<section class=\"summary\" data-impl=\"", f);
        xml_escape(f, runs[k].impl);
        fputs("\"><h2>", f);
        xml_escape(f, runs[k].impl);
        fprintf(f, ": %zu passed, %zu failed, %zu skipped</h2>\n<div class=\"sumgrid\">\n", n[0],
                n[1], n[2]);
        html_sum_families(f, &runs[k]);
        html_sum_rules(f, &runs[k], &t, &cited);
        html_sum_skips(f, &runs[k], &t);
        fputs("</div></section>\n", f);
    }
}

/* One line of a crash strip ("#N KIND STATUS LABEL") as a box: the kind's
 * letter, coloured by whether the entry reached the disk, with the label
 * under it (the whole line on hover). */
static void html_strip_event(FILE *f, const char *line, size_t n)
{
    char buf[512], entry[24] = "", kind[4] = "", status[16] = "";
    int label_at = 0;

    snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf ? n : sizeof buf - 1), line);
    if (sscanf(buf, "#%23s %3s %15s %n", entry, kind, status, &label_at) < 3) {
        fputs("<span class=\"cut\" title=\"the power loss\">&#9889;</span>", f);
        return;
    }
    fprintf(f, "<span class=\"ev st-%s\" title=\"", status);
    xml_escape(f, buf);
    fprintf(f, "\"><b>%s</b><i>", kind);
    xml_escape(f, buf + label_at);
    fputs("</i></span>", f);
}

/* A crash family failure's detail: the trace as a strip of writes,
 * flushes and marks, the cut, what persisted (crash/strip.c). */
static void html_strip(FILE *f, const char *detail)
{
    const char *p = detail;

    fputs("<div class=\"strip\">", f);
    while (*p) {
        size_t n = strcspn(p, "\n");
        if (n > 0)
            html_strip_event(f, p, n);
        p += n + (p[n] == '\n');
    }
    fputs("</div>", f);
}

/* One matrix row: the case and its status under every run. */
static void html_row(FILE *f, const report_run *runs, size_t nruns, const report_row *base)
{
    int disagree;
    any_failure(runs, nruns, base->id, &disagree);
    fprintf(f, "<tr data-disagree=\"%d\"><td class=\"id\">", disagree);
    xml_escape(f, base->id);
    fputs("</td><td>", f);
    xml_escape(f, base->family);
    fputs("</td><td class=\"rules\">", f);
    xml_escape(f, base->rules);
    fputs("</td>", f);
    for (size_t k = 0; k < nruns; k++) {
        const report_row *r = find_row(&runs[k], base->id);
        if (r == NULL) {
            fputs("<td class=\"none\">not run</td>", f);
            continue;
        }
        fprintf(f, "<td class=\"%s\">%s", conform_status_name(r->status),
                conform_status_name(r->status));
        if (r->message[0] != '\0' && r->status != CS_PASS) {
            fputs("<div class=\"msg\" title=\"", f);   /* the whole text on hover */
            xml_escape(f, r->message);
            fputs("\">", f);
            xml_escape(f, r->message);
            fputs("</div>", f);
        }
        if (r->detail && r->detail[0] && r->status == CS_FAIL)
            html_strip(f, r->detail);
        fputs("</td>", f);
    }
    fputs("</tr>\n", f);
}

/* Rows of every run (first occurrence of each id), failures first when
 * want_failed is 1, the others when 0. */
static void html_rows(FILE *f, const report_run *runs, size_t nruns, int want_failed)
{
    for (size_t k = 0; k < nruns; k++) {
        for (size_t i = 0; i < runs[k].count; i++) {
            const report_row *r = &runs[k].rows[i];
            int disagree, seen = 0;
            for (size_t j = 0; j < k && !seen; j++)
                seen = find_row(&runs[j], r->id) != NULL;
            if (!seen && any_failure(runs, nruns, r->id, &disagree) == want_failed)
                html_row(f, runs, nruns, r);
        }
    }
}

int report_html(const char *path, const report_run *runs, size_t nruns)
{
    FILE *f = open_report(path);
    if (f == NULL)
        return -1;
    fputs(html_head, f);
    html_summary(f, runs, nruns);
    fputs("<h2>Every case</h2>\n", f);
    fputs(html_legend, f);
    html_header(f, runs, nruns);
    html_rows(f, runs, nruns, 1);
    html_rows(f, runs, nruns, 0);
    fputs("</tbody></table>\n", f);
    fputs(html_script, f);
    return close_report(f, path);
}

/* ---- loading a results file (for --html-merge) ---- */

/* Read a whole file (at most RESULT_FILE_MAX bytes) into memory. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    if (f == NULL)
        return NULL;
    for (;;) {
        if (*len == cap) {
            char *nb = cap < RESULT_FILE_MAX ? realloc(buf, cap ? cap * 2 : 65536) : NULL;
            if (nb == NULL) { free(buf); fclose(f); return NULL; }
            buf = nb;
            cap = cap ? cap * 2 : 65536;
        }
        size_t n = fread(buf + *len, 1, cap - *len, f);
        *len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    return buf;
}

/* Join a JSON array of rule strings into a new comma-separated string
 * (malloc'd; NULL when out of memory). */
static char *join_rules(const cj_value *rules)
{
    size_t len = 1;
    for (size_t i = 0; i < cj_len(rules); i++)
        len += (cj_str(cj_at(rules, i)) ? strlen(cj_str(cj_at(rules, i))) : 0) + 1;
    char *out = calloc(1, len);
    for (size_t i = 0; out != NULL && i < cj_len(rules); i++) {
        if (cj_str(cj_at(rules, i)) == NULL)
            continue;
        if (out[0])
            strcat(out, ",");
        strcat(out, cj_str(cj_at(rules, i)));
    }
    return out;
}

/* Fill one row from a case object; -1 if a field is missing. */
static int row_from_json(const cj_value *c, report_row *r)
{
    const char *status = cj_str(cj_get(c, "status"));
    r->id = cj_str(cj_get(c, "id"));
    r->family = cj_str(cj_get(c, "family"));
    r->message = cj_str(cj_get(c, "message"));
    r->detail = cj_str(cj_get(c, "detail"));      /* optional */
    if (r->id == NULL || r->family == NULL || r->message == NULL || status == NULL)
        return -1;
    if (strcmp(status, "pass") == 0) r->status = CS_PASS;
    else if (strcmp(status, "fail") == 0) r->status = CS_FAIL;
    else if (strcmp(status, "skip") == 0) r->status = CS_SKIP;
    else return -1;
    if (cj_double(cj_get(c, "seconds"), &r->seconds) < 0)
        r->seconds = 0;
    r->owned_rules = join_rules(cj_get(c, "rules"));
    r->rules = r->owned_rules;
    r->owned_broke = join_rules(cj_get(c, "broke"));   /* optional: "" without it */
    r->broke = r->owned_broke;
    return r->rules && r->broke ? 0 : -1;
}

void report_free_loaded(report_run *run)
{
    for (size_t i = 0; run->rows != NULL && i < run->count; i++) {
        free(run->rows[i].owned_rules);
        free(run->rows[i].owned_broke);
    }
    free(run->rows);
    run->rows = NULL;
    run->count = 0;
}

int report_load_json(const char *path, report_run *run, cj_value **doc)
{
    char err[160];
    size_t len;
    char *text = slurp(path, &len);
    memset(run, 0, sizeof *run);
    if (text == NULL || cj_parse(text, len, doc, err, sizeof err) < 0) {
        fprintf(stderr, "qed-conform: %s: %s\n", path, text ? err : strerror(errno));
        free(text);
        return -1;
    }
    free(text);
    const cj_value *cases = cj_get(*doc, "cases");
    run->impl = cj_str(cj_get(*doc, "impl"));
    run->rows = calloc(cj_len(cases) + 1, sizeof *run->rows);
    if (run->impl == NULL || cases == NULL || run->rows == NULL) {
        fprintf(stderr, "qed-conform: %s: not a qed-conform results file\n", path);
        return -1;
    }
    for (; run->count < cj_len(cases); run->count++) {
        if (row_from_json(cj_at(cases, run->count), &run->rows[run->count]) < 0) {
            free(run->rows[run->count].owned_rules);
            free(run->rows[run->count].owned_broke);
            fprintf(stderr, "qed-conform: %s: case %zu is malformed\n", path, run->count);
            return -1;
        }
    }
    return 0;
}
