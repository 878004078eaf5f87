/*
 * qedtool_dump.c - `qedtool dump`: the header, the L1 table and every L2
 * table of a QED file, printed for a human.
 *
 * It reads the file raw (not through qed_open), so it can show images that
 * libqed refuses.  The per-field notes are display hints computed here;
 * the verdicts are libqed's own: qed_header_validate's on the header, and
 * on each table entry qed_check_table_offset, qed_check_l1_entry and
 * qed_check_l2_entry, which judge ranges against the file's whole clusters
 * (FILE-3) as libqed does when it reads.  Tables are read in bounded
 * pieces, so nothing the header says can make it allocate much.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "qedtool.h"

enum { PIECE_BYTES = 64 * 1024 };   /* table bytes read per call */
enum { NAME_SHOWN = 1024 };         /* backing name bytes shown at most */

/* The file and the geometry the tables are read with. */
typedef struct dump_ctx {
    qed_io *io;
    uint64_t file_len;
    qed_header h;
    uint64_t table_bytes;    /* table_size * cluster_size */
    uint64_t n_entries;      /* entries per table (TBL-1) */
    uint64_t problems;       /* table entries that break a rule */
    uint64_t l2_budget;      /* L2 bytes still to read: at most file_len,
                                so duplicate references (CHK-1) cannot
                                make the dump read without end */
    uint8_t *l1_piece, *l2_piece;
} dump_ctx;

/* ------------------------------------------------------------------ */
/* Header                                                             */
/* ------------------------------------------------------------------ */

/* 1 if v is a power of two within [lo, hi]. */
static int pow2_in(uint64_t v, uint64_t lo, uint64_t hi)
{
    return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

/* Print one field line: name, value, meaning and a rule note. */
static void field(const char *name, uint64_t value, const char *meaning,
                  const char *rule, int ok)
{
    printf("  %-24s %-20" PRIu64 " %s", name, value, meaning);
    if (rule)
        printf("  [%s %s]", rule, ok ? "ok" : "BROKEN");
    putchar('\n');
}

/* The feature bits by name, with unknown bits shown in hex (HDR-5). */
static void print_features(uint64_t f)
{
    static const struct { uint64_t bit; const char *name; } known[] = {
        { QED_F_BACKING_FILE, "BACKING_FILE" },
        { QED_F_NEED_CHECK, "NEED_CHECK" },
        { QED_F_BACKING_FORMAT_NO_PROBE, "BACKING_FORMAT_NO_PROBE" },
    };
    size_t i;

    printf("  %-24s 0x%-18" PRIx64 " ", "features", f);
    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (f & known[i].bit)
            printf("%s ", known[i].name);
    }
    if (f & ~(uint64_t)QED_FEATURE_MASK)
        printf("unknown 0x%" PRIx64 " ", f & ~(uint64_t)QED_FEATURE_MASK);
    printf(" [HDR-5 %s]\n", (f & ~(uint64_t)QED_FEATURE_MASK) ? "BROKEN"
                                                                : "ok");
}

/* The backing file name bytes, escaped, when the header points at a
 * readable range (HDR-11..HDR-13 are judged by the validator). */
static void print_backing_name(const dump_ctx *c)
{
    uint8_t name[NAME_SHOWN];
    uint64_t off = c->h.backing_filename_offset;
    uint64_t len = c->h.backing_filename_size;
    size_t shown = len < NAME_SHOWN ? (size_t)len : NAME_SHOWN, i;

    if (!(c->h.features & QED_F_BACKING_FILE))
        return;                                        /* HDR-14 */
    if (off + len > c->file_len || shown == 0 ||
        c->io->read(c->io, off, name, shown) != QED_OK) {
        printf("  %-24s (not readable from the file)\n", "backing name");
        return;
    }
    printf("  %-24s \"", "backing name");
    for (i = 0; i < shown; i++) {
        if (name[i] >= 0x20 && name[i] < 0x7f && name[i] != '"')
            putchar(name[i]);
        else
            printf("\\x%02x", name[i]);
    }
    printf("\"%s\n", shown < len ? "..." : "");
}

/* HDR-2 */
static int cluster_size_ok(const qed_header *h)
{
    return pow2_in(h->cluster_size, QED_MIN_CLUSTER_SIZE,
                   QED_MAX_CLUSTER_SIZE);
}

/* HDR-3 */
static int table_size_ok(const qed_header *h)
{
    return pow2_in(h->table_size, QED_MIN_TABLE_SIZE, QED_MAX_TABLE_SIZE);
}

/* The fields that fix the layout: magic, geometry, header size. */
static void print_layout_fields(const qed_header *h)
{
    printf("  %-24s 0x%08" PRIx32 "%11s\"QED\\0\" is 0x%08x  [HDR-1 %s]\n",
           "magic", h->magic, "", (unsigned)QED_MAGIC,
           h->magic == QED_MAGIC ? "ok" : "BROKEN");
    field("cluster_size", h->cluster_size, "bytes per cluster", "HDR-2",
          cluster_size_ok(h));
    field("table_size", h->table_size, "clusters per L1/L2 table", "HDR-3",
          table_size_ok(h));
    field("header_size", h->header_size, "clusters before any table",
          "HDR-4", h->header_size >= 1);
}

/* The image size and, when the geometry is valid, its HDR-10 bound. */
static void print_size_fields(const qed_header *h)
{
    uint64_t max;

    field("image_size", h->image_size, "logical bytes", "HDR-9",
          h->image_size % QED_SECTOR_SIZE == 0);
    if (!cluster_size_ok(h) || !table_size_ok(h))
        return;
    max = qed_max_image_size(h->cluster_size, h->table_size);
    field("  max for geometry", max, "bytes (UINT64_MAX: no limit)",
          "HDR-10", h->image_size <= max);
}

/* Every header field with its meaning and the rule it is checked by; the
 * file length with Lc (FILE-3) when the file ends in a partial cluster. */
static void print_header(const dump_ctx *c)
{
    const qed_header *h = &c->h;
    uint64_t whole = qed_usable_length(h, c->file_len);

    printf("Header (file length %" PRIu64 " bytes", c->file_len);
    if (cluster_size_ok(h) && whole != c->file_len)
        printf("; %" PRIu64 " in whole clusters, the rest ignored (FILE-3)",
               whole);
    printf(")\n");
    print_layout_fields(h);
    print_features(h->features);
    field("compat_features", h->compat_features, "(none defined; HDR-6)",
          NULL, 1);
    field("autoclear_features", h->autoclear_features,
          "(none defined; HDR-7)", NULL, 1);
    field("l1_table_offset", h->l1_table_offset, "byte offset of L1 (HDR-8)",
          NULL, 1);
    print_size_fields(h);
    field("backing_filename_offset", h->backing_filename_offset,
          "byte offset of the name", NULL, 1);
    field("backing_filename_size", h->backing_filename_size,
          "bytes of the name", NULL, 1);
    print_backing_name(c);
}

/* ------------------------------------------------------------------ */
/* Tables                                                             */
/* ------------------------------------------------------------------ */

/* Little-endian u64 at p (FILE-1). */
static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    int i;

    for (i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Logical offset of (l1, l2), or UINT64_MAX when it does not fit. */
static uint64_t logical_offset(const dump_ctx *c, uint64_t l1, uint64_t l2)
{
    uint64_t cluster = c->h.cluster_size, n = c->n_entries;

    if (l1 > UINT64_MAX / n || l1 * n > UINT64_MAX - l2 ||
        l1 * n + l2 > UINT64_MAX / cluster)
        return UINT64_MAX;
    return (l1 * n + l2) * cluster;               /* XLT-1 */
}

/* Call fn for every non-zero entry of the table at off (valid, whole).
 * Entries are read PIECE_BYTES at a time into piece.  Returns QED_OK or
 * the read error. */
typedef void (*entry_fn)(dump_ctx *c, uint64_t index, uint64_t entry,
                         uint64_t parent);
static int for_each_entry(dump_ctx *c, uint64_t off, uint8_t *piece,
                          entry_fn fn, uint64_t parent)
{
    uint64_t pos, i;

    for (pos = 0; pos < c->table_bytes; pos += PIECE_BYTES) {
        size_t n = c->table_bytes - pos < PIECE_BYTES
                       ? (size_t)(c->table_bytes - pos) : PIECE_BYTES;
        int rc = c->io->read(c->io, off + pos, piece, n);
        if (rc != QED_OK)
            return rc;
        for (i = 0; i < n / 8; i++) {
            uint64_t e = le64(piece + i * 8);
            if (e != 0)                                  /* TBL-5 */
                fn(c, pos / 8 + i, e, parent);
        }
    }
    return QED_OK;
}

/* One non-zero L2 entry: data cluster, zero cluster, or a broken one. */
static void print_l2_entry(dump_ctx *c, uint64_t index, uint64_t e,
                           uint64_t l1_index)
{
    uint64_t logical = logical_offset(c, l1_index, index);
    int rc = qed_check_l2_entry(&c->h, e, c->file_len);   /* TBL-2/3/6 */

    printf("    L2[%" PRIu64 "]  logical 0x%" PRIx64 "  ", index, logical);
    if (e == QED_ZERO_CLUSTER)
        printf("zero cluster (ZERO-1)");
    else
        printf("data at 0x%" PRIx64, e);
    if (rc != QED_OK) {
        printf("  BROKEN: %s", qed_strerror(rc));
        c->problems++;
    }
    if (logical >= c->h.image_size)
        printf("  (past image_size)");
    putchar('\n');
}

/* One non-zero L1 entry and, when it is valid, its L2 table. */
static void print_l1_entry(dump_ctx *c, uint64_t index, uint64_t e,
                           uint64_t unused)
{
    int rc = qed_check_l1_entry(&c->h, e, c->file_len);   /* TBL-2/3/4 */

    (void)unused;
    printf("  L1[%" PRIu64 "]  L2 table at 0x%" PRIx64 "  logical from 0x%"
           PRIx64, index, e, logical_offset(c, index, 0));
    if (rc != QED_OK) {
        printf("  BROKEN: %s\n", qed_strerror(rc));
        c->problems++;
        return;
    }
    putchar('\n');
    if (c->table_bytes > c->l2_budget) {
        printf("    (not shown: the L1 table references more L2 bytes than "
               "the file holds; see CHK-1)\n");
        return;
    }
    c->l2_budget -= c->table_bytes;
    rc = for_each_entry(c, e, c->l2_piece, print_l2_entry, index);
    if (rc != QED_OK)
        printf("    (L2 table unreadable: %s)\n", qed_strerror(rc));
}

/* The L1 table and every L2 table it points to, if the geometry and L1
 * offset allow reading them. */
static void print_tables(dump_ctx *c)
{
    int rc;

    if (!cluster_size_ok(&c->h) || !table_size_ok(&c->h)) {
        printf("Tables not shown: the geometry is invalid (HDR-2, HDR-3)\n");
        return;
    }
    rc = qed_check_table_offset(&c->h, c->h.l1_table_offset, c->file_len);
    if (rc != QED_OK) {
        printf("L1 table not shown (HDR-8): l1_table_offset: %s\n",
               qed_strerror(rc));
        return;
    }
    printf("L1 table at 0x%" PRIx64 " (%" PRIu64 " entries; non-zero ones "
           "shown, each with its L2 table)\n", c->h.l1_table_offset,
           c->n_entries);
    rc = for_each_entry(c, c->h.l1_table_offset, c->l1_piece, print_l1_entry,
                        0);
    if (rc != QED_OK)
        printf("  (L1 table unreadable: %s)\n", qed_strerror(rc));
}

/* ------------------------------------------------------------------ */
/* The subcommand                                                     */
/* ------------------------------------------------------------------ */

/* Read and decode the header; derive the geometry the tables need. */
static int load_header(dump_ctx *c, const char *file)
{
    uint8_t raw[QED_HEADER_BYTES];
    int rc = c->io->length(c->io, &c->file_len);

    if (rc == QED_OK && c->file_len < QED_HEADER_BYTES)
        rc = QED_E_TRUNCATED;                               /* FILE-2 */
    if (rc == QED_OK)
        rc = c->io->read(c->io, 0, raw, sizeof(raw));
    if (rc != QED_OK) {
        qt_err_status(file, rc);
        return rc;
    }
    qed_header_decode(raw, &c->h);
    c->table_bytes = (uint64_t)c->h.table_size * c->h.cluster_size;
    c->n_entries = c->table_bytes / 8;
    c->l2_budget = c->file_len;
    return QED_OK;
}

/* HDR-13, which needs the name's bytes and so is not judged by
 * qed_header_validate: QED_E_BACKING_NUL if the stored name holds a NUL. */
static int check_backing_name(const dump_ctx *c)
{
    uint8_t piece[NAME_SHOWN];
    uint64_t off = c->h.backing_filename_offset, left = c->h.backing_filename_size;

    if (!(c->h.features & QED_F_BACKING_FILE))
        return QED_OK;                                     /* HDR-14 */
    while (left > 0 && off < c->file_len) {
        size_t n = (size_t)(left < sizeof(piece) ? left : sizeof(piece));
        if (n > c->file_len - off)
            n = (size_t)(c->file_len - off);
        if (c->io->read(c->io, off, piece, n) != QED_OK)
            return QED_OK;          /* unreadable: print_backing_name says so */
        if (memchr(piece, 0, n))
            return QED_E_BACKING_NUL;                      /* HDR-13 */
        off += n;
        left -= n;
    }
    return QED_OK;
}

/* Dump an opened file; returns the exit status. */
static int dump_file(dump_ctx *c, const char *file)
{
    int verdict;

    if (load_header(c, file) != QED_OK)
        return QT_EXIT_FAIL;
    print_header(c);
    verdict = qed_header_validate(&c->h, c->file_len);
    if (verdict == QED_OK)
        verdict = check_backing_name(c);
    printf("Header verdict: %s\n\n", verdict == QED_OK ? "valid"
                                                       : qed_strerror(verdict));
    print_tables(c);
    if (c->problems)
        printf("\n%" PRIu64 " table entries break a rule\n", c->problems);
    return (verdict == QED_OK && !c->problems) ? QT_EXIT_OK : QT_EXIT_FAIL;
}

/* dump's options: -f qed (id 1), -U / --force-share (id 2). */
static int dump_option(void *ctx, int id, const char *val)
{
    (void)ctx;
    if (id == 2) {
        qt_set_force_share();
        return 0;
    }
    return qt_check_format("dump", val, 0);
}

/* qedtool dump FILE */
int qt_cmd_dump(int argc, char **argv)
{
    static const qt_option opts[] = {
        { "f", 1, 1 }, { "U", 0, 2 }, { "force-share", 0, 2 }, { NULL, 0, 0 }
    };
    dump_ctx c;
    qt_args a;
    const char *file;
    int rc, status = qt_scan_options(&a, argc, argv, opts, dump_option, NULL);

    if (status < 0 && a.n_operands != 1)
        status = qt_usage_error("dump", "expected one FILE");
    file = status < 0 ? a.operands[0] : NULL;
    qt_args_free(&a);
    if (status >= 0)
        return status;
    memset(&c, 0, sizeof(c));
    c.l1_piece = malloc(PIECE_BYTES);
    c.l2_piece = malloc(PIECE_BYTES);
    rc = (c.l1_piece && c.l2_piece) ? qt_open_file(file, 0, 0, &c.io)
                                    : QED_ERR_NOMEM;
    if (rc == QED_ERR_NOMEM)
        qt_err_status(file, rc);
    status = rc == QED_OK ? dump_file(&c, file) : QT_EXIT_FAIL;
    qed_io_close(c.io);
    free(c.l1_piece);
    free(c.l2_piece);
    return status;
}
