/*
 * test_check.c - qed_check and repair with exact counts (CHK-1..CHK-7) on
 * hand-built images, and the NEED_CHECK life cycle (FEAT-2, WR-5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define CS 4096u
#define IMG_SIZE (8u << 20)       /* cluster 4 KiB, table 1: 4 L1 slots */

/* Run qed_check on r's bytes (opened read-write without WR-5 so the image
 * is seen as built); the repaired bytes replace r's when repair != 0. */
static qed_check_result check_raw(rawimg *r, unsigned repair)
{
    qed_check_result res;
    memset(&res, 0xff, sizeof(res));
    qed_io *io = mem_io(r->buf, r->len);
    qed_image *img;
    CU_ASSERT_EQUAL_FATAL(open_img(io, QED_OPEN_RDWR | QED_OPEN_NO_CHECK, NULL, &img), QED_OK);
    CU_ASSERT_EQUAL(qed_check(img, repair, &res), QED_OK);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    if (repair) {
        free(r->buf);
        r->buf = io_bytes(io, &r->len);
    }
    qed_io_close(io);
    return res;
}

/* Expect exact corruption and leak counts. */
#define EXPECT_COUNTS(res, c, l) do { \
        CU_ASSERT_EQUAL((res).corruptions, (c)); \
        CU_ASSERT_EQUAL((res).leaks, (l)); \
        CU_ASSERT_EQUAL((res).check_errors, 0); \
    } while (0)

/* Read logical cluster lc of r's bytes (read-only open, no backing). */
static void read_cluster(const rawimg *r, uint64_t lc, uint8_t *buf)
{
    qed_io *io = mem_io(r->buf, r->len);
    qed_image *img;
    CU_ASSERT_EQUAL_FATAL(open_img(io, 0, NULL, &img), QED_OK);
    CU_ASSERT_EQUAL(qed_read(img, lc * CS, buf, CS), QED_OK);
    qed_close(img);
    qed_io_close(io);
}

/* Expect logical cluster lc to be filled with byte fill. */
static void expect_fill(const rawimg *r, uint64_t lc, int fill)
{
    uint8_t buf[CS], want[CS];
    memset(want, fill, CS);
    read_cluster(r, lc, buf);
    CU_ASSERT_EQUAL(memcmp(buf, want, CS), 0);
}

/* A clean image: two L2 tables, five data clusters, one zero cluster. */
static void build_clean(rawimg *r)
{
    raw_init(r, CS, 1, IMG_SIZE);
    for (int i = 0; i < 4; i++)
        raw_map(r, (uint64_t)i * 3, raw_add_cluster(r, 0x20 + i));
    raw_map(r, 512 + 7, raw_add_cluster(r, 0x30));
    raw_map(r, 10, QED_ZERO_CLUSTER);
}

static void test_clean(void)
{
    rawimg r;
    build_clean(&r);
    qed_check_result res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 0, 0);
    CU_ASSERT_EQUAL(res.allocated_clusters, 5);
    CU_ASSERT_EQUAL(res.total_clusters, IMG_SIZE / CS);
    CU_ASSERT_EQUAL(res.image_end_offset, r.len);
    CU_ASSERT_EQUAL(res.corruptions_fixed, 0);
    CU_ASSERT_EQUAL(res.leaks_fixed, 0);
    raw_free(&r);
}

/* CHK-4 and CHK-7: leaks at the end are truncated, one in the middle stays. */
static void test_chk4_chk7_leaks(void)
{
    rawimg r;
    build_clean(&r);
    uint64_t mid = raw_add_cluster(&r, 0x44);          /* will be in the middle */
    raw_map(&r, 40, raw_add_cluster(&r, 0x45));
    raw_add_cluster(&r, 0x46);
    raw_add_cluster(&r, 0x47);                          /* two leaks at the end */
    qed_check_result res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 0, 3);
    res = check_raw(&r, QED_REPAIR_LEAKS);
    EXPECT_COUNTS(res, 0, 3);
    CU_ASSERT_EQUAL(res.leaks_fixed, 2);
    CU_ASSERT_EQUAL(res.image_end_offset, mid + 2 * CS);
    CU_ASSERT_EQUAL(r.len, mid + 2 * CS);
    res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 0, 1);                           /* CHK-7: the middle one stays */
    expect_fill(&r, 40, 0x45);
    raw_free(&r);
}

/* CHK-4: a table of table_size 2 owns both of its clusters. */
static void test_chk4_two_cluster_tables(void)
{
    rawimg r;
    raw_init(&r, CS, 2, IMG_SIZE);
    raw_map(&r, 5, raw_add_cluster(&r, 0x51));
    qed_check_result res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 0, 0);
    CU_ASSERT_EQUAL(res.allocated_clusters, 1);
    raw_free(&r);
}

/* CHK-1 and CHK-5/6: two L2 entries share a data cluster; repair gives the
 * later one a copy and both read the same as before. */
static void test_chk1_shared_data(void)
{
    rawimg r;
    build_clean(&r);
    uint64_t d = raw_add_cluster(&r, 0x61);
    raw_map(&r, 20, d);
    raw_map(&r, 512 + 30, d);
    qed_check_result res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 1, 0);
    size_t len0 = r.len;
    res = check_raw(&r, QED_REPAIR_ALL);
    EXPECT_COUNTS(res, 1, 0);
    CU_ASSERT_EQUAL(res.corruptions_fixed, 1);
    CU_ASSERT_EQUAL(res.allocated_clusters, 7);
    CU_ASSERT_EQUAL(r.len, len0 + CS);                  /* one copy appended */
    expect_fill(&r, 20, 0x61);
    expect_fill(&r, 512 + 30, 0x61);
    expect_fill(&r, 3, 0x21);
    res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 0, 0);
    raw_free(&r);
}

/* CHK-1: one data cluster referenced three times is two corruptions. */
static void test_chk1_triple_reference(void)
{
    rawimg r;
    build_clean(&r);
    uint64_t d = raw_add_cluster(&r, 0x62);
    raw_map(&r, 20, d);
    raw_map(&r, 21, d);
    raw_map(&r, 22, d);
    qed_check_result res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 2, 0);
    res = check_raw(&r, QED_REPAIR_ALL);
    CU_ASSERT_EQUAL(res.corruptions_fixed, 2);
    for (uint64_t lc = 20; lc <= 22; lc++)
        expect_fill(&r, lc, 0x62);
    res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 0, 0);
    raw_free(&r);
}

/* CHK-1: a data entry pointing at the L1 table, and one at an L2 table. */
static void test_chk1_data_on_tables(void)
{
    rawimg r;
    build_clean(&r);
    uint64_t l2 = raw_map(&r, 25, r.l1);
    qed_check_result res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 1, 0);
    raw_set_l2(&r, l2, 25, l2);
    res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 1, 0);
    /* repair copies the L2 table's bytes out; the table itself keeps working */
    res = check_raw(&r, QED_REPAIR_ALL);
    CU_ASSERT_EQUAL(res.corruptions_fixed, 1);
    expect_fill(&r, 3, 0x21);
    res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 0, 0);
    raw_free(&r);
}

/* CHK-1: two L1 entries share one (empty) L2 table. */
static void test_chk1_shared_l2(void)
{
    rawimg r;
    raw_init(&r, CS, 1, IMG_SIZE);
    raw_map(&r, 0, raw_add_cluster(&r, 0x71));
    uint64_t empty = raw_add_table(&r);
    raw_set_l1(&r, 1, empty);
    raw_set_l1(&r, 2, empty);
    qed_check_result res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 1, 0);
    res = check_raw(&r, QED_REPAIR_ALL);
    CU_ASSERT_EQUAL(res.corruptions_fixed, 1);
    res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 0, 0);
    expect_fill(&r, 0, 0x71);
    raw_free(&r);
}

/* CHK-1: the L2 table behind a duplicate L1 entry is not walked, so its
 * data entries are neither counted again nor leaked; repair copies the
 * table and (silently) its data clusters, and both ranges read the same. */
static void test_chk1_shared_full_l2(void)
{
    rawimg r;
    raw_init(&r, CS, 1, IMG_SIZE);
    uint64_t l2 = raw_map(&r, 3, raw_add_cluster(&r, 0xa3));
    raw_map(&r, 7, raw_add_cluster(&r, 0xa7));
    raw_set_l1(&r, 1, l2);
    size_t len0 = r.len;
    qed_check_result res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 1, 0);
    res = check_raw(&r, QED_REPAIR_ALL);
    EXPECT_COUNTS(res, 1, 0);
    CU_ASSERT_EQUAL(res.corruptions_fixed, 1);
    CU_ASSERT_EQUAL(r.len, len0 + 3 * CS);              /* table + 2 data copies */
    expect_fill(&r, 3, 0xa3);
    expect_fill(&r, 512 + 3, 0xa3);
    expect_fill(&r, 512 + 7, 0xa7);
    res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 0, 0);
    CU_ASSERT_EQUAL(res.allocated_clusters, 4);
    raw_free(&r);
}

/* CHK-1: a reference overlapping an owned cluster is one duplicate and
 * takes none of its clusters, so the one it did not share leaks. */
static void test_chk1_overlapping_tables(void)
{
    rawimg r;
    raw_init(&r, CS, 2, IMG_SIZE);
    uint64_t a = raw_add_table(&r);
    raw_add_cluster(&r, 0);                             /* a + 2*CS */
    raw_set_l1(&r, 0, a);
    raw_set_l1(&r, 1, a + CS);                          /* shares a + CS */
    qed_check_result res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 1, 1);
    raw_free(&r);
}

/* CHK-2: reserved bits, misalignment (with 64 KiB clusters) and a data
 * cluster past EOF or in the header: one corruption each; repair zeroes
 * them and keeps every valid entry (CHK-6). */
static void test_chk2_bad_entries(void)
{
    rawimg r;
    raw_init(&r, 65536, 1, 1u << 30);
    uint64_t good = raw_add_cluster(&r, 0x81);
    uint64_t l2 = raw_map(&r, 0, good);
    raw_set_l2(&r, l2, 1, good | 0x200);                /* TBL-2 */
    raw_set_l2(&r, l2, 2, 2);                           /* TBL-2: not ZERO-1 */
    raw_set_l2(&r, l2, 3, 4096);                        /* TBL-3 (and in the header) */
    raw_set_l2(&r, l2, 4, 0x100000000ull);              /* TBL-6: past EOF */
    raw_set_l2(&r, l2, 5, QED_ZERO_CLUSTER);            /* valid */
    qed_check_result res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 4, 0);
    res = check_raw(&r, QED_REPAIR_ALL);
    CU_ASSERT_EQUAL(res.corruptions_fixed, 4);
    CU_ASSERT_EQUAL(res.allocated_clusters, 1);
    for (uint64_t i = 1; i <= 4; i++)
        CU_ASSERT_EQUAL(raw_get_l2(&r, l2, i), 0);
    CU_ASSERT_EQUAL(raw_get_l2(&r, l2, 0), good);
    CU_ASSERT_EQUAL(raw_get_l2(&r, l2, 5), QED_ZERO_CLUSTER);
    res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 0, 0);
    raw_free(&r);
}

/* CHK-2 / CHK-3: bad L1 entries; the entries under a good L1 survive. */
static void test_chk3_bad_l1(void)
{
    rawimg r;
    build_clean(&r);
    raw_set_l1(&r, 2, 0x10000000);                      /* CHK-3: past EOF */
    raw_set_l1(&r, 3, r.l1 + 0x10);                     /* CHK-2: reserved bits */
    qed_check_result res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 2, 0);
    res = check_raw(&r, QED_REPAIR_CORRUPT);
    CU_ASSERT_EQUAL(res.corruptions_fixed, 2);
    CU_ASSERT_EQUAL(raw_get64(&r, r.l1 + 16), 0);
    CU_ASSERT_EQUAL(raw_get64(&r, r.l1 + 24), 0);
    expect_fill(&r, 512 + 7, 0x30);
    res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 0, 0);
    raw_free(&r);
}

/* An L2 table lost with its L1 entry: the table and its data leak. */
static void test_leaks_under_bad_l1(void)
{
    rawimg r;
    raw_init(&r, CS, 1, IMG_SIZE);
    raw_map(&r, 512, raw_add_cluster(&r, 0x91));        /* L2 + data: 2 clusters */
    raw_map(&r, 0, raw_add_cluster(&r, 0x92));          /* keeps them in the middle */
    raw_set_l1(&r, 1, raw_get64(&r, r.l1 + 8) | 0x1);   /* CHK-2 */
    qed_check_result res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 1, 2);
    raw_free(&r);
}

/* QED_REPAIR_LEAKS alone leaves corruptions alone and vice versa. */
static void test_repair_modes(void)
{
    rawimg r;
    build_clean(&r);
    raw_map(&r, 40, 0x10000000);                        /* corrupt */
    raw_add_cluster(&r, 0);                             /* leak at the end */
    size_t len = r.len;
    qed_check_result res = check_raw(&r, QED_REPAIR_CORRUPT);
    EXPECT_COUNTS(res, 1, 1);
    CU_ASSERT_EQUAL(res.corruptions_fixed, 1);
    CU_ASSERT_EQUAL(res.leaks_fixed, 0);
    CU_ASSERT_EQUAL(r.len, len);
    res = check_raw(&r, QED_REPAIR_LEAKS);
    EXPECT_COUNTS(res, 0, 1);
    CU_ASSERT_EQUAL(res.leaks_fixed, 1);
    CU_ASSERT_EQUAL(r.len, len - CS);
    raw_free(&r);
}

/* An image with NEED_CHECK set and one corrupt entry. */
static void build_dirty(rawimg *r)
{
    build_clean(r);
    raw_map(r, 40, 0x10000000);
    raw_put64(r, HOFF_FEATURES, QED_F_NEED_CHECK);
}

/* FEAT-2: read-only open of a NEED_CHECK image works and writes nothing. */
static void test_need_check_read_only(void)
{
    rawimg r;
    build_dirty(&r);
    qed_io *io = mem_io(r.buf, r.len);
    qed_image *img;
    CU_ASSERT_EQUAL_FATAL(open_img(io, 0, NULL, &img), QED_OK);
    CU_ASSERT(qed_get_header(img)->features & QED_F_NEED_CHECK);
    uint8_t buf[CS];
    CU_ASSERT_EQUAL(qed_read(img, 0, buf, CS), QED_OK);
    CU_ASSERT_EQUAL(buf[0], 0x20);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    size_t len;
    uint8_t *after = io_bytes(io, &len);
    CU_ASSERT_EQUAL(len, r.len);
    CU_ASSERT_EQUAL(memcmp(after, r.buf, len), 0);
    free(after);
    qed_io_close(io);
    raw_free(&r);
}

/* WR-5: read-write open repairs and clears NEED_CHECK before returning. */
static void test_need_check_read_write(void)
{
    rawimg r;
    build_dirty(&r);
    qed_io *io = mem_io(r.buf, r.len);
    qed_image *img;
    CU_ASSERT_EQUAL_FATAL(open_img(io, QED_OPEN_RDWR, NULL, &img), QED_OK);
    size_t len;
    uint8_t *now = io_bytes(io, &len);
    CU_ASSERT_EQUAL(get_le64(now + HOFF_FEATURES) & QED_F_NEED_CHECK, 0);
    uint64_t l2 = get_le64(now + r.l1);
    CU_ASSERT_EQUAL(get_le64(now + l2 + 40 * 8), 0);    /* corrupt entry zeroed */
    free(now);
    CU_ASSERT_EQUAL(qed_get_header(img)->features & QED_F_NEED_CHECK, 0);
    qed_check_result res;
    CU_ASSERT_EQUAL(qed_check(img, QED_REPAIR_NONE, &res), QED_OK);
    EXPECT_COUNTS(res, 0, 0);
    uint8_t buf[CS];
    CU_ASSERT_EQUAL(qed_read(img, 3 * CS, buf, CS), QED_OK);
    CU_ASSERT_EQUAL(buf[0], 0x21);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    qed_io_close(io);
    raw_free(&r);
}

/* QED_OPEN_NO_CHECK: read-write open leaves NEED_CHECK and the damage. */
static void test_need_check_no_check(void)
{
    rawimg r;
    build_dirty(&r);
    qed_check_result res = check_raw(&r, QED_REPAIR_NONE);
    EXPECT_COUNTS(res, 1, 0);
    qed_io *io = mem_io(r.buf, r.len);
    qed_image *img;
    CU_ASSERT_EQUAL_FATAL(open_img(io, QED_OPEN_RDWR | QED_OPEN_NO_CHECK, NULL, &img), QED_OK);
    CU_ASSERT(qed_get_header(img)->features & QED_F_NEED_CHECK);
    qed_close(img);
    qed_io_close(io);
    raw_free(&r);
}

/* The check limit bounds the work on a huge sparse file. */
static void test_check_limit(void)
{
    rawimg r;
    build_clean(&r);
    qed_limits lim;
    qed_limits_default(&lim);
    CU_ASSERT_EQUAL(lim.max_chain_depth, 16);
    CU_ASSERT_EQUAL(lim.max_table_bytes, 64u << 20);
    CU_ASSERT_EQUAL(lim.max_check_clusters, 1ull << 28);
    lim.max_check_clusters = 4;
    qed_open_opts o = { .flags = 0, .limits = &lim };
    qed_io *io = mem_io(r.buf, r.len);
    qed_image *img;
    CU_ASSERT_EQUAL_FATAL(qed_open(io, &o, &img), QED_OK);
    qed_check_result res;
    CU_ASSERT_EQUAL(qed_check(img, QED_REPAIR_NONE, &res), QED_ERR_LIMIT);
    qed_close(img);
    qed_io_close(io);
    raw_free(&r);
}

/* 256 L2 tables (4 KiB each) in the file in L1 order, or in the reverse
 * order with reversed != 0; a data cluster in every 16th table. */
static void build_many_tables(rawimg *r, int reversed)
{
    uint64_t tables[256];

    raw_init(r, CS, 1, 256u << 21);         /* 256 L1 slots of 2 MiB */
    for (int i = 0; i < 256; i++)
        tables[i] = raw_add_table(r);
    for (int i = 0; i < 256; i++)
        raw_set_l1(r, (uint64_t)i, tables[reversed ? 255 - i : i]);
    for (uint64_t i = 0; i < 256; i += 16)
        raw_map(r, i * 512 + 7, raw_add_cluster(r, 0x40));
}

/* Check r's bytes read-only through a fault io that fails every call from
 * the check's fail_from-th on (0: none); *calls gets the check's io calls. */
static qed_check_result check_counted(const rawimg *r, uint64_t fail_from,
                                      uint64_t *calls)
{
    qed_check_result res;
    qed_io *io = NULL;
    qed_image *img = NULL;
    uint64_t base;

    CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(mem_io(r->buf, r->len), 0, QED_ERR_IO, 0, &io), QED_OK);
    CU_ASSERT_EQUAL_FATAL(open_img(io, 0, NULL, &img), QED_OK);
    base = qed_io_fault_calls(io);
    if (fail_from) {                         /* the same open, failing later */
        qed_close(img);
        qed_io_close(io);
        CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(mem_io(r->buf, r->len), base + fail_from,
                                               QED_ERR_IO, 1, &io), QED_OK);
        CU_ASSERT_EQUAL_FATAL(open_img(io, 0, NULL, &img), QED_OK);
    }
    CU_ASSERT_EQUAL(qed_check(img, QED_REPAIR_NONE, &res), QED_OK);
    *calls = qed_io_fault_calls(io) - base;
    qed_close(img);
    qed_io_close(io);
    return res;
}

/* Tables back to back are read in runs: 256 tables of 4 KiB in one read,
 * each table once, with the counts of a table-by-table walk. */
static void test_check_reads_runs(void)
{
    rawimg r;
    uint64_t calls;
    build_many_tables(&r, 0);
    qed_check_result res = check_counted(&r, 0, &calls);
    EXPECT_COUNTS(res, 0, 0);
    CU_ASSERT_EQUAL(res.allocated_clusters, 16);
    CU_ASSERT_EQUAL(res.fragmented_clusters, 0);
    CU_ASSERT(calls <= 2);                    /* was 256: one read per table */
    raw_free(&r);
    /* tables in the reverse order: one read each, still the same counts */
    build_many_tables(&r, 1);
    res = check_counted(&r, 0, &calls);
    EXPECT_COUNTS(res, 0, 0);
    CU_ASSERT_EQUAL(res.allocated_clusters, 16);
    CU_ASSERT_EQUAL(res.fragmented_clusters, 0);
    CU_ASSERT_EQUAL(calls, 256);
    raw_free(&r);
}

/* A run that cannot be read is read table by table: each unreadable
 * table is one check error. */
static void test_check_run_read_fails(void)
{
    rawimg r;
    uint64_t calls;
    build_many_tables(&r, 0);
    qed_check_result res = check_counted(&r, 1, &calls);
    CU_ASSERT_EQUAL(res.check_errors, 256);
    CU_ASSERT_EQUAL(res.allocated_clusters, 0);
    raw_free(&r);
}

int suite_check(void)
{
    static const test_case cases[] = {
        { "clean image counts", test_clean },
        { "CHK-4/7 leaks end and middle", test_chk4_chk7_leaks },
        { "CHK-4 two-cluster tables", test_chk4_two_cluster_tables },
        { "CHK-1/5/6 shared data cluster", test_chk1_shared_data },
        { "CHK-1 triple reference", test_chk1_triple_reference },
        { "CHK-1 data on L1/L2 tables", test_chk1_data_on_tables },
        { "CHK-1 shared L2 table", test_chk1_shared_l2 },
        { "CHK-1 shared L2 table with data", test_chk1_shared_full_l2 },
        { "CHK-1 overlapping tables", test_chk1_overlapping_tables },
        { "CHK-2 bad L2 entries", test_chk2_bad_entries },
        { "CHK-2/3 bad L1 entries", test_chk3_bad_l1 },
        { "leaks under a dropped L1", test_leaks_under_bad_l1 },
        { "repair modes", test_repair_modes },
        { "FEAT-2 NEED_CHECK read-only", test_need_check_read_only },
        { "WR-5 NEED_CHECK read-write", test_need_check_read_write },
        { "NO_CHECK flag", test_need_check_no_check },
        { "check limit", test_check_limit },
        { "adjacent tables read in runs", test_check_reads_runs },
        { "a run that fails is read per table", test_check_run_read_fails },
    };
    return ADD_SUITE("check", cases);
}
