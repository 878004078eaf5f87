/*
 * golden_traces.c - `qed-conform crash-golden`: the golden traces of
 * corpus/traces/ (crash.h).
 *
 *   qed-conform crash-golden --out DIR     write them (deterministic)
 *   qed-conform crash-golden --check DIR   judge every trace of DIR's
 *                                          manifest and compare the verdict
 *                                          with the one it records
 *
 * Each trace has a folder holding the initial image (image.qed and its
 * backing file), the trace (trace.log), the workload it ran (workload.txt,
 * qemu-io commands) and the file the writer left (final.qed).  The
 * manifest (manifest.json, schema qedref-traces-1) gives for each trace
 * where it came from and what it must yield: "pass", or "fail" with the
 * first oracle broken and the state that breaks it.  Traces recorded from
 * other writers (QEMU) sit in folders of their own, listed in their own
 * manifest, and are checked the same way.
 */
#include "crash.h"
#include "../lib/files.h"
#include "../lib/json_string.h"
#include "../runner/conform_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One golden trace: a workload and what is done to its recording. */
typedef struct golden_trace {
    const char *name;
    uint32_t cluster_size, table_size;
    const char *backing, *initial, *letters;
    int no_flush;             /* 1: the recording with its flushes dropped */
    uint32_t sector_size;
} golden_trace;

static const golden_trace TRACES[] = {
    { "ref-alloc-4k", 4096, 1, "none", "fresh", "A", 0, 512 },
    { "ref-cow-raw-4k", 4096, 1, "raw", "fresh", "UXF", 0, 512 },
    { "ref-cow-qed-64k", 65536, 4, "qed", "fresh", "UZ", 0, 512 },
    { "ref-new-l2-4k", 4096, 1, "none", "fresh", "NFA", 0, 512 },
    { "ref-second-session", 4096, 1, "none", "tables", "UP", 0, 512 },
    { "ref-needcheck-repair", 4096, 4, "raw", "needcheck", "AF", 0, 512 },
    { "ref-grow", 4096, 1, "raw", "fresh", "GN", 0, 512 },
    { "ref-sector-4096", 65536, 1, "raw", "fresh", "XF", 0, 4096 },
    { "ref-second-session-t4", 4096, 4, "none", "tables", "UF", 0, 512 },
    { "ref-cow-raw-t4", 4096, 4, "raw", "fresh", "AUX", 0, 512 },
    { "broken-no-flush-second-session", 4096, 1, "none", "tables", "U", 1, 512 },
    { "broken-no-flush-cow-raw", 4096, 1, "raw", "fresh", "AU", 1, 512 },
    { "broken-no-flush-needcheck", 4096, 1, "none", "needcheck", "A", 1, 512 },
};

#define NTRACES (sizeof TRACES / sizeof TRACES[0])

static const char usage_text[] =
"Usage: qed-conform crash-golden --out DIR\n"
"       qed-conform crash-golden --check DIR\n"
"\n"
"Write the golden crash traces (initial image, trace, workload, final file\n"
"and the expected verdict of each, in DIR/manifest.json), or check a\n"
"directory of them: every trace is judged as qed-conform crash-check would\n"
"and its verdict (pass, or the first oracle broken and its state) must be\n"
"the one the manifest records.  The traces come from the reference's\n"
"recorder; the broken-* ones are the same recordings with every flush\n"
"dropped, a writer each oracle must catch.\n"
"\n"
"Exit status: 0 written / every verdict as recorded, 1 a verdict differs,\n"
"2 usage or input error.\n";

/* Write len bytes to dir/name; 0, or -1 after saying why. */
static int put_file(const char *dir, const char *name, const void *data, size_t len)
{
    if (crash_buf_save(dir, name, data, len) == QED_OK)
        return 0;
    fprintf(stderr, "qed-conform crash-golden: %s/%s: %s\n", dir, name, strerror(errno));
    return -1;
}

/* The workload as qemu-io commands, one per line. */
static int put_workload(const char *dir, const crash_workload *w)
{
    char text[CRASH_MAX_OPS * 100] = "", line[96];

    for (size_t i = 0; i < w->nops; i++) {
        crash_op_format(&w->ops[i], line, sizeof line);
        strcat(text, line);
        strcat(text, "\n");
    }
    return put_file(dir, "workload.txt", text, strlen(text));
}

/* The verdict of a judged trace: "pass" or the first violation. */
typedef struct verdict {
    int pass;
    char oracle[4];
    char state[192];
} verdict;

static verdict verdict_of(const crash_report *rep)
{
    verdict v = { rep->failed_states == 0, "", "" };

    if (!v.pass && rep->nkept) {
        snprintf(v.oracle, sizeof v.oracle, "%s", rep->kept[0].oracle);
        snprintf(v.state, sizeof v.state, "%s", rep->kept[0].state);
    }
    return v;
}

/* Judge trace log over disk d with the workload's versions. */
static int judge(const crash_disk *d, const crash_op *ops, size_t nops, const crash_buf *log,
                 const crash_buf *final, verdict *out, char *err, size_t errlen)
{
    qed_trace t = { 0 };
    crash_events ev = { 0 };
    crash_model m = { 0 };
    crash_run_opts o = { { 12, 1024, 24301, 0 }, 1, 0, 0 };
    crash_report *rep = calloc(1, sizeof *rep);
    int ret = rep ? qed_trace_parse(log->data, log->len, &t, err, errlen) : QED_ERR_NOMEM;

    if (ret == QED_OK)
        ret = crash_events_from_trace(&t, &ev, err, errlen);
    if (ret == QED_OK)
        ret = crash_model_from_ops(d, ops, nops, &m, err, errlen);
    if (ret == QED_OK)
        ret = crash_judge_trace(d, &ev, &m, 1, final->data, final->len, &o, rep, err, errlen);
    if (ret == QED_OK)
        *out = verdict_of(rep);
    crash_model_free(&m);
    crash_events_free(&ev);
    qed_trace_free(&t);
    free(rep);
    return ret;
}

/* Record, transform, judge and write one golden trace; its manifest entry
 * goes to f. */
static int write_one(const char *out, const golden_trace *g, FILE *f, int first)
{
    char dir[4200], err[512];
    crash_workload w;
    crash_owned_disk d;
    crash_buf log = { 0 }, final = { 0 }, broken = { 0 };
    verdict v;
    int ret = -1;

    snprintf(dir, sizeof dir, "%s/%s", out, g->name);
    if (crash_workload_from_fields(&w, g->name, g->cluster_size, g->table_size,
                                   2ull * g->table_size * g->cluster_size / 8 * g->cluster_size,
                                   g->backing, g->initial, g->letters) < 0 ||
        crash_build_disk(&w, &d, err, sizeof err) != QED_OK) {
        fprintf(stderr, "qed-conform crash-golden: %s: cannot build the workload\n", g->name);
        return -1;
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        fprintf(stderr, "qed-conform crash-golden: %s: %s\n", dir, strerror(errno));
    else if (crash_record_reference(&d.disk, w.ops, w.nops, g->sector_size, &log, &final))
        fprintf(stderr, "qed-conform crash-golden: %s: the reference cannot run it\n", g->name);
    else if (g->no_flush && crash_trace_without_flushes(&log, &broken) != QED_OK)
        fprintf(stderr, "qed-conform crash-golden: %s: cannot rewrite the trace\n", g->name);
    else if (judge(&d.disk, w.ops, w.nops, g->no_flush ? &broken : &log, &final, &v, err,
                   sizeof err) != QED_OK)
        fprintf(stderr, "qed-conform crash-golden: %s: %s\n", g->name, err);
    else if (put_file(dir, "image.qed", d.disk.image, d.disk.image_len) == 0 &&
             (!d.disk.nfiles || put_file(dir, d.base_name, d.disk.files[0].data,
                                         d.disk.files[0].len) == 0) &&
             put_file(dir, "trace.log", g->no_flush ? broken.data : log.data,
                      g->no_flush ? broken.len : log.len) == 0 &&
             put_file(dir, "final.qed", final.data, final.len) == 0 && put_workload(dir, &w) == 0) {
        fprintf(f, "%s    {\"id\": \"%s\", \"source\": \"%s\", \"workload\": \"%s/%s/%s\", "
                "\"expect\": \"%s\"", first ? "" : ",\n", g->name,
                g->no_flush ? "reference, flushes dropped" : "reference", g->backing, g->initial,
                g->letters, v.pass ? "pass" : "fail");
        if (!v.pass)
            fprintf(f, ", \"oracle\": \"%s\", \"state\": \"%s\"", v.oracle, v.state);
        fputc('}', f);
        ret = 0;
    }
    crash_buf_free(&log);
    crash_buf_free(&final);
    crash_buf_free(&broken);
    crash_owned_disk_free(&d);
    return ret;
}

static int write_all(const char *out)
{
    char path[4200];
    FILE *f;
    int ret = 0;

    if (mkdir(out, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "qed-conform crash-golden: %s: %s\n", out, strerror(errno));
        return 2;
    }
    snprintf(path, sizeof path, "%s/manifest.json", out);
    if (!(f = fopen(path, "w")))
        return 2;
    fputs("{\n  \"schema\": \"qedref-traces-1\",\n  \"generator\": \"qed-conform crash-golden\",\n"
          "  \"traces\": [\n", f);
    for (size_t i = 0; i < NTRACES && ret == 0; i++)
        ret = write_one(out, &TRACES[i], f, i == 0);
    fputs("\n  ]\n}\n", f);
    if (fclose(f) != 0 || ret != 0)
        return 2;
    printf("crash-golden: %zu traces in %s\n", NTRACES, out);
    return 0;
}

/* The workload.txt of a trace folder as commands. */
static int get_workload(const char *dir, crash_op *ops, size_t max, size_t *n)
{
    crash_buf b = { 0 };
    char err[256], *line, *save = NULL;
    int ret = 0;

    *n = 0;
    if (crash_buf_load(&b, dir, "workload.txt") != QED_OK || crash_buf_resize(&b, b.len + 1) != QED_OK)
        return -1;
    b.data[b.len - 1] = '\0';
    for (line = strtok_r((char *)b.data, "\n", &save); line && ret == 0;
         line = strtok_r(NULL, "\n", &save)) {
        crash_op op;
        if (crash_op_parse(line, &op, err, sizeof err) != QED_OK || (op.kind >= 0 && *n == max))
            ret = -1;
        else if (op.kind >= 0)
            ops[(*n)++] = op;
    }
    crash_buf_free(&b);
    return ret;
}

/* Judge one manifest entry; 1 when its verdict is the recorded one. */
static int check_one(const char *top, const cj_value *t)
{
    const char *id = cj_str(cj_get(t, "id")), *expect = cj_str(cj_get(t, "expect"));
    const char *oracle = cj_str(cj_get(t, "oracle")), *state = cj_str(cj_get(t, "state"));
    char dir[4200], image[4300], err[512];
    crash_owned_disk d;
    crash_buf log = { 0 }, final = { 0 };
    crash_op ops[64];
    size_t nops;
    verdict v;
    int ok = 0;

    if (!id || !expect || !cf_path_is_safe(id)) {
        printf("MISMATCH manifest entry without a safe id and expect\n");
        return 0;
    }
    snprintf(dir, sizeof dir, "%s/%s", top, id);
    snprintf(image, sizeof image, "%s/image.qed", dir);
    memset(&d, 0, sizeof d);
    if (crash_load_disk(image, &d, err, sizeof err) != QED_OK ||
        crash_buf_load(&log, dir, "trace.log") != QED_OK || crash_buf_load(&final, dir, "final.qed") != QED_OK ||
        get_workload(dir, ops, 64, &nops) < 0)
        printf("MISMATCH %s: cannot read its files\n", id);
    else if (judge(&d.disk, ops, nops, &log, &final, &v, err, sizeof err) != QED_OK)
        printf("MISMATCH %s: %s\n", id, err);
    else if (v.pass != (strcmp(expect, "pass") == 0) ||
             (!v.pass && (!oracle || !state || strcmp(oracle, v.oracle) || strcmp(state, v.state))))
        printf("MISMATCH %s: expected %s %s %s, got %s %s %s\n", id, expect,
               oracle ? oracle : "", state ? state : "", v.pass ? "pass" : "fail", v.oracle,
               v.state);
    else {
        printf("ok       %s: %s%s%s%s%s\n", id, expect, v.pass ? "" : " ", v.oracle,
               v.pass ? "" : " at ", v.state);
        ok = 1;
    }
    crash_owned_disk_free(&d);
    crash_buf_free(&log);
    crash_buf_free(&final);
    return ok;
}

static int check_all(const char *top)
{
    char path[4200], err[160];
    crash_buf text = { 0 };
    cj_value *doc = NULL;
    const cj_value *traces;
    size_t pass = 0, fail = 0;

    snprintf(path, sizeof path, "%s/manifest.json", top);
    if (crash_buf_load(&text, top, "manifest.json") != QED_OK ||
        cj_parse((const char *)text.data, text.len, &doc, err, sizeof err) < 0) {
        fprintf(stderr, "qed-conform crash-golden: %s: cannot read or parse\n", path);
        crash_buf_free(&text);
        return 2;
    }
    traces = cj_get(doc, "traces");
    for (size_t i = 0; i < cj_len(traces); i++)
        check_one(top, cj_at(traces, i)) ? pass++ : fail++;
    printf("crash-golden: %zu passed, %zu failed\n", pass, fail);
    cj_free(doc);
    crash_buf_free(&text);
    return fail || pass == 0 ? 1 : 0;
}

int crash_golden_main(int argc, char **argv)
{
    if (argc == 1 && (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help")))
        return fputs(usage_text, stdout), 0;
    if (argc == 2 && !strcmp(argv[0], "--out"))
        return write_all(argv[1]);
    if (argc == 2 && !strcmp(argv[0], "--check"))
        return check_all(argv[1]);
    fputs(usage_text, stderr);
    return 2;
}
