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
 * Input: 3 prefix bytes, then FUZZ_OP_BYTES-byte records (fuzz_util.h).
 *   byte 0: cluster_size 4096 << (b & 3), table_size 1 << ((b >> 2) & 3);
 *           bit 4 opens with qed_open_opts.path NULL (allowed by qed.h),
 *           else "fuzzdir/image.qed"
 *   byte 1: image_size 512 * (1 + 8 * b)  (512 bytes .. 1 MiB + 512)
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
#define MAX_IMAGE (512u * (1 + 8 * 255))    /* largest image_size */
#define BACKING_NAME "backing.raw"

/* The image under test, its memory file and the expected disk. */
typedef struct ops_state {
    qed_io *io;
    qed_image *img;
    uint8_t *model;            /* image_size bytes */
    uint8_t *buf;              /* BUF_LEN bytes */
    fuzz_bytes backing;        /* .data NULL: no backing file */
    const char *path;          /* qed_open_opts.path */
    uint64_t image_size;
    uint32_t cluster_size;
    qed_limits lim;
} ops_state;

/* Backing callback: a fresh memory copy of the raw backing file. */
static int open_raw_backing(void *ctx, const char *path, qed_io **out)
{
    const fuzz_bytes *b = ctx;

    (void)path;
    return qed_io_mem_new(b->size ? b->data : NULL, b->size, b->size, out);
}

/* Open the memory file (flags: QED_OPEN_*) into *img. */
static int open_image(ops_state *s, unsigned flags, qed_image **img)
{
    qed_open_opts opts = { 0 };

    opts.flags = flags;
    opts.path = s->path;
    opts.limits = &s->lim;
    opts.open_backing = open_raw_backing;
    opts.backing_ctx = &s->backing;
    return qed_open(s->io, &opts, img);
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
    s->image_size = (uint64_t)QED_SECTOR_SIZE * (1 + 8u * sz);
    blen = s->image_size * (bk >> 1) / 64;
    fuzz_fill(backing_buf, (size_t)blen, 0, 7);
    memset(s->model, 0, (size_t)s->image_size);             /* BACK-3 */
    if (bk & 1)
        memcpy(s->model, backing_buf,
               (size_t)(blen < s->image_size ? blen : s->image_size));
    co.image_size = s->image_size;
    co.cluster_size = s->cluster_size;
    co.table_size = 1u << ((g >> 2) & 3);
    if (bk & 1) {
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

/* Read [off, off+len) and compare with the model. */
static void check_read(ops_state *s, qed_image *img, uint64_t off, size_t len)
{
    int rc = qed_read(img, off, s->buf, len);
    size_t i = 0;

    FUZZ_ASSERT(rc == QED_OK, "read %llu+%zu failed: %d (%s)",
                (unsigned long long)off, len, rc, qed_strerror(rc));
    if (memcmp(s->buf, s->model + off, len) == 0)
        return;
    while (s->buf[i] == s->model[off + i])
        i++;
    FUZZ_ASSERT(0, "byte %llu reads 0x%02x, model 0x%02x",
                (unsigned long long)(off + i), s->buf[i], s->model[off + i]);
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

/* Write len bytes of a position-dependent pattern at off. */
static void do_write(ops_state *s, uint64_t off, size_t len, uint8_t pat)
{
    int rc;

    fuzz_fill(s->buf, len, off, pat);
    rc = qed_write(s->img, off, s->buf, len);
    FUZZ_ASSERT(rc == QED_OK, "write %llu+%zu failed: %d (%s)",
                (unsigned long long)off, len, rc, qed_strerror(rc));
    memcpy(s->model + off, s->buf, len);
}

/* Write zeroes over [off, off+len) (WR-8). */
static void do_zeroes(ops_state *s, uint64_t off, size_t len)
{
    int rc = qed_write_zeroes(s->img, off, len);

    FUZZ_ASSERT(rc == QED_OK, "write-zeroes %llu+%zu failed: %d (%s)",
                (unsigned long long)off, len, rc, qed_strerror(rc));
    memset(s->model + off, 0, len);
}

/* Decode and run one operation record. */
static void run_op(ops_state *s, fuzz_cursor *c)
{
    uint8_t kind = fuzz_take_u8(c);
    uint64_t off = fuzz_take_le(c, 3) % s->image_size;
    uint64_t len = fuzz_take_le(c, 2) % MAX_LEN + 1;
    uint8_t pat = fuzz_take_u8(c);
    int rc;

    if (kind & FUZZ_OP_ALIGNED) {
        off -= off % s->cluster_size;
        len = (len + s->cluster_size - 1) / s->cluster_size * s->cluster_size;
    }
    if (len > s->image_size - off)
        len = s->image_size - off;
    switch ((kind & 7) % FUZZ_OP_KINDS) {
    case FUZZ_OP_WRITE:  do_write(s, off, (size_t)len, pat); break;
    case FUZZ_OP_ZEROES: do_zeroes(s, off, (size_t)len); break;
    case FUZZ_OP_FLUSH:
        rc = qed_flush(s->img);
        FUZZ_ASSERT(rc == QED_OK, "flush failed: %d (%s)", rc, qed_strerror(rc));
        break;
    case FUZZ_OP_REOPEN: reopen(s); break;
    default:             check_read(s, s->img, off, (size_t)len); break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_cursor c = { { data, size }, 0 };
    ops_state s = { 0 };
    uint8_t *backing_buf = malloc(2u * MAX_IMAGE);
    int rc;

    fuzz_limits(&s.lim);
    s.model = malloc(MAX_IMAGE);
    s.buf = malloc(BUF_LEN);
    if (size < FUZZ_OPS_PREFIX || !backing_buf || !s.model || !s.buf ||
        qed_io_mem_new(NULL, 0, FILE_MAX, &s.io) != QED_OK)
        goto out;
    setup(&s, &c, backing_buf);
    for (unsigned n = 0; n < MAX_OPS && fuzz_remaining(&c) >= FUZZ_OP_BYTES; n++)
        run_op(&s, &c);
    check_all(&s, s.img);
    rc = qed_close(s.img);
    s.img = NULL;
    FUZZ_ASSERT(rc == QED_OK, "final close failed: %d (%s)", rc, qed_strerror(rc));
    check_closed_file(&s);
out:
    qed_close(s.img);
    qed_io_close(s.io);
    free(s.buf);
    free(s.model);
    free(backing_buf);
    return 0;
}
