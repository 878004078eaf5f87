/*
 * golden_lib.h - small helpers shared by the case files of the generator.
 */
#ifndef QED_GOLDEN_LIB_H
#define QED_GOLDEN_LIB_H

#include "golden_img.h"

/* Remember l so that release_all() frees it; returns l. */
glayer *keep(glayer *l);
/* Free every layer kept so far. */
void release_all(void);
/* A PRNG seed derived from a name and a number (FNV-1a, then mixed). */
uint64_t seed_of(const char *name, uint64_t k);
/* "4k", "64k", "1m" ... for a power-of-two size (static buffer per call
 * slot; valid until the 4th next call). */
const char *size_name(uint64_t bytes);
/* Map logical cluster lc of g to a new data cluster at the cursor holding
 * the byte b throughout (cases checked with `read -P`). */
void data_byte(glayer *g, uint64_t lc, uint8_t b);

#endif
