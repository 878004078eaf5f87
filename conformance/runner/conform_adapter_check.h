/*
 * conform_adapter_check.h - `qed-conform adapter-check`: try an adapter's
 * contract (conformance/ADAPTERS.md) on a known image before a full run.
 */
#ifndef CONFORM_ADAPTER_CHECK_H
#define CONFORM_ADAPTER_CHECK_H

#include "conform.h"

#include <stdio.h>

/* Make a known image with the reference (cfg->reference, which must be
 * set) in a temporary directory, call each subcommand the adapter
 * (cfg->adapter) declares once or twice on it, with cfg->timeout seconds
 * per call, and print to out one line per contract point: ok, BROKEN
 * (what is wrong, in plain words) or not declared (what a run then
 * skips).  Returns 0 when the adapter keeps the contract, 1 when it breaks
 * it, 2 when the check itself could not be set up (message on stderr). */
int conform_adapter_check(const conform_config *cfg, FILE *out);

#endif
