/*
 * golden_main.c - `qed-golden`: the golden generator as a program of its
 * own, linked without libqed, so the corpus can be built and checked even
 * while libqed does not build.  Same arguments as `qedtool golden`.
 */
#include "golden.h"

int main(int argc, char **argv)
{
    return qed_golden_main(argc, argv);
}
