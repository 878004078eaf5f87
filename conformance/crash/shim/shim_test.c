/*
 * shim_test.c - the test driver of libqedtrace.so (conformance/crash/shim).
 *
 *   shim-test run DIR             the workload, on DIR/img and DIR/other
 *                                 (run it under the shim, QEDTRACE_FILE=DIR/img)
 *   shim-test check DIR LOG SS    LOG must hold exactly the entries the
 *                                 workload implies at sector size SS, and
 *                                 replay to DIR/img's final content
 *   shim-test refusals DIR        calls the shim must refuse, on DIR/img
 *   shim-test check-refusals LOG [MARK...]
 *                                 LOG must hold each refusal (those of
 *                                 `refusals`, or the MARKs given), once,
 *                                 in order
 *   shim-test silent-map DIR      a shared writable mapping of DIR/img that
 *                                 only the shim's audit can see
 *   shim-test compare [--epochs] A B
 *                                 the writes, flushes, truncates and
 *                                 fallocates of traces A and B must agree
 *                                 (other marks dropped), in order, or with
 *                                 --epochs each flush epoch as a set whose
 *                                 overlapping events keep their order;
 *                                 else the first difference is printed
 *   shim-test pairs DIR ORDER     three pairs of calls, each in the order
 *                                 ORDER gives (fff ... rrr), then fsync:
 *                                 the comparison's own test
 *   shim-test dump LOG            the entries of LOG, one per line
 *
 * One table (workload[]) drives both the run and the check: run performs
 * each step; check replays the same steps on a model of the file and
 * expects, step by step, the entries the shim must have written for it
 * (sector range, flags, data as the file held it right after the call).
 * Exit 0 on success, 1 on a failed check (one line naming the entry or
 * step), 2 on a usage or environment error.
 */
#define _GNU_SOURCE
#include "qed_trace.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/aio_abi.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <aio.h>
#include <unistd.h>

#define IMG_MAX     (1u << 20)    /* the workload stays below 1 MiB */
#define NSLOTS      8
#define THREADS     2
#define THREAD_WRITES 16
#define THREAD_BASE 65536u        /* thread t writes 4 KiB blocks from here */

/* ================================================================== */
/* The workload                                                       */
/* ================================================================== */

enum op {
    OPEN,            /* slot, arg = open flags */
    OPEN_OTHER,      /* slot: the unrelated file DIR/other */
    OTHER_WRITES,    /* slot: write, pwrite, fsync on it: never traced */
    LSEEK,           /* slot, off */
    WRITE,           /* slot, len, pat: write(2) at the file offset */
    WRITEV,          /* slot, len, pat: writev(2), two iovecs */
    PWRITE,          /* slot, off, len, pat */
    PWRITE_PLAIN,    /* pwrite by its plain (not ...64) symbol */
    PWRITE_SYSCALL,  /* syscall(SYS_pwrite64, ...) */
    PWRITEV,         /* slot, off, len, pat: three iovecs */
    PWRITEV2,        /* slot, off (-1: file offset), len, pat, arg = RWF_* */
    FSYNC, FDATASYNC,
    DUP,             /* arg = new slot */
    DUP2,            /* arg = new slot, off = descriptor number */
    DUPFD,           /* fcntl(F_DUPFD_CLOEXEC): arg = new slot, off = minimum */
    CLOSE,
    FTRUNCATE,       /* slot, len */
    TRUNCATE,        /* truncate(2) by name: len */
    FALLOCATE,       /* slot, arg = mode, off, len */
    SYNC_RANGE,      /* slot, off, len */
    MMAP_SHARED,     /* slot: a shared writable mapping, refused */
    THREADS_WRITE,   /* slot: THREADS threads, THREAD_WRITES 4 KiB pwrites each */
    FORK_SYNC        /* slot: a forked child fdatasyncs; not recorded */
};

typedef struct step {
    enum op op;
    int slot;
    int arg;
    int64_t off;
    int64_t len;
    int pat;
} step;

static const step workload[] = {
    { OPEN, 0, O_RDWR | O_CREAT | O_TRUNC, 0, 0, 0 },
    { OPEN_OTHER, 7, 0, 0, 0, 0 },
    { PWRITE, 0, 0, 1000, 3000, 0x11 },            /* odd offset and length */
    { PWRITE, 0, 0, 0, 100, 0x12 },                /* inside one sector */
    { OTHER_WRITES, 7, 0, 0, 0, 0 },
    { LSEEK, 0, 0, 5000, 0, 0 },
    { WRITE, 0, 0, 0, 700, 0x13 },
    { WRITE, 0, 0, 0, 300, 0x14 },                 /* continues at 5700 */
    { WRITEV, 0, 0, 0, 1500, 0x15 },
    { PWRITEV, 0, 0, 8192, 2000, 0x16 },
    { FDATASYNC, 0, 0, 0, 0, 0 },
    { PWRITEV2, 0, RWF_DSYNC, 12345, 777, 0x17 },  /* FUA */
    { PWRITEV2, 0, 0, -1, 600, 0x18 },             /* at the file offset */
    { FSYNC, 0, 0, 0, 0, 0 },
    { OPEN, 1, O_WRONLY | O_APPEND, 0, 0, 0 },
    { WRITE, 1, 0, 0, 1000, 0x19 },                /* appended */
    { PWRITE, 1, 0, 0, 10, 0x1a },                 /* appended too (Linux) */
    { OPEN, 2, O_RDWR | O_DSYNC, 0, 0, 0 },
    { PWRITE, 2, 0, 3000, 2000, 0x1b },            /* FUA */
    { DUP, 0, 3, 0, 0, 0 },
    { PWRITE, 3, 0, 20000, 512, 0x1c },
    { CLOSE, 0, 0, 0, 0, 0 },
    { WRITE, 3, 0, 0, 100, 0x1d },                 /* slot 0's file offset */
    { DUP2, 3, 4, 100, 0, 0 },
    { DUPFD, 4, 5, 200, 0, 0 },
    { PWRITE_PLAIN, 5, 0, 21000, 300, 0x1e },
    { PWRITE_SYSCALL, 5, 0, 22000, 300, 0x1f },
    { THREADS_WRITE, 5, 0, 0, 0, 0 },
    { FTRUNCATE, 5, 0, 0, 100000, 0 },             /* cuts the threads' blocks */
    { TRUNCATE, 5, 0, 0, 120000, 0 },
    { FALLOCATE, 5, 0, 120000, 8192, 0 },
    { FALLOCATE, 5, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4096, 0 },
    { FALLOCATE, 5, FALLOC_FL_ZERO_RANGE, 126000, 10000, 0 },
    { SYNC_RANGE, 5, 0, 0, 4096, 0 },
    { MMAP_SHARED, 5, 0, 0, 0, 0 },
    { FORK_SYNC, 5, 0, 0, 0, 0 },
    { PWRITE, 5, 0, 131000, 2000, 0x20 },
    { FDATASYNC, 5, 0, 0, 0, 0 },
    { CLOSE, 1, 0, 0, 0, 0 }, { CLOSE, 2, 0, 0, 0, 0 }, { CLOSE, 3, 0, 0, 0, 0 },
    { CLOSE, 4, 0, 0, 0, 0 }, { CLOSE, 5, 0, 0, 0, 0 },   /* the last: "close" */
    { CLOSE, 7, 0, 0, 0, 0 },
};

#define NSTEPS (sizeof(workload) / sizeof(workload[0]))

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
    va_list ap;

    fputs("shim-test: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

/* Byte i of a write with pattern pat: varies along the write, so a
 * misplaced sector shows. */
static uint8_t pat_byte(int pat, uint64_t i)
{
    return (uint8_t)(pat + (i / 7) * 3);
}

static void fill(uint8_t *buf, size_t len, int pat)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = pat_byte(pat, i);
}

/* ================================================================== */
/* run: perform the workload                                          */
/* ================================================================== */

typedef struct runner {
    char *img;
    char *other;
    int fd[NSLOTS];
} runner;

static void must(int ok, const step *s, const char *what)
{
    if (!ok)
        die("step %d (%s): %s", (int)(s - workload), what, strerror(errno));
}

/* Write len bytes of pattern pat with the call the step names. */
static void run_write(runner *r, const step *s)
{
    static uint8_t buf[8192];
    struct iovec iov[3];
    ssize_t (*plain)(int, const void *, size_t, off_t);
    void *sym;
    size_t len = (size_t)s->len, a = len / 3, b = len / 3;
    int fd = r->fd[s->slot];
    ssize_t n = -1;

    fill(buf, len, s->pat);
    iov[0] = (struct iovec){ buf, a };
    iov[1] = (struct iovec){ buf + a, b };
    iov[2] = (struct iovec){ buf + a + b, len - a - b };
    switch (s->op) {
    case WRITE:   n = write(fd, buf, len); break;
    case WRITEV:  iov[1].iov_len = len - a; n = writev(fd, iov, 2); break;
    case PWRITE:  n = pwrite(fd, buf, len, s->off); break;
    case PWRITEV: n = pwritev(fd, iov, 3, s->off); break;
    case PWRITEV2: n = pwritev2(fd, iov, 3, s->off, s->arg); break;
    case PWRITE_SYSCALL: n = syscall(SYS_pwrite64, fd, buf, len, s->off); break;
    case PWRITE_PLAIN:
        sym = dlsym(RTLD_DEFAULT, "pwrite");
        memcpy(&plain, &sym, sizeof(plain));
        n = plain ? plain(fd, buf, len, s->off) : -1;
        break;
    default: break;
    }
    must(n == (ssize_t)len, s, "write");
}

/* The unrelated file: every kind of write, none may reach the trace. */
static void run_other(runner *r, const step *s)
{
    static const char text[] = "not the traced file";
    int fd = r->fd[s->slot];

    must(write(fd, text, sizeof(text)) == (ssize_t)sizeof(text), s, "write other");
    must(pwrite(fd, text, sizeof(text), 4096) == (ssize_t)sizeof(text), s, "pwrite other");
    must(fsync(fd) == 0 && ftruncate(fd, 100) == 0, s, "fsync/ftruncate other");
}

/* THREADS threads, each writing THREAD_WRITES blocks of its own. */
typedef struct thread_arg {
    int fd;
    int t;
    pthread_barrier_t *start;
} thread_arg;

static void *thread_writes(void *p)
{
    const thread_arg *a = p;
    uint8_t buf[4096];

    pthread_barrier_wait(a->start);            /* both threads write at once */

    for (int i = 0; i < THREAD_WRITES; i++) {
        int k = a->t * THREAD_WRITES + i;
        memset(buf, 0x40 + k, sizeof(buf));
        if (pwrite(a->fd, buf, sizeof(buf), THREAD_BASE + (off_t)k * 4096) != 4096)
            return (void *)1;
        sched_yield();                         /* let the other thread in */
    }
    return NULL;
}

static void run_threads(runner *r, const step *s)
{
    pthread_t tid[THREADS];
    thread_arg arg[THREADS];
    pthread_barrier_t start;
    void *ret;

    must(pthread_barrier_init(&start, NULL, THREADS) == 0, s, "pthread_barrier_init");
    for (int t = 0; t < THREADS; t++) {
        arg[t] = (thread_arg){ r->fd[s->slot], t, &start };
        must(pthread_create(&tid[t], NULL, thread_writes, &arg[t]) == 0, s, "pthread_create");
    }
    for (int t = 0; t < THREADS; t++)
        must(pthread_join(tid[t], &ret) == 0 && ret == NULL, s, "thread write");
    pthread_barrier_destroy(&start);
}

static void run_mmap(runner *r, const step *s)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd[s->slot], 0);

    must(p != MAP_FAILED, s, "mmap");
    must(munmap(p, 4096) == 0, s, "munmap");          /* nothing stored through it */
}

static void run_fork(runner *r, const step *s)
{
    int status;
    pid_t pid = fork();

    must(pid >= 0, s, "fork");
    if (pid == 0)
        _exit(fdatasync(r->fd[s->slot]) == 0 ? 0 : 1);
    must(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
         WEXITSTATUS(status) == 0, s, "child");
}

static void run_step(runner *r, const step *s)
{
    int fd = r->fd[s->slot];

    switch (s->op) {
    case OPEN:
        must((r->fd[s->slot] = open(r->img, s->arg, 0644)) >= 0, s, "open");
        break;
    case OPEN_OTHER:
        must((r->fd[s->slot] = open(r->other, O_RDWR | O_CREAT | O_TRUNC, 0644)) >= 0,
             s, "open other");
        break;
    case OTHER_WRITES:  run_other(r, s); break;
    case LSEEK:         must(lseek(fd, s->off, SEEK_SET) == s->off, s, "lseek"); break;
    case FSYNC:         must(fsync(fd) == 0, s, "fsync"); break;
    case FDATASYNC:     must(fdatasync(fd) == 0, s, "fdatasync"); break;
    case DUP:           must((r->fd[s->arg] = dup(fd)) >= 0, s, "dup"); break;
    case DUP2:
        must((r->fd[s->arg] = dup2(fd, (int)s->off)) == (int)s->off, s, "dup2");
        break;
    case DUPFD:
        must((r->fd[s->arg] = fcntl(fd, F_DUPFD_CLOEXEC, (int)s->off)) >= s->off, s, "F_DUPFD");
        break;
    case CLOSE:         must(close(fd) == 0, s, "close"); break;
    case FTRUNCATE:     must(ftruncate(fd, s->len) == 0, s, "ftruncate"); break;
    case TRUNCATE:      must(truncate(r->img, s->len) == 0, s, "truncate"); break;
    case FALLOCATE:     must(fallocate(fd, s->arg, s->off, s->len) == 0, s, "fallocate"); break;
    case SYNC_RANGE:
        must(sync_file_range(fd, s->off, s->len, SYNC_FILE_RANGE_WRITE) == 0, s,
             "sync_file_range");
        break;
    case MMAP_SHARED:   run_mmap(r, s); break;
    case THREADS_WRITE: run_threads(r, s); break;
    case FORK_SYNC:     run_fork(r, s); break;
    default:            run_write(r, s); break;
    }
}

static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);

    if (!p)
        die("out of memory");
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int cmd_run(const char *dir)
{
    runner r = { path_in(dir, "img"), path_in(dir, "other"), { -1, -1, -1, -1, -1, -1, -1, -1 } };

    for (size_t i = 0; i < NSTEPS; i++)
        run_step(&r, &workload[i]);
    free(r.img);
    free(r.other);
    return 0;
}

/* ================================================================== */
/* check: the entries the workload implies                            */
/* ================================================================== */

/* The model of the traced file, and of the open file descriptions. */
typedef struct model {
    uint8_t data[IMG_MAX];
    uint64_t len;
    int desc[NSLOTS];          /* slot -> description, -1 closed */
    uint64_t pos[NSLOTS];      /* per description */
    int append[NSLOTS], dsync[NSLOTS];
    int ndesc;
} model;

typedef struct checker {
    qed_trace t;
    uint32_t ss;
    uint64_t next;             /* next entry to match */
    int step;
    model m;
} checker;

__attribute__((format(printf, 2, 3), noreturn))
static void fail(const checker *c, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "shim-test: step %d, entry %" PRIu64 ": ", c->step, c->next);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void model_set_len(model *m, uint64_t len)
{
    if (len > IMG_MAX)
        die("model: length %" PRIu64 " over %u", len, IMG_MAX);
    if (len < m->len)
        memset(m->data + len, 0, m->len - len);
    m->len = len;
}

/* Store len bytes of pattern pat at off; the file grows to cover them. */
static void model_write(model *m, uint64_t off, uint64_t len, int pat)
{
    if (off + len > IMG_MAX)
        die("model: write past %u", IMG_MAX);
    for (uint64_t i = 0; i < len; i++)
        m->data[off + i] = pat_byte(pat, i);
    if (off + len > m->len)
        m->len = off + len;
}

static const qed_trace_entry *next_entry(checker *c, const char *want)
{
    if (c->next >= c->t.count)
        fail(c, "the trace ends; expected %s", want);
    return &c->t.entries[c->next];
}

static void expect_mark(checker *c, const char *text)
{
    const qed_trace_entry *e = next_entry(c, text);

    if (!qed_trace_mark_is(e, text))
        fail(c, "expected MARK \"%s\", got flags %" PRIu64 " text \"%.*s\"", text,
             e->flags, (e->flags & QED_TRACE_MARK) ? (int)e->data_len : 0,
             (e->flags & QED_TRACE_MARK) ? (const char *)e->data : "");
    c->next++;
}

static void expect_flush(checker *c)
{
    const qed_trace_entry *e = next_entry(c, "FLUSH");

    if (e->flags != QED_TRACE_FLUSH || e->nr_sectors != 0)
        fail(c, "expected a FLUSH, got flags %" PRIu64 " sector %" PRIu64 "+%" PRIu64,
             e->flags, e->sector, e->nr_sectors);
    c->next++;
}

/* 1 when entry e is the write of [off, off + len) widened to whole
 * sectors, with the model's bytes (zero past its length). */
static int entry_is_write(const checker *c, const qed_trace_entry *e, uint64_t off,
                          uint64_t len, uint64_t flags)
{
    uint64_t first = off / c->ss, end = (off + len + c->ss - 1) / c->ss;

    if ((e->flags & ~(uint64_t)QED_TRACE_METADATA) != flags || e->sector != first ||
        e->nr_sectors != end - first)
        return 0;
    for (uint64_t i = 0; i < (end - first) * c->ss; i++) {
        uint64_t at = first * c->ss + i;
        uint8_t want = at < c->m.len ? c->m.data[at] : 0;
        if (e->data[i] != want)
            return 0;
    }
    return 1;
}

static void expect_write(checker *c, uint64_t off, uint64_t len, int fua)
{
    const qed_trace_entry *e = next_entry(c, "a write");
    uint64_t flags = fua ? QED_TRACE_FUA : 0;

    if (!entry_is_write(c, e, off, len, flags))
        fail(c, "expected the write of bytes [%" PRIu64 ", %" PRIu64 ") as sectors "
             "[%" PRIu64 ", %" PRIu64 ") flags %" PRIu64 " with the file's data; got "
             "flags %" PRIu64 " sectors [%" PRIu64 ", %" PRIu64 ")%s", off, off + len,
             off / c->ss, (off + len + c->ss - 1) / c->ss, flags, e->flags, e->sector,
             e->sector + e->nr_sectors, e->flags & QED_TRACE_MARK ? " (a MARK)" : "");
    c->next++;
}

/* The write a step makes: where it lands, then its entry. */
static void check_write(checker *c, const step *s)
{
    model *m = &c->m;
    int d = m->desc[s->slot];
    int at_pos = s->op == WRITE || s->op == WRITEV || (s->op == PWRITEV2 && s->off == -1);
    int append = m->append[d] || (s->op == PWRITEV2 && (s->arg & RWF_APPEND));
    uint64_t off = append ? m->len : at_pos ? m->pos[d] : (uint64_t)s->off;
    int fua = m->dsync[d] || (s->op == PWRITEV2 && (s->arg & (RWF_DSYNC | RWF_SYNC)));

    model_write(m, off, (uint64_t)s->len, s->pat);
    if (at_pos)
        m->pos[d] = off + (uint64_t)s->len;
    expect_write(c, off, (uint64_t)s->len, fua);
}

/* The thread whose next write entry c->next is, its block then stored in
 * the model; -1 when it is none of them. */
static int thread_match(checker *c, const int *done)
{
    static uint8_t saved[4096];

    for (int t = 0; c->next < c->t.count && t < THREADS; t++) {
        int w = t * THREAD_WRITES + done[t];
        uint64_t off = THREAD_BASE + (uint64_t)w * 4096, len = c->m.len;
        if (done[t] == THREAD_WRITES)
            continue;
        memcpy(saved, c->m.data + off, sizeof(saved));
        memset(c->m.data + off, 0x40 + w, 4096);
        if (off + 4096 > c->m.len)
            c->m.len = off + 4096;
        if (entry_is_write(c, &c->t.entries[c->next], off, 4096, 0))
            return t;
        memcpy(c->m.data + off, saved, sizeof(saved));      /* not this one */
        c->m.len = len;
    }
    return -1;
}

/* The threads' writes: every one exactly once, each thread's in its
 * order, interleaved in any way. */
static void check_threads(checker *c)
{
    int done[THREADS] = { 0 };

    for (int k = 0; k < THREADS * THREAD_WRITES; k++) {
        int t = thread_match(c, done);
        if (t < 0)
            fail(c, "expected the next write of one of the %d threads", THREADS);
        done[t]++;
        c->next++;
    }
}

static void model_fallocate(model *m, int mode, uint64_t off, uint64_t len)
{
    if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) {
        uint64_t end = off + len < m->len ? off + len : m->len;
        if (off < end)
            memset(m->data + off, 0, end - off);
    }
    if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > m->len)
        model_set_len(m, off + len);
}

/* The MARK "fallocate:MODE:OFF:LEN" as the spec writes it. */
static void expect_fallocate(checker *c, const step *s)
{
    char text[96];

    snprintf(text, sizeof(text), "fallocate:%x:%" PRId64 ":%" PRId64, (unsigned)s->arg,
             s->off, s->len);
    model_fallocate(&c->m, s->arg, (uint64_t)s->off, (uint64_t)s->len);
    expect_mark(c, text);
}

static int open_slots(const model *m)
{
    int n = 0;

    for (int i = 0; i < NSLOTS; i++)
        n += i != 7 && m->desc[i] >= 0;
    return n;
}

static void check_open(checker *c, const step *s)
{
    model *m = &c->m;
    int d = m->ndesc++;

    m->desc[s->slot] = d;
    m->pos[d] = 0;
    m->append[d] = (s->arg & O_APPEND) != 0;
    m->dsync[d] = (s->arg & O_DSYNC) != 0;
    if (s->arg & O_TRUNC) {
        model_set_len(m, 0);
        expect_mark(c, "truncate:0");
    }
}

static void check_step(checker *c, const step *s)
{
    model *m = &c->m;
    char text[96];

    switch (s->op) {
    case OPEN:       check_open(c, s); break;
    case OPEN_OTHER: case OTHER_WRITES: break;
    case LSEEK:      m->pos[m->desc[s->slot]] = (uint64_t)s->off; break;
    case FSYNC: case FDATASYNC: expect_flush(c); break;
    case DUP: case DUP2: case DUPFD: m->desc[s->arg] = m->desc[s->slot]; break;
    case CLOSE:
        if (s->slot == 7)
            break;
        m->desc[s->slot] = -1;
        if (open_slots(m) == 0)
            expect_mark(c, "close");
        break;
    case FTRUNCATE: case TRUNCATE:
        model_set_len(m, (uint64_t)s->len);
        snprintf(text, sizeof(text), "truncate:%" PRId64, s->len);
        expect_mark(c, text);
        break;
    case FALLOCATE:  expect_fallocate(c, s); break;
    case SYNC_RANGE:
        snprintf(text, sizeof(text), "sync_file_range:%x:%" PRId64 ":%" PRId64,
                 (unsigned)SYNC_FILE_RANGE_WRITE, s->off, s->len);
        expect_mark(c, text);
        break;
    case MMAP_SHARED: expect_mark(c, "refused:shared writable mmap of the file"); break;
    case THREADS_WRITE: check_threads(c); break;
    case FORK_SYNC:  expect_mark(c, "fork"); break;
    default:         check_write(c, s); break;
    }
}

/* Read a whole file into memory (at most max bytes). */
static uint8_t *slurp(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = malloc(max + 1);

    if (!f || !buf)
        die("cannot read %s: %s", path, strerror(errno));
    *len = fread(buf, 1, max + 1, f);
    if (ferror(f) || *len > max)
        die("cannot read %s (or it is over %zu bytes)", path, max);
    fclose(f);
    return buf;
}

static void parse_or_die(const char *path, uint8_t **buf, qed_trace *t)
{
    char err[256];
    size_t len;

    *buf = slurp(path, (size_t)1 << 30, &len);
    if (qed_trace_parse(*buf, len, t, err, sizeof(err)) != QED_OK)
        die("%s: %s", path, err);
}

/* Apply the trace in order to an empty file (writes, truncate and
 * fallocate marks) and compare with the file as the workload left it. */
static void check_replay(const qed_trace *t, const char *img)
{
    static model m;
    size_t len;
    uint8_t *want = slurp(img, IMG_MAX, &len);
    const char *rest;
    size_t rest_len;

    memset(&m, 0, sizeof(m));
    for (uint64_t i = 0; i < t->count; i++) {
        const qed_trace_entry *e = &t->entries[i];
        char text[96];
        if (e->nr_sectors && !(e->flags & QED_TRACE_MARK)) {
            uint64_t off = e->sector * t->sector_size, n = e->nr_sectors * t->sector_size;
            if (off + n > IMG_MAX)
                die("replay: entry %" PRIu64 " past %u", i, IMG_MAX);
            memcpy(m.data + off, e->data, n);
            if (off + n > m.len)
                m.len = off + n;
        } else if (qed_trace_mark_prefix(e, "truncate:", &rest, &rest_len)) {
            snprintf(text, sizeof(text), "%.*s", (int)rest_len, rest);
            model_set_len(&m, strtoull(text, NULL, 10));
        } else if (qed_trace_mark_prefix(e, "fallocate:", &rest, &rest_len)) {
            unsigned mode;
            unsigned long long off, n;
            snprintf(text, sizeof(text), "%.*s", (int)rest_len, rest);
            if (sscanf(text, "%x:%llu:%llu", &mode, &off, &n) != 3)
                die("replay: entry %" PRIu64 ": bad fallocate mark", i);
            model_fallocate(&m, (int)mode, off, n);
        }
    }
    /* A write widened to whole sectors may reach past the file's end,
     * with zeroes. */
    for (uint64_t i = len; i < m.len; i++)
        if (m.data[i])
            m.len = 0;
    if (m.len < len || m.len - len >= t->sector_size || memcmp(m.data, want, len) != 0) {
        fprintf(stderr, "shim-test: replaying the trace does not give %s's content\n", img);
        exit(1);
    }
    free(want);
}

static int cmd_check(const char *dir, const char *log, const char *ss_text)
{
    static checker c;
    uint8_t *buf;
    char *img = path_in(dir, "img");

    memset(&c, 0, sizeof(c));
    c.ss = (uint32_t)strtoul(ss_text, NULL, 10);
    for (int i = 0; i < NSLOTS; i++)
        c.m.desc[i] = -1;
    parse_or_die(log, &buf, &c.t);
    if (c.t.sector_size != c.ss)
        fail(&c, "the log's sector size is %u, not %u", c.t.sector_size, c.ss);
    for (c.step = 0; c.step < (int)NSTEPS; c.step++)
        check_step(&c, &workload[c.step]);
    if (c.next != c.t.count)
        fail(&c, "%" PRIu64 " entries left over after the workload", c.t.count - c.next);
    {
        size_t len;
        uint8_t *final = slurp(img, IMG_MAX, &len);
        if (len != c.m.len || memcmp(final, c.m.data, len) != 0)
            fail(&c, "the model of the workload differs from %s", img);
        free(final);
    }
    check_replay(&c.t, img);
    printf("shim-test: %s: %" PRIu64 " entries as expected at sector size %u\n", log,
           c.t.count, c.ss);
    qed_trace_free(&c.t);
    free(buf);
    free(img);
    return 0;
}

/* ================================================================== */
/* refusals                                                           */
/* ================================================================== */

/* The MARK texts cmd_refusals must cause, in order. */
static const char *const refusals[] = {
    "refused:io_uring",
    "refused:Linux native AIO (io_submit) on the file",
    "refused:copy_file_range into the file",
    "refused:splice into the file",
    "refused:sendfile into the file",
    "refused:fallocate mode 0x8",
    "refused:pwritev2 flags 0x40000000",
    "refused:stdio stream writing the file",
    "refused:POSIX AIO on the file",
    "refused:a writable descriptor of the file the shim did not see opened",
    "refused:shared writable mmap of the file",
};

#define NREFUSALS (sizeof(refusals) / sizeof(refusals[0]))

static void refusal_io(int fd, int other)
{
    struct iocb cb = { 0 }, *cbs[1] = { &cb };
    int pipefd[2];
    off64_t off = 0;
    uint8_t byte = 0x55;
    struct iovec iov = { &byte, 1 };

    (void)syscall(SYS_io_uring_setup, 0, NULL);            /* EINVAL: still refused */
    cb.aio_lio_opcode = IOCB_CMD_PWRITE;
    cb.aio_fildes = (uint32_t)fd;
    (void)syscall(SYS_io_submit, 0, 1, cbs);               /* no context: EINVAL */
    (void)copy_file_range(other, &off, fd, NULL, 1, 0);
    if (pipe(pipefd) == 0 && write(pipefd[1], &byte, 1) == 1)
        (void)splice(pipefd[0], NULL, fd, NULL, 1, 0);
    (void)sendfile(fd, other, NULL, 1);
    (void)fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, 4096);
    (void)pwritev2(fd, &iov, 1, 0, 0x40000000);
}

static void refusal_stdio_aio(const char *img, int fd)
{
    static uint8_t byte = 0x66;
    struct aiocb cb = { .aio_fildes = fd, .aio_buf = &byte, .aio_nbytes = 1 };
    const struct aiocb *list[1] = { &cb };
    FILE *f = fopen(img, "r+");

    if (f)
        fclose(f);
    if (aio_write(&cb) == 0)
        while (aio_error(&cb) == EINPROGRESS)
            aio_suspend(list, 1, NULL);
}

/* An untracked writable descriptor (opened by a raw system call) and a
 * shared mapping made by a raw system call: both found by the audit at
 * the next flush. */
static void refusal_audit(const char *img, int fd)
{
    long raw = syscall(SYS_openat, AT_FDCWD, img, O_RDWR);
    long map = syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

    if (fdatasync(fd) != 0)
        die("fdatasync: %s", strerror(errno));
    if (map != -1)
        munmap((void *)map, 4096);
    if (raw >= 0)
        close((int)raw);
}

static int cmd_refusals(const char *dir)
{
    char *img = path_in(dir, "img"), *other_path = path_in(dir, "other");
    int fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0644);
    int other = open(other_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    uint8_t block[4096] = { 1 };

    if (fd < 0 || other < 0 || pwrite(fd, block, sizeof(block), 0) != 4096 ||
        pwrite(other, block, sizeof(block), 0) != 4096)
        die("cannot set up %s: %s", dir, strerror(errno));
    refusal_io(fd, other);
    refusal_stdio_aio(img, fd);
    refusal_audit(img, fd);
    close(fd);
    close(other);
    free(img);
    free(other_path);
    return 0;
}

/* A process that records nothing but leaves a shared writable mapping of
 * the file (made by a raw system call the shim does not see) when it
 * closes the file: the audit at that close must still refuse it. */
static int cmd_silent_map(const char *dir)
{
    char *img = path_in(dir, "img");
    int fd = open(img, O_RDWR);
    long map = fd < 0 ? -1 : syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE,
                                     MAP_SHARED, fd, 0);

    if (map == -1)
        die("silent-map: cannot map %s: %s", img, strerror(errno));
    ((volatile uint8_t *)map)[100] = 0x77;         /* a store the shim cannot see */
    close(fd);
    munmap((void *)map, 4096);
    free(img);
    return 0;
}

static int cmd_check_refusals(const char *log, int argc, char **argv)
{
    const char *const *want = argc ? (const char *const *)argv : refusals;
    size_t nwant = argc ? (size_t)argc : NREFUSALS;
    qed_trace t;
    uint8_t *buf;
    size_t k = 0;

    parse_or_die(log, &buf, &t);
    for (uint64_t i = 0; i < t.count; i++) {
        const qed_trace_entry *e = &t.entries[i];
        if (!qed_trace_mark_prefix(e, "refused:", &(const char *){ NULL }, &(size_t){ 0 }))
            continue;
        if (k == nwant || !qed_trace_mark_is(e, want[k])) {
            fprintf(stderr, "shim-test: entry %" PRIu64 ": MARK \"%.*s\", expected \"%s\"\n",
                    i, (int)e->data_len, (const char *)e->data,
                    k < nwant ? want[k] : "(no more refusals)");
            return 1;
        }
        k++;
    }
    if (k != nwant) {
        fprintf(stderr, "shim-test: %s: missing MARK \"%s\"\n", log, want[k]);
        return 1;
    }
    printf("shim-test: %s: all %zu refusals marked, once each\n", log, nwant);
    qed_trace_free(&t);
    free(buf);
    return 0;
}

/* ================================================================== */
/* compare and dump                                                   */
/* ================================================================== */

/* Print one entry as a person reads it. */
static void print_entry(FILE *out, const qed_trace *t, const qed_trace_entry *e)
{
    fprintf(out, "%6" PRIu64 "  ", e->index);
    if (e->flags & QED_TRACE_MARK)
        fprintf(out, "MARK    %.*s\n", (int)e->data_len, (const char *)e->data);
    else if (e->flags & QED_TRACE_FLUSH && !e->nr_sectors)
        fprintf(out, "FLUSH\n");
    else
        fprintf(out, "%s sectors [%" PRIu64 ", %" PRIu64 ") bytes [%" PRIu64 ", %" PRIu64
                ")%s\n", e->flags & QED_TRACE_DISCARD ? "DISCARD" : "WRITE  ",
                e->sector, e->sector + e->nr_sectors, e->sector * t->sector_size,
                (e->sector + e->nr_sectors) * t->sector_size,
                e->flags & QED_TRACE_FUA ? " FUA" : "");
}

static int cmd_dump(const char *log)
{
    qed_trace t;
    uint8_t *buf;

    parse_or_die(log, &buf, &t);
    printf("%s: sector size %u, %" PRIu64 " entries\n", log, t.sector_size, t.count);
    for (uint64_t i = 0; i < t.count; i++)
        print_entry(stdout, &t, &t.entries[i]);
    qed_trace_free(&t);
    free(buf);
    return 0;
}

/* The events of a trace that a comparison looks at: writes, discards,
 * flushes, and the marks the crash model persists (truncate:, fallocate:).
 * Other marks are labels (op:, flush:, close, fork ...) and are dropped; a
 * "refused:" mark fails the comparison.  Returns a malloc'd array. */
static const qed_trace_entry **events_of(const qed_trace *t, const char *name, size_t *n)
{
    const qed_trace_entry **ev = malloc((t->count + 1) * sizeof(*ev));
    const char *rest;
    size_t rest_len;

    if (!ev)
        die("out of memory");
    *n = 0;
    for (uint64_t i = 0; i < t->count; i++) {
        const qed_trace_entry *e = &t->entries[i];
        if (qed_trace_mark_prefix(e, "refused:", &rest, &rest_len)) {
            fprintf(stderr, "shim-test: %s: entry %" PRIu64 ": %.*s\n", name, i,
                    (int)e->data_len, (const char *)e->data);
            exit(1);
        }
        if (!(e->flags & QED_TRACE_MARK) ||
            qed_trace_mark_prefix(e, "truncate:", &rest, &rest_len) ||
            qed_trace_mark_prefix(e, "fallocate:", &rest, &rest_len))
            ev[(*n)++] = e;
    }
    return ev;
}

static int same_event(uint32_t ss, const qed_trace_entry *x, const qed_trace_entry *y)
{
    uint64_t mask = QED_TRACE_FLUSH | QED_TRACE_FUA | QED_TRACE_DISCARD | QED_TRACE_MARK;

    if ((x->flags & mask) != (y->flags & mask))
        return 0;
    if (x->flags & QED_TRACE_MARK)
        return x->data_len == y->data_len && memcmp(x->data, y->data, x->data_len) == 0;
    return x->sector == y->sector && x->nr_sectors == y->nr_sectors &&
           (x->flags & QED_TRACE_DISCARD ||
            memcmp(x->data, y->data, (size_t)(x->nr_sectors * ss)) == 0);
}

/* 1 when the order of x and y matters to a crash state: overlapping
 * sector ranges, or one of them a truncate/fallocate (it changes the
 * file's length). */
static int order_matters(const qed_trace_entry *x, const qed_trace_entry *y)
{
    if ((x->flags | y->flags) & QED_TRACE_MARK)
        return 1;
    return x->sector < y->sector + y->nr_sectors && y->sector < x->sector + x->nr_sectors;
}

static int is_flush(const qed_trace_entry *e)
{
    return (e->flags & QED_TRACE_FLUSH) && !(e->flags & QED_TRACE_MARK);
}

typedef struct side {
    const char *name;
    const qed_trace *t;
    const qed_trace_entry **ev;
    size_t n;
} side;

static int report_difference(const side *a, const side *b, size_t i, size_t j,
                             const char *why)
{
    fprintf(stderr, "shim-test: event %zu differs (%s):\n", i, why);
    fprintf(stderr, "  %s: ", a->name);
    if (i < a->n) print_entry(stderr, a->t, a->ev[i]); else fputs("(ends)\n", stderr);
    fprintf(stderr, "  %s: ", b->name);
    if (j < b->n) print_entry(stderr, b->t, b->ev[j]); else fputs("(ends)\n", stderr);
    return 1;
}

/* The flush epoch starting at event i: its end (the index of the FLUSH
 * closing it, or n). */
static size_t epoch_end(const side *s, size_t i)
{
    while (i < s->n && !is_flush(s->ev[i]))
        i++;
    return i;
}

/* Compare the epochs [i, ie) of a and [j, je) of b as sets: every event
 * matched once, and events whose order matters in the same order. */
static int compare_epoch(const side *a, size_t i, size_t ie, const side *b, size_t j,
                         size_t je)
{
    size_t n = ie - i, *map = calloc(n + 1, sizeof(*map));
    char *used = calloc(je - j + 1, 1);
    int bad = 0;

    if (!map || !used)
        die("out of memory");
    if (je - j != n)
        bad = report_difference(a, b, i, j, "the flush epochs hold different numbers of events");
    for (size_t k = 0; k < n && !bad; k++) {
        size_t m = 0;
        while (m < n && (used[m] || !same_event(a->t->sector_size, a->ev[i + k], b->ev[j + m])))
            m++;
        if (m == n)
            bad = report_difference(a, b, i + k, j + k, "not in the other trace's epoch");
        else
            used[m] = 1, map[k] = m;
    }
    for (size_t k = 0; k < n && !bad; k++)
        for (size_t l = k + 1; l < n && !bad; l++)
            if (map[l] < map[k] && order_matters(a->ev[i + k], a->ev[i + l]))
                bad = report_difference(a, b, i + l, j + map[l],
                                        "overlaps an earlier event of its epoch, in the other order");
    free(map);
    free(used);
    return bad;
}

/* Strictly: the same events in the same order.  By epochs: the same
 * flushes, and between them the same events in any order except where
 * order matters (concurrent requests complete in a different order in
 * each run, which no crash state can tell apart). */
static int compare_sides(const side *a, const side *b, int epochs)
{
    size_t i = 0, j = 0;

    while (!epochs && (i < a->n || j < b->n)) {
        if (i == a->n || j == b->n || !same_event(a->t->sector_size, a->ev[i], b->ev[j]))
            return report_difference(a, b, i, j, "data compared");
        i++, j++;
    }
    while (epochs && (i < a->n || j < b->n)) {
        size_t ie = epoch_end(a, i), je = epoch_end(b, j);
        if (compare_epoch(a, i, ie, b, j, je))
            return 1;
        if ((ie < a->n) != (je < b->n))
            return report_difference(a, b, ie, je, "one trace flushes here");
        i = ie + (ie < a->n), j = je + (je < b->n);
    }
    return 0;
}

static int cmd_compare(int epochs, const char *pa, const char *pb)
{
    qed_trace ta, tb;
    uint8_t *ba, *bb;
    side a = { pa, &ta, NULL, 0 }, b = { pb, &tb, NULL, 0 };
    int bad;

    parse_or_die(pa, &ba, &ta);
    parse_or_die(pb, &bb, &tb);
    if (ta.sector_size != tb.sector_size)
        die("%s and %s have different sector sizes (%u, %u)", pa, pb, ta.sector_size,
            tb.sector_size);
    a.ev = events_of(&ta, pa, &a.n);
    b.ev = events_of(&tb, pb, &b.n);
    bad = compare_sides(&a, &b, epochs);
    if (!bad)
        printf("shim-test: %s and %s agree: %zu events (writes, flushes, truncates, "
               "fallocates; %s)\n", pa, pb, a.n, epochs ? "each flush epoch as a set" : "in order");
    free(a.ev);
    free(b.ev);
    qed_trace_free(&ta);
    qed_trace_free(&tb);
    free(ba);
    free(bb);
    return bad;
}

/* Pairs of calls, each pair in the order ORDER's letter gives ('f' as
 * listed, 'r' reversed), then a flush: two overlapping writes, two
 * disjoint writes, a write of [16 KiB, 20 KiB) and ftruncate(18 KiB) (the
 * write's data is the same either way).  Traces that a comparison by
 * epochs must find equal (only the disjoint pair reversed) or not. */
static int cmd_pairs(const char *dir, const char *order)
{
    static const struct { off_t off; size_t len; int pat; } w[6] = {
        { 0, 3000, 0x51 }, { 1000, 3000, 0x52 },           /* overlapping */
        { 8192, 512, 0x53 }, { 12288, 512, 0x54 },        /* disjoint */
        { 16384, 4096, 0x55 }, { 18432, 0, 0 },           /* a write, a truncate */
    };
    uint8_t buf[4096];
    char *img = path_in(dir, "img");
    int fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0644);

    if (fd < 0 || strlen(order) != 3)
        die("pairs: cannot open %s, or ORDER is not three letters", img);
    for (int pair = 0; pair < 3; pair++)
        for (int k = 0; k < 2; k++) {
            int i = 2 * pair + (order[pair] == 'r' ? 1 - k : k);
            fill(buf, w[i].len, w[i].pat);
            if (w[i].len ? pwrite(fd, buf, w[i].len, w[i].off) != (ssize_t)w[i].len
                         : ftruncate(fd, w[i].off) != 0)
                die("pairs: write %d: %s", i, strerror(errno));
        }
    if (fsync(fd) != 0 || close(fd) != 0)
        die("pairs: fsync: %s", strerror(errno));
    free(img);
    return 0;
}

static void usage(void)
{
    fputs("usage: shim-test run DIR | check DIR LOG SECTOR_SIZE | refusals DIR |\n"
          "       check-refusals LOG [MARK...] | silent-map DIR |\n"
          "       compare [--epochs] LOG_A LOG_B |\n"
          "       pairs DIR [fr][fr][fr] | dump LOG\n", stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "run") == 0)
        return cmd_run(argv[2]);
    if (argc == 5 && strcmp(argv[1], "check") == 0)
        return cmd_check(argv[2], argv[3], argv[4]);
    if (argc == 3 && strcmp(argv[1], "refusals") == 0)
        return cmd_refusals(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "check-refusals") == 0)
        return cmd_check_refusals(argv[2], argc - 3, argv + 3);
    if (argc == 3 && strcmp(argv[1], "silent-map") == 0)
        return cmd_silent_map(argv[2]);
    if (argc == 4 && strcmp(argv[1], "compare") == 0)
        return cmd_compare(0, argv[2], argv[3]);
    if (argc == 5 && strcmp(argv[1], "compare") == 0 && strcmp(argv[2], "--epochs") == 0)
        return cmd_compare(1, argv[3], argv[4]);
    if (argc == 4 && strcmp(argv[1], "pairs") == 0)
        return cmd_pairs(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "dump") == 0)
        return cmd_dump(argv[2]);
    usage();
    return 2;
}
