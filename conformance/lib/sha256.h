/*
 * sha256.h - SHA-256 (FIPS 180-4), small and self-contained, for the golden
 * corpus generator and the conformance runner: the one hash of the suite.
 */
#ifndef CONFORM_LIB_SHA256_H
#define CONFORM_LIB_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct sha256_ctx {
    uint32_t state[8];   /* the running hash value H0..H7 */
    uint64_t total;      /* bytes hashed so far */
    uint8_t block[64];   /* the pending partial block */
    size_t used;         /* bytes of block in use, always < 64 */
} sha256_ctx;

/* Start a new hash. */
void sha256_init(sha256_ctx *ctx);
/* Hash len more bytes (data may be NULL when len is 0). */
void sha256_update(sha256_ctx *ctx, const void *data, size_t len);
/* Finish: write the 32-byte digest; ctx must be re-initialised to reuse. */
void sha256_final(sha256_ctx *ctx, uint8_t out[32]);
/* Lower-case hex of a digest, NUL-terminated (65 bytes). */
void sha256_hex(const uint8_t d[32], char out[65]);
/* sha256_final, then the digest as lower-case hex. */
void sha256_final_hex(sha256_ctx *ctx, char hex[65]);
/* The lower-case hex digest of len bytes at data (NULL when len is 0). */
void sha256_buffer_hex(const void *data, size_t len, char hex[65]);

#endif
