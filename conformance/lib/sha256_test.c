/*
 * sha256_test.c - conformance/lib/sha256.c against the FIPS 180-4 example
 * vectors (split-update cases and the one-call sha256_buffer_hex must agree
 * with them).
 */
#include "sha256.h"

#include <stdio.h>
#include <string.h>

static unsigned passed, failed;

/* Hash len bytes of data fed in pieces of at most step bytes. */
static void hash_in_steps(const void *data, size_t len, size_t step, char hex[65])
{
    sha256_ctx ctx;
    uint8_t d[32];
    const uint8_t *p = data;

    sha256_init(&ctx);
    for (size_t done = 0; done < len; done += step)
        sha256_update(&ctx, p + done, len - done < step ? len - done : step);
    sha256_final(&ctx, d);
    sha256_hex(d, hex);
}

/* Record one comparison of a computed digest with the expected one. */
static void expect(const char *name, const char *got, const char *want)
{
    if (strcmp(got, want) == 0) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL %s: got %s, want %s\n", name, got, want);
}

/* Hash msg with several update step sizes; every one must give want. */
static void check_vector(const char *name, const void *msg, size_t len, const char *want)
{
    static const size_t steps[] = { 1, 3, 63, 64, 65, 1000, (size_t)-1 };
    char hex[65];

    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        hash_in_steps(msg, len, steps[i], hex);
        expect(name, hex, want);
    }
    sha256_buffer_hex(msg, len, hex);       /* one call, through final_hex */
    expect(name, hex, want);
}

int main(void)
{
    static char million[1000000];
    const char *v448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

    check_vector("empty", "", 0,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_vector("abc", "abc", 3,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_vector("448-bit", v448, strlen(v448),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    memset(million, 'a', sizeof million);
    check_vector("million-a", million, sizeof million,
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    printf("sha256: %u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
