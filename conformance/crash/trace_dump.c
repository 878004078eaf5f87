/*
 * trace_dump.c - `qed-conform trace dump LOG [--image INITIAL.qed]`.
 *
 * The trace is parsed by libqed's trace module (qed_trace_parse) and
 * replayed in order onto a memory copy of the initial image (an empty file
 * without --image): writes, discards and the "truncate:LEN" and
 * "fallocate:MODE:OFF:LEN" marks of spec section 9.  Before each write the
 * current state's layout (layout.h) names what the write hits; a first
 * replay of the whole trace gives the final state, which names the
 * clusters nothing refers to yet (a new L2 table, new data).
 */
#include "trace_dump.h"

#include "explore.h"
#include "layout.h"
#include "qed.h"
#include "qed_trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The replay keeps the whole file in memory; a trace that grows it past
 * this is refused rather than allowed to exhaust memory. */
#define MAX_IMAGE_BYTES ((uint64_t)1 << 30)

/* fallocate(2) mode bits the replay understands (linux/falloc.h). */
#define FALLOC_KEEP_SIZE  0x01u
#define FALLOC_PUNCH_HOLE 0x02u
#define FALLOC_ZERO_RANGE 0x10u

static const char usage_text[] =
"Usage: qed-conform trace dump LOG [--image INITIAL.qed]\n"
"\n"
"Print the dm-log-writes trace LOG one entry per line, as a person reads\n"
"it: the entry's index, its kind (WRITE, WRITE+FUA, FLUSH, FLUSH+WRITE,\n"
"DISCARD, MARK; +META for a METADATA hint), the image sectors and bytes it\n"
"covers, and what it hit in the image: the header (and which fields it\n"
"changed), L1[i..j], 'L2 table at OFF [i..j]' (and which entries changed),\n"
"'data of logical cluster N', a 'new L2 table' or 'new data' that is\n"
"written before anything points at it, or the mark's text.\n"
"\n"
"To know what each write hit, the trace is replayed in order onto a copy\n"
"of INITIAL.qed (the image as it was before the recorded session; without\n"
"--image, an empty file) in memory: writes, discards and the marks\n"
"'truncate:LEN' and 'fallocate:MODE:OFF:LEN' (spec section 9, \"Trace\n"
"encodings\").  Nothing is written to disk.\n"
"\n"
"Options:\n"
"  --image FILE   the image the trace starts from\n"
"  -h, --help     print this help\n"
"\n"
"Exit status: 0 printed; 2 on a usage error, an unreadable file, or a\n"
"trace that does not parse (the message names the entry and the field).\n"
"\n"
"Example:\n"
"  cp disk.qed before.qed\n"
"  qedtool io --trace run.log disk.qed -c 'write 0 64k' -c flush\n"
"  qed-conform trace dump run.log --image before.qed\n";

/* The file being replayed, in memory. */
typedef struct image {
    uint8_t *p;
    size_t len, cap;
} image;

/* Print "qed-conform: trace dump: TEXT" and return 2. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static int dump_error(const char *fmt, ...)
{
    va_list ap;

    fputs("qed-conform: trace dump: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

/* Read all of path (at most CRASH_MAX_FILE bytes, like crash-check) into
 * a malloc'd buffer (*len set); NULL after printing why. */
static uint8_t *read_file(const char *path, size_t *len)
{
    crash_buf b = { 0 };

    if (crash_buf_load(&b, NULL, path) != QED_OK) {
        dump_error("%s: %s", path, errno == EFBIG ? "larger than 1 GiB" : strerror(errno));
        crash_buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.data ? b.data : calloc(1, 1);      /* an empty file is not an error here */
}

/* ------------------------------------------------------------------ */
/* Replay                                                              */
/* ------------------------------------------------------------------ */

/* Set the file's length to len (growing with zeroes); -1 past the limit
 * or out of memory. */
static int image_set_length(image *im, uint64_t len)
{
    if (len > MAX_IMAGE_BYTES)
        return -1;
    if (len > im->cap) {
        size_t cap = im->cap ? im->cap : 65536;
        while (cap < len)
            cap *= 2;
        uint8_t *p = realloc(im->p, cap);
        if (!p)
            return -1;
        memset(p + im->cap, 0, cap - im->cap);
        im->p = p;
        im->cap = cap;
    }
    if (len < im->len)
        memset(im->p + len, 0, im->len - len);
    im->len = (size_t)len;
    return 0;
}

/* Zero [off, off + n) inside the file (never extends it). */
static void image_zero(image *im, uint64_t off, uint64_t n)
{
    if (off >= im->len)
        return;
    if (n > im->len - off)
        n = im->len - off;
    memset(im->p + off, 0, (size_t)n);
}

/* Parse one unsigned number of text[*pos..len) in base 10 or 16, up to
 * the next ':' or the end, advancing *pos to it.  1 when it parsed. */
static int next_number(const char *text, size_t len, size_t *pos, unsigned base,
                       uint64_t *out)
{
    uint64_t v = 0;
    size_t start = *pos;

    for (; *pos < len && text[*pos] != ':'; (*pos)++) {
        char c = text[*pos];
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                   : base == 16 && c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                   : base == 16 && c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                   : 99;
        if (d >= base || v > (UINT64_MAX - d) / base)
            return 0;
        v = v * base + d;
    }
    *out = v;
    return *pos > start;
}

/* Parse exactly n ':'-separated numbers filling text[0..len), the first
 * in base first_base, the others decimal.  1 when they parsed. */
static int parse_fields(const char *text, size_t len, unsigned first_base,
                        uint64_t *v, int n)
{
    size_t pos = 0;

    for (int i = 0; i < n; i++) {
        if (i > 0 && (pos >= len || text[pos++] != ':'))
            return 0;
        if (!next_number(text, len, &pos, i ? 10 : first_base, &v[i]))
            return 0;
    }
    return pos == len;
}

/* Replay a "truncate:" or "fallocate:" mark.  0 applied (or not such a
 * mark), 1 malformed (not applied), -1 past the memory limit. */
static int replay_mark(image *im, const qed_trace_entry *e)
{
    const char *rest;
    size_t n;
    uint64_t v[3];

    if (qed_trace_mark_prefix(e, "truncate:", &rest, &n)) {
        if (!parse_fields(rest, n, 10, v, 1))
            return 1;
        return image_set_length(im, v[0]);
    }
    if (!qed_trace_mark_prefix(e, "fallocate:", &rest, &n))
        return 0;
    if (!parse_fields(rest, n, 16, v, 3) || v[1] > UINT64_MAX - v[2])
        return 1;
    if (!(v[0] & (FALLOC_KEEP_SIZE | FALLOC_PUNCH_HOLE)) && v[1] + v[2] > im->len &&
        image_set_length(im, v[1] + v[2]) != 0)
        return -1;
    if (v[0] & (FALLOC_PUNCH_HOLE | FALLOC_ZERO_RANGE))
        image_zero(im, v[1], v[2]);
    return 0;
}

/* Apply entry e to im.  0, 1 for a malformed mark (left out), -1 when the
 * file would grow past MAX_IMAGE_BYTES. */
static int replay_entry(image *im, const qed_trace_entry *e, uint32_t ss)
{
    uint64_t off = e->sector * ss, n = e->nr_sectors * ss;   /* checked by the parser */

    if (e->flags & QED_TRACE_MARK)
        return replay_mark(im, e);
    if (e->flags & QED_TRACE_DISCARD) {
        image_zero(im, off, n);
        return 0;
    }
    if (n == 0)
        return 0;
    if (off + n > im->len && image_set_length(im, off + n) != 0)
        return -1;
    memcpy(im->p + off, e->data, (size_t)n);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Printing                                                            */
/* ------------------------------------------------------------------ */

/* The entry's kind: WRITE, WRITE+FUA, FLUSH, FLUSH+WRITE, DISCARD, MARK,
 * with +META for the METADATA hint. */
static void kind_text(const qed_trace_entry *e, char *out, size_t outlen)
{
    int meta = (e->flags & QED_TRACE_METADATA) != 0;
    const char *base;

    if (e->flags & QED_TRACE_MARK)
        base = "MARK";
    else if (e->flags & QED_TRACE_DISCARD)
        base = "DISCARD";
    else if (e->flags & QED_TRACE_FLUSH)
        base = e->nr_sectors ? "FLUSH+WRITE" : "FLUSH";
    else
        base = "WRITE";
    snprintf(out, outlen, "%s%s%s", base,
             (e->flags & QED_TRACE_FUA) ? "+FUA" : "", meta ? "+META" : "");
}

/* Print a mark's text quoted, bytes outside printable ASCII as \xHH. */
static void print_mark_text(const qed_trace_entry *e)
{
    putchar('"');
    for (uint64_t i = 0; i < e->data_len; i++) {
        uint8_t c = e->data[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    putchar('"');
}

/* What a mark means, for the few this project defines. */
static const char *mark_note(const qed_trace_entry *e, int malformed)
{
    const char *rest;
    size_t n;

    if (malformed)
        return "  (malformed: not replayed)";
    if (qed_trace_mark_prefix(e, "refused:", &rest, &n))
        return "  (the recorder could not model this: the trace must not be judged)";
    return "";
}

/* Print the sector and byte ranges of an I/O entry. */
static void print_ranges(const qed_trace_entry *e, uint32_t ss)
{
    char sec[48], bytes[64];
    uint64_t off = e->sector * ss, n = e->nr_sectors * ss;

    snprintf(sec, sizeof(sec), "sectors %" PRIu64 "..%" PRIu64, e->sector,
             e->sector + e->nr_sectors - 1);
    snprintf(bytes, sizeof(bytes), "bytes %" PRIu64 "..%" PRIu64, off, off + n - 1);
    printf("  %-20s %-26s", sec, bytes);
}

/* 1 when replaying e may change the file. */
static int changes_file(const qed_trace_entry *e)
{
    const char *rest;
    size_t n;

    if (e->flags & QED_TRACE_MARK)
        return qed_trace_mark_prefix(e, "truncate:", &rest, &n) ||
               qed_trace_mark_prefix(e, "fallocate:", &rest, &n);
    return e->nr_sectors > 0;
}

/* The state of the second replay, with its layout kept while unchanged. */
typedef struct dumper {
    image im;
    crash_layout *now;         /* layout of im, or NULL when stale */
    const crash_layout *later; /* the final state */
    uint32_t ss;
    char label[1024];
} dumper;

/* Print one entry as it stands before it is applied, then apply it.
 * Returns what replay_entry returns. */
static int dump_entry(dumper *d, const qed_trace_entry *e)
{
    char kind[32];
    int rc;

    kind_text(e, kind, sizeof(kind));
    if ((e->flags & QED_TRACE_MARK) == 0 && e->nr_sectors == 0)
        printf("%6" PRIu64 "  %s", e->index, kind);
    else
        printf("%6" PRIu64 "  %-11s", e->index, kind);
    if ((e->flags & QED_TRACE_MARK) == 0 && e->nr_sectors > 0) {
        if (!d->now && crash_layout_new(d->im.p, d->im.len, &d->now) != 0)
            return -1;
        crash_layout_describe_write(d->now, d->later, e->sector * d->ss,
                                    e->nr_sectors * d->ss,
                                    (e->flags & QED_TRACE_DISCARD) ? NULL : e->data,
                                    d->label, sizeof(d->label));
        print_ranges(e, d->ss);
        printf("  %s", d->label);
    }
    rc = replay_entry(&d->im, e, d->ss);
    if (e->flags & QED_TRACE_MARK) {
        print_mark_text(e);
        fputs(mark_note(e, rc == 1), stdout);
    }
    putchar('\n');
    if (rc == 0 && changes_file(e)) {
        crash_layout_free(d->now);
        d->now = NULL;               /* decoded again before the next write */
    }
    return rc;
}

/* Counts for the closing line. */
static void print_summary(const qed_trace *t, size_t log_len, const image *im)
{
    uint64_t writes = 0, bytes = 0, flushes = 0, discards = 0, marks = 0;

    for (uint64_t i = 0; i < t->count; i++) {
        const qed_trace_entry *e = &t->entries[i];
        if (e->flags & QED_TRACE_MARK)
            marks++;
        else if (e->flags & QED_TRACE_DISCARD)
            discards++;
        else if (e->nr_sectors) {
            writes++;
            bytes += e->nr_sectors * t->sector_size;
        }
        flushes += (e->flags & QED_TRACE_FLUSH) != 0;
    }
    printf("end: %" PRIu64 " writes (%" PRIu64 " bytes), %" PRIu64 " flushes, %"
           PRIu64 " discards, %" PRIu64 " marks; file length %zu\n",
           writes, bytes, flushes, discards, marks, im->len);
    if (t->log_end < log_len)
        printf("note: %" PRIu64 " bytes of the log after the last counted entry are "
               "not part of the trace (the superblock's nr_entries was not updated "
               "after them)\n", (uint64_t)log_len - t->log_end);
}

/* ------------------------------------------------------------------ */
/* The command                                                         */
/* ------------------------------------------------------------------ */

/* A copy of init in *out.  0, or -1 when out of memory. */
static int image_copy(const image *init, image *out)
{
    memset(out, 0, sizeof(*out));
    if (image_set_length(out, init->len) != 0)
        return -1;
    if (init->len)
        memcpy(out->p, init->p, init->len);
    return 0;
}

/* Replay all of t onto a copy of init, left in *out.  0, or 2 after
 * printing why. */
static int replay_all(const qed_trace *t, const image *init, image *out)
{
    if (image_copy(init, out) != 0)
        return dump_error("out of memory");
    for (uint64_t i = 0; i < t->count; i++)
        if (replay_entry(out, &t->entries[i], t->sector_size) < 0)
            return dump_error("entry %" PRIu64 ": the file would grow past the %"
                              PRIu64 " bytes this command replays in memory", i,
                              MAX_IMAGE_BYTES);
    return 0;
}

/* Print the trace t, starting from init. */
static int dump_trace(const char *path, const qed_trace *t, size_t log_len,
                      const image *init, const char *init_name /* NULL: empty */)
{
    image final;
    crash_layout *later = NULL;
    dumper d;
    int rc = replay_all(t, init, &final);

    memset(&d, 0, sizeof(d));
    if (rc == 0 && (crash_layout_new(final.p, final.len, &later) != 0 ||
                    image_copy(init, &d.im) != 0))
        rc = dump_error("out of memory");
    d.later = later;
    d.ss = t->sector_size;
    if (rc == 0) {
        printf("%s: %" PRIu64 " entries, %" PRIu32 "-byte sectors; initial image: ",
               path, t->count, t->sector_size);
        if (init_name)
            printf("%s (%zu bytes)\n", init_name, init->len);
        else
            printf("an empty file\n");
        for (uint64_t i = 0; i < t->count && rc == 0; i++)
            if (dump_entry(&d, &t->entries[i]) < 0)
                rc = dump_error("entry %" PRIu64 ": out of memory", i);
        if (rc == 0)
            print_summary(t, log_len, &d.im);
    }
    crash_layout_free(d.now);
    crash_layout_free(later);
    free(d.im.p);
    free(final.p);
    return rc;
}

/* Parse dump's arguments: LOG and --image.  -1 to go on, else the exit
 * status (0 after --help, 2 on a usage error). */
static int parse_args(int argc, char **argv, const char **log, const char **init)
{
    *log = *init = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--image") == 0 && i + 1 < argc)
            *init = argv[++i];
        else if (strncmp(argv[i], "--image=", 8) == 0)
            *init = argv[i] + 8;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return dump_error("unknown option %s (see qed-conform trace dump --help)",
                              argv[i]);
        else if (*log)
            return dump_error("one LOG only, not also %s", argv[i]);
        else
            *log = argv[i];
    }
    if (!*log)
        return dump_error("missing LOG (usage: qed-conform trace dump LOG "
                          "[--image INITIAL.qed])");
    return -1;
}

int crash_trace_dump_main(int argc, char **argv)
{
    const char *log_path, *init_path;
    uint8_t *log = NULL;
    image init = { NULL, 0, 0 };
    size_t log_len = 0;
    qed_trace t;
    char err[256];
    int rc;

    if (argc < 1 || strcmp(argv[0], "dump") != 0)
        return dump_error("usage: qed-conform trace dump LOG [--image INITIAL.qed]");
    rc = parse_args(argc, argv, &log_path, &init_path);
    if (rc >= 0)
        return rc;
    log = read_file(log_path, &log_len);
    if (log && init_path)
        init.p = read_file(init_path, &init.len);
    init.cap = init.len;
    if (!log || (init_path && !init.p) || init.len > MAX_IMAGE_BYTES) {
        if (init.len > MAX_IMAGE_BYTES)
            dump_error("%s: larger than the %" PRIu64 " bytes this command replays "
                       "in memory", init_path, MAX_IMAGE_BYTES);
        free(log);
        free(init.p);
        return 2;
    }
    rc = qed_trace_parse(log, log_len, &t, err, sizeof(err));
    if (rc != QED_OK)
        rc = dump_error("%s: %s", log_path, rc == QED_ERR_INVAL ? err : qed_strerror(rc));
    else
        rc = dump_trace(log_path, &t, log_len, &init, init_path);
    qed_trace_free(&t);
    free(log);
    free(init.p);
    return rc;
}
