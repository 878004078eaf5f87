/*
 * explore.c - the crash-state explorer (explore.h; spec section 9).
 *
 * Laid out in the order of the model:
 *   1. events: trace entries as the model sees them (writes, zeroes,
 *      lengths, flushes, workload marks)
 *   2. the file in memory (crash_buf) and its qed_io
 *   3. progress: what the workload had done at a cut
 *   4. states: one epoch at a time, every cut, every subset of the epoch's
 *      writes (exhaustive up to max_subset, a seeded sample beyond), torn
 *      writes
 *   5. building one named state (--save-state)
 *
 * Invariants the loops keep (numbered so the code can cite them):
 *   E1  `base` holds the file after every event before the open epoch's
 *       opening flush, in trace order: what is durable at any cut of it.
 *   E2  a state applies base, then the epoch's events issued before the
 *       cut, in trace order: forced (FUA) ones always, the others when
 *       their bit is in the subset; a torn write applies only its part.
 *   E3  every state is named by its id alone: crash_build_state(id) builds
 *       the same bytes the exploration judged.
 */
#include "explore.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------ */
/* 1. Events                                                           */
/* ------------------------------------------------------------------ */

/* Linux fallocate(2) mode bits the model understands. */
#define FALLOC_KEEP_SIZE   0x01u
#define FALLOC_PUNCH_HOLE  0x02u
#define FALLOC_ZERO_RANGE  0x10u

/* Parse the decimal or hex number s[0..n) into *v; 0 or -1. */
static int parse_num(const char *s, size_t n, int hex, uint64_t *v)
{
    uint64_t x = 0;
    unsigned base = hex ? 16 : 10;

    if (n == 0 || n > 20)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned d;
        if (s[i] >= '0' && s[i] <= '9') d = (unsigned)(s[i] - '0');
        else if (hex && s[i] >= 'a' && s[i] <= 'f') d = (unsigned)(s[i] - 'a' + 10);
        else if (hex && s[i] >= 'A' && s[i] <= 'F') d = (unsigned)(s[i] - 'A' + 10);
        else return -1;
        if (x > (UINT64_MAX - d) / base)
            return -1;
        x = x * base + d;
    }
    *v = x;
    return 0;
}

/* Split s[0..n) at ':' into up to max fields; returns the field count. */
static size_t split_fields(const char *s, size_t n, const char **f, size_t *fl, size_t max)
{
    size_t count = 0, start = 0;

    for (size_t i = 0; i <= n && count < max; i++) {
        if (i == n || s[i] == ':') {
            f[count] = s + start;
            fl[count++] = i - start;
            start = i + 1;
        }
    }
    return count;
}

/* Append an event; QED_OK or QED_ERR_NOMEM. */
static int push_event(crash_events *out, size_t *cap, const crash_event *e)
{
    if (out->count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        crash_event *n = realloc(out->ev, ncap * sizeof *n);
        if (!n)
            return QED_ERR_NOMEM;
        out->ev = n;
        *cap = ncap;
    }
    out->ev[out->count++] = *e;
    return QED_OK;
}

/* A "fallocate:MODE:OFF:LEN" mark as an event (spec section 9, trace
 * encodings); -1 for a mode the model cannot apply. */
static int fallocate_event(const char *s, size_t n, crash_event *e)
{
    const char *f[3];
    size_t fl[3];
    uint64_t mode, off, len;

    if (split_fields(s, n, f, fl, 3) != 3 || parse_num(f[0], fl[0], 1, &mode) < 0 ||
        parse_num(f[1], fl[1], 0, &off) < 0 || parse_num(f[2], fl[2], 0, &len) < 0 ||
        off > CRASH_MAX_FILE || len > CRASH_MAX_FILE - off)
        return -1;
    e->off = off;
    e->len = len;
    if (mode == 0) {                                   /* allocate: length only */
        e->kind = EV_EXTEND;
        e->off = off + len;
    } else if (mode == FALLOC_KEEP_SIZE) {
        e->kind = EV_MARK_OTHER;                       /* no visible change */
    } else if (mode == (FALLOC_PUNCH_HOLE | FALLOC_KEEP_SIZE) ||
               mode == (FALLOC_ZERO_RANGE | FALLOC_KEEP_SIZE)) {
        e->kind = EV_ZERO;                             /* zeroes, length kept */
    } else if (mode == FALLOC_ZERO_RANGE) {
        e->kind = EV_ZERO;                             /* zeroes, may extend */
    } else {
        return -1;
    }
    return 0;
}

/* Classify one MARK entry's text into *e; -1 with err on a refused or
 * malformed mark. */
static int mark_event(const qed_trace_entry *t, crash_event *e, char *err, size_t errlen)
{
    const char *rest;
    size_t n;

    e->kind = EV_MARK_OTHER;
    if (qed_trace_mark_prefix(t, "refused:", &rest, &n)) {
        snprintf(err, errlen, "entry %" PRIu64 ": the recorder refused to model '%.*s': "
                 "this trace cannot be judged", t->index, (int)(n > 200 ? 200 : n), rest);
        return -1;
    }
    if (qed_trace_mark_prefix(t, "op:", &rest, &n))
        e->kind = EV_MARK_OP;
    else if (qed_trace_mark_prefix(t, "flush:", &rest, &n))
        e->kind = EV_MARK_FLUSH;
    else if (qed_trace_mark_prefix(t, "truncate:", &rest, &n))
        e->kind = EV_SETLEN;
    else if (qed_trace_mark_prefix(t, "fallocate:", &rest, &n)) {
        if (fallocate_event(rest, n, e) == 0)
            return 0;
        snprintf(err, errlen, "entry %" PRIu64 ": mark text: fallocate mode or range "
                 "the model cannot apply", t->index);
        return -1;
    } else
        return 0;
    if (parse_num(rest, n, 0, e->kind == EV_SETLEN ? &e->off : &e->n) < 0 ||
        (e->kind == EV_SETLEN && e->off > CRASH_MAX_FILE)) {
        snprintf(err, errlen, "entry %" PRIu64 ": mark text: malformed number in '%.*s'",
                 t->index, (int)(n > 60 ? 60 : n), rest);
        return -1;
    }
    return 0;
}

/* A write or discard entry as an event; -1 with err past CRASH_MAX_FILE. */
static int data_event(const qed_trace_entry *t, uint32_t ss, crash_event *e,
                      char *err, size_t errlen)
{
    /* qed_trace_parse checked that sector and nr_sectors times ss fit */
    uint64_t off = t->sector * ss, len = t->nr_sectors * ss;

    if (off > CRASH_MAX_FILE || len > CRASH_MAX_FILE - off) {
        snprintf(err, errlen, "entry %" PRIu64 ": sector: the write ends past the "
                 "explorer's %" PRIu64 "-byte file limit", t->index, CRASH_MAX_FILE);
        return -1;
    }
    e->off = off;
    e->len = len;
    e->sectors = (uint32_t)(t->nr_sectors > UINT32_MAX ? UINT32_MAX : t->nr_sectors);
    if (t->flags & QED_TRACE_DISCARD) {
        e->kind = EV_ZERO;
    } else {
        e->kind = EV_WRITE;
        e->data = t->data;
        e->forced = (t->flags & QED_TRACE_FUA) != 0;
    }
    return 0;
}

/* The events of one entry (a flush with data is a preflush, then the write). */
static int entry_events(const qed_trace_entry *t, uint32_t ss, crash_events *out,
                        size_t *cap, char *err, size_t errlen)
{
    crash_event e;
    int ret;

    memset(&e, 0, sizeof e);
    e.entry = (uint32_t)t->index;
    if (t->flags & QED_TRACE_MARK) {
        if (mark_event(t, &e, err, errlen) < 0)
            return QED_ERR_INVAL;
        out->has_op_marks |= e.kind == EV_MARK_OP;
        out->has_flush_marks |= e.kind == EV_MARK_FLUSH;
        return push_event(out, cap, &e);
    }
    if (t->flags & QED_TRACE_FLUSH) {
        crash_event f = e;
        f.kind = EV_FLUSH;
        if ((ret = push_event(out, cap, &f)) != QED_OK)
            return ret;
    }
    if (t->nr_sectors == 0)
        return QED_OK;
    if (data_event(t, ss, &e, err, errlen) < 0)
        return QED_ERR_INVAL;
    return push_event(out, cap, &e);
}

int crash_events_from_trace(const qed_trace *t, crash_events *out, char *err, size_t errlen)
{
    size_t cap = 0;
    char dummy[8];

    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    memset(out, 0, sizeof *out);
    if (t->count > UINT32_MAX) {
        snprintf(err, errlen, "superblock: nr_entries %" PRIu64 " is more than the explorer "
                 "handles", t->count);
        return QED_ERR_INVAL;
    }
    out->entries = (size_t)t->count;
    out->sector_size = t->sector_size;
    for (uint64_t i = 0; i < t->count; i++) {
        int ret = entry_events(&t->entries[i], t->sector_size, out, &cap, err, errlen);
        if (ret != QED_OK) {
            crash_events_free(out);
            return ret;
        }
    }
    return QED_OK;
}

void crash_events_free(crash_events *e)
{
    if (!e)
        return;
    free(e->ev);
    memset(e, 0, sizeof *e);
}

/* ------------------------------------------------------------------ */
/* 2. The file in memory                                               */
/* ------------------------------------------------------------------ */

/* Make room for need bytes; QED_OK, QED_ERR_NOSPC past the limit, NOMEM. */
static int buf_reserve(crash_buf *b, uint64_t need)
{
    size_t cap;
    uint8_t *p;

    if (need > CRASH_MAX_FILE)
        return QED_ERR_NOSPC;
    if (need <= b->cap)
        return QED_OK;
    cap = b->cap ? b->cap : 65536;
    while (cap < need)
        cap *= 2;
    p = realloc(b->data, cap);
    if (!p)
        return QED_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return QED_OK;
}

/* Set the length; new bytes read as zeroes. */
static int buf_set_length(crash_buf *b, uint64_t len)
{
    int ret = buf_reserve(b, len);

    if (ret != QED_OK)
        return ret;
    if (len > b->len)
        memset(b->data + b->len, 0, (size_t)len - b->len);
    b->len = (size_t)len;
    return QED_OK;
}

int crash_buf_resize(crash_buf *b, uint64_t len)
{
    return buf_set_length(b, len);
}

int crash_buf_set(crash_buf *b, const uint8_t *src, size_t len)
{
    int ret = buf_reserve(b, len);

    if (ret != QED_OK)
        return ret;
    if (len)
        memcpy(b->data, src, len);
    b->len = len;
    return QED_OK;
}

/* DIR/NAME or NAME into out; 0, or -1 when it does not fit. */
static int join_path(char *out, size_t cap, const char *dir, const char *name)
{
    int n = dir ? snprintf(out, cap, "%s/%s", dir, name) : snprintf(out, cap, "%s", name);

    if (n < 0 || (size_t)n >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int crash_buf_load(crash_buf *b, const char *dir, const char *name)
{
    char path[4096];
    struct stat st;
    FILE *f;
    int ret = QED_OK;

    if (join_path(path, sizeof path, dir, name) < 0 || !(f = fopen(path, "rb")))
        return QED_ERR_IO;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size > CRASH_MAX_FILE) {
        int why = S_ISDIR(st.st_mode) ? EISDIR : S_ISREG(st.st_mode) ? EFBIG : EINVAL;
        fclose(f);
        errno = why;
        return QED_ERR_IO;
    }
    if ((ret = buf_set_length(b, (uint64_t)st.st_size)) == QED_OK &&
        fread(b->data, 1, b->len, f) != b->len) {
        errno = ferror(f) ? EIO : EINVAL;         /* shorter than fstat said */
        ret = QED_ERR_IO;
    }
    fclose(f);
    return ret;
}

int crash_buf_save(const char *dir, const char *name, const void *data, size_t len)
{
    char path[4096];
    FILE *f;

    if (join_path(path, sizeof path, dir, name) < 0 || !(f = fopen(path, "wb")))
        return QED_ERR_IO;
    if (len && fwrite(data, 1, len, f) != len) {
        int why = errno;
        fclose(f);
        errno = why;
        return QED_ERR_IO;
    }
    return fclose(f) == 0 ? QED_OK : QED_ERR_IO;
}

void crash_buf_free(crash_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* Store len bytes (zeroes when src is NULL) at off, growing the file. */
static int buf_store(crash_buf *b, uint64_t off, const uint8_t *src, uint64_t len)
{
    int ret;

    if (len == 0)
        return QED_OK;
    if (off > CRASH_MAX_FILE || len > CRASH_MAX_FILE - off)
        return QED_ERR_NOSPC;
    if (off + len > b->len && (ret = buf_set_length(b, off + len)) != QED_OK)
        return ret;
    if (src)
        memcpy(b->data + off, src, (size_t)len);
    else
        memset(b->data + off, 0, (size_t)len);
    return QED_OK;
}

/* Apply bytes [skip, skip+len) of event e (a whole event: 0, e->len). */
static int apply_part(crash_buf *b, const crash_event *e, uint64_t skip, uint64_t len)
{
    switch (e->kind) {
    case EV_WRITE:
        return buf_store(b, e->off + skip, e->data + skip, len);
    case EV_ZERO:
        return buf_store(b, e->off + skip, NULL, len);
    case EV_SETLEN:
        return buf_set_length(b, e->off);
    case EV_EXTEND:
        return e->off > b->len ? buf_set_length(b, e->off) : QED_OK;
    default:
        return QED_OK;
    }
}

int crash_apply(crash_buf *b, const crash_event *e)
{
    return apply_part(b, e, 0, e->len);
}

typedef struct buf_io {
    qed_io io;          /* must be first */
    crash_buf *b;
    int writable;
} buf_io;

static int bio_read(qed_io *io, uint64_t off, void *dst, size_t len)
{
    crash_buf *b = ((buf_io *)io)->b;

    if (off > b->len || len > b->len - off)
        return QED_ERR_EOF;
    if (len)
        memcpy(dst, b->data + off, len);
    return QED_OK;
}

static int bio_write(qed_io *io, uint64_t off, const void *src, size_t len)
{
    buf_io *w = (buf_io *)io;

    return w->writable ? buf_store(w->b, off, src, len) : QED_ERR_RDONLY;
}

static int bio_flush(qed_io *io)
{
    (void)io;
    return QED_OK;
}

static int bio_length(qed_io *io, uint64_t *len)
{
    *len = ((buf_io *)io)->b->len;
    return QED_OK;
}

static int bio_truncate(qed_io *io, uint64_t len)
{
    buf_io *w = (buf_io *)io;

    return w->writable ? buf_set_length(w->b, len) : QED_ERR_RDONLY;
}

static void bio_close(qed_io *io)
{
    free(io);
}

int crash_buf_io(crash_buf *b, int writable, qed_io **out)
{
    static const qed_io ops = { bio_read, bio_write, bio_flush, bio_length,
                                bio_truncate, bio_close };
    buf_io *w = malloc(sizeof *w);

    if (!w)
        return QED_ERR_NOMEM;
    w->io = ops;
    w->b = b;
    w->writable = writable;
    *out = &w->io;
    return QED_OK;
}

/* ------------------------------------------------------------------ */
/* 3. Progress                                                         */
/* ------------------------------------------------------------------ */

/* O4 counts only what a completed workload flush acknowledged (flush:N
 * marks); the writer's own flushes acknowledge nothing to the workload. */
crash_progress crash_progress_at(const crash_events *ev, size_t cut)
{
    crash_progress p = { ev->has_op_marks ? 0 : UINT64_MAX, 0 };
    uint64_t current_op = 0;

    for (size_t i = 0; i < ev->count && ev->ev[i].entry < cut; i++) {
        const crash_event *e = &ev->ev[i];
        if (e->kind == EV_MARK_OP) {
            current_op = e->n;
            if (ev->has_op_marks)
                p.ops_started = e->n + 1;
        } else if (e->kind == EV_MARK_FLUSH) {
            p.ops_durable = current_op;    /* ops before the flush command */
        }
    }
    return p;
}

/* ------------------------------------------------------------------ */
/* 4. States                                                           */
/* ------------------------------------------------------------------ */

static int persists(const crash_event *e)
{
    return e->kind == EV_WRITE || e->kind == EV_ZERO || e->kind == EV_SETLEN ||
           e->kind == EV_EXTEND;
}

/* A subset of an epoch's writes: one bit per write, any number of writes. */
typedef struct subset {
    uint64_t *w;
    size_t nbits;
} subset;

static int subset_has(const subset *s, size_t i)
{
    return i < s->nbits && ((s->w[i / 64] >> (i % 64)) & 1u);
}

static void subset_put(subset *s, size_t i, int on)
{
    if (on)
        s->w[i / 64] |= (uint64_t)1 << (i % 64);
    else
        s->w[i / 64] &= ~((uint64_t)1 << (i % 64));
}

static void subset_clear(subset *s)
{
    memset(s->w, 0, ((s->nbits + 63) / 64) * sizeof *s->w);
}

/* Hex of s's first nbits bits, most significant digit first. */
static void subset_hex(const subset *s, size_t nbits, char *out, size_t cap)
{
    size_t digits = nbits ? (nbits + 3) / 4 : 1, o = 0;

    for (size_t d = digits; d-- > 0 && o + 1 < cap;) {
        unsigned v = 0;
        for (unsigned b = 0; b < 4; b++)
            v |= (unsigned)subset_has(s, d * 4 + b) << b;
        out[o++] = "0123456789abcdef"[v];
    }
    out[o] = '\0';
}

/* One open epoch: its events, the durable base, the judge's callback. */
typedef struct epoch {
    const crash_events *ev;
    size_t first, end;      /* events [first, end): after the opening flush */
    size_t *writes;         /* event indexes of the non-forced persisting events */
    size_t nwrites;
    crash_buf *base;        /* E1 */
    crash_buf *scratch;
    crash_state_fn fn;
    void *ctx;
    crash_explore_stats *stats;
    subset mask;
} epoch;

/* Torn part of a write of s sectors (mode 'f', 'l', 'm'): sectors [*a, *b). */
static void torn_range(uint32_t s, char mode, uint32_t *a, uint32_t *b)
{
    if (mode == 'f') { *a = 0; *b = 1; }
    else if (mode == 'l') { *a = s - 1; *b = s; }
    else if (s >= 4) { *a = s / 4; *b = s - s / 4; }
    else { *a = s / 2; *b = s / 2 + 1; }
}

/* Build into st->file the state at cut with the subset (E2); torn_w is the
 * epoch write ordinal torn in mode torn_mode (or SIZE_MAX). */
static int build(epoch *ep, size_t cut, const subset *s, int all, size_t torn_w,
                 char torn_mode)
{
    size_t ord = 0;
    int ret = crash_buf_set(ep->scratch, ep->base->data, ep->base->len);

    for (size_t i = ep->first; ret == QED_OK && i < ep->end && ep->ev->ev[i].entry < cut; i++) {
        const crash_event *e = &ep->ev->ev[i];
        if (!persists(e))
            continue;
        if (e->forced) {
            ret = crash_apply(ep->scratch, e);
            continue;
        }
        if (ord == torn_w) {
            uint32_t a, b;
            uint64_t ss = ep->ev->sector_size;
            torn_range(e->sectors, torn_mode, &a, &b);
            ret = apply_part(ep->scratch, e, a * ss, (uint64_t)(b - a) * ss);
        } else if (all || subset_has(s, ord)) {
            ret = crash_apply(ep->scratch, e);
        }
        ord++;
    }
    return ret;
}

/* Writes of the epoch issued before cut. */
static size_t writes_before(const epoch *ep, size_t cut)
{
    size_t n = 0;
    while (n < ep->nwrites && ep->ev->ev[ep->writes[n]].entry < cut)
        n++;
    return n;
}

/* Build and judge one state. */
static int judge(epoch *ep, size_t cut, const subset *s, int all, size_t torn_w,
                 char torn_mode, uint64_t *counter)
{
    crash_state st;
    char hex[144], torn[24];
    int ret = build(ep, cut, s, all, torn_w, torn_mode);

    if (ret != QED_OK)
        return ret;
    if (all)
        snprintf(hex, sizeof hex, "all");
    else
        subset_hex(s, writes_before(ep, cut), hex, sizeof hex);
    if (torn_w == SIZE_MAX)
        snprintf(torn, sizeof torn, "-");
    else
        snprintf(torn, sizeof torn, "%zu%c", torn_w, torn_mode);
    memset(&st, 0, sizeof st);
    snprintf(st.id, sizeof st.id, "%zu:%s:%s", cut, hex, torn);
    st.cut = cut;
    st.final = all && torn_w == SIZE_MAX && cut == ep->ev->entries;
    st.progress = crash_progress_at(ep->ev, cut);
    st.file = ep->scratch;
    ep->stats->states++;
    (*counter)++;
    return ep->fn(ep->ctx, &st);
}

/* Every cut of the epoch with all its issued writes persisted; a cut right
 * after a mark that changes nothing the oracles look at is skipped. */
static int epoch_cuts(epoch *ep, size_t cut_lo, size_t cut_hi)
{
    for (size_t cut = cut_lo; cut <= cut_hi; cut++) {
        int ret;
        if (cut > cut_lo) {
            size_t i = ep->first;
            while (i < ep->end && ep->ev->ev[i].entry < cut - 1)
                i++;
            if (i < ep->end && ep->ev->ev[i].entry == cut - 1 &&
                ep->ev->ev[i].kind == EV_MARK_OTHER)
                continue;
        }
        if ((ret = judge(ep, cut, NULL, 1, SIZE_MAX, 0, &ep->stats->cuts)) != 0)
            return ret;
    }
    return 0;
}

/* Highest set bit of s below n, or SIZE_MAX when none. */
static size_t top_bit(const subset *s, size_t n)
{
    for (size_t i = n; i-- > 0;)
        if (subset_has(s, i))
            return i;
    return SIZE_MAX;
}

/* 1 when s's bits are exactly 0..top (a prefix: already judged as a cut). */
static int is_prefix(const subset *s, size_t top)
{
    for (size_t i = 0; i <= top; i++)
        if (!subset_has(s, i))
            return 0;
    return 1;
}

/* Judge the state of subset s at the earliest cut it can occur: right
 * after its last write was issued (the strictest obligations). */
static int judge_subset(epoch *ep, const subset *s)
{
    size_t top = top_bit(s, ep->nwrites);

    if (top == SIZE_MAX || is_prefix(s, top))
        return 0;
    return judge(ep, ep->ev->ev[ep->writes[top]].entry + 1u, s, 0, SIZE_MAX, 0,
                 &ep->stats->subset_states);
}

/* Every subset of a small epoch. */
static int epoch_subsets_all(epoch *ep)
{
    uint64_t n = (uint64_t)1 << ep->nwrites;

    for (uint64_t m = 1; m < n; m++) {
        int ret;
        ep->mask.w[0] = m;
        if ((ret = judge_subset(ep, &ep->mask)) != 0)
            return ret;
    }
    return 0;
}

/* splitmix64: the sampler's generator. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A seeded sample of the subsets of a large epoch. */
static int epoch_subsets_sample(epoch *ep, const crash_explore_opts *o, uint64_t index)
{
    uint64_t rng = o->seed ^ (index * 0x2545f4914f6cdd1dull);
    uint64_t before = ep->stats->subset_states;
    int ret = 0;

    ep->stats->sampled_epochs++;
    for (unsigned k = 0; k < o->samples && ret == 0; k++) {
        subset_clear(&ep->mask);
        for (size_t i = 0; i < ep->nwrites; i++)
            subset_put(&ep->mask, i, next_random(&rng) & 1u);
        ret = judge_subset(ep, &ep->mask);
    }
    ep->stats->sampled_states += ep->stats->subset_states - before;
    return ret;
}

/* Torn versions of every multi-sector write of the epoch: after its
 * predecessors, alone, and with the whole epoch (cut_hi). */
static int epoch_torn(epoch *ep, size_t cut_hi)
{
    static const char modes[3] = { 'f', 'l', 'm' };

    for (size_t w = 0; w < ep->nwrites; w++) {
        const crash_event *e = &ep->ev->ev[ep->writes[w]];
        if (e->kind != EV_WRITE || e->sectors < 2)
            continue;
        for (int m = 0; m < 3; m++) {
            size_t cut = e->entry + 1u;
            int ret;
            subset_clear(&ep->mask);
            for (size_t i = 0; i < w; i++)
                subset_put(&ep->mask, i, 1);
            if ((ret = judge(ep, cut, &ep->mask, 0, w, modes[m], &ep->stats->torn_states)))
                return ret;
            subset_clear(&ep->mask);
            if (w > 0 && (ret = judge(ep, cut, &ep->mask, 0, w, modes[m],
                                      &ep->stats->torn_states)))
                return ret;
            if (cut_hi > cut && (ret = judge(ep, cut_hi, NULL, 1, w, modes[m],
                                             &ep->stats->torn_states)))
                return ret;
        }
    }
    return 0;
}

/* Collect the non-forced persisting events of [first, end). */
static int epoch_collect(epoch *ep)
{
    size_t n = 0;

    for (size_t i = ep->first; i < ep->end; i++)
        n += persists(&ep->ev->ev[i]) && !ep->ev->ev[i].forced;
    ep->writes = malloc((n ? n : 1) * sizeof *ep->writes);
    ep->mask.nbits = n;
    ep->mask.w = calloc((n + 63) / 64 + 1, sizeof *ep->mask.w);
    if (!ep->writes || !ep->mask.w)
        return QED_ERR_NOMEM;
    ep->nwrites = 0;
    for (size_t i = ep->first; i < ep->end; i++)
        if (persists(&ep->ev->ev[i]) && !ep->ev->ev[i].forced)
            ep->writes[ep->nwrites++] = i;
    return QED_OK;
}

/* Every state of one epoch; cut_lo..cut_hi are the cuts whose open epoch
 * it is. */
static int explore_epoch(epoch *ep, const crash_explore_opts *o, uint64_t index,
                         size_t cut_lo, size_t cut_hi)
{
    int ret = epoch_collect(ep);

    if (ret == QED_OK) {
        ep->stats->epochs++;
        if (ep->nwrites > ep->stats->largest_epoch)
            ep->stats->largest_epoch = ep->nwrites;
        ret = epoch_cuts(ep, cut_lo, cut_hi);
    }
    if (ret == 0)
        ret = ep->nwrites <= o->max_subset ? epoch_subsets_all(ep)
                                           : epoch_subsets_sample(ep, o, index);
    if (ret == 0 && !o->no_torn)
        ret = epoch_torn(ep, cut_hi);
    free(ep->writes);
    free(ep->mask.w);
    ep->writes = NULL;
    ep->mask.w = NULL;
    return ret;
}

/* Apply events [first, end) to the base (E1: the epoch became durable). */
static int advance_base(epoch *ep)
{
    for (size_t i = ep->first; i < ep->end; i++) {
        int ret = crash_apply(ep->base, &ep->ev->ev[i]);
        if (ret != QED_OK)
            return ret;
    }
    return QED_OK;
}

static crash_explore_opts effective_opts(const crash_explore_opts *opts)
{
    crash_explore_opts o = { 12, 1024, 0x5eed, 0 };

    if (opts)
        o = *opts;
    if (o.max_subset > 20)
        o.max_subset = 20;          /* 2^20 states per epoch at most */
    return o;
}

int crash_explore(const crash_events *ev, const uint8_t *init, size_t len,
                  const crash_explore_opts *opts, crash_state_fn fn, void *ctx,
                  crash_explore_stats *stats)
{
    crash_explore_opts o = effective_opts(opts);
    crash_buf base = { 0 }, scratch = { 0 };
    epoch ep = { ev, 0, 0, NULL, 0, &base, &scratch, fn, ctx, stats, { NULL, 0 } };
    size_t cut_lo = 0;
    uint64_t index = 0;
    int ret = crash_buf_set(&base, init, len);

    memset(stats, 0, sizeof *stats);
    while (ret == 0) {
        size_t end = ep.first;
        while (end < ev->count && ev->ev[end].kind != EV_FLUSH)
            end++;
        ep.end = end;
        /* the epoch is open for the cuts up to (not after) its closing flush */
        size_t cut_hi = end < ev->count ? ev->ev[end].entry : ev->entries;
        ret = explore_epoch(&ep, &o, index++, cut_lo, cut_hi);
        if (ret != 0 || end >= ev->count)
            break;
        ret = advance_base(&ep);
        ep.first = end + 1;
        cut_lo = cut_hi + 1;
    }
    crash_buf_free(&base);
    crash_buf_free(&scratch);
    return ret;
}

/* ------------------------------------------------------------------ */
/* 5. One named state                                                  */
/* ------------------------------------------------------------------ */

typedef struct one_state {
    crash_buf *out;
    crash_state *st;
    const char *id;
    int found;
} one_state;

/* The callback that keeps the state named by id. */
static int keep_named(void *ctx, crash_state *st)
{
    one_state *o = ctx;

    if (strcmp(st->id, o->id) != 0)
        return 0;
    o->found = 1;
    *o->st = *st;
    o->st->file = o->out;
    return crash_buf_set(o->out, st->file->data, st->file->len) == QED_OK ? 1 : QED_ERR_NOMEM;
}

/* E3: the exploration itself names the states, so building one by name
 * runs it until that name comes up (states are cheap; this is for
 * reproducing one failure, not a loop). */
int crash_build_state(const crash_events *ev, const uint8_t *init, size_t len,
                      const char *id, const crash_explore_opts *opts, crash_buf *buf,
                      crash_state *st, char *err, size_t errlen)
{
    crash_explore_stats stats;
    one_state o = { buf, st, id, 0 };
    int ret = crash_explore(ev, init, len, opts, keep_named, &o, &stats);

    if (ret < 0)
        return ret;
    if (!o.found) {
        snprintf(err, errlen, "no crash state of this trace has the id '%s' "
                 "(ids are CUT:SUBSET:TORN as crash-check prints them)", id);
        return QED_ERR_INVAL;
    }
    return QED_OK;
}
