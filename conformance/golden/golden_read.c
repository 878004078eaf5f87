/*
 * golden_read.c - the read family: valid images, content and map from the
 * model (geometry, odd sizes, zero clusters, backing chains, feature bits,
 * layouts).
 */
#include "golden_cases.h"
#include "golden_lib.h"

#include "qed.h"

#include <stdio.h>
#include <string.h>

#define KiB 1024u
#define MiB (1024u * 1024u)

/* ------------------------------------------------------------------ */
/* Geometry                                                           */
/* ------------------------------------------------------------------ */

/* cs x ts, image_size 4 clusters + 512: data, zero, unallocated, data, and
 * a partial last data cluster. */
static void geometry_case(gen *G, uint32_t cs, uint32_t ts)
{
    char name[64], path[96], comment[160];

    snprintf(name, sizeof name, "geom-cs%s-ts%u", size_name(cs), ts);
    snprintf(path, sizeof path, "valid/%s.qed", name);
    snprintf(comment, sizeof comment,
             "cluster_size %u, table_size %u, image_size 4 clusters + 512: "
             "data, zero, unallocated, data, partial data", cs, ts);
    glayer *g = keep(gl_qed(path, cs, ts, 1, 4ull * cs + 512));
    gl_data(g, 0, 0, seed_of(name, 0));
    gl_zero(g, 1);
    gl_data(g, 3, 0, seed_of(name, 3));
    gl_data(g, 4, 0, seed_of(name, 4));
    gl_finish(g);
    emit_read(G, name, comment, g, "Geometry OddSize ZeroCluster",
              "FILE-1 HDR-1 HDR-2 HDR-3 HDR-4 HDR-8 HDR-9 TBL-1 TBL-3 TBL-4 TBL-5 "
              "TBL-6 ZERO-1 XLT-1 XLT-2 XLT-3");
}

static void geometry_group(gen *G)
{
    static const struct { uint32_t cs, ts; } geo[] = {
        { 4 * KiB, 1 }, { 4 * KiB, 2 }, { 4 * KiB, 4 }, { 4 * KiB, 8 },
        { 4 * KiB, 16 }, { 8 * KiB, 1 }, { 8 * KiB, 4 }, { 16 * KiB, 2 },
        { 16 * KiB, 16 }, { 32 * KiB, 8 }, { 64 * KiB, 1 }, { 64 * KiB, 4 },
        { 128 * KiB, 2 }, { 256 * KiB, 1 }, { 1 * MiB, 1 },
    };

    gen_group(G, "read", "geometry: cluster sizes 4 KiB..1 MiB, table sizes 1..16 "
              "(2 MiB..64 MiB clusters: the write family's create cases)");
    for (size_t k = 0; k < sizeof geo / sizeof geo[0]; k++)
        geometry_case(G, geo[k].cs, geo[k].ts);
}

/* ------------------------------------------------------------------ */
/* Sizes                                                              */
/* ------------------------------------------------------------------ */

/* A cs 4K ts 2 image of size bytes with every cluster holding data. */
static void size_case(gen *G, const char *name, uint64_t size, const char *comment)
{
    char path[96];

    snprintf(path, sizeof path, "valid/%s.qed", name);
    glayer *g = keep(gl_qed(path, 4096, 2, 1, size));
    for (uint64_t lc = 0; lc * 4096 < size; lc++)
        gl_data(g, lc, 0, seed_of(name, lc));
    gl_finish(g);
    emit_read(G, name, comment, g, "OddSize", "HDR-9 XLT-1 XLT-3 TBL-6");
}

/* A sparse cs 4K image spanning three L2 tables (each covers ts*2 MiB),
 * with data on both sides of each L2 boundary. */
static void l2_boundary_case(gen *G, uint32_t ts)
{
    char name[64], path[96], comment[160];
    uint64_t n = 512ull * ts;
    const uint64_t lcs[] = { 0, n - 1, n, 2 * n - 1, 2 * n, 2 * n + 2 };

    snprintf(name, sizeof name, "size-l2-boundaries-ts%u", ts);
    snprintf(path, sizeof path, "valid/%s.qed", name);
    snprintf(comment, sizeof comment, "cs 4K ts %u (one L2 table covers %u MiB), "
             "2*%u MiB + 8.5 KiB: data on both sides of each L2 boundary", ts,
             2 * ts, 2 * ts);
    glayer *g = keep(gl_qed(path, 4096, ts, 1, 2 * n * 4096 + 8192 + 512));
    for (size_t k = 0; k < sizeof lcs / sizeof lcs[0]; k++)
        gl_data(g, lcs[k], 0, seed_of(name, lcs[k]));
    gl_zero(g, 2 * n + 1);
    gl_finish(g);
    emit_read(G, name, comment, g, "Sparse", "XLT-1 TBL-1 HDR-9");
}

/* image_size at the HDR-10 maximum of cs 4K ts 1: 512*512*4096 = 1 GiB. */
static void max_size_case(gen *G)
{
    const char *name = "size-max-cs4k-ts1";
    uint64_t max = 512ull * 512 * 4096;
    glayer *g = keep(gl_qed("valid/size-max-cs4k-ts1.qed", 4096, 1, 1, max));

    gl_data(g, 0, 0, seed_of(name, 0));
    gl_data(g, max / 4096 - 1, 0, seed_of(name, 1));
    gl_zero(g, max / 4096 - 2);
    gl_finish(g);
    emit_read(G, name, "image_size exactly N*N*cluster_size = 1 GiB (cs 4K ts 1); "
              "first and last cluster hold data, the file stays small", g,
              "MaxSize Sparse", "HDR-10 XLT-1");
}

/* cs 16K ts 8 (maximum 2^42): image_size size, data of one byte value in
 * the first cluster, the last cluster below 2^41 and, when the image is
 * larger, the cluster at 2^41 (partial).  A reader that keeps the size in
 * 32-bit sectors sees 0 or a few bytes. */
static void over_2t_case(gen *G, const char *name, uint64_t size, const char *comment)
{
    char path[96];
    uint64_t cs = 16384, t2 = 1ull << 41;

    snprintf(path, sizeof path, "valid/%s.qed", name);
    glayer *g = keep(gl_qed(path, (uint32_t)cs, 8, 1, size));
    data_byte(g, 0, 0x11);
    data_byte(g, t2 / cs - 1, 0x22);
    if (size > t2)
        data_byte(g, t2 / cs, 0x33);
    gl_finish(g);
    emit_read(G, name, comment, g, "MaxSize Sparse Large", "HDR-9 HDR-10 XLT-1 XLT-3");
}

static void size_group(gen *G)
{
    gen_group(G, "read", "image sizes: odd, zero, exact, at the maximum");
    size_case(G, "size-512", 512, "image_size 512: one partial data cluster");
    size_case(G, "size-1536", 1536, "image_size 1536: one partial data cluster");
    size_case(G, "size-3c-512", 3 * 4096 + 512, "image_size 3 clusters + 512");
    size_case(G, "size-4096", 4096, "image_size exactly one cluster");
    size_case(G, "size-zero", 0, "image_size 0: no logical bytes at all");
    size_case(G, "size-33c", 33 * 4096, "image_size 33 clusters, all data");
    l2_boundary_case(G, 1);
    l2_boundary_case(G, 2);
    max_size_case(G);
    over_2t_case(G, "size-2t", 1ull << 41, "image_size 2^41 = 2 TiB, exactly 2^32 "
                 "sectors; content checked by sampled reads");
    over_2t_case(G, "size-2t-plus-4k", (1ull << 41) + 4096, "image_size 2 TiB + "
                 "4 KiB: more than 2^32 sectors; data in the cluster at 2 TiB");

    glayer *g = keep(gl_qed("valid/size-empty-1m.qed", 65536, 4, 1, MiB));
    gl_finish(g);
    emit_read(G, "size-empty-1m", "1 MiB, nothing allocated, no backing file: "
              "all zeroes", g, "Empty", "TBL-5 XLT-2");
}

/* ------------------------------------------------------------------ */
/* Zero clusters                                                      */
/* ------------------------------------------------------------------ */

/* Zero clusters in the layers of a chain. */
static void zero_chain_cases(gen *G)
{
    glayer *base = keep(gl_qed("valid/backing/zero-base.qed", 4096, 2, 1, 8 * 4096));
    for (uint64_t lc = 0; lc < 8; lc++)
        gl_data(base, lc, 0, seed_of("zero-base", lc));
    gl_finish(base);
    glayer *c = keep(gl_qed("valid/zero-over-qed.qed", 4096, 2, 1, 8 * 4096));
    gl_backing(c, "backing/zero-base.qed", base, 0);
    gl_zero(c, 0);
    gl_zero(c, 4);
    gl_finish(c);
    emit_read(G, "zero-over-qed", "zero clusters over QED backing data", c,
              "ZeroCluster Backing", "ZERO-1 FEAT-1 BACK-2");

    glayer *zb = keep(gl_qed("valid/backing/zero-in-base.qed", 4096, 2, 1, 8 * 4096));
    gl_zero(zb, 2);
    gl_zero(zb, 3);
    glayer *raw2 = keep(gl_raw("valid/backing/zero-in-base.raw", 8 * 4096,
                               seed_of("zero-in-base.raw", 0), 0));
    gl_backing(zb, "zero-in-base.raw", raw2, 1);
    gl_finish(zb);
    glayer *d = keep(gl_qed("valid/zero-in-middle.qed", 4096, 2, 1, 8 * 4096));
    gl_backing(d, "backing/zero-in-base.qed", zb, 0);
    gl_data(d, 3, 0, seed_of("zero-in-middle", 3));
    gl_finish(d);
    emit_read(G, "zero-in-middle", "a zero cluster in the middle layer of a chain "
              "hides the raw data below it", d, "ZeroCluster Backing Chain",
              "ZERO-1 XLT-2 BACK-1");

    /* top -> mid.qed -> low.qed: a zero cluster must not read through two
     * QED layers to the data at depth 2. */
    glayer *low = keep(gl_qed("valid/backing/zero-d2-low.qed", 4096, 2, 1, 8 * 4096));
    for (uint64_t lc = 0; lc < 8; lc++)
        gl_data(low, lc, 0, seed_of("zero-d2-low", lc));
    gl_finish(low);
    glayer *mid = keep(gl_qed("valid/backing/zero-d2-mid.qed", 4096, 2, 1, 8 * 4096));
    gl_backing(mid, "zero-d2-low.qed", low, 0);
    gl_zero(mid, 5);
    gl_data(mid, 6, 0, seed_of("zero-d2-mid", 6));
    gl_finish(mid);
    glayer *top = keep(gl_qed("valid/zero-over-qed-depth2.qed", 4096, 2, 1, 8 * 4096));
    gl_backing(top, "backing/zero-d2-mid.qed", mid, 0);
    gl_zero(top, 2);
    gl_zero(top, 6);
    gl_finish(top);
    emit_read(G, "zero-over-qed-depth2", "zero clusters in the top image over two "
              "QED layers (data at depth 2 and 1), and a zero cluster at depth 1 over "
              "data at depth 2: all read zeroes", top, "ZeroCluster Backing Chain",
              "ZERO-1 XLT-2 BACK-2");
}

static void zero_group(gen *G)
{
    gen_group(G, "read", "zero clusters (L2 entry 1)");

    glayer *a = keep(gl_qed("valid/zero-no-backing.qed", 4096, 2, 1, 8 * 4096));
    for (uint64_t lc = 0; lc < 8; lc += 2)
        gl_zero(a, lc);
    gl_data(a, 3, 0, seed_of("zero-no-backing", 3));
    gl_finish(a);
    emit_read(G, "zero-no-backing", "zero clusters without a backing file", a,
              "ZeroCluster", "ZERO-1");

    glayer *raw = keep(gl_raw("valid/backing/zero-over.raw", 8 * 4096,
                              seed_of("zero-over.raw", 0), 0));
    glayer *b = keep(gl_qed("valid/zero-over-raw.qed", 4096, 2, 1, 8 * 4096));
    gl_backing(b, "backing/zero-over.raw", raw, 1);
    gl_zero(b, 1);
    gl_zero(b, 2);
    gl_data(b, 5, 0, seed_of("zero-over-raw", 5));
    gl_zero(b, 7);
    gl_finish(b);
    emit_read(G, "zero-over-raw", "zero clusters over raw backing data read as "
              "zeroes, not backing data", b, "ZeroCluster Backing",
              "ZERO-1 FEAT-1 FEAT-3 XLT-2");

    zero_chain_cases(G);
}

/* ------------------------------------------------------------------ */
/* Backing files                                                      */
/* ------------------------------------------------------------------ */

/* A cs 4K ts 2 image named path over backing, with data in lcs 1 and 4. */
static glayer *over(const char *path, uint64_t size, const char *bname,
                    glayer *backing, int no_probe)
{
    glayer *g = keep(gl_qed(path, 4096, 2, 1, size));

    gl_backing(g, bname, backing, no_probe);
    if (size > 4096)
        gl_data(g, 1, 0, seed_of(path, 1));
    if (size > 4 * 4096)
        gl_data(g, 4, 0, seed_of(path, 4));
    gl_finish(g);
    return g;
}

/* valid/backing/tiny.raw: the three bytes "QED". */
static glayer *tiny_raw(void)
{
    glayer *g = keep(gl_raw("valid/backing/tiny.raw", 0, 0, 0));

    gbuf_put(&g->file, 0, "QED", 3);
    return g;
}

static void backing_raw_cases(gen *G)
{
    glayer *raw = keep(gl_raw("valid/backing/base-64k.raw", 64 * KiB,
                              seed_of("base-64k.raw", 0), 0));

    emit_read(G, "backing-raw-noprobe",
              "raw backing file, BACKING_FORMAT_NO_PROBE set",
              over("valid/backing-raw-noprobe.qed", 64 * KiB, "backing/base-64k.raw",
                   raw, 1), "Backing", "FEAT-1 FEAT-3 XLT-2 BACK-1");
    emit_read(G, "backing-raw-probed",
              "raw backing file without NO_PROBE: probing finds no QED magic",
              over("valid/backing-raw-probed.qed", 64 * KiB, "backing/base-64k.raw",
                   raw, 0), "Backing", "FEAT-1 BACK-2 XLT-2");
    emit_read(G, "backing-raw-shorter",
              "image 40 KiB + 512 over a 6000-byte raw file: zeroes past its end",
              over("valid/backing-raw-shorter.qed", 40 * KiB + 512,
                   "backing/short-6000.raw",
                   keep(gl_raw("valid/backing/short-6000.raw", 6000,
                               seed_of("short-6000.raw", 0), 0)), 1),
              "Backing ShortBacking OddSize", "BACK-3 XLT-2");
    emit_read(G, "backing-raw-longer",
              "image 20 KiB + 512 over a 64 KiB raw file: nothing past image_size",
              over("valid/backing-raw-longer.qed", 20 * KiB + 512,
                   "backing/base-64k.raw", raw, 1),
              "Backing LongBacking OddSize", "BACK-3 XLT-3");
    emit_read(G, "backing-raw-magic-noprobe",
              "NO_PROBE with a raw backing file that starts with the QED magic: "
              "it must be read as raw",
              over("valid/backing-raw-magic-noprobe.qed", 32 * KiB,
                   "backing/magic.raw",
                   keep(gl_raw("valid/backing/magic.raw", 32 * KiB,
                               seed_of("magic.raw", 0), 1)), 1),
              "Backing NoProbe", "FEAT-3 BACK-2");
    emit_read(G, "backing-raw-1000",
              "a 1000-byte raw backing file (not a multiple of 512): its bytes, "
              "then zeroes from byte 1000",
              over("valid/backing-raw-1000.qed", 16 * KiB, "backing/raw-1000.raw",
                   keep(gl_raw("valid/backing/raw-1000.raw", 1000,
                               seed_of("raw-1000.raw", 0), 0)), 1),
              "Backing ShortBacking", "BACK-3 XLT-2");
    emit_read(G, "backing-raw-300",
              "a 300-byte raw backing file (shorter than one sector)",
              over("valid/backing-raw-300.qed", 16 * KiB, "backing/raw-300.raw",
                   keep(gl_raw("valid/backing/raw-300.raw", 300,
                               seed_of("raw-300.raw", 0), 0)), 0),
              "Backing ShortBacking", "BACK-2 BACK-3 XLT-2");
    emit_read(G, "backing-raw-tiny-probed", "a 3-byte raw backing file \"QED\" "
              "without NO_PROBE: too short for the magic, probed as raw",
              over("valid/backing-raw-tiny-probed.qed", 16 * KiB, "backing/tiny.raw",
                   tiny_raw(), 0), "Backing ShortBacking", "BACK-2 BACK-3");
    emit_read(G, "backing-raw-empty",
              "a zero-length raw backing file: everything unallocated reads zeroes",
              over("valid/backing-raw-empty.qed", 16 * KiB, "backing/empty.raw",
                   keep(gl_raw("valid/backing/empty.raw", 0, 0, 0)), 1),
              "Backing ShortBacking", "BACK-3");
}

static void backing_qed_cases(gen *G)
{
    glayer *base = keep(gl_qed("valid/backing/base.qed", 4096, 2, 1, 48 * KiB));

    for (uint64_t lc = 0; lc < 12; lc += 3)
        gl_data(base, lc, 0, seed_of("base.qed", lc));
    gl_zero(base, 4);
    gl_finish(base);
    emit_read(G, "backing-qed", "QED backing file (probed) with data, zero and "
              "unallocated clusters",
              over("valid/backing-qed.qed", 48 * KiB, "backing/base.qed", base, 0),
              "Backing", "FEAT-1 BACK-2 XLT-2");

    /* BACK-3 for a QED backing: its data cluster 1 is whole, but only the
     * bytes below its image_size (6144) are visible. */
    glayer *small = keep(gl_qed("valid/backing/small-6144.qed", 4096, 2, 1, 6144));
    gl_data(small, 0, 0, seed_of("small-6144", 0));
    gl_data(small, 1, 0, seed_of("small-6144", 1));
    gl_finish(small);
    glayer *top = keep(gl_qed("valid/backing-qed-shorter.qed", 4096, 2, 1, 32 * KiB));
    gl_backing(top, "backing/small-6144.qed", small, 0);
    gl_data(top, 3, 0, seed_of("backing-qed-shorter", 3));
    gl_finish(top);
    emit_read(G, "backing-qed-shorter", "QED backing file with image_size 6144 "
              "whose second cluster is whole: bytes past 6144 read as zeroes",
              top, "Backing ShortBacking", "BACK-3");

    glayer *big = keep(gl_qed("valid/backing/longer-64k.qed", 4096, 2, 1, 64 * KiB));
    for (uint64_t lc = 7; lc < 12; lc++)
        gl_data(big, lc, 0, seed_of("longer-64k", lc));
    gl_finish(big);
    glayer *t1 = keep(gl_qed("valid/backing-qed-longer.qed", 4096, 2, 1, 32 * KiB + 512));
    gl_backing(t1, "backing/longer-64k.qed", big, 0);
    gl_finish(t1);
    emit_read(G, "backing-qed-longer", "image 32 KiB + 512 over a 64 KiB QED "
              "backing file with data from 28 KiB to 48 KiB: only the bytes below "
              "32 KiB + 512 are visible", t1, "Backing LongBacking OddSize",
              "BACK-3 XLT-3");

    glayer *other = keep(gl_qed("valid/backing/base-cs64k.qed", 65536, 2, 1, 256 * KiB));
    gl_data(other, 1, 0, seed_of("base-cs64k", 1));
    gl_finish(other);
    glayer *t2 = keep(gl_qed("valid/backing-qed-other-geometry.qed", 4096, 4, 1,
                             256 * KiB));
    gl_backing(t2, "backing/base-cs64k.qed", other, 0);
    gl_data(t2, 20, 0, seed_of("backing-qed-other-geometry", 20));
    gl_finish(t2);
    emit_read(G, "backing-qed-other-geometry", "cs 4K ts 4 image over a cs 64K "
              "ts 2 QED backing file", t2, "Backing Geometry", "FEAT-1 XLT-1 XLT-2");
}

/* top -> mid -> low -> raw, each layer overriding some clusters. */
static void chain3_case(gen *G)
{
    glayer *raw = keep(gl_raw("valid/backing/chain3-base.raw", 40 * KiB,
                              seed_of("chain3-base.raw", 0), 0));
    glayer *low = keep(gl_qed("valid/backing/chain3-low.qed", 4096, 2, 1, 40 * KiB));
    glayer *mid = keep(gl_qed("valid/backing/chain3-mid.qed", 4096, 2, 1, 40 * KiB));
    glayer *top = keep(gl_qed("valid/chain3-top.qed", 4096, 2, 1, 40 * KiB));

    gl_backing(low, "chain3-base.raw", raw, 1);
    gl_data(low, 1, 0, seed_of("chain3-low", 1));
    gl_data(low, 2, 0, seed_of("chain3-low", 2));
    gl_zero(low, 6);
    gl_finish(low);
    gl_backing(mid, "chain3-low.qed", low, 0);
    gl_data(mid, 2, 0, seed_of("chain3-mid", 2));
    gl_data(mid, 3, 0, seed_of("chain3-mid", 3));
    gl_finish(mid);
    gl_backing(top, "backing/chain3-mid.qed", mid, 0);
    gl_data(top, 3, 0, seed_of("chain3-top", 3));
    gl_zero(top, 9);
    gl_finish(top);
    emit_read(G, "chain3", "three backing layers (QED, QED, raw), each hiding "
              "part of the one below", top, "Backing Chain",
              "FEAT-1 BACK-1 BACK-2 XLT-2");
}

/* A chain of exactly the default depth limit: 16 backing files below top. */
static void chain16_case(gen *G)
{
    char path[96], name[96];
    glayer *below = NULL;

    for (int d = 16; d >= 0; d--) {
        snprintf(path, sizeof path, d ? "valid/chain16/layer%02d.qed" : "valid/chain16-top.qed", d);
        glayer *g = keep(gl_qed(path, 4096, 2, 1, 17 * 4096));
        if (below) {
            snprintf(name, sizeof name, d ? "layer%02d.qed" : "chain16/layer%02d.qed", d + 1);
            gl_backing(g, name, below, 0);
        }
        gl_data(g, (uint64_t)d, 0, seed_of(path, 0));
        gl_finish(g);
        below = g;
    }
    emit_read(G, "chain-depth-16", "16 QED backing files below the image: exactly "
              "the default depth limit, must open", below, "Backing Chain",
              "BACK-4 XLT-2");
}

/* Relative backing names resolved against the naming image's directory. */
static void relative_cases(gen *G)
{
    glayer *up = keep(gl_raw("valid/backing/rel-parent.raw", 16 * KiB,
                             seed_of("rel-parent.raw", 0), 0));
    emit_read(G, "relative-parent-dir", "image in valid/rel/ names "
              "\"../backing/rel-parent.raw\"",
              over("valid/rel/parent-dir.qed", 16 * KiB, "../backing/rel-parent.raw",
                   up, 1), "Backing RelativeName", "BACK-1");

    glayer *sub = keep(gl_raw("valid/sub/rel-sub.raw", 16 * KiB,
                              seed_of("rel-sub.raw", 0), 0));
    emit_read(G, "relative-subdir", "image names \"sub/rel-sub.raw\"",
              over("valid/relative-subdir.qed", 16 * KiB, "sub/rel-sub.raw", sub, 1),
              "Backing RelativeName", "BACK-1");

    glayer *deep = keep(gl_raw("valid/backing/deeper/rel-chain.raw", 16 * KiB,
                               seed_of("rel-chain.raw", 0), 0));
    glayer *mid = over("valid/backing/rel-chain-mid.qed", 16 * KiB,
                       "deeper/rel-chain.raw", deep, 1);
    emit_read(G, "relative-chain", "valid/rel/chain-top.qed names "
              "\"../backing/rel-chain-mid.qed\", which names \"deeper/rel-chain.raw\": "
              "resolved against the middle image's directory, not the top's",
              over("valid/rel/chain-top.qed", 16 * KiB, "../backing/rel-chain-mid.qed",
                   mid, 0), "Backing RelativeName Chain", "BACK-1");
}

static void backing_group(gen *G)
{
    gen_group(G, "read", "backing files: raw, QED, chains, sizes, names");
    backing_raw_cases(G);
    backing_qed_cases(G);
    chain3_case(G);
    chain16_case(G);
    relative_cases(G);

    glayer *raw = keep(gl_raw("valid/backing/zero-size.raw", 8 * KiB,
                              seed_of("zero-size.raw", 0), 0));
    glayer *g = keep(gl_qed("valid/backing-image-size-zero.qed", 4096, 2, 1, 0));
    gl_backing(g, "backing/zero-size.raw", raw, 1);
    gl_finish(g);
    emit_read(G, "backing-image-size-zero", "image_size 0 with a backing file",
              g, "Backing", "HDR-9 FEAT-1");
}

/* ------------------------------------------------------------------ */
/* Header fields and feature bits                                     */
/* ------------------------------------------------------------------ */

/* A cs 4K ts 2 image of 16 KiB with data in lcs 0 and 2, not finished. */
static glayer *plain(const char *name)
{
    char path[96];

    snprintf(path, sizeof path, "valid/%s.qed", name);
    glayer *g = keep(gl_qed(path, 4096, 2, 1, 16 * KiB));
    gl_data(g, 0, 0, seed_of(name, 0));
    gl_data(g, 2, 0, seed_of(name, 2));
    return g;
}

static void feature_cases(gen *G)
{
    glayer *g = plain("compat-unknown-bits");
    g->compat_features = 0x1 | (1ull << 63);
    gl_finish(g);
    emit_read(G, "compat-unknown-bits", "unknown compat_features bits 0x1 and "
              "1<<63: ignored on open", g, "UnknownCompat", "HDR-6");

    g = plain("autoclear-unknown-bits");
    g->autoclear_features = 0x5 | (1ull << 40);
    gl_finish(g);
    emit_read(G, "autoclear-unknown-bits", "unknown autoclear_features bits: "
              "the image opens and reads normally", g, "UnknownAutoclear", "HDR-7");

    g = plain("need-check-consistent");
    g->features |= QED_F_NEED_CHECK;
    gl_finish(g);
    emit_read(G, "need-check-consistent", "NEED_CHECK set on a consistent image: "
              "read-only open reads it without a check", g, "NeedCheck", "FEAT-2");

    g = plain("noprobe-without-backing");
    g->features |= QED_F_BACKING_FORMAT_NO_PROBE;
    gl_finish(g);
    emit_read(G, "noprobe-without-backing", "NO_PROBE set without BACKING_FILE: "
              "ignored", g, "NoProbe", "HDR-14");

    g = plain("backing-fields-ignored");
    gl_finish(g);
    gbuf_put_le32(&g->file, 56, 0xfffffff0u);
    gbuf_put_le32(&g->file, 60, 0x100u);
    emit_read(G, "backing-fields-ignored", "backing_filename_offset/size hold "
              "garbage but BACKING_FILE is clear: ignored", g, "Header", "HDR-14");

}

/* header_size above 1 and backing names at the edges of the header area. */
static void header_area_cases(gen *G)
{
    glayer *raw = keep(gl_raw("valid/backing/hs2-name.raw", 16 * KiB,
                              seed_of("hs2-name.raw", 0), 0));
    glayer *h = keep(gl_qed("valid/header-size-2-name-in-cluster-1.qed", 4096, 2, 2, 16 * KiB));
    gl_backing(h, "backing/hs2-name.raw", raw, 1);
    h->bname_offset = 4096 + 100;
    gl_data(h, 1, 0, seed_of("hs2", 1));
    gl_finish(h);
    emit_read(G, "header-size-2-name-in-cluster-1", "header_size 2 with the "
              "backing name in the second header cluster", h, "HeaderSize Backing",
              "HDR-4 HDR-11 BACK-1");

    glayer *g = keep(gl_qed("valid/header-size-3.qed", 8192, 2, 3, 64 * KiB));
    gl_data(g, 2, 0, seed_of("hs3", 2));
    gl_finish(g);
    emit_read(G, "header-size-3", "header_size 3 (cs 8K ts 2), no backing file",
              g, "HeaderSize", "HDR-4 TBL-4");

    const char *lname = "backing/a-rather-long-backing-file-name-that-still-"
                        "fits-in-one-header-cluster.raw";
    g = keep(gl_qed("valid/backing-name-at-cluster-end.qed", 4096, 2, 1, 16 * KiB));
    glayer *raw2 = keep(gl_raw("valid/backing/a-rather-long-backing-file-name-"
                               "that-still-fits-in-one-header-cluster.raw",
                               16 * KiB, seed_of("long-name.raw", 0), 0));
    gl_backing(g, lname, raw2, 1);
    g->bname_offset = 4096 - (uint32_t)strlen(lname);
    gl_finish(g);
    emit_read(G, "backing-name-at-cluster-end", "the backing name ends on the "
              "last byte of the header cluster", g, "Backing", "HDR-11 HDR-12 HDR-13");
}

/* ------------------------------------------------------------------ */
/* Layouts                                                            */
/* ------------------------------------------------------------------ */

/* Move the L1 table of a fresh image to the next free cluster instead of
 * right after the header; the clusters it vacated are reused by data. */
static void move_l1_later(glayer *g, unsigned first_data_clusters, uint64_t seed)
{
    g->cursor = g->l1_offset;
    for (unsigned k = 0; k < first_data_clusters; k++)
        gl_data(g, 8 + k, 0, seed + k);
    g->l1_offset = gl_take(g, g->table_size);
}

static void layout_cases(gen *G)
{
    glayer *g = keep(gl_qed("valid/layout-data-before-l2.qed", 4096, 2, 1, 32 * KiB));
    uint64_t d0 = gl_take(g, 1), d1 = gl_take(g, 1);
    gl_l2(g, 0, 0);
    gl_data(g, 5, d0, seed_of("layout-dbl2", 5));
    gl_data(g, 2, d1, seed_of("layout-dbl2", 2));
    gl_finish(g);
    emit_read(G, "layout-data-before-l2", "data clusters placed before their L2 "
              "table, in reverse logical order", g, "Layout", "TBL-6 XLT-1");

    g = keep(gl_qed("valid/layout-interleaved.qed", 4096, 2, 1, 12 * MiB));
    for (uint64_t k = 0; k < 3; k++) {
        gl_data(g, k * 1024 + 7, 0, seed_of("interleaved", k));
        gl_data(g, k * 1024 + 6, 0, seed_of("interleaved", k + 10));
    }
    gl_finish(g);
    emit_read(G, "layout-interleaved", "L2 table, data, L2 table, data ... "
              "(three L2 tables, cs 4K ts 2, 12 MiB)", g, "Layout", "TBL-4 XLT-1");

    g = keep(gl_qed("valid/layout-l1-at-end.qed", 4096, 2, 1, 64 * KiB));
    move_l1_later(g, 3, seed_of("l1-at-end", 0));
    gl_finish(g);
    emit_read(G, "layout-l1-at-end", "the L1 table after the L2 table and data "
              "clusters, at the end of the file", g, "Layout", "HDR-8 TBL-4");

    g = keep(gl_qed("valid/layout-contiguous.qed", 4096, 2, 1, 64 * KiB));
    gl_l2(g, 0, 0);
    for (uint64_t lc = 4; lc < 12; lc++)
        gl_data(g, lc, 0, seed_of("contiguous", lc));
    gl_finish(g);
    emit_read(G, "layout-contiguous", "eight data clusters at consecutive offsets "
              "for consecutive logical clusters: one map extent", g, "Layout Map",
              "XLT-1");

    g = keep(gl_qed("valid/layout-ts16-small.qed", 4096, 16, 1, 16 * KiB));
    gl_data(g, 3, 0, seed_of("ts16", 3));
    gl_finish(g);
    emit_read(G, "layout-ts16-small", "table_size 16 (64 KiB tables) for a "
              "16 KiB image", g, "Layout", "TBL-1 HDR-3");
}

/* Files that carry more than the format refers to. */
static void extra_bytes_cases(gen *G)
{
    glayer *g = plain("trailing-partial-cluster");
    gl_finish(g);
    uint8_t tail[700];
    g_fill(tail, sizeof tail, seed_of("tail", 0));
    gbuf_put(&g->file, g->file.len, tail, sizeof tail);
    emit_read(G, "trailing-partial-cluster", "700 bytes of garbage after the last "
              "cluster: not a cluster, not a leak", g, "TrailingBytes", "FILE-3");

    g = plain("leaks-readable");
    uint64_t hole = gl_take(g, 1);
    gl_data(g, 3, 0, seed_of("leaks-readable", 3));
    gl_take(g, 2);
    gl_finish(g);
    gbuf_put(&g->file, hole, "leaked", 6);
    emit_read(G, "leaks-readable", "three clusters referenced by nothing (one "
              "between data, two at the end): valid to read, check counts 3 leaks",
              g, "Leak", "CHK-4 CHK-7");
}

void golden_read_cases(gen *G)
{
    geometry_group(G);
    size_group(G);
    zero_group(G);
    backing_group(G);
    gen_group(G, "read", "header fields, feature bits and layouts");
    feature_cases(G);
    header_area_cases(G);
    layout_cases(G);
    extra_bytes_cases(G);
    release_all();
}
