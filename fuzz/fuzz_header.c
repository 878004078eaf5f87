/*
 * fuzz_header - qed_header_decode / encode / validate on arbitrary bytes.
 *
 * PROPERTY: qed_header_validate(h, file_size) returns exactly the status of
 * the first rule the header breaks, in spec order (HDR-1 .. HDR-12),
 * as recomputed here independently from the rules: so an accepted header
 * has every field within its rule.  qed_rule_id names that rule.
 * qed_max_image_size agrees with an overflow-checked N*N*cluster_size
 * (HDR-10).  encode(decode(x)) gives back the 64 bytes x, and qed_probe
 * answers exactly "starts with QED\0" (BACK-2).
 *
 * Input: bytes 0..63 the header (zero-padded if shorter); bytes 64..71, if
 * present, the file size as a little-endian u64, else the input length.
 *
 * The oracle's functions are FUZZ_ORACLE: their branches mirror the
 * validator's, so the engine's feedback is the validator's own, and the
 * time they cost is an oracle's, not a coverage hook's.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 1 if v is a power of two in [lo, hi]. */
static FUZZ_ORACLE int pow2_in(uint32_t v, uint32_t lo, uint32_t hi)
{
    return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

/* HDR-10 recomputed: N*N*cluster_size, or UINT64_MAX if it overflows. */
static FUZZ_ORACLE uint64_t max_image_size(const qed_header *h)
{
    uint64_t n = (uint64_t)h->table_size * h->cluster_size / 8;  /* TBL-1 */

    if (n != 0 && n > UINT64_MAX / n)
        return UINT64_MAX;
    if (n * n > UINT64_MAX / h->cluster_size)
        return UINT64_MAX;
    return n * n * h->cluster_size;
}

/* HDR-8: the L1 table obeys TBL-2, TBL-3, TBL-4 in a file of file_size. */
static FUZZ_ORACLE int l1_offset_ok(const qed_header *h, uint64_t file_size)
{
    uint64_t cs = h->cluster_size;
    uint64_t usable = file_size / cs * cs;                 /* FILE-3 */
    uint64_t table_bytes = (uint64_t)h->table_size * cs;
    uint64_t off = h->l1_table_offset;

    if (off & QED_RESERVED_BITS)                           /* TBL-2 */
        return 0;
    if (off % cs != 0)                                     /* TBL-3 */
        return 0;
    if (off < (uint64_t)h->header_size * cs)               /* TBL-4 */
        return 0;
    return off <= usable && table_bytes <= usable - off;   /* TBL-4 */
}

/* HDR-11, HDR-12 for an image with BACKING_FILE; QED_OK if both hold. */
static FUZZ_ORACLE int backing_status(const qed_header *h)
{
    uint64_t end = (uint64_t)h->backing_filename_offset +
                   h->backing_filename_size;

    if (end > (uint64_t)h->header_size * h->cluster_size)  /* HDR-11 */
        return QED_E_BACKING_RANGE;
    if (h->backing_filename_size < 1)                      /* HDR-12 */
        return QED_E_BACKING_EMPTY;
    return QED_OK;
}

/* The status the spec demands: the first rule broken, or QED_OK.  (FILE-2
 * is open's business: a file shorter than 64 bytes fails HDR-8 here.) */
static FUZZ_ORACLE int expected_status(const qed_header *h, uint64_t file_size)
{
    if (h->magic != QED_MAGIC)                             /* HDR-1 */
        return QED_E_MAGIC;
    if (!pow2_in(h->cluster_size, QED_MIN_CLUSTER_SIZE, QED_MAX_CLUSTER_SIZE))
        return QED_E_CLUSTER_SIZE;                         /* HDR-2 */
    if (!pow2_in(h->table_size, QED_MIN_TABLE_SIZE, QED_MAX_TABLE_SIZE))
        return QED_E_TABLE_SIZE;                           /* HDR-3 */
    if (h->header_size < 1)                                /* HDR-4 */
        return QED_E_HEADER_SIZE;
    if (h->features & ~(uint64_t)QED_FEATURE_MASK)         /* HDR-5 */
        return QED_E_FEATURES;
    if (!l1_offset_ok(h, file_size))                       /* HDR-8 */
        return QED_E_L1_OFFSET;
    if (h->image_size % QED_SECTOR_SIZE != 0)              /* HDR-9 */
        return QED_E_IMAGE_SIZE_ALIGN;
    if (h->image_size > max_image_size(h))                 /* HDR-10 */
        return QED_E_IMAGE_SIZE_MAX;
    if (h->features & QED_F_BACKING_FILE)                  /* HDR-14 */
        return backing_status(h);
    return QED_OK;
}

/* The rule ID each header status belongs to. */
static FUZZ_ORACLE const char *expected_rule(int status)
{
    static const char *const rules[] = {
        "", "FILE-2", "HDR-1", "HDR-2", "HDR-3", "HDR-4", "HDR-5", "HDR-6",
        "HDR-8", "HDR-9", "HDR-10", "HDR-11", "HDR-12", "HDR-13",
    };

    if (status < 0 || (size_t)status >= sizeof rules / sizeof rules[0])
        return NULL;
    return rules[status];
}

/* validate() and qed_rule_id() agree with the independent verdict. */
static void check_validate(const qed_header *h, uint64_t file_size)
{
    int got = qed_header_validate(h, file_size);
    int want = expected_status(h, file_size);
    const char *rule = expected_rule(want);

    FUZZ_ASSERT(got == want, "validate returned %d (%s), rules demand %d (%s)",
                got, qed_strerror(got), want, rule ? rule : "?");
    FUZZ_ASSERT(rule && strcmp(qed_rule_id(got), rule) == 0,
                "qed_rule_id(%d) is \"%s\", expected \"%s\"", got,
                qed_rule_id(got), rule ? rule : "?");
    FUZZ_ASSERT(qed_strerror(got)[0] != '\0', "empty qed_strerror(%d)", got);
}

/* qed_max_image_size equals the overflow-checked product (HDR-10). */
static void check_max_image_size(const qed_header *h)
{
    uint64_t want, got;

    if (!pow2_in(h->cluster_size, QED_MIN_CLUSTER_SIZE, QED_MAX_CLUSTER_SIZE) ||
        !pow2_in(h->table_size, QED_MIN_TABLE_SIZE, QED_MAX_TABLE_SIZE))
        return;
    want = max_image_size(h);
    got = qed_max_image_size(h->cluster_size, h->table_size);
    FUZZ_ASSERT(got == want, "qed_max_image_size(%u, %u) = %llu, want %llu",
                (unsigned)h->cluster_size, (unsigned)h->table_size,
                (unsigned long long)got, (unsigned long long)want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t raw[QED_HEADER_BYTES] = { 0 }, again[QED_HEADER_BYTES];
    fuzz_bytes in = { data, size };
    uint64_t file_size = size;
    qed_header h;
    int magic;

    memcpy(raw, data, size < sizeof raw ? size : sizeof raw);
    fuzz_get_le64(in, QED_HEADER_BYTES, &file_size);

    qed_header_decode(raw, &h);
    qed_header_encode(&h, again);
    FUZZ_ASSERT(memcmp(raw, again, sizeof raw) == 0,
                "encode(decode(x)) != x");                 /* FILE-1 */

    check_validate(&h, file_size);
    check_max_image_size(&h);

    magic = size >= 4 && memcmp(data, "QED\0", 4) == 0;      /* BACK-2 */
    FUZZ_ASSERT(qed_probe(data, size) == magic, "qed_probe returned %d",
                qed_probe(data, size));
    return 0;
}
