/*
 * conform_run.h - qed-conform's scheduler: cases run in parallel worker
 * processes, results printed in case order.
 */
#ifndef CONFORM_RUN_H
#define CONFORM_RUN_H

#include "conform.h"

#define CONFORM_MAX_JOBS 64

/* Run count cases with up to jobs (1..CONFORM_MAX_JOBS) workers, filling
 * results[] in case order.  Prints each failure (each case when verbose)
 * on stdout in case order, and a progress line on stderr when it is a
 * terminal.  SIGINT/SIGTERM/SIGHUP are passed on to the workers, which
 * kill their adapters' process groups.  Returns 0, or -1 if it could not
 * fork. */
int conform_run_all(const conform_config *cfg, const conform_case *cases, size_t count,
                    unsigned jobs, int verbose, case_result *results);

#endif
