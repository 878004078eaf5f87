/*
 * conform_keep.h - --keep-failures within a budget: a failing case's input
 * files and scratch directory copied into the keep directory sparse-aware
 * (only the data extents that SEEK_DATA/SEEK_HOLE find are read and
 * written; holes stay holes), with at most a given number of bytes of file
 * data and seconds per case.  What does not fit is left out and said so.
 */
#ifndef CONFORM_KEEP_H
#define CONFORM_KEEP_H

#include <stddef.h>
#include <stdint.h>

#define KEEP_DEFAULT_BYTES ((uint64_t)256 << 20)   /* --keep-limit default */
#define KEEP_MAX_SECONDS 10.0                      /* time of one case's keep */

/* What one case's keep may still spend, and what it did. */
typedef struct {
    uint64_t bytes_left;    /* bytes of file data it may still copy */
    double deadline;        /* cp_now() after which it copies nothing more */
    uint64_t kept_bytes;    /* data bytes copied */
    unsigned kept_files, left_files;
    char left_out[2048];    /* one line per file left out: "  REL: why\n" */
} keep_budget;

/* A budget of max_bytes of data and seconds from now. */
void keep_budget_init(keep_budget *b, uint64_t max_bytes, double seconds);

/* Copy the regular file src to dst (parents made) within the budget, rel
 * naming it in the notes.  Returns 0 when copied, 1 when left out (noted
 * in b->left_out: over the byte budget, out of time, cannot be read or
 * written; a partial copy is removed). */
int keep_file(keep_budget *b, const char *src, const char *dst, const char *rel);

/* Copy the tree src to dst as keep_file does for each regular file
 * (directories made, links and special files skipped), rel_prefix naming
 * it in the notes ("after/").  Returns 0, or -1 when dst cannot be made. */
int keep_tree(keep_budget *b, const char *src, const char *dst, const char *rel_prefix);

#endif
