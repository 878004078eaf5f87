/*
 * layout.h - what the bytes of a QED file are in one state of it: header,
 * L1 entries, entries of an L2 table, data of logical clusters, or nothing
 * referenced.  `qed-conform trace dump` labels each write of a trace with
 * it, and the crash report reuses it to draw the same labels.
 *
 * A layout is decoded from an image held in memory and never trusts it:
 * an invalid header gives a layout in which nothing is referenced, entries
 * that break TBL-3 are not followed, and every offset computation is
 * overflow-checked.  Memory is bounded by the image's own length.
 */
#ifndef CRASH_LAYOUT_H
#define CRASH_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

enum crash_role_kind {
    CRASH_ROLE_NONE,    /* nothing in this state refers to these bytes */
    CRASH_ROLE_HEADER,  /* the header_size header clusters */
    CRASH_ROLE_L1,      /* the L1 table; first..last are entry indices */
    CRASH_ROLE_L2,      /* the L2 table at table_off, which L1[l1_index]
                           points at; first..last are entry indices */
    CRASH_ROLE_DATA     /* data clusters; first..last are logical cluster
                           indices (consecutive in the file too) */
};

/* One run of bytes [off, off + len) with one role. */
typedef struct crash_role {
    enum crash_role_kind kind;
    uint64_t off, len;
    uint64_t first, last;
    uint64_t table_off;   /* L2 only */
    uint64_t l1_index;    /* L2 only */
} crash_role;

typedef struct crash_layout crash_layout;

/* Decode the layout of img[0..len), which must outlive the layout (it is
 * read again to name what a write changes).  Returns 0, or -1 when out of
 * memory.  Bad bytes are not an error: they just refer to nothing. */
int crash_layout_new(const uint8_t *img, size_t len, crash_layout **out);
void crash_layout_free(crash_layout *l);

/* 1 when the image's header is valid (HDR-1..HDR-12), so tables are known. */
int crash_layout_valid(const crash_layout *l);

/* The roles of bytes [off, off + nbytes) in file order, adjacent runs of one
 * kind merged, gaps as CRASH_ROLE_NONE: at most max of them are stored in
 * out; returns how many there are (more than max when out was too small).
 * Cost: logarithmic in the image's tables, linear in the roles returned. */
size_t crash_layout_roles(const crash_layout *l, uint64_t off, uint64_t nbytes,
                          crash_role *out, size_t max);

/* Describe bytes [off, off + nbytes) of the file as it is in img[0..len):
 * "header", "L1[0..63]", "L2 table at 20480 [0..63]", "data of logical
 * cluster 5", "data of logical clusters 5..8", "unreferenced cluster at
 * 24576 (new data?)", joined with ", " (cut with "..." when out is full).
 * Returns 0, or -1 when out of memory (out then says so). */
int crash_layout_describe(const uint8_t *img, size_t len, uint64_t off,
                          uint64_t nbytes, char *out, size_t outlen);

/* Describe a write of nbytes at off, as crash_layout_describe does for the
 * state `now` before it, with two refinements:
 *   - later (may be NULL) is a later state, e.g. the end of the trace: a
 *     run that nothing refers to now but that has a role later is labelled
 *     from it, "new L2 table at OFF" (when the write covers the whole
 *     table), "new L2 table at OFF [i..j]", "new data of logical cluster
 *     N", "new header", "new L1[i..j]"; one with no role later either is
 *     "unreferenced cluster at OFF (not referenced later)";
 *   - data (may be NULL) is what the write stores: table runs then say
 *     which entries change ("L1[0..63] changes [2]", "unchanged") and the
 *     header which fields ("header: features 0x0 -> 0x2 (NEED_CHECK
 *     set)").
 * Returns 0 (out cut with "..." when full). */
int crash_layout_describe_write(const crash_layout *now, const crash_layout *later,
                                uint64_t off, uint64_t nbytes, const uint8_t *data,
                                char *out, size_t outlen);

#endif
