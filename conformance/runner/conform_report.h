/*
 * conform_report.h - qed-conform's reports: the human summary, the JSON
 * results file, JUnit XML, and the static HTML matrix (one column per
 * implementation run).
 */
#ifndef CONFORM_REPORT_H
#define CONFORM_REPORT_H

#include "conform.h"

#include <stdio.h>

/* One case's outcome as the reports see it. */
typedef struct {
    const char *id;
    const char *family;
    case_status status;
    const char *rules;
    const char *message;
    const char *detail;   /* "" or lines the HTML report draws (crash strips) */
    double seconds;
    char *owned_rules;    /* rules, when loaded from a file (freed with the run) */
    const char *broke;    /* of a failure, the rules it is known to break, or "" */
    char *owned_broke;    /* broke, when loaded from a file */
} report_row;

/* One run of the suite against one implementation. */
typedef struct {
    const char *impl;     /* "ref", "qemu", "cmd:..." */
    report_row *rows;
    size_t count;
    double seconds;       /* wall time of the run */
} report_run;

/* Per-family counts and the failures, for a human, on f. */
void report_summary(FILE *f, const report_run *run);

/* The JSON results file (schema "qed-conform-results-1"). 0 or -1. */
int report_json(const char *path, const report_run *run);

/* JUnit XML: one <testsuite> per family. 0 or -1. */
int report_junit(const char *path, const report_run *run);

/* The static HTML matrix of nruns runs side by side. 0 or -1. */
int report_html(const char *path, const report_run *runs, size_t nruns);

/* Load a JSON results file into *run; *doc keeps its strings alive.
 * 0 or -1 with a message.  Release with report_free_loaded and cj_free. */
int report_load_json(const char *path, report_run *run, cj_value **doc);

/* Free what report_load_json allocated in run. */
void report_free_loaded(report_run *run);

#endif
