/*
 * make_seeds.c - write the seed corpora of the fuzz harnesses
 * (make fuzz-seeds): small images made with libqed itself, some of them
 * deliberately corrupted, in each harness's input layout (fuzz_util.h and
 * the comment at the top of each harness); for fuzz_trace, dm-log-writes
 * logs made with libqed's trace writer and recorder, and one corruption
 * per kind of error qed_trace_parse reports.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_util.h"
#include "qed_trace.h"

#define FILE_MAX (8u << 20)       /* largest image made here */

static const char USAGE[] =
"Usage: fuzz-make-seeds OUTDIR\n"
"\n"
"Write the seed corpora of the libqed fuzz harnesses into\n"
"OUTDIR/fuzz_NAME/ (created if missing; files of the same name are\n"
"replaced, others are left alone).  The images are made with libqed:\n"
"create, write, write-zeroes, then some are corrupted on purpose.\n"
"Exit status: 0 on success, 1 on any error.\n";

/* A growing byte buffer holding one seed. */
typedef struct seed {
    uint8_t *data;
    size_t len;
} seed;

static const char *g_outdir;
static int g_failed;

/* Print a one-line error and remember the failure. */
static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz-make-seeds: %s: %s\n", what, detail);
    g_failed = 1;
}

/* Write seed s as OUTDIR/harness/name. */
static void save(const char *harness, const char *name, const seed *s)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", g_outdir, harness);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        fail(path, strerror(errno));
        return;
    }
    snprintf(path, sizeof path, "%s/%s/%s", g_outdir, harness, name);
    f = fopen(path, "wb");
    if (!f || fwrite(s->data, 1, s->len, f) != s->len || fclose(f) != 0) {
        fail(path, "cannot write");
        if (f)
            fclose(f);
    }
}

/* Append len bytes to s. */
static void append(seed *s, const void *data, size_t len)
{
    uint8_t *p = realloc(s->data, s->len + len + 1);

    if (!p) {
        fail("append", "out of memory");
        return;
    }
    memcpy(p + s->len, data, len);
    s->data = p;
    s->len += len;
}

/* One write of the image recipes below; zero != 0: write-zeroes. */
typedef struct op {
    uint64_t off;
    uint64_t len;
    int zero;
} op;

/* How to make an image. */
typedef struct recipe {
    uint64_t size;
    uint32_t cluster_size;
    uint32_t table_size;
    const char *backing;          /* name, or NULL */
    const char *backing_format;
    const op *ops;
    size_t nops;
} recipe;

/* Backing callback for make_image: an empty raw file. */
static int open_empty(void *ctx, const char *path, qed_io **out)
{
    (void)ctx;
    (void)path;
    return qed_io_mem_new(NULL, 0, 0, out);
}

/* Apply r's writes (pattern bytes 0x11, 0x22 ...) to an open image. */
static int apply_ops(qed_image *img, const recipe *r)
{
    uint8_t *buf;
    int rc = QED_OK;

    for (size_t i = 0; i < r->nops && rc == QED_OK; i++) {
        const op *o = &r->ops[i];
        if (o->zero) {
            rc = qed_write_zeroes(img, o->off, o->len);
            continue;
        }
        buf = malloc(o->len);
        if (!buf)
            return QED_ERR_NOMEM;
        memset(buf, (int)(0x11 * (i + 1)), o->len);
        rc = qed_write(img, o->off, buf, o->len);
        free(buf);
    }
    return rc;
}

/* Make the image r describes into s (appended). */
static void make_image(const recipe *r, seed *s)
{
    qed_create_opts co = { r->size, r->cluster_size, r->table_size,
                           r->backing, r->backing_format };
    qed_open_opts oo = { .flags = QED_OPEN_RDWR, .open_backing = open_empty };
    qed_image *img = NULL;
    qed_io *io = NULL;
    const uint8_t *d;
    size_t len;
    int rc = qed_io_mem_new(NULL, 0, FILE_MAX, &io);

    oo.path = "seed.qed";
    if (rc == QED_OK)
        rc = qed_create(io, &co);
    if (rc == QED_OK)
        rc = qed_open(io, &oo, &img);
    if (rc == QED_OK)
        rc = apply_ops(img, r);
    if (img && qed_close(img) != QED_OK && rc == QED_OK)
        rc = QED_ERR_IO;
    if (rc != QED_OK)
        fail("make_image", qed_strerror(rc));
    else {
        qed_io_mem_data(io, &d, &len);
        append(s, d, len);
    }
    qed_io_close(io);
}

/* Little-endian u64 store at off (which the caller knows is inside s). */
static void put_le64(seed *s, uint64_t off, uint64_t v)
{
    for (unsigned i = 0; i < 8 && off + i < s->len; i++)
        s->data[off + i] = (uint8_t)(v >> (8 * i));
}

/* Entry idx of the table at table_off in image s, or 0 if outside. */
static uint64_t get_entry(const seed *s, uint64_t table_off, uint64_t idx)
{
    uint64_t v = 0;

    fuzz_get_le64((fuzz_bytes){ s->data, s->len }, table_off + 8 * idx, &v);
    return v;
}

/* Offset of the first L2 table of image s (via L1 entry 0). */
static uint64_t first_l2(const seed *s)
{
    qed_header h;

    qed_header_decode(s->data, &h);
    return get_entry(s, h.l1_table_offset, 0);
}

/* Set header feature bits of image s. */
static void set_features(seed *s, uint64_t bits)
{
    qed_header h;

    qed_header_decode(s->data, &h);
    h.features |= bits;
    qed_header_encode(&h, s->data);
}

static void seed_free(seed *s)
{
    free(s->data);
    s->data = NULL;
    s->len = 0;
}

static const op OPS_SPARSE[] = {
    { 0, 8192, 0 }, { 1048576 + 512, 1000, 0 }, { 2097152, 65536, 1 },
    { 3145728, 4096, 0 },
};
static const op OPS_SPREAD[] = {       /* one write per 2 MiB L1 entry */
    { 0, 4096, 0 }, { 4096, 4096, 1 }, { 2097152 + 8192, 4096, 0 },
    { 4194304, 12288, 0 }, { 1073741824 - 4096, 4096, 0 },
};
static const op OPS_SMALL[] = { { 0, 1536, 0 } };
static const op OPS_BIG[] = { { 8192, 512, 0 }, { 0, 4096, 0 } };  /* 256 KiB */
static const op OPS_ZERO[] = { { 0, 65536, 1 }, { 65536, 4096, 0 } };

static const recipe R_EMPTY = { 1 << 20, 4096, 1, NULL, NULL, NULL, 0 };
static const recipe R_SPARSE = { 4 << 20, 4096, 1, NULL, NULL, OPS_SPARSE, 4 };
static const recipe R_ODD = { 1536, 4096, 1, NULL, NULL, OPS_SMALL, 1 };
static const recipe R_BIG = { 16 << 20, 65536, 1, NULL, NULL, OPS_BIG, 2 };
static const recipe R_TS2 = { 8 << 20, 4096, 2, NULL, NULL, OPS_ZERO, 2 };
static const recipe R_TABLES = { 1u << 30, 4096, 1, NULL, NULL, OPS_SPREAD, 5 };
static const recipe R_RAW_TOP = { 1 << 20, 4096, 1, "base.raw", "raw",
                                  OPS_ZERO, 2 };
static const recipe R_QED_TOP = { 1 << 20, 4096, 1, "base.qed", "qed",
                                  OPS_SMALL, 1 };
static const recipe R_QED_MID = { 1 << 20, 4096, 1, "base.raw", NULL,
                                  OPS_ZERO, 2 };

/* fuzz_header: each image's first 64 bytes plus its length (u64 LE). */
static void header_seed(const char *name, const seed *img)
{
    seed s = { 0 };
    uint8_t len[8];

    for (unsigned i = 0; i < 8; i++)
        len[i] = (uint8_t)((uint64_t)img->len >> (8 * i));
    append(&s, img->data, QED_HEADER_BYTES);
    append(&s, len, sizeof len);
    save("fuzz_header", name, &s);
    seed_free(&s);
}

/* fuzz_tables: geometry byte, then the image from offset 4096 on. */
static void tables_seed(const char *name, uint8_t geometry, const seed *img)
{
    seed s = { 0 };

    append(&s, &geometry, 1);
    append(&s, img->data + 4096, img->len - 4096);
    save("fuzz_tables", name, &s);
    seed_free(&s);
}

/* Corruptions of a one-L2-table image, for fuzz_check_repair and
 * fuzz_tables: each is applied to a fresh copy of img. */
static void corrupt_seeds(const seed *img, int for_tables)
{
    static const char *const names[] = {
        "dup-data-ref", "misaligned-l2-entry", "l2-entry-past-eof",
        "l1-entry-past-eof", "leak-at-end", "l2-entry-reserved-bits",
    };
    uint64_t l2 = first_l2(img);
    uint8_t junk[4096];

    memset(junk, 0x5a, sizeof junk);
    for (unsigned k = 0; k < sizeof names / sizeof names[0]; k++) {
        seed s = { 0 };
        qed_header h;
        append(&s, img->data, img->len);
        qed_header_decode(s.data, &h);
        if (k == 0) put_le64(&s, l2 + 8 * 5, get_entry(&s, l2, 0));
        if (k == 1) put_le64(&s, l2 + 8 * 6, get_entry(&s, l2, 0) + 512);
        if (k == 2) put_le64(&s, l2 + 8 * 7, (uint64_t)s.len + 4096 * 4);
        if (k == 3) put_le64(&s, h.l1_table_offset + 8, (uint64_t)s.len * 2);
        if (k == 4) append(&s, junk, sizeof junk);
        if (k == 5) put_le64(&s, l2 + 8 * 8, get_entry(&s, l2, 0) | 0x10);
        if (for_tables)
            tables_seed(names[k], 0, &s);
        else
            save("fuzz_check_repair", names[k], &s);
        seed_free(&s);
    }
}

/* Images of the plain recipes, for open_read, check_repair, header. */
static void image_seeds(void)
{
    static const struct { const char *name; const recipe *r; } list[] = {
        { "empty-1m", &R_EMPTY }, { "sparse-4m", &R_SPARSE },
        { "odd-size-1536", &R_ODD }, { "cs64k-16m", &R_BIG },
        { "ts2-zero-clusters", &R_TS2 },
    };

    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++) {
        seed s = { 0 };
        make_image(list[i].r, &s);
        if (s.len < QED_HEADER_BYTES)
            continue;
        save("fuzz_open_read", list[i].name, &s);
        save("fuzz_check_repair", list[i].name, &s);
        header_seed(list[i].name, &s);
        if (i == 1) {
            corrupt_seeds(&s, 0);
            set_features(&s, QED_F_NEED_CHECK | QED_F_BACKING_FORMAT_NO_PROBE);
            save("fuzz_open_read", "need-check-no-probe", &s);
            header_seed("need-check-no-probe", &s);
        }
        seed_free(&s);
    }
}

/* Images with backing chains, split by FUZZ_SEPARATOR. */
static void chain_seeds(void)
{
    uint8_t raw[8192];
    seed s = { 0 };

    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (uint8_t)(i * 7 + 3);
    make_image(&R_RAW_TOP, &s);
    header_seed("raw-backing", &s);
    append(&s, FUZZ_SEPARATOR, FUZZ_SEPARATOR_LEN);
    append(&s, raw, sizeof raw);
    save("fuzz_open_read", "raw-backing", &s);
    seed_free(&s);

    make_image(&R_QED_TOP, &s);
    header_seed("qed-backing", &s);
    append(&s, FUZZ_SEPARATOR, FUZZ_SEPARATOR_LEN);
    make_image(&R_QED_MID, &s);
    append(&s, FUZZ_SEPARATOR, FUZZ_SEPARATOR_LEN);
    append(&s, raw, sizeof raw);
    save("fuzz_open_read", "qed-qed-raw-chain", &s);
    seed_free(&s);
}

/* fuzz_tables: images in the harness's fixed geometry 0. */
static void table_seeds(void)
{
    seed s = { 0 };

    make_image(&R_TABLES, &s);
    if (s.len > 4096) {
        tables_seed("spread-1g", 0, &s);
        tables_seed("spread-odd-size", 1, &s);
        tables_seed("spread-need-check", 4, &s);
        corrupt_seeds(&s, 1);
    }
    seed_free(&s);
}

/* fuzz_ops: operation scripts (prefix, then 7-byte records). */
static void ops_seeds(void)
{
    static const uint8_t plain[] = {
        0x00, 0x40, 0x00,                           /* 4K cs, 1 MiB, raw-less */
        FUZZ_OP_WRITE, 0x00, 0x02, 0x00, 0x00, 0x20, 0x41,
        FUZZ_OP_READ, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00,
        FUZZ_OP_ZEROES | FUZZ_OP_ALIGNED, 0x00, 0x10, 0x00, 0x00, 0x10, 0x00,
        FUZZ_OP_REOPEN, 0, 0, 0, 0, 0, 0,
        FUZZ_OP_READ, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00,
    };
    static const uint8_t backing[] = {
        0x05, 0x80, 0x41,                           /* 8K cs, ts 2, raw */
        FUZZ_OP_WRITE, 0x10, 0x30, 0x00, 0x00, 0x01, 0x7f,
        FUZZ_OP_FLUSH, 0, 0, 0, 0, 0, 0,
        FUZZ_OP_ZEROES | FUZZ_OP_ALIGNED, 0x00, 0x00, 0x01, 0x00, 0x40, 0x00,
        FUZZ_OP_ZEROES, 0x33, 0x00, 0x00, 0x00, 0x02, 0x00,
        FUZZ_OP_REOPEN, 0, 0, 0, 0, 0, 0,
        FUZZ_OP_READ, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00,
        FUZZ_OP_WRITE, 0xff, 0xff, 0x0f, 0x00, 0x10, 0x09,
    };
    static const uint8_t faults[] = {
        0x00, 0x40, 0x00,                           /* 4K cs, 1 MiB */
        FUZZ_OP_WRITE, 0x00, 0x02, 0x00, 0x00, 0x20, 0x41,
        FUZZ_OP_FAULT, 0, 0, 0, 0x0a, 0x00, 0x00,   /* call 11 fails, EIO */
        FUZZ_OP_WRITE, 0x00, 0x40, 0x00, 0x00, 0x30, 0x42,
        FUZZ_OP_ZEROES | FUZZ_OP_ALIGNED, 0x00, 0x80, 0x00, 0x00, 0x10, 0x00,
        FUZZ_OP_WRITE, 0x00, 0x00, 0x08, 0x00, 0x30, 0x43,
        FUZZ_OP_FLUSH, 0, 0, 0, 0, 0, 0,
        FUZZ_OP_READ, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00,
    };
    static const uint8_t sticky[] = {
        0x05, 0x40, 0x41,                           /* 8K cs, raw backing */
        FUZZ_OP_FAULT, 0, 0, 0, 0x05, 0x00, 0x03,   /* call 6, ENOSPC, sticky */
        FUZZ_OP_WRITE, 0x00, 0x20, 0x00, 0x00, 0x30, 0x44,
        FUZZ_OP_WRITE, 0x00, 0x60, 0x00, 0x00, 0x30, 0x45,
        FUZZ_OP_REOPEN, 0, 0, 0, 0, 0, 0,
    };
    static const uint8_t resize[] = {
        0x00, 0x11, 0x7f,                           /* odd size, raw backing */
        FUZZ_OP_WRITE, 0x00, 0x21, 0x00, 0x00, 0x02, 0x46,  /* up to the end */
        FUZZ_OP_RESIZE, 0, 0, 0, 0x00, 0x00, 0x01,  /* shrink: refused */
        FUZZ_OP_RESIZE, 0, 0, 0, 0x13, 0x00, 0x00,  /* grow 20 sectors */
        FUZZ_OP_READ, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00,
        FUZZ_OP_REOPEN, 0, 0, 0, 0, 0, 0,
        FUZZ_OP_ZEROES, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00,
        FUZZ_OP_RESIZE, 0, 0, 0, 0x40, 0x00, 0x00,
    };
    seed s = { 0 };

    append(&s, resize, sizeof resize);
    save("fuzz_ops", "resize-grow-shrink", &s);
    seed_free(&s);
    append(&s, faults, sizeof faults);
    save("fuzz_ops", "fault-eio-once", &s);
    seed_free(&s);
    append(&s, sticky, sizeof sticky);
    save("fuzz_ops", "fault-enospc-sticky", &s);
    seed_free(&s);
    append(&s, plain, sizeof plain);
    save("fuzz_ops", "write-zero-reopen", &s);
    seed_free(&s);
    append(&s, backing, sizeof backing);
    save("fuzz_ops", "raw-backing-ops", &s);
    seed_free(&s);
}

/* ---- fuzz_trace: dm-log-writes logs ------------------------------- */

/* Finish seed s from a memory log: its bytes appended, the log closed. */
static void take_log(qed_io *log, int rc, const char *what, seed *s)
{
    const uint8_t *d;
    size_t len;

    if (rc != QED_OK)
        fail(what, qed_strerror(rc));
    else {
        qed_io_mem_data(log, &d, &len);
        append(s, d, len);
    }
    qed_io_close(log);
}

/* A log holding every entry kind the writer makes, at sector size ss. */
static void sample_trace(uint32_t ss, seed *s)
{
    qed_io *log = NULL;
    qed_trace_writer *w = NULL;
    uint8_t *buf = calloc(2, ss);
    int rc = buf ? qed_io_mem_new(NULL, 0, FILE_MAX, &log) : QED_ERR_NOMEM;

    if (rc == QED_OK)
        rc = qed_trace_writer_new(log, ss, &w);
    if (rc == QED_OK) {
        fuzz_fill(buf, (size_t)2 * ss, 0, 7);
        rc = qed_trace_mark(w, "op:0");
    }
    if (rc == QED_OK)
        rc = qed_trace_write(w, 0, 2, 0, buf);
    if (rc == QED_OK)
        rc = qed_trace_write(w, 8, 1, QED_TRACE_FUA, buf);
    if (rc == QED_OK)
        rc = qed_trace_flush(w);
    if (rc == QED_OK)
        rc = qed_trace_mark(w, "flush:0");
    if (rc == QED_OK)
        rc = qed_trace_discard(w, 16, 4);
    if (rc == QED_OK)
        rc = qed_trace_write(w, 3, 1, QED_TRACE_METADATA, buf + ss);
    if (rc == QED_OK)
        rc = qed_trace_mark(w, "truncate:65536");
    if (rc == QED_OK)
        rc = qed_trace_writer_finish(w);
    qed_trace_writer_free(w);
    free(buf);
    if (log)
        take_log(log, rc, "sample_trace", s);
    else
        fail("sample_trace", qed_strerror(rc));
}

/* A QED session recorded by libqed's recorder: create, open, a first
 * write (a new L2 table and data cluster), a flush, close (WR-4). */
static void recorded_trace(seed *s)
{
    qed_create_opts co = { 1 << 20, 4096, 1, NULL, NULL };
    qed_open_opts oo = { .flags = QED_OPEN_RDWR, .path = "seed.qed",
                         .open_backing = open_empty };
    qed_io *file = NULL, *log = NULL, *rec = NULL;
    qed_image *img = NULL;
    uint8_t data[1000];
    int rc = qed_io_mem_new(NULL, 0, FILE_MAX, &file);

    if (rc == QED_OK)
        rc = qed_io_mem_new(NULL, 0, FILE_MAX, &log);
    if (rc == QED_OK)
        rc = qed_io_recorder_new(file, log, 512, &rec);
    if (rc == QED_OK)
        rc = qed_create(rec, &co);
    if (rc == QED_OK)
        rc = qed_open(rec, &oo, &img);
    fuzz_fill(data, sizeof data, 0, 3);
    if (rc == QED_OK)
        rc = qed_io_recorder_mark(rec, "op:0");
    if (rc == QED_OK)
        rc = qed_write(img, 20480 + 100, data, sizeof data);
    if (rc == QED_OK)
        rc = qed_flush(img);
    if (rc == QED_OK)
        rc = qed_io_recorder_mark(rec, "flush:0");
    if (img && qed_close(img) != QED_OK && rc == QED_OK)
        rc = QED_ERR_IO;
    if (rc == QED_OK)
        rc = qed_io_recorder_finish(rec);
    if (rec) {
        /* the recorder owns both files: copy the log out before closing */
        const uint8_t *d;
        size_t len;
        qed_io_mem_data(log, &d, &len);
        if (rc == QED_OK)
            append(s, d, len);
        qed_io_close(rec);
    } else {
        qed_io_close(file);
        qed_io_close(log);
    }
    if (rc != QED_OK)
        fail("recorded_trace", qed_strerror(rc));
}

/* Store n little-endian bytes of v at off, inside s. */
static void put_le(seed *s, uint64_t off, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n && off + i < s->len; i++)
        s->data[off + i] = (uint8_t)(v >> (8 * i));
}

/* One corruption of the 512-byte sample: field at byte `at` of entry
 * `entry`'s header (-1: of the superblock) set to v (n bytes), or, with
 * n == 0, the log cut to the entry's offset + at bytes. */
typedef struct trace_bug {
    const char *name;
    int entry;
    unsigned at;
    uint64_t v;
    unsigned n;
} trace_bug;

/* The sample's entries (see sample_trace): 0 MARK, 1 write of 2 sectors,
 * 2 FUA write, 3 FLUSH, 4 MARK, 5 DISCARD, 6 METADATA write, 7 MARK. */
static const trace_bug TRACE_BUGS[] = {
    { "bad-magic", -1, 0, 0x6a736677736873ull, 8 },
    { "bad-version", -1, 8, 2, 8 },
    { "bad-sector-size", -1, 24, 1000, 4 },
    { "count-past-end", -1, 16, 9, 8 },
    { "short-superblock", -1, 20, 0, 0 },
    { "unknown-flags", 5, 16, 0x24, 8 },
    { "mark-with-flush", 0, 16, 9, 8 },
    { "mark-with-sectors", 0, 8, 1, 8 },
    { "mark-text-too-long", 0, 24, 481, 8 },
    { "write-data-len", 1, 24, 1025, 8 },
    { "discard-data-len", 5, 24, 1, 8 },
    { "nr-sectors-overflow", 5, 8, 1ull << 56, 8 },
    { "sector-overflow", 5, 0, UINT64_MAX - 1, 8 },
    { "truncated-data", 6, 512 + 100, 0, 0 },
    { "truncated-header", 7, 100, 0, 0 },
    { "linux-flush-fua-write", 1, 16, QED_TRACE_FLUSH | QED_TRACE_FUA, 8 },  /* valid */
};

/* fuzz_trace: valid logs at 512 and 4096, a recorded session, and one
 * corrupted copy of the 512-byte sample per error class. */
static void trace_seeds(void)
{
    seed s = { NULL, 0 }, bug = { NULL, 0 };
    qed_trace t;

    sample_trace(4096, &s);
    save("fuzz_trace", "sample-4096", &s);
    seed_free(&s);
    recorded_trace(&s);
    save("fuzz_trace", "recorded-session-512", &s);
    seed_free(&s);
    sample_trace(512, &s);
    save("fuzz_trace", "sample-512", &s);
    if (qed_trace_parse(s.data, s.len, &t, NULL, 0) != QED_OK || t.count != 8) {
        fail("trace_seeds", "the 512-byte sample does not parse");
        seed_free(&s);
        return;
    }
    for (size_t i = 0; i < sizeof(TRACE_BUGS) / sizeof(TRACE_BUGS[0]); i++) {
        const trace_bug *b = &TRACE_BUGS[i];
        uint64_t base = b->entry < 0 ? 0 : t.entries[b->entry].log_offset;
        append(&bug, s.data, s.len);
        if (b->n)
            put_le(&bug, base + b->at, b->v, b->n);
        else
            bug.len = (size_t)(base + b->at);
        save("fuzz_trace", b->name, &bug);
        seed_free(&bug);
    }
    append(&bug, s.data, 512);          /* the superblock alone, no entries */
    put_le(&bug, 16, 0, 8);
    save("fuzz_trace", "empty", &bug);
    seed_free(&bug);
    qed_trace_free(&t);
    seed_free(&s);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        fputs(USAGE, stderr);
        return 1;
    }
    g_outdir = argv[1];
    if (mkdir(g_outdir, 0777) != 0 && errno != EEXIST) {
        fail(g_outdir, strerror(errno));
        return 1;
    }
    image_seeds();
    chain_seeds();
    table_seeds();
    ops_seeds();
    trace_seeds();
    return g_failed;
}
