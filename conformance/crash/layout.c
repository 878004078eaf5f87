/*
 * layout.c - the roles of a QED file's bytes in one state (layout.h).
 *
 * A layout is the header's geometry plus two sorted lists: the L2 tables
 * the L1 table points at and the data clusters the L2 tables point at.  A
 * range is described by merging those lists with the header and L1 runs
 * in file order; gaps are bytes nothing refers to.
 */
#include "layout.h"

#include "qed.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A pointer to a cluster: where it is in the file and who points at it. */
typedef struct ref {
    uint64_t off;    /* file offset of the table or cluster */
    uint64_t index;  /* L1 index (tables) or logical cluster index (data) */
} ref;

struct crash_layout {
    const uint8_t *img;
    size_t len;
    int valid;
    qed_header h;
    uint64_t cs;          /* cluster_size */
    uint64_t tb;          /* table bytes: table_size * cluster_size */
    uint64_t n_entries;   /* entries per table */
    uint64_t hdr_bytes;   /* header_size * cluster_size */
    ref *l2;              /* sorted by off, no duplicates */
    size_t n_l2;
    ref *data;            /* sorted by off */
    size_t n_data;
};

/* Little-endian u64 at img[off], zero for bytes past the end. */
static uint64_t get_u64(const uint8_t *img, size_t len, uint64_t off)
{
    uint64_t v = 0;

    for (unsigned i = 8; i-- > 0;)
        v = v << 8 | (off + i < len ? img[off + i] : 0);
    return v;
}

/* min(a + b, UINT64_MAX). */
static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Order refs by file offset, then by index. */
static int ref_cmp(const void *a, const void *b)
{
    const ref *x = a, *y = b;

    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Append r to *arr (capacity *cap); -1 when out of memory. */
static int ref_push(ref **arr, size_t *n, size_t *cap, ref r)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        ref *p = ncap > SIZE_MAX / sizeof(*p) ? NULL : realloc(*arr, ncap * sizeof(*p));
        if (!p)
            return -1;
        *arr = p;
        *cap = ncap;
    }
    (*arr)[(*n)++] = r;
    return 0;
}

/* The number of table entries at table_off that lie inside the image. */
static uint64_t entries_in_file(const crash_layout *l, uint64_t table_off)
{
    uint64_t room;

    if (table_off >= l->len)
        return 0;
    room = ((uint64_t)l->len - table_off) / 8;
    return room < l->n_entries ? room : l->n_entries;
}

/* Collect the tables the L1 table points at (TBL-3: cluster-aligned, not
 * 0), sorted, duplicates dropped. */
static int collect_tables(crash_layout *l)
{
    uint64_t n = entries_in_file(l, l->h.l1_table_offset);
    size_t cap = 0, kept = 0;

    for (uint64_t i = 0; i < n; i++) {
        uint64_t v = get_u64(l->img, l->len, l->h.l1_table_offset + 8 * i);
        if (v != 0 && v % l->cs == 0 && ref_push(&l->l2, &l->n_l2, &cap, (ref){ v, i }))
            return -1;
    }
    if (l->n_l2)
        qsort(l->l2, l->n_l2, sizeof(*l->l2), ref_cmp);
    for (size_t i = 0; i < l->n_l2; i++)
        if (kept == 0 || l->l2[i].off != l->l2[kept - 1].off)
            l->l2[kept++] = l->l2[i];
    l->n_l2 = kept;
    return 0;
}

/* Collect the data clusters every table points at (not 0, not the zero
 * cluster 1, cluster-aligned), sorted by file offset. */
static int collect_data(crash_layout *l)
{
    size_t cap = 0;

    for (size_t t = 0; t < l->n_l2; t++) {
        uint64_t n = entries_in_file(l, l->l2[t].off);
        for (uint64_t j = 0; j < n; j++) {
            uint64_t v = get_u64(l->img, l->len, l->l2[t].off + 8 * j);
            ref r = { v, l->l2[t].index * l->n_entries + j };
            if (v > QED_ZERO_CLUSTER && v % l->cs == 0 &&
                ref_push(&l->data, &l->n_data, &cap, r))
                return -1;
        }
    }
    if (l->n_data)
        qsort(l->data, l->n_data, sizeof(*l->data), ref_cmp);
    return 0;
}

int crash_layout_new(const uint8_t *img, size_t len, crash_layout **out)
{
    crash_layout *l = calloc(1, sizeof(*l));

    *out = NULL;
    if (!l)
        return -1;
    l->img = img;
    l->len = len;
    if (len >= QED_HEADER_BYTES) {
        qed_header_decode(img, &l->h);
        /* the geometry only: the file may still be growing to its tables */
        l->valid = qed_header_validate(&l->h, UINT64_MAX) == QED_OK;
    }
    if (l->valid) {
        l->cs = l->h.cluster_size;
        l->tb = l->cs * l->h.table_size;
        l->n_entries = l->tb / 8;
        l->hdr_bytes = l->cs * l->h.header_size;
        if (collect_tables(l) != 0 || collect_data(l) != 0) {
            crash_layout_free(l);
            return -1;
        }
    }
    *out = l;
    return 0;
}

void crash_layout_free(crash_layout *l)
{
    if (!l)
        return;
    free(l->l2);
    free(l->data);
    free(l);
}

int crash_layout_valid(const crash_layout *l)
{
    return l->valid;
}

/* ------------------------------------------------------------------ */
/* Roles of a range                                                    */
/* ------------------------------------------------------------------ */

/* Collects roles, merging each with the previous one where it continues it. */
typedef struct emitter {
    crash_role *out;
    size_t max, n;
    crash_role cur;
    int have;
} emitter;

/* 1 when b continues a: same kind, adjacent bytes, next indices. */
static int continues(const crash_role *a, const crash_role *b)
{
    if (a->kind != b->kind || a->off + a->len != b->off)
        return 0;
    if (a->kind == CRASH_ROLE_NONE || a->kind == CRASH_ROLE_HEADER)
        return 1;
    return a->last + 1 == b->first &&
           (a->kind != CRASH_ROLE_L2 || a->table_off == b->table_off);
}

static void emit_flush(emitter *e)
{
    if (e->have && e->n < e->max)
        e->out[e->n] = e->cur;
    e->n += (size_t)e->have;
    e->have = 0;
}

static void emit(emitter *e, const crash_role *r)
{
    if (e->have && continues(&e->cur, r)) {
        e->cur.len += r->len;
        e->cur.last = r->last;
        return;
    }
    emit_flush(e);
    e->cur = *r;
    e->have = 1;
}

/* The role of bytes [start, start + size) of a table-like region, clipped
 * to [off, end): entry indices count 8-byte entries from start. */
static crash_role clip_table(enum crash_role_kind kind, uint64_t start,
                             uint64_t size, uint64_t off, uint64_t end)
{
    uint64_t a = start > off ? start : off;
    uint64_t b = add_sat(start, size) < end ? add_sat(start, size) : end;
    crash_role r = { .kind = kind, .off = a, .len = b - a,
                     .first = (a - start) / 8, .last = (b - 1 - start) / 8,
                     .table_off = start };
    return r;
}

/* Index of the first ref in arr[0..n) whose [off, off + size) ends after
 * pos (arr sorted by off). */
static size_t first_ending_after(const ref *arr, size_t n, uint64_t size, uint64_t pos)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (add_sat(arr[mid].off, size) <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A walk over the header, L1, table and data runs that meet [off, end). */
typedef struct walk {
    const crash_layout *l;
    uint64_t off, end;
    crash_role fixed[2];     /* header and L1, in file order */
    size_t n_fixed, fi, ti, di;
} walk;

static void walk_init(walk *w, const crash_layout *l, uint64_t off, uint64_t end)
{
    memset(w, 0, sizeof(*w));
    w->l = l;
    w->off = off;
    w->end = end;
    if (!l->valid)
        return;
    uint64_t l1 = l->h.l1_table_offset;
    if (l->hdr_bytes > off)
        w->fixed[w->n_fixed++] = clip_table(CRASH_ROLE_HEADER, 0, l->hdr_bytes, off, end);
    if (l1 < end && add_sat(l1, l->tb) > off)
        w->fixed[w->n_fixed++] = clip_table(CRASH_ROLE_L1, l1, l->tb, off, end);
    if (w->n_fixed == 2 && w->fixed[1].off < w->fixed[0].off) {
        crash_role t = w->fixed[0];
        w->fixed[0] = w->fixed[1];
        w->fixed[1] = t;
    }
    w->ti = first_ending_after(l->l2, l->n_l2, l->tb, off);
    w->di = first_ending_after(l->data, l->n_data, l->cs, off);
}

/* Where a ref's run starts inside the range, or UINT64_MAX when none is left. */
static uint64_t ref_start(const walk *w, const ref *arr, size_t n, size_t i)
{
    if (i >= n || arr[i].off >= w->end)
        return UINT64_MAX;
    return arr[i].off > w->off ? arr[i].off : w->off;
}

/* The next run in file order, or 0 when there is none. */
static int walk_next(walk *w, crash_role *r)
{
    const crash_layout *l = w->l;
    uint64_t fs = w->fi < w->n_fixed ? w->fixed[w->fi].off : UINT64_MAX;
    uint64_t ts = ref_start(w, l->l2, l->n_l2, w->ti);
    uint64_t ds = ref_start(w, l->data, l->n_data, w->di);

    if (fs == UINT64_MAX && ts == UINT64_MAX && ds == UINT64_MAX)
        return 0;
    if (fs <= ts && fs <= ds) {
        *r = w->fixed[w->fi++];
    } else if (ts <= ds) {
        *r = clip_table(CRASH_ROLE_L2, l->l2[w->ti].off, l->tb, w->off, w->end);
        r->l1_index = l->l2[w->ti++].index;
    } else {
        *r = clip_table(CRASH_ROLE_DATA, l->data[w->di].off, l->cs, w->off, w->end);
        r->first = r->last = l->data[w->di++].index;
        r->table_off = 0;
    }
    return 1;
}

size_t crash_layout_roles(const crash_layout *l, uint64_t off, uint64_t nbytes,
                          crash_role *out, size_t max)
{
    uint64_t end = add_sat(off, nbytes), pos = off;
    emitter e = { .out = out, .max = max };
    crash_role r;
    walk w;

    walk_init(&w, l, off, end);
    while (walk_next(&w, &r)) {
        if (r.off > pos) {
            crash_role gap = { .kind = CRASH_ROLE_NONE, .off = pos, .len = r.off - pos };
            emit(&e, &gap);
        }
        emit(&e, &r);
        if (r.off + r.len > pos)
            pos = r.off + r.len;
    }
    if (pos < end) {
        crash_role gap = { .kind = CRASH_ROLE_NONE, .off = pos, .len = end - pos };
        emit(&e, &gap);
    }
    emit_flush(&e);
    return e.n;
}

/* The roles of a range in a malloc'd array (*n set); NULL when out of memory. */
static crash_role *roles_of(const crash_layout *l, uint64_t off, uint64_t nbytes, size_t *n)
{
    size_t count = crash_layout_roles(l, off, nbytes, NULL, 0);
    crash_role *r = calloc(count ? count : 1, sizeof(*r));

    if (r)
        crash_layout_roles(l, off, nbytes, r, count);
    *n = count;
    return r;
}

/* ------------------------------------------------------------------ */
/* Text                                                                */
/* ------------------------------------------------------------------ */

/* A bounded string builder: text past the end is dropped for "...". */
typedef struct sbuf {
    char *p;
    size_t cap, n;
    int full;
} sbuf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void sb_add(sbuf *s, const char *fmt, ...)
{
    va_list ap;
    int k;

    if (s->full || s->cap == 0)
        return;
    va_start(ap, fmt);
    k = vsnprintf(s->p + s->n, s->cap - s->n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= s->cap - s->n) {
        s->full = 1;
        if (s->cap >= 4)
            memcpy(s->p + s->cap - 4, "...", 4);
        return;
    }
    s->n += (size_t)k;
}

/* "[i]" or "[i..j]". */
static void sb_range(sbuf *s, uint64_t i, uint64_t j)
{
    if (i == j)
        sb_add(s, "[%" PRIu64 "]", i);
    else
        sb_add(s, "[%" PRIu64 "..%" PRIu64 "]", i, j);
}

/* The cluster size to name unreferenced runs by, 0 when unknown. */
static uint64_t cluster_of(const crash_layout *a, const crash_layout *b)
{
    return a->valid ? a->cs : b && b->valid ? b->cs : 0;
}

/* "unreferenced cluster(s) at A[..B]" for a gap, with why. */
static void sb_gap(sbuf *s, const crash_role *r, uint64_t cs, const char *why)
{
    if (cs == 0) {
        sb_add(s, "bytes %" PRIu64 "..%" PRIu64 " before any valid header (%s)",
               r->off, r->off + r->len - 1, why);
        return;
    }
    uint64_t a = r->off / cs * cs, b = (r->off + r->len - 1) / cs * cs;
    if (a == b)
        sb_add(s, "unreferenced cluster at %" PRIu64 " (%s)", a, why);
    else
        sb_add(s, "unreferenced clusters at %" PRIu64 "..%" PRIu64 " (%s)", a, b, why);
}

/* The plain text of one role (prefix "new " for a look-ahead). */
static void sb_role(sbuf *s, const crash_role *r, const char *prefix, uint64_t tb)
{
    switch (r->kind) {
    case CRASH_ROLE_HEADER:
        sb_add(s, "%sheader", prefix);
        break;
    case CRASH_ROLE_L1:
        sb_add(s, "%sL1", prefix);
        sb_range(s, r->first, r->last);
        break;
    case CRASH_ROLE_L2:
        sb_add(s, "%sL2 table at %" PRIu64, prefix, r->table_off);
        if (*prefix && r->off == r->table_off && r->len == tb)
            break;                      /* written whole: "new L2 table" */
        sb_add(s, " ");
        sb_range(s, r->first, r->last);
        break;
    case CRASH_ROLE_DATA:
        if (r->first == r->last)
            sb_add(s, "%sdata of logical cluster %" PRIu64, prefix, r->first);
        else
            sb_add(s, "%sdata of logical clusters %" PRIu64 "..%" PRIu64, prefix,
                   r->first, r->last);
        break;
    case CRASH_ROLE_NONE:
        break;
    }
}

int crash_layout_describe(const uint8_t *img, size_t len, uint64_t off,
                          uint64_t nbytes, char *out, size_t outlen)
{
    crash_layout *l;
    int rc;

    if (crash_layout_new(img, len, &l) != 0) {
        snprintf(out, outlen, "(out of memory)");
        return -1;
    }
    rc = crash_layout_describe_write(l, NULL, off, nbytes, NULL, out, outlen);
    crash_layout_free(l);
    return rc;
}

/* ------------------------------------------------------------------ */
/* What a write changes                                               */
/* ------------------------------------------------------------------ */

/* The byte at file offset p as the write [off, off + n) of data leaves it. */
static uint8_t byte_after(const crash_layout *l, uint64_t p, uint64_t off,
                          uint64_t n, const uint8_t *data)
{
    if (data && p >= off && p - off < n)
        return data[p - off];
    return p < l->len ? l->img[p] : 0;
}

/* Entries of the table at table_off that the write changes inside role r:
 * " changes [i..j]", " changes K entries in [i..j]" or " (unchanged)". */
static void sb_entry_changes(sbuf *s, const crash_layout *l, const crash_role *r,
                             uint64_t table_off, uint64_t off, uint64_t n,
                             const uint8_t *data)
{
    uint64_t first = 0, last = 0, count = 0;

    for (uint64_t p = r->off; p < r->off + r->len; p++) {
        if (byte_after(l, p, 0, 0, NULL) == byte_after(l, p, off, n, data))
            continue;
        uint64_t idx = (p - table_off) / 8;
        if (count == 0 || idx != last) {
            if (count == 0)
                first = idx;
            last = idx;
            count++;
        }
    }
    if (count == 0)
        sb_add(s, " (unchanged)");
    else if (count == last - first + 1) {
        sb_add(s, " changes ");
        sb_range(s, first, last);
    } else {
        sb_add(s, " changes %" PRIu64 " entries in ", count);
        sb_range(s, first, last);
    }
}

/* Names of the feature bits in mask, "NEED_CHECK" etc., for a message. */
static void sb_feature_names(sbuf *s, uint64_t mask, const char *verb)
{
    static const struct { uint64_t bit; const char *name; } names[] = {
        { QED_F_BACKING_FILE, "BACKING_FILE" }, { QED_F_NEED_CHECK, "NEED_CHECK" },
        { QED_F_BACKING_FORMAT_NO_PROBE, "BACKING_FORMAT_NO_PROBE" },
    };
    const char *sep = "";

    if (!mask)
        return;
    sb_add(s, " (");
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (mask & names[i].bit) {
            sb_add(s, "%s%s", sep, names[i].name);
            sep = " ";
        }
    if (mask & ~(uint64_t)QED_FEATURE_MASK)
        sb_add(s, "%sunknown 0x%" PRIx64, sep, mask & ~(uint64_t)QED_FEATURE_MASK);
    sb_add(s, " %s)", verb);
}

/* "header: FIELD OLD -> NEW, ..." for the header fields the write changes. */
static void sb_header_changes(sbuf *s, const crash_layout *l, const crash_role *r,
                              uint64_t off, uint64_t n, const uint8_t *data)
{
    uint8_t before[QED_HEADER_BYTES], after[QED_HEADER_BYTES];
    qed_header a, b;
    const char *sep = ": ";
    int rest = 0;

    for (uint64_t p = 0; p < QED_HEADER_BYTES; p++) {
        before[p] = byte_after(l, p, 0, 0, NULL);
        after[p] = byte_after(l, p, off, n, data);
    }
    for (uint64_t p = r->off > QED_HEADER_BYTES ? r->off : QED_HEADER_BYTES;
         p < r->off + r->len && !rest; p++)
        rest = byte_after(l, p, 0, 0, NULL) != byte_after(l, p, off, n, data);
    qed_header_decode(before, &a);
    qed_header_decode(after, &b);
    sb_add(s, "header");
#define FIELD(name, fmt)                                                     \
    if (a.name != b.name) {                                                  \
        sb_add(s, "%s" #name " " fmt " -> " fmt, sep, a.name, b.name);       \
        sep = ", ";                                                          \
    }
    FIELD(magic, "0x%" PRIx32)
    FIELD(cluster_size, "%" PRIu32)
    FIELD(table_size, "%" PRIu32)
    FIELD(header_size, "%" PRIu32)
    if (a.features != b.features) {
        sb_add(s, "%sfeatures 0x%" PRIx64 " -> 0x%" PRIx64, sep, a.features, b.features);
        sb_feature_names(s, b.features & ~a.features, "set");
        sb_feature_names(s, a.features & ~b.features, "cleared");
        sep = ", ";
    }
    FIELD(compat_features, "0x%" PRIx64)
    FIELD(autoclear_features, "0x%" PRIx64)
    FIELD(l1_table_offset, "%" PRIu64)
    FIELD(image_size, "%" PRIu64)
    FIELD(backing_filename_offset, "%" PRIu32)
    FIELD(backing_filename_size, "%" PRIu32)
#undef FIELD
    if (rest) {
        sb_add(s, "%sbytes past the 64-byte header (backing file name)", sep);
        sep = ", ";
    }
    if (*sep == ':')
        sb_add(s, " (unchanged)");
}

/* Describe one role of the state before the write, with data's changes. */
static void sb_role_now(sbuf *s, const crash_layout *l, const crash_role *r,
                        uint64_t off, uint64_t n, const uint8_t *data)
{
    if (data && r->kind == CRASH_ROLE_HEADER && r->off < QED_HEADER_BYTES) {
        sb_header_changes(s, l, r, off, n, data);
        return;
    }
    sb_role(s, r, "", l->tb);
    if (data && r->kind == CRASH_ROLE_L1)
        sb_entry_changes(s, l, r, l->h.l1_table_offset, off, n, data);
    else if (data && r->kind == CRASH_ROLE_L2)
        sb_entry_changes(s, l, r, r->table_off, off, n, data);
}

/* Describe a gap of the state before the write from the later state. */
static void sb_ahead(sbuf *s, const crash_layout *now, const crash_layout *later,
                     const crash_role *gap)
{
    size_t n;
    crash_role *r = roles_of(later, gap->off, gap->len, &n);
    uint64_t cs = cluster_of(now, later);

    if (!r) {
        sb_add(s, "(out of memory)");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_add(s, ", ");
        if (r[i].kind == CRASH_ROLE_NONE)
            sb_gap(s, &r[i], cs, "not referenced later");
        else
            sb_role(s, &r[i], "new ", later->tb);
    }
    free(r);
}

int crash_layout_describe_write(const crash_layout *now, const crash_layout *later,
                                uint64_t off, uint64_t nbytes, const uint8_t *data,
                                char *out, size_t outlen)
{
    sbuf s = { .p = out, .cap = outlen };
    size_t n;
    crash_role *r;

    if (outlen)
        out[0] = '\0';
    if (nbytes == 0)
        return 0;
    r = roles_of(now, off, nbytes, &n);
    if (!r) {
        snprintf(out, outlen, "(out of memory)");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_add(&s, ", ");
        if (r[i].kind != CRASH_ROLE_NONE)
            sb_role_now(&s, now, &r[i], off, nbytes, data);
        else if (later)
            sb_ahead(&s, now, later, &r[i]);
        else
            sb_gap(&s, &r[i], cluster_of(now, NULL), "new data?");
    }
    free(r);
    return 0;
}
