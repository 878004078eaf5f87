/*
 * golden_wmodel.c - the write family's model and case writer: a
 * cluster-granular model of the logical image an operation script produces
 * (see golden_gen.h for emit_write_create / emit_write_file).
 */
#include "golden_gen.h"
#include "qed.h"

#include "../lib/sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The logical image a write case produces: each cluster is either taken
 * (allocated; its bytes frozen when it was first written, WR-7) or read
 * from the current backing layer (XLT-2). */
typedef struct wmodel {
    uint32_t cs;
    uint64_t size;
    const glayer *backing;
    uint8_t **taken;           /* per logical cluster: cs bytes, or NULL */
    uint64_t nclusters;
} wmodel;

/* Clusters needed to cover size bytes. */
static uint64_t clusters_for(uint64_t size, uint32_t cs)
{
    return size / cs + (size % cs != 0);
}

/* Grow the per-cluster array to cover the current size. */
static void wm_cover(wmodel *m)
{
    uint64_t n = clusters_for(m->size, m->cs);

    if (n <= m->nclusters)
        return;
    m->taken = realloc(m->taken, (size_t)n * sizeof *m->taken);
    if (!m->taken)
        g_die("out of memory");
    memset(m->taken + m->nclusters, 0, (size_t)(n - m->nclusters) * sizeof *m->taken);
    m->nclusters = n;
}

/* Allocate cluster c with its current content (from backing or zero). */
static uint8_t *wm_take(wmodel *m, uint64_t c)
{
    if (!m->taken[c]) {
        m->taken[c] = calloc(m->cs, 1);
        if (!m->taken[c])
            g_die("out of memory");
        if (m->backing)                                      /* WR-7 */
            gm_read(m->backing, c * m->cs, m->taken[c], m->cs);
    }
    return m->taken[c];
}

/* Apply a write of len bytes of value byte at off. */
static void wm_write(wmodel *m, uint64_t off, uint64_t len, unsigned byte)
{
    if (off > m->size || len > m->size - off)
        g_die("write model: write past image_size");
    for (uint64_t p = off; p < off + len;) {
        uint64_t c = p / m->cs, in = p % m->cs;
        uint64_t n = m->cs - in < off + len - p ? m->cs - in : off + len - p;
        memset(wm_take(m, c) + in, (int)byte, (size_t)n);
        p += n;
    }
}

/* The logical byte at off. */
static void wm_read(const wmodel *m, uint64_t off, uint8_t *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        uint64_t p = off + done, c = p / m->cs, in = p % m->cs;
        size_t n = m->cs - in < len - done ? (size_t)(m->cs - in) : len - done;
        if (m->taken[c])
            memcpy(buf + done, m->taken[c] + in, n);
        else if (m->backing)
            gm_read(m->backing, p, buf + done, n);
        else
            memset(buf + done, 0, n);
        done += n;
    }
}

/* SHA-256 hex of the model's size logical bytes. */
static void wm_sha(const wmodel *m, char hex[65])
{
    sha256_ctx ctx;
    uint8_t *buf = malloc(m->cs);

    if (!buf)
        g_die("out of memory");
    sha256_init(&ctx);
    for (uint64_t off = 0; off < m->size; off += m->cs) {
        size_t n = m->size - off < m->cs ? (size_t)(m->size - off) : m->cs;
        wm_read(m, off, buf, n);
        sha256_update(&ctx, buf, n);
    }
    free(buf);
    sha256_final_hex(&ctx, hex);
}

/* Check that the model reads len bytes of value byte at off (read -P). */
static void wm_expect(const wmodel *m, uint64_t off, uint64_t len, unsigned byte)
{
    uint8_t *buf = malloc((size_t)len ? (size_t)len : 1);

    if (!buf)
        g_die("out of memory");
    wm_read(m, off, buf, (size_t)len);
    for (uint64_t k = 0; k < len; k++)
        if (buf[k] != byte)
            g_die("write model: read -P 0x%02x %llu %llu would fail", byte,
                  (unsigned long long)off, (unsigned long long)len);
    free(buf);
}

/* Take every cluster top's own tables allocate, with its current content. */
static void wm_from_image(wmodel *m, const glayer *top)
{
    gext e;

    for (uint64_t c = 0; c < m->nclusters; c++) {
        gm_extent(top, c * m->cs, m->cs, &e);
        if (!e.present || e.depth != 0)
            continue;
        m->taken[c] = calloc(m->cs, 1);
        if (!m->taken[c])
            g_die("out of memory");
        if (e.data)
            memcpy(m->taken[c], e.src->file.data + e.offset - e.offset % m->cs, m->cs);
    }
}

static void wm_free(wmodel *m)
{
    for (uint64_t c = 0; c < m->nclusters; c++)
        free(m->taken[c]);
    free(m->taken);
}

/* Apply op to the model and write it to the manifest. */
static void apply_op(gen *G, wmodel *m, const wop *op)
{
    gjson *j = &G->body;
    char text[128];

    switch (op->kind) {
    case 'w':
    case 'z':
        wm_write(m, op->off, op->len, op->kind == 'z' ? 0 : op->byte);
        if (op->kind == 'z')
            snprintf(text, sizeof text, "write -z %llu %llu",
                     (unsigned long long)op->off, (unsigned long long)op->len);
        else
            snprintf(text, sizeof text, "write -P 0x%02x %llu %llu", op->byte,
                     (unsigned long long)op->off, (unsigned long long)op->len);
        gj_string(j, text);
        break;
    case 'r':
        wm_expect(m, op->off, op->len, op->byte);
        snprintf(text, sizeof text, "read -P 0x%02x %llu %llu", op->byte,
                 (unsigned long long)op->off, (unsigned long long)op->len);
        gj_string(j, text);
        break;
    case 'f':
        gj_string(j, "flush");
        break;
    case 'R':                                                /* WR-9 */
        if (op->off < m->size)
            g_die("write model: resize only grows");
        m->size = op->off;
        wm_cover(m);
        gj_object(j, 1);
        gj_kstr(j, "cmd", "resize");
        gj_ku64(j, "size", op->off);
        gj_end_object(j);
        break;
    case 'B':
        m->backing = op->layer;
        gj_object(j, 1);
        gj_kstr(j, "cmd", "rebase");
        gj_kstr(j, "backing", op->layer->path);
        gj_kstr(j, "backing_format", op->format);
        gj_end_object(j);
        break;
    default:
        g_die("unknown write op '%c'", op->kind);
    }
}

/* ops, image_size and content_sha256 of a write case; closes the test. */
static void finish_write(gen *G, wmodel *m, const wop *ops, size_t nops)
{
    char hex[65];

    gj_key(&G->body, "ops");
    gj_array(&G->body, 0);
    for (size_t k = 0; k < nops; k++)
        apply_op(G, m, &ops[k]);
    gj_end_array(&G->body);
    gj_ku64(&G->body, "image_size", m->size);
    wm_sha(m, hex);
    gj_kstr(&G->body, "content_sha256", hex);
    gj_end_object(&G->body);
    wm_free(m);
}

/* The rebase targets of ops, chained through a scratch list for extra_files. */
static void put_write_extras(gen *G, const glayer *backing, const wop *ops, size_t nops)
{
    gj_key(&G->body, "extra_files");
    gj_array(&G->body, 0);
    for (size_t k = 0; k < nops; k++)
        gen_put_file_entries(G, ops[k].kind == 'B' ? ops[k].layer : NULL);
    gen_put_file_entries(G, backing);
    gj_end_array(&G->body);
}

void emit_write_create(gen *G, const char *name, const char *comment, uint32_t cs,
                       uint32_t ts, uint64_t size, const glayer *backing,
                       const char *backing_format, const wop *ops, size_t nops,
                       const char *flags, const char *rules)
{
    gjson *j = &G->body;
    wmodel m = { .cs = cs, .size = size, .backing = backing };

    wm_cover(&m);
    gen_case_head(G, name, comment, NULL, "valid", flags, rules);
    put_write_extras(G, backing, ops, nops);
    gj_key(j, "create");
    gj_object(j, 1);
    gj_ku64(j, "size", size);
    gj_ku64(j, "cluster_size", cs);
    gj_ku64(j, "table_size", ts);
    if (backing) {
        gj_kstr(j, "backing", backing->path);
        gj_kstr(j, "backing_format", backing_format);
    }
    gj_end_object(j);
    finish_write(G, &m, ops, nops);
}

/* The header a clean read-write session leaves: NEED_CHECK cleared (WR-4,
 * WR-5), unknown autoclear bits cleared (HDR-7), the rest unchanged. */
static void put_header_after(gen *G, const glayer *top)
{
    gjson *j = &G->body;

    gj_key(j, "header_after");
    gj_object(j, 1);
    gj_ku64(j, "features", top->features & ~(uint64_t)QED_F_NEED_CHECK);
    gj_ku64(j, "compat_features", top->compat_features);
    gj_ku64(j, "autoclear_features", top->autoclear_features &
                                     QED_AUTOCLEAR_FEATURE_MASK);
    gj_end_object(j);
}

void emit_write_file(gen *G, const char *name, const char *comment,
                     const glayer *top, const wop *ops, size_t nops,
                     const char *flags, const char *rules)
{
    wmodel m = { .cs = top->cluster_size, .size = top->image_size,
                 .backing = top->backing };

    wm_cover(&m);
    wm_from_image(&m, top);
    gen_put_chain(G, top);
    gen_case_head(G, name, comment, top, "valid", flags, rules);
    put_write_extras(G, top->backing, ops, nops);
    put_header_after(G, top);
    finish_write(G, &m, ops, nops);
}
