/*
 * crash.h - the crash subsystem's entry points for qed-conform:
 *
 *   qed-conform crash-check   judge one trace (crash_check_main)
 *   qed-conform crash         the workload family (cases of family "crash",
 *                             run by the runner; crash_run_workload)
 *
 * and the one function both stand on: judge every crash state of a trace.
 */
#ifndef CRASH_CRASH_H
#define CRASH_CRASH_H

#include "oracle.h"
#include "workload.h"

#include <stdio.h>

/* Everything one judged trace produced. */
typedef struct crash_report {
    crash_explore_stats stats;
    uint64_t states, failed_states;
    uint64_t by_oracle[6];
    crash_violation kept[CRASH_KEEP_VIOLATIONS];
    size_t nkept;
    int o4_checked;           /* 0: no flush marks, O4 judged only in O5 */
    int o3_from_trace;        /* 1: versions from the trace (no workload) */
    double seconds;
} crash_report;

/* What to explore and how. */
typedef struct crash_run_opts {
    crash_explore_opts explore;
    unsigned jobs;            /* worker processes (1: in this process) */
    unsigned shard_k, shard_n;/* judge only states i with i % n == k - 1 (n 0: all) */
} crash_run_opts;

/* Judge every state of the trace (events) over disk d against model m.
 * versions_by_ops: m counts workload commands (else trace cuts).
 * actual, when not NULL, is the file the writer really left: the final
 * state must equal it byte for byte (the trace accounts for every write).
 * Returns QED_OK with *rep filled, or an error with err. */
int crash_judge_trace(const crash_disk *d, const crash_events *ev, const crash_model *m,
                      int versions_by_ops, const uint8_t *actual, size_t actual_len,
                      const crash_run_opts *o, crash_report *rep, char *err, size_t errlen);

/* One line: "N crash states (C cuts, S subsets, T torn), V violations". */
void crash_report_line(const crash_report *rep, char *out, size_t cap);

/* What a crash case needs from the runner that owns it. */
typedef struct crash_case_io {
    const char *dir;          /* the case's scratch directory (absolute) */
    const char *adapter;      /* the adapter executable (absolute) */
    int adapter_traces;       /* 1: it records its own trace (io --trace LOG) */
    const char *shim;         /* build/libqedtrace.so, or NULL when not built */
    /* Run argv within the case's budget, logging it; the exit code in
     * *code, a one-line reason in why when it failed.  0, or -1 when it
     * could not run at all (or timed out, or died of a signal). */
    int (*run)(void *ctx, char *const argv[], int *code, char *why, size_t cap);
    void *ctx;
} crash_case_io;

/* Record workload w from the adapter and judge every state of the trace.
 * On a failure detail holds the strip of the first failing state.
 * Returns 0 pass, 1 fail (violations in msg, oracles and rules in rules),
 * 2 skip (msg says why), -1 the case could not run (msg says why). */
int crash_run_workload(const crash_case_io *io, const crash_workload *w, char *msg, size_t cap,
                       char *rules, size_t rcap, char *detail, size_t dcap);

/* Draw the state named state_id as a strip of the trace's entries, one
 * line each ("#N KIND STATUS LABEL", see strip.c), into out.  0 or -1. */
int crash_strip(const crash_disk *d, const qed_trace *t, const crash_events *ev,
                const char *state_id, char *out, size_t cap);

/* Record ops[0..nops) run by the reference on a memory copy of d's image
 * through libqed's recorder (log sectors of sector_size), with the marks
 * qedtool io --trace writes; the file it leaves in *final. */
int crash_record_reference(const crash_disk *d, const crash_op *ops, size_t nops,
                           uint32_t sector_size, crash_buf *log, crash_buf *final);

/* The trace in with every FLUSH entry dropped (a writer that never
 * flushes): a broken trace every crash oracle test should catch. */
int crash_trace_without_flushes(const crash_buf *in, crash_buf *out);

/* `qed-conform crash-golden ...` (golden_traces.c); the exit status. */
int crash_golden_main(int argc, char **argv);

/* The crash states and violations a crash case's message reports (the
 * line crash_report_line writes); 0, or -1 when msg holds none. */
int crash_message_counts(const char *msg, uint64_t *states, uint64_t *violations);

/* `qed-conform crash-check ...`; returns the exit status. */
int crash_check_main(int argc, char **argv);

#endif
