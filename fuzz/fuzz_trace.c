/*
 * fuzz_trace - qed_trace_parse and qed_trace_writer (ref/trace.c) on
 * arbitrary bytes.
 *
 * PROPERTY 1 (the parser judges by the layout of qed_trace.h and nothing
 * else): an independent walk of the log written here from that layout,
 * with 128-bit arithmetic instead of overflow checks, decides whether the
 * log is well formed and, if not, which entry breaks it (or the
 * superblock).  qed_trace_parse must agree: QED_OK exactly when the walk
 * accepts, else QED_ERR_INVAL with one non-empty line that names the same
 * entry ("entry K: ...") or "superblock: ".
 * PROPERTY 2 (what it returns is the log): an accepted log gives count ==
 * nr_entries entries, each with its index, its header's fields, its log
 * offset, and data pointing into the input where the layout puts it (the
 * data sectors of a write, the text after a MARK's header, NULL for a
 * DISCARD and an empty FLUSH); log_end is where the last entry ends.
 * PROPERTY 3 (writer and parser are inverse): the entries the writer can
 * express (writes with FUA/METADATA and data_len 0, plain FLUSHes,
 * DISCARDs, MARKs with NUL-free text) are written back with
 * qed_trace_writer to a memory qed_io, in order; every call succeeds, the
 * new log parses with the same sector size to the same entries (flags,
 * nr_sectors, data_len, data bytes, and sector where there are sectors:
 * a MARK's or an empty FLUSH's is written as 0), and writing that log back
 * again gives the same bytes (the writer's form is canonical).
 * qed_trace_mark_is and qed_trace_mark_prefix agree with the text.
 *
 * Input: the log itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_util.h"
#include "qed_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__extension__ typedef unsigned __int128 u128;

/* The verdict of the independent walk. */
typedef struct verdict {
    int ok;
    int super_bad;      /* the superblock is what breaks */
    uint64_t entry;     /* else the first entry that breaks */
    uint32_t ss;
    uint64_t count;
} verdict;

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* The superblock rules: magic, version 1, sector size a power of two in
 * [512, 65536], the whole superblock sector present. */
static int super_ok(const uint8_t *d, size_t size, uint32_t *ss)
{
    uint64_t s;

    if (size < 28 || le(d, 8) != 0x6a736677736872ull || le(d + 8, 8) != 1)
        return 0;
    s = le(d + 24, 4);
    if (s < 512 || s > 65536 || (s & (s - 1)) || size < s)
        return 0;
    *ss = (uint32_t)s;
    return 1;
}

/* One entry's rules at byte off; sets *next past it.  1 when it holds. */
static int entry_ok(const uint8_t *d, size_t size, uint32_t ss, u128 off, u128 *next)
{
    if (off + ss > size)
        return 0;
    const uint8_t *h = d + (size_t)off;
    uint64_t sector = le(h, 8), nr = le(h + 8, 8), flags = le(h + 16, 8),
             dlen = le(h + 24, 8);
    if (flags & ~(uint64_t)31)
        return 0;
    if (flags & 8) {                                 /* MARK */
        *next = off + ss;
        return !(flags & 7) && nr == 0 && dlen <= ss - 32;
    }
    u128 bytes = (u128)nr * ss, end = ((u128)sector + nr) * ss;
    if (bytes > UINT64_MAX || end > UINT64_MAX)
        return 0;
    if (flags & 4) {                                 /* DISCARD */
        *next = off + ss;
        return dlen == 0;
    }
    *next = off + ss + bytes;
    return dlen <= bytes && *next <= size;
}

/* Walk the whole log as qed_trace.h lays it out. */
static verdict walk(const uint8_t *d, size_t size)
{
    verdict v = { 0 };
    u128 off;

    if (!super_ok(d, size, &v.ss)) {
        v.super_bad = 1;
        return v;
    }
    v.count = le(d + 16, 8);
    off = v.ss;
    for (v.entry = 0; v.entry < v.count; v.entry++)
        if (!entry_ok(d, size, v.ss, off, &off))
            return v;
    v.ok = 1;
    return v;
}

/* PROPERTY 1: the parser's verdict and message against the walk's. */
static void check_verdict(const verdict *v, int rc, const char *err)
{
    char want[48];

    FUZZ_ASSERT(rc == QED_OK || rc == QED_ERR_INVAL, "status %d", rc);
    FUZZ_ASSERT((rc == QED_OK) == v->ok, "parse %d, independent walk %s (entry %llu)",
                rc, v->ok ? "accepts" : "rejects", (unsigned long long)v->entry);
    if (rc == QED_OK)
        return;
    FUZZ_ASSERT(err[0] != '\0' && strchr(err, '\n') == NULL, "message '%s'", err);
    if (v->super_bad)
        snprintf(want, sizeof want, "superblock: ");
    else
        snprintf(want, sizeof want, "entry %llu: ", (unsigned long long)v->entry);
    FUZZ_ASSERT(strncmp(err, want, strlen(want)) == 0, "message '%s', expected '%s...'",
                err, want);
}

/* PROPERTY 2: one parsed entry against the bytes of its header. */
static void check_entry(const qed_trace *t, uint64_t i, uint64_t off,
                        const uint8_t *d, size_t size, uint64_t *next)
{
    const qed_trace_entry *e = &t->entries[i];
    const uint8_t *h = d + off;
    uint32_t ss = t->sector_size;
    uint64_t bytes = e->nr_sectors * ss;
    const char *rest;
    size_t rest_len;

    FUZZ_ASSERT(e->index == i && e->log_offset == off, "entry %llu at %llu",
                (unsigned long long)e->index, (unsigned long long)e->log_offset);
    FUZZ_ASSERT(e->sector == le(h, 8) && e->nr_sectors == le(h + 8, 8) &&
                e->flags == le(h + 16, 8) && e->data_len == le(h + 24, 8),
                "entry %llu fields", (unsigned long long)i);
    *next = off + ss;
    if (e->flags & QED_TRACE_MARK) {
        FUZZ_ASSERT(e->data == h + 32, "MARK text pointer");
        FUZZ_ASSERT(qed_trace_mark_prefix(e, "", &rest, &rest_len) &&
                    rest == (const char *)h + 32 && rest_len == e->data_len, "prefix \"\"");
    } else if (e->flags & QED_TRACE_DISCARD) {
        FUZZ_ASSERT(e->data == NULL, "DISCARD data");
    } else {
        FUZZ_ASSERT(bytes ? e->data == h + ss : e->data == NULL, "write data pointer");
        *next += bytes;
        FUZZ_ASSERT(*next <= size, "data past the end");
    }
    FUZZ_ASSERT((e->flags & QED_TRACE_MARK) ||
                !qed_trace_mark_prefix(e, "", &rest, &rest_len), "prefix on a non-MARK");
}

/* 1 when the writer can express e (PROPERTY 3's vocabulary). */
static int expressible(const qed_trace_entry *e)
{
    if (e->flags & QED_TRACE_MARK)
        return e->flags == QED_TRACE_MARK && memchr(e->data, 0, e->data_len) == NULL;
    if (e->flags == QED_TRACE_FLUSH)
        return e->nr_sectors == 0;
    if (e->flags == QED_TRACE_DISCARD)
        return e->nr_sectors > 0;
    return !(e->flags & (QED_TRACE_FLUSH | QED_TRACE_DISCARD)) &&
           e->nr_sectors > 0 && e->data_len == 0;
}

/* Append e with the writer; returns the writer's status. */
static int write_entry(qed_trace_writer *w, const qed_trace_entry *e)
{
    char text[QED_TRACE_MAX_SECTOR];

    if (e->flags & QED_TRACE_MARK) {
        memcpy(text, e->data, e->data_len);
        text[e->data_len] = '\0';
        FUZZ_ASSERT(qed_trace_mark_is(e, text), "mark_is on its own text");
        return qed_trace_mark(w, text);
    }
    if (e->flags & QED_TRACE_FLUSH)
        return qed_trace_flush(w);
    if (e->flags & QED_TRACE_DISCARD)
        return qed_trace_discard(w, e->sector, e->nr_sectors);
    return qed_trace_write(w, e->sector, e->nr_sectors, e->flags, e->data);
}

/* Write the expressible entries of t to a new memory log (*log, caller
 * closes); returns how many were written. */
static uint64_t rewrite(const qed_trace *t, size_t max_len, qed_io **log)
{
    qed_trace_writer *w = NULL;
    uint64_t n = 0;

    FUZZ_ASSERT(qed_io_mem_new(NULL, 0, max_len, log) == QED_OK, "mem io");
    FUZZ_ASSERT(qed_trace_writer_new(*log, t->sector_size, &w) == QED_OK, "writer");
    for (uint64_t i = 0; i < t->count; i++) {
        if (!expressible(&t->entries[i]))
            continue;
        int rc = write_entry(w, &t->entries[i]);
        FUZZ_ASSERT(rc == QED_OK, "writer refused entry %llu: %d", (unsigned long long)i, rc);
        n++;
    }
    FUZZ_ASSERT(qed_trace_writer_entries(w) == n, "writer count");
    FUZZ_ASSERT(qed_trace_writer_finish(w) == QED_OK, "finish");
    qed_trace_writer_free(w);
    return n;
}

/* PROPERTY 3: the re-parsed entry b equals the original a. */
static void check_same(const qed_trace_entry *a, const qed_trace_entry *b, uint32_t ss)
{
    size_t n = (a->flags & QED_TRACE_MARK) ? (size_t)a->data_len
             : (a->flags & QED_TRACE_DISCARD) ? 0 : (size_t)(a->nr_sectors * ss);

    FUZZ_ASSERT(a->flags == b->flags && a->nr_sectors == b->nr_sectors &&
                a->data_len == b->data_len, "entry %llu changed kind",
                (unsigned long long)a->index);
    /* a MARK's and an empty FLUSH's sector mean nothing; the writer stores 0 */
    FUZZ_ASSERT(a->nr_sectors == 0 || a->sector == b->sector, "sector");
    FUZZ_ASSERT(n == 0 || memcmp(a->data, b->data, n) == 0, "entry %llu data",
                (unsigned long long)a->index);
}

static void check_round_trip(const qed_trace *t, size_t size)
{
    size_t max_len = 2 * size + 2 * QED_TRACE_MAX_SECTOR;
    qed_io *log1, *log2;
    const uint8_t *b1, *b2;
    size_t n1, n2;
    qed_trace t1, t2;
    uint64_t n = rewrite(t, max_len, &log1), j = 0;

    qed_io_mem_data(log1, &b1, &n1);
    FUZZ_ASSERT(qed_trace_parse(b1, n1, &t1, NULL, 0) == QED_OK, "rewritten log rejected");
    FUZZ_ASSERT(t1.count == n && t1.sector_size == t->sector_size && t1.log_end == n1,
                "rewritten count %llu of %llu", (unsigned long long)t1.count,
                (unsigned long long)n);
    for (uint64_t i = 0; i < t->count; i++)
        if (expressible(&t->entries[i]))
            check_same(&t->entries[i], &t1.entries[j++], t->sector_size);
    rewrite(&t1, max_len, &log2);
    qed_io_mem_data(log2, &b2, &n2);
    FUZZ_ASSERT(n1 == n2 && memcmp(b1, b2, n1) == 0, "the writer's form is not canonical");
    FUZZ_ASSERT(qed_trace_parse(b2, n2, &t2, NULL, 0) == QED_OK, "second rewrite rejected");
    qed_trace_free(&t2);
    qed_trace_free(&t1);
    qed_io_close(log2);
    qed_io_close(log1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    qed_trace t;
    verdict v = walk(data, size);
    int rc = qed_trace_parse(data, size, &t, err, sizeof err);
    uint64_t off;

    check_verdict(&v, rc, err);
    if (rc != QED_OK) {
        FUZZ_ASSERT(t.entries == NULL && t.count == 0, "state left after a failure");
        return 0;
    }
    FUZZ_ASSERT(t.sector_size == v.ss && t.count == v.count, "geometry");
    off = t.sector_size;
    for (uint64_t i = 0; i < t.count; i++)
        check_entry(&t, i, off, data, size, &off);
    FUZZ_ASSERT(t.log_end == off, "log_end %llu, expected %llu",
                (unsigned long long)t.log_end, (unsigned long long)off);
    check_round_trip(&t, size);
    qed_trace_free(&t);
    return 0;
}
