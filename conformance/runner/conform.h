/*
 * conform.h - types shared by the parts of qed-conform: a case taken from a
 * manifest, the outcome of running it, and the run's configuration.
 */
#ifndef CONFORM_H
#define CONFORM_H

#include "conform_json.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { CS_PASS, CS_FAIL, CS_SKIP } case_status;

/* Adapter subcommands, as bits of conform_config.caps. */
enum {
    CAP_CREATE = 1 << 0, CAP_INFO = 1 << 1, CAP_CHECK = 1 << 2, CAP_MAP = 1 << 3,
    CAP_CONVERT = 1 << 4, CAP_IO = 1 << 5, CAP_REBASE = 1 << 6, CAP_RESIZE = 1 << 7,
    CAP_IO_TRACE = 1 << 8,          /* io --trace LOG: records its own trace */
    /* The create options the adapter honours: `create -o cluster_size=N`
     * (table_size=N) makes an image of exactly that geometry.  An option
     * not declared is never passed; the implementation picks its own. */
    CAP_CREATE_CS = 1 << 9, CAP_CREATE_TS = 1 << 10,
    CAP_LAST = CAP_CREATE_TS,
    /* assumed without `capabilities`: everything but io-trace */
    CAP_ALL = ((1 << 8) - 1) | CAP_CREATE_CS | CAP_CREATE_TS
};

/* One test case of a manifest; the pointers live as long as the manifest. */
typedef struct {
    const char *id;         /* "family/name" */
    const char *family;     /* the group's family */
    const char *result;     /* "valid", "invalid", "acceptable" */
    const cj_value *test;   /* the test object */
    const char *base_dir;   /* absolute directory the test's paths are relative to */
} conform_case;

#define CR_RULES_MAX 256
#define CR_MESSAGE_MAX 2048
#define CR_DETAIL_MAX 8192

/* Outcome of one case; a plain struct so a worker can send it on a pipe. */
typedef struct {
    case_status status;
    char rules[CR_RULES_MAX];       /* comma-separated rule IDs */
    char message[CR_MESSAGE_MAX];   /* why it failed or was skipped; notes on a pass */
    char detail[CR_DETAIL_MAX];     /* a picture of the failure, one item a line
                                       (the crash family's trace strip), or "" */
    char broke[CR_RULES_MAX];       /* of a failure, the rules it is known to break
                                       (a reject's error_rule, the crash verdict's), or "" */
    double seconds;
} case_result;

typedef struct {
    char impl[PATH_MAX];        /* as given: "ref", "qemu", "cmd:PATH" */
    char adapter[PATH_MAX];     /* absolute path of the adapter executable */
    char reference[PATH_MAX];   /* absolute path of build/qedtool, "" if missing */
    unsigned caps;              /* CAP_* the adapter offers */
    double timeout;             /* seconds per case */
    const char *keep_dir;       /* --keep-failures DIR, or NULL */
    uint64_t keep_limit;        /* --keep-limit: bytes of file data kept per case */
    int fail_fast;              /* --fail-fast: start no case after a failure */
} conform_config;

/* Run one case from start to end (scratch directory included). */
void conform_run_case(const conform_config *cfg, const conform_case *c, case_result *r);

/* Name of a capability bit ("map"). */
const char *conform_cap_name(unsigned cap);

/* Bits of the capability named by a line of `capabilities` output (0 if none). */
unsigned conform_cap_from_name(const char *name);

/* "pass", "fail" or "skip". */
const char *conform_status_name(case_status s);

#endif
