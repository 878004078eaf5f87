/*
 * le.h - little-endian integers in byte arrays (FILE-1: every QED field is
 * little-endian), the one copy the runner and the generator share.  Both
 * stay independent of libqed on purpose: the suite judges the codec, so it
 * does not borrow the codec's own decoding.
 */
#ifndef CONFORM_LIB_LE_H
#define CONFORM_LIB_LE_H

#include <stdint.h>

/* The n-byte (n <= 8) little-endian value at p. */
static inline uint64_t le_get(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;

    while (n-- > 0)
        v = v << 8 | p[n];
    return v;
}

/* Store the low n bytes (n <= 8) of v at p, least significant first. */
static inline void le_put(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

#endif
