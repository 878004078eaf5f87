/*
 * crash_test.c - unit tests of the crash subsystem (make test-crash-unit):
 * the explorer, the oracles and state ids, on traces recorded in memory
 * through libqed's recorder, and on traces broken on purpose (each broken
 * one must fail the oracle that protects the rule it breaks).
 */
#include "crash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures, checks;

#define CHECK(cond, ...)                                                \
    do {                                                                \
        checks++;                                                       \
        if (!(cond)) {                                                  \
            failures++;                                                 \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                 \
            printf(__VA_ARGS__);                                        \
            printf("\n");                                               \
        }                                                               \
    } while (0)

/* A recorded session: the disk, the log bytes and the workload. */
typedef struct session {
    crash_owned_disk disk;
    crash_workload w;
    crash_buf log;
    crash_buf final;
} session;

/* Record w's commands as the reference runs them. */
static int record_session(session *s)
{
    return crash_record_reference(&s->disk.disk, s->w.ops, s->w.nops, 512, &s->log, &s->final);
}

/* Build a session for a workload of letters on a 4 KiB / table 1 image. */
static int new_session(session *s, const char *letters, int backing, int initial)
{
    char err[256];

    memset(s, 0, sizeof *s);
    if (crash_workload_from_fields(&s->w, "test", 4096, 1, 4 << 20,
                                   backing == CB_RAW ? "raw" : backing == CB_QED ? "qed" : "none",
                                   initial == CI_TABLES ? "tables" : "fresh", letters) != 0)
        return -1;
    if (crash_build_disk(&s->w, &s->disk, err, sizeof err) != QED_OK) {
        printf("build: %s\n", err);
        return -1;
    }
    return record_session(s);
}

static void free_session(session *s)
{
    crash_owned_disk_free(&s->disk);
    crash_buf_free(&s->log);
    crash_buf_free(&s->final);
}

/* Judge log against the session's workload; the report in rep. */
static int judge_log(session *s, const crash_buf *log, int by_ops, crash_report *rep)
{
    qed_trace t = { 0 };
    crash_events ev = { 0 };
    crash_model m = { 0 };
    crash_run_opts o = { { 12, 256, 1, 0 }, 1, 0, 0 };
    char err[512] = "";
    int ret = qed_trace_parse(log->data, log->len, &t, err, sizeof err);

    ret = ret ? ret : crash_events_from_trace(&t, &ev, err, sizeof err);
    if (ret == QED_OK)
        ret = by_ops ? crash_model_from_ops(&s->disk.disk, s->w.ops, s->w.nops, &m, err, sizeof err)
                     : crash_model_from_trace(&s->disk.disk, &ev, &m, err, sizeof err);
    ret = ret ? ret : crash_judge_trace(&s->disk.disk, &ev, &m, by_ops, NULL, 0, &o, rep, err,
                                        sizeof err);
    if (ret != QED_OK)
        printf("judge: %s\n", err);
    crash_model_free(&m);
    crash_events_free(&ev);
    qed_trace_free(&t);
    return ret;
}

static void test_reference_passes(const char *letters, int backing, int initial)
{
    session s;
    crash_report rep;

    CHECK(new_session(&s, letters, backing, initial) == QED_OK, "record %s", letters);
    CHECK(judge_log(&s, &s.log, 1, &rep) == QED_OK, "judge %s", letters);
    CHECK(rep.states > 3 && rep.failed_states == 0,
          "reference workload %s/%d/%d: %llu states, %llu failed%s%s", letters, backing, initial,
          (unsigned long long)rep.states, (unsigned long long)rep.failed_states,
          rep.nkept ? ": " : "", rep.nkept ? rep.kept[0].what : "");
    CHECK(judge_log(&s, &s.log, 0, &rep) == QED_OK && rep.failed_states == 0,
          "trace-only judgement of %s: %llu failed%s%s", letters,
          (unsigned long long)rep.failed_states, rep.nkept ? ": " : "",
          rep.nkept ? rep.kept[0].what : "");
    free_session(&s);
}

static void test_no_flush_fails(void)
{
    session s;
    crash_buf bad = { 0 };
    crash_report rep;

    /* a second session allocating into an existing table: without the
     * flushes the L2 entry can reach the disk before NEED_CHECK (WR-1) */
    CHECK(new_session(&s, "U", CB_NONE, CI_TABLES) == QED_OK, "record");
    CHECK(crash_trace_without_flushes(&s.log, &bad) == QED_OK, "rewrite");
    CHECK(judge_log(&s, &bad, 1, &rep) == QED_OK, "judge");
    CHECK(rep.by_oracle[2] > 0, "a writer that never flushes must break O2 (%llu O2 violations)",
          (unsigned long long)rep.by_oracle[2]);
    crash_buf_free(&bad);
    free_session(&s);
}

/* Every state id the exploration names builds the same bytes again. */
typedef struct id_check {
    const crash_events *ev;
    const crash_owned_disk *d;
    unsigned tried, same;
} id_check;

static int check_one_id(void *ctx, crash_state *st)
{
    id_check *c = ctx;
    crash_buf b = { 0 };
    crash_state again;
    crash_explore_opts o = { 12, 256, 1, 0 };
    char err[256];

    if (c->tried++ % 7)
        return 0;
    if (crash_build_state(c->ev, c->d->disk.image, c->d->disk.image_len, st->id, &o, &b, &again,
                          err, sizeof err) == QED_OK &&
        b.len == st->file->len && memcmp(b.data, st->file->data, b.len) == 0)
        c->same++;
    else
        printf("state %s does not rebuild: %s\n", st->id, err);
    crash_buf_free(&b);
    return 0;
}

static void test_ids_rebuild(void)
{
    session s;
    qed_trace t = { 0 };
    crash_events ev = { 0 };
    crash_explore_stats stats;
    crash_explore_opts o = { 12, 256, 1, 0 };
    id_check c = { &ev, &s.disk, 0, 0 };

    CHECK(new_session(&s, "UXF", CB_RAW, CI_FRESH) == QED_OK, "record");
    CHECK(qed_trace_parse(s.log.data, s.log.len, &t, NULL, 0) == QED_OK &&
          crash_events_from_trace(&t, &ev, NULL, 0) == QED_OK, "parse");
    crash_explore(&ev, s.disk.disk.image, s.disk.disk.image_len, &o, check_one_id, &c, &stats);
    CHECK(c.tried > 10 && c.same == (c.tried + 6) / 7, "ids rebuild: %u of %u", c.same,
          (c.tried + 6) / 7);
    crash_events_free(&ev);
    qed_trace_free(&t);
    free_session(&s);
}

int main(void)
{
    static const char *const seqs[] = { "A", "U", "X", "N", "Z", "P", "AF", "UFX", "ZU", "NF" };

    for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++)
        for (int b = CB_NONE; b <= CB_QED; b++)
            test_reference_passes(seqs[i], b, CI_FRESH);
    test_reference_passes("UA", CB_NONE, CI_TABLES);
    test_reference_passes("UA", CB_RAW, CI_TABLES);
    test_no_flush_fails();
    test_ids_rebuild();
    printf("crash-unit-test: %d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
