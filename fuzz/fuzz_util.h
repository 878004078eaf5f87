/*
 * fuzz_util.h - helpers shared by the libqed fuzz harnesses and the seed
 * generator: property assertions, bounds-checked little-endian access to
 * the fuzz input, the input layouts (backing separator, ops records), the
 * small limits every harness opens images with.
 */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "qed.h"

#if defined(__GNUC__)
#define FUZZ_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define FUZZ_NORETURN __attribute__((noreturn))
#else
#define FUZZ_PRINTF(f, a)
#define FUZZ_NORETURN
#endif

/* For a harness's own oracle functions, run per cluster or per byte:
 * without coverage instrumentation under clang (as all of fuzz_util.c),
 * so that neither the engine's feedback nor its time goes to the checks.
 * Never inlined: the coverage pass runs after inlining, and would
 * instrument an oracle inlined into its instrumented caller. */
#if defined(__clang__)
#define FUZZ_ORACLE __attribute__((no_sanitize("coverage"), noinline))
#else
#define FUZZ_ORACLE
#endif

/* Print "file:line: PROPERTY FAILED: cond: message" and abort(). */
void fuzz_fail(const char *file, int line, const char *cond,
               const char *fmt, ...) FUZZ_PRINTF(4, 5) FUZZ_NORETURN;

/* Check a property of libqed; on failure print why and abort() so that
 * libFuzzer, AFL++ and the replay driver all record a crash. */
#define FUZZ_ASSERT(cond, ...)                                             \
    do {                                                                   \
        if (!(cond))                                                       \
            fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);             \
    } while (0)

/* Small limits: tables of at most 1 MiB, a chain of at most 2 backing
 * files, check scans at most 2^16 clusters. */
void fuzz_limits(qed_limits *lim);

/* 1 if status is a positive QED_E_* (a format violation). */
int fuzz_is_format_error(int status);

/* 1 if len bytes at buf are all zero. */
int fuzz_all_zero(const uint8_t *buf, size_t len);

/* Fill len bytes with a pattern of period 251 (so that it never lines up
 * with sectors or clusters): buf[i] = seed + (start + i) % 251. */
void fuzz_fill(uint8_t *buf, size_t len, uint64_t start, uint8_t seed);

/* The index of the first of len bytes where got differs from both a and
 * b, or len if every byte equals one of them (an oracle's loop, here so
 * that it runs without coverage instrumentation). */
size_t fuzz_first_neither(const uint8_t *got, const uint8_t *a,
                          const uint8_t *b, size_t len);

/* A read-only byte range of untrusted data. */
typedef struct fuzz_bytes {
    const uint8_t *data;
    size_t size;
} fuzz_bytes;

/* Little-endian u64 at off; 0 (and *out untouched) if it does not fit. */
int fuzz_get_le64(fuzz_bytes b, uint64_t off, uint64_t *out);

/* 1 if [off, off+len) lies inside b (overflow-checked). */
int fuzz_range_ok(fuzz_bytes b, uint64_t off, uint64_t len);

/* The deep harnesses bound the virtual disk they walk per input: the first
 * clusters, the last ones, and a window at each of the first few distinct
 * L2 tables (the rest of the disk repeats what those show, or is
 * unallocated).  FUZZ_MAX_WINDOWS bounds the tables picked. */
#define FUZZ_MAX_WINDOWS 8u

/* Pick up to max (<= FUZZ_MAX_WINDOWS) L1 indices whose entries are
 * nonzero and differ from every entry picked before, reading the table of
 * nentries little-endian u64 at l1_offset in file (entries past the end of
 * file count as absent); returns how many were stored in idx. */
size_t fuzz_pick_tables(fuzz_bytes file, uint64_t l1_offset,
                        uint64_t nentries, uint64_t *idx, size_t max);

/* 1 + the index of the last nonzero entry of the table of nentries
 * little-endian u64 at table_offset in file (entries past its end count as
 * 0); 0 if every entry is 0. */
uint64_t fuzz_table_used(fuzz_bytes file, uint64_t table_offset,
                         uint64_t nentries);

/* A memory file on the caller's buffer of cap bytes (which must outlive
 * it), holding a copy of data[0..len): reads, writes, length and truncate
 * behave as qed_io_mem_new's file growable to cap (bytes gained read as
 * zeroes, writes past cap fail with QED_ERR_NOSPC), but it never
 * reallocates: a harness that reuses one buffer for every input spares
 * the allocator's copies and fresh pages.  QED_ERR_INVAL if len > cap. */
int fuzz_io_fixed_new(uint8_t *buf, size_t cap, const void *data, size_t len,
                      qed_io **out);

/* The current contents of a fuzz_io_fixed_new file. */
void fuzz_io_fixed_data(qed_io *io, const uint8_t **data, size_t *len);

/* Sequential reader over the fuzz input; reads past the end yield 0. */
typedef struct fuzz_cursor {
    fuzz_bytes in;
    size_t pos;
} fuzz_cursor;

uint8_t fuzz_take_u8(fuzz_cursor *c);
uint32_t fuzz_take_le(fuzz_cursor *c, unsigned nbytes);  /* nbytes <= 4 */
size_t fuzz_remaining(const fuzz_cursor *c);

/* fuzz_open_read, fuzz_check_repair: the input is IMAGE [SEP BACKING1
 * [SEP BACKING2]], split at the first occurrences of this 8-byte marker. */
#define FUZZ_SEPARATOR     "QEDFZSEP"
#define FUZZ_SEPARATOR_LEN 8u
#define FUZZ_MAX_PARTS     3u

/* Split in at up to max_parts-1 separators; returns the number of parts. */
size_t fuzz_split(fuzz_bytes in, fuzz_bytes *parts, size_t max_parts);

/* Backing callback context: each call hands out the next part as a fresh
 * memory file; past the last part the open fails with QED_ERR_BACKING. */
typedef struct fuzz_backing_ctx {
    const fuzz_bytes *parts;   /* backing files, in chain order */
    size_t count;
    size_t next;
} fuzz_backing_ctx;

int fuzz_open_backing(void *ctx, const char *path, qed_io **out);

/* fuzz_ops: one operation record is FUZZ_OP_BYTES bytes:
 *   kind (u8: low 3 bits the op, 7 meaning a write; bit 3 "cluster-aligned"),
 *   offset (u24 LE, taken modulo image_size),
 *   length (u16 LE, 1 + value modulo the room left),
 *   pattern (u8). */
enum fuzz_op_kind {
    FUZZ_OP_WRITE = 0,
    FUZZ_OP_ZEROES = 1,
    FUZZ_OP_FLUSH = 2,
    FUZZ_OP_REOPEN = 3,
    FUZZ_OP_READ = 4,
    FUZZ_OP_FAULT = 5,    /* reopen on qed_io_fault_new; see fuzz_ops.c */
    FUZZ_OP_RESIZE = 6,   /* grow (or try to shrink) the image, WR-9 */
    FUZZ_OP_KINDS = 7
};
#define FUZZ_OP_ALIGNED 0x8u
#define FUZZ_OP_BYTES   7u
/* fuzz_ops: the 3 bytes before the first record: geometry, size, backing. */
#define FUZZ_OPS_PREFIX 3u

#endif /* FUZZ_UTIL_H */
