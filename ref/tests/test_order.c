/*
 * test_order.c - crash-order self-test (WR-1..WR-5).  Workloads run on a
 * memory image wrapped in the dm-log-writes recorder (512-byte sectors);
 * the log is parsed back and every write is classified by its sector range
 * (header sector 0, the L1 table, the L2 table, the data cluster) so the
 * order of writes and flushes can be asserted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "helpers.h"

#define CS 4096u
#define IMG_SIZE (1u << 20)
#define WOFF (CS + 50)            /* the workload's write: logical cluster 1 */
#define WLEN 100u

enum kind { K_FLUSH, K_HDR, K_L1, K_L2, K_DATA, K_OTHER, K_MARK };

/* One recorded session and what the final image says about it. */
typedef struct trace {
    qed_trace log;
    uint8_t *logbuf;
    uint8_t *img;
    size_t img_len;
    uint64_t l1, l2, data;        /* table and data cluster offsets */
    enum kind *kind;
} trace;

/* A session's work on the open image (CU-asserting its own results). */
typedef void (*session_fn)(qed_image *img);

/* The recorder of the session being recorded, for sessions that add MARK
 * entries (set by record()). */
static qed_io *session_recorder;

#define B_OFF (200 * CS + 1000)   /* the second write of do_write_flush_write */
#define B_LEN 5000u

/* The sessions recorded below. */
static void do_write(qed_image *img)
{
    uint8_t buf[WLEN];
    memset(buf, 0xab, sizeof(buf));
    CU_ASSERT_EQUAL(qed_write(img, WOFF, buf, WLEN), QED_OK);
}

static void do_zeroes(qed_image *img)
{
    CU_ASSERT_EQUAL(qed_write_zeroes(img, CS, CS), QED_OK);
}

static void do_read(qed_image *img)
{
    uint8_t buf[WLEN];
    CU_ASSERT_EQUAL(qed_read(img, 0, buf, WLEN), QED_OK);
}

/* Write A, flush, MARK "A", write B: A is durable from the MARK on (O4). */
static void do_write_flush_write(qed_image *img)
{
    uint8_t buf[B_LEN];
    do_write(img);
    CU_ASSERT_EQUAL(qed_flush(img), QED_OK);
    CU_ASSERT_EQUAL(qed_io_recorder_mark(session_recorder, "A"), QED_OK);
    memset(buf, 0xcd, sizeof(buf));
    CU_ASSERT_EQUAL(qed_write(img, B_OFF, buf, B_LEN), QED_OK);
}

static void do_repair(qed_image *img)
{
    qed_check_result res;
    CU_ASSERT_EQUAL(qed_check(img, QED_REPAIR_ALL, &res), QED_OK);
    CU_ASSERT_EQUAL(res.corruptions_fixed, 1);
}

static void do_rebase(qed_image *img)
{
    CU_ASSERT_EQUAL(qed_set_backing(img, "new-base.raw", "raw"), QED_OK);
}

/* Classify entry e by the byte range it covers. */
static enum kind classify(const trace *t, const qed_trace_entry *e)
{
    if (e->flags & QED_TRACE_FLUSH)
        return K_FLUSH;
    if (e->flags & QED_TRACE_MARK)
        return K_MARK;
    uint64_t a = e->sector * 512, b = a + e->nr_sectors * 512;
    if (a == 0)
        return K_HDR;
    if (a < t->l1 + CS && b > t->l1)
        return K_L1;
    if (t->l2 && a < t->l2 + CS && b > t->l2)
        return K_L2;
    if (t->data > 1 && a < t->data + CS && b > t->data)
        return K_DATA;
    return K_OTHER;
}

/* Run session on a copy of base opened read-write through a recorder and
 * parse the log; fs supplies the backing file. */
static void record(trace *t, const uint8_t *base, size_t base_len, memfs *fs,
                   session_fn session)
{
    memset(t, 0, sizeof(*t));
    qed_io *inner = mem_io(base, base_len), *log = mem_io(NULL, 0), *rec = NULL;
    CU_ASSERT_EQUAL_FATAL(qed_io_recorder_new(inner, io_borrow(log), 512, &rec), QED_OK);
    qed_image *img;
    CU_ASSERT_EQUAL_FATAL(open_img(rec, QED_OPEN_RDWR, fs, &img), QED_OK);
    session_recorder = rec;
    session(img);
    session_recorder = NULL;
    CU_ASSERT_EQUAL(qed_close(img), QED_OK);
    t->img = io_bytes(inner, &t->img_len);
    qed_io_close(rec);              /* brings the log's entry count up to date */
    size_t log_len;
    t->logbuf = io_bytes(log, &log_len);
    qed_io_close(log);
    CU_ASSERT_EQUAL_FATAL(qed_trace_parse(t->logbuf, log_len, &t->log, NULL, 0), QED_OK);
    CU_ASSERT_EQUAL(t->log.log_end, log_len);   /* every entry counted */
    t->l1 = get_le64(t->img + HOFF_L1);
    t->l2 = get_le64(t->img + t->l1);
    t->data = t->l2 ? get_le64(t->img + t->l2 + 8) : 0;
    t->kind = calloc(t->log.count + 1, sizeof(*t->kind));
    for (size_t i = 0; i < t->log.count; i++)
        t->kind[i] = classify(t, &t->log.entries[i]);
}

static void trace_free(trace *t)
{
    qed_trace_free(&t->log);
    free(t->logbuf);
    free(t->img);
    free(t->kind);
}

/* Index of the first entry of kind k at or after from, or n. */
static size_t first_of(const trace *t, enum kind k, size_t from)
{
    for (size_t i = from; i < t->log.count; i++)
        if (t->kind[i] == k)
            return i;
    return t->log.count;
}

/* 1 when a FLUSH entry lies strictly between a and b. */
static int flush_between(const trace *t, size_t a, size_t b)
{
    size_t f = first_of(t, K_FLUSH, a + 1);
    return a < b && f < b;
}

/* The features field of header write i. */
static uint64_t hdr_features(const trace *t, size_t i)
{
    return get_le64(t->log.entries[i].data + HOFF_FEATURES);
}

/* The u64 at file byte off as written by entry i (which must cover it). */
static uint64_t written_u64(const trace *t, size_t i, uint64_t off)
{
    return get_le64(t->log.entries[i].data + (off - t->log.entries[i].sector * 512));
}

/* 1 if entry i covers file bytes [off, off+8). */
static int covers(const trace *t, size_t i, uint64_t off)
{
    const qed_trace_entry *e = &t->log.entries[i];
    return !(e->flags & QED_TRACE_FLUSH) && e->sector * 512 <= off &&
           off + 8 <= (e->sector + e->nr_sectors) * 512;
}

/* Print the trace (on failure, for the reader). */
static void dump(const trace *t)
{
    static const char *names[] = { "FLUSH", "HDR", "L1", "L2", "DATA", "OTHER", "MARK" };
    printf("\n    trace (l1 %llu, l2 %llu, data %llu):",
           (unsigned long long)t->l1, (unsigned long long)t->l2,
           (unsigned long long)t->data);
    for (size_t i = 0; i < t->log.count; i++)
        printf(" %s@%llu+%llu", names[t->kind[i]],
               (unsigned long long)t->log.entries[i].sector,
               (unsigned long long)t->log.entries[i].nr_sectors);
    printf(" ");
}

/* WR-1: a header write setting NEED_CHECK, then a FLUSH, before any table
 * write. */
static int check_wr1(const trace *t)
{
    size_t h = first_of(t, K_HDR, 0);
    size_t tab = first_of(t, K_L1, 0) < first_of(t, K_L2, 0) ?
                 first_of(t, K_L1, 0) : first_of(t, K_L2, 0);
    int ok = h < t->log.count && (hdr_features(t, h) & QED_F_NEED_CHECK) &&
             tab < t->log.count && flush_between(t, h, tab);
    CU_ASSERT(ok);
    return ok;
}

/* WR-2: the L2 table is written, then a FLUSH, before the L1 write that
 * points at it. */
static int check_wr2(const trace *t)
{
    size_t l1w = t->log.count;
    for (size_t i = 0; i < t->log.count && l1w == t->log.count; i++)
        if (t->kind[i] == K_L1 && covers(t, i, t->l1) && written_u64(t, i, t->l1) == t->l2)
            l1w = i;
    size_t l2w = first_of(t, K_L2, 0);
    int ok = t->l2 != 0 && l1w < t->log.count && l2w < l1w && flush_between(t, l2w, l1w);
    CU_ASSERT(ok);
    return ok;
}

/* WR-3: every write of the data cluster, then a FLUSH, before the L2 write
 * that points at it. */
static int check_wr3(const trace *t)
{
    size_t l2e = t->log.count, last_data = t->log.count;
    for (size_t i = 0; i < t->log.count && l2e == t->log.count; i++)
        if (t->kind[i] == K_L2 && covers(t, i, t->l2 + 8) &&
            written_u64(t, i, t->l2 + 8) == t->data)
            l2e = i;
    for (size_t i = 0; i < l2e; i++)
        if (t->kind[i] == K_DATA)
            last_data = i;
    int ok = l2e < t->log.count && last_data < l2e && flush_between(t, last_data, l2e);
    CU_ASSERT(ok);
    return ok;
}

/* Replay the data-cluster writes logged before the first L2 write into
 * out (a cluster, zero where never written). */
static void replay_data(const trace *t, uint8_t out[CS])
{
    memset(out, 0, CS);
    size_t end = first_of(t, K_L2, 0);
    for (size_t i = 0; i < end; i++) {
        const qed_trace_entry *e = &t->log.entries[i];
        if (t->kind[i] != K_DATA)
            continue;
        uint64_t a = e->sector * 512, b = a + e->nr_sectors * 512;
        uint64_t lo = a > t->data ? a : t->data;
        uint64_t hi = b < t->data + CS ? b : t->data + CS;
        memcpy(out + (lo - t->data), e->data + (lo - a), hi - lo);
    }
}

/* WR-4: the session ends FLUSH, header write clearing NEED_CHECK, FLUSH. */
static int check_wr4(const trace *t)
{
    size_t n = t->log.count;
    int ok = n >= 3 && t->kind[n - 3] == K_FLUSH && t->kind[n - 2] == K_HDR &&
             t->kind[n - 1] == K_FLUSH &&
             (hdr_features(t, n - 2) & QED_F_NEED_CHECK) == 0 &&
             get_le32(t->log.entries[n - 2].data) == QED_MAGIC;
    CU_ASSERT(ok);
    return ok;
}

/* A fresh image (cluster 4 KiB, table 1), optionally backed by b.raw. */
static uint8_t *base_image(size_t *len, const char *backing)
{
    qed_io *io = create_mem(IMG_SIZE, CS, 1, backing, backing ? "raw" : NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(io);
    uint8_t *b = io_bytes(io, len);
    qed_io_close(io);
    return b;
}

static void test_alloc_write_no_backing(void)
{
    size_t len;
    uint8_t *base = base_image(&len, NULL);
    trace t;
    record(&t, base, len, NULL, do_write);
    CU_ASSERT(t.data > 1);
    int ok = check_wr1(&t) & check_wr2(&t) & check_wr4(&t);
    if (!ok)
        dump(&t);
    trace_free(&t);
    free(base);
}

static void test_alloc_write_backing(void)
{
    memfs fs = {0};
    uint8_t back[IMG_SIZE];
    fill_pattern(back, sizeof(back), 5);
    memfs_add(&fs, "b.raw", back, sizeof(back));
    size_t len;
    uint8_t *base = base_image(&len, "b.raw");
    trace t;
    record(&t, base, len, &fs, do_write);
    int ok = check_wr1(&t) & check_wr2(&t) & check_wr3(&t) & check_wr4(&t);
    /* WR-7: what reached the data cluster before the L2 entry pointed at
     * it is the backing data with the write laid over it */
    uint8_t got[CS], want[CS];
    replay_data(&t, got);
    memcpy(want, back + CS, CS);
    memset(want + 50, 0xab, WLEN);
    CU_ASSERT_EQUAL(memcmp(got, want, CS), 0);
    if (!ok)
        dump(&t);
    trace_free(&t);
    free(base);
    memfs_free(&fs);
}

/* Zero clusters are metadata changes too: WR-1, WR-2 and WR-4 apply. */
static void test_write_zeroes_order(void)
{
    size_t len;
    uint8_t *base = base_image(&len, NULL);
    trace t;
    record(&t, base, len, NULL, do_zeroes);
    CU_ASSERT_EQUAL(t.data, QED_ZERO_CLUSTER);
    int ok = check_wr1(&t) & check_wr2(&t) & check_wr4(&t);
    if (!ok)
        dump(&t);
    trace_free(&t);
    free(base);
}

/* A read-write session that changes nothing writes nothing (WR-4 applies
 * only to a dirtied session). */
static void test_clean_session_writes_nothing(void)
{
    size_t len;
    uint8_t *base = base_image(&len, NULL);
    trace t;
    record(&t, base, len, NULL, do_read);
    for (size_t i = 0; i < t.log.count; i++)
        CU_ASSERT_EQUAL(t.kind[i], K_FLUSH);
    CU_ASSERT_EQUAL(t.img_len, len);
    CU_ASSERT_EQUAL(memcmp(t.img, base, len), 0);
    trace_free(&t);
    free(base);
}

/* WR-5: opening a NEED_CHECK image with a corrupt L2 entry read-write
 * repairs the table, flushes, and only then clears the bit. */
static void test_wr5_order(void)
{
    rawimg r;
    raw_init(&r, CS, 1, IMG_SIZE);
    raw_map(&r, 0, raw_add_cluster(&r, 0x11));
    uint64_t l2 = raw_map(&r, 1, 0x10000000);        /* past EOF: CHK-2 */
    raw_put64(&r, HOFF_FEATURES, QED_F_NEED_CHECK);
    trace t;
    record(&t, r.buf, r.len, NULL, do_read);
    CU_ASSERT_EQUAL(t.l2, l2);
    CU_ASSERT_EQUAL(t.data, 0);                       /* repaired */
    size_t fix = first_of(&t, K_L2, 0), h = first_of(&t, K_HDR, 0);
    int ok = fix < t.log.count && h < t.log.count && flush_between(&t, fix, h) &&
             (hdr_features(&t, h) & QED_F_NEED_CHECK) == 0 &&
             first_of(&t, K_HDR, h + 1) == t.log.count;
    CU_ASSERT(ok);
    CU_ASSERT_EQUAL(get_le64(t.img + HOFF_FEATURES), 0);
    if (!ok)
        dump(&t);
    trace_free(&t);
    raw_free(&r);
}

/* WR-10: overwriting an allocated cluster writes only data: no header,
 * no table write, so NEED_CHECK is never set. */
static void test_wr10_overwrite_in_place(void)
{
    rawimg r;
    raw_init(&r, CS, 1, IMG_SIZE);
    uint64_t d = raw_add_cluster(&r, 0x11);
    raw_map(&r, 1, d);
    trace t;
    record(&t, r.buf, r.len, NULL, do_write);
    CU_ASSERT_EQUAL(t.data, d);
    int writes = 0;
    for (size_t i = 0; i < t.log.count; i++) {
        CU_ASSERT(t.kind[i] == K_FLUSH || t.kind[i] == K_DATA);
        writes += t.kind[i] == K_DATA;
    }
    CU_ASSERT(writes >= 1);
    CU_ASSERT_EQUAL(t.img_len, r.len);
    CU_ASSERT_EQUAL(t.img[d + 50], 0xab);
    if (writes < 1 || t.img_len != r.len)
        dump(&t);
    trace_free(&t);
    raw_free(&r);
}

/* CHK-5 + WR-1: a repairing check on a clean-flagged image marks it dirty
 * (header write, flush) before its first table write, and WR-4 ends it. */
static void test_repair_marks_dirty(void)
{
    rawimg r;
    raw_init(&r, CS, 1, IMG_SIZE);
    raw_map(&r, 0, raw_add_cluster(&r, 0x11));
    raw_map(&r, 1, 0x10000000);                      /* CHK-2, features clean */
    trace t;
    record(&t, r.buf, r.len, NULL, do_repair);
    CU_ASSERT_EQUAL(t.data, 0);
    int ok = check_wr1(&t) & check_wr4(&t);
    if (!ok)
        dump(&t);
    trace_free(&t);
    raw_free(&r);
}

/* WR-11: a rebase is one header write (name at offset 64), then a flush. */
static void test_wr11_rebase_one_write(void)
{
    size_t len;
    uint8_t *base = base_image(&len, NULL);
    trace t;
    record(&t, base, len, NULL, do_rebase);
    size_t h = t.log.count;
    for (size_t i = 0; i < t.log.count && h == t.log.count; i++)
        if (t.kind[i] == K_HDR && memcmp(t.log.entries[i].data + 64, "new-base.raw", 12) == 0)
            h = i;
    CU_ASSERT_FATAL(h < t.log.count);
    const uint8_t *hd = t.log.entries[h].data;
    CU_ASSERT_EQUAL(get_le32(hd + HOFF_BOFF), 64);
    CU_ASSERT_EQUAL(get_le32(hd + HOFF_BSIZE), 12);
    CU_ASSERT_EQUAL(get_le64(hd + HOFF_FEATURES) & ~(uint64_t)QED_F_NEED_CHECK,
                    QED_F_BACKING_FILE | QED_F_BACKING_FORMAT_NO_PROBE);
    CU_ASSERT(h + 1 < t.log.count && t.kind[h + 1] == K_FLUSH);
    CU_ASSERT_EQUAL(memcmp(t.img + 64, "new-base.raw", 12), 0);
    trace_free(&t);
    free(base);
}

/* HDR-7: a read-write open clears unknown autoclear bits with a header
 * write and a flush before any other write of the session. */
static void test_hdr7_autoclear_first(void)
{
    rawimg r;
    raw_init(&r, CS, 1, IMG_SIZE);
    raw_put64(&r, HOFF_AUTOCLEAR, 0x4);
    trace t;
    record(&t, r.buf, r.len, NULL, do_write);
    CU_ASSERT_FATAL(t.log.count >= 2);
    CU_ASSERT_EQUAL(t.kind[0], K_HDR);
    CU_ASSERT_EQUAL(get_le64(t.log.entries[0].data + HOFF_AUTOCLEAR), 0);
    CU_ASSERT_EQUAL(t.kind[1], K_FLUSH);
    CU_ASSERT_EQUAL(get_le64(t.img + HOFF_AUTOCLEAR), 0);
    trace_free(&t);
    raw_free(&r);
}

/* The base image with write entries [0, cut) of t applied, except entry
 * skip (pass t->log.count to skip none); *len set.  Gaps read as zeroes. */
static uint8_t *replay(const trace *t, const uint8_t *base, size_t base_len,
                       size_t cut, size_t skip, size_t *len)
{
    size_t n = base_len;
    for (size_t i = 0; i < cut; i++)
        if (!(t->log.entries[i].flags & (QED_TRACE_FLUSH | QED_TRACE_MARK))) {
            size_t end = (size_t)((t->log.entries[i].sector + t->log.entries[i].nr_sectors) * 512);
            n = end > n ? end : n;
        }
    uint8_t *img = calloc(n, 1);
    memcpy(img, base, base_len);
    for (size_t i = 0; i < cut; i++)
        if (i != skip && !(t->log.entries[i].flags & (QED_TRACE_FLUSH | QED_TRACE_MARK)))
            memcpy(img + t->log.entries[i].sector * 512, t->log.entries[i].data,
                   (size_t)t->log.entries[i].nr_sectors * 512);
    *len = n;
    return img;
}

/* 1 when img opens with flags and a check finds no corruption. */
static int opens_and_checks_clean(const uint8_t *img, size_t len, memfs *fs,
                                  unsigned flags)
{
    qed_io *io = mem_io(img, len);
    qed_image *im;
    qed_check_result res;
    int ok = open_img(io, flags, fs, &im) == QED_OK &&
             qed_check(im, QED_REPAIR_NONE, &res) == QED_OK && res.corruptions == 0;
    qed_close(im);
    qed_io_close(io);
    return ok;
}

/* O1 and O2 on one crash state: it opens read-write (WR-5 repairing when
 * NEED_CHECK is set) and then checks clean; if NEED_CHECK is clear, even
 * the unrepaired image checks clean. */
static int crash_state_ok(const uint8_t *img, size_t len, memfs *fs)
{
    int ok = 1;
    if (!(get_le64(img + HOFF_FEATURES) & QED_F_NEED_CHECK))
        ok = opens_and_checks_clean(img, len, fs, 0);          /* O2 */
    return opens_and_checks_clean(img, len, fs, QED_OPEN_RDWR) && ok;   /* O1 */
}

/* Every cut point of a session's trace, and every cut with one write of
 * the unflushed epoch before it lost, is a recoverable crash state.  With
 * corrupt_base (a repair session) the untouched base is exempt: it was
 * corrupt, with NEED_CHECK clear, before the session began. */
static void crash_states(const uint8_t *base, size_t base_len, memfs *fs,
                         session_fn session, int corrupt_base)
{
    trace t;
    record(&t, base, base_len, fs, session);
    int bad = 0;
    for (size_t cut = 0; cut <= t.log.count; cut++) {
        size_t epoch = cut;
        while (epoch > 0 && !(t.log.entries[epoch - 1].flags & QED_TRACE_FLUSH))
            epoch--;
        for (size_t skip = epoch; skip <= cut; skip++) {
            size_t len;
            uint8_t *img = replay(&t, base, base_len, cut, skip == cut ? t.log.count : skip, &len);
            int untouched = len == base_len && memcmp(img, base, len) == 0;
            if (!(corrupt_base && untouched) && !crash_state_ok(img, len, fs) && bad++ < 3)
                printf("\n    crash state: cut %zu, lost write %zd ", cut,
                       skip == cut ? (ssize_t)-1 : (ssize_t)skip);
            free(img);
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    if (bad)
        dump(&t);
    trace_free(&t);
}

/* The logical disk of crash state img (opened read-write, so repaired);
 * NULL if it does not open.  IMG_SIZE bytes. */
static uint8_t *logical_disk(const uint8_t *img, size_t len, memfs *fs)
{
    qed_io *io = mem_io(img, len);
    qed_image *im;
    uint8_t *disk = malloc(IMG_SIZE);
    if (open_img(io, QED_OPEN_RDWR, fs, &im) != QED_OK ||
        qed_read(im, 0, disk, IMG_SIZE) != QED_OK) {
        free(disk);
        disk = NULL;
    }
    qed_close(im);
    qed_io_close(io);
    return disk;
}

/* O3: every sector of disk holds its old or its new content; O4: with
 * a_durable, write A's sector holds its new content. */
static int content_ok(const uint8_t *disk, const uint8_t *old,
                      const uint8_t *new_, int a_durable)
{
    for (size_t s = 0; s < IMG_SIZE; s += 512)
        if (memcmp(disk + s, old + s, 512) && memcmp(disk + s, new_ + s, 512))
            return 0;
    size_t a = WOFF / 512 * 512;
    return !a_durable || memcmp(disk + a, new_ + a, 512) == 0;
}

/* O3 and O4 for do_write_flush_write at every cut with every single
 * unflushed write lost; old is the pre-session disk (backing or zeroes). */
static void crash_content(const uint8_t *base, size_t base_len, memfs *fs,
                          const uint8_t *old)
{
    uint8_t *new_ = malloc(IMG_SIZE);
    memcpy(new_, old, IMG_SIZE);
    memset(new_ + WOFF, 0xab, WLEN);
    memset(new_ + B_OFF, 0xcd, B_LEN);
    trace t;
    record(&t, base, base_len, fs, do_write_flush_write);
    size_t mark = first_of(&t, K_MARK, 0);
    CU_ASSERT_FATAL(mark < t.log.count);
    int bad = 0;
    for (size_t cut = 0; cut <= t.log.count; cut++) {
        size_t epoch = cut;
        while (epoch > 0 && t.kind[epoch - 1] != K_FLUSH)
            epoch--;
        for (size_t skip = epoch; skip <= cut; skip++) {
            size_t len;
            uint8_t *img = replay(&t, base, base_len, cut, skip == cut ? t.log.count : skip, &len);
            uint8_t *disk = logical_disk(img, len, fs);
            if ((!disk || !content_ok(disk, old, new_, cut > mark)) && bad++ < 3)
                printf("\n    O3/O4 broken: cut %zu, lost write %zd ", cut,
                       skip == cut ? (ssize_t)-1 : (ssize_t)skip);
            free(disk);
            free(img);
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    if (bad)
        dump(&t);
    trace_free(&t);
    free(new_);
}

static void test_crash_content(void)
{
    size_t len;
    uint8_t *old = calloc(IMG_SIZE, 1);
    uint8_t *base = base_image(&len, NULL);
    crash_content(base, len, NULL, old);
    free(base);
    memfs fs = {0};
    fill_pattern(old, IMG_SIZE, 5);
    memfs_add(&fs, "b.raw", old, IMG_SIZE);
    base = base_image(&len, "b.raw");
    crash_content(base, len, &fs, old);
    free(base);
    memfs_free(&fs);
    free(old);
}

static void test_crash_states(void)
{
    size_t len;
    uint8_t *base = base_image(&len, NULL);
    crash_states(base, len, NULL, do_write, 0);
    crash_states(base, len, NULL, do_zeroes, 0);
    memfs fs = {0};
    uint8_t back[IMG_SIZE];
    fill_pattern(back, sizeof(back), 5);
    memfs_add(&fs, "b.raw", back, sizeof(back));
    memfs_add(&fs, "new-base.raw", back, sizeof(back));
    crash_states(base, len, &fs, do_rebase, 0);
    free(base);
    base = base_image(&len, "b.raw");
    crash_states(base, len, &fs, do_write, 0);
    free(base);
    memfs_free(&fs);
    rawimg r;
    raw_init(&r, CS, 1, IMG_SIZE);
    raw_map(&r, 0, raw_add_cluster(&r, 0x11));
    raw_map(&r, 1, 0x10000000);
    crash_states(r.buf, r.len, NULL, do_repair, 1);
    raw_free(&r);
}

int suite_order(void)
{
    static const test_case cases[] = {
        { "WR-1/2/4 allocating write, no backing", test_alloc_write_no_backing },
        { "WR-1/2/3/4/7 allocating write, raw backing", test_alloc_write_backing },
        { "WR-1/2/4 write zeroes", test_write_zeroes_order },
        { "clean session writes nothing", test_clean_session_writes_nothing },
        { "WR-5 repair before clearing NEED_CHECK", test_wr5_order },
        { "WR-10 overwrite in place", test_wr10_overwrite_in_place },
        { "CHK-5/WR-1 repair marks dirty first", test_repair_marks_dirty },
        { "WR-11 rebase is one write + flush", test_wr11_rebase_one_write },
        { "HDR-7 autoclear cleared first", test_hdr7_autoclear_first },
        { "O1/O2 on every cut and lost unflushed write", test_crash_states },
        { "O3/O4 on every cut and lost unflushed write", test_crash_content },
    };
    return ADD_SUITE("order", cases);
}
