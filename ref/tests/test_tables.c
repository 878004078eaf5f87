/*
 * test_tables.c - translation (XLT-1..3), qed_map, reserved bits and
 * alignment of table entries (TBL-2..6, ZERO-1), on hand-built images.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define CS 4096u
#define N 512u                    /* entries per table: cluster 4 KiB, table 1 */
#define IMG_SIZE (8u << 20)       /* 4 L1 entries */

/* Open r read-only without backing; CU-fatal on failure. */
static qed_image *open_raw(const rawimg *r, qed_io **io)
{
    qed_image *img = NULL;
    *io = mem_io(r->buf, r->len);
    int rc = open_img(*io, 0, NULL, &img);
    CU_ASSERT_EQUAL(rc, QED_OK);
    return img;
}

static void close_raw(qed_image *img, qed_io *io)
{
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    qed_io_close(io);
}

/* Read one cluster at logical cluster lc and compare with fill (or zeroes). */
static void expect_cluster(qed_image *img, uint64_t lc, int fill)
{
    uint8_t buf[CS], want[CS];
    memset(want, fill, sizeof(want));
    CU_ASSERT_EQUAL(qed_read(img, lc * CS, buf, CS), QED_OK);
    CU_ASSERT_EQUAL(memcmp(buf, want, CS), 0);
}

/* XLT-1: l1 = off / (cs*N), l2 = (off/cs) mod N; pick entries in several
 * L1 slots and check every neighbour stays unallocated. */
static void test_xlt1_translation(void)
{
    rawimg r;
    raw_init(&r, CS, 1, IMG_SIZE);
    uint64_t lcs[] = { 0, 1, N - 1, N, N + 3, 3 * N + N - 1 };
    for (int i = 0; i < 6; i++)
        raw_map(&r, lcs[i], raw_add_cluster(&r, 0x10 + i));
    qed_io *io;
    qed_image *img = open_raw(&r, &io);
    CU_ASSERT_PTR_NOT_NULL_FATAL(img);
    for (int i = 0; i < 6; i++)
        expect_cluster(img, lcs[i], 0x10 + i);
    uint64_t empty[] = { 2, N - 2, N + 1, N + 4, 2 * N, 3 * N + N - 2 };
    for (int i = 0; i < 6; i++)
        expect_cluster(img, empty[i], 0);
    /* a read straddling an L2 boundary (N-1 | N) and part clusters */
    uint8_t buf[2 * CS];
    CU_ASSERT_EQUAL(qed_read(img, (N - 1) * CS + 100, buf, CS), QED_OK);
    CU_ASSERT_EQUAL(buf[0], 0x12);
    CU_ASSERT_EQUAL(buf[CS - 101], 0x12);
    CU_ASSERT_EQUAL(buf[CS - 100], 0x13);
    CU_ASSERT_EQUAL(buf[CS - 1], 0x13);
    close_raw(img, io);
    raw_free(&r);
}

/* TBL-1: a table is table_size clusters; entries in a table's second
 * cluster (L1 and L2) are used.  TBL-5: every other entry is 0 and reads
 * as unallocated. */
static void test_tbl1_multi_cluster_tables(void)
{
    rawimg r;
    uint64_t n = 2 * CS / 8;                      /* 1024 entries, table 2 */
    raw_init(&r, CS, 2, n * n * CS);              /* the HDR-10 maximum, 4 GiB */
    uint64_t lc = 600 * n + 700;                  /* L1[600], L2[700] */
    uint64_t l2 = raw_map(&r, lc, raw_add_cluster(&r, 0x3d));
    CU_ASSERT_EQUAL(raw_get64(&r, r.l1 + 600 * 8), l2);   /* in L1's 2nd cluster */
    qed_io *io;
    qed_image *img = open_raw(&r, &io);
    CU_ASSERT_PTR_NOT_NULL_FATAL(img);
    uint8_t buf[CS], want[CS];
    memset(want, 0x3d, CS);
    CU_ASSERT_EQUAL(qed_read(img, lc * CS, buf, CS), QED_OK);
    CU_ASSERT_EQUAL(memcmp(buf, want, CS), 0);
    CU_ASSERT_EQUAL(qed_read(img, (lc - 512) * CS, buf, CS), QED_OK);   /* TBL-5 */
    CU_ASSERT(all_zero(buf, CS));
    CU_ASSERT_EQUAL(qed_read(img, (lc + n) * CS, buf, CS), QED_OK);
    CU_ASSERT(all_zero(buf, CS));
    close_raw(img, io);
    raw_free(&r);
}

/* XLT-3: requests past image_size, and wrapping ones, are refused. */
static void test_xlt3_bounds(void)
{
    rawimg r;
    raw_init(&r, CS, 1, IMG_SIZE - 512);
    qed_io *io;
    qed_image *img = open_raw(&r, &io);
    CU_ASSERT_PTR_NOT_NULL_FATAL(img);
    uint8_t buf[1024];
    CU_ASSERT_EQUAL(qed_read(img, IMG_SIZE - 1024, buf, 512), QED_OK);
    CU_ASSERT_EQUAL(qed_read(img, IMG_SIZE - 1024, buf, 513), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_read(img, IMG_SIZE, buf, 1), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_read(img, UINT64_MAX - 10, buf, 100), QED_ERR_INVAL);
    CU_ASSERT_EQUAL(qed_read(img, IMG_SIZE - 512, buf, 0), QED_OK);
    qed_extent e;
    CU_ASSERT_EQUAL(qed_map(img, IMG_SIZE - 512, 4096, &e), QED_ERR_INVAL);
    close_raw(img, io);
    raw_free(&r);
}

/* qed_map: data run contiguity, zero clusters, unallocated runs. */
static void test_map_extents(void)
{
    rawimg r;
    raw_init(&r, CS, 1, IMG_SIZE);
    uint64_t l2 = raw_add_table(&r);
    raw_set_l1(&r, 0, l2);
    uint64_t d0 = raw_add_cluster(&r, 1), d1 = raw_add_cluster(&r, 2);
    uint64_t gap = raw_add_cluster(&r, 3), d3 = raw_add_cluster(&r, 4);
    raw_set_l2(&r, l2, 0, d0);
    raw_set_l2(&r, l2, 1, d1);            /* contiguous with d0 */
    raw_set_l2(&r, l2, 2, d3);            /* not contiguous */
    raw_set_l2(&r, l2, 3, QED_ZERO_CLUSTER);
    raw_set_l2(&r, l2, 4, QED_ZERO_CLUSTER);
    raw_set_l2(&r, l2, 6, gap);
    qed_io *io;
    qed_image *img = open_raw(&r, &io);
    CU_ASSERT_PTR_NOT_NULL_FATAL(img);
    qed_extent e;
    CU_ASSERT_EQUAL(qed_map(img, 0, IMG_SIZE, &e), QED_OK);
    CU_ASSERT_EQUAL(e.start, 0);
    CU_ASSERT_EQUAL(e.length, 2 * CS);
    CU_ASSERT_EQUAL(e.depth, 0);
    CU_ASSERT_EQUAL(e.flags, QED_MAP_PRESENT | QED_MAP_DATA);
    CU_ASSERT_EQUAL(e.offset, d0);
    CU_ASSERT_EQUAL(qed_map(img, 2 * CS, IMG_SIZE, &e), QED_OK);
    CU_ASSERT_EQUAL(e.length, CS);
    CU_ASSERT_EQUAL(e.offset, d3);
    CU_ASSERT_EQUAL(qed_map(img, 3 * CS, IMG_SIZE, &e), QED_OK);
    CU_ASSERT_EQUAL(e.length, 2 * CS);
    CU_ASSERT_EQUAL(e.depth, 0);
    CU_ASSERT_EQUAL(e.flags, QED_MAP_PRESENT | QED_MAP_ZERO);
    CU_ASSERT_EQUAL(qed_map(img, 5 * CS, IMG_SIZE, &e), QED_OK);
    CU_ASSERT_EQUAL(e.length, CS);
    CU_ASSERT_EQUAL(e.depth, 0);          /* present nowhere, no backing: as qemu-img map */
    CU_ASSERT_EQUAL(e.flags & (QED_MAP_PRESENT | QED_MAP_DATA), 0);
    CU_ASSERT_EQUAL(qed_map(img, 7 * CS, IMG_SIZE, &e), QED_OK);
    CU_ASSERT_EQUAL(e.length, IMG_SIZE - 7 * CS);   /* runs over unallocated L1s */
    /* max_len and a mid-cluster start bound the run */
    CU_ASSERT_EQUAL(qed_map(img, 100, 1000, &e), QED_OK);
    CU_ASSERT_EQUAL(e.start, 100);
    CU_ASSERT_EQUAL(e.length, 1000);
    CU_ASSERT_EQUAL(e.offset, d0 + 100);
    close_raw(img, io);
    raw_free(&r);
}

/* ZERO-1: an L2 entry of 1 reads as zeroes. */
static void test_zero1_reads_zero(void)
{
    rawimg r;
    raw_init(&r, CS, 1, IMG_SIZE);
    raw_map(&r, 7, QED_ZERO_CLUSTER);
    qed_io *io;
    qed_image *img = open_raw(&r, &io);
    CU_ASSERT_PTR_NOT_NULL_FATAL(img);
    expect_cluster(img, 7, 0);
    close_raw(img, io);
    raw_free(&r);
}

/* One bad L2 entry at logical cluster 5: reading it fails with expect,
 * its neighbour (a valid data cluster) still reads, and a write there
 * fails the same way without changing the file. */
static void expect_bad_l2(rawimg *r, uint64_t entry, int expect)
{
    uint64_t good = raw_add_cluster(r, 0x77);
    uint64_t l2 = raw_map(r, 4, good);
    raw_set_l2(r, l2, 5, entry);
    qed_io *io = mem_io(r->buf, r->len);
    qed_image *img;
    CU_ASSERT_EQUAL_FATAL(open_img(io, QED_OPEN_RDWR, NULL, &img), QED_OK);
    uint8_t buf[CS];
    CU_ASSERT_EQUAL(qed_read(img, 5 * CS, buf, CS), expect);
    CU_ASSERT_EQUAL(qed_read(img, 5 * CS + 512, buf, 512), expect);
    expect_cluster(img, 4, 0x77);
    memset(buf, 0x55, sizeof(buf));
    CU_ASSERT_EQUAL(qed_write(img, 5 * CS, buf, CS), expect);
    qed_close(img);
    size_t len;
    uint8_t *after = io_bytes(io, &len);
    CU_ASSERT_EQUAL(get_le64(after + l2 + 5 * 8), entry);   /* untouched */
    free(after);
    qed_io_close(io);
}

static void test_tbl2_reserved_l2(void)
{
    uint64_t low[] = { 2, 0x800, 1 };     /* d|1 is not the value 1 */
    for (int i = 0; i < 3; i++) {
        rawimg r;
        raw_init(&r, CS, 1, IMG_SIZE);
        uint64_t d = raw_add_cluster(&r, 9);
        expect_bad_l2(&r, d | low[i], QED_E_RESERVED_BITS);
        raw_free(&r);
    }
}

static void test_tbl3_misaligned(void)
{
    rawimg r;
    raw_init(&r, 65536, 1, 64u << 20);
    uint64_t d = raw_add_cluster(&r, 9);
    /* low 12 bits clear (TBL-2 holds) but not a multiple of 64 KiB */
    uint64_t good = raw_add_cluster(&r, 0x77);
    uint64_t l2 = raw_map(&r, 4, good);
    raw_set_l2(&r, l2, 5, d + 4096);
    qed_io *io = mem_io(r.buf, r.len);
    qed_image *img;
    CU_ASSERT_EQUAL_FATAL(open_img(io, 0, NULL, &img), QED_OK);
    uint8_t buf[512];
    CU_ASSERT_EQUAL(qed_read(img, 5 * 65536, buf, 512), QED_E_MISALIGNED);
    CU_ASSERT_EQUAL(qed_read(img, 4 * 65536, buf, 512), QED_OK);
    CU_ASSERT_EQUAL(buf[0], 0x77);
    qed_close(img);
    qed_io_close(io);
    raw_free(&r);
}

/* TBL-6 precisely: the three placements of a bad data cluster. */
static void test_tbl6_cases(void)
{
    /* header_size 2: cluster 1 is header, the L1 moves to cluster 2 */
    rawimg r;
    raw_init(&r, CS, 1, IMG_SIZE);
    raw_add_cluster(&r, 0);
    raw_put32(&r, HOFF_HSIZE, 2);
    raw_put64(&r, HOFF_L1, 2 * CS);
    r.l1 = 2 * CS;
    expect_bad_l2(&r, CS, QED_E_DATA_RANGE);
    raw_free(&r);

    raw_init(&r, CS, 1, IMG_SIZE);
    expect_bad_l2(&r, 0x10000000, QED_E_DATA_RANGE);       /* past EOF */
    raw_free(&r);

    /* FILE-3: the cluster exists only partially at the end of the file */
    raw_init(&r, CS, 1, IMG_SIZE);
    uint64_t good = raw_add_cluster(&r, 0x77);
    uint64_t l2 = raw_map(&r, 4, good);
    uint64_t tail = r.len;
    r.buf = realloc(r.buf, r.len + 100);
    memset(r.buf + r.len, 0xee, 100);
    r.len += 100;
    raw_set_l2(&r, l2, 5, tail);
    qed_io *io = mem_io(r.buf, r.len);
    qed_image *img;
    CU_ASSERT_EQUAL_FATAL(open_img(io, 0, NULL, &img), QED_OK);
    uint8_t buf[512];
    CU_ASSERT_EQUAL(qed_read(img, 5 * CS, buf, 512), QED_E_DATA_RANGE);
    qed_close(img);
    qed_io_close(io);
    raw_free(&r);
}

/* An L1 entry breaking TBL-2 / TBL-3 / TBL-4: reads under it fail with the
 * rule's status, the image still opens, other L1 slots still read. */
static void expect_bad_l1(uint32_t cs, uint64_t entry, int expect)
{
    rawimg r;
    uint64_t n = cs / 8;
    raw_init(&r, cs, 1, 2 * n * cs);      /* two L1 slots */
    raw_map(&r, n, raw_add_cluster(&r, 0x66));   /* L1 slot 1: valid */
    raw_set_l1(&r, 0, entry);
    qed_io *io = mem_io(r.buf, r.len);
    qed_image *img;
    CU_ASSERT_EQUAL_FATAL(open_img(io, 0, NULL, &img), QED_OK);
    uint8_t buf[512];
    CU_ASSERT_EQUAL(qed_read(img, 0, buf, 512), expect);
    int rc = qed_read(img, n * cs, buf, 512);
    if (rc != QED_OK)
        printf("\n    L1[0]=%#llx: reading L1[1] gives %d ", (unsigned long long)entry, rc);
    CU_ASSERT_EQUAL(rc, QED_OK);
    CU_ASSERT_EQUAL(buf[0], 0x66);
    qed_close(img);
    qed_io_close(io);
    raw_free(&r);
}

static void test_l1_entries(void)
{
    expect_bad_l1(CS, 2 * CS + 1, QED_E_RESERVED_BITS);   /* ZERO-1 is L2 only */
    expect_bad_l1(CS, 2 * CS | 0x800, QED_E_RESERVED_BITS);
    expect_bad_l1(65536, 65536 + 4096, QED_E_MISALIGNED);
    expect_bad_l1(CS, 0x40000000, QED_E_TABLE_RANGE);     /* past EOF */
}

/* The exported entry checks (qed.h), on a geometry of 4 KiB clusters,
 * two-cluster tables and a two-cluster header, in a file that ends in a
 * partial cluster: every range is judged against Lc, the length rounded
 * down (FILE-3), so nothing may lie in the trailing partial cluster. */
static void test_entry_checks(void)
{
    qed_header h = { .magic = QED_MAGIC, .cluster_size = CS, .table_size = 2,
                     .header_size = 2 };
    const uint64_t lc = 10 * CS, len = lc + CS - 1;   /* 4095 bytes past Lc */

    CU_ASSERT_EQUAL(qed_usable_length(&h, len), lc);
    CU_ASSERT_EQUAL(qed_usable_length(&h, lc), lc);
    CU_ASSERT_EQUAL(qed_usable_length(&h, CS - 1), 0);
    /* table offsets (TBL-4): after the header, all ts clusters within Lc */
    CU_ASSERT_EQUAL(qed_check_table_offset(&h, 0, len), QED_E_TABLE_RANGE);
    CU_ASSERT_EQUAL(qed_check_table_offset(&h, CS, len), QED_E_TABLE_RANGE);
    CU_ASSERT_EQUAL(qed_check_table_offset(&h, 2 * CS, len), QED_OK);
    CU_ASSERT_EQUAL(qed_check_table_offset(&h, lc - 2 * CS, len), QED_OK);
    CU_ASSERT_EQUAL(qed_check_table_offset(&h, lc - CS, len), QED_E_TABLE_RANGE);
    CU_ASSERT_EQUAL(qed_check_table_offset(&h, UINT64_MAX - (CS - 1), len),
                    QED_E_TABLE_RANGE);                     /* no wrap */
    CU_ASSERT_EQUAL(qed_check_table_offset(&h, 2 * CS + 8, len), QED_E_RESERVED_BITS);
    /* L1 entries: 0 is unallocated, 1 breaks TBL-2 */
    CU_ASSERT_EQUAL(qed_check_l1_entry(&h, 0, len), QED_OK);
    CU_ASSERT_EQUAL(qed_check_l1_entry(&h, 1, len), QED_E_RESERVED_BITS);
    CU_ASSERT_EQUAL(qed_check_l1_entry(&h, 4 * CS, len), QED_OK);
    CU_ASSERT_EQUAL(qed_check_l1_entry(&h, lc, len), QED_E_TABLE_RANGE);
    /* L2 entries: 0 and 1 (ZERO-1) are valid, data clusters within Lc */
    CU_ASSERT_EQUAL(qed_check_l2_entry(&h, 0, len), QED_OK);
    CU_ASSERT_EQUAL(qed_check_l2_entry(&h, QED_ZERO_CLUSTER, len), QED_OK);
    CU_ASSERT_EQUAL(qed_check_l2_entry(&h, 2, len), QED_E_RESERVED_BITS);
    CU_ASSERT_EQUAL(qed_check_l2_entry(&h, lc - CS, len), QED_OK);
    CU_ASSERT_EQUAL(qed_check_l2_entry(&h, lc, len), QED_E_DATA_RANGE);
    CU_ASSERT_EQUAL(qed_check_l2_entry(&h, CS, len), QED_E_DATA_RANGE);
    CU_ASSERT_EQUAL(qed_check_l2_entry(&h, UINT64_MAX - (CS - 1), len),
                    QED_E_DATA_RANGE);
    /* TBL-3 beyond TBL-2's twelve bits */
    h.cluster_size = 65536;
    h.table_size = 1;
    CU_ASSERT_EQUAL(qed_check_l2_entry(&h, 2 * 65536 + CS, 1u << 20), QED_E_MISALIGNED);
    CU_ASSERT_EQUAL(qed_check_l1_entry(&h, 2 * 65536 + CS, 1u << 20), QED_E_MISALIGNED);
    /* without a valid geometry nothing is judged */
    h.cluster_size = 3000;
    CU_ASSERT_EQUAL(qed_check_l2_entry(&h, 8192, len), QED_E_CLUSTER_SIZE);
    h.cluster_size = 0;
    CU_ASSERT_EQUAL(qed_usable_length(&h, len), 0);
    CU_ASSERT_EQUAL(qed_check_table_offset(&h, 8192, len), QED_E_CLUSTER_SIZE);
    h.cluster_size = CS;
    h.table_size = 0;
    CU_ASSERT_EQUAL(qed_check_l1_entry(&h, 8192, len), QED_E_TABLE_SIZE);
    h.table_size = 1;
    h.header_size = 0;
    CU_ASSERT_EQUAL(qed_check_l1_entry(&h, 8192, len), QED_E_HEADER_SIZE);
}

int suite_tables(void)
{
    static const test_case cases[] = {
        { "XLT-1 translation", test_xlt1_translation },
        { "TBL-1/TBL-5 two-cluster tables", test_tbl1_multi_cluster_tables },
        { "XLT-3 bounds", test_xlt3_bounds },
        { "map extents", test_map_extents },
        { "ZERO-1 reads zero", test_zero1_reads_zero },
        { "TBL-2 reserved bits in L2", test_tbl2_reserved_l2 },
        { "TBL-3 misaligned data", test_tbl3_misaligned },
        { "TBL-6 data range", test_tbl6_cases },
        { "L1 entries TBL-2/3/4", test_l1_entries },
        { "qed_check_*_entry against Lc (FILE-3)", test_entry_checks },
    };
    return ADD_SUITE("tables", cases);
}
