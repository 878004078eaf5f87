/*
 * fuzz_open_read - qed_open, qed_map and qed_read on a whole image and its
 * backing chain, all from the fuzz input.
 *
 * PROPERTY: open either fails with a QED_E_* (or a limit, or a refused
 * backing file) or yields an image whose header is the file's own 64 bytes
 * and passes qed_header_validate, whose backing name is the header's bytes
 * (HDR-11..HDR-14) and whose backing format is raw with NO_PROBE, else
 * probed (FEAT-3, BACK-2).  Walking the disk with qed_map gives contiguous
 * extents inside [0, image_size), and map and read agree: data extents lie
 * inside the file at their depth and read exactly its bytes at `offset`,
 * extents flagged zero and extents present nowhere read as zeroes (XLT-2,
 * ZERO-1).  Reads cover the extents in cluster-sized chunks until
 * READ_BUDGET bytes have been read.  The walk covers the first
 * HEAD_CLUSTERS clusters, a window at the first FUZZ_MAX_WINDOWS distinct
 * L2 tables the L1 table names and the last TAIL_CLUSTERS clusters, so
 * the work per input does not grow with image_size (up to 2^52 bytes).
 *
 * Input: IMAGE [SEP BACKING1 [SEP BACKING2]], split at the first
 * occurrences of the 8-byte separator "QEDFZSEP".  The backing callback
 * hands out BACKING1 then BACKING2 whatever the name; a third backing file
 * fails to open (QED_ERR_BACKING).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STEPS 4096u                 /* map calls per input */
#define READ_BUDGET (1u << 20)          /* bytes read per input */
#define HEAD_CLUSTERS 512u              /* walked from offset 0 */
#define WINDOW_CLUSTERS 128u            /* walked at each picked L2 table */
#define TAIL_CLUSTERS 16u               /* walked up to image_size */
#define MAX_CHUNK (64u << 10)           /* largest single read */

/* The walk's state. */
typedef struct walk {
    qed_image *img;
    const fuzz_bytes *parts;   /* parts[d] is the file at depth d */
    unsigned chain;            /* backing files opened */
    uint64_t image_size;
    uint32_t cluster_size;
    uint64_t read_left;        /* READ_BUDGET minus bytes read */
    unsigned steps_left;       /* MAX_STEPS minus map calls */
    uint8_t *buf;              /* MAX_CHUNK bytes */
} walk;

/* The header, name and format the image reports match its bytes. */
static void check_header(qed_image *img, fuzz_bytes top, const fuzz_bytes *bk,
                         size_t nbk)
{
    const qed_header *h = qed_get_header(img);
    const char *name = qed_backing_name(img);
    const char *fmt = qed_backing_format(img);
    uint8_t raw[QED_HEADER_BYTES];
    const char *want_fmt;

    qed_header_encode(h, raw);
    FUZZ_ASSERT(top.size >= sizeof raw && memcmp(raw, top.data, sizeof raw) == 0,
                "read-only open changed the header (HDR-7)");
    FUZZ_ASSERT(qed_header_validate(h, top.size) == QED_OK,
                "opened an image whose header fails validation");
    if (!(h->features & QED_F_BACKING_FILE)) {              /* HDR-14 */
        FUZZ_ASSERT(name == NULL && fmt == NULL, "backing name without FEAT-1");
        return;
    }
    FUZZ_ASSERT(name && strlen(name) == h->backing_filename_size &&
                fuzz_range_ok(top, h->backing_filename_offset, strlen(name)) &&
                memcmp(name, top.data + h->backing_filename_offset,
                       strlen(name)) == 0,
                "backing name differs from the header's bytes (HDR-11)");
    if (h->features & QED_F_BACKING_FORMAT_NO_PROBE)        /* FEAT-3 */
        want_fmt = "raw";
    else                                                    /* BACK-2 */
        want_fmt = nbk > 0 && qed_probe(bk[0].data, bk[0].size) ? "qed" : "raw";
    FUZZ_ASSERT(fmt && strcmp(fmt, want_fmt) == 0, "backing format %s, want %s",
                fmt ? fmt : "(null)", want_fmt);
}

/* The extent map gave at off, asked up to end, is well-formed for this
 * chain. */
static void check_extent(const walk *w, uint64_t off, const qed_extent *e,
                         uint64_t end)
{
    FUZZ_ASSERT(e->start == off && e->length > 0 && e->length <= end - off,
                "map at %llu: bad extent [%llu, +%llu)",
                (unsigned long long)off, (unsigned long long)e->start,
                (unsigned long long)e->length);
    /* An absent extent has the chain length as depth, or (as QEMU 7.2
     * reports it) a smaller one past the end of a shorter backing file. */
    FUZZ_ASSERT(e->depth <= w->chain, "map at %llu: depth %u of %u",
                (unsigned long long)off, e->depth, w->chain);
    if (!(e->flags & QED_MAP_PRESENT)) {
        FUZZ_ASSERT(!(e->flags & QED_MAP_DATA),
                    "map at %llu: absent extent with flags 0x%x",
                    (unsigned long long)off, e->flags);
        return;
    }
    if (!(e->flags & QED_MAP_DATA))
        return;
    FUZZ_ASSERT(fuzz_range_ok(w->parts[e->depth], e->offset, e->length),
                "map at %llu: data [%llu, +%llu) outside the file at depth %u",
                (unsigned long long)off, (unsigned long long)e->offset,
                (unsigned long long)e->length, e->depth);   /* TBL-6 */
    if (e->depth == 0)
        FUZZ_ASSERT(e->offset % w->cluster_size == off % w->cluster_size,
                    "map at %llu: offset %llu not cluster-aligned",
                    (unsigned long long)off,
                    (unsigned long long)e->offset);         /* TBL-3 */
}

/* Read [off, off+len) of extent e and compare with what map promised. */
static void check_chunk(walk *w, const qed_extent *e, uint64_t off, size_t len)
{
    int rc = qed_read(w->img, off, w->buf, len);

    FUZZ_ASSERT(rc == QED_OK, "read at %llu (+%zu) inside a mapped extent: %d (%s)",
                (unsigned long long)off, len, rc, qed_strerror(rc));
    w->read_left -= len;
    if (e->flags & QED_MAP_DATA) {
        const uint8_t *want = w->parts[e->depth].data + e->offset +
                              (off - e->start);
        FUZZ_ASSERT(memcmp(w->buf, want, len) == 0,
                    "read at %llu differs from depth %u offset %llu",
                    (unsigned long long)off, e->depth,
                    (unsigned long long)(e->offset + (off - e->start)));
    } else if ((e->flags & QED_MAP_ZERO) || !(e->flags & QED_MAP_PRESENT)) {
        FUZZ_ASSERT(fuzz_all_zero(w->buf, len), "non-zero read at %llu "
                    "in a zero or absent extent", (unsigned long long)off);
    }
}

/* Read extent e in cluster-sized chunks while the budget lasts. */
static void read_extent(walk *w, const qed_extent *e)
{
    uint64_t chunk = w->cluster_size < MAX_CHUNK ? w->cluster_size : MAX_CHUNK;
    uint64_t off = e->start, end = e->start + e->length;

    while (off < end && w->read_left > 0) {
        uint64_t n = chunk - off % chunk;
        if (n > end - off)
            n = end - off;
        if (n > w->read_left)
            n = w->read_left;
        check_chunk(w, e, off, (size_t)n);
        off += n;
    }
}

/* Walk [start, end) with qed_map, each request ending at end; returns
 * when done or out of steps. */
static void walk_range(walk *w, uint64_t start, uint64_t end)
{
    uint64_t off = start;

    for (; off < end && w->steps_left > 0; w->steps_left--) {
        qed_extent e;
        int rc = qed_map(w->img, off, end - off, &e);
        if (rc != QED_OK) {
            FUZZ_ASSERT(fuzz_is_format_error(rc), "map at %llu: %d (%s)",
                        (unsigned long long)off, rc, qed_strerror(rc));
            off = (off / w->cluster_size + 1) * w->cluster_size;
            continue;
        }
        check_extent(w, off, &e, end);
        read_extent(w, &e);
        off += e.length;
    }
}

/* Walk [start, start + clusters) cut at image_size. */
static void walk_window(walk *w, uint64_t start, uint64_t clusters)
{
    uint64_t span = clusters * w->cluster_size;

    if (start < w->image_size)
        walk_range(w, start, span < w->image_size - start ?
                                 start + span : w->image_size);
}

/* Walk the head of the disk, its tail, and a window at each of the first
 * distinct L2 tables of the image (its L1 table read from the file): the
 * virtual work per input is bounded whatever image_size is. */
static void walk_disk(walk *w)
{
    const qed_header *h = qed_get_header(w->img);
    uint64_t nentries = (uint64_t)h->table_size * h->cluster_size / 8;
    uint64_t table_span = nentries * w->cluster_size;   /* <= 2^50, HDR-10 */
    uint64_t idx[FUZZ_MAX_WINDOWS], last;
    size_t n = fuzz_pick_tables(w->parts[0], h->l1_table_offset, nentries,
                                idx, FUZZ_MAX_WINDOWS);

    walk_window(w, 0, HEAD_CLUSTERS);
    for (size_t i = 0; i < n; i++)   /* an entry past image_size maps nothing */
        if (idx[i] <= (w->image_size - 1) / table_span &&   /* no overflow below */
            idx[i] * table_span >= HEAD_CLUSTERS * w->cluster_size)
            walk_window(w, idx[i] * table_span, WINDOW_CLUSTERS);
    last = (w->image_size - 1) / w->cluster_size;
    if (last >= HEAD_CLUSTERS + TAIL_CLUSTERS)
        walk_window(w, (last - TAIL_CLUSTERS + 1) * w->cluster_size,
                    TAIL_CLUSTERS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_bytes parts[FUZZ_MAX_PARTS];
    size_t nparts = fuzz_split((fuzz_bytes){ data, size }, parts, FUZZ_MAX_PARTS);
    fuzz_backing_ctx bctx = { parts + 1, nparts - 1, 0 };
    qed_open_opts opts = { 0 };
    walk w = { 0 };
    qed_limits lim;
    qed_io *io = NULL;
    int rc;

    fuzz_limits(&lim);
    opts.limits = &lim;
    opts.path = "fuzzdir/image.qed";                        /* BACK-1 */
    opts.open_backing = fuzz_open_backing;
    opts.backing_ctx = &bctx;
    if (qed_io_mem_new(parts[0].data, parts[0].size, parts[0].size, &io) != QED_OK)
        return 0;
    rc = qed_open(io, &opts, &w.img);
    FUZZ_ASSERT(rc == QED_OK || fuzz_is_format_error(rc) ||
                rc == QED_ERR_LIMIT || rc == QED_ERR_BACKING,
                "open failed with %d (%s)", rc, qed_strerror(rc));
    w.buf = malloc(MAX_CHUNK);
    if (rc == QED_OK && w.buf) {
        check_header(w.img, parts[0], parts + 1, nparts - 1);
        w.parts = parts;
        w.chain = (unsigned)bctx.next;
        w.image_size = qed_get_header(w.img)->image_size;
        w.cluster_size = qed_get_header(w.img)->cluster_size;
        w.read_left = READ_BUDGET;
        w.steps_left = MAX_STEPS;
        walk_disk(&w);
    }
    free(w.buf);
    qed_close(w.img);
    qed_io_close(io);
    return 0;
}
