/*
 * golden.c - `qedtool golden`: the deterministic golden-image generator.
 */
#include "golden.h"

#include <stdio.h>

/* Print the usage text to f. */
static void usage(FILE *f)
{
    fputs("usage: qedtool golden [--out DIR] [--check]\n"
          "       qedtool golden --random SEED --count N --out DIR\n", f);
}

int qed_golden_main(int argc, char **argv)
{
    (void)argv;
    usage(argc > 1 ? stdout : stderr);
    return 2;
}
