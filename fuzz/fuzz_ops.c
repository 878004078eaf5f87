/*
 * fuzz_ops - a random sequence of write / write-zeroes / flush / reopen /
 * read on a fresh image in memory, against a flat model of the disk.
 *
 * PROPERTY: every operation on a valid image succeeds; every read returns
 * exactly what the model holds (backing data, zeroes or the last bytes
 * written: XLT-2, BACK-3, WR-7, WR-8); after every clean close NEED_CHECK
 * is clear (WR-4) and a check finds 0 corruptions and 0 leaks (WR-6), and
 * the reopened image still reads as the model.
 *
 * Resize (op FUZZ_OP_RESIZE) grows the image, the new bytes reading from the
 * backing file or as zeroes (XLT-2, BACK-3), or tries to shrink it and is
 * refused with QED_E_SHRINK (WR-9), the content unchanged.
 *
 * With faults (op FUZZ_OP_FAULT: close, then reopen on qed_io_fault_new
 * failing I/O call number 1 + length % 256 with EIO or ENOSPC, once or for
 * good): every call returns QED_OK or a negative QED_ERR_*, never a format
 * error.  At the first failure the session ends as a crash would (close
 * without further checks); then, like the crash oracles O1-O3, a read-write
 * open of the file succeeds (repairing it if NEED_CHECK is set, WR-5), a
 * check finds 0 corruptions, every byte outside the failed request still
 * reads as the model and every byte inside it is either its old or its new
 * value.
 *
 * Input: 3 prefix bytes, then FUZZ_OP_BYTES-byte records (fuzz_util.h).
 *   byte 0: cluster_size 4096 << (b & 3), table_size 1 << ((b >> 2) & 3)
 *           but at most 32 KiB of table (before issue 11 up to 256 KiB:
 *           every open, check and table write costs one step per entry,
 *           and an image of at most 64 clusters uses one L1 entry and at
 *           most 64 entries of its L2 table);
 *           bit 4 opens with qed_open_opts.path NULL (allowed by qed.h),
 *           else "fuzzdir/image.qed"
 *   byte 1: image_size 512 * (1 + 2 * b)  (512 bytes .. 255.5 KiB; up to
 *           1 MiB until issue 11: every reopen reads and checks the whole
 *           disk, and a quarter of the size runs four times as many inputs
 *           through the same code: the largest image still spans 8 (32 KiB
 *           clusters) to 64 clusters)
 *   byte 2: bit 0 a raw backing file, its length image_size * (b >> 1) / 64
 *           (shorter or longer than the image)
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS 64u
#define MAX_LEN (64u << 10)             /* before cluster alignment */
#define BUF_LEN (128u << 10)            /* MAX_LEN rounded up to clusters */
#define FILE_MAX (64u << 20)            /* the memory file's size limit */
#define MAX_IMAGE (512u * (1 + 2 * 255))    /* largest image_size */
#define BACKING_NAME "backing.raw"
#define TABLE_BITS_MAX 3u   /* tables of 4 KiB << 3 at most; >= (b & 3) */

/* The smaller of a and b. */
static unsigned min_unsigned(unsigned a, unsigned b)
{
    return a < b ? a : b;
}

/* The image under test, its memory file and the expected disk. */
typedef struct ops_state {
    qed_io *io;
    qed_image *img;
    uint8_t *model;            /* image_size bytes */
    uint8_t *buf;              /* BUF_LEN bytes */
    fuzz_bytes backing;        /* .data NULL: no backing file */
    int has_backing;
    const char *path;          /* qed_open_opts.path */
    qed_io *fault;             /* the fault injector s->img is on, or NULL */
    uint64_t lost_off;         /* the request that failed under a fault: */
    size_t lost_len;           /* its bytes read back as old or new value */
    uint8_t *lost_new;         /* BUF_LEN bytes: the new value */
    uint64_t image_size;
    uint32_t cluster_size;
    qed_limits lim;
} ops_state;

/* The raw backing file: a read-only qed_io over the harness's buffer (a
 * fresh copy per open cost more than the operations).  Its reads behave
 * as a memory file's; libqed must never write or truncate it. */
typedef struct backing_view {
    qed_io io;                 /* must be first */
    fuzz_bytes bytes;
} backing_view;

static fuzz_bytes view_of(qed_io *io)
{
    return ((backing_view *)io)->bytes;
}

static int v_read(qed_io *io, uint64_t off, void *buf, size_t len)
{
    fuzz_bytes b = view_of(io);

    if (!fuzz_range_ok(b, off, len))
        return QED_ERR_EOF;
    if (len)
        memcpy(buf, b.data + off, len);
    return QED_OK;
}

static int v_write(qed_io *io, uint64_t off, const void *buf, size_t len)
{
    (void)io, (void)buf;
    FUZZ_ASSERT(0, "wrote %zu bytes at %llu of the backing file", len,
                (unsigned long long)off);
}

static int v_flush(qed_io *io)
{
    (void)io;
    return QED_OK;
}

static int v_length(qed_io *io, uint64_t *len)
{
    *len = view_of(io).size;
    return QED_OK;
}

static int v_truncate(qed_io *io, uint64_t len)
{
    (void)io;
    FUZZ_ASSERT(0, "truncated the backing file to %llu",
                (unsigned long long)len);
}

static void v_close(qed_io *io)
{
    free(io);
}

/* Backing callback: a read-only view of the raw backing file. */
static int open_raw_backing(void *ctx, const char *path, qed_io **out)
{
    const fuzz_bytes *b = ctx;
    backing_view *v = calloc(1, sizeof *v);

    (void)path;
    if (!v)
        return QED_ERR_NOMEM;
    v->io = (qed_io){ v_read, v_write, v_flush, v_length, v_truncate, v_close };
    v->bytes = *b;
    *out = &v->io;
    return QED_OK;
}

/* Open the image on io (flags: QED_OPEN_*) into *img. */
static int open_on(ops_state *s, qed_io *io, unsigned flags, qed_image **img)
{
    qed_open_opts opts = { 0 };

    opts.flags = flags;
    opts.path = s->path;
    opts.limits = &s->lim;
    opts.open_backing = open_raw_backing;
    opts.backing_ctx = &s->backing;
    return qed_open(io, &opts, img);
}

/* Open the memory file (flags: QED_OPEN_*) into *img. */
static int open_image(ops_state *s, unsigned flags, qed_image **img)
{
    return open_on(s, s->io, flags, img);
}

/* Create the image and the model from the 3 prefix bytes. */
static void setup(ops_state *s, fuzz_cursor *c, uint8_t *backing_buf)
{
    uint8_t g = fuzz_take_u8(c), sz = fuzz_take_u8(c), bk = fuzz_take_u8(c);
    qed_create_opts co = { 0 };
    uint64_t blen;
    int rc;

    s->cluster_size = QED_MIN_CLUSTER_SIZE << (g & 3);
    s->path = (g & 0x10) ? NULL : "fuzzdir/image.qed";
    s->image_size = (uint64_t)QED_SECTOR_SIZE * (1 + 2u * sz);
    blen = s->image_size * (bk >> 1) / 64;
    memset(s->model, 0, (size_t)s->image_size);             /* BACK-3 */
    if (bk & 1) {
        memcpy(s->model, backing_buf,
               (size_t)(blen < s->image_size ? blen : s->image_size));
    }
    co.image_size = s->image_size;
    co.cluster_size = s->cluster_size;
    co.table_size = 1u << min_unsigned((g >> 2) & 3, TABLE_BITS_MAX - (g & 3));
    if (bk & 1) {
        s->has_backing = 1;
        s->backing = (fuzz_bytes){ backing_buf, (size_t)blen };
        co.backing_file = BACKING_NAME;
        co.backing_format = "raw";
    }
    rc = qed_create(s->io, &co);
    FUZZ_ASSERT(rc == QED_OK, "create failed: %d (%s)", rc, qed_strerror(rc));
    rc = open_image(s, QED_OPEN_RDWR, &s->img);
    FUZZ_ASSERT(rc == QED_OK, "open of a new image failed: %d (%s)", rc,
                qed_strerror(rc));
}

/* The len bytes in s->buf, read at off, equal the model. */
static void compare_model(ops_state *s, uint64_t off, size_t len)
{
    size_t i = 0;

    if (memcmp(s->buf, s->model + off, len) == 0)
        return;
    while (s->buf[i] == s->model[off + i])
        i++;
    FUZZ_ASSERT(0, "byte %llu reads 0x%02x, model 0x%02x",
                (unsigned long long)(off + i), s->buf[i], s->model[off + i]);
}

/* Read [off, off+len) and compare with the model. */
static void check_read(ops_state *s, qed_image *img, uint64_t off, size_t len)
{
    int rc = qed_read(img, off, s->buf, len);

    FUZZ_ASSERT(rc == QED_OK, "read %llu+%zu failed: %d (%s)",
                (unsigned long long)off, len, rc, qed_strerror(rc));
    compare_model(s, off, len);
}

/* Compare the whole disk with the model. */
static void check_all(ops_state *s, qed_image *img)
{
    for (uint64_t off = 0; off < s->image_size; off += BUF_LEN) {
        uint64_t n = s->image_size - off;
        check_read(s, img, off, n < BUF_LEN ? (size_t)n : BUF_LEN);
    }
}

/* After a clean close: NEED_CHECK clear, check clean, content intact. */
static void check_closed_file(ops_state *s)
{
    const uint8_t *d;
    size_t len;
    qed_header h;
    qed_check_result res;
    qed_image *img = NULL;
    int rc;

    qed_io_mem_data(s->io, &d, &len);
    FUZZ_ASSERT(len >= QED_HEADER_BYTES, "file shorter than a header");
    qed_header_decode(d, &h);
    FUZZ_ASSERT(!(h.features & QED_F_NEED_CHECK), "NEED_CHECK set after a "
                "clean close (WR-4)");
    rc = open_image(s, 0, &img);
    FUZZ_ASSERT(rc == QED_OK, "reopen failed: %d (%s)", rc, qed_strerror(rc));
    rc = qed_check(img, QED_REPAIR_NONE, &res);
    FUZZ_ASSERT(rc == QED_OK && res.corruptions == 0 && res.leaks == 0 &&
                res.check_errors == 0, "check after close: rc %d, %llu "
                "corruptions, %llu leaks, %llu errors", rc,
                (unsigned long long)res.corruptions,
                (unsigned long long)res.leaks,
                (unsigned long long)res.check_errors);
    check_all(s, img);
    qed_close(img);
}

/* Close cleanly, check the file, open it read-write again. */
static void reopen(ops_state *s)
{
    int rc = qed_close(s->img);

    s->img = NULL;
    FUZZ_ASSERT(rc == QED_OK, "close failed: %d (%s)", rc, qed_strerror(rc));
    check_closed_file(s);
    rc = open_image(s, QED_OPEN_RDWR, &s->img);
    FUZZ_ASSERT(rc == QED_OK, "read-write reopen failed: %d (%s)", rc,
                qed_strerror(rc));
}

/* A qed_io passing every call to a memory file it does not own, so that a
 * fault injector (which owns its inner io) can sit on s->io. */
typedef struct borrowed_io {
    qed_io io;                 /* must be first */
    qed_io *inner;
} borrowed_io;

static qed_io *inner_of(qed_io *io)
{
    return ((borrowed_io *)io)->inner;
}

static int b_read(qed_io *io, uint64_t off, void *buf, size_t len)
{
    return inner_of(io)->read(inner_of(io), off, buf, len);
}

static int b_write(qed_io *io, uint64_t off, const void *buf, size_t len)
{
    return inner_of(io)->write(inner_of(io), off, buf, len);
}

static int b_flush(qed_io *io)
{
    return inner_of(io)->flush(inner_of(io));
}

static int b_length(qed_io *io, uint64_t *len)
{
    return inner_of(io)->length(inner_of(io), len);
}

static int b_truncate(qed_io *io, uint64_t len)
{
    return inner_of(io)->truncate(inner_of(io), len);
}

static void b_close(qed_io *io)
{
    free(io);
}

/* A fault injector on s->io failing call fail_at; NULL if out of memory. */
static qed_io *new_fault_io(ops_state *s, uint64_t fail_at, int err, int sticky)
{
    borrowed_io *b = calloc(1, sizeof *b);
    qed_io *f = NULL;

    if (!b)
        return NULL;
    b->io = (qed_io){ b_read, b_write, b_flush, b_length, b_truncate, b_close };
    b->inner = s->io;
    if (qed_io_fault_new(&b->io, fail_at, err, sticky, &f) != QED_OK) {
        free(b);
        return NULL;
    }
    return f;
}

/* O3: byte i of the failed request reads its old or its new value. */
static void check_lost_range(ops_state *s, qed_image *img)
{
    size_t i;
    int rc;

    if (s->lost_len == 0)
        return;
    rc = qed_read(img, s->lost_off, s->buf, s->lost_len);
    FUZZ_ASSERT(rc == QED_OK, "read of the failed range: %d (%s)", rc,
                qed_strerror(rc));
    i = fuzz_first_neither(s->buf, s->model + s->lost_off, s->lost_new,
                           s->lost_len);
    FUZZ_ASSERT(i == s->lost_len,
                "byte %llu of the failed request reads 0x%02x: neither "
                "old 0x%02x nor new 0x%02x",
                (unsigned long long)(s->lost_off + i), s->buf[i],
                s->model[s->lost_off + i], s->lost_new[i]);
    memcpy(s->model + s->lost_off, s->buf, s->lost_len);
}

/* After a failure under a fault: end the session as a crash would, then
 * recover with a read-write open (WR-5) and check (O1, O2, O3). */
static void recover(ops_state *s)
{
    qed_check_result res;
    qed_image *img = NULL;
    int rc = qed_close(s->img);

    FUZZ_ASSERT(rc <= 0, "close under a fault: format error %d", rc);
    s->img = NULL;
    qed_io_close(s->fault);
    s->fault = NULL;
    rc = open_image(s, QED_OPEN_RDWR, &img);
    FUZZ_ASSERT(rc == QED_OK, "O1: open after a failed session: %d (%s)", rc,
                qed_strerror(rc));
    rc = qed_check(img, QED_REPAIR_NONE, &res);
    FUZZ_ASSERT(rc == QED_OK && res.corruptions == 0 && res.check_errors == 0,
                "O1: check after recovery: rc %d, %llu corruptions, %llu "
                "errors", rc, (unsigned long long)res.corruptions,
                (unsigned long long)res.check_errors);
    check_lost_range(s, img);
    check_all(s, img);
    rc = qed_close(img);
    FUZZ_ASSERT(rc == QED_OK, "close after recovery: %d (%s)", rc,
                qed_strerror(rc));
}

/* 1 if rc lets the sequence go on; a failure must be an environment error
 * under a fault, and then ends the session (recover). */
static int op_ok(ops_state *s, int rc, const char *what)
{
    if (rc == QED_OK)
        return 1;
    FUZZ_ASSERT(s->fault && rc < 0, "%s failed: %d (%s)", what, rc,
                qed_strerror(rc));
    recover(s);
    return 0;
}

/* FUZZ_OP_FAULT: close cleanly, then reopen on a fault injector failing
 * call 1 + arg % 256 (pat bit 0: ENOSPC, else EIO; bit 1: sticky). */
static int start_faults(ops_state *s, uint64_t arg, uint8_t pat)
{
    int rc;

    if (s->fault)
        return 1;                               /* one injector at a time */
    rc = qed_close(s->img);
    s->img = NULL;
    FUZZ_ASSERT(rc == QED_OK, "close failed: %d (%s)", rc, qed_strerror(rc));
    check_closed_file(s);
    s->fault = new_fault_io(s, 1 + arg % 256,
                            (pat & 1) ? QED_ERR_NOSPC : QED_ERR_IO, pat & 2);
    if (!s->fault) {                            /* out of memory: no faults */
        rc = open_image(s, QED_OPEN_RDWR, &s->img);
        FUZZ_ASSERT(rc == QED_OK, "reopen failed: %d", rc);
        return 1;
    }
    return op_ok(s, open_on(s, s->fault, QED_OPEN_RDWR, &s->img), "open");
}

/* Write len bytes of a position-dependent pattern at off. */
static int do_write(ops_state *s, uint64_t off, size_t len, uint8_t pat)
{
    fuzz_fill(s->buf, len, off, pat);
    memcpy(s->lost_new, s->buf, len);
    s->lost_off = off;
    s->lost_len = len;
    if (!op_ok(s, qed_write(s->img, off, s->buf, len), "write"))
        return 0;
    memcpy(s->model + off, s->lost_new, len);
    s->lost_len = 0;
    return 1;
}

/* Write zeroes over [off, off+len) (WR-8). */
static int do_zeroes(ops_state *s, uint64_t off, size_t len)
{
    memset(s->lost_new, 0, len);
    s->lost_off = off;
    s->lost_len = len;
    if (!op_ok(s, qed_write_zeroes(s->img, off, len), "write-zeroes"))
        return 0;
    memset(s->model + off, 0, len);
    s->lost_len = 0;
    return 1;
}

/* Read [off, off+len) and compare with the model (when it succeeds). */
static int do_read(ops_state *s, uint64_t off, size_t len)
{
    if (!op_ok(s, qed_read(s->img, off, s->buf, len), "read"))
        return 0;
    compare_model(s, off, len);
    return 1;
}

/* End the session on the fault injector with a close: if it succeeds the
 * file is checked as after any clean close and 1 is returned; if it fails
 * the session ends in recovery and 0 is returned. */
static int end_faults(ops_state *s)
{
    int rc = qed_close(s->img);

    s->img = NULL;
    qed_io_close(s->fault);
    s->fault = NULL;
    if (rc != QED_OK) {
        FUZZ_ASSERT(rc < 0, "close under a fault: format error %d", rc);
        recover(s);
        return 0;
    }
    check_closed_file(s);
    return 1;
}

/* FUZZ_OP_REOPEN; under faults the session ends first (end_faults). */
static int do_reopen(ops_state *s)
{
    int rc;

    if (!s->fault) {
        reopen(s);
        return 1;
    }
    if (!end_faults(s))
        return 0;
    rc = open_image(s, QED_OPEN_RDWR, &s->img);
    FUZZ_ASSERT(rc == QED_OK, "read-write reopen failed: %d (%s)", rc,
                qed_strerror(rc));
    return 1;
}

/* FUZZ_OP_RESIZE: pat bit 0 tries to shrink by a sector, else grow by
 * 512 * (1 + arg % 256) bytes up to MAX_IMAGE.  Not under faults (the
 * size after a failed resize is either). */
static int do_resize(ops_state *s, uint64_t arg, uint8_t pat)
{
    uint64_t old = s->image_size, want;
    int rc;

    if (s->fault)
        return 1;
    if (pat & 1) {
        if (old <= QED_SECTOR_SIZE)
            return 1;
        rc = qed_resize(s->img, old - QED_SECTOR_SIZE);
        FUZZ_ASSERT(rc == QED_E_SHRINK, "shrink returned %d (%s)", rc,
                    qed_strerror(rc));                      /* WR-9 */
        return 1;
    }
    want = old + QED_SECTOR_SIZE * (1 + arg % 256);
    if (want > MAX_IMAGE)
        return 1;
    rc = qed_resize(s->img, want);
    FUZZ_ASSERT(rc == QED_OK, "resize %llu -> %llu failed: %d (%s)",
                (unsigned long long)old, (unsigned long long)want, rc,
                qed_strerror(rc));
    memset(s->model + old, 0, (size_t)(want - old));        /* XLT-2 */
    if (s->has_backing && s->backing.size > old)            /* BACK-3 */
        memcpy(s->model + old, s->backing.data + old,
               (size_t)((s->backing.size < want ? s->backing.size : want) - old));
    s->image_size = want;
    return 1;
}

/* Decode and run one operation record; 0 when the session has ended. */
static int run_op(ops_state *s, fuzz_cursor *c)
{
    uint8_t kind = fuzz_take_u8(c);
    uint64_t off = fuzz_take_le(c, 3) % s->image_size;
    uint64_t arg = fuzz_take_le(c, 2), len = arg % MAX_LEN + 1;
    uint8_t pat = fuzz_take_u8(c);

    if (kind & FUZZ_OP_ALIGNED) {
        off -= off % s->cluster_size;
        len = (len + s->cluster_size - 1) / s->cluster_size * s->cluster_size;
    }
    if (len > s->image_size - off)
        len = s->image_size - off;
    switch (kind & 7) {
    case FUZZ_OP_WRITE:  return do_write(s, off, (size_t)len, pat);
    case FUZZ_OP_ZEROES: return do_zeroes(s, off, (size_t)len);
    case FUZZ_OP_FLUSH:  return op_ok(s, qed_flush(s->img), "flush");
    case FUZZ_OP_REOPEN: return do_reopen(s);
    case FUZZ_OP_FAULT:  return start_faults(s, arg, pat);
    case FUZZ_OP_RESIZE: return do_resize(s, arg, pat);
    case FUZZ_OP_READ:   return do_read(s, off, (size_t)len);
    default:             return do_write(s, off, (size_t)len, pat);
    }
}

/* End of input: compare everything, close, check the file. */
static void finish(ops_state *s)
{
    int rc;

    if (s->fault) {
        end_faults(s);
        return;
    }
    check_all(s, s->img);
    rc = qed_close(s->img);
    s->img = NULL;
    FUZZ_ASSERT(rc == QED_OK, "final close failed: %d (%s)", rc, qed_strerror(rc));
    check_closed_file(s);
}

/* The harness's buffers, reused by every input (setup initialises what an
 * input uses; the backing file's pattern is the same for every input and
 * written once): fresh megabytes per input cost more than the operations. */
static uint8_t model_buf[MAX_IMAGE];
static uint8_t backing_buf[2u * MAX_IMAGE];
static uint8_t read_buf[BUF_LEN];
static uint8_t lost_buf[BUF_LEN];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_cursor c = { { data, size }, 0 };
    ops_state s = { 0 };

    if (backing_buf[0] == 0)
        fuzz_fill(backing_buf, sizeof backing_buf, 0, 7);   /* byte 0 is 7 */
    fuzz_limits(&s.lim);
    s.model = model_buf;
    s.buf = read_buf;
    s.lost_new = lost_buf;
    if (size < FUZZ_OPS_PREFIX ||
        qed_io_mem_new(NULL, 0, FILE_MAX, &s.io) != QED_OK)
        goto out;
    setup(&s, &c, backing_buf);
    for (unsigned n = 0; n < MAX_OPS && fuzz_remaining(&c) >= FUZZ_OP_BYTES; n++)
        if (!run_op(&s, &c))
            goto out;                       /* the session ended in a fault */
    finish(&s);
out:
    qed_close(s.img);
    qed_io_close(s.io);
    return 0;
}
