/*
 * test_header.c - header decoding and validation (HDR-1..HDR-14, FILE-2,
 * FILE-3), qed_max_image_size, qed_probe, qed_strerror / qed_rule_id.
 *
 * Every rule test starts from a valid image built by hand (helpers.c),
 * flips ONE header field and asserts the exact status of
 * qed_header_validate and of qed_open on a memory image.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define CS 65536u          /* base geometry: cluster 64 KiB, table 4 */
#define TS 4u
#define BASE_SIZE (1ull << 30)

/* The base image: valid, with a backing file "base.img" (raw, NO_PROBE). */
static void base_image(rawimg *r)
{
    raw_init(r, CS, TS, BASE_SIZE);
    raw_set_backing(r, "base.img", 1);
}

/* qed_open of r's bytes read-only, with "base.img" available. */
static int open_status(const rawimg *r)
{
    memfs fs = {0};
    static const uint8_t backing[512];
    memfs_add(&fs, "base.img", backing, sizeof(backing));
    qed_io *io = mem_io(r->buf, r->len);
    qed_image *img = NULL;
    int rc = open_img(io, 0, &fs, &img);
    if (rc == QED_OK)
        CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    qed_io_close(io);
    memfs_free(&fs);
    return rc;
}

/* Validate r's header through the library decoder. */
static int validate_status(const rawimg *r)
{
    qed_header h;
    qed_header_decode(r->buf, &h);
    return qed_header_validate(&h, r->len);
}

/* Flip one header field (width 4 or 8 bytes) and expect status from both
 * qed_header_validate and qed_open. */
static void expect_flip(size_t off, int width, uint64_t val, int expect)
{
    rawimg r;
    base_image(&r);
    if (width == 4)
        raw_put32(&r, off, (uint32_t)val);
    else
        raw_put64(&r, off, val);
    int v = validate_status(&r);
    int o = open_status(&r);
    if (v != expect || o != expect)
        printf("\n    field@%zu=%#llx: validate %d, open %d, expected %d ",
               off, (unsigned long long)val, v, o, expect);
    CU_ASSERT_EQUAL(v, expect);
    CU_ASSERT_EQUAL(o, expect);
    raw_free(&r);
}

static void test_base_is_valid(void)
{
    rawimg r;
    base_image(&r);
    CU_ASSERT_EQUAL(validate_status(&r), QED_OK);
    CU_ASSERT_EQUAL(open_status(&r), QED_OK);
    raw_free(&r);
}

/* qed_header_decode reads every field little-endian at its offset (FILE-1),
 * and encode is its exact inverse. */
static void test_decode_encode(void)
{
    uint8_t buf[QED_HEADER_BYTES], out[QED_HEADER_BYTES];
    for (unsigned i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    qed_header h;
    qed_header_decode(buf, &h);
    CU_ASSERT_EQUAL(h.magic, get_le32(buf + HOFF_MAGIC));
    CU_ASSERT_EQUAL(h.cluster_size, get_le32(buf + HOFF_CLUSTER));
    CU_ASSERT_EQUAL(h.table_size, get_le32(buf + HOFF_TABLE));
    CU_ASSERT_EQUAL(h.header_size, get_le32(buf + HOFF_HSIZE));
    CU_ASSERT_EQUAL(h.features, get_le64(buf + HOFF_FEATURES));
    CU_ASSERT_EQUAL(h.compat_features, get_le64(buf + HOFF_COMPAT));
    CU_ASSERT_EQUAL(h.autoclear_features, get_le64(buf + HOFF_AUTOCLEAR));
    CU_ASSERT_EQUAL(h.l1_table_offset, get_le64(buf + HOFF_L1));
    CU_ASSERT_EQUAL(h.image_size, get_le64(buf + HOFF_ISIZE));
    CU_ASSERT_EQUAL(h.backing_filename_offset, get_le32(buf + HOFF_BOFF));
    CU_ASSERT_EQUAL(h.backing_filename_size, get_le32(buf + HOFF_BSIZE));
    qed_header_encode(&h, out);
    CU_ASSERT_EQUAL(memcmp(buf, out, sizeof(buf)), 0);
}

/* FILE-2: shorter than 64 bytes is truncated; 64 bytes is not. */
static void test_file2_truncated(void)
{
    rawimg r;
    base_image(&r);
    size_t lens[] = { 0, 1, 63 };
    for (size_t i = 0; i < 3; i++) {
        qed_io *io = mem_io(r.buf, lens[i]);
        qed_image *img;
        CU_ASSERT_EQUAL(open_img(io, 0, NULL, &img), QED_E_TRUNCATED);
        qed_io_close(io);
    }
    /* a whole header but no L1 table: HDR-8, not FILE-2 */
    qed_io *io = mem_io(r.buf, 64);
    qed_image *img;
    CU_ASSERT_EQUAL(open_img(io, 0, NULL, &img), QED_E_L1_OFFSET);
    qed_io_close(io);
    raw_free(&r);
}

static void test_hdr1_magic(void)
{
    expect_flip(HOFF_MAGIC, 4, 0x01444551u, QED_E_MAGIC);     /* "QED\1" */
    expect_flip(HOFF_MAGIC, 4, 0xfb494651u, QED_E_MAGIC);     /* qcow2 */
    expect_flip(HOFF_MAGIC, 4, 0x51454400u, QED_E_MAGIC);     /* byte-swapped */
}

static void test_hdr2_cluster_size(void)
{
    expect_flip(HOFF_CLUSTER, 4, 0, QED_E_CLUSTER_SIZE);
    expect_flip(HOFF_CLUSTER, 4, 2048, QED_E_CLUSTER_SIZE);
    expect_flip(HOFF_CLUSTER, 4, 3 * 4096, QED_E_CLUSTER_SIZE);
    expect_flip(HOFF_CLUSTER, 4, 65537, QED_E_CLUSTER_SIZE);
    expect_flip(HOFF_CLUSTER, 4, 1u << 27, QED_E_CLUSTER_SIZE);
    expect_flip(HOFF_CLUSTER, 4, 0x80000000u, QED_E_CLUSTER_SIZE);
}

/* A header of the given geometry with L1 right after one header cluster. */
static qed_header geometry(uint32_t cluster, uint32_t table, uint64_t size)
{
    qed_header h = {
        .magic = QED_MAGIC, .cluster_size = cluster, .table_size = table,
        .header_size = 1, .l1_table_offset = cluster, .image_size = size,
    };
    return h;
}

/* The file length that holds exactly header + L1 for h. */
static uint64_t min_file(const qed_header *h)
{
    return (uint64_t)h->cluster_size * (1 + h->table_size);
}

static void test_hdr2_boundaries(void)
{
    uint32_t ok[] = { 4096, 8192, 1u << 20, 1u << 26 };
    for (int i = 0; i < 4; i++) {
        qed_header h = geometry(ok[i], 1, 0);
        CU_ASSERT_EQUAL(qed_header_validate(&h, min_file(&h)), QED_OK);
    }
    uint32_t bad[] = { 2048, 4095, 4097, 1u << 27 };
    for (int i = 0; i < 4; i++) {
        qed_header h = geometry(bad[i], 1, 0);
        CU_ASSERT_EQUAL(qed_header_validate(&h, 1ull << 30), QED_E_CLUSTER_SIZE);
    }
    /* and through qed_open: the smallest cluster size */
    rawimg r;
    raw_init(&r, 4096, 1, 1 << 20);
    CU_ASSERT_EQUAL(open_status(&r), QED_OK);
    raw_free(&r);
}

static void test_hdr3_table_size(void)
{
    expect_flip(HOFF_TABLE, 4, 0, QED_E_TABLE_SIZE);
    expect_flip(HOFF_TABLE, 4, 3, QED_E_TABLE_SIZE);
    expect_flip(HOFF_TABLE, 4, 32, QED_E_TABLE_SIZE);
    expect_flip(HOFF_TABLE, 4, 0xffffffffu, QED_E_TABLE_SIZE);
    uint32_t ok[] = { 1, 2, 8, 16 };
    for (int i = 0; i < 4; i++) {
        qed_header h = geometry(4096, ok[i], 0);
        CU_ASSERT_EQUAL(qed_header_validate(&h, min_file(&h)), QED_OK);
        rawimg r;
        raw_init(&r, 4096, ok[i], 1 << 20);
        CU_ASSERT_EQUAL(open_status(&r), QED_OK);
        raw_free(&r);
    }
}

static void test_hdr4_header_size(void)
{
    expect_flip(HOFF_HSIZE, 4, 0, QED_E_HEADER_SIZE);
    /* header clusters now cover the L1 table (TBL-4 through HDR-8);
     * 0xffffffff * cluster_size must not wrap in 32 bits */
    expect_flip(HOFF_HSIZE, 4, 2, QED_E_L1_OFFSET);
    expect_flip(HOFF_HSIZE, 4, 0xffffffffu, QED_E_L1_OFFSET);
    expect_flip(HOFF_HSIZE, 4, 0x10001u, QED_E_L1_OFFSET);
}

static void test_hdr5_features(void)
{
    expect_flip(HOFF_FEATURES, 8, QED_F_BACKING_FILE | 0x8, QED_E_FEATURES);
    expect_flip(HOFF_FEATURES, 8, QED_F_BACKING_FILE | (1ull << 63), QED_E_FEATURES);
    expect_flip(HOFF_FEATURES, 8, QED_F_BACKING_FILE | 0x100, QED_E_FEATURES);
}

/* HDR-6: unknown compat bits open fine (read-only and read-write) but the
 * backing file may not be changed. */
static void test_hdr6_compat(void)
{
    expect_flip(HOFF_COMPAT, 8, 1, QED_OK);
    expect_flip(HOFF_COMPAT, 8, 1ull << 63, QED_OK);
    rawimg r;
    base_image(&r);
    raw_put64(&r, HOFF_COMPAT, 0x10);
    qed_io *io = mem_io(r.buf, r.len);
    qed_image *img;
    CU_ASSERT_EQUAL_FATAL(open_img(io, QED_OPEN_RDWR | QED_OPEN_NO_BACKING, NULL, &img), QED_OK);
    CU_ASSERT_EQUAL(qed_get_header(img)->compat_features, 0x10);
    CU_ASSERT_EQUAL(qed_set_backing(img, "other.img", "raw"), QED_E_COMPAT_REBASE);
    CU_ASSERT_EQUAL(qed_set_backing(img, NULL, NULL), QED_E_COMPAT_REBASE);
    CU_ASSERT_STRING_EQUAL(qed_backing_name(img), "base.img");
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    size_t len;
    uint8_t *after = io_bytes(io, &len);
    CU_ASSERT_EQUAL(get_le64(after + HOFF_COMPAT), 0x10);   /* kept */
    CU_ASSERT_EQUAL(memcmp(after + 64, "base.img", 8), 0);
    free(after);
    qed_io_close(io);
    raw_free(&r);
}

/* Open r's bytes with flags; return the file's autoclear field right after
 * open and the header's in *in_mem. */
static uint64_t autoclear_after_open(const rawimg *r, unsigned flags, uint64_t *in_mem)
{
    qed_io *io = mem_io(r->buf, r->len);
    qed_image *img;
    uint64_t v = ~0ull;
    *in_mem = ~0ull;
    CU_ASSERT_EQUAL(open_img(io, flags | QED_OPEN_NO_BACKING, NULL, &img), QED_OK);
    if (img) {
        size_t len;
        uint8_t *b = io_bytes(io, &len);
        v = get_le64(b + HOFF_AUTOCLEAR);
        *in_mem = qed_get_header(img)->autoclear_features;
        free(b);
        CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    }
    qed_io_close(io);
    return v;
}

/* HDR-7: kept on read-only open, cleared in the file on read-write open. */
static void test_hdr7_autoclear(void)
{
    expect_flip(HOFF_AUTOCLEAR, 8, 1, QED_OK);
    rawimg r;
    base_image(&r);
    raw_put64(&r, HOFF_AUTOCLEAR, 0x8000000000000003ull);
    uint64_t hdr;
    CU_ASSERT_EQUAL(autoclear_after_open(&r, 0, &hdr), 0x8000000000000003ull);
    CU_ASSERT_EQUAL(hdr, 0x8000000000000003ull);
    CU_ASSERT_EQUAL(autoclear_after_open(&r, QED_OPEN_RDWR, &hdr), 0);
    CU_ASSERT_EQUAL(hdr, 0);
    raw_free(&r);
}

static void test_hdr8_l1_offset(void)
{
    expect_flip(HOFF_L1, 8, 0, QED_E_L1_OFFSET);                 /* in the header */
    expect_flip(HOFF_L1, 8, CS + 0x800, QED_E_L1_OFFSET);        /* TBL-2 */
    expect_flip(HOFF_L1, 8, CS + 4096, QED_E_L1_OFFSET);         /* TBL-3 */
    expect_flip(HOFF_L1, 8, 2 * CS, QED_E_L1_OFFSET);            /* TBL-4: last cluster past EOF */
    expect_flip(HOFF_L1, 8, 5 * CS, QED_E_L1_OFFSET);            /* starts at EOF */
    expect_flip(HOFF_L1, 8, 0xffffffffffff0000ull, QED_E_L1_OFFSET); /* wraps */
}

/* FILE-3: the L1 range is checked against the length rounded down to a
 * cluster; a trailing partial cluster is harmless. */
static void test_file3_partial_cluster(void)
{
    rawimg r;
    base_image(&r);
    qed_header h;
    qed_header_decode(r.buf, &h);
    CU_ASSERT_EQUAL(qed_header_validate(&h, r.len), QED_OK);
    CU_ASSERT_EQUAL(qed_header_validate(&h, r.len + 100), QED_OK);
    CU_ASSERT_EQUAL(qed_header_validate(&h, r.len - 1), QED_E_L1_OFFSET);
    qed_io *io = mem_io(r.buf, r.len - 1);
    qed_image *img;
    CU_ASSERT_EQUAL(open_img(io, QED_OPEN_NO_BACKING, NULL, &img), QED_E_L1_OFFSET);
    qed_io_close(io);
    raw_free(&r);
}

static void test_hdr9_image_size_align(void)
{
    expect_flip(HOFF_ISIZE, 8, 1, QED_E_IMAGE_SIZE_ALIGN);
    expect_flip(HOFF_ISIZE, 8, 513, QED_E_IMAGE_SIZE_ALIGN);
    expect_flip(HOFF_ISIZE, 8, BASE_SIZE - 256, QED_E_IMAGE_SIZE_ALIGN);
    expect_flip(HOFF_ISIZE, 8, 0, QED_OK);
    expect_flip(HOFF_ISIZE, 8, 512, QED_OK);
}

static void test_hdr10_image_size_max(void)
{
    uint64_t max = 1ull << 46;   /* 64 KiB clusters, table 4 */
    expect_flip(HOFF_ISIZE, 8, max, QED_OK);
    expect_flip(HOFF_ISIZE, 8, max + 512, QED_E_IMAGE_SIZE_MAX);
    expect_flip(HOFF_ISIZE, 8, UINT64_MAX - 511, QED_E_IMAGE_SIZE_MAX);
    struct { uint32_t c, t; uint64_t max; } g[] = {
        { 4096, 1, 1ull << 30 }, { 4096, 16, 1ull << 38 },
        { 2u << 20, 8, 1ull << 63 }, { 1u << 20, 1, 1ull << 54 },
    };
    for (int i = 0; i < 4; i++) {
        qed_header h = geometry(g[i].c, g[i].t, g[i].max);
        CU_ASSERT_EQUAL(qed_header_validate(&h, min_file(&h)), QED_OK);
        h.image_size = g[i].max + 512;
        CU_ASSERT_EQUAL(qed_header_validate(&h, min_file(&h)), QED_E_IMAGE_SIZE_MAX);
    }
    /* no 64-bit maximum: every aligned size is allowed */
    qed_header h = geometry(1u << 26, 16, UINT64_MAX - 511);
    CU_ASSERT_EQUAL(qed_header_validate(&h, min_file(&h)), QED_OK);
}

static void test_max_image_size(void)
{
    CU_ASSERT_EQUAL(qed_max_image_size(4096, 1), 1ull << 30);
    CU_ASSERT_EQUAL(qed_max_image_size(4096, 16), 1ull << 38);
    CU_ASSERT_EQUAL(qed_max_image_size(65536, 1), 1ull << 42);
    CU_ASSERT_EQUAL(qed_max_image_size(65536, 4), 1ull << 46);
    CU_ASSERT_EQUAL(qed_max_image_size(1u << 20, 1), 1ull << 54);
    CU_ASSERT_EQUAL(qed_max_image_size(2u << 20, 4), 1ull << 61);
    CU_ASSERT_EQUAL(qed_max_image_size(2u << 20, 8), 1ull << 63);
    /* 2^64 and beyond: does not fit */
    CU_ASSERT_EQUAL(qed_max_image_size(4u << 20, 4), UINT64_MAX);
    CU_ASSERT_EQUAL(qed_max_image_size(2u << 20, 16), UINT64_MAX);
    CU_ASSERT_EQUAL(qed_max_image_size(1u << 26, 1), UINT64_MAX);
    CU_ASSERT_EQUAL(qed_max_image_size(1u << 26, 16), UINT64_MAX);
}

static void test_hdr11_backing_range(void)
{
    expect_flip(HOFF_BSIZE, 4, CS - 64 + 1, QED_E_BACKING_RANGE);
    expect_flip(HOFF_BOFF, 4, CS - 7, QED_E_BACKING_RANGE);
    expect_flip(HOFF_BOFF, 4, CS, QED_E_BACKING_RANGE);
    /* offset + size must not wrap in 32 bits */
    expect_flip(HOFF_BOFF, 4, 0xfffffff8u, QED_E_BACKING_RANGE);
    expect_flip(HOFF_BSIZE, 4, 0xffffffc0u, QED_E_BACKING_RANGE);
    /* exactly at the end of the header clusters is in range */
    rawimg r;
    base_image(&r);
    memcpy(r.buf + CS - 8, "base.img", 8);
    raw_put32(&r, HOFF_BOFF, CS - 8);
    CU_ASSERT_EQUAL(validate_status(&r), QED_OK);
    CU_ASSERT_EQUAL(open_status(&r), QED_OK);
    raw_free(&r);
}

/* HDR-11 uses header_size clusters, not one. */
static void test_hdr11_multi_cluster_header(void)
{
    rawimg r;
    raw_init(&r, 4096, 1, 1 << 20);
    /* rebuild with header_size 2: L1 moves to cluster 2 */
    raw_add_cluster(&r, 0);
    raw_put32(&r, HOFF_HSIZE, 2);
    raw_put64(&r, HOFF_L1, 8192);
    memset(r.buf + 4096, 0, 8192);
    raw_set_backing(&r, "base.img", 1);
    raw_put32(&r, HOFF_BOFF, 8192 - 8);
    memcpy(r.buf + 8192 - 8, "base.img", 8);
    CU_ASSERT_EQUAL(validate_status(&r), QED_OK);
    CU_ASSERT_EQUAL(open_status(&r), QED_OK);
    raw_put32(&r, HOFF_BOFF, 8192 - 7);
    CU_ASSERT_EQUAL(validate_status(&r), QED_E_BACKING_RANGE);
    raw_free(&r);
}

static void test_hdr12_backing_empty(void)
{
    expect_flip(HOFF_BSIZE, 4, 0, QED_E_BACKING_EMPTY);
}

/* HDR-13 needs the name bytes, so only qed_open can see it. */
static void test_hdr13_backing_nul(void)
{
    rawimg r;
    base_image(&r);
    r.buf[64 + 3] = '\0';
    CU_ASSERT_EQUAL(validate_status(&r), QED_OK);
    CU_ASSERT_EQUAL(open_status(&r), QED_E_BACKING_NUL);
    raw_free(&r);
    base_image(&r);
    raw_put32(&r, HOFF_BSIZE, 9);          /* the byte after the name is 0 */
    CU_ASSERT_EQUAL(open_status(&r), QED_E_BACKING_NUL);
    raw_free(&r);
}

/* HDR-14: backing fields are ignored without BACKING_FILE, and NO_PROBE
 * alone is ignored. */
static void test_hdr14_ignored_fields(void)
{
    expect_flip(HOFF_FEATURES, 8, 0, QED_OK);
    expect_flip(HOFF_FEATURES, 8, QED_F_BACKING_FORMAT_NO_PROBE, QED_OK);
    rawimg r;
    raw_init(&r, CS, TS, BASE_SIZE);
    raw_put32(&r, HOFF_BOFF, 0xffffffffu);
    raw_put32(&r, HOFF_BSIZE, 0);
    CU_ASSERT_EQUAL(validate_status(&r), QED_OK);
    qed_io *io = mem_io(r.buf, r.len);
    qed_image *img;
    CU_ASSERT_EQUAL_FATAL(open_img(io, 0, NULL, &img), QED_OK);
    CU_ASSERT_PTR_NULL(qed_backing_name(img));
    CU_ASSERT_PTR_NULL(qed_backing_format(img));
    qed_close(img);
    qed_io_close(io);
    raw_free(&r);
}

/* qed_limits.max_table_bytes bounds what a header can make open allocate. */
static void test_table_limit(void)
{
    rawimg r;
    raw_init(&r, 8192, 2, 1 << 20);
    qed_limits lim;
    qed_limits_default(&lim);
    lim.max_table_bytes = 16384;
    qed_open_opts o = { .limits = &lim };
    qed_io *io = mem_io(r.buf, r.len);
    qed_image *img = NULL;
    CU_ASSERT_EQUAL(qed_open(io, &o, &img), QED_OK);        /* exactly the limit */
    qed_close(img);
    lim.max_table_bytes = 16383;
    CU_ASSERT_EQUAL(qed_open(io, &o, &img), QED_ERR_LIMIT);
    qed_io_close(io);
    raw_free(&r);
}

static void test_probe(void)
{
    static const uint8_t qed[8] = { 'Q', 'E', 'D', 0, 1, 2, 3, 4 };
    static const uint8_t qcow[8] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
    CU_ASSERT_EQUAL(qed_probe(qed, 8), 1);
    CU_ASSERT_EQUAL(qed_probe(qed, 4), 1);
    CU_ASSERT_EQUAL(qed_probe(qed, 3), 0);
    CU_ASSERT_EQUAL(qed_probe(qed, 0), 0);
    CU_ASSERT_EQUAL(qed_probe(qcow, 8), 0);
}

/* ---- qed_strerror / qed_rule_id ------------------------------------ */

/* Read the first column of the rules table ($QED_RULES_TSV, which make
 * test-unit sets to the tree's spec/rules.tsv, else spec/rules.tsv under
 * the current directory) into a malloc'd buffer of "\nID\n" records; NULL
 * when the file cannot be read. */
static char *load_rule_ids(void)
{
    const char *env = getenv("QED_RULES_TSV");
    const char *path = env && env[0] ? env : "spec/rules.tsv";
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("\n    cannot read %s (set QED_RULES_TSV to spec/rules.tsv) ", path);
        return NULL;
    }
    char line[1024];
    size_t cap = 65536, used = 1;
    char *ids = calloc(cap, 1);
    if (ids)
        ids[0] = '\n';
    while (ids && fgets(line, sizeof(line), f)) {
        size_t n = strcspn(line, "\t\n");
        if (used + n + 2 < cap) {
            memcpy(ids + used, line, n);
            used += n;
            ids[used++] = '\n';
        }
    }
    fclose(f);
    return ids;
}

/* 1 when id is one of the rule IDs. */
static int rule_known(const char *ids, const char *id)
{
    char key[64];
    snprintf(key, sizeof(key), "\n%s\n", id);
    return strstr(ids, key) != NULL;
}

/* Every status from the lowest (QED_ERR_TOO_LARGE) to the highest
 * (QED_E_LAST) has its own text. */
static void test_strerror_distinct(void)
{
    for (int a = QED_ERR_TOO_LARGE; a <= QED_E_LAST; a++) {
        const char *ta = qed_strerror(a);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ta);
        CU_ASSERT(strlen(ta) > 0);
        for (int b = QED_ERR_TOO_LARGE; b < a; b++)
            if (strcmp(ta, qed_strerror(b)) == 0) {
                printf("\n    statuses %d and %d share text \"%s\" ", a, b, ta);
                CU_FAIL("two statuses share one text");
            }
    }
    CU_ASSERT_PTR_NOT_NULL(qed_strerror(9999));
    CU_ASSERT_PTR_NOT_NULL(qed_strerror(-9999));
}

static void test_rule_ids(void)
{
    static const char *expect[QED_E_LAST + 1] = {
        [QED_E_TRUNCATED] = "FILE-2", [QED_E_MAGIC] = "HDR-1",
        [QED_E_CLUSTER_SIZE] = "HDR-2", [QED_E_TABLE_SIZE] = "HDR-3",
        [QED_E_HEADER_SIZE] = "HDR-4", [QED_E_FEATURES] = "HDR-5",
        [QED_E_COMPAT_REBASE] = "HDR-6", [QED_E_L1_OFFSET] = "HDR-8",
        [QED_E_IMAGE_SIZE_ALIGN] = "HDR-9", [QED_E_IMAGE_SIZE_MAX] = "HDR-10",
        [QED_E_BACKING_RANGE] = "HDR-11", [QED_E_BACKING_EMPTY] = "HDR-12",
        [QED_E_BACKING_NUL] = "HDR-13", [QED_E_RESERVED_BITS] = "TBL-2",
        [QED_E_MISALIGNED] = "TBL-3", [QED_E_TABLE_RANGE] = "TBL-4",
        [QED_E_DATA_RANGE] = "TBL-6", [QED_E_CHAIN_DEPTH] = "BACK-4",
        [QED_E_SHRINK] = "WR-9",
    };
    char *ids = load_rule_ids();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ids);
    for (int s = QED_E_TRUNCATED; s <= QED_E_LAST; s++) {
        const char *id = qed_rule_id(s);
        CU_ASSERT_PTR_NOT_NULL_FATAL(id);
        if (!rule_known(ids, id))
            printf("\n    status %d: rule id \"%s\" not in spec/rules.tsv ", s, id);
        CU_ASSERT(rule_known(ids, id));
        CU_ASSERT_PTR_NOT_NULL_FATAL(expect[s]);    /* every status listed */
        CU_ASSERT_STRING_EQUAL(id, expect[s]);
    }
    for (int s = QED_ERR_TOO_LARGE; s <= QED_OK; s++)
        CU_ASSERT_STRING_EQUAL(qed_rule_id(s), "");
    free(ids);
}

/* qed.h documents the text as naming its rule, e.g. "... (HDR-2)". */
static void test_strerror_names_rule(void)
{
    for (int s = QED_E_TRUNCATED; s <= QED_E_LAST; s++) {
        const char *id = qed_rule_id(s);
        if (!strstr(qed_strerror(s), id))
            printf("\n    status %d: \"%s\" does not name %s ", s, qed_strerror(s), id);
        CU_ASSERT_PTR_NOT_NULL(strstr(qed_strerror(s), id));
    }
}

int suite_header(void)
{
    static const test_case cases[] = {
        { "base image is valid", test_base_is_valid },
        { "decode/encode FILE-1 layout", test_decode_encode },
        { "FILE-2 truncated", test_file2_truncated },
        { "HDR-1 magic", test_hdr1_magic },
        { "HDR-2 cluster_size", test_hdr2_cluster_size },
        { "HDR-2 boundaries 4K..2^26", test_hdr2_boundaries },
        { "HDR-3 table_size", test_hdr3_table_size },
        { "HDR-4 header_size", test_hdr4_header_size },
        { "HDR-5 unknown features", test_hdr5_features },
        { "HDR-6 unknown compat", test_hdr6_compat },
        { "HDR-7 unknown autoclear", test_hdr7_autoclear },
        { "HDR-8 l1_table_offset", test_hdr8_l1_offset },
        { "FILE-3 partial cluster", test_file3_partial_cluster },
        { "HDR-9 image_size alignment", test_hdr9_image_size_align },
        { "HDR-10 image_size maximum", test_hdr10_image_size_max },
        { "HDR-10 qed_max_image_size", test_max_image_size },
        { "HDR-11 backing name range", test_hdr11_backing_range },
        { "HDR-11 multi-cluster header", test_hdr11_multi_cluster_header },
        { "HDR-12 empty backing name", test_hdr12_backing_empty },
        { "HDR-13 NUL in backing name", test_hdr13_backing_nul },
        { "HDR-14 ignored fields", test_hdr14_ignored_fields },
        { "BACK-2 qed_probe", test_probe },
        { "max_table_bytes limit", test_table_limit },
        { "qed_strerror distinct", test_strerror_distinct },
        { "qed_rule_id in rules.tsv", test_rule_ids },
        { "qed_strerror names the rule", test_strerror_names_rule },
    };
    return ADD_SUITE("header", cases);
}
