/*
 * crash_case.c - one case of the crash family: record a workload from the
 * implementation under test and judge every crash state of its trace
 * (crash.h).  The runner (conformance/runner) owns the case: its scratch
 * directory, its time budget and the adapter calls' log; this file only
 * says what to run and what the trace means.
 */
#include "crash.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* The adapter command line that runs the workload and records its trace:
 * the adapter's own recorder (io --trace) or the LD_PRELOAD shim. */
static size_t build_argv(const crash_case_io *io, const crash_workload *w, char **argv,
                         char cmds[][96], char *env[3], const char *img, const char *log)
{
    size_t n = 0;

    if (!io->adapter_traces) {
        argv[n++] = (char *)(uintptr_t)"/usr/bin/env";
        argv[n++] = env[0];
        argv[n++] = env[1];
        argv[n++] = env[2];
    }
    argv[n++] = (char *)(uintptr_t)io->adapter;
    argv[n++] = (char *)(uintptr_t)"io";
    if (io->adapter_traces) {
        argv[n++] = (char *)(uintptr_t)"--trace";
        argv[n++] = (char *)(uintptr_t)log;
    }
    argv[n++] = (char *)(uintptr_t)img;
    for (size_t i = 0; i < w->nops; i++) {
        crash_op_format(&w->ops[i], cmds[i], 96);
        argv[n++] = (char *)(uintptr_t)"-c";
        argv[n++] = cmds[i];
    }
    argv[n] = NULL;
    return n;
}

/* Put the initial disk into the scratch directory. */
static int stage_disk(const crash_case_io *io, const crash_owned_disk *d)
{
    if (crash_buf_save(io->dir, "image.qed", d->disk.image, d->disk.image_len) != QED_OK)
        return -1;
    if (d->disk.nfiles &&
        crash_buf_save(io->dir, d->base_name, d->disk.files[0].data, d->disk.files[0].len))
        return -1;
    return 0;
}

/* Run the workload through the adapter, leaving dir/trace.log; 0, or -1
 * with msg. */
static int record(const crash_case_io *io, const crash_workload *w, char *msg, size_t cap)
{
    char img[4200], log[4200], e0[4300], e1[4300], e2[4300], cmds[CRASH_MAX_OPS][96], why[512];
    char *env[3] = { e0, e1, e2 }, *argv[32];
    int code = 0;

    snprintf(img, sizeof img, "%s/image.qed", io->dir);
    snprintf(log, sizeof log, "%s/trace.log", io->dir);
    snprintf(e0, sizeof e0, "LD_PRELOAD=%s", io->shim ? io->shim : "");
    snprintf(e1, sizeof e1, "QEDTRACE_FILE=%s", img);
    snprintf(e2, sizeof e2, "QEDTRACE_LOG=%s", log);
    build_argv(io, w, argv, cmds, env, img, log);
    why[0] = '\0';
    if (io->run(io->ctx, argv, &code, why, sizeof why) < 0 || code != 0) {
        snprintf(msg, cap, "the workload did not run: %s", why[0] ? why : "adapter failed");
        return -1;
    }
    return 0;
}

/* The case's verdict from the report. */
static int verdict(const crash_report *rep, char *msg, size_t cap, char *rules, size_t rcap)
{
    char line[256];
    size_t at;

    crash_report_line(rep, line, sizeof line);
    if (!rep->failed_states) {
        snprintf(msg, cap, "%s", line);
        return 0;
    }
    at = (size_t)snprintf(msg, cap, "%s", line);
    rules[0] = '\0';
    for (size_t i = 0; i < rep->nkept && i < 4 && at < cap; i++) {
        const crash_violation *v = &rep->kept[i];
        at += (size_t)snprintf(msg + at, cap - at, "; %s state %s: %s", v->oracle, v->state,
                               v->what);
        if (!strstr(rules, v->oracle))
            snprintf(rules + strlen(rules), rcap - strlen(rules), "%s%s,%s",
                     rules[0] ? "," : "", v->oracle, v->rules);
    }
    return 1;
}

/* Judge the recorded trace; 0 pass, 1 fail, -1 with msg when it cannot. */
static int judge_recorded(const crash_case_io *io, const crash_workload *w,
                          const crash_owned_disk *d, crash_report *rep, char *msg, size_t cap,
                          char *detail, size_t dcap)
{
    crash_buf log = { 0 }, actual = { 0 };
    qed_trace t = { 0 };
    crash_events ev = { 0 };
    crash_model m = { 0 };
    crash_run_opts o = { { 12, 256, 24301, 0 }, 1, 0, 0 };
    char err[512];
    int ret = -1;

    if (crash_buf_load(&log, io->dir, "trace.log") != QED_OK ||
        crash_buf_load(&actual, io->dir, "image.qed") != QED_OK)
        snprintf(msg, cap, "the workload left no trace.log or no image.qed");
    else if (qed_trace_parse(log.data, log.len, &t, err, sizeof err) != QED_OK ||
             crash_events_from_trace(&t, &ev, err, sizeof err) != QED_OK)
        snprintf(msg, cap, "trace.log: %s", err);
    else if (crash_model_from_ops(&d->disk, w->ops, w->nops, &m, err, sizeof err) != QED_OK ||
             crash_judge_trace(&d->disk, &ev, &m, 1, actual.data, actual.len, &o, rep, err,
                               sizeof err) != QED_OK)
        snprintf(msg, cap, "%s", err);
    else
        ret = 0;
    if (ret == 0 && rep->failed_states && rep->nkept &&
        crash_strip(&d->disk, &t, &ev, rep->kept[0].state, detail, dcap) < 0)
        detail[0] = '\0';
    crash_model_free(&m);
    crash_events_free(&ev);
    qed_trace_free(&t);
    crash_buf_free(&log);
    crash_buf_free(&actual);
    return ret;
}

int crash_run_workload(const crash_case_io *io, const crash_workload *w, char *msg, size_t cap,
                       char *rules, size_t rcap, char *detail, size_t dcap)
{
    crash_owned_disk d;
    crash_report *rep = calloc(1, sizeof *rep);
    char err[512];
    int ret = -1;

    if (!rep) {
        snprintf(msg, cap, "out of memory");
        return -1;
    }
    if (!io->adapter_traces && !io->shim) {
        snprintf(msg, cap, "the adapter cannot record a trace (no io-trace capability) and "
                 "build/libqedtrace.so is not built");
        free(rep);
        return 2;
    }
    if (crash_build_disk(w, &d, err, sizeof err) != QED_OK)
        snprintf(msg, cap, "%s", err);
    else if (stage_disk(io, &d) < 0)
        snprintf(msg, cap, "cannot write the initial image: %s", strerror(errno));
    else if (record(io, w, msg, cap) == 0 &&
             judge_recorded(io, w, &d, rep, msg, cap, detail, dcap) == 0)
        ret = verdict(rep, msg, cap, rules, rcap);
    crash_owned_disk_free(&d);
    free(rep);
    return ret;
}
