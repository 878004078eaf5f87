/*
 * judge.c - judge every crash state of one trace (crash.h), in this
 * process or spread over worker processes (-j) and shards (--shard).
 *
 * A worker judges the states whose running number falls in its share and
 * sends its crash_report back through a pipe; the parent adds the counts
 * and keeps the first violations in state order of the workers.
 */
#include "crash.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The callback's context: the judge and the share of states it takes.
 * State i belongs to shard i % n (n 0: one shard), and within the shard to
 * worker (i / n) % jobs, so that the workers split their shard and the
 * shards partition the states whatever -j each was run with. */
typedef struct share {
    crash_judge *judge;
    uint64_t seen;
    unsigned k, n;            /* this shard: states with i % n == k */
    unsigned w, jobs;         /* this worker: (i / n) % jobs == w */
} share;

static int judge_share(void *ctx, crash_state *st)
{
    share *s = ctx;
    uint64_t i = s->seen++, n = s->n ? s->n : 1;

    if (i % n != s->k || (s->jobs > 1 && (i / n) % s->jobs != s->w))
        return 0;
    return crash_judge_state(s->judge, st);
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Copy a judge's results into a report. */
static void report_from(crash_report *rep, const crash_judge *j)
{
    rep->states = j->states;
    rep->failed_states = j->failed_states;
    memcpy(rep->by_oracle, j->by_oracle, sizeof rep->by_oracle);
    rep->nkept = j->nkept;
    memcpy(rep->kept, j->kept, j->nkept * sizeof j->kept[0]);
    rep->o4_checked = j->o4_checked;
}

/* The trace accounts for the file: its final replay equals what the
 * writer left (else a recorder missed a write and no verdict means much). */
static void check_fidelity(crash_judge *j, const crash_disk *d, const crash_events *ev,
                           const uint8_t *actual, size_t actual_len)
{
    crash_buf b = { 0 };
    crash_state st;
    size_t i;

    if (crash_buf_set(&b, d->image, d->image_len) != QED_OK)
        return;
    for (i = 0; i < ev->count && crash_apply(&b, &ev->ev[i]) == QED_OK; i++)
        ;
    memset(&st, 0, sizeof st);
    snprintf(st.id, sizeof st.id, "%zu:all:-", ev->entries);
    if (b.len != actual_len || memcmp(b.data, actual, actual_len) != 0) {
        size_t at = 0;
        while (at < b.len && at < actual_len && b.data[at] == actual[at])
            at++;
        j->by_oracle[5]++;
        j->failed_states++;
        if (j->nkept < CRASH_KEEP_VIOLATIONS) {
            crash_violation *v = &j->kept[j->nkept++];
            snprintf(v->oracle, sizeof v->oracle, "O5");
            snprintf(v->state, sizeof v->state, "%s", st.id);
            snprintf(v->what, sizeof v->what, "the trace does not account for the file the "
                     "writer left: byte %zu differs (replay %zu bytes, file %zu bytes); a write "
                     "reached the file without being recorded", at, b.len, actual_len);
            v->rules = "trace";
        }
    }
    crash_buf_free(&b);
}

/* Judge share k of n in this process. */
static int judge_here(const crash_disk *d, const crash_events *ev, const crash_model *m,
                      int by_ops, unsigned w, const crash_run_opts *o,
                      crash_report *rep, char *err, size_t errlen)
{
    crash_judge j;
    share s = { &j, 0, o->shard_n ? o->shard_k - 1 : 0, o->shard_n, w, o->jobs };
    int ret = crash_judge_init(&j, d, m, ev, err, errlen);

    if (ret != QED_OK)
        return ret;
    j.versions_by_ops = by_ops;
    ret = crash_explore(ev, d->image, d->image_len, &o->explore, judge_share, &s, &rep->stats);
    if (ret < 0)
        snprintf(err, errlen, "exploring the trace: %s", qed_strerror(ret));
    report_from(rep, &j);
    crash_judge_free(&j);
    return ret < 0 ? ret : QED_OK;
}

/* Write all of buf to fd. */
static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Read exactly len bytes from fd. */
static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len) {
        ssize_t r = read(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

/* Add a worker's report into the total. */
static void report_add(crash_report *t, const crash_report *w)
{
    t->states += w->states;
    t->failed_states += w->failed_states;
    for (int i = 0; i < 6; i++)
        t->by_oracle[i] += w->by_oracle[i];
    for (size_t i = 0; i < w->nkept && t->nkept < CRASH_KEEP_VIOLATIONS; i++)
        t->kept[t->nkept++] = w->kept[i];
    t->o4_checked = w->o4_checked;
}

/* Fork one worker per job, each judging its share; add their reports. */
static int judge_workers(const crash_disk *d, const crash_events *ev, const crash_model *m,
                         int by_ops, const crash_run_opts *o, crash_report *rep,
                         char *err, size_t errlen)
{
    unsigned jobs = o->jobs;
    int fds[64];
    pid_t pids[64];
    int failed = 0;

    for (unsigned w = 0; w < jobs; w++) {
        int p[2];
        if (pipe(p) < 0 || (pids[w] = fork()) < 0) {
            snprintf(err, errlen, "cannot start worker %u: %s", w, strerror(errno));
            return QED_ERR_IO;
        }
        if (pids[w] == 0) {
            static crash_report mine;
            close(p[0]);
            memset(&mine, 0, sizeof mine);
            int ret = judge_here(d, ev, m, by_ops, w, o, &mine, err, errlen);
            _exit(ret == QED_OK && write_all(p[1], &mine, sizeof mine) == 0 ? 0 : 1);
        }
        close(p[1]);
        fds[w] = p[0];
    }
    for (unsigned w = 0; w < jobs; w++) {
        static crash_report theirs;
        int status;
        if (read_all(fds[w], &theirs, sizeof theirs) == 0) {
            report_add(rep, &theirs);
            if (w == 0)                         /* every worker explores every state */
                rep->stats = theirs.stats;
        } else
            failed = 1;
        close(fds[w]);
        waitpid(pids[w], &status, 0);
    }
    if (failed)
        snprintf(err, errlen, "a worker failed");
    return failed ? QED_ERR_IO : QED_OK;
}

int crash_judge_trace(const crash_disk *d, const crash_events *ev, const crash_model *m,
                      int versions_by_ops, const uint8_t *actual, size_t actual_len,
                      const crash_run_opts *o, crash_report *rep, char *err, size_t errlen)
{
    double t0 = now_seconds();
    int ret;

    memset(rep, 0, sizeof *rep);
    rep->o3_from_trace = !versions_by_ops;
    if (o->jobs > 1 && o->jobs <= 64)
        ret = judge_workers(d, ev, m, versions_by_ops, o, rep, err, errlen);
    else
        ret = judge_here(d, ev, m, versions_by_ops, 0, o, rep, err, errlen);
    if (ret == QED_OK && actual) {
        crash_judge j;
        memset(&j, 0, sizeof j);
        check_fidelity(&j, d, ev, actual, actual_len);
        report_add(rep, &(crash_report){ .states = 0, .failed_states = j.failed_states,
                                         .by_oracle = { 0, 0, 0, 0, 0, j.by_oracle[5] },
                                         .nkept = 0, .o4_checked = rep->o4_checked });
        for (size_t i = 0; i < j.nkept && rep->nkept < CRASH_KEEP_VIOLATIONS; i++)
            rep->kept[rep->nkept++] = j.kept[i];
    }
    rep->seconds = now_seconds() - t0;
    return ret;
}

int crash_message_counts(const char *msg, uint64_t *states, uint64_t *violations)
{
    unsigned long long s, v;
    const char *p = strstr(msg, " torn), ");

    if (sscanf(msg, "%llu crash states", &s) != 1 || !p || sscanf(p, " torn), %llu violations", &v) != 1)
        return -1;
    *states = s;
    *violations = v;
    return 0;
}

void crash_report_line(const crash_report *rep, char *out, size_t cap)
{
    uint64_t v = 0;

    for (int i = 1; i <= 5; i++)
        v += rep->by_oracle[i];
    snprintf(out, cap, "%" PRIu64 " crash states (%" PRIu64 " cuts, %" PRIu64 " subsets%s, %"
             PRIu64 " torn), %" PRIu64 " violations in %" PRIu64 " states",
             rep->states, rep->stats.cuts, rep->stats.subset_states,
             rep->stats.sampled_epochs ? " some sampled" : "", rep->stats.torn_states, v,
             rep->failed_states);
}
