/*
 * fuzz_tables - L1/L2 translation (qed_map, qed_read) on arbitrary tables.
 *
 * PROPERTY: walking the virtual disk extent by extent, qed_map and
 * qed_read agree with an independent translation written here from the
 * rules (XLT-1, TBL-2..TBL-6, ZERO-1): every extent starts where asked, has
 * exactly the length of the longest run of clusters in the same state (cut
 * at the end of the request), and
 * a data extent points at the cluster the L2 entry names (cluster-aligned,
 * after the header, inside the file); reads return the file's bytes for
 * data, zeroes for zero clusters and unallocated ones (no backing file,
 * XLT-2).  A cluster behind an invalid entry makes map and read fail with
 * the QED_E_* of a rule the entry breaks, never with an environment error
 * or a crash; requests past image_size are refused (XLT-3).  The walk
 * covers the first HEAD_CLUSTERS clusters, the start of each of the first
 * FUZZ_MAX_WINDOWS distinct L2 tables up to just past its last nonzero
 * entry (at most WINDOW_CLUSTERS, into the next table's span) and the last
 * TAIL_CLUSTERS, each window with map requests up to its end: the work per
 * input is bounded, though the geometries reach 4 GiB.
 *
 * Input: byte 0 picks the geometry (bits 0-1, see GEOMETRIES) and sets
 * NEED_CHECK (bit 2); the rest is the file from offset 4096 on: the L1
 * table at 4096, then whatever L2 tables and data clusters the entries
 * point at.  The file is zero-padded to hold the whole L1 table.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CS 4096u                       /* cluster size of every geometry */
#define MAX_STEPS 8192u                /* map calls per input */
#define HEAD_CLUSTERS 512u             /* walked from offset 0 */
#define WINDOW_CLUSTERS 640u           /* walked from each picked table */
#define TAIL_CLUSTERS 16u              /* walked up to image_size */
#define MAX_READ (2u * CS)             /* bytes read per extent */

static const struct { uint32_t table_size; uint64_t image_size; }
GEOMETRIES[4] = {
    { 1, 1ull << 30 },                 /* the largest image (HDR-10) */
    { 1, (1ull << 30) - 1536 },        /* last cluster partial */
    { 2, 1ull << 32 },                 /* two-cluster tables */
    { 1, 5u * 1024 * 1024 + 512 },     /* most L1 entries unused */
};

/* The image as the oracle sees it. */
typedef struct tables {
    fuzz_bytes file;
    uint64_t n;            /* entries per table, TBL-1 */
    uint64_t table_bytes;
    uint64_t usable;       /* file length rounded down to clusters, FILE-3 */
    uint64_t image_size;
} tables;

enum state { ST_UNALLOC, ST_ZERO, ST_DATA, ST_BAD_L1, ST_BAD_L2 };

/* What one cluster of the virtual disk is, per the rules. */
typedef struct cluster_info {
    enum state state;
    uint64_t offset;       /* ST_DATA: file offset of the data cluster */
    unsigned broken;       /* ST_BAD_*: bit (1 << QED_E_x) per broken rule */
} cluster_info;

/* Rules an entry pointing at len bytes breaks, as a QED_E_* bit set
 * (range_err: QED_E_TABLE_RANGE or QED_E_DATA_RANGE); 0 if valid. */
static FUZZ_ORACLE unsigned entry_breaks(const tables *t, uint64_t off,
                                         uint64_t len, int range_err)
{
    unsigned broken = 0;

    if (off & QED_RESERVED_BITS)                            /* TBL-2 */
        broken |= 1u << QED_E_RESERVED_BITS;
    if (off % CS != 0)                                      /* TBL-3 */
        broken |= 1u << QED_E_MISALIGNED;
    if (off < CS || off > t->usable || len > t->usable - off)
        broken |= 1u << range_err;                          /* TBL-4, TBL-6 */
    return broken;
}

/* Translate logical cluster c (XLT-1). */
static FUZZ_ORACLE cluster_info classify(const tables *t, uint64_t c)
{
    cluster_info ci = { ST_UNALLOC, 0, 0 };
    uint64_t l1e = 0, l2e = 0;

    if (!fuzz_get_le64(t->file, CS + 8 * (c / t->n), &l1e) || l1e == 0)
        return ci;                                          /* TBL-5 */
    ci.broken = entry_breaks(t, l1e, t->table_bytes, QED_E_TABLE_RANGE);
    if (ci.broken) {
        ci.state = ST_BAD_L1;
        return ci;
    }
    if (!fuzz_get_le64(t->file, l1e + 8 * (c % t->n), &l2e) || l2e == 0)
        return ci;                                          /* TBL-5 */
    if (l2e == QED_ZERO_CLUSTER) {                          /* ZERO-1 */
        ci.state = ST_ZERO;
        return ci;
    }
    ci.broken = entry_breaks(t, l2e, CS, QED_E_DATA_RANGE);
    ci.state = ci.broken ? ST_BAD_L2 : ST_DATA;
    ci.offset = l2e;
    return ci;
}

/* 1 if cluster c continues a run of first, which began at cluster c0. */
static FUZZ_ORACLE int same_run(const cluster_info *first, uint64_t c0,
                                const cluster_info *next, uint64_t c)
{
    if (next->state != first->state)
        return 0;
    return first->state != ST_DATA ||
           next->offset == first->offset + (c - c0) * CS;
}

/* Bytes of the run starting at cluster c0, cut at byte end (<= image_size);
 * *bad_next is set when the run ends at a cluster behind an invalid entry
 * before end. */
static FUZZ_ORACLE uint64_t run_length(const tables *t, uint64_t c0,
                                       const cluster_info *first, uint64_t end,
                                       int *bad_next)
{
    uint64_t clusters = (end + CS - 1) / CS, c = c0 + 1;
    uint64_t l1e;

    *bad_next = 0;
    while (c < clusters) {
        cluster_info ci;
        if (first->state == ST_UNALLOC && c % t->n == 0 &&
            fuzz_get_le64(t->file, CS + 8 * (c / t->n), &l1e) && l1e == 0) {
            c += t->n;                          /* a whole unused L1 entry */
            continue;
        }
        ci = classify(t, c);
        if (!same_run(first, c0, &ci, c)) {
            *bad_next = ci.state == ST_BAD_L1 || ci.state == ST_BAD_L2;
            break;
        }
        c++;
    }
    if (c >= clusters)
        return end - c0 * CS;
    return (c - c0) * CS;
}

/* The bytes read at off (len of them) are what ci says they must be. */
static void check_content(const tables *t, const cluster_info *ci,
                          uint64_t off, const uint8_t *buf, size_t len)
{
    if (ci->state != ST_DATA) {
        FUZZ_ASSERT(fuzz_all_zero(buf, len), "non-zero read at %llu",
                    (unsigned long long)off);               /* XLT-2, ZERO-1 */
        return;
    }
    FUZZ_ASSERT(fuzz_range_ok(t->file, ci->offset, len) &&
                memcmp(buf, t->file.data + ci->offset, len) == 0,
                "read at %llu differs from data cluster %llu",
                (unsigned long long)off, (unsigned long long)ci->offset);
}

/* A cluster behind a bad entry: map and read fail with a broken rule. */
static void check_bad_cluster(qed_image *img, uint64_t off,
                              const cluster_info *ci)
{
    uint8_t buf[512];
    qed_extent ext;
    int rc = qed_map(img, off, CS, &ext);

    FUZZ_ASSERT(rc > 0 && rc < 32 && (ci->broken & (1u << rc)),
                "map at %llu: got %d (%s), want a rule in mask 0x%x",
                (unsigned long long)off, rc, qed_strerror(rc), ci->broken);
    rc = qed_read(img, off, buf, sizeof buf);
    FUZZ_ASSERT(rc > 0 && rc < 32 && (ci->broken & (1u << rc)),
                "read at %llu: got %d (%s), want a rule in mask 0x%x",
                (unsigned long long)off, rc, qed_strerror(rc), ci->broken);
}

/* The extent map returned at off matches the oracle's run of len bytes. */
static void check_extent(const tables *t, const qed_extent *ext, uint64_t off,
                         const cluster_info *ci, uint64_t len)
{
    unsigned want = ci->state == ST_DATA ? QED_MAP_PRESENT | QED_MAP_DATA :
                    ci->state == ST_ZERO ? QED_MAP_PRESENT | QED_MAP_ZERO : 0;
    unsigned kind = ext->flags & (QED_MAP_PRESENT | QED_MAP_DATA);

    FUZZ_ASSERT(ext->start == off && ext->length == len,
                "map at %llu: extent [%llu, +%llu), oracle run +%llu",
                (unsigned long long)off, (unsigned long long)ext->start,
                (unsigned long long)ext->length, (unsigned long long)len);
    FUZZ_ASSERT(ext->depth == 0, "map at %llu: depth %u without backing",
                (unsigned long long)off, ext->depth);
    FUZZ_ASSERT(kind == (want & (QED_MAP_PRESENT | QED_MAP_DATA)) &&
                (ci->state != ST_ZERO || (ext->flags & QED_MAP_ZERO)),
                "map at %llu: flags 0x%x, oracle state %d",
                (unsigned long long)off, ext->flags, (int)ci->state);
    if (ci->state == ST_DATA)
        FUZZ_ASSERT(ext->offset == ci->offset && ext->offset % CS == 0 &&
                    ext->offset >= CS &&
                    fuzz_range_ok(t->file, ext->offset, len),
                    "map at %llu: data offset %llu, oracle %llu",
                    (unsigned long long)off, (unsigned long long)ext->offset,
                    (unsigned long long)ci->offset);        /* TBL-3, TBL-6 */
}

/* Read the head of a run of len bytes at off and compare. */
static void check_read(qed_image *img, const tables *t, uint64_t off,
                       const cluster_info *ci, uint64_t len)
{
    uint8_t buf[MAX_READ];
    size_t n = len < sizeof buf ? (size_t)len : sizeof buf;
    int rc = qed_read(img, off, buf, n);

    FUZZ_ASSERT(rc == QED_OK, "read at %llu (+%zu) failed: %d (%s)",
                (unsigned long long)off, n, rc, qed_strerror(rc));
    check_content(t, ci, off, buf, n);
}

/* One step of the walk at cluster-aligned off, the map request ending at
 * end (<= image_size); returns the next offset. */
static uint64_t check_step(qed_image *img, const tables *t, uint64_t off,
                           uint64_t end)
{
    uint64_t c = off / CS, len;
    cluster_info ci = classify(t, c);
    qed_extent ext;
    int bad_next, rc;

    if (ci.state == ST_BAD_L1 || ci.state == ST_BAD_L2) {
        check_bad_cluster(img, off, &ci);
        if (ci.state == ST_BAD_L1)               /* skip the whole L1 entry */
            return (c / t->n + 1) * t->n * CS;
        return off + CS;
    }
    len = run_length(t, c, &ci, end, &bad_next);
    rc = qed_map(img, off, end - off, &ext);
    if (rc != QED_OK) {
        /* Looking past the run into a bad entry may fail the whole map. */
        FUZZ_ASSERT(bad_next && fuzz_is_format_error(rc),
                    "map at %llu failed: %d (%s)", (unsigned long long)off,
                    rc, qed_strerror(rc));
    } else {
        check_extent(t, &ext, off, &ci, len);
    }
    check_read(img, t, off, &ci, len);
    return off + len;
}

/* Requests that end past image_size are refused (XLT-3). */
static void check_past_end(qed_image *img, uint64_t image_size)
{
    uint8_t buf[1024];
    qed_extent ext;
    int rc = qed_read(img, image_size - 512, buf, sizeof buf);

    FUZZ_ASSERT(rc == QED_ERR_INVAL, "read past image_size returned %d", rc);
    rc = qed_map(img, image_size, 512, &ext);
    FUZZ_ASSERT(rc != QED_OK, "map at image_size succeeded");
}

/* Build the file: header cluster, then the input from the L1 table on. */
static uint8_t *build_file(const uint8_t *data, size_t size, uint8_t sel,
                           tables *t)
{
    qed_header h = { 0 };
    size_t body = size - 1, len;
    uint8_t *file;

    h.magic = QED_MAGIC;
    h.cluster_size = CS;
    h.table_size = GEOMETRIES[sel & 3].table_size;
    h.header_size = 1;
    h.features = (sel & 4) ? QED_F_NEED_CHECK : 0;
    h.l1_table_offset = CS;
    h.image_size = GEOMETRIES[sel & 3].image_size;
    t->n = (uint64_t)h.table_size * CS / 8;
    t->table_bytes = (uint64_t)h.table_size * CS;
    t->image_size = h.image_size;
    len = CS + (body > t->table_bytes ? body : t->table_bytes);
    file = calloc(1, len);
    if (!file)
        return NULL;
    qed_header_encode(&h, file);
    memcpy(file + CS, data + 1, body);
    t->file.data = file;
    t->file.size = len;
    t->usable = len / CS * CS;                              /* FILE-3 */
    return file;
}

/* Walk the clusters [c, c + count) cut at image_size, while steps last. */
static void walk_window(qed_image *img, const tables *t, uint64_t c,
                        uint64_t count, unsigned *steps)
{
    uint64_t clusters = (t->image_size + CS - 1) / CS, off, end;

    if (c >= clusters)
        return;
    off = c * CS;
    end = count < clusters - c ? (c + count) * CS : t->image_size;
    for (; off < end && *steps > 0; --*steps)
        off = check_step(img, t, off, end);
}

/* Clusters to walk from the start of L1 entry i's span: up to 2 past the
 * last nonzero L2 entry (the unallocated rest of the table then shows as
 * one run, cut at the request's end), into the next table if that entry is
 * the table's last, at most WINDOW_CLUSTERS. */
static uint64_t window_clusters(const tables *t, uint64_t i)
{
    uint64_t l1e = 0, used = 0;

    if (fuzz_get_le64(t->file, CS + 8 * i, &l1e) &&
        !entry_breaks(t, l1e, t->table_bytes, QED_E_TABLE_RANGE))
        used = fuzz_table_used(t->file, l1e, t->n);
    else
        used = 1;                       /* a bad L1 entry: one cluster */
    return used + 2 < WINDOW_CLUSTERS ? used + 2 : WINDOW_CLUSTERS;
}

/* Walk the head of the disk, a window from the start of each of the first
 * FUZZ_MAX_WINDOWS distinct tables the L1 table names (into the next
 * table's span) and the tail up to image_size. */
static void walk_disk(qed_image *img, const tables *t)
{
    uint64_t idx[FUZZ_MAX_WINDOWS], clusters = (t->image_size + CS - 1) / CS;
    size_t n = fuzz_pick_tables(t->file, CS, t->n, idx, FUZZ_MAX_WINDOWS);
    unsigned steps = MAX_STEPS;

    walk_window(img, t, 0, HEAD_CLUSTERS, &steps);
    for (size_t i = 0; i < n; i++)
        if (idx[i] * t->n >= HEAD_CLUSTERS)
            walk_window(img, t, idx[i] * t->n, window_clusters(t, idx[i]),
                        &steps);
    if (clusters > HEAD_CLUSTERS + TAIL_CLUSTERS)
        walk_window(img, t, clusters - TAIL_CLUSTERS, TAIL_CLUSTERS, &steps);
}

/* Open the memory image read-only and walk the virtual disk. */
static void walk_image(const tables *t)
{
    qed_open_opts opts = { 0 };
    qed_limits lim;
    qed_image *img = NULL;
    qed_io *io = NULL;
    int rc;

    fuzz_limits(&lim);
    opts.limits = &lim;
    if (qed_io_mem_new(t->file.data, t->file.size, t->file.size, &io) != QED_OK)
        return;
    rc = qed_open(io, &opts, &img);
    FUZZ_ASSERT(rc == QED_OK || fuzz_is_format_error(rc) || rc == QED_ERR_LIMIT,
                "open failed with %d (%s)", rc, qed_strerror(rc));
    if (img) {
        walk_disk(img, t);
        check_past_end(img, t->image_size);
    }
    qed_close(img);
    qed_io_close(io);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tables t;
    uint8_t *file;

    if (size < 1)
        return 0;
    file = build_file(data, size, data[0], &t);
    if (!file)
        return 0;
    walk_image(&t);
    free(file);
    return 0;
}
