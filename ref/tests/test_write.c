/*
 * test_write.c - the write path against a flat model: random writes,
 * write-zeroes and reads with fixed seeds over several geometries, then
 * reopen, compare and check.  Also COW (WR-7), write-zeroes (WR-8),
 * allocation placement (WR-6), growth (WR-9) and read-only refusal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

/* A flat model of the virtual disk next to the image under test. */
typedef struct model {
    qed_io *io;
    qed_image *img;
    memfs fs;
    uint8_t *flat;
    uint64_t size;
    uint32_t cluster;
} model;

/* Fresh image of the geometry; with backing_len > 0 a raw backing file
 * "b.raw" of that many pattern bytes (seed 99) seeds the model. */
static int model_init(model *m, uint64_t size, uint32_t cs, uint32_t ts,
                      size_t backing_len)
{
    memset(m, 0, sizeof(*m));
    m->size = size;
    m->cluster = cs ? cs : QED_DEFAULT_CLUSTER_SIZE;
    m->flat = calloc(size, 1);
    if (backing_len) {
        uint8_t *b = malloc(backing_len);
        fill_pattern(b, backing_len, 99);
        memfs_add(&m->fs, "b.raw", b, backing_len);
        memcpy(m->flat, b, backing_len < size ? backing_len : size);
        free(b);
    }
    m->io = create_mem(size, cs, ts, backing_len ? "b.raw" : NULL,
                       backing_len ? "raw" : NULL);
    if (!m->io)
        return -1;
    return open_img(m->io, QED_OPEN_RDWR, &m->fs, &m->img);
}

static void model_free(model *m)
{
    if (m->img)
        CU_ASSERT_EQUAL(qed_close(m->img), QED_OK);
    qed_io_close(m->io);
    memfs_free(&m->fs);
    free(m->flat);
}

/* Compare the whole virtual disk with the model; returns 1 when equal. */
static int model_matches(model *m)
{
    size_t chunk = 1u << 20;
    uint8_t *buf = malloc(chunk);
    int same = 1;
    for (uint64_t off = 0; off < m->size && same; off += chunk) {
        size_t n = (size_t)(m->size - off < chunk ? m->size - off : chunk);
        if (qed_read(m->img, off, buf, n) != QED_OK || memcmp(buf, m->flat + off, n)) {
            printf("\n    mismatch in [%llu, +%zu) ", (unsigned long long)off, n);
            same = 0;
        }
    }
    free(buf);
    return same;
}

/* A random request: aligned whole clusters half the time. */
static void random_extent(model *m, uint64_t *rng, uint64_t *off, uint64_t *len)
{
    uint64_t r = rng_next(rng);
    if (r & 1) {
        uint64_t nclusters = m->size / m->cluster;
        uint64_t first = rng_next(rng) % nclusters;
        uint64_t n = 1 + rng_next(rng) % 3;
        if (first + n > nclusters)
            n = nclusters - first;
        *off = first * m->cluster;
        *len = n * m->cluster;
    } else {
        *off = rng_next(rng) % m->size;
        uint64_t max = m->size - *off;
        *len = 1 + rng_next(rng) % (max < 3 * m->cluster ? max : 3 * m->cluster);
    }
}

/* Run ops random operations; every qed_* call must succeed. */
static void model_run(model *m, uint64_t seed, int ops)
{
    uint64_t rng = seed;
    uint8_t *buf = malloc(4 * m->cluster);
    for (int i = 0; i < ops; i++) {
        uint64_t off, len, kind = rng_next(&rng) % 4;
        random_extent(m, &rng, &off, &len);
        if (kind <= 1) {
            fill_pattern(buf, len, seed * 1000 + i);
            CU_ASSERT_EQUAL(qed_write(m->img, off, buf, len), QED_OK);
            memcpy(m->flat + off, buf, len);
        } else if (kind == 2) {
            CU_ASSERT_EQUAL(qed_write_zeroes(m->img, off, len), QED_OK);
            memset(m->flat + off, 0, len);
        } else {
            CU_ASSERT_EQUAL(qed_read(m->img, off, buf, len), QED_OK);
            CU_ASSERT_EQUAL(memcmp(buf, m->flat + off, len), 0);
        }
    }
    free(buf);
}

/* Close, reopen read-write, compare, and check: 0 corruptions, 0 leaks. */
static void model_reopen_and_check(model *m)
{
    CU_ASSERT_EQUAL(qed_close(m->img), QED_OK);
    m->img = NULL;
    size_t len;
    uint8_t *bytes = io_bytes(m->io, &len);
    CU_ASSERT_EQUAL(get_le64(bytes + HOFF_FEATURES) & QED_F_NEED_CHECK, 0); /* WR-4 */
    free(bytes);
    CU_ASSERT_EQUAL_FATAL(open_img(m->io, QED_OPEN_RDWR, &m->fs, &m->img), QED_OK);
    CU_ASSERT(model_matches(m));
    qed_check_result res;
    CU_ASSERT_EQUAL(qed_check(m->img, QED_REPAIR_NONE, &res), QED_OK);
    CU_ASSERT_EQUAL(res.corruptions, 0);
    CU_ASSERT_EQUAL(res.leaks, 0);
    CU_ASSERT_EQUAL(res.check_errors, 0);
    CU_ASSERT_EQUAL(res.total_clusters, (m->size + m->cluster - 1) / m->cluster);
    CU_ASSERT_EQUAL(res.image_end_offset, len);
}

/* One geometry: 300 random ops, compare, reopen, compare, check. */
static void model_geometry(uint64_t size, uint32_t cs, uint32_t ts,
                           size_t backing_len, uint64_t seed)
{
    model m;
    CU_ASSERT_EQUAL_FATAL(model_init(&m, size, cs, ts, backing_len), QED_OK);
    model_run(&m, seed, 300);
    CU_ASSERT(model_matches(&m));
    model_reopen_and_check(&m);
    model_run(&m, seed + 1, 100);
    model_reopen_and_check(&m);
    model_free(&m);
}

static void test_model_4k_table1(void)
{
    /* 512 entries per table: 2 MiB per L2 table, 4 L2 tables */
    model_geometry(8u << 20, 4096, 1, 0, 1);
}

static void test_model_4k_table1_odd_size(void)
{
    model_geometry((6u << 20) + 512 * 3, 4096, 1, 0, 2);
}

static void test_model_64k_default(void)
{
    model_geometry(16u << 20, 0, 0, 0, 3);
}

static void test_model_8k_table2_backing(void)
{
    /* backing shorter than the image (BACK-3) */
    model_geometry(12u << 20, 8192, 2, (5u << 20) + 777, 4);
}

static void test_model_4k_table1_backing(void)
{
    model_geometry(4u << 20, 4096, 1, 4u << 20, 5);
}

/* Open a fresh image of geometry cs/table 1 read-write. */
static qed_image *fresh(qed_io **io, uint64_t size, uint32_t cs, memfs *fs,
                        const char *backing)
{
    qed_image *img = NULL;
    *io = create_mem(size, cs, 1, backing, backing ? "raw" : NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(*io);
    CU_ASSERT_EQUAL(open_img(*io, QED_OPEN_RDWR, fs, &img), QED_OK);
    return img;
}

static uint64_t io_len(qed_io *io)
{
    uint64_t len = 0;
    CU_ASSERT_EQUAL(io->length(io, &len), QED_OK);
    return len;
}

/* WR-6: new clusters go at the end; an L2 table and a data cluster for the
 * first write, one more data cluster for the next, none for a rewrite. */
static void test_wr6_append(void)
{
    qed_io *io;
    qed_image *img = fresh(&io, 8u << 20, 4096, NULL, NULL);
    CU_ASSERT_EQUAL(io_len(io), 2 * 4096);
    uint8_t buf[4096];
    memset(buf, 0xa1, sizeof(buf));
    CU_ASSERT_EQUAL(qed_write(img, 4096 * 3 + 10, buf, 100), QED_OK);
    CU_ASSERT_EQUAL(io_len(io), 4 * 4096);
    qed_extent e;
    CU_ASSERT_EQUAL(qed_map(img, 4096 * 3, 4096, &e), QED_OK);
    CU_ASSERT(e.offset == 2 * 4096 || e.offset == 3 * 4096);
    CU_ASSERT_EQUAL(qed_write(img, 4096 * 9, buf, 4096), QED_OK);
    CU_ASSERT_EQUAL(io_len(io), 5 * 4096);
    CU_ASSERT_EQUAL(qed_map(img, 4096 * 9, 4096, &e), QED_OK);
    CU_ASSERT_EQUAL(e.offset, 4 * 4096);
    CU_ASSERT_EQUAL(qed_write(img, 4096 * 9 + 1, buf, 4000), QED_OK);
    CU_ASSERT_EQUAL(io_len(io), 5 * 4096);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    /* a trailing partial cluster is skipped, not reused */
    uint8_t junk[100] = {0};
    CU_ASSERT_EQUAL(io->write(io, 5 * 4096, junk, sizeof(junk)), QED_OK);
    CU_ASSERT_EQUAL_FATAL(open_img(io, QED_OPEN_RDWR, NULL, &img), QED_OK);
    CU_ASSERT_EQUAL(qed_write(img, 4096 * 20, buf, 512), QED_OK);
    CU_ASSERT_EQUAL(qed_map(img, 4096 * 20, 4096, &e), QED_OK);
    CU_ASSERT_EQUAL(e.offset, 6 * 4096);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    qed_io_close(io);
}

/* WR-7: a partial write into an unallocated cluster fills the rest from the
 * backing file, and with no backing with zeroes. */
static void test_wr7_cow(void)
{
    memfs fs = {0};
    uint8_t back[3 * 4096 + 1000];
    fill_pattern(back, sizeof(back), 7);
    memfs_add(&fs, "b.raw", back, sizeof(back));
    qed_io *io;
    qed_image *img = fresh(&io, 1u << 20, 4096, &fs, "b.raw");
    uint8_t buf[4096], want[4096];
    memset(buf, 0xcc, 100);
    CU_ASSERT_EQUAL(qed_write(img, 4096 + 50, buf, 100), QED_OK);
    memcpy(want, back + 4096, 4096);
    memset(want + 50, 0xcc, 100);
    CU_ASSERT_EQUAL(qed_read(img, 4096, buf, 4096), QED_OK);
    CU_ASSERT_EQUAL(memcmp(buf, want, 4096), 0);
    /* the cluster straddling the end of the backing file: zero past it */
    memset(buf, 0xdd, 10);
    CU_ASSERT_EQUAL(qed_write(img, 3 * 4096, buf, 10), QED_OK);
    memset(want, 0, sizeof(want));
    memcpy(want, back + 3 * 4096, 1000);
    memset(want, 0xdd, 10);
    CU_ASSERT_EQUAL(qed_read(img, 3 * 4096, buf, 4096), QED_OK);
    CU_ASSERT_EQUAL(memcmp(buf, want, 4096), 0);
    /* the data cluster in the file holds exactly that (WR-7) */
    qed_extent e;
    CU_ASSERT_EQUAL(qed_map(img, 3 * 4096, 4096, &e), QED_OK);
    CU_ASSERT_EQUAL(e.flags, QED_MAP_PRESENT | QED_MAP_DATA);
    CU_ASSERT_EQUAL(io->read(io, e.offset, buf, 4096), QED_OK);
    CU_ASSERT_EQUAL(memcmp(buf, want, 4096), 0);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    qed_io_close(io);
    memfs_free(&fs);
}

/* Read the L2 entry for logical cluster lc straight from the file. */
static uint64_t file_l2_entry(qed_io *io, uint64_t lc, uint32_t cs)
{
    uint8_t b[8];
    uint64_t n = cs / 8;   /* table_size 1 */
    CU_ASSERT_EQUAL(io->read(io, cs + lc / n * 8, b, 8), QED_OK);
    uint64_t l2 = get_le64(b);
    if (l2 == 0)
        return 0;
    CU_ASSERT_EQUAL(io->read(io, l2 + lc % n * 8, b, 8), QED_OK);
    return get_le64(b);
}

/* WR-8 and ZERO-1 over a backing file: whole unallocated clusters become
 * zero clusters (no data cluster, backing hidden); allocated ones are
 * zeroed in place; partial clusters become data. */
static void test_wr8_write_zeroes(void)
{
    memfs fs = {0};
    uint8_t back[16 * 4096];
    memset(back, 0xbb, sizeof(back));
    memfs_add(&fs, "b.raw", back, sizeof(back));
    qed_io *io;
    qed_image *img = fresh(&io, 1u << 20, 4096, &fs, "b.raw");
    uint8_t buf[4096];
    memset(buf, 0x11, sizeof(buf));
    CU_ASSERT_EQUAL(qed_write(img, 4 * 4096, buf, 4096), QED_OK);
    uint64_t len_before = io_len(io);
    CU_ASSERT_EQUAL(qed_write_zeroes(img, 2 * 4096, 3 * 4096), QED_OK);
    CU_ASSERT_EQUAL(io_len(io), len_before);                 /* nothing allocated */
    CU_ASSERT_EQUAL(file_l2_entry(io, 2, 4096), QED_ZERO_CLUSTER);
    CU_ASSERT_EQUAL(file_l2_entry(io, 3, 4096), QED_ZERO_CLUSTER);
    qed_extent e;
    CU_ASSERT_EQUAL(qed_map(img, 4 * 4096, 4096, &e), QED_OK);
    CU_ASSERT(e.flags & QED_MAP_DATA);                        /* zeroed in place */
    CU_ASSERT_EQUAL(qed_map(img, 2 * 4096, 8192, &e), QED_OK);
    CU_ASSERT_EQUAL(e.length, 8192);
    CU_ASSERT_EQUAL(e.depth, 0);
    CU_ASSERT_EQUAL(e.flags, QED_MAP_PRESENT | QED_MAP_ZERO);
    for (uint64_t lc = 2; lc <= 4; lc++) {
        CU_ASSERT_EQUAL(qed_read(img, lc * 4096, buf, 4096), QED_OK);
        CU_ASSERT(all_zero(buf, 4096));
    }
    /* partial: the head of cluster 6 is zero, its tail still backing */
    CU_ASSERT_EQUAL(qed_write_zeroes(img, 6 * 4096, 1000), QED_OK);
    CU_ASSERT_EQUAL(qed_read(img, 6 * 4096, buf, 4096), QED_OK);
    CU_ASSERT(all_zero(buf, 1000));
    CU_ASSERT_EQUAL(buf[1000], 0xbb);
    CU_ASSERT_EQUAL(buf[4095], 0xbb);
    /* a partial write into a zero cluster: the rest stays zero, not backing */
    CU_ASSERT_EQUAL(qed_write(img, 2 * 4096 + 8, "xy", 2), QED_OK);
    CU_ASSERT_EQUAL(qed_read(img, 2 * 4096, buf, 4096), QED_OK);
    CU_ASSERT_EQUAL(buf[8], 'x');
    buf[8] = buf[9] = 0;
    CU_ASSERT(all_zero(buf, 4096));
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    qed_io_close(io);
    memfs_free(&fs);
}

/* WR-9: grow keeps data, new space reads zero, shrink and bad sizes fail. */
static void test_wr9_resize(void)
{
    qed_io *io;
    qed_image *img = fresh(&io, 1u << 20, 4096, NULL, NULL);
    uint8_t buf[4096];
    memset(buf, 0x42, sizeof(buf));
    CU_ASSERT_EQUAL(qed_write(img, (1u << 20) - 4096, buf, 4096), QED_OK);
    CU_ASSERT_EQUAL(qed_resize(img, 5u << 20), QED_OK);
    CU_ASSERT_EQUAL(qed_get_header(img)->image_size, 5u << 20);
    CU_ASSERT_EQUAL(qed_write(img, (5u << 20) - 4096, buf, 4096), QED_OK);
    CU_ASSERT_EQUAL(qed_read(img, 3u << 20, buf, 4096), QED_OK);
    CU_ASSERT(all_zero(buf, 4096));
    CU_ASSERT_EQUAL(qed_resize(img, 4u << 20), QED_E_SHRINK);
    CU_ASSERT_EQUAL(qed_resize(img, (6u << 20) + 1), QED_E_IMAGE_SIZE_ALIGN);
    CU_ASSERT_EQUAL(qed_resize(img, (1ull << 30) + 512), QED_E_IMAGE_SIZE_MAX);
    CU_ASSERT_EQUAL(qed_resize(img, 1ull << 30), QED_OK);    /* the exact max */
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    CU_ASSERT_EQUAL_FATAL(open_img(io, 0, NULL, &img), QED_OK);
    CU_ASSERT_EQUAL(qed_get_header(img)->image_size, 1ull << 30);
    CU_ASSERT_EQUAL(qed_read(img, (5u << 20) - 4096, buf, 4096), QED_OK);
    CU_ASSERT_EQUAL(buf[0], 0x42);
    CU_ASSERT_EQUAL(buf[4095], 0x42);
    CU_ASSERT_EQUAL(qed_read(img, (1u << 20) - 1, buf, 1), QED_OK);
    CU_ASSERT_EQUAL(buf[0], 0x42);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    qed_io_close(io);
}

/* Read-only images refuse every change and leave the file untouched. */
static void test_read_only(void)
{
    qed_io *io = create_mem(1u << 20, 4096, 1, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(io);
    size_t len0, len1;
    uint8_t *before = io_bytes(io, &len0);
    qed_image *img;
    CU_ASSERT_EQUAL_FATAL(open_img(io, 0, NULL, &img), QED_OK);
    uint8_t buf[512] = {1};
    CU_ASSERT_EQUAL(qed_write(img, 0, buf, 512), QED_ERR_RDONLY);
    CU_ASSERT_EQUAL(qed_write_zeroes(img, 0, 4096), QED_ERR_RDONLY);
    CU_ASSERT_EQUAL(qed_resize(img, 2u << 20), QED_ERR_RDONLY);
    CU_ASSERT_EQUAL(qed_set_backing(img, "x", "raw"), QED_ERR_RDONLY);
    qed_check_result res;
    CU_ASSERT_EQUAL(qed_check(img, QED_REPAIR_ALL, &res), QED_ERR_RDONLY);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    uint8_t *after = io_bytes(io, &len1);
    CU_ASSERT_EQUAL(len0, len1);
    CU_ASSERT_EQUAL(memcmp(before, after, len0), 0);
    free(before);
    free(after);
    qed_io_close(io);
}

/* XLT-3 on the write side, and a zero-length write is a no-op. */
static void test_write_bounds(void)
{
    qed_io *io;
    qed_image *img = fresh(&io, 1u << 20, 4096, NULL, NULL);
    uint8_t buf[1024] = {0};
    uint64_t len0 = io_len(io);
    CU_ASSERT_EQUAL(qed_write(img, (1u << 20) - 512, buf, 513), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_write(img, UINT64_MAX - 100, buf, 200), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_write_zeroes(img, 4096, UINT64_MAX - 1000), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_write(img, 0, buf, 0), QED_OK);
    CU_ASSERT_EQUAL(io_len(io), len0);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    qed_io_close(io);
}

/* qed_create writes what qemu-img does: header cluster, zeroed L1 right
 * after it, the backing name at byte 64, NO_PROBE for raw. */
static void test_create_layout(void)
{
    qed_io *io = create_mem(10u << 20, 0, 0, "base.raw", "raw");
    CU_ASSERT_PTR_NOT_NULL_FATAL(io);
    size_t len;
    uint8_t *b = io_bytes(io, &len);
    CU_ASSERT_EQUAL(len, 65536 * 5);
    CU_ASSERT_EQUAL(get_le32(b + HOFF_MAGIC), QED_MAGIC);
    CU_ASSERT_EQUAL(get_le32(b + HOFF_CLUSTER), QED_DEFAULT_CLUSTER_SIZE);
    CU_ASSERT_EQUAL(get_le32(b + HOFF_TABLE), QED_DEFAULT_TABLE_SIZE);
    CU_ASSERT_EQUAL(get_le32(b + HOFF_HSIZE), 1);
    CU_ASSERT_EQUAL(get_le64(b + HOFF_FEATURES), QED_F_BACKING_FILE | QED_F_BACKING_FORMAT_NO_PROBE);
    CU_ASSERT_EQUAL(get_le64(b + HOFF_L1), 65536);
    CU_ASSERT_EQUAL(get_le64(b + HOFF_ISIZE), 10u << 20);
    CU_ASSERT_EQUAL(get_le32(b + HOFF_BOFF), 64);
    CU_ASSERT_EQUAL(get_le32(b + HOFF_BSIZE), 8);
    CU_ASSERT_EQUAL(memcmp(b + 64, "base.raw", 8), 0);
    CU_ASSERT(all_zero(b + 65536, 4 * 65536));
    free(b);
    qed_io_close(io);
    /* bad geometry is refused with the header rule's status */
    qed_io *io2 = mem_io(NULL, 0);
    qed_create_opts o = { .image_size = 1000, .cluster_size = 4096, .table_size = 1 };
    CU_ASSERT_EQUAL(qed_create(io2, &o), QED_E_IMAGE_SIZE_ALIGN);
    o.image_size = 4096;
    o.cluster_size = 2048;
    CU_ASSERT_EQUAL(qed_create(io2, &o), QED_E_CLUSTER_SIZE);
    o.cluster_size = 4096;
    o.table_size = 3;
    CU_ASSERT_EQUAL(qed_create(io2, &o), QED_E_TABLE_SIZE);
    qed_io_close(io2);
}

/* ------------------------------------------------------------------ */
/* The session: a failed write or flush fails it for good              */
/* ------------------------------------------------------------------ */

/* NEED_CHECK as the file holds it. */
static int file_need_check(qed_io *io)
{
    size_t len;
    uint8_t *b = io_bytes(io, &len);
    int set = len >= 64 && (get_le64(b + HOFF_FEATURES) & QED_F_NEED_CHECK);
    free(b);
    return set;
}

/* Every change is refused with QED_ERR_FAILED, reads still work, and
 * close writes nothing: file (the mem io under the fault injector) keeps
 * its bytes. */
static void expect_failed_session(qed_image *img, qed_io *file)
{
    uint8_t buf[512] = { 7 };
    qed_check_result res;
    size_t len0, len1;

    CU_ASSERT_EQUAL(qed_write(img, 8 * 4096, buf, sizeof(buf)), QED_ERR_FAILED);
    CU_ASSERT_EQUAL(qed_write_zeroes(img, 8 * 4096, 4096), QED_ERR_FAILED);
    CU_ASSERT_EQUAL(qed_flush(img), QED_ERR_FAILED);
    CU_ASSERT_EQUAL(qed_resize(img, 2u << 20), QED_ERR_FAILED);
    CU_ASSERT_EQUAL(qed_set_backing(img, "b.raw", "raw"), QED_ERR_FAILED);
    CU_ASSERT_EQUAL(qed_check(img, QED_REPAIR_ALL, &res), QED_ERR_FAILED);
    CU_ASSERT_EQUAL(qed_read(img, 0, buf, sizeof(buf)), QED_OK);
    uint8_t *before = io_bytes(file, &len0);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    uint8_t *after = io_bytes(file, &len1);
    CU_ASSERT(len0 > 0 && len0 == len1 && memcmp(before, after, len0) == 0);
    free(before);
    free(after);
}

/* The number of I/O calls open + one allocating write make. */
static uint64_t calls_of_write(uint64_t *after_open)
{
    qed_io *file = create_mem(1u << 20, 4096, 1, NULL, NULL), *io = NULL;
    qed_image *img = NULL;
    uint8_t buf[512] = { 1 };
    CU_ASSERT_PTR_NOT_NULL_FATAL(file);
    CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(file, 0, QED_ERR_IO, 0, &io), QED_OK);
    CU_ASSERT_EQUAL_FATAL(open_img(io, QED_OPEN_RDWR, NULL, &img), QED_OK);
    *after_open = qed_io_fault_calls(io);
    CU_ASSERT_EQUAL(qed_write(img, 0, buf, sizeof(buf)), QED_OK);
    uint64_t n = qed_io_fault_calls(io);
    qed_close(img);
    qed_io_close(io);
    return n;
}

/* A failed flush (the device recovers at once) fails the session: the
 * allocating write before it set NEED_CHECK, which stays set on disk, and
 * a later write is refused instead of being acknowledged and its session
 * closed clean. */
static void test_failed_flush_fails_session(void)
{
    uint64_t open_calls, n = calls_of_write(&open_calls);
    qed_io *file = create_mem(1u << 20, 4096, 1, NULL, NULL), *io = NULL;
    qed_image *img = NULL;
    uint8_t buf[512] = { 1 };

    (void)open_calls;
    CU_ASSERT_PTR_NOT_NULL_FATAL(file);
    CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(file, n + 1, QED_ERR_IO, 0, &io), QED_OK);
    CU_ASSERT_EQUAL_FATAL(open_img(io, QED_OPEN_RDWR, NULL, &img), QED_OK);
    CU_ASSERT_EQUAL(qed_write(img, 0, buf, sizeof(buf)), QED_OK);
    CU_ASSERT_EQUAL(qed_flush(img), QED_ERR_IO);
    expect_failed_session(img, file);
    CU_ASSERT(file_need_check(file));
    qed_io_close(io);
}

/* A write failing at any of its I/O calls (once) fails the session. */
static void test_failed_write_fails_session(void)
{
    uint64_t open_calls, n = calls_of_write(&open_calls);

    CU_ASSERT(n > open_calls + 2);
    for (uint64_t k = open_calls + 1; k <= n; k++) {
        qed_io *file = create_mem(1u << 20, 4096, 1, NULL, NULL), *io = NULL;
        qed_image *img = NULL;
        uint8_t buf[512] = { 1 };
        CU_ASSERT_PTR_NOT_NULL_FATAL(file);
        CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(file, k, QED_ERR_IO, 0, &io), QED_OK);
        CU_ASSERT_EQUAL_FATAL(open_img(io, QED_OPEN_RDWR, NULL, &img), QED_OK);
        CU_ASSERT_EQUAL(qed_write(img, 0, buf, sizeof(buf)), QED_ERR_IO);
        expect_failed_session(img, file);
        qed_io_close(io);
    }
}

/* A qed_io over a mem io that keeps the order of writes and flushes: 'F'
 * for a flush, 'c' for a header write clearing NEED_CHECK, 'w' for any
 * other write. */
typedef struct order_io {
    qed_io io;
    qed_io *inner;
    char ops[256];
    size_t n;
} order_io;

static void order_note(qed_io *io, char op)
{
    order_io *o = (order_io *)io;
    if (o->n + 1 < sizeof(o->ops))
        o->ops[o->n++] = op;
}

static int order_read(qed_io *io, uint64_t off, void *buf, size_t len)
{
    qed_io *in = ((order_io *)io)->inner;
    return in->read(in, off, buf, len);
}

static int order_write(qed_io *io, uint64_t off, const void *buf, size_t len)
{
    qed_io *in = ((order_io *)io)->inner;
    int clears = off == 0 && len >= 64 &&
                 !(get_le64((const uint8_t *)buf + HOFF_FEATURES) & QED_F_NEED_CHECK);
    order_note(io, clears ? 'c' : 'w');
    return in->write(in, off, buf, len);
}

static int order_flush(qed_io *io)
{
    qed_io *in = ((order_io *)io)->inner;
    order_note(io, 'F');
    return in->flush(in);
}

static int order_length(qed_io *io, uint64_t *len)
{
    qed_io *in = ((order_io *)io)->inner;
    return in->length(in, len);
}

static int order_truncate(qed_io *io, uint64_t len)
{
    qed_io *in = ((order_io *)io)->inner;
    return in->truncate(in, len);
}

static void order_close(qed_io *io)
{
    qed_io_close(((order_io *)io)->inner);
}

/* A repairing check in a session that set NEED_CHECK and has unflushed
 * table writes clears the bit only after a flush (WR-4's order): the
 * header write clearing NEED_CHECK never shares a flush epoch with the
 * session's own table writes. */
static void test_repair_clears_after_flush(void)
{
    order_io o = { { order_read, order_write, order_flush, order_length,
                     order_truncate, order_close }, NULL, { 0 }, 0 };
    qed_image *img = NULL;
    qed_check_result res;
    uint8_t buf[512] = { 1 };

    o.inner = create_mem(1u << 20, 4096, 1, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o.inner);
    CU_ASSERT_EQUAL_FATAL(open_img(&o.io, QED_OPEN_RDWR, NULL, &img), QED_OK);
    CU_ASSERT_EQUAL(qed_write(img, 0, buf, sizeof(buf)), QED_OK);  /* L1 write last */
    CU_ASSERT_EQUAL(qed_check(img, QED_REPAIR_CORRUPT, &res), QED_OK);
    CU_ASSERT_EQUAL(res.corruptions, 0);
    CU_ASSERT_EQUAL(qed_get_header(img)->features & QED_F_NEED_CHECK, 0);
    o.ops[o.n] = '\0';
    const char *clear = strchr(o.ops, 'c');
    CU_ASSERT_PTR_NOT_NULL_FATAL(clear);
    CU_ASSERT(clear > o.ops && clear[-1] == 'F');
    if (clear == o.ops || clear[-1] != 'F')
        printf("\n    writes and flushes: %s ", o.ops);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    qed_io_close(o.inner);
}

int suite_write(void)
{
    static const test_case cases[] = {
        { "model 4K/table 1", test_model_4k_table1 },
        { "model 4K/table 1 odd size", test_model_4k_table1_odd_size },
        { "model 64K/table 4 (defaults)", test_model_64k_default },
        { "model 8K/table 2 short raw backing", test_model_8k_table2_backing },
        { "model 4K/table 1 raw backing", test_model_4k_table1_backing },
        { "WR-6 append placement", test_wr6_append },
        { "WR-7 copy-on-write", test_wr7_cow },
        { "WR-8 write zeroes", test_wr8_write_zeroes },
        { "WR-9 resize", test_wr9_resize },
        { "read-only refusal", test_read_only },
        { "XLT-3 write bounds", test_write_bounds },
        { "create layout", test_create_layout },
        { "a failed flush fails the session", test_failed_flush_fails_session },
        { "a failed write fails the session", test_failed_write_fails_session },
        { "repair clears NEED_CHECK after a flush", test_repair_clears_after_flush },
    };
    return ADD_SUITE("write", cases);
}
