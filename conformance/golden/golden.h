/*
 * golden.h - the deterministic golden-image generator (golden.c), reached
 * from the command line as `qed-conform golden ...`.
 */
#ifndef QED_GOLDEN_H
#define QED_GOLDEN_H

/* Entry point of `qed-conform golden`; argv[0] is "golden".  Returns the
 * process exit status (a generator bug or out of memory exits with 1). */
int golden_main(int argc, char **argv);

#endif
