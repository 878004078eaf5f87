/*
 * golden_sweep.c - the header sweep: every field of the 64-byte header set,
 * one at a time, to its boundary values (0, 1, min-1, min, max, max+1, all
 * ones, and min-step/max+step for fields counted in steps), derived from a
 * table of the fields' ranges.  The verdict of each image comes from the
 * generator's own reading of the header rules (verdict below, never
 * libqed): a broken rule makes a reject case citing it; a valid value of a
 * field that changes nothing the model reads makes a read case; a valid
 * value of a layout field (one that moves tables) other than the base's is
 * not a valid image of this layout and is left out.
 */
#include "golden_cases.h"
#include "golden_lib.h"

#include "qed.h"

#include <stdio.h>
#include <string.h>

/* The base: cs 4K ts 2 hs 1, 1 MiB; L1 at 4096, one L2 table, one data
 * cluster (0xa5): a 24 KiB file, so l1_table_offset ranges over
 * [4096, 16384].  (table_size 2: QEMU 7.2 refuses every table_size 1
 * image, KNOWN-DEVIATIONS.md.) */
#define BASE_CS 4096u
#define BASE_TS 2u
#define BASE_SIZE (1u << 20)
#define BASE_FILE (6 * BASE_CS)
#define BACKING_NAME "backing/base.raw"

enum {
    NEUTRAL = 1,    /* a valid value changes nothing the model reads */
    SIZE = 2,       /* the field is image_size (the model reads it) */
    BACKING = 4,    /* swept on the base with a backing file */
};

typedef struct sfield {
    const char *name;
    unsigned off, width;       /* byte offset and width (4 or 8) */
    uint64_t min, max, step;   /* the valid range on the base, step > 1 for
                                  fields counted in sectors or clusters */
    unsigned kind;
    const char *valid_rules;   /* cited by a read case of a valid value */
} sfield;

static const sfield fields[] = {
    { "magic", 0, 4, QED_MAGIC, QED_MAGIC, 1, 0, "HDR-1" },
    { "cluster-size", 4, 4, QED_MIN_CLUSTER_SIZE, QED_MAX_CLUSTER_SIZE, 1, 0, "HDR-2" },
    { "table-size", 8, 4, 1, QED_MAX_TABLE_SIZE, 1, 0, "HDR-3" },
    { "header-size", 12, 4, 1, 1, 1, 0, "HDR-4" },  /* max: the L1 table is at cluster 1 */
    { "features", 16, 8, 0, 7, 1, 0, "HDR-5" },
    { "compat", 24, 8, 0, UINT64_MAX, 1, NEUTRAL, "HDR-6" },
    { "autoclear", 32, 8, 0, UINT64_MAX, 1, NEUTRAL, "HDR-7" },
    { "l1-offset", 40, 8, BASE_CS, BASE_FILE - BASE_TS * BASE_CS, BASE_CS, 0,
      "HDR-8" },
    { "image-size", 48, 8, 0, 1ull << 32, 512, NEUTRAL | SIZE, "HDR-9 HDR-10" },
    { "bname-offset", 56, 4, 64, BASE_CS - sizeof BACKING_NAME + 1, 1, BACKING, "HDR-11" },
    { "bname-size", 60, 4, 1, BASE_CS - 64, 1, BACKING, "HDR-11" },
    { "bname-offset-unused", 56, 4, 0, UINT32_MAX, 1, NEUTRAL, "HDR-14" },
    { "bname-size-unused", 60, 4, 0, UINT32_MAX, 1, NEUTRAL, "HDR-14" },
};

/* The raw backing file of the BACKING base (invalid/sweep/backing/base.raw). */
static glayer *sweep_raw;

/* The base image at path; with backing, it names BACKING_NAME (NO_PROBE). */
static glayer *base(const char *path, int backing, uint64_t size)
{
    glayer *g = keep(gl_qed(path, BASE_CS, BASE_TS, 1, size));

    if (backing)
        gl_backing(g, BACKING_NAME, sweep_raw, 1);
    data_byte(g, 0, 0xa5);   /* not 'Z': the faulty adapter's content fault writes it */
    gl_finish(g);
    return g;
}

/* The u32 / u64 at off of f (FILE-1: little-endian). */
static uint32_t get32(const gbuf *f, unsigned off)
{
    return (uint32_t)gbuf_get_le64(f, off);
}

static int pow2(uint64_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

static unsigned log2u(uint64_t v)
{
    unsigned k = 0;
    while (v > 1) {
        v >>= 1;
        k++;
    }
    return k;
}

/* HDR-10 without wrap: image_size <= 2^(2*(c+t-3)+c). */
static int size_fits(uint64_t size, uint32_t cs, uint32_t ts)
{
    unsigned e = 2 * (log2u(cs) + log2u(ts) - 3) + log2u(cs);
    return e >= 64 || size <= (1ull << e);
}

/* HDR-8 (TBL-2, TBL-3, TBL-4) for l1_table_offset. */
static int l1_ok(const gbuf *f, uint64_t l1, uint32_t cs, uint32_t ts, uint32_t hs)
{
    uint64_t lc = f->len / cs * cs, tb = (uint64_t)ts * cs;
    return (l1 & QED_RESERVED_BITS) == 0 && l1 % cs == 0 && l1 >= (uint64_t)hs * cs &&
           tb <= lc && l1 <= lc - tb;
}

/* HDR-11, HDR-12, HDR-13, BACK-5 for a header with BACKING_FILE; NULL when
 * the name is the backing file shipped beside the image. */
static const char *backing_verdict(const gbuf *f, uint64_t header_bytes)
{
    uint32_t boff = get32(f, 56), blen = get32(f, 60);

    if ((uint64_t)boff + blen > header_bytes)
        return "HDR-11";
    if (blen == 0)
        return "HDR-12";
    if (memchr(f->data + boff, 0, blen))           /* boff+blen < l1 < len */
        return "HDR-13";
    if (blen != strlen(BACKING_NAME) || memcmp(f->data + boff, BACKING_NAME, blen))
        return "BACK-5";
    return NULL;
}

/* The first rule the header of f breaks, in the spec's order, or NULL. */
static const char *verdict(const gbuf *f)
{
    uint32_t cs = get32(f, 4), ts = get32(f, 8), hs = get32(f, 12);
    uint64_t features = gbuf_get_le64(f, 16), size = gbuf_get_le64(f, 48);

    if (get32(f, 0) != QED_MAGIC)
        return "HDR-1";
    if (!pow2(cs) || cs < QED_MIN_CLUSTER_SIZE || cs > QED_MAX_CLUSTER_SIZE)
        return "HDR-2";
    if (!pow2(ts) || ts > QED_MAX_TABLE_SIZE)
        return "HDR-3";
    if (hs < 1)
        return "HDR-4";
    if (features & ~(uint64_t)7)
        return "HDR-5";
    if (!l1_ok(f, gbuf_get_le64(f, 40), cs, ts, hs))
        return "HDR-8";
    if (size % 512)
        return "HDR-9";
    if (!size_fits(size, cs, ts))
        return "HDR-10";
    if (features & QED_F_BACKING_FILE)
        return backing_verdict(f, (uint64_t)hs * cs);
    return NULL;
}

/* The boundary values of a field, each with its label, without repeats. */
typedef struct svalue {
    const char *label;
    uint64_t v;
} svalue;

static size_t boundary_values(const sfield *fd, svalue *out)
{
    uint64_t mask = fd->width == 8 ? UINT64_MAX : UINT32_MAX;
    const svalue all[] = {
        { "zero", 0 }, { "one", 1 }, { "all-ones", mask },
        { "min-minus-1", (fd->min - 1) & mask }, { "min", fd->min }, { "max", fd->max },
        { "max-plus-1", (fd->max + 1) & mask },
        { "min-minus-step", (fd->min - fd->step) & mask },
        { "max-plus-step", (fd->max + fd->step) & mask },
    };
    size_t n = 0;

    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        size_t j = 0;
        while (j < n && out[j].v != all[k].v)
            j++;
        if (j == n)
            out[n++] = all[k];
    }
    return n;
}

/* Set the field to v in the file bytes. */
static void patch(glayer *g, const sfield *fd, uint64_t v)
{
    if (fd->width == 4)
        gbuf_put_le32(&g->file, fd->off, (uint32_t)v);
    else
        gbuf_put_le64(&g->file, fd->off, v);
}

/* One value of a field: a reject case when it breaks a rule (emit_rejects
 * set), a read case when it is valid and the field neutral (else). */
static void sweep_value(gen *G, const sfield *fd, const svalue *sv, int emit_rejects)
{
    char name[96], path[128], comment[256];
    const char *dir = emit_rejects ? "invalid" : "valid";

    snprintf(name, sizeof name, "sweep-%s-%s", fd->name, sv->label);
    snprintf(path, sizeof path, "%s/sweep/%s-%s.qed", dir, fd->name, sv->label);
    glayer *g = base(path, (fd->kind & BACKING) != 0, BASE_SIZE);
    uint64_t stored = fd->width == 4 ? get32(&g->file, fd->off)
                                     : gbuf_get_le64(&g->file, fd->off);
    patch(g, fd, sv->v);
    const char *rule = verdict(&g->file);
    if (sv->v == stored || emit_rejects != (rule != NULL))
        return;                       /* the base itself, or not this pass */
    if (rule == NULL && !(fd->kind & NEUTRAL))
        return;                       /* a layout field's other valid value */
    if (rule == NULL && (fd->kind & SIZE)) {
        if (sv->v > BASE_SIZE)
            return;                   /* the 4 GiB maximum: read/size-max-* cover it */
        g->image_size = sv->v;        /* the model reads it */
        gl_finish(g);
    }
    snprintf(comment, sizeof comment, "header sweep: %s (byte %u) = 0x%llx (%s)%s%s",
             fd->name, fd->off, (unsigned long long)sv->v, sv->label,
             rule ? ": breaks " : ": valid", rule ? rule : "");
    if (rule)
        emit_reject(G, name, comment, g, NULL, rule, "Header", rule);
    else
        emit_read(G, name, comment, g, "Header", fd->valid_rules);
}

/* Every field, every boundary value; rejects first, then the valid reads. */
void golden_sweep_cases(gen *G)
{
    svalue vals[16];

    sweep_raw = keep(gl_raw("invalid/sweep/backing/base.raw", BASE_CS,
                            seed_of("sweep base.raw", 0), 0));
    for (int pass = 1; pass >= 0; pass--) {
        gen_group(G, pass ? "reject" : "read", pass
                  ? "header sweep: each field at its boundary values, one at a time"
                  : "header sweep: the valid boundary values of fields that change "
                    "nothing read");
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
            size_t n = boundary_values(&fields[f], vals);
            for (size_t k = 0; k < n; k++)
                sweep_value(G, &fields[f], &vals[k], pass);
        }
    }
    release_all();
}
