/*
 * golden_readerr.c - the read-error family: the invalid table entries of the
 * check family, seen by a reader.  A reader must refuse such an image or fail
 * every read that needs the invalid entry, and read every other range right
 * (XLT-4); it must never return bytes for that range, neither the bytes the
 * entry points at (header, tables, a partial cluster) nor zeroes nor the
 * backing file's.  Every data cluster holds one byte value, so the other
 * ranges are checked with `read -P` (the `reads` of the manifest).
 */
#include "golden_cases.h"
#include "golden_lib.h"

#include "qed.h"

#include <stdio.h>
#include <string.h>

#define KiB 1024u

/* readerr/NAME.qed (table_size 2 or more: QEMU 7.2 refuses every table_size
 * 1 image, KNOWN-DEVIATIONS.md): cs x ts, header_size hs, image_size two L1 entries' worth
 * (L1[1] is the one the L1 cases break); data clusters 0, 1, 2 hold 0x11,
 * 0x22, 0x33; cluster 3 is a zero cluster.  Not finished. */
static glayer *base(const char *name, uint32_t cs, uint32_t ts, uint32_t hs)
{
    char path[96];
    uint64_t span = (uint64_t)cs * ts / 8 * cs;      /* bytes of one L1 entry */

    snprintf(path, sizeof path, "readerr/%s.qed", name);
    glayer *g = keep(gl_qed(path, cs, ts, hs, 2 * span));
    for (uint64_t lc = 0; lc < 3; lc++) {
        data_byte(g, lc, (uint8_t)(0x11 * (lc + 1)));
    }
    gl_zero(g, 3);
    return g;
}

/* The bytes L1[1] maps. */
static gbad l1_range(const glayer *g, const char *rule)
{
    uint64_t span = (uint64_t)g->cluster_size * g->n;
    return (gbad){ span, span, rule };
}

/* The cluster of logical cluster lc. */
static gbad cluster_range(const glayer *g, uint64_t lc, const char *rule)
{
    return (gbad){ lc * g->cluster_size, g->cluster_size, rule };
}

/* Finish g and emit it with one bad range. */
static void done(gen *G, glayer *g, const char *name, gbad bad, const char *comment,
                 const char *flags, const char *rules)
{
    gl_finish(g);
    emit_read_error(G, name, comment, g, &bad, 1, flags, rules);
}

static void l1_cases(gen *G)
{
    glayer *g = base("l1-misaligned", 4096, 2, 1);
    g->l1[1] = 5 * 4096 + 512;
    done(G, g, "l1-misaligned", l1_range(g, "TBL-2"), "L1[1] = 5*4096+512: low bits "
         "set; [4 MiB, 8 MiB) must not read", "L1", "XLT-4 XLT-1 TBL-2 TBL-3");

    g = base("l1-misaligned-cs64k", 65536, 2, 1);
    g->l1[1] = 5 * 65536 + 4096;
    done(G, g, "l1-misaligned-cs64k", l1_range(g, "TBL-3"), "cs 64K: L1[1] = "
         "5*64K+4K, no reserved bit set but not cluster aligned", "L1",
         "XLT-4 TBL-3");

    g = base("l1-reserved-bits", 4096, 2, 1);
    g->l1[1] = 3 * 4096 + 8;
    done(G, g, "l1-reserved-bits", l1_range(g, "TBL-2"), "L1[1] has reserved bit 3 "
         "set", "L1", "XLT-4 TBL-2");

    g = base("l1-value-1", 4096, 2, 1);
    g->l1[1] = 1;
    done(G, g, "l1-value-1", l1_range(g, "TBL-2"), "L1[1] = 1: the zero-cluster "
         "value is invalid in an L1 table (not zeroes)", "L1 ZeroCluster",
         "XLT-4 TBL-2 ZERO-1");

    g = base("l1-past-eof", 4096, 2, 1);
    g->l1[1] = 100 * 4096;
    done(G, g, "l1-past-eof", l1_range(g, "TBL-4"), "L1[1] points past the end of "
         "the file", "L1", "XLT-4 TBL-4");

    g = base("l1-into-header", 4096, 2, 2);
    g->l1[1] = 4096;
    done(G, g, "l1-into-header", l1_range(g, "TBL-4"), "header_size 2: L1[1] points "
         "at the second header cluster", "L1", "XLT-4 TBL-4 HDR-4");

    g = base("l1-table-not-fitting", 4096, 4, 1);
    g->l1[1] = gl_take(g, 1);
    done(G, g, "l1-table-not-fitting", l1_range(g, "TBL-4"), "table_size 4: L1[1] "
         "points at the last cluster of the file, the other three table clusters "
         "are missing", "L1", "XLT-4 TBL-4");
}

static void l2_cases(gen *G)
{
    glayer *g = base("l2-misaligned", 4096, 2, 1);
    gl_l2_raw(g, 5, 5 * 4096 + 100);
    done(G, g, "l2-misaligned", cluster_range(g, 5, "TBL-2"), "the L2 entry of "
         "cluster 5 is 5*4096+100", "L2", "XLT-4 XLT-1 TBL-2 TBL-3");

    g = base("l2-misaligned-cs64k", 65536, 2, 1);
    gl_l2_raw(g, 5, 2 * 65536 + 4096);
    done(G, g, "l2-misaligned-cs64k", cluster_range(g, 5, "TBL-3"), "cs 64K: the L2 "
         "entry of cluster 5 is 2*64K+4K, inside a data cluster", "L2", "XLT-4 TBL-3");

    g = base("l2-reserved-bits", 4096, 2, 1);
    gl_l2_raw(g, 5, 3 * 4096 + 0x800);
    done(G, g, "l2-reserved-bits", cluster_range(g, 5, "TBL-2"), "the L2 entry of "
         "cluster 5 has reserved bit 11 set", "L2", "XLT-4 TBL-2");

    g = base("l2-past-eof", 4096, 2, 1);
    gl_l2_raw(g, 5, 1000 * 4096);
    done(G, g, "l2-past-eof", cluster_range(g, 5, "TBL-6"), "the L2 entry of "
         "cluster 5 points past the end of the file", "L2", "XLT-4 TBL-6");

    g = base("l2-into-header", 4096, 2, 2);
    gl_l2_raw(g, 5, 4096);
    done(G, g, "l2-into-header", cluster_range(g, 5, "TBL-6"), "header_size 2: the "
         "L2 entry of cluster 5 points at the second header cluster", "L2",
         "XLT-4 TBL-6 HDR-4");

    g = base("l2-into-partial-cluster", 4096, 2, 1);
    gl_finish(g);
    uint64_t end = g->file.len;
    gbuf_set_len(&g->file, end + 2048);
    gl_l2_raw(g, 5, end);
    done(G, g, "l2-into-partial-cluster", cluster_range(g, 5, "TBL-6"), "the L2 "
         "entry of cluster 5 points at the trailing 2048-byte partial cluster",
         "L2 TrailingBytes", "XLT-4 TBL-6 FILE-3");
}

/* Over a raw backing file of 0x5a bytes: an invalid entry reads neither
 * the backing file nor zeroes. */
static void backing_cases(gen *G)
{
    glayer *raw = keep(gl_raw("readerr/backing/5a.raw", 64 * KiB, 0, 0));
    memset(raw->file.data, 0x5a, (size_t)raw->file.len);

    glayer *g = base("l2-past-eof-over-backing", 4096, 2, 1);
    gl_backing(g, "backing/5a.raw", raw, 1);
    gl_l2_raw(g, 5, 1000 * 4096);
    done(G, g, "l2-past-eof-over-backing", cluster_range(g, 5, "TBL-6"), "over a raw "
         "backing file: the invalid entry of cluster 5 must not read the backing "
         "file either", "L2 Backing", "XLT-4 TBL-6 XLT-2");

    g = base("l1-value-1-over-backing", 4096, 2, 1);
    gl_backing(g, "backing/5a.raw", raw, 1);
    g->l1[1] = 1;
    done(G, g, "l1-value-1-over-backing", l1_range(g, "TBL-2"), "over a raw backing "
         "file: L1[1] = 1 is neither zeroes nor the backing file", "L1 Backing "
         "ZeroCluster", "XLT-4 TBL-2 ZERO-1");
}

void golden_read_error_cases(gen *G)
{
    gen_group(G, "read-error", "invalid L1 entries seen by a reader: refuse the "
              "image or fail the range's reads (XLT-4)");
    l1_cases(G);
    gen_group(G, "read-error", "invalid L2 entries seen by a reader");
    l2_cases(G);
    backing_cases(G);
    release_all();
}
