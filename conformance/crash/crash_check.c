/*
 * crash_check.c - `qed-conform crash-check`: judge every crash state of
 * one trace recorded elsewhere (crash.h).
 */
#include "crash.h"
#include "../lib/json_string.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
"Usage: qed-conform crash-check --image INITIAL.qed --trace LOG [OPTION]...\n"
"\n"
"Simulate a power loss at every point of a trace and judge each resulting\n"
"image (spec section 9).  INITIAL.qed is the image as it was before the\n"
"trace was recorded (its backing files are read from beside it, as the\n"
"image names them); LOG is a dm-log-writes trace of everything the writer\n"
"issued to that file (qedtool io --trace, build/libqedtrace.so, or QEMU's\n"
"blklogwrites driver).  Every state is checked against the oracles\n"
"O1 recovery, O2 dirty bit, O3 no foreign data, O4 durability and O5 final\n"
"state; each violation is printed with its oracle, the state's id\n"
"(CUT:SUBSET:TORN) and the sector, entry or rule involved.\n"
"\n"
"Options:\n"
"  --image FILE        the initial image (required)\n"
"  --trace LOG         the trace (required)\n"
"  --workload FILE     the qemu-io commands the writer ran, one per line\n"
"                      (write [-P B] [-z] OFF LEN, flush, truncate SIZE):\n"
"                      O3 and O4 then judge against what the workload wrote;\n"
"                      without it O3 accepts what the in-order replay of the\n"
"                      trace showed at or before the cut, and O4 is judged\n"
"                      only where the trace carries flush:N marks\n"
"  --final FILE        the file the writer left: the whole trace must\n"
"                      reproduce it byte for byte\n"
"  --json FILE         write the verdicts as JSON\n"
"  --save-state ID OUT write crash state ID to OUT (an image to reproduce a\n"
"                      failure with qedtool check/info), judge it, and stop\n"
"  --max-subset N      enumerate every subset of a flush epoch of at most N\n"
"                      writes (default 12, at most 20); larger epochs are\n"
"                      sampled\n"
"  --samples N         subsets sampled per larger epoch (default 1024)\n"
"  --seed N            sampling seed (default 24301)\n"
"  --no-torn           no torn multi-sector writes\n"
"  -j N                judge in N worker processes (default 1)\n"
"  --shard K/N         judge only the K-th of N shares of the states\n"
"  -h, --help          this help\n"
"\n"
"Exit status: 0 every state passed, 1 some state broke an oracle, 2 usage\n"
"or input error (a malformed trace is named by entry and field).\n"
"\n"
"Example:\n"
"  qedtool create -o cluster_size=4k disk.qed 4M && cp disk.qed before.qed\n"
"  qedtool io --trace t.log disk.qed -c 'write -P 0xab 0 8k' -c flush\n"
"  qed-conform crash-check --image before.qed --trace t.log --final disk.qed\n";

typedef struct options {
    const char *image, *trace, *workload, *final, *json, *save_id, *save_out;
    crash_run_opts run;
} options;

/* Parse "K/N" into k and n. */
static int parse_shard(const char *s, unsigned *k, unsigned *n)
{
    char *end;
    unsigned long a = strtoul(s, &end, 10), b;

    if (end == s || *end != '/')
        return -1;
    b = strtoul(end + 1, &end, 10);
    if (*end || a == 0 || b == 0 || a > b || b > 1000000)
        return -1;
    *k = (unsigned)a;
    *n = (unsigned)b;
    return 0;
}

/* A decimal number in [lo, hi]. */
static int parse_uint(const char *s, unsigned long long lo, unsigned long long hi,
                      unsigned long long *out)
{
    char *end;

    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno || *end || *out < lo || *out > hi ? -1 : 0;
}

/* One option with a value; 0, or -1 on a bad value. */
static int value_option(options *o, const char *name, const char *v, const char *v2)
{
    unsigned long long n;

    if (!strcmp(name, "--image")) o->image = v;
    else if (!strcmp(name, "--trace")) o->trace = v;
    else if (!strcmp(name, "--workload")) o->workload = v;
    else if (!strcmp(name, "--final")) o->final = v;
    else if (!strcmp(name, "--json")) o->json = v;
    else if (!strcmp(name, "--save-state")) { o->save_id = v; o->save_out = v2; }
    else if (!strcmp(name, "--shard"))
        return parse_shard(v, &o->run.shard_k, &o->run.shard_n);
    else if (parse_uint(v, 1, !strcmp(name, "--seed") ? UINT64_MAX : 1000000, &n) < 0)
        return -1;
    else if (!strcmp(name, "--max-subset")) o->run.explore.max_subset = n > 20 ? 20 : (unsigned)n;
    else if (!strcmp(name, "--samples")) o->run.explore.samples = (unsigned)n;
    else if (!strcmp(name, "--seed")) o->run.explore.seed = n;
    else if (!strcmp(name, "-j")) { if (n > 64) return -1; o->run.jobs = (unsigned)n; }
    else return -1;
    return 0;
}

/* Parse argv; 0, 1 after --help, 2 on a usage error. */
static int parse_args(int argc, char **argv, options *o)
{
    static const char *const valued[] = { "--image", "--trace", "--workload", "--final", "--json",
                                          "--save-state", "--shard", "--max-subset",
                                          "--samples", "--seed", "-j" };
    memset(o, 0, sizeof *o);
    o->run.explore = (crash_explore_opts){ 12, 1024, 24301, 0 };
    o->run.jobs = 1;
    for (int i = 0; i < argc; i++) {
        size_t k = 0, nk = sizeof valued / sizeof valued[0];
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return fputs(usage_text, stdout), 1;
        if (!strcmp(argv[i], "--no-torn")) { o->run.explore.no_torn = 1; continue; }
        while (k < nk && strcmp(argv[i], valued[k]))
            k++;
        int need = k < nk && !strcmp(valued[k], "--save-state") ? 2 : 1;
        if (k == nk || i + need >= argc ||
            value_option(o, valued[k], argv[i + 1], need == 2 ? argv[i + 2] : NULL) < 0) {
            fprintf(stderr, "qed-conform crash-check: bad or unknown option '%s' (see --help)\n",
                    argv[i]);
            return 2;
        }
        i += need;
    }
    if (!o->image || !o->trace) {
        fputs("qed-conform crash-check: --image and --trace are required (see --help)\n", stderr);
        return 2;
    }
    return 0;
}

/* Read a whole file into b; QED_OK, or an error after saying why. */
static int read_whole(const char *path, crash_buf *b)
{
    int ret = crash_buf_load(b, NULL, path);

    if (ret != QED_OK)
        fprintf(stderr, "qed-conform crash-check: %s: %s\n", path,
                errno == EFBIG ? "larger than 1 GiB" : strerror(errno));
    return ret;
}

/* Parse the workload file into ops (at most max). */
static int read_workload(const char *path, crash_op *ops, size_t max, size_t *n)
{
    FILE *f = fopen(path, "r");
    char line[512], err[256];
    unsigned lineno = 0;

    *n = 0;
    if (!f) {
        fprintf(stderr, "qed-conform crash-check: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        crash_op op;
        lineno++;
        if (crash_op_parse(line, &op, err, sizeof err) != QED_OK || (op.kind >= 0 && *n == max)) {
            fprintf(stderr, "qed-conform crash-check: %s:%u: %s\n", path, lineno,
                    *n == max ? "too many commands" : err);
            fclose(f);
            return -1;
        }
        if (op.kind >= 0)
            ops[(*n)++] = op;
    }
    fclose(f);
    return 0;
}

/* Print the verdicts for a person: every kept violation, then the first
 * failing state drawn as the trace's strip. */
static void print_report(const crash_report *rep, const options *o, const crash_disk *d,
                         const qed_trace *t, const crash_events *ev)
{
    char line[256], strip[16384];
    uint64_t total = 0;

    for (size_t i = 0; i < rep->nkept; i++)
        crash_violation_print(stdout, &rep->kept[i]);
    if (rep->nkept && crash_strip(d, t, ev, rep->kept[0].state, strip, sizeof strip) == 0)
        printf("state %s, entry by entry (KIND: W write, F flush, M mark; "
               "durable/persisted/lost/torn/after):\n%s", rep->kept[0].state, strip);
    for (int i = 1; i <= 5; i++)
        total += rep->by_oracle[i];
    if (total > rep->nkept)
        printf("... and %" PRIu64 " more violations\n", total - rep->nkept);
    if (rep->stats.sampled_epochs)
        printf("note: %" PRIu64 " flush epochs had more than %u writes (largest %" PRIu64 "); "
               "%" PRIu64 " of their subsets were sampled (seed %" PRIu64 ")\n",
               rep->stats.sampled_epochs, o->run.explore.max_subset, rep->stats.largest_epoch,
               rep->stats.sampled_states, o->run.explore.seed);
    if (!rep->o4_checked)
        printf("note: O4 durability not checked before the end of the trace: it carries no "
               "flush:N marks\n");
    if (rep->o3_from_trace)
        printf("note: O3 judged against the in-order replay of the trace (no --workload); "
               "O5 judges consistency, not content\n");
    crash_report_line(rep, line, sizeof line);
    printf("crash-check: %s\n", line);
}

/* The verdicts as JSON (schema qed-conform-crash-1). */
static int write_json(const char *path, const crash_report *rep)
{
    FILE *f = fopen(path, "w");

    if (!f)
        return -1;
    fprintf(f, "{\"schema\":\"qed-conform-crash-1\",\"states\":%" PRIu64 ",\"failed_states\":%"
            PRIu64 ",\"cuts\":%" PRIu64 ",\"subset_states\":%" PRIu64 ",\"torn_states\":%" PRIu64
            ",\"sampled_states\":%" PRIu64 ",\"o4_checked\":%s,\"violations_by_oracle\":{",
            rep->states, rep->failed_states, rep->stats.cuts, rep->stats.subset_states,
            rep->stats.torn_states, rep->stats.sampled_states, rep->o4_checked ? "true" : "false");
    for (int i = 1; i <= 5; i++)
        fprintf(f, "%s\"O%d\":%" PRIu64, i > 1 ? "," : "", i, rep->by_oracle[i]);
    fputs("},\"violations\":[", f);
    for (size_t i = 0; i < rep->nkept; i++) {
        const crash_violation *v = &rep->kept[i];
        fprintf(f, "%s{\"oracle\":\"%s\",\"state\":", i ? "," : "", v->oracle);
        json_write_string(json_sink_file, f, v->state);
        fputs(",\"what\":", f);
        json_write_string(json_sink_file, f, v->what);
        fputs(",\"rules\":", f);
        json_write_string(json_sink_file, f, v->rules);
        fputc('}', f);
    }
    fputs("]}\n", f);
    return fclose(f) == 0 ? 0 : -1;
}

/* --save-state: write one state out and judge it alone. */
static int save_state(const options *o, const crash_disk *d, const crash_events *ev,
                      const crash_model *m, int by_ops)
{
    crash_buf b = { 0 };
    crash_state st;
    crash_judge j;
    char err[256];
    int ret = crash_build_state(ev, d->image, d->image_len, o->save_id, &o->run.explore, &b,
                                &st, err, sizeof err);
    FILE *f;

    if (ret != QED_OK) {
        fprintf(stderr, "qed-conform crash-check: %s\n", err);
        return 2;
    }
    f = fopen(o->save_out, "wb");
    if (!f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0) {
        fprintf(stderr, "qed-conform crash-check: %s: cannot write\n", o->save_out);
        crash_buf_free(&b);
        return 2;
    }
    printf("crash-check: wrote state %s (%zu bytes) to %s\n", st.id, b.len, o->save_out);
    if (crash_judge_init(&j, d, m, ev, err, sizeof err) != QED_OK) {
        fprintf(stderr, "qed-conform crash-check: %s\n", err);
        crash_buf_free(&b);
        return 2;
    }
    j.versions_by_ops = by_ops;
    crash_judge_state(&j, &st);
    for (size_t i = 0; i < j.nkept; i++)
        crash_violation_print(stdout, &j.kept[i]);
    ret = j.failed_states ? 1 : 0;
    printf("crash-check: state %s %s\n", st.id, ret ? "FAILS" : "passes");
    crash_judge_free(&j);
    crash_buf_free(&b);
    return ret;
}

/* Load the trace, the disk and the model; 0 or 2 (message printed). */
static int load_inputs(const options *o, crash_buf *log, qed_trace *t, crash_events *ev,
                       crash_owned_disk *d, crash_model *m, crash_buf *actual)
{
    char err[512];
    crash_op ops[256];
    size_t nops = 0;

    if (read_whole(o->trace, log) != QED_OK)
        return 2;
    if (qed_trace_parse(log->data, log->len, t, err, sizeof err) != QED_OK ||
        crash_events_from_trace(t, ev, err, sizeof err) != QED_OK) {
        fprintf(stderr, "qed-conform crash-check: %s: %s\n", o->trace, err);
        return 2;
    }
    if (crash_load_disk(o->image, d, err, sizeof err) != QED_OK) {
        fprintf(stderr, "qed-conform crash-check: %s\n", err);
        return 2;
    }
    if (o->final && read_whole(o->final, actual) != QED_OK)
        return 2;
    if (o->workload && read_workload(o->workload, ops, 256, &nops) < 0)
        return 2;
    if ((o->workload ? crash_model_from_ops(&d->disk, ops, nops, m, err, sizeof err)
                     : crash_model_from_trace(&d->disk, ev, m, err, sizeof err)) != QED_OK) {
        fprintf(stderr, "qed-conform crash-check: %s\n", err);
        return 2;
    }
    return 0;
}

int crash_check_main(int argc, char **argv)
{
    options o;
    crash_buf log = { 0 }, actual = { 0 };
    qed_trace t = { 0 };
    crash_events ev = { 0 };
    crash_owned_disk d;
    crash_model m = { 0 };
    crash_report *rep = calloc(1, sizeof *rep);
    char err[512];
    int rc = parse_args(argc, argv, &o);

    if (rc == 1) {                       /* --help */
        free(rep);
        return 0;
    }
    memset(&d, 0, sizeof d);
    if (rc == 0 && !rep)
        rc = 2;
    if (rc == 0)
        rc = load_inputs(&o, &log, &t, &ev, &d, &m, &actual);
    if (rc == 0 && o.save_id)
        rc = save_state(&o, &d.disk, &ev, &m, o.workload != NULL);
    else if (rc == 0) {
        if (crash_judge_trace(&d.disk, &ev, &m, o.workload != NULL, o.final ? actual.data : NULL,
                              actual.len, &o.run, rep, err, sizeof err) != QED_OK) {
            fprintf(stderr, "qed-conform crash-check: %s\n", err);
            rc = 2;
        } else {
            print_report(rep, &o, &d.disk, &t, &ev);
            if (o.json && write_json(o.json, rep) < 0) {
                fprintf(stderr, "qed-conform crash-check: %s: cannot write\n", o.json);
                rc = 2;
            } else
                rc = rep->failed_states ? 1 : 0;
        }
    }
    crash_model_free(&m);
    crash_owned_disk_free(&d);
    crash_events_free(&ev);
    qed_trace_free(&t);
    crash_buf_free(&log);
    crash_buf_free(&actual);
    free(rep);
    return rc;
}
