/*
 * test_untrusted.c - untrusted images (issue 10, items 8, 9 and 11): a
 * backing loop found by device and inode before its tables load, the
 * chain's table bound (max_chain_table_bytes), the backing policies
 * (QED_BACKING_NONE, QED_BACKING_CONFINED), and the limits qed_open and
 * qed_create share (qed_header_limit).
 */
#define _GNU_SOURCE             /* realpath */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

int suite_untrusted(void);

#define CS 4096u
#define IMG_SIZE (1u << 20)

/* A backing opener over the POSIX layer that counts its calls and keeps
 * the last path asked for. */
typedef struct counting {
    int calls;
    char last[PATH_MAX];
} counting;

static int counting_open(void *ctx, const char *path, qed_io **out)
{
    counting *c = ctx;

    c->calls++;
    snprintf(c->last, sizeof(c->last), "%s", path);
    return qed_io_posix_open(path, QED_IO_NO_LOCK, out) == QED_OK
           ? QED_OK : QED_ERR_BACKING;
}

/* Write len bytes to path (CU-asserted). */
static void put_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* A small QED image file at path whose backing name is name (NULL: none;
 * raw: NO_PROBE). */
static void put_image(const char *path, const char *name, int raw)
{
    rawimg r;

    raw_init(&r, CS, 1, IMG_SIZE);
    if (name)
        raw_set_backing(&r, name, raw);
    put_file(path, r.buf, r.len);
    raw_free(&r);
}

/* Open the image file at path with opts (path filled in); the status. */
static int open_file(const char *path, qed_open_opts *o, qed_io **io,
                     qed_image **img)
{
    *img = NULL;
    o->path = path;
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_open(path, QED_IO_NO_LOCK, io), QED_OK);
    return qed_open(*io, o, img);
}

/* BACK-4: a -> b -> a is refused at its first repeat, after two opens of
 * the backing opener (the depth limit alone takes sixteen). */
static void test_loop_by_identity(void)
{
    char dir[] = "/tmp/qed-unit-untrusted-XXXXXX", a[80], b[80];
    counting c = { 0 };
    qed_open_opts o = { .open_backing = counting_open, .backing_ctx = &c };
    qed_io *io;
    qed_image *img;

    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(a, sizeof(a), "%s/a.qed", dir);
    snprintf(b, sizeof(b), "%s/b.qed", dir);
    put_image(a, "b.qed", 0);
    put_image(b, "a.qed", 0);
    CU_ASSERT_EQUAL(open_file(a, &o, &io, &img), QED_E_CHAIN_DEPTH);
    CU_ASSERT_EQUAL(c.calls, 2);
    qed_io_close(io);
    c.calls = 0;
    put_image(a, "a.qed", 0);                       /* its own backing file */
    CU_ASSERT_EQUAL(open_file(a, &o, &io, &img), QED_E_CHAIN_DEPTH);
    CU_ASSERT_EQUAL(c.calls, 1);
    qed_io_close(io);
    unlink(a);
    unlink(b);
    rmdir(dir);
}

/* max_chain_table_bytes: each image of the chain holds 2 tables of CS
 * bytes here; a bound of 4 tables opens two images, not three. */
static void test_chain_table_bound(void)
{
    memfs fs = { 0 };
    rawimg top, mid, low;
    qed_limits lim;
    qed_open_opts o = { .open_backing = memfs_open, .backing_ctx = &fs,
                        .limits = &lim };
    qed_image *img = NULL;
    qed_io *io;

    raw_init(&low, CS, 1, IMG_SIZE);
    raw_init(&mid, CS, 1, IMG_SIZE);
    raw_set_backing(&mid, "low.qed", 0);
    raw_init(&top, CS, 1, IMG_SIZE);
    raw_set_backing(&top, "mid.qed", 0);
    memfs_add(&fs, "low.qed", low.buf, low.len);
    memfs_add(&fs, "mid.qed", mid.buf, mid.len);
    qed_limits_default(&lim);
    CU_ASSERT_EQUAL(lim.max_chain_table_bytes, (uint64_t)256 << 20);
    lim.max_chain_table_bytes = 4 * CS;
    io = mem_io(top.buf, top.len);
    CU_ASSERT_EQUAL(qed_open(io, &o, &img), QED_ERR_LIMIT);
    qed_io_close(io);
    io = mem_io(mid.buf, mid.len);                 /* two images fit */
    CU_ASSERT_EQUAL(qed_open(io, &o, &img), QED_OK);
    qed_close(img);
    qed_io_close(io);
    lim.max_chain_table_bytes = 6 * CS;
    io = mem_io(top.buf, top.len);
    CU_ASSERT_EQUAL(qed_open(io, &o, &img), QED_OK);
    qed_close(img);
    qed_io_close(io);
    lim.max_chain_table_bytes = 0;                 /* 0 reads as the default */
    io = mem_io(top.buf, top.len);
    CU_ASSERT_EQUAL(qed_open(io, &o, &img), QED_OK);
    qed_close(img);
    qed_io_close(io);
    raw_free(&top);
    raw_free(&mid);
    raw_free(&low);
    memfs_free(&fs);
}

/* QED_BACKING_NONE: no backing file is opened; the name is there, a read
 * of an unallocated range fails, map reports it with no flag, an
 * allocated cluster reads. */
static void test_policy_none(void)
{
    counting c = { 0 };
    qed_open_opts o = { .open_backing = counting_open, .backing_ctx = &c,
                        .backing_policy = QED_BACKING_NONE };
    qed_image *img = NULL;
    qed_extent e;
    uint8_t b = 0;
    rawimg r;
    qed_io *io;

    raw_init(&r, CS, 1, IMG_SIZE);
    raw_set_backing(&r, "/etc/hostname", 1);
    raw_map(&r, 1, raw_add_cluster(&r, 0x77));
    io = mem_io(r.buf, r.len);
    CU_ASSERT_EQUAL_FATAL(qed_open(io, &o, &img), QED_OK);
    CU_ASSERT_EQUAL(c.calls, 0);
    CU_ASSERT_STRING_EQUAL(qed_backing_name(img), "/etc/hostname");
    CU_ASSERT_EQUAL(qed_read(img, 0, &b, 1), QED_ERR_BACKING);
    CU_ASSERT_EQUAL(qed_read(img, CS, &b, 1), QED_OK);
    CU_ASSERT_EQUAL(b, 0x77);
    CU_ASSERT_EQUAL(qed_map(img, 0, IMG_SIZE, &e), QED_OK);
    CU_ASSERT_EQUAL(e.flags, 0u);
    CU_ASSERT_EQUAL(e.length, CS);
    qed_close(img);
    qed_io_close(io);
    raw_free(&r);
}

/* A scratch tree for the confined opens:
 *   D/base.raw  D/sub/  D/etc -> /etc  D/b.qed (backing "../x")  x */
typedef struct tree {
    char top[64], dir[96], real[PATH_MAX];
} tree;

static void make_tree(tree *t)
{
    char p[160];
    uint8_t data[CS];

    strcpy(t->top, "/tmp/qed-unit-confined-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(t->top));
    snprintf(t->dir, sizeof(t->dir), "%s/D", t->top);
    CU_ASSERT_EQUAL_FATAL(mkdir(t->dir, 0700), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(t->dir, t->real));
    memset(data, 0x3c, sizeof(data));
    snprintf(p, sizeof(p), "%s/base.raw", t->dir);
    put_file(p, data, sizeof(data));
    snprintf(p, sizeof(p), "%s/sub", t->dir);
    CU_ASSERT_EQUAL(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/etc", t->dir);
    CU_ASSERT_EQUAL(symlink("/etc", p), 0);
    snprintf(p, sizeof(p), "%s/x", t->top);
    put_file(p, data, sizeof(data));
    snprintf(p, sizeof(p), "%s/b.qed", t->dir);
    put_image(p, "../x", 1);
}

static void remove_tree(tree *t)
{
    static const char *const names[] = { "D/base.raw", "D/etc", "D/b.qed",
                                         "x" };
    char p[160];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", t->top, names[i]);
        unlink(p);
    }
    snprintf(p, sizeof(p), "%s/D/sub", t->top);
    rmdir(p);
    rmdir(t->dir);
    rmdir(t->top);
}

/* Open a memory image naming name under CONFINED in t; the status, the
 * opener's calls in *calls and the last path it got in last. */
static int open_confined(const tree *t, const char *name, int raw,
                         int *calls, char *last)
{
    counting c = { 0 };
    qed_open_opts o = { .open_backing = counting_open, .backing_ctx = &c,
                        .backing_policy = QED_BACKING_CONFINED,
                        .backing_dir = t->dir, .path = "elsewhere/top.qed" };
    qed_image *img = NULL;
    rawimg r;
    qed_io *io;
    int rc;

    raw_init(&r, CS, 1, IMG_SIZE);
    raw_set_backing(&r, name, raw);
    io = mem_io(r.buf, r.len);
    rc = qed_open(io, &o, &img);
    qed_close(img);
    qed_io_close(io);
    raw_free(&r);
    *calls = c.calls;
    strcpy(last, c.last);
    return rc;
}

/* QED_BACKING_CONFINED: the top's name resolves in backing_dir (not next
 * to the image); absolute, escaping and linked-out names are refused
 * before anything is opened; a backing image's own escaping name too. */
static void test_policy_confined(void)
{
    char last[PATH_MAX], want[PATH_MAX + 16];
    int calls;
    tree t;

    make_tree(&t);
    CU_ASSERT_EQUAL(open_confined(&t, "base.raw", 1, &calls, last), QED_OK);
    snprintf(want, sizeof(want), "%s/base.raw", t.real);
    CU_ASSERT_STRING_EQUAL(last, want);
    CU_ASSERT_EQUAL(open_confined(&t, "sub/../base.raw", 1, &calls, last), QED_OK);
    CU_ASSERT_EQUAL(open_confined(&t, "/etc/hostname", 1, &calls, last),
                    QED_ERR_CONFINED);
    CU_ASSERT_EQUAL(calls, 0);
    CU_ASSERT_EQUAL(open_confined(&t, "../x", 1, &calls, last), QED_ERR_CONFINED);
    CU_ASSERT_EQUAL(calls, 0);
    CU_ASSERT_EQUAL(open_confined(&t, "sub/../../x", 1, &calls, last),
                    QED_ERR_CONFINED);
    CU_ASSERT_EQUAL(open_confined(&t, "etc/hostname", 1, &calls, last),
                    QED_ERR_CONFINED);          /* a link leads out */
    CU_ASSERT_EQUAL(calls, 0);
    CU_ASSERT_EQUAL(open_confined(&t, "missing.raw", 1, &calls, last),
                    QED_ERR_BACKING);
    CU_ASSERT_EQUAL(calls, 0);
    CU_ASSERT_EQUAL(open_confined(&t, "b.qed", 0, &calls, last),
                    QED_ERR_CONFINED);          /* b.qed names "../x" */
    CU_ASSERT_EQUAL(calls, 1);
    CU_ASSERT_STRING_EQUAL(qed_strerror(QED_ERR_CONFINED),
        "backing file name refused: absolute, or leads outside the backing directory");
    remove_tree(&t);
}

/* qed_header_limit, and qed_create refusing what qed_open refuses. */
static void test_create_open_limits(void)
{
    qed_create_opts co = { .image_size = 1u << 30, .cluster_size = 1u << 26,
                           .table_size = 16 };
    qed_header h = { .cluster_size = 1u << 26, .table_size = 16 };
    char name[QED_MAX_BACKING_NAME + 1];
    uint64_t v = 0;
    qed_io *io = NULL;

    CU_ASSERT_STRING_EQUAL(qed_header_limit(&h, NULL, &v), "max_table_bytes");
    CU_ASSERT_EQUAL(v, (uint64_t)64 << 20);
    h.table_size = 1;
    CU_ASSERT_PTR_NULL(qed_header_limit(&h, NULL, &v));
    h.features = QED_F_BACKING_FILE;
    h.backing_filename_size = QED_MAX_BACKING_NAME;
    CU_ASSERT_STRING_EQUAL(qed_header_limit(&h, NULL, &v), "QED_MAX_BACKING_NAME");
    CU_ASSERT_EQUAL_FATAL(qed_io_mem_new(NULL, 0, MEM_MAX, &io), QED_OK);
    CU_ASSERT_EQUAL(qed_create(io, &co), QED_ERR_LIMIT);
    memset(name, 'n', QED_MAX_BACKING_NAME);
    name[QED_MAX_BACKING_NAME] = '\0';
    co.cluster_size = CS;
    co.table_size = 1;
    co.backing_file = name;
    CU_ASSERT_EQUAL(qed_create(io, &co), QED_ERR_LIMIT);
    name[QED_MAX_BACKING_NAME - 1] = '\0';      /* 4095 bytes: fits */
    CU_ASSERT_EQUAL(qed_create(io, &co), QED_OK);
    qed_io_close(io);
}

/* qed_io_posix_identity: a POSIX io tells its file, others cannot.  The
 * file is one the test makes (not /proc/self/exe, which valgrind opens as
 * the client program but stats as itself). */
static void test_identity(void)
{
    uint64_t dev = 0, ino = 0;
    struct stat st;
    qed_io *io = NULL;
    char path[] = "/tmp/qed-identity.XXXXXX";
    int fd = mkstemp(path);

    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_open(path, QED_IO_NO_LOCK, &io), QED_OK);
    CU_ASSERT_EQUAL(qed_io_posix_identity(io, &dev, &ino), QED_OK);
    CU_ASSERT_EQUAL(dev, (uint64_t)st.st_dev);
    CU_ASSERT_EQUAL(ino, (uint64_t)st.st_ino);
    qed_io_close(io);
    unlink(path);
    io = mem_io("x", 1);
    CU_ASSERT_EQUAL(qed_io_posix_identity(io, &dev, &ino), QED_ERR_INVAL);
    qed_io_close(io);
}

int suite_untrusted(void)
{
    static const test_case cases[] = {
        { "untrusted: a loop is found by device and inode", test_loop_by_identity },
        { "untrusted: max_chain_table_bytes", test_chain_table_bound },
        { "untrusted: QED_BACKING_NONE", test_policy_none },
        { "untrusted: QED_BACKING_CONFINED", test_policy_confined },
        { "untrusted: create refuses what open refuses", test_create_open_limits },
        { "untrusted: qed_io_posix_identity", test_identity },
    };
    return ADD_SUITE("untrusted", cases);
}
