/*
 * fuzz_util.c - helpers shared by the libqed fuzz harnesses (see
 * fuzz_util.h for the contracts).
 */
#include "fuzz_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_fail(const char *file, int line, const char *cond,
               const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s:%d: PROPERTY FAILED: %s: ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

void fuzz_limits(qed_limits *lim)
{
    qed_limits_default(lim);
    lim->max_table_bytes = 1u << 20;
    lim->max_chain_depth = 2;
    lim->max_check_clusters = 1u << 16;
}

int fuzz_is_format_error(int status)
{
    return status > 0 && status <= QED_E_LAST;
}

int fuzz_all_zero(const uint8_t *buf, size_t len)
{
    /* Every byte equals its predecessor and the first is 0. */
    return len == 0 || (buf[0] == 0 && memcmp(buf, buf + 1, len - 1) == 0);
}

void fuzz_fill(uint8_t *buf, size_t len, uint64_t start, uint8_t seed)
{
    unsigned phase = (unsigned)(start % 251);
    size_t done = len < 251 ? len : 251;

    for (size_t i = 0; i < done; i++) {
        buf[i] = (uint8_t)(seed + phase);
        phase = phase == 250 ? 0 : phase + 1;
    }
    while (done < len) {                /* one period, then doubling copies */
        size_t n = len - done < done ? len - done : done;
        memcpy(buf + done, buf, n);     /* done is a multiple of 251 */
        done += n;
    }
}

size_t fuzz_first_neither(const uint8_t *got, const uint8_t *a,
                          const uint8_t *b, size_t len)
{
    size_t i = 0;

    while (i < len && (got[i] == a[i] || got[i] == b[i]))
        i++;
    return i;
}

int fuzz_range_ok(fuzz_bytes b, uint64_t off, uint64_t len)
{
    return off <= b.size && len <= b.size - off;
}

int fuzz_get_le64(fuzz_bytes b, uint64_t off, uint64_t *out)
{
    uint64_t v = 0;

    if (!fuzz_range_ok(b, off, 8))
        return 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)b.data[off + i] << (8 * i);
    *out = v;
    return 1;
}

uint8_t fuzz_take_u8(fuzz_cursor *c)
{
    if (c->pos >= c->in.size)
        return 0;
    return c->in.data[c->pos++];
}

uint32_t fuzz_take_le(fuzz_cursor *c, unsigned nbytes)
{
    uint32_t v = 0;

    for (unsigned i = 0; i < nbytes && i < 4; i++)
        v |= (uint32_t)fuzz_take_u8(c) << (8 * i);
    return v;
}

size_t fuzz_remaining(const fuzz_cursor *c)
{
    return c->pos < c->in.size ? c->in.size - c->pos : 0;
}

/* Offset of the first separator at or after from, or in.size if none.
 * memcmp runs only where memchr found the first byte: under libFuzzer
 * every unequal memcmp goes through its comparison hook, and one call per
 * input byte cost most of fuzz_open_read's time on large inputs. */
static size_t find_separator(fuzz_bytes in, size_t from)
{
    size_t i = from;

    while (i < in.size && in.size - i >= FUZZ_SEPARATOR_LEN) {
        const uint8_t *q = memchr(in.data + i, FUZZ_SEPARATOR[0],
                                  in.size - i - (FUZZ_SEPARATOR_LEN - 1));
        if (!q)
            break;
        i = (size_t)(q - in.data);
        if (memcmp(q, FUZZ_SEPARATOR, FUZZ_SEPARATOR_LEN) == 0)
            return i;
        i++;
    }
    return in.size;
}

size_t fuzz_split(fuzz_bytes in, fuzz_bytes *parts, size_t max_parts)
{
    size_t n = 0, start = 0;

    while (n + 1 < max_parts) {
        size_t sep = find_separator(in, start);
        if (sep == in.size)
            break;
        parts[n].data = in.data + start;
        parts[n].size = sep - start;
        n++;
        start = sep + FUZZ_SEPARATOR_LEN;
    }
    parts[n].data = in.data + start;
    parts[n].size = in.size - start;
    return n + 1;
}

int fuzz_open_backing(void *ctx, const char *path, qed_io **out)
{
    fuzz_backing_ctx *bc = ctx;
    fuzz_bytes part;

    (void)path;
    if (bc->next >= bc->count)
        return QED_ERR_BACKING;
    part = bc->parts[bc->next++];
    return qed_io_mem_new(part.size ? part.data : NULL, part.size, part.size,
                          out);
}

/* 1 if v is one of the n values in seen. */
static int seen_before(const uint64_t *seen, size_t n, uint64_t v)
{
    for (size_t i = 0; i < n; i++)
        if (seen[i] == v)
            return 1;
    return 0;
}

size_t fuzz_pick_tables(fuzz_bytes file, uint64_t l1_offset,
                        uint64_t nentries, uint64_t *idx, size_t max)
{
    uint64_t seen[FUZZ_MAX_WINDOWS], prev = 0, e;
    size_t n = 0;

    if (max > FUZZ_MAX_WINDOWS)
        max = FUZZ_MAX_WINDOWS;
    for (uint64_t i = 0; i < nentries && n < max; i++) {
        if (l1_offset > UINT64_MAX - 8 * i ||
            !fuzz_get_le64(file, l1_offset + 8 * i, &e))
            break;                      /* the rest of the table is absent */
        if (e != 0 && e != prev && !seen_before(seen, n, e)) {
            seen[n] = e;
            idx[n++] = i;
        }
        prev = e;
    }
    return n;
}

uint64_t fuzz_table_used(fuzz_bytes file, uint64_t table_offset,
                         uint64_t nentries)
{
    uint64_t used = 0, e;

    for (uint64_t i = 0; i < nentries; i++) {
        if (table_offset > UINT64_MAX - 8 * i ||
            !fuzz_get_le64(file, table_offset + 8 * i, &e))
            break;
        if (e != 0)
            used = i + 1;
    }
    return used;
}

/* A memory file on a caller's buffer (see fuzz_util.h). */
typedef struct fixed_io {
    qed_io io;                 /* must be first */
    uint8_t *data;
    size_t len, cap;
} fixed_io;

static fixed_io *fixed_of(qed_io *io)
{
    return (fixed_io *)io;
}

static int fixed_read(qed_io *io, uint64_t off, void *buf, size_t len)
{
    fixed_io *f = fixed_of(io);

    if (off > f->len || len > f->len - off)
        return QED_ERR_EOF;
    if (len)
        memcpy(buf, f->data + off, len);
    return QED_OK;
}

/* Set the length to len <= cap; bytes gained read as zeroes. */
static void fixed_set_length(fixed_io *f, size_t len)
{
    if (len > f->len)
        memset(f->data + f->len, 0, len - f->len);
    f->len = len;
}

static int fixed_write(qed_io *io, uint64_t off, const void *buf, size_t len)
{
    fixed_io *f = fixed_of(io);

    if (len == 0)
        return QED_OK;
    if (off > f->cap || len > f->cap - off)
        return QED_ERR_NOSPC;
    if (off + len > f->len)
        fixed_set_length(f, (size_t)off);
    memcpy(f->data + off, buf, len);
    if (off + len > f->len)
        f->len = (size_t)(off + len);
    return QED_OK;
}

static int fixed_flush(qed_io *io)
{
    (void)io;
    return QED_OK;
}

static int fixed_length(qed_io *io, uint64_t *len)
{
    *len = fixed_of(io)->len;
    return QED_OK;
}

static int fixed_truncate(qed_io *io, uint64_t len)
{
    fixed_io *f = fixed_of(io);

    if (len > f->cap)
        return QED_ERR_NOSPC;
    fixed_set_length(f, (size_t)len);
    return QED_OK;
}

static void fixed_close(qed_io *io)
{
    free(io);
}

int fuzz_io_fixed_new(uint8_t *buf, size_t cap, const void *data, size_t len,
                      qed_io **out)
{
    fixed_io *f;

    if (len > cap)
        return QED_ERR_INVAL;
    f = calloc(1, sizeof *f);
    if (!f)
        return QED_ERR_NOMEM;
    f->io = (qed_io){ fixed_read, fixed_write, fixed_flush, fixed_length,
                      fixed_truncate, fixed_close };
    f->data = buf;
    f->cap = cap;
    if (len)
        memcpy(buf, data, len);
    f->len = len;
    *out = &f->io;
    return QED_OK;
}

void fuzz_io_fixed_data(qed_io *io, const uint8_t **data, size_t *len)
{
    *data = fixed_of(io)->data;
    *len = fixed_of(io)->len;
}
