/*
 * oracle.c - the crash oracles (oracle.h; spec section 9, "Oracles").
 *
 *   1. files: the state and its backing chain as qed_io objects
 *   2. the window and its versions (the expected content)
 *   3. the oracles, one function each: O1 recovery, O2 dirty bit, O3 no
 *      foreign data, O4 durability, O5 final state
 *   4. judging one state: O5 (final state only) and O2 on the bytes as the
 *      crash left them, then O1, then O3 and O4 on the recovered image
 *
 * Which write rule each oracle protects (spec section 9's table) is named
 * in every violation, so a failure points at the rule to look at.
 */
#include "oracle.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR QED_SECTOR_SIZE

static const char RULES_O1[] = "WR-5, CHK-5";
static const char RULES_O2[] = "WR-1, WR-2, WR-4, WR-5";
static const char RULES_O3[] = "WR-3, WR-6, WR-7";
static const char RULES_O4[] = "WR-4, flush";
static const char RULES_O5[] = "WR-4, WR-7, WR-8";

/* ------------------------------------------------------------------ */
/* 1. Files                                                            */
/* ------------------------------------------------------------------ */

/* A read-only qed_io over bytes the caller keeps alive (no copy). */
typedef struct view_io {
    qed_io io;          /* must be first */
    const uint8_t *data;
    size_t len;
} view_io;

static int view_read(qed_io *io, uint64_t off, void *dst, size_t len)
{
    view_io *v = (view_io *)io;

    if (off > v->len || len > v->len - off)
        return QED_ERR_EOF;
    if (len)
        memcpy(dst, v->data + off, len);
    return QED_OK;
}

static int view_write(qed_io *io, uint64_t off, const void *src, size_t len)
{
    (void)io; (void)off; (void)src; (void)len;
    return QED_ERR_RDONLY;
}

static int view_flush(qed_io *io)
{
    (void)io;
    return QED_OK;
}

static int view_length(qed_io *io, uint64_t *len)
{
    *len = ((view_io *)io)->len;
    return QED_OK;
}

static int view_truncate(qed_io *io, uint64_t len)
{
    (void)io; (void)len;
    return QED_ERR_RDONLY;
}

static void view_close(qed_io *io)
{
    free(io);
}

/* A read-only view of data[0..len). */
static int view_new(const uint8_t *data, size_t len, qed_io **out)
{
    static const qed_io ops = { view_read, view_write, view_flush, view_length,
                                view_truncate, view_close };
    view_io *v = malloc(sizeof *v);

    if (!v)
        return QED_ERR_NOMEM;
    v->io = ops;
    v->data = data;
    v->len = len;
    *out = &v->io;
    return QED_OK;
}

/* qed_backing_open_fn over the disk's files (BACK-1 already resolved). */
static int open_backing_file(void *ctx, const char *path, qed_io **out)
{
    const crash_disk *d = ctx;

    for (size_t i = 0; i < d->nfiles; i++)
        if (strcmp(d->files[i].path, path) == 0)
            return view_new(d->files[i].data, d->files[i].len, out);
    return QED_ERR_BACKING;
}

/* Open an image on io with the disk's backing files. */
int crash_open_image(const crash_disk *d, qed_io *io, unsigned flags, qed_image **img)
{
    qed_open_opts o;

    memset(&o, 0, sizeof o);
    o.flags = flags;
    o.path = CRASH_IMAGE_PATH;
    o.open_backing = open_backing_file;
    o.backing_ctx = (void *)(uintptr_t)d;
    return qed_open(io, &o, img);
}

/* ------------------------------------------------------------------ */
/* 2. The window and its versions                                      */
/* ------------------------------------------------------------------ */

typedef struct ranges {
    uint64_t *off, *len;
    size_t n, cap;
} ranges;

static int ranges_add(ranges *r, uint64_t off, uint64_t len)
{
    if (len == 0)
        return QED_OK;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        uint64_t *o = realloc(r->off, cap * sizeof *o), *l;
        if (!o)
            return QED_ERR_NOMEM;
        r->off = o;
        if (!(l = realloc(r->len, cap * sizeof *l)))
            return QED_ERR_NOMEM;
        r->len = l;
        r->cap = cap;
    }
    r->off[r->n] = off;
    r->len[r->n++] = len;
    return QED_OK;
}

/* Add [off, off+len) widened to whole clusters. */
static int ranges_add_clusters(ranges *r, uint64_t off, uint64_t len, uint64_t cs)
{
    uint64_t a = off / cs * cs, b;

    if (len == 0 || off > UINT64_MAX - len || off + len > UINT64_MAX - cs)
        return len == 0 ? QED_OK : QED_ERR_INVAL;
    b = (off + len + cs - 1) / cs * cs;
    return ranges_add(r, a, b - a);
}

/* Sort by offset (insertion sort: windows hold a few dozen ranges), merge
 * overlapping and touching ranges, clip to [0, limit). */
static void ranges_normalise(ranges *r, uint64_t limit)
{
    size_t out = 0;

    for (size_t i = 1; i < r->n; i++)
        for (size_t j = i; j > 0 && r->off[j - 1] > r->off[j]; j--) {
            uint64_t t = r->off[j]; r->off[j] = r->off[j - 1]; r->off[j - 1] = t;
            t = r->len[j]; r->len[j] = r->len[j - 1]; r->len[j - 1] = t;
        }
    for (size_t i = 0; i < r->n; i++) {
        uint64_t a = r->off[i], b = a + r->len[i];
        if (b > limit)
            b = limit;
        if (a >= b)
            continue;
        if (out && a <= r->off[out - 1] + r->len[out - 1]) {
            uint64_t end = r->off[out - 1] + r->len[out - 1];
            if (b > end)
                r->len[out - 1] = b - r->off[out - 1];
            continue;
        }
        r->off[out] = a;
        r->len[out++] = b - a;
    }
    r->n = out;
}

/* Add every cluster the image itself (depth 0) allocates or zeroes. */
static int ranges_add_allocated(ranges *r, qed_image *img)
{
    uint64_t size = qed_get_header(img)->image_size, off = 0;

    while (off < size) {
        qed_extent e;
        int ret = qed_map(img, off, size - off, &e);
        if (ret != QED_OK)
            return ret;
        if (e.depth == 0 && (e.flags & QED_MAP_PRESENT) && (ret = ranges_add(r, e.start, e.length)))
            return ret;
        off = e.start + e.length;
    }
    return QED_OK;
}

/* Read the window's part below size from img into out (wtotal bytes;
 * bytes at or past size are left zero). */
static int read_window(const crash_model *m, qed_image *img, uint64_t size, uint8_t *out)
{
    uint64_t pos = 0;

    for (size_t i = 0; i < m->nwin; i++) {
        uint64_t a = m->woff[i], n = m->wlen[i];
        uint64_t have = a < size ? (n < size - a ? n : size - a) : 0;
        if (have) {
            int ret = qed_read(img, a, out + pos, (size_t)have);
            if (ret != QED_OK)
                return ret;
        }
        if (have < n)
            memset(out + pos + have, 0, (size_t)(n - have));
        pos += n;
    }
    return QED_OK;
}

/* Take r as the model's window when ret (how collecting it went) is
 * QED_OK; otherwise free r and pass ret on. */
static int model_take_window(crash_model *m, ranges *r, int ret)
{
    if (ret != QED_OK) {
        free(r->off);
        free(r->len);
        return ret;
    }
    m->woff = r->off;
    m->wlen = r->len;
    m->nwin = r->n;
    m->wtotal = 0;
    for (size_t i = 0; i < r->n; i++)
        m->wtotal += r->len[i];
    if (m->wtotal > CRASH_MAX_FILE)
        return QED_ERR_LIMIT;
    return QED_OK;
}

/* Grow the version arrays by one slot. */
static int model_grow(crash_model *m)
{
    uint8_t **v = realloc(m->ver, (m->nver + 1) * sizeof *v);
    uint64_t *s, *f;

    if (!v)
        return QED_ERR_NOMEM;
    m->ver = v;
    if (!(s = realloc(m->vsize, (m->nver + 1) * sizeof *s)))
        return QED_ERR_NOMEM;
    m->vsize = s;
    if (!(f = realloc(m->vfrom, (m->nver + 1) * sizeof *f)))
        return QED_ERR_NOMEM;
    m->vfrom = f;
    return QED_OK;
}

/* Append the version img shows from progress point `from` on; a version
 * equal to the previous one is not kept (the earlier `from` stands). */
static int model_add_version(crash_model *m, qed_image *img, uint64_t from)
{
    uint64_t size = qed_get_header(img)->image_size;
    uint8_t *buf;
    int ret = model_grow(m);

    if (ret != QED_OK)
        return ret;
    if (!(buf = malloc(m->wtotal ? (size_t)m->wtotal : 1)))
        return QED_ERR_NOMEM;
    if ((ret = read_window(m, img, size, buf)) != QED_OK) {
        free(buf);
        return ret;
    }
    if (m->nver && m->vsize[m->nver - 1] == size &&
        memcmp(m->ver[m->nver - 1], buf, (size_t)m->wtotal) == 0) {
        free(buf);
        return QED_OK;
    }
    m->ver[m->nver] = buf;
    m->vsize[m->nver] = size;
    m->vfrom[m->nver++] = from;
    return QED_OK;
}

void crash_model_free(crash_model *m)
{
    for (size_t i = 0; i < m->nver; i++)
        free(m->ver[i]);
    free(m->ver);
    free(m->vsize);
    free(m->vfrom);
    free(m->woff);
    free(m->wlen);
    memset(m, 0, sizeof *m);
}

/* Run ops on a memory copy of the initial image; after each command (and
 * before the first) call back with the image. */
typedef int (*version_fn)(void *ctx, qed_image *img, uint64_t k);

static int run_ops(const crash_disk *d, const crash_op *ops, size_t nops, void *ctx,
                   version_fn fn, char *err, size_t errlen)
{
    crash_buf b = { 0 };
    qed_io *io = NULL;
    qed_image *img = NULL;
    uint8_t *data = NULL;
    size_t cap = 0, k = 0;
    int ret = crash_buf_set(&b, d->image, d->image_len);

    if (ret == QED_OK && (ret = crash_buf_io(&b, 1, &io)) == QED_OK)
        ret = crash_open_image(d, io, QED_OPEN_RDWR, &img);
    if (ret == QED_OK)
        ret = fn(ctx, img, 0);
    for (k = 0; ret == QED_OK && k < nops; k++)
        if ((ret = crash_op_apply(img, &ops[k], &data, &cap)) == QED_OK)
            ret = fn(ctx, img, k + 1);
    if (ret != QED_OK)
        snprintf(err, errlen, "the reference cannot run the workload (command %zu): %s", k,
                 qed_strerror(ret));
    qed_close(img);
    qed_io_close(io);
    crash_buf_free(&b);
    free(data);
    return ret;
}

/* version_fn collecting the window: allocated clusters of every version. */
static int collect_allocated(void *r, qed_image *img, uint64_t k)
{
    (void)k;
    return ranges_add_allocated(r, img);
}

/* version_fn keeping the window of each version. */
static int collect_version(void *m, qed_image *img, uint64_t k)
{
    return model_add_version(m, img, k);
}

int crash_model_from_ops(const crash_disk *d, const crash_op *ops, size_t nops,
                         crash_model *m, char *err, size_t errlen)
{
    ranges r = { 0 };
    uint64_t cs, limit = 0;
    qed_header h;
    int ret;

    memset(m, 0, sizeof *m);
    if (d->image_len < QED_HEADER_BYTES)
        return QED_E_TRUNCATED;
    qed_header_decode(d->image, &h);
    cs = h.cluster_size ? h.cluster_size : 4096;
    for (size_t i = 0; i < nops; i++) {
        if (ops[i].kind == COP_WRITE || ops[i].kind == COP_ZERO)
            ranges_add_clusters(&r, ops[i].off, ops[i].len, cs);
        if (ops[i].kind == COP_TRUNCATE && ops[i].off > limit)
            limit = ops[i].off;
    }
    ret = run_ops(d, ops, nops, &r, collect_allocated, err, errlen);
    if (h.image_size > limit)
        limit = h.image_size;
    ranges_normalise(&r, limit);
    ret = model_take_window(m, &r, ret);
    if (ret == QED_OK)
        ret = run_ops(d, ops, nops, m, collect_version, err, errlen);
    if (ret != QED_OK)
        crash_model_free(m);
    return ret;
}

/* The replay of the trace's first cut entries (every write persisted). */
static int replay_to(const crash_events *ev, size_t cut, crash_buf *b, size_t *next)
{
    while (*next < ev->count && ev->ev[*next].entry < cut) {
        int ret = crash_apply(b, &ev->ev[*next]);
        if (ret != QED_OK)
            return ret;
        (*next)++;
    }
    return QED_OK;
}

/* For every cut, open the in-order replay read-only and call fn (cuts
 * whose replay cannot be opened or read are left out). */
static int each_replay(const crash_disk *d, const crash_events *ev, void *ctx,
                       version_fn fn)
{
    crash_buf b = { 0 };
    size_t next = 0;
    int ret = crash_buf_set(&b, d->image, d->image_len);

    for (size_t cut = 0; ret == QED_OK && cut <= ev->entries; cut++) {
        qed_io *io = NULL;
        qed_image *img = NULL;
        if ((ret = replay_to(ev, cut, &b, &next)) != QED_OK)
            break;
        if ((ret = crash_buf_io(&b, 0, &io)) != QED_OK)
            break;
        if (crash_open_image(d, io, 0, &img) == QED_OK) {
            ret = fn(ctx, img, cut);
            if (ret > 0)
                ret = QED_OK;           /* an unreadable replay: not a version */
        }
        qed_close(img);
        qed_io_close(io);
    }
    crash_buf_free(&b);
    return ret;
}

int crash_model_from_trace(const crash_disk *d, const crash_events *ev,
                           crash_model *m, char *err, size_t errlen)
{
    ranges r = { 0 };
    int ret;

    memset(m, 0, sizeof *m);
    ret = each_replay(d, ev, &r, collect_allocated);
    ranges_normalise(&r, UINT64_MAX);
    ret = model_take_window(m, &r, ret);
    if (ret == QED_OK)
        ret = each_replay(d, ev, m, collect_version);
    if (ret != QED_OK) {
        snprintf(err, errlen, "replaying the trace: %s", qed_strerror(ret));
        crash_model_free(m);
    }
    return ret;
}

/* ------------------------------------------------------------------ */
/* 3. The oracles                                                      */
/* ------------------------------------------------------------------ */

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

#include <stdarg.h>

/* Record a violation of oracle o (1..5) by state st; returns 0. */
static int PRINTF_LIKE(4, 5) violate(crash_judge *j, int o, const crash_state *st,
                                     const char *fmt, ...)
{
    static const char *const rules[6] = { "", RULES_O1, RULES_O2, RULES_O3, RULES_O4, RULES_O5 };
    va_list ap;

    j->by_oracle[o]++;
    if (j->nkept < CRASH_KEEP_VIOLATIONS) {
        crash_violation *v = &j->kept[j->nkept++];
        snprintf(v->oracle, sizeof v->oracle, "O%d", o);
        snprintf(v->state, sizeof v->state, "%s", st->id);
        va_start(ap, fmt);
        vsnprintf(v->what, sizeof v->what, fmt, ap);
        va_end(ap);
        v->rules = rules[o];
    }
    return 0;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* WR-2, as O2 sees it in any state: an L1 entry that changed since the
 * initial image and is well formed must name an L2 table that lies wholly
 * in the file (FILE-3: whole clusters).  Returns 1 or 0 (violation). */
static int l1_tables_present(crash_judge *j, const crash_state *st, const qed_header *h)
{
    const crash_buf *b = st->file;
    uint64_t cs = h->cluster_size, tb = (uint64_t)h->cluster_size * h->table_size;
    uint64_t lc = b->len / cs * cs, n = tb / 8;

    if (h->l1_table_offset > b->len || tb > b->len - h->l1_table_offset)
        return 1;                              /* O1 judges a missing L1 table */
    for (uint64_t i = 0; i < n; i++) {
        uint64_t e = le64(b->data + h->l1_table_offset + i * 8);
        if (i < j->initial_l1_n && e == j->initial_l1[i])
            continue;
        if (e == 0 || (e & (cs - 1)) != 0)
            continue;                          /* TBL-2/TBL-3 are the check's business */
        if (e > lc || tb > lc - e)
            return violate(j, 2, st, "L1[%" PRIu64 "] = 0x%" PRIx64 " names an L2 table "
                           "that is not in the file (file length %zu): the L1 entry "
                           "reached the disk before its table (WR-2)", i, e, b->len);
    }
    return 1;
}

/* O2 dirty bit: with NEED_CHECK clear the image as it is has no
 * corruption; in any state no L1 entry outruns its table (WR-2). */
static int oracle_o2_dirty_bit(crash_judge *j, crash_state *st)
{
    qed_header h;
    qed_io *io = NULL;
    qed_image *img = NULL;
    qed_check_result res;
    int ret;

    if (st->file->len < QED_HEADER_BYTES)
        return 1;                              /* O1 reports it */
    qed_header_decode(st->file->data, &h);
    if (qed_header_validate(&h, st->file->len) != QED_OK)
        return 1;
    if (!l1_tables_present(j, st, &h))
        return 0;
    if (h.features & QED_F_NEED_CHECK)
        return 1;
    if ((ret = view_new(st->file->data, st->file->len, &io)) != QED_OK)
        return ret;
    ret = crash_open_image(j->disk, io, 0, &img);
    if (ret == QED_OK)
        ret = qed_check(img, QED_REPAIR_NONE, &res);
    qed_close(img);
    qed_io_close(io);
    if (ret != QED_OK)
        return violate(j, 2, st, "NEED_CHECK is clear but the image cannot be checked: %s",
                       qed_strerror(ret));
    if (res.corruptions)
        return violate(j, 2, st, "NEED_CHECK is clear but check finds %" PRIu64
                       " corruption(s)", res.corruptions);
    j->checked_clean = 1;
    return 1;
}

/* O1 recovery: the reference opens the state read-write (checking and
 * repairing when NEED_CHECK is set, WR-5) and a check then finds no
 * corruption.  On success *img is the recovered image (open read-write
 * on *io, over the state's bytes). */
static int oracle_o1_recovery(crash_judge *j, crash_state *st, qed_io **io, qed_image **img)
{
    qed_check_result res;
    int ret;

    *img = NULL;
    if ((ret = crash_buf_io(st->file, 1, io)) != QED_OK)
        return ret;
    ret = crash_open_image(j->disk, *io, QED_OPEN_RDWR, img);
    if (ret != QED_OK)
        return violate(j, 1, st, "the reference cannot open the state read-write: %s",
                       qed_strerror(ret));
    /* With NEED_CHECK clear the open repairs nothing and changes no table
     * (at most the header's autoclear bits, HDR-7), so O2's clean check of
     * these very tables stands for the check after recovery. */
    if (j->checked_clean)
        return 1;
    ret = qed_check(*img, QED_REPAIR_NONE, &res);
    if (ret != QED_OK)
        return violate(j, 1, st, "after recovery the check stops: %s", qed_strerror(ret));
    if (res.corruptions)
        return violate(j, 1, st, "after recovery check still finds %" PRIu64 " corruption(s)",
                       res.corruptions);
    return 1;
}

/* The last version showing at progress point p (versions are kept in
 * increasing vfrom order; version 0 shows from the start). */
static uint64_t version_at(const crash_model *m, uint64_t p)
{
    uint64_t k = 0;

    while (k + 1 < m->nver && m->vfrom[k + 1] <= p)
        k++;
    return k;
}

/* The cut just after the last flush:N mark before cut (0 when none). */
static uint64_t last_flush_mark_cut(const crash_events *ev, size_t cut)
{
    uint64_t c = 0;

    for (size_t i = 0; i < ev->count && ev->ev[i].entry < cut; i++)
        if (ev->ev[i].kind == EV_MARK_FLUSH)
            c = ev->ev[i].entry + 1u;
    return c;
}

/* The acceptable versions of a state: O3 takes [0, hi], O4 [lo, hi].
 * With workload versions, progress counts commands (marks); with trace
 * versions, cuts: what the in-order replay showed at or before the cut. */
static void allowed_versions(const crash_judge *j, const crash_state *st, uint64_t *lo,
                             uint64_t *hi)
{
    const crash_model *m = j->model;

    if (st->final) {
        *lo = *hi = m->nver ? m->nver - 1 : 0;
        return;
    }
    if (j->versions_by_ops) {
        *hi = version_at(m, st->progress.ops_started);
        *lo = version_at(m, st->progress.ops_durable);
    } else {
        *hi = version_at(m, st->cut);
        *lo = version_at(m, last_flush_mark_cut(j->events, st->cut));
    }
    if (*lo > *hi)
        *lo = *hi;
}

/* 1 when the sector at window byte pos equals version k's (and version k
 * reaches that far). */
static int sector_is(const crash_model *m, size_t k, const uint8_t *got, uint64_t pos,
                     uint64_t lbyte)
{
    return lbyte + SECTOR <= m->vsize[k] && memcmp(got, m->ver[k] + pos, SECTOR) == 0;
}

/* Where sector s (byte pos in the window) first matches a version:
 * returns the lowest k in [0, hi] that matches, or SIZE_MAX; *in_range a
 * matching k in [lo, hi], or SIZE_MAX.  *hint is the version the previous
 * sector matched, tried first with hi (neighbours usually agree). */
static size_t sector_match(const crash_model *m, const uint8_t *got, uint64_t pos,
                           uint64_t lbyte, uint64_t lo, uint64_t hi, size_t *in_range,
                           size_t *hint)
{
    size_t first = SIZE_MAX;

    if (*hint >= lo && *hint <= hi && sector_is(m, *hint, got, pos, lbyte)) {
        *in_range = *hint;
        return *hint;                  /* some k matched; O3 needs only that */
    }
    if (sector_is(m, hi, got, pos, lbyte)) {
        *in_range = *hint = hi;
        return hi;
    }
    *in_range = SIZE_MAX;
    for (size_t k = 0; k <= hi && k < m->nver; k++) {
        if (lbyte + SECTOR > m->vsize[k] || memcmp(got, m->ver[k] + pos, SECTOR) != 0)
            continue;
        if (first == SIZE_MAX)
            first = k;
        if (k >= lo) {                 /* k <= hi: the loop bound */
            *in_range = *hint = k;
            break;
        }
    }
    return first;
}

/* The first byte where two sectors differ (SECTOR when none does). */
static size_t first_difference(const uint8_t *a, const uint8_t *b)
{
    size_t i = 0;

    while (i < SECTOR && a[i] == b[i])
        i++;
    return i < SECTOR ? i : 0;
}

/* O3 and O4 over the window, sector by sector (the window is whole
 * clusters, so whole sectors). */
static int oracle_o3_o4_window(crash_judge *j, crash_state *st, uint64_t size, uint64_t lo,
                               uint64_t hi)
{
    const crash_model *m = j->model;
    uint64_t pos = 0;
    size_t hint = (size_t)hi;

    if (m->vsize[hi] == size && memcmp(j->window, m->ver[hi], (size_t)m->wtotal) == 0)
        return 1;                      /* the whole window is the latest version */
    for (size_t r = 0; r < m->nwin; r++) {
        for (uint64_t o = 0; o < m->wlen[r]; o += SECTOR, pos += SECTOR) {
            uint64_t lbyte = m->woff[r] + o;
            size_t in_range, first;
            if (lbyte + SECTOR > size)
                continue;
            first = sector_match(m, j->window + pos, pos, lbyte, lo, hi, &in_range, &hint);
            if (first == SIZE_MAX) {
                size_t b = first_difference(j->window + pos, m->ver[hi] + pos);
                return violate(j, 3, st, "logical sector %" PRIu64 " (byte %" PRIu64 ") "
                               "holds bytes the workload never had there: byte %" PRIu64
                               " is 0x%02x, version %" PRIu64 " (the latest acceptable, "
                               "0..%" PRIu64 ") has 0x%02x", lbyte / SECTOR, lbyte,
                               lbyte + b, j->window[pos + b], hi, hi, m->ver[hi][pos + b]);
            }
            if (in_range == SIZE_MAX && j->o4_checked)
                return violate(j, 4, st, "logical sector %" PRIu64 " (byte %" PRIu64 ") "
                               "lost data a completed flush had acknowledged (it holds "
                               "version %zu; a completed flush requires %" PRIu64 "..%" PRIu64
                               ")", lbyte / SECTOR, lbyte, first, lo, hi);
        }
    }
    return 1;
}

/* 1 when [a, a+n) overlaps no window range. */
static uint64_t outside_window(const crash_model *m, uint64_t a, uint64_t n, uint64_t *len)
{
    for (size_t r = 0; r < m->nwin; r++) {
        uint64_t b = m->woff[r], e = b + m->wlen[r];
        if (a >= e)
            continue;
        if (a >= b) {                          /* inside: skip to its end */
            *len = 0;
            return e - a < n ? e - a : n;
        }
        *len = b - a < n ? b - a : n;          /* outside until the range starts */
        return *len;
    }
    *len = n;
    return n;
}

/* Compare [a, a+n) of the recovered image with the initial disk. */
static int same_as_initial(crash_judge *j, crash_state *st, qed_image *img, uint64_t a,
                           uint64_t n)
{
    uint64_t isize = qed_get_header(j->initial)->image_size;
    size_t cs = qed_get_header(img)->cluster_size;

    while (n > 0 && a < isize) {
        size_t k = (size_t)(n < cs ? n : cs);
        if (k > isize - a)
            k = (size_t)(isize - a);
        if (qed_read(img, a, j->sector, k) != QED_OK ||
            qed_read(j->initial, a, j->sector + cs, k) != QED_OK)
            return violate(j, 3, st, "bytes %" PRIu64 "..%" PRIu64 " cannot be read", a, a + k);
        for (size_t i = 0; i < k; i += SECTOR)
            if (memcmp(j->sector + i, j->sector + cs + i, k - i < SECTOR ? k - i : SECTOR))
                return violate(j, 3, st, "logical sector %" PRIu64 " (byte %" PRIu64 "), "
                               "which no command wrote, changed: a cluster was allocated "
                               "where the workload never wrote", (a + i) / SECTOR, a + i);
        a += k;
        n -= k;
    }
    return 1;
}

/* O3 no foreign data and O4 durability, on the recovered image: the
 * window sector by sector, and every cluster the image allocates outside
 * the window must read as the initial disk. */
static int oracle_o3_o4(crash_judge *j, crash_state *st, qed_image *img)
{
    const crash_model *m = j->model;
    uint64_t size = qed_get_header(img)->image_size, lo, hi, off = 0;
    int size_ok = 0, ret;

    allowed_versions(j, st, &lo, &hi);
    for (size_t k = 0; k <= hi && k < m->nver; k++)
        size_ok |= m->vsize[k] == size;
    if (!size_ok)
        return violate(j, 3, st, "image_size %" PRIu64 " is the size of no state of the "
                       "workload", size);
    if ((ret = read_window(m, img, size, j->window)) != QED_OK)
        return violate(j, 3, st, "the recovered image cannot be read: %s", qed_strerror(ret));
    if (!oracle_o3_o4_window(j, st, size, lo, hi))
        return 0;
    while (off < size) {
        qed_extent e;
        uint64_t a, n, run;
        if ((ret = qed_map(img, off, size - off, &e)) != QED_OK)
            return violate(j, 3, st, "map fails at byte %" PRIu64 ": %s", off, qed_strerror(ret));
        for (a = e.start; e.depth == 0 && (e.flags & QED_MAP_PRESENT) &&
                          a < e.start + e.length; a += n) {
            n = outside_window(m, a, e.start + e.length - a, &run);
            if (run && !same_as_initial(j, st, img, a, run))
                return 0;
        }
        off = e.start + e.length;
    }
    return 1;
}

/* O5 final state: the whole trace, as it stands, is a clean image (NEED_CHECK
 * clear, no corruption) holding exactly the workload's result. */
static int oracle_o5_final_state(crash_judge *j, crash_state *st)
{
    qed_io *io = NULL;
    qed_image *img = NULL;
    qed_check_result res;
    int ret;

    if ((ret = view_new(st->file->data, st->file->len, &io)) != QED_OK)
        return ret;
    ret = crash_open_image(j->disk, io, 0, &img);
    if (ret != QED_OK) {
        qed_io_close(io);
        return violate(j, 5, st, "the final image cannot be opened: %s", qed_strerror(ret));
    }
    if (qed_get_header(img)->features & QED_F_NEED_CHECK)
        ret = violate(j, 5, st, "the final image still has NEED_CHECK set: the session "
                      "did not end cleanly (WR-4)");
    else if ((ret = qed_check(img, QED_REPAIR_NONE, &res)) != QED_OK || res.corruptions)
        ret = violate(j, 5, st, "the final image is not consistent (%" PRIu64 " corruptions)",
                      ret == QED_OK ? res.corruptions : 0);
    else
        ret = oracle_o3_o4(j, st, img);
    qed_close(img);
    qed_io_close(io);
    return ret;
}

/* ------------------------------------------------------------------ */
/* 4. Judging one state                                                */
/* ------------------------------------------------------------------ */

/* Violations recorded so far, all oracles. */
static uint64_t violations(const crash_judge *j)
{
    return j->by_oracle[1] + j->by_oracle[2] + j->by_oracle[3] + j->by_oracle[4] +
           j->by_oracle[5];
}

int crash_judge_state(void *judge, crash_state *st)
{
    crash_judge *j = judge;
    uint64_t before = violations(j);
    qed_io *io = NULL;
    qed_image *img = NULL;
    int ok;

    j->states++;
    j->checked_clean = 0;
    if (st->final && oracle_o5_final_state(j, st) < 0)
        return QED_ERR_NOMEM;
    if (oracle_o2_dirty_bit(j, st) < 0)
        return QED_ERR_NOMEM;
    ok = oracle_o1_recovery(j, st, &io, &img);
    if (ok < 0)
        return ok;
    if (ok && !st->final && oracle_o3_o4(j, st, img) < 0)
        return QED_ERR_NOMEM;
    qed_close(img);
    qed_io_close(io);
    if (violations(j) != before)
        j->failed_states++;
    return 0;
}

/* The initial image's L1 entries, for WR-2's "changed since" test. */
static int load_initial_l1(crash_judge *j)
{
    const qed_header *h = qed_get_header(j->initial);
    uint64_t tb = (uint64_t)h->cluster_size * h->table_size;

    j->initial_l1_n = (size_t)(tb / 8);
    j->initial_l1 = malloc((size_t)tb);
    if (!j->initial_l1)
        return QED_ERR_NOMEM;
    for (size_t i = 0; i < j->initial_l1_n; i++)
        j->initial_l1[i] = le64(j->disk->image + h->l1_table_offset + i * 8);
    return QED_OK;
}

int crash_judge_init(crash_judge *j, const crash_disk *d, const crash_model *m,
                     const crash_events *ev, char *err, size_t errlen)
{
    int ret;

    memset(j, 0, sizeof *j);
    j->disk = d;
    j->model = m;
    j->events = ev;
    j->o4_checked = ev->has_flush_marks;
    if ((ret = view_new(d->image, d->image_len, &j->initial_io)) != QED_OK)
        return ret;
    ret = crash_open_image(d, j->initial_io, 0, &j->initial);
    if (ret != QED_OK) {
        snprintf(err, errlen, "the initial image cannot be opened: %s", qed_strerror(ret));
        crash_judge_free(j);
        return ret;
    }
    j->window = malloc(m->wtotal ? (size_t)m->wtotal : 1);
    j->sector = malloc(2 * (size_t)qed_get_header(j->initial)->cluster_size);
    if (!j->window || !j->sector || load_initial_l1(j) != QED_OK) {
        crash_judge_free(j);
        return QED_ERR_NOMEM;
    }
    return QED_OK;
}

void crash_judge_free(crash_judge *j)
{
    qed_close(j->initial);
    qed_io_close(j->initial_io);
    free(j->window);
    free(j->sector);
    free(j->initial_l1);
    j->initial = NULL;
    j->initial_io = NULL;
    j->window = j->sector = NULL;
    j->initial_l1 = NULL;
}

void crash_violation_print(FILE *f, const crash_violation *v)
{
    fprintf(f, "%s state %s: %s (%s)\n", v->oracle, v->state, v->what, v->rules);
}
