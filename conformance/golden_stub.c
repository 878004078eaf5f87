#include "golden_cases.h"
void golden_random_cases(gen *G, uint64_t seed, unsigned count) { (void)G; (void)seed; (void)count; }
