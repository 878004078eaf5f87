/*
 * qedtrace.c - libqedtrace.so, an LD_PRELOAD shim that records what any
 * process does to one file as a dm-log-writes trace (ref/qed_trace.h,
 * spec section 9), so that the crash explorer can judge a QED writer
 * nobody can change:
 *
 *   QEDTRACE_FILE=img.qed QEDTRACE_LOG=trace.log [QEDTRACE_SECTOR_SIZE=512]
 *   LD_PRELOAD=build/libqedtrace.so PROGRAM ARGS...
 *
 * README.md beside this file says what each call becomes in the trace,
 * what the shim refuses and why, and its limits.  The file's sections:
 *
 *   1. the real functions, found with dlsym(RTLD_NEXT)
 *   2. state, set-up, messages and refusals
 *   3. the log: a qed_io over the real functions, fed by qed_trace_writer
 *   4. descriptor tracking
 *   5. recording: writes widened to sectors, flushes, marks
 *   6. the audit of /proc/self/fd and /proc/self/maps
 *   7. the interposed functions
 *
 * Rules the code keeps:
 *   - the shim never changes what a call does: every call reaches the real
 *     function with its own arguments, and its result and errno come back
 *     unchanged.  A refusal marks the trace as unjudgeable ("refused:WHAT")
 *     and says so on stderr; it does not fail the call.
 *   - one mutex is held around a traced call and its recording, so the
 *     entries are in completion order across threads.
 *   - the shim calls only the real functions, never its own interposers
 *     (which would record its own reads and log writes).
 *   - the trace is written only through qed_trace_writer (ref/trace.c).
 */

/* The interposers must carry the plain names (pwrite and pwrite64, not
 * pwrite redirected to pwrite64), and libc's fortified inline wrappers
 * would clash with the definitions below. */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE
#define _GNU_SOURCE

#include "qed_trace.h"

#include <aio.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/aio_abi.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

_Static_assert(sizeof(off_t) == 8, "qedtrace needs a 64-bit off_t (LP64 Linux)");

#define FD_TABLE       65536u            /* descriptors the shim can track */
#define MAX_ENTRY      (16u << 20)       /* bytes of image data per write entry */
#define MAX_REFUSALS   16
#define REFUSAL_LEN    64
#define MAPS_LIMIT     (64u << 20)       /* bytes of /proc/self/maps read */

#define KNOWN_RWF (RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND | \
                   RWF_NOAPPEND)

/* ================================================================== */
/* 1. The real functions                                              */
/* ================================================================== */

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev64)(int, const struct iovec *, int, off64_t);
static ssize_t (*real_pwritev2)(int, const struct iovec *, int, off_t, int);
static ssize_t (*real_pwritev64v2)(int, const struct iovec *, int, off64_t, int);
static ssize_t (*real_pread)(int, void *, size_t, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_sync_file_range)(int, off64_t, off64_t, unsigned int);
static void (*real_sync)(void);
static int (*real_syncfs)(int);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off64_t);
static int (*real_truncate)(const char *, off_t);
static int (*real_truncate64)(const char *, off64_t);
static int (*real_fallocate)(int, int, off_t, off_t);
static int (*real_fallocate64)(int, int, off64_t, off64_t);
static int (*real_posix_fallocate)(int, off_t, off_t);
static int (*real_posix_fallocate64)(int, off64_t, off64_t);
static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_creat)(const char *, mode_t);
static int (*real_creat64)(const char *, mode_t);
static int (*real_open_2)(const char *, int);
static int (*real_open64_2)(const char *, int);
static int (*real_openat_2)(int, const char *, int);
static int (*real_openat64_2)(int, const char *, int);
static int (*real_close)(int);
static int (*real_close_range)(unsigned int, unsigned int, int);
static int (*real_dup)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);
static int (*real_fcntl)(int, int, ...);
static int (*real_fcntl64)(int, int, ...);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static void *(*real_mmap64)(void *, size_t, int, int, int, off64_t);
static ssize_t (*real_copy_file_range)(int, off64_t *, int, off64_t *, size_t, unsigned int);
static ssize_t (*real_splice)(int, off64_t *, int, off64_t *, size_t, unsigned int);
static ssize_t (*real_sendfile)(int, int, off_t *, size_t);
static ssize_t (*real_sendfile64)(int, int, off64_t *, size_t);
static FILE *(*real_fopen)(const char *, const char *);
static FILE *(*real_fopen64)(const char *, const char *);
static FILE *(*real_fdopen)(int, const char *);
static int (*real_aio_write)(struct aiocb *);
static int (*real_aio_write64)(struct aiocb64 *);
static int (*real_aio_fsync)(int, struct aiocb *);
static int (*real_aio_fsync64)(int, struct aiocb64 *);
static int (*real_lio_listio)(int, struct aiocb *const[], int, struct sigevent *);
static int (*real_lio_listio64)(int, struct aiocb64 *const[], int, struct sigevent *);
static long (*real_syscall)(long, ...);
static int (*real_io_submit)(aio_context_t, long, struct iocb **);
static int (*real_io_uring_setup)(unsigned int, void *);

/* Store dlsym(RTLD_NEXT, name) in the function pointer at slot (size
 * bytes); a missing function stays NULL (its interposer then fails with
 * ENOSYS or falls back to syscall(2)). */
static void resolve(void *slot, size_t size, const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);

    memcpy(slot, &p, size);
}

#define RESOLVE(fn, name) resolve(&real_##fn, sizeof(real_##fn), name)

/* Find every real function. */
static void resolve_all(void)
{
    RESOLVE(write, "write");             RESOLVE(writev, "writev");
    RESOLVE(pwrite, "pwrite");           RESOLVE(pwrite64, "pwrite64");
    RESOLVE(pwritev, "pwritev");         RESOLVE(pwritev64, "pwritev64");
    RESOLVE(pwritev2, "pwritev2");       RESOLVE(pwritev64v2, "pwritev64v2");
    RESOLVE(pread, "pread");             RESOLVE(fsync, "fsync");
    RESOLVE(fdatasync, "fdatasync");     RESOLVE(sync_file_range, "sync_file_range");
    RESOLVE(sync, "sync");               RESOLVE(syncfs, "syncfs");
    RESOLVE(ftruncate, "ftruncate");     RESOLVE(ftruncate64, "ftruncate64");
    RESOLVE(truncate, "truncate");       RESOLVE(truncate64, "truncate64");
    RESOLVE(fallocate, "fallocate");     RESOLVE(fallocate64, "fallocate64");
    RESOLVE(posix_fallocate, "posix_fallocate");
    RESOLVE(posix_fallocate64, "posix_fallocate64");
    RESOLVE(open, "open");               RESOLVE(open64, "open64");
    RESOLVE(openat, "openat");           RESOLVE(openat64, "openat64");
    RESOLVE(creat, "creat");             RESOLVE(creat64, "creat64");
    RESOLVE(open_2, "__open_2");         RESOLVE(open64_2, "__open64_2");
    RESOLVE(openat_2, "__openat_2");     RESOLVE(openat64_2, "__openat64_2");
    RESOLVE(close, "close");             RESOLVE(close_range, "close_range");
    RESOLVE(dup, "dup");                 RESOLVE(dup2, "dup2");
    RESOLVE(dup3, "dup3");               RESOLVE(fcntl, "fcntl");
    RESOLVE(fcntl64, "fcntl64");         RESOLVE(mmap, "mmap");
    RESOLVE(mmap64, "mmap64");           RESOLVE(copy_file_range, "copy_file_range");
    RESOLVE(splice, "splice");           RESOLVE(sendfile, "sendfile");
    RESOLVE(sendfile64, "sendfile64");   RESOLVE(fopen, "fopen");
    RESOLVE(fopen64, "fopen64");         RESOLVE(fdopen, "fdopen");
    RESOLVE(aio_write, "aio_write");     RESOLVE(aio_write64, "aio_write64");
    RESOLVE(aio_fsync, "aio_fsync");     RESOLVE(aio_fsync64, "aio_fsync64");
    RESOLVE(lio_listio, "lio_listio");   RESOLVE(lio_listio64, "lio_listio64");
    RESOLVE(syscall, "syscall");         RESOLVE(io_submit, "io_submit");
    RESOLVE(io_uring_setup, "io_uring_setup");
}

/* ================================================================== */
/* 2. State, set-up, messages, refusals                               */
/* ================================================================== */

static struct {
    int enabled;                  /* the environment asks for a trace */
    char file[PATH_MAX];          /* QEDTRACE_FILE, made absolute */
    char log[PATH_MAX];           /* QEDTRACE_LOG, made absolute */
    uint32_t sector;              /* QEDTRACE_SECTOR_SIZE */
    int have_id;                  /* dev/ino below are known */
    dev_t dev;
    ino_t ino;
    unsigned ntraced;             /* descriptors of the file now open */
    qed_io *log_io;               /* the log, once claimed */
    qed_trace_writer *writer;
    int log_dead;                 /* recording stopped for good */
    int touched;                  /* this process has opened the file */
    int in_child;                 /* a forked child: never records */
    int child_said;
    char refused[MAX_REFUSALS][REFUSAL_LEN];
    int nrefused, nrefused_logged;
} g;

/* The shim's own descriptors (the log, the read-back descriptor): the
 * program must not close or replace them.  -1 when absent. */
static atomic_int log_fd = -1;
static atomic_int reader_fd = -1;

static atomic_uchar fd_state[FD_TABLE];   /* 1: a descriptor of the file */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void lock_shim(void)   { pthread_mutex_lock(&lock); }
static void unlock_shim(void) { pthread_mutex_unlock(&lock); }

/* One line "qedtrace: TEXT" on stderr, through the real write. */
__attribute__((format(printf, 1, 2)))
static void say(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n = snprintf(line, sizeof(line), "qedtrace: ");

    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    n = (int)strlen(line);
    line[n++] = '\n';
    if (real_write && real_write(2, line, (size_t)n) < 0)
        return;                            /* nowhere left to complain */
}

/* Copy path into out (PATH_MAX bytes), made absolute against the working
 * directory now, so that a later chdir does not change what it names.
 * Returns 0, or -1 when it does not fit. */
static int absolute_path(const char *path, char *out)
{
    char cwd[PATH_MAX];
    int n;

    if (path[0] == '/')
        n = snprintf(out, PATH_MAX, "%s", path);
    else if (getcwd(cwd, sizeof(cwd)))
        n = snprintf(out, PATH_MAX, "%s/%s", cwd, path);
    else
        return -1;
    return n > 0 && n < PATH_MAX ? 0 : -1;
}

/* Parse QEDTRACE_SECTOR_SIZE (absent: 512).  0 when it is not a power of
 * two in [512, 65536]. */
static uint32_t sector_from_env(void)
{
    const char *s = getenv("QEDTRACE_SECTOR_SIZE");
    char *end;
    unsigned long v;

    if (!s || !*s)
        return 512;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v < QED_TRACE_MIN_SECTOR || v > QED_TRACE_MAX_SECTOR ||
        (v & (v - 1)))
        return 0;
    return (uint32_t)v;
}

/* Read the environment; g.enabled only when it is complete and usable.
 * Says once why not, when QEDTRACE_FILE is set but the rest is not. */
static void read_env(void)
{
    const char *file = getenv("QEDTRACE_FILE");
    const char *log = getenv("QEDTRACE_LOG");

    if (!file || !*file)
        return;                           /* not asked: pass everything through */
    if (!log || !*log) {
        say("QEDTRACE_FILE is set but QEDTRACE_LOG is not: not recording (pid %d)",
            (int)getpid());
        return;
    }
    g.sector = sector_from_env();
    if (!g.sector) {
        say("QEDTRACE_SECTOR_SIZE=%s is not a power of two in [512, 65536]: "
            "not recording (pid %d)", getenv("QEDTRACE_SECTOR_SIZE"), (int)getpid());
        return;
    }
    if (absolute_path(file, g.file) || absolute_path(log, g.log)) {
        say("QEDTRACE_FILE or QEDTRACE_LOG is too long: not recording (pid %d)",
            (int)getpid());
        return;
    }
    g.enabled = 1;
}

static void log_refusals(void);
static void adopt_open_fds(void);
static void fork_prepare(void);
static void fork_parent(void);
static void fork_child(void);

/* Once per process, before any interposer does its work. */
static void setup(void)
{
    resolve_all();
    read_env();
    if (!g.enabled)
        return;
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    lock_shim();
    adopt_open_fds();
    unlock_shim();
}

static void shim_init(void)
{
    pthread_once(&once, setup);
}

static int log_claim(void);

/* Refuse what the trace cannot model: a MARK "refused:WHAT" and one
 * message on stderr per distinct WHAT.  The mark is written now when this
 * process has opened the file (claiming the log if nothing was recorded
 * yet), else when it first does.  Called with the lock held. */
static void refuse(const char *what)
{
    for (int i = 0; i < g.nrefused; i++)
        if (strcmp(g.refused[i], what) == 0)
            return;
    say("refused: %s (pid %d)", what, (int)getpid());
    if (g.nrefused == MAX_REFUSALS)
        return;                  /* the first MAX_REFUSALS already spoil the trace */
    snprintf(g.refused[g.nrefused++], REFUSAL_LEN, "%s", what);
    if (g.touched && !g.in_child)
        log_claim();             /* writes the pending refusals */
    log_refusals();
}

/* refuse() for a caller that does not hold the lock. */
static void refuse_unlocked(const char *what)
{
    lock_shim();
    refuse(what);
    unlock_shim();
}

/* ================================================================== */
/* 3. The log                                                         */
/* ================================================================== */

/* A qed_io over the log's descriptor, through the real functions only.
 * flush does nothing: the log need only outlive the process, not a power
 * loss.  err keeps the errno of the last failure for the message. */
typedef struct log_io {
    qed_io io;
    int fd;
    int err;
} log_io;

static int log_rw_status(log_io *l, int err)
{
    l->err = err;
    return err == ENOSPC ? QED_ERR_NOSPC : QED_ERR_IO;
}

static int log_read(qed_io *io, uint64_t off, void *buf, size_t len)
{
    log_io *l = (log_io *)io;
    uint8_t *p = buf;

    while (len) {
        ssize_t n = off > INT64_MAX ? -1 : real_pread(l->fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return log_rw_status(l, errno);
        if (n == 0)
            return QED_ERR_EOF;
        p += n, off += (uint64_t)n, len -= (size_t)n;
    }
    return QED_OK;
}

static int log_write(qed_io *io, uint64_t off, const void *buf, size_t len)
{
    log_io *l = (log_io *)io;
    const uint8_t *p = buf;

    while (len) {
        ssize_t n = off > INT64_MAX - len ? -1
                  : real_pwrite(l->fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return log_rw_status(l, n < 0 ? errno : EIO);
        p += n, off += (uint64_t)n, len -= (size_t)n;
    }
    return QED_OK;
}

static int log_flush(qed_io *io)
{
    (void)io;
    return QED_OK;
}

static int log_length(qed_io *io, uint64_t *len)
{
    log_io *l = (log_io *)io;
    struct stat st;

    if (fstat(l->fd, &st) != 0)
        return log_rw_status(l, errno);
    *len = (uint64_t)st.st_size;
    return QED_OK;
}

static int log_truncate(qed_io *io, uint64_t len)
{
    log_io *l = (log_io *)io;

    if (len > INT64_MAX || real_ftruncate(l->fd, (off_t)len) != 0)
        return log_rw_status(l, len > INT64_MAX ? EFBIG : errno);
    return QED_OK;
}

/* The log stays open for the life of the process (see close()). */
static void log_close(qed_io *io)
{
    free(io);
}

static const qed_io log_ops = {
    log_read, log_write, log_flush, log_length, log_truncate, log_close
};

/* Open QEDTRACE_LOG for this process: created or emptied, locked against a
 * second recording process (flock), never the traced file itself.
 * Returns the descriptor, or -1 after saying why. */
static int open_log_fd(void)
{
    struct stat st;
    int fd = real_open(g.log, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

    if (fd < 0) {
        say("cannot open QEDTRACE_LOG %s: %s: not recording (pid %d)", g.log,
            strerror(errno), (int)getpid());
        return -1;
    }
    if (fstat(fd, &st) == 0 && g.have_id && st.st_dev == g.dev && st.st_ino == g.ino) {
        say("QEDTRACE_LOG is the traced file itself: not recording (pid %d)",
            (int)getpid());
    } else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        say("refused: %s is being recorded by another process: not recording (pid %d)",
            g.log, (int)getpid());
    } else if (real_ftruncate(fd, 0) != 0) {
        say("cannot empty QEDTRACE_LOG %s: %s: not recording (pid %d)", g.log,
            strerror(errno), (int)getpid());
    } else {
        return fd;
    }
    real_close(fd);
    return -1;
}

/* The first event to record claims the log: returns 1 when the writer is
 * ready, 0 when this process does not record (a forked child, a log that
 * failed).  Called with the lock held. */
static int log_claim(void)
{
    log_io *l;
    int fd;

    if (g.in_child) {
        if (!g.child_said)
            say("refused: forked child (pid %d): its calls are not recorded",
                (int)getpid());
        g.child_said = 1;
        return 0;
    }
    if (g.writer || g.log_dead)
        return g.writer != NULL;
    g.log_dead = 1;                       /* until the claim succeeds */
    if ((fd = open_log_fd()) < 0)
        return 0;
    l = calloc(1, sizeof(*l));
    if (l) {
        l->io = log_ops;
        l->fd = fd;
    }
    if (!l || qed_trace_writer_new(&l->io, g.sector, &g.writer) != QED_OK) {
        say("cannot start the trace in %s: not recording (pid %d)", g.log, (int)getpid());
        free(l);
        real_close(fd);
        return 0;
    }
    g.log_io = &l->io;
    atomic_store(&log_fd, fd);
    g.log_dead = 0;
    log_refusals();                       /* may fail and stop the writer */
    return g.writer != NULL;
}

/* After a failed log write the trace is incomplete: say so, and spoil the
 * superblock's magic so that no reader takes the log for a whole trace. */
static void log_failed(int status)
{
    static const uint8_t zero[8];
    log_io *l = (log_io *)g.log_io;
    char why[64];

    snprintf(why, sizeof(why), "trace writer status %d", status);
    say("writing the trace to %s failed (%s): the log is spoilt, not recording "
        "any more (pid %d)", g.log, l->err ? strerror(l->err) : why, (int)getpid());
    if (real_pwrite(l->fd, zero, sizeof(zero), 0) < 0)
        say("cannot spoil %s either: do not judge it", g.log);
    g.log_dead = 1;
    qed_trace_writer_free(g.writer);
    g.writer = NULL;
}

/* Bring the superblock up to date after each entry, so the log is whole
 * even when the process ends by _exit, abort or a signal. */
static void after_entry(int status)
{
    if (status == QED_OK)
        status = qed_trace_writer_finish(g.writer);
    if (status != QED_OK)
        log_failed(status);
}

/* Write the refusals not yet in the log as MARKs.  Lock held. */
static void log_refusals(void)
{
    char text[REFUSAL_LEN + 16];

    while (g.writer && g.nrefused_logged < g.nrefused) {
        snprintf(text, sizeof(text), "refused:%s", g.refused[g.nrefused_logged++]);
        after_entry(qed_trace_mark(g.writer, text));
    }
}

/* ================================================================== */
/* 4. Descriptor tracking                                             */
/* ================================================================== */

/* Learn the file's device and inode from QEDTRACE_FILE while unknown (the
 * program may create it).  Lock held. */
static void learn_identity(void)
{
    struct stat st;

    if (g.have_id || stat(g.file, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    g.dev = st.st_dev;
    g.ino = st.st_ino;
    g.have_id = 1;
}

static int stat_is_file(const struct stat *st)
{
    return g.have_id && S_ISREG(st->st_mode) && st->st_dev == g.dev &&
           st->st_ino == g.ino;
}

/* 1 when descriptor fd refers to the traced file.  Lock held. */
static int fd_is_file(int fd)
{
    struct stat st;

    learn_identity();
    return fstat(fd, &st) == 0 && stat_is_file(&st);
}

static int is_private_fd(int fd)
{
    return fd >= 0 && (fd == atomic_load(&log_fd) || fd == atomic_load(&reader_fd));
}

/* 1 when fd is a tracked descriptor of the file (no lock needed). */
static int fd_traced(int fd)
{
    return fd >= 0 && (unsigned)fd < FD_TABLE &&
           atomic_load_explicit(&fd_state[fd], memory_order_relaxed);
}

static void record_mark(const char *text);
static void audit(void);

/* The process closed its last descriptor of the file: a MARK "close", the
 * audit, the superblock.  Lock held. */
static void last_close(void)
{
    if (g.in_child)
        return;
    audit();
    if (g.writer)
        record_mark("close");
}

/* Mark fd as a descriptor of the file (on) or not.  A traced descriptor
 * past the table is refused.  Lock held. */
static void fd_track(int fd, int on)
{
    if (fd < 0)
        return;
    if ((unsigned)fd >= FD_TABLE) {
        if (on)
            refuse("descriptor beyond the shim's table");
        return;
    }
    if (atomic_load(&fd_state[fd]) == (unsigned char)on)
        return;
    atomic_store(&fd_state[fd], (unsigned char)on);
    g.ntraced = on ? g.ntraced + 1 : g.ntraced - 1;
    g.touched |= on;
    if (!on && g.ntraced == 0)
        last_close();
}

/* A tracked fd that no longer refers to the file was closed behind the
 * shim's back (a call it does not see): forget it.  1 when fd is still
 * the file.  Lock held. */
static int still_file(int fd)
{
    if (fd_is_file(fd))
        return 1;
    fd_track(fd, 0);
    return 0;
}

/* Track the descriptors of the file that are already open when the shim
 * starts (inherited from the parent).  Lock held. */
static void adopt_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;

    if (!d)
        return;
    while ((de = readdir(d)) != NULL) {
        char *end;
        long fd = strtol(de->d_name, &end, 10);
        if (*end || end == de->d_name || fd == dirfd(d) || fd > INT_MAX)
            continue;
        if (fd_is_file((int)fd))
            fd_track((int)fd, 1);
    }
    closedir(d);
}

/* newfd now refers to what oldfd does (dup, dup2, dup3, F_DUPFD). */
static void after_dup(int oldfd, int newfd)
{
    if (newfd < 0 || !g.enabled)
        return;
    lock_shim();
    fd_track(newfd, fd_traced(oldfd));
    unlock_shim();
}

/* Move the shim's own descriptor away from number fd (the program is
 * about to dup2 onto it).  Lock held. */
static void relocate_private_fd(int fd)
{
    atomic_int *which = fd == atomic_load(&log_fd) ? &log_fd : &reader_fd;
    int moved = real_fcntl(fd, F_DUPFD_CLOEXEC, 3);

    if (moved < 0) {
        refuse("cannot move the shim's descriptor out of the way of dup2");
        return;
    }
    if (which == &log_fd)
        ((log_io *)g.log_io)->fd = moved;
    atomic_store(which, moved);
    real_close(fd);
}

/* ================================================================== */
/* 5. Recording                                                       */
/* ================================================================== */

/* A descriptor for reading the file back: the shim's own, opened through
 * /proc/self/fd (so an O_WRONLY or O_DIRECT descriptor of the program
 * does not matter), else fd itself.  Lock held. */
static int read_back_fd(int fd)
{
    char path[64];
    int r = atomic_load(&reader_fd);

    if (r >= 0)
        return r;
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    r = real_open(path, O_RDONLY | O_CLOEXEC);
    if (r >= 0 && !fd_is_file(r)) {
        real_close(r);
        r = -1;
    }
    if (r < 0)
        return fd;
    atomic_store(&reader_fd, r);
    return r;
}

/* Read [off, off + len) of the file into buf; zeroes past its end.
 * Returns 0 or -1.  Lock held. */
static int read_back(int fd, uint64_t off, uint8_t *buf, size_t len)
{
    int rfd = read_back_fd(fd);

    memset(buf, 0, len);
    while (len) {
        ssize_t n = real_pread(rfd, buf, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        buf += n, off += (uint64_t)n, len -= (size_t)n;
    }
    return 0;
}

/* One write entry for the whole sectors [first, first + bytes).  Lock held. */
static void record_sectors(int fd, uint64_t first, size_t bytes, int fua)
{
    uint8_t *buf = malloc(bytes);

    if (!buf) {
        refuse("out of memory for a write's data");
        return;
    }
    if (read_back(fd, first, buf, bytes) != 0)
        refuse("cannot read the file back");
    else if (g.writer)
        after_entry(qed_trace_write(g.writer, first / g.sector, bytes / g.sector,
                                    fua ? QED_TRACE_FUA : 0, buf));
    free(buf);
}

/* The program wrote len bytes at off: log the sectors they touched, with
 * the file's content after the write (surrounding bytes included), in
 * entries of at most MAX_ENTRY bytes.  Lock held. */
static void record_write(int fd, uint64_t off, uint64_t len, int fua)
{
    uint64_t s = g.sector, first, end;

    if (len == 0 || !log_claim())
        return;
    if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off) {
        refuse("write past 2^63");
        return;
    }
    first = off / s * s;
    end = (off + len + s - 1) / s * s;          /* off + len < 2^63: no overflow */
    while (first < end && g.writer) {
        uint64_t chunk = end - first < MAX_ENTRY ? end - first : MAX_ENTRY;
        record_sectors(fd, first, (size_t)chunk, fua);
        first += chunk;
    }
}

/* A FLUSH entry: everything before it is durable.  Lock held. */
static void record_flush(void)
{
    if (!log_claim())
        return;
    audit();
    if (g.writer)
        after_entry(qed_trace_flush(g.writer));
}

/* A MARK entry carrying text.  Lock held. */
static void record_mark(const char *text)
{
    if (log_claim())
        after_entry(qed_trace_mark(g.writer, text));
}

/* The MARK "truncate:LEN".  Lock held. */
static void record_truncate(off_t len)
{
    char text[48];

    snprintf(text, sizeof(text), "truncate:%lld", (long long)len);
    record_mark(text);
}

/* ================================================================== */
/* 6. The audit                                                       */
/* ================================================================== */

/* Refuse a writable descriptor of the file that the shim does not track
 * (opened by a call it does not see: syscall(SYS_openat2), a descriptor
 * passed over a socket ...).  Lock held. */
static void audit_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    struct stat st;

    if (!d)
        return;
    while ((de = readdir(d)) != NULL) {
        char *end;
        long fd = strtol(de->d_name, &end, 10);
        if (*end || end == de->d_name || fd == dirfd(d) || fd > INT_MAX ||
            is_private_fd((int)fd) || fd_traced((int)fd))
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, 0) == 0 && stat_is_file(&st) &&
            (real_fcntl((int)fd, F_GETFL) & O_ACCMODE) != O_RDONLY)
            refuse("a writable descriptor of the file the shim did not see opened");
    }
    closedir(d);
}

/* Check one line of /proc/self/maps: a shared writable mapping of the
 * file, or an io_uring ring.  Lock held. */
static void audit_map_line(const char *line)
{
    char perms[8] = "";
    unsigned maj, min;
    unsigned long long ino;

    if (strstr(line, "io_uring"))
        refuse("io_uring");
    if (sscanf(line, "%*x-%*x %7s %*x %x:%x %llu", perms, &maj, &min, &ino) == 4 &&
        perms[1] == 'w' && perms[3] == 's' && ino == (unsigned long long)g.ino &&
        makedev(maj, min) == g.dev && g.have_id)
        refuse("shared writable mmap of the file");
}

/* Read all of /proc/self/maps into a malloc'd, NUL-terminated buffer
 * (at most MAPS_LIMIT bytes); NULL on failure. */
static char *read_maps(void)
{
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap), *bigger;
    int fd = real_open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    ssize_t n;

    while (buf && fd >= 0 && (n = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (cap - len - 1 == 0 && cap < MAPS_LIMIT) {
            bigger = realloc(buf, cap * 2);
            if (!bigger)
                break;
            buf = bigger;
            cap *= 2;
        } else if (cap - len - 1 == 0) {
            break;
        }
    }
    if (fd >= 0)
        real_close(fd);
    if (buf)
        buf[len] = '\0';
    return buf;
}

static void audit_maps(void)
{
    char *maps = read_maps(), *line, *save = NULL;

    for (line = maps ? strtok_r(maps, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save))
        audit_map_line(line);
    free(maps);
}

/* What the interposers may have missed, looked for at each flush, at the
 * last close and at exit.  Lock held. */
static void audit(void)
{
    audit_fds();
    audit_maps();
}

/* ================================================================== */
/* 7. The interposed functions                                        */
/* ================================================================== */

/* --- writes --------------------------------------------------------- */

enum wkind { W_WRITE, W_WRITEV, W_PWRITE, W_PWRITE64, W_PWRITEV, W_PWRITEV64,
             W_PWRITEV2, W_PWRITEV64V2 };

/* One write call, as the program made it. */
typedef struct wreq {
    enum wkind kind;
    int fd;
    const void *buf;
    size_t len;
    const struct iovec *iov;
    int iovcnt;
    off_t off;
    int rwf;               /* pwritev2's RWF_* flags */
} wreq;

static ssize_t no_function(void)
{
    errno = ENOSYS;
    return -1;
}

/* Make the call r describes, through the real function. */
static ssize_t wreq_call(const wreq *r)
{
    switch (r->kind) {
    case W_WRITE:    return real_write(r->fd, r->buf, r->len);
    case W_WRITEV:   return real_writev(r->fd, r->iov, r->iovcnt);
    case W_PWRITE:   return real_pwrite(r->fd, r->buf, r->len, r->off);
    case W_PWRITE64: return real_pwrite64(r->fd, r->buf, r->len, r->off);
    case W_PWRITEV:  return real_pwritev(r->fd, r->iov, r->iovcnt, r->off);
    case W_PWRITEV64: return real_pwritev64(r->fd, r->iov, r->iovcnt, r->off);
    case W_PWRITEV2:
        return real_pwritev2 ? real_pwritev2(r->fd, r->iov, r->iovcnt, r->off, r->rwf)
                             : no_function();
    case W_PWRITEV64V2:
        return real_pwritev64v2 ? real_pwritev64v2(r->fd, r->iov, r->iovcnt, r->off, r->rwf)
                                : no_function();
    }
    return no_function();
}

/* 1 when the call writes at the descriptor's file offset (and moves it). */
static int uses_file_offset(const wreq *r)
{
    return r->kind == W_WRITE || r->kind == W_WRITEV ||
           ((r->kind == W_PWRITEV2 || r->kind == W_PWRITEV64V2) && r->off == -1);
}

/* Where n bytes just written by r landed: after the file offset moved
 * past them, at the end of the file for an appending positional write
 * (Linux appends even for pwrite on O_APPEND), else at r->off.
 * -1 when the kernel will not say.  Lock held. */
static off_t landed_at(const wreq *r, int append, ssize_t n)
{
    struct stat st;
    off_t pos;

    if (uses_file_offset(r)) {
        pos = lseek(r->fd, 0, SEEK_CUR);
        return pos < n ? -1 : pos - n;
    }
    if (append)
        return fstat(r->fd, &st) != 0 || st.st_size < n ? -1 : st.st_size - n;
    return r->off;
}

/* Record the n bytes r wrote: FUA for an O_SYNC/O_DSYNC descriptor or
 * RWF_SYNC/RWF_DSYNC.  Lock held. */
static void record_wreq(const wreq *r, ssize_t n)
{
    int fl = real_fcntl(r->fd, F_GETFL);
    int fua = (fl >= 0 && (fl & O_DSYNC)) || (r->rwf & (RWF_DSYNC | RWF_SYNC));
    int append = ((fl >= 0 && (fl & O_APPEND)) || (r->rwf & RWF_APPEND)) &&
                 !(r->rwf & RWF_NOAPPEND);
    off_t at = landed_at(r, append, n);

    if (fl < 0 || at < 0)
        refuse("cannot tell where a write landed");
    else
        record_write(r->fd, (uint64_t)at, (uint64_t)n, fua);
}

/* Every write interposer: pass through unless fd is the file; else, under
 * the lock, the real call and its entry. */
static ssize_t traced_write(const wreq *r)
{
    ssize_t n;
    int err;

    shim_init();
    if (!fd_traced(r->fd))
        return wreq_call(r);
    lock_shim();
    if (r->rwf & ~KNOWN_RWF) {
        char what[48];
        snprintf(what, sizeof(what), "pwritev2 flags 0x%x", (unsigned)(r->rwf & ~KNOWN_RWF));
        refuse(what);
    }
    if (!still_file(r->fd)) {
        unlock_shim();
        return wreq_call(r);
    }
    n = wreq_call(r);
    err = errno;
    if (n > 0)
        record_wreq(r, n);
    unlock_shim();
    errno = err;
    return n;
}

ssize_t write(int fd, const void *buf, size_t len)
{
    wreq r = { W_WRITE, fd, buf, len, NULL, 0, 0, 0 };
    return traced_write(&r);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    wreq r = { W_WRITEV, fd, NULL, 0, iov, iovcnt, 0, 0 };
    return traced_write(&r);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
    wreq r = { W_PWRITE, fd, buf, len, NULL, 0, off, 0 };
    return traced_write(&r);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
    wreq r = { W_PWRITE64, fd, buf, len, NULL, 0, off, 0 };
    return traced_write(&r);
}

ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
    wreq r = { W_PWRITEV, fd, NULL, 0, iov, iovcnt, off, 0 };
    return traced_write(&r);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off64_t off)
{
    wreq r = { W_PWRITEV64, fd, NULL, 0, iov, iovcnt, off, 0 };
    return traced_write(&r);
}

ssize_t pwritev2(int fd, const struct iovec *iov, int iovcnt, off_t off, int flags)
{
    wreq r = { W_PWRITEV2, fd, NULL, 0, iov, iovcnt, off, flags };
    return traced_write(&r);
}

ssize_t pwritev64v2(int fd, const struct iovec *iov, int iovcnt, off64_t off, int flags)
{
    wreq r = { W_PWRITEV64V2, fd, NULL, 0, iov, iovcnt, off, flags };
    return traced_write(&r);
}

/* --- flushes -------------------------------------------------------- */

/* fsync and fdatasync: a FLUSH entry when they succeed on the file. */
static int traced_sync(int fd, int (*fn)(int))
{
    int r, err;

    shim_init();
    if (!fd_traced(fd))
        return fn(fd);
    lock_shim();
    if (!still_file(fd)) {
        unlock_shim();
        return fn(fd);
    }
    r = fn(fd);
    err = errno;
    if (r == 0)
        record_flush();
    unlock_shim();
    errno = err;
    return r;
}

int fsync(int fd)
{
    shim_init();
    return traced_sync(fd, real_fsync);
}

int fdatasync(int fd)
{
    shim_init();
    return traced_sync(fd, real_fdatasync);
}

/* sync(2) flushes every file system, devices included: a FLUSH once this
 * process records. */
void sync(void)
{
    shim_init();
    if (!g.enabled) {
        real_sync();
        return;
    }
    lock_shim();
    real_sync();
    if (g.writer)
        record_flush();
    unlock_shim();
}

/* syncfs(2) on the file's file system: a FLUSH once this process records. */
int syncfs(int fd)
{
    struct stat st;
    int r, err;

    shim_init();
    if (!g.enabled)
        return real_syncfs(fd);
    lock_shim();
    r = real_syncfs(fd);
    err = errno;
    if (r == 0 && g.writer && fstat(fd, &st) == 0 && st.st_dev == g.dev)
        record_flush();
    unlock_shim();
    errno = err;
    return r;
}

/* sync_file_range(2) starts or waits for writeback of a range but never
 * flushes the device's volatile cache, and says nothing of the metadata
 * that finds the data: not a FLUSH.  A MARK
 * "sync_file_range:FLAGS:OFF:LEN" (FLAGS hexadecimal, as fallocate's MODE)
 * records that it happened. */
int sync_file_range(int fd, off64_t off, off64_t len, unsigned int flags)
{
    char text[96];
    int r, err;

    shim_init();
    if (!fd_traced(fd))
        return real_sync_file_range(fd, off, len, flags);
    lock_shim();
    r = real_sync_file_range(fd, off, len, flags);
    err = errno;
    if (r == 0 && still_file(fd)) {
        snprintf(text, sizeof(text), "sync_file_range:%x:%lld:%lld", flags,
                 (long long)off, (long long)len);
        record_mark(text);
    }
    unlock_shim();
    errno = err;
    return r;
}

/* --- length and allocation ------------------------------------------ */

static int traced_ftruncate(int fd, off_t len, int (*fn)(int, off_t))
{
    int r, err;

    shim_init();
    if (!fd_traced(fd))
        return fn(fd, len);
    lock_shim();
    r = fn(fd, len);
    err = errno;
    if (r == 0 && still_file(fd))
        record_truncate(len);
    unlock_shim();
    errno = err;
    return r;
}

int ftruncate(int fd, off_t len)
{
    shim_init();
    return traced_ftruncate(fd, len, real_ftruncate);
}

int ftruncate64(int fd, off64_t len)
{
    shim_init();
    return traced_ftruncate(fd, len, real_ftruncate64);
}

/* truncate(2) by name: recorded when the name is the file (any link). */
static int traced_truncate(const char *path, off_t len, int (*fn)(const char *, off_t))
{
    struct stat st;
    int r, err;

    shim_init();
    if (!g.enabled)
        return fn(path, len);
    lock_shim();
    r = fn(path, len);
    err = errno;
    learn_identity();
    if (r == 0 && stat(path, &st) == 0 && stat_is_file(&st))
        record_truncate(len);
    unlock_shim();
    errno = err;
    return r;
}

int truncate(const char *path, off_t len)
{
    shim_init();
    return traced_truncate(path, len, real_truncate);
}

int truncate64(const char *path, off64_t len)
{
    shim_init();
    return traced_truncate(path, len, real_truncate64);
}

/* The fallocate modes the crash model knows (spec section 9): allocate
 * (0, KEEP_SIZE), punch a hole, zero a range.  Collapse, insert, unshare
 * and any newer mode are refused. */
static int fallocate_mode_known(int mode)
{
    switch (mode) {
    case 0:
    case FALLOC_FL_KEEP_SIZE:
    case FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE:
    case FALLOC_FL_ZERO_RANGE:
    case FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE:
        return 1;
    default:
        return 0;
    }
}

/* The MARK "fallocate:MODE:OFF:LEN" (MODE hexadecimal), or a refusal of an unknown mode.
 * Lock held. */
static void record_fallocate(int mode, off_t off, off_t len)
{
    char text[96];

    if (fallocate_mode_known(mode)) {
        snprintf(text, sizeof(text), "fallocate:%x:%lld:%lld", (unsigned)mode,
                 (long long)off, (long long)len);
        record_mark(text);
    } else {
        snprintf(text, sizeof(text), "fallocate mode 0x%x", (unsigned)mode);
        refuse(text);
    }
}

static int traced_fallocate(int fd, int mode, off_t off, off_t len,
                            int (*fn)(int, int, off_t, off_t))
{
    int r, err;

    shim_init();
    if (!fd_traced(fd))
        return fn(fd, mode, off, len);
    lock_shim();
    if (!fallocate_mode_known(mode))
        record_fallocate(mode, off, len);            /* refused even if it fails */
    r = fn(fd, mode, off, len);
    err = errno;
    if (r == 0 && fallocate_mode_known(mode) && still_file(fd))
        record_fallocate(mode, off, len);
    unlock_shim();
    errno = err;
    return r;
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
    shim_init();
    return traced_fallocate(fd, mode, off, len, real_fallocate);
}

int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
    shim_init();
    return traced_fallocate(fd, mode, off, len, real_fallocate64);
}

/* posix_fallocate: mode 0 (it returns an error number, errno untouched). */
static int traced_posix_fallocate(int fd, off_t off, off_t len,
                                  int (*fn)(int, off_t, off_t))
{
    int r;

    shim_init();
    if (!fd_traced(fd))
        return fn(fd, off, len);
    lock_shim();
    r = fn(fd, off, len);
    if (r == 0 && still_file(fd))
        record_fallocate(0, off, len);
    unlock_shim();
    return r;
}

int posix_fallocate(int fd, off_t off, off_t len)
{
    shim_init();
    return traced_posix_fallocate(fd, off, len, real_posix_fallocate);
}

int posix_fallocate64(int fd, off64_t off, off64_t len)
{
    shim_init();
    return traced_posix_fallocate(fd, off, len, real_posix_fallocate64);
}

/* --- opening -------------------------------------------------------- */

enum okind { OPEN, OPEN64, OPENAT, OPENAT64, CREAT, CREAT64,
             OPEN_2, OPEN64_2, OPENAT_2, OPENAT64_2 };

/* One open call, as the program made it. */
typedef struct oreq {
    enum okind kind;
    int dirfd;
    const char *path;
    int flags;
    mode_t mode;
} oreq;

static int oreq_call(const oreq *r)
{
    switch (r->kind) {
    case OPEN:       return real_open(r->path, r->flags, r->mode);
    case OPEN64:     return real_open64(r->path, r->flags, r->mode);
    case OPENAT:     return real_openat(r->dirfd, r->path, r->flags, r->mode);
    case OPENAT64:   return real_openat64(r->dirfd, r->path, r->flags, r->mode);
    case CREAT:     return real_creat(r->path, r->mode);
    case CREAT64:    return real_creat64(r->path, r->mode);
    case OPEN_2:     return real_open_2(r->path, r->flags);
    case OPEN64_2:   return real_open64_2(r->path, r->flags);
    case OPENAT_2:   return real_openat_2(r->dirfd, r->path, r->flags);
    case OPENAT64_2: return real_openat64_2(r->dirfd, r->path, r->flags);
    }
    return (int)no_function();
}

/* Every open interposer: the real open, then track the new descriptor if
 * it is the file (an O_TRUNC open of it is the MARK "truncate:0"; the
 * lock is then held across the open so the mark falls in its place). */
static int traced_open(const oreq *r)
{
    int fd, err, trunc = (r->flags & O_TRUNC) != 0;

    shim_init();
    if (!g.enabled || (r->flags & O_PATH))
        return oreq_call(r);
    if (trunc)
        lock_shim();
    fd = oreq_call(r);
    err = errno;
    if (fd >= 0) {
        if (!trunc)
            lock_shim();
        if (fd_is_file(fd)) {
            fd_track(fd, 1);
            if (trunc)
                record_truncate(0);
        } else {
            fd_track(fd, 0);
        }
    }
    if (fd >= 0 || trunc)
        unlock_shim();
    errno = err;
    return fd;
}

/* The mode argument of open(2): present with O_CREAT or O_TMPFILE. */
#define OPEN_MODE(flags, last, mode)                                     \
    do {                                                                 \
        if (((flags) & O_CREAT) || ((flags) & O_TMPFILE) == O_TMPFILE) { \
            va_list ap;                                                  \
            va_start(ap, last);                                          \
            (mode) = va_arg(ap, mode_t);                                 \
            va_end(ap);                                                  \
        }                                                                \
    } while (0)

int open(const char *path, int flags, ...)
{
    oreq r = { OPEN, AT_FDCWD, path, flags, 0 };
    OPEN_MODE(flags, flags, r.mode);
    return traced_open(&r);
}

int open64(const char *path, int flags, ...)
{
    oreq r = { OPEN64, AT_FDCWD, path, flags, 0 };
    OPEN_MODE(flags, flags, r.mode);
    return traced_open(&r);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    oreq r = { OPENAT, dirfd, path, flags, 0 };
    OPEN_MODE(flags, flags, r.mode);
    return traced_open(&r);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    oreq r = { OPENAT64, dirfd, path, flags, 0 };
    OPEN_MODE(flags, flags, r.mode);
    return traced_open(&r);
}

int creat(const char *path, mode_t mode)
{
    oreq r = { CREAT, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode };
    return traced_open(&r);
}

int creat64(const char *path, mode_t mode)
{
    oreq r = { CREAT64, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode };
    return traced_open(&r);
}

/* glibc's fortified open(2) calls these when the flags are not constant. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

int __open_2(const char *path, int flags)
{
    oreq r = { OPEN_2, AT_FDCWD, path, flags, 0 };
    return traced_open(&r);
}

int __open64_2(const char *path, int flags)
{
    oreq r = { OPEN64_2, AT_FDCWD, path, flags, 0 };
    return traced_open(&r);
}

int __openat_2(int dirfd, const char *path, int flags)
{
    oreq r = { OPENAT_2, dirfd, path, flags, 0 };
    return traced_open(&r);
}

int __openat64_2(int dirfd, const char *path, int flags)
{
    oreq r = { OPENAT64_2, dirfd, path, flags, 0 };
    return traced_open(&r);
}

/* stdio writes go through libc's internal write, which the shim cannot
 * see: a stream on the file opened for writing is refused. */
static int stdio_mode_writes(const char *mode)
{
    return mode && (strchr(mode, 'w') || strchr(mode, 'a') || strchr(mode, '+'));
}

static FILE *traced_fopen(const char *path, const char *mode,
                          FILE *(*fn)(const char *, const char *))
{
    FILE *f = fn(path, mode);
    int err = errno;

    if (f && g.enabled && stdio_mode_writes(mode)) {
        lock_shim();
        if (fd_is_file(fileno(f)))
            refuse("stdio stream writing the file");
        unlock_shim();
    }
    errno = err;
    return f;
}

FILE *fopen(const char *path, const char *mode)
{
    shim_init();
    return traced_fopen(path, mode, real_fopen);
}

FILE *fopen64(const char *path, const char *mode)
{
    shim_init();
    return traced_fopen(path, mode, real_fopen64);
}

FILE *fdopen(int fd, const char *mode)
{
    shim_init();
    if (fd_traced(fd) && stdio_mode_writes(mode))
        refuse_unlocked("stdio stream writing the file");
    return real_fdopen(fd, mode);
}

/* --- closing and duplicating ---------------------------------------- */

/* close: the shim's own descriptors stay open (a program closing every
 * descriptor it did not open gets 0, as if it had); the last close of the
 * file is the MARK "close". */
int close(int fd)
{
    int r, err;

    shim_init();
    if (is_private_fd(fd))
        return 0;
    if (!fd_traced(fd))
        return real_close(fd);
    lock_shim();
    r = real_close(fd);             /* Linux frees fd even when close fails */
    err = errno;
    fd_track(fd, 0);
    unlock_shim();
    errno = err;
    return r;
}

/* close_range(2) in pieces around the shim's own descriptors. */
static int close_range_around(unsigned first, unsigned last, int flags)
{
    unsigned priv[2] = { (unsigned)atomic_load(&log_fd), (unsigned)atomic_load(&reader_fd) };
    unsigned lo = priv[0] < priv[1] ? priv[0] : priv[1];
    unsigned hi = priv[0] < priv[1] ? priv[1] : priv[0];
    unsigned cut[2] = { lo, hi };
    int r = 0;

    for (int i = 0; i < 2 && first <= last; i++) {
        if (cut[i] == UINT_MAX || cut[i] < first || cut[i] > last)
            continue;                                /* -1 casts to UINT_MAX */
        if (cut[i] > first && real_close_range(first, cut[i] - 1, flags) != 0)
            r = -1;
        if (cut[i] == last)
            return r;
        first = cut[i] + 1;
    }
    if (first <= last && real_close_range(first, last, flags) != 0)
        r = -1;
    return r;
}

int close_range(unsigned int first, unsigned int last, int flags)
{
    int r, err;

    shim_init();
    if (!g.enabled || (flags & CLOSE_RANGE_CLOEXEC))
        return real_close_range ? real_close_range(first, last, flags) : (int)no_function();
    lock_shim();
    r = close_range_around(first, last, flags);
    err = errno;
    for (unsigned fd = first; r == 0 && fd <= last && fd < FD_TABLE; fd++)
        if (fd_traced((int)fd))
            fd_track((int)fd, 0);
    unlock_shim();
    errno = err;
    return r;
}

void closefrom(int lowfd)
{
    shim_init();
    if (lowfd >= 0)
        close_range((unsigned)lowfd, UINT_MAX, 0);
}

int dup(int oldfd)
{
    int fd;

    shim_init();
    fd = real_dup(oldfd);
    if (fd >= 0) {
        int err = errno;
        after_dup(oldfd, fd);
        errno = err;
    }
    return fd;
}

/* dup2/dup3: the shim's own descriptor moves out of the way first. */
static int traced_dup23(int oldfd, int newfd, int flags, int three)
{
    int fd, err;

    shim_init();
    if (g.enabled && is_private_fd(newfd)) {
        lock_shim();
        relocate_private_fd(newfd);
        unlock_shim();
    }
    fd = three ? real_dup3(oldfd, newfd, flags) : real_dup2(oldfd, newfd);
    err = errno;
    if (fd >= 0 && oldfd != newfd)
        after_dup(oldfd, fd);
    errno = err;
    return fd;
}

int dup2(int oldfd, int newfd)
{
    return traced_dup23(oldfd, newfd, 0, 0);
}

int dup3(int oldfd, int newfd, int flags)
{
    return traced_dup23(oldfd, newfd, flags, 1);
}

/* fcntl(2) commands by their third argument: none, an int, a pointer. */
static int fcntl_arg_kind(int cmd)
{
    switch (cmd) {
    case F_GETFD: case F_GETFL: case F_GETOWN: case F_GETSIG: case F_GETLEASE:
    case F_GETPIPE_SZ: case F_GET_SEALS:
        return 0;
    case F_DUPFD: case F_DUPFD_CLOEXEC: case F_SETFD: case F_SETFL: case F_SETOWN:
    case F_SETSIG: case F_SETLEASE: case F_NOTIFY: case F_SETPIPE_SZ: case F_ADD_SEALS:
        return 1;
    default:
        return 2;
    }
}

/* fcntl and fcntl64: F_DUPFD and F_DUPFD_CLOEXEC duplicate a traced fd. */
static int traced_fcntl(int (*fn)(int, int, ...), int fd, int cmd, va_list ap)
{
    int kind = fcntl_arg_kind(cmd), r, err;
    int iarg = kind == 1 ? va_arg(ap, int) : 0;
    void *parg = kind == 2 ? va_arg(ap, void *) : NULL;

    if (!fn)
        return (int)no_function();
    r = kind == 0 ? fn(fd, cmd) : kind == 1 ? fn(fd, cmd, iarg) : fn(fd, cmd, parg);
    err = errno;
    if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
        after_dup(fd, r);
    errno = err;
    return r;
}

int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    int r;

    shim_init();
    va_start(ap, cmd);
    r = traced_fcntl(real_fcntl, fd, cmd, ap);
    va_end(ap);
    return r;
}

int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    int r;

    shim_init();
    va_start(ap, cmd);
    r = traced_fcntl(real_fcntl64, fd, cmd, ap);
    va_end(ap);
    return r;
}

/* --- what the trace cannot model ------------------------------------ */

/* A shared writable mapping changes the file by stores the shim never
 * sees (and msync is no ordered write): refused. */
static void check_mmap(int prot, int flags, int fd)
{
    int type = flags & MAP_TYPE;

    if ((prot & PROT_WRITE) && (type == MAP_SHARED || type == MAP_SHARED_VALIDATE) &&
        fd_traced(fd))
        refuse_unlocked("shared writable mmap of the file");
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    shim_init();
    check_mmap(prot, flags, fd);
    return real_mmap(addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
    shim_init();
    check_mmap(prot, flags, fd);
    return real_mmap64(addr, len, prot, flags, fd, off);
}

ssize_t copy_file_range(int infd, off64_t *inoff, int outfd, off64_t *outoff,
                        size_t len, unsigned int flags)
{
    shim_init();
    if (fd_traced(outfd))
        refuse_unlocked("copy_file_range into the file");
    return real_copy_file_range(infd, inoff, outfd, outoff, len, flags);
}

ssize_t splice(int infd, off64_t *inoff, int outfd, off64_t *outoff, size_t len,
               unsigned int flags)
{
    shim_init();
    if (fd_traced(outfd))
        refuse_unlocked("splice into the file");
    return real_splice(infd, inoff, outfd, outoff, len, flags);
}

ssize_t sendfile(int outfd, int infd, off_t *off, size_t len)
{
    shim_init();
    if (fd_traced(outfd))
        refuse_unlocked("sendfile into the file");
    return real_sendfile(outfd, infd, off, len);
}

ssize_t sendfile64(int outfd, int infd, off64_t *off, size_t len)
{
    shim_init();
    if (fd_traced(outfd))
        refuse_unlocked("sendfile into the file");
    return real_sendfile64(outfd, infd, off, len);
}

/* POSIX AIO: glibc's helper threads write through internal calls. */
static void check_posix_aio(int fd)
{
    if (fd_traced(fd))
        refuse_unlocked("POSIX AIO on the file");
}

int aio_write(struct aiocb *cb)
{
    shim_init();
    check_posix_aio(cb->aio_fildes);
    return real_aio_write(cb);
}

int aio_write64(struct aiocb64 *cb)
{
    shim_init();
    check_posix_aio(cb->aio_fildes);
    return real_aio_write64(cb);
}

int aio_fsync(int op, struct aiocb *cb)
{
    shim_init();
    check_posix_aio(cb->aio_fildes);
    return real_aio_fsync(op, cb);
}

int aio_fsync64(int op, struct aiocb64 *cb)
{
    shim_init();
    check_posix_aio(cb->aio_fildes);
    return real_aio_fsync64(op, cb);
}

int lio_listio(int mode, struct aiocb *const list[], int n, struct sigevent *sev)
{
    shim_init();
    for (int i = 0; i < n; i++)
        if (list[i] && list[i]->aio_lio_opcode == LIO_WRITE)
            check_posix_aio(list[i]->aio_fildes);
    return real_lio_listio(mode, list, n, sev);
}

int lio_listio64(int mode, struct aiocb64 *const list[], int n, struct sigevent *sev)
{
    shim_init();
    for (int i = 0; i < n; i++)
        if (list[i] && list[i]->aio_lio_opcode == LIO_WRITE)
            check_posix_aio(list[i]->aio_fildes);
    return real_lio_listio64(mode, list, n, sev);
}

/* Linux native AIO completes writes in an order the shim cannot see: an
 * iocb that writes or syncs the file is refused (reads are fine). */
static void check_iocbs(long nr, struct iocb **iocbs)
{
    for (long i = 0; iocbs && i < nr; i++) {
        const struct iocb *cb = iocbs[i];
        if (cb && cb->aio_lio_opcode != IOCB_CMD_PREAD &&
            cb->aio_lio_opcode != IOCB_CMD_PREADV &&
            cb->aio_fildes <= INT_MAX && fd_traced((int)cb->aio_fildes))
            refuse_unlocked("Linux native AIO (io_submit) on the file");
    }
}

/* libaio's io_submit (returns -errno, as libaio does, when it falls back
 * to the system call). */
int io_submit(aio_context_t ctx, long nr, struct iocb **iocbs);
int io_submit(aio_context_t ctx, long nr, struct iocb **iocbs)
{
    long r;

    shim_init();
    check_iocbs(nr, iocbs);
    if (real_io_submit)
        return real_io_submit(ctx, nr, iocbs);
    r = real_syscall(SYS_io_submit, ctx, nr, iocbs);
    return r < 0 ? -errno : (int)r;
}

/* io_uring: requests complete out of sight, on any descriptor: refused
 * as soon as a ring is set up (liburing's inline system calls are caught
 * by the audit of /proc/self/maps instead). */
int io_uring_setup(unsigned int entries, void *params);
int io_uring_setup(unsigned int entries, void *params)
{
    shim_init();
    if (g.enabled)
        refuse_unlocked("io_uring");
    if (real_io_uring_setup)
        return real_io_uring_setup(entries, params);
    return (int)real_syscall(SYS_io_uring_setup, entries, params);
}

/* syscall(2): the calls the shim models are sent to their interposers,
 * io_uring_setup and io_submit are checked; everything else passes.
 * Reads six arguments, as libc's own syscall() does. */
long syscall(long nr, ...)
{
    va_list ap;
    long a[6];

    va_start(ap, nr);
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    shim_init();
    switch (nr) {
    case SYS_write:     return write((int)a[0], (const void *)a[1], (size_t)a[2]);
    case SYS_writev:    return writev((int)a[0], (const struct iovec *)a[1], (int)a[2]);
    case SYS_pwrite64:  return pwrite64((int)a[0], (const void *)a[1], (size_t)a[2], a[3]);
    case SYS_pwritev:   return pwritev64((int)a[0], (const struct iovec *)a[1], (int)a[2], a[3]);
    case SYS_pwritev2:  return pwritev64v2((int)a[0], (const struct iovec *)a[1], (int)a[2],
                                           a[3], (int)a[5]);
    case SYS_fsync:     return fsync((int)a[0]);
    case SYS_fdatasync: return fdatasync((int)a[0]);
    case SYS_ftruncate: return ftruncate64((int)a[0], a[1]);
    case SYS_fallocate: return fallocate64((int)a[0], (int)a[1], a[2], a[3]);
    case SYS_close:     return close((int)a[0]);
    case SYS_io_uring_setup:
        if (g.enabled)
            refuse_unlocked("io_uring");
        break;
    case SYS_io_submit:
        check_iocbs(a[1], (struct iocb **)a[2]);
        break;
    default:
        break;
    }
    return real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* --- fork and exit -------------------------------------------------- */

/* A child shares the log's descriptor and offset bookkeeping with its
 * parent and cannot append to it safely: it never records.  The parent's
 * trace gets a MARK "fork" when it forks while recording; a child that
 * then writes, flushes or truncates the file says so on stderr. */
static void fork_prepare(void)
{
    lock_shim();
    if (g.writer && !g.in_child)
        record_mark("fork");
}

static void fork_parent(void)
{
    unlock_shim();
}

static void fork_child(void)
{
    g.in_child = 1;
    g.writer = NULL;              /* the parent's: never touched here */
    g.log_dead = 1;
    unlock_shim();
}

/* At exit: the audit, when this process opened the file, and the
 * superblock (already current after each entry; finishing again costs one
 * sector). */
__attribute__((destructor)) static void shim_fini(void)
{
    if (!g.enabled)
        return;
    lock_shim();
    if (g.touched && !g.in_child)
        audit();
    if (g.writer && !g.in_child)
        after_entry(QED_OK);
    unlock_shim();
}
