/*
 * helpers.h - shared fixtures for the libqed unit tests: suite
 * registration, little-endian codecs, a hand-built image builder that does
 * not use libqed (so tests compare the library against an independent
 * encoding), memory-image open helpers, an in-memory "file system" for
 * backing files and a deterministic PRNG.  Traces are parsed with the
 * trace module itself (qed_trace.h, included here).
 */
#ifndef QED_TEST_HELPERS_H
#define QED_TEST_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include <CUnit/CUnit.h>

#include "qed.h"
#include "qed_trace.h"

/* ---- suite registration ------------------------------------------ */

typedef struct test_case {
    const char *name;
    CU_TestFunc fn;
} test_case;

/* Add a suite named name holding the n cases; CUE_SUCCESS or CUnit's error. */
int add_suite(const char *name, const test_case *cases, size_t n);
#define ADD_SUITE(name, cases) \
    add_suite((name), (cases), sizeof(cases) / sizeof((cases)[0]))

/* One registration function per module (each returns add_suite's result). */
int suite_header(void);
int suite_tables(void);
int suite_write(void);
int suite_check(void);
int suite_backing(void);
int suite_io(void);
int suite_faults(void);
int suite_order(void);
int suite_trace(void);

/* ---- little-endian codecs ----------------------------------------- */

void put_le32(uint8_t *p, uint32_t v);
void put_le64(uint8_t *p, uint64_t v);
uint32_t get_le32(const uint8_t *p);
uint64_t get_le64(const uint8_t *p);

/* Header field byte offsets (spec section 2), used to flip single fields. */
enum {
    HOFF_MAGIC = 0, HOFF_CLUSTER = 4, HOFF_TABLE = 8, HOFF_HSIZE = 12,
    HOFF_FEATURES = 16, HOFF_COMPAT = 24, HOFF_AUTOCLEAR = 32,
    HOFF_L1 = 40, HOFF_ISIZE = 48, HOFF_BOFF = 56, HOFF_BSIZE = 60
};

/* ---- hand-built images (independent of libqed) -------------------- */

/* A growable byte buffer holding a QED file: header in cluster 0 and an L1
 * table right after the header clusters. */
typedef struct rawimg {
    uint8_t *buf;
    size_t len;
    uint32_t cluster;
    uint32_t table;
    uint64_t l1;          /* L1 table offset */
} rawimg;

/* Build header + zeroed L1 (header_size 1, no features). */
void raw_init(rawimg *r, uint32_t cluster, uint32_t table, uint64_t image_size);
/* Store a backing name at byte 64 and set BACKING_FILE (| NO_PROBE if raw). */
void raw_set_backing(rawimg *r, const char *name, int no_probe);
/* Append one cluster filled with byte fill; returns its offset. */
uint64_t raw_add_cluster(rawimg *r, int fill);
/* Append a zeroed table (table_size clusters); returns its offset. */
uint64_t raw_add_table(rawimg *r);
/* Entries per table (TBL-1). */
uint64_t raw_entries(const rawimg *r);
void raw_set_l1(rawimg *r, uint64_t idx, uint64_t val);
void raw_set_l2(rawimg *r, uint64_t l2_off, uint64_t idx, uint64_t val);
uint64_t raw_get_l2(const rawimg *r, uint64_t l2_off, uint64_t idx);
/* Header field access (32- or 64-bit little-endian at byte off). */
void raw_put32(rawimg *r, size_t off, uint32_t v);
void raw_put64(rawimg *r, size_t off, uint64_t v);
uint64_t raw_get64(const rawimg *r, size_t off);
/* Map logical cluster index lc to data offset data, adding the L2 table if
 * missing; returns the L2 table offset. */
uint64_t raw_map(rawimg *r, uint64_t lc, uint64_t data);
void raw_free(rawimg *r);

/* ---- memory images through libqed --------------------------------- */

#define MEM_MAX ((size_t)256 << 20)

/* A mem io holding a copy of buf[0..len); CU-asserts success. */
qed_io *mem_io(const void *buf, size_t len);
/* A qed_io passing every call to inner except close, which only frees the
 * wrapper: lets a recorder "own" a log the test still reads afterwards. */
qed_io *io_borrow(qed_io *inner);
/* Copy of an io's current contents (malloc'd; *len set). */
uint8_t *io_bytes(qed_io *io, size_t *len);
/* Create an image with qed_create on a fresh mem io; NULL on failure. */
qed_io *create_mem(uint64_t size, uint32_t cluster, uint32_t table,
                   const char *backing, const char *fmt);
/* qed_open io with flags (and optional backing fs); returns the status. */
int open_img(qed_io *io, unsigned flags, void *fs, qed_image **img);

/* ---- in-memory backing files --------------------------------------- */

#define MEMFS_FILES 24
#define MEMFS_MAX_OPENS 256     /* opens per memfs before it refuses */
typedef struct memfs {
    int n;
    const char *path[MEMFS_FILES];
    uint8_t *data[MEMFS_FILES];
    size_t len[MEMFS_FILES];
    int opens;
    char last[512];     /* last path asked for */
} memfs;

/* Register a copy of data under path. */
void memfs_add(memfs *fs, const char *path, const void *data, size_t len);
void memfs_free(memfs *fs);
/* qed_backing_open_fn over a memfs: QED_ERR_BACKING when path is absent,
 * QED_ERR_LIMIT after MEMFS_MAX_OPENS opens (so an unbounded chain fails a
 * test instead of overflowing the stack). */
int memfs_open(void *ctx, const char *path, qed_io **out);

/* ---- misc ---------------------------------------------------------- */

/* xorshift64*: deterministic, seedable. */
uint64_t rng_next(uint64_t *state);
/* Fill buf with bytes derived from seed (distinct seeds, distinct data). */
void fill_pattern(uint8_t *buf, size_t len, uint64_t seed);
/* 1 when every byte of buf is zero. */
int all_zero(const uint8_t *buf, size_t len);

#endif
