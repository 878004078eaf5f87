/*
 * golden_img.h - byte buffers, the QED image builder and the content model
 * of the golden generator.
 *
 * The builder lays out QED images byte by byte (header, L1 table, L2 tables,
 * data clusters) with its own little-endian writers; it never goes through
 * libqed.  Every image remembers what it was built from (its L1 entries, its
 * L2 tables, its backing layer), so its logical content, its map and its
 * check counts come from that construction record, not from parsing it.
 */
#ifndef QED_GOLDEN_IMG_H
#define QED_GOLDEN_IMG_H

#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer; every byte past the written ones is zero. */
typedef struct gbuf {
    uint8_t *data;
    size_t len;
    size_t cap;
} gbuf;

/* Abort the generator with a message (a generator bug or out of memory). */
_Noreturn void g_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* strdup that never returns NULL (g_die instead). */
char *g_strdup(const char *s);

/* Set the length to len: truncate, or extend with zero bytes. */
void gbuf_set_len(gbuf *b, uint64_t len);
/* Copy n bytes to offset off, extending the buffer with zeroes as needed. */
void gbuf_put(gbuf *b, uint64_t off, const void *src, size_t n);
void gbuf_put_le32(gbuf *b, uint64_t off, uint32_t v);
void gbuf_put_le64(gbuf *b, uint64_t off, uint64_t v);
/* Little-endian u64 at off; 0 for bytes past the end. */
uint64_t gbuf_get_le64(const gbuf *b, uint64_t off);
/* Append text (printf-style). */
void gbuf_printf(gbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void gbuf_free(gbuf *b);

/* splitmix64: the generator's only source of "random" bytes. */
uint64_t g_rand_next(uint64_t *state);
/* Fill n bytes with the splitmix64 stream of seed. */
void g_fill(uint8_t *dst, size_t n, uint64_t seed);

/* One L2 table as built: its file offset and its N entries. */
typedef struct gl2 {
    uint64_t offset;
    uint64_t *entry;
} gl2;

/* One layer of a chain: a raw file or a QED image. */
typedef struct glayer {
    int is_qed;
    char *path;                /* file path relative to the corpus root */
    gbuf file;                 /* the file's bytes */
    /* QED only: header fields written by gl_finish */
    uint32_t cluster_size, table_size, header_size;
    uint64_t features, compat_features, autoclear_features;
    uint64_t l1_offset, image_size;
    uint32_t bname_offset;     /* where the backing name goes (64 by default) */
    char *bname;               /* the backing name as stored, or NULL */
    struct glayer *backing;    /* the layer the name resolves to, or NULL */
    uint64_t n;                /* entries per table: table_size*cluster_size/8 */
    uint64_t *l1;              /* the L1 entries */
    gl2 *l2;                   /* the L2 tables */
    size_t n_l2;
    uint64_t cursor;           /* next free cluster-aligned file offset */
} glayer;

/* A raw file of len PRNG bytes (seed), or, with magic set, starting "QED\0". */
glayer *gl_raw(const char *path, uint64_t len, uint64_t seed, int magic);
/* A fresh QED image: header_size hs clusters, the L1 table right after them,
 * nothing allocated. */
glayer *gl_qed(const char *path, uint32_t cs, uint32_t ts, uint32_t hs,
               uint64_t image_size);
/* Name a backing layer (BACKING_FILE; with no_probe also NO_PROBE). */
void gl_backing(glayer *g, const char *name, glayer *backing, int no_probe);
/* Take n clusters at the end of the file; returns their offset. */
uint64_t gl_take(glayer *g, uint64_t n);
/* The L2 table for L1 index i, placed at offset off (0: at the cursor) if it
 * does not exist yet. */
gl2 *gl_l2(glayer *g, uint64_t i, uint64_t off);
/* Map logical cluster lc to a data cluster at off (0: at the cursor, after
 * its L2 table) filled with the PRNG stream of seed. */
void gl_data(glayer *g, uint64_t lc, uint64_t off, uint64_t seed);
/* Make logical cluster lc a zero cluster (ZERO-1). */
void gl_zero(glayer *g, uint64_t lc);
/* Store a raw value in the L2 entry of logical cluster lc (check cases). */
void gl_l2_raw(glayer *g, uint64_t lc, uint64_t value);
/* Write header, backing name and tables into the file bytes; the file is at
 * least cursor bytes long afterwards. */
void gl_finish(glayer *g);
/* Free a layer (not its backing). */
void gl_free(glayer *g);

/* One extent of the logical content (qemu-img map semantics). */
typedef struct gext {
    uint64_t start, length;
    unsigned depth;
    int present, zero, data;
    uint64_t offset;           /* with data: byte offset in src's file */
    const glayer *src;         /* with data: the layer holding the bytes */
} gext;

/* Longest run at off (< g->image_size), at most max bytes, as the model
 * reads it.  Invalid entries read as unallocated (the repaired view). */
void gm_extent(const glayer *g, uint64_t off, uint64_t max, gext *e);
/* Read len logical bytes of any layer at off (zeroes past its end). */
void gm_read(const glayer *l, uint64_t off, uint8_t *buf, size_t len);
/* The merged map of the whole image; the caller frees *out. */
size_t gm_map(const glayer *g, gext **out);
/* SHA-256 (hex) of the image_size logical bytes. */
void gm_content_sha256(const glayer *g, char hex[65]);
/* SHA-256 (hex) of the file bytes. */
void gm_file_sha256(const glayer *g, char hex[65]);

/* Check counts under the documented semantics (MANIFEST.md, CHK-1..4). */
typedef struct gcheck {
    uint64_t corruptions, leaks;
} gcheck;
void gm_check(const glayer *g, gcheck *out);

#endif
