/*
 * fuzz_check_repair - qed_check without and with repair on an arbitrary
 * image opened read-write from memory.
 *
 * PROPERTY: a check without repair changes no byte of the file and fixes
 * nothing; check -r all finds the same counts and fixes every corruption
 * (CHK-5); every cluster that mapped and read before the repair reads the
 * same bytes afterwards (CHK-6); the repaired image closes, reopens
 * read-write with NEED_CHECK clear, and a second check -r all there finds
 * 0 corruptions and no leak left to truncate (CHK-7: the rest lie between
 * used clusters).  Check either runs to the end or
 * stops on a configured limit or on the memory file's size limit; a repair
 * refused over its budget (REPAIR_BUDGET, below GROWTH) changes no byte;
 * odd-sized inputs get a budget above GROWTH instead, and a repair that
 * fills the file part-way must leave no more corruptions in it than it
 * found (CHK-5's note on repair's budget).
 *
 * Input: the image file.  It is opened with QED_OPEN_NO_CHECK (as check -r
 * does) and QED_OPEN_NO_BACKING: only this image's clusters are compared.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define GROWTH (8u << 20)         /* repair may append this much */
#define REPAIR_BUDGET (1u << 20)  /* qed_limits.max_repair_bytes, < GROWTH:
                                     4x the largest input, and small, since
                                     the planning walk and the copies of
                                     even-sized inputs cost up to it (odd
                                     ones keep 2 x GROWTH: the regressions'
                                     part-way repair needs 13 MiB) */
#define MAX_STEPS 4096u           /* map calls when recording */
#define MAX_RECORDS 256u          /* chunks recorded for CHK-6 */
#define CHUNK (4u << 10)          /* bytes per recorded chunk */
#define MAX_INPUT (256u << 10)    /* the options' max_len */

/* The memory file's buffer, reused by every input: the input plus what
 * repair may append.  Growing a qed_io_mem_new file reallocates and
 * copies it, which cost a third of the time. */
static uint8_t file_buf[MAX_INPUT + GROWTH];

/* The file as qed_open left it, which a check without repair, or a repair
 * refused over its budget, must leave byte for byte (a read-write open
 * may write: it clears the autoclear feature bits, HDR-7). */
static uint8_t opened[MAX_INPUT + GROWTH];

/* One chunk of the virtual disk that read successfully before repair;
 * its bytes are recorded[i], for the record r[i]. */
typedef struct record {
    uint64_t off;
    size_t len;
} record;

typedef struct records {
    record r[MAX_RECORDS];
    size_t count;
} records;

/* The bytes each record read, compared whole after repair (a copy, not a
 * hash: exact, and a memcmp costs less than hashing the chunk twice). */
static uint8_t recorded[MAX_RECORDS][CHUNK];

/* Record chunks of extent e (present in this image) while room lasts. */
static void record_extent(qed_image *img, const qed_extent *e, records *rs)
{
    uint64_t off = e->start, end = e->start + e->length;

    while (off < end && rs->count < MAX_RECORDS) {
        size_t n = end - off < CHUNK ? (size_t)(end - off) : CHUNK;
        if (qed_read(img, off, recorded[rs->count], n) != QED_OK)
            return;
        rs->r[rs->count++] = (record){ off, n };
        off += n;
    }
}

/* Where to map again after qed_map failed at off, in the image file
 * (as opened: qed_open validated h's geometry): past the whole L1 span of
 * off when its L1 entry is invalid, since every offset there fails alike
 * (9 of 10 failures in a fuzzed corpus: one map call each cost the
 * harness most of its mapping time), else the next cluster. */
static uint64_t next_after_failure(const qed_header *h, fuzz_bytes file,
                                   uint64_t off)
{
    uint64_t nentries = (uint64_t)h->table_size * h->cluster_size / 8;
    uint64_t span = nentries * h->cluster_size, idx = off / span, e;

    if (h->l1_table_offset <= UINT64_MAX - 8 * idx &&
        fuzz_get_le64(file, h->l1_table_offset + 8 * idx, &e) &&
        qed_check_l1_entry(h, e, file.size) != QED_OK)
        return idx + 1 > UINT64_MAX / span ? UINT64_MAX : (idx + 1) * span;
    return (off / h->cluster_size + 1) * h->cluster_size;
}

/* Record what every valid mapping of this image, opened from file, reads
 * (before repair). */
static void record_mappings(qed_image *img, fuzz_bytes file, records *rs)
{
    const qed_header *h = qed_get_header(img);
    uint64_t off = 0;

    for (unsigned step = 0; off < h->image_size && step < MAX_STEPS; step++) {
        qed_extent e;
        if (qed_map(img, off, h->image_size - off, &e) != QED_OK) {
            off = next_after_failure(h, file, off);
            continue;
        }
        if ((e.flags & QED_MAP_PRESENT) && e.depth == 0)
            record_extent(img, &e, rs);
        off = e.start + e.length;
    }
}

/* CHK-6: every recorded chunk reads the same after repair. */
static void verify_mappings(qed_image *img, uint8_t *buf, const records *rs)
{
    for (size_t i = 0; i < rs->count; i++) {
        const record *r = &rs->r[i];
        int rc = qed_read(img, r->off, buf, r->len);
        FUZZ_ASSERT(rc == QED_OK && memcmp(buf, recorded[i], r->len) == 0,
                    "CHK-6: valid mapping at %llu (+%zu) changed by repair "
                    "(read %d)", (unsigned long long)r->off, r->len, rc);
    }
}

/* Copy the memory file's contents into opened; returns their length. */
static size_t snapshot_file(qed_io *io)
{
    const uint8_t *d;
    size_t len;

    fuzz_io_fixed_data(io, &d, &len);
    memcpy(opened, d, len);             /* len <= the file's capacity */
    return len;
}

/* 1 if the memory file holds exactly the snapshot's len bytes. */
static int file_unchanged(qed_io *io, size_t snap_len)
{
    const uint8_t *d;
    size_t len;

    fuzz_io_fixed_data(io, &d, &len);
    return len == snap_len && memcmp(d, opened, len) == 0;
}

/* Status check may end with: done, a limit, or (repairing) a full file. */
static int check_ended_ok(int rc, unsigned repair)
{
    if (rc == QED_OK)
        return 1;
    FUZZ_ASSERT(rc == QED_ERR_LIMIT || rc == QED_ERR_NOMEM ||
                (repair && (rc == QED_ERR_NOSPC || rc == QED_ERR_REPAIR_BUDGET)),
                "check (repair %u) stopped with %d (%s)", repair, rc,
                qed_strerror(rc));
    return 0;
}

/* Repair found what the check found, and fixed every corruption. */
static void check_repair_counts(const qed_check_result *before,
                                const qed_check_result *fix)
{
    FUZZ_ASSERT(fix->corruptions == before->corruptions &&
                fix->leaks == before->leaks,
                "repair found %llu/%llu, check %llu/%llu (corruptions/leaks)",
                (unsigned long long)fix->corruptions,
                (unsigned long long)fix->leaks,
                (unsigned long long)before->corruptions,
                (unsigned long long)before->leaks);
    FUZZ_ASSERT(fix->corruptions_fixed == fix->corruptions,
                "CHK-5: fixed %llu of %llu corruptions",
                (unsigned long long)fix->corruptions_fixed,
                (unsigned long long)fix->corruptions);
}

/* A repair that ran out of space part-way (the file full at GROWTH) left
 * in the file no more corruptions than the check found before it: the file
 * as a fresh read-only open sees it (the failed session's own tables in
 * memory are not what a later user gets). */
static void check_partial_repair(qed_io *io, const qed_limits *lim,
                                 const qed_check_result *before)
{
    qed_open_opts opts = { .flags = QED_OPEN_NO_BACKING, .limits = lim };
    qed_check_result now;
    qed_image *fresh = NULL;

    if (qed_open(io, &opts, &fresh) != QED_OK)
        return;                   /* a limit: nothing to compare */
    if (qed_check(fresh, QED_REPAIR_NONE, &now) == QED_OK)
        FUZZ_ASSERT(now.corruptions <= before->corruptions,
                    "a repair that failed part-way left %llu corruptions in "
                    "the file, %llu before",
                    (unsigned long long)now.corruptions,
                    (unsigned long long)before->corruptions);
    qed_close(fresh);
}

/* Check, repair, check; returns 1 if the repaired image should reopen. */
static int check_and_repair(qed_image *img, qed_io *io, const qed_limits *lim)
{
    qed_check_result before, fix;
    size_t snap_len = snapshot_file(io);
    int rc;

    if (!check_ended_ok(qed_check(img, QED_REPAIR_NONE, &before), 0))
        return 0;
    FUZZ_ASSERT(file_unchanged(io, snap_len),
                "check without repair wrote the file");
    FUZZ_ASSERT(before.corruptions_fixed == 0 && before.leaks_fixed == 0,
                "check without repair reports fixes");
    rc = qed_check(img, QED_REPAIR_ALL, &fix);
    FUZZ_ASSERT(rc != QED_ERR_REPAIR_BUDGET ||
                (file_unchanged(io, snap_len) &&
                 fix.repair_bytes > fix.repair_budget),
                "a repair refused over its budget wrote the file, or was "
                "under it (%llu of %llu bytes)",
                (unsigned long long)fix.repair_bytes,
                (unsigned long long)fix.repair_budget);
    if (rc == QED_ERR_NOSPC)
        check_partial_repair(io, lim, &before);
    if (!check_ended_ok(rc, 1))
        return 0;
    check_repair_counts(&before, &fix);
    return 1;
}

/* The repaired and closed file opens read-write without a repair on open
 * (NEED_CHECK is clear: WR-4) and a second check -r all finds 0
 * corruptions and no leak left to truncate (CHK-5, CHK-7): it judges the
 * file as a later user gets it (the repairing session's own reads were
 * verified before the close, verify_mappings). */
static void check_reopen(qed_io *io)
{
    qed_open_opts opts = { .flags = QED_OPEN_RDWR | QED_OPEN_NO_BACKING };
    qed_check_result after;
    qed_limits lim;
    qed_image *img = NULL;
    int rc;

    fuzz_limits(&lim);
    opts.limits = &lim;
    rc = qed_open(io, &opts, &img);
    FUZZ_ASSERT(rc == QED_OK, "repaired image does not reopen: %d (%s)", rc,
                qed_strerror(rc));
    FUZZ_ASSERT(!(qed_get_header(img)->features & QED_F_NEED_CHECK),
                "NEED_CHECK set after a repair and a clean close");
    rc = qed_check(img, QED_REPAIR_ALL, &after);
    if (check_ended_ok(rc, 1)) {        /* any other error fails there */
        FUZZ_ASSERT(after.corruptions == 0 && after.check_errors == 0,
                    "after repair: %llu corruptions, %llu check errors",
                    (unsigned long long)after.corruptions,
                    (unsigned long long)after.check_errors);
        FUZZ_ASSERT(after.leaks_fixed == 0,
                    "CHK-7: a second repair still truncates %llu leaked clusters",
                    (unsigned long long)after.leaks_fixed);
    }
    qed_close(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    qed_open_opts opts = { .flags = QED_OPEN_RDWR | QED_OPEN_NO_CHECK |
                                    QED_OPEN_NO_BACKING };
    records *rs = calloc(1, sizeof *rs);
    uint8_t *buf = malloc(CHUNK);
    qed_image *img = NULL;
    qed_io *io = NULL;
    qed_limits lim;
    int rc, reopen = 0;

    fuzz_limits(&lim);
    /* Even sizes: a budget below GROWTH, so a large repair is refused up
     * front.  Odd sizes: one above it, so a large repair fills the file
     * part-way (check_partial_repair). */
    lim.max_repair_bytes = size % 2 ? 2 * (uint64_t)GROWTH : REPAIR_BUDGET;
    opts.limits = &lim;
    if (!rs || !buf || size > MAX_INPUT ||
        fuzz_io_fixed_new(file_buf, size + GROWTH, data, size, &io) != QED_OK)
        goto out;
    rc = qed_open(io, &opts, &img);
    FUZZ_ASSERT(rc == QED_OK || fuzz_is_format_error(rc) || rc == QED_ERR_LIMIT,
                "open failed with %d (%s)", rc, qed_strerror(rc));
    if (rc != QED_OK)
        goto out;
    record_mappings(img, (fuzz_bytes){ data, size }, rs);
    if (check_and_repair(img, io, &lim)) {
        verify_mappings(img, buf, rs);
        reopen = 1;
    }
    rc = qed_close(img);
    FUZZ_ASSERT(rc == QED_OK || rc == QED_ERR_NOSPC || !reopen,
                "close after repair failed: %d (%s)", rc, qed_strerror(rc));
    if (reopen && rc == QED_OK)
        check_reopen(io);
out:
    qed_io_close(io);
    free(buf);
    free(rs);
    return 0;
}
