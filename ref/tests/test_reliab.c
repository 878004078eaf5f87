/*
 * test_reliab.c - the POSIX layer's promises to every libqed user (qed.h,
 * "POSIX file"): image locks that QEMU sees and honours (open-file-
 * description locks on QEMU's bytes 100+i and 200+i), the QED_IO_NO_LOCK
 * opt-out, create truncating only once the lock is held, the refusal of
 * anything but regular files and block devices without ever blocking (a
 * FIFO named as a backing file), EFBIG as QED_ERR_TOO_LARGE, and the
 * length of a block device taken from the device (io_seam.h's fake
 * fstat makes a regular file look like one, st_size 0, on any machine;
 * test_reliability.sh repeats it on a real loop device where it can),
 * and the repair budget: a repair whose copies would pass
 * qed_limits.max_repair_bytes is refused before it writes, and a repair
 * that fails part-way never leaves more corruptions than it found.
 *
 * Two opens in one process are two open file descriptions, so they
 * conflict exactly as two processes do; the bytes are read back with
 * F_OFD_GETLK from a third descriptor.
 */
#define _GNU_SOURCE             /* F_OFD_GETLK, F_OFD_SETLK */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "io_seam.h"

int suite_reliab(void);

/* A fresh temporary directory; its path is written to dir[40]. */
static void temp_dir(char dir[40])
{
    strcpy(dir, "/tmp/qed-unit-reliab-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
}

/* dir/name into out[80]. */
static void path_in(char out[80], const char *dir, const char *name)
{
    snprintf(out, 80, "%s/%s", dir, name);
}

/* Remove dir/name for each name, then dir. */
static void remove_all(const char *dir, const char *const *names)
{
    char p[80];

    for (; *names; names++) {
        path_in(p, dir, *names);
        unlink(p);
        rmdir(p);
    }
    rmdir(dir);
}

/* A file at path holding the three bytes "abc". */
static void write_abc(const char *path)
{
    qed_io *io = NULL;

    CU_ASSERT_EQUAL_FATAL(qed_io_posix_open(path, QED_IO_RDWR |
                                            QED_IO_CREATE | QED_IO_NO_LOCK,
                                            &io), QED_OK);
    CU_ASSERT_EQUAL(io->write(io, 0, "abc", 3), QED_OK);
    qed_io_close(io);
}

/* The file's length, or UINT64_MAX when it cannot be opened. */
static uint64_t length_of(const char *path)
{
    qed_io *io = NULL;
    uint64_t len = UINT64_MAX;

    if (qed_io_posix_open(path, QED_IO_NO_LOCK, &io) == QED_OK) {
        if (io->length(io, &len) != QED_OK)
            len = UINT64_MAX;
        qed_io_close(io);
    }
    return len;
}

/* Bitmask of the bytes 100..103 (bits 0..3) and 200..203 (bits 4..7)
 * that some open file description other than a fresh one holds locked. */
static unsigned locked_bytes(const char *path)
{
    unsigned mask = 0;
    int fd = open(path, O_RDONLY);

    CU_ASSERT_FATAL(fd >= 0);
    for (int i = 0; i < 8; i++) {
        struct flock fl;
        memset(&fl, 0, sizeof(fl));
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        fl.l_start = (i < 4 ? 100 : 196) + i;
        fl.l_len = 1;
        CU_ASSERT_EQUAL(fcntl(fd, F_OFD_GETLK, &fl), 0);
        if (fl.l_type != F_UNLCK)
            mask |= 1u << i;
    }
    close(fd);
    return mask;
}

/* A foreign process's lock: a new descriptor with a shared lock on byte
 * off, as QEMU takes them.  Returns the descriptor (close to release). */
static int foreign_lock(const char *path, off_t off)
{
    struct flock fl;
    int fd = open(path, O_RDONLY);

    CU_ASSERT_FATAL(fd >= 0);
    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_RDLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = off;
    fl.l_len = 1;
    CU_ASSERT_EQUAL(fcntl(fd, F_OFD_SETLK, &fl), 0);
    return fd;
}

/* Bits of locked_bytes: CONSISTENT_READ, WRITE, RESIZE held (100, 101,
 * 103) and WRITE, RESIZE not shared (201, 203). */
enum { HELD_READ = 1u << 0, HELD_WRITE = 1u << 1, HELD_RESIZE = 1u << 3,
       UNSHARED_WRITE = 1u << 5, UNSHARED_RESIZE = 1u << 7 };

/* The bytes are QEMU's, as qemu-io 7.2 takes them: a reader holds 100
 * and 201, 203; a writer 100, 101, 103 and 201, 203; with QED_IO_NO_LOCK
 * nothing; and a failed open leaves none of its own behind. */
static void test_lock_bytes(void)
{
    const char *const names[] = { "f", NULL };
    char dir[40], f[80];
    qed_io *a = NULL, *b = NULL;

    temp_dir(dir);
    path_in(f, dir, "f");
    write_abc(f);
    CU_ASSERT_EQUAL(locked_bytes(f), 0);
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_open(f, 0, &a), QED_OK);
    CU_ASSERT_EQUAL(locked_bytes(f), HELD_READ | UNSHARED_WRITE | UNSHARED_RESIZE);
    qed_io_close(a);
    CU_ASSERT_EQUAL(locked_bytes(f), 0);
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_open(f, QED_IO_RDWR, &a), QED_OK);
    CU_ASSERT_EQUAL(locked_bytes(f), HELD_READ | HELD_WRITE | HELD_RESIZE |
                                     UNSHARED_WRITE | UNSHARED_RESIZE);
    CU_ASSERT_EQUAL(qed_io_posix_open(f, 0, &b), QED_ERR_LOCKED);
    qed_io_close(a);
    CU_ASSERT_EQUAL(locked_bytes(f), 0);        /* the refused one kept none */
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_open(f, QED_IO_RDWR | QED_IO_NO_LOCK,
                                            &a), QED_OK);
    CU_ASSERT_EQUAL(locked_bytes(f), 0);
    qed_io_close(a);
    remove_all(dir, names);
}

/* A writer excludes every other writer and reader, a reader excludes
 * writers, readers share; QED_IO_NO_LOCK opens beside anything. */
static void test_lock_exclusion(void)
{
    const char *const names[] = { "f", NULL };
    char dir[40], f[80];
    qed_io *w = NULL, *r1 = NULL, *r2 = NULL, *x = NULL;

    temp_dir(dir);
    path_in(f, dir, "f");
    write_abc(f);
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_open(f, QED_IO_RDWR, &w), QED_OK);
    CU_ASSERT_EQUAL(qed_io_posix_open(f, QED_IO_RDWR, &x), QED_ERR_LOCKED);
    CU_ASSERT_EQUAL(qed_io_posix_open(f, 0, &x), QED_ERR_LOCKED);
    CU_ASSERT_PTR_NULL(x);
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_open(f, QED_IO_NO_LOCK, &x), QED_OK);
    qed_io_close(x);
    qed_io_close(w);
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_open(f, 0, &r1), QED_OK);
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_open(f, 0, &r2), QED_OK);
    CU_ASSERT_EQUAL(qed_io_posix_open(f, QED_IO_RDWR, &x), QED_ERR_LOCKED);
    qed_io_close(r1);
    CU_ASSERT_EQUAL(qed_io_posix_open(f, QED_IO_RDWR, &x), QED_ERR_LOCKED);
    qed_io_close(r2);
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_open(f, QED_IO_RDWR, &x), QED_OK);
    qed_io_close(x);
    remove_all(dir, names);
}

/* QEMU's side of the protocol, byte by byte: another process holding
 * WRITE (101) shuts out a reader and a writer; one refusing to share
 * WRITE (201) shuts out only writers; one refusing CONSISTENT_READ (200)
 * shuts out both; WRITE_UNCHANGED (102), which neither takes, none. */
static void test_lock_foreign_bytes(void)
{
    static const struct { off_t byte; int ro, rw; } cases[] = {
        { 101, QED_ERR_LOCKED, QED_ERR_LOCKED },
        { 201, QED_OK, QED_ERR_LOCKED },
        { 103, QED_ERR_LOCKED, QED_ERR_LOCKED },
        { 203, QED_OK, QED_ERR_LOCKED },
        { 200, QED_ERR_LOCKED, QED_ERR_LOCKED },
        { 100, QED_OK, QED_OK },
        { 102, QED_OK, QED_OK },
    };
    const char *const names[] = { "f", NULL };
    char dir[40], f[80];

    temp_dir(dir);
    path_in(f, dir, "f");
    write_abc(f);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int fd = foreign_lock(f, cases[i].byte);
        qed_io *io = NULL;
        int ro = qed_io_posix_open(f, 0, &io);
        qed_io_close(io);
        io = NULL;
        int rw = qed_io_posix_open(f, QED_IO_RDWR, &io);
        qed_io_close(io);
        if (ro != cases[i].ro || rw != cases[i].rw)
            printf("\n    foreign lock on byte %ld: read-only %d, read-write %d ",
                   (long)cases[i].byte, ro, rw);
        CU_ASSERT_EQUAL(ro, cases[i].ro);
        CU_ASSERT_EQUAL(rw, cases[i].rw);
        close(fd);
    }
    remove_all(dir, names);
}

/* Create truncates only once it holds the lock: a file another open
 * holds keeps its bytes. */
static void test_lock_create(void)
{
    const char *const names[] = { "f", NULL };
    char dir[40], f[80];
    qed_io *r = NULL, *x = NULL;

    temp_dir(dir);
    path_in(f, dir, "f");
    write_abc(f);
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_open(f, 0, &r), QED_OK);
    CU_ASSERT_EQUAL(qed_io_posix_create(f, &x), QED_ERR_LOCKED);
    CU_ASSERT_EQUAL(length_of(f), 3);
    qed_io_close(r);
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_create(f, &x), QED_OK);
    CU_ASSERT_EQUAL(length_of(f), 0);
    qed_io_close(x);
    remove_all(dir, names);
}

/* The default backing opener locks the chain as a reader: while an
 * overlay is open, its backing file cannot be opened for writing. */
static void test_lock_backing_chain(void)
{
    const char *const names[] = { "base.qed", "top.qed", NULL };
    qed_create_opts co = { 1 << 20, 4096, 1, NULL, NULL };
    char dir[40], base[80], top[80];
    qed_io *io = NULL, *x = NULL;
    qed_open_opts oo;
    qed_image *img = NULL;

    temp_dir(dir);
    path_in(base, dir, "base.qed");
    path_in(top, dir, "top.qed");
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_create(base, &io), QED_OK);
    CU_ASSERT_EQUAL(qed_create(io, &co), QED_OK);
    qed_io_close(io);
    co.backing_file = "base.qed";
    co.backing_format = "qed";
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_create(top, &io), QED_OK);
    CU_ASSERT_EQUAL(qed_create(io, &co), QED_OK);
    memset(&oo, 0, sizeof(oo));
    oo.flags = QED_OPEN_RDWR;
    oo.path = top;
    CU_ASSERT_EQUAL_FATAL(qed_open(io, &oo, &img), QED_OK);
    CU_ASSERT_EQUAL(qed_io_posix_open(base, QED_IO_RDWR, &x), QED_ERR_LOCKED);
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_open(base, 0, &x), QED_OK);  /* readers share */
    qed_io_close(x);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    qed_io_close(io);
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_open(base, QED_IO_RDWR, &x), QED_OK);
    qed_io_close(x);
    remove_all(dir, names);
}

/* In a child with a 10 s alarm (a hang kills it): open the FIFO at fifo
 * read-only and read-write, and open an image whose backing file it is
 * through the default opener.  Exit 0 when each was refused as it should
 * be, 1 otherwise. */
static void fifo_child(const char *fifo, const char *top)
{
    qed_io *io = NULL, *x = NULL;
    qed_image *img = NULL;
    qed_open_opts oo;
    int ok;

    alarm(10);
    ok = qed_io_posix_open(fifo, 0, &x) == QED_ERR_FILETYPE &&
         qed_io_posix_open(fifo, QED_IO_RDWR, &x) == QED_ERR_FILETYPE;
    memset(&oo, 0, sizeof(oo));
    oo.path = top;
    if (qed_io_posix_open(top, 0, &io) != QED_OK)
        _exit(1);
    ok = ok && qed_open(io, &oo, &img) == QED_ERR_BACKING;
    _exit(ok ? 0 : 1);
}

/* A FIFO is refused at once (never opened blocking), also as a backing
 * file; a socket is refused too (its open fails with ENXIO). */
static void test_special_files(void)
{
    const char *const names[] = { "fifo", "sock", "top.qed", NULL };
    qed_create_opts co = { 1 << 20, 4096, 1, "fifo", "raw" };
    char dir[40], fifo[80], sock[80], top[80];
    struct sockaddr_un sa;
    qed_io *io = NULL;
    int status = -1, sfd;
    pid_t pid;

    temp_dir(dir);
    path_in(fifo, dir, "fifo");
    path_in(sock, dir, "sock");
    path_in(top, dir, "top.qed");
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_create(top, &io), QED_OK);
    CU_ASSERT_EQUAL(qed_create(io, &co), QED_OK);
    qed_io_close(io);
    fflush(NULL);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0)
        fifo_child(fifo, top);
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        printf("\n    the FIFO child died of signal %d (a hang?) ", WTERMSIG(status));
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    sfd = socket(AF_UNIX, SOCK_STREAM, 0);
    CU_ASSERT_FATAL(sfd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
    CU_ASSERT_EQUAL_FATAL(bind(sfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    io = NULL;
    CU_ASSERT_EQUAL(qed_io_posix_open(sock, 0, &io), QED_ERR_FILETYPE);
    CU_ASSERT_EQUAL(qed_io_posix_create(sock, &io), QED_ERR_FILETYPE);
    CU_ASSERT_PTR_NULL(io);
    close(sfd);
    remove_all(dir, names);
}

/* ---- block devices (issue 10, item 3) ------------------------------- */

/* fstat, but a regular file is said to be a block device, whose st_size
 * is 0 as Linux reports it: only the device knows its length. */
static int fake_block_stat(int fd, struct stat *st)
{
    int ret = fstat(fd, st);

    if (ret == 0 && S_ISREG(st->st_mode)) {
        st->st_mode = (st->st_mode & ~(mode_t)S_IFMT) | S_IFBLK;
        st->st_size = 0;
    }
    return ret;
}

/* A backing opener that opens every file as a fake block device. */
static int open_fake_block(void *ctx, const char *path, qed_io **out)
{
    (void)ctx;
    return io_posix_open_with_stat(path, 0, fake_block_stat, out);
}

/* A file at path holding len bytes of fill. */
static void write_fill(const char *path, int fill, size_t len)
{
    uint8_t *buf = malloc(len);
    FILE *f = fopen(path, "wb");

    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    memset(buf, fill, len);
    CU_ASSERT_EQUAL(fwrite(buf, 1, len, f), len);
    fclose(f);
    free(buf);
}

/* The length of a block device is the device's, not st_size's 0. */
static void test_blockdev_length(void)
{
    const char *const names[] = { "dev", NULL };
    char dir[40], dev[80];
    qed_io *io = NULL;
    uint64_t len = 0;

    temp_dir(dir);
    path_in(dev, dir, "dev");
    write_fill(dev, 0x11, 12345);
    CU_ASSERT_EQUAL_FATAL(io_posix_open_with_stat(dev, 0, fake_block_stat, &io),
                          QED_OK);
    CU_ASSERT_EQUAL(io->length(io, &len), QED_OK);
    CU_ASSERT_EQUAL(len, 12345);
    qed_io_close(io);
    remove_all(dir, names);
}

/* A raw backing file on a block device: an unallocated cluster reads the
 * device's bytes, and a partial write into a new cluster fills the rest
 * of it from them (WR-7), not with zeroes. */
static void test_blockdev_raw_backing(void)
{
    const char *const names[] = { "dev", "top.qed", NULL };
    qed_create_opts co = { 1 << 20, 4096, 1, "dev", "raw" };
    char dir[40], dev[80], top[80];
    uint8_t buf[4096], want[4096];
    qed_io *io = NULL;
    qed_open_opts oo;
    qed_image *img = NULL;

    temp_dir(dir);
    path_in(dev, dir, "dev");
    path_in(top, dir, "top.qed");
    write_fill(dev, 0xab, 1 << 20);
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_create(top, &io), QED_OK);
    CU_ASSERT_EQUAL_FATAL(qed_create(io, &co), QED_OK);
    memset(&oo, 0, sizeof(oo));
    oo.flags = QED_OPEN_RDWR;
    oo.path = top;
    oo.open_backing = open_fake_block;
    CU_ASSERT_EQUAL_FATAL(qed_open(io, &oo, &img), QED_OK);
    memset(want, 0xab, sizeof(want));
    CU_ASSERT_EQUAL(qed_read(img, 8192, buf, sizeof(buf)), QED_OK);
    CU_ASSERT_EQUAL(memcmp(buf, want, sizeof(buf)), 0);
    memset(want + 512, 0x5c, 512);
    CU_ASSERT_EQUAL(qed_write(img, 512, want + 512, 512), QED_OK);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    img = NULL;
    oo.flags = 0;
    CU_ASSERT_EQUAL_FATAL(qed_open(io, &oo, &img), QED_OK);
    CU_ASSERT_EQUAL(qed_read(img, 0, buf, sizeof(buf)), QED_OK);
    CU_ASSERT_EQUAL(memcmp(buf, want, sizeof(buf)), 0);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    qed_io_close(io);
    remove_all(dir, names);
}

/* A QED image on a block device opens (not FILE-2) and reads. */
static void test_blockdev_qed_image(void)
{
    const char *const names[] = { "dev", NULL };
    qed_create_opts co = { 1 << 20, 4096, 1, NULL, NULL };
    char dir[40], dev[80];
    uint8_t buf[512], want[512];
    qed_io *io = NULL;
    qed_image *img = NULL;

    temp_dir(dir);
    path_in(dev, dir, "dev");
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_create(dev, &io), QED_OK);
    CU_ASSERT_EQUAL_FATAL(qed_create(io, &co), QED_OK);
    CU_ASSERT_EQUAL_FATAL(qed_open(io, &(qed_open_opts){ .flags = QED_OPEN_RDWR },
                                   &img), QED_OK);
    memset(want, 0x77, sizeof(want));
    CU_ASSERT_EQUAL(qed_write(img, 4096, want, sizeof(want)), QED_OK);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    qed_io_close(io);
    io = NULL;
    img = NULL;
    CU_ASSERT_EQUAL_FATAL(io_posix_open_with_stat(dev, 0, fake_block_stat, &io),
                          QED_OK);
    CU_ASSERT_EQUAL_FATAL(qed_open(io, NULL, &img), QED_OK);
    CU_ASSERT_EQUAL(qed_read(img, 4096, buf, sizeof(buf)), QED_OK);
    CU_ASSERT_EQUAL(memcmp(buf, want, sizeof(buf)), 0);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    qed_io_close(io);
    remove_all(dir, names);
}

/* ---- bounded repair (issue 10, item 6) ------------------------------ */

enum { RCS = 4096 };            /* the repair tests' cluster size */

/* The hostile image of issue 10: cluster 4 KiB, table_size 1 (512
 * entries), every L1 entry naming one L2 table and every L2 entry one
 * data cluster; 16 KiB of file whose repair would copy 511 tables and
 * 511 * 513 data clusters, about 1 GiB.  need_check sets NEED_CHECK. */
static void hostile_image(rawimg *r, int need_check)
{
    uint64_t l2, d;

    raw_init(r, RCS, 1, (uint64_t)512 * 512 * RCS);
    l2 = raw_add_table(r);
    d = raw_add_cluster(r, 0x5a);
    for (uint64_t i = 0; i < raw_entries(r); i++) {
        raw_set_l1(r, i, l2);
        raw_set_l2(r, l2, i, d);
    }
    if (need_check)
        raw_put64(r, HOFF_FEATURES, QED_F_NEED_CHECK);
}

/* 1 when io holds exactly the bytes of r. */
static int holds(qed_io *io, const rawimg *r)
{
    const uint8_t *data;
    size_t len;

    qed_io_mem_data(io, &data, &len);
    return len == r->len && memcmp(data, r->buf, len) == 0;
}

/* Over its budget (the default, 2 x 16 KiB + 64 MiB), check -r all is
 * refused before it writes anything: the figures say why, the image is
 * byte for byte as it was, and the session has not failed. */
static void test_repair_budget_refused(void)
{
    rawimg r;
    qed_io *io;
    qed_image *img = NULL;
    qed_check_result res;

    hostile_image(&r, 0);
    io = mem_io(r.buf, r.len);
    CU_ASSERT_EQUAL_FATAL(open_img(io, QED_OPEN_RDWR | QED_OPEN_NO_CHECK,
                                   NULL, &img), QED_OK);
    CU_ASSERT_EQUAL(qed_check(img, QED_REPAIR_ALL, &res), QED_ERR_REPAIR_BUDGET);
    CU_ASSERT_EQUAL(res.corruptions, 511 + 511);   /* as found (CHK-1) */
    CU_ASSERT_EQUAL(res.repair_budget, 2 * r.len + (64u << 20));
    CU_ASSERT(res.repair_bytes > res.repair_budget);
    CU_ASSERT(res.repair_bytes <= res.repair_budget + RCS);  /* stopped at once */
    CU_ASSERT(holds(io, &r));
    CU_ASSERT_EQUAL(qed_flush(img), QED_OK);        /* not QED_ERR_FAILED */
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    CU_ASSERT(holds(io, &r));
    qed_io_close(io);
    raw_free(&r);
}

/* WR-5 is a repair too: a read-write open of the hostile image with
 * NEED_CHECK set is refused over the budget and changes nothing; a
 * read-only open still reads it. */
static void test_repair_budget_on_open(void)
{
    rawimg r;
    qed_io *io;
    qed_image *img = NULL;
    uint8_t buf[RCS];

    hostile_image(&r, 1);
    io = mem_io(r.buf, r.len);
    CU_ASSERT_EQUAL(open_img(io, QED_OPEN_RDWR, NULL, &img), QED_ERR_REPAIR_BUDGET);
    CU_ASSERT_PTR_NULL(img);
    CU_ASSERT(holds(io, &r));
    CU_ASSERT_EQUAL_FATAL(open_img(io, 0, NULL, &img), QED_OK);
    CU_ASSERT_EQUAL(qed_read(img, 0, buf, sizeof(buf)), QED_OK);
    CU_ASSERT_EQUAL(buf[0], 0x5a);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    qed_io_close(io);
    raw_free(&r);
}

/* A damaged image of every kind repair fixes, in 4 KiB clusters with
 * table_size 1: L1 entries 0 and 1 name tables A and B, entry 2 names A
 * again (a duplicate: its copy is walked), entry 3 breaks TBL-2; A maps
 * logical clusters 0..3, its entry 4 repeats entry 0's cluster, 5 breaks
 * TBL-2, 6 TBL-6; B's entry 0 repeats A's entry 1, its entry 1 is its
 * own, its entry 2 names table A as data (whose copy must hold A's bytes
 * as found, entry 7 included, although repair resets that entry in A
 * before it copies: CHK-6); a leaked cluster in the middle and one at
 * the end.  L1 entry 4
 * and A's entry 7 point just past the end of the file, where the
 * repair's first two copies land (TBL-4, TBL-6): a repair that grew the
 * file before resetting them would turn them into a table and a data
 * cluster holding copies.  9 corruptions (NCORRUPT); the repair copies 9
 * clusters (NCOPIES): A's copy, A's entry 4, B's entries 0 and 2, and
 * the copy's 5 entries that reach clusters owned already. */
enum { NCORRUPT = 9, NCOPIES = 9 };
static void mixed_image(rawimg *r)
{
    uint64_t a, b, d[5];

    raw_init(r, RCS, 1, 8u << 20);
    a = raw_add_table(r);
    b = raw_add_table(r);
    for (int i = 0; i < 4; i++)
        d[i] = raw_add_cluster(r, 0x10 + i);
    raw_add_cluster(r, 0xee);                     /* a leak between */
    d[4] = raw_add_cluster(r, 0x20);
    raw_set_l1(r, 0, a);
    raw_set_l1(r, 1, b);
    raw_set_l1(r, 2, a);
    raw_set_l1(r, 3, 0x3);
    for (int i = 0; i < 4; i++)
        raw_set_l2(r, a, (uint64_t)i, d[i]);
    raw_set_l2(r, a, 4, d[0]);
    raw_set_l2(r, a, 5, 0x1234);
    raw_set_l2(r, a, 6, (uint64_t)1 << 40);
    raw_set_l2(r, b, 0, d[1]);
    raw_set_l2(r, b, 1, d[4]);
    raw_set_l2(r, b, 2, a);
    raw_add_cluster(r, 0xef);                     /* a leak at the end */
    raw_set_l1(r, 4, r->len);                     /* the first copy's place */
    raw_set_l2(r, a, 7, r->len + RCS);            /* the second copy's */
}

/* The logical clusters of mixed_image reached through valid entries
 * (CHK-6: they read the same after any repair, complete or not), but
 * TABLE_AS_DATA_LC, B's entry 2: it reads table A's bytes, the same after
 * a complete repair (its copy holds A as found), but a repair stopped
 * part-way may have reset A's invalid entries already (spec section 8,
 * the note on a repair that fails part-way). */
static const uint64_t valid_lc[] = { 0, 1, 2, 3, 4, 512, 513,
                                     1024, 1025, 1026, 1027, 1028 };
#define NVALID (sizeof(valid_lc) / sizeof(valid_lc[0]))
#define TABLE_AS_DATA_LC 514u

/* Read logical cluster lc of the image on io into out (read-only). */
static void read_lc(qed_io *io, uint64_t lc, uint8_t out[RCS])
{
    qed_image *img = NULL;

    CU_ASSERT_EQUAL_FATAL(open_img(io, 0, NULL, &img), QED_OK);
    CU_ASSERT_EQUAL(qed_read(img, lc * RCS, out, RCS), QED_OK);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
}

/* Read the valid_lc clusters of the image on io into out (read-only). */
static void read_valid(qed_io *io, uint8_t out[NVALID][RCS])
{
    qed_image *img = NULL;

    CU_ASSERT_EQUAL_FATAL(open_img(io, 0, NULL, &img), QED_OK);
    for (size_t i = 0; i < NVALID; i++)
        CU_ASSERT_EQUAL(qed_read(img, valid_lc[i] * RCS, out[i], RCS), QED_OK);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
}

/* check -r all on io (read-write, no WR-5, and the open flags flags)
 * with limits lim: the status; res (or, when NULL, a scratch result)
 * receives the counts. */
static int repair_with(qed_io *io, unsigned flags, const qed_limits *lim,
                       qed_check_result *res)
{
    qed_open_opts o = { .flags = QED_OPEN_RDWR | QED_OPEN_NO_CHECK | flags,
                        .limits = lim };
    qed_check_result scratch;
    qed_image *img = NULL;
    int ret = qed_open(io, &o, &img);

    if (ret == QED_OK)
        ret = qed_check(img, QED_REPAIR_ALL, res ? res : &scratch);
    if (img && qed_close(img) != QED_OK && ret == QED_OK)
        ret = QED_ERR_IO;
    return ret;
}

/* The plan is exact: the repair adds what it said (NCOPIES clusters), a budget
 * of exactly that lets it run, one byte less refuses it untouched. */
static void test_repair_budget_exact(void)
{
    rawimg r;
    qed_limits lim;
    qed_check_result res;
    qed_io *io;
    const uint8_t *data;
    size_t len;

    mixed_image(&r);
    qed_limits_default(&lim);
    lim.max_repair_bytes = NCOPIES * RCS - 1;
    io = mem_io(r.buf, r.len);
    CU_ASSERT_EQUAL(repair_with(io, 0, &lim, &res), QED_ERR_REPAIR_BUDGET);
    CU_ASSERT_EQUAL(res.repair_bytes, NCOPIES * RCS);
    CU_ASSERT_EQUAL(res.repair_budget, NCOPIES * RCS - 1);
    CU_ASSERT(holds(io, &r));
    lim.max_repair_bytes = NCOPIES * RCS;
    CU_ASSERT_EQUAL(repair_with(io, 0, &lim, &res), QED_OK);
    CU_ASSERT_EQUAL(res.corruptions, NCORRUPT);
    CU_ASSERT_EQUAL(res.corruptions_fixed, NCORRUPT);
    CU_ASSERT_EQUAL(res.repair_bytes, NCOPIES * RCS);
    qed_io_mem_data(io, &data, &len);
    CU_ASSERT_EQUAL(len, r.len + NCOPIES * RCS);  /* copies, no truncation */
    qed_io_close(io);
    raw_free(&r);
}

/* The corruptions a read-only check finds on io opened with flags. */
static uint64_t corruptions_of(qed_io *io, unsigned flags)
{
    qed_image *img = NULL;
    qed_check_result res;

    CU_ASSERT_EQUAL_FATAL(open_img(io, flags, NULL, &img), QED_OK);
    CU_ASSERT_EQUAL(qed_check(img, QED_REPAIR_NONE, &res), QED_OK);
    CU_ASSERT_EQUAL(res.check_errors, 0);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    return res.corruptions;
}

/* One run of the sweep: check -r all on a fresh copy of r whose call
 * fail_at fails with err (sticky or not); afterwards the image has at
 * most the corruptions it had, reads what its valid entries read, and a
 * new repair leaves none and still reads the same. */
static void repair_failing_at(const rawimg *r, uint64_t fail_at, int err,
                              int sticky, uint8_t want[NVALID][RCS])
{
    static uint8_t got[NVALID][RCS];
    qed_io *mem = mem_io(r->buf, r->len), *fault = NULL;
    qed_check_result res;
    uint64_t found;

    CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(io_borrow(mem), fail_at, err,
                                           sticky, &fault), QED_OK);
    repair_with(fault, 0, NULL, &res);
    qed_io_close(fault);
    found = corruptions_of(mem, 0);
    if (found > NCORRUPT)
        printf("\n    call %llu failing (sticky %d): %llu corruptions after, %d before ",
               (unsigned long long)fail_at, sticky, (unsigned long long)found,
               NCORRUPT);
    CU_ASSERT(found <= NCORRUPT);
    read_valid(mem, got);
    CU_ASSERT_EQUAL(memcmp(got, want, sizeof(got)), 0);
    CU_ASSERT_EQUAL(repair_with(mem, 0, NULL, &res), QED_OK);
    CU_ASSERT_EQUAL(corruptions_of(mem, 0), 0);
    read_valid(mem, got);
    CU_ASSERT_EQUAL(memcmp(got, want, sizeof(got)), 0);
    qed_io_close(mem);
}

/* A repair that fails part-way, at every call of it in turn (ENOSPC, and
 * EIO that stays), never leaves more corruptions than it found, nor
 * changes what a valid entry reads.  The complete repair (counting the
 * calls) changes nothing a valid entry reads either, TABLE_AS_DATA_LC
 * included. */
static void test_repair_failure_sweep(void)
{
    static uint8_t want[NVALID][RCS], got[NVALID][RCS];
    uint8_t table_before[RCS], table_after[RCS];
    rawimg r;
    qed_io *mem, *fault = NULL;
    qed_check_result res;
    uint64_t calls;

    mixed_image(&r);
    mem = mem_io(r.buf, r.len);
    CU_ASSERT_EQUAL(corruptions_of(mem, 0), NCORRUPT);
    read_valid(mem, want);
    read_lc(mem, TABLE_AS_DATA_LC, table_before);
    CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(io_borrow(mem), 0, QED_ERR_NOSPC, 0,
                                           &fault), QED_OK);
    CU_ASSERT_EQUAL(repair_with(fault, 0, NULL, &res), QED_OK);
    calls = qed_io_fault_calls(fault);
    qed_io_close(fault);
    CU_ASSERT_EQUAL(corruptions_of(mem, 0), 0);
    read_valid(mem, got);
    CU_ASSERT_EQUAL(memcmp(got, want, sizeof(got)), 0);
    read_lc(mem, TABLE_AS_DATA_LC, table_after);
    CU_ASSERT_EQUAL(memcmp(table_before, table_after, RCS), 0);   /* CHK-6 */
    qed_io_close(mem);
    printf("[%llu calls x 2] ", (unsigned long long)calls);
    for (uint64_t k = 1; k <= calls; k++) {
        repair_failing_at(&r, k, QED_ERR_NOSPC, 0, want);
        repair_failing_at(&r, k, QED_ERR_IO, 1, want);
    }
    raw_free(&r);
}

/* The logical clusters of mixed_image the failed-session test reads:
 * those of valid entries and those behind invalid ones (A's entries 5, 6,
 * 7; L1 entries 3 and 4). */
static const uint64_t session_lc[] = { 0, 1, 2, 3, 4, 5, 6, 7, 512, 513,
                                       1024, 1025, 1026, 1027, 1028, 1536, 2048 };
#define NSESSION (sizeof(session_lc) / sizeof(session_lc[0]))

/* The session of a repair that failed at call fail_at (once, ENOSPC):
 * each session_lc cluster it reads afterwards reads what a fresh open of
 * the file reads there, or fails; it never returns bytes the file does
 * not hold (its tables in memory are not ahead of the file's).  1 if so,
 * 0 if not, -1 if the call was not one of the repair's (the open failed,
 * or the repair did not). */
static int reads_after_failed_repair(const rawimg *r, uint64_t fail_at)
{
    qed_open_opts o = { .flags = QED_OPEN_RDWR | QED_OPEN_NO_CHECK };
    qed_io *mem = mem_io(r->buf, r->len), *fault = NULL;
    qed_image *img = NULL, *file = NULL;
    qed_check_result res;
    uint8_t got[RCS], want[RCS];
    int same = -1;

    CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(io_borrow(mem), fail_at,
                                           QED_ERR_NOSPC, 0, &fault), QED_OK);
    if (qed_open(fault, &o, &img) == QED_OK &&
        qed_check(img, QED_REPAIR_ALL, &res) != QED_OK) {
        CU_ASSERT_EQUAL_FATAL(open_img(mem, 0, NULL, &file), QED_OK);
        same = 1;
        for (size_t i = 0; i < NSESSION; i++)
            if (qed_read(img, session_lc[i] * RCS, got, RCS) == QED_OK &&
                (qed_read(file, session_lc[i] * RCS, want, RCS) != QED_OK ||
                 memcmp(got, want, RCS) != 0))
                same = 0;
        qed_close(file);
    }
    qed_close(img);
    qed_io_close(fault);
    qed_io_close(mem);
    return same;
}

/* After a repair fails part-way, the session reads what the file holds
 * (or fails), at every call the repair can fail at. */
static void test_repair_failed_session_reads(void)
{
    rawimg r;
    qed_io *fault = NULL;
    uint64_t calls;
    int bad = 0, tried = 0, same;

    mixed_image(&r);
    CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(mem_io(r.buf, r.len), 0, QED_ERR_NOSPC,
                                           0, &fault), QED_OK);
    CU_ASSERT_EQUAL(repair_with(fault, 0, NULL, NULL), QED_OK);
    calls = qed_io_fault_calls(fault);            /* the open's and the repair's */
    qed_io_close(fault);
    for (uint64_t k = 1; k <= calls; k++) {
        same = reads_after_failed_repair(&r, k);
        tried += same >= 0;
        if (same == 0) {
            printf("\n    call %llu failing: the session reads bytes the file "
                   "does not hold ", (unsigned long long)k);
            bad++;
        }
    }
    CU_ASSERT(tried > 0);                         /* some call was the repair's */
    CU_ASSERT_EQUAL(bad, 0);
    raw_free(&r);
}

/* An image whose L1 entry 1 names the L1 table itself (a duplicate, CHK-1)
 * so its "L2 table" is the L1 table: L1 entry 2 holds 1, which breaks
 * TBL-3 as an L1 entry but is a zero cluster as an L2 entry (ZERO-1), so
 * logical cluster L1_AS_L2_LC reads zeros through valid entries (CHK-6).
 * L1 entry 0's table maps one data cluster and has an entry just past the
 * end of the file, so repair resets it before its first copy (CHK-5).
 * A backing name is set: opened with QED_OPEN_NO_BACKING, an unallocated
 * cluster fails to read (zeros would hide a reset entry 2). */
#define L1_AS_L2_LC 514u
static void l1_as_l2_image(rawimg *r)
{
    uint64_t t, d;

    raw_init(r, RCS, 1, 4u << 20);
    raw_set_backing(r, "b", 1);
    t = raw_add_table(r);
    d = raw_add_cluster(r, 0x33);
    raw_set_l1(r, 0, t);
    raw_set_l1(r, 1, r->l1);
    raw_set_l1(r, 2, 1);
    raw_set_l2(r, t, 0, d);
    raw_set_l2(r, t, 1, r->len);                  /* the first copy's place */
}

/* Whether L1_AS_L2_LC of the image on io still reads zeros. */
static int l1_as_l2_reads_zeros(qed_io *io)
{
    qed_image *img = NULL;
    uint8_t buf[RCS];
    int ret;

    CU_ASSERT_EQUAL_FATAL(open_img(io, QED_OPEN_NO_BACKING, NULL, &img), QED_OK);
    ret = qed_read(img, (uint64_t)L1_AS_L2_LC * RCS, buf, RCS);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    return ret == QED_OK && all_zero(buf, RCS);
}

/* A repair of l1_as_l2_image failing at call fail_at (err, sticky or
 * not), then a complete one: L1_AS_L2_LC reads zeros after each. */
static void l1_as_l2_failing_at(const rawimg *r, uint64_t fail_at, int err,
                                int sticky)
{
    qed_io *mem = mem_io(r->buf, r->len), *fault = NULL;
    int zeros;

    CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(io_borrow(mem), fail_at, err,
                                           sticky, &fault), QED_OK);
    repair_with(fault, QED_OPEN_NO_BACKING, NULL, NULL);
    qed_io_close(fault);
    zeros = l1_as_l2_reads_zeros(mem);
    if (!zeros)
        printf("\n    call %llu failing (sticky %d): logical cluster %u no "
               "longer reads zeros ", (unsigned long long)fail_at, sticky,
               L1_AS_L2_LC);
    CU_ASSERT(zeros);
    CU_ASSERT_EQUAL(repair_with(mem, QED_OPEN_NO_BACKING, NULL, NULL), QED_OK);
    CU_ASSERT_EQUAL(corruptions_of(mem, QED_OPEN_NO_BACKING), 0);
    CU_ASSERT(l1_as_l2_reads_zeros(mem));
    qed_io_close(mem);
}

/* A repair that fails part-way resets, before its first copy, only the
 * invalid entries a copy could make valid (past the end of the file): an
 * L1 entry of 1 is left for the copying walk, which copies the L1 table as
 * found first, so what a duplicate L1 entry naming the L1 table reads
 * through it never changes, at whichever call the repair fails (CHK-5,
 * CHK-6). */
static void test_repair_failure_keeps_l1_as_l2(void)
{
    rawimg r;
    qed_io *mem, *fault = NULL;
    uint64_t calls;

    l1_as_l2_image(&r);
    mem = mem_io(r.buf, r.len);
    CU_ASSERT_EQUAL(corruptions_of(mem, QED_OPEN_NO_BACKING), 3);      /* L1 1 and 2, the table's 1 */
    CU_ASSERT(l1_as_l2_reads_zeros(mem));
    CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(io_borrow(mem), 0, QED_ERR_NOSPC, 0,
                                           &fault), QED_OK);
    CU_ASSERT_EQUAL(repair_with(fault, QED_OPEN_NO_BACKING, NULL, NULL), QED_OK);
    calls = qed_io_fault_calls(fault);
    qed_io_close(fault);
    CU_ASSERT_EQUAL(corruptions_of(mem, QED_OPEN_NO_BACKING), 0);
    CU_ASSERT(l1_as_l2_reads_zeros(mem));
    qed_io_close(mem);
    for (uint64_t k = 1; k <= calls; k++) {
        l1_as_l2_failing_at(&r, k, QED_ERR_NOSPC, 0);
        l1_as_l2_failing_at(&r, k, QED_ERR_IO, 1);
    }
    raw_free(&r);
}

int suite_reliab(void)
{
    static const test_case cases[] = {
        { "locks: QEMU's bytes", test_lock_bytes },
        { "locks: writer/reader exclusion, NO_LOCK", test_lock_exclusion },
        { "locks: QEMU's bytes held by another", test_lock_foreign_bytes },
        { "locks: create truncates only when locked", test_lock_create },
        { "locks: the backing chain is read-locked", test_lock_backing_chain },
        { "file types: FIFO (no hang), socket", test_special_files },
        { "block device: length from the device", test_blockdev_length },
        { "block device: raw backing fills from it", test_blockdev_raw_backing },
        { "block device: a QED image on one opens", test_blockdev_qed_image },
        { "repair budget: over it, refused untouched", test_repair_budget_refused },
        { "repair budget: WR-5 on open refused too", test_repair_budget_on_open },
        { "repair budget: the plan is exact", test_repair_budget_exact },
        { "repair failing at every call: no new corruption", test_repair_failure_sweep },
        { "repair failing: the session reads what the file holds", test_repair_failed_session_reads },
        { "repair failing at every call: L1 table read as L2", test_repair_failure_keeps_l1_as_l2 },
    };
    return ADD_SUITE("reliability", cases);
}
