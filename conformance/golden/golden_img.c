/*
 * golden_img.c - byte buffers, the QED image builder and the content model
 * of the golden generator (see golden_img.h).
 */
#include "golden_img.h"

#include "qed.h"
#include "../lib/le.h"
#include "../lib/sha256.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void g_die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("qed-conform golden: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* ------------------------------------------------------------------ */
/* Byte buffers                                                       */
/* ------------------------------------------------------------------ */

/* Make room for len bytes; new bytes are zero. */
static void gbuf_reserve(gbuf *b, uint64_t len)
{
    size_t cap = b->cap ? b->cap : 4096;

    if (len > SIZE_MAX / 2)
        g_die("buffer of %llu bytes is too large", (unsigned long long)len);
    if (len <= b->cap)
        return;
    while (cap < len)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        g_die("out of memory");
    memset(p + b->cap, 0, cap - b->cap);
    b->data = p;
    b->cap = cap;
}

void gbuf_set_len(gbuf *b, uint64_t len)
{
    gbuf_reserve(b, len);
    if (len < b->len)
        memset(b->data + len, 0, b->len - len);
    b->len = (size_t)len;
}

void gbuf_put(gbuf *b, uint64_t off, const void *src, size_t n)
{
    if (off > SIZE_MAX - n)
        g_die("buffer offset overflow");
    gbuf_reserve(b, off + n);
    if (n)
        memcpy(b->data + off, src, n);
    if (off + n > b->len)
        b->len = (size_t)(off + n);
}

void gbuf_put_le32(gbuf *b, uint64_t off, uint32_t v)
{
    uint8_t p[4];

    le_put(p, v, sizeof p);
    gbuf_put(b, off, p, sizeof p);
}

void gbuf_put_le64(gbuf *b, uint64_t off, uint64_t v)
{
    uint8_t p[8];

    le_put(p, v, sizeof p);
    gbuf_put(b, off, p, sizeof p);
}

uint64_t gbuf_get_le64(const gbuf *b, uint64_t off)
{
    uint8_t p[8] = { 0 };

    if (off < b->len)
        memcpy(p, b->data + off, b->len - off < 8 ? (size_t)(b->len - off) : 8);
    return le_get(p, sizeof p);
}

void gbuf_printf(gbuf *b, const char *fmt, ...)
{
    va_list ap, ap2;

    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        g_die("formatting failed");
    gbuf_reserve(b, (uint64_t)b->len + (uint64_t)n + 1);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)n;
}

void gbuf_free(gbuf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* ------------------------------------------------------------------ */
/* Deterministic pseudo-random bytes                                  */
/* ------------------------------------------------------------------ */

uint64_t g_rand_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void g_fill(uint8_t *dst, size_t n, uint64_t seed)
{
    uint64_t st = seed;

    for (size_t i = 0; i < n; i += 8)
        le_put(dst + i, g_rand_next(&st), n - i < 8 ? (unsigned)(n - i) : 8);
}

/* ------------------------------------------------------------------ */
/* The builder                                                        */
/* ------------------------------------------------------------------ */

/* calloc that never returns NULL. */
static void *g_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);

    if (!p)
        g_die("out of memory");
    return p;
}

char *g_strdup(const char *s)
{
    char *p = g_calloc(strlen(s) + 1, 1);

    return memcpy(p, s, strlen(s) + 1);
}

glayer *gl_raw(const char *path, uint64_t len, uint64_t seed, int magic)
{
    glayer *g = g_calloc(1, sizeof *g);

    g->path = g_strdup(path);
    gbuf_set_len(&g->file, len);
    g_fill(g->file.data, (size_t)len, seed);
    if (magic && len >= 4)
        gbuf_put_le32(&g->file, 0, QED_MAGIC);
    return g;
}

glayer *gl_qed(const char *path, uint32_t cs, uint32_t ts, uint32_t hs,
               uint64_t image_size)
{
    glayer *g = g_calloc(1, sizeof *g);

    g->is_qed = 1;
    g->path = g_strdup(path);
    g->cluster_size = cs;
    g->table_size = ts;
    g->header_size = hs;
    g->image_size = image_size;
    g->bname_offset = QED_HEADER_BYTES;
    g->n = (uint64_t)ts * cs / 8;                            /* TBL-1 */
    g->l1 = g_calloc((size_t)g->n, sizeof *g->l1);
    g->l1_offset = (uint64_t)hs * cs;
    g->cursor = g->l1_offset + (uint64_t)ts * cs;
    return g;
}

void gl_backing(glayer *g, const char *name, glayer *backing, int no_probe)
{
    free(g->bname);
    g->bname = g_strdup(name);
    g->backing = backing;
    g->features |= QED_F_BACKING_FILE;
    if (no_probe)
        g->features |= QED_F_BACKING_FORMAT_NO_PROBE;
}

uint64_t gl_take(glayer *g, uint64_t n)
{
    uint64_t off = g->cursor;

    g->cursor += n * g->cluster_size;
    return off;
}

/* The L2 table at file offset off, or NULL. */
static gl2 *find_l2(const glayer *g, uint64_t off)
{
    for (size_t k = 0; k < g->n_l2; k++)
        if (g->l2[k].offset == off)
            return &g->l2[k];
    return NULL;
}

gl2 *gl_l2(glayer *g, uint64_t i, uint64_t off)
{
    if (i >= g->n)
        g_die("%s: L1 index %llu out of range", g->path, (unsigned long long)i);
    if (g->l1[i])
        return find_l2(g, g->l1[i]);
    if (!off)
        off = gl_take(g, g->table_size);
    gl2 *t = find_l2(g, off);
    if (!t) {
        g->l2 = realloc(g->l2, (g->n_l2 + 1) * sizeof *g->l2);
        if (!g->l2)
            g_die("out of memory");
        t = &g->l2[g->n_l2++];
        t->offset = off;
        t->entry = g_calloc((size_t)g->n, sizeof *t->entry);
    }
    g->l1[i] = off;
    return t;
}

/* The L2 entry of logical cluster lc, creating its table at the cursor. */
static uint64_t *l2_slot(glayer *g, uint64_t lc)
{
    gl2 *t = gl_l2(g, lc / g->n, 0);

    if (!t)
        g_die("%s: L1 entry does not point to a built L2 table", g->path);
    return &t->entry[lc % g->n];
}

void gl_data(glayer *g, uint64_t lc, uint64_t off, uint64_t seed)
{
    uint64_t *slot = l2_slot(g, lc);
    uint8_t *bytes = g_calloc(g->cluster_size, 1);

    if (!off)
        off = gl_take(g, 1);
    *slot = off;
    g_fill(bytes, g->cluster_size, seed);
    gbuf_put(&g->file, off, bytes, g->cluster_size);
    free(bytes);
}

void gl_zero(glayer *g, uint64_t lc)
{
    *l2_slot(g, lc) = QED_ZERO_CLUSTER;                     /* ZERO-1 */
}

void gl_l2_raw(glayer *g, uint64_t lc, uint64_t value)
{
    *l2_slot(g, lc) = value;
}

/* Write the n entries of a table at file offset off (FILE-1: little-endian). */
static void put_table(gbuf *f, uint64_t off, const uint64_t *e, uint64_t n)
{
    for (uint64_t k = 0; k < n; k++)
        gbuf_put_le64(f, off + 8 * k, e[k]);
}

void gl_finish(glayer *g)
{
    gbuf *f = &g->file;
    size_t nlen = g->bname ? strlen(g->bname) : 0;

    if (f->len < g->cursor)
        gbuf_set_len(f, g->cursor);
    gbuf_put_le32(f, 0, QED_MAGIC);                         /* HDR-1 */
    gbuf_put_le32(f, 4, g->cluster_size);
    gbuf_put_le32(f, 8, g->table_size);
    gbuf_put_le32(f, 12, g->header_size);
    gbuf_put_le64(f, 16, g->features);
    gbuf_put_le64(f, 24, g->compat_features);
    gbuf_put_le64(f, 32, g->autoclear_features);
    gbuf_put_le64(f, 40, g->l1_offset);
    gbuf_put_le64(f, 48, g->image_size);
    gbuf_put_le32(f, 56, g->bname ? g->bname_offset : 0);
    gbuf_put_le32(f, 60, (uint32_t)nlen);
    if (nlen)
        gbuf_put(f, g->bname_offset, g->bname, nlen);
    put_table(f, g->l1_offset, g->l1, g->n);
    for (size_t k = 0; k < g->n_l2; k++)
        put_table(f, g->l2[k].offset, g->l2[k].entry, g->n);
}

void gl_free(glayer *g)
{
    if (!g)
        return;
    for (size_t k = 0; k < g->n_l2; k++)
        free(g->l2[k].entry);
    free(g->l2);
    free(g->l1);
    free(g->bname);
    free(g->path);
    gbuf_free(&g->file);
    free(g);
}

/* ------------------------------------------------------------------ */
/* The model: entry validity (the checker's view of TBL-2..TBL-6)     */
/* ------------------------------------------------------------------ */

/* Whole clusters in the file (FILE-3: a trailing partial one is ignored). */
static uint64_t file_clusters(const glayer *g)
{
    return g->file.len / g->cluster_size;
}

/* Offset is non-zero, has no reserved bits and is cluster aligned (TBL-2, TBL-3). */
static int offset_aligned(const glayer *g, uint64_t off)
{
    return off != 0 && (off & QED_RESERVED_BITS) == 0 && off % g->cluster_size == 0;
}

/* An L1 entry whose whole L2 table lies after the header, in the file (TBL-4). */
static int table_ok(const glayer *g, uint64_t off)
{
    uint64_t c = off / g->cluster_size;

    return offset_aligned(g, off) && c >= g->header_size &&
           c <= file_clusters(g) && file_clusters(g) - c >= g->table_size;
}

/* An L2 data entry whose cluster lies after the header, in the file (TBL-6). */
static int data_ok(const glayer *g, uint64_t off)
{
    uint64_t c = off / g->cluster_size;

    return offset_aligned(g, off) && c >= g->header_size && c < file_clusters(g);
}

/* ------------------------------------------------------------------ */
/* The model: reading                                                 */
/* ------------------------------------------------------------------ */

/* The L2 entry the model sees for logical cluster lc (invalid: 0). */
static uint64_t model_entry(const glayer *g, uint64_t lc)
{
    uint64_t e1 = g->l1[lc / g->n];

    if (!table_ok(g, e1))
        return 0;
    const gl2 *t = find_l2(g, e1);
    if (!t)
        g_die("%s: L1 entry 0x%llx is not a built L2 table", g->path,
              (unsigned long long)e1);
    uint64_t e2 = t->entry[lc % g->n];
    if (e2 == QED_ZERO_CLUSTER || data_ok(g, e2))
        return e2;
    return 0;
}

/* Resolve off in layer l at depth d, at most max bytes (max > 0). */
static void resolve(const glayer *l, uint64_t off, uint64_t max, unsigned d, gext *e)
{
    memset(e, 0, sizeof *e);
    e->start = off;
    e->length = max;
    e->depth = d;
    e->zero = 1;
    if (!l->is_qed) {                                        /* BACK-3 */
        if (off < l->file.len) {
            e->present = e->data = 1;
            e->zero = 0;
            e->offset = off;
            e->src = l;
            if (e->length > l->file.len - off)
                e->length = l->file.len - off;
        }
        return;
    }
    if (off >= l->image_size)                                /* BACK-3 */
        return;
    uint64_t in = off % l->cluster_size;                     /* XLT-1 */
    uint64_t lim = l->cluster_size - in;
    uint64_t span = (uint64_t)l->cluster_size * l->n;        /* one L1 entry's bytes */
    if (!table_ok(l, l->l1[off / span]))      /* no L2 table: the whole span alike */
        lim = span - off % span;
    if (lim > l->image_size - off)
        lim = l->image_size - off;
    if (lim < max)
        max = lim;
    uint64_t v = model_entry(l, off / l->cluster_size);
    if (v == 0 && l->backing) {                              /* XLT-2 */
        resolve(l->backing, off, max, d + 1, e);
        return;
    }
    e->length = max;
    e->present = v != 0;
    if (v > QED_ZERO_CLUSTER) {
        e->zero = 0;
        e->data = 1;
        e->offset = v + in;
        e->src = l;
    }
}

/* Layers below g. */
static unsigned chain_length(const glayer *g)
{
    unsigned n = 0;

    for (const glayer *l = g->backing; l; l = l->is_qed ? l->backing : NULL)
        n++;
    return n;
}

void gm_extent(const glayer *g, uint64_t off, uint64_t max, gext *e)
{
    if (max > g->image_size - off)
        max = g->image_size - off;
    resolve(g, off, max, 0, e);
    if (!e->present)                      /* present nowhere: the chain length */
        e->depth = chain_length(g);
}

void gm_read(const glayer *l, uint64_t off, uint8_t *buf, size_t len)
{
    gext e;

    for (size_t done = 0; done < len; done += (size_t)e.length) {
        resolve(l, off + done, len - done, 0, &e);
        if (e.data)
            memcpy(buf + done, e.src->file.data + e.offset, (size_t)e.length);
        else
            memset(buf + done, 0, (size_t)e.length);
    }
}

/* a and b (b right after a) can be one extent. */
static int mergeable(const gext *a, const gext *b)
{
    if (a->depth != b->depth || a->present != b->present || a->zero != b->zero ||
        a->data != b->data)
        return 0;
    return !a->data || (a->src == b->src && a->offset + a->length == b->offset);
}

size_t gm_map(const glayer *g, gext **out)
{
    size_t n = 0, cap = 16;
    gext *v = g_calloc(cap, sizeof *v), e;

    for (uint64_t off = 0; off < g->image_size; off += e.length) {
        gm_extent(g, off, g->image_size - off, &e);
        if (n && mergeable(&v[n - 1], &e)) {
            v[n - 1].length += e.length;
            continue;
        }
        if (n == cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof *v);
            if (!v)
                g_die("out of memory");
        }
        v[n++] = e;
    }
    *out = v;
    return n;
}

void gm_content_sha256(const glayer *g, char hex[65])
{
    static const uint8_t zeroes[65536];
    sha256_ctx ctx;
    gext *map;
    size_t n = gm_map(g, &map);

    sha256_init(&ctx);
    for (size_t k = 0; k < n; k++) {
        if (map[k].data) {
            sha256_update(&ctx, map[k].src->file.data + map[k].offset,
                              (size_t)map[k].length);
            continue;
        }
        for (uint64_t left = map[k].length; left > 0;) {
            size_t take = left < sizeof zeroes ? (size_t)left : sizeof zeroes;
            sha256_update(&ctx, zeroes, take);
            left -= take;
        }
    }
    free(map);
    sha256_final_hex(&ctx, hex);
}

void gm_file_sha256(const glayer *g, char hex[65])
{
    sha256_buffer_hex(g->file.data, g->file.len, hex);
}

/* ------------------------------------------------------------------ */
/* The model: check counts                                            */
/* ------------------------------------------------------------------ */

/* Take n clusters from c (those below nc) unless one of them is already
 * owned; returns 1 when taken, 0 for a duplicate reference (CHK-1: it takes
 * none of its clusters). */
static int take(uint8_t *owned, uint64_t nc, uint64_t c, uint64_t n)
{
    for (uint64_t k = 0; k < n && c + k < nc; k++)
        if (owned[c + k])
            return 0;
    for (uint64_t k = 0; k < n && c + k < nc; k++)
        owned[c + k] = 1;
    return 1;
}

/* The L1 entry i as stored in the file. */
static uint64_t stored_l1(const glayer *g, uint64_t i)
{
    return gbuf_get_le64(&g->file, g->l1_offset + 8 * i);
}

/* Pass 2 for one L2 table: judge its entries, take their data clusters. */
static uint64_t check_l2(const glayer *g, uint64_t off, uint8_t *owned)
{
    uint64_t bad = 0, nc = file_clusters(g);

    for (uint64_t j = 0; j < g->n; j++) {
        uint64_t v = gbuf_get_le64(&g->file, off + 8 * j);
        if (v == 0 || v == QED_ZERO_CLUSTER)                 /* TBL-5, ZERO-1 */
            continue;
        if (!data_ok(g, v))                                  /* CHK-2 */
            bad++;
        else if (!take(owned, nc, v / g->cluster_size, 1))   /* CHK-1 */
            bad++;
    }
    return bad;
}

/* The spec's walk (section 8): the header area is owned; l1_table_offset
 * takes the L1 table; pass 1 takes the L2 tables of the L1 entries in index
 * order; pass 2 walks the tables pass 1 took (never a duplicate's, CHK-1) in
 * L1 order and takes their data clusters; then every unowned cluster is a
 * leak. */
void gm_check(const glayer *g, gcheck *out)
{
    uint64_t nc = file_clusters(g), cs = g->cluster_size;
    uint8_t *owned = g_calloc((size_t)nc + 1, 1);
    uint8_t *walk = g_calloc((size_t)g->n, 1);

    memset(out, 0, sizeof *out);
    take(owned, nc, 0, g->header_size);
    if (!take(owned, nc, g->l1_offset / cs, g->table_size))
        out->corruptions++;
    for (uint64_t i = 0; i < g->n; i++) {                    /* pass 1 */
        uint64_t e = stored_l1(g, i);
        if (e == 0)
            continue;
        if (!table_ok(g, e))                                 /* CHK-2, CHK-3 */
            out->corruptions++;
        else if (!take(owned, nc, e / cs, g->table_size))    /* CHK-1 */
            out->corruptions++;
        else
            walk[i] = 1;
    }
    for (uint64_t i = 0; i < g->n; i++)                      /* pass 2 */
        if (walk[i])
            out->corruptions += check_l2(g, stored_l1(g, i), owned);
    for (uint64_t c = g->header_size; c < nc; c++)           /* CHK-4 */
        out->leaks += !owned[c];
    free(walk);
    free(owned);
}
