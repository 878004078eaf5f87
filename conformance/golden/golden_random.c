/*
 * golden_random.c - the random family: valid images with random geometry
 * (4 KiB..64 KiB clusters, table sizes 1..16), backing chains of depth 0..3
 * (raw or QED at the bottom), zero clusters, scattered allocations, L2
 * tables, data and leaked clusters in random file order.  Each is a read
 * case whose content, map and check counts come from the model.
 */
#include "golden_cases.h"
#include "golden_lib.h"

#include "qed.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_UNITS 256

/* A random number in [0, n). */
static uint64_t below(uint64_t *st, uint64_t n)
{
    return n ? g_rand_next(st) % n : 0;
}

/* One thing to place in the file: an L2 table, a data cluster or a leak. */
typedef struct unit {
    char kind;                 /* 't' L2 table, 'd' data, 'l' leak */
    uint64_t index;            /* t: L1 index; d: logical cluster */
    uint64_t off;
} unit;

/* Shuffle n units (Fisher-Yates). */
static void shuffle(unit *u, size_t n, uint64_t *st)
{
    for (size_t k = n; k > 1; k--) {
        size_t j = (size_t)below(st, k);
        unit t = u[k - 1];
        u[k - 1] = u[j];
        u[j] = t;
    }
}

/* Add a unit unless the list is full; 1 if added. */
static int add_unit(unit *u, size_t *n, char kind, uint64_t index)
{
    if (*n >= MAX_UNITS)
        return 0;
    u[(*n)++] = (unit){ .kind = kind, .index = index };
    return 1;
}

/* Decide which logical clusters hold data or zero (marks: 'd', 'z', 0) and
 * list the units they need. */
static size_t plan_units(const glayer *g, char *mark, uint64_t nc, unit *u, uint64_t *st)
{
    size_t n = 0;
    int *need_table = calloc((size_t)g->n, sizeof *need_table);

    if (!need_table)
        g_die("out of memory");
    for (uint64_t lc = 0; lc < nc; lc++) {
        uint64_t r = below(st, 8);
        mark[lc] = r < 3 ? 'd' : r == 3 ? 'z' : 0;
        if (mark[lc] == 'd' && !add_unit(u, &n, 'd', lc))
            mark[lc] = 0;
        if (mark[lc])
            need_table[lc / g->n] = 1;
    }
    for (uint64_t i = 0; i < g->n; i++)
        if (need_table[i])
            add_unit(u, &n, 't', i);
    for (uint64_t k = below(st, 4) == 0 ? 1 + below(st, 3) : 0; k > 0; k--)
        add_unit(u, &n, 'l', 0);
    free(need_table);
    return n;
}

/* Allocate g's clusters in random file order. */
static void populate(glayer *g, uint64_t *st, uint64_t seed)
{
    uint64_t nc = g->image_size / g->cluster_size + (g->image_size % g->cluster_size != 0);
    char *mark = calloc((size_t)nc + 1, 1);
    unit u[MAX_UNITS];

    if (!mark)
        g_die("out of memory");
    size_t n = plan_units(g, mark, nc, u, st);
    shuffle(u, n, st);
    for (size_t k = 0; k < n; k++) {
        u[k].off = g->cursor;
        g->cursor += (u[k].kind == 't' ? g->table_size : 1) * (uint64_t)g->cluster_size;
    }
    for (size_t k = 0; k < n; k++)
        if (u[k].kind == 't')
            gl_l2(g, u[k].index, u[k].off);
    for (size_t k = 0; k < n; k++)
        if (u[k].kind == 'd')
            gl_data(g, u[k].index, u[k].off, seed + u[k].index);
    for (uint64_t lc = 0; lc < nc; lc++)
        if (mark[lc] == 'z')
            gl_zero(g, lc);
    free(mark);
}

/* A random QED layer at path with image_size up to 64 clusters. */
static glayer *random_qed(const char *path, uint64_t *st, uint64_t seed)
{
    uint32_t cs = 4096u << below(st, 5);
    uint32_t ts = 1u << below(st, 5);
    uint32_t hs = below(st, 6) == 0 ? 2 : 1;
    uint64_t size = below(st, 64ull * cs / 512 + 1) * 512;
    glayer *g = keep(gl_qed(path, cs, ts, hs, size));

    if (below(st, 8) == 0)
        g->features |= QED_F_NEED_CHECK;
    if (below(st, 8) == 0)
        g->compat_features = 1ull << below(st, 64);
    if (below(st, 8) == 0)
        g->autoclear_features = 1ull << below(st, 64);
    populate(g, st, seed);
    return g;
}

/* A random raw layer, up to 2 MiB, never starting with the QED magic. */
static glayer *random_raw(const char *path, uint64_t *st, uint64_t seed)
{
    glayer *g = keep(gl_raw(path, below(st, 2u << 20), seed, 0));

    if (g->file.len >= 4 && gbuf_get_le64(&g->file, 0) % (1ull << 32) == QED_MAGIC)
        g->file.data[0] ^= 0xff;                             /* BACK-2 */
    return g;
}

/* Case i of seed: a chain of depth 0..3 built bottom-up. */
static void random_case(gen *G, uint64_t seed, unsigned i)
{
    char name[64], path[96], bname[96], comment[160];
    uint64_t st = seed_of("random", seed * 1000003u + i);
    unsigned depth = (unsigned)below(&st, 4);
    glayer *below_layer = NULL;
    int raw_bottom = below(&st, 2) == 0;

    snprintf(name, sizeof name, "r%llu-%u", (unsigned long long)seed, i);
    for (int d = (int)depth; d >= 0; d--) {
        snprintf(path, sizeof path, "%s-%d.%s", name, d,
                 d > 0 && d == (int)depth && raw_bottom ? "raw" : "qed");
        if (d > 0 && d == (int)depth && raw_bottom) {
            below_layer = random_raw(path, &st, seed_of(path, 0));
            continue;
        }
        glayer *g = random_qed(path, &st, seed_of(path, 0));
        if (below_layer) {
            snprintf(bname, sizeof bname, "%s", below_layer->path);
            gl_backing(g, bname, below_layer, !below_layer->is_qed && below(&st, 2));
            if (g->header_size > 1)
                g->bname_offset = g->cluster_size + (uint32_t)below(&st, 512);
        }
        gl_finish(g);
        below_layer = g;
    }
    snprintf(comment, sizeof comment, "random image, cs %u, ts %u, %u backing "
             "layer(s)%s", below_layer->cluster_size, below_layer->table_size, depth,
             depth && raw_bottom ? ", raw at the bottom" : "");
    emit_read(G, name, comment, below_layer, "Random",
              "HDR-2 HDR-3 XLT-1 XLT-2 ZERO-1 BACK-2 BACK-3");
}

void golden_random_cases(gen *G, uint64_t seed, unsigned count)
{
    gen_group(G, "random", "random valid images: geometry, chains, zero clusters, "
              "allocation order");
    for (unsigned i = 0; i < count; i++) {
        random_case(G, seed, i);
        release_all();
    }
}
