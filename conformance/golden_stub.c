#include "golden_cases.h"
void golden_write_cases(gen *G) { (void)G; }
void golden_random_cases(gen *G, uint64_t seed, unsigned count) { (void)G; (void)seed; (void)count; }
