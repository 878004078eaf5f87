/*
 * test_faults.c - fault injection.  Each workload runs once with fail_at 0
 * to count its I/O calls, then once for EVERY call k, on a fresh memory
 * image wrapped in a sticky fault injector failing call k with
 * QED_ERR_IO and with QED_ERR_NOSPC.  The surviving bytes are reopened
 * read-write (WR-5 runs when NEED_CHECK is set) and must: open, check with
 * 0 corruptions, read back every write acknowledged by a later successful
 * flush (or close), and hold either old or new data in every sector of
 * the writes that were not (O3: no foreign data).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define CS 4096u
#define MAX_OPS 6

enum fop_kind { F_WRITE, F_ZERO, F_FLUSH, F_RESIZE };

typedef struct fop {
    enum fop_kind kind;
    uint64_t off, len;              /* for F_RESIZE: off is the new size */
} fop;

typedef struct fwork {
    const char *name;
    uint64_t size;                  /* initial image size */
    size_t backing_len;             /* raw backing file "b.raw", 0: none */
    int dirty;                      /* base: NEED_CHECK, a bad and a shared entry */
    int nops;
    fop ops[MAX_OPS];               /* write/zero ranges never overlap */
} fwork;

/* What one faulty run did. */
typedef struct frun {
    int failed_op;                  /* index of the op that failed, nops+1 for
                                       close, -1 for open, MAX_OPS+1: none */
    int fail_rc;
    int durable[MAX_OPS];           /* acknowledged by a later flush/close */
    uint8_t *bytes;                 /* the file afterwards */
    size_t len;
    uint64_t calls;
} frun;

static const fwork works[] = {
    { .name = "allocating write, no backing", .size = 4u << 20, .nops = 5,
      .ops = { { F_WRITE, CS + 100, 5000 }, { F_FLUSH, 0, 0 },
               { F_WRITE, (2u << 20) - 2000, 4000 }, { F_FLUSH, 0, 0 },
               { F_WRITE, 3u << 20, CS } } },
    { .name = "copy-on-write from raw backing", .size = 4u << 20,
      .backing_len = (3u << 20) + 1000, .nops = 4,
      .ops = { { F_WRITE, 3 * CS + 10, 100 }, { F_FLUSH, 0, 0 },
               { F_WRITE, (2u << 20) + 5 * CS + 7, 3000 },
               { F_WRITE, (3u << 20) - 100, 300 } } },
    { .name = "write zeroes over backing", .size = 4u << 20,
      .backing_len = 4u << 20, .nops = 5,
      .ops = { { F_ZERO, 8 * CS, 3 * CS }, { F_FLUSH, 0, 0 },
               { F_ZERO, 20 * CS + 100, 300 }, { F_FLUSH, 0, 0 },
               { F_ZERO, (2u << 20) + CS, 2 * CS } } },
    { .name = "WR-5 repair on open, then a write", .size = 4u << 20, .dirty = 1,
      .nops = 2, .ops = { { F_WRITE, 9 * CS + 10, 3 * CS }, { F_FLUSH, 0, 0 } } },
    { .name = "resize", .size = 1u << 20, .nops = 5,
      .ops = { { F_WRITE, 2 * CS, CS }, { F_FLUSH, 0, 0 },
               { F_RESIZE, 3u << 20, 0 }, { F_WRITE, (2u << 20) + 100, 1000 },
               { F_FLUSH, 0, 0 } } },
};

/* The bytes op i writes (a pattern, or zeroes). */
static uint8_t *op_data(const fwork *w, int i)
{
    uint8_t *b = calloc(w->ops[i].len, 1);
    if (w->ops[i].kind == F_WRITE)
        fill_pattern(b, w->ops[i].len, 1000 + (uint64_t)i);
    return b;
}

/* Run op i on img; the qed_* status. */
static int run_op(const fwork *w, int i, qed_image *img)
{
    const fop *o = &w->ops[i];
    int rc;
    uint8_t *b;
    switch (o->kind) {
    case F_WRITE:
        b = op_data(w, i);
        rc = qed_write(img, o->off, b, o->len);
        free(b);
        return rc;
    case F_ZERO:
        return qed_write_zeroes(img, o->off, o->len);
    case F_FLUSH:
        return qed_flush(img);
    default:
        return qed_resize(img, o->off);
    }
}

/* Mark every data op before index upto as durable. */
static void mark_durable(const fwork *w, frun *r, int upto)
{
    for (int i = 0; i < upto && i < w->nops; i++)
        r->durable[i] = 1;
}

/* Run w on a copy of base behind a fault injector failing call fail_at. */
static void run_faulty(const fwork *w, memfs *fs, const uint8_t *base,
                       size_t base_len, uint64_t fail_at, int err, frun *r)
{
    memset(r, 0, sizeof(*r));
    r->failed_op = MAX_OPS + 1;
    fs->opens = 0;                  /* memfs counts opens per run */
    qed_io *inner = mem_io(base, base_len), *io = NULL;
    CU_ASSERT_EQUAL_FATAL(qed_io_fault_new(inner, fail_at, err, 1, &io), QED_OK);
    qed_image *img = NULL;
    int rc = open_img(io, QED_OPEN_RDWR, fs, &img);
    if (rc != QED_OK) {
        r->failed_op = -1;
        r->fail_rc = rc;
    }
    for (int i = 0; img && i < w->nops && r->failed_op > MAX_OPS; i++) {
        rc = run_op(w, i, img);
        if (rc != QED_OK) {
            r->failed_op = i;
            r->fail_rc = rc;
        } else if (w->ops[i].kind == F_FLUSH) {
            mark_durable(w, r, i);
        }
    }
    if (img) {
        rc = qed_close(img);
        if (rc == QED_OK && r->failed_op > MAX_OPS)
            mark_durable(w, r, w->nops);
        else if (rc != QED_OK && r->failed_op > MAX_OPS) {
            r->failed_op = w->nops + 1;
            r->fail_rc = rc;
        }
    }
    r->calls = qed_io_fault_calls(io);
    r->bytes = io_bytes(inner, &r->len);
    qed_io_close(io);
}

/* 1 when every 512-byte-sector slice of got is all old or all new. */
static int old_or_new(const uint8_t *got, const uint8_t *old, const uint8_t *new_,
                      uint64_t off, uint64_t len)
{
    uint64_t i = 0;
    while (i < len) {
        uint64_t n = 512 - (off + i) % 512;
        if (n > len - i)
            n = len - i;
        if (memcmp(got + i, old + i, n) && memcmp(got + i, new_ + i, n))
            return 0;
        i += n;
    }
    return 1;
}

/* Verify the op ranges of w in disk (the reopened image, size bytes). */
static int verify_ops(const fwork *w, const frun *r, const uint8_t *disk,
                      const uint8_t *initial, uint64_t size)
{
    int ok = 1;
    for (int i = 0; i < w->nops; i++) {
        const fop *o = &w->ops[i];
        if (o->kind != F_WRITE && o->kind != F_ZERO)
            continue;
        int in_size = o->off + o->len <= size;
        uint8_t *want = op_data(w, i);
        if (r->durable[i])
            ok &= in_size && memcmp(disk + o->off, want, o->len) == 0;   /* O4 */
        else if (in_size)
            ok &= old_or_new(disk + o->off, initial + o->off, want, o->off, o->len); /* O3 */
        free(want);
    }
    return ok;
}

/* 1 when bytes of disk outside every op range equal initial. */
static int verify_untouched(const fwork *w, const uint8_t *disk,
                            const uint8_t *initial, uint64_t size)
{
    uint8_t *mask = calloc(size, 1);
    for (int i = 0; i < w->nops; i++) {
        const fop *o = &w->ops[i];
        if ((o->kind == F_WRITE || o->kind == F_ZERO) && o->off < size)
            memset(mask + o->off, 1, (o->off + o->len <= size ? o->len : size - o->off));
    }
    int ok = 1;
    for (uint64_t b = 0; b < size && ok; b++)
        ok = mask[b] || disk[b] == initial[b];
    free(mask);
    return ok;
}

/* Reopen r's bytes read-write and apply every oracle; 1 when all hold. */
static int verify_run(const fwork *w, memfs *fs, const frun *r,
                      const uint8_t *initial, uint64_t max_size)
{
    qed_io *io = mem_io(r->bytes, r->len);
    qed_image *img;
    int rc = open_img(io, QED_OPEN_RDWR, fs, &img);
    if (rc != QED_OK) {
        printf("\n    reopen: %s ", qed_strerror(rc));
        qed_io_close(io);
        return 0;
    }
    qed_check_result res;
    int ok = qed_check(img, QED_REPAIR_NONE, &res) == QED_OK && res.corruptions == 0;
    uint64_t size = qed_get_header(img)->image_size;
    ok &= size == w->size || (size <= max_size && size > w->size);
    uint8_t *disk = malloc(size);
    ok &= qed_read(img, 0, disk, size) == QED_OK;
    ok = ok && verify_ops(w, r, disk, initial, size) &&
         verify_untouched(w, disk, initial, size);
    free(disk);
    qed_close(img);
    qed_io_close(io);
    return ok;
}

/* The largest size the workload resizes to (or its initial size). */
static uint64_t max_size_of(const fwork *w)
{
    uint64_t m = w->size;
    for (int i = 0; i < w->nops; i++)
        if (w->ops[i].kind == F_RESIZE && w->ops[i].off > m)
            m = w->ops[i].off;
    return m;
}

/* A dirty base (w->dirty): NEED_CHECK set, logical clusters 0 and 5 share
 * one data cluster of 0x11 (CHK-1), cluster 1 points past EOF (CHK-2).
 * After repair (CHK-6) clusters 0 and 5 read 0x11, cluster 1 zeroes:
 * initial is set to that. */
static uint8_t *dirty_base(const fwork *w, size_t *len, uint8_t *initial)
{
    rawimg r;
    raw_init(&r, CS, 1, w->size);
    uint64_t d = raw_add_cluster(&r, 0x11);
    raw_map(&r, 0, d);
    raw_map(&r, 5, d);
    raw_map(&r, 1, 0x10000000);
    raw_put64(&r, HOFF_FEATURES, QED_F_NEED_CHECK);
    memset(initial, 0x11, CS);
    memset(initial + 5 * CS, 0x11, CS);
    *len = r.len;
    return r.buf;
}

/* The base image of w: created by qed_create, or dirty_base. */
static uint8_t *make_base(const fwork *w, size_t *len, uint8_t *initial)
{
    if (w->dirty)
        return dirty_base(w, len, initial);
    qed_io *io = create_mem(w->size, CS, 1, w->backing_len ? "b.raw" : NULL,
                            w->backing_len ? "raw" : NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(io);
    uint8_t *base = io_bytes(io, len);
    qed_io_close(io);
    return base;
}

/* Count the workload's calls, then fail each one in turn with each error. */
static void fault_sweep(const fwork *w)
{
    memfs fs = {0};
    uint64_t max = max_size_of(w);
    uint8_t *initial = calloc(max, 1);
    if (w->backing_len) {
        uint8_t *b = malloc(w->backing_len);
        fill_pattern(b, w->backing_len, 77);
        memfs_add(&fs, "b.raw", b, w->backing_len);
        memcpy(initial, b, w->backing_len < w->size ? w->backing_len : w->size);
        free(b);
    }
    size_t base_len;
    uint8_t *base = make_base(w, &base_len, initial);

    frun r;
    run_faulty(w, &fs, base, base_len, 0, QED_ERR_IO, &r);
    uint64_t calls = r.calls;
    CU_ASSERT_EQUAL(r.failed_op, MAX_OPS + 1);          /* the clean run works */
    CU_ASSERT(verify_run(w, &fs, &r, initial, max));
    free(r.bytes);
    int errs[2] = { QED_ERR_IO, QED_ERR_NOSPC }, bad = 0;
    for (int e = 0; e < 2; e++) {
        for (uint64_t k = 1; k <= calls; k++) {
            run_faulty(w, &fs, base, base_len, k, errs[e], &r);
            int ok = r.failed_op <= MAX_OPS && r.fail_rc == errs[e];
            ok = verify_run(w, &fs, &r, initial, max) && ok;
            if (!ok && bad++ < 5)
                printf("\n    %s: fail call %llu/%llu with %d: op %d returned %d ",
                       w->name, (unsigned long long)k, (unsigned long long)calls,
                       errs[e], r.failed_op, r.fail_rc);
            CU_ASSERT(ok);
            free(r.bytes);
        }
    }
    printf("[%llu calls x 2 errors] ", (unsigned long long)calls);
    free(base);
    free(initial);
    memfs_free(&fs);
}

static void test_fault_alloc(void) { fault_sweep(&works[0]); }
static void test_fault_cow(void) { fault_sweep(&works[1]); }
static void test_fault_zeroes(void) { fault_sweep(&works[2]); }
static void test_fault_repair(void) { fault_sweep(&works[3]); }
static void test_fault_resize(void) { fault_sweep(&works[4]); }

int suite_faults(void)
{
    static const test_case cases[] = {
        { "every call fails: allocating write", test_fault_alloc },
        { "every call fails: copy-on-write", test_fault_cow },
        { "every call fails: write zeroes", test_fault_zeroes },
        { "every call fails: WR-5 repair on open", test_fault_repair },
        { "every call fails: resize", test_fault_resize },
    };
    return ADD_SUITE("faults", cases);
}
