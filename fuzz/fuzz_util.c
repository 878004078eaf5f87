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

    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)(seed + phase);
        phase = phase == 250 ? 0 : phase + 1;
    }
}

uint64_t fuzz_hash(const uint8_t *buf, size_t len)
{
    uint64_t h = 0xcbf29ce484222325u;

    for (size_t i = 0; i < len; i++) {
        h ^= buf[i];
        h *= 0x100000001b3u;
    }
    return h;
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

/* Offset of the first separator at or after from, or in.size if none. */
static size_t find_separator(fuzz_bytes in, size_t from)
{
    for (size_t i = from; i < in.size && in.size - i >= FUZZ_SEPARATOR_LEN;
         i++)
        if (memcmp(in.data + i, FUZZ_SEPARATOR, FUZZ_SEPARATOR_LEN) == 0)
            return i;
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
