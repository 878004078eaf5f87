/*
 * test_backing.c - backing files (BACK-1..5, FEAT-1, FEAT-3): raw and QED
 * chains, NO_PROBE, short backing files, relative names, the depth limit
 * and loops, missing backing files, rebase (qed_set_backing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "helpers.h"

#define CS 4096u
#define IMG_SIZE (1u << 20)

/* Open r's bytes read-only with fs as the backing store. */
static int open_with(const rawimg *r, memfs *fs, const char *path,
                     qed_io **io, qed_image **img)
{
    qed_open_opts o = { .path = path, .open_backing = memfs_open, .backing_ctx = fs };
    *io = mem_io(r->buf, r->len);
    *img = NULL;
    return qed_open(*io, &o, img);
}

static void close_with(qed_image *img, qed_io *io)
{
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    qed_io_close(io);
}

/* Expect the byte at logical offset off. */
static void expect_byte(qed_image *img, uint64_t off, int want)
{
    uint8_t b = 0xee;
    CU_ASSERT_EQUAL(qed_read(img, off, &b, 1), QED_OK);
    if (b != want)
        printf("\n    byte at %llu is %#x, want %#x ", (unsigned long long)off, b, want);
    CU_ASSERT_EQUAL(b, want);
}

/* XLT-2, FEAT-1: unallocated clusters read from a raw backing file. */
static void test_raw_backing(void)
{
    uint8_t back[IMG_SIZE];
    fill_pattern(back, sizeof(back), 11);
    memfs fs = {0};
    memfs_add(&fs, "base.raw", back, sizeof(back));
    rawimg r;
    raw_init(&r, CS, 1, IMG_SIZE);
    raw_set_backing(&r, "base.raw", 1);
    raw_map(&r, 2, raw_add_cluster(&r, 0x5a));
    qed_io *io;
    qed_image *img;
    CU_ASSERT_EQUAL_FATAL(open_with(&r, &fs, NULL, &io, &img), QED_OK);
    CU_ASSERT_STRING_EQUAL(qed_backing_name(img), "base.raw");
    CU_ASSERT_STRING_EQUAL(qed_backing_format(img), "raw");
    uint8_t buf[3 * CS];
    CU_ASSERT_EQUAL(qed_read(img, CS, buf, sizeof(buf)), QED_OK);
    CU_ASSERT_EQUAL(memcmp(buf, back + CS, CS), 0);
    CU_ASSERT_EQUAL(buf[CS], 0x5a);
    CU_ASSERT_EQUAL(memcmp(buf + 2 * CS, back + 3 * CS, CS), 0);
    qed_extent e;
    CU_ASSERT_EQUAL(qed_map(img, 0, 2 * CS, &e), QED_OK);
    CU_ASSERT_EQUAL(e.depth, 1);
    CU_ASSERT_EQUAL(e.flags, QED_MAP_PRESENT | QED_MAP_DATA);
    CU_ASSERT_EQUAL(e.length, 2 * CS);
    CU_ASSERT_EQUAL(e.offset, 0);
    close_with(img, io);
    raw_free(&r);
    memfs_free(&fs);
}

/* BACK-3: past the end of a short backing file reads give zeroes. */
static void test_short_backing(void)
{
    uint8_t back[5000];
    memset(back, 0x3c, sizeof(back));
    memfs fs = {0};
    memfs_add(&fs, "short.raw", back, sizeof(back));
    rawimg r;
    raw_init(&r, CS, 1, IMG_SIZE);
    raw_set_backing(&r, "short.raw", 1);
    qed_io *io;
    qed_image *img;
    CU_ASSERT_EQUAL_FATAL(open_with(&r, &fs, NULL, &io, &img), QED_OK);
    expect_byte(img, 4999, 0x3c);
    expect_byte(img, 5000, 0);
    uint8_t buf[CS];
    CU_ASSERT_EQUAL(qed_read(img, IMG_SIZE - CS, buf, CS), QED_OK);
    CU_ASSERT(all_zero(buf, CS));
    CU_ASSERT_EQUAL(qed_read(img, 4000, buf, 2000), QED_OK);
    CU_ASSERT_EQUAL(buf[999], 0x3c);
    CU_ASSERT(all_zero(buf + 1000, 1000));
    close_with(img, io);
    raw_free(&r);
    memfs_free(&fs);
}

/* A QED image of size bytes with cluster lc filled with fill, backed by
 * backing (probed) when not NULL. */
static void qed_layer(rawimg *r, uint64_t size, const char *backing,
                      uint64_t lc, int fill)
{
    raw_init(r, CS, 1, size);
    if (backing)
        raw_set_backing(r, backing, 0);
    raw_map(r, lc, raw_add_cluster(r, fill));
}

/* A three-level chain: top -> mid.qed -> base.raw (probed as raw). */
static void test_qed_chain(void)
{
    uint8_t base[IMG_SIZE];
    memset(base, 0xb0, sizeof(base));
    memfs fs = {0};
    memfs_add(&fs, "base.raw", base, sizeof(base));
    rawimg mid, top;
    qed_layer(&mid, IMG_SIZE, "base.raw", 1, 0xb1);
    memfs_add(&fs, "mid.qed", mid.buf, mid.len);
    qed_layer(&top, IMG_SIZE, "mid.qed", 2, 0xb2);
    qed_io *io;
    qed_image *img;
    CU_ASSERT_EQUAL_FATAL(open_with(&top, &fs, NULL, &io, &img), QED_OK);
    CU_ASSERT_STRING_EQUAL(qed_backing_format(img), "qed");
    expect_byte(img, 0, 0xb0);
    expect_byte(img, CS, 0xb1);
    expect_byte(img, 2 * CS, 0xb2);
    expect_byte(img, 3 * CS, 0xb0);
    qed_extent e;
    CU_ASSERT_EQUAL(qed_map(img, CS, CS, &e), QED_OK);
    CU_ASSERT_EQUAL(e.depth, 1);
    CU_ASSERT_EQUAL(qed_map(img, 0, CS, &e), QED_OK);
    CU_ASSERT_EQUAL(e.depth, 2);
    close_with(img, io);
    raw_free(&mid);
    raw_free(&top);
    memfs_free(&fs);
}

/* BACK-3: a QED backing image smaller than the top: zeroes past its size,
 * even where its file holds data. */
static void test_short_qed_backing(void)
{
    memfs fs = {0};
    rawimg low, top;
    qed_layer(&low, 2 * CS, NULL, 1, 0xc1);
    memfs_add(&fs, "low.qed", low.buf, low.len);
    qed_layer(&top, IMG_SIZE, "low.qed", 5, 0xc5);
    qed_io *io;
    qed_image *img;
    CU_ASSERT_EQUAL_FATAL(open_with(&top, &fs, NULL, &io, &img), QED_OK);
    expect_byte(img, CS, 0xc1);
    expect_byte(img, 2 * CS - 1, 0xc1);
    expect_byte(img, 2 * CS, 0);
    expect_byte(img, 5 * CS, 0xc5);
    close_with(img, io);
    raw_free(&low);
    raw_free(&top);
    memfs_free(&fs);
}

/* FEAT-3: NO_PROBE makes a QED-looking backing file raw; BACK-2: without it
 * the magic decides. */
static void test_no_probe(void)
{
    memfs fs = {0};
    rawimg low;
    qed_layer(&low, IMG_SIZE, NULL, 0, 0xd0);
    memfs_add(&fs, "low.qed", low.buf, low.len);
    rawimg top;
    raw_init(&top, CS, 1, IMG_SIZE);
    raw_set_backing(&top, "low.qed", 1);
    qed_io *io;
    qed_image *img;
    CU_ASSERT_EQUAL_FATAL(open_with(&top, &fs, NULL, &io, &img), QED_OK);
    CU_ASSERT_STRING_EQUAL(qed_backing_format(img), "raw");
    expect_byte(img, 0, 'Q');                  /* the raw bytes of low.qed */
    expect_byte(img, 1, 'E');
    close_with(img, io);
    raw_set_backing(&top, "low.qed", 0);
    CU_ASSERT_EQUAL_FATAL(open_with(&top, &fs, NULL, &io, &img), QED_OK);
    CU_ASSERT_STRING_EQUAL(qed_backing_format(img), "qed");
    expect_byte(img, 0, 0xd0);
    close_with(img, io);
    raw_free(&low);
    raw_free(&top);
    memfs_free(&fs);
}

/* BACK-1: resolution against the image's directory. */
static void test_resolve(void)
{
    char out[64];
    CU_ASSERT_EQUAL(qed_resolve_backing("/x/y/top.qed", "base.raw", out, sizeof(out)), QED_OK);
    CU_ASSERT_STRING_EQUAL(out, "/x/y/base.raw");
    CU_ASSERT_EQUAL(qed_resolve_backing("dir/top.qed", "sub/b", out, sizeof(out)), QED_OK);
    CU_ASSERT_STRING_EQUAL(out, "dir/sub/b");
    CU_ASSERT_EQUAL(qed_resolve_backing("/x/y/top.qed", "/abs/b", out, sizeof(out)), QED_OK);
    CU_ASSERT_STRING_EQUAL(out, "/abs/b");
    CU_ASSERT_EQUAL(qed_resolve_backing("/x/top.qed", "../b", out, sizeof(out)), QED_OK);
    CU_ASSERT_STRING_EQUAL(out, "/x/../b");    /* no normalisation */
    CU_ASSERT_EQUAL(qed_resolve_backing("top.qed", "b.raw", out, sizeof(out)), QED_OK);
    CU_ASSERT_STRING_EQUAL(out, "b.raw");
    /* "/x/y/base.raw" is 13 bytes + NUL */
    CU_ASSERT_EQUAL(qed_resolve_backing("/x/y/top.qed", "base.raw", out, 14), QED_OK);
    CU_ASSERT_EQUAL(qed_resolve_backing("/x/y/top.qed", "base.raw", out, 13), QED_ERR_LIMIT);
    CU_ASSERT_EQUAL(qed_resolve_backing("/x/y/top.qed", "base.raw", out, 0), QED_ERR_LIMIT);
    /* no image path (a memory image): the name is used as is */
    CU_ASSERT_EQUAL(qed_resolve_backing(NULL, "b.raw", out, sizeof(out)), QED_OK);
    CU_ASSERT_STRING_EQUAL(out, "b.raw");
}

/* BACK-1 through qed_open: the opener receives the resolved name, and a
 * QED backing file resolves its own backing against its own directory. */
static void test_relative_chain(void)
{
    uint8_t base[IMG_SIZE];
    memset(base, 0xe0, sizeof(base));
    memfs fs = {0};
    memfs_add(&fs, "/img/lower/base.raw", base, sizeof(base));
    rawimg mid, top;
    qed_layer(&mid, IMG_SIZE, "base.raw", 1, 0xe1);
    memfs_add(&fs, "/img/lower/mid.qed", mid.buf, mid.len);
    qed_layer(&top, IMG_SIZE, "lower/mid.qed", 2, 0xe2);
    qed_io *io;
    qed_image *img;
    CU_ASSERT_EQUAL_FATAL(open_with(&top, &fs, "/img/top.qed", &io, &img), QED_OK);
    CU_ASSERT_EQUAL(fs.opens, 2);
    CU_ASSERT_STRING_EQUAL(fs.last, "/img/lower/base.raw");
    expect_byte(img, 0, 0xe0);
    expect_byte(img, CS, 0xe1);
    close_with(img, io);
    raw_free(&mid);
    raw_free(&top);
    memfs_free(&fs);
}

/* A chain of depth QED layers below a top image, names l0..l<depth-1>. */
static int open_chain(unsigned depth, const qed_limits *lim, int loop)
{
    static char names[40][16];
    memfs fs = {0};
    for (unsigned i = 0; i < depth; i++) {
        rawimg r;
        snprintf(names[i], sizeof(names[i]), "l%u", i);
        char next[16];
        snprintf(next, sizeof(next), "l%u", loop && i + 1 == depth ? 0 : i + 1);
        qed_layer(&r, IMG_SIZE, (i + 1 < depth || loop) ? next : NULL, i, 0x10 + (int)i);
        memfs_add(&fs, names[i], r.buf, r.len);
        raw_free(&r);
    }
    rawimg top;
    qed_layer(&top, IMG_SIZE, "l0", 100, 0xff);
    qed_open_opts o = { .open_backing = memfs_open, .backing_ctx = &fs, .limits = lim };
    qed_io *io = mem_io(top.buf, top.len);
    qed_image *img = NULL;
    int rc = qed_open(io, &o, &img);
    if (rc == QED_OK) {
        uint8_t b = 0;
        CU_ASSERT_EQUAL(qed_read(img, (uint64_t)(depth - 1) * CS, &b, 1), QED_OK);
        CU_ASSERT_EQUAL(b, 0x10 + depth - 1);
        qed_close(img);
    }
    qed_io_close(io);
    raw_free(&top);
    memfs_free(&fs);
    return rc;
}

/* BACK-4: 16 backing files are allowed, 17 are not; a loop is an error. */
static void test_chain_depth(void)
{
    CU_ASSERT_EQUAL(open_chain(16, NULL, 0), QED_OK);
    CU_ASSERT_EQUAL(open_chain(17, NULL, 0), QED_E_CHAIN_DEPTH);
    CU_ASSERT_EQUAL(open_chain(1, NULL, 1), QED_E_CHAIN_DEPTH);   /* l0 -> l0 */
    CU_ASSERT_EQUAL(open_chain(3, NULL, 1), QED_E_CHAIN_DEPTH);
    qed_limits lim;
    qed_limits_default(&lim);
    lim.max_chain_depth = 2;
    CU_ASSERT_EQUAL(open_chain(2, &lim, 0), QED_OK);
    CU_ASSERT_EQUAL(open_chain(3, &lim, 0), QED_E_CHAIN_DEPTH);
}

/* BACK-5: a missing backing file fails the open; NO_BACKING opens anyway
 * and only reads that need the backing file fail. */
static void test_missing_backing(void)
{
    memfs fs = {0};
    rawimg r;
    raw_init(&r, CS, 1, IMG_SIZE);
    raw_set_backing(&r, "gone.raw", 1);
    raw_map(&r, 0, raw_add_cluster(&r, 0x77));
    qed_io *io;
    qed_image *img;
    CU_ASSERT_EQUAL(open_with(&r, &fs, NULL, &io, &img), QED_ERR_BACKING);
    CU_ASSERT_PTR_NULL(img);
    qed_io_close(io);
    io = mem_io(r.buf, r.len);
    CU_ASSERT_EQUAL_FATAL(open_img(io, QED_OPEN_NO_BACKING, &fs, &img), QED_OK);
    CU_ASSERT_EQUAL(fs.opens, 1);          /* only the failed attempt above */
    expect_byte(img, 0, 0x77);
    uint8_t b;
    CU_ASSERT_EQUAL(qed_read(img, CS, &b, 1), QED_ERR_BACKING);
    close_with(img, io);
    raw_free(&r);
}

/* Write a file; CU-fatal on failure. */
static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* BACK-1 and BACK-5 on real files with the default (POSIX) opener. */
static void test_posix_relative(void)
{
    char dir[] = "/tmp/qed-unit-XXXXXX", sub[64], top[96], base[96];
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(sub, sizeof(sub), "%s/sub", dir);
    snprintf(top, sizeof(top), "%s/top.qed", sub);
    snprintf(base, sizeof(base), "%s/base.raw", sub);
    CU_ASSERT_EQUAL_FATAL(mkdir(sub, 0700), 0);
    uint8_t back[2 * CS];
    memset(back, 0x6b, sizeof(back));
    write_file(base, back, sizeof(back));
    rawimg r;
    raw_init(&r, CS, 1, IMG_SIZE);
    raw_set_backing(&r, "base.raw", 1);
    write_file(top, r.buf, r.len);
    qed_io *io = NULL;
    CU_ASSERT_EQUAL_FATAL(qed_io_posix_open(top, 0, &io), QED_OK);
    qed_open_opts o = { .path = top };
    qed_image *img = NULL;
    CU_ASSERT_EQUAL(qed_open(io, &o, &img), QED_OK);
    if (img) {
        expect_byte(img, CS + 5, 0x6b);
        expect_byte(img, 2 * CS, 0);
        qed_close(img);
    }
    unlink(base);
    CU_ASSERT_EQUAL(qed_open(io, &o, &img), QED_ERR_BACKING);
    qed_io_close(io);
    unlink(top);
    rmdir(sub);
    rmdir(dir);
    raw_free(&r);
}

/* Rebase (-u): the name, format bits and header are rewritten in place. */
static void test_set_backing(void)
{
    memfs fs = {0};
    uint8_t back[CS] = {0};
    memfs_add(&fs, "a.raw", back, sizeof(back));
    memfs_add(&fs, "new-longer-name.raw", back, sizeof(back));
    rawimg r;
    raw_init(&r, CS, 1, IMG_SIZE);
    raw_set_backing(&r, "a.raw", 1);
    qed_io *io = mem_io(r.buf, r.len);
    qed_image *img;
    CU_ASSERT_EQUAL_FATAL(open_img(io, QED_OPEN_RDWR, &fs, &img), QED_OK);
    CU_ASSERT_EQUAL(qed_set_backing(img, "new-longer-name.raw", "qed"), QED_OK);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    size_t len;
    uint8_t *b = io_bytes(io, &len);
    uint64_t f = get_le64(b + HOFF_FEATURES);
    CU_ASSERT_EQUAL(f, QED_F_BACKING_FILE);                 /* probe, not NO_PROBE */
    uint32_t off = get_le32(b + HOFF_BOFF), n = get_le32(b + HOFF_BSIZE);
    CU_ASSERT_EQUAL(n, 19);
    CU_ASSERT_EQUAL(off, 64);                               /* WR-11 */
    CU_ASSERT_EQUAL(memcmp(b + off, "new-longer-name.raw", 19), 0);
    free(b);
    CU_ASSERT_EQUAL_FATAL(open_img(io, QED_OPEN_RDWR, &fs, &img), QED_OK);
    CU_ASSERT_STRING_EQUAL(qed_backing_name(img), "new-longer-name.raw");
    /* WR-11: 64 + length > header bytes is refused, nothing changes */
    char big[CS - 64 + 2];
    memset(big, 'n', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CU_ASSERT_EQUAL(qed_set_backing(img, big, "raw"), QED_ERR_LIMIT);
    CU_ASSERT_STRING_EQUAL(qed_backing_name(img), "new-longer-name.raw");
    big[sizeof(big) - 2] = '\0';                             /* exactly fits */
    CU_ASSERT_EQUAL(qed_set_backing(img, big, "raw"), QED_OK);
    CU_ASSERT_EQUAL(qed_set_backing(img, NULL, NULL), QED_OK);
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    b = io_bytes(io, &len);
    CU_ASSERT_EQUAL(get_le64(b + HOFF_FEATURES), 0);        /* both bits cleared */
    free(b);
    qed_io_close(io);
    raw_free(&r);
    memfs_free(&fs);
}

int suite_backing(void)
{
    static const test_case cases[] = {
        { "FEAT-1 raw backing", test_raw_backing },
        { "BACK-3 short raw backing", test_short_backing },
        { "QED chain of three", test_qed_chain },
        { "BACK-3 short QED backing", test_short_qed_backing },
        { "FEAT-3 NO_PROBE / BACK-2 probe", test_no_probe },
        { "BACK-1 qed_resolve_backing", test_resolve },
        { "BACK-1 relative chain", test_relative_chain },
        { "BACK-4 depth limit and loops", test_chain_depth },
        { "BACK-5 missing backing", test_missing_backing },
        { "BACK-1/5 POSIX files", test_posix_relative },
        { "rebase qed_set_backing", test_set_backing },
    };
    return ADD_SUITE("backing", cases);
}
