/*
 * golden_cases.h - the cases of the golden corpus and of the random family.
 */
#ifndef QED_GOLDEN_CASES_H
#define QED_GOLDEN_CASES_H

#include "golden_gen.h"

/* Every case of the fixed corpus (families read, reject, check, write). */
void golden_read_cases(gen *G);
void golden_reject_cases(gen *G);
void golden_check_cases(gen *G);
void golden_write_cases(gen *G);
/* The invalid entries of the check family as a reader sees them. */
void golden_read_error_cases(gen *G);
/* Every header field at its boundary values (reject, and read when valid). */
void golden_sweep_cases(gen *G);

/* count random valid images from seed (family random). */
void golden_random_cases(gen *G, uint64_t seed, unsigned count);

#endif
