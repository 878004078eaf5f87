/*
 * test_cover_api.c - libqed's API edge paths (ref/qed.c) that the
 * behaviour suites do not reach: bad arguments, statuses out of range,
 * read-only images, QED_OPEN_NO_BACKING, QED_OPEN_NO_CHECK, qed_set_backing
 * and qed_resize refusals and I/O failures, backing names at the length
 * limit, and a file whose length leaves no room to allocate.
 */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

int suite_cover_api(void);

enum { CS = 4096 };            /* cluster size of the test images */

/* A 1 MiB image with 4 KiB clusters and 1-cluster tables, opened with
 * flags; *io receives the file.  CU-asserts success. */
static qed_image *small_image(unsigned flags, qed_io **io)
{
    qed_image *img = NULL;

    *io = create_mem(1 << 20, CS, 1, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(*io);
    CU_ASSERT_EQUAL_FATAL(open_img(*io, flags, NULL, &img), QED_OK);
    return img;
}

/* 1 when the memory file io holds exactly len bytes equal to want. */
static int io_equals(qed_io *io, const uint8_t *want, size_t len)
{
    size_t have = 0;
    uint8_t *now = io_bytes(io, &have);
    int same = have == len && memcmp(now, want, len) == 0;

    free(now);
    return same;
}

/* ------------------------------------------------------------------ */
/* Statuses and arguments                                             */
/* ------------------------------------------------------------------ */

/* Statuses outside both ranges have a text and no rule. */
static void test_status_range(void)
{
    CU_ASSERT_STRING_EQUAL(qed_strerror(QED_E_LAST + 1), "unknown error");
    CU_ASSERT_STRING_EQUAL(qed_strerror(-1000), "unknown error");
    CU_ASSERT_STRING_EQUAL(qed_rule_id(QED_E_LAST + 1), "");
    CU_ASSERT_STRING_EQUAL(qed_rule_id(QED_ERR_IO), "");
    CU_ASSERT_STRING_EQUAL(qed_rule_id(QED_OK), "");
    CU_ASSERT_STRING_EQUAL(qed_rule_id(QED_E_SHRINK), "WR-9");
    CU_ASSERT_EQUAL(qed_probe("QED", 3), 0);
    CU_ASSERT_EQUAL(qed_probe("QED\0", 4), 1);
}

/* NULL io, out or opts are refused before anything is touched. */
static void test_null_arguments(void)
{
    qed_create_opts co = { .image_size = 1 << 20 };
    qed_io *io = mem_io(NULL, 0);
    qed_image *img = NULL;

    CU_ASSERT_EQUAL(qed_open(NULL, NULL, &img), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_open(io, NULL, NULL), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_create(NULL, &co), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_create(io, NULL), QED_ERR_INVAL);
    uint64_t len = 1;
    CU_ASSERT_EQUAL(io->length(io, &len), QED_OK);
    CU_ASSERT_EQUAL(len, 0);
    CU_ASSERT_EQUAL(qed_close(NULL), QED_OK);
    /* opts NULL: read-only with default limits */
    CU_ASSERT_EQUAL_FATAL(qed_create(io, &co), QED_OK);
    CU_ASSERT_EQUAL_FATAL(qed_open(io, NULL, &img), QED_OK);
    CU_ASSERT_EQUAL(qed_write(img, 0, "x", 1), QED_ERR_RDONLY);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    qed_io_close(io);
}

/* Requests outside the virtual disk (XLT-3) and empty map requests. */
static void test_request_ranges(void)
{
    qed_io *io;
    qed_image *img = small_image(QED_OPEN_RDWR, &io);
    qed_extent ext;
    uint8_t b[8];

    CU_ASSERT_EQUAL(qed_read(img, (1 << 20) - 4, b, 8), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_read(img, UINT64_MAX, b, 1), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_write(img, 1 << 20, b, 1), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_write_zeroes(img, 0, (1 << 20) + 1), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_map(img, 1 << 20, 1, &ext), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_map(img, 0, 0, &ext), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_read(img, 1 << 20, b, 0), QED_OK);
    CU_ASSERT_EQUAL(qed_write(img, 1 << 20, b, 0), QED_OK);
    CU_ASSERT_EQUAL(qed_write_zeroes(img, 1 << 20, 0), QED_OK);
    /* a refused request leaves the image clean: close writes nothing */
    size_t len;
    uint8_t *before = io_bytes(io, &len);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    CU_ASSERT(io_equals(io, before, len));
    free(before);
    qed_io_close(io);
}

/* Every mutating call on a read-only image is QED_ERR_RDONLY and the file
 * is not touched. */
static void test_read_only(void)
{
    qed_io *io;
    qed_image *img = small_image(0, &io);
    size_t len;
    uint8_t *before = io_bytes(io, &len);

    CU_ASSERT_EQUAL(qed_write(img, 0, "x", 1), QED_ERR_RDONLY);
    CU_ASSERT_EQUAL(qed_write_zeroes(img, 0, CS), QED_ERR_RDONLY);
    CU_ASSERT_EQUAL(qed_set_backing(img, "b.raw", "raw"), QED_ERR_RDONLY);
    CU_ASSERT_EQUAL(qed_resize(img, 2 << 20), QED_ERR_RDONLY);
    CU_ASSERT_EQUAL(qed_flush(img), QED_OK);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    CU_ASSERT(io_equals(io, before, len));
    free(before);
    qed_io_close(io);
}

/* ------------------------------------------------------------------ */
/* Backing names                                                      */
/* ------------------------------------------------------------------ */

/* qed_create: an empty name is HDR-12, a name of 4096 bytes or more is a
 * limit; 4095 bytes takes a second header cluster and opens. */
static void test_create_backing_names(void)
{
    char *name = malloc(4097);
    qed_io *io = mem_io(NULL, 0);
    qed_image *img = NULL;
    qed_create_opts co = { .image_size = 1 << 20, .cluster_size = CS,
                           .table_size = 1, .backing_file = "" };

    CU_ASSERT_PTR_NOT_NULL_FATAL(name);
    CU_ASSERT_EQUAL(qed_create(io, &co), QED_E_BACKING_EMPTY);
    memset(name, 'n', 4096);
    name[4096] = '\0';
    co.backing_file = name;
    CU_ASSERT_EQUAL(qed_create(io, &co), QED_ERR_LIMIT);
    name[4095] = '\0';
    CU_ASSERT_EQUAL_FATAL(qed_create(io, &co), QED_OK);
    CU_ASSERT_EQUAL_FATAL(open_img(io, QED_OPEN_NO_BACKING, NULL, &img), QED_OK);
    CU_ASSERT_EQUAL(qed_get_header(img)->header_size, 2);
    CU_ASSERT_EQUAL(qed_get_header(img)->backing_filename_size, 4095);
    CU_ASSERT_EQUAL(strlen(qed_backing_name(img)), 4095);
    CU_ASSERT_STRING_EQUAL(qed_backing_format(img), "qed");
    qed_close(img);
    qed_io_close(io);
    free(name);
}

/* A hand-built header naming a 5000-byte backing file inside two header
 * clusters passes HDR-11 but is refused as a limit at open. */
static void test_open_long_backing_name(void)
{
    rawimg r;
    qed_image *img = NULL;

    raw_init(&r, CS, 1, 1 << 20);
    uint64_t l1 = raw_add_table(&r);             /* at 8192: after 2 clusters */
    raw_put32(&r, HOFF_HSIZE, 2);
    raw_put64(&r, HOFF_L1, l1);
    memset(r.buf + 64, 'b', 5000);
    raw_put64(&r, HOFF_FEATURES, QED_F_BACKING_FILE);
    raw_put32(&r, HOFF_BOFF, 64);
    raw_put32(&r, HOFF_BSIZE, 5000);
    qed_io *io = mem_io(r.buf, r.len);
    CU_ASSERT_EQUAL(open_img(io, QED_OPEN_NO_BACKING, NULL, &img), QED_ERR_LIMIT);
    CU_ASSERT_PTR_NULL(img);
    raw_put32(&r, HOFF_BSIZE, 4000);             /* under the limit: opens */
    qed_io_close(io);
    io = mem_io(r.buf, r.len);
    CU_ASSERT_EQUAL(open_img(io, QED_OPEN_NO_BACKING, NULL, &img), QED_OK);
    qed_close(img);
    qed_io_close(io);
    raw_free(&r);
}

/* QED_OPEN_NO_BACKING: the format is reported without opening the file
 * ("raw" with NO_PROBE, else the default "qed"); whole-cluster writes and
 * reads of them work; unallocated reads and partial-cluster writes that
 * need backing data fail with QED_ERR_BACKING, and such a failed write
 * fails the session (later writes QED_ERR_FAILED, NEED_CHECK kept). */
static void test_no_backing(void)
{
    const char *const fmts[] = { "raw", NULL };
    uint8_t buf[CS], back[CS];

    for (int i = 0; i < 2; i++) {
        qed_io *io = create_mem(1 << 20, CS, 1, "base.img", fmts[i]);
        qed_image *img = NULL;
        CU_ASSERT_PTR_NOT_NULL_FATAL(io);
        CU_ASSERT_EQUAL_FATAL(open_img(io, QED_OPEN_RDWR | QED_OPEN_NO_BACKING,
                                       NULL, &img), QED_OK);
        CU_ASSERT_STRING_EQUAL(qed_backing_name(img), "base.img");
        CU_ASSERT_STRING_EQUAL(qed_backing_format(img), i == 0 ? "raw" : "qed");
        CU_ASSERT_EQUAL(qed_read(img, 0, buf, 16), QED_ERR_BACKING);
        memset(buf, 0x6b, sizeof(buf));
        CU_ASSERT_EQUAL(qed_write(img, CS, buf, CS), QED_OK);
        CU_ASSERT_EQUAL(qed_read(img, CS, back, CS), QED_OK);
        CU_ASSERT_EQUAL(memcmp(buf, back, CS), 0);
        CU_ASSERT_EQUAL(qed_write_zeroes(img, 2 * CS, CS), QED_OK);
        CU_ASSERT_EQUAL(qed_read(img, 2 * CS, back, CS), QED_OK);
        CU_ASSERT(all_zero(back, CS));
        /* a partial write into a new cluster needs the backing file's
         * bytes: refused before anything is written, the session usable */
        CU_ASSERT_EQUAL(qed_write(img, 10, "abc", 3), QED_ERR_BACKING);
        CU_ASSERT_EQUAL(qed_write(img, 3 * CS, buf, CS), QED_OK);
        CU_ASSERT_EQUAL(qed_read(img, 3 * CS, back, CS), QED_OK);
        CU_ASSERT_EQUAL(memcmp(buf, back, CS), 0);
        /* the refusal left nothing to check: a clean close clears NEED_CHECK */
        CU_ASSERT_EQUAL(qed_close(img), QED_OK);
        CU_ASSERT_EQUAL_FATAL(open_img(io, QED_OPEN_NO_BACKING, NULL, &img), QED_OK);
        CU_ASSERT_EQUAL(qed_get_header(img)->features & QED_F_NEED_CHECK, 0);
        qed_close(img);
        qed_io_close(io);
    }
}

/* ------------------------------------------------------------------ */
/* qed_set_backing                                                    */
/* ------------------------------------------------------------------ */

/* Refusals: HDR-12 empty name, a name longer than the header clusters
 * hold; the image is unchanged after each. */
static void test_set_backing_refused(void)
{
    qed_io *io;
    qed_image *img = small_image(QED_OPEN_RDWR, &io);
    char name[CS];

    CU_ASSERT_EQUAL(qed_set_backing(img, "", "raw"), QED_E_BACKING_EMPTY);
    memset(name, 'x', CS - 63);
    name[CS - 63] = '\0';                        /* 64 + 4033 > 4096 */
    CU_ASSERT_EQUAL(qed_set_backing(img, name, NULL), QED_ERR_LIMIT);
    CU_ASSERT_PTR_NULL(qed_backing_name(img));
    name[CS - 64] = '\0';                        /* exactly fills cluster 0 */
    CU_ASSERT_EQUAL(qed_set_backing(img, name, NULL), QED_OK);
    CU_ASSERT_EQUAL(strlen(qed_backing_name(img)), CS - 64);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    qed_io_close(io);
}

/* Format handling: raw sets NO_PROBE, qed and NULL do not; NULL name
 * removes the backing file and both feature bits; after a rebase an
 * unallocated read needs the (not yet opened) new backing file. */
static void test_set_backing_formats(void)
{
    qed_io *io;
    qed_image *img = small_image(QED_OPEN_RDWR, &io);
    uint8_t b[4];

    CU_ASSERT_EQUAL(qed_set_backing(img, "a.raw", "raw"), QED_OK);
    CU_ASSERT_EQUAL(qed_get_header(img)->features,
                    QED_F_BACKING_FILE | QED_F_BACKING_FORMAT_NO_PROBE);
    CU_ASSERT_STRING_EQUAL(qed_backing_format(img), "raw");
    CU_ASSERT_EQUAL(qed_read(img, 0, b, 4), QED_ERR_BACKING);
    CU_ASSERT_EQUAL(qed_set_backing(img, "b.qed", "qed"), QED_OK);
    CU_ASSERT_EQUAL(qed_get_header(img)->features, QED_F_BACKING_FILE);
    CU_ASSERT_STRING_EQUAL(qed_backing_format(img), "qed");
    CU_ASSERT_EQUAL(qed_set_backing(img, "c", NULL), QED_OK);
    CU_ASSERT_EQUAL(qed_get_header(img)->features, QED_F_BACKING_FILE);
    CU_ASSERT_EQUAL(qed_get_header(img)->backing_filename_size, 1);
    CU_ASSERT_EQUAL(qed_set_backing(img, NULL, "raw"), QED_OK);
    CU_ASSERT_EQUAL(qed_get_header(img)->features, 0);
    CU_ASSERT_EQUAL(qed_get_header(img)->backing_filename_offset, 0);
    CU_ASSERT_PTR_NULL(qed_backing_name(img));
    CU_ASSERT_PTR_NULL(qed_backing_format(img));
    CU_ASSERT_EQUAL(qed_read(img, 0, b, 4), QED_OK);
    CU_ASSERT(all_zero(b, 4));
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    qed_io_close(io);
}

/* A failed header write or flush leaves the image's name as it was. */
static void test_set_backing_io_fails(void)
{
    /* calls after open: 1 write of header+name, 2 flush */
    for (uint64_t at = 1; at <= 2; at++) {
        qed_io *file = create_mem(1 << 20, CS, 1, NULL, NULL), *io = NULL;
        qed_image *img = NULL;
        CU_ASSERT_PTR_NOT_NULL_FATAL(file);
        CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(file, 0, QED_ERR_IO, 0, &io), QED_OK);
        CU_ASSERT_EQUAL_FATAL(open_img(io, QED_OPEN_RDWR, NULL, &img), QED_OK);
        qed_io *counted = NULL;
        uint64_t base = qed_io_fault_calls(io);
        qed_close(img);
        qed_io_close(io);
        /* reopen with the failure placed at call base + at */
        file = create_mem(1 << 20, CS, 1, NULL, NULL);
        CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(file, base + at, QED_ERR_IO, 0, &counted), QED_OK);
        CU_ASSERT_EQUAL_FATAL(open_img(counted, QED_OPEN_RDWR, NULL, &img), QED_OK);
        CU_ASSERT_EQUAL(qed_set_backing(img, "new.raw", "raw"), QED_ERR_IO);
        CU_ASSERT_PTR_NULL(qed_backing_name(img));
        CU_ASSERT_EQUAL(qed_get_header(img)->features, 0);
        qed_close(img);
        qed_io_close(counted);
    }
}

/* ------------------------------------------------------------------ */
/* qed_resize                                                         */
/* ------------------------------------------------------------------ */

/* Same size is a no-op that writes nothing; unaligned, too large and
 * smaller sizes are refused with their rules. */
static void test_resize_edges(void)
{
    qed_io *io;
    qed_image *img = small_image(QED_OPEN_RDWR, &io);
    size_t len;
    uint8_t *before = io_bytes(io, &len);
    uint64_t max = qed_max_image_size(CS, 1);

    CU_ASSERT_EQUAL(qed_resize(img, 1 << 20), QED_OK);
    CU_ASSERT(io_equals(io, before, len));
    CU_ASSERT_EQUAL(qed_resize(img, (1 << 20) + 1), QED_E_IMAGE_SIZE_ALIGN);
    CU_ASSERT_EQUAL(qed_resize(img, max + 512), QED_E_IMAGE_SIZE_MAX);
    CU_ASSERT_EQUAL(qed_resize(img, (1 << 20) - 512), QED_E_SHRINK);
    CU_ASSERT_EQUAL(qed_get_header(img)->image_size, 1 << 20);
    CU_ASSERT_EQUAL(qed_resize(img, max), QED_OK);
    CU_ASSERT_EQUAL(qed_get_header(img)->image_size, max);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    free(before);
    qed_io_close(io);
}

/* A failed header write leaves the size as it was. */
static void test_resize_io_fails(void)
{
    qed_io *file = create_mem(1 << 20, CS, 1, NULL, NULL), *io = NULL;
    qed_image *img = NULL;

    CU_ASSERT_PTR_NOT_NULL_FATAL(file);
    CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(file, 0, QED_ERR_NOSPC, 1, &io), QED_OK);
    CU_ASSERT_EQUAL_FATAL(open_img(io, QED_OPEN_RDWR, NULL, &img), QED_OK);
    qed_close(img);
    uint64_t base = qed_io_fault_calls(io);
    qed_io_close(io);
    file = create_mem(1 << 20, CS, 1, NULL, NULL);
    CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(file, base + 1, QED_ERR_NOSPC, 1, &io), QED_OK);
    CU_ASSERT_EQUAL_FATAL(open_img(io, QED_OPEN_RDWR, NULL, &img), QED_OK);
    CU_ASSERT_EQUAL(qed_resize(img, 2 << 20), QED_ERR_NOSPC);
    CU_ASSERT_EQUAL(qed_get_header(img)->image_size, 1 << 20);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);     /* nothing to flush */
    qed_io_close(io);
}

/* ------------------------------------------------------------------ */
/* Open flags and file length                                         */
/* ------------------------------------------------------------------ */

/* QED_OPEN_NO_CHECK: a NEED_CHECK image opens read-write without WR-5;
 * the bit stays set (the caller repairs) even after writes and close. */
static void test_open_no_check(void)
{
    qed_io *io;
    qed_image *img = small_image(QED_OPEN_RDWR, &io);

    CU_ASSERT_EQUAL(qed_write(img, 0, "dirty", 5), QED_OK);
    size_t len;
    uint8_t *dirty = io_bytes(io, &len);        /* as if the host crashed */
    qed_close(img);
    qed_io_close(io);
    io = mem_io(dirty, len);
    free(dirty);
    CU_ASSERT_EQUAL_FATAL(open_img(io, QED_OPEN_RDWR | QED_OPEN_NO_CHECK, NULL, &img), QED_OK);
    CU_ASSERT_EQUAL(qed_get_header(img)->features, QED_F_NEED_CHECK);
    CU_ASSERT_EQUAL(qed_write(img, CS, "more", 4), QED_OK);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    CU_ASSERT_EQUAL_FATAL(open_img(io, 0, NULL, &img), QED_OK);
    CU_ASSERT_EQUAL(qed_get_header(img)->features, QED_F_NEED_CHECK);
    uint8_t b[5];
    CU_ASSERT_EQUAL(qed_read(img, 0, b, 5), QED_OK);
    CU_ASSERT_EQUAL(memcmp(b, "dirty", 5), 0);
    qed_close(img);
    qed_io_close(io);
}

/* A qed_io whose length is a lie: the file claims to end just below
 * 2^64, so there is no cluster boundary left to allocate at (WR-6). */
typedef struct huge_io {
    qed_io io;
    qed_io *inner;
} huge_io;

static int huge_read(qed_io *io, uint64_t off, void *buf, size_t len)
{
    qed_io *in = ((huge_io *)io)->inner;
    return in->read(in, off, buf, len);
}

static int huge_write(qed_io *io, uint64_t off, const void *buf, size_t len)
{
    qed_io *in = ((huge_io *)io)->inner;
    return in->write(in, off, buf, len);
}

static int huge_flush(qed_io *io)
{
    qed_io *in = ((huge_io *)io)->inner;
    return in->flush(in);
}

static int huge_length(qed_io *io, uint64_t *len)
{
    (void)io;
    *len = UINT64_MAX - 100;
    return QED_OK;
}

static int huge_truncate(qed_io *io, uint64_t len)
{
    qed_io *in = ((huge_io *)io)->inner;
    return in->truncate(in, len);
}

static void huge_close(qed_io *io)
{
    qed_io_close(((huge_io *)io)->inner);
    free(io);
}

/* A fresh image behind a huge_io, opened read-write. */
static qed_image *open_huge(huge_io **out)
{
    huge_io *h = calloc(1, sizeof(*h));
    qed_image *img = NULL;

    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    h->io = (qed_io){ huge_read, huge_write, huge_flush, huge_length,
                      huge_truncate, huge_close };
    h->inner = create_mem(1 << 20, CS, 1, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h->inner);
    CU_ASSERT_EQUAL_FATAL(open_img(&h->io, QED_OPEN_RDWR, NULL, &img), QED_OK);
    *out = h;
    return img;
}

/* Allocating past the end of such a file is QED_ERR_NOSPC, not a wrap,
 * for a data cluster and for a new L2 table; the failed write fails the
 * session (QED_ERR_FAILED after it). */
static void test_alloc_overflow(void)
{
    huge_io *h;
    qed_image *img = open_huge(&h);

    CU_ASSERT_EQUAL(qed_write(img, 0, "x", 1), QED_ERR_NOSPC);
    CU_ASSERT_EQUAL(qed_write_zeroes(img, 0, CS), QED_ERR_FAILED);
    qed_close(img);
    qed_io_close(&h->io);
    img = open_huge(&h);
    CU_ASSERT_EQUAL(qed_write_zeroes(img, 0, CS), QED_ERR_NOSPC);
    qed_close(img);
    qed_io_close(&h->io);
}

/* A backing-file opener whose file fails its first call (the length
 * probe, BACK-2); ctx counts the opens. */
static int failing_backing(void *ctx, const char *path, qed_io **out)
{
    (void)path;
    ++*(int *)ctx;
    return qed_io_fault_new(mem_io("raw", 3), 1, QED_ERR_IO, 0, out);
}

/* Opening the backing chain: a backing file whose length cannot be read
 * fails the open with that error; a resolved path longer than libqed's
 * buffer (BACK-1) is a limit and the opener is never called. */
static void test_backing_open_errors(void)
{
    const char *const fmts[] = { "raw", NULL };
    int opens = 0;
    qed_open_opts o = { .open_backing = failing_backing, .backing_ctx = &opens };
    qed_image *img = NULL;

    for (int i = 0; i < 2; i++) {
        qed_io *io = create_mem(1 << 20, CS, 1, "base.raw", fmts[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(io);
        CU_ASSERT_EQUAL(qed_open(io, &o, &img), QED_ERR_IO);
        CU_ASSERT_PTR_NULL(img);
        qed_io_close(io);
    }
    CU_ASSERT_EQUAL(opens, 2);

    char *name = malloc(3001), *path = malloc(6001);
    CU_ASSERT_PTR_NOT_NULL_FATAL(name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    memset(name, 'b', 3000);
    name[3000] = '\0';
    memset(path, 'd', 6000);
    path[5999] = 'f';
    path[5998] = '/';
    path[6000] = '\0';
    qed_io *io = create_mem(1 << 20, 2 * CS, 1, name, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(io);
    o.path = path;
    CU_ASSERT_EQUAL(qed_open(io, &o, &img), QED_ERR_LIMIT);
    CU_ASSERT_EQUAL(opens, 2);
    qed_io_close(io);
    free(name);
    free(path);
}

int suite_cover_api(void)
{
    static const test_case cases[] = {
        { "statuses out of range", test_status_range },
        { "NULL arguments", test_null_arguments },
        { "requests outside the disk (XLT-3)", test_request_ranges },
        { "read-only image refuses changes", test_read_only },
        { "create: backing name length limits", test_create_backing_names },
        { "open: backing name over the limit", test_open_long_backing_name },
        { "QED_OPEN_NO_BACKING", test_no_backing },
        { "set_backing refusals", test_set_backing_refused },
        { "set_backing formats and removal", test_set_backing_formats },
        { "set_backing I/O failures", test_set_backing_io_fails },
        { "resize edges", test_resize_edges },
        { "resize I/O failure", test_resize_io_fails },
        { "QED_OPEN_NO_CHECK keeps NEED_CHECK", test_open_no_check },
        { "allocation at the end of a 2^64 file", test_alloc_overflow },
        { "backing open: length failure, path too long", test_backing_open_errors },
    };
    return ADD_SUITE("cover_api", cases);
}
