/*
 * golden.h - the deterministic golden-image generator (conformance/golden.c),
 * reached from the command line as `qedtool golden ...`.
 */
#ifndef QED_GOLDEN_H
#define QED_GOLDEN_H

/* Entry point of `qedtool golden`; argv[0] is "golden".  Returns the
 * process exit status. */
int qed_golden_main(int argc, char **argv);

#endif
