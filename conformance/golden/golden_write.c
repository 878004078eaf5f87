/*
 * golden_write.c - the write family: operation scripts (qemu-io commands,
 * resize, rebase -u) and the logical content they must produce, from the
 * generator's cluster-granular write model (golden_gen.c).
 */
#include "golden_cases.h"
#include "golden_lib.h"

#include "qed.h"

#define KiB 1024ull
#define MiB (1024ull * 1024)

/* Operation constructors. */
#define W(o, l, b)  { .kind = 'w', .off = (o), .len = (l), .byte = (b) }
#define Z(o, l)     { .kind = 'z', .off = (o), .len = (l) }
#define RD(o, l, b) { .kind = 'r', .off = (o), .len = (l), .byte = (b) }
#define FLUSH       { .kind = 'f' }
#define RESIZE(s)   { .kind = 'R', .off = (s) }
#define REBASE(l)   { .kind = 'B', .layer = (l), .format = "raw" }
/* ops array and its length, for the emit_write_* calls. */
#define OPS(...) (const wop[]){ __VA_ARGS__ }, \
                 sizeof((const wop[]){ __VA_ARGS__ }) / sizeof(wop)

/* The backing files the create cases name. */
static glayer *raw256, *raw_new, *raw_long, *raw16, *qed_base;

static void make_backing_files(void)
{
    raw256 = keep(gl_raw("write/base-256k.raw", 256 * KiB, seed_of("w base-256k", 0), 0));
    raw_new = keep(gl_raw("write/rebase-new.raw", 256 * KiB, seed_of("w rebase-new", 0), 0));
    raw16 = keep(gl_raw("write/base-16k.raw", 16 * KiB, seed_of("w base-16k", 0), 0));
    raw_long = keep(gl_raw("write/long-1m.raw", MiB, seed_of("w long-1m", 0), 0));
    qed_base = keep(gl_qed("write/base.qed", 4096, 2, 1, 256 * KiB));
    for (uint64_t lc = 0; lc < 64; lc += 2)
        gl_data(qed_base, lc, 0, seed_of("w base.qed", lc));
    gl_zero(qed_base, 3);
    gl_zero(qed_base, 5);
    gl_finish(qed_base);
}

/* Copy-on-write from raw and QED backing files (WR-3, WR-7). */
static void cow_cases(gen *G)
{
    emit_write_create(G, "cow-raw-partial", "100 bytes into one cluster over a raw "
        "backing file: the rest of the cluster is copied from it", 4096, 2,
        256 * KiB, raw256, "raw", OPS(W(1000, 100, 0x41), RD(1000, 100, 0x41)),
        "Backing COW", "WR-1 WR-2 WR-3 WR-4 WR-6 WR-7 FEAT-1 FEAT-3");
    emit_write_create(G, "cow-raw-straddle", "a write straddling two clusters over "
        "a raw backing file", 4096, 2, 256 * KiB, raw256, "raw",
        OPS(W(4000, 200, 0x42), RD(4000, 200, 0x42)), "Backing COW", "WR-3 WR-7");
    emit_write_create(G, "cow-qed-partial", "partial writes over a QED backing "
        "file into a data cluster, a zero cluster and an unallocated cluster", 4096, 2,
        256 * KiB, qed_base, "qed",
        OPS(W(8192 + 10, 3000, 0x43), W(3 * 4096 + 5, 10, 0x44),
            W(7 * 4096 + 4000, 96, 0x45)),
        "Backing COW ZeroCluster", "WR-3 WR-7 BACK-2 ZERO-1");
    emit_write_create(G, "cow-64k-clusters", "cs 64K ts 4 over a raw backing file: "
        "512-byte writes in three clusters", 65536, 4, 256 * KiB, raw256, "raw",
        OPS(W(512, 512, 0x46), W(70000, 512, 0x47), W(200000, 512, 0x48)),
        "Backing COW Geometry", "WR-3 WR-7");
}

/* write -z (WR-8). */
static void zero_write_cases(gen *G)
{
    emit_write_create(G, "zero-whole-over-raw", "write -z of two whole aligned "
        "clusters over raw backing data: zero clusters, reads zeroes", 4096, 2,
        256 * KiB, raw256, "raw", OPS(Z(8192, 8192), RD(8192, 8192, 0)),
        "Backing ZeroWrite", "WR-8 ZERO-1");
    emit_write_create(G, "zero-partial-over-raw", "write -z of 1000 bytes inside a "
        "cluster over raw backing data: written as data", 4096, 2, 256 * KiB, raw256,
        "raw", OPS(Z(100, 1000), RD(100, 1000, 0)), "Backing ZeroWrite",
        "WR-8 WR-7");
    emit_write_create(G, "zero-mixed-over-qed", "write -z partial + whole + partial "
        "over a QED backing file", 4096, 2, 256 * KiB, qed_base, "qed",
        OPS(Z(2048, 12288), RD(2048, 12288, 0)), "Backing ZeroWrite",
        "WR-8 WR-7 ZERO-1");
    emit_write_create(G, "zero-last-partial", "write -z of a whole cluster and the "
        "partial last cluster (image 3 clusters + 512) over raw backing data",
        4096, 2, 3 * 4096 + 512, raw256, "raw",
        OPS(Z(8192, 4608), RD(8192, 4608, 0)), "Backing ZeroWrite OddSize",
        "WR-8 WR-7 XLT-3");
    emit_write_create(G, "zero-over-allocated", "data written, then write -z over "
        "whole and partial allocated clusters (zeroes written in place)", 4096, 2,
        64 * KiB, NULL, NULL,
        OPS(W(0, 16384, 0x41), Z(4096, 8192), Z(100, 50), RD(4096, 8192, 0)),
        "ZeroWrite Overwrite", "WR-8");
    emit_write_create(G, "zero-no-backing", "write -z of whole clusters without a "
        "backing file", 4096, 2, 64 * KiB, NULL, NULL,
        OPS(Z(0, 32768), W(40960, 4096, 0x4c), Z(40960, 4096)), "ZeroWrite",
        "WR-8 ZERO-1");
}

/* Allocation across L2 tables, growth, rebase, flushes. */
static void layout_cases(gen *G)
{
    emit_write_create(G, "l2-boundary-ts1", "cs 4K ts 1 (one L2 table covers 2 MiB): "
        "writes across the 2 MiB and 4 MiB boundaries", 4096, 1, 6 * MiB, NULL, NULL,
        OPS(W(2 * MiB - 512, 1024, 0x44), W(4 * MiB - 4096, 8192, 0x45),
            RD(2 * MiB - 512, 1024, 0x44)),
        "L2Boundary", "WR-2 WR-6 XLT-1");
    emit_write_create(G, "l2-boundary-ts2", "cs 4K ts 2: a write across the 4 MiB "
        "L2 boundary", 4096, 2, 8 * MiB + 4096, NULL, NULL,
        OPS(W(4 * MiB - 100, 200, 0x46), W(8 * MiB, 4096, 0x47)),
        "L2Boundary", "WR-2 WR-6 XLT-1");
    emit_write_create(G, "grow-then-write", "resize 64K -> 1M, then write past the "
        "old end and across it", 4096, 2, 64 * KiB, NULL, NULL,
        OPS(W(0, 4096, 0x45), RESIZE(MiB), W(512 * KiB, 4096, 0x46),
            W(60 * KiB, 8 * KiB, 0x47), RD(60 * KiB, 8 * KiB, 0x47)),
        "Resize", "WR-9 HDR-9");
    emit_write_create(G, "grow-past-backing", "image 16 KiB over a 16 KiB raw file, "
        "grown to 256 KiB: the new range is past the backing file and reads zeroes",
        4096, 2, 16 * KiB, raw16, "raw",
        OPS(W(0, 512, 0x48), RESIZE(256 * KiB), W(20 * KiB, 100, 0x49)),
        "Resize Backing", "WR-9 XLT-2 BACK-3");
    emit_write_create(G, "grow-reveals-backing", "image 16 KiB + 512 over a 1 MiB "
        "raw file; the last partial cluster is written (its tail past the old end "
        "is filled from the backing file), then grown to 256 KiB: the new range "
        "shows the backing file", 4096, 2, 16 * KiB + 512, raw_long, "raw",
        OPS(W(16 * KiB, 10, 0x48), RESIZE(256 * KiB), RD(16 * KiB, 10, 0x48)),
        "Resize Backing", "WR-9 WR-7 XLT-2 BACK-3");
    emit_write_create(G, "rebase-unsafe", "write, then rebase -u to another raw "
        "file: copied clusters keep the old data, the rest reads the new file",
        4096, 2, 64 * KiB, raw256, "raw",
        OPS(W(4096 + 100, 100, 0x49), REBASE(raw_new), W(32768, 10, 0x4a)),
        "Rebase Backing", "HDR-6 FEAT-1 XLT-2 WR-3 WR-11");
    emit_write_create(G, "flush-between", "writes with flushes between them",
        4096, 2, 128 * KiB, raw256, "raw",
        OPS(W(0, 4096, 0x41), FLUSH, W(65536, 100, 0x42), FLUSH, W(1000, 10, 0x43),
            FLUSH),
        "Flush Backing", "WR-3 WR-4 WR-10");
    emit_write_create(G, "overwrite-allocated", "writes over already allocated "
        "data (no new clusters)", 4096, 2, 64 * KiB, NULL, NULL,
        OPS(W(0, 8192, 0x41), W(4096, 100, 0x42), W(0, 1, 0x43),
            RD(4096, 100, 0x42)),
        "Overwrite", "WR-6 WR-7 WR-10");
    emit_write_create(G, "reverse-order", "eight one-cluster writes from the last "
        "cluster to the first", 4096, 2, 32 * KiB, NULL, NULL,
        OPS(W(28672, 4096, 0x57), W(24576, 4096, 0x56), W(20480, 4096, 0x55),
            W(16384, 4096, 0x54), W(12288, 4096, 0x53), W(8192, 4096, 0x52),
            W(4096, 4096, 0x51), W(0, 4096, 0x50)),
        "Layout", "WR-6");
    emit_write_create(G, "last-partial-cluster", "image 3 clusters + 512: a write "
        "of the last 512 bytes", 4096, 2, 3 * 4096 + 512, NULL, NULL,
        OPS(W(12288, 512, 0x4b), RD(12288, 512, 0x4b)), "OddSize", "WR-7 XLT-3");
}

/* Cluster sizes too large to store as files: created at run time. */
static void large_cases(gen *G)
{
    emit_write_create(G, "large-cs2m-ts16", "cs 2 MiB ts 16 (N*N*cluster_size = "
        "2^65 does not fit 64 bits): create 4 MiB, write, write -z", 2 * MiB, 16,
        4 * MiB, NULL, NULL, OPS(W(MiB, 4096, 0x4a), Z(2 * MiB, 2 * MiB)),
        "Large Geometry", "HDR-2 HDR-3 HDR-10 WR-8");
    emit_write_create(G, "large-cs4m-ts2", "cs 4 MiB ts 2 over a raw backing file",
        4 * MiB, 2, 16 * MiB, raw_long, "raw", OPS(W(100, 100, 0x4b)),
        "Large Geometry Backing", "HDR-2 WR-7");
    emit_write_create(G, "large-cs8m-ts2", "cs 8 MiB ts 2 (N*N*cluster_size = 2^65 "
        "does not fit 64 bits), 16 MiB", 8 * MiB, 2, 16 * MiB, NULL, NULL,
        OPS(W(9 * MiB, 4096, 0x4d)), "Large Geometry", "HDR-2 HDR-10");
    emit_write_create(G, "large-cs64m-ts1", "cs 64 MiB (the maximum) ts 1, 128 MiB",
        64 * MiB, 1, 128 * MiB, NULL, NULL,
        OPS(W(64 * MiB + 512, 512, 0x4c), RD(64 * MiB + 512, 512, 0x4c)),
        "Large Geometry", "HDR-2");
}

/* file form: a stored image copied, then written. */
static void file_cases(gen *G)
{
    glayer *g = keep(gl_qed("write/need-check.qed", 4096, 2, 1, 64 * KiB));
    gl_data(g, 0, 0, seed_of("w need-check", 0));
    gl_data(g, 3, 0, seed_of("w need-check", 3));
    g->features |= QED_F_NEED_CHECK;
    gl_finish(g);
    emit_write_file(G, "need-check-open-rw", "a consistent image with NEED_CHECK "
        "set, opened read-write and written: checked first, clean afterwards", g,
        OPS(W(4096, 4096, 0x50), W(100, 10, 0x51)), "NeedCheck",
        "WR-5 FEAT-2 WR-4");

    g = keep(gl_qed("write/need-check-corrupt.qed", 4096, 2, 1, 64 * KiB));
    gl_data(g, 0, 0, seed_of("w need-check-corrupt", 0));
    gl_data(g, 2, 0, seed_of("w need-check-corrupt", 2));
    gl_l2_raw(g, 5, (uint64_t)1 << 30);           /* past the end of the file */
    g->features |= QED_F_NEED_CHECK;
    gl_finish(g);
    emit_write_file(G, "need-check-corrupt-open-rw", "NEED_CHECK set and an L2 "
        "entry past the end of the file: a read-write open repairs it (the "
        "cluster reads as unallocated) before the writes, and the image ends "
        "clean with NEED_CHECK clear", g,
        OPS(W(4096, 4096, 0x56), W(5 * 4096 + 100, 10, 0x57)), "NeedCheck Repair",
        "WR-5 FEAT-2 CHK-2 CHK-5 WR-4");

    g = keep(gl_qed("write/autoclear.qed", 4096, 2, 1, 64 * KiB));
    gl_data(g, 1, 0, seed_of("w autoclear", 1));
    g->autoclear_features = 0x3;
    gl_finish(g);
    emit_write_file(G, "autoclear-open-rw", "unknown autoclear bits: cleared on "
        "read-write open, the data is untouched", g, OPS(W(8192, 512, 0x52)),
        "UnknownAutoclear", "HDR-7");

    g = keep(gl_qed("write/zero-cluster-over-raw.qed", 4096, 2, 1, 64 * KiB));
    gl_backing(g, "base-256k.raw", raw256, 1);
    gl_zero(g, 2);
    gl_finish(g);
    emit_write_file(G, "write-into-zero-cluster", "10 bytes into a zero cluster "
        "over raw backing data: the rest of the new cluster is zeroes, not "
        "backing data", g, OPS(W(8192 + 100, 10, 0x53), RD(8192 + 200, 100, 0)),
        "ZeroCluster Backing COW", "WR-7 ZERO-1");

    glayer *mid = keep(gl_qed("write/chain-mid.qed", 4096, 2, 1, 64 * KiB));
    gl_backing(mid, "base-256k.raw", raw256, 1);
    gl_data(mid, 1, 0, seed_of("w chain-mid", 1));
    gl_finish(mid);
    g = keep(gl_qed("write/chain-top.qed", 4096, 2, 1, 64 * KiB));
    gl_backing(g, "chain-mid.qed", mid, 0);
    gl_data(g, 0, 0, seed_of("w chain-top", 0));
    gl_finish(g);
    emit_write_file(G, "cow-through-chain", "partial writes in a 2-deep chain: "
        "copied from the middle QED image and from the raw file below it", g,
        OPS(W(4096 + 7, 7, 0x54), W(3 * 4096 + 9, 9, 0x55)), "Backing Chain COW",
        "WR-3 WR-7 XLT-2");
}

void golden_write_cases(gen *G)
{
    make_backing_files();
    gen_group(G, "write", "copy-on-write from raw and QED backing files");
    cow_cases(G);
    gen_group(G, "write", "write -z");
    zero_write_cases(G);
    gen_group(G, "write", "L2 boundaries, growth, rebase, flush, overwrite");
    layout_cases(G);
    gen_group(G, "write", "cluster sizes 2 MiB..64 MiB, created at run time");
    large_cases(G);
    gen_group(G, "write", "stored images opened read-write");
    file_cases(G);
    release_all();
}
