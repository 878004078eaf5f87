/*
 * golden_lib.c - small helpers shared by the case files (see golden_lib.h).
 */
#include "golden_lib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static glayer **kept;
static size_t nkept;

glayer *keep(glayer *l)
{
    glayer **p = realloc(kept, (nkept + 1) * sizeof *kept);

    if (!p)
        g_die("out of memory");
    kept = p;
    kept[nkept++] = l;
    return l;
}

void release_all(void)
{
    for (size_t k = 0; k < nkept; k++)
        gl_free(kept[k]);
    free(kept);
    kept = NULL;
    nkept = 0;
}

uint64_t seed_of(const char *name, uint64_t k)
{
    uint64_t h = 0xcbf29ce484222325u;

    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 0x100000001b3u;
    h ^= k * 0x9e3779b97f4a7c15u;
    return g_rand_next(&h);
}

const char *size_name(uint64_t bytes)
{
    static char slot[4][24];
    static unsigned next;
    char *s = slot[next++ % 4];

    if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
        snprintf(s, sizeof slot[0], "%llum", (unsigned long long)(bytes >> 20));
    else if (bytes % 1024 == 0)
        snprintf(s, sizeof slot[0], "%lluk", (unsigned long long)(bytes >> 10));
    else
        snprintf(s, sizeof slot[0], "%llu", (unsigned long long)bytes);
    return s;
}

void data_byte(glayer *g, uint64_t lc, uint8_t b)
{
    uint8_t *bytes;

    gl_data(g, lc, 0, 0);
    for (size_t k = 0; k < g->n_l2; k++) {
        if (g->l2[k].offset != g->l1[lc / g->n])
            continue;
        bytes = malloc(g->cluster_size);
        if (!bytes)
            g_die("out of memory");
        memset(bytes, b, g->cluster_size);
        gbuf_put(&g->file, g->l2[k].entry[lc % g->n], bytes, g->cluster_size);
        free(bytes);
        return;
    }
    g_die("%s: no L2 table for cluster %llu", g->path, (unsigned long long)lc);
}
