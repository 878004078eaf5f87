/*
 * qed.c - libqed, the reference codec for the QED image format.
 *
 * The file follows spec/qed-spec.md; its sections carry the spec's numbers
 * (spec section 9, the crash model, is the WRITE RULES list below):
 *
 *      status texts (qed_strerror, qed_rule_id)
 *   1  layout and byte order                       FILE-1..3
 *   2  the header                                  HDR-1..14
 *   3  features, and opening the image with its    FEAT-1..3,
 *   6  backing chain                               BACK-1..5
 *   4  tables: entry validation and the L2 cache   TBL-1..6, ZERO-1
 *   5  translation, read and map                   XLT-1..4
 *   7  writing: the session, write, write-zeroes,  WR-1..11
 *      resize, rebase, close
 *   8  check and repair                            CHK-1..7
 *      creating an image
 *
 * WRITE RULES (crash safety; spec section 7, and CHK-5, which section 9
 * counts among them).  Each is enforced at one place, tagged there with a
 * comment holding nothing but the rule ID; grep for the tag:
 *
 *   WR-1  Before the first table write of a session, NEED_CHECK is set
 *         in the header and flushed: no table write can reach the disk
 *         before the image is marked.               -> set_need_check()
 *   WR-2  A new L2 table is written and flushed before the L1 entry that
 *         points to it is written.                  -> install_l2_table()
 *   WR-3  With a backing file, a new data cluster (with the bytes copied
 *         from the backing file) is written and flushed before the L2
 *         entry that points to it.                  -> write_new_clusters()
 *   WR-4  A session that set NEED_CHECK ends with flush, clear NEED_CHECK
 *         and write the header, flush.              -> end_session()
 *   WR-5  Read-write open with NEED_CHECK set: check, repair, flush, then
 *         clear the bit, before any other write.    -> open_steps()
 *   WR-6  New clusters are only ever appended at the end of the file, so a
 *         crash can never make a table point at someone else's old bytes.
 *                                                   -> alloc_clusters()
 *   WR-7  A new cluster's bytes outside the write come from the backing
 *         file, or are zero; a zero tail is written explicitly up to the
 *         cluster's end, so the file's length covers every referenced
 *         cluster even in a dm-log-writes crash state.
 *                                                   -> write_new_clusters()
 *   WR-8  Write-zeroes gives a whole unallocated cluster a ZERO-1 entry,
 *         writes zeroes in place into a data cluster and writes partial
 *         clusters as data.                         -> zero_whole_clusters()
 *   WR-9  Resizing only grows, by rewriting image_size and flushing.
 *                                                   -> qed_resize()
 *   WR-10 A write into an existing data cluster overwrites it in place: no
 *         table changes, so it sets no NEED_CHECK.  -> qed_write()
 *   WR-11 Changing the backing file rewrites header and name in one write,
 *         then flushes.                             -> write_rebase()
 *   CHK-5 Repair writes its copies before the entries that point to them,
 *         and its L2 tables before the L1 table, with a flush between;
 *         entries past the end of the file are reset, written and
 *         flushed before the first copy grows it.   -> write_repairs(),
 *                                                      check_and_repair()
 *
 * SESSION STATES.  A session runs from a read-write open to its close.
 * img->state (enum session_state) says what the session has done to the
 * file, and so what its end must do:
 *
 *   READ_ONLY  opened read-only: the image never writes.  Writes fail with
 *              QED_ERR_RDONLY.
 *   CLEAN      read-write; nothing written since the open or the last
 *              qed_flush, and NEED_CHECK not set by this session.  Close
 *              writes nothing.
 *   UNFLUSHED  written since then, NEED_CHECK not set by this session: data
 *              in place (WR-10), or tables under a NEED_CHECK that was set
 *              before the session began (QED_OPEN_NO_CHECK).  Close flushes.
 *   MARKED     this session set NEED_CHECK and flushed it (WR-1), so tables
 *              may have changed.  Close runs WR-4.
 *   FAILED     a write or flush failed, or a repair did not complete: what
 *              reached the disk is unknown.  NEED_CHECK stays as it is on
 *              disk (set whenever tables may be half-written, since WR-1
 *              put it there first), writes and flushes fail with
 *              QED_ERR_FAILED, and close writes nothing: no data is lost
 *              that a flush had vouched for, and the next read-write open
 *              repairs (WR-5).
 *
 *   open read-only                               -> READ_ONLY
 *   open read-write (HDR-7, WR-5 run in CLEAN)   -> CLEAN
 *   CLEAN      qed_write, qed_write_zeroes       -> UNFLUSHED
 *   CLEAN, UNFLUSHED  set_need_check (WR-1)      -> MARKED
 *   UNFLUSHED  qed_flush                         -> CLEAN
 *   UNFLUSHED, MARKED  clear_need_check (repair) -> CLEAN
 *   any but READ_ONLY  fail_session: an operation that had begun to write
 *              returns an environment error      -> FAILED
 *   any        qed_close: end_session, the one place a session ends, then
 *              the image is freed
 *
 * READ_ONLY and FAILED are never left.  A repair's own table writes end in
 * flushes before qed_check returns, so they leave CLEAN as it is.  What
 * fails before anything is written (a request out of range, QED_ERR_RDONLY,
 * QED_ERR_FAILED, a rebase refused) leaves the state alone, and so does a
 * format error (a positive status): it is found while following an entry,
 * before the piece of the request that needs it writes anything.
 */
#include "qed.h"

#include <stdlib.h>
#include <string.h>

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define COPY_CHUNK (1u << 20)   /* bounce buffer for cluster copies */
#define IO_ALIGN 4096u         /* alignment of table and copy buffers */
#define CHECK_RUN_BYTES (1u << 20) /* check reads adjacent L2 tables this much at a time */

/* ================================================================== */
/* Status texts                                                       */
/* ================================================================== */

static const struct {
    const char *rule;
    const char *text;
} format_errors[QED_E_LAST + 1] = {
    [QED_OK]                 = { "",       "success" },
    [QED_E_TRUNCATED]        = { "FILE-2", "file is shorter than the 64-byte QED header (FILE-2)" },
    [QED_E_MAGIC]            = { "HDR-1",  "bad magic: not a QED image (HDR-1)" },
    [QED_E_CLUSTER_SIZE]     = { "HDR-2",  "cluster_size is not a power of two in [4096, 67108864] (HDR-2)" },
    [QED_E_TABLE_SIZE]       = { "HDR-3",  "table_size is not a power of two in [1, 16] (HDR-3)" },
    [QED_E_HEADER_SIZE]      = { "HDR-4",  "header_size is 0 (HDR-4)" },
    [QED_E_FEATURES]         = { "HDR-5",  "unknown feature bits set (HDR-5)" },
    [QED_E_COMPAT_REBASE]    = { "HDR-6",  "unknown compat_features bits set: backing file may not change (HDR-6)" },
    [QED_E_L1_OFFSET]        = { "HDR-8",  "l1_table_offset is not a valid table offset (HDR-8)" },
    [QED_E_IMAGE_SIZE_ALIGN] = { "HDR-9",  "image_size is not a multiple of 512 (HDR-9)" },
    [QED_E_IMAGE_SIZE_MAX]   = { "HDR-10", "image_size exceeds the maximum for this geometry (HDR-10)" },
    [QED_E_BACKING_RANGE]    = { "HDR-11", "backing file name lies outside the header clusters (HDR-11)" },
    [QED_E_BACKING_EMPTY]    = { "HDR-12", "backing file name is empty (HDR-12)" },
    [QED_E_BACKING_NUL]      = { "HDR-13", "backing file name contains a NUL byte (HDR-13)" },
    [QED_E_RESERVED_BITS]    = { "TBL-2",  "table entry has reserved low bits set (TBL-2)" },
    [QED_E_MISALIGNED]       = { "TBL-3",  "table entry is not cluster-aligned (TBL-3)" },
    [QED_E_TABLE_RANGE]      = { "TBL-4",  "table lies in the header clusters or beyond the file's whole clusters (TBL-4)" },
    [QED_E_DATA_RANGE]       = { "TBL-6",  "data cluster lies in the header clusters or beyond the file's whole clusters (TBL-6)" },
    [QED_E_CHAIN_DEPTH]      = { "BACK-4", "backing chain too deep (or a loop) (BACK-4)" },
    [QED_E_SHRINK]           = { "WR-9",   "image size can only grow (WR-9)" },
};

static const char *const env_errors[] = {
    [1] = "I/O error",
    [2] = "out of memory",
    [3] = "a configured limit would be exceeded (see qed_limits)",
    [4] = "invalid argument or request out of range",
    [5] = "image is open read-only",
    [6] = "no space left on device",
    [7] = "the backing file is not open (it could not be opened, or the image was opened without backing files)",
    [8] = "refused: an earlier write or flush of this session failed",
    [9] = "unexpected end of file",
    [10] = "image is locked by another process",
    [11] = "not a regular file or block device",
    [12] = "file too large (EFBIG: over ulimit -f or the file system's largest file)",
    [13] = "repair refused: its copies would exceed the repair budget (qed_limits.max_repair_bytes)",
    [14] = "backing file name refused: absolute, or leads outside the backing directory",
};

/* Text for any status; never NULL. */
const char *qed_strerror(int status)
{
    static const char unknown[] = "unknown error";

    if (status >= 0 && status <= QED_E_LAST)
        return format_errors[status].text;
    if (status < 0 && -status < (int)(sizeof(env_errors) / sizeof(env_errors[0])))
        return env_errors[-status];
    return unknown;
}

/* Spec rule of a status, "" for environment errors; never NULL. */
const char *qed_rule_id(int status)
{
    if (status > 0 && status <= QED_E_LAST)
        return format_errors[status].rule;
    return "";
}

/* ================================================================== */
/* 1. Layout and byte order (FILE-1..3)                               */
/* ================================================================== */

/* The little-endian accessors copy through a local array: one load or
 * store of the whole value, with no loop and no pointer arithmetic for a
 * sanitizer build to check and trace on every table entry. */
static uint32_t get_le32(const uint8_t *p)
{
    uint8_t b[4];

    memcpy(b, p, sizeof(b));
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
    uint8_t b[8];

    memcpy(b, p, sizeof(b));
    return (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 |
           (uint64_t)b[3] << 24 | (uint64_t)b[4] << 32 | (uint64_t)b[5] << 40 |
           (uint64_t)b[6] << 48 | (uint64_t)b[7] << 56;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    const uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                           (uint8_t)(v >> 24) };

    memcpy(p, b, sizeof(b));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    const uint8_t b[8] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                           (uint8_t)(v >> 24), (uint8_t)(v >> 32),
                           (uint8_t)(v >> 40), (uint8_t)(v >> 48),
                           (uint8_t)(v >> 56) };

    memcpy(p, b, sizeof(b));
}

/* log2 of a power of two. */
static unsigned log2u64(uint64_t v)
{
    unsigned n = 0;

    while (v > 1) {
        v >>= 1;
        n++;
    }
    return n;
}

static int is_pow2(uint64_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

/* FILE-3: Lc, the file's length rounded down to whole clusters (0 for a
 * cluster_size of 0, which HDR-2 refuses first). */
uint64_t qed_usable_length(const qed_header *h, uint64_t file_len)
{
    return h->cluster_size ? file_len - file_len % h->cluster_size : 0;
}

/* ================================================================== */
/* 2. The header                                                      */
/* ================================================================== */

/* Header field offsets (FILE-1). */
enum {
    OFF_MAGIC = 0, OFF_CLUSTER_SIZE = 4, OFF_TABLE_SIZE = 8,
    OFF_HEADER_SIZE = 12, OFF_FEATURES = 16, OFF_COMPAT = 24,
    OFF_AUTOCLEAR = 32, OFF_L1 = 40, OFF_IMAGE_SIZE = 48,
    OFF_BACKING_OFFSET = 56, OFF_BACKING_SIZE = 60
};

/* Decode the 64 header bytes; no validation. */
void qed_header_decode(const uint8_t buf[QED_HEADER_BYTES], qed_header *h)
{
    h->magic = get_le32(buf + OFF_MAGIC);
    h->cluster_size = get_le32(buf + OFF_CLUSTER_SIZE);
    h->table_size = get_le32(buf + OFF_TABLE_SIZE);
    h->header_size = get_le32(buf + OFF_HEADER_SIZE);
    h->features = get_le64(buf + OFF_FEATURES);
    h->compat_features = get_le64(buf + OFF_COMPAT);
    h->autoclear_features = get_le64(buf + OFF_AUTOCLEAR);
    h->l1_table_offset = get_le64(buf + OFF_L1);
    h->image_size = get_le64(buf + OFF_IMAGE_SIZE);
    h->backing_filename_offset = get_le32(buf + OFF_BACKING_OFFSET);
    h->backing_filename_size = get_le32(buf + OFF_BACKING_SIZE);
}

/* Encode a header into 64 bytes. */
void qed_header_encode(const qed_header *h, uint8_t buf[QED_HEADER_BYTES])
{
    put_le32(buf + OFF_MAGIC, h->magic);
    put_le32(buf + OFF_CLUSTER_SIZE, h->cluster_size);
    put_le32(buf + OFF_TABLE_SIZE, h->table_size);
    put_le32(buf + OFF_HEADER_SIZE, h->header_size);
    put_le64(buf + OFF_FEATURES, h->features);
    put_le64(buf + OFF_COMPAT, h->compat_features);
    put_le64(buf + OFF_AUTOCLEAR, h->autoclear_features);
    put_le64(buf + OFF_L1, h->l1_table_offset);
    put_le64(buf + OFF_IMAGE_SIZE, h->image_size);
    put_le32(buf + OFF_BACKING_OFFSET, h->backing_filename_offset);
    put_le32(buf + OFF_BACKING_SIZE, h->backing_filename_size);
}

/* HDR-10: N*N*cluster_size, N = table_size*cluster_size/8, saturating at
 * UINT64_MAX.  Works in log2 so nothing can wrap. */
uint64_t qed_max_image_size(uint32_t cluster_size, uint32_t table_size)
{
    unsigned cluster_bits = log2u64(cluster_size);
    unsigned entry_bits = log2u64(table_size) + cluster_bits - 3;  /* log2 N */
    unsigned bits = 2 * entry_bits + cluster_bits;

    return bits >= 64 ? UINT64_MAX : (uint64_t)1 << bits;
}

/* 1 if buf starts with the QED magic (BACK-2). */
int qed_probe(const void *buf, size_t len)
{
    return len >= 4 && get_le32(buf) == QED_MAGIC;
}

/* Bytes covered by the header clusters (HDR-4); cannot wrap (2^32*2^26). */
static uint64_t header_bytes(const qed_header *h)
{
    return (uint64_t)h->header_size * h->cluster_size;
}

/* Bytes of one table (TBL-1). */
static uint64_t table_bytes(const qed_header *h)
{
    return (uint64_t)h->table_size * h->cluster_size;
}

/* TBL-2, TBL-3, TBL-4 for a table offset (section 4; HDR-8 uses it). */
static int check_table_offset(const qed_header *h, uint64_t offset,
                              uint64_t file_len);

/* HDR-2, HDR-3, HDR-4: the geometry fields. */
static int validate_geometry(const qed_header *h)
{
    if (!is_pow2(h->cluster_size) || h->cluster_size < QED_MIN_CLUSTER_SIZE ||
        h->cluster_size > QED_MAX_CLUSTER_SIZE)
        return QED_E_CLUSTER_SIZE;                /* HDR-2 */
    if (!is_pow2(h->table_size) || h->table_size > QED_MAX_TABLE_SIZE)
        return QED_E_TABLE_SIZE;                  /* HDR-3 (0 is no power of two) */
    if (h->header_size < 1)
        return QED_E_HEADER_SIZE;                 /* HDR-4 */
    return QED_OK;
}

/* HDR-9, HDR-10: a virtual size for a valid geometry. */
static int validate_image_size(const qed_header *h, uint64_t size)
{
    if (size % QED_SECTOR_SIZE)
        return QED_E_IMAGE_SIZE_ALIGN;            /* HDR-9 */
    if (size > qed_max_image_size(h->cluster_size, h->table_size))
        return QED_E_IMAGE_SIZE_MAX;              /* HDR-10 */
    return QED_OK;
}

/* HDR-11, HDR-12: where the backing file name is stored. */
static int validate_backing_fields(const qed_header *h)
{
    uint64_t end = (uint64_t)h->backing_filename_offset +
                   h->backing_filename_size;      /* u32+u32: no wrap */

    if (!(h->features & QED_F_BACKING_FILE))
        return QED_OK;                            /* HDR-14 */
    if (end > header_bytes(h))
        return QED_E_BACKING_RANGE;               /* HDR-11 */
    if (h->backing_filename_size == 0)
        return QED_E_BACKING_EMPTY;               /* HDR-12 */
    return QED_OK;
}

/* Validate every header field in spec order; first rule broken wins. */
int qed_header_validate(const qed_header *h, uint64_t file_size)
{
    int ret;

    if (h->magic != QED_MAGIC)
        return QED_E_MAGIC;                       /* HDR-1 */
    ret = validate_geometry(h);
    if (ret != QED_OK)
        return ret;
    if (h->features & ~(uint64_t)QED_FEATURE_MASK)
        return QED_E_FEATURES;                    /* HDR-5 */
    /* HDR-6, HDR-7: compat and autoclear bits never make a header invalid. */
    if (check_table_offset(h, h->l1_table_offset, file_size) != QED_OK)
        return QED_E_L1_OFFSET;                   /* HDR-8 */
    ret = validate_image_size(h, h->image_size);
    if (ret != QED_OK)
        return ret;
    return validate_backing_fields(h);
}

/* ================================================================== */
/* 3 and 6. Opening: the image object, features, the backing chain   */
/* ================================================================== */

/* What a session has done to the file (see SESSION STATES at the top). */
enum session_state {
    SESSION_READ_ONLY,        /* opened read-only */
    SESSION_CLEAN,            /* nothing unflushed, NEED_CHECK not set by us */
    SESSION_UNFLUSHED,        /* written since the last flush, bit not ours */
    SESSION_MARKED,           /* this session set NEED_CHECK (WR-1) */
    SESSION_FAILED            /* a write, flush or repair failed */
};

struct qed_image {
    qed_io *io;               /* the image file (not owned; a backing
                                 image's file is its parent's backing_io) */
    qed_header h;
    enum session_state state;
    qed_limits lim;
    unsigned depth;           /* 0 for the top image */
    uint64_t alloc_end;       /* the end of the clusters handed out: the
                                 file's length at open, advanced by
                                 alloc_clusters before the new clusters are
                                 written (WR-6).  Between calls of a session
                                 that has not failed it is the file's length,
                                 since every allocation writes up to its end
                                 (WR-7). */
    unsigned cluster_bits;    /* log2 cluster_size */
    unsigned entry_bits;      /* log2 N (TBL-1) */
    uint64_t nentries;        /* N */
    uint64_t *l1;             /* the L1 table, host order */
    uint64_t *l2;             /* one cached L2 table, host order */
    uint64_t l2_offset;       /* its offset, 0 when the cache is empty */
    char *backing_name;       /* stored name, NUL-terminated, or NULL */
    qed_io *backing_io;       /* owned: the open backing file (raw, or a QED
                                 backing image's file), or NULL */
    qed_image *backing;       /* the QED image on backing_io, NULL if raw */
    uint64_t backing_size;    /* bytes readable from the backing file */
};

/* Default limits. */
void qed_limits_default(qed_limits *lim)
{
    lim->max_table_bytes = 64u << 20;
    lim->max_chain_depth = 16;                    /* BACK-4 */
    lim->max_check_clusters = (uint64_t)1 << 28;
    lim->max_repair_bytes = 0;                    /* 2 x file + 64 MiB */
    lim->max_chain_table_bytes = 256u << 20;  /* two images of the largest tables */
}

/* max_chain_table_bytes, with 0 (a qed_limits filled in by hand before
 * the field existed) read as the default. */
static uint64_t chain_table_bound(const qed_limits *lim)
{
    return lim->max_chain_table_bytes ? lim->max_chain_table_bytes
                                      : (uint64_t)256 << 20;
}

/* The bound of lim that an image with header h exceeds (qed.h). */
const char *qed_header_limit(const qed_header *h, const qed_limits *lim,
                             uint64_t *value)
{
    qed_limits dflt;
    uint64_t dummy, tb = table_bytes(h);

    if (!lim) {
        qed_limits_default(&dflt);
        lim = &dflt;
    }
    value = value ? value : &dummy;
    *value = lim->max_table_bytes;
    if (tb > lim->max_table_bytes)
        return "max_table_bytes";
    *value = chain_table_bound(lim);
    if (tb > *value / 2)                          /* L1 and the L2 cache */
        return "max_chain_table_bytes";
    *value = QED_MAX_BACKING_NAME;
    if ((h->features & QED_F_BACKING_FILE) &&
        h->backing_filename_size >= QED_MAX_BACKING_NAME)
        return "QED_MAX_BACKING_NAME";
    return NULL;
}

/* BACK-1: a relative name is taken relative to the image's directory. */
int qed_resolve_backing(const char *image_path, const char *name, char *out,
                        size_t out_len)
{
    const char *slash = image_path ? strrchr(image_path, '/') : NULL;
    size_t dir_len = (name[0] == '/' || !slash) ? 0 : (size_t)(slash - image_path) + 1;
    size_t name_len = strlen(name);

    if (dir_len + name_len + 1 > out_len)
        return QED_ERR_LIMIT;
    if (dir_len)
        memcpy(out, image_path, dir_len);
    memcpy(out + dir_len, name, name_len + 1);
    return QED_OK;
}

/* Default backing opener: the POSIX file, read-only. */
static int open_backing_posix(void *ctx, const char *path, qed_io **out)
{
    (void)ctx;
    return qed_io_posix_open(path, 0, out) == QED_OK ? QED_OK : QED_ERR_BACKING;
}

/* Read the 64-byte header and validate it (FILE-2, HDR-1..12). */
static int load_header(qed_image *img)
{
    uint8_t buf[QED_HEADER_BYTES];
    int ret = img->io->length(img->io, &img->alloc_end);

    if (ret != QED_OK)
        return ret;
    if (img->alloc_end < QED_HEADER_BYTES)
        return QED_E_TRUNCATED;                   /* FILE-2 */
    ret = img->io->read(img->io, 0, buf, sizeof(buf));
    if (ret != QED_OK)
        return ret;
    qed_header_decode(buf, &img->h);
    ret = qed_header_validate(&img->h, img->alloc_end);
    if (ret != QED_OK)
        return ret;
    if (qed_header_limit(&img->h, &img->lim, NULL))
        return QED_ERR_LIMIT;                     /* bounded allocation */
    img->cluster_bits = log2u64(img->h.cluster_size);
    img->entry_bits = log2u64(img->h.table_size) + img->cluster_bits - 3;
    img->nentries = (uint64_t)1 << img->entry_bits;
    return QED_OK;
}

#define MAX_BACKING_NAME QED_MAX_BACKING_NAME  /* a limit, not a rule */

/* Read the backing file name (HDR-13) when BACKING_FILE is set. */
static int load_backing_name(qed_image *img)
{
    uint32_t size = img->h.backing_filename_size;
    int ret;

    if (!(img->h.features & QED_F_BACKING_FILE))
        return QED_OK;                            /* HDR-14 */
    if (size >= MAX_BACKING_NAME)
        return QED_ERR_LIMIT;
    img->backing_name = malloc(size + 1u);
    if (!img->backing_name)
        return QED_ERR_NOMEM;
    ret = img->io->read(img->io, img->h.backing_filename_offset,
                        img->backing_name, size);
    if (ret != QED_OK)
        return ret;
    img->backing_name[size] = '\0';
    if (memchr(img->backing_name, '\0', size))
        return QED_E_BACKING_NUL;                 /* HDR-13 */
    return QED_OK;
}

/* 1 if the host stores a uint64_t in the file's byte order (TBL-1), so
 * that a table's bytes are its host-order entries as they stand (the
 * compiler folds this to a constant). */
static int host_is_le(void)
{
    const uint32_t one = 1;
    uint8_t first;

    memcpy(&first, &one, 1);
    return first == 1;
}

/* Turn a table's little-endian bytes, read into table, into host-order
 * entries in place (TBL-1): nothing to do on a little-endian host. */
static void decode_table(const qed_image *img, uint64_t *table)
{
    const uint8_t *raw = (const uint8_t *)table;

    if (host_is_le())
        return;
    for (uint64_t i = 0; i < img->nentries; i++)
        table[i] = get_le64(raw + 8 * i);
}

/* Read a whole table at offset into host-order entries (TBL-1). */
static int read_table(qed_image *img, uint64_t offset, uint64_t *table)
{
    int ret = img->io->read(img->io, offset, table, (size_t)table_bytes(&img->h));

    if (ret == QED_OK)
        decode_table(img, table);
    return ret;
}

/* A buffer of len bytes (len > 0) aligned to a page, for reads and
 * writes of tables: the kernel copies into it several times faster than
 * into one that malloc leaves 16 bytes past a page boundary (measured on
 * check over 1024 tables); NULL if there is no memory.  free() frees it. */
static void *alloc_io_buffer(size_t len)
{
    void *p = NULL;

    return posix_memalign(&p, IO_ALIGN, len) == 0 ? p : NULL;
}

/* Allocate one table's worth of zero entries (bounded by load_header). */
static uint64_t *alloc_table(const qed_image *img)
{
    size_t len = (size_t)img->nentries * sizeof(uint64_t);
    uint64_t *t = alloc_io_buffer(len);

    if (t)
        memset(t, 0, len);
    return t;
}

/* Load the L1 table (HDR-8 has already placed it inside the file). */
static int load_l1(qed_image *img)
{
    img->l1 = alloc_table(img);
    img->l2 = alloc_table(img);
    if (!img->l1 || !img->l2)
        return QED_ERR_NOMEM;
    return read_table(img, img->h.l1_table_offset, img->l1);
}

/* Write the 64-byte header from img->h. */
static int write_header(qed_image *img)
{
    uint8_t buf[QED_HEADER_BYTES];

    qed_header_encode(&img->h, buf);
    return img->io->write(img->io, 0, buf, sizeof(buf));
}

/* Write the header and flush. */
static int write_header_sync(qed_image *img)
{
    int ret = write_header(img);

    return ret != QED_OK ? ret : img->io->flush(img->io);
}

/* While a chain is opened: the files above the one being opened (by
 * device and inode, where the io tells them) and the table bytes the
 * chain holds so far (max_chain_table_bytes). */
typedef struct chain_file {
    uint64_t dev, ino;
    int known;                          /* 0: not a POSIX io, unknown */
    const struct chain_file *up;        /* the image above, or NULL */
} chain_file;
typedef struct chain_walk {
    const chain_file *files;            /* innermost first */
    uint64_t table_bytes;
} chain_walk;

static int open_at_depth(qed_io *io, const qed_open_opts *opts, unsigned depth,
                         chain_walk *chain, qed_image **out);

/* BACK-2: *is_qed = 1 if not NO_PROBE and the backing file has the QED
 * magic; also takes the backing file's length. */
static int probe_backing(qed_image *img, int *is_qed)
{
    uint8_t magic[4];
    uint64_t len;
    int ret = img->backing_io->length(img->backing_io, &len);

    *is_qed = 0;
    if (ret != QED_OK)
        return ret;
    img->backing_size = len;
    if (img->h.features & QED_F_BACKING_FORMAT_NO_PROBE)
        return QED_OK;                            /* FEAT-3 */
    if (len < sizeof(magic))
        return QED_OK;
    ret = img->backing_io->read(img->backing_io, 0, magic, sizeof(magic));
    if (ret == QED_OK)
        *is_qed = qed_probe(magic, sizeof(magic));
    return ret;
}

/* Where the backing name leads (BACK-1), or under QED_BACKING_CONFINED
 * where it leads inside backing_dir (the top image's name resolved against
 * backing_dir, a backing image's against its own resolved path). */
static int backing_path(const qed_image *img, const qed_open_opts *opts,
                        char *path, size_t len)
{
    if (opts->backing_policy != QED_BACKING_CONFINED)
        return qed_resolve_backing(opts->path, img->backing_name, path, len);
    if (!opts->backing_dir)
        return QED_ERR_INVAL;
    return qed_resolve_backing_confined(opts->backing_dir,
                                        img->depth ? opts->path : NULL,
                                        img->backing_name, path, len);
}

/* The identity of io into f (f->known 0 when the io cannot tell). */
static void identify(qed_io *io, const chain_file *up, chain_file *f)
{
    f->known = qed_io_posix_identity(io, &f->dev, &f->ino) == QED_OK;
    f->up = up;
}

/* BACK-4: 1 if f is a file already open above it in the chain. */
static int repeats(const chain_file *f)
{
    const chain_file *a;

    for (a = f->up; f->known && a; a = a->up) {
        if (a->known && a->dev == f->dev && a->ino == f->ino)
            return 1;
    }
    return 0;
}

/* Open the backing file and, for QED, its own chain (BACK-1..5).  A file
 * already open above is a loop, refused before its tables are loaded. */
static int open_backing(qed_image *img, const qed_open_opts *opts,
                        chain_walk *chain)
{
    qed_open_opts sub = *opts;
    char path[MAX_BACKING_NAME * 2];
    chain_file file;
    int is_qed, ret = backing_path(img, opts, path, sizeof(path));

    if (ret != QED_OK)
        return ret;
    if (img->depth + 1 > img->lim.max_chain_depth)
        return QED_E_CHAIN_DEPTH;                 /* BACK-4 */
    ret = opts->open_backing(opts->backing_ctx, path, &img->backing_io);
    if (ret != QED_OK)
        return ret < 0 ? QED_ERR_BACKING : ret;   /* BACK-5 */
    identify(img->backing_io, chain->files, &file);
    if (repeats(&file))
        return QED_E_CHAIN_DEPTH;                 /* BACK-4: a loop */
    ret = probe_backing(img, &is_qed);
    if (ret != QED_OK || !is_qed)
        return ret;
    sub.flags = opts->flags & ~(unsigned)(QED_OPEN_RDWR);
    sub.path = path;
    chain->files = &file;
    ret = open_at_depth(img->backing_io, &sub, img->depth + 1, chain,
                        &img->backing);
    chain->files = file.up;
    if (ret == QED_OK)
        img->backing_size = img->backing->h.image_size;
    return ret;
}

/* HDR-7: clear unknown autoclear bits on read-write open. */
static int clear_unknown_autoclear(qed_image *img)
{
    if (!(img->h.autoclear_features & ~(uint64_t)QED_AUTOCLEAR_FEATURE_MASK))
        return QED_OK;
    img->h.autoclear_features &= QED_AUTOCLEAR_FEATURE_MASK;
    return write_header_sync(img);
}

/* WR-5: check and repair a NEED_CHECK image before read-write use.
 * qed_check repairs, flushes and clears the bit itself, and returns an
 * error whenever it could not do all of that (a table it cannot read
 * stops it; a repair that completes leaves no corruption, CHK-5). */
static int repair_on_open(qed_image *img)
{
    qed_check_result res;

    if (!(img->h.features & QED_F_NEED_CHECK))
        return QED_OK;
    return qed_check(img, QED_REPAIR_CORRUPT, &res);
}

/* Free an image and its chain without touching the file. */
static void free_image(qed_image *img)
{
    if (!img)
        return;
    free_image(img->backing);
    qed_io_close(img->backing_io);
    free(img->backing_name);
    free(img->l1);
    free(img->l2);
    free(img);
}

/* max_chain_table_bytes: charge this image's two tables (L1 and the L2
 * cache) to the chain before they are allocated. */
static int charge_tables(const qed_image *img, chain_walk *chain)
{
    uint64_t need = 2 * table_bytes(&img->h);     /* <= 2 * 64 MiB (HDR-2/3) */
    uint64_t max = chain_table_bound(&img->lim);

    if (chain->table_bytes > max || need > max - chain->table_bytes)
        return QED_ERR_LIMIT;
    chain->table_bytes += need;
    return QED_OK;
}

/* 1 if the open follows backing files at all (not QED_BACKING_NONE nor
 * QED_OPEN_NO_BACKING). */
static int follows_backing(const qed_open_opts *opts)
{
    return !(opts->flags & QED_OPEN_NO_BACKING) &&
           opts->backing_policy != QED_BACKING_NONE;
}

/* The open steps in order: header, name, L1, backing, HDR-7, WR-5. */
static int open_steps(qed_image *img, const qed_open_opts *opts,
                      chain_walk *chain)
{
    int ret = load_header(img);

    if (ret == QED_OK)
        ret = load_backing_name(img);
    if (ret == QED_OK)
        ret = charge_tables(img, chain);
    if (ret == QED_OK)
        ret = load_l1(img);
    if (ret == QED_OK && img->backing_name && follows_backing(opts))
        ret = open_backing(img, opts, chain);
    if (ret != QED_OK || img->state == SESSION_READ_ONLY)
        return ret;
    ret = clear_unknown_autoclear(img);           /* HDR-7 */
    if (ret == QED_OK && !(opts->flags & QED_OPEN_NO_CHECK))
        ret = repair_on_open(img);                /* WR-5 */
    return ret;
}

/* Open io as an image at a given depth of a chain. */
static int open_at_depth(qed_io *io, const qed_open_opts *opts, unsigned depth,
                         chain_walk *chain, qed_image **out)
{
    qed_image *img = calloc(1, sizeof(*img));
    int ret;

    if (!img)
        return QED_ERR_NOMEM;
    img->io = io;
    img->state = (opts->flags & QED_OPEN_RDWR) ? SESSION_CLEAN : SESSION_READ_ONLY;
    img->depth = depth;
    if (opts->limits)
        img->lim = *opts->limits;
    else
        qed_limits_default(&img->lim);
    ret = open_steps(img, opts, chain);
    if (ret != QED_OK) {
        free_image(img);
        return ret;
    }
    *out = img;
    return QED_OK;
}

/* Open an image (see qed.h). */
int qed_open(qed_io *io, const qed_open_opts *opts, qed_image **out)
{
    qed_open_opts o = { 0 };
    chain_file top;
    chain_walk chain = { &top, 0 };

    if (!io || !out)
        return QED_ERR_INVAL;
    if (opts)
        o = *opts;
    if (!o.open_backing)
        o.open_backing = open_backing_posix;
    identify(io, NULL, &top);
    return open_at_depth(io, &o, 0, &chain, out);
}

const qed_header *qed_get_header(const qed_image *img)
{
    return &img->h;
}

const char *qed_backing_name(const qed_image *img)
{
    return img->backing_name;
}

/* "raw" or "qed" for an image with a backing file, else NULL. */
const char *qed_backing_format(const qed_image *img)
{
    if (!img->backing_name)
        return NULL;
    if (img->h.features & QED_F_BACKING_FORMAT_NO_PROBE)
        return "raw";                             /* FEAT-3 */
    if (img->backing_io)
        return img->backing ? "qed" : "raw";
    return "qed";  /* not opened: probing would decide; report the default */
}

/* ================================================================== */
/* 4. Tables: entry validation and the L2 cache                       */
/* ================================================================== */

/* TBL-2, TBL-3: the low bits of a non-zero table entry. */
static int check_entry_bits(const qed_header *h, uint64_t entry)
{
    if (entry & QED_RESERVED_BITS)
        return QED_E_RESERVED_BITS;               /* TBL-2 */
    if (entry & (h->cluster_size - 1))
        return QED_E_MISALIGNED;                  /* TBL-3 */
    return QED_OK;
}

/* TBL-4: a whole table at offset lies after the header and within Lc. */
static int check_table_offset(const qed_header *h, uint64_t offset,
                              uint64_t file_len)
{
    uint64_t end = qed_usable_length(h, file_len);  /* FILE-3 */
    int ret = check_entry_bits(h, offset);

    if (ret != QED_OK)
        return ret;
    if (offset < header_bytes(h) || offset > end ||
        table_bytes(h) > end - offset)
        return QED_E_TABLE_RANGE;
    return QED_OK;
}

/* TBL-6: a data cluster at offset lies after the header and within Lc. */
static int check_data_offset(const qed_header *h, uint64_t offset,
                             uint64_t file_len)
{
    int ret = check_entry_bits(h, offset);

    if (ret != QED_OK)
        return ret;
    if (offset < header_bytes(h) || offset >= qed_usable_length(h, file_len))
        return QED_E_DATA_RANGE;
    return QED_OK;
}

/* The offset of an L2 table, or l1_table_offset (see qed.h). */
int qed_check_table_offset(const qed_header *h, uint64_t offset,
                           uint64_t file_len)
{
    int ret = validate_geometry(h);

    return ret != QED_OK ? ret : check_table_offset(h, offset, file_len);
}

/* An L1 entry: 0 is unallocated (TBL-5), any other value an L2 table's
 * offset (see qed.h). */
int qed_check_l1_entry(const qed_header *h, uint64_t entry, uint64_t file_len)
{
    int ret = validate_geometry(h);

    if (ret != QED_OK || entry == 0)
        return ret;                               /* TBL-5 */
    return check_table_offset(h, entry, file_len);
}

/* An L2 entry: 0 is unallocated (TBL-5), 1 a zero cluster (ZERO-1), any
 * other value a data cluster's offset (see qed.h). */
int qed_check_l2_entry(const qed_header *h, uint64_t entry, uint64_t file_len)
{
    int ret = validate_geometry(h);

    if (ret != QED_OK || entry == 0 || entry == QED_ZERO_CLUSTER)
        return ret;                               /* TBL-5, ZERO-1 */
    return check_data_offset(h, entry, file_len);
}


/* XLT-1: the index of off in the L1 table, in its L2 table, and the byte. */
static uint64_t l1_index(const qed_image *img, uint64_t off)
{
    return off >> (img->cluster_bits + img->entry_bits);
}

static uint64_t l2_index(const qed_image *img, uint64_t off)
{
    return (off >> img->cluster_bits) & (img->nentries - 1);
}

static uint64_t cluster_offset_in(const qed_image *img, uint64_t off)
{
    return off & (img->h.cluster_size - 1);
}

/* Load the L2 table named by L1 entry idx (not 0) into the cache (TBL-4;
 * the geometry was validated at open). */
static int load_l2(qed_image *img, uint64_t idx)
{
    uint64_t offset = img->l1[idx];
    int ret;

    if (img->l2_offset == offset)
        return QED_OK;
    ret = check_table_offset(&img->h, offset, img->alloc_end);  /* TBL-2/3/4, XLT-4 */
    if (ret != QED_OK)
        return ret;
    img->l2_offset = 0;
    ret = read_table(img, offset, img->l2);
    if (ret == QED_OK)
        img->l2_offset = offset;
    return ret;
}

/* What one cluster's L2 entry says. */
enum cluster_kind { K_UNALLOC, K_ZERO, K_DATA };

/* Classify a (non-L1-unallocated) L2 entry, validating data offsets. */
static int classify_entry(const qed_image *img, uint64_t entry,
                          enum cluster_kind *kind)
{
    if (entry == 0) {
        *kind = K_UNALLOC;                        /* TBL-5 */
        return QED_OK;
    }
    if (entry == QED_ZERO_CLUSTER) {
        *kind = K_ZERO;                           /* ZERO-1 */
        return QED_OK;
    }
    *kind = K_DATA;                               /* geometry valid since open */
    return check_data_offset(&img->h, entry, img->alloc_end);  /* TBL-2/3/6, XLT-4 */
}

/* A run of clusters that read the same way. */
typedef struct run {
    enum cluster_kind kind;
    uint64_t host;      /* K_DATA: file offset of off itself */
    uint64_t len;       /* bytes from off */
} run;

/* Find the run at off (at most len bytes, never past one L2 table):
 * K_DATA runs are physically contiguous; K_UNALLOC and K_ZERO runs are
 * uniform. */
static int find_run(qed_image *img, uint64_t off, uint64_t len, run *r)
{
    uint64_t cluster_size = img->h.cluster_size, i = l2_index(img, off);
    uint64_t avail = (img->nentries - i) * cluster_size - cluster_offset_in(img, off);
    uint64_t first, n = 1;
    enum cluster_kind k;
    int ret;

    r->len = MIN(len, avail);
    if (img->l1[l1_index(img, off)] == 0) {       /* TBL-5, XLT-2 */
        r->kind = K_UNALLOC;
        return QED_OK;
    }
    ret = load_l2(img, l1_index(img, off));
    if (ret != QED_OK)
        return ret;
    first = img->l2[i];
    ret = classify_entry(img, first, &r->kind);
    if (ret != QED_OK)
        return ret;
    r->host = r->kind == K_DATA ? first + cluster_offset_in(img, off) : 0;
    while (n * cluster_size - cluster_offset_in(img, off) < r->len) {
        uint64_t e = img->l2[i + n];
        if (classify_entry(img, e, &k) != QED_OK || k != r->kind ||
            (k == K_DATA && e != first + n * cluster_size))
            break;
        n++;
    }
    r->len = MIN(r->len, n * cluster_size - cluster_offset_in(img, off));
    return QED_OK;
}

/* ================================================================== */
/* 5. Translation, read and map                                       */
/* ================================================================== */

/* XLT-3: off+len must lie within the virtual disk. */
static int check_request(const qed_image *img, uint64_t off, uint64_t len)
{
    if (len > img->h.image_size || off > img->h.image_size - len)
        return QED_ERR_INVAL;
    return QED_OK;
}

/* XLT-2, BACK-3: read from the backing file, zeroes past its end. */
static int read_backing(qed_image *img, uint64_t off, uint8_t *buf, size_t len)
{
    size_t have = 0;

    if (img->backing_name && !img->backing_io)
        return QED_ERR_BACKING;
    if (img->backing_io && off < img->backing_size)
        have = (size_t)MIN((uint64_t)len, img->backing_size - off);
    memset(buf + have, 0, len - have);            /* BACK-3 */
    if (have == 0)
        return QED_OK;
    if (img->backing)
        return qed_read(img->backing, off, buf, have);
    return img->backing_io->read(img->backing_io, off, buf, have);
}

/* Read len bytes at logical offset off. */
int qed_read(qed_image *img, uint64_t off, void *buf, size_t len)
{
    uint8_t *dst = buf;
    int ret = check_request(img, off, len);

    while (ret == QED_OK && len > 0) {
        run r;
        ret = find_run(img, off, len, &r);
        if (ret != QED_OK)
            break;
        if (r.kind == K_DATA)
            ret = img->io->read(img->io, r.host, dst, (size_t)r.len);
        else if (r.kind == K_ZERO)
            memset(dst, 0, (size_t)r.len);        /* ZERO-1: never the backing file */
        else
            ret = read_backing(img, off, dst, (size_t)r.len);  /* XLT-2 */
        dst += r.len;
        off += r.len;
        len -= (size_t)r.len;
    }
    return ret;
}

/* Map one run at off in this image (no merging across runs). */
static int map_one(qed_image *img, uint64_t off, uint64_t len, qed_extent *e)
{
    run r;
    int ret = find_run(img, off, len, &r);

    if (ret != QED_OK)
        return ret;
    e->start = off;
    e->length = r.len;
    e->depth = img->depth;
    e->offset = 0;
    if (r.kind == K_DATA) {
        e->flags = QED_MAP_PRESENT | QED_MAP_DATA;
        e->offset = r.host;
        return QED_OK;
    }
    e->flags = r.kind == K_ZERO ? QED_MAP_PRESENT | QED_MAP_ZERO : QED_MAP_ZERO;
    if (r.kind != K_ZERO && img->backing_name && !img->backing_io) {
        e->flags = 0;           /* in a backing file not opened: unknown */
        return QED_OK;
    }
    if (r.kind == K_ZERO || !img->backing_io || off >= img->backing_size)
        return QED_OK;          /* zero cluster, no backing, or past its end */
    e->length = MIN(r.len, img->backing_size - off);
    if (img->backing)
        return map_one(img->backing, off, e->length, e);
    e->depth = img->depth + 1;                    /* raw backing: data at off */
    e->flags = QED_MAP_PRESENT | QED_MAP_DATA;
    e->offset = off;
    return QED_OK;
}

/* True if b continues a with the same status. */
static int extends(const qed_extent *a, const qed_extent *b)
{
    if (a->depth != b->depth || a->flags != b->flags)
        return 0;
    return !(a->flags & QED_MAP_DATA) || b->offset == a->offset + a->length;
}

/* Longest run at off with one status, at most max_len bytes. */
int qed_map(qed_image *img, uint64_t off, uint64_t max_len, qed_extent *ext)
{
    qed_extent next;
    int ret;

    if (off >= img->h.image_size || max_len == 0)
        return QED_ERR_INVAL;
    max_len = MIN(max_len, img->h.image_size - off);
    ret = map_one(img, off, max_len, ext);
    if (ret != QED_OK)
        return ret;
    while (ext->length < max_len) {
        /* an error further on ends the extent; the next call reports it */
        if (map_one(img, off + ext->length, max_len - ext->length, &next) != QED_OK ||
            !extends(ext, &next))
            break;
        ext->length += next.length;
    }
    return QED_OK;
}

/* ================================================================== */
/* 7. Writing                                                         */
/* ================================================================== */

/* --- The session (see SESSION STATES at the top) -------------------- */

/* Whether the session takes writes: QED_ERR_RDONLY for a read-only image,
 * QED_ERR_FAILED once a write or flush has failed, else QED_OK. */
static int check_writable(const qed_image *img)
{
    if (img->state == SESSION_READ_ONLY)
        return QED_ERR_RDONLY;
    if (img->state == SESSION_FAILED)
        return QED_ERR_FAILED;
    return QED_OK;
}

/* The one way into SESSION_FAILED: ret is the status of an operation that
 * had begun to write (its checks passed); an environment error (ret < 0)
 * fails the session for good.  Returns ret. */
static int fail_session(qed_image *img, int ret)
{
    if (ret < 0)
        img->state = SESSION_FAILED;
    return ret;
}

/* A write request was accepted: CLEAN becomes UNFLUSHED. */
static void note_unflushed(qed_image *img)
{
    if (img->state == SESSION_CLEAN)
        img->state = SESSION_UNFLUSHED;
}

/* Before the first table write of a session, set NEED_CHECK, write the
 * header and flush; the session is then MARKED.  Nothing to do when the
 * bit is set already: by this session, or before it began (the WR-5
 * repair, QED_OPEN_NO_CHECK). */
static int set_need_check(qed_image *img)
{
    int ret;

    if (img->h.features & QED_F_NEED_CHECK)
        return QED_OK;
    img->h.features |= QED_F_NEED_CHECK;
    ret = write_header_sync(img);                 /* WR-1 */
    if (ret != QED_OK) {
        img->h.features &= ~(uint64_t)QED_F_NEED_CHECK;  /* not known durable */
        return ret;
    }
    img->state = SESSION_MARKED;
    return QED_OK;
}

/* Clear NEED_CHECK after everything written before: flush (unless the
 * session is CLEAN, with nothing pending), clear the bit and write the
 * header, flush.  The end of a MARKED session (WR-4) and the last step of
 * a repair (WR-5); the session is CLEAN afterwards.  On failure the bit
 * stays set in memory too. */
static int clear_need_check(qed_image *img)
{
    int ret = QED_OK;

    if (!(img->h.features & QED_F_NEED_CHECK))
        return QED_OK;
    if (img->state != SESSION_CLEAN)
        ret = img->io->flush(img->io);            /* before the clean mark */
    if (ret == QED_OK) {
        img->h.features &= ~(uint64_t)QED_F_NEED_CHECK;
        ret = write_header_sync(img);
    }
    if (ret != QED_OK) {
        img->h.features |= QED_F_NEED_CHECK;      /* not known durable */
        return ret;
    }
    img->state = SESSION_CLEAN;
    return QED_OK;
}

/* The one place a session ends (qed_close): what it must still write
 * follows from its state.  A FAILED session writes nothing more: a flush
 * after a failed one vouches for nothing, and NEED_CHECK must stay. */
static int end_session(qed_image *img)
{
    switch (img->state) {
    case SESSION_UNFLUSHED:
        return img->io->flush(img->io);
    case SESSION_MARKED:
        return clear_need_check(img);             /* WR-4 */
    default:
        return QED_OK;          /* READ_ONLY, CLEAN, FAILED: nothing */
    }
}

/* --- Allocation and table writes ------------------------------------ */

/* Reserve n clusters at the first cluster boundary at or after alloc_end
 * (a trailing partial cluster is skipped, FILE-3). */
static int alloc_clusters(qed_image *img, uint64_t n, uint64_t *offset)
{
    uint64_t cluster_size = img->h.cluster_size, end = img->alloc_end;
    uint64_t start = end + (cluster_size - end % cluster_size) % cluster_size;

    if (start < end || n > (UINT64_MAX - start) / cluster_size)
        return QED_ERR_NOSPC;
    *offset = start;
    img->alloc_end = start + n * cluster_size;    /* WR-6 */
    return QED_OK;
}

/* Write count host-order entries of a table, starting at entry first
 * (TBL-1: as they stand on a little-endian host, else through a copy). */
static int write_entries(qed_image *img, uint64_t table_off, const uint64_t *t,
                         uint64_t first, uint64_t count)
{
    uint8_t *raw;
    int ret;

    if (host_is_le())
        return img->io->write(img->io, table_off + first * 8, t + first,
                              (size_t)count * 8);
    raw = malloc((size_t)count * 8);
    if (!raw)
        return QED_ERR_NOMEM;
    for (uint64_t i = 0; i < count; i++)
        put_le64(raw + 8 * i, t[first + i]);
    ret = img->io->write(img->io, table_off + first * 8, raw, (size_t)count * 8);
    free(raw);
    return ret;
}

/* Write a new L2 table (already filled in img->l2) at the end of the
 * file, flush, then point L1 entry idx at it. */
static int install_l2_table(qed_image *img, uint64_t idx)
{
    uint64_t offset;
    int ret = alloc_clusters(img, img->h.table_size, &offset);

    if (ret == QED_OK)
        ret = write_entries(img, offset, img->l2, 0, img->nentries);
    if (ret == QED_OK)
        ret = img->io->flush(img->io);            /* WR-2 */
    if (ret != QED_OK) {
        img->l2_offset = 0;
        return ret;
    }
    img->l2_offset = offset;
    img->l1[idx] = offset;
    return write_entries(img, img->h.l1_table_offset, img->l1, idx, 1);
}

/* Point entries [i, i+n) of the L2 table for off at values, creating the
 * table if needed; value_step is added per cluster (data) or 0 (zero).
 * The write path's table writer: its callers have set NEED_CHECK. */
static int update_l2(qed_image *img, uint64_t off, uint64_t n, uint64_t value,
                     uint64_t value_step)
{
    uint64_t idx = l1_index(img, off), i = l2_index(img, off);
    int ret = QED_OK;

    if (img->l1[idx] == 0) {
        memset(img->l2, 0, (size_t)img->nentries * 8);
        img->l2_offset = 0;
    } else if ((ret = load_l2(img, idx)) != QED_OK) {
        return ret;
    }
    for (uint64_t k = 0; k < n; k++)
        img->l2[i + k] = value + k * value_step;
    if (img->l1[idx] == 0)
        return install_l2_table(img, idx);
    return write_entries(img, img->l2_offset, img->l2, i, n);
}

/* The fill for a partial cluster of a new run (WR-7): backing bytes, or
 * zero for a zero cluster or without a backing file.  Returns 1 if it is
 * all zero without reading anything. */
static int fill_is_zero(const qed_image *img, enum cluster_kind kind)
{
    return kind == K_ZERO || !img->backing_name;
}

/* Write the bytes of a new cluster range [lo, hi) (logical) that the write
 * does not cover, at host offset host: from the backing file, or zero. */
static int write_fill(qed_image *img, uint64_t lo, uint64_t hi, uint64_t host,
                      enum cluster_kind kind)
{
    uint8_t *buf;
    int ret;

    if (hi <= lo)
        return QED_OK;
    buf = calloc(1, (size_t)(hi - lo));
    if (!buf)
        return QED_ERR_NOMEM;
    ret = fill_is_zero(img, kind) ? QED_OK
                                  : read_backing(img, lo, buf, (size_t)(hi - lo));
    if (ret == QED_OK)
        ret = img->io->write(img->io, host, buf, (size_t)(hi - lo));
    free(buf);
    return ret;
}

/* Write a new run: n fresh clusters at host for logical [start, end)
 * holding data at [off, off+len).  Head and tail fill per WR-7; a zero head
 * is skipped (the space past the old end of file reads as zero) but the
 * tail always reaches the run's end so the file covers every cluster.
 * With a backing file the run is flushed before anything points at it. */
static int write_new_clusters(qed_image *img, const run *r, uint64_t start,
                              uint64_t n, uint64_t host, uint64_t off,
                              const uint8_t *data, uint64_t len)
{
    uint64_t end = start + n * img->h.cluster_size, tail = off + len;
    int ret = QED_OK;

    if (!fill_is_zero(img, r->kind))
        ret = write_fill(img, start, off, host, r->kind);
    if (ret == QED_OK)
        ret = img->io->write(img->io, host + (off - start), data, (size_t)len);
    if (ret == QED_OK && tail < end) {
        if (fill_is_zero(img, r->kind) && end - tail > QED_SECTOR_SIZE)
            tail = end - QED_SECTOR_SIZE;         /* a zero tail: its last sector */
        ret = write_fill(img, tail, end, host + (tail - start), r->kind);  /* WR-7 */
    }
    if (ret == QED_OK && img->backing_name)
        ret = img->io->flush(img->io);            /* WR-3 */
    return ret;
}

/* Write one run that needs new clusters (unallocated or zero clusters):
 * NEED_CHECK first, before the new clusters too (a session that fails
 * while appending is then marked), the data, then the L2 entries. */
static int write_allocating(qed_image *img, const run *r, uint64_t off,
                            const uint8_t *data)
{
    uint64_t cluster_size = img->h.cluster_size;
    uint64_t start = off - cluster_offset_in(img, off);
    uint64_t n = (off + r->len - start + cluster_size - 1) / cluster_size;
    uint64_t host;
    int ret = set_need_check(img);

    if (ret == QED_OK)
        ret = alloc_clusters(img, n, &host);
    if (ret == QED_OK)
        ret = write_new_clusters(img, r, start, n, host, off, data, r->len);
    if (ret == QED_OK)
        ret = update_l2(img, start, n, host, cluster_size);  /* after WR-3 */
    return ret;
}

/* A write request's checks: the session takes writes, and XLT-3. */
static int check_write_request(const qed_image *img, uint64_t off, uint64_t len)
{
    int ret = check_writable(img);

    return ret != QED_OK ? ret : check_request(img, off, len);
}

/* A write whose new clusters would take fill bytes from a backing file
 * this open did not open (QED_BACKING_NONE, QED_OPEN_NO_BACKING) is
 * refused before it writes anything, not even NEED_CHECK: QED_ERR_BACKING,
 * the image as it was and the session still usable.  Only then is the
 * request walked a second time. */
static int check_fill_available(qed_image *img, uint64_t off, uint64_t len)
{
    while (img->backing_name && !img->backing_io && len > 0) {
        run r;
        int ret = find_run(img, off, len, &r);
        if (ret != QED_OK)
            return ret;
        if (r.kind == K_UNALLOC && (cluster_offset_in(img, off) != 0 ||
                                    cluster_offset_in(img, off + r.len) != 0))
            return QED_ERR_BACKING;               /* WR-7's fill is unreadable */
        off += r.len;
        len -= r.len;
    }
    return QED_OK;
}

/* Write len bytes at logical offset off. */
int qed_write(qed_image *img, uint64_t off, const void *buf, size_t len)
{
    const uint8_t *src = buf;
    int ret = check_write_request(img, off, len);

    if (ret == QED_OK)
        ret = check_fill_available(img, off, len);
    if (ret != QED_OK || len == 0)
        return ret;
    note_unflushed(img);
    while (ret == QED_OK && len > 0) {
        run r;
        ret = find_run(img, off, len, &r);
        if (ret != QED_OK)
            break;
        if (r.kind == K_DATA)
            ret = img->io->write(img->io, r.host, src, (size_t)r.len);  /* WR-10 */
        else
            ret = write_allocating(img, &r, off, src);
        src += r.len;
        off += r.len;
        len -= (size_t)r.len;
    }
    return fail_session(img, ret);
}

/* Write zero bytes [off, off+len) as data (partial clusters, WR-8). */
static int write_zero_bytes(qed_image *img, uint64_t off, uint64_t len)
{
    size_t chunk = (size_t)MIN(len, (uint64_t)COPY_CHUNK);
    uint8_t *zero = calloc(1, chunk ? chunk : 1);
    int ret = zero ? QED_OK : QED_ERR_NOMEM;

    while (ret == QED_OK && len > 0) {
        size_t n = (size_t)MIN(len, (uint64_t)chunk);
        ret = qed_write(img, off, zero, n);
        off += n;
        len -= n;
    }
    free(zero);
    return ret;
}

/* Whole clusters [off, off+len): ZERO-1 entries where nothing is
 * allocated, zeroes written in place where data clusters exist, zero
 * clusters left alone. */
static int zero_whole_clusters(qed_image *img, uint64_t off, uint64_t len)
{
    int ret = QED_OK;

    while (ret == QED_OK && len > 0) {
        run r;
        ret = find_run(img, off, len, &r);
        if (ret != QED_OK)
            break;
        if (r.kind == K_DATA)
            ret = write_zero_bytes(img, off, r.len);
        else if (r.kind == K_UNALLOC && (ret = set_need_check(img)) == QED_OK)
            ret = update_l2(img, off, r.len >> img->cluster_bits,
                            QED_ZERO_CLUSTER, 0);  /* WR-8 */
        off += r.len;
        len -= r.len;
    }
    return ret;
}

/* Write zeroes over [off, off+len) (WR-8): the partial clusters at
 * either end as data, the whole clusters between by their state. */
int qed_write_zeroes(qed_image *img, uint64_t off, uint64_t len)
{
    uint64_t cluster_size = img->h.cluster_size, head, body;
    int ret = check_write_request(img, off, len);

    if (ret != QED_OK || len == 0)
        return ret;
    note_unflushed(img);
    head = MIN(len, (cluster_size - off % cluster_size) % cluster_size);
    ret = write_zero_bytes(img, off, head);
    off += head;
    len -= head;
    body = len - len % cluster_size;
    if (ret == QED_OK)
        ret = zero_whole_clusters(img, off, body);
    if (ret == QED_OK)
        ret = write_zero_bytes(img, off + body, len - body);
    return fail_session(img, ret);
}

/* Flush the image file; in a failed session, refused (QED_ERR_FAILED):
 * what the session wrote can no longer be vouched for. */
int qed_flush(qed_image *img)
{
    int ret;

    if (img->state == SESSION_FAILED)
        return QED_ERR_FAILED;
    ret = img->io->flush(img->io);
    if (img->state == SESSION_READ_ONLY)
        return ret;
    if (ret == QED_OK && img->state == SESSION_UNFLUSHED)
        img->state = SESSION_CLEAN;
    return fail_session(img, ret);
}

/* --- Resize, rebase, close ------------------------------------------ */

/* Grow the virtual size: image_size rewritten in the header, flushed. */
int qed_resize(qed_image *img, uint64_t new_size)
{
    uint64_t old = img->h.image_size;
    int ret = check_writable(img);

    if (ret != QED_OK)
        return ret;
    if (new_size < old)
        return QED_E_SHRINK;                      /* WR-9 */
    ret = validate_image_size(&img->h, new_size); /* HDR-9, HDR-10 */
    if (ret != QED_OK || new_size == old)
        return ret;
    img->h.image_size = new_size;
    ret = write_header_sync(img);
    if (ret != QED_OK)
        img->h.image_size = old;
    return fail_session(img, ret);
}

/* Whether the backing file may become name (len bytes; NULL removes it):
 * the session takes writes, HDR-6, HDR-12, and the name fits (HDR-11). */
static int check_rebase(const qed_image *img, const char *name, size_t len)
{
    int ret = check_writable(img);

    if (ret != QED_OK)
        return ret;
    if (img->h.compat_features & ~(uint64_t)QED_COMPAT_FEATURE_MASK)
        return QED_E_COMPAT_REBASE;               /* HDR-6 */
    if (name && len == 0)
        return QED_E_BACKING_EMPTY;               /* HDR-12 */
    if (len >= MAX_BACKING_NAME || QED_HEADER_BYTES + len > header_bytes(&img->h))
        return QED_ERR_LIMIT;                     /* HDR-11: must fit */
    return QED_OK;
}

/* The header after a rebase to name (len bytes, or NULL) in format. */
static qed_header rebased_header(const qed_header *old, const char *name,
                                 size_t len, const char *format)
{
    qed_header h = *old;

    h.features &= ~(uint64_t)(QED_F_BACKING_FILE | QED_F_BACKING_FORMAT_NO_PROBE);
    if (name)
        h.features |= QED_F_BACKING_FILE;
    if (name && format && strcmp(format, "raw") == 0)
        h.features |= QED_F_BACKING_FORMAT_NO_PROBE;
    h.backing_filename_offset = name ? QED_HEADER_BYTES : 0;
    h.backing_filename_size = (uint32_t)len;
    return h;
}

/* Write header h and the name's len bytes at offset 0 in one write, then
 * flush. */
static int write_rebase(qed_image *img, const qed_header *h, const char *name,
                        size_t len)
{
    uint8_t *buf = malloc(QED_HEADER_BYTES + len);
    int ret;

    if (!buf)
        return QED_ERR_NOMEM;
    qed_header_encode(h, buf);
    memcpy(buf + QED_HEADER_BYTES, name ? name : "", len);
    ret = img->io->write(img->io, 0, buf, QED_HEADER_BYTES + len);  /* WR-11 */
    free(buf);
    return ret != QED_OK ? ret : img->io->flush(img->io);
}

/* Take the rewritten header and the name (copy, owned, or NULL) as the
 * image's own: the old backing chain is closed; the new backing file is
 * opened by the next qed_open (until then, reading an unallocated cluster
 * fails with QED_ERR_BACKING). */
static void adopt_backing(qed_image *img, const qed_header *h, char *copy)
{
    free_image(img->backing);
    qed_io_close(img->backing_io);
    free(img->backing_name);
    img->backing = NULL;
    img->backing_io = NULL;
    img->backing_size = 0;
    img->backing_name = copy;
    img->h = *h;
}

/* Change the backing file name and format (rebase -u).  Everything that
 * can fail without writing (the checks, the name's copy) comes first. */
int qed_set_backing(qed_image *img, const char *name, const char *format)
{
    size_t len = name ? strlen(name) : 0;
    qed_header h;
    char *copy = NULL;
    int ret = check_rebase(img, name, len);

    if (ret != QED_OK)
        return ret;
    if (name && !(copy = malloc(len + 1)))
        return QED_ERR_NOMEM;
    if (copy)
        memcpy(copy, name, len + 1);
    h = rebased_header(&img->h, name, len, format);
    ret = fail_session(img, write_rebase(img, &h, name, len));
    if (ret != QED_OK) {
        free(copy);
        return ret;
    }
    adopt_backing(img, &h, copy);
    return QED_OK;
}

/* Close: end the session (end_session: flush what it wrote, WR-4 when it
 * set NEED_CHECK, nothing more after a failure), then free the image. */
int qed_close(qed_image *img)
{
    int ret;

    if (!img)
        return QED_OK;
    ret = end_session(img);
    free_image(img);
    return ret;
}

/* ================================================================== */
/* 8. Check and repair                                                */
/* ================================================================== */

/*
 * qed_check walks the image once to count what is wrong with it as found
 * (CHK-1..4), and, when asked to repair, walks it again to repair it; the
 * repairing walks' own counts are not reported, so a check and a
 * repairing check always report the same counts.  One walk is:
 *   pass 1   L1 entries: validate, claim each L2 table's clusters; when
 *            repairing, a duplicate table is copied and the copy walked;
 *   pass 2   L2 entries: validate and claim; repairs are recorded in a fix
 *            list (duplicates are copied now, from unmodified bytes, so
 *            every copy holds what its reference saw: CHK-6);
 *   leaks    count the clusters nothing took (CHK-4); with leak repair,
 *            truncate the trailing ones (CHK-7);
 *   write    (write_repairs) flush the copies, rewrite each L2 table that
 *            has fixes, flush, write L1, flush.
 * Before the repairing walk, a corruption repair plans: a walk that
 * follows the repair's steps without writing (a duplicate L2 table's
 * copy is walked as the table it would copy, which holds the same
 * bytes), adding up the bytes its copies would take and stopping once
 * they pass the budget (CHK-5's note on repair's budget).  When the image
 * has both entries past the end of the file and duplicates, a first
 * repairing walk resets the entries past the end, and writes and flushes
 * them, before the copying walk grows the file (check_and_repair).
 */

/* The internal repair bits: a planning walk (see above), and a walk that
 * resets only the invalid entries that point past the end of the file,
 * leaving the other corruptions as they are (the first of two repairing
 * walks, check_and_repair). */
#define REPAIR_PLAN (1u << 8)
#define REPAIR_PAST_END_ONLY (1u << 9)

/* How an entry is bad: invalid for good (TBL-2, TBL-3, or naming the
 * header), invalid because it points past the end of the file (TBL-4,
 * TBL-6: a copy appended there would make it valid), or a duplicate
 * reference (CHK-1). */
enum bad_entry { BAD_INVALID, BAD_PAST_END, BAD_DUPLICATE };

/* What one walk found beyond the counts it reports: of the corruptions it
 * counted, the entries past the end of the file and the duplicates, and
 * the first error that made an L2 table unreadable (QED_OK if none). */
typedef struct walk_found {
    uint64_t past_end, duplicates;
    int read_error;
} walk_found;

/* The entries a REPAIR_PAST_END_ONLY walk reset: where each lies in the
 * file and what it held (host order), sorted by offset once that walk's
 * writes are done.  The second repairing walk puts them back into every
 * copy it takes of bytes that held them, so that the copy holds what its
 * reference saw in the damaged image (CHK-6). */
typedef struct entry_reset {
    uint64_t off, old;
} entry_reset;

typedef struct reset_list {
    entry_reset *r;
    size_t n, cap;
} reset_list;

typedef struct table_fix {
    uint64_t l1_idx;      /* table: the one L1 entry idx points at */
    uint64_t l2_idx;      /* entry in it */
    uint64_t value;       /* new entry */
} table_fix;

/* A planning walk's memory of the table it walked last: its offset, how
 * many times in a row it was walked, and what its second walk found. */
typedef struct table_replay {
    uint64_t table;       /* 0: none (no table lies at 0, TBL-4) */
    unsigned walks;
    uint64_t duplicates, invalid, past_end;   /* invalid: past_end included */
} table_replay;

typedef struct check_state {
    qed_image *img;
    unsigned repair;
    qed_check_result *res;
    uint64_t file_len;    /* the file's length when the check began: entries
                             are judged against it, never against the copies
                             repair appends */
    uint64_t nclusters;   /* whole clusters in it */
    uint8_t *used;        /* one bit per cluster: referenced */
    uint8_t *walk;        /* per L1 entry: 1 if its L2 table is walked */
    table_fix *fixes;     /* pass 2 repairs, in L1 order */
    size_t nfixes, fixes_cap;
    int l1_changed;
    int relocated;        /* repair appended clusters */
    int plan;             /* a planning walk: writes nothing, changes no entry */
    int past_end_only;    /* REPAIR_PAST_END_ONLY: other corruptions are
                             only counted */
    reset_list *resets;   /* past_end_only: records its resets; a second
                             repairing walk: undoes them in its copies */
    walk_found found;
    uint64_t budget;      /* planning: the most bytes the copies may take */
    uint64_t last_data;   /* for fragmentation */
    uint8_t *bounce;      /* copy_clusters' buffer, kept for the walk */
    size_t bounce_len;
    table_replay replay;  /* planning: the last table walked (replan_table) */
} check_state;

static int bit_test(const uint8_t *map, uint64_t n)
{
    return (map[n / 8] >> (n % 8)) & 1;
}

static void bit_set(uint8_t *map, uint64_t n)
{
    map[n / 8] = (uint8_t)(map[n / 8] | 1u << (n % 8));
}

/* CHK-1: claim clusters [first, first+n) of the scanned range; returns 1
 * if all were free (and marks them), 0 if any was referenced already. */
static int claim_clusters(check_state *chk, uint64_t offset, uint64_t n)
{
    uint64_t first = offset >> chk->img->cluster_bits;

    for (uint64_t k = 0; k < n; k++)
        if (first + k < chk->nclusters && bit_test(chk->used, first + k))
            return 0;
    for (uint64_t k = 0; k < n; k++)
        if (first + k < chk->nclusters)
            bit_set(chk->used, first + k);
    return 1;
}

/* The walk's bounce buffer, at least len bytes (grown as needed: a repair
 * may copy one cluster after another); NULL if there is no memory. */
static uint8_t *bounce_buffer(check_state *chk, size_t len)
{
    uint8_t *p;

    if (len <= chk->bounce_len)
        return chk->bounce;
    p = alloc_io_buffer(len);                     /* its bytes are not kept */
    if (!p)
        return NULL;
    free(chk->bounce);
    chk->bounce = p;
    chk->bounce_len = len;
    return p;
}

/* The index of the first reset at file offset >= off (rl->n if none). */
static size_t first_reset_from(const reset_list *rl, uint64_t off)
{
    size_t lo = 0, hi = rl->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rl->r[mid].off < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Put back, into buf holding the k bytes at file offset off, the old
 * value of every entry the first repairing walk reset there (an entry is
 * 8 bytes at an 8-aligned offset, and off and k are multiples of 8).  The
 * range is found by two binary searches, so that the loop that a copy of
 * a much-reset table runs per entry does one comparison a step. */
static void undo_resets(const reset_list *rl, uint64_t off, uint8_t *buf, size_t k)
{
    const entry_reset *r, *end;

    if (!rl || rl->n == 0)
        return;
    r = rl->r + first_reset_from(rl, off);
    end = rl->r + first_reset_from(rl, off > UINT64_MAX - k ? UINT64_MAX : off + k);
    for (; r != end; r++)
        put_le64(buf + (r->off - off), r->old);
}

/* CHK-5: copy n clusters at src to fresh clusters at the end of the file,
 * as they were before the first repairing walk's resets (CHK-6). */
static int copy_clusters(check_state *chk, uint64_t src, uint64_t n, uint64_t *dst)
{
    qed_image *img = chk->img;
    uint64_t bytes = n * img->h.cluster_size, done = 0;
    uint8_t *buf = bounce_buffer(chk, (size_t)MIN(bytes, (uint64_t)COPY_CHUNK));
    int ret = buf ? alloc_clusters(img, n, dst) : QED_ERR_NOMEM;

    while (ret == QED_OK && done < bytes) {
        size_t k = (size_t)MIN(bytes - done, (uint64_t)COPY_CHUNK);
        ret = img->io->read(img->io, src + done, buf, k);
        undo_resets(chk->resets, src + done, buf, k);
        if (ret == QED_OK)
            ret = img->io->write(img->io, *dst + done, buf, k);
        done += k;
    }
    chk->relocated = 1;
    return ret;
}

/* Add the n clusters of one copy to the bytes the repair's copies take
 * (saturating); a planning walk stops with QED_ERR_REPAIR_BUDGET once they
 * pass the budget, which bounds its work too: each copied table it walks
 * costs table_size clusters of the budget. */
static int charge_copy(check_state *chk, uint64_t n)
{
    uint64_t bytes = n << chk->img->cluster_bits, *total = &chk->res->repair_bytes;

    *total = bytes > UINT64_MAX - *total ? UINT64_MAX : *total + bytes;
    return chk->plan && *total > chk->budget ? QED_ERR_REPAIR_BUDGET : QED_OK;
}

/* Make the array *items of *cap elements of elem bytes hold at least
 * n + 1 (n <= *cap), doubling it from 64; QED_ERR_NOMEM when it cannot. */
static int grow_list(void **items, size_t *cap, size_t n, size_t elem)
{
    size_t want = *cap ? *cap * 2 : 64;
    void *p;

    if (n < *cap)
        return QED_OK;
    p = want > SIZE_MAX / elem ? NULL : realloc(*items, want * elem);
    if (!p)
        return QED_ERR_NOMEM;
    *items = p;
    *cap = want;
    return QED_OK;
}

/* Record that the entry at file offset off, holding old, is reset. */
static int record_reset(check_state *chk, uint64_t off, uint64_t old)
{
    reset_list *rl = chk->resets;
    void *items = rl->r;
    int ret = grow_list(&items, &rl->cap, rl->n, sizeof(*rl->r));

    rl->r = items;
    if (ret != QED_OK)
        return ret;
    rl->r[rl->n++] = (entry_reset){ off, old };
    return QED_OK;
}

/* The kind of an invalid entry e, which its offset check refused with
 * why (TBL-4, TBL-6 past the end of the file: BAD_PAST_END). */
static enum bad_entry invalid_kind(const qed_header *h, uint64_t e, int why)
{
    return (why == QED_E_TABLE_RANGE || why == QED_E_DATA_RANGE) &&
           e >= header_bytes(h) ? BAD_PAST_END : BAD_INVALID;
}

/* Count and, with repair, compute the fix for one bad entry, which lies
 * at file offset off: invalid entries become 0, duplicates get a copy of
 * their n clusters (CHK-2, CHK-5).  *entry is left alone without repair,
 * when planning (which only charges the copy) and in a past-end-only
 * walk for any other kind; that walk records each entry it resets. */
static int fix_entry(check_state *chk, uint64_t *entry, uint64_t off,
                     enum bad_entry kind, uint64_t n)
{
    int duplicate = kind == BAD_DUPLICATE, ret;

    chk->res->corruptions++;
    if (duplicate)
        chk->found.duplicates++;
    else if (kind == BAD_PAST_END)
        chk->found.past_end++;
    if (!(chk->repair & QED_REPAIR_CORRUPT) && !chk->plan)
        return QED_OK;
    if (chk->past_end_only && kind != BAD_PAST_END)
        return QED_OK;                            /* the second walk's */
    ret = duplicate ? charge_copy(chk, n) : QED_OK;
    if (ret != QED_OK || chk->plan)
        return ret;
    ret = set_need_check(chk->img);               /* repair writes tables (WR-1) */
    if (ret != QED_OK)
        return ret;
    if (!duplicate) {
        ret = chk->past_end_only ? record_reset(chk, off, *entry) : QED_OK;
        *entry = 0;                               /* invalid -> unallocated */
        return ret;
    }
    return copy_clusters(chk, *entry, n, entry);  /* CHK-6 */
}

static uint64_t next_nonzero_entry(const uint8_t *raw, uint64_t from, uint64_t n);

/* Pass 1: validate every L1 entry and claim its L2 table (CHK-1, CHK-3);
 * unallocated entries (TBL-5) are skipped 32 at a time
 * (next_nonzero_entry). */
static int check_l1(check_state *chk)
{
    qed_image *img = chk->img;
    const uint8_t *l1 = (const uint8_t *)img->l1;
    uint64_t n = img->nentries;
    int ret = QED_OK;

    for (uint64_t i = next_nonzero_entry(l1, 0, n); i < n && ret == QED_OK;
         i = next_nonzero_entry(l1, i + 1, n)) {
        uint64_t e = img->l1[i];
        int why = check_table_offset(&img->h, e, chk->file_len);  /* TBL-2/3/4 */
        enum bad_entry kind = invalid_kind(&img->h, e, why);
        if (why == QED_OK) {
            if (claim_clusters(chk, e, img->h.table_size)) {
                chk->walk[i] = 1;
                continue;
            }
            kind = BAD_DUPLICATE;                 /* CHK-1: not walked */
        }
        ret = fix_entry(chk, &img->l1[i], img->h.l1_table_offset + 8 * i, kind,
                        img->h.table_size);                         /* CHK-3 */
        chk->l1_changed |= img->l1[i] != e;
        chk->walk[i] = kind == BAD_DUPLICATE &&
                       (img->l1[i] != e || chk->plan);  /* repair: walk the
                                           copy; planning: what it copies */
    }
    return ret;
}

/* Record that entry l2_idx of L1 entry l1_idx's table becomes value. */
static int add_fix(check_state *chk, uint64_t l1_idx, uint64_t l2_idx, uint64_t value)
{
    void *items = chk->fixes;
    int ret = grow_list(&items, &chk->fixes_cap, chk->nfixes, sizeof(*chk->fixes));

    chk->fixes = items;
    if (ret != QED_OK)
        return ret;
    chk->fixes[chk->nfixes++] = (table_fix){ l1_idx, l2_idx, value };
    return QED_OK;
}

/* Claim a valid data cluster; 0 if it is a duplicate (CHK-1). */
static int claim_data(check_state *chk, uint64_t e)
{
    uint64_t cluster_size = chk->img->h.cluster_size;

    if (!claim_clusters(chk, e, 1))
        return 0;
    chk->res->allocated_clusters++;
    if (chk->last_data && e != chk->last_data + cluster_size)
        chk->res->fragmented_clusters++;
    chk->last_data = e;
    return 1;
}

/* Check entry l2_idx of L1 entry l1_idx's table, holding e (CHK-1, CHK-2). */
static int check_data_entry(check_state *chk, uint64_t l1_idx, uint64_t l2_idx,
                            uint64_t e)
{
    uint64_t fixed = e;
    int ret, why;
    enum bad_entry kind;

    if (e == 0 || e == QED_ZERO_CLUSTER)
        return QED_OK;                            /* TBL-5, ZERO-1 */
    why = check_data_offset(&chk->img->h, e, chk->file_len);  /* TBL-2/3/6 */
    kind = invalid_kind(&chk->img->h, e, why);
    if (why == QED_OK) {
        if (claim_data(chk, e))
            return QED_OK;
        kind = BAD_DUPLICATE;                     /* CHK-1 */
    }
    ret = fix_entry(chk, &fixed, chk->img->l1[l1_idx] + 8 * l2_idx, kind, 1);  /* CHK-2 */
    if (ret != QED_OK || fixed == e)
        return ret;
    if (kind == BAD_DUPLICATE)
        chk->res->allocated_clusters++;
    return add_fix(chk, l1_idx, l2_idx, fixed);
}

/* The index of the first non-zero 8-byte entry of raw in [from, n), or n
 * (the byte order does not matter to "zero").  The entry at from first:
 * in a dense table the next one is usually non-zero.  Then 32 entries at
 * a time while they are all zero, compared with a zero block by memcmp,
 * then one at a time (at most 31 steps); no local buffer, which a
 * sanitizer build would set up and poison on every call, dense tables'
 * calls included. */
static uint64_t next_nonzero_entry(const uint8_t *raw, uint64_t from, uint64_t n)
{
    static const uint8_t zeros[32 * 8];

    if (from < n && get_le64(raw + 8 * from) != 0)
        return from;                              /* a dense table: no scan */
    while (from + 32 <= n && memcmp(raw + 8 * from, zeros, sizeof(zeros)) == 0)
        from += 32;                               /* TBL-5: unallocated */
    while (from < n && get_le64(raw + 8 * from) == 0)
        from++;
    return from;
}

/* A planning walk walks a table once per L1 entry that names it (each a
 * copy to be).  From its second walk on, every valid entry in it names a
 * cluster that its first walk claimed: each walk finds the same
 * duplicates, each charged one cluster, and the same invalid entries.  So
 * when L1 entry idx names the table walked the last two times, this adds
 * what the second of them found, charging the duplicates at once up to
 * the first one past the budget, as one by one (charge_copy), and returns
 * 1 with *ret set; otherwise 0.  A fuzzed L1 full of one repeated offset
 * walked the same table hundreds of times. */
static int replan_table(check_state *chk, uint64_t idx, int *ret)
{
    const table_replay *r = &chk->replay;
    uint64_t room, need;

    if (!chk->plan || r->walks < 2 || chk->img->l1[idx] != r->table)
        return 0;
    chk->res->corruptions += r->duplicates + r->invalid;
    chk->found.duplicates += r->duplicates;
    chk->found.past_end += r->past_end;
    room = chk->budget - chk->res->repair_bytes;  /* never below 0 here */
    need = (room >> chk->img->cluster_bits) + 1;  /* charges that pass it */
    *ret = r->duplicates ? charge_copy(chk, MIN(r->duplicates, need)) : QED_OK;
    return 1;
}

/* Note that a planning walk walked L1 entry idx's table whole, finding
 * dups duplicates and invalid invalid entries, past_end of them past the
 * end of the file (replan_table). */
static void note_table_walk(check_state *chk, uint64_t idx, uint64_t dups,
                            uint64_t invalid, uint64_t past_end)
{
    table_replay *r = &chk->replay;

    if (chk->img->l1[idx] != r->table)
        *r = (table_replay){ chk->img->l1[idx], 1, 0, 0, 0 };
    else
        *r = (table_replay){ r->table, r->walks + 1, dups, invalid, past_end };
}

/* Pass 2 for one L2 table, its bytes read into raw already: check its
 * entries (TBL-1: little-endian), recording repairs.  Unallocated
 * entries, most of a sparse table, are skipped 32 at a time (TBL-5). */
static int check_l2_entries(check_state *chk, uint64_t idx, const uint8_t *raw)
{
    uint64_t n = chk->img->nentries, i = next_nonzero_entry(raw, 0, n);
    uint64_t dups = chk->found.duplicates, past_end = chk->found.past_end;
    uint64_t corrupt = chk->res->corruptions;
    int ret = QED_OK;

    if (replan_table(chk, idx, &ret))
        return ret;
    while (i < n && ret == QED_OK) {
        ret = check_data_entry(chk, idx, i, get_le64(raw + 8 * i));
        i = next_nonzero_entry(raw, i + 1, n);
    }
    if (chk->plan && ret == QED_OK) {
        dups = chk->found.duplicates - dups;
        note_table_walk(chk, idx, dups, chk->res->corruptions - corrupt - dups,
                        chk->found.past_end - past_end);
    }
    return ret;
}

/* Pass 2 for one L2 table: read it, check its entries.  A table that
 * cannot be read is counted (check_errors), and the walk goes on. */
static int check_l2(check_state *chk, uint64_t idx, uint64_t *table)
{
    qed_image *img = chk->img;
    int ret = img->io->read(img->io, img->l1[idx], table,
                            (size_t)table_bytes(&img->h));

    if (ret != QED_OK) {
        chk->res->check_errors++;
        if (chk->found.read_error == QED_OK)
            chk->found.read_error = ret;
        return QED_OK;                            /* keep checking */
    }
    return check_l2_entries(chk, idx, (const uint8_t *)table);
}

static uint64_t next_walked(const check_state *chk, uint64_t idx);

/* The walked L1 entries from idx on (in L1 order, at most max of them)
 * whose tables lie back to back in the file: how many, and in *next an L1
 * index after the last, at or before the next walked one (the entries
 * between walked ones are skipped by next_walked, not one by one). */
static uint64_t adjacent_tables(const check_state *chk, uint64_t idx,
                                uint64_t max, uint64_t *next)
{
    const qed_image *img = chk->img;
    uint64_t tb = table_bytes(&img->h), n = 1, i = next_walked(chk, idx + 1);

    for (; i < img->nentries && n < max; i = next_walked(chk, i + 1)) {
        if (img->l1[i] != img->l1[idx] + n * tb)
            break;
        n++;
    }
    *next = i;
    return n;
}

/* Pass 2 over n tables from L1 entry idx (adjacent_tables): one read of
 * all of them into buf, then each is checked from there in L1 order; when
 * that read fails, each table is read alone (into buf), so that exactly
 * the tables that cannot be read are counted. */
static int check_l2_run(check_state *chk, uint64_t idx, uint64_t n,
                        uint8_t *buf)
{
    qed_image *img = chk->img;
    uint64_t tb = table_bytes(&img->h), k = 0;
    int ret = img->io->read(img->io, img->l1[idx], buf, (size_t)(n * tb));
    int whole = ret == QED_OK;

    ret = QED_OK;
    for (uint64_t i = idx; k < n && ret == QED_OK; i++) {
        if (!chk->walk[i])
            continue;
        if (whole)
            ret = check_l2_entries(chk, i, buf + k * tb);
        else
            ret = check_l2(chk, i, (uint64_t *)(void *)buf);
        k++;
    }
    return ret;
}

/* The first walked L1 entry from idx on, or nentries (a memchr over the
 * walk bytes: an L1 table is mostly unallocated). */
static uint64_t next_walked(const check_state *chk, uint64_t idx)
{
    uint64_t n = chk->img->nentries;
    const uint8_t *p = idx < n ? memchr(chk->walk + idx, 1, (size_t)(n - idx)) : NULL;

    return p ? (uint64_t)(p - chk->walk) : n;
}

/* Make *buf hold at least n tables of tb bytes (*cap: how many it holds,
 * n * tb at most CHECK_RUN_BYTES); 0 if there is no memory for that. */
static int run_buffer(uint8_t **buf, uint64_t *cap, uint64_t n, uint64_t tb)
{
    uint8_t *p;

    if (n <= *cap)
        return 1;
    p = alloc_io_buffer((size_t)(n * tb));        /* its bytes are not kept */
    if (!p)
        return 0;
    free(*buf);
    *buf = p;
    *cap = n;
    return 1;
}

/* Pass 2 over every walked table, in L1 order (the order fixes, duplicates
 * and fragmentation are counted in), each read once: tables that lie back
 * to back in the file are read together, up to CHECK_RUN_BYTES at a time
 * (a table that size or larger is one read); larger reads would only
 * push the bytes out of the cache before they are looked at.  Memory:
 * that buffer, as large as the longest run so far (none without runs),
 * on top of table. */
static int check_l2_tables(check_state *chk, uint64_t *table)
{
    qed_image *img = chk->img;
    uint64_t tb = table_bytes(&img->h), per_run = CHECK_RUN_BYTES / tb;
    uint8_t *buf = NULL;
    uint64_t i = next_walked(chk, 0), next, n, cap = 0;
    int ret = QED_OK;

    for (; i < img->nentries && ret == QED_OK; i = next_walked(chk, i)) {
        n = per_run > 1 ? adjacent_tables(chk, i, per_run, &next) : 1;
        if (n > 1 && !run_buffer(&buf, &cap, n, tb))
            n = 1;                                /* no memory: one at a time */
        ret = n > 1 ? check_l2_run(chk, i, n, buf) : check_l2(chk, i, table);
        i = n > 1 ? next : i + 1;
    }
    free(buf);
    return ret;
}

/* Apply the fix list: each L2 table that has fixes is read, patched and
 * written whole. */
static int rewrite_l2_tables(check_state *chk, uint64_t *table)
{
    qed_image *img = chk->img;
    int ret = QED_OK;
    size_t k = 0;

    while (ret == QED_OK && k < chk->nfixes) {
        uint64_t idx = chk->fixes[k].l1_idx;
        ret = read_table(img, img->l1[idx], table);
        for (; ret == QED_OK && k < chk->nfixes && chk->fixes[k].l1_idx == idx; k++)
            table[chk->fixes[k].l2_idx] = chk->fixes[k].value;
        if (ret == QED_OK)
            ret = write_entries(img, img->l1[idx], table, 0, img->nentries);
    }
    return ret;
}

/* CHK-4, CHK-7: count leaks; with leak repair truncate the trailing ones. */
static int check_leaks(check_state *chk)
{
    qed_image *img = chk->img;
    uint64_t first = MIN((uint64_t)img->h.header_size, chk->nclusters);
    uint64_t last_used = first, trailing = 0;

    for (uint64_t c = first; c < chk->nclusters; c++) {
        if (bit_test(chk->used, c)) {
            last_used = c + 1;
            trailing = 0;
        } else {
            chk->res->leaks++;                    /* CHK-4 */
            trailing++;
        }
    }
    if (!(chk->repair & QED_REPAIR_LEAKS) || trailing == 0 || chk->relocated)
        return QED_OK;
    img->alloc_end = last_used << img->cluster_bits;
    chk->res->leaks_fixed = trailing;             /* CHK-7 */
    return img->io->truncate(img->io, img->alloc_end);
}

/* The recorded repairs, in crash-safe order: the copies made durable
 * before any entry points at them, the repaired L2 tables written and
 * made durable before the L1 table is written, then flushed.  A crash in
 * between leaves at worst leaks and entries still to repair, never an
 * entry pointing at a copy that is not on disk. */
static int write_repairs(check_state *chk, uint64_t *table)
{
    qed_image *img = chk->img;
    int ret = chk->nfixes && chk->relocated ? img->io->flush(img->io) : QED_OK;

    if (ret == QED_OK)
        ret = rewrite_l2_tables(chk, table);
    if (ret == QED_OK)
        ret = img->io->flush(img->io);            /* CHK-5 */
    if (ret == QED_OK && chk->l1_changed)
        ret = write_entries(img, img->h.l1_table_offset, img->l1, 0, img->nentries);
    if (ret == QED_OK)
        ret = img->io->flush(img->io);
    return ret;
}

/* Both passes over the tables; repairs are only recorded. */
static int check_tables(check_state *chk, uint64_t *table)
{
    qed_image *img = chk->img;
    int ret;

    claim_clusters(chk, 0, img->h.header_size);
    claim_clusters(chk, img->h.l1_table_offset, img->h.table_size);
    ret = check_l1(chk);
    if (ret == QED_OK)
        ret = check_l2_tables(chk, table);
    return ret;
}

/* The most bytes a corruption repair's copies may add to a file of
 * file_len bytes: max_repair_bytes, or by default (0) 2 x file_len + 64
 * MiB, saturating (CHK-5's note on repair's budget). */
static uint64_t repair_budget(const qed_image *img, uint64_t file_len)
{
    const uint64_t base = (uint64_t)64 << 20;

    if (img->lim.max_repair_bytes)
        return img->lim.max_repair_bytes;
    if (file_len > (UINT64_MAX - base) / 2)
        return UINT64_MAX;
    return 2 * file_len + base;
}

/* Allocate the check's bitmaps within the configured limits. */
static int check_init(check_state *chk, qed_image *img, unsigned repair,
                      qed_check_result *res)
{
    chk->img = img;
    chk->repair = repair & ~(REPAIR_PLAN | REPAIR_PAST_END_ONLY);
    chk->plan = (repair & REPAIR_PLAN) != 0;
    chk->past_end_only = (repair & REPAIR_PAST_END_ONLY) != 0;
    chk->res = res;
    chk->file_len = img->alloc_end;
    chk->budget = repair_budget(img, img->alloc_end);
    chk->nclusters = qed_usable_length(&img->h, img->alloc_end) >> img->cluster_bits;
    if (chk->nclusters > img->lim.max_check_clusters)
        return QED_ERR_LIMIT;
    chk->used = calloc((size_t)(chk->nclusters / 8 + 1), 1);
    chk->walk = calloc((size_t)img->nentries, 1);
    return chk->used && chk->walk ? QED_OK : QED_ERR_NOMEM;
}

/* After a repairing walk failed, or missed a table and so wrote none of
 * its repairs (CHK-5): the L1 table in memory, which the walk
 * changed in place (fix_entry), becomes the file's again, so that the
 * failed session reads what a fresh open of the file would; when the
 * file's cannot be read, it becomes what it was before the walk (before,
 * if there was memory for that copy). */
static void restore_l1(qed_image *img, const uint64_t *before)
{
    uint64_t *t = alloc_table(img);

    if (t && read_table(img, img->h.l1_table_offset, t) == QED_OK)
        memcpy(img->l1, t, (size_t)table_bytes(&img->h));
    else if (before)
        memcpy(img->l1, before, (size_t)table_bytes(&img->h));
    free(t);
}

/* One walk over the image (see above), repairing what repair asks for;
 * res receives this walk's own counts, *found the rest of its findings;
 * resets (NULL for a walk that neither resets first nor copies after) is
 * the list of check_state.resets.  The walk's table buffer is the L2
 * cache's (emptied first: nothing reads through the cache during a
 * walk). */
static int check_walk(qed_image *img, unsigned repair, qed_check_result *res,
                      walk_found *found, reset_list *resets)
{
    check_state chk = { .resets = resets };
    uint64_t *table = img->l2, *l1_before = NULL;
    int ret;

    memset(res, 0, sizeof(*res));
    img->l2_offset = 0;
    if ((repair & QED_REPAIR_CORRUPT) && (l1_before = alloc_table(img)))
        memcpy(l1_before, img->l1, (size_t)table_bytes(&img->h));
    ret = check_init(&chk, img, repair, res);
    if (ret == QED_OK)
        ret = check_tables(&chk, table);
    if (ret == QED_OK && !res->check_errors)
        ret = check_leaks(&chk);
    if (ret == QED_OK && (repair & QED_REPAIR_CORRUPT) && !res->check_errors)
        ret = write_repairs(&chk, table);         /* never from a walk that
                                                     missed a table (CHK-5) */
    if ((repair & QED_REPAIR_CORRUPT) && (ret != QED_OK || res->check_errors))
        restore_l1(img, l1_before);               /* the repair did not end */
    *found = chk.found;
    free(l1_before);
    free(chk.used);
    free(chk.walk);
    free(chk.fixes);
    free(chk.bounce);
    return ret;
}

/* Whether the counts of the first walk leave something repair must do. */
static int needs_repair(const qed_check_result *res, unsigned repair)
{
    return ((repair & QED_REPAIR_CORRUPT) && res->corruptions) ||
           ((repair & QED_REPAIR_LEAKS) && res->leaks);
}

/* Fold the repairing walk's outcome into the counts of the first walk:
 * what was fixed, and the allocation figures of the repaired image. */
static void adopt_repair(qed_check_result *res, const qed_check_result *fixed,
                         unsigned repair)
{
    res->corruptions_fixed = (repair & QED_REPAIR_CORRUPT) ? res->corruptions : 0;
    res->leaks_fixed = fixed->leaks_fixed;
    res->allocated_clusters = fixed->allocated_clusters;
    res->fragmented_clusters = fixed->fragmented_clusters;
}

/* Before the first write of a corruption repair of an image with
 * duplicates (the only corruptions that cost copies), the planning walk:
 * res->repair_bytes and res->repair_budget say what the copies would take
 * and may; QED_ERR_REPAIR_BUDGET when over. */
static int plan_repair(qed_image *img, unsigned repair, const walk_found *found,
                       qed_check_result *res)
{
    qed_check_result plan;
    walk_found planned;
    int ret;

    if (!(repair & QED_REPAIR_CORRUPT) || !res->corruptions)
        return QED_OK;
    res->repair_budget = repair_budget(img, img->alloc_end);
    if (!found->duplicates)
        return QED_OK;                            /* nothing to copy */
    ret = check_walk(img, REPAIR_PLAN, &plan, &planned, NULL);
    res->repair_bytes = plan.repair_bytes;
    if (ret == QED_OK && plan.check_errors)
        ret = planned.read_error;
    return ret;
}

/* One repairing walk: its status, a table it could not read included;
 * *fixed receives its own counts (resets: as for check_walk). */
static int repair_walk(qed_image *img, unsigned repair, qed_check_result *fixed,
                       reset_list *resets)
{
    walk_found found;
    int ret = check_walk(img, repair, fixed, &found, resets);

    return ret == QED_OK && fixed->check_errors ? found.read_error : ret;
}

static int compare_reset(const void *a, const void *b)
{
    uint64_t x = ((const entry_reset *)a)->off, y = ((const entry_reset *)b)->off;

    return (x > y) - (x < y);
}

/* 1 if the resets are in offset order already: the walk records them in
 * L1 order, then table by table, so that they often are and the sort (a
 * call per comparison) can be skipped. */
static int resets_sorted(const reset_list *rl)
{
    for (size_t i = 1; i < rl->n; i++)
        if (rl->r[i - 1].off > rl->r[i].off)
            return 0;
    return 1;
}

/* The first of two repairing walks (see check_and_repair): reset the
 * entries that point past the end of the file, write and flush them, and
 * leave in *rl where they were and what they held, sorted by offset. */
static int reset_past_end_entries(qed_image *img, reset_list *rl)
{
    qed_check_result fixed;
    int ret = repair_walk(img, QED_REPAIR_CORRUPT | REPAIR_PAST_END_ONLY, &fixed, rl);

    if (rl->n > 1 && !resets_sorted(rl))
        qsort(rl->r, rl->n, sizeof(rl->r[0]), compare_reset);
    return ret;
}

/* The walks of qed_check: the counts, and when repair != 0 the plan and
 * the repairing walks; corruption repair ends by clearing NEED_CHECK (the
 * last step of WR-5).  A table that cannot be read is counted in
 * check_errors; it stops a repair, whose result is then that error.
 * When there are both entries pointing past the end of the file and
 * duplicates, a first repairing walk resets those entries, writes and
 * flushes them, before the second makes any copy: they would otherwise
 * point into a copy once the file has grown, and a repair that failed or
 * crashed after its first copy would have added corruptions (CHK-5).
 * The other invalid entries, which no growth makes valid, are the second
 * walk's, so that a repair stopped part-way changes no more than it must
 * (what a duplicate reference into the L1 table reads through it). */
static int check_and_repair(qed_image *img, unsigned repair,
                            qed_check_result *res)
{
    qed_check_result fixed;
    walk_found found;
    reset_list resets = { 0 };
    int ret = check_walk(img, QED_REPAIR_NONE, res, &found, NULL);

    if (ret == QED_OK && repair && res->check_errors)
        ret = found.read_error;
    if (ret == QED_OK && needs_repair(res, repair))
        ret = plan_repair(img, repair, &found, res);   /* CHK-5: the budget */
    if (ret == QED_OK && (repair & QED_REPAIR_CORRUPT) && found.past_end &&
        found.duplicates)
        ret = reset_past_end_entries(img, &resets);
    if (ret == QED_OK && needs_repair(res, repair)) {
        ret = repair_walk(img, repair, &fixed, &resets);
        if (ret == QED_OK)
            adopt_repair(res, &fixed, repair);
    }
    if (ret == QED_OK && (repair & QED_REPAIR_CORRUPT))
        ret = clear_need_check(img);
    free(resets.r);
    return ret;
}

/* Check the image as found and, when repair != 0, repair it (spec section
 * 8).  A repair that does not complete fails the session: NEED_CHECK
 * stays set.  One refused over its budget wrote nothing, so the session
 * goes on as it was. */
int qed_check(qed_image *img, unsigned repair, qed_check_result *res)
{
    int ret = repair ? check_writable(img) : QED_OK;

    memset(res, 0, sizeof(*res));
    if (ret == QED_OK) {
        ret = check_and_repair(img, repair, res);
        if (repair && ret != QED_ERR_REPAIR_BUDGET)
            ret = fail_session(img, ret);
    }
    res->total_clusters = (img->h.image_size + img->h.cluster_size - 1) >> img->cluster_bits;
    res->image_end_offset = img->alloc_end;
    return ret;
}

/* ================================================================== */
/* Creating an image (FILE-1's layout note, HDR-2..13)                */
/* ================================================================== */

/* Fill a header for qed_create from its options (HDR-2..13). */
static int create_header(const qed_create_opts *o, qed_header *h)
{
    size_t name_len = o->backing_file ? strlen(o->backing_file) : 0;
    int ret;

    memset(h, 0, sizeof(*h));
    h->magic = QED_MAGIC;
    h->cluster_size = o->cluster_size ? o->cluster_size : QED_DEFAULT_CLUSTER_SIZE;
    h->table_size = o->table_size ? o->table_size : QED_DEFAULT_TABLE_SIZE;
    h->header_size = 1;
    ret = validate_geometry(h);
    if (ret != QED_OK)
        return ret;
    if (name_len >= MAX_BACKING_NAME || qed_header_limit(h, NULL, NULL))
        return QED_ERR_LIMIT;                     /* what qed_open refuses */
    h->header_size = (uint32_t)((QED_HEADER_BYTES + name_len + h->cluster_size - 1) /
                                h->cluster_size);
    h->l1_table_offset = header_bytes(h);
    h->image_size = o->image_size;
    if (o->backing_file) {
        if (name_len == 0)
            return QED_E_BACKING_EMPTY;           /* HDR-12 */
        h->features = QED_F_BACKING_FILE;
        if (o->backing_format && strcmp(o->backing_format, "raw") == 0)
            h->features |= QED_F_BACKING_FORMAT_NO_PROBE;   /* FEAT-3 */
        h->backing_filename_offset = QED_HEADER_BYTES;
        h->backing_filename_size = (uint32_t)name_len;
    }
    return validate_image_size(h, h->image_size);
}

/* Create a fresh image: header (+ name) in the header clusters, a zero L1
 * table after it.  The L1 table's last sector is written explicitly so the
 * file's length is right even in a trace (WR-7's reasoning). */
int qed_create(qed_io *io, const qed_create_opts *opts)
{
    uint8_t buf[QED_HEADER_BYTES], zero[QED_SECTOR_SIZE] = { 0 };
    qed_header h;
    uint64_t end;
    int ret = opts && io ? create_header(opts, &h) : QED_ERR_INVAL;

    if (ret != QED_OK)
        return ret;
    end = h.l1_table_offset + table_bytes(&h);
    qed_header_encode(&h, buf);
    ret = io->truncate(io, 0);
    if (ret == QED_OK)
        ret = io->write(io, 0, buf, sizeof(buf));
    if (ret == QED_OK && opts->backing_file)
        ret = io->write(io, QED_HEADER_BYTES, opts->backing_file,
                        h.backing_filename_size);
    if (ret == QED_OK)
        ret = io->truncate(io, end);
    if (ret == QED_OK)
        ret = io->write(io, end - sizeof(zero), zero, sizeof(zero));
    if (ret == QED_OK)
        ret = io->flush(io);
    return ret;
}
