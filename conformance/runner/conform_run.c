/*
 * conform_run.c - run the selected cases in up to -j worker processes (one
 * forked worker per case, so a runner bug in one case cannot take the run
 * down), and report each result in case order as it completes.
 */
#include "conform_run.h"

#include "conform_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    size_t slot;          /* index in worker_pids */
    pid_t pid;
    int fd;               /* read end of the result pipe, -1 when idle */
    size_t idx;           /* case index */
    case_result r;        /* bytes received so far */
    size_t got;
} worker;

/* Worker pids, for forwarding a fatal signal (0 = slot idle). */
static volatile sig_atomic_t worker_pids[CONFORM_MAX_JOBS];

/* SIGINT/SIGTERM/SIGHUP in the runner: pass it on to the workers (each
 * kills its adapter's process group), then die of it. */
static void forward_fatal_signal(int sig)
{
    for (size_t k = 0; k < CONFORM_MAX_JOBS; k++)
        if (worker_pids[k] > 0)
            kill((pid_t)worker_pids[k], sig);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Install forward_fatal_signal for SIGINT, SIGTERM and SIGHUP. */
static void install_forwarding(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward_fatal_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

/* Fork a worker for case idx; its result arrives on w->fd. */
static int start_worker(const conform_config *cfg, const conform_case *cases, size_t idx, worker *w)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        case_result r;
        close(p[0]);
        cp_install_signal_handlers();
        conform_run_case(cfg, &cases[idx], &r);   /* removes its scratch dir */
        cp_die_if_interrupted();
        const char *b = (const char *)&r;
        for (size_t off = 0; off < sizeof r; ) {
            ssize_t n = write(p[1], b + off, sizeof r - off);
            if (n <= 0 && errno != EINTR)
                _exit(1);
            off += n > 0 ? (size_t)n : 0;
        }
        _exit(0);
    }
    close(p[1]);
    *w = (worker){ w->slot, pid, p[0], idx, { 0 }, 0 };
    worker_pids[w->slot] = (sig_atomic_t)pid;
    return 0;
}

/* Read from a worker; when it is done, store its result in results[].
 * Returns 1 when the worker finished. */
static int drain_worker(worker *w, case_result *results, char *done)
{
    ssize_t n = read(w->fd, (char *)&w->r + w->got, sizeof w->r - w->got);
    if (n < 0 && errno == EINTR)
        return 0;
    if (n > 0) {
        w->got += (size_t)n;
        if (w->got < sizeof w->r)
            return 0;
    }
    int status = 0;
    close(w->fd);
    w->fd = -1;
    while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
        ;
    worker_pids[w->slot] = 0;
    if (w->got != sizeof w->r) {   /* the worker itself died: a runner bug */
        memset(&w->r, 0, sizeof w->r);
        w->r.status = CS_FAIL;
        snprintf(w->r.message, sizeof w->r.message, "runner worker died (status 0x%x)", status);
    }
    results[w->idx] = w->r;
    done[w->idx] = 1;
    return 1;
}

/* Progress and per-case output, in case order. */
typedef struct {
    int verbose;
    int tty;
    size_t total;
} progress;

/* Report one finished case (called in case order). */
static void report_case(const progress *pg, size_t i, const conform_case *c, const case_result *r)
{
    if (pg->tty)
        fprintf(stderr, "\r\033[K");
    if (r->status == CS_FAIL)
        printf("FAIL %s [%s]: %s\n", c->id, r->rules, r->message);
    else if (pg->verbose)
        printf("%s %s%s%s\n", conform_status_name(r->status), c->id, r->message[0] ? ": " : "",
               r->message);
    fflush(stdout);
    if (pg->tty)
        fprintf(stderr, "[%3zu/%zu] %.60s %s", i + 1, pg->total, c->id, conform_status_name(r->status));
}

/* Wait for any busy worker to make progress. */
static void wait_workers(worker *ws, size_t nw, case_result *results, char *done, size_t *active)
{
    struct pollfd pf[CONFORM_MAX_JOBS];
    for (size_t k = 0; k < nw; k++)
        pf[k] = (struct pollfd){ ws[k].fd, POLLIN, 0 };
    if (poll(pf, (nfds_t)nw, -1) < 0)
        return;
    for (size_t k = 0; k < nw; k++)
        if (ws[k].fd >= 0 && (pf[k].revents & (POLLIN | POLLHUP | POLLERR)) &&
            drain_worker(&ws[k], results, done))
            (*active)--;
}

/* --fail-fast: mark the cases from next on as skipped, not run. */
static void skip_rest(case_result *results, char *done, size_t next, size_t count)
{
    for (size_t i = next; i < count; i++) {
        results[i] = (case_result){ .status = CS_SKIP };
        snprintf(results[i].message, sizeof results[i].message,
                 "not run: --fail-fast after an earlier failure");
        done[i] = 1;
    }
}

int conform_run_all(const conform_config *cfg, const conform_case *cases, size_t count,
                    unsigned jobs, int verbose, case_result *results)
{
    int stop = 0;
    worker ws[CONFORM_MAX_JOBS];
    char *done = calloc(count + 1, 1);
    size_t next = 0, printed = 0, active = 0, nw = jobs < CONFORM_MAX_JOBS ? jobs : CONFORM_MAX_JOBS;
    progress pg = { verbose, isatty(2), count };
    if (done == NULL || nw == 0) {
        free(done);
        return -1;
    }
    for (size_t k = 0; k < nw; k++)
        ws[k] = (worker){ .slot = k, .fd = -1 };
    install_forwarding();
    while (printed < count) {
        for (size_t k = 0; k < nw && next < count && !stop; k++) {
            if (ws[k].fd >= 0)
                continue;
            if (start_worker(cfg, cases, next, &ws[k]) < 0) {
                perror("qed-conform: fork");
                free(done);
                return -1;
            }
            next++;
            active++;
        }
        if (active > 0)
            wait_workers(ws, nw, results, done, &active);
        for (; printed < count && done[printed]; printed++) {
            report_case(&pg, printed, &cases[printed], &results[printed]);
            stop |= cfg->fail_fast && results[printed].status == CS_FAIL;
        }
        if (stop && active == 0 && next < count) {
            skip_rest(results, done, next, count);
            next = count;
        }
    }
    if (pg.tty)
        fprintf(stderr, "\r\033[K");
    free(done);
    return 0;
}
