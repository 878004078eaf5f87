/*
 * conform_proc.c - child processes with a time limit and bounded capture.
 * See conform_proc.h.
 */
#include "conform_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A growing capture buffer that stops growing at CP_CAPTURE_MAX. */
typedef struct {
    int fd;            /* read end, -1 once at EOF */
    char *buf;
    size_t len, cap;
    int truncated;
} capture;

/* The process group of the running child, for the signal handler. */
static volatile sig_atomic_t active_group;
/* The fatal signal received, 0 if none. */
static volatile sig_atomic_t interrupted_by;

/* SIGINT/SIGTERM/SIGHUP: the child runs in its own process group, so the
 * terminal's signal does not reach it; kill it now and remember the signal:
 * the caller cleans up, then cp_die_if_interrupted() ends the process. */
static void on_fatal_signal(int sig)
{
    if (active_group > 0)
        kill(-(pid_t)active_group, SIGKILL);
    interrupted_by = sig;
}

void cp_install_signal_handlers(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;   /* no SA_RESTART: poll() returns */
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

int cp_interrupted(void)
{
    return interrupted_by != 0;
}

void cp_die_if_interrupted(void)
{
    int sig = interrupted_by;
    if (sig == 0)
        return;
    signal(sig, SIG_DFL);
    raise(sig);
}

double cp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *cp_signal_name(int sig)
{
    static const struct { int sig; const char *name; } names[] = {
        { SIGSEGV, "SIGSEGV" }, { SIGABRT, "SIGABRT" }, { SIGBUS, "SIGBUS" },
        { SIGFPE, "SIGFPE" }, { SIGILL, "SIGILL" }, { SIGKILL, "SIGKILL" },
        { SIGTERM, "SIGTERM" }, { SIGPIPE, "SIGPIPE" }, { SIGTRAP, "SIGTRAP" },
        { SIGSYS, "SIGSYS" }, { SIGINT, "SIGINT" }, { SIGHUP, "SIGHUP" },
        { SIGQUIT, "SIGQUIT" }, { SIGXCPU, "SIGXCPU" }, { SIGXFSZ, "SIGXFSZ" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig)
            return names[i].name;
    return "SIG?";
}

/* Append n bytes to c, dropping what does not fit under the cap. */
static int capture_add(capture *c, const char *data, size_t n)
{
    if (n > CP_CAPTURE_MAX - c->len) {
        n = CP_CAPTURE_MAX - c->len;
        c->truncated = 1;
    }
    if (c->len + n + 1 > c->cap) {
        size_t ncap = c->cap ? c->cap : 4096;
        while (ncap < c->len + n + 1)
            ncap *= 2;
        char *nb = realloc(c->buf, ncap);
        if (nb == NULL)
            return -1;
        c->buf = nb;
        c->cap = ncap;
    }
    memcpy(c->buf + c->len, data, n);
    c->len += n;
    c->buf[c->len] = '\0';
    return 0;
}

/* Read what is available on c->fd; closes it at EOF. */
static void capture_read(capture *c)
{
    char chunk[65536];
    ssize_t n = read(c->fd, chunk, sizeof chunk);
    if (n > 0) {
        if (capture_add(c, chunk, (size_t)n) < 0)
            c->truncated = 1;
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(c->fd);
        c->fd = -1;
    }
}

/* In the child: set up the process group, fds and cwd, then exec. */
static void child_exec(char *const argv[], const char *cwd, int out_fd, int err_fd)
{
    setpgid(0, 0);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
        _exit(127);
    if (cwd != NULL && chdir(cwd) != 0) {
        dprintf(2, "qed-conform: cannot chdir to %s: %s\n", cwd, strerror(errno));
        _exit(127);
    }
    signal(SIGPIPE, SIG_DFL);
    execv(argv[0], argv);
    dprintf(2, "qed-conform: cannot execute %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Poll both captures until both reach EOF or the deadline passes.
 * Returns 1 on timeout, else 0. */
static int pump_output(capture *out, capture *err, double deadline)
{
    while (out->fd >= 0 || err->fd >= 0) {
        double left = deadline - cp_now();
        if (left <= 0 || interrupted_by)
            return 1;
        struct pollfd pf[2] = { { out->fd, POLLIN, 0 }, { err->fd, POLLIN, 0 } };
        int ms = left > 1000.0 ? 1000000 : (int)(left * 1000.0) + 1;
        int n = poll(pf, 2, ms);
        if (n < 0 && errno != EINTR)
            return 1;
        if (n <= 0)
            continue;
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR))
            capture_read(out);
        if (pf[1].revents & (POLLIN | POLLHUP | POLLERR))
            capture_read(err);
    }
    return 0;
}

/* Wait for pid to exit until deadline (it may close its output and keep
 * running).  Returns 1 and leaves it running on timeout, else 0. */
static int wait_until(pid_t pid, double deadline, int *status)
{
    struct timespec tick = { 0, 100 * 1000 };   /* 0.1 ms, doubling to 10 ms */
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return 0;
        if (cp_now() >= deadline || interrupted_by)
            return 1;
        nanosleep(&tick, NULL);
        if (tick.tv_nsec < 10 * 1000 * 1000)
            tick.tv_nsec *= 2;
    }
}

/* Reap pid, killing its whole process group if the deadline passed. */
static void reap_child(pid_t pid, int timed_out, double deadline, cp_result *res)
{
    int status = 0;
    if (!timed_out)
        timed_out = wait_until(pid, deadline, &status);
    if (timed_out) {
        kill(-pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    kill(-pid, SIGKILL);   /* stray grandchildren of the adapter, if any */
    res->timed_out = timed_out;
    if (timed_out)
        return;
    if (WIFEXITED(status)) {
        res->exited = 1;
        res->exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        res->signal = WTERMSIG(status);
    }
}

/* Move a capture's buffer into the result (an empty string if none). */
static char *take_buffer(capture *c, size_t *len)
{
    if (c->buf == NULL)
        c->buf = calloc(1, 1);
    if (c->fd >= 0)
        close(c->fd);
    *len = c->buf ? c->len : 0;
    return c->buf;
}

int cp_run(char *const argv[], const char *cwd, double timeout, cp_result *res)
{
    int po[2], pe[2];
    memset(res, 0, sizeof *res);
    if (interrupted_by)
        return -1;
    if (pipe(po) < 0)
        return perror("qed-conform: pipe"), -1;
    if (pipe(pe) < 0) {
        close(po[0]); close(po[1]);
        return perror("qed-conform: pipe"), -1;
    }
    double start = cp_now();
    pid_t pid = fork();
    if (pid < 0) {
        close(po[0]); close(po[1]); close(pe[0]); close(pe[1]);
        return perror("qed-conform: fork"), -1;
    }
    if (pid == 0) {
        close(po[0]);
        close(pe[0]);
        child_exec(argv, cwd, po[1], pe[1]);
    }
    setpgid(pid, pid);   /* also done by the child: whichever runs first */
    active_group = (sig_atomic_t)pid;
    close(po[1]);
    close(pe[1]);
    capture out = { po[0], NULL, 0, 0, 0 }, err = { pe[0], NULL, 0, 0, 0 };
    int timed_out = pump_output(&out, &err, start + timeout);
    reap_child(pid, timed_out, start + timeout, res);
    active_group = 0;
    res->seconds = cp_now() - start;
    res->truncated = out.truncated || err.truncated;
    res->out = take_buffer(&out, &res->out_len);
    res->err = take_buffer(&err, &res->err_len);
    res->spawn_failed = res->exited && res->exit_code == 127 &&
                        strstr(res->err, "qed-conform: cannot ") != NULL;
    return 0;
}

void cp_result_free(cp_result *res)
{
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
}
