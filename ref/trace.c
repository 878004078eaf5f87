/*
 * trace.c - libqed's trace module (ref/qed_trace.h): dm-log-writes logs,
 * parsed (qed_trace_parse) and written (qed_trace_writer) in one place.
 *
 * The parser trusts nothing: every field is range-checked before it is
 * used, every size computation is overflow-checked, and memory grows with
 * the entries actually present in the buffer, never with the count the
 * superblock claims.  A malformed log gets one line naming the entry and
 * the field.
 */
#include "qed_trace.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUPER_BYTES 28u   /* u64 magic, u64 version, u64 nr_entries, u32 sector_size */

/* Flags a MARK must not carry: it is a label, not an I/O. */
#define MARK_EXCLUSIVE (QED_TRACE_FLUSH | QED_TRACE_FUA | QED_TRACE_DISCARD)

/* Little-endian load of n bytes. */
static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* Little-endian store of n bytes. */
static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* 1 when s is a sector size the module supports: a power of two in
 * [QED_TRACE_MIN_SECTOR, QED_TRACE_MAX_SECTOR]. */
static int sector_size_ok(uint64_t s)
{
    return s >= QED_TRACE_MIN_SECTOR && s <= QED_TRACE_MAX_SECTOR &&
           (s & (s - 1)) == 0;
}

/* 1 when sectors [sector, sector + nr) of size ss lie below 2^64 bytes:
 * neither nr * ss, sector + nr, nor (sector + nr) * ss overflows. */
static int sector_range_ok(uint64_t sector, uint64_t nr, uint32_t ss)
{
    if (nr > UINT64_MAX / ss || sector > UINT64_MAX - nr)
        return 0;
    return sector + nr <= UINT64_MAX / ss;
}

/* ================================================================== */
/* Parser                                                             */
/* ================================================================== */

/* Format one error line into err (when given); returns QED_ERR_INVAL. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int parse_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return QED_ERR_INVAL;
}

/* Check the superblock in buf[0..len); sets *ss and *count. */
static int parse_super(const uint8_t *buf, size_t len, uint32_t *ss,
                       uint64_t *count, char *err, size_t errlen)
{
    uint64_t magic, version, size;

    if (len < SUPER_BYTES)
        return parse_error(err, errlen, "superblock: the log is %zu bytes, "
                           "shorter than the %u-byte superblock", len, SUPER_BYTES);
    magic = get_le(buf, 8);
    version = get_le(buf + 8, 8);
    size = get_le(buf + 24, 4);
    if (magic != QED_TRACE_MAGIC)
        return parse_error(err, errlen, "superblock: magic 0x%" PRIx64 " is not "
                           "dm-log-writes' 0x%llx", magic, QED_TRACE_MAGIC);
    if (version != QED_TRACE_VERSION)
        return parse_error(err, errlen, "superblock: version %" PRIu64
                           " is not %u", version, QED_TRACE_VERSION);
    if (!sector_size_ok(size))
        return parse_error(err, errlen, "superblock: sector_size %" PRIu64
                           " is not a power of two in [%u, %u]", size,
                           QED_TRACE_MIN_SECTOR, QED_TRACE_MAX_SECTOR);
    if (len < size)
        return parse_error(err, errlen, "superblock: the log is %zu bytes, "
                           "shorter than its %" PRIu64 "-byte superblock sector",
                           len, size);
    *ss = (uint32_t)size;
    *count = get_le(buf + 16, 8);
    return QED_OK;
}

/* Check a MARK entry's fields; its text sits in the header sector. */
static int parse_mark(qed_trace_entry *e, const uint8_t *h, uint32_t ss,
                      char *err, size_t errlen)
{
    if (e->flags & MARK_EXCLUSIVE)
        return parse_error(err, errlen, "entry %" PRIu64 ": flags 0x%" PRIx64
                           " combine MARK with FLUSH, FUA or DISCARD",
                           e->index, e->flags);
    if (e->nr_sectors != 0)
        return parse_error(err, errlen, "entry %" PRIu64 ": nr_sectors %" PRIu64
                           " on a MARK (a MARK carries no sectors)",
                           e->index, e->nr_sectors);
    if (e->data_len > ss - QED_TRACE_ENTRY_BYTES)
        return parse_error(err, errlen, "entry %" PRIu64 ": MARK data_len %" PRIu64
                           " does not fit in the %" PRIu32 "-byte entry sector "
                           "(at most %" PRIu32 " bytes of text)", e->index,
                           e->data_len, ss, ss - QED_TRACE_ENTRY_BYTES);
    e->data = h + QED_TRACE_ENTRY_BYTES;
    return QED_OK;
}

/* Check a write, flush or discard entry: its sector range, data_len, and
 * that its data sectors (none for a DISCARD) lie inside the log.  off is
 * the header sector's offset; sets *data_bytes. */
static int parse_io(qed_trace_entry *e, const uint8_t *buf, size_t len,
                    uint64_t off, uint32_t ss, uint64_t *data_bytes,
                    char *err, size_t errlen)
{
    uint64_t bytes, avail = (uint64_t)len - off - ss;

    if (e->nr_sectors > UINT64_MAX / ss)
        return parse_error(err, errlen, "entry %" PRIu64 ": nr_sectors %" PRIu64
                           " times the %" PRIu32 "-byte sector overflows 64 bits",
                           e->index, e->nr_sectors, ss);
    if (!sector_range_ok(e->sector, e->nr_sectors, ss))
        return parse_error(err, errlen, "entry %" PRIu64 ": sector %" PRIu64
                           " + nr_sectors %" PRIu64 " ends past 2^64 bytes",
                           e->index, e->sector, e->nr_sectors);
    bytes = e->nr_sectors * ss;
    if (e->flags & QED_TRACE_DISCARD) {
        if (e->data_len != 0)
            return parse_error(err, errlen, "entry %" PRIu64 ": data_len %" PRIu64
                               " on a DISCARD (which carries no data)",
                               e->index, e->data_len);
        *data_bytes = 0;
        return QED_OK;
    }
    if (e->data_len > bytes)
        return parse_error(err, errlen, "entry %" PRIu64 ": data_len %" PRIu64
                           " does not fit in its %" PRIu64 " data bytes "
                           "(nr_sectors %" PRIu64 ")", e->index, e->data_len,
                           bytes, e->nr_sectors);
    if (bytes > avail)
        return parse_error(err, errlen, "entry %" PRIu64 ": data of nr_sectors %"
                           PRIu64 " (%" PRIu64 " bytes at log offset %" PRIu64
                           ") runs past the end of the %zu-byte log", e->index,
                           e->nr_sectors, bytes, off + ss, len);
    e->data = bytes ? buf + off + ss : NULL;
    *data_bytes = bytes;
    return QED_OK;
}

/* Parse entry e->index whose header sector starts at *off; advances *off
 * past the entry.  count is the superblock's nr_entries (for the error). */
static int parse_entry(const uint8_t *buf, size_t len, uint32_t ss,
                       uint64_t count, uint64_t *off, qed_trace_entry *e,
                       char *err, size_t errlen)
{
    uint64_t data_bytes = 0;
    const uint8_t *h;
    int ret;

    if (*off > len || len - *off < ss)
        return parse_error(err, errlen, "entry %" PRIu64 ": its header sector "
                           "at log offset %" PRIu64 " runs past the end of the "
                           "%zu-byte log (the superblock's nr_entries is %" PRIu64 ")",
                           e->index, *off, len, count);
    h = buf + *off;
    e->sector = get_le(h, 8);
    e->nr_sectors = get_le(h + 8, 8);
    e->flags = get_le(h + 16, 8);
    e->data_len = get_le(h + 24, 8);
    e->data = NULL;
    e->log_offset = *off;
    if (e->flags & ~(uint64_t)QED_TRACE_KNOWN_FLAGS)
        return parse_error(err, errlen, "entry %" PRIu64 ": flags 0x%" PRIx64
                           " has unknown bits 0x%" PRIx64, e->index, e->flags,
                           e->flags & ~(uint64_t)QED_TRACE_KNOWN_FLAGS);
    if (e->flags & QED_TRACE_MARK)
        ret = parse_mark(e, h, ss, err, errlen);
    else
        ret = parse_io(e, buf, len, *off, ss, &data_bytes, err, errlen);
    if (ret == QED_OK)
        *off += ss + data_bytes;     /* fits: both were checked against len */
    return ret;
}

/* Append e to t->entries, doubling the array as needed. */
static int push_entry(qed_trace *t, size_t *cap, const qed_trace_entry *e)
{
    qed_trace_entry *p;
    size_t ncap;

    if (t->count == *cap) {
        ncap = *cap ? *cap * 2 : 16;
        if (ncap > SIZE_MAX / sizeof(*p))
            return QED_ERR_NOMEM;
        p = realloc(t->entries, ncap * sizeof(*p));
        if (!p)
            return QED_ERR_NOMEM;
        t->entries = p;
        *cap = ncap;
    }
    t->entries[t->count++] = *e;
    return QED_OK;
}

int qed_trace_parse(const uint8_t *buf, size_t len, qed_trace *out,
                    char *err, size_t errlen)
{
    uint64_t count = 0, off;
    size_t cap = 0;
    int ret;

    memset(out, 0, sizeof(*out));
    if (err && errlen)
        err[0] = '\0';
    if (!buf && len)
        return QED_ERR_INVAL;
    ret = parse_super(buf, len, &out->sector_size, &count, err, errlen);
    off = out->sector_size;
    for (uint64_t i = 0; ret == QED_OK && i < count; i++) {
        qed_trace_entry e = { .index = i };
        ret = parse_entry(buf, len, out->sector_size, count, &off, &e, err, errlen);
        if (ret == QED_OK)
            ret = push_entry(out, &cap, &e);
    }
    if (ret != QED_OK) {
        if (ret == QED_ERR_NOMEM && err && errlen)
            snprintf(err, errlen, "out of memory after %" PRIu64 " entries", out->count);
        qed_trace_free(out);
        return ret;
    }
    out->log_end = off;
    return QED_OK;
}

void qed_trace_free(qed_trace *t)
{
    if (!t)
        return;
    free(t->entries);
    memset(t, 0, sizeof(*t));
}

int qed_trace_mark_is(const qed_trace_entry *e, const char *text)
{
    size_t n = strlen(text);

    return (e->flags & QED_TRACE_MARK) && e->data_len == n &&
           memcmp(e->data, text, n) == 0;
}

int qed_trace_mark_prefix(const qed_trace_entry *e, const char *prefix,
                          const char **rest, size_t *rest_len)
{
    size_t n = strlen(prefix);

    if (!(e->flags & QED_TRACE_MARK) || e->data_len < n ||
        memcmp(e->data, prefix, n) != 0)
        return 0;
    *rest = (const char *)e->data + n;
    *rest_len = (size_t)e->data_len - n;
    return 1;
}

/* ================================================================== */
/* Writer                                                             */
/* ================================================================== */

struct qed_trace_writer {
    qed_io *log;
    uint32_t ss;         /* sector size */
    uint64_t entries;    /* entries appended */
    uint64_t next;       /* byte offset of the next entry's header sector */
    uint8_t *sector;     /* one sector of scratch */
    int failed;          /* first append error; sticky */
};

/* Rewrite log sector 0: the superblock with the current entry count. */
static int write_super(qed_trace_writer *w)
{
    memset(w->sector, 0, w->ss);
    put_le(w->sector, QED_TRACE_MAGIC, 8);
    put_le(w->sector + 8, QED_TRACE_VERSION, 8);
    put_le(w->sector + 16, w->entries, 8);
    put_le(w->sector + 24, w->ss, 4);
    return w->log->write(w->log, 0, w->sector, w->ss);
}

int qed_trace_writer_new(qed_io *log, uint32_t sector_size, qed_trace_writer **out)
{
    qed_trace_writer *w;
    int ret;

    if (!log || !out || !sector_size_ok(sector_size))
        return QED_ERR_INVAL;
    w = calloc(1, sizeof(*w));
    if (!w || !(w->sector = malloc(sector_size))) {
        free(w);
        return QED_ERR_NOMEM;
    }
    w->log = log;
    w->ss = sector_size;
    w->next = sector_size;
    ret = write_super(w);
    if (ret != QED_OK) {
        qed_trace_writer_free(w);
        return ret;
    }
    *out = w;
    return QED_OK;
}

/* Append one entry: its header sector (holding text, text_len bytes, for a
 * MARK), then data_bytes of data.  After a failed log write the writer
 * refuses every later entry with that error, so a log never has a hole. */
static int append(qed_trace_writer *w, uint64_t sector, uint64_t nr,
                  uint64_t flags, const char *text, size_t text_len,
                  const void *data, size_t data_bytes)
{
    uint64_t end;
    int ret;

    if (w->failed)
        return w->failed;
    if (w->next > UINT64_MAX - w->ss || data_bytes > UINT64_MAX - w->next - w->ss)
        return QED_ERR_LIMIT;
    end = w->next + w->ss + data_bytes;
    memset(w->sector, 0, w->ss);
    put_le(w->sector, sector, 8);
    put_le(w->sector + 8, nr, 8);
    put_le(w->sector + 16, flags, 8);
    put_le(w->sector + 24, text_len, 8);
    if (text_len)
        memcpy(w->sector + QED_TRACE_ENTRY_BYTES, text, text_len);
    ret = w->log->write(w->log, w->next, w->sector, w->ss);
    if (ret == QED_OK && data_bytes)
        ret = w->log->write(w->log, w->next + w->ss, data, data_bytes);
    if (ret != QED_OK) {
        w->failed = ret;
        return ret;
    }
    w->next = end;
    w->entries++;
    return QED_OK;
}

/* The byte count of nr sectors as a size_t, or 0 when nr is 0, the range
 * overflows, or it does not fit in memory (*ok tells which). */
static size_t range_bytes(const qed_trace_writer *w, uint64_t sector,
                          uint64_t nr, int *ok)
{
    *ok = nr != 0 && sector_range_ok(sector, nr, w->ss) &&
          nr * w->ss <= SIZE_MAX;
    return *ok ? (size_t)(nr * w->ss) : 0;
}

int qed_trace_write(qed_trace_writer *w, uint64_t sector, uint64_t nr_sectors,
                    uint64_t flags, const void *data)
{
    int ok;
    size_t bytes = range_bytes(w, sector, nr_sectors, &ok);

    if (!ok || !data || (flags & ~(uint64_t)(QED_TRACE_FUA | QED_TRACE_METADATA)))
        return QED_ERR_INVAL;
    /* data_len 0, as Linux and QEMU write it: the data is nr_sectors
     * whole sectors, data_len is for a MARK's text. */
    return append(w, sector, nr_sectors, flags, NULL, 0, data, bytes);
}

int qed_trace_flush(qed_trace_writer *w)
{
    int ret = append(w, 0, 0, QED_TRACE_FLUSH, NULL, 0, NULL, 0);

    return ret == QED_OK ? write_super(w) : ret;
}

int qed_trace_discard(qed_trace_writer *w, uint64_t sector, uint64_t nr_sectors)
{
    if (nr_sectors == 0 || !sector_range_ok(sector, nr_sectors, w->ss))
        return QED_ERR_INVAL;
    return append(w, sector, nr_sectors, QED_TRACE_DISCARD, NULL, 0, NULL, 0);
}

int qed_trace_mark(qed_trace_writer *w, const char *text)
{
    size_t n = strlen(text);

    if (n > w->ss - QED_TRACE_ENTRY_BYTES)
        return QED_ERR_INVAL;
    return append(w, 0, 0, QED_TRACE_MARK, text, n, NULL, 0);
}

int qed_trace_writer_finish(qed_trace_writer *w)
{
    return write_super(w);
}

void qed_trace_writer_free(qed_trace_writer *w)
{
    if (!w)
        return;
    free(w->sector);
    free(w);
}

uint32_t qed_trace_writer_sector_size(const qed_trace_writer *w)
{
    return w->ss;
}

uint64_t qed_trace_writer_entries(const qed_trace_writer *w)
{
    return w->entries;
}
