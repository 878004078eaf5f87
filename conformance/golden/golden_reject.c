/*
 * golden_reject.c - the reject family: images an implementation must refuse
 * to open, each breaking one rule (error_rule), most of them a valid image
 * with one header field overwritten.
 */
#include "golden_cases.h"
#include "golden_lib.h"

#include "qed.h"

#include <stdio.h>
#include <string.h>

/* Header field offsets (FILE-1: little-endian). */
enum {
    H_MAGIC = 0, H_CLUSTER = 4, H_TABLE = 8, H_HEADER = 12, H_FEATURES = 16,
    H_COMPAT = 24, H_AUTOCLEAR = 32, H_L1 = 40, H_SIZE = 48, H_BNAME_OFF = 56,
    H_BNAME_LEN = 60
};

/* The backing file the backing-name cases name (exists, so only the header
 * is at fault). */
static glayer *reject_raw;

/* A valid cs 4K ts 2 image of 64 KiB with one data cluster, named
 * invalid/NAME.qed; with_backing names invalid/backing/base.raw. */
static glayer *valid_image(const char *name, int with_backing)
{
    char path[96];

    snprintf(path, sizeof path, "invalid/%s.qed", name);
    glayer *g = keep(gl_qed(path, 4096, 2, 1, 64 * 1024));
    if (with_backing)
        gl_backing(g, "backing/base.raw", reject_raw, 1);
    gl_data(g, 0, 0, seed_of(name, 0));
    gl_finish(g);
    return g;
}

/* valid_image with the u32 at field set to v, emitted. */
static void patch32(gen *G, const char *name, unsigned field, uint32_t v,
                    const char *rule, const char *comment)
{
    glayer *g = valid_image(name, field >= H_BNAME_OFF);

    gbuf_put_le32(&g->file, field, v);
    emit_reject(G, name, comment, g, NULL, rule, "Header", rule);
}

/* valid_image with the u64 at field set to v, emitted. */
static void patch64(gen *G, const char *name, unsigned field, uint64_t v,
                    const char *rule, const char *comment)
{
    glayer *g = valid_image(name, 0);

    gbuf_put_le64(&g->file, field, v);
    emit_reject(G, name, comment, g, NULL, rule, "Header", rule);
}

static void magic_cases(gen *G)
{
    patch32(G, "magic-qed1", H_MAGIC, 0x01444551u, "HDR-1", "magic \"QED\\x01\"");
    patch32(G, "magic-zero", H_MAGIC, 0, "HDR-1", "magic 0");
    patch32(G, "magic-big-endian", H_MAGIC, 0x51454400u, "HDR-1",
            "magic stored big-endian (\"\\0DEQ\")");
    patch32(G, "magic-qcow2", H_MAGIC, 0xfb494651u, "HDR-1",
            "qcow2's magic \"QFI\\xfb\"");
}

static void geometry_cases(gen *G)
{
    patch32(G, "cluster-size-0", H_CLUSTER, 0, "HDR-2", "cluster_size 0");
    patch32(G, "cluster-size-1", H_CLUSTER, 1, "HDR-2", "cluster_size 1");
    patch32(G, "cluster-size-2048", H_CLUSTER, 2048, "HDR-2",
            "cluster_size 2048: a power of two below 4096");
    patch32(G, "cluster-size-12288", H_CLUSTER, 12288, "HDR-2",
            "cluster_size 12288: not a power of two");
    patch32(G, "cluster-size-4097", H_CLUSTER, 4097, "HDR-2", "cluster_size 4097");
    patch32(G, "cluster-size-128m", H_CLUSTER, 128u << 20, "HDR-2",
            "cluster_size 128 MiB: a power of two above 64 MiB");
    patch32(G, "cluster-size-2g", H_CLUSTER, 1u << 31, "HDR-2", "cluster_size 2^31");
    patch32(G, "cluster-size-max-u32", H_CLUSTER, 0xffffffffu, "HDR-2",
            "cluster_size 0xffffffff");
    patch32(G, "table-size-0", H_TABLE, 0, "HDR-3", "table_size 0");
    patch32(G, "table-size-3", H_TABLE, 3, "HDR-3", "table_size 3: not a power of two");
    patch32(G, "table-size-6", H_TABLE, 6, "HDR-3", "table_size 6: not a power of two");
    patch32(G, "table-size-17", H_TABLE, 17, "HDR-3", "table_size 17");
    patch32(G, "table-size-32", H_TABLE, 32, "HDR-3",
            "table_size 32: a power of two above 16");
    patch32(G, "table-size-max-u32", H_TABLE, 0xffffffffu, "HDR-3",
            "table_size 0xffffffff");
    patch32(G, "header-size-0", H_HEADER, 0, "HDR-4", "header_size 0");
}

static void feature_cases(gen *G)
{
    patch64(G, "features-0x8", H_FEATURES, 0x8, "HDR-5", "unknown feature bit 0x8");
    patch64(G, "features-bit63", H_FEATURES, 1ull << 63, "HDR-5",
            "unknown feature bit 1<<63");
    patch64(G, "features-all", H_FEATURES, UINT64_MAX, "HDR-5", "every feature bit set");
    patch64(G, "features-need-check-and-0x10", H_FEATURES, QED_F_NEED_CHECK | 0x10,
            "HDR-5", "NEED_CHECK plus the unknown bit 0x10");
}

static void l1_offset_cases(gen *G)
{
    patch64(G, "l1-misaligned", H_L1, 4096 + 512, "HDR-8",
            "l1_table_offset 4608: not a multiple of cluster_size (TBL-3)");
    patch64(G, "l1-reserved-bit", H_L1, 4096 | 1, "HDR-8",
            "l1_table_offset with reserved bit 0 set (TBL-2)");
    patch64(G, "l1-zero", H_L1, 0, "HDR-8", "l1_table_offset 0: inside the header (TBL-4)");
    patch64(G, "l1-past-eof", H_L1, 1024 * 4096, "HDR-8",
            "l1_table_offset far past the end of the file (TBL-4)");
    patch64(G, "l1-huge", H_L1, 1ull << 63, "HDR-8",
            "l1_table_offset 2^63 (TBL-4; offset + table bytes must not wrap)");
    patch64(G, "l1-wraps", H_L1, UINT64_MAX - 4095, "HDR-8",
            "l1_table_offset 2^64-4096: offset + table bytes wraps (TBL-4)");

    glayer *g = valid_image("l1-not-wholly-in-file", 0);
    gbuf_put_le64(&g->file, H_L1, g->file.len - 4096);
    emit_reject(G, "l1-not-wholly-in-file", "table_size 2, L1 table starting in the "
                "last cluster of the file (TBL-4)", g, NULL, "HDR-8", "Header", "HDR-8 TBL-4");

    g = valid_image("l1-inside-header", 0);
    gbuf_put_le32(&g->file, H_HEADER, 2);
    emit_reject(G, "l1-inside-header", "header_size 2, l1_table_offset 4096: the "
                "L1 table starts inside the header clusters (TBL-4)", g, NULL,
                "HDR-8", "Header", "HDR-8 HDR-4 TBL-4");

    g = valid_image("header-size-huge", 0);
    gbuf_put_le32(&g->file, H_HEADER, 0xffffffffu);
    emit_reject(G, "header-size-huge", "header_size 0xffffffff: the L1 table lies "
                "inside the (huge) header", g, NULL, "HDR-8", "Header Hostile",
                "HDR-8 HDR-4");
}

static void image_size_cases(gen *G)
{
    uint64_t max2 = 1024ull * 1024 * 4096;       /* cs 4K ts 2: N = 1024 */

    patch64(G, "size-1000", H_SIZE, 1000, "HDR-9", "image_size 1000: not a multiple of 512");
    patch64(G, "size-511", H_SIZE, 511, "HDR-9", "image_size 511");
    patch64(G, "size-max-u64", H_SIZE, UINT64_MAX, "HDR-9", "image_size 2^64-1");
    patch64(G, "size-max-plus-512", H_SIZE, max2 + 512, "HDR-10",
            "image_size N*N*cluster_size + 512 (cs 4K ts 2: 4 GiB + 512)");
    patch64(G, "size-max-times-2", H_SIZE, 2 * max2, "HDR-10", "image_size 8 GiB at cs 4K ts 2");
    patch64(G, "size-2-63", H_SIZE, 1ull << 63, "HDR-10", "image_size 2^63");
    patch64(G, "size-u64-max-aligned", H_SIZE, UINT64_MAX - 511, "HDR-10",
            "image_size 2^64-512");

    glayer *g = keep(gl_qed("invalid/size-max-plus-512-ts1.qed", 4096, 1, 1,
                            512ull * 512 * 4096 + 512));
    gl_finish(g);
    emit_reject(G, "size-max-plus-512-ts1", "image_size 1 GiB + 512 at cs 4K ts 1",
                g, NULL, "HDR-10", "Header", "HDR-10");

    g = keep(gl_qed("invalid/size-max-plus-512-cs64k-ts16.qed", 65536, 16, 1,
                    (1ull << 50) + 512));
    gl_finish(g);
    emit_reject(G, "size-max-plus-512-cs64k-ts16", "image_size 2^50 + 512 at cs 64K "
                "ts 16 (maximum 2^50)", g, NULL, "HDR-10", "Header", "HDR-10");
}

static void backing_name_cases(gen *G)
{
    patch32(G, "bname-past-header", H_BNAME_OFF, 4090, "HDR-11",
            "backing name at 4090, 16 bytes long: runs past the header cluster");
    patch32(G, "bname-offset-wraps", H_BNAME_OFF, 0xfffffff8u, "HDR-11",
            "backing_filename_offset 0xfffffff8: offset + size wraps 32 bits");
    patch32(G, "bname-size-huge", H_BNAME_LEN, 0xffffffffu, "HDR-11",
            "backing_filename_size 0xffffffff");
    patch32(G, "bname-size-0", H_BNAME_LEN, 0, "HDR-12", "backing_filename_size 0");

    /* The name cut at its NUL, "backing/base", is a real raw file shipped
     * beside the image: an implementation that ignores HDR-13 opens it and
     * accepts the image, so the case can fail. */
    glayer *g = valid_image("bname-contains-nul", 1);
    glayer *cut = keep(gl_raw("invalid/backing/base", 65536, seed_of("bname-cut", 0), 0));
    gbuf_put(&g->file, 64 + 12, "\0", 1);
    emit_reject(G, "bname-contains-nul", "backing name \"backing/base\\0raw\": a NUL "
                "inside the name; \"backing/base\" exists as a raw file", g, cut,
                "HDR-13", "Header Backing", "HDR-13");
}

static void truncated_cases(gen *G)
{
    static const struct { const char *name; uint64_t len; const char *rule, *comment; } t[] = {
        { "truncated-0", 0, "FILE-2", "an empty file" },
        { "truncated-1", 1, "FILE-2", "one byte of a valid image" },
        { "truncated-63", 63, "FILE-2", "the first 63 bytes of a valid image" },
        { "truncated-64", 64, "HDR-8", "only the 64-byte header: the L1 table is missing" },
        { "truncated-4096", 4096, "HDR-8", "only the header cluster: the L1 table is missing" },
        { "truncated-half-l1", 8192, "HDR-8", "the file ends inside the L1 table (ts 2)" },
        { "truncated-l1-last-byte", 12287, "HDR-8", "the file ends one byte before "
          "the end of the L1 table (ts 2): a reader that reads it gets a short read "
          "(TBL-4, FILE-3)" },
    };

    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        glayer *g = valid_image(t[k].name, 0);
        gbuf_set_len(&g->file, t[k].len);
        emit_reject(G, t[k].name, t[k].comment, g, NULL, t[k].rule, "Truncated",
                    t[k].rule);
    }
}

/* A header declaring cs x ts on a 4 KiB file: must fail fast, without
 * allocating the table it declares. */
static void hostile_case(gen *G, const char *name, uint32_t cs, uint32_t ts,
                         const char *comment)
{
    char path[96];

    snprintf(path, sizeof path, "invalid/%s.qed", name);
    glayer *g = keep(gl_qed(path, 4096, 1, 1, 0));
    g->cluster_size = cs;
    g->table_size = ts;
    g->l1_offset = cs;
    g->image_size = cs;
    g->cursor = 4096;
    g->n = 0;
    gl_finish(g);
    gbuf_set_len(&g->file, 4096);
    emit_reject(G, name, comment, g, NULL, "HDR-8", "Hostile", "HDR-8 TBL-4");
}

/* a.qed -> b.qed -> ... with the last one naming the first. */
static void loop_cases(gen *G)
{
    glayer *a = keep(gl_qed("invalid/loop/a.qed", 4096, 2, 1, 16384));
    glayer *b = keep(gl_qed("invalid/loop/b.qed", 4096, 2, 1, 16384));

    gl_backing(a, "b.qed", NULL, 0);
    gl_backing(b, "a.qed", NULL, 0);
    gl_finish(a);
    gl_finish(b);
    emit_reject(G, "backing-loop", "a.qed names b.qed, which names a.qed: an "
                "error, not a hang", a, b, "BACK-4", "Backing Loop", "BACK-4");

    glayer *s = keep(gl_qed("invalid/loop/self.qed", 4096, 2, 1, 16384));
    gl_backing(s, "self.qed", NULL, 0);
    gl_finish(s);
    emit_reject(G, "backing-self-loop", "an image naming itself as its backing "
                "file", s, NULL, "BACK-4", "Backing Loop", "BACK-4");
}

/* 17 QED backing files below the image: one more than the default limit. */
static void depth17_case(gen *G)
{
    char path[96], name[96];
    glayer *below = NULL;

    for (int d = 17; d >= 0; d--) {
        snprintf(path, sizeof path, d ? "invalid/chain17/layer%02d.qed"
                                      : "invalid/chain17-top.qed", d);
        glayer *g = keep(gl_qed(path, 4096, 2, 1, 4096));
        if (below) {
            snprintf(name, sizeof name, d ? "layer%02d.qed" : "chain17/layer%02d.qed",
                     d + 1);
            gl_backing(g, name, below, 0);
        }
        gl_finish(g);
        below = g;
    }
    emit_reject(G, "backing-depth-17", "17 backing files below the image: deeper "
                "than the default limit of 16", below, NULL, "BACK-4", "Backing Chain",
                "BACK-4");
}

static void backing_file_cases(gen *G)
{
    glayer *g = keep(gl_qed("invalid/backing-missing.qed", 4096, 2, 1, 16384));
    gl_backing(g, "backing/does-not-exist.raw", NULL, 1);
    gl_finish(g);
    emit_reject(G, "backing-missing", "the backing file does not exist", g, NULL,
                "BACK-5", "Backing", "BACK-5 FEAT-1");

    glayer *bad = keep(gl_qed("invalid/backing/bad-cluster-size.qed", 4096, 2, 1, 16384));
    gl_finish(bad);
    gbuf_put_le32(&bad->file, H_CLUSTER, 1000);
    g = keep(gl_qed("invalid/backing-invalid-qed.qed", 4096, 2, 1, 16384));
    gl_backing(g, "backing/bad-cluster-size.qed", bad, 0);
    gl_finish(g);
    emit_reject(G, "backing-invalid-qed", "the backing file has the QED magic but "
                "cluster_size 1000: probed as QED, it fails to open", g, NULL,
                "HDR-2", "Backing", "HDR-2 BACK-2 BACK-5");
}

void golden_reject_cases(gen *G)
{
    reject_raw = keep(gl_raw("invalid/backing/base.raw", 65536,
                             seed_of("reject base.raw", 0), 0));
    gen_group(G, "reject", "header fields: magic, geometry, feature bits");
    magic_cases(G);
    geometry_cases(G);
    feature_cases(G);
    gen_group(G, "reject", "l1_table_offset, image_size, backing name");
    l1_offset_cases(G);
    image_size_cases(G);
    backing_name_cases(G);
    gen_group(G, "reject", "truncated and hostile files");
    truncated_cases(G);
    hostile_case(G, "hostile-cs64m-ts16", 64u << 20, 16, "cluster_size 64 MiB, "
                 "table_size 16 (a 1 GiB L1 table) declared on a 4 KiB file: refuse "
                 "fast, allocate nothing");
    hostile_case(G, "hostile-cs64m-ts1", 64u << 20, 1, "cluster_size 64 MiB "
                 "declared on a 4 KiB file");
    hostile_case(G, "hostile-cs2m-ts16", 2u << 20, 16, "cluster_size 2 MiB, "
                 "table_size 16 (N*N*cluster_size wraps 64 bits) on a 4 KiB file");
    gen_group(G, "reject", "backing chains");
    loop_cases(G);
    depth17_case(G);
    backing_file_cases(G);
    release_all();
}
