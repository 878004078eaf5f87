/*
 * conform_proc.h - run one adapter command as a child process (fork/exec, no
 * shell) in its own process group, with a time limit and bounded capture of
 * its standard output and error.
 */
#ifndef CONFORM_PROC_H
#define CONFORM_PROC_H

#include <stddef.h>

/* Bytes kept of each of stdout and stderr; the rest is read and dropped. */
#define CP_CAPTURE_MAX ((size_t)16 << 20)

typedef struct {
    int exited;        /* 1: normal exit with exit_code */
    int exit_code;
    int signal;        /* non-zero: killed by this signal (not by us) */
    int timed_out;     /* 1: the time limit expired; the group was killed */
    int spawn_failed;  /* 1: the program could not be executed (exit 127) */
    char *out;         /* captured stdout, NUL-terminated */
    size_t out_len;
    char *err;         /* captured stderr, NUL-terminated */
    size_t err_len;
    int truncated;     /* 1: output beyond CP_CAPTURE_MAX was dropped */
    double seconds;    /* wall time */
} cp_result;

/* Run argv (argv[0] a path) with working directory cwd (NULL: unchanged)
 * and stdin from /dev/null, for at most timeout seconds.  Returns 0 with
 * *res filled (free it with cp_result_free), or -1 if the runner itself
 * failed (pipe/fork), with a message on stderr. */
int cp_run(char *const argv[], const char *cwd, double timeout, cp_result *res);

/* Make SIGINT, SIGTERM and SIGHUP kill the running child's process group
 * and be remembered: cp_run then runs nothing more (returns -1), so the
 * caller can clean up and call cp_die_if_interrupted(). */
void cp_install_signal_handlers(void);

/* 1 once one of those signals arrived. */
int cp_interrupted(void);

/* If one of those signals arrived, die of it now. */
void cp_die_if_interrupted(void);

/* Release the buffers of a result. */
void cp_result_free(cp_result *res);

/* "SIGSEGV" style name of a signal number ("SIG?" when unknown). */
const char *cp_signal_name(int sig);

/* Monotonic clock in seconds. */
double cp_now(void);

#endif
