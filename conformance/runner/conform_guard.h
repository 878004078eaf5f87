/*
 * conform_guard.h - "reading must not write": the input files of a case as
 * they were staged, and the check that an adapter's read calls left every
 * one of them byte-identical (a changed file is named with the first byte
 * that differs).
 */
#ifndef CONFORM_GUARD_H
#define CONFORM_GUARD_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *rel;          /* path relative to the scratch directory (owned) */
    char hex[65];       /* SHA-256 of the bytes staged */
} cg_file;

/* The input files of one case; zero-initialise, release with cg_free. */
typedef struct {
    cg_file *files;
    size_t count, cap;
} cg_inputs;

/* Remember input file rel (copied) with the hash of its staged bytes.
 * Returns 0, or -1 when out of memory. */
int cg_add(cg_inputs *in, const char *rel, const char hex[65]);

/* Hash every input under scratch again.  Returns 0 when every file is
 * byte-identical to its staged copy, else -1 with msg naming each changed
 * file and what changed ("valid/x.qed: byte 16 changed", "... shrank
 * from N to M bytes", "... was removed or cannot be read"); the first
 * differing offset is found by comparing with the original under
 * orig_dir, which holds the same relative paths. */
int cg_verify(const cg_inputs *in, const char *scratch, const char *orig_dir, char *msg,
              size_t cap);

/* The first offset at which the files a and b differ, and their lengths.
 * Returns 1 when they differ (*off set; a length difference counts at the
 * shorter length), 0 when identical, -1 when either cannot be read. */
int cg_first_difference(const char *a, const char *b, uint64_t *off, uint64_t *len_a,
                        uint64_t *len_b);

/* Release the list (it may be used again after). */
void cg_free(cg_inputs *in);

#endif
