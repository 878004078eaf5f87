/*
 * helpers.c - shared fixtures for the libqed unit tests (see helpers.h).
 */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>

/* Register one suite and its cases with CUnit. */
int add_suite(const char *name, const test_case *cases, size_t n)
{
    CU_pSuite s = CU_add_suite(name, NULL, NULL);
    if (!s)
        return CU_get_error();
    for (size_t i = 0; i < n; i++)
        if (!CU_add_test(s, cases[i].name, cases[i].fn))
            return CU_get_error();
    return CUE_SUCCESS;
}

void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint32_t get_le32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Grow r->buf to at least len bytes, zero-filling; aborts on OOM. */
static void raw_grow(rawimg *r, size_t len)
{
    if (len <= r->len)
        return;
    uint8_t *p = realloc(r->buf, len);
    if (!p)
        abort();
    memset(p + r->len, 0, len - r->len);
    r->buf = p;
    r->len = len;
}

/* Header + zeroed L1 table, header_size 1, no features. */
void raw_init(rawimg *r, uint32_t cluster, uint32_t table, uint64_t image_size)
{
    memset(r, 0, sizeof(*r));
    r->cluster = cluster;
    r->table = table;
    r->l1 = cluster;
    raw_grow(r, (size_t)cluster * (1 + table));
    put_le32(r->buf + HOFF_MAGIC, QED_MAGIC);
    put_le32(r->buf + HOFF_CLUSTER, cluster);
    put_le32(r->buf + HOFF_TABLE, table);
    put_le32(r->buf + HOFF_HSIZE, 1);
    put_le64(r->buf + HOFF_L1, r->l1);
    put_le64(r->buf + HOFF_ISIZE, image_size);
}

/* Backing name at byte 64 (not NUL-terminated), BACKING_FILE set. */
void raw_set_backing(rawimg *r, const char *name, int no_probe)
{
    size_t n = strlen(name);
    memcpy(r->buf + QED_HEADER_BYTES, name, n);
    put_le32(r->buf + HOFF_BOFF, QED_HEADER_BYTES);
    put_le32(r->buf + HOFF_BSIZE, (uint32_t)n);
    put_le64(r->buf + HOFF_FEATURES, QED_F_BACKING_FILE |
             (no_probe ? QED_F_BACKING_FORMAT_NO_PROBE : 0));
}

/* Append a cluster of byte fill at the next cluster boundary. */
uint64_t raw_add_cluster(rawimg *r, int fill)
{
    size_t off = (r->len + r->cluster - 1) / r->cluster * r->cluster;
    raw_grow(r, off + r->cluster);
    memset(r->buf + off, fill, r->cluster);
    return off;
}

uint64_t raw_add_table(rawimg *r)
{
    uint64_t off = raw_add_cluster(r, 0);
    for (uint32_t i = 1; i < r->table; i++)
        raw_add_cluster(r, 0);
    return off;
}

uint64_t raw_entries(const rawimg *r)
{
    return (uint64_t)r->table * r->cluster / 8;
}

void raw_set_l1(rawimg *r, uint64_t idx, uint64_t val)
{
    put_le64(r->buf + r->l1 + idx * 8, val);
}

void raw_set_l2(rawimg *r, uint64_t l2_off, uint64_t idx, uint64_t val)
{
    put_le64(r->buf + l2_off + idx * 8, val);
}

uint64_t raw_get_l2(const rawimg *r, uint64_t l2_off, uint64_t idx)
{
    return get_le64(r->buf + l2_off + idx * 8);
}

void raw_put32(rawimg *r, size_t off, uint32_t v) { put_le32(r->buf + off, v); }
void raw_put64(rawimg *r, size_t off, uint64_t v) { put_le64(r->buf + off, v); }
uint64_t raw_get64(const rawimg *r, size_t off) { return get_le64(r->buf + off); }

/* Point logical cluster lc at data, creating its L2 table when needed. */
uint64_t raw_map(rawimg *r, uint64_t lc, uint64_t data)
{
    uint64_t n = raw_entries(r);
    uint64_t l2 = get_le64(r->buf + r->l1 + lc / n * 8);
    if (l2 == 0) {
        l2 = raw_add_table(r);
        raw_set_l1(r, lc / n, l2);
    }
    raw_set_l2(r, l2, lc % n, data);
    return l2;
}

void raw_free(rawimg *r)
{
    free(r->buf);
    memset(r, 0, sizeof(*r));
}

qed_io *mem_io(const void *buf, size_t len)
{
    qed_io *io = NULL;
    int rc = qed_io_mem_new(buf, len, MEM_MAX, &io);
    CU_ASSERT_EQUAL_FATAL(rc, QED_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(io);
    return io;
}

typedef struct borrowed {
    qed_io io;          /* first: a borrowed is a qed_io */
    qed_io *inner;
} borrowed;

static int bor_read(qed_io *io, uint64_t off, void *buf, size_t len)
{
    qed_io *in = ((borrowed *)io)->inner;
    return in->read(in, off, buf, len);
}

static int bor_write(qed_io *io, uint64_t off, const void *buf, size_t len)
{
    qed_io *in = ((borrowed *)io)->inner;
    return in->write(in, off, buf, len);
}

static int bor_flush(qed_io *io)
{
    qed_io *in = ((borrowed *)io)->inner;
    return in->flush(in);
}

static int bor_length(qed_io *io, uint64_t *len)
{
    qed_io *in = ((borrowed *)io)->inner;
    return in->length(in, len);
}

static int bor_truncate(qed_io *io, uint64_t len)
{
    qed_io *in = ((borrowed *)io)->inner;
    return in->truncate(in, len);
}

static void bor_close(qed_io *io)
{
    free(io);
}

qed_io *io_borrow(qed_io *inner)
{
    borrowed *b = calloc(1, sizeof(*b));
    if (!b)
        abort();
    b->io = (qed_io){ bor_read, bor_write, bor_flush, bor_length, bor_truncate, bor_close };
    b->inner = inner;
    return &b->io;
}

uint8_t *io_bytes(qed_io *io, size_t *len)
{
    const uint8_t *data = NULL;
    qed_io_mem_data(io, &data, len);
    uint8_t *copy = malloc(*len ? *len : 1);
    if (!copy)
        abort();
    if (*len)
        memcpy(copy, data, *len);
    return copy;
}

qed_io *create_mem(uint64_t size, uint32_t cluster, uint32_t table,
                   const char *backing, const char *fmt)
{
    qed_io *io = mem_io(NULL, 0);
    qed_create_opts o = {
        .image_size = size, .cluster_size = cluster, .table_size = table,
        .backing_file = backing, .backing_format = fmt,
    };
    int rc = qed_create(io, &o);
    CU_ASSERT_EQUAL(rc, QED_OK);
    if (rc != QED_OK) {
        qed_io_close(io);
        return NULL;
    }
    return io;
}

int open_img(qed_io *io, unsigned flags, void *fs, qed_image **img)
{
    qed_open_opts o = {
        .flags = flags,
        .open_backing = fs ? memfs_open : NULL,
        .backing_ctx = fs,
    };
    *img = NULL;
    return qed_open(io, &o, img);
}

void memfs_add(memfs *fs, const char *path, const void *data, size_t len)
{
    if (fs->n >= MEMFS_FILES)
        abort();
    fs->path[fs->n] = path;
    fs->data[fs->n] = malloc(len ? len : 1);
    if (!fs->data[fs->n])
        abort();
    if (len)
        memcpy(fs->data[fs->n], data, len);
    fs->len[fs->n] = len;
    fs->n++;
}

void memfs_free(memfs *fs)
{
    for (int i = 0; i < fs->n; i++)
        free(fs->data[i]);
    memset(fs, 0, sizeof(*fs));
}

int memfs_open(void *ctx, const char *path, qed_io **out)
{
    memfs *fs = ctx;
    if (++fs->opens > MEMFS_MAX_OPENS)
        return QED_ERR_LIMIT;       /* a chain that never ends: stop it here */
    strncpy(fs->last, path, sizeof(fs->last) - 1);
    fs->last[sizeof(fs->last) - 1] = '\0';
    for (int i = 0; i < fs->n; i++)
        if (strcmp(fs->path[i], path) == 0)
            return qed_io_mem_new(fs->data[i], fs->len[i], fs->len[i], out);
    return QED_ERR_BACKING;
}

uint64_t rng_next(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9e3779b97f4a7c15u;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1du;
}

void fill_pattern(uint8_t *buf, size_t len, uint64_t seed)
{
    uint64_t s = seed * 0x9e3779b97f4a7c15u + 1;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(rng_next(&s) >> 56);
}

int all_zero(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i])
            return 0;
    return 1;
}
