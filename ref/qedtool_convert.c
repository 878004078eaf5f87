/*
 * qedtool_convert.c - convert and compare: whole-image copies and
 * comparisons between raw files and QED images.
 *
 * Both cost what the sources hold, not their virtual size: a source is
 * walked as runs that read as zeroes (a raw file's holes, found with
 * SEEK_DATA/SEEK_HOLE; what qed_map reports as zero: unallocated without
 * a backing file, zero clusters, past the backing file's end) and runs
 * that may hold data.  Only the latter are read, in large chunks, and in
 * them convert skips all-zero blocks as qemu-img does by default (-S 4k):
 * a raw destination gets holes (it is created with ftruncate), a QED one
 * unallocated clusters.  The content is the same either way.
 */
#define _GNU_SOURCE     /* SEEK_DATA, SEEK_HOLE, sync_file_range (Linux) */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qedtool.h"

enum { CHUNK_BYTES = 2 * 1024 * 1024 };    /* read/compare granularity */
enum { RAW_ZERO_BLOCK = 4096 };            /* sparse raw output granularity */
enum { CHUNK_ALIGN = 4096 };               /* alignment of the chunk buffers */

enum { OPT_FORMAT = 1, OPT_OUT_FORMAT, OPT_OPTIONS, OPT_PROGRESS, OPT_QUIET,
       OPT_FORMAT2, OPT_FORCE_SHARE };

/* ------------------------------------------------------------------ */
/* Sources: a raw file or a QED image, read by logical offset         */
/* ------------------------------------------------------------------ */

typedef struct qt_source {
    const char *path;
    qed_io *io;
    qed_image *img;     /* NULL: the file is read as raw */
    uint64_t size;      /* logical size in bytes */
    qt_files files;     /* the file and, for QED, its backing chain */
    int fd;             /* raw: the file's descriptor for SEEK_DATA, or -1 */
    uint64_t run_start, run_end;    /* the last run found (source_run) */
    int run_zero;       /* 1 if that run reads as zeroes */
} qt_source;

/* Open path as fmt ("raw", "qed", or NULL to probe, BACK-2 style). */
static int source_open(const char *path, const char *fmt, qt_source *s)
{
    qt_image im;
    int is_qed = fmt ? strcmp(fmt, "qed") == 0 : qt_probe_file(path, 1);
    int rc;

    memset(s, 0, sizeof(*s));
    s->path = path;
    s->fd = -1;
    if (is_qed < 0)
        return -1;
    if (is_qed) {
        if (qt_image_open(path, 0, &im) != QED_OK)
            return -1;
        s->io = im.io;
        s->img = im.img;
        s->size = qed_get_header(im.img)->image_size;
        s->files = im.files;
        return 0;
    }
    if (qt_open_file(path, 0, 0, &s->io) != QED_OK)
        return -1;
    qt_files_add(&s->files, path);
    s->fd = qed_io_posix_fd(s->io);
    rc = s->io->length(s->io, &s->size);
    if (rc != QED_OK) {
        qt_err_status(path, rc);
        return -1;
    }
    return 0;
}

/* 1 when s is a QED image naming a backing file that --no-backing left
 * unopened: its chain's files are then not in s->files. */
static int source_chain_unopened(const qt_source *s)
{
    return s->img && qt_backing_policy() == QED_BACKING_NONE &&
           (qed_get_header(s->img)->features & QED_F_BACKING_FILE);
}

/* Close whatever source_open opened (safe after a failed open). */
static void source_close(qt_source *s)
{
    qed_close(s->img);
    qed_io_close(s->io);
    s->img = NULL;
    s->io = NULL;
}

/* Read len bytes at logical offset off (off + len <= size). */
static int source_read(qt_source *s, uint64_t off, void *buf, size_t len)
{
    int rc = s->img ? qed_read(s->img, off, buf, len)
                    : s->io->read(s->io, off, buf, len);

    if (rc != QED_OK)
        qt_err("%s: read at offset %" PRIu64 " failed: %s", s->path, off,
               qt_strerror(rc));
    return rc;
}

/* The run of a raw source at off: a hole (SEEK_DATA finds data only
 * further on, or none) or data up to the next hole.  Where the file
 * cannot say (no descriptor, a block device, a file system without
 * SEEK_DATA), everything is data. */
static void raw_run(qt_source *s, uint64_t off)
{
    off_t data, hole;

    s->run_end = s->size;
#ifdef SEEK_DATA
    if (s->fd < 0 || off > (uint64_t)INT64_MAX)
        return;
    data = lseek(s->fd, (off_t)off, SEEK_DATA);
    if (data < 0) {
        s->run_zero = errno == ENXIO;         /* no data from off on */
        return;
    }
    if ((uint64_t)data > off) {
        s->run_zero = 1;
        s->run_end = (uint64_t)data < s->size ? (uint64_t)data : s->size;
        return;
    }
    hole = lseek(s->fd, (off_t)off, SEEK_HOLE);
    if (hole > (off_t)off && (uint64_t)hole < s->size)
        s->run_end = (uint64_t)hole;
#else
    (void)off;
#endif
}

/* The run of a QED source at off: the longest extent qed_map reports.
 * Where the map fails, a chunk of "data", whose read reports the error. */
static void qed_run(qt_source *s, uint64_t off)
{
    qed_extent e;
    uint64_t left = s->size - off;

    if (qed_map(s->img, off, left, &e) != QED_OK || e.start != off ||
        e.length == 0 || e.length > left) {
        s->run_end = off + (left < CHUNK_BYTES ? left : CHUNK_BYTES);
        return;
    }
    s->run_zero = (e.flags & QED_MAP_ZERO) != 0;
    s->run_end = off + e.length;
}

/* The run of s at off (< size): sets *end to where it ends (> off) and
 * returns 1 if it reads as zeroes without being read, 0 if it must be
 * read.  The run is kept, so walking a run chunk by chunk asks the file
 * or the map once. */
static int source_run(qt_source *s, uint64_t off, uint64_t *end)
{
    if (off < s->run_start || off >= s->run_end) {
        s->run_start = off;
        s->run_zero = 0;
        if (s->img)
            qed_run(s, off);
        else
            raw_run(s, off);
    }
    *end = s->run_end;
    return s->run_zero;
}

/* A chunk buffer of CHUNK_BYTES, page-aligned, or NULL; free() it.
 * glibc's malloc puts a block this large 16 bytes past a page boundary,
 * and the kernel's copies into and out of such a buffer (pread, pwrite)
 * ran 4-5 times slower here (AMD EPYC) than with one aligned to 64 bytes
 * or more: a third of convert's CPU time, two thirds of compare's. */
static uint8_t *alloc_chunk(void)
{
    return aligned_alloc(CHUNK_ALIGN, CHUNK_BYTES);
}

/* 1 if all len bytes of buf are zero. */
static int is_zero(const uint8_t *buf, size_t len)
{
    return len == 0 || (buf[0] == 0 && memcmp(buf, buf + 1, len - 1) == 0);
}

/* ------------------------------------------------------------------ */
/* Sinks: the output of convert                                       */
/* ------------------------------------------------------------------ */

typedef struct qt_sink {
    const char *path;
    qed_io *io;
    qed_image *img;     /* NULL: raw output */
    size_t zero_block;  /* runs of all-zero blocks this big are skipped */
    uint64_t started;   /* QED: writeback started up to here (sink_write) */
} qt_sink;

/* Create a sparse raw file of size bytes (the file is open already). */
static int sink_create_raw(qt_sink *k, uint64_t size)
{
    k->zero_block = RAW_ZERO_BLOCK;
    return k->io->truncate(k->io, size);
}

/* Create a QED image (its size rounded up to whole sectors, HDR-9) in
 * the open file and open it read-write. */
static int sink_create_qed(qt_sink *k, qed_create_opts *co, uint64_t size)
{
    qed_open_opts oo;
    int rc = QED_OK;

    if (qt_round_up_sector(size, &co->image_size) != 0)
        rc = QED_E_IMAGE_SIZE_MAX;
    if (rc == QED_OK)
        rc = qed_create(k->io, co);
    memset(&oo, 0, sizeof(oo));
    oo.flags = QED_OPEN_RDWR;
    oo.path = k->path;
    if (rc == QED_OK)
        rc = qed_open(k->io, &oo, &k->img);
    if (rc == QED_OK)
        k->zero_block = qed_get_header(k->img)->cluster_size;
    return rc;
}

/* Start the writeback of the file's bytes [off, off + len) without
 * waiting (sync_file_range: no flush, no durability, no ordering; the
 * flushes that the rules need are still issued where they are).  Where it
 * is missing or fails, nothing happens: the next flush writes them. */
static void start_writeback(qt_sink *k, uint64_t off, uint64_t len)
{
#ifdef SYNC_FILE_RANGE_WRITE
    int fd = qed_io_posix_fd(k->io);

    if (fd >= 0 && len > 0 && off <= (uint64_t)INT64_MAX &&
        len <= (uint64_t)INT64_MAX - off)
        (void)sync_file_range(fd, (off_t)off, (off_t)len,
                              SYNC_FILE_RANGE_WRITE);
#else
    (void)k;
    (void)off;
    (void)len;
#endif
}

/* Write buf (len bytes at off) to the sink, and start the writeback of
 * what it wrote, so that the disk works while the reads still to come
 * run instead of all waiting for the next flush: in a raw file the range
 * itself; in a QED image the clusters the write appended (WR-6: new
 * clusters are taken from the end of the file, so they lie between the
 * previous end and the new one; rewritten table entries are left to the
 * flush that follows). */
static int sink_write(qt_sink *k, uint64_t off, const uint8_t *buf,
                      size_t len)
{
    uint64_t end;
    int rc;

    if (!k->img) {
        rc = k->io->write(k->io, off, buf, len);
        if (rc == QED_OK)
            start_writeback(k, off, len);
        return rc;
    }
    rc = qed_write(k->img, off, buf, len);
    if (rc == QED_OK && k->io->length(k->io, &end) == QED_OK &&
        end > k->started) {
        start_writeback(k, k->started, end - k->started);
        k->started = end;
    }
    return rc;
}

/* Write the chunk at off, skipping blocks of zero_block bytes (aligned to
 * the logical offset) that are all zero; each non-zero run is one call. */
static int sink_write_sparse(qt_sink *k, uint64_t off, const uint8_t *buf,
                             size_t len)
{
    size_t pos = 0, run_start = 0;
    int in_run = 0, rc = QED_OK;

    while (pos < len && rc == QED_OK) {
        size_t n = k->zero_block - (size_t)((off + pos) % k->zero_block);

        if (n > len - pos)
            n = len - pos;
        if (!is_zero(buf + pos, n)) {
            if (!in_run)
                run_start = pos;
            in_run = 1;
        } else if (in_run) {
            rc = sink_write(k, off + run_start, buf + run_start,
                            pos - run_start);
            in_run = 0;
        }
        pos += n;
    }
    if (rc == QED_OK && in_run)
        rc = sink_write(k, off + run_start, buf + run_start, len - run_start);
    return rc;
}

/* Finish the sink: close the image (its close flushes what the session
 * wrote, WR-4; qed_create flushed an image never written) or flush the
 * raw file (its data and its length).  A QED sink that failed to open
 * gets the raw flush, harmlessly. */
static int sink_close(qt_sink *k)
{
    int rc = k->img ? qed_close(k->img) : QED_OK;
    int rc2 = k->io && !k->img ? k->io->flush(k->io) : QED_OK;

    qed_io_close(k->io);
    k->img = NULL;
    k->io = NULL;
    return rc != QED_OK ? rc : rc2;
}

/* ------------------------------------------------------------------ */
/* convert                                                            */
/* ------------------------------------------------------------------ */

typedef struct convert_args {
    const char *src, *dst;
    const char *src_fmt;       /* NULL: probe */
    int out_qed;               /* -O qed */
    int progress;
    qed_create_opts co;        /* -o */
    int have_o;
    int dst_was_new;           /* DST did not exist: remove it on failure */
} convert_args;

/* Apply one convert option; 0, or -1 after printing why. */
static int convert_option(void *ctx, int id, const char *val)
{
    convert_args *ca = ctx;

    switch (id) {
    case OPT_FORMAT:
        ca->src_fmt = val;
        return qt_check_format("convert", val, 1);
    case OPT_OUT_FORMAT:
        ca->out_qed = strcmp(val, "qed") == 0;
        return qt_check_format("convert", val, 1);
    case OPT_OPTIONS:
        ca->have_o = 1;
        return qt_parse_create_options("convert", val, &ca->co);
    case OPT_PROGRESS:
        ca->progress = isatty(STDOUT_FILENO);
        return 0;
    case OPT_QUIET:
        return 0;
    case OPT_FORCE_SHARE:
        qt_set_force_share();          /* SRC only: DST is always locked */
        return 0;
    default:
        return -1;
    }
}

/* Parse convert's command line.  Returns -1 to go on, or an exit status. */
static int parse_convert_args(int argc, char **argv, convert_args *ca)
{
    static const qt_option opts[] = {
        { "f", 1, OPT_FORMAT }, { "O", 1, OPT_OUT_FORMAT },
        { "o", 1, OPT_OPTIONS }, { "p", 0, OPT_PROGRESS },
        { "q", 0, OPT_QUIET }, { "U", 0, OPT_FORCE_SHARE },
        { "force-share", 0, OPT_FORCE_SHARE }, QT_BACKING_OPTIONS,
        { NULL, 0, 0 }
    };
    qt_args a;
    int status;

    memset(ca, 0, sizeof(*ca));
    status = qt_scan_options(&a, argc, argv, opts, convert_option, ca);
    if (status < 0 && a.n_operands != 2)
        status = qt_usage_error("convert", "expected SRC and DST");
    if (status < 0 && ca->have_o && !ca->out_qed)
        status = qt_usage_error("convert", "-o needs -O qed");
    if (status < 0) {
        ca->src = a.operands[0];
        ca->dst = a.operands[1];
    }
    qt_args_free(&a);
    return status;
}

/* Show "    (P.PP/100%)" on the terminal when the hundredths moved. */
static void show_progress(uint64_t done, uint64_t total, long *last)
{
    double pct = total ? (double)done * 100.0 / (double)total : 100.0;
    long hundredths = (long)(pct * 100.0);

    if (hundredths == *last)
        return;
    *last = hundredths;
    printf("    (%.2f/100%%)\r", pct);
    fflush(stdout);
}

/* Copy every logical byte of src to the sink, chunk by chunk. */
static int copy_image(qt_source *src, qt_sink *k, uint8_t *buf, int progress)
{
    uint64_t off = 0;
    long last = -1;
    int rc = QED_OK;

    while (off < src->size && rc == QED_OK) {
        uint64_t end, left;
        size_t n;

        if (source_run(src, off, &end)) {
            off = end;                       /* the sink reads zero there */
        } else {
            left = end - off;
            n = left < CHUNK_BYTES ? (size_t)left : CHUNK_BYTES;
            rc = source_read(src, off, buf, n);
            if (rc == QED_OK && (rc = sink_write_sparse(k, off, buf, n)) != 0)
                qt_err("%s: write at offset %" PRIu64 " failed: %s", k->path,
                       off, qt_strerror(rc));
            off += n;
        }
        if (progress)
            show_progress(off, src->size, &last);
    }
    if (progress && rc == QED_OK)
        show_progress(src->size, src->size, &last);
    if (progress)
        putchar('\n');
    return rc;
}

/* Create the destination; prints why it failed. */
static int open_sink(convert_args *ca, uint64_t size, qt_sink *k)
{
    int rc;

    memset(k, 0, sizeof(*k));
    k->path = ca->dst;
    ca->dst_was_new = qt_path_is_new(ca->dst);
    rc = qt_open_file(ca->dst, 1, 1, &k->io);
    if (rc != QED_OK)
        return rc;                              /* reported */
    rc = ca->out_qed ? sink_create_qed(k, &ca->co, size)
                     : sink_create_raw(k, size);
    if (rc != QED_OK)
        qt_err_status(ca->dst, rc);
    return rc;
}

/* qedtool convert [-f FMT] [-O raw|qed] [-o ...] [-p] SRC DST */
int qt_cmd_convert(int argc, char **argv)
{
    convert_args ca;
    qt_source src;
    qt_sink k;
    uint8_t *buf;
    int rc, rc2, status = parse_convert_args(argc, argv, &ca);

    if (status >= 0)
        return status;
    if (source_open(ca.src, ca.src_fmt, &src) != 0 ||
        qt_refuse_overwrite("convert", ca.dst, &src.files, "the source",
                            ca.src) != 0 ||
        (source_chain_unopened(&src) &&
         qt_refuse_unknown_chain_overwrite("convert", ca.dst, ca.src) != 0)) {
        source_close(&src);
        return QT_EXIT_FAIL;
    }
    buf = alloc_chunk();
    if (!buf) {
        qt_err_status("convert", QED_ERR_NOMEM);
        source_close(&src);
        return QT_EXIT_FAIL;
    }
    rc = open_sink(&ca, src.size, &k);
    if (rc == QED_OK)
        rc = copy_image(&src, &k, buf, ca.progress);
    rc2 = sink_close(&k);
    if (rc == QED_OK && rc2 != QED_OK) {
        qt_err_status(ca.dst, rc2);
        rc = rc2;
    }
    free(buf);
    source_close(&src);
    if (rc != QED_OK)
        qt_remove_if_new(ca.dst, ca.dst_was_new);
    return rc == QED_OK ? QT_EXIT_OK : QT_EXIT_FAIL;
}

/* ------------------------------------------------------------------ */
/* compare                                                            */
/* ------------------------------------------------------------------ */

enum { CMP_SAME = 0, CMP_DIFFERENT = 1, CMP_ERROR = 2 };

/* Offset of the first 512-byte sector (counted from the start of the
 * buffers) where a and b differ, or len when they agree. */
static size_t first_diff_sector(const uint8_t *a, const uint8_t *b,
                                size_t len)
{
    size_t pos;

    for (pos = 0; pos < len; pos += QED_SECTOR_SIZE) {
        size_t n = len - pos < QED_SECTOR_SIZE ? len - pos : QED_SECTOR_SIZE;
        if (memcmp(a + pos, b + pos, n) != 0)
            return pos;
    }
    return len;
}

/* Report a mismatch as qemu-img does. */
static int mismatch(uint64_t off, int quiet)
{
    if (!quiet)
        printf("Content mismatch at offset %" PRIu64 "!\n", off);
    return CMP_DIFFERENT;
}

/* Fill buf with n bytes of s at off: zeroes where its run is known to
 * read as zeroes (zero != 0), else read. */
static int source_fill(qt_source *s, int zero, uint64_t off, uint8_t *buf,
                       size_t n)
{
    if (!zero)
        return source_read(s, off, buf, n);
    memset(buf, 0, n);
    return QED_OK;
}

/* Compare [0, end) of both sources, reading only the runs either side may
 * hold data in; CMP_* result. */
static int compare_common(qt_source *s1, qt_source *s2, uint64_t end,
                          uint8_t *b1, uint8_t *b2, int quiet)
{
    uint64_t off = 0;

    while (off < end) {
        uint64_t e1, e2, stop;
        int z1 = source_run(s1, off, &e1), z2 = source_run(s2, off, &e2);
        size_t n, d;

        stop = e1 < e2 ? e1 : e2;
        stop = stop < end ? stop : end;
        if (z1 && z2) {                      /* zero in both: agree */
            off = stop;
            continue;
        }
        n = stop - off < CHUNK_BYTES ? (size_t)(stop - off) : CHUNK_BYTES;
        if (source_fill(s1, z1, off, b1, n) || source_fill(s2, z2, off, b2, n))
            return CMP_ERROR;
        d = first_diff_sector(b1, b2, n);
        if (d < n)
            return mismatch(off + d, quiet);
        off += n;
    }
    return CMP_SAME;
}

/* The part of the longer source past the shorter one must read as zero. */
static int compare_tail(qt_source *s, uint64_t from, uint8_t *buf, int quiet)
{
    uint64_t off = from;

    while (off < s->size) {
        uint64_t end;
        size_t n, pos;

        if (source_run(s, off, &end)) {
            off = end;
            continue;
        }
        n = end - off < CHUNK_BYTES ? (size_t)(end - off) : CHUNK_BYTES;
        if (source_read(s, off, buf, n))
            return CMP_ERROR;
        for (pos = 0; pos < n; pos += QED_SECTOR_SIZE) {
            size_t m = n - pos < QED_SECTOR_SIZE ? n - pos : QED_SECTOR_SIZE;
            if (!is_zero(buf + pos, m))
                return mismatch(off + pos, quiet);
        }
        off += n;
    }
    return CMP_SAME;
}

/* Compare two open sources; prints the verdict. */
static int compare_sources(qt_source *s1, qt_source *s2, int quiet)
{
    uint64_t common = s1->size < s2->size ? s1->size : s2->size;
    uint8_t *b1 = alloc_chunk(), *b2 = alloc_chunk();
    int r = (b1 && b2) ? CMP_SAME : CMP_ERROR;

    if (r == CMP_ERROR)
        qt_err_status("compare", QED_ERR_NOMEM);
    if (r == CMP_SAME)
        r = compare_common(s1, s2, common, b1, b2, quiet);
    if (r == CMP_SAME && s1->size != s2->size) {
        if (!quiet)
            printf("Warning: Image size mismatch!\n");
        r = compare_tail(s1->size > common ? s1 : s2, common, b1, quiet);
    }
    if (r == CMP_SAME && !quiet)
        printf("Images are identical.\n");
    free(b1);
    free(b2);
    return r;
}

/* Open both files and compare them; CMP_* result. */
static int compare_files(const char *const path[2], const char *const fmt[2],
                         int quiet)
{
    qt_source s1, s2;
    int r = CMP_ERROR;

    memset(&s1, 0, sizeof(s1));
    memset(&s2, 0, sizeof(s2));
    if (source_open(path[0], fmt[0], &s1) == 0 &&
        source_open(path[1], fmt[1], &s2) == 0)
        r = compare_sources(&s1, &s2, quiet);
    source_close(&s1);
    source_close(&s2);
    return r;
}

typedef struct compare_args {
    const char *fmt[2];        /* -f, -F: NULL probes */
    int quiet;
} compare_args;

/* One option of compare. */
static int compare_option(void *ctx, int id, const char *val)
{
    compare_args *ca = ctx;

    if (id == OPT_QUIET)
        ca->quiet = 1;
    if (id == OPT_FORCE_SHARE)
        qt_set_force_share();
    if (id != OPT_FORMAT && id != OPT_FORMAT2)
        return 0;
    ca->fmt[id == OPT_FORMAT2] = val;
    return qt_check_format("compare", val, 1);
}

/* qedtool compare [-f FMT] [-F FMT] [-q] A B.  Usage errors exit 2 too,
 * so that 1 always means "different". */
int qt_cmd_compare(int argc, char **argv)
{
    static const qt_option opts[] = {
        { "f", 1, OPT_FORMAT }, { "F", 1, OPT_FORMAT2 },
        { "q", 0, OPT_QUIET }, { "p", 0, OPT_PROGRESS },
        { "U", 0, OPT_FORCE_SHARE }, { "force-share", 0, OPT_FORCE_SHARE },
        QT_BACKING_OPTIONS, { NULL, 0, 0 }
    };
    compare_args ca = { { NULL, NULL }, 0 };
    qt_args a;
    int r = qt_scan_options(&a, argc, argv, opts, compare_option, &ca);

    if (r > 0)
        r = CMP_ERROR;                 /* compare keeps 1 for "different" */
    if (r < 0 && a.n_operands != 2) {
        qt_usage_error("compare", "expected two images");
        r = CMP_ERROR;
    }
    if (r < 0)
        r = compare_files(a.operands, ca.fmt, ca.quiet);
    qt_args_free(&a);
    return r;
}
