/*
 * golden_check.c - the check family: images with invalid entries, duplicate
 * references and leaks, with the exact counts each was designed for (and
 * which the model's checker must agree with) and the content after repair.
 */
#include "golden_cases.h"
#include "golden_lib.h"

#include "qed.h"

#include <stdio.h>

#define CS 4096u

/* The common base: cs 4K ts 2 (one L2 table covers 4 MiB), 8 MiB, header_size
 * hs.  Layout: header, L1 (2 clusters), L2 for L1[0] (2 clusters), data for
 * logical clusters 0, 1, 2; logical cluster 3 is a zero cluster.  Not
 * finished: the case corrupts it first. */
static glayer *base(const char *name, uint32_t hs)
{
    char path[96];

    snprintf(path, sizeof path, "check/%s.qed", name);
    glayer *g = keep(gl_qed(path, CS, 2, hs, 8u << 20));
    for (uint64_t lc = 0; lc < 3; lc++)
        gl_data(g, lc, 0, seed_of(name, lc));
    gl_zero(g, 3);
    return g;
}

/* File offset of the data cluster of logical cluster lc. */
static uint64_t data_of(const glayer *g, uint64_t lc)
{
    return g->l2[0].entry[lc];
}

/* Finish g and emit it as a check case designed for corr/leaks. */
static void done(gen *G, glayer *g, const char *name, const char *comment,
                 uint64_t corr, uint64_t leaks, const char *flags, const char *rules)
{
    gl_finish(g);
    emit_check(G, name, comment, g, corr, leaks, flags, rules);
}

static void l1_cases(gen *G)
{
    glayer *g = base("l1-misaligned", 1);
    g->l1[1] = 5 * CS + 512;
    done(G, g, "l1-misaligned", "L1[1] = 5*4096+512, not cluster aligned", 1, 0,
         "L1", "CHK-2 TBL-3");

    g = base("l1-reserved-bits", 1);
    g->l1[1] = 3 * CS + 8;
    done(G, g, "l1-reserved-bits", "L1[1] has reserved bit 3 set", 1, 0, "L1",
         "CHK-2 TBL-2");

    g = base("l1-value-1", 1);
    g->l1[1] = 1;
    done(G, g, "l1-value-1", "L1[1] = 1: the zero-cluster value means nothing in "
         "an L1 table", 1, 0, "L1", "CHK-2 TBL-2 ZERO-1");

    g = base("l1-past-eof", 1);
    g->l1[1] = 100 * CS;
    done(G, g, "l1-past-eof", "L1[1] points 100 clusters in, past the end of the "
         "file", 1, 0, "L1", "CHK-3 TBL-4");

    g = base("l1-into-header", 2);
    g->l1[1] = CS;
    done(G, g, "l1-into-header", "header_size 2; L1[1] points at the second header "
         "cluster", 1, 0, "L1", "CHK-3 TBL-4");

    g = base("l1-table-not-fitting", 1);
    g->l1[1] = gl_take(g, 1);
    done(G, g, "l1-table-not-fitting", "L1[1] points at the last cluster of the "
         "file but an L2 table is 2 clusters; that cluster is then a leak", 1, 1,
         "L1 Leak", "CHK-3 CHK-4 TBL-4");

    g = base("l1-invalid-over-table", 1);
    g->l1[0] += 512;
    done(G, g, "l1-invalid-over-table", "L1[0] misaligned: its L2 table (2 "
         "clusters) and 3 data clusters are referenced by nothing valid: 5 leaks; "
         "after repair the range reads zeroes", 1, 5, "L1 Leak", "CHK-2 CHK-4 CHK-5");
}

static void l2_cases(gen *G)
{
    glayer *g = base("l2-misaligned", 1);
    gl_l2_raw(g, 5, 5 * CS + 100);
    done(G, g, "l2-misaligned", "L2 entry of cluster 5 not cluster aligned", 1, 0,
         "L2", "CHK-2 TBL-3");

    g = base("l2-reserved-bits", 1);
    gl_l2_raw(g, 5, 6 * CS + 0x800);
    done(G, g, "l2-reserved-bits", "L2 entry with reserved bit 11 set", 1, 0, "L2",
         "CHK-2 TBL-2");

    g = base("l2-past-eof", 1);
    gl_l2_raw(g, 5, 1000 * CS);
    done(G, g, "l2-past-eof", "L2 entry past the end of the file", 1, 0, "L2",
         "CHK-2 TBL-6");

    g = base("l2-into-header", 2);
    gl_l2_raw(g, 5, CS);
    done(G, g, "l2-into-header", "header_size 2; an L2 entry points at the second "
         "header cluster", 1, 0, "L2", "CHK-2 TBL-6");

    g = base("l2-into-partial-cluster", 1);
    gl_finish(g);
    uint64_t end = g->file.len;
    gbuf_set_len(&g->file, end + 2048);
    gl_l2_raw(g, 5, end);
    done(G, g, "l2-into-partial-cluster", "an L2 entry points at the trailing "
         "2048-byte partial cluster, which is not in the file", 1, 0, "L2",
         "CHK-2 TBL-6 FILE-3");

    g = base("l2-zero-entries-ok", 1);
    for (uint64_t lc = 4; lc < 9; lc++)
        gl_zero(g, lc);
    gl_zero(g, 2000);
    done(G, g, "l2-zero-entries-ok", "many zero-cluster entries (value 1): no "
         "corruption", 0, 0, "L2 ZeroCluster", "ZERO-1 TBL-2");
}

static void duplicate_cases(gen *G)
{
    glayer *g = base("data-twice", 1);
    gl_l2_raw(g, 5, data_of(g, 0));
    done(G, g, "data-twice", "clusters 0 and 5 share one data cluster: the second "
         "reference is one corruption; repair gives it a copy", 1, 0, "Duplicate",
         "CHK-1 CHK-5 CHK-6");

    g = base("data-three-times", 1);
    gl_l2_raw(g, 5, data_of(g, 1));
    gl_l2_raw(g, 1024 + 7, data_of(g, 1));
    done(G, g, "data-three-times", "one data cluster referenced by three L2 "
         "entries (two tables): two corruptions", 2, 0, "Duplicate",
         "CHK-1 CHK-5 CHK-6");

    g = base("l2-table-twice", 1);
    g->l1[1] = g->l1[0];
    done(G, g, "l2-table-twice", "L1[0] and L1[1] point at the same L2 table "
         "(table_size 2): one corruption for the duplicate L1 entry, not one per "
         "cluster; the table is not walked again through it", 1, 0,
         "Duplicate QemuCountsPerCluster", "CHK-1 CHK-5 CHK-6");

    g = keep(gl_qed("check/l2-table-twice-ts4.qed", CS, 4, 1, 16u << 20));
    gl_data(g, 0, 0, seed_of("twice-ts4", 0));
    g->l1[1] = g->l1[0];
    done(G, g, "l2-table-twice-ts4", "cs 4K ts 4: L1[1] repeats L1[0] (a 4-cluster "
         "table): still one corruption (QEMU 7.2 counts one per shared cluster: 4)",
         1, 0, "Duplicate QemuCountsPerCluster", "CHK-1");

    g = base("data-over-later-l2-table", 1);
    gl_data(g, 1024 + 9, 0, seed_of("data-over-later-l2-table", 9));
    gl_l2_raw(g, 6, g->l1[1]);
    done(G, g, "data-over-later-l2-table", "an entry of L1[0]'s table points at "
         "L1[1]'s L2 table: the L1 pass takes every L2 table before any data, so "
         "the data entry is the duplicate and L1[1]'s table is walked (its data "
         "cluster is no leak)", 1, 0, "Duplicate WalkOrder", "CHK-1 CHK-4");

}

/* Data entries pointing at table clusters or into the header. */
static void overlap_cases(gen *G)
{
    glayer *g = base("data-over-l2-table", 1);
    gl_l2_raw(g, 5, g->l1[0]);
    done(G, g, "data-over-l2-table", "an L2 entry points at the first cluster of "
         "an L2 table", 1, 0, "Duplicate", "CHK-1 CHK-5 CHK-6");

    g = base("data-over-l1-table", 1);
    gl_l2_raw(g, 5, g->l1_offset + CS);
    done(G, g, "data-over-l1-table", "an L2 entry points at the second cluster of "
         "the L1 table", 1, 0, "Duplicate", "CHK-1 CHK-5 CHK-6");

    g = base("data-over-header-size-3", 3);
    gl_l2_raw(g, 5, 2 * CS);
    done(G, g, "data-over-header-size-3", "header_size 3: an L2 entry points at "
         "the third header cluster (invalid, not a duplicate)", 1, 0, "L2",
         "CHK-2 TBL-6 HDR-4");
}

static void leak_cases(gen *G)
{
    glayer *g = base("leak-end-1", 1);
    gl_take(g, 1);
    done(G, g, "leak-end-1", "one unreferenced cluster at the end of the file", 0, 1,
         "Leak", "CHK-4 CHK-7");

    g = base("leak-end-3", 1);
    gl_take(g, 3);
    done(G, g, "leak-end-3", "three unreferenced clusters at the end", 0, 3, "Leak",
         "CHK-4 CHK-7");

    g = base("leak-between", 1);
    gl_take(g, 1);
    gl_data(g, 10, 0, seed_of("leak-between", 10));
    done(G, g, "leak-between", "one unreferenced cluster between used clusters "
         "(stays after repair)", 0, 1, "Leak", "CHK-4 CHK-7");

    g = base("leaks-between-and-end", 1);
    gl_take(g, 2);
    gl_data(g, 11, 0, seed_of("leaks-between-and-end", 11));
    gl_take(g, 2);
    done(G, g, "leaks-between-and-end", "two leaked clusters between data and two "
         "at the end", 0, 4, "Leak", "CHK-4 CHK-7");

    g = base("leak-with-trailing-bytes", 1);
    gl_take(g, 1);
    gl_finish(g);
    gbuf_set_len(&g->file, g->file.len + 1000);
    done(G, g, "leak-with-trailing-bytes", "one leaked cluster then a 1000-byte "
         "partial cluster, which is not counted", 0, 1, "Leak TrailingBytes",
         "CHK-4 FILE-3");
}

static void combined_cases(gen *G)
{
    glayer *g = base("combined-4-corruptions-2-leaks", 1);
    gl_l2_raw(g, 5, 5 * CS + 4);
    gl_l2_raw(g, 6, 500 * CS);
    gl_l2_raw(g, 7, data_of(g, 1));
    g->l1[1] = 7;
    gl_take(g, 2);
    done(G, g, "combined-4-corruptions-2-leaks", "misaligned, past-EOF and "
         "duplicate L2 entries, an invalid L1 entry and two leaks", 4, 2,
         "Combined", "CHK-1 CHK-2 CHK-3 CHK-4");

    glayer *raw = keep(gl_raw("check/backing/base.raw", 64 * 1024,
                              seed_of("check base.raw", 0), 0));
    g = base("invalid-over-backing", 1);
    gl_backing(g, "backing/base.raw", raw, 1);
    gl_l2_raw(g, 1, data_of(g, 1) + 1024);
    done(G, g, "invalid-over-backing", "a misaligned L2 entry over a raw backing "
         "file: its old data cluster leaks; after repair the cluster reads the "
         "backing file", 1, 1, "Backing Leak", "CHK-2 CHK-4 CHK-5 CHK-6 XLT-2");

    g = base("need-check-with-duplicate", 1);
    g->features |= QED_F_NEED_CHECK;
    gl_l2_raw(g, 9, data_of(g, 2));
    done(G, g, "need-check-with-duplicate", "NEED_CHECK set and one duplicate data "
         "reference", 1, 0, "NeedCheck Duplicate", "CHK-1 FEAT-2 WR-5");
}

void golden_check_cases(gen *G)
{
    gen_group(G, "check", "L1 entries: invalid, past EOF, into the header, table "
              "not fitting");
    l1_cases(G);
    gen_group(G, "check", "L2 entries: invalid, past EOF, into the header");
    l2_cases(G);
    gen_group(G, "check", "duplicate references: one corruption per duplicate "
              "reference (entry), not per cluster");
    duplicate_cases(G);
    overlap_cases(G);
    gen_group(G, "check", "leaks");
    leak_cases(G);
    gen_group(G, "check", "combinations");
    combined_cases(G);
    release_all();
}
