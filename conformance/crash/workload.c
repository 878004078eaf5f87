/*
 * workload.c - commands, the bounded workload generator and the initial
 * disks (workload.h).
 *
 *   1. commands: the qemu-io vocabulary (parse and format)
 *   2. the op alphabet, expanded for a geometry
 *   3. the generator: every sequence of up to three ops per configuration
 *   4. initial disks, built with the reference in memory or loaded
 */
#include "workload.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------ */
/* 1. Commands                                                         */
/* ------------------------------------------------------------------ */

/* Parse a qemu-io number: decimal or 0x hex, optional k/M/G/T suffix. */
static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    unsigned shift = 0;

    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno)
        return -1;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: return -1;
    }
    if (*end != '\0' || (shift && v > (UINT64_MAX >> shift)))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

/* Split line into at most max words (in place). */
static size_t split_words(char *line, char **w, size_t max)
{
    size_t n = 0;

    for (char *t = strtok(line, " \t\r\n"); t && n < max; t = strtok(NULL, " \t\r\n"))
        w[n++] = t;
    return n;
}

/* "write [-P B] [-z] OFF LEN" into op. */
static int parse_write(char **w, size_t n, crash_op *op)
{
    size_t i = 1;
    uint64_t pattern = 0xcd;             /* qemu-io's default pattern */

    op->kind = COP_WRITE;
    for (; i < n && w[i][0] == '-'; i++) {
        if (strcmp(w[i], "-z") == 0)
            op->kind = COP_ZERO;
        else if (strcmp(w[i], "-P") == 0 && i + 1 < n && parse_size(w[i + 1], &pattern) == 0 &&
                 pattern <= 0xff)
            i++;
        else if (strcmp(w[i], "-q") != 0)
            return -1;
    }
    op->pattern = (uint8_t)pattern;
    if (n - i != 2 || parse_size(w[i], &op->off) < 0 || parse_size(w[i + 1], &op->len) < 0 ||
        op->len == 0 || op->off > UINT64_MAX - op->len)
        return -1;
    return 0;
}

int crash_op_parse(const char *line, crash_op *op, char *err, size_t errlen)
{
    char copy[256], *w[8];
    size_t n;

    memset(op, 0, sizeof *op);
    op->kind = -1;
    if (strlen(line) >= sizeof copy) {
        snprintf(err, errlen, "command too long: %.40s...", line);
        return QED_ERR_INVAL;
    }
    snprintf(copy, sizeof copy, "%s", line);
    n = split_words(copy, w, 8);
    if (n == 0 || w[0][0] == '#')
        return QED_OK;
    if (strcmp(w[0], "flush") == 0 && n == 1)
        op->kind = COP_FLUSH;
    else if (strcmp(w[0], "truncate") == 0 && n == 2 && parse_size(w[1], &op->off) == 0)
        op->kind = COP_TRUNCATE;
    else if (strcmp(w[0], "write") == 0 && parse_write(w, n, op) == 0)
        return QED_OK;
    else {
        snprintf(err, errlen, "not a command the crash family models: '%s' (write [-P B] "
                 "[-z] OFF LEN, flush, truncate SIZE)", line);
        return QED_ERR_INVAL;
    }
    return QED_OK;
}

void crash_op_format(const crash_op *op, char *out, size_t cap)
{
    switch (op->kind) {
    case COP_WRITE:
        snprintf(out, cap, "write -P 0x%02x %" PRIu64 " %" PRIu64, op->pattern, op->off, op->len);
        break;
    case COP_ZERO:
        snprintf(out, cap, "write -z %" PRIu64 " %" PRIu64, op->off, op->len);
        break;
    case COP_FLUSH:
        snprintf(out, cap, "flush");
        break;
    default:
        snprintf(out, cap, "truncate %" PRIu64, op->off);
        break;
    }
}

int crash_op_apply(qed_image *img, const crash_op *op, uint8_t **buf, size_t *cap)
{
    if (op->kind == COP_WRITE && op->len > *cap) {
        uint8_t *n = realloc(*buf, (size_t)op->len);
        if (!n)
            return QED_ERR_NOMEM;
        *buf = n;
        *cap = (size_t)op->len;
    }
    switch (op->kind) {
    case COP_WRITE:
        memset(*buf, op->pattern, (size_t)op->len);
        return qed_write(img, op->off, *buf, (size_t)op->len);
    case COP_ZERO:
        return qed_write_zeroes(img, op->off, op->len);
    case COP_FLUSH:
        return qed_flush(img);
    case COP_TRUNCATE:
        return qed_resize(img, op->off);
    default:
        return QED_ERR_INVAL;
    }
}

/* ------------------------------------------------------------------ */
/* 2. The op alphabet                                                  */
/* ------------------------------------------------------------------ */

/* Bytes one L2 table maps: (table bytes / 8 entries) clusters. */
static uint64_t l2_range(const crash_workload *w)
{
    return (uint64_t)w->table_size * w->cluster_size / 8 * w->cluster_size;
}

/* One letter as a command for w's geometry (workload.h lists them). */
static int letter_op(const crash_workload *w, char c, crash_op *op)
{
    uint64_t cs = w->cluster_size;

    memset(op, 0, sizeof *op);
    switch (c) {
    case 'A': *op = (crash_op){ COP_WRITE, 0, cs, 0x11 }; break;
    case 'U': *op = (crash_op){ COP_WRITE, cs + 700, 1500, 0x22 }; break;
    case 'X': *op = (crash_op){ COP_WRITE, 3 * cs - 2048, 4096, 0x33 }; break;
    case 'N': *op = (crash_op){ COP_WRITE, l2_range(w) + cs, 4096, 0x44 }; break;
    case 'Z': *op = (crash_op){ COP_ZERO, 4 * cs, cs, 0 }; break;
    case 'P': *op = (crash_op){ COP_ZERO, 5 * cs + 512, 1024, 0 }; break;
    case 'F': op->kind = COP_FLUSH; break;
    case 'G': *op = (crash_op){ COP_TRUNCATE, w->size + l2_range(w), 0, 0 }; break;
    default: return -1;
    }
    return 0;
}

int crash_workload_ops(crash_workload *w, const char *letters)
{
    size_t n = strlen(letters);

    if (n == 0 || n > CRASH_MAX_OPS)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (letter_op(w, letters[i], &w->ops[i]) < 0)
            return -1;
    w->nops = n;
    snprintf(w->letters, sizeof w->letters, "%s", letters);
    return 0;
}

/* ------------------------------------------------------------------ */
/* 3. The generator                                                    */
/* ------------------------------------------------------------------ */

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char ALPHABET[] = "AUXNZPF";
static const char *const BACKING_NAMES[] = { "none", "raw", "qed" };
static const char *const INITIAL_NAMES[] = { "fresh", "tables", "needcheck", "needcheck-dup" };

typedef struct geometry {
    uint32_t cs, ts;
    const char *name;
} geometry;

static const geometry GEOMETRIES[] = {
    { 4096, 1, "4k-t1" }, { 4096, 4, "4k-t4" }, { 65536, 1, "64k-t1" }, { 65536, 4, "64k-t4" },
};

/* A growable string. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->oom)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) { b->oom = 1; return; }
        if (b->s && (size_t)n < b->cap - b->len) { b->len += (size_t)n; return; }
        size_t cap = b->cap ? b->cap * 2 : 65536;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) { b->oom = 1; return; }
        b->s = p;
        b->cap = cap;
    }
}

/* The rules a workload exercises, for the manifest's "rules". */
static void workload_rules(const char *letters, int backing, int initial, sbuf *b)
{
    sb_printf(b, "\"WR-1\",\"WR-2\",\"WR-4\",\"WR-6\",\"WR-7\"");
    if (backing != CB_NONE)
        sb_printf(b, ",\"WR-3\"");
    if (initial == CI_NEEDCHECK || initial == CI_NEEDCHECK_DUP)
        sb_printf(b, ",\"WR-5\",\"CHK-5\"");
    if (initial != CI_FRESH)
        sb_printf(b, ",\"WR-10\"");
    if (strpbrk(letters, "ZP"))
        sb_printf(b, ",\"WR-8\"");
    if (strchr(letters, 'G'))
        sb_printf(b, ",\"WR-9\"");
}

/* Virtual size of a workload image: two L2 ranges, so N lands in the second. */
static uint64_t workload_size(const geometry *g)
{
    return 2 * ((uint64_t)g->ts * g->cs / 8 * g->cs);
}

static void emit(sbuf *b, size_t *count, const geometry *g, int backing, int initial,
                 const char *letters)
{
    sb_printf(b, "%s{\"id\":\"crash/%s/%s/%s/%s\",\"result\":\"valid\",\"cluster_size\":%u,"
              "\"table_size\":%u,\"size\":%" PRIu64 ",\"backing\":\"%s\",\"initial\":\"%s\","
              "\"ops\":\"%s\",\"rules\":[", *count ? ",\n" : "", g->name, BACKING_NAMES[backing],
              INITIAL_NAMES[initial], letters, g->cs, g->ts, workload_size(g),
              BACKING_NAMES[backing], INITIAL_NAMES[initial], letters);
    workload_rules(letters, backing, initial, b);
    sb_printf(b, "]}");
    (*count)++;
}

/* Every sequence of 1..maxlen letters of ALPHABET, then the grow ones. */
static void emit_config(sbuf *b, size_t *count, const geometry *g, int backing, int initial,
                        size_t maxlen)
{
    const size_t k = sizeof ALPHABET - 1;
    char seq[4];

    for (size_t len = 1; len <= maxlen; len++) {
        size_t total = 1;
        for (size_t i = 0; i < len; i++)
            total *= k;
        for (size_t n = 0; n < total; n++) {
            size_t v = n;
            for (size_t i = len; i-- > 0; v /= k)
                seq[i] = ALPHABET[v % k];
            seq[len] = '\0';
            emit(b, count, g, backing, initial, seq);
        }
    }
    emit(b, count, g, backing, initial, "G");
    emit(b, count, g, backing, initial, "GN");
}

/* Sequences of three ops on the first geometry without a backing file and
 * with a raw one, on fresh images; two ops everywhere else; and on the
 * needcheck-dup image, whose repair copies, one op on the 4 KiB
 * geometries without a backing file. */
char *crash_manifest_json(size_t *len, size_t *count)
{
    sbuf b = { 0 };

    *count = 0;
    sb_printf(&b, "{\"schema\":\"qedref-manifest-1\",\"testGroups\":[{\"family\":\"crash\","
              "\"tests\":[\n");
    for (size_t g = 0; g < COUNT_OF(GEOMETRIES); g++)
        for (int bk = CB_NONE; bk <= CB_QED; bk++)
            for (int in = CI_FRESH; in <= CI_NEEDCHECK; in++)
                emit_config(&b, count, &GEOMETRIES[g], bk, in,
                            g == 0 && bk != CB_QED && in == CI_FRESH ? 3 : 2);
    for (size_t g = 0; g < COUNT_OF(GEOMETRIES); g++)
        if (GEOMETRIES[g].cs == 4096)
            emit_config(&b, count, &GEOMETRIES[g], CB_NONE, CI_NEEDCHECK_DUP, 1);
    sb_printf(&b, "]}],\"numberOfTests\":%zu}\n", *count);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    *len = b.len;
    return b.s;
}

/* The index of name in names[0..n), or -1. */
static int name_index(const char *name, const char *const *names, int n)
{
    for (int i = 0; name && i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

int crash_workload_from_fields(crash_workload *w, const char *id, uint64_t cluster_size,
                               uint64_t table_size, uint64_t size, const char *backing,
                               const char *initial, const char *letters)
{
    memset(w, 0, sizeof *w);
    snprintf(w->id, sizeof w->id, "%s", id ? id : "");
    if (cluster_size < QED_MIN_CLUSTER_SIZE || cluster_size > QED_MAX_CLUSTER_SIZE ||
        table_size < 1 || table_size > QED_MAX_TABLE_SIZE || size == 0 || size > ((uint64_t)1 << 44))
        return -1;
    w->cluster_size = (uint32_t)cluster_size;
    w->table_size = (uint32_t)table_size;
    w->size = size;
    w->backing = name_index(backing, BACKING_NAMES, (int)COUNT_OF(BACKING_NAMES));
    w->initial = name_index(initial, INITIAL_NAMES, (int)COUNT_OF(INITIAL_NAMES));
    if (w->backing < 0 || w->initial < 0 || !letters)
        return -1;
    return crash_workload_ops(w, letters);
}

/* ------------------------------------------------------------------ */
/* 4. Initial disks                                                    */
/* ------------------------------------------------------------------ */

/* Bytes of the backing file: four clusters of a pattern no command writes
 * (never zero, so a lost copy-on-write fill shows, WR-3). */
static uint64_t base_len(const crash_workload *w)
{
    return 6 * (uint64_t)w->cluster_size;
}

static void fill_base_pattern(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(0x80 | ((i / QED_SECTOR_SIZE) * 7 + i) % 0x7f);
}

/* Create an image in b with opts; QED_OK or an error. */
static int create_in(crash_buf *b, const qed_create_opts *o)
{
    qed_io *io = NULL;
    int ret = crash_buf_io(b, 1, &io);

    if (ret == QED_OK)
        ret = qed_create(io, o);
    qed_io_close(io);
    return ret;
}

/* The backing file: raw bytes, or a QED image whose clusters hold them. */
static int build_base(const crash_workload *w, crash_owned_disk *d, crash_buf *out)
{
    size_t n = (size_t)base_len(w);
    uint8_t *pat = malloc(n);
    qed_create_opts o = { w->size, w->cluster_size, w->table_size, NULL, NULL };
    qed_io *io = NULL;
    qed_image *img = NULL;
    int ret = pat ? QED_OK : QED_ERR_NOMEM;

    if (ret == QED_OK)
        fill_base_pattern(pat, n);
    if (ret == QED_OK && w->backing == CB_RAW)
        ret = crash_buf_set(out, pat, n);
    if (ret == QED_OK && w->backing == CB_QED) {
        ret = create_in(out, &o);
        if (ret == QED_OK && (ret = crash_buf_io(out, 1, &io)) == QED_OK &&
            (ret = qed_open(io, &(qed_open_opts){ .flags = QED_OPEN_RDWR }, &img)) == QED_OK)
            ret = qed_write(img, 0, pat, n);
        if (ret == QED_OK)
            ret = qed_close(img);
        else
            qed_close(img);
        qed_io_close(io);
    }
    free(pat);
    d->base_name = w->backing == CB_RAW ? "base.raw" : "base.qed";
    return ret;
}

/* Data the "tables" and "needcheck" images start with: clusters 0 and 6
 * written, so a second session allocates into an existing L2 table. */
static int write_initial_data(qed_image *img, const crash_workload *w)
{
    size_t cs = w->cluster_size;
    uint8_t *p = malloc(cs);
    int ret = p ? QED_OK : QED_ERR_NOMEM;

    if (ret == QED_OK) {
        memset(p, 0x5a, cs);
        ret = qed_write(img, 0, p, cs);
    }
    if (ret == QED_OK) {
        memset(p, 0x5b, cs);
        ret = qed_write(img, 6 * (uint64_t)cs, p, cs);
    }
    free(p);
    return ret;
}

/* The state a crashed writer leaves: NEED_CHECK set and the L2 entry of
 * cluster 7 pointing past the end of the file (TBL-6), which the next
 * read-write open must repair (WR-5).  needcheck-dup adds a duplicate
 * (cluster 8's entry names cluster 0's data, CHK-1), so the repair
 * copies, and points cluster 7 just past the end, where that copy lands:
 * a repair that made its copy before it reset cluster 7's entry would,
 * crashed in between, leave cluster 7 reading the copy (CHK-5). */
static void break_image(crash_buf *b, const crash_workload *w)
{
    qed_header h;
    uint64_t l1, l2, bad;
    int dup = w->initial == CI_NEEDCHECK_DUP;

    qed_header_decode(b->data, &h);
    h.features |= QED_F_NEED_CHECK;
    qed_header_encode(&h, b->data);
    l1 = 0;
    for (int i = 7; i >= 0; i--)
        l1 = (l1 << 8) | b->data[h.l1_table_offset + (unsigned)i];
    l2 = l1 + 7 * 8;
    if (l1 == 0 || l2 > b->len - 8)
        return;                                       /* no table: nothing to break */
    bad = (b->len / w->cluster_size + (dup ? 0 : 8)) * w->cluster_size;
    if (dup && b->len % w->cluster_size)
        bad += w->cluster_size;
    for (int i = 0; i < 8; i++)
        b->data[l2 + (unsigned)i] = (uint8_t)(bad >> (8 * i));
    if (dup && l2 + 16 <= b->len)
        memcpy(b->data + l2 + 8, b->data + l2 - 7 * 8, 8);   /* 8 := 0 */
}

/* The image: created, with data for "tables" and "needcheck". */
static int build_image(const crash_workload *w, crash_owned_disk *d, crash_buf *out)
{
    qed_create_opts o = { w->size, w->cluster_size, w->table_size,
                          w->backing == CB_NONE ? NULL : d->base_name,
                          w->backing == CB_RAW ? "raw" : w->backing == CB_QED ? "qed" : NULL };
    qed_io *io = NULL;
    qed_image *img = NULL;
    qed_open_opts oo;
    int ret = create_in(out, &o);

    if (ret != QED_OK || w->initial == CI_FRESH)
        return ret;
    memset(&oo, 0, sizeof oo);
    oo.flags = QED_OPEN_RDWR | QED_OPEN_NO_BACKING;
    if ((ret = crash_buf_io(out, 1, &io)) == QED_OK && (ret = qed_open(io, &oo, &img)) == QED_OK)
        ret = write_initial_data(img, w);
    ret = ret == QED_OK ? qed_close(img) : (qed_close(img), ret);
    qed_io_close(io);
    if (ret == QED_OK && w->initial >= CI_NEEDCHECK)
        break_image(out, w);
    return ret;
}

/* Register buffer b as a file of the disk (takes its memory): the image
 * in owned[0], backing file i in owned[1 + i]. */
static void own_file(crash_owned_disk *d, crash_buf *b, const char *path, int is_image)
{
    d->owned[is_image ? 0 : 1 + d->disk.nfiles] = b->data;
    if (is_image) {
        d->disk.image = b->data;
        d->disk.image_len = b->len;
        return;
    }
    crash_file *f = &d->disk.files[d->disk.nfiles++];
    snprintf(f->path, sizeof f->path, "%s", path);
    f->data = b->data;
    f->len = b->len;
}

int crash_build_disk(const crash_workload *w, crash_owned_disk *d, char *err, size_t errlen)
{
    crash_buf base = { 0 }, image = { 0 };
    int ret = QED_OK;

    memset(d, 0, sizeof *d);
    if (w->backing != CB_NONE && (ret = build_base(w, d, &base)) == QED_OK)
        own_file(d, &base, w->backing == CB_RAW ? "/crash/base.raw" : "/crash/base.qed", 0);
    if (ret == QED_OK && (ret = build_image(w, d, &image)) == QED_OK)
        own_file(d, &image, CRASH_IMAGE_PATH, 1);
    if (ret != QED_OK) {
        snprintf(err, errlen, "building the initial image of %s: %s", w->id, qed_strerror(ret));
        crash_buf_free(&base);
        crash_buf_free(&image);
        crash_owned_disk_free(d);
    }
    return ret;
}

void crash_owned_disk_free(crash_owned_disk *d)
{
    for (size_t i = 0; i < CRASH_MAX_FILES + 1; i++)
        free(d->owned[i]);
    memset(d, 0, sizeof *d);
}

/* Read a whole regular file into b; an error with err says why. */
static int slurp(const char *path, crash_buf *b, char *err, size_t errlen)
{
    int ret = crash_buf_load(b, NULL, path);

    if (ret != QED_OK)
        snprintf(err, errlen, "%s: %s", path, errno == EFBIG ? "larger than 1 GiB" : strerror(errno));
    return ret;
}

/* Load the backing chain below the file at real_path, whose name inside
 * the crash namespace is crash_path. */
static int load_chain(crash_owned_disk *d, const uint8_t *img, size_t len, const char *real_path,
                      const char *crash_path, char *err, size_t errlen)
{
    qed_header h;
    char name[1024], real[4096], cpath[256];

    if (len < QED_HEADER_BYTES || qed_probe(img, len) != 1)
        return QED_OK;                                  /* raw: no chain below */
    qed_header_decode(img, &h);
    if (!(h.features & QED_F_BACKING_FILE) || h.backing_filename_size == 0 ||
        h.backing_filename_size >= sizeof name ||
        h.backing_filename_offset > len || h.backing_filename_size > len - h.backing_filename_offset)
        return QED_OK;                                  /* the judge reports a bad header */
    if (d->disk.nfiles >= CRASH_MAX_FILES) {
        snprintf(err, errlen, "%s: backing chain deeper than %d files", real_path, CRASH_MAX_FILES);
        return QED_ERR_LIMIT;
    }
    memcpy(name, img + h.backing_filename_offset, h.backing_filename_size);
    name[h.backing_filename_size] = '\0';
    if (qed_resolve_backing(real_path, name, real, sizeof real) != QED_OK ||
        qed_resolve_backing(crash_path, name, cpath, sizeof cpath) != QED_OK) {
        snprintf(err, errlen, "%s: backing file name too long", real_path);
        return QED_ERR_LIMIT;
    }
    crash_buf b = { 0 };
    int ret = slurp(real, &b, err, errlen);
    if (ret != QED_OK)
        return ret;
    own_file(d, &b, cpath, 0);
    return load_chain(d, b.data, b.len, real, cpath, err, errlen);
}

int crash_load_disk(const char *image_path, crash_owned_disk *d, char *err, size_t errlen)
{
    crash_buf b = { 0 };
    int ret;

    memset(d, 0, sizeof *d);
    if ((ret = slurp(image_path, &b, err, errlen)) != QED_OK)
        return ret;
    own_file(d, &b, CRASH_IMAGE_PATH, 1);
    ret = load_chain(d, b.data, b.len, image_path, CRASH_IMAGE_PATH, err, errlen);
    if (ret != QED_OK)
        crash_owned_disk_free(d);
    return ret;
}
