/*
 * golden_gen.h - the generator's case writer: files out (or compared), one
 * manifest entry per case, with every expected value taken from the model.
 */
#ifndef QED_GOLDEN_GEN_H
#define QED_GOLDEN_GEN_H

#include "golden_img.h"
#include "golden_json.h"

typedef struct gen_file {
    char *path;                /* relative to the output root */
    char sha[65];
} gen_file;

typedef struct gen {
    const char *root;          /* output directory */
    int compare;               /* 1: compare with the files under root */
    gjson body;                /* the testGroups entries */
    int ngroups;
    int group_open;
    unsigned ntests;
    const char *family;
    gen_file *files;           /* every file produced, in order */
    size_t nfiles;
    unsigned differences;      /* compare mode: files that differ */
} gen;

void gen_init(gen *G, const char *root, int compare);
/* Start a test group of family with a comment. */
void gen_group(gen *G, const char *family, const char *comment);
/* Write (or compare) one file; a path produced twice must have the same bytes. */
void gen_put_file(gen *G, const char *path, const uint8_t *data, size_t len);
/* Finish: write (or compare) manifest.json with the extra comment; in compare
 * mode, also report files under root that were not produced.  Returns the
 * number of differences (0 when writing). */
unsigned gen_finish(gen *G, const char *comment);

/* Produce the files of layer l and of every layer below it (l may be NULL). */
void gen_put_chain(gen *G, const glayer *l);
/* Open a test object and write the fields every test starts with (tcId, id,
 * comment, file and sha256 when img is not NULL, result, flags, rules). */
void gen_case_head(gen *G, const char *name, const char *comment,
                   const glayer *img, const char *result, const char *flags,
                   const char *rules);

/* read (and random): a valid image; content, map and check from the model. */
void emit_read(gen *G, const char *name, const char *comment, const glayer *top,
               const char *flags, const char *rules);
/* A range of the virtual disk that needs an invalid entry (family
 * read-error): a reader must fail its reads or refuse the image (XLT-4). */
typedef struct gbad {
    uint64_t start, length;
    const char *rule;          /* the rule the entry breaks */
} gbad;

/* read-error: top has invalid entries behind the nbad ranges of bad (sorted,
 * disjoint); every other range reads one byte value per cluster, listed as
 * `reads` (io read -P commands) from the model. */
void emit_read_error(gen *G, const char *name, const char *comment,
                     const glayer *top, const gbad *bad, size_t nbad,
                     const char *flags, const char *rules);

/* reject: an image the implementation must refuse (error_rule); extra (may
 * be NULL) is one more file, with its chain, to list in extra_files. */
void emit_reject(gen *G, const char *name, const char *comment, const glayer *img,
                 const glayer *extra, const char *error_rule, const char *flags,
                 const char *rules);
/* check: expected counts (verified against the model's checker) and the
 * content after repair. */
void emit_check(gen *G, const char *name, const char *comment, const glayer *top,
                uint64_t corruptions, uint64_t leaks, const char *flags,
                const char *rules);

/* One operation of a write case. */
typedef struct wop {
    char kind;                 /* 'w' write, 'z' write -z, 'r' read -P, 'f' flush,
                                  'R' resize, 'B' rebase -u */
    uint64_t off, len;         /* w z r: range; R: new size in off */
    unsigned byte;             /* w r: the pattern byte */
    const glayer *layer;       /* B: the new backing layer */
    const char *format;        /* B: "raw" or "qed" */
} wop;

/* write, create form: `create` then ops.  backing may be NULL. */
/* One extra_files entry per file of the chain starting at l (may be NULL),
 * each file also produced. */
void gen_put_file_entries(gen *G, const glayer *l);
void emit_write_create(gen *G, const char *name, const char *comment, uint32_t cs,
                       uint32_t ts, uint64_t size, const glayer *backing,
                       const char *backing_format, const wop *ops, size_t nops,
                       const char *flags, const char *rules);
/* write, file form: a copy of the image top (its files are produced), then ops. */
void emit_write_file(gen *G, const char *name, const char *comment,
                     const glayer *top, const wop *ops, size_t nops,
                     const char *flags, const char *rules);

#endif
