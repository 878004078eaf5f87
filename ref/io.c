/*
 * io.c - the four implementations of struct qed_io (ref/qed.h).
 *
 *   1. POSIX file         qed_io_posix_open / qed_io_posix_create
 *   2. memory buffer      qed_io_mem_new
 *   3. fault injector     qed_io_fault_new
 *   4. recorder           qed_io_recorder_new (a dm-log-writes trace,
 *                         written through ref/trace.c)
 *
 * This is the only file of libqed that calls POSIX I/O.
 */
#define _GNU_SOURCE             /* F_OFD_SETLK, F_OFD_GETLK (Linux >= 3.15) */

#include "qed.h"
#include "qed_trace.h"
#include "io_seam.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Close and free any qed_io. */
void qed_io_close(qed_io *io)
{
    if (io && io->close)
        io->close(io);
}

/* Map an errno value to a qed status. */
static int status_from_errno(int err)
{
    if (err == EFBIG)
        return QED_ERR_TOO_LARGE;
    if (err == ENOSPC || err == EDQUOT)
        return QED_ERR_NOSPC;
    if (err == ENOMEM)
        return QED_ERR_NOMEM;
    return QED_ERR_IO;
}

/* ------------------------------------------------------------------ */
/* 1. POSIX file                                                      */
/* ------------------------------------------------------------------ */

typedef struct posix_io {
    qed_io io;      /* must be first */
    int fd;
    io_stat_fn stat;   /* fstat, or a test's fake (io_seam.h) */
} posix_io;

/* True when off+len fits in off_t. */
static int posix_range_ok(uint64_t off, size_t len)
{
    const uint64_t max = (uint64_t)INT64_MAX;
    return off <= max && (uint64_t)len <= max - off;
}

/* pread exactly len bytes; QED_ERR_EOF when the file ends first. */
static int posix_read(qed_io *io, uint64_t off, void *buf, size_t len)
{
    posix_io *p = (posix_io *)io;
    uint8_t *dst = buf;

    if (!posix_range_ok(off, len))
        return QED_ERR_INVAL;
    while (len > 0) {
        ssize_t n = pread(p->fd, dst, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return status_from_errno(errno);
        if (n == 0)
            return QED_ERR_EOF;
        dst += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return QED_OK;
}

/* pwrite exactly len bytes. */
static int posix_write(qed_io *io, uint64_t off, const void *buf, size_t len)
{
    posix_io *p = (posix_io *)io;
    const uint8_t *src = buf;

    if (!posix_range_ok(off, len))
        return QED_ERR_INVAL;
    while (len > 0) {
        ssize_t n = pwrite(p->fd, src, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n == 0 ? QED_ERR_NOSPC : status_from_errno(errno);
        src += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return QED_OK;
}

/* fdatasync the file. */
static int posix_flush(qed_io *io)
{
    posix_io *p = (posix_io *)io;

    if (fdatasync(p->fd) != 0 && errno != EINVAL && errno != EROFS)
        return status_from_errno(errno);
    return QED_OK;
}

/* The length of the file open as fd, whose status is st: st_size for a
 * regular file; a block device's st_size is 0, so its length is where
 * lseek(SEEK_END) lands, the device's size (what BLKGETSIZE64 gives, and
 * portable; the file position is used by nothing else: reads and writes
 * are pread and pwrite). */
static int file_length(int fd, const struct stat *st, uint64_t *len)
{
    off_t end;

    if (!S_ISBLK(st->st_mode)) {
        *len = st->st_size < 0 ? 0 : (uint64_t)st->st_size;
        return QED_OK;
    }
    end = lseek(fd, 0, SEEK_END);
    if (end < 0)
        return status_from_errno(errno);
    *len = (uint64_t)end;
    return QED_OK;
}

/* Current file length, asked each time (a device may be resized). */
static int posix_length(qed_io *io, uint64_t *len)
{
    posix_io *p = (posix_io *)io;
    struct stat st;

    if (p->stat(p->fd, &st) != 0)
        return status_from_errno(errno);
    return file_length(p->fd, &st, len);
}

/* ftruncate to len. */
static int posix_truncate(qed_io *io, uint64_t len)
{
    posix_io *p = (posix_io *)io;

    if (len > (uint64_t)INT64_MAX)
        return QED_ERR_INVAL;
    if (ftruncate(p->fd, (off_t)len) != 0)
        return status_from_errno(errno);
    return QED_OK;
}

/* Close the descriptor and free the object. */
static void posix_close(qed_io *io)
{
    posix_io *p = (posix_io *)io;

    close(p->fd);
    free(p);
}

static const qed_io posix_ops = {
    posix_read, posix_write, posix_flush, posix_length, posix_truncate, posix_close
};

/* The descriptor of a POSIX qed_io (known by its close), else -1. */
int qed_io_posix_fd(const qed_io *io)
{
    if (!io || io->close != posix_close)
        return -1;
    return ((const posix_io *)io)->fd;
}

/* Wrap an open descriptor, whose status stat_fn gives; closes it on
 * failure. */
static int posix_wrap(int fd, io_stat_fn stat_fn, qed_io **out)
{
    posix_io *p = calloc(1, sizeof(*p));

    if (!p) {
        close(fd);
        return QED_ERR_NOMEM;
    }
    p->fd = fd;
    p->stat = stat_fn;
    p->io = posix_ops;
    *out = &p->io;
    return QED_OK;
}

/* ---- locks, as QEMU's block/file-posix.c takes them ---------------- */

#if defined(F_OFD_SETLK) && defined(F_OFD_GETLK)

enum { LOCK_PERM_BASE = 100, LOCK_SHARED_BASE = 200 };  /* QEMU's bytes */
/* QEMU's BLK_PERM_* bits; WRITE_UNCHANGED (1u << 2) is held by neither
 * kind of open here, as by qemu-io. */
enum {
    PERM_CONSISTENT_READ = 1u << 0,
    PERM_WRITE           = 1u << 1,
    PERM_RESIZE          = 1u << 3,
    PERM_COUNT           = 4
};
enum { LOCKS_UNSUPPORTED = 1 };   /* lock_byte: no OFD locks on this file */

/* A one-byte lock request of type at off, for F_OFD_* (l_pid must be 0). */
static struct flock one_byte(short type, off_t off)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = off;
    fl.l_len = 1;
    return fl;
}

/* 1 when errno says this system or file system has no OFD locks. */
static int locks_unsupported(int err)
{
    return err == EINVAL || err == ENOTSUP || err == EOPNOTSUPP ||
           err == ENOSYS;
}

/* Take a shared (read) OFD lock on byte off: QED_OK, QED_ERR_LOCKED when
 * another process holds that byte exclusively, LOCKS_UNSUPPORTED, or an
 * I/O error. */
static int lock_byte(int fd, off_t off)
{
    struct flock fl = one_byte(F_RDLCK, off);

    while (fcntl(fd, F_OFD_SETLK, &fl) != 0) {
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EACCES)
            return QED_ERR_LOCKED;
        return locks_unsupported(errno) ? LOCKS_UNSUPPORTED
                                        : status_from_errno(errno);
    }
    return QED_OK;
}

/* QED_ERR_LOCKED when another open file description holds a lock on byte
 * off (the test QEMU makes: could an exclusive lock be taken?), else
 * QED_OK or an I/O error. */
static int test_byte(int fd, off_t off)
{
    struct flock fl = one_byte(F_WRLCK, off);

    if (fcntl(fd, F_OFD_GETLK, &fl) != 0)
        return status_from_errno(errno);
    return fl.l_type == F_UNLCK ? QED_OK : QED_ERR_LOCKED;
}

/* Lock byte base+i for each permission bit i in perms; stops at the
 * first status that is not QED_OK. */
static int lock_bytes(int fd, int base, unsigned perms)
{
    int ret = QED_OK;

    for (int i = 0; i < PERM_COUNT && ret == QED_OK; i++) {
        if (perms & (1u << i))
            ret = lock_byte(fd, (off_t)(base + i));
    }
    return ret;
}

/* Test byte base+i of the others for each permission bit i in perms. */
static int test_bytes(int fd, int base, unsigned perms)
{
    int ret = QED_OK;

    for (int i = 0; i < PERM_COUNT && ret == QED_OK; i++) {
        if (perms & (1u << i))
            ret = test_byte(fd, (off_t)(base + i));
    }
    return ret;
}

/* Lock fd as qemu-io 7.2 locks an image it opens (qed.h): a reader holds
 * CONSISTENT_READ, a writer also WRITE and RESIZE; neither shares WRITE
 * or RESIZE.  Our bytes first, then the others' that conflict: a
 * permission we want against their "not shared" bytes, a permission we
 * do not share against their "held" bytes.  The locks go with the
 * descriptor; a failed open closes it, which drops them. */
static int posix_lock(int fd, int writable)
{
    unsigned held = PERM_CONSISTENT_READ |
                    (writable ? PERM_WRITE | PERM_RESIZE : 0u);
    unsigned unshared = PERM_WRITE | PERM_RESIZE;
    int ret = lock_bytes(fd, LOCK_PERM_BASE, held);

    if (ret == QED_OK)
        ret = lock_bytes(fd, LOCK_SHARED_BASE, unshared);
    if (ret == LOCKS_UNSUPPORTED)
        return QED_OK;                   /* no OFD locks here: unlocked */
    if (ret == QED_OK)
        ret = test_bytes(fd, LOCK_SHARED_BASE, held);
    if (ret == QED_OK)
        ret = test_bytes(fd, LOCK_PERM_BASE, unshared);
    return ret;
}

#else  /* no open-file-description locks: nothing is locked (qed.h) */

static int posix_lock(int fd, int writable)
{
    (void)fd;
    (void)writable;
    return QED_OK;
}

#endif

/* ---- open ----------------------------------------------------------- */

/* QED_OK for a regular file or a block device, QED_ERR_FILETYPE for
 * anything else; *is_regular tells which. */
static int check_file_type(int fd, io_stat_fn stat_fn, int *is_regular)
{
    struct stat st;

    if (stat_fn(fd, &st) != 0)
        return status_from_errno(errno);
    *is_regular = S_ISREG(st.st_mode);
    return (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) ? QED_OK
                                                         : QED_ERR_FILETYPE;
}

/* The status of a failed open(2) of path: QED_ERR_FILETYPE when what is
 * there is of a type we never serve (open of a directory for writing
 * fails with EISDIR, of a socket with ENXIO), else from errno, which is
 * left as open set it. */
static int open_failure(const char *path)
{
    int err = errno;
    struct stat st;
    int ret = status_from_errno(err);

    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        ret = QED_ERR_FILETYPE;
    errno = err;
    return ret;
}

/* Make the freshly opened fd usable: type check, blocking I/O again,
 * the lock, and with QED_IO_CREATE the truncation (only once locked, and
 * only of a regular file: a block device keeps its length). */
static int posix_prepare(int fd, unsigned flags, io_stat_fn stat_fn)
{
    int is_regular = 0, fl, ret = check_file_type(fd, stat_fn, &is_regular);

    if (ret != QED_OK)
        return ret;
    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
        return status_from_errno(errno);
    if (!(flags & QED_IO_NO_LOCK))
        ret = posix_lock(fd, (flags & (QED_IO_RDWR | QED_IO_CREATE)) != 0);
    if (ret == QED_OK && (flags & QED_IO_CREATE) && is_regular &&
        ftruncate(fd, 0) != 0)
        ret = status_from_errno(errno);
    return ret;
}

/* Open path as flags say (qed.h: file types, locking, creation), with
 * stat_fn standing for fstat (io_seam.h). */
int io_posix_open_with_stat(const char *path, unsigned flags,
                            io_stat_fn stat_fn, qed_io **out)
{
    int writable = (flags & (QED_IO_RDWR | QED_IO_CREATE)) != 0;
    int oflags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK |
                 ((flags & QED_IO_CREATE) ? O_CREAT : 0);
    int fd = open(path, oflags, 0644);
    int ret;

    if (fd < 0)
        return open_failure(path);
    ret = posix_prepare(fd, flags, stat_fn);
    if (ret != QED_OK) {
        int err = errno;
        close(fd);                       /* drops any lock taken */
        errno = err;
        return ret;
    }
    return posix_wrap(fd, stat_fn, out);
}

/* fstat, as an io_stat_fn. */
static int real_fstat(int fd, struct stat *st)
{
    return fstat(fd, st);
}

/* Open path as flags say (qed.h: file types, locking, creation). */
int qed_io_posix_open(const char *path, unsigned flags, qed_io **out)
{
    return io_posix_open_with_stat(path, flags, real_fstat, out);
}

/* Create (or truncate, once locked) a file for read-write. */
int qed_io_posix_create(const char *path, qed_io **out)
{
    return qed_io_posix_open(path, QED_IO_RDWR | QED_IO_CREATE, out);
}

/* ---- identity and confined names ---------------------------------- */

/* Device and inode of a POSIX io's file (qed.h). */
int qed_io_posix_identity(qed_io *io, uint64_t *dev, uint64_t *ino)
{
    struct stat st;

    if (!io || io->read != posix_read)
        return QED_ERR_INVAL;                    /* not ours: unknown */
    if (fstat(((posix_io *)io)->fd, &st) != 0)
        return status_from_errno(errno);
    *dev = (uint64_t)st.st_dev;
    *ino = (uint64_t)st.st_ino;
    return QED_OK;
}

/* 1 if path (resolved) is dir (resolved) or lies below it. */
static int path_inside(const char *dir, const char *path)
{
    size_t n = strlen(dir);

    if (n == 1 && dir[0] == '/')
        return 1;                                /* everything is below / */
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* How many components base_dir (resolved) lies below dir (resolved), or
 * -1 when it is not inside dir. */
static int depth_below(const char *dir, const char *base_dir)
{
    const char *p = base_dir + strlen(dir);
    int depth = 0;

    if (!path_inside(dir, base_dir))
        return -1;
    for (; *p; p++)
        depth += p[0] == '/' && p[1] != '\0' && p[1] != '/';
    return depth;
}

/* The lexical half of the check: 1 if the relative name, walked from
 * depth components below the top, never climbs above it with "..". */
static int name_stays_below(const char *name, int depth)
{
    const char *p = name;

    while (*p) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            depth--;
        else if (n > 0 && !(n == 1 && p[0] == '.'))
            depth++;
        if (depth < 0)
            return 0;
        p += n + (p[n] == '/');
    }
    return 1;
}

/* The resolved directory of base_path (dir itself when base_path is NULL)
 * into out (PATH_MAX bytes); QED_ERR_BACKING when it cannot be resolved. */
static int resolve_base_dir(const char *dir, const char *base_path, char *out)
{
    char copy[PATH_MAX];
    char *slash;

    if (!base_path)
        return realpath(dir, out) ? QED_OK : QED_ERR_BACKING;
    if (strlen(base_path) >= sizeof(copy))
        return QED_ERR_LIMIT;
    strcpy(copy, base_path);
    slash = strrchr(copy, '/');
    if (!slash)
        return realpath(".", out) ? QED_OK : QED_ERR_BACKING;
    slash[slash == copy] = '\0';               /* "/x" keeps "/" */
    return realpath(copy, out) ? QED_OK : QED_ERR_BACKING;
}

/* QED_BACKING_CONFINED's resolution (qed.h). */
int qed_resolve_backing_confined(const char *dir, const char *base_path,
                                 const char *name, char *out, size_t out_len)
{
    char root[PATH_MAX], base[PATH_MAX], joined[2 * PATH_MAX], real[PATH_MAX];
    size_t blen, nlen;
    int depth, ret;

    if (name[0] == '/')
        return QED_ERR_CONFINED;                 /* absolute: never inside */
    if (!realpath(dir, root))
        return QED_ERR_BACKING;
    ret = resolve_base_dir(dir, base_path, base);
    if (ret != QED_OK)
        return ret;
    depth = depth_below(root, base);
    if (depth < 0 || !name_stays_below(name, depth))
        return QED_ERR_CONFINED;                 /* "..": above dir */
    blen = strlen(base);
    nlen = strlen(name);
    if (blen + 1 + nlen >= sizeof(joined))
        return QED_ERR_LIMIT;
    memcpy(joined, base, blen);
    joined[blen] = '/';
    memcpy(joined + blen + 1, name, nlen + 1);
    if (!realpath(joined, real))
        return QED_ERR_BACKING;                  /* missing: errno says */
    if (!path_inside(root, real))
        return QED_ERR_CONFINED;                 /* a link leads out */
    if (strlen(real) >= out_len)
        return QED_ERR_LIMIT;
    memcpy(out, real, strlen(real) + 1);
    return QED_OK;
}

/* ------------------------------------------------------------------ */
/* 2. Memory buffer                                                   */
/* ------------------------------------------------------------------ */

typedef struct mem_io {
    qed_io io;      /* must be first */
    uint8_t *data;
    size_t len;     /* file length */
    size_t cap;     /* allocated bytes */
    size_t max_len; /* writes past this fail with QED_ERR_NOSPC */
} mem_io;

/* Copy len bytes at off; QED_ERR_EOF when past the end. */
static int mem_read(qed_io *io, uint64_t off, void *buf, size_t len)
{
    mem_io *m = (mem_io *)io;

    if (off > m->len || len > m->len - off)
        return QED_ERR_EOF;
    if (len)
        memcpy(buf, m->data + off, len);
    return QED_OK;
}

/* Grow the buffer so it holds at least need bytes (the bytes past the
 * length are undefined: whatever grows the length zeroes what it gains). */
static int mem_reserve(mem_io *m, size_t need)
{
    size_t cap = m->cap ? m->cap : 4096;
    uint8_t *p;

    if (need <= m->cap)
        return QED_OK;
    while (cap < need)
        cap = cap > m->max_len / 2 ? m->max_len : cap * 2;
    p = realloc(m->data, cap);
    if (!p)
        return QED_ERR_NOMEM;
    m->data = p;
    m->cap = cap;
    return QED_OK;
}

/* Set the length to len, growing with zeroes or shrinking. */
static int mem_set_length(mem_io *m, size_t len)
{
    int ret = mem_reserve(m, len);

    if (ret != QED_OK)
        return ret;
    if (len > m->len)
        memset(m->data + m->len, 0, len - m->len);
    m->len = len;
    return QED_OK;
}

/* Store len bytes at off, growing the buffer up to max_len. */
static int mem_write(qed_io *io, uint64_t off, const void *buf, size_t len)
{
    mem_io *m = (mem_io *)io;
    int ret;

    if (len == 0)
        return QED_OK;                  /* as pwrite: nothing, not even growth */
    if (off > m->max_len || len > m->max_len - off)
        return QED_ERR_NOSPC;
    if (off + len > m->len) {
        ret = mem_reserve(m, (size_t)(off + len));
        if (ret != QED_OK)
            return ret;
        if (off > m->len)                       /* zero the gap before off */
            memset(m->data + m->len, 0, (size_t)off - m->len);
        m->len = (size_t)(off + len);
    }
    memcpy(m->data + off, buf, len);
    return QED_OK;
}

/* Nothing to make durable in memory. */
static int mem_flush(qed_io *io)
{
    (void)io;
    return QED_OK;
}

/* Current length. */
static int mem_length(qed_io *io, uint64_t *len)
{
    *len = ((mem_io *)io)->len;
    return QED_OK;
}

/* Truncate or extend to len (bounded by max_len). */
static int mem_truncate(qed_io *io, uint64_t len)
{
    mem_io *m = (mem_io *)io;

    if (len > m->max_len)
        return QED_ERR_NOSPC;
    return mem_set_length(m, (size_t)len);
}

/* Free the buffer and the object. */
static void mem_close(qed_io *io)
{
    mem_io *m = (mem_io *)io;

    free(m->data);
    free(m);
}

static const qed_io mem_ops = {
    mem_read, mem_write, mem_flush, mem_length, mem_truncate, mem_close
};

/* A memory file holding a copy of data[0..len), growable to max_len. */
int qed_io_mem_new(const void *data, size_t len, size_t max_len, qed_io **out)
{
    mem_io *m;

    if (len > max_len || (len && !data))
        return QED_ERR_INVAL;
    m = calloc(1, sizeof(*m));
    if (!m)
        return QED_ERR_NOMEM;
    m->max_len = max_len;
    if (mem_write(&m->io, 0, data, len) != QED_OK) {
        mem_close(&m->io);
        return QED_ERR_NOMEM;
    }
    m->io = mem_ops;
    *out = &m->io;
    return QED_OK;
}

/* The current contents of a memory file. */
void qed_io_mem_data(qed_io *io, const uint8_t **data, size_t *len)
{
    mem_io *m = (mem_io *)io;

    *data = m->data;
    *len = m->len;
}

/* ------------------------------------------------------------------ */
/* 3. Fault injector                                                  */
/* ------------------------------------------------------------------ */

typedef struct fault_io {
    qed_io io;       /* must be first */
    qed_io *inner;
    uint64_t calls;  /* calls seen, the failing one included */
    uint64_t fail_at;
    int err;
    int sticky;
} fault_io;

/* Count one call; return the injected error if this call must fail. */
static int fault_tick(fault_io *f)
{
    f->calls++;
    if (f->fail_at == 0)
        return QED_OK;
    if (f->calls == f->fail_at || (f->sticky && f->calls > f->fail_at))
        return f->err;
    return QED_OK;
}

static int fault_read(qed_io *io, uint64_t off, void *buf, size_t len)
{
    fault_io *f = (fault_io *)io;
    int ret = fault_tick(f);
    return ret ? ret : f->inner->read(f->inner, off, buf, len);
}

static int fault_write(qed_io *io, uint64_t off, const void *buf, size_t len)
{
    fault_io *f = (fault_io *)io;
    int ret = fault_tick(f);
    return ret ? ret : f->inner->write(f->inner, off, buf, len);
}

static int fault_flush(qed_io *io)
{
    fault_io *f = (fault_io *)io;
    int ret = fault_tick(f);
    return ret ? ret : f->inner->flush(f->inner);
}

static int fault_length(qed_io *io, uint64_t *len)
{
    fault_io *f = (fault_io *)io;
    int ret = fault_tick(f);
    return ret ? ret : f->inner->length(f->inner, len);
}

static int fault_truncate(qed_io *io, uint64_t len)
{
    fault_io *f = (fault_io *)io;
    int ret = fault_tick(f);
    return ret ? ret : f->inner->truncate(f->inner, len);
}

static void fault_close(qed_io *io)
{
    fault_io *f = (fault_io *)io;

    qed_io_close(f->inner);
    free(f);
}

static const qed_io fault_ops = {
    fault_read, fault_write, fault_flush, fault_length, fault_truncate, fault_close
};

/* Wrap inner so that call number fail_at (and later ones if sticky) fails. */
int qed_io_fault_new(qed_io *inner, uint64_t fail_at, int err, int sticky,
                     qed_io **out)
{
    fault_io *f;

    if (!inner || err >= 0)
        return QED_ERR_INVAL;
    f = calloc(1, sizeof(*f));
    if (!f)
        return QED_ERR_NOMEM;
    f->inner = inner;
    f->fail_at = fail_at;
    f->err = err;
    f->sticky = sticky;
    f->io = fault_ops;
    *out = &f->io;
    return QED_OK;
}

/* Calls seen by a fault injector so far. */
uint64_t qed_io_fault_calls(qed_io *io)
{
    return ((fault_io *)io)->calls;
}

/* ------------------------------------------------------------------ */
/* 4. Recorder: dm-log-writes, through the trace module               */
/* ------------------------------------------------------------------ */
/*
 * The log's format is ref/trace.c's business (qed_trace_writer): this
 * layer only decides what to log.  A write is logged widened to whole
 * sectors, the bytes around it read back from inner after the write; a
 * flush is a FLUSH entry; a truncate is a MARK "truncate:LEN" (spec
 * section 9, "Trace encodings").  Each entry is appended after the call
 * it describes succeeded on inner, so the log is in completion order.
 */

typedef struct rec_io {
    qed_io io;            /* must be first */
    qed_io *inner;
    qed_io *log;
    qed_trace_writer *w;
    uint32_t sector;      /* log sector size */
} rec_io;

static int rec_read(qed_io *io, uint64_t off, void *buf, size_t len)
{
    rec_io *r = (rec_io *)io;
    return r->inner->read(r->inner, off, buf, len);
}

/* Read back [first, first+len) of inner, zero past its end. */
static int rec_read_back(rec_io *r, uint64_t first, uint8_t *buf, size_t len)
{
    uint64_t flen;
    int ret = r->inner->length(r->inner, &flen);

    memset(buf, 0, len);
    if (ret != QED_OK || first >= flen)
        return ret;
    if (len > flen - first)
        len = (size_t)(flen - first);
    return r->inner->read(r->inner, first, buf, len);
}

/* Write through, then log the write widened to whole sectors. */
static int rec_write(qed_io *io, uint64_t off, const void *buf, size_t len)
{
    rec_io *r = (rec_io *)io;
    uint64_t first, end;
    uint8_t *copy;
    int ret = r->inner->write(r->inner, off, buf, len);

    if (ret != QED_OK || len == 0)
        return ret;
    if (off > UINT64_MAX - len || off + len > UINT64_MAX - r->sector)
        return QED_ERR_INVAL;
    first = off / r->sector * r->sector;
    end = (off + len + r->sector - 1) / r->sector * r->sector;
    if (end - first > SIZE_MAX)
        return QED_ERR_NOMEM;
    copy = malloc((size_t)(end - first));
    if (!copy)
        return QED_ERR_NOMEM;
    ret = rec_read_back(r, first, copy, (size_t)(end - first));
    if (ret == QED_OK)
        ret = qed_trace_write(r->w, first / r->sector,
                              (end - first) / r->sector, 0, copy);
    free(copy);
    return ret;
}

/* Flush through, then log a FLUSH entry (which updates the superblock). */
static int rec_flush(qed_io *io)
{
    rec_io *r = (rec_io *)io;
    int ret = r->inner->flush(r->inner);

    return ret == QED_OK ? qed_trace_flush(r->w) : ret;
}

static int rec_length(qed_io *io, uint64_t *len)
{
    rec_io *r = (rec_io *)io;
    return r->inner->length(r->inner, len);
}

/* Truncate through, then log it as the MARK "truncate:LEN". */
static int rec_truncate(qed_io *io, uint64_t len)
{
    rec_io *r = (rec_io *)io;
    char text[40];
    int ret = r->inner->truncate(r->inner, len);

    if (ret != QED_OK)
        return ret;
    snprintf(text, sizeof(text), "truncate:%" PRIu64, len);
    return qed_trace_mark(r->w, text);
}

/* Bring the superblock up to date, close both files, free the object. */
static void rec_close(qed_io *io)
{
    rec_io *r = (rec_io *)io;

    qed_trace_writer_finish(r->w);
    qed_trace_writer_free(r->w);
    qed_io_close(r->inner);
    qed_io_close(r->log);
    free(r);
}

static const qed_io rec_ops = {
    rec_read, rec_write, rec_flush, rec_length, rec_truncate, rec_close
};

/* Wrap inner, logging its writes, flushes and truncates to log. */
int qed_io_recorder_new(qed_io *inner, qed_io *log, uint32_t sector_size,
                        qed_io **out)
{
    rec_io *r;
    int ret;

    if (!inner || !log || !out)
        return QED_ERR_INVAL;
    r = calloc(1, sizeof(*r));
    if (!r)
        return QED_ERR_NOMEM;
    ret = qed_trace_writer_new(log, sector_size, &r->w);
    if (ret != QED_OK) {
        free(r);
        return ret;                     /* inner and log stay the caller's */
    }
    r->inner = inner;
    r->log = log;
    r->sector = sector_size;
    r->io = rec_ops;
    *out = &r->io;
    return QED_OK;
}

/* Append a MARK entry carrying text. */
int qed_io_recorder_mark(qed_io *io, const char *text)
{
    rec_io *r = (rec_io *)io;

    return qed_trace_mark(r->w, text);
}

/* Rewrite the log's superblock with the current entry count. */
int qed_io_recorder_finish(qed_io *io)
{
    rec_io *r = (rec_io *)io;

    return qed_trace_writer_finish(r->w);
}
